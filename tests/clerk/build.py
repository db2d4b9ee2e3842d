"""A corpus of county workbooks laid out as county clerks lay them out (issue 12).

One accepted workbook of the bundled sample is written again with openpyxl in each layout
clerks send (title rows, 合计 rows, footers, merged cells, two-level headers, renamed and
hidden sheets …), then re-saved by LibreOffice, so that the committed files are what a real
spreadsheet application writes rather than what this project's own writers write.
``expected.yaml`` is written beside them from the same declarations (`VARIANTS`): for each
file, that reading it gives exactly the original's rows, or that it is refused and what the
refusal must say.

Run by hand from the repository root, with LibreOffice (``soffice``) on the PATH:

    .venv/bin/python tests/clerk/build.py

tests/test_clerk_layouts.py reads the committed files, and also writes the same variants of
another county with openpyxl alone (`make`), so that the shapes are checked where LibreOffice
is missing.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl
import yaml
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.ingest.normalise import parse_money
from jixiao.sample.generate import sample_folder
from jixiao.schemas.contracts import Sheet, Template
from jixiao.schemas.programme import load_programme

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SAMPLE = sample_folder(REPO / "data" / "raw")
WORKBOOKS = HERE / "workbooks"
EXPECTED = HERE / "expected.yaml"
# The corpus's county: its accepted workbook has rows in all six sheets.
COUNTY, ORIGINAL = "530102", "counties/五华区.xlsx"
# The sheet of people paid: where the issue met its silent-wrong read (a hidden old 慰问).
PAID = "visits"

SERIAL, REMARKS = "序号", "备注"
REMARK_TEXT = (None, "已核实", None, "电话回访")
NUMERIC = ("integer", "number", "money")
HANZI = "〇一二三四五六七八九"


# --- the original ------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """One sheet of a workbook: its template sheet, the columns it has (keys, in order) and
    its data rows, values as openpyxl read them."""

    sheet: Sheet
    columns: list[str]
    rows: list[list[object]]

    def values(self, key: str) -> list[object]:
        i = self.columns.index(key)
        return [row[i] for row in self.rows]


def read_book(path: Path, template: Template) -> list[Table]:
    """A workbook laid out as the template lays it out (header in row 1, sheets named by
    their titles), as tables in its sheet order."""
    by_title = {s.title: s for s in template.sheets.values()}
    book = openpyxl.load_workbook(path)
    tables = []
    for ws in book.worksheets:
        sheet = by_title[ws.title]
        header, *rows = ws.iter_rows(values_only=True)
        columns = [sheet.key_of(label) for label in header]
        rows = [list(row) for row in rows if any(v is not None for v in row)]
        tables.append(Table(sheet, columns, rows))
    return tables


@dataclass(frozen=True)
class County:
    code: str
    name: str
    year: int


# --- one sheet as a clerk lays it out -----------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How a clerk lays out a sheet; the defaults are the template's own layout."""

    title: bool = False  # 「<county>2022年残疾人就业服务<sheet>情况统计表」 merged across, on top
    unit: str | None = (
        None  # above the header: "unit" 「单位：元」, "both" 「填报单位：…」 + 「单位：元」
    )
    header: str = "plain"  # "group": group labels merged over some columns above the header;
    # "two_level": a group label over sub-labels, the other labels merged down both rows
    spell: Callable[[str], str] | None = None  # a label as the clerk types it
    serial: bool = False  # a 序号 column first
    remarks: bool = False  # a 备注 column last, some rows filled
    rotate: bool = False  # columns in another order: the first one moved to the end
    blank_every: int = 0  # an empty row after every n data rows
    merge_dates: bool = False  # equal dates of consecutive rows merged down the column
    date_text: Callable[[dt.date], str] | None = None  # dates typed as text
    total: str | None = None  # "values", "formulas" (=SUM), "wrong" (misses the last row),
    # "subtotals" (小计 after each date's rows where the sheet has a date, then 总计)
    footer: str | None = None  # "line": 填表人 … 填报日期 in one merged cell; "cells": apart
    hide: tuple[int, ...] = ()  # data rows (0-based) hidden


@dataclass
class Placed:
    """Where write_sheet put things: the Excel row of each data row, each column's letter."""

    rows: list[int]
    letters: dict[str, str]


def _put(ws: Worksheet, row: int, col: int, value: object, span: int = 1, size: int = 0) -> None:
    """A cell, merged over ``span`` columns; bold and centred when given a font ``size``."""
    cell = ws.cell(row, col, value)
    if size:
        cell.font = Font(bold=True, size=size)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if span > 1:
        ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + span - 1)


def _amount(value: object) -> Decimal:
    """A numeric cell as a clerk's total adds it up ('21,000.00' as typed counts too)."""
    amount = parse_money(None if value is None else str(value))
    if amount is None:
        raise ValueError(f"not a number to total: {value!r}")
    return amount


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _cell_value(value: object, key: str, sheet: Sheet, layout: Layout) -> object:
    kind = sheet.fields[key].type
    if kind == "date" and layout.date_text and isinstance(value, dt.date):
        return layout.date_text(value)
    if kind in NUMERIC and layout.total == "formulas" and isinstance(value, str):
        return _number(_amount(value))  # =SUM adds numbers only: a clerk who sums retypes them
    return value


def write_sheet(ws: Worksheet, table: Table, layout: Layout, county: County) -> Placed:
    """The table laid out on ``ws``: what stands above its header, the header, the data rows,
    the totals, the footer."""
    sheet = table.sheet
    keys = table.columns[1:] + table.columns[:1] if layout.rotate else list(table.columns)
    columns = [SERIAL] * layout.serial + keys + [REMARKS] * layout.remarks
    at = {c: i for i, c in enumerate(columns, 1)}
    r = _header(ws, sheet, layout, county, columns, keys)

    numeric = [k for k in keys if sheet.fields[k].type in NUMERIC]
    dates = [k for k in keys if sheet.fields[k].type == "date"]
    rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    subtotals = layout.total == "subtotals" and numeric and dates  # by the first date
    placed = []
    first_group = 0
    for i, row in enumerate(rows):
        if layout.blank_every and i and i % layout.blank_every == 0:
            r += 1
        for c in columns:
            if c == SERIAL:
                value: object = i + 1
            elif c == REMARKS:
                value = REMARK_TEXT[i % len(REMARK_TEXT)]
            else:
                value = _cell_value(row[c], c, sheet, layout)
            cell = ws.cell(r, at[c], value)
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
        if i in layout.hide:
            ws.row_dimensions[r].hidden = True
        placed.append(r)
        r += 1
        if subtotals and (i + 1 == len(rows) or rows[i + 1][dates[0]] != row[dates[0]]):
            _total_row(ws, r, "小计", {k: _sum(rows[first_group : i + 1], k) for k in numeric}, at)
            r += 1
            first_group = i + 1

    if layout.merge_dates:
        for key in dates:
            _merge_down(ws, placed, at[key])
    if layout.total and numeric and rows:
        sums: dict[str, object] = {
            "values": {k: _sum(rows, k) for k in numeric},
            "subtotals": {k: _sum(rows, k) for k in numeric},
            "wrong": {k: _sum(rows[:-1], k) for k in numeric},
            "formulas": {k: f"=SUM({_range(at[k], placed[0], placed[-1])})" for k in numeric},
        }[layout.total]
        _total_row(ws, r, "总计" if layout.total == "subtotals" else "合计", sums, at)
        r += 1
    if layout.footer:
        _footer(ws, r + 1, layout.footer, county, len(columns))
    letters = {c: get_column_letter(i) for c, i in at.items()}
    for letter in letters.values():
        ws.column_dimensions[letter].width = 14
    return Placed(placed, letters)


def _header(ws: Worksheet, sheet: Sheet, layout: Layout, county: County, columns: list[str],
            keys: list[str]) -> int:  # fmt: skip
    """The title, unit line and header rows; returns the first row below them."""
    width = len(columns)
    at = {c: i for i, c in enumerate(columns, 1)}
    spell = layout.spell or str

    def label(c: str) -> str:
        return c if c in (SERIAL, REMARKS) else spell(sheet.labels[c])

    r = 1
    if layout.title:
        title = f"{county.name}{county.year}年残疾人就业服务{sheet.title}情况统计表"
        _put(ws, r, 1, title, width, size=16)
        ws.row_dimensions[r].height = 30
        r += 1
    if layout.unit:
        if layout.unit == "both":
            ws.cell(r, 1, f"填报单位：{county.name}残疾人联合会")
        ws.cell(r, width, "单位：元").alignment = Alignment(horizontal="right")
        r += 1
    group = keys[-3:] if len(keys) >= 5 else keys[-2:]  # the columns a group label spans
    if layout.header == "plain":
        for c in columns:
            _put(ws, r, at[c], label(c), size=11)
        r += 1
    else:
        _put(ws, r, at[group[0]], f"{sheet.title}情况", len(group), size=11)
        for c in columns:
            if layout.header == "two_level" and c not in group:  # in the group row, merged down
                _put(ws, r, at[c], label(c), size=11)
                ws.merge_cells(start_row=r, start_column=at[c], end_row=r + 1, end_column=at[c])
            else:
                _put(ws, r + 1, at[c], label(c), size=11)
        r += 2
    return r


def _footer(ws: Worksheet, r: int, kind: str, county: County, width: int) -> None:
    year_end = f"{county.year}年12月31日"
    if kind == "line":
        _put(ws, r, 1, f"填表人：张三    审核人：李四    填报日期：{year_end}", width)
        _put(ws, r + 1, 1, "单位盖章", width)
    else:
        ws.cell(r, 1, "填表人：张三")
        ws.cell(r, max(2, width // 2), "审核人：李四")
        ws.cell(r, width, f"填报日期：{year_end}")
        ws.cell(r + 1, width, "（单位盖章）")


def _range(col: int, first: int, last: int) -> str:
    letter = get_column_letter(col)
    return f"{letter}{first}:{letter}{last}"


def _sum(rows: list[dict[str, object]], key: str) -> int | float:
    return _number(sum((_amount(row[key]) for row in rows if row[key] is not None), Decimal(0)))


def _total_row(ws: Worksheet, r: int, word: str, sums: dict[str, object],
               at: dict[str, int]) -> None:  # fmt: skip
    """合计 / 小计 / 总计 in the first column, merged over the columns before the first total."""
    first = min((at[k] for k in sums), default=2)
    _put(ws, r, 1, word, max(1, first - 1), size=11)
    for key, value in sums.items():
        ws.cell(r, at[key], value)


def _merge_down(ws: Worksheet, rows: list[int], col: int) -> None:
    """Runs of equal values in consecutive rows merged into their first cell, as clerks merge
    a date shared by a day's rows."""
    start = 0
    for j in range(1, len(rows) + 1):
        same = (j < len(rows) and rows[j] == rows[j - 1] + 1
                and ws.cell(rows[j], col).value == ws.cell(rows[start], col).value)  # fmt: skip
        if same:
            continue
        if j - start > 1:
            for k in range(start + 1, j):
                ws.cell(rows[k], col).value = None
            ws.merge_cells(start_row=rows[start], start_column=col, end_row=rows[j - 1],
                           end_column=col)  # fmt: skip
        start = j


# --- how clerks spell labels and dates ------------------------------------------------------


def line_breaks(label: str) -> str:
    """Alt+Enter before a unit (慰问金额\\n(元)) or in the middle of a long label."""
    if "(" in label:
        return label.replace("(", "\n(")
    return label[:4] + "\n" + label[4:] if len(label) > 5 else label


def padded(label: str) -> str:
    """A two-character label spread with a full-width space (姓　名); others padded."""
    return "　".join(label) if len(label) == 2 else f" {label}  "


def full_width_brackets(label: str) -> str:
    return label.replace("(", "（").replace(")", "）")


def _hanzi_number(n: int) -> str:
    tens, ones = divmod(n, 10)
    return (
        ("" if tens < 2 else HANZI[tens]) + ("十" if tens else "") + (HANZI[ones] if ones else "")
    )


def hanzi_date(day: dt.date) -> str:
    """二〇二二年二月十一日"""
    year = "".join(HANZI[int(d)] for d in str(day.year))
    return f"{year}年{_hanzi_number(day.month)}月{_hanzi_number(day.day)}日"


def circle_zero_date(day: dt.date) -> str:
    """2〇22年2月11日: the zero typed with the Chinese numeral 〇."""
    return f"{day.year}".replace("0", "〇") + f"年{day.month}月{day.day}日"


# --- workbooks ------------------------------------------------------------------------------


Notes = dict[str, object]  # what a build tells its expectations: a cell's address …
Build = Callable[[list[Table], County, Notes], Workbook]


def lay_out(book: list[Table], county: County, layout: Layout = Layout(), *,
            only: dict[str, Layout] | None = None,
            names: Callable[[int, Table], str] | None = None) -> tuple[Workbook, dict[str, Placed]]:  # fmt: skip
    """Every table as a sheet laid out by ``layout`` (or by ``only``'s layout for its sheet),
    named by ``names`` or by its title."""
    wb = Workbook()
    wb.remove(wb.active)
    placed = {}
    for i, table in enumerate(book):
        ws = wb.create_sheet(names(i, table) if names else table.sheet.title)
        placed[table.sheet.key] = write_sheet(ws, table, (only or {}).get(table.sheet.key, layout),
                                              county)  # fmt: skip
    return wb, placed


def laid_out(layout: Layout = Layout(), **kw) -> Build:
    def build(book: list[Table], county: County, notes: Notes) -> Workbook:
        notes["hidden"] = [t.sheet.title for t in book if any(i < len(t.rows) for i in layout.hide)]
        return lay_out(book, county, layout, **kw)[0]

    return build


def without_column(key: str, field_key: str, layout: Layout = Layout()) -> Build:
    """Sheet ``key`` lacks the column ``field_key``."""

    def build(book: list[Table], county: County, notes: Notes) -> Workbook:
        def cut(t: Table) -> Table:
            if t.sheet.key != key:
                return t
            i = t.columns.index(field_key)
            rows = [r[:i] + r[i + 1 :] for r in t.rows]
            return Table(t.sheet, t.columns[:i] + t.columns[i + 1 :], rows)

        notes["column"] = next(t.sheet.labels[field_key] for t in book if t.sheet.key == key)
        return lay_out([cut(t) for t in book], county, layout)[0]

    return build


def without_last_sheet(book: list[Table], county: County, notes: Notes) -> Workbook:
    notes["dropped"] = book[-1].sheet.title
    notes["kept"] = book[-2].sheet.title
    return lay_out(book[:-1], county)[0]


def old_and_final(final_name: str, old_hidden: bool) -> Build:
    """The paid sheet twice: its old version under its own title (amounts three quarters of
    the final ones), then the final version, a copy Excel named ``final_name``."""

    def build(book: list[Table], county: County, notes: Notes) -> Workbook:
        wb, placed = lay_out(book, county)
        paid = next(t for t in book if t.sheet.key == PAID)
        money = [k for k in paid.columns if paid.sheet.fields[k].type == "money"]
        old = wb[paid.sheet.title]
        for r, row in zip(placed[PAID].rows, paid.rows, strict=True):
            for k in money:
                amount = _amount(row[paid.columns.index(k)])
                old[f"{placed[PAID].letters[k]}{r}"] = _number(amount * 3 / 4)
        if old_hidden:
            old.sheet_state = "hidden"
        final = wb.create_sheet(final_name, wb.index(old) + 1)
        write_sheet(final, paid, Layout(), county)
        notes["final"] = final_name
        return wb

    return build


def formula_in_data(layout: Layout = Layout()) -> Build:
    """The paid sheet's second amount is a formula repeating the first (=E2, filled down)."""

    def build(book: list[Table], county: County, notes: Notes) -> Workbook:
        wb, placed = lay_out(book, county, layout)
        paid = next(t for t in book if t.sheet.key == PAID)
        key = next(k for k in paid.columns if paid.sheet.fields[k].type == "money")
        assert _amount(paid.values(key)[0]) == _amount(paid.values(key)[1])
        where = placed[PAID]
        letter = where.letters[key]
        cell = f"{letter}{where.rows[1]}"
        wb[paid.sheet.title][cell] = f"={letter}{where.rows[0]}"
        notes["cell"] = cell
        return wb

    return build


def numbered(i: int, table: Table) -> str:
    return f"Sheet{i + 1}"


def suffixed(i: int, table: Table) -> str:
    """招聘会统计表, 慰问情况表 …"""
    return table.sheet.title + ("统计表" if i == 0 else "情况表")


# --- the variants --------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str  # the file's stem in workbooks/
    description: str
    build: Build
    # same: true, or refused: [texts the refusal must contain, {note} filled from the build];
    # and optionally problems (how many), total_wrong (the sheet whose total is wrong), absent
    # (sheets left out), required (sheets the programme requires), hidden_rows (sheets)
    expect: dict = field(default_factory=lambda: {"same": True})
    saved_as: str = "xlsx"  # what LibreOffice saves it as: xlsx or xls
    submitted_as: str | None = None  # its name under counties/ ({county}: the county's name)

    def file(self) -> str:
        return f"{self.name}.{self.saved_as}"


TITLE_TOTAL_FOOTER = Layout(title=True, total="values", footer="line")
CLERK = Layout(title=True, unit="both", header="two_level", serial=True, remarks=True,
               merge_dates=True, total="formulas", footer="cells")  # fmt: skip
VARIANTS = [
    Variant("plain", "the original, only re-saved by LibreOffice", laid_out()),
    Variant("title-row", "a title row merged across every sheet", laid_out(Layout(title=True))),
    Variant("unit-line", "a 单位：元 line above every header", laid_out(Layout(unit="unit"))),
    Variant(
        "title-unit-header",
        "a title row, a 填报单位：… 单位：元 line, then the header",
        laid_out(Layout(title=True, unit="both")),
    ),
    Variant(
        "group-row",
        "a row of group labels merged over the last columns, above the header",
        laid_out(Layout(header="group")),
    ),
    Variant(
        "two-level-header",
        "a group label over 2-3 sub-labels, the other labels merged down both header rows",
        laid_out(Layout(header="two_level")),
    ),
    Variant(
        "labels-line-breaks",
        "labels with Alt+Enter line breaks (慰问金额\\n(元))",
        laid_out(Layout(spell=line_breaks)),
    ),
    Variant(
        "labels-padded",
        "labels padded with spaces, two-character ones with a full-width space (姓　名)",
        laid_out(Layout(spell=padded)),
    ),
    Variant(
        "labels-full-width-brackets",
        "labels with full-width brackets (慰问金额（元）)",
        laid_out(Layout(spell=full_width_brackets)),
    ),
    Variant(
        "total-values",
        "a 合计 row under every sheet with numbers, correct sums typed in",
        laid_out(Layout(total="values")),
    ),
    Variant(
        "total-formulas",
        "a 合计 row of =SUM() formulas (their values cached by "
        "LibreOffice); amounts typed as text retyped as numbers",
        laid_out(Layout(total="formulas")),
    ),
    Variant(
        "total-wrong",
        "a 合计 row whose sums are right except on 慰问, where it misses the last row",
        laid_out(Layout(total="values"), only={PAID: Layout(total="wrong")}),
        {"same": True, "total_wrong": "慰问"},
    ),
    Variant(
        "subtotals",
        "a 小计 row after each date's rows, then 总计 (a sheet without dates: 总计 alone)",
        laid_out(Layout(total="subtotals")),
    ),
    Variant(
        "footer-lines",
        "footer lines: 填表人：张三  审核人：李四  填报日期 in one merged cell, then 单位盖章",
        laid_out(Layout(footer="line")),
    ),
    Variant(
        "footer-cells",
        "footer: 填表人, 审核人 and 填报日期 in cells of one row, then （单位盖章）",
        laid_out(Layout(footer="cells")),
    ),
    Variant(
        "merged-dates",
        "consecutive rows with the same date merged down the date column",
        laid_out(Layout(merge_dates=True)),
    ),
    Variant(
        "dates-hanzi",
        "dates typed in Chinese numerals (二〇二二年二月十一日)",
        laid_out(Layout(date_text=hanzi_date)),
    ),
    Variant(
        "dates-circle-zero",
        "dates typed with 〇 for zero (2〇22年2月11日)",
        laid_out(Layout(date_text=circle_zero_date)),
    ),
    Variant(
        "serial-remarks",
        "a 序号 column first and a 备注 column last",
        laid_out(Layout(serial=True, remarks=True)),
    ),
    Variant(
        "blank-rows", "an empty row after every fourth data row", laid_out(Layout(blank_every=4))
    ),
    Variant(
        "sheets-suffixed",
        "sheets named with a suffix (招聘会统计表, 慰问情况表 …)",
        laid_out(names=suffixed),
    ),
    Variant(
        "sheets-numbered",
        "sheets named Sheet1 … Sheet6, known only by their header rows",
        laid_out(names=numbered),
    ),
    Variant(
        "sheets-numbered-titled",
        "sheets named Sheet1 … Sheet6, each with a title row",
        laid_out(Layout(title=True), names=numbered),
    ),
    Variant(
        "hidden-old-sheet",
        "a hidden old 慰问 (other amounts) and the visible final 慰问(2): 慰问(2) must be read",
        old_and_final("慰问(2)", old_hidden=True),
    ),
    Variant(
        "hidden-old-sheet-excel-copy",
        "as hidden-old-sheet, the final named as Excel names a copy: 慰问 (2)",
        old_and_final("慰问 (2)", old_hidden=True),
    ),
    Variant(
        "hidden-rows",
        "data rows 2 and 5 of every sheet hidden (read, and noted)",
        laid_out(Layout(hide=(1, 4))),
        {"same": True, "hidden_rows": "{hidden}"},
    ),
    Variant(
        "columns-rotated",
        "every sheet's first column moved to the end",
        laid_out(Layout(rotate=True)),
    ),
    Variant("plain-xls", "the original saved as .xls (Excel 97-2003)", laid_out(), saved_as="xls"),
    Variant(
        "clerk-named",
        "the file named as a clerk names it",
        laid_out(),
        submitted_as="{county}2022年残疾人就业服务报表.xlsx",
    ),
    Variant(
        "title-total-footer",
        "a title row, a 合计 row and footer lines on every sheet",
        laid_out(TITLE_TOTAL_FOOTER),
    ),
    Variant(
        "title-total-footer-xls",
        "title-total-footer saved as .xls",
        laid_out(TITLE_TOTAL_FOOTER),
        saved_as="xls",
    ),
    Variant(
        "merged-dates-xls",
        "merged-dates saved as .xls",
        laid_out(Layout(merge_dates=True)),
        saved_as="xls",
    ),
    Variant(
        "clerk-full",
        "everything at once: title, 填报单位/单位 line, two-level header, "
        "序号, 备注, merged dates, =SUM 合计, footer cells",
        laid_out(CLERK),
    ),
    Variant(
        "clerk-full-named-xls",
        "clerk-full as .xls under a clerk's file name",
        laid_out(CLERK),
        saved_as="xls",
        submitted_as="{county}2022年残疾人就业服务报表.xls",
    ),
    Variant(
        "missing-sheet",
        "经费 left out (the template does not require it): the other sheets load, 经费 is absent",
        without_last_sheet,
        {"same": True, "absent": ["经费"]},
    ),
    # Refused, each with a reason the clerk can act on.
    Variant(
        "missing-column",
        "慰问 lacks its 慰问金额(元) column",
        without_column(PAID, "amount_yuan"),
        {"refused": ["{column}"], "problems": 1},
    ),
    Variant(
        "missing-column-titled",
        "a title row on every sheet and 慰问 lacks 慰问金额(元): one problem, not one per column",
        without_column(PAID, "amount_yuan", Layout(title=True)),
        {"refused": ["{column}"], "problems": 1},
    ),
    Variant(
        "missing-required-sheet",
        "经费 left out where the programme requires it: the refusal names it and the sheets found",
        without_last_sheet,
        {"refused": ["{dropped}", "{kept}"], "required": ["经费"]},
    ),
    Variant(
        "two-visible-sheets",
        "慰问 and 慰问(2) both visible, with different amounts",
        old_and_final("慰问(2)", old_hidden=False),
        {"refused": ["{final}"]},
    ),
    Variant(
        "formula-in-data",
        "a 慰问金额 cell holding a formula (=E2)",
        formula_in_data(),
        {"refused": ["{cell}"], "problems": 1},
    ),
    Variant(
        "formula-in-data-sum-totals",
        "=SUM 合计 rows (allowed) and one data cell holding a formula (refused, alone)",
        formula_in_data(Layout(title=True, total="formulas")),
        {"refused": ["{cell}"], "problems": 1},
    ),
]


def make(variant: Variant, book: list[Table], county: County) -> tuple[Workbook, dict]:
    """The variant's workbook for a county, and what reading it must give."""
    notes: Notes = {}
    wb = variant.build(book, county, notes)
    expect = {key: _filled(value, notes) for key, value in variant.expect.items()}
    if variant.submitted_as:
        expect["as"] = variant.submitted_as.format(county=county.name)
    return wb, expect


def _filled(value: object, notes: Notes) -> object:
    """An expectation with the build's notes in it: "{cell}" is the note itself, any other
    text has them formatted in."""
    if isinstance(value, list):
        return [_filled(v, notes) for v in value]
    if isinstance(value, str) and value[1:-1] in notes and value == f"{{{value[1:-1]}}}":
        return notes[value[1:-1]]
    return value.format(**notes) if isinstance(value, str) else value


# --- building the corpus ------------------------------------------------------------------


def _soffice(files: list[Path], to: str, out: Path, profile: Path) -> None:
    """LibreOffice re-saves ``files`` as ``to`` into ``out`` (a profile of its own, so that a
    running LibreOffice and the user's settings are left alone)."""
    if files:
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation={profile.as_uri()}",
                        "--convert-to", to, "--outdir", str(out), *map(str, files)],
                       check=True, capture_output=True, timeout=600)  # fmt: skip


def main() -> None:
    if shutil.which("soffice") is None:
        sys.exit("build.py needs LibreOffice: soffice is not on the PATH.")
    programme = load_programme(SAMPLE / "programme.yaml")
    county = County(COUNTY, programme.counties[COUNTY], programme.year)
    book = read_book(SAMPLE / ORIGINAL, programme.county_template)
    expected = {}
    with tempfile.TemporaryDirectory() as tmp:
        written, saved = Path(tmp) / "openpyxl", Path(tmp) / "libreoffice"
        written.mkdir()
        by_format: dict[str, list[Path]] = {}
        for variant in VARIANTS:
            wb, expect = make(variant, book, county)
            path = written / f"{variant.name}.xlsx"
            wb.save(path)
            by_format.setdefault(variant.saved_as, []).append(path)
            expected[variant.file()] = {"description": variant.description, **expect}
        for to, files in by_format.items():
            _soffice(files, to, saved, Path(tmp) / "profile")
        missing = [name for name in expected if not (saved / name).is_file()]
        if missing:
            sys.exit(f"LibreOffice did not save {', '.join(missing)}.")
        shutil.rmtree(WORKBOOKS, ignore_errors=True)
        WORKBOOKS.mkdir()
        for name in expected:
            shutil.copyfile(saved / name, WORKBOOKS / name)
    header = ("# Written by tests/clerk/build.py from its VARIANTS: edit those, not this file.\n"
              "# same: loads exactly the original's rows; refused: refused, its feedback holding "
              "each text.\n")  # fmt: skip
    body = {"county": COUNTY, "original": ORIGINAL, "workbooks": expected}
    EXPECTED.write_text(header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False,
                                                width=100), encoding="utf-8")  # fmt: skip
    print(f"{len(expected)} workbooks in {WORKBOOKS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
