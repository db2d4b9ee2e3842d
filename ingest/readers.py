"""Read a county's workbook or CSV into raw text cells, without typing anything.

Typing is ``ingest.normalise``'s job; here we only turn what the county sees in
Excel into text and keep track of where each cell came from. A file that cannot
be read at all raises ``FileRefused`` carrying catalogue problems.
"""

from __future__ import annotations

import csv
import datetime
import io
import posixpath
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

from python_calamine import CalamineWorkbook

from ingest.problems import FileRefused, Problem

# Zip sanity limits: a county workbook is a few MB. Declared sizes are checked
# before anything is decompressed, so a disguised zip bomb is refused cheaply.
MAX_ENTRY_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024
MAX_ENTRIES = 10_000

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls, or an encrypted .xlsx
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


@dataclass
class RawSheet:
    """One sheet as text cells.

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


def _refuse(rule_id: str, detail: str | None = None, sheet: str | None = None) -> FileRefused:
    return FileRefused(Problem(rule_id, sheet=sheet, detail=detail))


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
    for number, cells in numbered_rows:
        while cells and cells[-1] is None:
            cells.pop()
        if not cells:
            continue
        if not header_row:
            header, header_row = cells, number
            continue
        rows.append(cells + [None] * (len(header) - len(cells)))
        numbers.append(number)
    return RawSheet(name, header, rows, numbers, header_row)


# --- workbooks ------------------------------------------------------------------------


def _local(tag: str) -> str:
    """An XML tag or attribute name without its namespace (strict OOXML uses other URIs)."""
    return tag.rpartition("}")[2]


def _open_package(path: Path) -> zipfile.ZipFile:
    """Open the file as a zip package after the cheap refusals: empty, not a zip, bomb."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if not magic:
        raise _refuse("FILE.EMPTY")
    if magic == _OLE2_MAGIC:
        raise _refuse("FILE.NOT_WORKBOOK", detail="Excel 97-2003 .xls 格式或设有密码的工作簿")
    if magic not in _ZIP_MAGIC:
        raise _refuse("FILE.NOT_WORKBOOK", detail="不是 xlsx 文件包")
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        # Starts like a zip but its directory, at the end, is gone: cut off in transit.
        raise _refuse("FILE.CORRUPT", detail="文件包目录缺失，文件可能被截断") from None
    entries = package.infolist()
    sizes = [entry.file_size for entry in entries]  # as declared in the zip directory
    if (
        len(sizes) > MAX_ENTRIES
        or max(sizes, default=0) > MAX_ENTRY_BYTES
        or (sum(sizes) > MAX_TOTAL_BYTES)
    ):
        package.close()
        raise _refuse("FILE.CORRUPT", detail="解压后内容异常庞大（疑似压缩炸弹）")
    return package


def _check_package(package: zipfile.ZipFile) -> dict[str, str]:
    """Verify every entry's CRC and return sheet name -> sheet part path."""
    names = set(package.namelist())
    if "xl/workbook.xml" not in names:
        if any(name.startswith("xl/") for name in names):
            raise _refuse("FILE.CORRUPT", detail="缺少 xl/workbook.xml")
        raise _refuse("FILE.NOT_WORKBOOK", detail="压缩包中没有 xl/workbook.xml")
    try:
        # Reads each entry no further than its declared size, so this stays bounded.
        bad = package.testzip()
    except Exception as error:  # zlib, unsupported compression, encryption, bad headers
        raise _refuse("FILE.CORRUPT", detail=f"无法读取的文件包条目（{error}）") from None
    if bad:
        raise _refuse("FILE.CORRUPT", detail=f"部件 {bad} 已损坏")
    try:
        rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
        book = ElementTree.fromstring(package.read("xl/workbook.xml"))
    except KeyError:
        raise _refuse("FILE.CORRUPT", detail="缺少 xl/_rels/workbook.xml.rels") from None
    except ElementTree.ParseError:
        raise _refuse("FILE.CORRUPT", detail="workbook.xml 不是有效的 XML") from None
    targets = {
        rel.get("Id"): rel.get("Target", "") for rel in rels if _local(rel.tag) == "Relationship"
    }
    parts: dict[str, str] = {}
    for element in book.iter():
        if _local(element.tag) != "sheet":
            continue
        rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
        target = targets.get(rel_id, "")
        # Targets are relative to xl/, or absolute within the package.
        part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        part = posixpath.normpath(part)
        if part not in names:
            raise _refuse("FILE.CORRUPT", detail=f"缺少工作表部件 {part}")
        parts[element.get("name", "")] = part
    return parts


def _formula_cells(package: zipfile.ZipFile, part: str) -> Iterator[tuple[str, int, str]]:
    """Yield (cell ref, row, formula text) for every formula cell of a sheet part, streaming."""
    shared: dict[str, str] = {}  # a shared formula's text lives on its first cell only
    row, column, ref = 0, 0, ""
    with package.open(part) as stream:
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            tag = _local(element.tag)
            if event == "start":
                # The r attributes are optional in OOXML: count positions when absent.
                if tag == "row":
                    row = int(element.get("r") or row + 1)
                    column = 0
                elif tag == "c":
                    match = _CELL_REF.fullmatch(element.get("r") or "")
                    column = _column_index(match.group(1)) + 1 if match else column + 1
                    ref = f"{_column_letters(column - 1)}{row}"
            elif tag == "f":
                text = element.text or ""
                index = element.get("si")
                if index is not None and text:
                    shared[index] = text
                elif index is not None:
                    text = shared.get(index, "")
                yield ref, row, text
            elif tag == "row":
                element.clear()  # keep memory flat on long sheets


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _formula_problems(package: zipfile.ZipFile, parts: dict[str, str]) -> list[Problem]:
    problems = []
    for sheet, part in parts.items():
        try:
            for ref, row, formula in _formula_cells(package, part):
                problems.append(
                    Problem("SHEET.FORMULA", sheet=sheet, row=row, cell=ref, value=f"={formula}")
                )
        except ElementTree.ParseError:
            raise _refuse("FILE.CORRUPT", detail=f"{part} 不是有效的 XML") from None
    return problems


def _with_column_label(problem: Problem, sheets: dict[str, RawSheet]) -> Problem:
    """Name the formula cell's column by its header, as the county knows it."""
    sheet = sheets.get(problem.sheet or "")
    match = _CELL_REF.fullmatch(problem.cell or "")
    if not sheet or not match:
        return problem
    index = _column_index(match.group(1))
    label = sheet.header[index] if index < len(sheet.header) else None
    return replace(problem, column=label)


def read_workbook(path: Path) -> dict[str, RawSheet]:
    """Every sheet of an .xlsx as text cells, keyed by sheet name, in workbook order.

    Refusals (``FileRefused``): FILE.EMPTY for 0 bytes; FILE.NOT_WORKBOOK when the
    bytes are not an OOXML zip (text renamed .xlsx, an old .xls); FILE.CORRUPT with a
    short ``detail`` for a truncated or damaged package, a missing part, or an
    implausibly large entry; SHEET.FORMULA, one problem per formula cell (all of them),
    with ``sheet``, ``row``, ``cell`` (``F10``), ``value`` (``=SUM(F2:F9)``) and
    ``column`` (the header label above it, if any).

    Cell text: strings stripped; numbers as Excel shows them (``400``, ``0.3``);
    booleans ``TRUE``/``FALSE`` (what Excel shows; ``parse_yes_no`` reads them);
    dates ``YYYY-MM-DD``, datetimes with a time of day ``YYYY-MM-DD HH:MM:SS``.
    A sheet with no non-empty row (or a chart sheet) comes back with ``header == []``:
    whether that is an error depends on the sheet, so the caller decides.
    """
    with _open_package(path) as package:
        parts = _check_package(package)
        formulas = _formula_problems(package, parts)
    try:
        book = CalamineWorkbook.from_path(path)
        sheets = {}
        for name in book.sheet_names:
            # skip_empty_area=False keeps row 1 / column A at index 0: numbering stays true.
            cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            numbered = ((i, [_text(v) for v in row]) for i, row in enumerate(cells, start=1))
            sheets[name] = _sheet(name, numbered)
    except Exception as error:  # calamine's errors carry no stable types worth telling apart
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise _refuse("FILE.CORRUPT", detail=reason) from None
    if formulas:
        raise FileRefused(*(_with_column_label(p, sheets) for p in formulas))
    return sheets


# --- CSV ------------------------------------------------------------------------------

_WIDE_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (b"\xff\xfe\x00\x00", "UTF-32 LE"),
    (b"\x00\x00\xfe\xff", "UTF-32 BE"),
    (b"\xff\xfe", "UTF-16 LE"),
    (b"\xfe\xff", "UTF-16 BE"),
)


def _nul_guess(data: bytes) -> str:
    """What a file with NUL bytes and no BOM probably is, for the county's error message."""
    # UTF-16 puts the NUL half of ASCII characters (commas, newlines, digits) on one parity;
    # a few CJK characters (一 is U+4E00) put a NUL on the other, hence a ratio, not zero.
    # A CSV has at least a comma or newline every few characters, so well over 1 byte in 16
    # is a NUL; binary data with scattered NULs is not called text.
    odd, even, share = data[1::2].count(0), data[::2].count(0), len(data) // 16
    if odd > 4 * even and odd > share:
        return "无字节顺序标记的 UTF-16 LE"
    if even > 4 * odd and even > share:
        return "无字节顺序标记的 UTF-16 BE"
    # UTF-32 of any BMP text has a NUL in every fourth byte.
    if not data[3::4].strip(b"\0") or not data[::4].strip(b"\0"):
        return "无字节顺序标记的 UTF-32"
    return "二进制数据"


def _decode(data: bytes) -> str:
    """UTF-8 (BOM or not), else GB18030, strictly; anything else is FILE.ENCODING."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise _refuse("FILE.ENCODING", detail=f"{name}（字节顺序标记 {bom.hex(' ')}）")
    if data.startswith(b"PK\x03\x04"):
        raise _refuse("FILE.ENCODING", detail="这是改名为 .csv 的 Excel 工作簿，不是文本")
    if b"\x00" in data:
        raise _refuse("FILE.ENCODING", detail=f"含 NUL 字节，疑似 {_nul_guess(data)}")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse("FILE.ENCODING", detail="带 UTF-8 BOM 但内容不是有效的 UTF-8") from None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse("FILE.ENCODING", detail="既不是 UTF-8 也不是 GB18030")


def read_csv(path: Path) -> RawSheet:
    """One CSV file as a RawSheet named after the file stem.

    Encoding: UTF-8 with or without BOM, else GB18030, decoded strictly. Refusals:
    FILE.EMPTY for 0 bytes or only whitespace; FILE.ENCODING for UTF-16/UTF-32 (BOM
    or NUL bytes; ``detail`` says which), a workbook renamed .csv, or bytes that are
    neither encoding; FILE.CORRUPT for broken quoting (an unclosed quote would
    otherwise swallow the rest of the file silently); SHEET.EMPTY_HEADER when no
    record has a value (e.g. only commas). Comma-delimited only. Row numbers count
    CSV records, blank ones included, header usually 1: the row Excel shows when it
    opens the file, even when a quoted cell spans several lines.
    """
    data = path.read_bytes()
    if not data.strip():
        raise _refuse("FILE.EMPTY")
    text = _decode(data)
    if not text.strip():
        raise _refuse("FILE.EMPTY")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        numbered = [
            (number, [cell.strip() or None for cell in record])
            for number, record in enumerate(reader, start=1)
        ]
    except csv.Error as error:
        raise _refuse("FILE.CORRUPT", detail=f"CSV 第 {reader.line_num} 行：{error}") from None
    sheet = _sheet(path.stem, numbered)
    if not sheet.header:
        raise _refuse("SHEET.EMPTY_HEADER", sheet=sheet.name)
    return sheet
