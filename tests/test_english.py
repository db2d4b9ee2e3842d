"""`--lang en` as an English-reading user meets it: the sample run, its CLI output and every
file it publishes say nothing in Chinese but the data (county names, file names, the
programme's and the counties' own words, quoted report text); every rule's and every score's
texts have English."""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import fcntl
import html
import json
import os
import re
import secrets
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import docx
import duckdb
import httpx
import openpyxl
import pytest

from jixiao.checks.catalogue import RULES
from jixiao.checks.expectations import summaries
from jixiao.checks.findings import Evidence, Finding
from jixiao.ingest.personal import KEY_ENV
from jixiao.ingest.reviews import DECISIONS, DECISIONS_EN, read_decisions
from jixiao.publish.excel import write_findings_xlsx
from jixiao.publish.review_page import render
from jixiao.publish.views import VIEWS
from jixiao.said import Said
from jixiao.sample.generate import PROGRAMME_YAML
from jixiao.schemas.programme import load_programme
from jixiao.schemas.warehouse import CERT_COLUMNS, LINEAGE, PERSONAL_DATA, SCOPE, TABLES
from jixiao.scoring import score, scorecard_rows
from jixiao.scoring.metrics import Metric
from tests.runs import DB, PROGRAMME, REPORTS, jixiao_run
from tests.test_hostile import CASES as HOSTILE_FILES
from tests.test_hostile import HOSTILE, VALID
from tests.test_intake import county_file, programme_folder
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
            book = openpyxl.load_workbook(path, read_only=True)
            for sheet in book.worksheets:
                texts += [sheet.title, *(str(v) for row in sheet.iter_rows(values_only=True)
                                         for v in row if v is not None)]  # fmt: skip
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
    # The analysts' dictionary beside the warehouse, and the Data Docs (GX's pages and the index).
    outputs["DICTIONARY.md"] = (tmp_path / "curated" / "DICTIONARY.md").read_text(encoding="utf-8")
    assert "## Personal data (SPEC §4)" in outputs["DICTIONARY.md"]
    docs = folder / "data_docs"
    outputs |= {p.relative_to(folder).as_posix(): html.unescape(p.read_text(encoding="utf-8"))
                for p in sorted(docs.rglob("*.html"))}  # fmt: skip
    assert "<h1>Data quality checks (Great Expectations)</h1>" in outputs["data_docs/index.html"]
    assert len(list((docs / "expectations").glob("*.html"))) == len(summaries(load_programme(PROGRAMME_YAML)))
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


# --- every refusal a reader words has its English -------------------------------------------

def test_every_table_view_and_column_says_in_english_what_it_holds():
    """DICTIONARY.md under --lang en: every table, view and column jixiao declares (its own
    tables, its views, the scope, lineage and personal columns it adds to each sheet table)
    has its meaning in English; a column declared without one fails here."""
    said = [
        PERSONAL_DATA,
        *(s for t in TABLES for s in (t.title, t.description)),
        *(c.description for t in TABLES for c in t.columns),
        *(c.description for c in (*SCOPE, *LINEAGE, *CERT_COLUMNS)),
        *(v.description for v in VIEWS),
        *(meaning for v in VIEWS for _, meaning in v.columns),
    ]
    assert [s for s in said if not isinstance(s, Said) or not s.en.strip() or HAN.search(s.en)] == []


INGEST = Path(__file__).resolve().parent.parent / "ingest"


def _chinese(node: ast.AST) -> bool:
    """Whether an expression holds Chinese text: a Han character in one of its string
    literals (f-strings' parts included), or a Said's Chinese (``.zh``)."""
    return any(
        (isinstance(n, ast.Constant) and isinstance(n.value, str) and HAN.search(n.value))
        or (isinstance(n, ast.Attribute) and n.attr == "zh")
        for n in ast.walk(node)
    )


def worded_without_english(source: str) -> list[str]:
    """Each call of ``source`` giving a problem's ``detail`` or ``expected`` in Chinese words
    (not a figure, not the data's own names) without its ``detail_en`` / ``expected_en``, as
    'line: parameter'; a Problem's ``expected`` given by position (its sixth) is words when
    Chinese or looked up in a table of words (TYPE_NAMES[…])."""
    out = []
    for call in (n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)):
        given = {k.arg: k.value for k in call.keywords if k.arg}
        out += [f"{call.lineno}: {name}" for name in ("detail", "expected")
                if name in given and _chinese(given[name]) and f"{name}_en" not in given]
        named = call.func.id if isinstance(call.func, ast.Name) else None
        positional = call.args[5] if named == "Problem" and len(call.args) >= 6 else None
        if positional and "expected_en" not in given and (
            isinstance(positional, ast.Subscript) or _chinese(positional)
        ):
            out.append(f"{call.lineno}: expected (by position)")
    return out


@pytest.mark.parametrize("module", sorted(p.name for p in INGEST.glob("*.py")))
def test_every_refusal_worded_in_chinese_has_its_english(module):
    assert worded_without_english((INGEST / module).read_text(encoding="utf-8")) == []


def test_a_refusal_without_english_is_found():
    source = '''
raise _refuse("FILE.CORRUPT", detail=f"部件 {name} 已损坏")
raise _refuse("FILE.CORRUPT", detail=f"部件 {name} 已损坏", detail_en=f"the part {name} is damaged")
raise _refuse("SHEET.TOO_MANY", detail=f"{count:,}", expected=f"{limit:,}")
Problem("FILE.UNSAFE", detail=LINK.zh)
Problem("VALUE.TYPE", name, row, label, value, TYPE_NAMES[field.type])
Problem("VALUE.OUTSIDE_YEAR", name, row, label, value, str(programme.year))
'''
    assert worded_without_english(source) == ["2: detail", "5: detail", "6: expected (by position)"]


# --- the error paths, as a user meets them in English and in Chinese ------------------------

SKIPPED = {  # programmes that cannot run: their folder, and what breaks them
    "bad-weights": ("    weight: 10\n", "    weight: 9\n"),  # weights add up to 99
    "bad-metric": ("FROM job_fairs\n", "FROM nowhere\n"),  # a metric reading no table of its own
}
# The hostile files of tests/test_hostile.py, one of each case that is refused without a limit
# lowered for it, but for the 100 MB line: FILE.TOO_LARGE says figures only, and writing and
# reading 100 MB is not worth the suite's time (csv-5MB-line reads the same way).
HOSTILE_CASES = [p for p in HOSTILE_FILES if p.values[0].rule and not p.values[0].env
                 and p.values[0].discovered and p.id != "csv-100MB-line"]  # fmt: skip
# And what discovery passes over with a line in the log (lock files, a FIFO, a linked folder).
PASSED_OVER = [p for p in HOSTILE_FILES if not p.values[0].discovered]
PASSED_OVER_COUNTY = "530111"


def hostile_site(root: Path) -> str:
    """``root``/raw: the sample programme with one valid county workbook and every hostile
    file beside it, and two programmes that cannot run; returns the data a message may quote
    (the valid inputs' texts, every path), read before the hostile files are written."""
    folder = programme_folder(root)
    counties = folder / "counties"
    county_file(counties / f"{VALID}.xlsx", county=VALID)
    data = data_of(root / "raw")
    for version, case in enumerate(HOSTILE_CASES, 1):
        case.values[0].build(counties, HOSTILE, version)
    for case in PASSED_OVER:  # another county's: one passes over the county's folder itself
        case.values[0].build(counties, PASSED_OVER_COUNTY, 1)
    yaml = (folder / "programme.yaml").read_text(encoding="utf-8")
    for code, (before, after) in SKIPPED.items():
        text = yaml.replace(f"code: {folder.name}", f"code: {code}").replace(before, after, 1)
        assert text.count(after) > yaml.count(after)
        (folder.parent / code).mkdir()
        (folder.parent / code / "programme.yaml").write_text(text, encoding="utf-8")
    return "\n".join([data, *(p.relative_to(root).as_posix() for p in root.rglob("*"))])


def said(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


def errors(text: str) -> list[str]:
    """The CLI's error sentences and the run log's warnings and errors, language aside."""
    return [line for line in text.splitlines()
            if line.startswith(("错误：", "Error: ")) or re.search(r"\| (WARNING|ERROR) ", line)]  # fmt: skip


def pages(root: Path) -> list[str]:
    """The feedback pages of a run, the counties' and the operator's (a file no county can be
    told for), under curated/."""
    return sorted(p.relative_to(root / "curated").as_posix()
                  for folder in ("feedback", "unassigned")
                  for p in (root / "curated" / folder).rglob("*") if p.suffix in (".md", ".html"))  # fmt: skip


def table_rows(page: str) -> list[list[str]]:
    """The numbered rows of a Markdown feedback page's table, as cells."""
    return [line.strip("|").split(" | ") for line in page.splitlines() if re.match(r"\| \d+ \|", line)]


@pytest.fixture(scope="module")
def hostile_runs(prefect_api, tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess, str]]:
    """The hostile site run in English and in Chinese, each in a folder of its own: by
    language, (folder, the run, the data its messages may quote)."""
    out = {}
    for lang in ("en", "zh"):
        root = tmp_path_factory.mktemp(f"hostile-{lang}")
        data = hostile_site(root)
        done = jixiao_run(root, prefect_api, lang=lang, env={KEY_ENV: str(root / "hash.key")})
        out[lang] = (root, done, data)
    return out


@pytest.mark.flow
def test_refusals_and_skipped_programmes_say_in_english_what_chinese_says(hostile_runs):
    (en, done, data), (zh, done_zh, _) = hostile_runs["en"], hostile_runs["zh"]
    # Two programmes skipped (exit 1), the other audited and published.
    assert done.returncode == done_zh.returncode == 1, said(done)[-3000:]
    assert "Traceback" not in said(done) + said(done_zh)
    skipped = [line for line in said(done).splitlines() if line.startswith("Error: ")]
    assert [line.split(":")[1] for line in skipped] == [" programme 2022/bad-weights skipped",
                                                         " programme 2022/bad-metric skipped"]
    assert "weights add up to 99, not 100" in skipped[0] and "'nowhere'" in skipped[1]
    # Every hostile file refused, by the rule its case names.
    with duckdb.connect(str(en / DB), read_only=True) as con:
        found = {p["rule_id"] for (e,) in con.execute(
            "SELECT errors FROM ingest_log WHERE status = 'refused'").fetchall()
            for p in json.loads(e)}  # fmt: skip
    assert {p.values[0].rule for p in HOSTILE_CASES} <= found
    feedback = pages(en)
    assert len(feedback) == 2 * len(HOSTILE_CASES)  # each file's, HTML and Markdown
    report = en / REPORTS / "2022" / PROGRAMME.name
    outputs = {"cli": said(done)} | {
        name: (en / "curated" / name).read_text(encoding="utf-8") for name in feedback
    } | {name: (report / name).read_text(encoding="utf-8")
         for name in ("report.html", "report.md", "findings.json")}  # fmt: skip
    # What a county typed is quoted as typed (a value column, a sheet's name), and pages name
    # the marked copy beside them (a file name): data too.
    quoted = "\n".join([*(cell for name in feedback if name.endswith(".md")
                          for row in table_rows(outputs[name]) for cell in row),
                        *(p.name for p in (en / "curated").rglob("*"))])  # fmt: skip
    assert {name: chinese_outside(text, data + quoted) for name, text in outputs.items()} == dict.fromkeys(
        outputs, set()
    )
    # The linked folder and the FIFO (lock files are passed over at INFO, below the console's).
    assert said(done).count(" passed over: ") == 2
    # The Chinese run says the same things: as many errors and warnings, the same pages, each
    # listing as many problems.
    assert len(errors(said(done))) == len(errors(said(done_zh))) > 2
    assert feedback == pages(zh)
    for name in (n for n in feedback if n.endswith(".md")):
        assert len(table_rows(outputs[name])) == len(table_rows((zh / "curated" / name).read_text(encoding="utf-8"))), name


@contextlib.contextmanager
def held(db: Path):
    """The run lock of ``db`` held, as a run in progress holds it."""
    with open(db.with_name(db.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def replaced(path: Path, content: bytes | None):
    """``path`` with ``content`` (None: gone) for a while, then as it was."""
    kept = path.read_bytes()
    path.unlink()
    if content is not None:
        path.write_bytes(content)
    try:
        yield
    finally:
        path.write_bytes(kept)


@pytest.mark.flow
def test_runs_that_stop_say_why_in_english_as_in_chinese(hostile_runs, prefect_api, tmp_path):
    """No programme, no input folder, a busy warehouse, a damaged one, a lost key, another key:
    one sentence each, in either language, and nothing else in Chinese."""
    empty = tmp_path / "empty"
    (empty / "raw").mkdir(parents=True)
    for lang, (root, _, data) in hostile_runs.items():
        db, key = root / DB, root / "hash.key"
        other = secrets.token_hex(32).encode()
        cut = db.read_bytes()[: db.stat().st_size - 5000]
        scenarios = {  # the folder run, in what state
            "no programme": (empty, contextlib.nullcontext()),
            "no input folder": (tmp_path, contextlib.nullcontext()),  # it holds no raw/
            "busy": (root, held(db)),
            "damaged": (root, replaced(db, cut)),
            "lost key": (root, replaced(key, None)),
            "another key": (root, replaced(key, other)),
        }
        for scenario, (folder, state) in scenarios.items():
            with state:
                done = jixiao_run(folder, prefect_api, lang=lang, env={KEY_ENV: str(key)})
            assert done.returncode == 1 and "Traceback" not in said(done), (scenario, said(done)[-2000:])
            lines = [line for line in done.stderr.splitlines() if line.startswith(("错误：", "Error: "))]
            assert len(lines) == 1, (scenario, said(done)[-2000:])
            line = lines[0]
            assert line.startswith("错误：" if lang == "zh" else "Error: "), (scenario, line)
            if lang == "en":
                assert chinese_outside(said(done), data) == set(), (scenario, said(done)[-2000:])
            assert SAYS[scenario][lang] in line, (scenario, line)


SAYS = {  # what each stop says, in either language
    "no programme": {"zh": "下没有项目", "en": "no programme under"},
    "no input folder": {"zh": "不存在", "en": "does not exist"},
    "busy": {"zh": "另一个 jixiao 运行正在写入", "en": "another jixiao run is writing"},
    "damaged": {"zh": "jixiao run --rebuild", "en": "`jixiao run --rebuild` rebuilds it"},
    "lost key": {"zh": "找不到散列密钥文件", "en": "is missing, and the identity hashes"},
    "another key": {"zh": "不是数据仓库", "en": "is not the key the warehouse"},
}
