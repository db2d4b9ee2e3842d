"""The county workbook template (区县报送表 v1) as pandera contracts.

Each model is one sheet: the class name's ``Config.name`` is the sheet key,
``Config.title`` its Chinese name; each field is a column whose key is the
attribute name and whose Chinese header is its alias. ``metadata["rule"]`` is
the rule as the template states it, shown in feedback and in DICTIONARY.md.
Readers normalise values to these dtypes first; a cell that could not be read
arrives as null and is reported with its original text.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

import pandera.polars as pa
import polars as pl
from jixiao.schemas.identifiers import cert_no_valid, credit_code_valid

MONEY = pl.Decimal(18, 2)
ANSWERS = ["A", "B", "C", "D", "E"]
AWARDS = ["一等奖", "二等奖", "三等奖", "优秀奖", "未获奖"]


def _text(
    label: str, description: str, rule: str = "文本，不能为空", personal: str = "", **kw
) -> object:
    meta = {"rule": rule, "personal": personal} if personal else {"rule": rule}
    return pa.Field(alias=label, description=description, metadata=meta, **kw)


def _count(label: str, description: str) -> object:
    return pa.Field(alias=label, ge=0, description=description, metadata={"rule": "整数，≥ 0"})


def _money(label: str, description: str, positive: bool = False, **kw) -> object:
    bound = {"gt": Decimal(0)} if positive else {"ge": Decimal(0)}
    rule = "金额（元），> 0" if positive else "金额（元），≥ 0"
    return pa.Field(alias=label, description=description, metadata={"rule": rule}, **bound, **kw)


def _date(label: str, description: str, in_year: bool = True, age_on: bool = False) -> object:
    """``age_on``: the person's age on this date is what the warehouse keeps of the birth date
    that the certificate number carries (SPEC §4)."""
    rule = "日期，在项目年度内" if in_year else "日期"
    meta = {"rule": rule, "in_year": in_year} | ({"age_on": True} if age_on else {})
    return pa.Field(alias=label, description=description, metadata=meta)


class JobFairs(pa.DataFrameModel):
    fair_id: str = _text(
        "招聘会编号", "招聘会编号，在本区县本年度内唯一", unique=True, rule="文本，区县年度内唯一"
    )
    held_on: pl.Date = _date("举办日期", "招聘会举办日期")
    venue: str = _text("地点", "举办地点")
    employers: int = _count("参会用人单位数", "参会用人单位数")
    positions: int = _count("提供岗位数", "提供岗位数")
    jobseekers: int = _count("参会残疾人数", "参会残疾人数")
    intent_matches: int = pa.Field(
        alias="达成就业意向人数",
        ge=0,
        description="达成就业意向人数",
        metadata={"rule": "整数，0 ≤ 值 ≤ 参会残疾人数"},
    )
    spent_yuan: pl.Decimal(18, 2) = _money("支出金额(元)", "本场招聘会支出金额")

    @pa.dataframe_check(name="intent_matches_le_jobseekers")
    def _matches_within_jobseekers(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("达成就业意向人数") <= pl.col("参会残疾人数")).fill_null(True)
        )

    class Config:
        name = "job_fairs"
        title = "招聘会"


class FairEmployers(pa.DataFrameModel):
    fair_id: str = _text("招聘会编号", "所参加招聘会的编号", rule="须在「招聘会」表中存在")
    employer_name: str = _text("单位名称", "用人单位名称")
    credit_code: str = _text(
        "统一社会信用代码", "统一社会信用代码", rule="18 位，符合 GB 32100-2015 校验规则"
    )
    positions_for_disabled: int = _count("残疾人岗位数", "为残疾人提供的岗位数")
    intends_to_hire: bool = pa.Field(
        alias="有意向招聘残疾人", description="是否有意向招聘残疾人", metadata={"rule": "是 / 否"}
    )

    @pa.check("统一社会信用代码", name="credit_code_valid")
    def _credit_code(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(credit_code_valid(pl.col(data.key)))

    class Config:
        name = "fair_employers"
        title = "参会用人单位"


class _Person(pa.DataFrameModel):
    """The two personal columns that lead the 慰问 and 竞赛 sheets."""

    cert_no: str = _text(
        "残疾人证号",
        "残疾人证号（个人敏感信息，入库前加密散列）",
        rule="20 位：18 位身份证号（GB 11643 校验）+ 残疾类别 1–7 + 等级 1–4",
        personal="cert",
    )
    name: str = _text("姓名", "姓名（个人敏感信息，不入库）", personal="name")

    @pa.check("残疾人证号", name="cert_no_valid")
    def _cert_no(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(cert_no_valid(pl.col(data.key)))


class Visits(_Person):
    category: str = pa.Field(
        alias="人员类别",
        isin=["就业困难", "失业"],
        description="人员类别",
        metadata={"rule": "就业困难 / 失业"},
    )
    visited_on: pl.Date = _date("慰问日期", "慰问日期", age_on=True)
    amount_yuan: pl.Decimal(18, 2) = _money("慰问金额(元)", "慰问金额", positive=True)
    paid_via: str = pa.Field(
        alias="发放方式",
        isin=["现金", "银行转账"],
        description="发放方式",
        metadata={"rule": "现金 / 银行转账"},
    )

    class Config:
        name = "visits"
        title = "慰问"


class CompetitionEntries(_Person):
    event: str = _text("竞赛项目", "竞赛项目")
    held_on: pl.Date = _date("比赛日期", "比赛日期", age_on=True)
    award: str = pa.Field(
        alias="获奖等次", isin=AWARDS, description="获奖等次", metadata={"rule": " / ".join(AWARDS)}
    )

    class Config:
        name = "competition_entries"
        title = "竞赛"


def _answer(n: int) -> object:
    return pa.Field(
        alias=f"第{n}题",
        isin=ANSWERS,
        description=f"第{n}题的答案",
        metadata={"rule": "A / B / C / D / E（非常满意 … 很不满意）"},
    )


class SurveyResponses(pa.DataFrameModel):
    response_id: str = _text("问卷编号", "问卷编号", unique=True, rule="文本，唯一")
    answered_on: pl.Date = _date("填报日期", "填报日期", in_year=False)
    q1: str = _answer(1)
    q2: str = _answer(2)
    q3: str = _answer(3)
    q4: str = _answer(4)
    q5: str = _answer(5)
    q6: str = _answer(6)
    q7: str = _answer(7)
    q8: str = _answer(8)
    q9: str = _answer(9)
    q10: str = _answer(10)

    class Config:
        name = "survey_responses"
        title = "满意度问卷"


class Funds(pa.DataFrameModel):
    budget_line: str = pa.Field(
        alias="支出事项",
        description="支出事项（programme.yaml 的预算科目）",
        metadata={"rule": "programme.yaml 中的预算科目代码或名称", "budget_line": True},
    )
    allocated_yuan: pl.Decimal(18, 2) = _money("下达金额(元)", "下达金额")
    spent_yuan: pl.Decimal(18, 2) = _money("使用金额(元)", "使用金额")
    voucher_no: str = _text("凭证号", "凭证号", nullable=True, rule="文本，可空")

    class Config:
        name = "funds"
        title = "经费"


# Template order: job_fairs before fair_employers, whose rows reference it.
MODELS: tuple[type[pa.DataFrameModel], ...] = (
    JobFairs,
    FairEmployers,
    Visits,
    CompetitionEntries,
    SurveyResponses,
    Funds,
)


FILE = "_file"  # which file of a batch a row came from: keys are unique per file


@functools.cache
def contract(
    model: type[pa.DataFrameModel], year: int, budget_lines: tuple[str, ...]
) -> pa.DataFrameSchema:
    """The model's schema with the programme's year and budget lines filled in, for a frame
    holding the sheet of many files at once (column ``FILE``): a key is unique per file."""
    schema = model.to_schema()
    updates = {}
    checks = list(schema.checks)
    for label, column in schema.columns.items():
        meta = column.metadata or {}
        if meta.get("in_year"):
            in_year = pa.Check.in_range(dt.date(year, 1, 1), dt.date(year, 12, 31))
            updates[label] = {"checks": [*column.checks, in_year]}
        if meta.get("budget_line"):
            updates[label] = {"checks": [*column.checks, pa.Check.isin(list(budget_lines))]}
        if column.unique:
            updates[label] = {**updates.get(label, {}), "unique": False}
            checks.append(_unique_per_file(label))
    schema = schema.update_columns(updates)  # a copy: the model's own schema is shared
    schema.checks = checks
    return schema


def _unique_per_file(label: str) -> pa.Check:
    # Like pandera's own `unique` on polars, nulls count as duplicates of each other.
    return pa.Check(
        lambda data: data.lazyframe.select(~pl.col(label).is_duplicated().over(FILE)),
        name=f"unique:{label}",
    )


class Sheet:
    """A sheet of the template, described from its model."""

    def __init__(self, model: type[pa.DataFrameModel]):
        schema = model.to_schema()
        self.model = model
        self.key: str = schema.name
        self.title: str = schema.title
        self.labels: dict[str, str] = {}  # key -> Chinese label
        self.dtypes: dict[str, pl.DataType] = {}  # key -> polars dtype
        self.columns = schema.columns  # label -> pandera Column
        self.personal: dict[str, str] = {}  # key -> "cert" | "name"
        self.age_on: str | None = None  # the date a person's age is kept at (SPEC §4)
        for _, field in model.__fields__.values():
            self.labels[field.original_name] = field.alias
            self.dtypes[field.original_name] = schema.columns[field.alias].dtype.type
            if kind := (field.metadata or {}).get("personal"):
                self.personal[field.original_name] = kind
            if (field.metadata or {}).get("age_on"):
                self.age_on = field.original_name

    def key_of(self, label: str) -> str:
        return {v: k for k, v in self.labels.items()}[label]


SHEETS: dict[str, Sheet] = {s.key: s for s in map(Sheet, MODELS)}
# A sheet by either name a file may give it: its key or its Chinese title.
SHEET_BY_NAME: dict[str, Sheet] = {name: s for s in SHEETS.values() for name in (s.key, s.title)}
