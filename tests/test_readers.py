"""Reading real workbook and CSV files into raw text cells, and refusing unreadable ones."""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.ingest.problems import FileRefused
from jixiao.ingest.readers import Columns, RawSheet, read_csv, read_workbook
from jixiao.ingest.validate import sheet_text
from jixiao.sample.generate import SHEETS

HEADER = ["姓名", "慰问日期", "慰问金额(元)"]


def _xlsx(path: Path, sheets: dict[str, list[tuple[int, list]]]) -> Path:
    """Write sheets of (0-based row index, values) with xlsxwriter; dates get a date format."""
    book = xlsxwriter.Workbook(path)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for index, values in rows:
            for column, value in enumerate(values):
                if isinstance(value, datetime.date):
                    sheet.write_datetime(index, column, value, date_format)
                elif value is not None:
                    sheet.write(index, column, value)
    book.close()
    return path


def _refused(call, path: Path) -> list:
    with pytest.raises(FileRefused) as caught:
        call(path)
    return caught.value.problems


def _only(call, path: Path):
    problems = _refused(call, path)
    assert len(problems) == 1
    return problems[0]


# --- workbooks --------------------------------------------------------------------------


def test_workbook_cells_become_text(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "530102.xlsx",
        {
            "慰问": [
                (0, [*HEADER, "备注", "领取", "比例"]),
                (1, [" 张三 ", datetime.datetime(2022, 11, 30), 400, "  ", True, 0.1 + 0.2]),
                (2, ["李四", datetime.datetime(2022, 11, 30, 14, 30), 400.5, None, False, 1e-7]),
                (3, ["王五", "2022年11月30日", "0.04万"]),
            ]
        },
    )
    sheets = read_workbook(path)
    assert list(sheets) == ["慰问"]
    sheet = sheets["慰问"]
    assert sheet == RawSheet(
        name="慰问",
        header=[*HEADER, "备注", "领取", "比例"],
        rows=[
            ["张三", "2022-11-30", "400", None, "TRUE", "0.3"],
            ["李四", "2022-11-30 14:30:00", "400.5", None, "FALSE", "0.0000001"],
            ["王五", "2022年11月30日", "0.04万", None, None, None],
        ],
        row_numbers=[2, 3, 4],
        header_row=1,
    )


def test_workbook_blank_rows_keep_excel_numbering(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "a.xlsx",
        {"慰问": [(2, HEADER), (3, ["张三", None, 400]), (6, ["李四"]), (9, ["王五", None, 1])]},
    )
    sheet = read_workbook(path)["慰问"]
    assert sheet.header_row == 3
    assert sheet.row_numbers == [4, 7, 10]
    assert sheet.rows == [["张三", None, "400"], ["李四", None, None], ["王五", None, "1"]]


def test_workbook_rows_beyond_header_keep_extra_cells(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "a.xlsx", {"s": [(0, ["a", "b"]), (1, ["1", None, None, "x"])]})
    sheet = read_workbook(path)["s"]
    assert sheet.rows == [["1", None, None, "x"]]


def test_workbook_columns_keep_their_position(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(tmp_path / "a.xlsx")
    sheet = book.add_worksheet("s")
    sheet.write_row(1, 1, ["a", "b"])  # B2:C2
    sheet.write_row(2, 1, ["1", "2"])
    book.close()
    raw = read_workbook(tmp_path / "a.xlsx")["s"]
    assert (raw.header, raw.header_row) == ([None, "a", "b"], 2)
    assert (raw.rows, raw.row_numbers) == ([[None, "1", "2"]], [3])


def test_workbook_every_sheet_empty_sheet_has_no_header(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "a.xlsx", {"招聘会": [(0, ["招聘会编号"])], "空": [], "经费": []})
    sheets = read_workbook(path)
    assert list(sheets) == ["招聘会", "空", "经费"]
    assert sheets["空"] == RawSheet("空", [], [], [], 0)
    assert sheets["招聘会"].header == ["招聘会编号"] and sheets["招聘会"].rows == []


def test_workbook_written_by_openpyxl_with_dates(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "慰问"
    sheet.append(HEADER)
    sheet.append(["张三", datetime.date(2022, 11, 30), 400])
    sheet.append([])
    sheet.append(["李四", datetime.datetime(2022, 12, 1, 0, 0), 1200.0, 0.1 + 0.2])
    book.save(tmp_path / "a.xlsx")
    raw = read_workbook(tmp_path / "a.xlsx")["慰问"]
    # openpyxl stores 0.1 + 0.2 as 0.30000000000000004; Excel shows 0.3, and so do we.
    assert raw.rows == [["张三", "2022-11-30", "400"], ["李四", "2022-12-01", "1200", "0.3"]]
    assert raw.row_numbers == [2, 4]


def test_workbook_empty_file_refused(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"")
    assert _only(read_workbook, tmp_path / "a.xlsx").rule_id == "FILE.EMPTY"


def test_workbook_not_a_workbook_refused(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes("姓名,金额\n张三,400\n".encode())
    assert _only(read_workbook, tmp_path / "a.xlsx").rule_id == "FILE.NOT_WORKBOOK"


def test_xls_header_without_a_workbook_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "a.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    assert _only(read_workbook, tmp_path / "a.xls").rule_id == "FILE.CORRUPT"


def test_workbook_plain_zip_is_not_a_workbook(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "a.xlsx", "w") as package:
        package.writestr("readme.txt", "hello")
    assert _only(read_workbook, tmp_path / "a.xlsx").rule_id == "FILE.NOT_WORKBOOK"


def test_workbook_truncated_refused_as_corrupt(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "a.xlsx", {"慰问": [(0, HEADER), (1, ["张三", None, 400])]})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    problem = _only(read_workbook, path)
    assert problem.rule_id == "FILE.CORRUPT"
    assert problem.detail and "Traceback" not in problem.detail
    assert problem.detail in problem.message("zh") and problem.detail_en in problem.message("en")


def _rewrite(source: Path, target: Path, drop: str = "", change: dict[str, bytes] | None = None):
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename != drop:
                new.writestr(info, (change or {}).get(info.filename, old.read(info)))


def test_workbook_missing_sheet_part_refused_as_corrupt(tmp_path: Path) -> None:
    good = _xlsx(tmp_path / "good.xlsx", {"慰问": [(0, HEADER)]})
    _rewrite(good, tmp_path / "a.xlsx", drop="xl/worksheets/sheet1.xml")
    problem = _only(read_workbook, tmp_path / "a.xlsx")
    assert problem.rule_id == "FILE.CORRUPT"
    assert "xl/worksheets/sheet1.xml" in (problem.detail or "")


def test_workbook_damaged_part_refused_as_corrupt(tmp_path: Path) -> None:
    good = _xlsx(tmp_path / "good.xlsx", {"慰问": [(0, HEADER)]})
    _rewrite(good, tmp_path / "a.xlsx")
    data = bytearray((tmp_path / "a.xlsx").read_bytes())
    with zipfile.ZipFile(tmp_path / "a.xlsx") as package:
        info = package.getinfo("xl/worksheets/sheet1.xml")
    # Flip a byte inside the sheet's compressed data: its CRC no longer matches.
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    (tmp_path / "a.xlsx").write_bytes(bytes(data))
    assert _only(read_workbook, tmp_path / "a.xlsx").rule_id == "FILE.CORRUPT"


def test_workbook_zip_bomb_refused_cheaply(tmp_path: Path) -> None:
    good = _xlsx(tmp_path / "good.xlsx", {"慰问": [(0, HEADER)]})
    _rewrite(good, tmp_path / "a.xlsx")
    # 201 MB of zeros deflates to ~200 KB: the declared size gives it away before inflating.
    with (
        zipfile.ZipFile(tmp_path / "a.xlsx", "a", zipfile.ZIP_DEFLATED) as package,
        package.open("xl/media/bomb.bin", "w", force_zip64=True) as entry,
    ):
        for _ in range(201):
            entry.write(bytes(1 << 20))
    assert (tmp_path / "a.xlsx").stat().st_size < 2 * 1024 * 1024
    problem = _only(read_workbook, tmp_path / "a.xlsx")
    assert problem.rule_id == "FILE.CORRUPT"
    assert "庞大" in (problem.detail or "")


def test_workbook_formulas_kept_beside_their_cached_values(tmp_path: Path) -> None:
    """Formulas are not refused by the reader: where they stand decides (ingest.layout)."""
    book = xlsxwriter.Workbook(tmp_path / "a.xlsx")
    visits = book.add_worksheet("慰问")
    visits.write_row(0, 0, HEADER)
    visits.write_row(1, 0, ["张三", "2022-11-30", 400])
    visits.write_formula("C10", "=SUM(C2:C9)", None, 400)
    book.close()
    sheet = read_workbook(tmp_path / "a.xlsx")["慰问"]
    assert sheet.formulas == {(10, 2): "=SUM(C2:C9)"}
    assert sheet.rows[-1] == [None, None, "400"] and sheet.row_numbers[-1] == 10


def test_workbook_shared_formula_reports_its_text(tmp_path: Path) -> None:
    good = _xlsx(tmp_path / "good.xlsx", {"s": [(0, ["a"])]})
    sheet_xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'
        '<row r="2"><c r="A2"><f t="shared" ref="A2:A3" si="0">B2*2</f><v>0</v></c></row>'
        '<row r="3"><c r="A3"><f t="shared" si="0"/><v>0</v></c></row>'
        "<row><c><f>1+1</f><v>2</v></c><c><v>5</v></c></row>"
        "</sheetData></worksheet>"
    )
    _rewrite(good, tmp_path / "a.xlsx", change={"xl/worksheets/sheet1.xml": sheet_xml.encode()})
    sheet = read_workbook(tmp_path / "a.xlsx")["s"]
    assert sheet.formulas == {(2, 0): "=B2*2", (3, 0): "=B2*2", (4, 0): "=1+1"}


# --- CSV --------------------------------------------------------------------------------

CSV_TEXT = (
    "姓名,慰问日期,慰问金额(元)\r\n张三,2022年11月30日,400元\r\n李四, 2022/11/30 ,０.04万\r\n"
)
CSV_ROWS = [["张三", "2022年11月30日", "400元"], ["李四", "2022/11/30", "０.04万"]]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.encode("gb18030"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030"],
)
def test_csv_encodings(tmp_path: Path, encode) -> None:
    path = tmp_path / "visits.csv"
    path.write_bytes(encode(CSV_TEXT))
    assert read_csv(path) == RawSheet("visits", HEADER, CSV_ROWS, [2, 3], 1)


def test_csv_gb18030_bytes_are_not_valid_utf8(tmp_path: Path) -> None:
    data = CSV_TEXT.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # so the fallback, not UTF-8, read the test above
    (tmp_path / "v.csv").write_bytes(data)
    assert read_csv(tmp_path / "v.csv").header == HEADER


def test_csv_quotes_newlines_and_blank_records(tmp_path: Path) -> None:
    text = (
        '\n姓名,地点,备注\n"张三","昆明市\n五华区","含,逗号"\n\n,,\n'
        '李四,"说""好""的",\n王五\n赵六,a,b,extra\n'
    )
    (tmp_path / "v.csv").write_text(text, encoding="utf-8")
    sheet = read_csv(tmp_path / "v.csv")
    assert sheet.header == ["姓名", "地点", "备注"]
    assert sheet.header_row == 2
    assert sheet.rows == [
        ["张三", "昆明市\n五华区", "含,逗号"],
        ["李四", '说"好"的', None],
        ["王五", None, None],
        ["赵六", "a", "b", "extra"],
    ]
    # Records, not lines: the quoted newline does not shift the numbers after it.
    assert sheet.row_numbers == [3, 6, 7, 8]


@pytest.mark.parametrize("content", [b"", b"  \r\n\t\n", b"\xef\xbb\xbf", "\u3000\n".encode()])
def test_csv_empty_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "v.csv").write_bytes(content)
    assert _only(read_csv, tmp_path / "v.csv").rule_id == "FILE.EMPTY"


def test_csv_without_any_value_has_no_header(tmp_path: Path) -> None:
    (tmp_path / "v.csv").write_bytes(b",,\n , \n")
    problem = _only(read_csv, tmp_path / "v.csv")
    assert (problem.rule_id, problem.sheet) == ("SHEET.EMPTY_HEADER", "v")


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (CSV_TEXT.encode("utf-16"), "UTF-16"),  # with its BOM
        (CSV_TEXT.encode("utf-16-le"), "UTF-16"),  # no BOM: NUL bytes give it away
        (CSV_TEXT.encode("utf-16-be"), "UTF-16"),
        (("第一," + CSV_TEXT).encode("utf-16-le"), "UTF-16 LE"),  # 一 is U+4E00: NUL, even
        (CSV_TEXT.encode("utf-32"), "UTF-32 LE"),
        (CSV_TEXT.encode("utf-32-be"), "UTF-32"),
        (b"\xfe\xff" + CSV_TEXT.encode("utf-16-be"), "UTF-16 BE"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "二进制"),
        (b"PK\x03\x04" + b"\x00" * 40, "Excel 工作簿"),
        (b"a,b\n1,\x80\x80\n", "既不是"),
        (b"\xef\xbb\xbfa,b\n\xd5\xc5\xc8\xfd,1\n", "UTF-8 BOM"),  # GB18030 after a UTF-8 BOM
    ],
)
def test_csv_unreadable_encoding_refused(tmp_path: Path, content: bytes, looks_like: str) -> None:
    (tmp_path / "v.csv").write_bytes(content)
    problem = _only(read_csv, tmp_path / "v.csv")
    assert problem.rule_id == "FILE.ENCODING"
    assert looks_like in (problem.detail or "")


def test_csv_unclosed_quote_refused_rather_than_swallowing_rows(tmp_path: Path) -> None:
    (tmp_path / "v.csv").write_text('a,b\n"1,2\n3,4\n5,6\n', encoding="utf-8")
    problem = _only(read_csv, tmp_path / "v.csv")
    assert problem.rule_id == "FILE.CORRUPT"
    assert "CSV" in (problem.detail or "")


_CELL = st.text(alphabet="ab9 ,\u3000\u00a0张三-", max_size=6).map(lambda t: t.replace(",", ""))


@settings(max_examples=150, deadline=None)
@given(
    order=st.permutations(list(SHEETS["funds"].labels.values())),
    extra=st.booleans(),
    rows=st.lists(st.lists(_CELL, max_size=7), max_size=12),
    blank_top=st.integers(0, 2),
    newline=st.sampled_from(["\n", "\r\n"]),
    final=st.booleans(),
)
def test_csv_read_by_columns_is_what_the_rows_hold(tmp_path_factory, order, extra, rows,
                                                    blank_top, newline, final):  # fmt: skip
    """The column-wise CSV path gives exactly the contract's input the row-wise one gives."""
    header = [*order, "备注"] if extra else order
    lines = [""] * blank_top + [",".join(header)] + [",".join(r) for r in rows]
    path = tmp_path_factory.mktemp("csv") / "funds.csv"
    path.write_bytes((newline.join(lines) + (newline if final else "")).encode("utf-8"))
    fast = read_csv(path, columns=True)
    assert isinstance(fast, Columns)
    by_rows, by_columns = (
        sheet_text(read_csv(path), SHEETS["funds"]),
        sheet_text(fast, SHEETS["funds"]),
    )
    assert (by_columns.name, by_columns.rows, by_columns.problems) == (
        by_rows.name, by_rows.rows, by_rows.problems)  # fmt: skip
    assert by_columns.frame.equals(by_rows.frame)


def test_the_csv_scan_for_unusual_characters_misses_no_whitespace_a_strip_removes():
    """The column-wise CSV path skips stripping cells, and looking for control characters,
    when its scan finds no whitespace other than space and line feed and no control: the
    scan's class must hold every other character str.strip removes, and every control."""
    from jixiao.ingest.readers import _CONTROL, _UNUSUAL

    missed = [hex(c) for c in range(0x110000)
              if (chr(c).isspace() and chr(c) not in " \n" or _CONTROL.match(chr(c)))
              and not _UNUSUAL.match(chr(c))]  # fmt: skip
    assert missed == []


_GRID_CELL = st.text(alphabet="a9 \t\x0b\x0c\u3000\u00a0\ufeff张-", max_size=4)


def _trimmed(cells) -> list:
    cells = list(cells)
    while cells and cells[-1] is None:
        cells.pop()
    return cells


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.lists(_GRID_CELL, max_size=5).map(",".join), min_size=1, max_size=10),
    newline=st.sampled_from(["\n", "\r\n"]),
    final=st.integers(0, 2),
)
def test_csv_columns_hold_the_grid_the_records_hold(tmp_path_factory, lines, newline, final):
    """Cell by cell and row by row (their numbers included), the column-wise CSV path reads
    the grid the record-wise reader reads: blank lines, lines of commas or whitespace,
    ragged lines, whitespace around cells and a second byte order mark included."""
    path = tmp_path_factory.mktemp("csv") / "s.csv"
    path.write_bytes((newline.join(lines) + newline * final).encode("utf-8-sig"))  # BOM: no guess
    try:
        by_rows = read_csv(path)
    except FileRefused as refused:  # nothing but blanks: refused either way
        assert [p.rule_id for p in refused.problems] in (["FILE.EMPTY"], ["SHEET.EMPTY_HEADER"])
        with pytest.raises(FileRefused):
            read_csv(path, columns=True)
        return
    fast = read_csv(path, columns=True)
    if lines[0].startswith("\ufeff"):  # a second byte order mark: read record by record
        assert isinstance(fast, RawSheet) and fast.header == by_rows.header
        return
    assert isinstance(fast, Columns)
    assert (fast.header, fast.header_row) == (by_rows.header, by_rows.header_row)
    grid = [(number, _trimmed(cells)) for *cells, number in fast.frame.rows()]
    assert grid == [
        (n, _trimmed(r)) for n, r in zip(by_rows.row_numbers, by_rows.rows, strict=True)
    ]


@pytest.mark.parametrize(
    "text",
    ['a,"b"\n1,2\n', "a,b\r1,2\n", "a,b\n1,\x07\n", "a,b\n1,\u202e2\n"],
    ids=["quotes", "bare CR", "control", "bidi override"],
)
def test_csv_with_quotes_or_controls_is_read_row_by_row(tmp_path, text):
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode("utf-8"))
    try:
        assert isinstance(read_csv(path, columns=True), RawSheet)
    except FileRefused:  # controls are refused, by the row-wise reader, with their cell
        assert "\x07" in text or "\u202e" in text
