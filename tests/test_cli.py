"""The `jixiao` command as a user runs it: exit codes, one-sentence errors, reruns."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from jixiao.sample.generate import sample_folder

pytestmark = pytest.mark.flow
JIXIAO = Path(sys.executable).with_name("jixiao")


def jixiao(*args: str, cwd: Path, api: str) -> subprocess.CompletedProcess:
    # Reuse the session's Prefect server instead of starting one per command.
    env = os.environ | {"PREFECT_API_URL": api, "COLUMNS": "200"}
    return subprocess.run([str(JIXIAO), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_demo_from_nothing_then_again(prefect_api, tmp_path):
    first = jixiao("demo", cwd=tmp_path, api=prefect_api)
    assert first.returncode == 0, first.stderr
    assert (sample_folder(tmp_path / "data" / "raw") / "programme.yaml").exists()
    assert "接收 25 个文件，拒收 4 个，替代 1 个" in first.stdout
    assert (tmp_path / "data" / "curated" / "warehouse.duckdb").exists()
    assert (tmp_path / "data" / "curated" / "feedback" / "530124").is_dir()
    second = jixiao("demo", cwd=tmp_path, api=prefect_api)
    assert second.returncode == 0, second.stderr
    assert "未变化跳过 30 个；入库 0 行" in second.stdout


def test_invalid_programme_is_one_sentence_exit_1(prefect_api, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(sample_folder(Path(__file__).parent.parent / "data" / "raw"),
                    sample_folder(raw))  # fmt: skip
    yaml = sample_folder(raw) / "programme.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("weight: 6\n", "weight: 7\n", 1),
                    encoding="utf-8")  # fmt: skip
    done = jixiao("run", "--raw", str(raw), "--db", str(tmp_path / "w.duckdb"), cwd=tmp_path,
                  api=prefect_api)  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 1 and "指标权重合计为 101，应为 100" in errors[0]
    assert "已跳过项目 2022/530100-disability-employment" in errors[0]
    # Skipped before anything of it was read: the run is recorded, none of its records.
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("partial",)]
        assert con.execute("SELECT count(*) FROM ingest_log").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["run", "--no-such-flag"], 2, "No such option"),
        (["--lang", "fr", "run"], 2, "zh 或 en"),
        # Paths in full: the operator sees which folder was meant.
        (["run", "--raw", "missing"], 1, "错误：输入目录 {tmp}/missing 不存在。"),
        (["--lang", "en", "run", "--raw", "missing"], 1, "Error: input folder {tmp}/missing does"),
        # A folder with no programme: said, before Prefect or the warehouse is touched.
        (["run", "--raw", "."], 1, "错误：输入目录 {tmp} 下没有项目（应为 <年度>/<项目代码>/programme.yaml）"),
        (["serve", "--raw", "."], 1, "错误：输入目录 {tmp} 下没有项目"),
    ],
)
def test_misuse_and_missing_input(prefect_api, tmp_path, args, code, says):
    done = jixiao(*args, cwd=tmp_path, api=prefect_api)
    assert done.returncode == code
    assert says.format(tmp=tmp_path) in done.stdout + done.stderr
    assert not (tmp_path / "data").exists()  # nothing written
    assert "Traceback" not in done.stdout + done.stderr
