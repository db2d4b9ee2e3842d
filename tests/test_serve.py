"""`jixiao serve`: the schedule it registers and how it finds a Prefect server."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from jixiao.flows.serve import (
    SERVER_FILE,
    deployment,
    deployment_name,
    find_or_start_server,
    healthy,
)
from jixiao.sample.generate import sample_folder

pytestmark = pytest.mark.flow


def test_nightly_at_two_in_shanghai_with_retries(tmp_path):
    d = deployment(tmp_path / "raw", tmp_path / "w.duckdb", tmp_path / "reports")
    [schedule] = d.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert d.parameters["raw_dir"] == str(tmp_path / "raw")
    assert d.name == deployment_name(tmp_path / "raw") and d.flow_name == "nightly"
    assert d.name.startswith("nightly-") and d.name != deployment_name(tmp_path / "other")


def test_uses_the_server_it_finds(prefect_api, monkeypatch):
    assert healthy(prefect_api)
    assert not healthy("http://127.0.0.1:9/api", timeout=0.5)
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    assert find_or_start_server() == (prefect_api, None)
    assert Path(prefect_api).name == "api"


def test_stops_cleanly_on_sigterm(prefect_api, tmp_path):
    """systemd stops a service with SIGTERM: serve pauses its schedule and exits, no traceback."""
    raw = tmp_path / "raw"
    shutil.copytree(sample_folder(Path(__file__).parent.parent / "data" / "raw"), sample_folder(raw))
    env = os.environ | {"PREFECT_API_URL": prefect_api, "COLUMNS": "200"}
    serving = subprocess.Popen([str(Path(sys.executable).with_name("jixiao")), "serve", "--raw",
                                str(raw)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    first = serving.stdout.readline()  # printed once the schedule is registered
    assert f"nightly/{deployment_name(raw)}（{raw}）" in first
    time.sleep(3)
    serving.send_signal(signal.SIGTERM)
    rest, _ = serving.communicate(timeout=120)
    assert serving.returncode == 0, first + rest
    assert "Traceback" not in rest and "Error" not in rest


def _run_env(home: Path, **more: str) -> dict[str, str]:
    """The environment of an operator's shell with its own Prefect home and no server named."""
    return {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
        "PREFECT_HOME": str(home), "COLUMNS": "200", **more}  # fmt: skip


def test_run_reports_to_the_server_serve_uses(prefect_api, tmp_path):
    """`jixiao run` beside a `jixiao serve` (same Prefect home, no PREFECT_API_URL) starts no
    server of its own: it says which it uses, and its flow run is in that server."""
    raw, home = tmp_path / "raw", tmp_path / "home"
    shutil.copytree(sample_folder(Path(__file__).parent.parent / "data" / "raw"), sample_folder(raw))
    jixiao = str(Path(sys.executable).with_name("jixiao"))
    serving = subprocess.Popen([jixiao, "serve", "--raw", str(raw)], cwd=tmp_path,
                               env=_run_env(home, PREFECT_API_URL=prefect_api),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert "nightly/" in serving.stdout.readline()  # serving: the server is recorded
        assert (home / SERVER_FILE).read_text(encoding="utf-8") == prefect_api
        done = subprocess.run([jixiao, "run", "--raw", str(raw), "--db", "w.duckdb", "--out",
                               "reports"], cwd=tmp_path, env=_run_env(home), capture_output=True,
                              text=True, timeout=300)  # fmt: skip
    finally:
        serving.send_signal(signal.SIGTERM)
        serving.communicate(timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.splitlines()[0] == f"使用 jixiao serve 的 Prefect 服务器：{prefect_api}"
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        (flow_run,) = con.execute("SELECT flow_run_id FROM runs").fetchone()
    with urllib.request.urlopen(f"{prefect_api}/flow_runs/{flow_run}", timeout=10) as answer:
        assert json.load(answer)["state"]["type"] == "COMPLETED"
    assert not (home / SERVER_FILE).exists()  # serve stopped: a later run finds no server


def test_which_server_a_run_would_use(prefect_api, tmp_path):
    """The configured server; none (a temporary one) when serve's record names a server that
    is gone; and a configured one that does not answer stops the run, said in one sentence."""
    home = tmp_path / "home"
    home.mkdir()
    (home / SERVER_FILE).write_text("http://127.0.0.1:9/api", encoding="utf-8")  # serve killed
    check = [sys.executable, "-c", "from jixiao.flows.serve import running_server; "
             "print(running_server())"]  # fmt: skip
    stale = subprocess.run(check, env=_run_env(home), capture_output=True, text=True, timeout=120)
    assert stale.stdout.strip() == "(None, None)", stale.stderr
    configured = subprocess.run(check, env=_run_env(home, PREFECT_API_URL=prefect_api),
                                capture_output=True, text=True, timeout=120)  # fmt: skip
    assert configured.stdout.strip() == str((prefect_api, "PREFECT_API_URL")), configured.stderr
    down = subprocess.run([str(Path(sys.executable).with_name("jixiao")), "--lang", "en", "demo"],
                          cwd=tmp_path, env=_run_env(home, PREFECT_API_URL="http://127.0.0.1:9/api"),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert down.returncode == 1 and "Traceback" not in down.stderr
    assert down.stderr.strip() == ("Error: the Prefect server PREFECT_API_URL names, "
                                   "http://127.0.0.1:9/api, does not answer: start it or unset "
                                   "PREFECT_API_URL.")  # fmt: skip
    assert not (tmp_path / "data" / "curated").exists()  # stopped before the run began
