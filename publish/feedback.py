"""Feedback to a county: what to fix in a refused file, row by row, in Chinese."""

from __future__ import annotations

import hashlib
from pathlib import Path

from jixiao.ingest.discover import split_version
from jixiao.ingest.problems import Problem
from jixiao.publish.files import under
from jixiao.publish.findings import md_table, md_text

LIMIT = 1000  # rows listed; a file with more problems says how many are not shown
# Bytes in a page's name: 255 (ext4, xfs, btrfs) less the ".tmp" write_atomic writes first.
NAME_MAX = 255 - len(".tmp")
# Beside feedback/: the pages of files whose county cannot be told (`feedback_path`).
UNASSIGNED = "unassigned"
HEAD = {"zh": ("序号", "工作表", "行", "列", "单元格内容", "问题"),
        "en": ("#", "sheet", "row", "column", "cell", "problem")}  # fmt: skip


def feedback_path(feedback_dir: Path, county: str | None, year: int, programme_code: str,
                  file: str) -> Path:  # fmt: skip
    """One page per submitted file of a programme and year: its path under counties/
    flattened, so that `530102/visits.csv` and `五华区/visits.csv` never share a page. A
    county's pages are under ``feedback_dir/<county>/``; the page of a file whose county
    cannot be told is the operator's, under ``unassigned/`` beside ``feedback_dir``, where no
    county would look for it and the run summary and the report's coverage point to it.

    A name too long to carry ``.md`` (a submitted name may take all of the 255 bytes a name
    has) is cut and marked with a hash of the whole, so two such files still get two pages."""
    flat = "_".join(Path(file).parts[1:]) or Path(file).name
    raw = flat.encode("utf-8", "surrogateescape")  # the bytes the name has on disk
    if len(raw) + len(".md") > NAME_MAX:
        mark = "~" + hashlib.sha256(raw).hexdigest()[:16]
        flat = raw[: NAME_MAX - len(mark) - len(".md")].decode("utf-8", "ignore") + mark
    place = (feedback_dir, county) if county else (feedback_dir.parent, UNASSIGNED)
    return under(*place, str(year), programme_code, flat + ".md")


def page_name(feedback_dir: Path, page: Path) -> str:
    """What ingest_log.feedback_file keeps of a page `feedback_path` gave: its path under
    ``feedback_dir``, or ``unassigned/…`` for the operator's (`page_file` reads it back)."""
    root = feedback_dir if page.is_relative_to(feedback_dir) else feedback_dir.parent
    return page.relative_to(root).as_posix()


def page_file(feedback_dir: Path, name: str) -> Path:
    """The page an ingest_log.feedback_file names (`page_name`)."""
    parts = name.split("/")
    return under(feedback_dir.parent if parts[0] == UNASSIGNED else feedback_dir, *parts)


def next_version(file: str) -> str:
    """The name a resubmission takes (``counties/530102.xlsx`` → ``530102.v2.xlsx``,
    ``counties/530112/visits.v2.csv`` → ``530112/visits.v3.csv``), under counties/."""
    path = Path(file)
    stem, version = split_version(path.stem)
    name = f"{stem}.v{(version or 1) + 1}{path.suffix}"
    return "/".join([*path.parts[1:-1], name])


def render(file: str, programme_name: str, problems: list[Problem], lang: str = "zh",
           unassigned: bool = False) -> str:  # fmt: skip
    """The page, every text from the file or programme.yaml escaped for Markdown (md_text):
    the county sees what it typed, never a live link, image or piece of HTML. The problems
    come masked (ingest.intake.mask). An ``unassigned`` page (the file's county cannot be
    told) tells the operator how to hand the file to its county."""
    zh = lang == "zh"
    file, programme_name, resubmit = md_text(file), md_text(programme_name), md_text(next_version(file))
    todo = (
        "无法从文件名识别它属于哪个区县，因此本说明不在任何区县的反馈目录中。请核实其所属区县，"
        "将其以区县代码命名（「区县代码.xlsx」）放入 counties 文件夹；原文件不必删除，同样内容的文件"
        "被接收后，本说明随之撤下。"
        if zh
        else "No county can be told from its name, so this page is in no county's feedback "
        "folder. Find out whose it is and save it under counties/ named by the county's code "
        "(the code, then .xlsx); the original may stay: once a file of the same content is "
        "accepted, this page is withdrawn."
    ) if unassigned else (
        f"请逐条修改后重新报送（改好后另存为 {resubmit} 放回 counties 文件夹，作为新版本整体替代本文件）。"
        if zh
        else f"Fix each and resubmit (save the corrected file as {resubmit} under counties/: it "
        "replaces this one)."
    )  # fmt: skip
    head = (
        [
            f"# 报送文件退回说明：{file}",
            "",
            f"项目：{programme_name}",
            "",
            f"该文件未被接收，共发现 {len(problems)} 处问题。{todo}",
            "",
        ]
        if zh
        else [
            f"# Returned submission: {file}",
            "",
            f"Programme: {programme_name}",
            "",
            f"The file was not accepted: {len(problems)} problem(s). {todo}",
            "",
        ]
    )
    rows = md_table(
        HEAD[lang],
        [(str(i), p.sheet or "", str(p.row or ""), p.column or "", p.value or "", p.message(lang))
         for i, p in enumerate(problems[:LIMIT], 1)],
    )  # fmt: skip
    tail = []
    if len(problems) > LIMIT:
        more = len(problems) - LIMIT
        tail = ["", f"另有 {more} 处问题未列出。" if zh else f"{more} more problem(s) not listed."]
    return "\n".join(head + rows + tail) + "\n"
