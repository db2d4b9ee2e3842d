"""Documentation generated from declarations stays in step with them."""

import re
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
    english = render([programme], "en")  # --lang en: the programme's own words stay as written
    for table in [*sheets, *TABLES]:
        for column in table.columns:
            assert f"| `{column.name}` | {column.type} | {column.description.en} |" in english
    assert "(a county sheet, filled for: 2022/530100-disability-employment)" in english
    assert "| `amount_yuan` | DECIMAL(18,2) | 慰问金额(元): 慰问金额 (an amount of yuan, > 0, required) |" in english


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


# What every finding said before its rule had its own (issue 14): one basis, three suggestions.
_GENERIC = ("自评报告数据应真实、准确、前后一致", "更正报告中的错误数据",
            "补充依据或修改报告", "请补全相关内容后重新提交")  # fmt: skip
_ADDRESSED = {"RECORDS.": (r"^请(相关|报送)?区县", r"^The (counties concerned|county|submitting county)"),
              "REPORT.": (r"^请项目单位", r"^The reporting unit should")}  # fmt: skip


def test_every_finding_rule_has_its_own_basis_and_suggestion():
    """依据 and 整改建议 per rule (issue 14): every rule that yields findings names what it
    rests on and tells whoever must act what to do — the county for its records, the
    reporting unit for its report — in both languages, each its own, never its id; and
    CATALOGUE.md lists them."""
    findings_rules = [r for r in RULES.values() if {"report", "records"} & set(r.tags)]
    assert len(findings_rules) == 38
    catalogue = (REPO / "checks" / "CATALOGUE.md").read_text(encoding="utf-8")
    for r in findings_rules:
        texts = (r.basis_zh, r.basis_en, r.suggestion_zh, r.suggestion_en)
        assert all(texts), r.id
        assert not any(g in t for g in _GENERIC for t in texts), r.id
        assert not re.search(r"(REPORT|RECORDS)\.[A-Z]", " ".join(texts)), r.id
        assert not re.search(
            r"[\u4e00-\u9fff]", re.sub(r"\{\w+\}", "", r.basis_en + r.suggestion_en)
        ), r.id
        zh, en = _ADDRESSED["RECORDS." if r.id.startswith("RECORDS.") else "REPORT."]
        assert re.match(zh, r.suggestion_zh) and re.match(en, r.suggestion_en), r.id
        assert (
            f"- basis (zh): {r.basis_zh}" in catalogue
            and f"- suggestion (en): {r.suggestion_en}" in catalogue
        )
    for attr in ("basis_zh", "suggestion_zh", "suggestion_en"):
        assert len({getattr(r, attr) for r in findings_rules}) == len(findings_rules), attr
    # The refusals of files say what to fix in their messages and carry no finding's texts.
    assert not any(r.basis_zh or r.suggestion_zh for r in RULES.values() if r not in findings_rules)
