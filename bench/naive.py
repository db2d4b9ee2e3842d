"""The stack a user writes first: pandas reads each file, pandera (pandas backend) checks it,
Great Expectations checks the records as pandas dataframes, DuckDB stores the result.

Per file: ``pandas.read_csv`` (UTF-8, else GB18030) or ``pandas.read_excel(engine="calamine")``,
headers mapped to keys, values normalised with vectorised pandas string and date functions,
then a pandera ``DataFrameSchema`` equivalent to the contract (types, required values, dates
in the year, ranges, enums, unique keys, the check characters as element-wise checks calling
``schemas.identifiers``) and the fair ids against the county's fairs. A file that fails is
refused. Accepted frames get the lineage and the keyed hash (``hmac`` per row), are
concatenated per sheet and written to DuckDB. Then one GX expectation per RECORDS rule over
the full-row frames (a person paid twice = ``cert_hash`` values unique, and so on).

Money is float here, as a first pandas script has it; jixiao keeps it exact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import time
from collections import defaultdict
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from bench.clock import Clock
from jixiao.sample.generate import ANSWERS, AWARDS, SHEETS
from jixiao.schemas.identifiers import is_cert_no, is_credit_code

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _kind(key: str, col: str) -> str:
    dtype = SHEETS[key].dtypes[col]
    if dtype.is_decimal():
        return "money"
    return {"Date": "date", "Int64": "int", "Boolean": "bool"}.get(str(dtype), "text")


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")


def to_date(s: pd.Series) -> pd.Series:
    s = s.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    serial = s.str.fullmatch(r"\d{1,7}(\.0+)?", na=False)
    if serial.any():
        days = pd.to_numeric(s[serial]).astype("int64")
        out[serial] = pd.Timestamp("1899-12-30") + pd.to_timedelta(days, unit="D")
    for fmt in _DATE_FORMATS:
        todo = out.isna() & s.notna() & ~serial
        if not todo.any():
            break
        out[todo] = pd.to_datetime(s[todo], format=fmt, errors="coerce")
    return out


def to_money(s: pd.Series) -> pd.Series:
    s = s.astype("string").str.strip().str.replace(",", "", regex=False)
    wan = s.str.endswith("万", na=False)
    value = pd.to_numeric(s.str.rstrip("万").str.rstrip("元"), errors="coerce").astype("float64")
    return value.where(~wan, value * 10000)


def normalise(df: pd.DataFrame, key: str) -> pd.DataFrame:
    labels = SHEETS[key].labels
    by_name = {name: k for k, label in labels.items() for name in (k, label)}
    df = df.rename(columns=lambda c: by_name.get(str(c).strip(), c))
    out = pd.DataFrame(index=df.index)
    for col in labels:
        if col not in df:
            raise KeyError(col)
        kind = _kind(key, col)
        s = df[col]
        if kind == "date":
            out[col] = to_date(s)
        elif kind == "money":
            out[col] = to_money(s)
        elif kind == "int":
            out[col] = pd.to_numeric(s.astype("string").str.strip(), errors="coerce").astype(
                "Int64"
            )
        elif kind == "bool":
            out[col] = (
                s.astype("string").str.strip().map({"是": True, "否": False}).astype("boolean")
            )
        else:
            out[col] = s.astype("string").str.strip().replace("", pd.NA)
    return out


def schemas(year: int, budget_lines: list[str]):
    """pandera (pandas) schemas equivalent to schemas/contracts.py."""
    import pandera.pandas as pa

    lo, hi = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)

    def text(**kw):
        return pa.Column("string", nullable=False, **kw)

    def count():
        return pa.Column("Int64", pa.Check.ge(0), nullable=False)

    def money(positive: bool = False):
        return pa.Column(float, pa.Check.gt(0) if positive else pa.Check.ge(0), nullable=False)

    def in_year():
        return pa.Column("datetime64[ns]", pa.Check.in_range(lo, hi), nullable=False)

    cert = text(checks=pa.Check(lambda s: s.map(is_cert_no), name="cert_no_valid"))
    return {
        "job_fairs": pa.DataFrameSchema(
            {
                "fair_id": text(unique=True),
                "held_on": in_year(),
                "venue": text(),
                "employers": count(),
                "positions": count(),
                "jobseekers": count(),
                "intent_matches": count(),
                "spent_yuan": money(),
            },
            checks=pa.Check(lambda df: df.intent_matches <= df.jobseekers),
        ),  # fmt: skip
        "fair_employers": pa.DataFrameSchema(
            {
                "fair_id": text(),
                "employer_name": text(),
                "credit_code": text(checks=pa.Check(lambda s: s.map(is_credit_code))),
                "positions_for_disabled": count(),
                "intends_to_hire": pa.Column("boolean", nullable=False),
            },
        ),  # fmt: skip
        "visits": pa.DataFrameSchema(
            {
                "cert_no": cert,
                "name": text(),
                "category": text(checks=pa.Check.isin(["就业困难", "失业"])),
                "visited_on": in_year(),
                "amount_yuan": money(positive=True),
                "paid_via": text(checks=pa.Check.isin(["现金", "银行转账"])),
            },
        ),  # fmt: skip
        "competition_entries": pa.DataFrameSchema(
            {
                "cert_no": cert,
                "name": text(),
                "event": text(),
                "held_on": in_year(),
                "award": text(checks=pa.Check.isin(AWARDS)),
            },
        ),  # fmt: skip
        "survey_responses": pa.DataFrameSchema(
            {
                "response_id": text(unique=True),
                "answered_on": pa.Column("datetime64[ns]", nullable=False),
                **{f"q{n}": text(checks=pa.Check.isin(ANSWERS)) for n in range(1, 11)},
            },
        ),  # fmt: skip
        "funds": pa.DataFrameSchema(
            {
                "budget_line": text(checks=pa.Check.isin(budget_lines)),
                "allocated_yuan": money(),
                "spent_yuan": money(),
                "voucher_no": pa.Column("string", nullable=True),
            },
        ),  # fmt: skip
    }


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except UnicodeDecodeError:
        return pd.read_csv(path, dtype=str, encoding="gb18030", keep_default_na=False)


def _gx_checks(frames: dict[str, pd.DataFrame], year: int, standard: float | None) -> dict:
    """One GX expectation per RECORDS rule over the full-row frames."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("records")
    v, e = frames["visits"], frames["competition_entries"]
    people = pd.concat([
        v[["cert_hash", "region_code", "county_code", "age", "visited_on"]].rename(
            columns={"visited_on": "on_date"}),
        e[["cert_hash", "region_code", "county_code", "age", "held_on"]].rename(
            columns={"held_on": "on_date"}),
    ])  # fmt: skip
    dated = pd.concat([v["visited_on"], frames["job_fairs"]["held_on"], e["held_on"]])
    dated = pd.DataFrame({"activity_year": dated.dt.year})
    employers = frames["fair_employers"]
    funds = (
        frames["funds"]
        .groupby(["county_code", "budget_line"], as_index=False)[["allocated_yuan", "spent_yuan"]]
        .sum()
    )
    specs = [
        ("RECORDS.DUPLICATE_PAYMENT", v, gx.expectations.ExpectColumnValuesToBeUnique(
            column="cert_hash")),
        ("RECORDS.OUT_OF_COUNTY", people, gx.expectations.ExpectColumnPairValuesToBeEqual(
            column_A="region_code", column_B="county_code")),
        ("RECORDS.AGE_OUT_OF_RANGE", people, gx.expectations.ExpectColumnValuesToBeBetween(
            column="age", min_value=16, max_value=60)),
        ("RECORDS.COUNTED_TWICE", employers[employers["intends_to_hire"]],
         gx.expectations.ExpectColumnValuesToBeUnique(column="credit_code")),
        ("RECORDS.OUTSIDE_YEAR", dated, gx.expectations.ExpectColumnValuesToBeBetween(
            column="activity_year", min_value=year, max_value=year)),
        ("RECORDS.OVERSPENT", funds, gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="allocated_yuan", column_B="spent_yuan", or_equal=True)),
    ]  # fmt: skip
    if standard is not None:
        specs.append(("RECORDS.AMOUNT_NOT_STANDARD", v, gx.expectations.ExpectColumnValuesToBeInSet(
            column="amount_yuan", value_set=[float(standard)])))  # fmt: skip
    out = {}
    for n, (rule_id, frame, expectation) in enumerate(specs):
        name = f"r{n}"
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        suite = context.suites.add(gx.ExpectationSuite(name=name))
        suite.add_expectation(expectation)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        result = definition.run(batch_parameters={"dataframe": frame.reset_index(drop=True)},
                                result_format="SUMMARY").results[0]  # fmt: skip
        out[rule_id] = int(result.result.get("unexpected_count") or 0)
    return out


def run_naive(programme_dir: Path, db: Path, key: bytes) -> dict:
    import pandera.pandas as pa

    clock = Clock()
    started = time.perf_counter()
    programme_dir, db = Path(programme_dir), Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    prog = yaml.safe_load((programme_dir / "programme.yaml").read_text(encoding="utf-8"))
    year = prog["year"]
    lines = {b["name"]: b["code"] for b in prog["budget_lines"]}
    contract = schemas(year, [b["code"] for b in prog["budget_lines"]])
    by_name = {name: k for k, s in SHEETS.items() for name in (k, s.title)}
    accepted: dict[str, list[pd.DataFrame]] = defaultdict(list)
    refused, files = {}, 0
    fairs_by_county: dict[str, set] = defaultdict(set)
    counties = programme_dir / "counties"
    order = {k: i for i, k in enumerate(SHEETS)}  # fairs before the employers naming them
    paths = sorted(
        [*counties.glob("*/*.csv"), *counties.glob("*.xlsx")],
        key=lambda p: (
            (p.parent.name, order.get(p.stem, -1)) if p.suffix == ".csv" else (p.stem, -1)
        ),
    )
    for path in paths:
        files += 1
        rel = path.relative_to(programme_dir).as_posix()
        county = path.parent.name if path.suffix == ".csv" else path.stem
        with clock("read"):
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            if path.suffix == ".csv":
                raw = {by_name.get(path.stem): _read_csv(path)}
            else:
                book = pd.read_excel(path, sheet_name=None, engine="calamine", dtype=str)
                raw = {by_name.get(name.strip()): df for name, df in book.items()}
        with clock("contract"):
            checked, problem = {}, None
            for k, df in raw.items():
                try:
                    typed = normalise(df.fillna(""), k)
                    if k == "funds":
                        typed["budget_line"] = typed["budget_line"].replace(lines)
                    contract[k].validate(typed, lazy=True)
                except pa.errors.SchemaErrors as exc:
                    case = exc.failure_cases.iloc[0]
                    problem = f"{k}: {case['column']} {case['check']} {case['failure_case']}"
                    break
                except KeyError as exc:
                    problem = f"{k}: column {exc} missing"
                    break
                typed["source_row"] = typed.index + 2
                checked[k] = typed
            if problem is None and "fair_employers" in checked:
                known = fairs_by_county[county] | set(checked.get("job_fairs", {}).get(
                    "fair_id", []))  # fmt: skip
                if not checked["fair_employers"]["fair_id"].isin(known).all():
                    problem = "fair_employers: unknown fair"
        if problem:
            refused[rel] = problem
            continue
        with clock("load"):
            for k, typed in checked.items():
                typed["county_code"] = county
                typed["source_file"], typed["source_sha256"] = rel, sha
                if "cert_no" in typed:
                    cert = typed.pop("cert_no").str.upper()
                    typed["cert_hash"] = cert.map(
                        lambda c: hmac.new(key, c.encode(), hashlib.sha256).hexdigest()
                    )
                    typed["region_code"] = cert.str[:6]
                    born = pd.to_datetime(cert.str[6:14], format="%Y%m%d")
                    on = typed[SHEETS[k].age_on]
                    typed["age"] = (on.dt.year - born.dt.year) - (
                        (on.dt.month < born.dt.month)
                        | ((on.dt.month == born.dt.month) & (on.dt.day < born.dt.day))
                    ).astype(int)
                    typed["disability_category"] = cert.str[18]
                    typed["disability_grade"] = cert.str[19]
                    typed.pop("name")
                if k == "job_fairs":
                    fairs_by_county[county] |= set(typed["fair_id"])
                accepted[k].append(typed)
    with clock("load"):
        frames = {k: pd.concat(accepted[k], ignore_index=True) for k in SHEETS if accepted[k]}
        with duckdb.connect(str(db)) as con:
            for k, frame in frames.items():
                con.register("frame", frame)
                con.execute(f"CREATE TABLE {k} AS SELECT * FROM frame")
                con.unregister("frame")
    with clock("gx"):
        standard = next(
            (i["target"] for i in prog["indicators"] if i["id"] == "visit_standard"), None
        )
        unexpected = _gx_checks(frames, year, standard)
    return {
        "naive_s": round(time.perf_counter() - started, 3),
        "stages": {k: round(v, 3) for k, v in clock.stages.items()},
        "rows": {k: len(f) for k, f in frames.items()},
        "files": {"seen": files, "refused": len(refused)},
        "refused": dict(list(refused.items())[:20]),
        "gx_unexpected_rows": unexpected,
        "when": dt.datetime.now().isoformat(timespec="seconds"),
    }
