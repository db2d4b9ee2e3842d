"""Auditors' review decisions (SPEC §3.2): findings.xlsx returned with 复核结论 / 复核意见 /
复核人 filled, placed in ``reviews/``, kept by fingerprint in the `reviews` table.

A decision's time is its workbook's modification time (when it was last saved or copied
in): of two workbooks deciding one finding differently, the later one holds. A blank
decision changes nothing; a decision equal to the one on record keeps the record's source
and time (a workbook returned from a later night carries earlier decisions prefilled); an
unknown decision is refused, named by file, sheet and row in the run's log. The workbooks
are read as county files are (ingest.readers: the same limits and refusals) and never
modified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from jixiao.ingest.discover import review_workbooks
from jixiao.ingest.normalise import clean_text
from jixiao.ingest.personal import mask_text
from jixiao.ingest.problems import FileRefused
from jixiao.ingest.readers import read_workbook
from jixiao.schemas.programme import Programme
from jixiao.schemas.warehouse import REVIEWS

# The decisions as SPEC §3.2 fixes them, in either language's workbook; in English outputs
# each is glossed (DECISIONS_EN).
CONFIRMED, DISMISSED, PENDING = "确认", "不予采纳", "待定"
DECISIONS = (CONFIRMED, DISMISSED, PENDING)
DECISIONS_EN = {CONFIRMED: "confirmed", DISMISSED: "dismissed", PENDING: "pending"}
# The columns findings.xlsx gives a reviewer (publish.excel), and the one naming the finding;
# a workbook written with --lang en heads them in English (COLUMNS_EN), read the same.
REVIEW_COLUMNS = ("复核结论", "复核意见", "复核人")
FINGERPRINT = "指纹"
COLUMNS_EN = dict(zip((*REVIEW_COLUMNS, FINGERPRINT),
                      ("review decision", "review comment", "reviewer", "fingerprint"), strict=True))  # fmt: skip
KEPT = ("decision", "reason", "reviewer")  # what a decision is; the rest says where it came from


def read_decisions(programme_dir: Path, notify: Callable[[str], object],
                   lang: str = "zh") -> list[dict]:  # fmt: skip
    """Every filled-in decision of the workbooks in reviews/, oldest workbook first; what
    cannot be used is told to ``notify``, in ``lang``, naming file, sheet and row."""
    zh = lang == "zh"
    out = []
    found = [(p, rel, p.stat().st_mtime) for p, rel in review_workbooks(programme_dir, lang)]
    for path, rel, mtime in sorted(found, key=lambda f: (f[2], f[1])):
        decided_at = dt.datetime.fromtimestamp(mtime, dt.UTC)
        try:
            sheets = read_workbook(path)
        except FileRefused as exc:
            notify(f"复核工作簿 {rel} 无法读取，未采用：{exc.problems[0].message(lang)}" if zh
                   else f"review workbook {rel} cannot be read, not used: "
                   f"{exc.problems[0].message(lang)}")  # fmt: skip
            continue
        for sheet in sheets.values():
            english = {en: zh for zh, en in COLUMNS_EN.items()}
            header = [english.get(h, h) for h in (clean_text(h) for h in sheet.header)]
            if FINGERPRINT not in header or REVIEW_COLUMNS[0] not in header:
                continue  # not a findings sheet (证据明细, a sheet the auditor added)
            at = {name: header.index(name) for name in (FINGERPRINT, *REVIEW_COLUMNS)
                  if name in header}  # fmt: skip
            for number, row in zip(sheet.row_numbers, sheet.rows, strict=True):
                # The auditor's words as written (clean_text would fold full-width punctuation).
                cells = {name: (row[i] or "").strip() if i < len(row) else ""
                         for name, i in at.items()}  # fmt: skip
                decision = clean_text(cells[REVIEW_COLUMNS[0]])
                fingerprint = clean_text(cells[FINGERPRINT])
                if decision is None:
                    continue
                where = (f"复核工作簿 {rel} 工作表「{sheet.name}」第 {number} 行" if zh
                         else f"review workbook {rel}, sheet '{sheet.name}', row {number}")  # fmt: skip
                if decision not in DECISIONS:
                    listed = ", ".join(f"{d} ({DECISIONS_EN[d]})" for d in DECISIONS)
                    notify(f"{where}：复核结论「{mask_text(decision)}」不是"
                           f"「{'」「'.join(DECISIONS)}」之一，未采用" if zh
                           else f"{where}: the decision '{mask_text(decision)}' is not one of "
                           f"{listed}; not used")  # fmt: skip
                elif fingerprint is None:
                    notify(f"{where}：没有指纹，无法对应到发现，复核结论未采用" if zh
                           else f"{where}: no fingerprint, so no finding it decides; not used")
                else:
                    out.append({
                        "fingerprint": fingerprint, "decision": decision,
                        "reason": mask_text(cells.get(REVIEW_COLUMNS[1], "")),
                        "reviewer": mask_text(cells.get(REVIEW_COLUMNS[2], "")),
                        "decided_at": decided_at,
                        "source_file": f"{rel}，工作表「{sheet.name}」第 {number} 行",
                    })  # fmt: skip
    return out


def store(con: duckdb.DuckDBPyConnection, programme: Programme, programme_dir: Path,
          notify: Callable[[str], object], lang: str = "zh") -> int:  # fmt: skip
    """Merge the returned workbooks' decisions into `reviews`; returns how many changed."""
    scope = {"code": programme.code, "year": programme.year}
    held = {row[0]: dict(zip(("decided_at", *KEPT), row[1:], strict=True)) for row in con.execute(
        "SELECT fingerprint, decided_at, decision, reason, reviewer FROM reviews "
        "WHERE programme_code = $code AND year = $year", scope).fetchall()}  # fmt: skip
    latest = {d["fingerprint"]: d for d in read_decisions(programme_dir, notify, lang)}  # last wins
    changed = [
        d for fp, d in latest.items()
        if fp not in held or (any(d[k] != held[fp][k] for k in KEPT)
                              and d["decided_at"] > held[fp]["decided_at"])
    ]  # fmt: skip
    if changed:
        frame = pl.DataFrame(
            [{**d, "programme_code": programme.code, "year": programme.year} for d in changed]
        ).select([c.name for c in REVIEWS.columns])
        con.register("incoming_reviews", frame)
        con.execute("DELETE FROM reviews WHERE programme_code = $code AND year = $year AND "
                    "fingerprint IN (SELECT fingerprint FROM incoming_reviews)", scope)  # fmt: skip
        con.execute("INSERT INTO reviews BY NAME SELECT * FROM incoming_reviews")
        con.unregister("incoming_reviews")
    return len(changed)


def on_record(con: duckdb.DuckDBPyConnection, code: str, year: int) -> dict[str, dict]:
    """The decision on record for each fingerprint of the programme."""
    rows = con.execute(
        "SELECT fingerprint, decision, reason, reviewer, decided_at, source_file FROM reviews "
        "WHERE programme_code = ? AND year = ?", [code, year]).fetchall()  # fmt: skip
    keys = ("decision", "reason", "reviewer", "decided_at", "source_file")
    return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in rows}
