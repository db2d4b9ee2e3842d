"""The prose rules real reports need (issue 13), on short texts of our own, and on the
development corpus of real published reports (../shared/corpus/reports/, read when present).

The texts below are invented for the rules they test (a farmers' training programme, a school
subsidy …): no programme vocabulary is given, so every finding rests on the genre's words alone.
"""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from jixiao.checks.report_check import audit_report, check_report
from jixiao.ingest.claims import extract_claims
from jixiao.ingest.report import parse_text
from jixiao.schemas.vocabulary import load_vocabulary

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "reports"
JIXIAO = Path(sys.executable).with_name("jixiao")


def audit(tmp_path: Path, *lines: str):
    path = tmp_path / "report.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return check_report(path)


def found(tmp_path: Path, *lines: str) -> list[tuple[str, str, str, str]]:
    return [(f.rule_id, f.severity, f.claimed, f.observed)
            for f in audit(tmp_path, *lines).findings]  # fmt: skip


TITLE = "某县农民技能培训项目2023年度绩效自评报告"


# --- any programme's indicators, and what a report calls achieved -----------------------------


@pytest.mark.parametrize(
    "phrase", ["本项目已按照计划完成目标。", "各项工作达到预期效果。", "各项指标均按要求完成。",
               "年度任务圆满完成。", "年度绩效目标全面完成。"],
)  # fmt: skip
def test_missed_floor_beside_an_achieved_phrase(tmp_path, phrase):
    text = (TITLE, "一、绩效目标完成情况", "（1）培训农民不少于180人，实际培训164人。", "二、结论", phrase)
    (rule, severity, claimed, observed), *rest = found(tmp_path, *text)
    assert rule == "REPORT.MISSED_TARGET_CLAIMED" and severity == "warning" and not rest
    assert claimed.strip("「」") in phrase and observed == "目标 180人，实际 164人"


def test_a_paragraph_admitting_the_shortfall_claims_nothing(tmp_path):
    text = (TITLE, "一、绩效目标完成情况", "（1）培训农民不少于180人，实际培训164人。",
            "二、结论", "除培训人数外，其余指标均按要求完成。")  # fmt: skip
    assert found(tmp_path, *text) == []


def test_the_actual_of_an_unknown_programme_is_the_figure_after_its_target(tmp_path):
    # No vocabulary word names 培训 or 农民: the target's unit and place link its actual.
    text = (TITLE, "一、绩效目标完成情况", "（1）培训农民不少于180人，共培训164人，完成率95%。")
    ((rule, severity, claimed, observed),) = found(tmp_path, *text)
    assert (rule, severity, claimed) == ("REPORT.RATE_RECOMPUTED", "error", "95%")
    assert observed == "164人 / 180人 = 91.11%"
    # A part of the target's count is no actual of it.
    text = (TITLE, "一、绩效目标完成情况", "（1）培训农民不少于180人，其中女性60人，完成率100%。")
    assert found(tmp_path, *text) == []


def test_completion_above_a_floor_may_be_written_above_100(tmp_path):
    for rate in ("120%", "100%"):  # 480 of 400: the share achieved, or capped
        text = (TITLE, "一、绩效目标完成情况", f"（1）发放教材不少于400套，实际发放480套，完成率{rate}。")
        assert found(tmp_path, *text) == []
    text = (TITLE, "一、绩效目标完成情况", "（1）发放教材不少于400套，实际发放480套，完成率90%。")
    assert [f[0] for f in found(tmp_path, *text)] == ["REPORT.RATE_RECOMPUTED"]


# --- a total and the parts listed after it ------------------------------------------------


def test_inline_parts_against_their_total(tmp_path):
    text = (TITLE, "一、资金情况",
            "下达资金2263.00万元。其中：培训费1435.00万元，教材费25.00万元，补贴803.00万元。")  # fmt: skip
    assert found(tmp_path, *text) == []
    text = (TITLE, "一、资金情况",
            "下达资金2263.00万元。其中：培训费1435.00万元，教材费25.00万元，补贴703.00万元。")  # fmt: skip
    ((rule, severity, claimed, observed),) = found(tmp_path, *text)
    assert (rule, severity, claimed) == ("REPORT.PARTS_TOTAL", "error", "2263.00万元")
    assert observed == "2163万元（1435.00万元 + 25.00万元 + 703.00万元）"


def test_parts_above_their_total_and_counts_of_people(tmp_path):
    text = (TITLE, "一、资金情况", "下达资金50万元，其中：培训费30.00万元，教材费25.00万元。")
    ((rule, severity, claimed, observed),) = found(tmp_path, *text)
    assert (rule, severity, claimed) == ("REPORT.PARTS_TOTAL", "error", "50万元")
    assert observed == "55万元（30.00万元 + 25.00万元）"
    # people may stand in two groups, or in none: a question, not an error
    text = (TITLE, "一、人员情况", "共有学员120人，其中男学员70人、女学员62人。")
    ((rule, severity, claimed, observed),) = found(tmp_path, *text)
    assert (rule, severity, claimed, observed) == (
        "REPORT.PARTS_UNEXPLAINED", "warning", "120人", "132人（70人 + 62人）"
    )  # fmt: skip
    # a part's own breakdown in brackets is no part of the total; a part's name may hold a
    # role word (目标考核奖励) and stay a part
    text = (TITLE, "一、人员情况",
            "现有人员300人，其中机关60人（在职50人、退休10人），站所240人（在职200人、退休40人）。",
            "下达资金50.00万元，其中：培训费20.00万元，目标考核奖励10.00万元，场地费15.00万元。")  # fmt: skip
    assert [f[:3] for f in found(tmp_path, *text)] == [("REPORT.PARTS_TOTAL", "error", "50.00万元")]
    # another figure after the list is no part of it
    text = (TITLE, "一、资金情况", "预算60.00万元，其中：培训费35.00万元，教材费25.00万元；实际支出55.00万元。")
    assert found(tmp_path, *text) == []


def test_parts_short_of_a_total_the_text_calls_partial_are_a_warning(tmp_path):
    text = (TITLE, "一、资金情况",
            "预算资金200万元，主要用于培训、教材、场地等，三个部分分别120万元、40万元、20万元，"
            "分别占预算资金的60%、20%、10%。")  # fmt: skip
    ((rule, severity, claimed, observed),) = found(tmp_path, *text)
    assert (rule, severity, claimed) == ("REPORT.PARTS_UNEXPLAINED", "warning", "200万元")
    assert observed.startswith("180万元")
    # Unqualified, the same shortfall is an error; a share that is not part / total is too.
    text = (TITLE, "一、资金情况",
            "预算资金200万元，三个部分分别120万元、40万元、20万元，分别占预算资金的60%、25%、10%。")  # fmt: skip
    assert {(f[0], f[1], f[2]) for f in found(tmp_path, *text)} == {
        ("REPORT.PARTS_TOTAL", "error", "200万元"),
        ("REPORT.RATE_RECOMPUTED", "error", "25%"),
    }


def test_what_a_breakdown_leaves_alone(tmp_path):
    text = (
        TITLE,
        "一、收支情况",
        # a change from last year is no part; one part alone may be all of it
        "收入：500.00万元。同比增加80.00万元，增加19.05%。其中：财政拨款收入500.00万元，同比增加90.00万元。",
        # an item of the list with no figure may hold the rest
        "总投资30.00万元。其中设备采购12.00万元，场地改造10.00万元，其余用于人员培训。",
        # shares of the total, and the total restated after the parts
        "年度总支出为80.00万元（其中：基本支出20.00万元，占总支出的25.00%；项目支出60.00万元，"
        "占总支出的75.00%）。",
        "总投资9万元，其中场地改造4800元，设备采购20套，合计9万元。",
    )
    assert found(tmp_path, *text) == []


# --- a stated count against the items named after it -------------------------------------


def test_a_count_against_the_list_after_it(tmp_path):
    text = (TITLE, "一、机构情况", "下设服务站5个，即东站、西站、南站、北站。")
    ((rule, severity, claimed, observed),) = found(tmp_path, *text)
    assert (rule, severity) == ("REPORT.INCOMPLETE", "warning")
    assert (claimed, observed) == ("「下设服务站5个」", "其后列出 4 个")
    for consistent in (
        "下设服务站4个，即东站、西站、南站、北站。",
        "承担单位有3个，分别为农技中心、农广校和职教中心。",  # 和 joins the last two
        "下设科室6个，包括办公室、财务室、培训科等。",  # 等: a partial list
    ):
        assert found(tmp_path, TITLE, "一、机构情况", consistent) == []


# --- one document, one fund: one sum ------------------------------------------------------


def test_the_sum_a_document_allocated_stated_twice(tmp_path):
    text = (
        TITLE,
        "一、基本情况",
        "根据《关于下达2023年农民培训资金的通知》（某财农〔2023〕15号），下达资金50万元。",
        "二、资金使用",
        "按某财农〔2023〕15号文件，下达资金45万元。",
    )
    ((rule, severity, claimed, observed),) = found(tmp_path, *text)
    assert (rule, severity, claimed, observed) == ("REPORT.FIGURE_DISAGREES", "error", "50万元", "45万元")
    assert "财农〔2023〕15号" in audit(tmp_path, *text).findings[0].message()
    # the same document allocating the same sum, and a law cited for unrelated sums, agree
    text = (*text[:4], "按某财农〔2023〕15号文件，下达资金50万元。",
            "依据《农民教育培训条例》，教材费5万元。")  # fmt: skip
    assert found(tmp_path, *text) == []


def test_a_fund_stated_twice(tmp_path):
    text = (TITLE, "一、基本情况", "本项目中央资金28.1万元，省级资金5万元。",
            "二、资金使用", "中央资金30.1万元用于采购设备。")  # fmt: skip
    assert [f[:4] for f in found(tmp_path, *text)] == [
        ("REPORT.FIGURE_DISAGREES", "error", "28.1万元", "30.1万元")
    ]
    # a use of the fund is a part of it, not its amount
    text = (*text[:4], "中央资金用于采购设备25.1万元。")
    assert found(tmp_path, *text) == []


def test_a_target_after_a_breakdown_is_no_part_of_it(tmp_path):
    line = "全年培训农民210人，其中女性80人，目标为不少于200人。"
    assert found(tmp_path, TITLE, "一、绩效目标完成情况", line) == []


def test_an_execution_rate_against_spent_over_the_sum(tmp_path):
    line = "本项目预算资金650万元，实际支出94万元，为预算金额的{}。"
    assert found(tmp_path, TITLE, "一、预算执行情况", line.format("14.46%")) == []
    ((rule, severity, claimed, observed),) = found(tmp_path, TITLE, "一、预算执行情况",
                                                   line.format("16.46%"))  # fmt: skip
    assert (rule, severity, claimed) == ("REPORT.RATE_RECOMPUTED", "error", "16.46%")
    assert observed == "94万元 / 650万元 = 14.46%"
    # three sums: which two the rate divides is not said
    three = "预算资金650万元，追加资金50万元，实际支出94万元，执行率16.46%。"
    assert found(tmp_path, TITLE, "一、预算执行情况", three) == []


# --- count × standard against the programme's money ---------------------------------------

SCHOOL = (
    "某县特殊教育补助资金2023年度绩效自评报告",
    "一、执行情况",
    "2023年项目资金总额3.20万元，拨付使用资金3.20万元，执行率100%。",
    "二、产出",
    "应补助学生8人，实际补助学生{n}人。",
    "补助资金人均补助标准为0.40万元/生.年。",
)


def test_count_times_standard_against_the_money_stated(tmp_path):
    assert found(tmp_path, *SCHOOL[:4], SCHOOL[4].format(n=8), SCHOOL[5]) == []
    text = (*SCHOOL[:4], SCHOOL[4].replace("8人", "9人").format(n=9), SCHOOL[5])
    ((rule, severity, claimed, observed),) = found(tmp_path, *text)
    assert (rule, severity) == ("REPORT.PRODUCT_TOTAL", "warning")
    assert (claimed, observed) == ("9人 × 0.40万元/生 = 3.60万元", "3.20万元")
    # two head-counts: which one the standard multiplies is not said
    text = (*text, "另有教师2人参加补助政策培训。")
    assert found(tmp_path, *text) == []


# --- coverage, never silence ----------------------------------------------------------------


def test_what_was_read_and_what_was_not(tmp_path):
    report = audit(tmp_path, TITLE, "一、资金情况", "预算资金20万元，执行20万元。",
                   "年度资金总额 20 20 100 10 10")  # fmt: skip
    read = report.coverage
    assert (read.tables, read.figures, read.bare_lines, read.bare_numbers) == (0, 2, (4,), 5)
    assert report.findings == []
    line = report.read_line()
    assert line.startswith("已读取：表格 0 个，数据 2 个") and "第 4 行共 5 个无单位的数字" in line
    assert "Not read: 5 numbers without a unit on line 4" in report.read_line("en")
    clean = audit(tmp_path, TITLE, "一、目标", "（1）培训农民不少于180人，实际培训190人。")
    assert clean.coverage.line() == (
        "已读取：表格 0 个，数据 2 个，指标 1 个（1 个已关联实际值）。未读取：无。"
    )


def test_an_unread_or_absent_report_says_so(tmp_path):
    (tmp_path / "r.docx").write_bytes(b"not a zip")
    unread = audit_report(tmp_path / "r.docx")
    assert unread.coverage is None and "未能读取" in unread.read_line()


def test_zero_findings_only_beside_a_coverage_line(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text(f"{TITLE}\n一、目标\n（1）培训农民不少于180人，实际培训190人。\n", encoding="utf-8")
    for fmt, said in (("table", "已读取"), ("md", "已读取"), ("html", "已读取"), ("json", '"coverage"')):
        run = subprocess.run([str(JIXIAO), "check-report", str(path), "--format", fmt],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert said in run.stdout and "表格 0 个" in run.stdout, fmt
        if fmt != "json":
            assert "共 0 条发现" in run.stdout, fmt


# --- the genre's words in the vocabulary ----------------------------------------------------


def test_the_genres_words_need_no_programme_vocabulary():
    vocab = load_vocabulary()
    claims = extract_claims(parse_text(
        "一、资金\n全年预算资金6.00万元，其中：中央配套4.00万元，省级配套2.00万元。执行预算资金6.00万元。\n"
    ), vocab)  # fmt: skip
    assert [(c.text, c.subject, c.role) for c in claims] == [
        ("6.00万元", "budget", None),
        ("4.00万元", "central_funds", None),
        ("2.00万元", "provincial_funds", None),
        ("6.00万元", "budget", "actual"),  # 执行预算: an actual, not a budget
    ]
    text = "一、资金\n全年预算资金6.00万元，其中：中央配套4.00万元。\n"
    first, second = extract_claims(parse_text(text), vocab)
    assert text.split("\n")[1][first.start :].startswith("6.00万元")
    assert text.split("\n")[1][second.start :].startswith("4.00万元")


def test_a_target_reached_for_is_no_actual(tmp_path):
    # 达到 says what a target asks as often as what was done: under 绩效目标 it is a target,
    # never an actual to set against the one reported.
    text = (TITLE, "一、绩效目标", "培训合格率达到95%。", "二、完成情况", "培训合格率实际为92%。")
    assert found(tmp_path, *text) == []


def test_a_programme_adds_achieved_phrases():
    vocab = load_vocabulary({"achieved": {"phrases": ["任务全部落实"], "except": ["尚有"]}})
    assert [h.value for h in vocab.achieved.hits("年度任务全部落实，圆满完成")] == [
        "任务全部落实", "圆满完成"
    ]  # fmt: skip
    assert "尚有" in vocab.achieved_except and "未完成" in vocab.achieved_except


# --- the development corpus: real published reports -----------------------------------------


def _key() -> dict:
    if not (CORPUS / "key.yaml").exists():
        pytest.skip(f"the development corpus {CORPUS} is not in this checkout")
    return yaml.safe_load((CORPUS / "key.yaml").read_text(encoding="utf-8"))


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Contradictions whose rule reads tables (a total row against its 其中 rows) are the table
# rules' to find (checks/report_tables.py); every other one is the prose rules'.
_TABLE_RULES = ("REPORT.TABLE_TOTAL",)


def _numbers(*texts: str) -> set[Decimal]:
    return {Decimal(n).normalize() for t in texts for n in _NUMBER.findall(t)}


def _prose_findings(report):
    """The findings resting on paragraphs only (table rules are another suite's)."""
    lines = {p.line for p in report.document.paragraphs}
    return [f for f in report.findings if f.evidence and all(e.line in lines for e in f.evidence)]


def _about(finding, entry: dict) -> bool:
    """Whether a finding is about a key entry: it states one of the entry's figures."""
    quoted = _numbers(*(str(v) for k, v in entry.items() if k.startswith("quote")))
    return bool(_numbers(finding.claimed, finding.observed) & quoted)


@pytest.mark.parametrize("name", ["R02", "R03", "R04", "R06", "R07", "R08", "R11", "R12", "R13",
                                  "R15", "R16", "R20"])  # fmt: skip
def test_corpus_report(name):
    key = _key()
    if name not in key or not (CORPUS / f"{name}.txt").exists():
        pytest.skip(f"{name} is not in the development corpus {CORPUS}")
    entry = key[name]
    report = check_report(CORPUS / f"{name}.txt")
    prose = _prose_findings(report)
    for c in entry.get("contradictions") or []:
        if not str(c["rule"]).startswith(_TABLE_RULES):
            assert any(_about(f, c) for f in prose), (c["id"], [f.message() for f in prose])
    for f in prose:  # a trap or a consistent figure gets no finding; a suspect no error
        contradiction = any(_about(f, c) for c in entry.get("contradictions") or [])
        suspect = any(_about(f, s) for s in entry.get("suspects") or [])
        assert contradiction or suspect, (name, f.message())
        assert contradiction or f.severity != "error", (name, f.message())
    assert report.read_line().startswith("已读取")  # never "0 findings" alone


def test_corpus_prose_contradictions_all_found():
    """The count the issue asks for: every prose-side contradiction of the key is found."""
    key = _key()
    wanted = found_ = 0
    for name, entry in key.items():
        path = CORPUS / f"{name}.txt"
        contradictions = [c for c in entry.get("contradictions") or []
                          if not str(c["rule"]).startswith(_TABLE_RULES)]  # fmt: skip
        if not contradictions or not path.exists():
            continue
        prose = _prose_findings(check_report(path))
        wanted += len(contradictions)
        found_ += sum(any(_about(f, c) for f in prose) for c in contradictions)
    assert wanted >= 2 and found_ == wanted
