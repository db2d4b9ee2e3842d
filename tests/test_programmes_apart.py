"""Any programme, as data, beside the sample in one `jixiao run` (SPEC §1.2, §1.4).

A 康复服务 programme the code has never seen — its own shared template, record checks,
indicators and county files with planted faults — runs beside the bundled sample and a
broken programme: every valid file of the new programme is loaded with exact counts and sums,
every planted fault is found with its evidence, the broken programme is skipped and named
(exit 1, runs.status partial), and the sample publishes exactly what it publishes alone.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from jixiao.sample.generate import write_csv, write_workbook
from jixiao.schemas.identifiers import resident_id_check
from tests.runs import DB, REPO, REPORTS, completed, jixiao_run

pytestmark = pytest.mark.flow

SAMPLE = REPO / "data/raw/2022/530100-disability-employment"
CODE = "530100-rehab-services"

TEMPLATE = {
    "sheets": [
        {"name": "rehab_sessions", "title": "康复服务", "required": True,
         "primaryKey": ["session_id"],
         "fields": [
             {"name": "session_id", "title": "服务编号", "constraints": {"required": True}},
             {"name": "child_id", "title": "儿童身份证号", "format": "resident_id",
              "personal": "hash", "constraints": {"required": True}},
             {"name": "child_name", "title": "儿童姓名", "personal": "drop"},
             {"name": "served_on", "title": "服务日期", "type": "date", "inYear": True,
              "constraints": {"required": True}},
             {"name": "service", "title": "服务类型",
              "constraints": {"required": True, "enum": ["言语训练", "运动康复", "认知训练"]}},
             {"name": "hours", "title": "时长(小时)", "type": "number",
              "constraints": {"minimum": 0.5, "maximum": 8}},
             {"name": "fee", "title": "补助金额(元)", "type": "money",
              "constraints": {"required": True, "exclusiveMinimum": 0}},
         ]},
        {"name": "rehab_funds", "title": "康复经费",
         "fields": [
             {"name": "item", "title": "支出事项", "constraints": {"required": True,
                                                               "enum": "budget_lines"}},
             {"name": "granted", "title": "下达金额(元)", "type": "money",
              "constraints": {"required": True, "minimum": 0}},
             {"name": "used", "title": "使用金额(元)", "type": "money",
              "constraints": {"required": True, "minimum": 0}},
         ]},
    ]
}  # fmt: skip

PROGRAMME = {
    "code": CODE,
    "name": "某市残疾儿童康复救助项目",
    "unit": "某市残疾人联合会",
    "year": 2022,
    "counties": {"530102": "五华区", "530103": "盘龙区", "530111": "官渡区"},
    "budget_lines": [{"code": "therapy", "name": "康复训练补助", "amount_yuan": "3000.00"}],
    "template": "rehab_children",
    "checks": [
        {"rule": "RECORDS.DUPLICATE_PAYMENT", "sheet": "rehab_sessions", "person": "child_id",
         "date": "served_on", "amount": "fee"},
        {"rule": "RECORDS.OUT_OF_COUNTY", "sheet": "rehab_sessions", "person": "child_id",
         "date": "served_on", "amount": "fee"},
        {"rule": "RECORDS.AGE_OUT_OF_RANGE", "sheet": "rehab_sessions", "person": "child_id",
         "date": "served_on", "min": 0, "max": 17, "amount": "fee"},
        {"rule": "RECORDS.AMOUNT_NOT_STANDARD", "sheet": "rehab_sessions", "amount": "fee",
         "standard": "200.00"},
        {"rule": "RECORDS.OVERSPENT", "sheet": "rehab_funds", "line": "item",
         "allocated": "granted", "spent": "used"},
    ],
    "indicators": [
        {"id": "plan", "level1": "项目决策", "level2": "项目立项", "name": "立项依据充分性",
         "weight": 40, "kind": "qualitative", "score": 40, "reason": "依据充分"},
        {"id": "children", "level1": "项目绩效", "level2": "产出数量", "name": "救助儿童人数",
         "weight": 60, "kind": "higher", "target": 10, "unit": "人",
         "metric": "SELECT count(DISTINCT child_hash) FROM rehab_sessions"},
    ],
}  # fmt: skip


def child(region: str, born: str, seq: int) -> str:
    first17 = f"{region}{born}{seq:03d}"
    return first17 + resident_id_check(first17)


A, B, C = child("530102", "20150301", 11), child("530102", "20170708", 12), child("530103", "20160101", 13)
ADULT = child("530102", "19900101", 14)
HEAD = ["服务编号", "儿童身份证号", "儿童姓名", "服务日期", "服务类型", "时长(小时)", "补助金额(元)"]
FUNDS = ["支出事项", "下达金额(元)", "使用金额(元)"]


def rehab_programme(raw: Path) -> None:
    """The new programme, with its planted faults: B paid twice, C from 盘龙区 served in 五华区,
    an adult among children, a fee off the 200 元 standard, 五华区 spending past its grant;
    盘龙区 submits CSVs; 官渡区's workbook breaks its contract (an unknown service type)."""
    (raw / "templates").mkdir(parents=True, exist_ok=True)
    (raw / "templates" / "rehab_children.yaml").write_text(
        yaml.safe_dump(TEMPLATE, allow_unicode=True), "utf-8")  # fmt: skip
    folder = raw / "2022" / CODE
    folder.mkdir(parents=True)
    (folder / "programme.yaml").write_text(yaml.safe_dump(PROGRAMME, allow_unicode=True), "utf-8")
    counties = folder / "counties"
    write_workbook(counties / "530102.xlsx", {
        "康复服务": (HEAD, [
            ["KF-01", A, "张小明", dt.date(2022, 3, 1), "言语训练", 1.5, 200],
            ["KF-02", B, "李小红", dt.date(2022, 3, 8), "运动康复", "2", "200元"],
            ["KF-03", B, "李小红", "2022年4月8日", "运动康复", 2, "0.02万"],  # paid twice
            ["KF-04", C, "王小军", dt.date(2022, 5, 1), "认知训练", None, 200],  # 盘龙区 child
            ["KF-05", ADULT, "赵大伟", dt.date(2022, 6, 1), "言语训练", 1, 200],  # aged 32
            ["KF-06", A, "张小明", dt.date(2022, 7, 1), "言语训练", 1, "180.50"],  # off standard
        ]),
        "康复经费": (FUNDS, [["康复训练补助", 1000, "1,180.50"]]),  # overspent by 180.50
    })  # fmt: skip
    write_csv(counties / "530103" / "rehab_sessions.csv", HEAD,
              [["KF-01", C, "王小军", "2022/09/09", "认知训练", "3", "200"]])  # fmt: skip
    write_csv(counties / "530103" / "rehab_funds.csv", FUNDS, [["therapy", "1000", "200.00"]])
    write_workbook(counties / "530111.xlsx", {
        "康复服务": (HEAD, [["KF-01", A, "张小明", dt.date(2022, 3, 1), "推拿", 1, 200]]),
    })  # fmt: skip


def broken_programme(raw: Path) -> None:
    folder = raw / "2022" / "530100-broken"
    folder.mkdir(parents=True)
    data = PROGRAMME | {"code": "530100-broken", "template": None,
                        "sheets": [{"name": "select", "fields": [{"name": "x"}]}]}  # fmt: skip
    (folder / "programme.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")


def published(site: Path, code: str) -> list[dict]:
    """findings.json without what differs run to run."""
    path = site / REPORTS / "2022" / code / "findings.json"
    return [{k: v for k, v in f.items() if k not in ("status",)}
            for f in json.loads(path.read_text(encoding="utf-8"))]  # fmt: skip


def scores(site: Path, code: str) -> list[tuple]:
    with duckdb.connect(str(site / DB), read_only=True) as con:
        return con.execute(
            "SELECT indicator_id, score, grade FROM scores WHERE programme_code = ? ORDER BY ALL",
            [code],
        ).fetchall()


@pytest.fixture(scope="module")
def sites(tmp_path_factory, prefect_api) -> tuple[Path, Path, object]:
    """The sample alone, and the sample beside the new and the broken programme."""
    alone, together = tmp_path_factory.mktemp("alone"), tmp_path_factory.mktemp("together")
    for site in (alone, together):
        shutil.copytree(SAMPLE, site / "raw/2022/530100-disability-employment")
    rehab_programme(together / "raw")
    broken_programme(together / "raw")
    completed(jixiao_run(alone, prefect_api))
    return alone, together, jixiao_run(together, prefect_api)


def test_the_broken_programme_is_skipped_and_named(sites):
    _, together, done = sites
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2022/530100-broken" in done.stdout + done.stderr
    assert "SQL 保留字" in done.stdout + done.stderr
    with duckdb.connect(str(together / DB), read_only=True) as con:
        status, skipped = con.execute("SELECT status, skipped FROM runs").fetchone()
    assert status == "partial"
    [entry] = json.loads(skipped)
    assert entry["programme"] == "2022/530100-broken"
    assert "programme.yaml" in entry["reason"] and "sheets.0.name" in entry["reason"]
    assert not (together / REPORTS / "2022" / "530100-broken").exists()


def test_the_new_programme_is_loaded_exactly(sites):
    _, together, _ = sites
    with duckdb.connect(str(together / DB), read_only=True) as con:
        rows = con.execute(
            "SELECT county_code, count(*), sum(fee), sum(hours), count(DISTINCT child_hash) "
            "FROM rehab_sessions WHERE programme_code = ? GROUP BY 1 ORDER BY 1", [CODE]
        ).fetchall()
        log = dict(con.execute(
            "SELECT file, status FROM ingest_log WHERE programme_code = ?", [CODE]).fetchall())  # fmt: skip
        columns = {c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'rehab_sessions'").fetchall()}  # fmt: skip
        texts = " ".join(str(v) for row in con.execute("SELECT * FROM rehab_sessions").fetchall()
                         for v in row)  # fmt: skip
    assert rows == [
        ("530102", 6, Decimal("1180.50"), 7.5, 4),
        ("530103", 1, Decimal("200.00"), 3.0, 1),
    ]
    assert log == {
        "counties/530102.xlsx": "accepted",
        "counties/530103/rehab_sessions.csv": "accepted",
        "counties/530103/rehab_funds.csv": "accepted",
        "counties/530111.xlsx": "refused",
    }
    assert {"child_hash", "region_code", "age"} <= columns
    assert not {"child_id", "child_name"} & columns
    assert A not in texts and "张小明" not in texts
    page = together / "curated/feedback/530111/2022" / CODE / "530111.xlsx.md"
    assert "推拿" in page.read_text(encoding="utf-8")


def test_every_planted_fault_is_found_with_its_evidence(sites):
    _, together, _ = sites
    findings: dict[str, list[dict]] = {}
    for f in published(together, CODE):
        findings.setdefault(f["rule_id"], []).append(f)

    def rows(rule: str) -> list[set[tuple]]:
        return [{(f"{e['file']} › {e['sheet']}", e["row"]) for e in f["evidence"]}
                for f in findings[rule]]  # fmt: skip

    xlsx, csv = "counties/530102.xlsx › 康复服务", "counties/530103/rehab_sessions.csv › rehab_sessions"
    # A and B paid twice in 五华区; C served (and paid) in both counties.
    assert sorted(rows("RECORDS.DUPLICATE_PAYMENT"), key=sorted) == [
        {(xlsx, 2), (xlsx, 7)}, {(xlsx, 3), (xlsx, 4)}, {(xlsx, 5), (csv, 2)}]  # fmt: skip
    extra = sorted(Decimal(str(f["amount_yuan"])) for f in findings["RECORDS.DUPLICATE_PAYMENT"])
    assert extra == [Decimal("180.50"), Decimal("200.00"), Decimal("200.00")]
    assert rows("RECORDS.OUT_OF_COUNTY") == [{(xlsx, 5)}]
    assert rows("RECORDS.AGE_OUT_OF_RANGE") == [{(xlsx, 6)}]
    assert rows("RECORDS.AMOUNT_NOT_STANDARD") == [{(xlsx, 7)}]
    [overspent] = findings["RECORDS.OVERSPENT"]
    assert Decimal(str(overspent["amount_yuan"])) == Decimal("180.50")
    text = json.dumps(findings, ensure_ascii=False)
    assert A not in text and B not in text and "李小红" not in text
    with duckdb.connect(str(together / DB), read_only=True) as con:
        [(value,)] = con.execute(
            "SELECT value FROM metrics WHERE programme_code = ? AND indicator_id = 'children'",
            [CODE],
        ).fetchall()
    assert value == 4  # A, B, C and the adult: C counted once across counties


def test_the_sample_publishes_what_it_publishes_alone(sites):
    alone, together, _ = sites
    sample = "530100-disability-employment"
    assert published(together, sample) == published(alone, sample)
    assert scores(together, sample) == scores(alone, sample)
