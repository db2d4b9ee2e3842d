"""The report against the records (REPORT.RECORDS_DISAGREE): every figure the report claims
for something the records measure — an indicator's metric, a fact, a budget line's spending —
compared with what the county submissions give, within the figure's rounding interval."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from jixiao.checks.findings import Evidence, Finding, amount_basis, difference
from jixiao.checks.report_text import SAME_SCALE, ev, indicator_lines
from jixiao.ingest.claims import Claim, interval
from jixiao.schemas.programme import Programme
from jixiao.schemas.vocabulary import Vocabulary
from jixiao.scoring.metrics import VALUE_PLACES, Source


@dataclass(frozen=True)
class Measured:
    """Something the records measure, and how a report would state it."""

    id: str
    name: str
    subject: str | None
    unit: str
    value: Decimal
    rate: bool = False  # the measure is itself a rate (预算执行率): a stated rate states it
    missing: tuple[str, ...] = ()  # counties whose rows it is computed from are not accepted


PROVISIONAL = "REPORT.RECORDS_PROVISIONAL"
BUDGET = "budget"  # the key of the budget lines' spending in `missing_from`
SHOWN = 5  # counties named, or their figures given, before 等
LISTED = 20  # files listed as evidence of a recorded figure; the rest are counted

# A measure's id to the county files and sheets its figure is computed from
# (scoring.metrics.sources; for a budget line's spending, flows.audit.spent_sources).
Recorded = Callable[[str], tuple[Source, ...]]


def _none(_: str) -> tuple[Source, ...]:
    return ()


def _figure(value: Decimal, unit: str, lang: str = "zh") -> str:
    """A recorded figure as the records' side says it: 5个, 98000 元; in English 5, 98000 yuan
    (a count's Chinese measure word left to the name before it)."""
    shown = format((value.quantize(Decimal("0.01")) if value != value.to_integral()
                    else value).normalize(), "f")  # fmt: skip
    if lang != "zh":
        return {"元": f"{shown} yuan", "%": f"{shown}%"}.get(unit, shown)
    return f"{shown}{' 元' if unit == '元' else unit}"


def recorded_evidence(head: str, total: Decimal, unit: str, found: tuple[Source, ...],
                      lang: str = "zh") -> tuple[Evidence, ...]:  # fmt: skip
    """A recorded figure as evidence, in ``lang``: ``head`` (what the records give), the
    counties it is computed from and the sheets, each county's own figure where they add up
    to ``total`` (a count or a sum; an average's or a share's do not) and few; then each
    county file and sheet it reads, with its county, file and sheet as fields."""
    if not found:
        return (Evidence("", 0, head),)
    zh = lang == "zh"
    figures = {s.county_code: s.value for s in found}
    names = {s.county_code: s.county for s in found}
    adds_up = all(v is not None for v in figures.values()) and abs(
        sum(figures.values()) - total) <= VALUE_PLACES * len(figures)  # fmt: skip
    titles = "」「".join(dict.fromkeys(s.title for s in found))
    if adds_up and len(figures) <= SHOWN:
        parts = ("、" if zh else ", ").join(f"{names[c]} {_figure(v, unit, lang)}"
                                            for c, v in figures.items())  # fmt: skip
        said = (f"，为{parts}之和，据各区县报送的「{titles}」表计得" if zh
                else f", the sum of {parts}, from the counties' 「{titles}」 sheets")  # fmt: skip
    else:
        counties = counted(tuple(names.values()), SHOWN, lang)
        said = (f"，据{counties}报送的「{titles}」表计得" if zh
                else f", from the 「{titles}」 sheets of {counties}")  # fmt: skip
    out = [Evidence("", 0, head + said)]
    files = Counter(s.county_code for s in found)
    one_file = {c for c in figures if files[c] == 1}
    for s in found[:LISTED]:
        own = adds_up and s.county_code in one_file
        text = (f"{s.county}「{s.title}」{s.rows} 行" + (f"，计 {_figure(s.value, unit)}" if own else "")
                if zh else f"{s.county} 「{s.title}」: {s.rows} rows"
                + (f", giving {_figure(s.value, unit, lang)}" if own else ""))  # fmt: skip
        out.append(Evidence("", 0, text, s.county_code, s.county, s.file, s.sheet))
    if len(found) > LISTED:
        more = len(found) - LISTED
        out.append(Evidence("", 0, f"另有 {more} 个文件未列出" if zh else f"{more} more files"))
    return tuple(out)


def counted(counties: tuple[str, ...], shown: int = SHOWN, lang: str = "zh") -> str:
    """Counties as a finding names them: 东川区、晋宁区 等 7 个区县."""
    if lang != "zh":
        names = ", ".join(counties[:shown])
        return f"{names} and {len(counties) - shown} more" if len(counties) > shown else names
    names = "、".join(counties[:shown])
    return f"{names} 等 {len(counties)} 个区县" if len(counties) > shown else names


def _missing(counties: tuple[str, ...]) -> dict[str, str]:
    """A provisional finding's parameters: the counties missing, in either language."""
    return {"missing": counted(counties), "missing_en": counted(counties, lang="en")}


def _subject(name: str, vocab: Vocabulary, kind: str = "count") -> str | None:
    """What an indicator's name is about, for a figure of ``kind``: 预算 is too general a
    subject for a sum of money (the report's budget lines are all 预算) but is what a
    预算执行率 percentage is about."""
    hits = [h.value for h in vocab.subjects.hits(name) if not vocab.is_generic(h.value, kind)]
    return hits[0] if hits else None


def measured(programme: Programme, values: dict[str, Decimal], spent: dict[str, Decimal],
             vocab: Vocabulary, missing: dict[str, tuple[str, ...]] | None = None,
             ) -> list[Measured]:  # fmt: skip
    """Indicators and facts with a numeric metric, and each budget line's spending;
    ``missing``: the counties missing from each measure, by its id (`missing_from`)."""
    missing = missing or {}
    out = []
    for ind in programme.indicators:
        if ind.id in values and ind.kind in ("higher", "lower", "equal", "budget_execution") \
                and ind.unit:
            kind = {"%": "percent", "元": "money", "分": "score"}.get(ind.unit, "count")
            out.append(Measured(ind.id, ind.name, ind.subject or _subject(ind.name, vocab, kind),
                                ind.unit, values[ind.id], ind.kind == "budget_execution",
                                missing.get(ind.id, ())))  # fmt: skip
    for fact in programme.facts:
        if fact.id in values:
            out.append(Measured(fact.id, fact.name, fact.subject, fact.unit, values[fact.id],
                                missing=missing.get(fact.id, ())))  # fmt: skip
    for line in programme.budget_lines:
        if line.code in spent:
            out.append(Measured(f"budget:{line.code}", f"{line.name}使用经费",
                                _subject(line.name, vocab, "money"), "元", spent[line.code],
                                missing=missing.get(BUDGET, ())))  # fmt: skip
    return [m for m in out if m.subject]


def _comparable(c: Claim, m: Measured) -> bool:
    """A statement in the prose of what was done (tables are the table rules' business: a
    survey share is not the satisfaction level), about the same thing, in the same unit."""
    if c.subject != m.subject or c.value is None or c.kind == "date" or c.bound:
        return False
    # A count stated with no cue (六个县（市、区）举办招聘会) reports what was done; a score
    # or share with no cue may be anything (the lowest question's 9.35分).
    stated = (c.role == "actual" or (c.role is None and c.kind == "count")
              or (m.rate and c.role == "rate"))
    if not stated or c.measure == "per_unit" or c.table is not None:
        return False
    return c.unit == m.unit or (c.unit in SAME_SCALE and m.unit in SAME_SCALE)


def _overlap(a: str, b: str) -> int:
    """The longest run of characters two texts share."""
    return max((n for n in range(len(a), 0, -1) for i in range(len(a) - n + 1) if a[i : i + n] in b),
               default=0)  # fmt: skip


def claimed_value(claims: list[Claim], m: Measured) -> Decimal | None:
    """What the report says for ``m``: the comparable claim whose sentence reads most like
    the measure's name (开展招聘会场次 … 实际完成5场), if any reads like it at all."""
    scored = [(_overlap(m.name, c.sentence), c) for c in claims if _comparable(c, m)]
    best = max(scored, key=lambda sc: sc[0], default=(0, None))
    return best[1].value if best[0] >= 4 else None


def records_disagree(claims: list[Claim], measures: list[Measured], lang: str = "zh",
                     recorded: Recorded = _none) -> list[Finding]:  # fmt: skip
    """Each figure the report states against what the records measure; the records' side
    names the counties and files (``recorded``), this run's own text in ``lang`` (the
    fingerprint is not made of it)."""
    out, seen = [], set()
    for m in measures:
        for c in claims:
            if not _comparable(c, m) or (m.id, c.value) in seen:
                continue
            lo, hi = interval(c)
            if lo <= m.value <= hi:
                continue
            if m.unit == "元" and not m.value / 5 <= c.value <= 5 * m.value:
                continue  # a standard or a total, not this line's spending
            seen.add((m.id, c.value))
            shown = _figure(m.value, m.unit)
            out.append(
                Finding(
                    PROVISIONAL if m.missing else "REPORT.RECORDS_DISAGREE",
                    f"indicator:{m.id}",
                    c.text,
                    shown,
                    (ev(c), *recorded_evidence(
                        f"区县报送记录：{m.name} {shown}" if lang == "zh"
                        else f"The county records: {m.name} {_figure(m.value, m.unit, lang)}",
                        m.value, m.unit, recorded(m.id), lang)),
                    label=m.name,
                    amount_yuan=abs(c.value - m.value) if m.unit == "元" else None,
                    params={**(_missing(m.missing) if m.missing else {}),
                            **(amount_basis("报告所述与区县报送记录之差",
                                            "the report's figure against the county records'",
                                            difference(c.value, m.value), abs(c.value - m.value))
                               if m.unit == "元" else {})},
                )
            )
    return out


def rates_disagree(claims: list[Claim], programme: Programme, values: dict[str, Decimal],
                   vocab: Vocabulary, missing: dict[str, tuple[str, ...]] | None = None,
                   lang: str = "zh", recorded: Recorded = _none) -> list[Finding]:  # fmt: skip
    """A 完成率 the report states for an indicator against the rate its metric gives
    (a floor reached counts 100%); provisional where counties are ``missing`` from it; the
    records' side names the counties and files (``recorded``)."""
    missing = missing or {}
    out = []
    for target, _, rates in indicator_lines(claims):
        ind = next(
            (i for i in programme.indicators
             if i.kind == "higher" and i.id in values and i.unit == target.unit
             and isinstance(i.target, Decimal) and i.target == target.value
             and (i.subject or _subject(i.name, vocab)) == target.subject),
            None,
        )  # fmt: skip
        if ind is None or ind.target <= 0:
            continue
        recomputed = min(100 * values[ind.id] / ind.target, Decimal(100))
        for rate in rates:
            lo, hi = interval(rate)
            if not lo <= recomputed <= hi:
                out.append(
                    Finding(
                        PROVISIONAL if missing.get(ind.id) else "REPORT.RECORDS_DISAGREE",
                        f"rate:{ind.id}",
                        rate.text,
                        f"{recomputed:.2f}%",
                        (ev(rate), *recorded_evidence(
                            f"区县报送记录：{ind.name}实际 {_figure(values[ind.id], ind.unit)}，"
                            f"目标 {_figure(ind.target, ind.unit)}" if lang == "zh"
                            else f"The county records: {ind.name}, actual "
                            f"{_figure(values[ind.id], ind.unit, lang)}, target "
                            f"{_figure(ind.target, ind.unit, lang)}",
                            values[ind.id], ind.unit, recorded(ind.id), lang)),
                        label=f"{ind.name}完成率",
                        params={"label_en": f"{ind.name} (completion rate)"}
                        | (_missing(missing[ind.id]) if missing.get(ind.id) else {}),
                    )
                )  # fmt: skip
    return out
