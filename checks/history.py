"""Findings night to night: each run's findings kept with the run; by fingerprint, what is
new since the programme's previous run and what was resolved. A programme is its code and
its year: another year's findings are another programme's."""

from __future__ import annotations

import json

import duckdb

from jixiao.checks.findings import Evidence, Finding
from jixiao.schemas.warehouse import FINDINGS

# The programme's latest earlier run with findings: the one with the greatest `runs.seq`,
# whatever the clocks said.
_LAST = """run_id = (SELECT arg_max(run_id, seq) FROM findings JOIN runs USING (run_id)
                     WHERE programme_code = $code AND year = $year AND run_id <> $run)"""


def last_audit(con: duckdb.DuckDBPyConnection, programme_code: str, year: int,
               run_id: str) -> str | None:  # fmt: skip
    """The run whose findings `previous` compares with; None before the programme's first."""
    return con.execute(f"SELECT any_value(run_id) FROM findings WHERE {_LAST}",
                       {"code": programme_code, "year": year, "run": run_id}).fetchone()[0]  # fmt: skip


def previous(con: duckdb.DuckDBPyConnection, programme_code: str, year: int,
             run_id: str) -> dict[str, dict]:  # fmt: skip
    """The findings of the programme's latest earlier run, by fingerprint."""
    rows = con.execute(
        "SELECT fingerprint, rule_id, severity, subject, claimed, observed, message "
        f"FROM findings WHERE programme_code = $code AND year = $year AND {_LAST}",
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
            **d, "run_id": run_id, "programme_code": programme_code, "year": year,
            "evidence": json.dumps(d["evidence"], ensure_ascii=False),
            "status": "new" if f.fingerprint in new else "open", "label": f.label,
            "params": json.dumps(f.params, ensure_ascii=False, sort_keys=True, default=str),
        })  # fmt: skip
    con.execute("DELETE FROM findings WHERE run_id = ? AND programme_code = ? AND year = ?",
                [run_id, programme_code, year])  # fmt: skip
    FINDINGS.insert(con, rows)
    current = {f.fingerprint for f in findings}
    resolved = [v for k, v in before.items() if k not in current]
    return new, resolved


def standing(con: duckdb.DuckDBPyConnection, run_id: str, programme_code: str, year: int,
             prefix: str) -> list[Finding] | None:  # fmt: skip
    """The findings the run ``run_id`` stored for the programme whose rule starts with
    ``prefix``, as they were found; None when it stored some without their label and message
    parameters (a run before they were kept)."""
    rows = con.execute(
        "SELECT rule_id, subject, claimed, observed, evidence, label, amount_yuan, params "
        "FROM findings WHERE run_id = ? AND programme_code = ? AND year = ? "
        "AND starts_with(rule_id, ?)",
        [run_id, programme_code, year, prefix],
    ).fetchall()
    if any(r[7] is None for r in rows):
        return None
    return [
        Finding(rule_id, subject, claimed, observed,
                tuple(Evidence(**({"section": "", "line": 0} | e)) for e in json.loads(evidence)),
                label=label, amount_yuan=amount, params=json.loads(params), year=year)
        for rule_id, subject, claimed, observed, evidence, label, amount, params in rows
    ]  # fmt: skip
