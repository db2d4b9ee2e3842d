"""Documentation generated from declarations stays in step with them."""

from pathlib import Path

from jixiao.checks.catalogue import RULES, render_markdown
from jixiao.publish.dictionary import render, view_columns
from jixiao.sample.generate import PROGRAMME_YAML
from jixiao.schemas.programme import load_programme
from jixiao.schemas.warehouse import TABLES, sheet_table

REPO = Path(__file__).resolve().parent.parent


def test_committed_catalogue_is_generated_from_the_rules():
    committed = (REPO / "checks" / "CATALOGUE.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "run `python -m jixiao.checks` and commit CATALOGUE.md"
    for rule_id in RULES:
        assert f"`{rule_id}`" in committed


def test_every_rule_renders_in_both_languages():
    for rule in RULES.values():
        zh = rule.message("zh", value="X", column="列", sheet="表", expected="E", detail="D")
        en = rule.message("en", value="X", column="列", sheet="表", expected="E", detail="D")
        assert zh and en and "{" not in zh + en


def test_dictionary_documents_every_column():
    """Every column of jixiao's tables and of the programme's declared sheets, each sheet
    table saying which programmes fill it and what each column's rule is."""
    programme = load_programme(PROGRAMME_YAML)
    text = render([programme])
    sheets = [sheet_table(s) for s in programme.county_template.sheets.values()]
    assert len(sheets) == 6
    for table in [*sheets, *TABLES]:
        assert f"## `{table.name}`" in text
        for column in table.columns:
            assert f"| `{column.name}` | {column.type} |" in text
    assert "用于：2022/530100-disability-employment" in text
    assert "| `amount_yuan` | DECIMAL(18,2) | 慰问金额(元)：慰问金额（金额（元），> 0，不能为空） |" in text
    visits = text.split("## `visits`")[1].split("## ")[0]  # personal columns per SPEC §4
    assert "| `cert_hash` | VARCHAR |" in visits and "`cert_no`" not in visits
    assert "| `name` |" not in visits


def test_dictionary_documents_every_view_column():
    """Each view with its columns as DuckDB creates it, and what each column means."""
    text = render([load_programme(PROGRAMME_YAML)])
    views = text.split("## Views", 1)[1]
    for view, columns in view_columns([load_programme(PROGRAMME_YAML)]).items():
        section = views.split(f"### `{view.name}`", 1)[1].split("\n### ", 1)[0]
        for name, kind in columns:
            (line,) = [row for row in section.splitlines() if row.startswith(f"| `{name}` |")]
            meaning = line.split(" | ")[2].rstrip(" |")
            assert f"| {kind} |" in line and meaning, line
    assert "| `county_name` | VARCHAR | 区县名称（counties 表） |" in views
