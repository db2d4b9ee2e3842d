"""What discovery takes for a submission, from names alone (ingest/discover.py): the county a
name gives, its version and its kind."""

from __future__ import annotations

from pathlib import Path

from jixiao.ingest.discover import submissions
from jixiao.ingest.normalise import county_of_file
from jixiao.sample.generate import PROGRAMME_YAML
from jixiao.schemas.programme import load_programme

PROGRAMME = load_programme(PROGRAMME_YAML)


def found(tmp_path: Path, *names: str) -> dict[str, tuple[str | None, int, str, str | None]]:
    """Each file under counties/ as discovery takes it: (county, version, kind, sheet)."""
    for name in names:
        path = tmp_path / "counties" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return {
        s.rel: (county_of_file(s.county_text, PROGRAMME.counties), s.version, s.kind, s.sheet)
        for s in submissions(tmp_path, PROGRAMME.county_template)
    }


def test_an_excel_97_2003_workbook_is_a_submission_as_an_xlsx_is(tmp_path):
    assert found(tmp_path, "530103.xls", "530103.v2.xls", "530111.XLS", "晋宁区.xls",
                 "晋宁区2022年残疾人就业报表.v3.xls", "（530102）报表.xls") == {
        "counties/530103.xls": ("530103", 1, "xls", None),
        "counties/530103.v2.xls": ("530103", 2, "xls", None),
        "counties/530111.XLS": ("530111", 1, "xls", None),
        "counties/晋宁区.xls": ("530115", 1, "xls", None),
        "counties/晋宁区2022年残疾人就业报表.v3.xls": ("530115", 3, "xls", None),
        "counties/（530102）报表.xls": ("530102", 1, "xls", None),
    }  # fmt: skip


def test_xls_and_xlsx_versions_of_a_county_come_in_version_order(tmp_path):
    rels = list(found(tmp_path, "530103.v3.xlsx", "530103.v2.xls", "530103.xlsx"))
    assert rels == ["counties/530103.xlsx", "counties/530103.v2.xls", "counties/530103.v3.xlsx"]


def test_an_xls_named_as_no_template_says_is_refused_as_a_name(tmp_path):
    """Hidden, with a version no county writes, or inside a county's CSV folder: a name
    discovery does not understand (refused as FILE.NAME, to the county it names if any)."""
    assert found(tmp_path, ".530103.xls", "530103.v3000000000.xls", "530112/visits.xls") == {
        "counties/.530103.xls": ("530103", 1, "unknown", None),
        "counties/530103.v3000000000.xls": ("530103", 1, "unknown", None),
        "counties/530112/visits.xls": ("530112", 1, "unknown", None),
    }
