"""programme.yaml: the sample loads; a broken one is refused with one clear sentence."""

from pathlib import Path

import pytest
import yaml

from jixiao.schemas import programme
from jixiao.schemas.programme import ProgrammeError, load_programme

SAMPLE = Path(__file__).resolve().parent.parent / "sample" / "programme.yaml"


def test_sample_programme_loads():
    p = load_programme(SAMPLE)
    assert (p.code, p.year, len(p.counties), len(p.indicators)) == (
        "530100-disability-employment", 2022, 14, 14,
    )  # fmt: skip
    assert sum(i.weight for i in p.indicators) == 100
    assert sum(b.amount_yuan for b in p.budget_lines) == 335000
    assert (
        p.budget_line_code("残疾人就业专场招聘会") == p.budget_line_code("job_fairs") == "job_fairs"
    )
    assert p.budget_line_code("会议费") is None


def write(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d["indicators"][0].update(weight=11), "指标权重合计为 101，应为 100"),
        (lambda d: d["indicators"][4].pop("target"), "须给出目标值 target 和度量 metric"),
        (lambda d: d["indicators"][0].pop("reason"), "须给出评分 score 和理由 reason"),
        (lambda d: d["indicators"][4].update(kind="bigger"), "indicators.4.kind"),
        (lambda d: d.update(year="二〇二二"), "year"),
        (lambda d: d["budget_lines"][0].update(amount_yuan="-1"), "amount_yuan"),
        (lambda d: d.update(surprise=1), "surprise"),
    ],
)
def test_invalid_programme_refused_in_one_sentence(tmp_path, change, says):
    with pytest.raises(ProgrammeError) as caught:
        load_programme(write(tmp_path, change))
    message = str(caught.value)
    assert says in message and "\n" not in message and "programme.yaml 无效" in message


def test_unreadable_programme(tmp_path):
    with pytest.raises(ProgrammeError, match="无法读取"):
        load_programme(tmp_path / "missing.yaml")
    bad = tmp_path / "programme.yaml"
    bad.write_text("code: [unclosed", encoding="utf-8")
    with pytest.raises(ProgrammeError, match="不是有效的 YAML 文件"):
        load_programme(bad)


def test_libyaml_reads_what_the_pure_python_loader_reads(tmp_path):
    """programme.yaml is read by libyaml (several times faster on a national template), and
    reads as the pure-Python loader reads it, which still says why a file is refused."""
    assert yaml.__with_libyaml__  # the pinned wheel has it: the fast path is the one that runs
    text = SAMPLE.read_text(encoding="utf-8") + (
        "x_dates: [2022-01-31, 2022-01-31 08:00:00]\nx_numbers: [0o17, 1_000, 1e3, .inf, 0x1F]\n"
        "x_words: [yes, No, ~, null, '', \"引号\"]\nx_block: |\n  第一行\n  第二行\n"
    )
    path = tmp_path / "programme.yaml"
    path.write_text(text, encoding="utf-8")
    fast = programme._yaml(path)
    assert fast["x_block"] == "第一行\n第二行\n" and fast["code"] == "530100-disability-employment"
    assert fast == yaml.load(text, Loader=programme._NoAliases)
