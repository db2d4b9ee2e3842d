"""Read one cell's text, as county offices really type it, into a typed value.

Every ``parse_*`` function is pure and total: it returns the value, or ``None``
when the text cannot be read with confidence. Deciding whether ``None`` is an
error (required column) or fine (optional column) is the contract's job, so
nothing here raises on bad data. Guessing is avoided: ambiguous text such as
``1,2`` or ``11/30/2022`` is unreadable rather than read one way.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

import polars as pl

# Invisible characters pasted in from web pages and WeChat; never meaningful in this data:
# zero-width space / non-joiner / joiner, word joiner, BOM, soft hyphen, and the left-to-right,
# right-to-left and Arabic letter marks. The marks only nudge how neutral characters are laid
# out next to right-to-left text, which this data has none of. The bidirectional embeddings,
# overrides and isolates (U+202A–U+202E, U+2066–U+2069), which do reorder what is shown, are
# not dropped here: the readers refuse them (VALUE.CONTROL_CHAR), like control characters.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u061c"))
# NFKC leaves these dashes alone, but to a county they are a minus sign.
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})

_INT64_MAX = 2**63 - 1
_INT64_DIGITS = 19
# DECIMAL(18, 2) holds at most 16 digits before the point.
_MONEY_LIMIT = Decimal(10) ** 16
_FEN = Decimal("0.01")

# An unsigned number: digits with optional correct thousands grouping, optional fraction.
# Loose grouping ("1,2", "12,00") is refused: it is as likely a typo for a decimal point.
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_INT_RE = re.compile(rf"([+-]?)({_NUMBER})")
_NUMBER_RE = re.compile(rf"[+-]?{_NUMBER}")
_MONEY_RE = re.compile(rf"([+-]?)\s*¥?\s*([+-]?)({_NUMBER})\s*(万元|万|元)?")

_TIME = r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
# Dates in Chinese numerals, as clerks type them (二〇二二年二月十一日, 2〇22年2月11日): a year is
# four digits, each an Arabic or a Chinese one, its zeros also typed as ○ (a white circle) or
# the letter O; a month or a day is Arabic digits or a Chinese numeral up to 三十一 (廿三 too).
_CN_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | dict.fromkeys("零○Oo", "0")


def _numerals_to_31() -> dict[str, int]:
    """一 … 九, 十, 十一 … 十九, 二十 … 三十一, and 廿 / 卅 for 二十 / 三十: a month or a day."""
    units = ("", *"一二三四五六七八九")
    table = {}
    for n in range(1, 32):
        tens, unit = divmod(n, 10)
        table[(units[tens] if tens > 1 else "") + ("十" if tens else "") + units[unit]] = n
        if tens > 1:
            table["廿卅"[tens - 2] + units[unit]] = n
    return table


_CN_DAYS = _numerals_to_31()
_YEAR = rf"[\d{''.join(_CN_DIGITS)}]{{4}}"
_MONTH_DAY = r"\d{1,2}|[一二三四五六七八九十廿卅]{1,3}"
_DATE_RES = (
    re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}"),  # 2022-11-30, 2022/11/30
    re.compile(rf"({_YEAR})\s*(年)\s*({_MONTH_DAY})\s*月\s*({_MONTH_DAY})\s*[日号]?{_TIME}"),
    re.compile(rf"(\d{{4}})()(\d{{2}})(\d{{2}}){_TIME}"),  # 20221130
)
_SERIAL_RE = re.compile(r"(\d{1,7})(?:\.0+)?")
# Excel's largest date serial is 9999-12-31.
_SERIAL_MAX = 2958465

_PLAIN = r"^[!-~\u4e00-\u9fff](?:[ !-~\u4e00-\u9fff]*[!-~\u4e00-\u9fff])?$"

_YES = frozenset({"是", "y", "yes", "true", "1"})
_NO = frozenset({"否", "n", "no", "false", "0"})


def clean_text(text: str | None) -> str | None:
    """Full-width ASCII to half-width (NFKC), drop invisible characters, strip; '' -> None.

    NFKC also turns U+3000 and NBSP into ordinary spaces, so ``strip`` removes them.
    Inner spaces are kept: they can be part of a name or an address.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).strip()
    return text or None


def _number_text(text: str | None) -> str | None:
    cleaned = clean_text(text)
    return cleaned.translate(_MINUS) if cleaned else None


def parse_int(text: str | None) -> int | None:
    """``12``, ``１２``, ``1,200``, ``12.0``, `` 12 ``, ``-3`` -> int; anything else None.

    A fraction is accepted only when it is all zeros (Excel renders 12 as ``12.0``
    in some exports). Refused: ``12.5``, scientific notation such as ``1e3`` (never
    typed by a county, and our readers never render numbers that way), units such
    as ``12人`` (the unit could be the wrong one), and values outside Int64.
    Negative numbers are returned: the contract reports them as out of range.
    """
    cleaned = _number_text(text)
    match = _INT_RE.fullmatch(cleaned) if cleaned else None
    if not match:
        return None
    sign, number = match.groups()
    whole, _, fraction = number.replace(",", "").partition(".")
    if fraction.strip("0"):
        return None
    if len(whole.lstrip("0")) > _INT64_DIGITS:  # before int(): 5,000 digits would raise
        return None
    whole = whole.lstrip("0") or "0"
    value = -int(whole) if sign == "-" else int(whole)
    return value if -_INT64_MAX - 1 <= value <= _INT64_MAX else None


def parse_money(text: str | None) -> Decimal | None:
    """Money in yuan, exact, quantized to 0.01: ``400``, ``400元``, ``¥4,000.00``, ``0.04万元``.

    ``万``/``万元`` multiply by 10 000 in Decimal, never via float. A sign may stand
    before or after ``¥`` (``-¥400``, ``¥-400``). Amounts finer than one fen
    (``400.005``, ``0.0000001万``) are refused rather than rounded: rounding would
    silently change what the county reported. Values too large for DECIMAL(18, 2)
    are refused. Negative amounts are returned for the contract to reject.
    """
    cleaned = _number_text(text)
    match = _MONEY_RE.fullmatch(cleaned) if cleaned else None
    if not match:
        return None
    sign_before, sign_after, number, unit = match.groups()
    if sign_before and sign_after:
        return None
    digits = number.replace(",", "")
    if len(digits.partition(".")[0].lstrip("0")) > 16:  # beyond DECIMAL(18, 2) even in yuan
        return None
    try:
        amount = Decimal(digits)
        if unit and unit.startswith("万"):
            amount *= 10000
        if "-" in (sign_before, sign_after):
            amount = -amount
        fen = amount.quantize(_FEN)
    except InvalidOperation:  # a fraction too long for the context; never raise
        return None
    if fen != amount or abs(fen) >= _MONEY_LIMIT:
        return None
    return fen if fen else Decimal("0.00")  # no "-0.00"


def _from_serial(serial: int) -> datetime.date | None:
    # 1900 date system. Excel counts the nonexistent 1900-02-29 as serial 60 (the Lotus
    # 1-2-3 bug), so serials from 61 on are offset from 1899-12-30, earlier ones from 1899-12-31.
    if serial < 1 or serial > _SERIAL_MAX or serial == 60:
        return None
    base = datetime.date(1899, 12, 30) if serial > 60 else datetime.date(1899, 12, 31)
    return base + datetime.timedelta(days=serial)


def parse_date(text: str | None) -> datetime.date | None:
    """A calendar date from the forms counties type, or None.

    Read: ``2022-11-30``, ``2022/11/30``, ``2022.11.30``, ``2022年11月30日`` (also
    ``号`` or no suffix), the same in Chinese numerals (``二〇二二年十一月三十日``,
    ``二零二二年二月十一号``, ``2〇22年2月11日``, a year's zero as ``○`` or ``O``),
    ``20221130``, full-width digits, any of these followed by a time of day
    (``2022-11-30 00:00:00``, as a spreadsheet datetime renders; the time is dropped), and
    Excel serials as text (``44895``, ``44895.0``; integral values 1-2958465 in the 1900
    date system). Refused: impossible dates (``2022年2月30日``, ``二〇二二年二月三十日``),
    two-digit years and month-first or day-first orders (ambiguous), fractional serials.
    """
    cleaned = clean_text(text)
    if not cleaned:
        return None
    serial = _SERIAL_RE.fullmatch(cleaned)
    if serial:
        return _from_serial(int(serial.group(1)))
    for pattern in _DATE_RES:
        match = pattern.fullmatch(cleaned)
        if match:
            year, _, month, day = match.groups()
            year = "".join(_CN_DIGITS.get(c, c) for c in year)
            month, day = (int(t) if t.isdigit() else _CN_DAYS.get(t) for t in (month, day))
            try:
                return datetime.date(int(year), month, day)
            except (TypeError, ValueError):  # a numeral that is no month or day, a 30 February
                return None
    return None


def parse_number(text: str | None) -> float | None:
    """A number as counties type it (``12.5``, ``１,200``, `` -3 ``) -> float; else None.
    Money is never read this way (parse_money keeps it exact)."""
    cleaned = _number_text(text)
    if not cleaned or not _NUMBER_RE.fullmatch(cleaned):
        return None
    return float(cleaned.replace(",", ""))


def parse_yes_no(text: str | None) -> bool | None:
    """是/否, Y/N, yes/no, TRUE/FALSE (an Excel boolean cell), 1/0 -> bool; else None."""
    cleaned = clean_text(text)
    if cleaned is None:
        return None
    word = cleaned.lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None


def county_code(text: str | None, counties: dict[str, str]) -> str | None:
    """The county's code from its code (``530102``) or its full name (``五华区``), else None.

    ``counties`` maps code to name. Abbreviated names (``五华``) are not read:
    several Chinese counties share a stem, so a stem is not an identity.
    """
    cleaned = clean_text(text)
    if cleaned is None:
        return None
    if cleaned in counties:
        return cleaned
    for code, name in counties.items():
        if clean_text(name) == cleaned:
            return code
    return None


def county_of_file(text: str | None, counties: dict[str, str]) -> str | None:
    """The county a file's name (or its folder's) gives: its code or full name, as
    `county_code` reads them, or else the one county whose full name or code the name
    contains, as clerks name files (``盘龙区2022年残疾人就业服务报表``). A name containing
    two counties' names names none, nor does one with a dot or an escaped control character
    (``530103.v2.备注``, ``530103\\x1b[31m``): what else it says cannot be read."""
    if found := county_code(text, counties):
        return found
    cleaned = clean_text(text) or ""
    if "\\" in cleaned or "." in cleaned:  # an escaped control character, a stray .vN: not a clerk's
        return None
    named = {code for code, name in counties.items()
             if (n := clean_text(name)) and n in cleaned
             or re.search(rf"(?<!\d){re.escape(code)}(?!\d)", cleaned)}  # fmt: skip
    return named.pop() if len(named) == 1 else None


_PARSERS: tuple[tuple[type[pl.DataType], Callable[[str | None], object]], ...] = (
    (pl.String, clean_text),
    (pl.Int64, parse_int),
    (pl.Decimal, parse_money),
    (pl.Date, parse_date),
    (pl.Boolean, parse_yes_no),
    (pl.Float64, parse_number),
)


def normalise_column(values: pl.Series, dtype: pl.DataType,
                     words: tuple[list[str] | None, list[str] | None] | None = None) -> pl.Series:  # fmt: skip
    """Type a column of raw text cells: String, Int64, Float64, Decimal(18, 2), Date or
    Boolean; ``words`` are a boolean column's own true and false values (Table Schema's
    trueValues / falseValues), read besides 是/否 and the like.

    Unreadable cells become null (the caller compares with the raw column to report
    them). Each distinct text is parsed once and mapped back, so a column of a
    million rows with a few hundred distinct values costs a few hundred Python calls.
    Raises ValueError for an unsupported dtype: that is a programming error, not data.
    """
    parser = next((fn for kind, fn in _PARSERS if dtype == kind), None)
    if parser is None:
        raise ValueError(f"normalise_column does not handle {dtype}")
    text = values.cast(pl.String)
    if dtype == pl.String:
        # Identifiers and names are mostly distinct, so parsing each distinct text would
        # still be one Python call per row. Printable ASCII and CJK unified ideographs without
        # outer spaces are what clean_text returns unchanged (NFKC leaves both alone): only
        # the other texts go through Python.
        plain = text.str.contains(_PLAIN)
        distinct = text.filter(~plain).unique().drop_nulls().to_list()
        cleaned = text.replace_strict(
            distinct, [clean_text(v) for v in distinct], default=None, return_dtype=pl.String
        )
        return pl.select(pl.when(plain).then(text).otherwise(cleaned)).to_series().alias(text.name)
    if words:
        yes, no = (frozenset(clean_text(w) for w in ws or ()) for ws in words)
        plain_parser = parser

        def parser(value: str | None) -> bool | None:
            cleaned = clean_text(value)
            return True if cleaned in yes else False if cleaned in no else plain_parser(value)

    distinct = text.unique().drop_nulls().to_list()
    return text.replace_strict(
        distinct, [parser(value) for value in distinct], default=None, return_dtype=dtype
    )
