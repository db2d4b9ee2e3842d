"""The rule catalogue: every check jixiao makes, declared once.

Each rule carries a stable id, a severity, a Chinese and English title and
message template, and a description; a rule that yields findings (REPORT.*, RECORDS.*) also
its basis (依据: the regulation or programme target it rests on) and its suggestion (整改建议,
addressed to whoever must act: the county for its records, the reporting unit for its
report). Messages, feedback, findings and the generated catalogue documentation
(``checks/CATALOGUE.md``) all come from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal

from jixiao.schemas.programme import CHECKS


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
    # A finding's 依据 and 整改建议, templates over its parameters as the message is. An
    # ingest rule has none: it refuses a file, and its message says what to fix.
    basis_zh: str = ""
    basis_en: str = ""
    suggestion_zh: str = ""
    suggestion_en: str = ""

    def message(self, lang: str = "zh", **params: object) -> str:
        template = self.template_zh if lang == "zh" else self.template_en
        return template.format_map(_Blank(params))

    def basis(self, lang: str = "zh", **params: object) -> str:
        template = self.basis_zh if lang == "zh" else self.basis_en
        return template.format_map(_Blank(params))

    def suggestion(self, lang: str = "zh", **params: object) -> str:
        template = self.suggestion_zh if lang == "zh" else self.suggestion_en
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
        "文件不是有效的 Excel 工作簿（.xlsx 或 .xls），请用 Excel 另存为 .xlsx 后报送。",
        "The file is not a valid Excel workbook (.xlsx or .xls); save it as .xlsx and resubmit.",
        "A file named as a workbook whose bytes are neither an Office Open XML package nor an "
        "Excel 97-2003 file.",
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
        "文件名「{value}」不符合报送要求：应为「区县代码.xlsx」「区县代码.xls」或「区县代码/表名.csv」。",
        "File name '{value}' does not follow the template: '<county>.xlsx', '<county>.xls' or "
        "'<county>/<sheet>.csv'.",
        "The county and sheet are read from the file's path under counties/: a workbook "
        "(.xlsx, or .xls from Excel 97-2003) named by its county, or a county's folder of CSVs "
        "named by their sheets.",
        "counties/report-final.xlsx",
        ("file",),
    ),
    Rule(
        "FILE.UNKNOWN_COUNTY",
        "error",
        "无法识别所属区县",
        "Unknown county",
        "无法从「{value}」识别所属区县：文件名（CSV 为所在文件夹名）应含本项目一个区县的代码或全称。",
        "No county of this programme can be told from '{value}': the file's name (a CSV's "
        "folder's) must hold one county's code or full name.",
        "The county is read from the file's name (a CSV's, its folder's): a county's code or "
        "full name as programme.yaml lists it, or a name containing exactly one of them. A file "
        "naming none, or two, is refused whatever it holds, and its page goes to the operator "
        "(unassigned/ beside feedback/, listed in the run summary and the report's coverage), "
        "since no county would find it.",
        "counties/530199.xlsx",
        ("file",),
    ),
    Rule(
        "SHEET.MISSING",
        "error",
        "缺少工作表",
        "Sheet missing",
        "缺少工作表「{sheet}」（文件中的工作表：{detail}）。",
        "Sheet '{sheet}' is missing (sheets in the file: {detail}).",
        "A county workbook carries every sheet its template requires (`required: true`), found by "
        "its Chinese name or key, a name with a suffix (慰问情况表) or its header row (Sheet1); a "
        "sheet the county had nothing for may be left out, but a workbook holding none of the "
        "template's sheets is refused, naming each and the sheets it holds.",
        "a workbook whose sheets are all named Sheet1, Sheet2 …",
        ("sheet",),
    ),
    Rule(
        "SHEET.FORMULA",
        "error",
        "单元格含公式",
        "Formula cell",
        "单元格 {cell} 含公式「{value}」，请复制后“选择性粘贴—数值”再报送。",
        "Cell {cell} holds a formula '{value}'; paste values only and resubmit.",
        "A formula in a data cell is refused: its cached value may be stale and it can carry a "
        "payload. A 合计 row's formulas are read for their values (and checked as totals); "
        "formulas outside the table are not read.",
        "=SUM(F2:F9) in 慰问!F10",
        ("sheet",),
    ),
    Rule(
        "SHEET.EMPTY_HEADER",
        "error",
        "缺少表头",
        "No header row",
        "工作表是空的。",
        "The sheet is empty.",
        "A sheet named as a template sheet holds nothing at all.",
        "an empty sheet named 慰问",
        ("sheet",),
    ),
    Rule(
        "SHEET.NO_HEADER",
        "error",
        "找不到表头",
        "Header not found",
        "没有找到表头：前 {detail} 行中没有一行写有模板的列名（应为：{expected}）。",
        "No header found: none of the first {detail} rows carries the template's column names "
        "(expected: {expected}).",
        "The header row is found by the template's labels, below any title or unit line.",
        "a sheet whose columns are labelled A, B, C",
        ("sheet",),
    ),
    Rule(
        "SHEET.AMBIGUOUS",
        "error",
        "同类工作表不止一张",
        "Two sheets of one kind",
        "工作表{value}都是「{expected}」表，无法判断哪一张是最终的：请删去或隐藏不用的一张后重新报送。",
        "Sheets {value} are all '{expected}' sheets and none says which is final: delete or hide "
        "the ones not in use and resubmit.",
        "Two visible sheets of one kind, both holding rows, are refused: reading either could be "
        "reading the wrong one. A hidden sheet is not read when a visible one of its kind exists.",
        "慰问 and 慰问(2), both visible",
        ("file",),
    ),
    Rule(
        "COLUMN.MISSING",
        "error",
        "缺少列",
        "Column missing",
        "缺少列「{column}」（第 {row} 行被当作表头：它写有模板列名中的 {detail} 个，多于其他各行）。",
        "Column '{column}' is missing (row {row} was taken as the header: it carries {detail} of "
        "the template's column names, more than any other row).",
        "Every column of the template must be present, by its Chinese label or key; labels are "
        "compared without line breaks, padding, full-width forms or a trailing unit. The header "
        "is the row (or two rows, under a group row) among the first 30 that carries most labels.",
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
        "The bounds a template declares (`minimum`, `maximum`, `exclusiveMinimum`, "
        "`exclusiveMaximum`, `pattern`, `minLength`, `maxLength`), as the column's rule says.",
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
        "A column whose template declares `enum` (or `enum: budget_lines`, `format: county`) "
        "takes one of the listed values.",
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
        "A date column the template declares `inYear` falls inside the programme year.",
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
        "A column's `format`: `resident_id` is a GB 11643 resident ID (check digit, real birth "
        "date), `disability_cert` one plus category 1–7 and grade 1–4, `credit_code` follows "
        "GB 32100-2015.",
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
        "A template's `primaryKey` and `unique` columns hold each value once within a county's "
        "file; empty cells are not values.",
        "two job fairs numbered ZP-01",
        ("value",),
    ),
    Rule(
        "VALUE.FOREIGN_KEY",
        "error",
        "引用不存在",
        "Reference not found",
        "「{column}」的值「{value}」在「{expected}」表中不存在。",
        "'{column}' value '{value}' is not in the sheet '{expected}'.",
        "A template's foreignKeys: every row names a row of the sheet it refers to, of the same "
        "county's submission (in a workbook, its own sheet; a CSV of that sheet alone, what the "
        "county submitted before).",
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
        "A column the template declares `atMost` another is no larger than it in the same row "
        "(达成就业意向人数 ≤ 参会残疾人数 in the sample).",
        "80 matches from 50 jobseekers",
        ("value",),
    ),
    # Limits (jixiao/limits.py): checked before the file is parsed, so an oversized or
    # hostile file costs the run neither its time nor its memory.
    Rule(
        "FILE.TOO_LARGE",
        "error",
        "文件过大",
        "File too large",
        "文件大小为 {detail}，超过上限 {expected}，请删除多余内容或分批报送。",
        "The file is {detail}, over the limit of {expected}; remove unneeded content or "
        "split it and resubmit.",
        "A county file larger on disk than JIXIAO_MAX_FILE_MB (default 50 MB) is refused "
        "before it is read.",
        "a 120 MB CSV",
        ("file", "limit"),
    ),
    Rule(
        "FILE.UNSAFE",
        "error",
        "文件含不安全内容",
        "Unsafe file",
        "文件含有不安全的内容（{detail}），未予读取，请用 Excel 重新导出后报送。",
        "The file holds unsafe content ({detail}) and was not read; export it again "
        "from Excel and resubmit.",
        "Excel never writes XML document type (DOCTYPE) or entity declarations into a "
        "workbook; they are how entity-expansion bombs and external-entity reads work, so a "
        "part carrying one is refused unparsed. A symbolic link under counties/ is not "
        "followed: it could point outside the programme folder.",
        "a sheet part opening with <!DOCTYPE …> and a billion-laughs entity",
        ("file",),
    ),
    Rule(
        "FILE.ENCRYPTED",
        "error",
        "工作簿设有密码",
        "Password-protected workbook",
        "工作簿设有打开密码，无法读取，请取消密码后另存为 .xlsx 再报送。",
        "The workbook is protected by a password and cannot be read; remove the password, "
        "save as .xlsx and resubmit.",
        "An .xlsx saved with a password to open is an encrypted OLE container, not a "
        "readable package.",
        "530102.xlsx saved with 文件—信息—用密码进行加密",
        ("file",),
    ),
    Rule(
        "SHEET.TOO_MANY",
        "error",
        "工作表过多",
        "Too many sheets",
        "工作簿有 {detail} 个工作表，超过上限 {expected} 个，请只保留模板中的工作表后报送。",
        "The workbook has {detail} sheets, over the limit of {expected}; keep only the "
        "template's sheets and resubmit.",
        "A workbook with more sheets than JIXIAO_MAX_SHEETS (default 50) is refused before "
        "any sheet is read.",
        "a workbook of 1,000 sheets",
        ("sheet", "limit"),
    ),
    Rule(
        "SHEET.TOO_MANY_ROWS",
        "error",
        "行数过多",
        "Too many rows",
        "工作表有 {detail} 行，超过上限 {expected} 行，请删除多余的行（包括远处零散的单元格）"
        "或分批报送。",
        "The sheet has {detail} rows, over the limit of {expected}; delete unneeded rows "
        "(stray cells far below included) or split the submission.",
        "A sheet's last row holding a value, or a CSV's record count, above JIXIAO_MAX_ROWS "
        "(default 100,000). Counted from the sheet's XML before it is loaded, so one stray "
        "cell in row 1,048,576 cannot make the reader allocate a million empty rows.",
        "a value typed in 慰问!A1048576",
        ("sheet", "limit"),
    ),
    Rule(
        "SHEET.TOO_MANY_COLUMNS",
        "error",
        "列数过多",
        "Too many columns",
        "工作表有 {detail} 列，超过上限 {expected} 列，请删除多余的列（包括远处零散的单元格）"
        "后报送。",
        "The sheet has {detail} columns, over the limit of {expected}; delete unneeded "
        "columns (stray cells far to the right included) and resubmit.",
        "A sheet's last column holding a value above JIXIAO_MAX_COLUMNS (default 256).",
        "a header row of 10,000 columns",
        ("sheet", "limit"),
    ),
    Rule(
        "SHEET.TOO_MANY_CELLS",
        "error",
        "单元格过多",
        "Too many cells",
        "各工作表合计 {detail} 个单元格（行数 × 列数），超过上限 {expected} 个，"
        "请删除多余的行和列或分批报送。",
        "The sheets hold {detail} cells together (rows × columns), over the limit of "
        "{expected}; delete unneeded rows and columns or split the submission.",
        "The reader holds every cell of a sheet's used rectangle in memory, empty ones "
        "included, so the rectangles of all sheets (or a CSV's cells) added up must stay "
        "within JIXIAO_MAX_CELLS (default 2,000,000; a 100,000-row sheet of 12 columns is "
        "1,200,000).",
        "100,000 rows × 256 columns",
        ("sheet", "limit"),
    ),
    Rule(
        "SHEET.LINE_TOO_LONG",
        "error",
        "CSV 行过长",
        "CSV line too long",
        "该行长 {detail}，超过单行上限 {expected}，请检查是否缺少换行或有未闭合的引号。",
        "This line is {detail} long, over the limit of {expected}; check for missing line "
        "breaks or an unclosed quote.",
        "One physical line of a CSV longer than JIXIAO_MAX_LINE_KB (default 1024 KB); "
        "measured in bounded chunks, never held in memory whole.",
        "a 100 MB CSV without a single line break",
        ("sheet", "limit"),
    ),
    Rule(
        "VALUE.TOO_LONG",
        "error",
        "单元格内容过长",
        "Cell too long",
        "单元格 {cell} 内容长 {detail} 个字符，超过上限 {expected} 个字符，请删减后报送。",
        "Cell {cell} holds {detail} characters, over the limit of {expected}; shorten it and "
        "resubmit.",
        "A cell longer than JIXIAO_MAX_CELL_CHARS (default 32,767 characters, Excel's own "
        "limit for a cell); the value itself is not repeated in the message.",
        "a 1 MB text pasted into 慰问!B2",
        ("value", "limit"),
    ),
    Rule(
        "VALUE.CONTROL_CHAR",
        "error",
        "含控制字符",
        "Control character",
        "单元格 {cell} 含有不可见的控制字符（{detail}），请删除后报送。",
        "Cell {cell} holds invisible control characters ({detail}); delete them and resubmit.",
        "Control characters (U+0000–U+001F except tab and the line breaks U+000A–U+000D, "
        "which Excel and Word put in cells; U+007F–U+009F) and "
        "the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) "
        "are refused in every cell, names included: they are never typed, and they can make "
        "what a reader sees differ from what is stored. Invisible marks that change nothing "
        "(zero-width space, LRM/RLM, BOM) are dropped by normalisation instead.",
        "地点 '文体中心\\x1b[2J' or a name starting with U+202E",
        ("value",),
    ),
)


def _report(
    rule_id: str,
    severity: str,
    title_zh: str,
    title_en: str,
    template_zh: str,
    template_en: str,
    description: str,
    example: str,
    tags: tuple[str, ...] = ("report",),
) -> Rule:
    return Rule(
        rule_id,
        severity,
        title_zh,
        title_en,
        template_zh,
        template_en,
        description,
        example,
        tags,
    )


FORM = ("report", "form")  # the 自评表's own rules (checks/report_form.py)


# The report against itself (SPEC §1.3). Parameters: {label} what it is about, {claimed}
# the figures as written, {observed} what the arithmetic or the other statement gives,
# {where} the other place. Figures disagree only when no values inside their rounding
# intervals satisfy the relation (DESIGN, "Rounding, the way XBRL does it").
_REPORT = (
    _report(
        "REPORT.FIGURE_DISAGREES",
        "error",
        "同一数据前后不一致",
        "Same figure stated differently",
        "「{label}」在不同位置表述不一致：{claimed}，而{where}为 {observed}。",
        "'{label}' is stated differently: {claimed}, while {where} says {observed}.",
        "The same subject and measure (and role: target or actual) stated with values whose "
        "rounding intervals do not overlap, in two places of the report; and a prose figure "
        "linked by name to a 三级指标 of the report's own 自评表 (补助人数 for 补助残疾人人数) "
        "against that row's 实际完成值, or its 年度指标值 for a target, in the same unit. Left "
        "out: figures of different roles (a target and an actual), different units of count, "
        "breakdowns (其中) and changes (增加) beside an indicator's name.",
        "6个县市区残联完成招聘会 in the summary, 5个 in 项目实施",
    ),
    _report(
        "REPORT.TABLE_TOTAL",
        "error",
        "表格合计不符",
        "Table total does not add up",
        "表格「{label}」合计不符：{claimed}，按明细计算应为 {observed}。",
        "Table '{label}': the total {claimed} does not match its parts, {observed}.",
        "A total row or column (合计, 总计, 合计人数) against the sum of its parts, and a "
        "remainder column (结余 = 下达 − 使用). In a 自评表: 年度资金总额 against each list "
        "of 其中 rows after it, column by column (an empty part is 0); 总分 against the "
        "indicators' scores plus the funds' 得分, and a 分值 total against the weights. A "
        "column's figures are read at the finest precision any of them is written with (a 12 "
        "beside 10.5 is 12.0: trailing zeros dropped, not rounded away), and whole counts "
        "exactly (a survey row's counts summing to 39 against 合计人数 37). Left out: a table "
        "cut off or of uneven rows (REPORT.TABLE_UNVERIFIABLE instead); sums over amounts "
        "written in different units.",
        "下达 10.5 + 11 + 12 against 合计 33.5",
    ),
    _report(
        "REPORT.SHARES_NOT_100",
        "error",
        "占比合计不等于 100%",
        "Shares do not sum to 100%",
        "「{label}」各项占比合计为 {observed}，不等于 100%（报告写为 {claimed}）。",
        "The shares of '{label}' sum to {observed}, not 100% (the report says {claimed}).",
        "Shares of one whole (a survey question's answers) must sum to 100% within rounding.",
        "78.38% + 16.22% + 5.41% + 5.41% = 105.42%",
    ),
    _report(
        "REPORT.SHARE_UNSUPPORTED",
        "error",
        "占比与人数不符",
        "Share not supported by counts",
        "「{label}」的占比 {claimed} 与人数不符：按人数计算应为 {observed}。",
        "'{label}': the share {claimed} does not follow from the counts, {observed}.",
        "A share next to its count and total (人数 / 合计人数) recomputed; a share or score "
        "with no count behind it is an error.",
        "D 5.41% with 0 people of 37",
    ),
    _report(
        "REPORT.SCORE_UNSUPPORTED",
        "error",
        "分数与占比不符",
        "Score not supported",
        "「{label}」的分数 {claimed} 与占比和权重不符：应为 {observed}。",
        "'{label}': the score {claimed} does not follow from shares and weights, {observed}.",
        "Survey scores from the counts: each answer's count / respondents × its weight; a "
        "question's own score (its 合计) as their sum; the 合计 row's scores, per answer and "
        "in all, as the sum over the questions (or their mean); the overall satisfaction "
        "score likewise. A sum may stand half a unit per summed cell from the exact value.",
        "question 2 stated 9.57, counts give 9.46",
    ),
    _report(
        "REPORT.BUDGET_TOTAL",
        "error",
        "预算明细与总额不符",
        "Budget lines against total",
        "预算明细合计 {observed} 与报告所述总额 {claimed} 不符。",
        "The budget lines sum to {observed}, not the stated total {claimed}.",
        "Amounts per budget line stated in the text, summed, against the total stated before "
        "them (allocated against allocated, spent against spent), each read at the finest "
        "precision any of them is written with.",
        "10.5万 + 11万 + 12万 against 33.5万元",
    ),
    _report(
        "REPORT.PARTS_TOTAL",
        "error",
        "分项金额之和与总额不符",
        "Sums listed against their total",
        "「{label}」为 {claimed}，而其后所列分项合计 {observed}。",
        "'{label}' is {claimed}, while the sums listed after it add up to {observed}.",
        "A sum of money and the parts the text lists after it (其中：…, 三个部分…分别…), "
        "added within rounding: parts above the total, or short of it when the list claims to "
        "be whole. Left out: differences between years (增加, 同比), a list with an item that "
        "states no sum (其余用于…), a single part.",
        "下达资金2263万元。其中：1435万元 + 25万元 + 703万元 = 2163万元",
    ),
    _report(
        "REPORT.PARTS_UNEXPLAINED",
        "warning",
        "分项之和与总数不一致，分项未必完整",
        "Parts do not make up their total; the list may be partial",
        "「{label}」为 {claimed}，而所列分项合计 {observed}；请说明差额（所列是否完整、有无交叉）。",
        "'{label}' is {claimed}, while the parts listed add up to {observed}; explain the "
        "difference (is the list whole, do its parts overlap?).",
        "As REPORT.PARTS_TOTAL where an innocent reading stays open: a list the text calls "
        "partial (主要用于…等) short of its total, or a head-count's groups (其中女性…、贫困户…), "
        "which may overlap or leave some out.",
        "预算资金100万元主要用于宣传、文化、培训等，分别74万元、14万元、8万元",
    ),
    _report(
        "REPORT.RATE_RECOMPUTED",
        "error",
        "比率与其分子分母不符",
        "Rate does not follow",
        "「{label}」的比率 {claimed} 与其数据不符：按报告数据计算应为 {observed}。",
        "'{label}': the rate {claimed} does not follow from its own figures, {observed}.",
        "完成率 = actual / target (against a floor, capped at 100% or the share achieved: "
        "480 of 400 may be 100% or 120%), 执行率 = spent / budget, 得分率 = score / weight, "
        "a share (占…的16.04%) = part / its total, recomputed with the rounding of the "
        "figures as written; in a 自评表 every funds row's 执行率 against 执行数 / 预算数 "
        "(全年, else 年初), a rate written as 86%, as 100.00 under a (%) header or as 0.1, and "
        "100% accepted for spending above budget. Left out: a budget of 0 (0 / 0 written as "
        "100% says nothing).",
        "实际完成5场 of 9 with 完成率 60%",
    ),
    _report(
        "REPORT.HEADCOUNT_PERCENT",
        "warning",
        "百分比无法由整数人数得到",
        "Percentage impossible for a head-count",
        "「{label}」的 {claimed} 不可能由 {observed} 人中的整数人得到。",
        "'{label}': {claimed} cannot be a whole number of people out of {observed}.",
        "A percentage of people for which no whole count k of the stated N gives k / N inside "
        "the percentage's rounding interval.",
        "34.88% of 51 entrants (17/51 = 33.33%, 18/51 = 35.29%)",
    ),
    _report(
        "REPORT.PRODUCT",
        "error",
        "数量×标准与金额不符",
        "Count × standard against amount",
        "「{label}」：{claimed}，乘积应为 {observed}。",
        "'{label}': {claimed}; the product is {observed}.",
        "A count and its unit standard (人均, 每户, 每场) against the amount stated for them.",
        "300 户 × 400 元 against 12 万元",
    ),
    _report(
        "REPORT.PRODUCT_TOTAL",
        "warning",
        "数量×标准与项目资金不符",
        "Count × standard against the programme's money",
        "「{label}」：{claimed}，而报告所述资金为 {observed}。",
        "'{label}': {claimed}, while the report states {observed}.",
        "The one per-head standard (0.60万元/生, 人均400元) and the one head-count a report "
        "states, tied by what they pay (补助, 资助 …), against every sum of money it states: "
        "none is their product. A warning, since the money may pay for more than the "
        "standard names.",
        "9 人 × 0.60 万元/生 = 5.4 万元, while every sum stated is 6.46 万元 or a part of it",
    ),
    _report(
        "REPORT.GRADE",
        "error",
        "得分与等级或权重不符",
        "Score, grade and weights disagree",
        "{label}：{claimed}，而{observed}。",
        "{label}: {claimed}, whereas {observed}.",
        "The total score against its grade band (优 ≥ 90, 良 80–90, 中 60–80, 差 < 60); a "
        "level-1 score above its weight; level-1 scores against the total. In a 自评表: "
        "every 得分 above its 分值 (funds and indicators; a percentage is never read as a "
        "score), and the stated 自评等级 against 总分.",
        "93 分 rated 良",
    ),
    _report(
        "REPORT.DATE_CONFLICT",
        "error",
        "日期前后矛盾",
        "Dates contradict",
        "「{label}」日期矛盾：{claimed}，而{where}为 {observed}。",
        "'{label}': dates contradict: {claimed}, while {where} says {observed}.",
        "The same activity's deadline stated differently; the report dated before the "
        "evaluation work it describes had ended, or outside the year after the programme.",
        "招聘会 by 2022-11-30 in the targets, by 2022-12-30 in 实施流程",
    ),
    _report(
        "REPORT.INCOMPLETE",
        "warning",
        "报告内容不完整",
        "Report incomplete",
        "{label}：{claimed}，但{observed}。",
        "{label}: {claimed}, but {observed}.",
        "An indicator set as a target and never reported on; a stated number of indicators "
        "(共设置14项绩效指标, 个性指标8项) against the list after it, or else against the "
        "report's list of indicators with their targets and actuals; a stated number of "
        "questions against the survey's; an appendix referred to but absent or of another "
        "year.",
        "附表1 of 2021 referred to in a 2022 report",
    ),
    _report(
        "REPORT.NAME_VARIANT",
        "warning",
        "单位名称前后不一",
        "Name written differently",
        "单位名称前后不一：「{claimed}」与「{observed}」。",
        "The unit is named differently: '{claimed}' and '{observed}'.",
        "The responsible unit or office named in two ways that differ in one part (就业培训处 "
        "/ 就业服务处).",
        "昆明市残疾人综合服务中心 and 昆明市残疾人就业服务中心",
    ),
    _report(
        "REPORT.RANKING",
        "warning",
        "排序表述与表格不符",
        "Ranking contradicts its table",
        "报告称{claimed}，但表中{observed}。",
        "The report says {claimed}, but the table shows {observed}.",
        "A sentence that names the lowest or highest (最低, 较低, 最高) against the table it ranks.",
        "question 2 called the lowest while question 3 scores lower",
    ),
    _report(
        "REPORT.MISSED_TARGET_CLAIMED",
        "warning",
        "未完成目标表述为已完成",
        "Missed target described as achieved",
        "报告称{claimed}，但「{label}」{observed}。",
        "The report says {claimed}, but '{label}' {observed}.",
        "Text that says every target was achieved (完成全年预定的绩效目标, 较好实现) while an "
        "indicator's actual is below its target (a 自评表 row's in its target's direction "
        "first); and a sentence stating an indicator known by name (the 自评表's, or "
        "programme.yaml's) that calls it met (已完成, 完成率100%) while its actual — the "
        "form's, else the prose's — misses the target.",
        "5 of 9 job fairs beside 项目完成全年预定的绩效目标",
    ),
    _report(
        "REPORT.COST_PER_UNIT",
        "warning",
        "经费全额执行而产出明显不足",
        "Full spend with output far below target",
        "「{label}」经费执行 {claimed}，但产出仅完成 {observed}。",
        "'{label}': spending {claimed}, but output only {observed}.",
        "A budget line spent in full (≥ 95%) while its output is below 80% of target: the cost "
        "per unit is far above plan.",
        "10.5万 spent on 5 of 9 planned job fairs: 21000 元 each against 11667 planned",
    ),
    _report(
        "REPORT.FORM_BUDGET_SCORE",
        "error",
        "预算执行得分与分值、执行率不符",
        "Budget score does not follow",
        "「{label}」得分 {claimed}，按分值 × 执行率应为 {observed}。",
        "'{label}': scored {claimed}; weight × execution rate gives {observed}.",
        "In a 项目支出绩效自评表 (and its 转移支付 / 部门整体支出 variants), a funds row's "
        "得分 against 分值 × 执行率, capped at 分值; the 分值 from its column or from the "
        "header (预算执行情况（20分）). The rate as written and as 执行数 / 预算数 are both "
        "accepted, each with its rounding (20 × 94/650 = 2.89 stands beside 执行率 0.1).",
        "分值 10, 执行率 80%, 得分 10",
        FORM,
    ),
    _report(
        "REPORT.FORM_WEIGHTS",
        "error",
        "自评表分值设置不一致",
        "Form weights disagree",
        "「{label}」分值不一致：{claimed}，而{observed}。",
        "'{label}': weights disagree: {claimed}, whereas {observed}.",
        "In a 自评表: a level's weight (产出指标（50分）, or a level's own row) against its "
        "indicators' 分值 — none above it, their sum never above it, equal to it once the "
        "level's list is whole (another level follows, or 总分); and the 分值 of a whole form "
        "(indicators and the funds' 分值, down to 总分) summing to 100. Left out: a list cut "
        "off before 总分, a level whose indicators carry no 分值.",
        "产出指标（50分） over 8 + 8 + 8 + 8 + 8 + 8",
        FORM,
    ),
    _report(
        "REPORT.FORM_FULL_SCORE_MISSED",
        "error",
        "未达指标值却得满分",
        "Missed target scored in full",
        "「{label}」{claimed}，未达到指标值，却得满分（{observed}）。",
        "'{label}': {claimed}, short of the target, yet scored in full ({observed}).",
        "In a 自评表, an indicator whose 实际完成值 falls short of its 年度指标值 in the "
        "target's direction (不低于 / ≥ / 达到 / ＞ a floor; 不高于 / ≤ / 以内 / ＜ a ceiling; = "
        "exact), beyond both figures' rounding, with 得分 equal to its 分值: the form scores "
        "a shortfall in proportion. A bare target is a floor when it is 100% or a count, "
        "quality or satisfaction figure, a ceiling when it is 0; cost and time targets, and "
        "units that differ, are left out. An actual above a floor (480 of 400) is no "
        "shortfall.",
        "≥50个 targeted, 45 done, 8 of 8 points",
        FORM,
    ),
    _report(
        "REPORT.FORM_NO_REASON",
        "warning",
        "未达指标值未说明原因",
        "Shortfall without a reason",
        "「{label}」{claimed}，未达到指标值，但{observed}。",
        "'{label}': {claimed}, short of the target, but no reason is given ({observed}).",
        "In a 自评表 with a 偏差原因分析及改进措施 column, an indicator short of its target "
        "(as for REPORT.FORM_FULL_SCORE_MISSED) whose cell is empty, when the form gives no "
        "deviation analysis of its own below the indicators.",
        "90% targeted, 85% reached, 偏差原因 left empty",
        FORM,
    ),
    _report(
        "REPORT.FORM_WEIGHTED_SCORE",
        "error",
        "折算得分与得分、权重不符",
        "Weighted score does not follow",
        "「{label}」折算得分 {claimed}，按得分 × 权重占比应为 {observed}。",
        "'{label}': weighted score {claimed}; score × weight share gives {observed}.",
        "In a provincial 自评表 that scores each indicator out of 100 and weighs it (单项指标得分, "
        "权重占比(%), 单项指标折算得分), the weighted score against 得分 × 权重占比, each "
        "with its rounding.",
        "得分 100, 权重占比 40%, 折算得分 36",
        FORM,
    ),
    _report(
        "REPORT.UNREADABLE",
        "error",
        "报告无法读取，未经核对",
        "Report could not be read",
        "{observed}；报告中的数据均未核对，不能视为没有问题。",
        "The report was not read ({observed}); none of its figures were checked, so it "
        "cannot be taken as free of problems.",
        "A report refused unread — a symbolic link, above a limit of jixiao/limits.py (its "
        "size, paragraphs, tables, cells, characters or XML elements), a zip or XML bomb, a "
        "damaged, encrypted or unsupported file — is one finding saying why, never a clean "
        "report: the nightly run goes on, the records are audited and published, and the "
        "report's claims are none.",
        "a report.docx of a million empty paragraphs (400 KB on disk)",
    ),
    _report(
        "REPORT.TABLE_UNVERIFIABLE",
        "info",
        "表格不完整，无法核对",
        "Table cannot be verified",
        "表格「{label}」不完整（{observed}），无法核对其合计。",
        "Table '{label}' is incomplete ({observed}); its totals cannot be verified.",
        "A table cut off or with rows of differing width: reported as not verifiable, never "
        "as a mismatch.",
        "a survey table whose last rows are missing",
    ),
)


def _records(rule_id: str, severity: str, title_zh: str, title_en: str, template_zh: str,
             template_en: str, description: str, example: str) -> Rule:  # fmt: skip
    return Rule(rule_id, severity, title_zh, title_en, template_zh, template_en, description,
                example, ("records",))  # fmt: skip


# The records against themselves and the report against the records (SPEC §1.2, §3).
# Parameters as for the report rules; {label} names the county, person or indicator.
_RECORDS = (
    _records(
        "RECORDS.DUPLICATE_PAYMENT",
        "error",
        "同一人重复发放",
        "Same person paid twice",
        "{label}：同一{person}被发放 {claimed} 次，{observed}。",
        "{label}: one {person} was paid {claimed} times, {observed}.",
        "Payments are one per person per year: the same keyed hash of the person's identity "
        "column paid more than once, by one county or by two. The first payment (by `date` "
        "when declared, then county and file order) is the one due; the others are the amount "
        "paid in excess.",
        "one person paid by 530102 and again by 530103",
    ),
    _records(
        "RECORDS.OUT_OF_COUNTY",
        "warning",
        "人员户籍不在报送区县",
        "Person outside the submitting county",
        "{label}：{person}地区码 {observed} 不属于报送区县 {claimed}。",
        "{label}: the {person} region {observed} is outside the submitting county {claimed}.",
        "The region code of the person's resident ID (its first six digits) against the "
        "county that submitted the row; one finding per person, county and region.",
        "a 530124 resident paid by 530102",
    ),
    _records(
        "RECORDS.AGE_OUT_OF_RANGE",
        "warning",
        "年龄不在规定范围",
        "Age outside the range",
        "{label}：{claimed} 时年龄 {observed} 岁，不在 {min}–{max} 岁之内。",
        "{label}: aged {observed} on {claimed}, outside {min}–{max}.",
        "The person's age in whole years on the declared date (as the warehouse keeps it: "
        "the birth date itself is not stored) lies between `min` and `max`, both included.",
        "an entrant aged 72 on the day, with min 16 and max 60",
    ),
    _records(
        "RECORDS.COUNTED_TWICE",
        "warning",
        "同一对象重复计数",
        "Counted twice",
        "{label}：同一{key}在 {claimed} 个不同{across}下各计一次，{observed}。",
        "{label}: one {key} counted under {claimed} different {across}, {observed}.",
        "An item (`key`, e.g. a credit code) counted at more than one occasion (`across`, "
        "unique within a county, so the same number in two counties is two occasions) is one "
        "item, not several; with `only`, only rows whose boolean column is true count.",
        "one employer's credit code at two job fairs, intending to hire at both",
    ),
    _records(
        "RECORDS.OUTSIDE_YEAR",
        "error",
        "活动日期不在项目年度",
        "Activity outside the year",
        "{label}：{date} {claimed} 不在项目年度 {observed} 内。",
        "{label}: {date} {claimed} is outside the programme year {observed}.",
        "Activities are dated inside the programme year; one finding per county and date. The "
        "county files' contracts refuse such rows already: this catches rows that reached the "
        "warehouse another way.",
        "an activity dated 2021-12-28 in a 2022 programme",
    ),
    _records(
        "RECORDS.AFTER_DEADLINE",
        "warning",
        "活动晚于完成时限",
        "Activity after its deadline",
        "{label}：{date}最晚为 {claimed}，晚于完成时限 {observed}。",
        "{label}: {date} as late as {claimed}, after the deadline {observed}.",
        "Rows of an activity dated after the deadline the programme sets for it (the date of "
        "its 产出时效 indicator): one finding per county, listing its late rows, so that a "
        "deadline indicator's score can be checked event by event and county by county.",
        "a job fair held 2022-12-26 against a 2022-11-30 deadline",
    ),
    _records(
        "RECORDS.OVERSPENT",
        "error",
        "使用金额超过下达金额",
        "Spent above allocated",
        "{label}：使用 {claimed} 元，超过下达 {observed} 元。",
        "{label}: spent {claimed} yuan, above the {observed} yuan allocated.",
        "Per county and budget line, money spent is at most money allocated.",
        "530102, one budget line: 13000 spent of 12000",
    ),
    _records(
        "RECORDS.AMOUNT_NOT_STANDARD",
        "warning",
        "发放金额不符合标准",
        "Amount off the standard",
        "{label}：{amount}为 {claimed} 元，不等于标准 {observed} 元。",
        "{label}: {amount} of {claimed} yuan, not the standard {observed} yuan.",
        "Each row pays the declared standard amount; one finding per county and amount paid.",
        "a payment of 300 元 against a 400 元 standard",
    ),
    _records(
        "RECORDS.TOTAL_DISAGREES",
        "error",
        "报送表合计不符",
        "Stated total does not add up",
        "{label}：{kind}行（{cell}）的{column}为 {claimed}，而第 {rows} 行之和为 {observed}。",
        "{label}: the {kind} row ({cell}) gives {column} as {claimed}, while rows {rows} add "
        "up to {observed}.",
        "Runs for every programme, undeclared: each 合计 / 小计 / 总计 row of an accepted county "
        "sheet (not data, so not among its rows), in each numeric column of the template "
        "(integer, number, money) where it states a figure, against the sum of that column "
        "over the rows it covers in the same file: a 合计 or 总计 every data row of the sheet, "
        "a 小计 the rows since the previous 小计 or the header. Exact: money to the fen, "
        "integers whole, numbers to the millionth; an empty cell counts as 0. A total that "
        "cannot be read as its column's type (见附表, 35人 in an integer column) is shown as "
        "written against the sum. Left out: a blank total cell, and an unreadable one over "
        "rows that add up to 0 (a dash under an empty column).",
        "合计 in F12 states 1,300 where rows 3–11 of its column add up to 1,200",
    ),
    _records(
        "REPORT.RECORDS_DISAGREE",
        "error",
        "报告数据与报送记录不符",
        "Report against records",
        "「{label}」报告为 {claimed}，而区县报送记录为 {observed}。",
        "'{label}': the report says {claimed}, the county records give {observed}.",
        "A figure the report claims for an indicator with a metric, against the metric "
        "computed from the warehouse, within the figure's rounding interval.",
        "the report says 6 job fairs; the records hold 5",
    ),
    _records(
        "REPORT.RECORDS_PROVISIONAL",
        "warning",
        "报告数据与已接收记录不符（记录不全）",
        "Report against incomplete records",
        "「{label}」报告为 {claimed}，已接收的区县报送记录为 {observed}；{missing}的数据尚未接收"
        "（被拒收或未报送），待补报后再核。",
        "'{label}': the report says {claimed}, the county records accepted give {observed}; "
        "{missing} not yet accepted (refused or not submitted): to be checked again once they "
        "are.",
        "REPORT.RECORDS_DISAGREE while counties are missing from the sheets the figure is "
        "computed from (SPEC §3.2): provisional, never an error stated as fact; the counties "
        "are named.",
        "the report says 303 households; the 11 counties accepted give 300, 3 are refused",
    ),
    _records(
        "REPORT.SCORE_DIFFERS",
        "warning",
        "自评得分与重新计算不符",
        "Self-score differs",
        "「{label}」自评得分 {claimed}，按评分规则重新计算为 {observed}。",
        "'{label}': self-assessed {claimed}, recomputed by the rules as {observed}.",
        "Indicator and level-1 scores the report states against the programme's scoring rules "
        "applied to the records (SCORING.md).",
        "项目绩效 55 claimed, 57.33 recomputed",
    ),
)


# What a finding rests on and who must do what (依据 / 整改建议), per rule: the regulation
# named with what it requires (no article is cited that could not be checked against its
# text), or the programme's own target or standard. Parameters as the rule's message, and
# {involved}: the finding's 涉及金额 in yuan.
MEASURES = ("《项目支出绩效评价管理办法》（财预〔2020〕10号）",
            "The Measures for the Performance Evaluation of Project Expenditure (Caiyu [2020] "
            "No. 10)")  # fmt: skip
BUDGET_LAW = ("《中华人民共和国预算法》", "The Budget Law of the People's Republic of China")
TRUE_DATA = (MEASURES[0] + "要求自评结果内容完整、数据真实、结果客观；",
             MEASURES[1] + " requires a self-evaluation to be complete, with true figures "
             "and objective results; ")  # fmt: skip
PROPORTIONAL = (MEASURES[0] + "：定量指标完成指标值的记全部分值，未完成的按完成值与指标值的比例"
                "记分",
                MEASURES[1] + ": a quantitative indicator that meets its target scores its full "
                "weight, one that falls short scores in proportion of actual to target")  # fmt: skip
DEVIATION = (MEASURES[0] + "：单位自评的内容包括总体绩效目标、各项绩效指标完成情况和预算执行情况，"
             "对未完成或偏离绩效目标较大的，要分析并说明原因，研究提出改进措施",
             MEASURES[1] + ": a unit's self-evaluation covers its overall target, each "
             "indicator's completion and the budget's execution, and where a target is missed "
             "or far departed from, it analyses and states why and proposes improvements")  # fmt: skip
CHECKS_DECLARED = ("（本项目核查规则，programme.yaml）", " (the programme's checks, programme.yaml)")


def _advice(basis_zh: str, basis_en: str, suggestion_zh: str, suggestion_en: str) -> dict:
    return {"basis_zh": basis_zh, "basis_en": basis_en, "suggestion_zh": suggestion_zh,
            "suggestion_en": suggestion_en}  # fmt: skip


_ADVICE = {
    # The report against itself: the reporting unit corrects its report.
    "REPORT.FIGURE_DISAGREES": _advice(
        TRUE_DATA[0] + "同一数据在报告各处的表述应当一致",
        TRUE_DATA[1] + "one figure is stated alike throughout the report",
        "请项目单位核实「{label}」的实际数据，统一报告各处的表述，并说明哪一处有误。",
        "The reporting unit should check the actual figure of '{label}', state it alike "
        "throughout the report and say which statement was wrong.",
    ),
    "REPORT.TABLE_TOTAL": _advice(
        TRUE_DATA[0] + "表格的合计应等于其明细之和",
        TRUE_DATA[1] + "a table's total equals the sum of its parts",
        "请项目单位核对表格「{label}」的各项明细与合计，更正错误的数字。",
        "The reporting unit should check the parts and the total of table '{label}' and "
        "correct the wrong figures.",
    ),
    "REPORT.SHARES_NOT_100": _advice(
        TRUE_DATA[0] + "同一整体各部分的占比之和应为 100%（舍入误差以内）",
        TRUE_DATA[1] + "the shares of one whole sum to 100% within rounding",
        "请项目单位按原始问卷或统计表重新计算「{label}」的各项占比，更正报告。",
        "The reporting unit should recompute the shares of '{label}' from the survey forms "
        "or tallies and correct the report.",
    ),
    "REPORT.SHARE_UNSUPPORTED": _advice(
        TRUE_DATA[0] + "占比应等于所列人数除以合计人数",
        TRUE_DATA[1] + "a share is its count divided by the total count",
        "请项目单位按所列人数重新计算「{label}」的占比（应为 {observed}），或更正人数。",
        "The reporting unit should recompute the share of '{label}' from its counts "
        "({observed}), or correct the counts.",
    ),
    "REPORT.SCORE_UNSUPPORTED": _advice(
        TRUE_DATA[0] + "满意度得分应由各选项人数、占比与权重算得",
        TRUE_DATA[1] + "a satisfaction score follows from each answer's count, share and weight",
        "请项目单位按问卷统计的人数和各选项权重重新计算「{label}」的得分，更正报告。",
        "The reporting unit should recompute the score of '{label}' from the survey's counts "
        "and the answers' weights and correct the report.",
    ),
    "REPORT.BUDGET_TOTAL": _advice(
        MEASURES[0] + "要求单位自评如实反映预算执行情况；各预算明细之和应等于报告所述总额",
        MEASURES[1] + " requires the self-evaluation to state the budget's execution truly; "
        "the budget lines sum to the total stated",
        "请项目单位按预算批复和支出明细核对各项金额与总额，更正报告中错误的数字。",
        "The reporting unit should check each line and the total against the approved budget "
        "and the spending records, and correct the wrong figures.",
    ),
    "REPORT.PARTS_TOTAL": _advice(
        MEASURES[0] + "要求单位自评如实反映预算执行情况；所列分项金额之和不得与其总额矛盾",
        MEASURES[1] + " requires the self-evaluation to state the budget's execution truly; "
        "the sums listed do not contradict their total",
        "请项目单位按资金分配文件核对「{label}」及其各分项，补列遗漏的分项或更正错误的金额。",
        "The reporting unit should check '{label}' and its parts against the allocation "
        "documents, list the parts left out or correct the wrong sums.",
    ),
    "REPORT.PARTS_UNEXPLAINED": _advice(
        MEASURES[0] + "要求单位自评如实反映预算执行情况；分项与总额不一致的，差额应当说明",
        MEASURES[1] + " requires the self-evaluation to state the budget's execution truly; "
        "where parts and total differ, the difference is explained",
        "请项目单位说明「{label}」与所列分项之间的差额（是否另有未列分项、分项之间是否交叉），"
        "必要时补全。",
        "The reporting unit should explain the difference between '{label}' and its parts "
        "(are parts left out, do they overlap?) and complete the list where needed.",
    ),
    "REPORT.RATE_RECOMPUTED": _advice(
        MEASURES[0] + "：预算执行率为执行数与预算数之比，完成率为实际完成值与指标值之比；"
        "报告所写比率应能由其所列数据算得",
        MEASURES[1] + ": the execution rate is spent over budget, the completion rate actual "
        "over target; a rate stated follows from the figures stated",
        "请项目单位按报告所列的分子、分母重新计算「{label}」（应为 {observed}），更正比率或其数据。",
        "The reporting unit should recompute '{label}' from the figures it states "
        "({observed}) and correct the rate or its figures.",
    ),
    "REPORT.HEADCOUNT_PERCENT": _advice(
        TRUE_DATA[0] + "人数的百分比应能由整数人数除以总人数得到",
        TRUE_DATA[1] + "a percentage of people is a whole number of people over the total",
        "请项目单位核实「{label}」的人数和百分比，按实际人数重新计算后更正。",
        "The reporting unit should check the count and the percentage of '{label}', "
        "recompute it from the actual count and correct it.",
    ),
    "REPORT.PRODUCT": _advice(
        TRUE_DATA[0] + "金额应等于数量乘以报告所述的单位标准",
        TRUE_DATA[1] + "an amount is the count times the unit standard stated",
        "请项目单位核实「{label}」的数量、标准和金额，更正其中错误的一项。",
        "The reporting unit should check the count, standard and amount of '{label}' and "
        "correct whichever is wrong.",
    ),
    "REPORT.PRODUCT_TOTAL": _advice(
        TRUE_DATA[0] + "按标准补助的资金应与补助人数和标准相符，不符的应说明用途",
        TRUE_DATA[1] + "money paid by a standard agrees with the head-count and the "
        "standard, or the report says what else it paid for",
        "请项目单位说明报告所述资金与“人数 × 标准”之间的差额用于何处，或更正人数、标准或金额。",
        "The reporting unit should say what the money beyond head-count × standard paid for, "
        "or correct the count, the standard or the amount.",
    ),
    "REPORT.GRADE": _advice(
        MEASURES[0] + "：绩效评价结果采取评分与评级相结合的方式，90（含）–100 分为优、"
        "80（含）–90 分为良、60（含）–80 分为中、60 分以下为差；各项得分不超过其分值，"
        "各项得分之和为总分",
        MEASURES[1] + ": results are scored and graded, 90–100 excellent, 80–90 good, 60–80 "
        "fair, below 60 poor; no score exceeds its weight, and the scores sum to the total",
        "请项目单位按各项分值重新核对「{label}」的得分、总分和等级，更正自评表和报告。",
        "The reporting unit should check the scores, total and grade of '{label}' against "
        "the weights and correct the form and the report.",
    ),
    "REPORT.DATE_CONFLICT": _advice(
        TRUE_DATA[0] + "同一事项的时限在报告各处应当一致，报告日期应在评价工作结束之后",
        TRUE_DATA[1] + "one activity's deadline is stated alike throughout, and the report "
        "is dated after the evaluation it describes",
        "请项目单位以批复的绩效目标和实际工作记录为准，核实「{label}」的日期并统一报告中的表述。",
        "The reporting unit should check the dates of '{label}' against the approved targets "
        "and its work records and state them alike throughout the report.",
    ),
    "REPORT.INCOMPLETE": _advice(
        DEVIATION[0] + "；所设每项绩效指标都应报告其完成情况",
        DEVIATION[1] + "; every indicator set is reported on",
        "请项目单位补全报告所缺的内容（{label}）：每项指标列明指标值和实际完成值，所引附表"
        "附上且年度一致，然后重新报送。",
        "The reporting unit should complete what the report lacks ({label}): each "
        "indicator's target and actual, every appendix it refers to, of the right year; then "
        "submit it again.",
    ),
    "REPORT.NAME_VARIANT": _advice(
        "报告应以项目单位的正式全称（与预算批复一致）署名，全文一致",
        "A report names its unit by the full name of the approved budget, alike throughout",
        "请项目单位核实「{claimed}」与「{observed}」哪一个是正式全称，统一报告中的写法。",
        "The reporting unit should tell which of '{claimed}' and '{observed}' is its full "
        "name and write it alike throughout the report.",
    ),
    "REPORT.RANKING": _advice(
        TRUE_DATA[0] + "对表格的文字分析应与表中数据相符",
        TRUE_DATA[1] + "what the text says of a table agrees with the table",
        "请项目单位按表中数据更正关于最高、最低项的表述。",
        "The reporting unit should correct what the text says is highest or lowest to "
        "follow the table.",
    ),
    "REPORT.MISSED_TARGET_CLAIMED": _advice(
        DEVIATION[0] + "；未达指标值的不应表述为已完成",
        DEVIATION[1] + "; a target missed is not described as met",
        "请项目单位如实表述「{label}」的完成情况，说明未完成的原因并提出改进措施。",
        "The reporting unit should state truly how far '{label}' was achieved, say why it "
        "fell short and propose improvements.",
    ),
    "REPORT.COST_PER_UNIT": _advice(
        MEASURES[0] + "：绩效评价对项目支出的经济性、效率性、效益性和公平性进行测量和评判；"
        "资金全额支出而产出明显不足，单位产出成本远高于计划",
        MEASURES[1] + ": evaluation judges a project's economy, efficiency, effectiveness "
        "and equity; money spent in full for output far below target costs far more per unit "
        "than planned",
        "请项目单位说明「{label}」资金已基本用完而产出未达目标的原因，列明资金的实际用途，"
        "并明确未完成任务的后续安排。",
        "The reporting unit should explain why '{label}' spent its money but fell short of "
        "its output, show what the money paid for, and say how the rest will be done.",
    ),
    "REPORT.FORM_BUDGET_SCORE": _advice(
        TRUE_DATA[0] + "自评表「预算执行情况」栏的得分为分值 × 执行率（表头常注明，如“得分"
        "（20分*执行率）”），最高为分值",
        TRUE_DATA[1] + "the form's budget execution row scores weight × execution rate (as "
        "its heading often says), at most its weight",
        "请项目单位按分值 × 执行率重新计算「{label}」的得分（应为 {observed}），更正自评表及总分。",
        "The reporting unit should recompute the score of '{label}' as weight × execution "
        "rate ({observed}) and correct the form and its total.",
    ),
    "REPORT.FORM_WEIGHTS": _advice(
        MEASURES[0] + "：原则上产出指标、效益指标、服务对象满意度指标和预算执行率的权重分别为 "
        "50%、30%、10%、10%；自评表分值合计 100 分，各级指标分值之和等于其上级分值",
        MEASURES[1] + ": outputs, outcomes, beneficiaries' satisfaction and budget execution "
        "weigh 50%, 30%, 10% and 10% as a rule; the form's weights sum to 100, each level's "
        "to the weight above it",
        "请项目单位重新分配「{label}」的分值，使各级分值之和与上级一致、总分为 100 分。",
        "The reporting unit should reallocate the weights of '{label}' so that each level "
        "sums to the weight above it and the form to 100.",
    ),
    "REPORT.FORM_FULL_SCORE_MISSED": _advice(
        *PROPORTIONAL,
        "请项目单位按完成值与指标值的比例重新计算「{label}」的得分，并更正自评表的总分和等级。",
        "The reporting unit should rescore '{label}' in proportion of actual to target and "
        "correct the form's total and grade.",
    ),
    "REPORT.FORM_NO_REASON": _advice(
        *DEVIATION,
        "请项目单位在自评表「偏差原因分析及改进措施」栏写明「{label}」未达指标值的原因和改进措施。",
        "The reporting unit should state, in the form's deviation column, why '{label}' fell "
        "short of its target and how it will improve.",
    ),
    "REPORT.FORM_WEIGHTED_SCORE": _advice(
        TRUE_DATA[0] + "自评表的折算得分等于单项指标得分乘以其权重占比",
        TRUE_DATA[1] + "a form's weighted score is the indicator's score times its weight share",
        "请项目单位按得分 × 权重占比重新计算「{label}」的折算得分（应为 {observed}），并更正合计。",
        "The reporting unit should recompute the weighted score of '{label}' as score × "
        "weight share ({observed}) and correct the total.",
    ),
    "REPORT.UNREADABLE": _advice(
        TRUE_DATA[0] + "报送的报告须能打开和读取，其数据才能核对",
        TRUE_DATA[1] + "a report submitted must open and read before its figures can be checked",
        "请项目单位重新导出报告（Word .docx、文本型 PDF 或纯文本，不设密码）后再次报送。",
        "The reporting unit should export the report again (Word .docx, a PDF with text, or "
        "plain text, without a password) and submit it again.",
    ),
    "REPORT.TABLE_UNVERIFIABLE": _advice(
        TRUE_DATA[0] + "表格须完整列出各行各列，其合计才能核对",
        TRUE_DATA[1] + "a table shows every row and column before its totals can be checked",
        "请项目单位补全表格「{label}」缺失的行列后重新报送。",
        "The reporting unit should complete the rows and columns missing from table "
        "'{label}' and submit the report again.",
    ),
    # The records: the county that submitted them acts.
    "RECORDS.DUPLICATE_PAYMENT": _advice(
        "本项目规定同一{person}每年只发放一次" + CHECKS_DECLARED[0] + "，其后各笔均属多发",
        "The programme pays each {person} once a year" + CHECKS_DECLARED[1] + "; every "
        "payment after the first is paid in excess",
        "请相关区县核实该{person}的各笔发放，追回多发的 {involved} 元，并在发放前按{person}查重。",
        "The counties concerned should check each payment to this {person}, recover the "
        "{involved} yuan paid in excess, and check for repeats by {person} before paying.",
    ),
    "RECORDS.OUT_OF_COUNTY": _advice(
        "本项目资金按区县下达，由区县发放给本区县的对象" + CHECKS_DECLARED[0] + "；身份证号前六位"
        "为户籍所在地的行政区划代码（GB 11643）",
        "The programme's money is allocated by county, each paying its own residents"
        + CHECKS_DECLARED[1]
        + "; a resident ID's first six digits are the region of "
        "residence (GB 11643)",
        "请报送区县（{claimed}）核实该{person}是否为本区县的服务对象（提供居住证明等）；不是的，"
        "请更正报送记录，并与户籍所在区县协调相应资金。",
        "The submitting county ({claimed}) should check whether this {person} is one of its "
        "residents (proof of residence); if not, correct the records and settle the money "
        "with the county of residence.",
    ),
    "RECORDS.AGE_OUT_OF_RANGE": _advice(
        "本项目规定的对象年龄范围为 {min}–{max} 岁" + CHECKS_DECLARED[0],
        "The programme serves people aged {min} to {max}" + CHECKS_DECLARED[1],
        "请区县核实该对象的出生日期；确不在 {min}–{max} 岁之内的，请说明纳入理由，无正当理由的"
        "收回相应资金并更正记录。",
        "The county should check this person's date of birth; if outside {min}–{max}, say "
        "why they were included, or recover the money and correct the records.",
    ),
    "RECORDS.COUNTED_TWICE": _advice(
        TRUE_DATA[0] + "同一{key}在多个{across}中只计为一个对象，产出数量不得重复计数",
        TRUE_DATA[1] + "one {key} under several {across} is one item, never counted twice",
        "请相关区县核实该对象的各条记录是否属实，并按{key}只计一次更正上报的数量；项目单位汇总时"
        "同样只计一次。",
        "The counties concerned should check that this item's rows are true and correct the "
        "figures they reported, counting it once by {key}; so should the unit when it adds "
        "them up.",
    ),
    "RECORDS.OUTSIDE_YEAR": _advice(
        BUDGET_LAW[0] + "规定预算年度自公历 1 月 1 日起至 12 月 31 日止；本项目资金用于项目年度内"
        "的活动",
        BUDGET_LAW[1] + " sets the budget year from 1 January to 31 December; the programme's "
        "money pays for activities of its year",
        "请区县核实{date}：填写错误的请更正；确属其他年度的，请从本年度记录中剔除，相应支出不列入"
        "本年度项目资金。",
        "The county should check the {date}: correct it if mistyped; if the activity belongs "
        "to another year, remove it from this year's records and its spending from this "
        "year's money.",
    ),
    "RECORDS.AFTER_DEADLINE": _advice(
        "本项目绩效目标的产出时效指标：{observed} 前完成（programme.yaml），逐场、逐县判断",
        "The programme's timeliness target: done by {observed} (programme.yaml), judged event "
        "by event and county by county",
        "请区县说明这些活动晚于 {observed} 完成的原因，并提供相关资料（如批准延期的文件）。",
        "The county should explain why these activities came after {observed} and provide "
        "the papers (an approved extension, if any).",
    ),
    "RECORDS.OVERSPENT": _advice(
        BUDGET_LAW[0] + "要求各部门、各单位的支出以经批准的预算为依据、按照预算执行；区县使用资金"
        "不得超过下达的 {observed} 元",
        BUDGET_LAW[1] + " requires spending to rest on and follow the approved budget; a "
        "county spends no more than the {observed} yuan allocated",
        "请区县说明超出下达金额的 {involved} 元从何列支、经谁批准；无依据的予以纠正，并更正报送的"
        "使用金额。",
        "The county should show where the {involved} yuan above its allocation was charged "
        "and who approved it; correct it where nothing did, and correct the amount reported.",
    ),
    "RECORDS.AMOUNT_NOT_STANDARD": _advice(
        "本项目规定的发放标准为每笔 {observed} 元" + CHECKS_DECLARED[0],
        "The programme's standard payment is {observed} yuan" + CHECKS_DECLARED[1],
        "请区县核实按 {claimed} 元发放的记录：少发的补发，多发的追回；确需按其他标准发放的，请提供"
        "批准文件。",
        "The county should check the payments of {claimed} yuan: pay what is short, recover "
        "what is over, or provide the approval for another standard.",
    ),
    "RECORDS.TOTAL_DISAGREES": _advice(
        "本项目报送模板：合计、小计、总计行等于其所覆盖各行之和",
        "The programme's template: a total or subtotal row equals the sum of the rows it covers",
        "请区县核对「{column}」第 {rows} 行与{kind}行，更正错误后重新报送。",
        "The county should check {column} in rows {rows} against the {kind} row, correct the "
        "error and resubmit.",
    ),
    # The report against the records and the scoring rules: the reporting unit acts.
    "REPORT.RECORDS_DISAGREE": _advice(
        MEASURES[0] + "要求单位自评如实反映各项绩效指标的实际完成情况；报告所述完成值应与区县报送的"
        "原始记录一致",
        MEASURES[1] + " requires the self-evaluation to state each indicator's actual "
        "completion truly; the figure reported agrees with the counties' records",
        "请项目单位以区县报送记录（{observed}）为准核实「{label}」，更正报告，或说明差异的原因。",
        "The reporting unit should check '{label}' against the county records ({observed}) "
        "and correct the report, or explain the difference.",
    ),
    "REPORT.RECORDS_PROVISIONAL": _advice(
        MEASURES[0] + "要求单位自评如实反映各项绩效指标的实际完成情况；{missing}的记录尚未接收，"
        "报告所述完成值暂无完整记录支撑",
        MEASURES[1] + " requires the self-evaluation to state each indicator's actual "
        "completion truly; the records of {missing} are not yet accepted, so the figure "
        "reported lacks complete records",
        "请项目单位督促{missing}补报数据，补齐后重新核对「{label}」；在此之前该数据不作为已核实的"
        "数据。",
        "The reporting unit should have {missing} submit their records and check '{label}' "
        "again once they are in; until then the figure is not verified.",
    ),
    "REPORT.SCORE_DIFFERS": _advice(
        PROPORTIONAL[0] + "；本项目的指标、权重和评分规则见 programme.yaml",
        PROPORTIONAL[1] + "; the programme's indicators, weights and scoring rules are in "
        "programme.yaml",
        "请项目单位按评分规则和区县记录重新计算「{label}」的得分（应为 {observed}），更正自评表和报告。",
        "The reporting unit should rescore '{label}' by the scoring rules and the county "
        "records ({observed}) and correct the form and the report.",
    ),
}


RULES: dict[str, Rule] = {
    rule.id: replace(rule, **_ADVICE.get(rule.id, {})) for rule in (*_INGEST, *_REPORT, *_RECORDS)
}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]


def parameters(rule_id: str) -> list[str]:
    """A declarable rule's parameters in programme.yaml's ``checks:``, one line each."""
    out = []
    for name, info in CHECKS[rule_id].model_fields.items():
        if name == "rule":
            continue
        kind = (
            "column" if (info.json_schema_extra or {}).get("column")
            else "sheet" if name == "sheet"
            else {int: "integer", Decimal: "yuan", dt.date: "date"}[info.annotation]
        )  # fmt: skip
        need = "required" if info.is_required() else "optional"
        out.append(f"`{name}` ({kind}, {need}): {info.description}")
    return out


def render_markdown() -> str:
    """The catalogue's reference documentation, generated from the rules above."""
    lines = [
        "# Rule catalogue",
        "",
        "Generated from `checks/catalogue.py` by `python -m jixiao.checks`; do not edit by hand.",
        "",
        "The `RECORDS.*` rules that list parameters run only as programme.yaml declares them "
        "(SPEC §1.4): `checks: - {rule: RECORDS.…, sheet: …, <parameter>: …}`, once per entry.",
        "",
        "A rule that yields findings states its basis (依据: the regulation, or the programme's "
        "target or standard, it rests on) and its suggestion (整改建议: to the county for its "
        "records, to the reporting unit for its report), filled in as its message is; "
        "`{involved}` is the finding's 涉及金额 in yuan. A finding with a 涉及金额 also says how "
        "it is reached (`amount_basis` in findings.json, 金额计算 in findings.xlsx): what the "
        "amount is and the arithmetic over the finding's own figures that gives it. A file's "
        "refusal says what to fix in its message.",
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
        ]
        if r.basis_zh:
            lines += [
                f"- basis (zh): {r.basis_zh}",
                f"- basis (en): {r.basis_en}",
                f"- suggestion (zh): {r.suggestion_zh}",
                f"- suggestion (en): {r.suggestion_en}",
            ]
        if r.id in CHECKS:
            lines += ["- parameters:", *(f"  - {p}" for p in parameters(r.id))]
        lines.append("")
    return "\n".join(lines)
