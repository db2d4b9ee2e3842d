"""`jixiao serve`: the nightly schedule as a long-running Prefect process, and the server
`jixiao run` finds.

Serve uses the Prefect server named by PREFECT_API_URL, or one already listening on this
machine, or starts one (with its UI, which ships inside the prefect wheel and works
offline), so the run history survives the process and can be looked at in a browser. While it
serves, the server's address is kept in Prefect's home (``SERVER_FILE``), so that `jixiao run`
with the same home reports to it instead of starting a temporary server of its own (about
15 s).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prefect.schedules import Cron

from jixiao.flows.nightly import nightly

SCHEDULE = Cron("0 2 * * *", timezone="Asia/Shanghai")
LOCAL_API = "http://127.0.0.1:4200/api"
SERVER_FILE = "jixiao-serve-api"  # in PREFECT_HOME: the API of the server `jixiao serve` uses


def deployment_name(raw: Path) -> str:
    """``nightly-`` and a digest of the input folder's path: two checkouts served by one Prefect
    server (one ``~/.prefect``) keep their schedules and run histories apart."""
    return "nightly-" + hashlib.sha256(os.fsencode(raw.resolve())).hexdigest()[:8]


def deployment(raw: Path, db: Path, out: Path, lang: str = "zh"):
    """The nightly flow at 02:00 Asia/Shanghai; a transient failure (a locked file, a full
    disk freed later) is retried, and a retry redoes only what is not yet in the warehouse."""
    flow = nightly.with_options(retries=2, retry_delay_seconds=600)
    return flow.to_deployment(
        name=deployment_name(raw),
        schedules=[SCHEDULE],
        parameters={"raw_dir": str(raw), "db": str(db), "out": str(out), "lang": lang},
    )


def healthy(api: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def find_or_start_server(wait_s: float = 120) -> tuple[str, subprocess.Popen | None]:
    """The API to use, and the server process when this call started one; ServerDown when
    none answers and none starts."""
    api = os.environ.get("PREFECT_API_URL") or LOCAL_API
    if healthy(api):
        return api, None
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent)) or "prefect"
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", "4200"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if healthy(LOCAL_API):
            return LOCAL_API, server
        if server.poll() is not None:
            break
        time.sleep(1)
    server.terminate()
    raise ServerDown(LOCAL_API)


def server_file() -> Path:
    from prefect.settings import PREFECT_HOME

    return Path(PREFECT_HOME.value()) / SERVER_FILE


def running_server() -> tuple[str | None, str | None]:
    """The Prefect server a run reports to, and why: ``(api, "PREFECT_API_URL")`` when one is
    configured (by environment or Prefect profile) and answers; ``(api, "serve")`` for the one
    a `jixiao serve` with the same Prefect home uses, while it answers; ``(None, None)``
    otherwise (Prefect starts a temporary server for the run). A configured server that does
    not answer raises ServerDown: the run history would otherwise go where nobody looks."""
    from prefect.settings import PREFECT_API_URL

    if configured := PREFECT_API_URL.value():
        if not healthy(configured):
            raise ServerDown(configured)
        return configured, "PREFECT_API_URL"
    try:
        recorded = server_file().read_text(encoding="utf-8").strip()
    except OSError:
        return None, None
    return (recorded, "serve") if recorded and healthy(recorded) else (None, None)


class ServerDown(RuntimeError):
    def __init__(self, api: str):
        super().__init__(api)
        self.api = api
