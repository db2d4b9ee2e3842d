"""Check characters of resident IDs, 残疾人证号 and unified social credit codes."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jixiao.schemas.identifiers import (
    CREDIT_CHARSET,
    birth_date,
    cert_no_valid,
    credit_code_check,
    credit_code_valid,
    is_cert_no,
    is_credit_code,
    is_resident_id,
    org_code_check,
    resident_id_check,
)

# The worked example of GB 11643-1999, and a Kunming ID built the same way.
STANDARD_ID = "11010519491231002X"
KUNMING_ID = "530102198506150013"
# Published-format credit codes: both the org-code (9th) and the final check character verify.
REAL_CODES = ("91330100716105852F", "91440300708461136T")


def _id(region: str, born: str, seq: str) -> str:
    first17 = region + born + seq
    return first17 + resident_id_check(first17)


def _credit(region: str, org8: str) -> str:
    first17 = f"91{region}{org8}{org_code_check(org8)}"
    return first17 + credit_code_check(first17)


def test_known_resident_ids_are_valid():
    assert resident_id_check(STANDARD_ID[:17]) == "X"
    assert is_resident_id(STANDARD_ID)
    assert is_resident_id(STANDARD_ID.lower())  # a lower-case x is the same check character
    assert _id("530102", "19850615", "001") == KUNMING_ID
    assert is_resident_id(KUNMING_ID)
    assert birth_date(KUNMING_ID) == dt.date(1985, 6, 15)


@pytest.mark.parametrize("valid", [STANDARD_ID, KUNMING_ID])
def test_every_single_character_change_of_an_id_is_rejected(valid):
    # Weights are non-zero mod 11, so any one substituted digit changes the check sum.
    for pos in range(18):
        for ch in "0123456789X":
            if ch != valid[pos].upper():
                assert not is_resident_id(valid[:pos] + ch + valid[pos + 1 :]), (pos, ch)


@pytest.mark.parametrize(
    "born",
    [
        "19490230",
        "19851301",
        "19850000",
        "18991231",
        (dt.date.today() + dt.timedelta(days=1)).strftime("%Y%m%d"),
    ],
)
def test_impossible_birth_dates_are_rejected_even_with_a_correct_check(born):
    value = _id("530103", born, "123")
    assert resident_id_check(value[:17]) == value[17]
    assert not is_resident_id(value)


@pytest.mark.parametrize(
    "bad", ["", KUNMING_ID[:17], KUNMING_ID + "1", "５" + KUNMING_ID[1:], "a" + KUNMING_ID[1:]]
)
def test_malformed_ids_are_rejected(bad):
    assert not is_resident_id(bad)


def test_cert_no_category_and_grade_ranges():
    for category in "1234567":
        for grade in "1234":
            assert is_cert_no(KUNMING_ID + category + grade)
    for suffix in ("01", "81", "90", "10", "15", "1", "111", "A1"):
        assert not is_cert_no(KUNMING_ID + suffix), suffix
    broken = KUNMING_ID[:17] + ("0" if KUNMING_ID[17] != "0" else "1")
    assert not is_cert_no(broken + "11")


def test_known_credit_codes_are_valid():
    for code in REAL_CODES:
        assert is_credit_code(code)
        assert org_code_check(code[8:16]) == code[16]
    built = _credit("530111", "7161B58E")
    assert built[:8] == "91530111" and is_credit_code(built)


@pytest.mark.parametrize("valid", [*REAL_CODES, "91530102655C84402P"])
def test_every_single_character_change_of_a_credit_code_is_rejected(valid):
    # 31 is prime and every weight is a power of 3 mod 31, so one substitution always shows;
    # characters outside the charset (I, O, S, V, Z, lower case) fail the alphabet check.
    for pos in range(18):
        for ch in CREDIT_CHARSET + "IOSVZa":
            if ch != valid[pos]:
                assert not is_credit_code(valid[:pos] + ch + valid[pos + 1 :]), (pos, ch)


def test_org_code_check_characters():
    assert org_code_check("71610585") == "2"
    # The check value 10 is written X and 11 is written 0.
    checks = {org_code_check(f"{n:08d}") for n in range(0, 2000, 7)}
    assert {"X", "0"} <= checks and checks <= set("0123456789X")


def _mutations(valid: str, alphabet: str) -> list[str]:
    return [valid[:i] + ch + valid[i + 1 :] for i in range(len(valid)) for ch in alphabet]


def _agree(values: list[str | None], expr, python) -> None:
    got = pl.DataFrame({"v": values}, schema={"v": pl.String}).select(expr(pl.col("v")))
    assert got.to_series().to_list() == [None if v is None else python(v) for v in values]


def test_column_checks_agree_with_the_functions_on_every_single_change():
    certs = [KUNMING_ID + "31", STANDARD_ID + "74", STANDARD_ID.lower() + "12"]
    codes = [*REAL_CODES, "91530102655C84402P"]
    _agree(
        [*certs, None, "", *(m for c in certs for m in _mutations(c, "0123456789Xx8A５"))],
        cert_no_valid,
        is_cert_no,
    )
    _agree(
        [*codes, None, *(m for c in codes for m in _mutations(c, CREDIT_CHARSET + "IOSVZa"))],
        credit_code_valid,
        is_credit_code,
    )


@given(st.lists(st.text(alphabet="0123456789XxAY19-２ ", max_size=22), max_size=40))
def test_column_checks_agree_with_the_functions_on_any_text(values):
    _agree(values, cert_no_valid, is_cert_no)
    _agree(values, credit_code_valid, is_credit_code)
