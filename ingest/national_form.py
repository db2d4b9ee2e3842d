"""The national 项目支出绩效自评表 wherever it stands, laid out one way (SPEC §1.3).

The form attached to 财预〔2020〕10号 and its 转移支付 / 部门整体支出 variants reach us as Word
or PDF tables, worksheets, and text flattened by web pages (``ingest.text_layouts``): cells
between bars, separated by spaces, a cell's line break splitting a row over two lines, or the
whole form run together on one line, its merged cells gone. Whatever the file, a table that
holds the form is cut into its parts and each part laid out on the form's own columns, so
that the rules read one shape (``Table.form``):

- ``funds`` (项目资金 / 资金投入情况 / 预算执行情况; 年度预算 in the 部门整体支出 form): the
  label column, then the figure columns as the header writes them (年初预算数, 全年预算数, 全年执行数, 分值, 执行率, 得分 …). Each row
  is a label and its figures: 年度资金总额 first, its 其中 rows after. In a grid (Word, PDF,
  a worksheet) each cell goes under the header cell whose columns it stands in; in
  flattened text, where empty cells leave no trace, figures fill the columns from the left
  (a 其中 row states no 分值), and a row with more figures than the header has columns (a
  page repeating a cell) keeps them all, right-aligned, the surplus under an added column
  the label header spans. ``—`` and ``/`` are empty cells.
- ``indicators`` (绩效指标): 一级指标, 二级指标, 三级指标 as the header has them, then its
  columns (年度指标值, 实际完成值, 分值, 得分, 偏差原因 …). A row names its 一级 and 二级
  indicator only where they change (merged down the rows: the cells below are ``merged``);
  names are known by the form's words (产出指标, 数量指标 …, with or without (50分)). The
  三级指标 follows, then one cell per column (in a grid, under its header cell); in text,
  分值 and 得分 take plain numbers only, and a 偏差原因 run together with the next row is
  told from it only where a row ends (a level name, 总分 or the line's end follows). 总分
  is the last row, its figures under the last figure columns. A part whose rows leave cells
  over on their lines is no form of this kind: the table stays as it was found.

A grid's part header over two rows (预算执行情况 over its columns, 绩效指标 over the levels,
自评得分 over 分值 and 得分) becomes one row: each column its lowest header text.

Provincial variants number their parts (二、预算执行情况, 四、年度绩效指标完成情况) and, on a
page's lines (the ``spaced`` layout), lay the funds out as a label and a figure per column
group (预算数 6.84 到位数 6.84 执行数 6.84, then the rate): the groups become the columns, each
line a row labelled by its first label. Their indicators' header may go on to a second line
(符号 and 单位 of the target, 单项指标得分 / 权重占比 / 折算得分 under 自评得分): those take
their places in the one header row. An indicator's line holding exactly one cell per column
after its 三级指标 left no cell empty, and is read cell by cell.

Everything else of the form (项目名称, 主管部门, 年度总体目标 and its texts, 说明) becomes
lines of prose, as it reads. A part that does not follow the form is left as it was found.
Text flattened into cells loses where a cell broke: ``一级`` / ``指标`` and ``服务对象`` /
``满意度指标`` are joined again when together they make a word of the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jixiao.ingest.report_items import Line, RawCell, RawTable, is_value
from jixiao.schemas.vocabulary import fold

_LEVEL1 = frozenset({"产出指标", "效益指标", "满意度指标", "成本指标", "效果指标"})
_LEVEL2 = frozenset(
    {"数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标", "社会效益指标",
     "生态效益指标", "可持续影响指标", "服务对象满意度指标", "满意度指标", "经济成本指标",
     "社会成本指标", "生态环境成本指标"}
)  # fmt: skip
_LEVELS = ("一级指标", "二级指标", "三级指标")
_WORDS = _LEVEL1 | _LEVEL2 | frozenset(_LEVELS)
_WEIGHT = re.compile(r"[（(]\s*\d+(?:\.\d+)?\s*分\s*[）)]$")  # 产出指标(50分)
_FUNDS_HEAD = re.compile(r"(?:项目资金|资金投入情况|预算执行情况|资金情况|年度预算)")
_FUNDS_COLUMN = re.compile(r"预算数|执行数|分值|执行率|得分|到位数|执行进度")
_FUNDS_GROUP = re.compile(r"预算|到位|执行|支出")  # 预算安排情况, 资金到位情况 …: a pair per row
_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）]|\d+[、．])")
_INDICATORS_HEAD = re.compile(r"^(?:绩效指标|年度绩效目标|年度绩效指标)")
_INDICATOR_COLUMN = re.compile(r"指标值|目标值|完成值|分值|得分|权重|原因|措施|说明|备注|完成情况")
_SCORE_COLUMN = re.compile(r"分值|得分|权重")
_TARGET_COLUMN = re.compile(r"指标值|目标值")
_TEXT_COLUMN = re.compile(r"原因|措施|说明|备注")
_PART_ENDS = re.compile(
    r"^(?:年度总体目标|总体目标|资金管理情况|年度绩效目标完成|说明|注[:：]|偏差|改进措施|填表人|"
    r"填报人|联系电话|单位负责人|财务负责人|项目负责人|评价结论)"
)
_TOTAL_SCORE = re.compile(r"^(?:总分|分总|合计|总计|自评总分|综合得分|总得分)")
_BRACKETED = re.compile(r"[（(][^（）()]{1,10}[）)]")  # (万元), (2022年度): a cell's second line
_PLAIN = re.compile(r"[-+]?\d+(?:\.\d+)?")
_EMPTY = frozenset({"", "-", "—", "/", "／", "——"})
_PROSE = re.compile(r"[。；;！？]")
# Layouts whose rows are a page's lines, not the table's rows: a row may begin on one line
# (its merged names) and a line may run several rows together.
WEAK = frozenset({"spaced", "run"})


def compact(text: str) -> str:
    """A cell as the form's words are compared: no spaces (产 出 指 标), folded."""
    return re.sub(r"\s+", "", fold(text))


def _word(text: str) -> str:
    """A form word without its weight: 产出指标(50分) -> 产出指标."""
    return _WEIGHT.sub("", compact(text))


def _head(text: str) -> str:
    """A part's name without the numbering a provincial form gives it: 二、预算执行情况."""
    return _NUMBERED.sub("", _word(text))


def looks_like_form(text: str) -> bool:
    """Whether a text holds the form's 项目资金 part and its indicators."""
    flat = compact(text)
    return bool(_FUNDS_HEAD.search(flat)) and "三级指标" in flat and "预算数" in flat


@dataclass
class _Token:
    cell: RawCell
    row: int  # the source row (or line) it came from: where a row of a grid or page breaks

    @property
    def text(self) -> str:
        return self.cell.text


@dataclass
class _Part:
    form: str
    header: list[RawCell]
    rows: list[list[RawCell]] = field(default_factory=list)
    lead: RawCell | None = None  # 绩效指标 / 年度绩效目标1（80分）: the part's name in the form
    fits: bool = True  # every row read whole: no cell left over on its line


def shape(raw: RawTable, title: str | None) -> list[Line | RawTable] | None:
    """The table's form parts and the lines around them, or None when it holds no form part.

    ``title`` is the caption above the table, if any: the form's title when it stands
    outside the table."""
    tokens = _tokens(_one_header_row(raw))
    flat = compact(" ".join(t.text for t in tokens))
    if not (_FUNDS_HEAD.search(flat) and "预算数" in flat) and not (
        "一级指标" in flat and "三级指标" in flat
    ):
        return None
    name = next((t.text for t in tokens if "自评表" in t.text and len(t.text) <= 40), None)
    name = name or title
    out: list[Line | RawTable] = []
    prose: list[_Token] = []
    found = False
    i = 0
    while i < len(tokens):
        part = None
        if _is_funds_head(tokens, i):
            part, i = _funds(tokens, i, raw.layout)
        elif raw.layout == "spaced" and (paired := _paired_funds(tokens, i)):
            part, i = paired
        elif _is_indicators_head(tokens, i):
            part, i = _indicators(tokens, i, raw.layout)
            if not part.fits:
                return None
        if part is None:
            prose.append(tokens[i])
            i += 1
            continue
        found = True
        out += _lines(prose)
        prose = []
        out.append(_table(part, raw, name))
    if not found:
        return None
    return out + _lines(prose)


def _one_header_row(raw: RawTable) -> RawTable:
    """A grid whose part header lies over two rows (预算执行情况 over 全年预算数 …, 绩效指标
    over 一级 / 二级 / 三级指标, 自评得分 over 分值 and 得分) with one header row instead:
    each column its lowest text, else the text above it, so that the header names the
    columns in their order."""
    if raw.layout in WEAK:
        return raw
    rows = list(raw.rows)
    for r in range(len(rows) - 1, 0, -1):
        top, low = rows[r - 1], rows[r]
        words = [compact(c.text) for c in low]
        if (
            len(top) == len(low)
            and not any(is_value(c.text) for c in low)
            and sum(bool(_FUNDS_COLUMN.search(w)) or _word(w) in _LEVELS for w in words) >= 2
            and any(_FUNDS_HEAD.search(compact(c.text)) or _INDICATORS_HEAD.match(compact(c.text))
                    for c in top)  # fmt: skip
        ):
            rows[r - 1 : r + 1] = [[b if b.text.strip() and not b.merged else a
                                    for a, b in zip(top, low, strict=True)]]  # fmt: skip
    return RawTable(rows, raw.layout, raw.title, raw.unit, raw.form, raw.page, raw.origin)


def _tokens(raw: RawTable) -> list[_Token]:
    """The table's cells in reading order, merged and empty ones left out, the halves of a
    broken cell joined again."""
    out: list[_Token] = []
    for r, row in enumerate(raw.rows):
        for cell in row:
            text = cell.text.strip()
            if cell.merged or not text:
                continue
            if out and _continues(out[-1].text, text):
                last = out[-1].cell
                joined = RawCell(last.text + text, last.line, last.col, span=last.span)
                out[-1] = _Token(joined, out[-1].row)
                continue
            out.append(_Token(RawCell(text, cell.line, cell.col, span=cell.span), r))
    return out


def _continues(before: str, text: str) -> bool:
    """``text`` is the second line of the cell ``before``: together a word of the form
    (一级 + 指标, 服务对象 + 满意度指标), or a bracketed unit or year ((万元), (2022年度))."""
    if _word(before) in _WORDS:
        return False
    if _word(before + text) in _WORDS:
        return True
    return bool(_BRACKETED.fullmatch(compact(text))) and not is_value(before)


def _is_funds_head(tokens: list[_Token], i: int) -> bool:
    if not _FUNDS_HEAD.match(_head(tokens[i].text)):
        return False
    columns = 0
    for t in tokens[i + 1 : i + 8]:
        if not _FUNDS_COLUMN.search(compact(t.text)):
            break
        columns += 1
    return columns >= 2


def _is_indicators_head(tokens: list[_Token], i: int) -> bool:
    words = [_word(t.text) for t in tokens[i : i + 5]]
    if words and _INDICATORS_HEAD.match(_head(words[0])) and "一级指标" not in words[0]:
        words = words[1:]
    return words[:1] == ["一级指标"] and "三级指标" in words or words[:2] == ["二级指标", "三级指标"]


def _is_figure(text: str) -> bool:
    return is_value(text) or compact(text) in _EMPTY


def _part_ends(token: _Token) -> bool:
    text = compact(token.text)
    return bool(_PART_ENDS.match(text)) or bool(_INDICATORS_HEAD.match(_head(text)))


# --- 项目资金 -------------------------------------------------------------------------------


def _funds(tokens: list[_Token], i: int, layout: str) -> tuple[_Part, int]:
    header = [tokens[i].cell]
    i += 1
    while i < len(tokens) and _FUNDS_COLUMN.search(compact(tokens[i].text)):
        header.append(tokens[i].cell)
        i += 1
    part = _Part("funds", header)
    while i < len(tokens) and not _part_ends(tokens[i]) and not _is_indicators_head(tokens, i):
        label = tokens[i]
        if _is_figure(label.text) or _PROSE.search(label.text) or len(label.text) > 30:
            break
        i += 1
        if compact(label.text) in ("其中:", "其中：") and i < len(tokens):
            label = _Token(RawCell(label.text + tokens[i].text, label.cell.line), label.row)
            i += 1
        figures = []
        while i < len(tokens) and _is_figure(tokens[i].text):
            if layout not in WEAK and tokens[i].row != label.row:
                break  # a grid's row ends with its cells
            figures.append(tokens[i].cell)
            i += 1
        part.rows.append([label.cell, *figures])
    return part, i


def _row_end(tokens: list[_Token], i: int) -> int:
    """Where the source row (or line) of ``tokens[i]`` ends."""
    end = i
    while end < len(tokens) and tokens[end].row == tokens[i].row:
        end += 1
    return end


def _paired_funds(tokens: list[_Token], i: int) -> tuple[_Part, int] | None:
    """A provincial form's funds as a page's lines give them: the part's name and one group
    per column (预算安排情况, 资金到位情况, 资金执行情况, 预算执行进度) on a line, then lines
    each of a label and its figure per group (预算数 6.84 到位数 6.84 执行数 6.84), a rate
    last with no label; the row's label is its first. None when the lines are not so."""
    if not _FUNDS_HEAD.match(_head(tokens[i].text)):
        return None
    end = _row_end(tokens, i)
    groups = [t.cell for t in tokens[i + 1 : end]]
    if len(groups) < 2 or not all(_FUNDS_GROUP.search(compact(g.text)) for g in groups):
        return None
    part = _Part("funds", [tokens[i].cell, *groups])
    while end < len(tokens):
        cells = [t.cell for t in tokens[end : _row_end(tokens, end)]]
        pairs = 0
        while 2 * pairs + 1 < len(cells) and not _is_figure(cells[2 * pairs].text) \
                and _is_figure(cells[2 * pairs + 1].text):  # fmt: skip
            pairs += 1
        rest = cells[2 * pairs :]
        if pairs < 2 or pairs + len(rest) > len(groups) or not all(_is_figure(c.text) for c in rest):
            break
        part.rows.append([cells[0], *cells[1 : 2 * pairs : 2], *rest])
        end += len(cells)
    return (part, end) if part.rows else None


# --- 绩效指标 -------------------------------------------------------------------------------


def _indicators(tokens: list[_Token], i: int, layout: str) -> tuple[_Part, int]:
    strong = layout not in WEAK  # rows of a grid: a row of the form never runs past one
    lines = layout != "run"  # a row ends its line: what is left on the line did not fit
    header: list[RawCell] = []
    lead = None  # 绩效指标 / 年度绩效目标1（80分）: the part's name, beside the levels
    if _INDICATORS_HEAD.match(_head(tokens[i].text)) and _word(tokens[i].text) not in _LEVELS:
        lead = tokens[i].cell
        i += 1
    while i < len(tokens) and _word(tokens[i].text) in _LEVELS:
        header.append(RawCell(_word(tokens[i].text), tokens[i].cell.line, tokens[i].cell.col))
        i += 1
    levels = len(header)
    while i < len(tokens) and _INDICATOR_COLUMN.search(compact(tokens[i].text)):
        header.append(tokens[i].cell)
        i += 1
    if not strong and lines:
        header, i = _second_header(tokens, i, header)
    part = _Part("indicators", header, lead=lead)
    while i < len(tokens) and not _part_ends(tokens[i]) and not _is_funds_head(tokens, i):
        row, i = _indicator_row(tokens, i, levels, header[levels:], strong, lines)
        if row is None:
            break
        part.rows.append(row)
        if lines and i < len(tokens) and tokens[i].row == tokens[i - 1].row:
            part.fits = False  # a cell left over on the row's line: not the form's columns
    return part, i


def _second_header(tokens: list[_Token], i: int, header: list[RawCell]) -> tuple[list[RawCell], int]:
    """A header over two lines, as a provincial form has it: the second line's 符号 and 单位
    stand beside the target's own column (预期指标值: 符号 | 值 | 单位), its scores (单项指标得分
    | 权重占比 | 折算得分) in place of the 自评得分 above them. The header unchanged when the
    next line is no such header."""
    if not 0 < i < len(tokens) or tokens[i].row == tokens[i - 1].row:
        return header, i
    end = _row_end(tokens, i)
    subs = [t.cell for t in tokens[i:end]]
    words = [compact(c.text) for c in subs]
    signs = [c for c, w in zip(subs, words, strict=True) if w == "符号"]
    units = [c for c, w in zip(subs, words, strict=True) if w.startswith("单位")]
    scores = [c for c, w in zip(subs, words, strict=True) if _SCORE_COLUMN.search(w)]
    heads = [compact(h.text) for h in header]
    target = next((k for k, h in enumerate(heads) if _TARGET_COLUMN.search(h)), None)
    score = next((k for k, h in enumerate(heads) if "得分" in h), None)
    if (
        len(subs) < 2
        or len(signs) + len(units) + len(scores) != len(subs)
        or (signs or units) and target is None
        or scores and score is None
    ):
        return header, i
    out: list[RawCell] = []
    for k, h in enumerate(header):
        if k == target:
            out += [RawCell(f"{h.text}/{c.text}", c.line) for c in signs]
            out += [h, *(RawCell(f"{h.text}/{c.text}", c.line) for c in units)]
        elif k == score and scores:
            out += scores
        else:
            out.append(h)
    return out, end


def _level(tokens: list[_Token], i: int) -> int | None:
    """0 or 1 when the token names a 一级 or 二级 indicator, else None."""
    word = _word(tokens[i].text)
    if word not in _LEVEL1 and word not in _LEVEL2:
        return None
    if word not in _LEVEL2:
        return 0
    if word not in _LEVEL1:
        return 1
    following = i + 1 < len(tokens) and _word(tokens[i + 1].text) in _LEVEL2
    return 0 if following else 1  # 满意度指标 服务对象满意度指标: the first is 一级


def _indicator_row(
    tokens: list[_Token], i: int, levels: int, header: list[RawCell], strong: bool, lines: bool
) -> tuple[list[RawCell] | None, int]:
    """One row: its level names, the 三级指标, one cell per column of ``header`` (the
    columns after the levels); or a 总分 row. On a page's line (``lines``) that holds one
    cell per column after the 三级指标, no cell was left empty: each goes under its column."""
    columns = [compact(c.text) for c in header]
    first = tokens[i]
    if _PROSE.search(first.text) or len(first.text) > 60:
        return None, i
    width = levels + len(columns)
    scores = [c for c, h in enumerate(columns) if _SCORE_COLUMN.search(h)]
    row: list[RawCell | None] = [None] * width
    if _TOTAL_SCORE.match(compact(first.text)):
        i += 1
        figures = []
        while i < len(tokens) and _PLAIN.fullmatch(compact(tokens[i].text)):
            figures.append(tokens[i].cell)
            i += 1
        row[0] = first.cell
        if strong and (placed := _by_column(figures, header)) is not None:
            row[levels:] = [c if c.text else None for c in placed]
            return _filled(row, first.cell.line), i
        # Under the last figure columns: the score columns when the header has them.
        places = scores or [c for c, h in enumerate(columns) if not _TEXT_COLUMN.search(h)]
        for c, cell in zip(places[max(0, len(places) - len(figures)) :], figures, strict=False):
            row[levels + c] = cell
        return _filled(row, first.cell.line), i
    named = -1  # the last level column named in this row
    while i < len(tokens) and levels >= 2 and (level := _level(tokens, i)) is not None:
        col = min(level, levels - 2)
        if col <= named:
            break  # a level named again: the next row begins (this one names no indicator)
        cell = tokens[i].cell  # a form word without the page's spacing: 产 出 指 标 -> 产出指标
        row[col] = RawCell(re.sub(r"\s+", "", cell.text), cell.line, cell.col, span=cell.span)
        named = col
        i += 1
    if i >= len(tokens) or _part_ends(tokens[i]) or _level(tokens, i) is not None:
        return (_filled(row, first.cell.line) if named >= 0 else None), i
    source = tokens[i].row
    row[levels - 1] = tokens[i].cell
    i += 1
    if not strong and lines and _row_end(tokens, i - 1) - i == len(columns):
        end = i + len(columns)
        row[levels:] = [t.cell if compact(t.text) not in _EMPTY else None for t in tokens[i:end]]
        return _filled(row, first.cell.line), end
    if strong:  # a grid's row: its cells under the header cells they stand in, if known
        end = i
        while end < len(tokens) and tokens[end].row == source:
            end += 1
        placed = _by_column([t.cell for t in tokens[i:end]], header)
        if placed is not None:
            row[levels:] = [c if c.text else None for c in placed]
            return _filled(row, first.cell.line), end
    for c, heading in enumerate(columns):
        if i >= len(tokens) or tokens[i].row != source or _part_ends(tokens[i]):
            break
        token = tokens[i]
        if _level(tokens, i) is not None or _TOTAL_SCORE.match(compact(token.text)):
            break  # the next row starts
        if c in scores and not _PLAIN.fullmatch(compact(token.text)):
            if compact(token.text) in _EMPTY:
                i += 1
            continue
        if _TEXT_COLUMN.search(heading) and not (strong or _row_ends(tokens, i + 1, source)):
            break  # run together: text here may as well begin the next row
        row[levels + c] = token.cell
        i += 1
    return _filled(row, first.cell.line), i


def _row_ends(tokens: list[_Token], i: int, source: int) -> bool:
    """Whether a row ends before ``tokens[i]``: the line ends, or a level name, 总分 or the
    form's next part follows (a row of its own would need its cells after a name)."""
    return (
        i >= len(tokens)
        or tokens[i].row != source
        or _level(tokens, i) is not None
        or bool(_TOTAL_SCORE.match(compact(tokens[i].text)))
        or _part_ends(tokens[i])
    )


def _filled(row: list[RawCell | None], line: int) -> list[RawCell]:
    return [cell or RawCell("", line) for cell in row]


# --- the parts as tables ----------------------------------------------------------------


def _table(part: _Part, raw: RawTable, name: str | None) -> RawTable:
    header = [RawCell(c.text, c.line) for c in part.header]
    line = header[0].line
    if part.form == "funds":
        rows = _funds_grid(part, header)
        word = _BRACKETED.sub("", _head(header[0].text)) or "项目资金"
        unit = re.search(r"[（(]\s*(万元|元)\s*[）)]", fold(header[0].text))
    else:
        rows = [header, *part.rows]
        levels = sum(c.text in _LEVELS for c in header)
        for r in range(1, len(rows)):  # names merged down the rows
            for c in range(min(levels - 1, len(rows[r]))):
                if not rows[r][c].text and not _TOTAL_SCORE.match(compact(rows[r][0].text)):
                    rows[r][c] = RawCell("", rows[r][c].line, merged=True)
                    above = (rows[a][c] for a in range(r - 1, 0, -1) if not rows[a][c].merged)
                    if (anchor := next(above, None)) is not None:
                        anchor.span = (anchor.span[0] + 1, 1)
        lead = part.lead
        word = _head(lead.text) if lead is not None else "绩效指标"
        unit = None
    width = max(len(r) for r in rows)
    grid = []
    for row in rows:
        cells = [*row, *(RawCell("", row[0].line) for _ in range(width - len(row)))]
        grid.append([RawCell(c.text, c.line or line, col, c.merged, c.span)
                     for col, c in enumerate(cells)])  # fmt: skip
    title = f"{name}（{word}）" if name else word
    return RawTable(grid, raw.layout, title, unit[1] if unit else None, part.form, raw.page,
                    raw.origin)


def _funds_grid(part: _Part, header: list[RawCell]) -> list[list[RawCell]]:
    """Figures from the left under their columns; a row with more figures than columns keeps
    them all, right-aligned, under columns the label header spans."""
    columns = len(header) - 1
    extra = max((len(r) - 1 - columns for r in part.rows), default=0)
    grid = [[header[0], *(RawCell("", header[0].line, merged=True) for _ in range(extra)),
             *header[1:]]]  # fmt: skip
    for label, *figures in part.rows:
        placed = _by_column(figures, part.header[1:])
        figures = [RawCell("" if compact(f.text) in _EMPTY else f.text, f.line) for f in figures]
        if placed is not None:
            grid.append([label, *(RawCell("", label.line) for _ in range(extra)), *placed])
            continue
        pad = [RawCell("", label.line) for _ in range(columns + extra - len(figures))]
        grid.append([label, *(pad + figures if len(figures) > columns else figures + pad)])
    return grid


def _by_column(cells: list[RawCell], header: list[RawCell]) -> list[RawCell] | None:
    """Cells of a grid (their columns known) under the header cells whose columns they stand
    in: an empty cell between two figures keeps its place. None when the columns are not
    known or two cells would share a header."""
    starts = [h.col for h in header]
    if not cells or None in starts or any(c.col is None for c in cells):
        return None
    out = [RawCell("", cells[0].line) for _ in header]
    taken = set()
    for cell in cells:
        slot = max((k for k, start in enumerate(starts) if start <= cell.col), default=None)
        if slot is None or slot in taken:
            return None
        taken.add(slot)
        out[slot] = RawCell("" if compact(cell.text) in _EMPTY else cell.text, cell.line)
    return out


def _lines(tokens: list[_Token]) -> list[Line]:
    """Cells that are no part of the form, as lines of prose: a row's short cells on one
    line, a cell of prose on a line of its own."""
    out: list[Line] = []
    words: list[_Token] = []

    def flush() -> None:
        if words:
            out.append(Line(" ".join(t.text for t in words), words[0].cell.line))
            words.clear()

    for token in tokens:
        if words and token.row != words[-1].row:
            flush()
        if _PROSE.search(token.text) or len(token.text) > 30:
            flush()
            out.append(Line(token.text, token.cell.line))
        else:
            words.append(token)
    flush()
    return out
