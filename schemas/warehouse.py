"""The warehouse's tables: names, columns, types and descriptions, declared once.

Sheet tables derive from the programmes' templates (SPEC §1.4, §3): one table per sheet key,
the sheet's column keys, with personal columns replaced as SPEC §4 says, plus scope and
lineage columns.
DDL and DICTIONARY.md are both generated from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from jixiao.schemas.contracts import Sheet
from jixiao.schemas.template import hash_column


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]

    def ddl(self) -> str:
        cols = ",\n  ".join(f"{c.name} {c.type}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {cols}\n)"


_SQL_TYPES = {pl.String: "VARCHAR", pl.Int64: "BIGINT", pl.Float64: "DOUBLE", pl.Date: "DATE",
              pl.Boolean: "BOOLEAN"}  # fmt: skip


def _sql_type(dtype: pl.DataType) -> str:
    return "DECIMAL(18,2)" if isinstance(dtype, pl.Decimal) else _SQL_TYPES[dtype]


SCOPE = (
    Column("programme_code", "VARCHAR", "项目代码（programme.yaml 的 code）"),
    Column("year", "INTEGER", "项目年度"),
    Column("county_code", "VARCHAR", "区县代码（GB/T 2260）"),
)
LINEAGE = (
    Column("source_file", "VARCHAR", "来源文件（项目目录下的相对路径）"),
    Column("source_sha256", "VARCHAR", "来源文件的 SHA-256"),
    Column("source_sheet", "VARCHAR", "来源工作表（CSV 为文件名）"),
    Column("source_row", "BIGINT", "来源行号（与 Excel 中所见一致，表头为第 1 行）"),
)
# What a resident ID or a certificate number leaves beside its keyed hash: only what checks
# need (a certificate adds its category and grade).
ID_COLUMNS = (
    Column("region_code", "VARCHAR", "身份证号前 6 位：户籍地行政区划代码（核查是否本区县人员）"),
    Column("age", "INTEGER", "当日（{date}）已满周岁，由证号中的出生日期算出；出生日期不入库"),
)
CERT_COLUMNS = (
    *ID_COLUMNS,
    Column("disability_category", "VARCHAR", "残疾类别（1–7）"),
    Column("disability_grade", "VARCHAR", "残疾等级（1–4）"),
)

# What DICTIONARY.md says of personal data: what stays, why, and what the key protects.
PERSONAL_DATA = """\
## 个人信息（SPEC §4）：仓库里留下了什么

- 残疾人证号只以带密钥散列 `cert_hash`（HMAC-SHA256）入库，另留核查所需的四项：户籍地行政区划
  代码 `region_code`（是否本区县人员）、事件当日已满周岁 `age`（就业年龄段）、残疾类别与等级。
  出生日期、顺序码与校验码不入库；姓名不入库。
- 姓名只以带密钥散列留在 `name_hashes`：区县文件中与证号成对出现的姓名（姓名列的值、与证号同行的
  姓名、紧挨证号的姓名），用由散列密钥派生的另一把密钥计算，不与任何行、文件关联，只用于在自评报告
  的语句、发现和报告中遮蔽这些姓名（包括以后运行中因未变化而跳过的文件里的姓名）。
- 身份证号、残疾人证号和统一社会信用代码按形状识别，不论写在哪一列、哪张表、文件名还是报告里：
  自由文本列（地点、单位名称、竞赛项目、凭证号等）入库前、拒收说明和 `ingest_log` 写入前、文件名
  记录前都已遮蔽（`530102**********1234`、`王**`）。
- 留下的四项并不能单独指认一个人，但它们缩小了范围：有密钥的人可以在「该地区 × 约一年的出生日期
  × 类别 × 等级 × 1000 个顺序码」中逐个计算散列、比对 `cert_hash`，从而还原证号。所以散列密钥
  保存在仓库之外（`~/.config/jixiao/hash.key` 或环境变量 `JIXIAO_HASH_KEY_FILE` 所指的文件），
  它和由它算出的 HMAC 中间值从不写入任何表、临时表或 `data/curated/` 下的文件，programme.yaml
  的指标 SQL 也读不到它。
- `runs.key_fingerprint` 是密钥对固定标签的 HMAC（前 16 位十六进制），只用于核对：由它推不出
  密钥。下一次运行若找不到密钥，或密钥的指纹与最近一次运行的不同，运行停止并说明如何恢复；
  `jixiao run --new-key` 则有意换用新密钥，从原始报送数据重新散列全部记录。
"""


def sheet_table(sheet: Sheet) -> Table:
    columns = list(SCOPE)
    for key, label in sheet.labels.items():
        kind = sheet.personal.get(key)
        if kind in ("cert", "id", "hash"):
            columns.append(Column(hash_column(key), "VARCHAR",
                                  f"{label}的带密钥散列（HMAC-SHA256），同一人各表一致"))  # fmt: skip
        if kind in ("cert", "id"):
            date = sheet.labels.get(sheet.age_on or "", "项目年度末")
            columns += [Column(c.name, c.type, c.description.format(date=date))
                        for c in (CERT_COLUMNS if kind == "cert" else ID_COLUMNS)]  # fmt: skip
        elif kind is None:
            about = sheet.fields[key].description or label
            columns.append(Column(key, _sql_type(sheet.dtypes[key]),
                                  f"{label}：{about}（{sheet.rules[key]}）"))  # fmt: skip
    return Table(
        sheet.key,
        sheet.title,
        sheet.decl.description or f"区县报送表「{sheet.title}」中通过契约校验的行。",
        (*columns, *LINEAGE),
    )


COUNTIES = Table(
    "counties",
    "区县",
    "programme.yaml 中的区县：代码与名称，供按区县汇总时显示名称。",
    (
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("county_code", "VARCHAR", "区县代码"),
        Column("name", "VARCHAR", "区县名称"),
    ),
)

BUDGET_LINES = Table(
    "budget_lines",
    "预算科目",
    "programme.yaml 中的预算科目及预算金额。",
    (
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("code", "VARCHAR", "预算科目代码"),
        Column("name", "VARCHAR", "预算科目名称"),
        Column("amount_yuan", "DECIMAL(18,2)", "预算金额（元）"),
    ),
)

STATED_TOTALS = Table(
    "stated_totals",
    "报送表中的合计",
    "已接收的区县报送表中填写的合计、小计、总计：这些行不是数据，不入各表，逐格与所合计的列核对"
    "（RECORDS.TOTAL_DISAGREES）。区县重新报送某表时，其合计随该表的行一并替换。",
    (
        *SCOPE,
        Column("sheet", "VARCHAR", "表（模板中的键名）"),
        Column("column_key", "VARCHAR", "所合计的列（键名）：整数、数值或金额列"),
        Column("label", "VARCHAR", "行的名称，按原样：合计、小计、总计（如「合 计」）"),
        Column("cell", "VARCHAR", "合计所在单元格，如 F12"),
        Column(
            "from_row",
            "BIGINT",
            "所合计的第一行（Excel 行号）：合计、总计为表中全部数据行，小计为上一小计或表头之后的行",
        ),
        Column("to_row", "BIGINT", "所合计的最后一行（Excel 行号）"),
        Column(
            "stated",
            "DECIMAL(38,6)",
            "填写的合计数，按该列的类型读出（金额为元，精确到分，如 0.12万 为 1200）；"
            "无法读作数值时为空，原文见 stated_text",
        ),
        Column("stated_text", "VARCHAR", "合计单元格的原文（如 1,200、0.12万、1200元），个人信息已遮蔽"),
        *LINEAGE[:3],
        Column("source_row", "BIGINT", "合计所在行（Excel 行号）"),
    ),
)

INGEST_LOG = Table(
    "ingest_log",
    "报送文件日志",
    "每个见到的报送文件：一次接收、拒收或被替代一行。",
    (
        Column("run_id", "VARCHAR", "处理该文件的运行编号（runs.run_id）"),
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("county_code", "VARCHAR", "区县代码；无法识别时为空"),
        Column("file", "VARCHAR", "文件（项目目录下的相对路径）"),
        Column("version", "INTEGER", "报送版本（.v2 为 2，缺省为 1）"),
        Column(
            "sha256",
            "VARCHAR",
            "文件内容的 SHA-256，相同内容不重复处理；超过大小上限、未读即拒收的文件为其大小的 "
            "SHA-256（拒收只取决于大小，大小不变即不再处理）",
        ),
        Column("size_bytes", "BIGINT", "文件大小（字节）"),
        Column("sheets", "VARCHAR[]", "文件包含的表（键名）"),
        Column(
            "sheets_absent",
            "VARCHAR[]",
            "工作簿未包含的模板表（区县当年无此项内容）：视为未报送，其此前报送的行一并撤下",
        ),
        Column("notes", "VARCHAR[]",
               "读取时的说明：隐藏的行或工作表、未读取的工作表、表尾、栏次行等（区县看到的版式）"),
        Column("notes_en", "VARCHAR[]",
               "notes 的英文（--lang en 的输出用；旧版本写入的行为空，输出时改用 notes）"),
        Column(
            "status",
            "VARCHAR",
            "accepted 已接收 / refused 已拒收 / superseded 已被替代（被同一区县后来接收的文件，"
            "或内容相同的已接收文件）",
        ),
        Column("rows_read", "BIGINT", "读取的数据行数"),
        Column("rows_loaded", "BIGINT", "入库的行数"),
        Column("error_count", "INTEGER", "问题条数"),
        Column(
            "errors", "JSON", "问题明细（规则、工作表、行、列、值、要求、说明），个人信息已遮蔽"
        ),
        Column(
            "feedback_file",
            "VARCHAR",
            "给区县的整改反馈文件（feedback/ 下的相对路径）；无法识别所属区县的文件，其说明页在与 "
            "feedback/ 并列的 unassigned/ 下（以 unassigned/ 开头）",
        ),
        Column("superseded_by", "VARCHAR", "替代它的文件"),
        Column("ingested_at", "TIMESTAMPTZ", "处理时间"),
    ),
)


FILE_STATS = Table(
    "file_stats",
    "文件状态缓存",
    "每个区县报送文件上次散列时的文件系统状态（大小、修改时间、状态改变时间、inode）与 SHA-256："
    "状态完全相同、且记录时已不在同一时钟刻度内可能被改写的文件，下次运行不再读取散列（同 git 的"
    "索引）。--rebuild 与 --new-key 清空它，全部文件重新散列。",
    (
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("file", "VARCHAR", "文件（同 ingest_log.file）"),
        Column("size_bytes", "BIGINT", "文件大小（字节）"),
        Column("mtime_ns", "BIGINT", "修改时间（纳秒，st_mtime_ns）"),
        Column("ctime_ns", "BIGINT", "状态改变时间（纳秒，st_ctime_ns：任何改写、改回修改时间都会更新它）"),
        Column("inode", "BIGINT", "inode 编号（换成另一个文件即不同）"),
        Column("sha256", "VARCHAR", "当时散列所得的 SHA-256"),
        Column("stat_at_ns", "BIGINT", "读取文件状态的时刻（纳秒）：改变时间距此不足 2 秒的记录不被信任"),
    ),
)


SUMMARY_ROWS = Table(
    "summary_rows",
    "数据质量汇总缓存",
    "最近一次审计中按区县核查的记录规则的汇总表（Great Expectations 所核查的行，"
    "checks/expectations.py），每行属于一个区县：增量审计只重算记录有变化的区县的行，其余沿用，"
    "与全量计算所得相同。跨区县的规则不在此，每次全量计算。--rebuild 清空它。",
    (
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("summary", "VARCHAR", "汇总表名（如 payments_visits）"),
        Column("county_code", "VARCHAR", "该行所属区县（汇总表的 county_code 列）"),
        Column("run_id", "VARCHAR", "计算或沿用它的运行"),
        Column("row", "VARCHAR", "该行各列（JSON）"),
    ),
)


def latest_log_entries(file: str) -> str:
    """ingest_log's latest row for each file, as a subquery: ``file`` lists the columns that
    name one (``programme_code, year, file``: a programme is its code and year). Runs follow
    their sequence, never a clock; a row whose run is not yet in `runs` belongs to the run
    under way, the latest."""
    return (
        "(SELECT * FROM ingest_log LEFT JOIN (SELECT run_id, seq FROM runs) USING (run_id) "
        f"QUALIFY row_number() OVER (PARTITION BY {file} ORDER BY seq DESC NULLS FIRST, "
        "ingested_at DESC) = 1)"
    )

RUNS = Table(
    "runs",
    "运行记录",
    "每次运行一行：输入及其散列、计数、耗时，代码、规则目录与各库的版本。",
    (
        Column("run_id", "VARCHAR", "运行编号"),
        Column(
            "seq",
            "BIGINT",
            "运行序号，仓库内逐次加 1：「最近一次」「上一次」运行按它判断，不按时钟",
        ),
        Column("flow_run_id", "VARCHAR", "Prefect 流程运行编号"),
        Column("started_at", "TIMESTAMPTZ", "开始时间"),
        Column("finished_at", "TIMESTAMPTZ", "结束时间"),
        Column("duration_s", "DOUBLE", "耗时（秒）"),
        Column("raw_dir", "VARCHAR", "输入目录"),
        Column("inputs", "JSON", "本次见到的全部区县报送文件（项目代码、年度、文件）及其 SHA-256"),
        Column(
            "programme_files",
            "JSON",
            "各项目的 programme.yaml、自评报告与 reviews/ 下的复核工作簿及其 SHA-256（形如 inputs）",
        ),
        Column("options", "JSON", "本次运行的选项：报告目录（--out）与语言（--lang）"),
        Column("files_seen", "INTEGER", "见到的文件数"),
        Column("files_skipped", "INTEGER", "内容未变而跳过的文件数"),
        Column("files_accepted", "INTEGER", "接收的文件数"),
        Column("files_refused", "INTEGER", "拒收的文件数"),
        Column("files_superseded", "INTEGER", "到达时已有更新版本、未入库的文件数"),
        Column("rows_loaded", "BIGINT", "入库的行数"),
        Column("code_version", "VARCHAR", "jixiao 版本与 git 提交"),
        Column(
            "catalogue_version",
            "VARCHAR",
            "规则目录的版本：checks/CATALOGUE.md 内容（由规则生成）的 SHA-256",
        ),
        Column(
            "library_versions",
            "JSON",
            "计算结果所用的 Python 及各库版本（duckdb、polars、pandera、great_expectations 等）",
        ),
        Column(
            "key_fingerprint",
            "VARCHAR",
            "本次散列所用密钥的指纹（密钥对固定标签的 HMAC，前 16 位），推不出密钥",
        ),
        Column("skipped", "JSON", "本次跳过的项目及原因（programme.yaml 无法使用、度量 SQL 被拒或失败）"),
        Column(
            "status",
            "VARCHAR",
            "completed 全部完成 / partial 有项目被跳过 / unchanged 输入与上次运行相同，未重新审计，沿用"
            "已发布的结果（运行中为 running，只见于未发布的暂存文件）",
        ),
    ),
)

CLAIMS = Table(
    "claims",
    "报告数据",
    "自评报告中陈述的每一个数据及其位置（jixiao check-report 抽取）。",
    (
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("report_file", "VARCHAR", "报告文件（项目目录下的相对路径）"),
        Column("report_sha256", "VARCHAR", "报告文件的 SHA-256"),
        Column("text", "VARCHAR", "原文写法，如 33.5万元、九场、55.56%"),
        Column("value", "DECIMAL(38,6)", "规范化数值：金额为元，百分比为百分点；日期为空"),
        Column(
            "exponent",
            "INTEGER",
            "最后一位有效数字的量级（55.56% 为 -2，33.5万元 为 3），用于舍入区间",
        ),
        Column("unit", "VARCHAR", "规范化单位：元、%、分、场、户、人 …"),
        Column("kind", "VARCHAR", "money | percent | count | score | date | number"),
        Column("subject", "VARCHAR", "所指对象（词表中的主题，如 job_fairs）"),
        Column("measure", "VARCHAR", "度量（场次、户数、比率 …）"),
        Column("role", "VARCHAR", "target 目标 / actual 实际 / rate 比率"),
        Column("bound", "VARCHAR", ">= 不低于 / <= 不超过 / by 期限"),
        Column("date", "DATE", "日期型数据的日期"),
        Column("line", "INTEGER", "所在行"),
        Column("section", "VARCHAR", "所在章节路径"),
        Column("sentence", "VARCHAR", "所在语句；表格单元格为 表名 › 行 › 列"),
        Column("table_index", "INTEGER", "表格序号（从 0 起）；正文为空"),
        Column("table_row", "INTEGER", "表格行（0 为表头）"),
        Column("table_col", "INTEGER", "表格列"),
    ),
)

METRICS = Table(
    "metrics",
    "指标实际值",
    "每次运行按 programme.yaml 中各指标的 SQL 度量从仓库计算出的实际值。",
    (
        Column("run_id", "VARCHAR", "运行编号"),
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("indicator_id", "VARCHAR", "指标 id（programme.yaml）"),
        Column("name", "VARCHAR", "指标名称"),
        Column("value", "DECIMAL(38,6)", "实际值（数值型指标）"),
        Column("value_date", "DATE", "实际日期（时效型指标）"),
        Column("unit", "VARCHAR", "单位"),
        Column("metric_sql", "VARCHAR", "所用 SQL"),
    ),
)

SCORES = Table(
    "scores",
    "指标得分",
    "按 programme.yaml 的评分规则重新计算的得分，与报告自评得分并列。",
    (
        Column("run_id", "VARCHAR", "运行编号"),
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("level", "INTEGER", "3 为指标，1 为一级指标合计，0 为总分"),
        Column("indicator_id", "VARCHAR", "指标 id；一级指标与总分为其名称"),
        Column("level1", "VARCHAR", "一级指标"),
        Column("name", "VARCHAR", "名称"),
        Column(
            "kind",
            "VARCHAR",
            "评分方式：higher / lower / equal / deadline / qualitative / budget_execution",
        ),
        Column("weight", "DECIMAL(9,2)", "权重（满分）"),
        Column("target", "VARCHAR", "目标值（如书写：数值或日期）"),
        Column("actual", "VARCHAR", "实际值（如书写：数值或日期）"),
        Column("score", "DECIMAL(9,2)", "重新计算的得分"),
        Column("deduction", "DECIMAL(9,2)", "扣分"),
        Column("claimed_score", "DECIMAL(9,2)", "报告自评得分（若报告给出）"),
        Column("grade", "VARCHAR", "等级（总分行：优 / 良 / 中 / 差）"),
        Column("explanation", "VARCHAR", "得分与扣分的说明"),
        Column("target_value", "DECIMAL(38,6)", "目标值（数值型指标）"),
        Column("actual_value", "DECIMAL(38,6)", "实际值（数值型指标）"),
        Column("target_date", "DATE", "目标日期（时效指标）"),
        Column("actual_date", "DATE", "完成日期（时效指标）"),
    ),
)

FINDINGS = Table(
    "findings",
    "审计发现",
    "每次运行的全部发现（SPEC §3.1），按指纹跟踪新增与已整改。",
    (
        Column("run_id", "VARCHAR", "运行编号"),
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("rule_id", "VARCHAR", "规则 id（checks/CATALOGUE.md）"),
        Column("severity", "VARCHAR", "error / warning / info"),
        Column("subject", "VARCHAR", "所涉对象"),
        Column("claimed", "VARCHAR", "报告所述"),
        Column("observed", "VARCHAR", "记录或计算所得"),
        Column("message", "VARCHAR", "说明（中文）"),
        Column("evidence", "JSON", "证据：报告章节与行（section、line），或区县（county_code、"
               "county）、文件、工作表、行（file、sheet、row），及摘录（text）"),
        Column("fingerprint", "VARCHAR", "跨运行稳定的指纹（规则、对象、数据与项目年度）"),
        Column("amount_yuan", "DECIMAL(18,2)", "涉及金额（元）"),
        Column("amount_basis", "VARCHAR", "涉及金额的计算：所算何额，及由本发现数字得出它的算式"),
        Column("basis", "VARCHAR", "依据"),
        Column("suggestion", "VARCHAR", "整改建议"),
        Column("status", "VARCHAR", "new 新增 / open 持续 （相对上一次运行）"),
        Column("label", "VARCHAR", "说明中所称的对象（如区县与工作表）"),
        Column("params", "JSON", "说明的其余参数：增量审计据此沿用未受影响的发现"),
    ),
)

REVIEWS = Table(
    "reviews",
    "复核结论",
    "审计人员对发现的复核结论（SPEC §3.2），按指纹保存：来自放入 reviews/ 的 findings.xlsx（复核结论、"
    "复核意见、复核人三列）。同一指纹以复核时间最晚者为准；空白的复核结论不改变已有结论，与已有结论相同的"
    "不改变其来源与时间。发现仍存在时，各次运行的报告均显示其复核结论；不予采纳的发现单独列出，不计入"
    "未解决的问题。",
    (
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("fingerprint", "VARCHAR", "所复核发现的指纹（findings.fingerprint）"),
        Column("decision", "VARCHAR", "确认 / 不予采纳 / 待定"),
        Column("reason", "VARCHAR", "复核意见（不予采纳的理由等），个人信息已遮蔽"),
        Column("reviewer", "VARCHAR", "复核人"),
        Column("decided_at", "TIMESTAMPTZ", "复核时间：复核工作簿文件的修改时间（最后保存时间）"),
        Column("source_file", "VARCHAR", "来源：复核工作簿（项目目录下的相对路径）及工作表、行"),
    ),
)

NAME_HASHES = Table(
    "name_hashes",
    "姓名散列",
    "区县报送文件中与身份证号成对出现的姓名（姓名列的值、与证号同行的姓名、证号前的姓名），"
    "仅存带密钥散列，且不与任何行、文件关联：只用于在自评报告、发现和日志中遮蔽这些姓名，"
    "包括以后运行中未变化而跳过的文件里的姓名。",
    (
        Column("programme_code", "VARCHAR", "项目代码"),
        Column("year", "INTEGER", "项目年度"),
        Column("name_hash", "VARCHAR", "姓名的带密钥散列（HMAC-SHA256，密钥与证号散列不同）"),
    ),
)

# The run history: kept by `jixiao run --rebuild` from an old warehouse that still opens, where
# everything else is rebuilt from data/raw. FINDINGS name people by their keyed hash, so
# `--new-key` keeps the others only.
# REVIEWS are the auditors' decisions, kept with the history; their fingerprints do not depend
# on the key.
HISTORY: tuple[Table, ...] = (RUNS, METRICS, SCORES, FINDINGS, REVIEWS)

# jixiao's own tables; the sheet tables come from the programmes' templates (sheet_table).
TABLES: tuple[Table, ...] = (
    COUNTIES,
    BUDGET_LINES,
    CLAIMS,
    METRICS,
    SCORES,
    FINDINGS,
    REVIEWS,
    INGEST_LOG,
    FILE_STATS,
    RUNS,
    NAME_HASHES,
    STATED_TOTALS,
    SUMMARY_ROWS,
)
