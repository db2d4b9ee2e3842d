"""Personal data found by its shape, not its label: the hostile corpus for what is typed where
nobody declared a person (issue 10, attack 4) and for markup in what people read (attack 8).

Each attack puts a resident ID and a name where the template does not say they are — a
formula in an extra roster sheet, a 备注 column, a CSV row shifted one cell, a file's name,
free-text columns, the report's own sentences — and asserts that neither reaches any output
concerned in clear: ``ingest_log``, feedback pages, every text column of the warehouse,
claims, the four report files, log records. Then one real ``jixiao run`` over the sample with
all of them planted, scanned everywhere for every ID and name typed anywhere in the inputs,
twice: the second run skips the county files, and the report is still masked for their names.

``ingest.personal.mask_text`` is tested on its own first: what it masks, and what it must
leave alone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from markdown_it import MarkdownIt

from jixiao.flows.audit import audit_programme
from jixiao.ingest import intake
from jixiao.ingest.load import known_names
from jixiao.ingest.personal import (
    file_label,
    is_name,
    mask_log_records,
    mask_text,
    masked_values,
    row_names,
)
from jixiao.publish.feedback import MARKED, feedback_files, page_file
from jixiao.publish.findings import md_text
from jixiao.publish.report import staged_folder
from jixiao.sample.generate import sample_folder, write_csv
from jixiao.schemas.identifiers import credit_code_check, resident_id_check
from tests.runs import DB, PROGRAMME, REPORTS, completed, jixiao_run
from tests.test_flow import (
    added,
    curated_texts,
    leaks,
    personal_values,
    prefect_texts,
    readable,
)
from tests.test_hostile import VALID, book_with, visits_text
from tests.test_intake import (
    KEY,
    LABEL,
    NAMES,
    TITLE,
    cert,
    context,
    county_file,
    credit,
    pages,
    programme_folder,
    records,
    run,
)

NAME, NAME2, MINORITY = "王语嫣", "段誉", "阿依古丽·买买提"
PLANTED = cert("530114", "19660101", 123)  # a 残疾人证号; its first 18 characters the ID
ID = PLANTED[:18]
ID2 = cert("530102", "19750505", 456)[:18]


def hidden(secret: str) -> str:
    """What a mask never shows of an ID (region and birth date), or of a name (all but the
    surname; a two-character name whole)."""
    if secret[:1].isdigit():
        return secret[:14]
    return secret[1:] if len(secret) > 2 else secret


def twin_of(resident_id: str) -> str:
    """Another ID of the same region, sequence and check digit: it masks the same."""
    day = dt.date(int(resident_id[6:10]), 1, 1)
    while True:
        day += dt.timedelta(days=1)
        first17 = f"{resident_id[:6]}{day:%Y%m%d}{resident_id[14:17]}"
        if resident_id_check(first17) == resident_id[17] and first17 != resident_id[:17]:
            return first17 + resident_id[17]


def assert_nowhere(texts: list[tuple[str, str]] | list[str], *secrets: str) -> None:
    pairs = [t if isinstance(t, tuple) else ("", t) for t in texts]
    assert pairs, "nothing to search"
    assert leaks(pairs, {hidden(s) for s in secrets}) == []


@pytest.fixture
def intake_at(tmp_path: Path):
    """A programme folder with no county files yet, and intake into a new warehouse."""
    folder = programme_folder(tmp_path)
    ctx = context(tmp_path, folder)
    yield folder, ctx
    ctx.con.close()


def written(ctx: intake.Context) -> list[tuple[str, str]]:
    """Every text intake left: each text column of each table, each feedback page (Markdown
    and HTML), and what it wrote into each marked copy."""
    texts = []
    for table, column in ctx.con.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
    ).fetchall():
        values = ctx.con.execute(f'SELECT CAST("{column}" AS VARCHAR) FROM "{table}"').fetchall()
        texts += [(f"{table}.{column}", v) for (v,) in values if v]
    texts += [(p.name, p.read_text(encoding="utf-8")) for page in pages(ctx)
              for p in feedback_files(page) if p.suffix in (".md", ".html") and p.exists()]
    texts += [(p.name, t) for page in pages(ctx) for p in feedback_files(page)
              if p.name.endswith(MARKED) and p.exists() for t in added(p)]
    return texts


def page_of(ctx: intake.Context, file: str) -> str:
    (page,) = ctx.con.execute(
        "SELECT feedback_file FROM ingest_log WHERE file = ?", [file]
    ).fetchone()
    return page_file(ctx.feedback_dir, page).read_text(encoding="utf-8")


def remembered(ctx: intake.Context, *names: str) -> set[str]:
    return known_names(ctx.con, ctx.programme, set(names), KEY)


def live_markup(markdown: str) -> list[str]:
    """What a Markdown renderer would make of the page that is not plain text."""
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    return [tag for tag in ("<img", "<a ", "<script", "<iframe") if tag in html]


# --- the masking function ---------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@pytest.mark.parametrize(
    "text",
    [
        ID,
        PLANTED,  # a 残疾人证号: ID + category + grade
        f'="{ID}"',  # a formula's text
        f"{NAME}{ID}补报.csv",  # beside Chinese characters
        f"counties/530114/{NAME}{PLANTED}补报.csv",
        f"备注：{ID}；{ID2}",
        ID.translate(FULL_WIDTH),  # full-width digits
        f"{ID[:6]} {ID[6:14]} {ID[14:]}",  # written 6-8-4
        f"{ID[:6]}-{ID[6:14]}-{ID[14:]}",
        f"ID{ID}",  # letters may touch it
        json.dumps({"value": ID}),
    ],
)
def test_ids_masked_wherever_they_stand(text):
    out = mask_text(text)
    assert hidden(ID) not in out.translate({0xFF10 + i: 0x30 + i for i in range(10)})
    assert "*" * 8 in out and (ID[:6] in out or ID[:6].translate(FULL_WIDTH) in out)


def test_a_typed_wrong_id_is_masked_too():
    """The check digit is not required: a typo, a digit short or long, is still an ID."""
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    assert resident_id_check(wrong[:17]) != wrong[17]
    for typo in (wrong, ID[:17], ID + "5", ID[:17] + "x"):
        assert mask_text(typo) == typo[:6] + "*" * (len(typo) - 10) + typo[-4:], typo


@pytest.mark.parametrize(
    "text",
    [
        "120000.00",
        "20221130",
        "2022年11月30日",
        "33.50万元，预算执行率100.00%",
        "21,000.00",
        "13800138000",
        "6222021234567890123",  # 19 digits, no birth date where an ID has one
        "530100202213300001",  # a document number: month 13 is no birth date
        "0.530102198001010011",  # a decimal fraction
        "530102198001010011.5",
        "fingerprint 3f2a9c1d0b7e6a54",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "MYD-001 记-2022-0001 ZP-01 91.5%",
        "5301022019010100",  # 16 digits
        "91530102A12345678Y",  # credit-code shaped, wrong check character
    ],
)
def test_ordinary_figures_are_left_alone(text):
    assert mask_text(text) == text


def test_credit_codes_with_a_valid_check_character_are_masked():
    code = credit("530102", "A1234567")
    assert mask_text(f"单位代码{code}，") == f"单位代码{code[:6]}{'*' * 8}{code[-4:]}，"
    assert mask_text(code.lower()) != code.lower()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    assert credit_code_check(code[:17]) == code[17] and mask_text(wrong) == wrong


def test_names_known_and_names_before_an_id():
    assert mask_text(f"为{NAMES[0]}等300户发放", {NAMES[0]}) == "为张**等300户发放"
    assert mask_text(f"{MINORITY}、{NAME2}", {MINORITY, NAME2}) == "阿*******、段*"
    for text in (f"{NAME}{ID}", f"{NAME}：{ID}", f"{NAME}（{ID}）", f"{NAME}身份证号{ID}",
                 f"{NAME}，身份证号：{ID}", f"补报{NAME}{ID}"):  # fmt: skip
        out = mask_text(text)
        assert NAME[1:] not in out and "王**" in out, out
    assert mask_text(f"{MINORITY}{ID}").startswith("阿*******")
    assert mask_text(f"身份证号{ID}").startswith("身份证号530114")  # a label is no name
    once = mask_text(f"{NAME}{ID}，{NAMES[1]}", {NAMES[1]})
    assert mask_text(once, {NAMES[1]}) == once


def test_what_reads_as_a_name():
    assert all(map(is_name, (NAME, NAME2, MINORITY, "欧阳娜娜", *NAMES)))
    words = ("失业", "就业困难", "现金", "五华区", "彝族", "一级", "高中", "姓名", "备注", "合计")
    assert not any(map(is_name, words))
    # A row shifted one cell: the name lands in 人员类别, the ID in 姓名.
    assert row_names([None, PLANTED, NAMES[0], "就业困难", "2022-03-15", "400", "现金"]) == {
        NAMES[0]
    }
    assert row_names([NAMES[0], "就业困难", "400"]) == set()  # no ID in the row: no name
    assert row_names([NAME, "2022-03-15", "400", "20221130", "13800138000"]) == set()
    assert row_names([f"联系人{NAME2}，身份证号：{ID}"]) == {NAME2}


def test_file_labels_are_masked_stable_and_distinct():
    one = f"counties/530102/{NAME}{ID}补报.csv"
    other = f"counties/530102/王语燕{twin_of(ID)}补报.csv"
    assert mask_text(one) == mask_text(other)  # the same once masked …
    labels = {file_label(one, KEY), file_label(other, KEY)}
    assert len(labels) == 2 and file_label(one, KEY) in labels  # … yet two files, each stable
    assert all(hidden(ID) not in label and NAME[1:] not in label for label in labels)
    assert file_label("counties/530102.xlsx", KEY) == "counties/530102.xlsx"


def test_free_text_is_masked_where_it_holds_something():
    import polars as pl

    values = pl.Series(
        ["人力资源市场", f"{NAME}家（{ID}）", None, f"{NAMES[0]}家中", "记-2022-0001"]
    )
    assert masked_values(values, {NAMES[0]}) == {
        f"{NAME}家（{ID}）": "王***（530114********" + ID[-4:] + "）",
        f"{NAMES[0]}家中": "张**家中",
    }


@pytest.mark.parametrize(
    "text",
    [
        "![x](http://evil.example/beacon.png)",
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "[a](javascript:alert(1))",
        "<http://evil.example/>",
        "[x][1]\n\n[1]: http://evil.example/",
        "&lt;script&gt;",
    ],
)
def test_markdown_escaping_leaves_nothing_live(text):
    line = md_text(text)
    assert "\n" not in line and live_markup(f"| a |\n|---|\n| {line} |") == []
    assert live_markup(f"# {line}") == [] and live_markup(f"- {line}") == []


# --- the attacks, at intake ---------------------------------------------------------------------


def with_roster(sheets: dict) -> None:
    """An extra sheet, 花名册, typing the ID as a formula ``="530114…"`` beside two names."""
    roster = sheets["_book"].add_worksheet("花名册")
    roster.write_row(0, 0, ["姓名", "身份证号", "备注"])
    roster.write_row(1, 0, [NAME])
    roster.write_formula(1, 1, f'="{ID}"', None, ID)
    roster.write_row(2, 0, [MINORITY, ID2, "户主"])


def test_id_typed_as_a_formula_in_an_extra_roster_sheet(intake_at):
    """A sheet the template does not know is not read (its formulas neither), but the names
    it pairs with IDs are remembered, so that no output shows them."""
    folder, ctx = intake_at
    book_with(with_roster)(folder / "counties", VALID, 1)
    (outcome,) = run(folder, ctx).values()
    assert outcome.status == "accepted"
    (notes,) = ctx.con.execute("SELECT notes FROM ingest_log").fetchone()
    assert any("花名册" in note and "未读取" in note for note in notes)
    assert_nowhere(written(ctx), ID, ID2, NAME, MINORITY)
    assert remembered(ctx, NAME, MINORITY, "户主") == {NAME, MINORITY}  # for the report


def remarks(sheets) -> None:
    """A 备注 column on 慰问, holding names and IDs of people the rows do not name."""
    header, rows = sheets[TITLE["visits"]]
    notes = [f"{NAME}{ID}", f"联系人{NAME2}，身份证号：{ID2}", None]
    sheets[TITLE["visits"]] = (
        [*header, "备注"],
        [[*r, n] for r, n in zip(rows, notes, strict=True)],
    )


def free_text(sheets) -> None:
    """An ID and names in every free-text column: 地点, 单位名称, 竞赛项目, 凭证号."""
    sheets[TITLE["job_fairs"]][1][0][2] = f"{NAME}家（{ID}）"
    sheets[TITLE["fair_employers"]][1][0][1] = f"个体户{NAME2}{ID2}"
    sheets[TITLE["competition_entries"]][1][0][2] = f"{NAMES[3]}的电子商务"
    sheets[TITLE["funds"]][1][0][3] = f"记-{ID}"


def test_free_text_and_remarks_are_masked_before_they_are_stored(intake_at):
    folder, ctx = intake_at
    county_file(folder / "counties" / f"{VALID}.xlsx", remarks, free_text)
    (outcome,) = run(folder, ctx).values()
    assert outcome.status == "accepted"
    venue, employer, event, voucher = (
        ctx.con.execute(f"SELECT {column} FROM {table} ORDER BY source_row LIMIT 1").fetchone()[0]
        for table, column in (("job_fairs", "venue"), ("fair_employers", "employer_name"),
                              ("competition_entries", "event"), ("funds", "voucher_no"))
    )  # fmt: skip
    masked = f"{ID[:6]}{'*' * 8}{ID[-4:]}"
    assert venue == f"王***({masked})" and voucher == f"记-{masked}"  # stored as NFKC
    assert employer.startswith("个体户段*") and event == "赵**的电子商务"
    assert_nowhere(written(ctx), ID, ID2, NAME, NAME2, NAMES[3])
    assert remembered(ctx, NAME, NAME2, *NAMES) == {NAME, NAME2, *NAMES}


def shifted(rows: list[list[object]]) -> None:
    """Row 2 typed one cell to the right; markup typed into two cells of row 3."""
    rows[0] = [None, *rows[0]]
    rows[1][2] = "<img src=x onerror=alert(1)>"
    rows[1][5] = "![](http://evil.example/beacon.png)"


def test_csv_row_shifted_one_cell(intake_at):
    folder, ctx = intake_at
    path = folder / "counties" / VALID / "visits.csv"
    path.parent.mkdir(parents=True)
    path.write_text(visits_text(VALID, shifted), encoding="utf-8")
    (outcome,) = run(folder, ctx).values()
    assert outcome.status == "refused"
    errors = json.loads(ctx.con.execute("SELECT errors FROM ingest_log").fetchone()[0])
    enum = [e for e in errors if e["rule_id"] == "VALUE.ENUM" and e["row"] == 2]
    assert [e["value"] for e in enum if e["column"] == "人员类别"] == ["张**"]
    page = page_of(ctx, outcome.file)
    assert "张**" in page and live_markup(page) == []
    assert "\\<img src=x onerror=alert(1)>" in page  # shown as typed, escaped
    assert_nowhere(written(ctx), records(VALID)["visits"][0][0], NAMES[0])


def test_file_named_with_a_name_and_an_id(intake_at):
    folder, ctx = intake_at
    counties = folder / "counties" / VALID
    twin = twin_of(ID)
    for name in (f"{NAME}{ID}补报.csv", f"王语燕{twin}补报.csv"):
        write_csv(counties / name, list(LABEL["visits"].values()), records(VALID)["visits"])
    outcomes = run(folder, ctx)
    assert [o.status for o in outcomes.values()] == ["refused", "refused"]
    assert all("#" in file and "王**530114********" in file for file in outcomes)
    shown = {page_of(ctx, file) for file in outcomes}
    assert len(shown) == 2  # one page per file, though their names mask alike
    assert_nowhere(written(ctx) + [(p.name, p.name) for p in ctx.feedback_dir.rglob("*")],
                   ID, twin, NAME, "王语燕")  # fmt: skip
    # The label is the file's identity night after night: unchanged, it is skipped.
    again = run(folder, ctx)
    assert list(again) == list(outcomes) and {o.status for o in again.values()} == {"skipped"}


def test_reader_failure_traceback_is_masked(intake_at, monkeypatch, caplog):
    folder, ctx = intake_at

    def broken(path, limits=None):
        raise RuntimeError(f"cell B2 holds {NAME}{ID}")

    monkeypatch.setattr(intake, "read_workbook", broken)
    county_file(folder / "counties" / f"{VALID}.xlsx")
    with caplog.at_level(logging.WARNING, logger="jixiao.ingest.intake"):
        (outcome,) = run(folder, ctx).values()
    assert outcome.status == "refused"
    said = caplog.text
    assert "RuntimeError" in said and "王**530114" in said
    assert_nowhere([said], ID, NAME)


def test_markup_in_a_file_name_is_escaped_on_its_page(intake_at):
    folder, ctx = intake_at
    name = "![](http:evil.example)<img src=x onerror=alert(1)>.xlsx"
    county_file(folder / "counties" / name)
    outcomes = run(folder, ctx)
    page = page_of(ctx, f"counties/{name}")
    assert outcomes[f"counties/{name}"].status == "refused" and live_markup(page) == []


# --- the report's own sentences -----------------------------------------------------------------


def planted_report(sample_report: Path, known: str) -> str:
    """The sample report with one sentence more, in another section than the figure it
    contradicts (so that findings quote it): an ID and two names, one of them a name only the
    county files know, and a link and HTML."""
    text = sample_report.read_text(encoding="utf-8")
    anchor = next(line for line in text.splitlines() if line.startswith("本次评价由"))
    line = (f"[](http://evil.example/b.png)<img src=x onerror=alert(1)>{NAME}{ID}与{known}"
            "核实，4个县（市、区）举办残疾人就业专场招聘会。")  # fmt: skip
    return text.replace(anchor + "\n", f"{anchor}\n{line}\n")


def test_report_sentences_are_masked_in_claims_and_every_report_file(intake_at, tmp_path):
    folder, ctx = intake_at
    sample = sample_folder(Path(__file__).resolve().parent.parent / "data" / "raw")
    (folder / "report.txt").write_text(planted_report(sample / "report.txt", NAMES[1]), "utf-8")
    county_file(folder / "counties" / f"{VALID}.xlsx")  # names NAMES[1] in 慰问
    assert {o.status for o in run(folder, ctx).values()} == {"accepted"}
    out = tmp_path / "reports"
    audit_programme(ctx.con, folder, ctx.programme, out, "t", hash_key=KEY,
                    feedback_dir=ctx.feedback_dir)
    staged = staged_folder(out, ctx.programme.year, ctx.programme.code)
    files = {p.name: "\n".join(readable(p)) for p in staged.iterdir() if p.is_file()}
    assert set(files) == {"report.html", "report.md", "findings.json", "findings.xlsx"}
    for name, text in files.items():  # the sentence is quoted in each, masked
        assert "王**530114" in text and "李**核实" in text, name
    assert live_markup(files["report.md"]) == []
    assert "<img" not in files["report.html"] and "&lt;img" in files["report.html"]
    assert_nowhere(written(ctx) + list(files.items()), ID, NAME, NAMES[1])


# --- all of it, in a real run -------------------------------------------------------------------


def plant(programme: Path) -> dict[str, str]:
    """Every attack above planted in a copy of the sample; returns the planted files by the
    status they must end in."""
    counties = programme / "counties"
    book = counties / "530181.v2.xlsx"  # a resubmission with a roster sheet: not read
    book_with(with_roster)(counties, "530181", 2)
    county_file(counties / "530127.v2.xlsx", remarks, free_text, county="530127")  # accepted
    (counties / "530112" / "visits.v2.csv").write_text(visits_text("530112", shifted), "utf-8")
    write_csv(counties / "530114" / f"{NAME}{PLANTED}补报.csv", list(LABEL["visits"].values()),
              records("530114")["visits"])  # fmt: skip
    (programme / "report.docx").unlink()
    report = planted_report(programme / "report.txt", NAMES[1])
    (programme / "report.txt").write_text(report, encoding="utf-8")
    return {book.name: "accepted", "530127.v2.xlsx": "accepted", "visits.v2.csv": "refused",
            "补报.csv": "refused"}  # fmt: skip


def scan(base: Path, done, secrets: set[str]) -> list[tuple[str, str]]:
    """Every output of the run: curated/ (warehouse read through DuckDB, reports with the xlsx
    unpacked, feedback, Data Docs, DICTIONARY.md), the console, Prefect's logs and artifacts."""
    texts = curated_texts(base / "curated")
    with duckdb.connect(str(base / DB), read_only=True) as con:
        (flow_run,) = con.execute(
            "SELECT flow_run_id FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    texts += [("stdout", done.stdout), ("stderr", done.stderr)]
    texts += [("prefect", t) for t in prefect_texts(flow_run)]
    assert leaks(texts, secrets) == []
    return texts


@pytest.mark.flow
def test_no_id_or_name_typed_anywhere_reaches_any_output(prefect_api, tmp_path):
    shutil.copytree(Path(__file__).resolve().parent.parent / "data" / "raw", tmp_path / "raw")
    expected = plant(tmp_path / PROGRAMME)
    secrets = personal_values(tmp_path / PROGRAMME, {NAME, NAME2, MINORITY})
    assert {ID[:14], ID2[:14], NAME, NAME2, MINORITY, NAMES[1]} <= secrets and len(secrets) > 700

    done = jixiao_run(tmp_path, prefect_api)
    completed(done)
    texts = scan(tmp_path, done, secrets)
    with duckdb.connect(str(tmp_path / DB), read_only=True) as con:
        log = dict(con.execute("SELECT file, status FROM ingest_log").fetchall())
        (files_seen, skipped) = con.execute("SELECT files_seen, files_skipped FROM runs").fetchone()
        inputs = " ".join(f for (f,) in con.execute("SELECT file FROM run_inputs").fetchall())
    for part, status in expected.items():  # every attack took place
        assert [s for f, s in log.items() if part in f] == [status], part
    assert "王**530114**********" in inputs
    report = tmp_path / REPORTS / "2022" / PROGRAMME.name
    md = (report / "report.md").read_text(encoding="utf-8")
    assert "王**530114" in md and "李**核实" in md and live_markup(md) == []
    assert any(w == "claims.sentence" and "王**530114" in t for w, t in texts)
    with zipfile.ZipFile(report / "findings.xlsx") as xlsx:
        assert "李**核实" in "".join(
            xlsx.read(n).decode("utf-8", "replace") for n in xlsx.namelist()
        )

    # The next night: every county file unchanged and skipped, the report audited again; the
    # names those files paired with IDs are still known, by their keyed hashes.
    again = jixiao_run(tmp_path, prefect_api)
    completed(again)
    scan(tmp_path, again, secrets)
    with duckdb.connect(str(tmp_path / DB), read_only=True) as con:
        (seen, skipped) = con.execute(
            "SELECT files_seen, files_skipped FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    assert seen == skipped == files_seen
    assert "李**核实" in (report / "report.md").read_text(encoding="utf-8")


def test_log_records_are_masked_by_shape(caplog):
    """Defence in depth: whatever a log line quotes, message or traceback, no ID in clear."""
    before = logging.getLogRecordFactory()
    try:
        mask_log_records()
        log = logging.getLogger("jixiao.test")
        with caplog.at_level(logging.INFO, logger="jixiao.test"):
            log.info("file %s", f"{NAME}{ID}.csv")
            try:
                raise ValueError(f"bad cell {ID}")
            except ValueError:
                log.exception("failed")
    finally:
        logging.setLogRecordFactory(before)
    assert "王**530114" in caplog.text and "ValueError: bad cell 530114****" in caplog.text
    assert_nowhere([caplog.text], ID, NAME)


@pytest.mark.flow
def test_an_unexpected_error_quoting_an_id_is_kept_masked_by_prefect(prefect_api):
    # Prefect keeps a failed run's exception text in its state, which no log masking reaches.
    from prefect import flow, task

    from jixiao.flows.nightly import MaskedError, masked_errors

    @task
    @masked_errors
    def read_cell() -> None:
        raise ValueError(f"could not convert '{ID}' for 王语嫣{ID}")

    @flow
    @masked_errors
    def failing() -> None:
        read_cell()

    state = failing(return_state=True)
    assert state.is_failed()
    messages = prefect_texts(str(state.state_details.flow_run_id))
    assert any("Flow run encountered an exception" in m for m in messages)
    assert all(ID[:10] not in m and "王语嫣" not in m for m in messages)
    assert any("王**530114********" in m for m in messages)
    with pytest.raises(MaskedError, match=r"KeyError: .*王\*\*"):
        masked_errors(lambda: (_ for _ in ()).throw(KeyError(f"王语嫣{ID}")))()
