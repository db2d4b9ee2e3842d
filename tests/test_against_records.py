"""The report against the records: stated figures and rates against what the records give."""

from decimal import Decimal
from pathlib import Path

from jixiao.checks.against_records import claimed_value, measured, rates_disagree, records_disagree
from jixiao.ingest.claims import extract_claims
from jixiao.ingest.report import parse_text
from jixiao.schemas.programme import load_programme
from jixiao.schemas.vocabulary import load_vocabulary

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
