"""The records against themselves (RECORDS.* rules) in SQL, and the same checks as Great
Expectations suites with offline Data Docs.

The bundled sample is loaded into a real DuckDB warehouse the way the pipeline does it
(``process()`` over ``submissions()``); a copy of it then gets planted rows, inserted with
their lineage directly (bypassing the contracts, as a stale or hand-edited warehouse would),
one fault each.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import socket
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jixiao.checks import records
from jixiao.checks.expectations import Since, offline, run_expectations, summaries, summary_frames
from jixiao.checks.findings import Evidence, Finding
from jixiao.checks.records import CAP, record_findings
from jixiao.ingest.discover import submissions
from jixiao.ingest.intake import Context, process
from jixiao.ingest.load import create_tables
from jixiao.sample.generate import SHEETS, sample_folder
from jixiao.schemas.programme import load_programme

REPO = Path(__file__).resolve().parent.parent
SAMPLE = sample_folder(REPO / "data" / "raw")
PROGRAMME = load_programme(SAMPLE / "programme.yaml")
CODE, YEAR = PROGRAMME.code, PROGRAMME.year
KEY = b"k" * 32

F1, F2, F3 = "planted/530102.xlsx", "planted/530103.xlsx", "planted/530124.xlsx"
EMPLOYER = "91530102PLANTED01X"


def at(file: str, table: str, *rows: int) -> list[tuple[str, int]]:
    return [(f"{file} › {SHEETS[table].title}", row) for row in rows]


def rows_of(f: Finding) -> list[tuple[str, int]]:
    return [(f"{e.file} › {e.sheet}", e.row) for e in f.evidence if e.row]


def by_rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


# --- warehouses ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    """The bundled sample, loaded by the pipeline's own intake."""
    root = tmp_path_factory.mktemp("sample")
    db = root / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    create_tables(con, PROGRAMME)
    ctx = Context(PROGRAMME, con, hash_key=KEY, run_id="t", feedback_dir=root / "feedback")
    outcomes = [o for batch in process(submissions(SAMPLE, PROGRAMME.county_template), ctx) for o in batch]
    con.close()
    assert sum(o.status == "accepted" and o.rows > 0 for o in outcomes) >= 10
    return db


@pytest.fixture
def sample(sample_db: Path):
    con = duckdb.connect(str(sample_db), read_only=True)  # as analysts open the warehouse
    yield con
    con.close()


def add(con, table: str, file: str, row: int, county: str, **values: object) -> None:
    """One warehouse row with its scope and lineage."""
    values = {
        "programme_code": CODE,
        "year": YEAR,
        "county_code": county,
        "source_file": file,
        "source_sha256": "0" * 64,
        "source_sheet": SHEETS[table].title,
        "source_row": row,
        **values,
    }
    columns = ", ".join(values)
    con.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )


def person(key: str, region: str = "530102", born: dt.date = dt.date(1980, 1, 1)) -> dict:
    """A person's warehouse columns, with the birth date the load turns into ``age``."""
    return {
        "cert_hash": hashlib.sha256(key.encode()).hexdigest(),
        "region_code": region,
        "born": born,
        "disability_category": "1",
        "disability_grade": "2",
    }


def aged(who: dict, on: dt.date) -> dict:
    """The warehouse stores the age on the date, not the birth date (SPEC §4)."""
    born = who["born"]
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return {k: v for k, v in who.items() if k != "born"} | {"age": age}


def visit(con, file: str, row: int, county: str, who: dict, on: dt.date, yuan: int = 400):
    add(con, "visits", file, row, county, **aged(who, on), category="就业困难", visited_on=on,
        amount_yuan=Decimal(yuan), paid_via="现金")  # fmt: skip


def entry(con, row: int, who: dict, on: dt.date) -> None:
    add(con, "competition_entries", F1, row, "530102", **aged(who, on), event="电子商务",
        held_on=on, award="未获奖")  # fmt: skip


def employer(con, file: str, row: int, county: str, fair: str, intends: bool) -> None:
    add(con, "fair_employers", file, row, county, fair_id=fair, employer_name="滇池重复科技有限公司",
        credit_code=EMPLOYER, positions_for_disabled=2, intends_to_hire=intends)  # fmt: skip


def funds(con, row: int, allocated: int, spent: int) -> None:
    add(con, "funds", F3, row, "530124", budget_line="visits", allocated_yuan=Decimal(allocated),
        spent_yuan=Decimal(spent), voucher_no=None)  # fmt: skip


@pytest.fixture
def planted(sample_db: Path, tmp_path: Path):
    """The sample plus one row (or two) per fault."""
    db = tmp_path / "planted.duckdb"
    shutil.copyfile(sample_db, db)
    con = duckdb.connect(str(db))
    a, b = person("A"), person("B")
    visit(con, F1, 2, "530102", a, dt.date(2022, 3, 1))  # A twice in one county
    visit(con, F1, 3, "530102", a, dt.date(2022, 6, 1))
    visit(con, F1, 4, "530102", b, dt.date(2022, 4, 1))  # B in two counties
    visit(con, F2, 2, "530103", b | {"region_code": "530103"}, dt.date(2022, 8, 1))
    visit(con, F1, 5, "530102", person("C", region="530124"), dt.date(2022, 5, 1))
    visit(con, F1, 6, "530102", person("G"), dt.date(2021, 12, 28))  # before the year
    visit(con, F1, 7, "530102", person("H"), dt.date(2022, 7, 1), yuan=300)
    on = dt.date(2022, 10, 30)
    entry(con, 2, person("D", born=dt.date(1950, 5, 1)), on)  # 72
    entry(con, 3, person("E", born=dt.date(2007, 5, 1)), dt.date(2022, 5, 20))  # 15
    entry(con, 4, person("F60", born=dt.date(1961, 10, 31)), on)  # 60 until the next day
    entry(con, 5, person("F16", born=dt.date(2006, 10, 30)), on)  # 16 on the day
    entry(con, 6, person("F61", born=dt.date(1961, 10, 30)), on)  # 61 on the day
    employer(con, F1, 2, "530102", "ZP-P1", True)  # at two fairs, intending at both
    employer(con, F2, 2, "530103", "ZP-P1", True)
    employer(con, F2, 3, "530103", "ZP-P2", False)  # a third fair, not intending: not counted
    funds(con, 2, 12000, 12000)  # 530124 visits line: 13000 spent of 12000
    funds(con, 3, 0, 1000)
    yield con
    con.close()


# --- SQL findings -------------------------------------------------------------------------


def test_the_sample_has_no_record_errors_only_repeat_employers_and_late_fairs(sample):
    found = record_findings(sample, PROGRAMME)
    assert [f.severity for f in found if f.severity == "error"] == []
    assert {f.rule_id for f in found} == {"RECORDS.COUNTED_TWICE", "RECORDS.AFTER_DEADLINE"}
    late = [f for f in found if f.rule_id == "RECORDS.AFTER_DEADLINE"]
    # Four counties held their job fair in December, after the 11-30 deadline; one row each.
    assert sorted((f.claimed, f.observed, len(f.evidence)) for f in late) == [
        ("2022-12-03", "2022-11-30", 1), ("2022-12-23", "2022-11-30", 1),
        ("2022-12-23", "2022-11-30", 1), ("2022-12-26", "2022-11-30", 1)]  # fmt: skip
    assert all(e.sheet and e.row for f in late for e in f.evidence)
    findings = [f for f in found if f.rule_id == "RECORDS.COUNTED_TWICE"]
    assert len(findings) == 4  # the generator repeats four employers at the next county's fair
    for f in findings:
        assert f.claimed == "2" and f.observed == "应计 1 次，多计 1 次"
        assert len(rows_of(f)) == 2 and len({county for county, _ in rows_of(f)}) == 2


def test_same_person_paid_twice_in_one_county_and_across_two(planted):
    a, b = by_rule(record_findings(planted, PROGRAMME), "RECORDS.DUPLICATE_PAYMENT")
    by_rows = {tuple(rows_of(f)): f for f in (a, b)}
    one = by_rows[tuple(at(F1, "visits", 2, 3))]
    two = by_rows[tuple(at(F1, "visits", 4) + at(F2, "visits", 2))]
    assert one.subject == "person:" + person("A")["cert_hash"][:12]
    assert (one.claimed, one.observed, one.amount_yuan) == ("2", "多发 400 元", Decimal("400"))
    assert one.message() == "五华区慰问：同一残疾人证号被发放 2 次，多发 400 元。"
    assert one.severity == "error"
    assert two.label == "五华区、盘龙区慰问" and two.amount_yuan == Decimal("400")
    assert one.evidence[0].text == "五华区 慰问：慰问日期 2022-03-01，慰问金额 400 元"


def test_person_outside_the_paying_county(planted):
    (f,) = by_rule(record_findings(planted, PROGRAMME), "RECORDS.OUT_OF_COUNTY")
    assert f.subject == "person:" + person("C")["cert_hash"][:12]
    assert (f.claimed, f.observed) == ("530102（五华区）", "530124（富民县）")
    assert rows_of(f) == at(F1, "visits", 5) and f.amount_yuan == Decimal("400")
    assert (
        f.message() == "慰问：残疾人证号地区码 530124（富民县） 不属于报送区县 530102（五华区）。"
    )


def test_entrants_outside_working_age_on_the_day_bounds_included(planted):
    found = by_rule(record_findings(planted, PROGRAMME), "RECORDS.AGE_OUT_OF_RANGE")
    got = {(f.claimed, f.observed): rows_of(f) for f in found}
    assert got == {
        ("2022-10-30", "72"): at(F1, "competition_entries", 2),
        ("2022-05-20", "15"): at(F1, "competition_entries", 3),
        ("2022-10-30", "61"): at(F1, "competition_entries", 6),
    }
    assert all(f.amount_yuan is None and f.label == "五华区竞赛" for f in found)


def test_employer_counted_at_two_fairs(planted):
    found = by_rule(record_findings(planted, PROGRAMME), "RECORDS.COUNTED_TWICE")
    (f,) = [f for f in found if f.subject == f"credit_code:{EMPLOYER}"]
    assert rows_of(f) == at(F1, "fair_employers", 2) + at(F2, "fair_employers", 2)
    assert f.claimed == "2" and f.label == "滇池重复科技有限公司" and f.severity == "warning"
    assert len(found) == 5  # with the sample's four


def test_visit_outside_the_year(planted):
    (f,) = by_rule(record_findings(planted, PROGRAMME), "RECORDS.OUTSIDE_YEAR")
    assert (f.subject, f.claimed, f.observed) == ("county:530102:visits", "2021-12-28", "2022")
    assert rows_of(f) == at(F1, "visits", 6) and f.amount_yuan == Decimal("400")
    assert f.message() == "五华区慰问：慰问日期 2021-12-28 不在项目年度 2022 内。"


def test_overspent_county_budget_line(planted):
    (f,) = by_rule(record_findings(planted, PROGRAMME), "RECORDS.OVERSPENT")
    assert (f.subject, f.claimed, f.observed) == ("county:530124:visits", "13000", "12000")
    assert rows_of(f) == at(F3, "funds", 2, 3) and f.amount_yuan == Decimal("1000")
    assert f.message() == (
        "富民县「慰问就业困难残疾人和残疾失业人员家庭」：使用 13000 元，超过下达 12000 元。"
    )


def test_amount_off_the_standard(planted):
    (f,) = by_rule(record_findings(planted, PROGRAMME), "RECORDS.AMOUNT_NOT_STANDARD")
    assert (f.subject, f.claimed, f.observed) == ("county:530102:visits", "300", "400")
    assert rows_of(f) == at(F1, "visits", 7) and f.amount_yuan == Decimal("100")
    assert f.message() == "五华区慰问（1 行）：慰问金额为 300 元，不等于标准 400 元。"


def test_the_standard_is_the_declared_one(sample):
    checks = [c.model_copy(update={"standard": Decimal("300")})
              if c.rule == "RECORDS.AMOUNT_NOT_STANDARD" else c for c in PROGRAMME.checks]  # fmt: skip
    found = record_findings(sample, PROGRAMME.model_copy(update={"checks": checks}))
    off = by_rule(found, "RECORDS.AMOUNT_NOT_STANDARD")
    assert len(off) == 10  # every visiting county pays 400
    assert sum(f.amount_yuan for f in off) == Decimal(300 * 100)


def test_planted_faults_are_all_and_only_what_is_found(planted):
    found = record_findings(planted, PROGRAMME)
    counts = {}
    for f in found:
        counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
    assert counts == {
        "RECORDS.DUPLICATE_PAYMENT": 2,
        "RECORDS.OUT_OF_COUNTY": 1,
        "RECORDS.AGE_OUT_OF_RANGE": 3,
        "RECORDS.COUNTED_TWICE": 5,
        "RECORDS.OUTSIDE_YEAR": 1,
        "RECORDS.AFTER_DEADLINE": 4,  # the sample's own late job fairs
        "RECORDS.OVERSPENT": 1,
        "RECORDS.AMOUNT_NOT_STANDARD": 1,
    }
    hashes = planted.execute("SELECT cert_hash FROM visits").fetchall()
    text = " ".join(f.message() + repr(f.evidence) + f.subject for f in found)
    assert not any(h in text for (h,) in hashes)  # a person is only a 12-character prefix


def test_evidence_is_capped_and_scoped_to_the_programme(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    create_tables(con, PROGRAMME)
    who = person("many")
    for row in range(2, 2 + CAP + 5):
        visit(con, F1, row, "530102", who, dt.date(2022, 1, 1) + dt.timedelta(days=row))
    visit(con, F1, 99, "530102", person("once"), dt.date(2022, 1, 2))
    con.execute("UPDATE visits SET programme_code = 'other' WHERE source_row = 99")
    visit(con, F1, 100, "530102", person("once"), dt.date(2022, 1, 3))  # once in this programme
    (f,) = record_findings(con, PROGRAMME)
    assert f.claimed == str(CAP + 5) and f.amount_yuan == Decimal(400 * (CAP + 4))
    assert rows_of(f) == at(F1, "visits", *range(2, 2 + CAP))
    assert f.evidence[-1] == Evidence("", 0, "另有 5 行未列出")
    con.close()


# --- Great Expectations -------------------------------------------------------------------


@pytest.fixture
def offline_only(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:2]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def no_outside_address(site: Path) -> None:
    pages = [p for p in site.rglob("*") if p.suffix in {".html", ".css", ".js", ".svg", ".json"}]
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8").lower()
        assert "http://" not in text and "https://" not in text, page
        assert "<script" not in text, page


@pytest.mark.parametrize("engine", ["pandas", "sql"])
def test_suites_agree_with_the_sql_findings_offline(planted, tmp_path, offline_only, engine):
    out = tmp_path / "out"
    report = run_expectations(planted, PROGRAMME, out, engine=engine)
    findings = record_findings(planted, PROGRAMME)
    assert len(report.results) == len(PROGRAMME.checks) and not report.success
    for rule_id in {c.rule for c in PROGRAMME.checks}:
        suites = [r for r in report.results if r.rule_id == rule_id]
        expected = len(by_rule(findings, rule_id))
        assert sum(r.unexpected_count for r in suites) == expected, rule_id
        assert all(r.success == (r.unexpected_count == 0) for r in suites), rule_id
    results = report.by_suite()
    assert sorted(results["ages_competition_entries"].observed) == [15, 61, 72]
    assert results["ages_visits"].success
    assert results["payments_visits"].observed == [2, 2]
    site = out / "data_docs"
    assert [p.name for p in out.iterdir()] == ["data_docs"]  # no scratch left behind
    assert report.data_docs == site / "index.html"
    index = report.data_docs.read_text(encoding="utf-8")
    failed = sum(not r.success for r in report.results)
    assert failed == 8 and index.count("未通过") == 1 + failed  # the summary line, each row
    for suite in ("payments_visits", "ages_competition_entries", "totals_funds",
                  "amounts_visits"):  # fmt: skip
        assert f"validations/{suite}/" in index and f"expectations/{suite}.html" in index
    no_outside_address(site)


def test_the_sample_fails_only_the_employer_and_late_fair_suites(sample, tmp_path, offline_only):
    report = run_expectations(sample, PROGRAMME, tmp_path / "out")
    failed = [r for r in report.results if not r.success]
    assert [(r.suite, r.unexpected_count) for r in failed] == [
        ("counted_fair_employers", 4), ("late_job_fairs", 4)]  # fmt: skip
    assert all(r.element_count for r in report.results)
    no_outside_address(tmp_path / "out" / "data_docs")


# Summary rows per county beyond the findings: oldest and youngest; one per budget line.
PER_COUNTY = {"ages_visits": 2, "ages_competition_entries": 2, "totals_funds": 3}


def test_gx_rows_grow_with_counties_and_findings_not_people(sample_db, tmp_path, offline_only):
    db = tmp_path / "grown.duckdb"
    shutil.copyfile(sample_db, db)
    con = duckdb.connect(str(db))

    def validated() -> dict[str, tuple]:
        report = run_expectations(con, PROGRAMME, tmp_path / "out")
        return {r.suite: (r.success, r.unexpected_count, r.element_count) for r in report.results}

    before = validated()
    for n in range(300):  # 300 more people, each paid once at the standard in their county
        visit(con, F1, 1000 + n, "530102", person(f"more{n}"), dt.date(2022, 3, 1))
        add(con, "fair_employers", F1, 1000 + n, "530102", fair_id="ZP-P1", employer_name="某公司",
            credit_code=f"91530102MORE{n:05d}", positions_for_disabled=1, intends_to_hire=True)  # fmt: skip
    assert validated() == before
    for suite, (_, unexpected, rows) in before.items():
        assert rows <= PER_COUNTY.get(suite, 1) * len(PROGRAMME.counties) + unexpected, suite

    visit(con, F1, 2000, "530102", person("more7"), dt.date(2022, 9, 1))  # paid a second time
    after = validated()
    assert after.pop("payments_visits") == (False, 1, before.pop("payments_visits")[2] + 1)
    assert after == before
    con.close()


@pytest.mark.parametrize(
    ("rule_id", "change", "sql_findings", "gx_unexpected"),
    [
        # A wrong SQL rule that misses A's and B's second payments: they fold into 530102's
        # row, whose most payments to one person is 2, and GX fails that row.
        ("RECORDS.DUPLICATE_PAYMENT", {"having": "count(*) > 2"}, 0, 1),
        # One that also reports 60-year-olds: listed, they pass the expectation.
        ("RECORDS.AGE_OUT_OF_RANGE", {"where": "age NOT BETWEEN 16 AND 59"}, 10, 3),
    ],
)
def test_gx_disagrees_with_a_wrong_sql_rule(planted, tmp_path, monkeypatch, rule_id, change,
                                            sql_findings, gx_unexpected):  # fmt: skip
    right = records.QUERIES[rule_id]
    monkeypatch.setitem(records.QUERIES, rule_id, lambda c: dataclasses.replace(right(c), **change))
    report = run_expectations(planted, PROGRAMME, tmp_path / "out")
    assert len(by_rule(record_findings(planted, PROGRAMME), rule_id)) == sql_findings
    suites = [r for r in report.results if r.rule_id == rule_id]
    assert sum(r.unexpected_count for r in suites) == gx_unexpected
    assert not all(r.success for r in suites)


def test_offline_rewrites_cdn_references(tmp_path: Path):
    page = tmp_path / "page.html"
    page.write_text(
        '<html><head><link rel="stylesheet" href="https://cdn.example/b.css">'
        '<script src="https://cdn.example/j.js"></script><script>$(x)</script>'
        "<style>a{background:url('https://cdn.example/logo.png')}</style></head><body>"
        '<img src="//cdn.example/logo.png"><a href="https://greatexpectations.io">GX</a>'
        '<a href="validations/x.html">x</a><table><tr><td>42</td></tr></table>'
        "<footer><a href='https://example/news'>news</a></footer></body></html>",
        encoding="utf-8",
    )
    offline(tmp_path)
    text = page.read_text(encoding="utf-8")
    assert "http" not in text and "//cdn" not in text and "<script" not in text
    assert "<td>42</td>" in text and '<a href="validations/x.html">x</a>' in text
    assert ">GX<" in text and "news" not in text and text.count("<style>") == 2


def test_kept_summaries_give_the_whole_computation_where_counties_changed(sample_db, planted,
                                                                         tmp_path):  # fmt: skip
    """The summaries one run keeps (`summary_rows`), computed again only where the changed
    counties' rows can move them, give the frames GX would get from the whole computation,
    types included: a rule per county's for those counties, a rule across counties' for every
    county where a person with a row there has a row, before the change (the published
    warehouse) or after. A kept row of a county the change cannot move is read back, not
    computed again."""
    specs = summaries(PROGRAMME)
    with duckdb.connect(str(sample_db), read_only=True) as kept:
        assert kept.execute("SELECT * FROM summary_rows").fetchall() == []  # the intake keeps none
    # The base night's records, as it published them: the sample, and a person paid in 530102
    # and 530112, whose group is filed under 530102. The night after, the 530102 row is gone:
    # the group is 530112's, a county whose own rows did not change.
    before, moved = tmp_path / "before.duckdb", person("P")
    shutil.copyfile(sample_db, before)
    with duckdb.connect(str(before)) as con:
        visit(con, F1, 9, "530102", moved, dt.date(2022, 3, 2))
        visit(con, "planted/530112.xlsx", 2, "530112", moved, dt.date(2022, 4, 2))
        con.execute("INSERT INTO runs (run_id, seq, status) VALUES ('base', 1, 'completed')")
        summary_frames(con, PROGRAMME, specs, Since("base"))
        base_rows = con.execute("SELECT * FROM summary_rows").fetchall()
    assert {r[2] for r in base_rows} == {s.name for s in specs}
    visit(planted, "planted/530112.xlsx", 2, "530112", moved, dt.date(2022, 4, 2))
    planted.execute("DELETE FROM summary_rows")
    planted.executemany("INSERT INTO summary_rows VALUES (?, ?, ?, ?, ?, ?)", base_rows)
    planted.execute(f"ATTACH '{before}' AS base (READ_ONLY)")
    changed = sorted({c for table in SHEETS for (c,) in planted.execute(
        f"SELECT county_code FROM (FROM {table} EXCEPT ALL FROM base.{table}) UNION "
        f"SELECT county_code FROM (FROM base.{table} EXCEPT ALL FROM {table})").fetchall()})  # fmt: skip
    planted.execute("DETACH base")
    assert changed == ["530102", "530103", "530124"]
    whole = summary_frames(planted, PROGRAMME, specs)
    payments = whole["payments_visits"]
    (kept,) = [json.loads(r[5]) for r in base_rows if r[2] == "payments_visits" and r[3] == "530112"]
    assert payments[payments.county_code == "530112"].people.item() == kept["people"] + 1
    since = summary_frames(planted, PROGRAMME, specs, Since("night", "base", tuple(changed), before))
    for spec in specs:
        assert since[spec.name].equals(whole[spec.name]), spec.name
        assert list(since[spec.name].dtypes) == list(whole[spec.name].dtypes), spec.name

    # Without the records as they were, a summary across counties is computed whole.
    planted.execute("""UPDATE summary_rows SET "row" = replace("row", '"payments":', '"payments":1234')
                       WHERE summary = 'payments_visits' AND county_code = '530113'""")
    blind = summary_frames(planted, PROGRAMME, specs, Since("night2", "night", tuple(changed)))
    assert blind["payments_visits"].equals(whole["payments_visits"])
    planted.execute("""UPDATE summary_rows SET "row" = replace("row", '"payments":', '"payments":1234')
                       WHERE summary = 'payments_visits' AND county_code = '530113'""")
    with duckdb.connect(str(before)) as con:  # the night the kept rows are from, published
        con.execute("INSERT INTO runs (run_id, seq, status) VALUES ('night2', 2, 'completed')")
    read = summary_frames(planted, PROGRAMME, specs, Since("night3", "night2", tuple(changed), before))
    payments = read["payments_visits"]
    assert (payments[payments.county_code == "530113"].payments >= 12340).all()

    # A kept row of a county that did not change is what the next night reads back.
    planted.execute("""UPDATE summary_rows SET "row" = replace("row", '"records":', '"records":1234')
                       WHERE summary = 'years_visits' AND county_code = '530112'""")
    again = summary_frames(planted, PROGRAMME, specs, Since("night4", "night3", tuple(changed)))
    years = again["years_visits"]
    assert (years[years.county_code == "530112"].records >= 12340).all()
    assert years[years.county_code != "530112"].equals(
        whole["years_visits"][whole["years_visits"].county_code != "530112"])
