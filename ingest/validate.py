"""A sheet's raw cells → typed frame, checked against its pandera contract.

Every failure becomes a Problem naming sheet, row, column, the value as the
county typed it (personal values masked) and what the template expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np
import pandera.polars as pa
import polars as pl
from jixiao.ingest.normalise import clean_text, normalise_column
from jixiao.ingest.personal import sheet_names
from jixiao.ingest.problems import Problem
from jixiao.ingest.readers import Columns, RawSheet
from jixiao.schemas.contracts import FILE, Sheet, contract
from jixiao.schemas.programme import Programme

ROW = "_row"  # the sheet row each record came from (lineage)

_TYPE_NAMES = {pl.Int64: "整数", pl.Date: "日期", pl.Boolean: "是 / 否"}


@dataclass
class Checked:
    """One template sheet of a batch of files, checked against its contract in one call.

    ``frame`` holds the typed rows of every file whose header could be read: columns by key,
    plus FILE (the file's index in the batch) and ROW. A file is accepted for this sheet
    when ``problems`` has no entry for it.
    """

    sheet: Sheet
    frame: pl.DataFrame
    names: dict[int, str]  # file index -> the sheet's name as the file gives it
    rows_read: dict[int, int]
    problems: dict[int, list[Problem]] = field(default_factory=dict)
    people: set[str] = field(default_factory=set)  # the names its rows pair with IDs


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


@dataclass
class SheetText:
    """One sheet of one file as text columns by key (plus ROW): what a reader process hands
    over. Columns pickle as Arrow, where rows of Python strings would pickle cell by cell."""

    name: str  # as the file names it
    rows: int
    frame: pl.DataFrame | None  # None when the header cannot be used (``problems`` says why)
    problems: list[Problem] = field(default_factory=list)


def sheet_text(raw: RawSheet | Columns, sheet: Sheet) -> SheetText:
    if not raw.header:
        return SheetText(raw.name, 0, None, [Problem("SHEET.EMPTY_HEADER", raw.name)])
    positions, problems = map_header(raw, sheet)
    rows = raw.frame.height if isinstance(raw, Columns) else len(raw.rows)
    if problems:
        return SheetText(raw.name, rows, None, problems)
    schema = {key: pl.String for key in sheet.labels} | {ROW: pl.Int64}
    if isinstance(raw, Columns):
        frame = raw.frame.select(
            *(pl.col(f"c{positions[key]}").alias(key) for key in sheet.labels),
            pl.col("row").alias(ROW),
        )
        return SheetText(raw.name, rows, frame)
    # Rows are padded to the header's width, so every position is in every row.
    pick = itemgetter(*positions.values())
    columns = dict(zip(positions, zip(*map(pick, raw.rows), strict=True), strict=False))
    frame = pl.DataFrame(
        {key: columns.get(key, ()) for key in sheet.labels} | {ROW: raw.row_numbers}, schema
    )
    return SheetText(raw.name, rows, frame)


def check_sheets(texts: dict[int, SheetText], sheet: Sheet, programme: Programme) -> Checked:
    """The same sheet of many files (by file index) typed and checked at once."""
    out = Checked(sheet, pl.DataFrame(), {i: t.name for i, t in texts.items()},
                  {i: t.rows for i, t in texts.items()},
                  {i: t.problems for i, t in texts.items() if t.problems})  # fmt: skip
    read = {i: t.frame for i, t in texts.items() if t.frame is not None}
    if not read:
        return out
    heights = [frame.height for frame in read.values()]
    strings = pl.concat(read.values()).with_columns(
        pl.Series(FILE, np.repeat(list(read), heights), pl.Int64)
    )
    # As typed, before any column is typed: an ID shifted into a date column is still there.
    kinds = {kind: key for key, kind in sheet.personal.items()}
    out.people = sheet_names((), strings.select(list(sheet.labels)), kinds.get("cert"),
                            kinds.get("name"), sheet.labels)  # fmt: skip
    typed = strings.select(
        *(normalise_column(strings[key], sheet.dtypes[key]).alias(sheet.labels[key])
          for key in sheet.labels),
        FILE, ROW,
    )  # fmt: skip
    if "budget_line" in sheet.labels:
        label = sheet.labels["budget_line"]
        names = typed[label].unique().drop_nulls().to_list()
        typed = typed.with_columns(
            pl.col(label).replace(
                [n for n in names], [programme.budget_line_code(n) or n for n in names]
            )
        )
    budget = tuple(b.code for b in programme.budget_lines)
    try:
        contract(sheet.model, programme.year, budget).validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        for i, problems in _problems(exc.failure_cases, strings, texts, sheet, programme).items():
            out.problems[i] = problems
    out.frame = typed.rename({label: key for key, label in sheet.labels.items()})
    return out


def _problems(
    cases: pl.DataFrame,
    strings: pl.DataFrame,
    texts: dict[int, SheetText],
    sheet: Sheet,
    programme: Programme,
) -> dict[int, list[Problem]]:
    """Failure cases of a batch as each file's problems, in row then column order."""
    by_file: dict[int, list[Problem]] = {}
    for case in cases.iter_rows(named=True):
        check, label, index = case["check"], case["column"], case["index"]
        if index is None:  # not about a row: nothing in the batch can be trusted
            for i, text in texts.items():
                by_file.setdefault(i, []).append(Problem("FILE.CORRUPT", text.name, detail=check))
            continue
        file, row = strings[FILE][index], strings[ROW][index]
        name, problems = texts[file].name, by_file.setdefault(file, [])
        if check.startswith("unique:"):
            label = check.removeprefix("unique:")
            value = strings[sheet.key_of(label)][index]
            problems.append(Problem("VALUE.DUPLICATE_KEY", name, row, label, value))
            continue
        if check == "intent_matches_le_jobseekers":
            matches, seekers = (strings[k][index] for k in ("intent_matches", "jobseekers"))
            problems.append(
                Problem(
                    "VALUE.CROSS_FIELD",
                    name,
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
                Problem("VALUE.REQUIRED", name, row, label)
                if value is None
                else Problem(
                    "VALUE.TYPE",
                    name,
                    row,
                    label,
                    value,
                    _type_name(sheet.dtypes[key], rule_text),
                )
            )
        elif check.startswith("in_range") and (column.metadata or {}).get("in_year"):
            problem = Problem("VALUE.OUTSIDE_YEAR", name, row, label, value, str(programme.year))
        elif check.endswith("_valid"):
            problem = Problem("VALUE.CHECK_DIGIT", name, row, label, value, label)
        elif check.startswith("isin"):
            problem = Problem("VALUE.ENUM", name, row, label, value, rule_text)
        else:  # ranges: ge / gt
            problem = Problem("VALUE.RANGE", name, row, label, value, rule_text)
        problems.append(problem)
    order = {label: n for n, label in enumerate(sheet.labels.values())}
    return {
        i: sorted(problems, key=lambda p: (p.row or 0, order.get(p.column, 99)))
        for i, problems in by_file.items()
    }
