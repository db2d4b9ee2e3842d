"""Positions in a .docx as Word shows them (issue 14): a prose figure is found by its
section's headings and 第 N 段 within that section (paragraphs as Word has them, empty ones
not counted, the heading itself being 标题), a table cell by 表 n 第 r 行; never by a line
index of ours. Checked by opening the very file with python-docx and walking to the place.
A .pdf's prose is found by its page, a .txt's by its line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import docx
import pytest

from jixiao.checks.findings import Evidence
from jixiao.checks.report_check import check_report
from jixiao.publish.findings import evidence_text, public_dict
from jixiao.schemas.programme import load_programme
from jixiao.schemas.vocabulary import fold

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data/raw/2022/530100-disability-employment"
PROGRAMME = load_programme(SAMPLE / "programme.yaml")


def _text(paragraph) -> str:
    return fold(paragraph.text).strip()


def paragraph_at(path: Path, e: Evidence) -> str:
    """The Word paragraph ``e`` names, found in the document as a reader would: each heading
    of its section in turn, then the N-th paragraph holding text after the last one."""
    paragraphs = [_text(p) for p in docx.Document(str(path)).paragraphs]
    at = -1
    for heading in filter(None, e.section.split(" › ")):
        at = next(i for i in range(at + 1, len(paragraphs))
                  if paragraphs[i].startswith(fold(heading)))  # fmt: skip
    if e.paragraph == 0:
        return paragraphs[at]
    after = [t for t in paragraphs[at + 1 :] if t]
    return after[e.paragraph - 1]


def places(path: Path) -> list[Evidence]:
    return [e for f in check_report(path, PROGRAMME).findings for e in f.evidence
            if e.paragraph is not None]  # fmt: skip


def test_the_sample_reports_prose_evidence_is_where_word_shows_it():
    path = SAMPLE / "report.docx"
    found = places(path)
    assert len(found) >= 3  # the figure said twice, the fairs shortfall
    for e in found:
        assert e.line and e.section and not e.table_row
        assert fold(e.text) in paragraph_at(path, e), (e.section, e.paragraph, e.text)
    # The figure said differently: named by section and paragraph, in the message too.
    (f,) = [f for f in check_report(path, PROGRAMME).findings
            if f.rule_id == "REPORT.FIGURE_DISAGREES"]  # fmt: skip
    assert "「（2）组织实施」第 1 段为 5个县（市、区）" in f.message()
    assert "paragraph 1 under '（2）组织实施'" in f.message("en")
    assert "第 67 行" not in f.message()
    shown = evidence_text(public_dict(f))
    assert "（2）组织实施 第 1 段 「从实施情况看" in shown and "第 67 行" not in shown
    assert public_dict(f)["evidence"][1]["paragraph"] == 1


def _word_report(path: Path) -> Path:
    """A report as Word users write them: empty paragraphs between, a soft line break, a
    table inside a section, headings by their numbering."""
    d = docx.Document()
    for text in ("昆明市残疾人就业服务补助项目绩效自评报告", "", "一、项目基本情况",
                 "（一）项目概况", "项目由市残联组织实施。", ""):  # fmt: skip
        d.add_paragraph(text)
    broken = d.add_paragraph("各县区按计划开展工作。")
    broken.add_run().add_break()  # a soft line break: still one paragraph
    broken.add_run("资金按进度拨付。")
    d.add_paragraph("")
    d.add_paragraph("本年度，六个县（市、区）举办残疾人就业专场招聘会。")
    table = d.add_table(rows=2, cols=2)
    for r, row in enumerate((("项目", "金额（万元）"), ("招聘会", "10.5"))):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    for text in ("二、绩效分析", "（一）组织实施", "", "按要求完成组织工作。",
                 "从实施情况看，5个县（市、区）举办残疾人就业专场招聘会。"):  # fmt: skip
        d.add_paragraph(text)
    d.save(path)
    return path


def _saved_by_libreoffice(tmp_path: Path, to: str, folder: str) -> Path:
    """The Word report of `_word_report` converted by LibreOffice (``to`` as --convert-to
    takes it) into ``tmp_path / folder``; skipped, saying why, where LibreOffice is absent."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: no file it saved to read")
    source = _word_report(tmp_path / "report.docx")
    done = subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
         "--convert-to", to, "--outdir", str(tmp_path / folder), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    path = tmp_path / folder / f"report.{to.split(':')[0]}"
    assert done.returncode == 0 and path.exists(), done.stderr
    return path


def test_a_docx_saved_by_libreoffice_names_section_and_paragraph(tmp_path):
    path = _saved_by_libreoffice(tmp_path, "docx:MS Word 2007 XML", "lo")
    (f,) = [f for f in check_report(path, PROGRAMME).findings
            if f.rule_id == "REPORT.FIGURE_DISAGREES"]  # fmt: skip
    first, second = f.evidence
    # 项目由…, 各县区…（soft break）资金…, 本年度…: the third paragraph with text under （一）项目概况.
    assert (first.section, first.paragraph) == ("一、项目基本情况 › （一）项目概况", 3)
    assert (second.section, second.paragraph) == ("二、绩效分析 › （一）组织实施", 2)
    for e in f.evidence:
        assert fold(e.text) in paragraph_at(path, e)
    assert "而「（一）组织实施」第 2 段为 5个县（市、区）" in f.message()


def test_a_pdf_names_the_page(tmp_path):
    """The same report printed to PDF by LibreOffice: its prose is found by page."""
    path = _saved_by_libreoffice(tmp_path, "pdf", "pdf")
    (f,) = [f for f in check_report(path, PROGRAMME).findings
            if f.rule_id == "REPORT.FIGURE_DISAGREES"]  # fmt: skip
    assert [(e.page, e.paragraph) for e in f.evidence] == [(1, None), (1, None)]
    assert "而第 1 页为 5个县（市、区）" in f.message()
    assert "第 1 页 「本年度" in evidence_text(public_dict(f))


def test_a_text_report_keeps_its_lines():
    """.txt has lines a reader sees in any editor: 第 N 行 stays."""
    path = SAMPLE / "report.txt"
    if not path.exists():
        pytest.skip("the sample has no .txt report")
    found = [e for f in check_report(path, PROGRAMME).findings for e in f.evidence if e.line]
    assert found and all(e.paragraph is None and e.where().startswith("第 ") for e in found)
