"""The county's own workbook returned marked (SPEC §3, feedback): beside a refused file's page,
a copy with each problem cell filled light red and a comment saying what to fix, and a first
sheet 问题清单 listing every problem, each linked to its cell.

An .xlsx is the county's own file, loaded with openpyxl so that its formatting, merged cells,
formulas and comments stay as they were; an .xls or a CSV becomes a new .xlsx holding its
cells where Excel shows them (a CSV's record N on row N), so that the row numbers of the page
point at the same cells. The copy is the county's file returned to the county: its cells are
not masked; what jixiao adds (comments, the list) uses the masked problems only.

County files are untrusted and openpyxl has no input limits of its own. A copy is made only
of a file its reader opened (a problem names a sheet and a row), from bytes that hash to what
that reader checked (its zip, XML and size limits passed), and never of a file larger than
``MARK_MB``; anything openpyxl cannot do is logged and leaves no copy, never stops a run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import quote_sheetname
from openpyxl.utils.cell import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from jixiao.checks.catalogue import rule
from jixiao.ingest.normalise import clean_text
from jixiao.ingest.problems import Problem
from jixiao.ingest.readers import read_csv, read_input
from jixiao.publish.excel import excel_text
from jixiao.publish.files import workbook_bytes, write_atomic

log = logging.getLogger(__name__)

KINDS = ("xlsx", "xls", "csv")
# openpyxl holds every cell in memory: a 1.6 MB workbook of 360,000 cells took 10 s and 250 MB
# to mark. A county's file is a few hundred KB at most; a larger one is not worth a run's time.
MARK_MB = 2
HEADER_ROWS = 100  # rows searched for a column's label: titles, unit line, two-level header
FILL = PatternFill("solid", fgColor="FFC7CE")  # Excel's own "light red fill"
AUTHOR = "jixiao"
STAMP = dt.datetime(1980, 1, 1)  # the copy's document times: the same inputs, the same bytes
LIST = {"zh": "问题清单", "en": "Problems"}
LIST_HEAD = {
    "zh": ("序号", "位置", "问题", "怎么改"),
    "en": ("#", "where", "problem", "how to fix"),
}
LIST_WIDTHS = (6, 40, 22, 70)
_CELL = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}")
_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def mark_workbook(source: Path, kind: str, problems: list[Problem], out: Path, *,
                  sha256: str, lang: str = "zh", unlisted: int = 0) -> Path | None:  # fmt: skip
    """Write the marked copy of ``source`` (a submission of ``kind`` "xlsx", "xls" or "csv")
    to ``out``, atomically; returns ``out``, or None when no copy is made: the file was not
    read (no problem names a sheet and a row), it is no longer the file read (its bytes do
    not hash to ``sha256``), it is too large, or openpyxl failed (logged). ``problems`` come
    masked, as many as the page lists; ``unlisted`` more are counted in the list. ``source``
    is never modified."""
    if kind not in KINDS or not any(p.sheet and p.row for p in problems):
        return None
    try:
        if source.stat().st_size > MARK_MB << 20:
            log.info("未生成标注副本 %s：文件大于 %d MB" if lang == "zh"
                     else "no marked copy %s: the file is over %d MB", out.name, MARK_MB)
            return None
        data = read_input(source, MARK_MB)  # no link followed, size bounded
        if hashlib.sha256(data).hexdigest() != sha256:  # changed since it was read
            return None
        with warnings.catch_warnings():  # openpyxl warns of extensions it drops; nothing to act on
            warnings.simplefilter("ignore")
            book = _open(source, kind, data)
            _mark(book, kind, problems, unlisted, lang)
            write_atomic(out, workbook_bytes(book))
    except Exception as exc:  # a workbook openpyxl cannot handle costs its copy, not the run
        log.warning("未生成标注副本 %s：%s" if lang == "zh" else "no marked copy %s: %s",
                    out.name, type(exc).__name__)
        return None
    return out


# --- the workbook to mark ------------------------------------------------------------------


def _open(source: Path, kind: str, data: bytes) -> Workbook:
    if kind == "xlsx":
        book = load_workbook(io.BytesIO(data), rich_text=True)
        book.properties.modified = book.properties.created or STAMP
        return book
    book = Workbook()
    book.remove(book.active)
    book.properties.created = book.properties.modified = STAMP
    if kind == "csv":
        # The project's reader (encodings, limits); its sheet is named as problems name it.
        sheet = read_csv(source)
        ws = book.create_sheet(_sheet_title(sheet.name))
        _fill(ws, [(sheet.header_row, sheet.header), *zip(sheet.row_numbers, sheet.rows,
                                                           strict=True)])  # fmt: skip
        return book
    xls = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for meta in xls.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:  # a chart or macro sheet holds no cells
            continue
        ws = book.create_sheet(_sheet_title(meta.name))
        if meta.visible != SheetVisibleEnum.Visible:
            ws.sheet_state = "hidden"
        sheet = xls.get_sheet_by_name(meta.name)
        _fill(ws, enumerate(sheet.to_python(skip_empty_area=False), 1))
        for merged in sheet.merged_cell_ranges or ():
            (r0, c0), (r1, c1) = merged
            ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1,
                           end_column=c1 + 1)  # fmt: skip
    return book


def _fill(ws: Worksheet, rows: Iterable[tuple[int, list]]) -> None:
    """The county's values on the rows they came from; a text stays text (never a formula)."""
    for number, values in rows:
        for col, value in enumerate(values, 1):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
            cell = ws.cell(number, col, value)
            if isinstance(value, str):
                cell.data_type = "s"


def _sheet_title(name: str) -> str:
    """A sheet name Excel takes (at most 31 characters, none of []:*?/\\)."""
    return _SHEET_CHARS.sub("_", name).strip("'")[:31] or "Sheet1"


# --- marking -------------------------------------------------------------------------------


class _Locator:
    """Where in the workbook a problem is: its sheet, and its cell when it names one."""

    def __init__(self, book: Workbook, kind: str):
        self.book, self.kind = book, kind
        self.by_name = {ws.title: ws for ws in book.worksheets}
        self.by_clean = {clean_text(ws.title): ws for ws in book.worksheets}
        self.labels: dict[str, dict[str, list[tuple[int, int]]]] = {}

    def sheet(self, p: Problem) -> Worksheet | None:
        if self.kind == "csv":  # one sheet: whatever name the problem gives it
            return self.book.worksheets[0] if p.sheet else None
        if not p.sheet:
            return None
        return self.by_name.get(p.sheet) or self.by_clean.get(clean_text(p.sheet))

    def cell(self, ws: Worksheet, p: Problem) -> str | None:
        if p.cell and _CELL.fullmatch(p.cell):
            return p.cell
        if not p.row:
            return None
        col = self._column(ws, p.column, p.row) if p.column else None
        if col is None:  # the row's first used cell (a header label that is missing …)
            col = next((c.column for c in ws[p.row] if c.value not in (None, "")), 1)
        return f"{get_column_letter(col)}{p.row}"

    def _column(self, ws: Worksheet, label: str, row: int) -> int | None:
        """The column headed ``label`` in the header nearest above ``row`` (on it, for a
        problem of the header itself)."""
        found = self._labels(ws).get(_label(label), [])
        above = [(r, c) for r, c in found if r < row] or [(r, c) for r, c in found if r == row]
        return max(above)[1] if above else None

    def _labels(self, ws: Worksheet) -> dict[str, list[tuple[int, int]]]:
        if ws.title not in self.labels:
            labels: dict[str, list[tuple[int, int]]] = {}
            rows = ws.iter_rows(max_row=min(ws.max_row, HEADER_ROWS), values_only=True)
            for r, values in enumerate(rows, 1):
                for c, value in enumerate(values, 1):
                    if isinstance(value, str) and (text := _label(value)):
                        labels.setdefault(text, []).append((r, c))
            self.labels[ws.title] = labels
        return self.labels[ws.title]


def _label(text: str) -> str:
    """A header label as compared: line breaks, padding and full-width forms do not count."""
    return "".join((clean_text(text) or "").split())


def _mark(book: Workbook, kind: str, problems: list[Problem], more: int, lang: str) -> None:
    zh = lang == "zh"
    locate = _Locator(book, kind)
    places: list[tuple[Worksheet | None, str | None]] = []
    at: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        ws = locate.sheet(p)
        coord = locate.cell(ws, p) if ws is not None else None
        if ws is not None and coord is not None:
            coord = _anchor(ws, coord)
            at.setdefault((ws.title, coord), []).append(p)
        places.append((ws, coord))
    for (title, coord), here in at.items():
        cell = book[title][coord]
        text = "\n".join(p.message(lang) if len(here) == 1 else f"{n}. {p.message(lang)}"
                         for n, p in enumerate(here, 1))  # fmt: skip
        if cell.comment is not None:  # the county's own comment stays, after ours
            text += ("\n\n原有批注：" if zh else "\n\nEarlier comment: ") + cell.comment.text
        lines = sum(len(line) // 20 + 1 for line in text.split("\n"))
        cell.comment = Comment(text, AUTHOR, height=min(20 + 16 * lines, 400), width=300)
        cell.fill = FILL
        book[title].sheet_state = "visible"  # a problem is shown where the county hid it
        book[title].row_dimensions[cell.row].hidden = False
    _list(book, problems, places, more, lang)


def _anchor(ws: Worksheet, coord: str) -> str:
    """A cell inside a merged range is marked on the range's first cell: Excel shows that one."""
    if isinstance(ws[coord], MergedCell):
        for merged in ws.merged_cells.ranges:
            if coord in merged:
                return merged.start_cell.coordinate
    return coord


def _list(book: Workbook, problems: list[Problem],
          places: list[tuple[Worksheet | None, str | None]], more: int, lang: str) -> None:  # fmt: skip
    """The first sheet: every problem, where it is (a link to its cell), what it is and what to
    fix; those that belong to no cell (a sheet missing, the file itself) too."""
    zh = lang == "zh"
    ws = book.create_sheet(LIST[lang], 0)
    for sheet in book.worksheets:
        sheet.sheet_view.tabSelected = False
    book.active = 0
    ws.sheet_view.tabSelected = True
    wrap = Alignment(wrap_text=True, vertical="top")
    for col, (head, width) in enumerate(zip(LIST_HEAD[lang], LIST_WIDTHS, strict=True), 1):
        cell = ws.cell(1, col, head)
        cell.font, cell.alignment = Font(bold=True), wrap
        ws.column_dimensions[get_column_letter(col)].width = width
    for n, (p, (sheet, coord)) in enumerate(zip(problems, places, strict=True), 2):
        where = p.where(lang) or ("整个文件" if zh else "the whole file")
        if coord:
            where += f"，单元格 {coord}" if zh else f", cell {coord}"
        title = rule(p.rule_id).title_zh if zh else rule(p.rule_id).title_en
        for col, text in enumerate((where, title, p.message(lang)), 2):
            cell = ws.cell(n, col, excel_text(text))
            cell.data_type, cell.alignment = "s", wrap
        ws.cell(n, 1, n - 1).alignment = wrap
        if sheet is not None:  # a link to the cell, or to the sheet when no cell is known
            link = ws.cell(n, 2)
            link.hyperlink = Hyperlink(ref=link.coordinate,
                                       location=f"{quote_sheetname(sheet.title)}!{coord or 'A1'}")  # fmt: skip
            link.font = Font(color="0563C1", underline="single")
    if more > 0:
        ws.cell(len(problems) + 2, 2, f"另有 {more} 处问题未列出，见退回说明。" if zh
                else f"{more} more problem(s) not listed: see the feedback page.")  # fmt: skip
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
