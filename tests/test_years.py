"""A programme is its year and its code (SPEC §1.2): the same code under `data/raw/2023/` is
another programme, whose rows, log entries, metrics, scores, claims and findings carry 2023
and never touch 2022's. The issue's reproduction, through real `jixiao run`s: the sample run
alone, and the sample run beside a 2023 copy of itself (fewer counties, its dates a year on,
one workbook left with 2022's dates), twice; then warehouses as the previous version left
them, migrated or rebuilt.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.runs import (
    DB,
    EMPTY_IN_SAMPLE,
    PROGRAMME,
    REPO,
    REPORTS,
    completed,
    jixiao_run,
    tree,
    without_run,
)

pytestmark = pytest.mark.flow

CODE = PROGRAMME.name
PROGRAMME_2023 = Path("raw/2023") / CODE
# What each run writes of its own: its id and clock; and where the stat cache found each
# file on disk (each folder is a copy of its own).
OWN = ("run_id", "ingested_at", "ctime_ns", "inode", "stat_at_ns")
DATES = {"held_on", "visited_on", "answered_on", "举办日期", "慰问日期", "比赛日期", "填报日期"}
HISTORY = ("metrics", "scores", "findings")
PER_RUN = (*HISTORY, "run_inputs")  # one set of rows per run, by design


def query(folder: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(folder / DB), read_only=True) as con:  # as analysts open it
        return con.execute(sql, list(params)).fetchall()


def year_tables(folder: Path) -> list[str]:
    """The warehouse's tables (not its views) that have a year column."""
    return [t for (t,) in query(folder, "SELECT table_name FROM duckdb_tables() WHERE table_name "
                                "IN (SELECT table_name FROM duckdb_columns() WHERE column_name = "
                                "'year') ORDER BY 1")]  # fmt: skip


def rows(folder: Path, table: str, where: str = "true", params=()) -> list[tuple]:
    """A table's rows without each run's own id and clock, in a stable order: columns by
    name (a migrated table has its year last)."""
    columns = sorted(c for (c, *_) in query(folder, f"DESCRIBE {table}") if c not in OWN)
    return query(folder, f"SELECT {', '.join(columns)} FROM {table} WHERE {where} ORDER BY ALL",
                 params)  # fmt: skip


def contents(folder: Path) -> dict[str, list[tuple]]:
    """Every table but those of one set of rows per run."""
    return {t: rows(folder, t) for t in year_tables(folder) if t not in PER_RUN}


def a_year_on(source: Path, target: Path) -> None:
    """A county's CSV with every date a year later, in the encoding it came in."""
    data = source.read_bytes()
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "gb18030"
    table = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
    dates = [i for i, name in enumerate(table[0]) if name in DATES]
    for row in table[1:]:
        for i in dates:
            row[i] = re.sub(r"^\d{4}", lambda m: str(int(m.group()) + 1), row[i])
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(table)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(out.getvalue().encode(encoding))


def copy_2023(folder: Path) -> None:
    """The sample's 2023 copy under the same code: two CSV counties a year on; 东川区's visits,
    refused in 2022, accepted in 2023 under the same name (西山区's a year on); and 盘龙区's
    workbook as it was (its 2022 dates are outside 2023: refused)."""
    source, target = folder / PROGRAMME, folder / PROGRAMME_2023
    (target / "counties").mkdir(parents=True)
    yaml = (source / "programme.yaml").read_text(encoding="utf-8")
    (target / "programme.yaml").write_text(yaml.replace("year: 2022", "year: 2023"),
                                           encoding="utf-8")  # fmt: skip
    shutil.copy(source / "report.docx", target / "report.docx")
    shutil.copy(source / "counties/530103.xlsx", target / "counties/530103.xlsx")
    for county in ("530112", "530114"):
        for csv_file in (source / "counties" / county).glob("*.csv"):
            a_year_on(csv_file, target / "counties" / county / csv_file.name)
    a_year_on(source / "counties/530112/visits.csv", target / "counties/530113/visits.csv")


def published(folder: Path, year: int) -> Path:
    return folder / REPORTS / str(year) / CODE


def findings_json(folder: Path, year: int) -> list[dict]:
    return json.loads((published(folder, year) / "findings.json").read_text(encoding="utf-8"))


def runs_of(folder: Path) -> list[str]:
    return [r for (r,) in query(folder, "SELECT run_id FROM runs ORDER BY seq")]


def resubmit(folder: Path) -> None:
    """西山区 sends its 2023 visits again, one household fewer (a .v2 beside the first)."""
    visits = folder / PROGRAMME_2023 / "counties/530112/visits.csv"
    lines = visits.read_bytes().rstrip(b"\r\n").split(b"\r\n")
    visits.with_name("visits.v2.csv").write_bytes(b"\r\n".join(lines[:-1]) + b"\r\n")


@pytest.fixture(scope="module")
def years(prefect_api, tmp_path_factory) -> dict:
    """The sample alone; the sample beside its 2023 copy, run twice, then again once 2023's
    西山区 has resubmitted. What each of the first two runs published is kept."""
    alone, both = (tmp_path_factory.mktemp(name) for name in ("years-2022", "years-both"))
    for folder in (alone, both):
        shutil.copytree(REPO / "data" / "raw", folder / "raw")
    copy_2023(both)
    with ThreadPoolExecutor(2) as pool:
        for done in pool.map(lambda f: jixiao_run(f, prefect_api), (alone, both)):
            completed(done)
    kept = {}
    for name in ("first", "second"):
        if name == "second":
            completed(jixiao_run(both, prefect_api))
        kept[name] = tmp_path_factory.mktemp(f"years-both-{name}")
        shutil.copytree(both / "curated", kept[name] / "curated")
    resubmit(both)
    completed(jixiao_run(both, prefect_api))
    return {"alone": alone, "both": both} | kept


def test_every_row_carries_its_year(years):
    first = years["first"]
    tables = {t for (t,) in query(first, "SELECT table_name FROM duckdb_tables()")}
    assert set(year_tables(first)) == tables - {"runs"}
    for table in tables - {"runs"}:
        assert query(first, f"SELECT count(*) FROM {table} WHERE year IS NULL") == [(0,)], table
    counted = dict(query(first, "SELECT year, count(*) FROM visits GROUP BY 1"))
    assert counted[2022] == 300 and 0 < counted[2023] < 300


def test_2022_is_as_if_run_alone(years):
    alone, first = years["alone"], years["first"]
    for table in year_tables(alone):
        assert bool(rows(alone, table)) != (table in EMPTY_IN_SAMPLE), table
        assert rows(first, table, "year = 2022") == rows(alone, table), table
    # The sample's figures: 300 visits, 5 job fairs, 90.33 (优), and every finding stored.
    assert query(first, "SELECT count(*) FROM job_fairs WHERE year = 2022") == [(5,)]
    assert query(first, "SELECT score, grade FROM scores WHERE year = 2022 AND level = 0") == [
        (Decimal("90.33"), "优")
    ]
    stored = query(first, "SELECT fingerprint FROM findings WHERE year = 2022 ORDER BY rowid")
    assert [f["fingerprint"] for f in findings_json(first, 2022)] == [f for (f,) in stored]
    assert len(stored) > 5
    assert (published(first, 2022) / "findings.json").read_bytes() == (
        published(alone, 2022) / "findings.json"
    ).read_bytes()
    for name in ("report.md", "report.html"):
        one, two = ((published(f, 2022) / name).read_text(encoding="utf-8") for f in (first, alone))
        assert without_run(one) == without_run(two), name
    # 东川区's 2022 refusal stands beside its 2023 acceptance of a file of the same name.
    pages = tree(first / "curated/feedback")
    assert "530113/2022/" + CODE + "/530113_visits.csv.md" in pages
    assert {p: h for p, h in pages.items() if "/2022/" in p} == tree(alone / "curated/feedback")


def test_2023_is_a_programme_of_its_own(years):
    alone, first = years["alone"], years["first"]
    per_county = "SELECT county_code, count(*), sum(amount_yuan) FROM visits WHERE year = ? " \
                 "AND county_code IN ('530112', '530114') GROUP BY 1 ORDER BY 1"  # fmt: skip
    assert query(first, per_county, [2023]) == query(alone, per_county, [2022])
    files = "SELECT file, status, sha256 FROM ingest_log WHERE year = ? ORDER BY 1"
    log_2023 = {f: (s, sha) for f, s, sha in query(first, files, [2023])}
    log_2022 = {f: (s, sha) for f, s, sha in query(first, files, [2022])}
    assert {f: s for f, (s, _) in log_2023.items()} == {
        "counties/530103.xlsx": "refused",
        "counties/530113/visits.csv": "accepted",
        **{f"counties/{c}/{s}.csv": "accepted" for c in ("530112", "530114") for s in
           ("competition_entries", "fair_employers", "funds", "job_fairs", "survey_responses",
            "visits")},
    }  # fmt: skip
    # The same bytes under the same name in another year: read again, not skipped as known.
    assert log_2022["counties/530103.xlsx"] == ("accepted", log_2023["counties/530103.xlsx"][1])
    (errors,) = query(first, "SELECT errors FROM ingest_log WHERE year = 2023 AND status = "
                             "'refused'")[0]  # fmt: skip
    assert json.loads(errors)[0]["rule_id"] == "VALUE.OUTSIDE_YEAR"
    page = first / "curated/feedback/530103/2023" / CODE / "530103.xlsx.md"
    assert "不在项目年度 2023 年内" in page.read_text(encoding="utf-8")

    held = "SELECT year, value FROM metrics WHERE indicator_id = 'job_fairs_held' ORDER BY 1"
    fairs = query(first, "SELECT year, count(*) FROM job_fairs GROUP BY 1 ORDER BY 1")
    assert [(y, int(v)) for y, v in query(first, held)] == fairs and fairs[0] == (2022, 5)
    assert fairs[1][1] < 5
    (run,) = runs_of(first)
    assert query(first, "SELECT * FROM v_latest_run ORDER BY year") == [
        (CODE, 2022, run),
        (CODE, 2023, run),
    ]
    recorded = "SELECT year, recorded FROM v_indicator_status WHERE indicator_id = " \
               "'job_fairs_held' ORDER BY 1"  # fmt: skip
    assert [(y, int(v)) for y, v in query(first, recorded)] == fairs

    # One report, read for both years: the same problem, followed as two findings.
    found = {y: findings_json(first, y) for y in (2022, 2023)}
    problems = {y: {(f["rule_id"], f["subject"], f["claimed"], f["observed"]) for f in found[y]}
                for y in found}  # fmt: skip
    assert problems[2022] & problems[2023]
    fingerprints = {y: {f["fingerprint"] for f in found[y]} for y in found}
    assert not fingerprints[2022] & fingerprints[2023]
    stored = query(first, "SELECT year, list(fingerprint) FROM findings GROUP BY 1")
    assert {y: set(f) for y, f in stored} == fingerprints


def test_a_second_run_changes_nothing(years):
    first, both = years["first"], years["second"]
    assert contents(both) == contents(first)
    one, two = runs_of(both)
    (files,) = query(first, "SELECT count(DISTINCT (year, file)) FROM ingest_log")[0]
    assert query(both, "SELECT files_seen, files_skipped, status FROM runs WHERE run_id = ?",
                 [two]) == [(files, files, "unchanged")]  # the 2023 copy's files and the sample's  # fmt: skip
    assert files == 30 + 14
    for table in HISTORY:  # a night of nothing changed audits nothing: the history stands
        assert rows(both, table) == rows(first, table), table
        assert not query(both, f"SELECT 1 FROM {table} WHERE run_id = ?", [two]), table
    for year in (2022, 2023):
        assert findings_json(both, year) == findings_json(first, year)


def test_a_resubmission_in_2023_leaves_2022_alone(years):
    alone, both = years["alone"], years["both"]
    for table in year_tables(alone):
        if table not in PER_RUN:
            assert rows(both, table, "year = 2022") == rows(alone, table), table
    last = runs_of(both)[-1]
    for table in ("metrics", "scores"):
        assert rows(both, table, "year = 2022 AND run_id = ?", [last]) == rows(alone, table)
    visits = "SELECT year, file, status FROM ingest_log WHERE file LIKE 'counties/530112/visits%'"
    assert sorted(query(both, visits)) == [
        (2022, "counties/530112/visits.csv", "accepted"),
        (2023, "counties/530112/visits.csv", "superseded"),
        (2023, "counties/530112/visits.v2.csv", "accepted"),
    ]
    households = "SELECT year, count(*) FROM visits WHERE county_code = '530112' GROUP BY 1"
    assert sorted(query(both, households)) == [(2022, 30), (2023, 29)]


def as_previous_version(folder: Path) -> None:
    """The warehouse as the version before years were kept apart left it: no year in the run
    history, and fingerprints of the rule, subject and figures alone."""
    with duckdb.connect(str(folder / DB)) as con:
        for old, *texts in con.execute("SELECT DISTINCT fingerprint, rule_id, subject, claimed, "
                                       "observed FROM findings").fetchall():  # fmt: skip
            fingerprint = hashlib.sha256(json.dumps(texts).encode("utf-8")).hexdigest()[:16]
            con.execute("UPDATE findings SET fingerprint = ? WHERE fingerprint = ?",
                        [fingerprint, old])  # fmt: skip
        for table in HISTORY:
            con.execute(f"ALTER TABLE {table} DROP COLUMN year")


def said(done, text: str) -> bool:
    """Whether the run's output says ``text``, wherever the console wrapped it."""
    return "".join(text.split()) in "".join((done.stdout + done.stderr).split())


def test_a_warehouse_of_one_year_per_code_is_migrated(years, prefect_api, tmp_path):
    folder = tmp_path / "migrated"
    shutil.copytree(years["alone"], folder)
    as_previous_version(folder)
    done = jixiao_run(folder, prefect_api)
    completed(done)
    assert said(done, "数据仓库由不区分项目年度的旧版本生成：已按仓库中各项目的年度为")
    before, after = runs_of(folder)
    for table in HISTORY:  # the earlier run's history, dated, its findings fingerprinted anew
        assert rows(folder, table, "run_id = ?", [before]) == rows(years["alone"], table), table
    # Followed across the upgrade: nothing new, nothing resolved.
    follow = "SELECT fingerprint, status FROM findings WHERE run_id = ? ORDER BY ALL"
    assert query(folder, follow, [after]) == [
        (f, "open") for f, _ in query(folder, follow, [before])
    ]
    assert contents(folder) == contents(years["alone"])


def test_a_page_where_the_previous_version_put_it_goes_with_its_refusal(
    years, prefect_api, tmp_path
):
    folder = tmp_path / "pages"
    shutil.copytree(years["alone"], folder)
    feedback = folder / "curated/feedback"
    with duckdb.connect(str(folder / DB)) as con:  # feedback/<county>/<programme>/<file>.md
        for (page,) in con.execute("SELECT feedback_file FROM ingest_log WHERE status = "
                                   "'refused'").fetchall():  # fmt: skip
            county, year, code, name = page.split("/")
            (feedback / county / code).mkdir()
            (feedback / page).rename(feedback / county / code / name)
            shutil.rmtree(feedback / county / year)
            con.execute("UPDATE ingest_log SET feedback_file = ? WHERE feedback_file = ?",
                        [f"{county}/{code}/{name}", page])  # fmt: skip
    counties = folder / PROGRAMME / "counties"
    shutil.copy(counties / "530112/visits.csv", counties / "530113/visits.csv")  # now readable
    completed(jixiao_run(folder, prefect_api))
    assert query(folder, "SELECT status FROM ingest_log WHERE file = "
                         "'counties/530113/visits.csv' ORDER BY ingested_at") == [
        ("refused",), ("accepted",)
    ]  # fmt: skip
    assert sorted(p.relative_to(feedback).as_posix() for p in feedback.rglob("*.md")) == [
        f"{county}/{CODE}/{county}.xlsx.md" for county in ("530124", "530125", "530126")
    ]


def test_a_warehouse_that_mixed_years_is_rebuilt(years, prefect_api, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(years["both"], folder)
    as_previous_version(folder)
    with duckdb.connect(str(folder / DB)) as con:  # what 2023's 西山区 did to 2022's rows
        con.execute("DELETE FROM visits WHERE year = 2022 AND county_code = '530112'")
    done = jixiao_run(folder, prefect_api)
    completed(done)
    assert said(done, f"其中 {CODE}（2022、2023 年度）不同年度的报送数据已相互混杂")
    assert said(done, "本次从原始报送数据全部重新读入")
    assert contents(folder) == contents(years["both"])  # 西山区's 2022 visits are back
    last, before = runs_of(folder)[-1], runs_of(years["both"])[-1]
    for table in HISTORY:  # what the earlier runs measured cannot be dated: kept, counted nowhere
        assert query(folder, f"SELECT DISTINCT year FROM {table} WHERE run_id <> ?", [last]) == [
            (None,)
        ]
    for table in ("metrics", "scores"):
        assert rows(folder, table, "run_id = ?", [last]) == rows(
            years["both"], table, "run_id = ?", [before]
        )
    follow = "SELECT year, fingerprint, status FROM findings WHERE run_id = ? ORDER BY ALL"
    assert query(folder, follow, [last]) == [
        (y, f, "new") for y, f, _ in query(years["both"], follow, [before])
    ]
    assert query(folder, "SELECT year, run_id FROM v_latest_run ORDER BY 1") == [
        (2022, last),
        (2023, last),
    ]
    for year in (2022, 2023):
        assert findings_json(folder, year) == findings_json(years["both"], year)
