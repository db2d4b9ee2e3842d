"""The published warehouse: one writer at a time, replaced whole at the end of a run.

A run works on a staging copy next to the published file and, once the run is
complete, swaps it in with an atomic rename. A reader holding the old file
open keeps reading it; a new reader sees the new run; nobody sees half a run.

The published file must stay openable by everyone. DuckDB replays a write-ahead log
(``warehouse.duckdb.wal``) beside a database when it opens it, even read-only, and refuses
to open at all when the log belongs to an older file: what an analyst's read-write session
leaves when it dies after a publish. Such a log is set aside (renamed, never deleted: it
holds that session's committed work) before each swap and whenever it stops the published
file from opening; a log that does belong to the published file is carried into the run.
A published file that does not open even so stops the run, which says that
``jixiao run --rebuild`` rebuilds it from the raw inputs.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from jixiao.checkpoints import checkpoint
from jixiao.said import Said, SaidError

# DuckDB's file: three 4 KiB headers, then block n at _HEADERS + n × block_size.
_HEADERS = 3 * 4096


class WarehouseBusy(SaidError):
    """Another run holds the warehouse."""


class WarehouseDamaged(SaidError):
    """The published warehouse does not open."""

    def __init__(self, db_path: Path, reason: Said):
        super().__init__(
            f"数据仓库 {db_path} 无法打开（{reason.zh}）：运行 jixiao run --rebuild 可从原始报送数据"
            "重建它（旧文件另存在旁边）。",
            f"the warehouse {db_path} does not open ({reason.en}): `jixiao run --rebuild` "
            "rebuilds it from the raw submissions (the old file is kept beside it).",
        )


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
                f"另一个 jixiao 运行正在写入 {db_path}，请待其结束后再运行。",
                f"another jixiao run is writing {db_path}: run again when it has finished.",
            ) from None
        checkpoint("warehouse.locked")
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def staging_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".staging")


def wal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".wal")


def set_aside(path: Path, why: str) -> Path:
    """Rename ``path`` beside itself, out of DuckDB's way, instead of deleting it."""
    aside = path.with_name(f"{path.name}.{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}.{why}")
    os.replace(path, aside)
    return aside


def unreadable(db_path: Path) -> Said | None:
    """Why the database does not open read-only and answer (None when it does): its catalog
    and every table must read, and the file must reach the last block its header counts. A
    truncated file can still open and answer some queries; DuckDB finds a missing block only
    when a query reaches it. (A block damaged in place is found by its checksum when read:
    that the run reports.)"""
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            size, blocks = con.execute(
                "SELECT block_size, total_blocks FROM pragma_database_size() "
                "WHERE database_name = current_database()"
            ).fetchone()
            for (table,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall():
                quoted = table.replace('"', '""')
                con.execute(f'SELECT count(*) FROM "{quoted}"').fetchone()
            con.execute("SELECT count(*) FROM runs").fetchone()  # a warehouse has its history
    except duckdb.Error as exc:
        if "Could not set lock" in str(exc):  # a live read-write session holds it: not damage
            return None
        error = str(exc).splitlines()[0][:160]
        return Said(f"已损坏：{error}", f"damaged: {error}")
    if db_path.stat().st_size < _HEADERS + blocks * size:
        return Said("文件被截断", "the file is cut short")
    return None


def verify(db_path: Path) -> None:
    """Raise WarehouseDamaged unless the published file opens read-only and answers."""
    if reason := unreadable(db_path):
        raise WarehouseDamaged(db_path, reason)


def _stale_wal(db_path: Path, notify: Callable[[str], object], lang: str) -> None:
    wal = wal_path(db_path)
    if wal.exists():
        aside = set_aside(wal, "stale")
        notify(f"数据仓库旁有一个不属于它的预写日志，已移至 {aside}（未删除），分析人员可由此找回"
               "该会话的写入。" if lang == "zh" else f"a write-ahead log beside the warehouse did "
               f"not belong to it: moved to {aside} (not deleted), where analysts can recover "
               "that session's writes.")  # fmt: skip


def begin(db_path: Path, rebuild: bool = False, keep: tuple[str, ...] = (),
          notify: Callable[[str], object] = print, lang: str = "zh",
          readable: bool = False) -> Path:  # fmt: skip
    """A fresh staging copy of the published warehouse (empty when none is published yet).

    A staging file left by a crashed run is discarded: the published file is the truth.
    With ``rebuild`` the staging file starts empty but for the tables ``keep`` names, copied
    from the published file as far as it can still be read; a file that does not open is set
    aside (the swap replaces one that does). ``readable``: `unreadable` found nothing wrong
    with it under the lock the caller still holds (it is not asked again: it reads every
    table).
    """
    staging = staging_path(db_path)
    for leftover in (staging, wal_path(staging)):
        leftover.unlink(missing_ok=True)
    if db_path.exists():
        reason = None if readable and not wal_path(db_path).exists() else unreadable(db_path)
        if reason and wal_path(db_path).exists():
            _stale_wal(db_path, notify, lang)
            reason = unreadable(db_path)
        if rebuild:
            kept = _start_from(staging, db_path, keep)
            aside = set_aside(db_path, "damaged") if reason else None
            if lang == "zh":
                damaged = f"原文件无法打开（{reason.zh}），已移至 {aside}；" if reason else ""
                notify(f"从原始报送数据重建数据仓库 {db_path}：{damaged}运行记录"
                       f"{'（' + '、'.join(keep) + '）已保留' if kept else '无法读出，未保留'}。")  # fmt: skip
            else:
                damaged = f"the old file does not open ({reason.en}), moved to {aside}; " if reason else ""
                notify(f"rebuilding the warehouse {db_path} from the raw submissions: {damaged}"
                       f"{'run history (' + ', '.join(keep) + ') kept' if kept else 'run history unreadable, not kept'}.")  # fmt: skip
        elif reason:
            raise WarehouseDamaged(db_path, reason)
        else:
            shutil.copyfile(db_path, staging)
            if wal_path(db_path).exists():  # committed work not yet in the file: carried over
                shutil.copyfile(wal_path(db_path), wal_path(staging))
    checkpoint("warehouse.staging_ready")
    return staging


# Share of the stored rows that deleted rows may reach before their tables are rewritten.
VACUUM_AT = 0.10


@contextmanager
def held(staging: Path) -> Iterator[None]:
    """The staging file kept open while a run's tasks write it, so that one database serves
    them all and its checkpoints (at commits, and the run's last) follow one rule: DuckDB's
    vacuum is off. It rewrites the row groups that deleted rows stand in, and merges those a
    batch left part-filled, at every checkpoint: 3 s of a national year's cold load, 1 s of a
    night when 1% of its files are resubmitted. Deleted rows stay as tombstones instead
    (DuckDB never reclaims them once written), until they are VACUUM_AT of all the rows the
    tables store: the tables holding them are then rewritten whole, once."""
    con = duckdb.connect(str(staging))
    try:
        vacuum_off(con)
        deleted, stored = _deleted(con)
        if stored and sum(deleted.values()) >= VACUUM_AT * stored:
            for table in deleted:
                con.execute(f'CREATE OR REPLACE TABLE "{table}" AS FROM "{table}"')
            checkpoint("warehouse.compacted")
        yield
    finally:
        con.close()


def vacuum_off(con: duckdb.DuckDBPyConnection) -> None:
    """The checkpoints of ``con``'s database leave deleted rows and part-filled row groups as
    they are (`held`). A connection opened beside a held one shares its database, and this."""
    con.execute("SET max_vacuum_tasks = 0")


def _deleted(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], int]:
    """The tables that store deleted rows, with how many; and the rows all tables store,
    deleted ones included."""
    tables = dict(con.execute(
        "SELECT table_name, estimated_size FROM duckdb_tables() WHERE database_name = "
        "current_database() AND schema_name = 'main'").fetchall())  # fmt: skip
    if not tables:
        return {}, 0
    live = con.execute(" UNION ALL ".join(
        f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)).fetchall()  # fmt: skip
    return {t: tables[t] - n for t, n in live if tables[t] > n}, sum(tables.values())


def _start_from(staging: Path, old: Path, keep: tuple[str, ...]) -> bool:
    """A staging file holding only ``keep``'s tables of ``old``, all or none of them (none
    when a damaged file cannot give them whole: DuckDB checks every block it reads).
    Returns whether they were kept."""
    with duckdb.connect(str(staging)) as con:
        try:
            con.execute(f"ATTACH '{str(old).replace(chr(39), chr(39) * 2)}' AS old (READ_ONLY)")
        except duckdb.Error:
            return False
        present = {name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'old'").fetchall()}  # fmt: skip
        con.begin()
        try:
            for name in keep:
                if name in present:
                    con.execute(f"CREATE TABLE {name} AS SELECT * FROM old.{name}")
        except duckdb.Error:
            con.rollback()
            return False
        else:
            con.commit()
        finally:
            con.execute("DETACH old")
    return True


def publish(staging: Path, db_path: Path, notify: Callable[[str], object] = print,
            lang: str = "zh") -> None:  # fmt: skip
    """Swap the finished staging file in; its connections must be closed (no WAL left). A
    WAL beside the published file would not belong to the new one: it is set aside first."""
    with open(staging, "rb+") as fh:
        os.fsync(fh.fileno())
    checkpoint("warehouse.before_replace")
    _stale_wal(db_path, notify, lang)
    os.replace(staging, db_path)
    checkpoint("warehouse.replaced")
    dir_fd = os.open(db_path.parent, os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    checkpoint("warehouse.dir_synced")
