"""The county records against themselves (RECORDS.* rules): set-based DuckDB SQL over the
warehouse, one query per check that programme.yaml declares (SPEC §1.4), each returning the
offending rows with their lineage.

A rule kind names no sheet and no column: its declaration does (``schemas.programme.CHECKS``),
and the query reads that sheet's declared columns under the parameters' names (``person``,
``amount``, ``date`` …), so the rule's own SQL is the same text for any programme. Names are
validated identifiers and are quoted besides.

Every query is scoped to one programme and year. A rule's query groups the offending rows
into findings (a person, an item counted twice, a county's budget line …) and returns at most
``CAP`` rows per finding, numbered in file order, with the finding's totals computed over all
of its rows; Python only turns those few rows into ``Finding`` objects.

The warehouse holds no identity number or name (SPEC §4): a person is named by the first
12 characters of the keyed hash, and evidence text shows only the declared columns that are
not the person: dates, amounts, codes, names of things.

One rule is not declared: RECORDS.TOTAL_DISAGREES checks every total a county sheet states
(its 合计 / 小计 / 总计 rows, kept in `stated_totals`) against the column it totals, for every
numeric column of every template (``Sheet.totalled``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from jixiao.checks.findings import Evidence, Finding, amount_basis, difference, figure, yuan
from jixiao.schemas.contracts import TYPE_NAMES, Template
from jixiao.schemas.programme import (
    AfterDeadline,
    AgeOutOfRange,
    AmountNotStandard,
    CountedTwice,
    DuplicatePayment,
    OutOfCounty,
    OutsideYear,
    Overspent,
    Programme,
    RecordCheck,
)
from jixiao.schemas.template import hash_column
from jixiao.schemas.warehouse import ID_COLUMNS, STATED_TOTALS

CAP = 20  # evidence rows listed per finding; the rest are counted
_SCOPE = "programme_code = $code AND year = $year"
IN_COUNTIES = "county_code IN (SELECT unnest($counties))"  # the counties an audit re-checks
# What a person's identity column leaves in the warehouse beside its keyed hash (SPEC §4): the
# region its first six digits name, and the age on the sheet's date.
REGION, AGE = (c.name for c in ID_COLUMNS)
MONEY = {"amount", "allocated", "spent"}  # parameters that name money columns


def params(sql: str, values: dict) -> dict:
    """Only the named parameters the query uses: DuckDB refuses extra ones."""
    used = set(re.findall(r"\$(\w+)", sql))
    return {k: v for k, v in values.items() if k in used}


def _quoted(name: str) -> str:
    return f'"{name}"'


@dataclass(frozen=True)
class Query:
    """One declared check as a query: rows (with lineage), the rows that offend, how they
    group into findings, and what each group adds up to."""

    check: RecordCheck
    rows: str  # SELECT … with county_code, source_file, source_sheet, source_row
    key: tuple[str, ...]  # one finding per key
    aggregates: str  # over the group's offending rows; n_rows is always there
    where: str = "TRUE"  # which rows offend
    having: str = "TRUE"  # which groups offend
    order: str = "source_file, source_sheet, source_row"

    @property
    def per_county(self) -> bool:
        """Whether each finding is one county's (its key has the county), else it gathers rows
        of any county by its subject (a person, an item: ``key[0]``)."""
        return "county_code" in self.key

    def within(self, prefixes: dict[int, list[str]]) -> str:
        """Which offending rows an audit of the counties ``$counties`` re-checks: theirs, for a
        rule per county; else every row of a subject that has a row there, or whose value
        starts with one of ``prefixes`` (by length: the subjects of standing findings, so that
        a finding that lost its rows there goes too), bound as ``$prefix_N``. Each test is a
        semi-join on a list's values (a list_contains per row costs a scan of the list: 1.7 s
        instead of 0.5 for the national year's payments)."""
        if self.per_county:
            return IN_COUNTIES
        subject = _quoted(self.key[0])
        found = [f"SELECT {subject} FROM offending WHERE {IN_COUNTIES}"]
        found += [f"SELECT {subject} FROM offending WHERE left({subject}::VARCHAR, {n}) IN "
                  f"(SELECT unnest($prefix_{n}))" for n in prefixes]  # fmt: skip
        return f"{subject} IN ({' UNION ALL '.join(found)})"

    def sql(self, within: str = "TRUE") -> str:
        key = ", ".join(self.key)
        # The groups a HAVING keeps are found first, and only theirs aggregated: a duplicate
        # payment is a few hundred people of 3 M, and an arg_min and a list for every one of
        # them cost 3 s of a national year's audit. (A group of a NULL key, which the join
        # below drops anyway, is dropped here too.)
        groups = "r" if self.having == "TRUE" else (
            f"r SEMI JOIN (SELECT {key} FROM r GROUP BY {key} HAVING {self.having}) USING ({key})"
        )
        return f"""
            WITH offending AS (SELECT * FROM ({self.rows}) WHERE {self.where}),
            r AS (SELECT * FROM offending WHERE {within}),
            g AS (SELECT {key}, count(*) AS n_rows, {self.aggregates}
                  FROM {groups} GROUP BY {key})
            SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY {self.order}) AS rn
            FROM g JOIN r USING ({key})
            QUALIFY rn <= {CAP}
            ORDER BY {key}, rn
        """


def values(programme: Programme, check: RecordCheck) -> dict:
    """The query's bound parameters."""
    return {"code": programme.code, "year": programme.year,
            "standard": getattr(check, "standard", None),
            "deadline": getattr(check, "deadline", None)}  # fmt: skip


def _columns(check: RecordCheck, *derived: tuple[str, str]) -> dict[str, str]:
    """Each declared column under its parameter's name (a person as its hash; NULL for an
    optional column not declared), and the person's ``derived`` warehouse columns."""
    columns = {p: "NULL" for p in check.column_parameters()}
    columns |= {p: _quoted(hash_column(c) if p == "person" else c)
                for p, c in check.columns().items()}  # fmt: skip
    return columns | {name: _quoted(column) for name, column in derived}


def _where(check: RecordCheck, columns: dict[str, str]) -> list[str]:
    """The programme and year, the finding's subject (a person, a key) present, and the
    check's ``only`` column true."""
    where = [_SCOPE, *(f"{columns[p]} IS NOT NULL" for p in ("person", "key") if p in columns)]
    return where + ([_quoted(check.only)] if getattr(check, "only", None) else [])


def _rows(check: RecordCheck, *derived: tuple[str, str]) -> str:
    """The check's sheet in this programme and year: every declared column, the ``derived``
    ones (name, column: the person's region, age), the county and the lineage, of the rows
    `_where` keeps."""
    columns = _columns(check, *derived)
    select = ", ".join(f"{sql} AS {_quoted(name)}" for name, sql in columns.items())
    return (
        f"SELECT {select}, county_code, source_file, source_sheet, source_row "
        f"FROM {_quoted(check.sheet)} WHERE {' AND '.join(_where(check, columns))}"
    )


def subject(q: Query) -> tuple:
    """What decides which subjects (``q.key[0]``) a rule's rows hold in a county: its sheet,
    the subject's column and the rows' conditions. Rules with the same subject share them."""
    columns = _columns(q.check)
    return (q.check.sheet, columns[q.key[0]], *_where(q.check, columns))


def _duplicate(c: DuplicatePayment) -> Query:
    return Query(
        c,
        _rows(c),
        ("person",),
        # The first payment (by date, then file order) is the one due; the others are extra.
        "coalesce(sum(amount), 0) - coalesce(arg_min(amount, (date, county_code, source_file, "
        "source_row)), 0) AS extra_yuan, list(DISTINCT county_code ORDER BY county_code) AS counties",
        having="count(*) > 1",
        order="date, county_code, source_file, source_row",
    )


def _out_of_county(c: OutOfCounty) -> Query:
    return Query(
        c,
        _rows(c, ("region", REGION)),
        ("person", "county_code", "region"),
        "sum(amount) AS money_yuan",
        where="region <> county_code",
    )


def _age(c: AgeOutOfRange) -> Query:
    # age: whole years completed on the sheet's date, computed as the rows were loaded
    return Query(
        c,
        _rows(c, ("age", AGE)),
        ("person", "date", "age"),
        "sum(amount) AS money_yuan, min(county_code) AS county",
        where=f"age NOT BETWEEN {int(c.min)} AND {int(c.max)}",
    )


def _counted_twice(c: CountedTwice) -> Query:
    # An occasion (`across`) is unique within its county's submission, not across counties.
    places = "count(DISTINCT (county_code, across))"
    return Query(
        c,
        _rows(c),
        ("key",),
        f"{places} AS places, min(name) AS item",
        having=f"{places} > 1",
        order="county_code, across, source_file, source_row",
    )


def _outside_year(c: OutsideYear) -> Query:
    return Query(
        c, _rows(c), ("county_code", "date"), "sum(amount) AS money_yuan",
        where="year(date) <> $year",
    )  # fmt: skip


def _after_deadline(c: AfterDeadline) -> Query:
    return Query(
        c, _rows(c), ("county_code",), "max(date) AS latest, sum(amount) AS money_yuan",
        where="date > $deadline", order="date, source_file, source_row",
    )  # fmt: skip


def _overspent(c: Overspent) -> Query:
    return Query(
        c,
        _rows(c),
        ("county_code", "line"),
        "sum(allocated) AS allocated_total, sum(spent) AS spent_total",
        having="sum(spent) > sum(allocated)",
    )


def _off_standard(c: AmountNotStandard) -> Query:
    return Query(
        c, _rows(c), ("county_code", "amount"), "sum(abs(amount - $standard)) AS off_yuan",
        where="amount <> $standard",
    )  # fmt: skip


QUERIES: dict[str, Callable] = {
    "RECORDS.DUPLICATE_PAYMENT": _duplicate,
    "RECORDS.OUT_OF_COUNTY": _out_of_county,
    "RECORDS.AGE_OUT_OF_RANGE": _age,
    "RECORDS.COUNTED_TWICE": _counted_twice,
    "RECORDS.OUTSIDE_YEAR": _outside_year,
    "RECORDS.AFTER_DEADLINE": _after_deadline,
    "RECORDS.OVERSPENT": _overspent,
    "RECORDS.AMOUNT_NOT_STANDARD": _off_standard,
}


def query(check: RecordCheck) -> Query:
    return QUERIES[check.rule](check)


class _Names:
    """Counties, budget lines, sheets and columns as an auditor reads them. ``titles`` maps a
    sheet key to its Chinese title and ``sheet.column`` to a column's; a key without a title
    is shown as it is."""

    def __init__(self, programme: Programme):
        self.programme = programme
        self.lines = {b.code: b.name for b in programme.budget_lines}
        self.titles = programme.county_template.titles

    def county(self, code: str) -> str:
        name = self.programme.counties.get(code)
        return f"{code}（{name}）" if name else code

    def county_name(self, code: str) -> str:
        return self.programme.counties.get(code, code)

    def sheet(self, c: RecordCheck) -> str:
        return self.titles.get(c.sheet, c.sheet)

    def column(self, c: RecordCheck, parameter: str) -> str:
        column = getattr(c, parameter)
        return _title(self.titles.get(f"{c.sheet}.{column}", column), parameter in MONEY)


def _title(title: str, money: bool) -> str:
    """A column's title as a finding says it: a money column's unit is said by the amount
    (慰问金额(元) 400 → 慰问金额 400 元)."""
    return re.sub(r"\s*[(（]元[)）]$", "", title) if money else title


def _value(parameter: str, value: object) -> str:
    if parameter in MONEY and isinstance(value, Decimal):
        return f"{yuan(value)} 元"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _row_text(c: RecordCheck, r: dict, names: _Names) -> str:
    """One warehouse row as its declaration shows it: county, sheet, and each declared column
    but the finding's own key (a person's hash, the item counted twice)."""
    shown = [
        f"{names.column(c, p)} {_value(p, r[p])}"
        for p in c.columns()
        if p not in ("person", "key") and r[p] is not None
    ]
    head = f"{names.county_name(r['county_code'])} {names.sheet(c)}"
    return f"{head}：{'，'.join(shown)}" if shown else head


def _place(r: dict, names: _Names) -> tuple[str, str, str, str, int]:
    """A warehouse row's county (code, name), file, sheet and row, as Evidence takes them."""
    code = r["county_code"]
    return code, names.county_name(code), r["source_file"], r["source_sheet"], r["source_row"]


def _evidence(c: RecordCheck, rows: list[dict], names: _Names) -> tuple[Evidence, ...]:
    out = [
        Evidence("", 0, _row_text(c, r, names), *_place(r, names))
        for r in rows
    ]  # fmt: skip
    more = rows[0]["n_rows"] - len(rows)
    if more > 0:
        out.append(Evidence("", 0, f"另有 {more} 行未列出"))
    return tuple(out)


def _person(g: dict) -> str:
    return f"person:{g['person'][:12]}"


def _money(value: Decimal | None) -> Decimal | None:
    return value if value else None


# Per rule, from a group's first row (its totals) to (subject, claimed, observed, label,
# amount, the message's own parameters).
Parts = tuple[str, str, str, str, Decimal | None, dict]


def _label_en(county: str, c: RecordCheck, names: _Names) -> str:
    """A county's sheet in English: the two names apart (in Chinese they run together)."""
    return f"{names.county_name(county)} {names.sheet(c)}"


def _rows_en(g: dict) -> str:
    """A label's count of rows in English (Chinese: （N 行）)."""
    return f" ({g['n_rows']} row{'s' if g['n_rows'] != 1 else ''})"


def _duplicate_parts(c: DuplicatePayment, g: dict, names: _Names) -> Parts:
    where = "、".join(names.county_name(county) for county in g["counties"])
    extra = g["extra_yuan"]
    return (_person(g), str(g["n_rows"]), f"多发 {yuan(extra)} 元", where + names.sheet(c),
            extra, {"person": names.column(c, "person"),
                    "observed_en": f"{yuan(extra)} yuan paid too much"})  # fmt: skip


def _out_of_county_parts(c: OutOfCounty, g: dict, names: _Names) -> Parts:
    paying, region = names.county(g["county_code"]), names.county(g["region"])
    return (_person(g), paying, region, names.sheet(c), _money(g["money_yuan"]),
            {"person": names.column(c, "person")})  # fmt: skip


def _age_parts(c: AgeOutOfRange, g: dict, names: _Names) -> Parts:
    label = names.county_name(g["county"]) + names.sheet(c)
    return (_person(g), g["date"].isoformat(), str(g["age"]), label, _money(g["money_yuan"]),
            {"min": c.min, "max": c.max})  # fmt: skip


def _counted_twice_parts(c: CountedTwice, g: dict, names: _Names) -> Parts:
    places = g["places"]
    return (f"{c.key}:{g['key']}", str(places), f"应计 1 次，多计 {places - 1} 次",
            g["item"] or names.sheet(c), None,
            {"key": names.column(c, "key"), "across": names.column(c, "across"),
             "observed_en": f"to be counted once, counted {places - 1} more"})  # fmt: skip


def _outside_year_parts(c: OutsideYear, g: dict, names: _Names) -> Parts:
    county = g["county_code"]
    label, label_en = names.county_name(county) + names.sheet(c), _label_en(county, c, names)
    if g["n_rows"] > 1:
        label, label_en = label + f"（{g['n_rows']} 行）", label_en + _rows_en(g)
    return (f"county:{county}:{c.sheet}", g["date"].isoformat(), str(names.programme.year),
            label, _money(g["money_yuan"]), {"date": names.column(c, "date"),
                                             "label_en": label_en})  # fmt: skip


def _after_deadline_parts(c: AfterDeadline, g: dict, names: _Names) -> Parts:
    county = g["county_code"]
    label = f"{names.county_name(county)}{names.sheet(c)}"
    return (f"county:{county}:{c.sheet}:after:{c.deadline.isoformat()}", g["latest"].isoformat(),
            c.deadline.isoformat(), f"{label}（{g['n_rows']} 行）", _money(g["money_yuan"]),
            {"date": names.column(c, "date"), "label_en": _label_en(county, c, names) + _rows_en(g)})  # fmt: skip


def _overspent_parts(c: Overspent, g: dict, names: _Names) -> Parts:
    county, line = g["county_code"], g["line"]
    label = f"{names.county_name(county)}「{names.lines.get(line, line)}」"
    spent, allocated = g["spent_total"], g["allocated_total"]
    return (f"county:{county}:{line}", yuan(spent), yuan(allocated), label, spent - allocated,
            {})  # fmt: skip


def _off_standard_parts(c: AmountNotStandard, g: dict, names: _Names) -> Parts:
    county = g["county_code"]
    label = f"{names.county_name(county)}{names.sheet(c)}"
    return (f"county:{county}:{c.sheet}", yuan(g["amount"]), yuan(c.standard),
            f"{label}（{g['n_rows']} 行）", g["off_yuan"],
            {"amount": names.column(c, "amount"),
             "label_en": _label_en(county, c, names) + _rows_en(g)})  # fmt: skip


_PARTS: dict[str, Callable[..., Parts]] = {
    "RECORDS.DUPLICATE_PAYMENT": _duplicate_parts,
    "RECORDS.OUT_OF_COUNTY": _out_of_county_parts,
    "RECORDS.AGE_OUT_OF_RANGE": _age_parts,
    "RECORDS.COUNTED_TWICE": _counted_twice_parts,
    "RECORDS.OUTSIDE_YEAR": _outside_year_parts,
    "RECORDS.AFTER_DEADLINE": _after_deadline_parts,
    "RECORDS.OVERSPENT": _overspent_parts,
    "RECORDS.AMOUNT_NOT_STANDARD": _off_standard_parts,
}


def _summed(rows: list[dict], total: Decimal, key: str = "amount") -> str:
    """A sum over a finding's rows as a formula's terms: each row's figure, the rows not
    listed (beyond CAP) as one term."""
    listed = [r[key] for r in rows if r[key] is not None]
    rest = total - sum(listed, Decimal(0))
    return " + ".join([*map(figure, listed), *([figure(rest)] if rest else [])])


def _rows_sum(c: RecordCheck, rows: list[dict], names: _Names, amount: Decimal) -> dict:
    column, n = names.column(c, "amount"), rows[0]["n_rows"]
    return amount_basis(f"这 {n} 行的{column}之和" if n > 1 else f"该行的{column}",
                        f"the {column} of these {n} rows, summed" if n > 1 else f"the row's {column}",
                        _summed(rows, amount), amount)  # fmt: skip


def _duplicate_basis(c: DuplicatePayment, rows: list[dict], names: _Names, amount: Decimal) -> dict:
    first = rows[0]["amount"] or Decimal(0)  # the one due: rows come in the query's date order
    return amount_basis(f"各笔{names.column(c, 'amount')}之和 − 首笔（应发的一笔）",
                        "all payments − the first (the one due)",
                        f"({_summed(rows, amount + first)}) − {figure(first)}", amount)  # fmt: skip


def _overspent_basis(c: Overspent, rows: list[dict], names: _Names, amount: Decimal) -> dict:
    g = rows[0]
    return amount_basis(f"{names.column(c, 'spent')}合计 − {names.column(c, 'allocated')}合计",
                        "spent in total − allocated in total",
                        f"{figure(g['spent_total'])} − {figure(g['allocated_total'])}", amount)


def _off_standard_basis(c: AmountNotStandard, rows: list[dict], names: _Names,
                        amount: Decimal) -> dict:  # fmt: skip
    g = rows[0]
    return amount_basis("行数 × 每行与标准之差", "rows × each row's difference from the standard",
                        f"{g['n_rows']} × ({difference(g['amount'], c.standard)})", amount)


# Per rule that sets an amount, its formula (Finding.as_dict's ``amount_basis``) from the
# finding's rows.
_BASES: dict[str, Callable[..., dict]] = {
    "RECORDS.DUPLICATE_PAYMENT": _duplicate_basis,
    "RECORDS.OUT_OF_COUNTY": _rows_sum,
    "RECORDS.AGE_OUT_OF_RANGE": _rows_sum,
    "RECORDS.OUTSIDE_YEAR": _rows_sum,
    "RECORDS.AFTER_DEADLINE": _rows_sum,
    "RECORDS.OVERSPENT": _overspent_basis,
    "RECORDS.AMOUNT_NOT_STANDARD": _off_standard_basis,
}


def groups(con: duckdb.DuckDBPyConnection, q: Query, bound: dict,
           within: str = "TRUE") -> list[list[dict]]:  # fmt: skip
    """The query's findings (those of its rows ``within``), each as its (at most CAP) rows."""
    sql = q.sql(within)
    cursor = con.execute(sql, params(sql, bound))
    columns = [d[0] for d in cursor.description]
    out: dict[tuple, list[dict]] = {}
    for row in cursor.fetchall():
        r = dict(zip(columns, row, strict=True))
        out.setdefault(tuple(r[k] for k in q.key), []).append(r)
    return list(out.values())


def record_findings(con: duckdb.DuckDBPyConnection, programme: Programme,
                    counties: list[str] | None = None,
                    standing: list[Finding] = ()) -> list[Finding]:  # fmt: skip
    """Every RECORDS.* finding of the programme for its year: its declared checks, in the
    order they are declared, then its counties' stated totals (`total_findings`).

    With ``counties`` (the counties whose rows changed since the audit that found
    ``standing``, the RECORDS findings it stored), the same findings from re-checking only
    what those rows can change: a rule per county over those counties, its other standing
    findings kept; a rule across counties over the subjects with a row there and those of
    its standing findings, which it finds again or not. A finding's group is all of its
    subject's rows, so a subject re-checked is found exactly as a full audit finds it."""
    names, out, kept = _Names(programme), [], set()
    for check in programme.checks:
        q, bound, within = query(check), values(programme, check), "TRUE"
        if counties is not None:
            mine = [f for f in standing if f.rule_id == check.rule]
            if q.per_county and check.rule not in kept:  # once for all the rule's checks
                kept.add(check.rule)
                out += [f for f in mine if f.evidence[0].county_code not in counties]
            prefixes: dict[int, list[str]] = {}
            for f in mine if not q.per_county else ():
                value = f.subject.split(":", 1)[1]  # "kind:value", the value whole or its start
                prefixes.setdefault(len(value), []).append(value)
            within = q.within(prefixes)
            bound |= {"counties": counties} | {f"prefix_{n}": v for n, v in prefixes.items()}
        for rows in groups(con, q, bound, within):
            subject, claimed, observed, label, amount, extra = _PARTS[check.rule](
                check, rows[0], names
            )
            if amount is not None:
                extra |= _BASES[check.rule](check, rows, names, amount)
            out.append(Finding(check.rule, subject, claimed, observed,
                               _evidence(check, rows, names), label=label, amount_yuan=amount,
                               params=extra))  # fmt: skip
    if counties is None:
        return out + total_findings(con, programme, names)
    kept = [f for f in standing if f.rule_id == TOTAL and f.evidence[0].county_code not in counties]
    return out + kept + total_findings(con, programme, names, counties)


# --- stated totals (RECORDS.TOTAL_DISAGREES) ------------------------------------------------

TOTAL = "RECORDS.TOTAL_DISAGREES"
FEN = Decimal("0.01")
_EXACT = "DECIMAL(38,6)"  # stated_totals.stated: every numeric type summed exactly in it


def totals_sql(template: Template, within: str = "TRUE") -> str | None:
    """The stated totals of a programme year that differ from the sum of their column over
    the rows they cover in the same file (an unreadable one, from a sum that is not 0): one
    branch per column a sheet totals, summed in its own table. Each total carries its kind
    (its label without spaces: 合 计 is 合计) and which of its kind it is in its column of the
    file (``nth``), so that a finding is followed night to night wherever its row moves.
    ``within``: which counties' totals (all). None when no sheet of the template totals a
    column."""
    branches = [
        f"""SELECT t.*, coalesce(sum(s.{_quoted(column)}::{_EXACT}), 0) AS computed
            FROM t LEFT JOIN {_quoted(key)} s ON s.programme_code = t.programme_code
              AND s.year = t.year AND s.county_code = t.county_code
              AND s.source_file = t.source_file AND s.source_row BETWEEN t.from_row AND t.to_row
            WHERE t.sheet = '{key}' AND t.column_key = '{column}'
            GROUP BY ALL"""
        for key, sheet in template.sheets.items()
        for column in sheet.totalled
    ]  # keys are validated names: safe as literals
    if not branches:
        return None
    return f"""
        WITH k AS (SELECT *, regexp_replace(label, '[\\s\\p{{Z}}]+', '', 'g') AS kind
                   FROM {STATED_TOTALS.name} WHERE {_SCOPE} AND {within}),
        t AS (SELECT *, row_number() OVER (PARTITION BY county_code, source_file, sheet,
                     column_key, kind ORDER BY source_row) AS nth FROM k)
        SELECT * FROM ({" UNION ALL BY NAME ".join(branches)})
        WHERE coalesce(stated <> computed, computed <> 0)
        ORDER BY county_code, source_file, sheet, source_row, column_key
    """


def _figure(value: Decimal, money: bool) -> str:
    return f"{yuan(value)} 元" if money else format(value.normalize(), "f")


def total_findings(con: duckdb.DuckDBPyConnection, programme: Programme,
                   names: _Names | None = None,
                   counties: list[str] | None = None) -> list[Finding]:  # fmt: skip
    """One RECORDS.TOTAL_DISAGREES finding per stated total of the programme year (of the
    ``counties``: all) that its rows do not add up to, on its county, naming the sheet as the
    file names it and the cell."""
    template = programme.county_template
    bound = {"code": programme.code, "year": programme.year}
    sql = totals_sql(template, "TRUE" if counties is None else IN_COUNTIES)
    if sql is None:
        return []
    names = names or _Names(programme)
    cursor = con.execute(sql, bound | ({} if counties is None else {"counties": counties}))
    columns = [d[0] for d in cursor.description]
    out = []
    for r in (dict(zip(columns, row, strict=True)) for row in cursor.fetchall()):
        sheet, key = template.sheets[r["sheet"]], r["column_key"]
        typed, money = sheet.fields[key].type, sheet.fields[key].type == "money"
        stated, computed = r["stated"], r["computed"]
        claimed = (_figure(stated, money) if stated is not None
                   else f"「{r['stated_text']}」（不能读作{TYPE_NAMES[typed]}）")  # fmt: skip
        observed = _figure(computed, money)
        first, last = r["from_row"], r["to_row"]
        rows = str(first) if first == last else f"{first}–{last}"
        column = _title(sheet.labels[key], money)
        label = f"{names.county_name(r['county_code'])}「{r['source_sheet']}」"
        amount = abs(stated - computed).quantize(FEN) if money and stated is not None else None
        evidence = Evidence(
            "", 0, f"{r['kind']}（{r['cell']}）{column}：填报「{r['stated_text']}」，"
            f"第 {rows} 行之和为 {observed}", *_place(r, names),
        )  # fmt: skip
        out.append(Finding(
            TOTAL, f"county:{r['county_code']}:{sheet.key}.{key}:{r['kind']}{r['nth']}",
            claimed, observed, (evidence,), label=label,
            amount_yuan=amount,
            params={"kind": r["kind"], "cell": r["cell"], "column": column, "rows": rows,
                    **(amount_basis(f"{r['kind']}行所填与第 {rows} 行之和的差",
                                    f"the {r['kind']} row as stated against rows {rows} summed",
                                    difference(stated, computed), amount)
                       if amount is not None else {})},
        ))  # fmt: skip
    return out
