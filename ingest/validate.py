"""A sheet's raw cells → typed frame, checked against its pandera contract.

Every failure becomes a Problem naming sheet, row, column, the value as the
county typed it (personal values masked) and what the template expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl

from ingest.normalise import clean_text, normalise_column
from ingest.problems import Problem
from ingest.readers import RawSheet
from schemas.contracts import Sheet, contract
from schemas.programme import Programme

ROW = "_row"  # the sheet row each record came from (lineage)

_TYPE_NAMES = {pl.Int64: "整数", pl.Date: "日期", pl.Boolean: "是 / 否"}


@dataclass
class SheetResult:
    sheet: Sheet
    sheet_name: str  # as the file names it
    frame: pl.DataFrame | None  # typed, columns by key, plus ROW; None when refused
    rows_read: int
    problems: list[Problem] = field(default_factory=list)


def _type_name(dtype: pl.DataType, fallback: str | None) -> str | None:
    return "金额（元）" if isinstance(dtype, pl.Decimal) else _TYPE_NAMES.get(dtype, fallback)


def map_header(raw: RawSheet, sheet: Sheet) -> tuple[dict[str, int], list[Problem]]:
    """Column key → position in the raw rows, from Chinese labels or keys."""
    by_name = {name: key for key, label in sheet.labels.items() for name in (key, label)}
    positions: dict[str, int] = {}
    problems = []
    for i, cell in enumerate(raw.header):
        key = by_name.get(clean_text(cell) or "")
        if key is None:
            continue  # a column the template does not know (备注 …) is not loaded
        if key in positions:
            problems.append(
                Problem("COLUMN.DUPLICATE", raw.name, raw.header_row, sheet.labels[key])
            )
        positions[key] = i
    problems += [
        Problem("COLUMN.MISSING", raw.name, raw.header_row, label)
        for key, label in sheet.labels.items()
        if key not in positions
    ]
    return positions, problems


def validate_sheet(raw: RawSheet, sheet: Sheet, programme: Programme) -> SheetResult:
    if not raw.header:
        return SheetResult(sheet, raw.name, None, 0, [Problem("SHEET.EMPTY_HEADER", raw.name)])
    positions, problems = map_header(raw, sheet)
    if problems:
        return SheetResult(sheet, raw.name, None, len(raw.rows), problems)
    strings = pl.DataFrame(
        {
            key: [row[i] if i < len(row) else None for row in raw.rows]
            for key, i in positions.items()
        },
        schema={key: pl.String for key in positions},
    )
    typed = pl.DataFrame(
        {
            sheet.labels[key]: normalise_column(strings[key], sheet.dtypes[key])
            for key in sheet.labels
        }
    )
    if "budget_line" in sheet.labels:
        label = sheet.labels["budget_line"]
        typed = typed.with_columns(
            pl.col(label).map_elements(
                lambda t: programme.budget_line_code(t) or t, return_dtype=pl.String
            )
        )
    schema = contract(sheet.model, programme.year, [b.code for b in programme.budget_lines])
    try:
        schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems = _problems(exc.failure_cases, strings, raw, sheet, programme)
    frame = typed.rename({label: key for key, label in sheet.labels.items()}).with_columns(
        pl.Series(ROW, raw.row_numbers, dtype=pl.Int64)
    )
    return SheetResult(sheet, raw.name, None if problems else frame, len(raw.rows), problems)


def _problems(
    cases: pl.DataFrame, strings: pl.DataFrame, raw: RawSheet, sheet: Sheet, programme: Programme
) -> list[Problem]:
    problems = []
    for case in cases.iter_rows(named=True):
        check, label, index = case["check"], case["column"], case["index"]
        row = raw.row_numbers[index] if index is not None else None
        if check == "intent_matches_le_jobseekers":
            matches, seekers = (strings[k][index] for k in ("intent_matches", "jobseekers"))
            problems.append(
                Problem(
                    "VALUE.CROSS_FIELD",
                    raw.name,
                    row,
                    sheet.labels["intent_matches"],
                    f"{matches} > {seekers}",
                    "达成就业意向人数不能大于参会残疾人数",
                )
            )
            continue
        key = sheet.key_of(label)
        value = strings[key][index] if index is not None else None
        column = sheet.columns[label]
        rule_text = (column.metadata or {}).get("rule")
        if check == "not_nullable":
            problem = (
                Problem("VALUE.REQUIRED", raw.name, row, label)
                if value is None
                else Problem(
                    "VALUE.TYPE",
                    raw.name,
                    row,
                    label,
                    value,
                    _type_name(sheet.dtypes[key], rule_text),
                )
            )
        elif check == "field_uniqueness":
            problem = Problem("VALUE.DUPLICATE_KEY", raw.name, row, label, value)
        elif check.startswith("in_range") and (column.metadata or {}).get("in_year"):
            problem = Problem(
                "VALUE.OUTSIDE_YEAR", raw.name, row, label, value, str(programme.year)
            )
        elif check.endswith("_valid"):
            problem = Problem("VALUE.CHECK_DIGIT", raw.name, row, label, value, label)
        elif check.startswith("isin"):
            problem = Problem("VALUE.ENUM", raw.name, row, label, value, rule_text)
        else:  # ranges: ge / gt
            problem = Problem("VALUE.RANGE", raw.name, row, label, value, rule_text)
        problems.append(problem)
    return sorted(
        problems,
        key=lambda p: (
            p.row or 0,
            list(sheet.labels.values()).index(p.column)
            if p.column in sheet.labels.values()
            else 99,
        ),
    )
