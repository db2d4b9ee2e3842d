"""`jixiao run --dask local` (flows.partitions) gives what a local run gives: the bundled sample
and a small bench scale, each run both ways as an operator runs them, every warehouse table
compared row for row (in no order; run ids and times left out by name), and the findings
and reports as published."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from bench import generate as gen
from jixiao.flows.partitions import HashKey
from jixiao.sample.generate import write_sample
from tests.runs import DB, REPORTS, completed, jixiao_run, without_run
from tests.test_years import copy_2023, resubmit

pytestmark = pytest.mark.flow

# What differs between two runs of the same inputs whatever engine runs them: their ids and
# clocks, and how the stat cache found each file on disk (each run reads a copy of its own,
# a resubmission written into each; the hash it recorded is compared).
PER_RUN = frozenset({"run_id", "flow_run_id", "started_at", "finished_at", "duration_s",
                     "ingested_at", "ctime_ns", "mtime_ns", "inode", "stat_at_ns"})  # fmt: skip


def differences(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    """Each table of warehouse ``a`` or ``b`` whose rows differ (as multisets, without the
    PER_RUN columns): its rows only in ``a``, and only in ``b``."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")

    def tables(db: str) -> set[str]:
        return {t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [db]).fetchall()}  # fmt: skip

    found = {t: (-1, -1) for t in tables("a") ^ tables("b")}  # a table only one of them has
    for table in sorted(tables("a") & tables("b")):
        columns = ", ".join(c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'a' AND table_name = ? "
            "ORDER BY column_index", [table]).fetchall() if c not in PER_RUN)  # fmt: skip
        only = [
            con.execute(f"SELECT count(*) FROM (SELECT {columns} FROM {x}.{table} EXCEPT ALL "
                        f"SELECT {columns} FROM {y}.{table})").fetchone()[0]  # fmt: skip
            for x, y in (("a", "b"), ("b", "a"))
        ]
        if any(only):
            found[table] = (only[0], only[1])
    return found


WAYS = (("local", ()), ("dask", ("--dask", "local")))


def run_both(folders: tuple[Path, Path], api: str) -> None:
    """A run in each folder: locally in the first, on a Dask LocalCluster in the second."""
    for folder, (_, args) in zip(folders, WAYS, strict=True):
        completed(jixiao_run(folder, api, args=args))
        assert not list((folder / DB.parent).glob("*.parts")), "partition files outlive the run"


def both_ways(tmp_path: Path, raw: Path, api: str) -> tuple[Path, Path]:
    """``raw`` run locally and on Dask, each in a folder of its own."""
    folders = (tmp_path / WAYS[0][0], tmp_path / WAYS[1][0])
    for folder in folders:
        shutil.copytree(raw, folder / "raw")
    run_both(folders, api)
    return folders


def assert_same(local: Path, dask: Path) -> None:
    with duckdb.connect(str(local / DB), read_only=True) as con:
        counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("ingest_log", "findings", "visits", "name_hashes")]  # fmt: skip
    assert all(counts), counts  # there was something to compare
    assert differences(local / DB, dask / DB) == {}
    reports = sorted((local / REPORTS).glob("*/*/findings.json"))
    assert reports
    for report in reports:
        theirs = dask / REPORTS / report.relative_to(local / REPORTS)
        assert json.loads(report.read_text("utf-8")) == json.loads(theirs.read_text("utf-8"))
        ours_md, theirs_md = report.with_name("report.md"), theirs.with_name("report.md")
        assert without_run(ours_md.read_text("utf-8")) == without_run(theirs_md.read_text("utf-8"))


def test_sample_on_dask_equals_local(tmp_path, prefect_api):
    """The sample beside a 2023 programme sharing its sheet tables (tests/test_years.py), cold;
    then a county's resubmission, over the warehouse each run published."""
    write_sample(tmp_path / "sample" / "raw")
    copy_2023(tmp_path / "sample")
    local, dask = both_ways(tmp_path, tmp_path / "sample" / "raw", prefect_api)
    assert_same(local, dask)
    for folder in (local, dask):
        resubmit(folder)
    run_both((local, dask), prefect_api)
    with duckdb.connect(str(dask / DB), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ingest_log WHERE status = 'superseded'"
                           ).fetchone()[0]  # fmt: skip
    assert_same(local, dask)


def test_bench_scale_on_dask_equals_local(tmp_path, prefect_api):
    gen.generate(tmp_path / "data", 0.002, log=lambda _: None)
    local, dask = both_ways(tmp_path, gen.scale_dir(tmp_path / "data", 0.002) / "raw", prefect_api)
    with duckdb.connect(str(dask / DB), read_only=True) as con:
        (provinces,) = con.execute(
            "SELECT count(DISTINCT left(county_code, 2)) FROM ingest_log").fetchone()  # fmt: skip
    assert provinces > 1  # several partitions, merged
    assert_same(local, dask)


def test_the_hashing_key_is_never_shown():
    key = bytes(range(32))
    assert key.hex() not in repr(HashKey(key)) and str(list(key)) not in repr(HashKey(key))


def test_an_unreachable_cluster_stops_the_run_before_it_starts(tmp_path):
    write_sample(tmp_path / "raw")
    # Port 1 on this machine: nothing listens; no Prefect API is needed, as nothing runs.
    done = jixiao_run(tmp_path, "http://127.0.0.1:9/api", args=("--dask", "tcp://127.0.0.1:1"))
    assert done.returncode == 1
    assert "无法连接 Dask 集群 tcp://127.0.0.1:1" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / DB).parent.exists()  # nothing written
