"""Every figure a report states, with what it is about and where it stands (SPEC §1.3).

A claim is one figure as written (``33.5万元``, ``九场``, ``55.56%``, ``2022年11月30日``,
a table cell ``20.00``), its normalised value and the power of ten of its last written
digit (DESIGN, "Rounding, the way XBRL does it"), and what the vocabulary
(``schemas/vocabulary.yaml``) says it is about: subject, measure and role. Where the
text does not say, the claim says None rather than guess.

How a figure in text is read:

- A figure needs a unit (场, 户, 人, 元, %, 分 … from the vocabulary), or is a full
  date. Bare numbers in prose are not figures: list numbering (（1）, 1., ①), years
  (2022年残疾人…), document numbers (昆发〔2019〕12号), ordinals (第二十二条) and
  question numbers (1.您认为…) carry no unit. Approximate figures (约300人, 300人左右),
  the ends of ranges (5-10人) and idioms (一次性, 十分) are left out as uncheckable.
- Subject: the vocabulary keyword nearest the figure in its clause (text between
  ，；。：); else in the two clauses before it or the one after it in the same
  sentence; generic subjects (经费 for a sum, 县市区 …) only when no other is found
  that way; then the section headings, innermost first. Keywords inside a figure's
  own unit (6个县市区), in quotation marks or in a document title (《…》) do not count.
- Role: a floor, ceiling or deadline (不低于9场, 12月30日前) makes a target; else the
  nearest role cue before the figure in its clause, else after it; else a section
  heading such as 绩效目标; else None. Rate cues (完成率) only apply to percentages; a
  figure with no measure (三个方面) gets no role.
- Measure: a cue before the figure in its clause with no other figure between
  (人均标准不低于400元 → per_unit), else its unit's measure; ``400元/人`` is per_unit.

Tables: every numeric cell is a claim (row numbers of a 序号 column and the header row
aside). Its unit comes from the cell, else a unit in brackets or a word (占比, 人数,
分数) in its column header and row label — the row label first when row labels name
several units (a survey table's 人数 / 占比 / 分数 rows) — else the table's ``单位：``
caption; with none of these it is a bare number (unit "", kind number). Its subject
comes from the row label, the column header, the table title, then the section; a row
label that is a survey question (您认为…) names what was asked, not what is counted,
and is skipped. Its role comes from the column header (下达金额 → target, 使用经费 →
actual), from the row label only when there is no header. Cells holding prose are read
like text, with the row label, header and title as context.

Claims with role None or measure None say "not stated": checks comparing figures should
leave them out rather than match them to each other.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

import cn2an

from jixiao.ingest.report import Cell, Document, Table, find_dates
from jixiao.schemas.vocabulary import MONEY, Hit, Unit, Vocabulary, fold


@dataclass(frozen=True)
class Claim:
    text: str  # as written: "33.5万元", "九场", "55.56%", "2022年11月30日", "20.00"
    value: Decimal | None  # money in 元, percent in points, counts/scores plain; None for dates
    exponent: int  # power of ten of the last written digit, in the normalised unit
    unit: str  # normalised: 元 % 分 场 户 人 家 个 份 项 期 次 date or "" (a bare table number)
    kind: str  # money | percent | count | score | date | number
    subject: str | None  # vocabulary subject id
    measure: str | None  # vocabulary measure id
    role: str | None  # target | actual | rate | None
    bound: str | None  # ">=", "<=", "by" when the clause states a floor/ceiling/deadline
    date: dt.date | None
    line: int
    section: tuple[str, ...]
    sentence: str  # the sentence it stands in (a table cell: "title › row label › column header")
    table: int | None = None  # for table cells: Table.index, row, col
    row: int | None = None
    col: int | None = None
    # where the figure starts in its paragraph's (or cell's) text; not part of what it says
    start: int = field(default=0, compare=False)


def interval(claim: Claim) -> tuple[Decimal, Decimal]:
    """The values the figure stands for: ± half a unit of its last written digit.

    55.56% → [55.555, 55.565]; 33.5万元 → [334950, 335050]; 100% → [99.5, 100.5]. A
    whole count (300户, 5场) is exact: nobody counts half a household.
    """
    if claim.value is None:
        raise ValueError(f"{claim.text} is a date and has no numeric interval")
    if claim.kind == "count" and claim.exponent == 0:
        return claim.value, claim.value
    half = Decimal(5).scaleb(claim.exponent - 1)
    return claim.value - half, claim.value + half


def intervals(claims: list[Claim]) -> list[tuple[Decimal, Decimal]]:
    """Each figure's interval at the finest precision any of them is written with: figures
    of one sum drop trailing zeros, they do not round them away (12万元 beside 10.5万元 and a
    total of 33.5万元 stands for 11.95–12.05万元)."""
    half = Decimal(5).scaleb(min(c.exponent for c in claims) - 1)
    return [(max(lo, c.value - half), min(hi, c.value + half))
            for c in claims for lo, hi in (interval(c),)]  # fmt: skip


def extract_claims(doc: Document, vocab: Vocabulary) -> list[Claim]:
    """Every figure of the report's prose, headings and tables, in document order."""
    reader = _Reader(vocab)
    claims: list[Claim] = []
    for p in doc.paragraphs:
        if p.kind in ("body", "heading"):
            claims += reader.text_claims(p.text, p.line, p.section)
    for table in doc.tables:
        claims += reader.table_claims(table)
    return sorted(claims, key=lambda c: c.line)  # stable: order within a line is kept


# --- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Figure:
    start: int
    end: int
    value: Decimal | None
    exponent: int
    unit: str
    kind: str
    measure: str | None
    bound: str | None = None
    date: dt.date | None = None


_CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
_CN_DIGIT = set("零〇一二两三四五六七八九十")
_CN_FRACTION = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0"}
_CN_FRACTION_CHARS = "".join(_CN_FRACTION)
_ARABIC = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_CLAUSE = re.compile(r"[，,；;：:。！？!?\n]")
_SENTENCE = re.compile(r"[；;。！？!?\n]")
# A quotation ends at its closing mark; an opening mark inside it starts another (Chinese
# nests “‘’”, never “““”), which also keeps the search linear on a run of opening marks.
QUOTED = re.compile(r"“[^“”]*”|《[^《》]*》|「[^「」]*」|\"[^\"]*\"")
_RANGE_DASHES = "-~～—–至到"
_MAX_NUMERAL = 40  # characters of a number as written: longer runs of digits are no figure
# A claim keeps its sentence; of a run-on sentence longer than _SENTENCE_MAX characters, the
# _WINDOW characters either side of the figure (a paragraph with no full stop would otherwise
# be copied once per figure). A table cell's path names each part in at most _PART_MAX.
_SENTENCE_MAX = 1000
_WINDOW = 100
_PART_MAX = 100
_BRACKETED_UNIT = re.compile(r"（\s*(?:单位\s*[：:])?\s*([^（）]{1,8}?)\s*）")
_BOUND_GAP = 4  # characters allowed between 不低于/至少 and the figure (至少完成一期)


def _plain(value: Decimal, exponent: int) -> Decimal:
    """The value written with exactly the digits its exponent allows (335000, 55.56)."""
    return value.quantize(Decimal(1).scaleb(min(exponent, 0)))


def _arabic(text: str, scale: int) -> tuple[Decimal, int]:
    number = Decimal(text.replace(",", ""))
    exponent = number.as_tuple().exponent + scale
    return _plain(number.scaleb(scale), exponent), exponent


def _chinese(text: str, scale: int = 0) -> tuple[Decimal, int] | None:
    """九 → 9, 三百 → 300, 十二万 → 12 × 10⁴ (last digit in the 万 place), 三十三点五 → 33.5."""
    if not _CN_DIGIT & set(text):
        return None
    whole, _, fraction = text.partition("点")
    # 十二万元 is 12万元: a scale, as in Arabic; before a 点 it is the whole part's own (一万点零一)
    while not fraction and len(whole) > 1 and whole[-1] in "万亿":
        scale += 4 if whole[-1] == "万" else 8
        whole = whole[:-1]
    if len(whole) > 1 and not set(whole) & set("〇零十百千万亿"):
        return None  # 一一, 三五: no number word (三五人 means "three or five")
    try:
        integer = int(cn2an.cn2an(whole, "normal"))
    except (ValueError, KeyError, TypeError):
        return None
    digits = "".join(_CN_FRACTION.get(c, "?") for c in fraction)
    if "?" in digits:
        return None
    return _arabic(f"{integer}.{digits}" if digits else str(integer), scale)


class _Reader:
    """The regular expressions of one vocabulary, and the reading built on them."""

    def __init__(self, vocab: Vocabulary):
        self.vocab = vocab
        units = vocab.unit_words.alternation() or "(?!)"
        scales = "|".join(map(re.escape, sorted(vocab.scales, key=len, reverse=True))) or "(?!)"
        tail = r"(?P<per>/[\u4e00-\u9fff]{1,2}(?![\u4e00-\u9fff]))?"
        self.arabic = re.compile(
            rf"(?<![A-Za-z0-9.])(?P<num>{_ARABIC})(?!\d)\s?(?P<scale>{scales})?(?P<unit>{units})?{tail}"
        )
        # A numeral starts where its run of numeral characters does (no match can start inside
        # one that could not start at its beginning), so a long run is tried once, not once
        # per character.
        self.chinese = re.compile(
            rf"(?<![{_CN_NUMERAL}])(?P<num>[{_CN_NUMERAL}]+(?:点[{_CN_FRACTION_CHARS}]+(?P<scale>{scales})?)?)"
            rf"\s?(?P<unit>{units}){tail}"
        )
        self.percent_words = re.compile(rf"百分之(?P<num>{_ARABIC}|[{_CN_NUMERAL}点]+)")
        self.cell = re.compile(
            rf"(?P<bound>[≥≤]|>=|<=)?\s*(?P<sign>[-+])?(?P<num>{_ARABIC})\s*(?P<scale>{scales})?(?P<unit>{units})?{tail}"
        )
        # One pattern per idiom, not an alternation: overlapping idioms each block their span.
        self.idioms = [re.compile(re.escape(idiom)) for idiom in vocab.idioms]
        self.scales = sorted(vocab.scales.items(), key=lambda s: -len(s[0]))
        # The not-units longer than a unit and beginning with it (场 → 场地): only these can
        # stand where that unit matched.
        self.longer = {
            unit: tuple(w for w in vocab.not_units if w.startswith(unit) and len(w) > len(unit))
            for unit in vocab.unit_words.words
        }
        # Headers, row labels, captions and headings recur cell after cell: each is read
        # once per report, so a table costs a look-up per cell, not a reading.
        self.cell_figure = functools.cache(self.cell_figure)
        self.split_unit = functools.cache(self.split_unit)
        self._role_of = functools.cache(self._role_of)
        self._header_measure = functools.cache(self._header_measure)
        self._fallback_subject = functools.cache(self._fallback_subject)
        self._column_unit = functools.cache(self._column_unit)

    # -- finding figures in a text --

    def figures(self, text: str) -> list[_Figure]:
        """Every figure in ``text`` (folded), in order, none overlapping another."""
        vocab = self.vocab
        # Characters already taken by an idiom or a figure: a figure must be free of them.
        taken = bytearray(len(text))
        for idiom in self.idioms:
            for m in idiom.finditer(text):
                taken[m.start() : m.end()] = b"\1" * (m.end() - m.start())
        found: list[_Figure] = []

        def add(figure: _Figure) -> None:
            if taken.find(1, figure.start, figure.end) < 0:
                found.append(figure)
                taken[figure.start : figure.end] = b"\1" * (figure.end - figure.start)

        for start, end, date in find_dates(text):
            if taken.find(1, start, end) < 0:
                after = vocab.bounds_after.starts(text, end)
                bound = "by" if after and after.value == "by" else None
                add(_Figure(start, end, None, 0, "date", "date", "date", bound, date))
        for m in self.percent_words.finditer(text):
            number = m["num"]
            if len(number) > _MAX_NUMERAL:
                continue
            parsed = _arabic(number, 0) if number[0].isdigit() else _chinese(number)
            if parsed:
                add(_Figure(m.start(), m.end(), *parsed, "%", "percent", "percent"))
        for pattern in (self.arabic, self.chinese):
            for m in pattern.finditer(text):
                if figure := self._figure(text, m):
                    add(figure)
        return sorted(found, key=lambda f: f.start)

    def _figure(self, text: str, m: re.Match[str]) -> _Figure | None:
        vocab = self.vocab
        written = m.groupdict().get("unit")
        scale = vocab.scales.get(m.groupdict().get("scale") or "", 0)
        if not written and not scale:
            return None  # a bare number in prose: numbering, a year, a document number
        if written and any(
            text.startswith(word, m.start("unit")) for word in self.longer.get(written, ())
        ):
            return None  # 5场地, 3项目: a word that merely begins like a unit
        before = _end_of_text_before(text, m.start())  # the text before ends at text[before - 1]
        if text.endswith(("第", "每"), 0, before) or _range_before(text, before):
            return None  # an ordinal (第二十二条), "each" (每一位), the upper end of a range
        if any(text.endswith(w, 0, before) for w in vocab.approximate_before) or any(
            text.startswith(w, m.end()) for w in vocab.approximate_after
        ):
            return None  # 约300人, 300人左右: not stated exactly
        number = m["num"]
        if len(number) > _MAX_NUMERAL:
            return None
        if number[0].isdigit():
            parsed = _arabic(number, scale)
        else:  # 三十三点五万: the scale after a fraction is not part of the numeral
            parsed = _chinese(number[: len(number) - len(m["scale"] or "")], scale)
        if parsed is None:
            return None
        unit = vocab.units[written] if written else None
        return self._make(m.start(), m.end(), parsed, unit, bool(m["per"]))

    def _make(
        self, start: int, end: int, parsed: tuple[Decimal, int], unit: Unit | None, per: bool
    ) -> _Figure:
        value, exponent = parsed
        if unit is None:
            return _Figure(start, end, value, exponent, "", "number", None)
        measure = "per_unit" if per else unit.measure
        return _Figure(start, end, value, exponent, unit.unit, unit.kind, measure)

    def cell_figure(self, text: str, written: str | None) -> _Figure | None:
        """A table cell that is one figure and nothing else; ``written`` is its unit if bare."""
        folded = fold(text).strip()
        dates = find_dates(folded)
        if len(dates) == 1 and dates[0][:2] == (0, len(folded)):
            return _Figure(0, len(folded), None, 0, "date", "date", "date", None, dates[0][2])
        m = self.cell.fullmatch(folded)
        if m is None or len(m["num"]) > _MAX_NUMERAL:
            return None
        scale = self.vocab.scales.get(m["scale"] or "", 0)
        unit = self.vocab.units.get(m["unit"] or "")
        if unit is None and written:  # from the header, the row label or the caption
            scale, unit = self.split_unit(written) or (0, None)
            scale += self.vocab.scales.get(m["scale"] or "", 0)
        value, exponent = _arabic(m["num"], scale)
        start = m.start("sign") if m["sign"] else m.start("num")
        figure = self._make(start, len(folded), (value, exponent), unit, bool(m["per"]))
        bound = {"≥": ">=", "≤": "<="}.get(m["bound"] or "", m["bound"])
        return replace(figure, value=-value if m["sign"] == "-" else value, bound=bound)

    def split_unit(self, written: str) -> tuple[int, Unit] | None:
        """``万元`` → (4, 元), ``人`` → (0, 人); None when it is no unit of the vocabulary."""
        written = fold(written).strip()
        for prefix, scale in self.scales:
            if written.startswith(prefix) and written[len(prefix) :] in self.vocab.units:
                return scale, self.vocab.units[written[len(prefix) :]]
        unit = self.vocab.units.get(written)
        return (0, unit) if unit else None

    # -- prose --

    def text_claims(
        self,
        text: str,
        line: int,
        section: tuple[str, ...],
        context: list[str] | None = None,
        cell: tuple[int, int, int] | None = None,
        prefix: str = "",
        role_context: list[str] | None = None,
    ) -> list[Claim]:
        """The claims of one paragraph, or of one prose table cell: its ``context`` (row
        label, column header, table title) is read for the subject before the section,
        its ``role_context`` (the column header) for the role."""
        folded = fold(text)
        figures = self.figures(folded)
        if not figures:
            return []
        vocab = self.vocab
        spans = _Spans([(f.start, f.end) for f in figures])

        def outside(hits: list[Hit]) -> list[Hit]:
            return [h for h in hits if not spans.overlaps(h.start, h.end)]

        quoted = _Spans([(m.start(), m.end()) for m in QUOTED.finditer(folded)])
        # A keyword inside quotation marks or a document title (“您认为…招聘会…”,
        # 《…技能竞赛的通知》) is what is quoted, not what the figure is about.
        subjects = [h for h in outside(vocab.subject_hits(folded)) if not quoted.holds(h)]
        roles = [h for h in outside(vocab.roles.hits(folded)) if not quoted.holds(h)]
        measures = outside(vocab.measure_cues.hits(folded))

        @functools.cache
        def usable(kind: str) -> tuple[_Cues, _Cues, _Cues, _Cues]:
            """The cues a figure of this kind may take: roles, measures, then its subjects,
            specific and generic. Each figure finds its nearest by bisection, so a paragraph
            costs figures × log(cues), not figures × cues."""
            return (
                _Cues([h for h in roles if h.value != "rate" or kind == "percent"]),
                _Cues([h for h in measures if vocab.cue_kinds.get(h.value) in (None, kind)]),
                _Cues([h for h in subjects if not vocab.is_generic(h.value, kind)]),
                _Cues([h for h in subjects if vocab.is_generic(h.value, kind)]),
            )

        clauses = _Spans(_split(folded, _CLAUSE))
        sentences = _Spans(_split(folded, _SENTENCE))
        said: dict[tuple[int, int], str] = {}  # each sentence's text once, for all its figures
        claims = []
        for i, f in enumerate(figures):
            here = clauses.covering(f.start)
            clause = clauses.spans[here]
            sentence = sentences.spans[sentences.covering(f.start)]
            roles_of, measures_of, specific, generic = usable(f.kind)
            previous_end = figures[i - 1].end if i else 0
            bound = f.bound or self._bound_before(folded, f, max(clause[0], previous_end))
            if bound is None and f.kind != "date":
                after = vocab.bounds_after.starts(folded, f.end)
                bound = after.value if after and after.value != "by" else None
            measure = f.measure
            if f.kind != "date" and f.measure != "per_unit":
                cue = measures_of.last(max(clause[0], previous_end), f.start)
                measure = cue.value if cue else f.measure
            role = "target" if bound else self._role(roles_of, f, clause)
            if role is None and role_context:
                role = next((r for t in role_context if (r := self._role_of(t, f.kind))), None)
            if role is None:
                role = vocab.section_role(section)
            if measure is None and not bound:
                role = None  # 三个方面: what is counted is unknown, so is whether it is an actual
            subject = self._subject(
                (specific, generic), f, here, clauses, sentence
            ) or self._fallback_subject((*(context or []), *reversed(section)), f.kind)
            if sentence[1] - sentence[0] > _SENTENCE_MAX:
                sentence = (max(sentence[0], f.start - _WINDOW), min(sentence[1], f.end + _WINDOW))
            if sentence not in said:
                said[sentence] = prefix + text[sentence[0] : sentence[1]].strip()
            claims.append(
                Claim(
                    text=text[f.start : f.end],
                    value=f.value,
                    exponent=f.exponent,
                    unit=f.unit,
                    kind=f.kind,
                    subject=subject,
                    measure=measure,
                    role=role,
                    bound=bound,
                    date=f.date,
                    line=line,
                    section=section,
                    sentence=said[sentence],
                    table=cell[0] if cell else None,
                    row=cell[1] if cell else None,
                    col=cell[2] if cell else None,
                    start=f.start,
                )
            )
        return claims

    def _bound_before(self, text: str, f: _Figure, floor: int) -> str | None:
        hits = self.vocab.bounds_before.hits(text[floor : f.start])
        if hits and f.start - (floor + hits[-1].end) <= _BOUND_GAP and f.kind != "date":
            return hits[-1].value
        return None

    def _role(self, roles: _Cues, f: _Figure, clause: tuple[int, int]) -> str | None:
        """The nearest role cue before the figure in its clause, else the first after it."""
        cue = roles.last(clause[0], f.start) or roles.first(f.end, clause[1])
        return cue.value if cue else None

    def _role_of(self, text: str, kind: str) -> str | None:
        """The role a header names by its last cue (实际完成值 → actual, 得分率 → rate)."""
        hits = [
            h for h in self.vocab.roles.hits(fold(text)) if h.value != "rate" or kind == "percent"
        ]
        return hits[-1].value if hits else None

    def _header_measure(self, text: str, kind: str) -> str | None:
        """The measure a header or row label names by its last cue (人数 → people)."""
        cues = [
            h
            for h in self.vocab.measure_cues.hits(fold(text))
            if self.vocab.cue_kinds.get(h.value) in (None, kind)
        ]
        return cues[-1].value if cues else None

    def _subject(
        self,
        cues: tuple[_Cues, _Cues],
        f: _Figure,
        here: int,
        clauses: _Spans,
        sentence: tuple[int, int],
    ) -> str | None:
        """The subject keyword nearest the figure (one before it winning a tie): specific
        ones first, in its clause, then the two clauses before and the one after."""
        spans = clauses.spans
        near = [spans[here]] + [
            spans[j]
            for j in (here - 1, here + 1, here - 2)
            if 0 <= j < len(spans) and sentence[0] <= spans[j][0] and spans[j][1] <= sentence[1]
        ]
        for hits in cues:
            for lo, hi in near:
                nearest = []
                if before := hits.last(lo, min(hi, f.start)):
                    nearest.append((f.start - before.end, 0, before.value))
                if after := hits.first(max(lo, f.end), hi):
                    nearest.append((after.start - f.end, 1, after.value))
                if nearest:
                    return min(nearest)[2]
        return None

    def _fallback_subject(self, sources: tuple[str, ...], kind: str) -> str | None:
        """From the first source naming one: its rightmost activity, else its rightmost
        qualifier (in a Chinese noun phrase the head comes last)."""
        for source in sources:
            hits = self.vocab.subject_hits(fold(source))
            specific = [h for h in hits if not self.vocab.is_generic(h.value, kind)]
            if specific or hits:
                return (specific or hits)[-1].value
        return None

    # -- tables --

    def table_claims(self, table: Table) -> list[Claim]:
        vocab = self.vocab
        rows = table.rows
        if not rows:
            return []
        skip_cols = set(table.index_columns())
        header_row = 0 if not any(self._explicit(c.text) for c in rows[0]) else None
        if header_row is not None:
            skip_cols |= {c.col for c in rows[0] if any(w in c.text for w in vocab.labels)}
        labels = {r: table.row_label(r) for r in range(len(rows)) if r != header_row}
        row_units = {u for u in (self._column_unit(label) for label in labels.values()) if u}
        rows_first = len(row_units) >= 2  # units vary down the rows: the rows carry them
        title = table.title or f"表{table.index + 1}"
        claims: list[Claim] = []
        for r, row in enumerate(rows):
            if r == header_row:
                continue
            label = labels[r]
            question = any(q in label for q in vocab.questions)
            for cell in row:
                if cell.merged or not cell.text or cell.col in skip_cols:
                    continue
                header = table.header(cell.col) if header_row is not None else ""
                sources = [label, header] if rows_first else [header, label]
                figure = self.cell_figure(cell.text, self._bare_unit(sources, table.unit))
                path = " › ".join(_part(p) for p in (title, label, header) if p)
                context = [
                    s for s in ([header, title] if question else [label, header, title]) if s
                ]
                if figure is None:  # prose: its figures, each with the cell's context
                    claims += self.text_claims(
                        cell.text,
                        cell.line,
                        table.section,
                        context,
                        (table.index, r, cell.col),
                        path + "：",
                        [header or ("" if question else label)],
                    )
                    continue
                claims.append(
                    self._cell_claim(
                        table, cell, figure, path, context, header, "" if question else label
                    )
                )
        return claims

    def _cell_claim(
        self,
        table: Table,
        cell: Cell,
        f: _Figure,
        path: str,
        context: list[str],
        header: str,
        label: str,
    ) -> Claim:
        # A row label gives the role only where there is no column header to give it
        # (a key-value table): 完成残疾人职业技能竞赛… names a row, it states no actual.
        role = "target" if f.bound else self._role_of(header or label, f.kind)
        measure = f.measure
        if f.kind != "date" and f.measure != "per_unit":
            for source in (header, label):
                if (cue := self._header_measure(source, f.kind)) is not None:
                    measure = cue
                    break
        return Claim(
            text=cell.text.strip()[f.start : f.end],
            value=f.value,
            exponent=f.exponent,
            unit=f.unit,
            kind=f.kind,
            subject=self._fallback_subject((*context, *reversed(table.section)), f.kind),
            measure=measure,
            role=role,
            bound=f.bound,
            date=f.date,
            line=cell.line,
            section=table.section,
            sentence=path,
            table=table.index,
            row=cell.row,
            col=cell.col,
            start=f.start,
        )

    def _explicit(self, text: str) -> bool:
        """A cell stating a figure with its unit (so its row is data, not a header)."""
        figure = self.cell_figure(text, None)
        return figure is not None and figure.kind != "number"

    def _column_unit(self, text: str) -> str | None:
        """The unit a header or row label gives its bare numbers: in brackets, or by a word."""
        folded = fold(text)
        for m in _BRACKETED_UNIT.finditer(folded):
            if self.split_unit(m[1]):
                return m[1]
        return self.vocab.columns.rightmost(folded)

    def _bare_unit(self, sources: list[str], caption: str | None) -> str | None:
        for source in sources:
            unit = self._column_unit(source) if source else None
            if unit == MONEY:
                split = self.split_unit(caption) if caption else None
                return caption if split and split[1].kind == "money" else None
            if unit:
                return unit
        return caption if caption and self.split_unit(caption) else None


def _part(text: str) -> str:
    return text if len(text) <= _PART_MAX else text[: _PART_MAX - 1] + "…"


class _Spans:
    """Sorted spans (start, end) that do not overlap, looked up by bisection."""

    def __init__(self, spans: list[tuple[int, int]]):
        self.spans = spans
        self.starts = [s for s, _ in spans]

    def covering(self, pos: int) -> int:
        """The index of the span holding ``pos`` (the last one starting at or before it)."""
        return bisect.bisect_right(self.starts, pos) - 1

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, end) - 1  # the last span starting before ``end``
        return i >= 0 and self.spans[i][1] > start

    def holds(self, hit: Hit) -> bool:
        i = bisect.bisect_right(self.starts, hit.start) - 1
        return i >= 0 and hit.end <= self.spans[i][1]


class _Cues:
    """Cue words found in one text, sorted and disjoint as a Lexicon finds them."""

    def __init__(self, hits: list[Hit]):
        self.hits = hits
        self.starts = [h.start for h in hits]
        self.ends = [h.end for h in hits]

    def last(self, lo: int, hi: int) -> Hit | None:
        """The last cue lying within [lo, hi]."""
        i = bisect.bisect_right(self.ends, hi) - 1
        return self.hits[i] if i >= 0 and self.hits[i].start >= lo else None

    def first(self, lo: int, hi: int) -> Hit | None:
        """The first cue lying within [lo, hi]."""
        i = bisect.bisect_left(self.starts, lo)
        return self.hits[i] if i < len(self.hits) and self.hits[i].end <= hi else None


def _end_of_text_before(text: str, pos: int) -> int:
    """Where the text before ``pos`` ends once trailing spaces are dropped."""
    while pos and text[pos - 1].isspace():
        pos -= 1
    return pos


def _range_before(text: str, end: int) -> bool:
    """text[:end] ends with a digit and a dash (5-, 5 至): the figure ends a range."""
    if not end or text[end - 1] not in _RANGE_DASHES:
        return False
    start = _end_of_text_before(text, end - 1)
    return start > 0 and text[start - 1].isdecimal()


def _split(text: str, delimiters: re.Pattern[str]) -> list[tuple[int, int]]:
    """Spans between delimiters (each span ends at its delimiter)."""
    spans, start = [], 0
    for m in delimiters.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans
