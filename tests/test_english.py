"""`--lang en` as an English-reading user meets it: the sample run, its CLI output and every
file it publishes say nothing in Chinese but the data (county names, file names, the
programme's and the counties' own words, quoted report text); every rule's and every score's
texts have English."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import docx
import httpx
import openpyxl
import pytest

from jixiao.checks.catalogue import RULES
from jixiao.checks.findings import Evidence, Finding
from jixiao.ingest.reviews import DECISIONS, DECISIONS_EN, read_decisions
from jixiao.publish.excel import write_findings_xlsx
from jixiao.publish.review_page import render
from jixiao.scoring import score, scorecard_rows
from jixiao.scoring.metrics import Metric
from tests.runs import PROGRAMME, REPORTS
from tests.test_scoring import programme

JIXIAO = Path(sys.executable).with_name("jixiao")
HAN = re.compile(r"[\u3400-\u9fff]")
# A run of non-ASCII text, split at Chinese punctuation: data run together by it (a county's
# name, a sheet's title, a cell's value) are each found in the data.
RUN = re.compile(r"[^\x00-\x7f，、；：（）。]+")
QUOTED = re.compile(r"「[^」]*」")  # a report's words, quoted


def _decoded(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return ""


def data_of(raw: Path) -> str:
    """Every text the run was given: paths, programme.yaml, the report, each county file's
    sheet names and cells."""
    texts = []
    for path in sorted(p for p in raw.rglob("*") if p.is_file()):
        texts.append(path.relative_to(raw).as_posix())
        if path.suffix in (".yaml", ".txt", ".csv"):
            texts.append(_decoded(path.read_bytes()))
        elif path.suffix == ".xlsx":
            try:  # a hostile file openpyxl cannot open holds nothing a message could quote
                book = openpyxl.load_workbook(path, read_only=True)
                for sheet in book.worksheets:
                    texts += [sheet.title, *(str(v) for row in sheet.iter_rows(values_only=True)
                                             for v in row if v is not None)]  # fmt: skip
            except Exception:  # noqa: BLE001 - openpyxl fails in many ways on such files
                continue
        elif path.suffix == ".docx":
            document = docx.Document(str(path))
            texts += [p.text for p in document.paragraphs]
            texts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(texts)


def chinese_outside(text: str, data: str) -> set[str]:
    """The Chinese of ``text`` that is none of the run's data (quoted report text aside)."""
    return {r for r in RUN.findall(QUOTED.sub("", text)) if HAN.search(r) and r not in data}


def workbook_text(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    return "\n".join([s.title for s in book.worksheets]
                     + [str(v) for s in book.worksheets for row in s.iter_rows(values_only=True)
                        for v in row if v is not None])  # fmt: skip


@pytest.mark.flow
def test_the_sample_in_english_says_nothing_in_chinese_but_its_data(prefect_api, tmp_path):
    env = os.environ | {"PREFECT_API_URL": prefect_api, "COLUMNS": "200"}

    def demo(lang: str, folder: Path) -> subprocess.CompletedProcess:
        folder.mkdir(exist_ok=True)
        return subprocess.run(
            [str(JIXIAO), "--lang", lang, "demo", "--raw", "raw", "--db",
             "curated/warehouse.duckdb", "--out", str(REPORTS)], cwd=folder, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    done = demo("en", tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    # The run's summary as the Prefect UI shows it (read before the Chinese run replaces it).
    key = f"summary-{PROGRAMME.parent.name}-{PROGRAMME.name}"
    artifact = httpx.get(f"{prefect_api}/artifacts/{key}/latest", timeout=30).json()
    data = data_of(tmp_path / "raw")
    folder = tmp_path / REPORTS / PROGRAMME.relative_to("raw")
    assert "accepted 25, refused 4, superseded 1" in done.stdout
    assert "Recomputed total 90.33, graded excellent" in (folder / "report.md").read_text()
    findings = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    # The same findings as in Chinese, by the same fingerprints: a finding is followed night
    # to night, and its review kept, whatever language a run is in.
    assert demo("zh", tmp_path / "zh").returncode == 0
    chinese = json.loads((tmp_path / "zh" / folder.relative_to(tmp_path) / "findings.json").read_text(encoding="utf-8"))
    assert sorted(f["fingerprint"] for f in findings) == sorted(f["fingerprint"] for f in chinese)
    assert len(findings) == 13
    # subject, claimed and observed are what the fingerprint is made of: as in Chinese, so
    # that a finding keeps its fingerprint whatever the language (the message says them).
    shown = [{k: v for k, v in f.items() if k not in ("subject", "claimed", "observed")}
             for f in findings]  # fmt: skip
    outputs = {
        "cli": done.stdout + done.stderr,
        "report.html": (folder / "report.html").read_text(encoding="utf-8"),
        "report.md": (folder / "report.md").read_text(encoding="utf-8"),
        "findings.json": json.dumps(shown, ensure_ascii=False),
        "findings.xlsx": workbook_text(folder / "findings.xlsx"),
        "Prefect artifact": artifact["description"] + artifact["data"],
    }
    assert "Recomputed total **90.33**" in artifact["data"]
    # The counties' feedback pages (each names the marked copy beside it: a file name).
    feedback = tmp_path / "curated" / "feedback"
    pages = sorted(p for p in feedback.rglob("*") if p.suffix in (".html", ".md"))
    assert len(pages) == 8  # the sample's four refused files, each in HTML and Markdown
    names = "\n".join(p.name for p in feedback.rglob("*"))
    outputs |= {p.name: p.read_text(encoding="utf-8") for p in pages}
    # The review page (`jixiao --lang en review`): the decisions offered are SPEC §3.2's.
    page = render(tmp_path / "curated" / "warehouse.duckdb", tmp_path / "raw", "token", lang="en")
    outputs["review page"] = page
    for d in DECISIONS:  # each offered as its value, labelled with its gloss
        outputs["review page"] = outputs["review page"].replace(f'value="{d}"', "").replace(
            f">{d} {DECISIONS_EN[d]}<", "><")
    assert "Review of the findings" in page and "dismissed" in page
    assert {name: chinese_outside(text, data + names) for name, text in outputs.items()} == dict.fromkeys(
        outputs, set()
    )
    # The allowance is the data's, not a blanket one: the Chinese run's words are not data.
    assert chinese_outside("重新计算总分 90.33 分", data) == {"重新计算总分"}


# --- every text a rule or a score gives has English -----------------------------------------


@pytest.mark.parametrize("rule", sorted(RULES.values(), key=lambda r: r.id), ids=lambda r: r.id)
def test_every_rule_speaks_english(rule):
    assert rule.title_en and rule.template_en
    assert not HAN.search(rule.title_en + rule.template_en + rule.basis_en + rule.suggestion_en)
    if rule.id.startswith(("REPORT.", "RECORDS.")):  # findings: each with its basis and advice
        assert rule.basis_en and rule.suggestion_en


DUE = dt.date(2022, 11, 30)
CASES = [  # (metric's value, the indicator's fields): every way an indicator is scored
    (D(5), {"kind": "higher", "weight": 6, "target": 9, "unit": "场"}),
    (D(9), {"kind": "higher", "weight": 6, "target": 9, "unit": "场"}),
    (D(12), {"kind": "higher", "weight": 6, "target": 9, "unit": "场"}),
    (D(-1), {"kind": "higher", "weight": 6, "target": 0, "unit": "场"}),
    (D(100), {"kind": "lower", "weight": 10, "target": 100, "unit": "元"}),
    (D(150), {"kind": "lower", "weight": 10, "target": 100, "unit": "元"}),
    (D(250), {"kind": "lower", "weight": 10, "target": 100, "unit": "元"}),
    (D(5), {"kind": "lower", "weight": 10, "target": 0, "unit": "元"}),
    (D(0), {"kind": "equal", "weight": 5, "target": 0, "unit": "次"}),
    (D(1), {"kind": "equal", "weight": 5, "target": 0, "unit": "次"}),
    (dt.date(2022, 11, 1), {"kind": "deadline", "weight": 5, "target": DUE}),
    (None, {"kind": "deadline", "weight": 5, "target": DUE}),
    (dt.date(2022, 12, 3), {"kind": "deadline", "weight": 5, "target": DUE}),
    (dt.date(2022, 12, 3), {"kind": "deadline", "weight": 5, "target": DUE, "late": "per_day"}),
    (None, {"kind": "qualitative", "weight": 10, "score": 9, "reason": "制度健全"}),
    (None, {"kind": "qualitative", "weight": 10, "score": 7, "reason": "制度执行不到位"}),
    (None, {"kind": "qualitative", "weight": 10, "score": 3, "reason": "未执行"}),
    (D("87.5"), {"kind": "budget_execution", "weight": 10, "target": 100, "unit": "%"}),
    (D(105), {"kind": "budget_execution", "weight": 10, "target": 100, "unit": "%"}),
    (None, {"kind": "higher", "weight": 10, "target": 90, "unit": "分", "name": "参与人员满意度"}),
    (None, {"kind": "higher", "weight": 6, "target": 9, "unit": "场"}),
]


@pytest.mark.parametrize(("actual", "fields"), CASES)
def test_every_score_is_explained_in_english(actual, fields):
    prog = programme(**({"metric": "SELECT 1"} if fields["kind"] != "qualitative" else {}) | fields)
    is_date = isinstance(actual, dt.date)
    metric = Metric("r", "p", 2022, "x", "x", None if is_date else actual,
                    actual if is_date else None, None, "")  # fmt: skip
    card = score(prog, {"x": metric})
    rows = scorecard_rows(card, "r", "p", 2022, "en")
    # Each level's explanation: the indicator's, its level-1 subtotal's, the total's.
    assert [r["level"] for r in rows] == [3, 3, 1, 1, 0] and all(r["explanation"] for r in rows)
    names = {i.name for i in prog.indicators} | {i.level1 for i in prog.indicators}
    data = "\n".join([*names, *(i.reason or "" for i in prog.indicators), fields.get("unit", "")])
    assert all(chinese_outside(r["explanation"], data) == set() for r in rows), rows
    # The figures of the Chinese explanation: only the words differ.
    figures = re.compile(r"\d+(?:[.-]\d+)*")
    english, chinese = rows[0]["explanation"], card.indicators[0].explanation
    assert figures.findall(english) and set(figures.findall(english)) <= set(figures.findall(chinese))


# --- a findings.xlsx written in English is read back as review ------------------------------


def test_an_english_findings_workbook_returned_with_decisions_is_read(tmp_path):

    found = [Finding("RECORDS.OVERSPENT", f"county:53010{n}:L1", "3000", "2000",
                     (Evidence("", 0, "x", f"53010{n}", "五华区", "counties/x.xlsx", "经费", 2),),
                     label="五华区「培训」", amount_yuan=D(1000)) for n in (2, 3)]  # fmt: skip
    folder = tmp_path / "2022" / "p"
    book = write_findings_xlsx(found, tmp_path / "findings.xlsx", lang="en")
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["error", "warning", "info", "dismissed on review", "evidence"]
    sheet = wb["error"]
    head = [c.value for c in sheet[1]]
    assert head[-4:] == ["fingerprint", "review decision", "review comment", "reviewer"]
    # The decisions are SPEC §3.2's, glossed where a reviewer picks one.
    (rule,) = sheet.data_validations.dataValidation
    assert all(f"{d} = {en}" in rule.prompt for d, en in DECISIONS_EN.items())
    row = next(r for r in sheet.iter_rows(min_row=2) if r[head.index("fingerprint")].value == found[0].fingerprint)
    row[head.index("review decision")].value = "不予采纳"
    row[head.index("review comment")].value = "approved in writing"
    row[head.index("reviewer")].value = "Li"
    (folder / "reviews").mkdir(parents=True)
    wb.save(folder / "reviews" / "findings.xlsx")
    said = []
    (decision,) = read_decisions(folder, said.append)
    assert not said
    assert (decision["fingerprint"], decision["decision"], decision["reason"], decision["reviewer"]) == (
        found[0].fingerprint, "不予采纳", "approved in writing", "Li")
