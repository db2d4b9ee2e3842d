"""Check characters of Chinese identifiers: GB 11643 resident IDs and GB 32100 credit codes."""

from __future__ import annotations

import datetime as dt

import polars as pl

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def resident_id_check(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def birth_date(resident_id: str) -> dt.date | None:
    try:
        return dt.date(int(resident_id[6:10]), int(resident_id[10:12]), int(resident_id[12:14]))
    except ValueError:
        return None


def is_resident_id(value: str) -> bool:
    """18 characters, digits then a check character, a real birth date, check matches."""
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return False
    born = birth_date(value)
    if born is None or not dt.date(1900, 1, 1) <= born <= dt.date.today():
        return False
    return resident_id_check(value[:17]) == value[17].upper()


def is_cert_no(value: str) -> bool:
    """残疾人证号: resident ID + disability category 1–7 + grade 1–4."""
    return (
        len(value) == 20
        and is_resident_id(value[:18])
        and value[18] in "1234567"
        and value[19] in "1234"
    )


def org_code_check(first8: str) -> str:
    """The GB 11714 check character of the 9-character organisation code (A=10 … Z=35)."""
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    digit = 11 - total % 11
    return {10: "X", 11: "0"}.get(digit, str(digit))


def credit_code_check(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def is_credit_code(value: str) -> bool:
    """18 characters from the GB 32100 set, region digits, check character matches."""
    if len(value) != 18 or any(c not in CREDIT_CHARSET for c in value):
        return False
    if not value[2:8].isdigit():
        return False
    return credit_code_check(value[:17]) == value[17]


# The same checks as polars expressions: one pass over a column instead of a Python call
# per value, so a contract over millions of rows stays vectorised. Null in, null out.


def resident_id_valid(value: pl.Expr) -> pl.Expr:
    """`is_resident_id` over a column."""
    total = pl.sum_horizontal(
        value.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(_ID_WEIGHTS)
    )
    born = pl.concat_str(
        value.str.slice(6, 4), value.str.slice(10, 2), value.str.slice(12, 2), separator="-"
    ).str.to_date("%Y-%m-%d", strict=False)
    return (
        value.str.contains(r"^[0-9]{17}[0-9Xx]$")
        & (pl.lit(_ID_CHECK).str.slice(total % 11, 1) == value.str.slice(17, 1).str.to_uppercase())
        & born.is_between(dt.date(1900, 1, 1), dt.date.today())
    )


def cert_no_valid(value: pl.Expr) -> pl.Expr:
    """`is_cert_no` over a column: a resident ID, then category 1–7 and grade 1–4."""
    return value.str.contains(r"^.{18}[1-7][1-4]$") & resident_id_valid(value.str.slice(0, 18))


CREDIT_CLASS = "[0-9A-HJ-NP-RTUWXY]"  # CREDIT_CHARSET as a regex class
# A credit code's shape: two characters of the set, six digits (the region), ten more.
CREDIT_SHAPE = rf"{CREDIT_CLASS}{{2}}[0-9]{{6}}{CREDIT_CLASS}{{10}}"


def credit_code_valid(value: pl.Expr) -> pl.Expr:
    """`is_credit_code` over a column."""
    total = pl.sum_horizontal(
        value.str.slice(i, 1).replace_strict(
            list(CREDIT_CHARSET), list(range(31)), default=None, return_dtype=pl.Int64
        )
        * w
        for i, w in enumerate(_CREDIT_WEIGHTS)
    )
    return value.str.contains(f"^{CREDIT_SHAPE}$") & (
        pl.lit(CREDIT_CHARSET).str.slice((31 - total % 31) % 31, 1) == value.str.slice(17, 1)
    )
