"""Audit one report on its own: extract every figure, then run every REPORT.* rule."""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from jixiao.checks import report_form, report_indicators, report_tables, report_text
from jixiao.checks.findings import Evidence, Finding, ordered
from jixiao.checks.tables import grids
from jixiao.ingest.claims import Claim, extract_claims
from jixiao.ingest.personal import Names, mask_text, name_candidates
from jixiao.ingest.report import LAYOUTS, Document, ReportError, Said, find_dates, read_report
from jixiao.schemas.programme import Programme
from jixiao.schemas.vocabulary import Vocabulary, fold, load_vocabulary

MEASURES = {
    "zh": {"counties": "县区数", "events": "场次", "households": "户数", "people": "人数",
           "organisations": "单位数", "money": "金额", "per_unit": "标准", "rate": "比率",
           "level": "水平", "percent": "比例", "score": "得分", "deadline": "完成时限"},
    "en": {"counties": "counties", "events": "events", "households": "households",
           "people": "people", "organisations": "organisations", "money": "amount",
           "per_unit": "standard", "rate": "rate", "level": "level", "percent": "share",
           "score": "score", "deadline": "deadline"},
}  # fmt: skip
FIXED = {
    "zh": {"budget:total": "预算总额", "report:date": "报告日期", "report:file": "自评报告",
           "survey:overall": "满意度综合得分", "survey:questions": "满意度调查问题数",
           "score:grade": "自评得分与等级", "indicators:count": "绩效指标数"},
    "en": {"budget:total": "total budget", "report:date": "report date", "report:file": "report",
           "survey:overall": "overall satisfaction score",
           "survey:questions": "number of survey questions", "score:grade": "score and grade",
           "indicators:count": "number of indicators"},
}  # fmt: skip


def label(subject: str, vocab: Vocabulary, lang: str = "zh") -> str:
    """A finding's subject as the report's reader names it, from the vocabulary's words (the
    report's own, in English too)."""
    zh = lang == "zh"
    fixed, measures = FIXED["zh" if zh else "en"], MEASURES["zh" if zh else "en"]
    if subject in fixed:
        return fixed[subject]
    kind, _, rest = subject.partition(":")
    name, _, measure = rest.partition(":")
    if kind in ("indicator", "deadline"):
        word = next((w for w, v in vocab.subjects.words.items() if v == name), name)
        suffix = measures.get("deadline" if kind == "deadline" else measure, "")
        return (f"{word}（{suffix}）" if zh else f"{word} ({suffix})") if suffix else word
    if kind == "survey":
        question, _, answer = rest.partition(":")
        number = re.match(r"\d+", question)
        if zh:
            name = f"问卷第{number.group()}题" if number else f"问卷「{question.rstrip('：:')}」"
            return name + (f"选项 {answer[:1]}" if answer else "")
        name = f"survey question {number.group()}" if number else f"survey question '{question.rstrip('：:')}'"
        return name + (f", answer {answer[:1]}" if answer else "")
    if kind == "appendix":
        return f"附表{rest}" if zh else f"appendix table {rest}"
    return rest


@dataclass(frozen=True)
class Coverage:
    """What a check of the report rests on, and what it could not read: stated beside every
    count of findings, so that a report is never called clean because nothing in it was
    read."""

    tables: int  # tables read into cells
    figures: int  # figures read (claims)
    indicators: int  # targets read: those with a floor or ceiling, and cells under 指标值 / 目标值
    linked: int  # of those, the ones whose actual figure was found beside them
    layouts: tuple[tuple[str, int], ...] = ()  # how the tables were laid out: LAYOUTS key, count
    form_parts: int = 0  # tables that are parts of the national 自评表 (Table.form)
    not_read: tuple[Said, ...] = ()  # what the reader could not read (Document.unread)
    incomplete: tuple[tuple[str | None, int, Said], ...] = ()  # tables cut off or uneven:
    # their title (None: untitled), number in the report and why
    bare_lines: tuple[int, ...] = ()  # lines of prose holding numbers with no unit
    bare_numbers: int = 0  # how many such numbers, none of them checked

    def unread(self, lang: str = "zh") -> list[str]:
        zh = lang == "zh"
        out = [said(lang) for said in self.not_read]
        for title, number, why in self.incomplete:
            name = (f"表「{title}」" if zh else f"table '{title}'") if title else (
                f"表{number}" if zh else f"table {number}")  # fmt: skip
            out.append(f"{name}不完整（{why(lang)}）" if zh else f"{name} incomplete ({why(lang)})")
        if self.bare_lines:
            lines = "、".join(map(str, self.bare_lines[:_LINES_NAMED]))
            more = len(self.bare_lines) > _LINES_NAMED
            out.append(
                f"第 {lines} 行{'等' if more else ''}共 {self.bare_numbers} 个无单位的数字未核对"
                "（如属表格，未能识别）"
                if zh
                else f"{self.bare_numbers} numbers without a unit on line{'s' * more} "
                f"{lines.replace('、', ', ')}{' …' if more else ''} not checked (if a table, "
                "it was not recognised)"
            )
        return out

    def _layouts(self, lang: str) -> str:
        """；表格形式：竖线分隔 2 个，其中自评表 2 部分 — or nothing when there is no table."""
        if not self.layouts:
            return ""
        if lang == "zh":
            kinds = "、".join(f"{LAYOUTS[k](lang)} {n} 个" for k, n in self.layouts)
            form = f"，其中自评表 {self.form_parts} 部分" if self.form_parts else ""
            return f"；表格形式：{kinds}{form}"
        kinds = ", ".join(f"{n} {LAYOUTS[k](lang)}" for k, n in self.layouts)
        form = f", {self.form_parts} of them parts of a self-evaluation form" if self.form_parts else ""
        return f"; tables: {kinds}{form}"

    def line(self, lang: str = "zh") -> str:
        unread = self.unread(lang)
        if lang == "zh":
            return (f"已读取：表格 {self.tables} 个，数据 {self.figures} 个，指标 {self.indicators} 个"
                    f"（{self.linked} 个已关联实际值）{self._layouts(lang)}。"
                    f"未读取：{'；'.join(unread) or '无'}。")  # fmt: skip
        return (f"Read: {self.tables} tables, {self.figures} figures, {self.indicators} "
                f"indicators ({self.linked} linked to an actual){self._layouts(lang)}. Not read: "
                f"{'; '.join(unread) or 'nothing'}.")  # fmt: skip

    def as_dict(self, lang: str = "zh") -> dict:
        return {"tables": self.tables, "layouts": dict(self.layouts),
                "form_parts": self.form_parts, "figures": self.figures,
                "indicators": self.indicators, "linked": self.linked,
                "unread": self.unread(lang), "text": self.line(lang)}  # fmt: skip


@dataclass
class ReportAudit:
    document: Document | None  # None when there is no report, or it was not read
    claims: list[Claim]
    findings: list[Finding]
    coverage: Coverage | None = None  # None when the report was not read

    @property
    def sha256(self) -> str | None:
        """Of the report's bytes as read."""
        return self.document.sha256 if self.document else None

    def placed(self, findings: list[Finding]) -> list[Finding]:
        """Findings made elsewhere from this report's claims (against the records), their
        evidence placed as this report's own (`placed`)."""
        if self.document is None:
            return findings
        return [replace(f, evidence=placed(self.document, f.evidence)) for f in findings]

    def read_line(self, lang: str = "zh") -> str:
        """What the check of the report rests on, in one sentence for every output."""
        if self.coverage is not None:
            return self.coverage.line(lang)
        if self.findings:  # REPORT.UNREADABLE says why
            return ("自评报告未能读取，其中数据均未核对。" if lang == "zh"
                    else "The report could not be read; none of its figures were checked.")  # fmt: skip
        return "未提供自评报告。" if lang == "zh" else "No report was given."


def placed(doc: Document, evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """Evidence of prose where its reader finds it rather than at a line of ours: a .docx
    paragraph by its section's path and its number in the section as Word shows it
    (Paragraph.number), a .pdf one by its page; a text report's, and a table cell's, as it is."""
    paragraphs = {p.line: p for p in doc.paragraphs if p.number is not None or p.page}
    if not paragraphs:
        return evidence
    return tuple(
        replace(e, section=e.section or " › ".join(p.section), paragraph=p.number, page=p.page)
        if not e.table_row and (p := paragraphs.get(e.line)) else e
        for e in evidence
    )  # fmt: skip


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
    # The prose's figures linked by name to the form's 三级指标 and programme.yaml's.
    own = report_indicators.from_form(report_form.indicators(forms))
    named = own + [n for n in report_indicators.from_programme(programme)
                   if n.name not in {o.name for o in own}]  # fmt: skip
    links = report_indicators.links(claims, named, vocab)
    short = report_indicators.misses(links, named)
    findings = [
        *report_form.form_findings(forms),
        *report_tables.table_findings(tables, weights),
        *report_text.figure_disagrees(claims, vocab),
        *report_text.rates(claims),
        *report_text.execution_rates(claims),
        *report_text.products(claims),
        *report_text.product_across(claims),
        *report_text.headcount_percent(claims),
        *report_text.budget_total(doc, claims),
        *report_text.breakdowns(doc, claims),
        *report_text.grades(doc, claims, tables),
        *report_text.dates(doc, claims),
        *report_text.completeness(doc, claims, tables),
        *report_text.name_variants(doc),
        *report_text.rankings(doc, tables),
        *report_text.missed_target_claimed(
            doc, claims, vocab,
            [(f"form:{n.name}", report_text.shortfall(n.target.text.strip(), a.text.strip()), e)
             for n, a, e in short
             if n.actual is not None],
        ),  # fmt: skip
        *report_text.cost_per_unit(tables, claims, vocab),
        *report_indicators.disagreements(links, vocab),
        *report_indicators.missed_claimed(links, short, vocab),
    ]
    findings = [replace(f, label=label(f.subject, vocab), evidence=placed(doc, f.evidence),
                        params=f.params | {"label_en": label(f.subject, vocab, "en")})
                for f in findings]  # fmt: skip
    words = {t for c in claims for t in (c.sentence, *c.section)}
    words |= {t for f in findings for t in (f.claimed, f.observed, f.where, f.label,
                                            *(e.text for e in f.evidence))}  # fmt: skip
    # Figures share their sentence and section: each distinct text is masked once.
    mask = functools.cache(
        functools.partial(mask_text, names=Names(names(name_candidates(words)) if names else ()))
    )
    read = coverage(doc, claims, own, links)
    claims = [replace(c, text=mask(c.text), sentence=mask(c.sentence),
                      section=tuple(map(mask, c.section))) for c in claims]  # fmt: skip
    return ReportAudit(doc, claims, ordered([f.masked(mask) for f in findings]), read)


# A number in prose standing for nothing the reader can check: not in a figure, no year,
# date, list number or document number (those end in 年, 号, 、 … or follow 第, 〔).
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
_NOT_A_VALUE_AFTER = tuple("年月日号、.）)〕]］时分秒")
_NOT_A_VALUE_BEFORE = tuple("第〔[［（(")
_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)")
_UNREAD_ROW = 2  # bare numbers on one line that make it look like a table row not read
_LINES_NAMED = 5


def coverage(doc: Document, claims: list[Claim], own: list[report_indicators.Named] = (),
             links: list[report_indicators.Link] = ()) -> Coverage:  # fmt: skip
    """What was read (tables by layout, figures, indicators linked), and what was not: what
    the reader could not read, tables cut off or uneven, and lines of prose holding numbers
    with no unit (a table flattened into text that was not read as one)."""
    # An indicator is stated where it is set, analysed and tabled: counted once — by name
    # when it is known by one (a 三级指标 of the report's form, or programme.yaml's that the
    # prose speaks of; a target the prose links to a name stands for that name wherever it
    # is stated again), else by what its target says (unit, bound, value) — and linked when
    # any statement of it finds its actual: the form's 实际完成值 or a prose figure.
    linked = {id(t) for t, _, _ in report_text.indicator_lines(claims)}
    linked |= {id(t) for t, _ in report_text.table_indicators(claims)}
    indicators: dict[tuple, bool] = {
        ("named", n.name): n.actual is not None and n.actual.figure is not None for n in own
    }
    for k in links:
        key = ("named", k.indicator.name)
        indicators[key] = indicators.get(key, False) or report_indicators.states_actual(k.claim)
    alias = {(k.claim.unit, k.claim.bound, k.claim.value): ("named", k.indicator.name)
             for k in links if k.claim.role == "target" and k.claim.bound in (">=", "<=")}  # fmt: skip
    form_tables = {t.index for t in doc.tables if t.form is not None} if own else set()
    for c in claims:
        if c.table in form_tables:
            continue  # the form's rows are counted by name above
        if c.role == "target" and c.value is not None and (
            c.bound in (">=", "<=") or c.table is not None and _indicator_column(c)
        ):
            key = alias.get((c.unit, c.bound, c.value), (c.unit, c.bound, c.value))
            indicators[key] = indicators.get(key, False) or id(c) in linked
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for c in claims:
        if c.table is None:
            spans[c.line].append((c.start, c.start + len(c.text)))
    bare = {}
    for p in doc.paragraphs:
        text, figures = fold(p.text), spans.get(p.line, [])
        if _bare_numbers(text, figures) < _UNREAD_ROW:
            continue  # most lines: no dates to look for
        dates = [(start, end) for start, end, _ in find_dates(text)]
        dates += [m.span() for m in _TIME.finditer(text)]
        if (found := _bare_numbers(text, figures + dates)) >= _UNREAD_ROW:
            bare[p.line] = found
    return Coverage(
        len(doc.tables),
        len(claims),
        len(indicators),
        sum(indicators.values()),
        tuple(Counter(t.layout for t in doc.tables).items()),
        sum(t.form is not None for t in doc.tables),
        tuple(doc.unread),
        tuple((t.title, t.index + 1, t.problem or report_tables.UNEVEN) for t in doc.tables
              if t.truncated),  # fmt: skip
        tuple(bare),
        sum(bare.values()),
    )


def _indicator_column(cell: Claim) -> bool:
    """A table cell under 年度指标值, 目标值 …: an indicator's target, not a budget (下达金额)
    or a weight (权重分). Its sentence is its path, title › row label › column header."""
    header = cell.sentence.rsplit(" › ", 1)[-1]
    return "指标" in header or "目标" in header


def _bare_numbers(text: str, figures: list[tuple[int, int]]) -> int:
    inside = sorted(figures)
    count = 0
    for m in _NUMBER.finditer(text):
        i = bisect.bisect_right(inside, (m.start(), len(text))) - 1
        if i >= 0 and inside[i][0] <= m.start() < inside[i][1]:
            continue
        after = text[m.end() : m.end() + 1]
        before = text[m.start() - 1 : m.start()]
        if after not in _NOT_A_VALUE_AFTER and before not in _NOT_A_VALUE_BEFORE:
            count += 1
    return count


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
            label=FIXED["zh"]["report:file"],
            params={"label_en": FIXED["en"]["report:file"], "observed_en": error.en.rstrip(".")},
        )
        return ReportAudit(None, [], [finding.masked(mask_text)])
