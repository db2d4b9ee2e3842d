"""programme.yaml (绩效目标表): budget lines, counties, indicator tree and targets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ProgrammeError(Exception):
    """programme.yaml cannot be used; the message is one Chinese sentence."""


class BudgetLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str
    amount_yuan: Decimal = Field(ge=0, decimal_places=2)


class Survey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    questions: int = Field(gt=0)
    weights: dict[Literal["A", "B", "C", "D", "E"], Decimal]


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    level1: str
    level2: str
    name: str
    weight: Decimal = Field(gt=0)
    kind: Literal["higher", "lower", "equal", "deadline", "qualitative", "budget_execution"]
    target: Decimal | dt.date | None = None
    unit: str | None = None
    metric: str | None = None  # SQL over the warehouse, one value
    late: Literal["zero", "per_day"] | None = None
    score: Decimal | None = None  # qualitative: the auditor's score
    reason: str | None = None
    subject: str | None = None  # the report vocabulary's subject; read from the name if absent

    @model_validator(mode="after")
    def _kind_fields(self) -> Indicator:
        if self.kind == "qualitative":
            if self.score is None or not self.reason:
                raise ValueError(f"定性指标「{self.name}」须给出评分 score 和理由 reason")
        elif self.target is None or not self.metric:
            raise ValueError(f"指标「{self.name}」须给出目标值 target 和度量 metric")
        return self


class Fact(BaseModel):
    """A figure the records measure and reports state, but no indicator scores
    (the number of counties that held job fairs): named SQL, like an indicator's metric."""

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    subject: str  # the report vocabulary's subject
    unit: str
    metric: str


class Programme(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str
    unit: str
    year: int = Field(ge=2000, le=2100)
    counties: dict[str, str]
    budget_lines: list[BudgetLine]
    survey: Survey | None = None
    indicators: list[Indicator]
    facts: list[Fact] = []
    vocabulary: dict | None = None  # extends the shared report vocabulary (schemas/vocabulary.yaml)

    @model_validator(mode="after")
    def _weights_sum_to_100(self) -> Programme:
        total = sum(i.weight for i in self.indicators)
        if total != 100:
            raise ValueError(f"指标权重合计为 {total}，应为 100")
        ids = [i.id for i in self.indicators]
        if len(ids) != len(set(ids)):
            raise ValueError("指标 id 有重复")
        return self

    def budget_line_code(self, text: str) -> str | None:
        """A budget line given by its code or its Chinese name."""
        for line in self.budget_lines:
            if text in (line.code, line.name):
                return line.code
        return None


def load_programme(path: Path) -> Programme:
    """Read and validate programme.yaml, or raise ProgrammeError with one clear sentence."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProgrammeError(f"无法读取 {path}：{exc.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ProgrammeError(f"{path} 不是有效的 UTF-8 YAML 文件：{exc}") from None
    try:
        return Programme.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        raise ProgrammeError(f"{path} 无效：{where + '：' if where else ''}{msg}") from None
