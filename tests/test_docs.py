"""Documentation generated from declarations stays in step with them."""

from pathlib import Path

from jixiao.checks.catalogue import RULES, render_markdown
from jixiao.publish.dictionary import render
from jixiao.schemas.warehouse import TABLES

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
    text = render()
    for table in TABLES:
        assert f"## `{table.name}`" in text
        for column in table.columns:
            assert f"| `{column.name}` | {column.type} |" in text
