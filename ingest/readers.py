"""Read a county's workbook or CSV into raw text cells, without typing anything.

Typing is ``ingest.normalise``'s job; here we only turn what the county sees in
Excel into text and keep track of where each cell came from. A file that cannot
be read at all raises ``FileRefused`` carrying catalogue problems.

County files are untrusted. Before anything heavy runs, every file is held to the
limits of ``jixiao.limits`` (size on disk first; for a workbook the zip directory,
every part's declared and actual uncompressed size, the sheet count, and each sheet's
rows, columns and cell lengths, counted from its XML before python-calamine loads it;
for a CSV every physical line's length, in bounded chunks, before it is decoded). A
workbook part carrying a DOCTYPE or entity declaration is refused unparsed, and the
bytes python-calamine parses are the very bytes that were checked: the file is opened
once, without following a symbolic link, and read into memory (it is at most
``JIXIAO_MAX_FILE_MB``). A .docx report gets the same package checks (``read_docx``), its
paragraphs, tables, cells and text counted from its XML for ``ingest.report`` to hold to
the report's limits.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import errno
import io
import itertools
import math
import os
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

import polars as pl
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from jixiao.ingest.problems import FileRefused, Problem
from jixiao.limits import Limits
from jixiao.said import Said

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls, or an encrypted .xlsx
LINK = Said("文件是符号链接（快捷方式），不予跟随", "a symbolic link (shortcut), not followed")
_CUT = Said("文件包目录缺失，文件可能被截断", "the package's directory is missing: the file may be cut short")
# An .xlsx saved with a password to open is an OLE container holding these two streams.
_ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
_ANY_CELL_REF = re.compile(r"([A-Za-z]+)([0-9]+)")
_DRIVE = re.compile(r"[A-Za-z]:")
_CHUNK = 1 << 16  # decompression and XML feeding
_CSV_CHUNK = 1 << 20  # CSV scanning

# Never typed by a county; they can make what a reader sees differ from what is stored.
# Tab and the line breaks are ordinary: Alt+Enter makes a line feed in a cell, and text pasted
# from Word brings its manual line break as a vertical tab (U+000B) and page break as U+000C.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass
class RawSheet:
    """One sheet as text cells: the grid a reader stops at.

    ``header`` is the first non-empty row and ``header_row`` its 1-based sheet row;
    a sheet without any non-empty row has ``header == []`` and ``header_row == 0``.
    ``rows[i]`` sits on sheet row ``row_numbers[i]``; fully blank rows are dropped
    but numbering stays true. Cells keep their column position (column A is index 0,
    even if the county left it empty). Rows shorter than the header are padded with
    None; a row with values beyond the header's last column keeps them, so the caller
    can see data without a header. Trailing empty cells are trimmed first, so only
    real values make a row longer than the header.
    """

    name: str
    header: list[str | None]
    rows: list[list[str | None]]
    row_numbers: list[int]
    header_row: int
    # What a workbook shows besides the values; where the table stands is ingest.layout's.
    hidden: bool = False  # the sheet is hidden (or very hidden) in Excel
    hidden_rows: tuple[int, ...] = ()  # sheet rows Excel hides
    # merged ranges as (first row, first column, last row, last column): rows 1-based as
    # numbered here, columns 0-based
    merged: tuple[tuple[int, int, int, int], ...] = ()
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) -> "=…"


def _refuse(rule_id: str, detail: str | None = None, sheet: str | None = None, **kw) -> FileRefused:
    return FileRefused(Problem(rule_id, sheet=sheet, detail=detail, **kw))


def _shown(text: str, limit: int = 80) -> str:
    """Text from inside the file (part and sheet names, parser errors) safe to put in a message:
    control characters escaped, no full stop that would end the sentence, bounded length."""
    text = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    text = text.replace("\n", " ").replace("\r", " ").replace("。", ".")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MB"


def too_large(size: int, limit_mb: int) -> Problem | None:
    """FILE.TOO_LARGE for a file of ``size`` bytes: decided by its size alone, so a caller can
    refuse a file it has only stat'ed."""
    if size <= limit_mb << 20:
        return None
    return Problem("FILE.TOO_LARGE", detail=_mb(size), expected=f"{limit_mb} MB")


def _text(value: object) -> str | None:
    """A cell value as the text the county sees in Excel; blank -> None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):  # before int: bool is an int. Excel shows TRUE / FALSE.
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if abs(value) >= 1e15:
            # Beyond 15 significant digits Excel shows a number in scientific notation
            # (1E+308); digits of float noise would only mislead in a message.
            return format(value, ".15G")
        if value.is_integer():
            return str(int(value))
        # Excel shows at most 15 significant digits, so 0.1+0.2 stored as
        # 0.30000000000000004 reads "0.3" and is not refused as finer than a fen.
        return format(Decimal(format(value, ".15g")), "f")
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip() or None  # timedelta (duration cells) and anything new


def _sheet(name: str, numbered_rows: Iterable[tuple[int, list[str | None]]]) -> RawSheet:
    """Build a RawSheet from (sheet row number, text cells) pairs in sheet order."""
    header: list[str | None] = []
    header_row = 0
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    for number, cells in numbered_rows:  # the readers' own lists: trimmed and padded in place
        while cells and cells[-1] is None:
            cells.pop()
        if not cells:
            continue
        if not header_row:
            header, header_row = cells, number
            continue
        if len(cells) < len(header):
            cells.extend([None] * (len(header) - len(cells)))
        rows.append(cells)
        numbers.append(number)
    return RawSheet(name, header, rows, numbers, header_row)


# --- cells the county must fix, whatever the reader ----------------------------------------


@dataclass
class _CellIssues:
    """Cells refused for what they hold (controls, length), by (row, column index)."""

    sheet: str
    controls: list[tuple[int, int, str]] = field(default_factory=list)  # row, col, raw text
    too_long: list[tuple[int, int, int]] = field(default_factory=list)  # row, col, length

    def check_controls(self, row: int, values: list[object]) -> None:
        """Record every string cell of the row holding a control character (one regex per row)."""
        strings = [(i, v) for i, v in enumerate(values) if isinstance(v, str) and v]
        if strings and _CONTROL.search("\t".join(v for _, v in strings)):
            self.controls += [(row, i, v) for i, v in strings if _CONTROL.search(v)]

    def problems(self, sheet: RawSheet | None, limits: Limits) -> list[Problem]:
        out = []
        for row, col, length in sorted(self.too_long):
            out.append(
                Problem(
                    "VALUE.TOO_LONG",
                    sheet=self.sheet,
                    row=row,
                    column=_label(sheet, row, col),
                    cell=f"{column_letters(col)}{row}",
                    detail=f"{length:,}",
                    expected=f"{limits.cell_chars:,}",
                )
            )
        for row, col, text in sorted(self.controls):
            found = sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(text)})
            escaped = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
            out.append(
                Problem(
                    "VALUE.CONTROL_CHAR",
                    sheet=self.sheet,
                    row=row,
                    column=_label(sheet, row, col),
                    value=escaped if len(escaped) <= 200 else escaped[:199] + "…",
                    cell=f"{column_letters(col)}{row}",
                    detail="、".join(found[:5]) + ("等" if len(found) > 5 else ""),
                    detail_en=", ".join(found[:5]) + (" …" if len(found) > 5 else ""),
                )
            )
        return out


def _label(sheet: RawSheet | None, row: int, col: int) -> str | None:
    """The header label above a data cell (None on or above the header row)."""
    if sheet is None or not sheet.header_row or row <= sheet.header_row:
        return None
    label = sheet.header[col] if col < len(sheet.header) else None
    return label if label is None or len(label) <= 100 else None


# --- opening a file ----------------------------------------------------------------------


def _open(path: Path, limit_mb: int) -> BinaryIO:
    """Open an input file for reading after the cheapest refusals: a symbolic link, not a
    regular file, empty, larger than ``limit_mb`` (its size read by stat, before any byte).
    The link check is made by the open itself (O_NOFOLLOW), so the file cannot be swapped
    for a link between a check and the read."""
    if path.is_symlink():
        raise _refuse("FILE.UNSAFE", detail=LINK.zh, detail_en=LINK.en)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _refuse("FILE.UNSAFE", detail=LINK.zh, detail_en=LINK.en) from None
        why = _shown(error.strerror or "")
        raise _refuse("FILE.CORRUPT", detail=f"无法打开文件（{why}）",
                      detail_en=f"the file cannot be opened ({why})") from None  # fmt: skip
    info = os.fstat(fd)  # before fdopen, which refuses a directory with an error of its own
    refusal = (
        _refuse("FILE.UNSAFE", detail="不是普通文件", detail_en="not a regular file")
        if not stat.S_ISREG(info.st_mode)
        else _refuse("FILE.EMPTY")
        if info.st_size == 0
        else FileRefused(problem)
        if (problem := too_large(info.st_size, limit_mb))
        else None
    )
    if refusal is not None:
        os.close(fd)
        raise refusal
    return os.fdopen(fd, "rb")


def read_input(path: Path, limit_mb: int) -> bytes:
    """An input file's bytes, read once after ``_open``'s refusals: what is checked and
    parsed afterwards is exactly what was read, however the file changes meanwhile."""
    handle = _open(path, limit_mb)
    with handle:
        data = handle.read((limit_mb << 20) + 1)
    if not data:
        raise _refuse("FILE.EMPTY")
    if problem := too_large(len(data), limit_mb):  # grew since it was opened
        raise FileRefused(problem)
    return data


# --- workbooks ------------------------------------------------------------------------


def _local(tag: str) -> str:
    """An XML tag or attribute name without its prefix (``x:c``) or namespace URI."""
    return tag.rpartition("}")[2].rpartition(":")[2]


class _Names(dict):
    """Tag -> local name, computed once per distinct tag (a sheet has a handful)."""

    def __missing__(self, tag: str) -> str:
        local = _local(tag)
        if len(self) < 4096:
            self[tag] = local
        return local


_EOCD = struct.Struct("<4s4H2LH")


def _declared_directory(data: bytes) -> tuple[int, int] | None:
    """(entries, central directory bytes) as the zip's end record declares them, read
    before zipfile builds one object per entry; None when there is no end record."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - _EOCD.size - 0xFFFF))
    if pos < 0 or pos + _EOCD.size > len(data):
        return None
    entries, cd_size = _EOCD.unpack_from(data, pos)[4:6]
    locator = pos - 20
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and data[
        locator : locator + 4
    ] == b"PK\x06\x07":
        (offset,) = struct.unpack_from("<Q", data, locator + 8)
        if offset + 56 <= len(data) and data[offset : offset + 4] == b"PK\x06\x06":
            entries, cd_size = struct.unpack_from("<QQ", data, offset + 32)
    return entries, cd_size


def _not_a_workbook(data: bytes) -> FileRefused:
    if data.startswith(_OLE2_MAGIC):  # not an .xls (_is_xls): an encrypted .xlsx
        return _refuse("FILE.ENCRYPTED", detail="设有打开密码的工作簿（加密的 OLE 容器）",
                       detail_en="a workbook with a password to open (an encrypted OLE file)")
    if kind := _binary_kind(data):
        return _refuse("FILE.NOT_WORKBOOK", detail=f"这是改名为 .xlsx 的{kind.zh}",
                       detail_en=f"{kind.en} renamed to .xlsx")  # fmt: skip
    return _refuse("FILE.NOT_WORKBOOK", detail="不是 xlsx 文件包", detail_en="not an xlsx package")


def _open_package(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """The bytes as a zip package after the cheap refusals: not a zip, too many parts, bomb."""
    if data[:4] not in _ZIP_MAGIC:
        raise _not_a_workbook(data)
    declared = _declared_directory(data)
    if declared is None:
        raise _refuse("FILE.CORRUPT", detail=_CUT.zh, detail_en=_CUT.en)
    entries, cd_size = declared
    if entries > limits.zip_entries:
        raise _refuse(
            "FILE.CORRUPT",
            detail=f"文件包含 {entries:,} 个部件，超过上限 {limits.zip_entries:,} 个",
            detail_en=f"the package holds {entries:,} parts, over the limit of "
            f"{limits.zip_entries:,}",
        )
    if cd_size > limits.zip_entries * 1024:
        raise _refuse("FILE.CORRUPT", detail=f"文件包目录异常庞大（{_mb(cd_size)}）",
                      detail_en=f"the package's directory is abnormally large ({_mb(cd_size)})")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error):
        # Starts like a zip but its directory, at the end, is gone: cut off in transit.
        raise _refuse("FILE.CORRUPT", detail=_CUT.zh, detail_en=_CUT.en) from None
    try:
        _check_entries(package.infolist(), limits)
    except FileRefused:
        package.close()
        raise
    return package


def _check_entries(entries: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(entries) > limits.zip_entries:
        raise _refuse(
            "FILE.CORRUPT",
            detail=f"文件包含 {len(entries):,} 个部件，超过上限 {limits.zip_entries:,} 个",
            detail_en=f"the package holds {len(entries):,} parts, over the limit of "
            f"{limits.zip_entries:,}",
        )
    seen: set[str] = set()
    for entry in entries:
        name = entry.orig_filename.replace("\\", "/")
        if name.startswith("/") or _DRIVE.match(name) or ".." in name.split("/"):
            # Nothing is ever extracted, but Excel never names a part this way either.
            raise _refuse("FILE.UNSAFE", detail=f"部件名 {_shown(name)} 指向文件包之外",
                          detail_en=f"the part name {_shown(name)} points outside the package")
        if entry.filename in seen:
            # Readers disagree on which copy wins: what we check might not be what is read.
            raise _refuse("FILE.CORRUPT", detail=f"部件 {_shown(entry.filename)} 出现了两次",
                          detail_en=f"the part {_shown(entry.filename)} is there twice")
        seen.add(entry.filename)
        if entry.flag_bits & 0x1:
            raise _refuse("FILE.CORRUPT", detail=f"部件 {_shown(entry.filename)} 被单独加密",
                          detail_en=f"the part {_shown(entry.filename)} is encrypted on its own")
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(
                "FILE.CORRUPT", detail=f"部件 {_shown(entry.filename)} 使用了 Excel 不用的压缩方式",
                detail_en=f"the part {_shown(entry.filename)} is compressed in a way Excel never "
                "uses",
            )
    total = sum(entry.file_size for entry in entries)  # as declared in the zip directory
    if total > limits.unpacked_bytes:
        raise _refuse(
            "FILE.CORRUPT",
            detail=f"解压后共 {_mb(total)}，超过上限 {limits.unpacked_mb} MB，"
            "内容异常庞大（疑似压缩炸弹）",
            detail_en=f"unpacked it is {_mb(total)}, over the limit of {limits.unpacked_mb} MB: "
            "abnormally large (a zip bomb, it seems)",
        )


def _inflate(data: bytes, entry: zipfile.ZipInfo) -> Iterator[bytes]:
    """An entry's content in bounded chunks, checked against its declared size and CRC.

    Decompression stops the moment the output passes the declared size, so a part whose
    directory entry understates it (a disguised bomb) costs no more than what it declares.
    """
    name = _shown(entry.filename)
    start = entry.header_offset
    if data[start : start + 4] != b"PK\x03\x04":
        raise _refuse("FILE.CORRUPT", detail=f"部件 {name} 的文件头缺失",
                      detail_en=f"the part {name} has lost its header")
    name_length, extra_length = struct.unpack_from("<HH", data, start + 26)
    begin = start + 30 + name_length + extra_length
    end = begin + entry.compress_size
    if end > len(data):
        raise _refuse("FILE.CORRUPT", detail=f"部件 {name} 不完整，文件可能被截断",
                      detail_en=f"the part {name} is incomplete: the file may be cut short")
    raw = memoryview(data)[begin:end]
    if entry.compress_type == zipfile.ZIP_STORED:
        if entry.compress_size != entry.file_size:
            raise _refuse("FILE.CORRUPT", detail=f"部件 {name} 的大小与声明不符",
                          detail_en=f"the part {name} is not the size it declares")
        pieces = (bytes(raw[o : o + _CHUNK]) for o in range(0, len(raw), _CHUNK))
    else:
        pieces = _deflated(raw, name)
    crc = size = 0
    for piece in pieces:
        size += len(piece)
        if size > entry.file_size:
            raise _refuse(
                "FILE.CORRUPT",
                detail=f"部件 {name} 解压后超过其声明的大小，内容异常庞大（疑似压缩炸弹）",
                detail_en=f"the part {name} unpacks past the size it declares: abnormally "
                "large (a zip bomb, it seems)",
            )
        crc = zlib.crc32(piece, crc)
        yield piece
    if size != entry.file_size or crc != entry.CRC:
        raise _refuse("FILE.CORRUPT", detail=f"部件 {name} 已损坏",
                      detail_en=f"the part {name} is damaged")


def _deflated(raw: memoryview, name: str) -> Iterator[bytes]:
    """A deflated part's output in chunks of at most _CHUNK bytes; the caller stops reading
    (and so decompressing) as soon as the output passes the declared size."""
    inflater = zlib.decompressobj(-15)
    try:
        for offset in range(0, len(raw), _CHUNK):
            pending = raw[offset : offset + _CHUNK]
            while pending and not inflater.eof:
                yield inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
        while not inflater.eof:  # output still held inside zlib
            piece = inflater.decompress(b"", _CHUNK)
            if not piece:
                break
            yield piece
    except zlib.error:
        raise _refuse("FILE.CORRUPT", detail=f"部件 {name} 已损坏",
                      detail_en=f"the part {name} is damaged") from None
    if not inflater.eof:
        raise _refuse("FILE.CORRUPT", detail=f"部件 {name} 不完整，文件可能被截断",
                      detail_en=f"the part {name} is incomplete: the file may be cut short")


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels"))


def _parse_xml(
    data: bytes,
    entry: zipfile.ZipInfo,
    start: Callable[[str, dict[str, str]], None] | None = None,
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> None:
    """Stream one XML part through expat, refusing any DTD before it is expanded.

    Excel never writes a DOCTYPE; a part declaring one (or an entity) is how entity
    expansion bombs and external entity reads are built, so it is refused as FILE.UNSAFE
    the moment expat sees the declaration, before any entity is defined or expanded.
    """
    name = _shown(entry.filename)

    def unsafe(*_: object) -> None:
        raise _refuse("FILE.UNSAFE", detail=f"部件 {name} 含有 DOCTYPE 或实体声明",
                      detail_en=f"the part {name} declares a DOCTYPE or an entity")

    parser = expat.ParserCreate()  # no namespace processing: local names are all we need
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = unsafe
    parser.EntityDeclHandler = unsafe
    parser.UnparsedEntityDeclHandler = unsafe
    parser.ExternalEntityRefHandler = unsafe
    parser.buffer_text = True
    parser.ordered_attributes = False
    if start:
        parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if text:
        parser.CharacterDataHandler = text
    try:
        for piece in _inflate(data, entry):
            parser.Parse(piece, False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise _refuse("FILE.CORRUPT", detail=f"{name} 不是有效的 XML（第 {error.lineno} 行）",
                      detail_en=f"{name} is not valid XML (line {error.lineno})") from None
    except (ValueError, RecursionError):  # a bad row number; absurd nesting
        raise _refuse("FILE.CORRUPT", detail=f"{name} 不是有效的 XML",
                      detail_en=f"{name} is not valid XML") from None


@dataclass
class _SheetStats:
    """What a sheet part holds, counted while streaming its XML."""

    name: str
    max_row: int = 0  # last row with a value (or a formula)
    max_column: int = 0  # last column (1-based) with a value (or a formula)
    formulas: list[tuple[int, int, str]] = field(default_factory=list)  # row, column (0-based), text
    hidden_rows: list[int] = field(default_factory=list)
    too_long: list[tuple[int, int, int]] = field(default_factory=list)  # row, col (0-based), length


class _SheetScan:
    """expat handlers for a worksheet: rows, columns, formulas and over-long cells."""

    def __init__(self, name: str, long_strings: dict[int, int], limits: Limits):
        self.stats = _SheetStats(name)
        self.long_strings = long_strings
        self.cell_limit = limits.cell_chars
        self.keep = max(limits.cell_chars, 64)
        self.row = self.column = self.cell_row = 0
        self.kind = ""
        self.content = False
        self.length = 0
        self.field: str | None = None
        self.pieces: list[str] = []
        self.kept = 0
        self.shared_index: str | None = None
        self.shared: dict[str, str] = {}  # a shared formula's text lives on its first cell only
        self.names = _Names()
        self.columns: dict[str, int] = {}  # column letters -> 1-based index, computed once

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        tag = self.names[tag]
        if tag == "c":
            ref = attrs.get("r")
            if ref:
                # python-calamine reads any number of letters, in either case (ZZZZZZZ1,
                # xfd1048576): count the column the way it will, or refuse the reference.
                match = _ANY_CELL_REF.fullmatch(ref)
                if not match:
                    raise ValueError(ref)
                letters = match.group(1)
                column = self.columns.get(letters)
                if column is None:
                    column = _column_index(letters.upper()) + 1 if len(letters) <= 7 else 26**8
                    self.columns[letters] = column
                self.column = column
                self.cell_row = int(match.group(2))
            else:  # the r attributes are optional in OOXML: count positions when absent
                self.column += 1
                self.cell_row = self.row
            self.kind = attrs.get("t") or "n"
            self.content = False
            self.length = 0
        elif tag == "row":
            self.row = int(attrs.get("r") or self.row + 1)
            self.column = 0
            if attrs.get("hidden") in ("1", "true"):
                self.stats.hidden_rows.append(self.row)
        elif tag in ("v", "t", "f"):
            self.field = tag
            self.pieces, self.kept = [], 0
            if tag == "f":
                self.shared_index = attrs.get("si")

    def text(self, data: str) -> None:
        if self.field is None:
            return
        if self.field != "f":
            self.length += len(data)
        if self.kept < self.keep and self.field != "t":
            self.pieces.append(data)
            self.kept += len(data)

    def end(self, tag: str) -> None:
        tag = self.names[tag]
        if tag == "c":
            if self.content:
                stats = self.stats
                if self.cell_row > stats.max_row:
                    stats.max_row = self.cell_row
                if self.column > stats.max_column:
                    stats.max_column = self.column
            if self.length > self.cell_limit:
                self.stats.too_long.append((self.cell_row, self.column - 1, self.length))
        elif self.field == tag:
            text = "".join(self.pieces)
            self.field = None
            if tag == "f":
                index = self.shared_index
                if index is not None and text:
                    self.shared[index] = text
                elif index is not None:
                    text = self.shared.get(index, "")
                self.stats.formulas.append((self.cell_row, self.column - 1, text))
                self.content = True
            elif tag == "v":
                if text or self.length:
                    self.content = True
                if self.kind == "s":  # an index into the shared strings
                    self.length = self.long_strings.get(int(text), 0) if text.isdigit() else 0
            else:
                self.content = self.content or self.length > 0


class _SharedScan:
    """expat handlers for sharedStrings.xml: which strings are longer than a cell may be."""

    def __init__(self, limits: Limits):
        self.limit = limits.cell_chars
        self.max_strings = limits.cells
        self.index = 0
        self.length = 0
        self.in_text = False
        self.phonetic = 0
        self.long: dict[int, int] = {}
        self.names = _Names()

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        tag = self.names[tag]
        if tag == "si":
            self.length = 0
        elif tag == "rPh":
            self.phonetic += 1
        elif tag == "t" and not self.phonetic:
            self.in_text = True

    def text(self, data: str) -> None:
        if self.in_text:
            self.length += len(data)

    def end(self, tag: str) -> None:
        tag = self.names[tag]
        if tag == "t":
            self.in_text = False
        elif tag == "rPh":
            self.phonetic -= 1
        elif tag == "si":
            if self.length > self.limit:
                self.long[self.index] = self.length
            self.index += 1
            if self.index > self.max_strings:
                # More distinct strings than the workbook may have cells: python-calamine
                # would hold every one (38 million empty ones are 900 MB from a 300 KB file).
                raise _refuse(
                    "FILE.CORRUPT",
                    detail=f"共享字符串表超过 {self.max_strings:,} 项，内容异常庞大",
                    detail_en=f"the shared strings are over {self.max_strings:,}: abnormally "
                    "large",
                )


def _part_path(target: str, base: str = "xl") -> str:
    """A relationship target as a package path: relative to xl/, or absolute in the package."""
    part = target.lstrip("/") if target.startswith("/") else posixpath.join(base, target)
    return posixpath.normpath(part)


def _scan_package(
    data: bytes, package: zipfile.ZipFile, limits: Limits
) -> tuple[dict[str, str], list[_SheetStats]]:
    """Verify every entry and scan every XML part; sheet name -> part, and each sheet's stats.

    Order: workbook.xml (sheet count refused before any sheet is touched), its
    relationships, the shared strings, the sheets, then every other part.
    """
    entries = {entry.filename: entry for entry in package.infolist()}
    if "xl/workbook.xml" not in entries:
        if any(name.startswith("xl/") for name in entries):
            raise _refuse("FILE.CORRUPT", detail="缺少 xl/workbook.xml",
                          detail_en="xl/workbook.xml is missing")
        raise _refuse("FILE.NOT_WORKBOOK", detail="压缩包中没有 xl/workbook.xml",
                      detail_en="the zip holds no xl/workbook.xml")
    if "xl/_rels/workbook.xml.rels" not in entries:
        raise _refuse("FILE.CORRUPT", detail="缺少 xl/_rels/workbook.xml.rels",
                      detail_en="xl/_rels/workbook.xml.rels is missing")
    done: set[str] = set()

    sheets: list[tuple[str, str | None]] = []
    count = 0

    def sheet_element(tag: str, attrs: dict[str, str]) -> None:
        nonlocal count
        if _local(tag) != "sheet":
            return
        count += 1
        if count <= limits.sheets:
            rel_id = next((v for k, v in attrs.items() if _local(k) == "id"), None)
            sheets.append((attrs.get("name", ""), rel_id))

    _parse_xml(data, entries["xl/workbook.xml"], start=sheet_element)
    done.add("xl/workbook.xml")
    if count > limits.sheets:
        raise _refuse("SHEET.TOO_MANY", detail=f"{count:,}", expected=f"{limits.sheets:,}")

    wanted = {rel_id for _, rel_id in sheets}
    targets: dict[str, str] = {}
    shared_parts = {"xl/sharedStrings.xml"}

    def relationship(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) != "Relationship":
            return
        if (
            attrs.get("Type", "").endswith("/sharedStrings")
            and attrs.get("TargetMode") != "External"
        ):
            shared_parts.add(_part_path(attrs.get("Target", "")))
        if attrs.get("Id") in wanted:
            targets[attrs["Id"]] = attrs.get("Target", "")

    _parse_xml(data, entries["xl/_rels/workbook.xml.rels"], start=relationship)
    done.add("xl/_rels/workbook.xml.rels")

    parts: dict[str, str] = {}
    for name, rel_id in sheets:
        part = _part_path(targets.get(rel_id or "", ""))
        if part not in entries:
            raise _refuse("FILE.CORRUPT", detail=f"缺少工作表部件 {_shown(part)}",
                          detail_en=f"the sheet part {_shown(part)} is missing")
        parts[name] = part

    shared = _SharedScan(limits)
    for part in sorted(shared_parts & set(entries)):
        _parse_xml(data, entries[part], shared.start, shared.end, shared.text)
        done.add(part)

    stats = []
    for name, part in parts.items():
        scan = _SheetScan(name, shared.long, limits)
        if part not in done:
            _parse_xml(data, entries[part], scan.start, scan.end, scan.text)
            done.add(part)
        stats.append(scan.stats)

    _verify_parts(data, entries, done)
    return parts, stats


def _verify_parts(
    data: bytes,
    entries: dict[str, zipfile.ZipInfo],
    done: set[str],
    start: Callable[[str, dict[str, str]], None] | None = None,
) -> None:
    """Every part not read yet, read now: XML parsed (a DTD refused, ``start`` called on
    each element), anything else inflated; each checked against its size and CRC."""
    for name, entry in entries.items():
        if name in done:
            continue
        if _is_xml(name):
            _parse_xml(data, entry, start=start)
        else:
            for _ in _inflate(data, entry):
                pass


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _size_problems(stats: list[_SheetStats], limits: Limits) -> list[Problem]:
    problems = []
    cells = sum(sheet.max_row * sheet.max_column for sheet in stats)
    if cells > limits.cells:  # what python-calamine and the RawSheets will hold
        problems.append(
            Problem("SHEET.TOO_MANY_CELLS", detail=f"{cells:,}", expected=f"{limits.cells:,}")
        )
    for sheet in stats:
        for rule_id, found, limit in (("SHEET.TOO_MANY_ROWS", sheet.max_row, limits.rows),
                                      ("SHEET.TOO_MANY_COLUMNS", sheet.max_column, limits.columns)):  # fmt: skip
            if found > limit:
                problems.append(
                    Problem(
                        rule_id,
                        sheet=_shown(sheet.name),
                        detail=f"{found:,}",
                        expected=f"{limit:,}",
                    )  # fmt: skip
                )
    return problems


def read_workbook(
    path: Path, limits: Limits | None = None, data: bytes | None = None
) -> dict[str, RawSheet]:
    """Every sheet of an .xlsx or .xls as text cells, keyed by sheet name, in workbook order.

    Refusals (``FileRefused``), cheapest first: FILE.UNSAFE for a symbolic link;
    FILE.EMPTY for 0 bytes; FILE.TOO_LARGE above ``limits.file_mb``; FILE.ENCRYPTED for a
    password-protected workbook; FILE.NOT_WORKBOOK when the bytes are neither an OOXML zip
    nor an Excel 97-2003 file (text renamed .xlsx, a PDF or image); FILE.CORRUPT with a short
    ``detail`` for a truncated or damaged package, a missing part, a duplicated part,
    too many parts, or parts that unpack (as declared or in fact) beyond
    ``limits.unpacked_mb`` (a zip bomb); FILE.UNSAFE for a DOCTYPE or entity declaration
    in any XML part; SHEET.TOO_MANY above ``limits.sheets``; SHEET.TOO_MANY_ROWS and
    SHEET.TOO_MANY_COLUMNS when a sheet's last value lies beyond ``limits.rows`` /
    ``limits.columns`` (counted from the XML, so a stray cell in XFD1048576 never makes
    python-calamine allocate the empty rectangle before it); then, all of them at once,
    VALUE.TOO_LONG for a cell longer than ``limits.cell_chars`` (its text is not
    repeated); VALUE.CONTROL_CHAR for a cell holding a control or bidirectional override
    character (its text shown with them escaped). An .xls (at most 65,536 × 256 cells by
    its format) is held to the size, sheet and cell limits.

    Cell text: strings stripped; numbers as Excel shows them (``400``, ``0.3``);
    booleans ``TRUE``/``FALSE`` (what Excel shows; ``parse_yes_no`` reads them);
    dates ``YYYY-MM-DD``, datetimes with a time of day ``YYYY-MM-DD HH:MM:SS``; a formula
    cell its cached value, its formula kept in ``formulas`` (ingest.layout decides what a
    formula may stand for). Each sheet carries whether it is hidden, its hidden rows (.xlsx)
    and its merged ranges. A sheet with no non-empty row (or a chart sheet) comes back with
    ``header == []``: whether that is an error depends on the sheet, so the caller decides.
    Hyperlinks keep their text only: the link target is never read. ``data``, when given, is
    the file's bytes as ``read_input`` read them (a report keeps them to hash what it read).
    """
    limits = limits if limits is not None else Limits.from_env()
    data = data if data is not None else read_input(path, limits.file_mb)
    stats: list[_SheetStats] = []
    if not _is_xls(data):
        with _open_package(data, limits) as package:
            stats = _scan_package(data, package, limits)[1]
        oversized = _size_problems(stats, limits)
        if oversized:  # never hand python-calamine a sheet it would have to allocate whole
            long_cells = [
                problem
                for s in stats
                for problem in _CellIssues(_shown(s.name), too_long=s.too_long).problems(None, limits)
            ]
            raise FileRefused(*oversized, *long_cells)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if len(book.sheet_names) > limits.sheets:
            raise _refuse("SHEET.TOO_MANY", detail=f"{len(book.sheet_names):,}",
                          expected=f"{limits.sheets:,}")  # fmt: skip
        hidden = {m.name for m in book.sheets_metadata if m.visible != SheetVisibleEnum.Visible}
        sheets: dict[str, RawSheet] = {}
        cell_problems: list[Problem] = []
        by_name = {s.name: s for s in stats}
        for name in book.sheet_names:
            found = book.get_sheet_by_name(name)
            # skip_empty_area=False keeps row 1 / column A at index 0: numbering stays true.
            cells = found.to_python(skip_empty_area=False)
            scanned = by_name.get(name) or _SheetStats(name)
            issue = _CellIssues(_shown(name), too_long=scanned.too_long)
            numbered = []
            for number, row in enumerate(cells, start=1):
                issue.check_controls(number, row)
                numbered.append((number, [_text(v) for v in row]))
            del cells
            sheet = _sheet(name, numbered)
            sheet.hidden = name in hidden
            sheet.hidden_rows = tuple(scanned.hidden_rows)
            sheet.merged = tuple((r1 + 1, c1, r2 + 1, c2)
                                 for (r1, c1), (r2, c2) in found.merged_cell_ranges or ())  # fmt: skip
            sheet.formulas = {(row, col): f"={text}" for row, col, text in scanned.formulas}
            sheets[name] = sheet
            cell_problems += issue.problems(sheet, limits)
    except FileRefused:
        raise
    except Exception as error:  # calamine's errors carry no stable types worth telling apart
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _refuse("FILE.CORRUPT", detail=_shown(reason, 120)) from None
    if len(sheets) != len(book.sheet_names):
        raise _refuse("FILE.CORRUPT", detail="工作表重名", detail_en="two sheets of one name")
    if cell_problems:
        raise FileRefused(*cell_problems, sheets=sheets)
    return sheets


def _is_xls(data: bytes) -> bool:
    """An Excel 97-2003 workbook: an OLE container that is not an encrypted .xlsx."""
    return data.startswith(_OLE2_MAGIC) and not any(s in data for s in _ENCRYPTED_STREAMS)


# --- Word documents (the report under audit) ------------------------------------------


@dataclass
class WordCounts:
    """What a .docx holds, counted while streaming its XML, before python-docx builds a tree
    of it (on millions of empty paragraphs that tree takes minutes and gigabytes)."""

    paragraphs: int = 0  # in the document part, empty ones and those in table cells included
    tables: int = 0
    cells: int = 0  # grid cells: one spanning n columns and n columns skipped before a row, n
    longest: int = 0  # characters of the longest paragraph or table cell
    text_bytes: int = 0  # the document part's text, as UTF-8
    elements: int = 0  # XML elements of every part: python-docx holds each one in memory


# Elements that python-docx reads as one character of a paragraph's text.
_ONE_CHARACTER = frozenset({"tab", "ptab", "br", "cr", "noBreakHyphen"})


class _WordScan:
    """expat handlers for a document part: paragraphs, tables, cells and their text."""

    def __init__(self, counts: WordCounts):
        self.counts = counts
        self.names = _Names()
        self.in_text = False
        self.chars = 0  # of the current paragraph
        self.cells: list[int] = []  # characters of each open table cell, innermost last

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        counts = self.counts
        counts.elements += 1
        tag = self.names[tag]
        if tag == "p":
            counts.paragraphs += 1
            self.chars = 0
        elif tag == "t":
            self.in_text = True
        elif tag in _ONE_CHARACTER:
            self.chars += 1
        elif tag == "tbl":
            counts.tables += 1
        elif tag == "tc":
            counts.cells += 1
            self.cells.append(0)
        elif tag in ("gridSpan", "gridBefore"):
            # python-docx lays a spanning cell out as that many cells: count them all.
            value = next((v for k, v in attrs.items() if _local(k) == "val"), "")
            try:
                extra = int(value) - (tag == "gridSpan")  # as python-docx reads it
            except ValueError:
                extra = 0  # python-docx refuses it in turn
            counts.cells += max(extra, 0)

    def text(self, data: str) -> None:
        if self.in_text:
            self.chars += len(data)
            self.counts.text_bytes += len(data.encode())

    def end(self, tag: str) -> None:
        tag = self.names[tag]
        if tag == "t":
            self.in_text = False
        elif tag == "p":
            self.counts.longest = max(self.counts.longest, self.chars)
            if self.cells:
                self.cells[-1] += self.chars + 1  # a cell's paragraphs are joined by a line break
        elif tag == "tc" and self.cells:
            self.counts.longest = max(self.counts.longest, self.cells.pop())


def read_docx(path: Path, limits: Limits) -> tuple[bytes, WordCounts]:
    """A .docx report's bytes, held to the checks a county workbook gets, and what it holds.

    Refusals (``FileRefused``), cheapest first, as for ``read_workbook``: FILE.UNSAFE for a
    symbolic link or not a regular file; FILE.EMPTY; FILE.TOO_LARGE above ``limits.file_mb``
    (by stat); FILE.ENCRYPTED for a password-protected document; FILE.NOT_WORKBOOK when
    the bytes are no zip package; FILE.CORRUPT for a truncated or damaged package, too many
    parts, parts unpacking beyond ``limits.unpacked_mb`` (as declared or in fact), or no
    main document part; FILE.UNSAFE for a DOCTYPE or entity declaration in any XML part.
    Every part is read in bounded chunks and never extracted. The counts are the caller's
    to hold to its own limits before handing the bytes to python-docx.
    """
    data = read_input(path, limits.file_mb)
    counts = WordCounts()

    def element(tag: str, attrs: dict[str, str]) -> None:
        counts.elements += 1

    with _open_package(data, limits) as package:
        entries = {entry.filename: entry for entry in package.infolist()}
        main: list[str] = []

        def relationship(tag: str, attrs: dict[str, str]) -> None:
            element(tag, attrs)
            if _local(tag) == "Relationship" and attrs.get("Type", "").endswith("/officeDocument"):
                main.append(_part_path(attrs.get("Target", ""), ""))

        if "_rels/.rels" not in entries:
            raise _refuse("FILE.CORRUPT", detail="缺少 _rels/.rels",
                          detail_en="_rels/.rels is missing")
        _parse_xml(data, entries["_rels/.rels"], start=relationship)
        if not main or main[0] not in entries:
            raise _refuse("FILE.CORRUPT", detail="缺少主文档部件",
                          detail_en="the main document part is missing")
        scan = _WordScan(counts)
        _parse_xml(data, entries[main[0]], scan.start, scan.end, scan.text)
        _verify_parts(data, entries, {"_rels/.rels", main[0]}, element)
    return data, counts


# --- CSV ------------------------------------------------------------------------------

_WIDE_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (b"\xff\xfe\x00\x00", "UTF-32 LE"),
    (b"\x00\x00\xfe\xff", "UTF-32 BE"),
    (b"\xff\xfe", "UTF-16 LE"),
    (b"\xfe\xff", "UTF-16 BE"),
)
_UTF8_BOM = b"\xef\xbb\xbf"
# Files that are not text at all, by their first bytes, for the county's error message.
_BINARY_MAGIC = (
    (b"%PDF-", Said(" PDF 文件", "a PDF file")),
    (b"\x89PNG\r\n\x1a\n", Said(" PNG 图片", "a PNG image")),
    (b"\xff\xd8\xff", Said(" JPEG 图片", "a JPEG image")),
    (b"GIF87a", Said(" GIF 图片", "a GIF image")),
    (b"GIF89a", Said(" GIF 图片", "a GIF image")),
    (_OLE2_MAGIC, Said(" Excel 97-2003 工作簿（.xls）或加密文件",
                       "an Excel 97-2003 workbook (.xls) or an encrypted file")),
    (b"Rar!\x1a\x07", Said(" RAR 压缩包", "a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", Said(" 7z 压缩包", "a 7z archive")),
    (b"\x1f\x8b", Said(" gzip 压缩包", "a gzip archive")),
)
_CJK = re.compile("[\u4e00-\u9fff]")
_WIDE_CHAR = re.compile("[\u0800-\U0010ffff]")


def _binary_kind(data: bytes) -> Said | None:
    return next((kind for magic, kind in _BINARY_MAGIC if data.startswith(magic)), None)


def _nul_guess(data: bytes) -> tuple[str, str]:
    """What a file with NUL bytes and no BOM probably is, for the county's error message."""
    # UTF-16 puts the NUL half of ASCII characters (commas, newlines, digits) on one parity;
    # a few CJK characters (一 is U+4E00) put a NUL on the other, hence a ratio, not zero.
    # A CSV has at least a comma or newline every few characters, so well over 1 byte in 16
    # is a NUL; binary data with scattered NULs is not called text.
    odd, even, share = data[1::2].count(0), data[::2].count(0), len(data) // 16
    if odd > 4 * even and odd > share:
        return "无字节顺序标记的 UTF-16 LE", "UTF-16 LE without a byte order mark"
    if even > 4 * odd and even > share:
        return "无字节顺序标记的 UTF-16 BE", "UTF-16 BE without a byte order mark"
    # UTF-32 of any BMP text has a NUL in every fourth byte.
    if not data[3::4].strip(b"\0") or not data[::4].strip(b"\0"):
        return "无字节顺序标记的 UTF-32", "UTF-32 without a byte order mark"
    return "二进制数据", "binary data"


def _check_start(first: bytes) -> None:
    for bom, name in _WIDE_BOMS:
        if first.startswith(bom):
            raise _refuse("FILE.ENCODING", detail=f"{name}（字节顺序标记 {bom.hex(' ')}）",
                          detail_en=f"{name} (byte order mark {bom.hex(' ')})")  # fmt: skip
    if first.startswith(b"PK\x03\x04"):
        raise _refuse("FILE.ENCODING", detail="这是改名为 .csv 的 Excel 工作簿，不是文本",
                      detail_en="an Excel workbook renamed to .csv, not text")  # fmt: skip
    if kind := _binary_kind(first):
        raise _refuse("FILE.ENCODING", detail=f"这是改名为 .csv 的{kind.zh}（二进制数据），不是文本",
                      detail_en=f"{kind.en} renamed to .csv (binary data), not text")  # fmt: skip


_LINE_BREAK = re.compile(rb"\r\n|\r|\n")  # as csv and Excel read them, CR alone included


def _chunks(handle: BinaryIO, first: bytes = b"") -> Iterator[bytes]:
    """The file in chunks of about ``_CSV_CHUNK`` bytes, none ending inside a CR LF pair."""
    chunk = first or handle.read(_CSV_CHUNK)
    while chunk:
        while chunk.endswith(b"\r"):
            more = handle.read(1)
            chunk += more
            if more != b"\r":
                break
        yield chunk
        chunk = handle.read(_CSV_CHUNK)


def _scan_csv(handle: BinaryIO, limits: Limits) -> str:
    """First pass over the bytes in bounded chunks: the encoding to decode with.

    Refuses wide encodings, renamed binaries and NUL bytes, a physical line longer than
    ``limits.line_kb`` (its length measured without holding it), bytes that are neither
    UTF-8 nor GB18030, and a file mixing the two. Returns ``utf-8-sig`` or ``gb18030``.
    """
    first = handle.read(_CSV_CHUNK)
    _check_start(first)
    bom = first.startswith(_UTF8_BOM)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8 = True
    non_ascii = wide = False  # any byte above 0x7F; any character from U+0800 up, in UTF-8
    line, length = 1, 0  # the current line's number and its bytes so far
    chunks = _chunks(handle, first)
    for chunk in chunks:
        if b"\0" in chunk:
            guess, guess_en = _nul_guess(chunk)
            raise _refuse("FILE.ENCODING", detail=f"含 NUL 字节，疑似{guess}",
                          detail_en=f"it holds NUL bytes: {guess_en}, it seems")  # fmt: skip
        if utf8:
            try:
                decoded = decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
            else:
                non_ascii = non_ascii or not chunk.isascii()
                wide = wide or bool(non_ascii and _WIDE_CHAR.search(decoded))
        if length + len(chunk) <= limits.line_bytes:  # no line of it can be too long: count
            breaks = chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))  # chunks never split CR LF
            line += breaks
            length = len(chunk) - last - 1 if breaks else length + len(chunk)
            continue
        pieces = _LINE_BREAK.split(chunk)
        length += len(pieces[0])
        if len(pieces) > 1:
            if length > limits.line_bytes:
                _line_too_long(line, length, limits)
            middle = pieces[1:-1]
            if middle and max(map(len, middle)) > limits.line_bytes:
                at = next(i for i, p in enumerate(middle) if len(p) > limits.line_bytes)
                _line_too_long(line + 1 + at, len(middle[at]), limits)
            line += len(pieces) - 1
            length = len(pieces[-1])
        if length > limits.line_bytes:  # measure the rest of this line, a chunk at a time
            for rest in chunks:
                end = _LINE_BREAK.search(rest)
                if end:
                    length += end.start()
                    break
                length += len(rest)
            _line_too_long(line, length, limits)
    if utf8:
        try:
            decoder.decode(b"", True)
        except UnicodeDecodeError:
            utf8 = False
    if utf8 and (bom or not non_ascii or wide or not _gb18030_chinese(handle)):
        return "utf-8-sig"
    if utf8:
        # Short GB18030 text can be valid UTF-8 by accident (失业 is CA A7 D2 B5, which UTF-8
        # reads as the letters ʧҵ), and UTF-8 accents can be valid GB18030 (José reads
        # Jos茅). UTF-8 yielding not one character from U+0800 up (no Chinese, no full-width
        # form) while GB18030 yields Chinese could be either: refused rather than guessed.
        raise _refuse(
            "FILE.ENCODING",
            detail="既可读作 UTF-8 也可读作 GB18030，无法确定；另存为带 BOM 的 UTF-8 可消除歧义",
            detail_en="it reads as UTF-8 and as GB18030 alike; saving it as UTF-8 with a BOM "
            "settles it",
        )
    if bom:
        raise _refuse("FILE.ENCODING", detail="带 UTF-8 BOM 但内容不是有效的 UTF-8",
                      detail_en="a UTF-8 BOM, but the text is not valid UTF-8")  # fmt: skip
    handle.seek(0)
    _check_gb18030(handle)
    return "gb18030"


def _gb18030_chinese(handle: BinaryIO) -> bool:
    """The whole file decodes as GB18030 and gives at least one Chinese character."""
    handle.seek(0)
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    chinese = False
    try:
        while chunk := handle.read(_CSV_CHUNK):
            chinese = chinese or bool(_CJK.search(decoder.decode(chunk)))
        decoder.decode(b"", True)
    except UnicodeDecodeError:
        return False
    return chinese


def _line_too_long(line: int, length: int, limits: Limits) -> None:
    raise _refuse(
        "SHEET.LINE_TOO_LONG", row=line, detail=_mb(length), expected=f"{limits.line_kb:,} KB"
    )


def _check_gb18030(handle: BinaryIO) -> None:
    """Second pass, line by line (each at most ``line_kb``): every line GB18030, and none in
    UTF-8 beside them, or the county's text would be read as garbage without anyone seeing."""
    utf8_line = gb_line = 0
    number = 1
    carry = b""
    for chunk in itertools.chain(_chunks(handle), [b""]):  # b"": the end, check the carry
        pieces = _LINE_BREAK.split(carry + chunk)
        carry = pieces.pop() if chunk else b""
        for piece in pieces:
            if not piece.isascii():
                try:
                    text = piece.decode("utf-8")
                except UnicodeDecodeError:
                    try:
                        piece.decode("gb18030")
                    except UnicodeDecodeError:
                        raise _refuse(
                            "FILE.ENCODING", detail=f"既不是 UTF-8 也不是 GB18030（第 {number} 行）",
                            detail_en=f"neither UTF-8 nor GB18030 (line {number})",
                        ) from None
                    gb_line = gb_line or number
                else:
                    # Two Chinese characters decoded from UTF-8: GB18030 bytes practically
                    # never pass as UTF-8 this way, so this line was saved in UTF-8.
                    if len(_CJK.findall(text, 0, 4096)) >= 2:
                        utf8_line = utf8_line or number
                if utf8_line and gb_line:
                    raise _refuse(
                        "FILE.ENCODING",
                        detail=f"同一文件混用了 UTF-8（第 {utf8_line} 行）和 GB18030"
                        f"（第 {gb_line} 行）两种编码",
                        detail_en=f"UTF-8 (line {utf8_line}) and GB18030 (line {gb_line}) "
                        "mixed in one file",
                    )
            number += 1


class _Lines:
    """Lines of the decoded text for csv.reader, noting whether any holds more than spaces."""

    def __init__(self, text: io.TextIOBase):
        self.lines = iter(text)
        self.content = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        if not self.content and line.strip():
            self.content = True
        return line


@dataclass
class Columns:
    """A CSV sheet read column-wise: what `read_csv` would give as a RawSheet, with the rows
    after the header as text columns ``c0``, ``c1`` … (by position) and ``row``; ``text``: the
    file as decoded, where a word no cell holds is ruled out at once (``ingest.layout``)."""

    name: str
    header: list[str | None]
    header_row: int
    frame: pl.DataFrame
    text: str


# A control character (`_CONTROL`) or whitespace other than space and line feed (what
# str.isspace calls whitespace): rare in a CSV, so one scan rules both out for most files.
_UNUSUAL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202a-\u202f\u205f"
    "\u2066-\u2069\u3000]"
)


def _needs_cleanup(text: str, unusual: bool) -> bool:
    """Whether a cell may change when stripped (whitespace at either end) or a line may hold
    nothing but commas: only then does `_split` take its second pass. ``unusual``: whether
    the text holds whitespace other than space and line feed."""
    spaced = " " in text and (" ," in text or ", " in text or " \n" in text or "\n " in text
                              or text.startswith(" ") or text.endswith(" "))  # fmt: skip
    # An empty line, or one starting with a comma; the final line break ends no line.
    blank = text.startswith(("\n", ",")) or "\n\n" in text or "\n," in text
    return unusual or spaced or blank


def _columns(text: str, name: str, limits: Limits) -> Columns | None:
    """The common CSV — no quotes, no control characters, CR only before LF, every line
    within the cell, row and column limits — split by polars' CSV reader (no quoting), in
    one native call for most files, instead of cell by cell in Python. None for any other
    file: `read_csv` reads it record by record (and refuses what it must, with the exact row
    and column)."""
    if '"' in text or text.startswith("\ufeff"):  # polars would drop a byte order mark
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    unusual = _UNUSUAL.search(text)  # a CR left is one too: ends a record in Excel, not here
    if unusual and ("\r" in text or _CONTROL.search(text, unusual.start())):
        return None
    lines = text.count("\n") + 1
    if lines > limits.rows or (
        len(text) > limits.cell_chars and max(map(len, text.split("\n"))) > limits.cell_chars
    ):
        return None
    width = text.partition("\n")[0].count(",") + 1  # the first line's
    cleanup = _needs_cleanup(text, unusual is not None)
    try:
        rows = _split(text, width, lines, limits, cleanup)
    except pl.exceptions.ComputeError:  # a line with more cells than the first: count them all
        width = max(map(str.count, text.split("\n"), itertools.repeat(","))) + 1
        rows = _split(text, width, lines, limits, cleanup)
    if rows is None or rows.is_empty():
        return None
    row, *header = rows.row(0)
    while header and header[-1] is None:
        header.pop()
    number, *cells = rows.get_columns()
    frame = pl.DataFrame([*cells, number.cast(pl.Int64)])
    return Columns(name, header, row, frame.slice(1), text)


def _split(text: str, width: int, lines: int, limits: Limits,
           cleanup: bool) -> pl.DataFrame | None:  # fmt: skip
    """The lines' cells as text columns c0, c1 … (empty: null) after ``row``: a blank line is
    a record, as in Excel, so numbers stay the lines'. With ``cleanup`` (`_needs_cleanup`),
    cells stripped and rows holding nothing left out. None beyond the column or cell limits."""
    if width > limits.columns or width * lines > limits.cells:
        return None
    names = [f"c{i}" for i in range(width)]
    rows = pl.read_csv(text.encode(), has_header=False, quote_char=None, infer_schema=False,
                       schema=dict.fromkeys(names, pl.String), missing_columns="insert",
                       row_index_name="row", row_index_offset=1)  # fmt: skip
    if not cleanup:
        return rows
    # Python's str.strip and polars' strip_chars differ only on U+001C–U+001F: controls.
    cell = pl.col(names).str.strip_chars()
    return rows.select("row", pl.when(cell != "").then(cell).name.keep()).filter(
        pl.any_horizontal(pl.col(names).is_not_null())
    )


def read_csv(path: Path, limits: Limits | None = None, columns: bool = False) -> RawSheet | Columns:
    """One CSV file as a RawSheet named after the file stem (with ``columns``, as Columns
    when the file allows; the same content either way).

    Encoding: UTF-8 with or without BOM, else GB18030, decoded strictly. Refusals:
    FILE.UNSAFE for a symbolic link; FILE.EMPTY for 0 bytes or only whitespace;
    FILE.TOO_LARGE above ``limits.file_mb``; FILE.ENCODING for UTF-16/UTF-32 (BOM or NUL
    bytes; ``detail`` says which), a workbook, PDF or image renamed .csv, bytes that are
    neither encoding, or a file mixing UTF-8 and GB18030 lines; SHEET.LINE_TOO_LONG for a
    physical line above ``limits.line_kb`` (measured in bounded chunks before anything is
    decoded); FILE.CORRUPT for broken quoting (an unclosed quote would otherwise swallow
    the rest of the file silently); SHEET.TOO_MANY_COLUMNS / SHEET.TOO_MANY_ROWS beyond
    ``limits.columns`` / ``limits.rows`` (the last one holding a value); SHEET.EMPTY_HEADER
    when no record has a value (e.g. only commas); VALUE.TOO_LONG and VALUE.CONTROL_CHAR
    as for workbooks. Comma-delimited only. Row numbers count CSV records, blank ones
    included, header usually 1: the row Excel shows when it opens the file, even when a
    quoted cell spans several lines.
    """
    limits = limits if limits is not None else Limits.from_env()
    # csv's own field limit (128 K characters) would stop a long cell with a vague error;
    # the file size limit already bounds memory, and VALUE.TOO_LONG names the real length.
    if csv.field_size_limit() < limits.file_bytes:
        csv.field_size_limit(limits.file_bytes)
    name = _shown(path.stem)
    handle = _open(path, limits.file_mb)
    with handle:
        encoding = _scan_csv(handle, limits)
        handle.seek(0)
        if columns and (fast := _columns(handle.read().decode(encoding), name, limits)):
            return fast
        handle.seek(0)
        text = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="")
        lines = _Lines(text)
        reader = csv.reader(lines, strict=True)
        issues = _CellIssues(name)
        numbered: list[tuple[int, list[str | None]]] = []
        last_row = 0  # the last record holding a value
        cells_read = 0  # cells of the records holding a value
        wide: Problem | None = None
        try:
            for number, record in enumerate(reader, start=1):
                if len(record) > limits.columns and any(record[limits.columns :]):
                    used = max((i for i, c in enumerate(record) if c.strip()), default=-1) + 1
                    if used > limits.columns:
                        wide = wide or Problem(
                            "SHEET.TOO_MANY_COLUMNS",
                            sheet=name,
                            row=number,
                            detail=f"{used:,}",
                            expected=f"{limits.columns:,}",
                        )
                        break
                if number > limits.rows or cells_read > limits.cells:  # count, stop keeping
                    if any(cell.strip() for cell in record):
                        last_row = number
                        cells_read += len(record)
                    continue
                # One regex and one length scan per record; per-cell work only on a hit.
                if _CONTROL.search("\t".join(record)):
                    issues.check_controls(number, record)
                if max(map(len, record), default=0) <= limits.cell_chars:
                    cells: list[str | None] = [cell.strip() or None for cell in record]
                else:
                    cells = []
                    for i, cell in enumerate(record):
                        if len(cell) > limits.cell_chars:
                            issues.too_long.append((number, i, len(cell)))
                            cells.append(None)
                        else:
                            cells.append(cell.strip() or None)
                if any(cells) or (issues.too_long and issues.too_long[-1][0] == number):
                    last_row = number
                numbered.append((number, cells))
                cells_read += len(cells)
        except csv.Error as error:
            raise _refuse(
                "FILE.CORRUPT", detail=f"CSV 第 {reader.line_num} 行：{_shown(str(error))}",
                detail_en=f"CSV line {reader.line_num}: {_shown(str(error))}",
            ) from None
        except UnicodeDecodeError:  # the first pass makes this unreachable; kept to never crash
            raise _refuse("FILE.ENCODING", detail="既不是 UTF-8 也不是 GB18030",
                          detail_en="neither UTF-8 nor GB18030") from None
    if wide:
        raise FileRefused(wide)
    if not lines.content:
        raise _refuse("FILE.EMPTY")
    if last_row > limits.rows:
        raise _refuse(
            "SHEET.TOO_MANY_ROWS", sheet=name, detail=f"{last_row:,}", expected=f"{limits.rows:,}"
        )
    if cells_read > limits.cells:
        raise _refuse(
            "SHEET.TOO_MANY_CELLS",
            sheet=name,
            detail=f"{cells_read:,}",
            expected=f"{limits.cells:,}",
        )
    sheet = _sheet(path.stem, numbered)
    problems = issues.problems(sheet, limits)
    if problems:
        raise FileRefused(*problems)
    if not sheet.header:
        raise _refuse("SHEET.EMPTY_HEADER", sheet=name)
    return sheet
