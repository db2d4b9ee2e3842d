"""Reproducibility (DESIGN: "A run is idempotent: the same inputs give the same warehouse and
findings"). Two clean `jixiao run`s of the bundled sample in two fresh folders, at the same code
version and with the same hashing key (tests/conftest.py), must agree on every table and every
finding apart from the run id; `runs` must say what the run read and which code read it; a
rerun over the same folder must change nothing.

What `runs` does not record yet (flows/nightly.py): the rule-catalogue version, the versions of
the libraries that compute results (duckdb, polars, pandera, great-expectations, prefect), and
the hashes of programme.yaml and of the report (the report's hash is kept per claim in
`claims.report_sha256`, the programme's nowhere). The tests below check what exists.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest

from schemas.warehouse import SHEET_TABLES
from tests.test_crash import DB, PROGRAMME, REPO, completed, jixiao_run, tree

pytestmark = pytest.mark.flow

REPORTS = Path("curated/reports/2022/530100-disability-employment")
# Compared whole: every row, every column but the run's own id and clock.
TABLES = {
    **{t: f"SELECT * FROM {t} ORDER BY ALL" for t in SHEET_TABLES},
    "budget_lines": "SELECT * FROM budget_lines ORDER BY ALL",
    "claims": "SELECT * FROM claims ORDER BY ALL",
    "ingest_log": "SELECT * EXCLUDE (run_id, ingested_at) FROM ingest_log ORDER BY ALL",
    "metrics": "SELECT * EXCLUDE (run_id) FROM metrics ORDER BY ALL",
    "scores": "SELECT * EXCLUDE (run_id) FROM scores ORDER BY ALL",
    "views": "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY ALL",
}
# In the order the run stored them (rowid): the order of findings.json and of the report.
FINDINGS = "SELECT * EXCLUDE (run_id) FROM findings ORDER BY rowid"


def query(folder: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(folder / DB), read_only=True) as con:
        return con.execute(sql, params).fetchall()


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


def test_same_tables(two_runs):
    a, b = two_runs
    for name, sql in TABLES.items():
        rows = query(a, sql)
        assert rows, name
        assert rows == query(b, sql), name


def test_same_findings_same_order(two_runs):
    a, b = two_runs
    first, second = query(a, FINDINGS), query(b, FINDINGS)
    assert first and first == second
    fingerprints = [r[0] for r in query(a, "SELECT fingerprint FROM findings ORDER BY rowid")]
    assert len(set(fingerprints)) == len(fingerprints)  # one finding per problem
    published = json.loads((a / REPORTS / "findings.json").read_text(encoding="utf-8"))
    assert [f["fingerprint"] for f in published] == fingerprints
    assert (a / REPORTS / "findings.json").read_bytes() == (
        b / REPORTS / "findings.json"
    ).read_bytes()


def _without_run(text: str) -> str:
    return re.sub(r"运行编号：\S+　生成时间：[^\n<|]*", "", text)


def test_same_reports_and_feedback(two_runs):
    a, b = two_runs
    for name in ("report.md", "report.html"):
        one, two = ((f / REPORTS / name).read_text(encoding="utf-8") for f in two_runs)
        assert _without_run(one) == _without_run(two), name
        assert one != two  # each names its own run
    assert tree(a / "curated/feedback") == tree(b / "curated/feedback")
    assert (a / "curated/DICTIONARY.md").read_bytes() == (b / "curated/DICTIONARY.md").read_bytes()


def test_runs_records_inputs_hashes_and_code_version(two_runs):
    rows = [query(f, "SELECT raw_dir, inputs, code_version, status FROM runs") for f in two_runs]
    assert [len(r) for r in rows] == [1, 1]
    (raw_a, inputs_a, code_a, status_a), (raw_b, inputs_b, code_b, status_b) = (
        rows[0][0],
        rows[1][0],
    )
    assert (status_a, status_b) == ("completed", "completed")
    assert raw_a == "raw" == raw_b
    assert inputs_a == inputs_b
    programme = two_runs[0] / PROGRAMME
    inputs = json.loads(inputs_a)
    on_disk = sorted(
        p.relative_to(programme).as_posix()
        for p in (programme / "counties").rglob("*")
        if p.is_file()
    )
    assert sorted(i["file"] for i in inputs) == on_disk
    for i in inputs:
        assert i["programme"] == "530100-disability-employment"
        assert i["sha256"] == hashlib.sha256((programme / i["file"]).read_bytes()).hexdigest()
    # The code version: the package's version, and the commit when the code runs from git.
    assert code_a == code_b
    assert re.fullmatch(rf"jixiao {re.escape(version('jixiao'))}(\+\S+)?", code_a)
    # The report's hash is recorded with its claims (not in runs).
    report = programme / "report.docx"
    assert query(two_runs[0], "SELECT DISTINCT report_file, report_sha256 FROM claims") == [
        ("report.docx", hashlib.sha256(report.read_bytes()).hexdigest())
    ]


def test_rerun_of_the_same_folder_changes_nothing(two_runs, prefect_api, tmp_path):
    folder = tmp_path / "again"
    shutil.copytree(two_runs[0], folder)
    completed(jixiao_run(folder, prefect_api))
    for name in ("budget_lines", "claims", "ingest_log", *SHEET_TABLES):
        assert query(folder, TABLES[name]) == query(two_runs[0], TABLES[name]), name
    runs = [r[0] for r in query(folder, "SELECT run_id FROM runs ORDER BY run_id")]
    assert len(runs) == 2
    assert query(folder, "SELECT files_seen = files_skipped, rows_loaded FROM runs WHERE run_id = ?",
                 [runs[1]]) == [(True, 0)]  # fmt: skip
    for table in ("metrics", "scores"):
        first, second = (
            query(
                folder, f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ? ORDER BY ALL", [r]
            )
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
