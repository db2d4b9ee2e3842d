"""One county file from disk to the staging warehouse, or back to its county with reasons."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import polars as pl

from flows.crash import checkpoint
from ingest.discover import Submission
from ingest.load import (
    log_entry,
    newer_version_loaded,
    replace_county_rows,
    transaction,
    warehouse_rows,
)
from ingest.normalise import clean_text, county_code
from ingest.personal import masked
from ingest.problems import FileRefused, Problem
from ingest.readers import RawSheet, read_csv, read_workbook
from ingest.validate import SheetResult, validate_sheet
from publish.feedback import feedback_path, render
from publish.files import write_atomic
from schemas.contracts import SHEETS
from schemas.programme import Programme

log = logging.getLogger(__name__)

# Personal columns by every name a file may give them (key or Chinese label).
_PERSONAL = {
    name: kind
    for sheet in SHEETS.values()
    for key, kind in sheet.personal.items()
    for name in (key, sheet.labels[key])
}


@dataclass(frozen=True)
class Outcome:
    programme: str
    file: str
    sha256: str
    county: str | None
    status: str  # accepted | refused | superseded | skipped
    rows: int
    problems: int


@dataclass(frozen=True)
class Context:
    programme: Programme
    con: duckdb.DuckDBPyConnection
    hash_key: bytes
    run_id: str
    feedback_dir: Path
    lang: str = "zh"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def unchanged(con: duckdb.DuckDBPyConnection, programme: str, file: str, sha: str) -> bool:
    """The file's content is what was last processed under its name."""
    last = con.execute(
        "SELECT sha256 FROM ingest_log WHERE programme_code = ? AND file = ? "
        "ORDER BY ingested_at DESC LIMIT 1",
        [programme, file],
    ).fetchone()
    return last is not None and last[0] == sha


def mask(problems: list[Problem]) -> list[Problem]:
    """Values of personal columns (formula text included) never reach a log or a page."""
    return [replace(p, value=masked(_PERSONAL.get(p.column or ""), p.value)) for p in problems]


def read_sheets(sub: Submission) -> dict[str, RawSheet]:
    """The template sheets a file carries, by key; raises FileRefused when unusable."""
    if sub.kind == "csv" and sub.sheet:
        return {sub.sheet: read_csv(sub.path)}
    if sub.kind != "xlsx":
        raise FileRefused(Problem("FILE.NAME", value=sub.rel))
    found = {}
    raw = read_workbook(sub.path)
    by_name = {clean_text(name): sheet for name, sheet in raw.items()}
    missing = []
    for key, sheet in SHEETS.items():
        hit = by_name.get(sheet.title) or by_name.get(key)
        if hit is None:
            missing.append(Problem("SHEET.MISSING", sheet.title))
        else:
            found[key] = hit
    if missing:
        raise FileRefused(*missing)
    return found


def foreign_keys(results: dict[str, SheetResult], known_fairs: set[str]) -> list[Problem]:
    """参会用人单位 rows must name a job fair of the same county."""
    employers = results.get("fair_employers")
    if employers is None or employers.frame is None:
        return []
    fairs = results.get("job_fairs")
    ids = set(fairs.frame["fair_id"]) if fairs is not None and fairs.frame is not None else set()
    ids |= known_fairs
    bad = employers.frame.filter(~pl.col("fair_id").is_in(list(ids)))
    title, label = SHEETS["fair_employers"].title, SHEETS["fair_employers"].labels["fair_id"]
    return [
        Problem("VALUE.FOREIGN_KEY", title, row, label, fair)
        for fair, row in bad.select("fair_id", "_row").iter_rows()
    ]


def _validate(sub: Submission, ctx: Context, county: str) -> tuple[dict[str, SheetResult], list]:
    checkpoint("intake.before_read")
    raw = read_sheets(sub)
    checkpoint("intake.read")
    results = {key: validate_sheet(sheet, SHEETS[key], ctx.programme) for key, sheet in raw.items()}
    problems = [p for r in results.values() for p in r.problems]
    if not problems:
        # A CSV of employers alone refers to the job fairs the county already submitted.
        known = (
            set()
            if "job_fairs" in results
            else {
                row[0]
                for row in ctx.con.execute(
                    "SELECT fair_id FROM job_fairs WHERE programme_code = ? AND county_code = ?",
                    [ctx.programme.code, county],
                ).fetchall()
            }
        )
        problems = foreign_keys(results, known)
    checkpoint("intake.validated")
    return results, problems


def process(sub: Submission, ctx: Context) -> Outcome:
    """Accept, refuse or supersede one file; never raises for anything the file contains."""
    programme = ctx.programme
    sha = sha256_of(sub.path)
    checkpoint("intake.hashed")
    if unchanged(ctx.con, programme.code, sub.rel, sha):
        return Outcome(programme.code, sub.rel, sha, None, "skipped", 0, 0)
    county = county_code(sub.county_text, programme.counties)
    entry = {
        "run_id": ctx.run_id,
        "programme_code": programme.code,
        "year": programme.year,
        "county_code": county,
        "file": sub.rel,
        "version": sub.version,
        "sha256": sha,
        "size_bytes": sub.path.stat().st_size,
    }
    results: dict[str, SheetResult] = {}
    try:
        if county is None:
            raise FileRefused(Problem("FILE.UNKNOWN_COUNTY", value=sub.county_text))
        results, problems = _validate(sub, ctx, county)
    except FileRefused as refused:
        problems = refused.problems
    except Exception as exc:  # a reader failing on bytes it cannot parse must not stop the run
        log.warning("unreadable file %s", sub.rel, exc_info=True)
        problems = [Problem("FILE.CORRUPT", detail=type(exc).__name__)]
    problems = mask(problems)
    entry |= {
        "sheets": list(results) or ([sub.sheet] if sub.sheet else []),
        "rows_read": sum(r.rows_read for r in results.values()),
    }
    path = feedback_path(ctx.feedback_dir, county, programme.code, sub.rel)
    if problems:
        write_atomic(path, render(sub.rel, programme.name, problems, ctx.lang))
        checkpoint("intake.feedback_written")
        rel = path.relative_to(ctx.feedback_dir).as_posix()
        with transaction(ctx.con):
            log_entry(
                ctx.con,
                entry | {"status": "refused", "rows_loaded": 0, "feedback_file": rel},
                problems,
            )
        checkpoint("intake.refused_logged")
        return Outcome(programme.code, sub.rel, sha, county, "refused", 0, len(problems))
    newer = newer_version_loaded(ctx.con, programme.code, county, list(results), sub.version)
    if newer:
        with transaction(ctx.con):
            log_entry(
                ctx.con,
                entry | {"status": "superseded", "rows_loaded": 0, "superseded_by": newer},
                [],
            )
        checkpoint("intake.superseded_logged")
        return Outcome(programme.code, sub.rel, sha, county, "superseded", 0, 0)
    scope = {"programme_code": programme.code, "year": programme.year, "county_code": county}
    tables = {
        key: warehouse_rows(
            r.frame,
            key,
            scope,
            {"source_file": sub.rel, "source_sha256": sha, "source_sheet": r.sheet_name},
            ctx.hash_key,
        )
        for key, r in results.items()
    }
    checkpoint("intake.rows_prepared")
    with transaction(ctx.con):
        loaded = replace_county_rows(ctx.con, programme.code, county, tables, sub.rel)
        log_entry(ctx.con, entry | {"status": "accepted", "rows_loaded": loaded}, [])
        checkpoint("intake.before_commit")
    checkpoint("intake.committed")
    path.unlink(missing_ok=True)  # an earlier refusal of this file no longer applies
    checkpoint("intake.feedback_removed")
    return Outcome(programme.code, sub.rel, sha, county, "accepted", loaded, 0)
