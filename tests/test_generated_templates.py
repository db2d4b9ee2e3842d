"""Templates as data hold for programmes the bundled sample does not contain (issue 11, item 7).

Hypothesis writes county templates nobody wrote by hand: 1–4 sheets with random names, fields
of every type (string, integer, number, boolean, date, money) with Chinese titles, Table
Schema's constraints, jixiao's formats, personal hash/drop and inYear, a primary key, a foreign
key between two sheets, required and optional sheets. Each goes into a minimal programme.yaml
(inline under ``sheets:`` or as ``data/raw/templates/NAME.yaml``) with county files typed the
way counties type values (2022年3月5日 and Excel serials, 400元 and 0.04万, 是/否), as xlsx
workbooks and as per-sheet CSVs, and files that each carry exactly one planted fault.

The oracle is what the generator drew: each valid file accepted with its exact rows and the
exact sums of its numbers and money, hashed columns stored only as keyed hashes, dropped ones
absent, optional sheets left out named in ``ingest_log.sheets_absent``; each planted fault
refused with its rule, sheet, row and column, and a feedback page. Broken templates (SQL
keywords as names, a duplicated field, a foreign key to no sheet, a bound on text …) are
refused with one Chinese sentence naming the problem.

- test_generated_programmes_intake: many examples through ingest.intake.process, no Prefect;
- test_broken_templates_are_refused: load_programme on hypothesis-broken templates;
- test_every_name_a_template_accepts_is_usable_in_sql: every DuckDB keyword, exhaustively;
- test_generated_programmes_real_run: a few generated programmes and broken ones beside the
  sample in one data/raw, one real ``jixiao run``;
- at the end, what the generated examples found in the code, pinned as plain examples.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from jixiao.ingest.discover import submissions
from jixiao.ingest.intake import Context, Ledger, process
from jixiao.ingest.load import (
    create_sheet_tables,
    create_tables,
    delete_county_rows,
    insert_rows,
    warehouse_rows,
)
from jixiao.ingest.personal import cert_hash, load_or_create_key
from jixiao.ingest.validate import ROW
from jixiao.publish.findings import md_text
from jixiao.sample.generate import PROGRAMME_YAML, SHEETS, write_csv, write_workbook
from jixiao.schemas.contracts import FILE
from jixiao.schemas.identifiers import credit_code_check, org_code_check, resident_id_check
from jixiao.schemas.programme import Programme, ProgrammeError, load_programme_folder
from jixiao.schemas.template import OWN_COLUMNS, OWN_TABLES, TemplateDecl, hash_column
from jixiao.scoring import compute_metrics
from tests.runs import DB, jixiao_run

KEY = b"k" * 32
EXCEL_EPOCH = dt.date(1899, 12, 30)
KEYWORDS = sorted(
    k for (k,) in duckdb.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall()
)
# Sheet keys of the sample, which runs beside the generated programmes in the real run: a
# generated sheet of the same key would share (and clash with) its table.
SAMPLE_SHEETS = frozenset(SHEETS)
# hash_column strips these: a name ending in one could share its hash column with another's.
_SUFFIXES = ("no", "id", "number", "code", "hash")
HAN = "项目服务康复培训人员补贴资金发放日期金额类别名称等级机构地点单位数量编号状态审核标准年度月份次数时长评估结果辅具适配家庭医生签约就业岗位创业扶持教育救助"
NAMES = ["张秀英", "李建国", "王桂兰", "赵志刚", "刘淑珍", "陈卫东", "杨丽娟", "黄德明"]
PATTERNS = [r"[A-Z]{2}-[0-9]{3}", r"KF[0-9]{2,4}", r"[0-9]{4}[A-Z]"]


def _usable(name: str, avoid: frozenset[str] = frozenset()) -> bool:
    return (
        name not in KEYWORDS and name not in OWN_TABLES and name not in OWN_COLUMNS
        and name.rsplit("_", 1)[-1] not in _SUFFIXES and name not in avoid
    )  # fmt: skip


RAW_NAMES = st.from_regex(r"[a-z][a-z0-9]{1,7}(_[a-z][a-z0-9]{1,5})?", fullmatch=True)
TITLES = st.text(alphabet=HAN, min_size=2, max_size=6)


# --- fields -----------------------------------------------------------------------------------

# A field's kind: its Table Schema type and the one family of constraints it carries, so that a
# planted fault breaks exactly one rule. A foreign key's own field is ref_text or ref_integer.
STRING_KINDS = ["text", "enum", "pattern", "length", "resident_id", "cert", "credit", "county",
                "budget", "name", "secret"]  # fmt: skip
KINDS = [*STRING_KINDS, "integer", "integer_enum", "number", "money", "date", "in_year", "boolean"]
TYPES = {"integer": "integer", "integer_enum": "integer", "ref_integer": "integer",
         "number": "number", "money": "money", "date": "date", "in_year": "date",
         "boolean": "boolean"}  # fmt: skip


@dataclass
class Col:
    name: str
    title: str
    kind: str
    required: bool
    unique: bool = False
    params: dict = field(default_factory=dict)

    @property
    def type(self) -> str:
        return TYPES.get(self.kind, "string")

    @property
    def hashed(self) -> bool:
        return self.kind in ("resident_id", "cert", "secret")

    def decl(self) -> dict:
        c: dict = {"required": True} if self.required else {}
        if self.unique:
            c["unique"] = True
        out: dict = {"name": self.name, "title": self.title}
        if self.type != "string":
            out["type"] = self.type
        p = self.params
        if self.kind in ("enum", "integer_enum"):
            c["enum"] = p["enum"]
        elif self.kind == "budget":
            c["enum"] = "budget_lines"
        elif self.kind == "pattern":
            c["pattern"] = p["pattern"]
        elif self.kind == "length":
            c |= {"minLength": p["min"], "maxLength": p["max"]}
        elif self.kind in ("resident_id", "cert", "credit", "county"):
            out["format"] = {"cert": "disability_cert", "credit": "credit_code"}.get(
                self.kind, self.kind
            )
        elif self.kind == "boolean" and p.get("words"):
            out["trueValues"], out["falseValues"] = [p["words"][0]], [p["words"][1]]
        elif p.get("in_year"):
            out["inYear"] = True
        for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if p.get(bound) is not None:
                value = p[bound]
                c[bound] = str(value) if isinstance(value, Decimal) else value
        if self.hashed:
            out["personal"] = "hash"
        elif self.kind == "name":
            out["personal"] = "drop"
        if c:
            out["constraints"] = c
        return out


def _between(draw, lo, hi, excl_lo: bool, excl_hi: bool, step, default_lo, default_hi):
    """A value on the grid ``step`` inside the bounds (None: unbounded on that side)."""
    low = default_lo if lo is None else lo + (step if excl_lo else 0)
    high = default_hi if hi is None else hi - (step if excl_hi else 0)
    n = draw(st.integers(0, round((high - low) / step)))
    return low + n * step


@st.composite
def columns(draw, kind: str, name: str, title: str, year: int, required: bool) -> Col:
    """A field of ``kind`` with constraints drawn for it."""
    col = Col(name, title, kind, required)
    p = col.params
    if kind == "enum":
        p["enum"] = draw(st.lists(st.text(alphabet=HAN, min_size=2, max_size=3), min_size=2,
                                  max_size=4, unique=True))  # fmt: skip
    elif kind == "integer_enum":
        p["enum"] = draw(st.lists(st.integers(-5, 99), min_size=2, max_size=4, unique=True))
    elif kind == "pattern":
        p["pattern"] = draw(st.sampled_from(PATTERNS))
    elif kind == "length":
        p["min"] = draw(st.integers(1, 3))
        p["max"] = draw(st.integers(p["min"], 8))
    elif kind == "boolean":
        p["words"] = draw(st.sampled_from([None, ("有", "无"), ("已完成", "未完成")]))
    elif kind == "in_year":
        p["in_year"] = True
    elif kind == "date":
        if draw(st.booleans()):
            first = dt.date(year, 1, 1) + dt.timedelta(draw(st.integers(0, 200)))
            p["minimum"] = first
            p["maximum"] = first + dt.timedelta(draw(st.integers(0, 150)))
    elif kind in ("integer", "number", "money"):
        step = {"integer": 1, "number": Decimal("0.25"), "money": Decimal("0.01")}[kind]
        lo = draw(st.none() | st.integers(-100, 100).map(lambda n: n * step))
        hi = draw(st.none() | st.integers(2, 4000).map(lambda n: (lo or 0) + n * step))
        if lo is not None:
            p["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = lo
        if hi is not None:
            p["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = hi
    return col


def _typed_bound(col: Col, side: str) -> tuple[object, bool]:
    p = col.params
    excl = "exclusiveMinimum" if side == "lo" else "exclusiveMaximum"
    incl = "minimum" if side == "lo" else "maximum"
    return (p[excl], True) if p.get(excl) is not None else (p.get(incl), False)


def resident_id(draw, year: int) -> str:
    region = draw(st.sampled_from(["110101", "310104", "440305", "530102", "653101"]))
    born = dt.date(1950, 1, 1) + dt.timedelta(
        draw(st.integers(0, (dt.date(year - 16, 1, 1) - dt.date(1950, 1, 1)).days))
    )
    first17 = f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + resident_id_check(first17)


def credit_code(draw) -> str:
    org8 = draw(st.from_regex(r"[0-9A-HJ-NP-RTUWXY]{8}", fullmatch=True))
    first17 = f"91{draw(st.sampled_from(['530102', '110105']))}{org8}{org_code_check(org8)}"
    return first17 + credit_code_check(first17)


@dataclass
class Prog:
    """What a field's values depend on beyond the field."""

    year: int
    counties: dict[str, str]
    budget: dict[str, str]  # code -> name


def value(draw, col: Col, prog: Prog) -> object:
    """A valid typed value of the field (what the warehouse should hold, before hashing)."""
    kind, p = col.kind, col.params
    if kind in ("text", "ref_text"):
        return draw(st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,9}", fullmatch=True))
    if kind in ("enum", "integer_enum"):
        return draw(st.sampled_from(p["enum"]))
    if kind == "pattern":
        return draw(st.from_regex(p["pattern"], fullmatch=True))
    if kind == "length":
        return draw(st.text(alphabet="ABCDEFGHJK0123456789", min_size=p["min"], max_size=p["max"]))
    if kind == "resident_id":
        return resident_id(draw, prog.year)
    if kind == "cert":
        return (
            resident_id(draw, prog.year)
            + str(draw(st.integers(1, 7)))
            + str(draw(st.integers(1, 4)))
        )
    if kind == "credit":
        return credit_code(draw)
    if kind == "county":
        return draw(st.sampled_from(sorted(prog.counties)))
    if kind == "budget":
        return draw(st.sampled_from(sorted(prog.budget)))
    if kind == "name":
        return draw(st.sampled_from(NAMES))
    if kind == "secret":
        return draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
    if kind == "boolean":
        return draw(st.booleans())
    if col.type == "date":
        if p.get("minimum"):
            span = (p["maximum"] - p["minimum"]).days
            return p["minimum"] + dt.timedelta(draw(st.integers(0, span)))
        first = dt.date(prog.year, 1, 1) if p.get("in_year") else dt.date(prog.year - 2, 1, 1)
        last = dt.date(prog.year, 12, 31) if p.get("in_year") else dt.date(prog.year + 2, 12, 31)
        return first + dt.timedelta(draw(st.integers(0, (last - first).days)))
    step = {"integer": 1, "ref_integer": 1, "number": Decimal("0.25"), "money": Decimal("0.01")}[
        kind
    ]
    (lo, excl_lo), (hi, excl_hi) = _typed_bound(col, "lo"), _typed_bound(col, "hi")
    default_lo = -500 * step if lo is None else None
    default_hi = (lo or 0) + 400_000 * step if hi is None else None
    got = _between(draw, lo, hi, excl_lo, excl_hi, step, default_lo, default_hi)
    return got if kind != "number" else float(got)


def written(draw, col: Col, typed: object, prog: Prog, csv: bool) -> object:
    """The cell as a county types it: what is written into the xlsx or CSV."""
    if typed is None:
        return None
    kind = col.kind
    if kind in ("resident_id", "cert") and "X" in typed and draw(st.booleans()):
        return typed.replace("X", "x")
    if kind == "county":
        return draw(st.sampled_from([typed, prog.counties[typed]]))
    if kind == "budget":
        return draw(st.sampled_from([typed, prog.budget[typed]]))
    if kind == "boolean":
        yes, no = col.params.get("words") or ("是", "否")
        return yes if typed else no
    if col.type == "date":
        forms = [f"{typed.year}年{typed.month}月{typed.day}日", f"{typed:%Y/%m/%d}",
                 f"{typed.year}.{typed.month}.{typed.day}", str((typed - EXCEL_EPOCH).days)]  # fmt: skip
        if not csv:
            forms += [typed, (typed - EXCEL_EPOCH).days]  # a date cell, a bare serial number
        return draw(st.sampled_from(forms))
    if col.type == "integer":
        forms = [str(typed), f"{typed:,}", str(typed).translate(FULL_WIDTH)]
        return draw(st.sampled_from(forms if csv else [*forms, typed]))
    if col.type == "number":
        forms = [repr(typed), f"{typed:,}"]
        return draw(st.sampled_from(forms if csv else [*forms, typed]))
    if col.type == "money":
        forms = [f"{typed}元", f"{typed / 10000:f}万", f"{typed:,.2f}", f"{typed}"]
        return draw(st.sampled_from(forms if csv else [*forms, float(typed)]))
    return typed


FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


# --- templates and programmes -----------------------------------------------------------------


@dataclass
class Sheet:
    name: str
    title: str | None
    required: bool
    cols: list[Col]
    pk: str | None = None  # the primary key's field
    fk: tuple[str, str, str] | None = None  # (own field, referenced sheet, its field)

    @property
    def label(self) -> str:
        return self.title or self.name

    def decl(self) -> dict:
        out: dict = {"name": self.name}
        if self.title:
            out["title"] = self.title
        out["required"] = self.required
        if self.pk:
            out["primaryKey"] = [self.pk]
        if self.fk:
            own, ref, ref_field = self.fk
            out["foreignKeys"] = [
                {"fields": [own], "reference": {"resource": ref, "fields": [ref_field]}}
            ]
        out["fields"] = [c.decl() for c in self.cols]
        return out

    def col(self, name: str) -> Col:
        return next(c for c in self.cols if c.name == name)


@st.composite
def templates(draw, year: int, rich: bool, avoid: frozenset[str] = frozenset()) -> list[Sheet]:
    """1–4 sheets (``rich``: 2–4 with every kind of field, a required and an optional sheet and
    a foreign key), referenced sheets first."""
    n = draw(st.integers(2 if rich else 1, 4))
    sheet_names = draw(st.lists(RAW_NAMES.filter(lambda s: _usable(s, avoid | SAMPLE_SHEETS)),
                                min_size=n, max_size=n, unique=True))  # fmt: skip
    sheet_titles = draw(st.lists(TITLES, min_size=n, max_size=n, unique=True))
    kinds: list[list[str]] = [[] for _ in range(n)]
    if rich:
        for kind in KINDS:
            kinds[draw(st.integers(0, n - 1))].append(kind)
    for extra in kinds:
        extra += draw(st.lists(st.sampled_from(KINDS), min_size=0 if rich else 1, max_size=4))
    required = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    if rich:
        required[0], required[-1] = True, False
    sheets = []
    for i in range(n):
        names = draw(st.lists(RAW_NAMES.filter(_usable), min_size=len(kinds[i]) + 2,
                              max_size=len(kinds[i]) + 2, unique=True))  # fmt: skip
        titles = draw(st.lists(TITLES.filter(lambda t: t != "备注"), min_size=len(names),
                               max_size=len(names), unique=True))  # fmt: skip
        cols = []
        for j, kind in enumerate(kinds[i]):
            name = names[j] + (
                "_no" if kind in ("resident_id", "cert") and draw(st.booleans()) else ""
            )
            # The first field is required: a row always holds a value, or the reader skips it.
            req = j == 0 or draw(st.booleans())
            col = draw(columns(kind, name, titles[j], year, req))
            col.unique = kind in ("text", "pattern", "length") and draw(st.booleans())
            col.required |= col.unique  # blanks count as duplicates of each other
            cols.append(col)
        pk_kind = draw(st.sampled_from(["text", "pattern", "integer"]) | st.none())
        pk = None
        if pk_kind or (rich and i == 0):
            # No bounds on a key: its values must be able to be distinct.
            pk_col = Col(names[-2], titles[-2], pk_kind or "text", True)
            if pk_kind == "pattern":
                pk_col.params["pattern"] = draw(st.sampled_from(PATTERNS))
            cols.insert(draw(st.integers(0, len(cols))), pk_col)
            pk = pk_col.name
        title = sheet_titles[i] if draw(st.integers(0, 4)) else None
        sheets.append(Sheet(sheet_names[i], title, required[i], cols, pk))
    parents = [s for s in sheets if s.pk]
    children = [s for s in sheets if s is not parents[0]] if parents else []
    if children and (rich or draw(st.booleans())):
        parent, child = parents[0], draw(st.sampled_from(children))
        key = parent.col(parent.pk)
        ref = Col(draw(RAW_NAMES.filter(lambda s: _usable(s) and s not in {c.name for c in child.cols})),
                  draw(TITLES.filter(lambda t: t not in {c.title for c in child.cols} | {"备注"})),
                  "ref_integer" if key.type == "integer" else "ref_text", True)  # fmt: skip
        child.cols.insert(draw(st.integers(0, len(child.cols))), ref)
        child.fk = (ref.name, parent.name, parent.pk)
        sheets.remove(child)
        sheets.insert(sheets.index(parent) + 1, child)
    return sheets


@dataclass
class Expect:
    """What a submission should come to: accepted with these sheets' rows, or refused for
    ``fault`` = (rule id, sheet as the file names it, row, column)."""

    fault: tuple[str, str | None, int | None, str | None] | None = None
    rows: dict[str, list[list[object]]] = field(default_factory=dict)  # sheet key -> typed rows
    absent: list[str] = field(default_factory=list)  # xlsx: optional sheets left out


@dataclass
class Submission:
    path: str  # under counties/
    county: str
    sheets: dict[str, tuple[str, list[object], list[list[object]]]]  # key -> (name, header, cells)
    expect: Expect


@dataclass
class Case:
    code: str
    name: str
    prog: Prog
    sheets: list[Sheet]
    shared: bool  # the template under data/raw/templates/
    indicators: list[dict]
    files: list[Submission]

    def yaml(self) -> dict:
        out = {
            "code": self.code, "name": self.name, "unit": "某市残疾人联合会", "year": self.prog.year,
            "counties": self.prog.counties,
            "budget_lines": [{"code": c, "name": n, "amount_yuan": "10000.00"}
                             for c, n in self.prog.budget.items()],
        }  # fmt: skip
        if self.shared:
            out["template"] = self.template_name
        else:
            out["sheets"] = [s.decl() for s in self.sheets]
        return out | {"indicators": self.indicators}

    @property
    def template_name(self) -> str:
        return self.code.replace("-", "_")

    def sheet(self, key: str) -> Sheet:
        return next(s for s in self.sheets if s.name == key)


@st.composite
def values(draw, col: Col, prog: Prog) -> object:
    return value(draw, col, prog)


def _rows(draw, sheet: Sheet, parent_keys: list[object] | None, prog: Prog,
          least: int = 0) -> list[list[object]]:  # fmt: skip
    """Typed rows of a sheet (at least ``least`` when it can have any, the first then with no
    blank): primary keys and unique fields distinct, the foreign key naming rows of
    ``parent_keys``, optional cells sometimes blank."""
    if parent_keys is not None and not parent_keys:
        return []
    n = draw(st.integers(least, 4))
    rows = [[value(draw, c, prog) if c.required or (least and i == 0) or draw(st.integers(0, 3))
             else None for c in sheet.cols] for i in range(n)]  # fmt: skip
    for j, c in enumerate(sheet.cols):
        if c.unique or c.name == sheet.pk:
            for row, v in zip(rows, draw(st.lists(values(c, prog), min_size=n, max_size=n,
                                                  unique=True)), strict=True):  # fmt: skip
                row[j] = v
        if sheet.fk and c.name == sheet.fk[0]:
            for row in rows:
                row[j] = draw(st.sampled_from(parent_keys))
    return rows


# --- county files, valid and with one planted fault --------------------------------------------

RULES = ("VALUE.REQUIRED", "VALUE.ENUM", "VALUE.RANGE", "VALUE.TYPE", "VALUE.OUTSIDE_YEAR",
         "VALUE.CHECK_DIGIT", "VALUE.DUPLICATE_KEY", "VALUE.FOREIGN_KEY", "SHEET.MISSING")  # fmt: skip
UNREADABLE = {"integer": "十二", "number": "约12", "money": "四百块", "date": "2022年13月45日",
              "boolean": "也许"}  # fmt: skip
NOT_LISTED = {"enum": "未列出", "county": "不存在县", "budget": "未列出科目"}
STEPS = {"integer": 1, "number": Decimal("0.25"), "money": Decimal("0.01"), "date": dt.timedelta(1)}


def wrong_check(code: str) -> str:
    """The identifier with its check character (the 18th) mistyped."""
    return code[:17] + ("1" if code[17] == "0" else "0") + code[18:]


def plants(sheet: Sheet, base: dict[str, list[list[object]]], template: list[Sheet]):
    """Every fault that can be planted in the sheet: (rule id, row index or None, column,
    what to do): replace a cell's typed value (``("cell", value)``) or its text (``("text",
    text)``), repeat a row (``("row", index)``), leave the sheet out (``("sheet",)``)."""
    out, rows = [], base[sheet.name]
    for i, row in enumerate(rows):
        for j, c in enumerate(sheet.cols):
            v = row[j]
            others = any(x is not None for k, x in enumerate(row) if k != j)
            if c.required and v is not None and others:
                out.append(("VALUE.REQUIRED", i, c, ("cell", None)))
            if v is None:
                continue
            if c.kind in NOT_LISTED:
                out.append(("VALUE.ENUM", i, c, ("text", NOT_LISTED[c.kind])))
            elif c.kind == "integer_enum":
                out.append(("VALUE.ENUM", i, c, ("cell", max(c.params["enum"]) + 1000)))
            elif c.kind == "pattern":
                out.append(("VALUE.RANGE", i, c, ("text", "x")))
            elif c.kind == "length":
                out.append(("VALUE.RANGE", i, c, ("text", "A" * (c.params["max"] + 1))))
            elif c.kind in ("resident_id", "cert", "credit"):
                out.append(("VALUE.CHECK_DIGIT", i, c, ("cell", wrong_check(v))))
            if c.type in UNREADABLE:
                out.append(("VALUE.TYPE", i, c, ("text", UNREADABLE[c.type])))
            if c.params.get("in_year"):
                next_year = dt.date(v.year + 1, v.month, min(v.day, 28))
                out.append(("VALUE.OUTSIDE_YEAR", i, c, ("cell", next_year)))
            if c.type in STEPS and c.kind != "integer_enum":
                for side, sign in (("lo", -1), ("hi", 1)):
                    bound, exclusive = _typed_bound(c, side)
                    if bound is not None:
                        bad = bound if exclusive else bound + sign * STEPS[c.type]
                        bad = float(bad) if c.type == "number" else bad
                        out.append(("VALUE.RANGE", i, c, ("cell", bad)))
    if sheet.pk and rows:
        out.append(("VALUE.DUPLICATE_KEY", len(rows), sheet.col(sheet.pk), ("row", 0)))
    for c in sheet.cols:
        if c.unique and c.name != sheet.pk and len(rows) >= 2:
            j = sheet.cols.index(c)
            out.append(("VALUE.DUPLICATE_KEY", 1, c, ("cell", rows[0][j])))
    if sheet.fk and rows:
        j = sheet.cols.index(sheet.col(sheet.fk[0]))
        keys = {str(k) for k in parent_keys(sheet, base, template)}
        dangling = next(x for x in (f"ZZ{n}" if sheet.cols[j].kind == "ref_text" else n
                                    for n in range(10_000, 20_000)) if str(x) not in keys)  # fmt: skip
        out.append(("VALUE.FOREIGN_KEY", 0, sheet.cols[j], ("cell", dangling)))
    if sheet.required:
        out.append(("SHEET.MISSING", None, None, ("sheet",)))
    return out


def parent_keys(sheet: Sheet, rows: dict[str, list[list[object]]], template: list[Sheet]) -> list:
    """The key values of the rows the sheet's foreign key refers to."""
    _, ref, key = sheet.fk
    parent = next(p for p in template if p.name == ref)
    j = parent.cols.index(parent.col(key))
    return [r[j] for r in rows[ref]]


@st.composite
def workbook(draw, case_sheets: list[Sheet], rows: dict[str, list[list[object]]], prog: Prog,
             csv: bool) -> dict[str, tuple[str, list[object], list[list[object]]]]:  # fmt: skip
    """Sheets as a county writes them: each named by its title or key, each column headed by
    its label or key, sometimes a 备注 column the template does not know; values typed in the
    county's forms."""
    out = {}
    for sheet in case_sheets:
        if sheet.name not in rows:
            continue
        name = sheet.label if sheet.title and draw(st.booleans()) else sheet.name
        header = [c.title if draw(st.integers(0, 3)) else c.name for c in sheet.cols]
        cells = [[written(draw, c, v, prog, csv) for c, v in zip(sheet.cols, row, strict=True)]
                 for row in rows[sheet.name]]  # fmt: skip
        if draw(st.integers(0, 3)) == 0:
            header.append("备注")
            for row in cells:
                row.append(draw(st.none() | st.just("已核实")))
        out[sheet.name] = (name, header, cells)
    return out


@st.composite
def cases(draw, rich: bool = False, avoid: frozenset[str] = frozenset(),
          avoid_codes: frozenset[str] = frozenset()) -> Case:  # fmt: skip
    """A programme with a generated template and its county files: one valid workbook, valid
    per-sheet CSVs, and files with one planted fault each (``rich``: one for every rule)."""
    year = draw(st.integers(2015, 2030))
    code = draw(st.from_regex(r"[a-z][a-z0-9]{1,7}(-[a-z0-9]{1,4})?", fullmatch=True)
                .filter(lambda c: c not in avoid_codes))  # fmt: skip
    codes = draw(
        st.lists(st.integers(110000, 659999).map(str), min_size=16, max_size=16, unique=True)
    )
    names = draw(st.lists(st.text(alphabet=HAN, min_size=1, max_size=3).map(lambda s: s + "县"),
                          min_size=16, max_size=16, unique=True))  # fmt: skip
    lines = draw(st.lists(RAW_NAMES, min_size=1, max_size=2, unique=True))
    line_names = draw(st.lists(TITLES.map(lambda s: s + "经费"), min_size=len(lines),
                               max_size=len(lines), unique=True))  # fmt: skip
    prog = Prog(
        year, dict(zip(codes, names, strict=True)), dict(zip(lines, line_names, strict=True))
    )
    sheets = draw(templates(year, rich, avoid))

    # The workbook's base data: every sheet, parents before the sheets referring to them.
    base: dict[str, list[list[object]]] = {}
    for s in sheets:
        keys = parent_keys(s, base, sheets) if s.fk else None
        base[s.name] = _rows(draw, s, keys, prog, least=2 if rich else 0)
    children = {s.fk[1]: s.name for s in sheets if s.fk}

    def closed(keys: set[str]) -> set[str]:
        """Leaving out a sheet leaves out the sheet that refers to it."""
        return keys | {children[k] for k in keys if k in children}

    counties = iter(codes)
    files = []
    # A valid workbook, some optional sheets left out (never all of its sheets).
    required = {s.name for s in sheets if s.required}
    optional = [s.name for s in sheets
                if s.name not in required and children.get(s.name) not in required]  # fmt: skip
    left_out = closed(
        set(draw(st.lists(st.sampled_from(optional), unique=True)) if optional else ())
    )
    if len(left_out) == len(sheets):
        left_out = set()
    kept = {s.name: base[s.name] for s in sheets if s.name not in left_out}
    county = next(counties)
    stem = draw(st.sampled_from([county, prog.counties[county]]))
    files.append(Submission(f"{stem}.xlsx", county, draw(workbook(sheets, kept, prog, False)),
                            Expect(rows=kept, absent=sorted(left_out))))  # fmt: skip
    # Valid CSVs: a sheet's parent comes with it, or its keys would refer to nothing.
    county = next(counties)
    chosen = set(draw(st.lists(st.sampled_from([s.name for s in sheets]), min_size=1, unique=True)))
    chosen |= {s.fk[1] for s in sheets if s.fk and s.name in chosen}
    own: dict[str, list[list[object]]] = {}
    for s in sheets:
        if s.name in chosen:
            own[s.name] = _rows(draw, s, parent_keys(s, own, sheets) if s.fk else None, prog)
    files += csv_files(draw, sheets, own, prog, county)

    # One planted fault per file, each in a county of its own.
    candidates = [(s, p) for s in sheets for p in plants(s, base, sheets)]
    if rich:
        by_rule: dict[str, list] = {}
        for s, p in candidates:
            by_rule.setdefault(p[0], []).append((s, p))
        picked = [draw(st.sampled_from(by_rule[r])) for r in RULES if r in by_rule]
    else:
        picked = (
            draw(st.lists(st.sampled_from(candidates), max_size=3, unique_by=lambda sp: id(sp[1])))
            if candidates
            else []
        )
    for s, (rule, i, col, action) in picked:
        county = next(counties)
        as_csv = action[0] != "sheet" and draw(st.booleans())
        rows = {k: [list(r) for r in v] for k, v in base.items()}
        target = rows[s.name]
        j = s.cols.index(col) if col else None
        if action[0] == "row":
            target.append(list(target[action[1]]))
        elif action[0] == "sheet":
            del rows[s.name]
        text = action[1] if action[0] == "text" else None
        if action[0] == "cell":
            target[i][j] = action[1]
        if as_csv:  # the planted sheet, and the sheet its foreign key refers to (accepted)
            keep = {s.name} | ({s.fk[1]} if s.fk else set())
            written_files = csv_files(draw, sheets, {k: rows[k] for k in keep}, prog, county,
                                      (s.name, i, j, text) if text is not None else None)  # fmt: skip
            planted = next(f for f in written_files if s.name in f.sheets)
            name = planted.sheets[s.name][0]
        else:
            book = draw(workbook(sheets, rows, prog, False))
            if text is not None:
                book[s.name][2][i][j] = text
            planted = Submission(f"{county}.xlsx", county, book, Expect())
            written_files = [planted]
            name = book[s.name][0] if s.name in book else s.label
        planted.expect = Expect(fault=(rule, name if rule != "SHEET.MISSING" else s.label,
                                       None if i is None else i + 2,
                                       None if col is None else col.title))  # fmt: skip
        files += written_files

    target_sheet = draw(st.sampled_from(sheets))
    measured = {"id": "records", "level1": "项目产出", "level2": "产出数量",
                "name": f"{target_sheet.label}记录数", "kind": "higher", "target": 10,
                "unit": "条", "metric": f"SELECT count(*) FROM {target_sheet.name}"}  # fmt: skip
    judged = {"id": "basis", "level1": "项目决策", "level2": "项目立项", "name": "立项依据充分性",
              "kind": "qualitative", "score": 8, "reason": "立项依据充分。"}  # fmt: skip
    indicators = draw(st.sampled_from([
        [judged | {"weight": 100, "score": 90}], [measured | {"weight": 100}],
        [judged | {"weight": 40, "score": 30}, measured | {"weight": 60}],
    ]))  # fmt: skip
    return Case(
        code, f"{code} 康复服务补助项目", prog, sheets, draw(st.booleans()), indicators, files
    )


def csv_files(draw, sheets: list[Sheet], rows: dict[str, list[list[object]]], prog: Prog,
              county: str, text: tuple | None = None) -> list[Submission]:  # fmt: skip
    """One valid CSV per sheet of ``rows`` in the county's folder (named by its code or its
    name); ``text``: (sheet, row index, column index, text) typed into one cell."""
    folder = draw(st.sampled_from([county, prog.counties[county]]))
    book = draw(workbook(sheets, rows, prog, True))
    out = []
    for key, (name, header, cells) in book.items():
        if text and text[0] == key:
            cells[text[1]][text[2]] = text[3]
        out.append(Submission(f"{folder}/{name}.csv", county, {key: (name, header, cells)},
                              Expect(rows={key: rows[key]})))  # fmt: skip
    return out


# --- broken templates ---------------------------------------------------------------------------


def _takes(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether DuckDB takes ``name`` unquoted as a table and a column, as jixiao's SQL uses them."""
    try:
        con.execute(f"CREATE TABLE {name} (x INTEGER, {name} INTEGER)")
        con.execute(f"INSERT INTO {name} BY NAME SELECT 1 AS x, 2 AS {name}")
        con.execute(f"SELECT count(*), sum({name}), list(concat_ws(chr(31), {name})) FROM {name}")
        con.execute(f"DELETE FROM {name} WHERE x = 2 AND list_contains([1], x)")
        return True
    except duckdb.Error:
        return False
    finally:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')


with duckdb.connect() as _con:
    UNUSABLE = [k for k in KEYWORDS if not _takes(_con, k)]
BREAKS = ["keyword_sheet", "keyword_field", "duplicate_field", "title_is_a_name",
          "foreign_key_to_nowhere", "bound_on_text", "hash_column_taken",
          "missing_shared_template"]  # fmt: skip


@dataclass
class Broken:
    case: Case
    sheets: list[dict]  # the declarations, broken (none: the shared template is missing)
    names: str  # what the refusal must name
    where: str  # "programme" or "template": the file the refusal names


def _rename(sheets: list[dict], old: str, new: str, field_of: str | None = None) -> None:
    """A sheet (``field_of`` None) or a field of sheet ``field_of`` renamed everywhere."""
    for s in sheets:
        if field_of is None and s["name"] == old:
            s["name"] = new
        for fk in s.get("foreignKeys", []):
            ref = fk["reference"]
            if field_of is None and ref["resource"] == old:
                ref["resource"] = new
            if field_of is not None:
                if s["name"] == field_of:
                    fk["fields"] = [new if f == old else f for f in fk["fields"]]
                if ref["resource"] == field_of:
                    ref["fields"] = [new if f == old else f for f in ref["fields"]]
        if field_of is not None and s["name"] == field_of:
            s["primaryKey"] = [new if f == old else f for f in s.get("primaryKey", [])]
            for f in s["fields"]:
                if f["name"] == old:
                    f["name"] = new


@st.composite
def broken(draw, avoid_codes: frozenset[str] = frozenset()) -> Broken:
    """A programme whose template breaks exactly one rule of SPEC §1.4 (or names a shared
    template that is not there)."""
    year = draw(st.integers(2015, 2030))
    code = draw(st.from_regex(r"[a-z][a-z0-9]{1,7}-x[0-9]{1,3}", fullmatch=True)
                .filter(lambda c: c not in avoid_codes))  # fmt: skip
    sheets = draw(templates(year, False))
    judged = {"id": "basis", "level1": "项目决策", "level2": "项目立项", "name": "立项依据充分性",
              "weight": 100, "kind": "qualitative", "score": 90, "reason": "立项依据充分。"}  # fmt: skip
    case = Case(code, f"{code} 服务项目", Prog(year, {"530102": "五华区"}, {"main": "主要经费"}),
                sheets, draw(st.booleans()), [judged], [])  # fmt: skip
    decls = [s.decl() for s in sheets]
    kind = draw(st.sampled_from(BREAKS))
    s = draw(st.sampled_from(decls))
    fields = s["fields"]
    taken = {f["name"] for d in decls for f in d["fields"]} | {d["name"] for d in decls}
    fresh = draw(RAW_NAMES.filter(lambda n: _usable(n, frozenset(taken))))
    if kind == "keyword_sheet":
        names = draw(st.sampled_from(UNUSABLE))
        _rename(decls, s["name"], names)
    elif kind == "keyword_field":
        names = draw(st.sampled_from(UNUSABLE))
        _rename(decls, draw(st.sampled_from(fields))["name"], names, field_of=s["name"])
    elif kind == "duplicate_field":
        twin = draw(st.sampled_from(fields))
        fields.append(twin | {"title": twin["title"] + "（副本）"})
        names = twin["name"]
    elif kind == "title_is_a_name":  # a header that could be either column
        fields.append({"name": fresh, "title": draw(st.sampled_from(fields))["name"]})
        names = fields[-1]["title"]
    elif kind == "foreign_key_to_nowhere":
        names = fresh
        own = next((f["name"] for f in fields if "personal" not in f), None)
        if own is None:  # a foreign key never starts from personal data
            own = fresh + "_ref"
            fields.append({"name": own, "title": "引用编号"})
        s["foreignKeys"] = [{"fields": [own], "reference": {"resource": fresh, "fields": [own]}}]
    elif kind == "bound_on_text":
        text = [f for f in fields if f.get("type", "string") == "string" and "format" not in f
                and "enum" not in f.get("constraints", {})]  # fmt: skip
        if not text:
            text = [{"name": fresh, "title": "备用文本"}]
            fields.append(text[0])
        target = draw(st.sampled_from(text))
        bound = draw(st.sampled_from(["minimum", "maximum", "exclusiveMinimum"]))
        target["constraints"] = target.get("constraints", {}) | {bound: draw(st.integers(0, 9))}
        names = target["name"]
    elif kind == "hash_column_taken":
        hashed = [f for f in fields if f.get("personal") == "hash"]
        if not hashed:
            hashed = [{"name": fresh + "_no", "title": "联系电话", "personal": "hash"}]
            fields.append(hashed[0])
        names = hash_column(draw(st.sampled_from(hashed))["name"])
        fields.append({"name": names, "title": "散列备注"})
    else:
        names = case.template_name
        case.shared = True
        decls = []
    where = "template" if case.shared and decls else "programme"
    return Broken(case, decls, names, where)


# --- laying programmes out and reading what intake made of them -------------------------------


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:  # programme.yaml refuses aliases
        return True


def _dump(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")


def lay_out(case: Case, raw: Path, sheets: list[dict] | None = None) -> Path:
    """data/raw/<year>/<code>/ with programme.yaml (and templates/NAME.yaml when shared) and
    the case's county files; ``sheets`` replaces the declarations (a broken template; none at
    all: a shared template that is not there)."""
    folder = raw / str(case.prog.year) / case.code
    decls = [s.decl() for s in case.sheets] if sheets is None else sheets
    data = case.yaml()
    if not case.shared:
        data["sheets"] = decls
    elif decls:
        _dump({"sheets": decls}, raw / "templates" / f"{case.template_name}.yaml")
    _dump(data, folder / "programme.yaml")
    for sub in case.files:
        path = folder / "counties" / sub.path
        if path.suffix == ".xlsx":
            write_workbook(
                path, {name: (header, cells) for name, header, cells in sub.sheets.values()}
            )
        else:
            [(_, header, cells)] = sub.sheets.values()
            write_csv(path, header, cells)
    return folder


def query(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def aggregates(sheet: Sheet, key: bytes) -> list[tuple[str, object]]:
    """(SQL over the sheet's table, the same over the typed rows) for what the warehouse must
    hold of the sheet: rows, exact sums, counts of true, first and last dates, distinct values;
    identifiers only as keyed hashes of their upper-case form."""
    distinct = "list(DISTINCT {0} ORDER BY {0}) FILTER (WHERE {0} IS NOT NULL)"
    first_id = next((c for c in sheet.cols if c.kind in ("resident_id", "cert")), None)
    out: list[tuple[str, object]] = [("count(*)", len)]
    for j, c in enumerate(sheet.cols):

        def of(fn, j=j):  # fn over the column's values that are not blank; None if none is
            return lambda rows: fn(vs) if (vs := [r[j] for r in rows if r[j] is not None]) else None

        def hashes(vs, c=c):
            return sorted({cert_hash(key, v if c.kind == "secret" else v.upper()) for v in vs})

        if c.type in ("integer", "number", "money"):
            out.append((f"sum({c.name})", of(sum)))
        elif c.type == "boolean":
            out.append(
                (
                    f"count(*) FILTER (WHERE {c.name})",
                    lambda rows, j=j: sum(r[j] is True for r in rows),
                )
            )
        elif c.type == "date":
            out += [(f"min({c.name})", of(min)), (f"max({c.name})", of(max))]
        elif c.hashed:
            out.append((distinct.format(hash_column(c.name)), of(hashes)))
            if c is first_id:  # the first ID keeps the region the checks need (SPEC §4)
                out.append(
                    (distinct.format("region_code"), of(lambda vs: sorted({v[:6] for v in vs})))
                )
        elif c.kind != "name":
            out.append((distinct.format(c.name), of(lambda vs: sorted(set(vs)))))
    return out


def check_intake(con: duckdb.DuckDBPyConnection, case: Case, feedback: Path, key: bytes) -> None:
    """Every valid file accepted with exactly its rows and sums; every planted fault refused
    with its rule at its sheet, row and column, and a feedback page; personal columns as
    declared; nothing else in the programme's tables."""
    scope = [case.code, case.prog.year]
    log = {row["file"]: row for row in query(
        con, "SELECT * FROM ingest_log WHERE programme_code = ? AND year = ?", *scope)}  # fmt: skip
    assert sorted(log) == sorted(f"counties/{sub.path}" for sub in case.files)
    loaded: dict[str, int] = {}
    for sub in case.files:
        file = f"counties/{sub.path}"
        entry, errors = log[file], json.loads(log[file]["errors"])
        if sub.expect.fault is None:
            assert entry["status"] == "accepted", (file, errors)
            assert entry["rows_loaded"] == sum(map(len, sub.expect.rows.values()))
            if file.endswith(".xlsx"):
                assert sorted(entry["sheets_absent"]) == sub.expect.absent
            for sheet_key, rows in sub.expect.rows.items():
                sheet = case.sheet(sheet_key)
                sql, expected = zip(*aggregates(sheet, key), strict=True)
                got = con.execute(f"SELECT {', '.join(sql)} FROM {sheet_key} WHERE programme_code = ? "
                                  "AND year = ? AND source_file = ?", [*scope, file]).fetchone()  # fmt: skip
                got = dict(zip(sql, got, strict=True))
                want = {s: e(rows) for s, e in zip(sql, expected, strict=True)}
                assert got == want, (file, {k: (got[k], want[k]) for k in got if got[k] != want[k]})
                loaded[sheet_key] = loaded.get(sheet_key, 0) + len(rows)
            continue
        rule, sheet_name, row, column = sub.expect.fault
        assert (entry["status"], entry["rows_loaded"]) == ("refused", 0), (file, sub.expect.fault)
        assert entry["error_count"] == len(errors) >= 1
        assert {e["rule_id"] for e in errors} == {rule}, (file, sub.expect.fault, errors)
        where = [(e["sheet"], e["row"], e["column"]) for e in errors]
        assert (sheet_name, row, column) in where, (file, sub.expect.fault, errors)
        message = errors[where.index((sheet_name, row, column))]["message"]
        page = (feedback / entry["feedback_file"]).read_text(encoding="utf-8")
        assert page.startswith(f"# 报送文件退回说明：{md_text(file)}\n")
        assert f"| {md_text(sheet_name or '')} | {row or ''} | {md_text(column or '')} | " in page
        assert md_text(message) in page
    for sheet in case.sheets:
        columns = {c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [sheet.name]).fetchall()}  # fmt: skip
        for c in sheet.cols:
            if c.hashed:
                assert c.name not in columns and hash_column(c.name) in columns
            elif c.kind == "name":
                assert c.name not in columns
            else:
                assert c.name in columns
        # No identifier, phone number or name in clear in any text column of the sheet.
        clear = sorted({v for sub in case.files for rows in [sub.expect.rows.get(sheet.name, [])]
                        for r in rows for c, v in zip(sheet.cols, r, strict=True)
                        if v is not None and (c.hashed or c.kind == "name")})  # fmt: skip
        text = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND data_type = 'VARCHAR'",
            [sheet.name]).fetchall()]  # fmt: skip
        if clear:
            hits = con.execute(f"SELECT count(*) FROM {sheet.name} WHERE "
                               + " OR ".join(f"list_contains($clear, upper({c}))" for c in text),
                               {"clear": [v.upper() for v in clear]}).fetchone()  # fmt: skip
            assert hits == (0,)
        total = con.execute(f"SELECT count(*) FROM {sheet.name} WHERE programme_code = ? AND year = ?",
                            scope).fetchone()[0]  # fmt: skip
        assert total == loaded.get(sheet.name, 0)


def measured_rows(case: Case) -> int | None:
    """The measurable indicator's value: the rows of its sheet in accepted files."""
    ind = next((i for i in case.indicators if i["id"] == "records"), None)
    if ind is None:
        return None
    sheet = ind["metric"].rsplit(" ", 1)[1]
    return sum(
        len(sub.expect.rows.get(sheet, [])) for sub in case.files if sub.expect.fault is None
    )


def expected_total(case: Case) -> Decimal:
    """The programme's score (SCORING.md): a qualitative indicator scores what the auditor gave;
    "records" (higher, target 10) its weight × min(rows / 10, 1), to the cent."""
    total = Decimal(0)
    for ind in case.indicators:
        if ind["kind"] == "qualitative":
            total += ind["score"]
        else:
            share = min(Decimal(measured_rows(case)) / ind["target"], Decimal(1))
            total += (ind["weight"] * share).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return total


# --- the tests ----------------------------------------------------------------------------------

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
        HealthCheck.filter_too_much]  # fmt: skip
# An example is a whole programme with its files: shrinking one takes minutes. A failure is
# reported as drawn (Hypothesis prints it, and replays it first on the next run).
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW, phases=NO_SHRINK)
@given(cases())
def test_generated_programmes_intake(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = lay_out(case, root / "raw")
        programme = load_programme_folder(folder)
        with duckdb.connect(str(root / "warehouse.duckdb")) as con:
            create_tables(con, programme)
            ctx = Context(programme, con, KEY, "t", root / "feedback")
            for _ in process(submissions(folder, programme.county_template), ctx):
                pass
            check_intake(con, case, root / "feedback", KEY)
            metrics = {m.indicator_id: m.value for m in compute_metrics(con, programme, "t")}
        if (rows := measured_rows(case)) is not None:
            assert metrics == {"records": rows}
        else:
            assert metrics == {}


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW, phases=NO_SHRINK)
@given(broken())
def test_broken_templates_are_refused(b: Broken) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        folder = lay_out(b.case, raw, b.sheets)
        with pytest.raises(ProgrammeError) as refused:
            load_programme_folder(folder)
    message = str(refused.value)
    named = (
        raw / "templates" / f"{b.case.template_name}.yaml"
        if b.where == "template"
        else folder / "programme.yaml"
    )
    assert message.startswith(str(named)), message
    assert f"「{b.names}」" in message or b.names in message.split("：")[-1], message
    assert "\n" not in message and re.search("[\u4e00-\u9fff]", message)


def test_every_name_a_template_accepts_is_usable_in_sql() -> None:
    """Every DuckDB keyword as the name of a sheet and of its key field, referred to by another
    sheet's foreign key: refused (naming it), or taken by every statement jixiao runs over a
    sheet — tables, insert, the ledger of keys, metrics, deletes. Accepted keywords go through
    in programmes of 25 sheets, one metric each."""
    accepted = []
    for word in KEYWORDS:
        try:
            TemplateDecl.model_validate({"sheets": [{"name": word, "fields": [{"name": word}]}]})
        except ValueError as exc:
            assert f"「{word}」" in str(exc), str(exc)
        else:
            accepted.append(word)
    assert not set(accepted) & set(UNUSABLE)
    assert len(accepted) > 300  # the unreserved keywords are names like any other
    con = duckdb.connect()
    create_tables(con)
    for start in range(0, len(accepted), 25):
        words = accepted[start : start + 25]
        sheets = [
            {"name": w, "title": f"名单{i}", "primaryKey": [w],
             "fields": [{"name": w, "title": "编号", "constraints": {"required": True}},
                        {"name": "amount", "title": "金额", "type": "money"}]}
            for i, w in enumerate(words)
        ] + [{"name": "kid", "title": "明细", "fields": [{"name": w} for w in words],
              "foreignKeys": [{"fields": [w], "reference": {"resource": w, "fields": [w]}}
                              for w in words]}]  # fmt: skip
        weights = [100 // len(words) + (i < 100 % len(words)) for i in range(len(words))]
        indicators = [{"id": f"n{i}", "level1": "产出", "level2": "数量", "name": f"{w}记录数",
                       "weight": weight, "kind": "higher", "target": 1, "unit": "条",
                       "metric": f"SELECT sum(amount) FILTER (WHERE {w} = '{w}') FROM {w}"}
                      for i, (w, weight) in enumerate(zip(words, weights, strict=True))]  # fmt: skip
        programme = Programme.model_validate({
            "code": "kw", "name": "关键字项目", "unit": "单位", "year": 2022,
            "counties": {"530102": "五华区"}, "budget_lines": [], "sheets": sheets,
            "indicators": indicators})  # fmt: skip
        create_sheet_tables(con, programme)
        lineage = pl.DataFrame({FILE: [0], "programme_code": ["kw"], "year": [2022],
                                "county_code": ["530102"], "source_file": ["counties/530102.xlsx"],
                                "source_sha256": ["0" * 64], "source_sheet": ["名单"]})  # fmt: skip
        for w in words:
            sheet = programme.county_template.sheets[w]
            frame = pl.DataFrame({w: [w], "amount": [Decimal("1.50")], FILE: [0], ROW: [2]})
            insert_rows(con, sheet, warehouse_rows(frame, sheet, lineage), KEY)
        ledger = Ledger.read(con, programme)
        ledger.hold(con, programme, ["530102"])
        assert ledger.keys == {(w, (w,)): {"530102": {w}} for w in words}
        assert ledger.loaded == {("530102", w) for w in words}
        assert {m.value for m in compute_metrics(con, programme, "t")} == {Decimal("1.5")}
        for w in words:
            delete_county_rows(con, w, programme, ["530102"])
            assert con.execute(f"SELECT count(*) FROM {w}").fetchone() == (0,)


@pytest.mark.flow
def test_generated_programmes_real_run(tmp_path: Path, prefect_api: str) -> None:
    """Three generated programmes (each with a fault of every rule planted in its own file) and
    three broken ones, beside the sample, in one data/raw and one `jixiao run`: the broken ones
    are skipped and named, the others ingested, audited and published."""
    valid: list[Case] = []
    bad: list[Broken] = []

    @settings(max_examples=3, database=None, deadline=None, suppress_health_check=SLOW)
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        taken = frozenset(s.name for c in valid for s in c.sheets)
        codes = frozenset(c.code for c in valid) | frozenset(b.case.code for b in bad)
        valid.append(data.draw(cases(rich=True, avoid=taken, avoid_codes=codes)))
        bad.append(data.draw(broken(avoid_codes=codes | {valid[-1].code})))

    collect()
    raw = tmp_path / "raw"
    for case in valid:
        lay_out(case, raw)
    for b in bad:
        lay_out(b.case, raw, b.sheets)
    # Beside the sample, as issue 11's check runs a new programme.
    sample = raw / "2022" / "530100-disability-employment"
    sample.mkdir(parents=True)
    shutil.copyfile(PROGRAMME_YAML, sample / "programme.yaml")

    done = jixiao_run(tmp_path, prefect_api)

    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    con = duckdb.connect(str(tmp_path / DB), read_only=True)
    [(status, skipped)] = con.execute("SELECT status, skipped FROM runs").fetchall()
    assert status == "partial"
    reasons = {s["programme"]: s["reason"] for s in json.loads(skipped)}
    assert sorted(reasons) == sorted(f"{b.case.prog.year}/{b.case.code}" for b in bad)
    for b in bad:
        reason = reasons[f"{b.case.prog.year}/{b.case.code}"]
        assert f"「{b.names}」" in reason or b.names in reason.split("：")[-1], reason
        assert re.sub(r"\s", "", reason) in re.sub(r"\s", "", done.stderr)  # named by the run
    key = load_or_create_key()
    feedback = (tmp_path / DB).parent / "feedback"
    for case in valid:
        check_intake(con, case, feedback, key)
        metrics = dict(con.execute("SELECT indicator_id, value FROM metrics WHERE programme_code = ?",
                                   [case.code]).fetchall())  # fmt: skip
        rows = measured_rows(case)
        assert metrics == ({} if rows is None else {"records": rows})
        assert con.execute("SELECT score FROM scores WHERE programme_code = ? AND level = 0",
                           [case.code]).fetchall() == [(expected_total(case),)]  # fmt: skip
        reports = tmp_path / "curated" / "reports" / str(case.prog.year) / case.code
        assert {"findings.json", "report.html", "report.md"} <= {p.name for p in reports.iterdir()}
    dictionary = (tmp_path / DB).with_name("DICTIONARY.md").read_text(encoding="utf-8")
    for sheet in (s for case in valid for s in case.sheets):  # read from the same declarations
        table = dictionary.split(f"## `{sheet.name}` — {sheet.label}\n", 1)[1].split("\n## ")[0]
        listed = set(re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE))
        assert {hash_column(c.name) if c.hashed else c.name for c in sheet.cols
                if c.kind != "name"} <= listed  # fmt: skip
        assert not {c.name for c in sheet.cols if c.hashed or c.kind == "name"} & listed
    planted = {f.expect.fault[0] for case in valid for f in case.files if f.expect.fault}
    assert planted == set(RULES)


# --- what the generated examples found, pinned --------------------------------------------------


def _intake_one(tmp_path: Path, sheets: list[dict], book: dict) -> duckdb.DuckDBPyConnection:
    """A programme of ``sheets`` with one county workbook, through intake into a new warehouse."""
    case = Case("pin", "固定项目", Prog(2022, {"530102": "五华区"}, {"main": "主要经费"}), [],
                False, [{"id": "basis", "level1": "项目决策", "level2": "项目立项", "name": "立项依据",
                         "weight": 100, "kind": "qualitative", "score": 90, "reason": "充分。"}], [])  # fmt: skip
    folder = lay_out(case, tmp_path / "raw", sheets)
    write_workbook(folder / "counties" / "530102.xlsx", book)
    programme = load_programme_folder(folder)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    create_tables(con, programme)
    [[outcome]] = process(submissions(folder, programme.county_template),
                          Context(programme, con, KEY, "t", tmp_path / "feedback"))  # fmt: skip
    assert outcome.status == "accepted"
    return con


def test_a_one_column_sheet_is_read_whole(tmp_path: Path) -> None:
    """A sheet of one declared column: each cell is one value, not cut into characters."""
    sheets = [
        {
            "name": "areas",
            "title": "地区",
            "fields": [{"name": "area", "title": "地区", "format": "county"}],
        }
    ]
    con = _intake_one(
        tmp_path, sheets, {"地区": (["地区", "备注"], [["530102", "已核实"], ["五华区", None]])}
    )
    assert con.execute("SELECT list(area ORDER BY source_row) FROM areas").fetchone() == (
        ["530102", "530102"],
    )


def test_an_id_hashes_the_same_in_every_column(tmp_path: Path) -> None:
    """A resident ID typed with a small x hashes as with X in a sheet's second ID column too, so
    that the same person has the same hash wherever the ID stands."""
    first17 = next(
        f"1101011990010112{d}"
        for d in range(10)
        if resident_id_check(f"1101011990010112{d}") == "X"
    )
    sheets = [{"name": "households", "title": "家庭", "fields": [
        {"name": "applicant_id", "title": "申请人身份证号", "format": "resident_id", "personal": "hash"},
        {"name": "guardian_id", "title": "监护人身份证号", "format": "resident_id", "personal": "hash"}]}]  # fmt: skip
    book = {"家庭": (["申请人身份证号", "监护人身份证号"], [[first17 + "x", first17 + "x"]])}
    con = _intake_one(tmp_path, sheets, book)
    assert con.execute("SELECT applicant_hash, guardian_hash FROM households").fetchall() == [
        (cert_hash(KEY, first17 + "X"),) * 2
    ]
