"""Load a batch of accepted files into the staging warehouse, set-based: one statement per
table, whatever the number of files."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import duckdb
import polars as pl

from jixiao.checkpoints import checkpoint
from jixiao.checks.findings import fingerprint
from jixiao.ingest.normalise import normalise_column
from jixiao.ingest.personal import hmac_pads, name_pads
from jixiao.ingest.problems import Problem
from jixiao.ingest.validate import ROW
from jixiao.schemas.contracts import FILE, Sheet
from jixiao.schemas.programme import Programme, ProgrammeError
from jixiao.schemas.template import hash_column
from jixiao.schemas.warehouse import (
    BUDGET_LINES,
    COUNTIES,
    FINDINGS,
    HISTORY,
    INGEST_LOG,
    METRICS,
    NAME_HASHES,
    RUN_INPUTS,
    RUNS,
    SCORES,
    STATED_TOTALS,
    TABLES,
    Table,
    latest_log_entries,
    sheet_table,
)


def create_tables(con: duckdb.DuckDBPyConnection, *programmes: Programme,
                  notify: Callable[[str], object] = print, lang: str = "zh") -> None:  # fmt: skip
    """jixiao's own tables, and what a warehouse published by an earlier version lacks: the
    columns the tables have gained, the year of its run history (`_years`); then
    the programmes' sheet tables. ``notify`` is told, in ``lang``, what was migrated or
    rebuilt."""
    for table in TABLES:
        con.execute(table.ddl())
    _add_columns(con, RUNS, INGEST_LOG)
    _run_inputs(con)
    _years(con, notify, lang)
    # their newer columns (findings' amount formula, label and params; scores' typed targets
    # and actuals), after _years: a year added here would be NULL, not the one _years gives
    _add_columns(con, FINDINGS, SCORES)
    for programme in programmes:
        create_sheet_tables(con, programme)


def _add_columns(con: duckdb.DuckDBPyConnection, *tables: Table) -> None:
    for table in tables:
        for column in table.columns:
            con.execute(
                f"ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS {column.name} {column.type}"
            )


def _run_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse published before `run_inputs` kept each run's county files as one JSON
    list in runs.inputs, written again whole by every run: they move to run_inputs, a row each,
    and the column goes."""
    if "inputs" not in _held(con, RUNS.name):
        return
    entry = '[{"programme": "VARCHAR", "year": "INTEGER", "file": "VARCHAR", "sha256": "VARCHAR"}]'
    con.execute(
        f"INSERT INTO {RUN_INPUTS.name} SELECT run_id, i.programme, i.year, i.file, i.sha256 "
        f"FROM (SELECT run_id, unnest(from_json(inputs, '{entry}')) AS i FROM {RUNS.name} "
        "WHERE inputs IS NOT NULL)"
    )
    con.execute(f"ALTER TABLE {RUNS.name} DROP COLUMN inputs")


def insert_run_inputs(con: duckdb.DuckDBPyConnection, run_id: str, inputs: list[dict]) -> None:
    """The county files a run saw, each an entry {programme, year, file, sha256}."""
    frame = pl.DataFrame(inputs, {"programme": pl.String, "year": pl.Int32, "file": pl.String,
                                  "sha256": pl.String})  # fmt: skip
    con.register("incoming_inputs", frame)
    con.execute(f"INSERT INTO {RUN_INPUTS.name} SELECT ?, * FROM incoming_inputs", [run_id])
    con.unregister("incoming_inputs")


def run_inputs(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict]:
    """The entries `insert_run_inputs` stored for the run."""
    return [{"programme": code, "year": year, "file": file, "sha256": sha}
            for code, year, file, sha in con.execute(
                f"SELECT programme_code, year, file, sha256 FROM {RUN_INPUTS.name} "
                "WHERE run_id = ?", [run_id]).fetchall()]  # fmt: skip


def _held(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return dict(con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = 'main' AND table_name = ?", [table]).fetchall())  # fmt: skip


def create_sheet_tables(con: duckdb.DuckDBPyConnection, programme: Programme) -> None:
    """The tables of a programme's sheets. Programmes whose templates share a sheet key share
    its table: a column one of them lacks is null in its rows. A column declared with another
    type than the table has raises ProgrammeError, before anything is changed. A warehouse
    published before the age column keeps, in place of the birth date, the age on the sheet's
    date (SPEC §4: only what the checks need stays)."""
    tables = [(sheet, sheet_table(sheet)) for sheet in programme.county_template.sheets.values()]
    for sheet, table in tables:
        held = _held(con, table.name)
        for column in table.columns:
            if column.name in held and held[column.name] != column.type:
                raise ProgrammeError(
                    f"项目 {programme.year}/{programme.code} 的模板中，表「{sheet.key}」的列「{column.name}」类型为 {column.type}，"
                    f"而仓库中同名表的该列为 {held[column.name]}（其他项目或年度已使用）；"
                    "请改用另一个表名或列名。",
                    f"in the template of programme {programme.year}/{programme.code}, column "
                    f"'{column.name}' of sheet '{sheet.key}' is of type {column.type}, but the "
                    f"warehouse's table of that name has it as {held[column.name]} (another "
                    "programme or year uses it): give the sheet or the column another name.",
                )
    for sheet, table in tables:
        con.execute(table.ddl())
        held = _held(con, table.name)
        for column in table.columns:
            if column.name not in held:
                con.execute(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type}")
        if sheet.age_on and "birth_date" in held:
            con.execute(f"UPDATE {table.name} SET age = date_sub('year', birth_date, {sheet.age_on})")
            con.execute(f"ALTER TABLE {table.name} DROP COLUMN birth_date")


def sheet_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's sheet tables: every table that is not jixiao's own."""
    own = [t.name for t in TABLES]
    return [name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT list_contains(?, table_name) ORDER BY 1", [own]).fetchall()]  # fmt: skip


def _years(con: duckdb.DuckDBPyConnection, notify: Callable[[str], object], lang: str) -> None:
    """A programme is its code and its year. A warehouse published before that kept its run
    history (metrics, scores, findings) by code alone: each row gets the year the warehouse's
    other tables know for its code, and each finding the fingerprint that year gives it.

    Where those tables hold a code in more than one year, that version let one year's county
    files delete or skip the other's rows and its history mixed both: nothing tells them apart
    any more. Every table but the history is then emptied, to be read again from the raw
    inputs by this run, and that code's history keeps no year (NULL), so that no year counts
    it; a code no table holds any more (its folder gone) keeps none either."""
    yearless = [t.name for t in (METRICS, SCORES, FINDINGS) if "year" not in _held(con, t.name)]
    if not yearless:
        return
    records = [*(t.name for t in TABLES if t not in HISTORY), *sheet_tables(con)]
    known = " UNION ".join(
        f"SELECT programme_code, year FROM {name} WHERE year IS NOT NULL"
        for name in records
        if {"programme_code", "year"} <= _held(con, name).keys()
    )
    years = dict(con.execute(
        f"SELECT programme_code, list(DISTINCT year ORDER BY year) FROM ({known}) GROUP BY 1"
    ).fetchall())  # fmt: skip
    mixed = {code: ys for code, ys in years.items() if len(ys) > 1}
    single = [(code, ys[0]) for code, ys in years.items() if len(ys) == 1]
    con.register("code_years", pl.DataFrame(single, {"code": pl.String, "year": pl.Int64},
                                            orient="row"))  # fmt: skip
    for name in yearless:
        con.execute(f"ALTER TABLE {name} ADD COLUMN year INTEGER")
        con.execute(f"UPDATE {name} SET year = y.year FROM code_years y "
                    f"WHERE {name}.programme_code = y.code")  # fmt: skip
    con.unregister("code_years")
    if FINDINGS.name in yearless:
        rows = con.execute(
            "SELECT DISTINCT fingerprint, year, rule_id, subject, claimed, observed "
            "FROM findings WHERE year IS NOT NULL"
        ).fetchall()
        con.register("refingerprinted", pl.DataFrame(
            [(old, year, fingerprint(*texts, year)) for old, year, *texts in rows],
            {"old": pl.String, "year": pl.Int64, "new": pl.String}, orient="row"))  # fmt: skip
        con.execute("UPDATE findings SET fingerprint = r.new FROM refingerprinted r "
                    "WHERE findings.fingerprint = r.old AND findings.year = r.year")  # fmt: skip
        con.unregister("refingerprinted")
    unknown = sum(
        con.execute(f"SELECT count(*) FROM {name} WHERE year IS NULL").fetchone()[0]
        for name in yearless
    )
    zh = lang == "zh"
    if zh:
        left = (f"；以往运行中 {unknown} 行度量、得分与发现不能确定年度，年度（year）留空，"
                "不计入任何年度") if unknown else ""  # fmt: skip
    else:
        left = (f"; {unknown} rows of past metrics, scores and findings have no year that can "
                "be told: their year is left empty and counts in none") if unknown else ""  # fmt: skip
    if not mixed:
        notify(f"数据仓库由不区分项目年度的旧版本生成：已按仓库中各项目的年度为 {'、'.join(yearless)} "
               f"补上年度（year），并相应更新发现指纹{left}。" if zh
               else "the warehouse was made by an older version that kept no programme year: "
               f"{', '.join(yearless)} were given the year of each programme in the warehouse, "
               f"and the findings' fingerprints updated to match{left}.")  # fmt: skip
        return
    for table in TABLES:
        if table not in HISTORY:
            con.execute(f"DROP TABLE {table.name}")
            con.execute(table.ddl())
    for name in sheet_tables(con):  # created again from the programmes' templates
        con.execute(f"DROP TABLE {name}")
    if zh:
        codes = "、".join(f"{code}（{'、'.join(map(str, ys))} 年度）" for code, ys in mixed.items())
        notify(f"数据仓库由不区分项目年度的旧版本生成，其中 {codes}不同年度的报送数据已相互混杂、无法拆分："
               f"已清空报送数据、报送日志与报告数据，本次从原始报送数据全部重新读入{left}。")  # fmt: skip
    else:
        codes = "; ".join(f"{code} (years {', '.join(map(str, ys))})" for code, ys in mixed.items())
        notify(f"the warehouse was made by an older version that kept no programme year, and in "
               f"it the submissions of different years of {codes} are mixed beyond telling apart: "
               "the submissions, the ingest log and the reports' data were emptied and this run "
               f"reads everything again from the raw submissions{left}.")  # fmt: skip


def open_run(con: duckdb.DuckDBPyConnection, run_id: str, started: dt.datetime) -> int:
    """The run's row in `runs` (status running until the run records itself), with the next
    sequence number: runs are ordered by it, never by a clock that may go back. The runs of a
    warehouse published before the sequence are numbered in the order of their start (the only
    order they had)."""
    con.execute(
        "UPDATE runs SET seq = o.seq FROM (SELECT run_id, (SELECT coalesce(max(seq), 0) FROM "
        "runs) + row_number() OVER (ORDER BY started_at, run_id) AS seq FROM runs WHERE seq IS "
        "NULL) o WHERE runs.run_id = o.run_id"
    )
    return con.execute(
        "INSERT INTO runs (run_id, seq, started_at, status) SELECT ?, coalesce(max(seq), 0) + 1,"
        " ?, 'running' FROM runs RETURNING seq",
        [run_id, started],
    ).fetchone()[0]


def close_run(con: duckdb.DuckDBPyConnection, run: dict, inputs: list[dict]) -> None:
    """Complete the run's row that `open_run` began with ``run``'s fields, and record the
    county files it saw (`insert_run_inputs`)."""
    values = {k: v for k, v in run.items() if k != "run_id"}
    con.execute(f"UPDATE {RUNS.name} SET {', '.join(f'{k} = ?' for k in values)} "
                "WHERE run_id = ?", [*values.values(), run["run_id"]])  # fmt: skip
    insert_run_inputs(con, run["run_id"], inputs)


def hashed_with(con: duckdb.DuckDBPyConnection) -> tuple[str | None, bool]:
    """The fingerprint of the key the warehouse's hashes were made with (its latest run's; None
    before fingerprints were kept), and whether it holds any hash at all."""
    fingerprint = con.execute(
        "SELECT key_fingerprint FROM runs WHERE key_fingerprint IS NOT NULL "
        "ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    hashed = [
        f"(SELECT 1 FROM {table} LIMIT 1)"
        for table in [*sheet_tables(con), NAME_HASHES.name]
        if any(column.endswith("_hash") for column in _held(con, table))
    ]
    return fingerprint and fingerprint[0], bool(
        hashed and con.execute(" UNION ALL ".join(hashed)).fetchall()
    )


def refresh_budget_lines(con: duckdb.DuckDBPyConnection, programme: Programme) -> None:
    """programme.yaml's budget lines and counties, as this run reads them."""
    scope = [programme.code, programme.year]
    # Each table in one statement (executemany is a statement a row: 0.3 s for 2,844 counties)
    lines = pl.DataFrame([(b.code, b.name, b.amount_yuan) for b in programme.budget_lines],
                         {"code": pl.String, "name": pl.String, "amount": pl.Decimal(18, 2)},
                         orient="row")  # fmt: skip
    counties = pl.DataFrame(list(programme.counties.items()),
                            {"code": pl.String, "name": pl.String}, orient="row")  # fmt: skip
    with transaction(con):
        for table in (BUDGET_LINES, COUNTIES):
            con.execute(f"DELETE FROM {table.name} WHERE programme_code = ? AND year = ?", scope)
        for table, rows in ((BUDGET_LINES, lines), (COUNTIES, counties)):
            con.register("incoming", rows)
            con.execute(f"INSERT INTO {table.name} SELECT ?, ?, * FROM incoming", scope)
            con.unregister("incoming")
    checkpoint("load.budget_lines_refreshed")


class transaction:  # noqa: N801 - used as a statement: `with transaction(con):`
    """BEGIN … COMMIT, rolled back on any exception so a batch is all in or all out."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __enter__(self) -> None:
        self.con.begin()

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.con.commit()
        else:
            self.con.rollback()


def warehouse_rows(frame: pl.DataFrame, sheet: Sheet, lineage: pl.DataFrame) -> pl.DataFrame:
    """A batch's accepted rows of one sheet in the warehouse's columns, personal data dropped
    but for what `insert_rows` turns into keyed hashes (and, of an ID, the age on the sheet's
    date) inside DuckDB: hashed columns arrive as ``_clear_<hash column>``, a birth date as
    ``_born``.

    ``lineage`` has one row per accepted file (FILE, county_code, programme_code, year,
    source_file, source_sha256, source_sheet); rows of other files are left out.
    """
    exprs = []
    for col in sheet.labels:
        kind = sheet.personal.get(col)
        if kind in ("cert", "id", "hash"):
            # A check character x is X, in every column with a format (not only the first ID
            # of the sheet): the same person hashes the same wherever the ID stands.
            value = pl.col(col).str.to_uppercase() if sheet.fields[col].format else pl.col(col)
            exprs.append(value.alias(_CLEAR + hash_column(col)))
        if kind in ("cert", "id"):
            exprs += [
                value.str.slice(0, 6).alias("region_code"),
                value.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).alias(_BORN),
            ]
        if kind == "cert":
            exprs += [
                value.str.slice(18, 1).alias("disability_category"),
                value.str.slice(19, 1).alias("disability_grade"),
            ]
        elif kind is None:
            exprs.append(pl.col(col))
    rows = frame.join(lineage, on=FILE, how="inner", maintain_order="left")
    return rows.select(
        *exprs, *(c for c in lineage.columns if c != FILE), pl.col(ROW).alias("source_row")
    )


_CLEAR, _BORN = "_clear_", "_born"
# A stated total of any numeric column, exactly: money to the fen, integers whole, numbers
# (read as floats) to the millionth, as the check sums them.
_TOTAL = pl.Decimal(38, 6)


def warehouse_totals(totals: pl.DataFrame, sheet: Sheet, lineage: pl.DataFrame) -> pl.DataFrame:
    """A batch's stated totals of one sheet (validate.SheetText.totals of its files, FILE
    added) in the columns of `stated_totals`; ``lineage`` as for `warehouse_rows`.

    Each total is read by its column's own normaliser, as the column's cells are (``0.12万``
    is 1200 元 in a money column, unreadable in an integer one). One that cannot be read is
    kept, its ``stated`` empty beside its text, for the check to say so: a 合计 row is not data,
    and refusing the county's rows over it would cost a round trip for nothing they hold. A
    blank total cell states nothing and is left out, as is a column the sheet does not total."""
    totals = totals.filter(
        pl.col("column").is_in(sheet.totalled) & pl.col("stated").str.contains(r"\S")
    )
    read = [
        part.with_columns(normalise_column(part["stated"], sheet.dtypes[column]).cast(_TOTAL)
                          .alias("value"))
        for (column,), part in totals.partition_by("column", as_dict=True).items()
    ]  # fmt: skip
    rows = pl.concat(read) if read else totals.with_columns(value=pl.lit(None, _TOTAL))
    rows = rows.join(lineage, on=FILE, how="inner", maintain_order="left")
    return rows.select(
        *(c for c in lineage.columns if c != FILE),
        pl.lit(sheet.key, pl.String).alias("sheet"),
        pl.col("column").alias("column_key"),
        "label",
        "cell",
        "from_row",
        "to_row",
        pl.col("value").alias("stated"),
        pl.col("stated").alias("stated_text"),
        pl.col("row").alias("source_row"),
    )


def insert_totals(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> None:
    """Append rows built by `warehouse_totals`."""
    con.register("incoming_totals", rows)
    con.execute(f"INSERT INTO {STATED_TOTALS.name} BY NAME SELECT * FROM incoming_totals")
    con.unregister("incoming_totals")


def _hmac(column: str) -> str:
    """HMAC-SHA256 of a text column in SQL, RFC 2104 over the padded keys that travel as the
    parameters $inner and $outer (personal.hmac_pads, name_pads)."""
    return f"sha256($outer::BLOB || unhex(sha256($inner::BLOB || encode({column}))))"


_NAME_HASH = _hmac("name")  # a name's keyed hash, with name_pads
_ROW_GROUP = 122_880  # DuckDB's rows per row group


def insert_rows(
    con: duckdb.DuckDBPyConnection, sheet: Sheet, rows: pl.DataFrame, key: bytes
) -> None:
    """Append rows built by `warehouse_rows`; identifiers become their keyed hashes and the
    birth date the age on the sheet's date (else at the programme year's end) here, so
    neither reaches the warehouse and no Python runs per row. The key's pads travel as
    parameters: no table, macro or file holds them.

    The frame goes in as row-group-sized chunks: DuckDB scans one chunk per thread, so the
    hashing and the table's compression share the cores instead of running on one."""
    big = rows.height > _ROW_GROUP
    con.register("incoming", pl.concat(rows.iter_slices(_ROW_GROUP), rechunk=False) if big else rows)
    clear = [c for c in rows.columns if c.startswith(_CLEAR)]
    computed = [f"{_hmac(c)} AS {c.removeprefix(_CLEAR)}" for c in clear]
    if _BORN in rows.columns:
        on = sheet.age_on or "make_date(year, 12, 31)"
        computed.append(f"date_sub('year', {_BORN}, {on}) AS age")
    inner, outer = hmac_pads(key)
    exclude = f" EXCLUDE ({', '.join([*clear, *([_BORN] if _BORN in rows.columns else [])])})"
    con.execute(
        f"INSERT INTO {sheet.key} BY NAME SELECT *{exclude if computed else ''}"
        f"{''.join(', ' + c for c in computed)} FROM incoming",
        {"inner": inner, "outer": outer} if clear else {},
    )
    con.unregister("incoming")


def insert_names(con: duckdb.DuckDBPyConnection, programme: Programme, names: set[str],
                 key: bytes) -> None:  # fmt: skip
    """Remember the names files paired with personal IDs (personal.sheet_names), as keyed
    hashes only, each once per programme and year, in no order that follows the files: so that
    a report naming one of them is masked, in this run and in runs that skip those files."""
    if not names:
        return
    inner, outer = name_pads(key)
    con.register("incoming_names", pl.DataFrame({"name": list(names)}, schema={"name": pl.String}))
    con.execute(
        f"INSERT INTO {NAME_HASHES.name} SELECT DISTINCT $code, $year, {_NAME_HASH} AS h "
        f"FROM incoming_names WHERE h NOT IN (SELECT name_hash FROM {NAME_HASHES.name} "
        "WHERE programme_code = $code AND year = $year) ORDER BY h",
        {"code": programme.code, "year": programme.year, "inner": inner, "outer": outer},
    )
    con.unregister("incoming_names")


def known_names(con: duckdb.DuckDBPyConnection, programme: Programme, candidates: set[str],
                key: bytes, among: str = NAME_HASHES.name) -> set[str]:  # fmt: skip
    """The candidates (personal.name_candidates of a text) that are names county files of the
    programme paired with personal IDs (insert_names); ``among``: a relation of name_hashes'
    columns to look in instead."""
    if not candidates:
        return set()
    inner, outer = name_pads(key)
    con.register("candidates", pl.DataFrame({"name": list(candidates)}, schema={"name": pl.String}))
    found = con.execute(
        f"SELECT name FROM candidates WHERE {_NAME_HASH} IN (SELECT name_hash FROM "
        f"{among} WHERE programme_code = $code AND year = $year)",
        {"code": programme.code, "year": programme.year, "inner": inner, "outer": outer},
    ).fetchall()
    con.unregister("candidates")
    return {name for (name,) in found}


def log_row(entry: dict, problems: list[Problem], limit: int = 1000) -> dict:
    """One ingest_log row; problems beyond ``limit`` are counted, not listed."""
    errors = [
        {
            "rule_id": p.rule_id,
            "sheet": p.sheet,
            "row": p.row,
            "column": p.column,
            "value": p.value,
            "expected": p.expected,
            "cell": p.cell,
            "message": p.message("zh"),
        }
        for p in problems[:limit]
    ]
    return {
        "feedback_file": None,
        "superseded_by": None,
        **entry,
        "error_count": len(problems),
        "errors": json.dumps(errors, ensure_ascii=False),
        "ingested_at": dt.datetime.now(dt.UTC),
    }


def insert_log(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    con.register("incoming", pl.DataFrame(rows, infer_schema_length=None))
    con.execute("INSERT INTO ingest_log BY NAME SELECT * FROM incoming")
    con.unregister("incoming")
    checkpoint("load.ingest_log_rows")


def mark_superseded(con: duckdb.DuckDBPyConnection, programme: Programme,
                    by: dict[str, str]) -> None:  # fmt: skip
    """Accepted files of earlier batches or runs that files of this batch replace."""
    con.register("replaced", pl.DataFrame({"file": list(by), "by": list(by.values())}))
    con.execute(
        "UPDATE ingest_log SET status = 'superseded', superseded_by = replaced.by "
        "FROM replaced WHERE ingest_log.programme_code = ? AND ingest_log.year = ? "
        "AND ingest_log.file = replaced.file AND ingest_log.status = 'accepted'",
        [programme.code, programme.year],
    )
    con.unregister("replaced")
    checkpoint("load.superseded_marked")


def answer_refusals(con: duckdb.DuckDBPyConnection, programme: Programme) -> None:
    """Refused files that an accepted file answers are superseded by it, so that the county's
    status says accepted and their pages go: a county's refusal is answered once every sheet it
    held (a workbook that could not be read: every sheet) is accepted from files that come
    after it — a higher version, or the same version in a later run; any refusal, a file
    whose county cannot be told included, is answered by a file of the same content accepted
    (the operator saved it under its county's name)."""
    every = list(programme.county_template.sheets)
    latest = latest_log_entries("programme_code, year, file")
    con.execute(
        f"""
UPDATE ingest_log SET status = 'superseded', superseded_by = answered.by FROM (
  WITH latest AS (
    SELECT *, coalesce(seq, 9223372036854775807) AS after FROM {latest}
    WHERE programme_code = $code AND year = $year
  )
  SELECT r.file, r.run_id, first(a.file ORDER BY a.version DESC, a.after DESC) AS by
  FROM latest r JOIN latest a
    ON a.status = 'accepted' AND (a.county_code = r.county_code OR r.county_code IS NULL)
    AND (a.sha256 = r.sha256 OR r.county_code IS NOT NULL AND (r.version < a.version
         OR r.version = a.version AND r.after < a.after))
  WHERE r.status = 'refused'
  GROUP BY r.file, r.run_id
  HAVING bool_or(a.sha256 = r.sha256) OR list_has_all(
    flatten(list(a.sheets || coalesce(a.sheets_absent, []))),
    CASE WHEN len(any_value(r.sheets)) > 0 THEN any_value(r.sheets) ELSE $every END)
) answered
WHERE ingest_log.programme_code = $code AND ingest_log.year = $year
  AND ingest_log.file = answered.file AND ingest_log.run_id = answered.run_id
  AND ingest_log.status = 'refused'
""",
        {"code": programme.code, "year": programme.year, "every": every},
    )


def delete_county_rows(con: duckdb.DuckDBPyConnection, sheet_key: str, programme: Programme,
                       counties: list[str]) -> None:  # fmt: skip
    """The rows a county's new file replaces: all its rows in that sheet, that year, and the
    totals it stated over them."""
    scope = [programme.code, programme.year, counties]
    con.execute(
        f"DELETE FROM {sheet_key} WHERE programme_code = ? AND year = ? "
        "AND county_code IN (SELECT unnest(?))",  # a semi-join: list_contains scans the list a row
        scope,
    )
    con.execute(
        f"DELETE FROM {STATED_TOTALS.name} WHERE programme_code = ? AND year = ? "
        "AND county_code IN (SELECT unnest(?)) AND sheet = ?",
        [*scope, sheet_key],
    )
    checkpoint("load.after_delete")


def replace_claims(con: duckdb.DuckDBPyConnection, programme: Programme, report_file: str,
                   sha: str, claims: list) -> int:  # fmt: skip
    """The programme's report claims (its code and year), replaced whole: a report is one
    statement."""
    # One set-based INSERT from a frame, not one statement per claim (0.6 ms each). The value
    # travels as plain text: DuckDB casts it to DECIMAL(38,6) exactly, as it did a Decimal.
    values = [None if c.value is None else format(c.value, "f") for c in claims]
    rows = pl.DataFrame(
        [
            pl.Series("text", [c.text for c in claims], pl.String),
            pl.Series("value", values, pl.String),
            pl.Series("exponent", [c.exponent for c in claims], pl.Int64),
            pl.Series("unit", [c.unit for c in claims], pl.String),
            pl.Series("kind", [c.kind for c in claims], pl.String),
            pl.Series("subject", [c.subject for c in claims], pl.String),
            pl.Series("measure", [c.measure for c in claims], pl.String),
            pl.Series("role", [c.role for c in claims], pl.String),
            pl.Series("bound", [c.bound for c in claims], pl.String),
            pl.Series("date", [c.date for c in claims], pl.Date),
            pl.Series("line", [c.line for c in claims], pl.Int64),
            pl.Series("section", [" › ".join(c.section) for c in claims], pl.String),
            pl.Series("sentence", [c.sentence for c in claims], pl.String),
            pl.Series("table_index", [c.table for c in claims], pl.Int64),
            pl.Series("table_row", [c.row for c in claims], pl.Int64),
            pl.Series("table_col", [c.col for c in claims], pl.Int64),
        ]
    ).with_columns(
        programme_code=pl.lit(programme.code, pl.String),
        year=pl.lit(programme.year, pl.Int64),
        report_file=pl.lit(report_file, pl.String),
        report_sha256=pl.lit(sha, pl.String),
    )
    with transaction(con):
        con.execute("DELETE FROM claims WHERE programme_code = ? AND year = ?",
                    [programme.code, programme.year])  # fmt: skip
        con.register("incoming_claims", rows)
        con.execute("INSERT INTO claims BY NAME SELECT * FROM incoming_claims")
        con.unregister("incoming_claims")
        checkpoint("load.claims_before_commit")
    return rows.height
