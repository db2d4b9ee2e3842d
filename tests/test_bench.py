"""The benchmark still runs (bench/, not a test of speed): the tiny-scale proof CI runs, and
the generator's identifiers and the floor's SQL check characters against schemas/identifiers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bench import generate as gen
from bench.floor import _macros
from jixiao.schemas.identifiers import is_cert_no, is_credit_code

REPO = Path(__file__).resolve().parent.parent
REQUIRED = ("scale", "rows", "files", "full_run_s", "floor_s", "naive_s", "incremental_s", "nochange_s",
            "peak_rss_mb", "prefect_overhead_s", "stages", "sample_run_s", "sample_floor_s",
            "sample_cli_s")  # fmt: skip


def _corrupt(value: str, i: int) -> str:
    """The value with one character changed (a typo a check character exists to catch)."""
    pos = i % 17
    swap = "0" if value[pos] != "0" else "1"
    return value[:pos] + swap + value[pos + 1 :]


def test_generated_identifiers_are_valid_and_floor_sql_agrees():
    counties = gen.plan(0.002)
    certs, codes = [], []
    for c in counties[:3]:
        data = gen.records(c, counties[c.idx - 1].code)
        certs += [r[0] for r in data["visits"][:200]] + [r[0] for r in data["competition_entries"]]
        codes += [r[2] for r in data["fair_employers"][:200]]
    assert certs and codes
    assert all(is_cert_no(v) for v in certs)
    assert all(is_credit_code(v) for v in codes)
    bad_certs = [_corrupt(v, i) for i, v in enumerate(certs[:300])]
    bad_codes = [_corrupt(v, i) for i, v in enumerate(codes[:300])]
    con = duckdb.connect()
    for sql in _macros():
        con.execute(sql)
    for values, macro, python in ((certs + bad_certs, "cert_ok", is_cert_no),
                                  (codes + bad_codes, "credit_ok", is_credit_code)):  # fmt: skip
        got = con.execute(
            f"SELECT list({macro}(v) ORDER BY i) FROM (SELECT unnest(?) AS v, "
            "generate_subscripts(?, 1) AS i)",
            [values, values],
        ).fetchone()[0]
        assert got == [python(v) for v in values]


@pytest.mark.flow
def test_bench_runs_at_a_tiny_scale(tmp_path):
    out = tmp_path / "bench.json"
    md = tmp_path / "bench.md"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")  # its own temporary server
    env["JIXIAO_HASH_KEY_FILE"] = str(tmp_path / "hash.key")
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--scale", "0.002", "--short-report",
         "--json", str(out), "--md", str(md), "--data", str(tmp_path / "data"),
         "--work", str(tmp_path / "work")],
        cwd=REPO, env=env, check=True, timeout=600,
    )  # fmt: skip
    result = json.loads(out.read_text(encoding="utf-8"))
    for key in REQUIRED:
        assert key in result, key
    for key in REQUIRED:
        if key != "stages":
            assert isinstance(result[key], int | float), (key, result[key])
            # Prefect's overhead is the difference of two runs: noise can make it negative.
            assert result[key] > 0 or key == "prefect_overhead_s", (key, result[key])
    assert set(result["stages"]) >= {"read", "contract", "load", "checks", "gx", "score",
                                     "publish"}  # fmt: skip
    assert all(v >= 0 for v in result["stages"].values()) and sum(result["stages"].values()) > 0
    # The floor and jixiao loaded the same rows and found the same (planted) record problems.
    agree = result["agreement"]
    assert agree["rows"]["floor"] == agree["rows"]["jixiao"] == result["rows_by_sheet"]
    assert sum(agree["rows"]["jixiao"].values()) == result["rows"]
    assert agree["findings"]["floor"] == agree["findings"]["jixiao"]
    planted = {k: v for k, v in agree["findings"]["expected"].items() if v}
    assert planted and agree["findings"]["jixiao"] == planted
    assert agree["rows"]["naive"] == agree["rows"]["floor"]
    assert result["agree"] is True
    assert result["nochange_status"] == "unchanged"
    assert result["incremental_counts"]["accepted"] == result["incremental_files"]
    assert result["sample_rows"] > result["sample_floor_rows"] > 0  # jixiao reads more forms
    assert set(result["sample_stages"]) >= {"read", "gx", "publish"}
    assert "| stage |" in md.read_text(encoding="utf-8")
