"""What is wrong with a submitted file, cell by cell, in the county's words."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from jixiao.checks.catalogue import rule


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused: a catalogue rule and where it applies.

    ``row`` is the 1-based row number as the county sees it in Excel (the
    header is row 1 of the sheet when the sheet starts at A1).
    """

    rule_id: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    expected: str | None = None
    cell: str | None = None
    detail: str | None = None
    detail_en: str | None = None  # ``detail`` in English, where a reader words it
    expected_en: str | None = None  # ``expected`` in English, where it is words (a type, a rule)

    def message(self, lang: str = "zh") -> str:
        params = asdict(self)
        if lang != "zh":
            params |= {k: params[f"{k}_en"] for k in ("detail", "expected") if params[f"{k}_en"]}
        return rule(self.rule_id).message(lang, **params)

    def where(self, lang: str = "zh") -> str:
        parts = []
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」" if lang == "zh" else f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"第 {self.row} 行" if lang == "zh" else f"row {self.row}")
        if self.column:
            parts.append(f"列「{self.column}」" if lang == "zh" else f"column '{self.column}'")
        return "，".join(parts) if lang == "zh" else ", ".join(parts)


class FileRefused(Exception):
    """Raised by readers when a file cannot be read at all."""

    def __init__(self, *problems: Problem, sheets: dict | None = None):
        super().__init__(problems[0].message("en") if problems else "refused")
        self.problems = list(problems)
        self.sheets = sheets or {}  # what was read before the refusal, if anything
