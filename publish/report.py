"""A programme's published report (SPEC §3): report.html, report.md, findings.json and
findings.xlsx in ``reports/<year>/<programme_code>/``, and report.pdf beside them where
Chromium prints it (publish/pdf.py).

A run writes its reports into a staging folder beside ``reports/`` and swaps each programme's
folder into place only once the warehouse they report on is published (``publish``): a reader
never sees the reports of an unpublished run, nor one run's page beside another's findings.

Sections follow the order auditors read: summary, charts, scorecard, findings (working-paper
order), findings resolved since the last run. The HTML is one self-contained file with charts
drawn here as inline SVG: no script, no web font, no outside address, so it opens on an
intranet with no network.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import html
import math
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from jixiao.checkpoints import checkpoint
from jixiao.checks.against_records import counted
from jixiao.checks.findings import Finding
from jixiao.checks.report_text import GRADES_EN
from jixiao.ingest.personal import mask_text
from jixiao.ingest.reviews import CONFIRMED, DECISIONS_EN, PENDING
from jixiao.publish import pdf
from jixiao.publish.excel import write_findings_xlsx
from jixiao.publish.files import under, write_atomic
from jixiao.publish.findings import (
    BEIJING,
    HEAD,
    REVIEW_HEAD,
    as_json,
    colgroup,
    findings_table,
    md_table,
    md_text,
    page,
    public_dict,
    severity_label,
    summary,
    table_rows,
)
from jixiao.said import Said


@dataclass
class Publication:
    programme_code: str
    programme_name: str
    year: int
    unit: str
    run_id: str
    generated_at: datetime
    findings: list[Finding]  # this run's, sorted by severity
    new: set[str] = field(default_factory=set)  # fingerprints new since the last run
    resolved: list[dict] = field(default_factory=list)  # findings (as dicts) gone since it
    scores: list[dict] = field(default_factory=list)  # rows shaped like the `scores` table
    # per indicator: id, name, unit, target, claimed (the report), recorded (the metric)
    indicators: list[dict] = field(default_factory=list)
    survey: dict[str, dict[str, int]] | None = None  # question -> answer -> count
    # what each county submitted of each sheet: the header (区县, sheet titles …), the rows
    coverage_head: tuple[str, ...] = ()
    coverage: list[tuple[str, ...]] = field(default_factory=list)
    # the files refused because their county cannot be told: (file, its page under unassigned/)
    unassigned: list[tuple[str, str]] = field(default_factory=list)
    # how accepted files were read where their layout asked for it: (county, file, note)
    notes: list[tuple[str, str, str]] = field(default_factory=list)
    report_read: str = ""  # what the check of the report rested on (ReportAudit.read_line)
    # the county files that stand refused: (county, file, its feedback page relative to here)
    refused: list[tuple[str, str, str]] = field(default_factory=list)
    # the auditors' decisions on record, by fingerprint (ingest.reviews.on_record), and the
    # findings they dismissed (不予采纳): listed apart, never among ``findings``
    reviews: dict[str, dict] = field(default_factory=dict)
    dismissed: list[Finding] = field(default_factory=list)
    lang: str = "zh"  # of every text the reports give (zh | en); data stay as they are

    @property
    def title(self) -> str:
        return (f"{self.programme_name}绩效评价审核报告" if self.lang == "zh"
                else f"Performance evaluation audit: {self.programme_name}")  # fmt: skip


# Every text the report gives a reader, in Chinese and English (``Publication.lang``).
H_SUMMARY = Said("一、总体情况", "1. Summary")
H_CHARTS = Said("二、指标完成情况与满意度", "2. Indicators and satisfaction")
H_SCORES = Said("三、评分表", "3. Scorecard")
H_FINDINGS = Said("四、审计发现", "4. Findings")
H_RESOLVED = Said("五、已整改问题", "5. Resolved since the last run")
H_COVERAGE = Said("六、报送覆盖情况", "6. Coverage of the submissions")
H_CONTENTS, H_SIGN = Said("目录", "Contents"), Said("编制与复核", "Preparation and review")
HEADINGS = (H_SUMMARY, H_CHARTS, H_SCORES, H_FINDINGS, H_RESOLVED, H_COVERAGE, H_SIGN)
LEVEL1_HEAD = Said(("一级指标", "权重", "重新计算得分", "自评得分", "差异"),
                   ("level-1 indicator", "weight", "recomputed score", "self-assessed", "difference"))  # fmt: skip
SCORE_HEAD = Said(("指标", "权重", "目标值", "实际值", "得分", "扣分", "说明", "自评得分"),
                  # short words: the columns are sized for two Chinese characters
                  ("indicator", "wt.", "target", "actual", "score", "lost", "explanation",
                   "self-assessed"))  # fmt: skip
SCORE_WIDTHS = (18, 6, 10, 10, 7, 6, 35, 8)
INDICATOR_HEAD = Said(("指标", "单位", "目标值", "报告所述", "记录实际", "记录占目标"),
                      ("indicator", "unit", "target", "report says", "records show",
                       "records / target"))  # fmt: skip
RESOLVED_HEAD = Said(("序号", "严重程度", "问题", "所涉对象", "指纹"),
                     ("#", "severity", "problem", "subject", "fingerprint"))
H_DISMISSED = Said("经复核不予采纳的发现", "Findings dismissed on review")
DISMISSED_HEAD = Said(("序号", "严重程度", "问题", "所涉对象", "不予采纳理由", "复核人", "复核时间", "来源"),
                      ("#", "severity", "problem", "subject", "reason", "reviewer", "decided at",
                       "source"))  # fmt: skip
UNASSIGNED_HEAD = Said(("文件", "说明页"), ("file", "page"))
REFUSED_HEAD = Said(("区县", "文件", "退回说明"), ("county", "file", "feedback"))
REFUSED_LINE = Said("以下报送文件被拒收、尚待区县补报，其数据未计入本次审核（退回说明逐行列明须更正之处）：",
                    "These files were refused and await the county's resubmission; their data are "
                    "not in this audit (the feedback lists, row by row, what to correct):")  # fmt: skip
NOTES_HEAD = Said(("区县", "文件", "读取说明"), ("county", "file", "how it was read"))
NOTES_LINE = Said("已接收文件中，以下内容按版式识别后未作为数据读入，或读入时需要留意（隐藏的行和工作表、"
                  "表尾、栏次行等）：",
                  "Of the accepted files, these parts were recognised by their layout and not read "
                  "as data, or were read with care (hidden rows and sheets, footers, column-number "
                  "rows):")  # fmt: skip
SERIES = (("target", Said("目标值", "target"), "#9e9e9e"),
          ("claimed", Said("报告所述", "report says"), "#3b78c2"),
          ("recorded", Said("记录实际", "records show"), "#e07b00"))  # fmt: skip
SIGN_OFF = Said(("编制人", "编制日期", "复核人", "复核日期"),
                ("prepared by", "date", "reviewed by", "date"))
NONE = Said("无。", "None.")
ACCEPTED, REFUSED = Said("已接收", "accepted"), Said("已拒收", "refused")


NEWER_REFUSED = Said("（新报送文件被拒收）", " (a newer file refused)")


def coverage_cell(lang: str, rows: int | None, refused: bool = False, absent: bool = False) -> str:
    """What one county submitted of one sheet: ``rows`` accepted (None: none accepted), a file
    of it ``refused``, or a workbook that left the sheet out (``absent``)."""
    zh = lang == "zh"
    if rows is not None:
        cell = (f"已接收 {rows} 行" if zh else f"accepted {rows} row{'s' if rows > 1 else ''}") if rows else (
            "已接收（无数据行）" if zh else "accepted (no data rows)")
        return cell + (NEWER_REFUSED(lang) if refused else "")
    if refused:
        return REFUSED(lang)
    if absent:
        return "未报送（工作簿中无此表）" if zh else "not submitted (sheet not in the workbook)"
    return "未报送" if zh else "not submitted"


# A4 and the table rules are the shared style's (publish.findings.CSS); here what only the
# working paper has: its contents, charts kept whole, the sign-off table.
PRINT_CSS = """figure,table.sign{break-inside:avoid;page-break-inside:avoid}.provisional{color:#a05a00}
h3{break-after:avoid;page-break-after:avoid}
nav.toc ol{margin:.3em 0 1em;padding-left:1em;list-style:none}
table.sign td{height:2.2em}table.sign td:nth-child(odd){width:12%;background:#f7f7f7}
@media print{nav.toc a{color:inherit;text-decoration:none}svg.chart{max-width:100%;max-height:105mm;width:auto;height:auto}}"""
# The printed copy (report.pdf) is bounded: at most this many findings of each rule, so every
# kind of problem is on paper, and, of more counties than PRINTED_COUNTIES, the coverage rows
# with a refused sheet. A national year printed whole was 871 pages (1,775 findings on 709,
# 2,844 counties on 158) and nine seconds of Chromium a night; what is left out is in the
# files its lines name, the findings bound to the signed copy by findings.json's hash.
PRINTED_PER_RULE = 20
PRINTED_COUNTIES = 60
UNPRINTED = Said(
    "打印稿每条规则至多列出前 {n} 条发现，其余 {left} 条未打印（{rules}）；全部 {total} 条见本报告网页版"
    "（report.html）及同目录的 findings.xlsx 与 findings.json（SHA-256：{sha}）。",
    "This printed copy lists at most the first {n} findings of each rule; the other {left} are "
    "not printed ({rules}); all {total} are in the report's web page (report.html) and, beside "
    "it, findings.xlsx and findings.json (SHA-256: {sha}).",
)
UNPRINTED_RULE = Said("{rule} 另 {left} 条", "{rule}: {left} more")
UNPRINTED_COUNTIES = Said(
    "打印稿只列出有报表被拒收的 {shown} 个区县；全部 {total} 个区县的报送情况见本报告网页版（report.html）。",
    "This printed copy lists only the {shown} counties with a sheet refused; all {total} "
    "counties' submissions are in the report's web page (report.html).",
)
NO_COUNTY_REFUSED = Said(
    "没有报表被拒收的区县，打印稿不列出各区县明细；全部 {total} 个区县的报送情况见本报告网页版（report.html）。",
    "No county has a sheet refused, so this printed copy lists no county; all {total} "
    "counties' submissions are in the report's web page (report.html).",
)
ANSWER_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#fc8d59", "E": "#d73027"}


def _num(value) -> str:
    """A figure as written in a report: no trailing zeros, at most two decimals."""
    if value is None or value == "":
        return "—"
    if isinstance(value, int | float | Decimal):
        return format(Decimal(str(value)).quantize(Decimal("0.01")).normalize(), "f")
    return str(value)


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except ArithmeticError:
        return None


# --- what both formats say ---------------------------------------------------------------


def _level(pub: Publication, level: int) -> list[dict]:
    return [s for s in pub.scores if s.get("level") == level]


def _grade(grade: str | None, lang: str) -> str:
    if not grade:
        return "—"
    return grade if lang == "zh" else GRADES_EN.get(grade, grade)


def summary_lines(pub: Publication) -> list[str]:
    zh, lines = pub.lang == "zh", []
    total = next(iter(_level(pub, 0)), None)
    if total is None:
        lines.append("本次未能重新计算总分。" if zh else "The total could not be recomputed.")
    else:
        score, claimed = _decimal(total.get("score")), _decimal(total.get("claimed_score"))
        grade = _grade(total.get("grade"), pub.lang)
        line = (f"重新计算总分 {_num(score)} 分，等级「{grade}」" if zh
                else f"Recomputed total {_num(score)}, graded {grade}")  # fmt: skip
        if claimed is None:
            lines.append(line + ("；报告未给出自评总分。" if zh else "; the report gives no self-assessed total."))
        else:
            if score is None or score == claimed:
                gap = (("无法比较" if zh else "they cannot be compared") if score is None
                       else "两者一致" if zh else "the two agree")  # fmt: skip
            elif zh:
                gap = f"重新计算{'低' if score < claimed else '高'}于自评 {_num(abs(score - claimed))} 分"
            else:
                gap = (f"the recomputed total is {_num(abs(score - claimed))} "
                       f"{'below' if score < claimed else 'above'} it")  # fmt: skip
            lines.append(line + (f"；报告自评 {_num(claimed)} 分，{gap}。" if zh
                                 else f"; the report's own score is {_num(claimed)}: {gap}."))  # fmt: skip
    lines.append(summary(pub.findings, pub.lang))
    if pub.reviews:
        lines.append(review_line(pub))
    if pub.coverage:
        lines.append(coverage_line(pub))
    new = sum(f.fingerprint in pub.new for f in pub.findings)
    lines.append(f"与上次运行相比：新增 {new} 条，已整改 {len(pub.resolved)} 条。" if zh
                 else f"Since the last run: {new} new, {len(pub.resolved)} resolved.")  # fmt: skip
    return lines


def review_line(pub: Publication) -> str:
    """Where the auditors' review stands (SPEC §3.2): dismissed findings are not counted above."""
    said = [pub.reviews.get(f.fingerprint, {}).get("decision") for f in pub.findings]
    kept = [d for d in (CONFIRMED, PENDING) if said.count(d)]
    if pub.lang == "zh":
        tally = "，".join(f"{d} {said.count(d)} 条" for d in kept)
        return (f"复核：{tally + '，' if tally else ''}未复核 {said.count(None)} 条；另有 "
                f"{len(pub.dismissed)} 条经复核不予采纳，不计入上述发现（见「{H_DISMISSED.zh}」）。")
    tally = ", ".join(f"{said.count(d)} {DECISIONS_EN[d]}" for d in kept)
    return (f"Review: {tally + ', ' if tally else ''}{said.count(None)} not reviewed; another "
            f"{len(pub.dismissed)} dismissed on review and not counted above (see "
            f"'{H_DISMISSED.en}').")  # fmt: skip


def dismissed_rows(pub: Publication) -> list[tuple[str, ...]]:
    """The dismissed findings, numbered on from the open ones as in findings.xlsx."""
    rows = []
    for i, f in enumerate(pub.dismissed, len(pub.findings) + 1):
        r, d = pub.reviews[f.fingerprint], public_dict(f, pub.lang)
        rows.append((str(i), severity_label(d["severity"], pub.lang), d["message"], d["subject"],
                     r["reason"], r["reviewer"], f"{r['decided_at'].astimezone(BEIJING):%Y-%m-%d %H:%M}",
                     r["source_file"]))  # fmt: skip
    return rows


def coverage_line(pub: Publication) -> str:
    """How much of what the counties owe the audit rests on (SPEC §3.2)."""
    cells = [c for row in pub.coverage for c in row[1:]]
    accepted = sum(c.startswith(ACCEPTED(pub.lang)) for c in cells)
    refused = sum(c == REFUSED(pub.lang) for c in cells)
    missing = len(cells) - accepted - refused
    if pub.lang == "zh":
        unassigned = f"，另有 {len(pub.unassigned)} 个文件无法识别所属区县" if pub.unassigned else ""
        return (f"报送覆盖：{len(pub.coverage)} 个区县 × {len(pub.coverage_head) - 1} 张表，"
                f"已接收 {accepted}，已拒收 {refused}，未报送 {missing}"
                f"{unassigned}（见「{H_COVERAGE.zh}」）。")  # fmt: skip
    unassigned = (f"; {len(pub.unassigned)} more file(s) whose county cannot be told"
                  if pub.unassigned else "")  # fmt: skip
    return (f"Coverage: {len(pub.coverage)} counties × {len(pub.coverage_head) - 1} sheets: "
            f"{accepted} accepted, {refused} refused, {missing} not submitted{unassigned} "
            f"(see '{H_COVERAGE.en}').")  # fmt: skip


def provisional_line(pub: Publication) -> str:
    """The indicators whose recorded figure rests on part of the counties (SPEC §3.2)."""
    zh = pub.lang == "zh"
    partial = [f"{i.get('name') or i.get('id')}（缺 {counted(tuple(i['missing']))}）" if zh
               else f"{i.get('name') or i.get('id')} (without {counted(tuple(i['missing']), lang='en')})"
               for i in pub.indicators if i.get("missing") and i.get("recorded") is not None]  # fmt: skip
    if not partial:
        return ""
    if zh:
        return ("以下指标的「记录实际」只含已接收的区县报送数据，尚缺区县（被拒收或未报送）补报前仅供参考，"
                "不作为确认报告数据的依据：" + "；".join(partial) + "。")
    return ("These indicators' recorded figures hold only the accepted counties' data; until the "
            "missing counties (refused or not submitted) resubmit they are provisional and do not "
            "confirm the report: " + "; ".join(partial) + ".")


def unassigned_line(pub: Publication) -> str:
    """The files no county's coverage counts, for the operator to hand to their counties."""
    if pub.lang == "zh":
        return (f"{len(pub.unassigned)} 个报送文件无法识别所属区县，未计入各区县的报送覆盖：请核实其所属区县，"
                "以区县代码命名放入 counties 文件夹（说明页在数据仓库所在目录的 unassigned/ 下）。")
    return (f"{len(pub.unassigned)} submitted file(s) whose county cannot be told, counted in no "
            "county's coverage: find out whose each is and save it under counties/ named by the "
            "county's code (the pages are under unassigned/ beside the warehouse).")


def index_number(pub: Publication) -> str:
    """The working paper's 索引号: the programme and year it audits (the run is beside it)."""
    return f"JX-{pub.programme_code}-{pub.year}"


def _meta(pub: Publication) -> list[str]:
    shown = pub.generated_at.astimezone(BEIJING)
    if pub.lang == "zh":
        return [
            f"项目单位：{pub.unit}",
            f"项目代码：{pub.programme_code}　年度：{pub.year}　索引号：{index_number(pub)}",
            f"运行编号：{pub.run_id}　生成时间：{shown:%Y-%m-%d %H:%M}（北京时间，UTC+8）",
        ]
    return [
        f"Unit: {pub.unit}",
        f"Programme: {pub.programme_code}　Year: {pub.year}　Index no.: {index_number(pub)}",
        f"Run: {pub.run_id}　Generated: {shown:%Y-%m-%d %H:%M} (Beijing time, UTC+8)",
    ]


def _sections(pub: Publication) -> list[Said]:
    return [H_SUMMARY, H_CHARTS, H_SCORES, H_FINDINGS, H_RESOLVED,
            *([H_COVERAGE] if pub.coverage else []), H_SIGN]  # fmt: skip


def level1_rows(pub: Publication) -> list[tuple[str, ...]]:
    rows = []
    for s in _level(pub, 1):
        score, claimed = _decimal(s.get("score")), _decimal(s.get("claimed_score"))
        gap = _num(score - claimed) if score is not None and claimed is not None else "—"
        rows.append((s.get("name") or s.get("level1") or "", _num(s.get("weight")),
                     _num(score), _num(claimed), gap))  # fmt: skip
    return rows


def scorecard_rows(pub: Publication) -> list[tuple[int, tuple[str, ...]]]:
    """Indicators under their level-1 heading, each group closed by its subtotal, then the
    total; (level, cells) so the HTML can style the subtotal rows."""
    zh = pub.lang == "zh"

    def cells(s: dict) -> tuple[str, ...]:
        explanation = s.get("explanation") or ""  # in the run's language (scoring)
        if s.get("level") == 0 and s.get("grade"):
            grade = _grade(s["grade"], pub.lang)
            explanation = (f"等级：{grade}" if zh else f"grade: {grade}") + (
                ("；" if zh else "; ") + explanation if explanation else "")
        return (s.get("name") or s.get("indicator_id") or "", _num(s.get("weight")),
                _num(s.get("target")), _num(s.get("actual")), _num(s.get("score")),
                _num(s.get("deduction")), explanation, _num(s.get("claimed_score")))  # fmt: skip

    groups = list(dict.fromkeys(s.get("level1") or "" for s in _level(pub, 3)))
    subtotal = {s.get("level1") or s.get("name") or "": s for s in _level(pub, 1)}
    groups += [g for g in subtotal if g not in groups]
    rows = []
    for g in groups:
        rows += [(3, cells(s)) for s in _level(pub, 3) if (s.get("level1") or "") == g]
        if g in subtotal:
            rows.append((1, cells(subtotal[g])))
    return rows + [(0, cells(s)) for s in _level(pub, 0)]


def _ratio(value, target) -> Decimal | None:
    value, target = _decimal(value), _decimal(target)
    if value is None or not target:  # no target, or 0: no 100% mark to measure against
        return None
    return value / target * 100


def indicator_rows(pub: Publication) -> list[tuple[str, ...]]:
    rows = []
    for i in pub.indicators:
        ratio = _ratio(i.get("recorded"), i.get("target"))
        rows.append((i.get("name") or i.get("id") or "", i.get("unit") or "",
                     _num(i.get("target")), _num(i.get("claimed")), _num(i.get("recorded")),
                     f"{ratio:.1f}%" if ratio is not None else "—"))  # fmt: skip
    return rows


def _letters(survey: dict[str, dict[str, int]]) -> list[str]:
    return sorted({a for answers in survey.values() for a in answers})


def survey_rows(survey: dict[str, dict[str, int]], lang: str = "zh") -> tuple[tuple[str, ...], list[tuple]]:
    letters = _letters(survey)
    head = ("题目", *letters, "合计") if lang == "zh" else ("question", *letters, "total")
    rows = [(q, *(str(a.get(x, 0)) for x in letters), str(sum(a.values())))
            for q, a in survey.items()]  # fmt: skip
    return head, rows


def resolved_rows(pub: Publication) -> list[tuple[str, ...]]:
    return [(str(i), severity_label(d.get("severity") or "", pub.lang),
             mask_text(d.get("message") or ""), mask_text(d.get("subject") or ""),
             d.get("fingerprint") or "") for i, d in enumerate(pub.resolved, 1)]  # fmt: skip


# --- charts: inline SVG, drawn here --------------------------------------------------------

_LABEL_W, _PLOT_W, _TEXT_W = 230, 440, 170  # name column, bars, value labels


def _short(name: str, n: int = 16) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def _svg(width: int, height: int, label: str, parts: list[str]) -> str:
    # No xmlns: inline SVG in HTML needs none, and the file must hold no outside address.
    return (f'<svg class="chart" role="img" aria-label="{html.escape(label)}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}"><title>{html.escape(label)}</title>'
            + "".join(parts) + "</svg>")  # fmt: skip


def _legend(items: list[tuple[str, str]], y: int = 14) -> list[str]:
    parts, x = [], _LABEL_W
    for name, colour in items:
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="{y}">{html.escape(name)}</text>')  # fmt: skip
        x += 28 + 13 * len(name)
    return parts


def indicator_chart(indicators: list[dict], lang: str = "zh") -> str:
    """Grouped bars of target, claimed and recorded per indicator, each as % of its target so
    that 场, 户 and % share one axis; the labels give the actual values."""
    rows = [i for i in indicators if _decimal(i.get("target"))]  # no target: no 100% mark
    if not rows:
        return ""
    ratios = [_ratio(i.get(k), i["target"]) for i in rows for k in ("claimed", "recorded")]
    top = max([Decimal(100), *(r for r in ratios if r is not None)])
    # Round the axis up to a tick; cap it so one outlier does not flatten the rest.
    top = min(int(math.ceil(top / 25) * 25), 300)
    step = 25 if top <= 150 else 50
    bar, gap, head, foot = 13, 16, 30, 34
    group = len(SERIES) * (bar + 2) + gap
    height = head + group * len(rows) + foot
    bottom = height - foot + 4
    width = _LABEL_W + _PLOT_W + _TEXT_W

    def x(pct: Decimal) -> float:
        return _LABEL_W + _PLOT_W * float(min(max(pct, Decimal(0)), Decimal(top))) / top

    zh = lang == "zh"
    parts = _legend([(name(lang), colour) for _, name, colour in SERIES])
    for t in range(0, top + 1, step):
        colour, dash = ("#555", ' stroke-dasharray="4 3"') if t == 100 else ("#ddd", "")
        parts.append(f'<line x1="{x(Decimal(t)):.1f}" y1="{head - 4}" x2="{x(Decimal(t)):.1f}" '
                     f'y2="{bottom}" stroke="{colour}"{dash}/>'
                     f'<text x="{x(Decimal(t)):.1f}" y="{bottom + 14}" text-anchor="middle">'
                     f"{t}%</text>")  # fmt: skip
    parts.append(f'<text x="{_LABEL_W + _PLOT_W / 2}" y="{bottom + 28}" text-anchor="middle">'
                 + ("占目标值的百分比（标签为实际数值）" if zh
                    else "% of the target (labels give the values)") + "</text>")  # fmt: skip
    for n, i in enumerate(rows):
        y0 = head + n * group
        name, unit = i.get("name") or i.get("id") or "", i.get("unit") or ""
        parts.append(f'<text x="{_LABEL_W - 8}" y="{y0 + group / 2 - 2:.1f}" text-anchor="end">'
                     f"<title>{html.escape(name)}</title>{html.escape(_short(name))}</text>")  # fmt: skip
        for k, (key, series, colour) in enumerate(SERIES):
            y = y0 + k * (bar + 2)
            value = i.get(key)
            pct, series, colon = _ratio(value, i["target"]), series(lang), "：" if zh else ": "
            if pct is None:
                missing = (("报告未述及" if zh else "not stated") if key == "claimed"
                           else "无记录" if zh else "no records")  # fmt: skip
                parts.append(f'<text x="{_LABEL_W + 4}" y="{y + bar - 2}" fill="#888">'
                             f"{series}{colon}{missing}</text>")  # fmt: skip
                continue
            label = f"{_num(value)}{unit}" + ("" if key == "target" else
                                              f"（{pct:.1f}%）" if zh else f" ({pct:.1f}%)")
            parts.append(
                f'<rect class="bar bar-{key}" x="{_LABEL_W}" y="{y}" width="{x(pct) - _LABEL_W:.1f}" '
                f'height="{bar}" fill="{colour}"><title>{html.escape(f"{name} {series}{colon}{label}")}'
                f'</title></rect><text x="{x(pct) + 4:.1f}" y="{y + bar - 2}">'
                f"{html.escape(label)}{' ›' if pct > top else ''}</text>"
            )
    return _svg(width, height, "指标目标值、报告所述与记录实际对比" if zh
                else "Indicators: target, what the report says and what the records show", parts)


def survey_chart(survey: dict[str, dict[str, int]], lang: str = "zh") -> str:
    """One stacked bar per question, answers as shares of that question's respondents."""
    letters, zh = _letters(survey), lang == "zh"
    bar, gap, head = 18, 10, 30
    height = head + (bar + gap) * len(survey) + 10
    width = _LABEL_W + _PLOT_W + 80
    parts = _legend([(a, ANSWER_COLOURS.get(a, "#bbbbbb")) for a in letters])
    for n, (question, answers) in enumerate(survey.items()):
        y = head + n * (bar + gap)
        total = sum(answers.values())
        parts.append(f'<text x="{_LABEL_W - 8}" y="{y + bar - 4}" text-anchor="end">'
                     f"{html.escape(_short(question))}</text>")  # fmt: skip
        x = float(_LABEL_W)
        for a in letters:
            count = answers.get(a, 0)
            if not total or not count:
                continue
            w = _PLOT_W * count / total
            tip = (f"{question} {a}：{count} 人（{100 * count / total:.2f}%）" if zh
                   else f"{question} {a}: {count} ({100 * count / total:.2f}%)")
            parts.append(f'<rect class="bar bar-{html.escape(a)}" x="{x:.1f}" y="{y}" width="{w:.1f}" '
                         f'height="{bar}" fill="{ANSWER_COLOURS.get(a, "#bbbbbb")}">'
                         f"<title>{html.escape(tip)}</title></rect>")  # fmt: skip
            if w >= 22:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + bar - 4}" text-anchor="middle">'
                             f"{count}</text>")  # fmt: skip
            x += w
        parts.append(f'<text x="{_LABEL_W + _PLOT_W + 6}" y="{y + bar - 4}">'
                     f"{('无回答' if zh else 'no answers') if not total else f'共 {total} 人' if zh else f'{total} in all'}"
                     "</text>")  # fmt: skip
    return _svg(width, height, "满意度调查各题答案分布" if zh
                else "Satisfaction survey: answers to each question", parts)


# --- renderers ----------------------------------------------------------------------------


def _html_table(head, rows, classes=None, numeric=(), widths=()) -> str:
    """``widths``: each column's share of the page in %, laid out fixed (else the browser's)."""
    esc = html.escape
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = []
    for n, row in enumerate(rows):
        cls = f' class="{classes[n]}"' if classes else ""
        tds = "".join(
            f'<td class="num">{esc(c)}</td>' if k in numeric else f"<td>{esc(c)}</td>"
            for k, c in enumerate(row)
        )
        body.append(f"<tr{cls}>{tds}</tr>")
    fixed = f' class="fixed">{colgroup(widths)}' if widths else ">"
    return f"<table{fixed}<thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _anchor(title: Said) -> str:
    return f"s{HEADINGS.index(title) + 1}"


def printed_copy(pub: Publication, folder: Path) -> str:
    """The report as report.pdf prints it, after `write_reports` wrote ``folder``."""
    return render_html(pub, hashlib.sha256((folder / "findings.json").read_bytes()).hexdigest())


def _printed(findings: list[Finding]) -> tuple[list[int], list[Finding], dict[str, int]]:
    """What the printed copy lists of the findings: each rule's first PRINTED_PER_RULE, with
    their numbers on screen; and how many of each rule it leaves out."""
    seen, numbers, shown = Counter(), [], []
    for n, f in enumerate(findings, 1):
        seen[f.rule_id] += 1
        if seen[f.rule_id] <= PRINTED_PER_RULE:
            numbers.append(n)
            shown.append(f)
    return numbers, shown, {r: n - PRINTED_PER_RULE for r, n in seen.items() if n > PRINTED_PER_RULE}


def _unprinted(pub: Publication, left: dict[str, int], listed: str) -> str:
    """The line saying what the printed copy leaves out of the findings (``left``, by rule) and
    where it is."""
    rules = ("；" if pub.lang == "zh" else "; ").join(
        UNPRINTED_RULE(pub.lang).format(rule=rule, left=f"{n:,}") for rule, n in left.items()
    )
    return UNPRINTED(pub.lang).format(n=PRINTED_PER_RULE, left=f"{sum(left.values()):,}", rules=rules,
                                      total=f"{len(pub.findings):,}", sha=listed)  # fmt: skip


def _h2(title: Said, lang: str) -> str:
    return f'<h2 id="{_anchor(title)}">{html.escape(title(lang))}</h2>'


def render_html(pub: Publication, listed: str | None = None) -> str:
    """The report's web page; with ``listed`` (the SHA-256 of the findings.json beside it),
    its printed copy, which report.pdf is: bounded (PRINTED_PER_RULE, PRINTED_COUNTIES), and
    saying what it leaves out and where that is."""
    esc, lang = html.escape, pub.lang
    printed = listed is not None
    zh = lang == "zh"
    out = [f"<h1>{esc(pub.title)}</h1>"]
    out += [f'<p class="meta">{esc(m)}</p>' for m in _meta(pub)]
    out.append(f'<nav class="toc"><b>{H_CONTENTS(lang)}</b><ol>'
               + "".join(f'<li><a href="#{_anchor(t)}">{esc(t(lang))}</a></li>' for t in _sections(pub))
               + "</ol></nav>")  # fmt: skip
    out.append(_h2(H_SUMMARY, lang))
    out += [f"<p>{esc(line)}</p>" for line in summary_lines(pub)]
    if level1_rows(pub):
        out.append(_html_table(LEVEL1_HEAD(lang), level1_rows(pub), numeric=(1, 2, 3, 4)))
    out.append(_h2(H_CHARTS, lang))
    # The caveat before the chart it qualifies: printed, it also fills the first page, where
    # the chart, kept whole, seldom fits.
    out += [f'<p class="provisional">{esc(line)}</p>'] if (line := provisional_line(pub)) else []
    chart = indicator_chart(pub.indicators, lang)
    caption = ("图1　指标目标值、报告所述与记录实际" if zh
               else "Figure 1. Indicators: target, report and records")  # fmt: skip
    out.append(f"<figure><figcaption>{caption}</figcaption>{chart}</figure>" if chart
               else f"<p>{'无可对比的量化指标。' if zh else 'No quantified indicator to compare.'}</p>")  # fmt: skip
    caption = "图2　满意度调查答案分布" if zh else "Figure 2. Satisfaction survey answers"
    out.append(f"<figure><figcaption>{caption}</figcaption>{survey_chart(pub.survey, lang)}</figure>"
               if pub.survey else f"<p>{'无满意度调查记录。' if zh else 'No survey records.'}</p>")  # fmt: skip
    out.append(_h2(H_SCORES, lang))
    rows = scorecard_rows(pub)
    out.append(_html_table(SCORE_HEAD(lang), [r for _, r in rows], [f"level{lv}" for lv, _ in rows],
                           numeric=(1, 4, 5, 7), widths=SCORE_WIDTHS)
               if rows else f"<p>{'无评分结果。' if zh else 'No scores.'}</p>")  # fmt: skip
    out.append(_h2(H_FINDINGS, lang) + f"<p>{esc(summary(pub.findings, lang))}</p>")
    out += [f'<p class="meta">{esc(pub.report_read)}</p>'] if pub.report_read else []
    if printed:
        numbers, shown, left = _printed(pub.findings)
        out.append(findings_table(shown, lang, pub.new, pub.reviews, numbers))
        out += [f'<p class="meta">{esc(_unprinted(pub, left, listed))}</p>'] if left else []
    else:
        out.append(findings_table(pub.findings, lang, pub.new, pub.reviews))
    out.append(f"<h3>{H_DISMISSED(lang)}</h3>")
    out.append(_html_table(DISMISSED_HEAD(lang), dismissed_rows(pub)) if pub.dismissed
               else f"<p>{NONE(lang)}</p>")  # fmt: skip
    out.append(_h2(H_RESOLVED, lang))
    out.append(_html_table(RESOLVED_HEAD(lang), resolved_rows(pub)) if pub.resolved
               else f"<p>{NONE(lang)}</p>")  # fmt: skip
    if pub.coverage:
        out += [_h2(H_COVERAGE, lang), f"<p>{esc(coverage_line(pub))}</p>"]
        rows = pub.coverage
        if printed and len(rows) > PRINTED_COUNTIES:
            rows = [r for r in rows
                    if any(c == REFUSED(lang) or c.endswith(NEWER_REFUSED(lang)) for c in r[1:])]
            line = UNPRINTED_COUNTIES if rows else NO_COUNTY_REFUSED
            line = line(lang).format(shown=len(rows), total=len(pub.coverage))
            out.append(f'<p class="meta">{esc(line)}</p>')
        out += [_html_table(pub.coverage_head, rows)] if rows else []
        if pub.refused:
            rows = "".join(f"<tr><td>{esc(c)}</td><td>{esc(f)}</td><td><a href=\"{esc(quote(p))}\">"
                           f"{esc(p.rsplit('/', 1)[-1])}</a></td></tr>" for c, f, p in pub.refused)
            out += [f"<p>{esc(REFUSED_LINE(lang))}</p>", "<table><thead><tr>"
                    + "".join(f"<th>{h}</th>" for h in REFUSED_HEAD(lang))
                    + f"</tr></thead><tbody>{rows}</tbody></table>"]  # fmt: skip
        if pub.unassigned:
            out += [f"<p>{esc(unassigned_line(pub))}</p>",
                    _html_table(UNASSIGNED_HEAD(lang), pub.unassigned)]  # fmt: skip
        if pub.notes:
            out += [f"<p>{esc(NOTES_LINE(lang))}</p>", _html_table(NOTES_HEAD(lang), pub.notes)]
    out += [_h2(H_SIGN, lang), f"<p>{esc(sign_line(pub))}</p>", _sign_table(lang)]
    return page(pub.title, "\n".join(out), lang, css=PRINT_CSS)


def sign_line(pub: Publication) -> str:
    if pub.lang == "zh":
        return (f"本底稿（索引号 {index_number(pub)}）由 jixiao 按上列运行编号的数据生成，"
                "经编制人、复核人签字后生效。")
    return (f"This working paper (index no. {index_number(pub)}) was generated by jixiao from "
            "the data of the run named above; it takes effect once signed by its preparer and "
            "its reviewer.")


def _sign_table(lang: str) -> str:
    names = SIGN_OFF(lang)
    cells = "".join(f"<td>{name}</td><td></td>" for name in names[:2])
    review = "".join(f"<td>{name}</td><td></td>" for name in names[2:])
    return f'<table class="sign"><tr>{cells}</tr><tr>{review}</tr></table>'


def render_markdown(pub: Publication) -> str:
    """The HTML's content without the charts (their figures are given as tables); every text
    escaped for Markdown (md_text), as the HTML escapes it for HTML."""
    lang = pub.lang
    out = [f"# {md_text(pub.title)}", "", *(f"- {md_text(m)}" for m in _meta(pub)), "",
           f"## {H_SUMMARY(lang)}", ""]  # fmt: skip
    for line in summary_lines(pub):
        out += [md_text(line), ""]
    if level1_rows(pub):
        out += [*md_table(LEVEL1_HEAD(lang), level1_rows(pub)), ""]
    out += [f"## {H_CHARTS(lang)}", ""]
    out += [md_text(line), ""] if (line := provisional_line(pub)) else []
    out += [*md_table(INDICATOR_HEAD(lang), indicator_rows(pub)), ""] if pub.indicators else []
    if pub.survey:
        out += [*md_table(*survey_rows(pub.survey, lang)), ""]
    out += [f"## {H_SCORES(lang)}", "",
            *md_table(SCORE_HEAD(lang), [r for _, r in scorecard_rows(pub)]), ""]  # fmt: skip
    out += [f"## {H_FINDINGS(lang)}", "", summary(pub.findings, lang), ""]
    out += [md_text(pub.report_read), ""] if pub.report_read else []
    out += [*md_table((*HEAD[lang], REVIEW_HEAD[lang]),
                      table_rows(pub.findings, lang, pub.new, pub.reviews)), ""]  # fmt: skip
    out += [f"### {H_DISMISSED(lang)}", ""]
    out += ([*md_table(DISMISSED_HEAD(lang), dismissed_rows(pub)), ""] if pub.dismissed
            else [NONE(lang), ""])  # fmt: skip
    out += [f"## {H_RESOLVED(lang)}", ""]
    out += md_table(RESOLVED_HEAD(lang), resolved_rows(pub)) if pub.resolved else [NONE(lang)]
    if pub.coverage:
        out += ["", f"## {H_COVERAGE(lang)}", "", md_text(coverage_line(pub)), "",
                *md_table(pub.coverage_head, pub.coverage)]  # fmt: skip
        if pub.refused:
            out += ["", md_text(REFUSED_LINE(lang)), "", *md_table(REFUSED_HEAD(lang), pub.refused)]
        if pub.unassigned:
            out += ["", md_text(unassigned_line(pub)), "",
                    *md_table(UNASSIGNED_HEAD(lang), pub.unassigned)]  # fmt: skip
        if pub.notes:
            out += ["", md_text(NOTES_LINE(lang)), "", *md_table(NOTES_HEAD(lang), pub.notes)]
    out += ["", f"## {H_SIGN(lang)}", "", md_text(sign_line(pub)), "",
            *md_table(SIGN_OFF(lang), [("",) * len(SIGN_OFF(lang))])]  # fmt: skip
    return "\n".join(out) + "\n"


def write_reports(pub: Publication, folder: Path) -> list[Path]:
    """The four files, each replaced whole: a reader never opens half a report."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "report.html": render_html(pub),
        "report.md": render_markdown(pub),
        "findings.json": as_json(pub.findings + pub.dismissed, pub.lang, pub.reviews) + "\n",
    }
    for name, text in texts.items():
        write_atomic(folder / name, text)
        checkpoint("report.text_written")
    target, tmp = folder / "findings.xlsx", folder / "findings.xlsx.tmp"
    try:
        write_findings_xlsx(pub.findings + pub.dismissed, tmp, pub.new, pub.reviews, pub.lang)
        checkpoint("report.xlsx_tmp_written")
        os.replace(tmp, target)
        checkpoint("report.xlsx_written")
    finally:
        tmp.unlink(missing_ok=True)
    return [folder / name for name in texts] + [target]


# --- staging and publishing ---------------------------------------------------------------


def staging_root(out_dir: Path) -> Path:
    """Where a run writes its reports until its warehouse is published: beside ``out_dir``
    (same filesystem, so the swap is a rename) and outside what readers browse."""
    return out_dir.with_name(out_dir.name + ".staging")


def staged_folder(out_dir: Path, year: int, programme_code: str) -> Path:
    return under(staging_root(out_dir), str(year), programme_code)


def begin(out_dir: Path) -> None:
    """Discard what a crashed run staged, as warehouse.begin discards its staging file: only
    reports of a published run may ever be swapped in."""
    staging = staging_root(out_dir)
    pdf.forget(staging)
    if staging.exists():
        shutil.rmtree(staging)


def publish(out_dir: Path) -> list[Path]:
    """Swap every staged programme folder into ``out_dir``, each in one step; call right after
    the warehouse is published. Returns the published folders."""
    staging = staging_root(out_dir)
    published = []
    for staged in sorted(staging.glob("*/*")):
        target = out_dir / staged.relative_to(staging)
        _swap(staged, target)
        checkpoint("report.swapped")
        shutil.rmtree(staged, ignore_errors=True)  # the previous run's reports, if any
        _fsync_dir(target.parent)
        published.append(target)
    if staging.exists():  # not when every programme was skipped before writing a report
        shutil.rmtree(staging)
    return published


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2  # <fcntl.h>, <linux/fs.h>


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux renameat2 RENAME_EXCHANGE); False where the
    system or filesystem cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _swap(staged: Path, target: Path) -> None:
    """Put ``staged`` at ``target``; the previous ``target``, if any, ends at ``staged``."""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staged, target)
    elif not _exchange(staged, target):
        # Two renames: for an instant (or, killed in between, until the next run) the folder
        # is absent, which still shows no reader a mix of two runs.
        aside = staged.with_name(staged.name + ".previous")
        os.rename(target, aside)
        os.rename(staged, target)
        os.rename(aside, staged)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
