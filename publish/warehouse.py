"""The published warehouse: one writer at a time, replaced whole at the end of a run.

A run works on a staging copy next to the published file and, once the run is
complete, swaps it in with an atomic rename. A reader holding the old file
open keeps reading it; a new reader sees the new run; nobody sees half a run.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.crash import checkpoint


class WarehouseBusy(Exception):
    """Another run holds the warehouse; the message is one Chinese sentence."""


@contextmanager
def exclusive(db_path: Path) -> Iterator[None]:
    """Hold the run lock for ``db_path``; a second run exits at once with a clear message."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = db_path.with_name(db_path.name + ".lock")
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseBusy(
                f"另一个 jixiao 运行正在写入 {db_path}，请待其结束后再运行。"
            ) from None
        checkpoint("warehouse.locked")
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def staging_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".staging")


def begin(db_path: Path) -> Path:
    """A fresh staging copy of the published warehouse (empty when none is published yet).

    A staging file left by a crashed run is discarded: the published file is the truth.
    """
    staging = staging_path(db_path)
    for leftover in (staging, staging.with_name(staging.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if db_path.exists():
        shutil.copyfile(db_path, staging)
    checkpoint("warehouse.staging_ready")
    return staging


def publish(staging: Path, db_path: Path) -> None:
    """Swap the finished staging file in; its connections must be closed (no WAL left)."""
    with open(staging, "rb+") as fh:
        os.fsync(fh.fileno())
    checkpoint("warehouse.before_replace")
    os.replace(staging, db_path)
    checkpoint("warehouse.replaced")
    dir_fd = os.open(db_path.parent, os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    checkpoint("warehouse.dir_synced")
