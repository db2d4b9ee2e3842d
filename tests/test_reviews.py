"""Review decisions (SPEC §3.2): findings.xlsx returned by auditors into reviews/, read on the
next run into `reviews`, shown beside the findings, carried night to night; dismissed ones
apart. Three nightly runs of the sample, the workbooks written as an auditor's Excel saves
them (openpyxl) and re-saved by LibreOffice."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from jixiao.flows.nightly import nightly
from jixiao.ingest.discover import submissions
from jixiao.sample.generate import write_sample
from jixiao.schemas.programme import load_programme_folder
from tests.test_flow import prefect_texts, query, tree_digest

pytestmark = pytest.mark.flow

PROGRAMME = Path("2022/530100-disability-employment")
REVIEW_HEAD = ("复核结论", "复核意见", "复核人")
SOFFICE = shutil.which("soffice")


def fill(source: Path, target: Path, decisions: dict[str, tuple[str | None, str, str]],
         mtime: float) -> None:  # fmt: skip
    """An auditor's edit of a published findings.xlsx: per fingerprint, the three review
    cells, saved to ``target`` (as Excel would: openpyxl), dated ``mtime``."""
    book = openpyxl.load_workbook(source)
    for sheet in book.worksheets:
        head = [c.value for c in sheet[1]]
        if "指纹" not in head:
            continue
        at = head.index("指纹")
        for row in sheet.iter_rows(min_row=2):
            if (fp := row[at].value) in decisions:
                for i, value in enumerate(decisions[fp]):
                    row[head.index(REVIEW_HEAD[i])].value = value
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    os.utime(target, (mtime, mtime))


def resaved_by_libreoffice(path: Path, tmp: Path) -> Path:
    """``path`` opened and saved again as .xlsx by LibreOffice, headless."""
    out = tmp / "lo"
    done = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{tmp / 'lo-profile'}", "--headless",
         "--convert-to", "xlsx", "--outdir", str(out), str(path)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out / path.name


def sheet_rows(path: Path) -> dict[str, list[dict]]:
    book = openpyxl.load_workbook(path)
    out = {}
    for sheet in book.worksheets:
        head = [c.value for c in sheet[1]]
        out[sheet.title] = [dict(zip(head, (c.value for c in row), strict=False))
                            for row in sheet.iter_rows(min_row=2)]  # fmt: skip
    return out


@pytest.fixture(scope="module")
def nights(prefect_api, tmp_path_factory):
    base = tmp_path_factory.mktemp("reviews")
    raw, db, out = base / "raw", base / "curated" / "warehouse.duckdb", base / "curated" / "reports"
    write_sample(raw)
    reports, reviews = out / PROGRAMME, raw / PROGRAMME / "reviews"

    def night() -> dict:
        result = nightly(raw_dir=str(raw), db=str(db), out=str(out))
        return {"result": result, "json": json.loads((reports / "findings.json").read_text("utf-8")),
                "html": (reports / "report.html").read_text("utf-8"),
                "md": (reports / "report.md").read_text("utf-8"),
                "xlsx": sheet_rows(reports / "findings.xlsx"),
                "reviews": query(db, "SELECT fingerprint, decision, reason, reviewer, source_file "
                                     "FROM reviews ORDER BY fingerprint")}  # fmt: skip

    first = night()
    shutil.copy(reports / "findings.xlsx", base / "night1.xlsx")
    a, b, c, d = (f["fingerprint"] for f in first["json"][:4])
    # Night 1's workbook returned: A confirmed, B dismissed, C with a word not in the list,
    # D left blank.
    fill(base / "night1.xlsx", reviews / "复核-张三.xlsx", {
        a: ("确认", "已与区县核实", "张三"),
        b: ("不予采纳", "报告口径不同，不构成问题", "张三"),
        c: ("同意", "", "张三"),
    }, mtime=1_700_000_000)  # fmt: skip
    raw_before = tree_digest(raw)
    second = night()
    # Night 2's workbook (prefilled with night 1's decisions) returned later: A now dismissed
    # by another reviewer, B left as prefilled; re-saved by LibreOffice where it is installed.
    shutil.copy(reports / "findings.xlsx", base / "night2.xlsx")
    edited = base / "edited" / "复核-李四.xlsx"
    fill(base / "night2.xlsx", edited, {a: ("不予采纳", "重复计列，以第 2 条为准", "李四")},
         mtime=1_700_100_000)  # fmt: skip
    if SOFFICE:
        edited = resaved_by_libreoffice(edited, base)
    shutil.copy(edited, reviews / "复核-李四.xlsx")
    os.utime(reviews / "复核-李四.xlsx", (1_700_100_000, 1_700_100_000))
    third = night()
    raw_after = tree_digest(raw)
    # Decisions are history: a rebuild from data/raw keeps them as the runs it keeps.
    nightly(raw_dir=str(raw), db=str(db), out=str(out), rebuild=True)
    rebuilt = {"json": json.loads((reports / "findings.json").read_text("utf-8")),
               "reviews": query(db, "SELECT fingerprint, decision, reason, reviewer, source_file "
                                    "FROM reviews ORDER BY fingerprint")}  # fmt: skip
    return {"raw": raw, "db": db, "fps": (a, b, c, d), "nights": (first, second, third),
            "raw_before": raw_before, "raw_after": raw_after, "rebuilt": rebuilt}  # fmt: skip


def test_findings_xlsx_offers_the_review_columns_with_a_list(nights):
    first = nights["nights"][0]
    book = openpyxl.load_workbook(nights["raw"].parent / "night1.xlsx")
    for title in ("错误", "警示", "提示", "经复核不予采纳"):
        sheet = book[title]
        assert tuple(c.value for c in sheet[1])[-3:] == REVIEW_HEAD
        (rule,) = sheet.data_validations.dataValidation
        assert rule.type == "list" and rule.formula1 == '"确认,不予采纳,待定"'
        assert str(rule.sqref).startswith(sheet.cell(2, sheet.max_column - 2).coordinate)
    # Nothing decided yet: every finding shown open, none on record.
    assert all(f["review"] is None for f in first["json"])
    assert first["reviews"] == [] and "经复核不予采纳的发现" in first["html"]


def test_decisions_read_kept_and_shown(nights):
    a, b, c, d = nights["fps"]
    second = nights["nights"][1]
    source = "reviews/复核-张三.xlsx，工作表「"
    kept = {fp: (decision, reason, reviewer) for fp, decision, reason, reviewer, _ in second["reviews"]}
    assert kept == {a: ("确认", "已与区县核实", "张三"),
                    b: ("不予采纳", "报告口径不同，不构成问题", "张三")}  # fmt: skip
    assert all(s.startswith(source) and "行" in s for *_, s in second["reviews"])
    by_fp = {f["fingerprint"]: f for f in second["json"]}
    assert by_fp[a]["review"]["decision"] == "确认"
    assert by_fp[a]["review"]["decided_at"].endswith("+08:00")
    assert by_fp[b]["review"]["reason"] == "报告口径不同，不构成问题"
    assert by_fp[c]["review"] is None and by_fp[d]["review"] is None  # unknown word, blank
    # report.html: A's decision beside it; B apart with its reason, not counted.
    html = second["html"]
    findings_part, dismissed_part = html.split("经复核不予采纳的发现</h3>")
    assert "确认：已与区县核实（复核人 张三，2023-11-15）" in findings_part
    assert "报告口径不同，不构成问题" in dismissed_part.split("<h2")[0]
    assert by_fp[b]["message"].split("：")[0] in dismissed_part.split("<h2")[0]
    total = len(second["json"])
    assert f"共 {total - 1} 条发现" in html and f"共 {total} 条发现" not in html
    assert "另有 1 条经复核不予采纳" in html and "另有 1 条经复核不予采纳" in second["md"]
    assert "确认：已与区县核实" in second["md"] and "### 经复核不予采纳的发现" in second["md"]
    # findings.xlsx: prefilled; B on its own sheet.
    rows = [r for title, rs in second["xlsx"].items() if title != "证据明细" for r in rs]
    row = {r["指纹"]: (title, r) for title, rs in second["xlsx"].items() for r in rs if "指纹" in r}
    assert row[a][0] in ("错误", "警示", "提示") and row[a][1]["复核结论"] == "确认"
    assert row[b][0] == "经复核不予采纳" and row[b][1]["复核意见"] == "报告口径不同，不构成问题"
    assert row[d][1]["复核结论"] is None and len(rows) == total


def test_unknown_decision_refused_in_chinese_naming_file_sheet_row(nights):
    c = nights["fps"][2]
    second = nights["nights"][1]
    logged = "\n".join(prefect_texts(second["result"]["flow_run_id"]))
    returned = sheet_rows(nights["raw"] / PROGRAMME / "reviews" / "复核-张三.xlsx")
    sheet, number = next((title, i) for title, rows in returned.items()
                         for i, r in enumerate(rows, 2) if r.get("指纹") == c)  # fmt: skip
    assert (f"复核工作簿 reviews/复核-张三.xlsx 工作表「{sheet}」第 {number} 行：复核结论「同意」"
            "不是「确认」「不予采纳」「待定」之一，未采用") in logged  # fmt: skip


def test_later_decision_replaces_earlier_and_decisions_carry(nights):
    a, b, _, _ = nights["fps"]
    second, third = nights["nights"][1:]
    kept = {fp: (decision, reason, reviewer, source) for fp, decision, reason, reviewer, source
            in third["reviews"]}  # fmt: skip
    assert kept[a][:3] == ("不予采纳", "重复计列，以第 2 条为准", "李四")
    assert kept[a][3].startswith("reviews/复核-李四.xlsx")
    # B unchanged in the later workbook (prefilled): its record, source and all, stands.
    assert kept[b] == next((d, r, w, s) for fp, d, r, w, s in second["reviews"] if fp == b)
    assert len(kept) == 2
    by_fp = {f["fingerprint"]: f for f in third["json"]}
    assert by_fp[a]["review"]["decision"] == by_fp[b]["review"]["decision"] == "不予采纳"
    dismissed_part = third["html"].split("经复核不予采纳的发现</h3>")[1].split("<h2")[0]
    assert "重复计列，以第 2 条为准" in dismissed_part and "报告口径不同" in dismissed_part
    assert f"共 {len(third['json']) - 2} 条发现" in third["html"]
    assert {r["指纹"] for r in third["xlsx"]["经复核不予采纳"]} == {a, b}


def test_analysts_view_joins_each_latest_finding_to_its_latest_decision(nights):
    """v_findings_reviewed, queried in DuckDB after the rebuild: every finding of the latest
    run once, beside the decision on record for its fingerprint (the later one for A)."""
    a, b, c, d = nights["fps"]
    rows = query(nights["db"], "SELECT fingerprint, decision, decision_zh, reason, reviewer, "
                               "counted, run_id FROM v_findings_reviewed")  # fmt: skip
    by_fp = {fp: rest[:-1] for fp, *rest in rows}
    assert len(by_fp) == len(rows)
    assert set(by_fp) == {f["fingerprint"] for f in nights["rebuilt"]["json"]}
    assert by_fp[a] == ["不予采纳", "不予采纳", "重复计列，以第 2 条为准", "李四", False]
    assert by_fp[b] == ["不予采纳", "不予采纳", "报告口径不同，不构成问题", "张三", False]
    assert by_fp[c] == by_fp[d] == [None, "未复核", None, None, True]
    (latest,) = query(nights["db"], "SELECT run_id FROM runs ORDER BY seq DESC LIMIT 1")[0]
    assert {r[-1] for r in rows} == {latest}


def test_decisions_survive_a_rebuild(nights):
    third, rebuilt = nights["nights"][2], nights["rebuilt"]
    assert rebuilt["reviews"] == third["reviews"]
    assert [f["review"] for f in rebuilt["json"]] == [f["review"] for f in third["json"]]


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_a_workbook_resaved_by_libreoffice_is_read(nights):
    """The third night's decision came from the LibreOffice copy (see the fixture)."""
    with zipfile.ZipFile(nights["raw"] / PROGRAMME / "reviews" / "复核-李四.xlsx") as z:
        assert b"LibreOffice" in z.read("docProps/app.xml")
    a = nights["fps"][0]
    assert dict((fp, d) for fp, d, *_ in nights["nights"][2]["reviews"])[a] == "不予采纳"


def test_reviews_are_not_county_submissions_and_stay_untouched(nights):
    raw, db = nights["raw"], nights["db"]
    folder = raw / PROGRAMME
    programme = load_programme_folder(folder)
    assert not [s for s in submissions(folder, programme.county_template)
                if s.rel.startswith("reviews/")]  # fmt: skip
    assert query(db, "SELECT count(*) FROM ingest_log WHERE file LIKE '%复核%'") == [(0,)]
    # What the third night read of reviews/, as it read it.
    (files,) = query(db, "SELECT programme_files FROM runs ORDER BY seq DESC LIMIT 1 OFFSET 1")[0]
    read = {f["file"]: f["sha256"] for f in json.loads(files) if f["file"].startswith("reviews/")}
    assert read == {f"reviews/{n}": nights["raw_after"][f"{PROGRAMME}/reviews/{n}"]
                    for n in ("复核-张三.xlsx", "复核-李四.xlsx")}  # fmt: skip
    before, after = nights["raw_before"], nights["raw_after"]
    assert {k: v for k, v in after.items() if k in before} == before
    assert after[f"{PROGRAMME}/reviews/复核-张三.xlsx"] == before[f"{PROGRAMME}/reviews/复核-张三.xlsx"]
