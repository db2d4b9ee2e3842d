"""The nightly ingestion spread over a Dask cluster (`jixiao run --dask`; bench/README.md,
"Beyond one machine"; the task runner: flows.dask_runner).

A partition is a programme's county files of one province (the first two digits of the
county code; the files whose county cannot be told are a partition of their own). Each runs
on a Dask worker as a Prefect task (flows.nightly.ingest_partition): it copies its slice of the staging warehouse (its
counties' rows, stated totals and ingest_log rows) into a DuckDB file of its own under the
staging folder, ingests its files into that file with the same code as a local run
(ingest.intake.process), free text stored as read, and returns its outcomes. The flow then
merges the partitions into the staging warehouse in one transaction: each slice replaced by
the partition's, the free text masked by the names of every partition's files (as a local
run masks a batch's by the names of all its files), the new name hashes added. The audit and
the publication stay single-writer, as DuckDB requires.

Workers read the raw files and write their partition files at the paths the flow names: a
remote cluster needs them on a filesystem every machine mounts at the same place. The hashing
key reaches a worker in memory only, as a task argument (`HashKey`), never as a file on the
worker's disk: use a `tls://` cluster address where the network between machines is not
trusted.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
from prefect import get_run_logger

from jixiao.ingest.discover import Submission
from jixiao.ingest.intake import Context, Outcome, process
from jixiao.ingest.load import create_tables, known_names, transaction
from jixiao.ingest.personal import Names, mask_log_records, masked_values, name_candidates
from jixiao.schemas.programme import Programme
from jixiao.schemas.warehouse import FILE_STATS, INGEST_LOG, NAME_HASHES, RUNS, STATED_TOTALS


@dataclass(frozen=True)
class HashKey:
    """The hashing key on its way to a worker: in memory, and shown as nothing in a log, an
    error or Prefect's record of the task."""

    value: bytes = field(repr=False)


@dataclass(frozen=True)
class Partition:
    programme_dir: Path
    programme: Programme
    province: str  # "" for the files whose county cannot be told
    subs: list[Submission]
    positions: list[int]  # of its files among the programme's, in submission order
    path: Path  # its DuckDB file

    @property
    def name(self) -> str:
        return f"{self.programme.year}/{self.programme.code} {self.province or '未知区县'}"


def province(county: str | None) -> str:
    return county[:2] if county else ""


# A partition's rows of a table that has county_code: its programme, year and province.
_SCOPE = "programme_code = $code AND year = $year AND coalesce(left(county_code, 2), '') = $province"


def _sliced(programme: Programme) -> list[str]:
    """The tables a partition holds its slice of, and the merge replaces."""
    return [*programme.county_template.sheets, STATED_TOTALS.name, INGEST_LOG.name]


def parts_dir(staging: Path) -> Path:
    """The partitions' files of a run, beside its staging file; none outlives the run."""
    remove_parts(staging)  # a crashed run's: its staging file is gone too
    folder = staging.with_name(staging.name + ".parts")
    folder.mkdir()
    return folder


def remove_parts(staging: Path) -> None:
    shutil.rmtree(staging.with_name(staging.name + ".parts"), ignore_errors=True)


def ingest_files(part: Partition, staging: Path, run_id: str, key: HashKey, feedback_dir: Path,
                 lang: str) -> list[Outcome]:  # fmt: skip
    """A partition's files into its own DuckDB file, which starts as its slice of the staging
    warehouse (read, not written: the flow holds no connection to it meanwhile). On a
    worker: the task is flows.nightly.ingest_partition."""
    mask_log_records()  # a worker is a process of its own
    programme = part.programme
    params = {"code": programme.code, "year": programme.year, "province": part.province}
    with duckdb.connect(part.path) as con:
        create_tables(con, programme, notify=get_run_logger().warning, lang=lang)
        con.execute(f"ATTACH '{staging}' AS base (READ_ONLY)")
        for table in _sliced(programme):
            # Its own columns: a sheet table shared with another programme may have more.
            columns = ", ".join(c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = "
                "current_database() AND table_name = ?", [table]).fetchall())  # fmt: skip
            con.execute(f"INSERT INTO {table} BY NAME SELECT {columns} FROM base.{table} "
                        f"WHERE {_SCOPE}", params)  # fmt: skip
        # name_hashes starts empty: it ends with the names of this partition's files this run
        # (load.insert_names), which the merge masks free text by
        # the runs' order, which tells a file's latest log row (latest_log_entries)
        con.execute(f"INSERT INTO {RUNS.name} BY NAME SELECT * FROM base.{RUNS.name}")
        con.execute("DETACH base")
        ctx = Context(programme, con, key.value, run_id, feedback_dir, lang, mask_free_text=False)
        outcomes = [o for batch in process(part.subs, ctx) for o in batch]
    get_run_logger().info("[%s] %d 个文件" if lang == "zh" else "[%s] %d file(s)", part.name,
                          len(outcomes))  # fmt: skip
    return outcomes


def merge_partitions(con: duckdb.DuckDBPyConnection, parts: list[Partition], run_id: str,
                     key: bytes) -> None:  # fmt: skip
    """Each partition's slice in place of the staging warehouse's, its free text masked as a
    local run masks it (`_mask_free_text`), and the name hashes it added, each once: in one
    transaction, so that the staging warehouse never holds the text unmasked."""
    for i, part in enumerate(parts):
        con.execute(f"ATTACH '{part.path}' AS p{i} (READ_ONLY)")
    with transaction(con):
        programmes = {}
        for i, part in enumerate(parts):
            programme = part.programme
            programmes.setdefault((programme.year, programme.code), (programme, []))[1].append(i)
            params = {"code": programme.code, "year": programme.year, "province": part.province}
            for table in _sliced(programme):
                con.execute(f"DELETE FROM {table} WHERE {_SCOPE}", params)
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM p{i}.{table}")
            # the stat cache of the partition's files, as a local run keeps it (the next
            # night's, and a nothing-changed night's, knowledge of what they were)
            con.execute(f"DELETE FROM {FILE_STATS.name} WHERE programme_code = $code AND year = "
                        f"$year AND file IN (SELECT file FROM p{i}.{FILE_STATS.name})",
                        {"code": programme.code, "year": programme.year})  # fmt: skip
            con.execute(f"INSERT INTO {FILE_STATS.name} BY NAME SELECT * FROM p{i}.{FILE_STATS.name}")
        for programme, merged in programmes.values():
            run_names = " UNION ".join(f"SELECT * FROM p{i}.{NAME_HASHES.name}" for i in merged)
            con.execute(f"CREATE TEMP VIEW run_names AS {run_names}")
            _mask_free_text(con, programme, run_id, key)
            con.execute(
                f"INSERT INTO {NAME_HASHES.name} SELECT * FROM run_names n WHERE NOT EXISTS "
                f"(SELECT 1 FROM {NAME_HASHES.name} h WHERE h.programme_code = n.programme_code "
                "AND h.year = n.year AND h.name_hash = n.name_hash) ORDER BY name_hash"
            )
            con.execute("DROP VIEW run_names")
    for i in range(len(parts)):
        con.execute(f"DETACH p{i}")


def _mask_free_text(con: duckdb.DuckDBPyConnection, programme: Programme, run_id: str,
                    key: bytes) -> None:  # fmt: skip
    """The free text this run loaded, stored as read by the partitions, masked by the names
    of all of them (the view ``run_names``): as a local run masks a batch's free text by the
    names of its files (intake._load), whichever file gave them."""
    scope = (f"programme_code = $code AND year = $year AND (source_file, source_sha256) IN "
             f"(SELECT (file, sha256) FROM {INGEST_LOG.name} WHERE run_id = $run "
             "AND programme_code = $code AND year = $year AND status = 'accepted')")  # fmt: skip
    params = {"code": programme.code, "year": programme.year, "run": run_id}
    columns = [(sheet.key, column) for sheet in programme.county_template.sheets.values()
               for column in sheet.free_text] + [(STATED_TOTALS.name, "stated_text")]  # fmt: skip
    texts = pl.Series([v for table, column in columns for (v,) in con.execute(
        f"SELECT DISTINCT {column} FROM {table} WHERE {scope} AND {column} IS NOT NULL",
        params).fetchall()], dtype=pl.String).unique()  # fmt: skip
    names = Names(known_names(con, programme, name_candidates(texts), key, among="run_names"))
    if not (shown := masked_values(texts, names)):
        return
    con.register("shown", pl.DataFrame({"value": list(shown), "masked": list(shown.values())}))
    for table, column in columns:
        con.execute(f"UPDATE {table} SET {column} = shown.masked FROM shown "
                    f"WHERE {column} = shown.value AND {scope}", params)  # fmt: skip
    con.unregister("shown")
