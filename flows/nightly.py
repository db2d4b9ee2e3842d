"""The nightly consolidation: ingest what is new or changed, load, publish atomically.

The flow only orchestrates; every step is a plain function in ingest/ or publish/.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context

from checks.catalogue import render_markdown
from flows.audit import AuditResult, audit_programme, report_path
from flows.crash import checkpoint
from ingest.discover import programme_dirs, submissions
from ingest.intake import Context, Outcome, process
from ingest.load import create_tables, refresh_budget_lines
from ingest.personal import load_or_create_key, mask_log_records
from publish import dictionary, report, warehouse
from publish.feedback import feedback_path
from publish.files import write_atomic
from publish.views import create_views
from schemas.programme import Programme, load_programme
from schemas.warehouse import RUNS

STATUS_ZH = {
    "accepted": "已接收",
    "refused": "已拒收",
    "superseded": "已被新版本替代",
    "skipped": "未变化，跳过",
}


def code_version() -> str:
    """Package version plus the git commit the code runs from, when there is one."""
    here = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(here), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"jixiao {version('jixiao')}" + (f"+{sha}" if sha else "")


def catalogue_version() -> str:
    """The rule catalogue's version: the SHA-256 of its documentation, which is generated from
    every rule's id, severity, messages and description (checks/CATALOGUE.md)."""
    return hashlib.sha256(render_markdown().encode("utf-8")).hexdigest()


# The libraries whose versions can change what a run computes: the store and engine, the
# frames and contracts, the expectations, the readers, the orchestration.
LIBRARIES = ("duckdb", "polars", "pandera", "great_expectations", "prefect", "python-calamine",
             "python-docx", "cn2an")  # fmt: skip


def library_versions() -> str:
    versions = {"python": platform.python_version()} | {name: version(name) for name in LIBRARIES}
    return json.dumps(versions, sort_keys=True)


def programme_files(programmes: list[tuple[Path, Programme]]) -> list[dict]:
    """Each programme's programme.yaml and report with their SHA-256, shaped like `inputs`."""
    files = []
    for programme_dir, programme in programmes:
        for path in (programme_dir / "programme.yaml", report_path(programme_dir)):
            if path is not None:
                with open(path, "rb") as fh:
                    sha = hashlib.file_digest(fh, "sha256").hexdigest()
                files.append({"programme": programme.code, "file": path.name, "sha256": sha})
    return files


def describe(outcome: Outcome) -> str:
    """One progress line: the file, what became of it, and how much."""
    amount = (
        f"，{outcome.rows} 行"
        if outcome.rows
        else f"，{outcome.problems} 处问题"
        if outcome.problems
        else ""
    )
    return f"{outcome.file}：{STATUS_ZH[outcome.status]}{amount}"


@task(cache_policy=NO_CACHE)
def load_programmes(raw_dir: Path) -> list[tuple[Path, Programme]]:
    """Every programme.yaml is read before anything is written: a bad one stops the run."""
    return [(d, load_programme(d / "programme.yaml")) for d in programme_dirs(raw_dir)]


@task(cache_policy=NO_CACHE)
def ingest(
    programmes: list[tuple[Path, Programme]],
    staging: Path,
    feedback_dir: Path,
    run_id: str,
    lang: str,
) -> tuple[list[Outcome], list[dict], list[Path]]:
    """All county files of all programmes, in batches, in a stable order.

    Returns the outcomes, the inputs for `runs`, and the feedback pages of refusals that
    no longer stand: removed only once the warehouse saying so is published.
    """
    logger = get_run_logger()
    key = load_or_create_key(logger.warning)
    outcomes, inputs = [], []
    with duckdb.connect(staging) as con:
        create_tables(con)
        checkpoint("ingest.tables_created")
        for programme_dir, programme in programmes:
            refresh_budget_lines(con, programme)
            ctx = Context(programme, con, key, run_id, feedback_dir, lang)
            subs = submissions(programme_dir)
            checkpoint("ingest.discovered")
            done = 0
            for batch in process(subs, ctx):
                for outcome in batch:
                    inputs.append({"programme": programme.code, "file": outcome.file,
                                   "sha256": outcome.sha256})  # fmt: skip
                    if outcome.status in ("refused", "superseded"):
                        logger.info("[%s] %s", programme.code, describe(outcome))
                outcomes += batch
                done += len(batch)
                tally = Counter(o.status for o in batch)
                logger.info("[%s %d/%d] %s", programme.code, done, len(subs),
                            "，".join(f"{STATUS_ZH[s]} {n}" for s, n in sorted(tally.items())))  # fmt: skip
        checkpoint("ingest.done")
        # A file accepted earlier in this run and replaced by a later version (v1 then v2)
        # is reported as superseded, so the run's counts say what the warehouse now holds.
        replaced = {
            tuple(row)
            for row in con.execute(
                "SELECT programme_code, file FROM ingest_log "
                "WHERE run_id = ? AND status = 'superseded'",
                [run_id],
            ).fetchall()
        }
        # Pages of files once refused and no longer; found from the log, so that a page a
        # killed run left behind goes on the next run.
        stale = [
            page
            for county, code, file in con.execute(
                "SELECT county_code, programme_code, file FROM ingest_log WHERE (programme_code,"
                " file) IN (SELECT (programme_code, file) FROM ingest_log WHERE status = "
                "'refused') QUALIFY row_number() OVER (PARTITION BY programme_code, file "
                "ORDER BY ingested_at DESC) = 1 AND status <> 'refused'"
            ).fetchall()
            if (page := feedback_path(feedback_dir, county, code, file)).exists()
        ]
    outcomes = [
        replace(o, status="superseded", rows=0) if (o.programme, o.file) in replaced else o
        for o in outcomes
    ]
    return outcomes, inputs, stale


@task(cache_policy=NO_CACHE)
def audit(programmes: list[tuple[Path, Programme]], staging: Path, out: Path, run_id: str,
          lang: str) -> list[AuditResult]:  # fmt: skip
    """Each programme's metrics, checks, scores, findings and staged reports."""
    logger = get_run_logger()
    key = load_or_create_key(logger.warning)  # names in the report: matched by keyed hash
    results = []
    with duckdb.connect(staging) as con:
        for programme_dir, programme in programmes:
            result = audit_programme(con, programme_dir, programme, out, run_id, lang,
                                     hash_key=key)  # fmt: skip
            logger.info("[%s] 总分 %s（%s），%d 条发现（新增 %d，已整改 %d）：%s",
                        programme.code, result.total, result.grade, result.findings, result.new,
                        result.resolved, result.folder)  # fmt: skip
            logger.info("[%s] Great Expectations %.2f 秒；同样的核查以 SQL 执行 %.2f 秒",
                        programme.code, result.gx_s, result.sql_s)  # fmt: skip
            create_markdown_artifact(
                key=f"summary-{programme.code}".lower(), markdown=result.markdown,
                description="jixiao 每晚审计摘要",
            )  # fmt: skip
            results.append(result)
        create_views(con)
        checkpoint("audit.views_created")
    return results


@task(cache_policy=NO_CACHE)
def record_run(staging: Path, run: dict) -> None:
    with duckdb.connect(staging) as con:
        # A warehouse published by an earlier version has fewer runs columns.
        for column in RUNS.columns:
            con.execute(f"ALTER TABLE runs ADD COLUMN IF NOT EXISTS {column.name} {column.type}")
        columns = ", ".join(run)
        con.execute(
            f"INSERT INTO runs ({columns}) VALUES ({', '.join('?' * len(run))})", list(run.values())
        )
        checkpoint("nightly.runs_row_inserted")
        con.execute("CHECKPOINT")
    checkpoint("nightly.staging_checkpointed")


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def publish(staging: Path, db_path: Path, out: Path) -> None:
    if staging.exists():  # else a retry after the swap: the warehouse is this run's already
        warehouse.publish(staging, db_path)
    # Reports follow the warehouse they report on, never precede it.
    report.publish(out)
    write_atomic(db_path.with_name("DICTIONARY.md"), dictionary.render())
    checkpoint("nightly.dictionary_written")


@flow(name="nightly")
def nightly(
    raw_dir: str = "data/raw",
    db: str = "data/curated/warehouse.duckdb",
    out: str = "data/curated/reports",
    lang: str = "zh",
) -> dict:
    """One full consolidation (SPEC §2 `jixiao run`)."""
    mask_log_records()  # whatever a log line quotes, no ID reaches the console or Prefect
    started, clock = dt.datetime.now(dt.UTC), time.monotonic()
    raw, db_path = Path(raw_dir), Path(db)
    programmes = load_programmes(raw)
    checkpoint("nightly.programmes_loaded")
    Path(out).mkdir(parents=True, exist_ok=True)
    run_id = started.strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    with warehouse.exclusive(db_path):
        staging = warehouse.begin(db_path)
        report.begin(Path(out))
        outcomes, inputs, stale = ingest(programmes, staging, db_path.parent / "feedback",
                                         run_id, lang)  # fmt: skip
        audits = audit(programmes, staging, Path(out), run_id, lang)
        counts = Counter(o.status for o in outcomes)
        run = {
            "run_id": run_id,
            "flow_run_id": str(get_run_context().flow_run.id),
            "started_at": started,
            "finished_at": dt.datetime.now(dt.UTC),
            "duration_s": round(time.monotonic() - clock, 3),
            "raw_dir": str(raw),
            "inputs": json.dumps(inputs, ensure_ascii=False),
            "programme_files": json.dumps(programme_files(programmes), ensure_ascii=False),
            "files_seen": len(outcomes),
            "files_skipped": counts["skipped"],
            "files_accepted": counts["accepted"],
            "files_refused": counts["refused"],
            "files_superseded": counts["superseded"],
            "rows_loaded": sum(o.rows for o in outcomes),
            "code_version": code_version(),
            "catalogue_version": catalogue_version(),
            "library_versions": library_versions(),
            "status": "completed",
        }
        record_run(staging, run)
        publish(staging, db_path, Path(out))
        checkpoint("nightly.published")
        for page in stale:  # the refusals they answered are no longer what the warehouse says
            page.unlink(missing_ok=True)
        checkpoint("nightly.feedback_removed")
    return run | {"outcomes": outcomes, "programmes": [p.code for _, p in programmes],
                  "audits": audits}  # fmt: skip
