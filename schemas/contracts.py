"""A programme's county template (schemas/template.py) compiled into pandera contracts.

One code path for every programme: a declared sheet becomes a `Sheet` (its columns by key,
Chinese labels, polars types, personal kinds, the rule each column states in feedback and
DICTIONARY.md), and `contract` builds its pandera schema for a programme year, cached per
sheet. Readers normalise values to the declared types first; a cell that could not be read
arrives as null and is reported with its original text (ingest/validate.py). Nothing here
names a sheet or column of any programme.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

import pandera.polars as pa
import polars as pl

from jixiao.ingest.normalise import clean_text
from jixiao.schemas.identifiers import cert_no_valid, credit_code_valid, resident_id_valid
from jixiao.schemas.template import FieldDecl, SheetDecl, TemplateDecl

MONEY = pl.Decimal(18, 2)
DTYPES: dict[str, pl.DataType] = {
    "string": pl.String,
    "integer": pl.Int64,
    "number": pl.Float64,
    "boolean": pl.Boolean,
    "date": pl.Date,
    "money": MONEY,
}
TYPE_NAMES = {"string": "文本", "integer": "整数", "number": "数值", "boolean": "是 / 否",
              "date": "日期", "money": "金额（元）"}  # fmt: skip
TYPE_NAMES_EN = {"string": "text", "integer": "a whole number", "number": "a number",
                 "boolean": "yes / no", "date": "a date", "money": "an amount of yuan"}  # fmt: skip
# What each format is called where a county reads it, and the rule it states.
FORMATS = {
    "resident_id": ("身份证号", "18 位身份证号，符合 GB 11643 校验规则"),
    "disability_cert": ("残疾人证号", "20 位：18 位身份证号（GB 11643 校验）+ 残疾类别 1–7 + 等级 1–4"),
    "credit_code": ("统一社会信用代码", "18 位，符合 GB 32100-2015 校验规则"),
    "county": ("区县", "本项目的区县代码或名称"),
}
FORMATS_EN = {
    "resident_id": ("resident ID number", "an 18-character resident ID number passing the GB "
                    "11643 check"),
    "disability_cert": ("disability certificate number", "20 characters: an 18-character "
                        "resident ID (GB 11643 check) + disability category 1–7 + grade 1–4"),
    "credit_code": ("unified social credit code", "18 characters passing the GB 32100-2015 "
                    "check"),
    "county": ("county", "a county code or name of this programme"),
}
_VALID = {"resident_id": resident_id_valid, "disability_cert": cert_no_valid,
          "credit_code": credit_code_valid}  # fmt: skip
_BOUNDS = (("minimum", "≥", "ge"), ("exclusiveMinimum", ">", "gt"),
           ("maximum", "≤", "le"), ("exclusiveMaximum", "<", "lt"))  # fmt: skip

FILE = "_file"  # which file of a batch a row came from: keys are unique per file


def _shown(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def rule_text(field: FieldDecl, labels: dict[str, str], lang: str = "zh") -> str:
    """The column's rule as a county reads it: 「整数，≥ 0」, 「就业困难 / 失业」 … (in English
    with ``lang`` en: "a whole number, ≥ 0")."""
    c, zh = field.constraints, lang == "zh"
    if field.format:
        parts = [(FORMATS if zh else FORMATS_EN)[field.format][1]]
    elif c.enum == "budget_lines":
        parts = ["programme.yaml 中的预算科目代码或名称" if zh
                 else "a budget line's code or name in programme.yaml"]  # fmt: skip
    elif c.enum:
        parts = [" / ".join(map(str, c.enum))]
    elif field.type == "boolean" and (field.trueValues or field.falseValues):
        parts = [" / ".join([*(field.trueValues or ["是"]), *(field.falseValues or ["否"])])]
    else:
        parts = [(TYPE_NAMES if zh else TYPE_NAMES_EN)[field.type]]
    parts += [f"{sign} {_shown(getattr(c, attr))}" for attr, sign, _ in _BOUNDS
              if getattr(c, attr) is not None]  # fmt: skip
    if field.atMost:
        parts.append(f"≤ {labels[field.atMost]}")
    if field.inYear:
        parts.append("在项目年度内" if zh else "inside the programme year")
    if c.minLength is not None or c.maxLength is not None:
        parts.append(f"长度 {c.minLength or 0}–{c.maxLength or '∞'} 个字符" if zh
                     else f"{c.minLength or 0}–{c.maxLength or '∞'} characters long")  # fmt: skip
    if c.pattern:
        parts.append(f"格式须符合 {c.pattern}" if zh else f"matching {c.pattern}")
    if c.unique:
        parts.append("在本表内唯一" if zh else "unique in the sheet")
    if zh:
        parts.append("不能为空" if c.required else "可空")
    else:
        parts.append("required" if c.required else "may be blank")
    return ("，" if zh else ", ").join(parts)


def _name_like(field: FieldDecl) -> bool:
    """A dropped column that holds people's names: what personal.sheet_names pairs with IDs."""
    return field.name == "name" or field.name.endswith("_name") or "姓名" in field.label


class Sheet:
    """A sheet of a template, compiled from its declaration."""

    def __init__(self, decl: SheetDecl):
        self.decl = decl
        self.key: str = decl.name
        self.title: str = decl.label
        self.required: bool = decl.required
        self.fields: dict[str, FieldDecl] = {f.name: f for f in decl.fields}
        self.labels: dict[str, str] = {f.name: f.label for f in decl.fields}
        self.dtypes: dict[str, pl.DataType] = {f.name: DTYPES[f.type] for f in decl.fields}
        self.rules: dict[str, str] = {f.name: rule_text(f, self.labels) for f in decl.fields}
        self.rules_en: dict[str, str] = {f.name: rule_text(f, self.labels, "en")
                                         for f in decl.fields}  # fmt: skip
        self.primary_key: tuple[str, ...] = tuple(decl.primaryKey)
        self.foreign_keys = [(tuple(fk.fields), fk.reference.resource, tuple(fk.reference.fields))
                             for fk in decl.foreignKeys]  # fmt: skip
        # key -> "cert" (a disability certificate), "id" (a resident ID), "hash" (anything
        # else hashed), "name" (a dropped name), "drop". The first certificate or ID keeps
        # what checks need (region, age, category, grade); others only their hash.
        self.personal: dict[str, str] = {}
        for f in decl.fields:
            if f.personal == "hash":
                person = {"disability_cert": "cert", "resident_id": "id"}.get(f.format or "")
                taken = any(k in ("cert", "id") for k in self.personal.values())
                self.personal[f.name] = person if person and not taken else "hash"
            elif f.personal == "drop":
                self.personal[f.name] = "name" if _name_like(f) else "drop"
        dates = [f for f in decl.fields if f.type == "date"]
        in_year = [f for f in dates if f.inYear]
        # The date a person's age is kept at, in place of the birth date (SPEC §4).
        self.age_on: str | None = (
            (in_year or dates)[0].name
            if dates and any(k in ("cert", "id") for k in self.personal.values())
            else None
        )
        # Text columns with no rule on what they hold (地点, 单位名称, 备注 …): anything may be
        # typed there, so they are masked (personal.mask_text) before they are stored.
        self.free_text: list[str] = [
            f.name
            for f in decl.fields
            if f.type == "string" and f.personal is None and not f.format
            and not f.constraints.enum and not f.constraints.pattern
        ]  # fmt: skip

    @functools.cached_property
    def totalled(self) -> list[str]:
        """The columns a total row (合计 / 小计 / 总计) is checked on: the numeric ones
        (integer, number, money) whose values the warehouse keeps (not personal)."""
        return [key for key, f in self.fields.items()
                if f.type in ("integer", "number", "money") and key not in self.personal]  # fmt: skip

    def key_of(self, label: str) -> str:
        return self._keys[label]

    @functools.cached_property
    def _keys(self) -> dict[str, str]:
        return {label: key for key, label in self.labels.items()}

    @property
    def words(self) -> set[str]:
        """The template's own words: never taken for a person's name."""
        words = {self.key, self.title, *self.labels, *self.labels.values()}
        for f in self.fields.values():
            if isinstance(f.constraints.enum, list):
                words |= {str(v) for v in f.constraints.enum}
            words |= {*(f.trueValues or ()), *(f.falseValues or ())}
        return words


class Template:
    """A programme's sheets, referenced sheets first (a workbook's rows are checked against
    the keys of the sheets it refers to)."""

    def __init__(self, decl: TemplateDecl):
        self.sheets: dict[str, Sheet] = {s.name: Sheet(s) for s in decl.ordered()}
        # A sheet by either name a file may give it, its key or its Chinese title, as the
        # readers clean names (NFKC: a title 康复（个人） is read as 康复(个人)).
        self.by_name: dict[str, Sheet] = {
            clean_text(name): s for s in self.sheets.values() for name in (s.key, s.title)
        }
        self.order: dict[str, int] = {key: i for i, key in enumerate(self.sheets)}

    @property
    def words(self) -> set[str]:
        return set().union(*(s.words for s in self.sheets.values()))

    @functools.cached_property
    def titles(self) -> dict[str, str]:
        """The Chinese titles of the sheets (by key) and of their columns (``sheet.column``)."""
        return {k: s.title for k, s in self.sheets.items()} | {
            f"{k}.{column}": label for k, s in self.sheets.items()
            for column, label in s.labels.items()
        }  # fmt: skip


@functools.cache
def _compiled(canonical: str) -> Template:
    return Template(TemplateDecl.model_validate_json(canonical))


def compile_template(decl: TemplateDecl) -> Template:
    """The template of a declaration, compiled once per distinct declaration: programmes and
    years that share a template share its contracts."""
    return _compiled(decl.model_dump_json())


def _typed(value: object, field: FieldDecl) -> object:
    if field.type == "integer":
        return int(value)
    if field.type == "number":
        return float(value)
    if field.type == "money":
        return Decimal(value).quantize(Decimal("0.01"))
    return value


def _expr_check(expr, name: str) -> pa.Check:
    """A vectorised check over one column; a null passes (``required`` says whether it may
    be null)."""
    return pa.Check(lambda data: data.lazyframe.select(expr(pl.col(data.key)).fill_null(True)),
                    name=name)  # fmt: skip


def _column_checks(field: FieldDecl, year: int, budget: tuple[str, ...],
                   counties: tuple[str, ...]) -> list[pa.Check]:  # fmt: skip
    c, checks = field.constraints, []
    for attr, _, op in _BOUNDS:
        if (bound := getattr(c, attr)) is not None:
            bound = _typed(bound, field)
            checks.append(_expr_check(lambda col, op=op, b=bound: getattr(col, op)(b), "range"))
    if c.enum == "budget_lines":
        checks.append(_expr_check(lambda col: col.is_in(list(budget)), "enum"))
    elif c.enum:
        # Text as the readers clean it: 社区康复（日间照料） is typed and read as 社区康复(日间照料).
        allowed = [_typed(v, field) if field.type != "string" else clean_text(str(v))
                   for v in c.enum]  # fmt: skip
        checks.append(_expr_check(lambda col: col.is_in(allowed), "enum"))
    if field.format == "county":
        checks.append(_expr_check(lambda col: col.is_in(list(counties)), "enum"))
    elif field.format:
        checks.append(_expr_check(lambda col: _VALID[field.format](col),
                                  "format"))  # fmt: skip
    if c.pattern:
        checks.append(_expr_check(lambda col: col.str.contains(f"^(?:{c.pattern})$"), "pattern"))
    if c.minLength is not None:
        checks.append(_expr_check(lambda col: col.str.len_chars() >= c.minLength, "length"))
    if c.maxLength is not None:
        checks.append(_expr_check(lambda col: col.str.len_chars() <= c.maxLength, "length"))
    if field.inYear:
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        checks.append(_expr_check(lambda col: col.is_between(first, last), "in_year"))
    return checks


def _unique(labels: list[str]) -> pa.Check:
    """Unique per file (a batch holds many files). As in Table Schema, an empty cell is not a
    value: blanks never duplicate each other (a primary key's fields are required anyway)."""
    keys = pl.struct(labels) if len(labels) > 1 else pl.col(labels[0])
    blank = pl.any_horizontal(pl.col(label).is_null() for label in labels)
    return pa.Check(
        lambda data: data.lazyframe.select(blank | ~keys.is_duplicated().over(FILE)),
        name="unique:" + "+".join(labels),
    )


def _at_most(label: str, other: str) -> pa.Check:
    return pa.Check(
        lambda data: data.lazyframe.select((pl.col(label) <= pl.col(other)).fill_null(True)),
        name=f"at_most:{label}",
    )


@functools.cache
def contract(sheet: Sheet, year: int, budget: tuple[str, ...],
             counties: tuple[str, ...]) -> pa.DataFrameSchema:  # fmt: skip
    """The sheet's schema for a programme year, its budget lines (codes) and its counties
    (codes and names), for a frame holding the sheet of many files at once (column ``FILE``),
    columns by their Chinese labels."""
    columns, checks = {}, []
    for key, field in sheet.fields.items():
        label = sheet.labels[key]
        columns[label] = pa.Column(
            sheet.dtypes[key],
            checks=_column_checks(field, year, budget, counties),
            nullable=not field.constraints.required,
            description=field.description,
        )
        if field.constraints.unique:
            checks.append(_unique([label]))
        if field.atMost:
            checks.append(_at_most(label, sheet.labels[field.atMost]))
    if sheet.primary_key:
        checks.append(_unique([sheet.labels[k] for k in sheet.primary_key]))
    return pa.DataFrameSchema(columns, checks=checks, name=sheet.key, title=sheet.title)
