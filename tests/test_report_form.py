"""The national 项目支出绩效自评表 inside a report (checks/report_form.py): found wherever it
stands and however its header lies, each of its rules found when planted and silent when
its figures agree; the report's own indicators for the prose rules; the development
corpus's 自评表, as today's readers give them or gridded by hand from the same figures.

The report writer (sample/report_writer.py) fills the form from a programme's figures and
plants single faults in it: each rule is found in every form it writes (text, flattened
text, Word, PDF, the .xlsx 自评表) and in the PDF LibreOffice prints from its Word file (its
rows kept whole on a page, or broken over pages), and a clean form adds no finding. What it does not write — two-row headers, a form split over
two tables, the 部门整体支出 variant, a pasted form, the corpus's — is written here as grids
of cell texts: ``<`` is a cell merged with the one on its left, ``^`` one merged with the one
above. They reach the rules through the project's readers: a .docx built with python-docx
(real merged cells) and the tab-led text layout of SPEC §1.3 (one cell per line, rows
separated by a blank line; a merged cell is an empty one).
"""

from __future__ import annotations

import copy
import io
import random
import shutil
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from jixiao.checks import report_form
from jixiao.checks.report_check import check_report
from jixiao.checks.tables import grids
from jixiao.ingest.report import parse_text, read_report
from jixiao.sample import report_writer as writer
from tests.conftest import REPO, own_chinese

CORPUS = REPO.parent / "shared" / "corpus" / "reports"

# The national form (财预〔2020〕10号): funds, goals, indicators, 总分 and grade in one table.
# 118.75 / 125 = 95%, 10 × 95% = 9.5; 100 + 20 = 120, 105 + 20 = 125, 100 + 18.75 = 118.75;
# weights 50 + 30 + 10 + 10 = 100; scores 90 + 9.5 = 99.5 → 优.
NATIONAL = [
    ["项目名称", "<", "社区康复服务项目", "<", "<", "<", "<", "<", "<"],
    ["主管部门", "<", "某区残疾人联合会", "<", "<", "实施单位", "某区康复中心", "<", "<"],
    ["项目资金（万元）", "<", "<", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
    ["年度资金总额", "<", "<", "120", "125", "118.75", "10", "95%", "9.5"],
    ["其中：当年财政拨款", "<", "<", "100", "105", "100", "—", "—", "—"],
    ["上年结转资金", "<", "<", "20", "20", "18.75", "—", "—", "—"],
    ["其他资金", "<", "<", "", "", "", "—", "—", "—"],
    ["年度总体目标", "预期目标", "<", "<", "<", "实际完成情况", "<", "<", "<"],
    ["^", "为残疾儿童提供康复训练", "<", "<", "<", "已提供康复训练", "<", "<", "<"],
    ["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"],
    ["^", "产出指标（50分）", "数量指标", "康复训练人数", "≥200人", "210人", "20", "20", ""],
    ["^", "^", "质量指标", "训练达标率", "不低于90%", "92%", "15", "15", ""],
    ["^", "^", "时效指标", "按期完成率", "100%", "100%", "15", "15", ""],
    ["^", "效益指标（30分）", "社会效益指标", "减轻负担户数", "≥150户", "150户", "30", "30", ""],
    ["^", "满意度指标（10分）", "服务对象满意度指标", "家长满意度", "≥90%", "96%", "10", "10", ""],
    ["总分", "<", "<", "<", "<", "<", "100", "99.5", ""],
    ["自评等级", "<", "<", "<", "<", "<", "优", "<", "<"],
]  # fmt: skip

# A transfer-payment form split in two tables, each header over two rows: 预算执行情况 over
# its parts, 绩效指标 over the levels and 自评得分 over 分值 and 得分. 96 / 120 = 80%,
# 20 × 80% = 16; 80 + 40 = 120, 64 + 32 = 96; 40 + 24 + 20 = 84 + 16 = 100 total score 100.
# 年度指标值 ≤5个工作日 met by 4 (a ceiling); 480 of 不少于400 is 120%: no error.
SPLIT_FUNDS = [
    ["资金投入情况（万元）", "预算执行情况", "<", "<", "分值", "得分"],
    ["^", "全年预算数（A）", "全年执行数（B）", "预算执行率（B/A×100%）", "^", "^"],
    ["年度资金总额：", "120万", "96万", "80%", "20", "16"],
    ["其中：中央财政资金", "80万", "64万", "80%", "", ""],
    ["地方资金", "40万", "32万", "80%", "", ""],
]
SPLIT_INDICATORS = [
    ["绩效指标", "<", "<", "年度指标值", "实际完成值", "自评得分", "<", "偏差原因分析及改进措施"],
    ["一级指标", "二级指标", "三级指标", "^", "^", "分值", "得分", "^"],
    ["产出指标", "数量指标", "培训人次", "不少于400人次", "480人次", "20", "20", ""],
    ["^", "时效指标", "办结时限", "≤5个工作日", "4个工作日", "20", "20", ""],
    ["效益指标", "社会效益指标", "就业人数", "≥60人", "55人", "20", "18", "部分学员升学"],
    ["满意度指标", "满意度指标", "学员满意度", "≥90%", "95%", "20", "20", ""],
    ["合计", "<", "<", "<", "<", "80", "78", ""],
]


def _cells(grid: list[list[str]]) -> list[list[str]]:
    return [["" if t in ("<", "^") else t for t in row] for row in grid]


_LEAD = ("社区康复服务项目绩效自评报告", "一、基本情况", "本项目由区康复中心实施。")
_TAIL = ("二、结论", "以上数据经单位负责人审定。")


def _blocks(tables: tuple[list[list[str]], ...]) -> list:
    out: list = list(_LEAD)
    for i, grid in enumerate(tables):
        out += [f"附表{i + 1}", "项目支出绩效自评表", grid]
    return [*out, *_TAIL]


def write_text(blocks: list) -> str:
    """A report of ``blocks`` — paragraphs (str) and tables (grids) in order — with each
    table in the tab-led layout: one cell per line, a blank line after each row."""
    lines = []
    for block in blocks:
        if isinstance(block, str):
            lines.append(block)
        else:
            for row in _cells(block):
                lines += [f"\t{t}" for t in row] + [""]
    return "\n".join([*lines, ""])


def write_docx(path: Path, blocks: list) -> Path:
    """The same report as Word writes it: real tables, ``<`` and ``^`` merged cells."""
    import docx

    d = docx.Document()
    for block in blocks:
        if isinstance(block, str):
            d.add_paragraph(block)
            continue
        grid = block
        table = d.add_table(rows=len(grid), cols=len(grid[0]))
        for r, row in enumerate(grid):
            for c, text in enumerate(row):
                if text not in ("<", "^"):
                    table.cell(r, c).text = text
        for r, row in enumerate(grid):
            for c, text in enumerate(row):
                end = c
                while end + 1 < len(row) and row[end + 1] == "<":
                    end += 1
                if text != "<" and end > c:
                    table.cell(r, c).merge(table.cell(r, end))
                if text != "^" and r + 1 < len(grid) and grid[r + 1][c] == "^":
                    bottom = r + 1
                    while bottom + 1 < len(grid) and grid[bottom + 1][c] == "^":
                        bottom += 1
                    table.cell(r, c).merge(table.cell(bottom, c))
    d.save(path)
    return path


def text_report(*tables: list[list[str]]) -> str:
    """A report holding ``tables`` in the tab-led layout."""
    return write_text(_blocks(tables))


def docx_report(path: Path, *tables: list[list[str]]) -> Path:
    """The same report as a .docx."""
    return write_docx(path, _blocks(tables))


def findings(tmp_path: Path, form: str, *tables: list[list[str]]):
    if form == "docx":
        path = docx_report(tmp_path / "report.docx", *tables)
    else:
        path = tmp_path / "report.txt"
        path.write_text(text_report(*tables), encoding="utf-8")
    return check_report(path).findings


def planted(grid: list[list[str]], **cells: str) -> list[list[str]]:
    """``grid`` with cells replaced: ``r3c7="90%"``."""
    out = copy.deepcopy(grid)
    for key, text in cells.items():
        r, c = key[1:].split("c")
        out[int(r)][int(c)] = text
    return out


FORMS = ["docx", "text"]


def where(form: str, tables: tuple, t: int, r: int) -> set:
    """Row ``r`` of ``tables[t]`` as the report's reader finds it: Word's table and row
    (``docx_report``), or the lines of its cells in the text (``text_report``: one a line)."""
    if form == "docx":
        return {(t + 1, r + 1)}
    first = 3 + sum(2 + sum(len(row) + 1 for row in g) for g in tables[:t]) + 2
    first += sum(len(row) + 1 for row in tables[t][:r]) + 1
    return set(range(first, first + len(tables[t][r])))


# --- recognition --------------------------------------------------------------------------


def form_findings(doc):
    """The form rules alone over a document already read."""
    return list(report_form.form_findings(report_form.forms(grids(doc))))


@pytest.mark.parametrize("form", FORMS)
def test_the_national_form_is_read_whole(tmp_path, form):
    if form == "docx":
        doc = read_report(docx_report(tmp_path / "r.docx", NATIONAL))
    else:
        doc = parse_text(text_report(NATIONAL))
    (found,) = report_form.forms(grids(doc))
    funds, ind = found.funds, found.indicators
    assert [x.label for x in funds.rows] == [
        "年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金"
    ]  # fmt: skip
    assert funds.total.label == "年度资金总额"
    assert {role: f.text for role, (_, f) in funds.rows[0].cells.items()} == {
        "initial": "120", "budget": "125", "spent": "118.75", "weight": "10", "rate": "95%",
        "score": "9.5",
    }  # fmt: skip
    assert [i.name for i in ind.rows] == [
        "康复训练人数", "训练达标率", "按期完成率", "减轻负担户数", "家长满意度"
    ]  # fmt: skip
    # 一级指标 merged down the rows is carried down, its weight taken out of its label.
    assert [i.level1 for i in ind.rows] == ["产出指标"] * 3 + ["效益指标", "满意度指标"]
    assert {k: v[0].value for k, v in ind.levels.items()} == {
        ("产出指标", ""): 50, ("效益指标", ""): 30, ("满意度指标", ""): 10
    }  # fmt: skip
    assert ind.total is not None and ind.grade[0] == "优"
    assert form_findings(doc) == []


@pytest.mark.parametrize("form", FORMS)
def test_consistent_forms_give_no_finding(tmp_path, form):
    for tables in ((NATIONAL,), (SPLIT_FUNDS, SPLIT_INDICATORS)):
        assert findings(tmp_path, form, *tables) == [], tables[0][0]


def test_a_form_split_over_two_tables_with_two_row_headers_is_one_form(tmp_path):
    doc = read_report(docx_report(tmp_path / "r.docx", SPLIT_FUNDS, SPLIT_INDICATORS))
    (found,) = report_form.forms(grids(doc))
    assert len(found.grids) == 2
    # Each part's two header rows are read as one, each column named by its lowest text.
    assert found.funds.block.labels[1:4] == ["全年预算数（A）", "全年执行数（B）", "预算执行率（B/A×100%）"]
    assert found.indicators.block.labels[:3] == ["一级指标", "二级指标", "三级指标"]
    assert found.funds.block.columns["rate"] == [3]  # under 预算执行情况, merged across
    assert found.indicators.block.columns["weight"] == [5]  # 分值 under 自评得分
    assert found.funds.rows[0].units["budget"] == "万元"
    by_name = report_form.indicators([found])
    assert by_name["办结时限"].target.bound == "<="
    assert by_name["培训人次"].actual.figure.value == 480


def test_the_report_s_own_indicators_for_the_prose_rules(tmp_path):
    doc = read_report(docx_report(tmp_path / "r.docx", NATIONAL))
    by_name = report_form.indicators(report_form.forms(grids(doc)))
    assert list(by_name) == [
        "康复训练人数",
        "训练达标率",
        "按期完成率",
        "减轻负担户数",
        "家长满意度",
    ]
    target, actual, weight, score, cell = by_name["康复训练人数"][:5]
    assert (target.bound, target.figure.value, target.unit) == (">=", 200, "人")
    assert (actual.figure.value, actual.unit) == (210, "人")
    assert (weight.value, score.value) == (20, 20)
    # Where Word shows it (NATIONAL[10]: the table's eleventh row), not in the part cut out.
    assert cell.text == "康复训练人数｜三级指标：康复训练人数" and cell.table_row == (1, 11)
    assert cell.section.endswith("项目支出绩效自评表（绩效指标）")


# --- rules planted in hand-built forms: two-row headers, a sub-indicator above its level -------

PLANTS = {
    # The national form's other faults are planted in the form the report writer fills
    # (test_each_rule_found_in_the_written_form); here, what it does not write.
    # 满意度指标（5分） over an indicator of 10
    "sub-indicator above level": (NATIONAL, {"r14c1": "满意度指标（5分）"}, "REPORT.FORM_WEIGHTS",
                                  "分值 10"),
    # split form: 执行率 80% written as 85% on the funds row under its two-row header
    "split rate": (SPLIT_FUNDS, {"r2c3": "85%"}, "REPORT.RATE_RECOMPUTED", "85%"),
    # split form: 地方资金 40万 budget written as 30万
    "split 其中": (SPLIT_FUNDS, {"r4c1": "30万", "r4c3": ""}, "REPORT.TABLE_TOTAL",
                  "全年预算数（A） 120万"),
    # split form: a ceiling of 5 working days missed, full marks
    "split ceiling": (SPLIT_INDICATORS, {"r3c4": "6个工作日", "r3c7": "系统升级"},
                      "REPORT.FORM_FULL_SCORE_MISSED",
                      "实际完成值 6个工作日"),
    # split form: 合计 of the indicators' scores is 78 (94 with the funds' 16), written 88
    "split total": (SPLIT_INDICATORS, {"r6c6": "88"}, "REPORT.TABLE_TOTAL", "合计 88"),
}  # fmt: skip


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_each_rule_is_found_when_planted(tmp_path, form, plant):
    grid, cells, rule_id, claimed = PLANTS[plant]
    tables = {id(NATIONAL): (NATIONAL,), id(SPLIT_FUNDS): (SPLIT_FUNDS, SPLIT_INDICATORS),
              id(SPLIT_INDICATORS): (SPLIT_FUNDS, SPLIT_INDICATORS)}[id(grid)]  # fmt: skip
    t = next(i for i, g in enumerate(tables) if g is grid)
    tables = tuple(planted(g, **cells) if g is grid else g for g in tables)
    found = findings(tmp_path, form, *tables)
    assert [(f.rule_id, f.claimed) for f in found if f.rule_id == rule_id and claimed in f.claimed]
    # One planted fault, one kind of finding: no other rule speaks.
    assert {f.rule_id for f in found} == {rule_id}, [(f.rule_id, f.message()) for f in found]
    for f in found:
        message = f.message()
        assert "None" not in message and "{" not in message and f.evidence
        assert not own_chinese(f.message("en"), text_report(*tables)), f.message("en")
        assert all(e.line > 0 and (e.table_row is not None) == (form == "docx")
                   for e in f.evidence)  # fmt: skip
        assert "自评表" in f.evidence[0].section
    # The evidence points at a planted row where the report's reader finds it.
    shown = {e.table_row or e.line for f in found for e in f.evidence}
    rows_at = set().union(*(where(form, tables, t, int(key[1:].split("c")[0])) for key in cells))
    assert shown & rows_at, (shown, rows_at)


# --- the writer's 自评表 (sample/report_writer.py): every rule, in every form it is written ---

WRITTEN = ("txt", "flat", "docx", "pdf", "xlsx")


def written(fig, folder: Path, fmt: str) -> Path:
    """The report in one of the writer's forms; .xlsx is the 自评表 workbook alone."""
    path = folder / f"report-{fmt}.{'txt' if fmt == 'flat' else fmt}"
    if fmt in ("txt", "flat"):
        text = writer.render_text(fig) if fmt == "txt" else writer.render_flat_text(fig)
        path.write_text(text, encoding="utf-8")
        return path
    render = {"docx": writer.render_docx, "pdf": writer.render_pdf, "xlsx": writer.render_xlsx}
    return render[fmt](fig, path)


def writer_figures(fmt: str) -> dict[str, writer.ReportFigures]:
    """The sample and invented programmes (a PDF, slow to write and read, for the sample)."""
    figures = {"sample": writer.sample_figures()}
    if fmt != "pdf":
        figures |= {f"seed{n}": writer.random_figures(random.Random(n)) for n in (0, 1, 2)}
    return figures


# A rule planted more than one way in the form, each way as its description says it.
VARIANTS = {
    "REPORT.TABLE_TOTAL": ("自评表总分写", "自评表其他资金执行数写"),
    "REPORT.GRADE": ("等级写为", "分值只写"),
    "REPORT.FORM_WEIGHTS": ("其下指标分值合计", "各项分值合计"),
}


@pytest.fixture
def fmt_ok(request):
    if request.param == "pdf":
        request.getfixturevalue("pdf_ok")
    return request.param


def prints(audit) -> set[tuple[str, str]]:
    return {(f.rule_id, f.fingerprint) for f in audit.findings}


@pytest.mark.parametrize("fmt_ok", WRITTEN, indirect=True)
def test_the_written_form_is_read_and_adds_no_finding(tmp_path, fmt_ok):
    """Filled from the programme's own figures, the form agrees with itself and with the
    report: the report with it finds what it found without it (the workbook, nothing)."""
    for name, fig in writer_figures(fmt_ok).items():
        without = check_report(written(fig, tmp_path, "txt"))
        audit = check_report(written(replace(fig, form=True), tmp_path, fmt_ok))
        assert prints(audit) == (set() if fmt_ok == "xlsx" else prints(without)), name
        (form,) = report_form.forms(grids(audit.document))
        assert form.problem is None
        assert [x.label for x in form.funds.rows] == ["年度资金总额", "其中：财政拨款", "其他资金"]
        assert [i.name for i in form.indicators.rows] == [i.name for i in writer.form_rows(fig)]
        assert "自评表 2 部分" in audit.read_line(), name


@pytest.mark.parametrize("rule_id", writer.FORM_PLANTABLE)
@pytest.mark.parametrize("fmt_ok", WRITTEN, indirect=True)
def test_each_rule_found_in_the_written_form(tmp_path, fmt_ok, rule_id):
    """One fault planted in the form (writer.plant, in_form): its rule speaks, about the
    form, and nothing else the report did not already say."""
    said = []
    for name, fig in writer_figures(fmt_ok).items():
        planted_fig, planted = writer.plant(fig, rule_id, random.Random(f"{name}:{rule_id}"),
                                            in_form=True)  # fmt: skip
        said.append(planted.description)
        clean = set() if fmt_ok == "xlsx" else prints(check_report(written(
            replace(planted_fig, overrides={}, form=True), tmp_path, "txt")))  # fmt: skip
        found = check_report(written(planted_fig, tmp_path, fmt_ok)).findings
        new = [f for f in found if (f.rule_id, f.fingerprint) not in clean]
        assert rule_id in {f.rule_id for f in new}, (name, planted)
        assert {f.rule_id for f in new} <= {rule_id, *planted.collateral}, (name, planted, new)
        for f in new:
            assert "自评表" in f.evidence[0].section and "None" not in f.message(), f
    if fmt_ok != "pdf":  # every way the rule is planted, found
        assert all(any(way in d for d in said) for way in VARIANTS.get(rule_id, ())), said


def test_the_written_form_merges_its_cells_as_word_and_excel_do(tmp_path):
    import docx
    import openpyxl

    fig = replace(writer.sample_figures(), form=True)
    table = docx.Document(written(fig, tmp_path, "docx")).tables[-1]
    xml = table._tbl.xml
    assert 'w:gridSpan w:val="7"' in xml and 'w:vMerge w:val="restart"' in xml
    assert "<w:cantSplit/>" in xml  # rows kept whole on a page
    sheet = openpyxl.load_workbook(written(fig, tmp_path, "xlsx")).active
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:I1", "A3:B3", "C3:I3", "A6:C6"} <= merged  # title, 项目名称, 年度资金总额
    assert sheet["A3"].value == "项目名称" and sheet["A6"].value == "年度资金总额"
    assert writer.xlsx_bytes(fig) == writer.xlsx_bytes(fig)  # no clock in the workbook
    scores = writer.form_scores(fig)
    assert scores.funds_score + sum(scores.weights.values()) == 100
    assert scores.total == fig.score_total  # 总分 is the report's own 自评得分


def test_check_report_on_the_written_workbook(tmp_path):
    """`jixiao check-report` on a 自评表 workbook: the planted shortfall without a reason,
    where it stands (two cells of one row: the row named once), beside what was read."""
    fig, _ = writer.plant(writer.sample_figures(), "REPORT.FORM_NO_REASON", random.Random(1),
                          in_form=True)  # fmt: skip
    path = written(fig, tmp_path, "xlsx")
    jixiao = Path(sys.executable).with_name("jixiao")
    done = subprocess.run([str(jixiao), "check-report", str(path)], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "偏差原因分析及改进措施" in done.stdout and "共 1 条发现" in done.stdout
    (line,) = {e.line for f in check_report(path).findings for e in f.evidence}
    assert f"第 {line} 行" in done.stdout and f"{line}、{line}" not in done.stdout
    assert "表格形式：工作表 2 个，其中自评表 2 部分" in done.stdout


def libreoffice_pdfs(folder: Path, docs: list[Path]) -> list[Path]:
    """Each .docx printed by LibreOffice Writer (soffice --convert-to pdf), beside it."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: no Word-printed PDF to read")
    done = subprocess.run(
        [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(folder), *map(str, docs)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [doc.with_suffix(".pdf") for doc in docs]


def test_a_pdf_libreoffice_writes_reads_as_the_docx(tmp_path):
    """The writer's .docx printed by LibreOffice Writer: the same findings as the .docx, the
    clean form and each fault planted in it."""
    sample = writer.sample_figures()
    figures = {"clean": replace(sample, form=True)}
    for rule_id in writer.FORM_PLANTABLE:
        figures[rule_id] = writer.plant(sample, rule_id, random.Random(rule_id), in_form=True)[0]
    docs = [writer.render_docx(fig, tmp_path / f"{name}.docx") for name, fig in figures.items()]
    for name, doc, pdf in zip(figures, docs, libreoffice_pdfs(tmp_path, docs), strict=True):
        word, printed = check_report(doc), check_report(pdf)
        assert prints(printed) == prints(word), name
        assert "PDF 表格" in printed.read_line() and "自评表 2 部分" in printed.read_line(), name
        assert name == "clean" or name in {f.rule_id for f in printed.findings}


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def breaking(fig, path: Path, lower: int) -> Path:
    """The writer's .docx with the form's rows free to break over a page (no w:cantSplit, as
    most offices leave them) and its pages' text ``lower`` points lower, so that the pages
    break its tables elsewhere."""
    import docx
    from docx.shared import Pt

    doc = docx.Document(io.BytesIO(writer.docx_bytes(fig)))
    for element in list(doc.element.body.iter(f"{W}cantSplit")):
        element.getparent().remove(element)
    for section in doc.sections:
        section.top_margin += Pt(lower)
    doc.save(path)
    return path


def form_read(audit) -> tuple:
    """The form as check-report reads it: funds, indicators cell by cell, total and grade."""
    (form,) = report_form.forms(grids(audit.document))
    ind = form.indicators
    return (
        [x.label for x in form.funds.rows],
        [(i.name, i.level1, i.level2, i.target.text, i.actual.text, i.weight and i.weight.text,
          i.score and i.score.text, i.reason) for i in ind.rows],
        ind.total is not None,
        ind.grade and ind.grade[0],
    )  # fmt: skip


def page_openings(pdf: Path, cells: set[str]) -> set[str]:
    """How the tables that open a page of the PDF begin: with a piece of a cell of the
    .docx (a row broken by the page), a row whose first cell is empty but whose others are
    whole (a row of its own, which must stay one), or the 自评等级 row with fewer columns
    than the form."""
    import pdfplumber

    seen = set()
    with pdfplumber.open(pdf) as opened:
        for page in opened.pages:
            tables, lines = page.find_tables(), page.extract_text_lines()
            if not tables or tables[0].bbox[1] > lines[0]["top"] + 1:
                continue
            top = tables[0].extract()[0]
            texts = {t.replace("\n", "") for t in top if t}
            if texts - cells:
                seen.add("broken")
            elif top[0] == "" and len(texts) > 1:
                seen.add("new row")
            if "自评等级" in texts and len(top) < writer.FORM_WIDTH:
                seen.add("narrower")
    return seen


def test_form_rows_broken_over_a_page_read_as_the_docx(tmp_path):
    """LibreOffice's PDF of a report whose table rows may break over a page, printed from
    several heights: a row broken by the page is one row, a form going on with only its
    自评等级 row is one form, a row opening a page with an empty first cell stays a row of its
    own; so the form reads as in the .docx and check-report finds the same, clean and with
    each fault planted. The printed pages are looked at to be sure all three happened."""
    figures = {}
    for name, fig in (("sample", writer.sample_figures()),
                      ("seed2", writer.random_figures(random.Random(2)))):  # fmt: skip
        for lower in range(0, 30, 6):
            figures[f"{name}-{lower}"] = (replace(fig, form=True), lower)
        for rule_id in writer.FORM_PLANTABLE:
            planted = writer.plant(fig, rule_id, random.Random(rule_id), in_form=True)[0]
            figures[f"{name}-{rule_id}"] = (planted, 12)
    docs = [breaking(fig, tmp_path / f"{name}.docx", lower)
            for name, (fig, lower) in figures.items()]  # fmt: skip
    seen = set()
    for name, doc, pdf in zip(figures, docs, libreoffice_pdfs(tmp_path, docs), strict=True):
        word, printed = check_report(doc), check_report(pdf)
        assert prints(printed) == prints(word), name
        assert form_read(printed) == form_read(word), name
        assert "自评表 2 部分" in printed.read_line(), name
        rule_id = name.split("-", 1)[1]
        assert rule_id not in writer.FORM_PLANTABLE or rule_id in {
            f.rule_id for f in printed.findings
        }, name
        seen |= page_openings(pdf, {c.text for t in word.document.tables for r in t.rows for c in r})
    assert seen == {"broken", "new row", "narrower"}


def test_findings_name_the_table_and_the_cell(tmp_path):
    (f,) = findings(tmp_path, "docx", planted(NATIONAL, r3c7="90%"))
    assert f.message() == (
        "「年度资金总额」的比率 执行率 90% 与其数据不符：按报告数据计算应为 118.75 / 125 = 95.00%。"
    )
    assert f.message("en").startswith("'年度资金总额': the rate 执行率 90% does not follow")
    rate, spent, budget = (e.text for e in f.evidence)
    assert rate == "年度资金总额｜执行率：90%"
    assert spent == "年度资金总额｜全年执行数：118.75"
    assert budget == "年度资金总额｜全年预算数：125"
    # NATIONAL[3] is the fourth row of the document's first table, as Word shows it.
    assert {e.table_row for e in f.evidence} == {(1, 4)}
    assert f.evidence[0].where() == "表 1 第 4 行" and f.evidence[0].where("en") == "table 1 row 4"
    assert f.as_dict()["evidence"][0]["table_row"] == (1, 4)
    assert f.evidence[0].section == "附表1 › 项目支出绩效自评表（项目资金）"


# The 部门整体支出 variant: two 其中 lists after the total, by income and by spending; 510 /
# 520 = 98.08%, 10 × 98.08% = 9.81; 二级指标 weighted in their labels.
DEPARTMENT = [
    ["年度预算（万元）", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
    ["年度资金总额", "500", "520", "510", "10", "98.08%", "9.81"],
    ["按收入性质分", "", "", "", "", "", ""],
    ["其中：一般公共预算", "400", "420", "410", "", "", ""],
    ["政府性基金", "100", "100", "100", "", "", ""],
    ["按支出性质分", "", "", "", "", "", ""],
    ["其中：基本支出", "300", "300", "300", "", "", ""],
    ["项目支出", "200", "220", "210", "", "", ""],
    ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"],
    ["产出指标（60分）", "数量指标（30分）", "办理事项", "≥1200件", "1300件", "15", "15"],
    ["^", "^", "走访单位", "≥80家", "82家", "15", "15"],
    ["^", "质量指标（30分）", "办结率", "≥98%", "99%", "30", "30"],
    ["效益指标（30分）", "社会效益指标", "群众知晓率", "≥85%", "90%", "30", "30"],
    ["总分", "<", "<", "<", "<", "100", "99.81"],
]


@pytest.mark.parametrize("form", FORMS)
def test_department_form_sums_each_of_its_lists(tmp_path, form):
    assert findings(tmp_path, form, DEPARTMENT) == []
    found = findings(tmp_path, form, planted(DEPARTMENT, r7c3="200"))  # 项目支出 spent
    assert [(f.rule_id, f.claimed, f.observed) for f in found] == [
        ("REPORT.TABLE_TOTAL", "年度资金总额 全年执行数 510", "500（其中：基本支出 300 + 项目支出 200）")
    ]  # fmt: skip


@pytest.mark.parametrize("form", FORMS)
def test_level_two_weights(tmp_path, form):
    # 数量指标（30分） over 15 + 20, 产出指标（60分） still 60 with 质量指标 25.
    found = findings(tmp_path, form, planted(DEPARTMENT, r10c5="20", r10c6="20", r11c5="25",
                                             r11c6="25", r11c1="质量指标（25分）"))  # fmt: skip
    assert [(f.rule_id, f.subject, f.claimed) for f in found] == [
        ("REPORT.FORM_WEIGHTS", "form:数量指标", "分值 30")
    ]  # fmt: skip
    # 产出指标 weighing less than its 二级指标 and an indicator, and than their sum.
    found = findings(tmp_path, form, planted(DEPARTMENT, r9c0="产出指标（20分）"))
    assert {(f.subject, f.claimed) for f in found} == {
        ("form:数量指标", "分值 30"), ("form:质量指标", "分值 30"), ("form:办结率", "分值 30"),
        ("form:产出指标", "分值 20"),
    }  # fmt: skip


@pytest.mark.parametrize("form", FORMS)
def test_levels_without_a_second_level(tmp_path, form):
    grid = [
        ["一级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"],
        ["产出指标（60分）", "培训人数", "≥100人", "120人", "30", "30"],
        ["^", "结业考核合格率", "≥90%", "95%", "30", "30"],
        ["效益指标（40分）", "就业率", "≥60%", "70%", "40", "40"],
        ["总分", "<", "<", "<", "100", "100"],
    ]
    assert findings(tmp_path, form, grid) == []
    found = findings(tmp_path, form, planted(grid, r1c0="产出指标（50分）"))
    assert [(f.rule_id, f.subject, f.observed) for f in found] == [
        ("REPORT.FORM_WEIGHTS", "form:产出指标", "其下各指标分值合计 60（30 + 30）")
    ]  # fmt: skip


# A form laid out one row per tab-separated line, as a clerk pastes it: the funds rows are
# shorter than the indicators', so the reader places them under the wider rows' columns;
# the funds block puts them back under its own header. 得分 worth 20 in its header, 执行率
# written as a fraction: 300 / 400 = 0.75, 20 × 0.75 = 15; 15 + 9 + 40 + 18 = 82 → 良.
PASTED = [
    ["预算执行情况（万元）（20分）", "预算数", "执行数", "执行率", "得分"],
    ["年度财政资金总额", "400", "300", "0.75", "15"],
    ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "得分"],
    ["产出指标", "数量指标", "新建站点（个）", "10", "9", "9"],
    ["效益指标", "社会效益指标", "服务人次", "≥5000", "6000", "40"],
    ["满意度指标", "满意度指标", "满意度（%）", "90", "95", "18"],
    ["总分", "", "", "", "", "82"],
    ["自评等级", "良", "", "", "", ""],
]


def pasted(path: Path, grid: list[list[str]]) -> Path:
    lines = ["\t" + "\t".join(row).rstrip("\t") for row in grid]
    path.write_text("报告\n附表\n项目支出绩效自评表\n" + "\n".join(lines) + "\n完。\n", "utf-8")
    return path


def test_a_pasted_form_is_read_under_its_own_headers(tmp_path):
    path = pasted(tmp_path / "r.txt", PASTED)
    (found,) = report_form.forms(grids(read_report(path)))
    assert {k: f.text for k, (_, f) in found.funds.rows[0].cells.items()} == {
        "budget": "400", "spent": "300", "rate": "0.75", "score": "15"
    }  # fmt: skip
    assert found.funds.weight.value == 20
    assert check_report(path).findings == []
    for cells, rule_id in (({"r1c3": "0.6"}, "REPORT.RATE_RECOMPUTED"),
                           ({"r1c4": "16", "r6c5": "83"}, "REPORT.FORM_BUDGET_SCORE"),
                           ({"r6c5": "86"}, "REPORT.TABLE_TOTAL"),
                           ({"r7c1": "中"}, "REPORT.GRADE")):  # fmt: skip
        found = check_report(pasted(tmp_path / "r.txt", planted(PASTED, **cells))).findings
        assert [f.rule_id for f in found] == [rule_id], cells


# --- what is never an error ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "actual", "missed"),
    [
        ("≥200人", "190人", True),
        ("不低于90%", "89.9%", True),
        ("90%", "89%", False),  # no direction written (its name and level may give one)
        ("≥400人次", "480人次", False),  # 120%: above a floor is no shortfall
        ("≤90万元", "95万元", True),
        ("不超过90万元", "90", False),
        ("≥50000人次", "11万人次", False),  # 11万 is 110000
        ("≥50000人次", "4.9万人次", True),
        ("＞95%", "94%", True),
        ("＞95%", "95%", False),  # 95% may stand for 95.4%
        ("＜3天", "4天", True),
        ("=0起", "0起", False),
        ("达到100%", "100%", False),
        ("≥90%", "满意", False),  # no figure
        ("≥5个", "5台", False),  # units that differ
        ("≥95%", "95", False),
        ("≥100百分比", "100", False),
        ("2023年6月30日前", "2023年6月20日", False),  # dates are no figures here
    ],
)
def test_a_shortfall_is_read_in_the_target_s_direction(target, actual, missed):
    t = report_form.measure(target)
    assert report_form.missed(t, report_form.measure(actual)) is missed


@pytest.mark.parametrize(
    ("text", "name", "level2", "bound"),
    [
        ("100%", "验收合格率", "质量指标", ">="),
        ("200", "培训人数", "数量指标", ">="),
        ("0", "安全事故", "质量指标", "<="),
        ("15", "办结时间", "时效指标", None),  # lower may be better: no direction assumed
        ("90", "项目总成本", "成本指标", None),
        ("90%", "满意度", "服务对象满意度指标", ">="),
    ],
)
def test_a_bare_target_s_direction(text, name, level2, bound):
    assert report_form._direction(report_form.measure(text), name, level2).bound == bound


def test_a_percentage_is_never_read_as_a_score(tmp_path):
    """A form whose funds row holds one figure more than its header (a layout slip): the
    reader keeps the surplus under an added column (ingest.national_form), the figures
    right-aligned under their headers, and no 100% is read as a score above a weight."""
    rows = [
        ["项目资金（万元）", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["年度资金总额", "28.1", "28.1", "28.1", "28.1", "10", "100%", "10"],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"],
        ["产出指标", "数量指标", "采购设备", "4台", "4台", "10", "10"],
    ]
    path = tmp_path / "r.txt"
    path.write_text(
        "报告\n附表：项目支出绩效自评表\n"
        + "\n".join("\t" + "\t".join(r) for r in rows)
        + "\n完。\n",
        encoding="utf-8",
    )
    audit = check_report(path)
    assert audit.findings == []
    (form,) = report_form.forms(grids(audit.document))
    row = form.funds.rows[0]
    assert {role: row.cells[role][1].text for role in ("weight", "rate", "score")} == {
        "weight": "10", "rate": "100%", "score": "10"
    }  # fmt: skip


def test_scores_written_as_percentages_are_not_scores():
    assert report_form._points("100%") is None and report_form._points("8分").value == 8


def test_tables_that_are_no_form_are_left_to_the_other_rules(tmp_path):
    scores = [["一级指标", "权重分", "得分"], ["项目决策", "20", "20"], ["项目管理", "20", "18"]]
    budget = [
        ["项目", "预算数", "执行数", "执行率"],
        ["培训", "10", "9.5", "95%"],
        ["宣传", "20", "20.0", "100%"],
        ["合计", "30", "28.5", "95%"],  # 9.5 + 20.0 = 29.5
    ]
    assert report_form.forms(grids(parse_text(text_report(scores, budget)))) == []
    found = findings(tmp_path, "text", budget)
    assert [(f.rule_id, f.claimed) for f in found] == [("REPORT.TABLE_TOTAL", "执行数合计 28.5")]


# --- the development corpus ---------------------------------------------------------------


@pytest.fixture(scope="module")
def key():
    if not (CORPUS / "key.yaml").exists():
        pytest.skip("the development corpus ../shared/corpus/reports/ is not in this checkout")
    return yaml.safe_load((CORPUS / "key.yaml").read_text(encoding="utf-8"))


# The corpus's 自评表, gridded by hand from the figures each report's text gives (its
# labels the national form's; the indicators' names replaced by neutral ones, since the
# corpus's text is not copied into the project). Each as Word would lay it out.
BY_HAND = {
    # R06: funds with 年初 / 全年预算 / 执行 / 分值 / 执行率 / 得分 (the extra 28.1 the page
    # shows stands in a column of its own), ten indicators and 分总.
    "R06": [
        ["项目资金（万元）", "年初预算数", "全年预算数（A）", "全年执行数（B）", "", "分值", "预算执行率（B/A）", "得分", ""],
        ["年度资金总额：", "28.1", "28.1", "28.1", "28.1", "10", "100%", "10", ""],
        ["其中：中央资金", "28.1", "28.1", "28.1", "", "10", "100%", "10", ""],
        ["省级资金", "", "", "", "", "", "", "", ""],
        ["市级资金", "", "", "", "", "", "", "", ""],
        ["县级资金", "", "", "", "", "", "", "", ""],
        ["其他资金", "", "", "", "", "", "", "", ""],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "全年实际完成值", "分值", "得分", "未完成原因和改进措施", ""],
        ["产出指标", "数量指标", "指标1", "100%", "100%", "10", "10", "", ""],
        ["^", "^", "指标2", "100%", "100%", "5", "5", "", ""],
        ["^", "^", "指标3", "100%", "100%", "5", "5", "", ""],
        ["^", "质量指标", "指标4", "100%", "100%", "10", "10", "", ""],
        ["^", "^", "指标5", "100%", "100%", "5", "5", "", ""],
        ["^", "^", "指标6", "100%", "100%", "5", "5", "", ""],
        ["^", "时效指标", "指标7", "100%", "100%", "10", "10", "", ""],
        ["效益指标", "社会效益指标", "指标8", "扩大", "扩大", "30", "30", "", ""],
        ["满意度指标", "服务对象满意度指标", "指标9", "90%", "98%", "5", "5", "", ""],
        ["^", "^", "指标10", "90%", "98%", "5", "5", "", ""],
        ["分总", "<", "<", "<", "<", "100", "100", "", ""],
    ],
    # R07: 预算数 / 执行数 / 执行率 (0.1) / 得分 under a header worth 20 points; five
    # indicators with targets, actuals and scores but no weights; 总分.
    "R07": [
        ["预算执行情况（万元）（20分）", "预算数（A）", "执行数（B）", "执行率（B/A）", "得分（20分*执行率）", ""],
        ["年度财政资金总额", "650", "94", "0.1", "2.9", ""],
        ["一级指标", "二级指标", "三级指标", "年初目标值（A）", "实际完成值（B）", "得分"],
        ["产出指标", "数量指标", "指标1（个）", "15", "6", "8.0"],
        ["^", "数量指标", "指标2（人）", "11442", "4164", "7.3"],
        ["效益指标", "经济效益指标", "指标3（%）", "8000", "12767.36", "31.9"],
        ["^", "经济效益指标", "指标4（元）", "1980", "2074", "10.5"],
        ["满意度指标", "服务对象满意度指标", "指标5（%）", "90", "100", "11.1"],
        ["总分", "<", "<", "<", "<", "71.7"],
    ],
    # R08: a total row of zeros over its one 其中 row; the indicators as far as the page
    # goes (cut in 满意度指标, so no 总分).
    "R08": [
        ["项目资金（万元）", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分", ""],
        ["年度资金总额：", "0", "0", "0", "10", "0", "0", ""],
        ["其中：本年财政拨款", "90", "89.974", "89.974", "", "", "", ""],
        ["上年结转资金", "", "", "", "", "", "", ""],
        ["其他资金", "", "", "", "", "", "", ""],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"],
        ["产出指标（50分）", "数量指标", "指标1", "≥50个", "50", "8", "8", ""],
        ["^", "质量指标", "指标2", "≥100百分比", "100", "8", "8", ""],
        ["^", "^", "指标3", "严格执行", "达成预期指标", "8", "8", ""],
        ["^", "时效指标", "指标4", "按时完成", "达成预期指标", "8", "8", ""],
        ["^", "成本指标", "指标5", "≤90万元", "90", "8", "8", ""],
        ["^", "^", "指标6", "符合规定", "达成预期指标", "10", "10", ""],
        ["效益指标（30分）", "社会效益指标", "指标7", "效果明显", "达成预期指标", "10", "10", ""],
        ["^", "生态效益指标", "指标8", "效果明显", "达成预期指标", "10", "10", ""],
        ["^", "可持续影响指标", "指标9", "效果明显", "达成预期指标", "10", "10", ""],
        ["满意度指标（10分）", "满意度指标", "", "", "", "", "", ""],
    ],
    # R15: a transfer-payment form's funds (no 分值 / 得分).
    "R15": [
        ["资金投入情况（万元）", "全年预算数（A）", "全年执行数（B）", "预算执行率（B/A×100%）"],
        ["年度资金总额：", "808.1", "692.98", "86%"],
        ["其中：中央财政资金", "808.1", "692.98", "86%"],
        ["地方财政资金", "", "", ""],
        ["其他资金", "", "", ""],
    ],
    # R16: amounts written with 万, a 0 / 0 row written 100%, and the first indicator.
    "R16": [
        ["资金投入情况（万元）", "全年预算数（A）", "全年执行数（B）", "预算执行率（B/A×100%）", "", ""],
        ["年度资金总额：", "3359.62万", "3359.62万", "100%", "", ""],
        ["其中：中央财政资金", "829.3万", "829.3万", "100%", "", ""],
        ["彩票公益金", "0", "0", "100%", "", ""],
        ["地方资金", "2530.32万", "2530.32万", "100%", "", ""],
        ["其他资金", "", "", "", "", ""],
        ["一级指标", "二级指标", "三级指标", "指标值", "全年实际完成值", "未完成原因和改进措施"],
        ["产出指标", "数量指标", "指标1", "≥50000人次", "110406", ""],
    ],
    # R20: budget, arrival and spending side by side, each with its 其中 rows; the
    # indicators with 指标分值, 自评得分 over its parts (得分, 权重占比, 折算得分).
    "R20": [
        ["预算安排情况（调整后）", "<", "资金到位情况", "<", "资金执行情况", "<", "预算执行进度（%）", "", ""],
        ["预算数", "6.84", "到位数", "6.84", "执行数", "6.84", "100.00", "", ""],
        ["其中：财政资金", "6.84", "其中：财政资金", "6.84", "其中：财政资金", "6.84", "", "", ""],
        ["其他", "0.00", "其他", "0.00", "其他", "0.00", "", "", ""],
        ["一级指标", "二级指标", "三级指标", "指标分值", "预期指标值", "单项指标实际完成值", "自评得分", "<", "<"],
        ["^", "^", "^", "^", "^", "^", "单项指标得分", "权重占比（%）", "单项指标折算得分"],
        ["产出指标", "质量指标", "指标1", "25", ">=98%", "100%", "25.00", "25.00", "6.25"],
        ["^", "时效指标", "指标2", "25", ">=99%", "100%", "25.00", "25.00", "6.25"],
        ["效果指标", "社会效益指标", "指标3", "30", ">=75%", "100%", "30.00", "30.00", "9.00"],
        ["满意度指标", "服务对象满意度指标", "指标4", "10", ">=95%", "100%", "10.00", "10.00", "1.00"],
    ],
}  # fmt: skip

# What each hand-made grid must give: the key's contradictions touching a 自评表, by rule.
EXPECTED = {"R08": {("R08-C1", "REPORT.TABLE_TOTAL")}}


@pytest.mark.parametrize("report", sorted(BY_HAND))
def test_corpus_forms_today(key, report):
    """Whether today's readers give a form for the report's 自评表 at all: the pages flatten
    their tables (`|` cells, space-aligned lines, a whole table on one line), which only the
    flattened-table reader will grid. What a form read from them gives is held to the key."""
    doc = read_report(CORPUS / f"{report}.txt")
    found = report_form.forms(grids(doc))
    if not found:
        pytest.skip(f"{report}: today's text reader gives no grid for its 自评表 (flattened)")
    errors = [f for f in check_report(CORPUS / f"{report}.txt").findings if f.severity == "error"]
    wanted = {rule for _, rule in EXPECTED.get(report, ())}
    assert {f.rule_id for f in errors} <= wanted


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("report", sorted(BY_HAND))
def test_corpus_forms_gridded_by_hand(tmp_path, key, form, report):
    """Each contradiction of the key found, and every trap silent, on the same figures."""
    found = findings(tmp_path, form, BY_HAND[report])
    entry = key[report]
    for cid, rule_id in EXPECTED.get(report, ()):
        assert cid in {c["id"] for c in entry["contradictions"]}
        assert any(f.rule_id == rule_id for f in found), cid
    wanted = {rule for _, rule in EXPECTED.get(report, ())}
    assert entry["traps"], report
    assert [f for f in found if f.rule_id not in wanted] == [], [f.message() for f in found]


def test_corpus_r08_zero_total_names_each_column(tmp_path, key):
    found = findings(tmp_path, "docx", BY_HAND["R08"])
    totals = sorted(f.claimed for f in found if f.rule_id == "REPORT.TABLE_TOTAL")
    assert totals == [
        "年度资金总额 全年执行数 0", "年度资金总额 全年预算数 0", "年度资金总额 年初预算数 0"
    ]  # fmt: skip
    assert any(f.observed.startswith("89.974") for f in found)


def test_corpus_indicators_link_by_name(key):
    doc = parse_text(text_report(BY_HAND["R07"]))
    by_name = report_form.indicators(report_form.forms(grids(doc)))
    assert by_name["指标1（个）"].target.figure.value == 15
    assert by_name["指标1（个）"].score.value == Decimal("8.0")
    assert by_name["指标1（个）"].weight is None
