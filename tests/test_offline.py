"""`jixiao demo` with no network at all: nothing it does needs one (no telemetry, no CDN,
no download), which a government intranet requires."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.flow
JIXIAO = Path(sys.executable).with_name("jixiao")


def test_demo_in_a_network_namespace_without_network(tmp_path):
    if not shutil.which("unshare") or not shutil.which("ip"):
        pytest.skip("unshare and ip (util-linux, iproute2) are needed to cut the network")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("this user may not create a network namespace (needs root or CAP_SYS_ADMIN)")
    # Only loopback, for Prefect's own temporary server; no route anywhere else.
    script = f"ip link set lo up && {JIXIAO} demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    done = subprocess.run(["unshare", "-n", "sh", "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "接收 25 个文件，拒收 4 个" in done.stdout
    report = tmp_path / "data" / "curated" / "reports" / "2022" / "530100-disability-employment"
    assert (report / "report.html").exists() and (report / "data_docs").is_dir()
