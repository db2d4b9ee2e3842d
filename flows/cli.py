"""The `jixiao` command (SPEC §2). Exit 0: completed (refusals are results); 1: could not
complete; 2: misuse. Errors are one sentence, never a traceback."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

import jixiao.flows  # noqa: F401 - Prefect settings before Prefect is imported

app = typer.Typer(
    add_completion=False, no_args_is_help=True,
    help="jixiao：绩效自评报告与区县报送数据审计流水线 / audits performance self-evaluation "
    "reports against the counties' submissions",
)
# Nothing shown is read as Rich markup or emoji codes: file names, paths and report text come
# from outside (a folder named `530112[` holding `b]visits.csv` is a name, not a tag).
err = Console(stderr=True, markup=False, emoji=False)
out = Console(markup=False, emoji=False)
_lang = {"value": "zh"}

RAW = typer.Option(Path("data/raw"), "--raw", help="报送数据目录 / input folder")
DB = typer.Option(Path("data/curated/warehouse.duckdb"), "--db", help="数据仓库文件 / warehouse")
REPORT_FILE = typer.Argument(
    ..., help="绩效自评报告（.txt、.docx、.pdf，或自评表 .xlsx / .xls）/ the report"
)
PROGRAMME = typer.Option(None, "--programme", help="项目定义 / the programme: programme.yaml")
FORMAT = typer.Option("table", "--format", help="输出格式 / format: table | json | md | html")
OUT = typer.Option(Path("data/curated/reports"), "--out", help="报告目录 / reports folder")
TEMPLATES_OUT = typer.Option(Path("data/curated/templates"), "--out",
                             help="空白报送表目录 / blank workbooks folder")  # fmt: skip
REBUILD = typer.Option(
    False, "--rebuild", help="从原始报送数据重建数据仓库（保留仍可读的运行记录） / rebuild"
)
NEW_KEY = typer.Option(
    False, "--new-key", help="换用新的散列密钥并重建（原密钥另存） / new hashing key, rebuild"
)
DASK = typer.Option(
    None, "--dask",
    help="在 Dask 集群上按项目和省份分区接收文件：local 为本机进程集群，或集群地址"
         "（tcp://主机:8786） / ingest on Dask: local, or a scheduler address",
)  # fmt: skip


@app.callback()
def main(lang: str = typer.Option("zh", "--lang", help="输出语言 / language of the output: zh | en")) -> None:
    if lang not in ("zh", "en"):
        raise typer.BadParameter("--lang 只能是 zh 或 en / must be zh or en")
    _lang["value"] = lang


class _Brief(logging.Formatter):
    """Console lines without tracebacks: the user gets one sentence, the Prefect run history
    keeps the full record (its API handler sees the record before the console does)."""

    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        record.exc_info = record.exc_text = None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text = saved


def _console_without_tracebacks() -> None:
    from prefect.logging.configuration import setup_logging
    from prefect.logging.handlers import PrefectConsoleHandler

    setup_logging()
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler):
                handler.setFormatter(_Brief(handler.formatter))


def _error(zh: str, en: str | None = None) -> None:
    from jixiao.ingest.personal import mask_text  # a path or a value in the message: no ID in clear

    line = mask_text(f"错误：{zh}" if _lang["value"] == "zh" else f"Error: {en or zh}")
    err.print(line, style="bold red", soft_wrap=True, highlight=False)


def _fail(zh: str, en: str | None = None) -> None:
    _error(zh, en)
    raise typer.Exit(1)


def _run(raw: Path, db: Path, out_dir: Path, rebuild: bool = False, new_key: bool = False,
         dask: str | None = None) -> None:  # fmt: skip
    from jixiao.flows.nightly import nightly
    from jixiao.ingest.personal import HashKeyError
    from jixiao.publish.warehouse import WarehouseBusy, WarehouseDamaged

    _programmes_in(raw)
    debug = bool(os.environ.get("JIXIAO_DEBUG"))
    if not debug:
        _console_without_tracebacks()
    flow = nightly
    if dask:
        try:
            from jixiao.flows.dask_runner import DaskUnreachable, task_runner
        except ImportError:
            _fail("--dask 需要 Dask：请安装 jixiao[dask]（pip install 'jixiao[dask]'）。",
                  "--dask needs Dask: install jixiao[dask] (pip install 'jixiao[dask]').")  # fmt: skip
        try:
            flow = nightly.with_options(task_runner=task_runner(dask))
        except DaskUnreachable as exc:
            address, reason = exc.args
            _fail(f"无法连接 Dask 集群 {address}（{reason}），未运行。",
                  f"cannot reach the Dask cluster at {address} ({reason}); nothing was run.")  # fmt: skip
    api = _prefect_server()  # after the cluster: each is said before anything runs
    try:
        with _reporting_to(api):
            result = flow(raw_dir=str(raw), db=str(db), out=str(out_dir), lang=_lang["value"],
                          rebuild=rebuild, new_key=new_key, dask=bool(dask))  # fmt: skip
    except (HashKeyError, WarehouseBusy, WarehouseDamaged) as exc:
        _fail(exc.zh, exc.en)
    except OSError as exc:
        where = Path(exc.filename).resolve() if exc.filename else db.resolve()
        _fail(f"无法写入 {where}：{exc.strerror}。", f"cannot write {where}: {exc.strerror}.")
    except Exception as exc:
        if debug:
            raise
        _fail(
            f"运行未完成（{type(exc).__name__}: {exc}）；设置 JIXIAO_DEBUG=1 可查看详细信息。",
            f"the run did not complete ({type(exc).__name__}: {exc}); set JIXIAO_DEBUG=1 "
            "for details.",
        )
    _summary(result, db)
    if result["skipped"]:  # the others are published; this run did not complete for these
        for s in result["skipped"]:
            _error(f"已跳过项目 {s['programme']}：{s['reason']}",
                   f"programme {s['programme']} skipped: {s['reason']}")  # fmt: skip
        raise typer.Exit(1)


def _prefect_server() -> str | None:
    """The running Prefect server the run reports to (None: a temporary one), said in one
    line; a configured one that does not answer stops the run before anything is written."""
    from jixiao.flows.serve import ServerDown, running_server

    zh = _lang["value"] == "zh"
    try:
        api, why = running_server()
    except ServerDown as down:
        _fail(f"PREFECT_API_URL 指向的 Prefect 服务器 {down.api} 无响应：请启动它，或取消该设置。",
              f"the Prefect server PREFECT_API_URL names, {down.api}, does not answer: start it "
              "or unset PREFECT_API_URL.")  # fmt: skip
    if api is None:
        line = ("未发现运行中的 Prefect 服务器（PREFECT_API_URL 或 jixiao serve），本次运行启动临时服务器"
                "（约 15 秒）。" if zh else "no Prefect server running (PREFECT_API_URL or jixiao "
                "serve): this run starts a temporary one (about 15 s).")  # fmt: skip
    elif why == "serve":
        line = (f"使用 jixiao serve 的 Prefect 服务器：{api}" if zh
                else f"using jixiao serve's Prefect server: {api}")  # fmt: skip
    else:
        line = (f"使用 Prefect 服务器：{api}（PREFECT_API_URL）" if zh
                else f"using the Prefect server {api} (PREFECT_API_URL)")  # fmt: skip
    out.print(line, soft_wrap=True)
    return api


@contextlib.contextmanager
def _reporting_to(api: str | None):
    """Prefect's settings pointed at ``api`` for the run (already so when configured)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if api is None:
        yield
    else:
        with temporary_settings({PREFECT_API_URL: api}):
            yield


def _input_folder(raw: Path) -> Path:
    """``raw`` in full, after stopping with one sentence when it is no folder."""
    where = raw.resolve()
    if not raw.is_dir():
        _fail(f"输入目录 {where} 不存在。", f"input folder {where} does not exist.")
    return where


def _programmes_in(raw: Path) -> None:
    """Stop before any work, saying so, when ``raw`` holds no programme to run: a run over
    nothing would publish an empty warehouse as if all were well."""
    from jixiao.ingest.discover import programme_dirs

    where = _input_folder(raw)
    if not programme_dirs(raw):
        _fail(f"输入目录 {where} 下没有项目（应为 <年度>/<项目代码>/programme.yaml），未运行。",
              f"no programme under {where} (expected <year>/<code>/programme.yaml); "
              "nothing was run.")  # fmt: skip


def _summary(result: dict, db: Path) -> None:
    zh = _lang["value"] == "zh"
    table = Table(title="本次运行" if zh else "This run")
    for name in ("文件", "状态", "行数", "问题") if zh else ("file", "status", "rows", "problems"):
        table.add_column(name)
    from jixiao.flows.nightly import status

    for o in result["outcomes"]:  # the files read: the unchanged are only counted
        table.add_row(o.file, status(o.status, _lang["value"]), str(o.rows or ""),
                      str(o.problems or ""))  # fmt: skip
    if table.row_count:
        out.print(table)
    counts = (
        result["files_accepted"],
        result["files_refused"],
        result["files_superseded"],
        result["files_skipped"],
        result["rows_loaded"],
    )
    out.print(
        "接收 {} 个文件，拒收 {} 个，替代 {} 个，未变化跳过 {} 个；入库 {} 行。".format(*counts)
        if zh
        else "accepted {}, refused {}, superseded {}, unchanged {}; {} rows loaded.".format(*counts)
    )
    out.print(
        f"数据仓库：{db}；退回说明：{db.parent / 'feedback'}"
        if zh
        else f"warehouse: {db}; feedback: {db.parent / 'feedback'}"
    )
    if unassigned := result["unassigned"]:  # no county will read their pages: the operator
        out.print(
            f"无法识别所属区县的文件 {len(unassigned)} 个（未接收；请核实其所属区县，以区县代码命名放入 "
            "counties 文件夹），说明页："
            if zh
            else f"{len(unassigned)} file(s) whose county cannot be told (not accepted; find out "
            "whose each is and save it under counties/ named by the county's code), pages:",
            soft_wrap=True,
        )
        for u in unassigned:
            out.print(f"  {u['programme']} {u['file']}：{u['page']}" if zh
                      else f"  {u['programme']} {u['file']}: {u['page']}", soft_wrap=True)  # fmt: skip


@app.command()
def run(raw: Path = RAW, db: Path = DB, out_dir: Path = OUT, rebuild: bool = REBUILD,
        new_key: bool = NEW_KEY, dask: str | None = DASK) -> None:  # fmt: skip
    """一次完整的汇总：接收新增或变化的报送文件、校验、入库、发布。 / One full run: take in new or changed submissions, check them, load them, publish the reports."""
    _run(raw, db, out_dir, rebuild, new_key, dask)


@app.command("check-report")
def check_report_command(
    file: Path = REPORT_FILE, programme: Path | None = PROGRAMME, fmt: str = FORMAT
) -> None:
    """审核一份自评报告：抽取其中的全部数据，列出前后矛盾之处。 / Check one self-evaluation report: read every figure in it and list where it contradicts itself."""
    from jixiao.checks.report_check import check_report
    from jixiao.ingest.report import ReportError
    from jixiao.publish import findings as out_formats
    from jixiao.schemas.programme import ProgrammeError, load_programme

    if fmt not in ("table", "json", "md", "html"):
        raise typer.BadParameter(
            "--format 只能是 table、json、md 或 html / must be table|json|md|html"
        )
    lang = _lang["value"]
    try:
        prog = load_programme(programme) if programme else None
        audit = check_report(file, prog)
    except (ProgrammeError, ReportError) as exc:
        _fail(exc.zh, exc.en)
    title = ("自评报告审核：" if lang == "zh" else "Report audit: ") + file.name
    # What was read goes beside the findings in every format: "0 findings" alone would say a
    # report is clean when nothing in it was read.
    read = audit.read_line(lang)
    if fmt == "json":
        found = [out_formats.public_dict(f, lang) for f in audit.findings]
        print(json.dumps({"coverage": audit.coverage.as_dict(lang), "findings": found},
                         ensure_ascii=False, indent=2))  # fmt: skip
    elif fmt == "md":
        print(out_formats.as_markdown(audit.findings, title, lang, read), end="")
    elif fmt == "html":
        print(out_formats.as_html(audit.findings, title, lang, read), end="")
    else:
        zh = lang == "zh"
        table = Table(title=title, show_lines=True)
        for name in (
            ("序号", "严重程度", "问题", "位置") if zh else ("#", "severity", "problem", "where")
        ):
            table.add_column(name, overflow="fold")
        for i, f in enumerate(audit.findings, 1):
            # Each place once (a form run together on one line is one line), as a reader
            # finds it: a Word table's number and row, else the line.
            where = ("、" if zh else ", ").join(dict.fromkeys(w for e in f.evidence
                                                            if (w := e.where(lang))))  # fmt: skip
            severity = out_formats.SEVERITY_ZH[f.severity] if zh else f.severity
            table.add_row(str(i), severity, f.message(lang), where)
        out.print(table)
        out.print(out_formats.summary(audit.findings, lang))
        out.print(read, markup=False, highlight=False, soft_wrap=True)


@app.command()
def serve(raw: Path = RAW, db: Path = DB, out_dir: Path = OUT) -> None:
    """每天 02:00（北京时间）运行一次汇总的常驻进程；运行记录见 Prefect 界面。 / Stay running and run at 02:00 Beijing time every day; the run history is in the Prefect UI."""
    from prefect import serve as prefect_serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from jixiao.flows.serve import (
        SCHEDULE,
        ServerDown,
        deployment,
        deployment_name,
        find_or_start_server,
        server_file,
    )
    from jixiao.publish.files import write_atomic

    _programmes_in(raw)
    try:
        api, server = find_or_start_server()
    except ServerDown as down:
        _fail(f"无法启动本地 Prefect 服务器（{down.api}）。",
              f"cannot start a local Prefect server ({down.api}).")  # fmt: skip
    record = server_file()  # for `jixiao run` with the same Prefect home, while this serves
    write_atomic(record, api)
    ui, name = api.removesuffix("/api"), deployment_name(raw)
    out.print(
        f"按计划 {SCHEDULE.cron}（{SCHEDULE.timezone}）运行 nightly/{name}（{raw.resolve()}）；"
        f"运行记录：{ui}"
        if _lang["value"] == "zh"
        else f"serving nightly/{name} ({raw.resolve()}) on {SCHEDULE.cron} "
        f"({SCHEDULE.timezone}); run history: {ui}",
        soft_wrap=True,
    )
    try:
        with temporary_settings({PREFECT_API_URL: api}):
            prefect_serve(
                deployment(raw.resolve(), db.resolve(), out_dir.resolve(), _lang["value"])
            )
    finally:
        record.unlink(missing_ok=True)
        if server is not None:
            server.terminate()


@app.command()
def review(raw: Path = RAW, db: Path = DB,
           port: int = typer.Option(8765, "--port", help="端口（0 为任一空闲端口）/ port")) -> None:  # fmt: skip
    """在本机（127.0.0.1）打开复核页面：逐条确认或不予采纳最近一次运行的发现并填写复核意见。 / Serve the review page on 127.0.0.1: confirm or dismiss each finding of the last run, with a reason."""
    import signal
    import threading

    from jixiao.publish.review_page import make_server

    if not db.is_file():
        where = db.resolve()
        _fail(f"数据仓库 {where} 不存在：请先运行 jixiao run。",
              f"warehouse {where} does not exist: run `jixiao run` first.")  # fmt: skip
    try:
        server = make_server(raw.resolve(), db.resolve(), port, _lang["value"])
    except OSError as exc:
        _fail(f"无法在 127.0.0.1:{port} 上提供复核页面：{exc.strerror}。",
              f"cannot serve the review page on 127.0.0.1:{port}: {exc.strerror}.")  # fmt: skip
    url = f"http://127.0.0.1:{server.server_port}/"
    out.print(f"复核页面：{url}（按 Ctrl+C 结束）" if _lang["value"] == "zh"
              else f"review page: {url} (Ctrl+C to stop)", soft_wrap=True)  # fmt: skip
    # SIGTERM (what systemd sends) ends it as Ctrl+C does: shutdown waits for serve_forever,
    # so it is asked from another thread.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command()
def template(raw: Path = RAW, out_dir: Path = TEMPLATES_OUT) -> None:
    """写出每个项目的区县空白报送表：每个区县一份，按项目模板（programme.yaml）生成。 / Write each programme's blank county workbooks, one per county, from its template (programme.yaml)."""
    from jixiao.ingest.discover import programme_dirs
    from jixiao.publish.county_workbook import TemplateError, write_blank_workbooks
    from jixiao.schemas.programme import ProgrammeError, load_programme_folder

    zh = _lang["value"] == "zh"
    _input_folder(raw)
    folders = programme_dirs(raw)
    if not folders:
        out.print(f"{raw} 下没有项目（<年度>/<项目代码>/programme.yaml）。" if zh
                  else f"no programme under {raw} (<year>/<code>/programme.yaml).")  # fmt: skip
    skipped = 0
    for folder in folders:
        name = folder.relative_to(raw).as_posix()
        try:
            paths = write_blank_workbooks(load_programme_folder(folder), out_dir)
        except (ProgrammeError, TemplateError) as exc:
            where = folder / "programme.yaml" if isinstance(exc, TemplateError) else None
            _error(f"已跳过项目 {name}：{f'{where} 中' if where else ''}{exc.zh}",
                   f"programme {name} skipped: {f'in {where}: ' if where else ''}{exc.en}")
            skipped += 1
            continue
        except OSError as exc:
            _fail(f"无法写入 {exc.filename or out_dir}：{exc.strerror}。",
                  f"cannot write {exc.filename or out_dir}: {exc.strerror}.")  # fmt: skip
        where = paths[0].parent if paths else out_dir
        out.print(f"{name}：已写出 {len(paths)} 份区县空白报送表，在 {where}" if zh
                  else f"{name}: {len(paths)} blank county workbooks in {where}",
                  soft_wrap=True)  # fmt: skip
    if skipped:
        raise typer.Exit(1)


@app.command()
def demo(raw: Path = RAW, db: Path = DB, out_dir: Path = OUT) -> None:
    """写入内置样例（若不存在），然后运行 `run`。 / Write the bundled sample (if absent), then `run`."""
    from jixiao.sample.generate import sample_folder, write_sample

    if not sample_folder(raw).exists():
        folder = write_sample(raw)
        out.print(
            f"已写入内置样例：{folder}" if _lang["value"] == "zh" else f"sample written: {folder}"
        )
    _run(raw, db, out_dir)


if __name__ == "__main__":
    sys.exit(app())
