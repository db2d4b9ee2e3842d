"""Hostile conditions around the warehouse, the hashing key and the operator's terminal
(issue 10: the key and the hashes, availability, names shown in the terminal).

Each attack is replayed as it was found, against real `jixiao run` subprocesses (tests/runs.py)
over a copy of one published run of the bundled sample. That run carries one planted
cross-county duplicate payment (a person of 西山区 paid again by 呈贡区) and uses a hashing key
of its own, beside it, never the session's.

Decisions the tests pin down:

- a lost key, or another key, stops the run before anything is written, with one sentence
  naming the key file and the warehouse and saying how to restore it or that
  `jixiao run --new-key` rehashes everything from the raw inputs; no key is made silently;
- a stale write-ahead log beside the published file is set aside (kept, renamed
  ``warehouse.duckdb.wal.<time>.stale``), never deleted, never left to block readers;
- a damaged published warehouse stops the run naming it and `--rebuild`; `--rebuild` sets the
  damaged file aside (``warehouse.duckdb.<time>.damaged``) and keeps the run history
  (runs, metrics, scores, findings) of an old file as far as it can still be read;
- a county file over the size limit is refused by its size, unread, and then skipped while
  its size stays the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from jixiao.checks.history import previous
from jixiao.ingest.intake import Ledger
from jixiao.ingest.load import create_tables, open_run
from jixiao.ingest.personal import KEY_ENV, hmac_pads
from jixiao.publish import warehouse
from jixiao.sample.generate import PROGRAMME_YAML, sample_folder
from jixiao.schemas.programme import load_programme
from tests.runs import DB, JIXIAO, PROGRAMME, REPO, completed, jixiao_run, tree

pytestmark = pytest.mark.flow

CODE = PROGRAMME.name
COUNTIES = PROGRAMME / "counties"
XISHAN, CHENGGONG = COUNTIES / "530112" / "visits.csv", COUNTIES / "530114" / "visits.csv"


# --- the published run every test starts from ----------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory, prefect_api) -> Path:
    folder = tmp_path_factory.mktemp("published")
    shutil.copytree(sample_folder(REPO / "data" / "raw"), folder / PROGRAMME)
    # 西山区's first person, paid again by 呈贡区 (its file is GB18030, lines end in CRLF).
    person = (folder / XISHAN).read_text(encoding="utf-8-sig").splitlines()[1].split(",")
    with open(folder / CHENGGONG, "ab") as fh:
        fh.write(f"{person[0]},{person[1]},失业,2022/6/1,400.00,现金\r\n".encode("gb18030"))
    completed(run(folder, prefect_api))
    assert duplicates(folder) == 1 and households(folder) == 300
    return folder


@pytest.fixture
def site(published: Path, tmp_path: Path) -> Path:
    shutil.copytree(published, tmp_path / "site")
    return tmp_path / "site"


def run(folder: Path, api: str, *args: str, **kw) -> subprocess.CompletedProcess:
    return jixiao_run(folder, api, args=args, env={KEY_ENV: str(folder / "hash.key")}, **kw)


def query(folder: Path, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(folder / DB), read_only=True) as con:  # as analysts open it
        return con.execute(sql, list(params)).fetchall()


def duplicates(folder: Path) -> int:
    return query(folder, "SELECT count(*) FROM v_latest_findings "
                         "WHERE rule_id = 'RECORDS.DUPLICATE_PAYMENT'")[0][0]  # fmt: skip


def households(folder: Path) -> int:
    return int(query(folder, "SELECT value FROM metrics JOIN v_latest_run USING (programme_code,"
                             " run_id) WHERE indicator_id = 'households_visited'")[0][0])  # fmt: skip


def published_files(folder: Path) -> dict[str, str]:
    """What readers see under curated/: every file but a run's own staging."""
    return {p: sha for p, sha in tree(folder / "curated").items() if ".staging" not in p}


def error(done: subprocess.CompletedProcess) -> str:
    """The one error sentence of a run that could not complete."""
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("错误：")]
    assert len(lines) == 1, done.stderr[-2000:]
    return lines[0]


def resubmit(folder: Path) -> None:
    """西山区 sends its visits again, the same records typed differently (`400元` as `400`)."""
    path = folder / XISHAN
    text = path.read_text(encoding="utf-8-sig")
    assert ",400元," in text
    path.write_text(text.replace(",400元,", ",400,", 1), encoding="utf-8-sig")


# --- the key -------------------------------------------------------------------------------


def test_key_and_its_pads_are_in_no_table_and_no_file(published: Path):
    key = bytes.fromhex((published / "hash.key").read_text(encoding="ascii"))
    inner, outer = hmac_pads(key)
    raw = [key, inner, outer]
    hexes = [v.hex() for v in raw]
    files = [p for p in (published / "curated").rglob("*") if p.is_file()]
    assert len(files) > 20
    for path in files:
        data = path.read_bytes()
        parts = [data]
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                parts += [z.read(name) for name in z.namelist()]
        for part in parts:
            found = [v for v in raw + [h.encode() for h in hexes] + [h.upper().encode()
                     for h in hexes] if v in part]  # fmt: skip
            assert not found, path
    # DuckDB compresses what it stores, so its file is searched through SQL as well.
    with duckdb.connect(str(published / DB), read_only=True) as con:
        columns = con.execute("SELECT table_name, column_name FROM duckdb_columns() "
                              "WHERE NOT internal").fetchall()  # fmt: skip
        assert len(columns) > 100
        for table, column in columns:
            text = f'lower(CAST("{column}" AS VARCHAR))'
            hits = con.execute(f"SELECT count(*) FROM {table} WHERE "
                               + " OR ".join(f"contains({text}, ?)" for _ in hexes), hexes)  # fmt: skip
            assert hits.fetchone() == (0,), f"{table}.{column}"
        assert not con.execute("SELECT * FROM duckdb_functions() WHERE function_type LIKE "
                               "'%macro%' AND NOT internal").fetchall()  # fmt: skip
        assert not con.execute("SELECT * FROM duckdb_tables() WHERE temporary").fetchall()


def test_lost_key_stops_the_run_and_new_key_rehashes_everything(site: Path, prefect_api):
    key = site / "hash.key"
    key.unlink()
    resubmit(site)  # re-read tonight: with a new key it would no longer match 呈贡区's payment
    before = published_files(site)
    said = error(run(site, prefect_api))
    assert str(key) in said and str(DB) in said and "jixiao run --new-key" in said
    assert not key.exists()  # no key made behind the operator's back
    assert published_files(site) == before  # nothing published

    completed(run(site, prefect_api, "--new-key"))
    assert key.exists()
    assert duplicates(site) == 1 and households(site) == 300  # the payment matched again
    assert query(site, "SELECT count(DISTINCT key_fingerprint), count(*) FROM runs") == [(2, 2)]
    # Findings name people by the old key's hashes: only the new key's run keeps any.
    assert query(site, "SELECT count(DISTINCT run_id) FROM findings") == [(1,)]


def test_another_key_stops_the_run(site: Path, prefect_api):
    old = (site / "hash.key").read_text(encoding="ascii")
    (site / "hash.key").write_text(secrets.token_hex(32) + "\n", encoding="ascii")
    before = published_files(site)
    said = error(run(site, prefect_api))
    assert "不是数据仓库" in said and str(DB) in said and "--new-key" in said
    assert published_files(site) == before
    (site / "hash.key").write_text(old, encoding="ascii")  # restored from backup: runs again
    completed(run(site, prefect_api))
    assert duplicates(site) == 1


# --- availability --------------------------------------------------------------------------

ANALYST = """
import os, signal, sys
import duckdb
con = duckdb.connect(sys.argv[1])  # read-write, against the advice
print("open", flush=True)
sys.stdin.readline()
con.execute("CREATE TABLE my_notes AS SELECT 42 AS answer")  # committed, in the WAL only
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_stale_wal_of_an_analyst_killed_after_a_publish(site: Path, prefect_api):
    db, wal = site / DB, site / DB.with_name(DB.name + ".wal")
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(db)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert analyst.stdout.readline().strip() == "open"
    completed(run(site, prefect_api))  # publishes under the open session
    analyst.communicate("\n", timeout=60)
    assert analyst.returncode == -signal.SIGKILL
    stale = wal.read_bytes()
    with pytest.raises(duckdb.Error):  # the attack as found: nobody can open the warehouse
        duckdb.connect(str(db), read_only=True)

    completed(run(site, prefect_api))
    assert query(site, "SELECT count(*), max(seq) FROM runs") == [(3, 3)]
    assert not wal.exists()
    [aside] = db.parent.glob(DB.name + ".wal.*.stale")
    assert aside.read_bytes() == stale  # the session's committed work is kept, not deleted
    completed(run(site, prefect_api))  # and the next run keeps the warehouse openable
    assert query(site, "SELECT count(*) FROM runs") == [(4,)]


def test_truncated_warehouse_stops_and_rebuild_restores_it(site: Path, published: Path,
                                                           prefect_api):  # fmt: skip
    db = site / DB
    visits = query(published, "SELECT * EXCLUDE (source_sha256) FROM visits ORDER BY ALL")
    os.truncate(db, db.stat().st_size - 5000)  # the last block cut short
    before = published_files(site)
    said = error(run(site, prefect_api))
    assert str(DB) in said and "jixiao run --rebuild" in said and ".staging" not in said
    assert published_files(site) == before

    completed(run(site, prefect_api, "--rebuild"))
    [damaged] = db.parent.glob(DB.name + ".*.damaged")
    assert hashlib.sha256(damaged.read_bytes()).hexdigest() == before[DB.name]  # kept as it was
    assert query(site, "SELECT * EXCLUDE (source_sha256) FROM visits ORDER BY ALL") == visits
    assert duplicates(site) == 1

    # A rebuild over a warehouse that opens keeps its run history and rebuilds the rest.
    runs = query(site, "SELECT run_id FROM runs ORDER BY seq")
    completed(run(site, prefect_api, "--rebuild"))
    after = query(site, "SELECT run_id, seq FROM runs ORDER BY seq")
    assert [r for r, _ in after[:-1]] == [r for (r,) in runs]
    assert [s for _, s in after] == list(range(1, len(after) + 1))
    assert query(site, "SELECT count(DISTINCT run_id) FROM findings") == [(len(after),)]
    assert query(site, "SELECT DISTINCT status FROM v_latest_findings") == [("open",)]
    assert query(site, "SELECT DISTINCT run_id FROM ingest_log") == [(after[-1][0],)]


def test_a_warehouse_cut_short_by_a_block_or_a_few_bytes_is_named(tmp_path: Path):
    """The file must reach the last block its header counts: cut by a whole block or by a
    few bytes, it is named cut short; held by an analyst's session, it is busy, not damaged."""
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        create_tables(con, load_programme(PROGRAMME_YAML))
        open_run(con, "a", dt.datetime(2023, 1, 14, tzinfo=dt.UTC))
        (size,) = con.execute("SELECT block_size FROM pragma_database_size() "
                              "WHERE database_name = current_database()").fetchone()  # fmt: skip
    assert warehouse.unreadable(db) is None
    whole = db.read_bytes()
    for cut in (size, 5000):
        db.write_bytes(whole[:-cut])
        assert warehouse.unreadable(db) == ("文件被截断", "the file is cut short")
    db.write_bytes(whole)
    holder = subprocess.Popen(  # an analyst's read-write session: busy, not damaged
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
         "print(flush=True); sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "\n"  # it has the file open
        assert warehouse.unreadable(db) is None
    finally:
        holder.communicate("")


def test_runs_of_an_older_warehouse_are_numbered_in_their_order(tmp_path: Path):
    """A warehouse published before runs.seq: its runs numbered by their start, then on."""
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        con.execute("CREATE TABLE runs (run_id VARCHAR, started_at TIMESTAMPTZ, status VARCHAR)")
        con.execute("INSERT INTO runs VALUES ('b', '2023-01-15 02:00+00', 'completed'), "
                    "('a', '2023-01-14 02:00+00', 'completed')")  # fmt: skip
        create_tables(con)
        assert open_run(con, "c", dt.datetime(2023, 1, 13, tzinfo=dt.UTC)) == 3  # clock set back
        assert con.execute("SELECT run_id, seq, status FROM runs ORDER BY seq").fetchall() == [
            ("a", 1, "completed"), ("b", 2, "completed"), ("c", 3, "running")]  # fmt: skip


def test_an_older_warehouses_run_inputs_move_to_their_table(tmp_path: Path):
    """A warehouse published when runs kept each run's county files as a JSON list: the next
    run finds them in run_inputs, a row each, and runs no longer carries them."""
    entries = [{"programme": "530100-x", "year": 2022, "file": f"counties/{c}.xlsx",
                "sha256": c * 8} for c in ("530102", "530103")]  # fmt: skip
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        con.execute("CREATE TABLE runs (run_id VARCHAR, seq BIGINT, inputs JSON)")
        con.execute("INSERT INTO runs VALUES ('a', 1, ?), ('b', 2, NULL)", [json.dumps(entries)])
        create_tables(con)
        assert con.execute("SELECT * FROM run_inputs ORDER BY ALL").fetchall() == [
            ("a", e["programme"], e["year"], e["file"], e["sha256"]) for e in entries]  # fmt: skip
        assert "inputs" not in {c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'runs'").fetchall()}  # fmt: skip
        create_tables(con)  # once moved, nothing more to do
        assert con.execute("SELECT count(*) FROM run_inputs").fetchone() == (2,)


def test_an_older_warehouse_keeps_the_age_not_the_birth_date(tmp_path):
    """A warehouse published when person tables kept the birth date: the next run keeps only
    the age on the sheet's date, computed from it, and the birth date is gone."""
    sample = load_programme(PROGRAMME_YAML)
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        create_tables(con, sample)
        con.execute("ALTER TABLE visits DROP COLUMN age")
        con.execute("ALTER TABLE visits ADD COLUMN birth_date DATE")
        con.execute("INSERT INTO visits (cert_hash, visited_on, birth_date) VALUES "
                    "('h1', DATE '2022-11-30', DATE '1966-12-01'), "
                    "('h2', DATE '2022-11-30', DATE '1966-11-30')")  # fmt: skip
        create_tables(con, sample)
        assert con.execute("SELECT cert_hash, age FROM visits ORDER BY 1").fetchall() == [
            ("h1", 55), ("h2", 56)]  # fmt: skip
        columns = {c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'visits'").fetchall()}  # fmt: skip
        assert "birth_date" not in columns


def rchar() -> int:
    """Bytes this process and its waited-for children have read (Linux I/O accounting)."""
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(io["rchar"])


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux I/O accounting")
def test_sparse_20_gib_county_file_is_refused_by_size_unread(site: Path, prefect_api):
    big = site / COUNTIES / "530127.v2.xlsx"
    with open(big, "wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.truncate(20 << 30)  # sparse: 20 GiB long, a few bytes on disk
    read_before = rchar()
    completed(run(site, prefect_api))
    assert rchar() - read_before < 2 << 30  # the run read under a tenth of it, all told
    rel = big.relative_to(site / PROGRAMME).as_posix()
    [(status, size, errors)] = query(site, "SELECT status, size_bytes, errors->>'$[0].rule_id' "
                                           "FROM ingest_log WHERE file = ?", rel)  # fmt: skip
    assert (status, size, errors) == ("refused", 20 << 30, "FILE.TOO_LARGE")
    page = site / "curated" / "feedback" / "530127" / "2022" / CODE / "530127.v2.xlsx.md"
    assert "20,480.0 MB" in page.read_text(encoding="utf-8")

    done = run(site, prefect_api)  # the same size tomorrow: skipped, like an unchanged file
    completed(done)
    assert rchar() - read_before < 4 << 30
    assert "接收 0 个文件，拒收 0 个" in done.stdout
    assert query(site, "SELECT count(*) FROM ingest_log WHERE file = ?", rel) == [(1,)]


def test_clock_set_back_between_two_runs(site: Path, prefect_api):
    db = site / DB
    ahead = "20991231T235959Z-0000ahead"  # the first run's clock stood in 2099
    with duckdb.connect(str(db)) as con:
        for table in ("runs", "run_inputs", "ingest_log", "metrics", "scores", "findings"):
            con.execute(f"UPDATE {table} SET run_id = ?", [ahead])
        con.execute("UPDATE runs SET started_at = '2099-12-31 23:59:59+00', "
                    "finished_at = '2099-12-31 23:59:59+00'")  # fmt: skip
        con.execute("UPDATE ingest_log SET ingested_at = '2099-12-31 23:59:59+00'")
    # 西山区 resubmits with one payment of 300 元: a new finding tonight.
    path = site / XISHAN
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text.replace(",400元,", ",300元,", 1), encoding="utf-8-sig")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    completed(run(site, prefect_api))

    [(tonight, seq)] = query(site, "SELECT run_id, seq FROM runs WHERE run_id <> ?", ahead)
    assert seq == 2 and tonight < ahead  # the newer run has the smaller id and clock
    assert query(site, "SELECT run_id FROM v_latest_run") == [(tonight,)]
    statuses = dict(query(site, "SELECT rule_id, list(DISTINCT status) FROM v_latest_findings "
                                "GROUP BY ALL"))  # fmt: skip
    assert statuses["RECORDS.AMOUNT_NOT_STANDARD"] == ["new"]  # against tonight's previous run
    assert statuses["RECORDS.COUNTED_TWICE"] == ["open"]
    rel = XISHAN.relative_to(PROGRAMME).as_posix()
    assert query(site, "SELECT sha256 FROM v_ingest_status WHERE file = ?", rel) == [(sha,)]
    with duckdb.connect(str(db), read_only=True) as con:
        assert Ledger.read(con, load_programme(PROGRAMME_YAML)).last_sha[rel] == sha  # skipped tomorrow
        before_tomorrow = {f["rule_id"] for f in previous(con, CODE, 2022, "tomorrow").values()}
        assert "RECORDS.AMOUNT_NOT_STANDARD" in before_tomorrow  # tonight's run, not 2099's


def test_full_reports_disk_is_named_not_the_warehouse(site: Path, prefect_api):
    small = site / "small"
    small.mkdir()
    mount = 'mount -t tmpfs -o size=64k tmpfs "$0" && exec "$@"'
    probe = subprocess.run(["unshare", "-m", "sh", "-c", mount, str(small), "true"],
                           capture_output=True)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip("needs a mount namespace (unshare -m) to fill a small disk")
    before = published_files(site)
    said = error(run(site, prefect_api, "--out", "small/reports",
                     prefix=("unshare", "-m", "sh", "-c", mount, "small")))  # fmt: skip
    assert "small/reports" in said and "No space left on device" in said and str(DB) not in said
    assert published_files(site) == before  # the warehouse waits for its reports


# --- the terminal --------------------------------------------------------------------------


def test_markup_and_emoji_in_names_are_shown_as_written(site: Path, prefect_api):
    odd = site / COUNTIES / "530112["
    odd.mkdir()
    shutil.copyfile(site / XISHAN, odd / "b]visits.csv")
    shutil.copyfile(site / XISHAN, site / COUNTIES / "530181 :warning: [red].csv")
    done = run(site, prefect_api)
    completed(done)
    assert "counties/530112[/b]visits.csv" in done.stdout
    assert "counties/530181 :warning: [red].csv" in done.stdout

    report = site / "自评[bold red]报告 :warning:.txt"
    shutil.copyfile(site / PROGRAMME / "report.txt", report)
    checked = subprocess.run([str(JIXIAO), "check-report", report.name], cwd=site,
                             capture_output=True, text=True, timeout=120,
                             env=os.environ | {"COLUMNS": "200"})  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert report.name in checked.stdout


def nights(db: Path, *deleting: str) -> tuple[int, int]:
    """A table of twenty row groups, checkpointed; then one night per condition, each deleting
    the rows it names and checkpointing as a run holds the file (`warehouse.held`): the rows
    the table stores after the last, and those that are live."""
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(20 * 122880)")
    for condition in deleting:
        with warehouse.held(db), duckdb.connect(str(db)) as con:
            con.execute(f"DELETE FROM t WHERE {condition}")
            con.execute("CHECKPOINT")
    with duckdb.connect(str(db)) as con:
        return con.execute("SELECT estimated_size, (SELECT count(*) FROM t) FROM duckdb_tables() "
                           "WHERE table_name = 't'").fetchone()  # fmt: skip


def test_a_few_deleted_rows_stay_until_reclaiming_them_is_worth_a_rewrite(tmp_path: Path):
    """Deleted rows under VACUUM_AT of what the tables store are kept as tombstones (DuckDB's
    vacuum would rewrite their row groups: a second of every night); the night after they
    pass it, their table is rewritten without them."""
    few = "i < 2 * 122880 AND i % 10 < 6"  # 60% of two row groups: 6% of the table
    assert warehouse.VACUUM_AT > 0.06
    assert nights(tmp_path / "few.duckdb", few, "i = 3 * 122880") == (
        20 * 122880, 20 * 122880 - 147456 - 1)  # fmt: skip
    many = "i < 8 * 122880 AND i % 10 < 6"  # 60% of eight: 24%, kept the night they go
    assert nights(tmp_path / "many.duckdb", many) == (20 * 122880, 20 * 122880 - 4 * 147456)
    assert nights(tmp_path / "next.duckdb", many, "i = 9 * 122880") == (
        20 * 122880 - 4 * 147456, 20 * 122880 - 4 * 147456 - 1)  # rewritten, then one deleted
    with duckdb.connect(str(tmp_path / "next.duckdb")) as con:  # the same rows, in their order
        assert con.execute("SELECT count(*), min(i), max(i), bool_and(i > lag) FROM "
                           "(SELECT i, lag(i, 1, -1) OVER () AS lag FROM t)").fetchone() == (
            20 * 122880 - 4 * 147456 - 1, 6, 20 * 122880 - 1, True)  # fmt: skip
    # Without the rule, DuckDB would have rewritten the few at once.
    with duckdb.connect(str(tmp_path / "plain.duckdb")) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(20 * 122880)")
        con.execute("CHECKPOINT")
        con.execute(f"DELETE FROM t WHERE {few}")
        con.execute("CHECKPOINT")
        assert con.execute("SELECT estimated_size FROM duckdb_tables()").fetchone()[0] < 20 * 122880
