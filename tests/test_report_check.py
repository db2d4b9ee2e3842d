"""`check-report`: every internal contradiction of a report, and nothing that agrees.

Reports come from the seed (when present), the bundled sample and the project's report
writer, which renders many random programmes with single planted faults.
"""

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao.checks.catalogue import RULES
from jixiao.checks.report_check import check_report
from jixiao.publish.findings import public_dict
from jixiao.sample import report_writer as writer
from jixiao.sample.generate import sample_folder
from tests.conftest import own_chinese

REPO = Path(__file__).resolve().parent.parent
SEED = REPO.parent / "shared" / "seeds" / "000_8efdcb375633a8df.txt"
SAMPLE = sample_folder(REPO / "data" / "raw")
JIXIAO = Path(sys.executable).with_name("jixiao")


def audit(tmp_path: Path, text: str):
    path = tmp_path / "report.txt"
    path.write_text(text, encoding="utf-8")
    return check_report(path).findings


@pytest.fixture(scope="module")
def seed_findings():
    if not SEED.exists():
        pytest.skip(
            "the seed report ../shared/seeds/000_8efdcb375633a8df.txt is not in this checkout"
        )
    return check_report(SEED).findings


def pairs(findings, rule_id):
    return {(f.claimed, f.observed) for f in findings if f.rule_id == rule_id}


def test_seed_contradictions_found(seed_findings):
    disagree = pairs(seed_findings, "REPORT.FIGURE_DISAGREES")
    assert ("6个县市区", "5个县市区") in disagree  # job fairs: summary against 项目实施
    assert ("10个县市区", "4个县市区") in disagree  # competitions
    assert ("96.47%", "96.49分") in disagree  # satisfaction
    shares = {f.observed for f in seed_findings if f.rule_id == "REPORT.SHARES_NOT_100"}
    assert {"105.42%", "108.11%", "110.81%"} <= shares  # survey rows above 100%
    dates = pairs(seed_findings, "REPORT.DATE_CONFLICT")
    assert ("2022-12-30 前", "2022-11-30 前") in dates
    assert any("2023-05-25" in o for _, o in dates)  # signed before the evaluation ended
    rules = {f.rule_id for f in seed_findings}
    assert {"REPORT.SHARE_UNSUPPORTED", "REPORT.SCORE_UNSUPPORTED", "REPORT.NAME_VARIANT",
            "REPORT.RANKING", "REPORT.HEADCOUNT_PERCENT", "REPORT.MISSED_TARGET_CLAIMED",
            "REPORT.INCOMPLETE", "REPORT.COST_PER_UNIT"} <= rules  # fmt: skip


def test_seed_consistent_figures_not_flagged(seed_findings):
    # 10.5 + 11 + 12 = 33.5; 300 × 400 = 12万; 5/9 = 55.56%; 20 + 18 + 55 = 93 → 优.
    for rule in ("REPORT.BUDGET_TOTAL", "REPORT.PRODUCT", "REPORT.RATE_RECOMPUTED",
                 "REPORT.GRADE", "REPORT.TABLE_TOTAL"):  # fmt: skip
        assert not [f for f in seed_findings if f.rule_id == rule], rule
    stated = " ".join(f"{f.claimed} {f.observed}" for f in seed_findings)
    assert "55.56%" not in stated and "33.5万" not in stated


def test_every_seed_finding_says_where_it_stands(seed_findings):
    for f in seed_findings:
        d = f.as_dict()
        assert d["evidence"] and all(e["line"] > 0 or e["text"] for e in d["evidence"])
        assert d["message"] and d["basis"] and d["suggestion"] and len(d["fingerprint"]) == 16


def test_bundled_sample_report_findings():
    """The sample report honestly reports the missed job-fair target, with one slip like the
    real report's: its summary says six counties held fairs, its body five. Besides that
    slip, the only finding is the warning that follows from the shortfall."""
    for name in ("report.txt", "report.docx"):
        findings = check_report(SAMPLE / name).findings
        assert [(f.rule_id, f.claimed, f.observed) for f in findings if f.severity == "error"] == [
            ("REPORT.FIGURE_DISAGREES", "六个县（市、区）", "5个县（市、区）")
        ]
        warnings = [f.rule_id for f in findings if f.severity != "error"]
        assert warnings == ["REPORT.COST_PER_UNIT"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10**6))
def test_clean_reports_have_no_error(tmp_path, seed):
    fig = writer.random_figures(random.Random(seed))
    errors = [f for f in audit(tmp_path, writer.render_text(fig)) if f.severity == "error"]
    assert errors == []


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10**6), rule_id=st.sampled_from(sorted(writer.PLANTABLE)))
def test_every_planted_fault_is_found(tmp_path, seed, rule_id):
    rng = random.Random(seed)
    fig, planted = writer.plant(writer.random_figures(rng), rule_id, rng)
    findings = audit(tmp_path, writer.render_text(fig))
    assert planted.rule_id in {f.rule_id for f in findings}, planted.description
    # One planted fault: no error beyond its rule and those it cannot avoid breaking.
    errors = {f.rule_id for f in findings if f.severity == "error"}
    assert errors <= {planted.rule_id, *planted.collateral}, planted.description


@pytest.mark.parametrize("rule_id", sorted(writer.PLANTABLE))
@pytest.mark.parametrize("seed", [1, 22, 333])
def test_each_rule_on_fixed_reports(tmp_path, rule_id, seed):
    """Every rule, on the same three programmes each run: its planted fault is found."""
    rng = random.Random(seed)
    fig, planted = writer.plant(writer.random_figures(rng), rule_id, rng)
    found = {f.rule_id for f in audit(tmp_path, writer.render_text(fig))}
    assert rule_id in found, planted.description


@pytest.mark.parametrize("rule_id", sorted(writer.PLANTABLE))
def test_english_says_nothing_in_chinese_of_its_own(tmp_path, rule_id):
    """Under --lang en every message, basis, suggestion and the coverage line is English, the
    report's own words quoted as written; by default all of it is Chinese."""
    fig, planted = writer.plant(writer.random_figures(random.Random(22)), rule_id, random.Random(22))
    text = writer.render_text(fig)
    (tmp_path / "report.txt").write_text(text, encoding="utf-8")
    audit = check_report(tmp_path / "report.txt")
    assert rule_id in {f.rule_id for f in audit.findings}, planted.description
    for f in audit.findings:
        en, zh = public_dict(f, "en"), public_dict(f)
        said = " ".join(en[k] for k in ("message", "basis", "suggestion"))
        assert not own_chinese(said, text), (f.rule_id, said)
        # The rule's own basis and suggestion, to the unit, and never its id.
        r = RULES[f.rule_id]
        assert en["basis"].startswith(r.basis_en[:20]) and zh["basis"].startswith(r.basis_zh[:10])
        assert zh["suggestion"].startswith("请项目单位") and en["suggestion"].startswith(
            "The reporting unit should")
        assert f.rule_id not in zh["basis"] + en["basis"] + zh["suggestion"] + en["suggestion"]
        assert zh["message"] == f.message() != f.message("en")
    assert not own_chinese(audit.read_line("en"), text) and audit.read_line("en").startswith("Read:")
    assert audit.read_line().startswith("已读取：")


def test_cut_off_table_cannot_be_verified_not_a_mismatch(tmp_path):
    for seed in range(5):
        fig, _ = writer.truncate_table(
            writer.random_figures(random.Random(seed)), random.Random(seed)
        )
        findings = audit(tmp_path, writer.render_text(fig))
        assert "REPORT.TABLE_UNVERIFIABLE" in {f.rule_id for f in findings}
        assert not [f for f in findings if f.rule_id == "REPORT.TABLE_TOTAL"]


def test_docx_and_text_give_the_same_findings(tmp_path):
    rng = random.Random(7)
    fig, _ = writer.plant(writer.random_figures(rng), "REPORT.FIGURE_DISAGREES", rng)
    text = tmp_path / "r.txt"
    text.write_text(writer.render_text(fig), encoding="utf-8")
    docx = writer.render_docx(fig, tmp_path / "r.docx")
    assert [f.fingerprint for f in check_report(text).findings] == [
        f.fingerprint for f in check_report(docx).findings
    ]


def test_fingerprints_survive_an_edit_above(tmp_path):
    rng = random.Random(3)
    fig, _ = writer.plant(writer.random_figures(rng), "REPORT.DATE_CONFLICT", rng)
    text = writer.render_text(fig)
    before = {f.fingerprint for f in audit(tmp_path, text)}
    title, rest = text.split("\n", 1)
    after = {f.fingerprint for f in audit(tmp_path, title + "\n本报告经单位负责人审定。\n" + rest)}
    assert before and before == after


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(JIXIAO), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_formats(tmp_path):
    report = SAMPLE / "report.txt"
    as_json = run("check-report", str(report), "--format", "json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    answer = json.loads(as_json.stdout)
    read = answer["coverage"]  # what the findings rest on, beside them
    assert read["tables"] >= 1 and read["figures"] > 0 and read["text"].startswith("已读取")
    assert 0 < read["linked"] <= read["indicators"]
    first, finding = answer["findings"]  # the slip (error), then the warning
    assert first["rule_id"] == "REPORT.FIGURE_DISAGREES" and first["evidence"][0]["line"] > 0
    assert set(finding) == {"rule_id", "severity", "subject", "claimed", "observed", "message",
                            "evidence", "fingerprint", "amount_yuan", "amount_basis", "basis",
                            "suggestion"}  # fmt: skip
    assert finding["amount_yuan"] and "招聘会" in finding["message"]
    assert finding["amount_basis"].endswith(f"= {finding['amount_yuan']:.2f} 元")
    english = run("--lang", "en", "check-report", str(report), "--format", "md", cwd=tmp_path)
    assert english.returncode == 0 and "| severity |" in english.stdout
    assert f"Read: {read['tables']} tables, {read['figures']} figures" in english.stdout
    source = report.read_text(encoding="utf-8")
    assert not own_chinese(english.stdout, source)
    # The slip's other place by its line, each place once: 第 N 行 by default, line N in English.
    slip = first["evidence"][1]["line"]
    assert f"while line {slip} says" in english.stdout and f"而第 {slip} 行为" in first["message"]
    listed = run("--lang", "en", "check-report", str(report), cwd=tmp_path)
    assert listed.returncode == 0 and not own_chinese(listed.stdout, source)
    assert re.search(rf"line {first['evidence'][0]['line']}, line {slip}", listed.stdout)
    html = run("check-report", str(report), "--format", "html", "--programme",
               str(SAMPLE / "programme.yaml"), cwd=tmp_path)  # fmt: skip
    assert html.returncode == 0 and '<table class="fixed">' in html.stdout
    assert f"已读取：表格 {read['tables']} 个" in html.stdout
    assert "http://" not in html.stdout and "https://" not in html.stdout  # works offline
    table = run("check-report", str(report), cwd=tmp_path)
    assert table.returncode == 0 and "共 2 条发现" in table.stdout
    assert f"第 {first['evidence'][0]['line']} 行、第 {slip} 行" in table.stdout
    assert f"数据 {read['figures']} 个" in table.stdout


def test_cli_errors(tmp_path):
    missing = run("check-report", "nowhere.txt", cwd=tmp_path)
    assert missing.returncode == 1 and "找不到报告文件" in missing.stderr
    assert "Traceback" not in missing.stderr
    english = run("--lang", "en", "check-report", "nowhere.txt", cwd=tmp_path)
    assert english.returncode == 1 and english.stderr.strip() == "Error: Report file 'nowhere.txt' not found."
    (tmp_path / "r.pdf").write_bytes(b"%PDF-1.4")
    assert run("check-report", "r.pdf", cwd=tmp_path).returncode == 1
    cut = run("--lang", "en", "check-report", "r.pdf", cwd=tmp_path)
    assert cut.returncode == 1 and not own_chinese(cut.stderr, "")
    assert "Report file 'r.pdf' was not read: the PDF is incomplete" in cut.stderr
    assert (
        run("check-report", str(SAMPLE / "report.txt"), "--format", "pdf", cwd=tmp_path).returncode
        == 2
    )
