"""Feedback to a county: what to fix in a refused file, row by row, in Chinese.

Beside each refused file's page (Markdown) stand the same page as HTML that prints on A4,
and the county's own workbook marked cell by cell (publish.marked), all under one stem."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from urllib.parse import quote

from jixiao.ingest.discover import Submission, split_version
from jixiao.ingest.problems import Problem
from jixiao.publish.files import under, write_atomic
from jixiao.publish.findings import colgroup, md_table, md_text, page
from jixiao.publish.marked import mark_workbook

LIMIT = 1000  # rows listed; a file with more problems says how many are not shown
# Bytes in a page's name: 255 (ext4, xfs, btrfs) less the ".tmp" write_atomic writes first.
NAME_MAX = 255 - len(".tmp")
# Beside feedback/: the pages of files whose county cannot be told (`feedback_path`).
UNASSIGNED = "unassigned"
HEAD = {"zh": ("序号", "工作表", "行", "列", "单元格", "单元格内容", "问题"),
        "en": ("#", "sheet", "row", "column", "cell", "value", "problem")}  # fmt: skip
MARKED = ".标注.xlsx"  # the marked copy: <page stem>.标注.xlsx (publish.marked)
# Bytes a page's name keeps free for the longest of its files' endings.
SUFFIX_BYTES = max(len(s.encode()) for s in (".md", ".html", MARKED))


def feedback_path(feedback_dir: Path, county: str | None, year: int, programme_code: str,
                  file: str) -> Path:  # fmt: skip
    """One page per submitted file of a programme and year: its path under counties/
    flattened, so that `530102/visits.csv` and `五华区/visits.csv` never share a page. A
    county's pages are under ``feedback_dir/<county>/``; the page of a file whose county
    cannot be told is the operator's, under ``unassigned/`` beside ``feedback_dir``, where no
    county would look for it and the run summary and the report's coverage point to it.

    A name too long to carry ``.md`` or the endings of the files beside the page
    (`feedback_files`; a submitted name may take all of the 255 bytes a name has) is cut and
    marked with a hash of the whole, so two such files still get two pages."""
    flat = "_".join(Path(file).parts[1:]) or Path(file).name
    raw = flat.encode("utf-8", "surrogateescape")  # the bytes the name has on disk
    if len(raw) + SUFFIX_BYTES > NAME_MAX:
        mark = "~" + hashlib.sha256(raw).hexdigest()[:16]
        flat = raw[: NAME_MAX - len(mark) - SUFFIX_BYTES].decode("utf-8", "ignore") + mark
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


def _page(file: str, programme_name: str, problems: list[Problem], lang: str, marked: str | None,
          unassigned: bool) -> tuple[str, list[str], list[tuple[str, ...]], str | None]:  # fmt: skip
    """What a page says, as plain text: its title, its paragraphs, its table's rows, and the
    line counting the problems not listed; `render` and `render_html` escape and lay it out.
    An ``unassigned`` page (the file's county cannot be told) tells the operator how to hand
    the file to its county."""
    zh = lang == "zh"
    resubmit = next_version(file)
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
    lines = (
        [f"项目：{programme_name}", f"该文件未被接收，共发现 {len(problems)} 处问题。{todo}"]
        if zh
        else [f"Programme: {programme_name}",
              f"The file was not accepted: {len(problems)} problem(s). {todo}"]
    )  # fmt: skip
    if marked:
        lines.append(
            f"标注副本 {marked}（与本说明同一文件夹）是贵单位所报文件的副本：每处有问题的单元格"
            "已标成浅红色，并附批注说明问题和修改要求；第一张工作表「问题清单」列出全部问题，"
            "点击位置即可跳到对应单元格。副本只用于查找问题，请在原文件中修改后按上述文件名重新报送。"
            if zh
            else f"The marked copy {marked} (in this folder) is a copy of the submitted file: "
            "each problem cell is filled light red with a comment saying what to fix, and its "
            "first sheet lists every problem with a link to its cell. Use it to find the "
            "problems; fix the original file and resubmit it under the name above."
        )
    rows = [(str(i), p.sheet or "", str(p.row or ""), p.column or "", p.cell or "", p.value or "",
             p.message(lang)) for i, p in enumerate(problems[:LIMIT], 1)]  # fmt: skip
    more = len(problems) - LIMIT
    tail = (f"另有 {more} 处问题未列出。" if zh else f"{more} more problem(s) not listed.") if more > 0 else None
    title = f"报送文件退回说明：{file}" if zh else f"Returned submission: {file}"
    return title, lines, rows, tail


def render(file: str, programme_name: str, problems: list[Problem], lang: str = "zh",
           marked: str | None = None, unassigned: bool = False) -> str:  # fmt: skip
    """The page, every text from the file or programme.yaml escaped for Markdown (md_text):
    the county sees what it typed, never a live link, image or piece of HTML. The problems
    come masked (ingest.intake.mask); ``marked`` names the marked copy beside the page."""
    title, lines, rows, tail = _page(file, programme_name, problems, lang, marked, unassigned)
    out = [f"# {md_text(title)}", ""]
    for line in lines:
        out += [md_text(line), ""]
    out += md_table(HEAD[lang], rows)
    if tail:
        out += ["", tail]
    return "\n".join(out) + "\n"


# A4, table heads repeated, rows never split: the shared style's (publish.findings.CSS).
WIDTHS = (6, 10, 6, 13, 8, 20, 37)


def render_html(file: str, programme_name: str, problems: list[Problem], lang: str = "zh",
                marked: str | None = None, unassigned: bool = False) -> str:  # fmt: skip
    """The page as one HTML file that prints well on A4 and needs no network, every text
    escaped; the marked copy linked by its name, beside the page."""
    esc = html.escape
    title, lines, rows, tail = _page(file, programme_name, problems, lang, marked, unassigned)
    body = [f"<h1>{esc(title)}</h1>", f'<p class="meta">{esc(lines[0])}</p>']
    body += [f"<p>{esc(line)}</p>" for line in lines[1:]]
    if marked:
        body.append(f'<p><a href="{esc(quote(marked))}">{esc(marked)}</a></p>')
    head = "".join(f"<th>{esc(h)}</th>" for h in HEAD[lang])
    cells = ("".join(f"<td>{esc(c)}</td>" for c in row) for row in rows)
    body.append(f'<table class="fixed problems">{colgroup(WIDTHS)}<thead><tr>{head}</tr>'
                f"</thead><tbody>{''.join(f'<tr>{c}</tr>' for c in cells)}</tbody></table>")  # fmt: skip
    if tail:
        body.append(f"<p>{esc(tail)}</p>")
    return page(title, "\n".join(body), lang, ".problems{font-size:.92em}")


def feedback_files(path: Path) -> tuple[Path, Path, Path]:
    """A page's HTML twin and marked copy, and the page itself (last: removed last, so that a
    page on disk says its companions may be too)."""
    stem = path.name.removesuffix(".md")
    return path.with_name(stem + ".html"), path.with_name(stem + MARKED), path


def write_feedback(path: Path, sub: Submission, sha256: str, programme_name: str,
                   problems: list[Problem], lang: str = "zh", unassigned: bool = False) -> None:  # fmt: skip
    """The refusal of ``sub`` (its bytes hashing to ``sha256``, as read) beside ``path``: the
    marked copy of the county's file when one can be made (an earlier one goes when not), the
    HTML page, and the Markdown page ``path`` last, each written whole."""
    html_path, marked_path, _ = feedback_files(path)
    marked = mark_workbook(sub.path, sub.kind, problems[:LIMIT], marked_path, sha256=sha256,
                           lang=lang, unlisted=len(problems) - LIMIT)  # fmt: skip
    if marked is None:
        marked_path.unlink(missing_ok=True)
    name = marked.name if marked else None
    write_atomic(html_path, render_html(sub.rel, programme_name, problems, lang, name, unassigned))
    write_atomic(path, render(sub.rel, programme_name, problems, lang, name, unassigned))
