"""Running `jixiao run` as an operator does, in a folder of its own, and reading what it left.

Shared by the crash and reproducibility tests: a run is a subprocess (so that it can be
killed, and so that nothing of one run survives in the next), talking to the session's
Prefect server (tests/conftest.py ``prefect_api``).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

from jixiao.checkpoints import ENV

REPO = Path(__file__).resolve().parent.parent
JIXIAO = Path(sys.executable).with_name("jixiao")
# Inside a run's folder: raw/ is the input, curated/ what the run publishes.
PROGRAMME = Path("raw/2022/530100-disability-employment")
DB = Path("curated/warehouse.duckdb")
REPORTS = Path("curated/reports")
# The warehouse tables a run of the sample leaves empty: its workbooks state no 合计 row, and
# no auditor has returned a review.
EMPTY_IN_SAMPLE = frozenset({"stated_totals", "reviews"})


def jixiao_run(folder: Path, api: str, crash: str | None = None, *, args: tuple[str, ...] = (),
               env: dict[str, str] | None = None, prefix: tuple[str, ...] = (),
               lang: str = "zh") -> subprocess.CompletedProcess:  # fmt: skip
    """`jixiao run` over ``folder``; ``crash`` names a checkpoint to die at (jixiao/checkpoints.py),
    ``args`` are more options, ``env`` more variables, ``prefix`` a command to run it under,
    ``lang`` the language it speaks (``--lang``)."""
    environ = {k: v for k, v in os.environ.items() if k != ENV}
    environ |= {"PREFECT_API_URL": api, "COLUMNS": "200"} | ({ENV: crash} if crash else {})
    return subprocess.run(
        [*prefix, str(JIXIAO), "--lang", lang, "run", "--raw", "raw", "--db", str(DB),
         "--out", str(REPORTS), *args],
        cwd=folder, env=environ | (env or {}), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def completed(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def without_run(text: str) -> str:
    """A published report without the line naming its run and time."""
    return re.sub(r"运行编号：\S+　生成时间：[^\n<|]*", "", text)
