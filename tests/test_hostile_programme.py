"""Hostile programme.yaml: its SQL sandboxed, its YAML bounded, its names kept in their place.

Whoever writes a programme.yaml writes SQL that jixiao runs every night, and names that
become folders, keys and identifiers. Each case here is something such a file could hold,
written as an attacker would; each must be refused with one Chinese sentence naming the
indicator or the file, change nothing outside what the programme may read, and — in a real
`jixiao run` beside a valid programme — skip only its own programme.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest
import yaml

from jixiao.sample.generate import sample_folder
from jixiao.schemas.programme import ProgrammeError, load_programme, load_programme_folder
from jixiao.scoring import MetricError, compute_metrics
from jixiao.scoring.metrics import sandbox
from tests.runs import DB, REPORTS, jixiao_run
from tests.test_scoring import SAMPLE, sample_db  # noqa: F401 - the module's warehouse fixture

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def sample():
    return load_programme(SAMPLE / "programme.yaml")


@pytest.fixture
def con(sample_db: Path, tmp_path: Path):  # noqa: F811
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sample_db, path)
    con = duckdb.connect(str(path))
    yield con
    con.close()


def with_metric(programme, sql: str):
    """The programme with only its first measured indicator, measured by ``sql``."""
    ind = next(i for i in programme.indicators if i.id == "job_fairs_held")
    return programme.model_copy(
        update={"indicators": [ind.model_copy(update={"metric": sql})], "facts": []}
    )


def refused(con, programme, sql: str) -> str:
    with pytest.raises(MetricError) as caught:
        compute_metrics(con, with_metric(programme, sql), "r1")
    message = str(caught.value)
    assert message.startswith("指标「开展招聘会场次」（job_fairs_held）的度量 SQL ")
    assert "\n" not in message and "Traceback" not in message
    return message


def tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


# --- the metric SQL -------------------------------------------------------------------------


def test_stacked_statements_are_refused_before_any_runs(con, sample, tmp_path):
    out = tmp_path / "escaped.csv"
    # The attack on the wrapper of earlier versions, which ran every statement after its ")".
    wrapper = (
        f"SELECT 1) AS m; COPY (SELECT * FROM visits) TO '{out}'; "
        "CREATE TABLE main.pwned AS SELECT 1; SELECT * FROM (SELECT 1"
    )
    assert "无法解析：Parser Error" in refused(con, sample, wrapper)
    stacked = f"SELECT 5; COPY (SELECT * FROM visits) TO '{out}'; CREATE TABLE pwned AS SELECT 1"
    assert "应为一条 SELECT 语句，实际为 3 条语句" in refused(con, sample, stacked)
    assert not out.exists() and "pwned" not in tables(con)


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("CREATE TABLE pwned AS SELECT 1", "CREATE"),
        ("DROP TABLE visits", "DROP"),
        ("DELETE FROM visits", "DELETE"),
        ("UPDATE visits SET amount_yuan = 0", "UPDATE"),
        ("INSERT INTO visits SELECT * FROM visits", "INSERT"),
        ("COPY visits TO '/tmp/visits.csv'", "COPY"),
        ("ATTACH '/tmp/other.duckdb' AS other", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),  # DuckDB's parser calls INSTALL a LOAD statement
        ("SET enable_external_access = true", "SET"),
        ("PRAGMA database_list", "PRAGMA"),
        ("CALL pragma_version()", "CALL"),
        ("EXPORT DATABASE '/tmp/dump'", "EXPORT"),
    ],
)
def test_anything_but_one_select_is_refused(con, sample, sql, kind):
    message = refused(con, sample, sql)
    assert f"应为一条 SELECT 语句，实际为 {kind}" in message
    assert con.execute("SELECT count(*) FROM visits").fetchone()[0] == 300


def test_the_hash_key_cannot_be_read(con, sample):
    key_file = Path(os.environ["JIXIAO_HASH_KEY_FILE"])
    key_file.parent.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        key_file.write_text("ab" * 32 + "\n", encoding="ascii")
    key = key_file.read_text(encoding="ascii").strip()
    for sql in (
        f"SELECT length(content) FROM read_text('{key_file}')",
        f"SELECT count(*) FROM read_csv('{key_file}')",
        f"SELECT count(*) FROM read_blob('{key_file.parent}/*')",
        f"SELECT count(*) FROM glob('{key_file.parent}/*')",
    ):
        message = refused(con, sample, sql)
        assert "无法执行" in message and "Permission" in message and key[:8] not in message


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT count(*) FROM warehouse.main.visits", "不能指定数据库或模式：warehouse.main.visits"),
        ("SELECT count(*) FROM main.visits", "不能指定数据库或模式：main.visits"),
        ("SELECT count(*) FROM ingest_log", "引用了不可用的表「ingest_log」"),
        ("SELECT count(*) FROM runs", "引用了不可用的表「runs」"),
        ("SELECT count(*) FROM findings", "引用了不可用的表「findings」"),
        ("SELECT count(*) FROM '/etc/passwd'", "引用了不可用的表「/etc/passwd」"),
        ("SELECT count(*) FROM rows", "引用了不可用的表「rows」"),  # a Python name in scope
    ],
)
def test_only_the_programmes_own_tables_by_plain_name(con, sample, sql, says):
    assert says in refused(con, sample, sql)


def test_a_cte_may_take_any_name(con, sample):
    sql = "WITH runs AS (SELECT * FROM job_fairs) SELECT count(*) FROM runs"
    (metric,) = compute_metrics(con, with_metric(sample, sql), "r1")
    assert metric.value == 5


def test_the_sandbox_is_locked(con, sample):
    box = sandbox(con, sample, {"visits": None}, 256)
    try:
        settings = dict(
            box.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access',"
                " 'lock_configuration', 'autoinstall_known_extensions', "
                "'autoload_known_extensions', 'allowed_directories', 'temp_directory')"
            ).fetchall()
        )
        assert settings == {
            "enable_external_access": "false",
            "lock_configuration": "true",
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
            "allowed_directories": "[]",
            "temp_directory": "",
        }
        with pytest.raises(duckdb.Error, match="locked"):
            box.execute("SET enable_external_access = true")
        # The sandbox holds the programme's rows of the one table asked for, nothing else.
        assert box.execute("SELECT count(*) FROM visits").fetchone()[0] == 300
        with pytest.raises(duckdb.CatalogException):
            box.execute("SELECT count(*) FROM job_fairs")
    finally:
        box.close()


def test_a_metric_that_runs_too_long_is_stopped(con, sample, monkeypatch):
    monkeypatch.setenv("JIXIAO_MAX_METRIC_SECONDS", "1")
    started = time.monotonic()
    message = refused(con, sample, "SELECT count(*) FROM range(1000000000000000)")
    assert "运行超过 1 秒时限，已中止" in message and time.monotonic() - started < 10


def test_a_metric_that_wants_too_much_memory_is_stopped(con, sample, monkeypatch):
    monkeypatch.setenv("JIXIAO_MAX_METRIC_MB", "64")
    message = refused(con, sample, "SELECT length(list(range)) FROM range(1000000000)")
    assert "无法执行" in message and "Out of Memory" in message


# --- the YAML -------------------------------------------------------------------------------

SAMPLE_YAML = REPO / "sample" / "programme.yaml"


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "programme.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def changed(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(SAMPLE_YAML.read_text(encoding="utf-8"))
    change(data)
    return written(tmp_path, yaml.safe_dump(data, allow_unicode=True))


def one_sentence(path: Path) -> str:
    started = time.monotonic()
    with pytest.raises(ProgrammeError) as caught:
        load_programme(path)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    # Nine levels of nine aliases: 9^9 (387 million) strings from a few hundred bytes.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    text = SAMPLE_YAML.read_text(encoding="utf-8") + "\n".join(lines) + "\n"
    assert "使用了 YAML 别名（*），不允许使用别名" in one_sentence(written(tmp_path, text))


def test_deep_nesting_and_size_are_bounded(tmp_path):
    assert "嵌套层次过深" in one_sentence(written(tmp_path, "a: " + "[" * 100_000))
    big = SAMPLE_YAML.read_text(encoding="utf-8") + "# " + "x" * (1 << 20) + "\n"
    assert "超过 1024 KB（JIXIAO_MAX_PROGRAMME_KB）" in one_sentence(written(tmp_path, big))


def test_a_link_or_a_fifo_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere.yaml"
    shutil.copyfile(SAMPLE_YAML, target)
    link = tmp_path / "programme.yaml"
    link.symlink_to(target)
    assert "是符号链接，不予跟随" in one_sentence(link)
    link.unlink()
    os.mkfifo(link)
    assert "不是普通文件" in one_sentence(link)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.update(code="../../../escaped"), "项目代码只能由小写英文字母和数字组成"),
        (lambda d: d.update(code="530100_employment"), "项目代码只能由小写英文字母和数字组成"),
        (lambda d: d.update(code="530100.employment"), "项目代码只能由小写英文字母和数字组成"),
        (lambda d: d.update(code="昆明就业"), "项目代码只能由小写英文字母和数字组成"),
        (lambda d: d.update(code="530100-Employment"), "项目代码只能由小写英文字母和数字组成"),
        (lambda d: d.update(code="a" * 65), "code"),
        (lambda d: d["counties"].update({"530112[": "西山区"}), "区县代码应为 6 位数字"),
        (lambda d: d["indicators"][4].update(id="job/fairs"), "id 只能由英文字母、数字和下划线组成"),
        (lambda d: d["budget_lines"][0].update(code="../x"), "id 只能由英文字母、数字和下划线组成"),
        (lambda d: d.update(name="项目\x1b[31m名称"), "含有控制字符或双向控制符"),
        (lambda d: d.update(unit="昆明\u202e市"), "含有控制字符或双向控制符"),
        (lambda d: d.update(vocabulary={"subjects": "not a mapping"}), "词表「subjects」应为映射"),
        (lambda d: d["facts"][0].update(id="job_fairs_held"), "id 有重复"),
    ],
)
def test_names_are_validated_where_they_enter(tmp_path, change, says):
    message = one_sentence(changed(tmp_path, change))
    assert says in message and "programme.yaml 无效" in message


def test_the_folder_must_be_the_programmes_year_and_code(tmp_path):
    folder = tmp_path / "2023" / "530100-disability-employment"
    folder.mkdir(parents=True)
    shutil.copyfile(SAMPLE_YAML, folder / "programme.yaml")
    with pytest.raises(ProgrammeError, match="文件夹应为 2022/530100-disability-employment"):
        load_programme_folder(folder)
    right = tmp_path / "2022" / "530100-disability-employment"
    right.parent.mkdir()
    right.symlink_to(folder)
    with pytest.raises(ProgrammeError, match="是符号链接"):
        load_programme_folder(right)


# --- a real run: the hostile programme skipped, the valid one published ---------------------

HOSTILE = "530100-hostile"


def hostile_programme(raw: Path, tmp_path: Path, metric: str) -> Path:
    """A second programme beside the sample: the same county files, one poisoned metric."""
    folder = raw / "2022" / HOSTILE
    shutil.copytree(sample_folder(REPO / "data" / "raw"), folder)
    text = (folder / "programme.yaml").read_text(encoding="utf-8")
    text = text.replace("code: 530100-disability-employment", f"code: {HOSTILE}")
    text = text.replace("metric: SELECT count(*) FROM job_fairs", f"metric: >-\n      {metric}")
    (folder / "programme.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.flow
def test_a_hostile_programme_is_skipped_and_the_others_published(prefect_api, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(sample_folder(REPO / "data" / "raw"), sample_folder(raw))
    escaped = tmp_path / "escaped.csv"
    hostile_programme(
        raw, tmp_path,
        f"SELECT 5; COPY (SELECT * FROM visits) TO '{escaped}'; CREATE TABLE main.pwned AS SELECT 1",
    )  # fmt: skip
    escaping = raw / "2022" / "escaping"
    shutil.copytree(sample_folder(REPO / "data" / "raw"), escaping)
    yaml_path = escaping / "programme.yaml"
    yaml_path.write_text(
        yaml_path.read_text(encoding="utf-8").replace(
            "code: 530100-disability-employment", "code: ../../../escaped"
        ),
        encoding="utf-8",
    )
    done = jixiao_run(tmp_path, prefect_api)

    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 2
    assert f"已跳过项目 2022/{HOSTILE}：指标「开展招聘会场次」（job_fairs_held）" in errors[1]
    assert "应为一条 SELECT 语句，实际为 3 条语句" in errors[1]
    assert "已跳过项目 2022/escaping：" in errors[0] and "项目代码只能由" in errors[0]
    # Nothing written where the hostile programmes pointed, nothing added to the warehouse.
    assert not escaped.exists()
    assert not (tmp_path / "escaped").exists() and not (tmp_path.parent / "escaped").exists()
    with duckdb.connect(str(tmp_path / DB), read_only=True) as con:
        assert "pwned" not in tables(con)
        run = con.execute("SELECT status, skipped FROM runs").fetchone()
        # The valid programme is published whole: its records, its scores, its reports.
        codes = dict(con.execute(
            "SELECT programme_code, count(*) FROM scores WHERE level = 0 GROUP BY 1"
        ).fetchall())  # fmt: skip
        visits = dict(con.execute(
            "SELECT programme_code, count(*) FROM visits GROUP BY 1"
        ).fetchall())  # fmt: skip
    assert run[0] == "partial" and HOSTILE in run[1] and "escaping" in run[1]
    assert codes == {"530100-disability-employment": 1}
    # The hostile programme's county files are records like any other: ingested, never audited.
    assert visits == {"530100-disability-employment": 300, HOSTILE: 300}
    published = tmp_path / REPORTS / "2022"
    assert sorted(p.name for p in published.iterdir()) == ["530100-disability-employment"]
    assert (published / "530100-disability-employment" / "report.html").exists()


@pytest.mark.flow
def test_a_metric_reading_the_key_publishes_nothing_of_it(prefect_api, tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    key_file = tmp_path / "hash.key"
    key_file.write_text("cd" * 32 + "\n", encoding="ascii")
    monkeypatch.setenv("JIXIAO_HASH_KEY_FILE", str(key_file))  # the run's own key
    hostile_programme(raw, tmp_path, f"SELECT length(content) FROM read_text('{key_file}')")
    done = jixiao_run(tmp_path, prefect_api)
    assert done.returncode == 1 and "Permission" in done.stderr
    key = key_file.read_text(encoding="ascii").strip()
    curated = tmp_path / "curated"
    for path in curated.rglob("*"):
        if path.is_file():
            assert key[:13].encode() not in path.read_bytes(), path
    assert key[:13] not in done.stdout + done.stderr
