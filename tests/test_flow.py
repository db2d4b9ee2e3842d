"""The nightly flow, run for real on the bundled sample: warehouse, log, feedback, reruns."""

import asyncio
import hashlib
import json
import re
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote

import duckdb
import openpyxl
import pytest
from openpyxl import load_workbook

from jixiao.flows.nightly import nightly
from jixiao.ingest import intake
from jixiao.ingest.layout import locate
from jixiao.ingest.problems import FileRefused
from jixiao.ingest.readers import read_csv, read_workbook
from jixiao.publish import warehouse
from jixiao.publish.feedback import MARKED, feedback_files
from jixiao.sample.generate import SHEETS, sample_folder, write_sample
from jixiao.schemas.identifiers import birth_date, resident_id_check
from jixiao.schemas.warehouse import TABLES
from tests.runs import DB, PROGRAMME, REPORTS, completed, jixiao_run
from tests.test_sample import SURVEY  # the seed report's answer counts per question

pytestmark = pytest.mark.flow


def query(db: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def snapshot(db: Path) -> dict[str, str]:
    """A digest of every table's contents, to tell whether a run changed anything."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table in TABLES:
            if table.name in ("runs", "run_inputs", "metrics", "scores", "findings", "file_stats"):
                continue  # one set of rows per run, by design; the stat cache, read again
            cols = ", ".join(
                c.name for c in table.columns if c.name not in ("run_id", "ingested_at")
            )
            rows = con.execute(f"SELECT {cols} FROM {table.name} ORDER BY ALL").fetchall()
            out[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def readable(path: Path) -> list[str]:
    """A file's text as a reader would find it: the parts of a zip package (xlsx) unpacked."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    return [path.read_bytes().decode(_encoding(path.read_bytes()), "replace")]


def _encoding(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


# Digits as typed: ASCII or full-width; an ID is 17 of them and a check character (X too).
_DIGIT = "0-9\uff10-\uff19"
TYPED_ID = re.compile(f"[{_DIGIT}]{{17}}[{_DIGIT}Xx\uff38\uff58]?")
_FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + i) for i in range(10)))


def personal_values(folder: Path, names: set[str] = frozenset()) -> set[str]:
    """What to hunt for in every output: every resident ID typed anywhere under ``folder``,
    under any label — in any cell, sheet name or formula of a workbook (its XML parts read
    raw), any CSV, the report, any file name — as its region and birth date (the first 14
    digits, ASCII and full-width: what a mask always hides); the names typed in the name
    column of any sheet of any file (refused ones included); and ``names``, planted."""
    found = set(names)
    for path in folder.rglob("*"):
        texts = [path.relative_to(folder).as_posix()] + (readable(path) if path.is_file() else [])
        for match in TYPED_ID.finditer("\n".join(texts)):
            ascii_id = match.group().translate({0xFF10 + i: 0x30 + i for i in range(10)})
            if ascii_id[0] != "0" and birth_date(ascii_id):  # not a font's panose number
                found |= {ascii_id[:14], ascii_id[:14].translate(_FULL_WIDTH)}
        try:
            sheets = read_workbook(path) if path.suffix == ".xlsx" else {"x": read_csv(path)}
        except FileRefused as refused:  # what was read before a refusal, if anything
            sheets = refused.sheets
        except Exception:  # not a county file, or unreadable: its IDs were found above
            continue
        for raw in sheets.values():
            for sheet in (SHEETS["visits"], SHEETS["competition_entries"]):
                table = locate(raw, sheet)
                if table.frame is not None and "name" in table.positions:
                    found |= set(table.frame["name"].drop_nulls())
    return found


def curated_texts(curated: Path) -> list[tuple[str, str]]:
    """Every text a run left under ``curated``, as (where, text): every file (xlsx unpacked,
    the warehouse's bytes too), and every text column of every table and view of the
    warehouse, read through DuckDB (stored strings may be compressed in the file).

    A marked copy beside a feedback page is the county's own workbook returned to it (SPEC
    §3): its cells are the county's, as typed; of it, what jixiao adds is read (`added`)."""
    texts = [(p.relative_to(curated).as_posix(), t) for p in sorted(curated.rglob("*"))
             if p.is_file() for t in (added(p) if p.name.endswith(MARKED) else readable(p))]  # fmt: skip
    with duckdb.connect(str(curated / "warehouse.duckdb"), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main'"
        ).fetchall()
        for table, column in columns:
            values = con.execute(f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{table}"')
            texts += [(f"{table}.{column}", v) for (v,) in values.fetchall() if v]
    return texts


def added(copy: Path) -> list[str]:
    """What jixiao writes into a marked copy: its first sheet (问题清单) and its comments."""
    book = load_workbook(copy)
    listed = [str(c.value) for row in book.worksheets[0].iter_rows() for c in row if c.value]
    notes = [c.comment.text for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.comment]  # fmt: skip
    assert book.worksheets[0].title == "问题清单" and listed and notes
    return listed + notes


def prefect_texts(flow_run_id: str) -> list[str]:
    """What a run told Prefect (its run history, kept by the server): log lines, artifacts,
    and the state messages of the flow run and its task runs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)  # log records travel in batches

    async def history() -> list[str]:
        async with get_client() as client:
            logs = await client.read_logs(
                LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
                )
            )
            run = await client.read_flow_run(flow_run_id)
            tasks = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
        states = [run.state, *(t.state for t in tasks)]
        return ([log.message for log in logs] + [str(a.data) for a in artifacts]
                + [s.message for s in states if s and s.message])  # fmt: skip

    return asyncio.run(history())


def leaks(texts: list[tuple[str, str]], secrets: set[str]) -> list[tuple[str, str]]:
    return [(where, s) for where, text in texts for s in secrets if s in text]


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo(prefect_api, tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    raw, db = base / "raw", base / "curated" / "warehouse.duckdb"
    write_sample(raw)
    before = tree_digest(raw)
    result = nightly(raw_dir=str(raw), db=str(db), out=str(base / "curated" / "reports"))
    return {"raw": raw, "db": db, "result": result, "base": base, "raw_digest": before}


def test_sample_totals_in_warehouse(demo):
    db = demo["db"]
    assert query(db, "SELECT count(*), sum(amount_yuan) FROM visits") == [
        (300, __import__("decimal").Decimal("120000.00"))
    ]
    assert query(db, "SELECT count(*) FROM job_fairs") == [(5,)]
    assert query(
        db, "SELECT count(DISTINCT credit_code) FROM fair_employers WHERE intends_to_hire"
    ) == [(84,)]
    assert query(db, "SELECT count(*) FROM competition_entries") == [(51,)]
    assert query(db, "SELECT count(*) FROM survey_responses") == [(37,)]
    for q, (a, b, c) in SURVEY.items():
        counts = dict(query(db, f"SELECT {q}, count(*) FROM survey_responses GROUP BY 1"))
        assert counts == {k: v for k, v in {"A": a, "B": b, "C": c}.items() if v}, q
    assert query(db, "SELECT typeof(amount_yuan) FROM visits LIMIT 1") == [("DECIMAL(18,2)",)]


def test_refused_files_logged_with_reasons_and_feedback(demo):
    db = demo["db"]
    refused = {
        file: (json.loads(errors)[0]["rule_id"], feedback)
        for file, errors, feedback in query(
            db, "SELECT file, errors, feedback_file FROM ingest_log WHERE status = 'refused'"
        )
    }
    assert {f: r for f, (r, _) in refused.items()} == {
        "counties/530113/visits.csv": "FILE.ENCODING",
        "counties/530124.xlsx": "VALUE.CHECK_DIGIT",
        "counties/530125.xlsx": "VALUE.OUTSIDE_YEAR",
        "counties/530126.xlsx": "COLUMN.MISSING",
    }
    feedback_dir = db.parent / "feedback"
    page = (feedback_dir / refused["counties/530125.xlsx"][1]).read_text(encoding="utf-8")
    assert (
        "| 慰问 | " in page
        and "慰问日期" in page
        and "日期「2021-12-28」不在项目年度 2022 年内" in page
    )
    assert refused["counties/530125.xlsx"][1].startswith("530125/")
    page = (feedback_dir / refused["counties/530126.xlsx"][1]).read_text(encoding="utf-8")
    assert "缺少列「慰问金额(元)」" in page
    for _, name in refused.values():  # what to fix, in words: no rule id
        for path in feedback_files(feedback_dir / name):
            if path.suffix in (".md", ".html"):
                assert not re.search(r"(FILE|SHEET|COLUMN|VALUE)\.[A-Z]", path.read_text(encoding="utf-8"))
    # A refused county contributes nothing; the others are all there.
    assert query(db, "SELECT count(*) FROM visits WHERE county_code IN ('530124','530125')") == [
        (0,)
    ]


def test_resubmission_replaces_rows_and_keeps_both_versions(demo):
    db = demo["db"]
    log = dict(query(db, "SELECT file, status FROM ingest_log WHERE county_code = '530111'"))
    assert log == {"counties/530111.xlsx": "superseded", "counties/530111.v2.xlsx": "accepted"}
    assert query(
        db,
        "SELECT count(*), min(amount_yuan), min(source_file) FROM visits WHERE county_code = '530111'",
    ) == [(30, __import__("decimal").Decimal("400.00"), "counties/530111.v2.xlsx")]


def test_report_claims_in_warehouse(demo):
    db = demo["db"]
    rows = query(db, "SELECT DISTINCT report_file, value, role FROM claims WHERE text = '9场'")
    assert rows == [("report.docx", __import__("decimal").Decimal("9.000000"), "target")]
    (n,) = query(db, "SELECT count(*) FROM claims WHERE table_index IS NOT NULL")[0]
    assert n > 100  # the report's tables, cell by cell


def test_published_reports(demo):
    folder = demo["base"] / "curated" / "reports" / "2022" / "530100-disability-employment"
    names = {p.name for p in folder.iterdir()}
    assert {"report.html", "report.md", "findings.json", "findings.xlsx", "data_docs"} <= names
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "审计发现" in html
    assert "已读取：表格 4 个" in html  # what the report's check rested on, beside its findings
    assert "http://" not in html and "https://" not in html
    for page in (folder / "data_docs").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, page
    findings = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    # Three counties' workbooks are refused: the comparison is provisional and names them.
    fairs = [f for f in findings if f["rule_id"] == "REPORT.RECORDS_PROVISIONAL"]
    assert [(f["claimed"], f["observed"], f["severity"]) for f in fairs] == [
        ("六个县（市、区）", "5个", "warning")]  # fmt: skip
    assert "宜良县、富民县、石林彝族自治县的数据尚未接收" in fairs[0]["message"]
    assert not [f for f in findings if f["rule_id"] == "REPORT.RECORDS_DISAGREE"]
    # The records' side names the counties counted, each one's part, and their files
    # (issue 14): read from the metric's own tables, no metric id.
    recorded = fairs[0]["evidence"][1:]
    assert recorded[0] == {"text": "区县报送记录：举办招聘会的县（市、区）数 5个，为五华区 1个、盘龙区 "
                                   "1个、官渡区 1个、西山区 1个、晋宁区 1个之和，据各区县报送的「招聘会」表计得"}
    assert [(e["county_code"], e["county"], e["file"], e["sheet"], e["text"]) for e in recorded[1:]] == [
        ("530102", "五华区", "counties/五华区.xlsx", "招聘会", "五华区「招聘会」1 行，计 1个"),
        ("530103", "盘龙区", "counties/530103.xlsx", "job_fairs", "盘龙区「招聘会」1 行，计 1个"),
        ("530111", "官渡区", "counties/530111.v2.xlsx", "招聘会", "官渡区「招聘会」1 行，计 1个"),
        ("530112", "西山区", "counties/530112/job_fairs.csv", "job_fairs", "西山区「招聘会」1 行，计 1个"),
        ("530115", "晋宁区", "counties/530115.xlsx", "招聘会", "晋宁区「招聘会」1 行，计 1个"),
    ]  # fmt: skip
    said = json.dumps([{k: f[k] for k in ("message", "evidence", "basis", "suggestion")}
                       for f in findings], ensure_ascii=False)  # the subject is analysts' field
    assert "job_fair_counties" not in said and "度量" not in said
    # The report's side where Word shows it: 一、… › （一）项目概况, its second paragraph.
    assert (fairs[0]["evidence"][0]["section"], fairs[0]["evidence"][0]["paragraph"]) == (
        "一、项目基本情况 › （一）项目概况", 2)  # fmt: skip
    assert "warehouse" not in html
    # 依据 and 整改建议 are each rule's own (issue 14): the unit is to have the missing counties
    # report, each late county to explain; rule ids stand only in their own column.
    assert fairs[0]["suggestion"].startswith("请项目单位督促宜良县、富民县、石林彝族自治县补报")
    assert fairs[0]["basis"].startswith("《项目支出绩效评价管理办法》（财预〔2020〕10号）")
    late = [f for f in findings if f["rule_id"] == "RECORDS.AFTER_DEADLINE"]
    assert len(late) == 4 and all("2022-11-30 前完成" in f["basis"] for f in late)
    assert all(f["suggestion"].startswith("请区县说明") for f in late)
    said = "".join(f["basis"] + f["suggestion"] for f in findings)
    assert not re.search(r"(REPORT|RECORDS)\.[A-Z]", said)
    assert not re.search(r"(REPORT|RECORDS)\.[A-Z]", html)
    assert all(f["basis"] in html.replace("&quot;", '"') for f in late + fairs)


def test_scores_metrics_findings_and_views(demo):
    db = demo["db"]
    (total,) = query(db, "SELECT score, grade, claimed_score FROM scores WHERE level = 0")
    # 20 + 18 + 52.33: the job fairs score 6 × 5/9 = 3.33 of 6 and their deadline 0 (four
    # counties held their first fair after 11-30); everything else in full.
    assert total == (
        __import__("decimal").Decimal("90.33"),
        "优",
        __import__("decimal").Decimal("93.00"),
    )
    assert query(db, "SELECT value FROM metrics WHERE indicator_id = 'job_fairs_held'") == [
        (__import__("decimal").Decimal("5.000000"),)
    ]
    rules = dict(query(db, "SELECT rule_id, count(*) FROM findings GROUP BY 1"))
    assert rules["REPORT.FIGURE_DISAGREES"] == 1 and rules["REPORT.SCORE_DIFFERS"] == 2
    late = query(db, "SELECT subject, claimed FROM findings WHERE rule_id = 'RECORDS.AFTER_DEADLINE' "
                     "ORDER BY claimed, subject")  # fmt: skip
    assert late == [("county:530103:job_fairs:after:2022-11-30", "2022-12-03"),
                    ("county:530111:job_fairs:after:2022-11-30", "2022-12-23"),
                    ("county:530112:job_fairs:after:2022-11-30", "2022-12-23"),
                    ("county:530115:job_fairs:after:2022-11-30", "2022-12-26")]  # fmt: skip
    kept = query(db, "SELECT DISTINCT basis, suggestion FROM findings "
                     "WHERE rule_id = 'RECORDS.AFTER_DEADLINE'")  # fmt: skip
    assert len(kept) == 1 and "2022-11-30" in kept[0][0] and kept[0][1].startswith("请区县")
    assert query(db, "SELECT count(*) FROM v_indicator_status")[0][0] >= 10
    # For analysts: targets and actuals typed, counties by name.
    typed = {i: rest for i, *rest in query(db, "SELECT indicator_id, target_value, actual_value, "
                                             "target_date, actual_date FROM scores WHERE level = 3")}
    D, date = __import__("decimal").Decimal, __import__("datetime").date
    assert typed["job_fairs_held"] == [D(9), D(5), None, None]
    assert typed["job_fairs_by"] == [None, None, date(2022, 11, 30), date(2022, 12, 26)]
    assert query(db, "SELECT count(*), count(DISTINCT name) FROM counties") == [(14, 14)]
    by_county = dict(query(db, "SELECT county_name, sum(findings) FROM v_findings_by_county "
                               "WHERE county_code IS NOT NULL GROUP BY 1"))  # fmt: skip
    assert by_county["晋宁区"] >= 1  # its late job fair
    assert query(db, "SELECT count(*) FROM v_latest_findings")[0][0] == sum(rules.values())


def test_lineage_and_run_record(demo):
    db = demo["db"]
    assert query(
        db,
        "SELECT count(*) FROM visits v JOIN ingest_log l ON l.file = v.source_file "
        "AND l.sha256 = v.source_sha256 WHERE v.source_row >= 2 AND v.source_sheet IS NOT NULL",
    ) == [(300,)]
    (run,) = query(
        db, "SELECT files_seen, files_accepted, files_refused, (SELECT count(*) FROM run_inputs i "
        "WHERE i.run_id = runs.run_id), code_version FROM runs"
    )
    assert run[:3] == (30, 25, 4)
    assert run[3] == 30
    assert run[4].startswith("jixiao ")
    dictionary = (db.parent / "DICTIONARY.md").read_text(encoding="utf-8")
    for table in TABLES:
        assert f"## `{table.name}`" in dictionary


def test_no_personal_data_in_clear_under_curated(demo):
    secrets = personal_values(sample_folder(demo["raw"]))
    assert len(secrets) > 600  # IDs and names of every person in the sample
    texts = curated_texts(demo["db"].parent)
    assert {"visits.cert_hash", "ingest_log.errors", "claims.sentence"} <= {w for w, _ in texts}
    assert leaks(texts, secrets) == []


def test_no_personal_data_in_prefect_logs_or_artifacts(demo):
    """What the run told Prefect (its run history, kept by the server) names no one either."""
    texts = prefect_texts(demo["result"]["flow_run_id"])
    assert any("530113/visits.csv" in t for t in texts)  # the refused files are named …
    assert any("总分" in t for t in texts)  # … and the summary artifact is there
    secrets = personal_values(sample_folder(demo["raw"]))
    assert leaks([(t[:60], t) for t in texts], secrets) == []


def test_second_run_skips_unchanged_files(demo):
    db = demo["db"]
    before = snapshot(db)
    result = nightly(raw_dir=str(demo["raw"]), db=str(db), out=str(demo["base"] / "reports"))
    assert result["files_skipped"] == 30 and result["rows_loaded"] == 0
    assert snapshot(db) == before
    assert query(db, "SELECT count(*) FROM runs") == [(2,)]


def withdraw_one_visit(raw: Path, county: str = "530112") -> None:
    """A county (530112 unless told) resubmits its visits CSV, in its encoding, with the last
    row removed."""
    visits = sample_folder(raw) / "counties" / county / "visits.csv"
    lines = visits.read_bytes().splitlines()  # no GB18030 character holds a line-end byte
    visits.write_bytes(b"\n".join(lines[:-1]) + b"\n")


def test_changed_file_only_is_processed(demo, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(demo["raw"], raw)
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo["db"], db)
    withdraw_one_visit(raw)
    result = nightly(raw_dir=str(raw), db=str(db), out=str(tmp_path / "reports"))
    changed = result["outcomes"]  # the files read; the unchanged are only counted
    assert result["files_skipped"] > 0 and all(o.status != "skipped" for o in changed)
    assert [(o.file, o.status, o.rows) for o in changed] == [
        ("counties/530112/visits.csv", "accepted", 29)
    ]
    assert query(db, "SELECT count(*) FROM visits") == [(299,)]
    # What that change added: the households short of 300, and the scores that follow.
    latest = "(SELECT max(run_id) FROM findings)"
    new = query(db, f"SELECT rule_id, claimed, observed FROM findings WHERE run_id = {latest} "
                "AND status = 'new' ORDER BY ALL")  # fmt: skip
    assert ("REPORT.RECORDS_PROVISIONAL", "300户", "299户") in new  # 4 counties' visits missing
    # Many counties: the first few named with 等, every county's file listed with its fields.
    (evidence,) = query(db, f"SELECT evidence FROM findings WHERE run_id = {latest} "
                        "AND claimed = '300户'")[0]  # fmt: skip
    recorded = json.loads(evidence)[1:]
    assert recorded[0]["text"].startswith("区县报送记录：慰问就业困难户数 299户，据五华区、")
    assert recorded[0]["text"].endswith("等 10 个区县报送的「慰问」表计得")
    files = {e["county"]: e["file"] for e in recorded[1:]}
    assert len(files) == 10 and files["西山区"] == "counties/530112/visits.csv"
    assert {r for r, _, _ in new} <= {"REPORT.RECORDS_PROVISIONAL", "REPORT.SCORE_DIFFERS"}
    assert [a.resolved for a in result["audits"]] == [2]  # the two score findings it replaced


def test_a_night_hashes_each_county_file_it_reads_once(prefect_api, tmp_path, monkeypatch):
    """A county file whose size shows it changed is not hashed by the look for a night with
    nothing changed (nightly.nothing_changed), only when ingest reads it."""
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    write_sample(raw)
    time.sleep(intake.RACY_NS / 1e9)  # the files older than a tick: the cache can vouch for them
    run = {"raw_dir": str(raw), "db": str(curated / "warehouse.duckdb"), "out": str(curated / "reports")}
    assert nightly(**run)["status"] == "completed"
    for county in ("530112", "530114"):
        withdraw_one_visit(raw, county)
    hashed: list[str] = []
    sha256_of = intake.sha256_of

    def counted(path: Path) -> str:
        hashed.append(path.relative_to(sample_folder(raw)).as_posix())
        return sha256_of(path)

    monkeypatch.setattr(intake, "sha256_of", counted)
    result = nightly(**run)
    changed = ["counties/530112/visits.csv", "counties/530114/visits.csv"]
    assert sorted((o.file, o.status) for o in result["outcomes"]) == [(f, "accepted") for f in changed]
    assert sorted(f for f in hashed if f.startswith("counties/")) == changed
    assert result["files_skipped"] == result["files_seen"] - 2


def test_reader_keeps_reading_during_a_run(demo, tmp_path, prefect_api):
    """An analyst's read-only connection, in another process, is never broken by a run."""
    raw = tmp_path / "raw"
    shutil.copytree(demo["raw"], raw)
    withdraw_one_visit(raw)
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo["db"], db)
    (runs_before,) = query(db, "SELECT count(*) FROM runs")
    log = tmp_path / "reader.log"
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import duckdb, time
        con = duckdb.connect({str(db)!r}, read_only=True)
        with open({str(log)!r}, "w") as out:
            end = time.time() + 8
            while time.time() < end:
                out.write(str(con.execute("SELECT count(*) FROM visits").fetchone()[0]) + "\\n")
                out.flush()
                time.sleep(0.05)
    """),
        ]
    )
    time.sleep(1.5)  # the reader holds the file open before the run starts
    nightly(raw_dir=str(raw), db=str(db), out=str(tmp_path / "reports"))
    assert reader.wait(timeout=60) == 0
    counts = log.read_text().split()
    assert len(counts) > 20 and set(counts) == {"300"}  # its snapshot, whole, throughout
    # A new connection sees the new run.
    assert query(db, "SELECT count(*) FROM runs") == [(runs_before[0] + 1,)]
    assert query(db, "SELECT count(*) FROM visits") == [(299,)]


def test_second_writer_is_turned_away(demo, tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with warehouse.exclusive(db), pytest.raises(warehouse.WarehouseBusy, match="另一个 jixiao"):
        nightly(raw_dir=str(demo["raw"]), db=str(db), out=str(tmp_path / "reports"))
    assert not db.exists()


def test_raw_inputs_never_modified(demo):
    # Runs above read these files (some twice); none may change, appear or vanish.
    assert tree_digest(demo["raw"]) == demo["raw_digest"]


def test_an_answered_refusal_goes_and_a_file_of_no_county_is_the_operators(prefect_api, tmp_path):
    """Night 1: the sample, and 530124's corrected workbook saved under a name that names no
    county. Its page is the operator's (curated/unassigned/, named by the run summary and the
    report's coverage), not a county's. Night 2: the operator saves it as 530124.v2.xlsx. It
    is accepted, 530124's refusal is answered (its page goes; v_ingest_status: superseded),
    and so is the file of no county (same content)."""
    write_sample(tmp_path / "raw")
    counties = tmp_path / PROGRAMME / "counties"
    book = openpyxl.load_workbook(counties / "530124.xlsx")
    for (cell,) in book["慰问"].iter_rows(min_row=2, max_col=1):  # 残疾人证号: the check digit
        cell.value = cell.value[:17] + resident_id_check(cell.value[:17]) + cell.value[18:]
    nameless = "残疾人就业服务报表（终稿）.xlsx"
    book.save(counties / nameless)
    code = PROGRAMME.name
    page = Path("curated/unassigned/2022", code, nameless + ".md")
    refusal = Path("curated/feedback/530124/2022", code, "530124.xlsx.md")

    def night() -> tuple[str, str, dict[str, list]]:
        done = jixiao_run(tmp_path, prefect_api)
        completed(done)
        report = (tmp_path / REPORTS / "2022" / code / "report.md").read_text(encoding="utf-8")
        html = (tmp_path / REPORTS / "2022" / code / "report.html").read_text(encoding="utf-8")
        assert (f"<td>counties/{nameless}</td><td>{page.relative_to('curated')}</td>" in html) == (
            (tmp_path / page).exists())
        with duckdb.connect(str(tmp_path / DB), read_only=True) as con:
            rows = con.execute("SELECT file, status_zh, feedback_file, superseded_by FROM "
                               "v_ingest_status WHERE file LIKE '%530124%' OR county_code IS NULL")
            status = {file: rest for file, *rest in rows.fetchall()}
        return done.stdout, report.split("## 六、报送覆盖情况")[1], status

    said, coverage, status = night()
    assert (tmp_path / page).is_file() and (tmp_path / refusal).is_file()
    assert not (tmp_path / "curated/feedback/unknown").exists()
    assert "无法从文件名识别它属于哪个区县" in (tmp_path / page).read_text(encoding="utf-8")
    assert "无法识别所属区县的文件 1 个" in said and f"counties/{nameless}：{page}" in said
    assert "另有 1 个文件无法识别所属区县" in coverage
    assert f"| counties/{nameless} | {page.relative_to('curated')} |" in coverage
    assert "| 530124 富民县 | 已拒收 |" in coverage
    assert status == {
        "counties/530124.xlsx": ["已拒收", refusal.relative_to("curated/feedback").as_posix(), None],
        f"counties/{nameless}": ["已拒收", page.relative_to("curated").as_posix(), None],
    }

    shutil.copy(counties / nameless, counties / "530124.v2.xlsx")
    said, coverage, status = night()
    assert not (tmp_path / page).exists() and not (tmp_path / refusal).exists()
    assert "无法识别所属区县" not in said + coverage
    row = next(line for line in coverage.splitlines() if line.startswith("| 530124 富民县 |"))
    assert "已拒收" not in row and re.search(r"\| 已接收 \d+ 行 \|", row)
    assert status == {
        "counties/530124.xlsx": ["已被替代", None, "counties/530124.v2.xlsx"],
        "counties/530124.v2.xlsx": ["已接收", None, None],
        f"counties/{nameless}": ["已被替代", None, "counties/530124.v2.xlsx"],
    }


def test_report_states_what_it_rests_on(demo):
    """数据完整性: the refused files listed with a link to the page their county reads, and the
    indicators whose recorded figure lacks counties named as such."""
    folder = demo["base"] / "curated" / "reports" / "2022" / "530100-disability-employment"
    html = (folder / "report.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="([^"#]+)">', html)
    pages = [folder / unquote(href) for href in links]
    assert len(pages) == 4 and all(p.is_file() and p.suffix == ".html" for p in pages), links
    assert {p.parent.parent.parent.name for p in pages} == {"530113", "530124", "530125", "530126"}
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "慰问就业困难户数（缺 东川区、宜良县、富民县、石林彝族自治县）" in md


def test_a_flow_run_sends_its_heartbeat_without_waiting_for_the_thread(prefect_api, monkeypatch):
    """Prefect's flow heartbeat, by which it can mark a crashed run, still goes out while a run
    lasts; the run no longer joins the heartbeat thread at its end (which waited up to a second
    for the thread's sleep): the stopped thread ends by itself (flows.nightly)."""
    import threading

    from prefect import flow, flow_engine

    beats, joined = [], []

    def beat(engine, *args):  # runs in the heartbeat thread: its join is recorded from now on
        thread = threading.current_thread()
        thread.join = lambda *a, **k: joined.append(thread)
        beats.append(thread)

    monkeypatch.setattr(flow_engine.FlowRunEngine, "_emit_flow_run_heartbeat", beat)

    @flow
    def short() -> None:
        for _ in range(200):  # the first heartbeat goes out as the thread starts
            if beats:
                return
            time.sleep(0.05)

    short()
    assert len(beats) == 1 and joined == []
    threading.Thread.join(beats[0], timeout=30)  # a bound against a hang, not a timing
    assert not beats[0].is_alive()
