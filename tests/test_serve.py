"""`jixiao serve`: the schedule it registers and how it finds a Prefect server."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jixiao.flows.serve import deployment, deployment_name, find_or_start_server, healthy
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
