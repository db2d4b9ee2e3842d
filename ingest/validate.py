"""A sheet's raw cells → typed frame, checked against its pandera contract.

Every failure becomes a Problem naming sheet, row, column, the value as the
county typed it (personal values masked) and what the template expects.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np
import pandera.polars as pa
import polars as pl

from jixiao.ingest.layout import ROW, locate
from jixiao.ingest.normalise import county_code, normalise_column
from jixiao.ingest.personal import sheet_names
from jixiao.ingest.problems import Problem
from jixiao.ingest.readers import Columns, RawSheet, column_letters
from jixiao.said import Said
from jixiao.schemas.contracts import (
    FILE,
    FORMATS,
    FORMATS_EN,
    TYPE_NAMES,
    TYPE_NAMES_EN,
    Sheet,
    contract,
)
from jixiao.schemas.programme import Programme


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


@dataclass
class SheetText:
    """One sheet of one file as text columns by key (plus ROW): what a reader process hands
    over. Columns pickle as Arrow, where rows of Python strings would pickle cell by cell."""

    name: str  # as the file names it
    rows: int
    frame: pl.DataFrame | None  # None when the header cannot be used (``problems`` says why)
    problems: list[Problem] = field(default_factory=list)
    totals: pl.DataFrame | None = None  # its stated 合计 / 小计 cells (layout.Table.totals)
    notes: list[Said] = field(default_factory=list)  # what was read how (layout.Table.notes)
    positions: dict[str, int] = field(default_factory=dict)  # field key -> column index


def sheet_text(raw: RawSheet | Columns, sheet: Sheet) -> SheetText:
    table = locate(raw, sheet)
    rows = table.frame.height if table.frame is not None else 0
    return SheetText(raw.name, rows, table.frame, table.problems, table.totals, table.notes,
                     table.positions)  # fmt: skip


def _typed(strings: pl.DataFrame, sheet: Sheet, programme: Programme) -> pl.DataFrame:
    """The text columns normalised to their declared types, by Chinese label; a budget line
    or a county given by its name becomes its code."""
    exprs = []
    for key, label in sheet.labels.items():
        field = sheet.fields[key]
        words = (field.trueValues, field.falseValues) if field.type == "boolean" else None
        exprs.append(normalise_column(strings[key], sheet.dtypes[key], words).alias(label))
    typed = strings.select(*exprs, FILE, ROW)
    for key, label in sheet.labels.items():
        field = sheet.fields[key]
        if field.constraints.enum == "budget_lines":
            code = programme.budget_line_code
        elif field.format == "county":
            code = functools.partial(county_code, counties=programme.counties)
        else:
            continue
        names = typed[label].unique().drop_nulls().to_list()
        typed = typed.with_columns(pl.col(label).replace(names, [code(n) or n for n in names]))
    return typed


def _unread(strings: pl.DataFrame, typed: pl.DataFrame, sheet: Sheet) -> pl.DataFrame:
    """Cells of optional columns that hold text the column's type cannot read (a required
    column's are its contract's not-null failures): index and label."""
    parts = [
        pl.DataFrame({"index": idx, "column": label}, schema={"index": pl.Int64, "column": pl.String})
        for key, label in sheet.labels.items()
        if not sheet.fields[key].constraints.required and sheet.dtypes[key] != pl.String
        and len(idx := (strings[key].str.contains(r"\S").fill_null(False)
                        & typed[label].is_null()).arg_true())
    ]  # fmt: skip
    return pl.concat(parts) if parts else pl.DataFrame(schema={"index": pl.Int64, "column": pl.String})


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
    out.people = sheet_names((), strings.select(list(sheet.labels)),
                            kinds.get("cert") or kinds.get("id"), kinds.get("name"),
                            sheet.labels)  # fmt: skip
    typed = _typed(strings, sheet, programme)
    unread = _unread(strings, typed, sheet)
    try:
        contract(sheet, programme.year, *programme.codes).validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        cases = None
    for i, problems in _problems(cases, unread, strings, texts, sheet, programme).items():
        # A formula cell is told to paste its value: not also that the value is missing.
        told = out.problems.get(i, [])
        formulas = {p.cell for p in told if p.rule_id == "SHEET.FORMULA"}
        out.problems[i] = told + [p for p in problems if p.cell is None or p.cell not in formulas]
    out.frame = typed.rename({label: key for key, label in sheet.labels.items()})
    return out


def _problems(
    cases: pl.DataFrame | None,
    unread: pl.DataFrame,
    strings: pl.DataFrame,
    texts: dict[int, SheetText],
    sheet: Sheet,
    programme: Programme,
) -> dict[int, list[Problem]]:
    """Failure cases of a batch, and its unreadable cells, as each file's problems, in row
    then column order."""
    by_file: dict[int, list[Problem]] = {}
    found = [(check, column, index) for check, column, index in
             (cases.select("check", "column", "index").iter_rows() if cases is not None else ())]
    found += [("type", column, index) for index, column in unread.iter_rows()]  # fmt: skip
    for check, label, index in found:
        if index is None:  # not about a row: nothing in the batch can be trusted
            for i, text in texts.items():
                by_file.setdefault(i, []).append(Problem("FILE.CORRUPT", text.name, detail=check))
            continue
        file, row = strings[FILE][index], strings[ROW][index]
        name = texts[file].name
        problem = _problem(check, label, index, name, row, strings, sheet, programme)
        key = next((k for k, lb in sheet.labels.items() if lb == problem.column), None)
        column = texts[file].positions.get(key) if key else None
        if column is not None:  # the cell the clerk is to fix, as Excel names it
            problem = replace(problem, cell=f"{column_letters(column)}{row}")
        by_file.setdefault(file, []).append(problem)
    order = {label: n for n, label in enumerate(sheet.labels.values())}
    return {
        i: sorted(problems, key=lambda p: (p.row or 0, order.get(p.column, 99)))
        for i, problems in by_file.items()
    }


def _problem(check: str, label: str, index: int, name: str, row: int, strings: pl.DataFrame,
             sheet: Sheet, programme: Programme) -> Problem:  # fmt: skip
    """One failure case as the county reads it (checks are named in schemas/contracts.py)."""
    kind, _, what = check.partition(":")
    if kind == "unique":
        labels = what.split("+")
        value = " / ".join(str(strings[sheet.key_of(lb)][index]) for lb in labels)
        return Problem("VALUE.DUPLICATE_KEY", name, row, "、".join(labels), value)
    if kind == "at_most":
        key = sheet.key_of(what)
        other = sheet.fields[key].atMost
        values = f"{strings[key][index]} > {strings[other][index]}"
        expected = f"{what}不能大于{sheet.labels[other]}"
        return Problem("VALUE.CROSS_FIELD", name, row, what, values, expected,
                       expected_en=f"{what} cannot be more than {sheet.labels[other]}")
    key = sheet.key_of(label)
    field, value, rule = sheet.fields[key], strings[key][index], sheet.rules[key]
    if kind == "not_nullable" and value is None:
        return Problem("VALUE.REQUIRED", name, row, label)
    if kind in ("not_nullable", "type"):
        return Problem("VALUE.TYPE", name, row, label, value, TYPE_NAMES[field.type],
                       expected_en=TYPE_NAMES_EN[field.type])
    if kind == "in_year":
        return Problem("VALUE.OUTSIDE_YEAR", name, row, label, value, str(programme.year))
    if kind == "format":
        return Problem("VALUE.CHECK_DIGIT", name, row, label, value, FORMATS[field.format][0],
                       expected_en=FORMATS_EN[field.format][0])
    rule_en = sheet.rules_en[key]
    if kind == "enum":
        return Problem("VALUE.ENUM", name, row, label, value, rule, expected_en=rule_en)
    return Problem("VALUE.RANGE", name, row, label, value, rule, expected_en=rule_en)  # range, pattern, length
