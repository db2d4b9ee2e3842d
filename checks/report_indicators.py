"""Figures of the prose linked to indicators known by name: the 三级指标 of the report's own
自评表 (report_form.indicators) and, when a programme is given, programme.yaml's indicators.

A prose figure speaks of an indicator when its clause (report_text.clause_context) shares
with the indicator's name runs of two characters or more that hold at least two characters
naming something — the genre's measure, role and column words (人数, 完成, 率 …, from the
vocabulary) name nothing of their own — and no other indicator of a unit it could be in
shares as many: 补助人数 speaks of 补助残疾人人数, 完成率 of no indicator. Figures of a
breakdown (其中 …) or of a change (增加 …) are never the indicator's own.

Linked, a figure is checked against the indicator: an actual against the form's 实际完成值
and a target against its 年度指标值 (REPORT.FIGURE_DISAGREES); a sentence that calls the
indicator met (the vocabulary's ``achieved.met`` words, or a 完成率 of 100%) while its actual —
the form's, else the prose's own — misses its target (REPORT.MISSED_TARGET_CLAIMED).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

from jixiao.checks.findings import Evidence, Finding
from jixiao.checks.report_form import Indicator, Measure, base_unit, measure, missed
from jixiao.checks.report_text import (
    CHANGE,
    PART_WORDS,
    SAME_SCALE,
    clause_context,
    clause_of,
    ev,
    shortfall,
)
from jixiao.checks.tables import Figure
from jixiao.ingest.claims import QUOTED, Claim, interval
from jixiao.schemas.programme import Programme
from jixiao.schemas.vocabulary import Vocabulary, fold

# Characters of a name a clause must share, beyond the genre's words: at least two, and at
# least this share of those the name has (补助人数 shares 补助 of 补助残疾人人数's 补助残疾人).
_NAMING = 2
_SHARE = Decimal("0.4")
_BOUND = {"higher": ">=", "budget_execution": ">=", "lower": "<=", "equal": "="}
_SIGN = {">=": "≥", "<=": "≤", "=": ""}
_NAME_MAX = 40  # a 三级指标 is a phrase: a longer cell is no name to look for
_UNIT_IN_NAME = re.compile(r"[（(]\s*([^（）()]{1,4}?)\s*[)）]\s*$")
PLACES_EN = {"自评表": "the self-evaluation form"}  # Named.place in English (programme.yaml is)


@dataclass(frozen=True)
class Named:
    """An indicator known by name, as the report's form or programme.yaml states it."""

    name: str
    target: Measure
    actual: Measure | None  # the form's 实际完成值; None for programme.yaml's
    cell: Evidence  # where it is stated: the form's 三级指标 cell, or programme.yaml
    place: str  # how a message names that place: 自评表, programme.yaml


@dataclass(frozen=True)
class Link:
    claim: Claim
    indicator: Named


def from_form(found: dict[str, Indicator]) -> list[Named]:
    """The form's indicators whose target states a figure (达成预期指标 states none)."""
    return [Named(name, i.target, i.actual, i.cell, "自评表") for name, i in found.items()
            if i.target.figure is not None]  # fmt: skip


def from_programme(programme: Programme | None) -> list[Named]:
    """programme.yaml's indicators with a figure for a target (deadlines and qualitative
    indicators have none)."""
    out = []
    for ind in programme.indicators if programme else ():
        if ind.kind in _BOUND and isinstance(ind.target, Decimal) and ind.unit:
            text = f"{format(ind.target.normalize(), 'f')}{ind.unit}"
            bound = _BOUND[ind.kind]
            target = replace(measure(text), bound=bound, text=_SIGN[bound] + text)
            out.append(Named(ind.name, target, None,
                             Evidence("programme.yaml", 0, f"{ind.name}：目标 {text}"),
                             "programme.yaml"))  # fmt: skip
    return out


def _unit(n: Named, vocab: Vocabulary) -> str:
    """The indicator's unit as claims normalise units (名 → 人, 万元 → 元): its target's,
    else its actual's, else one its name ends with in brackets (扶持新型经营主体（个）)."""
    for m in (n.target, n.actual):
        if m is not None and m.figure is not None and m.unit:
            written = base_unit(m)[1]
            break
    else:
        found = _UNIT_IN_NAME.search(fold(n.name))
        written = found[1] if found else ""
    known = vocab.units.get(written)
    return known.unit if known else written


def _generic_words(vocab: Vocabulary) -> re.Pattern[str]:
    """The genre's words that name no indicator: measure words of columns (人数, 率),
    role cues (完成, 实际), measure cues (完成率, 人均), units, the vocabulary's
    ``not_naming`` words (项目, 年度) and those of generic subjects (资金, 县区)."""
    words = {*vocab.columns.words, *vocab.roles.words, *vocab.measure_cues.words}
    words |= {w for w in vocab.units if len(w) > 1} | set(vocab.not_naming)
    words |= {w for w, sid in vocab.subjects.words.items() if sid in vocab.generic}
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def _naming(name: str, generic: re.Pattern[str]) -> list[bool]:
    """Which characters of a name name something: those outside the genre's words."""
    plain = [True] * len(name)
    for m in generic.finditer(name):
        plain[m.start() : m.end()] = [False] * (m.end() - m.start())
    return plain


def _shared(name: str, plain: list[bool], context: str) -> int:
    """How many naming characters of ``name`` ``context`` holds in runs of two or more; 0
    when that is too few of them to speak of it."""
    covered = [False] * len(name)
    for i in range(len(name) - 1):
        if name[i : i + 2] in context:
            covered[i] = covered[i + 1] = True
    shared = sum(c and p for c, p in zip(covered, plain, strict=True))
    return shared if shared >= max(_NAMING, _SHARE * sum(plain)) else 0


def _per_unit(text: str, vocab: Vocabulary) -> bool:
    return any(h.value == "per_unit" for h in vocab.measure_cues.hits(text))


def _fits(c: Claim, context: str, unit: str, per_unit: bool, vocab: Vocabulary) -> bool:
    """A figure that may state an indicator of this unit: the same unit (a satisfaction in %
    or 分 alike), a standard for a standard (人均, 标准 in its clause) and a total for a
    total; a 完成率 speaks of an indicator of any unit."""
    if c.role == "rate":
        return True
    same = c.unit == unit or c.unit in SAME_SCALE and unit in SAME_SCALE
    return same and (c.measure == "per_unit" or _per_unit(context, vocab)) == per_unit


def _own(c: Claim) -> bool:
    """A prose figure that may be an indicator's own: not a date, a part or a change."""
    if c.table is not None or c.value is None or c.kind == "date":
        return False
    clause = clause_of(c)
    return not any(w in clause for w in (*PART_WORDS, *CHANGE))


def links(claims: list[Claim], named: list[Named], vocab: Vocabulary) -> list[Link]:
    """Each prose figure with the one indicator it speaks of, if any (see the module). Only
    indicators sharing a pair of characters with a figure's clause are scored: a report's
    figures cost their clauses' length, not that times the number of indicators."""
    generic = _generic_words(vocab)
    names = []
    pairs: dict[str, set[int]] = defaultdict(set)  # two characters, one naming → indicators
    for n in named:
        # The name as prose words it: no spaces, no unit in brackets (助农增收（元）).
        name = _UNIT_IN_NAME.sub("", re.sub(r"\s+", "", fold(n.name)))
        if len(name) > _NAME_MAX:
            continue
        per_unit = _per_unit(name, vocab)
        plain = _naming(name, generic)
        for i in range(len(name) - 1):
            if plain[i] or plain[i + 1]:
                pairs[name[i : i + 2]].add(len(names))
        names.append((n, name, plain, _unit(n, vocab), per_unit))
    out = []
    for c in claims:
        if not pairs or not _own(c):
            continue
        # What is quoted (a survey question, a document's title) names no indicator.
        context = QUOTED.sub("", fold(clause_context(c)))
        near = set().union(*(pairs.get(context[i : i + 2], ()) for i in range(len(context) - 1)))
        scored = []
        for i in near:
            _, name, plain, unit, per_unit = names[i]
            if unit and _fits(c, context, unit, per_unit, vocab):
                scored.append((_shared(name, plain, context), i))
        scored.sort(reverse=True)
        if scored and scored[0][0] and (len(scored) == 1 or scored[1][0] < scored[0][0]):
            out.append(Link(c, names[scored[0][1]][0]))
    return out


def _figure(m: Measure | None, vocab: Vocabulary, unit: str) -> tuple[Decimal, Decimal] | None:
    """A measure's rounding interval in the unit claims use (万元 → 元), when it is in
    ``unit`` (a bare number is in the indicator's unit)."""
    if m is None or m.figure is None:
        return None
    f, written = base_unit(m)
    known = vocab.units.get(written)
    if written and (known.unit if known else written) != unit:
        return None
    return f.lo, f.hi


def _stated(c: Claim) -> str:
    """How a link reads a figure: the indicator's target, its actual, a completion rate."""
    if c.role == "rate":
        return "rate"
    if c.role == "target" or c.bound in (">=", "<="):
        return "target"
    return "actual" if c.role == "actual" or c.role is None else ""


def states_actual(c: Claim) -> bool:
    """Whether a linked figure states the indicator's actual."""
    return _stated(c) == "actual"


def disagreements(found: list[Link], vocab: Vocabulary) -> Iterator[Finding]:
    """A prose actual against the form's 实际完成值, a prose target against its 年度指标值,
    where no value inside both rounding intervals is the same."""
    for link in found:
        c, n = link.claim, link.indicator
        stated = _stated(c)
        if n.actual is None or stated not in ("target", "actual"):
            continue
        m = n.target if stated == "target" else n.actual
        if not m.unit and n.target.unit:  # a bare 实际完成值 is in its target's unit
            m = replace(m, unit=n.target.unit)
        table = _figure(m, vocab, c.unit if c.unit not in SAME_SCALE else _unit(n, vocab))
        if table is None:
            continue
        lo, hi = interval(c)
        if hi < table[0] or lo > table[1]:
            word = "年度指标值" if stated == "target" else "实际完成值"
            yield Finding("REPORT.FIGURE_DISAGREES", f"form:{n.name}", c.text,
                          f"{word} {m.text.strip()}", (ev(c), n.cell), where=n.place,
                          params={"where_en": PLACES_EN.get(n.place, n.place),
                                  "observed_en": f"{stated} {m.text.strip()}"})  # fmt: skip


def _as_measure(c: Claim, target: Measure) -> Measure:
    """A prose actual as the form's rule reads one: its interval, in the target's unit
    (the link found them alike: 名 and 人, 万元 and 元 are one unit there)."""
    lo, hi = interval(c)
    unit = base_unit(target)[1] if target.unit else c.unit
    return Measure(c.text, None, Figure(c.value, lo, hi, c.unit == "%", c.text, c.line), unit)


def misses(found: list[Link], named: list[Named]) -> list[tuple[Named, Measure, Evidence]]:
    """The indicators whose actual — the form's, else the first the prose states for it —
    misses the target in its direction, with that actual and where it stands."""
    prose: dict[str, Claim] = {}
    for link in found:
        if _stated(link.claim) == "actual":
            prose.setdefault(link.indicator.name, link.claim)
    out = []
    for n in named:
        if n.actual is not None and n.actual.figure is not None:
            actual, where = n.actual, n.cell
        elif n.name in prose:
            actual, where = _as_measure(prose[n.name], n.target), ev(prose[n.name])
        else:
            continue
        if missed(n.target, actual):
            out.append((n, actual, where))
    return out




def missed_claimed(found: list[Link], short: list[tuple[Named, Measure, Evidence]],
                   vocab: Vocabulary) -> Iterator[Finding]:  # fmt: skip
    """A sentence stating a missed indicator (``misses``) that calls it met: by the
    vocabulary's ``achieved.met`` words (已完成), or a 完成率 of 100%. Paragraphs saying
    every target was met are report_text.missed_target_claimed's."""
    by_name = {n.name: (n, actual, where) for n, actual, where in short}
    for link in found:
        c = link.claim
        if link.indicator.name not in by_name or any(w in c.sentence for w in vocab.achieved_except):
            continue
        n, actual, where = by_name[link.indicator.name]
        hits = vocab.achieved_met.hits(c.sentence)
        if hits:
            said = c.sentence[hits[0].start : hits[0].end]
        elif _stated(c) == "rate" and interval(c)[1] >= 100:
            said = f"完成率{c.text}"
        else:
            continue
        short = shortfall(n.target.text.strip(), actual.text.strip())
        yield Finding("REPORT.MISSED_TARGET_CLAIMED", f"form:{n.name}", f"「{said}」",
                      short.zh, (ev(c), where), params={"observed_en": short.en})  # fmt: skip
