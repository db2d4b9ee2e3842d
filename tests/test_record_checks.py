"""Record checks as data (SPEC §1.4): every catalogue rule on sheets and columns the sample
does not have (a 康复服务 programme's sessions, trainings and grants), each able to fail and to
pass, in SQL and as Great Expectations suites; programme.yaml's ``checks:`` and ``survey:``
refused in one Chinese sentence when wrong; the survey read from any sheet and questions."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from jixiao.checks.expectations import run_expectations, summaries
from jixiao.checks.records import record_findings
from jixiao.flows.audit import survey_answers
from jixiao.ingest.load import create_tables
from jixiao.schemas.programme import (
    Programme,
    ProgrammeError,
    declared_columns_missing,
    load_programme,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLE = yaml.safe_load((REPO / "sample" / "programme.yaml").read_text(encoding="utf-8"))
CHECKS = [
    {"rule": "RECORDS.DUPLICATE_PAYMENT", "sheet": "rehab_sessions", "person": "patient_id",
     "date": "session_on", "amount": "fee"},
    {"rule": "RECORDS.OUT_OF_COUNTY", "sheet": "rehab_sessions", "person": "patient_id",
     "amount": "fee"},
    {"rule": "RECORDS.AGE_OUT_OF_RANGE", "sheet": "rehab_sessions", "person": "patient_id",
     "date": "session_on", "min": 0, "max": 6},
    {"rule": "RECORDS.AMOUNT_NOT_STANDARD", "sheet": "rehab_sessions", "amount": "fee",
     "standard": "150.50"},
    {"rule": "RECORDS.COUNTED_TWICE", "sheet": "trainings", "key": "org_code",
     "across": "course_no", "name": "org_title", "only": "certified"},
    {"rule": "RECORDS.OUTSIDE_YEAR", "sheet": "trainings", "date": "taught_on"},
    {"rule": "RECORDS.OVERSPENT", "sheet": "grants", "line": "item", "allocated": "granted",
     "spent": "used"},
]  # fmt: skip
SURVEY = {"sheet": "feedback", "questions": ["a2", "a1"], "weights": {"A": 5, "B": 3, "C": 1}}
TITLES = {
    "rehab_sessions": "康复服务", "rehab_sessions.patient_id": "患者证号",
    "rehab_sessions.session_on": "服务日期", "rehab_sessions.fee": "服务费(元)",
    "trainings": "培训", "trainings.org_code": "机构代码", "trainings.course_no": "课程编号",
    "trainings.org_title": "机构名称", "trainings.certified": "已认证",
    "trainings.taught_on": "授课日期", "grants": "补助经费", "grants.item": "支出事项",
    "grants.granted": "下达金额(元)", "grants.used": "使用金额(元)",
    "feedback.a1": "服务态度", "feedback.a2": "服务效果",
}  # fmt: skip
TEMPLATE = {
    "rehab_sessions": {"patient_id", "carer_id", "name", "session_on", "booked_on", "fee"},
    "trainings": {"org_code", "course_no", "org_title", "certified", "taught_on"},
    "grants": {"item", "granted", "used"},
    "feedback": {"response_no", "a1", "a2"},
}
TYPES = {"session_on": "date", "booked_on": "date", "taught_on": "date", "fee": "money",
         "granted": "money", "used": "money", "certified": "boolean"}  # fmt: skip
PERSONAL = {"patient_id": {"format": "resident_id", "personal": "hash"},
            "carer_id": {"format": "resident_id", "personal": "hash"},
            "name": {"personal": "drop"}, "session_on": {"inYear": True},
            "item": {"constraints": {"enum": "budget_lines"}}}  # fmt: skip
SHEETS = [
    {"name": sheet, **({"title": TITLES[sheet]} if sheet in TITLES else {}),
     "fields": [{"name": f, "type": TYPES.get(f, "string"), **PERSONAL.get(f, {}),
                 **({"title": TITLES[f"{sheet}.{f}"]} if f"{sheet}.{f}" in TITLES else {})}
                for f in sorted(fields, key=lambda f: (f not in ("patient_id", "session_on"), f))]}
    for sheet, fields in TEMPLATE.items()
]  # fmt: skip


def programme(**changes) -> Programme:
    data = SAMPLE | {"checks": CHECKS, "survey": SURVEY, "sheets": SHEETS,
                     "budget_lines": [{"code": "therapy", "name": "康复训练", "amount_yuan": 900}]}  # fmt: skip
    return Programme.model_validate(data | changes)


PROGRAMME = programme()
CODE, YEAR = PROGRAMME.code, PROGRAMME.year

def add(con, table: str, row: int, county: str, **values: object) -> None:
    values = {"programme_code": CODE, "year": YEAR, "county_code": county,
              "source_file": f"counties/{county}.xlsx", "source_sha256": "0" * 64,
              "source_sheet": TITLES.get(table, table), "source_row": row, **values}  # fmt: skip
    con.execute(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )


def patient(key: str, region: str, age: int) -> dict:
    return {"patient_hash": hashlib.sha256(key.encode()).hexdigest(), "region_code": region,
            "age": age}  # fmt: skip


def session(con, row: int, county: str, who: dict, on: str, fee: str = "150.50") -> None:
    add(con, "rehab_sessions", row, county, **who, session_on=dt.date.fromisoformat(on),
        fee=Decimal(fee))  # fmt: skip


def training(con, row: int, county: str, org: str | None, course: str, certified: bool,
             on: str = "2022-05-01") -> None:  # fmt: skip
    add(con, "trainings", row, county, org_code=org, course_no=course, org_title=f"{org} 康复中心",
        certified=certified, taught_on=dt.date.fromisoformat(on))  # fmt: skip


@pytest.fixture
def clean(tmp_path: Path):
    """Rows every declared check passes, near each rule's edge."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_tables(con, PROGRAMME)
    session(con, 2, "530102", patient("P1", "530102", 4), "2022-03-01")
    session(con, 2, "530103", patient("P2", "530103", 6), "2022-04-01")  # max, included
    session(con, 3, "530103", patient("P5", "530103", 0), "2022-04-02")  # min, included
    training(con, 2, "530102", "ORG-A", "C1", True)
    training(con, 3, "530102", "ORG-A", "C2", False)  # not certified: not counted
    training(con, 2, "530103", "ORG-B", "C1", True)  # the same course number, another org
    nobody = {"patient_hash": None, "region_code": None, "age": None}  # no identity: no person
    session(con, 10, "530102", nobody, "2022-03-05")
    session(con, 11, "530102", nobody, "2022-03-06")
    training(con, 10, "530102", None, "C1", True)  # no code: nothing to count twice
    training(con, 10, "530103", None, "C1", True)
    add(con, "grants", 2, "530102", item="therapy", granted=Decimal(1000), used=Decimal(1000))
    add(con, "grants", 3, "530102", item="therapy", granted=Decimal(500), used=Decimal(400))
    # Another programme's rows break every rule; they are not this programme's.
    session(con, 9, "530103", patient("P1", "530124", 70), "2021-01-01", fee="1")
    con.execute("UPDATE rehab_sessions SET programme_code = 'other' WHERE source_row = 9")
    yield con
    con.close()


@pytest.fixture
def faulty(clean):
    """One fault per rule."""
    session(clean, 3, "530102", patient("P1", "530102", 4), "2022-06-01")  # P1 paid twice
    session(clean, 4, "530102", patient("P3", "530124", 3), "2022-07-01")  # from 530124
    session(clean, 4, "530103", patient("P4", "530103", 7), "2022-08-01")  # aged 7
    session(clean, 5, "530103", patient("P7", "530103", 2), "2022-08-02", fee="120")
    training(clean, 3, "530103", "ORG-A", "C1", True)  # ORG-A at a course of another county
    training(clean, 4, "530103", "ORG-C", "C3", False, on="2021-12-30")
    add(clean, "grants", 2, "530103", item="therapy", granted=Decimal(100), used=Decimal(180))
    return clean


def hash12(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


# rule: (subject, claimed, observed, label, amount, evidence rows, first evidence text, message)
EXPECTED = {
    "RECORDS.DUPLICATE_PAYMENT": (
        f"person:{hash12('P1')}", "2", "多发 150.50 元", "五华区康复服务", Decimal("150.50"),
        [("counties/530102.xlsx › 康复服务", 2), ("counties/530102.xlsx › 康复服务", 3)],
        "五华区 康复服务：服务日期 2022-03-01，服务费 150.50 元",
        "五华区康复服务：同一患者证号被发放 2 次，多发 150.50 元。",
    ),
    "RECORDS.OUT_OF_COUNTY": (
        f"person:{hash12('P3')}", "530102（五华区）", "530124（富民县）", "康复服务",
        Decimal("150.50"), [("counties/530102.xlsx › 康复服务", 4)],
        "五华区 康复服务：服务费 150.50 元",
        "康复服务：患者证号地区码 530124（富民县） 不属于报送区县 530102（五华区）。",
    ),
    "RECORDS.AGE_OUT_OF_RANGE": (
        f"person:{hash12('P4')}", "2022-08-01", "7", "盘龙区康复服务", None,
        [("counties/530103.xlsx › 康复服务", 4)], "盘龙区 康复服务：服务日期 2022-08-01",
        "盘龙区康复服务：2022-08-01 时年龄 7 岁，不在 0–6 岁之内。",
    ),
    "RECORDS.AMOUNT_NOT_STANDARD": (
        "county:530103:rehab_sessions", "120", "150.50", "盘龙区康复服务（1 行）",
        Decimal("30.50"), [("counties/530103.xlsx › 康复服务", 5)],
        "盘龙区 康复服务：服务费 120 元",
        "盘龙区康复服务（1 行）：服务费为 120 元，不等于标准 150.50 元。",
    ),
    "RECORDS.COUNTED_TWICE": (
        "org_code:ORG-A", "2", "应计 1 次，多计 1 次", "ORG-A 康复中心", None,
        [("counties/530102.xlsx › 培训", 2), ("counties/530103.xlsx › 培训", 3)],
        "五华区 培训：课程编号 C1，机构名称 ORG-A 康复中心，已认证 是",
        "ORG-A 康复中心：同一机构代码在 2 个不同课程编号下各计一次，应计 1 次，多计 1 次。",
    ),
    "RECORDS.OUTSIDE_YEAR": (
        "county:530103:trainings", "2021-12-30", "2022", "盘龙区培训", None,
        [("counties/530103.xlsx › 培训", 4)], "盘龙区 培训：授课日期 2021-12-30",
        "盘龙区培训：授课日期 2021-12-30 不在项目年度 2022 内。",
    ),
    "RECORDS.OVERSPENT": (
        "county:530103:therapy", "180", "100", "盘龙区「康复训练」", Decimal("80"),
        [("counties/530103.xlsx › 补助经费", 2)],
        "盘龙区 补助经费：支出事项 therapy，下达金额 100 元，使用金额 180 元",
        "盘龙区「康复训练」：使用 180 元，超过下达 100 元。",
    ),
}


def test_every_rule_passes_the_clean_records(clean):
    assert record_findings(clean, PROGRAMME) == []


@pytest.mark.parametrize("rule_id", EXPECTED)
def test_every_rule_finds_its_fault_with_its_evidence(faulty, rule_id):
    found = [f for f in record_findings(faulty, PROGRAMME) if f.rule_id == rule_id]
    subject, claimed, observed, label, amount, rows, text, message = EXPECTED[rule_id]
    (f,) = found
    assert (f.subject, f.claimed, f.observed, f.label, f.amount_yuan) == (
        subject, claimed, observed, label, amount,
    )  # fmt: skip
    assert [(f"{e.file} › {e.sheet}", e.row) for e in f.evidence] == rows
    assert f.evidence[0].text == text
    assert f.message() == message


def test_only_the_declared_checks_run(faulty):
    one = programme(checks=[CHECKS[-1]])
    assert {f.rule_id for f in record_findings(faulty, one)} == {"RECORDS.OVERSPENT"}
    assert record_findings(faulty, programme(checks=[])) == []


def test_optional_columns_left_out(faulty):
    """Without its date a payment is ordered by county and file; without a name column the
    item is labelled by its sheet; without ``only`` every row counts."""
    checks = [
        {"rule": "RECORDS.DUPLICATE_PAYMENT", "sheet": "rehab_sessions", "person": "patient_id",
         "amount": "fee"},
        {"rule": "RECORDS.COUNTED_TWICE", "sheet": "trainings", "key": "org_code",
         "across": "course_no"},
    ]  # fmt: skip
    dup, counted = record_findings(faulty, programme(checks=checks))
    assert dup.evidence[0].text == "五华区 康复服务：服务费 150.50 元"
    assert (counted.subject, counted.claimed, counted.label) == ("org_code:ORG-A", "3", "培训")


def untitled() -> Programme:
    """The programme with a template that gives no sheet or column a title."""
    sheets = [{**{k: v for k, v in s.items() if k != "title"},
               "fields": [{k: v for k, v in f.items() if k != "title"} for f in s["fields"]]}
              for s in SHEETS]  # fmt: skip
    return programme(sheets=sheets)


def test_titles_missing_show_the_keys(faulty):
    (f,) = [f for f in record_findings(faulty, untitled()) if f.rule_id.endswith("OVERSPENT")]
    assert f.evidence[0].text == "盘龙区 grants：item therapy，granted 100 元，used 180 元"


@pytest.mark.parametrize("engine", ["pandas", "sql"])
def test_suites_fail_on_each_fault_and_pass_the_clean(clean, tmp_path, engine):
    clean_report = run_expectations(clean, PROGRAMME, tmp_path / "clean", engine=engine)
    assert clean_report.success and all(r.element_count for r in clean_report.results)
    suites = {r.suite: r.rule_id for r in clean_report.results}
    assert suites == {
        "payments_rehab_sessions": "RECORDS.DUPLICATE_PAYMENT",
        "regions_rehab_sessions": "RECORDS.OUT_OF_COUNTY",
        "ages_rehab_sessions": "RECORDS.AGE_OUT_OF_RANGE",
        "amounts_rehab_sessions": "RECORDS.AMOUNT_NOT_STANDARD",
        "counted_trainings": "RECORDS.COUNTED_TWICE",
        "years_trainings": "RECORDS.OUTSIDE_YEAR",
        "totals_grants": "RECORDS.OVERSPENT",
    }
    faulty = clean  # the same warehouse, with one fault per rule added
    session(faulty, 3, "530102", patient("P1", "530102", 4), "2022-06-01")
    session(faulty, 4, "530102", patient("P3", "530124", 3), "2022-07-01")
    session(faulty, 4, "530103", patient("P4", "530103", 7), "2022-08-01")
    session(faulty, 5, "530103", patient("P7", "530103", 2), "2022-08-02", fee="120")
    training(faulty, 3, "530103", "ORG-A", "C1", True)
    training(faulty, 4, "530103", "ORG-C", "C3", False, on="2021-12-30")
    add(faulty, "grants", 2, "530103", item="therapy", granted=Decimal(100), used=Decimal(180))
    report = run_expectations(faulty, PROGRAMME, tmp_path / "faulty", engine=engine)
    assert [(r.suite, r.success, r.unexpected_count) for r in report.results] == [
        (r.suite, False, 1) for r in clean_report.results
    ]
    assert report.by_suite()["ages_rehab_sessions"].observed == [7]


def test_a_kind_declared_twice_on_a_sheet_gets_two_suites():
    twice = programme(checks=[CHECKS[3], CHECKS[3] | {"standard": "200.00"}])
    assert [s.name for s in summaries(twice)] == [
        "amounts_rehab_sessions", "amounts_rehab_sessions_2",
    ]  # fmt: skip


# --- programme.yaml -------------------------------------------------------------------------


def write(tmp_path: Path, **changes) -> Path:
    data = SAMPLE | {"sheets": SHEETS, "checks": [], "survey": SURVEY} | changes
    path = tmp_path / "programme.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_checks_and_survey_load_from_programme_yaml(tmp_path):
    p = load_programme(write(tmp_path, checks=CHECKS, survey=SURVEY))
    assert [c.rule for c in p.checks] == [c["rule"] for c in CHECKS]
    assert p.checks[2].min == 0 and p.checks[3].standard == Decimal("150.50")
    assert p.checks[4].columns() == {"key": "org_code", "across": "course_no",
                                     "name": "org_title", "only": "certified"}  # fmt: skip
    assert p.survey.questions == ["a2", "a1"]


AGE = CHECKS[2]


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"checks": [{"rule": "RECORDS.NOPE", "sheet": "x"}]},
         "checks：第 1 项的规则「RECORDS.NOPE」不在规则目录中，可用的规则：RECORDS.DUPLICATE_PAYMENT"),
        ({"checks": [CHECKS[0], {k: v for k, v in AGE.items() if k != "min"}]},
         "checks：第 2 项（RECORDS.AGE_OUT_OF_RANGE，表 rehab_sessions）缺少参数 min"),
        ({"checks": [{"rule": "RECORDS.OUTSIDE_YEAR", "date": "d"}]},
         "第 1 项（RECORDS.OUTSIDE_YEAR）缺少参数 sheet"),
        ({"checks": [AGE | {"colour": "red"}]}, "有规则不认识的参数 colour"),
        ({"checks": [AGE | {"date": "day; DROP TABLE x"}]}, "id 只能由英文字母"),
        ({"checks": [AGE | {"min": 61, "max": 60}]}, "年龄下限 min 61 大于上限 max 60"),
        # The warehouse keeps the region and age of a sheet's first ID, on one date.
        ({"checks": [CHECKS[0], CHECKS[1] | {"person": "carer_id"}]},
         "第 2 项（RECORDS.OUT_OF_COUNTY）：person 应为表 rehab_sessions 中 format 为 resident_id 或 disability_cert 的第一个散列证件列"),
        ({"checks": [AGE, AGE | {"date": "booked_on"}]},
         "第 2 项（RECORDS.AGE_OUT_OF_RANGE）：仓库按表 rehab_sessions 的 session_on（第一个 inYear 日期列）保存年龄，date 应为 session_on"),
        ({"checks": [CHECKS[0] | {"person": "name"}]},
         "第 1 项（RECORDS.DUPLICATE_PAYMENT）：person 应为表 rehab_sessions 中 personal: hash 的列"),
        ({"checks": [CHECKS[3] | {"standard": "四百"}]}, "standard"),
        ({"checks": ["RECORDS.OVERSPENT"]}, "第 1 项应为键值映射"),
        ({"survey": SURVEY | {"questions": 10}}, "应列出各题所在的列，如 [q1, q2, q3]"),
        ({"survey": SURVEY | {"questions": []}}, "survey.questions"),
        ({"survey": SURVEY | {"questions": ["a1", "a1"]}}, "问题列 a1 重复列出"),
        ({"survey": {k: v for k, v in SURVEY.items() if k != "sheet"}}, "survey.sheet"),
    ],
)  # fmt: skip
def test_a_wrong_check_or_survey_is_refused_in_one_sentence(tmp_path, changes, says):
    with pytest.raises(ProgrammeError) as caught:
        load_programme(write(tmp_path, **changes))
    message = str(caught.value)
    assert says in message and "\n" not in message and "programme.yaml 无效" in message


def test_declared_columns_missing_names_each_gap():
    assert declared_columns_missing(PROGRAMME, TEMPLATE) == []
    template = {k: set(v) for k, v in TEMPLATE.items() if k != "grants"}
    template["trainings"] -= {"certified"}
    template["feedback"] -= {"a1"}
    missing = declared_columns_missing(PROGRAMME, template)
    assert [m.zh for m in missing] == [
        "checks 第 5 项（RECORDS.COUNTED_TWICE）：表 trainings 中没有列 certified（参数 only）",
        "checks 第 7 项（RECORDS.OVERSPENT）：模板中没有表 grants",
        "survey：表 feedback 中没有列 a1（参数 questions 第 2 题）",
    ]
    assert [m.en for m in missing] == [
        "checks entry 5 (RECORDS.COUNTED_TWICE): sheet trainings has no column certified "
        "(parameter only)",
        "checks entry 7 (RECORDS.OVERSPENT): the template has no sheet grants",
        "survey: sheet feedback has no column a1 (parameter questions, question 2)",
    ]


def test_the_survey_is_read_from_its_declared_sheet_and_questions(clean):
    for row, (a1, a2) in enumerate([("A", "B"), ("A", "C"), ("B", None)], 2):
        add(clean, "feedback", row, "530102", response_no=f"R{row}", a1=a1, a2=a2)
    add(clean, "feedback", 9, "530102", response_no="R9", a1="E", a2="E")
    clean.execute("UPDATE feedback SET year = 2021 WHERE source_row = 9")  # another year's
    assert survey_answers(clean, PROGRAMME) == {
        "服务效果": {"B": 1, "C": 1},  # in the order programme.yaml lists the questions
        "服务态度": {"A": 2, "B": 1},
    }
    assert list(survey_answers(clean, untitled())) == ["a2", "a1"]
    assert survey_answers(clean, programme(survey=None)) == {}
