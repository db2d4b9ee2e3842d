"""report.pdf beside report.html, printed by headless Chromium while the run goes on.

Chromium is started as soon as a programme's report.html is staged and waited for once,
just before the staged reports are swapped in (``finish``): its couple of seconds overlap
the rest of the audit and the warehouse's publication. The PDF is written under a
temporary name and renamed beside report.html only when Chromium succeeded, so it goes out
with the other reports in the same swap, or not at all. Without Chromium, or when it fails
or overruns, the run says so once and publishes everything else: a PDF is a convenience,
never a reason to fail a night.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
WAIT_S = 60  # for all of a run's PDFs together: Chromium prints the sample's in about 2 s
NAME = "report.pdf"

MESSAGES = {
    "missing": {
        "zh": "未找到 Chromium 或无法启动（chromium 软件包），本次未生成 report.pdf；其余报告照常发布。",
        "en": "Chromium (the chromium package) was not found or would not start: no report.pdf "
        "this run; the other reports are published as usual.",
    },
    "failed": {
        "zh": "Chromium 未能打印 {html}（{why}），本次未生成其 report.pdf；其余报告照常发布。",
        "en": "Chromium could not print {html} ({why}): no report.pdf for it this run; the "
        "other reports are published as usual.",
    },
    "timeout": {"zh": "{seconds} 秒内未完成", "en": "not done within {seconds} s"},
    "exit": {"zh": "退出码 {code}", "en": "exit code {code}"},
    "nothing": {"zh": "未写出文件", "en": "it wrote no file"},
}


def browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


@dataclass
class _Printing:
    html: Path
    process: subprocess.Popen | None  # None: no Chromium to start
    profile: tempfile.TemporaryDirectory | None

    @property
    def partial(self) -> Path:
        return self.html.with_name(NAME + ".tmp")


_pending: list[_Printing] = []


def start(html: Path) -> None:
    """Start printing ``html`` (a staged report.html) to report.pdf beside it."""
    exe = browser()
    if exe is None:
        _pending.append(_Printing(html, None, None))
        return
    # A profile of its own: a Chromium the user has open, or another run's, is not disturbed.
    profile = tempfile.TemporaryDirectory(prefix="jixiao-chromium-")
    args = [exe, "--headless", "--disable-gpu", "--no-first-run", "--disable-extensions",
            f"--user-data-dir={profile.name}", "--no-pdf-header-footer",
            f"--print-to-pdf={html.with_name(NAME + '.tmp')}", html.resolve().as_uri()]  # fmt: skip
    if os.geteuid() == 0:  # Chromium will not start its sandbox as root
        args.insert(2, "--no-sandbox")
    try:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    except OSError:  # found but not runnable: said as not found
        profile.cleanup()
        process = profile = None
    _pending.append(_Printing(html, process, profile))


def finish(root: Path, notify: Callable[[str], object], lang: str = "zh") -> None:
    """Wait (WAIT_S in all) for the PDFs started under ``root``; each that Chromium wrote is
    renamed into place, each it did not is named once in ``notify``."""
    mine = [p for p in _pending if p.html.is_relative_to(root)]
    _pending[:] = [p for p in _pending if p not in mine]
    if any(p.process is None for p in mine):
        notify(MESSAGES["missing"][lang])
    deadline = time.monotonic() + WAIT_S
    for p in (p for p in mine if p.process is not None):
        why = _wait(p.process, deadline, lang)
        if why is None and not p.partial.is_file():
            why = MESSAGES["nothing"][lang]
        if why is None:
            try:
                os.replace(p.partial, p.html.with_name(NAME))
            except OSError as exc:
                why = exc.strerror or str(exc)
        if why is not None:
            notify(MESSAGES["failed"][lang].format(html=p.html.relative_to(root), why=why))
        p.partial.unlink(missing_ok=True)
        p.profile.cleanup()


def forget(root: Path) -> None:
    """Stop what a failed run left printing under ``root`` (its staging is being discarded)."""
    for p in [p for p in _pending if p.html.is_relative_to(root)]:
        _pending.remove(p)
        if p.process is not None:
            if p.process.poll() is None:
                os.killpg(p.process.pid, signal.SIGKILL)
            p.process.wait()
            p.profile.cleanup()


def _wait(process: subprocess.Popen, deadline: float, lang: str) -> str | None:
    """Why the print failed, or None."""
    try:
        code = process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # Chromium's helpers are in its session
        process.wait()
        return MESSAGES["timeout"][lang].format(seconds=WAIT_S)
    return None if code == 0 else MESSAGES["exit"][lang].format(code=code)
