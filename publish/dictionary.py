"""DICTIONARY.md: the warehouse's tables and columns for analysts, generated from the schemas."""

from __future__ import annotations

from jixiao.publish.views import VIEWS
from jixiao.schemas.warehouse import PERSONAL_DATA, TABLES


def render() -> str:
    lines = [
        "# jixiao warehouse — data dictionary",
        "",
        "Generated from `schemas/` at every run; do not edit. Open the warehouse read-only:",
        "`duckdb.connect('data/curated/warehouse.duckdb', read_only=True)`.",
        "",
        PERSONAL_DATA,
    ]
    for table in TABLES:
        lines += [
            f"## `{table.name}` — {table.title}",
            "",
            table.description,
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        lines += [f"| `{c.name}` | {c.type} | {c.description} |" for c in table.columns]
        lines.append("")
    lines += ["## Views", "", "Start here: the latest run, ready to read.", "",
              "| view | meaning |", "|---|---|"]  # fmt: skip
    lines += [f"| `{v.name}` | {v.description} |" for v in VIEWS]
    return "\n".join(lines) + "\n"
