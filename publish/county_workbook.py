"""Blank county workbooks (SPEC §1.4, `jixiao template`): a programme's template as the
workbook a county clerk fills in.

One workbook per county: a 填表说明 sheet naming the county, every sheet and column with its
rule and description, and which sheets may be left out; then one sheet per template sheet,
named by its Chinese title, its Chinese headers in row 1 and no rows. Each column carries
what Excel, WPS and LibreOffice can enforce while the clerk types: drop-down lists for enum,
boolean, budget-line and county columns; whole-number, decimal and date validations within
the declared bounds (dates within the programme year where ``inYear``); the length of an
identifier; and its format: text for strings (an 18-digit ID typed into a General cell
becomes 4.40102E+17), yyyy-mm-dd for dates, 0.00 for money. The run checks every value
again; these only spare the clerk a refused file.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import unicodedata
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from jixiao.limits import Limits
from jixiao.publish.excel import excel_text
from jixiao.publish.files import under, write_atomic
from jixiao.said import SaidError
from jixiao.schemas.contracts import FORMATS, TYPE_NAMES, Sheet
from jixiao.schemas.programme import Programme
from jixiao.schemas.template import FieldDecl, excel_sheet_name

INSTRUCTIONS = "填表说明"
# A hidden sheet holding the drop-down lists: a list typed into a validation is limited to
# 255 characters and cannot hold a comma; a range of cells has neither limit.
OPTIONS = "下拉选项"
LAST_ROW = 1_048_575  # Excel's last row, 0-based: validations cover every row below the header
ID_LENGTH = {"resident_id": 18, "disability_cert": 20, "credit_code": 18}
NUM_FORMATS = {"string": "@", "boolean": "@", "date": "yyyy-mm-dd", "money": "0.00",
               "integer": "0", "number": "General"}  # fmt: skip
# Excel keeps 15 significant digits: an unbounded side of a number's range stops there.
UNBOUNDED = 10**15
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(9999, 12, 31)
# The smallest difference between two values of a type: an exclusive bound becomes inclusive.
STEP = {"integer": 1, "money": Decimal("0.01"), "date": dt.timedelta(days=1)}
PERSONAL = {"hash": "个人信息：入库前加密散列，原文不入库", "drop": "个人信息：不入库"}


class TemplateError(SaidError):
    """The template cannot be written as a workbook: one sentence in Chinese and in English."""


def worksheet_names(sheets: dict[str, Sheet]) -> dict[str, str]:
    """The worksheet of each template sheet: its title, else its key (the run reads a sheet
    by either) where the title cannot name a worksheet: at most 31 characters, none of
    []:*?/\\, no apostrophe at either end, unique regardless of case, neither 填表说明 nor
    下拉选项 nor Excel's own History. Raises TemplateError when neither can, or when the
    workbook would hold more sheets than the run reads (JIXIAO_MAX_SHEETS)."""
    limit = Limits.from_env().sheets
    if len(sheets) + 2 > limit:
        raise TemplateError(
            f"模板有 {len(sheets)} 张表，加上填表说明和下拉选项超过每个工作簿 {limit} 张表的上限"
            "（JIXIAO_MAX_SHEETS），报送时会被拒收。",
            f"the template has {len(sheets)} sheets: with the instructions and the drop-down "
            f"lists that is over the limit of {limit} sheets a workbook (JIXIAO_MAX_SHEETS), so "
            "it would be refused when submitted.",
        )
    taken = {INSTRUCTIONS, OPTIONS, "history"}

    def usable(name: str) -> bool:
        return excel_sheet_name(name) and name.casefold() not in taken

    names = {}
    for key, sheet in sheets.items():
        name = next((n for n in (sheet.title, key) if usable(n)), None)
        if name is None:
            raise TemplateError(
                f"表「{key}」的标题「{sheet.title}」和名称都不能用作 Excel 工作表名"
                "（不超过 31 个字符，不含 [ ] : * ? / \\，且不与其他工作表重名）。",
                f"neither the title '{sheet.title}' nor the name of sheet '{key}' can name an "
                "Excel sheet (at most 31 characters, none of [ ] : * ? / \\, no two alike).",
            )
        taken.add(name.casefold())
        names[key] = name
    return names


def _width(text: str) -> int:
    """Columns a text takes on screen: two for a Chinese character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _choices(field: FieldDecl, programme: Programme) -> list | None:
    """A drop-down column's values: a boolean's true and false words, its enum (as the
    column's type: a number in a number column, text in a text column), the programme's
    budget lines or counties by name (the run reads either by code or by name)."""
    enum = field.constraints.enum
    if field.type == "boolean":
        return [*(field.trueValues or ["是"]), *(field.falseValues or ["否"])]
    if enum == "budget_lines":
        return [line.name for line in programme.budget_lines]
    if enum:
        as_type = {"integer": int, "number": float, "money": float}.get(field.type, str)
        return [as_type(v) for v in enum]
    if field.format == "county":
        return list(programme.counties.values())
    return None


def _inside(value, inclusive: bool, kind: str, low: bool) -> tuple:
    """A bound as (value, inclusive), made the nearest value the type can hold on its inside
    where the type has a smallest step: a whole number, a fen, a day (> 0 yuan: ≥ 0.01)."""
    step = STEP.get(kind)
    if step is None:
        return value, inclusive
    if kind == "date":
        return (value, True) if inclusive else (value + (step if low else -step), True)
    n = Decimal(value) / step
    if low:
        n = math.ceil(n) if inclusive else math.floor(n) + 1
    else:
        n = math.floor(n) if inclusive else math.ceil(n) - 1
    return n * step, True


def _bounds(field: FieldDecl, year: int) -> tuple[tuple | None, tuple | None]:
    """(value, inclusive) of the lowest and the highest value the field allows: the tightest
    of its minimum, exclusive minimum and, where ``inYear``, the programme year's first day;
    likewise above."""
    c = field.constraints
    first = dt.date(year, 1, 1) if field.inYear else None
    last = dt.date(year, 12, 31) if field.inYear else None
    lows = [_inside(v, inclusive, field.type, True)
            for v, inclusive in ((c.minimum, True), (c.exclusiveMinimum, False), (first, True))
            if v is not None]  # fmt: skip
    highs = [_inside(v, inclusive, field.type, False)
             for v, inclusive in ((c.maximum, True), (c.exclusiveMaximum, False), (last, True))
             if v is not None]  # fmt: skip
    # Of two bounds at one value, the exclusive one is the tighter.
    low = max(lows, key=lambda b: (b[0], not b[1]), default=None)
    high = min(highs, key=lambda b: (b[0], b[1]), default=None)
    return low, high


def _range(field: FieldDecl, year: int, cell: str) -> dict:
    """The validation of a number, money or date column whose first cell is ``cell``: the
    declared range, else any value of the type (text typed there is refused)."""
    low, high = _bounds(field, year)
    kind = {"integer": "integer", "date": "date"}.get(field.type, "decimal")

    def value(bound):
        v = bound[0]
        if isinstance(v, dt.date):  # Excel's dates run from 1900 to 9999
            return min(max(v, FIRST_DATE), LAST_DATE)
        return int(v) if field.type == "integer" else float(v)

    if low and high and low[1] and high[1]:
        return {"validate": kind, "criteria": "between", "minimum": value(low),
                "maximum": value(high)}  # fmt: skip
    if low and high:  # a number with an exclusive bound: no one criteria says both
        lo, hi = (">=" if low[1] else ">"), ("<=" if high[1] else "<")
        return {"validate": "custom",  # relative to the first cell, as Excel applies it
                "value": f"=AND(ISNUMBER({cell}),{cell}{lo}{value(low)},{cell}{hi}{value(high)})"}
    if low:
        return {"validate": kind, "criteria": ">=" if low[1] else ">", "value": value(low)}
    if high:
        return {"validate": kind, "criteria": "<=" if high[1] else "<", "value": value(high)}
    if field.type == "date":
        return {"validate": "date", "criteria": "between", "minimum": FIRST_DATE,
                "maximum": LAST_DATE}  # fmt: skip
    return {"validate": kind, "criteria": "between", "minimum": -UNBOUNDED, "maximum": UNBOUNDED}


def _length(field: FieldDecl) -> dict | None:
    c = field.constraints
    if field.format in ID_LENGTH:
        return {"validate": "length", "criteria": "==", "value": ID_LENGTH[field.format]}
    if c.minLength is not None and c.maxLength is not None:
        return {"validate": "length", "criteria": "between", "minimum": c.minLength,
                "maximum": c.maxLength}  # fmt: skip
    if c.minLength is not None:
        return {"validate": "length", "criteria": ">=", "value": c.minLength}
    if c.maxLength is not None:
        return {"validate": "length", "criteria": "<=", "value": c.maxLength}
    return None


def _cut(text: str, limit: int) -> str:
    """Excel's limits on a validation's titles (32) and messages (255 characters)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Options:
    """The drop-down lists: one column of the hidden sheet 下拉选项 per distinct list."""

    def __init__(self):
        self.ranges: dict[tuple, str] = {}

    def source(self, values: list) -> str:
        key = tuple(values)
        if key not in self.ranges:
            letter = xl_col_to_name(len(self.ranges))
            self.ranges[key] = f"='{OPTIONS}'!${letter}$1:${letter}${len(values)}"
        return self.ranges[key]

    def write(self, book: xlsxwriter.Workbook) -> None:
        sheet = book.add_worksheet(OPTIONS)
        sheet.hide()
        for col, values in enumerate(self.ranges):
            for row, v in enumerate(values):  # exactly as the run compares them: no escaping
                if isinstance(v, str):
                    sheet.write_string(row, col, v)
                else:
                    sheet.write_number(row, col, v)


def _validation(field: FieldDecl, rule: str, label: str, cell: str, programme: Programme,
                options: _Options) -> dict:  # fmt: skip
    """The column's one validation (a cell holds one): a drop-down list, else a range, else
    a text length, else none; each with the rule as its prompt and error."""
    if choices := _choices(field, programme):
        check = {"validate": "list", "source": options.source(choices)}
    elif field.type in ("integer", "number", "money", "date"):
        check = _range(field, programme.year, cell)
    else:
        check = _length(field) or {"validate": "any"}
    prompt = rule + (f"。{field.description}" if field.description else "")
    return check | {
        "input_title": _cut(label, 32),
        "input_message": _cut(prompt, 255),
        "error_title": "输入有误",
        "error_message": _cut(f"「{label}」应为：{rule}", 255),
    }


def _data_sheet(book: xlsxwriter.Workbook, name: str, sheet: Sheet, programme: Programme,
                options: _Options, formats: dict) -> None:  # fmt: skip
    ws = book.add_worksheet(name)
    for col, (key, label) in enumerate(sheet.labels.items()):
        field = sheet.fields[key]
        ws.write_string(0, col, label, formats["header"])
        choices = _choices(field, programme) or []
        typical = {"date": 10, "money": 12, "integer": 8}.get(field.type, 10)
        width = max(_width(label), typical, ID_LENGTH.get(field.format or "", 0),
                    *(_width(str(v)) for v in choices))  # fmt: skip
        ws.set_column(col, col, min(width + 2, 60), formats[field.type])
        cell = f"{xl_col_to_name(col)}2"
        check = _validation(field, sheet.rules[key], label, cell, programme, options)
        if ws.data_validation(1, col, LAST_ROW, col, check) != 0:  # xlsxwriter warns, not raises
            raise TemplateError(f"表「{sheet.key}」字段「{key}」的取值规则无法写成 Excel 数据验证。",
                                f"the rule on the values of field '{key}' of sheet "
                                f"'{sheet.key}' cannot be written as Excel data validation.")  # fmt: skip
    ws.freeze_panes(1, 0)


def _sheet_rule(sheet: Sheet, sheets: dict[str, Sheet], names: dict[str, str]) -> str:
    """What a sheet asks of its rows as a whole: its key is unique, its references exist."""
    parts = []
    if sheet.primary_key:
        parts.append("、".join(sheet.labels[k] for k in sheet.primary_key) + " 在本表内不能重复")
    for fields, target, theirs in sheet.foreign_keys:
        labels = "、".join(sheets[target].labels[k] for k in theirs)
        parts.append("、".join(sheet.labels[k] for k in fields)
                     + f" 须是「{names[target]}」表中已填的{labels}")  # fmt: skip
    return "；".join(parts)


def _instructions(ws, programme: Programme, county: str, names: dict[str, str],
                  formats: dict) -> None:  # fmt: skip
    sheets = programme.county_template.sheets
    required = [names[k] for k, s in sheets.items() if s.required]
    optional = [names[k] for k, s in sheets.items() if not s.required]
    if not optional:
        which = "各表均为必填表。"
    else:
        which = (f"必填表：{'、'.join(required)}；其余为选填表" if required else "各表均为选填表")
        which += (f"（{'、'.join(optional)}）：本区县没有相应内容的，可以不填或整表删除，"
                  "其他表照常接收。")  # fmt: skip
    lines = [
        (f"{programme.name}　区县报送表填表说明", formats["title"]),
        (f"区县：{county} {programme.counties[county]}", formats["county"]),
        (f"项目：{programme.code}（{programme.year} 年度）；主管单位：{programme.unit}", None),
        (f"填好后以 {county}.xlsx 报送；需要更正时，将整份文件改好后以 {county}.v2.xlsx 报送，"
         "新版本整体替代旧版本。", None),
        ("每张表第 1 行是表头，请勿修改表名和表头；从第 2 行起每行填写一条记录，"
         "请勿使用公式、请勿合并单元格。", None),
        (which, None),
        ("带下拉箭头的列请从列表中选择；日期填写为 年-月-日（如 "
         f"{programme.year}-11-30）；金额以元为单位，精确到分。", None),
    ]
    for row, (text, fmt) in enumerate(lines):
        ws.write_string(row, 0, excel_text(text), fmt)
    head = ("工作表", "是否必填", "列（表头）", "类型", "填写要求", "可选值", "说明")
    top = len(lines) + 1
    for col, text in enumerate(head):
        ws.write_string(top, col, text, formats["header"])
    rows = []
    for key, sheet in sheets.items():
        rows.append((names[key], "必填" if sheet.required else "选填", "（整表）", "",
                     _sheet_rule(sheet, sheets, names), "", sheet.decl.description or ""))  # fmt: skip
        for k, field in sheet.fields.items():
            kind = FORMATS[field.format][0] if field.format else TYPE_NAMES[field.type]
            choices = [] if field.format == "county" else _choices(field, programme) or []
            about = "；".join(filter(None, (field.description, PERSONAL.get(field.personal))))
            rows.append((names[key], "", sheet.labels[k], kind, sheet.rules[k],
                         " / ".join(map(str, choices)), about))  # fmt: skip
    for r, row in enumerate(rows, top + 1):
        for col, text in enumerate(row):
            ws.write_string(r, col, excel_text(text), formats["wrap"])
    for col, text in enumerate(head):
        width = max([_width(text), *(_width(row[col]) for row in rows)])
        ws.set_column(col, col, min(width + 2, 50))
    ws.freeze_panes(top + 1, 0)


def blank_workbook(programme: Programme, county: str) -> bytes:
    """The blank workbook of ``county`` (a code of ``programme.counties``), as xlsx bytes."""
    sheets = programme.county_template.sheets
    names = worksheet_names(sheets)
    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
               "strings_to_urls": False}  # fmt: skip
    with xlsxwriter.Workbook(buffer, options) as book:
        book.set_properties({"title": f"{programme.name} 区县报送表",
                             "subject": f"{county} {programme.counties[county]}"})  # fmt: skip
        formats = {
            "title": book.add_format({"bold": True, "font_size": 14}),
            "county": book.add_format({"bold": True, "font_size": 12}),
            "header": book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1,
                                       "align": "center", "valign": "vcenter"}),  # fmt: skip
            "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        } | {kind: book.add_format({"num_format": f}) for kind, f in NUM_FORMATS.items()}
        _instructions(book.add_worksheet(INSTRUCTIONS), programme, county, names, formats)
        choices = _Options()
        for key, sheet in sheets.items():
            _data_sheet(book, names[key], sheet, programme, choices, formats)
        choices.write(book)
    return buffer.getvalue()


def write_blank_workbooks(programme: Programme, out_root: Path) -> list[Path]:
    """Every county's blank workbook, ``<out_root>/<year>/<code>/<county>.xlsx``, each written
    whole or not at all; raises TemplateError when the template cannot be a workbook."""
    paths = []
    for county in programme.counties:
        path = under(out_root, str(programme.year), programme.code, f"{county}.xlsx")
        write_atomic(path, blank_workbook(programme, county))
        paths.append(path)
    return paths
