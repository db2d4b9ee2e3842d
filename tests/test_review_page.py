"""`jixiao review` (SPEC §3.2): the local review page, used in headless Chromium with real
clicks and typing (Chrome DevTools Protocol input events), its decisions read by the next
nightly run as a returned workbook's are."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from jixiao.flows.nightly import nightly
from jixiao.sample.generate import write_sample
from tests.test_flow import query

pytestmark = pytest.mark.flow

CHROMIUM = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
                None)  # fmt: skip
JIXIAO = Path(sys.executable).with_name("jixiao")
PROGRAMME = Path("2022/530100-disability-employment")


class Browser:
    """One Chromium page driven over the DevTools Protocol: clicks and keys as a user's."""

    def __init__(self, profile: Path, url: str):
        from websockets.sync.client import connect

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-port=0", f"--user-data-dir={profile}",
             "--window-size=1400,1000", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "Chromium did not start"
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        while True:
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
            pages = [t for t in targets if t["type"] == "page"]
            if pages:
                break
            assert time.monotonic() < deadline, "Chromium opened no page"
            time.sleep(0.2)
        self.ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=None)
        self.n = 0

    def send(self, method: str, **params) -> dict:
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == self.n:
                assert "error" not in reply, reply
                return reply["result"]

    def js(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, expression: str) -> None:
        deadline = time.monotonic() + 60
        while not self.js(f"document.readyState === 'complete' && !!({expression})"):
            assert time.monotonic() < deadline, expression
            time.sleep(0.2)

    def click(self, selector: str) -> None:
        box = self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                      "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                      "return [r.x + r.width / 2, r.y + r.height / 2]; })()")  # fmt: skip
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left",
                      clickCount=1)  # fmt: skip

    def type_into(self, selector: str, text: str) -> None:
        self.click(selector)
        self.send("Input.insertText", text=text)

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def served(prefect_api, tmp_path_factory):
    base = tmp_path_factory.mktemp("review_page")
    raw, db, out = base / "raw", base / "curated" / "warehouse.duckdb", base / "curated" / "reports"
    write_sample(raw)
    nightly(raw_dir=str(raw), db=str(db), out=str(out))
    findings = json.loads((out / PROGRAMME / "findings.json").read_text("utf-8"))
    proc = subprocess.Popen(
        [str(JIXIAO), "review", "--raw", str(raw), "--db", str(db), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )  # fmt: skip
    line = proc.stdout.readline()
    url = line[line.index("http://"):].split("（")[0].strip()
    yield {"raw": raw, "db": db, "out": out, "url": url, "proc": proc, "findings": findings,
           "base": base, "line": line}  # fmt: skip
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_decisions_clicked_in_chromium_reach_the_next_run(served):
    a, b, c = (f["fingerprint"] for f in served["findings"][:3])
    browser = Browser(served["base"] / "profile", served["url"])
    try:
        browser.wait_for(f"document.getElementById('f-{a}')")
        assert browser.js(f"document.querySelector('#f-{a} td.decided').innerText") == "未复核"
        # A dismissed with a reason and a reviewer.
        browser.click(f"#f-{a} input[value='不予采纳']")
        browser.type_into(f"#f-{a} textarea", "与第 2 条重复，已在第 2 条处理")
        browser.type_into(f"#f-{a} input[name='reviewer']", "王五")
        browser.click(f"#f-{a} button")
        browser.wait_for("document.querySelector('.notice')")
        shown = browser.js(f"document.querySelector('#f-{a} td.decided').innerText")
        assert shown.startswith("不予采纳：与第 2 条重复，已在第 2 条处理（复核人 王五，")
        # B confirmed, no reason needed.
        browser.click(f"#f-{b} input[value='确认']")
        browser.click(f"#f-{b} button")
        browser.wait_for(f"document.querySelector('#f-{b} td.decided').innerText.startsWith('确认')")
        # C dismissed without a reason: refused, nothing written.
        browser.click(f"#f-{c} input[value='不予采纳']")
        browser.click(f"#f-{c} button")
        browser.wait_for("document.body.innerText.includes('不予采纳须填写理由')")
    finally:
        browser.close()
    written = sorted((served["raw"] / PROGRAMME / "reviews").glob("网页复核-*.xlsx"))
    assert [p.name.rsplit("-", 1)[1] for p in written] == [f"{a}.xlsx", f"{b}.xlsx"]

    nightly(raw_dir=str(served["raw"]), db=str(served["db"]), out=str(served["out"]))
    kept = {fp: (d, r, w, s) for fp, d, r, w, s in query(
        served["db"], "SELECT fingerprint, decision, reason, reviewer, source_file FROM reviews")}  # fmt: skip
    assert kept[a][:3] == ("不予采纳", "与第 2 条重复，已在第 2 条处理", "王五")
    assert kept[a][3].startswith("reviews/网页复核-") and kept[b][0] == "确认" and c not in kept
    html = (served["out"] / PROGRAMME / "report.html").read_text("utf-8")
    assert "与第 2 条重复，已在第 2 条处理" in html.split("经复核不予采纳的发现</h3>")[1]


def test_page_refuses_other_hosts_and_posts_without_its_token(served):
    url = served["url"]
    other = urllib.request.Request(url, headers={"Host": "attacker.example:80"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(other)
    assert refused.value.code == 403
    fp = served["findings"][0]["fingerprint"]
    form = f"code=530100-disability-employment&year=2022&fingerprint={fp}&decision=确认"
    forged = urllib.request.Request(url + "decide", data=form.encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged)
    assert refused.value.code == 403
    assert "页面已过期" in refused.value.read().decode("utf-8")


def test_review_ends_quietly_on_sigterm(served):
    proc = served["proc"]
    assert served["line"].startswith("复核页面：http://127.0.0.1:")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert "Traceback" not in proc.stderr.read()


def test_review_without_a_warehouse_says_so(tmp_path):
    done = subprocess.run([str(JIXIAO), "review", "--db", str(tmp_path / "none.duckdb")],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"数据仓库 {tmp_path / 'none.duckdb'} 不存在：请先运行 jixiao run。" in done.stderr
