"""Rules over the report's prose: the same figure twice, rates, products, grades, dates,
completeness, names, rankings and claims of success."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal

from jixiao.checks.findings import Evidence, Finding, amount_basis, figure
from jixiao.checks.tables import Grid
from jixiao.ingest.claims import Claim, interval, intervals
from jixiao.ingest.report import Document, Said
from jixiao.schemas.vocabulary import Vocabulary, fold

GRADES = (("优", Decimal(90)), ("良", Decimal(80)), ("中", Decimal(60)), ("差", Decimal(0)))
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
    sums = Counter((c.line, c.sentence) for c in prose if _sum_of_money(c))
    for c in prose:
        seen_text[(c.line, c.text)] += 1  # the second 十个县 of a line is its second clause
        context = clause_context(c, seen_text[(c.line, c.text)] - 1)
        if len(context) >= 6 and context != "#":
            by_clause[(context, c.unit)].append(c)
        role = c.role
        if (
            c.subject
            and c.measure
            # a sum named just before it needs no role: 中央资金4.68万元 is that fund's amount
            and (role in ("target", "actual") or _sum_of_money(c) and _named_sum(c, vocab))
            and c.subject not in vocab.generic
            and _anchored(c, vocab)
        ):
            scale = ("level", "level") if c.unit in SAME_SCALE and role == "actual" else None
            groups[(c.subject, *(scale or (c.measure, c.unit)), role, c.bound)].append(c)
        if _sum_of_money(c) and sums[(c.line, c.sentence)] == 1 and (doc := _document(c)):
            groups[("document", doc, role)].append(c)  # the one sum a document's sentence states
    pairs = [(*pair, None) for group in by_clause.values()
             for pair in _later_in_other_sections(group)]  # fmt: skip
    for key, group in groups.items():
        if len({c.value for c in group}) == 2:
            a, b = sorted({c.value: c for c in group}.values(), key=lambda c: c.line)
            pairs.append((a, b, f"document:{key[1]}" if key[0] == "document" else None))
    seen = set()
    for a, b, subject in pairs:
        if a.section == b.section or not _apart(a, b) or (a.value, b.value) in seen:
            continue
        if a.kind == "money" and max(a.value, b.value) > 5 * min(a.value, b.value):
            continue  # a standard and a total (400元, 12万元) mislabelled alike: not one figure
        seen.add((a.value, b.value))
        measure = "level" if a.unit in SAME_SCALE and a.unit != b.unit else (a.measure or "")
        yield Finding(
            "REPORT.FIGURE_DISAGREES",
            subject or f"indicator:{a.subject or clause_context(a)[:20]}:{measure}",
            a.text,
            b.text,
            (ev(a), ev(b)),
        )


def _sum_of_money(c: Claim) -> bool:
    return c.kind == "money" and c.measure != "per_unit"


def _named_sum(c: Claim, vocab: Vocabulary) -> bool:
    """The words just before a sum are its subject's (中央资金4.68万元, 总投资为7万元), not a use
    of it (中央资金用于采购设备25万元)."""
    before = re.sub(r"(?:为|是|共|计|达|：|:|\s)+$", "", clause_context(c).partition("#")[0])
    return any(before.endswith(w) for w, v in vocab.subjects.words.items() if v == c.subject)


_DOC_TITLE = re.compile(r"《([^《》]{2,60})》")
# 鄂财预发[2017]3号: known by the last two characters of its prefix (the words before it vary:
# 按鄂财预发, 根据鄂财预发), its year and its number.
_DOC_NUMBER = re.compile(r"([\u4e00-\u9fa5]{2})[〔\[［(（]([0-9]{4})[〕\]］)）]\s*([0-9]+)\s*号")
# A document that allocates money (《关于下达…资金的通知》, …预算的批复): the sum its sentence
# states is the sum it allocated, wherever the report cites it.
_ALLOCATES = ("下达", "批复", "分配", "拨付", "安排", "预算", "资金")


def _document(c: Claim) -> str | None:
    """The one allocating document a figure's sentence cites, by number (鄂财预发[2017]3号)
    else by title; None when it cites none or several."""
    numbers = {"{}〔{}〕{}号".format(*m) for m in _DOC_NUMBER.findall(c.sentence)}
    titles = set(_DOC_TITLE.findall(c.sentence))
    allocates = any(w in c.sentence for w in _ALLOCATES[:5]) or any(
        w in t for t in titles for w in _ALLOCATES
    )
    if not allocates or len(numbers) > 1 or (not numbers and len(titles) != 1):
        return None
    return next(iter(numbers or titles))


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
    """Lines that state an indicator: a target with a floor or ceiling, its actual, and the
    rates that go with it: those after it on the line up to the next indicator (and those
    before the first). A line of n indicators and n rates gives n pairs, not n²: a rate
    belongs to one indicator.

    The actual is the line's first actual of the target's subject and unit; for a programme
    the vocabulary knows nothing of, both subjects are None and the actual is the first figure
    of the target's unit after it, up to the next target, that states no role of its own (培训
    不少于180人，共培训164人) — never one inside a breakdown (其中女性60人)."""
    for line in _same_paragraph(claims).values():
        actuals: dict[tuple, Claim] = {}  # the line's first actual of each subject and unit
        for a in line:
            if a.role == "actual" and a.value is not None:
                actuals.setdefault((a.subject, a.unit), a)
        targets = [
            i
            for i, t in enumerate(line)
            if t.role == "target" and t.bound in (">=", "<=") and t.value is not None
        ]
        indicators = []
        for k, i in enumerate(targets):
            t = line[i]
            following = line[i + 1 : targets[k + 1] if k + 1 < len(targets) else len(line)]
            actual = actuals.get((t.subject, t.unit)) or next(
                (c for c in following if _unstated_actual(c, t)), None
            )
            if actual is not None:
                indicators.append((i, t, actual))
        if not indicators:
            continue
        starts = [i for i, _, _ in indicators]
        rates: list[list[Claim]] = [[] for _ in indicators]
        for i, r in enumerate(line):
            if r.role == "rate" and r.value is not None:
                rates[max(bisect.bisect_left(starts, i) - 1, 0)].append(r)
        for (_, t, actual), own in zip(indicators, rates, strict=True):
            yield t, actual, own


def _unstated_actual(c: Claim, target: Claim) -> bool:
    """A figure after a target that states what was done by its unit alone."""
    return (
        c.role is None
        and c.measure is not None
        and c.value is not None
        and c.unit == target.unit
        and c.kind == target.kind
        and c.sentence == target.sentence
        and not any(w in clause_of(c) for w in PART_WORDS)
    )


PART_WORDS = ("其中", "含", "包括", "占")


def clause_of(c: Claim) -> str:
    """The clause of its sentence a figure stands in (the first that holds it)."""
    return next((x for x in _CLAUSE.split(c.sentence) if _whole_figure(x, c.text) >= 0), "")


def rates(claims: list[Claim]) -> Iterator[Finding]:
    for t, a, rs in indicator_lines(claims):
        (tlo, thi), (alo, ahi) = interval(t), interval(a)
        if tlo <= 0 and t.bound == ">=":
            continue
        if t.bound == ">=":  # a floor: reaching it is 100%, or the share achieved (480/400 = 120%)
            lo, hi = 100 * alo / thi, 100 * ahi / tlo
            spans = [(min(lo, Decimal(100)), min(hi, Decimal(100))), (lo, hi)]
        elif ahi <= tlo:  # a ceiling kept: 100%
            spans = [(Decimal(100), Decimal(100))]
        else:
            continue  # a ceiling exceeded: programmes score it in different ways
        for r in rs:
            rlo, rhi = interval(r)
            if all(rhi < lo or rlo > hi for lo, hi in spans):
                ceiling = t.bound != ">="
                observed = (
                    f"实际 {a.text} 未超过上限 {t.text}，应为 100%" if ceiling
                    else f"{a.text} / {t.text} = {min(100 * a.value / t.value, Decimal(100)):.2f}%"
                )  # fmt: skip
                english = f"the actual {a.text} stays within the ceiling {t.text}: 100%"
                yield Finding(
                    "REPORT.RATE_RECOMPUTED", f"indicator:{t.subject}", r.text, observed, (ev(r),),
                    params={"observed_en": english} if ceiling else {},
                )  # fmt: skip


def execution_rates(claims: list[Claim]) -> Iterator[Finding]:
    """A sentence stating a sum, then what of it was spent, then a rate (预算资金650万元，实际
    支出94万元，为预算金额的14.46%): the rate against spent / sum. A sentence of more sums
    than these two says too much to know which the rate divides."""
    sentences: dict[tuple, list[Claim]] = defaultdict(list)
    for c in _prose(claims):
        if c.value is not None:
            sentences[(c.line, c.sentence)].append(c)
    for group in sentences.values():
        money = [c for c in group if _sum_of_money(c)]
        rates = [c for c in group if c.role == "rate" and c.kind == "percent"]
        if len(money) != 2 or not rates:
            continue
        budget, spent = money
        if budget.role not in (None, "target") or budget.bound or spent.role != "actual":
            continue
        (blo, bhi), (slo, shi) = interval(budget), interval(spent)
        if blo <= 0:
            continue
        lo, hi = 100 * slo / bhi, 100 * shi / blo
        for r in rates:
            rlo, rhi = interval(r)
            if r.start > spent.start and (rhi < lo or rlo > hi):
                observed = f"{spent.text} / {budget.text} = {100 * spent.value / budget.value:.2f}%"
                yield Finding("REPORT.RATE_RECOMPUTED", f"indicator:{budget.subject}:rate", r.text,
                              observed, (ev(r),))  # fmt: skip


def table_indicators(claims: list[Claim]) -> Iterator[tuple[Claim, Claim]]:
    """Indicator rows of a report's tables: each target cell (年度指标值 ≥180人, 24期) and the
    row's first actual cell of its unit, else of a bare number (实际完成值 164)."""
    rows: dict[tuple, list[Claim]] = defaultdict(list)
    for c in claims:
        if c.table is not None and c.value is not None:
            rows[(c.table, c.row)].append(c)
    for row in rows.values():
        actuals: dict[str, Claim] = {}  # the row's first actual of each unit: one look-up each
        for a in row:
            if a.role == "actual":
                actuals.setdefault(a.unit, a)
        for t in row:
            if t.role != "target":
                continue
            actual = next((a for unit in (t.unit, "") if (a := actuals.get(unit)) is not None
                           and a.col != t.col), None)  # fmt: skip
            if actual is not None:
                yield t, actual


def missed_target_claimed(
    doc: Document, claims: list[Claim], vocab: Vocabulary,
    named: list[tuple[str, Said, Evidence]] = (),
) -> Iterator[Finding]:  # fmt: skip
    """A paragraph saying the targets were met (the vocabulary's ``achieved`` phrases)
    while a floor target's actual is below it: first an indicator of the report's 自评表
    (``named``: subject, the shortfall as a message states it, its evidence — see
    report_indicators.misses), then one in the text or another table."""
    missed = [*named] + [
        (f"indicator:{t.subject or clause_context(t)[:20]}", shortfall(t.text, a.text), ev(a))
        for t, a in (*((t, a) for t, a, _ in indicator_lines(claims)), *table_indicators(claims))
        if t.bound == ">=" and a.value < t.value
    ]
    if not missed:
        return
    subject, short, where = missed[0]
    for p in doc.paragraphs:
        phrase = vocab.achieved.hits(p.text)  # phrases of words: folding changes none
        if phrase and not any(w in p.text for w in vocab.achieved_except):
            yield Finding(
                "REPORT.MISSED_TARGET_CLAIMED",
                subject,
                f"「{p.text[phrase[0].start : phrase[0].end]}」",
                short.zh,
                (Evidence(" › ".join(p.section), p.line, p.text[:80]), where),
                params={"observed_en": short.en},
            )


def shortfall(target: str, actual: str) -> Said:
    """A missed target as REPORT.MISSED_TARGET_CLAIMED states it."""
    return Said(f"目标 {target}，实际 {actual}", f"has a target of {target} and an actual of {actual}")


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


# What a standard is per: 0.60万元/生, 人均, 每户, 每台 … (a pupil, 生, is counted in 人).
_PER = re.compile(r"/([\u4e00-\u9fa5])|每([\u4e00-\u9fa5])|([人户生])均")
_HEADS = {"生": "人", "名": "人", "位": "人"}
# What a standard pays for: the word that ties it to its count across the report.
_PAYS = ("补助", "资助", "补贴", "救助", "津贴", "奖励", "奖补", "慰问", "购置", "采购")


def product_across(claims: list[Claim]) -> Iterator[Finding]:
    """The one per-unit standard and the one count of its unit a report states (each perhaps
    more than once, never on one line: that is ``products``), tied by what they pay (补助,
    资助 …), against every sum of money it states: when none is their product, the
    programme's money does not follow from them. A warning, since the money may pay for more
    than the standard names."""
    prose = [c for c in _prose(claims) if c.value is not None]
    amounts = [c for c in prose if c.kind == "money" and c.measure != "per_unit"]
    standards: dict[str, list[Claim]] = defaultdict(list)
    for c in prose:
        if c.kind == "money" and c.measure == "per_unit" and not c.bound and (per := _per(c)):
            standards[per].append(c)
    for unit, found in standards.items():
        pays = {w for w in _PAYS if any(w in c.sentence for c in found)}
        counts = [
            c
            for c in prose
            if c.kind == "count"
            and c.unit == unit
            and c.role != "target"
            and c.value > 0
            and any(w in c.sentence for w in pays)
        ]
        if len({c.value for c in found}) != 1 or len({c.value for c in counts}) != 1:
            continue
        count, standard = counts[-1], found[0]
        if {c.line for c in found} & {c.line for c in counts} or (
            count.subject and count.subject == standard.subject
        ):
            continue  # stated together, or of one subject: products() reads them
        if not amounts or any(_product_fits(count, standard, a) for a in amounts):
            continue
        # the sum the report states most often (its programme's total), the larger on a tie
        amount = max(amounts, key=lambda a: (sum(b.value == a.value for b in amounts), a.value))
        yield Finding(
            "REPORT.PRODUCT_TOTAL",
            f"product:{_named(standard)}",
            f"{count.text} × {standard.text} = {_as_written(count.value * standard.value, amount)}",
            amount.text,
            (ev(count), ev(standard), ev(amount)),
            amount_yuan=abs(amount.value - count.value * standard.value),
            params=_product_basis(count, standard, amount),
        )


def _per(standard: Claim) -> str | None:
    """The unit a standard is per (人 for 0.60万元/生 or 人均 …), from its text or clause."""
    m = _PER.search(standard.text) or _PER.search(clause_of(standard))
    if m is None:
        return None
    unit = next(g for g in m.groups() if g)
    return _HEADS.get(unit, unit)


def _product_basis(count: Claim, standard: Claim, amount: Claim) -> dict[str, str]:
    """REPORT.PRODUCT(_TOTAL)'s amount: the stated amount against count × standard."""
    product = count.value * standard.value
    terms = (f"{figure(amount.value)} − {figure(count.value)} × {figure(standard.value)}"
             if amount.value >= product else
             f"{figure(count.value)} × {figure(standard.value)} − {figure(amount.value)}")  # fmt: skip
    return amount_basis("报告所述金额与“数量 × 标准”之差",
                        "the amount stated against count × standard",
                        terms, abs(amount.value - product))  # fmt: skip


def _product_finding(count: Claim, standard: Claim, amount: Claim) -> Finding:
    return Finding(
        "REPORT.PRODUCT",
        f"indicator:{count.subject or standard.subject}",
        f"{count.text} × {standard.text} 与 {amount.text}",
        f"{_q(count.value * standard.value)} 元",
        (ev(count), ev(standard), ev(amount)),
        amount_yuan=abs(amount.value - count.value * standard.value),
        params={"claimed_en": f"{count.text} × {standard.text} against {amount.text}",
                "observed_en": f"{_q(count.value * standard.value)} yuan",
                **_product_basis(count, standard, amount)},
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
            if all(_apart_from_sum(t, parts) for t in stated):
                t = stated[0]
                total = sum(c.value for c in parts)
                yield Finding(
                    "REPORT.BUDGET_TOTAL",
                    "budget:total",
                    t.text,
                    f"{_q(total)} 元（{' + '.join(c.text for c in parts)}）",
                    (ev(t), *map(ev, parts)),
                    amount_yuan=abs(t.value - total),
                    params={"observed_en": f"{_q(total)} yuan ({' + '.join(c.text for c in parts)})",
                            **_parts_basis(t.value, [c.value for c in parts])},
                )


def _parts_basis(total: Decimal, parts: list[Decimal]) -> dict[str, str]:
    """A stated total against the sum of its parts, as a 涉及金额's formula."""
    summed, listed = sum(parts, Decimal(0)), " + ".join(map(figure, parts))
    terms = (f"{figure(total)} − ({listed})" if total >= summed
             else f"({listed}) − {figure(total)}")  # fmt: skip
    return amount_basis("所述合计与各项之和的差", "the total stated against its parts summed",
                        terms, abs(total - summed))  # fmt: skip


def _apart_from_sum(total: Claim, parts: list[Claim]) -> bool:
    """No values within the figures' rounding make the parts add up to the total."""
    (tlo, thi), *each = intervals([total, *parts])
    return thi < sum(x for x, _ in each) or tlo > sum(y for _, y in each)


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
                params=grade_en(score.text, m.group(1), {band}),
            )
    yield from _level1(doc, grids)


GRADES_EN = {"优": "excellent (90 and above)", "良": "good (80 to 90)", "中": "fair (60 to 80)",
             "差": "poor (below 60)"}  # fmt: skip


def grade_en(score: str, said: str, bands: set[str]) -> dict[str, str]:
    """REPORT.GRADE's words in English for a grade that does not follow from its score."""
    return {"claimed_en": f"score {score}, graded {said}",
            "observed_en": f"the score makes it {' or '.join(GRADES_EN[b] for b in sorted(bands))}"}  # fmt: skip


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
                    (Evidence(" › ".join(table.section), g.lines[r], " ".join(g.rows[r]),
                              table_row=table.word_row(g.lines[r])),),
                    params={"claimed_en": f"'{g.group(r)}' scored {b.text}",
                            "observed_en": f"more than its weight {a.text}"},
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
                    params={"claimed_en": f"'{name}' scored {m.group(3)}",
                            "observed_en": f"more than its full {m.group(2)} points"},
                )
            elif len(match) == 1 and (match[0][0] != weight or match[0][1] != score):
                yield Finding(
                    "REPORT.GRADE",
                    f"score:{name}",
                    f"「{name}」满分 {m.group(2)} 分、得分 {m.group(3)} 分",
                    f"评分表中为满分 {_q(match[0][0])}、得分 {_q(match[0][1])}",
                    (Evidence(" › ".join(p.section), p.line, m.group(0)),),
                    params={"claimed_en": f"'{name}' {m.group(3)} of {m.group(2)} points",
                            "observed_en": f"the score table gives {_q(match[0][1])} of "
                            f"{_q(match[0][0])}"},
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
                params={"claimed_en": f"by {a.date.isoformat()}",
                        "observed_en": f"by {b.date.isoformat()}"},
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
                    params={"claimed_en": f"report dated {doc.dated.isoformat()}",
                            "observed_en": f"the evaluation ended only on {end.date.isoformat()}"},
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
    yield from _indicator_count(doc, claims)
    yield from _listed_count(doc)
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
                    params={"claimed_en": f"the target '{c.sentence[:40]}'",
                            "observed_en": f"'{section}' does not report how it was met"},
                )


_N = r"([0-9一二两三四五六七八九十]{1,3})"
# 共设置14项绩效指标; 个性指标8项 (the programme's own indicators, beside the framework's
# 一级/二级/三级指标, which the report does not list one by one).
_DECLARED = re.compile(
    rf"共(?:设置|设立|设定|有|计)?\s*{_N}\s*(?:项|个)(?:绩效)?指标"
    rf"|(?:个性|绩效)指标\s*(?:共|为|有)?\s*{_N}\s*(?:项|个)"
)


def _indicator_count(doc: Document, claims: list[Claim]) -> Iterator[Finding]:
    """共设置14项绩效指标 against the enumerated lines that follow it in its section; a count
    with no list after it against the report's listing of its indicators (enumerated lines
    each stating a target and its actual), when there is one of at least three."""
    paragraphs = doc.paragraphs
    # items[i]: how many enumerated lines follow paragraph i without a break
    items = [0] * (len(paragraphs) + 1)
    for i in range(len(paragraphs) - 2, -1, -1):
        items[i] = items[i + 1] + 1 if _ITEM.match(paragraphs[i + 1].text) else 0
    listing = _indicator_listing(paragraphs, claims)
    for i, p in enumerate(paragraphs):
        m = _DECLARED.search(p.text)
        if not m or (n := _count(m.group(1) or m.group(2))) is None:
            continue
        if items[i] >= 2:
            listed, where = items[i], Said("其后", "after it")
        elif len(listing) >= 3:
            listed = len(listing)
            where = Said(f"报告第 {listing[0]}–{listing[-1]} 行",
                         f"on lines {listing[0]}–{listing[-1]} of the report")
        else:
            continue
        if listed != n:
            yield Finding(
                "REPORT.INCOMPLETE",
                "indicators:count",
                f"「{m.group(0)}」",
                f"{where.zh}列出 {listed} 项",
                (Evidence(" › ".join(p.section), p.line, m.group(0)),),
                params={"observed_en": f"{listed} are listed {where.en}"},
            )


def _indicator_listing(paragraphs: list, claims: list[Claim]) -> list[int]:
    """The lines of the longest run of enumerated paragraphs that each state a target and
    its actual ((1)…不低于9场，实际完成5场): the report's list of its indicators. A line
    between two items (the rest of an item a page wrapped) does not end the run; a heading
    or an item numbered 1 again does."""
    roles: dict[int, set[str | None]] = defaultdict(set)
    for c in _prose(claims):
        roles[c.line].add(c.role)
    best: list[int] = []
    run: list[int] = []
    for p in paragraphs:
        found = roles.get(p.line, set())
        if m := _ITEM.match(p.text):
            if re.sub(r"\D", "", m.group(1)) == "1":
                run = []
            run = [*run, p.line] if {"target", "actual"} <= found else []
            best = max(best, run, key=len)
        elif p.kind == "heading":
            run = []
    return list(best)


# 直属事业单位10个，即A、B、…: a count, then (within a comma) the items it counts.
_COUNT_THEN_LIST = re.compile(
    r"([0-9]{1,3}|[一二两三四五六七八九十]{1,3})\s*(个|项|家|所|名|位|类|条|种)"
    r"[，,：:]?\s*(?:即|分别是|分别为|分别有|包括|具体为|具体是)[：:]?([^。；;\n]*)"
)
_LIST_CUES = ("即", "分别", "包括", "具体")
_COUNTED_NOUN = re.compile(r"[\u4e00-\u9fa5]{1,12}$")
_AND = re.compile(r"以及|和|及|与")


def _listed_count(doc: Document) -> Iterator[Finding]:
    """A stated count against the items named after 即 / 分别是 / 包括 (10个，即 A、B… naming
    nine). Items are separated by 、; the last may join two with 和 / 及, so a count of n or n + 1
    fits; a list ending in 等 is partial and not counted."""
    for p in doc.paragraphs:
        if not any(w in p.text for w in _LIST_CUES):
            continue
        for m in _COUNT_THEN_LIST.finditer(p.text):
            n, listed = _count(m.group(1)), _ASIDE.sub("", m.group(3)).strip()
            items = [x for x in listed.split("、") if x.strip()]
            partial = "等" in items[-1][-3:] if items else True  # 办公室、财务室等: not all named
            if n is None or len(items) < 2 or partial or any("，" in x or "," in x for x in items):
                continue
            fits = {len(items), len(items) + 1} if _AND.search(items[-1]) else {len(items)}
            if n not in fits:
                noun = _COUNTED_NOUN.search(p.text, max(m.start() - 12, 0), m.start())
                said = (noun.group() if noun else "") + p.text[m.start() : m.end(2)]
                yield Finding(
                    "REPORT.INCOMPLETE",
                    f"list:{noun.group() if noun else said}",
                    f"「{said}」",
                    f"其后列出 {len(items)} {m.group(2)}",
                    (Evidence(" › ".join(p.section), p.line, said + p.text[m.end(2) : m.end()][:60]),),
                    params={"observed_en": f"{len(items)} are listed after it"},
                )


_ASIDE = re.compile(r"（[^（）]*）|\([^()]*\)")


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
                    params={"observed_en": f"the survey table lists {count} questions"},
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
            problems: list[Said] = []
            cited = re.search(r"(\d{4})\s*年", m.group(2))
            if year and cited and cited.group(1) != year.group(1):
                problems.append(Said(f"为 {cited.group(1)} 年，而报告评价的是 {year.group(1)} 年",
                                     f"it is of {cited.group(1)}, the report of {year.group(1)}"))
            if f"附表{m.group(1)}" not in titles:
                problems.append(Said("报告中没有该附表", "the report holds no such table"))
            if problems:
                yield Finding(
                    "REPORT.INCOMPLETE",
                    f"appendix:{m.group(1)}",
                    f"引用附表{m.group(1)}「{m.group(2)[:30]}」",
                    "；".join(x.zh for x in problems),
                    (Evidence(" › ".join(p.section), p.line, m.group(0)),),
                    params={"claimed_en": f"it cites 附表{m.group(1)} '{m.group(2)[:30]}'",
                            "observed_en": "; ".join(x.en for x in problems)},
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
                        params={"claimed_en": f"this question scored {m.group(2)} "
                                f"({_q(target)} points)",
                                "observed_en": f"'{other[:30]}' scored {_q(extreme)}, "
                                f"{'lower' if low else 'higher'}"},
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
                spent = b.value * scale
                per_unit = spent / act.value if act.value else None
                plan = spent / t.value
                output = f"{act.text}/{t.text}"
                done = f"{100 * act.value / t.value:.0f}%"
                involved = (spent * (1 - act.value / t.value)).quantize(Decimal("0.01"))
                basis = amount_basis(
                    "未完成产出对应的经费 = 已支出 × (1 − 实际 ÷ 目标)，即已支出 − 实际 × 计划单位成本",
                    "money spent on output not delivered = spent × (1 − actual ÷ target), i.e. "
                    "spent − actual × planned unit cost",
                    f"{figure(spent)} × (1 − {figure(act.value)} ÷ {figure(t.value)})", involved,
                )
                yield Finding(
                    "REPORT.COST_PER_UNIT",
                    f"indicator:{t.subject or label[:12]}",
                    f"{b.text}/{a.text}（{100 * b.value / a.value:.0f}%）",
                    f"{output}（{done}）"
                    + (f"，单位成本 {per_unit:.0f} 元，计划 {plan:.0f} 元" if per_unit else ""),
                    (Evidence(" › ".join(table.section), g.lines[r], label[:60],
                              table_row=table.word_row(g.lines[r])), ev(act)),
                    amount_yuan=involved,
                    params={"claimed_en": f"{b.text}/{a.text} ({100 * b.value / a.value:.0f}%)",
                            "observed_en": f"{output} ({done})" + (
                                f", {per_unit:.0f} yuan a unit against {plan:.0f} planned"
                                if per_unit else ""), **basis},
                )  # fmt: skip


# --- breakdowns: a total and the parts the text lists after it ------------------------------

# 其中 lists the parts of the figure before it; 包括 those of a figure in its own sentence;
# 分别 the values of a counted set (三个部分…分别74万元、14万元、8万元).
_LIST_MARK = re.compile(
    r"其中|包括|([0-9一二两三四五六七八九十]{1,3})\s*(?:个|项|类)[^，,；;。]{0,12}?分别"
)
# A difference between two years (增加189.25万元, 同比下降3%), not a level.
CHANGE = ("增加", "减少", "增长", "下降", "上升", "降低", "同比", "较上年", "比上年", "增幅",
           "降幅")  # fmt: skip
_SUMMED = ("合计", "共计", "总计", "小计")
# A list the text itself calls partial (主要用于…等): its parts may leave part of the total.
_QUALIFIERS = ("等", "主要")
_SHARE = ("占", "比重", "比例")


def _texts(doc: Document) -> dict[tuple, str]:
    """The text a prose claim's ``start`` indexes, by (line, table, row, col): a paragraph's,
    or a table cell's."""
    out: dict[tuple, str] = {(p.line, None, None, None): p.text for p in doc.paragraphs}
    for t in doc.tables:
        for row in t.rows:
            for cell in row:
                out[(cell.line, t.index, cell.row, cell.col)] = cell.text
    return out


def _text_units(doc: Document, claims: list[Claim]) -> Iterator[tuple[str, list[Claim]]]:
    """Each paragraph or cell holding figures: its text and its claims in order."""
    by_text: dict[tuple, list[Claim]] = defaultdict(list)
    for c in claims:
        if c.value is not None:
            by_text[(c.line, c.table, c.row, c.col)].append(c)
    whole = _texts(doc)
    for key, found in by_text.items():
        if key in whole:
            yield whole[key], found


_LOOK_BACK = 30  # characters before a figure read for a change or a share (增加, 占…的)
_LIST_MAX = 500  # characters of a list after its marker, and of its sentence before it


def _clause_start(text: str, pos: int) -> int:
    floor = max(pos - _LOOK_BACK, 0)
    return max(text.rfind(ch, floor, pos) for ch in "，,；;。：:（(") + 1 or floor


def _before(text: str, c: Claim) -> str:
    """The words of its clause just before a figure."""
    return text[_clause_start(text, c.start) : c.start]


def _is_change(text: str, c: Claim) -> bool:
    """增加189.25万元, 同比下降3%: a difference between two years, not a level."""
    return any(w in _before(text, c) for w in CHANGE)


def _level(text: str, c: Claim) -> bool:
    return c.kind in ("money", "count") and c.measure != "per_unit" and not _is_change(text, c)


def _same_measure(total: Claim, c: Claim) -> bool:
    return c.kind == total.kind and (c.kind == "money" or c.unit == total.unit)


def breakdowns(doc: Document, claims: list[Claim]) -> Iterator[Finding]:
    """A total and the parts listed after it (其中：A 1435万元，B 25万元…), in a paragraph or a
    cell holding prose: the parts summed against it and each share (占…16.04%) against part /
    total, within rounding. Parts that exceed the total are an error; parts short of it are an
    error too, unless the text calls the list partial (主要用于…等: a warning) or an item of it
    states no figure."""
    for text, found in _text_units(doc, claims):
        if not any(w in text for w in ("其中", "包括", "分别")):
            continue
        text = fold(text)  # as the claims' offsets index it
        marks = list(_LIST_MARK.finditer(text))
        starts = [c.start for c in found]
        totals: list[int] = []  # totals[i]: the last claim at or before i that can be a total
        for i, c in enumerate(found):
            totals.append(i if _level(text, c) else (totals[-1] if totals else -1))
        ends = [m.start() for m in _SENTENCE_END.finditer(text)]
        for k, m in enumerate(marks):
            at = bisect.bisect_left(starts, m.start())
            if not at or totals[at - 1] < 0:
                continue
            total = found[totals[at - 1]]
            sentence = bisect.bisect_left(ends, m.start())  # the marker's sentence
            if m.group() == "包括" and sentence and ends[sentence - 1] > total.start:
                continue  # 包括 lists what its own sentence names
            following = marks[k + 1].start() if k + 1 < len(marks) else len(text)
            end = min(_list_end(text, m, ends[sentence] if sentence < len(ends) else len(text)),
                      following, m.end() + _LIST_MAX)  # fmt: skip
            opened = max(ends[sentence - 1] + 1 if sentence else 0, m.start() - _LIST_MAX)
            listed = found[bisect.bisect_left(starts, m.end()) : bisect.bisect_left(starts, end)]
            yield from _check_parts(text, total, listed, m, (opened, end))


_SENTENCE_END = re.compile(r"[。！？!?]")
_SEMICOLON = re.compile(r"[；;]")


def _list_end(text: str, m: re.Match[str], sentence_end: int) -> int:
    """Where the list a marker opens ends: its bracket's close, the clause of a 分别 list
    (with the shares that follow it), else its sentence."""
    if m.group(1):
        semicolon = _SEMICOLON.search(text, m.end(), sentence_end)
        return semicolon.start() if semicolon else sentence_end
    if text[max(m.start() - 2, 0) : m.start()].rstrip().endswith("（"):
        close = text.find("）", m.end(), sentence_end)
        return close if close >= 0 else sentence_end
    return sentence_end


def _check_parts(
    text: str, total: Claim, listed: list[Claim], m: re.Match[str], span: tuple[int, int]
) -> Iterator[Finding]:
    """``span``: the list's sentence up to where the list ends."""
    parts: list[Claim] = []
    shares: list[tuple[Claim, Claim | None]] = []  # a share and the part just before it
    depth, seen = 0, m.end()
    for c in listed:
        depth += text.count("（", seen, c.start) - text.count("）", seen, c.start)
        seen = c.start
        if depth > 0:
            continue  # a part's own breakdown in brackets: 局本级187人（在职139人、退休8人…）
        before = _before(text, c)
        if any(w in before for w in _SUMMED) or _another_figure(text, c, total):
            break  # 合计7万元; ；实际支出55万元: the total restated, or another statement
        if c.bound in (">=", "<=") and c.bound != total.bound:
            break  # ，目标为不少于200人: a target, no part of what was done
        if _is_change(text, c):
            continue
        if c.kind == "percent" and any(w in before for w in _SHARE):
            shares.append((c, parts[-1] if parts else None))
        elif _same_measure(total, c) and c.measure != "per_unit":
            parts.append(c)
    if m.group(1):  # 三个部分…分别: as many parts as counted, the shares in their order
        if _count(m.group(1)) != len(parts):
            return
        shares = list(zip([s for s, _ in shares], parts, strict=False))
        if len(shares) != len(parts):
            shares = []
    yield from _shares(total, shares)
    if not parts:
        return
    (tlo, thi), *each = intervals([total, *parts])
    lo, hi = sum(x for x, _ in each), sum(y for _, y in each)
    summed = sum(c.value for c in parts)
    observed = f"{_as_written(summed, total)}（{' + '.join(c.text for c in parts)}）"
    subject = f"total:{_named(total)}"
    evidence = (ev(total), *map(ev, parts))
    amount = abs(total.value - summed) if total.kind == "money" else None
    # Money is split, never counted twice; people may stand in two of the groups listed
    # (其中女性300人、贫困户250人), or in none: a count's parts are a question, not an error.
    money = total.kind == "money"
    if lo > thi:
        rule = "REPORT.PARTS_TOTAL" if money else "REPORT.PARTS_UNEXPLAINED"
    elif hi < tlo and len(parts) >= 2 and not _unfigured_item(text, m.end(), span[1]):
        qualified = any(w in text[span[0] : span[1]] for w in _QUALIFIERS)
        rule = "REPORT.PARTS_TOTAL" if money and not qualified else "REPORT.PARTS_UNEXPLAINED"
    else:
        return
    yield Finding(rule, subject, total.text, observed, evidence, amount_yuan=amount,
                  params=_parts_basis(total.value, [c.value for c in parts]) if money else {})


def _another_figure(text: str, c: Claim, total: Claim) -> bool:
    """After a semicolon, a figure of another role than the total's starts another statement
    (其中：A 35万元，B 25万元；实际支出55万元). A part's own name may hold a role word
    (村级工作目标奖励100000元): within the list's commas it is still a part."""
    start = _clause_start(text, c.start)
    return c.role not in (None, "rate", total.role) and start > 0 and text[start - 1] in "；;"


def _as_written(value: Decimal, like: Claim) -> str:
    """A sum in the unit its total is written in (96万元, 205人)."""
    if like.kind != "money":
        return f"{_q(value)}{like.unit}"
    for scale, power in (("亿", 8), ("万", 4)):
        if scale in like.text:
            return f"{_q(value.scaleb(-power))}{scale}元"
    return f"{_q(value)}元"


def _named(c: Claim) -> str:
    """What a figure is of, in the words just before it (年度总支出为 → 年度总支出)."""
    before = clause_context(c).partition("#")[0]
    return re.sub(r"[^\u4e00-\u9fa5]|为$|是$", "", before)[-12:] or c.text


_REST = ("其余", "剩余", "余下", "其他", "另有", "另外")


def _unfigured_item(text: str, start: int, end: int) -> bool:
    """An item of the list names the rest without a figure (其余用于人员培训): it may hold
    what the parts leave. A clause with no figure otherwise names the next part (村民组长,
    党小组长基本报酬252000元)."""
    items = re.split(r"[，,；;]", text[start:end])
    return any(not _FIGURE.search(x) and any(w in x for w in _REST) for x in items)


_FIGURE = re.compile(r"\d|[一二两三四五六七八九十百千万]")


def _shares(total: Claim, shares: list[tuple[Claim, Claim | None]]) -> Iterator[Finding]:
    (tlo, thi) = interval(total)
    if tlo <= 0:
        return
    for share, part in shares:
        if part is None:
            continue
        plo, phi = interval(part)
        lo, hi = 100 * plo / thi, 100 * phi / tlo
        slo, shi = interval(share)
        if shi < lo or slo > hi:
            yield Finding(
                "REPORT.RATE_RECOMPUTED",
                f"total:{_named(part)}",
                share.text,
                f"{part.text} / {total.text} = {100 * part.value / total.value:.2f}%",
                (ev(share), ev(part), ev(total)),
            )
