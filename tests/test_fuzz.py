"""Property tests for the parsers: what a county types round-trips exactly, and nothing a
county (or anyone) can put in a cell or a file makes a parser raise anything but our own
refusal.

- money, integers and dates written the ways counties write them parse back to the same
  value (Decimal, never float);
- every normaliser is total: any text gives a value of its type or None;
- GB 11643 resident IDs and GB 32100 credit codes generated with their check character are
  valid, and any single-character change makes them invalid (the only equivalent change is
  the case of a final X);
- Chinese numerals as the claims extractor reads them (``ingest.claims._chinese``);
- ``read_csv`` on arbitrary bytes returns a sheet or raises ``FileRefused``, nothing else,
  and CSV text written by the csv module (UTF-8 with BOM, or GB18030) reads back cell for cell;
- any file name (bytes, up to 255) is discovered as one printable line of text with a version
  ``ingest_log`` can hold, and its feedback page's name fits the filesystem.

Examples are bounded (``max_examples``, sizes) so the file runs in well under 30 s.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import cn2an
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from jixiao.ingest.claims import _chinese
from jixiao.ingest.discover import submissions
from jixiao.ingest.normalise import (
    clean_text,
    county_code,
    normalise_column,
    parse_date,
    parse_int,
    parse_money,
    parse_yes_no,
)
from jixiao.ingest.problems import FileRefused
from jixiao.ingest.readers import RawSheet, read_csv
from jixiao.limits import Limits
from jixiao.publish.feedback import feedback_path
from jixiao.sample.generate import PROGRAMME_YAML
from jixiao.schemas.identifiers import (
    CREDIT_CHARSET,
    credit_code_check,
    is_cert_no,
    is_credit_code,
    is_resident_id,
    resident_id_check,
)
from jixiao.schemas.programme import load_programme

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILES = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FULL_WIDTH = str.maketrans("0123456789,.-", "０１２３４５６７８９，．－")
COUNTIES = {"530102": "五华区", "530103": "盘龙区", "530111": "官渡区"}
TEMPLATE = load_programme(PROGRAMME_YAML).county_template  # the sample's: CSVs named by its sheets


# --- money ----------------------------------------------------------------------------------

MONEY = st.decimals(
    min_value=Decimal("-9999999999999999.99"),
    max_value=Decimal("9999999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


def _signed(amount: Decimal, body: Callable[[Decimal], str]) -> str:
    return ("-" if amount < 0 else "") + body(abs(amount))


MONEY_STYLES: dict[str, Callable[[Decimal], str]] = {
    "plain": lambda a: f"{a:f}",
    "grouped": lambda a: f"{a:,.2f}",
    "yuan": lambda a: f"{a:.2f}元",
    "yen-sign-before": lambda a: _signed(a, lambda x: f"¥{x:,.2f}"),
    "yen-sign-after": lambda a: "¥" + f"{a:,.2f}",
    "full-width": lambda a: f"{a:,.2f}".translate(FULL_WIDTH),
    "wan": lambda a: f"{a.scaleb(-4):f}万",
    "wan-yuan": lambda a: f"{a.scaleb(-4):f}万元",
    "spaced": lambda a: f" \u3000{a:f} 元\u00a0",
    "zero-width": lambda a: f"\u200b{a:f}\ufeff",
}


@FAST
@given(MONEY, st.sampled_from(sorted(MONEY_STYLES)))
@example(Decimal("0.04"), "wan")
@example(Decimal("-0.00"), "yen-sign-before")
def test_money_round_trips_exactly(amount: Decimal, style: str):
    text = MONEY_STYLES[style](amount)
    assert parse_money(text) == amount, text


@FAST
@given(MONEY)
def test_whole_yuan_without_decimals(amount: Decimal):
    whole = amount.to_integral_value(rounding=ROUND_DOWN)
    assert parse_money(str(int(whole))) == whole
    assert parse_money(f"{int(whole):,}元") == whole


@FAST
@given(
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False),
    st.sampled_from(["", "元"]),
)
def test_money_finer_than_a_fen_is_refused_not_rounded(amount: Decimal, unit: str):
    assume(amount != amount.quantize(Decimal("0.01")))
    assert parse_money(f"{amount:f}{unit}") is None


# --- integers -------------------------------------------------------------------------------

INT_STYLES: dict[str, Callable[[int], str]] = {
    "plain": str,
    "grouped": lambda n: f"{n:,}",
    "excel-float": lambda n: f"{n}.0",
    "zeros": lambda n: f"{n}.000",
    "full-width": lambda n: f"{n:,}".translate(FULL_WIDTH),
    "spaced": lambda n: f"\u3000 {n}\t",
    "plus": lambda n: f"+{n}" if n >= 0 else str(n),
}


@FAST
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.sampled_from(sorted(INT_STYLES)))
def test_integers_round_trip(number: int, style: str):
    text = INT_STYLES[style](number)
    assert parse_int(text) == number, text


@FAST
@given(st.integers(min_value=2**63, max_value=10**400) | st.integers(max_value=-(2**63) - 1))
def test_integers_outside_int64_are_none_not_an_error(number: int):
    assert parse_int(str(number)) is None
    assert parse_int(f"{number:,}") is None


@FAST
@given(st.integers(min_value=-(10**6), max_value=10**6), st.integers(min_value=1, max_value=9))
def test_integers_with_a_fraction_are_refused(number: int, tenth: int):
    assert parse_int(f"{number}.{tenth}") is None


# --- dates ----------------------------------------------------------------------------------

EXCEL_EPOCH = dt.date(1899, 12, 30)
DATE_STYLES: dict[str, Callable[[dt.date], str]] = {
    "iso": dt.date.isoformat,
    "slashes": lambda d: f"{d.year}/{d.month}/{d.day}",
    "dots": lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}",
    "chinese": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "chinese-hao": lambda d: f"{d.year} 年 {d.month} 月 {d.day} 号",
    "compact": lambda d: d.strftime("%Y%m%d"),
    "with-time": lambda d: f"{d.isoformat()} 00:00:00",
    "full-width": lambda d: f"{d.year}年{d.month}月{d.day}日".translate(FULL_WIDTH),
    "chinese-numerals": lambda d: (f"{cn2an.an2cn(str(d.year), 'direct')}年"  # cn2an: an oracle
                                   f"{cn2an.an2cn(d.month)}月{cn2an.an2cn(d.day)}日"),
    "excel-serial": lambda d: str((d - EXCEL_EPOCH).days),
    "excel-serial-float": lambda d: f"{(d - EXCEL_EPOCH).days}.0",
}


@FAST
@given(
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.sampled_from(sorted(DATE_STYLES)),
)
def test_dates_round_trip(day: dt.date, style: str):
    text = DATE_STYLES[style](day)
    assert parse_date(text) == day, text


@FAST
@given(
    st.integers(min_value=1000, max_value=9999),
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=99),
    st.sampled_from(["{y}-{m:02d}-{d:02d}", "{y}年{m}月{d}日", "{y}/{m}/{d}"]),
)
@example(2022, 2, 30, "{y}年{m}月{d}日")
@example(2022, 13, 1, "{y}-{m:02d}-{d:02d}")
def test_impossible_dates_are_none(year: int, month: int, day: int, form: str):
    try:
        expected = dt.date(year, month, day)
    except ValueError:
        expected = None
    assert parse_date(form.format(y=year, m=month, d=day)) == expected


# --- every normaliser is total --------------------------------------------------------------

NUMBERISH = st.from_regex(r"[-+¥￥\s0-9０-９,，.．eE万元年月日号/:T点]{0,40}", fullmatch=True)
ANY_TEXT = (
    st.text(max_size=60)
    | NUMBERISH
    | st.sampled_from(
        ["1e308", "NaN", "Infinity", "-inf", "--5", "9" * 5000, "0" * 5000 + "1", "1." + "0" * 5000]
    )
)


@FAST
@given(ANY_TEXT)
def test_normalisers_return_a_value_or_none(text: str):
    cleaned = clean_text(text)
    assert cleaned is None or (isinstance(cleaned, str) and cleaned == cleaned.strip() and cleaned)
    number = parse_int(text)
    assert number is None or (type(number) is int and -(2**63) <= number < 2**63)
    money = parse_money(text)
    assert money is None or (
        isinstance(money, Decimal)
        and money.is_finite()
        and money == money.quantize(Decimal("0.01"))
    )
    day = parse_date(text)
    assert day is None or type(day) is dt.date
    assert parse_yes_no(text) in (True, False, None)
    assert county_code(text, COUNTIES) in (None, *COUNTIES)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.none() | ANY_TEXT, max_size=30))
def test_normalise_column_types_every_cell_or_nulls_it(values: list[str | None]):
    series = pl.Series("x", values, dtype=pl.String)
    for dtype in (pl.String, pl.Int64, pl.Decimal(18, 2), pl.Date, pl.Boolean):
        out = normalise_column(series, dtype)
        assert out.len() == len(values)
        assert out.dtype == dtype


# --- identifiers ----------------------------------------------------------------------------


@st.composite
def resident_ids(draw) -> str:
    region = draw(st.from_regex(r"[1-9][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today()))
    first17 = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + resident_id_check(first17)


@st.composite
def credit_codes(draw) -> str:
    chars = draw(st.lists(st.sampled_from(CREDIT_CHARSET), min_size=17, max_size=17))
    chars[2:8] = draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    first17 = "".join(chars)
    return first17 + credit_code_check(first17)


ID_CHARS = "0123456789Xx"
CREDIT_CHARS = CREDIT_CHARSET + "IOSVZabc-"


@FAST
@given(resident_ids(), st.integers(1, 7), st.integers(1, 4))
def test_generated_resident_ids_and_certificates_are_valid(resident: str, category, grade):
    assert is_resident_id(resident)
    assert is_cert_no(f"{resident}{category}{grade}")


@FAST
@given(resident_ids(), st.integers(0, 17), st.sampled_from(ID_CHARS))
def test_any_single_change_to_a_resident_id_is_caught(resident: str, at: int, char: str):
    changed = resident[:at] + char + resident[at + 1 :]
    assume(changed != resident)
    # The one equivalent change: a final check character X typed as x.
    assert is_resident_id(changed) == (changed.upper() == resident)


@FAST
@given(resident_ids(), st.sampled_from("0" + "89ABx "), st.sampled_from("05"))
def test_certificate_category_and_grade_are_checked(resident: str, category: str, grade: str):
    assert not is_cert_no(f"{resident}{category}{grade}")


@FAST
@given(credit_codes())
def test_generated_credit_codes_are_valid(code: str):
    assert is_credit_code(code)


@FAST
@given(credit_codes(), st.integers(0, 17), st.sampled_from(CREDIT_CHARS))
def test_any_single_change_to_a_credit_code_is_caught(code: str, at: int, char: str):
    changed = code[:at] + char + code[at + 1 :]
    assume(changed != code)
    assert not is_credit_code(changed)


# --- Chinese numerals in reports -----------------------------------------------------------


@FAST
@given(st.integers(min_value=0, max_value=10**15))
def test_chinese_integers_read_back(number: int):
    value, _ = _chinese(cn2an.an2cn(number))
    assert value == number


@FAST
@given(st.decimals(min_value=0, max_value=Decimal("9999.99"), places=2, allow_nan=False))
def test_chinese_decimals_read_back(number: Decimal):
    text = cn2an.an2cn(f"{number:f}")
    value, _ = _chinese(text)
    assert value == number, text


def test_chinese_decimal_above_ten_thousand():
    """A 万 or 亿 before 点 belongs to the whole part (found by the property above)."""
    for number in ("10000.01", "120000.5", "300000000.25"):
        value, _ = _chinese(cn2an.an2cn(number))
        assert value == Decimal(number), number
    assert _chinese("十二万")[0] == Decimal(120000)


@FAST
@given(st.text(alphabet="〇零一二三四五六七八九十百千万亿点两壹贰拾佰仟", max_size=25))
def test_chinese_numerals_never_raise(text: str):
    result = _chinese(text)
    assert result is None or isinstance(result[0], Decimal)


# --- read_csv -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory(prefix="jixiao-fuzz-") as name:
        yield Path(name)


SMALL = Limits(line_kb=2, cell_chars=200, rows=50, columns=20)  # so the limits get hit too
PREFIXES = st.sampled_from(
    [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"PK\x03\x04", b"%PDF-", "姓名,金额\r\n".encode()]
)


@FILES
@given(PREFIXES, st.binary(max_size=3000), st.sampled_from([None, SMALL]))
def test_read_csv_on_random_bytes_refuses_or_reads(scratch, prefix, data, limits):
    path = scratch / "visits.csv"
    path.write_bytes(prefix + data)
    try:
        sheet = read_csv(path, limits)
    except FileRefused as refused:
        assert refused.problems
        for problem in refused.problems:
            message = problem.message("zh")
            assert message.endswith("。") and message.count("。") == 1, message
    else:
        assert isinstance(sheet, RawSheet) and sheet.header


CELL_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Co", "Cn"),
        blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    )
    | st.sampled_from(list(',"\r\n\t 张王李文体中心１２３')),
    max_size=12,
)
CJK_TEXT = st.text(
    alphabet=st.sampled_from(
        list("张王李赵刘陈杨黄失业就困难现金银行转账人力资源市场文体中心 abc,12")
    ),
    max_size=10,
)


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def _expected(header: list[str], rows: list[list[str]]) -> tuple[list, list]:
    kept, numbers = [], []
    for number, row in enumerate(rows, start=2):
        cells = [c.strip() or None for c in row]
        if any(cells):
            kept.append(cells)
            numbers.append(number)
    return kept, numbers


HEADERS = st.lists(st.from_regex(r"[a-z]{1,6}", fullmatch=True), min_size=1, max_size=5)


@FILES
@given(HEADERS, st.data())
def test_csv_written_by_the_csv_module_reads_back(scratch, header, data):
    rows = data.draw(
        st.lists(st.lists(CELL_TEXT, min_size=len(header), max_size=len(header)), max_size=6)
    )
    path = scratch / "visits.csv"
    path.write_bytes(_csv_bytes([header, *rows], "utf-8-sig"))
    sheet = read_csv(path)
    assert sheet.header == header
    assert (sheet.rows, sheet.row_numbers) == _expected(header, rows)


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@FILES
@given(HEADERS, st.data())
def test_gb18030_csv_reads_back_or_is_refused_as_ambiguous(scratch, header, data):
    rows = data.draw(
        st.lists(st.lists(CJK_TEXT, min_size=len(header), max_size=len(header)), max_size=6)
    )
    encoded = _csv_bytes([header, *rows], "gb18030")
    path = scratch / "visits.csv"
    path.write_bytes(encoded)
    if _valid_utf8(encoded) and not encoded.isascii():
        # GB18030 bytes that are also valid UTF-8: either read as UTF-8 because UTF-8 yields
        # Chinese there too (vanishingly rare for real text), or refused as ambiguous.
        with pytest.raises(FileRefused) as refused:
            read_csv(path)
        assert refused.value.problems[0].rule_id == "FILE.ENCODING"
        return
    sheet = read_csv(path)
    assert sheet.header == header
    assert (sheet.rows, sheet.row_numbers) == _expected(header, rows)


# --- file names -----------------------------------------------------------------------------

# Any bytes a Linux name may hold (no "/", no NUL), up to the 255 a name may have; weighted
# toward what counties type: codes, versions, Chinese in UTF-8 or GB18030, dots, line breaks.
NAME_PARTS = st.sampled_from(
    [b"530102", b"530103", b".v", b"3000000000", b"2", b".", b"~$", b"\n", b"\x1b", b" ",
     "盘龙区".encode(), "盘龙区".encode("gb18030"), "备".encode() * 80, b"\xff", b".xlsx",
     b".csv"]
)  # fmt: skip
FILE_NAMES = st.lists(NAME_PARTS | st.binary(min_size=1, max_size=8), min_size=1, max_size=12).map(
    lambda parts: b"".join(parts).replace(b"/", b"_").replace(b"\0", b"_")[:255]
)


@FILES
@given(FILE_NAMES, st.booleans())
def test_any_file_name_is_discovered_on_one_line_with_a_page_that_fits(scratch, name, nested):
    assume(name not in (b".", b".."))
    programme = scratch / "names"
    shutil.rmtree(programme, ignore_errors=True)
    folder = programme / "counties" / ("530103" if nested else "")
    folder.mkdir(parents=True)
    (folder / os.fsdecode(name)).write_bytes(b"x")
    found = submissions(programme, TEMPLATE)
    if name.startswith((b"~$", b".~lock.")):  # a lock file: skipped, with a line in the log
        assert found == []
        return
    (sub,) = found
    assert sub.rel.splitlines() == [sub.rel] and sub.rel.encode("utf-8")  # one line, storable
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in sub.rel)
    assert 0 <= sub.version <= 2**31 - 1
    page = feedback_path(scratch / "feedback", None, 2022, "p", sub.rel)
    assert len(page.name.encode()) + len(".tmp") <= 255
