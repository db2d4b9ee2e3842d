"""findings.xlsx: one sheet per severity, in working-paper order, safe to open in Excel.

Formula injection (SPEC §4, OWASP "CSV Injection"): the texts come partly from what counties
typed, so a cell beginning with = + - @ (or tab / carriage return) could run as a formula
once someone re-enters the cell, pastes it elsewhere or saves the sheet as CSV. Every text is
written with ``write_string`` (never ``write`` or ``write_formula``) and such a text gets a
leading apostrophe. A real character, not Excel's quote-prefix attribute: the attribute is
lost on export to CSV and on copy-paste, the character is not, and auditors see plainly that
the value was neutralised.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path

import xlsxwriter

from jixiao.checks.findings import Finding
from jixiao.ingest.reviews import (
    COLUMNS_EN,
    DECISIONS,
    DECISIONS_EN,
    DISMISSED,
    FINGERPRINT,
    REVIEW_COLUMNS,
)
from jixiao.publish.findings import (
    HEAD,
    NEW,
    evidence_text,
    public_dict,
    report_place,
    severity_label,
)
from jixiao.said import Said

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Beside 涉及金额: how it is reached (Finding's amount_basis).
AMOUNT_BASIS = Said("金额计算", "how the amount is reached")

# Working-paper order (HEAD without severity: the sheet is the severity), then what an
# auditor filters on or follows from night to night, then the review an auditor fills in
# and returns into reviews/ (SPEC §3.2, read by ingest.reviews).
# The review columns keep the names SPEC §3.2 gives them in Chinese, COLUMNS_EN in English
# (ingest.reviews reads either); the decisions are the SPEC's in both, glossed in English.
COLUMNS = Said((*HEAD["zh"][:1], *HEAD["zh"][2:6], AMOUNT_BASIS.zh, *HEAD["zh"][6:], "本次新增",
                "规则编号", "所涉对象", FINGERPRINT, *REVIEW_COLUMNS),
               (*HEAD["en"][:1], *HEAD["en"][2:6], AMOUNT_BASIS.en, *HEAD["en"][6:],
                "new this run", "rule", "subject",
                *(COLUMNS_EN[c] for c in (FINGERPRINT, *REVIEW_COLUMNS))))  # fmt: skip
WIDTHS = (6, 40, 30, 44, 12, 30, 30, 8, 28, 28, 18, 12, 36, 10)  # in characters of the default font
REVIEW_AT = COLUMNS.zh.index(REVIEW_COLUMNS[0])
# Findings dismissed on review: apart from the severity sheets, still open to a new decision.
DISMISSED_SHEET = Said("经复核不予采纳", "dismissed on review")
GLOSS = Said(f"请从下拉列表中选择：{' / '.join(DECISIONS)}",
             "Choose from the list: " + ", ".join(f"{d} = {DECISIONS_EN[d]}" for d in DECISIONS))
FILL_ROWS = 1000  # how far down the decision's drop-down list reaches
# One row per piece of evidence, so that an auditor can filter by county, file or row.
EVIDENCE_SHEET = Said("证据明细", "evidence")
EVIDENCE_COLUMNS = Said(("序号", "严重程度", "规则编号", "区县代码", "区县", "文件", "工作表", "行",
                         "报告章节", "报告位置", "证据内容"),
                        ("#", "severity", "rule", "county code", "county", "file", "sheet", "row",
                         "report section", "place in the report", "evidence"))  # fmt: skip
EVIDENCE_WIDTHS = (6, 8, 26, 10, 10, 30, 14, 6, 26, 8, 60)
EVIDENCE_KEYS = ("county_code", "county", "file", "sheet", "row", "section", "line", "text")
# Rule id, subject and fingerprint are for filters and the review's round trip, not for the
# printed paper: grouped and folded (the outline's + above the sheet shows them), so the
# working paper's columns and the review columns print on one page width.
FOLDED = tuple(COLUMNS.zh.index(c) for c in ("规则编号", "所涉对象", FINGERPRINT))
LINE_PT, MAX_PT = 15, 409  # a wrapped line's height; Excel's highest row


_WIDE = re.compile("[\u2e80-\U0010ffff]")  # characters that take two columns


def _lines(text: str, width: int) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide: a Chinese
    character takes two, and each line break starts a line."""
    return sum(max(1, -(-(len(part) + len(_WIDE.findall(part))) // (width - 2)))
               for part in text.split("\n"))  # fmt: skip


def excel_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def write_findings_xlsx(findings: list[Finding], path: Path, new: Collection[str] = (),
                        reviews: Mapping[str, Mapping] | None = None, lang: str = "zh") -> Path:  # fmt: skip
    """Write the workbook to ``path`` (callers wanting atomicity pass a temporary path); each
    finding's review columns are prefilled with the decision on record in ``reviews`` (by
    fingerprint), and a dismissed finding goes to its own sheet."""
    reviews, columns, evidence_columns = reviews or {}, COLUMNS(lang), EVIDENCE_COLUMNS(lang)
    # write_string is used throughout; these options make any future plain write() safe too.
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    with xlsxwriter.Workbook(str(path), options) as book:
        base = {"valign": "top", "border": 1, "border_color": "#BBBBBB"}
        header = book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "text_wrap": True})
        text = book.add_format({**base, "text_wrap": True})
        money = book.add_format({**base, "num_format": "#,##0.00"})
        sheets = {s: book.add_worksheet(name) for s, name in
                  ((s, severity_label(s, lang)) for s in ("error", "warning", "info"))}  # fmt: skip
        sheets[DISMISSED] = book.add_worksheet(DISMISSED_SHEET(lang))
        for sheet in sheets.values():
            sheet.data_validation(1, REVIEW_AT, FILL_ROWS, REVIEW_AT, {
                "validate": "list", "source": list(DECISIONS), "error_title": columns[REVIEW_AT],
                "error_message": GLOSS(lang), "input_title": columns[REVIEW_AT],
                "input_message": GLOSS(lang),
            })  # fmt: skip
            for col, (name, width) in enumerate(zip(columns, WIDTHS, strict=True)):
                sheet.write_string(0, col, name, header)
                folded = {"level": 1, "hidden": True} if col in FOLDED else {}
                after = {"collapsed": True} if col == FOLDED[-1] + 1 else {}
                sheet.set_column(col, col, width, None, folded | after)
            sheet.set_row(0, LINE_PT * max(map(_lines, columns, WIDTHS)))
            sheet.freeze_panes(1, 0)
        pieces = book.add_worksheet(EVIDENCE_SHEET(lang))
        for col, (name, width) in enumerate(zip(evidence_columns, EVIDENCE_WIDTHS, strict=True)):
            pieces.write_string(0, col, name, header)
            pieces.set_column(col, col, width)
        pieces.freeze_panes(1, 0)
        _print_setup(pieces)
        at = 0
        rows = dict.fromkeys(sheets, 0)
        for number, f in enumerate(findings, 1):  # numbered as in report.html
            d = public_dict(f, lang)
            for e in d["evidence"]:
                at += 1
                pieces.write_number(at, 0, number, text)
                pieces.write_string(at, 1, severity_label(d["severity"], lang), text)
                pieces.write_string(at, 2, d["rule_id"], text)
                for col, key in enumerate(EVIDENCE_KEYS, 3):
                    value = e.get(key)
                    if key == "line" and ({"table_row", "paragraph", "page"} & e.keys()):
                        value = report_place(e, lang)  # a .docx's or .pdf's, as its reader finds it
                    if isinstance(value, int):
                        pieces.write_number(at, col, value, text)
                    else:
                        pieces.write_string(at, col, excel_text(value or ""), text)
            review = reviews.get(f.fingerprint)
            kind = DISMISSED if review and review["decision"] == DISMISSED else d["severity"]
            sheet, r = sheets[kind], rows[kind] + 1
            rows[kind] = r
            sheet.write_number(r, 0, number, text)
            texts = (d["message"], d["basis"], evidence_text(d, lang))
            for col, value in enumerate(texts, 1):
                sheet.write_string(r, col, excel_text(value), text)
            if d["amount_yuan"] is not None:
                sheet.write_number(r, 4, d["amount_yuan"], money)
            else:
                sheet.write_blank(r, 4, None, money)
            decided = (review["decision"], review["reason"], review["reviewer"]) if review else ()
            tail = (d["amount_basis"] or "", d["suggestion"], NEW[lang] if f.fingerprint in new
                    else "", d["rule_id"], d["subject"], d["fingerprint"], *decided)  # fmt: skip
            for col, value in enumerate(tail, 5):
                sheet.write_string(r, col, excel_text(value), text)
            for col in range(5 + len(tail), len(COLUMNS)):  # ruled, to be filled in by hand
                sheet.write_blank(r, col, None, text)
            # Excel does not size a row to its wrapped text: the row is given the height of
            # its longest cell, or every finding would show one line.
            wrapped = ((1, texts[0]), (2, texts[1]), (3, texts[2]), (5, tail[0]), (6, tail[1]),
                       (REVIEW_AT + 1, review["reason"] if review else ""))  # fmt: skip
            lines = max(_lines(v, WIDTHS[c]) for c, v in wrapped)
            sheet.set_row(r, min(MAX_PT, LINE_PT * lines))
        for s, sheet in sheets.items():
            sheet.autofilter(0, 0, rows[s], len(columns) - 1)
            if rows[s]:
                _print_setup(sheet)
            else:  # a sheet of no finding prints no page: its print area is an empty row
                sheet.print_area(1, 0, 1, len(columns) - 1)
        pieces.autofilter(0, 0, at, len(evidence_columns) - 1)
    return path


def _print_setup(sheet) -> None:
    """A4 landscape, every column (but the folded ones) fitted to the page width, as many
    pages tall as it takes, the header on each."""
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
