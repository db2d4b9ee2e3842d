"""Scoring (SCORING.md): every indicator kind at its edges, exact decimals, metric scoping,
and the bundled sample scored by hand from its real warehouse."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import jixiao.scoring.metrics as metrics_module
from jixiao.ingest.claims import extract_claims
from jixiao.ingest.discover import submissions
from jixiao.ingest.intake import Context, process
from jixiao.ingest.load import create_tables, refresh_budget_lines
from jixiao.ingest.report import read_report
from jixiao.schemas.programme import Indicator, Programme, load_programme
from jixiao.schemas.vocabulary import load_vocabulary
from jixiao.schemas.warehouse import METRICS, SCORES
from jixiao.scoring import (
    Metric,
    MetricError,
    ScoringError,
    claimed_scores,
    compute_metrics,
    grade,
    score,
    score_findings,
    scorecard_rows,
    store_metrics,
)

SAMPLE = Path(__file__).resolve().parent.parent / "data/raw/2022/530100-disability-employment"
D = Decimal


# --- a one-indicator programme --------------------------------------------------------------


def programme(**fields) -> Programme:
    """The indicator under test (id "x") plus a full-marks qualitative filler to weigh 100."""
    ind = {"id": "x", "level1": "项目绩效", "level2": "产出数量", "name": "开展招聘会场次"}
    ind |= fields
    filler = 100 - D(str(ind["weight"]))
    return Programme.model_validate(
        {
            "code": "p",
            "name": "测试项目",
            "unit": "测试单位",
            "year": 2022,
            "counties": {},
            "budget_lines": [],
            "sheets": [{"name": "s", "fields": [{"name": "f"}]}],
            "indicators": [
                ind,
                {
                    "id": "filler",
                    "level1": "项目决策",
                    "level2": "项目立项",
                    "name": "立项依据充分性",
                    "weight": filler,
                    "kind": "qualitative",
                    "score": filler,
                    "reason": "依据充分",
                },
            ],
        }
    )


def scored(actual: Decimal | dt.date | None = None, *, late_days: int = 30, **fields):
    """Score indicator "x" whose metric gave ``actual``."""
    prog = programme(**({"metric": "SELECT 1"} if fields["kind"] != "qualitative" else {}) | fields)
    is_date = isinstance(actual, dt.date)
    metric = Metric(
        "r", "p", 2022, "x", "x", None if is_date else actual, actual if is_date else None, None, ""
    )
    card = score(prog, {"x": metric}, late_days=late_days)
    return card.indicators[0]


def higher(actual, target, weight=6, unit="场"):
    return scored(D(actual), kind="higher", weight=weight, target=target, unit=unit)


def lower(actual, target, weight=10):
    return scored(D(actual), kind="lower", weight=weight, target=target, unit="元")


# --- higher is better -------------------------------------------------------------------------


def test_higher_below_target_is_prorated_and_explained():
    s = higher(5, 9)
    assert s.score == D("3.33") and s.deduction == D("2.67")
    assert s.explanation == "实际 5 场，低于目标 9 场：6 × 5/9 = 3.33，扣 2.67 分"


def test_higher_exactly_at_target_scores_full():
    s = higher(9, 9)
    assert s.score == D("6.00") and not s.far_above


def test_higher_at_130_percent_scores_full_but_must_be_explained():
    at = higher(13, 10)  # exactly 130%
    assert at.score == 6 and at.far_above
    assert "130%" in at.explanation and "须说明原因" in at.explanation
    below = higher(D("12.99"), 10)  # 129.9%: no note
    assert below.score == 6 and not below.far_above and "须说明" not in below.explanation


def test_higher_zero_or_negative_actual_scores_zero():
    assert higher(0, 9).score == 0
    assert higher(-3, 9).score == 0


# --- lower is better --------------------------------------------------------------------------


def test_lower_at_target_scores_full():
    assert lower(100, 100).score == 10
    assert lower(80, 100).score == 10


def test_lower_between_target_and_twice_is_reduced():
    s = lower(150, 100)  # 10 × (1 − 50/100)
    assert s.score == D("5.00")
    assert (
        s.explanation == "实际 150 元，高于目标 100 元：10 × (1 − (150 − 100)/100) = 5.00，扣 5 分"
    )
    assert lower(199, 100).score == D("0.10")  # 10 × (1 − 99/100)


def test_lower_at_twice_target_scores_zero():
    s = lower(200, 100)
    assert s.score == 0 and "2 倍" in s.explanation
    assert lower(250, 100).score == 0


# --- equal -----------------------------------------------------------------------------------


def test_equal_zero_target():
    assert scored(D(0), kind="equal", weight=5, target=0, unit="次").score == 5
    miss = scored(D(1), kind="equal", weight=5, target=0, unit="次")
    assert miss.score == 0 and "不符合" in miss.explanation


def test_equal_non_zero_target_is_scored_as_higher():
    assert scored(D(5), kind="equal", weight=6, target=9).score == D("3.33")
    assert scored(D(9), kind="equal", weight=6, target=9).score == 6


# --- deadline --------------------------------------------------------------------------------

DUE = dt.date(2022, 11, 30)


def deadline(done, late="zero", **kw):
    return scored(done, kind="deadline", weight=5, target=DUE, late=late, **kw)


def test_deadline_on_or_before_the_date_scores_full():
    assert deadline(DUE).score == 5
    assert deadline(dt.date(2022, 10, 30)).score == 5


def test_deadline_late_scores_zero_when_declared_so():
    s = deadline(dt.date(2022, 12, 1))
    assert s.score == 0 and "晚于期限 2022-11-30 1 天" in s.explanation


def test_deadline_late_per_day_falls_linearly_to_zero_at_30_days():
    s = deadline(dt.date(2022, 12, 10), "per_day")  # 10 days: 5 × (1 − 10/30)
    assert s.score == D("3.33") and "1/30" in s.explanation
    assert deadline(dt.date(2022, 12, 1), "per_day").score == D("4.83")  # 5 × 29/30
    assert deadline(dt.date(2022, 12, 30), "per_day").score == 0  # 30 days
    assert deadline(dt.date(2023, 3, 1), "per_day").score == 0
    # The 30 is a parameter: over 10 days, 5 days late keeps half.
    assert deadline(dt.date(2022, 12, 5), "per_day", late_days=10).score == D("2.50")


def test_deadline_never_done_scores_zero():
    s = deadline(None)
    assert s.score == 0 and "无完成记录" in s.explanation


# --- qualitative -----------------------------------------------------------------------------


def test_qualitative_takes_the_auditors_score_and_reason():
    s = scored(kind="qualitative", weight=10, score=7, reason="制度执行不到位")
    assert s.score == 7 and s.deduction == 3
    assert "部分达成" in s.explanation and "制度执行不到位" in s.explanation


@pytest.mark.parametrize("given", [11, -1])
def test_qualitative_score_out_of_range_is_refused(given):
    with pytest.raises(ScoringError, match="超出 0–10 分"):
        scored(kind="qualitative", weight=10, score=given, reason="理由")


# --- budget execution ------------------------------------------------------------------------


def test_budget_execution_is_weight_times_rate():
    s = scored(D("87.5"), kind="budget_execution", weight=10, target=100, unit="%")
    assert s.score == D("8.75") and s.deduction == D("1.25")


def test_budget_execution_above_100_percent_is_capped():
    s = scored(D("105"), kind="budget_execution", weight=10, target=100, unit="%")
    assert s.score == 10 and "按 100% 计分" in s.explanation


# --- missing data ----------------------------------------------------------------------------


def test_satisfaction_without_survey_scores_zero():
    s = scored(None, kind="higher", weight=10, target=90, unit="分", name="参与人员满意度")
    assert s.score == 0 and "无满意度问卷数据支撑" in s.explanation


def test_other_indicator_without_records_scores_zero():
    s = scored(None, kind="higher", weight=6, target=9)
    assert s.score == 0 and "度量无结果" in s.explanation


# --- decimals, totals, grades ----------------------------------------------------------------


def test_scores_are_exact_decimals_rounded_half_up():
    s = higher(1, 8, weight=1)  # 1/8 = 0.125: half up gives 0.13 (banker's would give 0.12)
    assert s.score == D("0.13") and isinstance(s.score, Decimal)
    assert higher(1, 3, weight=5).score == D("1.67")
    assert str(higher(9, 9).score) == "6.00"


def test_level1_totals_and_total_are_sums_of_rounded_scores():
    prog = programme(kind="higher", weight=6, target=9, metric="SELECT 1")
    card = score(prog, {"x": Metric("r", "p", 2022, "x", "x", D(5), None, None, "")})
    assert [(s.name, s.score) for s in card.level1] == [("项目绩效", D("3.33")), ("项目决策", 94)]
    assert card.total == D("97.33") and card.grade == "优"


@pytest.mark.parametrize(
    ("total", "expected"),
    [("100", "优"), ("90", "优"), ("89.99", "良"), ("80", "良"), ("79.99", "中"), ("60", "中"),
     ("59.99", "差"), ("0", "差")],
)  # fmt: skip
def test_grades(total, expected):
    assert grade(D(total)) == expected


def test_scorecard_rows_have_the_scores_columns_and_claimed_scores():
    prog = programme(kind="higher", weight=6, target=9, metric="SELECT 1")
    card = score(
        prog,
        {"x": Metric("r", "p", 2022, "x", "x", D(5), None, None, "")},
        {"x": D(6), "项目绩效": D(6), "total": D(100)},
    )
    rows = scorecard_rows(card, "r1", "p", 2022)
    assert all(list(r) == [c.name for c in SCORES.columns] for r in rows)
    by_id = {r["indicator_id"]: r for r in rows}
    assert [r["level"] for r in rows] == [3, 3, 1, 1, 0]
    assert by_id["x"]["claimed_score"] == 6 and by_id["x"]["score"] == D("3.33")
    assert by_id["项目决策"]["claimed_score"] is None
    assert by_id["total"]["grade"] == "优" and by_id["total"]["claimed_score"] == 100


def test_score_findings_only_where_the_claim_differs_by_more_than_half_a_cent():
    prog = programme(kind="higher", weight=6, target=9, metric="SELECT 1")
    card = score(prog, {"x": Metric("r", "p", 2022, "x", "x", D(5), None, None, "")})
    claimed = {"x": D("3.335"), "项目决策": D(94), "项目绩效": D(6), "total": D("97.00")}
    found = {f.subject: f for f in score_findings(card, claimed)}
    assert set(found) == {"score:项目绩效", "score:total"}
    f = found["score:项目绩效"]
    assert (f.rule_id, f.claimed, f.observed) == ("REPORT.SCORE_DIFFERS", "6.00", "3.33")
    assert "6 × 5/9 = 3.33" in f.evidence[0].text


# --- metrics over a warehouse ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    """The real warehouse of the bundled sample, built by the plain ingest functions."""
    tmp = tmp_path_factory.mktemp("scoring")
    prog = load_programme(SAMPLE / "programme.yaml")
    path = tmp / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    create_tables(con, prog)
    refresh_budget_lines(con, prog)
    ctx = Context(prog, con, hash_key=b"k" * 32, run_id="t", feedback_dir=tmp / "feedback")
    for _ in process(submissions(SAMPLE, prog.county_template), ctx):
        pass
    con.close()
    return path


@pytest.fixture
def sample() -> Programme:
    return load_programme(SAMPLE / "programme.yaml")


@pytest.fixture
def con(sample_db: Path, tmp_path: Path):
    """A private read-write copy of the sample warehouse."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sample_db, path)
    con = duckdb.connect(str(path))
    yield con
    con.close()


def values(metrics: list[Metric]) -> dict[str, Decimal | dt.date | None]:
    return {m.indicator_id: m.value if m.value_date is None else m.value_date for m in metrics}


def test_sample_scored_by_hand(con, sample):
    metrics = compute_metrics(con, sample, "r1")
    got = values(metrics)
    # Satisfaction from the answers themselves, with programme.yaml's weights 10/8/6/4/2.
    answers = con.execute(
        "SELECT answer, count(*) FROM (UNPIVOT survey_responses ON COLUMNS('^q[0-9]+$') "
        "INTO NAME question VALUE answer) GROUP BY answer"
    ).fetchall()
    responses = con.execute("SELECT count(*) FROM survey_responses").fetchone()[0]
    assert dict(answers) == {"A": 311, "B": 31, "C": 28} and responses == 37
    satisfaction = sum(sample.survey.weights[a] * n for a, n in answers) / responses
    assert satisfaction == D(3526) / 37  # (311×10 + 31×8 + 28×6) / 37 = 95.2973 → 95.30

    assert got == {
        "budget_execution": D(100),  # spent 335,000.00 of the budget 105,000 + 110,000 + 120,000
        "job_fairs_held": D(5),
        "households_visited": D(300),
        "competition_entrants": D(51),
        "award_ratio": D("35.294118"),  # 18 placed of 51 entrants
        "job_fairs_by": dt.date(2022, 12, 26),  # the last county's first fair
        "visits_by": dt.date(2022, 11, 30),  # the last visit
        "competitions_by": dt.date(2022, 10, 30),  # the last competition
        "visit_standard": D(400),  # 120,000.00 元 over 300 people
        "employers_intending": D(84),
        "satisfaction": round(satisfaction, 6),
        # facts, not scored: counties that held fairs, visited, entered competitions
        "job_fair_counties": D(5),
        "visit_counties": D(10),
        "competition_counties": D(10),
    }
    card = score(sample, {m.indicator_id: m for m in metrics})
    by_hand = {
        "basis_sufficient": 10,  # qualitative: the auditor's 10 of 10
        "targets_reasonable": 10,  # qualitative: 10 of 10
        "budget_execution": 10 * 100 / 100,  # budget execution 100% → 10
        "rules_followed": 8,  # qualitative: 8 of 10
        "job_fairs_held": round(D(6) * 5 / 9, 2),  # 5 of 9 → 6 × 5/9 = 3.33
        "households_visited": 6,  # 300 ≥ 300 → 6
        "competition_entrants": 6,  # 51 ≥ 30 (170%: flagged) → 6
        "award_ratio": 6,  # 35.29% ≥ 30% → 6
        "job_fairs_by": 0,  # 4 counties' first fair after 11-30 (the last 12-26) → 0
        "visits_by": 5,  # last visit 11-30 → 5
        "competitions_by": 5,  # last competition 10-30 → 5
        "visit_standard": 5,  # 400 元 ≥ 400 元 → 5
        "employers_intending": 6,  # 84 ≥ 30 (280%: flagged) → 6
        "satisfaction": 10,  # 95.30 ≥ 90 → 10
    }
    assert {s.indicator.id: s.score for s in card.indicators} == by_hand
    assert {s.indicator.id for s in card.indicators if s.far_above} == {
        "competition_entrants",
        "employers_intending",
    }
    # 项目决策 10 + 10; 项目管理 10 + 8; 项目绩效 3.33 + 6 + 6 + 6 + 0 + 5 + 5 + 5 + 6 + 10.
    assert {s.name: s.score for s in card.level1} == {
        "项目决策": 20,
        "项目管理": 18,
        "项目绩效": D("52.33"),
    }
    assert card.total == D("90.33") and card.grade == "优"


@pytest.mark.parametrize("report", ["report.txt", "report.docx"])
def test_sample_report_claims_and_score_differences(con, sample, report):
    claims = extract_claims(read_report(SAMPLE / report), load_vocabulary(sample.vocabulary))
    claimed = claimed_scores(claims, sample)
    assert claimed == {"项目决策": 20, "项目管理": 18, "项目绩效": 55, "total": 93}
    metrics = {m.indicator_id: m for m in compute_metrics(con, sample, "r1")}
    card = score(sample, metrics, claimed)
    found = {f.subject: (f.claimed, f.observed) for f in score_findings(card, claimed)}
    assert found == {"score:项目绩效": ("55.00", "52.33"), "score:total": ("93.00", "90.33")}
    rows = scorecard_rows(card, "r1", sample.code, sample.year)
    con.execute(SCORES.ddl())
    con.executemany(
        f"INSERT INTO scores VALUES ({', '.join('?' * len(SCORES.columns))})",
        [list(r.values()) for r in rows],
    )
    stored = dict(
        con.execute("SELECT indicator_id, claimed_score FROM scores WHERE level < 3").fetchall()
    )
    assert stored == {"项目决策": 20, "项目管理": 18, "项目绩效": 55, "total": 93}


def test_metrics_are_scoped_to_their_programme(con, sample):
    before = values(compute_metrics(con, sample, "r1"))
    # Another programme in the same warehouse, with rows that would move every metric.
    other = "530100-other"
    changes = {
        "job_fairs": "held_on: DATE '2022-01-01'",
        "visits": "cert_hash: cert_hash || 'x', amount_yuan: 1, visited_on: DATE '2022-12-31'",
        "competition_entries": "award: '未获奖', held_on: DATE '2022-12-31'",
        "fair_employers": "credit_code: credit_code || 'x'",
        "survey_responses": "q1: 'E', q2: 'E', q3: 'E'",
        "funds": "spent_yuan: 0",
        "budget_lines": "amount_yuan: amount_yuan * 2",
    }
    for table, change in changes.items():
        replaced = ", ".join(
            f"{expr.split(': ', 1)[1]} AS {expr.split(': ', 1)[0]}"
            for expr in [f"programme_code: '{other}'", *change.split(", ")]
        )
        con.execute(
            f"INSERT INTO {table} SELECT * REPLACE ({replaced}) FROM {table} "
            "WHERE programme_code = ?",
            [sample.code],
        )
    assert values(compute_metrics(con, sample, "r2")) == before
    theirs = values(compute_metrics(con, sample.model_copy(update={"code": other}), "r3"))
    assert theirs["visit_standard"] == 1 and theirs["budget_execution"] == 0
    assert theirs["job_fairs_by"] == dt.date(2022, 1, 1)
    # Another year of the same programme is another programme's data too.
    later = values(compute_metrics(con, sample.model_copy(update={"year": 2023}), "r4"))
    assert later["job_fairs_held"] == 0 and later["households_visited"] == 0
    # The warehouse itself is as it was: the metrics ran elsewhere.
    assert con.execute("SELECT count(*) FROM job_fairs").fetchone()[0] == 10


def test_metrics_on_a_read_only_warehouse(sample_db, sample):
    # Analysts open the published warehouse read-only: metrics only read it.
    with duckdb.connect(str(sample_db), read_only=True) as con:
        assert values(compute_metrics(con, sample, "r1"))["job_fairs_held"] == 5


def test_metric_sql_error_names_the_indicator_in_chinese(con, sample):
    broken = sample.model_copy(
        update={
            "indicators": [
                sample.indicators[4].model_copy(
                    update={"metric": "SELECT count(no_such_column) FROM job_fairs"}
                )
            ]
        }
    )
    with pytest.raises(MetricError) as err:
        compute_metrics(con, broken, "r1")
    message = str(err.value)
    assert message.startswith("指标「开展招聘会场次」（job_fairs_held）的度量 SQL 无法执行：")
    assert "no_such_column" in message and "Traceback" not in message and "LINE" not in message


@pytest.mark.parametrize(
    ("index", "sql", "expected"),
    [
        (4, "SELECT fair_id FROM job_fairs", "应只返回一个值"),
        (4, "SELECT 1, 2", "应只返回一个值"),
        (4, "SELECT 'five'", "应返回一个数值"),
        (8, "SELECT 5", "应返回完成日期"),
        (4, "DROP TABLE job_fairs", "应为一条 SELECT 语句，实际为 DROP 语句"),
        (4, "SELECT count(*) FROM fairs", "引用了不可用的表「fairs」"),
    ],
)
def test_metric_must_be_one_value_of_the_right_type(con, sample, index, sql, expected):
    ind: Indicator = sample.indicators[index].model_copy(update={"metric": sql})
    with pytest.raises(MetricError, match=expected):
        compute_metrics(con, sample.model_copy(update={"indicators": [ind]}), "r1")
    assert con.execute("SELECT count(*) FROM job_fairs").fetchone()[0] == 5


def test_the_metrics_run_beside_the_work_and_end_before_it_returns(con, sample, monkeypatch):
    """metrics_beside (the nightly audit's: the report is checked meanwhile): the metrics'
    queries on a thread of their own, the work in the caller's, the values those of the
    metrics alone; a failure on either side is raised once both are done, the work's first,
    and the sandbox is closed only then."""
    alone = values(compute_metrics(con, sample, "r1"))
    ran, boxes = [], []
    run, fill = metrics_module._metric, metrics_module.sandbox

    def metric(box, *args):
        ran.append(threading.current_thread())
        return run(box, *args)

    monkeypatch.setattr(metrics_module, "_metric", metric)
    monkeypatch.setattr(metrics_module, "sandbox", lambda *a: boxes.append(fill(*a)) or boxes[-1])
    worked = []
    got, done = metrics_module.metrics_beside(
        con, sample, "r1", lambda: worked.append(threading.current_thread()) or "checked")
    assert values(got) == alone and done == "checked"
    assert worked == [threading.current_thread()] and len(ran) == len(alone)
    assert {t.name.split("_")[0] for t in ran} == {"jixiao-metrics"}

    ind = sample.indicators[4].model_copy(update={"metric": "SELECT count(nope) FROM job_fairs"})
    broken = sample.model_copy(update={"indicators": [ind]})
    worked.clear()
    with pytest.raises(MetricError, match="nope"):
        metrics_module.metrics_beside(con, broken, "r1", lambda: worked.append(1))
    assert worked == [1]  # the work ran to its end before the metric's failure was raised
    with pytest.raises(ZeroDivisionError):
        metrics_module.metrics_beside(con, broken, "r1", lambda: 1 / 0)
    for box in boxes:
        with pytest.raises(duckdb.ConnectionException):
            box.execute("SELECT 1")


def test_store_metrics_fills_the_metrics_table(con, sample):
    metrics = compute_metrics(con, sample, "r1")
    store_metrics(con, metrics)
    store_metrics(con, metrics)  # the same run again replaces, not duplicates
    rows = con.execute(
        f"SELECT {', '.join(c.name for c in METRICS.columns)} FROM metrics ORDER BY indicator_id"
    ).fetchall()
    assert len(rows) == 11 + 3  # the measurable indicators and programme.yaml's facts
    stored = {r[3]: r for r in rows}
    assert stored["job_fair_counties"][5] == D(5)  # counties that held a fair
    assert stored["award_ratio"][5] == D("35.294118") and stored["award_ratio"][6] is None
    assert stored["visits_by"][5] is None and stored["visits_by"][6] == dt.date(2022, 11, 30)
    assert stored["job_fairs_held"][7] == "场"
    assert stored["job_fairs_held"][1:3] == (sample.code, sample.year)


def test_columns_left_out_of_the_sandbox_never_change_a_value(con, sample, monkeypatch):
    projected = values(compute_metrics(con, sample, "r1"))
    monkeypatch.setattr(metrics_module, "_meant", lambda nodes, ctes: None)  # every column
    monkeypatch.setattr(metrics_module, "_PARSED", {})  # parsed again, with every column
    assert values(compute_metrics(con, sample, "r2")) == projected
    assert all(columns is None for _, columns in metrics_module.parse_metrics(sample).values())


def test_a_metric_edited_in_a_long_lived_process_is_run_as_edited(con, sample):
    """What parse_metrics keeps is by the metric's text: `serve` runs every night in one
    process, and programme.yaml may change between nights."""
    def measured(sql: str) -> Decimal:
        ind = sample.indicators[4].model_copy(update={"metric": sql})
        edited = sample.model_copy(update={"indicators": [ind], "facts": []})
        assert metrics_module.parse_metrics(edited)[ind.id][0] == {sql.rsplit(" ", 1)[1]}
        return compute_metrics(con, edited, "r1")[0].value

    assert measured("SELECT count(*) FROM job_fairs") == 5
    assert measured("SELECT count(*) FROM visits") == con.execute(
        "SELECT count(*) FROM visits WHERE programme_code = ? AND year = ?",
        [sample.code, sample.year]).fetchone()[0] != 5  # fmt: skip
    assert measured("SELECT count(*) FROM job_fairs") == 5


@pytest.mark.parametrize(
    ("sql", "meant"),
    [
        ("SELECT count(*) FROM job_fairs", set()),
        ("SELECT sum(v.amount_yuan) FROM visits v", {"v", "amount_yuan"}),
        ("SELECT count(*) FROM job_fairs JOIN fair_employers USING (fair_id)", {"fair_id"}),
        ("SELECT count(*) FROM job_fairs NATURAL JOIN fair_employers", None),
        ("SELECT count(*) FROM (SELECT * FROM visits)", None),
        ("SELECT count(COLUMNS('^q')) FROM survey_responses", None),
        ("SELECT count(DISTINCT v) FROM visits v", None),  # the whole row as a value
        ("WITH f AS (SELECT held_on FROM job_fairs) SELECT max(f) FROM f", None),
    ],
)
def test_the_columns_a_metric_can_mean(sql, meant):
    ind = Indicator(id="m", level1="a", level2="b", name="n", weight=1, kind="higher",
                    target=1, metric=sql)  # fmt: skip
    with duckdb.connect() as parser:
        allowed = ("job_fairs", "fair_employers", "visits", "survey_responses")
        assert metrics_module._parse(ind, parser, allowed)[1] == meant
