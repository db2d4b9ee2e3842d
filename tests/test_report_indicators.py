"""Prose figures linked by name to the report's own 三级指标 and to programme.yaml's
indicators (checks/report_indicators.py): a report of our own holding the national form
(tests.test_report_form.NATIONAL) with prose around it, as text and as Word."""

from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.checks import report_form, report_indicators
from jixiao.checks.report_check import check_report
from jixiao.checks.tables import grids
from jixiao.ingest.claims import extract_claims
from jixiao.ingest.report import read_report
from jixiao.schemas.programme import load_programme
from jixiao.schemas.vocabulary import load_vocabulary
from tests.conftest import REPO
from tests.test_report_form import NATIONAL, planted, write_docx, write_text

TITLE = "某区社区康复服务项目2023年度绩效自评报告"
CORPUS = REPO.parent / "shared" / "corpus" / "reports"


def report(tmp_path: Path, form: str, prose: list[str], grid=NATIONAL) -> Path:
    blocks = [TITLE, "一、绩效目标完成情况", *prose, "附表1", "项目支出绩效自评表", grid, "二、结论",
              "以上数据经单位负责人审定。"]  # fmt: skip
    if form == "docx":
        return write_docx(tmp_path / "r.docx", blocks)
    path = tmp_path / "r.txt"
    path.write_text(write_text(blocks), encoding="utf-8")
    return path


def found(path: Path, programme=None) -> list[tuple[str, str, str, str]]:
    return [(f.rule_id, f.label, f.claimed, f.observed) for f in check_report(path, programme).findings]


# Every figure agrees with the form, worded as prose words names: 康复训练210人 for 康复训练人数,
# 满意度 for 家长满意度, 减轻负担 for 减轻负担户数, a target restated, a breakdown of its own.
AGREEING = [
    "（一）全年开展康复训练210人，其中重度残疾儿童80人。康复训练目标为不少于200人。",
    "（二）训练达标率达到92%。",
    "（三）减轻家庭负担150户，家长满意度96%。",
]


@pytest.mark.parametrize("form", ["text", "docx"])
def test_prose_agreeing_with_the_form_gives_nothing_and_is_linked(tmp_path, form):
    audit = check_report(report(tmp_path, form, AGREEING))
    assert audit.findings == []
    # The form's five indicators, each counted once (prose restating one is not another).
    assert (audit.coverage.indicators, audit.coverage.linked) == (5, 5)


@pytest.mark.parametrize("form", ["text", "docx"])
@pytest.mark.parametrize(
    ("line", "label", "claimed", "observed"),
    [
        ("全年开展康复训练230人。", "康复训练人数", "230人", "实际完成值 210人"),
        ("减轻家庭负担160户。", "减轻负担户数", "160户", "实际完成值 150户"),
        ("家长满意度93%。", "家长满意度", "93%", "实际完成值 96%"),
        ("康复训练人数目标为不少于250人。", "康复训练人数", "250人", "年度指标值 ≥200人"),
    ],
)  # fmt: skip
def test_a_prose_figure_against_its_indicator_row(tmp_path, form, line, label, claimed, observed):
    (finding,) = check_report(report(tmp_path, form, [line])).findings
    assert (finding.rule_id, finding.label, finding.claimed, finding.observed) == (
        "REPORT.FIGURE_DISAGREES", label, claimed, observed)  # fmt: skip
    cell = finding.evidence[1]  # the form's 三级指标 cell, where the report's reader finds it
    assert finding.where == "自评表" and cell.text == f"{label}｜三级指标：{label}"
    assert (cell.table_row is not None) == (form == "docx") and cell.line > 0


def test_a_name_with_its_unit_in_brackets_and_bare_figures(tmp_path):
    """A form writing 新型经营主体助农增收（元） | 1980 | 2074: the unit from the name, the
    prose naming it as 助农增收."""
    grid = planted(NATIONAL, r13c2="经济效益指标", r13c3="新型经营主体助农增收（元）",
                   r13c4="1980", r13c5="2074")  # fmt: skip
    assert found(report(tmp_path, "text", ["全年助农增收2074元。"], grid)) == []
    assert found(report(tmp_path, "text", ["全年助农增收2100元。"], grid)) == [
        ("REPORT.FIGURE_DISAGREES", "新型经营主体助农增收（元）", "2100元", "实际完成值 2074")
    ]


def test_rounding_and_ambiguity_are_no_disagreement(tmp_path):
    lines = ["康复训练约0.02万人。",  # approximate: never a figure
             "满意度96.4%。",  # 96.4 rounds into 96
             "完成率100%。"]  # fmt: skip  (a rate naming no indicator)
    assert found(report(tmp_path, "text", lines)) == []


# The form's 康复训练人数 missed: 190 of ≥200, scored 18 with a reason (the form is right).
MISSED = planted(NATIONAL, r10c5="190人", r10c7="18", r10c8="部分儿童转入学校", r15c7="97.5")


@pytest.mark.parametrize(
    ("line", "claimed"),
    [("全年康复训练190人，已完成年度目标。", "「已完成」"),
     ("康复训练人数190人，完成率100%。", "「完成率100%」"),
     ("各项指标圆满完成。", "「圆满完成」")],
)  # fmt: skip
def test_a_missed_indicator_called_met(tmp_path, line, claimed):
    (finding,) = check_report(report(tmp_path, "text", [line], MISSED)).findings
    assert (finding.rule_id, finding.label, finding.claimed) == (
        "REPORT.MISSED_TARGET_CLAIMED", "康复训练人数", claimed)  # fmt: skip
    assert finding.observed == "目标 ≥200人，实际 190人"


def test_a_missed_indicator_stated_as_missed_claims_nothing(tmp_path):
    lines = ["全年康复训练190人，未完成年度目标。", "康复训练人数190人，完成率95%。"]
    assert found(report(tmp_path, "text", lines, MISSED)) == []


def test_programme_indicators_are_linked_when_a_programme_is_given(tmp_path):
    programme = load_programme(REPO / "sample" / "programme.yaml")
    path = tmp_path / "r.txt"
    path.write_text("\n".join(["某市残疾人就业服务项目绩效自评报告", "一、绩效目标完成情况",
                               "全年开展招聘会5场，已完成目标。", ""]), encoding="utf-8")  # fmt: skip
    (finding,) = check_report(path, programme).findings
    assert (finding.rule_id, finding.label, finding.observed) == (
        "REPORT.MISSED_TARGET_CLAIMED", "开展招聘会场次", "目标 ≥9场，实际 5场")  # fmt: skip
    assert finding.evidence[0].line == 3
    assert (check_report(path, programme).coverage.indicators, check_report(path).findings) == (1, [])


@pytest.mark.skipif(not (CORPUS / "R16.txt").exists(), reason=f"the report corpus is not at {CORPUS}")
def test_corpus_rounded_prose_figure_links_to_its_row_and_agrees():
    """R16's key: 11万人次 in the prose is the form's 110406 rounded (a trap): linked to
    享受医疗救助人次, no finding."""
    doc, vocab = read_report(CORPUS / "R16.txt"), load_vocabulary()
    own = report_indicators.from_form(report_form.indicators(report_form.forms(grids(doc))))
    found = report_indicators.links(extract_claims(doc, vocab), own, vocab)
    assert [(k.claim.text, k.indicator.name) for k in found] == [("11万人次", "享受医疗救助人次")]
    assert check_report(CORPUS / "R16.txt").findings == []
