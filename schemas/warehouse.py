"""The warehouse's tables: names, columns, types and descriptions, declared once.

Sheet tables derive from the programmes' templates (SPEC §1.4, §3): one table per sheet key,
the sheet's column keys, with personal columns replaced as SPEC §4 says, plus scope and
lineage columns.
DDL and DICTIONARY.md are both generated from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from jixiao.said import Said
from jixiao.schemas.contracts import Sheet
from jixiao.schemas.template import hash_column


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: Said


@dataclass(frozen=True)
class Table:
    name: str
    title: Said
    description: Said
    columns: tuple[Column, ...]

    def ddl(self) -> str:
        cols = ",\n  ".join(f"{c.name} {c.type}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {cols}\n)"

    def insert(self, con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
        """``rows`` (values by column name; one a row lacks is NULL) in one set-based INSERT:
        executemany is a statement a row, and outside a transaction a commit a row. Each value
        goes in as its text, which DuckDB casts to the column's type exactly (a Decimal's text
        is its value, a date's ISO 8601)."""
        if not rows:
            return
        frame = pl.DataFrame(
            [{c.name: None if row.get(c.name) is None else str(row[c.name]) for c in self.columns}
             for row in rows],
            schema={c.name: pl.String for c in self.columns},
        )  # fmt: skip
        con.register(f"incoming_{self.name}", frame)
        try:
            con.execute(f"INSERT INTO {self.name} BY NAME SELECT * FROM incoming_{self.name}")
        finally:
            con.unregister(f"incoming_{self.name}")


_SQL_TYPES = {pl.String: "VARCHAR", pl.Int64: "BIGINT", pl.Float64: "DOUBLE", pl.Date: "DATE",
              pl.Boolean: "BOOLEAN"}  # fmt: skip


def _sql_type(dtype: pl.DataType) -> str:
    return "DECIMAL(18,2)" if isinstance(dtype, pl.Decimal) else _SQL_TYPES[dtype]


SCOPE = (
    Column(
        "programme_code",
        "VARCHAR",
        Said("项目代码（programme.yaml 的 code）", "Programme code (the code in programme.yaml)"),
    ),
    Column("year", "INTEGER", Said("项目年度", "Programme year")),
    Column("county_code", "VARCHAR", Said("区县代码（GB/T 2260）", "County code (GB/T 2260)")),
)
# The first columns of every table a run writes per programme (metrics, scores, findings).
RUN_SCOPE = (
    Column("run_id", "VARCHAR", Said("运行编号", "Run id")),
    Column("programme_code", "VARCHAR", Said("项目代码", "Programme code")),
    Column("year", "INTEGER", Said("项目年度", "Programme year")),
)
LINEAGE = (
    Column(
        "source_file",
        "VARCHAR",
        Said(
            "来源文件（项目目录下的相对路径）",
            "Source file (path relative to the programme folder)",
        ),
    ),
    Column("source_sha256", "VARCHAR", Said("来源文件的 SHA-256", "SHA-256 of the source file")),
    Column(
        "source_sheet",
        "VARCHAR",
        Said("来源工作表（CSV 为文件名）", "Source sheet (for a CSV, the file name)"),
    ),
    Column(
        "source_row",
        "BIGINT",
        Said(
            "来源行号（与 Excel 中所见一致，表头为第 1 行）",
            "Source row number (as Excel shows it; the header is row 1)",
        ),
    ),
)
# What a resident ID or a certificate number leaves beside its keyed hash: only what checks
# need (a certificate adds its category and grade).
ID_COLUMNS = (
    Column(
        "region_code",
        "VARCHAR",
        Said(
            "身份证号前 6 位：户籍地行政区划代码（核查是否本区县人员）",
            "First 6 digits of the ID number: the administrative division code of household registration (to check the person belongs to the county)",
        ),
    ),
    Column(
        "age",
        "INTEGER",
        Said(
            "当日（{date}）已满周岁，由证号中的出生日期算出；出生日期不入库",
            "Age in full years on the day ({date}), computed from the birth date in the ID number; the birth date is not stored",
        ),
    ),
)
CERT_COLUMNS = (
    *ID_COLUMNS,
    Column("disability_category", "VARCHAR", Said("残疾类别（1–7）", "Disability category (1–7)")),
    Column("disability_grade", "VARCHAR", Said("残疾等级（1–4）", "Disability grade (1–4)")),
)

# What DICTIONARY.md says of personal data: what stays, why, and what the key protects.
PERSONAL_DATA = Said(
    """\
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
""",
    """\
## Personal data (SPEC §4): what the warehouse keeps

- Disability certificate numbers are stored only as the keyed hash `cert_hash` (HMAC-SHA256), with the
  four items checks need: the administrative division code of household registration `region_code`
  (whether the person belongs to the county), the age in full years on the event's day `age` (working
  age), and the disability category and grade. Birth dates, sequence codes and check digits are not
  stored; names are not stored.
- Names are kept only as keyed hashes in `name_hashes`: the names found paired with certificate numbers
  in county files (a name column's values, names on the same row as a number, names just before one),
  computed with another key derived from the hashing key and tied to no row or file, used only to mask
  these names in the self-evaluation report's sentences, in findings and in reports (names in files
  later runs skip as unchanged included).
- ID numbers, certificate numbers and unified social credit codes are recognised by their shape,
  whatever column, sheet, file name or report they are written in: free-text columns (places, unit
  names, competition events, voucher numbers …) are masked before loading, refusal notes and
  `ingest_log` before writing, file names before recording (`530102**********1234`, a surname and
  asterisks).
- The four items kept do not single out a person, but they narrow the field: whoever holds the key
  can hash every candidate in "that region × about one year of birth dates × category × grade × 1000
  sequence codes" and compare it with `cert_hash`, recovering the number. So the hashing key is kept
  outside the warehouse (`~/.config/jixiao/hash.key`, or the file the environment variable
  `JIXIAO_HASH_KEY_FILE` names); neither it nor the HMAC intermediate values computed from it are ever
  written to any table, temporary table or file under `data/curated/`, and programme.yaml's indicator
  SQL cannot read it.
- `runs.key_fingerprint` is the key's HMAC of a fixed label (its first 16 hex digits), used only to
  check the key: the key cannot be derived from it. If the next run cannot find the key, or the key's
  fingerprint differs from the latest run's, the run stops and says how to recover; `jixiao run
  --new-key` deliberately moves to a new key and hashes every record again from the raw submissions.
""",
)


def sheet_table(sheet: Sheet) -> Table:
    columns = list(SCOPE)
    for key, label in sheet.labels.items():
        kind = sheet.personal.get(key)
        if kind in ("cert", "id", "hash"):
            columns.append(Column(hash_column(key), "VARCHAR", Said(
                f"{label}的带密钥散列（HMAC-SHA256），同一人各表一致",
                f"keyed hash (HMAC-SHA256) of {label}, the same for one person in every table")))  # fmt: skip
        if kind in ("cert", "id"):
            on = sheet.labels.get(sheet.age_on or "")
            date = Said(on, on) if on else Said("项目年度末", "the end of the programme year")
            columns += [Column(c.name, c.type, Said(c.description.zh.format(date=date.zh),
                                                    c.description.en.format(date=date.en)))
                        for c in (CERT_COLUMNS if kind == "cert" else ID_COLUMNS)]  # fmt: skip
        elif kind is None:
            about = sheet.fields[key].description or label
            columns.append(Column(key, _sql_type(sheet.dtypes[key]), Said(
                f"{label}：{about}（{sheet.rules[key]}）",
                f"{label}: {about} ({sheet.rules_en[key]})")))  # fmt: skip
    # The programme's own words (sheet title, its description, column labels) stay as written.
    described = sheet.decl.description
    return Table(
        sheet.key,
        Said(sheet.title, sheet.title),
        Said(described, described) if described else Said(
            f"区县报送表「{sheet.title}」中通过契约校验的行。",
            f"Rows of the county sheet '{sheet.title}' that passed the contract checks."),
        (*columns, *LINEAGE),
    )  # fmt: skip


COUNTIES = Table(
    "counties",
    Said("区县", "Counties"),
    Said(
        "programme.yaml 中的区县：代码与名称，供按区县汇总时显示名称。",
        "The counties of programme.yaml: code and name, to show names in per-county summaries.",
    ),
    (
        Column("programme_code", "VARCHAR", Said("项目代码", "Programme code")),
        Column("year", "INTEGER", Said("项目年度", "Programme year")),
        Column("county_code", "VARCHAR", Said("区县代码", "County code")),
        Column("name", "VARCHAR", Said("区县名称", "County name")),
    ),
)

BUDGET_LINES = Table(
    "budget_lines",
    Said("预算科目", "Budget lines"),
    Said(
        "programme.yaml 中的预算科目及预算金额。",
        "The budget lines of programme.yaml and their budgeted amounts.",
    ),
    (
        Column("programme_code", "VARCHAR", Said("项目代码", "Programme code")),
        Column("year", "INTEGER", Said("项目年度", "Programme year")),
        Column("code", "VARCHAR", Said("预算科目代码", "Budget line code")),
        Column("name", "VARCHAR", Said("预算科目名称", "Budget line name")),
        Column("amount_yuan", "DECIMAL(18,2)", Said("预算金额（元）", "Budgeted amount (yuan)")),
    ),
)

STATED_TOTALS = Table(
    "stated_totals",
    Said("报送表中的合计", "Totals stated in county sheets"),
    Said(
        "已接收的区县报送表中填写的合计、小计、总计：这些行不是数据，不入各表，逐格与所合计的列核对"
        "（RECORDS.TOTAL_DISAGREES）。区县重新报送某表时，其合计随该表的行一并替换。",
        "The totals, subtotals and grand totals written in accepted county sheets: these rows are not data, are kept out of the sheet tables, and are checked cell by cell against the column they total (RECORDS.TOTAL_DISAGREES). When a county submits a sheet again, its totals are replaced with its rows.",
    ),
    (
        *SCOPE,
        Column("sheet", "VARCHAR", Said("表（模板中的键名）", "Sheet (its key in the template)")),
        Column(
            "column_key",
            "VARCHAR",
            Said(
                "所合计的列（键名）：整数、数值或金额列",
                "Column totalled (its key): an integer, number or money column",
            ),
        ),
        Column(
            "label",
            "VARCHAR",
            Said(
                "行的名称，按原样：合计、小计、总计（如「合 计」）",
                "The row's label as written: total, subtotal or grand total (in Chinese, spaces and all)",
            ),
        ),
        Column(
            "cell", "VARCHAR", Said("合计所在单元格，如 F12", "Cell holding the total, such as F12")
        ),
        Column(
            "from_row",
            "BIGINT",
            Said(
                "所合计的第一行（Excel 行号）：合计、总计为表中全部数据行，小计为上一小计或表头之后的行",
                "First row totalled (Excel row number): for a total or grand total, every data row of the sheet; for a subtotal, the rows after the previous subtotal or the header",
            ),
        ),
        Column(
            "to_row",
            "BIGINT",
            Said("所合计的最后一行（Excel 行号）", "Last row totalled (Excel row number)"),
        ),
        Column(
            "stated",
            "DECIMAL(38,6)",
            Said(
                "填写的合计数，按该列的类型读出（金额为元，精确到分，如 0.12万 为 1200）；"
                "无法读作数值时为空，原文见 stated_text",
                "The stated total, read as the column's type (money in yuan, exact to the fen: 0.12 ten-thousand yuan is 1200); empty when it cannot be read as a number, its text is in stated_text",
            ),
        ),
        Column(
            "stated_text",
            "VARCHAR",
            Said(
                "合计单元格的原文（如 1,200、0.12万、1200元），个人信息已遮蔽",
                "The total cell's text as written (such as 1,200 or 1200 with a unit), personal data masked",
            ),
        ),
        *LINEAGE[:3],
        Column(
            "source_row",
            "BIGINT",
            Said("合计所在行（Excel 行号）", "Row of the total (Excel row number)"),
        ),
    ),
)

INGEST_LOG = Table(
    "ingest_log",
    Said("报送文件日志", "Submitted-file log"),
    Said(
        "每个见到的报送文件：一次接收、拒收或被替代一行。",
        "Every submitted file seen: one row each time it is accepted, refused or superseded.",
    ),
    (
        Column(
            "run_id",
            "VARCHAR",
            Said(
                "处理该文件的运行编号（runs.run_id）", "Run that processed the file (runs.run_id)"
            ),
        ),
        Column("programme_code", "VARCHAR", Said("项目代码", "Programme code")),
        Column("year", "INTEGER", Said("项目年度", "Programme year")),
        Column(
            "county_code",
            "VARCHAR",
            Said("区县代码；无法识别时为空", "County code; empty when it could not be recognised"),
        ),
        Column(
            "file",
            "VARCHAR",
            Said("文件（项目目录下的相对路径）", "File (path relative to the programme folder)"),
        ),
        Column(
            "version",
            "INTEGER",
            Said("报送版本（.v2 为 2，缺省为 1）", "Submission version (2 for .v2, 1 by default)"),
        ),
        Column(
            "sha256",
            "VARCHAR",
            Said(
                "文件内容的 SHA-256，相同内容不重复处理；超过大小上限、未读即拒收的文件为其大小的 "
                "SHA-256（拒收只取决于大小，大小不变即不再处理）",
                "SHA-256 of the file's content: the same content is not processed twice; for a file over the size limit, refused unread, the SHA-256 of its size (the refusal depends on the size only, so a file of unchanged size is not processed again)",
            ),
        ),
        Column("size_bytes", "BIGINT", Said("文件大小（字节）", "File size (bytes)")),
        Column(
            "sheets",
            "VARCHAR[]",
            Said("文件包含的表（键名）", "Sheets the file holds (their keys)"),
        ),
        Column(
            "sheets_absent",
            "VARCHAR[]",
            Said(
                "工作簿未包含的模板表（区县当年无此项内容）：视为未报送，其此前报送的行一并撤下",
                "Template sheets the workbook does not hold (nothing of the kind for the county that year): taken as not submitted, and their rows submitted before are withdrawn",
            ),
        ),
        Column(
            "notes",
            "VARCHAR[]",
            Said(
                "读取时的说明：隐藏的行或工作表、未读取的工作表、表尾、栏次行等（区县看到的版式）",
                "Notes on reading: hidden rows or sheets, sheets not read, footers, column-number rows and the like (the layout the county sees)",
            ),
        ),
        Column(
            "notes_en",
            "VARCHAR[]",
            Said(
                "notes 的英文（--lang en 的输出用；旧版本写入的行为空，输出时改用 notes）",
                "The notes in English (for --lang en outputs; empty in rows older versions wrote, where outputs use notes)",
            ),
        ),
        Column(
            "status",
            "VARCHAR",
            Said(
                "accepted 已接收 / refused 已拒收 / superseded 已被替代（被同一区县后来接收的文件，"
                "或内容相同的已接收文件）",
                "accepted / refused / superseded (by a file the same county had accepted later, or by an accepted file of the same content)",
            ),
        ),
        Column("rows_read", "BIGINT", Said("读取的数据行数", "Data rows read")),
        Column("rows_loaded", "BIGINT", Said("入库的行数", "Rows loaded")),
        Column("error_count", "INTEGER", Said("问题条数", "Number of problems")),
        Column(
            "errors",
            "JSON",
            Said(
                "问题明细（规则、工作表、行、列、值、要求、说明），个人信息已遮蔽",
                "The problems (rule, sheet, row, column, value, requirement, explanation), personal data masked",
            ),
        ),
        Column(
            "feedback_file",
            "VARCHAR",
            Said(
                "给区县的整改反馈文件（feedback/ 下的相对路径）；无法识别所属区县的文件，其说明页在与 "
                "feedback/ 并列的 unassigned/ 下（以 unassigned/ 开头）",
                "Feedback file for the county (path under feedback/); for a file whose county could not be recognised, its page is under unassigned/ beside feedback/ (starting with unassigned/)",
            ),
        ),
        Column("superseded_by", "VARCHAR", Said("替代它的文件", "File that superseded it")),
        Column("ingested_at", "TIMESTAMPTZ", Said("处理时间", "Time processed")),
    ),
)


FILE_STATS = Table(
    "file_stats",
    Said("文件状态缓存", "File status cache"),
    Said(
        "每个区县报送文件上次散列时的文件系统状态（大小、修改时间、状态改变时间、inode）与 SHA-256："
        "状态完全相同、且记录时已不在同一时钟刻度内可能被改写的文件，下次运行不再读取散列（同 git 的"
        "索引）。--rebuild 与 --new-key 清空它，全部文件重新散列。",
        "Each county file's file-system status (size, modification time, status-change time, inode) and SHA-256 when it was last hashed: a file whose status is exactly the same, and which could no longer be rewritten within the same clock tick when recorded, is not read and hashed again by the next run (like git's index). --rebuild and --new-key empty it, and every file is hashed again.",
    ),
    (
        Column("programme_code", "VARCHAR", Said("项目代码", "Programme code")),
        Column("year", "INTEGER", Said("项目年度", "Programme year")),
        Column("file", "VARCHAR", Said("文件（同 ingest_log.file）", "File (as ingest_log.file)")),
        Column("size_bytes", "BIGINT", Said("文件大小（字节）", "File size (bytes)")),
        Column(
            "mtime_ns",
            "BIGINT",
            Said("修改时间（纳秒，st_mtime_ns）", "Modification time (nanoseconds, st_mtime_ns)"),
        ),
        Column(
            "ctime_ns",
            "BIGINT",
            Said(
                "状态改变时间（纳秒，st_ctime_ns：任何改写、改回修改时间都会更新它）",
                "Status-change time (nanoseconds, st_ctime_ns: any rewrite, or setting the modification time back, updates it)",
            ),
        ),
        Column(
            "inode",
            "BIGINT",
            Said(
                "inode 编号（换成另一个文件即不同）",
                "inode number (differs once the file is replaced by another)",
            ),
        ),
        Column(
            "sha256", "VARCHAR", Said("当时散列所得的 SHA-256", "SHA-256 the hashing then gave")
        ),
        Column(
            "stat_at_ns",
            "BIGINT",
            Said(
                "读取文件状态的时刻（纳秒）：改变时间距此不足 2 秒的记录不被信任",
                "When the status was read (nanoseconds): a record whose change time is less than 2 seconds before it is not trusted",
            ),
        ),
    ),
)


SUMMARY_ROWS = Table(
    "summary_rows",
    Said("数据质量汇总缓存", "Data-quality summary cache"),
    Said(
        "最近一次审计中记录规则的汇总表（Great Expectations 所核查的行，checks/expectations.py），"
        "每行属于一个区县（跨区县的规则：该组记录的第一个区县）：增量审计只重算变化可能触及的区县的行"
        "（跨区县的规则：变化的区县中有记录的人或单位，在变化前后有记录的所有区县），其余沿用，"
        "与全量计算所得相同。--rebuild 清空它。",
        "The latest audit's summary tables of the record rules (the rows Great Expectations checks, checks/expectations.py), each row belonging to one county (for a rule across counties: its group's first county): an incremental audit recomputes only the rows of the counties a change can touch (for a rule across counties: every county where a person or employer with rows in a changed county has rows, before or after the change) and keeps the others, the same as a full computation gives. --rebuild empties it.",
    ),
    (
        Column("programme_code", "VARCHAR", Said("项目代码", "Programme code")),
        Column("year", "INTEGER", Said("项目年度", "Programme year")),
        Column(
            "summary",
            "VARCHAR",
            Said("汇总表名（如 payments_visits）", "Summary table name (such as payments_visits)"),
        ),
        Column(
            "county_code",
            "VARCHAR",
            Said(
                "该行所属区县（汇总表的 county_code 列）",
                "County the row belongs to (the summary table's county_code column)",
            ),
        ),
        Column("run_id", "VARCHAR", Said("计算或沿用它的运行", "Run that computed or kept it")),
        Column("row", "VARCHAR", Said("该行各列（JSON）", "The row's columns (JSON)")),
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
    Said("运行记录", "Runs"),
    Said(
        "每次运行一行：项目文件及其散列（区县报送文件在 run_inputs）、计数、耗时，代码、规则目录与各库的版本。",
        "One row per run: the programme files and their hashes (the county files are in run_inputs), counts, duration, and the versions of the code, the rule catalogue and the libraries.",
    ),
    (
        Column("run_id", "VARCHAR", Said("运行编号", "Run id")),
        Column(
            "seq",
            "BIGINT",
            Said(
                "运行序号，仓库内逐次加 1：「最近一次」「上一次」运行按它判断，不按时钟",
                "Run sequence number, one more for each run in the warehouse: the latest and previous runs are judged by it, never by a clock",
            ),
        ),
        Column("flow_run_id", "VARCHAR", Said("Prefect 流程运行编号", "Prefect flow run id")),
        Column("started_at", "TIMESTAMPTZ", Said("开始时间", "Start time")),
        Column("finished_at", "TIMESTAMPTZ", Said("结束时间", "End time")),
        Column("duration_s", "DOUBLE", Said("耗时（秒）", "Duration (seconds)")),
        Column("raw_dir", "VARCHAR", Said("输入目录", "Input folder")),
        Column(
            "programme_files",
            "JSON",
            Said(
                "各项目的 programme.yaml、自评报告与 reviews/ 下的复核工作簿及其 SHA-256"
                "（programme、year、file、sha256）；区县报送文件在 run_inputs",
                "Each programme's programme.yaml, self-evaluation report and review workbooks under reviews/, with their SHA-256 (programme, year, file, sha256); the county files are in run_inputs",
            ),
        ),
        Column(
            "options",
            "JSON",
            Said(
                "本次运行的选项：报告目录（--out）与语言（--lang）",
                "This run's options: the reports folder (--out) and the language (--lang)",
            ),
        ),
        Column("files_seen", "INTEGER", Said("见到的文件数", "Files seen")),
        Column(
            "files_skipped", "INTEGER", Said("内容未变而跳过的文件数", "Files skipped as unchanged")
        ),
        Column("files_accepted", "INTEGER", Said("接收的文件数", "Files accepted")),
        Column("files_refused", "INTEGER", Said("拒收的文件数", "Files refused")),
        Column(
            "files_superseded",
            "INTEGER",
            Said(
                "到达时已有更新版本、未入库的文件数",
                "Files not loaded because a newer version had already arrived",
            ),
        ),
        Column("rows_loaded", "BIGINT", Said("入库的行数", "Rows loaded")),
        Column(
            "code_version",
            "VARCHAR",
            Said("jixiao 版本与 git 提交", "jixiao version and git commit"),
        ),
        Column(
            "catalogue_version",
            "VARCHAR",
            Said(
                "规则目录的版本：checks/CATALOGUE.md 内容（由规则生成）的 SHA-256",
                "Rule catalogue version: SHA-256 of checks/CATALOGUE.md's content (generated from the rules)",
            ),
        ),
        Column(
            "library_versions",
            "JSON",
            Said(
                "计算结果所用的 Python 及各库版本（duckdb、polars、pandera、great_expectations 等）",
                "Versions of Python and the libraries the results were computed with (duckdb, polars, pandera, great_expectations …)",
            ),
        ),
        Column(
            "key_fingerprint",
            "VARCHAR",
            Said(
                "本次散列所用密钥的指纹（密钥对固定标签的 HMAC，前 16 位），推不出密钥",
                "Fingerprint of the key this run hashed with (the key's HMAC of a fixed label, first 16 hex digits); the key cannot be derived from it",
            ),
        ),
        Column(
            "skipped",
            "JSON",
            Said(
                "本次跳过的项目及原因（programme.yaml 无法使用、度量 SQL 被拒或失败）",
                "Programmes this run skipped and why (programme.yaml unusable, a metric SQL refused or failed)",
            ),
        ),
        Column(
            "status",
            "VARCHAR",
            Said(
                "completed 全部完成 / partial 有项目被跳过 / unchanged 输入与上次运行相同，未重新审计，沿用"
                "已发布的结果（运行中为 running，只见于未发布的暂存文件）",
                "completed: all done / partial: a programme was skipped / unchanged: inputs as in the previous run, not audited again, the published results kept (running while it runs, seen only in unpublished staging files)",
            ),
        ),
    ),
)

CLAIMS = Table(
    "claims",
    Said("报告数据", "Report figures"),
    Said(
        "自评报告中陈述的每一个数据及其位置（jixiao check-report 抽取）。",
        "Every figure the self-evaluation report states and where it states it (extracted by jixiao check-report).",
    ),
    (
        Column("programme_code", "VARCHAR", Said("项目代码", "Programme code")),
        Column("year", "INTEGER", Said("项目年度", "Programme year")),
        Column(
            "report_file",
            "VARCHAR",
            Said(
                "报告文件（项目目录下的相对路径）",
                "Report file (path relative to the programme folder)",
            ),
        ),
        Column(
            "report_sha256", "VARCHAR", Said("报告文件的 SHA-256", "SHA-256 of the report file")
        ),
        Column(
            "text",
            "VARCHAR",
            Said(
                "原文写法，如 33.5万元、九场、55.56%",
                "The figure as written (such as 55.56%), in the report's words",
            ),
        ),
        Column(
            "value",
            "DECIMAL(38,6)",
            Said(
                "规范化数值：金额为元，百分比为百分点；日期为空",
                "Normalised value: money in yuan, percentages in percentage points; empty for dates",
            ),
        ),
        Column(
            "exponent",
            "INTEGER",
            Said(
                "最后一位有效数字的量级（55.56% 为 -2，33.5万元 为 3），用于舍入区间",
                "Magnitude of the last significant digit (-2 for 55.56%, 3 for 335 thousand yuan written in ten-thousands), for the rounding interval",
            ),
        ),
        Column(
            "unit",
            "VARCHAR",
            Said(
                "规范化单位：元、%、分、场、户、人 …",
                "Normalised unit, in the report's Chinese: yuan, %, points, events, households, persons …",
            ),
        ),
        Column(
            "kind",
            "VARCHAR",
            Said(
                "money | percent | count | score | date | number",
                "money | percent | count | score | date | number",
            ),
        ),
        Column(
            "subject",
            "VARCHAR",
            Said(
                "所指对象（词表中的主题，如 job_fairs）",
                "What it refers to (a subject of the vocabulary, such as job_fairs)",
            ),
        ),
        Column(
            "measure",
            "VARCHAR",
            Said("度量（场次、户数、比率 …）", "Measure (events, households, rate …)"),
        ),
        Column(
            "role",
            "VARCHAR",
            Said("target 目标 / actual 实际 / rate 比率", "target / actual / rate"),
        ),
        Column(
            "bound",
            "VARCHAR",
            Said(">= 不低于 / <= 不超过 / by 期限", ">= at least / <= at most / by a deadline"),
        ),
        Column("date", "DATE", Said("日期型数据的日期", "The date, for a date figure")),
        Column("line", "INTEGER", Said("所在行", "Line")),
        Column("section", "VARCHAR", Said("所在章节路径", "Section path")),
        Column(
            "sentence",
            "VARCHAR",
            Said(
                "所在语句；表格单元格为 表名 › 行 › 列",
                "Sentence; for a table cell, table › row › column",
            ),
        ),
        Column(
            "table_index",
            "INTEGER",
            Said("表格序号（从 0 起）；正文为空", "Table number (from 0); empty for body text"),
        ),
        Column("table_row", "INTEGER", Said("表格行（0 为表头）", "Table row (0 is the header)")),
        Column("table_col", "INTEGER", Said("表格列", "Table column")),
    ),
)

METRICS = Table(
    "metrics",
    Said("指标实际值", "Indicator actuals"),
    Said(
        "每次运行按 programme.yaml 中各指标的 SQL 度量从仓库计算出的实际值。",
        "The actual values each run computes from the warehouse with each indicator's SQL metric in programme.yaml.",
    ),
    (
        *RUN_SCOPE,
        Column(
            "indicator_id",
            "VARCHAR",
            Said("指标 id（programme.yaml）", "Indicator id (programme.yaml)"),
        ),
        Column("name", "VARCHAR", Said("指标名称", "Indicator name")),
        Column(
            "value",
            "DECIMAL(38,6)",
            Said("实际值（数值型指标）", "Actual value (numeric indicators)"),
        ),
        Column(
            "value_date",
            "DATE",
            Said("实际日期（时效型指标）", "Actual date (deadline indicators)"),
        ),
        Column("unit", "VARCHAR", Said("单位", "Unit")),
        Column("metric_sql", "VARCHAR", Said("所用 SQL", "SQL used")),
    ),
)

SCORES = Table(
    "scores",
    Said("指标得分", "Indicator scores"),
    Said(
        "按 programme.yaml 的评分规则重新计算的得分，与报告自评得分并列。",
        "Scores recomputed with the scoring rules of programme.yaml, beside the report's self-assessed scores.",
    ),
    (
        *RUN_SCOPE,
        Column(
            "level",
            "INTEGER",
            Said(
                "3 为指标，1 为一级指标合计，0 为总分",
                "3 for an indicator, 1 for a first-level indicator's sum, 0 for the total",
            ),
        ),
        Column(
            "indicator_id",
            "VARCHAR",
            Said(
                "指标 id；一级指标与总分为其名称",
                "Indicator id; for first-level indicators and the total, their name",
            ),
        ),
        Column("level1", "VARCHAR", Said("一级指标", "First-level indicator")),
        Column("name", "VARCHAR", Said("名称", "Name")),
        Column(
            "kind",
            "VARCHAR",
            Said(
                "评分方式：higher / lower / equal / deadline / qualitative / budget_execution",
                "Scoring method: higher / lower / equal / deadline / qualitative / budget_execution",
            ),
        ),
        Column("weight", "DECIMAL(9,2)", Said("权重（满分）", "Weight (full marks)")),
        Column(
            "target",
            "VARCHAR",
            Said("目标值（如书写：数值或日期）", "Target as written: a number or a date"),
        ),
        Column(
            "actual",
            "VARCHAR",
            Said("实际值（如书写：数值或日期）", "Actual as written: a number or a date"),
        ),
        Column("score", "DECIMAL(9,2)", Said("重新计算的得分", "Recomputed score")),
        Column("deduction", "DECIMAL(9,2)", Said("扣分", "Deduction")),
        Column(
            "claimed_score",
            "DECIMAL(9,2)",
            Said(
                "报告自评得分（若报告给出）",
                "The report's self-assessed score (if the report gives one)",
            ),
        ),
        Column(
            "grade",
            "VARCHAR",
            Said(
                "等级（总分行：优 / 良 / 中 / 差）",
                "Grade (total row: excellent / good / fair / poor, stored in Chinese)",
            ),
        ),
        Column(
            "explanation",
            "VARCHAR",
            Said("得分与扣分的说明", "Explanation of the score and deduction"),
        ),
        Column(
            "target_value",
            "DECIMAL(38,6)",
            Said("目标值（数值型指标）", "Target value (numeric indicators)"),
        ),
        Column(
            "actual_value",
            "DECIMAL(38,6)",
            Said("实际值（数值型指标）", "Actual value (numeric indicators)"),
        ),
        Column(
            "target_date", "DATE", Said("目标日期（时效指标）", "Target date (deadline indicators)")
        ),
        Column(
            "actual_date",
            "DATE",
            Said("完成日期（时效指标）", "Completion date (deadline indicators)"),
        ),
    ),
)

FINDINGS = Table(
    "findings",
    Said("审计发现", "Audit findings"),
    Said(
        "每次运行的全部发现（SPEC §3.1），按指纹跟踪新增与已整改。",
        "Every finding of every run (SPEC §3.1), followed by fingerprint as new or resolved.",
    ),
    (
        *RUN_SCOPE,
        Column(
            "rule_id",
            "VARCHAR",
            Said("规则 id（checks/CATALOGUE.md）", "Rule id (checks/CATALOGUE.md)"),
        ),
        Column("severity", "VARCHAR", Said("error / warning / info", "error / warning / info")),
        Column("subject", "VARCHAR", Said("所涉对象", "Subject concerned")),
        Column("claimed", "VARCHAR", Said("报告所述", "What the report states")),
        Column(
            "observed",
            "VARCHAR",
            Said("记录或计算所得", "What the records give or computation yields"),
        ),
        Column("message", "VARCHAR", Said("说明（运行所用的语言）", "Message (in the run's language)")),
        Column(
            "evidence",
            "JSON",
            Said(
                "证据：报告章节与行（section、line），或区县（county_code、"
                "county）、文件、工作表、行（file、sheet、row），及摘录（text）",
                "Evidence: the report's section and line (section, line), or the county (county_code, county), file, sheet and row (file, sheet, row), with an excerpt (text)",
            ),
        ),
        Column(
            "fingerprint",
            "VARCHAR",
            Said(
                "跨运行稳定的指纹（规则、对象、数据与项目年度）",
                "Fingerprint stable across runs (rule, subject, figures and programme year)",
            ),
        ),
        Column("amount_yuan", "DECIMAL(18,2)", Said("涉及金额（元）", "Amount involved (yuan)")),
        Column(
            "amount_basis",
            "VARCHAR",
            Said(
                "涉及金额的计算：所算何额，及由本发现数字得出它的算式",
                "How the amount involved is computed: what it counts, and the formula from this finding's figures",
            ),
        ),
        Column("basis", "VARCHAR", Said("依据", "Basis")),
        Column("suggestion", "VARCHAR", Said("整改建议", "Suggested remedy")),
        Column(
            "status",
            "VARCHAR",
            Said(
                "new 新增 / open 持续 （相对上一次运行）",
                "new / open (relative to the previous run)",
            ),
        ),
        Column(
            "label",
            "VARCHAR",
            Said(
                "说明中所称的对象（如区县与工作表）",
                "What the message names (such as the county and sheet)",
            ),
        ),
        Column(
            "params",
            "JSON",
            Said(
                "说明的其余参数：增量审计据此沿用未受影响的发现",
                "The message's other parameters: an incremental audit keeps unaffected findings by them",
            ),
        ),
    ),
)

REVIEWS = Table(
    "reviews",
    Said("复核结论", "Review decisions"),
    Said(
        "审计人员对发现的复核结论（SPEC §3.2），按指纹保存：来自放入 reviews/ 的 findings.xlsx（复核结论、"
        "复核意见、复核人三列）。同一指纹以复核时间最晚者为准；空白的复核结论不改变已有结论，与已有结论相同的"
        "不改变其来源与时间。发现仍存在时，各次运行的报告均显示其复核结论；不予采纳的发现单独列出，不计入"
        "未解决的问题。",
        "The auditors' decisions on findings (SPEC §3.2), kept by fingerprint: from findings.xlsx workbooks put in reviews/ (the decision, comment and reviewer columns). For one fingerprint the latest review wins; a blank decision leaves an existing one as it is, and one equal to the existing decision keeps that decision's source and time. While a finding remains, every run's report shows its decision; dismissed findings are listed apart and not counted as open problems.",
    ),
    (
        Column("programme_code", "VARCHAR", Said("项目代码", "Programme code")),
        Column("year", "INTEGER", Said("项目年度", "Programme year")),
        Column(
            "fingerprint",
            "VARCHAR",
            Said(
                "所复核发现的指纹（findings.fingerprint）",
                "Fingerprint of the finding reviewed (findings.fingerprint)",
            ),
        ),
        Column(
            "decision",
            "VARCHAR",
            Said(
                "确认 / 不予采纳 / 待定",
                "Confirmed / dismissed / pending, stored in Chinese as the review workbook offers them",
            ),
        ),
        Column(
            "reason",
            "VARCHAR",
            Said(
                "复核意见（不予采纳的理由等），个人信息已遮蔽",
                "Reviewer's comment (such as why a finding is dismissed), personal data masked",
            ),
        ),
        Column("reviewer", "VARCHAR", Said("复核人", "Reviewer")),
        Column(
            "decided_at",
            "TIMESTAMPTZ",
            Said(
                "复核时间：复核工作簿文件的修改时间（最后保存时间）",
                "Time of review: the review workbook's modification time (when it was last saved)",
            ),
        ),
        Column(
            "source_file",
            "VARCHAR",
            Said(
                "来源：复核工作簿（项目目录下的相对路径）及工作表、行",
                "Source: the review workbook (path relative to the programme folder), sheet and row",
            ),
        ),
    ),
)

NAME_HASHES = Table(
    "name_hashes",
    Said("姓名散列", "Name hashes"),
    Said(
        "区县报送文件中与身份证号成对出现的姓名（姓名列的值、与证号同行的姓名、证号前的姓名），"
        "仅存带密钥散列，且不与任何行、文件关联：只用于在自评报告、发现和日志中遮蔽这些姓名，"
        "包括以后运行中未变化而跳过的文件里的姓名。",
        "Names found paired with ID numbers in county files (a name column's values, names on the same row as an ID number, names just before one), kept only as keyed hashes and tied to no row or file: used only to mask these names in the self-evaluation report, findings and logs, including names in files later runs skip as unchanged.",
    ),
    (
        Column("programme_code", "VARCHAR", Said("项目代码", "Programme code")),
        Column("year", "INTEGER", Said("项目年度", "Programme year")),
        Column(
            "name_hash",
            "VARCHAR",
            Said(
                "姓名的带密钥散列（HMAC-SHA256，密钥与证号散列不同）",
                "Keyed hash of the name (HMAC-SHA256, with a key other than the ID numbers')",
            ),
        ),
    ),
)

# A row per file, not a value of runs: each night then writes its own rows, where a list in
# runs had every run's written again at each checkpoint.
RUN_INPUTS = Table(
    "run_inputs",
    Said("运行输入", "Run inputs"),
    Said(
        "每次运行见到的每个区县报送文件及其 SHA-256，一个文件一行（run_id 同 runs）。",
        "Every county file each run saw, with its SHA-256, a row per file (run_id as in runs).",
    ),
    (
        *RUN_SCOPE,
        Column("file", "VARCHAR", Said("文件（同 ingest_log.file）", "File (as ingest_log.file)")),
        Column("sha256", "VARCHAR", Said("文件内容的 SHA-256", "SHA-256 of the file's content")),
    ),
)


# The run history: kept by `jixiao run --rebuild` from an old warehouse that still opens, where
# everything else is rebuilt from data/raw. FINDINGS name people by their keyed hash, so
# `--new-key` keeps the others only.
# REVIEWS are the auditors' decisions, kept with the history; their fingerprints do not depend
# on the key.
HISTORY: tuple[Table, ...] = (RUNS, RUN_INPUTS, METRICS, SCORES, FINDINGS, REVIEWS)

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
    RUN_INPUTS,
    NAME_HASHES,
    STATED_TOTALS,
    SUMMARY_ROWS,
)
