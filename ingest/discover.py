"""Find what was submitted: programmes under data/raw and the county files of each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from schemas.contracts import SHEETS

_VERSION = re.compile(r"^(?P<stem>.+?)(?:\.v(?P<version>\d+))?$")
_SHEET_BY_NAME = {name: key for key, s in SHEETS.items() for name in (key, s.title)}
_ORDER = {key: i for i, key in enumerate(SHEETS)}


@dataclass(frozen=True)
class Submission:
    """One county file as found on disk; the unit that is accepted or refused."""

    path: Path
    rel: str  # path under the programme folder, as logged and shown
    county_text: str  # county code or name as the file path gives it
    version: int
    kind: str  # "xlsx" | "csv" | "unknown"
    sheet: str | None  # CSV: the sheet key its name gives (None when not understood)

    @property
    def sort_key(self) -> tuple:
        return (self.county_text, self.version, _ORDER.get(self.sheet or "", -1), self.rel)


def programme_dirs(raw_root: Path) -> list[Path]:
    """Every data/raw/<year>/<programme>/ that holds a programme.yaml, in a stable order."""
    return sorted(p.parent for p in raw_root.glob("*/*/programme.yaml"))


def _split_version(name: str) -> tuple[str, int]:
    m = _VERSION.match(name)
    return m["stem"], int(m["version"] or 1)


def submissions(programme_dir: Path) -> list[Submission]:
    """County files under counties/, ordered so that v1 comes before v2 and sheets
    referenced by others come first. Hidden files and Office lock files are not submissions."""
    counties = programme_dir / "counties"
    found = []
    for path in sorted(counties.rglob("*")) if counties.is_dir() else []:
        if not path.is_file() or path.name.startswith((".", "~$")):
            continue
        rel = path.relative_to(programme_dir).as_posix()
        parts = path.relative_to(counties).parts
        suffix = path.suffix.lower()
        stem, version = _split_version(path.name[: -len(path.suffix)] if path.suffix else path.name)
        if len(parts) == 1 and suffix == ".xlsx":
            found.append(Submission(path, rel, stem, version, "xlsx", None))
        elif len(parts) == 2 and suffix == ".csv":
            found.append(Submission(path, rel, parts[0], version, "csv", _SHEET_BY_NAME.get(stem)))
        else:
            found.append(
                Submission(
                    path, rel, parts[0] if len(parts) > 1 else stem, version, "unknown", None
                )
            )
    return sorted(found, key=lambda s: s.sort_key)
