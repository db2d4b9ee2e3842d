"""DICTIONARY.md: the warehouse's tables and columns for analysts, generated from the schemas."""

from __future__ import annotations

import duckdb

from jixiao.ingest.load import create_tables
from jixiao.publish.views import VIEWS, View, create_views
from jixiao.said import Said
from jixiao.schemas.programme import Programme
from jixiao.schemas.warehouse import PERSONAL_DATA, TABLES, Table, sheet_table

_COUNTY_SHEET = Said("（区县报送表，用于：{}）", " (a county sheet, filled for: {})")
_LISTED = Said("、", ", ")


def declared_tables(programmes: list[Programme]) -> list[tuple[Table, list[str]]]:
    """Each sheet table of the programmes' templates, with the programmes (year/code) whose
    counties fill it; a key shared by several templates is described as the first declares it."""
    tables: dict[str, tuple[Table, list[str]]] = {}
    for programme in programmes:
        for sheet in programme.county_template.sheets.values():
            entry = tables.setdefault(sheet.key, (sheet_table(sheet), []))
            entry[1].append(f"{programme.year}/{programme.code}")
    return list(tables.values())


def render(programmes: list[Programme], lang: str = "zh") -> str:
    """The dictionary in the run's language (``--lang``); what the programmes declare (sheet
    titles, column labels, descriptions) is their data and stays as written."""
    lines = [
        "# jixiao warehouse — data dictionary",
        "",
        "Generated from `schemas/` at every run; do not edit. Open the warehouse read-only:",
        "`duckdb.connect('data/curated/warehouse.duckdb', read_only=True)`.",
        "",
        PERSONAL_DATA(lang),
    ]
    described = [*declared_tables(programmes), *((t, []) for t in TABLES)]
    for table, used_by in described:
        lines += [
            f"## `{table.name}` — {table.title(lang)}",
            "",
            table.description(lang) + (_COUNTY_SHEET(lang).format(_LISTED(lang).join(used_by)) if used_by else ""),
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        lines += [f"| `{c.name}` | {c.type} | {c.description(lang)} |" for c in table.columns]
        lines.append("")
    lines += ["## Views", "", "Start here: the latest run, ready to read.", ""]
    tables = {t.name: {c.name: c.description for c in t.columns} for t, _ in described}
    anywhere = {c: d for columns in tables.values() for c, d in columns.items()}
    for view, columns in view_columns(programmes).items():
        meanings = anywhere | tables.get(view.source, {}) | dict(view.columns)
        lines += [f"### `{view.name}`", "", view.description(lang), "",
                  "| column | type | meaning |", "|---|---|---|"]  # fmt: skip
        lines += [f"| `{name}` | {kind} | {meanings[name](lang) if name in meanings else ''} |"
                  for name, kind in columns]  # fmt: skip
        lines.append("")
    return "\n".join(lines)


# view_columns' answers by the sheet tables they were made over: every run renders the
# dictionary, and a scratch database of every table costs a tenth of a second or more.
_VIEW_COLUMNS: dict[tuple[str, ...], dict[View, list[tuple[str, str]]]] = {}


def view_columns(programmes: list[Programme]) -> dict[View, list[tuple[str, str]]]:
    """Each view's columns and types, as DuckDB gives them over the tables a run creates."""
    key = tuple(sheet_table(sheet).ddl() for programme in programmes
                for sheet in programme.county_template.sheets.values())  # fmt: skip
    if key not in _VIEW_COLUMNS:
        with duckdb.connect() as con:
            create_tables(con, *programmes, notify=lambda _: None)
            create_views(con)
            _VIEW_COLUMNS[key] = {
                v: con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {v.name})").fetchall()
                for v in VIEWS
            }  # fmt: skip
    return _VIEW_COLUMNS[key]
