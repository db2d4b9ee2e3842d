"""Audit one report on its own: extract every figure, then run every REPORT.* rule."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from jixiao.checks import report_form, report_tables, report_text
from jixiao.checks.findings import Evidence, Finding, ordered
from jixiao.checks.tables import grids
from jixiao.ingest.claims import Claim, extract_claims
from jixiao.ingest.personal import Names, mask_text, name_candidates
from jixiao.ingest.report import LAYOUTS, Document, ReportError, read_report
from jixiao.schemas.programme import Programme
from jixiao.schemas.vocabulary import Vocabulary, load_vocabulary

MEASURES_ZH = {"counties": "县区数", "events": "场次", "households": "户数", "people": "人数",
               "organisations": "单位数", "money": "金额", "per_unit": "标准", "rate": "比率",
               "level": "水平", "percent": "比例", "score": "得分"}  # fmt: skip
FIXED_ZH = {"budget:total": "预算总额", "report:date": "报告日期", "report:file": "自评报告",
            "survey:overall": "满意度综合得分",
            "survey:questions": "满意度调查问题数", "score:grade": "自评得分与等级"}  # fmt: skip


def label(subject: str, vocab: Vocabulary) -> str:
    """A finding's subject as the report's reader names it, from the vocabulary's words."""
    if subject in FIXED_ZH:
        return FIXED_ZH[subject]
    kind, _, rest = subject.partition(":")
    name, _, measure = rest.partition(":")
    if kind in ("indicator", "deadline"):
        word = next((w for w, v in vocab.subjects.words.items() if v == name), name)
        suffix = "完成时限" if kind == "deadline" else MEASURES_ZH.get(measure, "")
        return f"{word}（{suffix}）" if suffix else word
    if kind == "survey":
        question, _, answer = rest.partition(":")
        number = re.match(r"\d+", question)
        name = f"问卷第{number.group()}题" if number else f"问卷「{question.rstrip('：:')}」"
        return name + (f"选项 {answer[:1]}" if answer else "")
    if kind == "appendix":
        return f"附表{rest}"
    return rest


@dataclass
class ReportAudit:
    document: Document | None  # None when there is no report, or it was not read
    claims: list[Claim]
    findings: list[Finding]

    @property
    def sha256(self) -> str | None:
        """Of the report's bytes as read."""
        return self.document.sha256 if self.document else None


def coverage(audit: ReportAudit, lang: str = "zh") -> str:
    """What was read of the report and what was not, one sentence: stated beside every count
    of findings, so that "0 findings" never stands for "nothing read"."""
    doc = audit.document
    if doc is None:
        return "报告未读取。" if lang == "zh" else "The report was not read."
    layouts = Counter(t.layout for t in doc.tables)
    parts = sum(t.form is not None for t in doc.tables)
    if lang == "zh":
        kinds = "、".join(f"{LAYOUTS[k]} {n} 个" for k, n in layouts.items())
        form = f"，其中自评表 {parts} 部分" if parts else ""
        tables = f"{len(doc.tables)} 个表格（{kinds}{form}）" if doc.tables else "0 个表格"
        said = f"已读取 {len(doc.paragraphs)} 个段落、{tables}、{len(audit.claims)} 个数据"
        return said + (f"；未读取：{'；'.join(doc.unread)}" if doc.unread else "") + "。"
    kinds = ", ".join(f"{n} {k}" for k, n in layouts.items())
    form = f"; {parts} parts of a 自评表" if parts else ""
    tables = f"{len(doc.tables)} tables ({kinds}{form})" if doc.tables else "0 tables"
    said = f"Read {len(doc.paragraphs)} paragraphs, {tables}, {len(audit.claims)} figures"
    return said + (f"; not read: {'; '.join(doc.unread)}" if doc.unread else "") + "."


def check_report(path: Path, programme: Programme | None = None,
                 names: Callable[[set[str]], set[str]] | None = None) -> ReportAudit:  # fmt: skip
    """The report's claims and findings, as they may leave the reader: every text masked
    (personal.mask_text) by shape, and for the names ``names`` knows among the report's words
    (load.known_names: those county files paired with IDs)."""
    doc = read_report(path)
    vocab = load_vocabulary(programme.vocabulary if programme else None)
    claims = extract_claims(doc, vocab)
    weights = programme.survey.weights if programme and programme.survey else None
    # A 自评表 is read by its own rules; the other rules read the other tables.
    every = grids(doc)
    forms = report_form.forms(every)
    tables = report_form.others(every)
    findings = [
        *report_form.form_findings(forms),
        *report_tables.table_findings(tables, weights),
        *report_text.figure_disagrees(claims, vocab),
        *report_text.rates(claims),
        *report_text.products(claims),
        *report_text.headcount_percent(claims),
        *report_text.budget_total(doc, claims),
        *report_text.grades(doc, claims, tables),
        *report_text.dates(doc, claims),
        *report_text.completeness(doc, claims, tables),
        *report_text.name_variants(doc),
        *report_text.rankings(doc, tables),
        *report_text.missed_target_claimed(doc, claims),
        *report_text.cost_per_unit(tables, claims, vocab),
    ]
    findings = [replace(f, label=label(f.subject, vocab)) for f in findings]
    words = {t for c in claims for t in (c.sentence, *c.section)}
    words |= {t for f in findings for t in (f.claimed, f.observed, f.where, f.label,
                                            *(e.text for e in f.evidence))}  # fmt: skip
    # Figures share their sentence and section: each distinct text is masked once.
    mask = functools.cache(
        functools.partial(mask_text, names=Names(names(name_candidates(words)) if names else ()))
    )
    claims = [replace(c, text=mask(c.text), sentence=mask(c.sentence),
                      section=tuple(map(mask, c.section))) for c in claims]  # fmt: skip
    return ReportAudit(doc, claims, ordered([f.masked(mask) for f in findings]))


def audit_report(path: Path, programme: Programme | None = None,
                 names: Callable[[set[str]], set[str]] | None = None) -> ReportAudit:  # fmt: skip
    """``check_report`` for the nightly run: a report that cannot be read is one finding
    (REPORT.UNREADABLE) saying why, never a stopped run and never a clean report."""
    try:
        return check_report(path, programme, names)
    except ReportError as error:
        finding = Finding(
            "REPORT.UNREADABLE",
            "report:file",
            path.name,
            str(error).rstrip("。"),
            (Evidence("", 0, path.name),),
            label=FIXED_ZH["report:file"],
        )
        return ReportAudit(None, [], [finding.masked(mask_text)])
