"""Reading a self-evaluation report into sections, paragraphs and tables (ingest/report.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jixiao.ingest.report import Document, ReportError, parse_text, read_report
from tests.conftest import REPO

SEED = REPO.parent / "shared" / "seeds" / "000_8efdcb375633a8df.txt"


@pytest.fixture(scope="module")
def seed() -> Document:
    if not SEED.exists():
        pytest.skip(
            "seed report ../shared/seeds/000_8efdcb375633a8df.txt not present in this checkout"
        )
    return read_report(SEED)


def _paragraph(doc: Document, line: int):
    return next(p for p in doc.paragraphs if p.line == line)


# --- the seed -----------------------------------------------------------------------------


def test_seed_title_unit_and_date(seed):
    assert seed.title == "2022年残疾人就业服务（对下）补助项目绩效自评报告"
    assert seed.unit == "昆明市残疾人综合服务中心"
    assert seed.dated == dt.date(2023, 5, 17)


def test_seed_has_the_score_expenditure_and_survey_tables(seed):
    score, spending, survey = seed.tables
    assert [t.index for t in seed.tables] == [0, 1, 2]
    assert score.title == "项目绩效指标体系得分情况"
    assert [c.text for c in score.rows[0]] == ["一级指标", "权重分", "得分", "扣分", "得分率"]
    assert score.text(4, 2) == "93.00"  # "93.00 " in the file: cells are stripped
    assert spending.title == "2022年度残疾人就业服务（对下）补助项目支出明细表"
    assert spending.unit == "万元"
    assert survey.title.endswith("社会公众满意度调查问卷统计表")
    assert survey.unit is None
    assert not any(t.truncated for t in seed.tables)


def test_seed_survey_table_rows_and_a_share(seed):
    survey = seed.tables[2]
    # header, 10 questions × (人数, 占比, 分数), 合计 × 3, 最终得分
    assert len(survey.rows) == 1 + 30 + 3 + 1
    row = next(
        r
        for r in range(1, len(survey.rows))
        if survey.row_label(r).startswith("5.") and survey.row_label(r).endswith("占比")
    )
    col = next(c for c in range(8) if survey.header(c).startswith("D"))
    assert survey.text(row, col) == "8.11%"
    assert survey.rows[row][col].line == 358


def test_seed_merged_rows_line_up_with_their_columns(seed):
    spending, survey = seed.tables[1], seed.tables[2]
    total = spending.rows[4]  # 合计 spans 序号 and 项目名称 in the original table
    assert spending.row_label(4) == "合计"
    assert [c.text for c in total] == ["", "合计", "33.5", "33.5", "0", ""]
    assert total[0].merged and spending.header(2) == "下达金额"
    footer = survey.rows[-1]  # 最终得分 / 权重 / 96.49: the figure sits under the total column
    assert footer[7].text == "96.49" and survey.header(7) == "合计人数"
    assert survey.index_columns() == frozenset() and spending.index_columns() == {0}


def test_seed_sections_follow_the_heading_numbering(seed):
    target = _paragraph(seed, 60)
    assert target.text.startswith("（1）开展招聘会场次不低于9场")
    assert target.kind == "body"  # a numbered list item, not a heading
    assert target.section == ("正文", "一、项目基本情况", "（二）绩效目标", "1.总目标")
    decision = _paragraph(seed, 147)
    assert decision.kind == "heading"
    assert decision.section[-1] == "1.项目决策（满分20分，评价得分20分）"
    assert _paragraph(seed, 154).section[-1] == "①预算批复及调整情况"
    # a run-in heading is named by its first sentence
    assert _paragraph(seed, 49).section[-2] == "4.组织及管理情况"
    # the summary and the body are two parts: their 一、 do not mix
    assert _paragraph(seed, 7).section[0] == "摘要"
    assert _paragraph(seed, 541).section == ("正文", "五、主要经验及做法、存在的问题和建议")
    assert _paragraph(seed, 41).kind == "body"  # （1）6个县市区残联… states figures
    assert _paragraph(seed, 553).kind == "body"  # a long "1." line is a list item
    assert seed.tables[1].section[-1] == "③资金支出及跟踪管理情况"


def test_seed_caption_title_and_signature_lines_are_marked(seed):
    kinds = {p.line: p.kind for p in seed.paragraphs}
    assert [kinds[n] for n in (161, 162, 163)] == ["caption"] * 3
    assert kinds[28] == kinds[29] == "title"
    assert kinds[559] == kinds[560] == "signature"


# --- headings, captions and signatures in other layouts -----------------------------------

OTHER = """\
某县2023年道路养护补助项目
绩效自评报告
第一部分 项目概况
一、基本情况
（一）项目内容
1.养护里程
全年计划养护农村公路不少于120公里，实际完成126.5公里。
2、资金安排。本项目资金由县财政统筹。
（1）日常养护
（2）2023年6月30日前完成路面修补，实际完成时间2023年6月20日。
①路面修补
3.定期对养护质量进行抽查，对发现的问题及时整改，确保养护质量达到规定标准要求。
二、绩效评价结论
附件1：评分表
某县交通运输局（盖章）
二〇二四年一月十五日
"""


def test_headings_levels_and_list_items():
    doc = parse_text(OTHER)
    heads = {p.text: p.section for p in doc.paragraphs if p.kind == "heading"}
    assert heads["1.养护里程"] == (
        "第一部分 项目概况",
        "一、基本情况",
        "（一）项目内容",
        "1.养护里程",
    )
    assert heads["2、资金安排。本项目资金由县财政统筹。"][-1] == "2、资金安排"
    assert heads["（1）日常养护"][-2:] == ("2、资金安排", "（1）日常养护")
    assert heads["①路面修补"][-1] == "①路面修补"
    assert heads["二、绩效评价结论"] == ("第一部分 项目概况", "二、绩效评价结论")
    assert heads["附件1：评分表"] == ("附件1：评分表",)
    body = {p.text[:6]: p for p in doc.paragraphs if p.kind == "body"}
    assert "（2）202" in body  # states a date: content, not a title
    assert body["3.定期对养"].section[-1] == "①路面修补"  # long, with commas: a list item


def test_title_signature_with_seal_and_date_in_words():
    doc = parse_text(OTHER)
    assert doc.title == "某县2023年道路养护补助项目绩效自评报告"
    assert doc.unit == "某县交通运输局"
    assert doc.dated == dt.date(2024, 1, 15)


def test_a_sentence_ending_in_a_date_is_no_signature():
    doc = parse_text("一、评价情况\n评价工作于2023年5月17日\n")
    assert doc.dated is None and doc.unit is None


TABLES = """\
一、设备采购
表1 设备采购明细表（单位：元）
\t序号\t设备\t数量（台）\t金额
\t1\t电脑\t20\t100,000.00
\t2\t打印机\t5\t12,500.00
\t合计\t\t25\t112,500.00

二、结论
\t这一段缩进了一个制表符，但只是正文。

\t下一段也是。
"""


def test_tab_separated_rows_on_one_line_and_indented_prose():
    doc = parse_text(TABLES)
    (table,) = doc.tables
    assert table.title == "表1 设备采购明细表" and table.unit == "元"
    assert [c.text for c in table.rows[3]] == ["合计", "", "25", "112,500.00"]
    assert table.row_label(3) == "合计" and table.row_label(1) == "电脑"
    assert not table.truncated
    # Tab-indented lines that never make a row of two cells are paragraphs.
    prose = [p for p in doc.paragraphs if p.section == ("二、结论",) and p.kind == "body"]
    assert [(p.text[:3], p.line) for p in prose] == [("这一段", 9), ("下一段", 11)]


def _table(rows: list[list[str]], after: str = "三、结论\n") -> str:
    body = "\n\n".join("\n".join("\t" + c for c in row) for row in rows)
    return f"二、满意度\n满意度调查统计表\n{body}\n\n{after}"


SURVEY = [
    ["题目", "项目", "A", "B", "C", "合计人数"],
    ["1.您满意吗", "人数", "30", "5", "2", "37"],
    ["", "占比", "81.08%", "13.51%", "5.41%", "100%"],
    ["2.您满意吗", "人数", "31", "5", "1", "37"],
    ["", "占比", "83.78%", "13.51%", "2.70%", "100%"],
]


def test_whole_table_and_a_merged_footer_are_not_truncated():
    doc = parse_text(_table([*SURVEY, ["最终得分", "权重", "96.49"]]))
    (table,) = doc.tables
    assert not table.truncated and table.problem is None
    assert table.text(5, 5) == "96.49"


def test_a_row_missing_a_share_is_flagged():
    for damaged in (2, 4):  # in the middle, and as the last row with text after the table
        rows = [*SURVEY]
        rows[damaged] = ["", "占比", "83.78%", "13.51%", "100%"]
        (table,) = parse_text(_table(rows)).tables
        assert table.truncated
        assert table.problem == (f"第{damaged + 1}行只有5个单元格，多数行为6个",
                                 f"row {damaged + 1} has only 5 cells, most rows 6")


def test_a_table_cut_off_at_the_end_of_the_file_is_flagged():
    text = _table([*SURVEY, ["3.您满意吗", "人数", "29"]], after="")
    (table,) = parse_text(text).tables
    assert table.truncated and "第6行" in table.problem.zh and "row 6" in table.problem("en")


def test_a_table_ending_the_file_without_its_promised_total_is_flagged():
    rows = [["项目", "人数", "合计"], ["甲", "3", "3"], ["乙", "4", "4"]]
    (table,) = parse_text(_table(rows, after="")).tables
    assert table.truncated and "合计行" in table.problem.zh
    (whole,) = parse_text(_table(rows)).tables  # text follows: the table is whole
    assert not whole.truncated


def test_a_row_with_extra_filled_cells_is_flagged_but_a_trailing_empty_cell_is_not():
    rows = [["项目", "人数"], ["甲", "3", ""], ["乙", "4"]]
    assert not parse_text(_table(rows)).tables[0].truncated
    rows[1][2] = "9"
    assert parse_text(_table(rows)).tables[0].truncated


# --- files: encodings, .docx, errors ------------------------------------------------------


def _structure(doc: Document):
    """Everything but line numbers, which differ between text and .docx by design."""
    return (
        doc.title,
        doc.unit,
        doc.dated,
        [(p.text, p.section, p.kind) for p in doc.paragraphs],
        [
            (t.title, t.unit, t.section, t.truncated, [[c.text for c in r] for r in t.rows])
            for t in doc.tables
        ],
    )


REPORT = """\
某区2023年就业培训补贴项目
绩效自评报告
一、项目基本情况
（一）项目概况
全年计划举办培训班不少于十二期，实际举办十期，完成率83.33%。
培训经费支出明细表
单位：万元
\t序号
\t项目
\t预算
\t支出

\t1
\t培训班
\t20
\t19.6

\t合计
\t
\t20
\t19.6

二、评价结论
自评得分92分。
某区人力资源和社会保障局
2024年1月10日
"""


def test_utf8_bom_and_gb18030_read_the_same(tmp_path):
    plain = tmp_path / "a.txt"
    plain.write_bytes(REPORT.encode("utf-8"))
    bom = tmp_path / "b.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + REPORT.encode("utf-8"))
    gb = tmp_path / "c.txt"
    gb.write_bytes(REPORT.encode("gb18030"))
    expected = _structure(read_report(plain))
    assert _structure(read_report(bom)) == expected
    assert _structure(read_report(gb)) == expected
    assert expected[0] == "某区2023年就业培训补贴项目绩效自评报告"
    assert read_report(gb).tables[0].rows[2][0].line == 18


def _docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    for text in REPORT.split("培训经费支出明细表")[0].splitlines():
        d.add_paragraph(text)
    d.add_paragraph("培训经费支出明细表")
    d.add_paragraph("单位：万元")
    table = d.add_table(rows=3, cols=4)
    for r, row in enumerate([["序号", "项目", "预算", "支出"], ["1", "培训班", "20", "19.6"]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    total = table.cell(2, 0).merge(table.cell(2, 1))  # 合计 spans two columns, as in Word
    total.text = "合计"
    table.cell(2, 2).text = "20"
    table.cell(2, 3).text = "19.6 "
    for text in REPORT.split("\n\n")[-1].splitlines():
        d.add_paragraph(text)
    d.save(path)
    return path


def test_docx_reads_like_the_text_version(tmp_path):
    doc = read_report(_docx(tmp_path / "r.docx"))
    text = parse_text(REPORT)
    assert _structure(doc) == _structure(text)
    assert doc.tables[0].rows[2][0].text == "合计"
    # Word knows 合计 spans two columns; the text only shows an empty cell.
    table = doc.tables[0]
    assert table.rows[2][1].merged and not text.tables[0].rows[2][1].merged
    # .docx lines: one per paragraph, one per table row
    assert [table.line, table.rows[2][0].line] == [8, 10]
    assert next(p for p in doc.paragraphs if p.text == "二、评价结论").line == 11


def test_docx_heading_styles_and_one_column_layout_tables(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("项目概况", style="Heading 1")  # numbered by Word, not in the text
    d.add_paragraph("培训学员542名。")
    frame = d.add_table(rows=1, cols=1)  # a box drawn around prose
    frame.cell(0, 0).text = "（一）补充说明\n本年度举办培训班十期。"
    d.add_paragraph("某区人社局")
    d.add_paragraph("2024年1月10日")
    d.save(tmp_path / "s.docx")
    doc = read_report(tmp_path / "s.docx")
    assert not doc.tables
    assert [(p.text, p.section, p.kind) for p in doc.paragraphs] == [
        ("项目概况", ("项目概况",), "heading"),
        ("培训学员542名。", ("项目概况",), "body"),
        ("（一）补充说明", ("项目概况", "（一）补充说明"), "heading"),
        ("本年度举办培训班十期。", ("项目概况", "（一）补充说明"), "body"),
        ("某区人社局", ("项目概况", "（一）补充说明"), "signature"),
        ("2024年1月10日", ("项目概况", "（一）补充说明"), "signature"),
    ]
    assert [p.line for p in doc.paragraphs] == [1, 2, 3, 3, 4, 5]


def test_unreadable_files_raise_one_chinese_sentence(tmp_path):
    cases = {
        "missing.txt": None,
        "empty.txt": b"",
        "blank.txt": b" \n\t\n",
        "report.pdf": b"%PDF-1.4",
        "utf16.txt": "绩效自评报告".encode("utf-16"),
        "broken.docx": b"not a zip",
    }
    for name, data in cases.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(ReportError) as error:
            read_report(path)
        message = str(error.value)
        assert name in message and message.endswith("。") and message.count("。") == 1
