"""County templates as data (SPEC §1.4): declarations, optional sheets, shared templates.

The intake tests run ``process()`` over real workbooks (tests/test_intake.py's writers) into a
real DuckDB file; the programme tests load real programme.yaml files from disk.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from jixiao.sample.generate import PROGRAMME_YAML, write_csv
from jixiao.schemas.programme import ProgrammeError, load_programme, load_programme_folder
from tests.test_intake import (
    CODE,
    VALID_COUNTS,
    context,
    count,
    county_file,
    drop_sheet,
    loaded,
    query,
    records,
    run,
    set_cell,
)


def sample_yaml() -> dict:
    return yaml.safe_load(PROGRAMME_YAML.read_text(encoding="utf-8"))


def folder_with(root: Path, data: dict, year: int = 2022) -> Path:
    path = root / "raw" / str(year) / CODE
    path.mkdir(parents=True)
    (path / "programme.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


def intake(tmp_path: Path, data: dict | None = None):
    """The programme's folder (the sample's programme.yaml, or ``data``) and a context for
    its intake into a new warehouse."""
    folder = folder_with(tmp_path, sample_yaml() if data is None else data)
    return folder, context(tmp_path, folder)


def logged(ctx, county: str = "530102") -> list[dict]:
    """The problems logged for the county's one file."""
    [row] = query(ctx, "SELECT errors FROM ingest_log WHERE county_code = ?", county)
    return json.loads(row["errors"])


def absent(ctx, file: str) -> list[str]:
    return query(ctx, "SELECT sheets_absent FROM ingest_log WHERE file = ?", file)[0][
        "sheets_absent"
    ]


# --- optional sheets ---------------------------------------------------------------------


def test_a_sheet_the_county_had_nothing_for_may_be_left_out(tmp_path):
    """No competition this year: the county's other sheets load, the absence is logged."""
    folder, ctx = intake(tmp_path)
    county_file(folder / "counties" / "530102.xlsx", drop_sheet("竞赛"))
    outcome = run(folder, ctx)["counties/530102.xlsx"]
    assert outcome.status == "accepted"
    assert loaded(ctx) == VALID_COUNTS | {"competition_entries": 0}
    assert outcome.rows == sum(VALID_COUNTS.values()) - VALID_COUNTS["competition_entries"]
    assert absent(ctx, "counties/530102.xlsx") == ["competition_entries"]


def test_a_resubmitted_workbook_without_a_sheet_withdraws_its_earlier_rows(tmp_path):
    """The workbook is the county's whole submission: v2 without 竞赛 means no competition."""
    folder, ctx = intake(tmp_path)
    counties = folder / "counties"
    county_file(counties / "530102.xlsx")
    run(folder, ctx)
    assert count(ctx, "competition_entries") == 2
    county_file(counties / "530102.v2.xlsx", drop_sheet("竞赛"))
    outcomes = run(folder, ctx)
    assert outcomes["counties/530102.v2.xlsx"].status == "accepted"
    assert loaded(ctx) == VALID_COUNTS | {"competition_entries": 0}
    status = query(ctx, "SELECT status FROM ingest_log WHERE file = 'counties/530102.xlsx'")
    assert status == [{"status": "superseded"}]


def test_a_required_sheet_left_out_is_refused_and_loads_nothing(tmp_path):
    data = sample_yaml()
    next(s for s in data["sheets"] if s["name"] == "visits")["required"] = True
    folder, ctx = intake(tmp_path, data)
    county_file(folder / "counties" / "530102.xlsx", drop_sheet("慰问"))
    outcome = run(folder, ctx)["counties/530102.xlsx"]
    assert outcome.status == "refused"
    [error] = logged(ctx)
    assert (error["rule_id"], error["sheet"]) == ("SHEET.MISSING", "慰问")
    assert loaded(ctx) == dict.fromkeys(VALID_COUNTS, 0)


def test_rows_referring_to_a_sheet_the_workbook_left_out_are_refused(tmp_path):
    """参会用人单位 without 招聘会 in the same workbook names job fairs that are not there."""
    folder, ctx = intake(tmp_path)
    county_file(folder / "counties" / "530102.xlsx", drop_sheet("招聘会"))
    outcome = run(folder, ctx)["counties/530102.xlsx"]
    assert outcome.status == "refused"
    errors = logged(ctx)
    assert {(e["rule_id"], e["sheet"], e["column"]) for e in errors} == {
        ("VALUE.FOREIGN_KEY", "参会用人单位", "招聘会编号")
    }
    assert "在「招聘会」表中不存在" in errors[0]["message"]


def test_a_csv_refers_to_what_the_county_submitted_before(tmp_path):
    folder, ctx = intake(tmp_path)
    counties = folder / "counties"
    county_file(counties / "530102.xlsx")
    run(folder, ctx)
    employers = records()["fair_employers"]
    header = ["招聘会编号", "单位名称", "统一社会信用代码", "残疾人岗位数", "有意向招聘残疾人"]
    write_csv(counties / "530102" / "fair_employers.v2.csv", header, employers[:1])
    write_csv(counties / "530102" / "fair_employers.v3.csv", header,
              [["ZP-99", *employers[0][1:]]])  # fmt: skip
    outcomes = run(folder, ctx)
    assert outcomes["counties/530102/fair_employers.v2.csv"].status == "accepted"
    assert outcomes["counties/530102/fair_employers.v3.csv"].status == "refused"
    assert count(ctx, "fair_employers") == 1  # v2's one row; v3 refused


# --- declarations --------------------------------------------------------------------------


def test_a_shared_template_is_read_from_data_raw_templates(tmp_path):
    data = sample_yaml()
    sheets = data.pop("sheets")
    data["template"] = "disability_employment"
    folder = folder_with(tmp_path, data)
    templates = tmp_path / "raw" / "templates"
    templates.mkdir()
    (templates / "disability_employment.yaml").write_text(
        yaml.safe_dump({"sheets": sheets}, allow_unicode=True), "utf-8"
    )
    shared = load_programme_folder(folder)
    inline = load_programme(PROGRAMME_YAML)
    assert shared.county_template is inline.county_template  # compiled once, shared
    ctx = context(tmp_path, folder)
    county_file(folder / "counties" / "530102.xlsx")
    assert run(folder, ctx)["counties/530102.xlsx"].status == "accepted"
    assert loaded(ctx) == VALID_COUNTS


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.pop("sheets"), "未声明区县报送模板"),
        (lambda d: d.update(template="nowhere"), "sheets 与 template 只能二选一"),
        (lambda d: (d.pop("sheets"), d.update(template="nowhere")), "共享模板"),
        (lambda d: d["sheets"][0].update(name="select"), "SQL 保留字"),
        (lambda d: d["sheets"][0].update(name="runs"), "jixiao 自用的表名"),
        (lambda d: d["sheets"][0]["fields"][0].update(name="Fair"), "不是有效的名称"),
        (lambda d: d["sheets"][0]["fields"][1].update(name="fair_id"), "字段名重复"),
        (lambda d: d["sheets"][0]["fields"][0].update(name="county_code"), "jixiao 自加的列名"),
        (lambda d: d["sheets"][1]["foreignKeys"][0]["reference"].update(resource="x"), "另一张表"),
        (lambda d: d["sheets"][0]["fields"][2]["constraints"].update(minimum=0), "取值范围只适用于"),
        (lambda d: d["sheets"][0]["fields"][3].update(atMost="venue"), "atMost"),
        (lambda d: d["sheets"][0]["fields"][0]["constraints"].update(pattern="("), "正则表达式"),
        (lambda d: d["sheets"][0]["fields"][0].update(kind="x"), "Extra inputs"),
    ],
)
def test_a_template_that_does_not_compile_names_the_problem(tmp_path, change, says):
    data = sample_yaml()
    change(data)
    folder = folder_with(tmp_path, data)
    with pytest.raises(ProgrammeError) as raised:
        load_programme_folder(folder)
    message = str(raised.value)
    assert says in message and "programme.yaml" in message or "templates" in message, message
    assert "\n" not in message


def test_field_types_and_constraints_of_a_new_programme(tmp_path):
    """A template unlike the sample's: number, boolean with its own words, pattern, length,
    unique, a county column, a resident ID hashed, a dropped phone — each rule enforced."""
    data = sample_yaml()
    data["checks"], data["survey"] = [], None
    data["sheets"] = [
        {
            "name": "rehab_sessions",
            "title": "康复服务",
            "required": True,
            "primaryKey": ["session_id"],
            "fields": [
                {"name": "session_id", "title": "服务编号", "constraints": {
                    "required": True, "pattern": "KF-[0-9]{3}"}},
                {"name": "patient_id", "title": "身份证号", "format": "resident_id",
                 "personal": "hash", "constraints": {"required": True}},
                {"name": "phone", "title": "联系电话", "personal": "drop"},
                {"name": "county", "title": "服务区县", "format": "county"},
                {"name": "hours", "title": "服务时长", "type": "number",
                 "constraints": {"minimum": 0.5, "maximum": 8}},
                {"name": "home_visit", "title": "上门服务", "type": "boolean",
                 "trueValues": ["上门"], "falseValues": ["到站"]},
                {"name": "therapist", "title": "康复师", "constraints": {"maxLength": 4}},
                {"name": "fee", "title": "费用(元)", "type": "money",
                 "constraints": {"required": True, "exclusiveMinimum": 0}},
            ],
        }
    ]
    data["indicators"] = [i for i in data["indicators"] if i["kind"] == "qualitative"]
    data["indicators"].append({"id": "sessions", "level1": "项目绩效", "level2": "产出数量",
                               "name": "康复服务次数", "weight": 70, "kind": "higher",
                               "target": 2, "unit": "次",
                               "metric": "SELECT count(*) FROM rehab_sessions"})  # fmt: skip
    data.pop("facts")
    folder, ctx = intake(tmp_path, data)
    pid = records()["visits"][0][0][:18]
    head = ["服务编号", "身份证号", "联系电话", "服务区县", "服务时长", "上门服务", "康复师", "费用(元)"]
    good = [["KF-001", pid, "13800000000", "五华区", "1.5", "上门", "李明", "0.012万"],
            ["KF-002", pid, None, "530102", "2", "到站", None, "80元"]]  # fmt: skip
    write_csv(folder / "counties" / "530102" / "rehab_sessions.csv", head, good)
    bad = [["KF-1", pid[:17] + ("0" if pid[17] != "0" else "1"), None, "北京", "9", "也许",
            "欧阳某某某", "0"]]  # fmt: skip
    write_csv(folder / "counties" / "530103" / "rehab_sessions.csv", head, bad)
    outcomes = run(folder, ctx)
    assert outcomes["counties/530102/rehab_sessions.csv"].status == "accepted"
    rows = query(ctx, "SELECT * FROM rehab_sessions ORDER BY session_id")
    assert [r["fee"] for r in rows] == [pytest.approx(120), pytest.approx(80)]
    assert [str(r["fee"]) for r in rows] == ["120.00", "80.00"]  # exact DECIMAL
    assert [r["county"] for r in rows] == ["530102", "530102"]  # the name became the code
    assert [r["home_visit"] for r in rows] == [True, False]
    assert [r["hours"] for r in rows] == [1.5, 2.0]
    assert "phone" not in rows[0] and "patient_id" not in rows[0]
    assert len(rows[0]["patient_hash"]) == 64 and rows[0]["region_code"] == pid[:6]
    assert pid not in json.dumps(rows, default=str)
    assert outcomes["counties/530103/rehab_sessions.csv"].status == "refused"
    errors = logged(ctx, "530103")
    found = {(e["rule_id"], e["column"]) for e in errors}
    assert found == {
        ("VALUE.RANGE", "服务编号"),  # pattern
        ("VALUE.CHECK_DIGIT", "身份证号"),
        ("VALUE.ENUM", "服务区县"),
        ("VALUE.RANGE", "服务时长"),  # maximum
        ("VALUE.TYPE", "上门服务"),  # neither 上门 nor 到站
        ("VALUE.RANGE", "康复师"),  # maxLength
        ("VALUE.RANGE", "费用(元)"),  # exclusiveMinimum
    }, errors
    assert pid[:17] not in json.dumps(errors, ensure_ascii=False)  # masked in the log


def test_county_file_with_changed_cells_still_checked_per_declaration(tmp_path):
    """The sample's own declared rules hold: an amount of 0 breaks exclusiveMinimum."""
    folder, ctx = intake(tmp_path)
    county_file(folder / "counties" / "530102.xlsx", set_cell("慰问", 2, "慰问金额(元)", 0))
    outcome = run(folder, ctx)["counties/530102.xlsx"]
    assert outcome.status == "refused"
    [error] = logged(ctx)
    assert (error["rule_id"], error["expected"]) == ("VALUE.RANGE", "金额（元），> 0，不能为空")


def test_the_sample_programme_is_a_declared_template():
    """The bundled sample's template is data: its programme.yaml, nothing in schemas/."""
    programme = load_programme(PROGRAMME_YAML)
    assert list(programme.county_template.sheets) == [
        "job_fairs", "fair_employers", "visits", "competition_entries", "survey_responses",
        "funds"]  # fmt: skip
    source = (Path(__file__).resolve().parent.parent / "schemas" / "contracts.py").read_text()
    for key in programme.county_template.sheets:
        assert key not in source


def test_keys_are_required_and_blanks_are_not_duplicates(tmp_path):
    """Table Schema's rules: a primary key's fields are required; two empty cells of a
    `unique` column are not the same value."""
    data = sample_yaml()
    fairs = next(s for s in data["sheets"] if s["name"] == "job_fairs")
    fairs["fields"][0]["constraints"] = {}  # fair_id: the primary key, not declared required
    venue = fairs["fields"][2]
    venue["constraints"] = {"unique": True}
    folder = folder_with(tmp_path, data)
    assert load_programme_folder(folder).county_template.sheets["job_fairs"].fields[
        "fair_id"].constraints.required  # fmt: skip
    ctx = context(tmp_path, folder)
    counties = folder / "counties"
    county_file(counties / "530102.xlsx", set_cell("招聘会", 2, "地点", None),
                set_cell("招聘会", 3, "地点", None))  # fmt: skip
    county_file(counties / "530103.xlsx", set_cell("招聘会", 2, "招聘会编号", None),
                county="530103")  # fmt: skip
    outcomes = run(folder, ctx)
    assert outcomes["counties/530102.xlsx"].status == "accepted"
    assert outcomes["counties/530103.xlsx"].status == "refused"
    errors = logged(ctx, "530103")
    assert [(e["rule_id"], e["column"]) for e in errors] == [("VALUE.REQUIRED", "招聘会编号")]
