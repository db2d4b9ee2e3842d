"""One programme's audit after its records are loaded: metrics, the report against itself
and against the records, the records against their expectations, scores, findings over
time, and the published reports. Plain functions; the nightly flow calls `audit_programme`."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from pathlib import Path

import duckdb
from jixiao.checks import history
from jixiao.checks.against_records import (
    claimed_value,
    measured,
    rates_disagree,
    records_disagree,
)
from jixiao.checks.expectations import run_expectations
from jixiao.checks.findings import Finding, ordered
from jixiao.checks.records import record_findings
from jixiao.checks.report_check import ReportAudit, audit_report
from jixiao.ingest.load import known_names, replace_claims
from jixiao.publish.files import under
from jixiao.publish.findings import md_text, summary
from jixiao.publish.report import Publication, staged_folder, write_reports
from jixiao.schemas.programme import Programme
from jixiao.schemas.vocabulary import load_vocabulary
from jixiao.schemas.warehouse import SCORES
from jixiao.scoring import (
    claimed_scores,
    compute_metrics,
    score,
    score_findings,
    scorecard_rows,
    store_metrics,
)

from jixiao.checkpoints import checkpoint


@dataclass
class AuditResult:
    programme: str
    year: int
    folder: Path  # where the reports appear once the run is published
    findings: int
    new: int
    resolved: int
    total: Decimal
    claimed_total: Decimal | None
    grade: str
    markdown: str  # the summary, for the Prefect artifact
    gx_s: float  # Great Expectations' validation time, beside the same checks as SQL
    sql_s: float
    report_sha256: str | None  # of the report's bytes as audited; None when it was not read


def report_path(programme_dir: Path) -> Path | None:
    """The programme's self-evaluation report: report.docx, else report.txt (a symbolic link
    counts: reading refuses it, and the audit says so)."""
    candidates = (programme_dir / "report.docx", programme_dir / "report.txt")
    return next((p for p in candidates if os.path.lexists(p)), None)


def _spent(con: duckdb.DuckDBPyConnection, programme: Programme) -> dict[str, Decimal]:
    rows = con.execute(
        "SELECT budget_line, sum(spent_yuan) FROM funds WHERE programme_code = ? AND year = ? "
        "GROUP BY 1",
        [programme.code, programme.year],
    ).fetchall()
    return dict(rows)


def _survey(con: duckdb.DuckDBPyConnection, programme: Programme) -> dict[str, dict[str, int]]:
    rows = con.execute(
        "SELECT question, answer, count(*) FROM (UNPIVOT (SELECT * EXCLUDE (answered_on) "
        "FROM survey_responses WHERE programme_code = ? AND year = ?) ON COLUMNS('^q[0-9]+$') "
        "INTO NAME question VALUE answer) GROUP BY ALL ORDER BY ALL",
        [programme.code, programme.year],
    ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for question, answer, n in rows:
        out.setdefault(f"第{question[1:]}题", {})[answer] = n
    return dict(sorted(out.items(), key=lambda kv: int(kv[0][1:-1])))


def audit_programme(con: duckdb.DuckDBPyConnection, programme_dir: Path, programme: Programme,
                    out_dir: Path, run_id: str, lang: str = "zh", *,
                    hash_key: bytes) -> AuditResult:  # fmt: skip
    """Audit one programme; its reports are staged for ``out_dir`` and appear there only when
    ``publish.report.publish`` swaps them in, after the warehouse is published. The report's
    texts are masked for the names the programme's county files paired with IDs, found by
    their keyed hashes (``hash_key``)."""
    folder = under(out_dir, str(programme.year), programme.code)
    staged = staged_folder(out_dir, programme.year, programme.code)
    vocab = load_vocabulary(programme.vocabulary)
    metrics = compute_metrics(con, programme, run_id)
    store_metrics(con, metrics)
    checkpoint("audit.metrics_stored")
    values = {m.indicator_id: m.value for m in metrics if m.value is not None}

    path = report_path(programme_dir)
    names = partial(known_names, con, programme, key=hash_key)
    report = audit_report(path, programme, names) if path else ReportAudit(None, [], [])
    if path:
        replace_claims(con, programme, path.name, report.sha256, report.claims)
        checkpoint("audit.claims_replaced")

    claimed = claimed_scores(report.claims, programme)
    card = score(programme, {m.indicator_id: m for m in metrics}, claimed)
    rows = scorecard_rows(card, run_id, programme.code, programme.year)
    con.execute(
        "DELETE FROM scores WHERE run_id = ? AND programme_code = ? AND year = ?",
        [run_id, programme.code, programme.year],
    )
    columns = [c.name for c in SCORES.columns]
    con.executemany(
        f"INSERT INTO scores ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[row[c] for c in columns] for row in rows],
    )
    checkpoint("audit.scores_stored")

    staged.mkdir(parents=True, exist_ok=True)
    expectations = run_expectations(con, programme, staged)
    checkpoint("audit.expectations_done")
    clock = time.perf_counter()
    on_records = record_findings(con, programme)
    sql_s = time.perf_counter() - clock
    measures = measured(programme, values, _spent(con, programme), vocab)
    findings: list[Finding] = ordered([
        replace(f, year=programme.year)  # the same problem in another year is another finding
        for f in (
            *report.findings,
            *records_disagree(report.claims, measures),
            *rates_disagree(report.claims, programme, values, vocab),
            *score_findings(card, claimed),
            *on_records,
        )
    ])  # fmt: skip
    new, resolved = history.store(con, run_id, programme.code, programme.year, findings, lang)
    checkpoint("audit.findings_stored")

    indicators = []
    for ind in programme.indicators:
        if ind.kind in ("qualitative", "deadline"):
            continue
        said = next((m for m in measures if m.id == ind.id), None)
        claim = claimed_value(report.claims, said) if said else None
        indicators.append({
            "id": ind.id, "name": ind.name, "unit": ind.unit or "",
            "target": Decimal(str(ind.target)) if ind.target is not None else None,
            "claimed": claim, "recorded": values.get(ind.id),
        })  # fmt: skip
    pub = Publication(
        programme.code, programme.name, programme.year, programme.unit, run_id,
        dt.datetime.now(dt.UTC), findings, new, resolved, rows, indicators,
        _survey(con, programme),
    )  # fmt: skip
    write_reports(pub, staged)
    checkpoint("audit.reports_written")
    total = next(r for r in rows if r["level"] == 0)
    markdown = "\n".join([
        f"## {md_text(programme.name)}",
        "",
        f"- 重新计算总分 **{total['score']}**（{total['grade']}），报告自评 {total['claimed_score'] or '—'}",
        f"- {summary(findings, lang)}新增 {len(new)} 条，已整改 {len(resolved)} 条。",
        f"- 报告：`{folder / 'report.html'}`",
    ])  # fmt: skip
    return AuditResult(programme.code, programme.year, folder, len(findings), len(new),
                       len(resolved), total["score"], total["claimed_score"], total["grade"],
                       markdown, expectations.seconds, sql_s, report.sha256)  # fmt: skip
