"""Every 涉及金额 with its formula (issue 14): each rule that sets an amount states, in Chinese
and in English, the arithmetic over the finding's own figures that gives it; here the
formula is read back and redone, independently of the code that wrote it."""

from __future__ import annotations

import datetime as dt
import random
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from jixiao.checks.against_records import measured, records_disagree
from jixiao.checks.findings import Finding
from jixiao.checks.records import CAP, record_findings
from jixiao.checks.report_check import check_report
from jixiao.ingest.claims import extract_claims
from jixiao.ingest.report import parse_text
from jixiao.publish.findings import public_dict
from jixiao.sample.report_writer import plant, random_figures, render_text, sample_figures
from jixiao.schemas.vocabulary import load_vocabulary
from tests.test_records import F1, PROGRAMME, person, sample_db, visit  # noqa: F401 (fixture)
from tests.test_stated_totals import PROGRAMME as GRANTS
from tests.test_stated_totals import con, state, three_rows  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[1]
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[−+×÷()]")
_OPS = {"−": "-", "+": "+", "×": "*", "÷": "/", "(": "(", ")": ")"}


def redo(basis: str) -> tuple[Decimal, Decimal]:
    """The formula after the colon redone, and the amount it says it gives: only its figures
    and operators count, whatever words stand between them."""
    formula = re.split(r"：|: ", basis)[-1]
    terms, _, said = formula.rpartition(" = ")
    stated = Decimal(_TOKEN.findall(said)[0])
    if not terms:  # one figure: the amount itself
        return stated, stated
    expression = "".join(
        f"Decimal('{t}')" if t[0].isdigit() else _OPS[t] for t in _TOKEN.findall(terms)
    )
    value = eval(expression, {"Decimal": Decimal})  # noqa: S307 (figures and operators only)
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP), stated


def assert_redone(f: Finding) -> None:
    """Both languages' formulas give the finding's amount, to the fen, as published too."""
    amount = f.amount_yuan.quantize(Decimal("0.01"), ROUND_HALF_UP)
    for lang in ("zh", "en"):
        basis = f.as_dict(lang)["amount_basis"]
        assert basis, (f.rule_id, lang)
        assert redo(basis) == (amount, amount), (f.rule_id, basis)
    assert public_dict(f)["amount_basis"] == f.as_dict()["amount_basis"]


def amounted(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        if f.amount_yuan is not None:
            out.setdefault(f.rule_id, []).append(f)
    return out


def test_record_amounts_redo_from_their_rows(sample_db, tmp_path):  # noqa: F811
    """Every RECORDS rule that sets an amount, planted on the loaded sample, more than CAP
    rows of one person among them (the unlisted rows as one term)."""
    db = tmp_path / "w.duckdb"
    shutil.copyfile(sample_db, db)
    with duckdb.connect(str(db)) as wh:
        a, b, old = person("A"), person("B"), person("old", born=dt.date(1950, 5, 1))
        for row in range(2, 2 + CAP + 3):  # A paid CAP + 3 times: CAP rows listed
            visit(wh, F1, row, "530102", a, dt.date(2022, 1, 1) + dt.timedelta(days=row))
        visit(wh, F1, 40, "530102", b, dt.date(2022, 3, 1), yuan=300)  # off the standard, twice
        visit(wh, "planted/530103.xlsx", 2, "530103", b, dt.date(2022, 12, 5), yuan=450)
        visit(wh, F1, 41, "530102", person("C", region="530124"), dt.date(2022, 5, 1))
        visit(wh, F1, 42, "530102", person("G"), dt.date(2021, 12, 28))  # before the year
        visit(wh, F1, 43, "530102", old, dt.date(2022, 6, 1))  # 72
        wh.execute(
            "INSERT INTO funds (programme_code, year, county_code, budget_line, allocated_yuan, "
            "spent_yuan, source_file, source_sha256, source_sheet, source_row) VALUES "
            "(?, ?, '530124', 'visits', 12000, 13000.50, 'planted/530124.xlsx', ?, '经费', 2)",
            [PROGRAMME.code, PROGRAMME.year, "0" * 64],
        )
        found = amounted(record_findings(wh, PROGRAMME))
    declared = {c.rule for c in PROGRAMME.checks if getattr(c, "amount", None) is not None}
    assert set(found) == declared | {"RECORDS.OVERSPENT"}
    for findings in found.values():
        for f in findings:
            assert_redone(f)
    (many,) = [f for f in found["RECORDS.DUPLICATE_PAYMENT"] if f.claimed == str(CAP + 3)]
    assert many.amount_yuan == 400 * (CAP + 2)
    assert many.as_dict()["amount_basis"].startswith("各笔慰问金额之和 − 首笔（应发的一笔）：(")
    (over,) = found["RECORDS.OVERSPENT"]
    assert over.as_dict()["amount_basis"] == "使用金额合计 − 下达金额合计：13000.5 − 12000 = 1000.50 元"
    late = {f.as_dict()["amount_basis"] for f in found["RECORDS.AFTER_DEADLINE"]}
    assert "该行的慰问金额：450 元" in late and "该行的支出金额：21000 元" in late


def test_a_stated_total_amount_redoes(con):  # noqa: F811
    three_rows(con)
    state(con, (6, "合 计", 3, 5, "granted", "B6", "0.13万"))
    (f,) = record_findings(con, GRANTS)
    assert_redone(f)
    assert f.as_dict()["amount_basis"] == "合计行所填与第 3–5 行之和的差：1300 − 1200 = 100 元"


@pytest.mark.parametrize("missing", [{}, {"budget": ("宜良县",)}])
def test_a_money_figure_against_the_records_redoes(missing):
    """REPORT.RECORDS_DISAGREE, and REPORT.RECORDS_PROVISIONAL while a county is missing."""
    vocab = load_vocabulary(PROGRAMME.vocabulary)
    text = "一、项目概况\n残疾人就业专场招聘会项目实际使用经费10.5万元。\n"
    claims = extract_claims(parse_text(text), vocab)
    spent = {"job_fairs": Decimal("98000.50")}
    (f,) = records_disagree(claims, measured(PROGRAMME, {}, spent, vocab, missing))
    assert f.rule_id == ("REPORT.RECORDS_PROVISIONAL" if missing else "REPORT.RECORDS_DISAGREE")
    assert f.amount_yuan == Decimal("6999.50")
    assert_redone(f)
    assert f.as_dict("en")["amount_basis"] == (
        "the report's figure against the county records': 105000 − 98000.5 = 6999.50 yuan")


MONEY_RULES = ("REPORT.PRODUCT", "REPORT.PRODUCT_TOTAL", "REPORT.BUDGET_TOTAL",
               "REPORT.PARTS_TOTAL", "REPORT.COST_PER_UNIT")  # fmt: skip


@pytest.mark.parametrize("rule_id", MONEY_RULES)
def test_report_amounts_redo_from_the_figures_stated(rule_id, tmp_path):
    """Each report rule that sets an amount, planted by the sample writer in the sample's
    figures and in random ones, read back by the report checks."""
    seen = 0
    for name, fig in (("sample", sample_figures()),
                      *((f"seed{s}", random_figures(random.Random(s))) for s in range(8))):  # fmt: skip
        planted, _ = plant(fig, rule_id, random.Random(f"{name}:{rule_id}"))
        path = tmp_path / f"{name}.txt"
        path.write_text(render_text(planted), encoding="utf-8")
        for f in amounted(check_report(path, PROGRAMME).findings).get(rule_id, []):
            assert_redone(f)
            seen += 1
    assert seen


def test_the_sample_cost_per_unit_is_explained():
    """The demo report's 46,666.67: spent × (1 − actual ÷ target)."""
    report = ROOT / "data/raw/2022/530100-disability-employment/report.docx"
    (f,) = [f for f in check_report(report, PROGRAMME).findings if f.rule_id == "REPORT.COST_PER_UNIT"]
    assert f.amount_yuan == Decimal("46666.67")
    assert f.as_dict()["amount_basis"].endswith("：105000 × (1 − 5 ÷ 9) = 46666.67 元")
    assert_redone(f)


def test_the_formula_is_published_beside_the_amount(tmp_path):
    """findings.xlsx's 金额计算 column next to 涉及金额, and the report's amount cell."""
    from python_calamine import CalamineWorkbook

    from jixiao.publish.excel import AMOUNT_BASIS, COLUMNS, write_findings_xlsx
    from jixiao.publish.findings import as_markdown, findings_table

    report = ROOT / "data/raw/2022/530100-disability-employment/report.docx"
    findings = [f for f in check_report(report, PROGRAMME).findings if f.amount_yuan is not None]
    basis = findings[0].as_dict()["amount_basis"]
    rows = CalamineWorkbook.from_path(str(write_findings_xlsx(findings, tmp_path / "f.xlsx"))
                                      ).get_sheet_by_name("警示").to_python()  # fmt: skip
    at = COLUMNS.zh.index(AMOUNT_BASIS.zh)
    assert COLUMNS.zh[at - 1] == "涉及金额（元）" and rows[1][at] == basis
    assert rows[1][at - 1] == float(findings[0].amount_yuan)
    assert f'46,666.67<span class="basis">{basis}</span>' in findings_table(findings)
    assert f"46,666.67 {basis}" in as_markdown(findings, "t")
