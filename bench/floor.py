"""The floor: the same files, the same checks, the fastest readers here and no framework.

CSV: DuckDB's ``read_csv`` over all files of a sheet at once (all columns VARCHAR, names by
template position, the file name kept). DuckDB 2.0's reader knows UTF-8, UTF-16 and Latin-1
only (GB18030 needs the ``encodings`` extension, which is downloaded, and this machine is
offline), so every file's bytes are read once in Python anyway — for its SHA-256, which the
lineage needs — and a file that is not UTF-8 is decoded as GB18030 and written as a UTF-8
copy; that time is counted in ``read``. Workbooks: python-calamine, cells to text, into the
same raw tables.

Then plain SQL: the contract (types, required values, dates in the year, ranges, enums,
GB 11643 and GB 32100 check characters as SQL macros, keys unique per file, fair ids known,
budget lines known) with a file refused when any of its rows breaks a rule; the accepted rows
into the warehouse's own tables (``schemas.warehouse`` DDL; the certificate number as a keyed
SHA-256, region, age on the sheet's date, category, grade; lineage: file, sha256, sheet, row); the
RECORDS rules exactly as ``checks/records.py`` writes them; and the indicators' metric SQL.

The floor reads only the value forms the generator writes (bench/generate.py: ISO, slash,
dot and Chinese dates, Excel serials, ``400``/``400.00``/``400元``/``0.04万``/``21,000.00``),
where jixiao reads many more; it writes no feedback pages, no reports and no Data Docs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml
from python_calamine import CalamineWorkbook

from bench.clock import Clock
from jixiao.checks.records import params, query, values
from jixiao.sample.generate import ANSWERS, AWARDS, SHEETS
from jixiao.schemas.identifiers import CREDIT_CHARSET
from jixiao.schemas.programme import Programme
from jixiao.schemas.warehouse import sheet_table

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _macros() -> list[str]:
    id_sum = " + ".join(
        f"{w} * (ascii(substr(x, {i}, 1)) - 48)" for i, w in enumerate(_ID_WEIGHTS, 1)
    )
    credit_sum = " + ".join(
        f"{w} * (instr('{CREDIT_CHARSET}', substr(x, {i}, 1)) - 1)"
        for i, w in enumerate(_CREDIT_WEIGHTS, 1)
    )
    return [
        # 残疾人证号: 18-character resident ID (GB 11643) + category 1–7 + grade 1–4.
        f"""CREATE OR REPLACE MACRO cert_ok(x) AS coalesce(
            length(x) = 20 AND regexp_full_match(x, '[0-9]{{17}}[0-9X][1-7][1-4]')
            AND try_strptime(substr(x, 7, 8), '%Y%m%d') BETWEEN DATE '1900-01-01'
                AND current_date
            AND substr('10X98765432', ({id_sum}) % 11 + 1, 1) = substr(x, 18, 1), false)""",
        # 统一社会信用代码: GB 32100-2015.
        f"""CREATE OR REPLACE MACRO credit_ok(x) AS coalesce(
            length(x) = 18
            AND regexp_full_match(x, '[0-9A-HJ-NPQRTUWXY]{{2}}[0-9]{{6}}[0-9A-HJ-NPQRTUWXY]{{10}}')
            AND substr('{CREDIT_CHARSET}', (31 - ({credit_sum}) % 31) % 31 + 1, 1)
                = substr(x, 18, 1), false)""",
        r"""CREATE OR REPLACE MACRO pdate(x) AS CASE
            WHEN regexp_full_match(x, '[0-9]{1,7}(\.0+)?')
                THEN DATE '1899-12-30' + CAST(CAST(x AS DOUBLE) AS INTEGER)
            ELSE CAST(try_strptime(x, ['%Y-%m-%d', '%Y/%m/%d', '%Y.%m.%d', '%Y年%m月%d日'])
                      AS DATE) END""",
        """CREATE OR REPLACE MACRO pmoney(x) AS TRY_CAST(CASE
            WHEN x LIKE '%万' THEN TRY_CAST(replace(rtrim(x, '万'), ',', '') AS DECIMAL(24, 6))
                 * 10000
            ELSE TRY_CAST(replace(rtrim(x, '元'), ',', '') AS DECIMAL(24, 6)) END
            AS DECIMAL(18, 2))""",
        "CREATE OR REPLACE MACRO pint(x) AS TRY_CAST(replace(x, ',', '') AS BIGINT)",
        """CREATE OR REPLACE MACRO pbool(x) AS CASE
            WHEN x IN ('是', 'Y', 'y', 'TRUE', 'true', '1') THEN true
            WHEN x IN ('否', 'N', 'n', 'FALSE', 'false', '0') THEN false END""",
        "CREATE OR REPLACE MACRO ptext(x) AS nullif(trim(x), '')",
    ]


def _kind(key: str, col: str) -> str:
    dtype = SHEETS[key].dtypes[col]
    if dtype.is_decimal():
        return "money"
    return {"Date": "date", "Int64": "int", "Boolean": "bool"}.get(str(dtype), "text")


_PARSE = {"money": "pmoney", "date": "pdate", "int": "pint", "bool": "pbool", "text": "ptext"}


def _rules(key: str, year: int) -> dict[str, str]:
    """Each contract rule of the sheet as a SQL condition a good row meets."""
    in_year = f"BETWEEN DATE '{year}-01-01' AND DATE '{year}-12-31'"
    required = {c: f"{c} IS NOT NULL" for c in SHEETS[key].labels if c != "voucher_no"}
    rules = dict(required)
    if key == "job_fairs":
        rules |= {c: f"{c} >= 0" for c in ("employers", "positions", "jobseekers",
                                            "intent_matches", "spent_yuan")}  # fmt: skip
        rules["held_on"] = f"held_on {in_year}"
        rules["intent_le_jobseekers"] = "intent_matches <= jobseekers"
    elif key == "fair_employers":
        rules["credit_code"] = "credit_ok(credit_code)"
        rules["positions_for_disabled"] = "positions_for_disabled >= 0"
    elif key in ("visits", "competition_entries"):
        rules["cert_no"] = "cert_ok(cert_no)"
        if key == "visits":
            rules["category"] = "category IN ('就业困难', '失业')"
            rules["visited_on"] = f"visited_on {in_year}"
            rules["amount_yuan"] = "amount_yuan > 0"
            rules["paid_via"] = "paid_via IN ('现金', '银行转账')"
        else:
            rules["held_on"] = f"held_on {in_year}"
            rules["award"] = "award IN (" + ", ".join(f"'{a}'" for a in AWARDS) + ")"
    elif key == "survey_responses":
        answers = ", ".join(f"'{a}'" for a in ANSWERS)
        rules |= {f"q{n}": f"q{n} IN ({answers})" for n in range(1, 11)}
    elif key == "funds":
        rules["budget_line"] = "budget_line IN (SELECT code FROM budget_lines)"
        rules["allocated_yuan"] = "allocated_yuan >= 0"
        rules["spent_yuan"] = "spent_yuan >= 0"
    return {name: f"coalesce({cond}, false)" for name, cond in rules.items()}


def _cell(value: object) -> str | None:
    """A workbook cell as the text a CSV would carry."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def run_floor(programme_dir: Path, db: Path, work: Path, key: bytes) -> dict:
    """Load and check one programme folder; returns timings and counts."""
    clock = Clock()
    started = time.perf_counter()
    programme_dir, work = Path(programme_dir), Path(work)
    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (db, db.with_name(db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    converted = work / "utf8"
    prog = yaml.safe_load((programme_dir / "programme.yaml").read_text(encoding="utf-8"))
    code, year = prog["code"], prog["year"]
    counties = set(map(str, prog["counties"]))
    by_name = {name: k for k, s in SHEETS.items() for name in (k, s.title)}
    refused: dict[str, str] = {}
    con = duckdb.connect(str(db))

    # ------------------------------------------------------------------ read
    with clock("read"):
        for sql in _macros():
            con.execute(sql)
        for k in SHEETS:
            cols = ", ".join(f"{c} VARCHAR" for c in SHEETS[k].labels)
            con.execute(f"CREATE TEMP TABLE raw_{k} ({cols}, filename VARCHAR, xrow BIGINT)")
        files = []  # filename as read, rel, sha256, county, sheet name
        csvs: dict[str, list[str]] = defaultdict(list)
        counties_dir = programme_dir / "counties"
        for path in sorted(counties_dir.glob("*/*.csv")):
            rel = path.relative_to(programme_dir).as_posix()
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            sheet = by_name.get(path.stem)
            try:
                text = data.decode("utf-8")
                target = path
            except UnicodeDecodeError:
                try:
                    text = data.decode("gb18030")
                except UnicodeDecodeError:
                    refused[rel] = "encoding"
                    continue
                target = converted / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(text.encode("utf-8"))
            head = text[: text.find("\n")].lstrip("\ufeff").strip().split(",")
            if sheet is None or head not in (list(SHEETS[sheet].labels),
                                             list(SHEETS[sheet].labels.values())):  # fmt: skip
                refused[rel] = "header"
                continue
            files.append((str(target), rel, sha, path.parent.name, path.stem))
            csvs[sheet].append(str(target))
        for k, paths in csvs.items():
            names = list(SHEETS[k].labels)
            columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in names) + "}"
            con.execute(
                f"INSERT INTO raw_{k} SELECT *, NULL FROM read_csv(?, header = true, "
                f"auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
                f"columns = {columns}, filename = true)",
                [paths],
            )
        rows: dict[str, list[list]] = defaultdict(list)
        for path in sorted(counties_dir.glob("*.xlsx")):
            rel = path.relative_to(programme_dir).as_posix()
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            book = CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                k = by_name.get(name.strip())
                cells = book.get_sheet_by_name(name).to_python()
                if k is None or not cells:
                    continue
                head = [_cell(v) for v in cells[0]]
                if head not in (list(SHEETS[k].labels), list(SHEETS[k].labels.values())):
                    refused[rel] = "header"
                    break
                width = len(head)
                for i, row in enumerate(cells[1:], start=2):
                    texts = [_cell(v) for v in row[:width]]
                    if any(t is not None for t in texts):
                        rows[k].append([*texts, *[None] * (width - len(texts)), str(path), i])
            else:
                files.append((str(path), rel, sha, path.stem, ""))
        for k, data_rows in rows.items():
            names = [*SHEETS[k].labels, "filename", "xrow"]
            columns = list(zip(*data_rows, strict=True))
            table = pa.table({n: pa.array(c) for n, c in zip(names, columns, strict=True)})
            con.register("xlsx_rows", table)
            con.execute(f"INSERT INTO raw_{k} SELECT * FROM xlsx_rows")
            con.unregister("xlsx_rows")
        con.execute(
            "CREATE TEMP TABLE file_map (filename VARCHAR, rel VARCHAR, sha256 VARCHAR, "
            "county_code VARCHAR, sheet_name VARCHAR)"
        )
        con.executemany("INSERT INTO file_map VALUES (?, ?, ?, ?, ?)", files)

    # ------------------------------------------------------------------ contract
    with clock("contract"):
        con.execute(
            "CREATE TABLE budget_lines (programme_code VARCHAR, year INTEGER, code VARCHAR, "
            "name VARCHAR, amount_yuan DECIMAL(18,2))"
        )
        con.executemany(
            "INSERT INTO budget_lines VALUES (?, ?, ?, ?, ?)",
            [[code, year, b["code"], b["name"], b["amount_yuan"]] for b in prog["budget_lines"]],
        )
        violations: dict[str, int] = defaultdict(int)
        bad_files: set[str] = set()
        for k, sheet in SHEETS.items():
            typed = []
            for c in sheet.labels:
                expr = f"{_PARSE[_kind(k, c)]}(r.{c})"
                if c == "budget_line":  # by code or by name
                    expr = (f"coalesce((SELECT code FROM budget_lines b WHERE b.name = "
                            f"ptext(r.{c})), ptext(r.{c}))")  # fmt: skip
                elif c in ("cert_no", "credit_code"):
                    expr = f"upper(ptext(r.{c}))"
                typed.append(f"{expr} AS {c}")
            con.execute(f"""
                CREATE TEMP TABLE t_{k} AS
                SELECT m.rel AS source_file, m.sha256 AS source_sha256,
                       m.county_code, coalesce(nullif(m.sheet_name, ''), '{sheet.title}')
                           AS source_sheet,
                       coalesce(r.xrow, row_number() OVER (PARTITION BY r.filename
                                                           ORDER BY r.rowid) + 1) AS source_row,
                       {", ".join(typed)}
                FROM raw_{k} r JOIN file_map m USING (filename)
            """)  # fmt: skip
            rules = _rules(k, year)
            counts = ", ".join(f"count(*) FILTER (WHERE NOT {cond}) AS \"{name}\""
                               for name, cond in rules.items())  # fmt: skip
            cursor = con.execute(f"SELECT source_file, {counts} FROM t_{k} GROUP BY ALL")
            names = [d[0] for d in cursor.description][1:]
            for file, *n in cursor.fetchall():
                for name, v in zip(names, n, strict=True):
                    if v:
                        violations[f"{k}.{name}"] += v
                        bad_files.add(file)
        unique = {"job_fairs": "fair_id", "survey_responses": "response_id"}
        for k, col in unique.items():
            for file, dupes in con.execute(
                f"SELECT source_file, count(*) - count(DISTINCT {col}) FROM t_{k} "
                "GROUP BY ALL HAVING count(*) > count(DISTINCT " + col + ")"
            ).fetchall():
                violations[f"{k}.{col}.unique"] += dupes
                bad_files.add(file)
        for file, n in con.execute(
            "SELECT e.source_file, count(*) FROM t_fair_employers e ANTI JOIN t_job_fairs f "
            "ON e.county_code = f.county_code AND e.fair_id = f.fair_id GROUP BY ALL"
        ).fetchall():
            violations["fair_employers.fair_id.foreign_key"] += n
            bad_files.add(file)
        for rel, county in con.execute("SELECT rel, county_code FROM file_map").fetchall():
            if county not in counties:
                violations["file.unknown_county"] += 1
                bad_files.add(rel)
        refused |= dict.fromkeys(bad_files, "contract")

    # ------------------------------------------------------------------ load
    with clock("load"):
        con.execute("CREATE TEMP TABLE refused (source_file VARCHAR)")
        con.executemany("INSERT INTO refused VALUES (?)", [[f] for f in refused] or [["-"]])
        key_hex = key.hex()
        loaded = {}
        for k in SHEETS:
            table = sheet_table(SHEETS[k])
            con.execute(table.ddl())
            select = []
            for column in table.columns:
                c = column.name
                select.append({
                    "programme_code": f"'{code}'",
                    "year": str(year),
                    "cert_hash": f"sha256('{key_hex}' || cert_no)",
                    "region_code": "substr(cert_no, 1, 6)",
                    "age": "date_sub('year', CAST(strptime(substr(cert_no, 7, 8), '%Y%m%d') AS "
                           f"DATE), {SHEETS[k].age_on})",
                    "disability_category": "substr(cert_no, 19, 1)",
                    "disability_grade": "substr(cert_no, 20, 1)",
                }.get(c, c))  # fmt: skip
            con.execute(
                f"INSERT INTO {k} SELECT {', '.join(select)} FROM t_{k} "
                "WHERE source_file NOT IN (SELECT source_file FROM refused)"
            )
            loaded[k] = con.execute(f"SELECT count(*) FROM {k}").fetchone()[0]
        con.execute(
            "CREATE TABLE files AS SELECT rel AS file, sha256, county_code, "
            "CASE WHEN rel IN (SELECT source_file FROM refused) THEN 'refused' "
            "ELSE 'accepted' END AS status FROM file_map"
        )
        con.execute("CHECKPOINT")

    # ------------------------------------------------------------------ checks
    with clock("checks"):
        programme = Programme.model_validate(prog)
        findings = defaultdict(int)
        for check in programme.checks:
            q = query(check)
            sql = q.sql()
            rows_ = con.execute(sql, params(sql, values(programme, check))).fetchall()
            columns = [d[0] for d in con.description]
            keys = [columns.index(c) for c in q.key]
            groups = {tuple(r[i] for i in keys) for r in rows_}
            if groups:
                findings[check.rule] += len(groups)

    # ------------------------------------------------------------------ score (metrics SQL)
    with clock("score"):
        metrics = {}
        for item in [*prog["indicators"], *prog.get("facts", [])]:
            if item.get("metric"):
                metrics[item["id"]] = con.execute(item["metric"]).fetchone()[0]
    con.close()
    total = time.perf_counter() - started
    return {
        "floor_s": round(total, 3),
        "stages": {k: round(v, 3) for k, v in clock.stages.items()},
        "rows": loaded,
        "findings": dict(findings),
        "violations": dict(violations),
        "files": {
            "seen": len(files) + sum(r != "contract" for r in refused.values()),
            "refused": len(refused),
            "gb18030_converted": sum(1 for f in files if f[0].startswith(str(converted))),
        },  # fmt: skip
        "metrics": {k: str(v) for k, v in metrics.items()},
    }
