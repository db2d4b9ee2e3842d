"""One county file from disk to the warehouse, or back to its county with reasons (SPEC §1–§4).

Every test builds a programme folder in tmp_path, writes county files with the sample
writers, opens a real DuckDB file and runs ``process()`` over ``submissions()``: no Prefect.
Valid files start from one small valid six-sheet workbook; each bad file changes one thing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from jixiao.ingest import intake
from jixiao.ingest.discover import submissions
from jixiao.ingest.intake import Context, Outcome, process
from jixiao.ingest.load import (
    answer_refusals,
    create_tables,
    insert_rows,
    open_run,
    warehouse_rows,
)
from jixiao.ingest.personal import cert_hash
from jixiao.ingest.validate import ROW
from jixiao.publish.feedback import UNASSIGNED, page_file
from jixiao.sample.generate import PROGRAMME_YAML, SHEETS, write_csv, write_workbook
from jixiao.schemas.contracts import FILE
from jixiao.schemas.identifiers import credit_code_check, org_code_check, resident_id_check
from jixiao.schemas.programme import load_programme
from jixiao.schemas.warehouse import latest_log_entries

KEY = b"k" * 32
CODE = "530100-disability-employment"
TITLE = {key: sheet.title for key, sheet in SHEETS.items()}  # sheet key -> 招聘会 …
LABEL = {key: sheet.labels for key, sheet in SHEETS.items()}  # sheet key -> column key -> label

Sheets = dict[str, tuple[list[str], list[list[object]]]]  # sheet title -> (header, rows)
Edit = Callable[[Sheets], None]


# --- valid records ------------------------------------------------------------------------


def cert(county: str, born: str, seq: int, category: int = 1, grade: int = 2) -> str:
    """残疾人证号: resident ID with its GB 11643 check digit + category + grade."""
    first17 = f"{county}{born}{seq:03d}"
    return f"{first17}{resident_id_check(first17)}{category}{grade}"


def credit(county: str, org8: str) -> str:
    """统一社会信用代码 with valid GB 11714 and GB 32100 check characters."""
    first17 = f"91{county}{org8}{org_code_check(org8)}"
    return first17 + credit_code_check(first17)


def wrong_check(code: str, at: int) -> str:
    """The same identifier with the check character at ``at`` mistyped."""
    return code[:at] + ("1" if code[at] == "0" else "0") + code[at + 1 :]


NAMES = ["张秀英", "李建国", "王桂兰", "赵志刚", "刘淑珍"]


def records(county: str = "530102") -> dict[str, list[list[object]]]:
    """Small valid rows for one county, by sheet key, in template column order."""
    people = [cert(county, f"19{70 + i}0{i + 1}1{i}", 11 + i, i + 1, i % 4 + 1) for i in range(5)]
    return {
        "job_fairs": [
            ["ZP-01", dt.date(2022, 11, 30), "人力资源市场", 3, 50, 100, 30, 21000],
            ["ZP-02", dt.date(2022, 12, 15), "文体中心", 2, 40, 80, 20, 21000],
        ],
        "fair_employers": [
            ["ZP-01", "昆明滇池科技有限公司", credit(county, "A1234567"), 3, "是"],
            ["ZP-01", "云南茶马贸易有限公司", credit(county, "B7654321"), 0, "否"],
            ["ZP-02", "昆明春城物流有限公司", credit(county, "C2468024"), 2, "是"],
        ],
        "visits": [
            [people[0], NAMES[0], "就业困难", dt.date(2022, 3, 15), 400, "现金"],
            [people[1], NAMES[1], "失业", dt.date(2022, 6, 1), 400, "银行转账"],
            [people[2], NAMES[2], "就业困难", dt.date(2022, 11, 30), 400, "现金"],
        ],
        "competition_entries": [
            [people[3], NAMES[3], "电子商务", dt.date(2022, 10, 30), "一等奖"],
            [people[4], NAMES[4], "手工编织", dt.date(2022, 10, 30), "未获奖"],
        ],
        "survey_responses": [
            ["MYD-001", dt.date(2023, 4, 21), *"AAAAAAAAAA"],
            ["MYD-002", dt.date(2023, 4, 22), *"ABACAAEAAD"],
        ],
        "funds": [
            ["job_fairs", 42000, 42000, "记-2022-0001"],
            ["慰问就业困难残疾人和残疾失业人员家庭", 1200, "1,200.00", "记-2022-0002"],
            ["competitions", 11000, 10000, "记-2022-0003"],
        ],
    }


# --- the builder and the one-thing edits --------------------------------------------------


def county_file(path: Path, *edits: Edit, county: str = "530102") -> Path:
    """Write a valid six-sheet workbook (Chinese sheet names and headers), edited by ``edits``."""
    sheets: Sheets = {
        TITLE[key]: (list(LABEL[key].values()), [list(row) for row in rows])
        for key, rows in records(county).items()
    }
    for edit in edits:
        edit(sheets)
    return write_workbook(path, sheets)


def set_cell(title: str, row: int, label: str, value: object) -> Edit:
    """Put ``value`` in Excel row ``row`` (header is row 1), column ``label``."""

    def edit(sheets: Sheets) -> None:
        header, rows = sheets[title]
        rows[row - 2][header.index(label)] = value

    return edit


def drop_row(title: str, row: int) -> Edit:
    return lambda sheets: sheets[title][1].pop(row - 2)


def blank_row(title: str, row: int) -> Edit:
    """An empty row at Excel row ``row``; the rows below move down one."""
    return lambda sheets: sheets[title][1].insert(row - 2, [None] * len(sheets[title][0]))


def drop_sheet(title: str) -> Edit:
    return lambda sheets: sheets.pop(title)


def rename_sheets(sheets: Sheets) -> None:
    """Every sheet named as Excel names new ones, its header row relabelled as nothing the
    template knows: none is a sheet of the template."""
    for i, title in enumerate(list(sheets), 1):
        header, rows = sheets.pop(title)
        sheets[f"Sheet{i}"] = ([f"列{n}" for n in range(len(header))], rows)


def drop_column(title: str, label: str) -> Edit:
    def edit(sheets: Sheets) -> None:
        header, rows = sheets[title]
        i = header.index(label)
        sheets[title] = (header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])

    return edit


def repeat_column(title: str, label: str, alias: str) -> Edit:
    """The column once more at the end, headed by ``alias`` (its key)."""

    def edit(sheets: Sheets) -> None:
        header, rows = sheets[title]
        i = header.index(label)
        sheets[title] = ([*header, alias], [[*r, r[i]] for r in rows])

    return edit


# --- file writers for the refusal table: (counties dir, file stem) -> None -----------------

Writer = Callable[[Path, str], None]


def xlsx(*edits: Edit) -> Writer:
    return lambda counties, stem: county_file(counties / f"{stem}.xlsx", *edits)


def raw_bytes(make: Callable[[], bytes]) -> Writer:
    def write(counties: Path, stem: str) -> None:
        counties.mkdir(parents=True, exist_ok=True)
        (counties / f"{stem}.xlsx").write_bytes(make())

    return write


def truncated(counties: Path, stem: str) -> None:
    path = county_file(counties / f"{stem}.xlsx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def unknown_county(counties: Path, stem: str) -> None:
    county_file(counties / "530199.xlsx")


def with_formula(title: str, cell: str, formula: str, cached: object) -> Writer:
    """A valid workbook with a formula in ``title!cell`` (xlsxwriter write_formula)."""

    def write(counties: Path, stem: str) -> None:
        counties.mkdir(parents=True, exist_ok=True)
        book = xlsxwriter.Workbook(counties / f"{stem}.xlsx")
        for key, rows in records().items():
            sheet = book.add_worksheet(TITLE[key])
            sheet.write_row(0, 0, list(LABEL[key].values()))
            for r, row in enumerate(rows, start=1):
                sheet.write_row(r, 0, [v.isoformat() if isinstance(v, dt.date) else v for v in row])
        book.get_worksheet_by_name(title).write_formula(cell, formula, None, cached)
        book.close()

    return write


def utf16_csv(counties: Path, stem: str) -> None:
    county, dot, version = stem.partition(".")
    write_csv(
        counties / county / f"visits{dot}{version}.csv",
        list(LABEL["visits"].values()),
        records(county)["visits"],
        encoding="utf-16",
    )


VISIT_AMOUNT = LABEL["visits"]["amount_yuan"]

# writer, rule id, sheet, row, column of the problem the county is told about
REFUSALS = [
    pytest.param(raw_bytes(lambda: b""), "FILE.EMPTY", None, None, None, id="empty-file"),
    pytest.param(
        raw_bytes(lambda: "招聘会编号,地点\r\nZP-01,文体中心\r\n".encode()),
        "FILE.NOT_WORKBOOK",
        None,
        None,
        None,
        id="text-renamed-xlsx",
    ),
    pytest.param(truncated, "FILE.CORRUPT", None, None, None, id="truncated-xlsx"),
    # Each sheet may be left out, but not all of them: the template's first is named.
    pytest.param(xlsx(rename_sheets), "SHEET.MISSING", "招聘会", None, None, id="no-template-sheet"),
    pytest.param(
        xlsx(drop_column("慰问", VISIT_AMOUNT)),
        "COLUMN.MISSING",
        "慰问",
        1,
        VISIT_AMOUNT,
        id="column-missing",
    ),
    pytest.param(
        xlsx(repeat_column("慰问", "姓名", "name")),
        "COLUMN.DUPLICATE",
        "慰问",
        1,
        "姓名",
        id="column-label-and-key",
    ),
    pytest.param(unknown_county, "FILE.UNKNOWN_COUNTY", None, None, None, id="unknown-county"),
    pytest.param(
        xlsx(set_cell("慰问", 3, "慰问日期", dt.date(2021, 12, 28))),
        "VALUE.OUTSIDE_YEAR",
        "慰问",
        3,
        "慰问日期",
        id="date-in-2021",
    ),
    pytest.param(
        xlsx(set_cell("慰问", 2, VISIT_AMOUNT, -400)),
        "VALUE.RANGE",
        "慰问",
        2,
        VISIT_AMOUNT,
        id="negative-money",
    ),
    pytest.param(
        xlsx(set_cell("经费", 3, "使用金额(元)", "四百块")),
        "VALUE.TYPE",
        "经费",
        3,
        "使用金额(元)",
        id="money-in-words",
    ),
    pytest.param(
        xlsx(set_cell("招聘会", 3, "招聘会编号", "ZP-01")),
        "VALUE.DUPLICATE_KEY",
        "招聘会",
        3,
        "招聘会编号",
        id="duplicate-fair-id",
    ),
    pytest.param(
        xlsx(set_cell("满意度问卷", 3, "问卷编号", "MYD-001")),
        "VALUE.DUPLICATE_KEY",
        "满意度问卷",
        3,
        "问卷编号",
        id="duplicate-response-id",
    ),
    pytest.param(
        xlsx(set_cell("慰问", 3, "残疾人证号", wrong_check(records()["visits"][1][0], 17))),
        "VALUE.CHECK_DIGIT",
        "慰问",
        3,
        "残疾人证号",
        id="cert-no-check-digit",
    ),
    pytest.param(
        xlsx(
            set_cell(
                "参会用人单位",
                4,
                "统一社会信用代码",
                wrong_check(records()["fair_employers"][2][2], 17),
            )
        ),
        "VALUE.CHECK_DIGIT",
        "参会用人单位",
        4,
        "统一社会信用代码",
        id="credit-code-check-digit",
    ),
    pytest.param(
        with_formula("慰问", "E2", "=200*2", 400),
        "SHEET.FORMULA",
        "慰问",
        2,
        VISIT_AMOUNT,
        id="formula-cell",
    ),
    pytest.param(utf16_csv, "FILE.ENCODING", None, None, None, id="utf16-csv"),
    pytest.param(
        xlsx(set_cell("参会用人单位", 3, "招聘会编号", "ZP-09")),
        "VALUE.FOREIGN_KEY",
        "参会用人单位",
        3,
        "招聘会编号",
        id="employer-at-unknown-fair",
    ),
    pytest.param(
        xlsx(set_cell("招聘会", 2, "达成就业意向人数", 101)),
        "VALUE.CROSS_FIELD",
        "招聘会",
        2,
        "达成就业意向人数",
        id="matches-exceed-jobseekers",
    ),
    pytest.param(
        xlsx(set_cell("慰问", 4, "发放方式", "支付宝")),
        "VALUE.ENUM",
        "慰问",
        4,
        "发放方式",
        id="paid-via-alipay",
    ),
    pytest.param(
        xlsx(set_cell("招聘会", 2, "地点", None)),
        "VALUE.REQUIRED",
        "招聘会",
        2,
        "地点",
        id="venue-empty",
    ),
]


# --- running intake -----------------------------------------------------------------------


def programme_folder(root: Path) -> Path:
    """<root>/raw/2022/530100-disability-employment/ with the sample programme.yaml, no counties."""
    path = root / "raw" / "2022" / CODE
    path.mkdir(parents=True)
    shutil.copyfile(PROGRAMME_YAML, path / "programme.yaml")
    return path


def context(root: Path, folder: Path) -> Context:
    """Intake of the folder's programme into a new warehouse under ``root``."""
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    programme = load_programme(folder / "programme.yaml")
    create_tables(con, programme)
    return Context(programme, con, hash_key=KEY, run_id="t", feedback_dir=root / "feedback",
                   lang="zh")  # fmt: skip


def run(folder: Path, ctx: Context) -> dict[str, Outcome]:
    """process() every submission in the folder; outcomes by file (relative path)."""
    return {o.file: o for batch in process(submissions(folder, ctx.programme.county_template), ctx) for o in batch}


def query(ctx: Context, sql: str, *params: object) -> list[dict]:
    cursor = ctx.con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def log(ctx: Context) -> dict[str, dict]:
    rows = query(
        ctx,
        "SELECT file, county_code, version, sha256, status, rows_loaded, error_count, "
        "errors, feedback_file, superseded_by FROM ingest_log",
    )
    return {row["file"]: row | {"errors": json.loads(row["errors"])} for row in rows}


def pages(ctx: Context) -> list[Path]:
    """Every page intake wrote: the counties' under feedback/, and beside it under unassigned/
    the operator's, for files whose county cannot be told."""
    roots = (ctx.feedback_dir, ctx.feedback_dir.parent / UNASSIGNED)
    return [page for root in roots for page in root.rglob("*.md")]


def count(ctx: Context, table: str, county: str = "530102") -> int:
    return ctx.con.execute(
        f"SELECT count(*) FROM {table} WHERE county_code = ?", [county]
    ).fetchone()[0]


def loaded(ctx: Context, county: str = "530102") -> dict[str, int]:
    return {key: count(ctx, key, county) for key in SHEETS}


VALID_COUNTS = {key: len(rows) for key, rows in records().items()}


def assert_refused(ctx: Context, outcome: Outcome, rule_id, sheet, row, column) -> None:
    """Refused, logged with the rule and location, and explained in the county's feedback."""
    assert outcome.status == "refused"
    entry = log(ctx)[outcome.file]
    assert (entry["status"], entry["rows_loaded"]) == ("refused", 0)
    assert entry["error_count"] == len(entry["errors"]) >= 1
    assert {e["rule_id"] for e in entry["errors"]} == {rule_id}
    where = [(e["sheet"], e["row"], e["column"]) for e in entry["errors"]]
    assert (sheet, row, column) in where
    problem = entry["errors"][where.index((sheet, row, column))]
    message = problem["message"]
    assert message.endswith("。") and message.count("。") == 1, message  # one sentence
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message  # in Chinese
    feedback = page_file(ctx.feedback_dir, entry["feedback_file"]).read_text(encoding="utf-8")
    assert feedback.startswith(f"# 报送文件退回说明：{outcome.file}\n")
    assert f"| {sheet or ''} | {row or ''} | {column or ''} | " in feedback
    assert message in feedback


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(("write", "rule_id", "sheet", "row", "column"), REFUSALS)
def test_bad_file_is_refused_with_reasons(folder, ctx, write, rule_id, sheet, row, column):
    write(folder / "counties", "530102")
    [outcome] = run(folder, ctx).values()
    assert_refused(ctx, outcome, rule_id, sheet, row, column)
    assert sum(loaded(ctx, outcome.county).values()) == 0
    # A county's page is in its folder; one whose county cannot be told is the operator's.
    root = ctx.feedback_dir / outcome.county if outcome.county else ctx.feedback_dir.parent / UNASSIGNED
    flat = "_".join(Path(outcome.file).parts[1:])  # the file's path under counties/
    # The page, as HTML too, and the marked copy of a file whose cells were read.
    marked = [flat + ".标注.xlsx"] if sheet and row else []
    assert pages(ctx) == [root / "2022" / CODE / (flat + ".md")]
    assert sorted(p.name for p in (root / "2022" / CODE).iterdir()) == sorted(
        [flat + ".md", flat + ".html", *marked]
    )


def test_bad_files_do_not_stop_the_other_counties(folder, ctx):
    counties = folder / "counties"
    others = [c for c in ctx.programme.counties if c != "530102"]
    expected = {}
    for i, case in enumerate(REFUSALS):
        write, rule_id, *where = case.values
        version = i // len(others) + 1
        stem = others[i % len(others)] + (f".v{version}" if version > 1 else "")
        before = set(counties.rglob("*"))
        write(counties, stem)
        [new] = {p for p in counties.rglob("*") if p.is_file()} - before
        expected[new.relative_to(folder).as_posix()] = (rule_id, *where)
    county_file(counties / "530102.xlsx")

    outcomes = run(folder, ctx)

    assert outcomes.pop("counties/530102.xlsx").status == "accepted"
    assert loaded(ctx) == VALID_COUNTS
    assert set(outcomes) == set(expected)
    for file, outcome in outcomes.items():
        assert_refused(ctx, outcome, *expected[file])
    assert len(log(ctx)) == len(REFUSALS) + 1
    assert ctx.con.execute("SELECT count(DISTINCT county_code) FROM visits").fetchone() == (1,)


# --- what counties really send is accepted -----------------------------------------------


def test_gb18030_csv_without_bom_is_accepted_with_chinese_intact(folder, ctx):
    county = folder / "counties" / "530103"
    for key, rows in records("530103").items():
        write_csv(county / f"{key}.csv", list(LABEL[key].values()), rows, encoding="gb18030")
    data = (county / "visits.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    outcomes = run(folder, ctx)

    assert {o.status for o in outcomes.values()} == {"accepted"}
    assert loaded(ctx, "530103") == VALID_COUNTS
    assert query(ctx, "SELECT venue FROM job_fairs ORDER BY fair_id") == [
        {"venue": "人力资源市场"},
        {"venue": "文体中心"},
    ]
    assert [r["employer_name"] for r in query(ctx, "SELECT * FROM fair_employers")] == [
        row[1] for row in records()["fair_employers"]
    ]
    visits = query(ctx, "SELECT category, paid_via, source_sheet FROM visits ORDER BY source_row")
    assert [(v["category"], v["paid_via"]) for v in visits] == [
        (row[2], row[5]) for row in records()["visits"]
    ]
    assert {v["source_sheet"] for v in visits} == {"visits"}
    assert query(ctx, "SELECT event, award FROM competition_entries ORDER BY source_row") == [
        {"event": "电子商务", "award": "一等奖"},
        {"event": "手工编织", "award": "未获奖"},
    ]
    assert [r["budget_line"] for r in query(ctx, "SELECT * FROM funds ORDER BY source_row")] == [
        "job_fairs",
        "visits",
        "competitions",
    ]


def test_money_in_wan_is_exact(folder, ctx):
    county_file(folder / "counties" / "530102.xlsx", set_cell("慰问", 2, VISIT_AMOUNT, "0.04万"))
    [outcome] = run(folder, ctx).values()
    assert outcome.status == "accepted"
    rows = query(ctx, "SELECT source_row, amount_yuan FROM visits ORDER BY source_row")
    assert rows[0] == {"source_row": 2, "amount_yuan": Decimal("400.00")}
    assert ctx.con.execute("SELECT sum(spent_yuan) FROM funds").fetchone() == (Decimal("53200.00"),)


def test_blank_column_the_template_does_not_know(folder, ctx):
    """A 备注 column left blank in every row is read as text, not as a column of no type."""

    def remarks(sheets: Sheets) -> None:
        header, rows = sheets["慰问"]
        sheets["慰问"] = ([*header, "备注"], [[*row, None] for row in rows])

    county_file(folder / "counties" / "530102.xlsx", remarks)
    [outcome] = run(folder, ctx).values()
    assert outcome.status == "accepted"
    assert loaded(ctx) == VALID_COUNTS


def test_county_given_by_name(folder, ctx):
    county_file(folder / "counties" / "五华区.xlsx")
    [outcome] = run(folder, ctx).values()
    assert (outcome.status, outcome.county) == ("accepted", "530102")
    assert log(ctx)["counties/五华区.xlsx"]["county_code"] == "530102"
    assert loaded(ctx, "530102") == VALID_COUNTS


# --- resubmissions ------------------------------------------------------------------------

V2 = (
    drop_row("慰问", 4),
    set_cell("慰问", 2, VISIT_AMOUNT, 500),
    set_cell("慰问", 3, VISIT_AMOUNT, 500),
)


def visit_totals(ctx: Context) -> tuple:
    return ctx.con.execute(
        "SELECT count(*), sum(amount_yuan), any_value(source_file) FROM visits "
        "WHERE county_code = '530102'"
    ).fetchone()


def test_v2_replaces_v1(folder, ctx):
    counties = folder / "counties"
    county_file(counties / "530102.xlsx")
    assert run(folder, ctx)["counties/530102.xlsx"].status == "accepted"
    assert visit_totals(ctx) == (3, Decimal("1200.00"), "counties/530102.xlsx")

    county_file(counties / "530102.v2.xlsx", *V2)
    outcomes = run(folder, ctx)

    assert outcomes["counties/530102.xlsx"].status == "skipped"
    assert outcomes["counties/530102.v2.xlsx"].status == "accepted"
    assert visit_totals(ctx) == (2, Decimal("1000.00"), "counties/530102.v2.xlsx")
    assert loaded(ctx) == VALID_COUNTS | {"visits": 2}
    for key in SHEETS:  # every sheet now comes from v2 alone
        assert query(ctx, f"SELECT DISTINCT source_file FROM {key}") == [
            {"source_file": "counties/530102.v2.xlsx"}
        ]
    entries = log(ctx)
    assert entries["counties/530102.xlsx"]["status"] == "superseded"
    assert entries["counties/530102.xlsx"]["superseded_by"] == "counties/530102.v2.xlsx"
    assert entries["counties/530102.v2.xlsx"]["status"] == "accepted"


def test_refused_v2_leaves_v1_in_place(folder, ctx):
    counties = folder / "counties"
    county_file(counties / "530102.xlsx")
    run(folder, ctx)
    county_file(counties / "530102.v2.xlsx", *V2, set_cell("慰问", 2, VISIT_AMOUNT, "四百块"))

    assert run(folder, ctx)["counties/530102.v2.xlsx"].status == "refused"

    assert visit_totals(ctx) == (3, Decimal("1200.00"), "counties/530102.xlsx")
    assert loaded(ctx) == VALID_COUNTS
    entries = log(ctx)
    assert entries["counties/530102.xlsx"]["status"] == "accepted"
    assert entries["counties/530102.xlsx"]["superseded_by"] is None
    assert entries["counties/530102.v2.xlsx"]["status"] == "refused"


def test_an_accepted_file_answers_the_refusals_before_it(folder, ctx):
    """A county's refusals that a file after it (a higher version; the same version in a later
    run) is accepted for are superseded by it, sheet by sheet; a file whose county cannot be
    told, by the same bytes accepted under a county's name. Nothing else is."""
    counties = folder / "counties"
    bad = set_cell("慰问", 2, VISIT_AMOUNT, "四百块")
    county_file(counties / "530102.xlsx", bad)
    county_file(counties / "530102.v2.xlsx", bad, *V2)
    county_file(counties / "530102.v3.xlsx")
    county_file(counties / "530102.v4.xlsx", bad)  # after the accepted v3: stands
    utf16_csv(counties, "530112")  # visits refused; funds accepted: visits stands
    write_csv(counties / "530112/funds.csv", list(LABEL["funds"].values()), records()["funds"])
    shutil.copy(county_file(counties / "报表（终稿）.xlsx", county="530103"),
                counties / "530103.xlsx")  # the operator saved it under its county's name
    county_file(counties / "五华区盘龙区合并报表.xlsx", county="530111")  # nobody's, accepted nowhere
    county_file(counties / "西山区.xlsx", bad)  # 530112 again, refused in the first run

    def settle(run_id: str) -> dict[str, tuple[str, str | None]]:
        open_run(ctx.con, run_id, dt.datetime.now(dt.UTC))
        run(folder, replace(ctx, run_id=run_id))
        answer_refusals(ctx.con, ctx.programme)
        latest = query(ctx, f"SELECT file, status, superseded_by FROM {latest_log_entries('file')}")
        return {e["file"]: (e["status"], e["superseded_by"]) for e in latest}

    assert settle("first") == {
        "counties/530102.xlsx": ("superseded", "counties/530102.v3.xlsx"),
        "counties/530102.v2.xlsx": ("superseded", "counties/530102.v3.xlsx"),
        "counties/530102.v3.xlsx": ("accepted", None),
        "counties/530102.v4.xlsx": ("refused", None),
        "counties/530112/visits.csv": ("refused", None),
        "counties/530112/funds.csv": ("accepted", None),
        "counties/530103.xlsx": ("accepted", None),
        "counties/报表（终稿）.xlsx": ("superseded", "counties/530103.xlsx"),
        "counties/五华区盘龙区合并报表.xlsx": ("refused", None),
        "counties/西山区.xlsx": ("refused", None),  # beside 530112's CSVs, in the same run
    }
    # The next night 西山区 (530112) sends its whole workbook: it answers its earlier refusals.
    county_file(counties / "530112.xlsx", county="530112")
    after = settle("second")
    assert after["counties/530112.xlsx"] == ("accepted", None)
    assert after["counties/西山区.xlsx"] == after["counties/530112/visits.csv"] == (
        "superseded", "counties/530112.xlsx")
    assert after["counties/530102.v4.xlsx"] == ("refused", None)


def test_unchanged_file_is_skipped(folder, ctx):
    county_file(folder / "counties" / "530102.xlsx")
    first = run(folder, ctx)["counties/530102.xlsx"]
    second = run(folder, ctx)["counties/530102.xlsx"]
    assert (first.status, second.status) == ("accepted", "skipped")
    assert second.sha256 == first.sha256
    assert ctx.con.execute("SELECT count(*) FROM ingest_log").fetchone() == (1,)
    assert loaded(ctx) == VALID_COUNTS


def test_refused_file_unchanged_is_skipped_too(folder, ctx):
    county_file(folder / "counties" / "530102.xlsx", set_cell("慰问", 2, VISIT_AMOUNT, -1))
    assert run(folder, ctx)["counties/530102.xlsx"].status == "refused"
    assert run(folder, ctx)["counties/530102.xlsx"].status == "skipped"
    assert ctx.con.execute("SELECT count(*) FROM ingest_log").fetchone() == (1,)


def test_late_v1_does_not_overwrite_v2(folder, ctx):
    counties = folder / "counties"
    county_file(counties / "530102.v2.xlsx", *V2)
    assert run(folder, ctx)["counties/530102.v2.xlsx"].status == "accepted"

    county_file(counties / "530102.xlsx")
    outcome = run(folder, ctx)["counties/530102.xlsx"]

    assert (outcome.status, outcome.rows) == ("superseded", 0)
    assert visit_totals(ctx) == (2, Decimal("1000.00"), "counties/530102.v2.xlsx")
    entries = log(ctx)
    assert entries["counties/530102.xlsx"]["status"] == "superseded"
    assert entries["counties/530102.xlsx"]["superseded_by"] == "counties/530102.v2.xlsx"
    assert entries["counties/530102.xlsx"]["rows_loaded"] == 0
    assert entries["counties/530102.v2.xlsx"]["status"] == "accepted"


# --- lineage and personal data ------------------------------------------------------------

# A column that tells each sheet's rows apart (cert_no is stored as its keyed hash).
IDENTITY = {
    "job_fairs": "fair_id",
    "fair_employers": "credit_code",
    "visits": "cert_no",
    "competition_entries": "cert_no",
    "survey_responses": "response_id",
    "funds": "voucher_no",
}


def test_lineage_names_file_sheet_and_excel_row(folder, ctx):
    path = county_file(
        folder / "counties" / "530102.xlsx", blank_row("慰问", 3), blank_row("经费", 2)
    )
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    excel_rows = {"visits": [2, 4, 5], "funds": [3, 4, 5]}  # the blank rows keep their number
    [outcome] = run(folder, ctx).values()
    assert (outcome.status, outcome.sha256) == ("accepted", sha)

    for key, rows in records().items():
        column = IDENTITY[key]
        position = list(LABEL[key]).index(column)
        idents = [row[position] for row in rows]
        if column == "cert_no":
            column, idents = "cert_hash", [cert_hash(KEY, c) for c in idents]
        numbers = excel_rows.get(key, range(2, len(rows) + 2))
        expected = {
            ident: ("counties/530102.xlsx", sha, TITLE[key], number)
            for ident, number in zip(idents, numbers, strict=True)
        }
        got = {
            r[column]: (r["source_file"], r["source_sha256"], r["source_sheet"], r["source_row"])
            for r in query(ctx, f"SELECT * FROM {key}")
        }
        assert got == expected, key


def test_warehouse_keeps_the_age_on_the_date_not_the_birth_date(folder, ctx):
    """SPEC §4: of the birth date a certificate carries, the warehouse keeps only the age in
    whole years on the sheet's date (慰问日期, 比赛日期): a birthday on the day counts."""
    people = {  # sheet title, row (its date in records()) -> birth date, age on that date
        ("慰问", 2): ("19620315", 60),  # 2022-03-15: the 60th birthday
        ("慰问", 3): ("19620602", 59),  # 2022-06-01: the day before it
        ("慰问", 4): ("20061201", 15),  # 2022-11-30
        ("竞赛", 2): ("20061030", 16),  # 2022-10-30: the 16th birthday
        ("竞赛", 3): ("19611031", 60),  # 2022-10-30: 61 only the next day
    }
    certs = {at: cert("530102", born, 20 + i) for i, (at, (born, _)) in enumerate(people.items())}
    county_file(folder / "counties" / "530102.xlsx",
                *(set_cell(title, row, "残疾人证号", c) for (title, row), c in certs.items()))  # fmt: skip
    assert run(folder, ctx)["counties/530102.xlsx"].status == "accepted"
    expected = {cert_hash(KEY, certs[at]): age for at, (_, age) in people.items()}
    got = {r["cert_hash"]: r["age"] for key in ("visits", "competition_entries")
           for r in query(ctx, f"SELECT cert_hash, age FROM {key}")}  # fmt: skip
    assert got == expected
    births = {dt.datetime.strptime(born, "%Y%m%d").date() for born, _ in people.values()}
    dates = query(ctx, "SELECT table_name, column_name FROM information_schema.columns "
                       "WHERE data_type = 'DATE'")  # fmt: skip
    assert not [c for c in dates if "birth" in c["column_name"]]
    for c in dates:
        values = ctx.con.execute(f'SELECT DISTINCT "{c["column_name"]}" FROM {c["table_name"]}')
        assert not births & {v for (v,) in values.fetchall()}, c


def test_no_clear_personal_data_in_warehouse_or_feedback(folder, ctx):
    counties = folder / "counties"
    county_file(counties / "530102.xlsx")
    for key, rows in records("530103").items():
        write_csv(counties / "530103" / f"{key}.csv", list(LABEL[key].values()), rows)
    bad = wrong_check(records()["visits"][1][0], 17)
    county_file(counties / "530111.xlsx", set_cell("慰问", 3, "残疾人证号", bad))
    county_file(counties / "530112.xlsx", set_cell("慰问", 2, "姓名", None))
    county_file(counties / "530113.xlsx", set_cell("竞赛", 3, "获奖等次", "特等奖"))
    for i, case in enumerate(REFUSALS):  # every way a file can be refused
        case.values[0](counties, f"530115.v{i + 1}")
    outcomes = run(folder, ctx)
    assert outcomes["counties/530102.xlsx"].status == "accepted"
    assert {outcomes[f"counties/530103/{key}.csv"].status for key in SHEETS} == {"accepted"}
    assert loaded(ctx, "530103") == VALID_COUNTS

    certs = [
        row[0]
        for c in ("530102", "530103")
        for k in ("visits", "competition_entries")
        for row in records(c)[k]
    ] + [bad]
    secrets = {c[:18] for c in certs} | set(NAMES)  # the resident ID alone is personal too

    text_columns = query(
        ctx,
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type IN ('VARCHAR', 'JSON', 'VARCHAR[]')",
    )
    assert {"ingest_log"} < {c["table_name"] for c in text_columns}
    for col in text_columns:
        table, column = col["table_name"], col["column_name"]
        values = ctx.con.execute(f'SELECT CAST("{column}" AS VARCHAR) FROM {table}').fetchall()
        for (value,) in values:
            leaked = [s for s in secrets if value and s in value]
            assert not leaked, f"{table}.{column}: {leaked}"

    feedback = {p: p.read_text(encoding="utf-8") for p in pages(ctx)}
    assert len(feedback) == len(REFUSALS) + 3
    for path, text in feedback.items():
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{path}: {leaked}"
    masked = bad[:6] + "*" * 10 + bad[-4:]
    assert masked in (ctx.feedback_dir / "530111" / "2022" / CODE / "530111.xlsx.md").read_text()
    assert masked in json.dumps(log(ctx)["counties/530111.xlsx"]["errors"], ensure_ascii=False)


def test_formula_in_a_personal_column_is_masked(folder, ctx):
    cert_no = records()["visits"][0][0]
    with_formula("慰问", "A2", f'="{cert_no}"', cert_no)(folder / "counties", "530102")
    [outcome] = run(folder, ctx).values()
    assert_refused(ctx, outcome, "SHEET.FORMULA", "慰问", 2, "残疾人证号")
    entry = log(ctx)[outcome.file]
    feedback = (ctx.feedback_dir / entry["feedback_file"]).read_text(encoding="utf-8")
    assert cert_no[:18] not in json.dumps(entry["errors"], ensure_ascii=False)
    assert cert_no[:18] not in feedback


def test_file_changed_back_to_earlier_content_is_loaded_again(folder, ctx):
    path = folder / "counties" / "530102.xlsx"
    county_file(path)
    run(folder, ctx)
    county_file(path, set_cell("慰问", 2, VISIT_AMOUNT, 500))
    assert run(folder, ctx)["counties/530102.xlsx"].status == "accepted"
    assert visit_totals(ctx)[:2] == (3, Decimal("1300.00"))

    county_file(path)  # the county sends its first file again, same name
    assert run(folder, ctx)["counties/530102.xlsx"].status == "accepted"
    assert visit_totals(ctx)[:2] == (3, Decimal("1200.00"))


def test_each_refused_file_keeps_its_own_feedback(folder, ctx):
    for county in ("530198", "530199"):
        utf16_csv(folder / "counties", county)
    outcomes = run(folder, ctx)
    assert {o.status for o in outcomes.values()} == {"refused"}
    files = {e["feedback_file"] for e in log(ctx).values()}
    assert len(files) == 2
    for file, entry in log(ctx).items():
        text = page_file(ctx.feedback_dir, entry["feedback_file"]).read_text(encoding="utf-8")
        assert text.startswith(f"# 报送文件退回说明：{file}\n")
        assert "无法从文件名识别它属于哪个区县" in text and ".v2." not in text


SAMPLE = PROGRAMME_YAML.parent.parent / "data/raw/2022/530100-disability-employment"


def _ingest_sample(path: Path) -> tuple[list[tuple], dict[str, list[tuple]]]:
    """The bundled sample ingested into a new warehouse: outcomes, and every table's rows."""
    con = duckdb.connect(str(path))
    programme = load_programme(SAMPLE / "programme.yaml")
    create_tables(con, programme)
    ctx = Context(programme, con, KEY, "t", path.parent / "fb")
    subs = submissions(SAMPLE, programme.county_template)
    outcomes = [tuple(vars(o).values()) for b in process(subs, ctx) for o in b]
    tables = {
        table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in SHEETS
    } | {"ingest_log": con.execute("SELECT * EXCLUDE (ingested_at) FROM ingest_log ORDER BY ALL")
         .fetchall(),
         "name_hashes": con.execute("SELECT * FROM name_hashes ORDER BY ALL").fetchall()}  # fmt: skip
    con.close()
    return outcomes, tables


def test_batches_and_reader_processes_change_nothing(tmp_path, monkeypatch):
    """Files decided in one batch or in batches of three (v1 and v2 of a county apart), read
    here or by reader processes: the same outcomes, the same rows, the same ingest_log."""
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    whole = _ingest_sample(tmp_path / "a" / "w.duckdb")
    monkeypatch.setattr(intake, "BATCH_FILES", 3)
    monkeypatch.setattr(intake, "POOL_FROM", 1)
    split = _ingest_sample(tmp_path / "b" / "w.duckdb")
    assert whole == split
    assert {o[4] for o in whole[0]} == {"accepted", "refused"} and whole[1]["visits"]
    assert any("superseded" in row for row in whole[1]["ingest_log"])  # v1, by v2
    # A name is stored once however many batches hold it (each batch hashes only the names
    # earlier batches of the run did not store), as its HMAC-SHA256 under the name key: the
    # values warehouses already hold. 530103.xlsx is accepted; its people are named in it.
    stored = [h for _, _, h in split[1]["name_hashes"]]
    assert len(stored) == len(set(stored))
    book = CalamineWorkbook.from_path(str(SAMPLE / "counties/530103.xlsx"))
    people = {row[1] for sheet in ("visits", "competition_entries")
              for row in book.get_sheet_by_name(sheet).to_python()[1:]}  # fmt: skip
    name_key = hmac.new(KEY, b"jixiao:name", hashlib.sha256).digest()
    assert people and {hmac.new(name_key, p.encode(), hashlib.sha256).hexdigest()
                       for p in people} <= set(stored)  # fmt: skip


def test_a_batch_beyond_a_row_group_loads_whole_in_order_and_hashed(tmp_path):
    """A batch of 300,000 visits goes into DuckDB in row-group-sized chunks, scanned in
    parallel: every row arrives once and in the batch's order, each ID as its HMAC-SHA256 and
    the age on its visit's date, as the rows of a small batch do."""
    programme = load_programme(SAMPLE / "programme.yaml")
    sheet = programme.county_template.sheets["visits"]
    n = 300_000  # two full row groups and part of a third
    people = [cert("530102", f"19{50 + i % 40}0{1 + i % 9}15", i % 1000) for i in range(n)]
    frame = pl.DataFrame({
        "cert_no": people, "name": ["张三"] * n, "category": ["一户多残"] * n,
        "visited_on": [dt.date(2022, 3, 1) + dt.timedelta(days=i % 300) for i in range(n)],
        "amount_yuan": [Decimal(i % 1000) / 4 for i in range(n)], "paid_via": ["现金"] * n,
        FILE: [i // 100_000 for i in range(n)], ROW: range(2, n + 2),
    }, schema_overrides={"amount_yuan": pl.Decimal(18, 2), FILE: pl.Int64, ROW: pl.Int64})  # fmt: skip
    lineage = pl.DataFrame({
        FILE: [0, 1, 2], "programme_code": CODE, "year": 2022, "county_code": "530102",
        "source_file": [f"counties/530102.v{v}.csv" for v in (1, 2, 3)],
        "source_sha256": "0" * 64, "source_sheet": "慰问",
    }, schema_overrides={FILE: pl.Int64, "year": pl.Int32})  # fmt: skip
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        create_tables(con, programme)
        insert_rows(con, sheet, warehouse_rows(frame, sheet, lineage), KEY)
        stored = con.execute(
            "SELECT cert_hash, age, amount_yuan, source_file, source_row FROM visits"
        ).fetchall()
    assert len(stored) == n
    assert [r[4] for r in stored] == list(range(2, n + 2))  # once each, in the batch's order
    for i in (0, 122_879, 122_880, 245_760, n - 1):  # either side of each chunk's edge
        born = dt.date(int(people[i][6:10]), int(people[i][10:12]), 15)
        visited = dt.date(2022, 3, 1) + dt.timedelta(days=i % 300)
        age = visited.year - born.year - ((visited.month, visited.day) < (born.month, born.day))
        assert stored[i] == (cert_hash(KEY, people[i]), age, Decimal(i % 1000) / 4,
                             f"counties/530102.v{i // 100_000 + 1}.csv", i + 2)  # fmt: skip


def test_symlinked_file_is_refused_without_reading_its_target(folder, ctx, tmp_path):
    outside = county_file(tmp_path / "elsewhere.xlsx")  # a valid workbook outside the folder
    (folder / "counties").mkdir(exist_ok=True)
    (folder / "counties" / "530102.xlsx").symlink_to(outside)
    outcome = run(folder, ctx)["counties/530102.xlsx"]
    assert_refused(ctx, outcome, "FILE.UNSAFE", None, None, None)
    recorded = log(ctx)["counties/530102.xlsx"]["sha256"]
    assert recorded == hashlib.sha256(os.fsencode(outside)).hexdigest()  # the link, not the file
    assert recorded != hashlib.sha256(outside.read_bytes()).hexdigest()
    assert loaded(ctx) == dict.fromkeys(VALID_COUNTS, 0)


def test_a_clerk_named_file_is_the_county_its_name_contains(folder, ctx):
    """盘龙区2022年残疾人就业服务报表.xlsx is 盘龙区's; a name with two counties is nobody's."""
    counties = folder / "counties"
    county_file(counties / "盘龙区2022年残疾人就业服务报表.xlsx", county="530103")
    county_file(counties / "（530102）报表.v2.xlsx")
    county_file(counties / "五华区盘龙区合并报表.xlsx")
    county_file(counties / "20225301021.xlsx")  # digits around a code are not the code
    outcomes = run(folder, ctx)
    assert outcomes["counties/盘龙区2022年残疾人就业服务报表.xlsx"].county == "530103"
    assert outcomes["counties/盘龙区2022年残疾人就业服务报表.xlsx"].status == "accepted"
    assert outcomes["counties/（530102）报表.v2.xlsx"].county == "530102"
    assert loaded(ctx, "530103") == VALID_COUNTS
    for name in ("五华区盘龙区合并报表.xlsx", "20225301021.xlsx"):
        assert outcomes[f"counties/{name}"].status == "refused"
        assert log(ctx)[f"counties/{name}"]["errors"][0]["rule_id"] == "FILE.UNKNOWN_COUNTY"
