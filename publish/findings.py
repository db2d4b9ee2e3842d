"""Findings as auditors read them (working-paper order: problem, basis, evidence, amount,
suggestion), in JSON, Markdown and self-contained HTML.

The pieces here (rows, evidence text, masking, Markdown escaping, the HTML table, the CSS)
are shared by the `check-report` CLI, the nightly programme report (publish/report.py,
publish/excel.py) and the feedback pages (publish/feedback.py).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import timedelta, timezone

from jixiao.checks.findings import Finding
from jixiao.ingest.personal import mask_text
from jixiao.ingest.reviews import DECISIONS_EN

SEVERITY_ZH = {"error": "错误", "warning": "警示", "info": "提示"}
HEAD = {
    "zh": ("序号", "严重程度", "问题", "依据", "证据", "涉及金额（元）", "整改建议"),
    "en": ("#", "severity", "problem", "basis", "evidence", "amount (yuan)", "suggestion"),
}
NEW = {"zh": "新增", "en": "new"}
REVIEW_HEAD = {"zh": "复核结论", "en": "review"}
# Beijing time: UTC+8 all year (no daylight saving), so a 02:00 run carries its own date.
BEIJING = timezone(timedelta(hours=8), "北京时间")


def _masked(value):
    """Every text of a finding masked by shape (personal.mask_text): whatever a check let
    through, a published file never shows an ID (SPEC §4)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


def public_review(review: Mapping | None) -> dict | None:
    """A decision on record (ingest.reviews.on_record) as published, its time in Beijing time."""
    if review is None:
        return None
    return {**review, "decided_at": review["decided_at"].astimezone(BEIJING).isoformat()}


def _public(f: Finding, lang: str) -> dict:
    """``f.as_dict(lang)`` masked, made once per finding and language (each of a report's
    files asks for it: a national year's 1,775 findings were a second of a night) and kept on
    the finding, which is immutable."""
    kept = f.__dict__.setdefault("_published", {})
    if lang not in kept:
        kept[lang] = _masked(f.as_dict(lang))
    return kept[lang]


def public_dict(f: Finding, lang: str = "zh", reviews: Mapping[str, Mapping] | None = None) -> dict:
    """Finding.as_dict (SPEC §3.1) as published: personal numbers masked, the amount a number
    (yuan to the fen: a double holds every such amount below 10¹³ exactly as written); with
    ``reviews`` (by fingerprint), the finding's ``review`` too (SPEC §3.2; null when none)."""
    d = dict(_public(f, lang))  # its own: the amount and the review are set on it
    if d["amount_yuan"] is not None:
        d["amount_yuan"] = float(d["amount_yuan"])
    if reviews is not None:
        d["review"] = public_review(reviews.get(f.fingerprint))
    return d


def as_json(findings: list[Finding], lang: str = "zh",
            reviews: Mapping[str, Mapping] | None = None) -> str:  # fmt: skip
    return json.dumps([public_dict(f, lang, reviews) for f in findings], ensure_ascii=False,
                      indent=2)  # fmt: skip


def review_text(review: Mapping | None, lang: str = "zh") -> str:
    """A decision as shown beside its finding: 不予采纳：reason（复核人 name，date）."""
    zh = lang == "zh"
    if review is None:
        return "未复核" if zh else "not reviewed"
    date = f"{review['decided_at'].astimezone(BEIJING):%Y-%m-%d}"
    if zh:
        said = "，".join(b for b in (f"复核人 {review['reviewer']}" if review["reviewer"] else "",
                                    date) if b)  # fmt: skip
        reason = f"：{review['reason']}" if review["reason"] else ""
        return f"{review['decision']}{reason}（{said}）"
    said = ", ".join(b for b in (f"reviewer {review['reviewer']}" if review["reviewer"] else "",
                                date) if b)  # fmt: skip
    reason = f": {review['reason']}" if review["reason"] else ""
    return f"{DECISIONS_EN.get(review['decision'], review['decision'])}{reason} ({said})"


def severity_label(severity: str, lang: str = "zh") -> str:
    return SEVERITY_ZH.get(severity, severity) if lang == "zh" else severity


def report_place(e: dict, lang: str = "zh") -> str:
    """Where in the report a piece of evidence (Evidence.as_dict) stands under its section,
    as its reader finds it: 表 2 第 3 行 in a Word table, 第 4 段 (标题 for the section's
    heading) in a .docx, 第 4 页 in a .pdf, else 第 12 行; "" for none."""
    zh = lang == "zh"
    if e.get("page"):
        return ("第 {} 页" if zh else "page {}").format(e["page"])
    if e.get("table_row"):
        return ("表 {} 第 {} 行" if zh else "table {} row {}").format(*e["table_row"])
    if e.get("paragraph") is not None:
        if not e["paragraph"]:
            return "标题" if zh else "heading"
        return ("第 {} 段" if zh else "paragraph {}").format(e["paragraph"])
    return ("第 {} 行" if zh else "line {}").format(e["line"]) if e.get("line") else ""


def evidence_text(d: dict, lang: str = "zh") -> str:
    """Each piece of evidence down to where it stands: file, sheet, row, and/or report
    section and place, then the words quoted."""
    zh = lang == "zh"
    row = "第 {} 行" if zh else "row {}"
    sheet = "工作表「{}」" if zh else "sheet '{}'"
    pieces = []
    for e in d["evidence"]:
        bits = (
            e.get("file") or "",
            sheet.format(e["sheet"]) if e.get("sheet") else "",
            row.format(e["row"]) if e.get("row") else "",
            e.get("section") or "",
            report_place(e, lang),
            f"「{e['text']}」" if e.get("text") else "",
        )
        pieces.append(" ".join(b for b in bits if b))
    return ("；" if zh else "; ").join(pieces)


def amount_text(amount: float | None, basis: str | None = None) -> str:
    """The 涉及金额, and on a line of its own how it is reached (Finding's ``amount_basis``)."""
    if amount is None:
        return ""
    return f"{amount:,.2f}" + (f"\n{basis}" if basis else "")


def table_rows(findings: list[Finding], lang: str, new: Collection[str] = (),
               reviews: Mapping[str, Mapping] | None = None) -> list[tuple[str, ...]]:  # fmt: skip
    """One row per finding in HEAD order; the severity cell says 新增 for a new fingerprint;
    with ``reviews``, a last cell gives the decision on record."""
    rows = []
    for i, f in enumerate(findings, 1):
        d = public_dict(f, lang)
        severity = severity_label(d["severity"], lang)
        if f.fingerprint in new:
            severity += f"（{NEW['zh']}）" if lang == "zh" else f" ({NEW['en']})"
        row = (str(i), severity, d["message"], d["basis"], evidence_text(d, lang),
               amount_text(d["amount_yuan"], d["amount_basis"]), d["suggestion"])  # fmt: skip
        review = ((mask_text(review_text(reviews.get(f.fingerprint), lang)),)
                  if reviews is not None else ())  # fmt: skip
        rows.append(row + review)
    return rows


def summary(findings: list[Finding], lang: str = "zh") -> str:
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITY_ZH}
    if lang == "zh":
        return "共 {} 条发现：错误 {}，警示 {}，提示 {}。".format(len(findings), *counts.values())
    return "{} findings: {} errors, {} warnings, {} info.".format(len(findings), *counts.values())


# What Markdown (CommonMark, and GFM as GitLab, Gitea and editors render it) would make live in
# a text that comes from an input: links and images ([ ]), raw HTML and autolinks (<),
# entities (&), table cells (|), and the escape character itself; each is backslash-escaped,
# which CommonMark renders as the character. So are ":" before "//", "." after "www" and "@",
# so that GFM's bare-URL and e-mail autolinks find nothing. Emphasis is left alone: it links
# nothing, and the pages stay readable as plain text (masks keep their asterisks).
_MARKDOWN = re.compile(r"[\\\[\]<|&]|:(?=//)|(?<=www)\.|@", re.IGNORECASE)


def md_text(text: str) -> str:
    """A text from an input, safe inside a Markdown line or table cell: shown as written,
    never a live link, image or piece of HTML."""
    out = _MARKDOWN.sub(lambda m: "\\" + m.group(), str(text))
    return re.sub(r"[\r\n\u2028\u2029]+", " ", out)


def md_table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(map(md_text, head)) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(map(md_text, row)) + " |" for row in rows]


def as_markdown(findings: list[Finding], title: str, lang: str = "zh", read: str = "") -> str:
    """``read``: what the findings rest on (a report check's coverage), beside their count."""
    lines = [f"# {md_text(title)}", "", summary(findings, lang), ""]
    lines += [md_text(read), ""] if read else []
    lines += md_table(HEAD[lang], table_rows(findings, lang))
    return "\n".join(lines) + "\n"


# System fonts only (the report opens on an intranet with no network): CJK faces first.
# text-spacing-trim: Chromium otherwise squeezes a 」 ending a line into half its width, and
# the glyph's full box then passes the cell and the printed page's margin.
FONTS = '"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif'
CSS = f"""body{{font-family:{FONTS};margin:2em;color:#222;line-height:1.5;text-spacing-trim:space-all}}
table{{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}}
th,td{{border:1px solid #bbb;padding:.4em;vertical-align:top}}th{{background:#f0f0f0}}
td.num{{text-align:right;white-space:nowrap}}
td.num .basis{{display:block;text-align:left;white-space:normal;font-size:.85em;color:#555}}
.error td:nth-child(2){{color:#b00020;font-weight:bold}}
.warning td:nth-child(2){{color:#a05a00}}.info td:nth-child(2){{color:#555}}
.new{{display:inline-block;margin-left:.3em;padding:0 .3em;border-radius:3px;background:#b00020;
color:#fff;font-size:.8em;font-weight:normal}}
tr.level1 td{{background:#f7f7f7;font-weight:bold}}tr.level0 td{{background:#e8eef7;font-weight:bold}}
.meta{{color:#555}}figure{{margin:1em 0}}figcaption{{font-weight:bold;margin-bottom:.3em}}
svg text{{font-size:12px}}
table.fixed{{table-layout:fixed}}table.fixed td,table.fixed th{{overflow-wrap:anywhere}}
table.fixed td.num{{white-space:normal}}
@page{{size:A4;margin:15mm 12mm}}
thead{{display:table-header-group}}h2{{break-after:avoid;page-break-after:avoid}}
@media print{{body{{margin:0;font-size:10pt}}h1{{font-size:15pt}}
tr{{break-inside:avoid;page-break-inside:avoid}}}}"""
# Of the findings table, 100% wide, in HEAD's order: Chinese text needs room, numbers little;
# basis and suggestion are sentences of their rule's own; REVIEW_WIDTHS with the review
# decision after the suggestion.
WIDTHS = (4, 7, 22, 19, 20, 9, 19)
REVIEW_WIDTHS = (4, 6, 19, 17, 18, 8, 16, 12)


def colgroup(widths: tuple[int, ...]) -> str:
    return "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>"


def findings_table(findings: list[Finding], lang: str = "zh", new: Collection[str] = (),
                   reviews: Mapping[str, Mapping] | None = None,
                   numbers: Sequence[int] | None = None) -> str:  # fmt: skip
    """The findings as an HTML table, every cell escaped; new fingerprints get a 新增 badge;
    with ``reviews``, a last column gives each decision on record; ``numbers``: each finding's
    number where they are some of a list (the report's printed copy), else 1, 2, …"""
    esc = html.escape
    body = []
    numbers = numbers or range(1, len(findings) + 1)
    rows = table_rows(findings, lang, (), reviews)
    for f, n, row in zip(findings, numbers, rows, strict=True):
        row = (str(n), *row[1:])
        cells = [f"<td>{esc(c)}</td>" for c in row]
        if f.fingerprint in new:
            cells[1] = f'<td>{esc(row[1])}<span class="new">{NEW[lang]}</span></td>'
        amount, _, basis = row[5].partition("\n")
        basis = f'<span class="basis">{esc(basis)}</span>' if basis else ""
        cells[5] = f'<td class="num">{esc(amount)}{basis}</td>'
        body.append(f'<tr class="{f.severity}">' + "".join(cells) + "</tr>")
    names = HEAD[lang] + ((REVIEW_HEAD[lang],) if reviews is not None else ())
    head = "".join(f"<th>{esc(h)}</th>" for h in names)
    widths = REVIEW_WIDTHS if reviews is not None else WIDTHS
    return (f'<table class="fixed">{colgroup(widths)}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def page(title: str, body: str, lang: str = "zh", css: str = "") -> str:
    """One file, no outside address: it opens on an intranet with no network. ``css`` adds to
    the shared style (a page's own print layout)."""
    style = "\n" + css if css else ""
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{html.escape(title)}</title><style>{CSS}{style}</style></head><body>{body}</body>"
        "</html>\n"
    )


def as_html(findings: list[Finding], title: str, lang: str = "zh", read: str = "") -> str:
    esc = html.escape
    body = f"<h1>{esc(title)}</h1><p>{esc(summary(findings, lang))}</p>"
    body += f'<p class="meta">{esc(read)}</p>' if read else ""
    return page(title, body + findings_table(findings, lang), lang)
