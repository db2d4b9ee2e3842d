"""Findings night to night: each run's findings kept with the run; by fingerprint, what is
new since the programme's previous run and what was resolved. A programme is its code and
its year: another year's findings are another programme's."""

from __future__ import annotations

import json

import duckdb
import polars as pl

from jixiao.checks.findings import Finding
from jixiao.schemas.warehouse import FINDINGS


def previous(con: duckdb.DuckDBPyConnection, programme_code: str, year: int,
             run_id: str) -> dict[str, dict]:  # fmt: skip
    """The findings of the programme's latest earlier run, by fingerprint: the one with the
    greatest `runs.seq`, whatever the clocks said."""
    rows = con.execute(
        """
        SELECT fingerprint, rule_id, severity, subject, claimed, observed, message
        FROM findings
        WHERE programme_code = $code AND year = $year AND run_id = (
            SELECT arg_max(run_id, seq) FROM findings JOIN runs USING (run_id)
            WHERE programme_code = $code AND year = $year AND run_id <> $run)
        """,
        {"code": programme_code, "year": year, "run": run_id},
    ).fetchall()
    keys = ("fingerprint", "rule_id", "severity", "subject", "claimed", "observed", "message")
    return {row[0]: dict(zip(keys, row, strict=True)) for row in rows}


def store(con: duckdb.DuckDBPyConnection, run_id: str, programme_code: str, year: int,
          findings: list[Finding], lang: str = "zh") -> tuple[set[str], list[dict]]:  # fmt: skip
    """Insert this run's findings; return the new fingerprints and the resolved findings.

    A run whose programme had no earlier run reports everything as new."""
    before = previous(con, programme_code, year, run_id)
    new = {f.fingerprint for f in findings} - before.keys()
    rows = []
    for f in findings:
        d = f.as_dict(lang)
        rows.append({
            **d, "run_id": run_id, "programme_code": programme_code, "year": str(year),
            "evidence": json.dumps(d["evidence"], ensure_ascii=False),
            "status": "new" if f.fingerprint in new else "open",
        })  # fmt: skip
    # One set-based INSERT, not one statement per finding: every column goes in as text and
    # DuckDB casts evidence to JSON and the amount to DECIMAL, as it did the bound strings.
    frame = pl.DataFrame(rows, schema={c.name: pl.String for c in FINDINGS.columns})
    con.execute("DELETE FROM findings WHERE run_id = ? AND programme_code = ? AND year = ?",
                [run_id, programme_code, year])  # fmt: skip
    con.register("incoming_findings", frame)
    con.execute("INSERT INTO findings BY NAME SELECT * FROM incoming_findings")
    con.unregister("incoming_findings")
    current = {f.fingerprint for f in findings}
    resolved = [v for k, v in before.items() if k not in current]
    return new, resolved
