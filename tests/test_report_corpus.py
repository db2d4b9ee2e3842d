"""Real published reports (../shared/corpus/reports): their tables read as pages flatten them.

The corpus is other offices' text: it is read from ../shared, never copied here, and these
tests skip, saying why, where it is absent. They assert what the answer key (key.yaml) says
the tables hold — the consistent figures of its traps add up on the grids read — and that
every figure of a table read becomes a claim.

Measured on the twelve reports when these tests were written (for the record, not asserted;
figures as ``extract_claims`` counts them): before, no table was read in any of them and 174
figures were extracted; then 14 tables in the 8 reports that hold one (R02, R04, R06, R07,
R08, R15, R16, R20; 5 national 自评表s cut into their parts, R20's provincial form read as one
grid) and 286 figures, 181 of them table cells; now R20's form too is cut into its parts.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from jixiao.checks import report_form
from jixiao.checks.report_check import check_report
from jixiao.checks.tables import grids
from jixiao.ingest.report import is_value

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "reports"

pytestmark = pytest.mark.skipif(
    not (CORPUS / "key.yaml").exists(), reason=f"the report corpus is not at {CORPUS}"
)


@pytest.fixture(scope="module")
def audits():
    return {p.stem: check_report(p) for p in sorted(CORPUS.glob("R??.txt"))}


def form(audit, part: str):
    return next(g for g in grids(audit.document) if g.table.form == part)


def column(g, name: str) -> int:
    return next(c for c, h in enumerate(g.header) if h.startswith(name))


def total(g, c: int, rows) -> Decimal:
    return sum((g.fig(r, c).value for r in rows if g.fig(r, c)), Decimal(0))


def test_reports_of_prose_have_no_table_and_reports_with_tables_have_them(audits):
    for name in ("R03", "R11", "R12", "R13"):
        assert not audits[name].document.tables, name
    layouts = {name: {t.layout for t in a.document.tables} for name, a in audits.items()}
    assert layouts["R02"] == layouts["R04"] == layouts["R07"] == {"pipe"}
    assert layouts["R15"] == layouts["R16"] == {"pipe"}
    assert layouts["R06"] == layouts["R20"] == {"spaced"} and layouts["R08"] == {"run"}
    forms = {name for name, a in audits.items() if any(t.form for t in a.document.tables)}
    assert forms == {"R06", "R07", "R08", "R15", "R16", "R20"}


def test_every_figure_of_a_table_read_is_a_claim(audits):
    for name, audit in audits.items():
        tables = audit.document.tables
        cells = {(t.index, c.row, c.col) for t in tables for r in t.rows[1:] for c in r
                 if is_value(c.text) and c.col not in t.index_columns()}  # fmt: skip
        claimed = {(c.table, c.row, c.col) for c in audit.claims if c.table is not None}
        assert len(cells & claimed) >= 0.95 * len(cells), name


def test_r02_targets_one_cell_per_line(audits):
    (table,) = audits["R02"].document.tables
    assert [c.text for c in table.rows[0]] == ["序号", "三级指标", "年度指标值"]
    assert table.index_columns() == {0}
    numbers = [r[0].text for r in table.rows[1:] if len(r) == 3]
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)] and len(numbers) >= 14


def test_r06_scores_add_up_to_the_total_as_the_key_says(audits):
    funds, indicators = form(audits["R06"], "funds"), form(audits["R06"], "indicators")
    score, weight = column(indicators, "得分"), column(indicators, "分值")
    rows = range(len(indicators.rows) - 1)
    assert indicators.rows[-1][0] == "分总"
    assert total(indicators, score, rows) == total(indicators, weight, rows) == 90
    funds_score = funds.fig(0, column(funds, "得分")).value  # 年度资金总额's 得分
    assert funds_score + 90 == indicators.fig(len(indicators.rows) - 1, score).value == 100
    # One more 28.1 than the header has columns: kept, under a column 项目资金 spans.
    assert funds.table.rows[0][1].merged and not funds.table.truncated
    assert funds.rows[0][0] == "年度资金总额:" and funds.rows[1][0].startswith("其中")


def test_r07_total_is_the_funds_score_and_the_indicator_scores(audits):
    funds, indicators = form(audits["R07"], "funds"), form(audits["R07"], "indicators")
    score = column(indicators, "得分")
    rows = range(len(indicators.rows) - 1)
    stated = indicators.fig(len(indicators.rows) - 1, score).value
    assert indicators.rows[-1][0] == "总分"
    assert funds.fig(0, column(funds, "得分")).value + total(indicators, score, rows) == stated
    assert [r[2] for r in indicators.rows][:2] == ["扶持发展新型农业经营主体 (个)", "带动贫困户(人)"]


def test_r08_total_row_first_then_its_part(audits):
    funds, indicators = form(audits["R08"], "funds"), form(audits["R08"], "indicators")
    assert funds.rows[0][0].startswith("年度资金总额") and funds.rows[1][0].startswith("其中")
    budget = column(funds, "年初预算数")
    assert funds.fig(0, budget).value == 0 and funds.fig(1, budget).value == 90
    score = column(indicators, "得分")
    by_level: dict[str, Decimal] = {}
    for r in range(len(indicators.rows)):
        if fig := indicators.fig(r, score):
            by_level[indicators.group(r)] = by_level.get(indicators.group(r), 0) + fig.value
    assert by_level == {"产出指标(50分)": 50, "效益指标(30分)": 30}


def test_r08_findings_say_the_line_the_form_stands_on(audits):
    """The form runs together on one line: each finding stands there, not on rows of the
    part it was cut into (their evidence said 第 1、1 行 and 第2行第3列)."""
    lines = (CORPUS / "R08.txt").read_text(encoding="utf-8").splitlines()
    on = next(n for n, line in enumerate(lines, 1) if "年度资金总额" in line)
    errors = [f for f in audits["R08"].findings if f.severity == "error"]
    assert len(errors) == 3
    for f in errors:
        assert [e.line for e in f.evidence] == [on, on]  # the total and its 其中 row
        assert {e.where() for e in f.evidence} == {f"第 {on} 行"}
        assert not any("列）" in e.text for e in f.evidence)


def test_r15_and_r16_funds_parts(audits):
    r15 = form(audits["R15"], "funds")
    assert r15.rows[0][1:4] == ["808.1", "692.98", "86%"]
    r16 = form(audits["R16"], "funds").table
    amounts = [Decimal(r[1].text.rstrip("万") or 0) for r in r16.rows[1:] if r[1].text]
    assert amounts[0] == sum(amounts[1:]) == Decimal("3359.62")


def test_r20_provincial_form_is_read_as_the_national_form(audits, tmp_path):
    """R20's form (its funds as label | figure pairs under 预算安排 / 到位 / 执行, its
    indicator header over two lines) cut into the national form's parts, and what key.yaml
    says of it: 6.84 / 6.84 = 100.00 and 折算得分 = 得分 × 权重% hold, no finding."""
    audit = audits["R20"]
    funds, indicators = form(audit, "funds"), form(audit, "indicators")
    rate, budget, spent = (column(funds, n) for n in ("预算执行进度", "预算安排", "资金执行"))
    assert [funds.fig(0, c).value for c in (budget, spent, rate)] == [Decimal("6.84")] * 2 + [100]
    assert [r[0] for r in funds.rows[1:]] == ["其中:财政资金", "其他"]
    assert total(funds, budget, (1, 2)) == funds.fig(0, budget).value
    score, share, weighted = (column(indicators, n) for n in ("单项指标得分", "权重占比", "单项指标折算得分"))
    rows = range(len(indicators.rows))
    assert [indicators.fig(r, score).value * indicators.fig(r, share).value / 100 for r in rows] \
        == [indicators.fig(r, weighted).value for r in rows] == [Decimal("6.25")] * 2 + [9, 1]  # fmt: skip
    (found,) = report_form.forms(grids(audit.document))
    targets = [(i.name, i.target.bound, i.target.figure.value, i.target.unit, i.actual.figure.value)
               for i in found.indicators.rows]  # fmt: skip
    assert [t[1:] for t in targets] == [(">=", 98, "%", 100), (">=", 99, "%", 100),
                                        (">=", 75, "%", 100), (">=", 95, "%", 100)]  # fmt: skip
    assert targets[1][0] == "完成率" and found.problem is None and not audit.findings
    # The rules read these cells: the rate, a 其中 row or a weighted score changed is found.
    text = (CORPUS / "R20.txt").read_text(encoding="utf-8")
    for old, new, rule_id in ((" 6.84 100.00", " 6.84 90.00", "REPORT.RATE_RECOMPUTED"),
                              ("其他 0.00 其他", "其他 0.10 其他", "REPORT.TABLE_TOTAL"),
                              (" 25.00 25.00 6.25", " 25.00 25.00 6.35",
                               "REPORT.FORM_WEIGHTED_SCORE")):  # fmt: skip
        assert old in text
        (tmp_path / "R20.txt").write_text(text.replace(old, new, 1), encoding="utf-8")
        assert [f.rule_id for f in check_report(tmp_path / "R20.txt").findings] == [rule_id]


def _flat(text: str) -> str:
    return "".join(text.replace("：", ":").replace(":", "").split())


def test_no_error_on_the_corpus_traps(audits):
    """An error is a proven contradiction of the key (its row or sentence quoted there), or a
    false error on a trap or a consistent figure."""
    key = yaml.safe_load((CORPUS / "key.yaml").read_text(encoding="utf-8"))
    for name, audit in audits.items():
        quotes = [_flat(c[q]) for c in key[name]["contradictions"] for q in c if q.startswith("quote")]
        errors = [f for f in audit.findings if f.severity == "error"
                  and not any(_flat(f.claimed.split()[0]) in q for q in quotes)]  # fmt: skip
        assert not errors, (name, [(f.rule_id, f.claimed) for f in errors])
