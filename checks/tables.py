"""Report tables as grids of figures: which columns are labels, which rows are totals.

Merged label cells come out of a text export as a short row (合计 spanning 序号 and
项目名称): such a row is re-aligned on its right, so its figures stay under their headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from jixiao.ingest.report import Document, Table

TOTAL_WORDS = ("合计", "总计", "小计", "合 计", "总 计")
_TOTALS = frozenset(w.replace(" ", "") for w in TOTAL_WORDS)
_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?%?$")


@dataclass(frozen=True)
class Figure:
    """A numeric cell: its value, the rounding interval it stands for, and whether it is %."""

    value: Decimal
    lo: Decimal
    hi: Decimal
    percent: bool
    text: str
    line: int


def figure(text: str, line: int = 0) -> Figure | None:
    t = text.replace(" ", "").replace("％", "%")
    if not _NUMBER.match(t):
        return None
    percent = t.endswith("%")
    digits = t.rstrip("%").replace(",", "")
    value = Decimal(digits)
    half = Decimal(5) * Decimal(10) ** (value.as_tuple().exponent - 1)
    return Figure(value, value - half, value + half, percent, text, line)


def common_precision(figs: list[Figure]) -> list[Figure]:
    """Figures of one column (or one sum) at the finest precision any of them is written
    with: trailing zeros are dropped, not rounded away, so beside 99.5 and 9.5 a 20 stands
    for 19.95–20.05, not 19.5–20.5."""
    exponent = min(f.value.as_tuple().exponent for f in figs)
    half = Decimal(5) * Decimal(10) ** (exponent - 1)
    return [replace(f, lo=max(f.lo, f.value - half), hi=min(f.hi, f.value + half)) for f in figs]


def is_total(text: str) -> bool:
    return text.replace(" ", "") in _TOTALS


@dataclass
class Grid:
    table: Table
    header: list[str]
    rows: list[list[str]]  # data rows, aligned to the header's width
    lines: list[int]
    label_cols: list[int]
    value_cols: list[int]
    # Every cell parsed once, and every row's group carried down once: the rules ask for
    # them cell by cell and row by row, so each is a look-up, not a parse or a walk up.
    figs: list[list[Figure | None]]
    groups: list[str] = field(init=False)

    def __post_init__(self) -> None:
        group, self.groups = "", []
        for row in self.rows:
            if self.label_cols and row[self.label_cols[0]]:
                group = row[self.label_cols[0]]
            self.groups.append(group)

    def fig(self, r: int, c: int) -> Figure | None:
        return self.figs[r][c] if c < len(self.figs[r]) else None

    def group(self, r: int) -> str:
        """The row's group label: its first label cell, or the nearest one above."""
        return self.groups[r]

    def kind(self, r: int) -> str | None:
        """The row's kind when a second label column names it (人数 / 占比 / 分数)."""
        if len(self.label_cols) < 2:
            return None
        return self.rows[r][self.label_cols[-1]] or None

    def total_row(self, r: int) -> bool:
        first = self.value_cols[0] if self.value_cols else len(self.header)
        if any(is_total(t) for t in self.rows[r][:first]):
            return True
        # A continuation row (人数 / 占比 / 分数 under 合计) belongs to its group's total.
        return (
            bool(self.label_cols)
            and not self.rows[r][self.label_cols[0]]
            and is_total(self.group(r))
        )

    def col(self, *words: str, exclude: tuple[str, ...] = ()) -> int | None:
        """The first value column whose header holds one of ``words``."""
        for c in self.value_cols:
            h = self.header[c]
            if any(w in h for w in words) and not any(x in h for x in exclude):
                return c
        return None

    @property
    def title(self) -> str:
        return self.table.title or (self.header[0] if self.header else f"表{self.table.index + 1}")


def grid(table: Table) -> Grid | None:
    if len(table.rows) < 2:
        return None
    header = [c.text for c in table.rows[0]]
    width = len(header)
    rows, lines = [], []
    for cells in table.rows[1:]:
        texts = [c.text for c in cells]
        if len(texts) < width and texts and is_total(texts[0]):
            texts = [texts[0], *[""] * (width - len(texts)), *texts[1:]]
        rows.append((texts + [""] * width)[:width])
        lines.append(cells[0].line if cells else table.line)
    figs = [[figure(t, line) for t in row] for row, line in zip(rows, lines, strict=True)]
    numeric = [
        c
        for c in range(width)
        if header[c] not in ("序号", "编号")
        and sum(f[c] is not None for f in figs) * 2 >= max(1, sum(bool(r[c]) for r in rows))
        and any(f[c] is not None for f in figs)
    ]
    first = min(numeric, default=width)
    labels = [c for c in range(first) if header[c] not in ("序号", "编号")]
    values = [c for c in numeric if c > first - 1]
    return Grid(table, header, rows, lines, labels, values, figs)


def grids(doc: Document) -> list[Grid]:
    """The grid of every table that has one, in document order: built once per report."""
    return [g for table in doc.tables if (g := grid(table)) is not None]
