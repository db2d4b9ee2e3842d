"""County sheets laid out as clerks lay them out (SPEC §1.1 v2), through a real intake run.

Each shape rewrites one valid six-sheet workbook (tests/test_intake.py's) with openpyxl as a
clerk would — a title above the header, a 合计 row, footer lines, merged cells — and the
county's rows must load exactly as the plain workbook's do. tests/clerk/ holds the same kinds
of shapes saved by LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.flows.audit import audit_programme
from jixiao.ingest.layout import locate
from jixiao.ingest.load import open_run
from jixiao.ingest.readers import Columns, RawSheet, read_csv
from jixiao.publish.report import staged_folder
from jixiao.schemas.contracts import Template
from jixiao.schemas.template import TemplateDecl
from tests.test_intake import KEY, LABEL, TITLE, records, run

COUNTY = "530102"
LINE = list[object]
Shape = Callable[[openpyxl.Workbook], None]


def plain() -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for key, rows in records(COUNTY).items():
        sheet = book.create_sheet(TITLE[key])
        sheet.append(list(LABEL[key].values()))
        for row in rows:
            sheet.append(row)
    return book


def loaded(ctx) -> dict[str, list[tuple]]:
    """The county's rows of every sheet table, less lineage, in a stable order."""
    out = {}
    for key in LABEL:
        columns = [c for (c,) in ctx.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND column_name NOT LIKE 'source_%'", [key]).fetchall()]  # fmt: skip
        out[key] = sorted(ctx.con.execute(f"SELECT {', '.join(columns)} FROM {key}").fetchall(),
                          key=repr)  # fmt: skip
    return out


def submit(folder: Path, ctx, book: openpyxl.Workbook, name: str = f"{COUNTY}.xlsx"):
    counties = folder / "counties"
    counties.mkdir(parents=True, exist_ok=True)
    for old in counties.iterdir():
        old.unlink()
    book.save(counties / name)
    return run(folder, ctx)


def insert_above(sheet: Worksheet, *lines: LINE) -> None:
    sheet.insert_rows(1, len(lines))
    for r, line in enumerate(lines, 1):
        for c, value in enumerate(line, 1):
            sheet.cell(r, c, value)


def each(change: Callable[[Worksheet, str], None]) -> Shape:
    def shape(book: openpyxl.Workbook) -> None:
        for sheet in book.worksheets:
            change(sheet, sheet.title)

    return shape


def title_and_unit(sheet: Worksheet, title: str) -> None:
    insert_above(sheet, [f"五华区2022年残疾人就业服务{title}情况统计表"], ["填报单位：五华区残联", None, "单位：元"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=sheet.max_column)


def group_row(sheet: Worksheet, title: str) -> None:
    insert_above(sheet, [f"{title}基本信息"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=2)


def two_level(sheet: Worksheet, title: str) -> None:
    """The last two labels under a group label; the others merged down over both rows."""
    width = sheet.max_column
    labels = [sheet.cell(1, c).value for c in range(1, width + 1)]
    sheet.insert_rows(1)
    for c, label in enumerate(labels, 1):
        sheet.cell(1, c, label if c < width - 1 else None)
        sheet.cell(2, c, None if c < width - 1 else label)
        if c < width - 1:
            sheet.merge_cells(start_row=1, start_column=c, end_row=2, end_column=c)
    sheet.cell(1, width - 1, f"{title}情况")
    sheet.merge_cells(start_row=1, start_column=width - 1, end_row=1, end_column=width)


def untidy_labels(sheet: Worksheet, title: str) -> None:
    for cell in sheet[1]:
        text = str(cell.value)
        if len(text) == 2:
            text = text[0] + "\u3000" + text[1]  # 姓　名
        cell.value = " " + text.replace("(", "（").replace(")", "）").replace("金额", "金额\n") + " "


def numbered_and_remarks(sheet: Worksheet, title: str) -> None:
    """序号 and 备注 columns, the 序号 numbered further than the data, a 栏次 row."""
    sheet.insert_cols(1)
    sheet.cell(1, 1, "序号")
    width = sheet.max_column + 1
    sheet.cell(1, width, "备注")
    data = sheet.max_row
    for r in range(2, data + 4):
        sheet.cell(r, 1, r - 1)
    sheet.insert_rows(2)
    for c in range(1, width + 1):
        sheet.cell(2, c, c)


def with_totals(formula: bool) -> Callable[[Worksheet, str], None]:
    def change(sheet: Worksheet, title: str) -> None:
        last = sheet.max_row
        sheet.cell(last + 1, 1, "合  计")
        for c in range(2, sheet.max_column + 1):
            values = [sheet.cell(r, c).value for r in range(2, last + 1)]
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                letter = sheet.cell(1, c).column_letter
                sheet.cell(last + 1, c, f"=SUM({letter}2:{letter}{last})" if formula else sum(values))

    return change


def footer(sheet: Worksheet, title: str) -> None:
    last = sheet.max_row
    sheet.cell(last + 2, 1, "填表人：张三")
    sheet.cell(last + 2, 3, "审核人：李四")
    sheet.cell(last + 3, 1, "填报日期：2023年1月5日")
    sheet.cell(last + 4, 1, "单位盖章：")


def header_repeated(sheet: Worksheet, title: str) -> None:
    """The header printed again above the last row, as page 2 of a printout."""
    last = sheet.max_row
    sheet.insert_rows(last)
    for cell in sheet[1]:
        sheet.cell(last, cell.column, cell.value)


def remark_like_a_footer(sheet: Worksheet, title: str) -> None:
    """A 备注 column whose last row says 注：…: still a row of data."""
    width = sheet.max_column + 1
    sheet.cell(1, width, "备注")
    sheet.cell(sheet.max_row, width, "注：已电话核实")


def hidden_rows(sheet: Worksheet, title: str) -> None:
    sheet.row_dimensions[2].hidden = True


def merged_dates(book: openpyxl.Workbook) -> None:
    """Two entries of one day's contest: the date merged down over both rows."""
    sheet = book[TITLE["competition_entries"]]
    assert sheet["D2"].value == sheet["D3"].value
    sheet.merge_cells("D2:D3")


def renamed(names: Callable[[int, str], str]) -> Shape:
    def shape(book: openpyxl.Workbook) -> None:
        for i, sheet in enumerate(book.worksheets, 1):
            sheet.title = names(i, sheet.title)

    return shape


def chinese_dates(book: openpyxl.Workbook) -> None:
    sheet = book[TITLE["visits"]]
    sheet["D2"] = "二〇二二年三月十五日"
    sheet["D3"] = "2〇22年6月1日"


def reordered(book: openpyxl.Workbook) -> None:
    sheet = book[TITLE["visits"]]
    sheet.move_range(f"A1:A{sheet.max_row}", cols=sheet.max_column)
    sheet.delete_cols(1)


def in_wan(book: openpyxl.Workbook) -> None:
    """Money headed in 万元, typed in 万元."""
    sheet = book[TITLE["funds"]]
    for c in (2, 3):
        sheet.cell(1, c).value = sheet.cell(1, c).value.replace("(元)", "(万元)")
        for r in range(2, sheet.max_row + 1):
            value = sheet.cell(r, c).value
            yuan = float(str(value).replace(",", ""))
            sheet.cell(r, c).value = yuan / 10000


def combine(*shapes: Shape) -> Shape:
    def shape(book: openpyxl.Workbook) -> None:
        for s in shapes:
            s(book)

    return shape


SHAPES = {
    "title-and-unit-line": each(title_and_unit),
    "group-row": each(group_row),
    "two-level-header": each(two_level),
    "labels-with-breaks-padding-full-width": each(untidy_labels),
    "numbered-remarks-column-numbers": each(numbered_and_remarks),
    "total-row-values": each(with_totals(formula=False)),
    "total-row-formulas-without-cached-values": each(with_totals(formula=True)),
    "footer-lines": each(footer),
    "hidden-rows": each(hidden_rows),
    "header-repeated": each(header_repeated),
    "remark-like-a-footer": combine(each(remark_like_a_footer), each(footer)),
    "merged-dates": merged_dates,
    "chinese-numeral-dates": chinese_dates,
    "sheets-named-with-suffix": renamed(lambda i, t: f"{t}情况表"),
    "sheets-named-sheet-n": renamed(lambda i, t: f"Sheet{i}"),
    "columns-reordered": reordered,
    "money-in-wan": in_wan,
    "title-total-footer-everywhere": combine(each(with_totals(False)), each(title_and_unit),
                                             each(footer)),  # fmt: skip
}


@pytest.fixture
def original(folder, ctx) -> dict[str, list[tuple]]:
    outcomes = submit(folder, ctx, plain())
    assert [o.status for o in outcomes.values()] == ["accepted"]
    rows = loaded(ctx)
    assert all(rows.values())
    return rows


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_clerk_shape_loads_the_same_rows(folder, ctx, original, shape):
    book = plain()
    shape(book)
    outcomes = submit(folder, ctx, book, f"{COUNTY}.v2.xlsx")
    (outcome,) = [o for o in outcomes.values() if o.file.endswith("v2.xlsx")]
    errors = ctx.con.execute("SELECT errors FROM ingest_log WHERE file = ?", [outcome.file]).fetchone()
    assert outcome.status == "accepted", json.loads(errors[0])
    assert loaded(ctx) == original


def test_notes_name_what_was_passed_over(folder, ctx):
    book = plain()
    combine(each(hidden_rows), each(footer))(book)
    submit(folder, ctx, book)
    (notes,) = ctx.con.execute("SELECT notes FROM ingest_log").fetchone()
    text = "\n".join(notes)
    assert "表尾" in text and "隐藏行" in text


def test_hidden_old_sheet_is_not_read_when_the_visible_one_exists(folder, ctx, original):
    book = plain()
    final = book[TITLE["visits"]]
    final.title = f"{TITLE['visits']}(2)"
    old = book.copy_worksheet(final)
    old.title = TITLE["visits"]
    for r in range(2, old.max_row + 1):
        old.cell(r, 5).value = 300  # last year's amount
    old.sheet_state = "hidden"
    outcomes = submit(folder, ctx, book)
    assert [o.status for o in outcomes.values()] == ["accepted"]
    assert loaded(ctx) == original  # 400 each, as the visible sheet says
    (notes,) = ctx.con.execute(
        "SELECT notes FROM ingest_log ORDER BY ingested_at DESC LIMIT 1").fetchone()
    assert any("隐藏" in n and TITLE["visits"] in n for n in notes)


def test_two_visible_sheets_of_one_kind_are_refused_naming_both(folder, ctx):
    book = plain()
    copy = book.copy_worksheet(book[TITLE["visits"]])
    copy.title = f"{TITLE['visits']}(2)"
    (outcome,) = submit(folder, ctx, book).values()
    assert outcome.status == "refused"
    (errors,) = ctx.con.execute("SELECT errors FROM ingest_log").fetchone()
    (problem,) = json.loads(errors)
    assert problem["rule_id"] == "SHEET.AMBIGUOUS"
    assert f"「{TITLE['visits']}」" in problem["message"] and f"「{copy.title}」" in problem["message"]


def test_missing_sheet_refusal_lists_the_sheets_found(folder, ctx):
    book = plain()
    for i, sheet in enumerate(book.worksheets, 1):
        sheet.title = f"Sheet{i}"
        for cell in sheet[1]:
            cell.value = f"列{cell.column}"
    submit(folder, ctx, book)
    (errors,) = ctx.con.execute("SELECT errors FROM ingest_log").fetchone()
    messages = [p["message"] for p in json.loads(errors)]
    assert messages and all("文件中的工作表：「Sheet1」、「Sheet2」" in m for m in messages)


def test_a_wrong_header_says_which_row_was_taken_and_why(folder, ctx):
    book = plain()
    sheet = book[TITLE["visits"]]
    title_and_unit(sheet, TITLE["visits"])
    sheet.cell(3, 5).value = "金额"  # 慰问金额(元) no longer said
    submit(folder, ctx, book)
    (errors,) = ctx.con.execute("SELECT errors FROM ingest_log").fetchone()
    (problem,) = json.loads(errors)
    assert problem["rule_id"] == "COLUMN.MISSING" and problem["row"] == 3
    assert "第 3 行被当作表头" in problem["message"] and "5/6" in problem["message"]


def test_formula_in_a_data_cell_is_refused_but_not_in_a_total_row(folder, ctx):
    book = plain()
    with_totals(formula=True)(book[TITLE["visits"]], TITLE["visits"])
    book[TITLE["visits"]]["E2"] = "=200*2"
    submit(folder, ctx, book)
    (errors,) = ctx.con.execute("SELECT errors FROM ingest_log").fetchone()
    problems = json.loads(errors)
    assert ("SHEET.FORMULA", "E2") in [(p["rule_id"], p["cell"]) for p in problems]
    assert {(p["row"], p["cell"]) for p in problems} == {(2, "E2")}  # not the 合计 row's


def test_totals_are_kept_apart_with_the_rows_they_cover():
    rows = [["a", "1"], ["b", "2"], ["小计", "3"], ["c", "4"], ["小 计", "5"], ["合计", "9"]]
    raw = RawSheet("s", ["名称", "数量"], rows, [2, 3, 4, 5, 6, 7], 1)
    decl = TemplateDecl.model_validate({"sheets": [{"name": "s", "title": "表", "fields": [
        {"name": "what", "title": "名称"}, {"name": "n", "title": "数量", "type": "integer"}]}]})
    table = locate(raw, Template(decl).sheets["s"])
    assert table.frame["what"].to_list() == ["a", "b", "c"]
    assert table.totals.select("row", "from_row", "to_row", "cell", "stated").rows() == [
        (4, 2, 3, "B4", "3"), (6, 5, 5, "B6", "5"), (7, 2, 5, "B7", "9")]  # fmt: skip



@pytest.mark.parametrize("lines", [
    ["名称,数量,备注", "a,1,", "b,2,注：补报", "合 计,3,", "填表人：张三,,"],
    ["名称,数量", "a,1", "名称,数量", "b,2"],  # the header printed again on page two
    ["名称,数量", "a,1", ",,序号 3"],  # text beside the template's columns
    ["名称,数量", "计算机,1", "说明书,2"],  # words a total or footer holds, inside data
    ["名称,数量", "a,1", "b,2"],
])  # fmt: skip
def test_a_csv_read_column_wise_is_laid_out_as_read_row_by_row(tmp_path, lines):
    """The column-wise CSV path rules steps out by the file's text; what it finds must be what
    the row-by-row path finds in the same file."""
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    required = {"constraints": {"required": True}}
    decl = TemplateDecl.model_validate({"sheets": [{"name": "s", "title": "表", "fields": [
        {"name": "what", "title": "名称"} | required,
        {"name": "n", "title": "数量", "type": "integer"} | required]}]})
    sheet = Template(decl).sheets["s"]
    columns, rows = read_csv(path, columns=True), read_csv(path)
    assert isinstance(columns, Columns) and isinstance(rows, RawSheet)
    fast, slow = locate(columns, sheet), locate(rows, sheet)
    assert fast.frame.rows() == slow.frame.rows()
    assert fast.notes == slow.notes
    assert (fast.totals is None) == (slow.totals is None)
    if fast.totals is not None:
        assert fast.totals.rows() == slow.totals.rows()
    assert fast.frame["what"].to_list() == [line.split(",")[0] for line in lines[1:]
                                            if line.split(",")[0] in ("a", "b", "计算机", "说明书")]


def test_a_sheet_with_a_header_and_no_rows_is_read_as_empty(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("名称,数量,备注\n", encoding="utf-8")
    decl = TemplateDecl.model_validate({"sheets": [{"name": "s", "title": "表", "fields": [
        {"name": "what", "title": "名称"}, {"name": "n", "title": "数量", "type": "integer"}]}]})
    for raw in (read_csv(path, columns=True), RawSheet("s", ["名称", "数量", "备注"], [], [], 1)):
        table = locate(raw, Template(decl).sheets["s"])
        assert table.problems == [] and table.frame.height == 0

def test_dates_are_read_as_the_clerk_typed_them(folder, ctx):
    book = plain()
    chinese_dates(book)
    submit(folder, ctx, book)
    dates = sorted(d for (d,) in ctx.con.execute("SELECT visited_on FROM visits").fetchall())
    assert dates[:2] == [dt.date(2022, 3, 15), dt.date(2022, 6, 1)]


def test_an_xls_saved_by_libreoffice_loads_the_same_rows(folder, ctx, original, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: .ci/run installs it as root")
    book = plain()
    combine(each(with_totals(formula=False)), each(title_and_unit), each(footer))(book)
    book.save(tmp_path / f"{COUNTY}.v2.xlsx")
    subprocess.run([soffice, "--headless", "--convert-to", "xls", "--outdir", str(tmp_path),
                    str(tmp_path / f"{COUNTY}.v2.xlsx")], check=True, capture_output=True,
                   timeout=180, env={**os.environ, "HOME": str(tmp_path)})  # fmt: skip
    counties = folder / "counties"
    shutil.copy(tmp_path / f"{COUNTY}.v2.xls", counties)
    outcomes = run(folder, ctx)
    assert outcomes[f"counties/{COUNTY}.v2.xls"].status == "accepted"
    assert loaded(ctx) == original
    assert ctx.con.execute("SELECT count(*) FROM stated_totals").fetchone()[0] > 0


def test_the_audit_report_says_how_files_were_read(folder, ctx, tmp_path):
    book = plain()
    combine(each(hidden_rows), each(footer))(book)
    submit(folder, ctx, book)
    open_run(ctx.con, "r1", dt.datetime.now(dt.UTC))
    audit_programme(ctx.con, folder, ctx.programme, tmp_path / "reports", "r1", hash_key=KEY,
                    feedback_dir=ctx.feedback_dir)
    staged = staged_folder(tmp_path / "reports", ctx.programme.year, ctx.programme.code)
    md = (staged / "report.md").read_text(encoding="utf-8")
    coverage = md[md.index("六、报送覆盖情况"):]
    assert "读取说明" in coverage and "隐藏行" in coverage and "表尾" in coverage
    assert f"counties/{COUNTY}.xlsx" in coverage


def test_text_beside_the_template_columns_is_named_not_dropped_silently(folder, ctx):
    book = plain()
    sheet = book[TITLE["visits"]]
    width = sheet.max_column
    sheet.cell(1, width + 1, "备注")
    sheet.cell(sheet.max_row + 1, width + 1, "张三 另行发放")  # typed beside, not under, the columns
    submit(folder, ctx, book)
    (notes,) = ctx.con.execute("SELECT notes FROM ingest_log").fetchone()
    assert [n for n in notes if "没有内容" in n] == [f"工作表「{TITLE['visits']}」第 5 行在模板各列下没有内容，未作为数据读入"]
