"""Rules over the report's prose: the same figure twice, rates, products, grades, dates,
completeness, names, rankings and claims of success."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal

from jixiao.checks.findings import Evidence, Finding
from jixiao.checks.tables import Grid
from jixiao.ingest.claims import Claim, interval
from jixiao.ingest.report import Document
from jixiao.schemas.vocabulary import Vocabulary

GRADES = (("优", Decimal(90)), ("良", Decimal(80)), ("中", Decimal(60)), ("差", Decimal(0)))
SUCCESS = (
    "完成全年预定的绩效目标",
    "全面完成",
    "均已完成",
    "圆满完成",
    "较好实现",
    "全部完成",
    "均完成",
)
SAME_SCALE = ("%", "分")  # a satisfaction stated as 96.47% or 96.49分 is one figure
# Rules that compare statements pairwise (deadlines, shortfalls against table rows, names,
# survey tables, level-1 scores) take at most this many distinct ones: a real report has a
# few dozen, and the bound keeps the pairs of a forged one finite. A clause stated with more
# distinct figures than _MAX_FORMS is a list, not one figure stated differently.
_MAX_PAIRED = 500
_MAX_FORMS = 12


def ev(c: Claim) -> Evidence:
    return Evidence(" › ".join(c.section), c.line, c.sentence)


def _q(x: Decimal) -> str:
    return format(x.normalize(), "f") if x == x.to_integral() else f"{x:.2f}"


def _apart(a: Claim, b: Claim) -> bool:
    (alo, ahi), (blo, bhi) = interval(a), interval(b)
    return ahi < blo or bhi < alo


def _prose(claims: list[Claim]) -> list[Claim]:
    return [c for c in claims if c.table is None]


def _label(c: Claim) -> str:
    return c.subject or ""


_CLAUSE = re.compile(r"[，,；;。：:！？]")
_MARKER = re.compile(r"^\s*([（(]\s*\d+\s*[)）]|\d+[.、]|[①-⑳])\s*")


# Characters that name nothing: cue words, digits, punctuation.
_NOT_NAMING = r"[^\u4e00-\u9fa5A-Za-z]|目标|实际|不低于|不少于|不超过|不高于|完成|计划|评价|得分|为"


_NUMERAL = frozenset("0123456789.零一二两三四五六七八九十百千万")


def _whole_figure(clause: str, text: str) -> int:
    """Where ``text`` first stands in ``clause`` as a whole figure (一个县 is not the tail of
    十一个县), or -1."""
    at = clause.find(text)
    while at > 0 and clause[at - 1] in _NUMERAL:
        at = clause.find(text, at + 1)
    return at


def clause_context(c: Claim, occurrence: int = 0) -> str:
    """The clause a figure stands in, with the figure taken out, so that two statements of
    one thing read alike (6个县市区残联完成招聘会 / 5个县市区残联完成招聘会). A clause too
    short to name its subject (目标不少于#) takes the clauses before it (发放补贴人数：…)."""
    clauses = [x for x in _CLAUSE.split(c.sentence) if x]
    found = [(i, at) for i, x in enumerate(clauses) if (at := _whole_figure(x, c.text)) >= 0]
    if not found:
        return ""
    at, start = found[min(occurrence, len(found) - 1)]
    context = clauses[at][:start] + "#" + clauses[at][start + len(c.text) :]
    while at > 0 and len(re.sub(_NOT_NAMING, "", context)) < 6:
        at -= 1
        context = clauses[at] + "：" + context
    return _MARKER.sub("", context).strip()


def _anchored(c: Claim, vocab: Vocabulary) -> bool:
    """The figure's own sentence names its subject (not a heading or a neighbour)."""
    return any(w in c.sentence for w, v in vocab.subjects.words.items() if v == c.subject)


def figure_disagrees(claims: list[Claim], vocab: Vocabulary) -> Iterator[Finding]:
    """The same figure stated with two values in two sections: either the same clause with
    another number, or one subject, measure and role with exactly two values (a group with
    more is a breakdown — 城区 120 户, 农村 180 户 — not a contradiction)."""
    prose = [c for c in _prose(claims) if c.value is not None and c.kind != "date"]
    by_clause: dict[tuple, list[Claim]] = defaultdict(list)
    groups: dict[tuple, list[Claim]] = defaultdict(list)
    seen_text: Counter = Counter()
    for c in prose:
        seen_text[(c.line, c.text)] += 1  # the second 十个县 of a line is its second clause
        context = clause_context(c, seen_text[(c.line, c.text)] - 1)
        if len(context) >= 6 and context != "#":
            by_clause[(context, c.unit)].append(c)
        role = c.role
        if (
            c.subject
            and c.measure
            and role in ("target", "actual")
            and c.subject not in vocab.generic
            and _anchored(c, vocab)
        ):
            scale = ("level", "level") if c.unit in SAME_SCALE and role == "actual" else None
            groups[(c.subject, *(scale or (c.measure, c.unit)), role, c.bound)].append(c)
    pairs = [pair for group in by_clause.values() for pair in _later_in_other_sections(group)]
    for group in groups.values():
        if len({c.value for c in group}) == 2:
            a, b = sorted({c.value: c for c in group}.values(), key=lambda c: c.line)
            pairs.append((a, b))
    seen = set()
    for a, b in pairs:
        if a.section == b.section or not _apart(a, b) or (a.value, b.value) in seen:
            continue
        if a.kind == "money" and max(a.value, b.value) > 5 * min(a.value, b.value):
            continue  # a standard and a total (400元, 12万元) mislabelled alike: not one figure
        seen.add((a.value, b.value))
        measure = "level" if a.unit in SAME_SCALE and a.unit != b.unit else (a.measure or "")
        yield Finding(
            "REPORT.FIGURE_DISAGREES",
            f"indicator:{a.subject or clause_context(a)[:20]}:{measure}",
            a.text,
            b.text,
            (ev(a), ev(b)),
            where=f"第 {b.line} 行",
        )


def _later_in_other_sections(group: list[Claim]) -> list[tuple[Claim, Claim]]:
    """(a, b) for each claim a of a clause group (in line order) and each figure b of
    another value: the first such b written that way (value, digits, kind) on a later line
    in another section, in line order. These are the only pairs a scan of every later claim
    could report, since the rule's other tests depend on the figures alone; found by
    bisection, so a report repeating a clause k times costs k, not k², pairs."""
    forms: dict[tuple, list[Claim]] = defaultdict(list)
    for c in group:
        forms[(c.value, c.exponent, c.kind)].append(c)
    if len(forms) < 2 or len(forms) > _MAX_FORMS:
        return []
    order = {id(c): i for i, c in enumerate(group)}
    index = []
    for claims in forms.values():
        # other[j]: the first claim after j in another section than claim j's
        other = [len(claims)] * len(claims)
        for j in range(len(claims) - 2, -1, -1):
            same = claims[j + 1].section == claims[j].section
            other[j] = other[j + 1] if same else j + 1
        index.append((claims, [c.line for c in claims], other))
    pairs = []
    for a in group:
        found = []
        for claims, lines, other in index:
            if claims[0].value == a.value:
                continue
            j = bisect.bisect_right(lines, a.line)
            if j < len(claims) and claims[j].section == a.section:
                j = other[j]
            if j < len(claims):
                found.append(claims[j])
        pairs += [(a, b) for b in sorted(found, key=lambda b: order[id(b)])]
    return pairs


def _same_paragraph(claims: list[Claim]) -> dict[int, list[Claim]]:
    by_line: dict[int, list[Claim]] = defaultdict(list)
    for c in _prose(claims):
        by_line[c.line].append(c)
    return by_line


def indicator_lines(claims: list[Claim]) -> Iterator[tuple[Claim, Claim, list[Claim]]]:
    """Lines that state an indicator: a target with a floor or ceiling, the actual of the
    same subject and measure, and the rates that go with it: those after it on the line up
    to the next indicator (and those before the first). A line of n indicators and n rates
    gives n pairs, not n²: a rate belongs to one indicator."""
    for line in _same_paragraph(claims).values():
        actuals: dict[tuple, Claim] = {}  # the line's first actual of each subject and unit
        for a in line:
            if a.role == "actual" and a.value is not None:
                actuals.setdefault((a.subject, a.unit), a)
        indicators = [
            (i, t, actuals[t.subject, t.unit])
            for i, t in enumerate(line)
            if t.role == "target"
            and t.bound in (">=", "<=")
            and t.value is not None
            and (t.subject, t.unit) in actuals
        ]
        if not indicators:
            continue
        starts = [i for i, _, _ in indicators]
        rates: list[list[Claim]] = [[] for _ in indicators]
        for i, r in enumerate(line):
            if r.role == "rate" and r.value is not None:
                rates[max(bisect.bisect_left(starts, i) - 1, 0)].append(r)
        for (_, t, actual), own in zip(indicators, rates, strict=True):
            yield t, actual, own


def rates(claims: list[Claim]) -> Iterator[Finding]:
    for t, a, rs in indicator_lines(claims):
        (tlo, thi), (alo, ahi) = interval(t), interval(a)
        if tlo <= 0 and t.bound == ">=":
            continue
        if t.bound == ">=":  # a floor: reaching it is 100%
            lo, hi = min(100 * alo / thi, Decimal(100)), min(100 * ahi / tlo, Decimal(100))
        elif ahi <= tlo:  # a ceiling kept: 100%
            lo = hi = Decimal(100)
        else:
            continue  # a ceiling exceeded: programmes score it in different ways
        for r in rs:
            rlo, rhi = interval(r)
            if rhi < lo or rlo > hi:
                observed = (
                    f"{a.text} / {t.text} = {min(100 * a.value / t.value, Decimal(100)):.2f}%"
                    if t.bound == ">="
                    else f"实际 {a.text} 未超过上限 {t.text}，应为 100%"
                )
                yield Finding(
                    "REPORT.RATE_RECOMPUTED", f"indicator:{t.subject}", r.text, observed, (ev(r),)
                )


def missed_target_claimed(doc: Document, claims: list[Claim]) -> Iterator[Finding]:
    missed = [
        (t, a) for t, a, _ in indicator_lines(claims) if t.bound == ">=" and a.value < t.value
    ]
    if not missed:
        return
    t, a = missed[0]
    for p in doc.paragraphs:
        phrase = next((s for s in SUCCESS if s in p.text), None)
        if phrase and not any(w in p.text for w in ("未完成", "未能", "未达到", "除")):
            yield Finding(
                "REPORT.MISSED_TARGET_CLAIMED",
                f"indicator:{t.subject}",
                f"「{phrase}」",
                f"目标 {t.text}，实际 {a.text}",
                (Evidence(" › ".join(p.section), p.line, p.text[:80]), ev(a)),
            )


def _single(claims: list[Claim]) -> Claim | None:
    values = {c.value for c in claims}
    return claims[0] if len(values) == 1 else None


_COUNTED = ("户", "人", "名", "场", "次", "期", "台", "件", "个", "套", "人次", "起")


def _product_fits(count: Claim, standard: Claim, amount: Claim) -> bool:
    (slo, shi), (nlo, nhi), (alo, ahi) = interval(standard), interval(count), interval(amount)
    return not (ahi < slo * nlo or alo > shi * nhi)


def products(claims: list[Claim]) -> Iterator[Finding]:
    """A count × its per-unit standard against the amount: within one line (按每户400元的标准
    计300户，合计12万元), else within one subject across the report."""
    seen = set()
    by_line: dict[int, list[Claim]] = defaultdict(list)
    for c in _prose(claims):
        if c.value is not None:
            by_line[c.line].append(c)
    for line in by_line.values():
        standards = [c for c in line if c.measure == "per_unit" and c.kind == "money"]
        if len(standards) != 1:
            continue
        standard = standards[0]
        counts = [
            c for c in line if c.kind == "count" and c.unit in _COUNTED and c.line == standard.line
        ]
        if len(counts) != 1:
            continue
        first: dict[Claim, int] = {}  # where a claim (or an equal one) first stands on the line
        for i, c in enumerate(line):
            first.setdefault(c, i)
        after = [c for c in line if c.kind == "money" and c is not standard
                 and first[c] > first[counts[0]]]  # fmt: skip
        if after and not any(_product_fits(counts[0], standard, a) for a in after):
            seen.add(standard.line)
            yield _product_finding(counts[0], standard, after[0])
    by_subject: dict[str, list[Claim]] = defaultdict(list)
    for c in _prose(claims):
        if c.subject and c.value is not None and c.role != "target" and c.line not in seen:
            by_subject[c.subject].append(c)
    for group in by_subject.values():
        standard = _single([c for c in group if c.measure == "per_unit" and c.unit == "元"])
        count = _single([c for c in group if c.kind == "count" and c.unit in _COUNTED])
        amounts = [c for c in group if c.kind == "money" and c.measure != "per_unit"]
        if standard is None or count is None or not amounts:
            continue
        if not any(_product_fits(count, standard, a) for a in amounts):
            yield _product_finding(count, standard, amounts[0])


def _product_finding(count: Claim, standard: Claim, amount: Claim) -> Finding:
    return Finding(
        "REPORT.PRODUCT",
        f"indicator:{count.subject or standard.subject}",
        f"{count.text} × {standard.text} 与 {amount.text}",
        f"{_q(count.value * standard.value)} 元",
        (ev(count), ev(standard), ev(amount)),
        amount_yuan=abs(amount.value - count.value * standard.value),
    )


def headcount_percent(claims: list[Claim]) -> Iterator[Finding]:
    people: dict[str, list[Claim]] = defaultdict(list)
    for c in _prose(claims):
        if c.role == "actual" and c.unit in ("人", "名") and c.value and c.subject:
            people[c.subject].append(c)
    on_line: dict[int, list[Claim]] = defaultdict(list)
    for c in _prose(claims):
        if c.unit in ("人", "名") and c.value and c.value > 0 and c.role != "target":
            on_line[c.line].append(c)
    # The head-count a percentage is of: the one on its line, else its subject's; each
    # decided once, not once per percentage.
    of_line = {line: _single(found) for line, found in on_line.items()}
    of_subject = {subject: _single(found) for subject, found in people.items()}
    for c in _prose(claims):
        if c.unit != "%" or c.role != "actual" or c.value is None:
            continue
        n = of_line[c.line] if c.line in of_line else of_subject.get(c.subject)
        if n is None or not 0 < c.value < 100:
            continue
        lo, hi = interval(c)
        if not _whole_share(lo, hi, int(n.value)):
            yield Finding(
                "REPORT.HEADCOUNT_PERCENT",
                f"indicator:{c.subject}",
                c.text,
                n.text.rstrip("人名") if n.text[-1] in "人名" else n.text,
                (ev(c), ev(n)),
            )


def _whole_share(lo: Decimal, hi: Decimal, total: int) -> bool:
    """Whether some whole k of ``total`` people makes a percentage within [lo, hi].

    k / total rises with k, so if any k fits, the least k reaching lo does: ⌈lo·total/100⌉,
    or one less where the division rounds up to lo. Two divisions, not one per person."""
    least = math.ceil(lo * total / 100)
    candidates = {min(max(k, 0), total) for k in (least - 1, least)}
    return any(lo <= Decimal(100 * k) / total <= hi for k in candidates)


_ITEM = re.compile(r"^\s*([（(]\s*\d+\s*[)）]|\d+[.、])")


def budget_total(doc: Document, claims: list[Claim]) -> Iterator[Finding]:
    """Enumerated budget lines ((1)… 下达10.5万元，使用10.5万元) in a section against the
    total the section states before them, allocated and spent each against its own."""
    items = {p.line for p in doc.paragraphs if _ITEM.match(p.text)}
    by_section: dict[tuple, list[Claim]] = defaultdict(list)
    for c in _prose(claims):
        if c.kind == "money" and c.value is not None and c.measure != "per_unit":
            by_section[c.section].append(c)
    for money in by_section.values():
        lines: dict[int, list[Claim]] = defaultdict(list)
        for c in money:
            if c.line in items:
                lines[c.line].append(c)
        if len(lines) < 2:
            continue
        first_item = min(lines)
        totals = [c for c in money if c.line not in items and c.line < first_item]
        for role in ("target", "actual"):
            parts = []
            for figures in lines.values():
                own = [c for c in figures if c.role == role]
                part = (
                    own[0]
                    if own
                    else (figures[0] if len(figures) == 1 and not figures[0].role else None)
                )
                if part is not None:
                    parts.append(part)
            stated = [t for t in totals if t.role in (role, None)]
            if len(parts) != len(lines) or not stated:
                continue
            lo = sum(interval(c)[0] for c in parts)
            hi = sum(interval(c)[1] for c in parts)
            if all(interval(t)[1] < lo or interval(t)[0] > hi for t in stated):
                t = stated[0]
                total = sum(c.value for c in parts)
                yield Finding(
                    "REPORT.BUDGET_TOTAL",
                    "budget:total",
                    t.text,
                    f"{_q(total)} 元（{' + '.join(c.text for c in parts)}）",
                    (ev(t), *map(ev, parts)),
                    amount_yuan=abs(t.value - total),
                )


def _by_line(claims: list[Claim]) -> dict[int, list[Claim]]:
    """Claims by line, in report order: a rule asking per paragraph looks its line up."""
    by_line: dict[int, list[Claim]] = defaultdict(list)
    for c in claims:
        by_line[c.line].append(c)
    return by_line


def grades(doc: Document, claims: list[Claim], grids: list[Grid]) -> Iterator[Finding]:
    stated = re.compile(r"(?:评定)?等级为\s*[“\"「]?([优良中差])")
    by_line = _by_line([c for c in claims if c.unit == "分" and c.value is not None])
    for p in doc.paragraphs:
        m = stated.search(p.text)
        if not m:
            continue
        scores = [c for c in by_line.get(p.line, []) if c.value <= 100]
        if not scores:
            continue
        score = scores[-1]
        band = next(g for g, floor in GRADES if score.value >= floor)
        if band != m.group(1):
            yield Finding(
                "REPORT.GRADE",
                "score:grade",
                f"得分 {score.text}，等级为{m.group(1)}",
                f"按 优 ≥ 90、良 80–90、中 60–80、差 < 60，应为{band}",
                (Evidence(" › ".join(p.section), p.line, p.text[:80]),),
            )
    yield from _level1(doc, grids)


def _level1(doc: Document, grids: list[Grid]) -> Iterator[Finding]:
    """Level-1 scores: not above their weight; as the text states them; summing to the total."""
    stated = re.compile(
        r"([\u4e00-\u9fa5A-Za-z]{2,12})[（(]满分\s*([\d.]+)\s*分[，,]\s*(?:评价)?得分\s*([\d.]+)\s*分"
    )
    rows: dict[str, tuple[Decimal, Decimal]] = {}
    for g in grids:
        table = g.table
        w = g.col("权重", "满分", "分值", exclude=("率",))
        s = g.col("得分", exclude=("率", "扣"))
        if w is None or s is None:
            continue
        for r in range(len(g.rows)):
            a, b = g.fig(r, w), g.fig(r, s)
            if a is None or b is None:
                continue
            if g.group(r) in rows or len(rows) < _MAX_PAIRED:  # matched by every stated score
                rows[g.group(r)] = (a.value, b.value)
            if b.lo > a.hi:
                yield Finding(
                    "REPORT.GRADE",
                    f"score:{g.group(r)}",
                    f"「{g.group(r)}」得分 {b.text}",
                    f"超过其权重 {a.text}",
                    (Evidence(" › ".join(table.section), g.lines[r], " ".join(g.rows[r])),),
                )
    for p in doc.paragraphs:
        for m in stated.finditer(p.text):
            name, weight, score = m.group(1), Decimal(m.group(2)), Decimal(m.group(3))
            match = [v for k, v in rows.items() if name in k or (k and k[1:] in name)]
            if score > weight:
                yield Finding(
                    "REPORT.GRADE",
                    f"score:{name}",
                    f"「{name}」得分 {m.group(3)} 分",
                    f"超过满分 {m.group(2)} 分",
                    (Evidence(" › ".join(p.section), p.line, m.group(0)),),
                )
            elif len(match) == 1 and (match[0][0] != weight or match[0][1] != score):
                yield Finding(
                    "REPORT.GRADE",
                    f"score:{name}",
                    f"「{name}」满分 {m.group(2)} 分、得分 {m.group(3)} 分",
                    f"评分表中为满分 {_q(match[0][0])}、得分 {_q(match[0][1])}",
                    (Evidence(" › ".join(p.section), p.line, m.group(0)),),
                )


def dates(doc: Document, claims: list[Claim]) -> Iterator[Finding]:
    """Deadlines of one activity stated differently; the report dated before its own
    evaluation work ended."""
    # A deadline restated in the same words and section adds no pair: the first stands for
    # it. Pairs are compared among the first _MAX_PAIRED distinct ones, each activity's
    # runs of six characters made once, so the cost stays linear in the report's length.
    distinct: dict[tuple, Claim] = {}
    for c in _prose(claims):
        if c.date and c.bound == "by":
            distinct.setdefault((c.subject, _activity(c), c.date, c.section), c)
    deadlines = list(distinct.items())[:_MAX_PAIRED]
    runs = [_runs(activity, 6) for (_, activity, _, _), _ in deadlines]
    seen = set()
    for i, ((_, activity, _, _), a) in enumerate(deadlines):
        for j in range(i + 1, len(deadlines)):
            b = deadlines[j][1]
            if a.date == b.date or a.section == b.section:
                continue
            if not (a.subject and a.subject == b.subject) and runs[i].isdisjoint(runs[j]):
                continue
            key = (a.subject or activity, frozenset((a.date, b.date)))
            if key in seen:
                continue
            seen.add(key)
            yield Finding(
                "REPORT.DATE_CONFLICT",
                f"deadline:{a.subject or activity[:16]}",
                f"{a.date.isoformat()} 前",
                f"{b.date.isoformat()} 前",
                (ev(a), ev(b)),
                where=f"第 {b.line} 行",
            )
    if doc.dated is None:
        return
    periods = re.compile(r"至|—|－|~")
    dated = _by_line([c for c in claims if c.date])
    for p in doc.paragraphs:
        on_line = sorted(dated.get(p.line, []), key=lambda c: c.date)
        if (
            len(on_line) >= 2
            and periods.search(p.text)
            and any(w in p.text for w in ("评价", "分析", "核实"))
        ):
            end = on_line[-1]
            if end.date > doc.dated:
                yield Finding(
                    "REPORT.DATE_CONFLICT",
                    "report:date",
                    f"报告日期 {doc.dated.isoformat()}",
                    f"评价工作至 {end.date.isoformat()} 才结束",
                    (ev(end),),
                    where=f"第 {end.line} 行",
                )


_DATE_TEXT = re.compile(
    r"\d{4}年\d{1,2}月\d{1,2}日|[（(]?\d+[)）.、]|目标|实际|按时|完成|前|之前|以前"
)


def _activity(c: Claim) -> str:
    """What a deadline is for: its sentence without dates, numbering and cue words."""
    return re.sub(r"[^\u4e00-\u9fa5]", "", _DATE_TEXT.sub("", c.sentence))


def _runs(text: str, size: int) -> set[str]:
    """Every run of ``size`` characters in ``text``: two texts share one when these meet."""
    return {text[i : i + size] for i in range(len(text) - size + 1)}


_CN = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}


def _count(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text in _CN:
        return _CN[text]
    if text.startswith("十") and len(text) == 2 and text[1] in _CN:
        return 10 + _CN[text[1]]
    return None


def completeness(doc: Document, claims: list[Claim], grids: list[Grid]) -> Iterator[Finding]:
    yield from _unreported_indicators(doc, claims)
    yield from _indicator_count(doc)
    yield from _question_count(doc, grids)
    yield from _appendices(doc)


_TOP = re.compile(r"^(第[一二三四五六七八九十]+[部分章]|[一二三四五六七八九十]+、)")


def _top(section: tuple[str, ...]) -> str:
    """The numbered top-level heading a line stands under (摘要 / 正文 wrappers skipped)."""
    return next((h for h in section if _TOP.match(h)), section[0] if section else "")


def _unreported_indicators(doc: Document, claims: list[Claim]) -> Iterator[Finding]:
    """Targets listed where they are set and missing from a second listing where they are
    reported on. A listing entry is a bounded target on an enumerated line ((1)…不低于9场)
    or beside its actual; entries are matched by what they say (unit, bound, value, date),
    not by a subject two phrasings may attribute differently. Within one top-level section,
    subsections repeating the same targets (绩效目标, 实施流程) count once."""
    items = {p.line for p in doc.paragraphs if _ITEM.match(p.text)}
    by_line: dict[int, list[Claim]] = defaultdict(list)
    for c in _prose(claims):
        by_line[c.line].append(c)
    paths: dict[str, dict[tuple, Counter]] = defaultdict(lambda: defaultdict(Counter))
    first: dict[tuple, Claim] = {}
    for line, found in sorted(by_line.items()):
        actual_units = {c.unit for c in found if c.role == "actual"}
        for c in found:
            if c.role != "target" or not c.bound or not (line in items or c.unit in actual_units):
                continue
            key = (c.unit, c.bound, str(c.value), str(c.date))
            if (line, key) not in first:
                first[(line, key)] = c
                paths[_top(c.section)][c.section][key] += 1
    listings: dict[str, Counter] = {}
    for top, per in paths.items():
        union = Counter()
        for counter in per.values():
            union |= counter
        listings[top] = union
    ranked = sorted(listings.items(), key=lambda kv: sum(kv[1].values()), reverse=True)
    if len(ranked) < 2:
        return
    top, full = ranked[0]
    entries = [(key, c) for (_, key), c in sorted(first.items()) if _top(c.section) == top]
    for section, other in ranked[1:]:
        shared = sum((full & other).values())
        if sum(other.values()) < 3 or shared * 2 < sum(full.values()):
            continue  # not a second listing of the same indicators
        missing = full - other
        for key, c in entries:
            if missing[key] > 0:
                missing[key] -= 1
                yield Finding(
                    "REPORT.INCOMPLETE",
                    f"indicator:{c.subject}",
                    f"目标「{c.sentence[:40]}」",
                    f"「{section}」未报告其完成情况",
                    (ev(c),),
                )


_DECLARED = re.compile(
    r"共(?:设置|设立|设定|有|计)?\s*([0-9一二两三四五六七八九十]{1,3})\s*(?:项|个)(?:绩效)?指标"
)


def _indicator_count(doc: Document) -> Iterator[Finding]:
    """共设置14项绩效指标 against the enumerated lines that follow it in its section."""
    paragraphs = doc.paragraphs
    # items[i]: how many enumerated lines follow paragraph i without a break
    items = [0] * (len(paragraphs) + 1)
    for i in range(len(paragraphs) - 2, -1, -1):
        items[i] = items[i + 1] + 1 if _ITEM.match(paragraphs[i + 1].text) else 0
    for i, p in enumerate(paragraphs):
        m = _DECLARED.search(p.text)
        if not m or (n := _count(m.group(1))) is None:
            continue
        listed = items[i]
        if listed >= 2 and listed != n:
            yield Finding(
                "REPORT.INCOMPLETE",
                "indicators:count",
                f"「{m.group(0)}」",
                f"其后列出 {listed} 项",
                (Evidence(" › ".join(p.section), p.line, m.group(0)),),
            )


def _question_count(doc: Document, grids: list[Grid]) -> Iterator[Finding]:
    stated = re.compile(r"([0-9一二两三四五六七八九十]{1,3})个问题")
    listed = {}  # the survey tables' question counts, each once, for every sentence
    for g in grids:
        if g.table.truncated:
            continue
        questions = {g.group(r) for r in range(len(g.rows)) if not g.total_row(r) and g.kind(r)}
        questions = {q for q in questions if q and q[0].isdigit()}
        if len(questions) >= 2:
            listed.setdefault(len(questions))
    for p in doc.paragraphs:
        m = stated.search(p.text)
        if not m or (n := _count(m.group(1))) is None:
            continue
        for count in listed:
            if count != n:
                yield Finding(
                    "REPORT.INCOMPLETE",
                    "survey:questions",
                    f"「{m.group(0)}」",
                    f"调查表列出 {count} 个问题",
                    (Evidence(" › ".join(p.section), p.line, m.group(0)),),
                )


def _appendices(doc: Document) -> Iterator[Finding]:
    ref = re.compile(r"附表\s*(\d+)\s*[:：]?\s*(《[^》]{0,60}》|[^，。；]{0,60})")
    year = re.search(r"(\d{4})年", doc.title or "")
    titles = " ".join((t.title or "") for t in doc.tables) + " ".join(
        p.text for p in doc.paragraphs if p.text.startswith("附表")
    )
    titles = titles.replace(" ", "")
    for p in doc.paragraphs:
        for m in ref.finditer(p.text):
            if p.text.startswith("附表"):
                continue
            problems = []
            cited = re.search(r"(\d{4})\s*年", m.group(2))
            if year and cited and cited.group(1) != year.group(1):
                problems.append(f"为 {cited.group(1)} 年，而报告评价的是 {year.group(1)} 年")
            if f"附表{m.group(1)}" not in titles:
                problems.append("报告中没有该附表")
            if problems:
                yield Finding(
                    "REPORT.INCOMPLETE",
                    f"appendix:{m.group(1)}",
                    f"引用附表{m.group(1)}「{m.group(2)[:30]}」",
                    "；".join(problems),
                    (Evidence(" › ".join(p.section), p.line, m.group(0)),),
                )


_UNIT = re.compile(r"[\u4e00-\u9fa5]{2,4}?[省市县州区][\u4e00-\u9fa5]{2,12}?(?:中心|联合会|委员会)")
_OFFICE = re.compile(r"(?=([\u4e00-\u9fa5]{4}[处科室股]))")


def name_variants(doc: Document) -> Iterator[Finding]:
    """A unit (…市…中心) or an office (四字 + 处/科) written two ways that differ in one
    short inner stretch: 就业培训处 / 就业服务处. A place level (市/县) differing is
    another body, not a variant."""
    names: dict[str, int] = {}
    texts = [(p.text, p.line) for p in doc.paragraphs]
    if doc.unit:
        texts.append((doc.unit, 0))
    for text, line in texts:
        for m in _UNIT.finditer(text):
            names.setdefault(m.group(0), line)
        for m in _OFFICE.finditer(text):
            names.setdefault(m.group(1), line)
    names = dict(list(names.items())[:_MAX_PAIRED])  # compared pairwise
    seen = set()
    for a in names:
        for b in names:
            if a >= b or len(a) != len(b) or a[-1] != b[-1]:
                continue
            diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
            if not diff or diff[-1] - diff[0] > 1 or diff[0] < 2 or diff[-1] >= len(a) - 1:
                continue
            if any(a[i] in "市县区省镇乡州" or b[i] in "市县区省镇乡州" for i in diff):
                continue
            if a[diff[0] - 1] in "市县区省的和与及、，" or not _word_start(a, names):
                continue  # the match began mid-phrase (由XX处), not at the name
            key = (a[: diff[0]], a[diff[-1] + 1 :])
            if key in seen:
                continue
            seen.add(key)
            first, second = sorted((a, b), key=lambda n: names[n])
            yield Finding(
                "REPORT.NAME_VARIANT",
                f"unit:{first}",
                first,
                second,
                (Evidence("", names[first], first), Evidence("", names[second], second)),
            )


def _word_start(name: str, names: dict[str, int]) -> bool:
    """An office name is taken as its last five characters; reject those whose first
    character is a function word that merely precedes the name."""
    return name[0] not in "由在对向从把被将为是了和与及的等"


def rankings(doc: Document, grids: list[Grid]) -> Iterator[Finding]:
    """A sentence naming the lowest (or highest) question against the survey table."""
    quoted = re.compile(
        r"[“\"「]([^“”\"「」]{6,})[”\"」][^。]{0,20}?(相对较低|较低|最低|相对较高|较高|最高)"
    )
    # Each table's question scores, read once for every sentence that ranks a question; a
    # table repeated with the same scores once.
    distinct = {
        tuple(s.items()): s
        for g in grids
        if not g.table.truncated and len(s := _question_scores(g)) >= 3
    }
    tables = list(distinct.values())[:_MAX_PAIRED]
    for p in doc.paragraphs:
        for m in quoted.finditer(p.text):
            low = "低" in m.group(2)
            quote = m.group(1).rstrip("：:？?")
            for scores in tables:
                named = [q for q in scores if quote in q] or [q for q in scores if quote[:12] in q]
                if len(named) != 1:
                    continue
                target = scores[named[0]]
                extreme = min(scores.values()) if low else max(scores.values())
                if target != extreme:
                    other = next(q for q, v in scores.items() if v == extreme)
                    yield Finding(
                        "REPORT.RANKING",
                        f"survey:{named[0][:24]}",
                        f"该题得分{m.group(2)}（{_q(target)} 分）",
                        f"「{other[:30]}」得分 {_q(extreme)} 分，{'更低' if low else '更高'}",
                        (Evidence(" › ".join(p.section), p.line, m.group(0)[:80]),),
                    )


def _question_scores(g: Grid) -> dict[str, Decimal]:
    total = g.col("合计", "总计")
    out = {}
    for r in range(len(g.rows)):
        kind = g.kind(r) or ""
        if any(w in kind for w in ("分数", "得分")) and not g.total_row(r) and total is not None:
            f = g.fig(r, total)
            if f is not None:
                out[g.group(r)] = f.value
    return out


def cost_per_unit(grids: list[Grid], claims: list[Claim], vocab: Vocabulary) -> Iterator[Finding]:
    """A budget line spent in full (≥ 95%) while its counted output is below 80% of target."""
    # Each shortfall once however often it is restated (the first stands for it), with its
    # keywords and its clause's runs of four characters found once, not once per table row.
    distinct: dict[tuple, tuple] = {}
    for t, a, _ in indicator_lines(claims):
        if (
            t.bound == ">="
            and t.kind == "count"
            and t.value > 0
            and a.value / t.value < Decimal("0.8")
        ):
            context = clause_context(t)
            key = (t.subject, t.text, t.value, a.text, a.value, context)
            distinct.setdefault(key, (t, a, context))
    shortfalls = [
        (t, a, [w for w, v in vocab.subjects.words.items() if v == t.subject], _runs(context, 4))
        for t, a, context in list(distinct.values())[:_MAX_PAIRED]
    ]
    if not shortfalls:
        return
    for g in grids:
        table = g.table
        if table.truncated:
            continue
        planned = g.col("下达", "预算", "批复", exclude=("率",))
        spent = g.col("使用", "支出", "实际", exclude=("率", "下达", "预算"))
        if planned is None or spent is None:
            continue
        scale = Decimal(10000) if (table.unit or "").startswith("万") else Decimal(1)
        for r in range(len(g.rows)):
            a, b = g.fig(r, planned), g.fig(r, spent)
            if a is None or b is None or a.value <= 0 or g.total_row(r):
                continue
            if b.value < a.value * Decimal("0.95"):
                continue
            label = "".join(g.rows[r][c] for c in g.label_cols)
            label_runs = _runs(label, 4)
            for t, act, keywords, runs in shortfalls:
                if not (any(w in label for w in keywords) or not runs.isdisjoint(label_runs)):
                    continue
                per_unit = b.value * scale / act.value if act.value else None
                yield Finding(
                    "REPORT.COST_PER_UNIT",
                    f"indicator:{t.subject or label[:12]}",
                    f"{b.text}/{a.text}（{100 * b.value / a.value:.0f}%）",
                    f"{act.text}/{t.text}（{100 * act.value / t.value:.0f}%）"
                    + (
                        f"，单位成本 {per_unit:.0f} 元，计划 {b.value * scale / t.value:.0f} 元"
                        if per_unit
                        else ""
                    ),
                    (Evidence(" › ".join(table.section), g.lines[r], label[:60]), ev(act)),
                    amount_yuan=(b.value * scale * (1 - act.value / t.value)).quantize(
                        Decimal("0.01")
                    ),
                )
