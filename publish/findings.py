"""Findings as auditors read them (working-paper order: problem, basis, evidence, amount,
suggestion), in JSON, Markdown and self-contained HTML."""

from __future__ import annotations

import html
import json

from checks.findings import Finding

SEVERITY_ZH = {"error": "错误", "warning": "警示", "info": "提示"}
HEAD = {
    "zh": ("序号", "严重程度", "问题", "依据", "证据", "涉及金额（元）", "整改建议"),
    "en": ("#", "severity", "problem", "basis", "evidence", "amount (yuan)", "suggestion"),
}


def as_json(findings: list[Finding], lang: str = "zh") -> str:
    return json.dumps([f.as_dict(lang) for f in findings], ensure_ascii=False, indent=2)


def _evidence(d: dict, lang: str) -> str:
    line = "第 {} 行" if lang == "zh" else "line {}"
    return "；".join(
        " ".join(
            x
            for x in (e["section"], line.format(e["line"]) if e["line"] else "", f"「{e['text']}」")
            if x
        )
        for e in d["evidence"]
    )


def table_rows(findings: list[Finding], lang: str) -> list[tuple[str, ...]]:
    rows = []
    for i, f in enumerate(findings, 1):
        d = f.as_dict(lang)
        severity = SEVERITY_ZH[d["severity"]] if lang == "zh" else d["severity"]
        rows.append((str(i), severity, d["message"], d["basis"], _evidence(d, lang),
                     d["amount_yuan"] or "", d["suggestion"]))  # fmt: skip
    return rows


def summary(findings: list[Finding], lang: str = "zh") -> str:
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITY_ZH}
    if lang == "zh":
        return "共 {} 条发现：错误 {}，警示 {}，提示 {}。".format(len(findings), *counts.values())
    return "{} findings: {} errors, {} warnings, {} info.".format(len(findings), *counts.values())


def as_markdown(findings: list[Finding], title: str, lang: str = "zh") -> str:
    cell = lambda t: t.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = [f"# {title}", "", summary(findings, lang), "", "| " + " | ".join(HEAD[lang]) + " |",
             "|" + "---|" * len(HEAD[lang])]  # fmt: skip
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in table_rows(findings, lang)]
    return "\n".join(lines) + "\n"


_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:.4em;vertical-align:top}
th{background:#f0f0f0}.error td:nth-child(2){color:#b00020;font-weight:bold}
.warning td:nth-child(2){color:#a05a00}.info td:nth-child(2){color:#555}"""


def as_html(findings: list[Finding], title: str, lang: str = "zh") -> str:
    """One file, no outside address: it opens on an intranet with no network."""
    esc = html.escape
    body = "".join(
        f'<tr class="{f.severity}">' + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
        for f, row in zip(findings, table_rows(findings, lang), strict=True)
    )
    head = "".join(f"<th>{esc(h)}</th>" for h in HEAD[lang])
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body><h1>{esc(title)}</h1>"
        f"<p>{esc(summary(findings, lang))}</p><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>\n"
    )
