"""Reports as PDF and as flattened text: the same claims and findings as the text form.

The writer renders each report as SPEC's text, as a page flattens it (``cell | cell |``) and
as a PDF with a text layer (fpdf2, with a Chinese font installed on the machine; the PDF
tests skip, saying why, where there is none). What a PDF does not let us read is said.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from jixiao.checks.report_check import check_report
from jixiao.ingest.report import ReportError, read_report
from jixiao.sample import report_writer as writer

JIXIAO = Path(sys.executable).with_name("jixiao")


def same(audit) -> tuple[list[str], list[tuple]]:
    """Findings by fingerprint, claims by what they say (lines differ between forms)."""
    claims = [(c.text, c.value, c.unit, c.subject, c.measure, c.role, c.section, c.table)
              for c in audit.claims]  # fmt: skip
    return [f.fingerprint for f in audit.findings], claims


def forms(fig, folder: Path, pdf: bool) -> dict[str, Path]:
    paths = {"txt": folder / "r.txt", "flat": folder / "flat.txt"}
    paths["txt"].write_text(writer.render_text(fig), encoding="utf-8")
    paths["flat"].write_text(writer.render_flat_text(fig), encoding="utf-8")
    if pdf:
        paths["pdf"] = writer.render_pdf(fig, folder / "r.pdf")
    return paths


def test_flattened_text_gives_what_the_text_gives(tmp_path):
    rng = random.Random(5)
    figures = [writer.sample_figures(), writer.random_figures(rng)]
    for rule in ("REPORT.TABLE_TOTAL", "REPORT.SHARES_NOT_100", "REPORT.SCORE_UNSUPPORTED"):
        figures.append(writer.plant(writer.random_figures(rng), rule, rng)[0])
    figures.append(writer.truncate_table(writer.random_figures(rng), rng)[0])
    for fig in figures:
        paths = forms(fig, tmp_path, pdf=False)
        text, flat = check_report(paths["txt"]), check_report(paths["flat"])
        assert same(flat) == same(text)
        assert {t.layout for t in flat.document.tables} == {"pipe"}


def test_pdf_gives_what_the_text_gives(tmp_path, pdf_ok):
    rng = random.Random(11)
    sample = writer.sample_figures()
    slip = replace(sample, overrides={"counties.summary.job_fairs_held": "六"})
    planted = writer.plant(writer.random_figures(rng), "REPORT.TABLE_TOTAL", rng)[0]
    cut = writer.truncate_table(writer.random_figures(rng), rng)[0]
    for fig in (slip, planted, cut):
        paths = forms(fig, tmp_path, pdf=True)
        text, pdf = check_report(paths["txt"]), check_report(paths["pdf"])
        assert same(pdf) == same(text)
        assert pdf.findings  # the slip, the planted total, the cut-off table
        doc = pdf.document
        assert {t.layout for t in doc.tables} == {"pdf"} and not doc.unread
        assert {p.page for p in doc.paragraphs} >= {1, 2} and doc.tables[0].page >= 1


def _pdf(path: Path, pages: list[str | None], table: list[list[str]] | None = None) -> Path:
    """A PDF of Latin text: a page of text, or None for a page holding only an image (a scan)."""
    from fpdf import FPDF
    from PIL import Image

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        if text is None:
            pdf.image(Image.new("RGB", (300, 400), "white"), x=10, y=10, w=150)
        else:
            pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    if table:
        with pdf.table() as grid:
            for r, texts in enumerate(table):
                row = grid.row()
                for text in texts:
                    row.cell(text, colspan=2 if r == 2 and text == "Total" else 1)
    pdf.output(str(path))
    return path


def test_a_scanned_page_is_said_unread(tmp_path):
    pytest.importorskip("fpdf", reason="fpdf2 (a test dependency) renders the PDFs")
    path = _pdf(tmp_path / "report.pdf", [None, "Budget 120 and spent 118.5."])
    doc = read_report(path)
    assert [u.zh for u in doc.unread] == ["第 1 页没有文本层（疑似扫描件）"]
    assert [(p.text, p.page) for p in doc.paragraphs] == [("Budget 120 and spent 118.5.", 2)]
    done = subprocess.run([str(JIXIAO), "check-report", str(path)], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "未读取：第 1 页没有文本层（疑似扫描件）" in done.stdout
    assert "共 0 条发现" in done.stdout  # beside what was and was not read
    english = subprocess.run([str(JIXIAO), "--lang", "en", "check-report", str(path)],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert english.returncode == 0, english.stderr
    assert "Not read: page 1 has no text layer (perhaps a scan)." in english.stdout
    assert not re.search(r"[\u4e00-\u9fff]", english.stdout), english.stdout  # the report is English
    scanned = _pdf(tmp_path / "scan.pdf", [None, None])
    with pytest.raises(ReportError) as error:
        read_report(scanned)
    said = str(error.value)
    assert said.endswith("。") and said.count("。") == 1 and "第 2 页没有文本层" in said


def test_pdf_table_cells_and_spans(tmp_path):
    pytest.importorskip("fpdf", reason="fpdf2 (a test dependency) renders the PDFs")
    rows = [["Item", "Budget", "Spent"], ["Roads", "80", "78.5"], ["Total", "80"]]
    path = _pdf(tmp_path / "report.pdf", ["Spending table"], rows)
    audit = check_report(path)
    (table,) = audit.document.tables
    assert table.layout == "pdf" and table.page == 1
    assert [c.text for c in table.rows[1]] == ["Roads", "80", "78.5"]
    total = table.rows[2]
    assert total[0].span == (1, 2) and total[1].merged and total[2].text == "80"
    assert "表格 1 个" in audit.read_line() and "表格形式：PDF 表格 1 个" in audit.read_line()


def test_a_table_without_text_is_said_unread(tmp_path):
    pytest.importorskip("fpdf", reason="fpdf2 (a test dependency) renders the PDFs")
    path = _pdf(tmp_path / "report.pdf", ["Scores"], [["", "", ""], ["", "", ""], ["", "", ""]])
    doc = read_report(path)
    assert not doc.tables and doc.unread == [("第 1 页的一个表格无法读取（单元格中没有文字）",
                                              "a table on page 1 cannot be read (no text in its cells)")]
    assert "未读取：第 1 页的一个表格无法读取" in check_report(path).read_line()


def test_a_row_opening_a_page_with_an_empty_cell_is_a_row_of_its_own(tmp_path):
    """A table of one-line rows going on over a page, its header repeated there and its total
    row, which leaves a column empty, opening the new page: one table, the header read once,
    the total a row of its own (its cells go on no cell above: none of those ran full)."""
    pytest.importorskip("fpdf", reason="fpdf2 (a test dependency) renders the PDFs")
    import pdfplumber

    header = ["Item", "Kind", "Spent"]
    longer = _pdf(tmp_path / "long.pdf", ["Spending"], [header] + [["1", "Roads", "60"]] * 60)
    with pdfplumber.open(longer) as pdf:  # the rows that fit on the first page, its header aside
        fit = len(pdf.pages[0].find_tables()[0].rows) - 1
    body = [[str(n), "Roads", "60"] for n in range(1, fit + 1)]
    path = _pdf(tmp_path / "report.pdf", ["Spending"], [header, *body, ["Total", "", "600"]])
    with pdfplumber.open(path) as pdf:
        assert pdf.pages[1].extract_text().split("\n")[:2] == [" ".join(header), "Total 600"]
    (table,) = read_report(path).tables
    assert [[c.text for c in row] for row in table.rows] == [header, *body, ["Total", "", "600"]]
