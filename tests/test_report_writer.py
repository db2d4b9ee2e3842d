"""sample/report_writer.py: clean reports add up, planted faults are real, bytes are stable.

A small reader of our own (``_read``, ``_faults``) re-derives from the rendered TEXT what the
report claims and which of its figures contradict each other, under DESIGN's rounding rule
(a figure written with d places stands for ± half a unit in its last place). So the writer
is checked against the arithmetic, not against its own code.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import zipfile
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import docx
import pytest

from jixiao.checks.catalogue import RULES
from jixiao.sample.report_writer import (
    COUNT_UNITS,
    FORM_PLANTABLE,
    PLANTABLE,
    docx_bytes,
    grade_for,
    plant,
    random_figures,
    render_text,
    sample_figures,
    truncate_table,
    write_sample_report,
)

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "data/raw/2022/530100-disability-employment"
SEED = ROOT.parent / "shared/seeds/000_8efdcb375633a8df.txt"
UNVERIFIABLE = "REPORT.TABLE_UNVERIFIABLE"
SEEDS = range(150)


# ---------------------------------------------------------------- an independent reader


@dataclass
class _Report:
    prose: list[str]
    tables: dict[str, list[list[str]]]  # by caption (the line above, 单位 lines skipped)

    def table(self, caption_part: str) -> list[list[str]]:
        return next(rows for caption, rows in self.tables.items() if caption_part in caption)

    def text(self) -> str:
        return "\n".join(self.prose)


def _read(text: str) -> _Report:
    prose: list[str] = []
    tables: dict[str, list[list[str]]] = {}
    rows: list[list[str]] | None = None
    row: list[str] = []
    for line in text.split("\n"):
        if line.startswith("\t"):
            if rows is None:
                captions = [p for p in prose if not p.startswith("单位：")]
                rows = tables.setdefault(captions[-1], [])
            row.append(line[1:])
        elif line == "":
            if row:
                rows.append(row)
                row = []
        else:
            rows = None
            prose.append(line)
    return _Report(prose, tables)


_CN = {c: n for n, c in enumerate("零一二三四五六七八九")}


def _int(s: str) -> int:
    if s.isdigit():
        return int(s)
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN[tens] if tens else 1) * 10 + (_CN[ones] if ones else 0)
    return _CN[s]


def _half(written: str) -> Fraction:
    """Half a unit in the last place written: 55.56% → 0.005."""
    digits = written.rstrip("%")
    places = len(digits.partition(".")[2])
    return Fraction(1, 2 * 10**places)


def _val(written: str) -> Fraction:
    return Fraction(Decimal(written.rstrip("%")))


def _agrees(written: str, exact: Fraction, slack: Fraction = Fraction(0)) -> bool:
    return abs(_val(written) - exact) <= _half(written) + slack


def _sums(parts: list[str], total: str) -> bool:
    slack = sum((_half(p) for p in parts), Fraction(0))
    return _agrees(total, sum((_val(p) for p in parts), Fraction(0)), slack)


def _date(words: str) -> dt.date:
    y, m, d = map(int, re.fullmatch(r"(\d+)年(\d+)月(\d+)日", words).groups())
    return dt.date(y, m, d)


_ITEM = re.compile(
    r"^（\d+）(?P<name>[^：\n]+)：目标(?P<bound>不少于|不低于|不超过|不高于)(?P<target>[\d.]+)[^，\n]*?，"
    r"实际(?:完成|为)(?P<actual>[\d.]+)(?P<rest>[^，\n]*)，完成率(?P<rate>[\d.]+)%",
    re.M,
)
_DUE = re.compile(
    r"^（\d+）(?P<name>[^：\n]+)：目标(?P<due>\S+?)前完成，实际于(?P<done>\S+?)完成，(?P<ok>按期完成|未按期完成)",
    re.M,
)


def _faults(text: str) -> set[str]:
    """The REPORT rules the text breaks (all but COST_PER_UNIT, which needs the budget links)."""
    r = _read(text)
    prose = r.text()
    found: set[str] = set()
    for rows in r.tables.values():
        if len({len(row) for row in rows}) > 1:
            found.add(UNVERIFIABLE)

    # counties: in words in 项目概况, in digits in 项目实施
    pat = r"([零一二三四五六七八九十\d]+)个县（市、区）([^，]+)"
    summary = re.search(r"^本年度，(.+)。$", prose, re.M)[1]
    process = re.search(r"^从实施情况看，(.+)。$", prose, re.M)[1]
    if {d: _int(n) for n, d in re.findall(pat, summary)} != {
        d: _int(n) for n, d in re.findall(pat, process)
    }:
        found.add("REPORT.FIGURE_DISAGREES")

    # budget: text lines against the stated total, the table against its 合计 and the text
    stated = re.search(
        r"本项目年度预算([\d.]+)万元，实际支出([\d.]+)万元，预算执行率([\d.]+%)", prose
    )
    lines = re.findall(r"^\d+\.([^：\n]+)：下达([\d.]+)万元，使用([\d.]+)万元", prose, re.M)
    if not _sums([a for _, a, _ in lines], stated[1]) or not _sums(
        [u for *_, u in lines], stated[2]
    ):
        found.add("REPORT.BUDGET_TOTAL")
    if not _agrees(stated[3], _val(stated[2]) / _val(stated[1]) * 100, Fraction(1, 100)):
        found.add("REPORT.RATE_RECOMPUTED")
    budget = r.table("支出明细表")
    body = [row for row in budget[1:] if row[0] != "合计"]
    for name, allocated, used in lines:
        row = next((row for row in body if row[1] == name and len(row) == 5), None)
        if row and (row[2], row[3]) != (allocated, used):
            found.add("REPORT.FIGURE_DISAGREES")
    if budget[-1][0] == "合计" and UNVERIFIABLE not in found:
        for col in (2, 3, 4):
            if not _sums([row[col] for row in body], budget[-1][col]):
                found.add("REPORT.TABLE_TOTAL")
        for row in [*body, budget[-1]]:
            if not _sums([row[3], row[4]], row[2]):
                found.add("REPORT.TABLE_TOTAL")
    for std, count, amount in re.findall(
        r"按每.+?(\d+)元的标准计(\d+).+?，合计([\d.]+)万元", prose
    ):
        if not _agrees(amount, Fraction(int(count) * int(std), 10000)):
            found.add("REPORT.PRODUCT")
    # the spending listed after 其中 against 实际使用; a list called partial (主要用于…等) may
    # fall short, never exceed
    used = re.search(r"^全年项目资金实际使用([\d.]+)万元，其中(主要用于)?：(.+?)(等)?。$", prose, re.M)
    parts = re.findall(r"([\d.]+)万元", used[3])
    if not _sums(parts, used[1]):
        short = sum(map(_val, parts)) < _val(used[1])
        found.add("REPORT.PARTS_UNEXPLAINED" if used[2] and short else "REPORT.PARTS_TOTAL")
    # a standard per school and the schools it pays for, against every sum the report states
    if per := re.search(r"^本项目对每所学校补助(\d+)元。$", prose, re.M):
        schools = re.search(r"^全年共补助特殊教育学校(\d+)所。$", prose, re.M)
        product = Fraction(int(per[1]) * int(schools[1]), 10000)
        if not any(_agrees(x, product) for x in re.findall(r"([\d.]+)万元", prose)):
            found.add("REPORT.PRODUCT_TOTAL")

    # indicators: rates, head-count percentages, what was missed
    missed = set()
    for m in _ITEM.finditer(prose):
        t, a = _val(m["target"]), _val(m["actual"])
        floor = m["bound"] in ("不少于", "不低于")
        exact = Fraction(100) if (a >= t if floor else a <= t) else (a / t * 100 if floor else None)
        if exact is not None and not _agrees(
            m["rate"], exact, _half(m["actual"]) / t * 100 if t and "." in m["actual"] else 0
        ):
            found.add("REPORT.RATE_RECOMPUTED")
        if (a < t) if floor else (a > t):
            missed.add(m["name"])
        if people := re.search(r"（共(\d+)人）", m["rest"]):
            n = int(people[1])
            if not any(_agrees(m["actual"], Fraction(100 * k, n)) for k in range(n + 1)):
                found.add("REPORT.HEADCOUNT_PERCENT")
    for m in _DUE.finditer(prose):
        if (_date(m["done"]) <= _date(m["due"])) != (m["ok"] == "按期完成"):
            found.add("REPORT.DATE_CONFLICT")
        if m["ok"] != "按期完成":
            missed.add(m["name"])
    if "本年度设定的绩效目标已全部完成" in prose and missed:
        found.add("REPORT.MISSED_TARGET_CLAIMED")

    # score, grade, level-1 table
    total, grade = re.search(r"自评得分([\d.]+)分，评价等级为“(.)”", prose).groups()
    if grade_for(Decimal(total)) != grade:
        found.add("REPORT.GRADE")
    level1 = r.table("一级指标得分情况表")
    parts, last = level1[1:-1], level1[-1]
    if any(_val(s) > _val(w) for _, w, s, *_ in parts) or not _sums([p[2] for p in parts], total):
        found.add("REPORT.GRADE")
    for col in (1, 2, 3):
        if not _sums([p[col] for p in parts], last[col]):
            found.add("REPORT.TABLE_TOTAL")
    for _, w, s, lost, rate in [*parts, last]:
        if not _sums([s, lost], w):
            found.add("REPORT.TABLE_TOTAL")
        if not _agrees(rate, _val(s) / _val(w) * 100, _half(s) / _val(w) * 100):
            found.add("REPORT.RATE_RECOMPUTED")

    # dates: the same deadline in 绩效目标 and 实施流程; the report after the evaluation
    targets = r.prose[r.prose.index("（三）绩效目标") : r.prose.index("（四）组织实施情况")]
    due = dict(re.findall(r"^\d+\.([^：\n]+)：(\S+?)前完成。$", "\n".join(targets), re.M))
    flow = {
        name: day for day, name in re.findall(r"^（\d+）(\d+年\d+月\d+日)前，(.+)。$", prose, re.M)
    }
    if any(due.get(name, day) != day for name, day in flow.items()):
        found.add("REPORT.DATE_CONFLICT")
    ended = _date(re.search(r"至(\d+年\d+月\d+日)止", prose)[1])
    signed = _date(r.prose[r.prose.index("附表1") - 1])
    if signed < ended:
        found.add("REPORT.DATE_CONFLICT")

    # completeness: the stated count, every target reported on, the appendix's year
    listed = [
        re.match(r"^\d+\.([^：]+)：", line)[1] for line in targets if re.match(r"^\d+\.", line)
    ]
    if int(re.search(r"共设置(\d+)项绩效指标", prose)[1]) != len(listed):
        found.add("REPORT.INCOMPLETE")
    reported = {m["name"] for m in _ITEM.finditer(prose)} | {
        m["name"] for m in _DUE.finditer(prose)
    }
    if set(listed) - reported:
        found.add("REPORT.INCOMPLETE")
    year = re.search(r"^(\d+)年度绩效自评报告$", prose, re.M)[1]
    if re.search(r"附表1《.+（(\d+)年度）》", prose)[1] != year:
        found.add("REPORT.INCOMPLETE")

    # the office, named twice
    unit = r.prose[0]
    if (
        re.search(f"项目由{unit}(.+?)具体负责", prose)[1]
        != re.search(f"本次评价由{unit}(.+?)组织开展", prose)[1]
    ):
        found.add("REPORT.NAME_VARIANT")

    found |= _survey_faults(r, prose)
    found |= _form_faults(r)
    return found


_BOUND = re.compile(r"^(不少于|不低于|不超过|不高于)([\d.]+)(\D*)$")


def _form_faults(r: _Report) -> set[str]:
    """The rules the 自评表 (附表2) breaks, read from its rows by their labels: 一级指标 merged
    down is an empty cell below its label."""
    rows = next((rows for caption, rows in r.tables.items() if "自评表" in caption), None)
    if rows is None:
        return set()
    found: set[str] = set()
    at = {row[0]: n for n, row in enumerate(rows) if row[0]}
    total = rows[at["年度资金总额"]]
    budget, spent, weight, rate, score = total[4:9]
    execution = _val(spent) / _val(budget)
    if not _agrees(rate, execution * 100):
        found.add("REPORT.RATE_RECOMPUTED")
    if _val(score) > _val(weight):
        found.add("REPORT.GRADE")
    elif not _agrees(score, _val(weight) * min(execution, Fraction(1))):
        found.add("REPORT.FORM_BUDGET_SCORE")
    parts = rows[at["年度资金总额"] + 1 : at["年度总体目标"]]
    for col in (3, 4, 5):
        if not _sums([row[col] for row in parts], total[col]):
            found.add("REPORT.TABLE_TOTAL")
    head = next(n for n, row in enumerate(rows) if row[1] == "一级指标")
    indicators = rows[head + 1 : at["总分"]]
    levels: dict[str, tuple[Fraction, list[Fraction]]] = {}
    level = ""
    for row in indicators:
        if row[1]:
            level, points = re.fullmatch(r"(.+)（(\d+)分）", row[1]).groups()
            levels[level] = (Fraction(int(points)), [])
        w, s, target, actual, reason = _val(row[6]), _val(row[7]), row[4], row[5], row[8]
        levels[level][1].append(w)
        if s > w:
            found.add("REPORT.GRADE")
        if m := _BOUND.match(target):
            a = _val(actual.removesuffix(m[3]))
            short = a < _val(m[2]) if m[1] in ("不少于", "不低于") else a > _val(m[2])
            if short and s == w:
                found.add("REPORT.FORM_FULL_SCORE_MISSED")
            if short and not reason:
                found.add("REPORT.FORM_NO_REASON")
    for points, weights in levels.values():
        if sum(weights) != points or max(weights) > points:
            found.add("REPORT.FORM_WEIGHTS")
    last = rows[at["总分"]]
    weights = [_val(row[6]) for row in indicators] + [_val(weight)]
    if sum(weights) != 100:
        found.add("REPORT.FORM_WEIGHTS")
    scores = [row[7] for row in indicators] + [score]
    if _val(last[6]) != sum(weights) or not _sums(scores, last[7]):
        found.add("REPORT.TABLE_TOTAL")
    if grade_for(Decimal(last[7])) != rows[at["自评等级"]][6]:
        found.add("REPORT.GRADE")
    return found


def _survey_faults(r: _Report, prose: str) -> set[str]:
    found: set[str] = set()
    weights = [Fraction(w) for w in re.search(r"依次计([\d、.]+)分", prose)[1].split("、")]
    table = r.table("满意度调查统计表")[1:]
    groups = [table[i : i + 3] for i in range(0, len(table), 3)]
    questions, block = groups[:-1], groups[-1]
    totals, answers = [], [[] for _ in weights]
    for counts_row, shares_row, scores_row in questions:
        counts = [int(c) for c in counts_row[2:7]]
        n = int(counts_row[7])
        shares, scores = shares_row[2:7], scores_row[2:7]
        if sum(counts) != n or not _sums(shares, shares_row[7]) or not _sums(scores, scores_row[7]):
            found.add("REPORT.TABLE_TOTAL")
        if not _sums(shares, "100.00%"):
            found.add("REPORT.SHARES_NOT_100")
        for c, share, score, w in zip(counts, shares, scores, weights, strict=True):
            if not _agrees(share, Fraction(100 * c, n)):
                found.add("REPORT.SHARE_UNSUPPORTED")
            if not _agrees(score, _val(share) * w / 100, _half(share) * w / 100):
                found.add("REPORT.SCORE_UNSUPPORTED")
        if not _agrees(scores_row[7], sum(c * w for c, w in zip(counts, weights, strict=True)) / n):
            found.add("REPORT.SCORE_UNSUPPORTED")
        totals.append(scores_row[7])
        for k, score in enumerate(scores):
            answers[k].append(score)
    counts_row, shares_row, scores_row = block
    for k in range(len(weights)):
        if int(counts_row[2 + k]) != sum(int(q[0][2 + k]) for q in questions) or not _sums(
            answers[k], scores_row[2 + k]
        ):
            found.add("REPORT.TABLE_TOTAL")
    if not _sums(totals, scores_row[7]):
        found.add("REPORT.SCORE_UNSUPPORTED")
    overall = re.search(r"满意度综合得分为([\d.]+)分", prose)[1]
    if overall != scores_row[7]:
        found.add("REPORT.FIGURE_DISAGREES")
    named, said = re.search(r"第(\d+)题“.+?”得分最低，为([\d.]+)分", prose).groups()
    if said != totals[int(named) - 1]:
        found.add("REPORT.FIGURE_DISAGREES")
    if _val(said) - min(_val(t) for t in totals) > 2 * _half(said):
        found.add("REPORT.RANKING")
    return found


# ---------------------------------------------------------------- determinism and the sample


def test_same_figures_same_bytes():
    with_form = replace(sample_figures(), form=True)
    for fig in (sample_figures(), random_figures(random.Random(7)), with_form):
        assert render_text(fig) == render_text(fig)
        assert docx_bytes(fig) == docx_bytes(fig)


def test_docx_has_no_clock_in_it():
    data = docx_bytes(sample_figures())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2023-05-17T09:00:00Z" in core and "python-docx" not in core


def test_committed_sample_report_is_a_fresh_render(tmp_path):
    txt, docx_path = write_sample_report(tmp_path)
    assert (COMMITTED / "report.txt").read_bytes() == txt.read_bytes()
    assert (COMMITTED / "report.docx").read_bytes() == docx_path.read_bytes()


def test_sample_states_the_records_facts():
    fig = sample_figures()
    text = render_text(fig)
    for fact in (
        "五个县（市、区）举办残疾人就业专场招聘会",
        "开展招聘会场次：目标不少于9场，实际完成5场，完成率55.56%",
        "按每户400元的标准计300户，合计12.00万元",
        "目标不少于30人，实际完成51人",
        "实际为35.29%（共51人）",
        "实际完成84家",
        "本项目年度预算33.50万元，实际支出33.50万元，预算执行率100.00%",
        "自评得分93.00分，评价等级为“优”",
        "满意度综合得分为95.30分",
        "本次共发放问卷37份",
        "自2023年4月21日起至2023年5月10日止",
        "昆明市残疾人综合服务中心\n2023年5月17日\n附表1",
    ):
        assert fact in text
    # Clean but honest: the one missed target is reported as missed, never as achieved.
    assert [i.id for i in fig.missed] == ["job_fairs_held"]
    assert "有1项绩效指标未达到目标值：“开展招聘会场次”" in text
    assert _faults(text) == set()


# ---------------------------------------------------------------- clean random reports


@pytest.mark.parametrize("seed", SEEDS)
def test_random_figures_are_consistent(seed):
    fig = random_figures(random.Random(seed))
    text = render_text(fig)
    assert _faults(text) == set(), seed

    # Recomputed from the figures, exactly.
    assert fig.budget_total == sum(b.allocated for b in fig.budget_lines) > 0
    assert sum(lv.weight for lv in fig.level1) == 100
    assert all(0 <= lv.score <= lv.weight for lv in fig.level1)
    assert fig.grade == grade_for(fig.score_total)
    for line in fig.budget_lines:
        assert 0 <= line.spent <= line.allocated and line.spent % 100 == 0
        if line.standard is not None:
            assert fig.indicator(line.indicator).actual * line.standard == line.spent
            if line.standard_indicator:
                assert fig.indicator(line.standard_indicator).actual == line.standard
        if line.indicator and line.standard is None:  # no COST_PER_UNIT in a clean report
            ind = fig.indicator(line.indicator)
            assert not (
                line.spent >= line.allocated * Decimal("0.95")
                and ind.actual < ind.target * Decimal("0.8")
            )
    n = fig.respondents
    weights = [Fraction(w) for w in fig.weights]
    overall = Fraction(0)
    for q in fig.questions:
        assert sum(q.counts) == n
        shares = [Fraction(100 * c, n) for c in q.counts]
        written = [Fraction(Decimal(f"{float(s):.2f}")) for s in shares]  # ±0.005 each
        assert abs(sum(written) - 100) <= Fraction(5 * 51, 10000)
        overall += sum(s * w / 100 for s, w in zip(shares, weights, strict=True))
    assert abs(Fraction(fig.indicator("satisfaction").actual) - overall) <= Fraction(1, 200)
    assert ("本年度设定的绩效目标已全部完成" in text) == (not fig.missed)
    for ind in fig.indicators:
        if ind.of_people:
            people = int(fig.indicator(ind.of_people).actual)
            assert any(
                abs(Fraction(100 * k, people) - Fraction(ind.actual)) <= Fraction(1, 200)
                for k in range(people + 1)
            )
    assert fig.eval_start < fig.eval_end <= fig.report_date and fig.report_date.year == fig.year + 1
    # The 自评表 filled from the same figures breaks none of its rules either.
    assert _faults(render_text(replace(fig, form=True))) == set(), seed


def test_random_figures_cover_both_outcomes():
    figs = [random_figures(random.Random(s)) for s in SEEDS]
    assert any(f.missed for f in figs) and any(not f.missed for f in figs)
    assert {f.grade for f in figs} >= {"优", "良"}


# ---------------------------------------------------------------- planted faults


def test_every_report_rule_can_be_planted():
    # The rules a report breaks on its own (those against the records need records; an
    # unreadable file is the hostile suite's, tests/test_hostile_report.py), the 自评表's own
    # among them; in the form, its own and those its tables share with the report's. The
    # writer's form is the national 项目支出 layout, which has no 权重占比 / 折算得分 columns: the
    # provincial variant's rule is planted in an invented provincial form instead
    # (tests/test_report_layouts.py) and in R20 (tests/test_report_corpus.py).
    provincial = {"REPORT.FORM_WEIGHTED_SCORE"}
    report_rules = {r.id for r in RULES.values() if "report" in r.tags}
    assert set(PLANTABLE) == report_rules - {UNVERIFIABLE, "REPORT.UNREADABLE"} - provincial
    form_rules = {r.id for r in RULES.values() if "form" in r.tags} - provincial
    assert set(FORM_PLANTABLE) == form_rules | {
        "REPORT.RATE_RECOMPUTED", "REPORT.TABLE_TOTAL", "REPORT.GRADE"
    }  # fmt: skip


def _cases():
    yield "sample", sample_figures()
    for seed in range(40):
        yield f"seed{seed}", random_figures(random.Random(seed))


@pytest.mark.parametrize("rule_id", [*PLANTABLE, UNVERIFIABLE])
def test_planted_fault_is_one_of_its_kind(rule_id):
    for name, fig in _cases():
        clean = render_text(fig)
        rng = random.Random(f"{name}:{rule_id}")
        planted_fig, planted = (
            truncate_table(fig, rng) if rule_id == UNVERIFIABLE else plant(fig, rule_id, rng)
        )
        text = render_text(planted_fig)
        assert planted.rule_id == rule_id and planted.subject and planted.description
        assert text != clean, name
        found = _faults(text)
        if rule_id == "REPORT.COST_PER_UNIT":
            line = next(
                b for b in planted_fig.budget_lines if f"budget:{b.code}" == planted.subject
            )
            ind = planted_fig.indicator(line.indicator)
            assert line.spent == line.allocated and ind.actual < ind.target * Decimal("0.8")
            assert found == set(), name
        else:
            assert rule_id in found, (name, planted)
            assert found <= {rule_id, *planted.collateral}, (name, planted, found)


@pytest.mark.parametrize("rule_id", FORM_PLANTABLE)
def test_planted_form_fault_is_one_of_its_kind(rule_id):
    for name, fig in _cases():
        rng = random.Random(f"{name}:form:{rule_id}")
        planted_fig, planted = plant(fig, rule_id, rng, in_form=True)
        assert planted_fig.form and planted.rule_id == rule_id
        found = _faults(render_text(planted_fig))
        assert rule_id in found, (name, planted)
        assert found <= {rule_id, *planted.collateral}, (name, planted, found)


def test_unknown_rule_cannot_be_planted():
    with pytest.raises(ValueError, match="FILE.EMPTY"):
        plant(sample_figures(), "FILE.EMPTY", random.Random(0))


# ---------------------------------------------------------------- the form of SPEC §1.3


def test_text_form_follows_spec():
    for fig in (sample_figures(), random_figures(random.Random(3))):
        text = render_text(fig)
        lines = text.split("\n")
        assert text.endswith("\n") and "\r" not in text
        for n, line in enumerate(lines[:-1]):
            assert "\t" not in line[1:], line
            if line == "":  # a blank line only ever closes a table row
                assert lines[n - 1].startswith("\t")
            if line.startswith("\t") and not lines[n - 1].startswith("\t") and lines[n - 1] != "":
                caption = lines[n - 1]  # a table opens under its caption
                assert caption and not caption.startswith("\t")
        r = _read(text)
        assert set(len(rows[0]) for rows in r.tables.values()) >= {5, 8}
        money = lines.index("单位：万元")
        assert "支出明细表" in lines[money - 1] and lines[money + 1] == "\t序号"
        headings = [line for line in lines if re.match(r"^[一二三四五六七八九十]+、", line)]
        assert [h[0] for h in headings] == list("一二三四")
        assert all(len(set(map(len, rows))) == 1 for rows in r.tables.values())


def _docx_as_text(data: bytes) -> str:
    """The .docx read back in body order, tables written the SPEC §1.3 way."""
    document = docx.Document(io.BytesIO(data))
    lines = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(docx.text.paragraph.Paragraph(child, document).text)
        elif tag == "tbl":
            for tr in child.iterchildren():
                if tr.tag.endswith("}tr"):
                    cells = [tc for tc in tr.iterchildren() if tc.tag.endswith("}tc")]
                    lines.extend("\t" + docx.table._Cell(tc, None).text for tc in cells)
                    lines.append("")
    return "\n".join(lines) + "\n"


def test_docx_holds_the_same_content_in_the_same_order():
    fig = sample_figures()
    cut, _ = truncate_table(fig, random.Random(1))
    for f in (fig, random_figures(random.Random(11)), cut):
        assert _docx_as_text(docx_bytes(f)) == render_text(f)


@pytest.mark.skipif(not SEED.exists(), reason="the seed report ../shared/seeds is absent")
def test_no_sentence_of_the_seed_is_copied():
    seed_lines = {
        line.strip()
        for line in SEED.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) > 15
    }
    texts = [render_text(sample_figures())]
    texts += [render_text(random_figures(random.Random(s))) for s in range(30)]
    for text in texts:
        assert not [line for line in seed_lines if line in text]


def test_count_units_cover_the_sample():
    fig = sample_figures()
    assert {
        i.unit for i in fig.indicators if i.unit and i.unit not in ("%", "元", "分")
    } <= COUNT_UNITS
