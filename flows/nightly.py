"""The nightly consolidation: ingest what is new or changed, load, publish atomically.

The flow only orchestrates; every step is a plain function in ingest/ or publish/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import hashlib
import inspect
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
from prefect import flow, flow_engine, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.utilities.annotations import quote

from jixiao.checkpoints import checkpoint
from jixiao.checks.catalogue import render_markdown
from jixiao.checks.report_text import GRADES_EN
from jixiao.flows.audit import SETUP, AuditResult, audit_programme, report_path, unassigned_files
from jixiao.flows.partitions import (
    HashKey,
    Partition,
    ingest_files,
    merge_partitions,
    parts_dir,
    province,
    remove_parts,
)
from jixiao.ingest import reviews
from jixiao.ingest.discover import Submission, programme_dirs, review_workbooks, submissions
from jixiao.ingest.intake import (
    Context,
    Outcome,
    Stat,
    content_sha,
    process,
    sha256_of,
    stat_cache,
    store_stats,
)
from jixiao.ingest.load import (
    answer_refusals,
    close_run,
    create_sheet_tables,
    create_tables,
    hashed_with,
    open_run,
    refresh_budget_lines,
    run_inputs,
    transaction,
)
from jixiao.ingest.normalise import county_of_file
from jixiao.ingest.personal import (
    HashKeyError,
    file_label,
    key_fingerprint,
    load_or_create_key,
    mask_log_records,
    mask_text,
)
from jixiao.ingest.report import report_sha256
from jixiao.limits import Limits
from jixiao.publish import dictionary, pdf, report, warehouse
from jixiao.publish.feedback import feedback_files, page_file
from jixiao.publish.files import blamed_on, write_atomic
from jixiao.publish.views import create_views
from jixiao.said import SaidError
from jixiao.schemas.programme import Programme, ProgrammeError, load_programme_folder
from jixiao.schemas.warehouse import FINDINGS, HISTORY, TABLES, latest_log_entries
from jixiao.scoring import MetricError, ScoringError

# Prefect 3.9's sync engine joins its flow-heartbeat thread at the end of every flow run, and
# that thread sleeps in one-second steps: up to a second added to each run. Its async engine
# leaves the thread to end by itself (join_on_exit=False), as the sync one is made to here:
# heartbeats, by which Prefect can mark a crashed run, still go out while the run lasts; the
# stopped thread sends none and ends within its second; the run does not wait for it.
if "join_on_exit" in inspect.signature(flow_engine._send_heartbeats).parameters:
    flow_engine._send_heartbeats = functools.partial(flow_engine._send_heartbeats,
                                                     join_on_exit=False)  # fmt: skip

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


def programme_files(programmes: list[tuple[Path, Programme]], audits: list[AuditResult],
                    lang: str = "zh") -> list[dict]:  # fmt: skip
    """Each programme's programme.yaml, report and returned review workbooks (reviews/) with
    their SHA-256, shaped like `run_inputs`' entries.
    The report's is the audit's, of the bytes it read; a report the audit did not read (a
    programme skipped, a report refused) is hashed here, and one refused unread (a symbolic
    link, above its size limit) has none."""
    audited = {(a.programme, a.year): a.report_sha256 for a in audits}
    files = []
    for programme_dir, programme in programmes:
        which = {"programme": programme.code, "year": programme.year}
        yaml = programme_dir / "programme.yaml"
        files.append(which | {"file": yaml.name, "sha256": sha256_of(yaml)})
        if (report := report_path(programme_dir)) is not None:
            sha = audited.get((programme.code, programme.year)) or report_sha256(report)
            files.append(which | {"file": report.name, "sha256": sha})
        files += [which | {"file": rel, "sha256": sha256_of(path)}
                  for path, rel in review_workbooks(programme_dir, lang)]  # fmt: skip
    return files


# What `nothing_changed` found of each programme (by code and year): its county files as
# discovered, and the status and SHA-256 of those it knew, by label (the stat cache's, or
# hashed now); a file absent from them is for `ingest` to hash as it reads it.
Seen = dict[tuple[str, int], tuple[list[Submission], dict[str, tuple[Stat, str]]]]


def status(value: str, lang: str = "zh") -> str:
    """An outcome's status as a reader of ``lang`` is told it (in English, its own name)."""
    return STATUS_ZH[value] if lang == "zh" else value


def describe(outcome: Outcome, lang: str = "zh") -> str:
    """One progress line: the file, what became of it, and how much."""
    if lang != "zh":
        amount = (f", {outcome.rows} rows" if outcome.rows
                  else f", {outcome.problems} problem(s)" if outcome.problems else "")  # fmt: skip
        return f"{outcome.file}: {outcome.status}{amount}"
    amount = (
        f"，{outcome.rows} 行"
        if outcome.rows
        else f"，{outcome.problems} 处问题"
        if outcome.problems
        else ""
    )
    return f"{outcome.file}：{status(outcome.status)}{amount}"


def skip(skipped: list[dict], folder: str, why: SaidError, lang: str) -> None:
    """A programme this run cannot ingest or audit: named, in ``lang``, in the log, the run's
    result and `runs`; every other programme goes on."""
    reason = why.said(lang)
    get_run_logger().error("已跳过项目 %s：%s" if lang == "zh" else "programme %s skipped: %s",
                           folder, reason)  # fmt: skip
    skipped.append({"programme": folder, "reason": reason})


class MaskedError(RuntimeError):
    """An unexpected error whose text quoted personal data, as it may be kept and shown."""


def masked_errors(fn):
    """Prefect keeps a failed task's or flow's exception text in the run's state (its database
    and UI), beyond the reach of log masking: an error that quotes an input (a cell, a file
    name) is raised again with that text masked. Errors that quote nothing personal pass as
    they are, an error told to the user (SaidError) in the language of the call's ``lang``."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if isinstance(exc, SaidError) and "lang" in signature.parameters:
                call = signature.bind(*args, **kwargs)
                call.apply_defaults()
                exc.told_in(call.arguments["lang"])
            text = f"{type(exc).__name__}: {exc}"
            if (shown := mask_text(text)) != text:
                raise MaskedError(shown) from None
            raise

    return run


def _bracketed(enter, leave):
    """A decorator: ``enter()`` before the function, ``leave(what enter returned)`` after it,
    however it ends. A plain ``functools.wraps`` closure, which Dask pickles with the task it
    wraps (a contextlib decorator holds a generator, which it cannot)."""

    def decorate(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            entered = enter()
            try:
                return fn(*args, **kwargs)
            finally:
                leave(entered)

        return run

    return decorate


def _gc_off() -> bool:
    enabled = gc.isenabled()
    gc.disable()
    return enabled


# A function without the cyclic garbage collector. What the night reads before it knows
# whether anything changed (a national template, an entry for each of some 15,000 county
# files) holds no reference cycles, but allocating it sets off collections, each of which
# walks what the night has made so far.
gc_paused = _bracketed(_gc_off, lambda enabled: enabled and gc.enable())

# A function with what the process held before it frozen (gc.freeze) until it returns: a
# night's collections walk the night's own objects, not the modules, Prefect's and GX's (some
# 600,000 objects once they are imported; two full collections a night walking them cost
# 0.8 s at scale 1). What the night leaves behind is collected as before.
heap_frozen = _bracketed(gc.freeze, lambda _: gc.unfreeze())


@task(cache_policy=NO_CACHE)
@masked_errors
@gc_paused
def load_programmes(raw_dir: Path, lang: str) -> tuple[list[tuple[Path, Programme]], list[dict]]:
    """Every programme.yaml, read before anything is written; one that cannot be used skips
    its programme only."""
    programmes, skipped = [], []
    for folder in programme_dirs(raw_dir):
        try:
            programmes.append((folder, load_programme_folder(folder)))
        except ProgrammeError as exc:
            skip(skipped, folder.relative_to(raw_dir).as_posix(), exc, lang)
    return programmes, skipped


def _open_ingest(con: duckdb.DuckDBPyConnection, programmes: list[tuple[Path, Programme]],
                 db_path: Path, run: dict, new_key: bool, skipped: list[dict],
                 lang: str) -> tuple[bytes, list[tuple[Path, Programme]]]:  # fmt: skip
    """The tables, the run's row in `runs`, the hashing key, and each programme's sheet
    tables and budget lines; returns the key and the programmes whose sheet tables could be
    made (the others are skipped)."""
    logger = get_run_logger()
    create_tables(con, notify=logger.warning, lang=lang)
    checkpoint("ingest.tables_created")
    open_run(con, run["run_id"], run["started_at"])
    expected, hashed = hashed_with(con)
    key = load_or_create_key(
        logger.warning, held_by=db_path if expected or hashed else None,
        expected=expected, new=new_key, lang=lang,
    )  # fmt: skip
    con.execute("UPDATE runs SET key_fingerprint = ? WHERE run_id = ?",
                [key_fingerprint(key), run["run_id"]])  # fmt: skip
    ready = []
    for programme_dir, programme in programmes:
        try:
            create_sheet_tables(con, programme)
        except ProgrammeError as exc:
            skip(skipped, f"{programme.year}/{programme.code}", exc, lang)
            continue
        refresh_budget_lines(con, programme)
        ready.append((programme_dir, programme))
    return key, ready


def _close_programme(con: duckdb.DuckDBPyConnection, programme_dir: Path, programme: Programme,
                     mine: list[Outcome], run_id: str, feedback_dir: Path,
                     unassigned: list[dict], lang: str) -> list[Outcome]:  # fmt: skip
    """A programme's files all ingested: the refusals they answer, the returned review
    workbooks, the files whose county cannot be told; returns its outcomes as the warehouse
    now says."""
    logger, name = get_run_logger(), f"{programme.year}/{programme.code}"
    answer_refusals(con, programme)
    if changed := reviews.store(con, programme, programme_dir, logger.warning, lang):
        logger.info("[%s] 采用复核工作簿中的复核结论 %d 条" if lang == "zh"
                    else "[%s] %d review decision(s) taken from review workbooks",
                    name, changed)  # fmt: skip
    for file, page in unassigned_files(con, programme):
        shown = str(page_file(feedback_dir, page))
        logger.warning("[%s] 无法识别所属区县的文件 %s：说明见 %s" if lang == "zh"
                       else "[%s] file %s: its county cannot be told; see %s",
                       name, file, shown)  # fmt: skip
        unassigned.append({"programme": name, "file": file, "page": shown})
    # A file accepted earlier in this run and replaced by a later version (v1 then v2)
    # is reported as superseded, so the run's counts say what the warehouse now holds.
    replaced = {file for (file,) in con.execute(
        "SELECT file FROM ingest_log WHERE run_id = ? AND programme_code = ? "
        "AND year = ? AND status = 'superseded'",
        [run_id, programme.code, programme.year]).fetchall()}  # fmt: skip
    return [replace(o, status="superseded", rows=0) if o.file in replaced else o for o in mine]


def _inputs(programme: Programme, outcomes: list[Outcome]) -> list[dict]:
    """The run's `run_inputs` entries of a programme's files."""
    return [{"programme": programme.code, "year": programme.year, "file": o.file,
             "sha256": o.sha256} for o in outcomes]  # fmt: skip


@task(cache_policy=NO_CACHE)
@masked_errors
def ingest(
    programmes: list[tuple[Path, Programme]],
    staging: Path,
    db_path: Path,
    run: dict,
    lang: str,
    new_key: bool = False,
    seen: Seen | None = None,
) -> tuple[list[Outcome], list[dict], list[Path], list[dict], list[dict]]:
    """All county files of all programmes, in batches, in a stable order; then the refusals
    that accepted files answer are superseded (load.answer_refusals). ``seen``: the files
    `nothing_changed` found and what it knew of each, which are neither listed nor looked
    at again.

    ``run`` holds the run's id and start: its row in `runs` is opened first, so that the
    run has its place in the sequence. The key must be the one the warehouse's hashes were
    made with (a new one only with ``new_key``, over a rebuilt staging file).

    Returns the outcomes, the inputs for `runs`, the feedback pages of refusals that no
    longer stand (removed only once the warehouse saying so is published), the programmes
    skipped because their template's tables clash with the warehouse's, and the refused files
    whose county cannot be told, with their pages (for the operator: the run summary).
    """
    logger = get_run_logger()
    run_id, feedback_dir = run["run_id"], db_path.parent / "feedback"
    outcomes, inputs, skipped, unassigned = [], [], [], []
    with duckdb.connect(staging) as con:
        key, ready = _open_ingest(con, programmes, db_path, run, new_key, skipped, lang)
        for programme_dir, programme in ready:
            ctx = Context(programme, con, key, run_id, feedback_dir, lang)
            subs, known = (seen or {}).get((programme.code, programme.year), (None, None))
            if subs is None:
                subs = submissions(programme_dir, programme.county_template, lang)
            checkpoint("ingest.discovered")
            name, done, mine = f"{programme.year}/{programme.code}", 0, []
            for batch in process(subs, ctx, known):
                for outcome in batch:
                    if outcome.status in ("refused", "superseded"):
                        logger.info("[%s] %s", name, describe(outcome, lang))
                inputs += _inputs(programme, batch)
                mine += batch
                done += len(batch)
                tally = Counter(o.status for o in batch)
                logger.info("[%s %d/%d] %s", name, done, len(subs),
                            ("，" if lang == "zh" else ", ").join(
                                f"{status(s, lang)} {n}" for s, n in sorted(tally.items())))  # fmt: skip
            outcomes += _close_programme(con, programme_dir, programme, mine, run_id,
                                         feedback_dir, unassigned, lang)  # fmt: skip
        checkpoint("ingest.done")
        stale = stale_pages(con, feedback_dir)
    return outcomes, inputs, stale, skipped, unassigned


@task(cache_policy=NO_CACHE)
@masked_errors
def plan_partitions(programmes: list[tuple[Path, Programme]], staging: Path, db_path: Path,
                    run: dict, new_key: bool, lang: str,
                    ) -> tuple[HashKey, list[tuple[Path, Programme]], list[Partition], list[dict]]:  # fmt: skip
    """`ingest`'s opening (`_open_ingest`), then each programme's county files split into
    partitions by province (flows.partitions), in submission order within each. Returns the
    key, the programmes to ingest, their partitions, and the programmes skipped."""
    skipped: list[dict] = []
    with duckdb.connect(staging) as con:
        key, ready = _open_ingest(con, programmes, db_path, run, new_key, skipped, lang)
    folder, parts = parts_dir(staging), []
    for programme_dir, programme in ready:
        by_province: dict[str, list[int]] = {}
        subs = submissions(programme_dir, programme.county_template, lang)
        for i, sub in enumerate(subs):
            county = county_of_file(sub.county_text, programme.counties)
            by_province.setdefault(province(county), []).append(i)
        parts += [Partition(programme_dir, programme, p, [subs[i] for i in positions], positions,
                            folder / f"{programme.year}-{programme.code}-{p or 'xx'}.duckdb")
                  for p, positions in sorted(by_province.items())]  # fmt: skip
    return HashKey(key), ready, parts, skipped


@task(cache_policy=NO_CACHE)
@masked_errors
def ingest_partition(part: Partition, staging: Path, run_id: str, key: HashKey,
                     feedback_dir: Path, lang: str) -> list[Outcome]:  # fmt: skip
    """One partition's files, on a Dask worker (flows.partitions.ingest_files)."""
    return ingest_files(part, staging, run_id, key, feedback_dir, lang)


@task(cache_policy=NO_CACHE)
@masked_errors
def close_partitions(programmes: list[tuple[Path, Programme]], parts: list[Partition],
                     results: list[list[Outcome]], staging: Path, db_path: Path, run_id: str,
                     key: HashKey, lang: str) -> tuple[list[Outcome], list[dict], list[Path], list[dict]]:  # fmt: skip
    """The partitions merged into the staging warehouse, then `ingest`'s closing over each
    programme (one without county files too), its outcomes in submission order as a local
    run gives them."""
    logger = get_run_logger()
    feedback_dir = db_path.parent / "feedback"
    outcomes, inputs, unassigned = [], [], []
    with duckdb.connect(staging) as con:
        merge_partitions(con, [p for p, r in zip(parts, results, strict=True)
                               if any(o.status != "skipped" for o in r)], run_id, key.value)  # fmt: skip
        for programme_dir, programme in programmes:
            placed = {i: outcome for part, result in zip(parts, results, strict=True)
                      if (part.programme.year, part.programme.code) == (programme.year, programme.code)
                      for i, outcome in zip(part.positions, result, strict=True)}  # fmt: skip
            mine = [placed[i] for i in sorted(placed)]
            for outcome in mine:
                if outcome.status in ("refused", "superseded"):
                    logger.info("[%s/%s] %s", programme.year, programme.code, describe(outcome, lang))
            inputs += _inputs(programme, mine)
            outcomes += _close_programme(con, programme_dir, programme, mine, run_id,
                                         feedback_dir, unassigned, lang)  # fmt: skip
        stale = stale_pages(con, feedback_dir)
    remove_parts(staging)
    return outcomes, inputs, stale, unassigned


def ingest_on_dask(programmes: list[tuple[Path, Programme]], staging: Path, db_path: Path,
                   run: dict, lang: str, new_key: bool = False,
                   ) -> tuple[list[Outcome], list[dict], list[Path], list[dict], list[dict]]:  # fmt: skip
    """What `ingest` does and returns, its files ingested partition by partition on the
    flow's Dask task runner (flows.partitions); called from the flow, as it submits tasks."""
    key, ready, parts, skipped = plan_partitions(programmes, staging, db_path, run, new_key, lang)
    futures = ingest_partition.map(parts, unmapped(staging), unmapped(run["run_id"]),
                                   unmapped(key), unmapped(db_path.parent / "feedback"),
                                   unmapped(lang))  # fmt: skip
    results = [future.result() for future in futures]
    # Quoted, as the flow's own task arguments are: Prefect would walk each partition's
    # programme and files and each file's outcome for futures (1.8 s on a national year).
    # (Not for the map above: Dask rebuilds a tuple, which Prefect's quote is, as a plain one.)
    outcomes, inputs, stale, unassigned = close_partitions(
        quote(ready), quote(parts), quote(results), staging, db_path, run["run_id"], key, lang)
    return outcomes, inputs, stale, skipped, unassigned


def stale_pages(con: duckdb.DuckDBPyConnection, feedback_dir: Path) -> list[Path]:
    """Pages of files once refused and no longer (accepted since, or answered by another
    file); found from the log, so that a page a killed run left behind goes on the next run
    (and one where an earlier version put it, before pages were kept by year)."""
    return [
        page
        for (rel,) in con.execute(
            "SELECT DISTINCT feedback_file FROM ingest_log WHERE feedback_file IS NOT NULL "
            "AND (programme_code, year, file) IN (SELECT (programme_code, year, file) FROM "
            f"{latest_log_entries('programme_code, year, file')} WHERE status <> 'refused')"
        ).fetchall()
        if (page := page_file(feedback_dir, rel)).exists()
    ]


@task(cache_policy=NO_CACHE)
@masked_errors
def audit(programmes: list[tuple[Path, Programme]], staging: Path, out: Path, run_id: str,
          lang: str, setup: dict | None = None,
          published: Path | None = None) -> tuple[list[AuditResult], list[dict]]:  # fmt: skip
    """Each programme's metrics, checks, scores, findings and staged reports. A programme whose
    metric is refused or fails is skipped before anything of its audit is written: its last
    published reports stand, and the run says why. ``setup``: the run's (flows.audit.SETUP),
    for re-checking the records only where they changed, against the ``published`` warehouse's
    records; None: everywhere."""
    logger = get_run_logger()
    results, skipped = [], []
    with duckdb.connect(staging) as con:
        # The key ingest hashed with: the report's words are looked up among the names it hashed.
        (fingerprint,) = con.execute(
            "SELECT key_fingerprint FROM runs WHERE run_id = ?", [run_id]
        ).fetchone()
        key = load_or_create_key(logger.warning, held_by=staging, expected=fingerprint, lang=lang)
        for programme_dir, programme in programmes:
            name = f"{programme.year}/{programme.code}"
            try:
                result = audit_programme(con, programme_dir, programme, out, run_id, lang,
                                         hash_key=key, feedback_dir=staging.parent / "feedback",
                                         setup=setup, before=published,
                                         print_with=pdf.start)  # fmt: skip
            except (MetricError, ScoringError) as exc:
                skip(skipped, name, exc, lang)
                continue
            zh = lang == "zh"
            logger.info("[%s] 总分 %s（%s），%d 条发现（新增 %d，已整改 %d）：%s" if zh
                        else "[%s] total %s (%s), %d findings (%d new, %d resolved): %s",
                        name, result.total, result.grade if zh else GRADES_EN[result.grade],
                        result.findings, result.new, result.resolved, result.folder)  # fmt: skip
            logger.info("[%s] Great Expectations %.2f 秒；同样的核查以 SQL 执行 %.2f 秒" if zh
                        else "[%s] Great Expectations %.2f s; the same checks as SQL %.2f s",
                        name, result.gx_s, result.sql_s)  # fmt: skip
            if result.rechecked is not None:
                logger.info("[%s] 增量审计：仅重新核查记录有变化的 %d 个区县，其余沿用上次的发现" if zh
                            else "[%s] incremental audit: records re-checked in the %d "
                            "county(ies) that changed, standing findings kept elsewhere",
                            name, len(result.rechecked))  # fmt: skip
            create_markdown_artifact(
                key=f"summary-{programme.year}-{programme.code}".lower(), markdown=result.markdown,
                description="jixiao 每晚审计摘要" if zh else "jixiao nightly audit summary",
            )  # fmt: skip
            results.append(result)
        create_views(con)
        checkpoint("audit.views_created")
    return results, skipped


def _same(a: list[dict] | None, b: list[dict]) -> bool:
    """Whether the entries ``a`` (the last run's) are those of ``b``, in any order (entries are
    flat: compared as multisets of their items, without a JSON text for each)."""
    def key(entry: dict) -> tuple:
        return tuple(sorted(entry.items()))

    return a is not None and Counter(map(key, a)) == Counter(map(key, b))


@task(cache_policy=NO_CACHE)
@masked_errors
@gc_paused
def nothing_changed(programmes: list[tuple[Path, Programme]], db_path: Path, out: Path,
                    run: dict, clock: float, lang: str) -> tuple[dict | None, Seen | None]:  # fmt: skip
    """This run's `runs` row when it would give what the last run gave, else None; and the
    county files it found, with what it knew of each (`Seen`, for `ingest`), when it looked
    at them all.

    That is when the last run completed (or was itself such a run), with this code, rule
    catalogue, libraries, hashing key, input folder and options, and no input changed since:
    the same county files (known by the stat cache, ingest.intake.Stat, or hashed when it
    cannot vouch for them, unless their size or a new name already says they changed),
    programme.yaml, reports and reviews/ workbooks, each with the same SHA-256. The run then
    records itself in the published warehouse (status ``unchanged``, every file skipped, and
    the stat cache brought up to date) and leaves its reports,
    feedback pages and findings as they are: they still name the run that audited them, and
    「新增」 still means new at that audit. A warehouse someone holds open (DuckDB then
    refuses a writer), or one that needs repair or migration, is left to the full run, and
    so is whatever a run killed after publishing its warehouse left undone (reports not yet
    swapped in, the dictionary, feedback pages that no longer stand)."""
    if not db_path.exists() or warehouse.wal_path(db_path).exists() or warehouse.unreadable(db_path):
        return None, None
    if report.staging_root(out).exists() or not all(
        (out / str(p.year) / p.code).is_dir() for _, p in programmes
    ):
        return None, None
    written = db_path.with_name("DICTIONARY.md")
    rendered = dictionary.render([p for _, p in programmes], lang).encode("utf-8")
    if not written.exists() or written.read_bytes() != rendered:
        return None, None
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error:
        return None, None
    with con:
        try:
            last = con.execute(
                "SELECT status, raw_dir, options, code_version, catalogue_version, "
                "library_versions, key_fingerprint, run_id, programme_files FROM runs "
                "ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            before = run_inputs(con, last[7]) if last else []
            caches = [stat_cache(con, p) for _, p in programmes]
            stale = stale_pages(con, db_path.parent / "feedback")
            held = set(con.execute(
                "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = "
                "current_database() AND schema_name = 'main'").fetchall())  # fmt: skip
        except duckdb.Error:  # published by a version without them: the full run migrates it
            return None, None
    if any((t.name, c.name) not in held for t in TABLES for c in t.columns):
        return None, None  # published by a version without a column: the full run migrates it
    same = (run["raw_dir"], run["options"], run["code_version"], run["catalogue_version"],
            run["library_versions"])  # fmt: skip
    if stale or last is None or last[0] not in ("completed", "unchanged") or tuple(last[1:6]) != same:
        return None, None
    try:
        key = load_or_create_key(get_run_logger().warning, held_by=db_path, expected=last[6],
                                 lang=lang)
    except HashKeyError:  # the full run says why
        return None, None
    inputs, seen, hashed, limits = [], {}, {}, Limits.from_env()
    last_sha = {(i["programme"], i["year"], i["file"]): i["sha256"] for i in before}
    changed = False  # a county file that is not what the last run read under its name
    for (programme_dir, programme), cache in zip(programmes, caches, strict=True):
        stats, subs = {}, submissions(programme_dir, programme.county_template, lang)
        for sub in subs:
            file = file_label(sub.rel, key)
            cached, was = cache.get(file), last_sha.get((programme.code, programme.year, file))
            try:
                now = Stat.of(sub.path)
            except OSError:
                now = None
            if now is None:  # a link, or gone: the full run says what it is
                return None, None
            if cached and cached[0].same_file(now):
                st, sha = cached
            elif was is None or (cached and cached[1] == was and cached[0].size != now.size):
                changed = True  # not hashed here: `ingest` hashes it as it reads it
                continue
            else:  # hashed, and known by the cache from now on
                try:
                    st, sha = now, content_sha(sub.path, now, limits)[0]
                except OSError:
                    return None, None
                hashed[programme.code, programme.year] = programme
            changed |= sha != was
            stats[file] = (st, sha)
            inputs.append({"programme": programme.code, "year": programme.year, "file": file,
                           "sha256": sha})  # fmt: skip
        seen[programme.code, programme.year] = (subs, stats)
    # The same files as the last run's, each with its hash (a file's label is its own): none
    # gone either.
    if changed or not len(inputs) == len(last_sha) == len(before):
        return None, seen
    files = programme_files(programmes, [], lang)
    if not _same(json.loads(last[8] or "null"), files):
        return None, seen
    row = run | {
        "finished_at": dt.datetime.now(dt.UTC),
        "programme_files": json.dumps(files, ensure_ascii=False),
        "files_seen": len(inputs), "files_skipped": len(inputs), "files_accepted": 0,
        "files_refused": 0, "files_superseded": 0, "rows_loaded": 0,
        "key_fingerprint": last[6], "skipped": "[]", "status": "unchanged",
    }  # fmt: skip
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.Error:  # a reader opened it meanwhile
        return None, seen
    with con:
        # Else the first such night after a run that wrote the tables pays their vacuum
        # (0.5-0.7 s on a national year) for the few rows it adds.
        warehouse.vacuum_off(con)
        with transaction(con):
            open_run(con, run["run_id"], run["started_at"])
            row["duration_s"] = round(time.monotonic() - clock, 3)
            close_run(con, row, inputs)
            for key, programme in hashed.items():  # the others' caches vouched for every file
                store_stats(con, programme, seen[key][1])
        con.execute("CHECKPOINT")
    get_run_logger().info("所有输入与上次运行相同：未重新审计，沿用已发布的数据仓库、报告与退回说明"
                          "（本次运行 %s 已记入 runs）" if lang == "zh" else "every input is as "
                          "at the last run: not audited again; the published warehouse, reports "
                          "and feedback stand (this run, %s, is recorded in runs)", run["run_id"])  # fmt: skip
    return row, seen


@task(cache_policy=NO_CACHE)
@masked_errors
def record_run(staging: Path, run: dict, inputs: list[dict]) -> None:
    """Complete the run's row, opened by `ingest`, and record the county files it saw."""
    with duckdb.connect(staging) as con:
        close_run(con, run, inputs)
        checkpoint("nightly.runs_row_inserted")
        con.execute("CHECKPOINT")
    checkpoint("nightly.staging_checkpointed")


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
@masked_errors
def publish(staging: Path, db_path: Path, out: Path, programmes: list[Programme],
            lang: str = "zh") -> None:  # fmt: skip
    if staging.exists():  # else a retry after the swap: the warehouse is this run's already
        warehouse.publish(staging, db_path, get_run_logger().warning, lang)
    warehouse.verify(db_path)  # what analysts will open: read-only, and it answers
    # Reports follow the warehouse they report on, never precede it; the PDFs Chromium has
    # been printing meanwhile go out with them, or not at all.
    pdf.finish(report.staging_root(out), get_run_logger().warning, lang)
    with blamed_on(out):
        report.publish(out)
    write_atomic(db_path.with_name("DICTIONARY.md"), dictionary.render(programmes, lang))
    checkpoint("nightly.dictionary_written")


@flow(name="nightly")
@masked_errors
@heap_frozen
def nightly(
    raw_dir: str = "data/raw",
    db: str = "data/curated/warehouse.duckdb",
    out: str = "data/curated/reports",
    lang: str = "zh",
    rebuild: bool = False,
    new_key: bool = False,
    dask: bool = False,
) -> dict:
    """One full consolidation (SPEC §2 `jixiao run`). ``rebuild``: every table rebuilt from
    the raw inputs, keeping only the run history (schemas.warehouse.HISTORY) of a published
    file that still opens; ``new_key``: the same with a new hashing key, without the findings
    (they name people by the old key's hashes); ``dask``: the files ingested on the flow's Dask
task runner (`ingest_on_dask`; the CLI sets the runner, flows.dask_runner.task_runner)."""
    mask_log_records()  # whatever a log line quotes, no ID reaches the console or Prefect
    started, clock = dt.datetime.now(dt.UTC), time.monotonic()
    raw, db_path = Path(raw_dir), Path(db)
    programmes, skipped = load_programmes(raw, lang)
    # Passed to tasks quoted: Prefect would otherwise walk every field of every template for
    # futures at each task call (about 0.1 s a run); they are plain values.
    checkpoint("nightly.programmes_loaded")
    Path(out).mkdir(parents=True, exist_ok=True)
    run_id = started.strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    keep = tuple(t.name for t in HISTORY if not (new_key and t is FINDINGS))
    run = {
        "run_id": run_id,
        "flow_run_id": str(get_run_context().flow_run.id),
        "started_at": started,
        "raw_dir": str(raw),
        "options": json.dumps({"out": out, "lang": lang}, ensure_ascii=False),
        "code_version": code_version(),
        "catalogue_version": catalogue_version(),
        "library_versions": library_versions(),
    }
    with warehouse.exclusive(db_path):
        same, seen = None, None
        if not (rebuild or new_key or skipped):
            same, seen = nothing_changed(quote(programmes), db_path, Path(out), run, clock, lang)
        if same:
            return same | {"outcomes": [], "audits": [], "skipped": [], "unassigned": [],
                           "programmes": [f"{p.year}/{p.code}" for _, p in programmes]}  # fmt: skip
        staging = warehouse.begin(db_path, rebuild or new_key, keep, get_run_logger().warning,
                                  lang, readable=seen is not None)  # nothing_changed opened it
        remove_parts(staging)  # a crashed Dask run's partition files, which hold free text unmasked
        report.begin(Path(out))
        pdf.launch()  # its start-up overlaps ingest and audit; the prints are asked for later
        with contextlib.ExitStack() as held:
            if not dask:  # Dask's workers open the staging file while they ingest: held after
                held.enter_context(warehouse.held(staging))
            opened = {"run_id": run_id, "started_at": started}
            outcomes, inputs, stale, clashing, unassigned = (
                ingest_on_dask(quote(programmes), staging, db_path, opened, lang, new_key) if dask
                else ingest(quote(programmes), staging, db_path, opened, lang, new_key, quote(seen))
            )  # fmt: skip
            if dask:
                held.enter_context(warehouse.held(staging))
            skipped += clashing
            programmes = [(d, p) for d, p in programmes
                          if f"{p.year}/{p.code}" not in {s["programme"] for s in clashing}]  # fmt: skip
            with blamed_on(Path(out)):  # the files the audit writes are the reports
                setup = None if rebuild or new_key else {k: run[k] for k in SETUP}
                audits, unaudited = audit(quote(programmes), staging, Path(out), run_id, lang, setup,
                                          db_path)
            skipped += unaudited
            counts = Counter(o.status for o in outcomes)
            run |= {
                "finished_at": dt.datetime.now(dt.UTC),
                "duration_s": round(time.monotonic() - clock, 3),
                "programme_files": json.dumps(programme_files(programmes, audits, lang),
                                              ensure_ascii=False),
                "files_seen": len(outcomes),
                "files_skipped": counts["skipped"],
                "files_accepted": counts["accepted"],
                "files_refused": counts["refused"],
                "files_superseded": counts["superseded"],
                "rows_loaded": sum(o.rows for o in outcomes),
                "status": "partial" if skipped else "completed",
            }
            record_run(staging, run | {"skipped": json.dumps(skipped, ensure_ascii=False)},
                       quote(inputs))  # a national year's 14,292 entries: 1.3 s for Prefect to walk
        publish(staging, db_path, Path(out), quote([p for _, p in programmes]), lang)
        checkpoint("nightly.published")
        for page in stale:  # the refusals they answered are no longer what the warehouse says
            for path in feedback_files(page):
                path.unlink(missing_ok=True)
        checkpoint("nightly.feedback_removed")
    # The files this run read (the summary's table); not the unchanged ones, which files_skipped
    # counts: Prefect walks every field of what a flow returns (0.8 s for a national year's).
    read = [o for o in outcomes if o.status != "skipped"]
    return run | {"outcomes": read, "programmes": [f"{p.year}/{p.code}" for _, p in programmes],
                  "audits": audits, "skipped": skipped, "unassigned": unassigned}  # fmt: skip
