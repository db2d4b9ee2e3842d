"""programme.yaml (绩效目标表): budget lines, counties, indicator tree and targets.

programme.yaml is read as untrusted input, like a county file: it is a regular file (a
symbolic link is refused, not followed), within its size limit (jixiao/limits.py), YAML
without aliases (an
alias bomb expands a few KB into gigabytes), and every name that later becomes part of a
path, a key or an identifier matches a documented pattern (``CODE``, ``IDENTIFIER``,
``COUNTY``), so that nothing it declares can lead a write outside its folder or break a run
at its end. Its metric SQL is checked and sandboxed where it runs (scoring/metrics.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import stat
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Union, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from jixiao.ingest.normalise import clean_text
from jixiao.limits import Limits
from jixiao.said import Invalid, Said, SaidError
from jixiao.schemas.template import NAME, SheetDecl, TemplateDecl
from jixiao.schemas.vocabulary import VocabularyError, load_vocabulary

if TYPE_CHECKING:
    from jixiao.schemas.contracts import Template

# A programme code names a folder, a report path and a Prefect artifact key: lower-case
# letters and digits in groups joined by single hyphens, e.g. 530100-disability-employment.
CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
CODE_MAX = 64
# Indicator, fact and budget-line ids appear in subjects, fingerprints and file names.
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{0,63}")
COUNTY = re.compile(r"\d{6}")  # GB/T 2260
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class ProgrammeError(SaidError):
    """programme.yaml cannot be used: one sentence in Chinese and in English."""


def _matching(pattern: re.Pattern, says: Said):
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise Invalid(f"「{value[:80]}」不符合要求：{says.zh}",
                          f"'{value[:80]}' does not do: {says.en}")  # fmt: skip
        return value

    return AfterValidator(check)


def _plain(value: str) -> str:
    if _CONTROL.search(value):
        raise Invalid("含有控制字符或双向控制符", "it holds control or bidirectional characters")
    return value


Code = Annotated[
    str,
    Field(max_length=CODE_MAX),
    _matching(CODE, Said(
        "项目代码只能由小写英文字母和数字组成，可用单个连字符 - 连接，如 530100-disability-employment",
        "a programme code is lower-case letters and digits, joined by single hyphens, e.g. "
        "530100-disability-employment")),
]
Identifier = Annotated[
    str, _matching(IDENTIFIER, Said("id 只能由英文字母、数字和下划线组成，不超过 64 个字符",
                                    "an id is letters, digits and underscores, at most 64"))
]
County = Annotated[str, _matching(COUNTY, Said("区县代码应为 6 位数字（GB/T 2260）",
                                               "a county code is 6 digits (GB/T 2260)"))]
Text = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_plain)]
SQL = Annotated[str, Field(max_length=20_000)]


class BudgetLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Identifier
    name: Text
    amount_yuan: Decimal = Field(ge=0, decimal_places=2)


class Survey(BaseModel):
    """The satisfaction survey: the sheet its answers are on, one column per question (in
    the order the report numbers them), and the points each answer is worth."""

    model_config = ConfigDict(extra="forbid")
    sheet: Identifier
    questions: list[Identifier] = Field(min_length=1)
    weights: dict[Literal["A", "B", "C", "D", "E"], Decimal]

    @field_validator("questions", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        if isinstance(value, int):  # the count earlier versions took
            raise Invalid("应列出各题所在的列，如 [q1, q2, q3]，而不是题数",
                          "list each question's column, e.g. [q1, q2, q3], not their number")
        return value

    @model_validator(mode="after")
    def _questions_once(self) -> Survey:
        if twice := sorted({q for q in self.questions if self.questions.count(q) > 1}):
            raise Invalid(f"问题列 {'、'.join(twice)} 重复列出",
                          f"question columns {', '.join(twice)} are listed twice")
        return self


# --- record checks (SPEC §1.4): each entry names a catalogue rule and the columns it reads --


def _column(says: str, default: object = ...) -> object:
    """A parameter naming a column of the check's sheet (checked against the template)."""
    return Field(default, description=says, json_schema_extra={"column": True})


class RecordCheck(BaseModel):
    """A record check as programme.yaml declares it: the rule, the sheet, its parameters."""

    model_config = ConfigDict(extra="forbid")
    rule: str
    sheet: Identifier = Field(description="the sheet (its key) whose rows are checked")

    @classmethod
    def column_parameters(cls) -> tuple[str, ...]:
        """The parameters that name a column, declared or not."""
        return tuple(
            name for name, info in cls.model_fields.items()
            if (info.json_schema_extra or {}).get("column")
        )  # fmt: skip

    def columns(self) -> dict[str, str]:
        """The declared columns by parameter name."""
        return {p: column for p in self.column_parameters() if (column := getattr(self, p))}


class DuplicatePayment(RecordCheck):
    rule: Literal["RECORDS.DUPLICATE_PAYMENT"]
    person: Identifier = _column("the person's identity column (hashed in the warehouse)")
    date: Identifier | None = _column("the payment date: the first payment is the one due", None)
    amount: Identifier = _column("the money paid (type money)")


class OutOfCounty(RecordCheck):
    rule: Literal["RECORDS.OUT_OF_COUNTY"]
    person: Identifier = _column("the person's identity column; its first six digits: region")
    date: Identifier | None = _column("a date shown in the evidence", None)
    amount: Identifier | None = _column("the money at stake (type money)", None)


class AgeOutOfRange(RecordCheck):
    rule: Literal["RECORDS.AGE_OUT_OF_RANGE"]
    person: Identifier = _column("the person's identity column, which carries the birth date")
    date: Identifier = _column("the date the age is taken on (the warehouse keeps that age)")
    min: int = Field(ge=0, le=150, description="youngest age allowed, in whole years")
    max: int = Field(ge=0, le=150, description="oldest age allowed, in whole years")
    amount: Identifier | None = _column("the money at stake (type money)", None)

    @model_validator(mode="after")
    def _range(self) -> AgeOutOfRange:
        if self.min > self.max:
            raise Invalid(f"年龄下限 min {self.min} 大于上限 max {self.max}",
                          f"the youngest age, min {self.min}, is above the oldest, max {self.max}")
        return self


class AmountNotStandard(RecordCheck):
    rule: Literal["RECORDS.AMOUNT_NOT_STANDARD"]
    amount: Identifier = _column("the money paid per row (type money)")
    standard: Decimal = Field(ge=0, decimal_places=2, description="what each row pays, in yuan")


class CountedTwice(RecordCheck):
    rule: Literal["RECORDS.COUNTED_TWICE"]
    key: Identifier = _column("what must be counted once (a code, a number)")
    across: Identifier = _column("the occasion it is counted at, unique within a county")
    name: Identifier | None = _column("a column naming the item in findings", None)
    only: Identifier | None = _column("a boolean column: only rows where it is true count", None)


class OutsideYear(RecordCheck):
    rule: Literal["RECORDS.OUTSIDE_YEAR"]
    date: Identifier = _column("the activity date, inside the programme year")
    amount: Identifier | None = _column("the money at stake (type money)", None)


class AfterDeadline(RecordCheck):
    rule: Literal["RECORDS.AFTER_DEADLINE"]
    date: Identifier = _column("the activity date, due by the deadline")
    deadline: dt.date = Field(description="the last day the activity counts as on time")
    amount: Identifier | None = _column("the money at stake (type money)", None)


class Overspent(RecordCheck):
    rule: Literal["RECORDS.OVERSPENT"]
    line: Identifier = _column("the budget line (code or name of programme.yaml's budget_lines)")
    allocated: Identifier = _column("money allocated (type money)")
    spent: Identifier = _column("money spent (type money)")


_RULES = (DuplicatePayment, OutOfCounty, AgeOutOfRange, AmountNotStandard, CountedTwice,
          OutsideYear, AfterDeadline, Overspent)  # fmt: skip
CHECKS: dict[str, type[RecordCheck]] = {get_args(m.model_fields["rule"].annotation)[0]: m for m in _RULES}
Check = Annotated[Union[_RULES], Field(discriminator="rule")]  # noqa: UP007 (a tuple of types)


def _check_entries(entries: object) -> object:
    """Each entry's rule and parameters, said naming the entry, before pydantic types the
    values: an unknown rule or a missing parameter is a user's slip, not a validation
    detail."""
    if not isinstance(entries, list):
        return entries
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise Invalid(f"第 {n} 项应为键值映射（rule、sheet 及规则的参数）",
                          f"entry {n} should be a mapping (rule, sheet and the rule's parameters)")
        rule = entry.get("rule")
        if not isinstance(rule, str) or rule not in CHECKS:
            raise Invalid(
                f"第 {n} 项的规则「{str(rule)[:80]}」不在规则目录中，可用的规则：{'、'.join(CHECKS)}",
                f"the rule '{str(rule)[:80]}' of entry {n} is not in the catalogue; the rules: "
                f"{', '.join(CHECKS)}",
            )
        sheet = str(entry["sheet"])[:80] if "sheet" in entry else ""
        where = Said(f"第 {n} 项（{rule}{'，表 ' + sheet if sheet else ''}）",
                     f"entry {n} ({rule}{', sheet ' + sheet if sheet else ''})")
        fields = CHECKS[rule].model_fields
        if missing := [k for k, f in fields.items() if f.is_required() and k not in entry]:
            raise Invalid(f"{where.zh}缺少参数 {'、'.join(missing)}",
                          f"{where.en} lacks the parameters {', '.join(missing)}")
        if unknown := [str(k) for k in entry if k not in fields]:
            raise Invalid(
                f"{where.zh}有规则不认识的参数 {'、'.join(unknown)}，可用的参数：{'、'.join(fields)}",
                f"{where.en} has parameters the rule does not know, {', '.join(unknown)}; its "
                f"parameters: {', '.join(fields)}",
            )
    return entries


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Identifier
    level1: Text
    level2: Text
    name: Text
    weight: Decimal = Field(gt=0)
    kind: Literal["higher", "lower", "equal", "deadline", "qualitative", "budget_execution"]
    target: Decimal | dt.date | None = None
    unit: Text | None = None
    metric: SQL | None = None  # one SELECT over the programme's tables, one value
    late: Literal["zero", "per_day"] | None = None
    score: Decimal | None = None  # qualitative: the auditor's score
    reason: Text | None = None
    subject: Identifier | None = None  # the report vocabulary's subject; read from the name if absent

    @model_validator(mode="after")
    def _kind_fields(self) -> Indicator:
        if self.kind == "qualitative":
            if self.score is None or not self.reason:
                raise Invalid(f"定性指标「{self.name}」须给出评分 score 和理由 reason",
                              f"the qualitative indicator '{self.name}' needs a score and a reason")
        elif self.target is None or not self.metric:
            raise Invalid(f"指标「{self.name}」须给出目标值 target 和度量 metric",
                          f"the indicator '{self.name}' needs a target and a metric")
        return self


class Fact(BaseModel):
    """A figure the records measure and reports state, but no indicator scores
    (the number of counties that held job fairs): named SQL, like an indicator's metric."""

    model_config = ConfigDict(extra="forbid")
    id: Identifier
    name: Text
    subject: Identifier  # the report vocabulary's subject
    unit: Text
    metric: SQL


class Programme(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    name: Text
    unit: Text
    year: int = Field(ge=2000, le=2100)
    counties: dict[County, Text]
    budget_lines: list[BudgetLine]
    survey: Survey | None = None
    # The county template (SPEC §1.4): its sheets inline, or the name of a shared template
    # under data/raw/templates/, whose sheets load_programme reads in here.
    template: Annotated[str, _matching(NAME, Said(
        "模板名只能由小写英文字母、数字和下划线组成",
        "a template name is lower-case letters, digits and underscores"))] | None = None
    sheets: list[SheetDecl] | None = None
    checks: Annotated[list[Check], BeforeValidator(_check_entries)] = []
    indicators: list[Indicator]
    facts: list[Fact] = []
    vocabulary: dict | None = None  # extends the shared report vocabulary (schemas/vocabulary.yaml)

    @model_validator(mode="after")
    def _one_template(self) -> Programme:
        if not self.sheets:
            raise Invalid(
                "未声明区县报送模板：请在 sheets 下列出各表，或用 template 指定 "
                "data/raw/templates/ 下的共享模板",
                "no county template is declared: list its sheets under sheets, or name a "
                "shared template of data/raw/templates/ with template",
            )
        TemplateDecl(sheets=self.sheets)  # sheets that refer to each other must agree
        sheets = self.county_template.sheets
        if missing := declared_columns_missing(self, {k: set(s.fields) for k, s in sheets.items()}):
            raise Invalid(*missing[0])
        for n, check in enumerate(self.checks, 1):
            person, sheet = getattr(check, "person", None), sheets[check.sheet]
            where = Said(f"checks 第 {n} 项（{check.rule}）", f"checks entry {n} ({check.rule})")
            kind = sheet.personal.get(person)
            if person and kind not in ("cert", "id", "hash"):
                raise Invalid(f"{where.zh}：person 应为表 {check.sheet} 中 personal: hash 的列",
                              f"{where.en}: person should be a personal: hash column of sheet "
                              f"{check.sheet}")  # fmt: skip
            if isinstance(check, AgeOutOfRange | OutOfCounty) and kind not in ("cert", "id"):
                raise Invalid(
                    f"{where.zh}：person 应为表 {check.sheet} 中 format 为 resident_id 或 "
                    f"disability_cert 的第一个散列证件列（其前 6 位与出生日期才入库）",
                    f"{where.en}: person should be the first hashed identity column of sheet "
                    f"{check.sheet} whose format is resident_id or disability_cert (only its "
                    "first 6 digits and birth date are stored)",
                )
            if isinstance(check, AgeOutOfRange) and check.date != sheet.age_on:
                raise Invalid(
                    f"{where.zh}：仓库按表 {check.sheet} 的 {sheet.age_on}（第一个 inYear 日期列）"
                    f"保存年龄，date 应为 {sheet.age_on}",
                    f"{where.en}: the warehouse keeps ages on {sheet.age_on} of sheet "
                    f"{check.sheet} (its first inYear date column), so date should be "
                    f"{sheet.age_on}",
                )
        return self

    @functools.cached_property
    def county_template(self) -> Template:
        """The compiled template (schemas/contracts.py), shared by programmes declaring the same.
        Imported here, not above: reading a report alone (check-report) needs the programme
        but not pandera, and runs in processes capped in memory."""
        from jixiao.schemas.contracts import compile_template

        return compile_template(TemplateDecl(sheets=self.sheets))

    @property
    def codes(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The budget-line codes and the county codes: what the contracts accept."""
        return tuple(b.code for b in self.budget_lines), tuple(self.counties)

    @model_validator(mode="after")
    def _weights_sum_to_100(self) -> Programme:
        total = sum(i.weight for i in self.indicators)
        if total != 100:
            raise Invalid(f"指标权重合计为 {total}，应为 100",
                          f"the indicators' weights add up to {total}, not 100")
        ids = [i.id for i in self.indicators] + [f.id for f in self.facts]
        if len(ids) != len(set(ids)):
            raise Invalid("指标与事实的 id 有重复", "an id is given to two indicators or facts")
        try:
            load_vocabulary(self.vocabulary)
        except VocabularyError as exc:
            raise Invalid(str(exc).rstrip("。"), exc.en.rstrip(".")) from None
        return self

    def budget_line_code(self, text: str) -> str | None:
        """A budget line given by its code or its Chinese name (``text`` as the readers clean
        it, ingest/normalise.clean_text)."""
        for line in self.budget_lines:
            if text in (line.code, clean_text(line.name)):
                return line.code
        return None


def declared_columns_missing(programme: Programme, sheets: dict[str, set[str]]) -> list[Said]:
    """What the programme's checks and survey name that its template lacks, one sentence
    each; ``sheets`` maps each sheet key of the template to its column keys."""
    out = []
    named = [(Said(f"checks 第 {n} 项（{c.rule}）", f"checks entry {n} ({c.rule})"), c.sheet,
              {Said(p, p): column for p, column in c.columns().items()})
             for n, c in enumerate(programme.checks, 1)]  # fmt: skip
    if s := programme.survey:
        questions = {Said(f"questions 第 {n} 题", f"questions, question {n}"): q
                     for n, q in enumerate(s.questions, 1)}  # fmt: skip
        named.append((Said("survey", "survey"), s.sheet, questions))
    for where, sheet, columns in named:
        if sheet not in sheets:
            out.append(Said(f"{where.zh}：模板中没有表 {sheet}",
                            f"{where.en}: the template has no sheet {sheet}"))
            continue
        out += [Said(f"{where.zh}：表 {sheet} 中没有列 {column}（参数 {param.zh}）",
                     f"{where.en}: sheet {sheet} has no column {column} (parameter {param.en})")
                for param, column in columns.items() if column not in sheets[sheet]]  # fmt: skip
    return out


class _NoAliases(yaml.SafeLoader):
    """YAML without aliases: a programme.yaml never needs one, and nested aliases (the
    "billion laughs") expand a few KB into more memory than the machine has."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise _Alias(self.peek_event().start_mark.line + 1)
        return super().compose_node(parent, index)


class _Alias(yaml.YAMLError):
    """An alias at line ``line`` (1-based), which _NoAliases refuses."""

    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


def _read(path: Path) -> str:
    """The file's text: a regular file, not a link, within JIXIAO_MAX_PROGRAMME_KB."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if os.path.islink(path):
            raise ProgrammeError(f"{path} 是符号链接，不予跟随，请放置文件本身。",
                                 f"{path} is a symbolic link, not followed: put the file itself "
                                 "there.") from None
        raise ProgrammeError(f"无法读取 {path}：{exc.strerror}",
                             f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ProgrammeError(f"{path} 不是普通文件。", f"{path} is not a regular file.")
        limit_kb = Limits.from_env().programme_kb
        data = fh.read((limit_kb << 10) + 1)
    if len(data) > limit_kb << 10:
        raise ProgrammeError(
            f"{path} 超过 {limit_kb} KB（JIXIAO_MAX_PROGRAMME_KB），不像是一份绩效目标表。",
            f"{path} is over {limit_kb} KB (JIXIAO_MAX_PROGRAMME_KB): not a programme's targets.",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProgrammeError(f"{path} 不是 UTF-8 编码的文本。",
                             f"{path} is not text in UTF-8.") from None


def _one_line(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())


def _yaml(path: Path) -> object:
    text = _read(path)
    if (fast := getattr(yaml, "CSafeLoader", None)) is not None:
        # libyaml, when the wheel has it: several times faster on a national template. What
        # it refuses (an alias among them) is read again by _NoAliases, which says why.
        try:
            if not any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=fast)):
                return yaml.load(text, Loader=fast)
        except yaml.YAMLError:
            pass
    try:
        return yaml.load(text, Loader=_NoAliases)
    except _Alias as alias:
        raise ProgrammeError(
            f"{path} 不是有效的 YAML 文件：第 {alias.line} 行使用了 YAML 别名（*），不允许使用别名",
            f"{path} is not valid YAML: line {alias.line} uses a YAML alias (*); aliases are "
            "not allowed",
        ) from None
    except yaml.YAMLError as exc:
        raise ProgrammeError(f"{path} 不是有效的 YAML 文件：{_one_line(exc)}",
                             f"{path} is not valid YAML: {_one_line(exc)}") from None
    except RecursionError:
        raise ProgrammeError(f"{path} 嵌套层次过深，不是一份绩效目标表。",
                             f"{path} nests too deep: not a programme's targets.") from None


def _first_error(path: Path, exc: ValidationError) -> ProgrammeError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    error = first.get("ctx", {}).get("error")  # a validator's own words, in both languages
    msg_en = error.en if isinstance(error, Invalid) else msg
    return ProgrammeError(f"{path} 无效：{where + '：' if where else ''}{msg}",
                          f"{path} is invalid: {where + ': ' if where else ''}{msg_en}")


def _shared_template(programme_yaml: Path, name: str) -> list[dict]:
    """The sheets of ``data/raw/templates/NAME.yaml``, for the programme.yaml of
    ``data/raw/<year>/<code>/``, read as untrusted as programme.yaml itself."""
    path = programme_yaml.resolve().parents[2] / "templates" / f"{name}.yaml"
    if not path.exists() and not path.is_symlink():
        raise ProgrammeError(f"{programme_yaml} 引用的共享模板 {path} 不存在。",
                             f"the shared template {path} that {programme_yaml} names does not "
                             "exist.")  # fmt: skip
    data = _yaml(path)
    try:
        return TemplateDecl.model_validate(data).model_dump(exclude_unset=True)["sheets"]
    except ValidationError as exc:
        raise _first_error(path, exc) from None


def load_programme(path: Path) -> Programme:
    """Read and validate programme.yaml, or raise ProgrammeError with one clear sentence."""
    data = _yaml(path)
    if not isinstance(data, dict):
        raise ProgrammeError(f"{path} 无效：顶层应为键值映射（code、name、indicators …）。",
                             f"{path} is invalid: its top level should be a mapping (code, name, "
                             "indicators …).")  # fmt: skip
    if isinstance(name := data.get("template"), str) and NAME.fullmatch(name):
        if "sheets" in data:
            raise ProgrammeError(f"{path} 无效：sheets 与 template 只能二选一。",
                                 f"{path} is invalid: give sheets or template, not both.")
        data = data | {"sheets": _shared_template(path, name)}
    try:
        return Programme.model_validate(data)
    except ValidationError as exc:
        raise _first_error(path, exc) from None


def load_programme_folder(folder: Path) -> Programme:
    """The programme of ``data/raw/<year>/<code>/``, whose programme.yaml must name that year
    and code: the folder is where its reports and feedback are filed, and a copy of a
    programme under another year's folder must not pass for that year."""
    if folder.is_symlink() or folder.parent.is_symlink():
        raise ProgrammeError(f"{folder} 是符号链接，不予跟随，请放置文件夹本身。",
                             f"{folder} is a symbolic link, not followed: put the folder itself "
                             "there.")  # fmt: skip
    programme = load_programme(folder / "programme.yaml")
    if (folder.parent.name, folder.name) != (str(programme.year), programme.code):
        raise ProgrammeError(
            f"{folder} 与其 programme.yaml 不符：year 为 {programme.year}、code 为 "
            f"{programme.code}，文件夹应为 {programme.year}/{programme.code}。",
            f"{folder} does not match its programme.yaml: year {programme.year}, code "
            f"{programme.code}, so the folder should be {programme.year}/{programme.code}.",
        )
    return programme
