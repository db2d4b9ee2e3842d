"""The bundled sample: Kunming's 2022 disability-employment programme as county offices send it.

Its accepted records reproduce the figures of the real self-evaluation report
(``shared/seeds/000_…``): 300 visits of 400 元, 5 job fairs of 21000 元, 84
employers intending to hire, 51 competition entrants (18 placed), 37 survey
responses with the report's per-question answer counts, and 33.5 万元 spent on
three budget lines. People and employers are invented (Faker zh_CN) but their
identifiers carry real check characters.

Layout under ``<raw_root>/2022/530100-disability-employment/``::

    programme.yaml                  copy of sample/programme.yaml
    counties/
      五华区.xlsx                   530102 named by county name; Chinese sheet names and
                                    headers; real Excel date cells
      530103.xlsx                   sheet keys and column keys instead of Chinese;
                                    dates as Excel serial numbers in general-format cells
      530111.xlsx                   v1, superseded: 5 visits paid 300 元, a sixth missing
      530111.v2.xlsx                the resubmission that replaces it
      530112/<sheet_key>.csv        UTF-8 with BOM, Chinese headers, `2022年11月30日`,
                                    `400元` and `0.04万`
      530114/<sheet_key>.csv        GB18030 without BOM, key headers, `2022/11/30` and
                                    `2022.11.30`, full-width `４００`, `400.00`
      530115, 530127, 530128,       plain Chinese workbooks as typed by hand: stray
      530129, 530181 .xlsx          leading/trailing spaces, fund amounts as `21,000.00`
    Refused, each for one fault; none of their rows count in the totals:
      530113/<sheet_key>.csv        visits.csv encoded UTF-16 (the other five header-only)
      530124.xlsx                   one 残疾人证号 with a wrong check digit
      530125.xlsx                   one 慰问日期 of 2021-12-28, outside the programme year
      530126.xlsx                   the 慰问 sheet lacks the 慰问金额(元) column

Every workbook carries all six sheets and every CSV county all six CSVs, an
empty sheet keeping its header row. Same seed, same bytes: randomness comes from
one seeded ``random.Random`` and a seeded Faker, workbooks get a fixed creation
time and xlsxwriter's in-memory mode stamps zip members 1980-01-01.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import shutil
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

import xlsxwriter
import yaml
from faker import Faker

from jixiao.sample.report_writer import write_sample_report
from jixiao.schemas.identifiers import credit_code_check, org_code_check, resident_id_check
from jixiao.schemas.programme import load_programme

PROGRAMME_YAML = Path(__file__).with_name("programme.yaml")
# The sample's county template, as its programme.yaml declares it.
SHEETS = load_programme(PROGRAMME_YAML).county_template.sheets
AWARDS = SHEETS["competition_entries"].fields["award"].constraints.enum
ANSWERS = SHEETS["survey_responses"].fields["q1"].constraints.enum
YEAR = 2022
CREATED = dt.datetime(2023, 5, 17, 9, 0, 0)  # the report's date; any fixed value keeps bytes stable
EXCEL_EPOCH = dt.date(1899, 12, 30)

VISIT_COUNTIES = (
    "530102",
    "530103",
    "530111",
    "530112",
    "530114",
    "530115",
    "530127",
    "530128",
    "530129",
    "530181",
)
FAIR_COUNTIES = ("530102", "530103", "530111", "530112", "530115")
VISITS_PER_COUNTY = 30
VISIT_YUAN = 400
FAIR_YUAN = 21000
COMPETITION_LINE_YUAN = 11000
VISITS_BY = dt.date(YEAR, 11, 30)
COMPETITIONS_BY = dt.date(YEAR, 10, 30)
# The report's completion date for "at least one fair by 11-30"; the rest slipped into December.
FIRST_FAIR = dt.date(YEAR, 11, 30)

INTENDING_EMPLOYERS = 84
REPEAT_EMPLOYERS = 4  # intending employers that also attend the next county's fair
DECLINING_PER_FAIR = 2
ENTRIES = 51
AWARDS_GIVEN = ["一等奖"] * 3 + ["二等奖"] * 4 + ["三等奖"] * 5 + ["优秀奖"] * 6  # 18 placed
VENUES = ("人力资源市场", "残疾人综合服务中心", "文体中心")
EVENTS = ("盲人保健按摩", "电子商务", "计算机文字录入", "手工编织", "中式面点", "职业指导")
# Per-question (A, B, C) counts of the report's survey table.
SURVEY_COUNTS = {
    "q1": (32, 3, 2),
    "q2": (29, 6, 2),
    "q3": (31, 3, 3),
    "q4": (31, 5, 1),
    "q5": (33, 1, 3),
    "q6": (30, 4, 3),
    "q7": (30, 4, 3),
    "q8": (33, 1, 3),
    "q9": (33, 0, 4),
    "q10": (29, 4, 4),
}
SURVEY_COUNTIES = {"530102": 8, "530103": 8, "530111": 7, "530112": 7, "530114": 7}
SURVEY_FROM, SURVEY_TO = dt.date(2023, 4, 21), dt.date(2023, 5, 10)  # within the evaluation period
# Org-code characters: digits and A–H only, where CREDIT_CHARSET's index equals GB 11714's
# letter value, so the codes are valid under the standard as well as under our checker.
ORG_CHARS = "0123456789" * 3 + "ABCDEFGH"

Rows = list[dict[str, object]]
County = dict[str, Rows]  # sheet key -> rows keyed by column key
Cell = Callable[[str, str, object, int], object]  # (sheet, column, value, row index) -> cell


# ---------------------------------------------------------------- writers


def write_workbook(
    path: Path, sheets: dict[str, tuple[list[str], list[list[object]]]], *, date_format: bool = True
) -> Path:
    """Write an .xlsx: sheet name -> (header, rows). Dates become real date cells, or bare
    serial numbers in general-format cells when ``date_format`` is false. None/"" stay blank."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # in_memory: zip members get xlsxwriter's fixed 1980-01-01 stamp instead of temp-file mtimes.
    book = xlsxwriter.Workbook(str(path), {"in_memory": True})
    book.set_properties({"created": CREATED})
    date_cell = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, (header, rows) in sheets.items():
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, header)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, dt.date):
                    if date_format:
                        sheet.write_datetime(r, c, value, date_cell)
                    else:
                        sheet.write_number(r, c, (value - EXCEL_EPOCH).days)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, int | float | Decimal):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, str(value))
    book.close()
    return path


def write_csv(
    path: Path, header: list[str], rows: Iterable[list[object]], encoding: str = "utf-8-sig"
) -> Path:
    """Write a CSV; dates as ISO text, None as empty. CRLF line ends, as Excel saves them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(
                ["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in row]
            )
    return path


# ---------------------------------------------------------------- records


class _Registry:
    """Seeded source of names and identifiers, never handing out the same one twice."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self._seen: set[str] = set()

    def _fresh(self, make: Callable[[], str]) -> str:
        while (value := make()) in self._seen:
            pass
        self._seen.add(value)
        return value

    def resident_id(self, county: str) -> str:
        def make() -> str:
            born = self.day(dt.date(1962, 1, 1), dt.date(2004, 12, 31))  # working age
            first17 = f"{county}{born:%Y%m%d}{self.rng.randrange(1, 1000):03d}"
            return first17 + resident_id_check(first17)

        return self._fresh(make)

    def cert_no(self, county: str) -> str:
        """残疾人证号: resident ID + disability category (1–7) + grade (1–4)."""
        return f"{self.resident_id(county)}{self.rng.randint(1, 7)}{self.rng.randint(1, 4)}"

    def credit_code(self, county: str) -> str:
        """GB 32100: 9 (registered by market regulator), 1 (enterprise), region, org code."""

        def make() -> str:
            org8 = "".join(self.rng.choice(ORG_CHARS) for _ in range(8))
            first17 = f"91{county}{org8}{org_code_check(org8)}"
            return first17 + credit_code_check(first17)

        return self._fresh(make)

    def company(self) -> str:
        return self._fresh(self.fake.company)

    def name(self) -> str:
        return self.fake.name()  # two people may share a name, as in life

    def day(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))


def _programme() -> dict:
    return yaml.safe_load(PROGRAMME_YAML.read_text(encoding="utf-8"))


def _visits(reg: _Registry, county: str) -> Rows:
    days = sorted(reg.day(dt.date(YEAR, 1, 4), VISITS_BY) for _ in range(3))
    if county == VISIT_COUNTIES[-1]:
        days[-1] = VISITS_BY  # the report's completion date is the last visit
    return [
        {
            "cert_no": reg.cert_no(county),
            "name": reg.name(),
            "category": reg.rng.choice(("就业困难", "就业困难", "失业")),
            "visited_on": days[i * len(days) // VISITS_PER_COUNTY],
            "amount_yuan": VISIT_YUAN,
            "paid_via": reg.rng.choice(("现金", "银行转账")),
        }
        for i in range(VISITS_PER_COUNTY)
    ]


def _fairs(reg: _Registry, names: dict[str, str]) -> tuple[dict[str, Rows], dict[str, Rows]]:
    """Job fairs and their employer rows, keyed by county."""
    later = sorted(reg.day(dt.date(YEAR, 12, 1), dt.date(YEAR, 12, 28)) for _ in FAIR_COUNTIES[1:])
    per_fair = [INTENDING_EMPLOYERS // len(FAIR_COUNTIES)] * len(FAIR_COUNTIES)
    for i in range(INTENDING_EMPLOYERS % len(FAIR_COUNTIES)):
        per_fair[i] += 1
    employers: dict[str, Rows] = {c: [] for c in FAIR_COUNTIES}
    fair_id = f"ZP{YEAR}-01"  # numbered per county: fair ids are unique only within a county
    for county, intending in zip(FAIR_COUNTIES, per_fair, strict=True):
        for hires in [True] * intending + [False] * DECLINING_PER_FAIR:
            employers[county].append(
                {
                    "fair_id": fair_id,
                    "employer_name": reg.company(),
                    "credit_code": reg.credit_code(county),
                    "positions_for_disabled": reg.rng.randint(1, 5) if hires else 0,
                    "intends_to_hire": "是" if hires else "否",
                }
            )
    for i in range(REPEAT_EMPLOYERS):  # same employer, same code, at the neighbouring fair
        first = employers[FAIR_COUNTIES[i]][0]
        employers[FAIR_COUNTIES[i + 1]].append({**first, "positions_for_disabled": 2})
    fairs: dict[str, Rows] = {}
    for county, held_on in zip(FAIR_COUNTIES, [FIRST_FAIR, *later], strict=True):
        reg.rng.shuffle(employers[county])
        seekers = reg.rng.randint(60, 180)
        fairs[county] = [
            {
                "fair_id": fair_id,
                "held_on": held_on,
                "venue": names[county] + reg.rng.choice(VENUES),
                "employers": len(employers[county]),
                "positions": sum(e["positions_for_disabled"] for e in employers[county])
                + reg.rng.randint(40, 120),
                "jobseekers": seekers,
                "intent_matches": reg.rng.randint(seekers // 10, seekers // 3),
                "spent_yuan": FAIR_YUAN,
            }
        ]
    return fairs, employers


def _entries(reg: _Registry) -> dict[str, Rows]:
    awards = AWARDS_GIVEN + ["未获奖"] * (ENTRIES - len(AWARDS_GIVEN))
    reg.rng.shuffle(awards)
    out: dict[str, Rows] = {}
    for n, county in enumerate(VISIT_COUNTIES):
        count = ENTRIES // len(VISIT_COUNTIES) + (n < ENTRIES % len(VISIT_COUNTIES))
        held_on = COMPETITIONS_BY if n == 0 else reg.day(dt.date(YEAR, 4, 1), COMPETITIONS_BY)
        events = reg.rng.sample(EVENTS, 2)
        out[county] = [
            {
                "cert_no": reg.cert_no(county),
                "name": reg.name(),
                "event": events[i % 2],
                "held_on": held_on,
                "award": awards.pop(),
            }
            for i in range(count)
        ]
    return out


def _survey(reg: _Registry) -> dict[str, Rows]:
    columns = {}
    for q, (a, b, c) in SURVEY_COUNTS.items():
        answers = ["A"] * a + ["B"] * b + ["C"] * c
        reg.rng.shuffle(answers)
        columns[q] = answers
    total = sum(SURVEY_COUNTIES.values())
    rows = [
        {
            "response_id": f"MYD{YEAR + 1}-{n + 1:03d}",
            "answered_on": reg.day(SURVEY_FROM, SURVEY_TO),
            **{q: answers[n] for q, answers in columns.items()},
        }
        for n in range(total)
    ]
    out, start = {}, 0
    for county, count in SURVEY_COUNTIES.items():
        out[county] = sorted(rows[start : start + count], key=lambda r: r["answered_on"])
        start += count
    return out


def _funds(reg: _Registry, county: str, lines: dict[str, str], n: int) -> Rows:
    amounts = {
        "job_fairs": FAIR_YUAN if county in FAIR_COUNTIES else 0,
        "competitions": COMPETITION_LINE_YUAN,
        "visits": VISITS_PER_COUNTY * VISIT_YUAN,
    }
    rows = []
    for i, (code, yuan) in enumerate(amounts.items()):
        if not yuan:
            continue
        voucher = f"记-{YEAR}-{reg.rng.randint(1, 400):04d}"
        rows.append(
            {
                "budget_line": code if (n + i) % 2 else lines[code],
                "allocated_yuan": yuan,
                "spent_yuan": yuan,
                "voucher_no": "" if (n + i) % 3 == 0 else voucher,
            }
        )
    return rows


def _records(reg: _Registry, prog: dict) -> dict[str, County]:
    """The accepted records per county code (530111 as its v2), values typed: date, int, str."""
    names = {str(k): v for k, v in prog["counties"].items()}
    lines = {line["code"]: line["name"] for line in prog["budget_lines"]}
    visits = {c: _visits(reg, c) for c in VISIT_COUNTIES}
    fairs, employers = _fairs(reg, names)
    entries = _entries(reg)
    survey = _survey(reg)
    by_sheet = {
        "job_fairs": fairs,
        "fair_employers": employers,
        "visits": visits,
        "competition_entries": entries,
        "survey_responses": survey,
    }
    out = {}
    for n, county in enumerate(VISIT_COUNTIES):
        out[county] = {key: by_sheet.get(key, {}).get(county, []) for key in SHEETS}
        out[county]["funds"] = _funds(reg, county, lines, n)
    return out


def _refused_visits(reg: _Registry, county: str) -> Rows:
    return [
        {
            "cert_no": reg.cert_no(county),
            "name": reg.name(),
            "category": "就业困难",
            "visited_on": reg.day(dt.date(YEAR, 1, 4), dt.date(YEAR, 1, 28)),
            "amount_yuan": VISIT_YUAN,
            "paid_via": "现金",
        }
        for _ in range(4)
    ]


def _wrong_check(cert: str) -> str:
    wrong = "0" if cert[17] != "0" else "1"
    return cert[:17] + wrong + cert[18:]


# ---------------------------------------------------------------- rendering


def _plain(sheet: str, column: str, value: object, i: int) -> object:
    return value


def _money_dtype(sheet: str, column: str) -> bool:
    return SHEETS[sheet].dtypes[column].is_decimal()


def _by_hand(sheet: str, column: str, value: object, i: int) -> object:
    """What retyping into Excel leaves: stray spaces, fund amounts as `21,000.00` text."""
    col = list(SHEETS[sheet].labels).index(column)
    if isinstance(value, str) and value and (i + col) % 7 == 3:
        return f" {value}" if i % 2 else f"{value} "
    if sheet == "funds" and _money_dtype(sheet, column) and (i + col) % 2 == 0:
        return f"{value:,.2f}"
    return value


def _chinese_text(sheet: str, column: str, value: object, i: int) -> object:
    """Dates as `2022年11月30日`; money as `400元` or in 万元 (`0.04万`)."""
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if _money_dtype(sheet, column):
        wan = format((Decimal(value) / 10000).normalize(), "f")
        return f"{wan}万" if i % 2 else f"{value}元"
    return value


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _slashes_and_dots(sheet: str, column: str, value: object, i: int) -> object:
    """Dates `2022/11/30` or `2022.11.30`; money `400.00` or full-width `４００`."""
    if isinstance(value, dt.date):
        return f"{value.year}/{value.month}/{value.day}" if i % 2 else f"{value:%Y.%m.%d}"
    if _money_dtype(sheet, column):
        return str(value).translate(_FULL_WIDTH) if i % 3 == 1 else f"{value}.00"
    return value


def _table(
    sheet: str, rows: Rows, cell: Cell, *, keys: bool, drop: str | None = None
) -> tuple[list[str], list[list[object]]]:
    columns = [c for c in SHEETS[sheet].labels if c != drop]
    header = columns if keys else [SHEETS[sheet].labels[c] for c in columns]
    return header, [[cell(sheet, c, row[c], i) for c in columns] for i, row in enumerate(rows)]


def _xlsx(
    path: Path,
    county: County,
    cell: Cell = _plain,
    *,
    keys: bool = False,
    date_format: bool = True,
    drop: dict[str, str] | None = None,
) -> None:
    drop = drop or {}
    write_workbook(
        path,
        {
            (key if keys else sheet.title): _table(
                key, county.get(key, []), cell, keys=keys, drop=drop.get(key)
            )
            for key, sheet in SHEETS.items()
        },
        date_format=date_format,
    )


def _csvs(
    folder: Path,
    county: County,
    cell: Cell,
    *,
    keys: bool,
    encoding: str,
    encodings: dict[str, str] | None = None,
) -> None:
    for key in SHEETS:
        header, rows = _table(key, county.get(key, []), cell, keys=keys)
        write_csv(folder / f"{key}.csv", header, rows, (encodings or {}).get(key, encoding))


def sample_folder(raw_root: Path) -> Path:
    """Where the sample programme lives under a raw root: ``<year>/<programme code>/``."""
    prog = _programme()
    return Path(raw_root) / str(prog["year"]) / prog["code"]


def write_sample(raw_root: Path, seed: int = YEAR) -> Path:
    """Write the sample programme under ``raw_root/2022/530100-disability-employment/``."""
    prog = _programme()
    folder = sample_folder(raw_root)
    counties = folder / "counties"
    if counties.exists():
        shutil.rmtree(counties)  # wholly generated: stale files would change what ingest sees
    counties.mkdir(parents=True)
    shutil.copyfile(PROGRAMME_YAML, folder / "programme.yaml")
    write_sample_report(folder)

    reg = _Registry(seed)
    records = _records(reg, prog)
    _xlsx(counties / f"{prog['counties']['530102']}.xlsx", records["530102"])
    _xlsx(counties / "530103.xlsx", records["530103"], keys=True, date_format=False)
    v1_visits = [dict(r) for r in records["530111"]["visits"]]
    del v1_visits[5]
    for row in v1_visits[:5]:
        row["amount_yuan"] = 300
    _xlsx(counties / "530111.xlsx", {**records["530111"], "visits": v1_visits}, _by_hand)
    _xlsx(counties / "530111.v2.xlsx", records["530111"], _by_hand)
    _csvs(counties / "530112", records["530112"], _chinese_text, keys=False, encoding="utf-8-sig")
    _csvs(counties / "530114", records["530114"], _slashes_and_dots, keys=True, encoding="gb18030")
    for county in ("530115", "530127", "530128", "530129", "530181"):
        _xlsx(counties / f"{county}.xlsx", records[county], _by_hand)

    # Refused submissions: valid in every respect but one.
    _csvs(
        counties / "530113",
        {"visits": _refused_visits(reg, "530113")},
        _plain,
        keys=False,
        encoding="utf-8-sig",
        encodings={"visits": "utf-16"},
    )
    bad_check = _refused_visits(reg, "530124")
    bad_check[1]["cert_no"] = _wrong_check(bad_check[1]["cert_no"])
    _xlsx(counties / "530124.xlsx", {"visits": bad_check})
    last_year = _refused_visits(reg, "530125")
    last_year[2]["visited_on"] = dt.date(YEAR - 1, 12, 28)
    _xlsx(counties / "530125.xlsx", {"visits": last_year})
    _xlsx(
        counties / "530126.xlsx",
        {"visits": _refused_visits(reg, "530126")},
        drop={"visits": "amount_yuan"},
    )
    return folder
