"""Figures read out of a report, with subject, measure, role and rounding (ingest/claims.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import cn2an
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from jixiao.ingest.claims import Claim, extract_claims, interval
from jixiao.ingest.report import parse_text, read_report
from jixiao.schemas.vocabulary import VocabularyError, load_vocabulary
from tests.test_report_parse import SEED

VOCAB = load_vocabulary()


@pytest.fixture(scope="module")
def seed_claims() -> list[Claim]:
    if not SEED.exists():
        pytest.skip(
            "seed report ../shared/seeds/000_8efdcb375633a8df.txt not present in this checkout"
        )
    return extract_claims(read_report(SEED), VOCAB)


def claims_of(text: str, vocab=VOCAB) -> list[Claim]:
    return extract_claims(parse_text(text), vocab)


def only(claims: list[Claim], **fields) -> Claim:
    (claim,) = [c for c in claims if all(getattr(c, k) == v for k, v in fields.items())]
    return claim


def summary(c: Claim) -> tuple:
    return (c.text, c.value, c.exponent, c.unit, c.kind, c.subject, c.measure, c.role, c.bound)


# --- the seed -----------------------------------------------------------------------------


def test_seed_job_fair_target_actual_and_rate(seed_claims):
    line = [
        c for c in seed_claims if c.line == 60
    ]  # 开展招聘会场次不低于9场，实际完成5场，完成率55.56%
    assert [summary(c) for c in line] == [
        ("9场", 9, 0, "场", "count", "job_fairs", "events", "target", ">="),
        ("5场", 5, 0, "场", "count", "job_fairs", "events", "actual", None),
        ("55.56%", Decimal("55.56"), -2, "%", "percent", "job_fairs", "rate", "rate", None),
    ]
    assert interval(line[2]) == (Decimal("55.555"), Decimal("55.565"))
    assert interval(line[0]) == (9, 9)
    assert line[0].section[-1] == "1.总目标" and line[0].sentence.startswith("（1）开展招聘会")


def test_seed_counties_that_held_job_fairs(seed_claims):
    six = only(seed_claims, line=7, value=6)  # 6个县市区残联完成残疾人就业专场招聘会
    assert summary(six) == (
        "6个县市区",
        6,
        0,
        "个",
        "count",
        "job_fairs",
        "counties",
        "actual",
        None,
    )
    five = only(seed_claims, line=203, value=5)  # the same figure, stated differently later
    assert (five.subject, five.measure, five.role) == (six.subject, six.measure, six.role)
    nine = only(seed_claims, line=59, value=9)  # 支持9个县市区… under 绩效目标: a target
    assert (nine.subject, nine.measure, nine.role) == ("job_fairs", "counties", "target")


def test_seed_money_in_yuan_with_its_rounding(seed_claims):
    budget, spent = [c for c in seed_claims if c.line == 6]
    assert summary(budget) == (
        "33.5万元",
        335000,
        3,
        "元",
        "money",
        "budget",
        "money",
        "target",
        None,
    )
    assert spent.role == "actual"
    # The 5 of 33.5万 is in the 千 place (exponent 3): ± 500 元. DESIGN.md's example
    # "334,950–335,050" is ± 50, half a unit of the 百 place: it does not follow its own rule.
    assert interval(budget) == (Decimal("334500"), Decimal("335500"))
    visits = only(seed_claims, line=46, unit="元")  # …完成慰问，使用经费12万元
    assert (visits.value, visits.subject, visits.role) == (120000, "visits", "actual")
    assert only(seed_claims, line=45).subject == "job_fairs"  # 招聘会经费10.5万元
    standard = only(seed_claims, line=67, role="target", unit="元")  # 人均标准不低于400元
    assert (standard.measure, standard.subject, standard.bound) == ("per_unit", "visits", ">=")


def test_seed_dates_deadlines_and_ranges(seed_claims):
    deadline = only(seed_claims, line=52)  # 2022年12月30日前县（市）区完成…招聘会
    assert (deadline.date, deadline.bound, deadline.role) == (dt.date(2022, 12, 30), "by", "target")
    assert (deadline.subject, deadline.kind, deadline.value) == ("job_fairs", "date", None)
    first, one, done, _ = [c for c in seed_claims if c.line == 64]
    assert (first.date, first.subject, first.bound) == (dt.date(2022, 11, 30), "job_fairs", "by")
    assert summary(one) == ("一期", 1, 0, "期", "count", "job_fairs", "events", "target", ">=")
    assert (done.role, done.bound) == ("actual", None)
    start, end = [c for c in seed_claims if c.line == 101]  # 2023年4月21日至5月25日
    assert (start.date, end.date, end.text) == (
        dt.date(2023, 4, 21),
        dt.date(2023, 5, 25),
        "5月25日",
    )
    with pytest.raises(ValueError):
        interval(start)


def test_seed_scores_and_satisfaction(seed_claims):
    assert summary(only(seed_claims, line=9, unit="分"))[:8] == (
        "93分",
        93,
        0,
        "分",
        "score",
        "self_score",
        "score",
        "actual",
    )
    weight, score = [
        c for c in seed_claims if c.line == 147
    ]  # 1.项目决策（满分20分，评价得分20分）
    assert [(c.subject, c.role) for c in (weight, score)] == [
        ("decision", "target"),
        ("decision", "actual"),
    ]
    survey = only(seed_claims, line=225, unit="分")  # 群众满意度综合得分为96.49分
    assert (survey.subject, survey.value, survey.exponent) == ("satisfaction", Decimal("96.49"), -2)
    assert interval(only(seed_claims, line=61, role="rate")) == (Decimal("99.5"), Decimal("100.5"))


def test_seed_no_claims_from_numbering_documents_or_years(seed_claims):
    lines = {c.line for c in seed_claims}
    # 第二十二条, （1）…（5）, 云政发〔2015〕91号, 昆发〔2019〕12号, 财预〔2011〕285号, 1.建立了…
    assert not lines & {12, 13, 14, 18, 19, 33, 34, 37, 76, 87, 89, 149, 553}
    assert [c.value for c in seed_claims if c.line == 41] == [6, 300, 10]  # not the （1）（2）（3）
    assert all(c.value != 2022 for c in seed_claims)
    assert not [
        c for c in seed_claims if c.line == 225 and c.subject == "job_fairs"
    ]  # a quoted question


def test_seed_table_cells(seed_claims):
    share = only(seed_claims, table=2, row=14, col=5)  # question 5, 占比, D
    assert summary(share) == (
        "8.11%",
        Decimal("8.11"),
        -2,
        "%",
        "percent",
        "satisfaction",
        "percent",
        None,
        None,
    )
    assert share.sentence.endswith(
        "5.您认为该项目在做好相应资金专款专用，无挪用、超范围、超标准使用方面做得如何： / 占比 › D（不满意）"
    )
    count = only(seed_claims, table=2, row=13, col=2)  # 人数 row: people, counted exactly
    assert (count.unit, count.kind, count.measure, interval(count)) == (
        "人",
        "count",
        "people",
        (33, 33),
    )
    assert only(seed_claims, table=2, row=15, col=7).unit == "分"  # 分数 row under 合计人数
    allocated = only(seed_claims, table=1, row=1, col=2)  # 下达金额 10.5 in a 单位：万元 table
    assert summary(allocated) == (
        "10.5",
        105000,
        3,
        "元",
        "money",
        "job_fairs",
        "money",
        "target",
        None,
    )
    total_spent = only(seed_claims, table=1, row=4, col=3)  # 合计 使用经费 33.5
    assert (total_spent.value, total_spent.subject, total_spent.role) == (
        335000,
        "budget",
        "actual",
    )
    assert not [c for c in seed_claims if c.table == 1 and c.col == 0]  # 序号 1, 2, 3
    rate = only(seed_claims, table=0, row=3, col=4)  # C项目绩效 得分率 91.67%
    assert (rate.measure, rate.role, rate.subject) == ("rate", "rate", "performance")
    weight = only(seed_claims, table=0, row=1, col=1)
    assert (weight.text, weight.unit, weight.exponent, weight.role) == ("20.00", "分", -2, "target")


# --- other programmes, other layouts ------------------------------------------------------

TRAINING = """\
某市2023年农村实用技术培训项目
绩效自评报告
一、项目基本情况
（一）项目概况
全年计划举办培训班不少于十二期，实际举办培训班十期，完成率83.33%。
培训学员不少于600人，实际培训学员542名。学员平均培训课时不少于40课时。
每名学员补贴标准150元，共发放补贴8.13万元。
（二）绩效目标
2023年10月31日前完成全部培训班。
培训情况统计表
\t序号\t培训班\t期数\t学员人数\t补贴金额（万元）
\t1\t种植技术培训班\t6\t330\t4.95
\t2\t养殖技术培训班\t4\t212\t3.18
\t合计\t\t10\t542\t8.13

某市农业农村局
二〇二三年十二月五日
"""

TRAINING_VOCABULARY = """
vocabulary:
  subjects:
    training: [培训班]
    trainees: [学员]
    subsidy: [补贴]
  measures:
    hours: {kind: count, units: [课时]}
  roles:
    actual: [发放]
"""


def test_a_programme_extends_the_vocabulary_in_yaml_without_code():
    plain = claims_of(TRAINING)
    assert {c.subject for c in plain if c.line in (5, 6, 7)} == {None}
    assert not [c for c in plain if "课时" in c.text]  # 课时 is no unit of the shared vocabulary
    vocab = load_vocabulary(yaml.safe_load(TRAINING_VOCABULARY))
    claims = claims_of(TRAINING, vocab)
    assert [summary(c) for c in claims if c.line == 5] == [
        ("十二期", 12, 0, "期", "count", "training", "events", "target", ">="),
        ("十期", 10, 0, "期", "count", "training", "events", "actual", None),
        ("83.33%", Decimal("83.33"), -2, "%", "percent", "training", "rate", "rate", None),
    ]
    assert [summary(c) for c in claims if c.line == 6] == [
        ("600人", 600, 0, "人", "count", "trainees", "people", "target", ">="),
        ("542名", 542, 0, "人", "count", "trainees", "people", "actual", None),
        ("40课时", 40, 0, "课时", "count", "trainees", "hours", "target", ">="),
    ]
    standard, paid = [c for c in claims if c.line == 7]
    assert (standard.value, standard.measure, standard.subject) == (150, "per_unit", "subsidy")
    assert (paid.value, paid.exponent, paid.role) == (81300, 2, "actual")
    deadline = only(claims, line=9)
    assert (deadline.date, deadline.bound, deadline.subject) == (
        dt.date(2023, 10, 31),
        "by",
        "training",
    )
    cells = {(c.row, c.col): c for c in claims if c.table == 0}
    assert set(cells) == {(r, c) for r in (1, 2, 3) for c in (2, 3, 4)}
    assert (cells[1, 2].unit, cells[1, 2].measure, cells[1, 2].subject) == (
        "期",
        "events",
        "training",
    )
    assert (cells[3, 3].value, cells[3, 3].sentence) == (542, "培训情况统计表 › 合计 › 学员人数")
    assert (cells[3, 4].value, cells[3, 4].exponent, cells[3, 4].subject) == (81300, 2, "subsidy")


def test_chinese_numerals_money_and_percent_words():
    text = "一、情况\n举办招聘会九场，慰问三百户，发放慰问金十二万元，另办两场，满意度百分之九十五，预算三十三点五万元。\n"
    found = [(c.text, c.value, c.exponent, c.unit) for c in claims_of(text)]
    assert found == [
        ("九场", 9, 0, "场"),
        ("三百户", 300, 0, "户"),
        ("十二万元", 120000, 4, "元"),
        ("两场", 2, 0, "场"),
        ("百分之九十五", 95, 0, "%"),
        ("三十三点五万元", 335000, 3, "元"),
    ]


def test_figures_that_are_not_claims():
    text = (
        "一、情况\n"
        "根据《残疾人就业条例》第二十二条和昆发〔2019〕12号文件，2022年残疾人就业服务约300人参加，"
        "另有50人左右旁听，5-10人为一组，一次性补助，十分满意。\n"
        "1.您认为该项目做得如何？\n"
        "（1）6个县市区完成。（2）2022年12月完成。\n"
        "20人员参与，3项目立项，每一位残疾人都有机会。\n"
    )
    assert [(c.line, c.text) for c in claims_of(text)] == [(4, "6个县市区")]


def test_table_units_from_header_row_label_and_caption():
    text = (
        "一、表\n"
        "支出与完成情况表\n"
        "单位：万元\n"
        "\t项目\t预算\t支出\t完成率\t人数\t日期\n"
        "\t招聘会\t10.5\t10.50\t95\t120\t2022-11-30\n"
        "\t慰问\t≥12\t-0.5\t100%\t300人\t2022年11月30日\n"
        "\n二、结论\n"
    )
    cells = {(c.row, c.col): c for c in claims_of(text) if c.table == 0}
    assert summary(cells[1, 1]) == (
        "10.5",
        105000,
        3,
        "元",
        "money",
        "job_fairs",
        "money",
        None,
        None,
    )
    assert (cells[1, 2].value, cells[1, 2].exponent, cells[1, 2].role) == (105000, 2, "actual")
    assert (cells[1, 3].unit, cells[1, 3].measure, cells[1, 3].role) == ("%", "rate", "rate")
    assert (cells[1, 4].unit, cells[1, 4].kind, interval(cells[1, 4])) == (
        "人",
        "count",
        (120, 120),
    )
    assert (cells[1, 5].date, cells[2, 5].date) == (dt.date(2022, 11, 30),) * 2
    assert (cells[2, 1].bound, cells[2, 1].role, cells[2, 1].value) == (">=", "target", 120000)
    assert cells[2, 2].value == -5000 and cells[2, 4].text == "300人"
    assert cells[2, 1].subject == "visits"


def test_bounds_per_unit_and_intervals():
    text = (
        "一、目标\n"
        "每户补贴标准400元/户，覆盖300户以上，人均成本不超过1.2千元，服务2.5万人次。\n"
        "二、完成\n"
        "补贴按时发放。\n"
    )
    per, households, cost, visits = claims_of(text)
    assert (per.text, per.measure, per.role) == ("400元/户", "per_unit", "target")  # under 目标
    assert (households.bound, households.role, interval(households)) == (">=", "target", (300, 300))
    assert (cost.value, cost.exponent, cost.bound, cost.measure) == (1200, 2, "<=", "per_unit")
    assert (visits.value, visits.unit, visits.measure) == (25000, "人次", "attendances")
    # 2.5万人次 is a count to the 千 place, not exact: ± 500
    assert interval(visits) == (Decimal("24500"), Decimal("25500"))
    assert per.section == ("一、目标",) and per.subject is None  # no vocabulary word for 补贴


def test_a_bare_number_with_no_unit_anywhere():
    text = "一、表\n\t项目\t数值\n\t甲\t37\n\n二、完\n"
    (claim,) = claims_of(text)
    assert (claim.unit, claim.kind, claim.measure) == ("", "number", None)
    assert interval(claim) == (Decimal("36.5"), Decimal("37.5"))


def test_vocabulary_merges_moves_cues_and_refuses_bad_blocks():
    moved = load_vocabulary({"roles": {"actual": ["下达"]}})
    (claim,) = claims_of("一、资金\n下达经费10万元。\n", moved)
    assert claim.role == "actual"
    assert only(claims_of("一、资金\n下达经费10万元。\n"), unit="元").role == "target"
    with pytest.raises(VocabularyError, match="未知的键"):
        load_vocabulary({"subject": {"x": ["y"]}})
    with pytest.raises(VocabularyError, match="kind"):
        load_vocabulary({"measures": {"x": {"kind": "weight", "units": ["吨"]}}})
    with pytest.raises(VocabularyError, match="columns"):
        load_vocabulary({"columns": {"吨数": "吨"}})


# --- numbers written any way round-trip ---------------------------------------------------


@st.composite
def written_figures(draw) -> tuple[str, Decimal, int]:
    """A figure as a report might write it, with the value and exponent it stands for."""
    form = draw(st.sampled_from(["integer", "grouped", "decimal", "wan", "chinese", "percent"]))
    if form == "chinese":
        n = draw(st.integers(0, 999))
        numeral = cn2an.an2cn(n)
        if n == 2 and draw(st.booleans()):
            numeral = "两"
        return f"{numeral}{draw(st.sampled_from(['场', '户', '人', '家']))}", Decimal(n), 0
    places = 0 if form in ("integer", "grouped") else draw(st.integers(1, 3))
    digits = draw(st.integers(0, 10**7))
    number = Decimal(digits).scaleb(-places)
    written = f"{number:,f}" if form == "grouped" else f"{number:f}"
    if form == "wan":
        return f"{written}万元", number.scaleb(4), 4 - places
    if form == "percent":
        return f"{written}{draw(st.sampled_from(['%', '％']))}", number, -places
    unit = draw(st.sampled_from(["元", "场", "户", "人", "分"]))
    return f"{written}{unit}", number, -places


@given(written_figures())
def test_written_figures_round_trip(figure):
    written, value, exponent = figure
    (claim,) = claims_of(f"一、完成情况\n本年度实际完成{written}，情况良好。\n")
    assert claim.text == written
    assert (claim.value, claim.exponent) == (value, exponent)
    assert claim.value.as_tuple().exponent == min(exponent, 0)  # written digits are kept
    low, high = interval(claim)
    assert low <= value <= high
