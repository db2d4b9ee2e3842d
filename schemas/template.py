"""A programme's county template as data (SPEC §1.4): the sheets its counties submit.

Each sheet is a Frictionless Table Schema (fields with name, title, type and constraints;
primaryKey; foreignKeys) with jixiao's own properties: the ``money`` type, ``format`` (the
check characters of Chinese identifiers, a county), ``personal`` (hash or drop, SPEC §4),
``inYear``, ``atMost`` (a value no larger than another field of the row) and ``required``
per sheet. programme.yaml holds the list under ``sheets:`` or names a shared one with
``template: NAME`` (``data/raw/templates/NAME.yaml``). These are declarations only:
schemas/contracts.py compiles them into pandera contracts, schemas/warehouse.py into tables.

Every name becomes a table or column of the warehouse and part of SQL, so names are lower-case
identifiers, never an SQL keyword DuckDB does not take as a table or column name, never a column
jixiao adds itself, and no two fields of a sheet become the same warehouse column.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from jixiao.said import Invalid, Said

NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@functools.cache
def _reserved() -> frozenset[str]:
    """The keywords DuckDB reserves, and the type and function names its grammar does not take
    as an unquoted table or column name either (left, join, like, similar …); asked once, when
    a name is first checked: not at import, where a process capped in memory imports this
    module without ever reading a template."""
    import duckdb  # here, not above: see the docstring

    with duckdb.connect() as con:
        return frozenset(name for (name,) in con.execute(
            "SELECT keyword_name FROM duckdb_keywords() "
            "WHERE keyword_category IN ('reserved', 'type_function')"
        ).fetchall())  # fmt: skip


# Tables jixiao keeps itself (schemas/warehouse.py), and the columns it adds to a sheet's rows
# (scope, lineage, what a hashed identifier leaves): no sheet or field may take these names.
OWN_TABLES = frozenset(
    ["budget_lines", "ingest_log", "claims", "metrics", "scores", "findings", "finding_history", "reviews", "runs", "name_hashes", "stated_totals", "summary_rows"]
)
OWN_COLUMNS = frozenset(
    ["programme_code", "year", "county_code", "source_file", "source_sha256", "source_sheet", "source_row", "region_code", "age", "disability_category", "disability_grade"]
)


def _name(value: str) -> str:
    if not NAME.fullmatch(value):
        raise Invalid(f"「{value[:64]}」不是有效的名称：只能由小写英文字母、数字和下划线组成，以字母开头",
                      f"'{value[:64]}' is not a valid name: lower-case letters, digits and "
                      "underscores, starting with a letter")  # fmt: skip
    if value in _reserved():
        raise Invalid(f"「{value}」是 SQL 保留字，不能用作名称",
                      f"'{value}' is an SQL keyword and cannot be a name")
    return value


def _plain(value: str) -> str:
    if _CONTROL.search(value):
        raise Invalid("含有控制字符或双向控制符", "it holds control or bidirectional characters")
    return value


def excel_sheet_name(name: str) -> bool:
    r"""Whether Excel takes ``name`` as a sheet name: at most 31 characters, none of []:*?/\,
    no apostrophe at either end."""
    return len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name) and name.strip("'") == name


def _sheet_title(value: str) -> str:
    if not excel_sheet_name(value):  # a county must be able to name its sheet so
        raise Invalid(f"工作表标题「{value[:40]}」不能作为 Excel 工作表名（至多 31 个字符，不含 []:*?/\\）",
                      f"the sheet title '{value[:40]}' cannot name an Excel sheet (at most 31 "
                      "characters, none of []:*?/\\)")  # fmt: skip
    return value


def hash_column(key: str) -> str:
    """The warehouse column of a hashed field: cert_no → cert_hash, phone → phone_hash."""
    for suffix in ("_no", "_id", "_number", "_code"):
        if key.endswith(suffix) and len(key) > len(suffix):
            return key.removesuffix(suffix) + "_hash"
    return key + "_hash"


def _field_title(value: str) -> str:
    if value.startswith("_"):  # jixiao's own working columns (_file, _row) begin so
        raise Invalid(f"字段标题「{value[:40]}」不能以下划线开头",
                      f"the field title '{value[:40]}' cannot start with an underscore")
    return value


Name = Annotated[str, AfterValidator(_name)]
Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_plain)]
Bound = Decimal | dt.date
Scalar = Annotated[str, Field(max_length=200), AfterValidator(_plain)] | int | Decimal | bool


class Constraints(BaseModel):
    model_config = ConfigDict(extra="forbid")
    required: bool = False
    unique: bool = False
    minimum: Bound | None = None
    maximum: Bound | None = None
    exclusiveMinimum: Bound | None = None  # noqa: N815 - Table Schema's spelling
    exclusiveMaximum: Bound | None = None  # noqa: N815
    # A list of values, or ``budget_lines``: the programme's budget lines by code or name.
    enum: list[Scalar] | Literal["budget_lines"] | None = Field(None, min_length=1)
    pattern: Annotated[str, Field(max_length=500)] | None = None
    minLength: int | None = Field(None, ge=0)  # noqa: N815
    maxLength: int | None = Field(None, ge=1)  # noqa: N815

    @model_validator(mode="after")
    def _pattern_compiles(self) -> Constraints:
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise Invalid(f"pattern「{self.pattern}」不是有效的正则表达式：{exc}",
                              f"the pattern '{self.pattern}' is not a valid regular expression: "
                              f"{exc}") from None
        return self


class FieldDecl(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    title: Annotated[Text, AfterValidator(_field_title)] | None = None
    type: Literal["string", "integer", "number", "boolean", "date", "money"] = "string"
    format: Literal["resident_id", "disability_cert", "credit_code", "county"] | None = None
    constraints: Constraints = Constraints()
    personal: Literal["hash", "drop"] | None = None
    inYear: bool = False  # noqa: N815
    atMost: Name | None = None  # noqa: N815 - the value may not exceed this field's in the row
    description: Text | None = None
    trueValues: list[Text] | None = None  # noqa: N815
    falseValues: list[Text] | None = None  # noqa: N815

    @property
    def label(self) -> str:
        """The Chinese header a county sees: the title, else the key."""
        return self.title or self.name

    @model_validator(mode="after")
    def _fits_type(self) -> FieldDecl:
        string_only = {
            "format": self.format,
            "pattern": self.constraints.pattern,
            "minLength": self.constraints.minLength,
            "maxLength": self.constraints.maxLength,
            "personal": self.personal,
        }
        if self.type != "string":
            for key, value in string_only.items():
                if value is not None:
                    raise Invalid(f"字段「{self.name}」的 {key} 只适用于 string 类型",
                                  f"{key} of field '{self.name}' applies to type string only")
            if self.constraints.enum == "budget_lines":
                raise Invalid(f"字段「{self.name}」的 enum: budget_lines 只适用于 string 类型",
                              f"enum: budget_lines of field '{self.name}' applies to type string only")  # fmt: skip
        if self.inYear and self.type != "date":
            raise Invalid(f"字段「{self.name}」的 inYear 只适用于 date 类型",
                          f"inYear of field '{self.name}' applies to type date only")
        if (self.trueValues or self.falseValues) and self.type != "boolean":
            raise Invalid(f"字段「{self.name}」的 trueValues/falseValues 只适用于 boolean 类型",
                          f"trueValues/falseValues of field '{self.name}' apply to type boolean only")  # fmt: skip
        c = self.constraints
        bounds = (c.minimum, c.maximum, c.exclusiveMinimum, c.exclusiveMaximum)
        if any(b is not None for b in bounds) and self.type not in (
            "integer", "number", "money", "date"
        ):  # fmt: skip
            raise Invalid(f"字段「{self.name}」的取值范围只适用于数值、金额或日期",
                          f"the bounds of field '{self.name}' apply to numbers, money or dates only")  # fmt: skip
        for bound in bounds:
            if bound is not None and isinstance(bound, dt.date) != (self.type == "date"):
                raise Invalid(f"字段「{self.name}」的取值范围与其类型 {self.type} 不符",
                              f"the bounds of field '{self.name}' do not fit its type {self.type}")
        if self.personal == "hash" and self.name.endswith("_hash"):
            raise Invalid(f"散列字段「{self.name}」的名称不能以 _hash 结尾",
                          f"the hashed field '{self.name}' cannot have a name ending in _hash")
        return self


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resource: Name
    fields: list[Name] = Field(min_length=1)


class ForeignKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[Name] = Field(min_length=1)
    reference: Reference

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data):  # Table Schema allows a single field name as a string
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("fields"), str):
                data["fields"] = [data["fields"]]
            ref = data.get("reference")
            if isinstance(ref, dict) and isinstance(ref.get("fields"), str):
                data["reference"] = {**ref, "fields": [ref["fields"]]}
        return data


class SheetDecl(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    title: Annotated[Text, AfterValidator(_sheet_title)] | None = None
    description: Text | None = None
    required: bool = False
    primaryKey: list[Name] = []  # noqa: N815
    foreignKeys: list[ForeignKey] = []  # noqa: N815
    fields: list[FieldDecl] = Field(min_length=1, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _key_list(cls, data):
        if isinstance(data, dict) and isinstance(data.get("primaryKey"), str):
            data = {**data, "primaryKey": [data["primaryKey"]]}
        return data

    @property
    def label(self) -> str:
        return self.title or self.name

    @model_validator(mode="after")
    def _consistent(self) -> SheetDecl:
        if self.name in OWN_TABLES:
            raise Invalid(f"表名「{self.name}」是 jixiao 自用的表名",
                          f"the sheet name '{self.name}' is one of jixiao's own tables")
        names = [f.name for f in self.fields]
        labels = [f.label for f in self.fields]
        for seen, what in ((names, Said("字段名", "field names")),
                           (labels, Said("字段标题", "field titles"))):  # fmt: skip
            if dup := sorted({n for n in seen if seen.count(n) > 1}):
                raise Invalid(f"表「{self.name}」的{what.zh}重复：{'、'.join(dup)}",
                              f"sheet '{self.name}' repeats {what.en}: {', '.join(dup)}")
        # A header may be a field's title or its name: one that is both is two columns' header.
        clash = sorted({f.label for f in self.fields if f.label != f.name and f.label in names})
        if clash:
            raise Invalid(
                f"表「{self.name}」的字段标题与另一字段的名称相同：{'、'.join(clash)}",
                f"in sheet '{self.name}', a field's title is another field's name: "
                f"{', '.join(clash)}",
            )
        stored = [hash_column(f.name) if f.personal == "hash" else f.name
                  for f in self.fields if f.personal != "drop"]  # fmt: skip
        if dup := sorted({n for n in stored if stored.count(n) > 1}):
            raise Invalid(
                f"表「{self.name}」有多个字段存入仓库的同一列：{'、'.join(dup)}（散列字段存为 …_hash 列）",
                f"in sheet '{self.name}', several fields go to one warehouse column: "
                f"{', '.join(dup)} (a hashed field is stored as a …_hash column)",
            )
        fields = {f.name: f for f in self.fields}
        for f in self.fields:
            if f.name in OWN_COLUMNS:
                raise Invalid(f"表「{self.name}」的字段名「{f.name}」是 jixiao 自加的列名",
                              f"field '{f.name}' of sheet '{self.name}' is a column jixiao adds "
                              "itself")  # fmt: skip
            if f.atMost is not None:
                other = fields.get(f.atMost)
                if other is None or other.type != f.type or f.type not in (
                    "integer", "number", "money", "date"
                ):  # fmt: skip
                    raise Invalid(
                        f"表「{self.name}」字段「{f.name}」的 atMost 应指向本表同类型的数值、金额或日期字段",
                        f"atMost of field '{f.name}' of sheet '{self.name}' should name a number, "
                        "money or date field of the same type in this sheet",
                    )
        for key in self.primaryKey:
            if key not in fields:
                raise Invalid(f"表「{self.name}」的 primaryKey「{key}」不是本表的字段",
                              f"primaryKey '{key}' of sheet '{self.name}' is not a field of it")
            fields[key].constraints.required = True  # Table Schema: a key is never empty
        for fk in self.foreignKeys:
            for key in fk.fields:
                if key not in fields:
                    raise Invalid(f"表「{self.name}」的 foreignKeys「{key}」不是本表的字段",
                                  f"foreignKeys '{key}' of sheet '{self.name}' is not a field of it")  # fmt: skip
                if fields[key].personal:
                    raise Invalid(f"表「{self.name}」的 foreignKeys 不能使用个人信息字段「{key}」",
                                  f"foreignKeys of sheet '{self.name}' cannot use the personal "
                                  f"field '{key}'")  # fmt: skip
            if len(fk.fields) != len(fk.reference.fields):
                raise Invalid(f"表「{self.name}」的 foreignKeys 两边字段数不同",
                              f"the foreignKeys of sheet '{self.name}' have unequal sides")
        return self


class TemplateDecl(BaseModel):
    """The ``sheets:`` list, inline in programme.yaml or in a shared template file."""

    model_config = ConfigDict(extra="forbid")
    sheets: list[SheetDecl] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> TemplateDecl:
        by_name = {s.name: s for s in self.sheets}
        names = [s.name for s in self.sheets] + [s.title for s in self.sheets if s.title]
        if dup := sorted({n for n in names if names.count(n) > 1}):
            raise Invalid(f"模板的表名或标题重复：{'、'.join(dup)}",
                          f"the template repeats sheet names or titles: {', '.join(dup)}")
        for sheet in self.sheets:
            for fk in sheet.foreignKeys:
                target = by_name.get(fk.reference.resource)
                if target is None or target is sheet:
                    raise Invalid(
                        f"表「{sheet.name}」的 foreignKeys 应指向模板中的另一张表，"
                        f"而不是「{fk.reference.resource}」",
                        f"the foreignKeys of sheet '{sheet.name}' should name another sheet of "
                        f"the template, not '{fk.reference.resource}'",
                    )
                have = {f.name for f in target.fields if not f.personal}
                if missing := [k for k in fk.reference.fields if k not in have]:
                    raise Invalid(
                        f"表「{sheet.name}」的 foreignKeys 引用了「{target.name}」中没有的（或个人信息）字段："
                        f"{'、'.join(missing)}",
                        f"the foreignKeys of sheet '{sheet.name}' name fields '{target.name}' "
                        f"lacks (or personal ones): {', '.join(missing)}",
                    )
        self.ordered()
        return self

    def ordered(self) -> list[SheetDecl]:
        """The sheets with every referenced sheet before those referring to it (a workbook's
        rows are checked against the keys of sheets already read); a cycle is an error."""
        by_name = {s.name: s for s in self.sheets}
        done: dict[str, SheetDecl] = {}
        visiting: set[str] = set()

        def visit(sheet: SheetDecl) -> None:
            if sheet.name in done:
                return
            if sheet.name in visiting:
                raise Invalid(f"表「{sheet.name}」的 foreignKeys 形成循环引用",
                              f"the foreignKeys of sheet '{sheet.name}' refer in a circle")
            visiting.add(sheet.name)
            for fk in sheet.foreignKeys:
                visit(by_name[fk.reference.resource])
            done[sheet.name] = sheet

        for sheet in self.sheets:
            visit(sheet)
        return list(done.values())
