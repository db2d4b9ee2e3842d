"""Find what was submitted: programmes under data/raw and the county files of each.

What is and is not a submission, decided here from names and file types alone:

- a regular file under ``counties/`` is one, whatever its name: one named as no template
  says (``.530103.xlsx``, ``Thumbs.db``, ``530103.v3000000000.xlsx``) is refused with the
  reason, so the county hears of it, rather than dropped without a word;
- a symbolic link to a file is one too, and the readers refuse it as FILE.UNSAFE (they open
  with O_NOFOLLOW);
- lock files (``~$530103.xlsx`` from Excel or WPS, ``.~lock.visits.csv#`` from LibreOffice,
  written beside a file while it is open) are not: skipped, and the log says so;
- nor is anything that is not a regular file: a folder behind a symbolic link (its files
  could be anywhere; it is not entered), a FIFO or a device; skipped, and the log says so.

Only ``counties/`` holds submissions: the findings workbooks auditors return into
``reviews/`` (SPEC §3.2) are found by ``review_workbooks`` and read by ingest.reviews.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jixiao.ingest.normalise import clean_text
from jixiao.ingest.personal import mask_text
from jixiao.schemas.contracts import Template

log = logging.getLogger(__name__)

# A name is stem plus an optional .vN.
_VERSION = re.compile(r"(?P<stem>.+?)(?:\.v(?P<version>\d+))?")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LOCK_FILES = ("~$", ".~lock.")  # Excel and WPS; LibreOffice
MAX_VERSION = 2**31 - 1  # ingest_log.version is an INTEGER; no county writes more
WORKBOOKS = (".xlsx", ".xls")  # a county's whole submission in one file; .xls: Excel 97-2003


@dataclass(frozen=True)
class Submission:
    """One county file as found on disk; the unit that is accepted or refused."""

    path: Path
    rel: str  # path under the programme folder, as logged and shown
    county_text: str  # county code or name as the file path gives it
    version: int
    kind: str  # "xlsx" | "xls" (Excel 97-2003) | "csv" | "unknown"
    sheet: str | None  # CSV: the sheet key its name gives (None when not understood)



def programme_dirs(raw_root: Path) -> list[Path]:
    """Every data/raw/<year>/<programme>/ that holds a programme.yaml, in a stable order."""
    return sorted(p.parent for p in raw_root.glob("*/*/programme.yaml"))


def split_version(name: str) -> tuple[str, int | None]:
    """(stem, version); version None when the name's .vN is too large to be one."""
    m = _VERSION.fullmatch(name)
    version = int(m["version"] or 1)
    return m["stem"], version if version <= MAX_VERSION else None


@functools.lru_cache(maxsize=1 << 14)  # the same names recur in every county's folder
def _text(name: str) -> str:
    """A name as text to log and show, on one line. Names are bytes on Linux: a zip made on
    Chinese Windows unpacks to GB18030 names that are not UTF-8 (they would reach the
    warehouse as lone surrogates). Control characters and bidirectional overrides are
    shown escaped (``\\n``), so that a name cannot break a message, a log line or a page."""
    raw = os.fsencode(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", "replace")
        # GB18030 decodes most bytes; private-use characters say these were not GB18030.
        if "\ufffd" in text or any(unicodedata.category(c) == "Co" for c in text):
            text = raw.decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(lambda m: ascii(m[0])[1:-1], text)


def _skipped(entry: os.DirEntry | Path, rel: str, lang: str) -> bool:
    """Not a submission (see the module's docstring); logs why in ``lang`` (the path masked
    like any text, personal.mask_text), except for plain folders."""
    zh = lang == "zh"
    if entry.is_file():  # follows a link: a link to a regular file is listed, then refused
        if not entry.name.startswith(_LOCK_FILES):
            return False
        log.info("跳过 %s：Office 锁定文件（打开文件时自动生成），不是报送文件" if zh
                 else "%s passed over: an Office lock file (made when a file is open), not a "
                 "submission", mask_text(rel))  # fmt: skip
    elif entry.is_symlink():
        log.warning("跳过 %s：指向文件夹或非普通文件的符号链接，不予跟随" if zh
                    else "%s passed over: a symbolic link to a folder or to no regular file, "
                    "not followed", mask_text(rel))  # fmt: skip
    elif not entry.is_dir():
        log.warning("跳过 %s：不是普通文件（如管道或设备文件）" if zh
                    else "%s passed over: not a regular file (a pipe or a device, say)",
                    mask_text(rel))  # fmt: skip
    return True


def _entries(folder: Path, parts: tuple[str, ...]) -> Iterator[tuple[os.DirEntry, Path, tuple[str, ...]]]:
    """Everything under ``folder``, depth first in name order (as sorted ``rglob("*")``
    gives it, and as cheaply as a night with nothing changed needs: a national year is some
    15,000 files): each entry with its path and its path's parts as text (``_text``). A
    folder behind a symbolic link is not entered; one that cannot be listed is passed over."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except PermissionError:
        return
    for entry in entries:
        path, here = folder / entry.name, (*parts, _text(entry.name))
        yield entry, path, here
        if entry.is_dir(follow_symlinks=False):
            yield from _entries(path, here)


def review_workbooks(programme_dir: Path, lang: str = "zh") -> list[tuple[Path, str]]:
    """The .xlsx files directly under reviews/, with their paths as shown, by name; lock
    files, links to folders and the like are passed over as under counties/."""
    found = []
    folder = programme_dir / "reviews"
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        rel = "/".join(_text(p) for p in path.relative_to(programme_dir).parts)
        if not _skipped(path, rel, lang) and path.suffix.lower() == ".xlsx":
            found.append((path, rel))
    return found


def submissions(programme_dir: Path, template: Template, lang: str = "zh") -> list[Submission]:
    """County files under counties/, ordered so that v1 comes before v2 and sheets
    referenced by others come first; a CSV is named by a sheet of the programme's template.
    What is passed over is logged in ``lang``."""
    counties = programme_dir / "counties"
    found = []
    # By the name's stem: every county names its CSVs the same way.
    sheet_of = functools.cache(lambda stem: getattr(template.by_name.get(clean_text(stem) or ""),
                                                    "key", None))  # fmt: skip
    for entry, path, parts in _entries(counties, ()) if counties.is_dir() else []:
        rel = "/".join(("counties", *parts))
        if _skipped(entry, rel, lang):
            continue
        name = parts[-1]
        dot = name.rfind(".")  # as Path(name).suffix, without a Path for every file
        suffix = name[dot:].lower() if 0 < dot < len(name) - 1 else ""
        stem, version = split_version(name[: -len(suffix)] if suffix else name)
        # A hidden name, or a version no county writes, is refused as a name (FILE.NAME), to
        # the county it names if any.
        kind = "unknown" if name.startswith(".") or version is None else None
        version = 1 if version is None else version
        if len(parts) == 1 and suffix in WORKBOOKS:
            county = stem.lstrip(".") or name
            found.append(Submission(path, rel, county, version, kind or suffix[1:], None))
        elif len(parts) == 2 and suffix == ".csv":
            sheet = None if kind else sheet_of(stem)
            found.append(Submission(path, rel, parts[0], version, kind or "csv", sheet))
        else:
            county = parts[0] if len(parts) > 1 else stem.lstrip(".") or name
            found.append(Submission(path, rel, county, version, "unknown", None))
    order = template.order
    return sorted(found, key=lambda s: (s.county_text, s.version, order.get(s.sheet or "", -1),
                                        s.rel))  # fmt: skip
