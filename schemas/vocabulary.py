"""The vocabulary that ties a report's figures to subjects, measures and roles.

Data, not code: ``vocabulary.yaml`` beside this file is the shared default (its header
documents the format), and a programme adds its own words in a ``vocabulary:`` block of
the same shape, merged over the default by ``load_vocabulary``. Nothing here knows about
job fairs: the claim extractor only asks the vocabulary.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from jixiao.said import Invalid

DEFAULT_PATH = Path(__file__).with_name("vocabulary.yaml")

KINDS = ("count", "money", "percent", "score", "date")
ROLES = ("target", "actual", "rate")
BOUNDS = (">=", "<=", "by")
MONEY = "money"  # a `columns:` value: money in the unit of the table's 单位： caption

_LISTS = ("not_subjects", "not_units", "idioms", "labels", "questions", "not_naming")
_KEYS = frozenset(
    {"scales", "subjects", "measures", "plain_units", "roles", "section_roles", "bounds"}
    | {"approximate", "columns", "achieved", *_LISTS}
)

# One character for one character, so a match in folded text is a match in the original.
_FOLD = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "％": "%",
        "﹪": "%",
        "．": ".",
        "＜": "<",
        "＝": "=",
        "＞": ">",
        "≧": "≥",
        "≦": "≤",
        "(": "（",
        ")": "）",
        "\u3000": " ",
        "\u00a0": " ",
    }
)


def fold(text: str) -> str:
    """Full-width digits, letters, ％ and ．to ASCII; ASCII parentheses to full-width.

    Length-preserving, so offsets found in folded text index the original. Commas are
    left alone on purpose: ``1，200`` is two figures in a list, ``1,200`` one number.
    """
    return text.translate(_FOLD)


class VocabularyError(Invalid):
    """A vocabulary block cannot be used: one sentence in Chinese and in English."""


@dataclass(frozen=True)
class Unit:
    written: str  # as in the report, folded: 名, 个县（市）区, %
    unit: str  # normalised: 人, 个, %
    kind: str  # count | money | percent | score
    measure: str | None


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    value: str  # what the word stands for: a subject id, a role, a measure, a unit …


class Lexicon:
    """Words standing for values, found leftmost-longest and without overlap."""

    def __init__(self, words: dict[str, str]):
        self.words = {w: v for w, v in words.items() if w}
        ordered = sorted(self.words, key=len, reverse=True)
        self._re = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def hits(self, text: str) -> list[Hit]:
        if self._re is None:
            return []
        return [Hit(m.start(), m.end(), self.words[m.group()]) for m in self._re.finditer(text)]

    def rightmost(self, text: str) -> str | None:
        """The value of the last word: in a Chinese noun phrase the head comes last."""
        hits = self.hits(text)
        return hits[-1].value if hits else None

    def starts(self, text: str, pos: int) -> Hit | None:
        """The longest word beginning exactly at ``pos``."""
        if self._re is None:
            return None
        m = self._re.match(text, pos)
        return Hit(m.start(), m.end(), self.words[m.group()]) if m else None

    def alternation(self) -> str:
        return "|".join(map(re.escape, sorted(self.words, key=len, reverse=True)))


@dataclass(frozen=True)
class Vocabulary:
    data: dict[str, Any]  # the merged, canonical vocabulary (see vocabulary.yaml)
    subjects: Lexicon  # keyword → subject id ("" for a not_subjects phrase)
    # subject id → the figure kinds for which it only qualifies (None: every kind)
    generic: dict[str, frozenset[str] | None]
    units: dict[str, Unit]  # written unit → Unit
    unit_words: Lexicon  # written unit → itself
    scales: dict[str, int]
    measure_cues: Lexicon  # cue → measure id
    cue_kinds: dict[str, str | None]  # measure id → the only kind its cues apply to
    roles: Lexicon  # cue → role
    section_roles: tuple[tuple[str, Lexicon, Lexicon], ...]  # role, cues, exceptions
    bounds_before: Lexicon  # cue → bound
    bounds_after: Lexicon
    approximate_before: tuple[str, ...]
    approximate_after: tuple[str, ...]
    not_units: tuple[str, ...]
    idioms: tuple[str, ...]
    columns: Lexicon  # header word → written unit, or MONEY
    labels: tuple[str, ...]
    questions: tuple[str, ...]
    achieved: Lexicon  # phrase → itself: text saying the targets were met
    achieved_except: tuple[str, ...]  # words by which a paragraph admits a shortfall
    achieved_met: Lexicon  # words by which a sentence calls the indicator it states met
    not_naming: tuple[str, ...]  # words every indicator's name may hold: they name none

    def is_generic(self, subject: str, kind: str) -> bool:
        """Whether the subject only qualifies a figure of this kind (经费 for money)."""
        if subject not in self.generic:
            return False
        kinds = self.generic[subject]
        return kinds is None or kind in kinds

    def subject_hits(self, text: str) -> list[Hit]:
        """Subject keywords in folded ``text``; a not_subjects phrase hides those inside it."""
        return [h for h in self.subjects.hits(text) if h.value]

    def section_role(self, headings: tuple[str, ...]) -> str | None:
        for role, cues, exceptions in self.section_roles:
            for heading in headings:
                text = fold(heading)
                if cues.hits(text) and not exceptions.hits(text):
                    return role
        return None


def load_vocabulary(extra: dict[str, Any] | None = None) -> Vocabulary:
    """The shared vocabulary, with a programme's own ``vocabulary:`` block merged over it.

    ``extra`` is that block (the same shape as vocabulary.yaml); a whole programme
    mapping holding a ``vocabulary`` key is accepted too. Raises VocabularyError.
    """
    data = copy.deepcopy(_default())
    if extra:
        if isinstance(extra, dict) and isinstance(extra.get("vocabulary"), dict):
            extra = extra["vocabulary"]
        _merge(data, _canonical(extra))
    return _build(data)


@functools.cache
def _default() -> dict[str, Any]:
    with DEFAULT_PATH.open(encoding="utf-8") as f:
        return _canonical(yaml.safe_load(f) or {})


def _words(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | int | float):
        value = [value]
    if not isinstance(value, list):
        raise VocabularyError(f"词表「{where}」应为词语列表。",
                              f"the vocabulary's '{where}' should be a list of words.")
    return [fold(str(v)) for v in value if str(v)]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise VocabularyError(f"词表「{where}」应为映射（键: 值）。",
                              f"the vocabulary's '{where}' should be a mapping (key: value).")
    return value


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise VocabularyError(f"词表「{where}」的取值「{value}」无效，应为：{'、'.join(allowed)}。",
                              f"the vocabulary's '{where}' cannot be '{value}'; it should be one "
                              f"of: {', '.join(allowed)}.")  # fmt: skip
    return value


def _generic(value: Any, sid: str) -> bool | list[str]:
    """``generic: true`` (a qualifier for every figure) or a list of the kinds it qualifies."""
    if isinstance(value, bool):
        return value
    return [_choice(k, (*KINDS, "number"), f"subjects.{sid}.generic") for k in _words(value, sid)]


def _canonical(raw: Any) -> dict[str, Any]:
    """Any accepted spelling of a vocabulary block → one canonical shape, validated."""
    raw = _mapping(raw, "vocabulary")
    unknown = sorted(set(map(str, raw)) - _KEYS)
    if unknown:
        raise VocabularyError(
            f"词表中有未知的键「{'、'.join(unknown)}」，可用的键为：{'、'.join(sorted(_KEYS))}。",
            f"the vocabulary has unknown keys '{', '.join(unknown)}'; its keys: "
            f"{', '.join(sorted(_KEYS))}.",
        )
    out: dict[str, Any] = {}
    if "scales" in raw:
        scales = _mapping(raw["scales"], "scales")
        if not all(isinstance(v, int) for v in scales.values()):
            raise VocabularyError("词表「scales」的值应为整数（10 的幂次）。",
                                  "the vocabulary's 'scales' should be integers (powers of 10).")
        out["scales"] = {fold(str(k)): v for k, v in scales.items()}
    if "subjects" in raw:
        out["subjects"] = {}
        for sid, spec in _mapping(raw["subjects"], "subjects").items():
            if not isinstance(spec, dict):
                spec = {"keywords": spec}
            out["subjects"][str(sid)] = {
                "keywords": _words(spec.get("keywords"), f"subjects.{sid}"),
                **({"generic": _generic(spec["generic"], sid)} if "generic" in spec else {}),
            }
    if "measures" in raw:
        out["measures"] = {}
        for mid, spec in _mapping(raw["measures"], "measures").items():
            spec = _mapping(spec, f"measures.{mid}")
            units = spec.get("units")
            if isinstance(units, dict):
                units = {fold(str(k)): fold(str(v)) for k, v in units.items()}
            else:
                units = {w: w for w in _words(units, f"measures.{mid}.units")}
            entry: dict[str, Any] = {"units": units, "cues": _words(spec.get("cues"), mid)}
            if "kind" in spec:
                entry["kind"] = _choice(spec["kind"], KINDS, f"measures.{mid}.kind")
            out["measures"][str(mid)] = entry
    if "plain_units" in raw:
        out["plain_units"] = {
            fold(str(w)): _choice(k, KINDS, f"plain_units.{w}")
            for w, k in _mapping(raw["plain_units"], "plain_units").items()
        }
    for key in _LISTS:
        if key in raw:
            out[key] = _words(raw[key], key)
    if "roles" in raw:
        out["roles"] = {
            _choice(r, ROLES, "roles"): _words(cues, f"roles.{r}")
            for r, cues in _mapping(raw["roles"], "roles").items()
        }
    if "section_roles" in raw:
        out["section_roles"] = {}
        for role, spec in _mapping(raw["section_roles"], "section_roles").items():
            spec = _mapping(spec, f"section_roles.{role}")
            out["section_roles"][_choice(role, ROLES, "section_roles")] = {
                "cues": _words(spec.get("cues"), f"section_roles.{role}.cues"),
                "except": _words(spec.get("except"), f"section_roles.{role}.except"),
            }
    if "bounds" in raw:
        out["bounds"] = {
            _choice(b, BOUNDS, "bounds"): {
                side: _words(_mapping(spec, b).get(side), f"bounds.{b}.{side}")
                for side in ("before", "after")
            }
            for b, spec in _mapping(raw["bounds"], "bounds").items()
        }
    if "approximate" in raw:
        spec = _mapping(raw["approximate"], "approximate")
        out["approximate"] = {
            s: _words(spec.get(s), f"approximate.{s}") for s in ("before", "after")
        }
    if "achieved" in raw:
        spec = _mapping(raw["achieved"], "achieved")
        out["achieved"] = {s: _words(spec.get(s), f"achieved.{s}") for s in ("phrases", "except", "met")}
    if "columns" in raw:
        out["columns"] = {
            fold(str(k)): fold(str(v)) for k, v in _mapping(raw["columns"], "columns").items()
        }
    return out


def _extend(target: list[str], words: list[str]) -> None:
    target.extend(w for w in words if w not in target)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    """Merge ``extra`` (canonical) into ``base`` (canonical) in place."""
    base.setdefault("scales", {}).update(extra.get("scales", {}))
    base.setdefault("plain_units", {}).update(extra.get("plain_units", {}))
    base.setdefault("columns", {}).update(extra.get("columns", {}))
    for key in _LISTS:
        _extend(base.setdefault(key, []), extra.get(key, []))
    for sid, spec in extra.get("subjects", {}).items():
        for other in base.setdefault("subjects", {}).values():
            other["keywords"] = [k for k in other["keywords"] if k not in spec["keywords"]]
        entry = base["subjects"].setdefault(sid, {"keywords": []})
        _extend(entry["keywords"], spec["keywords"])
        if "generic" in spec:
            entry["generic"] = spec["generic"]
    for mid, spec in extra.get("measures", {}).items():
        # A unit or cue claimed by this measure leaves any other measure.
        for other in base.setdefault("measures", {}).values():
            other["units"] = {w: u for w, u in other["units"].items() if w not in spec["units"]}
            other["cues"] = [c for c in other["cues"] if c not in spec["cues"]]
        entry = base["measures"].setdefault(mid, {"units": {}, "cues": []})
        entry["units"].update(spec["units"])
        _extend(entry["cues"], spec["cues"])
        if "kind" in spec:
            entry["kind"] = spec["kind"]
    for role, cues in extra.get("roles", {}).items():
        for other in base.setdefault("roles", {}).values():
            other[:] = [c for c in other if c not in cues]
        _extend(base["roles"].setdefault(role, []), cues)
    for role, spec in extra.get("section_roles", {}).items():
        entry = base.setdefault("section_roles", {}).setdefault(role, {"cues": [], "except": []})
        _extend(entry["cues"], spec["cues"])
        _extend(entry["except"], spec["except"])
    for bound, spec in extra.get("bounds", {}).items():
        entry = base.setdefault("bounds", {}).setdefault(bound, {"before": [], "after": []})
        for side in ("before", "after"):
            _extend(entry[side], spec[side])
    for side, words in extra.get("approximate", {}).items():
        _extend(base.setdefault("approximate", {}).setdefault(side, []), words)
    for part, words in extra.get("achieved", {}).items():
        _extend(base.setdefault("achieved", {}).setdefault(part, []), words)


def _build(data: dict[str, Any]) -> Vocabulary:
    units: dict[str, Unit] = {}
    for written, kind in data.get("plain_units", {}).items():
        units[written] = Unit(written, written, kind, None)
    for mid, spec in data.get("measures", {}).items():
        for written, unit in spec["units"].items():
            kind = spec.get("kind", "count")
            if kind == "date":
                raise VocabularyError(f"词表「measures.{mid}」为日期，不能列计量单位。",
                                      f"the vocabulary's 'measures.{mid}' is a date and can "
                                      "list no units.")  # fmt: skip
            units[written] = Unit(written, unit, kind, mid)
    for word, unit in data.get("columns", {}).items():
        if unit != MONEY and unit not in units:
            raise VocabularyError(
                f"词表「columns.{word}」的单位「{unit}」未在 measures 或 plain_units 中定义。",
                f"the unit '{unit}' of the vocabulary's 'columns.{word}' is defined in neither "
                "measures nor plain_units.",
            )
    bounds = data.get("bounds", {})
    approximate = data.get("approximate", {})
    achieved = data.get("achieved", {})
    return Vocabulary(
        data=data,
        subjects=Lexicon(
            dict.fromkeys(data.get("not_subjects", ()), "")
            | {k: sid for sid, spec in data.get("subjects", {}).items() for k in spec["keywords"]}
        ),
        generic={
            sid: None if spec["generic"] is True else frozenset(spec["generic"])
            for sid, spec in data.get("subjects", {}).items()
            if spec.get("generic")
        },
        units=units,
        unit_words=Lexicon({w: w for w in units}),
        scales=dict(data.get("scales", {})),
        measure_cues=Lexicon(
            {c: mid for mid, spec in data.get("measures", {}).items() for c in spec["cues"]}
        ),
        cue_kinds={
            mid: spec.get("kind") if spec["cues"] else None
            for mid, spec in data.get("measures", {}).items()
        },
        roles=Lexicon({c: role for role, cues in data.get("roles", {}).items() for c in cues}),
        section_roles=tuple(
            (role, Lexicon({c: c for c in spec["cues"]}), Lexicon({c: c for c in spec["except"]}))
            for role, spec in data.get("section_roles", {}).items()
        ),
        bounds_before=Lexicon({c: b for b, s in bounds.items() for c in s["before"]}),
        bounds_after=Lexicon({c: b for b, s in bounds.items() for c in s["after"]}),
        approximate_before=tuple(approximate.get("before", ())),
        approximate_after=tuple(approximate.get("after", ())),
        not_units=tuple(data.get("not_units", ())),
        idioms=tuple(data.get("idioms", ())),
        columns=Lexicon(dict(data.get("columns", {}))),
        labels=tuple(data.get("labels", ())),
        questions=tuple(data.get("questions", ())),
        achieved=Lexicon({p: p for p in achieved.get("phrases", ())}),
        achieved_except=tuple(achieved.get("except", ())),
        achieved_met=Lexicon({p: p for p in achieved.get("met", ())}),
        not_naming=tuple(data.get("not_naming", ())),
    )
