"""The national 项目支出绩效自评表 (财预〔2020〕10号) wherever a report holds it.

The form is recognised once, by the reader (ingest.national_form): each of its parts is a
table of its own, ``Table.form`` set, its header in one row whatever the file had (two
header rows, cells merged across or down). Here each part is read by what its header
names:

- the funds (``form == "funds"``): 预算数 (年初 / 全年), 执行数 or 执行率, beside 分值 and
  得分 when the form scores them; 年度资金总额 and, after it, its 其中 rows (当年财政拨款,
  上年结转, 其他资金 …), down to the first row that is no row of money;
- the indicators (``form == "indicators"``): one row per 三级指标 (一级 and 二级指标 merged
  down the rows, their weights written in them as 产出指标（50分）), down to 总分; in a
  provincial form each scored out of 100 and weighed (权重占比, 折算得分).

The 转移支付 and 部门整体支出 variants are the same parts with fewer columns; indicators
just after funds (one table cut in two, or a form Word split over two tables) are one form.
The form's arithmetic is checked here; the other table rules never read it, since its
rows are not one table's columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from typing import NamedTuple

from jixiao.checks.findings import Evidence, Finding
from jixiao.checks.report_tables import UNEVEN, unverifiable
from jixiao.checks.report_text import GRADES, grade_en
from jixiao.checks.tables import Figure, Grid, common_precision, figure
from jixiao.ingest.report import Said, Table
from jixiao.schemas.vocabulary import fold

HUNDRED = Decimal(100)

# A header cell's role: the first whose words it holds (得分 before 执行率 for
# 得分（分值×执行率）; 原因 and the derived columns first among the indicators').
FUND_ROLES = (
    ("score", ("得分",)),
    ("weight", ("分值", "权重")),
    ("rate", ("执行率", "执行进度")),
    ("initial", ("年初预算",)),
    ("budget", ("全年预算", "预算数", "调整后预算", "预算安排", "预算金额")),
    ("spent", ("全年执行", "执行数", "实际执行", "支出数", "实际支出", "资金执行", "执行金额")),
    ("arrived", ("到位",)),
)
INDICATOR_ROLES = (
    ("reason", ("原因", "改进措施")),
    ("weighted", ("折算",)),  # 单项指标折算得分 = 单项指标得分 × 权重占比 (a provincial form)
    ("share", ("占比",)),  # 权重占比(%)
    ("other", ("完成情况", "完成率")),  # derived: read by no rule
    ("score", ("得分",)),
    ("weight", ("分值", "权重", "满分")),
    ("level1", ("一级指标",)),
    ("level2", ("二级指标",)),
    ("name", ("三级指标",)),
    ("actual", ("完成值", "实际值", "实际完成")),
    ("target", ("指标值", "目标值")),
)
MONEY = ("initial", "budget", "spent", "arrived")
TOTAL_SCORE = ("总分", "分总", "合计", "总计", "得分合计", "总得分", "综合得分", "自评总分")
# A row of the funds block ends it when its label starts another part of the form.
FUND_END = ("目标", "指标", "资金管理", "说明", "备注")
# A row below the indicators that is no indicator: the form's notes, its deviation analysis.
INDICATOR_END = ("说明", "备注", "原因", "改进", "结果应用", "填表", "联系", "审核")
BLANK = frozenset({"", "-", "—", "－", "——", "/", "／", "无", "\\"})
# Where a bare target (no 不低于 / ≤ …) is a floor: counts, quality and satisfaction; where
# lower is better, or the name says so, a bare target has no direction this module assumes.
FLOOR_GROUPS = ("数量", "质量", "满意度")
FLOOR_NAMES = ("满意度", "合格率", "达标率", "覆盖率", "完成率", "知晓率", "参与率", "到位率",
               "通过率", "及格率", "就业率", "受益")  # fmt: skip
NOT_FLOOR = ("成本", "时效", "时间", "时限", "天数", "周期", "差错", "投诉", "事故", "发生率",
             "违规", "超支", "费用", "单价", "均价", "损失", "失误")  # fmt: skip


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", fold(text))


def _role(text: str, roles: tuple) -> str | None:
    t = _norm(text)
    return next((role for role, words in roles if any(w in t for w in words)), None) if t else None


# --- a cell's figure ------------------------------------------------------------------------


def _scaled(f: Figure, k: Decimal) -> Figure:
    return replace(f, value=f.value * k, lo=f.lo * k, hi=f.hi * k)


def _amount(text: str) -> tuple[Figure, str] | None:
    """A sum of money as the form writes it (28.1, 829.3万, 5,000元) and its unit."""
    t = _norm(text)
    m = re.fullmatch(r"(.+?)(万元|万|元)?", t)
    f = figure(m[1]) if m else None
    if f is None or f.percent:
        return None
    return replace(f, text=t), {"万": "万元"}.get(m[2] or "", m[2] or "")


def _points(text: str) -> Figure | None:
    """A score: a plain number (8, 8.00, 8分) standing for its rounding interval; a
    percentage is never one."""
    f = figure(_norm(text).removesuffix("分"))
    return f if f is not None and not f.percent else None


def _exact(f: Figure | None) -> Figure | None:
    return f and replace(f, lo=f.value, hi=f.value)


def _weight(text: str) -> Figure | None:
    """A weight (分值): points set, not measured, so exact (a score of 10.4 is above 10)."""
    return _exact(_points(text))


@dataclass(frozen=True)
class Measure:
    """A target or an actual as the form writes it: ≥50个, 不低于90%, 110406, 达成预期指标."""

    text: str
    bound: str | None  # >= <= > < = for a target (None: no figure, or no direction known)
    figure: Figure | None  # the number as written, with its rounding interval
    unit: str  # as written after the number, 百分比 read as %: 个, %, 万元, 人次, or ""


_BOUNDS = (
    ("不低于", ">="), ("不少于", ">="), ("至少", ">="), ("大于等于", ">="), ("达到", ">="),
    (">=", ">="), ("≥", ">="), ("不高于", "<="), ("不超过", "<="), ("不多于", "<="),
    ("小于等于", "<="), ("控制在", "<="), ("<=", "<="), ("≤", "<="), ("大于", ">"),
    ("高于", ">"), ("超过", ">"), (">", ">"), ("＞", ">"), ("小于", "<"), ("低于", "<"),
    ("<", "<"), ("＜", "<"), ("等于", "="), ("=", "="), ("＝", "="),
)  # fmt: skip
_SUFFIX_BOUNDS = (("及以上", ">="), ("以上", ">="), ("及以下", "<="), ("以下", "<="),
                  ("以内", "<="))  # fmt: skip
_MEASURE = re.compile(r"(?P<num>[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?P<unit>[^\d]{0,6}?)")


def measure(text: str, line: int = 0) -> Measure:
    """``text`` read as a bound, a number and a unit; a text that is not one keeps no figure."""
    t = _norm(text)
    t = re.sub(r"（百分比）|（%）", "", t).replace("百分比", "%")
    bound = None
    for word, b in _BOUNDS:
        if t.startswith(word):
            t, bound = t[len(word) :], b
            break
    for word, b in _SUFFIX_BOUNDS:
        if t.endswith(word):
            t, bound = t[: -len(word)], bound or b
    m = _MEASURE.fullmatch(t)
    f = figure(m["num"], line) if m else None
    if f is None:
        return Measure(text, None, None, "")
    unit = m["unit"]
    if unit.startswith("%"):
        f, unit = replace(f, percent=True), "%"
    return Measure(text, bound, f, unit)


def base_unit(m: Measure) -> tuple[Figure, str]:
    """The figure in its unit's base: 11万人次 is 110000 人次."""
    for prefix, k in (("万", Decimal(10000)), ("亿", Decimal(10) ** 8)):
        if m.unit.startswith(prefix) and len(m.unit) > 1:
            return _scaled(m.figure, k), m.unit[1:]
    return m.figure, m.unit


def missed(target: Measure, actual: Measure) -> bool:
    """Whether the actual falls short of the target in its direction, whatever the rounding;
    an actual beyond a floor (480 of 400) is no shortfall."""
    if target.bound is None or target.figure is None or actual.figure is None:
        return False
    if target.unit and actual.unit:
        (t, tu), (a, au) = base_unit(target), base_unit(actual)
        if tu != au:
            return False
    else:
        t, a = target.figure, actual.figure
    # A target is set, not measured: exact. The actual stands for its rounding interval.
    return {
        ">=": a.hi < t.value,
        ">": a.hi <= t.value,
        "<=": a.lo > t.value,
        "<": a.lo >= t.value,
        "=": a.hi < t.value or a.lo > t.value,
    }[target.bound]


def _direction(m: Measure, name: str, level2: str) -> Measure:
    """A bare target's direction: 0 is a ceiling; 100% and a count, quality or satisfaction
    are floors; where lower may be better (cost, time, complaints) none is assumed."""
    if m.bound or m.figure is None:
        return m
    if m.figure.value == 0:
        bound = "<="
    elif any(w in name for w in NOT_FLOOR):
        return m
    elif m.unit == "%" and m.figure.value == HUNDRED:
        bound = ">="
    elif any(w in level2 for w in NOT_FLOOR):
        return m
    elif any(w in level2 for w in FLOOR_GROUPS) or any(w in name for w in FLOOR_NAMES):
        bound = ">="
    else:
        return m
    return replace(m, bound=bound)


# --- the blocks -----------------------------------------------------------------------------


def _texts(table: Table, r: int, spread: bool = False) -> list[str]:
    """Row ``r``'s texts by column; ``spread``: a cell merged across columns stands over each."""
    out, text = [], ""
    for cell in table.rows[r]:
        text = text if (cell.merged and spread) else cell.text.strip()
        out.append(text)
    return out


def _roles(texts: list[str], roles: tuple) -> set[str]:
    return {x for t in texts if (x := _role(t, roles))}


def _label(texts: list[str]) -> str:
    """A row's label: its first text that is no figure."""
    return next((n.rstrip("：:") for t in texts if (n := _norm(t)) and figure(n) is None), "")


@dataclass
class Block:
    """One block of the form in one table: its header rows and what each column holds."""

    table: Table
    title: str
    columns: dict[str, list[int]]  # role → its columns, left to right
    labels: list[str]  # each column's lowest header text, as written
    slots: list[int]  # the columns of the header's own cells (its row with the most)
    unaligned: list[int] = field(default_factory=list)  # rows no column could be told for
    _cells: dict[int, list[str]] = field(default_factory=dict, repr=False)

    def cells(self, r: int) -> list[str]:
        """Row ``r``'s texts under this block's columns. A text table's short row is placed
        by the reader under the table's most common width, which the form's other block may
        set: a row the reader filled out (a merged cell of its making) with a figure under
        no header text of this block is put cell by cell under the header's own cells when
        it has as many, else is not read (``unaligned``)."""
        if r not in self._cells:
            row = self.table.rows[r]
            texts = _texts(self.table, r)
            if any(cell.merged for cell in row) and any(
                figure(_norm(t)) for c, t in enumerate(texts) if c not in self.headed
            ):
                own = [cell.text.strip() for cell in row if not cell.merged]
                if own and len(own) == len(self.slots):
                    texts = [""] * max(len(texts), self.slots[-1] + 1)
                    for c, text in zip(self.slots, own, strict=True):
                        texts[c] = text
                else:
                    self.unaligned.append(r)
                    texts = [""] * len(texts)
            self._cells[r] = texts
        return self._cells[r]

    @cached_property
    def headed(self) -> set[int]:
        """The columns some header row writes its own text in."""
        return {c for c, t in enumerate(_texts(self.table, 0)) if t}

    def text(self, r: int, role: str) -> str:
        cells = self.cells(r)
        return " ".join(cells[c] for c in self.columns.get(role, ()) if c < len(cells) and cells[c])

    def first(self, r: int, role: str, read) -> tuple[int, Figure] | None:
        """The role's first column in row ``r`` where ``read`` finds a figure, and the figure."""
        cells = self.cells(r)
        for c in self.columns.get(role, ()):
            if c < len(cells) and (f := read(cells[c])) is not None:
                return c, f
        return None

    def line(self, r: int) -> int:
        return next((c.line for c in self.table.rows[r]), self.table.line)

    def evidence(self, r: int, c: int, label: str) -> Evidence:
        """The cell: its table, row label and column header, what it holds, and where the
        report's reader finds it — not where it stands in the part the form was cut into:
        the cell's own line (one cell per line in the tab layout), in Word its table's row."""
        section = " › ".join((*self.table.section, self.title))
        head = self.labels[c] if c < len(self.labels) else ""
        text = self.cells(r)[c] if c < len(self.cells(r)) else ""
        row = self.table.rows[r]
        own = row[c] if c < len(row) and text and row[c].text.strip() == text else None
        line = own.line if own is not None else self.line(r)
        return Evidence(section, line, f"{label}｜{head}：{text or '（空）'}",
                        table_row=self.table.word_row(line))  # fmt: skip


def _block(table: Table, title: str, roles: tuple) -> Block:
    """The block a part of the form makes (ingest.national_form): its header is row 0, one
    row whatever the file had, each column named by its text."""
    spread = _texts(table, 0, spread=True)
    columns: dict[str, list[int]] = {}
    for c, head in enumerate(spread):
        if role := _role(head, roles):
            columns.setdefault(role, []).append(c)
    slots = [c for c, cell in enumerate(table.rows[0]) if not cell.merged]
    return Block(table, title, columns, spread, slots)


# --- funds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundRow:
    row: int
    label: str
    cells: dict[str, tuple[int, Figure]]  # role → (column, figure)
    units: dict[str, str]  # money role → 万元, 元 or "" as written


@dataclass
class Funds:
    block: Block
    rows: list[FundRow]
    weight: Figure | None  # written in the header (（20分）, 20分*执行率) when no column holds it
    groups: list[list[FundRow]]  # the 其中 lists after the total, each summing to it

    @property
    def total(self) -> FundRow | None:
        """The row the 其中 rows belong to (年度资金总额): the nearest above the first of them
        that holds a figure (not 按收入性质分)."""
        first = next((i for i, x in enumerate(self.rows) if x.label.startswith("其中")), 0)
        return next((x for x in reversed(self.rows[:first]) if x.cells), None)


def _money(text: str) -> Figure | None:
    found = _amount(text)
    return found[0] if found else None


def _rate_figure(text: str) -> Figure | None:
    return figure(_norm(text))


READERS = {"rate": _rate_figure, "weight": _weight} | {role: _money for role in MONEY}


def _read_funds(block: Block) -> Funds:
    table = block.table
    rows: list[FundRow] = []
    for r in range(1, len(table.rows)):
        texts = block.cells(r)
        label = _label(texts)
        if not label or any(w in label for w in FUND_END):
            if any(texts):
                break
            continue  # an empty row
        cells, units = {}, {}
        for role, cols in block.columns.items():
            found = block.first(r, role, READERS.get(role, _points))
            if found is None and any(texts[c] not in BLANK for c in cols if c < len(texts)):
                break  # words where a figure belongs: no row of money
            if found is not None:
                cells[role] = found
                if role in MONEY:
                    units[role] = _amount(texts[found[0]])[1]
        else:
            rows.append(FundRow(r, label, cells, units))
            continue
        break
    weight = None
    if "weight" not in block.columns:
        written = (re.search(r"(\d+(?:\.\d+)?)分(?!值)", _norm(t)) for t in _texts(table, 0))
        weight = next((_exact(figure(m[1])) for m in written if m), None)
    funds = Funds(block, rows, weight, [])
    if funds.total is not None:
        group: list[FundRow] = []
        for x in rows[rows.index(funds.total) + 1 :]:
            opens = x.label.startswith("其中") or (x.label.startswith("按") and not x.cells)
            if opens and group:
                funds.groups.append(group)
                group = []
            if x.cells or not x.label.startswith("按"):  # 按收入性质分: heads the next list
                group.append(x)
        funds.groups.append(group)
    return funds


# --- indicators -----------------------------------------------------------------------------


class Indicator(NamedTuple):
    """One 三级指标 of the form: what figures in the prose are linked to."""

    target: Measure  # 年度指标值, with its direction as written or inferred
    actual: Measure  # 实际完成值
    weight: Figure | None  # 分值
    score: Figure | None  # 得分 (a percentage is never one)
    cell: Evidence  # the 三级指标 cell: the table, its line, its text and place
    name: str  # as written, spaces removed
    level1: str  # 一级指标, its weight taken out (产出指标（50分） → 产出指标)
    level2: str
    reason: str  # 偏差原因分析及改进措施 as written ("" when empty or not in the form)
    row: int


_LEVEL_WEIGHT = re.compile(r"(.+?)（(\d+(?:\.\d+)?)分）")


def _level(text: str) -> tuple[str, Figure | None]:
    """产出指标（50分） → (产出指标, 50)."""
    m = _LEVEL_WEIGHT.fullmatch(_norm(text))
    return (m[1], _exact(figure(m[2]))) if m else (_norm(text), None)


@dataclass
class Indicators:
    block: Block
    rows: list[Indicator]
    # (一级指标, "") or (一级, 二级指标) → (its weight, row, column)
    levels: dict[tuple[str, str], tuple[Figure, int, int]]
    total: int | None  # the 总分 row: the list is whole
    reason: str  # a deviation analysis for the whole form, below the indicators
    grade: tuple[str, int, int] | None  # the grade the form states, and its cell


GRADE_WORDS = {"优": "优", "优秀": "优", "良": "良", "良好": "良", "中": "中", "中等": "中",
               "差": "差", "较差": "差"}  # fmt: skip


def _grade(texts: list[str]) -> tuple[str, int] | None:
    """自评等级 | 优, or 评价等级：良, in one row: the grade and its column."""
    for c, t in enumerate(texts):
        head, _, said = _norm(t).partition("：")
        if "等级" not in head:
            continue
        if said in GRADE_WORDS:
            return GRADE_WORDS[said], c
        after = next(((x, c + 1 + i) for i, x in enumerate(texts[c + 1 :]) if x), None)
        if after and _norm(after[0]) in GRADE_WORDS:
            return GRADE_WORDS[_norm(after[0])], after[1]
    return None


def _read_indicators(block: Block) -> Indicators:
    table = block.table
    rows: list[Indicator] = []
    levels: dict[tuple[str, str], tuple[Figure, int, int]] = {}
    l1 = l2 = ""
    total = stated = None
    reason = ""
    r = 1
    while r < len(table.rows):
        texts = block.cells(r)
        label = _label(texts)
        name = _norm(block.text(r, "name"))
        if not name and label.startswith(TOTAL_SCORE):
            total = r
            break
        if not name and any(w in label for w in INDICATOR_END):
            reason = " ".join(t for t in texts if t and _norm(t) != label)
            break
        for role in ("level1", "level2"):
            if written := block.text(r, role):
                word, weight = _level(written)
                l1, l2 = (word, "") if role == "level1" else (l1, word)
                if weight is not None:
                    levels.setdefault((l1, l2), (weight, r, block.columns[role][0]))
        line = block.line(r)
        weight, score = block.first(r, "weight", _weight), block.first(r, "score", _points)
        if not name:
            if weight and l1:  # a level's own row: 产出指标 | … | 50
                levels.setdefault((l1, l2), (weight[1], r, weight[0]))
            r += 1
            continue
        rows.append(
            Indicator(
                _direction(measure(block.text(r, "target"), line), name, l2),
                measure(block.text(r, "actual"), line),
                weight[1] if weight else None,
                score[1] if score else None,
                block.evidence(r, block.columns["name"][0], name),
                name,
                l1,
                l2,
                "" if _norm(block.text(r, "reason")) in BLANK else block.text(r, "reason"),
                r,
            )
        )
        r += 1
    for x in range(r, len(table.rows)):  # 自评等级 below the indicators
        if found := _grade(_texts(table, x)):
            stated = (found[0], x, found[1])
            break
    return Indicators(block, rows, levels, total, reason, stated)


# --- the form -------------------------------------------------------------------------------


@dataclass
class Form:
    """A 自评表: its funds, its indicators, or both, and the grids it was read from."""

    grids: list[Grid]
    funds: Funds | None = None
    indicators: Indicators | None = None

    @property
    def problem(self) -> Said | None:
        """Why the form cannot be checked: a table the reader could not lay out, or a row
        whose cells could not be put under the block's columns."""
        if table := next((g.table for g in self.grids if g.table.truncated), None):
            return table.problem or UNEVEN
        blocks = [b.block for b in (self.funds, self.indicators) if b is not None]
        rows = sorted(r for b in blocks for r in b.unaligned)
        if not rows:
            return None
        return Said(f"第{rows[0] + 1}行的单元格无法与表头对齐",
                    f"the cells of row {rows[0] + 1} cannot be put under the header")


def _form(g: Grid) -> Form | None:
    """The part of the form ``g`` is (``Table.form``, set by ingest.national_form), read."""
    table = g.table
    title = table.title or "绩效自评表"  # ingest.national_form names each part
    if table.form == "funds":
        funds = _read_funds(_block(table, title, FUND_ROLES))
        # A budget table of the report's own (预算数 | 执行数 | … | 合计) is no form.
        return Form([g], funds=funds) if _the_form_s(funds) else None
    if table.form == "indicators":
        return Form([g], indicators=_read_indicators(_block(table, title, INDICATOR_ROLES)))
    return None


def _the_form_s(funds: Funds) -> bool:
    """Funds as the form lays them out: a 年度资金总额 (or its 其中 rows), or points."""
    return (
        funds.weight is not None
        or "score" in funds.block.columns
        or any("总额" in x.label or x.label.startswith("其中") for x in funds.rows)
    )


def forms(grids: Iterable[Grid]) -> list[Form]:
    """Every 自评表 among the report's tables, in document order; a table of indicators just
    after a table of funds alone is the second part of the same form."""
    out: list[Form] = []
    for g in grids:
        form = _form(g)
        if form is None:
            continue
        last = out[-1] if out else None
        if (
            last is not None
            and last.indicators is None
            and form.funds is None
            and last.grids[-1].table.index + 1 == g.table.index
        ):
            last.indicators = form.indicators
            last.grids.append(g)
        else:
            out.append(form)
    return out


def others(grids: Iterable[Grid]) -> list[Grid]:
    """The grids that are no part of the form: those the other table rules read (a part the
    form's rules found no form in is still no table of columns to total)."""
    return [g for g in grids if g.table.form is None]


def indicators(found: Iterable[Form]) -> dict[str, Indicator]:
    """The report's own indicators: each 三级指标 (its name as written, spaces removed) → its
    target, actual, weight, score and cell. A name in two forms keeps its first; a form
    whose table could not be read whole gives none."""
    out: dict[str, Indicator] = {}
    for f in found:
        if f.indicators is not None and not f.problem:
            for i in f.indicators.rows:
                out.setdefault(i.name, i)
    return out


# --- the rules ------------------------------------------------------------------------------


def _q(x: Decimal) -> str:
    """A sum of written figures, exact as they are: 89.974, 100."""
    return format(x.normalize(), "f")


def _apart(lo: Decimal, hi: Decimal, f: Figure) -> bool:
    """No value inside ``f``'s rounding lies in [lo, hi]."""
    return hi < f.lo or lo > f.hi


def _sum(figs: list[Figure]) -> tuple[Decimal, Decimal, Decimal]:
    return sum(f.value for f in figs), sum(f.lo for f in figs), sum(f.hi for f in figs)


def form_findings(found: list[Form]) -> Iterator[Finding]:
    """Every rule of the 自评表 over every form; a form whose table was not read whole is
    said to be unverifiable instead."""
    for form in found:
        if problem := form.problem:
            yield unverifiable(form.grids[0], problem)
            continue
        if form.funds is not None:
            yield from _funds(form.funds)
        if form.indicators is not None:
            yield from _indicators(form.indicators)
            yield from _levels(form.indicators)
            yield from _totals(form, form.indicators)


# --- funds: 执行率, 得分, 其中 ------------------------------------------------------------------


def _percent(f: Figure, header: str) -> tuple[Decimal, Decimal]:
    """A rate as a percentage: 86%, 100.00 under 执行进度(%), or 0.1 meaning 10%."""
    if f.percent or "%" in header or f.value > 1:
        return f.lo, f.hi
    return HUNDRED * f.lo, HUNDRED * f.hi


def _execution(x: FundRow) -> tuple[Figure, Figure] | None:
    """(budget, spent) when both are written, in one unit, the budget above 0 (0 / 0, as
    彩票公益金 0 | 0 | 100%, says nothing)."""
    budget = x.cells.get("budget") or x.cells.get("initial")
    spent = x.cells.get("spent")
    if budget is None or spent is None or budget[1].value <= 0:
        return None
    units = {x.units.get(r) for r in ("budget", "initial", "spent") if x.units.get(r)}
    return (budget[1], spent[1]) if len(units) <= 1 else None


def _funds(funds: Funds) -> Iterator[Finding]:
    b = funds.block
    subject = f"form:{b.title}"
    for i, x in enumerate(funds.rows):
        execution = _execution(x)
        rate = x.cells.get("rate")
        computed = None
        if execution:
            a, s = execution
            computed = (HUNDRED * max(s.lo, 0) / a.hi, HUNDRED * s.hi / a.lo)
        stated = _percent(rate[1], b.labels[rate[0]]) if rate else None
        if computed and stated:
            lo, hi = computed
            capped = (min(lo, HUNDRED), min(hi, HUNDRED))  # spent above budget, shown as 100%
            if all(hi < stated[0] or lo > stated[1] for lo, hi in (computed, capped)):
                a, s = execution
                yield Finding(
                    "REPORT.RATE_RECOMPUTED",
                    f"form:{x.label}",
                    f"{b.labels[rate[0]]} {rate[1].text}",
                    f"{s.text} / {a.text} = {HUNDRED * s.value / a.value:.2f}%",
                    tuple(b.evidence(x.row, c, x.label) for c, _ in
                          (rate, x.cells.get("spent"), x.cells.get("budget") or x.cells["initial"])),
                )  # fmt: skip
        weight = x.cells.get("weight") or (
            (None, funds.weight) if i == 0 and funds.weight else None
        )
        score = x.cells.get("score")
        if weight and score:
            yield from _budget_score(b, x, weight, score, [r for r in (stated, computed) if r])
    total = funds.total
    for group in funds.groups:
        for role in MONEY:
            parts = [x for x in group if role in x.cells]
            if total is None or role not in total.cells or not parts:
                continue
            if len({u for x in (total, *parts) if (u := x.units.get(role))}) > 1:
                continue
            c, t = total.cells[role]
            figs = [x.cells[role][1] for x in parts]
            value, lo, hi = _sum(figs)
            if _apart(lo, hi, t):
                said = " + ".join(f"{x.label} {f.text}" for x, f in zip(parts, figs, strict=True))
                yield Finding(
                    "REPORT.TABLE_TOTAL",
                    subject,
                    f"{total.label} {b.labels[c]} {t.text}",
                    f"{_q(value)}{t.text.lstrip('-+0123456789.,')}（{said}）",
                    (b.evidence(total.row, c, total.label),
                     *(b.evidence(x.row, x.cells[role][0], x.label) for x in parts)),
                )  # fmt: skip


def _budget_score(b: Block, x: FundRow, weight: tuple[int | None, Figure],
                  score: tuple[int, Figure], rates: list[tuple[Decimal, Decimal]]) -> Iterator[Finding]:  # fmt: skip
    """得分 = 分值 × 执行率, capped at 分值, for the rate as written or as recomputed."""
    (wc, w), (sc, s) = weight, score
    cells = [b.evidence(x.row, sc, x.label)] + (
        [b.evidence(x.row, wc, x.label)] if wc is not None else []
    )
    if s.lo > w.hi:
        yield Finding("REPORT.GRADE", f"form:{x.label}", f"得分 {s.text}", f"分值仅 {w.text}",
                      tuple(cells), params=_above_weight(s, w))  # fmt: skip
        return
    if not rates:
        return

    def points(p: Decimal, v: Decimal) -> Decimal:
        return v * min(max(p, Decimal(0)), HUNDRED) / HUNDRED

    if all(_apart(points(lo, w.lo), points(hi, w.hi), s) for lo, hi in rates):
        lo, hi = rates[0]
        rate = (lo + hi) / 2
        yield Finding(
            "REPORT.FORM_BUDGET_SCORE",
            f"form:{x.label}",
            s.text,
            f"{w.text} × {rate:.2f}% = {points(rate, w.value):.2f}",
            tuple(cells),
        )


def _above_weight(s: Figure, w: Figure) -> dict[str, str]:
    """REPORT.GRADE's words in English for a score above its weight."""
    return {"claimed_en": f"scored {s.text}", "observed_en": f"the weight is only {w.text}"}


# --- indicators: 得分 ≤ 分值, missed targets ------------------------------------------------------


def _indicators(ind: Indicators) -> Iterator[Finding]:
    b = ind.block
    for i in ind.rows:
        w, s = i.weight, i.score
        cells = [c for role in ("score", "weight") if (c := b.first(i.row, role, _points))]
        where = tuple(b.evidence(i.row, c, i.name) for c, _ in cells)
        if w is not None and s is not None and s.lo > w.hi:
            yield Finding("REPORT.GRADE", f"form:{i.name}", f"得分 {s.text}", f"分值仅 {w.text}",
                          where, params=_above_weight(s, w))  # fmt: skip
            continue
        yield from _weighted(b, i)
        if not missed(i.target, i.actual):
            continue
        shortfall = f"年度指标值 {i.target.text}，实际完成值 {i.actual.text}"
        shortfall_en = f"target {i.target.text}, actual {i.actual.text}"
        if w is not None and s is not None and w.value > 0 and s.hi >= w.lo:
            yield Finding("REPORT.FORM_FULL_SCORE_MISSED", f"form:{i.name}", shortfall,
                          f"得分 {s.text}，分值 {w.text}", (i.cell, *where),
                          params={"claimed_en": shortfall_en,
                                  "observed_en": f"score {s.text} of {w.text}"})  # fmt: skip
        if "reason" in b.columns and not i.reason and not ind.reason:
            col = b.columns["reason"][0]
            yield Finding("REPORT.FORM_NO_REASON", f"form:{i.name}", shortfall,
                          "偏差原因分析及改进措施为空", (i.cell, b.evidence(i.row, col, i.name)),
                          params={"claimed_en": shortfall_en,
                                  "observed_en": f"'{b.labels[col]}' is empty"})  # fmt: skip


def _weighted(b: Block, i: Indicator) -> Iterator[Finding]:
    """折算得分 = 得分 × 权重占比, where the form weighs a score out of 100."""
    score, share = b.first(i.row, "score", _points), b.first(i.row, "share", _rate_figure)
    weighted = b.first(i.row, "weighted", _points)
    if score is None or share is None or weighted is None:
        return
    (sc, s), (pc, p), (wc, w) = score, share, weighted
    lo, hi = _percent(p, b.labels[pc])
    if _apart(s.lo * lo / HUNDRED, s.hi * hi / HUNDRED, w):
        value = s.value * (lo + hi) / 2 / HUNDRED
        yield Finding(
            "REPORT.FORM_WEIGHTED_SCORE",
            f"form:{i.name}",
            w.text,
            f"{s.text} × {p.text}{'' if p.percent else '%'} = {_q(value)}",
            tuple(b.evidence(i.row, c, i.name) for c in (wc, sc, pc)),
        )


def _levels(ind: Indicators) -> Iterator[Finding]:
    """A level's weight (产出指标（50分）) against what it holds: no 二级指标 or indicator
    weighing more than it, their weights never adding up to more, and to as much once the
    level's list is whole (more indicators follow it, or 总分)."""
    b = ind.block
    held: dict[tuple[str, str], list[Indicator]] = {}
    for i in ind.rows:
        held.setdefault((i.level1, ""), []).append(i)
        if i.level2:
            held.setdefault((i.level1, i.level2), []).append(i)
    below: dict[str, list[tuple[str, Figure, Evidence]]] = {}  # 一级指标 → its 二级' weights
    for (l1, l2), (x, r, c) in ind.levels.items():
        if l2:
            below.setdefault(l1, []).append((l2, x, b.evidence(r, c, l2)))
    for (l1, l2), (w, r, c) in ind.levels.items():
        level, own = l2 or l1, held.get((l1, l2), [])
        if not own:
            continue
        where = b.evidence(r, c, level)
        parts = [] if l2 else below.get(l1, [])
        parts += [(i.name, i.weight, b.evidence(i.row, b.first(i.row, "weight", _weight)[0],
                                                  i.name)) for i in own if i.weight is not None]  # fmt: skip
        for name, x, cell in parts:
            if x.lo > w.hi:
                yield Finding("REPORT.FORM_WEIGHTS", f"form:{name}", f"分值 {x.text}",
                              f"所属「{level}」分值仅 {w.text}", (cell, where),
                              params={"claimed_en": f"weight {x.text}",
                                      "observed_en": f"its level '{level}' weighs only {w.text}"})  # fmt: skip
        weights = [i.weight for i in own]
        if not all(weights):
            continue
        value, lo, hi = _sum(weights)
        whole = ind.total is not None or own[-1] is not ind.rows[-1]
        if lo > w.hi or (whole and hi < w.lo):
            said = " + ".join(x.text for x in weights)
            yield Finding(
                "REPORT.FORM_WEIGHTS",
                f"form:{level}",
                f"分值 {w.text}",
                f"其下各指标分值合计 {_q(value)}（{said}）",
                (where, *(i.cell for i in own)),
                params={"claimed_en": f"weight {w.text}",
                        "observed_en": f"the weights under it sum to {_q(value)} ({said})"},
            )


# --- the whole form: 总分, weights summing to 100, the grade ------------------------------------


def _budget_part(form: Form, ind: Indicators, role: str) -> tuple[bool, Figure | None]:
    """The funds' share of 总分 (their 得分 or 分值): (known, figure). Known and none when the
    预算执行率 is scored among the indicators or the funds carry no such column."""
    if any("预算执行率" in i.name for i in ind.rows):
        return True, None
    funds = form.funds
    if funds is None:
        return False, None
    first = funds.rows[0] if funds.rows else None
    if first is not None and role in first.cells:
        return True, first.cells[role][1]
    if role == "weight" and funds.weight is not None:
        return True, funds.weight
    if role in funds.block.columns or (role == "weight" and "score" in funds.block.columns):
        return False, None  # scored, but in no cell read
    return True, None  # funds that carry no points (the 转移支付 form)


def _totals(form: Form, ind: Indicators) -> Iterator[Finding]:
    b = ind.block
    if ind.total is None or not ind.rows:
        return
    r = ind.total
    score, weight = b.first(r, "score", _points), b.first(r, "weight", _weight)
    if score is None and weight is None:  # merged across the columns: weight, then score
        figs = [(c, f) for c, t in enumerate(b.cells(r)) if (f := _points(t))]
        score = figs[-1] if figs else None
        weight = (figs[0][0], _exact(figs[0][1])) if len(figs) >= 2 else None
    subject = f"form:{b.title}"
    label = _label(b.cells(r))
    for role, stated in (("score", score), ("weight", weight)):
        values = [getattr(i, role) for i in ind.rows]
        if not all(v is not None for v in values):
            continue
        known, budget = _budget_part(form, ind, role)
        parts = values + ([budget] if budget is not None else [])
        if stated is not None:
            *parts, total = common_precision([*parts, stated[1]])
            stated = (stated[0], total)
        value, lo, hi = _sum(parts)
        said = " + ".join(f.text for f in parts)
        # 总分 counts the funds' points; a 合计 under the indicators may count theirs alone.
        alone, alone_lo, alone_hi = _sum(parts[: len(values)])
        alone_said = f"；不计资金{'得分' if role == 'score' else '分值'}为 {_q(alone)}"
        alone_en = f"; without the funds' {role}, {_q(alone)}"
        if stated is not None and (
            (_apart(lo, hi, stated[1]) and _apart(alone_lo, alone_hi, stated[1]))
            if known
            else alone_lo > stated[1].hi
        ):
            yield Finding(
                "REPORT.TABLE_TOTAL",
                subject,
                f"{label}{' 分值' if role == 'weight' else ''} {stated[1].text}",
                f"{_q(value)}（{said}{alone_said if budget is not None else ''}）",
                (b.evidence(r, stated[0], label),),
                params={"claimed_en": f"{label}{' weight' if role == 'weight' else ''} {stated[1].text}",
                        "observed_en": f"{_q(value)} ({said}{alone_en if budget is not None else ''})"},
            )
        elif role == "weight" and known and (hi < HUNDRED or lo > HUNDRED):
            yield Finding(
                "REPORT.FORM_WEIGHTS",
                subject,
                f"各项分值合计 {_q(value)}（{said}）",
                "应为 100",
                (b.evidence(r, stated[0] if stated else 0, label),),
                params={"claimed_en": f"the weights sum to {_q(value)} ({said})",
                        "observed_en": "they should make 100"},
            )  # fmt: skip
    if ind.grade is not None and score is not None:
        said, gr, gc = ind.grade
        s = score[1]
        bands = {next(g for g, floor in GRADES if max(x, 0) >= floor) for x in (s.lo, s.hi)}
        if said not in bands:
            yield Finding(
                "REPORT.GRADE",
                "score:grade",
                f"总分 {s.text}，等级为{said}",
                f"按 优 ≥ 90、良 80–90、中 60–80、差 < 60，应为{'或'.join(sorted(bands))}",
                (b.evidence(r, score[0], label), b.evidence(gr, gc, "等级")),
                params=grade_en(s.text, said, bands),
            )
