"""A .pdf report with a text layer, read with pdfplumber into lines and tables (SPEC §1.3).

Like a .docx, a PDF is untrusted: its bytes are read once within ``JIXIAO_MAX_FILE_MB``
(``ingest.readers.read_input``), every compressed stream is inflated in bounded chunks and
counted against ``JIXIAO_MAX_UNPACKED_MB`` before pdfminer inflates any of it whole (a
stream of zeros a thousand times its size is a bomb), and its pages are counted against
``JIXIAO_MAX_REPORT_PAGES`` before one is laid out. A file that is no PDF, is damaged or
asks for a password is one Chinese sentence (``PdfRefused``), never a traceback.

What is read, page by page in reading order:

- tables, by pdfplumber's table finder (ruled cells): each cell with its text, its grid
  column, and its span where the table merges cells (a cell pdfplumber leaves out is
  covered by one above or to the left). A table that opens a page goes on the one that ended
  the page before when its column edges are among that one's (a part of fewer cells, such as
  merged total rows alone, is placed under the columns it lines up with); a header row
  repeated there is read once, and a row broken by the page break is one row again (see
  ``_continues``);
- the text outside them as lines, top to bottom. A line reaching the right margin continues
  on the next line when that one is neither indented nor numbered (一、 （一） 1. ①): wrapped
  lines are one paragraph again, across a page break too (a paragraph ending exactly at the
  margin may run into the next one: sentences stay whole). A page number alone at the top
  or the bottom of a page is no text of the report.

What is not read is said (``Document.unread``): a page with images but no text layer
(scanned), a page whose text has no character map (``(cid:12)``), a table whose cells hold
no text or that the finder could not read.
"""

from __future__ import annotations

import io
import itertools
import re
import zlib
from dataclasses import dataclass

from jixiao.ingest.report_items import Line, RawCell, RawTable
from jixiao.said import Said, SaidError

_HEADER = re.compile(rb"%PDF-\d")
_STREAM = re.compile(rb"stream\r?\n")
_CHUNK = 1 << 16
_PAGE_NUMBER = re.compile(r"[-—–\s]*(?:第\s*)?\d{1,4}\s*(?:页)?(?:\s*/\s*\d{1,4})?(?:\s*页)?[-—–\s]*")
# A line opening a heading or a list item starts a paragraph, indented or not.
_NUMBERED = re.compile(
    r"(?:第[一二三四五六七八九十]+[章部篇]|[一二三四五六七八九十]+[、．.]|（[一二三四五六七八九十\d]{1,3}）"
    r"|\d{1,2}(?:[、．]|\.(?!\d))|[①-⑳])"
)
_TOLERANCE = 1.5  # characters of slack at a margin (a line is justified, or one short)
_EDGE = 2.0  # points between two column edges that are one (a rule's width, rounding)

# A table as the finder read it on one page: each row's cells as (text, grid column, span),
# a covered cell's text None.
Rows = list[list[tuple[str | None, int, tuple[int, int]]]]


class PdfRefused(SaidError):
    """The PDF cannot be read; the message is the reason, one phrase in Chinese and in
    English."""


PASSWORD_PROTECTED = Said("文档设有打开密码，请取消密码后再提交",
                          "it is protected by a password; remove the password and submit it again")


class PdfTooLong(Exception):
    """More pages than the limit: as many as ``pages`` (the page tree's count, or the page
    that went past the limit when the tree declared fewer)."""

    def __init__(self, pages: int):
        super().__init__(pages)
        self.pages = pages


@dataclass
class _Part:
    """A table's rows on one page, the x of its grid columns' left edges and of its right
    edge, and the cells of its last row whose text may go on on the next page (``_foot``)."""

    rows: Rows
    edges: list[float]
    foot: dict[int, bool]


@dataclass
class Read:
    items: list[Line | RawTable]
    pages: int
    unread: list[Said]


def read_pdf(data: bytes, unpacked_mb: int, max_pages: int) -> Read:
    """The document's lines and tables. Raises PdfRefused, or PdfTooLong past ``max_pages``."""
    if not _HEADER.search(data[:1024]):
        raise PdfRefused("不是有效的 PDF 文件", "it is no valid PDF file")
    _check_streams(data, unpacked_mb)
    with _opened(data) as pdf:
        if (declared := _declared_pages(pdf, data)) > max_pages:
            raise PdfTooLong(declared)
        return _read(pdf, data, max_pages)


class _opened:
    """pdfplumber's document, every error of pdfminer's told as a refusal."""

    def __init__(self, data: bytes):
        self.data = data

    def __enter__(self):
        import pdfplumber
        from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

        try:
            self.pdf = pdfplumber.open(io.BytesIO(self.data))
        except (PDFPasswordIncorrect, PDFEncryptionError):
            raise PdfRefused(*PASSWORD_PROTECTED) from None
        except Exception as error:  # pdfminer's errors on a damaged file share no type
            if "password" in str(error).lower() or "encrypt" in type(error).__name__.lower():
                raise PdfRefused(*PASSWORD_PROTECTED) from None
            raise _damaged(self.data) from None
        return self.pdf

    def __exit__(self, *exc) -> None:
        self.pdf.close()


def _declared_pages(pdf, data: bytes) -> int:
    from pdfminer.pdftypes import resolve1

    try:
        count = resolve1(resolve1(pdf.doc.catalog["Pages"]).get("Count", 0))
        return int(count) if isinstance(count, int | float) else 0
    except Exception:
        raise _damaged(data, "页面目录无法读取") from None


def _check_streams(data: bytes, unpacked_mb: int) -> None:
    """Inflate every zlib stream in bounded chunks, refusing once together they pass the limit."""
    budget = unpacked_mb << 20
    total = 0
    for m in _STREAM.finditer(data):
        end = data.find(b"endstream", m.end())
        raw = memoryview(data)[m.end() : end if end >= 0 else len(data)]
        inflate = zlib.decompressobj()
        try:
            out = inflate.decompress(raw[:_CHUNK], _CHUNK)
        except zlib.error:
            continue  # not deflated (an image, plain text): pdfminer reads it as it is
        pos = _CHUNK
        while True:
            total += len(out)
            if total > budget:
                raise PdfRefused(
                    f"文件中的压缩数据解压后超过上限 {unpacked_mb} MB（JIXIAO_MAX_UNPACKED_MB），"
                    "内容异常庞大（疑似压缩炸弹）",
                    f"its compressed data unpacks to more than {unpacked_mb} MB "
                    "(JIXIAO_MAX_UNPACKED_MB): abnormally large (a compression bomb?)",
                )
            try:
                if inflate.eof:
                    break
                if inflate.unconsumed_tail:
                    out = inflate.decompress(inflate.unconsumed_tail, _CHUNK)
                elif pos < len(raw):
                    out = inflate.decompress(raw[pos : pos + _CHUNK], _CHUNK)
                    pos += _CHUNK
                else:
                    break
            except zlib.error:
                break  # damaged: pdfminer will say so, or read what it can


def _read(pdf, data: bytes, max_pages: int) -> Read:
    from pdfminer.pdfpage import PDFPage
    from pdfplumber.page import Page

    reader = _Reader()
    number = 0
    try:
        doctop = 0.0
        for number, source in enumerate(PDFPage.create_pages(pdf.doc), start=1):
            if number > max_pages:
                raise PdfTooLong(number)  # more pages than the page tree declared
            page = Page(pdf, source, page_number=number, initial_doctop=doctop)
            doctop += page.height
            reader.page(page)
            page.close()
    except (PdfRefused, PdfTooLong):
        raise
    except Exception:
        raise _damaged(data, max(number, 1)) from None
    return Read(reader.items, number, reader.unread)


def _damaged(data: bytes, page: int | None = None) -> PdfRefused:
    """A PDF pdfminer could not read (at ``page``): cut off when its end-of-file mark is
    missing."""
    if b"%%EOF" not in data[-2048:]:
        return PdfRefused("PDF 文件不完整（缺少文件结尾标记），可能被截断",
                          "the PDF is incomplete (no end-of-file mark), perhaps cut off")
    return PdfRefused(
        f"不是有效的 PDF 文件，或文件已损坏{f'（第 {page} 页无法读取）' if page else ''}",
        f"it is no valid PDF file, or it is damaged{f' (page {page} cannot be read)' if page else ''}",
    )


class _Reader:
    def __init__(self) -> None:
        self.items: list[Line | RawTable] = []
        self.unread: list[Said] = []
        self.line = 0
        self.open: tuple[Line, float] | None = None  # a line that may go on, its right margin
        # The text's margins over the pages so far: left, top of a page's first line, bottom
        # of its last; the least distance from a line's top to the next one's (a line of
        # figures, or an empty one, is the shortest); and the top of the line above on this
        # page.
        self.left, self.top, self.end = float("inf"), float("inf"), 0.0
        self.pitch: float | None = None
        self.above: float | None = None
        # The last table read, its columns' edges and its last row's foot (_Part).
        self.last: tuple[RawTable, list[float], dict[int, bool]] | None = None

    def page(self, page) -> None:
        number = page.page_number
        chars = page.chars
        if not chars:
            if page.images:
                self.unread.append(Said(f"第 {number} 页没有文本层（疑似扫描件）",
                                        f"page {number} has no text layer (perhaps a scan)"))
            return
        undecoded = sum(1 for c in chars if c.get("text", "").startswith("(cid:"))
        if undecoded * 2 > len(chars):
            self.unread.append(Said(f"第 {number} 页的文字无法解码（字体缺少字符映射）",
                                    f"the text of page {number} cannot be decoded (its font "
                                    "maps no characters)"))
            return
        try:
            found = page.find_tables()
        except Exception:
            self.unread.append(Said(f"第 {number} 页的表格无法读取",
                                    f"the tables of page {number} cannot be read"))
            found = []
        tables = []
        for table in found:
            part = _part(table)
            if part is None:
                self.unread.append(Said(f"第 {number} 页的一个表格无法读取（单元格中没有文字）",
                                        f"a table on page {number} cannot be read (no text "
                                        "in its cells)"))
                continue
            tables.append((table.bbox, part))
        boxes = [bbox for bbox, _ in tables]
        outside = page.filter(lambda o: not any(_inside(o, b) for b in boxes)) if boxes else page
        lines = [ln for ln in outside.extract_text_lines(return_chars=False) if ln["text"].strip()]
        lines = [ln for i, ln in enumerate(lines)
                 if not _page_number(ln, i, len(lines), float(page.width))]  # fmt: skip
        left = self.left = min([self.left, *(ln["x0"] for ln in lines)])
        pitches = [b["top"] - a["top"] for a, b in itertools.pairwise(lines)
                   if b["top"] - a["top"] > (b["bottom"] - b["top"]) / 2]  # fmt: skip
        self.pitch = min([*([self.pitch] if self.pitch else []), *pitches], default=None)
        if lines and self.pitch:
            self.top = min(self.top, lines[0]["top"])
            self.end = max(self.end, lines[-1]["bottom"])
            self.space(lines[0]["top"] - self.top, number)
            self.above = lines[0]["top"] - self.pitch
        right = max((ln["x1"] for ln in lines), default=0.0)
        events = [(ln["top"], 0, ln) for ln in lines] + [(b[1], 1, rows) for b, rows in tables]
        first = True
        for _, kind, what in sorted(events, key=lambda e: (e[0], e[1])):
            if kind:
                self.open = self.above = None
                self.table(what, number, first)
            else:
                self.text(what, left, right, number)
            first = False
        if lines and self.above is not None:  # the space left at the page's foot
            self.space(self.end - lines[-1]["bottom"], number)
        self.above = None

    def space(self, gap: float, page: int) -> None:
        """Whole lines of space (blank lines, empty cells) as blank lines, as a text report
        keeps them: a table laid out as tab-led lines is read as one (text_layouts.tab_laid)."""
        if self.pitch and (blank := int(gap / self.pitch + 0.1)) > 0:
            self.open = None
            self.items += [Line("", self.line, page=page) for _ in range(blank)]

    def text(self, ln: dict, left: float, right: float, page: int) -> None:
        height = max(ln["bottom"] - ln["top"], 1.0)
        slack = _TOLERANCE * height
        text = ln["text"].strip()
        if self.above is not None and self.pitch:
            self.space(ln["top"] - self.above - self.pitch, page)
        self.above = ln["top"]
        if self.open is not None and ln["x0"] <= left + slack and not _NUMBERED.match(text):
            last, margin = self.open
            last.text += text  # a wrapped line: the paragraph goes on
            self.open = (last, margin) if ln["x1"] >= margin else None
            return
        self.line += 1
        # An indent is kept as a tab, as a text report keeps it (text_layouts.tab_laid).
        item = Line("\t" * (ln["x0"] > left + slack) + text, self.line, page=page)
        self.items.append(item)
        margin = right - slack
        self.open = (item, margin) if ln["x1"] >= margin else None

    def table(self, part: _Part, page: int, first: bool) -> None:
        # The last item, blank lines aside (the space at a page's foot and head).
        last = next((x for x in reversed(self.items) if not isinstance(x, Line) or x.text), None)
        rows, foot = part.rows, part.foot
        # A table going on over a page break: the page opens with it, its columns among those
        # of the one that ended the page before; a header row repeated there is read once.
        cols = None
        if first and self.last is not None and self.last[0] is last:
            cols = _columns(self.last[1], part.edges)
        if cols is not None:
            table, edges, above = self.last
            rows = _placed(rows, cols, len(edges) - 1)
            foot = {cols[c]: cut for c, cut in foot.items()}
            if [t or None for t, _, _ in rows[0]] == [c.text or None for c in table.rows[0]]:
                rows = rows[1:]
            if rows and _continues(table.rows, rows[0], above):
                for cell, (text, _, _) in zip(table.rows[-1], rows[0], strict=True):
                    cell.text += text or ""
                rows = rows[1:]
        else:
            table, edges = RawTable([], "pdf", page=page), part.edges
            self.items.append(table)
        for row in rows:
            self.line += 1
            table.rows.append(
                [RawCell(text or "", self.line, col, text is None, span) for text, col, span in row]
            )
        self.last = (table, edges, foot)


def _part(table) -> _Part | None:
    """The finder's table on its page, or None when none of its cells holds text."""
    texts = table.extract()
    xs = sorted({c[0] for c in table.cells})  # as the finder's rows index their cells
    ys = sorted({round(c[1], 1) for c in table.cells})
    rows: Rows = []
    for row, cells in zip(table.rows, texts, strict=False):
        out: list[tuple[str | None, int, tuple[int, int]]] = []
        for c, (bbox, text) in enumerate(zip(row.cells, cells, strict=False)):
            if bbox is None:
                out.append((None, c, (1, 1)))
                continue
            x0, top, x1, bottom = bbox
            span = (
                max(1, sum(1 for y in ys if top - 0.5 <= y < bottom - 0.5)),
                max(1, sum(1 for x in xs if x0 - 0.5 <= x < x1 - 0.5)),
            )
            out.append((_one_line(text), c, span))
        rows.append(out)
    if not any(text for row in rows for text, _, _ in row):
        return None
    return _Part(rows, [*xs, table.bbox[2]], _foot(table))


def _foot(table) -> dict[int, bool]:
    """The columns of a table's last row whose text runs down to the row's foot (no room
    under it for another of its lines), each True where its last line also fills the cell's
    width (no room after it for another of its characters): text cut by the page."""
    cells = [
        (c, bbox, [ch for ch in table.page.chars if _inside(ch, bbox)])
        for c, bbox in enumerate(table.rows[-1].cells)
        if bbox is not None
    ]
    cells = [(c, bbox, chars) for c, bbox, chars in cells if chars]
    # The cells' inner margin: the least space before a line of text (the widest line's).
    pad = min((min(ch["x0"] for ch in chars) - bbox[0] for _, bbox, chars in cells), default=0)
    foot = {}
    for c, bbox, chars in cells:
        height = max(ch["bottom"] - ch["top"] for ch in chars)
        bottom = max(ch["bottom"] for ch in chars)
        if bottom + height > bbox[3]:
            last = [ch for ch in chars if ch["bottom"] > bottom - height / 2]
            width = max(ch["x1"] - ch["x0"] for ch in chars)
            foot[c] = bbox[2] - max(ch["x1"] for ch in last) <= pad + width
    return foot


def _columns(above: list[float], edges: list[float]) -> list[int] | None:
    """Each of a part's column edges as the index of the same edge of the table above, when
    every one is one of them and the two are as wide."""
    cols = []
    for x in edges:
        i = min(range(len(above)), key=lambda i: abs(above[i] - x))
        if abs(above[i] - x) > _EDGE:
            return None
        cols.append(i)
    ordered = all(a < b for a, b in itertools.pairwise(cols))
    return cols if ordered and cols[0] == 0 and cols[-1] == len(above) - 1 else None


def _placed(rows: Rows, cols: list[int], width: int) -> Rows:
    """A part's rows under the columns of the table above: each cell at the column its left
    edge lines up with, across as many as it covers there; the rest covered."""
    out: Rows = []
    for row in rows:
        placed: list[tuple[str | None, int, tuple[int, int]]] = [
            (None, c, (1, 1)) for c in range(width)
        ]
        for text, c, (down, across) in row:
            if text is not None:
                end = cols[min(c + across, len(cols) - 1)]
                placed[cols[c]] = (text, cols[c], (down, end - cols[c]))
        out.append(placed)
    return out


def _continues(rows: list[list[RawCell]], below: list[tuple[str | None, int, tuple[int, int]]],
               foot: dict[int, bool]) -> bool:  # fmt: skip
    """Whether the first row of a page is the rest of the row that ended the page before
    (whose ``foot`` is _foot's): a row broken over the page break keeps on the new page only
    the text of the cells that did not fit. So each cell with text there goes on a cell as
    wide above whose text ran down to the row's foot, one of them text cut in a full line;
    and the row lacks a value that every row above gives in a column (a cell whose text
    ended above is empty below)."""
    above = rows[-1]
    went_on = [c for c, (text, _, _) in enumerate(below) if text]
    for c in went_on:
        cell, across = above[c], below[c][2][1]
        if cell.merged or not cell.text or c not in foot or across != cell.span[1]:
            return False
    ended = [c for c, cell in enumerate(above) if cell.text and not cell.merged and not below[c][0]]
    return any(foot[c] for c in went_on) and any(
        all(row[c].text for row in rows[:-1] if not row[c].merged) for c in ended
    )


def _one_line(text: str | None) -> str:
    """A cell's text: its lines (wrapped in the cell) joined, as Word joins them."""
    return "".join(part.strip() for part in (text or "").splitlines())


def _inside(obj: dict, bbox: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = bbox
    mid_x = (obj["x0"] + obj["x1"]) / 2
    mid_y = (obj["top"] + obj["bottom"]) / 2
    return x0 <= mid_x <= x1 and top <= mid_y <= bottom


def _page_number(ln: dict, i: int, count: int, width: float) -> bool:
    """A page's first or last line that is only a page number, centred or in the right half
    (a table's cell of a figure, at the left, starting or ending a page, is no page number)."""
    mid = (ln["x0"] + ln["x1"]) / 2
    return (
        (i == 0 or i == count - 1)
        and bool(_PAGE_NUMBER.fullmatch(ln["text"]))
        and mid > width * 0.4
    )
