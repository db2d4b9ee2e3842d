"""`jixiao serve`: the schedule it registers and how it finds a Prefect server."""

from pathlib import Path

import pytest

from jixiao.flows.serve import deployment, find_or_start_server, healthy

pytestmark = pytest.mark.flow


def test_nightly_at_two_in_shanghai_with_retries(tmp_path):
    d = deployment(tmp_path / "raw", tmp_path / "w.duckdb", tmp_path / "reports")
    [schedule] = d.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert d.parameters["raw_dir"] == str(tmp_path / "raw")
    assert d.name == "nightly" and d.flow_name == "nightly"


def test_uses_the_server_it_finds(prefect_api, monkeypatch):
    assert healthy(prefect_api)
    assert not healthy("http://127.0.0.1:9/api", timeout=0.5)
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    assert find_or_start_server() == (prefect_api, None)
    assert Path(prefect_api).name == "api"
