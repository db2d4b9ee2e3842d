"""Tables as offices publish them: flattened text, the national 自评表, workbooks and Word merges.

Every text here is written for the test (an invented road-maintenance programme); the real
reports of ../shared/corpus are read by tests/test_report_corpus.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from jixiao.checks.report_check import check_report
from jixiao.checks.tables import grids
from jixiao.ingest.report import Document, ReportError, parse_text, read_report


def rows(table) -> list[list[str]]:
    return [[c.text for c in r] for r in table.rows]


def form_parts(doc: Document) -> dict[str, list[list[str]]]:
    return {t.form: rows(t) for t in doc.tables if t.form}


# --- bars ---------------------------------------------------------------------------------

WEB = """\
一、资金使用情况
道路养护资金明细表
序号 | 路段 | 预算（万元） | 支出（万元） |
1 | 县道甲线 | 12.5 | 12.0 |
2 | 乡道乙线（含桥涵
维修） | 8 | 8 |
合计 | | 20.5 | 20.0 |
二、结论
"""


def test_bars_as_a_page_flattens_them_with_a_cell_broken_over_two_lines():
    doc = parse_text(WEB)
    (table,) = doc.tables
    assert table.layout == "pipe" and table.title == "道路养护资金明细表"
    assert rows(table) == [
        ["序号", "路段", "预算（万元）", "支出（万元）"],
        ["1", "县道甲线", "12.5", "12.0"],
        ["2", "乡道乙线（含桥涵 维修）", "8", "8"],
        ["合计", "", "20.5", "20.0"],
    ]
    assert not table.truncated and table.rows[2][0].line == 5


def test_a_row_broken_after_a_cell_is_joined_by_the_width_the_bars_give():
    text = (
        "问卷统计表\n"
        "题目 | 项目 |\n"
        "A（满意） | B（一般） | 合计 |\n"
        "1.您满意吗 | 人数 | 30 | 7 | 37 |\n"
        " | 占比 | 81.08% | 18.92% | 100% |\n"
        "后记\n"
    )
    (table,) = parse_text(text).tables
    assert rows(table)[0] == ["题目", "项目", "A（满意）", "B（一般）", "合计"]
    assert rows(table)[2] == ["", "占比", "81.08%", "18.92%", "100%"]  # first cell empty
    assert table.row_label(2) == "1.您满意吗 / 占比"


def test_markdown_tables_and_a_title_row_starting_a_new_table():
    text = (
        "| 指标 | 目标 | 完成 |\n|---|:---:|---:|\n| 养护里程 | 120公里 | 126.5公里 |\n"
        "| 检查次数 | 12次 | 12次 |\n"
    )
    (table,) = parse_text(text).tables
    assert rows(table) == [["指标", "目标", "完成"], ["养护里程", "120公里", "126.5公里"],
                           ["检查次数", "12次", "12次"]]  # fmt: skip
    two = "路况统计表 |\n路段 | 里程 |\n甲 | 3 |\n乙 | 4 |\n桥涵统计表 |\n桥 | 座 |\n丙 | 1 |\n丁 | 2 |\n"
    first, second = parse_text(two).tables
    assert (first.title, second.title) == ("路况统计表", "桥涵统计表")
    assert rows(second) == [["桥", "座"], ["丙", "1"], ["丁", "2"]]


def test_one_cell_per_line_rows_found_by_their_numbering():
    cells = ["序号", "三级指标", "年度指标值"]
    for n, (name, value) in enumerate([("养护里程", "120公里"), ("检查次数", "12次"),
                                       ("群众满意度", "90%")], 1):  # fmt: skip
        cells += [str(n), name, value]
    doc = parse_text("绩效目标表\n" + "".join(f"{c} |\n" for c in cells) + "完。\n")
    (table,) = doc.tables
    assert rows(table)[3] == ["3", "群众满意度", "90%"] and table.index_columns() == {0}


def test_bars_in_prose_are_no_table():
    doc = parse_text("• 无障碍|\n一、基本情况\n全年养护公路120公里。\n")
    assert not doc.tables and doc.paragraphs[0].text == "• 无障碍|"
    doc = parse_text("一、基本情况\n养护里程|桥涵：120公里|8座。\n")
    assert not doc.tables and doc.paragraphs[1].text == "养护里程|桥涵：120公里|8座。"


# --- spaces -------------------------------------------------------------------------------

ALIGNED = """\
表2 养护经费支出表
项目            预算数      支出数     执行率
日常养护          80.00      78.50     98.13%
桥涵维修          20.00      20.00    100.00%
合计             100.00      98.50     98.50%
说明：支出数据来自财务账。
"""


def test_columns_aligned_with_runs_of_spaces():
    doc = parse_text(ALIGNED)
    (table,) = doc.tables
    assert table.layout == "aligned"
    assert rows(table)[3] == ["合计", "100.00", "98.50", "98.50%"]
    assert table.header(3) == "执行率" and not table.truncated
    assert [p.text for p in doc.paragraphs if p.kind == "body"] == ["说明：支出数据来自财务账。"]


def test_single_spaces_and_rows_run_together_on_one_line():
    text = "表3 分项资金\n项目 预算 支出\n日常养护 80 78.5 桥涵维修 20 20\n合计 100 98.5\n结束。\n"
    (table,) = parse_text(text).tables
    assert table.layout == "spaced"
    assert rows(table) == [["项目", "预算", "支出"], ["日常养护", "80", "78.5"],
                           ["桥涵维修", "20", "20"], ["合计", "100", "98.5"]]  # fmt: skip
    assert table.rows[2][0].line == table.rows[1][0].line == 3


def test_prose_and_page_lines_with_spaces_are_no_table():
    text = (
        "发布日期: 2024-03-01 索引号: 0012-2024-00031\n"
        "生成日期: 2024-03-01 发布日期: 2024-03-02\n"
        "2023年全县养护农村公路 120 公里，投入资金 100 万元。\n"
        "全年检查 12 次，整改问题 35 处。\n"
    )
    assert not parse_text(text).tables


# --- the national 自评表 ------------------------------------------------------------------

FORM_LINES = [
    ["项目支出绩效自评表"],
    ["（2023年度）"],
    ["项目名称", "农村公路养护补助"],
    ["项目资金（万元）", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
    ["年度资金总额：", "100", "100", "98.5", "10", "98.5%", "9.85"],
    ["其中：当年财政拨款", "80", "80", "78.5", "—", "—", "—"],
    ["上年结转资金", "20", "20", "20", "—", "—", "—"],
    ["年度总体目标", "预期目标", "实际完成情况"],
    ["养护农村公路120公里。", "养护农村公路126.5公里。"],
    ["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
     "偏差原因分析及改进措施"],
    ["产出指标（50分）", "数量指标", "养护里程", "≥120公里", "126.5公里", "30", "30"],
    ["质量指标", "路况优良率", "≥80%", "83%", "20", "20"],
    ["效益指标（30分）", "社会效益指标", "通行条件", "改善", "改善", "30", "28", "个别路段待修"],
    ["满意度指标（10分）", "服务对象满意度指标", "群众满意度", "≥90%", "93%", "10", "10"],
    ["总分", "100", "97.85"],
]  # fmt: skip

FUNDS = [
    ["项目资金（万元）", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
    ["年度资金总额：", "100", "100", "98.5", "10", "98.5%", "9.85"],
    ["其中：当年财政拨款", "80", "80", "78.5", "", "", ""],
    ["上年结转资金", "20", "20", "20", "", "", ""],
]
INDICATORS = [
    ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
     "偏差原因分析及改进措施"],
    ["产出指标（50分）", "数量指标", "养护里程", "≥120公里", "126.5公里", "30", "30", ""],
    ["", "质量指标", "路况优良率", "≥80%", "83%", "20", "20", ""],
    ["效益指标（30分）", "社会效益指标", "通行条件", "改善", "改善", "30", "28", "个别路段待修"],
    ["满意度指标（10分）", "服务对象满意度指标", "群众满意度", "≥90%", "93%", "10", "10", ""],
    ["总分", "", "", "", "", "100", "97.85", ""],
]  # fmt: skip


def _as(layout: str) -> str:
    if layout == "pipe":
        return "".join(" | ".join(r) + " |\n" for r in FORM_LINES)
    if layout == "spaced":
        return "".join(" ".join(r) + "\n" for r in FORM_LINES)
    return " ".join(" ".join(r) for r in FORM_LINES) + "\n"  # run together on one line


@pytest.mark.parametrize("layout", ["pipe", "spaced", "run"])
def test_the_national_form_is_cut_into_its_parts_whatever_the_layout(layout):
    doc = parse_text("附件：\n" + _as(layout) + "填表人：张三\n")
    funds, indicators = (t for t in doc.tables if t.form)
    assert (funds.form, indicators.form) == ("funds", "indicators")
    assert {t.layout for t in doc.tables} == {layout}
    assert rows(funds) == FUNDS and rows(indicators) == INDICATORS
    assert funds.unit == "万元" and funds.title.startswith("项目支出绩效自评表")
    assert indicators.rows[2][0].merged  # 产出指标 merged down over 质量指标's row
    assert indicators.row_label(2) == "产出指标（50分） / 质量指标 / 路况优良率"
    prose = [p.text for p in doc.paragraphs]
    assert "养护农村公路126.5公里。" in prose and not any("年初预算数" in p for p in prose)
    scores = [g for g in grids(doc) if g.table.form == "indicators"][0]
    score = scores.header.index("得分")
    assert sum(scores.fig(r, score).value for r in range(len(scores.rows) - 1)) == 88


# A provincial form as a page flattens it: funds as a label and a figure per column group,
# the indicators' header over two lines (符号 and 单位 beside the target, the 自评得分 split
# into 单项指标得分, 权重占比 and 折算得分). 114 / 120 = 95%; 96 + 18 = 114; 100 × 40% = 40.
PROVINCIAL = """\
某县交通运输局2023年度预算项目绩效自评表
一、基本情况 项目名称: 农村公路养护补助 金额单位: 万元
二、预算执行情况 预算安排情况(调整后) 资金到位情况 资金执行情况 预算执行进度(%)
预算数 120.00 到位数 120.00 执行数 114.00 95.00
其中:财政资金 100.00 其中:财政资金 100.00 其中:财政资金 96.00
其他 20.00 其他 20.00 其他 18.00
三、目标完成情况 年度预期目标 具体完成情况 总体完成率(%)
四、年度绩效指标完成情况 一级指标 二级指标 三级指标 指标分值 预期指标值 单项指标实际完成值 单项指标完成情况 自评得分
符号 单位(文字描述) 单项指标得分 权重占比(%) 单项指标折算得分
产出指标 数量指标 养护里程 年内养护的农村公路里程 >= 120 公里 126.5公里 完成 100.00 40.00 40.00
质量指标 路况优良率 抽检路段的优良比例 >= 80 % 83% 完成 100.00 30.00 30.00
满意度指标 服务对象满意度指标 群众满意度 沿线群众的满意程度 >= 90 % 93% 完成 100.00 30.00 30.00
"""


def test_a_provincial_form_is_cut_into_the_national_form_s_parts(tmp_path):
    doc = parse_text(PROVINCIAL)
    parts = form_parts(doc)
    assert parts["funds"] == [
        ["二、预算执行情况", "预算安排情况(调整后)", "资金到位情况", "资金执行情况", "预算执行进度(%)"],
        ["预算数", "120.00", "120.00", "114.00", "95.00"],
        ["其中:财政资金", "100.00", "100.00", "96.00", ""],
        ["其他", "20.00", "20.00", "18.00", ""],
    ]
    header, first, second, _ = parts["indicators"]
    assert header[3:] == ["指标分值", "预期指标值/符号", "预期指标值", "预期指标值/单位(文字描述)",
                          "单项指标实际完成值", "单项指标完成情况", "单项指标得分", "权重占比(%)",
                          "单项指标折算得分"]  # fmt: skip
    assert first[:3] == ["产出指标", "数量指标", "养护里程"] and first[-3:] == ["100.00", "40.00", "40.00"]
    assert second[:3] == ["", "质量指标", "路况优良率"] and second[4:7] == [">=", "80", "%"]
    assert [t.title for t in doc.tables] == ["某县交通运输局2023年度预算项目绩效自评表（预算执行情况）",
                                             "某县交通运输局2023年度预算项目绩效自评表（年度绩效指标完成情况）"]  # fmt: skip
    path = tmp_path / "report.txt"
    path.write_text(PROVINCIAL, encoding="utf-8")
    assert check_report(path).findings == []
    # Each rule reads its cells: a rate, a 其中 row and a weighted score changed are found.
    for old, new, rule_id in ((" 114.00 95.00", " 114.00 90.00", "REPORT.RATE_RECOMPUTED"),
                              ("其中:财政资金 96.00", "其中:财政资金 97.00", "REPORT.TABLE_TOTAL"),
                              ("100.00 40.00 40.00", "100.00 40.00 36.00",
                               "REPORT.FORM_WEIGHTED_SCORE")):  # fmt: skip
        path.write_text(PROVINCIAL.replace(old, new), encoding="utf-8")
        found = check_report(path).findings
        assert [f.rule_id for f in found] == [rule_id], [f.message() for f in found]
    (f,) = found
    assert f.claimed == "36.00" and f.observed == "100.00 × 40.00% = 40"
    assert [e.line for e in f.evidence] == [10, 10, 10]  # the indicator's own line


def test_a_form_cell_broken_over_lines_is_joined_again():
    text = (
        "项目资金（万元） 全年预算数 全年执行数 执行率\n年度资金总额： 50 50 100%\n"
        "绩效指标 一级\n指标\n二级指标 三级指标 指标值 实际完成值 分值 得分\n"
        "效益\n指标\n社会效益\n指标\n通行条件 改善 改善 30 30\n"
        "满意度指标 服务对象\n满意度指标\n群众满意度 90% 95% 10 10\n分总 40 40\n"
    )
    doc = parse_text(text)
    assert form_parts(doc)["indicators"] == [
        ["一级指标", "二级指标", "三级指标", "指标值", "实际完成值", "分值", "得分"],
        ["效益指标", "社会效益指标", "通行条件", "改善", "改善", "30", "30"],
        ["满意度指标", "服务对象满意度指标", "群众满意度", "90%", "95%", "10", "10"],
        ["分总", "", "", "", "", "40", "40"],
    ]


def test_more_figures_than_the_form_has_columns_are_kept_under_an_added_column():
    text = "项目资金(万元) 年初预算数 全年预算数 得分\n年度资金总额: 5 5 5 10\n其中:中央资金 5 5 5\n说明\n"
    funds = parse_text(text).tables[0]
    assert rows(funds) == [["项目资金(万元)", "", "年初预算数", "全年预算数", "得分"],
                           ["年度资金总额:", "5", "5", "5", "10"],
                           ["其中:中央资金", "5", "5", "5", ""]]  # fmt: skip
    assert funds.rows[0][1].merged and funds.header(1) == "项目资金(万元)"
    assert not funds.truncated


def form_workbook(path: Path, lines: list[list[str]] = FORM_LINES) -> Path:
    """The form as a worksheet, its cells merged where the form merges them."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "自评表"
    for r, row in enumerate(lines, 1):
        # Beside the levels the form merges 绩效指标 down; a 二级 row under its 一级 leaves it out.
        cells = row if r < 11 or r == len(lines) else ["", *row] if r != 12 else ["", "", *row]
        sheet.append(cells)
    sheet.merge_cells("A10:A14")
    sheet.merge_cells("B11:B12")
    book.save(path)
    return path


def test_form_workbook_with_merged_cells(tmp_path):
    doc = read_report(form_workbook(tmp_path / "report.xlsx"))
    assert form_parts(doc) == {"funds": FUNDS, "indicators": INDICATORS}
    assert {t.layout for t in doc.tables} == {"sheet"} and doc.sha256


def test_form_workbook_as_xls_reads_as_the_xlsx(tmp_path):
    """Excel 97-2003: the same 自评表, saved as .xls by LibreOffice, reads and checks as the
    .xlsx does (its rate 98.5% written as 90%: one finding in both)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: no .xls can be written here")
    lines = [*FORM_LINES]
    lines[4] = ["年度资金总额：", "100", "100", "98.5", "10", "90%", "9.85"]
    xlsx = form_workbook(tmp_path / "report.xlsx", lines)
    done = subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", "xls", "--outdir", str(tmp_path / "xls"), str(xlsx)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    xls = tmp_path / "xls" / "report.xls"
    assert done.returncode == 0 and xls.exists(), done.stderr
    assert xls.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"  # an OLE2 file: Excel 97-2003
    as_xlsx, as_xls = check_report(xlsx), check_report(xls)
    parts = form_parts(as_xls.document)
    assert parts == form_parts(as_xlsx.document) and parts["indicators"] == INDICATORS
    assert parts["funds"][1][5] == "90%" and {t.layout for t in as_xls.document.tables} == {"sheet"}
    said = [(f.rule_id, f.claimed, f.observed, [e.line for e in f.evidence]) for f in as_xls.findings]
    assert said == [(f.rule_id, f.claimed, f.observed, [e.line for e in f.evidence])
                    for f in as_xlsx.findings]  # fmt: skip
    assert [f.rule_id for f in as_xls.findings] == ["REPORT.RATE_RECOMPUTED"]
    assert as_xls.read_line() == as_xlsx.read_line()


def test_a_form_grid_keeps_an_empty_cell_in_its_place(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in (FORM_LINES[3], ["年度资金总额：", 100, None, 98.5, 10, "98.5%", 9.85],
                FORM_LINES[9], [None, "产出指标", "数量指标", "养护里程", None, "126.5公里", 30, 30],
                ["总分", None, None, None, None, None, None, 97.85]):  # fmt: skip
        book.active.append(row)
    book.save(tmp_path / "report.xlsx")
    parts = form_parts(read_report(tmp_path / "report.xlsx"))
    assert parts["funds"][1] == ["年度资金总额：", "100", "", "98.5", "10", "98.5%", "9.85"]
    assert parts["indicators"][1][2:7] == ["养护里程", "", "126.5公里", "30", "30"]
    assert parts["indicators"][2][:7] == ["总分", "", "", "", "", "", "97.85"]


def test_workbook_sheets_are_tables_with_spans_and_hidden_ones_unread(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "明细"
    for row in (["道路养护资金明细表"], ["路段", "预算", "支出"], ["甲线", 12.5, 12],
                ["乙线", 8, 8], ["合计", 20.5, 20]):  # fmt: skip
        sheet.append(row)
    sheet.merge_cells("A1:C1")
    book.create_sheet("草稿").append(["旧数", "1"])
    book["草稿"].sheet_state = "hidden"
    book.save(tmp_path / "report.xlsx")
    doc = read_report(tmp_path / "report.xlsx")
    (table,) = doc.tables
    assert table.title == "道路养护资金明细表" and rows(table)[-1] == ["合计", "20.5", "20"]
    assert doc.unread == [("工作表「草稿」是隐藏的", "sheet '草稿' is hidden")]
    assert table.rows[1][0].line == 3  # a sheet row is a line


def test_a_merge_over_the_whole_sheet_costs_no_more_than_the_sheet(tmp_path):
    """A range A1:XFD1048576 (17 billion cells) clipped to the cells the sheet holds."""
    import time
    import zipfile

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in (["路段", "预算"], ["甲线", 12.5], ["乙线", 8]):
        book.active.append(row)
    book.save(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as source, \
            zipfile.ZipFile(tmp_path / "report.xlsx", "w") as target:  # fmt: skip
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'</sheetData><mergeCells count="1">'
                                    b'<mergeCell ref="A1:XFD1048576"/></mergeCells>')  # fmt: skip
            target.writestr(item, data)
    started = time.monotonic()
    doc = read_report(tmp_path / "report.xlsx")
    assert time.monotonic() - started < 10  # a guard against a hang, not a timing
    assert [[c.merged for c in r] for r in doc.tables[0].rows] == [[False, True], [True, True],
                                                                    [True, True]]  # fmt: skip
    assert doc.tables[0].rows[0][0].span == (1048576, 16384)


def test_docx_cells_merged_down_are_spans(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("指标完成表")
    table = d.add_table(rows=4, cols=3)
    for r, row in enumerate([["类别", "项目", "金额"], ["养护", "县道甲线", "30"],
                             ["", "乡道乙线", "20"], ["维修", "桥涵", "10"]]):  # fmt: skip
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    table.cell(1, 0).merge(table.cell(2, 0))
    d.add_paragraph("完。")
    d.save(tmp_path / "r.docx")
    (read,) = read_report(tmp_path / "r.docx").tables
    assert read.layout == "docx" and read.rows[1][0].span == (2, 1)
    assert read.rows[2][0].merged and read.row_label(2) == "养护 / 乡道乙线"


def test_unsupported_format_names_every_readable_one(tmp_path):
    (tmp_path / "r.odt").write_bytes(b"x")
    with pytest.raises(ReportError, match=r"\.txt、\.docx、\.pdf、\.xlsx 或 \.xls"):
        read_report(tmp_path / "r.odt")


def test_check_report_says_what_it_read(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text("附件：\n" + _as("pipe"), encoding="utf-8")
    audit = check_report(path)
    said = audit.read_line()
    assert said.startswith("已读取：表格 2 个") and "表格形式：竖线分隔 2 个，其中自评表 2 部分" in said
    assert f"数据 {len(audit.claims)} 个" in said and said.endswith("未读取：无。")
    assert audit.coverage.as_dict()["layouts"] == {"pipe": 2}


def test_read_report_keeps_the_path(tmp_path):
    path = Path(tmp_path / "r.txt")
    path.write_text(ALIGNED, encoding="utf-8")
    assert read_report(path).path == path
