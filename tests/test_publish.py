"""The published programme report (SPEC §3): the four files written for real and read back
the way their readers open them — a browser's parser, Excel's (python-calamine), json, DuckDB."""

import dataclasses
import hashlib
import html
import json
import re
import shutil
import subprocess
import unicodedata
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import openpyxl
import pdfplumber
import pytest
from python_calamine import CalamineWorkbook

from jixiao.checks.catalogue import rule
from jixiao.checks.findings import Evidence, Finding, ordered
from jixiao.ingest.load import create_tables
from jixiao.ingest.problems import Problem
from jixiao.ingest.reviews import REVIEW_COLUMNS
from jixiao.publish import findings as out_formats
from jixiao.publish.excel import (
    COLUMNS,
    DISMISSED_SHEET,
    EVIDENCE_COLUMNS,
    EVIDENCE_SHEET,
    WIDTHS,
    _lines,
    excel_text,
    write_findings_xlsx,
)
from jixiao.publish.feedback import render
from jixiao.publish.findings import md_text
from jixiao.publish.report import (
    PRINTED_COUNTIES,
    PRINTED_PER_RULE,
    Publication,
    printed_copy,
    render_html,
    render_markdown,
    write_reports,
)
from jixiao.publish.views import VIEWS, create_views

DANGER = "=cmd|' /C calc'!A0"
MASKED = "530102**********1234"
SPEC_FIELDS = {"rule_id", "severity", "subject", "claimed", "observed", "message", "evidence",
               "fingerprint", "amount_yuan", "amount_basis", "basis", "suggestion"}  # fmt: skip


def _findings() -> list[Finding]:
    return ordered([
        Finding("REPORT.FIGURE_DISAGREES", "indicator:job_fairs_held", "6个", "5个",
                (Evidence("一、项目基本情况 › 项目实施", 12, "6个县市区残联完成招聘会"),
                 Evidence("三、绩效目标完成情况", 41, "完成5个")),
                where="第 41 行", label="招聘会（县区数）"),
        Finding("RECORDS.DUPLICATE_PAYMENT", "county:530102:visits", "2",
                f"证号 {MASKED} 由 530102、530103 各发放一次",
                (Evidence("", 0, f"{MASKED} 400", "530102", "五华区", "counties/530102.xlsx", "慰问", 14),),
                label="五华区", amount_yuan=Decimal("400.00")),
        # County-typed text that Excel would run as a formula (label starts the message).
        Finding("RECORDS.AMOUNT_NOT_STANDARD", "county:530112:visits", "300", "400",
                (Evidence("", 0, "<b>300</b>", "530112", "西山区", "counties/530112/visits.csv", "visits", 7),),
                label=DANGER, amount_yuan=Decimal("100")),
        Finding("RECORDS.OVERSPENT", "county:530103:budget:visits", "13000", "12000",
                (Evidence("", 0, "visits 12000 13000", "530103", "盘龙区", "counties/530103.xlsx", "经费", 3),),
                label="- 盘龙区慰问经费", amount_yuan=Decimal("1000.50")),
        Finding("REPORT.HEADCOUNT_PERCENT", "survey:q2", "34.88%", "51",
                (Evidence("四、满意度调查", 77, "34.88%"),), label="获奖比例"),
        Finding("REPORT.TABLE_UNVERIFIABLE", "survey:table", "", "缺少末 2 行",
                (Evidence("四、满意度调查 › 表3", 80, "满意度调查统计表"),), label="满意度调查统计表"),
    ])  # fmt: skip


def _scores() -> list[dict]:
    def row(level, indicator_id, level1, name, weight, score, claimed, **kw):
        return {"run_id": "r2", "programme_code": "530100-disability-employment", "year": 2022,
                "level": level,
                "indicator_id": indicator_id, "level1": level1, "name": name, "kind": kw.get("kind"),
                "weight": Decimal(weight), "target": kw.get("target"), "actual": kw.get("actual"),
                "score": Decimal(score), "deduction": Decimal(weight) - Decimal(score),
                "claimed_score": Decimal(claimed) if claimed else None, "grade": kw.get("grade"),
                "explanation": kw.get("explanation", "")}  # fmt: skip

    return [
        row(3, "budget_execution", "项目管理", "预算执行率", "10", "9.85", "10", kind="budget_execution",
            target="100", actual="98.5", explanation="10 × 98.5% = 9.85"),
        row(3, "job_fairs_held", "项目绩效", "开展招聘会场次", "6", "3.33", "6", kind="higher",
            target="9", actual="5", explanation="实际 5 场低于目标 9 场：6 × 5 / 9 = 3.33"),
        row(3, "households_visited", "项目绩效", "慰问就业困难户数", "6", "6", "6", kind="higher",
            target="300", actual="312", explanation="达到目标"),
        row(1, "项目管理", "项目管理", "项目管理", "20", "17.85", "20"),
        row(1, "项目绩效", "项目绩效", "项目绩效", "60", "55.33", "60"),
        row(0, "总分", None, "总分", "100", "86.50", "95", grade="良"),
    ]  # fmt: skip


@pytest.fixture
def pub() -> Publication:
    findings = _findings()
    gone = Finding("REPORT.TABLE_TOTAL", "table:funds", "33.5", "33.0",
                   (Evidence("二、资金情况 › 表1", 20, "合计 33.5"),), label="资金表")  # fmt: skip
    return Publication(
        programme_code="530100-disability-employment",
        programme_name="昆明市残疾人综合服务中心2022年残疾人就业服务（对下）补助项目",
        year=2022,
        unit="昆明市残疾人综合服务中心",
        run_id="20230115T020000Z-1a2b3c4d",
        generated_at=datetime(2023, 1, 15, 2, 5, tzinfo=UTC),
        findings=findings,
        new={findings[0].fingerprint, next(f for f in findings if f.label == DANGER).fingerprint},
        resolved=[gone.as_dict()],
        scores=_scores(),
        indicators=[
            {
                "id": "job_fairs_held",
                "name": "开展招聘会场次",
                "unit": "场",
                "target": Decimal(9),
                "claimed": Decimal(6),
                "recorded": Decimal(5),
            },
            {
                "id": "households_visited",
                "name": "慰问就业困难户数",
                "unit": "户",
                "target": Decimal(300),
                "claimed": Decimal(300),
                "recorded": Decimal(312),
            },
            {
                "id": "award_ratio",
                "name": "竞赛取得名次比例",
                "unit": "%",
                "target": Decimal(30),
                "claimed": Decimal("34.88"),
                "recorded": Decimal("33.333333"),
            },
            {
                "id": "budget_execution",
                "name": "预算执行率",
                "unit": "%",
                "target": Decimal(100),
                "claimed": None,
                "recorded": Decimal("98.5"),
            },
            {
                "id": "job_fairs_by",
                "name": "补助县（市）区至少完成一期招聘会",
                "unit": "",
                "target": None,
                "claimed": None,
                "recorded": None,
            },
        ],  # fmt: skip
        survey={
            "第1题": {"A": 32, "B": 5},
            "第2题": {"A": 29, "B": 6, "C": 2},
            "第3题": {"A": 30, "B": 4, "C": 2, "D": 1},
        },  # fmt: skip
        report_read=READ,
    )


READ = "已读取：表格 3 个，数据 345 个，指标 23 个（22 个已关联实际值）。未读取：无。"


class Page(HTMLParser):
    """Collects tags and text, and checks every element is closed in order."""

    VOID = {"meta", "col", "br", "hr", "img", "input", "link", "rect", "line"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.texts, self.headings = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs), list(self.stack)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs), list(self.stack)))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()

    def handle_data(self, data):
        self.texts.append(data)
        if self.stack and self.stack[-1] in ("h1", "h2"):
            self.headings.append(data)


@pytest.fixture
def written(pub, tmp_path) -> Path:
    folder = tmp_path / "reports" / "2022" / pub.programme_code
    paths = write_reports(pub, folder)
    assert sorted(p.name for p in paths) == [
        "findings.json", "findings.xlsx", "report.html", "report.md"]  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in paths)  # no temp
    return folder


def test_html_is_self_contained_chinese_and_complete(pub, written):
    raw = (written / "report.html").read_text(encoding="utf-8")
    page = Page()
    page.feed(raw)
    page.close()
    assert page.stack == []
    assert "http://" not in raw and "https://" not in raw and "<script" not in raw
    assert "@import" not in raw and "url(" not in raw and "@font-face" not in raw
    assert '"Noto Sans CJK SC"' in raw and "sans-serif" in raw
    assert page.headings[1:] == ["一、总体情况", "二、指标完成情况与满意度", "三、评分表",
                                 "四、审计发现", "五、已整改问题", "编制与复核"]  # fmt: skip
    text = "".join(page.texts)
    # A working paper: contents linking every section, A4, its index number and sign-off,
    # the time in Beijing (02:05 UTC is 10:05 on the same day there).
    ids = {t[1].get("id") for t in page.tags if t[0] == "h2"}
    links = {t[1].get("href") for t in page.tags if t[0] == "a"}
    assert len(ids) == 6 and {f"#{i}" for i in ids} <= links
    assert "@page{size:A4" in raw and "thead{display:table-header-group}" in raw
    assert "生成时间：2023-01-15 10:05（北京时间，UTC+8）" in text
    assert f"索引号：JX-{pub.programme_code}-{pub.year}" in text
    assert all(name in text for name in ("编制人", "编制日期", "复核人", "复核日期"))
    assert "重新计算总分 86.5 分，等级「良」；报告自评 95 分，重新计算低于自评 8.5 分。" in text
    assert out_formats.summary(pub.findings) in text and READ in text  # and what they rest on
    assert "与上次运行相比：新增 2 条，已整改 1 条。" in text
    for f in pub.findings:
        assert f.message() in text
    assert "counties/530102.xlsx 工作表「慰问」 第 14 行" in text  # evidence down to file and row
    assert "一、项目基本情况 › 项目实施 第 12 行" in text  # and to report section and line
    assert "1,000.50" in text
    assert pub.resolved[0]["message"] in text
    # Text from the records is text, never markup.
    assert "<b>300</b>" not in raw and "&lt;b&gt;300&lt;/b&gt;" in raw
    # New findings carry the marker; the others do not.
    badges = [t for t in page.tags if t[1].get("class") == "new"]
    assert len(badges) == len(pub.new) and "新增" in text
    # Two charts, each with bars; the indicator without a numeric target is left out.
    svgs = [t for t in page.tags if t[0] == "svg"]
    assert len(svgs) == 2
    bars = [t for t in page.tags if t[0] == "rect" and "bar" in t[1].get("class", "").split()]
    in_first = [b for b in bars if b[2].count("svg") == 1 and "bar-target" in b[1]["class"]]
    assert len(in_first) == 4  # one target bar per indicator with a target
    assert sum("bar-claimed" in b[1]["class"] for b in bars) == 3  # 预算执行率 not claimed
    assert sum(b[1]["class"] in ("bar bar-A", "bar bar-B", "bar bar-C", "bar bar-D")
               for b in bars) == 2 + 3 + 4  # fmt: skip
    assert "5场（55.6%）" in text and "312户（104.0%）" in text  # actual values labelled
    assert "报告未述及" in text
    assert "补助县（市）区至少完成一期招聘会" not in text.split("图2")[0].split("图1")[1]


def test_scorecard_groups_indicators_under_their_level1(pub):
    page = Page()
    page.feed(render_html(pub))
    rows = [
        t[1].get("class")
        for t in page.tags
        if t[0] == "tr" and t[1].get("class", "").startswith("level")
    ]
    assert rows == ["level3", "level1", "level3", "level3", "level1", "level0"]
    text = "".join(page.texts)
    assert "实际 5 场低于目标 9 场：6 × 5 / 9 = 3.33" in text and "等级：良" in text


def test_xlsx_one_sheet_per_severity_formulas_neutralised(pub, written):
    path = written / "findings.xlsx"
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["错误", "警示", "提示", DISMISSED_SHEET.zh, EVIDENCE_SHEET.zh]
    sheets = {n: book.get_sheet_by_name(n).to_python() for n in book.sheet_names[:3]}
    for rows in sheets.values():
        assert tuple(rows[0]) == COLUMNS.zh
    by_severity = {"错误": "error", "警示": "warning", "提示": "info"}
    fp, amount, fresh = (COLUMNS.zh.index(c) for c in ("指纹", "涉及金额（元）", "本次新增"))
    for name, rows in sheets.items():
        expected = [f for f in pub.findings if f.severity == by_severity[name]]
        assert [r[fp] for r in rows[1:]] == [f.fingerprint for f in expected]
    cells = [c for rows in sheets.values() for r in rows[1:] for c in r]
    danger = next(f for f in pub.findings if f.label == DANGER)
    assert danger.message().startswith("=") and "'" + danger.message() in cells
    dash = next(f for f in pub.findings if f.label.startswith("-"))
    assert "'" + dash.message() in cells
    assert not any(isinstance(c, str) and c.startswith(("=", "+", "-", "@")) for c in cells)
    amounts = {r[fp]: r[amount] for rows in sheets.values() for r in rows[1:]}
    assert amounts[dash.fingerprint] == 1000.5 and isinstance(amounts[danger.fingerprint], float)
    new = {r[fp] for rows in sheets.values() for r in rows[1:] if r[fresh] == "新增"}
    assert new == pub.new
    with zipfile.ZipFile(path) as z:
        sheet_xml = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert len(sheet_xml) == 5
        for xml in sheet_xml:
            assert "<f>" not in xml and "<f " not in xml
            assert "<autoFilter" in xml and 'state="frozen"' in xml



def test_xlsx_lists_each_piece_of_evidence_to_filter_on(pub, written):
    """证据明细: one row per piece of evidence, numbered as its finding, with the county, file,
    sheet and row of a record, or the report's section and line, in columns of their own."""
    rows = CalamineWorkbook.from_path(str(written / "findings.xlsx")).get_sheet_by_name(
        EVIDENCE_SHEET.zh).to_python()
    assert tuple(rows[0]) == EVIDENCE_COLUMNS.zh
    expected = [(n, e) for n, f in enumerate(pub.findings, 1) for e in f.evidence]
    assert len(rows) - 1 == len(expected)
    for row, (n, e) in zip(rows[1:], expected, strict=True):
        assert row[0] == n and row[3:8] == [e.county_code, e.county, e.file, e.sheet, e.row or ""]
        assert row[8:10] == [e.section, e.line or ""]
    wuhua = [r for r in rows[1:] if r[4] == "五华区"]
    assert wuhua and {r[5] for r in wuhua} == {"counties/530102.xlsx"} and wuhua[0][7] == 14
    data = json.loads((written / "findings.json").read_text(encoding="utf-8"))
    amounts = [d["amount_yuan"] for d in data if d["amount_yuan"] is not None]
    assert amounts and all(isinstance(a, float) for a in amounts) and 1000.5 in amounts

def test_basis_and_suggestion_are_each_rules_own(pub, written):
    """依据 and 整改建议 per rule (issue 14): every output shows each finding's own basis and
    suggestion — the overspending county told to account for its 1,000.50 元, not to correct
    a report — and the rule id only in its own column (规则编号, rule_id)."""
    findings = {f.fingerprint: f for f in pub.findings}
    bases = {f.fingerprint: rule(f.rule_id).basis("zh", **f._params("zh")) for f in pub.findings}
    data = json.loads((written / "findings.json").read_text(encoding="utf-8"))
    for d in data:
        assert d["basis"] == bases[d["fingerprint"]] and d["rule_id"] == findings[d["fingerprint"]].rule_id
    overspent = next(d for d in data if d["rule_id"] == "RECORDS.OVERSPENT")
    assert overspent["basis"].startswith("《中华人民共和国预算法》") and "12000 元" in overspent["basis"]
    assert overspent["suggestion"].startswith("请区县") and "1000.50 元" in overspent["suggestion"]
    paid_twice = next(d for d in data if d["rule_id"] == "RECORDS.DUPLICATE_PAYMENT")
    assert "追回多发的 400 元" in paid_twice["suggestion"]
    figure = next(d for d in data if d["rule_id"] == "REPORT.FIGURE_DISAGREES")
    assert figure["suggestion"].startswith("请项目单位") and "「招聘会（县区数）」" in figure["suggestion"]
    assert len({d["basis"] for d in data}) == len({d["suggestion"] for d in data}) == len(data)
    # 依据 as each output shows it: the basis alone, no rule id.
    rule_id = re.compile(r"(REPORT|RECORDS)\.[A-Z]")
    html_rows = re.findall(r'<tr class="(?:error|warning|info)">(.*?)</tr>',
                           (written / "report.html").read_text(encoding="utf-8"))  # fmt: skip
    md = (written / "report.md").read_text(encoding="utf-8").split("四、审计发现")[-1]
    md_rows = [line.split(" | ") for line in md.split("五、已整改问题")[0].splitlines()
               if re.match(r"\| \d+ \|", line)]  # fmt: skip
    book = CalamineWorkbook.from_path(str(written / "findings.xlsx"))
    xlsx_rows = [r for name in ("错误", "警示", "提示") for r in book.get_sheet_by_name(name).to_python()[1:]]
    assert len(html_rows) == len(md_rows) == len(xlsx_rows) == len(pub.findings)
    shown = {html.unescape(re.findall(r"<td[^>]*>(.*?)</td>", row)[3]) for row in html_rows}
    shown_md = {row[3].replace("\\", "") for row in md_rows}
    assert shown == shown_md == set(bases.values())
    for row in xlsx_rows:
        assert row[COLUMNS.zh.index("依据")] == bases[row[COLUMNS.zh.index("指纹")]]
        assert row[COLUMNS.zh.index("规则编号")] == findings[row[COLUMNS.zh.index("指纹")]].rule_id
    assert not any(rule_id.search(b) for b in shown | {r[2] for r in xlsx_rows})


def test_xlsx_prints_as_a_working_paper(pub, written):
    """A4 landscape, the working paper's and the review's columns fitted to the page width
    (rule id, subject and fingerprint folded away), the header on every page, each finding's
    row as tall as its longest wrapped cell; a sheet of no finding prints nothing."""
    book = openpyxl.load_workbook(written / "findings.xlsx")
    folded = {openpyxl.utils.get_column_letter(COLUMNS.zh.index(c) + 1)
              for c in ("规则编号", "所涉对象", "指纹")}  # fmt: skip
    for sheet in book.worksheets[:3]:
        setup = sheet.page_setup
        assert setup.paperSize == 9 and setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1)
        assert setup.fitToHeight == 0 and sheet.print_title_rows == "$1:$1"  # 1 wide, n tall
        assert not sheet.print_area  # every column that shows
        # openpyxl keeps adjacent columns alike as one range (min … max)
        columns = {openpyxl.utils.get_column_letter(i): d
                   for d in sheet.column_dimensions.values() for i in range(d.min, d.max + 1)}
        assert {k for k, d in columns.items() if d.hidden and d.outline_level == 1} == folded
        review = {openpyxl.utils.get_column_letter(COLUMNS.zh.index(c) + 1) for c in REVIEW_COLUMNS}
        assert not any(columns[k].hidden for k in review)
        for r in range(2, sheet.max_row + 1):
            message = sheet.cell(r, 2).value
            lines = _lines(message, WIDTHS[1])
            assert sheet.row_dimensions[r].height >= 15 * lines
    empty = book["经复核不予采纳"]  # no finding dismissed here
    last = openpyxl.utils.get_column_letter(len(COLUMNS.zh))
    assert empty.max_row == 1 and empty.print_area == f"'经复核不予采纳'!$A$2:${last}$2"
    longest = max(book["错误"].iter_rows(min_row=2), key=lambda row: len(row[3].value or ""))
    assert book["错误"].row_dimensions[longest[0].row].height > 15


CHROMIUM = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
                None)  # fmt: skip


def chromium_print(html: Path, tmp_path: Path) -> Path:
    """``html`` printed as a browser prints it, to report.pdf in ``tmp_path``."""
    pdf = tmp_path / "report.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", html.as_uri()],
                   check=True, capture_output=True, timeout=180)  # fmt: skip
    return pdf


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: cannot print to PDF")
def test_report_prints_on_a4_within_the_page(written, tmp_path):
    """Printed as a browser prints it: A4 pages, nothing beyond the page's right margin, the
    contents on the first page and the sign-off block on the last."""
    with pdfplumber.open(chromium_print(written / "report.html", tmp_path)) as doc:
        assert {(round(p.width), round(p.height)) for p in doc.pages} == {(595, 842)}
        for page in doc.pages:
            assert max((c["x1"] for c in page.chars), default=0) <= page.width - 12 * 72 / 25.4
        # NFKC: the PDF's font maps some characters to their Kangxi radical forms (⼈ for 人).
        first, last = (unicodedata.normalize("NFKC", p.extract_text()) for p in (doc.pages[0],
                                                                                 doc.pages[-1]))
    assert "目录" in first and "编制与复核" in first  # the contents list names it
    assert "复核人" in last and "编制人" in last

def test_xlsx_keeps_empty_severities_with_header(tmp_path):
    errors = [f for f in _findings() if f.severity == "error"]
    book = CalamineWorkbook.from_path(str(write_findings_xlsx(errors, tmp_path / "f.xlsx")))
    assert [len(book.get_sheet_by_name(n).to_python()) for n in book.sheet_names[:3]] == [4, 1, 1]
    assert tuple(book.get_sheet_by_name("提示").to_python()[0]) == COLUMNS.zh


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_excel_text_escapes_formula_starts(text):
    assert excel_text(text) == "'" + text
    assert excel_text("盘龙区 -1") == "盘龙区 -1"


def test_json_round_trips_to_spec_fields(pub, written):
    data = json.loads((written / "findings.json").read_text(encoding="utf-8"))
    assert isinstance(data, list) and len(data) == len(pub.findings)
    # SPEC §3.1's fields, and §3.2's review decision (none on record here).
    assert all(set(d) == SPEC_FIELDS | {"review"} for d in data)
    # As the findings say, the amount a JSON number (yuan, exact to the fen).
    assert data == [f.as_dict() | {"amount_yuan": f.amount_yuan and float(f.amount_yuan),
                                   "review": None} for f in pub.findings]  # fmt: skip
    assert [d["severity"] for d in data] == ["error"] * 3 + ["warning"] * 2 + ["info"]
    assert MASKED in json.dumps(data, ensure_ascii=False)


def test_markdown_has_summary_and_tables(pub, written):
    md = (written / "report.md").read_text(encoding="utf-8")
    assert md.startswith(f"# {pub.title}\n")
    assert out_formats.summary(pub.findings) in md.splitlines() and READ in md.splitlines()
    assert "| 序号 | 严重程度 | 问题 | 依据 | 证据 | 涉及金额（元） | 整改建议 |" in md
    assert "| 指标 | 权重 | 目标值 | 实际值 | 得分 | 扣分 | 说明 | 自评得分 |" in md
    assert "| 开展招聘会场次 | 场 | 9 | 6 | 5 | 55.6% |" in md
    assert "| 第3题 | 30 | 4 | 2 | 1 | 37 |" in md
    assert "错误（新增）" in md and "<svg" not in md
    assert "=cmd\\|' /C calc'!A0" in md  # the pipe escaped: the row stays one row
    for line in md.splitlines():
        if line.startswith("| ") and "fingerprint" not in line:
            assert line.endswith(" |")


def test_clear_certificate_numbers_are_masked_everywhere(pub, tmp_path):
    clear = "53010219800101001234"
    pub.findings = [Finding("RECORDS.AGE_OUT_OF_RANGE", "county:530102:visits", "2022-05-01",
                            "72", (Evidence("", 0, f"证号 {clear}", "530102", "五华区", "counties/530102.xlsx", "慰问", 9),),
                            label=f"证号 {clear}")]  # fmt: skip
    folder = write_reports(pub, tmp_path)[0].parent
    for name in ("report.html", "report.md", "findings.json"):
        text = (folder / name).read_text(encoding="utf-8")
        assert clear not in text and MASKED in text
    with zipfile.ZipFile(folder / "findings.xlsx") as z:
        strings = z.read("xl/sharedStrings.xml").decode()
        assert clear not in strings and MASKED in strings


def test_cli_renderers_still_work():
    findings = _findings()
    page = Page()
    page.feed(out_formats.as_html(findings, "自评报告审核：report.txt"))
    assert page.stack == [] and sum(t[0] == "tr" for t in page.tags) == len(findings) + 1
    md = out_formats.as_markdown(findings, "自评报告审核：report.txt")
    assert md.count("\n| ") == len(findings) + 1
    assert json.loads(out_formats.as_json(findings, "en"))[0]["message"] == findings[0].message(
        "en"
    )


def _insert(con, table: str, rows: list[dict]) -> None:
    for row in rows:
        cols = ", ".join(row)
        con.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()))  # fmt: skip


def test_views_on_a_real_warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    create_tables(con)
    create_views(con)
    for view in VIEWS:  # an empty warehouse: every view answers, with nothing
        assert con.execute(f"SELECT count(*) FROM {view.name}").fetchone() == (0,)
    assert all(v.description and v.sql.startswith("CREATE OR REPLACE VIEW") for v in VIEWS)

    code = "530100-disability-employment"
    # The clock stood a day ahead during the first run: its id and times sort after the second
    # run's. The latest is decided by runs.seq all the same.
    first, second = "20230116T020000Z-aaaa", "20230115T020000Z-bbbb"
    _insert(con, "runs", [{"run_id": first, "seq": 1}, {"run_id": second, "seq": 2}])
    findings = []
    for run, f in [(first, _findings()[0])] + [(second, f) for f in _findings()]:
        d = f.as_dict()
        findings.append({**d, "run_id": run, "programme_code": code, "year": 2022,
                         "evidence": json.dumps(d["evidence"], ensure_ascii=False),
                         "amount_yuan": f.amount_yuan,
                         "status": "open" if f.rule_id == "REPORT.FIGURE_DISAGREES" else "new"})  # fmt: skip
    findings.append({**findings[-1], "rule_id": "REPORT.RECORDS_DISAGREE", "fingerprint": "x1",
                     "subject": "indicator:job_fairs_held", "claimed": "6场", "severity": "error",
                     "run_id": second})  # fmt: skip
    _insert(con, "findings", findings)
    _insert(con, "scores", [{**s, "run_id": second} for s in _scores()])
    _insert(con, "metrics", [{"run_id": second, "programme_code": code, "year": 2022,
                              "indicator_id": "job_fairs_held", "name": "开展招聘会场次",
                              "value": Decimal(5), "unit": "场", "metric_sql": "SELECT 5"}])  # fmt: skip
    log = {"programme_code": code, "year": 2022, "county_code": "530111", "version": 1,
           "rows_read": 10, "rows_loaded": 10, "error_count": 0}  # fmt: skip
    _insert(con, "ingest_log", [
        {**log, "run_id": first, "file": "counties/530111.xlsx", "status": "accepted",
         "ingested_at": datetime(2023, 1, 16, 2, tzinfo=UTC)},
        {**log, "run_id": second, "file": "counties/530111.xlsx", "status": "superseded",
         "superseded_by": "counties/530111.v2.xlsx", "ingested_at": datetime(2023, 1, 15, 2, tzinfo=UTC)},
        {**log, "run_id": second, "file": "counties/530111.v2.xlsx", "status": "refused",
         "version": 2, "rows_loaded": 0, "error_count": 3,
         "ingested_at": datetime(2023, 1, 15, 2, tzinfo=UTC)},
    ])  # fmt: skip
    con.close()

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)  # as analysts do
    latest = con.execute("SELECT run_id, severity_zh, status_zh FROM v_latest_findings").fetchall()
    assert len(latest) == len(_findings()) + 1 and {r[0] for r in latest} == {second}
    by_county = {(c, s): (n, new, amount) for c, s, n, new, amount in con.execute(
        "SELECT county_code, severity, findings, new_findings, amount_yuan FROM v_findings_by_county"
    ).fetchall()}  # fmt: skip
    assert by_county[("530102", "error")] == (1, 1, Decimal("400.00"))
    assert by_county[("530112", "warning")] == (1, 1, Decimal("100.00"))  # from evidence path
    assert by_county[("530103", "error")] == (1, 1, Decimal("1000.50"))
    assert by_county[(None, "error")][0] == 2  # report-level findings
    status = con.execute(
        "SELECT indicator_id, weight, target, recorded, disputed_claim, claimed_score, score, "
        "deduction, grade FROM v_indicator_status ORDER BY indicator_id"
    ).fetchall()
    assert [s[0] for s in status] == ["budget_execution", "households_visited", "job_fairs_held"]
    assert status[2] == ("job_fairs_held", Decimal("6"), "9", Decimal(5), "6场", Decimal("6"),
                         Decimal("3.33"), Decimal("2.67"), "良")  # fmt: skip
    files = dict(con.execute("SELECT file, status_zh FROM v_ingest_status").fetchall())
    assert files == {"counties/530111.xlsx": "已被替代", "counties/530111.v2.xlsx": "已拒收"}


def test_a_quiet_programme_still_gets_every_section(pub):
    pub.findings, pub.new, pub.resolved, pub.scores, pub.indicators, pub.survey = (
        [],
        set(),
        [],
        [],
        [],
        None,
    )
    page = Page()
    page.feed(render_html(pub))
    assert page.stack == [] and len(page.headings) == 7
    assert not [t for t in page.tags if t[0] == "svg"]
    text = "".join(page.texts)
    assert "本次未能重新计算总分。" in text and "无满意度调查记录。" in text
    md = render_markdown(pub)
    assert "共 0 条发现：错误 0，警示 0，提示 0。" in md and "## 五、已整改问题\n\n无。" in md
    assert READ in md  # "0 findings" never stands alone


@pytest.mark.parametrize(
    ("file", "resubmit"),
    [("counties/530102.xlsx", "530102.v2.xlsx"),
     ("counties/530112/visits.v2.csv", "530112/visits.v3.csv"),
     ("counties/五华区.v9.xlsx", "五华区.v10.xlsx")],
)  # fmt: skip
def test_feedback_names_the_file_a_resubmission_takes(file, resubmit):
    page = render(file, "项目", [Problem("VALUE.REQUIRED", "慰问", 3, "姓名")])
    assert f"另存为 {md_text(resubmit)} 放回 counties 文件夹" in page


def _many(pub: Publication, n: int) -> Publication:
    """``pub`` with ``n`` more duplicate payments, each its own county's."""
    more = [Finding("RECORDS.DUPLICATE_PAYMENT", f"county:53{i:04d}:visits", "2", "1",
                    (Evidence("", 0, "400", f"53{i:04d}", f"第{i}测试区", f"counties/53{i:04d}.xlsx",
                              "慰问", 2),), label=f"第{i}测试区", amount_yuan=Decimal("400"))
            for i in range(n)]  # fmt: skip
    return dataclasses.replace(pub, findings=ordered([*pub.findings, *more]))


def test_the_printed_copy_lists_each_rules_first_findings_and_names_the_rest(pub, tmp_path):
    """The web page every finding; the printed copy a rule's first PRINTED_PER_RULE, and a line
    saying how many of which rule it leaves out, with the hash of the findings.json beside."""
    many = _many(pub, PRINTED_PER_RULE + 4)  # with pub's own: 25 duplicate payments
    folder = tmp_path / "reports"
    write_reports(many, folder)
    screen, paper = (folder / "report.html").read_text(encoding="utf-8"), printed_copy(many, folder)
    assert len(_labels(screen)) == PRINTED_PER_RULE + 4 and "未打印" not in screen
    # pub's own duplicate payment (五华区) is the rule's last in working-paper order
    assert _labels(paper) == {f"第{i}测试区" for i in range(PRINTED_PER_RULE)}
    assert "五华区" in screen and "五华区" not in paper
    digest = hashlib.sha256((folder / "findings.json").read_bytes()).hexdigest()
    assert "其余 5 条未打印（RECORDS.DUPLICATE_PAYMENT 另 5 条）" in paper
    assert digest in paper and "全部 30 条" in paper
    few = tmp_path / "few"
    write_reports(pub, few)
    rows = re.compile(r'<tr class="(?:error|warning|info)">')
    assert len(rows.findall(printed_copy(pub, few))) == len(pub.findings)
    assert "未打印" not in printed_copy(pub, few)


def _labels(page: str) -> set[str]:
    return set(re.findall(r"第\d+测试区", page))


def test_the_printed_copy_of_many_counties_lists_those_with_a_sheet_refused(pub, tmp_path):
    head = pub.coverage_head or ("区县", "慰问")
    cells = ["已接收 3 行"] * (len(head) - 1)
    rows = [(f"53{i:04d} 第{i}测试区", *cells) for i in range(PRINTED_COUNTIES + 1)]
    rows[3] = (rows[3][0], "已拒收", *cells[1:])
    rows[7] = (rows[7][0], "已接收 2 行（新报送文件被拒收）", *cells[1:])
    rows[9] = (rows[9][0], "未报送", *cells[1:])
    many = dataclasses.replace(pub, coverage_head=head, coverage=rows)
    write_reports(many, tmp_path)
    assert len(_labels((tmp_path / "report.html").read_text(encoding="utf-8"))) == len(rows)
    paper = printed_copy(many, tmp_path)
    assert _labels(paper) == {"第3测试区", "第7测试区"}
    assert f"只列出有报表被拒收的 2 个区县；全部 {len(rows)} 个区县" in paper
    few = dataclasses.replace(many, coverage=rows[:PRINTED_COUNTIES])  # printed whole
    assert len(_labels(printed_copy(few, tmp_path))) == PRINTED_COUNTIES
    clean = [(r[0], *cells) for r in rows]
    paper = printed_copy(dataclasses.replace(many, coverage=clean), tmp_path)
    assert not _labels(paper) and f"没有报表被拒收的区县，打印稿不列出各区县明细；全部 {len(rows)} 个" in paper
    words = {"已拒收": "refused", "已接收 2 行（新报送文件被拒收）": "accepted 2 rows (a newer file refused)"}
    rows_en = [tuple(words.get(c, c) for c in r) for r in rows]
    english = printed_copy(dataclasses.replace(_many(pub, PRINTED_PER_RULE + 1), lang="en",
                                               coverage_head=head, coverage=rows_en), tmp_path)
    assert "the other 2 are not printed (RECORDS.DUPLICATE_PAYMENT: 2 more)" in english
    assert f"lists only the 2 counties with a sheet refused; all {len(rows)} counties" in english


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: cannot print to PDF")
def test_the_printed_copy_prints_what_it_lists(pub, tmp_path):
    many = _many(pub, PRINTED_PER_RULE + 4)
    folder = tmp_path / "reports"
    write_reports(many, folder)
    paper = printed_copy(many, folder)
    (tmp_path / "paper.html").write_text(paper, encoding="utf-8")
    with pdfplumber.open(chromium_print(tmp_path / "paper.html", tmp_path)) as doc:
        text = "".join(unicodedata.normalize("NFKC", p.extract_text() or "") for p in doc.pages)
    text = text.replace("\n", "")
    left = _labels((folder / "report.html").read_text(encoding="utf-8")) - _labels(paper)
    assert len(left) == 4  # and pub's own
    assert all(label in text for label in _labels(paper)) and not any(label in text for label in left)
    assert "未打印" in text and "编制与复核" in text


def test_the_printed_copy_numbers_findings_as_the_web_page_does(pub, tmp_path):
    many = _many(pub, PRINTED_PER_RULE + 4)
    write_reports(many, tmp_path)
    pattern = re.compile(r'<tr class="(?:error|warning|info)"><td>(\d+)</td>.*?(第\d+测试区|</tr>)')
    screen = dict((label, n) for n, label in pattern.findall((tmp_path / "report.html").read_text("utf-8")))
    paper = dict((label, n) for n, label in pattern.findall(printed_copy(many, tmp_path)))
    paper.pop("</tr>", None)
    assert len(paper) == PRINTED_PER_RULE and all(screen[label] == n for label, n in paper.items())
    assert sorted(map(int, screen.values()), reverse=True)[0] > max(map(int, paper.values()))
