"""A refused file comes back marked, and its page prints on A4 (SPEC §3, issue 12 item 3).

Refusals are made by real intake runs (``process()`` over ``submissions()``, as
tests/test_intake.py runs them): the bundled sample's refused counties, and workbooks, a CSV
and an .xls (saved by LibreOffice) each refused for a few cells. The marked copies are read
back with openpyxl, the original files compared byte for byte, the HTML pages parsed and,
where Chromium is installed, printed to PDF.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from jixiao.checks.catalogue import rule
from jixiao.ingest.discover import submissions
from jixiao.ingest.intake import Context, process
from jixiao.ingest.load import create_tables
from jixiao.ingest.problems import Problem
from jixiao.publish import marked
from jixiao.publish.feedback import feedback_files, render_html
from jixiao.publish.marked import FILL, mark_workbook
from jixiao.sample.generate import PROGRAMME_YAML, write_csv
from jixiao.schemas.programme import load_programme
from tests.test_intake import (
    KEY,
    LABEL,
    Sheets,
    county_file,
    drop_column,
    records,
    repeat_column,
    run,
    set_cell,
    with_formula,
)

SAMPLE = PROGRAMME_YAML.parent.parent / "data/raw/2022/530100-disability-employment"
FIELDS = ("rule_id", "sheet", "row", "column", "value", "expected", "cell")
VISITS = list(LABEL["visits"].values())


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refusals(ctx: Context) -> dict[str, dict]:
    """Each refused file's ingest_log entry: its hash, its problems (as logged and as
    Problem), its page."""
    rows = ctx.con.execute(
        "SELECT file, sha256, errors, feedback_file FROM ingest_log WHERE status = 'refused'"
    ).fetchall()
    out = {}
    for file, digest, text, page in rows:
        errors = json.loads(text)
        problems = [Problem(**{k: e[k] for k in FIELDS}) for e in errors]
        out[file] = {"sha256": digest, "errors": errors, "problems": problems,
                     "page": ctx.feedback_dir / page}  # fmt: skip
    return out


def copy_of(page: Path) -> Path:
    return feedback_files(page)[1]


def comments(path: Path) -> dict[tuple[str, str], str]:
    """Every commented cell of a workbook: (sheet, cell) -> comment text."""
    book = load_workbook(path)
    return {(ws.title, c.coordinate): c.comment.text for ws in book.worksheets
            for row in ws.iter_rows() for c in row if c.comment}  # fmt: skip


def filled(path: Path) -> set[tuple[str, str]]:
    """Every cell of a workbook with the marking fill."""
    book = load_workbook(path)
    return {(ws.title, c.coordinate) for ws in book.worksheets for row in ws.iter_rows()
            for c in row if c.fill.fgColor.rgb == FILL.fgColor.rgb}  # fmt: skip


def at(key: str, row: int, label: str) -> str:
    """The cell of ``label`` on ``row`` of a sheet written by the test helpers (header on
    row 1, in template order)."""
    return f"{get_column_letter(list(LABEL[key].values()).index(label) + 1)}{row}"


def listed(path: Path) -> list[tuple]:
    """The rows of the copy's first sheet, 问题清单, below its header, with each row's link."""
    book = load_workbook(path)
    ws = book.worksheets[0]
    assert ws.title == "问题清单" and book.active.title == "问题清单"
    assert [c.value for c in ws[1]] == ["序号", "位置", "问题", "怎么改"]
    return [(*(c.value for c in row), row[1].hyperlink.location if row[1].hyperlink else None)
            for row in ws.iter_rows(min_row=2)]  # fmt: skip


def cells(path: Path, sheet: str) -> dict[str, tuple[object, str]]:
    """Every cell holding a value on a sheet: coordinate -> (value, number format)."""
    ws = load_workbook(path)[sheet]
    return {c.coordinate: (c.value, c.number_format) for row in ws.iter_rows() for c in row
            if c.value is not None}  # fmt: skip


class Html(HTMLParser):
    """A page's start tags with their attributes, and its text."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.texts.append(data)


# --- the bundled sample's refusals ------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample's county files ingested as they ship; their hashes from before the run."""
    root = tmp_path_factory.mktemp("sample")
    before = {p: sha(p) for p in (SAMPLE / "counties").rglob("*") if p.is_file()}
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    programme = load_programme(SAMPLE / "programme.yaml")
    create_tables(con, programme)
    ctx = Context(programme, con, KEY, "t", root / "feedback")
    for _ in process(submissions(SAMPLE, programme.county_template), ctx):
        pass
    yield ctx, refusals(ctx), before
    con.close()


# Each refused sample workbook's one problem and its cell: 残疾人证号 is column A and 慰问日期
# column D of 慰问; a missing column is marked on the header row's first cell.
SAMPLE_CELLS = {
    "counties/530124.xlsx": ("VALUE.CHECK_DIGIT", "慰问", "A3"),
    "counties/530125.xlsx": ("VALUE.OUTSIDE_YEAR", "慰问", "D4"),
    "counties/530126.xlsx": ("COLUMN.MISSING", "慰问", "A1"),
}


def test_sample_refusals_come_back_marked_on_their_cells(sample):
    _, refused, _ = sample
    assert set(SAMPLE_CELLS) < set(refused)
    for file, (rule_id, sheet, cell) in SAMPLE_CELLS.items():
        entry = refused[file]
        copy = copy_of(entry["page"])
        [error] = entry["errors"]
        assert error["rule_id"] == rule_id
        assert comments(copy) == {(sheet, cell): error["message"]}, file
        assert filled(copy) == {(sheet, cell)}, file
        assert load_workbook(copy)[sheet][cell].comment.author == "jixiao"
        where = f"工作表「{sheet}」，第 {error['row']} 行，列「{error['column']}」，单元格 {cell}"
        assert listed(copy) == [(1, where, rule(rule_id).title_zh, error["message"],
                                 f"'{sheet}'!{cell}")]  # fmt: skip
        page = entry["page"].read_text(encoding="utf-8")
        assert f"标注副本 {copy.name}（与本说明同一文件夹）" in page


def test_the_copy_keeps_the_countys_cells_and_masks_only_what_jixiao_adds(sample):
    _, refused, _ = sample
    entry = refused["counties/530124.xlsx"]
    copy, original = copy_of(entry["page"]), SAMPLE / "counties/530124.xlsx"
    theirs = load_workbook(original)
    for ws in theirs.worksheets:  # every value and number format as the county saved it
        assert cells(copy, ws.title) == cells(original, ws.title), ws.title
    typed = theirs["慰问"]["A3"].value  # the mistyped 残疾人证号, as typed
    [(_, text)] = comments(copy).items()
    assert typed not in text and f"{typed[:6]}**********{typed[-4:]}" in text  # masked
    assert all(typed not in str(value) for row in listed(copy) for value in row)


def test_originals_are_never_modified(sample):
    _, refused, before = sample
    assert {p: sha(p) for p in before} == before
    for file in SAMPLE_CELLS:
        assert sha(SAMPLE / file) == refused[file]["sha256"]


def test_a_file_that_was_not_read_gets_its_pages_and_no_copy(sample):
    _, refused, _ = sample
    entry = refused["counties/530113/visits.csv"]  # UTF-16: FILE.ENCODING, no cell read
    html, copy, page = feedback_files(entry["page"])
    assert page.exists() and html.exists() and not copy.exists()
    assert "标注副本" not in page.read_text(encoding="utf-8")
    assert "标注副本" not in html.read_text(encoding="utf-8")


def test_html_page_says_what_the_markdown_page_says(sample):
    _, refused, _ = sample
    for file, entry in refused.items():
        html, copy, page = feedback_files(entry["page"])
        parsed = Html(html.read_text(encoding="utf-8"))
        text = "".join(parsed.texts)
        assert f"报送文件退回说明：{file}" in text
        assert "另存为" in text and f"{Path(file).stem}.v2{Path(file).suffix}" in text
        for error in entry["errors"]:
            assert error["message"] in text and (error["sheet"] or "") in text
        tags = [t for t, _ in parsed.tags]
        assert tags.count("table") == 1 and "thead" in tags and "colgroup" in tags
        assert tags.count("tr") == 1 + len(entry["errors"])  # the header, then one per problem
        # Offline: no script, no stylesheet or image to fetch, a link only to the copy beside it.
        assert not {"script", "img", "link", "iframe"} & set(tags)
        links = [a["href"] for t, a in parsed.tags if t == "a"]
        assert links == ([quote(copy.name)] if copy.exists() else [])
        assert "@page{size:A4" in html.read_text(encoding="utf-8")
        assert page.read_text(encoding="utf-8").count(entry["errors"][0]["message"]) == 1


def test_the_same_refusal_gives_the_same_copy(sample, tmp_path):
    """Runs are reproducible: openpyxl stamps the clock into the package, the copy does not."""
    _, refused, _ = sample
    entry = refused["counties/530125.xlsx"]
    again = mark_workbook(SAMPLE / "counties/530125.xlsx", "xlsx", entry["problems"],
                          tmp_path / "again.xlsx", sha256=entry["sha256"])  # fmt: skip
    assert again is not None and again.read_bytes() == copy_of(entry["page"]).read_bytes()


# --- workbooks refused for several cells -------------------------------------------------------


def test_every_problem_cell_is_marked(folder, ctx):
    wrong = records()["visits"][1][0][:-3] + "912"  # a 残疾人证号 whose grade digit is 2 … 9
    path = county_file(
        folder / "counties/530102.xlsx",
        set_cell("慰问", 3, "慰问日期", dt.date(2021, 12, 28)),
        set_cell("慰问", 4, "发放方式", "支付宝"),
        set_cell("经费", 3, "使用金额(元)", "四百块"),
        set_cell("招聘会", 3, "招聘会编号", "ZP-01"),  # twice: the second row is refused
        set_cell("慰问", 2, "残疾人证号", wrong),
        set_cell("慰问", 3, "残疾人证号", wrong),  # invalid, and the same as row 2
    )
    before = sha(path)
    [outcome] = run(folder, ctx).values()
    assert outcome.status == "refused"
    entry = refusals(ctx)["counties/530102.xlsx"]
    copy = copy_of(entry["page"])
    expected: dict[tuple[str, str], list[str]] = {}
    keys = {sheet.title: key for key, sheet in ctx.programme.county_template.sheets.items()}
    for e in entry["errors"]:
        cell = at(keys[e["sheet"]], e["row"], e["column"])
        expected.setdefault((e["sheet"], cell), []).append(e["message"])
    assert len(expected) == len(entry["errors"]) == 7  # on three sheets
    assert comments(copy) == {place: m for place, [m] in expected.items()}
    assert filled(copy) == set(expected)
    rows = listed(copy)
    assert [r[0] for r in rows] == list(range(1, len(entry["errors"]) + 1))
    assert [r[3] for r in rows] == [e["message"] for e in entry["errors"]]
    assert all(link and link.split("!")[1] in where for _, where, _, _, link in rows)
    assert sha(path) == before


def test_a_formula_cell_keeps_its_formula_in_the_copy(folder, ctx):
    with_formula("慰问", "E2", "=200*2", 400)(folder / "counties", "530102")
    run(folder, ctx)
    entry = refusals(ctx)["counties/530102.xlsx"]
    copy = copy_of(entry["page"])
    [error] = entry["errors"]
    assert error["rule_id"] == "SHEET.FORMULA" and error["cell"] == "E2"
    assert comments(copy) == {("慰问", "E2"): error["message"]}
    assert load_workbook(copy)["慰问"]["E2"].value == "=200*2"


def test_problems_that_belong_to_no_cell_are_listed_too(folder, tmp_path):
    path = county_file(folder / "counties/530102.xlsx")
    problems = [
        Problem("VALUE.OUTSIDE_YEAR", "慰问", 3, "慰问日期", "2021-12-28", "2022"),
        Problem("SHEET.EMPTY_HEADER", "竞赛"),  # a sheet, no cell
        Problem("SHEET.MISSING", "培训"),  # a sheet the workbook lacks
        Problem("FILE.NAME", value="530102.xlsx"),  # the file
    ]
    copy = mark_workbook(path, "xlsx", problems, tmp_path / "copy.xlsx", sha256=sha(path),
                         unlisted=3)  # fmt: skip
    rows = listed(copy)
    assert [(r[1], r[4]) for r in rows[:4]] == [
        ("工作表「慰问」，第 3 行，列「慰问日期」，单元格 D3", "'慰问'!D3"),
        ("工作表「竞赛」", "'竞赛'!A1"),
        ("工作表「培训」", None),
        ("整个文件", None),
    ]
    assert [r[3] for r in rows[:4]] == [p.message() for p in problems]
    assert rows[4][1] == "另有 3 处问题未列出，见退回说明。"
    assert comments(copy) == {("慰问", "D3"): problems[0].message()}


def test_several_problems_of_one_cell_make_one_numbered_comment(folder, tmp_path):
    """The header of a sheet whose first column is missing and whose 姓名 comes twice: both
    problems are the header's first cell's."""
    path = county_file(folder / "counties/530102.xlsx", drop_column("慰问", "残疾人证号"),
                       repeat_column("慰问", "姓名", "name"))  # fmt: skip
    problems = [Problem("COLUMN.MISSING", "慰问", 1, "残疾人证号"),
                Problem("COLUMN.DUPLICATE", "慰问", 1, "姓名")]  # fmt: skip
    copy = mark_workbook(path, "xlsx", problems, tmp_path / "copy.xlsx", sha256=sha(path))
    assert comments(copy) == {
        ("慰问", "A1"): f"1. {problems[0].message()}\n2. {problems[1].message()}"
    }
    assert [r[4] for r in listed(copy)] == ["'慰问'!A1", "'慰问'!A1"]


# --- a CSV and an .xls ------------------------------------------------------------------------


def test_a_refused_csv_comes_back_as_a_marked_workbook_on_its_own_row_numbers(folder, ctx):
    rows = [list(r) for r in records()["visits"]]
    rows[0][1] = "=HYPERLINK(\"http://example.com\")"  # a text that looks like a formula
    rows[2][3] = dt.date(2021, 12, 28)
    path = write_csv(folder / "counties/530102/visits.csv", VISITS, [rows[0], [], *rows[1:]])
    before = sha(path)
    [outcome] = run(folder, ctx).values()
    assert outcome.status == "refused"
    entry = refusals(ctx)["counties/530102/visits.csv"]
    [error] = entry["errors"]
    assert (error["rule_id"], error["row"]) == ("VALUE.OUTSIDE_YEAR", 5)  # after a blank line
    copy = copy_of(entry["page"])
    assert copy.name == "530102_visits.csv.标注.xlsx"
    assert comments(copy) == {("visits", "D5"): error["message"]}
    ws = load_workbook(copy)["visits"]
    with path.open(encoding="utf-8-sig", newline="") as f:
        typed = list(csv.reader(f))
    for number, record in enumerate(typed, 1):  # each record on its own row, as text
        width = len(VISITS)
        assert [c.value for c in ws[number]][:width] == ([v or None for v in record]
                                                         + [None] * width)[:width]  # fmt: skip
    assert ws["B2"].data_type == "s"  # text, never a formula
    assert listed(copy)[0][4] == "'visits'!D5"
    assert sha(path) == before


SOFFICE = shutil.which("soffice")


def as_xls(xlsx: Path, out: Path) -> Path:
    """``xlsx`` saved by LibreOffice as Excel 97–2003 into ``out``."""
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{out / 'profile'}",
                    "--convert-to", "xls", "--outdir", str(out), str(xlsx)],
                   check=True, capture_output=True, timeout=180)  # fmt: skip
    return out / f"{xlsx.stem}.xls"


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_an_xls_comes_back_as_a_marked_workbook(tmp_path):
    made = county_file(tmp_path / "made/530102.xlsx", title_row)
    book = load_workbook(made)
    book["慰问"].merge_cells("A1:F1")  # the title over the table, as clerks set it
    book.save(made)
    xls = as_xls(made, tmp_path / "xls")
    problem = Problem("VALUE.OUTSIDE_YEAR", "慰问", 4, "慰问日期", "2021-12-28", "2022")
    before = sha(xls)
    copy = mark_workbook(xls, "xls", [problem], tmp_path / "copy.xlsx", sha256=before)
    assert copy is not None and sha(xls) == before
    assert comments(copy) == {("慰问", "D4"): problem.message()}
    book, theirs = load_workbook(copy), CalamineWorkbook.from_path(str(xls))
    assert book.sheetnames[1:] == theirs.sheet_names
    for name in theirs.sheet_names:  # every value where the .xls has it
        grid = theirs.get_sheet_by_name(name).to_python(skip_empty_area=False)
        assert {(r, c): plain(v) for r, row in enumerate(grid, 1) for c, v in enumerate(row, 1)
                if v != ""} == {(c.row, c.column): plain(c.value) for row in
                                book[name].iter_rows() for c in row if c.value is not None}  # fmt: skip
    assert [str(r) for r in book["慰问"].merged_cells.ranges] == ["A1:F1"]


def plain(value: object) -> object:
    """A value as compared across readers: a date cell is a date (openpyxl reads a datetime)."""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    return value


def title_row(sheets: Sheets) -> None:
    """慰问 with a title above its header (the header on row 2)."""
    header, rows = sheets["慰问"]
    sheets["慰问"] = (["慰问情况表", *[None] * (len(header) - 1)], [header, *rows])


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_a_refused_xls_through_intake_comes_back_marked(folder, ctx, tmp_path):
    made = county_file(tmp_path / "made/530102.xlsx",
                       set_cell("慰问", 3, "慰问日期", dt.date(2021, 12, 28)))  # fmt: skip
    xls = as_xls(made, tmp_path / "xls")
    (folder / "counties").mkdir()
    shutil.copy(xls, folder / "counties/530102.xls")
    [sub] = submissions(folder, ctx.programme.county_template)
    if sub.kind != "xls":
        pytest.skip("this intake does not read .xls yet (issue 12, item 1)")
    run(folder, ctx)
    entry = refusals(ctx)["counties/530102.xls"]
    [error] = entry["errors"]
    assert comments(copy_of(entry["page"])) == {("慰问", "D3"): error["message"]}


# --- what is never marked ---------------------------------------------------------------------


def test_no_copy_of_a_file_changed_since_it_was_read_a_link_a_broken_or_a_large_workbook(
    folder, tmp_path, caplog, monkeypatch
):
    path = county_file(folder / "counties/530102.xlsx")
    problem = [Problem("VALUE.OUTSIDE_YEAR", "慰问", 3, "慰问日期", "2021-12-28", "2022")]
    out = tmp_path / "copy.xlsx"
    assert mark_workbook(path, "xlsx", problem, out, sha256="0" * 64) is None  # not what was read
    unread = [Problem("SHEET.MISSING", "慰问")]  # nothing of the file was read
    assert mark_workbook(path, "xlsx", unread, out, sha256=sha(path)) is None
    link = tmp_path / "link.xlsx"
    link.symlink_to(path)
    assert mark_workbook(link, "xlsx", problem, out, sha256=sha(path)) is None
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(path.read_bytes()[:-200])
    with caplog.at_level(logging.WARNING, logger="jixiao.publish.marked"):
        assert mark_workbook(broken, "xlsx", problem, out, sha256=sha(broken)) is None
    assert "未生成标注副本 copy.xlsx" in caplog.text
    assert mark_workbook(path, "xlsx", problem, out, sha256=sha(path)) == out  # as it is: marked
    out.unlink()
    monkeypatch.setattr(marked, "MARK_MB", 0)  # every file is larger than 0 MB
    assert mark_workbook(path, "xlsx", problem, out, sha256=sha(path)) is None
    assert not out.exists()


def test_a_copy_goes_when_the_same_file_is_refused_again_unread(folder, ctx):
    path = county_file(folder / "counties/530102.xlsx",
                       set_cell("慰问", 3, "慰问日期", dt.date(2021, 12, 28)))  # fmt: skip
    run(folder, ctx)
    page = refusals(ctx)["counties/530102.xlsx"]["page"]
    assert copy_of(page).exists()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # now truncated
    run(folder, ctx)
    assert not copy_of(page).exists() and "标注副本" not in page.read_text(encoding="utf-8")


# --- printing ------------------------------------------------------------------------------------


def many_bad_dates(sheets: Sheets) -> None:
    """慰问 with 60 rows more, each dated in the year before."""
    header, rows = sheets["慰问"]
    for i in range(60):
        row = list(rows[i % len(rows)])
        row[0] = None  # 残疾人证号 left empty: each row is refused for it too
        row[3] = dt.date(2021, 12, 1 + i % 28)
        rows.append(row)


CHROMIUM = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
                None)  # fmt: skip


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: cannot print to PDF")
def test_the_html_page_prints_on_a4_pages(folder, ctx, tmp_path):
    county_file(folder / "counties/530102.xlsx", many_bad_dates)
    run(folder, ctx)
    entry = refusals(ctx)["counties/530102.xlsx"]
    problems = len(entry["errors"])
    assert problems >= 100
    html = feedback_files(entry["page"])[0]
    pdf = tmp_path / "page.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", html.as_uri()],
                   check=True, capture_output=True, timeout=180)  # fmt: skip
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    # A problem a row, at least ten rows a page: the table neither overflows nor splits rows.
    assert 2 <= pages <= problems // 10 + 1, pages
    boxes = {tuple(round(float(v)) for v in box.split())
             for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)}  # fmt: skip
    assert boxes == {(0, 0, 595, 842)}  # A4 in points


def test_the_page_is_english_under_lang_en():
    page = render_html("counties/530102.xlsx", "P",
                       [Problem("VALUE.REQUIRED", "慰问", 3, "姓名")], "en", "x.标注.xlsx")  # fmt: skip
    parsed = Html(page)
    text = "".join(parsed.texts)
    assert ("html", {"lang": "en"}) in parsed.tags
    assert "Returned submission: counties/530102.xlsx" in text and "530102.v2.xlsx" in text
    assert "The marked copy x.标注.xlsx" in text and "'姓名' is required." in text
