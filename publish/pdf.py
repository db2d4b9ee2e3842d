"""report.pdf beside report.html, printed by headless Chromium while the run goes on.

Chromium is started when a run begins (``launch``), so that its start-up overlaps ingest and
audit, and is driven over its DevTools pipe (``--remote-debugging-pipe``: commands on its fd
3, answers on its fd 4, each a JSON message ended by a NUL byte) by one thread of ours, which
meanwhile opens a tab and prints a line of Chinese once, so that the fonts and the printer are
warm when the first report comes. A programme's print is asked for as soon as its report.html
is staged (``start``), with the options ``chromium --print-to-pdf --no-pdf-header-footer``
uses, and waited for once, just before the staged reports are swapped in (``finish``). The PDF
is written under a temporary name and renamed beside report.html only when Chromium printed
it, so it goes out with the other reports in the same swap, or not at all. Without Chromium,
or without a font for Chinese (every character would print as an empty box), or when it fails
or overruns, the run says so once and publishes everything else: a PDF is a convenience, never
a reason to fail a night.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
WAIT_S = 60  # for all of a run's PDFs together: Chromium prints the sample's in under a second
NAME = "report.pdf"
# What Chromium's own --print-to-pdf asks for (its headless command handler), without the
# header and footer (--no-pdf-header-footer): the same pages as printing from the command line.
PRINT = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False}
WARM_UP = "data:text/html;charset=utf-8," + urllib.parse.quote(
    "<!DOCTYPE html><meta charset=utf-8><style>@page{size:A4}</style><p>绩效评价审核报告</p>"
)

MESSAGES = {
    "missing": {
        "zh": "未找到 Chromium 或无法启动（chromium 软件包），本次未生成 report.pdf；其余报告照常发布。",
        "en": "Chromium (the chromium package) was not found or would not start: no report.pdf "
        "this run; the other reports are published as usual.",
    },
    "no_font": {
        "zh": "未找到中文字体（fonts-noto-cjk 软件包），Chromium 打印的中文将全是方框，本次未生成 "
        "report.pdf；其余报告照常发布。",
        "en": "no font for Chinese was found (the fonts-noto-cjk package): Chromium would print "
        "every Chinese character as an empty box, so no report.pdf this run; the other reports "
        "are published as usual.",
    },
    "failed": {
        "zh": "Chromium 未能打印 {html}（{why}），本次未生成其 report.pdf；其余报告照常发布。",
        "en": "Chromium could not print {html} ({why}): no report.pdf for it this run; the "
        "other reports are published as usual.",
    },
    "timeout": {"zh": "{seconds} 秒内未完成", "en": "not done within {seconds} s"},
    "exit": {"zh": "退出码 {code}", "en": "exit code {code}"},
    "said": {"zh": "Chromium 答复：{message}", "en": "Chromium answered: {message}"},
    "nothing": {"zh": "未写出文件", "en": "it wrote no file"},
}


def browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def chinese_font() -> bool:
    """Whether fontconfig, which Chromium draws text with on Linux, has a font for Chinese
    (Debian's chromium brings none). True when fontconfig cannot be asked: nothing to tell."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return True
    try:
        found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return True
    return found.returncode != 0 or bool(found.stdout.strip())


def printable() -> str | None:
    """Why nothing can be printed here (a MESSAGES key), or None."""
    if browser() is None:
        return "missing"
    return None if chinese_font() else "no_font"


class _Closed(Exception):
    """Chromium closed its end of the pipe: it has ended."""


class _Refused(Exception):
    """Chromium answered a command with an error (a page it cannot open, a print it cannot do)."""


@dataclass(eq=False)
class _Print:
    html: Path
    chromium: _Chromium | None  # None: no Chromium to print with
    text: str | None = None  # what to print in the place of ``html``
    done: threading.Event = field(default_factory=threading.Event)
    pdf: bytes = b""
    why: tuple[str, dict] | None = None  # the MESSAGES key and its fields, when it failed


class _Chromium:
    """One headless Chromium and the thread that speaks to it; its prints are done in turn."""

    def __init__(self, exe: str):
        # A profile of its own: a Chromium the user has open, or another run's, is not disturbed.
        # Removed by this object once Chromium has ended (no finalizer that could remove it
        # from under a Chromium still closing at the interpreter's exit).
        self.profile = tempfile.mkdtemp(prefix="jixiao-chromium-")
        args = [exe, "--headless", "--disable-gpu", "--no-first-run", "--disable-extensions",
                f"--user-data-dir={self.profile}", "--remote-debugging-pipe"]  # fmt: skip
        if os.geteuid() == 0:  # Chromium will not start its sandbox as root
            args.insert(2, "--no-sandbox")
        commands, answers = os.pipe(), os.pipe()
        # Chromium's ends go to its fds 3 and 4 by posix_spawn (safe beside other threads, as
        # preexec_fn is not), from copies above 4 so that neither dup2 overwrites the other.
        theirs = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 5) for fd in (commands[0], answers[1])]
        os.close(commands[0])
        os.close(answers[1])
        devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        try:
            self.pid = os.posix_spawn(
                exe, args, os.environ, setsid=True,  # its helpers in its group: stopped with it
                file_actions=[(os.POSIX_SPAWN_DUP2, theirs[0], 3),
                              (os.POSIX_SPAWN_DUP2, theirs[1], 4), *devnull],
            )  # fmt: skip
        except OSError:
            os.close(commands[1])
            os.close(answers[0])
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        self.commands, self.answers = commands[1], answers[0]
        self.jobs: queue.SimpleQueue[_Print | None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.ended = False  # no more prints taken; `why` says for what reason
        self.why: tuple[str, dict] = ("nothing", {})
        self.killed = self.reaped = False
        self.sent, self.unread, self.events = 0, b"", []
        self.thread = threading.Thread(target=self._serve, name="jixiao-chromium", daemon=True)
        _started.append(self)
        self.thread.start()

    @property
    def usable(self) -> bool:
        return not (self.ended or self.killed)

    # --- asked from the run's thread

    def submit(self, job: _Print | None) -> None:
        """Queue a print (None: close when the queue is done); one asked of a Chromium that
        has ended fails at once, with why it ended."""
        with self.lock:
            if not self.ended:
                self.jobs.put(job)
                return
        if job is not None:
            job.why = self.why
            job.done.set()

    def stop(self) -> None:
        """Kill Chromium and its helpers (its thread then sees the pipe close and ends)."""
        with self.lock:
            self.killed = True
            if not self.reaped:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)

    # --- Chromium's thread

    def _serve(self) -> None:
        job = None
        try:
            session = self._tab()
            while (job := self.jobs.get()) is not None:
                try:
                    job.pdf = self._print(session, self._source(job))
                except _Refused as exc:
                    job.why = ("said", {"message": str(exc)})
                job.done.set()
            self._call("Browser.close")
        except (_Closed, OSError):
            pass
        except _Refused as exc:  # no tab to print in
            self.why = ("said", {"message": str(exc)})
            self.stop()
        except (ValueError, KeyError, TypeError) as exc:  # not an answer we understand
            self.why = ("said", {"message": repr(exc)})
            self.stop()
        finally:
            self._end(job)

    def _end(self, job: _Print | None) -> None:
        os.close(self.commands)  # Chromium quits when the pipe closes, if it has not already
        os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)  # gone, not yet reaped
        with self.lock:  # why it ended, then ended: a print asked from now on fails with why
            code = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            self.reaped = True
            if self.why[0] == "nothing" and code != 0:
                self.why = ("exit", {"code": code})
            self.ended = True
        os.close(self.answers)
        _started.remove(self)
        while True:  # the print it was on, and the ones queued behind it
            if job is not None and not job.done.is_set():
                job.why = self.why
                job.done.set()
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
        shutil.rmtree(self.profile, ignore_errors=True)

    def _source(self, job: _Print) -> str:
        """The address of what ``job`` prints: its text, if any, as a file of Chromium's profile
        (gone with it), the one before it replaced; else its html."""
        if job.text is None:
            return job.html.resolve().as_uri()
        source = Path(self.profile) / "print.html"
        source.write_text(job.text, encoding="utf-8")
        return source.as_uri()

    def _tab(self) -> str:
        """A tab to print in, its first print done (fonts and printer warm); its session."""
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._call("Page.enable", session=session["sessionId"])
        self._print(session["sessionId"], WARM_UP)
        return session["sessionId"]

    def _print(self, session: str, url: str) -> bytes:
        self.events.clear()
        opened = self._call("Page.navigate", {"url": url}, session)
        if "errorText" in opened:
            raise _Refused(opened["errorText"])
        while "Page.loadEventFired" not in self.events:
            self.events.append(self._next().get("method"))
        return base64.b64decode(self._call("Page.printToPDF", PRINT, session)["data"])

    def _call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.sent += 1
        message = {"id": self.sent, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.commands, data) :]
        while (answer := self._next()).get("id") != self.sent:
            self.events.append(answer.get("method"))  # an event: kept for _print
        if "error" in answer:
            raise _Refused(answer["error"].get("message", ""))
        return answer["result"]

    def _next(self) -> dict:
        while (end := self.unread.find(b"\0")) < 0:
            if not (chunk := os.read(self.answers, 1 << 20)):
                raise _Closed
            self.unread += chunk
        message, self.unread = self.unread[:end], self.unread[end + 1 :]
        return json.loads(message)


_chromium: _Chromium | None = None  # the one new prints go to
_started: list[_Chromium] = []  # every one not yet ended, for the interpreter's exit
_pending: list[_Print] = []


def launch() -> str | None:
    """Start Chromium for this run's prints, unless it is running already; why none can be
    started (a MESSAGES key), or None."""
    global _chromium
    if _chromium is not None and _chromium.usable:
        return None
    _chromium, why = None, printable()
    if why is None:
        try:
            _chromium = _Chromium(browser())
        except OSError:  # found but not runnable: said as not found
            why = "missing"
    return why


def start(html: Path, text: str | None = None) -> None:
    """Start printing ``html`` (a staged report.html) to report.pdf beside it; ``text``: what
    to print in its place (the report's printed copy, publish.report.printed_copy)."""
    why = launch()
    job = _Print(html, _chromium, text, why=(why, {}) if why else None)
    if _chromium is not None:
        _chromium.submit(job)
    _pending.append(job)


def finish(root: Path, notify: Callable[[str], object], lang: str = "zh") -> None:
    """Wait (WAIT_S in all) for the PDFs started under ``root``; each that Chromium printed is
    written into place, each it did not is named once in ``notify``. Chromium is closed when
    nothing else is left to print."""
    mine = [p for p in _pending if p.html.is_relative_to(root)]
    _pending[:] = [p for p in _pending if p not in mine]
    if unprinted := [p for p in mine if p.chromium is None]:  # said once for all of them
        notify(MESSAGES[unprinted[0].why[0]][lang])
    deadline = time.monotonic() + WAIT_S
    for p in (p for p in mine if p.chromium is not None):
        why = _wait(p, deadline, lang)
        if why is None:
            partial = p.html.with_name(NAME + ".tmp")
            try:
                partial.write_bytes(p.pdf)
                os.replace(partial, p.html.with_name(NAME))
            except OSError as exc:
                why = exc.strerror or str(exc)
                partial.unlink(missing_ok=True)
        if why is not None:
            notify(MESSAGES["failed"][lang].format(html=p.html.relative_to(root), why=why))
    if not _pending:
        close()


def forget(root: Path) -> None:
    """Drop what a failed run left printing under ``root`` (its staging is being discarded),
    stopping Chromium if it is still on one of them."""
    mine = [p for p in _pending if p.html.is_relative_to(root)]
    _pending[:] = [p for p in _pending if p not in mine]
    for p in mine:
        if p.chromium is not None and not p.done.is_set():
            p.chromium.stop()


def close() -> None:
    """Let Chromium finish what it was asked and quit, in the background."""
    global _chromium
    if _chromium is not None:
        _chromium.submit(None)
        _chromium = None


def _wait(p: _Print, deadline: float, lang: str) -> str | None:
    """Why the print failed, or None."""
    if not p.done.wait(max(0.0, deadline - time.monotonic())):
        p.chromium.stop()
        return MESSAGES["timeout"][lang].format(seconds=WAIT_S)
    if p.why is not None:
        key, fields = p.why
        return MESSAGES[key][lang].format(**fields)
    return None if p.pdf else MESSAGES["nothing"][lang]


@atexit.register
def _quit() -> None:
    """At the interpreter's exit: every Chromium closed (killed if it will not), its profile
    removed."""
    close()
    for chromium in list(_started):
        chromium.submit(None)
        chromium.thread.join(timeout=2)
        if chromium.thread.is_alive():
            chromium.stop()  # nothing when it has ended and its profile is being removed
            chromium.thread.join(timeout=30)  # a bound against a hang: the removal is short
