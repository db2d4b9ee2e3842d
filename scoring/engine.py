"""The scorecard: each indicator scored by its kind (SCORING.md), explained in Chinese.

Rules, w being the indicator's weight, every score exact (Decimal) and rounded
ROUND_HALF_UP to 2 places; level-1 totals and the total are sums of rounded scores:

- higher: actual ≥ target → w, else w × actual / target.
- lower: actual ≤ target → w; target < actual < 2·target → w × (1 − (actual − target) / target);
  actual ≥ 2·target → 0.
- equal: target 0 → w when actual ≤ 0, else 0; any other target as higher.
- deadline: done by the date → w; late → 0 (``late: zero``, the default) or, with
  ``late: per_day``, w × max(0, 1 − days_late / LATE_DAYS): a straight line down to 0 at
  LATE_DAYS (30) days late. programme.yaml cannot carry the 30 yet (its schema forbids
  unknown keys), so ``score(..., late_days=)`` sets it.
- qualitative: the auditor's score from programme.yaml, refused outside 0..w; its band
  (达成 80–100%, 部分达成 60–80%, 未达成 0–60%) and reason explain it.
- budget_execution: w × rate, the rate (in %) capped at 100%.

No actual (a metric returning NULL) scores 0: for a satisfaction indicator that means no
survey behind it. An actual ≥ 130% of a higher/equal target scores w but is flagged: the
target was probably set too low and the report must explain it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from jixiao.checks.findings import Evidence, Finding
from jixiao.ingest.claims import Claim
from jixiao.said import SaidError
from jixiao.schemas.programme import Indicator, Programme
from jixiao.schemas.warehouse import SCORES
from jixiao.scoring.metrics import Metric

CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)
LATE_DAYS = 30  # per_day: days late at which a deadline indicator reaches 0
FAR_ABOVE = Decimal("1.3")  # actual / target from which the target looks set too low
TOLERANCE = Decimal("0.005")  # a claimed score differs when further than this
GRADES = ((Decimal(90), "优"), (Decimal(80), "良"), (Decimal(60), "中"), (ZERO, "差"))
BANDS = (
    (Decimal("0.8"), "达成，80%–100%", "met, 80%–100%"),
    (Decimal("0.6"), "部分达成，60%–80%", "partly met, 60%–80%"),
    (ZERO, "未达成，0–60%", "not met, 0–60%"),
)
TOTAL = "total"


class ScoringError(SaidError):
    """An indicator cannot be scored as declared: one sentence in Chinese and in English."""


@dataclass(frozen=True)
class IndicatorScore:
    indicator: Indicator
    actual: Decimal | dt.date | None
    score: Decimal
    explanation: str
    explanation_en: str  # the same in English (``--lang en``): scores are stored in the run's
    far_above: bool = False  # ≥ 130% of target: full marks, but the report must explain

    @property
    def deduction(self) -> Decimal:
        return self.indicator.weight - self.score


@dataclass(frozen=True)
class Level1Score:
    name: str
    weight: Decimal
    score: Decimal
    indicators: tuple[IndicatorScore, ...]

    @property
    def deduction(self) -> Decimal:
        return self.weight - self.score


@dataclass(frozen=True)
class Scorecard:
    programme_code: str
    indicators: tuple[IndicatorScore, ...]
    level1: tuple[Level1Score, ...]
    total: Decimal
    grade: str
    claimed: dict[str, Decimal] = field(default_factory=dict)

    @property
    def weight(self) -> Decimal:
        return sum((s.weight for s in self.level1), ZERO)

    def recomputed(self, key: str) -> tuple[str, Decimal, tuple[IndicatorScore, ...]] | None:
        """(label, score, indicators behind it) for an indicator id, level-1 name or "total"."""
        if key == TOTAL:
            return "总分", self.total, self.indicators
        for s in self.level1:
            if s.name == key:
                return s.name, s.score, s.indicators
        for s in self.indicators:
            if s.indicator.id == key:
                return s.indicator.name, s.score, (s,)
        return None


def grade(total: Decimal) -> str:
    """优 ≥ 90, 良 80–<90, 中 60–<80, 差 < 60."""
    return next(name for floor, name in GRADES if total >= floor)


def score(
    programme: Programme,
    metrics: dict[str, Metric],
    claimed: dict[str, Decimal] | None = None,
    *,
    late_days: int = LATE_DAYS,
) -> Scorecard:
    """Score every indicator of ``programme`` from ``metrics`` (by indicator id)."""
    # Every score carries exactly 2 places, full marks included (6 → 6.00).
    scored = tuple(
        replace(s, score=_round(s.score))
        for s in (_indicator(i, metrics, late_days) for i in programme.indicators)
    )
    names = list(dict.fromkeys(i.level1 for i in programme.indicators))
    level1 = tuple(
        Level1Score(
            name,
            sum((s.indicator.weight for s in group), ZERO),
            sum((s.score for s in group), ZERO),
            group,
        )
        for name in names
        for group in [tuple(s for s in scored if s.indicator.level1 == name)]
    )
    total = sum((s.score for s in level1), ZERO)
    return Scorecard(programme.code, scored, level1, total, grade(total), dict(claimed or {}))


# --- one indicator -------------------------------------------------------------------------


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _shown(value: Decimal | dt.date) -> str:
    return _num(value) if isinstance(value, Decimal) else str(value)


def _num(value: Decimal) -> str:
    """9 → "9", 35.294118 → "35.29", 3.5 → "3.5": as an auditor writes it."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    if value.as_tuple().exponent < -2:
        return str(_round(value))
    return f"{value.normalize():f}"


def _with_unit(value: Decimal, unit: str | None) -> str:
    if not unit:
        return _num(value)
    return f"{_num(value)}{unit}" if unit == "%" else f"{_num(value)} {unit}"


def _deducted(weight: Decimal, points: Decimal) -> str:
    if points == weight:
        return f"得 {_num(points)} 分"
    return f"得 {_num(points)} 分，扣 {_num(weight - points)} 分"


def _deducted_en(weight: Decimal, points: Decimal) -> str:
    if points == weight:
        return f"{_num(points)} points"
    return f"{_num(points)} points, {_num(weight - points)} deducted"


def _is_satisfaction(ind: Indicator) -> bool:
    return "满意度" in ind.name or "满意度" in ind.level2


def _indicator(ind: Indicator, metrics: dict[str, Metric], late_days: int) -> IndicatorScore:
    w = ind.weight
    if ind.kind == "qualitative":
        return _qualitative(ind)
    metric = metrics.get(ind.id)
    if metric is None:
        raise ScoringError(f"指标「{ind.name}」（{ind.id}）缺少度量结果，无法评分",
                           f"indicator '{ind.name}' ({ind.id}) has no measured result and "
                           "cannot be scored")  # fmt: skip
    if ind.kind == "deadline":
        if not isinstance(ind.target, dt.date):
            raise ScoringError(f"时效指标「{ind.name}」的目标值应为日期，实际为 {ind.target}",
                               f"the target of the deadline indicator '{ind.name}' should be "
                               f"a date, not {ind.target}")  # fmt: skip
        return _deadline(ind, metric.value_date, late_days)
    if not isinstance(ind.target, Decimal):
        raise ScoringError(f"指标「{ind.name}」的目标值应为数值，实际为 {ind.target}",
                           f"the target of indicator '{ind.name}' should be a number, not "
                           f"{ind.target}")  # fmt: skip
    actual = metric.value
    if actual is None:
        why, why_en = (
            ("无满意度问卷数据支撑，满意度指标不得分", "no survey data support a satisfaction indicator")
            if _is_satisfaction(ind)
            else ("度量无结果（无相关记录），不得分", "the measure has no result (no records)")
        )
        return IndicatorScore(ind, None, ZERO, f"{why}，扣 {_num(w)} 分",
                              f"{why_en}: no points, {_num(w)} deducted")  # fmt: skip
    if ind.kind == "budget_execution":
        return _budget_execution(ind, actual)
    if ind.kind == "lower":
        return _lower(ind, actual)
    if ind.kind == "equal" and ind.target == 0:
        points = w if actual <= 0 else ZERO
        shown = _with_unit(actual, ind.unit)
        verdict = "符合" if points else "不符合"
        return IndicatorScore(
            ind, actual, points, f"目标为 0，实际 {shown}，{verdict}目标，{_deducted(w, points)}",
            f"target 0, actual {shown}: {'meets' if points else 'misses'} the target, "
            f"{_deducted_en(w, points)}",
        )
    return _higher(ind, actual)


def _higher(ind: Indicator, actual: Decimal) -> IndicatorScore:
    w, target, unit = ind.weight, ind.target, ind.unit
    shown, wanted = _with_unit(actual, unit), _with_unit(target, unit)
    if actual >= target:
        if target > 0 and actual >= FAR_ABOVE * target:
            ratio = _num(_round(HUNDRED * actual / target))
            return IndicatorScore(
                ind,
                actual,
                w,
                f"实际 {shown}，为目标 {wanted}的 {ratio}%（≥130%），完成率按 100% 计，"
                f"得 {_num(w)} 分；远超目标须说明原因（目标可能设置偏低）",
                f"actual {shown}, {ratio}% of the target {wanted} (≥130%): counted as 100%, "
                f"{_num(w)} points; so far above its target must be explained (the target may "
                "have been set too low)",
                far_above=True,
            )
        return IndicatorScore(ind, actual, w, f"实际 {shown}，达到目标 {wanted}，得 {_num(w)} 分",
                              f"actual {shown}, meets the target {wanted}: {_num(w)} points")  # fmt: skip
    if target <= 0:  # a negative actual under a zero target: nothing to scale by
        return IndicatorScore(
            ind, actual, ZERO, f"实际 {shown}，低于目标 {wanted}，扣 {_num(w)} 分",
            f"actual {shown}, below the target {wanted}: {_num(w)} deducted",
        )
    points = _round(w * max(actual, ZERO) / target)
    return IndicatorScore(
        ind,
        actual,
        points,
        f"实际 {shown}，低于目标 {wanted}：{_num(w)} × {_num(max(actual, ZERO))}/{_num(target)}"
        f" = {points}，扣 {_num(w - points)} 分",
        f"actual {shown}, below the target {wanted}: {_num(w)} × {_num(max(actual, ZERO))}/"
        f"{_num(target)} = {points}, {_num(w - points)} deducted",
    )


def _lower(ind: Indicator, actual: Decimal) -> IndicatorScore:
    w, target, unit = ind.weight, ind.target, ind.unit
    shown, wanted = _with_unit(actual, unit), _with_unit(target, unit)
    if actual <= target:
        return IndicatorScore(ind, actual, w, f"实际 {shown}，不高于目标 {wanted}，得 {_num(w)} 分",
                              f"actual {shown}, not above the target {wanted}: {_num(w)} points")  # fmt: skip
    if target <= 0 or actual >= 2 * target:
        return IndicatorScore(
            ind,
            actual,
            ZERO,
            f"实际 {shown}，达到目标 {wanted} 的 2 倍及以上，不得分，扣 {_num(w)} 分"
            if target > 0
            else f"实际 {shown}，高于目标 {wanted}，不得分，扣 {_num(w)} 分",
            f"actual {shown}, twice the target {wanted} or more: no points, {_num(w)} deducted"
            if target > 0
            else f"actual {shown}, above the target {wanted}: no points, {_num(w)} deducted",
        )
    points = _round(w * (1 - (actual - target) / target))
    return IndicatorScore(
        ind,
        actual,
        points,
        f"实际 {shown}，高于目标 {wanted}：{_num(w)} × (1 − ({_num(actual)} − {_num(target)})"
        f"/{_num(target)}) = {points}，扣 {_num(w - points)} 分",
        f"actual {shown}, above the target {wanted}: {_num(w)} × (1 − ({_num(actual)} − "
        f"{_num(target)})/{_num(target)}) = {points}, {_num(w - points)} deducted",
    )


def _deadline(ind: Indicator, done: dt.date | None, late_days: int) -> IndicatorScore:
    w, due = ind.weight, ind.target
    if done is None:
        return IndicatorScore(
            ind, None, ZERO, f"无完成记录，视为未在 {due} 前完成，扣 {_num(w)} 分",
            f"no record of completion, taken as not done by {due}: {_num(w)} deducted",
        )
    if done <= due:
        return IndicatorScore(ind, done, w, f"于 {done} 完成，不晚于期限 {due}，得 {_num(w)} 分",
                              f"done on {done}, by the deadline {due}: {_num(w)} points")  # fmt: skip
    days = (done - due).days
    late = f"于 {done} 完成，晚于期限 {due} {days} 天"
    late_en = f"done on {done}, {days} day(s) after the deadline {due}"
    if ind.late != "per_day":
        return IndicatorScore(ind, done, ZERO, f"{late}，逾期不得分，扣 {_num(w)} 分",
                              f"{late_en}: late, no points, {_num(w)} deducted")  # fmt: skip
    points = _round(w * max(ZERO, 1 - Decimal(days) / late_days))
    return IndicatorScore(
        ind,
        done,
        points,
        f"{late}，按逾期每天扣 1/{late_days}：{_num(w)} × max(0, 1 − {days}/{late_days})"
        f" = {points}，扣 {_num(w - points)} 分",
        f"{late_en}: 1/{late_days} deducted per day late: {_num(w)} × max(0, 1 − {days}/"
        f"{late_days}) = {points}, {_num(w - points)} deducted",
    )


def _qualitative(ind: Indicator) -> IndicatorScore:
    w, given = ind.weight, ind.score
    if not ZERO <= given <= w:
        raise ScoringError(f"定性指标「{ind.name}」的评分 {given} 超出 0–{_num(w)} 分范围",
                           f"the score {given} of the qualitative indicator '{ind.name}' is "
                           f"outside 0–{_num(w)}")  # fmt: skip
    points = _round(given)
    band, band_en = next((zh, en) for floor, zh, en in BANDS if points >= floor * w)
    return IndicatorScore(
        ind, None, points, f"定性评价（{band}）：{ind.reason.rstrip('。')}。{_deducted(w, points)}",
        # the reason is programme.yaml's, as written
        f"qualitative ({band_en}): {ind.reason.rstrip('。')}; {_deducted_en(w, points)}",
    )


def _budget_execution(ind: Indicator, rate: Decimal) -> IndicatorScore:
    w = ind.weight
    used = min(max(rate, ZERO), HUNDRED)
    points = _round(w * used / HUNDRED)
    lost = "得满分" if points == w else f"扣 {_num(w - points)} 分"
    lost_en = "full marks" if points == w else f"{_num(w - points)} deducted"
    text = f"预算执行率 {_num(rate)}%：{_num(w)} × {_num(used)}% = {points}，{lost}"
    text_en = f"budget execution {_num(rate)}%: {_num(w)} × {_num(used)}% = {points}, {lost_en}"
    if rate > HUNDRED:
        text += "；执行率超过 100%，按 100% 计分，超预算支出须说明原因"
        text_en += "; above 100% counts as 100%, and spending over budget must be explained"
    return IndicatorScore(ind, rate, points, text, text_en)


# --- the scores table ----------------------------------------------------------------------


def _typed(name: str, value: object) -> dict:
    """A target or actual in the column of its type, for analysts: a figure or a date."""
    return {f"{name}_value": value if isinstance(value, Decimal) else None,
            f"{name}_date": value if isinstance(value, dt.date) else None}  # fmt: skip


def scorecard_rows(card: Scorecard, run_id: str, programme_code: str, year: int,
                   lang: str = "zh") -> list[dict]:  # fmt: skip
    """Rows for ``scores``: indicators (level 3), level-1 totals (1), the total (0); their
    explanations in ``lang``, as the run's findings are stored in it."""
    base = {"run_id": run_id, "programme_code": programme_code, "year": year}
    zh = lang == "zh"
    rows = []
    for s in card.indicators:
        ind = s.indicator
        rows.append(
            base
            | {
                "level": 3,
                "indicator_id": ind.id,
                "level1": ind.level1,
                "name": ind.name,
                "kind": ind.kind,
                "weight": ind.weight,
                "target": None if ind.target is None else str(ind.target),
                "actual": None if s.actual is None else _shown(s.actual),
                "score": s.score,
                "deduction": s.deduction,
                "claimed_score": card.claimed.get(ind.id),
                "grade": None,
                "explanation": s.explanation if zh else s.explanation_en,
                **_typed("target", ind.target),
                **_typed("actual", s.actual),
            }
        )
    for s in card.level1:
        rows.append(
            base
            | {
                "level": 1,
                "indicator_id": s.name,
                "level1": s.name,
                "name": s.name,
                "kind": None,
                "weight": s.weight,
                "target": None,
                "actual": None,
                "score": s.score,
                "deduction": s.deduction,
                "claimed_score": card.claimed.get(s.name),
                "grade": None,
                "explanation": _level1_text(s, lang),
                **_typed("target", None),
                **_typed("actual", None),
            }
        )
    rows.append(
        base
        | {
            "level": 0,
            "indicator_id": TOTAL,
            "level1": None,
            "name": "总分" if zh else "Total",
            "kind": None,
            "weight": card.weight,
            "target": None,
            "actual": None,
            "score": card.total,
            "deduction": card.weight - card.total,
            "claimed_score": card.claimed.get(TOTAL),
            "grade": card.grade,
            "explanation": f"总分 {card.total} 分，评价等级「{card.grade}」"
            "（优 ≥ 90，良 80–<90，中 60–<80，差 < 60）" if zh
            else f"total {card.total}; excellent ≥ 90, good 80–<90, fair 60–<80, poor < 60",
            **_typed("target", None),
            **_typed("actual", None),
        }
    )
    columns = [c.name for c in SCORES.columns]
    return [{c: row[c] for c in columns} for row in rows]


def _level1_text(s: Level1Score, lang: str = "zh") -> str:
    lost = [f"{i.indicator.name} {_num(i.deduction)}" for i in s.indicators if i.deduction]
    if lang != "zh":
        text = f"{s.score} of {_num(s.weight)} points"
        return text + (f", {_num(s.deduction)} deducted ({'; '.join(lost)})" if lost else "")
    text = f"满分 {_num(s.weight)} 分，得 {s.score} 分"
    return text + (f"，扣 {_num(s.deduction)} 分（{'；'.join(lost)}）" if lost else "")


# --- the report's own scores ----------------------------------------------------------------


def claimed_scores(claims: list[Claim], programme: Programme) -> dict[str, Decimal]:
    """The report's self-scores: score-table cells under a 得分 column (not 得分率) whose row
    names an indicator or a level-1 indicator of programme.yaml, or the total (合计/总分);
    the total as the text states it (自评得分) first. Keys: indicator id, level-1 name, "total"."""
    indicators = sorted(programme.indicators, key=lambda i: -len(i.name))
    level1 = sorted({i.level1 for i in programme.indicators}, key=len, reverse=True)
    found: dict[str, Decimal] = {}
    for c in claims:  # the headline: 本项目自评得分93.00分
        if (
            c.table is None
            and c.subject == "self_score"
            and c.kind == "score"
            and c.value is not None
        ):
            found.setdefault(TOTAL, c.value)
    for c in claims:
        parts = c.sentence.split(" › ")
        if c.table is None or c.value is None or c.kind in ("percent", "date") or len(parts) != 3:
            continue
        label, header = parts[1], parts[2]
        if "得分" not in header or "得分率" in header:
            continue
        key = next((i.id for i in indicators if i.name in label), None)
        key = key or next((name for name in level1 if name in label), None)
        if key is None and any(word in label for word in ("合计", "总分", "总计")):
            key = TOTAL
        if key is not None:
            found.setdefault(key, c.value)
    return found


def score_findings(card: Scorecard, claimed: dict[str, Decimal], lang: str = "zh") -> list[Finding]:
    """REPORT.SCORE_DIFFERS for each claimed score more than 0.005 from the recomputed one;
    the evidence is the recomputation: each indicator behind it that lost points."""
    findings = []
    for key, value in claimed.items():
        found = card.recomputed(key)
        if found is None:
            continue
        label, recomputed, behind = found
        if abs(value - recomputed) <= TOLERANCE:
            continue
        # The recomputation is this run's own text, in its language (the fingerprint is not
        # made of it); names are the programme's.
        zh = lang == "zh"
        section = "重新计算" if zh else "recomputed"
        evidence = tuple(
            Evidence(f"{section} › {s.indicator.level1}", 0,
                     f"{s.indicator.name}：{s.explanation}" if zh
                     else f"{s.indicator.name}: {s.explanation_en}")
            for s in behind
            if s.deduction or len(behind) == 1
        ) or (Evidence(section, 0, f"{label}：各项指标均得满分" if zh
                       else f"{label}: every indicator has full marks"),)  # fmt: skip
        findings.append(
            Finding(
                "REPORT.SCORE_DIFFERS",
                f"score:{key}",
                str(_round(value)),
                str(recomputed),
                evidence,
                label=label,
                params={"label_en": "total"} if key == TOTAL else {},
            )
        )
    return findings
