"""Great Expectations suites over small summaries of the warehouse, and their Data Docs.

Each record check that programme.yaml declares (SPEC §1.4) gets one suite: DuckDB computes a
summary table from the check's own rows (``checks.records.query``: the same sheet and
columns, under the same names), and GX validates it with one expectation, the rule's kind
deciding which. Auditors get GX's Data Docs beside the findings. A summary holds one row per
finding of the check's SQL (a person paid twice, an item counted twice …), so each
unexpected row is one finding, and folds everything else into one row per county (and
region, or year) carrying the county's extreme of what the expectation bounds: the most
payments to one person, the youngest and oldest age, the years of its dates. The spending
and amount summaries are one row per county and budget line, or county and amount, already.
GX thus validates O(counties + findings) rows, not one per person, yet every record stays under
the expectation: a record the SQL rule fails to report lands in its county's row and fails
that row.

Engine: GX's pandas data source on the summary frames (the default), or its SQL data source
on a temporary DuckDB file through duckdb-engine. Both give the same results; on the sample
pandas is about 2.5 times faster, needs no private patch of GX and no second database file.

Cost: one ephemeral context (in-memory stores) and one Data Docs builder per process, made on
first use and kept, so that a run pays GX's validation and the pages it renders, not GX's
set-up; the pages are rendered only for this run's suites and results, without GX's index
or its static assets (neither is published).

Offline: analytics are off by environment and by configuration, and the Data Docs are
rewritten so that no page references an outside address (GX links Bootstrap, Font Awesome,
jQuery and Vega from public CDNs).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import html
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import duckdb

from jixiao.checks.catalogue import rule
from jixiao.checks.records import Query, params, query, subject, values
from jixiao.said import Said
from jixiao.schemas.programme import Programme, RecordCheck

SITE = "data_docs"
# The context's data sources: the summaries as pandas frames (kept), or as tables in a scratch
# DuckDB file (one run's).
_FRAMES, _SQL = "summaries", "summaries_sql"
FAVICON = Path("static/images/favicon.ico")
_LOCK = threading.Lock()  # one run at a time through the shared context
# What the process's context holds per summary name: (what it checks, its validation
# definition), and its suite's rendered page.
_DEFINITIONS: dict[str, tuple[tuple, Any]] = {}
_SUITE_PAGES: dict[str, bytes] = {}


@dataclass(frozen=True)
class Summary:
    """A summary table, the check it mirrors, and the expectation over it (GX class name and
    keyword arguments)."""

    name: str
    check: RecordCheck
    sql: str
    expectation: str
    kwargs: dict[str, Any]

    @property
    def rule_id(self) -> str:
        return self.check.rule


def _split(q: Query, listed: str, folded: str, by: str, measure: str = "") -> str:
    """The check's rows grouped by its finding key as ``checks.records`` groups them; the
    groups its SQL reports, one row each (``listed``), and the others folded into one row per
    ``by`` (``folded``: the same columns, aggregated; counts summed back to BIGINT, as DuckDB's
    HUGEINT would reach pandas as floats). Both see the key columns, ``county`` (the group's
    first county), ``records`` (its warehouse rows) and the ``measure`` aggregates.

    The split is the SQL rule's, the verdict GX's: they agree when every listed row fails the
    expectation and every folded row passes it."""
    key = ", ".join(q.key)
    return f"""
        WITH r AS (SELECT *, coalesce({q.where}, false) AS offends FROM ({q.rows})),
        g AS (SELECT {key}, min(county_code) AS county, count(*) AS records, {measure}
                     offends AND coalesce({q.having}, false) AS listed
              FROM r GROUP BY {key}, offends)
        SELECT {listed} FROM g WHERE listed
        UNION ALL
        SELECT {folded} FROM g WHERE NOT listed GROUP BY {by}
        ORDER BY ALL
    """


def _payments(q: Query, year: int) -> tuple:
    sql = _split(q, "county AS county_code, left(person, 12) AS person, 1 AS people, "
                    "records AS payments",
                 "county, NULL, count(*), max(records)", "county")  # fmt: skip
    return sql, "ExpectColumnValuesToBeBetween", {"column": "payments", "min_value": 1, "max_value": 1}  # fmt: skip


def _regions(q: Query, year: int) -> tuple:
    sql = _split(q, "county_code, left(person, 12) AS person, region, records",
                 "county_code, NULL, region, sum(records)::BIGINT", "county_code, region")  # fmt: skip
    return sql, "ExpectColumnPairValuesToBeEqual", {"column_A": "region", "column_B": "county_code"}  # fmt: skip


def _ages(q: Query, year: int) -> tuple:
    # A county's youngest and oldest (one row when they are the same age).
    sql = _split(q, "county AS county_code, left(person, 12) AS person, date, age, records",
                 "DISTINCT county, NULL, NULL, unnest([min(age), max(age)]), sum(records)::BIGINT",
                 "county")  # fmt: skip
    c = q.check
    return sql, "ExpectColumnValuesToBeBetween", {"column": "age", "min_value": c.min, "max_value": c.max}  # fmt: skip


def _counted(q: Query, year: int) -> tuple:
    sql = _split(q, "county AS county_code, key, 1 AS items, places AS counted",
                 "county, NULL, count(*), max(places)", "county",
                 "count(DISTINCT (county_code, across)) AS places,")  # fmt: skip
    return sql, "ExpectColumnValuesToBeBetween", {"column": "counted", "min_value": 1, "max_value": 1}  # fmt: skip


def _years(q: Query, year: int) -> tuple:
    sql = _split(q, "county_code, date, year(date) AS activity_year, records",
                 "county_code, NULL, year(date), sum(records)::BIGINT",
                 "county_code, year(date)")  # fmt: skip
    return sql, "ExpectColumnValuesToBeInSet", {"column": "activity_year", "value_set": [year]}


def _late(q: Query, year: int) -> tuple:
    # Per county, how many days after the deadline its last activity came (≤ 0: on time).
    late = "date_diff('day', $deadline, latest)"
    sql = _split(q, f"county AS county_code, {late} AS days_late, records",
                 f"county, max({late}), sum(records)::BIGINT", "county",
                 "max(date) AS latest,")  # fmt: skip
    return sql, "ExpectColumnValuesToBeBetween", {"column": "days_late", "max_value": 0}


def _totals(q: Query, year: int) -> tuple:
    # Already one row per county and budget line, each a finding's key.
    # Money in fen (integers): exact in pandas too, where DECIMAL would become float.
    sql = (
        f"SELECT county_code, line, CAST(sum(allocated) * 100 AS BIGINT) AS allocated_fen, "
        f"CAST(sum(spent) * 100 AS BIGINT) AS spent_fen FROM ({q.rows}) GROUP BY ALL ORDER BY ALL"
    )
    return sql, "ExpectColumnPairValuesAToBeGreaterThanB", {"column_A": "allocated_fen", "column_B": "spent_fen", "or_equal": True}  # fmt: skip


def _amounts(q: Query, year: int) -> tuple:
    # One row per county and amount paid: the standard, and each finding's key.
    sql = (
        f"SELECT county_code, CAST(amount * 100 AS BIGINT) AS amount_fen, count(*) AS records, "
        f"amount = $standard AS on_standard FROM ({q.rows}) GROUP BY ALL ORDER BY ALL"
    )
    return sql, "ExpectColumnValuesToBeInSet", {"column": "on_standard", "value_set": [True]}


# Per rule: the summary's name (before the sheet's) and how it is made.
SUMMARIES: dict[str, tuple[str, Callable[[Query, int], tuple]]] = {
    "RECORDS.DUPLICATE_PAYMENT": ("payments", _payments),
    "RECORDS.OUT_OF_COUNTY": ("regions", _regions),
    "RECORDS.AGE_OUT_OF_RANGE": ("ages", _ages),
    "RECORDS.COUNTED_TWICE": ("counted", _counted),
    "RECORDS.OUTSIDE_YEAR": ("years", _years),
    "RECORDS.AFTER_DEADLINE": ("late", _late),
    "RECORDS.OVERSPENT": ("totals", _totals),
    "RECORDS.AMOUNT_NOT_STANDARD": ("amounts", _amounts),
}


def summaries(programme: Programme) -> list[Summary]:
    """One summary per declared check, named ``<kind>_<sheet>`` (``_2`` … when one kind is
    declared twice on a sheet). Each unexpected row is one RECORDS finding; the other rows are
    one per county (and region, year, budget line or amount), so a summary's size does not
    grow with the people. Every row names its county (``county_code``: for a finding across
    counties, the first of its counties)."""
    out, taken = [], set()
    for check in programme.checks:
        kind, make = SUMMARIES[check.rule]
        name = base = f"{kind}_{check.sheet}"
        n = 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        out.append(Summary(name, check, *make(query(check), programme.year)))
    return out


@dataclass(frozen=True)
class Since:
    """What a run's summaries can be computed from besides the records: every summary is kept
    in `summary_rows` (each run stores its own as ``run_id``), and with ``base`` (the
    programme's last audit, whose rows are kept), ``counties`` (those whose records changed
    since) and ``before`` (the published warehouse: the records as ``base`` audited them), it
    is computed over the rows those counties can change alone."""

    run_id: str
    base: str | None = None
    counties: tuple[str, ...] = ()
    before: Path | None = None


def _in(column: str, values: str) -> str:
    return f'"{column}" IN (SELECT unnest(${values}))'


def _subjects_there(q: Query) -> str:
    """The subjects (``q.key[0]``) of a rule across counties with a row in ``$by``."""
    return f'SELECT "{q.key[0]}" FROM ({q.rows}) WHERE {_in("county_code", "by")}'


@contextmanager
def _attached(con: duckdb.DuckDBPyConnection, since: Since) -> Iterator[bool]:
    """The published warehouse attached read-only as ``before`` while the summaries are
    computed, when its last audit is ``since.base`` (a staging copy starts as it): whether it
    is."""
    try:
        con.execute("ATTACH ? AS before (READ_ONLY)", [str(since.before)])
    except duckdb.Error:  # none published, or open elsewhere in this process: whole, then
        yield False
        return
    try:
        last = con.execute("SELECT run_id FROM before.runs WHERE status IS DISTINCT FROM "
                           "'unchanged' ORDER BY seq DESC LIMIT 1").fetchone()  # fmt: skip
        yield last is not None and last[0] == since.base
    finally:
        con.execute("DETACH before")


def _moved(con: duckdb.DuckDBPyConnection, q: Query, bound: dict) -> list[str]:
    """The counties whose rows of a summary across counties a change in ``$by`` can alter:
    each group is filed under its first county, so every county where a subject with a row in
    ``$by`` before the change (``before``'s records) or after it has a row. Only those
    counties' rows changed, so the subjects' rows elsewhere are looked up after it alone."""
    there = _subjects_there(q)
    con.execute("SET search_path = 'before.main'")  # the same query over the published tables
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE gone AS {there}", params(there, bound))
    finally:
        con.execute("RESET search_path")
    sql = (f'SELECT DISTINCT county_code FROM ({q.rows}) WHERE "{q.key[0]}" IN '
           f"({there} UNION ALL SELECT * FROM temp.gone)")  # fmt: skip
    counties = {c for (c,) in con.execute(sql, params(sql, bound)).fetchall()}
    con.execute("DROP TABLE temp.gone")
    return sorted(counties | set(bound["by"]))


def summary_frames(con: duckdb.DuckDBPyConnection, programme: Programme, specs: list[Summary],
                   since: Since | None = None) -> dict[str, Any]:  # fmt: skip
    """Each summary's rows as a pandas frame. With ``since``, the summaries are kept in
    `summary_rows` for the next run, and computed over the changed counties' rows alone when
    the kept rows are ``since.base``'s: every row of a summary names one county, so the other
    counties' rows are read back as kept, and the frame is the one the whole computation
    gives. A summary of a rule per county is recomputed for the changed counties; one across
    counties, which files a group under the first of its counties, for every county where a
    subject with a row in a changed county has a row before or after the change (`_moved`),
    from all of those subjects' rows — or whole, without the records as they were before."""
    scope = {"code": programme.code, "year": programme.year}
    reuse = bool(since and since.base) and con.execute(
        "SELECT count(*) > 0 AND bool_and(run_id = $base) FROM summary_rows "
        "WHERE programme_code = $code AND year = $year", scope | {"base": since.base}
    ).fetchone()[0]  # fmt: skip
    if since:
        con.execute("DELETE FROM summary_rows WHERE programme_code = $code AND year = $year "
                    "AND NOT list_contains($kept, summary)", scope | {"kept": [s.name for s in specs]})  # fmt: skip
    frames, moved = {}, {}  # moved: `_moved`'s counties by subject (rules over the same people)
    across = reuse and since.before is not None
    with _attached(con, since) if across else contextlib.nullcontext(False) as before:
        for spec in specs:
            bound = values(programme, spec.check) | scope | {"summary": spec.name}
            if not since:
                frames[spec.name] = con.execute(spec.sql, params(spec.sql, bound)).df()
                continue
            q, sql = query(spec.check), spec.sql
            if reuse and (q.per_county or before):
                bound |= {"by": list(since.counties)}
                if q.per_county:
                    rows = f"SELECT * FROM ({q.rows}) WHERE {_in('county_code', 'by')}"
                else:
                    who = subject(q)
                    if who not in moved:
                        moved[who] = _moved(con, q, bound)
                    bound["by"] = moved[who]
                    rows = f'SELECT * FROM ({q.rows}) WHERE "{q.key[0]}" IN ({_subjects_there(q)})'
                part = SUMMARIES[spec.rule_id][1](replace(q, rows=rows), programme.year)[0]
                shape = ", ".join(f'"{name}": "{kind}"' for name, kind, *_ in con.execute(
                    f"DESCRIBE {spec.sql}", params(spec.sql, bound)).fetchall())  # fmt: skip
                sql = f"""SELECT * FROM (SELECT * FROM ({part}) WHERE {_in('county_code', 'by')}
                          UNION ALL BY NAME SELECT unnest(from_json("row", '{{{shape}}}'))
                          FROM summary_rows WHERE programme_code = $code AND year = $year
                          AND summary = $summary AND NOT list_contains($by, county_code))
                          ORDER BY ALL"""
            con.execute(f"CREATE OR REPLACE TEMP TABLE summary AS {sql}", params(sql, bound))
            frames[spec.name] = con.execute("SELECT * FROM summary").df()
            con.execute("DELETE FROM summary_rows WHERE programme_code = $code AND year = $year "
                        "AND summary = $summary", scope | {"summary": spec.name})  # fmt: skip
            con.execute("INSERT INTO summary_rows SELECT $code, $year, $summary, county_code, $run, "
                        "to_json(s)::VARCHAR FROM summary s",
                        scope | {"summary": spec.name, "run": since.run_id})  # fmt: skip
            con.execute("DROP TABLE summary")
    return frames


@dataclass(frozen=True)
class ExpectationResult:
    suite: str  # the summary table, one suite each
    rule_id: str  # the RECORDS rule it mirrors
    expectation: str  # GX type, e.g. expect_column_values_to_be_between
    columns: tuple[str, ...]
    success: bool
    observed: Any  # GX observed_value, or the first unexpected values
    unexpected_count: int | None
    element_count: int | None


@dataclass(frozen=True)
class ExpectationReport:
    results: tuple[ExpectationResult, ...]
    data_docs: Path  # the static index page
    engine: str
    seconds: float  # summaries + GX validation, without building the Data Docs

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)

    def by_suite(self) -> dict[str, ExpectationResult]:
        return {r.suite: r for r in self.results}


def run_expectations(
    con: duckdb.DuckDBPyConnection,
    programme: Programme,
    out_dir: Path,
    engine: Literal["pandas", "sql"] = "pandas",
    since: Since | None = None,
    lang: str = "zh",
) -> ExpectationReport:
    """Validate the programme's summaries with GX and build Data Docs in ``out_dir/data_docs``
    (replaced whole). Raises RuntimeError when GX cannot evaluate an expectation. ``since``:
    the summaries kept for the next run and computed only where the records changed
    (`summary_frames`). ``lang``: the language of the index page's words (GX's own pages
    are in English and do not show the expectations' meta)."""
    out_dir = Path(out_dir).resolve()  # GX wants an absolute site directory
    site = out_dir / SITE
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    started = time.perf_counter()
    specs = summaries(programme)
    frames = summary_frames(con, programme, specs, since)
    with _LOCK, tempfile.TemporaryDirectory(dir=out_dir, prefix=".gx-") as scratch:
        context = _context()
        try:
            if engine == "sql":
                data = _sql_batches(context, specs, frames, Path(scratch) / "summaries.duckdb")
            else:
                data = _pandas_batches(context, specs, frames)
            results = tuple(_validate(context, s, *data[s.name]) for s in specs)
            seconds = time.perf_counter() - started
            with _raised("great_expectations.render.renderer.site_builder"):
                _build_data_docs(site, specs)
        finally:
            _forget(context, specs, engine)
    report = ExpectationReport(results, site / "index.html", engine, seconds)
    offline(site)
    write_index(site, report, programme, lang)
    return report


# --- GX set-up ----------------------------------------------------------------------------


@contextmanager
def _raised(logger: str) -> Iterator[None]:
    """GX's site builder catches what fails while it writes a page (a full disk) and logs it
    with its traceback as text: the first such exception is raised again here instead, so the
    run stops with one sentence rather than publish Data Docs with pages missing."""
    caught: list[BaseException] = []

    def keep(record: logging.LogRecord) -> bool:
        if (exc := sys.exc_info()[1]) is None:
            return True
        caught.append(exc)  # logged from its except block: the exception is the current one
        return False

    log = logging.getLogger(logger)
    log.addFilter(keep)
    try:
        yield
    finally:
        log.removeFilter(keep)
    if caught:
        raise caught[0]


def _gx():
    # Set before GX is imported: GX reads it to decide on its (opt-out) usage statistics.
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx

    return gx


@functools.cache
def _context():
    """The process's one GX context, made on first use (about a second: GX's own set-up) and
    kept: every run and programme validates and renders through it. It holds the pandas data
    source and its one whole-frame batch definition, which each validation fills with its
    summary, and each summary's suite and validation definition while they stay the same
    (``_definition``); a run's results are removed when it ends (``_forget``)."""
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas(_FRAMES).add_dataframe_asset(
        _FRAMES
    ).add_batch_definition_whole_dataframe(_FRAMES)
    return context


@functools.cache
def _docs() -> tuple[Any, Path]:
    """The process's Data Docs builder and the scratch folder it renders into. GX compiles its
    page templates once per builder (about a third of a second), so one is kept and each run's
    pages are moved from the scratch folder to the run's site."""
    from great_expectations.render.renderer.site_builder import SiteBuilder

    scratch = Path(tempfile.mkdtemp(prefix="jixiao-gx-docs-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    backend = {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(scratch)}
    builder = SiteBuilder(data_context=_context(), store_backend=backend, site_name=SITE,
                          show_how_to_buttons=False)  # fmt: skip
    return builder, scratch


def _build_data_docs(site: Path, specs: list[Summary]) -> None:
    """This run's pages (a suite's and a validation's for each summary) into ``site``, with the
    favicon they link; neither GX's index (``write_index`` writes the static one the offline
    pages need) nor its other static assets, which no offline page uses. A suite's page is
    rendered once while the suite stands (it holds no time), each validation's every run."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    builder, scratch = _docs()
    sections = builder.site_section_builders
    sections["validations"].build()  # the store holds this run's results only
    if new := [ExpectationSuiteIdentifier(s.name) for s in specs if s.name not in _SUITE_PAGES]:
        sections["expectations"].build(resource_identifiers=new)
        for page in (scratch / "expectations").glob("*.html"):
            _SUITE_PAGES[page.stem] = page.read_bytes()
            page.unlink()
    # Copied, not moved: the scratch folder is often on another file system, where a move
    # copies anyway and a full disk would surface as shutil.Error naming no errno.
    for page in sorted(p for p in scratch.rglob("*") if p.is_file()):
        target = site / page.relative_to(scratch)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(page, target)
        except OSError as exc:  # named by where it was written (sendfile names the source)
            exc.filename, exc.filename2 = str(target), None
            raise
    for folder in scratch.iterdir():
        shutil.rmtree(folder)
    (site / "expectations").mkdir(exist_ok=True)
    for spec in specs:
        (site / "expectations" / f"{spec.name}.html").write_bytes(_SUITE_PAGES[spec.name])
    favicon = Path(_gx().__file__).parent / "render" / "view" / FAVICON
    (site / FAVICON).parent.mkdir(parents=True)
    shutil.copyfile(favicon, site / FAVICON)


def _forget(context, specs: list[Summary], engine: str) -> None:
    """Remove this run's validation results from the process's context, and with the SQL
    engine its data source (closing the connection kept open) and what reads it."""
    store = context.validation_results_store
    for key in store.list_keys():
        store.remove_key(key)
    if engine == "sql":
        for spec in specs:
            _drop(context, spec.name)
        if _SQL in context.data_sources.all():
            context.data_sources.get(_SQL).get_execution_engine().close()
            context.data_sources.delete(_SQL)


def _drop(context, name: str) -> None:
    """The summary's validation definition and suite out of the context, and its page."""
    from great_expectations.exceptions import DataContextError

    for names in (context.validation_definitions, context.suites):
        with contextlib.suppress(DataContextError):  # not there: a run stopped before adding it
            names.delete(name)
    _DEFINITIONS.pop(name, None)
    _SUITE_PAGES.pop(name, None)


def _definition(context, spec: Summary, batch_definition):
    """The summary's validation definition: the one the process's context holds for its name
    while it checks the same expectation on the same data source (a programme's next run),
    else a new one with its suite, replacing the old."""
    gx = _gx()
    meta = {"rule_id": spec.rule_id, "rule": rule(spec.rule_id).title_zh}
    same = (spec.expectation, repr(spec.kwargs), repr(meta), batch_definition.id)
    if (kept := _DEFINITIONS.get(spec.name)) and kept[0] == same:
        return kept[1]
    _drop(context, spec.name)
    suite = context.suites.add(gx.ExpectationSuite(name=spec.name))
    suite.add_expectation(getattr(gx.expectations, spec.expectation)(**spec.kwargs, meta=meta))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=spec.name, data=batch_definition, suite=suite)
    )
    _DEFINITIONS[spec.name] = (same, definition)
    return definition


def _pandas_batches(context, specs: list[Summary], frames: dict) -> dict:
    definition = context.data_sources.get(_FRAMES).get_asset(_FRAMES).get_batch_definition(_FRAMES)
    return {s.name: (definition, {"dataframe": frames[s.name]}) for s in specs}


def _sql_batches(context, specs: list[Summary], frames: dict, db: Path) -> dict:
    with duckdb.connect(str(db)) as scratch:  # closed before GX opens the file
        for s in specs:
            scratch.register("frame", frames[s.name])
            scratch.execute(f"CREATE TABLE {s.name} AS SELECT * FROM frame")
            scratch.unregister("frame")
    _duckdb_keeps_its_connection()
    source = context.data_sources.add_sql(_SQL, connection_string=f"duckdb:///{db}")
    return {
        s.name: (
            source.add_table_asset(s.name, table_name=s.name).add_batch_definition_whole_table(
                s.name
            ),
            {},
        )
        for s in specs
    }


def _duckdb_keeps_its_connection() -> None:
    """The one patch of GX, for its SQL data source on DuckDB.

    GX 1.x has no DuckDB dialect: through a pooled connection it reads a metric's rows after
    the connection has closed, and every expectation fails with "list index out of range"
    (GX issues 10738 and 11579). Dialects listed in
    ``great_expectations.execution_engine.sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS``
    (sqlite, mssql …) get one connection kept open (StaticPool); listing duckdb there is the
    whole fix. GX compares the entries with strings and reads their ``.value``, so a
    str-valued enum member fits beside its own GXSqlDialect members.
    """
    import enum

    from great_expectations.execution_engine import sqlalchemy_execution_engine as sa_engine

    class _Dialect(enum.StrEnum):
        DUCKDB = "duckdb"

    persisted = sa_engine._PERSISTED_CONNECTION_DIALECTS
    if not any(d == "duckdb" for d in persisted):
        sa_engine._PERSISTED_CONNECTION_DIALECTS = (*persisted, _Dialect.DUCKDB)


def _validate(context, spec: Summary, batch_definition, batch_parameters: dict):
    definition = _definition(context, spec, batch_definition)
    outcome = definition.run(batch_parameters=batch_parameters, result_format="SUMMARY")
    (result,) = outcome.results
    # exception_info is one {raised_exception, exception_message} or one such dict per metric
    info = result.exception_info or {}
    raised = [
        i for i in (info, *info.values()) if isinstance(i, dict) and i.get("raised_exception")
    ]
    if raised:
        raise RuntimeError(
            f"GX could not evaluate {spec.name}: {raised[0].get('exception_message')}"
        )
    got = result.result or {}
    observed = got.get("observed_value")
    if observed is None:
        observed = got.get("partial_unexpected_list")
    columns = tuple(v for k, v in spec.kwargs.items() if k.startswith("column"))
    return ExpectationResult(
        spec.name,
        spec.rule_id,
        result.expectation_config.type,
        columns,
        bool(result.success),
        _plain(observed),
        got.get("unexpected_count"),
        got.get("element_count"),
    )


def _plain(value: Any) -> Any:
    """GX's observed values as plain Python (numpy scalars and timestamps out)."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


# --- Data Docs without outside addresses --------------------------------------------------

_OUTSIDE = r"""["']?(?:https?:)?//[^"'\s>)]*["']?"""
_STRIP = (
    re.compile(r"<script\b.*?</script>", re.S | re.I),  # every script: CDN or needing jQuery
    re.compile(r"<link\b[^>]*href=" + _OUTSIDE + r"[^>]*>", re.I),
    re.compile(r"<img\b[^>]*src=" + _OUTSIDE + r"[^>]*>", re.I),
    re.compile(r"<footer\b.*?</footer>", re.S | re.I),  # newsletter and tutorial links
)
_OUTSIDE_LINK = re.compile(r"<a\b[^>]*href=" + _OUTSIDE + r"[^>]*>(.*?)</a>", re.S | re.I)
_CSS_URL = re.compile(r"url\(\s*" + _OUTSIDE + r"\s*\)", re.I)
_ANY_URL = re.compile(r"\b(https?):/{2}", re.I)

# Replaces Bootstrap and Font Awesome: enough for GX's static tables to read well.
CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:0 2em 3em;
color:#222;line-height:1.45}
nav{padding:.4em 0;border-bottom:1px solid #ddd;margin-bottom:1em}
.breadcrumb{list-style:none;display:flex;gap:.6em;padding:0;margin:0}
table{border-collapse:collapse;margin:.4em 0;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
thead th{background:#f2f2f2}
.alert{background:#f2f2f2;border-left:4px solid #888;padding:.4em .8em;margin:1em 0 .4em}
.card{border:1px solid #ddd;margin:.5em 0;padding:.4em}
.badge{display:inline-block;padding:0 .35em;border-radius:3px;background:#e9e9e9;font-family:monospace}
.badge-danger{background:#f8d7da}
.text-danger{color:#b00020}.text-success{color:#1b7a2f}.text-warning{color:#9a6700}
.fas{font-style:normal}.fa-check-circle::before,.fa-check::before{content:"\\2714"}
.fa-times::before{content:"\\2718"}.fa-exclamation-triangle::before{content:"\\26A0"}
.btn,.btn-group,button,.sticky>.card.mb-3{display:none}
code{white-space:pre-wrap}
.passed{color:#1b7a2f}.failed{color:#b00020;font-weight:bold}
"""


def offline(site: Path) -> None:
    """Rewrite the GX pages so that none references an outside address."""
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for pattern in _STRIP:
            text = pattern.sub("", text)
        text = _OUTSIDE_LINK.sub(r"\1", text)
        text = _CSS_URL.sub("none", text)
        # Whatever address is left is text, not a link (none are expected): keep it readable
        # but not an address, so "no http(s):// anywhere" holds without exceptions.
        text = _ANY_URL.sub(r"\1:&#47;&#47;", text)
        text = text.replace("</head>", f"<style>{CSS}</style></head>", 1)
        page.write_text(text, encoding="utf-8")


def _page(site: Path, folder: str, suite: str) -> str | None:
    pages = sorted((site / folder).glob(f"{suite}/**/*.html")) or sorted(
        (site / folder).glob(f"{suite}.html")
    )
    return pages[-1].relative_to(site).as_posix() if pages else None


_PASSED, _FAILED = Said("通过", "passed"), Said("未通过", "failed")
_HEAD = (Said("规则", "Rule"), Said("汇总表", "Summary table"), Said("期望", "Expectation"),
         Said("结果", "Result"), Said("观测值 / 不符合的值", "Observed / unexpected values"),
         Said("不符合数", "Unexpected"), Said("行数", "Rows"))  # fmt: skip
_TITLE = Said("数据质量核查", "Data quality checks")
_HEADING = Said("数据质量核查（Great Expectations）", "Data quality checks (Great Expectations)")
_ABOUT = Said("（{year} 年度，{code}）", " ({year}, {code})")
_COUNT = Said("共 {total} 项期望，未通过 {failed} 项。生成于\n{at}；引擎：{engine}。",
              "{total} expectations, {failed} failed. Generated at\n{at}; engine: {engine}.")  # fmt: skip


def write_index(site: Path, report: ExpectationReport, programme: Programme,
                lang: str = "zh") -> None:  # fmt: skip
    """The Data Docs' front page, as static HTML: GX's own index lists its results only
    through JavaScript, which the offline pages no longer carry."""
    e = html.escape
    zh = lang == "zh"
    rows = []
    for r in report.results:
        validation = _page(site, "validations", r.suite)
        suite_page = _page(site, "expectations", r.suite)
        status = f'<span class="passed">{_PASSED(lang)}</span>' if r.success else f'<span class="failed">{_FAILED(lang)}</span>'  # fmt: skip
        name = f'<a href="{e(validation)}">{e(r.suite)}</a>' if validation else e(r.suite)
        expectation = f'<a href="{e(suite_page)}">{e(r.expectation)}</a>' if suite_page else e(r.expectation)  # fmt: skip
        found = rule(r.rule_id)
        cells = (
            f"{e(r.rule_id)}<br>{e(found.title_zh if zh else found.title_en)}",
            name,
            f"{expectation}<br>{e(', '.join(r.columns))}",
            status,
            e("" if r.observed is None else str(r.observed)),
            e("" if r.unexpected_count is None else str(r.unexpected_count)),
            e("" if r.element_count is None else str(r.element_count)),
        )
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    failed = sum(not r.success for r in report.results)
    count = _COUNT(lang).format(total=len(report.results), failed=failed, engine=e(report.engine),
                                at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))  # fmt: skip
    page = f"""<!DOCTYPE html>
<html lang="{"zh-CN" if zh else "en"}"><head><meta charset="utf-8"><title>{_TITLE(lang)} — {e(programme.name)}</title>
<style>{CSS}</style></head><body>
<h1>{_HEADING(lang)}</h1>
<p>{e(programme.name)}{_ABOUT(lang).format(year=programme.year, code=e(programme.code))}</p>
<p>{count}</p>
<table><thead><tr>{"".join(f"<th>{h(lang)}</th>" for h in _HEAD)}</tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</body></html>
"""
    (site / "index.html").write_text(page, encoding="utf-8")
