"""A self-evaluation report (绩效自评报告) as structure: sections, paragraphs, tables.

Every form a report comes in becomes one ``Document``: plain text (SPEC §1.3, its tables in
every layout a page flattens them into: ``ingest.text_layouts``), .docx (real Word tables,
cells merged across and down as spans), .pdf with a text layer (``ingest.report_pdf``) and
the 自评表 as a workbook (.xlsx / .xls, each visible sheet a table). Every paragraph and
cell keeps where it stands: its line (for .docx and .pdf, the paragraph's position counting
table rows as lines; for a workbook, the sheet row) and the path of headings above it, so a
finding can say 三、评价结论 › （二）具体绩效分析, line 112; a .pdf's also its page. What
could not be read (a scanned page, a hidden sheet) is listed in ``Document.unread``.

How the layout is read (heuristics, each documented where it is decided):

- Headings are recognised by their numbering: 摘要/正文/附件 (parts), 第一章, 一、,
  （一）, 1. or 1、, （1）, ①, outermost first; a heading closes every heading at its
  level and below. A numbered line is a heading only when it reads as a title
  (``_title_like``); ``1.建立了…工作体系`` is, ``（1）6个县市区残联完成…。`` is not.
  In .docx a ``Heading N`` style makes an unnumbered paragraph a heading too.
- Tables in text: as ``ingest.text_layouts`` reads them. The caption is up to three short
  lines just above (``_caption_like``); ``单位：万元`` among them gives the unit. A table
  holding the national 自评表 is cut into its parts (``ingest.national_form``).
- A row with fewer cells than most rows is placed under the columns its cells fit
  (text under label columns, figures under figure columns), the gap filled with
  ``merged`` cells: ``合计`` spanning 序号 and 项目名称 lines up with the amounts.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path

from jixiao.ingest.national_form import shape
from jixiao.ingest.problems import FileRefused, Problem
from jixiao.ingest.readers import RawSheet, read_docx, read_input, read_workbook
from jixiao.ingest.report_items import (
    LAYOUTS,
    Line,
    RawCell,
    RawTable,
    find_dates,
    is_value,
    parse_date,
)
from jixiao.ingest.report_pdf import PASSWORD_PROTECTED, PdfRefused, PdfTooLong, read_pdf
from jixiao.ingest.text_layouts import split_tables, tab_laid, text_items
from jixiao.limits import Limits, env_name
from jixiao.said import Said, SaidError
from jixiao.schemas.vocabulary import fold

__all__ = [
    "LAYOUTS", "Cell", "Document", "Paragraph", "ReportError", "Said", "Table", "find_dates",
    "is_value", "parse_date", "parse_text", "read_report", "report_sha256",
]  # fmt: skip


_NUMBER_ONLY = re.compile(r"\d+")
SUFFIXES = (".txt", ".docx", ".pdf", ".xlsx", ".xls")  # the forms a report is read in


class ReportError(SaidError):
    """The report cannot be read at all: one sentence in Chinese and in English."""


@dataclass(frozen=True)
class Paragraph:
    text: str
    line: int
    # The headings from the outermost in, e.g. ("三、评价结论", "（一）评价结论").
    section: tuple[str, ...]
    # body | heading | title | caption | signature. A heading's section ends with itself;
    # a caption is a table's title or unit line; a signature the unit and date at the end.
    kind: str = "body"
    page: int | None = None  # .pdf: the page it stands on (``line`` counts on across pages)
    # .docx: where Word shows it, its section's heading being 0 and the paragraphs after it
    # 1, 2 … (`_build` says which count); None for any other file.
    number: int | None = None


@dataclass(frozen=True)
class Cell:
    text: str
    row: int  # 0-based within the table; row 0 is the header
    col: int  # 0-based
    line: int
    merged: bool = False  # covered by a cell merged across or down: no text of its own
    span: tuple[int, int] = (1, 1)  # rows and columns a merged cell covers, itself included


@dataclass
class Table:
    index: int  # 0-based order in the document
    title: str | None  # the caption just above (e.g. 项目支出明细表), joined when several lines
    unit: str | None  # from a caption like 单位：万元, else None
    rows: list[list[Cell]]
    line: int  # the line of the first cell
    section: tuple[str, ...]
    truncated: bool = False  # rows of differing width or a table cut off: cannot verify
    problem: Said | None = None  # why it is truncated, for the finding
    layout: str = "tab"  # how its file laid it out: a key of LAYOUTS
    # A part of the national 项目支出绩效自评表, laid out the same whatever the file:
    # "funds" (项目资金: its label column, then 年初预算数 … 得分 as written; 年度资金总额
    # first, its 其中 rows after) or "indicators" (一级/二级/三级指标, then 年度指标值,
    # 实际完成值, 分值, 得分, 偏差原因 … as written; 总分 last, its figures under the last
    # figure columns). None for any other table.
    form: str | None = None
    page: int | None = None  # .pdf: the page it starts on
    origin: tuple[int, int] | None = None  # .docx: its number and first row's line (RawTable)
    _filled: dict[int, list[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def word_row(self, line: int) -> tuple[int, int] | None:
        """.docx: the table's number in the document and the row a cell on ``line`` stands
        in, as Word counts them (a form's part keeps its table's); None for other files."""
        return (self.origin[0], line - self.origin[1] + 1) if self.origin else None

    def text(self, row: int, col: int) -> str:
        cells = self.rows[row]
        return cells[col].text if col < len(cells) else ""

    def header(self, col: int) -> str:
        """Row 0's text above ``col``; under a merged header cell, the cell it belongs to."""
        headers = self._headers
        return headers[min(col, len(headers) - 1)] if headers else ""

    @cached_property
    def _headers(self) -> list[str]:
        # Every cell asks: found once per column, not by walking left across a merged header.
        out, text = [], ""
        for cell in self.rows[0] if self.rows else []:
            text = text if cell.merged else cell.text
            out.append(text)
        return out

    def index_columns(self) -> frozenset[int]:
        """Column 0 when it numbers the rows 1, 2, 3 … (序号): labels, not figures."""
        return self._index_columns

    @cached_property
    def _index_columns(self) -> frozenset[int]:
        # Every row's label asks: decided once per table, so labelling the rows is linear.
        numbers = [r[0].text for r in self.rows[1:] if r and _NUMBER_ONLY.fullmatch(r[0].text)]
        if len(numbers) >= 2 and numbers == [str(i) for i in range(1, len(numbers) + 1)]:
            return frozenset({0})
        return frozenset()

    def _above(self, col: int) -> list[str]:
        """For each row, the nearest text above it in ``col`` (the header row aside): found
        in one pass per column, so labelling every row of a long table stays linear."""
        if col not in self._filled:
            out, text = [], ""
            for r in range(len(self.rows)):
                out.append(text)
                if r >= 1 and (here := self.text(r, col)):
                    text = here
            self._filled[col] = out
        return self._filled[col]

    def first_value_col(self, row: int) -> int:
        """The column of the row's first figure (index columns aside), or the row's width."""
        skip = self.index_columns()
        cells = self.rows[row]
        return next((c.col for c in cells if c.col not in skip and is_value(c.text)), len(cells))

    def row_label(self, row: int) -> str:
        """The text cells left of the row's first figure, joined by " / ".

        Empty label cells left of the row's first label take the text above them (a
        label merged down the rows, as a survey question over its 人数 / 占比 / 分数
        rows); an empty cell after a label (合计 spanning 序号 and 名称) takes nothing.
        Row numbers in an index column are skipped.
        """
        skip = self.index_columns()
        cells = [
            c
            for c in range(self.first_value_col(row))
            if not (c in skip and _NUMBER_ONLY.fullmatch(self.text(row, c)))
        ]
        own = [c for c in cells if self.text(row, c) and not is_value(self.text(row, c))]
        parts = []
        for col in cells:
            text = self.text(row, col)
            if not text and own and col < own[0]:
                text = self._above(col)[row]
            if text and not is_value(text):
                parts.append(text)
        return " / ".join(dict.fromkeys(parts))


@dataclass
class Document:
    path: Path
    title: str | None  # the report's title line (…绩效自评报告)
    unit: str | None  # the reporting unit as it signs the report
    dated: dt.date | None  # the date under the signature
    paragraphs: list[Paragraph] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    sha256: str | None = None  # of the bytes read, when read from a file
    # What could not be read, each one phrase (第 3 页没有文本层（疑似扫描件）): a report is
    # never called clean because part of it was not read.
    unread: list[Said] = field(default_factory=list)


# --- headings -----------------------------------------------------------------------------

_PART = re.compile(
    r"(摘要|正文|目录|前言|附件|附表|附录)\s*[\d一二三四五六七八九十]*\s*(?:[：:].*)?"
)
_NUMBERING = (
    (1, re.compile(r"第[一二三四五六七八九十百]+(?:章|部分|篇)\s*")),
    (2, re.compile(r"[一二三四五六七八九十]+\s*[、．.]\s*")),
    (3, re.compile(r"（[一二三四五六七八九十]+）\s*")),
    (4, re.compile(r"\d{1,2}\s*(?:[、．]|\.(?!\d))\s*")),
    (5, re.compile(r"（\d{1,2}）\s*")),
    (6, re.compile(r"[①-⑳]\s*")),
)
# An opening mark inside an aside starts another (so a run of them is read once, not once each).
_ASIDE = re.compile(r"（[^（）]*）|“[^“”]*”")
_SENTENCE_END = re.compile(r"[。！？!?；;]")
# A quantity or a full date in a line makes it content, not a title.
_QUANTITY = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|[万亿千]?[元人户场期次家个名项份分])|\d{4}\s*年\s*\d{1,2}\s*月"
)
_TITLE_MAX = 25  # characters of a heading's words, asides in brackets not counted


def _title_like(rest: str) -> str | None:
    """The heading's words when ``rest`` (the line after its numbering) reads as a title.

    Its first sentence, brackets aside, is at most _TITLE_MAX characters and has no
    comma, and the line states no quantity or date outside brackets (项目决策（满分20分）
    is a heading, 6个县市区残联完成招聘会 is not). A run-in heading (``4.组织及管理情况。包括…``) is
    a heading named by its first sentence; the whole line stays its paragraph text.
    """
    head = _SENTENCE_END.split(rest, maxsplit=1)[0].strip()
    bare = _ASIDE.sub("", fold(head)).strip(" ：:")
    if not bare or len(bare) > _TITLE_MAX or re.search(r"[，,]", bare):
        return None
    if _QUANTITY.search(_ASIDE.sub("", fold(rest))):
        return None  # states a quantity outside brackets: content (（9）…不少于30家)
    return head.rstrip(" ：:.、")


def _heading(text: str, style_level: int | None) -> tuple[int, str] | None:
    """(level, section name) when the line is a heading."""
    folded = fold(text)
    if len(text) <= 40 and "。" not in text and _PART.fullmatch(folded):
        return 0, text.rstrip("：:")
    for level, numbering in _NUMBERING:
        if m := numbering.match(folded):
            name = _title_like(text[m.end() :])
            return (level, (text[: m.end()] + name).strip()) if name else None
    if style_level is not None and len(text) <= 40:
        return style_level, text.rstrip("：:。")
    return None


# --- the reading --------------------------------------------------------------------------


def read_report(path: Path, limits: Limits | None = None) -> Document:
    """Read a .txt (UTF-8, UTF-8 with BOM, GB18030), .docx, .pdf (with a text layer) or
    .xlsx / .xls (a 自评表 workbook) report. Raises ReportError.

    The report is untrusted like a county file, and held to ``jixiao.limits`` before
    anything heavy reads it: opened once without following a symbolic link, its size taken
    by stat first (a .txt against JIXIAO_MAX_REPORT_TEXT_MB, any other against
    JIXIAO_MAX_FILE_MB); a .docx gets the package checks of a county workbook (zip bombs,
    DTDs, truncation, encryption) and its paragraphs, tables, cells, characters and XML
    elements counted from its XML before python-docx builds a tree of it; a .txt its lines
    and their lengths counted before they are read as a layout; a .pdf its streams inflated
    against JIXIAO_MAX_UNPACKED_MB and its pages counted against JIXIAO_MAX_REPORT_PAGES
    before pdfplumber lays one out; a workbook the checks and limits of a county workbook.
    The paragraphs, tables and cells of any but a .docx are counted once read. Each refusal is one
    sentence naming the limit and what was found. Within the limits, reading and checking
    a report takes time and memory linear in its length.
    """
    path = Path(path)
    name = path.name
    limits = limits if limits is not None else Limits.from_env()
    if not os.path.lexists(path):
        raise ReportError(f"找不到报告文件「{name}」。", f"Report file '{name}' not found.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ReportError(
            f"报告文件「{name}」的格式「{suffix or '无扩展名'}」不受支持，"
            "请提供 .txt、.docx、.pdf、.xlsx 或 .xls 文件。",
            f"Report file '{name}': the format '{suffix or 'no extension'}' is not supported; "
            "give a .txt, .docx, .pdf, .xlsx or .xls file.",
        )
    unread: list[Said] = []
    try:
        if suffix == ".docx":
            data, counts = read_docx(path, limits)
            # Counted from its XML, before python-docx builds a tree of it.
            _within(name, limits, **asdict(counts))
            items = _docx_items(data, name)
        else:
            data = read_input(path, getattr(limits, _size_limit(suffix)))
            if suffix == ".txt":
                if not data.strip():
                    raise _empty(name)
                items = text_items(_text_lines(_decode(data, name), name, limits))
            elif suffix == ".pdf":
                items, unread = _pdf_items(data, name, limits)
            else:
                items, unread = _sheet_items(read_workbook(path, limits, data))
    except FileRefused as refused:
        raise _unread(name, refused.problems[0], suffix) from None
    if suffix != ".docx":
        lines = [item for item in items if isinstance(item, Line)]
        tables = [item for item in items if isinstance(item, RawTable)]
        _within(name, limits, paragraphs=len(lines), tables=len(tables),
                cells=sum(len(r) for t in tables for r in t.rows),
                longest=max((len(x.text) for x in lines), default=0))  # fmt: skip
    document = _build(path, items)
    document.unread = unread
    if not document.paragraphs and not document.tables:
        if unread:
            raise ReportError(f"报告文件「{name}」没有可读的正文（{'；'.join(u.zh for u in unread)}）。",
                              f"Report file '{name}' has no readable text "
                              f"({'; '.join(u.en for u in unread)}).")  # fmt: skip
        raise ReportError(f"报告文件「{name}」没有可读的正文。",
                          f"Report file '{name}' has no readable text.")
    document.sha256 = hashlib.sha256(data).hexdigest()
    return document


def report_sha256(path: Path, limits: Limits | None = None) -> str | None:
    """The SHA-256 of a report's bytes, read as ``read_report`` reads them (no symbolic link
    followed, within its size limit); None when it would be refused unread."""
    limits = limits if limits is not None else Limits.from_env()
    try:
        data = read_input(Path(path), getattr(limits, _size_limit(Path(path).suffix.lower())))
    except FileRefused:
        return None
    return hashlib.sha256(data).hexdigest()


# What each limit counts, as a refusal names it: (field of Limits, the phrase before the
# figure, the measure after it). Every form of report (.txt and .docx; .pdf and .xlsx to
# come) counts what it holds and is held to these by _within before its layout is read.
_COUNTED = {  # the limit, and the words around a count in Chinese and in English
    "paragraphs": ("report_paragraphs", "有", "个段落", "paragraphs"),
    "tables": ("report_tables", "有", "个表格", "tables"),
    "cells": ("report_cells", "表格共有", "个单元格", "table cells"),
    "longest": ("report_line_chars", "一个段落或单元格有", "个字符", "characters in a paragraph or cell"),
    "text_bytes": ("report_text_mb", "文本共", "MB", "MB of text"),
    "elements": ("report_elements", "XML 元素共", "个", "XML elements"),
    "pages": ("report_pages", "有", "页", "pages"),
}  # fmt: skip


def _size_limit(suffix: str) -> str:
    """The Limits field a report's size on disk is held to: its text for a .txt, the file
    for a package whose text is counted once it is opened."""
    return "report_text_mb" if suffix == ".txt" else "file_mb"


def _within(name: str, limits: Limits, **found: int) -> None:
    """Refuse a report holding more than a limit allows, naming the limit and the count."""
    for key, value in found.items():
        field_name, before, after, noun = _COUNTED[key]
        limit = getattr(limits, field_name)
        if key == "text_bytes":
            if value > limit << 20:
                said, allowed = f"{value / (1 << 20):,.1f} ", f"{limit} "
            else:
                continue
        elif value > limit:
            said, allowed = f"{value:,} ", f"{limit:,} "
        else:
            continue
        raise ReportError(
            f"报告文件「{name}」{before} {said}{after}，超过上限 {allowed}{after}"
            f"（{env_name(field_name)}），未予读取。",
            f"Report file '{name}' has {said}{noun}, above the limit of {allowed}{noun} "
            f"({env_name(field_name)}); it was not read.",
        )


def _empty(name: str) -> ReportError:
    return ReportError(f"报告文件「{name}」为空。", f"Report file '{name}' is empty.")


def _unread(name: str, problem: Problem, suffix: str) -> ReportError:
    """A reader's refusal as the report's one sentence."""
    if problem.rule_id == "FILE.EMPTY":
        return _empty(name)
    if problem.rule_id == "FILE.NOT_WORKBOOK":
        return _not_valid(name, suffix)
    reason, reason_en = problem.detail, problem.message("en").rstrip(".")
    if suffix in (".xlsx", ".xls") and problem.rule_id not in ("FILE.UNSAFE", "FILE.TOO_LARGE"):
        reason = problem.message().rstrip("。")  # a workbook's refusal as a county reads it
    if problem.rule_id == "FILE.ENCRYPTED":
        reason, reason_en = PASSWORD_PROTECTED
    elif problem.rule_id == "FILE.TOO_LARGE":
        variable = env_name(_size_limit(suffix))
        reason = f"大小为 {problem.detail}，超过上限 {problem.expected}（{variable}）"
        reason_en = f"its size is {problem.detail}, above the limit of {problem.expected} ({variable})"
    return ReportError(f"报告文件「{name}」未予读取：{reason}。",
                       f"Report file '{name}' was not read: {reason_en}.")  # fmt: skip


def _not_valid(name: str, suffix: str) -> ReportError:
    """A .docx or workbook its reader cannot open."""
    kind = "Word 文档（.docx）" if suffix == ".docx" else "Excel 工作簿（.xlsx 或 .xls）"
    kind_en = "Word document (.docx)" if suffix == ".docx" else "Excel workbook (.xlsx or .xls)"
    return ReportError(f"报告文件「{name}」不是有效的 {kind}。",
                       f"Report file '{name}' is no valid {kind_en}.")  # fmt: skip


# Where a line ends, as str.splitlines sees it.
_LINE_END = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _text_lines(text: str, name: str, limits: Limits) -> list[str]:
    """The text's lines, refused when there are more, or longer, than the limits allow
    (both counted before a line is copied out of the text)."""
    count = start = 0
    longest = (0, 0)  # characters, line number
    for end in _LINE_END.finditer(text):
        count += 1
        longest = max(longest, (end.start() - start, -count))
        start = end.end()
    if start < len(text):  # a last line without its line break
        count += 1
        longest = max(longest, (len(text) - start, -count))
    _within(name, limits, paragraphs=count)
    if longest[0] > limits.report_line_chars:
        raise ReportError(
            f"报告文件「{name}」第 {-longest[1]:,} 行有 {longest[0]:,} 个字符，超过上限 "
            f"{limits.report_line_chars:,} 个字符（{env_name('report_line_chars')}），未予读取。",
            f"Report file '{name}': line {-longest[1]:,} has {longest[0]:,} characters, above "
            f"the limit of {limits.report_line_chars:,} ({env_name('report_line_chars')}); "
            "it was not read.",
        )
    return text.splitlines()


def parse_text(text: str, path: Path = Path("report.txt")) -> Document:
    """A report already decoded to text (the layout of SPEC §1.3)."""
    return _build(path, text_items(text.splitlines()))


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data or data.startswith((b"\xff\xfe", b"\xfe\xff", b"PK\x03\x04")):
        raise ReportError(
            f"报告文件「{name}」不是 UTF-8 或 GB18030 编码的文本，请另存为 UTF-8 文本后再提交。",
            f"Report file '{name}' is no UTF-8 or GB18030 text; save it as UTF-8 text and "
            "submit it again.",
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ReportError(f"报告文件「{name}」的编码无法识别，请另存为 UTF-8 或 GB18030 编码的文本。",
                      f"The encoding of report file '{name}' cannot be told; save it as UTF-8 "
                      "or GB18030 text.")  # fmt: skip


def _pdf_items(data: bytes, name: str, limits: Limits) -> tuple[list[Line | RawTable], list[Said]]:
    try:
        read = read_pdf(data, limits.unpacked_mb, limits.report_pages)
    except PdfRefused as refused:
        raise ReportError(f"报告文件「{name}」未予读取：{refused}。",
                          f"Report file '{name}' was not read: {refused.en}.") from None
    except PdfTooLong as long:
        _within(name, limits, pages=long.pages)
        raise  # _within has refused it: more pages than the limit
    return tab_laid(read.items, page=True), read.unread


def _sheet_items(sheets: dict[str, RawSheet]) -> tuple[list[Line | RawTable], list[Said]]:
    """A workbook's visible sheets, each a table (its merged ranges as spans), and the hidden
    ones named as unread. Rows above a sheet's table that hold one cell (its title, 单位：万元)
    are its caption; a line is a sheet row, counted on from the last row of the sheet before."""
    items: list[Line | RawTable] = []
    unread: list[Said] = []
    offset = 0
    for name, sheet in sheets.items():
        if sheet.hidden:
            unread.append(Said(f"工作表「{name}」是隐藏的", f"sheet '{name}' is hidden"))
            continue
        # Merged ranges clipped to the cells the sheet holds: a range over XFD1048576 costs
        # no more than the sheet (ranges never overlap; once they would, the rest is ignored).
        last_row = max(sheet.row_numbers, default=sheet.header_row)
        last_col = max((len(r) for r in (sheet.header, *sheet.rows)), default=0) - 1
        budget = last_row * (last_col + 1)
        covered: dict[tuple[int, int], tuple[int, int] | None] = {}
        for r1, c1, r2, c2 in sheet.merged:
            rows_in, cols_in = range(r1, min(r2, last_row) + 1), range(c1, min(c2, last_col) + 1)
            budget -= len(rows_in) * len(cols_in)
            if budget < 0:
                break
            covered |= {(r, c): None for r in rows_in for c in cols_in}
            covered[r1, c1] = (r2 - r1 + 1, c2 - c1 + 1)
        hidden = set(sheet.hidden_rows)
        numbered = [(sheet.header_row, sheet.header), *zip(sheet.row_numbers, sheet.rows, strict=True)]
        rows = []
        for number, cells in numbered:
            if number in hidden or not number:
                continue
            row = []
            for c, text in enumerate(cells):
                span = covered.get((number, c), (1, 1))
                row.append(RawCell(text or "", offset + number, c, span is None, span or (1, 1)))
            rows.append(row)
        if hidden & set(sheet.row_numbers):
            n = len(hidden & set(sheet.row_numbers))
            unread.append(Said(f"工作表「{name}」有 {n} 行是隐藏的", f"{n} rows of sheet '{name}' are hidden"))
        offset += last_row
        found = split_tables(rows, "sheet")
        if found and isinstance(found[0], RawTable) and not re.fullmatch(r"(?i)sheet\d*", name):
            found[0].title = name  # no caption above it: the sheet's name is its title
        items += found
    return items, unread


def _docx_items(data: bytes, name: str) -> list[Line | RawTable]:
    """The document's paragraphs and tables, from the very bytes the readers checked."""
    try:
        import docx
    except ImportError:
        raise ReportError("读取 .docx 报告需要安装 python-docx。",
                          "Reading a .docx report needs python-docx installed.") from None
    try:
        return _docx_walk(docx.Document(io.BytesIO(data)))
    except Exception:  # python-docx's errors on a malformed document share no type
        raise _not_valid(name, ".docx") from None


def _docx_walk(document) -> list[Line | RawTable]:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph as DocxParagraph

    items: list[Line | RawTable] = []
    line = 0
    tables = 0  # Word's tables so far, a one-column layout table among them
    body = document._body  # the parent python-docx needs to resolve paragraph styles

    def paragraph_text(el) -> str:
        return DocxParagraph(el, body).text

    @functools.cache
    def heading_level(style_id: str | None) -> int | None:
        # Resolved once per style: python-docx searches styles.xml on every look-up, which
        # made a paragraph cost a millisecond and a long document minutes.
        style = document.part.get_style(style_id, WD_STYLE_TYPE.PARAGRAPH)
        level = re.fullmatch(r"(?:Heading|标题)\s*(\d)", style.name if style else "")
        return int(level[1]) + 1 if level else None

    def walk(parent) -> None:
        nonlocal line, tables
        for el in parent.iterchildren():
            if el.tag == qn("w:p"):
                line += 1
                level = heading_level(el.style)
                text = paragraph_text(el)
                # A soft line break starts a new line of the same paragraph.
                items.extend(Line(part, line, level) for part in (text.split("\n") or [""]))
            elif el.tag == qn("w:tbl"):
                tables += 1
                origin = (tables, line + 1)
                rows = []
                above: dict[int, RawCell] = {}  # per grid column, the cell merged down from
                for tr in el.iterchildren(qn("w:tr")):
                    line += 1
                    col = tr.grid_before
                    cells = [RawCell("", line, c, True) for c in range(col)]
                    for tc in tr.iterchildren(qn("w:tc")):
                        span = tc.grid_span
                        if tc.vMerge == "continue" and col in above:  # covered by the cell above
                            anchor = above[col]
                            anchor.span = (anchor.span[0] + 1, anchor.span[1])
                            cells += [RawCell("", line, col + k, True) for k in range(span)]
                            col += span
                            continue
                        text = "\n".join(paragraph_text(p) for p in tc.iterchildren(qn("w:p")))
                        cell = RawCell(text.strip(), line, col, span=(1, span))
                        if tc.vMerge == "restart":
                            above[col] = cell
                        else:
                            above.pop(col, None)
                        cells.append(cell)
                        cells += [RawCell("", line, col + k, True) for k in range(1, span)]
                        col += span
                    if cells:
                        rows.append(cells)
                if any(len(r) > 1 for r in rows):
                    items.append(RawTable(rows, "docx", origin=origin))
                else:  # a one-column layout table: its text is prose
                    items.extend(
                        Line(t, c.line) for r in rows for c in r for t in c.text.split("\n")
                    )
            elif el.tag == qn("w:sdt") and (content := el.find(qn("w:sdtContent"))) is not None:
                walk(content)

    walk(document.element.body)
    return tab_laid(items)


_NO_SENTENCE = re.compile(r"[。，,；;！!？?]")
_UNIT_CAPTION = re.compile(r"[（]?\s*(?:金额)?单位\s*[：:]\s*([^\s，,；;）]+)\s*[）]?")
_REPORT_TITLE = re.compile(r"绩效.{0,6}报告")
_SEAL = re.compile(r"[（(]\s*(?:盖章|公章|签章)\s*[）)]|^(?:报告|填报|编制)?单位\s*[：:]")


def _caption_like(p: Paragraph) -> bool:
    """A short line that is no sentence: ends without punctuation, holds no 。，；."""
    return (
        p.kind == "body"
        and len(p.text) <= 60
        and not _NO_SENTENCE.search(fold(p.text))
        and not p.text.endswith(("：", ":"))
    )


def _forms(items: list[Line | RawTable]) -> list[Line | RawTable]:
    """Every table holding the national 自评表 cut into its parts (ingest.national_form), the
    form's title taken from the lines just above (…自评表) when the table does not hold it."""
    out: list[Line | RawTable] = []
    for item in items:
        if isinstance(item, RawTable):
            above = (x.text.strip() for x in reversed(out[-6:]) if isinstance(x, Line))
            if (shaped := shape(item, next((t for t in above if "自评表" in t), None))) is not None:
                out += shaped
                continue
        out.append(item)
    return out


def _build(path: Path, items: list[Line | RawTable]) -> Document:
    items = _forms(items)
    paragraphs: list[Paragraph] = []
    positions: list[int] = []  # each paragraph's position in ``items``
    tables: list[tuple[int, RawTable, tuple[str, ...]]] = []
    stack: list[tuple[int, str]] = []
    # A .docx paragraph's number within its section, as a reader finds it in Word: counted
    # from the section's heading (0) down, one per Word paragraph that holds text (lines
    # split at a soft break share theirs; an empty paragraph is not counted, nor is a
    # table, whose rows are 表 n 第 r 行; a one-column layout table's rows, read as prose,
    # count as paragraphs). Before the first heading, from the document's start.
    docx, number, counted = path.suffix.lower() == ".docx", 0, None
    for pos, item in enumerate(items):
        section = tuple(name for _, name in stack)
        if isinstance(item, RawTable):
            tables.append((pos, item, section))
            continue
        text = item.text.strip()
        if not text:
            continue
        heading = _heading(text, item.style_level)
        if heading:
            level, name = heading
            stack = [(lv, n) for lv, n in stack if lv < level] + [(level, name)]
            section = tuple(n for _, n in stack)
            number = 0
        elif item.line != counted:
            number += 1
        counted = item.line
        kind = "heading" if heading else "body"
        paragraphs.append(Paragraph(text, item.line, section, kind, item.page,
                                    number if docx else None))  # fmt: skip
        positions.append(pos)
    at = {pos: i for i, pos in enumerate(positions)}

    title = _title(paragraphs, positions, at)
    built = []
    for index, (pos, raw, section) in enumerate(tables):
        caption = []  # paragraph indices, bottom-up
        p = pos - 1
        if p not in at and p - 1 in at and isinstance(items[p], Line):
            p -= 1  # one blank line between caption and table
        while p in at and len(caption) < 3 and _caption_like(paragraphs[at[p]]):
            caption.append(at[p])
            p -= 1
        for i in caption:
            paragraphs[i] = replace(paragraphs[i], kind="caption")
        table_title, unit = _caption([paragraphs[i].text for i in reversed(caption)])
        ends = not positions or positions[-1] < pos  # positions ascend: no text after it
        built.append(
            _table(index, raw, section, raw.title or table_title, raw.unit or unit, ends)
        )
    unit, dated = _signature(paragraphs, positions, tables[-1][0] if tables else -1)
    return Document(path, title, unit, dated, paragraphs, built)


def _title(paragraphs: list[Paragraph], positions: list[int], at: dict[int, int]) -> str | None:
    """The first short line naming a 绩效…报告; a bare 绩效自评报告 takes the line above."""
    for i, p in enumerate(paragraphs):
        if p.kind == "body" and _REPORT_TITLE.search(p.text) and _caption_like(p):
            paragraphs[i] = replace(p, kind="title")
            above = at.get(positions[i] - 1)
            if p.text.startswith("绩效") and above is not None and _caption_like(paragraphs[above]):
                paragraphs[above] = replace(paragraphs[above], kind="title")
                return paragraphs[above].text + p.text
            return p.text
    return None


def _caption(lines: list[str]) -> tuple[str | None, str | None]:
    unit = None
    parts = []
    for text in lines:
        if m := _UNIT_CAPTION.search(fold(text)):
            unit = m[1]
            text = (text[: m.start()] + text[m.end() :]).strip()
        if text:
            parts.append(text)
    return "".join(parts) or None, unit


_APPENDIX = re.compile(r"^\s*附[表件]\s*\d*\s*([:：《].*)?$")


def _signature(
    paragraphs: list[Paragraph], positions: list[int], last_table: int
) -> tuple[str | None, dt.date | None]:
    """The unit and date signing the report: a date line among its last three lines.

    The date may share its line with the unit; otherwise the unit is the line above,
    when that is a short name (no sentence punctuation), with 单位：/（盖章） removed.
    """
    tails = [[i for i, pos in enumerate(positions) if pos > last_table][-3:]]
    # Appendices (附表1 …) may follow the signature: then it is what precedes them.
    appendix = next(
        (
            i
            for i, p in enumerate(paragraphs)
            if _APPENDIX.match(p.text) and i > len(paragraphs) // 2
        ),
        None,
    )
    if appendix is not None:
        tails.append(list(range(max(0, appendix - 3), appendix)))
    for tail in tails:
        found = _signed(paragraphs, tail)
        if found[1] is not None:
            return found
    return None, None


def _signed(paragraphs: list[Paragraph], tail: list[int]) -> tuple[str | None, dt.date | None]:
    for i in reversed(tail):
        text = fold(paragraphs[i].text)
        dates = find_dates(text)
        if not dates or dates[-1][1] != len(text.rstrip()):
            continue
        start, _, dated = dates[-1]
        before = paragraphs[i].text[:start]
        if before.strip() and not before[-1].isspace():
            continue  # a sentence ending in a date, not a signature
        name = _SEAL.sub("", before).strip(" ：:")
        paragraphs[i] = replace(paragraphs[i], kind="signature")
        if not name and i - 1 >= 0 and i - 1 in tail:
            above = paragraphs[i - 1]
            candidate = _SEAL.sub("", above.text).strip(" ：:")
            if candidate and _caption_like(above) and not find_dates(fold(above.text)):
                paragraphs[i - 1] = replace(above, kind="signature")
                name = candidate
        if name and (len(name) > 40 or _NO_SENTENCE.search(name) or find_dates(fold(name))):
            name = ""
        return name or None, dated
    return None, None


# --- table layout -------------------------------------------------------------------------


def _kind(text: str) -> str:
    return "empty" if not text else "value" if is_value(text) else "text"


def _place(kinds: list[str], profile: list[set[str]]) -> list[int]:
    """Columns for a short row's cells, in order, where their kinds fit the columns best.

    Ties go to labels as far left and figures as far right as they fit: a footer such
    as 最终得分 / 权重 / 96.49 puts its figure under the last (total) column.
    """
    n, width = len(kinds), len(profile)
    best: dict[tuple[int, int], tuple[tuple[int, int], tuple[int, ...]]] = {}
    for j, kind in enumerate(kinds):
        leader = None  # the best placement of the cells before j in a column left of c
        for c in range(j, width - (n - j) + 1):
            if (
                j
                and (j - 1, c - 1) in best
                and (leader is None or best[j - 1, c - 1][0] > leader[0])
            ):
                leader = best[j - 1, c - 1]  # the first of equals stays, as max() keeps it
            gain = (int(kind in profile[c]), c if kind == "value" else -c if kind == "text" else 0)
            if j == 0:
                best[j, c] = (gain, (c,))
            elif leader is not None:
                (score, tie), cols = leader
                best[j, c] = ((score + gain[0], tie + gain[1]), (*cols, c))
    return list(
        max((best[n - 1, c] for c in range(width) if (n - 1, c) in best), key=lambda b: b[0])[1]
    )


def _table(
    index: int,
    raw: RawTable,
    section: tuple[str, ...],
    title: str | None,
    unit: str | None,
    ends_document: bool,
) -> Table:
    """Lay the rows out on one grid of columns and decide whether the table is whole.

    Truncated (cannot be verified) when: a row has more cells than most rows and the
    extra ones are not empty; a row has fewer and the missing places fall under figure
    columns — unless it is the last row, holds at most half the columns and text
    follows the table (a footer such as 最终得分 merged across the columns); or the
    table ends the document while its header names a 合计/总计 and no row is one. One-cell rows (a heading row spanning the table)
    and a short header are never a problem.
    """
    rows = raw.rows
    widths = Counter(_width(r) for r in rows if len(r) > 1)
    width = max(widths, key=lambda w: (widths[w], w)) if widths else 1
    full = [r for r in rows[1:] if _width(r) == width] or [r for r in rows if _width(r) == width]
    profile = [set() for _ in range(width)]
    for r in full:
        for c, cell in zip(_columns(r), r, strict=True):
            profile[c].add(_kind(cell.text))
    numbers = [r[0].text for r in full if r and _NUMBER_ONLY.fullmatch(r[0].text)]
    index_col = len(numbers) >= 2 and numbers == [str(i) for i in range(1, len(numbers) + 1)]

    problem = None
    grid: list[list[Cell]] = []
    for i, r in enumerate(rows):
        line = r[0].line
        if len(r) == 1 or _width(r) >= width:
            cols = _columns(r)
            extra = [cell for c, cell in zip(cols, r, strict=True) if c >= width and cell.text]
            if extra and problem is None:
                problem = Said(f"第{i + 1}行有{len(r)}个单元格，多数行为{width}个",
                               f"row {i + 1} has {len(r)} cells, most rows {width}")
        else:
            placed = r[0].col is not None
            cols = _columns(r) if placed else _place([_kind(c.text) for c in r], profile)
            if i == 0 and not placed:
                cols = list(range(len(r)))
            taken = set(cols)
            gaps = [c for c in range(width) if c not in taken]
            missing = [c for c in gaps if "value" in profile[c] and not (c == 0 and index_col)]
            # A last row merged across most of the table (最终得分 / 权重 / 96.49), with text
            # after the table, is a footer; one missing a cell or two is damaged.
            footer = i == len(rows) - 1 and not ends_document and len(r) <= width // 2
            if i > 0 and missing and not footer and problem is None:
                problem = Said(f"第{i + 1}行只有{len(r)}个单元格，多数行为{width}个",
                               f"row {i + 1} has only {len(r)} cells, most rows {width}")
            by_col = dict(zip(cols, r, strict=True))
            r = [by_col.get(c) or RawCell("", line, c, True) for c in range(max(width, len(r)))]
            cols = list(range(len(r)))
        grid.append(
            [Cell(cell.text, i, c, cell.line, cell.merged, cell.span)
             for c, cell in zip(cols, r, strict=True)]  # fmt: skip
        )
    if problem is None and ends_document and rows:
        promises = any(re.search("合计|总计", c.text) for c in grid[0])
        if promises and not any(re.match("合计|总计", c.text) for r in grid[1:] for c in r):
            problem = Said("表格位于文末，缺少表头所示的合计行，疑似被截断",
                           "the table ends the document without the total row its header "
                           "names: cut off?")
    first = next((c.line for r in grid for c in r), 0)
    return Table(index, title, unit, grid, first, section, problem is not None, problem,
                 raw.layout, raw.form, raw.page, raw.origin)  # fmt: skip


def _columns(row: list[RawCell]) -> list[int]:
    return [c.col if c.col is not None else i for i, c in enumerate(row)]


def _width(row: list[RawCell]) -> int:
    """Cells in the row (grid columns in .docx, where merged cells are already spread)."""
    return (row[-1].col + 1) if row and row[-1].col is not None else len(row)
