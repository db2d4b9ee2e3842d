"""What a user reads, in Chinese and in English (``--lang``): a phrase (``Said``) and an error
whose text reaches the CLI, the run log or an output (``SaidError``). Every layer raises
them, so they live here, low in the tree."""

from __future__ import annotations

from typing import NamedTuple


class Said(NamedTuple):
    """A phrase a user reads (a page not read, why a file was refused, a note on how a sheet
    was read), in Chinese and in English, for outputs in either (``--lang``)."""

    zh: str
    en: str

    def __call__(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


class SaidError(Exception):
    """An error told to a user, in Chinese (``zh``) and in English (``en``); ``said(lang)``
    picks one. Its text (``str``) is the Chinese until ``told_in`` makes it a run's language,
    for what shows the exception itself (Prefect's log lines and run states)."""

    def __init__(self, zh: str, en: str):
        super().__init__(zh)
        self.zh, self.en = zh, en

    def said(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    def told_in(self, lang: str) -> None:
        self.args = (self.said(lang),)


class Invalid(SaidError, ValueError):
    """A declaration that fails a validator (pydantic passes a ValueError on as its error, and
    keeps the exception itself, so both languages reach the message)."""
