"""What every reader of a report produces, before its layout is read (ingest/report.py).

A reader (plain text in its table layouts, .docx, .pdf, a workbook) turns its file into a
sequence of lines and raw tables: cells with their text and where they stand, spans where
the file says so, nothing decided about headers, totals or sections. Here too are the
readings of one cell every layout needs: whether it holds a figure, and the dates in a text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from jixiao.said import Said
from jixiao.schemas.vocabulary import fold

# --- dates ------------------------------------------------------------------------------

_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "两": 2}
_Y = r"\d{4}|[〇零一二三四五六七八九]{4}"
_MD = r"\d{1,2}|[一二三四五六七八九十]{1,3}"
_DATE = re.compile(
    rf"(?<!\d)(?P<y>{_Y})\s*年\s*(?P<m>{_MD})\s*月\s*(?P<d>{_MD})\s*[日号]"
    rf"|(?<![\d.])(?P<y2>\d{{4}})(?P<sep>[-/.])(?P<m2>\d{{1,2}})(?P=sep)(?P<d2>\d{{1,2}})(?![\d.])"
)
# The second date of a range: 2023年4月21日至5月25日, 至25日; missing parts come from the first.
_RANGE_END = re.compile(
    rf"\s*(?:至|到|—|–|-|~|～)\s*(?:(?P<y>{_Y})\s*年\s*)?(?:(?P<m>{_MD})\s*月\s*)?(?P<d>{_MD})\s*[日号]"
)


def _small_int(text: str) -> int:
    """``30``, ``十七``, ``二〇二三`` → int (digit by digit when there is no 十)."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    tens, _, units = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def _date(y: str, m: str, d: str) -> dt.date | None:
    try:
        return dt.date(_small_int(y), _small_int(m), _small_int(d))
    except (ValueError, KeyError):
        return None


def find_dates(text: str) -> list[tuple[int, int, dt.date]]:
    """Every full date in ``text`` (folded) as (start, end, date), ranges as two dates.

    Month-only dates (2022年12月) are not dates here: a day is needed to check one.
    """
    found: list[tuple[int, int, dt.date]] = []
    for m in _DATE.finditer(text):
        y, mo, d = (m["y"], m["m"], m["d"]) if m["y"] else (m["y2"], m["m2"], m["d2"])
        first = _date(y, mo, d)
        if first is None:
            continue
        found.append((m.start(), m.end(), first))
        if end := _RANGE_END.match(text, m.end()):
            second = _date(end["y"] or y, end["m"] or mo, end["d"])
            if second is not None:
                start = (
                    end.start("y") if end["y"] else end.start("m") if end["m"] else end.start("d")
                )
                found.append((start, end.end(), second))
    return found


def parse_date(text: str) -> dt.date | None:
    """A text that is one date and nothing else (``2023年5月17日``, ``二〇二三年五月十七日``)."""
    text = fold(text).strip()
    dates = find_dates(text)
    return dates[0][2] if len(dates) == 1 and dates[0][:2] == (0, len(text)) else None


# --- cells --------------------------------------------------------------------------------

# A figure as a table cell holds it: a bound sign, a number, a short unit (5个县市区, 33.5万元).
_VALUE = re.compile(
    r"[≥≤<>=]{0,2}\s*[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*(?:%|‰|[\u4e00-\u9fff（）/]{0,6})"
)


# A target cell says 不低于9场 or 2023年6月30日前: still a figure, not a label.
_BOUND_WORDS = re.compile(r"^(?:不低于|不少于|不超过|不高于|至少)|(?:之前|以前|前|以上|以下|以内)$")


def is_value(text: str) -> bool:
    """Whether a cell holds a figure (a number with an optional short unit, or a date)."""
    text = _BOUND_WORDS.sub("", fold(text).strip()).strip()
    return bool(text) and (bool(_VALUE.fullmatch(text)) or parse_date(text) is not None)


# --- what the readers give -----------------------------------------------------------------

# How a table was laid out in its file, as coverage lines name it.
LAYOUTS = {
    "tab": Said("制表符分隔", "tab-led"),  # SPEC §1.3: one cell per tab-led line
    "pipe": Said("竖线分隔", "between bars"),  # cells between | (web pages, Markdown)
    "aligned": Said("空格对齐", "space-aligned"),  # columns aligned with runs of spaces
    # cells separated by single spaces, as a web page flattens them
    "spaced": Said("空格分隔", "space-separated"),
    "run": Said("连排", "run together"),  # a whole table run together on one line
    "docx": Said("Word 表格", "Word"),
    "pdf": Said("PDF 表格", "PDF"),
    "sheet": Said("工作表", "worksheet"),
}


@dataclass
class Line:
    text: str
    line: int
    style_level: int | None = None  # .docx Heading N
    page: int | None = None  # .pdf: the page it stands on


@dataclass
class RawCell:
    text: str
    line: int
    col: int | None = None  # known in .docx, .pdf, a sheet and aligned text; else placed by layout
    merged: bool = False  # covered by a cell merged across or down: no text of its own
    span: tuple[int, int] = (1, 1)  # rows and columns a merged cell covers, itself included


@dataclass
class RawTable:
    rows: list[list[RawCell]]
    layout: str = "tab"  # a key of LAYOUTS
    # Set by a reader or a layout that knows them (a sheet's name, a recognised form's part);
    # else the caption above gives title and unit.
    title: str | None = None
    unit: str | None = None
    form: str | None = None  # a part of the national 自评表: "funds" | "indicators"
    page: int | None = None
    # .docx: the table's number in the document and the line of its first row, so that a
    # cell is found where Word shows it (表 2 第 3 行), its line counting paragraphs too.
    origin: tuple[int, int] | None = None
