"""Rules over the report's tables: totals, remainders, rates, shares and survey scores."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

from jixiao.checks.findings import Evidence, Finding
from jixiao.checks.tables import Figure, Grid, common_precision
from jixiao.ingest.report import Said

COUNT_KINDS = ("人数", "数量", "份数", "户数", "个数")
SHARE_KINDS = ("占比", "比例", "百分比", "比重")
SCORE_KINDS = ("分数", "得分", "分值")
RATE_HEADERS = ("率", "占比", "比例")
MINUENDS = ("下达", "预算", "批复", "权重", "满分", "计划")
SUBTRAHENDS = ("使用", "支出", "实际", "执行", "得分")
# Why a table cannot be checked when its reader gave no reason (Table.problem).
UNEVEN = Said("行宽不一", "rows of differing width")
CUT_OFF = Said("末行只有名称、没有数据", "its last row has a name and no figures")


def _q(x: Decimal) -> str:
    return format(x.normalize(), "f") if x == x.to_integral() else f"{x:.2f}"


def _sum(figs: list[Figure]) -> tuple[Decimal, Decimal, Decimal]:
    return (sum(f.value for f in figs), sum(f.lo for f in figs), sum(f.hi for f in figs))


def _evidence(g: Grid, r: int, c: int) -> Evidence:
    section = " › ".join((*g.table.section, g.title))
    label = " ".join(x for x in (g.group(r), g.kind(r) or "", g.header[c]) if x)
    return Evidence(section, g.lines[r], f"{label}：{g.rows[r][c]}",
                    table_row=g.table.word_row(g.lines[r]))


def _has(text: str | None, words: tuple[str, ...]) -> bool:
    return bool(text) and any(w in text for w in words)


def _finding(rule_id: str, g: Grid, cells: list[tuple[int, int]], claimed: str, observed: str,
             subject: str | None = None, params: dict | None = None) -> Finding:  # fmt: skip
    return Finding(
        rule_id,
        subject or f"table:{g.title}",
        claimed,
        observed,
        tuple(_evidence(g, r, c) for r, c in cells),
        params=params or {},
    )


def table_findings(grids: list[Grid], weights: dict[str, Decimal] | None = None) -> list[Finding]:
    out: list[Finding] = []
    for g in grids:
        table = g.table
        if not g.value_cols:
            continue
        if table.truncated or _cut_off(g):
            problem = table.problem or (CUT_OFF if _cut_off(g) else UNEVEN)
            out.append(unverifiable(g, problem))
            continue
        out += list(_column_totals(g))
        out += list(_row_relations(g))
        out += list(_survey(g, weights))
    return out


def unverifiable(g: Grid, problem: Said) -> Finding:
    """A table whose figures cannot be checked, and why: never a clean one, never a mismatch."""
    section = " › ".join(g.table.section)
    return Finding(
        "REPORT.TABLE_UNVERIFIABLE",
        g.title,
        "",
        problem.zh,
        (Evidence(section, g.table.line, g.title, table_row=g.table.word_row(g.table.line)),),
        params={"observed_en": problem.en},
    )


def _cut_off(g: Grid) -> bool:
    """A last row that names an item but holds none of the figures every other row has."""
    last = len(g.rows) - 1
    filled = [r for r in range(last) if all(g.fig(r, c) for c in g.value_cols)]
    return (
        last >= 1
        and len(filled) == last
        and any(g.rows[last][c] for c in g.label_cols)
        and not any(g.rows[last][c] for c in g.value_cols)
    )


def _parts(g: Grid, start: int, total: int) -> list[int]:
    """The rows a total row adds up: those of its kind from ``start`` (the row after the
    previous total) to it."""
    kind = g.kind(total)
    return [r for r in range(start, total) if kind is None or g.kind(r) == kind]


def _exact(figs: list[Figure]) -> list[Figure]:
    """Whole counts stand for themselves, not for a rounding interval."""
    return [replace(f, lo=f.value, hi=f.value) if f.value == f.value.to_integral() else f
            for f in figs]  # fmt: skip


def _rate_col(g: Grid, c: int) -> bool:
    return _has(g.header[c], RATE_HEADERS)


def _total_mismatch(g: Grid, cell: tuple[int, int], claimed: str, total: Figure,
                    figs: list[Figure], claimed_en: str | None = None) -> Finding | None:  # fmt: skip
    """A stated total that no values within its parts' rounding can add up to."""
    value, lo, hi = _sum(figs)
    if hi < total.lo or lo > total.hi:
        parts = " + ".join(f.text for f in figs)
        return _finding("REPORT.TABLE_TOTAL", g, [cell], claimed, f"{_q(value)}（{parts}）",
                        params={"claimed_en": claimed_en or claimed,
                                "observed_en": f"{_q(value)} ({parts})"})  # fmt: skip
    return None


def _column_totals(g: Grid) -> Iterator[Finding]:
    start = 0  # the row after the previous total row: a total adds up what follows the last
    for t in range(len(g.rows)):
        if not g.total_row(t):
            continue
        first, start = start, t + 1
        if _has(g.kind(t), SHARE_KINDS):
            continue
        parts = _parts(g, first, t)
        for c in g.value_cols:
            total = g.fig(t, c)
            figs = [f for r in parts if (f := g.fig(r, c)) is not None]
            if total is None or total.percent or _rate_col(g, c) or len(figs) < 2:
                continue
            total, *figs = common_precision([total, *figs])
            if _has(g.kind(t), COUNT_KINDS):
                total, *figs = _exact([total, *figs])
            if found := _total_mismatch(g, (t, c), f"{g.header[c]}合计 {total.text}", total, figs,
                                        f"{g.header[c]} total {total.text}"):
                yield found


def _row_relations(g: Grid) -> Iterator[Finding]:
    """Within a row: parts against a total column, a remainder, a rate."""
    total_col = g.col("合计", "总计", "小计")
    minuend = g.col(*MINUENDS, exclude=RATE_HEADERS)
    subtrahend = g.col(*SUBTRAHENDS, exclude=(*RATE_HEADERS, *MINUENDS))
    remainder = g.col("结余", "余额", "扣分", "差额")
    rate = g.col("得分率", "执行率", "完成率", "使用率")
    for r in range(len(g.rows)):
        if _has(g.kind(r), SHARE_KINDS):
            continue  # shares are the share rules' business
        if total_col is not None and (total := g.fig(r, total_col)) and not total.percent:
            figs = [f for c in g.value_cols if c < total_col and (f := g.fig(r, c))]
            if _has(g.kind(r), COUNT_KINDS):  # nobody counts half a respondent
                total, *figs = _exact([total, *figs])
            if len(figs) >= 2 and not any(f.percent for f in figs):
                claimed = f"{g.group(r)} {g.kind(r) or ''}{g.header[total_col]} {total.text}"
                said = " ".join(x for x in (g.group(r), g.kind(r), g.header[total_col]) if x)
                if found := _total_mismatch(g, (r, total_col), claimed, total, figs,
                                            f"{said} {total.text}"):  # fmt: skip
                    yield found
        a = g.fig(r, minuend) if minuend is not None else None
        b = g.fig(r, subtrahend) if subtrahend is not None else None
        if a is None or b is None:
            continue
        d = g.fig(r, remainder) if remainder is not None else None
        if d is not None and (a.lo - b.hi > d.hi or a.hi - b.lo < d.lo):
            yield _finding(
                "REPORT.TABLE_TOTAL",
                g,
                [(r, remainder)],
                f"{g.group(r)} {g.header[remainder]} {d.text}",
                f"{g.header[minuend]} {a.text} − {g.header[subtrahend]} {b.text} = {_q(a.value - b.value)}",
            )
        p = g.fig(r, rate) if rate is not None else None
        if p is not None and a.value > 0 and p.percent:
            lo, hi = 100 * b.lo / a.hi, 100 * b.hi / a.lo
            if hi < p.lo or lo > p.hi:
                yield _finding(
                    "REPORT.RATE_RECOMPUTED",
                    g,
                    [(r, rate)],
                    f"{g.group(r)} {g.header[rate]} {p.text}",
                    f"{b.text} / {a.text} = {100 * b.value / a.value:.2f}%",
                    subject=f"{g.title}:{g.group(r)}",
                )


def _answer_cols(g: Grid) -> list[int]:
    total = g.col("合计", "总计")
    return [c for c in g.value_cols if c != total]


def _survey(g: Grid, weights: dict[str, Decimal] | None) -> Iterator[Finding]:
    """Tables whose rows come in groups of counts, shares and scores (满意度问卷统计表)."""
    kinds = {g.kind(r) for r in range(len(g.rows))}
    if not (any(_has(k, COUNT_KINDS) for k in kinds) and any(_has(k, SHARE_KINDS) for k in kinds)):
        return
    answers = _answer_cols(g)
    total_col = g.col("合计", "总计")
    groups: dict[str, dict[str, int]] = {}
    for r in range(len(g.rows)):
        for name, words in (("count", COUNT_KINDS), ("share", SHARE_KINDS), ("score", SCORE_KINDS)):
            if _has(g.kind(r), words):
                groups.setdefault(g.group(r), {})[name] = r
    w = _weights(g, groups, answers, weights)
    overall: list[Decimal] = []
    by_question: list[dict[int, Decimal]] = []  # each question's scores as its counts give them
    for label, rows in groups.items():
        if "count" not in rows:
            continue
        rc = rows["count"]
        counts = {c: g.fig(rc, c) for c in answers}
        if any(f is None for f in counts.values()):
            continue
        n = sum(f.value for f in counts.values())
        stated_n = g.fig(rc, total_col) if total_col is not None else None
        if stated_n is not None and not stated_n.percent:
            n = stated_n.value
        if n <= 0:
            continue
        subject = f"survey:{label[:24]}"
        if "share" in rows:
            yield from _shares(g, rows["share"], counts, n, total_col, subject)
        if g.total_row(rc):
            if "score" in rows and by_question:
                yield from _total_scores(g, rows["score"], by_question, total_col, subject)
            continue
        expected = {c: counts[c].value * w[c] / n for c in answers}
        by_question.append(expected)
        if "score" in rows:
            yield from _scores(g, rows["score"], counts, n, w, subject)
            yield from _question_score(g, rows["score"], expected, total_col, subject)
        overall.append(sum(expected.values()))
    yield from _overall(g, overall)


def _shares(g, rs, counts, n, total_col, subject) -> Iterator[Finding]:
    shares = [(c, g.fig(rs, c)) for c in counts]
    for c, share in shares:
        if share is None:
            continue
        expected = 100 * counts[c].value / n
        if not (share.lo <= expected <= share.hi):
            yield _finding(
                "REPORT.SHARE_UNSUPPORTED",
                g,
                [(rs, c), (rs - 1 if rs else rs, c)],
                f"{g.header[c]} {share.text}",
                f"{counts[c].text} / {_q(n)} = {expected:.2f}%",
                subject=f"{subject}:{g.header[c]}",
            )
    figs = [f for _, f in shares if f is not None]
    value, lo, hi = _sum(figs)
    if figs and (hi < 100 or lo > 100):
        stated = g.fig(rs, total_col) if total_col is not None else None
        yield _finding(
            "REPORT.SHARES_NOT_100",
            g,
            [(rs, c) for c, f in shares if f is not None][:1],
            stated.text if stated else "—",
            f"{_q(value)}%",
            subject=subject,
        )


DEFAULT_WEIGHTS = tuple(Decimal(x) for x in (10, 8, 6, 4, 2))


def _weights(g: Grid, groups, answers, given: dict[str, Decimal] | None) -> dict[int, Decimal]:
    """Points per answer column: the programme's; else the common 10/8/6/4/2 where every
    supported cell agrees with it; else read off the cells the counts support."""
    if given:
        by_letter = {c: given[k] for c in answers for k in given if g.header[c].startswith(k)}
        if len(by_letter) == len(answers):
            return by_letter
    cells: dict[int, list[tuple[Decimal, Figure]]] = {}  # column -> (count share, score)
    for rows in groups.values():
        if not {"count", "score"} <= rows.keys():
            continue
        total = sum((f.value for x in answers if (f := g.fig(rows["count"], x))), Decimal(0))
        for c in answers:
            n, score = g.fig(rows["count"], c), g.fig(rows["score"], c)
            if n and score and n.value > 0 and total > 0:
                cells.setdefault(c, []).append((n.value / total, score))
    weights = {}
    for i, c in enumerate(answers):
        default = DEFAULT_WEIGHTS[i] if i < len(DEFAULT_WEIGHTS) else Decimal(0)
        seen = cells.get(c, [])
        # The half-point weight that most supported cells agree with, the common one first.
        candidates = [default, *(Decimal(k) / 2 for k in range(0, 41))]
        weights[c] = max(
            candidates, key=lambda w: sum(s.lo <= share * w <= s.hi for share, s in seen)
        )
    return weights


def _scores(g, rs, counts, n, w, subject) -> Iterator[Finding]:
    for c, count in counts.items():
        score = g.fig(rs, c)
        if score is None:
            continue
        expected = count.value * w[c] / n
        if not (score.lo <= expected <= score.hi):
            yield _finding(
                "REPORT.SCORE_UNSUPPORTED",
                g,
                [(rs, c)],
                f"{g.header[c]} {score.text}",
                f"{count.text} / {_q(n)} × {_q(w[c])} = {expected:.2f}",
                subject=f"{subject}:{g.header[c]}",
            )


def _sum_fits(stated: Figure, expected: Decimal, cells: int) -> bool:
    """A stated sum of ``cells`` scores against the exact one: written as the sum of the
    rounded cells, it may stand half a unit per cell away."""
    slack = (stated.hi - stated.lo) / 2 * cells
    return stated.lo - slack <= expected <= stated.hi + slack


def _question_score(g, rs, expected, total_col, subject) -> Iterator[Finding]:
    """A question's own score (its 合计 on the 分数 row) against counts × weights."""
    stated = g.fig(rs, total_col) if total_col is not None else None
    if stated is None or stated.percent:
        return
    value = sum(expected.values())
    if not _sum_fits(stated, value, len(expected)):
        parts = " + ".join(f"{e:.2f}" for e in expected.values())
        yield _finding("REPORT.SCORE_UNSUPPORTED", g, [(rs, total_col)], f"合计 {stated.text}",
                       f"按人数与权重计算为 {value:.2f}（{parts}）", subject=subject,
                       params={"observed_en": f"{value:.2f} by its counts and weights ({parts})"})  # fmt: skip


def _total_scores(g, rs, by_question, total_col, subject) -> Iterator[Finding]:
    """The 合计 row's scores against the questions' scores as their counts give them: per
    answer column, and in its own 合计, the sum over the questions (or their mean, where a
    table averages)."""
    columns = [*by_question[0], *([total_col] if total_col is not None else [])]
    for c in columns:
        stated = g.fig(rs, c)
        if stated is None or stated.percent:
            continue
        value = sum(sum(q.values()) if c == total_col else q[c] for q in by_question)
        cells = len(by_question) * (len(by_question[0]) if c == total_col else 1)
        mean = value / len(by_question)
        if not (_sum_fits(stated, value, cells) or _sum_fits(stated, mean, cells)):
            whole = c == total_col
            yield _finding("REPORT.SCORE_UNSUPPORTED", g, [(rs, c)],
                           f"{'合计' if whole else g.header[c]} {stated.text}",
                           f"按各题人数与权重合计为 {value:.2f}",
                           subject=subject if whole else f"{subject}:{g.header[c]}",
                           params={"observed_en": f"{value:.2f} by each question's counts and weights"})  # fmt: skip


def _overall(g: Grid, per_question: list[Decimal]) -> Iterator[Finding]:
    """The table's final score (最终得分 / 综合得分) against the score the counts give."""
    if not per_question:
        return
    expected = sum(per_question)
    for r in range(len(g.rows)):
        label = " ".join(g.rows[r][: (g.value_cols[0] if g.value_cols else 1)])
        if not any(w in label for w in ("最终得分", "综合得分", "满意度得分", "总得分")):
            continue
        figs = [f for c in g.value_cols if (f := g.fig(r, c)) is not None] or [
            f for c in range(len(g.rows[r])) if (f := g.fig(r, c)) is not None
        ]
        if figs and not (
            figs[-1].lo - Decimal("0.05") <= expected <= figs[-1].hi + Decimal("0.05")
        ):
            yield Finding(
                "REPORT.SCORE_UNSUPPORTED",
                "survey:overall",
                f"{label.strip()} {figs[-1].text}",
                f"按各题人数与权重计算为 {expected:.2f}",
                (Evidence(" › ".join((*g.table.section, g.title)), g.lines[r], label,
                          table_row=g.table.word_row(g.lines[r])),),
                params={"observed_en": f"{expected:.2f} by each question's counts and weights"},
            )
