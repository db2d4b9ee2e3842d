"""One programme's audit after its records are loaded: metrics, the report against itself
and against the records, the records against their expectations, scores, findings over
time, and the published reports. Plain functions; the nightly flow calls `audit_programme`."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache, partial
from pathlib import Path

import duckdb

from jixiao.checkpoints import checkpoint
from jixiao.checks import history
from jixiao.checks.against_records import (
    BUDGET,
    SHOWN,
    claimed_value,
    measured,
    rates_disagree,
    records_disagree,
)
from jixiao.checks.expectations import Since, run_expectations
from jixiao.checks.findings import Finding, ordered
from jixiao.checks.records import record_findings
from jixiao.checks.report_check import ReportAudit, audit_report
from jixiao.checks.report_text import GRADES_EN
from jixiao.ingest.intake import sha256_of
from jixiao.ingest.load import known_names, replace_claims
from jixiao.ingest.reviews import DISMISSED, on_record
from jixiao.publish.feedback import feedback_files, page_file
from jixiao.publish.files import under
from jixiao.publish.findings import md_text, summary
from jixiao.publish.report import (
    Publication,
    coverage_cell,
    printed_copy,
    staged_folder,
    unassigned_line,
    write_reports,
)
from jixiao.schemas.programme import Overspent, Programme
from jixiao.schemas.vocabulary import load_vocabulary
from jixiao.schemas.warehouse import SCORES, latest_log_entries
from jixiao.scoring import (
    claimed_scores,
    score,
    score_findings,
    scorecard_rows,
    store_metrics,
)
from jixiao.scoring.metrics import Source, metrics_beside, parse_metrics, sources


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
    rechecked: list[str] | None = None  # the counties re-checked alone; None: all of them


def report_path(programme_dir: Path) -> Path | None:
    """The programme's self-evaluation report: report.docx, else report.pdf, the 自评表 as
    report.xlsx or report.xls, else report.txt (a symbolic link counts: reading refuses it,
    and the audit says so)."""
    candidates = tuple(programme_dir / f"report{suffix}"
                       for suffix in (".docx", ".pdf", ".xlsx", ".xls", ".txt"))  # fmt: skip
    return next((p for p in candidates if os.path.lexists(p)), None)


def _spent(con: duckdb.DuckDBPyConnection, programme: Programme) -> dict[str, Decimal]:
    """Money spent per budget line, from the sheet and columns the programme's
    RECORDS.OVERSPENT check declares; nothing without one."""
    check = next((c for c in programme.checks if isinstance(c, Overspent)), None)
    if check is None:
        return {}
    rows = con.execute(
        f'SELECT "{check.line}", sum("{check.spent}") FROM "{check.sheet}" '
        "WHERE programme_code = ? AND year = ? GROUP BY 1",
        [programme.code, programme.year],
    ).fetchall()
    return dict(rows)


def spent_sources(con: duckdb.DuckDBPyConnection, programme: Programme,
                  code: str) -> tuple[Source, ...]:  # fmt: skip
    """Budget line ``code``'s spending county by county, from the sheet and columns the
    programme's RECORDS.OVERSPENT check declares: each county's files and sheets, and what
    the county spent on it."""
    check = next((c for c in programme.checks if isinstance(c, Overspent)), None)
    if check is None:
        return ()
    rows = con.execute(
        f'SELECT county_code, source_file, source_sheet, count(*), sum(sum("{check.spent}")) '
        f'OVER (PARTITION BY county_code) FROM "{check.sheet}" WHERE programme_code = ? '
        f'AND year = ? AND "{check.line}" = ? GROUP BY county_code, source_file, source_sheet '
        "ORDER BY ALL",
        [programme.code, programme.year, code],
    ).fetchall()
    title = programme.county_template.titles.get(check.sheet, check.sheet)
    return tuple(Source(county, programme.counties.get(county, county), file, sheet, title, n,
                        spent) for county, file, sheet, n, spent in rows)  # fmt: skip


def survey_answers(
    con: duckdb.DuckDBPyConnection, programme: Programme
) -> dict[str, dict[str, int]]:
    """Answer counts per question of programme.yaml's ``survey:``, in its order, each question
    by its column's title."""
    survey = programme.survey
    if survey is None:
        return {}
    # One GROUP BY per question, not an UNPIVOT: that makes a row of every answer first
    # (10 M for a national year's survey, 0.19 s against 0.05).
    rows = con.execute(
        " UNION ALL ".join(
            f"SELECT '{q}', \"{q}\", count(*) FROM \"{survey.sheet}\" WHERE programme_code = $1 "
            f'AND year = $2 AND "{q}" IS NOT NULL GROUP BY ALL'
            for q in survey.questions  # identifiers, validated
        ) + " ORDER BY ALL",
        [programme.code, programme.year],
    ).fetchall()
    out: dict[str, dict[str, int]] = {q: {} for q in survey.questions}
    for question, answer, n in rows:
        out[question][answer] = n
    titles = programme.county_template.titles
    return {titles.get(f"{survey.sheet}.{q}", q): a for q, a in out.items() if a}


def _coverage(con: duckdb.DuckDBPyConnection, programme: Programme,
              lang: str = "zh") -> tuple[list[tuple[str, ...]], dict[str, tuple[str, ...]]]:  # fmt: skip
    """For each county and sheet of the template, what the audit rests on: rows accepted, a
    file refused, a workbook that left the sheet out, or nothing submitted; and for each sheet
    the counties (by name) whose rows of it are not accepted."""
    sheets, scope = programme.county_template.sheets, [programme.code, programme.year]
    rows = {(county, key): n for key in sheets for county, n in con.execute(
        f"SELECT county_code, count(*) FROM {key} WHERE programme_code = ? AND year = ? "
        "GROUP BY 1", scope).fetchall()}  # fmt: skip
    accepted, refused, absent = set(rows), set(), set()
    for county, status, read, left_out in con.execute(
        "SELECT county_code, status, sheets, sheets_absent FROM "
        f"{latest_log_entries('programme_code, year, file')} WHERE programme_code = ? "
        "AND year = ? AND status IN ('accepted', 'refused')", scope
    ).fetchall():  # fmt: skip
        if status == "refused":
            refused |= {(county, key) for key in read or sheets}
        else:
            accepted |= {(county, key) for key in read or ()}
            absent |= {(county, key) for key in left_out or ()}
    out, missing = [], {key: [] for key in sheets}
    for county, name in programme.counties.items():
        cells = []
        for key in sheets:
            if (county, key) not in accepted:
                missing[key].append(name or county)
            n = rows.get((county, key), 0) if (county, key) in accepted else None
            cells.append(coverage_cell(lang, n, (county, key) in refused, (county, key) in absent))
        out.append((f"{county} {name}", *cells))
    return out, {key: tuple(names) for key, names in missing.items() if names}


def missing_from(programme: Programme, missing: dict[str, tuple[str, ...]],
                 spent_sheet: str | None) -> dict[str, tuple[str, ...]]:
    """For each indicator and fact, the counties missing from the sheets its metric reads
    (``missing``: by sheet, those whose rows are not accepted), and under BUDGET those
    missing from the sheet spending is read from (``spent_sheet``)."""
    out = {}
    for key, (tables, _) in parse_metrics(programme).items():
        names = {n for table in tables for n in missing.get(table, ())}
        if names:
            out[key] = tuple(sorted(names))
    if spent_sheet and missing.get(spent_sheet):
        out[BUDGET] = missing[spent_sheet]
    return out


def refused_files(con: duckdb.DuckDBPyConnection, programme: Programme, feedback_dir: Path,
                  folder: Path) -> list[tuple[str, str, str]]:  # fmt: skip
    """The county files that stand refused, each with the page telling its county what to fix:
    (county, file, the page's HTML as a path relative to the report's ``folder``)."""
    return [
        (f"{code} {programme.counties.get(code, '')}".strip(), file,
         os.path.relpath(feedback_files(page_file(feedback_dir, page))[0], folder))
        for code, file, page in con.execute(
            "SELECT county_code, file, feedback_file FROM "
            f"{latest_log_entries('programme_code, year, file')} WHERE programme_code = ? "
            "AND year = ? AND status = 'refused' AND county_code IS NOT NULL "
            "AND feedback_file IS NOT NULL ORDER BY county_code, file",
            [programme.code, programme.year]).fetchall()
    ]  # fmt: skip


def unassigned_files(con: duckdb.DuckDBPyConnection,
                     programme: Programme) -> list[tuple[str, str]]:  # fmt: skip
    """The files refused because their county cannot be told, as they stand, with their pages
    (ingest_log.feedback_file, under unassigned/): (file, page), by file."""
    return con.execute(
        "SELECT file, feedback_file FROM "
        f"{latest_log_entries('programme_code, year, file')} WHERE programme_code = ? "
        "AND year = ? AND status = 'refused' AND county_code IS NULL ORDER BY file",
        [programme.code, programme.year],
    ).fetchall()


def reading_notes(con: duckdb.DuckDBPyConnection, programme: Programme,
                  lang: str = "zh") -> list[tuple[str, str, str]]:  # fmt: skip
    """How the accepted files were read where their layout asked for it (ingest_log.notes:
    hidden rows read, hidden or unknown sheets passed over, footers), in ``lang`` (notes_en;
    a row of an older version has only notes): (county, file, note)."""
    notes = "notes" if lang == "zh" else "coalesce(notes_en, notes) AS notes"
    return [(f"{county} {programme.counties.get(county, '')}".strip(), file, note)
            for county, file, notes in con.execute(
                f"SELECT county_code, file, {notes} FROM "
                f"{latest_log_entries('programme_code, year, file')} WHERE programme_code = ? "
                "AND year = ? AND status = 'accepted' AND len(notes) > 0 ORDER BY county_code, file",
                [programme.code, programme.year]).fetchall()
            for note in notes]  # fmt: skip


# What a run's findings depend on besides the records and programme.yaml (`runs` columns).
SETUP = ("raw_dir", "options", "code_version", "catalogue_version", "library_versions")


def changed_counties(con: duckdb.DuckDBPyConnection, programme_dir: Path, programme: Programme,
                     run_id: str, setup: dict) -> tuple[list[str], list[Finding]] | None:  # fmt: skip
    """The counties whose records this run changed (a file of theirs accepted) and the
    RECORDS findings standing before it, when only those counties need re-checking: the
    programme's last audit was by the run just before (or before nights that changed
    nothing), which completed with the same ``setup`` (`SETUP` of this run), hashing key and
    programme.yaml, and kept its findings' parameters. Else None: everything is checked."""
    base = history.last_audit(con, programme.code, programme.year, run_id)
    last = con.execute(
        f"SELECT run_id, status, key_fingerprint, programme_files, {', '.join(SETUP)} FROM runs "
        "WHERE run_id <> ? AND status IS DISTINCT FROM 'unchanged' ORDER BY seq DESC LIMIT 1",
        [run_id],
    ).fetchone()
    (key,) = con.execute("SELECT key_fingerprint FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if base is None or last is None or last[0] != base or last[1] not in ("completed", "partial"):
        return None
    yaml = {"programme": programme.code, "year": programme.year, "file": "programme.yaml",
            "sha256": sha256_of(programme_dir / "programme.yaml")}  # fmt: skip
    if last[2] != key or yaml not in json.loads(last[3] or "[]") or tuple(last[4:]) != tuple(
        setup[k] for k in SETUP
    ):
        return None
    standing = history.standing(con, base, programme.code, programme.year, "RECORDS.")
    if standing is None:
        return None
    counties = [c for (c,) in con.execute(
        "SELECT DISTINCT county_code FROM ingest_log WHERE run_id = ? AND programme_code = ? "
        "AND year = ? AND county_code IS NOT NULL AND status IN ('accepted', 'superseded') "
        "ORDER BY 1", [run_id, programme.code, programme.year]).fetchall()]  # fmt: skip
    return counties, standing


def audit_programme(con: duckdb.DuckDBPyConnection, programme_dir: Path, programme: Programme,
                    out_dir: Path, run_id: str, lang: str = "zh", *, hash_key: bytes,
                    feedback_dir: Path, setup: dict | None = None, before: Path | None = None,
                    print_with: Callable[[Path, str], object] | None = None) -> AuditResult:  # fmt: skip
    """Audit one programme; its reports are staged for ``out_dir`` and appear there only when
    ``publish.report.publish`` swaps them in, after the warehouse is published. The report's
    texts are masked for the names the programme's county files paired with IDs, found by
    their keyed hashes (``hash_key``). With the run's ``setup`` (`SETUP`), the records are
    re-checked, and their expectations' summaries computed, only where they changed when
    `changed_counties` allows it (``before``: the published warehouse, whose records are those
    the last audit saw). ``print_with`` (publish.pdf.start) is asked to print the
    staged report.html's printed copy."""
    folder = under(out_dir, str(programme.year), programme.code)
    staged = staged_folder(out_dir, programme.year, programme.code)
    vocab = load_vocabulary(programme.vocabulary)
    path = report_path(programme_dir)
    names = partial(known_names, con, programme, key=hash_key)
    metrics, report = metrics_beside(
        con, programme, run_id,
        lambda: audit_report(path, programme, names) if path else ReportAudit(None, [], []),
    )  # fmt: skip
    store_metrics(con, metrics)
    checkpoint("audit.metrics_stored")
    values = {m.indicator_id: m.value for m in metrics if m.value is not None}

    if path:
        replace_claims(con, programme, path.name, report.sha256, report.claims)
        checkpoint("audit.claims_replaced")

    claimed = claimed_scores(report.claims, programme)
    card = score(programme, {m.indicator_id: m for m in metrics}, claimed)
    rows = scorecard_rows(card, run_id, programme.code, programme.year, lang)
    con.execute(
        "DELETE FROM scores WHERE run_id = ? AND programme_code = ? AND year = ?",
        [run_id, programme.code, programme.year],
    )
    SCORES.insert(con, rows)
    checkpoint("audit.scores_stored")

    staged.mkdir(parents=True, exist_ok=True)
    changed = changed_counties(con, programme_dir, programme, run_id, setup) if setup else None
    since = Since(run_id) if changed is None else Since(
        run_id, history.last_audit(con, programme.code, programme.year, run_id), tuple(changed[0]),
        before)
    expectations = run_expectations(con, programme, staged, since=since, lang=lang)
    checkpoint("audit.expectations_done")
    clock = time.perf_counter()
    on_records = record_findings(con, programme, *changed) if changed else record_findings(con, programme)
    sql_s = time.perf_counter() - clock
    coverage, missing = _coverage(con, programme, lang)
    spending = next((c.sheet for c in programme.checks if isinstance(c, Overspent)), None)
    missing = missing_from(programme, missing, spending)
    measures = measured(programme, values, _spent(con, programme), vocab, missing)

    @cache
    def recorded(key: str) -> tuple[Source, ...]:
        """The county files a measure's figure is computed from, asked only for a finding."""
        if key.startswith(f"{BUDGET}:"):
            return spent_sources(con, programme, key.removeprefix(f"{BUDGET}:"))
        return sources(con, programme, key, SHOWN)

    findings: list[Finding] = ordered([
        replace(f, year=programme.year)  # the same problem in another year is another finding
        for f in (
            *report.findings,
            *report.placed([*records_disagree(report.claims, measures, lang, recorded),
                            *rates_disagree(report.claims, programme, values, vocab, missing,
                                            lang, recorded)]),  # fmt: skip
            *score_findings(card, claimed, lang),
            *on_records,
        )
    ])  # fmt: skip
    new, resolved = history.store(con, run_id, programme.code, programme.year, findings, lang)
    checkpoint("audit.findings_stored")
    # Decisions follow their findings by fingerprint; a dismissed one is listed apart.
    reviews = on_record(con, programme.code, programme.year)
    apart = {fp for fp, r in reviews.items() if r["decision"] == DISMISSED}
    dismissed = [f for f in findings if f.fingerprint in apart]
    findings = [f for f in findings if f.fingerprint not in apart]

    indicators = []
    for ind in programme.indicators:
        if ind.kind in ("qualitative", "deadline"):
            continue
        said = next((m for m in measures if m.id == ind.id), None)
        claim = claimed_value(report.claims, said) if said else None
        indicators.append({
            "id": ind.id, "name": ind.name, "unit": ind.unit or "",
            "target": Decimal(str(ind.target)) if ind.target is not None else None,
            "claimed": claim, "recorded": values.get(ind.id), "missing": missing.get(ind.id, ()),
        })  # fmt: skip
    pub = Publication(
        programme.code, programme.name, programme.year, programme.unit, run_id,
        dt.datetime.now(dt.UTC), findings, new, resolved, rows, indicators,
        survey_answers(con, programme),
        ("区县" if lang == "zh" else "county",
         *(s.title for s in programme.county_template.sheets.values())),
        coverage, unassigned_files(con, programme),
        reading_notes(con, programme, lang), report.read_line(lang),
        refused_files(con, programme, feedback_dir, folder), reviews, dismissed, lang,
    )  # fmt: skip
    write_reports(pub, staged)
    checkpoint("audit.reports_written")
    if print_with is not None:  # printed while the run goes on; waited for at publication
        print_with(staged / "report.html", printed_copy(pub, staged))
    total = next(r for r in rows if r["level"] == 0)
    claimed_total = total["claimed_score"] or "—"
    markdown = "\n".join([
        f"## {md_text(programme.name)}",
        "",
        f"- 重新计算总分 **{total['score']}**（{total['grade']}），报告自评 {claimed_total}"
        if lang == "zh" else f"- Recomputed total **{total['score']}** ({GRADES_EN[total['grade']]}), "
        f"self-assessed {claimed_total}",
        f"- {summary(findings, lang)}新增 {len(new)} 条，已整改 {len(resolved)} 条"
        f"{f'，经复核不予采纳 {len(dismissed)} 条' if dismissed else ''}。" if lang == "zh"
        else f"- {summary(findings, lang)} {len(new)} new, {len(resolved)} resolved"
        f"{f', {len(dismissed)} dismissed on review' if dismissed else ''}.",
        *([f"- {md_text(unassigned_line(pub))}"] if pub.unassigned else []),
        f"- 报告：`{folder / 'report.html'}`" if lang == "zh" else f"- Report: `{folder / 'report.html'}`",
    ])  # fmt: skip
    return AuditResult(programme.code, programme.year, folder, len(findings), len(new),
                       len(resolved), total["score"], total["claimed_score"], total["grade"],
                       markdown, expectations.seconds, sql_s, report.sha256,
                       changed[0] if changed else None)  # fmt: skip
