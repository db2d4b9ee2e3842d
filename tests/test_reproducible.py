"""Reproducibility (DESIGN: "A run is idempotent: the same inputs give the same warehouse and
findings"). Two clean `jixiao run`s of the bundled sample in two fresh folders, at the same code
version and with the same hashing key (tests/conftest.py), must agree on every row of every
table and view apart from each run's own id and clock (``RUN_OWN``, the only columns left out),
give the same findings in the same order, and publish the same files; `runs` must say what the
run read (every input with its hash) and what read it (code, rule catalogue and library
versions); a rerun over the same folder must change nothing.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest

from jixiao.publish.views import VIEWS
from jixiao.sample.generate import SHEETS as SHEET_TABLES  # the sample's sheet tables
from jixiao.schemas.warehouse import TABLES
from tests.runs import (
    DB,
    EMPTY_IN_SAMPLE,
    PROGRAMME,
    REPO,
    REPORTS,
    completed,
    jixiao_run,
    tree,
    without_run,
)

pytestmark = pytest.mark.flow

# What two runs of the same inputs may not share: each run's id and clock. Every other column
# of every table, and of every view that shows these, is compared.
RUN_OWN = {
    "runs": ("run_id", "flow_run_id", "started_at", "finished_at", "duration_s"),
    "ingest_log": ("run_id", "ingested_at"),
    "metrics": ("run_id",),
    "scores": ("run_id",),
    "findings": ("run_id",),
    "summary_rows": ("run_id",),
    "run_inputs": ("run_id",),
    "file_stats": ("ctime_ns", "inode", "stat_at_ns"),  # the copy on disk, and when it was read
}
CLOCK_AND_IDS = {c for columns in RUN_OWN.values() for c in columns}
FOLDER = REPORTS / "2022" / "530100-disability-employment"
# In the order the run stored them (rowid): the order of findings.json and of the report.
FINDINGS = "SELECT * EXCLUDE (run_id) FROM findings ORDER BY rowid"
LIBRARIES = ("duckdb", "polars", "pandera", "great_expectations", "prefect")


def query(folder: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(folder / DB), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def contents(folder: Path, name: str) -> list[tuple]:
    """A table's or view's rows without the run's own id and clock, in a stable order."""
    columns = [r[0] for r in query(folder, f"DESCRIBE {name}")]
    kept = [c for c in columns if c not in CLOCK_AND_IDS]
    return query(folder, f"SELECT {', '.join(kept)} FROM {name} ORDER BY ALL")


@pytest.fixture(scope="module")
def two_runs(prefect_api, tmp_path_factory) -> tuple[Path, Path]:
    """The sample run twice, in two fresh folders at once."""
    folders = [tmp_path_factory.mktemp(f"reproducible-{i}") for i in (1, 2)]
    for folder in folders:
        shutil.copytree(REPO / "data" / "raw", folder / "raw")
    with ThreadPoolExecutor(2) as pool:
        for done in pool.map(lambda f: jixiao_run(f, prefect_api), folders):
            completed(done)
    return folders[0], folders[1]


def test_only_the_listed_columns_are_left_out():
    for table in TABLES:
        own = {c.name for c in table.columns} & CLOCK_AND_IDS
        assert own == set(RUN_OWN.get(table.name, ())), table.name


def test_same_tables_and_views(two_runs):
    a, b = two_runs
    for name in [t.name for t in TABLES] + list(SHEET_TABLES) + [v.name for v in VIEWS]:
        rows = contents(a, name)
        assert bool(rows) != (name in EMPTY_IN_SAMPLE), name
        assert rows == contents(b, name), name
    definitions = "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY ALL"
    assert query(a, definitions) == query(b, definitions)


def test_same_findings_same_order(two_runs):
    a, b = two_runs
    first, second = query(a, FINDINGS), query(b, FINDINGS)
    assert first and first == second
    fingerprints = [r[0] for r in query(a, "SELECT fingerprint FROM findings ORDER BY rowid")]
    assert len(set(fingerprints)) == len(fingerprints)  # one finding per problem
    published = json.loads((a / FOLDER / "findings.json").read_text(encoding="utf-8"))
    assert [f["fingerprint"] for f in published] == fingerprints
    assert (a / FOLDER / "findings.json").read_bytes() == (
        b / FOLDER / "findings.json"
    ).read_bytes()


def test_same_reports_and_feedback(two_runs):
    a, b = two_runs
    for name in ("report.md", "report.html"):
        one, two = ((f / FOLDER / name).read_text(encoding="utf-8") for f in two_runs)
        assert without_run(one) == without_run(two), name
        assert one != two  # each names its own run
    assert tree(a / "curated/feedback") == tree(b / "curated/feedback")
    assert not (a / "curated/reports.staging").exists()  # swapped in, nothing left behind
    assert (a / "curated/DICTIONARY.md").read_bytes() == (b / "curated/DICTIONARY.md").read_bytes()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_runs_records_inputs_and_versions(two_runs):
    a, b = two_runs
    columns = "raw_dir, programme_files, code_version, catalogue_version, library_versions"
    (run,) = query(a, f"SELECT {columns}, status FROM runs")
    assert query(b, f"SELECT {columns}, status FROM runs") == [run]
    raw_dir, programme_files, code, catalogue, libraries, status = run
    seen = "SELECT programme_code AS programme, year, file, sha256 FROM run_inputs ORDER BY ALL"
    assert query(b, seen) == query(a, seen)
    assert (raw_dir, status) == ("raw", "completed")
    # Every county file with its hash, and the programme's own files with theirs.
    programme = a / PROGRAMME
    on_disk = sorted(
        p.relative_to(programme).as_posix()
        for p in (programme / "counties").rglob("*")
        if p.is_file()
    )
    inputs = [dict(zip(("programme", "year", "file", "sha256"), row, strict=True))
              for row in query(a, seen)]  # fmt: skip
    assert sorted(i["file"] for i in inputs) == on_disk
    files = json.loads(programme_files)
    assert [f["file"] for f in files] == ["programme.yaml", "report.docx"]
    for i in inputs + files:
        assert (i["programme"], i["year"]) == ("530100-disability-employment", 2022)
        assert i["sha256"] == _sha256(programme / i["file"])
    assert query(a, "SELECT DISTINCT report_file, report_sha256 FROM claims") == [
        ("report.docx", files[1]["sha256"])
    ]
    # What read them: the package and its commit, the rules, the libraries.
    assert re.fullmatch(rf"jixiao {re.escape(version('jixiao'))}(\+\S+)?", code)
    assert catalogue == _sha256(REPO / "checks" / "CATALOGUE.md")  # generated from the rules
    libraries = json.loads(libraries)
    assert libraries["python"] == platform.python_version()
    for name in LIBRARIES:
        assert libraries[name] == version(name), name


def test_rerun_of_the_same_folder_changes_nothing(two_runs, prefect_api, tmp_path):
    folder = tmp_path / "again"
    shutil.copytree(two_runs[0], folder)
    completed(jixiao_run(folder, prefect_api))  # nothing changed: recorded, not audited again
    for name in ("budget_lines", "claims", "ingest_log", *SHEET_TABLES):
        assert contents(folder, name) == contents(two_runs[0], name), name
    runs = [r[0] for r in query(folder, "SELECT run_id FROM runs ORDER BY seq")]
    assert len(runs) == 2
    assert query(folder, "SELECT files_seen = files_skipped, rows_loaded, status FROM runs "
                 "WHERE run_id = ?", [runs[1]]) == [(True, 0, "unchanged")]  # fmt: skip
    assert query(folder, "SELECT DISTINCT run_id FROM v_latest_findings") == [(runs[0],)]
    # The same inputs audited again from scratch: the same metrics, scores and findings.
    completed(jixiao_run(folder, prefect_api, args=("--rebuild",)))
    runs = [r[0] for r in query(folder, "SELECT run_id FROM runs ORDER BY seq")]
    del runs[1]
    for table in ("metrics", "scores"):
        first, second = (
            query(
                folder, f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ? ORDER BY ALL", [r]
            )  # fmt: skip
            for r in runs
        )
        assert first == second, table
    first, second = (
        query(
            folder,
            "SELECT * EXCLUDE (run_id, status) FROM findings WHERE run_id = ? ORDER BY rowid",
            [r],
        )  # fmt: skip
        for r in runs
    )
    assert first == second
    assert query(folder, "SELECT DISTINCT status FROM findings WHERE run_id = ?", [runs[1]]) == [
        ("open",)
    ]
