"""`jixiao review`: a page on 127.0.0.1 where an auditor confirms or dismisses each finding of
the latest run, with a reason (SPEC §3.2).

A decision is stored the way a returned findings.xlsx is: a small workbook with the same
columns (指纹, 复核结论, 复核意见, 复核人) written into the programme's ``reviews/`` folder,
which the next run reads into `reviews` (ingest.reviews). The published warehouse is never
written to here: a run swaps in a new file, and a decision written meanwhile would be lost.
The page shows a decision at once, from the workbooks not yet read by a run.

Only this machine can reach the page (127.0.0.1), and only through its own address (a
request naming another Host, as a DNS-rebinding page would, is refused); a form carries a
token drawn when the server starts, so that another site open in the browser cannot post a
decision.
"""

from __future__ import annotations

import datetime as dt
import html
import secrets
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import xlsxwriter

from jixiao.ingest.reviews import (
    DECISIONS,
    DECISIONS_EN,
    DISMISSED,
    FINGERPRINT,
    REVIEW_COLUMNS,
    on_record,
    read_decisions,
)
from jixiao.publish.files import under
from jixiao.publish.findings import page, review_text, severity_label
from jixiao.said import Said

SHEET = "网页复核"
MAX_FIELD = 2000  # characters of a reason or a reviewer's name
# What the page says, in Chinese and English (``jixiao --lang en review``); the decisions are
# SPEC §3.2's in both, glossed in English.
TITLE = Said("审计发现复核", "Review of the findings")
INTRO = Said("逐条选择复核结论并填写复核意见（不予采纳须说明理由）。保存后即写入项目的 reviews 文件夹，"
             "下次运行（jixiao run 或每晚 02:00）时载入数据仓库并显示在各报告中。",
             "Choose a decision for each finding and give your comment (a dismissal needs a "
             "reason). Each save is written into the programme's reviews folder; the next run "
             "(jixiao run, or nightly at 02:00) loads it into the warehouse and shows it in every "
             "report.")  # fmt: skip
EMPTY = Said("数据仓库中还没有审计发现。", "The warehouse holds no findings yet.")
HEAD = Said(("序号", "严重程度", "问题", "当前复核结论", "复核"),
            ("#", "severity", "problem", "decision on record", "review"))
REVIEWER, REASON, SAVE = Said("复核人", "reviewer"), Said("复核意见", "comment"), Said("保存", "Save")
SAVED = Said("已保存：", "Saved: ")
REFUSED = {
    "host": Said("只接受本机地址的访问。", "Only local addresses are served."),
    "missing": Said("没有这个页面。", "No such page."),
    "form": Said("只接受本页提交的复核结论。", "Only decisions sent from this page are taken."),
    "expired": Said("页面已过期，请刷新后再保存。", "The page has expired: reload it and save again."),
    "unknown": Said("没有这条发现或复核结论不在列表中。",
                    "No such finding, or the decision is not one of the list."),
    "reason": Said("不予采纳须填写理由（复核意见），请返回补填。",
                   "A dismissal needs a reason (comment): go back and give one."),
}


def latest_findings(db: Path) -> list[tuple]:
    """(programme_code, year, fingerprint, severity, message, subject) of each programme's
    latest run, most severe first."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT programme_code, year, fingerprint, severity, message, subject "
            "FROM v_latest_findings ORDER BY programme_code, year, severity_rank, fingerprint"
        ).fetchall()


def current(db: Path, raw: Path, code: str, year: int) -> dict[str, dict]:
    """Each fingerprint's decision as the next run will hold it: on record, or given later
    in a workbook of reviews/ (this page's or a returned findings.xlsx)."""
    with duckdb.connect(str(db), read_only=True) as con:
        held = on_record(con, code, year)
    for d in read_decisions(under(raw, str(year), code), lambda _: None):
        was = held.get(d["fingerprint"])
        if was is None or d["decided_at"] > was["decided_at"]:
            held[d["fingerprint"]] = d
    return held


def write_decision(raw: Path, code: str, year: int, fingerprint: str, decision: str,
                   reason: str, reviewer: str) -> Path:  # fmt: skip
    """One decision as a workbook in the programme's reviews/, named by its time (to the
    microsecond) and finding."""
    folder = under(raw, str(year), code) / "reviews"
    folder.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"网页复核-{stamp}-{fingerprint}.xlsx"
    tmp = path.with_suffix(".tmp")
    with xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                        "strings_to_numbers": False}) as book:  # fmt: skip
        sheet = book.add_worksheet(SHEET)
        for col, value in enumerate((FINGERPRINT, *REVIEW_COLUMNS)):
            sheet.write_string(0, col, value)
        for col, value in enumerate((fingerprint, decision, reason, reviewer)):
            sheet.write_string(1, col, value)
    tmp.rename(path)  # whole or not at all: a run may be reading reviews/ meanwhile
    return path


def render(db: Path, raw: Path, token: str, notice: str = "", lang: str = "zh") -> str:
    esc, zh = html.escape, lang == "zh"
    out = [f"<h1>{TITLE(lang)}</h1>", f'<p class="meta">{esc(INTRO(lang))}</p>']
    out += [f'<p class="notice" role="status">{esc(notice)}</p>'] if notice else []
    rows = latest_findings(db)
    programmes = sorted({(code, year) for code, year, *_ in rows})
    if not programmes:
        out.append(f"<p>{EMPTY(lang)}</p>")
    choices = "".join(f'<label><input type="radio" name="decision" value="{esc(d)}" required>'
                      f"{esc(d if zh else f'{d} {DECISIONS_EN[d]}')}</label> "
                      for d in DECISIONS)  # fmt: skip
    head = HEAD(lang)
    for code, year in programmes:
        decided = current(db, raw, code, year)
        out.append(f"<h2>{esc(str(year))} / {esc(code)}</h2>")
        out.append(f'<table class="fixed"><thead><tr><th style="width:4%">{head[0]}</th>'
                   f'<th style="width:7%">{head[1]}</th><th style="width:38%">{head[2]}</th>'
                   f'<th style="width:20%">{head[3]}</th><th>{head[4]}</th></tr></thead><tbody>')  # fmt: skip
        number = 0
        for row_code, row_year, fp, severity, message, _ in rows:
            if (row_code, row_year) != (code, year):
                continue
            number += 1
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{esc(str(v))}">'
                for k, v in (("token", token), ("code", code), ("year", year), ("fingerprint", fp))
            )
            out.append(
                f'<tr id="f-{esc(fp)}"><td>{number}</td><td>{esc(severity_label(severity, lang))}</td>'
                f'<td>{esc(message)}</td>'
                f'<td class="decided">{esc(review_text(decided.get(fp), lang))}</td><td>'
                f'<form method="post" action="/decide">{fields}'
                f'{choices}<input name="reviewer" placeholder="{REVIEWER(lang)}" '
                f'aria-label="{REVIEWER(lang)}" size="6"><br>'
                f'<textarea name="reason" rows="2" placeholder="{REASON(lang)}" aria-label="{REASON(lang)}" '
                f'style="width:95%"></textarea><br><button type="submit">{SAVE(lang)}</button></form></td></tr>'
            )  # fmt: skip
        out.append("</tbody></table>")
    return page(TITLE(lang), "\n".join(out), lang, css=".notice{color:#1a7f37;font-weight:bold}")


def make_server(raw: Path, db: Path, port: int = 0, lang: str = "zh") -> ThreadingHTTPServer:
    """The page's server on 127.0.0.1 (``port`` 0: any free one); call serve_forever."""
    token = secrets.token_urlsafe(24)

    class Handler(BaseHTTPRequestHandler):
        def _own_host(self) -> bool:
            host = self.headers.get("Host", "")
            return host in (f"127.0.0.1:{self.server.server_port}",
                            f"localhost:{self.server.server_port}")  # fmt: skip

        def _send(self, status: int, body: str, kind: str = "text/html; charset=utf-8") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy",
                             "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if not self._own_host():
                return self._send(403, REFUSED["host"](lang), "text/plain; charset=utf-8")
            parsed = urllib.parse.urlsplit(self.path)
            if parsed.path != "/":
                return self._send(404, REFUSED["missing"](lang), "text/plain; charset=utf-8")
            notice = urllib.parse.parse_qs(parsed.query).get("saved", [""])[0][:200]
            self._send(200, render(db, raw, token, SAVED(lang) + notice if notice else "", lang))

        def do_POST(self) -> None:  # noqa: N802
            if not self._own_host() or self.path != "/decide":
                return self._send(403, REFUSED["form"](lang), "text/plain; charset=utf-8")
            length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
            form = {k: v[0] for k, v in urllib.parse.parse_qs(
                self.rfile.read(length).decode("utf-8", "replace")).items()}  # fmt: skip
            known = {(c, str(y), fp) for c, y, fp, *_ in latest_findings(db)}
            if not secrets.compare_digest(form.get("token", ""), token):
                return self._send(403, REFUSED["expired"](lang), "text/plain; charset=utf-8")
            key = (form.get("code", ""), form.get("year", ""), form.get("fingerprint", ""))
            if key not in known or form.get("decision") not in DECISIONS:
                return self._send(400, REFUSED["unknown"](lang), "text/plain; charset=utf-8")
            reason = form.get("reason", "").strip()[:MAX_FIELD]
            reviewer = form.get("reviewer", "").strip()[:MAX_FIELD]
            if form["decision"] == DISMISSED and not reason:
                return self._send(400, REFUSED["reason"](lang), "text/plain; charset=utf-8")
            written = write_decision(raw, key[0], int(key[1]), key[2], form["decision"], reason,
                                     reviewer)  # fmt: skip
            self.send_response(303)
            saved = urllib.parse.quote(f"{form['decision']}（{written.name}）" if lang == "zh"
                                       else f"{form['decision']} ({written.name})")  # fmt: skip
            self.send_header("Location", f"/?saved={saved}#f-{key[2]}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass  # the page's requests are no one's log

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
