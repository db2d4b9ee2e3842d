"""The county records against themselves (RECORDS.* rules): set-based DuckDB SQL over the
warehouse, one query per rule, each returning the offending rows with their lineage.

Every query is scoped to one programme and year. A rule's query groups the offending rows
into findings (a person, an employer, a county's budget line …) and returns at most ``CAP``
rows per finding, numbered in file order, with the finding's totals computed over all of
its rows; Python only turns those few rows into ``Finding`` objects.

The warehouse holds no certificate number or name (SPEC §4): a person is named by the first
12 characters of the keyed hash, and evidence text never carries more than dates, amounts,
places and counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from jixiao.checks.findings import Evidence, Finding
from jixiao.schemas.programme import Programme

CAP = 20  # evidence rows listed per finding; the rest are counted
WORKING_AGE = (16, 60)  # inclusive, on the activity date
_SCOPE = "programme_code = $code AND year = $year"

# Who took part in what, and when: the rows that name a person (visits, competition entries).
PEOPLE = f"""
    SELECT 'visits' AS sheet_key, cert_hash, region_code, age, county_code,
           visited_on AS on_date, amount_yuan AS money, NULL AS event,
           source_file, source_sheet, source_row
    FROM visits WHERE {_SCOPE}
    UNION ALL
    SELECT 'competition_entries', cert_hash, region_code, age, county_code,
           held_on, NULL, event, source_file, source_sheet, source_row
    FROM competition_entries WHERE {_SCOPE}
"""

# Every dated activity: visits, job fairs, competition entries.
DATED = f"""
    SELECT 'visits' AS sheet_key, county_code, visited_on AS on_date, amount_yuan AS money,
           NULL AS what, source_file, source_sheet, source_row
    FROM visits WHERE {_SCOPE}
    UNION ALL
    SELECT 'job_fairs', county_code, held_on, spent_yuan, fair_id,
           source_file, source_sheet, source_row
    FROM job_fairs WHERE {_SCOPE}
    UNION ALL
    SELECT 'competition_entries', county_code, held_on, NULL, event,
           source_file, source_sheet, source_row
    FROM competition_entries WHERE {_SCOPE}
"""


def visit_standard(programme: Programme) -> Decimal | None:
    """The per-household visit standard: the target of the indicator whose metric divides
    ``visits.amount_yuan`` by the people visited (``visit_standard`` in the sample)."""
    for ind in programme.indicators:
        sql = (ind.metric or "").lower()
        if (
            isinstance(ind.target, Decimal)
            and ind.unit == "元"
            and "amount_yuan" in sql
            and re.search(r"\bfrom\s+visits\b", sql)
            and "cert_hash" in sql
        ):
            return ind.target
    return None


def params(sql: str, values: dict) -> dict:
    """Only the named parameters the query uses: DuckDB refuses extra ones."""
    used = set(re.findall(r"\$(\w+)", sql))
    return {k: v for k, v in values.items() if k in used}


def yuan(value: Decimal) -> str:
    """Money as an auditor writes it: 400, 12000, 12000.50."""
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


@dataclass(frozen=True)
class _Rule:
    """One RECORDS rule as a query: rows (with lineage), the rows that offend, how they
    group into findings, and what each group adds up to."""

    rule_id: str
    rows: str  # SELECT … with source_file, source_sheet, source_row
    key: tuple[str, ...]  # one finding per key
    aggregates: str  # over the group's offending rows; n_rows is always there
    where: str = "TRUE"  # which rows offend
    having: str = "TRUE"  # which groups offend
    order: str = "source_file, source_sheet, source_row"

    def sql(self) -> str:
        key = ", ".join(self.key)
        return f"""
            WITH r AS (SELECT * FROM ({self.rows}) WHERE {self.where}),
            g AS (SELECT {key}, count(*) AS n_rows, {self.aggregates}
                  FROM r GROUP BY {key} HAVING {self.having})
            SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY {self.order}) AS rn
            FROM g JOIN r USING ({key})
            QUALIFY rn <= {CAP}
            ORDER BY {key}, rn
        """


RULES = (
    _Rule(
        "RECORDS.DUPLICATE_PAYMENT",
        f"SELECT * FROM visits WHERE {_SCOPE}",
        ("cert_hash",),
        # The first payment (by date, then file order) is the one due; the others are extra.
        "sum(amount_yuan) - arg_min(amount_yuan, (visited_on, county_code, source_file, "
        "source_row)) AS extra_yuan, list(DISTINCT county_code ORDER BY county_code) AS counties",
        having="count(*) > 1",
        order="visited_on, county_code, source_file, source_row",
    ),
    _Rule(
        "RECORDS.OUT_OF_COUNTY",
        PEOPLE,
        ("cert_hash", "county_code", "region_code"),
        "sum(money) AS money_yuan, list(DISTINCT sheet_key ORDER BY sheet_key) AS sheets",
        where="region_code <> county_code",
    ),
    _Rule(
        "RECORDS.AGE_OUT_OF_RANGE",
        PEOPLE,  # age: whole years completed on the date, computed as the rows were loaded
        ("cert_hash", "on_date", "age"),
        "sum(money) AS money_yuan, list(DISTINCT sheet_key ORDER BY sheet_key) AS sheets, "
        "min(county_code) AS county",
        where=f"age NOT BETWEEN {WORKING_AGE[0]} AND {WORKING_AGE[1]}",
    ),
    _Rule(
        "RECORDS.EMPLOYER_COUNTED_TWICE",
        f"SELECT * FROM fair_employers WHERE {_SCOPE} AND intends_to_hire",
        ("credit_code",),
        "min(employer_name) AS employer",
        having="count(*) > 1",
        order="county_code, fair_id, source_file, source_row",
    ),
    _Rule(
        "RECORDS.OUTSIDE_YEAR",
        DATED,
        ("sheet_key", "county_code", "on_date"),
        "sum(money) AS money_yuan",
        where="year(on_date) <> $year",
    ),
    _Rule(
        "RECORDS.OVERSPENT",
        f"SELECT * FROM funds WHERE {_SCOPE}",
        ("county_code", "budget_line"),
        "sum(allocated_yuan) AS allocated, sum(spent_yuan) AS spent",
        having="sum(spent_yuan) > sum(allocated_yuan)",
    ),
    _Rule(
        "RECORDS.AMOUNT_NOT_STANDARD",
        f"SELECT * FROM visits WHERE {_SCOPE}",
        ("county_code", "amount_yuan"),
        "sum(abs(amount_yuan - $standard)) AS off_yuan",
        where="amount_yuan <> $standard",
    ),
)

_ROLE = {"visits": "慰问对象", "competition_entries": "竞赛参赛人员"}


class _Names:
    """Counties, budget lines and sheets as an auditor reads them."""

    def __init__(self, programme: Programme):
        self.programme = programme
        self.lines = {b.code: b.name for b in programme.budget_lines}
        self.titles = {k: s.title for k, s in programme.county_template.sheets.items()}

    def county(self, code: str) -> str:
        name = self.programme.counties.get(code)
        return f"{code}（{name}）" if name else code

    def county_name(self, code: str) -> str:
        return self.programme.counties.get(code, code)

    def role(self, sheets: list[str]) -> str:
        return "、".join(_ROLE[s] for s in sheets)


def _row_text(r: dict, names: _Names) -> str:
    """A short description of one warehouse row: dates, amounts, places; no personal data."""
    where = names.county_name(r["county_code"])
    if "budget_line" in r:  # funds
        return (
            f"{where} {r['budget_line']}：下达 {yuan(r['allocated_yuan'])} 元，"
            f"使用 {yuan(r['spent_yuan'])} 元"
        )
    if "credit_code" in r:  # fair employers
        return f"{where} 招聘会 {r['fair_id']}：{r['employer_name']}，有意向招聘"
    sheet = r.get("sheet_key", "visits")
    if sheet == "job_fairs":
        return f"{where} 招聘会 {r['what']}：{r['on_date']}，支出 {yuan(r['money'])} 元"
    if sheet == "competition_entries":
        return f"{where} 竞赛「{r.get('event') or r.get('what')}」：{r['on_date']}"
    paid = r.get("money", r.get("amount_yuan"))
    return f"{where} 慰问：{r.get('on_date', r.get('visited_on'))}，{yuan(paid)} 元"


def _evidence(rows: list[dict], names: _Names) -> tuple[Evidence, ...]:
    out = [
        Evidence(f"{r['source_file']} › {r['source_sheet']}", r["source_row"], _row_text(r, names))
        for r in rows
    ]
    more = rows[0]["n_rows"] - len(rows)
    if more > 0:
        out.append(Evidence("", 0, f"另有 {more} 行未列出"))
    return tuple(out)


def _person(g: dict) -> str:
    return f"person:{g['cert_hash'][:12]}"


def _money(value: Decimal | None) -> Decimal | None:
    return value if value else None


# Per rule, from a group's first row (its totals) to (subject, claimed, observed, label, amount).
Parts = tuple[str, str, str, str, Decimal | None]


def _duplicate(g: dict, names: _Names, year: int) -> Parts:
    where = "、".join(names.county_name(c) for c in g["counties"])
    extra = g["extra_yuan"]
    return _person(g), str(g["n_rows"]), f"多发 {yuan(extra)} 元", f"{where}慰问对象", extra


def _out_of_county(g: dict, names: _Names, year: int) -> Parts:
    paying, region = names.county(g["county_code"]), names.county(g["region_code"])
    return _person(g), paying, region, names.role(g["sheets"]), _money(g["money_yuan"])


def _age(g: dict, names: _Names, year: int) -> Parts:
    label = names.county_name(g["county"]) + names.role(g["sheets"])
    return _person(g), g["on_date"].isoformat(), str(g["age"]), label, _money(g["money_yuan"])


def _employer(g: dict, names: _Names, year: int) -> Parts:
    extra = f"应计 1 家，多计 {g['n_rows'] - 1} 家"
    return f"employer:{g['credit_code']}", str(g["n_rows"]), extra, g["employer"], None


def _outside_year(g: dict, names: _Names, year: int) -> Parts:
    sheet, county = g["sheet_key"], g["county_code"]
    label = names.county_name(county) + names.titles[sheet]
    if g["n_rows"] > 1:
        label += f"（{g['n_rows']} 行）"
    subject = f"county:{county}:{sheet}"
    return subject, g["on_date"].isoformat(), str(year), label, _money(g["money_yuan"])


def _overspent(g: dict, names: _Names, year: int) -> Parts:
    county, line = g["county_code"], g["budget_line"]
    label = f"{names.county_name(county)}「{names.lines.get(line, line)}」"
    over = g["spent"] - g["allocated"]
    return f"county:{county}:{line}", yuan(g["spent"]), yuan(g["allocated"]), label, over


def _off_standard(g: dict, names: _Names, year: int) -> Parts:
    county = g["county_code"]
    label = f"{names.county_name(county)} {g['n_rows']} 户"
    paid, standard = yuan(g["amount_yuan"]), yuan(g["standard"])
    return f"county:{county}", paid, standard, label, g["off_yuan"]


_PARTS = {
    "RECORDS.DUPLICATE_PAYMENT": _duplicate,
    "RECORDS.OUT_OF_COUNTY": _out_of_county,
    "RECORDS.AGE_OUT_OF_RANGE": _age,
    "RECORDS.EMPLOYER_COUNTED_TWICE": _employer,
    "RECORDS.OUTSIDE_YEAR": _outside_year,
    "RECORDS.OVERSPENT": _overspent,
    "RECORDS.AMOUNT_NOT_STANDARD": _off_standard,
}


def _groups(con: duckdb.DuckDBPyConnection, rule: _Rule, values: dict) -> list[list[dict]]:
    sql = rule.sql()
    cursor = con.execute(sql, params(sql, values))
    columns = [d[0] for d in cursor.description]
    groups: dict[tuple, list[dict]] = {}
    for row in cursor.fetchall():
        r = dict(zip(columns, row, strict=True))
        groups.setdefault(tuple(r[k] for k in rule.key), []).append(r)
    return list(groups.values())


def record_findings(
    con: duckdb.DuckDBPyConnection, programme: Programme, standard_yuan: Decimal | None = None
) -> list[Finding]:
    """Every RECORDS.* finding for the programme's year, in catalogue order.

    ``standard_yuan`` is the per-household visit standard; when None it is read from the
    programme (``visit_standard``), and when the programme has none the check is skipped.
    """
    standard = standard_yuan if standard_yuan is not None else visit_standard(programme)
    values = {"code": programme.code, "year": programme.year, "standard": standard}
    names = _Names(programme)
    out = []
    for rule in RULES:
        if rule.rule_id == "RECORDS.AMOUNT_NOT_STANDARD" and standard is None:
            continue
        for rows in _groups(con, rule, values):
            group = rows[0] | {"standard": standard}
            subject, claimed, observed, label, amount = _PARTS[rule.rule_id](
                group, names, programme.year
            )
            evidence = _evidence(rows, names)
            out.append(Finding(rule.rule_id, subject, claimed, observed, evidence, label=label,
                               amount_yuan=amount))  # fmt: skip
    return out
