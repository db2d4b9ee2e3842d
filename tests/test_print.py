"""What a run gives an auditor to print: report.pdf beside report.html (headless Chromium,
publish/pdf.py), looked at page by page as pdfplumber lays it out."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import unicodedata

import openpyxl
import pdfplumber
import pytest

from jixiao.ingest.reviews import REVIEW_COLUMNS
from jixiao.publish import pdf
from jixiao.publish.excel import COLUMNS
from jixiao.publish.report import H_DISMISSED, HEADINGS
from tests.runs import PROGRAMME, REPO, REPORTS, completed, jixiao_run

FOLDER = REPORTS / "2022" / PROGRAMME.name
TITLE = "昆明市残疾人综合服务中心2022年残疾人就业服务（对下）补助项目绩效评价审核报告"
MARGIN_PT = 12 * 72 / 25.4  # the report's @page margin, left and right


def text_of(page) -> str:
    # NFKC: the PDF's font maps some characters to their Kangxi radical forms (⼈ for 人).
    return unicodedata.normalize("NFKC", page.extract_text() or "")


@pytest.fixture(scope="module")
def published(prefect_api, tmp_path_factory):
    folder = tmp_path_factory.mktemp("print")
    shutil.copytree(REPO / "data" / "raw", folder / "raw")
    done = jixiao_run(folder, prefect_api)
    completed(done)
    return folder / FOLDER, done


@pytest.mark.skipif(pdf.printable() is not None, reason="no Chromium, or no font for Chinese "
                    "(packages chromium, fonts-noto-cjk)")
def test_a_run_writes_report_pdf_on_a4_within_the_margins(published):
    folder, done = published
    assert "report.pdf" not in done.stdout + done.stderr  # nothing to say when it prints
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    with pdfplumber.open(folder / "report.pdf") as doc:
        assert len(doc.pages) >= 5
        assert {(round(p.width), round(p.height)) for p in doc.pages} == {(595, 842)}  # A4
        for page in doc.pages:
            assert max(c["x1"] for c in page.chars) <= page.width - MARGIN_PT + 1
            assert min(c["x0"] for c in page.chars) >= MARGIN_PT - 1
        texts = [text_of(p) for p in doc.pages]
    assert unicodedata.normalize("NFKC", TITLE) in texts[0].replace("\n", "")
    assert "索引号:JX-530100-disability-employment-2022" in texts[0].replace(" ", "")
    assert "编制人" in texts[-1] and "复核人" in texts[-1]


def chinese_families() -> set[str]:
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    return {f.replace(" ", "").lower() for line in listed.stdout.splitlines()
            for f in line.split(",")}  # fmt: skip


@pytest.mark.skipif(pdf.printable() is not None or shutil.which("fc-list") is None,
                    reason="no Chromium, or no font for Chinese, or no fontconfig to name one")
def test_chinese_is_printed_in_a_chinese_font_not_as_boxes(published):
    """Chromium draws a character no font has as an empty box in a Latin font, and the text
    layer still says the character: only the fonts tell."""
    families = chinese_families()
    with pdfplumber.open(published[0] / "report.pdf") as doc:
        han = [c for c in doc.pages[0].chars if "\u4e00" <= c["text"] <= "\u9fff"]
    fonts = {c["fontname"].split("+")[-1].split("-")[0].lower() for c in han}
    assert han and fonts and all(f in families for f in fonts), (fonts, families)


@pytest.mark.skipif(pdf.printable() is not None, reason="no Chromium, or no font for Chinese "
                    "(packages chromium, fonts-noto-cjk)")
def test_printed_pages_are_filled_and_no_heading_ends_a_page(published):
    """Page 1 holds more than the title and contents (the chart that does not fit beside the
    summary used to leave it half blank), and no heading stands alone at a page's foot."""
    with pdfplumber.open(published[0] / "report.pdf") as doc:
        first = doc.pages[0]
        assert max(c["bottom"] for c in first.chars) > 0.75 * first.height
        assert "二、指标完成情况与满意度" in text_of(first)
        for page in doc.pages[:-1]:
            last = text_of(page).splitlines()[-1].strip()
            assert last not in (*HEADINGS, H_DISMISSED), (page.page_number, last)


def test_without_chromium_the_run_says_so_once_and_publishes_the_rest(prefect_api, tmp_path):
    shutil.copytree(REPO / "data" / "raw", tmp_path / "raw")
    (tmp_path / "bin").mkdir()  # a PATH with no browser on it
    done = jixiao_run(tmp_path, prefect_api, env={"PATH": str(tmp_path / "bin")})
    completed(done)
    assert (done.stdout + done.stderr).count("未找到 Chromium") == 1
    names = {p.name for p in (tmp_path / FOLDER).iterdir()}
    assert {"report.html", "findings.xlsx"} <= names and not {"report.pdf", "report.pdf.tmp"} & names


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_findings_xlsx_printed_by_libreoffice(published, tmp_path):
    """Every page A4 landscape; each page of findings carries the review columns an auditor
    fills in by hand; a sheet of no finding (here 经复核不予采纳) prints no page."""
    done = subprocess.run(
        [shutil.which("soffice"), f"-env:UserInstallation=file://{tmp_path / 'profile'}",
         "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
         str(published[0] / "findings.xlsx")],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with pdfplumber.open(tmp_path / "findings.pdf") as doc:
        assert {(round(p.width), round(p.height)) for p in doc.pages} == {(842, 595)}
        texts = [text_of(p) for p in doc.pages]
    heads = [t.splitlines()[0].split() for t in texts]
    papers = [h for h in heads if h[:2] == list(COLUMNS.zh[:2])]  # a severity sheet's pages
    # each severity sheet that holds findings prints on a page or more; 证据明细 follows on its
    # own; "7 findings on 9 pages" was the complaint.
    book = openpyxl.load_workbook(published[0] / "findings.xlsx", read_only=True)
    held = sum(book[name].max_row > 1 for name in ("错误", "警示", "提示"))
    assert held >= 2 and held <= len(papers) <= 6 and len(texts) <= 8
    for head in papers:
        assert head[-3:] == list(REVIEW_COLUMNS) and "指纹" not in head
    assert all(len(t.splitlines()) > 1 for t in texts)  # no page of a header alone


def fake_browser(folder, script: str) -> None:
    exe = folder / "chromium"
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(("lang", "said"), [("zh", "退出码 3"), ("en", "exit code 3")])
def test_a_failing_print_is_named_and_leaves_no_file(tmp_path, monkeypatch, lang, said):
    fake_browser(tmp_path, "for a; do case $a in --print-to-pdf=*) echo half > ${a#*=};; esac; done; exit 3")
    monkeypatch.setenv("PATH", str(tmp_path))
    staged = tmp_path / "staging" / "2022" / "P"
    staged.mkdir(parents=True)
    (staged / "report.html").write_text("<p>x</p>", encoding="utf-8")
    pdf.start(staged / "report.html")
    said_lines = []
    pdf.finish(tmp_path / "staging", said_lines.append, lang)
    assert len(said_lines) == 1 and said in said_lines[0]
    assert "2022/P/report.html" in said_lines[0] and "staging" not in said_lines[0]
    assert sorted(os.listdir(staged)) == ["report.html"]


def test_an_overrunning_print_is_stopped(tmp_path, monkeypatch):
    fake_browser(tmp_path, "/bin/sleep 30")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pdf, "WAIT_S", 0.5)
    staged = tmp_path / "staging" / "P"
    staged.mkdir(parents=True)
    (staged / "report.html").write_text("<p>x</p>", encoding="utf-8")
    pdf.start(staged / "report.html")
    said = []
    pdf.finish(tmp_path / "staging", said.append)
    assert len(said) == 1 and "秒内未完成" in said[0]
    assert not (staged / "report.pdf").exists()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_font_for_chinese_is_said_once_and_nothing_printed(tmp_path, monkeypatch, lang):
    fake_browser(tmp_path, "for a; do case $a in --print-to-pdf=*) echo pdf > ${a#*=};; esac; done")
    (tmp_path / "fc-list").write_text("#!/bin/sh\n")  # fontconfig knows no font for :lang=zh
    (tmp_path / "fc-list").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert pdf.printable() == "no_font"
    staged = tmp_path / "staging" / "P"
    staged.mkdir(parents=True)
    (staged / "report.html").write_text("<p>报告</p>", encoding="utf-8")
    pdf.start(staged / "report.html")
    said = []
    pdf.finish(tmp_path / "staging", said.append, lang)
    assert said == [pdf.MESSAGES["no_font"][lang]] and "fonts-noto-cjk" in said[0]
    assert sorted(os.listdir(staged)) == ["report.html"]


def test_no_chromium_is_said_once_for_all_programmes_in_english_too(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser here
    for code in ("P1", "P2"):
        (tmp_path / "staging" / code).mkdir(parents=True)
        (tmp_path / "staging" / code / "report.html").write_text("<p>x</p>", encoding="utf-8")
        pdf.start(tmp_path / "staging" / code / "report.html")
    said = []
    pdf.finish(tmp_path / "staging", said.append, "en")
    assert said == [pdf.MESSAGES["missing"]["en"]] and said[0].startswith("Chromium")
    assert not list((tmp_path / "staging").rglob("report.pdf*"))
