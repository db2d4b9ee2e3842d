"""Load accepted sheets into the staging warehouse: one transaction per file."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import polars as pl

from flows.crash import checkpoint
from ingest.personal import cert_hash
from ingest.problems import Problem
from ingest.validate import ROW
from schemas.contracts import SHEETS
from schemas.programme import Programme
from schemas.warehouse import BUDGET_LINES, SHEET_TABLES, TABLES


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        con.execute(table.ddl())


def refresh_budget_lines(con: duckdb.DuckDBPyConnection, programme: Programme) -> None:
    with transaction(con):
        con.execute(f"DELETE FROM {BUDGET_LINES.name} WHERE programme_code = ?", [programme.code])
        con.executemany(
            f"INSERT INTO {BUDGET_LINES.name} VALUES (?, ?, ?, ?, ?)",
            [
                [programme.code, programme.year, b.code, b.name, b.amount_yuan]
                for b in programme.budget_lines
            ],
        )
    checkpoint("load.budget_lines_refreshed")


class transaction:  # noqa: N801 - used as a statement: `with transaction(con):`
    """BEGIN … COMMIT, rolled back on any exception so a file is all in or all out."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __enter__(self) -> None:
        self.con.begin()

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.con.commit()
        else:
            self.con.rollback()


def warehouse_rows(
    frame: pl.DataFrame, sheet_key: str, scope: dict, lineage: dict, key: bytes
) -> pl.DataFrame:
    """A validated sheet in the warehouse's columns: personal data hashed or dropped."""
    sheet = SHEETS[sheet_key]
    exprs = [pl.lit(v).alias(k) for k, v in scope.items()]
    for col in sheet.labels:
        kind = sheet.personal.get(col)
        if kind == "cert":
            cert = pl.col(col).str.to_uppercase()  # a check character typed as x is X
            exprs += [
                cert.map_elements(lambda c: cert_hash(key, c), return_dtype=pl.String).alias(
                    "cert_hash"
                ),
                cert.str.slice(0, 6).alias("region_code"),
                cert.str.slice(6, 8).str.to_date("%Y%m%d").alias("birth_date"),
                cert.str.slice(18, 1).alias("disability_category"),
                cert.str.slice(19, 1).alias("disability_grade"),
            ]
        elif kind is None:
            exprs.append(pl.col(col))
    exprs += [pl.lit(v).alias(k) for k, v in lineage.items()]
    exprs.append(pl.col(ROW).alias("source_row"))
    out = frame.select(exprs)
    return out.select([c.name for c in SHEET_TABLES[sheet_key].columns])


def log_entry(
    con: duckdb.DuckDBPyConnection, entry: dict, problems: list[Problem], limit: int = 1000
) -> None:
    """One ingest_log row; problems beyond ``limit`` are counted, not listed."""
    errors = [
        {
            "rule_id": p.rule_id,
            "sheet": p.sheet,
            "row": p.row,
            "column": p.column,
            "value": p.value,
            "expected": p.expected,
            "cell": p.cell,
            "message": p.message("zh"),
        }
        for p in problems[:limit]
    ]
    row = {
        **entry,
        "error_count": len(problems),
        "errors": json.dumps(errors, ensure_ascii=False),
        "ingested_at": dt.datetime.now(dt.UTC),
    }
    columns = ", ".join(row)
    con.execute(
        f"INSERT INTO ingest_log ({columns}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    checkpoint("load.ingest_log_row")


def newer_version_loaded(
    con: duckdb.DuckDBPyConnection, programme: str, county: str, sheets: list[str], version: int
) -> str | None:
    """The accepted file that a late-arriving older version must not overwrite."""
    found = con.execute(
        "SELECT file FROM ingest_log WHERE programme_code = ? AND county_code = ? "
        "AND status = 'accepted' AND version > ? AND list_has_any(sheets, ?::VARCHAR[]) "
        "ORDER BY version DESC LIMIT 1",
        [programme, county, version, sheets],
    ).fetchone()
    return found[0] if found else None


def replace_county_rows(
    con: duckdb.DuckDBPyConnection,
    programme: str,
    county: str,
    tables: dict[str, pl.DataFrame],
    file: str,
) -> int:
    """Replace the county's rows in each sheet the file carries (caller holds the transaction)."""
    loaded = 0
    for sheet_key, rows in tables.items():
        con.execute(
            f"DELETE FROM {sheet_key} WHERE programme_code = ? AND county_code = ?",
            [programme, county],
        )
        checkpoint("load.after_delete")
        con.register("incoming", rows)
        con.execute(f"INSERT INTO {sheet_key} BY NAME SELECT * FROM incoming")
        con.unregister("incoming")
        checkpoint("load.after_insert")
        loaded += rows.height
    con.execute(
        "UPDATE ingest_log SET status = 'superseded', superseded_by = ? "
        "WHERE programme_code = ? AND county_code = ? AND status = 'accepted' "
        "AND list_has_any(sheets, ?::VARCHAR[])",
        [file, programme, county, list(tables)],
    )
    checkpoint("load.superseded_marked")
    return loaded


def replace_claims(con: duckdb.DuckDBPyConnection, programme: Programme, report_file: str,
                   sha: str, claims: list) -> int:  # fmt: skip
    """The programme's report claims, replaced whole: a report is one statement."""
    rows = [
        [
            programme.code,
            programme.year,
            report_file,
            sha,
            c.text,
            c.value,
            c.exponent,
            c.unit,
            c.kind,
            c.subject,
            c.measure,
            c.role,
            c.bound,
            c.date,
            c.line,
            " › ".join(c.section),
            c.sentence,
            c.table,
            c.row,
            c.col,
        ]  # fmt: skip
        for c in claims
    ]
    with transaction(con):
        con.execute("DELETE FROM claims WHERE programme_code = ?", [programme.code])
        if rows:
            con.executemany(f"INSERT INTO claims VALUES ({', '.join('?' * len(rows[0]))})", rows)
        checkpoint("load.claims_before_commit")
    return len(rows)
