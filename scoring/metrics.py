"""Indicator actuals: each measurable indicator's metric SQL, run over one programme's rows.

A metric in programme.yaml names warehouse tables without a programme filter
(``SELECT count(*) FROM job_fairs``) so an analyst can write it once. Here every
warehouse table that carries ``programme_code`` is shadowed, for the duration of the
metrics, by a temporary view of the same name holding only this programme's rows.
DuckDB resolves unqualified names in the connection's temporary catalog first (whatever
``search_path`` says), and temporary views are private to the connection, so other
readers see nothing; the views are dropped afterwards. (A schema of views in the
temporary catalog is not allowed, and ATTACH ':memory:' fails on a read-only warehouse.)

Values are exact: DECIMAL and integer results are kept as they are. DuckDB's ``/`` on
DECIMAL yields DOUBLE; such a value is read at its shortest decimal form and rounded to
the 6 places of ``metrics.value``, so ``100.0`` is 100.000000, not 99.99999999999999.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal

import duckdb

from schemas.programme import Fact, Indicator, Programme
from schemas.warehouse import METRICS

VALUE_PLACES = Decimal("0.000001")  # metrics.value is DECIMAL(38,6)


class MetricError(Exception):
    """A metric cannot be computed; the message is one Chinese sentence naming the indicator."""


@dataclass(frozen=True)
class Metric:
    """One row of the ``metrics`` table (same fields, same order)."""

    run_id: str
    programme_code: str
    indicator_id: str
    name: str
    value: Decimal | None  # numeric kinds
    value_date: dt.date | None  # deadline kinds
    unit: str | None
    metric_sql: str


def compute_metrics(
    con: duckdb.DuckDBPyConnection, programme: Programme, run_id: str
) -> list[Metric]:
    """Every measurable indicator's actual, and every fact, for ``programme``; raises
    MetricError."""
    measurable = [*(i for i in programme.indicators if i.metric), *programme.facts]
    with scoped(con, programme.code):
        return [_metric(con, programme.code, run_id, i) for i in measurable]


def store_metrics(con: duckdb.DuckDBPyConnection, metrics: list[Metric]) -> None:
    """Insert ``metrics``; a run's earlier rows for the same programme are replaced."""
    if not metrics:
        return
    for run_id, code in {(m.run_id, m.programme_code) for m in metrics}:
        con.execute(
            f"DELETE FROM {METRICS.name} WHERE run_id = ? AND programme_code = ?", [run_id, code]
        )
    columns = [c.name for c in METRICS.columns]
    con.executemany(
        f"INSERT INTO {METRICS.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [[asdict(m)[c] for c in columns] for m in metrics],
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def scoped(con: duckdb.DuckDBPyConnection, programme_code: str):
    """Within: every table carrying programme_code shows only this programme's rows
    (temporary views of the same names, dropped on leaving)."""
    database = con.execute("SELECT current_database()").fetchone()[0]
    tables = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT table_name FROM duckdb_columns() WHERE database_name = ? "
            "AND schema_name = 'main' AND NOT internal AND column_name = 'programme_code'",
            [database],
        ).fetchall()
    ]
    # A view cannot hold a parameter: the code is a quoted literal (quotes doubled).
    literal = "'" + programme_code.replace("'", "''") + "'"
    created = []
    try:
        for table in tables:
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {_quote(table)} AS SELECT * FROM "
                f"{_quote(database)}.main.{_quote(table)} WHERE programme_code = {literal}"
            )
            created.append(table)
        yield
    finally:
        for table in created:
            # A failed metric may have aborted the caller's transaction: the error stands.
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DROP VIEW IF EXISTS temp.main.{_quote(table)}")


def _problem(exc: duckdb.Error) -> str:
    """DuckDB's message without its caret diagram: 'Catalog Error: Table … does not exist!'."""
    lines = []
    for line in str(exc).splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines)


def _metric(
    con: duckdb.DuckDBPyConnection, programme_code: str, run_id: str, ind: Indicator | Fact
) -> Metric:
    sql = ind.metric.strip().rstrip(";").strip()
    who = f"指标「{ind.name}」（{ind.id}）的度量 SQL "
    try:
        # A subquery admits one query only: a metric cannot change the warehouse.
        cursor = con.execute(f"SELECT * FROM (\n{sql}\n) AS metric")
        rows = cursor.fetchmany(2)
        width = len(cursor.description)
    except duckdb.Error as exc:
        raise MetricError(f"{who}无法执行：{_problem(exc)}") from None
    if width != 1 or len(rows) > 1:
        raise MetricError(f"{who}应只返回一个值（一行一列），实际返回多行或 {width} 列")
    raw = rows[0][0] if rows else None
    value, value_date = None, None
    if isinstance(ind, Indicator) and ind.kind == "deadline":
        if raw is not None and not isinstance(raw, dt.date):
            raise MetricError(f"{who}应返回完成日期，实际返回 {raw!r}")
        value_date = raw.date() if isinstance(raw, dt.datetime) else raw
    elif raw is not None:
        value = _decimal(raw, who)
    return Metric(run_id, programme_code, ind.id, ind.name, value, value_date, ind.unit, ind.metric)


def _decimal(raw: object, who: str) -> Decimal:
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int) and not isinstance(raw, bool):
        number = Decimal(raw)
    elif isinstance(raw, float) and math.isfinite(raw):
        number = Decimal(repr(raw))  # shortest form that reads back as this double
    else:
        raise MetricError(f"{who}应返回一个数值，实际返回 {raw!r}")
    return number.quantize(VALUE_PLACES, rounding=ROUND_HALF_UP)
