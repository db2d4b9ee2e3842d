"""Files people read are written whole or not at all."""

from __future__ import annotations

import os
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


def write_atomic(path: Path, text: str) -> None:
    """A reader (a county, an analyst) never opens half a file."""
    with blamed_on(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
