"""The incremental night (issue 15): unchanged files known by the stat cache without being read,
and a night on which nothing changed recorded without auditing again.

The stat-cache tests run ``process()`` on a real DuckDB file, as tests/test_intake.py does,
counting the files hashed; the night tests run `jixiao run` as a subprocess (tests/runs.py).
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import json
import os
import random
import re
import shutil
import time
import weakref
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from jixiao.checks.findings import ordered
from jixiao.checks.records import query, record_findings
from jixiao.flows.audit import report_path
from jixiao.flows.nightly import heap_frozen
from jixiao.ingest import intake
from jixiao.sample.generate import write_csv, write_sample
from jixiao.schemas.programme import load_programme, load_programme_folder
from tests.runs import DB, PROGRAMME, REPORTS, completed, jixiao_run, tree, without_run
from tests.test_intake import LABEL, context, county_file, programme_folder, records, run

# --- the stat cache -----------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    return programme_folder(tmp_path)


@pytest.fixture
def ctx(tmp_path, folder):
    ctx = context(tmp_path, folder)
    yield ctx
    ctx.con.close()


@pytest.fixture
def hashed(monkeypatch) -> list[str]:
    """The names of the files hashed from now on."""
    names: list[str] = []
    sha256_of = intake.sha256_of

    def counted(path: Path) -> str:
        names.append(path.name)
        return sha256_of(path)

    monkeypatch.setattr(intake, "sha256_of", counted)
    return names


@pytest.fixture
def settled(monkeypatch):
    """Entries trusted as soon as written: these tests change files long after a tick."""
    monkeypatch.setattr(intake, "RACY_NS", 0)


def stats(ctx) -> dict[str, tuple]:
    return {file: tuple(rest) for file, *rest in ctx.con.execute(
        "SELECT file, size_bytes, mtime_ns, ctime_ns, inode, sha256, stat_at_ns FROM file_stats"
    ).fetchall()}  # fmt: skip


def visits_csv(folder: Path) -> Path:
    """A valid one-sheet CSV of county 530103 (its amounts all 400)."""
    path = folder / "counties" / "530103" / "visits.csv"
    return write_csv(path, list(LABEL["visits"].values()), records("530103")["visits"])


def test_unchanged_file_is_not_read_again(folder, ctx, hashed, settled):
    path = county_file(folder / "counties" / "530102.xlsx")
    assert run(folder, ctx)["counties/530102.xlsx"].status == "accepted"
    assert hashed == ["530102.xlsx"]
    st = path.stat()
    assert stats(ctx)["counties/530102.xlsx"][:4] == (
        st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)

    hashed.clear()
    second = run(folder, ctx)["counties/530102.xlsx"]
    assert (second.status, hashed) == ("skipped", [])
    assert ctx.con.execute("SELECT count(*) FROM ingest_log").fetchone() == (1,)


def test_touched_identical_file_is_hashed_once_and_is_no_change(folder, ctx, hashed, settled):
    path = county_file(folder / "counties" / "530102.xlsx")
    run(folder, ctx)
    before = stats(ctx)["counties/530102.xlsx"]
    later = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(later, later))  # touch: new mtime (and ctime), same bytes
    hashed.clear()

    assert run(folder, ctx)["counties/530102.xlsx"].status == "skipped"
    assert hashed == ["530102.xlsx"]  # hashed, found the same: nothing else read
    assert ctx.con.execute("SELECT count(*) FROM ingest_log").fetchone() == (1,)
    after = stats(ctx)["counties/530102.xlsx"]
    assert after[1] == later and after[4] == before[4]  # the new status, the same hash

    hashed.clear()
    assert run(folder, ctx)["counties/530102.xlsx"].status == "skipped"
    assert hashed == []


def same_size_other_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    assert data.count(b",400,") == 3
    return data.replace(b",400,", b",500,", 1)


def test_rewritten_in_place_with_size_and_mtime_restored_is_caught(folder, ctx, hashed, settled):
    """Same inode, same size, mtime set back (as cp -p or tar would): the ctime still moved."""
    path = visits_csv(folder)
    run(folder, ctx)
    st = path.stat()
    data = same_size_other_bytes(path)
    with open(path, "r+b") as fh:
        fh.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    now = path.stat()
    assert (now.st_size, now.st_mtime_ns, now.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    assert now.st_ctime_ns != st.st_ctime_ns  # what tells it: no one can set the ctime back
    hashed.clear()

    outcome = run(folder, ctx)["counties/530103/visits.csv"]
    assert (outcome.status, hashed) == ("accepted", ["visits.csv"])
    assert ctx.con.execute("SELECT sum(amount_yuan) FROM visits").fetchone()[0] == 1300


def test_replaced_by_another_file_with_size_and_mtime_restored_is_caught(folder, ctx, hashed,
                                                                         settled):  # fmt: skip
    """Another file renamed over it: another inode (and ctime)."""
    path = visits_csv(folder)
    run(folder, ctx)
    st = path.stat()
    other = path.with_name("visits.new")
    other.write_bytes(same_size_other_bytes(path))
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(other, path)
    hashed.clear()

    outcome = run(folder, ctx)["counties/530103/visits.csv"]
    assert (outcome.status, hashed) == ("accepted", ["visits.csv"])
    assert ctx.con.execute("SELECT sum(amount_yuan) FROM visits").fetchone()[0] == 1300


def test_racily_clean_entry_is_not_trusted(folder, ctx, hashed):
    """A file whose ctime is within RACY_NS of the moment its status was read could change
    again within the same tick unseen: hashed again, until its entry is old enough."""
    county_file(folder / "counties" / "530102.xlsx")
    run(folder, ctx)
    first = stats(ctx)["counties/530102.xlsx"]
    assert first[2] + intake.RACY_NS > first[5]  # written just now
    hashed.clear()

    assert run(folder, ctx)["counties/530102.xlsx"].status == "skipped"
    assert hashed == ["530102.xlsx"]
    assert stats(ctx)["counties/530102.xlsx"][5] > first[5]  # its status read again


# --- nights -------------------------------------------------------------------------------


def night(folder: Path, api: str, *args: str) -> dict:
    """`jixiao run` over ``folder``; its row in `runs`, with what it left in file_stats."""
    completed(jixiao_run(folder, api, args=args))
    with duckdb.connect(str(folder / DB), read_only=True) as con:
        cursor = con.execute("SELECT * FROM runs ORDER BY seq DESC LIMIT 1")
        row = dict(zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True))
        row["stats"] = dict(con.execute("SELECT file, stat_at_ns FROM file_stats").fetchall())
    return row


AUDIT = {  # what an audit leaves, without the run it belongs to
    "findings": "SELECT * EXCLUDE (run_id, status) FROM findings",
    "metrics": "SELECT * EXCLUDE (run_id) FROM metrics",
    "scores": "SELECT * EXCLUDE (run_id) FROM scores",
    "claims": "SELECT * FROM claims",
}


def audited(folder: Path, run_id: str) -> dict[str, list]:
    """The run's findings, metrics and scores, every record table, and the published reports
    (findings.json, report.md) without run, status and comparison with the run before."""
    with duckdb.connect(str(folder / DB), read_only=True) as con:
        out = {
            name: con.execute(f"{sql} WHERE run_id = ? ORDER BY ALL"
                              if name != "claims" else f"{sql} ORDER BY ALL",
                              [run_id] if name != "claims" else []).fetchall()  # fmt: skip
            for name, sql in AUDIT.items()
        }
        for table in ("visits", "job_fairs", "fair_employers", "survey_responses", "funds",
                      "competition_entries", "stated_totals"):  # fmt: skip
            out[table] = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    reports = folder / REPORTS / "2022" / "530100-disability-employment"
    out["findings.json"] = sorted(
        json.dumps({k: v for k, v in f.items() if k not in ("status", "run_id")}, sort_keys=True)
        for f in json.loads((reports / "findings.json").read_text(encoding="utf-8"))
    )
    text = without_run((reports / "report.md").read_text(encoding="utf-8"))
    # What differs by design: the comparison with the run before (a re-audit finds nothing new).
    out["report.md"] = re.sub(r"与上次运行相比：新增 \d+ 条，已整改 \d+ 条。|（新增）", "", text)
    return out


class _Held:
    """An object in a reference cycle, which only the cyclic collector frees."""

    def __init__(self):
        self.me = self


def test_a_night_walks_its_own_objects_and_leaves_the_rest_collectable():
    """What the process held before a night is frozen while it runs (its collections do not
    walk it), the night's own garbage is collected as it goes, and after the night, failed or
    not, what it let go of is collected again."""
    held = {"before": _Held()}
    gone_before = weakref.ref(held["before"])
    seen = {}

    @heap_frozen
    def night(fail: bool) -> None:
        seen["frozen"] = gc.get_freeze_count()
        mine = weakref.ref(_Held())  # the night's own cyclic garbage
        del held["before"]  # held before the night, garbage during it
        gc.collect()
        seen["mine_gone"], seen["before_kept"] = mine() is None, gone_before() is not None
        if fail:
            raise ValueError("a failed night")

    assert gc.get_freeze_count() == 0
    night(False)
    assert seen == {"frozen": seen["frozen"], "mine_gone": True, "before_kept": True}
    assert seen["frozen"] > 1000  # the interpreter's and the libraries' objects
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone_before() is None

    held["before"] = _Held()
    with pytest.raises(ValueError):
        night(True)
    assert gc.get_freeze_count() == 0


def test_a_night_with_nothing_changed_keeps_what_a_full_audit_would_give(tmp_path, prefect_api):
    write_sample(tmp_path / "raw")
    time.sleep(intake.RACY_NS / 1e9)  # the files older than a tick: the cache can vouch for them
    cold = night(tmp_path, prefect_api)
    assert cold["status"] == "completed" and cold["files_accepted"] > 0
    published = tree(tmp_path / "curated")
    audit = audited(tmp_path, cold["run_id"])
    assert audit["findings"] and audit["visits"]

    def cache() -> tuple[list, list]:  # the stat cache's rows, and the blocks holding them
        with duckdb.connect(str(tmp_path / DB), read_only=True) as con:
            return (con.execute("SELECT * FROM file_stats ORDER BY ALL").fetchall(),
                    con.execute("SELECT block_id FROM pragma_storage_info('file_stats') "
                                "ORDER BY ALL").fetchall())  # fmt: skip

    cached = cache()
    (tmp_path / PROGRAMME / "programme.yaml").touch()  # touched, not changed
    same = night(tmp_path, prefect_api)
    assert same["status"] == "unchanged"
    assert cache() == cached  # it vouched for every file: left as stored, not written again
    assert (same["files_seen"], same["files_skipped"], same["rows_loaded"]) == (
        cold["files_seen"], cold["files_seen"], 0)
    assert same["stats"] == cold["stats"]  # no county file read again
    with duckdb.connect(str(tmp_path / DB), read_only=True) as con:
        seen = {run: con.execute("SELECT programme_code, year, file, sha256 FROM run_inputs "
                                 "WHERE run_id = ? ORDER BY ALL", [run]).fetchall()
                for run in (cold["run_id"], same["run_id"])}  # fmt: skip
    assert seen[same["run_id"]] == seen[cold["run_id"]] and len(seen[cold["run_id"]]) == cold["files_seen"]
    after = tree(tmp_path / "curated")
    assert after.pop("warehouse.duckdb") != published.pop("warehouse.duckdb")  # its runs row
    assert after == published  # reports, Data Docs, feedback pages, dictionary: untouched
    assert audited(tmp_path, cold["run_id"]) == audit

    # The same inputs audited again from scratch give the same records and findings.
    full = night(tmp_path, prefect_api, "--rebuild")
    assert full["status"] == "completed"
    assert all(full["stats"][f] > at for f, at in cold["stats"].items())  # all hashed again
    assert audited(tmp_path, full["run_id"]) == audit

    # A changed report is a change: audited again.
    with open(report_path(tmp_path / PROGRAMME), "ab") as fh:
        fh.write(b"\n")
    assert night(tmp_path, prefect_api)["status"] == "completed"


# --- the incremental audit ----------------------------------------------------------------


CENT = Decimal("0.01")
DUPLICATE = "RECORDS.DUPLICATE_PAYMENT"


def cells(path: Path) -> list[list[str]]:
    """A sample CSV's cells, whatever its encoding (the sample writes some in UTF-16)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-16" if data.startswith(codecs.BOM_UTF16) else "utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return list(csv.reader(io.StringIO(text, newline="")))


def write_cells(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)


def records_found(folder: Path, run_id: str | None = None) -> dict[str, tuple]:
    """The RECORDS findings the run stored (the last run's when None) or, with run_id "cold",
    those a full check of the published warehouse gives: by fingerprint, all they say."""
    programme = load_programme_folder(folder / PROGRAMME)
    with duckdb.connect(str(folder / DB), read_only=True) as con:
        if run_id == "cold":
            found = ordered([replace(f, year=programme.year) for f in record_findings(con, programme)])
            return {f.fingerprint: (f.rule_id, f.severity, f.message(), f.as_dict()["evidence"],
                                    None if f.amount_yuan is None else f.amount_yuan.quantize(CENT),
                                    f.label, f.params) for f in found}  # fmt: skip
        rows = con.execute(
            "SELECT fingerprint, rule_id, severity, message, evidence, amount_yuan, label, params "
            "FROM findings WHERE run_id = ? AND starts_with(rule_id, 'RECORDS.')", [run_id]
        ).fetchall()  # fmt: skip
    return {fp: (*head, json.loads(evidence), amount, label, json.loads(params))
            for fp, *head, evidence, amount, label, params in rows}  # fmt: skip


def incremental_night(folder: Path, api: str) -> tuple[str, list[str]]:
    """A night that re-checks only the counties that changed: its run id and its log."""
    done = jixiao_run(folder, api)
    completed(done)
    log = done.stdout + done.stderr
    assert "增量审计" in log, log[-3000:]
    with duckdb.connect(str(folder / DB), read_only=True) as con:
        (run_id,) = con.execute("SELECT run_id FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
    return run_id, log


@pytest.mark.parametrize("seed", [15])
def test_an_incremental_night_finds_what_a_cold_audit_finds(tmp_path, prefect_api, seed):
    rng = random.Random(seed)
    write_sample(tmp_path / "raw")
    counties = tmp_path / PROGRAMME / "counties"
    cold = night(tmp_path, prefect_api)
    assert cold["status"] == "completed"
    duplicates = {fp for fp, f in records_found(tmp_path, cold["run_id"]).items()
                  if f[0] == DUPLICATE}  # fmt: skip
    paying, other, third = rng.sample(["530112", "530113", "530114"], 3)
    visits = {c: counties / c / "visits.csv" for c in (paying, other, third)}
    original = {c: cells(p) for c, p in visits.items()}

    # Night 1, rows edited: a person of one county paid again in another (a finding across
    # counties), and an amount off the standard elsewhere.
    moved = rng.choice(original[other][1:])
    write_cells(visits[paying], [*original[paying], moved])
    edited = [list(r) for r in original[third]]
    edited[rng.randrange(1, len(edited))][4] = "450"
    write_cells(visits[third], edited)
    run_id, log = incremental_night(tmp_path, prefect_api)
    assert "2 个区县" in log  # the two counties whose files changed, not the eleven
    found = records_found(tmp_path, run_id)
    assert found == records_found(tmp_path, "cold")
    assert {fp for fp, f in found.items() if f[0] == DUPLICATE} - duplicates  # the new one

    # Night 2, a file replaced: the paying county's without the person (the finding across
    # counties loses its row there and goes); the third county's refused.
    write_cells(visits[paying], original[paying])
    write_cells(visits[third], [["残疾人证号", "不认识的列"], ["x", "y"]])
    run_id, log = incremental_night(tmp_path, prefect_api)
    assert "1 个区县" in log
    found = records_found(tmp_path, run_id)
    assert found == records_found(tmp_path, "cold")
    assert {fp for fp, f in found.items() if f[0] == DUPLICATE} == duplicates

    # Night 3, the refused file accepted again, as it first was.
    write_cells(visits[third], original[third])
    run_id, _ = incremental_night(tmp_path, prefect_api)
    assert records_found(tmp_path, run_id) == records_found(tmp_path, "cold")
    assert records_found(tmp_path, run_id) == records_found(tmp_path, cold["run_id"])

    # The same inputs audited from scratch: every table and report as the incremental night's.
    full = night(tmp_path, prefect_api, "--rebuild")
    assert audited(tmp_path, full["run_id"]) == audited(tmp_path, run_id)


def test_each_rule_is_rechecked_by_the_scope_its_query_declares():
    """A rule whose finding is one county's is re-checked by county; one that gathers a person's
    or an item's rows across counties, by that subject."""
    programme = load_programme(Path(__file__).resolve().parent.parent / "sample" / "programme.yaml")
    scopes = {check.rule: query(check).per_county for check in programme.checks}
    assert {rule for rule, per_county in scopes.items() if not per_county} == {
        DUPLICATE, "RECORDS.AGE_OUT_OF_RANGE", "RECORDS.COUNTED_TWICE"}
    assert len(scopes) == 8


# --- random change sets -------------------------------------------------------------------


def everything(folder: Path, run_id: str) -> dict[str, list]:
    """`audited`, and the other tables a run's audit rests on or keeps for the next: the
    budget lines, the stated totals and the kept expectation summaries (without their run)."""
    out = audited(folder, run_id)
    with duckdb.connect(str(folder / DB), read_only=True) as con:
        for sql in ("SELECT * FROM budget_lines", "SELECT * FROM stated_totals",
                    "SELECT * EXCLUDE (run_id) FROM summary_rows"):  # fmt: skip
            out[sql] = con.execute(f"{sql} ORDER BY ALL").fetchall()
    return out


def _data_row(rng: random.Random, rows: list[list[str]]) -> int:
    return rng.randrange(1, len(rows))


def change(rng: random.Random, counties: Path, originals: dict[Path, bytes]) -> str:
    """One random change to the county files, across counties and kinds: a cell of a CSV or
    a workbook set to another row's value (a duplicate key or a payment off the standard, or
    nothing to find), a visit copied from another county (a person paid in two), a newer
    version of a file, a file replaced by one that is refused, a file removed, or a changed
    file put back as it first was. Returns what it did, for the failure message."""
    csvs = sorted(counties.glob("*/*.csv"))
    books = sorted(p for p in counties.glob("*.xlsx") if ".v" not in p.name)
    kind = rng.choice(["cell", "cell", "book", "copy", "version", "refuse", "remove", "restore"])
    if kind == "restore" and (touched := sorted(originals)):
        path = rng.choice(touched)
        path.write_bytes(originals.pop(path))
        return f"restore {path.name}"
    if kind == "book":
        path = rng.choice(books)
        originals.setdefault(path, path.read_bytes())
        book = openpyxl.load_workbook(path)
        sheet = book[rng.choice(book.sheetnames)]
        rows = [r for r in sheet.iter_rows(min_row=2) if any(c.value is not None for c in r)]
        if len(rows) > 1:
            column = rng.randrange(len(rows[0]))
            rng.choice(rows)[column].value = rng.choice(rows)[column].value
        book.save(path)
        return f"book {path.name} {sheet.title}"
    path = rng.choice(csvs)
    if kind == "remove":
        originals.setdefault(path, path.read_bytes())
        path.unlink()
        return f"remove {path.parent.name}/{path.name}"
    rows = cells(path)
    if kind == "version":
        newer = path.with_name(f"{path.stem.split('.')[0]}.v{rng.randrange(2, 9)}.csv")
        write_cells(newer, rows[:-1] if len(rows) > 2 else rows)
        return f"version {newer.parent.name}/{newer.name}"
    originals.setdefault(path, path.read_bytes())
    if kind == "refuse":
        write_cells(path, [[rows[0][0], "不认识的列"], ["x", "y"]])
    elif kind == "copy" and path.name == "visits.csv":
        other = rng.choice([p for p in csvs if p.name == "visits.csv" and p != path])
        write_cells(path, [*rows, rng.choice(cells(other)[1:])])
    elif len(rows) > 2:
        i, j, column = _data_row(rng, rows), _data_row(rng, rows), rng.randrange(len(rows[0]))
        rows[i][column] = rows[j][column]
        write_cells(path, rows)
    return f"{kind} {path.parent.name}/{path.name}"


@pytest.mark.parametrize("seed", [2026, 15])
def test_random_nights_give_what_a_full_audit_gives(tmp_path, prefect_api, seed):
    """Nights of random changes across counties (`change`), each audited incrementally, then
    compared with a full audit of the same records: a copy of the folder whose programme.yaml
    differs by a comment, so that its run skips every county file and audits everything.
    Every record table, metric, score, finding and kept summary, findings.json and report.md
    must be the same. (Not a cold run of the files left: the warehouse keeps what a county
    once had accepted when its file is later refused or removed, which a cold run never saw.)
    The last night's records are also those of a cold run when no file was refused or
    removed on the way."""
    rng = random.Random(seed)
    night_dir = tmp_path / "nights"
    write_sample(night_dir / "raw")
    assert night(night_dir, prefect_api)["status"] == "completed"
    counties, originals = night_dir / PROGRAMME / "counties", {}
    done: list[str] = []
    for n in range(3):
        done += [change(rng, counties, originals) for _ in range(rng.randint(2, 4))]
        run_id, _ = incremental_night(night_dir, prefect_api)
        full_dir = tmp_path / f"full{n}"
        shutil.copytree(night_dir, full_dir)
        with open(full_dir / PROGRAMME / "programme.yaml", "a", encoding="utf-8") as fh:
            fh.write("\n# 全量审计\n")
        full = night(full_dir, prefect_api)
        assert full["status"] == "completed" and full["files_accepted"] == 0
        assert everything(night_dir, run_id) == everything(full_dir, full["run_id"]), done
    if not any(d.startswith(("refuse", "remove")) for d in done):
        cold_dir = tmp_path / "cold"
        shutil.copytree(night_dir / "raw", cold_dir / "raw")
        cold = night(cold_dir, prefect_api)
        assert everything(night_dir, run_id) == everything(cold_dir, cold["run_id"]), done
