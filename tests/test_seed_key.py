"""The seed report against its answer key (tests/seed_key.yaml): as text, as Word and as PDF.

The seed is read from ../shared and never copied here; these tests skip, saying why, where it
is absent. The Word and PDF forms are those LibreOffice makes of the .txt (it keeps the
text's layout: a table cell per tab-led paragraph, a blank paragraph between rows), and
their tests skip where LibreOffice Writer is not installed. Eight single faults planted in
the text, one figure each, are found each, and the seed unchanged reports none of them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from jixiao.checks.report_check import check_report

REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seeds" / "000_8efdcb375633a8df.txt"
KEY = yaml.safe_load((Path(__file__).with_name("seed_key.yaml")).read_text(encoding="utf-8"))

pytestmark = pytest.mark.skipif(not SEED.exists(), reason=f"the seed report is not at {SEED}")


def _text(f) -> str:
    said = [f.claimed, f.observed, *(e.text for e in f.evidence)]
    return re.sub(r"\s", "", " ".join(said))


def matches(f, item: dict) -> bool:
    return f.rule_id in item["rules"] and all(m in _text(f) for m in item["mentions"])


def found(findings, items: list[dict]) -> set[str]:
    return {item["id"] for item in items if any(matches(f, item) for f in findings)}


def errors_on_consistent(findings) -> list[tuple[str, str]]:
    """Error findings claiming a figure the key says is consistent (as a whole number:
    33.5 is not inside 133.5)."""
    out = []
    for item in KEY["consistent"]:
        figure = re.compile(rf"(?<![\d.]){re.escape(item['figure'])}(?![\d])")
        out += [(item["figure"], f.claimed) for f in findings
                if f.severity == "error" and figure.search(f.claimed.replace(" ", ""))]  # fmt: skip
    return out


def _converted(folder: Path, fmt: str) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: no Word or PDF form of the seed")
    source = folder / "seed.txt"
    if not source.exists():
        shutil.copyfile(SEED, source)
    done = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
         "--convert-to", fmt, "--outdir", str(folder), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = folder / f"seed.{fmt}"
    if not out.exists():  # Writer absent: "source file could not be loaded"
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"LibreOffice could not make the seed's .{fmt} ({reason[0]})")
    return out


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    return tmp_path_factory.mktemp("seed_forms")


@pytest.fixture(scope="module", params=["txt", "docx", "pdf"])
def seed_form(request, forms):
    path = SEED if request.param == "txt" else _converted(forms, request.param)
    return request.param, check_report(path)


def test_the_key_names_fifteen_problems_and_eight_faults():
    assert len(KEY["problems"]) == 15 and len({p["id"] for p in KEY["problems"]}) == 15
    assert len(KEY["mutations"]) == 8
    lines = SEED.read_text(encoding="utf-8").split("\n")
    for m in KEY["mutations"]:  # each changes one figure, found where the key says
        assert lines[m["line"] - 1].count(m["old"]) == 1, m["id"]


def test_seed_problems_found_in_every_form(seed_form):
    form, audit = seed_form
    hit = found(audit.findings, KEY["problems"])
    missed = sorted({p["id"] for p in KEY["problems"]} - hit)
    assert len(hit) >= 14, f"{form}: missed {missed}"
    # Its tables are read in every form: the survey's problems stand only in a table.
    assert len(audit.document.tables) == 3, form
    assert not audit.coverage.incomplete, form


def test_no_consistent_figure_flagged_in_any_form(seed_form):
    form, audit = seed_form
    assert errors_on_consistent(audit.findings) == [], form


def test_the_key_finds_the_three_issue_13_named(seed_form):
    """Missed before: per-question scores against counts × weights, the total row's D score
    and the count of individual indicators against those listed."""
    _, audit = seed_form
    assert {"P7", "P8", "P15"} <= found(audit.findings, KEY["problems"])


@pytest.fixture(scope="module")
def unchanged():
    return check_report(SEED).findings


@pytest.mark.parametrize("mutation", KEY["mutations"], ids=lambda m: m["id"])
def test_single_fault_found_and_absent_from_the_seed(tmp_path, unchanged, mutation):
    assert not [f for f in unchanged if matches(f, mutation)], "the seed reports that spot"
    lines = SEED.read_text(encoding="utf-8").split("\n")
    n = mutation["line"] - 1
    lines[n] = lines[n].replace(mutation["old"], mutation["new"])
    path = tmp_path / "seed.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    before = {(f.rule_id, f.claimed, f.observed) for f in unchanged}
    new = [f for f in check_report(path).findings if (f.rule_id, f.claimed, f.observed) not in before]
    assert [f for f in new if matches(f, mutation)], [(f.rule_id, f.claimed, f.observed) for f in new]
