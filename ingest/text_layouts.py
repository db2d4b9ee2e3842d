"""Tables in a plain-text report, in every layout a page flattens them into (SPEC §1.3).

The report's lines become lines of prose and raw tables (``ingest.report_items``); what the
rows mean (header, 合计, a national 自评表's parts) is read later, the same for every file
(``ingest.report``, ``ingest.national_form``). Each table says which layout it came in:

- ``tab`` (SPEC's own): consecutive lines starting with a tab; a blank line ends a row; a line
  of several tab-separated cells is a row by itself. Lines that only ever give one-cell rows
  are indented prose.
- ``pipe``: consecutive lines holding ``|``. Cells lie between the bars, with or without a
  bar at either end (Markdown opens every row with one; a page flattening cells opens a row
  with a bar only before an empty first cell); ``|---|`` lines are skipped. A page flattens each row as
  ``cell | cell | … |`` with one bar per column it spans, so the common count of bars is the
  table's width, and a row whose cells broke over lines (a cell holding a line break) is
  joined again: a line short of that width continues on the next line when together they
  make it exactly (and the first is at most three cells, or the second ends in an empty
  padding cell). A row holding only a title (…表) starts a new table and becomes its caption;
  leading one-cell rows are captions too. When every line holds one cell, the rows are
  found from a 序号 column numbering them 1, 2, 3 … every k lines.
- ``aligned``: lines whose cells are separated by runs of two or more spaces, columns
  aligned over several lines (as ``pdftotext -layout`` writes them): each cell goes to the
  column whose start or end (figures are right-aligned) it stands under, counting a wide
  (CJK) character as two columns.
- ``spaced``: cells separated by single spaces, as a web page flattens a table: every
  whitespace-separated token is a cell. Several rows run together on one line are split where
  the structure allows: label, figures, label, as many figures again.

A table in spaces must show itself: at least two lines each holding two or more figures
(dates aside: a page's 发布日期 is no table) among at most ``_MAX_CELLS`` short cells. The
lines around them join it while they look like rows (several short cells, or one short
label such as a merged cell's second line ``指标``), up to three text-only lines above as
its header; a line of prose ends it. A line run together with a whole national 自评表
(its 项目资金 and 绩效指标 parts) is a table by itself (``run``). Prose never becomes a
table: Chinese prose has no runs of spaces between words.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

from jixiao.ingest.national_form import looks_like_form
from jixiao.ingest.report_items import Line, RawCell, RawTable, is_value, parse_date

_MAX_CELLS = 64  # cells of one row in spaces: more is a list of numbers, not a table row
_SHORT = 20  # characters of a cell that is a label or a figure, not prose
_PROSE = re.compile(r"[。；;！!？?]|[，,](?!\d{3})")  # sentence punctuation (1,200 is a number)
_SEPARATOR = re.compile(r"\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*")
_WIDE_GAP = re.compile(r"\S(?: ?\S)*")  # cells of an aligned line: text without a double space


def text_items(lines: list[str]) -> list[Line | RawTable]:
    """The report's lines as prose lines and raw tables, in order (line numbers 1-based)."""
    items: list[Line | RawTable] = []
    plain: list[int] = []  # a run of lines neither tab- nor pipe-laid, scanned for spaces
    i = 0
    while i < len(lines):
        if lines[i].startswith("\t") or "|" in lines[i]:
            items += _spaces(lines, plain)
            plain = []
            block = _tab_block if lines[i].startswith("\t") else _pipe_block
            i = block(lines, i, items)
        else:
            plain.append(i)
            i += 1
    items += _spaces(lines, plain)
    return items


# --- tabs ---------------------------------------------------------------------------------


def _tab_block(lines: list[str], i: int, items: list[Line | RawTable]) -> int:
    start = i
    while i < len(lines) and (lines[i].startswith("\t") or not lines[i].strip()):
        i += 1
    items += _tab_items([(n + 1, lines[n]) for n in range(start, i)])
    return i


def _tab_items(numbered: list[tuple[int, str]], slots: bool = False) -> list[Line | RawTable]:
    """Tab-led lines (and blank ones between them, numbered as in their file) as a table,
    or as indented prose when every row holds one cell.

    With ``slots`` (a page, where an empty cell and the blank line ending a row both show as
    one line's height of space), each blank line is an empty cell while the row is short of
    the header's width, and the first one past it ends the row."""
    rows: list[list[RawCell]] = []
    row: list[RawCell] = []
    width = 0
    for number, line in numbered:
        if not line.strip() and not line.startswith("\t"):
            if row and not (slots and rows and len(row) < width):
                rows.append(row)  # the row ends
                row = []
                width = width or len(rows[0])
            elif slots and rows:
                row.append(RawCell("", number))  # an empty cell, within the row or leading it
            continue
        cells = [RawCell(t.strip(), number) for t in line[1:].rstrip().split("\t")]
        if len(cells) > 1:  # a whole row on one line
            if row:
                rows.append(row)
            rows.append(cells)
            row = []
        else:
            row.extend(cells)
    if row:
        rows.append(row)
    if any(len(r) > 1 for r in rows):
        return [RawTable(rows)]
    return [Line(c.text, c.line) for r in rows for c in r]  # indented prose, not a table


def tab_laid(items: list[Line | RawTable], page: bool = False) -> list[Line | RawTable]:
    """A document read paragraph by paragraph (.docx) or line by line (.pdf, its indented
    lines given a leading tab and its blank lines' space as blank lines) whose tables were
    laid out as the SPEC's text, a cell per tab-led paragraph and a blank one between rows
    (a .txt report a word processor opened and saved or printed): those runs read as
    tables, as in the .txt. On a page a run is a table only with two rows of several
    cells, figures in both: indented prose lines stay prose."""
    out: list[Line | RawTable] = []
    run: list[Line] = []

    def close() -> None:
        while run and not run[-1].text.strip():
            run.pop()  # the space after a table ends it, no row of it
        found = _tab_items([(x.line, x.text) for x in run], slots=page) if run else []
        if found and isinstance(table := found[0], RawTable) and (not page or _rows_of_figures(table)):
            table.page = run[0].page
            out.append(table)
        else:
            out.extend(replace(x, text=x.text.strip()) for x in run if x.text.strip())
        run.clear()

    for item in items:
        if isinstance(item, Line) and (
            item.text.startswith("\t") or run and not item.text.strip()
        ):
            run.append(item)
            continue
        close()
        if not isinstance(item, Line) or item.text.strip():
            out.append(item)
    close()
    return out


def _rows_of_figures(table: RawTable) -> bool:
    rows = [r for r in table.rows if len(r) > 1 and any(is_value(c.text) for c in r)]
    return len(rows) >= 2


# --- bars ---------------------------------------------------------------------------------


def _pipe_block(lines: list[str], i: int, items: list[Line | RawTable]) -> int:
    start = i
    while i < len(lines) and "|" in lines[i]:
        i += 1
    texts = [(n, lines[n].strip()) for n in range(start, i)]
    texts = [(n, text) for n, text in texts if not _SEPARATOR.fullmatch(text)]
    # Markdown opens every row with a bar; a page flattening cells opens a row with one only
    # where its first cell is empty.
    markdown = all(text.startswith("|") for _, text in texts)
    pieces = []  # (line number, cells, ends with a bar)
    for n, text in texts:
        cells = text.split("|")
        if markdown and text.startswith("|"):
            cells = cells[1:]
        closed = text.endswith("|")
        if closed:
            cells = cells[:-1]
        pieces.append((n + 1, [RawCell(c.strip(), n + 1) for c in cells], closed))
    counts = Counter(len(cells) for _, cells, _ in pieces)
    width = max(counts, key=lambda w: (counts[w], w)) if counts else 0
    rows = _one_per_line(pieces) if width == 1 else _pipe_rows(pieces, width)
    found = split_tables(rows, "pipe") if rows is not None else []
    if not any(isinstance(item, RawTable) for item in found):  # bars in prose (无障碍|)
        found = [Line(lines[n], n + 1) for n in range(start, i)]
    items += found
    return i


def _pipe_rows(pieces: list[tuple[int, list[RawCell], bool]], width: int) -> list[list[RawCell]]:
    rows: list[list[RawCell]] = []
    pending: list[RawCell] = []
    open_cell = False  # the pending row's last cell broke over the line
    for _, cells, closed in pieces:
        if pending and open_cell and cells:  # a cell holding a line break: one cell again
            last = pending.pop()
            cells = [RawCell(f"{last.text} {cells[0].text}".strip(), last.line), *cells[1:]]
        fits = len(pending) + len(cells) == width and (
            len(pending) <= 3 or (bool(cells) and not cells[-1].text) or open_cell
        )
        if pending and not fits:
            rows.append(pending)
            pending = []
        pending += cells
        open_cell = not closed
        if len(pending) >= width and closed:
            rows.append(pending)
            pending = []
    if pending:
        rows.append(pending)
    return rows


def _one_per_line(pieces: list[tuple[int, list[RawCell], bool]]) -> list[list[RawCell]] | None:
    """Rows of a table flattened one cell per line: ``k`` lines a row, found from a 序号 column
    numbering the rows 1, 2, 3 … (with or without a header of ``k`` lines above)."""
    cells = [c for _, row, _ in pieces for c in row]
    texts = [c.text for c in cells]
    for k in range(2, 13):
        for first in (k, 0):  # a header of k lines, or none
            numbers = texts[first::k]
            run = 0
            while run < len(numbers) and numbers[run] == str(run + 1):
                run += 1
            if run >= 2 and run >= len(numbers) - 1:
                return [cells[s : s + k] for s in range(0, len(cells), k)]
    return None


def split_tables(rows: list[list[RawCell]], layout: str) -> list[Line | RawTable]:
    """Rows split into tables at title rows (…表), leading one-cell rows as captions; a
    "table" of one row, or without a row of two cells, is prose. A row is its cells up to
    the last that holds text."""
    out: list[Line | RawTable] = []
    table: list[list[RawCell]] = []

    def close() -> None:
        if len(table) >= 2 and any(len(r) > 1 for r in table):
            out.append(RawTable(list(table), layout))
        else:
            out.extend(_as_line(r) for r in table)
        table.clear()

    for row in rows:
        while row and not row[-1].text:
            row = row[:-1]  # padding: empty cells after the last one (colspan bars)
        if not row:
            continue
        alone = len(row) == 1 or not any(c.text for c in row[1:])
        if alone and (not table or row[0].text.endswith("表")):
            close()
            out.append(_as_line(row))
            continue
        table.append(row)
    close()
    return out


def _as_line(row: list[RawCell]) -> Line:
    return Line(" ".join(c.text for c in row if c.text), row[0].line)


# --- spaces -------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _figures(tokens: list[str]) -> int:
    return sum(1 for t in tokens if is_value(t) and parse_date(t) is None)


def _kind(text: str) -> str:
    """A line among prose: row (short cells, two figures or more), cells (several short
    cells, or cells of prose side by side), short (one short label), or prose."""
    tokens = text.split()
    if not tokens:
        return "blank"
    if len(tokens) == 1:
        return "short" if len(text.strip()) <= 8 and not _PROSE.search(text) else "prose"
    if len(tokens) > _MAX_CELLS:
        return "prose"
    prose = [t for t in tokens if len(t) > _SHORT or _PROSE.search(t)]
    if not prose and _figures(tokens) >= 2:
        return "row"
    return "cells"


def _spaces(lines: list[str], run: list[int]) -> list[Line | RawTable]:
    """Prose lines, and the tables laid out in spaces among them."""
    out: list[Line | RawTable] = []
    kinds = [_kind(lines[n]) for n in run]
    done = 0
    wide = [len(lines[n].split()) >= 3 for n in run]
    for first, last in [*_regions(kinds, wide), (len(run), len(run))]:
        for n in run[done:first]:
            out.append(_form_line(lines[n], n + 1) or Line(lines[n], n + 1))
        out += _space_table([(n + 1, lines[n]) for n in run[first : last + 1]])
        done = last + 1
    return out


def _regions(kinds: list[str], wide: list[bool]) -> Iterator[tuple[int, int]]:
    """(first, last) positions of each table: two rows or more, with the short lines and
    cells between them and up to three ``wide`` lines of cells above as its header (three
    cells or more: a caption such as ``表2 经费支出表`` is no header)."""
    rows = [i for i, k in enumerate(kinds) if k == "row"]
    i = 0
    while i < len(rows):
        first = last = rows[i]
        count = 1
        j = last + 1
        while j < len(kinds) and kinds[j] in ("row", "cells", "short"):
            if kinds[j] == "row":
                last, count = j, count + 1
            j += 1
        while i < len(rows) and rows[i] <= last:
            i += 1
        if count < 2:
            continue
        top = first
        while top > 0 and first - top < 3 and kinds[top - 1] == "cells" and wide[top - 1]:
            top -= 1
        yield top, last


def _space_table(numbered: list[tuple[int, str]]) -> list[Line | RawTable]:
    if not numbered:
        return []
    aligned = sum(1 for _, text in numbered if re.search(r"\S {2,}\S", text.strip()))
    if aligned * 2 >= len(numbered):
        return [RawTable(_aligned(numbered), "aligned")]
    rows = []
    for line, text in numbered:
        rows += _run_rows([RawCell(t, line) for t in text.split()])
    return [RawTable(rows, "spaced")]


def _run_rows(cells: list[RawCell]) -> list[list[RawCell]]:
    """One line's cells, split into rows when it runs several together: a label and several
    figures, then another label and as many figures."""
    groups: list[list[RawCell]] = []
    for cell in cells:
        starts = not groups or (not is_value(cell.text) and is_value(groups[-1][-1].text))
        if starts:
            groups.append([cell])
        else:
            groups[-1].append(cell)
    figures = {sum(is_value(c.text) for c in g) for g in groups}
    if len(groups) >= 2 and len(figures) == 1 and min(figures) >= 2:
        return groups
    return [cells]


def _aligned(numbered: list[tuple[int, str]]) -> list[list[RawCell]]:
    """Cells split at runs of two spaces or more, each placed under the column of the
    widest row whose start (text) or end (figures) it stands nearest."""
    spans = []
    for line, text in numbered:
        cells = []
        for m in _WIDE_GAP.finditer(text):
            start = _width(text[: m.start()])
            cells.append((start, start + _width(m.group()), RawCell(m.group(), line)))
        spans.append(cells)
    reference = max(spans, key=len)
    rows = []
    for cells in spans:
        row = []
        taken = -1
        for start, end, cell in cells:
            near = min(
                range(len(reference)),
                key=lambda c: min(abs(start - reference[c][0]), abs(end - reference[c][1])),
            )
            cell.col = max(near, taken + 1)
            taken = cell.col
            row.append(cell)
        rows.append(row)
    return rows


def _form_line(text: str, line: int) -> RawTable | None:
    """A line that runs a whole national 自评表 together, as one row of its tokens: found by
    the form's words, not by rows."""
    tokens = text.split()
    if len(tokens) < 12 or not looks_like_form(" ".join(tokens)):
        return None
    return RawTable([[RawCell(t, line) for t in tokens]], "run")
