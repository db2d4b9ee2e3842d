"""The report against the records: stated figures and rates against what the records give."""

from decimal import Decimal
from pathlib import Path

from jixiao.checks.against_records import (
    claimed_value,
    measured,
    rates_disagree,
    recorded_evidence,
    records_disagree,
)
from jixiao.ingest.claims import extract_claims
from jixiao.ingest.report import parse_text
from jixiao.schemas.programme import load_programme
from jixiao.schemas.vocabulary import load_vocabulary
from jixiao.scoring.metrics import Source

PROGRAMME = load_programme(Path(__file__).resolve().parent.parent / "sample" / "programme.yaml")
VOCAB = load_vocabulary(PROGRAMME.vocabulary)
REPORT = """一、项目概况
本年度，六个县（市、区）举办残疾人就业专场招聘会。
二、绩效分析
（1）开展招聘会场次：目标不少于9场，实际完成6场，完成率66.67%。
（2）慰问就业困难户数：目标不少于300户，实际完成300户，完成率100.00%。
"""


def audit(values: dict[str, Decimal]):
    claims = extract_claims(parse_text(REPORT), VOCAB)
    measures = measured(PROGRAMME, values, {}, VOCAB)
    return (
        claims,
        measures,
        [
            *records_disagree(claims, measures),
            *rates_disagree(claims, PROGRAMME, values, VOCAB),
        ],
    )


def test_figures_and_rates_that_the_records_contradict():
    values = {"job_fairs_held": Decimal(5), "households_visited": Decimal(300),
              "job_fair_counties": Decimal(5)}  # fmt: skip
    _, _, findings = audit(values)
    got = {(f.subject, f.claimed, f.observed) for f in findings}
    assert got == {
        ("indicator:job_fairs_held", "6场", "5场"),
        ("indicator:job_fair_counties", "六个县（市、区）", "5个"),
        ("rate:job_fairs_held", "66.67%", "55.56%"),
    }
    assert all(f.severity == "error" for f in findings)
    # Without the county files asked for, the records' side says what they give, no jargon.
    assert [f.evidence[-1].text for f in findings] == [
        "区县报送记录：开展招聘会场次 5场",
        "区县报送记录：举办招聘会的县（市、区）数 5个",
        "区县报送记录：开展招聘会场次实际 5场，目标 9场",
    ]


def test_records_that_agree_raise_nothing():
    values = {"job_fairs_held": Decimal(6), "households_visited": Decimal(300),
              "job_fair_counties": Decimal(6)}  # fmt: skip
    claims, measures, findings = audit(values)
    assert findings == []
    fairs = next(m for m in measures if m.id == "job_fairs_held")
    assert claimed_value(claims, fairs) == Decimal(6)


def test_a_budget_execution_rate_the_report_states_is_shown_and_checked():
    """预算执行率 is about the budget as a percentage: the rate the report states is what the
    report says for the indicator, and one the records do not give is a finding."""
    text = REPORT + "（3）预算执行率：全年预算执行率为97.20%。\n"
    claims = extract_claims(parse_text(text), VOCAB)
    measures = measured(PROGRAMME, {"budget_execution": Decimal(100)}, {}, VOCAB)
    rate = next(m for m in measures if m.id == "budget_execution")
    assert (rate.subject, rate.unit) == ("budget", "%")
    assert claimed_value(claims, rate) == Decimal("97.20")
    (f,) = records_disagree(claims, [rate])
    assert (f.subject, f.claimed, f.observed) == ("indicator:budget_execution", "97.20%", "100%")


def test_the_records_side_names_counties_their_figures_and_files():
    """recorded_evidence: a sum of few counties gives each county's part; an average (the
    counties' own figures do not add up to it) or many counties only name them, 等 after
    five; every file and sheet is a piece of evidence with its county and file fields."""
    def source(code: str, name: str, value: str | None, file: str = "") -> Source:
        return Source(code, name, file or f"counties/{code}.xlsx", "慰问", "慰问", 2,
                      value and Decimal(value))  # fmt: skip

    few = (source("530102", "五华区", "800"), source("530103", "盘龙区", "400"))
    head, *files = recorded_evidence("区县报送记录：慰问金额 1200 元", Decimal(1200), "元", few)
    assert head.text == ("区县报送记录：慰问金额 1200 元，为五华区 800 元、盘龙区 400 元之和，"
                         "据各区县报送的「慰问」表计得")  # fmt: skip
    assert [(e.county_code, e.county, e.file, e.sheet, e.text) for e in files] == [
        ("530102", "五华区", "counties/530102.xlsx", "慰问", "五华区「慰问」2 行，计 800 元"),
        ("530103", "盘龙区", "counties/530103.xlsx", "慰问", "盘龙区「慰问」2 行，计 400 元"),
    ]
    head, *_ = recorded_evidence("区县报送记录：人均 400 元", Decimal(400), "元",
                                 (source("530102", "五华区", "400"), source("530103", "盘龙区", "400")))
    assert head.text.endswith("，据五华区、盘龙区报送的「慰问」表计得")  # an average: no parts
    many = tuple(source(f"5301{i:02}", f"县{i}", None) for i in range(7))
    head, *files = recorded_evidence("区县报送记录：户数 14户", Decimal(14), "户", many)
    assert head.text.endswith("，据县0、县1、县2、县3、县4 等 7 个区县报送的「慰问」表计得")
    assert len(files) == 7 and all(e.text.endswith("2 行") for e in files)
