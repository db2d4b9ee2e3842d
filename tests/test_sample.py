"""The bundled sample: reproducible, in step with data/raw, and holding the report's figures.

Files are read back with python-calamine and the csv module, independently of ingest/, so a
reader bug cannot hide a generator bug (or the other way round).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import yaml
from python_calamine import CalamineWorkbook

from jixiao.sample.generate import SHEETS, write_csv, write_sample, write_workbook
from jixiao.schemas.identifiers import birth_date, is_cert_no, is_credit_code, resident_id_check

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "data/raw/2022/530100-disability-employment"
PROGRAMME_YAML = ROOT / "sample/programme.yaml"
ACCEPTED = {
    "530102": "五华区.xlsx",
    "530103": "530103.xlsx",
    "530111": "530111.v2.xlsx",
    "530112": "530112",
    "530114": "530114",
    "530115": "530115.xlsx",
    "530127": "530127.xlsx",
    "530128": "530128.xlsx",
    "530129": "530129.xlsx",
    "530181": "530181.xlsx",
}
REFUSED = {
    "530113": "530113",
    "530124": "530124.xlsx",
    "530125": "530125.xlsx",
    "530126": "530126.xlsx",
}
FAIR_COUNTIES = {"530102", "530103", "530111", "530112", "530115"}
SURVEY = {
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
SHEET_KEY = {s.title: k for k, s in SHEETS.items()} | {k: k for k in SHEETS}
EXCEL_EPOCH = dt.date(1899, 12, 30)
FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


# ---------------------------------------------------------------- reading back


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xff\xfe"):  # only the refused 530113 file
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _keyed(sheet: str, table: list[list[object]]) -> list[dict[str, object]]:
    labels = SHEETS[sheet].labels
    keys = [h if h in labels else SHEETS[sheet].key_of(h) for h in table[0]]
    return [dict(zip(keys, row, strict=True)) for row in table[1:]]


def read_county(path: Path) -> dict[str, list[dict[str, object]]]:
    """Raw cell values per sheet key, rows keyed by column key."""
    if path.is_dir():
        return {
            p.stem: _keyed(p.stem, list(csv.reader(io.StringIO(_decode(p.read_bytes())))))
            for p in sorted(path.glob("*.csv"))
        }
    book = CalamineWorkbook.from_path(str(path))
    return {
        SHEET_KEY[n]: _keyed(SHEET_KEY[n], book.get_sheet_by_name(n).to_python())
        for n in book.sheet_names
    }


def _money(value: object) -> Decimal:
    if isinstance(value, float):
        return Decimal(str(value))
    text = str(value).strip().translate(FULL_WIDTH).replace(",", "").removesuffix("元")
    return Decimal(text[:-1]) * 10000 if text.endswith("万") else Decimal(text)


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float):
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    y, m, d = re.fullmatch(r"(\d{4})[年/.-](\d{1,2})[月/.-](\d{1,2})日?", value.strip()).groups()
    return dt.date(int(y), int(m), int(d))


def _typed(sheet: str, row: dict[str, object]) -> dict[str, object]:
    out = {}
    for key, value in row.items():
        dtype = SHEETS[sheet].dtypes[key]
        if dtype.is_decimal():
            out[key] = _money(value)
        elif dtype == pl.Date:
            out[key] = _date(value)
        elif dtype.is_integer():
            out[key] = int(value)
        elif dtype == pl.Boolean:
            out[key] = {"是": True, "否": False}[str(value).strip()]
        else:
            out[key] = str(value).strip()
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="module")
def tables(folder) -> dict[str, list[dict[str, object]]]:
    """All accepted rows per sheet key, typed, with the county they came from."""
    out: dict[str, list[dict[str, object]]] = {key: [] for key in SHEETS}
    for county, name in ACCEPTED.items():
        for sheet, rows in read_county(folder / "counties" / name).items():
            out[sheet] += [{**_typed(sheet, r), "county": county} for r in rows]
    return out


def _files(folder: Path) -> dict[str, bytes]:
    paths = [folder / "programme.yaml", *(folder / "counties").rglob("*")]
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(paths) if p.is_file()}


# ---------------------------------------------------------------- reproducibility


def test_same_seed_gives_identical_bytes(folder, tmp_path):
    again = write_sample(tmp_path)
    assert again == tmp_path / "2022/530100-disability-employment"
    assert _files(again) == _files(folder)
    assert len(_files(folder)) == 1 + 12 + 3 * 6  # yaml, workbooks, CSV counties


def test_committed_sample_is_what_the_generator_writes(folder):
    assert COMMITTED.is_dir(), "run `python -m jixiao.sample data/raw`"
    assert _files(COMMITTED) == _files(folder), "data/raw drifted: run `python -m jixiao.sample data/raw`"


def test_another_seed_gives_other_people(folder, tmp_path):
    other = _files(write_sample(tmp_path, seed=7))
    assert other.keys() == _files(folder).keys()
    assert other["counties/530115.xlsx"] != _files(folder)["counties/530115.xlsx"]


def test_workbooks_carry_no_clock(folder, tmp_path):
    stale = tmp_path / "2022/530100-disability-employment/counties/530199.xlsx"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    write_sample(tmp_path)
    assert not stale.exists()  # regeneration leaves no stale county files behind
    for path in (folder / "counties").glob("*.xlsx"):
        with zipfile.ZipFile(path) as z:
            assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
            assert b"2023-05-17T09:00:00Z" in z.read("docProps/core.xml")


def test_programme_yaml_is_copied(folder):
    assert (folder / "programme.yaml").read_bytes() == PROGRAMME_YAML.read_bytes()


# ---------------------------------------------------------------- the report's figures


def test_visits(tables):
    visits = tables["visits"]
    assert len(visits) == 300
    assert {v["amount_yuan"] for v in visits} == {Decimal(400)}
    assert sum(v["amount_yuan"] for v in visits) == Decimal("120000.00")
    assert Counter(v["county"] for v in visits) == {c: 30 for c in ACCEPTED}
    assert max(v["visited_on"] for v in visits) == dt.date(2022, 11, 30)
    assert min(v["visited_on"] for v in visits) >= dt.date(2022, 1, 1)
    assert {v["category"] for v in visits} == {"就业困难", "失业"}
    assert {v["paid_via"] for v in visits} == {"现金", "银行转账"}


def test_job_fairs(tables):
    fairs, employers = tables["job_fairs"], tables["fair_employers"]
    assert sorted(f["county"] for f in fairs) == sorted(FAIR_COUNTIES)
    assert {f["spent_yuan"] for f in fairs} == {Decimal(21000)}
    assert min(f["held_on"] for f in fairs) <= dt.date(2022, 11, 30)
    assert all(f["held_on"].year == 2022 and f["venue"] for f in fairs)
    rows = Counter((e["county"], e["fair_id"]) for e in employers)
    for f in fairs:
        assert f["employers"] == rows[f["county"], f["fair_id"]]
        assert 0 <= f["intent_matches"] <= f["jobseekers"]
        assert f["positions"] >= sum(
            e["positions_for_disabled"] for e in employers if e["county"] == f["county"]
        )
    assert sum(rows.values()) == len(employers)


def test_employers_intending_to_hire(tables):
    employers = tables["fair_employers"]
    assert len({e["credit_code"] for e in employers if e["intends_to_hire"]}) == 84
    assert any(not e["intends_to_hire"] for e in employers)
    twice = [c for c, n in Counter(e["credit_code"] for e in employers).items() if n > 1]
    assert len(twice) == 4
    for code in twice:  # the same employer at two counties' fairs, not a duplicate row
        assert len({e["county"] for e in employers if e["credit_code"] == code}) == 2
    names = {}
    for e in employers:
        assert is_credit_code(e["credit_code"]) and e["credit_code"][:2] == "91"
        assert e["credit_code"][2:8] in ACCEPTED
        assert names.setdefault(e["credit_code"], e["employer_name"]) == e["employer_name"]


def test_competition_entries(tables):
    entries = tables["competition_entries"]
    assert len(entries) == 51
    assert {e["county"] for e in entries} == set(ACCEPTED)
    placed = Counter(e["award"] for e in entries if e["award"] != "未获奖")
    assert sum(placed.values()) == 18 and set(placed) == {"一等奖", "二等奖", "三等奖", "优秀奖"}
    assert max(e["held_on"] for e in entries) == dt.date(2022, 10, 30)
    assert min(e["held_on"] for e in entries).year == 2022


def test_survey_responses(tables):
    responses = tables["survey_responses"]
    assert len(responses) == 37
    assert len({r["response_id"] for r in responses}) == 37
    assert len({r["county"] for r in responses}) > 2
    assert all(dt.date(2023, 4, 1) <= r["answered_on"] <= dt.date(2023, 5, 31) for r in responses)
    for q, (a, b, c) in SURVEY.items():
        assert Counter(r[q] for r in responses) == Counter({"A": a, "B": b, "C": c}), q


def test_funds(tables):
    lines = yaml.safe_load(PROGRAMME_YAML.read_text(encoding="utf-8"))
    code_of = {b["name"]: b["code"] for b in lines["budget_lines"]}
    funds = tables["funds"]
    by_code = {r["budget_line"] for r in funds if r["budget_line"] in code_of.values()}
    assert by_code and any(r["budget_line"] in code_of for r in funds)  # both spellings occur
    assert any(not r["voucher_no"] for r in funds) and any(r["voucher_no"] for r in funds)
    spent: dict[tuple[str, str], Decimal] = {}
    for r in funds:
        assert r["allocated_yuan"] == r["spent_yuan"]
        line = code_of.get(r["budget_line"], r["budget_line"])
        spent[r["county"], line] = spent.get((r["county"], line), 0) + r["spent_yuan"]
    expected = {(c, "competitions"): 11000 for c in ACCEPTED}
    expected |= {(c, "visits"): 12000 for c in ACCEPTED}
    expected |= {(c, "job_fairs"): 21000 for c in FAIR_COUNTIES}
    assert spent == expected
    totals = Counter()
    for (_, line), yuan in spent.items():
        totals[line] += yuan
    assert totals == {b["code"]: Decimal(b["amount_yuan"]) for b in lines["budget_lines"]}


def test_people_have_valid_unique_cert_numbers(folder, tables):
    people = tables["visits"] + tables["competition_entries"]
    for county in ("530124", "530125", "530126"):
        people += [
            {**r, "county": county}
            for r in read_county(folder / "counties" / REFUSED[county])["visits"]
        ]
    certs = [str(p["cert_no"]).strip() for p in people]
    assert len(certs) == len(set(certs)) == 300 + 51 + 12
    assert len({c[:18] for c in certs}) == len(certs)  # one person, one resident ID
    for person, cert in zip(people, certs, strict=True):
        assert cert[:6] == person["county"]
        assert 1962 <= birth_date(cert).year <= 2004
        assert is_cert_no(cert) or (person["county"] == "530124"), cert
        assert person["name"]


# ---------------------------------------------------------------- input variety


def test_every_submission_carries_all_six_sheets(folder):
    for path in sorted((folder / "counties").iterdir()):
        assert set(read_county(path)) == set(SHEETS), path.name


def test_input_variety(folder):
    counties = folder / "counties"
    wuhua = read_county(counties / "五华区.xlsx")["visits"]
    assert isinstance(wuhua[0]["visited_on"], dt.date)
    assert CalamineWorkbook.from_path(str(counties / "五华区.xlsx")).sheet_names[0] == "招聘会"
    keyed = CalamineWorkbook.from_path(str(counties / "530103.xlsx"))
    assert keyed.sheet_names == list(SHEETS)
    table = keyed.get_sheet_by_name("visits").to_python()
    assert table[0] == list(SHEETS["visits"].labels)
    assert isinstance(table[1][3], float)  # a serial number, not a date cell

    xishan = (counties / "530112/visits.csv").read_bytes()
    assert xishan.startswith(b"\xef\xbb\xbf")
    text = xishan.decode("utf-8-sig")
    assert "慰问金额(元)" in text and "2022年" in text and "400元" in text and "0.04万" in text

    chenggong = (counties / "530114/visits.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        chenggong.decode("utf-8")
    text = chenggong.decode("gb18030")
    assert text.startswith("cert_no,") and "４００" in text and "400.00" in text
    assert re.search(r",2022/\d+/\d+,", text) and re.search(r",2022\.\d\d\.\d\d,", text)

    spaced = thousands = 0
    for county in ("530111.v2", "530115", "530127", "530128", "530129", "530181"):
        for rows in read_county(counties / f"{county}.xlsx").values():
            for row in rows:
                spaced += sum(isinstance(v, str) and v != v.strip() for v in row.values())
                thousands += sum(isinstance(v, str) and "," in v for v in row.values())
    assert spaced > 10 and thousands > 5


def test_first_submission_of_530111_differs_from_its_resubmission(folder):
    v1 = read_county(folder / "counties/530111.xlsx")["visits"]
    v2 = read_county(folder / "counties/530111.v2.xlsx")["visits"]
    assert len(v1) == 29 and len(v2) == 30
    assert Counter(_money(r["amount_yuan"]) for r in v1) == {300: 5, 400: 24}
    assert {r["cert_no"].strip() for r in v1} < {r["cert_no"].strip() for r in v2}


# ---------------------------------------------------------------- refused files


def test_refused_files_have_their_one_fault(folder):
    counties = folder / "counties"
    raw = (counties / "530113/visits.csv").read_bytes()
    assert raw.startswith(b"\xff\xfe")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = _keyed("visits", list(csv.reader(io.StringIO(raw.decode("utf-16")))))
    assert len(rows) >= 3 and all(is_cert_no(r["cert_no"]) for r in rows)
    for other in set(SHEETS) - {"visits"}:
        assert len(read_county(counties / "530113")[other]) == 0

    visits = {
        c: read_county(counties / REFUSED[c])["visits"] for c in ("530124", "530125", "530126")
    }
    bad = [r["cert_no"] for r in visits["530124"] if not is_cert_no(r["cert_no"])]
    assert len(bad) == 1 and len(visits["530124"]) >= 3
    fixed = bad[0][:17] + resident_id_check(bad[0][:17]) + bad[0][18:]
    assert is_cert_no(fixed)  # only the check digit is wrong
    assert sorted(r["visited_on"] for r in visits["530125"] if r["visited_on"].year != 2022) == [
        dt.date(2021, 12, 28)
    ]
    header = list(visits["530126"][0])
    assert "amount_yuan" not in header
    assert header == [k for k in SHEETS["visits"].labels if k != "amount_yuan"]
    for county, rows in visits.items():  # otherwise sound
        assert all(is_cert_no(r["cert_no"]) for r in rows if r["cert_no"] not in bad), county
        assert all(r.get("amount_yuan", 400) == 400 for r in rows)


# ---------------------------------------------------------------- the reusable writers


def test_write_workbook_and_write_csv(tmp_path):
    day = dt.date(2022, 11, 30)
    sheets = {"慰问": (["日期", "金额", "备注"], [[day, 400, None], [day, Decimal("0.5"), "x"]])}
    book = CalamineWorkbook.from_path(str(write_workbook(tmp_path / "a.xlsx", sheets)))
    assert book.get_sheet_by_name("慰问").to_python() == [
        ["日期", "金额", "备注"],
        [day, 400.0, ""],
        [day, 0.5, "x"],
    ]
    serial = write_workbook(tmp_path / "b.xlsx", sheets, date_format=False)
    assert CalamineWorkbook.from_path(str(serial)).get_sheet_by_name("慰问").to_python()[1][0] == (
        float((day - EXCEL_EPOCH).days)
    )
    path = write_csv(tmp_path / "c.csv", ["日期", "金额"], [[day, "400元"], [None, 1]])
    assert path.read_bytes() == "\ufeff日期,金额\r\n2022-11-30,400元\r\n,1\r\n".encode()
    gb = write_csv(tmp_path / "d.csv", ["日期"], [], encoding="gb18030")
    assert gb.read_bytes() == "日期\r\n".encode("gb18030")
