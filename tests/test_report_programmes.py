"""Reports of other programmes (issue 13: "reports of other programmes restating real
figures: ≥ 8 of 10"): ten short reports of our own in the genre — medical aid, farming,
special education, employment, old-age allowances — none of them the sample's programme,
each restating figures that real offices published (the development corpus's R04, R06,
R07, R12, R15, R16, R20: figures only, never their sentences), each with one problem
planted of a kind the report rules exist for, and its clean twin.

No programme vocabulary is given: every finding rests on the genre's words alone. The
reports are written as text (tables in the tab-led layout) and, where marked, as Word.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from jixiao.checks.report_check import check_report
from tests.test_report_form import write_docx, write_text

# --- the national form, for the reports that hold one -----------------------------------------


def form(funds: list[list[str]], indicators: list[list[str]], total: list[str]) -> list[list[str]]:
    """A 项目支出绩效自评表 of nine columns: funds rows (label, 年初, 全年, 执行, 分值, 执行率,
    得分), indicator rows (一级, 二级, 三级, 指标值, 完成值, 分值, 得分, 原因) and 总分."""
    head = [["项目资金（万元）", "<", "<", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"]]
    rows = [[label, "<", "<", *cells] for label, *cells in funds]
    ind = [["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
            "偏差原因分析及改进措施"]]  # fmt: skip
    ind += [["^", *row] for row in indicators]
    return [*head, *rows, *ind, ["总分", "<", "<", "<", "<", "<", *total, ""]]


MEDICAL_FORM = form(
    [["年度资金总额", "3359.62", "3359.62", "3359.62", "10", "100%", "10"],
     ["其中：中央财政资金", "829.3", "829.3", "829.3", "—", "—", "—"],
     ["地方资金", "2530.32", "2530.32", "2530.32", "—", "—", "—"]],
    [["产出指标（50分）", "数量指标", "享受医疗救助人次", "≥50000人次", "110406人次", "30", "30", ""],
     ["^", "质量指标", "医疗救助合规率", "100%", "100%", "20", "20", ""],
     ["效益指标（30分）", "社会效益指标", "困难群众因病致贫返贫发生率", "≤5%", "3%", "30", "30", ""],
     ["满意度指标（10分）", "服务对象满意度指标", "救助对象满意度", "≥90%", "95%", "10", "10", ""]],
    ["100", "100"],
)  # fmt: skip

# 94 / 650 = 14.46%, 20 × 14.46% = 2.89 → 2.9; 6 of 15 entities and 4164 of 11442 households
# missed, scored in proportion (20 × 6/15 = 8.0, 20 × 4164/11442 = 7.3) with a reason.
FARMING_FORM = form(
    [["年度资金总额", "650", "650", "94", "20", "14.46%", "2.9"],
     ["其中：当年财政拨款", "650", "650", "94", "—", "—", "—"]],
    [["产出指标（40分）", "数量指标", "扶持发展新型农业经营主体", "≥15个", "6个", "20", "8.0",
      "部分经营主体不具备扶持条件"],
     ["^", "^", "带动建档立卡贫困户", "≥11442人", "4164人", "20", "7.3", "带动能力有限"],
     ["效益指标（30分）", "经济效益指标", "新型经营主体实现产值", "≥8000万元", "12767.36万元", "20", "20", ""],
     ["^", "^", "新型经营主体助农增收", "≥1980元", "2074元", "10", "10", ""],
     ["满意度指标（10分）", "服务对象满意度指标", "服务对象满意度", "≥90%", "100%", "10", "10", ""]],
    ["100", "58.2"],
)  # fmt: skip

# 692.98 / 808.1 = 85.75%, written 86% as the office wrote it; 10 × 85.75% = 8.58 → 8.6.
EMPLOYMENT_FORM = form(
    [["年度资金总额", "808.1", "808.1", "692.98", "10", "86%", "8.6"],
     ["其中：中央财政资金", "808.1", "808.1", "692.98", "—", "—", "—"]],
    [["产出指标（50分）", "数量指标", "城镇新增就业人数", "≥1200人", "1350人", "25", "25", ""],
     ["^", "质量指标", "补贴资金发放准确率", "100%", "100%", "25", "25", ""],
     ["效益指标（30分）", "社会效益指标", "城镇登记失业率", "≤4.5%", "3.2%", "30", "30", ""],
     ["满意度指标（10分）", "服务对象满意度指标", "补贴对象满意度", "≥90%", "96%", "10", "10", ""]],
    ["100", "98.6"],
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    """A report of another programme: its blocks (paragraphs, and grids for tables), the one
    change that plants a problem (``old`` → ``new`` in one paragraph or cell), the rule that
    must find it, and whether it is written as Word."""

    programme: str
    blocks: tuple
    old: str
    new: str
    rule: str
    docx: bool = False

    def write(self, path: Path, planted: bool) -> Path:
        blocks = [self._plant(b) if planted else b for b in self.blocks]
        if self.docx:
            return write_docx(path.with_suffix(".docx"), blocks)
        path.with_suffix(".txt").write_text(write_text(blocks), encoding="utf-8")
        return path.with_suffix(".txt")

    def _plant(self, block):
        if isinstance(block, str):
            return block.replace(self.old, self.new)
        return [[self.new if cell == self.old else cell for cell in row] for row in block]

    def planted_once(self) -> bool:
        texts = [b for b in self.blocks if isinstance(b, str)]
        texts += [cell for b in self.blocks if not isinstance(b, str) for row in b for cell in row]
        return sum(t.count(self.old) for t in texts) == 1


CASES = {
    # R16: 3359.62万 = 829.3 + 2530.32; a part of the inline list no longer makes the total.
    "medical aid, parts": Case(
        "医疗救助",
        ("某县医疗救助补助资金2024年度绩效自评报告", "一、项目基本情况",
         "2024年全县下达医疗救助补助资金3359.62万元，其中中央财政资金829.3万元、地方资金2530.32万元。",
         "二、绩效目标完成情况", "全年享受医疗救助110406人次，医疗救助合规率100%。",
         "三、结论", "资金已按规定全部拨付使用。"),
        "地方资金2530.32万元", "地方资金2520.32万元", "REPORT.PARTS_TOTAL"),
    # R16: 110406 人次 in the form's row; the prose restates it wrongly.
    "medical aid, prose against its row": Case(
        "医疗救助",
        ("某县医疗救助补助资金转移支付2024年度绩效自评报告", "一、绩效目标完成情况",
         "全年享受医疗救助110406人次，救助对象满意度95%。", "附表1", "项目支出绩效自评表",
         MEDICAL_FORM, "二、结论", "项目实施达到预期效果。"),
        "全年享受医疗救助110406人次", "全年享受医疗救助101406人次", "REPORT.FIGURE_DISAGREES",
        docx=True),
    # R07: 6 of ≥15 entities in the form; the prose calls it met.
    "farming, missed target called met": Case(
        "新型农业经营主体扶持",
        ("某县2019年新型农业经营主体扶持项目绩效自评报告", "一、绩效目标完成情况",
         "全年扶持新型农业经营主体6个，未完成年度目标，原因见偏差分析。",
         "带动建档立卡贫困户4164人，新型经营主体助农增收2074元。",
         "附表1", "项目支出绩效自评表", FARMING_FORM, "二、结论", "部分目标未完成，需继续推进。"),
        "未完成年度目标", "已完成年度目标", "REPORT.MISSED_TARGET_CLAIMED"),
    # R07: 94 of 650万 is 14.46%, not 16.46%.
    "farming, execution rate": Case(
        "新型农业经营主体扶持",
        ("某县2019年新型农业经营主体扶持项目绩效自评报告", "一、预算执行情况",
         "本项目预算资金650万元，实际支出94万元，为预算金额的14.46%。",
         "二、存在的问题", "项目先建后补，部分经营主体不具备补助条件，资金结余较多。"),
        "预算金额的14.46%", "预算金额的16.46%", "REPORT.RATE_RECOMPUTED"),
    # R04: 9 students × 0.6万 = 5.4万.
    "special education, count × standard": Case(
        "特殊教育",
        ("某县2023年度特殊教育公用经费补助资金绩效自评报告", "一、项目实施情况",
         "全年补助特殊教育学生9人，补助标准为每生每年0.6万元，共发放补助资金5.4万元。",
         "二、结论", "资金拨付及时，使用规范。"),
        "共发放补助资金5.4万元", "共发放补助资金6.46万元", "REPORT.PRODUCT"),
    # R04: 中央4.68 + 省1.76 + 市0.02 = 6.46万; the central fund restated differently.
    "special education, a fund stated twice": Case(
        "特殊教育",
        ("某县2023年度特殊教育补助资金绩效自评报告", "一、项目资金情况",
         "全年预算资金6.46万元，其中中央资金4.68万元、省级资金1.76万元、市级资金0.02万元。",
         "二、资金来源", "本项目中央资金4.68万元，由县财政局转下达到校。",
         "三、结论", "资金使用规范。"),
        "中央资金4.68万元，由", "中央资金4.86万元，由", "REPORT.FIGURE_DISAGREES", docx=True),
    # R06: the purchases named after 即.
    "special education, count against its list": Case(
        "特殊教育",
        ("某县特殊教育补助资金2024年度绩效自评报告", "一、项目实施情况",
         "全年资金28.1万元，采购设备共4类，即培智教学软件、班班通设备、台式电脑、室外康复运动器材。",
         "二、结论", "采购手续合规。"),
        "采购设备共4类", "采购设备共5类", "REPORT.INCOMPLETE"),
    # R15: 692.98 / 808.1 = 85.75%, written 86%; planted 96%.
    "employment subsidy, execution rate in the form": Case(
        "就业补助",
        ("某区就业补助资金2024年度绩效自评报告", "一、绩效目标完成情况",
         "全年城镇新增就业1350人，补贴对象满意度96%。", "附表1", "项目支出绩效自评表",
         EMPLOYMENT_FORM, "二、结论", "部分资金因对象申领滞后结转使用。"),
        "86%", "96%", "REPORT.RATE_RECOMPUTED", docx=True),
    # R12: 1542.14 = 247.28 + 1294.86, 16.04% and 83.96%; a share planted wrong.
    "employment service, shares": Case(
        "就业服务",
        ("某县就业服务中心2020年度部门整体支出绩效自评报告", "一、部门支出情况",
         "全年总支出1542.14万元，其中基本支出247.28万元，占16.04%；项目支出1294.86万元，占83.96%。",
         "二、结论", "各项支出符合规定。"),
        "占83.96%", "占85.96%", "REPORT.RATE_RECOMPUTED"),
    # R20: 19 centenarians, 6.84万; a table's total row against its rows.
    "old-age allowance, table total": Case(
        "高龄津贴",
        ("某县民政局2020年度百岁老人高龄津贴项目绩效自评报告", "一、资金发放情况",
         "全年为19名百岁老人发放高龄津贴6.84万元。", "表1 高龄津贴发放情况",
         [["乡镇", "百岁老人人数（人）", "发放金额（元）"], ["城关镇", "5", "18000"],
          ["北乡镇", "6", "21600"], ["南乡镇", "8", "28800"], ["合计", "19", "68400"]],
         "二、结论", "津贴按月足额发放。"),
        "68400", "66400", "REPORT.TABLE_TOTAL"),
}  # fmt: skip


def findings(case: Case, tmp_path: Path, planted: bool):
    name = "planted" if planted else "clean"
    return check_report(case.write(tmp_path / name, planted)).findings


def test_the_set_is_of_other_programmes_with_one_problem_each():
    assert len(CASES) == 10 and len({c.programme for c in CASES.values()}) >= 5
    assert all("残疾人就业" not in c.programme for c in CASES.values())
    assert all(c.planted_once() for c in CASES.values())


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_clean_twin_gives_no_error(tmp_path, name):
    case = CASES[name]
    assert [f.message() for f in findings(case, tmp_path, False) if f.severity == "error"] == []


def test_at_least_eight_of_ten_planted_problems_are_found(tmp_path):
    found = {}
    for name, case in CASES.items():
        path = tmp_path / name.replace(" ", "_").replace(",", "")
        path.mkdir()
        rules = {f.rule_id for f in findings(case, path, True)}
        found[name] = case.rule in rules
    assert sum(found.values()) >= 8, [n for n, ok in found.items() if not ok]
