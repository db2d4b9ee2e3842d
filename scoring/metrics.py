"""Indicator actuals: each measurable indicator's metric SQL, run in a sandbox over one
programme's rows.

A metric in programme.yaml is SQL that whoever writes programme.yaml controls, so it is run
as DuckDB's security guidance says untrusted SQL should be
(https://duckdb.org/docs/stable/operations_manual/securing_duckdb/overview):

- parsed by DuckDB's own parser first: exactly one statement, and that statement a SELECT;
  a table it names is one of the programme's tables (``readable``), unqualified;
- run on a database of its own, in memory, that holds only those tables' rows of the
  programme and year being audited: the warehouse is not attached, so no other programme,
  year, finding or log can be named, and nothing the metric does can reach it;
- with external access off (no file, no network, no ATTACH, no extension install or load, no
  Python object by name), nothing spilled to disk, the configuration locked, a memory limit
  and a time limit (jixiao/limits.py: ``metric_mb``, ``metric_seconds``).

A metric names its tables without a programme filter (``SELECT count(*) FROM sessions``), so
an analyst writes it once for every programme and year.

Values are exact: DECIMAL and integer results are kept as they are. DuckDB's ``/`` on
DECIMAL yields DOUBLE; such a value is read at its shortest decimal form and rounded to
the 6 places of ``metrics.value``, so ``100.0`` is 100.000000, not 99.99999999999999.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

import duckdb

from jixiao.limits import Limits
from jixiao.said import Said, SaidError
from jixiao.schemas.programme import Fact, Indicator, Programme
from jixiao.schemas.warehouse import BUDGET_LINES, METRICS

VALUE_PLACES = Decimal("0.000001")  # metrics.value is DECIMAL(38,6)
T = TypeVar("T")


class MetricError(SaidError):
    """A metric cannot be computed: one sentence in Chinese and in English naming the
    indicator."""


@dataclass(frozen=True)
class Metric:
    """One row of the ``metrics`` table (same fields, same order)."""

    run_id: str
    programme_code: str
    year: int
    indicator_id: str
    name: str
    value: Decimal | None  # numeric kinds
    value_date: dt.date | None  # deadline kinds
    unit: str | None
    metric_sql: str


# parse_metrics' answers by what they depend on: a run asks for each programme's several times
# (metrics, coverage, each finding's sources), a long-lived process every night.
_PARSED: dict[tuple, dict[str, tuple[frozenset[str], frozenset[str] | None]]] = {}


def parse_metrics(
    programme: Programme,
) -> dict[str, tuple[frozenset[str], frozenset[str] | None]]:
    """Each measurable indicator's and fact's metric, by id: the tables it reads and the
    column names it can mean (`_parse`); raises MetricError as `_parse` does."""
    measurable = [*(i for i in programme.indicators if i.metric), *programme.facts]
    key = (readable(programme), *((i.id, i.name, i.metric) for i in measurable))
    if key not in _PARSED:
        with duckdb.connect() as parser:
            _PARSED[key] = {ind.id: _parse(ind, parser, key[0]) for ind in measurable}
    return _PARSED[key]


def readable(programme: Programme) -> tuple[str, ...]:
    """What a metric may read: the programme's sheets and its budget lines, nothing else."""
    return (*programme.county_template.sheets, BUDGET_LINES.name)


def compute_metrics(
    con: duckdb.DuckDBPyConnection, programme: Programme, run_id: str
) -> list[Metric]:
    """Every measurable indicator's actual, and every fact, for ``programme``; raises
    MetricError, naming the first indicator whose metric is refused or fails."""
    return metrics_beside(con, programme, run_id, lambda: None)[0]


def metrics_beside(con: duckdb.DuckDBPyConnection, programme: Programme, run_id: str,
                   work: Callable[[], T]) -> tuple[list[Metric], T]:  # fmt: skip
    """`compute_metrics` while ``work()`` runs: the sandbox is filled here (from ``con``), then
    its queries run on a thread of their own, which touches the sandbox only and holds no lock
    of Python's while DuckDB runs them, and ``work`` (the report's check, which is Python's)
    in this one. When both are done, ``work``'s exception is raised, else the metrics'."""
    measurable = [*(i for i in programme.indicators if i.metric), *programme.facts]
    needed: dict[str, frozenset[str] | None] = {}  # table -> the columns its metrics can mean
    for tables, columns in parse_metrics(programme).values():
        for table in tables:
            before = needed.get(table, frozenset())
            needed[table] = None if before is None or columns is None else before | columns
    limits = Limits.from_env()
    box = sandbox(con, programme, needed, limits.metric_mb)
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="jixiao-metrics") as pool:
            metrics = pool.submit(lambda: [_metric(box, programme, run_id, ind, limits.metric_seconds)
                                           for ind in measurable])  # fmt: skip
            done = work()
            return metrics.result(), done
    finally:
        box.close()  # the pool's thread has ended: leaving its block waited for it


@dataclass(frozen=True)
class Source:
    """Rows a recorded figure is computed from: one county's file and sheet (as the county
    named it), its template sheet's title, how many rows, and the county's own figure (the
    metric over that county's rows alone; None when it gives none)."""

    county_code: str
    county: str
    file: str
    sheet: str
    title: str
    rows: int
    value: Decimal | None


def sources(con: duckdb.DuckDBPyConnection, programme: Programme, key: str,
            shown: int) -> tuple[Source, ...]:  # fmt: skip
    """What the metric of indicator or fact ``key`` reads, county by county: each county's
    files and sheets of the tables its SQL names (from DuckDB's parse tree, as for the
    sandbox), and, when they are at most ``shown`` counties, the metric run over each
    county's rows alone, so a finding can say which counties a recorded figure counts and,
    where the counties' figures add up to it, what each contributes (one sandbox per county:
    a few, never one per county of a large programme)."""
    tables, columns = parse_metrics(programme)[key]
    ind = next(i for i in (*programme.indicators, *programme.facts) if i.id == key)
    sheets = sorted(t for t in tables if t in programme.county_template.sheets)
    if not sheets:
        return ()
    found = con.execute(
        " UNION ALL ".join(
            f"SELECT '{t}' AS tbl, county_code, source_file, source_sheet, count(*) FROM "
            f"{_quote(t)} WHERE programme_code = $code AND year = $year GROUP BY ALL"
            for t in sheets  # validated names
        ) + " ORDER BY county_code, source_file, source_sheet",
        {"code": programme.code, "year": programme.year},
    ).fetchall()
    limits, titles = Limits.from_env(), programme.county_template.titles
    values = dict.fromkeys(row[1] for row in found)
    if len(values) <= shown:
        box, kept = _locked(limits.metric_mb), _kept(con, dict.fromkeys(tables, columns))
        try:
            for county in values:  # one sandbox: each county's rows replace the last's
                _fill(box, con, programme, kept, county)
                try:
                    values[county] = _metric(box, programme, "", ind, limits.metric_seconds).value
                except MetricError:
                    values[county] = None
        finally:
            box.close()
    return tuple(Source(county, programme.counties.get(county, county), file, sheet,
                        titles.get(table, table), n, values[county])
                 for table, county, file, sheet, n in found)  # fmt: skip


def store_metrics(con: duckdb.DuckDBPyConnection, metrics: list[Metric]) -> None:
    """Insert ``metrics``; a run's earlier rows for the same programme (code and year) are
    replaced."""
    if not metrics:
        return
    for key in {(m.run_id, m.programme_code, m.year) for m in metrics}:
        con.execute(
            f"DELETE FROM {METRICS.name} WHERE run_id = ? AND programme_code = ? AND year = ?",
            list(key),
        )
    METRICS.insert(con, [asdict(m) for m in metrics])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sandbox(con: duckdb.DuckDBPyConnection, programme: Programme,
            tables: dict[str, frozenset[str] | None], memory_mb: int) -> duckdb.DuckDBPyConnection:  # fmt: skip
    """An in-memory database holding ``tables`` (names from `readable`, each with the only column
    names its metrics can mean, None for all) with the programme's and year's rows only,
    locked down before a single row is in it (`_locked`, `_fill`)."""
    box = _locked(memory_mb)
    _fill(box, con, programme, _kept(con, tables))
    return box


def _locked(memory_mb: int) -> duckdb.DuckDBPyConnection:
    """An empty in-memory database, locked down: no file, network or extension, nothing
    spilled to disk, ``memory_mb`` at most, its configuration fixed."""
    return duckdb.connect(
        config={
            "enable_external_access": False,  # files, network, ATTACH, extensions, replacement scans
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "allow_unsigned_extensions": False,
            "temp_directory": "",  # nothing spilled to disk: over the memory limit is an error
            "memory_limit": f"{memory_mb}MB",
            "lock_configuration": True,
        }
    )


def _kept(con: duckdb.DuckDBPyConnection,
          tables: dict[str, frozenset[str] | None]) -> dict[str, str]:  # fmt: skip
    """The select list each of ``tables`` is copied with: its columns a metric can mean, all
    of them for None; a table none of whose columns is meant keeps its rows (``count(*)``)."""
    kept = {}
    for table, columns in sorted(tables.items()):
        if columns is None:
            kept[table] = "*"
            continue
        names = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = "
            "current_database() AND schema_name = 'main' AND table_name = ?", [table],
        ).fetchall()]  # fmt: skip
        kept[table] = ", ".join(_quote(c) for c in names if c in columns) or "year"
    return kept


def _fill(box: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection,
          programme: Programme, kept: dict[str, str], county: str | None = None) -> None:  # fmt: skip
    """``box`` given each table's rows of the programme and year, its ``kept`` columns (as
    `sandbox` says), in place of what it held under the name. With ``county``, a county sheet
    holds that county's rows only (the budget lines, which are no county's, stay whole)."""
    for table, columns in kept.items():
        only = county is not None and table != BUDGET_LINES.name
        rows = con.sql(
            f"SELECT {columns} FROM {_quote(table)} WHERE programme_code = $code AND year = $year"
            + (" AND county_code = $county" if only else ""),
            params={"code": programme.code, "year": programme.year}
            | ({"county": county} if only else {}),
        ).to_arrow_table()
        box.register(table, rows)  # a view over the rows held here; the metric cannot write them


def _problem(exc: duckdb.Error) -> str:
    """DuckDB's message without its caret diagram: 'Catalog Error: Table … does not exist!'."""
    lines = []
    for line in str(exc).splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines)


def _who(ind: Indicator | Fact) -> Said:
    return Said(f"指标「{ind.name}」（{ind.id}）的度量 SQL ",
                f"the metric SQL of indicator '{ind.name}' ({ind.id})")


def _nodes(tree: object) -> Iterator[dict]:
    """Every object in a parse tree (json_serialize_sql's output), depth first."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _parse(ind: Indicator | Fact, parser: duckdb.DuckDBPyConnection,
           allowed: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str] | None]:  # fmt: skip
    """The tables a metric reads and the column names it can mean (None: any column), after
    DuckDB's parser has shown it to be one SELECT naming only the programme's tables; raises
    MetricError. The columns only spare copying the others into the sandbox: a column left out
    wrongly makes the metric fail to bind, never return another value."""
    sql, who = ind.metric, _who(ind)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise MetricError(f"{who.zh}无法解析：{_problem(exc)}",
                          f"{who.en} cannot be parsed: {_problem(exc)}") from None
    if len(statements) != 1:
        raise MetricError(f"{who.zh}应为一条 SELECT 语句，实际为 {len(statements)} 条语句",
                          f"{who.en} should be one SELECT statement, not {len(statements)} "
                          "statements")  # fmt: skip
    if statements[0].type != duckdb.StatementType.SELECT:
        kind = statements[0].type.name
        raise MetricError(f"{who.zh}应为一条 SELECT 语句，实际为 {kind} 语句，不予执行",
                          f"{who.en} should be one SELECT statement, not a {kind} statement; "
                          "not run")  # fmt: skip
    tree = json.loads(parser.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise MetricError(f"{who.zh}无法解析：{tree.get('error_message', '')}",
                          f"{who.en} cannot be parsed: {tree.get('error_message', '')}")
    nodes = list(_nodes(tree))
    ctes = {entry["key"] for n in nodes if "map" in n for entry in n["map"] if "key" in entry}
    tables: set[str] = set()
    for node in nodes:
        if node.get("type") != "BASE_TABLE":
            continue
        name = node["table_name"]
        if node.get("catalog_name") or node.get("schema_name"):
            path = ".".join(node["qualified_name"]["path"])
            raise MetricError(f"{who.zh}只能直接使用本项目的表名，不能指定数据库或模式：{path}",
                              f"{who.en} may only name the programme's tables, never a "
                              f"database or schema: {path}")  # fmt: skip
        if name in ctes:
            continue
        if name not in allowed:
            raise MetricError(f"{who.zh}引用了不可用的表「{name}」；可用的表：{'、'.join(allowed)}",
                              f"{who.en} reads the table '{name}', which it may not; the tables "
                              f"it may read: {', '.join(allowed)}")  # fmt: skip
        tables.add(name)
    meant = _meant(nodes, ctes)
    return frozenset(tables), None if meant is None else frozenset(meant)


# Table references in json_serialize_sql's tree: their aliases name relations, not columns.
_RELATIONS = ("BASE_TABLE", "SUBQUERY", "TABLE_FUNCTION", "JOIN", "PIVOT", "EXPRESSION_LIST")


def _meant(nodes: list[dict], ctes: set[str]) -> set[str] | None:
    """Every name a column reference or USING uses; None where a query may mean columns it
    does not name: a star or COLUMNS(…), a natural join, or a relation used as a value
    (``SELECT v FROM sessions v`` is the whole row)."""
    names: set[str] = set()
    plain: set[str] = set()  # unqualified references: a column, or a relation as a value
    for node in nodes:
        if node.get("type") == "STAR" or node.get("ref_type") == "NATURAL":
            return None
        if node.get("type") == "COLUMN_REF":
            names.update(node["column_names"])
            if len(node["column_names"]) == 1:
                plain.add(node["column_names"][0])
        names.update(node.get("using_columns") or [])
    relations = set(ctes) | {n["table_name"] for n in nodes if n.get("type") == "BASE_TABLE"}
    relations |= {n["alias"] for n in nodes if n.get("type") in _RELATIONS and n.get("alias")}
    return None if plain & relations else names


def _metric(box: duckdb.DuckDBPyConnection, programme: Programme, run_id: str,
            ind: Indicator | Fact, seconds: int) -> Metric:  # fmt: skip
    who = _who(ind)
    timer = threading.Timer(seconds, box.interrupt)
    timer.start()
    try:
        cursor = box.execute(ind.metric)
        rows = cursor.fetchmany(2)
        width = len(cursor.description)
    except duckdb.InterruptException:
        raise MetricError(f"{who.zh}运行超过 {seconds} 秒时限，已中止",
                          f"{who.en} ran past its limit of {seconds} seconds and was "
                          "stopped") from None  # fmt: skip
    except duckdb.Error as exc:
        raise MetricError(f"{who.zh}无法执行：{_problem(exc)}",
                          f"{who.en} cannot be run: {_problem(exc)}") from None
    finally:
        timer.cancel()
    if width != 1 or len(rows) > 1:
        raise MetricError(f"{who.zh}应只返回一个值（一行一列），实际返回多行或 {width} 列",
                          f"{who.en} should return one value (one row, one column), not "
                          f"several rows or {width} columns")  # fmt: skip
    raw = rows[0][0] if rows else None
    value, value_date = None, None
    if isinstance(ind, Indicator) and ind.kind == "deadline":
        if raw is not None and not isinstance(raw, dt.date):
            raise MetricError(f"{who.zh}应返回完成日期，实际返回 {raw!r}",
                              f"{who.en} should return the date of completion, not {raw!r}")
        value_date = raw.date() if isinstance(raw, dt.datetime) else raw
    elif isinstance(raw, float) and math.isnan(raw):
        pass  # 0 / 0 over no records: nothing measured, as when the query finds no row
    elif raw is not None:
        value = _decimal(raw, who)
    return Metric(run_id, programme.code, programme.year, ind.id, ind.name, value, value_date,
                  ind.unit, ind.metric)  # fmt: skip


def _decimal(raw: object, who: Said) -> Decimal:
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int) and not isinstance(raw, bool):
        number = Decimal(raw)
    elif isinstance(raw, float) and math.isfinite(raw):
        number = Decimal(repr(raw))  # shortest form that reads back as this double
    else:
        raise MetricError(f"{who.zh}应返回一个数值，实际返回 {raw!r}",
                          f"{who.en} should return a number, not {raw!r}")
    return number.quantize(VALUE_PLACES, rounding=ROUND_HALF_UP)
