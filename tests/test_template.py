"""`jixiao template` (SPEC §1.4): the blank county workbooks a programme's template declares,
read back as Excel reads them (openpyxl), and filled in by a clerk — typed into with openpyxl,
and re-saved by LibreOffice where it is installed — then taken by a real `jixiao run`."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml
from openpyxl.utils.datetime import from_excel

from jixiao.publish.county_workbook import (
    INSTRUCTIONS,
    OPTIONS,
    TemplateError,
    blank_workbook,
    worksheet_names,
)
from jixiao.sample.generate import PROGRAMME_YAML
from jixiao.schemas.identifiers import credit_code_check, org_code_check, resident_id_check
from jixiao.schemas.programme import load_programme
from tests.runs import DB, JIXIAO, completed, jixiao_run

SAMPLE = "2022/530100-disability-employment"
REHAB = "2022/530100-rehab-services"
COMMAS = ["上门康复，含辅具适配", "机构康复", "社区康复（日间照料）", "其他"]
# A template the sample does not have: a required sheet whose title cannot name a worksheet,
# full-width brackets in titles and headers, every type, format and kind of bound.
REHAB_SHEETS = [
    {"name": "services", "title": "康复服务（个人）", "required": True, "primaryKey": ["person_id"],
     "description": "每位服务对象一行",
     "fields": [
         {"name": "person_id", "title": "身份证号", "format": "resident_id", "personal": "hash",
          "constraints": {"required": True}},
         {"name": "person_name", "title": "姓名", "personal": "drop"},
         {"name": "home_county", "title": "户籍区县", "format": "county",
          "constraints": {"required": True}},
         {"name": "sessions", "title": "服务次数（次）", "type": "integer",
          "constraints": {"minimum": 1, "exclusiveMaximum": 100}},
         {"name": "rating", "title": "满意度评分", "type": "number",
          "constraints": {"exclusiveMinimum": 0, "maximum": 5}},
         {"name": "fee_yuan", "title": "服务费用(元)", "type": "money",
          "constraints": {"required": True, "maximum": "500.00"}},
         {"name": "served_on", "title": "服务日期", "type": "date", "inYear": True,
          "constraints": {"minimum": dt.date(2022, 3, 1)}},
         {"name": "completed", "title": "是否完成", "type": "boolean",
          "trueValues": ["已完成"], "falseValues": ["未完成"]},
         {"name": "kind", "title": "服务类型", "constraints": {"enum": COMMAS}},
         {"name": "grade", "title": "等级", "type": "integer", "constraints": {"enum": [1, 2, 3]}},
         {"name": "ref", "title": "档案号", "constraints": {"minLength": 2, "maxLength": 8}},
     ]},
    {"name": "devices", "title": "辅具发放",
     "foreignKeys": [{"fields": "ref", "reference": {"resource": "services", "fields": "ref"}}],
     "fields": [
         {"name": "ref", "title": "档案号", "constraints": {"required": True}},
         {"name": "device", "title": "辅具名称", "constraints": {"required": True}},
         {"name": "budget_line", "title": "支出科目", "constraints": {"enum": "budget_lines"}},
         {"name": "given_on", "title": "发放日期", "type": "date"},
     ]},
]  # fmt: skip


def _rehab_yaml() -> dict:
    data = yaml.safe_load(PROGRAMME_YAML.read_text(encoding="utf-8"))
    return data | {
        "code": "530100-rehab-services", "name": "康复服务补助项目", "sheets": REHAB_SHEETS,
        "checks": [],
        "budget_lines": [{"code": "devices", "name": "辅具适配（含维修）", "amount_yuan": "50000.00"},
                         {"code": "services", "name": "康复服务", "amount_yuan": "80000.00"}],
        "survey": None, "facts": [],
        "indicators": [{"id": "managed", "level1": "项目管理", "level2": "组织实施",
                        "name": "制度执行有效性", "weight": 100, "kind": "qualitative",
                        "score": 90, "reason": "按计划实施"}],
    }  # fmt: skip


def _write_programme(raw: Path, folder: str, data: dict | None = None) -> Path:
    path = raw / folder / "programme.yaml"
    path.parent.mkdir(parents=True)
    if data is None:
        shutil.copy(PROGRAMME_YAML, path)
    else:
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")  # fmt: skip
    return path


@pytest.fixture(scope="module")
def sample():
    return load_programme(PROGRAMME_YAML)


@pytest.fixture(scope="module")
def rehab(tmp_path_factory):
    return load_programme(_write_programme(tmp_path_factory.mktemp("raw"), REHAB, _rehab_yaml()))


def _book(programme, county: str, tmp_path: Path) -> openpyxl.Workbook:
    path = tmp_path / f"{county}.xlsx"
    path.write_bytes(blank_workbook(programme, county))
    return openpyxl.load_workbook(path)


def _checks(book: openpyxl.Workbook, sheet: str) -> dict[str, object]:
    """Each column's validation by its header: a list's values read from the cells it names."""
    ws = book[sheet]
    header = {cell.column_letter: cell.value for cell in ws[1]}
    found = {}
    for dv in ws.data_validations.dataValidation:
        (cells,) = dv.sqref.ranges
        assert (cells.min_row, cells.max_row) == (2, 1_048_576), dv.sqref
        assert cells.min_col == cells.max_col
        label = header[openpyxl.utils.get_column_letter(cells.min_col)]
        if dv.type == "list":
            where, cells_ref = dv.formula1.split("!")
            assert where == f"'{OPTIONS}'"
            found[label] = [c.value for (c,) in book[OPTIONS][cells_ref.replace("$", "")]]
        else:
            found[label] = (dv.type, dv.operator, dv.formula1, dv.formula2)
    return found


def _column(ws, index: int):
    """The column's dimension: neighbours alike in width and format are stored as one."""
    (found,) = [d for d in ws.column_dimensions.values() if d.min <= index <= d.max]
    return found


def _day(serial: str) -> dt.date:
    return from_excel(int(serial)).date()


def test_sample_workbook_sheets_headers_and_formats(sample, tmp_path):
    book = _book(sample, "530102", tmp_path)
    sheets = sample.county_template.sheets
    assert book.sheetnames == [INSTRUCTIONS, *(s.title for s in sheets.values()), OPTIONS]
    assert book[OPTIONS].sheet_state == "hidden"
    assert [ws.sheet_state for ws in book.worksheets[:-1]] == ["visible"] * (len(sheets) + 1)
    for sheet in sheets.values():
        ws = book[sheet.title]
        assert ws.max_row == 1  # no rows: the county fills them
        assert [c.value for c in ws[1]] == list(sheet.labels.values())
        assert all(c.font.b for c in ws[1])
        assert ws.freeze_panes == "A2"
        for cell in ws[1]:
            width = _column(ws, cell.column).width
            shown = sum(2 if ord(c) > 0x2E80 else 1 for c in cell.value)  # 汉字: two columns
            assert shown < width < 61
    visits = book["慰问"]
    formats = {c.value: _column(visits, c.column).number_format for c in visits[1]}
    assert _column(visits, 1).width > 20  # a 20-character 残疾人证号 fits
    assert formats == {"残疾人证号": "@", "姓名": "@", "人员类别": "@", "慰问日期": "yyyy-mm-dd",
                       "慰问金额(元)": "0.00", "发放方式": "@"}  # fmt: skip


def test_sample_workbook_validations(sample, tmp_path):
    book = _book(sample, "530102", tmp_path)
    visits = _checks(book, "慰问")
    assert visits["人员类别"] == ["就业困难", "失业"]
    assert visits["发放方式"] == ["现金", "银行转账"]
    assert visits["残疾人证号"] == ("textLength", "equal", "20", None)
    kind, op, first, last = visits["慰问日期"]
    assert (kind, op, _day(first), _day(last)) == ("date", None, dt.date(2022, 1, 1),
                                                   dt.date(2022, 12, 31))  # fmt: skip
    assert visits["慰问金额(元)"] == ("decimal", "greaterThanOrEqual", "0.01", None)  # > 0, to the fen
    assert visits["姓名"] == (None, None, None, None)  # free text: a prompt only
    names = [line.name for line in sample.budget_lines]
    funds = _checks(book, "经费")
    assert funds["支出事项"] == names
    assert funds["下达金额(元)"] == ("decimal", "greaterThanOrEqual", "0.0", None)
    employers = _checks(book, "参会用人单位")
    assert employers["有意向招聘残疾人"] == ["是", "否"]
    assert employers["统一社会信用代码"] == ("textLength", "equal", "18", None)
    assert employers["残疾人岗位数"] == ("whole", "greaterThanOrEqual", "0", None)
    survey = _checks(book, "满意度问卷")
    assert [survey[f"第{i}题"] for i in range(1, 11)] == [["A", "B", "C", "D", "E"]] * 10
    assert survey["填报日期"][:2] == ("date", None)  # any date: not bound to the year
    assert _checks(book, "竞赛")["获奖等次"] == ["一等奖", "二等奖", "三等奖", "优秀奖", "未获奖"]
    # Every column prompts its rule; a wrong value is stopped with it.
    ws = book["慰问"]
    prompts = {dv.promptTitle: (dv.prompt, dv.error, dv.showErrorMessage)
               for dv in ws.data_validations.dataValidation}  # fmt: skip
    assert set(prompts) == set(sample.county_template.sheets["visits"].labels.values())
    prompt, error, stops = prompts["发放方式"]
    assert prompt.startswith("现金 / 银行转账，不能为空") and "现金 / 银行转账" in error and stops


def test_instructions_name_the_county_every_column_and_rule(sample, tmp_path):
    book = _book(sample, "530111", tmp_path)
    rows = [[c for c in row] for row in book[INSTRUCTIONS].iter_rows(values_only=True)]
    text = "\n".join(str(c) for row in rows for c in row if c)
    assert "区县：530111 官渡区" in text and "530111.xlsx" in text and "530111.v2.xlsx" in text
    assert "五华区" not in text  # another county's workbook names its own
    assert "各表均为选填表" in text and "可以不填或整表删除" in text
    head = rows.index(["工作表", "是否必填", "列（表头）", "类型", "填写要求", "可选值", "说明"])
    listed = {(r[0], r[2]): r for r in rows[head + 1:]}
    for sheet in sample.county_template.sheets.values():
        assert listed[(sheet.title, "（整表）")][1] == "选填"
        for key, label in sheet.labels.items():
            row = listed[(sheet.title, label)]
            assert row[4] == sheet.rules[key]
            assert (sheet.fields[key].description or "") in (row[6] or "")
    assert listed[("参会用人单位", "（整表）")][4] == "招聘会编号 须是「招聘会」表中已填的招聘会编号"
    assert listed[("经费", "支出事项")][5] == " / ".join(b.name for b in sample.budget_lines)
    assert "不入库" in listed[("慰问", "姓名")][6]
    assert "加密散列" in listed[("慰问", "残疾人证号")][6]
    assert book[INSTRUCTIONS].freeze_panes == f"A{head + 2}"


def test_other_templates_bounds_lists_and_names(rehab, tmp_path):
    book = _book(rehab, "530103", tmp_path)
    names = worksheet_names(rehab.county_template.sheets)
    assert names == {"services": "康复服务（个人）", "devices": "辅具发放"}
    assert book.sheetnames == [INSTRUCTIONS, "康复服务（个人）", "辅具发放", OPTIONS]
    checks = _checks(book, "康复服务（个人）")
    assert checks["身份证号"] == ("textLength", "equal", "18", None)
    assert checks["户籍区县"] == list(rehab.counties.values())
    assert checks["服务次数（次）"] == ("whole", None, "1", "99")  # between; < 100: at most 99
    assert checks["满意度评分"] == ("custom", None, "AND(ISNUMBER(E2),E2>0.0,E2<=5.0)", None)
    assert checks["服务费用(元)"] == ("decimal", "lessThanOrEqual", "500.0", None)
    kind, _, first, last = checks["服务日期"]
    assert (kind, _day(first), _day(last)) == ("date", dt.date(2022, 3, 1), dt.date(2022, 12, 31))
    assert checks["是否完成"] == ["已完成", "未完成"]
    assert checks["服务类型"] == COMMAS  # commas and all: a list of cells, not typed
    assert checks["等级"] == [1, 2, 3]  # numbers in a number column
    assert checks["档案号"] == ("textLength", None, "2", "8")
    assert _checks(book, "辅具发放")["支出科目"] == ["辅具适配（含维修）", "康复服务"]
    text = "\n".join(str(c) for row in book[INSTRUCTIONS].iter_rows(values_only=True)
                     for c in row if c)  # fmt: skip
    assert "必填表：康复服务（个人）；其余为选填表（辅具发放）" in text


def test_a_template_no_worksheet_can_hold_is_refused(sample, monkeypatch):
    decl = sample.county_template.sheets["visits"]
    long_key = "a" * 32
    sheet = type(decl)(decl.decl.model_copy(update={"name": long_key, "title": "慰问/走访"}))
    with pytest.raises(TemplateError, match="「a{32}」的标题「慰问/走访」和名称都不能用作"):
        worksheet_names({long_key: sheet})
    with pytest.raises(TemplateError, match="填表说明"):
        worksheet_names({"x" * 40: type(decl)(decl.decl.model_copy(
            update={"name": "x" * 40, "title": "填表说明"}))})  # fmt: skip
    monkeypatch.setenv("JIXIAO_MAX_SHEETS", "7")  # six sheets, 填表说明 and 下拉选项: eight
    with pytest.raises(TemplateError, match="模板有 6 张表，加上填表说明和下拉选项超过每个工作簿 7 张表"):
        blank_workbook(sample, "530102")


def _template(raw: Path, out: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(JIXIAO), "template", "--raw", str(raw), "--out", str(out)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)  # fmt: skip


def test_command_writes_every_county_and_skips_a_broken_programme(tmp_path):
    raw = tmp_path / "raw"
    _write_programme(raw, SAMPLE)
    broken = _rehab_yaml() | {"code": "530100-broken"}
    broken["sheets"] = [REHAB_SHEETS[0] | {"primaryKey": ["nobody"]}]
    _write_programme(raw, "2022/530100-broken", broken)
    no_sheet = _rehab_yaml() | {"code": "530100-no-sheet"}  # valid, but no worksheet can hold it
    no_sheet["sheets"] = [REHAB_SHEETS[1] | {"name": "d" * 40, "title": "填表说明", "foreignKeys": []}]
    _write_programme(raw, "2022/530100-no-sheet", no_sheet)
    done = _template(raw, tmp_path / "out", tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 2
    assert errors[0].startswith("错误：已跳过项目 2022/530100-broken：")
    assert "programme.yaml" in errors[0] and "primaryKey「nobody」" in errors[0]
    assert errors[1].startswith(f"错误：已跳过项目 2022/530100-no-sheet：{raw}/2022/530100-no-sheet/"
                                f"programme.yaml 中表「{'d' * 40}」的标题「填表说明」和名称都不能用作")
    written = sorted(p.relative_to(tmp_path / "out").as_posix()
                     for p in (tmp_path / "out").rglob("*") if p.is_file())  # fmt: skip
    counties = load_programme(PROGRAMME_YAML).counties
    assert written == [f"{SAMPLE}/{c}.xlsx" for c in sorted(counties)]
    assert f"{SAMPLE}：已写出 14 份区县空白报送表" in done.stdout


@pytest.mark.parametrize(("raw", "says"), [("missing", "错误：输入目录 {tmp}/missing 不存在。")])
def test_command_misuse(tmp_path, raw, says):
    done = _template(Path(raw), tmp_path / "out", tmp_path)
    assert done.returncode == 1 and says.format(tmp=tmp_path) in done.stderr
    unknown = subprocess.run([str(JIXIAO), "template", "--nope"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert unknown.returncode == 2


# --- filled in by a clerk, taken by a real run -----------------------------------------


def _id(county: str, born: dt.date, n: int) -> str:
    first17 = f"{county}{born:%Y%m%d}{n:03d}"
    return first17 + resident_id_check(first17)


def _credit(county: str, org8: str) -> str:
    first17 = f"91{county}{org8}{org_code_check(org8)}"
    return first17 + credit_code_check(first17)


def sample_rows(county: str) -> dict[str, list[dict]]:
    """What a county types: rows by worksheet, values by header, as Excel keeps them."""
    fairs = [{"招聘会编号": f"ZP-{i}", "举办日期": dt.date(2022, 5 + i, 10), "地点": "区就业服务中心",
              "参会用人单位数": 10 + i, "提供岗位数": 50, "参会残疾人数": 40, "达成就业意向人数": 12,
              "支出金额(元)": 21000} for i in (1, 2)]  # fmt: skip
    employers = [{"招聘会编号": f"ZP-{1 + i % 2}", "单位名称": f"昆明某某商贸有限公司{i}",
                  "统一社会信用代码": _credit(county, f"A1B2C3D{i}"), "残疾人岗位数": i + 1,
                  "有意向招聘残疾人": "是" if i else "否"} for i in range(3)]  # fmt: skip
    visits = [{"残疾人证号": _id(county, dt.date(1980 + i, 3, 14), 10 + i) + "14", "姓名": "张三",
               "人员类别": "就业困难" if i % 2 else "失业", "慰问日期": dt.date(2022, 11, 1 + i),
               "慰问金额(元)": 400, "发放方式": "银行转账"} for i in range(4)]  # fmt: skip
    entries = [{"残疾人证号": _id(county, dt.date(1990, 6, 1 + i), 20 + i) + "23", "姓名": "李四",
                "竞赛项目": "电子商务", "比赛日期": dt.date(2022, 8, 8), "获奖等次": "二等奖"}
               for i in range(2)]  # fmt: skip
    survey = [{"问卷编号": f"00{i}", "填报日期": dt.date(2022, 12, 1),
               **{f"第{q}题": "AB"[q % 2] for q in range(1, 11)}} for i in range(1, 4)]  # fmt: skip
    funds = [{"支出事项": "残疾人就业专场招聘会", "下达金额(元)": 42000, "使用金额(元)": 42000,
              "凭证号": "记-001"},
             {"支出事项": "慰问就业困难残疾人和残疾失业人员家庭", "下达金额(元)": 1600,
              "使用金额(元)": 1600.5}]  # fmt: skip
    return {"招聘会": fairs, "参会用人单位": employers, "慰问": visits, "竞赛": entries,
            "满意度问卷": survey, "经费": funds}  # fmt: skip


def rehab_rows(county: str) -> dict[str, list[dict]]:
    people = [_id(county, dt.date(1975 + i, 1, 2), 30 + i) for i in range(3)]
    services = [{"身份证号": p, "姓名": "王五", "户籍区县": "五华区", "服务次数（次）": 12,
                 "满意度评分": 4.5, "服务费用(元)": 480, "服务日期": dt.date(2022, 4, 1 + i),
                 "是否完成": "已完成" if i else "未完成", "服务类型": COMMAS[i], "等级": i + 1,
                 "档案号": f"KF{i}"} for i, p in enumerate(people)]  # fmt: skip
    devices = [{"档案号": "KF1", "辅具名称": "轮椅", "支出科目": "辅具适配（含维修）",
                "发放日期": dt.date(2022, 6, 1)}]
    return {"康复服务（个人）": services, "辅具发放": devices}


def fill(blank: Path, rows: dict[str, list[dict]], saved: Path) -> Path:
    """Type ``rows`` into the blank workbook below each sheet's header, as a clerk does."""
    book = openpyxl.load_workbook(blank)
    for sheet, records in rows.items():
        ws = book[sheet]
        header = [c.value for c in ws[1]]
        for r, record in enumerate(records, 2):
            for label, value in record.items():
                ws.cell(r, header.index(label) + 1, value)
    saved.parent.mkdir(parents=True, exist_ok=True)
    book.save(saved)
    return saved


def _loaded(db: Path, table: str, county: str, code: str, what: str = "count(*)"):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"SELECT {what} FROM {table} WHERE county_code = ? AND year = 2022 "
                           "AND programme_code = ?", [county, code]).fetchone()[0]  # fmt: skip


def _log(db: Path, code: str, file: str) -> tuple[str, int, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT status, rows_loaded, errors::VARCHAR FROM ingest_log "
                           "WHERE programme_code = ? AND file = ?", [code, file]).fetchone()  # fmt: skip


COUNTS = {"job_fairs": 2, "fair_employers": 3, "visits": 4, "competition_entries": 2,
          "survey_responses": 3, "funds": 2}  # fmt: skip


def _templates(folder: Path) -> Path:
    _write_programme(folder / "raw", SAMPLE)
    _write_programme(folder / "raw", REHAB, _rehab_yaml())
    done = _template(Path("raw"), Path("templates"), folder)
    assert done.returncode == 0, done.stderr
    return folder / "templates"


@pytest.mark.flow
def test_filled_workbooks_are_accepted_and_a_dropdown_violation_refused(prefect_api, tmp_path):
    blanks = _templates(tmp_path)
    raw = tmp_path / "raw"
    fill(blanks / SAMPLE / "530102.xlsx", sample_rows("530102"),
         raw / SAMPLE / "counties" / "530102.xlsx")  # fmt: skip
    fill(blanks / REHAB / "530102.xlsx", rehab_rows("530102"),
         raw / REHAB / "counties" / "530102.xlsx")  # fmt: skip
    wrong = sample_rows("530111")  # values no drop-down offers, typed past it
    wrong["慰问"][2]["发放方式"] = "支付宝"
    wrong["经费"][1]["支出事项"] = "办公用品"
    fill(blanks / SAMPLE / "530111.xlsx", wrong, raw / SAMPLE / "counties" / "530111.xlsx")
    completed(jixiao_run(tmp_path, prefect_api))
    db = tmp_path / DB
    for table, rows in COUNTS.items():
        assert _loaded(db, table, "530102", "530100-disability-employment") == rows, table
    code = "530100-disability-employment"
    assert _loaded(db, "visits", "530102", code, "sum(amount_yuan)") == Decimal("1600.00")
    assert _loaded(db, "funds", "530102", code, "sum(spent_yuan)") == Decimal("43600.50")
    assert _loaded(db, "job_fairs", "530102", code, "min(held_on)") == dt.date(2022, 6, 10)
    assert _loaded(db, "fair_employers", "530102", code, "count(*) FILTER (intends_to_hire)") == 2
    assert _loaded(db, "services", "530102", "530100-rehab-services") == 3
    assert _loaded(db, "devices", "530102", "530100-rehab-services", "list(budget_line)") == [
        "devices"]  # typed by its name, full-width brackets and all
    assert _loaded(db, "services", "530102", "530100-rehab-services",
                   "sum(fee_yuan)::VARCHAR || count(*) FILTER (completed)") == "1440.002"
    assert _log(db, code, "counties/530102.xlsx")[:2] == ("accepted", sum(COUNTS.values()))
    status, rows, errors = _log(db, code, "counties/530111.xlsx")
    assert (status, rows) == ("refused", 0)
    assert "支付宝" in errors and "办公用品" in errors
    for table in COUNTS:
        assert _loaded(db, table, "530111", code) == 0


@pytest.mark.flow
def test_filled_workbook_resaved_by_libreoffice_is_accepted(prefect_api, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
    blanks = _templates(tmp_path)
    raw = tmp_path / "raw"
    rows = sample_rows("530103")
    del rows["竞赛"], rows["招聘会"], rows["参会用人单位"]  # nothing to report: left blank
    typed = fill(blanks / SAMPLE / "530103.xlsx", rows, tmp_path / "typed" / "530103.xlsx")
    rehab = fill(blanks / REHAB / "530103.xlsx", rehab_rows("530103"),
                 tmp_path / "typed" / "rehab" / "530103.xlsx")  # fmt: skip
    for path, programme in ((typed, SAMPLE), (rehab, REHAB)):
        counties = raw / programme / "counties"
        subprocess.run(
            [soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
             "--convert-to", "xlsx", "--outdir", str(counties), str(path)],
            check=True, capture_output=True, timeout=300, env=os.environ | {"HOME": str(tmp_path)},
        )  # fmt: skip
        resaved = counties / "530103.xlsx"
        assert resaved.read_bytes() != path.read_bytes()
        assert openpyxl.load_workbook(resaved)[OPTIONS].sheet_state == "hidden"
    completed(jixiao_run(tmp_path, prefect_api))
    db = tmp_path / DB
    code = "530100-disability-employment"
    expected = COUNTS | {"job_fairs": 0, "fair_employers": 0, "competition_entries": 0}
    for table, count in expected.items():
        assert _loaded(db, table, "530103", code) == count, table
    assert _loaded(db, "funds", "530103", code, "sum(spent_yuan)") == Decimal("43600.50")
    assert _loaded(db, "visits", "530103", code, "max(visited_on)") == dt.date(2022, 11, 4)
    assert _loaded(db, "services", "530103", "530100-rehab-services") == 3
    assert _log(db, code, "counties/530103.xlsx")[0] == "accepted"
