"""A finding (SPEC §3.1): problem, basis, evidence, amount, suggestion — as auditors read them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from functools import cached_property

from jixiao.checks.catalogue import rule


def yuan(value: Decimal) -> str:
    """Money as an auditor writes it: 400, 12000, 12000.50."""
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


def figure(value: Decimal) -> str:
    """A figure exactly as it is, for a formula: 46666.67, 0.5, 105000."""
    return format(value.normalize(), "f")


def amount_basis(zh: str, en: str, terms: str, amount: Decimal) -> dict[str, str]:
    """A 涉及金额 with its formula, as a finding's parameters (``amount_basis`` and its
    ``_en``): what the amount is, then, after the colon, the arithmetic over the finding's
    own figures that gives it (numbers and + − × ÷ ( ) only, no figure in the words after
    the colon), so that a reader can redo it: 逾期各行支出金额之和：21000 + 3000 = 24000 元."""
    sum_ = "" if terms == figure(amount) else f"{terms} = "  # one figure is its own formula
    return {"amount_basis": f"{zh}：{sum_}{yuan(amount)} 元",
            "amount_basis_en": f"{en}: {sum_}{yuan(amount)} yuan"}


def difference(a: Decimal, b: Decimal) -> str:
    """|a − b| as a formula's terms, the greater first."""
    return f"{figure(max(a, b))} − {figure(min(a, b))}"


def fingerprint(rule_id: str, subject: str, claimed: str, observed: str,
                year: int | None) -> str:  # fmt: skip
    """Stable night to night: the rule, the subject and the figures, not line numbers (an
    edit above a contradiction must not make it look new); and the programme's year, so that
    a finding of 2023 is never followed as the same finding of 2022."""
    key = json.dumps([rule_id, subject, claimed, observed, year])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Evidence:
    """Where a figure stands: report section and line; or, for a county's records, the county
    (code and name), the file, the sheet as the file names it and the row Excel shows."""

    section: str
    line: int
    text: str
    county_code: str = ""
    county: str = ""
    file: str = ""
    sheet: str = ""
    row: int = 0
    # A Word table's number and row, where the cell is found: a .docx line (counting
    # paragraphs and table rows) is nothing Word shows. Published only when known.
    table_row: tuple[int, int] | None = None
    # A .docx paragraph's number within its section (Paragraph.number: 0 the heading
    # itself), in place of the line; published whenever known.
    paragraph: int | None = None
    page: int | None = None  # a .pdf's page, as its reader finds it (its lines count across pages)

    def as_dict(self) -> dict:
        """The fields that say something: a report's place or a record's, and the text."""
        # Its fields as they are (no deep copy: asdict's was most of a national report's time)
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name))
                or f.name == "text" or (f.name == "paragraph" and v is not None)}  # fmt: skip

    def where(self, lang: str = "zh") -> str:
        """Where a reader finds it: 表 2 第 3 行 in a Word table, 「（2）组织实施」第 1 段 in a
        Word section, 第 4 页 in a .pdf, else 第 12 行; "" when none is known."""
        zh = lang == "zh"
        if self.page:
            return f"第 {self.page} 页" if zh else f"page {self.page}"
        if self.table_row:
            table, row = self.table_row
            return f"表 {table} 第 {row} 行" if zh else f"table {table} row {row}"
        if self.paragraph is not None:
            head = self.section.rpartition(" › ")[2]
            if not head:
                return f"第 {self.paragraph} 段" if zh else f"paragraph {self.paragraph}"
            if not self.paragraph:
                return f"标题「{head}」" if zh else f"the heading '{head}'"
            return (f"「{head}」第 {self.paragraph} 段" if zh
                    else f"paragraph {self.paragraph} under '{head}'")  # fmt: skip
        if self.line:
            return f"第 {self.line} 行" if zh else f"line {self.line}"
        return ""


@dataclass(frozen=True)
class Finding:
    rule_id: str
    subject: str
    claimed: str
    observed: str
    evidence: tuple[Evidence, ...]
    where: str = ""  # the other place, for messages that name it
    label: str = ""  # the subject as a reader names it (招聘会（县区数）); defaults to subject
    amount_yuan: Decimal | None = None
    params: dict = field(default_factory=dict, compare=False, hash=False)
    year: int | None = None  # the programme's (none for a report checked on its own)

    @property
    def severity(self) -> str:
        return rule(self.rule_id).severity

    def _params(self, lang: str) -> dict:
        """What the rule's texts say; in English a parameter's ``_en`` form (``observed_en``,
        a figure's words computed here in English) stands for it where the finding has one."""
        # The other place, unless the finding names it: where its last evidence stands.
        where = self.where or (self.evidence[-1].where(lang) if self.evidence else "")
        params = {"subject": self.subject, "label": self.label or self.subject,
                  "claimed": self.claimed, "observed": self.observed, "where": where,
                  "involved": yuan(self.amount_yuan) if self.amount_yuan is not None else "",
                  **self.params}  # fmt: skip
        if lang != "zh":
            params |= {k.removesuffix("_en"): v for k, v in self.params.items() if k.endswith("_en")}
        return params

    def message(self, lang: str = "zh") -> str:
        return rule(self.rule_id).message(lang, **self._params(lang))

    @cached_property  # read for each of the four reports, the history and the review merge
    def fingerprint(self) -> str:
        return fingerprint(self.rule_id, self.subject, self.claimed, self.observed, self.year)

    def masked(self, mask: Callable[[str], str]) -> Finding:
        """The finding with every text it carries passed through ``mask``
        (personal.mask_text); the fingerprint follows what is shown."""
        return replace(
            self,
            subject=mask(self.subject),
            claimed=mask(self.claimed),
            observed=mask(self.observed),
            where=mask(self.where),
            label=mask(self.label),
            evidence=tuple(replace(e, section=mask(e.section), text=mask(e.text))
                           for e in self.evidence),
            params={k: mask(v) if isinstance(v, str) else v for k, v in self.params.items()},
        )

    def as_dict(self, lang: str = "zh") -> dict:
        r, params = rule(self.rule_id), self._params(lang)
        return {
            "rule_id": self.rule_id,
            "severity": self.severity,
            "subject": self.subject,
            "claimed": self.claimed,
            "observed": self.observed,
            "message": r.message(lang, **params),
            "evidence": [e.as_dict() for e in self.evidence],
            "fingerprint": self.fingerprint,
            "amount_yuan": str(self.amount_yuan) if self.amount_yuan is not None else None,
            # How the amount is reached, from the finding's own figures (`amount_basis`).
            "amount_basis": params.get("amount_basis") if self.amount_yuan is not None else None,
            # The rule's own basis and suggestion; its id stays in rule_id, never in them.
            "basis": r.basis(lang, **params),
            "suggestion": r.suggestion(lang, **params),
        }


SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def ordered(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then by where they stand; duplicates (same fingerprint) once."""
    seen, out = set(), []
    for f in sorted(
        findings,
        key=lambda f: (
            SEVERITY_ORDER[f.severity],
            f.evidence[0].line or f.evidence[0].row if f.evidence else 0,
            f.rule_id,
            f.subject,
            f.fingerprint,  # a total order: the same however the findings came
        ),
    ):
        if f.fingerprint not in seen:
            seen.add(f.fingerprint)
            out.append(f)
    return out
