"""Files people read are written whole or not at all, and only where they belong."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def blamed_on(path: Path) -> Iterator[None]:
    """An OSError that names no file (a write() on a full disk names none) is about ``path``,
    so that the one-sentence error says which path failed."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise


def write_atomic(path: Path, data: str | bytes) -> None:
    """A reader (a county, an analyst) never opens half a file; text is written as UTF-8."""
    with blamed_on(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)


def under(root: Path, *parts: str) -> Path:
    """``root`` joined with ``parts``, each one name that came from an input (a programme
    code, a county, a year): refused if any would lead out of ``root``. Inputs are validated
    where they enter; this is the check at the point of writing."""
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\0" in part:
            raise ValueError(f"unsafe path part {part!r} under {root}")
    return root.joinpath(*parts)


def stable_zip(data: bytes) -> bytes:
    """A zip (an .xlsx, a .docx) rewritten with fixed member times: the libraries writing them
    stamp each member with the clock, and the same inputs must give the same bytes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            member.create_system = 0  # same bytes on every platform
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


def workbook_bytes(book) -> bytes:
    """An openpyxl workbook's bytes, the same for the same inputs: openpyxl's own save stamps
    the time into the document properties and every zip member."""
    from openpyxl.writer.excel import ExcelWriter

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    return stable_zip(buffer.getvalue())
