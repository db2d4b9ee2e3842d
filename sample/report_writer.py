"""Write a self-evaluation report (绩效自评报告) from figures: clean, or with one planted fault.

``ReportFigures`` describes a report as data: budget lines, indicators with target and
actual, the level-1 score table, the survey's answer counts, dates and names. Everything a
report derives (totals, shares, scores, rates, the grade, the lowest question, whether every
target was met) is computed from those figures when rendering, so a clean report is
internally consistent by construction under DESIGN's rounding rule: every derived figure is
the exact value rounded half-up to the places it is written with.

Faults are written, not computed: ``ReportFigures.overrides`` maps a *slot* (one place where
the renderer writes a figure or phrase) to the text written there instead. ``plant`` sets one
slot, or changes a figure where the fault is a scenario rather than a slip (a missed target
described as met, a line spent in full for little output), and returns a ``Planted`` record.

Slots the renderer honours (``<id>`` an indicator id, ``<code>`` a budget line, ``q<n>`` a
question, ``<X>`` an answer A–E)::

    counties.summary.<id>  counties.process.<id>       counties in 项目概况 / in 项目实施
    budget.<code>.allocated  budget.<code>.standard     a line's 下达 / unit standard in the text
    budget.<code>.spent  budget.breakdown.omitted       a line's part of 实际使用 / one left out
    basics.standard                                     lines added to 项目概况
    table.budget.total.balance  table.budget.cut         结余 of the 合计 row / rows kept
    survey.q<n>.share.<X>  survey.q<n>.share.total  survey.q<n>.score.<X>
    indicator.<id>.rate  indicator.<id>.reported        完成率 / "no" leaves it out
    deadline.<id>.process  indicators.count  appendix.year  office.evaluation
    grade  ranking.question  claim.all_achieved
    form.funds.<col>  form.funds.<n>.<col>               自评表 年度资金总额 / its n-th 其中 row
    form.level.<一级指标>  form.indicator.<id>.<col>       a level's label / an indicator's cell
    form.total.weight  form.total.score  form.grade      总分 and 自评等级

With ``ReportFigures.form`` the report carries, as 附表2 on a page of its own, the national
项目支出绩效自评表 filled from the same figures (``form_scores``): 项目资金 with 年度资金总额
then 其中 财政拨款 / 其他资金, the indicators under 一级 / 二级指标 merged down the rows, 总分
and 自评等级. ``plant(…, in_form=True)`` plants a fault in it (``FORM_PLANTABLE``): the
form's own rules, and the rate, total and grade rules as they read a form.

Text follows SPEC §1.3: headings 一、/（一）/1./（1）, a table as one cell per line each
starting with a tab (a merged cell an empty one), rows separated by a blank line, a caption
above (and 单位：万元 for money). The .docx carries the same paragraphs and real Word tables in
the same order, cells merged across and down as Word merges them; the flattened text
(``render_flat_text``) the same with each row ``cell | cell | … |`` as a web page flattens it
(a merged cell once); the PDF (``render_pdf``, fpdf2 and an installed Chinese font) the same
as Word prints it, with a text layer and ruled tables (spans as spans); the workbook
(``render_xlsx``) the 自评表 alone, as offices publish it, merged ranges and all. Round trips
read every form back.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from jixiao.publish.files import stable_zip, workbook_bytes

ANSWERS = "ABCDE"
ANSWER_LABELS = ("A（非常满意）", "B（满意）", "C（一般）", "D（不满意）", "E（很不满意）")
DEFAULT_WEIGHTS = tuple(Decimal(w) for w in (10, 8, 6, 4, 2))
EXECUTION_ID = "budget_execution"  # actual = spent / budget, kept in step by _refresh
SATISFACTION_ID = "satisfaction"  # actual = the survey's overall score
COUNT_UNITS = frozenset({"场", "户", "人", "家", "期", "次", "台", "件", "起", "人次", "个"})
UNVERIFIABLE = "REPORT.TABLE_UNVERIFIABLE"


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class BudgetLine:
    code: str
    name: str
    allocated: Decimal  # 元, exact
    spent: Decimal  # 元, exact
    indicator: str | None = None  # the output indicator this line pays for
    standard: Decimal | None = None  # 元 per unit of that indicator: actual × standard = spent
    standard_indicator: str | None = None  # an indicator stating the same standard

    @property
    def balance(self) -> Decimal:
        return self.allocated - self.spent


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    level1: str
    subject: str  # what it counts, e.g. 招聘会
    unit: str = ""  # measure word or unit: 场, 户, 人, %, 元, 家, 分; "" for a deadline
    target: Decimal | None = None
    actual: Decimal | None = None  # as written (a percentage already rounded to 2 places)
    bound: str = ">="  # ">=" a floor, "<=" a ceiling, "by" a deadline
    deadline: dt.date | None = None
    done_on: dt.date | None = None
    of_people: str | None = None  # a percentage of the head-count of this indicator
    group: str = ""  # its 二级指标 in the 自评表 when its figures do not tell (社会效益指标)

    @property
    def achieved(self) -> bool:
        if self.bound == "by":
            return (
                self.done_on is not None
                and self.deadline is not None
                and self.done_on <= self.deadline
            )
        if self.bound == "<=":
            return self.actual <= self.target
        return self.actual >= self.target

    @property
    def rate(self) -> Decimal | None:
        """完成率 in %, 2 places: capped at 100 for a floor; None for a deadline."""
        if self.bound == "by":
            return None
        t, a = Fraction(self.target), Fraction(self.actual)
        if self.bound == ">=":
            exact = Fraction(100) if a >= t else a / t * 100
        elif a <= t:
            exact = Fraction(100)
        else:  # SCORING.md, lower is better: w × (1 − (actual − target) / target), floored at 0
            exact = max(Fraction(0), (1 - (a - t) / t) * 100) if t else Fraction(0)
        return round_half_up(exact)


@dataclass(frozen=True)
class Activity:
    indicator: str  # the indicator it counts towards
    does: str  # what a county did, e.g. 举办残疾人就业专场招聘会
    counties: int


@dataclass(frozen=True)
class Level1:
    name: str
    weight: Decimal
    score: Decimal


@dataclass(frozen=True)
class Question:
    text: str
    counts: tuple[int, int, int, int, int]  # answers A–E


@dataclass(frozen=True)
class ReportFigures:
    unit: str
    office: str  # 承办处室
    programme: str  # without unit and year, e.g. 残疾人就业服务（对下）补助项目
    year: int
    report_date: dt.date
    eval_start: dt.date
    eval_end: dt.date
    budget_lines: tuple[BudgetLine, ...]
    indicators: tuple[Indicator, ...]
    activities: tuple[Activity, ...]
    level1: tuple[Level1, ...]
    questions: tuple[Question, ...]
    weights: tuple[Decimal, ...] = DEFAULT_WEIGHTS  # points per answer A–E
    appendix_title: str = "绩效指标完成情况表"
    form: bool = False  # whether the report carries the national 自评表 as 附表2
    other_funds: Decimal = Decimal(0)  # 元 of the budget not from the treasury, spent in full
    overrides: Mapping[str, str] = field(default_factory=dict)  # slot -> text written instead

    def indicator(self, ind_id: str) -> Indicator:
        return next(i for i in self.indicators if i.id == ind_id)

    @property
    def budget_total(self) -> Decimal:
        return sum((b.allocated for b in self.budget_lines), Decimal(0))

    @property
    def spent_total(self) -> Decimal:
        return sum((b.spent for b in self.budget_lines), Decimal(0))

    @property
    def execution_rate(self) -> Decimal:
        return round_half_up(Fraction(self.spent_total) / Fraction(self.budget_total) * 100)

    @property
    def score_total(self) -> Decimal:
        return sum((lv.score for lv in self.level1), Decimal(0))

    @property
    def grade(self) -> str:
        return grade_for(self.score_total)

    @property
    def respondents(self) -> int:
        return sum(self.questions[0].counts)

    def question_score(self, n: int) -> Fraction:
        return question_score(self.questions[n].counts, self.weights)

    @property
    def satisfaction(self) -> Decimal:
        return round_half_up(sum(self.question_score(n) for n in range(len(self.questions))))

    @property
    def lowest_question(self) -> int:
        return min(range(len(self.questions)), key=self.question_score)

    @property
    def missed(self) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if not i.achieved)

    @property
    def process_level1(self) -> str:
        """The level-1 under which budget execution is analysed (项目管理 / 过程)."""
        for ind in self.indicators:
            if ind.id == EXECUTION_ID:
                return ind.level1
        return self.level1[min(1, len(self.level1) - 1)].name


@dataclass(frozen=True)
class Planted:
    rule_id: str
    subject: str  # as findings name it: indicator:<id>, budget:<code>, survey:q2, …
    description: str
    # Other rules the same single edit unavoidably contradicts too (a share changed without its
    # count also breaks share × weight); a checker may report them beside rule_id.
    collateral: tuple[str, ...] = ()


def round_half_up(value: Fraction | Decimal | int, places: int = 2) -> Decimal:
    """Exact half-up rounding (no float, no double rounding)."""
    scaled = Fraction(value) * 10**places
    return Decimal(math.floor(scaled + Fraction(1, 2))).scaleb(-places)


def question_score(counts: tuple[int, ...], weights: tuple[Decimal, ...]) -> Fraction:
    """A question's exact score: Σ share × weight."""
    return sum(Fraction(c) * Fraction(w) for c, w in zip(counts, weights, strict=True)) / sum(
        counts
    )


def grade_for(score: Decimal) -> str:
    return "优" if score >= 90 else "良" if score >= 80 else "中" if score >= 60 else "差"


# ---------------------------------------------------------------- formatting


def _f2(value: Fraction | Decimal | int) -> str:
    return f"{round_half_up(value):.2f}"


def _pct(value: Fraction | Decimal | int) -> str:
    return _f2(value) + "%"


def _num(value: Decimal | int) -> str:
    """A figure as typed: 9, 400, 57.5."""
    d = Decimal(value)
    return str(int(d)) if d == d.to_integral_value() else format(d.normalize(), "f")


def _wan(yuan: Decimal) -> str:
    """元 as 万元, 2 places, more only when needed to stay exact."""
    wan = Decimal(yuan).scaleb(-4)
    return f"{wan:.2f}" if wan == wan.quantize(Decimal("0.01")) else format(wan.normalize(), "f")


def _date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _cn(n: int) -> str:
    """Chinese numeral for 0–99 (十四, 二十), as reports write head-counts of counties."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n >= 100:
        return str(n)
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _target_words(ind: Indicator, deadline: str | None = None) -> str:
    if ind.bound == "by":
        return f"{deadline or _date(ind.deadline)}前完成"
    counted = ind.unit in COUNT_UNITS
    word = {">=": "不少于" if counted else "不低于", "<=": "不超过" if counted else "不高于"}[
        ind.bound
    ]
    return f"{word}{_num(ind.target)}{ind.unit}"


def _actual_words(ind: Indicator) -> str:
    if ind.bound == "by":
        return _date(ind.done_on)
    if ind.unit == "%":
        return f"{_f2(ind.actual)}%"
    if ind.unit == "分":
        return f"{_f2(ind.actual)}分"
    return f"{_num(ind.actual)}{ind.unit}"


# ---------------------------------------------------------------- rendering: blocks


@dataclass(frozen=True)
class _Para:
    text: str
    style: str = "Normal"
    new_page: bool = False  # starts a page (Word's 段前分页), as a form attached to a report does


@dataclass(frozen=True)
class _Table:
    caption: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # row 0 is the header
    keep: int | None = None  # cut off: header + this many rows, then the next row's first cells
    # Merged ranges (first row, first column, last row, last column): the cells a range
    # covers beyond its first hold "" (the text form writes a merged cell as an empty one).
    merges: tuple[tuple[int, int, int, int], ...] = ()

    def covered(self) -> set[tuple[int, int]]:
        """The cells merged into another: Word, a PDF and a page show none of them."""
        return {(r, c) for r1, c1, r2, c2 in self.merges for r in range(r1, r2 + 1)
                for c in range(c1, c2 + 1) if (r, c) != (r1, c1)}  # fmt: skip

    def visible(self) -> list[tuple[str, ...]]:
        if self.keep is None:
            return list(self.rows)
        partial = self.rows[self.keep + 1]
        return [*self.rows[: self.keep + 1], partial[: max(1, len(partial) // 2)]]


class _Writer:
    def __init__(self, fig: ReportFigures):
        self.fig = fig
        self.blocks: list[_Para | _Table] = []

    def say(self, slot: str, default: str) -> str:
        return self.fig.overrides.get(slot, default)

    def p(self, text: str, style: str = "Normal") -> None:
        self.blocks.append(_Para(text, style))

    def table(
        self,
        caption: tuple[str, ...],
        rows: list[list[str]],
        keep: int | None = None,
        merges: tuple[tuple[int, int, int, int], ...] = (),
    ) -> None:
        self.blocks.append(_Table(caption, tuple(tuple(r) for r in rows), keep, merges))


def _blocks(fig: ReportFigures) -> list[_Para | _Table]:
    w = _Writer(fig)
    reported = [i for i in fig.indicators if w.say(f"indicator.{i.id}.reported", "yes") != "no"]
    claims_all = w.say("claim.all_achieved", "yes" if not fig.missed else "no") == "yes"
    _title(w)
    _basics(w)
    _evaluation_work(w)
    _conclusion(w, claims_all)
    _analysis(w, reported)
    _survey(w)
    _problems(w, claims_all)
    w.p(fig.unit)
    w.p(_date(fig.report_date))
    _appendix(w, reported)
    if fig.form:
        _form(w)
    return w.blocks


def _title(w: _Writer) -> None:
    fig = w.fig
    w.p(fig.unit, "Title")
    w.p(fig.programme, "Title")
    w.p(f"{fig.year}年度绩效自评报告", "Title")


def _does(w: _Writer, where: str, numeral: Callable[[int], str]) -> str:
    return "，".join(
        f"{w.say(f'counties.{where}.{a.indicator}', numeral(a.counties))}个县（市、区）{a.does}"
        for a in w.fig.activities
    )


def _basics(w: _Writer) -> None:
    fig = w.fig
    w.p("一、项目基本情况", "Heading 1")
    w.p("（一）项目概况", "Heading 2")
    does = [a.does for a in fig.activities]
    listed = "、".join(does[:-1]) + ("和" if len(does) > 1 else "") + does[-1]
    w.p(f"本项目由{fig.unit}组织实施，资金用于支持各县（市、区）{listed}。")
    w.p(f"本年度，{_does(w, 'summary', _cn)}。")
    omitted = w.say("budget.breakdown.omitted", "")  # a line left out of a list called partial
    parts = "，".join(
        f"{line.name}{w.say(f'budget.{line.code}.spent', _wan(line.spent))}万元"
        for line in fig.budget_lines
        if line.code != omitted
    )
    listed = f"其中主要用于：{parts}等" if omitted else f"其中：{parts}"
    w.p(f"全年项目资金实际使用{_wan(fig.spent_total)}万元，{listed}。")
    for text in filter(None, w.say("basics.standard", "").split("\n")):
        w.p(text)

    w.p("（二）预算执行情况", "Heading 2")
    w.p(
        f"本项目年度预算{_wan(fig.budget_total)}万元，实际支出{_wan(fig.spent_total)}万元，"
        f"预算执行率{_pct(fig.execution_rate)}。按支出事项分列如下："
    )
    for n, line in enumerate(fig.budget_lines, 1):
        allocated = w.say(f"budget.{line.code}.allocated", _wan(line.allocated))
        text = f"{n}.{line.name}：下达{allocated}万元，使用{_wan(line.spent)}万元"
        if line.standard is not None:
            ind = fig.indicator(line.indicator)
            standard = w.say(f"budget.{line.code}.standard", _num(line.standard))
            text += (
                f"，按每{ind.unit}{standard}元的标准计{_num(ind.actual)}{ind.unit}，"
                f"合计{_wan(line.spent)}万元"
            )
        w.p(text + "。")

    w.p("（三）绩效目标", "Heading 2")
    count = w.say("indicators.count", str(len(fig.indicators)))
    w.p(f"本项目共设置{count}项绩效指标，具体如下：")
    for n, ind in enumerate(fig.indicators, 1):
        w.p(f"{n}.{ind.name}：{_target_words(ind)}。")

    w.p("（四）组织实施情况", "Heading 2")
    w.p("1.组织管理")
    w.p(
        f"项目由{fig.unit}{fig.office}具体负责，承担资金分配、工作督导和资料汇总；"
        "各县（市、区）按要求组织实施并报送相关资料。"
    )
    w.p("2.实施流程")
    deadlines = [i for i in fig.indicators if i.bound == "by"]
    for n, ind in enumerate(deadlines, 1):
        when = w.say(f"deadline.{ind.id}.process", _date(ind.deadline))
        w.p(f"（{n}）{when}前，{ind.name}。")
    if not deadlines:
        w.p("各项工作按年度计划推进，年底前全部办结。")


def _evaluation_work(w: _Writer) -> None:
    fig = w.fig
    w.p("二、绩效评价工作情况", "Heading 1")
    w.p("（一）评价目的", "Heading 2")
    w.p(
        "通过自评核实资金使用和目标完成情况，查找项目管理中的薄弱环节，为以后年度预算安排和项目管理提供参考。"
    )
    w.p("（二）评价方法", "Heading 2")
    w.p(
        "评价采用比较法和公众评判法，对照年初设定的绩效目标逐项核实，结合资料核查、现场抽查和问卷调查结果打分。"
    )
    w.p("（三）评价过程", "Heading 2")
    office = w.say("office.evaluation", fig.office)
    w.p(
        f"本次评价由{fig.unit}{office}组织开展，自{_date(fig.eval_start)}起至"
        f"{_date(fig.eval_end)}止，完成了资料收集、数据核实、问卷调查和评分工作。"
    )


def _conclusion(w: _Writer, claims_all: bool) -> None:
    fig = w.fig
    w.p("三、评价结论和绩效分析", "Heading 1")
    w.p("（一）评价结论", "Heading 2")
    grade = w.say("grade", fig.grade)
    w.p(f"经评价，本项目自评得分{_f2(fig.score_total)}分，评价等级为“{grade}”。")
    if claims_all:
        w.p("本年度设定的绩效目标已全部完成。")
    else:
        names = "、".join(f"“{i.name}”" for i in fig.missed)
        w.p(f"有{len(fig.missed)}项绩效指标未达到目标值：{names}。")
    w.p(f"评分按{_cn(len(fig.level1))}个一级指标进行，得分情况见下表。")
    rows = [["一级指标", "权重分", "得分", "扣分", "得分率"]]
    for lv in fig.level1:
        rows.append(
            [lv.name, _f2(lv.weight), _f2(lv.score), _f2(lv.weight - lv.score),
             _pct(Fraction(lv.score) / Fraction(lv.weight) * 100)]
        )  # fmt: skip
    weight = sum((lv.weight for lv in fig.level1), Decimal(0))
    rows.append(
        ["合计", _f2(weight), _f2(fig.score_total), _f2(weight - fig.score_total),
         _pct(Fraction(fig.score_total) / Fraction(weight) * 100)]
    )  # fmt: skip
    w.table(("一级指标得分情况表",), rows)


def _appendix_name(w: _Writer) -> str:
    fig = w.fig
    return f"{fig.programme}{fig.appendix_title}（{w.say('appendix.year', str(fig.year))}年度）"


def _analysis(w: _Writer, reported: list[Indicator]) -> None:
    fig = w.fig
    w.p("（二）具体绩效分析", "Heading 2")
    w.p(f"各项指标的完成情况详见附表1《{_appendix_name(w)}》。")
    for n, lv in enumerate(fig.level1, 1):
        w.p(f"{n}.{lv.name}（满分{_num(lv.weight)}分，得分{_num(lv.score)}分）")
        items = 0
        if lv.name == fig.process_level1:
            w.p("（1）资金管理")
            w.p(
                f"本项目年度预算{_wan(fig.budget_total)}万元，实际支出{_wan(fig.spent_total)}万元，"
                "资金使用明细如下："
            )
            _budget_table(w)
            w.p("（2）组织实施")
            w.p(f"从实施情况看，{_does(w, 'process', str)}。")
            items = 2
        mine = [i for i in reported if i.level1 == lv.name]
        for ind in mine:
            items += 1
            w.p(f"（{items}）{_indicator_analysis(w, ind)}")
        if not items:
            w.p("项目立项依据充分，决策程序规范，绩效目标设置明确、可衡量。")


def _indicator_analysis(w: _Writer, ind: Indicator) -> str:
    fig = w.fig
    if ind.bound == "by":
        on_time = "按期完成" if ind.achieved else "未按期完成"
        return f"{ind.name}：目标{_target_words(ind)}，实际于{_date(ind.done_on)}完成，{on_time}。"
    if ind.of_people:
        actual = f"实际为{_f2(ind.actual)}%（共{_num(fig.indicator(ind.of_people).actual)}人）"
    elif ind.unit in COUNT_UNITS and ind.bound == ">=":
        actual = f"实际完成{_actual_words(ind)}"
    else:
        actual = f"实际为{_actual_words(ind)}"
    rate = w.say(f"indicator.{ind.id}.rate", _pct(ind.rate))
    text = f"{ind.name}：目标{_target_words(ind)}，{actual}，完成率{rate}。"
    if (
        ind.bound == ">="
        and ind.target
        and Fraction(ind.actual) >= Fraction(ind.target) * Fraction(13, 10)
    ):
        text += (
            "实际完成值明显高于目标值，目标设定偏于保守，以后年度将据实调整。"  # SCORING: explain
        )
    return text


def _budget_table(w: _Writer) -> None:
    fig = w.fig
    rows = [["序号", "项目名称", "下达金额", "使用经费", "结余经费"]]
    for n, line in enumerate(fig.budget_lines, 1):
        rows.append([str(n), line.name, _wan(line.allocated), _wan(line.spent), _wan(line.balance)])
    balance = w.say("table.budget.total.balance", _wan(fig.budget_total - fig.spent_total))
    rows.append(["合计", "", _wan(fig.budget_total), _wan(fig.spent_total), balance])
    keep = w.say("table.budget.cut", "")
    caption = (f"{fig.programme}支出明细表（{fig.year}年度）", "单位：万元")
    w.table(caption, rows, int(keep) if keep else None)


def _survey(w: _Writer) -> None:
    fig = w.fig
    n_resp, n_q = fig.respondents, len(fig.questions)
    w.p("（三）满意度调查", "Heading 2")
    weights = "、".join(_num(x) for x in fig.weights)
    w.p(
        f"本次共发放问卷{n_resp}份，收回有效问卷{n_resp}份。问卷共{n_q}个问题，每题满分"
        f"{_num(fig.weights[0])}分，A至E五个选项依次计{weights}分。"
    )
    w.p(f"满意度综合得分为{_f2(fig.satisfaction)}分。")
    low = int(w.say("ranking.question", str(fig.lowest_question + 1))) - 1
    w.p(
        f"从各题得分看，第{low + 1}题“{fig.questions[low].text}”得分最低，为"
        f"{_f2(fig.question_score(low))}分，今后将在该方面重点改进。"
    )
    rows = [["问卷题目", "项目", *ANSWER_LABELS, "合计"]]
    for n, q in enumerate(fig.questions, 1):
        total = sum(q.counts)
        shares = [
            w.say(f"survey.q{n}.share.{x}", _pct(Fraction(c, total) * 100))
            for x, c in zip(ANSWERS, q.counts, strict=True)
        ]
        scores = [
            w.say(f"survey.q{n}.score.{x}", _f2(Fraction(c) * Fraction(wt) / total))
            for x, c, wt in zip(ANSWERS, q.counts, fig.weights, strict=True)
        ]
        rows.append([f"{n}.{q.text}", "人数", *map(str, q.counts), str(total)])
        rows.append(["", "占比", *shares, w.say(f"survey.q{n}.share.total", "100.00%")])
        rows.append(["", "分数", *scores, _f2(fig.question_score(n - 1))])
    sums = [sum(q.counts[k] for q in fig.questions) for k in range(len(ANSWERS))]
    answers = sum(sums)
    rows.append(["合计", "人数", *map(str, sums), str(answers)])
    rows.append(["", "占比", *(_pct(Fraction(s, answers) * 100) for s in sums), "100.00%"])
    # An answer's score summed over questions: weight × its count over the respondents.
    rows.append(
        ["", "分数", *(_f2(Fraction(s) * Fraction(wt) / n_resp) for s, wt in zip(sums, fig.weights, strict=True)),
         _f2(fig.satisfaction)]
    )  # fmt: skip
    w.table((f"{fig.programme}满意度调查统计表（{fig.year}年度）",), rows)


def _problems(w: _Writer, claims_all: bool) -> None:
    fig = w.fig
    w.p("四、存在的问题和改进措施", "Heading 1")
    w.p("（一）存在的问题", "Heading 2")
    if fig.missed and not claims_all:
        names = "、".join(f"“{i.name}”" for i in fig.missed)
        w.p(
            f"{names}未达到年度目标，主要原因是部分活动受客观因素影响延期或取消，应对措施不够有力。"
        )
    else:
        w.p("项目总体执行顺利，但过程资料归集不够及时，部分基层单位绩效管理能力有待提高。")
    w.p("（二）改进措施", "Heading 2")
    w.p("1.加强对县（市、区）工作进度的跟踪督导，发现偏差及时纠正。")
    w.p("2.细化量化绩效目标，使目标值与资金安排相匹配。")
    w.p("3.及时收集整理项目财务和业务资料，提高自评工作质量。")


def _appendix(w: _Writer, reported: list[Indicator]) -> None:
    w.p("附表1")
    rows = [["序号", "一级指标", "指标名称", "目标值", "实际完成值"]]
    for n, ind in enumerate(reported, 1):
        rows.append([str(n), ind.level1, ind.name, _target_words(ind), _actual_words(ind)])
    w.table((_appendix_name(w),), rows)


# ---------------------------------------------------------------- the national 自评表

FORM_LEVELS = {  # 一级指标 → its 分值 in the form (the funds weigh FUNDS_WEIGHT more)
    "产出指标": Decimal(50), "效益指标": Decimal(30), "满意度指标": Decimal(10),
}  # fmt: skip
FUNDS_WEIGHT = Decimal(10)
FORM_WIDTH = 9
FORM_REASON = "受客观因素影响未按计划完成，将加强进度督导"
FORM_COLUMNS = (7, 12, 12, 24, 18, 16, 8, 11, 22)  # the form's column widths, relative


def form_group(ind: Indicator) -> tuple[str, str]:
    """The indicator's 一级 and 二级指标 in the national form."""
    if ind.group:
        level2 = ind.group
    elif ind.id == SATISFACTION_ID:
        level2 = "服务对象满意度指标"
    elif ind.bound == "by":
        level2 = "时效指标"
    elif ind.unit == "元":
        level2 = "成本指标"
    elif ind.unit == "%" or ind.bound == "<=":
        level2 = "质量指标"
    else:
        level2 = "数量指标"
    level1 = {"社会效益指标": "效益指标", "经济效益指标": "效益指标",
              "服务对象满意度指标": "满意度指标"}.get(level2, "产出指标")  # fmt: skip
    return level1, level2


@dataclass(frozen=True)
class FormScores:
    """What the 自评表 scores: the funds' 分值 and 得分, each indicator's (by id), 总分."""

    funds_score: Decimal
    weights: dict[str, Decimal]
    scores: dict[str, Decimal]
    levels: dict[str, Decimal]  # 一级指标 → its 分值, in the form's order

    @property
    def total(self) -> Decimal:
        return self.funds_score + sum(self.scores.values(), Decimal(0))


def form_rows(fig: ReportFigures) -> list[Indicator]:
    """The form's indicators, by level: budget execution is scored among the funds."""
    order = list(FORM_LEVELS)
    rows = [i for i in fig.indicators if i.id != EXECUTION_ID]
    return sorted(rows, key=lambda i: order.index(form_group(i)[0]))


def form_scores(fig: ReportFigures) -> FormScores:
    """The form's points, the report's own score where it can be: 预算执行 FUNDS_WEIGHT ×
    执行率; the indicators' 90 split between the levels present (50 / 30 / 10, a level
    absent gives its points to 产出指标) and evenly in whole points inside a level. A missed
    target loses its share (weight × (1 − 完成率), half its weight for a late deadline), so
    that no shortfall scores full; the points the report's 自评得分 takes off besides come
    off the heaviest indicators first, and where it takes off less the shortfalls lose
    less, so that 总分 is the report's 自评得分 (below it only when the report gives more
    than a form that scores every shortfall can)."""
    rows = form_rows(fig)
    levels: dict[str, Decimal] = {}
    for level, weight in FORM_LEVELS.items():
        if any(form_group(i)[0] == level for i in rows):
            levels[level] = weight
        else:
            levels["产出指标"] += weight
    weights: dict[str, Decimal] = {}
    for level, weight in levels.items():
        mine = [i for i in rows if form_group(i)[0] == level]
        base, extra = divmod(int(weight), len(mine))
        for n, ind in enumerate(mine):
            weights[ind.id] = Decimal(base + (n < extra))
    rate = min(Fraction(fig.spent_total) / Fraction(fig.budget_total), Fraction(1))
    funds = round_half_up(Fraction(FUNDS_WEIGHT) * rate)
    lost = {
        i.id: max(Decimal("0.01"), weights[i.id] / 2 if i.rate is None
                  else round_half_up(Fraction(weights[i.id]) * (100 - Fraction(i.rate)) / 100))
        for i in rows if not i.achieved
    }  # fmt: skip
    owed = sum(weights.values(), Decimal(0)) - (fig.score_total - funds)
    missed = sum(lost.values(), Decimal(0))
    if Decimal("0.01") * len(lost) <= owed < missed:  # the report deducts less: scale down
        scaled = {k: max(Decimal("0.01"), round_half_up(Fraction(v * owed) / Fraction(missed)))
                  for k, v in lost.items()}  # fmt: skip
        heaviest = max(scaled, key=scaled.get)
        scaled[heaviest] += owed - sum(scaled.values(), Decimal(0))
        lost = scaled
    elif owed > missed:  # the rest off targets met, the heaviest first
        rest = owed - missed
        for ind in sorted(rows, key=lambda i: -weights[i.id]):
            if rest <= 0:
                break
            take = min(weights[ind.id] - lost.get(ind.id, Decimal(0)), rest)
            lost[ind.id] = lost.get(ind.id, Decimal(0)) + take
            rest -= take
    scores = {i.id: weights[i.id] - lost.get(i.id, Decimal(0)) for i in rows}
    return FormScores(funds, weights, scores, levels)


def _form(w: _Writer) -> None:
    """附表2, the national 项目支出绩效自评表 as offices fill it (财预〔2020〕10号): 项目资金
    with 年度资金总额 and its 其中 rows, 年度总体目标, the indicators under their levels (merged
    down), 总分 and 自评等级; cells merged as Word merges them. A row's ``<col>`` slots:
    initial budget spent weight rate score (funds); target actual weight score reason
    (an indicator)."""
    fig = w.fig
    fs = form_scores(fig)
    w.blocks.append(_Para("附表2", new_page=True))
    blank = [""] * FORM_WIDTH
    rows: list[list[str]] = []
    merges: list[tuple[int, int, int, int]] = []

    def row(cells: dict[int, str], *spans: tuple[int, int]) -> int:
        r = len(rows)
        texts = list(blank)
        for c, text in cells.items():
            texts[c] = text
        rows.append(texts)
        merges.extend((r, c1, r, c2) for c1, c2 in spans)
        return r

    def money(prefix: str, budget: Decimal, spent: Decimal, points: bool) -> dict[int, str]:
        cells = {3: _wan(budget), 4: _wan(budget), 5: _wan(spent), 6: "—", 7: "—", 8: "—"}
        if points:  # the 其中 rows are not scored
            cells |= {6: _num(FUNDS_WEIGHT), 7: _pct(fig.execution_rate), 8: _f2(fs.funds_score)}
        cols = ("initial", "budget", "spent", "weight", "rate", "score")
        return {
            c: w.say(f"{prefix}.{col}", cells[c]) for c, col in zip(range(3, 9), cols, strict=True)
        }

    row({0: "项目名称", 2: f"{fig.programme}（{fig.year}年度）"}, (0, 1), (2, 8))
    row({0: "主管部门", 2: fig.unit, 5: "实施单位", 6: fig.unit}, (0, 1), (2, 4), (6, 8))
    row({0: "项目资金（万元）", 3: "年初预算数", 4: "全年预算数", 5: "全年执行数", 6: "分值",
         7: "执行率", 8: "得分"}, (0, 2))  # fmt: skip
    row({0: "年度资金总额", **money("form.funds", fig.budget_total, fig.spent_total, True)}, (0, 2))
    treasury = (fig.budget_total - fig.other_funds, fig.spent_total - fig.other_funds)
    row({0: "其中：财政拨款", **money("form.funds.1", *treasury, False)}, (0, 2))
    row({0: "其他资金", **money("form.funds.2", fig.other_funds, fig.other_funds, False)}, (0, 2))
    goals = row({0: "年度总体目标", 1: "预期目标", 5: "实际完成情况"}, (1, 4), (5, 8))
    does = "、".join(a.does for a in fig.activities)
    row({1: f"支持各县（市、区）{does}", 5: "详见绩效指标完成情况"}, (1, 4), (5, 8))
    merges.append((goals, 0, goals + 1, 0))
    head = row({0: "绩效指标", 1: "一级指标", 2: "二级指标", 3: "三级指标", 4: "年度指标值",
                5: "实际完成值", 6: "分值", 7: "得分", 8: "偏差原因分析及改进措施"})  # fmt: skip
    placed: list[tuple[int, str, str]] = []
    for ind in form_rows(fig):
        level1, level2 = form_group(ind)

        def say(col: str, text: str, ind_id: str = ind.id) -> str:
            return w.say(f"form.indicator.{ind_id}.{col}", text)

        r = row({3: ind.name, 4: say("target", _target_words(ind)),
                 5: say("actual", _actual_words(ind)), 6: say("weight", _num(fs.weights[ind.id])),
                 7: say("score", _f2(fs.scores[ind.id])),
                 8: say("reason", "" if ind.achieved else FORM_REASON)})  # fmt: skip
        placed.append((r, level1, level2))
    for col, key in ((1, lambda p: p[1]), (2, lambda p: (p[1], p[2]))):
        start = 0
        for n in range(1, len(placed) + 1):
            if n == len(placed) or key(placed[n]) != key(placed[start]):
                r1, level1, level2 = placed[start]
                text = level2
                if col == 1:
                    written = f"{level1}（{_num(fs.levels[level1])}分）"
                    text = w.say(f"form.level.{level1}", written)
                rows[r1][col] = text
                if n - 1 > start:
                    merges.append((r1, col, placed[n - 1][0], col))
                start = n
    merges.append((head, 0, placed[-1][0], 0))
    total = fs.total
    row({0: "总分", 6: w.say("form.total.weight", "100"),
         7: w.say("form.total.score", _f2(total))}, (0, 5))  # fmt: skip
    row({0: "自评等级", 6: w.say("form.grade", grade_for(total))}, (0, 5), (6, 8))
    w.table(("项目支出绩效自评表",), rows, merges=tuple(merges))


# ---------------------------------------------------------------- rendering: text and docx


def render_text(fig: ReportFigures) -> str:
    lines: list[str] = []
    for block in _blocks(fig):
        if isinstance(block, _Para):
            lines.append(block.text)
            continue
        lines.extend(block.caption)
        for row in block.visible():
            lines.extend("\t" + cell for cell in row)
            lines.append("")  # a blank line ends each row
    return "\n".join(lines) + "\n"


def docx_bytes(fig: ReportFigures) -> bytes:
    from docx import Document
    from docx.oxml import OxmlElement

    doc = Document()
    for block in _blocks(fig):
        if isinstance(block, _Para):
            paragraph = doc.add_paragraph(block.text, style=block.style)
            if block.new_page:
                paragraph.paragraph_format.page_break_before = True
            continue
        for line in block.caption:
            doc.add_paragraph(line)
        rows = block.visible()
        table = doc.add_table(rows=len(rows), cols=len(rows[0]))
        table.style = "Table Grid"
        covered = block.covered()
        for r, (row, texts) in enumerate(zip(table.rows, rows, strict=True)):
            cells = row.cells
            for c, (cell, text) in enumerate(zip(cells, texts, strict=False)):
                if (r, c) not in covered:  # a merged cell keeps its first cell's text alone
                    cell.text = text
            for cell in cells[len(texts) :]:  # a cut-off row really has fewer cells
                row._tr.remove(cell._tc)
        if block.merges:  # a form: columns as wide as their texts, rows whole on a page
            section = doc.sections[-1]
            page = section.page_width - section.left_margin - section.right_margin
            table.autofit = False
            for c, share in enumerate(FORM_COLUMNS):
                table.columns[c].width = page * share // sum(FORM_COLUMNS)
                for cell in table.columns[c].cells:
                    cell.width = table.columns[c].width
            for row in table.rows:  # 表格属性：不允许跨页断行
                row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for r1, c1, r2, c2 in block.merges:  # across (gridSpan) and down (vMerge), as Word does
            table.cell(r1, c1).merge(table.cell(r2, c2))
    # Fixed metadata: python-docx stamps "now" into docProps/core.xml otherwise.
    stamp = dt.datetime.combine(fig.report_date, dt.time(9, 0), tzinfo=dt.UTC)
    props = doc.core_properties
    props.title = f"{fig.programme}{fig.year}年度绩效自评报告"
    props.author = props.last_modified_by = fig.unit
    props.created = props.modified = stamp
    props.revision = 1
    props.comments = ""  # python-docx's default says who wrote the file, not the report
    buffer = io.BytesIO()
    doc.save(buffer)
    return stable_zip(buffer.getvalue())


def render_docx(fig: ReportFigures, path: Path) -> Path:
    path = Path(path)
    path.write_bytes(docx_bytes(fig))
    return path


def render_flat_text(fig: ReportFigures) -> str:
    """The text as a web page flattens it: each table row ``cell | cell | … |`` on a line (an
    empty cell as well; a merged cell once, where it starts), the survey's header row broken
    after its second cell as a page breaks a row whose cells hold line breaks."""
    lines: list[str] = []
    for block in _blocks(fig):
        if isinstance(block, _Para):
            lines.append(block.text)
            continue
        lines.extend(block.caption)
        covered = block.covered()
        for r, row in enumerate(block.visible()):
            cells = [f"{cell} |" for c, cell in enumerate(row) if (r, c) not in covered]
            if r == 0 and len(cells) > 6:
                lines += [" ".join(cells[:2]), " ".join(cells[2:])]
            else:
                lines.append(" ".join(cells))
    return "\n".join(lines) + "\n"


def xlsx_bytes(fig: ReportFigures) -> bytes:
    """The 自评表 alone as the workbook an office publishes: one sheet, its title and year
    above the form, the form's cells merged as in Word, its columns wide enough to read."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    form = _blocks(replace(fig, form=True))[-1]
    book = Workbook()
    sheet = book.active
    sheet.title = "项目支出绩效自评表"
    sheet.append(["项目支出绩效自评表"])
    sheet.append([f"（{fig.year}年度）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=FORM_WIDTH)
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=FORM_WIDTH)
    top = sheet.max_row
    covered = form.covered()
    for r, texts in enumerate(form.rows):
        sheet.append([None if (r, c) in covered else text or None for c, text in enumerate(texts)])
    for r1, c1, r2, c2 in form.merges:
        sheet.merge_cells(start_row=top + r1 + 1, start_column=c1 + 1,
                          end_row=top + r2 + 1, end_column=c2 + 1)  # fmt: skip
    wrap = Alignment(wrap_text=True, vertical="center")
    for row in sheet.iter_rows(min_row=top + 1):
        for cell in row:
            cell.alignment = wrap
    for c, width in enumerate(FORM_COLUMNS, 1):  # in characters, as Excel counts them
        sheet.column_dimensions[get_column_letter(c)].width = width
    stamp = dt.datetime.combine(fig.report_date, dt.time(9, 0))  # no clock in the file
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = book.properties.lastModifiedBy = fig.unit
    return workbook_bytes(book)


def render_xlsx(fig: ReportFigures, path: Path) -> Path:
    path = Path(path)
    path.write_bytes(xlsx_bytes(fig))
    return path


class FontUnavailable(RuntimeError):
    """No font that writes Chinese is installed: a PDF cannot be rendered here."""


FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
# Fonts that write simplified Chinese, as distributions install them (fonts-noto-cjk first).
CJK_FONTS = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf",
             "NotoSerifCJK-Regular.ttc", "SourceHanSansSC-Regular.otf", "wqy-microhei.ttc",
             "wqy-zenhei.ttc", "DroidSansFallbackFull.ttf", "simsun.ttc", "simhei.ttf")  # fmt: skip


def cjk_font() -> Path:
    """An installed font file that writes Chinese; FontUnavailable saying where it looked."""
    for name in CJK_FONTS:
        for folder in FONT_DIRS:
            found = next(iter(sorted(folder.rglob(name))), None) if folder.is_dir() else None
            if found is not None:
                return found
    raise FontUnavailable(
        f"no CJK font ({', '.join(CJK_FONTS[:3])} …) under {', '.join(map(str, FONT_DIRS))}"
    )


def _font_subset(path: Path, text: str) -> bytes:
    """The glyphs ``text`` needs, from the simplified-Chinese face of ``path``, as a TrueType
    font. An OpenType font with PostScript outlines (Noto CJK) is converted to quadratic
    outlines: fpdf2 embeds such a font with a character map of its own that pdfminer (and so
    pdfplumber) cannot read, while a TrueType font is embedded as Word embeds one (Identity-H)."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTCollection, TTFont, newTable

    if path.suffix.lower() == ".ttc":
        faces = TTCollection(str(path)).fonts
        font = next((f for f in faces if " SC" in f["name"].getDebugName(4)), faces[0])
    else:
        font = TTFont(str(path))
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    if "CFF " in font:
        glyphs, order = font.getGlyphSet(), font.getGlyphOrder()
        glyf = newTable("glyf")
        glyf.glyphOrder, glyf.glyphs = order, {}
        for name in order:
            pen = TTGlyphPen(glyphs)
            glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf[name] = pen.glyph()
        font["glyf"], font["loca"] = glyf, newTable("loca")
        for table in ("CFF ", "VORG"):
            if table in font:
                del font[table]
        maxp = font["maxp"] = newTable("maxp")
        maxp.tableVersion = 0x00010000
        for key in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                    "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):  # fmt: skip
            setattr(maxp, key, 0)
        maxp.maxZones = 1
        font["post"].formatType = 3.0
        font["head"].glyphDataFormat = 0
        font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def pdf_bytes(fig: ReportFigures) -> bytes:
    """The report as a PDF with a text layer, as Word prints one: the same paragraphs (body
    paragraphs indented two characters, justified) and ruled tables in the same order, a page
    number at the foot of each page (fpdf2; a Chinese font must be installed:
    FontUnavailable otherwise)."""
    from fpdf import FPDF
    from fpdf.enums import WrapMode
    from fpdf.fonts import FontFace

    blocks = _blocks(fig)
    text = "".join(
        b.text if isinstance(b, _Para) else "".join((*b.caption, *(c for r in b.rows for c in r)))
        for b in blocks
    )
    class Paged(FPDF):
        def footer(self) -> None:  # a page number at the foot, as Word prints one
            self.set_y(-15)
            self.set_font("cjk", size=9)
            self.cell(0, 10, f"- {self.page_no()} -", align="C")

    pdf = Paged(format="A4")
    pdf.set_creation_date(dt.datetime.combine(fig.report_date, dt.time(9, 0), tzinfo=dt.UTC))
    pdf.set_title(f"{fig.programme}{fig.year}年度绩效自评报告")
    with tempfile.TemporaryDirectory() as folder:  # fpdf2 reads a font from a named file
        font = Path(folder) / "cjk.ttf"
        font.write_bytes(_font_subset(cjk_font(), text + "0123456789.%- \u3000"))
        pdf.add_font("cjk", fname=str(font))
    pdf.set_margins(25, 25, 25)
    pdf.add_page()
    sizes = {"Title": 16, "Heading 1": 13, "Heading 2": 12}
    start = {"new_x": "LMARGIN", "new_y": "NEXT"}  # each paragraph from the left margin
    for block in blocks:
        if isinstance(block, _Para):
            if block.new_page:
                pdf.add_page()
            pdf.set_font("cjk", size=sizes.get(block.style, 11))
            align = "C" if block.style == "Title" else "J"
            indent = "\u3000\u3000" if block.style == "Normal" else ""  # 首行缩进两字
            pdf.multi_cell(0, 7, indent + block.text, align=align, wrapmode=WrapMode.CHAR,
                           **start)  # fmt: skip
            continue
        pdf.set_font("cjk", size=11)
        for line in block.caption:
            pdf.multi_cell(0, 7, line, wrapmode=WrapMode.CHAR, **start)
        pdf.set_font("cjk", size=8)
        rows = block.visible()
        covered = block.covered()
        spans = {(r1, c1): (r2 - r1 + 1, c2 - c1 + 1) for r1, c1, r2, c2 in block.merges}
        # A form's first row is no header to repeat on the next page.
        widths = {"col_widths": FORM_COLUMNS} if block.merges else {}
        with pdf.table(headings_style=FontFace(), line_height=5, wrapmode=WrapMode.CHAR,
                       first_row_as_headings=not block.merges, **widths) as table:  # fmt: skip
            for r, texts in enumerate(rows):
                row = table.row()
                for c, cell in enumerate(texts):
                    if (r, c) not in covered:
                        down, across = spans.get((r, c), (1, 1))
                        row.cell(cell, rowspan=down, colspan=across)
                for _ in range(len(rows[0]) - len(texts)):  # a cut-off row: its cells left empty
                    row.cell("")
        pdf.ln(3)
    return bytes(pdf.output())


def render_pdf(fig: ReportFigures, path: Path) -> Path:
    path = Path(path)
    path.write_bytes(pdf_bytes(fig))
    return path


# ---------------------------------------------------------------- the bundled sample

PROGRAMME_YAML = Path(__file__).with_name("programme.yaml")
# The sample's self-assessed level-1 scores (the unit's own, as its report states them).
SAMPLE_SCORES = {"项目决策": Decimal(20), "项目管理": Decimal(18), "项目绩效": Decimal(55)}
SAMPLE_QUESTIONS = (
    "您对本项目本年度工作的总体评价",
    "您对项目调动残疾人参加招聘和竞赛活动积极性的评价",
    "您对项目提高残疾人参与市、县两级活动程度的评价",
    "您对活动通知和政策宣传送达基层情况的评价",
    "您对项目资金专款专用情况的评价",
    "您对补助经费使用完整、准确情况的评价",
    "您对资金使用符合政策规定情况的评价",
    "您对经费使用审核把关情况的评价",
    "您对项目资料信息完整、准确情况的评价",
    "您对项目提升参与人员满意程度的评价",
)


def sample_figures() -> ReportFigures:
    """The bundled programme's report, from programme.yaml and the sample records' facts."""
    from jixiao.sample import generate as g  # lazily: generate may one day write this report
    from jixiao.schemas.programme import load_programme

    prog = load_programme(PROGRAMME_YAML)
    entrants, placed = g.ENTRIES, len(g.AWARDS_GIVEN)
    households = g.VISITS_PER_COUNTY * len(g.VISIT_COUNTIES)
    actual: dict[str, Decimal | dt.date] = {
        EXECUTION_ID: Decimal("100.00"),
        "job_fairs_held": Decimal(len(g.FAIR_COUNTIES)),  # one fair per county
        "households_visited": Decimal(households),
        "competition_entrants": Decimal(entrants),
        "award_ratio": round_half_up(Fraction(placed, entrants) * 100),
        "job_fairs_by": g.FIRST_FAIR,
        "visits_by": g.VISITS_BY,
        "competitions_by": g.COMPETITIONS_BY,
        "visit_standard": Decimal(g.VISIT_YUAN),
        "employers_intending": Decimal(g.INTENDING_EMPLOYERS),
    }
    subjects = {
        EXECUTION_ID: "预算", "job_fairs_held": "招聘会", "job_fairs_by": "招聘会",
        "households_visited": "慰问", "visits_by": "慰问", "visit_standard": "慰问",
        "competition_entrants": "竞赛", "award_ratio": "竞赛", "competitions_by": "竞赛",
        "employers_intending": "用人单位", SATISFACTION_ID: "满意度",
    }  # fmt: skip
    weights = tuple(prog.survey.weights[x] for x in ANSWERS)
    questions = tuple(
        Question(text, (*g.SURVEY_COUNTS[f"q{n}"], 0, 0))
        for n, text in enumerate(SAMPLE_QUESTIONS, 1)
    )
    indicators = []
    for src in prog.indicators:
        if src.kind == "qualitative":
            continue
        common = {"id": src.id, "name": src.name, "level1": src.level1, "subject": subjects[src.id]}
        if src.kind == "deadline":
            indicators.append(
                Indicator(**common, bound="by", deadline=src.target, done_on=actual[src.id])
            )
        else:
            indicators.append(
                Indicator(
                    **common, unit=src.unit or "", target=src.target, actual=actual.get(src.id),
                    of_people="competition_entrants" if src.id == "award_ratio" else None,
                    group="社会效益指标" if src.id == "employers_intending" else "",
                )
            )  # fmt: skip
    counties_with_entries = min(entrants, len(g.VISIT_COUNTIES))
    links = {
        "job_fairs": ("job_fairs_held", None, None),
        "competitions": ("competition_entrants", None, None),
        "visits": ("households_visited", Decimal(g.VISIT_YUAN), "visit_standard"),
    }
    level1_weights: dict[str, Decimal] = {}
    for ind in prog.indicators:
        level1_weights[ind.level1] = level1_weights.get(ind.level1, Decimal(0)) + ind.weight
    fig = ReportFigures(
        unit=prog.unit,
        office="就业培训处",
        programme=prog.name.removeprefix(prog.unit).removeprefix(f"{prog.year}年"),
        year=prog.year,
        report_date=dt.date(2023, 5, 17),
        eval_start=dt.date(2023, 4, 21),
        eval_end=dt.date(2023, 5, 10),
        budget_lines=tuple(
            BudgetLine(b.code, b.name, b.amount_yuan, b.amount_yuan, *links[b.code])
            for b in prog.budget_lines
        ),
        indicators=tuple(indicators),
        activities=(
            Activity("job_fairs_held", "举办残疾人就业专场招聘会", len(g.FAIR_COUNTIES)),
            Activity("households_visited", "走访慰问就业困难残疾人家庭", len(g.VISIT_COUNTIES)),
            Activity("competition_entrants", "组织残疾人职业技能竞赛选拔", counties_with_entries),
        ),
        level1=tuple(Level1(name, w, SAMPLE_SCORES[name]) for name, w in level1_weights.items()),
        questions=questions,
        weights=weights,
    )
    return _refresh(fig)


def _change(fig: ReportFigures, ind_id: str, **changes: object) -> ReportFigures:
    """The figures with one indicator's fields changed."""
    return replace(
        fig,
        indicators=tuple(replace(i, **changes) if i.id == ind_id else i for i in fig.indicators),
    )


def _refresh(fig: ReportFigures) -> ReportFigures:
    """Keep the derived indicators (budget execution, satisfaction) in step with the figures."""
    for ind_id, actual in ((EXECUTION_ID, fig.execution_rate), (SATISFACTION_ID, fig.satisfaction)):
        fig = _change(fig, ind_id, actual=actual)
    return fig


def write_sample_report(folder: Path) -> tuple[Path, Path]:
    """Write report.txt and report.docx of the bundled programme into its raw folder.

    Like the real report it imitates, it has one slip for the audit to find: its summary
    says six counties held job fairs where the body — and the records — say five."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig = replace(sample_figures(), overrides={"counties.summary.job_fairs_held": "六"})
    text = folder / "report.txt"
    text.write_bytes(render_text(fig).encode("utf-8"))  # bytes: no platform newline translation
    return text, render_docx(fig, folder / "report.docx")


# ---------------------------------------------------------------- random programmes

_CITIES = ("昆明市", "曲靖市", "玉溪市", "保山市", "昭通市", "丽江市", "普洱市", "临沧市")
_UNITS = ("残疾人联合会", "残疾人综合服务中心", "残疾人就业服务指导中心", "残疾人康复中心")
_OFFICES = ("就业培训处", "综合业务处", "计划财务处", "康复服务处", "教育就业处", "组织联络处")
_OFFICE_PARTS = ("培训", "服务", "业务", "财务", "管理", "指导")
_PROGRAMMES = (
    "残疾人就业服务补助项目",
    "残疾人职业技能提升补助项目",
    "困难残疾人帮扶补助项目",
    "残疾人就业援助专项资金项目",
    "基层残疾人服务能力建设项目",
)
# code, subject, measure word, indicator name, what a county did, task, budget line name
_EVENTS = (
    ("job_fairs", "招聘会", "场", "举办残疾人专场招聘会场次", "举办残疾人专场招聘会",
     "专场招聘会举办工作", "残疾人专场招聘会经费"),
    ("training", "培训班", "期", "举办职业技能培训班期数", "举办残疾人职业技能培训班",
     "职业技能培训工作", "职业技能培训经费"),
    ("publicity", "宣传活动", "次", "开展政策宣传活动次数", "开展助残政策宣传活动",
     "政策宣传工作", "政策宣传经费"),
    ("contests", "技能竞赛", "场", "举办职业技能竞赛场次", "举办残疾人职业技能竞赛",
     "技能竞赛组织工作", "职业技能竞赛经费"),
    ("lectures", "讲座", "场", "举办就业指导讲座场次", "举办就业指导讲座",
     "就业指导讲座工作", "就业指导讲座经费"),
)  # fmt: skip
# code, subject, measure word, indicator name, what a county did, task, line name, standard name
_PER_UNIT = (
    ("visits", "慰问", "户", "慰问困难残疾人家庭户数", "走访慰问困难残疾人家庭",
     "困难家庭慰问工作", "困难残疾人家庭慰问金", "慰问标准"),
    ("subsidies", "补贴发放", "人", "发放就业补贴人数", "发放残疾人就业补贴",
     "就业补贴发放工作", "残疾人就业补贴资金", "补贴标准"),
    ("equipment", "设备采购", "台", "配发辅助器具台数", "配发残疾人辅助器具",
     "辅助器具配发工作", "辅助器具购置经费", "购置标准"),
)  # fmt: skip
# code, subject, head-count indicator name, ratio code, ratio name
_HEADCOUNTS = (
    ("trainees", "培训", "参加职业技能培训人数", "pass_rate", "培训考核合格率"),
    ("entrants", "竞赛", "参加技能竞赛人数", "award_ratio", "竞赛获奖比例"),
    ("jobseekers", "求职", "参加招聘活动求职人数", "intent_ratio", "达成就业意向比例"),
)
_EFFECTS = (
    ("employers", "用人单位", "家", "有意向招聘残疾人的用人单位数量"),
    ("employed", "就业", "人", "新增实现就业残疾人人数"),
    ("helped", "帮扶", "户", "受益残疾人家庭户数"),
)
_CEILINGS = (
    ("complaints", "投诉", "件", "群众有效投诉件数"),
    ("accidents", "安全", "起", "活动安全责任事故"),
)
_QUESTIONS = (
    "您对本项目年度工作的总体评价",
    "您对活动通知发布及时性的评价",
    "您对项目资金使用规范性的评价",
    "您对工作人员服务态度的评价",
    "您对活动组织安排的评价",
    "您对补助发放及时性的评价",
    "您对政策宣传覆盖面的评价",
    "您对工作人员业务能力的评价",
    "您对项目信息公开程度的评价",
    "您对项目带来实际帮助的评价",
    "您对参加活动便利程度的评价",
    "您对意见反馈处理情况的评价",
)
_SPLITS = (
    ("项目决策", "项目管理", "项目绩效"),
    ("决策", "过程", "产出", "效益"),
)


def random_figures(rng: random.Random) -> ReportFigures:
    """Consistent figures for an invented programme: some targets missed, some not.

    Always present, so that every fault can be planted: an event line and a per-unit line
    (count × standard), a head-count with a percentage of it, a deadline, an indicator tied
    to no budget line, the budget-execution and satisfaction indicators, two or more lines.
    """
    year = rng.randint(2019, 2024)
    meet_all = rng.random() < 0.3  # a programme that meets every target, so both cases occur

    def reach(low: float, high: float) -> float:
        """Actual / target: at least 1 when every target is to be met."""
        return rng.uniform(max(low, 1.0) if meet_all else low, high)

    split = rng.choice(_SPLITS)
    if len(split) == 3:
        first, second = rng.choice((15, 20, 25)), rng.choice((15, 20, 25))
        weights = (first, second, 100 - first - second)
        process, output, effect = split[1], split[2], split[2]
    else:
        first, second, third = (
            rng.choice((10, 15, 20)),
            rng.choice((20, 25)),
            rng.choice((30, 35, 40)),
        )
        weights = (first, second, third, 100 - first - second - third)
        process, output, effect = split[1], split[2], split[3]

    indicators: list[Indicator] = []
    lines: list[BudgetLine] = []
    activities: list[Activity] = []
    deadlines: list[Indicator] = []

    def deadline_for(code: str, subject: str, task: str) -> Indicator:
        due = dt.date(year, rng.randint(6, 12), rng.choice((15, 20, 25, 28)))
        if not meet_all and rng.random() < 0.2:  # late
            done = min(due + dt.timedelta(days=rng.randint(1, 20)), dt.date(year, 12, 31))
            done = done if done > due else due  # 12-28 + k stays in the year
        else:
            done = due - dt.timedelta(days=rng.randint(0, 60))
        return Indicator(
            f"{code}_by", f"按时完成{task}", output, subject, bound="by", deadline=due, done_on=done
        )

    for code, subject, unit, name, does, task, line_name in rng.sample(_EVENTS, rng.randint(1, 2)):
        target = rng.randint(4, 30)
        actual = max(1, round(target * reach(0.5, 1.4)))
        cost = rng.randrange(3000, 30001, 500)
        allocated = Decimal(target * cost)
        # Spending follows output, so a clean report never spends in full for little output.
        spent = (
            allocated
            if actual >= target
            else Decimal(target * cost * actual // target // 100 * 100)
        )
        indicators.append(
            Indicator(code, name, output, subject, unit, Decimal(target), Decimal(actual))
        )
        lines.append(BudgetLine(code, line_name, allocated, spent, code))
        activities.append(Activity(code, does, rng.randint(1, min(actual, 14))))
        if rng.random() < 0.6:
            deadlines.append(deadline_for(code, subject, task))
    standards: list[Indicator] = []
    for code, subject, unit, name, does, task, line_name, std_name in rng.sample(
        _PER_UNIT, rng.randint(1, 2)
    ):
        target = rng.randint(50, 600)
        actual = target if meet_all else rng.randint(math.ceil(target * 0.85), target)
        standard = rng.choice((200, 300, 400, 500, 600, 800, 1000, 1500))
        std_id = None
        if rng.random() < 0.5:
            std_id = f"{code}_standard"
            standards.append(
                Indicator(
                    std_id,
                    f"每{unit}{std_name}",
                    output,
                    subject,
                    "元",
                    Decimal(standard),
                    Decimal(standard),
                )
            )
        indicators.append(
            Indicator(code, name, output, subject, unit, Decimal(target), Decimal(actual))
        )
        lines.append(
            BudgetLine(
                code,
                line_name,
                Decimal(target * standard),
                Decimal(actual * standard),
                code,
                Decimal(standard),
                std_id,
            )
        )
        activities.append(Activity(code, does, rng.randint(2, 14)))
        if rng.random() < 0.6:
            deadlines.append(deadline_for(code, subject, task))
    if not deadlines:
        code, subject = indicators[0].id, indicators[0].subject
        deadlines.append(deadline_for(code, subject, f"{subject}相关工作"))
    if rng.random() < 0.5:
        allocated = rng.randrange(10000, 80001, 1000)
        spent = allocated - (
            0 if meet_all else rng.choice((0, 0, rng.randrange(0, allocated // 2, 100)))
        )
        lines.append(
            BudgetLine("supervision", "项目督导及管理经费", Decimal(allocated), Decimal(spent))
        )

    code, subject, name, ratio_code, ratio_name = rng.choice(_HEADCOUNTS)
    base_target = rng.randint(30, 200)
    people = max(1, round(base_target * reach(0.7, 1.6)))
    ratio_target = rng.randrange(20, 85, 5)
    placed = min(people, math.ceil(people * ratio_target / 100 * reach(0.6, 1.3)))
    headcount = [
        Indicator(code, name, output, subject, "人", Decimal(base_target), Decimal(people)),
        Indicator(
            ratio_code, ratio_name, output, subject, "%", Decimal(ratio_target),
            round_half_up(Fraction(placed, people) * 100), of_people=code,
        ),
    ]  # fmt: skip
    extra = []
    if rng.random() < 0.4:
        c_code, c_subject, c_unit, c_name = rng.choice(_CEILINGS)
        limit = rng.randint(0, 5)
        extra.append(
            Indicator(
                c_code,
                c_name,
                output,
                c_subject,
                c_unit,
                Decimal(limit),
                Decimal(rng.randint(0, limit)),
                "<=",
            )
        )
    e_code, e_subject, e_unit, e_name = rng.choice(_EFFECTS)
    e_target = rng.randint(20, 100)
    effects = [
        Indicator(e_code, e_name, effect, e_subject, e_unit, Decimal(e_target),
                  Decimal(round(e_target * reach(0.6, 1.5))), group="社会效益指标"),
        Indicator(SATISFACTION_ID, "服务对象满意度", effect, "满意度", "分", Decimal(rng.choice((85, 90, 95)))),
    ]  # fmt: skip
    execution = Indicator(
        EXECUTION_ID, "预算执行率", process, "预算", "%", Decimal(rng.choice((90, 95, 100)))
    )

    level1 = []
    for name_, weight in zip(split, weights, strict=True):
        share = 1.0 if rng.random() < 0.35 else rng.uniform(0.45, 1.0)
        level1.append(Level1(name_, Decimal(weight), Decimal(math.floor(weight * share * 2)) / 2))

    respondents = rng.randint(20, 120)
    while True:  # a lowest question that stands clear of the rest, so a wrong ranking shows
        questions = tuple(
            Question(text, _answers(rng, respondents)) for text in rng.sample(_QUESTIONS, 10)
        )
        scores = sorted(round_half_up(question_score(q.counts, DEFAULT_WEIGHTS)) for q in questions)
        if scores[-1] - scores[0] >= Decimal("0.05"):
            break

    eval_start = dt.date(year + 1, rng.randint(3, 5), rng.randint(1, 20))
    eval_end = eval_start + dt.timedelta(days=rng.randint(10, 40))
    fig = ReportFigures(
        unit=rng.choice(_CITIES) + rng.choice(_UNITS),
        office=rng.choice(_OFFICES),
        programme=rng.choice(_PROGRAMMES),
        year=year,
        report_date=eval_end + dt.timedelta(days=rng.randint(0, 20)),
        eval_start=eval_start,
        eval_end=eval_end,
        budget_lines=tuple(lines),
        indicators=(execution, *indicators, *headcount, *deadlines, *standards, *extra, *effects),
        activities=tuple(activities),
        level1=tuple(level1),
        questions=questions,
    )
    fig = _refresh(fig)
    if meet_all:  # the satisfaction target the survey reached
        reached = max((t for t in (60, 70, 80, 85, 90, 95) if t <= fig.satisfaction), default=0)
        fig = _change(fig, SATISFACTION_ID, target=Decimal(reached))
    return fig


def _answers(rng: random.Random, respondents: int) -> tuple[int, int, int, int, int]:
    top = rng.uniform(0.55, 0.95)
    rest = 1 - top
    probs = (top, rest * 0.6, rest * 0.28, rest * 0.09, rest * 0.03)
    counts = [0] * 5
    for answer in rng.choices(range(5), weights=probs, k=respondents):
        counts[answer] += 1
    return tuple(counts)


# ---------------------------------------------------------------- planting faults

Planter = Callable[[ReportFigures, random.Random], tuple[ReportFigures, Planted]]


def _with(fig: ReportFigures, slots: dict[str, str]) -> ReportFigures:
    return replace(fig, overrides={**fig.overrides, **slots})


def _pick(rng: random.Random, pool: list, what: str):
    """One of pool, or a clear error when these figures have no place for the fault."""
    if not pool:
        raise ValueError(f"these figures have no {what} to plant the fault on")
    return rng.choice(pool)


def _far(rng: random.Random, value: int, low: int = 1) -> int:
    """Another count at least 2 away (an integer's rounding interval is ±0.5)."""
    options = [value + d for d in (-4, -3, -2, 2, 3, 4) if value + d >= low]
    return rng.choice(options)


def _plant_figure(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    act = rng.choice(fig.activities)
    wrong = _far(rng, act.counties)
    return _with(fig, {f"counties.process.{act.indicator}": str(wrong)}), Planted(
        "REPORT.FIGURE_DISAGREES",
        f"counties:{act.indicator}",
        f"项目概况写{_cn(act.counties)}个县（市、区）{act.does}，项目实施写{wrong}个",
    )


def _plant_table_total(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    true = fig.budget_total - fig.spent_total
    wrong = true + Decimal(rng.randrange(5000, 40001, 100))
    return _with(fig, {"table.budget.total.balance": _wan(wrong)}), Planted(
        "REPORT.TABLE_TOTAL",
        "table:项目支出明细表",
        f"支出明细表合计行结余写{_wan(wrong)}万元，各行结余合计为{_wan(true)}万元",
    )


def _question_with(fig: ReportFigures, rng: random.Random, want_zero: bool) -> int:
    picks = [n for n, q in enumerate(fig.questions) if (0 in q.counts) == want_zero]
    return rng.choice(picks or range(len(fig.questions)))


def _shares(fig: ReportFigures, n: int) -> list[Decimal]:
    q = fig.questions[n]
    return [round_half_up(Fraction(c, sum(q.counts)) * 100) for c in q.counts]


def _plant_shares_not_100(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    n = rng.randrange(len(fig.questions))
    shares = _shares(fig, n)
    k = max(range(5), key=lambda i: fig.questions[n].counts[i])
    extra = Decimal(rng.randrange(300, 801)) / 100
    shares[k] += extra
    total = sum(shares)
    slots = {
        f"survey.q{n + 1}.share.{ANSWERS[k]}": f"{shares[k]:.2f}%",
        f"survey.q{n + 1}.share.total": f"{total:.2f}%",
    }
    return _with(fig, slots), Planted(
        "REPORT.SHARES_NOT_100",
        f"survey:q{n + 1}",
        f"第{n + 1}题{ANSWERS[k]}项占比多写{extra}个百分点，各项占比合计{total:.2f}%",
        ("REPORT.SHARE_UNSUPPORTED", "REPORT.SCORE_UNSUPPORTED"),
    )


def _plant_share_unsupported(
    fig: ReportFigures, rng: random.Random
) -> tuple[ReportFigures, Planted]:
    # Move share from the biggest answer to an answer nobody gave: the row still sums to 100%.
    n = _question_with(fig, rng, want_zero=True)
    counts = fig.questions[n].counts
    shares = _shares(fig, n)
    big = max(range(5), key=lambda i: counts[i])
    zeros = [i for i in range(5) if counts[i] == 0]
    if zeros:
        to = rng.choice(zeros)
        moved = max((s for i, s in enumerate(shares) if i != big), default=Decimal(0))
        moved = moved if moved >= 2 else Decimal(rng.randrange(200, 601)) / 100
    else:  # nobody left an answer empty: move the share to the second-largest answer
        to = sorted(range(5), key=lambda i: counts[i])[-2]
        moved = Decimal(rng.randrange(200, 601)) / 100
    shares[big] -= moved
    shares[to] += moved
    slots = {f"survey.q{n + 1}.share.{ANSWERS[i]}": f"{shares[i]:.2f}%" for i in (big, to)}
    return _with(fig, slots), Planted(
        "REPORT.SHARE_UNSUPPORTED",
        f"survey:q{n + 1}",
        f"第{n + 1}题{ANSWERS[to]}项{counts[to]}人却写占比{shares[to]:.2f}%，"
        f"{ANSWERS[big]}项相应少写{moved}个百分点",
        ("REPORT.SCORE_UNSUPPORTED",),
    )


def _plant_score(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    n = rng.randrange(len(fig.questions))
    counts = fig.questions[n].counts
    k = max(range(5), key=lambda i: counts[i])
    true = round_half_up(Fraction(counts[k]) * Fraction(fig.weights[k]) / sum(counts))
    wrong = true + Decimal(rng.randrange(20, 91)) / 100 * rng.choice((-1, 1))
    wrong = wrong if wrong >= 0 else true + (true - wrong)
    return _with(fig, {f"survey.q{n + 1}.score.{ANSWERS[k]}": f"{wrong:.2f}"}), Planted(
        "REPORT.SCORE_UNSUPPORTED",
        f"survey:q{n + 1}",
        f"第{n + 1}题{ANSWERS[k]}项分数写{wrong:.2f}，占比×权重为{true:.2f}",
        ("REPORT.TABLE_TOTAL",),  # the row's and the 合计 block's sums no longer add up
    )


def _plain_line(fig: ReportFigures, rng: random.Random) -> BudgetLine:
    """A budget line with no per-unit standard (any, when every line has one)."""
    return rng.choice([b for b in fig.budget_lines if b.standard is None] or list(fig.budget_lines))


def _moved(amount: Decimal, rng: random.Random) -> Decimal:
    """``amount`` off by 5,000–30,000 元 either way, reflected to stay above 0."""
    wrong = amount + Decimal(rng.randrange(5000, 30001, 100)) * rng.choice((-1, 1))
    return wrong if wrong > 0 else amount + (amount - wrong)


def _plant_budget_total(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    line = _plain_line(fig, rng)
    wrong = _moved(line.allocated, rng)
    return _with(fig, {f"budget.{line.code}.allocated": _wan(wrong)}), Planted(
        "REPORT.BUDGET_TOTAL",
        f"budget:{line.code}",
        f"正文写{line.name}下达{_wan(wrong)}万元，各项合计与预算总额{_wan(fig.budget_total)}万元不符",
        ("REPORT.FIGURE_DISAGREES",),  # the table still shows the line's real amount
    )


def _rated(fig: ReportFigures) -> list[Indicator]:
    return [i for i in fig.indicators if i.bound != "by" and i.rate is not None]


def _plant_rate(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    ind = _pick(rng, _rated(fig), "indicator with a completion rate")
    true = ind.rate
    delta = Decimal(rng.randrange(500, 2001)) / 100
    wrong = true - delta if true - delta > 0 else true + delta
    wrong = wrong if wrong <= 100 else true - delta / 2
    return _with(fig, {f"indicator.{ind.id}.rate": f"{wrong:.2f}%"}), Planted(
        "REPORT.RATE_RECOMPUTED",
        f"indicator:{ind.id}",
        f"{ind.name}完成率写{wrong:.2f}%，按目标与实际应为{true:.2f}%",
    )


def _plant_headcount(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    ind = _pick(rng, [i for i in fig.indicators if i.of_people], "percentage of a head-count")
    people = int(fig.indicator(ind.of_people).actual)
    k = round(Fraction(ind.actual) * people / 100)
    # Half-way between two achievable shares: ≥ 0.045 points from any k/N for N ≤ 1000.
    half = Fraction(2 * k + (1 if k < people else -1), 2 * people) * 100
    wrong = round_half_up(half)
    fig = _change(fig, ind.id, actual=wrong)
    return fig, Planted(
        "REPORT.HEADCOUNT_PERCENT",
        f"indicator:{ind.id}",
        f"{ind.name}写{wrong:.2f}%，{people}人中没有整数人数能得到这一比例",
    )


def _plant_product(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    line = _pick(
        rng, [b for b in fig.budget_lines if b.standard is not None], "per-unit budget line"
    )
    ind = fig.indicator(line.indicator)
    wrong = line.standard + rng.choice((-1, 1)) * rng.choice((50, 100, 150, 200))
    wrong = wrong if wrong > 0 else line.standard + 100
    collateral = ("REPORT.FIGURE_DISAGREES",) if line.standard_indicator else ()
    return _with(fig, {f"budget.{line.code}.standard": _num(wrong)}), Planted(
        "REPORT.PRODUCT",
        f"budget:{line.code}",
        f"{_num(ind.actual)}{ind.unit}×{_num(wrong)}元≠{_wan(line.spent)}万元",
        collateral,
    )


def _plant_parts(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    line = _plain_line(fig, rng)
    wrong = _moved(line.spent, rng)
    return _with(fig, {f"budget.{line.code}.spent": _wan(wrong)}), Planted(
        "REPORT.PARTS_TOTAL",
        f"budget:{line.code}",
        f"实际使用{_wan(fig.spent_total)}万元，其中{line.name}写{_wan(wrong)}万元，各项合计不符",
        ("REPORT.FIGURE_DISAGREES", "REPORT.PRODUCT"),  # the line's spending as stated elsewhere
    )


def _plant_parts_unexplained(
    fig: ReportFigures, rng: random.Random
) -> tuple[ReportFigures, Planted]:
    if len(fig.budget_lines) < 3:  # two parts must stay listed: one part alone may be all
        extra = Decimal(rng.randrange(10000, 50001, 1000))
        line = BudgetLine("supervision", "项目督导及管理经费", extra, extra)
        fig = _refresh(replace(fig, budget_lines=(*fig.budget_lines, line)))
    line = rng.choice(fig.budget_lines)
    return _with(fig, {"budget.breakdown.omitted": line.code}), Planted(
        "REPORT.PARTS_UNEXPLAINED",
        f"budget:{line.code}",
        f"实际使用{_wan(fig.spent_total)}万元“主要用于”所列各项，漏列{line.name}{_wan(line.spent)}万元",
    )


def _plant_product_total(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    # A standard per school and a count of schools the overview states apart (nothing else
    # in the report is counted in schools), whose product is none of the report's sums.
    standard = Decimal(rng.randrange(5000, 50001, 1000))
    sums = [x for b in fig.budget_lines for x in (b.allocated, b.spent)]
    sums += [fig.budget_total, fig.spent_total]
    schools = next(n for n in range(3, 60) if all(abs(n * standard - x) > 100 for x in sums))
    lines = f"本项目对每所学校补助{_num(standard)}元。\n全年共补助特殊教育学校{schools}所。"
    return _with(fig, {"basics.standard": lines}), Planted(
        "REPORT.PRODUCT_TOTAL",
        "product:补助",
        f"每所{_num(standard)}元补助{schools}所应为{_wan(schools * standard)}万元，报告所述资金无一相符",
    )


def _plant_grade(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    order = ["优", "良", "中", "差"]
    at = order.index(fig.grade)
    wrong = order[at + 1] if at + 1 < len(order) else order[at - 1]
    return _with(fig, {"grade": wrong}), Planted(
        "REPORT.GRADE",
        "score:total",
        f"自评得分{_f2(fig.score_total)}分，等级写为“{wrong}”（应为“{fig.grade}”）",
    )


def _plant_date(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    deadlines = [i for i in fig.indicators if i.bound == "by"]
    if deadlines and rng.random() < 0.5:
        ind = rng.choice(deadlines)
        shift = dt.timedelta(days=rng.randint(20, 60))
        moved = ind.deadline + shift
        moved = moved if moved.year == fig.year else ind.deadline - shift
        return _with(fig, {f"deadline.{ind.id}.process": _date(moved)}), Planted(
            "REPORT.DATE_CONFLICT",
            f"deadline:{ind.id}",
            f"绩效目标写{_date(ind.deadline)}前，实施流程写{_date(moved)}前",
        )
    dated = fig.eval_end - dt.timedelta(days=rng.randint(3, 20))
    return replace(fig, report_date=dated), Planted(
        "REPORT.DATE_CONFLICT",
        "date:report",
        f"报告落款{_date(dated)}，早于评价工作结束日{_date(fig.eval_end)}",
    )


def _plant_incomplete(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    variant = rng.choice(("count", "unreported", "appendix"))
    if variant == "count":
        n = len(fig.indicators)
        stated = _far(rng, n)
        return _with(fig, {"indicators.count": str(stated)}), Planted(
            "REPORT.INCOMPLETE", "indicators:count", f"称共设置{stated}项绩效指标，实际列出{n}项"
        )
    if variant == "unreported":
        bases = {i.of_people for i in fig.indicators}
        fixed = {SATISFACTION_ID, EXECUTION_ID}
        pool = [i for i in fig.indicators if i.id not in bases | fixed]
        ind = rng.choice([i for i in pool if i.achieved] or pool)
        return _with(fig, {f"indicator.{ind.id}.reported": "no"}), Planted(
            "REPORT.INCOMPLETE", f"indicator:{ind.id}", f"“{ind.name}”设定了目标，但未报告完成情况"
        )
    other = fig.year - 1
    return _with(fig, {"appendix.year": str(other)}), Planted(
        "REPORT.INCOMPLETE", "appendix:1", f"{fig.year}年度报告引用{other}年度的附表1"
    )


def office_variant(office: str, rng: random.Random | None = None) -> str:
    """The office named with one part changed: 就业培训处 → 就业服务处."""
    stem, suffix = office[:-1], office[-1]
    head, part = stem[:-2], stem[-2:]
    others = [p for p in _OFFICE_PARTS if p != part]
    return head + (rng.choice(others) if rng else others[0]) + suffix


def _plant_name(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    variant = office_variant(fig.office, rng)
    return _with(fig, {"office.evaluation": variant}), Planted(
        "REPORT.NAME_VARIANT", "unit:office", f"承办处室写作{fig.office}和{variant}"
    )


def _plant_ranking(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    written = [round_half_up(fig.question_score(n)) for n in range(len(fig.questions))]
    low = min(written)
    above = [n for n, s in enumerate(written) if s - low >= Decimal("0.02")]
    n = _pick(rng, above, "question scoring clearly above the lowest")
    return _with(fig, {"ranking.question": str(n + 1)}), Planted(
        "REPORT.RANKING",
        f"survey:q{n + 1}",
        f"称第{n + 1}题（{written[n]}分）得分最低，第{fig.lowest_question + 1}题只有{low}分",
    )


def _fall_short(fig: ReportFigures, rng: random.Random) -> ReportFigures:
    """One standalone counted target made to fall short, honestly figured."""
    tied = {b.indicator for b in fig.budget_lines} | {i.of_people for i in fig.indicators}
    pool = [
        i for i in fig.indicators
        if i.bound == ">=" and i.unit in COUNT_UNITS and i.id not in tied and i.target >= 2
    ]  # fmt: skip
    ind = _pick(rng, pool, "standalone counted target")
    short = Decimal(math.floor(ind.target * Decimal(rng.uniform(0.6, 0.9))))
    return _change(fig, ind.id, actual=short)


def _plant_claim(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    if not fig.missed:
        fig = _fall_short(fig, rng)
    ind = rng.choice(fig.missed)
    return _with(fig, {"claim.all_achieved": "yes"}), Planted(
        "REPORT.MISSED_TARGET_CLAIMED",
        f"indicator:{ind.id}",
        f"称绩效目标已全部完成，但“{ind.name}”{_actual_words(ind)}未达到{_target_words(ind)}",
    )


def _plant_cost(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    # A line paying for countable output, spent in full while output stays below 80% of target.
    def eligible(b: BudgetLine) -> bool:
        if b.standard is not None or b.indicator is None:
            return False
        ind = fig.indicator(b.indicator)
        return (
            ind.bound == ">="
            and ind.target >= 2
            and not (b.spent == b.allocated and ind.actual < ind.target * Decimal("0.8"))
        )

    line = _pick(
        rng, [b for b in fig.budget_lines if eligible(b)], "budget line paying for counted output"
    )
    ind = fig.indicator(line.indicator)
    short = Decimal(max(1, math.floor(ind.target * Decimal(rng.uniform(0.4, 0.75)))))
    ratios = [i for i in fig.indicators if i.of_people == ind.id]
    indicators = []
    for i in fig.indicators:
        if i.id == ind.id:
            i = replace(i, actual=short)
        elif i in ratios:  # keep the percentage a whole share of the smaller head-count
            k = round(Fraction(i.actual) * int(ind.actual) / 100)
            k = min(int(short), round(Fraction(k) * Fraction(short) / Fraction(ind.actual)))
            i = replace(i, actual=round_half_up(Fraction(k, int(short)) * 100))
        indicators.append(i)
    fig = replace(
        fig,
        indicators=tuple(indicators),
        budget_lines=tuple(
            replace(b, spent=b.allocated) if b is line else b for b in fig.budget_lines
        ),
        activities=tuple(
            replace(a, counties=min(a.counties, int(short))) if a.indicator == ind.id else a
            for a in fig.activities
        ),
    )
    return _refresh(fig), Planted(
        "REPORT.COST_PER_UNIT",
        f"budget:{line.code}",
        f"{line.name}{_wan(line.allocated)}万元全额使用，{ind.name}仅完成{_num(short)}{ind.unit}"
        f"（目标{_num(ind.target)}{ind.unit}）",
    )


# ---------------------------------------------------------------- faults in the 自评表


def _in_form(
    fig: ReportFigures, slots: dict[str, str], total: Decimal | None = None
) -> ReportFigures:
    """The figures with the form attached, ``slots`` written in it, and 总分 written as
    ``total`` (its grade with it) where a planted score changes what the form adds up to."""
    fig = replace(fig, form=True)
    if total is not None:
        slots = {**slots, "form.total.score": _f2(total), "form.grade": grade_for(total)}
    return _with(fig, slots)


def _shortfall(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Indicator]:
    """A target missed by a figure (a late date is no figure the form's rules read): one of
    the report's, or the satisfaction target set above what the survey reached (a count
    made to fall short may read as a cost per unit gone up too), or a count made to."""

    def pool() -> list[Indicator]:
        return [i for i in form_rows(fig) if not i.achieved and i.bound != "by"]

    sat = next((i for i in fig.indicators if i.id == SATISFACTION_ID), None)
    if not pool() and sat is not None and sat.actual < 99:
        above = min(100, math.floor(sat.actual) + rng.randint(1, 4))
        fig = _change(fig, sat.id, target=Decimal(above))
    elif not pool():
        fig = _fall_short(fig, rng)
    return fig, rng.choice(pool())


def _plant_form_budget_score(
    fig: ReportFigures, rng: random.Random
) -> tuple[ReportFigures, Planted]:
    fs = form_scores(fig)
    true, delta = fs.funds_score, Decimal(rng.randrange(100, 301, 50)) / 100
    wrong = true - delta if true >= delta else true + delta
    return _in_form(fig, {"form.funds.score": _f2(wrong)}, fs.total - true + wrong), Planted(
        "REPORT.FORM_BUDGET_SCORE",
        "form:年度资金总额",
        f"自评表预算执行得分写{_f2(wrong)}，分值{_num(FUNDS_WEIGHT)}×执行率{_pct(fig.execution_rate)}应为{_f2(true)}",
    )


def _plant_form_weights(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    fs = form_scores(fig)
    level = rng.choice(list(fs.levels))
    k = Decimal(rng.randint(2, 5))
    if rng.random() < 0.5:  # the level's label weighs other than its indicators
        wrong = fs.levels[level] + k * rng.choice((-1, 1))
        return _in_form(fig, {f"form.level.{level}": f"{level}（{_num(wrong)}分）"}), Planted(
            "REPORT.FORM_WEIGHTS",
            f"form:{level}",
            f"自评表{level}写{_num(wrong)}分，其下指标分值合计{_num(fs.levels[level])}分",
        )
    # One indicator weighs k more, its level too: the form's weights sum to 100 + k.
    ind = rng.choice([i for i in form_rows(fig) if form_group(i)[0] == level])
    slots = {
        f"form.indicator.{ind.id}.weight": _num(fs.weights[ind.id] + k),
        f"form.level.{level}": f"{level}（{_num(fs.levels[level] + k)}分）",
        "form.total.weight": _num(100 + k),
    }
    return _in_form(fig, slots), Planted(
        "REPORT.FORM_WEIGHTS",
        f"form:{ind.name}",
        f"自评表“{ind.name}”分值多写{_num(k)}分，各项分值合计{_num(100 + k)}",
    )


def _plant_form_full_score(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    fig, ind = _shortfall(fig, rng)
    fs = form_scores(fig)
    weight = fs.weights[ind.id]
    total = fs.total + weight - fs.scores[ind.id]
    return _in_form(fig, {f"form.indicator.{ind.id}.score": _f2(weight)}, total), Planted(
        "REPORT.FORM_FULL_SCORE_MISSED",
        f"form:{ind.name}",
        f"“{ind.name}”{_actual_words(ind)}未达到{_target_words(ind)}，自评表却得满分{_num(weight)}",
    )


def _plant_form_no_reason(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    fig, ind = _shortfall(fig, rng)
    return _in_form(fig, {f"form.indicator.{ind.id}.reason": ""}), Planted(
        "REPORT.FORM_NO_REASON",
        f"form:{ind.name}",
        f"“{ind.name}”{_actual_words(ind)}未达到{_target_words(ind)}，自评表未写偏差原因",
    )


def _plant_form_rate(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    true = fig.execution_rate
    delta = Decimal(rng.randrange(500, 2001)) / 100
    wrong = true - delta if true - delta > 0 else true + delta
    return _in_form(fig, {"form.funds.rate": _pct(wrong)}), Planted(
        "REPORT.RATE_RECOMPUTED",
        "form:年度资金总额",
        f"自评表执行率写{_pct(wrong)}，全年执行数÷全年预算数为{_pct(true)}",
    )


def _plant_form_total(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    fs = form_scores(fig)
    if rng.random() < 0.5:  # 总分 other than its parts (graded as written)
        wrong = fs.total + Decimal(rng.randrange(150, 501, 50)) / 100 * rng.choice((-1, 1))
        wrong = wrong if wrong <= 100 else fs.total - (wrong - fs.total)
        return _in_form(fig, {}, wrong), Planted(
            "REPORT.TABLE_TOTAL",
            "form:项目支出绩效自评表",
            f"自评表总分写{_f2(wrong)}，各项得分合计{_f2(fs.total)}",
        )
    # A 其中 row's spending other than the total's share: the list no longer makes the total.
    if not fig.other_funds:
        part = Decimal(rng.randrange(1, 5)) * fig.spent_total // 10 // 100 * 100  # 10–40%
        fig = replace(fig, other_funds=part)
    wrong = _moved(fig.other_funds, rng)
    return _in_form(fig, {"form.funds.2.spent": _wan(wrong)}), Planted(
        "REPORT.TABLE_TOTAL",
        "form:项目支出绩效自评表",
        f"自评表其他资金执行数写{_wan(wrong)}万元，与年度资金总额{_wan(fig.spent_total)}万元不符",
    )


def _plant_form_grade(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    fs = form_scores(fig)
    if rng.random() < 0.5:  # the grade for another 总分
        order = ["优", "良", "中", "差"]
        at = order.index(grade_for(fs.total))
        wrong = order[at + 1] if at + 1 < len(order) else order[at - 1]
        return _in_form(fig, {"form.grade": wrong}), Planted(
            "REPORT.GRADE",
            "score:grade",
            f"自评表总分{_f2(fs.total)}，等级写为“{wrong}”",
        )
    # An indicator scored above its weight, the weight its level lost given to another.
    levels = [lv for lv in fs.levels if sum(form_group(i)[0] == lv for i in form_rows(fig)) > 1]
    level = _pick(rng, levels, "level of the form holding two indicators")
    mine = [i for i in form_rows(fig) if form_group(i)[0] == level]
    full = [i for i in mine if fs.scores[i.id] == fs.weights[i.id] and fs.weights[i.id] > 1]
    ind = _pick(rng, full, "indicator scored in full")
    other = rng.choice([i for i in mine if i is not ind])
    k = Decimal(rng.randint(1, min(3, int(fs.weights[ind.id]) - 1)))
    slots = {
        f"form.indicator.{ind.id}.weight": _num(fs.weights[ind.id] - k),
        f"form.indicator.{other.id}.weight": _num(fs.weights[other.id] + k),
    }
    return _in_form(fig, slots), Planted(
        "REPORT.GRADE",
        f"form:{ind.name}",
        f"自评表“{ind.name}”得分{_f2(fs.scores[ind.id])}，分值只写{_num(fs.weights[ind.id] - k)}",
    )


_PLANTERS: dict[str, Planter] = {
    "REPORT.FIGURE_DISAGREES": _plant_figure,
    "REPORT.TABLE_TOTAL": _plant_table_total,
    "REPORT.SHARES_NOT_100": _plant_shares_not_100,
    "REPORT.SHARE_UNSUPPORTED": _plant_share_unsupported,
    "REPORT.SCORE_UNSUPPORTED": _plant_score,
    "REPORT.BUDGET_TOTAL": _plant_budget_total,
    "REPORT.RATE_RECOMPUTED": _plant_rate,
    "REPORT.HEADCOUNT_PERCENT": _plant_headcount,
    "REPORT.PRODUCT": _plant_product,
    "REPORT.PRODUCT_TOTAL": _plant_product_total,
    "REPORT.PARTS_TOTAL": _plant_parts,
    "REPORT.PARTS_UNEXPLAINED": _plant_parts_unexplained,
    "REPORT.GRADE": _plant_grade,
    "REPORT.DATE_CONFLICT": _plant_date,
    "REPORT.INCOMPLETE": _plant_incomplete,
    "REPORT.NAME_VARIANT": _plant_name,
    "REPORT.RANKING": _plant_ranking,
    "REPORT.MISSED_TARGET_CLAIMED": _plant_claim,
    "REPORT.COST_PER_UNIT": _plant_cost,
    "REPORT.FORM_BUDGET_SCORE": _plant_form_budget_score,
    "REPORT.FORM_WEIGHTS": _plant_form_weights,
    "REPORT.FORM_FULL_SCORE_MISSED": _plant_form_full_score,
    "REPORT.FORM_NO_REASON": _plant_form_no_reason,
}
PLANTABLE: tuple[str, ...] = tuple(_PLANTERS)
# The rules a 自评表 breaks: its own, and the table and score rules as they read a form.
_IN_FORM: dict[str, Planter] = {
    "REPORT.RATE_RECOMPUTED": _plant_form_rate,
    "REPORT.TABLE_TOTAL": _plant_form_total,
    "REPORT.GRADE": _plant_form_grade,
    **{rule: planter for rule, planter in _PLANTERS.items() if rule.startswith("REPORT.FORM_")},
}
FORM_PLANTABLE: tuple[str, ...] = tuple(_IN_FORM)


def plant(
    fig: ReportFigures, rule_id: str, rng: random.Random, in_form: bool = False
) -> tuple[ReportFigures, Planted]:
    """The figures with one fault of ``rule_id`` planted, and what was planted; ``in_form``:
    in the 自评表 (附表2, added to the report), for a rule that its tables share with it."""
    if rule_id == UNVERIFIABLE and not in_form:
        return truncate_table(fig, rng)
    try:
        planter = (_IN_FORM if in_form else _PLANTERS)[rule_id]
    except KeyError:
        raise ValueError(f"no fault can be planted for {rule_id}") from None
    return planter(fig, rng)


def truncate_table(fig: ReportFigures, rng: random.Random) -> tuple[ReportFigures, Planted]:
    """Cut the 支出明细表 off mid-row: its totals can then only be 'cannot verify'.

    The budget table is the one cut because the text states every figure it holds (lines and
    totals), so nothing else goes unverifiable or looks wrong with it gone.
    """
    keep = rng.randint(1, len(fig.budget_lines) - 1) if len(fig.budget_lines) > 1 else 0
    return _with(fig, {"table.budget.cut": str(keep)}), Planted(
        UNVERIFIABLE,
        "table:项目支出明细表",
        f"支出明细表只保留{keep}行明细，下一行被截断，合计行缺失",
    )
