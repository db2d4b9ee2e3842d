"""A county sheet's 合计 / 小计 / 总计 rows (SPEC §1.1 v2): kept apart from the data in
`stated_totals`, each read by its column's own normaliser, and checked against the column it
totals (RECORDS.TOTAL_DISAGREES) for every numeric column of any template, undeclared.

The SQL is tested on a real DuckDB file holding real rows of a template the sample does not
have (a grants sheet: money, a head count, hours); then a county workbook of the sample goes
through intake (its reader handing over the totals a layout would find) and the audit, run
after run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from jixiao.checks.findings import Evidence
from jixiao.checks.records import TOTAL, record_findings, total_findings, totals_sql
from jixiao.flows.audit import audit_programme
from jixiao.ingest.layout import TOTALS
from jixiao.ingest.load import create_tables, insert_totals, open_run, warehouse_totals
from jixiao.publish.report import staged_folder
from jixiao.schemas.contracts import FILE
from jixiao.schemas.programme import Programme
from tests.test_intake import KEY, county_file, drop_sheet, programme_folder, run
from tests.test_intake import context as intake_context

REPO = Path(__file__).resolve().parent.parent
SAMPLE = yaml.safe_load((REPO / "sample" / "programme.yaml").read_text(encoding="utf-8"))
FIELDS = [
    {"name": "item", "title": "事项", "type": "string"},
    {"name": "granted", "title": "补助金额(元)", "type": "money"},
    {"name": "heads", "title": "人数", "type": "integer"},
    {"name": "hours", "title": "课时", "type": "number"},
    {"name": "carer_id", "title": "监护人身份证号", "type": "string", "format": "resident_id",
     "personal": "hash"},
]  # fmt: skip
PROGRAMME = Programme.model_validate(
    SAMPLE | {"checks": [], "survey": None,
              "sheets": [{"name": "grants", "title": "补助", "fields": FIELDS}]}  # fmt: skip
)
CODE, YEAR = PROGRAMME.code, PROGRAMME.year
SHEET = PROGRAMME.county_template.sheets["grants"]
FILE1, FILE2 = "counties/530102.xlsx", "counties/530103.xlsx"


@pytest.fixture
def con(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_tables(con, PROGRAMME)
    yield con
    con.close()


def grant(con, row: int, granted: str | None = None, heads: int | None = None,
          hours: float | None = None, file: str = FILE1, county: str = "530102") -> None:  # fmt: skip
    """One data row of the grants sheet, with its scope and lineage."""
    con.execute(
        "INSERT INTO grants (programme_code, year, county_code, item, granted, heads, hours, "
        "source_file, source_sha256, source_sheet, source_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?)",
        [CODE, YEAR, county, f"事项{row}", granted and Decimal(granted), heads, hours, file,
         "0" * 64, "补助表", row],
    )  # fmt: skip


def state(con, *totals: tuple, file: str = FILE1, county: str = "530102") -> None:
    """Totals as a sheet's reader hands them over (SheetText.totals), loaded as intake loads
    them: (row, label, from_row, to_row, column, cell, stated)."""
    frame = pl.DataFrame(list(totals), schema=TOTALS, orient="row").with_columns(
        pl.lit(0, pl.Int64).alias(FILE)
    )
    lineage = pl.DataFrame(
        {FILE: [0], "programme_code": [CODE], "year": [YEAR], "county_code": [county],
         "source_file": [file], "source_sha256": ["0" * 64], "source_sheet": ["补助表"]},
        schema_overrides={FILE: pl.Int64},
    )  # fmt: skip
    insert_totals(con, warehouse_totals(frame, SHEET, lineage))


def three_rows(con, file: str = FILE1, county: str = "530102") -> None:
    """Rows 3–5 (a title row above the header): 1200 元, 35 people, 4.5 hours."""
    for row, granted, heads, hours in ((3, "400", 10, 1.5), (4, "500.50", 12, 2.0),
                                       (5, "299.50", 13, 1.0)):  # fmt: skip
        grant(con, row, granted, heads, hours, file, county)


def stated(con) -> list[tuple]:
    return con.execute(
        "SELECT column_key, stated, stated_text FROM stated_totals ORDER BY source_row, column_key"
    ).fetchall()


# --- the stated totals as loaded ------------------------------------------------------------


def test_each_total_is_read_as_its_column_reads_its_cells(con):
    state(con,
          (6, "合　计", 3, 5, "granted", "B6", "0.12万"),
          (6, "合　计", 3, 5, "heads", "C6", "1,200"),
          (6, "合　计", 3, 5, "hours", "D6", "４.５"),
          (7, "合计", 3, 5, "granted", "B7", "1200元"),
          (7, "合计", 3, 5, "heads", "C7", "0.12万"),  # not an integer as typed
          (7, "合计", 3, 5, "hours", "D7", "  "),  # blank: states nothing
          (7, "合计", 3, 5, "item", "A7", "3 项"),  # a text column is not totalled
          (7, "合计", 3, 5, "carer_id", "E7", "1"))  # nor a personal one  # fmt: skip
    assert stated(con) == [
        ("granted", Decimal("1200"), "0.12万"),
        ("heads", Decimal("1200"), "1,200"),
        ("hours", Decimal("4.5"), "４.５"),
        ("granted", Decimal("1200"), "1200元"),
        ("heads", None, "0.12万"),
    ]
    assert con.execute(
        "SELECT DISTINCT programme_code, year, county_code, sheet, label, cell, from_row, to_row,"
        " source_file, source_sheet, source_row FROM stated_totals WHERE cell = 'B6'"
    ).fetchall() == [(CODE, YEAR, "530102", "grants", "合　计", "B6", 3, 5, FILE1, "补助表", 6)]
    assert SHEET.totalled == ["granted", "heads", "hours"]


# --- the check --------------------------------------------------------------------------------


def test_totals_that_add_up_are_no_finding(con):
    three_rows(con)
    state(con, (6, "合计", 3, 5, "granted", "B6", "1,200.00"), (6, "合计", 3, 5, "heads", "C6", "35"),
          (6, "合计", 3, 5, "hours", "D6", "4.5"))  # fmt: skip
    assert record_findings(con, PROGRAMME) == []


def test_a_wrong_total_is_one_finding_on_the_county_with_the_cell(con):
    three_rows(con)
    state(con, (6, "合 计", 3, 5, "granted", "B6", "0.13万"), (6, "合 计", 3, 5, "heads", "C6", "35"))
    (f,) = record_findings(con, PROGRAMME)
    assert (f.rule_id, f.severity) == (TOTAL, "error")
    assert (f.claimed, f.observed, f.amount_yuan) == ("1300 元", "1200 元", Decimal("100.00"))
    assert f.subject == "county:530102:grants.granted:合计1"
    assert f.message() == "五华区「补助表」：合计行（B6）的补助金额为 1300 元，而第 3–5 行之和为 1200 元。"
    assert f.message("en") == ("五华区「补助表」: the 合计 row (B6) gives 补助金额 as 1300 元, "
                               "while rows 3–5 add up to 1200 元.")  # fmt: skip
    assert f.evidence == (
        Evidence("", 0, "合计（B6）补助金额：填报「0.13万」，第 3–5 行之和为 1200 元",
                 "530102", "五华区", FILE1, "补助表", 6),
    )


def test_wrong_integer_and_number_totals(con):
    three_rows(con)
    state(con, (6, "总计", 3, 5, "heads", "C6", "36"), (6, "总计", 3, 5, "hours", "D6", "4.6"))
    heads, hours = record_findings(con, PROGRAMME)
    assert (heads.claimed, heads.observed, heads.amount_yuan) == ("36", "35", None)
    assert heads.message() == "五华区「补助表」：总计行（C6）的人数为 36，而第 3–5 行之和为 35。"
    assert (hours.claimed, hours.observed) == ("4.6", "4.5")


def test_subtotals_cover_their_own_rows(con):
    """Two groups, each with its 小计, then the 合计 over every data row."""
    for row, granted in ((3, "100"), (4, "200"), (6, "400"), (7, "800")):
        grant(con, row, granted)
    state(con,
          (5, "小计", 3, 4, "granted", "B5", "300"),  # right
          (8, "小计", 6, 7, "granted", "B8", "1500"),  # the whole sheet: not its group
          (9, "合计", 3, 7, "granted", "B9", "1500"))  # right  # fmt: skip
    (f,) = record_findings(con, PROGRAMME)
    assert (f.claimed, f.observed, f.params["cell"], f.params["rows"]) == (
        "1500 元", "1200 元", "B8", "6–7")
    assert f.subject == "county:530102:grants.granted:小计2"  # the second 小计 of its column
    assert f.evidence[0].row == 8


def test_money_is_exact(con):
    """0.1 + 0.2 is 0.3, in money and in numbers read as floats; a fen off is a finding."""
    grant(con, 3, "0.10", hours=0.1)
    grant(con, 4, "0.20", hours=0.2)
    state(con, (5, "合计", 3, 4, "granted", "B5", "0.3"), (5, "合计", 3, 4, "hours", "D5", "0.3"))
    assert record_findings(con, PROGRAMME) == []
    state(con, (6, "合计", 3, 4, "granted", "B6", "0.31元"))
    (f,) = record_findings(con, PROGRAMME)
    assert (f.claimed, f.observed, f.amount_yuan) == ("0.31 元", "0.30 元", Decimal("0.01"))


def test_a_total_over_an_empty_column(con):
    """Rows that leave a column empty add up to 0: a 0 or a dash under it says so, a figure
    does not."""
    grant(con, 3, "100")
    grant(con, 4, "200")
    state(con, (5, "合计", 3, 4, "heads", "C5", "0"), (5, "合计", 3, 4, "hours", "D5", "—"))
    assert record_findings(con, PROGRAMME) == []
    state(con, (6, "合计", 3, 4, "heads", "C6", "12"))
    (f,) = record_findings(con, PROGRAMME)
    assert (f.claimed, f.observed, f.params["cell"]) == ("12", "0", "C6")


def test_an_unreadable_total_over_figures_is_said_as_written(con):
    three_rows(con)
    state(con, (6, "合计", 3, 5, "heads", "C6", "35人"), (6, "合计", 3, 5, "granted", "B6", "见附表"))
    granted, heads = record_findings(con, PROGRAMME)
    assert (granted.claimed, granted.observed, granted.amount_yuan) == (
        "「见附表」（不能读作金额（元））", "1200 元", None)
    assert heads.message() == (
        "五华区「补助表」：合计行（C6）的人数为 「35人」（不能读作整数），而第 3–5 行之和为 35。")


def test_only_the_same_files_rows_programme_and_year_count(con):
    three_rows(con)
    three_rows(con, FILE2, "530103")  # another county's file, same rows
    grant(con, 4, "1000")
    con.execute("UPDATE grants SET year = year - 1 WHERE granted = 1000")  # another year's row
    state(con, (6, "合计", 3, 5, "granted", "B6", "1200"))
    state(con, (6, "合计", 3, 5, "granted", "B6", "1201"), file=FILE2, county="530103")
    (f,) = record_findings(con, PROGRAMME)
    assert f.subject == "county:530103:grants.granted:合计1"
    assert (f.evidence[0].file, f.evidence[0].sheet) == (FILE2, "补助表")
    con.execute("UPDATE stated_totals SET year = year - 1")
    assert record_findings(con, PROGRAMME) == []


def test_a_finding_is_followed_wherever_its_row_moves(con):
    """A row inserted above the 合计 moves its cell, not the finding (its fingerprint)."""
    three_rows(con)
    state(con, (6, "合计", 3, 5, "granted", "B6", "1300"))
    (before,) = total_findings(con, PROGRAMME)
    con.execute("DELETE FROM stated_totals")
    con.execute("UPDATE grants SET source_row = source_row + 1")
    state(con, (7, "合 计", 4, 6, "granted", "B7", "1300"))
    (after,) = total_findings(con, PROGRAMME)
    assert after.params["cell"] == "B7" and after.fingerprint == before.fingerprint
    state(con, (8, "合计", 4, 6, "granted", "B8", "1400"))  # a second 合计: another finding
    assert len({f.fingerprint for f in total_findings(con, PROGRAMME)}) == 2


def test_a_template_without_numeric_columns_totals_nothing(con):
    texts = [{"name": "item", "title": "事项", "type": "string"}]
    plain = Programme.model_validate(
        SAMPLE | {"checks": [], "survey": None,
                  "sheets": [{"name": "grants", "title": "补助", "fields": texts}]}  # fmt: skip
    )
    three_rows(con)
    state(con, (6, "合计", 3, 5, "granted", "B6", "1"))
    assert totals_sql(plain.county_template) is None
    assert total_findings(con, plain) == []
    assert len(total_findings(con, PROGRAMME)) == 1


# --- through intake and the audit -------------------------------------------------------------


def total_row(title: str, label: str, column: str, stated: object) -> Callable[[dict], None]:
    """A county_file edit: a 合计 line under the sheet's rows, stating ``stated`` under
    ``column`` (a label) and ``label`` in its first cell."""

    def edit(sheets: dict) -> None:
        header, rows = sheets[title]
        line = [None] * len(header)
        line[0], line[header.index(column)] = label, stated
        rows.append(line)

    return edit


def audit(ctx, folder: Path, out: Path, run_id: str) -> list[dict]:
    open_run(ctx.con, run_id, dt.datetime.now(dt.UTC))
    audit_programme(ctx.con, folder, ctx.programme, out, run_id, hash_key=KEY,
                    feedback_dir=ctx.feedback_dir)
    staged = staged_folder(out, ctx.programme.year, ctx.programme.code)
    findings = json.loads((staged / "findings.json").read_text(encoding="utf-8"))
    return [f for f in findings if f["rule_id"] == TOTAL]


def test_a_county_file_with_a_wrong_total_through_intake_and_audit(tmp_path):
    """The sample's 慰问 sheet (rows 2–4, 400 元 each) of one county, stating 合计 1,300
    under its amounts: accepted, its total kept, and a finding in the audit; the county's v2
    with the right total replaces it, and the finding is resolved."""
    folder = programme_folder(tmp_path)
    ctx = intake_context(tmp_path, folder)
    counties = folder / "counties"
    county_file(counties / "530102.xlsx", total_row("慰问", "合 计", "慰问金额(元)", "1,300"))
    assert run(folder, ctx)["counties/530102.xlsx"].status == "accepted"
    assert ctx.con.execute(
        "SELECT county_code, sheet, column_key, cell, stated, stated_text, source_sheet, "
        "source_row FROM stated_totals"
    ).fetchall() == [("530102", "visits", "amount_yuan", "E5", Decimal("1300"), "1,300", "慰问", 5)]

    (f,) = audit(ctx, folder, tmp_path / "reports", "r1")
    assert f["message"] == "五华区「慰问」：合计行（E5）的慰问金额为 1300 元，而第 2–4 行之和为 1200 元。"
    assert f["evidence"] == [{"text": "合计（E5）慰问金额：填报「1,300」，第 2–4 行之和为 1200 元",
                              "county_code": "530102", "county": "五华区",
                              "file": "counties/530102.xlsx", "sheet": "慰问", "row": 5}]  # fmt: skip
    assert f["amount_yuan"] == 100.0 and f["severity"] == "error"
    stored = ctx.con.execute(
        "SELECT status, fingerprint FROM findings WHERE rule_id = ? AND run_id = 'r1'", [TOTAL]
    ).fetchall()
    assert stored == [("new", f["fingerprint"])]

    county_file(counties / "530102.v2.xlsx", total_row("慰问", "合计", "慰问金额(元)", 1200))
    assert run(folder, ctx)["counties/530102.v2.xlsx"].status == "accepted"
    assert ctx.con.execute("SELECT source_file, stated FROM stated_totals").fetchall() == [
        ("counties/530102.v2.xlsx", Decimal("1200"))
    ]
    assert audit(ctx, folder, tmp_path / "reports", "r2") == []
    assert ctx.con.execute(
        "SELECT count(*) FROM findings WHERE rule_id = ? AND run_id = 'r2'", [TOTAL]
    ).fetchone() == (0,)
    ctx.con.close()


def test_a_resubmission_without_the_sheet_takes_its_totals_away(tmp_path):
    """A sheet of totals only (its data rows all blank) is still the county's: a later
    workbook that leaves the sheet out takes its totals away, in a later run."""
    folder = programme_folder(tmp_path)
    ctx = intake_context(tmp_path, folder)
    counties = folder / "counties"
    county_file(counties / "530102.xlsx", lambda sheets: sheets["经费"][1].clear(),
                total_row("经费", "合计", "使用金额(元)", 99))
    assert run(folder, ctx)["counties/530102.xlsx"].status == "accepted"
    assert ctx.con.execute("SELECT count(*) FROM funds").fetchone() == (0,)
    assert ctx.con.execute("SELECT sheet, stated FROM stated_totals").fetchall() == [
        ("funds", Decimal("99"))
    ]
    # a later run: what the warehouse holds is read anew
    county_file(counties / "530102.v2.xlsx", drop_sheet("经费"))
    assert run(folder, ctx)["counties/530102.v2.xlsx"].status == "accepted"
    assert ctx.con.execute("SELECT count(*) FROM stated_totals").fetchone() == (0,)
    ctx.con.close()
