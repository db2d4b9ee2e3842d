"""Cell text as county offices really type it, read into typed values."""

from __future__ import annotations

import datetime
from decimal import Decimal

import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.ingest.normalise import (
    clean_text,
    county_code,
    normalise_column,
    parse_date,
    parse_int,
    parse_money,
    parse_yes_no,
)
from tests.runs import REPO
from tests.test_intake import context, programme_folder, run

D = datetime.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("五华区", "五华区"),
        ("  五华区 ", "五华区"),
        ("\u3000五华区\u3000", "五华区"),
        ("\xa0张三\xa0", "张三"),
        ("ＡＢＣ１２３", "ABC123"),
        ("慰问金额（元）", "慰问金额(元)"),
        ("\u200b张三\ufeff", "张三"),
        ("张 三", "张 三"),
        ("", None),
        ("  \u3000 ", None),
        (None, None),
    ],
)
def test_clean_text(text: str | None, expected: str | None) -> None:
    assert clean_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("１２", 12),
        ("1,200", 1200),
        ("1，200", 1200),
        ("12.0", 12),
        ("12.00", 12),
        (" 12 ", 12),
        ("\u300012\u3000", 12),
        ("0", 0),
        ("012", 12),
        ("+7", 7),
        ("-3", -3),
        ("－3", -3),
        ("12.5", None),
        ("1,2", None),
        ("12,00", None),
        ("1e3", None),
        ("12人", None),
        ("abc", None),
        ("", None),
        (None, None),
        ("99999999999999999999", None),
    ],
)
def test_parse_int(text: str | None, expected: int | None) -> None:
    assert parse_int(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("400", "400.00"),
        ("400元", "400.00"),
        ("400.00", "400.00"),
        ("400.5", "400.50"),
        ("4,000.00", "4000.00"),
        ("¥400", "400.00"),
        ("￥400", "400.00"),
        ("0.04万", "400.00"),
        ("0.04万元", "400.00"),
        ("1.2万元", "12000.00"),
        ("0.00001万", "0.10"),
        ("４００", "400.00"),
        ("４００元", "400.00"),
        (" 400 元 ", "400.00"),
        ("-400", "-400.00"),
        ("-¥400", "-400.00"),
        ("¥-400", "-400.00"),
        ("0", "0.00"),
        ("-0", "0.00"),
        ("400.000", "400.00"),
        ("400.005", None),
        ("0.0000001万", None),
        ("四百元", None),
        ("四百块", None),
        ("400块", None),
        ("1e3", None),
        ("1,2", None),
        ("--400", None),
        ("abc", None),
        ("", None),
        (None, None),
        ("99999999999999999", None),
    ],
)
def test_parse_money(text: str | None, expected: str | None) -> None:
    result = parse_money(text)
    if expected is None:
        assert result is None
    else:
        assert isinstance(result, Decimal)
        assert result == Decimal(expected)
        assert str(result) == expected  # exact, two places, no float on the way


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-11-30", D(2022, 11, 30)),
        ("2022/11/30", D(2022, 11, 30)),
        ("2022.11.30", D(2022, 11, 30)),
        ("2022-1-5", D(2022, 1, 5)),
        ("2022年11月30日", D(2022, 11, 30)),
        ("2022年11月30号", D(2022, 11, 30)),
        ("2022年11月30", D(2022, 11, 30)),
        ("2022 年 11 月 30 日", D(2022, 11, 30)),
        ("20221130", D(2022, 11, 30)),
        ("二〇二二年二月十一日", D(2022, 2, 11)),
        ("二〇二二年十一月三十日", D(2022, 11, 30)),
        ("二零二二年二月十一日", D(2022, 2, 11)),
        ("2〇22年2月11日", D(2022, 2, 11)),
        ("二〇二二年二月十一号", D(2022, 2, 11)),
        ("二○二二年十月一日", D(2022, 10, 1)),  # ○: a white circle for the zero
        ("2O22年2月11日", D(2022, 2, 11)),  # the letter O
        ("二o二二年二月十一日", D(2022, 2, 11)),
        ("２Ｏ２２年２月１１日", D(2022, 2, 11)),
        ("二〇二二 年 十二 月 二十 日", D(2022, 12, 20)),
        ("二〇二二年二月二十三日", D(2022, 2, 23)),
        ("二〇二二年二月廿三日", D(2022, 2, 23)),
        ("二〇二二年一月三十一日", D(2022, 1, 31)),
        ("二〇二二年十二月十日", D(2022, 12, 10)),
        ("2022年十一月30日", D(2022, 11, 30)),
        ("二〇二四年二月二十九日", D(2024, 2, 29)),
        ("二〇二二年二月三十日", None),  # no 30 February
        ("二〇二二年二月二十九日", None),
        ("二〇二二年十三月一日", None),
        ("二〇二二年二月三十二日", None),
        ("二〇二二年二月十十日", None),  # not a numeral
        ("二〇二二年二月一十一日", None),
        ("二〇二二年〇二月一日", None),
        ("二〇二二年O2月1日", None),  # O is a zero only in a year
        ("二〇二年二月十一日", None),  # a year has four digits
        ("二〇二二二年二月十一日", None),
        ("二千零二十二年二月十一日", None),  # a year is read digit by digit, never as a number
        ("二〇二二年十二月", None),
        ("2022-11-30 00:00:00", D(2022, 11, 30)),
        ("2022-11-30 14:30:00", D(2022, 11, 30)),
        ("2022-11-30T14:30", D(2022, 11, 30)),
        ("２０２２年１１月３０日", D(2022, 11, 30)),
        ("２０２２－１１－３０", D(2022, 11, 30)),
        (" 2022/11/30\u3000", D(2022, 11, 30)),
        ("44895", D(2022, 11, 30)),
        ("44895.0", D(2022, 11, 30)),
        ("1", D(1900, 1, 1)),
        ("59", D(1900, 2, 28)),
        ("61", D(1900, 3, 1)),
        ("2958465", D(9999, 12, 31)),
        ("60", None),  # Excel's phantom 1900-02-29
        ("0", None),
        ("2958466", None),
        ("44895.5", None),
        ("2022年2月30日", None),
        ("2022-13-01", None),
        ("20220230", None),
        ("2022-11/30", None),
        ("22/11/30", None),
        ("11/30/2022", None),
        ("2022年11月", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text: str | None, expected: datetime.date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("yes", True),
        ("No", False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("１", True),
        (" 是 ", True),
        ("对", None),
        ("2", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_yes_no(text: str | None, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


COUNTIES = {"530102": "五华区", "530103": "盘龙区", "530126": "石林彝族自治县"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("530102", "530102"),
        ("５３０１０２", "530102"),
        (" 530103 ", "530103"),
        ("五华区", "530102"),
        ("\u3000石林彝族自治县", "530126"),
        ("五华", None),
        ("530199", None),
        ("西山区", None),
        ("", None),
        (None, None),
    ],
)
def test_county_code(text: str | None, expected: str | None) -> None:
    assert county_code(text, COUNTIES) == expected


@pytest.mark.parametrize(
    ("dtype", "raw", "expected"),
    [
        (pl.String, [" 张三 ", "", None, "ＡＢ"], ["张三", None, None, "AB"]),
        (pl.Int64, ["12", "1,200", "12.5", None, "12"], [12, 1200, None, None, 12]),
        (
            pl.Decimal(18, 2),
            ["400元", "0.04万", "400.005", None, "400元"],
            [Decimal("400.00"), Decimal("400.00"), None, None, Decimal("400.00")],
        ),
        (
            pl.Date,
            ["2022年11月30日", "44895", "2022年2月30日", None, "二〇二二年二月十一日", "2〇22年2月11日"],
            [D(2022, 11, 30), D(2022, 11, 30), None, None, D(2022, 2, 11), D(2022, 2, 11)],
        ),
        (pl.Boolean, ["是", "否", "也许", None], [True, False, None, None]),
    ],
)
def test_normalise_column(dtype: pl.DataType, raw: list, expected: list) -> None:
    result = normalise_column(pl.Series("c", raw, dtype=pl.String), dtype)
    assert result.dtype == dtype
    assert result.name == "c"
    assert result.to_list() == expected


def test_normalise_column_empty_and_all_null() -> None:
    assert normalise_column(pl.Series([], dtype=pl.String), pl.Int64).to_list() == []
    nulls = normalise_column(pl.Series([None, None], dtype=pl.String), pl.Date)
    assert nulls.dtype == pl.Date
    assert nulls.to_list() == [None, None]


def test_normalise_column_large_repeats_parses_each_distinct_once() -> None:
    raw = pl.Series(["400元", "0.04万元", "坏"] * 100_000)
    result = normalise_column(raw, pl.Decimal(18, 2))
    assert result.len() == 300_000
    assert result.null_count() == 100_000
    assert result[:3].to_list() == [Decimal("400.00"), Decimal("400.00"), None]


def test_normalise_column_rejects_unknown_dtype() -> None:
    with pytest.raises(ValueError, match="Int32"):
        normalise_column(pl.Series(["1.5"]), pl.Int32)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.none() | st.text(alphabet="aZ09 ~\t张三丽\uf900ａ１\u3000\u200b\u00a0-", max_size=8)
    )
)
def test_normalise_text_column_is_clean_text_of_every_cell(values: list[str | None]) -> None:
    # Most cells skip Python (the plain fast path): they must come out as clean_text has them.
    out = normalise_column(pl.Series("c", values, dtype=pl.String), pl.String)
    assert out.to_list() == [clean_text(v) for v in values]


SAMPLE = REPO / "data/raw/2022/530100-disability-employment"


def test_a_date_in_chinese_numerals_is_loaded_from_an_accepted_workbook(tmp_path):
    """The sample's 五华区.xlsx, accepted as it is, with two 慰问日期 cells typed as clerks type
    them: accepted, those rows dated as written, the others as before."""
    folder = programme_folder(tmp_path)
    book = openpyxl.load_workbook(SAMPLE / "counties/五华区.xlsx")
    visits = book["慰问"]
    assert [c.value for c in visits[1]][3] == "慰问日期"
    assert visits["D3"].value == datetime.datetime(2022, 5, 31)
    visits["D2"], visits["D4"] = "二〇二二年二月十一日", "2〇22年11月三十号"
    (folder / "counties").mkdir()
    book.save(folder / "counties/五华区.xlsx")
    ctx = context(tmp_path, folder)
    try:
        assert [o.status for o in run(folder, ctx).values()] == ["accepted"]
        dates = dict(ctx.con.execute("SELECT source_row, visited_on FROM visits").fetchall())
    finally:
        ctx.con.close()
    assert len(dates) == visits.max_row - 1
    assert (dates[2], dates[3], dates[4]) == (D(2022, 2, 11), D(2022, 5, 31), D(2022, 11, 30))
