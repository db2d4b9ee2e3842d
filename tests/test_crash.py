"""Crash safety (DESIGN, "What a change must keep true": a crash at any point loses nothing
and leaves the published warehouse whole).

`jixiao run` is killed with SIGKILL at the checkpoints of jixiao/checkpoints.py (instrumentation, not
timing), then run again normally. After the kill the published warehouse must be exactly the
state before the run (or, killed after the rename, exactly the state after a clean run); after
the recovery run it must be exactly what a clean run gives, computed in a separate folder from
the same prepared state: the same rows per table and per source file, no duplicate lineage,
the same ingest_log, claims, metrics, scores and findings, `runs` telling what happened, no
stale staging file and no lock left held.

Prepared states (each copied afresh for every case):

- ``changed``: a warehouse from a clean run of the sample, then one accepted county file
  changed (530112/visits.csv loses its last row: the county's visits are deleted and
  reinserted inside the batch's transaction);
- ``fresh``: the bundled sample and no warehouse yet (accepted, refused, v1 then v2);
- ``fixed``: a warehouse from a clean run, then the refused 530113/visits.csv resubmitted
  readable (UTF-16 re-encoded as UTF-8): refusal becomes acceptance, its feedback page goes;
- ``late_v1``: a warehouse holding 530111.v2.xlsx, then 530111.xlsx (v1) arrives late.

Besides the warehouse, a reader sees the feedback pages and the reports; after the kill they
must agree with the published warehouse too: every refusal it names has its page, and the
reports are those of a published run, whole. Reports are staged during the run and swapped in
right after the warehouse (publish/report.py), so from ``warehouse.replaced`` until
``report.swapped`` they still show the previous published run (never the unpublished one, never
a mix); from ``report.swapped`` on, the new one.

Runtime: one `jixiao run` of the sample costs 5–7 s of CPU here. By default a representative
subset runs (``DEFAULT``: 24 cases at 21 points of every stage, the transaction boundaries, the
publication steps, each state's own situation; 4 minutes on two busy CPUs);
JIXIAO_CRASH_FULL=1 runs every point in ``changed`` and ``fresh`` too (and the points a state
never reaches, which must let the run complete): 85 cases, 8.5 minutes. Cases run two at a
time (up to four with more CPUs) against the session's Prefect server.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from jixiao.checkpoints import AFTER_PUBLISH, ENV, POINTS
from jixiao.publish import report, warehouse
from jixiao.sample.generate import SHEETS as SHEET_TABLES  # the sample's sheet tables
from tests.runs import DB, PROGRAMME, REPO, REPORTS, completed, jixiao_run, tree

pytestmark = pytest.mark.flow

PACKAGES = ("jixiao", "flows", "ingest", "publish", "checks", "scoring", "schemas")
STAGING = warehouse.staging_path(DB)
REPORTS_STAGING = report.staging_root(REPORTS)
LOCK = DB.with_name(DB.name + ".lock")
ORDER = list(POINTS)


def leaves_staging(point: str, published_before: bool) -> bool:
    """Killed here, the run leaves a half-done staging file behind (a copy of the published
    warehouse from begin() on, else DuckDB's new file from the first connection on)."""
    first = "warehouse.staging_ready" if published_before else "ingest.tables_created"
    return ORDER.index(first) <= ORDER.index(point) < ORDER.index("warehouse.replaced")


FULL = os.environ.get("JIXIAO_CRASH_FULL") == "1"
WORKERS = max(1, min(4, os.cpu_count() or 1))

# The default cases, per state. ``point:N`` dies on the N-th visit (jixiao/checkpoints.py).
DEFAULT = {
    "changed": (
        "warehouse.staging_ready", "load.budget_lines_refreshed",
        "intake.read:15",  # half the files hashed (and the changed one read)
        "intake.validated",
        # inside the batch's transaction, then its commit
        "load.after_delete", "load.superseded_marked", "load.committed",
        # the audit: the claims' own transaction, Great Expectations, findings, reports
        "load.claims_before_commit", "audit.expectations_done", "audit.findings_stored",
        "report.text_written:2",
        # publication: before and after each rename
        "warehouse.before_replace", "warehouse.replaced", "report.swapped",
        "nightly.dictionary_written",
    ),
    "fresh": (
        "ingest.tables_created",  # nothing published: DuckDB has just created the staging file
        "intake.feedback_written:2",  # refusals (none in ``changed``)
        "load.after_insert:3",  # the first batch, half its sheets inserted
        "warehouse.replaced", "report.swapped",  # the first publication: no reports before
    ),
    # The refusal's page goes only once the acceptance is published.
    "fixed": ("warehouse.before_replace", "nightly.published", "nightly.feedback_removed"),
    "late_v1": ("load.ingest_log_rows",),  # the late v1 logged as superseded
}  # fmt: skip
REPEATED = ("report.text_written:2", "report.text_written:3")  # the 2nd and 3rd report file

# Points a run over the state never reaches: it completes normally.
NOT_REACHED = {  # nor is a compaction: the sample never holds a tenth of its rows deleted
    "fresh": {"load.after_delete", "load.superseded_marked", "warehouse.compacted"},
    "changed": {"intake.feedback_written", "warehouse.compacted"},
    "fixed": {"intake.feedback_written", "load.after_delete", "load.superseded_marked"},
    "late_v1": {"intake.feedback_written", "load.after_delete", "load.after_insert",
                "load.superseded_marked"},
}  # fmt: skip


def _case(state: str, crash: str) -> pytest.param:
    return pytest.param(state, crash, id=f"{state}-{crash}")


# With JIXIAO_CRASH_FULL=1, ``fresh`` also dies after the 3rd refusal page and the last sheet.
_full = {
    "changed": (*POINTS, *REPEATED),
    "fresh": (*POINTS, *REPEATED, "intake.feedback_written:3", "load.after_insert:6"),
}
CASES = [
    _case(state, point)
    for state, points in DEFAULT.items()
    for point in dict.fromkeys((*points, *_full.get(state, ())) if FULL else points)
]


# ---------------------------------------------------------------- the checkpoints themselves


def source_points() -> list[str]:
    """Every checkpoint("…") call in the package's modules."""
    names = []
    for path in sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names += [
            node.args[0].value
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "checkpoint"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ]
    return names


def test_registry_names_every_checkpoint_once():
    found = source_points()
    assert len(found) == len(set(found)), "a checkpoint name is used twice"
    assert set(found) == set(POINTS)
    assert len(POINTS) >= 20
    assert all(name.count(".") == 1 for name in POINTS)  # stage.point
    assert AFTER_PUBLISH.issubset(POINTS)
    # The default subset names only real points, at least 20 of them, from every stage.
    default = {p.partition(":")[0] for points in DEFAULT.values() for p in points}
    assert default <= set(POINTS), default - set(POINTS)
    assert len(default) >= 20
    stages = {p.partition(".")[0] for p in default}
    assert {"intake", "load", "audit", "report", "warehouse", "nightly"} <= stages
    if FULL:  # every point runs in some state
        assert {case_point(c) for c in CASES} == set(POINTS)


def _python(code: str, crash: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != ENV} | ({ENV: crash} if crash else {})
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


@pytest.mark.parametrize(
    ("crash", "code", "printed"),
    [(None, 0, "abc"), ("t.b", -signal.SIGKILL, ""), ("t.b:2", -signal.SIGKILL, "a"),
     ("t.b:3", -signal.SIGKILL, "ab"), ("t.b:4", 0, "abc"), ("t.z", 0, "abc"), ("t", 0, "abc")],
)  # fmt: skip
def test_checkpoint_kills_only_where_asked(crash, code, printed):
    done = _python(
        "from jixiao.checkpoints import checkpoint\n"
        "for c in 'abc':\n    checkpoint('t.b')\n    print(c, end='', flush=True)\n",
        crash,
    )
    assert (done.returncode, done.stdout) == (code, printed), done.stderr


# ---------------------------------------------------------------- running and observing


def case_point(case) -> str:
    return case.values[1].partition(":")[0]


def _digest(rows: list) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def db_state(db: Path) -> dict | None:
    """What an analyst sees in the published warehouse, opened read-only; None if absent.

    Keys without a leading underscore must equal a clean run's; the others depend on how
    many runs there were and are checked case by case."""
    if not db.exists():
        return None
    with duckdb.connect(str(db), read_only=True) as con:

        def q(sql: str, params=()) -> list[tuple]:
            return con.execute(sql, params).fetchall()

        out: dict = {t: q(f"SELECT * FROM {t} ORDER BY ALL") for t in SHEET_TABLES}
        out["per_source_file"] = {
            t: q(f"SELECT source_file, count(*) FROM {t} GROUP BY 1 ORDER BY 1")
            for t in SHEET_TABLES
        }
        out["budget_lines"] = q("SELECT * FROM budget_lines ORDER BY ALL")
        out["claims"] = q("SELECT * FROM claims ORDER BY ALL")
        out["ingest_log"] = q("SELECT * EXCLUDE (run_id, ingested_at) FROM ingest_log ORDER BY ALL")
        out["views"] = q("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1")
        runs = [r[0] for r in q("SELECT run_id FROM runs ORDER BY run_id")]
        latest = runs[-1] if runs else None
        # The run whose audit is published: the latest, unless that one found nothing changed.
        (audited,) = q("SELECT arg_max(run_id, seq) FROM runs WHERE run_id IN (SELECT run_id "
                       "FROM metrics UNION SELECT run_id FROM scores)")[0]  # fmt: skip
        for table in ("metrics", "scores"):
            out[table] = q(f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ? "
                           "ORDER BY ALL", [audited])  # fmt: skip
        out["findings"] = q("SELECT * EXCLUDE (run_id, status) FROM findings WHERE run_id = ? "
                            "ORDER BY ALL", [audited])  # fmt: skip
        out["_findings_status"] = q("SELECT fingerprint, status FROM findings WHERE run_id = ? "
                                    "ORDER BY ALL", [audited])  # fmt: skip
        out["_runs"] = runs
        out["_last_run"] = q(
            "SELECT files_seen, files_skipped, files_accepted, files_refused, files_superseded, "
            "rows_loaded, status FROM runs WHERE run_id = ?", [latest],
        )  # fmt: skip
        # Each run's own records (ingest_log rows of a run may later be marked superseded).
        out["_per_run"] = {
            run: tuple(_digest(q(f"SELECT * FROM {t} WHERE run_id = ? ORDER BY ALL", [run]))
                       for t in ("findings", "metrics", "scores"))
            for run in runs
        }  # fmt: skip
        out["_orphans"] = q(
            "SELECT DISTINCT run_id FROM (SELECT run_id FROM ingest_log UNION ALL SELECT run_id "
            "FROM findings UNION ALL SELECT run_id FROM metrics UNION ALL SELECT run_id FROM "
            "scores) WHERE run_id NOT IN (SELECT run_id FROM runs)"
        )
        out["_duplicates"] = [
            (t, *row)
            for t in SHEET_TABLES
            for row in q(
                f"SELECT source_file, source_sheet, source_row, count(*) FROM {t} "
                "GROUP BY ALL HAVING count(*) > 1"
            )  # fmt: skip
        ]
        # The feedback page of every file whose latest ingest_log row is a refusal.
        out["_refusal_pages"] = [
            r[0]
            for r in q(
                "SELECT feedback_file FROM ingest_log QUALIFY row_number() OVER "
                "(PARTITION BY programme_code, file ORDER BY ingested_at DESC) = 1 "
                "AND status = 'refused' ORDER BY 1"
            )  # fmt: skip
        ]
    return out


def core(state: dict) -> dict:
    return {k: v for k, v in state.items() if not k.startswith("_")}


def findings_json(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted((folder / REPORTS).rglob("findings.json"))}  # fmt: skip


def lock_is_free(folder: Path) -> bool:
    try:
        with warehouse.exclusive(folder / DB):
            return True
    except warehouse.WarehouseBusy:
        return False


def reports(folder: Path) -> dict[str, str]:
    """The published reports as a reader compares them: the line naming the run and its time
    left out (findings.xlsx and Data Docs are not compared)."""
    root = folder / REPORTS
    return {
        p.relative_to(root).as_posix(): re.sub(r"运行编号：\S+　生成时间：[^\n<|]*", "",
                                               p.read_text(encoding="utf-8"))
        for p in sorted(root.rglob("*"))
        if p.name in ("report.html", "report.md", "findings.json")
    }  # fmt: skip


def missing_pages(folder: Path, state: dict | None) -> list[str]:
    pages = state["_refusal_pages"] if state else []
    return [p for p in pages if not (folder / "curated/feedback" / p).exists()]


# ---------------------------------------------------------------- prepared states


def _drop_last_row(path: Path) -> None:
    lines = path.read_bytes().rstrip(b"\r\n").split(b"\n")
    path.write_bytes(b"\n".join(lines[:-1]) + b"\n")


def _reencode_utf8(path: Path) -> None:
    path.write_text(path.read_bytes().decode("utf-16"), encoding="utf-8-sig")


def _build(name: str, folder: Path, api: str) -> None:
    shutil.copytree(REPO / "data" / "raw", folder / "raw")
    counties = folder / PROGRAMME / "counties"
    if name == "changed":
        completed(jixiao_run(folder, api))
        _drop_last_row(counties / "530112" / "visits.csv")
    elif name == "fixed":
        completed(jixiao_run(folder, api))
        _reencode_utf8(counties / "530113" / "visits.csv")
    elif name == "late_v1":
        v1, aside = counties / "530111.xlsx", folder / "530111.xlsx"
        v1.rename(aside)
        completed(jixiao_run(folder, api))
        aside.rename(v1)


@dataclass
class Prepared:
    name: str
    folder: Path  # raw/ and, unless fresh, curated/ as a previous run left them
    before: dict | None
    after: dict  # the published warehouse after a clean run over a copy of folder
    before_reports: dict[str, str]
    after_reports: dict[str, str]
    after_feedback: dict[str, str]
    after_findings: dict[str, str]


_PREPARED: dict[str, Prepared] = {}
_PREPARING = threading.Lock()


def prepare(name: str, api: str, factory) -> Prepared:
    with _PREPARING:
        if name in _PREPARED:
            return _PREPARED[name]
        root = factory.mktemp(f"prepared-{name}")
    folder, clean = root / "state", root / "clean"
    _build(name, folder, api)
    shutil.copytree(folder, clean)
    completed(jixiao_run(clean, api))
    prep = Prepared(name, folder, db_state(folder / DB), db_state(clean / DB), reports(folder),
                    reports(clean), tree(clean / "curated/feedback"), findings_json(clean))  # fmt: skip
    with _PREPARING:
        return _PREPARED.setdefault(name, prep)


@pytest.fixture
def prepared(prefect_api, tmp_path_factory):
    return lambda name: prepare(name, prefect_api, tmp_path_factory)


def test_prepared_states_are_what_they_say(prepared):
    with ThreadPoolExecutor(WORKERS) as pool:
        fresh, changed, fixed, late = pool.map(prepared, ("fresh", "changed", "fixed", "late_v1"))
    assert fresh.before is None
    assert fresh.after["_last_run"] == [(30, 0, 25, 4, 1, 516, "completed")]
    assert changed.after["_last_run"][0][:5] == (30, 29, 1, 0, 0)
    visits = dict(changed.after["per_source_file"]["visits"])
    before = dict(changed.before["per_source_file"]["visits"])
    assert visits["counties/530112/visits.csv"] == before["counties/530112/visits.csv"] - 1
    assert fixed.after["_last_run"][0][:5] == (30, 29, 1, 0, 0)
    assert (
        "530113/2022/530100-disability-employment/530113_visits.csv.md"
        in (fixed.before["_refusal_pages"])
    )
    assert late.before["_last_run"][0][:5] == (29, 0, 25, 4, 0)
    assert late.after["_last_run"][0][:5] == (30, 29, 0, 0, 1)


# ---------------------------------------------------------------- the harness


def crash_case(prep: Prepared, crash: str, folder: Path, api: str) -> None:
    """Kill a run at ``crash``, look at what it left, recover, compare; raises on failure."""
    point = crash.partition(":")[0]
    shutil.copytree(prep.folder, folder)
    db = folder / DB

    # 1. The run dies at the point (or completes when its path does not pass there).
    killed = jixiao_run(folder, api, crash)
    reached = point not in NOT_REACHED[prep.name]
    assert killed.returncode == (-signal.SIGKILL if reached else 0), (
        killed.stdout[-2000:] + killed.stderr[-2000:]
    )
    published = not reached or point in AFTER_PUBLISH

    # 2. What it left: the published warehouse whole, before or after, never a mix.
    now = db_state(db)
    before_runs = prep.before["_runs"] if prep.before else []
    if published:
        assert core(now) == core(prep.after)
        assert now["_findings_status"] == prep.after["_findings_status"]
        assert now["_runs"][:-1] == before_runs and len(now["_runs"]) == len(before_runs) + 1
    else:
        assert now == prep.before  # nothing of the killed run, not even its runs row
    if reached and leaves_staging(point, prep.before is not None):
        assert (folder / STAGING).exists()  # the wreck the next run must not build on
    # The kernel released the flock when the process died: the lock file is there, not held.
    if reached and ORDER.index(point) >= ORDER.index("warehouse.locked"):
        assert (folder / LOCK).exists()
    assert lock_is_free(folder)
    # What readers see beside the warehouse, reported last so that the recovery is checked too.
    interim = []
    if lost := missing_pages(folder, now):
        interim.append(f"the published warehouse names feedback pages not on disk: {lost}")
    # Reports follow the warehouse: swapped in after it, so they may lag, never lead.
    swapped = not reached or ORDER.index(point) >= ORDER.index("report.swapped")
    shown = reports(folder)
    if shown != (prep.after_reports if swapped else prep.before_reports):
        runs = {name: "after" if text == prep.after_reports.get(name) else
                "before" if text == prep.before_reports.get(name) else "neither"
                for name, text in shown.items()}  # fmt: skip
        expected = "after" if swapped else "before"
        interim.append(f"the reports shown are not those {expected} the run: {runs}")

    # 3. A normal run recovers: exactly what a clean run gives.
    completed(jixiao_run(folder, api))
    after = db_state(db)
    assert core(after) == core(prep.after)
    assert after["_duplicates"] == [] and after["_orphans"] == []
    for run in before_runs:  # earlier runs' records kept as they were
        assert after["_per_run"][run] == prep.before["_per_run"][run]
    if published:  # the killed run published; the recovery run found nothing new
        assert len(after["_runs"]) == len(before_runs) + 2
        seen, skipped, *_, rows, status = after["_last_run"][0]
        # unchanged: nothing left undone, no audit; completed: it finished the killed run's
        # publication (reports, dictionary, feedback pages) by auditing again
        assert (skipped, rows) == (seen, 0) and status in ("unchanged", "completed")
    else:  # the killed run left no trace; the recovery run did all of its work
        assert len(after["_runs"]) == len(before_runs) + 1
        assert after["_last_run"] == prep.after["_last_run"]
        assert after["_findings_status"] == prep.after["_findings_status"]
    assert not (folder / STAGING).exists()
    assert not (folder / REPORTS_STAGING).exists()
    assert not (folder / STAGING).with_name(STAGING.name + ".wal").exists()
    assert not db.with_name(db.name + ".wal").exists()
    assert not list((folder / "curated").rglob("*.tmp"))
    assert (folder / "curated/DICTIONARY.md").exists()
    assert tree(folder / "curated/feedback") == prep.after_feedback
    assert missing_pages(folder, after) == []
    assert findings_json(folder) == prep.after_findings
    assert lock_is_free(folder)
    assert not interim, f"killed at {crash}: " + "; ".join(interim)


_OUTCOMES: dict[tuple[str, str], BaseException | None] = {}


def _params(item) -> tuple[str, str] | None:
    callspec = getattr(item, "callspec", None)
    if getattr(item, "originalname", None) != "test_killed_run_then_recovery" or not callspec:
        return None
    return callspec.params["state"], callspec.params["crash"]


def _one(key: tuple[str, str], folder: Path, api: str, factory) -> BaseException | None:
    try:
        crash_case(prepare(key[0], api, factory), key[1], folder, api)
    except BaseException as exc:  # noqa: BLE001 - handed to the test that owns the case
        return exc
    shutil.rmtree(folder, ignore_errors=True)  # kept only when it failed
    return None


@pytest.fixture
def outcome(request, prefect_api, tmp_path_factory):
    """The case's outcome; the first call runs every selected case, WORKERS at a time."""

    def get(key: tuple[str, str]) -> BaseException | None:
        if key not in _OUTCOMES:
            todo = {k for k in map(_params, request.session.items) if k} - _OUTCOMES.keys()
            todo.add(key)
            with ThreadPoolExecutor(WORKERS) as pool:
                # Prepared states first (each once), then the cases, longest state first.
                list(pool.map(lambda s: prepare(s, prefect_api, tmp_path_factory),
                              sorted({s for s, _ in todo})))  # fmt: skip
                keys = sorted(
                    todo, key=lambda k: (k[0] != "fresh", ORDER.index(k[1].split(":")[0]))
                )
                folders = [tmp_path_factory.mktemp("case") / "run" for _ in keys]
                results = pool.map(lambda k, f: _one(k, f, prefect_api, tmp_path_factory), keys,
                                   folders)  # fmt: skip
                _OUTCOMES.update(zip(keys, results, strict=True))
        return _OUTCOMES[key]

    return get


@pytest.mark.parametrize(("state", "crash"), CASES)
def test_killed_run_then_recovery(outcome, state, crash):
    failure = outcome((state, crash))
    if failure is not None:
        raise failure


# ---------------------------------------------------------------- two runs at once


def test_second_run_while_the_lock_is_held_exits_1_and_touches_nothing(prepared, prefect_api,
                                                                       tmp_path):  # fmt: skip
    folder = tmp_path / "case"
    shutil.copytree(prepared("changed").folder, folder)
    before = tree(folder / "curated")
    with warehouse.exclusive(folder / DB):
        done = jixiao_run(folder, prefect_api)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 1 and "另一个 jixiao 运行正在写入" in errors[0], done.stderr
    assert tree(folder / "curated") == before  # warehouse, feedback, reports untouched
    assert not (folder / STAGING).exists()
    completed(jixiao_run(folder, prefect_api))  # lock released: the next run goes ahead
