"""jixiao itself, measured: the nightly flow under Prefect, and the same work without it.

``Stages`` wraps the functions the run calls (read, contract, load, checks, GX, score,
publish) with timers, by replacing module attributes inside this process only: the main code
is not edited and runs exactly as it does for a user. Times are exclusive — a timed function
called inside another timed one is charged to itself, not to both.

``plain_nightly`` runs ``flows.nightly.nightly``'s own body (``.fn``) with its tasks replaced by
their plain functions (``Task.fn``), the run logger by a standard logger, the artifact call by
nothing and the run context by a stub: the same work, in the same order, with no Prefect. The
flow's wall time minus this one is Prefect's own overhead.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

# (module, attribute, detail); each detail belongs to the stage before its first dot.
TIMED = (
    ("jixiao.ingest.intake", "sha256_of", "read.sha256"),
    ("jixiao.ingest.intake", "read_sheets", "read.parse"),  # in this process: small runs only
    ("jixiao.ingest.intake", "_reads", "read.files"),  # hash and read (in reader processes: the wait)
    ("jixiao.ingest.intake", "check_sheets", "contract.validate"),  # normalisers + pandera, per batch
    ("jixiao.ingest.intake", "foreign_keys", "contract.foreign_keys"),
    ("jixiao.ingest.intake", "_decide", "load.decide"),  # each file's fate, feedback pages
    ("jixiao.ingest.intake", "warehouse_rows", "load.rows"),
    ("jixiao.ingest.intake", "delete_county_rows", "load.delete"),
    ("jixiao.ingest.intake", "insert_rows", "load.insert"),  # keyed hash inside DuckDB
    ("jixiao.ingest.intake", "insert_log", "load.ingest_log"),
    ("jixiao.ingest.intake", "insert_names", "load.names"),  # keyed hashes of the names paired with IDs
    ("jixiao.ingest.intake", "masked_values", "load.free_text"),  # free text masked before it is stored
    ("jixiao.ingest.intake", "transaction", "load.transaction"),  # the rest: BEGIN, COMMIT
    ("jixiao.flows.nightly", "create_tables", "load.create_tables"),
    ("jixiao.flows.nightly", "create_sheet_tables", "load.create_tables"),
    ("jixiao.flows.nightly", "refresh_budget_lines", "load.budget_lines"),
    ("jixiao.flows.nightly", "submissions", "read.discover"),
    ("jixiao.flows.nightly", "load_programme_folder", "read.programme_yaml"),
    ("jixiao.flows.audit", "metrics_beside", "score.metrics"),
    ("jixiao.flows.audit", "store_metrics", "score.metrics"),
    ("jixiao.flows.audit", "claimed_scores", "score.scorecard"),
    ("jixiao.flows.audit", "score", "score.scorecard"),
    ("jixiao.flows.audit", "scorecard_rows", "score.scorecard"),
    ("jixiao.flows.audit", "score_findings", "score.scorecard"),
    ("jixiao.flows.audit", "audit_report", "checks.report_check"),
    ("jixiao.flows.audit", "replace_claims", "checks.report_claims_insert"),
    ("jixiao.flows.audit", "measured", "checks.against_records"),
    ("jixiao.flows.audit", "records_disagree", "checks.against_records"),
    ("jixiao.flows.audit", "rates_disagree", "checks.against_records"),
    ("jixiao.flows.audit", "record_findings", "checks.records_sql"),
    ("jixiao.checks.history", "store", "checks.history"),
    ("jixiao.flows.audit", "run_expectations", "gx.run_expectations"),
    ("jixiao.flows.audit", "write_reports", "publish.reports"),
    ("jixiao.flows.audit", "_survey", "publish.reports"),
    ("jixiao.flows.nightly", "create_views", "publish.views"),
    ("jixiao.publish.warehouse", "begin", "publish.warehouse_copy"),
    ("jixiao.publish.warehouse", "publish", "publish.warehouse_swap"),
    ("jixiao.publish.warehouse", "unreadable", "publish.warehouse_check"),  # opens, whole, answers
    ("jixiao.publish.dictionary", "render", "publish.dictionary"),
    # --dask: the partitions' wall time (their work is in the workers, out of these timers),
    # and what the flow does after them on one machine
    ("jixiao.flows.nightly", "ingest_on_dask", "load.dask_partitions"),
    ("jixiao.flows.nightly", "merge_partitions", "load.dask_merge"),
)
STAGES = ("read", "contract", "load", "checks", "gx", "score", "publish")


class Stages:
    """Exclusive timers over module functions, installed for the life of the object."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[float]] = []  # [start, children] per open timed call
        self._undo: list[tuple[object, str, object]] = []
        self.missing: list[str] = []

    # -- timing
    def _enter(self) -> None:
        self._stack.append([time.perf_counter(), 0.0])

    def _exit(self, detail: str) -> None:
        start, children = self._stack.pop()
        elapsed = time.perf_counter() - start
        self.seconds[detail] += elapsed - children
        self.calls[detail] += 1
        if self._stack:
            self._stack[-1][1] += elapsed

    def _timed_generator(self, fn, detail: str):
        """A generator's time is spent in each next(), not in the call that creates it."""

        def timed(*args, **kwargs):
            items = fn(*args, **kwargs)
            while True:
                self._enter()
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    self._exit(detail)
                yield item

        timed.__wrapped__ = fn
        return timed

    def _timed_function(self, fn, detail: str):
        if inspect.isgeneratorfunction(fn):
            return self._timed_generator(fn, detail)

        def timed(*args, **kwargs):
            self._enter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._exit(detail)

        timed.__wrapped__ = fn
        timed.__name__ = getattr(fn, "__name__", detail)
        return timed

    def _timed_context(self, cls, detail: str):
        stages = self

        class Timed(cls):
            def __enter__(self):
                stages._enter()
                return super().__enter__()

            def __exit__(self, *exc):
                try:
                    return super().__exit__(*exc)
                finally:
                    stages._exit(detail)

        Timed.__name__ = cls.__name__
        return Timed

    # -- installing
    def install(self) -> Stages:
        for module_name, attr, detail in TIMED:
            module = importlib.import_module(module_name)
            original = getattr(module, attr, None)
            if original is None:
                self.missing.append(f"{module_name}.{attr}")
                continue
            wrapped = (
                self._timed_context(original, detail)
                if isinstance(original, type)
                else self._timed_function(original, detail)
            )
            setattr(module, attr, wrapped)
            self._undo.append((module, attr, original))
        return self

    def uninstall(self) -> None:
        for module, attr, original in reversed(self._undo):
            setattr(module, attr, original)
        self._undo.clear()

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def summary(self, wall: float) -> dict:
        """Seconds per stage, ``other`` for the rest of ``wall``, and the details."""
        stages = dict.fromkeys(STAGES, 0.0)
        for detail, s in self.seconds.items():
            stages[detail.split(".")[0]] += s
        stages["other"] = max(0.0, wall - sum(stages.values()))
        return {
            "stages": {k: round(v, 3) for k, v in stages.items()},
            "detail": {k: round(v, 3) for k, v in sorted(self.seconds.items())},
            "calls": dict(sorted(self.calls.items())),
        }


def _unquoting(fn):
    """``fn`` given its arguments as a task receives them: ``quote`` removed."""
    from prefect.utilities.annotations import quote

    def plain(value):
        return value.unquote() if isinstance(value, quote) else value

    def call(*args, **kwargs):
        return fn(*map(plain, args), **{k: plain(v) for k, v in kwargs.items()})

    return call


@contextlib.contextmanager
def without_prefect() -> Iterator[None]:
    """flows.nightly with its Prefect calls replaced by plain ones, for the plain run."""
    from prefect import Task

    import jixiao.flows.nightly as nightly

    saved = dict(vars(nightly))
    log = logging.getLogger("bench.plain")
    for name, value in saved.items():
        if isinstance(value, Task):
            setattr(nightly, name, _unquoting(value.fn))
    nightly.get_run_logger = lambda: log
    nightly.create_markdown_artifact = lambda *a, **k: None
    run = SimpleNamespace(flow_run=SimpleNamespace(id=f"plain-{uuid.uuid4().hex[:8]}"))
    nightly.get_run_context = lambda: run
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(nightly, name, value)


def plain_nightly(raw: Path, db: Path, out: Path, lang: str = "zh") -> dict:
    import jixiao.flows.nightly as nightly

    with without_prefect():
        return nightly.nightly.fn(raw_dir=str(raw), db=str(db), out=str(out), lang=lang)


def flow_nightly(raw: Path, db: Path, out: Path, lang: str = "zh") -> dict:
    import jixiao.flows.nightly as nightly

    return nightly.nightly(raw_dir=str(raw), db=str(db), out=str(out), lang=lang)


def dask_nightly(raw: Path, db: Path, out: Path, lang: str = "zh") -> dict:
    """The nightly flow as `jixiao run --dask local` runs it: on a LocalCluster of processes."""
    import jixiao.flows.nightly as nightly
    from jixiao.flows.dask_runner import LOCAL, task_runner

    flow = nightly.nightly.with_options(task_runner=task_runner(LOCAL))
    return flow(raw_dir=str(raw), db=str(db), out=str(out), lang=lang, dask=True)


def warehouse_counts(db: Path, year: int) -> dict:
    """Rows per sheet table and RECORDS findings per rule of the latest run, from the
    published warehouse: what the floor must agree with."""
    import duckdb

    from jixiao.sample.generate import SHEETS

    with duckdb.connect(str(db), read_only=True) as con:
        rows = {k: con.execute(f"SELECT count(*) FROM {k}").fetchone()[0] for k in SHEETS}
        run = con.execute("SELECT arg_max(run_id, seq) FROM runs").fetchone()[0]
        found = dict(
            con.execute(
                "SELECT rule_id, count(*) FROM findings WHERE run_id = ? "
                "AND rule_id LIKE 'RECORDS.%' GROUP BY ALL",
                [run],
            ).fetchall()
        )
        files = dict(
            con.execute(
                "SELECT status, count(*) FROM ingest_log WHERE run_id = ? GROUP BY ALL", [run]
            ).fetchall()
        )
        metrics = dict(
            con.execute(
                "SELECT indicator_id, coalesce(CAST(value AS VARCHAR), CAST(value_date AS VARCHAR))"
                " FROM metrics WHERE run_id = ?",
                [run],
            ).fetchall()
        )
        version = con.execute("SELECT code_version FROM runs WHERE run_id = ?", [run]).fetchone()
    return {"rows": rows, "findings": found, "files": files, "metrics": metrics,
            "code_version": version[0] if version else None}  # fmt: skip
