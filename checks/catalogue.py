"""The rule catalogue: every check jixiao makes, declared once.

Each rule carries a stable id, a severity, a Chinese and English title and
message template, and a description. Messages, feedback and the generated
catalogue documentation (``checks/CATALOGUE.md``) all come from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # error | warning | info
    title_zh: str
    title_en: str
    template_zh: str
    template_en: str
    description: str
    example: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    def message(self, lang: str = "zh", **params: object) -> str:
        template = self.template_zh if lang == "zh" else self.template_en
        return template.format_map(_Blank(params))


class _Blank(dict):
    """Format mapping that renders a missing parameter as empty, never raising."""

    def __missing__(self, key: str) -> str:
        return ""


_INGEST = (
    Rule(
        "FILE.EMPTY",
        "error",
        "文件为空",
        "Empty file",
        "文件为空（0 字节），请重新导出后报送。",
        "The file is empty (0 bytes); export it again and resubmit.",
        "A submitted file has no content at all.",
        "530102.xlsx of 0 bytes",
        ("file",),
    ),
    Rule(
        "FILE.NOT_WORKBOOK",
        "error",
        "不是 Excel 工作簿",
        "Not a workbook",
        "文件不是有效的 Excel 工作簿（.xlsx），请用 Excel 另存为 .xlsx 后报送。",
        "The file is not a valid Excel workbook (.xlsx); save it as .xlsx and resubmit.",
        "A file named .xlsx whose bytes are not an Office Open XML package.",
        "a text file renamed to 530102.xlsx",
        ("file",),
    ),
    Rule(
        "FILE.CORRUPT",
        "error",
        "工作簿已损坏",
        "Corrupt workbook",
        "工作簿已损坏或不完整（{detail}），请重新导出后报送。",
        "The workbook is corrupt or truncated ({detail}); export it again and resubmit.",
        "The package opens as a zip but a part is missing or truncated.",
        "an .xlsx cut off during upload",
        ("file",),
    ),
    Rule(
        "FILE.ENCODING",
        "error",
        "编码无法识别",
        "Unreadable encoding",
        "文件编码无法识别（{detail}），请另存为 UTF-8 或 GB18030 编码的 CSV 后报送。",
        "The file's encoding cannot be read ({detail}); save it as UTF-8 or GB18030 CSV.",
        "CSV files must be UTF-8 (with or without BOM) or GB18030.",
        "a CSV saved as UTF-16",
        ("file",),
    ),
    Rule(
        "FILE.NAME",
        "error",
        "文件命名不符合要求",
        "File name not understood",
        "文件名「{value}」不符合报送要求：应为「区县代码.xlsx」或「区县代码/表名.csv」。",
        "File name '{value}' does not follow the template: '<county>.xlsx' or "
        "'<county>/<sheet>.csv'.",
        "The county and sheet are read from the file's path under counties/.",
        "counties/report-final.xlsx",
        ("file",),
    ),
    Rule(
        "FILE.UNKNOWN_COUNTY",
        "error",
        "区县不在名单中",
        "Unknown county",
        "区县「{value}」不在本项目的区县名单中。",
        "County '{value}' is not one of this programme's counties.",
        "The county code or name in the file's path must be listed in programme.yaml.",
        "counties/530199.xlsx",
        ("file",),
    ),
    Rule(
        "SHEET.MISSING",
        "error",
        "缺少工作表",
        "Sheet missing",
        "缺少工作表「{sheet}」。",
        "Sheet '{sheet}' is missing.",
        "A county workbook carries every sheet of the template, by its Chinese name or key.",
        "a workbook without 慰问",
        ("sheet",),
    ),
    Rule(
        "SHEET.FORMULA",
        "error",
        "单元格含公式",
        "Formula cell",
        "单元格 {cell} 含公式「{value}」，请复制后“选择性粘贴—数值”再报送。",
        "Cell {cell} holds a formula '{value}'; paste values only and resubmit.",
        "Formulas are refused: their cached value may be stale and they can carry payloads.",
        "=SUM(F2:F9) in 慰问!F10",
        ("sheet",),
    ),
    Rule(
        "SHEET.EMPTY_HEADER",
        "error",
        "缺少表头",
        "No header row",
        "工作表没有表头行。",
        "The sheet has no header row.",
        "The first non-empty row of a sheet is its header.",
        "a sheet with data but no header",
        ("sheet",),
    ),
    Rule(
        "COLUMN.MISSING",
        "error",
        "缺少列",
        "Column missing",
        "缺少列「{column}」。",
        "Column '{column}' is missing.",
        "Every column of the template must be present, by its Chinese label or key.",
        "慰问 without 慰问金额(元)",
        ("column",),
    ),
    Rule(
        "COLUMN.DUPLICATE",
        "error",
        "列重复",
        "Duplicated column",
        "列「{column}」出现了不止一次。",
        "Column '{column}' appears more than once.",
        "A column given twice (by label and by key, or twice by label) is ambiguous.",
        "two 姓名 columns",
        ("column",),
    ),
    Rule(
        "VALUE.REQUIRED",
        "error",
        "必填项为空",
        "Required value missing",
        "「{column}」为必填项，不能为空。",
        "'{column}' is required.",
        "A required cell is empty.",
        "an empty 慰问日期",
        ("value",),
    ),
    Rule(
        "VALUE.TYPE",
        "error",
        "值无法识别",
        "Value not understood",
        "「{value}」无法识别为{expected}。",
        "'{value}' cannot be read as {expected}.",
        "The cell cannot be read as the column's type (number, money, date).",
        "慰问金额 '四百块'",
        ("value",),
    ),
    Rule(
        "VALUE.RANGE",
        "error",
        "值超出范围",
        "Value out of range",
        "「{value}」超出允许范围：{expected}。",
        "'{value}' is out of range: {expected}.",
        "Counts and money are not negative; visits are paid a positive amount.",
        "慰问金额 -400",
        ("value",),
    ),
    Rule(
        "VALUE.ENUM",
        "error",
        "取值不在允许范围",
        "Value not allowed",
        "「{value}」不是允许的取值，应为：{expected}。",
        "'{value}' is not allowed; expected one of: {expected}.",
        "Enumerated columns (人员类别, 发放方式, 获奖等次, answers, budget lines) take listed values.",
        "发放方式 '支付宝'",
        ("value",),
    ),
    Rule(
        "VALUE.OUTSIDE_YEAR",
        "error",
        "日期不在项目年度内",
        "Date outside the programme year",
        "日期「{value}」不在项目年度 {expected} 年内。",
        "Date '{value}' is outside the programme year {expected}.",
        "Activity dates must fall inside the programme year of programme.yaml.",
        "慰问日期 2021-12-28 for a 2022 programme",
        ("value",),
    ),
    Rule(
        "VALUE.CHECK_DIGIT",
        "error",
        "校验位错误",
        "Invalid check digit",
        "「{value}」不是有效的{expected}（校验位或格式错误）。",
        "'{value}' is not a valid {expected} (check character or format).",
        "残疾人证号 embeds a GB 11643 resident ID (check digit, real birth date) plus category "
        "1–7 and grade 1–4; 统一社会信用代码 follows GB 32100-2015.",
        "a resident ID whose last digit was mistyped",
        ("value",),
    ),
    Rule(
        "VALUE.DUPLICATE_KEY",
        "error",
        "编号重复",
        "Duplicate key",
        "「{column}」的值「{value}」在本表中重复出现。",
        "'{column}' value '{value}' appears more than once in this sheet.",
        "Keys (招聘会编号, 问卷编号) are unique within a county's submission.",
        "two job fairs numbered ZP-01",
        ("value",),
    ),
    Rule(
        "VALUE.FOREIGN_KEY",
        "error",
        "引用不存在",
        "Reference not found",
        "招聘会编号「{value}」在「招聘会」表中不存在。",
        "Job fair '{value}' is not in the 招聘会 sheet.",
        "Every 参会用人单位 row names a job fair of the same county's submission.",
        "an employer row for fair ZP-09 that was never held",
        ("value",),
    ),
    Rule(
        "VALUE.CROSS_FIELD",
        "error",
        "数值前后矛盾",
        "Inconsistent values",
        "{expected}（本行为 {value}）。",
        "{expected} (this row: {value}).",
        "Values within one row must agree, e.g. 达成就业意向人数 ≤ 参会残疾人数.",
        "80 matches from 50 jobseekers",
        ("value",),
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _INGEST}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]


def render_markdown() -> str:
    """The catalogue's reference documentation, generated from the rules above."""
    lines = [
        "# Rule catalogue",
        "",
        "Generated from `checks/catalogue.py` by `python -m checks`; do not edit by hand.",
        "",
    ]
    for r in sorted(RULES.values(), key=lambda r: r.id):
        lines += [
            f"## `{r.id}` — {r.title_zh} / {r.title_en}",
            "",
            f"- severity: `{r.severity}`; tags: {', '.join(r.tags) or '—'}",
            f"- checks: {r.description}",
            f"- example: {r.example or '—'}",
            f"- message (zh): {r.template_zh}",
            f"- message (en): {r.template_en}",
            "",
        ]
    return "\n".join(lines)
