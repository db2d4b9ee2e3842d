"""County workbooks laid out as clerks lay them out, read as the clerk means them (issue 12).

tests/clerk/workbooks/ holds layout variants of one accepted workbook of the bundled sample,
re-saved by LibreOffice (tests/clerk/build.py); tests/clerk/expected.yaml says of each that it
loads exactly the original's rows, or that it is refused with a feedback page saying what the
clerk sees. Each goes in place of its county's file in a copy of the sample, and the copy is
ingested as the other ingest tests do (process() over submissions(), a real DuckDB file, no
Prefect). The same layouts of a second county, written by openpyxl alone, check the shapes
where LibreOffice is missing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from jixiao.sample.generate import sample_folder
from jixiao.schemas.programme import load_programme
from jixiao.schemas.warehouse import LINEAGE
from tests.clerk.build import VARIANTS, County, make, read_book
from tests.test_intake import context, log, run

REPO = Path(__file__).resolve().parent.parent
CLERK = REPO / "tests" / "clerk"
RAW = REPO / "data" / "raw"
SAMPLE = sample_folder(RAW)
PROGRAMME = load_programme(SAMPLE / "programme.yaml")
TEMPLATE = PROGRAMME.county_template
EXPECTED = yaml.safe_load((CLERK / "expected.yaml").read_text(encoding="utf-8"))
# The second county, whose variants are written here by openpyxl alone: a hand-typed
# workbook (stray spaces, amounts as '21,000.00', an empty 满意度问卷).
SECOND, SECOND_FILE = "530115", "counties/530115.xlsx"
LINEAGE_COLUMNS = ", ".join(c.name for c in LINEAGE)


def county_of(code: str) -> County:
    return County(code, PROGRAMME.counties[code], PROGRAMME.year)


@dataclass
class Ingested:
    """A copy of the sample ingested: every county's rows, the fate of every file, and what
    the warehouse says of the one file a test put in."""

    rows: dict[tuple[str, str], list[tuple]]  # (county, sheet key) -> rows less lineage, sorted
    statuses: dict[str, str]  # file -> accepted | refused …
    entry: dict | None  # the ingest_log row of the file put in
    absent: set[str]  # the sheets it left out, by key
    feedback: str  # its feedback page, "" when it has none


def ingest(root: Path, replaced: str | None = None, by: Path | None = None,
           submitted_as: str | None = None, required: tuple[str, ...] = ()) -> Ingested:  # fmt: skip
    """The sample copied under ``root``, with the county file ``replaced`` (its path under the
    programme folder) swapped for the file ``by``, named ``submitted_as`` under counties/
    (default: the replaced file's stem and by's suffix), and the sheets titled ``required``
    required; then ingested."""
    folder = root / "raw" / SAMPLE.relative_to(RAW)
    shutil.copytree(SAMPLE, folder)
    file = None
    if replaced and by:
        (folder / replaced).unlink()
        file = f"counties/{submitted_as or Path(replaced).stem + by.suffix}"
        shutil.copyfile(by, folder / file)
    if required:
        path = folder / "programme.yaml"
        programme = yaml.safe_load(path.read_text(encoding="utf-8"))
        for sheet in programme["sheets"]:
            sheet["required"] = sheet["title"] in required
        path.write_text(yaml.safe_dump(programme, allow_unicode=True), encoding="utf-8")
    ctx = context(root, folder)
    try:
        statuses = {f: outcome.status for f, outcome in run(folder, ctx).items()}
        rows: dict[tuple[str, str], list[tuple]] = {}
        for key in TEMPLATE.sheets:
            for county, *row in ctx.con.execute(
                f"SELECT county_code, * EXCLUDE ({LINEAGE_COLUMNS}) FROM {key} ORDER BY ALL"
            ).fetchall():
                rows.setdefault((county, key), []).append(tuple(row))
        entry = log(ctx).get(file)
        absent = ctx.con.execute("SELECT sheets_absent FROM ingest_log WHERE file = ?",
                                 [file]).fetchone()  # fmt: skip
    finally:
        ctx.con.close()
    page = entry and entry["feedback_file"] and root / "feedback" / entry["feedback_file"]
    feedback = page.read_text(encoding="utf-8") if page else ""
    return Ingested(rows, statuses, entry, set(absent[0]) if absent else set(), feedback)


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Ingested:
    """The sample as it is, ingested: each county's rows as its own file gives them."""
    return ingest(tmp_path_factory.mktemp("original"))


def check(got: Ingested, original: Ingested, expected: dict, county: str, replaced: str) -> None:
    """What ``expected`` (an entry of expected.yaml) says of the file that replaced the
    county's file ``replaced``: read without a crash, every other file's fate and every other
    county's rows as in the ``original`` run, and the county's rows loaded exactly as its
    own file gave them, or the file refused in the words expected."""
    assert got.entry is not None, "the file was not processed"
    errors = got.entry["errors"]
    told = [e["message"] for e in errors]
    assert "FILE.CORRUPT" not in {e["rule_id"] for e in errors}, told  # a reader that failed
    others = {f: s for f, s in original.statuses.items() if f != replaced}
    assert {f: s for f, s in got.statuses.items() if f != got.entry["file"]} == others
    assert {k: v for k, v in got.rows.items() if k[0] != county} == {
        k: v for k, v in original.rows.items() if k[0] != county
    }
    if "refused" in expected:
        assert got.entry["status"] == "refused", "loaded, though it must be refused"
        for text in expected["refused"]:
            assert text in got.feedback, f"「{text}」 not in the feedback: {told}"
        if "problems" in expected:
            assert got.entry["error_count"] == expected["problems"], told
        return
    assert got.entry["status"] == "accepted", told
    absent = {key for key, s in TEMPLATE.sheets.items() if s.title in expected.get("absent", ())}
    assert got.absent == absent
    for key, sheet in TEMPLATE.sheets.items():
        rows = [] if key in absent else original.rows.get((county, key), [])
        assert got.rows.get((county, key), []) == rows, f"{sheet.title}: not the original's rows"


CORPUS = [pytest.param(name, entry, id=name) for name, entry in EXPECTED["workbooks"].items()]


@pytest.mark.parametrize(("name", "expected"), CORPUS)
def test_a_workbook_saved_by_libreoffice_is_read_as_the_clerk_means_it(
    name, expected, original, tmp_path
):
    path = CLERK / "workbooks" / name
    if not path.is_file():
        pytest.skip(f"{path.relative_to(REPO)} is absent: run tests/clerk/build.py")
    replaced = EXPECTED["original"]
    got = ingest(tmp_path, replaced, path, expected.get("as"), tuple(expected.get("required", ())))
    check(got, original, expected, EXPECTED["county"], replaced)


def test_expected_yaml_is_what_build_declares():
    """expected.yaml is build.py's output for the corpus county: every variant once, each with
    a description and what reading it must give."""
    book = read_book(SAMPLE / EXPECTED["original"], TEMPLATE)
    county = county_of(EXPECTED["county"])
    declared = {
        v.file(): {"description": v.description} | make(v, book, county)[1] for v in VARIANTS
    }
    assert EXPECTED["workbooks"] == declared
    assert all(("same" in entry) != ("refused" in entry) for entry in declared.values())


# What LibreOffice alone writes: openpyxl writes no .xls.
OPENPYXL = [pytest.param(v, id=v.name) for v in VARIANTS if v.saved_as == "xlsx"]


@pytest.mark.parametrize("variant", OPENPYXL)
def test_the_same_layouts_written_by_openpyxl_for_another_county(variant, original, tmp_path):
    book = read_book(SAMPLE / SECOND_FILE, TEMPLATE)
    workbook, expected = make(variant, book, county_of(SECOND))
    path = tmp_path / variant.file()
    workbook.save(path)
    got = ingest(tmp_path / "run", SECOND_FILE, path, expected.get("as"),
                 tuple(expected.get("required", ())))  # fmt: skip
    check(got, original, expected, SECOND, SECOND_FILE)
