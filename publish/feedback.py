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
HEAD = {"zh": ("序号", "工作表", "行", "列", "单元格内容", "问题"),
        "en": ("#", "sheet", "row", "column", "cell", "problem")}  # fmt: skip


def feedback_path(feedback_dir: Path, county: str | None, year: int, programme_code: str,
                  file: str) -> Path:  # fmt: skip
    """One page per submitted file of a programme and year: its path under counties/
    flattened, so that `530102/visits.csv` and `五华区/visits.csv` never share a page.

    A name too long to carry ``.md`` (a submitted name may take all of the 255 bytes a name
    has) is cut and marked with a hash of the whole, so two such files still get two pages."""
    flat = "_".join(Path(file).parts[1:]) or Path(file).name
    raw = flat.encode("utf-8", "surrogateescape")  # the bytes the name has on disk
    if len(raw) + len(".md") > NAME_MAX:
        mark = "~" + hashlib.sha256(raw).hexdigest()[:16]
        flat = raw[: NAME_MAX - len(mark) - len(".md")].decode("utf-8", "ignore") + mark
    return under(feedback_dir, county or "unknown", str(year), programme_code, flat + ".md")


def next_version(file: str) -> str:
    """The name a resubmission takes (``counties/530102.xlsx`` → ``530102.v2.xlsx``,
    ``counties/530112/visits.v2.csv`` → ``530112/visits.v3.csv``), under counties/."""
    path = Path(file)
    stem, version = split_version(path.stem)
    name = f"{stem}.v{(version or 1) + 1}{path.suffix}"
    return "/".join([*path.parts[1:-1], name])


def render(file: str, programme_name: str, problems: list[Problem], lang: str = "zh") -> str:
    """The page, every text from the file or programme.yaml escaped for Markdown (md_text):
    the county sees what it typed, never a live link, image or piece of HTML. The problems
    come masked (ingest.intake.mask)."""
    zh = lang == "zh"
    file, programme_name, resubmit = md_text(file), md_text(programme_name), md_text(next_version(file))
    head = (
        [
            f"# 报送文件退回说明：{file}",
            "",
            f"项目：{programme_name}",
            "",
            f"该文件未被接收，共发现 {len(problems)} 处问题。请逐条修改后重新报送"
            f"（改好后另存为 {resubmit} 放回 counties 文件夹，作为新版本整体替代本文件）。",
            "",
        ]
        if zh
        else [
            f"# Returned submission: {file}",
            "",
            f"Programme: {programme_name}",
            "",
            f"The file was not accepted: {len(problems)} problem(s). Fix each and resubmit "
            f"(save the corrected file as {resubmit} under counties/: it replaces this one).",
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
