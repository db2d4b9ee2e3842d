"""Where a template sheet stands in a grid, as county clerks lay sheets out.

Readers stop at grids (``ingest.readers``: text cells by sheet row, merged ranges, hidden
sheets and rows, formulas); here a sheet of the programme's template is found in them.
Everything is driven by the template's declarations (labels, types), never by a sheet or
column of one programme:

- which sheet is which: by its name, by a name with a suffix (``慰问情况表``, ``慰问(2)``), or
  by its header row (``Sheet1``); a hidden sheet is not read when a visible one of the same
  kind exists;
- the header: the row (or two rows) among the first ``HEAD_ROWS`` that carry most of the
  template's labels, whatever stands above it (a title, a ``单位：元`` line, a group row);
  labels compared without line breaks, padding, full-width forms or a trailing unit;
- the data: rows below the header, less a 栏次 row of column numbers, 合计 / 小计 / 总计 rows
  (kept apart, to be checked against the column they total), footer lines (填表人 …) and rows
  with nothing under any template column (a 序号 column numbered further than the data);
- merged cells filled as Excel shows them; a money column headed in 万元 read in 万元.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain

import polars as pl

from jixiao.ingest.problems import Problem
from jixiao.ingest.readers import Columns, RawSheet, column_letters
from jixiao.said import Said
from jixiao.schemas.contracts import Sheet, Template

HEAD_ROWS = 30  # the header is looked for among the first rows holding anything
ROW = "_row"  # the sheet row each record came from (lineage)
# A stated total: the Excel row of its 合计 / 小计 / 总计 line, that label as typed (合 计), the
# first and last data rows it covers (a 小计: those since the previous 小计 or the header), the
# column's key, the cell (F12) and the cell's text as typed or shown (1,200, 0.12万, 1200元).
TOTALS = {"row": pl.Int64, "label": pl.String, "from_row": pl.Int64, "to_row": pl.Int64,
          "column": pl.String, "cell": pl.String, "stated": pl.String}  # fmt: skip

_SPACE = re.compile(r"[\s*＊※]+")  # line breaks, padding, required-field stars
_UNIT = re.compile(r"\(([^()]*)\)$")  # a label's trailing unit: 慰问金额(元)
_UNIT_LINE = re.compile(r"(?:金额)?单位[:：]?(万元|元)")
_TOTAL = re.compile(r"(?:本页|本表|全部|总)?(合计|小计|总计|共计)(?::|\(元\))?")
# A footer item: 填表人：…, 审核人：…, 填报日期：…, 单位盖章, 注：…
_FOOTER = re.compile(
    r"(?:填表人|填报人|制表人|统计人|审核人|审核|复核人|负责人|单位负责人|分管领导|经办人|联系人|"
    r"联系电话|电话|填报日期|填表日期|制表日期|报送日期|日期|填报单位|报送单位|单位盖章|盖章|"
    r"单位\(盖章\)|\(盖章\)|注|说明)(?::|$|\d)"
)
_SPECIAL = ["计", ":", "：", "盖章", "注", "说明"]  # in every total label or footer item
_COLUMN_NUMBERS = re.compile(r"\d{1,2}|[甲乙丙丁戊己庚辛]")
_PLAIN_NUMBER = r"^\s*[-+]?[\d,，.]+\s*$"


def normal(text: str | None) -> str:
    """A label as compared: full-width forms half-width, no whitespace or stars, lower case."""
    if not text:
        return ""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


@dataclass
class Table:
    """A template sheet as found in one grid. ``frame``: the data rows as text columns by
    field key plus ROW (None when the header could not be used: ``problems`` says why);
    ``totals``: the stated totals, one row per total cell (row, label, from_row, to_row,
    column, cell, stated)."""

    name: str
    header_rows: tuple[int, ...]
    frame: pl.DataFrame | None
    positions: dict[str, int] = field(default_factory=dict)  # field key -> column index
    totals: pl.DataFrame | None = None
    notes: list[Said] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@functools.lru_cache(maxsize=64)
def _labels(sheet: Sheet) -> _Labels:
    """A sheet's `_Labels`, made once per sheet (per template a reader process is handed)."""
    return _Labels(sheet)


class _Labels:
    """A sheet's labels and keys as compared (``normal``), with and without their unit."""

    def __init__(self, sheet: Sheet):
        self.fields = len(sheet.labels)
        self.exact: dict[str, str] = {}
        self.base: dict[str, str] = {}
        for key, label in sheet.labels.items():
            for name in (key, label):
                self.exact.setdefault(normal(name), key)
                self.base.setdefault(_UNIT.sub("", normal(name)), key)

    def match(self, text: str | None) -> tuple[str, str | None] | None:
        """(field key, the unit the header gives) for a header cell, or None."""
        cell = normal(text)
        if not cell:
            return None
        if cell in self.exact:
            return self.exact[cell], None
        unit = _UNIT.search(cell)
        key = self.base.get(_UNIT.sub("", cell))
        return (key, unit.group(1) if unit else None) if key else None


@dataclass
class _Header:
    rows: tuple[int, ...]  # indexes into the grid's rows
    positions: dict[str, int]
    units: dict[str, str]
    duplicates: list[str]


def _grid(raw: RawSheet | Columns, head_only: bool = False) -> list[tuple[int, list[str | None]]]:
    """The grid's rows holding anything, as (sheet row, cells), merged cells filled."""
    if isinstance(raw, Columns):
        rows = raw.frame.head(HEAD_ROWS) if head_only else raw.frame  # "row" is the last column
        return [(raw.header_row, list(raw.header))] + [(r[-1], list(r[:-1])) for r in rows.rows()]
    rows = [(raw.header_row, raw.header), *zip(raw.row_numbers, raw.rows, strict=True)]
    if head_only:
        rows = rows[:HEAD_ROWS]
    if not raw.merged:
        return rows
    at = {number: i for i, (number, _) in enumerate(rows)}
    rows = [(n, list(cells)) for n, cells in rows]
    for first_row, first_col, last_row, last_col in raw.merged:
        top = rows[at[first_row]][1] if first_row in at else []
        value = top[first_col] if first_col < len(top) else None
        if value is None:
            continue
        for number in range(first_row, last_row + 1):
            if number not in at:
                continue
            cells = rows[at[number]][1]
            if len(cells) <= last_col:
                cells.extend([None] * (last_col + 1 - len(cells)))
            for col in range(first_col, last_col + 1):
                cells[col] = value
    return rows


def _find_header(grid: list[tuple[int, list[str | None]]], labels: _Labels) -> _Header | None:
    """The row, or pair of rows, among the first HEAD_ROWS that names most template fields.
    In a pair, a column is named by its lower cell, by both read together, or by its upper
    cell (a label merged down over both rows)."""
    best: _Header | None = None
    head = grid[:HEAD_ROWS]

    def tries() -> Iterator[tuple[tuple[int, ...], list[list[str | None]]]]:
        """Each row, then each pair of rows, as candidates for each column: made only while
        no row names every field (most sheets: the first row does)."""
        for i, (_, cells) in enumerate(head):
            yield (i,), [[c] for c in cells]
        for i in range(len(head) - 1):  # a pair only where it names more than any one row
            upper, lower = head[i][1], head[i + 1][1]
            pairs = []
            for c in range(max(len(upper), len(lower))):
                up = upper[c] if c < len(upper) else None
                down = lower[c] if c < len(lower) else None
                pairs.append([down, (up or "") + (down or ""), up])
            yield (i, i + 1), pairs

    for rows, columns in tries():
        positions: dict[str, int] = {}
        units: dict[str, str] = {}
        duplicates = []
        for c, options in enumerate(columns):
            hit = next((m for m in map(labels.match, options) if m), None)
            if hit is None:
                continue
            key, unit = hit
            if key in positions:
                duplicates.append(key)
                continue
            positions[key] = c
            if unit:
                units[key] = unit
        if positions and (best is None or len(positions) > len(best.positions)):
            best = _Header(rows, positions, units, duplicates)
            if len(positions) == labels.fields:  # nothing names more: the common case, row 1
                return best
    return best


def header_score(raw: RawSheet | Columns, sheet: Sheet) -> int:
    """How many of the sheet's fields the best header row of the grid names."""
    found = _find_header(_grid(raw, head_only=True), _labels(sheet)) if raw.header else None
    return len(found.positions) if found else 0


def _unit_line(grid: list[tuple[int, list[str | None]]], above: int) -> str | None:
    """万元 or 元, as a ``单位：万元`` line above the header says."""
    for _, cells in grid[:above]:
        for cell in cells:
            if cell and (found := _UNIT_LINE.search(normal(cell))):
                return found.group(1)
    return None


def _is_column_numbers(cells: list[str | None]) -> bool:
    """A 栏次 row under the header: 1 2 3 … or 甲 乙 1 2 …, one per column."""
    shown = [normal(c) for c in cells if c]
    if len(shown) < 3 or not all(_COLUMN_NUMBERS.fullmatch(c) for c in shown):
        return False
    numbers = [int(c) for c in shown if c.isdigit()]
    return numbers == sorted(set(numbers))


def _total_label(cells: list[str | None]) -> str | None:
    for cell in cells:
        if cell and "计" in cell and _TOTAL.fullmatch(normal(cell)):
            return cell
    return None


def locate(raw: RawSheet | Columns, sheet: Sheet) -> Table:
    """The template sheet ``sheet`` as it stands in the grid ``raw``."""
    name = raw.name
    if not raw.header:
        return Table(name, (), None, problems=[Problem("SHEET.EMPTY_HEADER", name)])
    # A CSV's rows stay columns: only its first rows are looked at one by one.
    grid = _grid(raw, head_only=isinstance(raw, Columns))
    header = _find_header(grid, _labels(sheet))
    if header is None:
        return Table(name, (), None, problems=[
            Problem("SHEET.NO_HEADER", name, detail=f"{min(HEAD_ROWS, len(grid))}",
                    expected="、".join(sheet.labels.values()))])  # fmt: skip
    header_rows = tuple(grid[i][0] for i in header.rows)
    problems = [Problem("COLUMN.DUPLICATE", name, header_rows[-1], sheet.labels[k])
                for k in header.duplicates]  # fmt: skip
    if len(header.positions) < len(sheet.labels):
        why = f"{len(header.positions)}/{len(sheet.labels)}"
        problems += [Problem("COLUMN.MISSING", name, header_rows[-1], label, detail=why)
                     for key, label in sheet.labels.items() if key not in header.positions]  # fmt: skip
    if problems:
        return Table(name, header_rows, None, problems=problems)
    last = header.rows[-1]
    notes = []
    below = grid[last + 1] if last + 1 < len(grid) else None
    if below and _is_column_numbers(below[1]):
        notes.append(Said(f"工作表「{name}」第 {below[0]} 行是栏次（列序号），未作为数据读入",
                          f"sheet '{name}' row {below[0]} numbers the columns: not read as data"))
        last += 1
    if isinstance(raw, Columns):  # most CSVs: the header is their first line, the rest data
        body = raw.frame if last == 0 else raw.frame.filter(pl.col("row") > grid[last][0])
    else:
        body = _frame(grid[last + 1 :])
    labels = grid[header.rows[-1]][1]
    header_cells = {f"c{i}": labels[i] for i in header.positions.values()
                    if i < len(labels) and labels[i] and f"c{i}" in body.columns}  # fmt: skip
    table = _read_body(raw, sheet, header, body, header_cells, notes)
    table.header_rows = header_rows
    if (unit := _unit_line(grid, header.rows[0])) or header.units:
        table.frame = _in_yuan(table.frame, sheet, header.units, unit)
    return table


def _frame(rows: list[tuple[int, list[str | None]]]) -> pl.DataFrame:
    """Grid rows as text columns c0, c1 … by position, and ``row``."""
    width = max((len(cells) for _, cells in rows), default=0)
    columns = list(zip(*(cells + [None] * (width - len(cells)) for _, cells in rows), strict=True))
    return pl.DataFrame(
        {f"c{i}": columns[i] if columns else () for i in range(width)}
        | {"row": [n for n, _ in rows]},
        schema=dict.fromkeys((f"c{i}" for i in range(width)), pl.String) | {"row": pl.Int64},
    )


def _in_yuan(frame: pl.DataFrame, sheet: Sheet, units: dict[str, str], unit: str | None):
    """A money column headed, or under a unit line, in 万元: its plain numbers read in 万."""
    for key in sheet.labels:
        if sheet.fields[key].type == "money" and units.get(key, unit) == "万元":
            c = pl.col(key)
            frame = frame.with_columns(
                pl.when(c.str.contains(_PLAIN_NUMBER)).then(c + "万").otherwise(c).alias(key)
            )
    return frame


def _read_body(raw: RawSheet | Columns, sheet: Sheet, header: _Header, body: pl.DataFrame,
               header_cells: dict[str, str], notes: list[str]) -> Table:  # fmt: skip
    """The rows below the header: data, stated totals and footer lines told apart, set-wise;
    only the few rows that may be a total or a footer are looked at one by one."""
    name, positions = raw.name, header.positions
    cells = [c for c in body.columns if c != "row"]
    mapped = [f"c{i}" for i in positions.values() if f"c{i}" in body.columns]
    used = pl.any_horizontal(pl.col(mapped).is_not_null()) if mapped else pl.lit(False)
    # One pass says which of the set-wise steps below a sheet needs: most need none. A step is
    # not even asked about where it cannot apply: every column is the template's (a grid holds
    # no empty rows), or the sheet's text holds none of the words it looks for.
    asked = {}
    if body.height:
        text = _text(raw)
        if len(mapped) < len(cells):
            asked["unused"] = ~used
        if text is None or any(word in text for word in _SPECIAL):
            special = pl.any_horizontal(pl.col(c).str.contains_any(_SPECIAL) for c in cells)
            asked["maybe"] = used & special
        if header_cells and (text is None or all(text.count(t) > 1 for t in header_cells.values())):
            asked["again"] = used & pl.all_horizontal(pl.col(c) == t for c, t in header_cells.items())
    flags = body.select(e.any().alias(k) for k, e in asked.items()).row(0, named=True) if asked else {}
    unused, maybe_any, again_any = (flags.get(k, False) for k in ("unused", "maybe", "again"))
    if unused:
        _unused_rows(body.filter(~used), [c for c in cells if c not in mapped], name, notes)
        body = body.filter(used)
    maybe = body.filter(asked["maybe"]) if maybe_any else body.clear()
    totals: list[tuple[int, str, list[str | None]]] = []
    footers: list[int] = []
    for row in maybe.iter_rows():
        number, line = row[-1], list(row[:-1])
        if label := _total_label(line):
            totals.append((number, label, [line[i] if i < len(line) else None
                                           for i in positions.values()]))  # fmt: skip
        elif any(footer := [bool(_FOOTER.match(normal(c))) for c in line if c]):
            footers.append((number, all(footer)))
    out = {n for n, _, _ in totals}
    if footers:
        # A footer line holds only footer items (填表人：… 审核人：…) or fills at most half the
        # required columns; a row of data with a 注：… remark in it stays data.
        required = [f"c{c}" for k, c in positions.items()
                    if sheet.fields[k].constraints.required and f"c{c}" in cells]  # fmt: skip
        filled = pl.sum_horizontal(pl.col(required).is_not_null()) if required else pl.lit(0)
        thin = set(body.filter((pl.col("row") >= footers[0][0]) & (filled * 2 <= len(required)))["row"])
        only = {n for n, whole in footers if whole}
        if footer_from := next((n for n, _ in footers if n in thin or n in only), None):
            thin |= only
            notes.append(Said(
                f"工作表「{name}」第 {footer_from} 行起是表尾（填表人、日期等），未作为数据读入",
                f"sheet '{name}' from row {footer_from} on is the footer (who filled it in, the "
                "date …): not read as data"))  # fmt: skip
            out |= {n for n in thin if n >= footer_from}
    if again_any:  # the header repeated down the sheet (printed page by page)
        repeated = body.filter(asked["again"])["row"]
        shown, shown_en = "、".join(map(str, repeated.head(20))), ", ".join(map(str, repeated.head(20)))
        notes.append(Said(f"工作表「{name}」第 {shown} 行重复了表头，未作为数据读入",
                          f"sheet '{name}' rows {shown_en} repeat the header: not read as data"))
        out |= set(repeated)
    data = body.filter(~pl.col("row").is_in(list(out))) if out else body
    # A column the header names but no row reaches (its cells all empty) holds nothing.
    # Built from the columns themselves: a query per sheet would cost more than the rest.
    frame = pl.DataFrame([
        *(data.get_column(f"c{positions[k]}").alias(k) if f"c{positions.get(k)}" in cells
          else pl.Series(k, [None] * data.height, pl.String) for k in sheet.labels),
        data.get_column("row").alias(ROW),
    ])  # fmt: skip
    problems = []
    rows = set(frame[ROW]) if isinstance(raw, RawSheet) and (raw.formulas or raw.hidden_rows) else set()
    if rows and raw.formulas:
        columns = {c: k for k, c in positions.items()}
        problems = [
            Problem("SHEET.FORMULA", name, row, sheet.labels[columns[col]], text,
                    cell=f"{column_letters(col)}{row}")
            for (row, col), text in sorted(raw.formulas.items())
            if row in rows and col in columns
        ]  # fmt: skip
    if hidden := sorted(rows & set(raw.hidden_rows)) if rows else []:
        shown = _rows(hidden)
        notes.append(Said(f"工作表「{name}」第 {shown.zh} 行在 Excel 中是隐藏行，已按数据读入",
                          f"sheet '{name}' rows {shown.en} are hidden in Excel: read as data"))
    numbers = frame[ROW].to_list() if totals else []
    return Table(name, (), frame, positions, _totals(totals, numbers, positions, sheet), notes,
                 problems)  # fmt: skip


def _text(raw: RawSheet | Columns) -> str | None:
    """Every cell of the sheet in one string, where a word no cell holds is ruled out at once: a
    CSV's text as decoded, a workbook sheet's cells joined; None where merged cells copy their
    text into more cells than the string holds."""
    if isinstance(raw, Columns):
        return raw.text
    return None if raw.merged else "\x1f".join(filter(None, chain(raw.header, *raw.rows)))


def _rows(numbers: list[int]) -> Said:
    """Row numbers as a note lists them: the first 20, and 等 / … for the rest."""
    more = len(numbers) > 20
    return Said("、".join(map(str, numbers[:20])) + (" 等" if more else ""),
                ", ".join(map(str, numbers[:20])) + (" …" if more else ""))


def _unused_rows(rows: pl.DataFrame, others: list[str], name: str, notes: list[Said]) -> None:
    """Rows with nothing under any template column are not data; those holding text elsewhere
    (not a 序号, a footer or a 合计 label) are named, lest data typed beside its columns go
    unread without a word."""
    if rows.is_empty() or not others:
        return
    texty = rows.filter(pl.any_horizontal(
        pl.col(c).is_not_null() & ~pl.col(c).str.contains(r"^\s*\d+\s*$") for c in others))
    shown = [number for *line, number in texty.select(*others, "row").iter_rows()
             if not any(_FOOTER.match(normal(c)) or _TOTAL.fullmatch(normal(c))
                        for c in line if c)]  # fmt: skip
    if shown:
        rows = _rows(shown)
        notes.append(Said(f"工作表「{name}」第 {rows.zh} 行在模板各列下没有内容，未作为数据读入",
                          f"sheet '{name}' rows {rows.en} hold nothing under the template's "
                          "columns: not read as data"))  # fmt: skip


def _totals(totals: list[tuple[int, str, list[str | None]]], numbers: list[int],
            positions: dict[str, int], sheet: Sheet) -> pl.DataFrame | None:  # fmt: skip
    """Each stated total cell with the data rows it totals: a 小计 those since the previous
    小计, a 合计 or 总计 all of the sheet's."""
    if not totals:
        return None
    numeric = [k for k in sheet.totalled if k in positions]
    out = []
    since = 0
    for row, label, used in totals:
        if "小计" in normal(label):
            covered = [n for n in numbers if since < n < row]
            since = row
        else:
            covered = numbers
        for key in numeric:
            stated = used[list(positions).index(key)]
            if stated is not None:  # over no rows at all, it totals nothing: rows row..row-1
                cell = f"{column_letters(positions[key])}{row}"
                first, last = (covered[0], covered[-1]) if covered else (row, row - 1)
                out.append((row, label, first, last, key, cell, stated))
    return pl.DataFrame(out, schema=TOTALS, orient="row") if out else None


@dataclass
class Choice:
    """The template sheets a workbook holds, by key, and what was decided on the way."""

    sheets: dict[str, RawSheet | Columns]
    notes: list[Said] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _kind(name: str, raw: RawSheet | Columns, template: Template) -> str | None:
    """The template sheet a workbook sheet is: by its name, a name containing a title (the
    longest), else by its header row (most fields named, at least half of them)."""
    shown = normal(name)
    for key, sheet in template.sheets.items():
        if shown in (normal(sheet.title), normal(key)):
            return key
    named = [k for k, s in template.sheets.items() if normal(s.title) in shown]
    if named:
        return max(named, key=lambda k: len(template.sheets[k].title))
    if not raw.header:
        return None
    scores = {k: header_score(raw, s) / len(s.labels) for k, s in template.sheets.items()}
    best = max(scores, key=scores.get, default=None)
    if best is None or scores[best] < 0.5 or list(scores.values()).count(scores[best]) > 1:
        return None
    return best


def choose_sheets(raw: dict[str, RawSheet | Columns], template: Template) -> Choice:
    """Which sheet of a workbook is which template sheet. A hidden sheet is read only when no
    visible sheet of its kind exists; two visible sheets of one kind, both holding rows,
    are refused (which one is final only the county knows)."""
    kinds: dict[str, list[str]] = {}
    for name, sheet in raw.items():
        if (kind := _kind(name, sheet, template)) is not None:
            kinds.setdefault(kind, []).append(name)
    choice = Choice({})
    for key, names in kinds.items():
        visible = [n for n in names if not getattr(raw[n], "hidden", False)]
        with_rows = [n for n in visible if raw[n].header and len(raw[n].rows)] or visible
        title = template.sheets[key].title
        if len(with_rows) > 1:
            names_shown = "、".join(f"「{n}」" for n in with_rows)
            choice.problems.append(Problem("SHEET.AMBIGUOUS", value=names_shown, expected=title))
            continue
        chosen = (with_rows or names)[0]
        choice.sheets[key] = raw[chosen]
        for other in names:
            if other != chosen:
                hidden = getattr(raw[other], "hidden", False)
                choice.notes.append(Said(
                    f"{'隐藏的' if hidden else '没有数据的'}工作表「{other}」未读取：「{title}」表读取的是「{chosen}」",
                    f"the {'hidden' if hidden else 'empty'} sheet '{other}' was not read: the "
                    f"'{title}' sheet read is '{chosen}'"))  # fmt: skip
        if getattr(raw[chosen], "hidden", False):
            choice.notes.append(Said(f"工作表「{chosen}」在 Excel 中是隐藏的，作为「{title}」表读入",
                                     f"the sheet '{chosen}' is hidden in Excel, read as the "
                                     f"'{title}' sheet"))  # fmt: skip
    taken = {id(s) for s in choice.sheets.values()}
    unread = [n for n, s in raw.items() if id(s) not in taken and s.header
              and not any(n in names for names in kinds.values())]  # fmt: skip
    if unread:
        choice.notes.append(Said("未认出的工作表，未读取：" + "、".join(f"「{n}」" for n in unread),
                                 "sheets not recognised, not read: "
                                 + ", ".join(f"'{n}'" for n in unread)))  # fmt: skip
    found = "、".join(f"「{n}」" for n in raw) or "（无）"
    found_en = ", ".join(f"'{n}'" for n in raw) or "(none)"
    missing = [s for k, s in template.sheets.items()
               if k not in choice.sheets and k not in kinds and (s.required or not kinds)]  # fmt: skip
    choice.problems += [Problem("SHEET.MISSING", s.title, detail=found, detail_en=found_en)
                        for s in missing]  # fmt: skip
    return choice
