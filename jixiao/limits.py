"""How big an input may be: limits the readers enforce before any heavy work.

A county file is a few MB at most, a self-evaluation report a few hundred KB, a
programme.yaml a few KB and its metrics a second; anything far larger is a mistake or an
attack, and reading it would cost the night's run its time or
its memory. Each limit has a default sized well above any real submission and an
environment variable to change it:

| variable | default | what it bounds |
|---|---|---|
| `JIXIAO_MAX_FILE_MB` | 50 | a file's size on disk (a county xlsx or CSV, a .docx, .pdf or .xlsx report) |
| `JIXIAO_MAX_UNPACKED_MB` | 200 | an xlsx's or docx's parts together, or a pdf's streams, uncompressed (bombs) |
| `JIXIAO_MAX_ZIP_ENTRIES` | 2000 | parts (zip entries) in one xlsx or docx package |
| `JIXIAO_MAX_SHEETS` | 50 | sheets in one workbook |
| `JIXIAO_MAX_ROWS` | 100000 | rows of one sheet or CSV (the last row holding a value) |
| `JIXIAO_MAX_COLUMNS` | 256 | columns of one sheet or CSV (the last column holding a value) |
| `JIXIAO_MAX_CELLS` | 2000000 | cells of a workbook (each sheet's rows × columns, added up) or CSV |
| `JIXIAO_MAX_CELL_CHARS` | 32767 | characters in one cell (Excel's own limit) |
| `JIXIAO_MAX_LINE_KB` | 1024 | one physical line of a CSV, in KB |
| `JIXIAO_MAX_REPORT_TEXT_MB` | 4 | the report's text: a .txt's size on disk, a .docx's text as UTF-8 |
| `JIXIAO_MAX_REPORT_PARAGRAPHS` | 100000 | paragraphs of the report (a .txt's lines; a .docx's, empty and in tables too) |
| `JIXIAO_MAX_REPORT_TABLES` | 1000 | tables of the report |
| `JIXIAO_MAX_REPORT_CELLS` | 100000 | cells of the report's tables together (a merged cell: the columns it spans) |
| `JIXIAO_MAX_REPORT_LINE_CHARS` | 100000 | characters in one line, paragraph or table cell of the report |
| `JIXIAO_MAX_REPORT_ELEMENTS` | 1000000 | XML elements in a .docx report's parts (python-docx keeps each in memory) |
| `JIXIAO_MAX_REPORT_PAGES` | 500 | pages of a .pdf report (each is laid out: about 0.1 s a page) |
| `JIXIAO_MAX_PROGRAMME_KB` | 1024 | a programme.yaml's size on disk, in KB |
| `JIXIAO_MAX_METRIC_SECONDS` | 60 | the time one metric's SQL may run, in seconds |
| `JIXIAO_MAX_METRIC_MB` | 2048 | the memory of the database a programme's metrics run in, in MB |

``Limits.from_env()`` reads them; a variable that is not a positive whole number is
ignored with a warning (the default is the safe value). ``markdown_table()`` renders the
table above from the code, for the README.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

log = logging.getLogger(__name__)

PREFIX = "JIXIAO_MAX_"


@dataclass(frozen=True)
class Limits:
    """Upper bounds for one input; every value a positive integer."""

    file_mb: int = 50
    """JIXIAO_MAX_FILE_MB: a file's size on disk (a county xlsx or CSV, a .docx, .pdf or .xlsx report)."""
    unpacked_mb: int = 200
    """JIXIAO_MAX_UNPACKED_MB: an xlsx's or docx's parts together, or a pdf's streams, uncompressed (bombs)."""
    zip_entries: int = 2000
    """JIXIAO_MAX_ZIP_ENTRIES: parts (zip entries) in one xlsx or docx package."""
    sheets: int = 50
    """JIXIAO_MAX_SHEETS: sheets in one workbook."""
    rows: int = 100_000
    """JIXIAO_MAX_ROWS: rows of one sheet or CSV (the last row holding a value)."""
    columns: int = 256
    """JIXIAO_MAX_COLUMNS: columns of one sheet or CSV (the last column holding a value)."""
    cells: int = 2_000_000
    """JIXIAO_MAX_CELLS: cells of a workbook (each sheet's rows × columns, added up) or CSV."""
    cell_chars: int = 32_767
    """JIXIAO_MAX_CELL_CHARS: characters in one cell (Excel's own limit)."""
    line_kb: int = 1024
    """JIXIAO_MAX_LINE_KB: one physical line of a CSV, in KB."""
    # The report under audit (ingest/report.py). Reading and checking it takes time and
    # memory linear in its length: at the text limit about 4 s and 135 MB (bench/report_curve.py).
    report_text_mb: int = 4
    """JIXIAO_MAX_REPORT_TEXT_MB: the report's text: a .txt's size on disk, a .docx's text as UTF-8."""
    report_paragraphs: int = 100_000
    """JIXIAO_MAX_REPORT_PARAGRAPHS: paragraphs of the report (a .txt's lines; a .docx's, empty and in tables too)."""
    report_tables: int = 1000
    """JIXIAO_MAX_REPORT_TABLES: tables of the report."""
    report_cells: int = 100_000
    """JIXIAO_MAX_REPORT_CELLS: cells of the report's tables together (a merged cell: the columns it spans)."""
    report_line_chars: int = 100_000
    """JIXIAO_MAX_REPORT_LINE_CHARS: characters in one line, paragraph or table cell of the report."""
    report_elements: int = 1_000_000
    """JIXIAO_MAX_REPORT_ELEMENTS: XML elements in a .docx report's parts (python-docx keeps each in memory)."""
    report_pages: int = 500
    """JIXIAO_MAX_REPORT_PAGES: pages of a .pdf report (each is laid out: about 0.1 s a page)."""
    # programme.yaml and its metric SQL, run in a sandbox (scoring/metrics.py).
    programme_kb: int = 1024
    """JIXIAO_MAX_PROGRAMME_KB: a programme.yaml's size on disk, in KB."""
    metric_seconds: int = 60
    """JIXIAO_MAX_METRIC_SECONDS: the time one metric's SQL may run, in seconds."""
    metric_mb: int = 2048
    """JIXIAO_MAX_METRIC_MB: the memory of the database a programme's metrics run in, in MB."""

    @property
    def file_bytes(self) -> int:
        return self.file_mb << 20

    @property
    def unpacked_bytes(self) -> int:
        return self.unpacked_mb << 20

    @property
    def line_bytes(self) -> int:
        return self.line_kb << 10

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Defaults, each replaced by its ``JIXIAO_MAX_*`` variable when that is set and valid."""
        environ = os.environ if environ is None else environ
        values = {}
        for item in fields(cls):
            name = env_name(item.name)
            text = environ.get(name, "").strip()
            if not text:
                continue
            try:
                value = int(text.replace("_", ""))
            except ValueError:
                value = 0
            if value <= 0:
                log.warning(
                    "%s=%r is not a positive whole number; using %s", name, text, item.default
                )
                continue
            values[item.name] = value
        return cls(**values)


def env_name(field_name: str) -> str:
    """``file_mb`` -> ``JIXIAO_MAX_FILE_MB``."""
    return PREFIX + field_name.upper()


def markdown_table() -> str:
    """The limits as a Markdown table (variable, default, what it bounds), from the code."""
    docs = _field_docs()
    lines = ["| variable | default | what it bounds |", "|---|---|---|"]
    for item in fields(Limits):
        lines.append(f"| `{env_name(item.name)}` | {item.default} | {docs.get(item.name, '')} |")
    return "\n".join(lines) + "\n"


def _field_docs() -> dict[str, str]:
    """Each field's one-line docstring without its variable name."""
    import ast
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(Limits)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for node, after in zip(body, body[1:], strict=False):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
        ):
            docs[node.target.id] = str(after.value.value).partition(": ")[2].rstrip(".")
    return docs
