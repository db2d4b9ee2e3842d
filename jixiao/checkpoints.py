"""Crash points for testing crash safety by instrumentation, not by sleeping.

``checkpoint("stage.point")`` marks a place where the nightly run may die. It does nothing
unless the environment variable ``JIXIAO_CRASH_AT`` names that point (``stage.point``, or
``stage.point:N`` for the N-th time the point is reached in the process); then the process
kills itself with SIGKILL, as the OOM killer or ``kill -9`` would: no ``finally``, no
``atexit``, no rollback, no flush of Python buffers. (Not a power cut: what the kernel already
accepted survives, so fsync ordering is not what this tests.) tests/test_crash.py runs
`jixiao run` killed at each point and checks what a second, normal run makes of the wreck.

When the variable is unset a checkpoint costs one mapping lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "JIXIAO_CRASH_AT"

# Every checkpoint, in the order a run reaches them, with where it stands. tests/test_crash.py
# checks that this list and the checkpoint("…") calls in the source name the same points.
POINTS: dict[str, str] = {
    "nightly.programmes_loaded": "every programme.yaml read, before the lock",
    "warehouse.locked": "run lock taken",
    "warehouse.staging_ready": "stale staging removed, published warehouse copied to staging",
    "warehouse.compacted": "tables holding a tenth of the rows stored as tombstones rewritten",
    "ingest.tables_created": "staging tables created",
    "load.budget_lines_refreshed": "programme's budget lines replaced (committed)",
    "ingest.discovered": "county files of a programme discovered",
    "intake.read": "a file hashed and, when changed, read",
    "intake.validated": "a batch's sheets checked against their contracts",
    "intake.feedback_written": "a refused file's feedback page written",
    "load.after_delete": "inside the batch's transaction: replaced counties' rows deleted",
    "load.after_insert": "inside the batch's transaction: a sheet's accepted rows inserted",
    "load.superseded_marked": "inside the batch's transaction: earlier versions marked",
    "load.ingest_log_rows": "inside the batch's transaction: its ingest_log rows inserted",
    "load.before_commit": "inside the batch's transaction: everything written, not committed",
    "load.committed": "a batch's transaction committed",
    "ingest.done": "every county file processed, staging connection still open",
    "audit.metrics_stored": "a programme's metrics stored",
    "load.claims_before_commit": "report claims deleted and inserted, not committed",
    "audit.claims_replaced": "report claims committed",
    "audit.scores_stored": "a programme's scores stored",
    "audit.expectations_done": "Great Expectations run, Data Docs written",
    "audit.findings_stored": "a programme's findings stored",
    "report.text_written": "one of report.html, report.md, findings.json written (1st, 2nd, 3rd)",
    "report.xlsx_tmp_written": "findings.xlsx written under its temporary name",
    "report.xlsx_written": "findings.xlsx renamed into place",
    "audit.reports_written": "a programme's reports all written to staging",
    "audit.views_created": "analysts' views created in staging",
    "nightly.runs_row_inserted": "the run's row in runs completed, before CHECKPOINT",
    "nightly.staging_checkpointed": "staging CHECKPOINTed and closed",
    "warehouse.before_replace": "staging fsynced, before os.replace",
    "warehouse.replaced": "os.replace done, before the directory fsync",
    "warehouse.dir_synced": "directory fsynced",
    "report.swapped": "a programme's staged reports swapped into place, the old not yet removed",
    "nightly.dictionary_written": "DICTIONARY.md written",
    "nightly.published": "published, run lock still held",
    "nightly.feedback_removed": "feedback pages of refusals that no longer stand removed",
}

# Points reached after the staging file has replaced the published warehouse: a run killed
# there has published (its runs row is in the warehouse); killed anywhere else, it has not.
AFTER_PUBLISH = frozenset(
    {"warehouse.replaced", "warehouse.dir_synced", "report.swapped",
     "nightly.dictionary_written", "nightly.published", "nightly.feedback_removed"}
)  # fmt: skip

_environ = os.environ
_reached: Counter[str] = Counter()


def checkpoint(name: str) -> None:
    """Die here (SIGKILL) when ``JIXIAO_CRASH_AT`` is ``name`` or ``name:N`` on the N-th visit."""
    target = _environ.get(ENV)
    if target is None:
        return
    _maybe_die(name, target)


def _maybe_die(name: str, target: str) -> None:
    point, _, nth = target.partition(":")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
