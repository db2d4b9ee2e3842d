"""Personal data (SPEC §4): keyed hashes for the warehouse, masks for anything people read.

Personal data is found by its shape, not by the column it stands in: every text that leaves
the reader — refusal messages and feedback pages, ``ingest_log``, file names wherever they
are logged or stored, free-text columns before they are stored, report sentences and
claims, findings and every report file, log records — passes ``mask_text``, which finds:

- resident IDs (GB 11643) and disability certificate numbers (an ID + category + grade)
  anywhere in a text: inside ``="…"``, between Chinese characters, in full-width digits,
  written 6-8-4 with spaces or hyphens. An ID is 17 digits (an X may follow, and up to two
  more digits: the certificate's category and grade) that begin with a region (first digit
  1–9) and carry a birth date (19xx or 20xx, month 01–12, day 01–31) in characters 7–14,
  with no digit directly before or after. The check digit is *not* required: a typo'd ID,
  or one a digit short or long, is still somebody's ID. The birth date is what tells an ID
  from an ordinary long number: figures such as 120000.00, 20221130 or a 19-digit bank
  transfer reference without a date in that place are left alone. (First-generation
  15-digit IDs are not looked for: retired since 2013, and their 6-digit date would catch
  ordinary numbers.)
- unified social credit codes (GB 32100) with a valid check character: without a date to
  anchor it, the check character is what tells a code from a voucher number. An individual
  business's code (个体工商户) names a person; the declared ``credit_code`` column of the
  template is data of its own (stored, and the key of a check), but in any other text a
  code is masked.
- names: those the caller knows (see ``sheet_names``: the values of a file's name column,
  name-like cells in a row that holds an ID, the name right before an ID), and the Han
  characters immediately before an ID in the same text (``王语嫣530114…补报.csv``).

IDs and codes are masked as SPEC §4 says (``530102**********1234``), names as ``王**``.

The names county files pair with IDs reach texts read later, the report's above all, by
their keyed hashes only (``load.insert_names`` → warehouse table ``name_hashes``, with a key
derived from the hashing key, linked to no row or file): the report audit of the same run,
and of every later run that skips those files as unchanged, looks its words up there
(``load.known_names``, ``checks.report_check``).

What it does not catch, by decision: a name standing alone where no column declares one and
no ID stands beside it (a file named ``王语嫣.csv``, a cell of just a name in a row with no ID) unless a county file
paired it with an ID; a name-like cell beside an ID whose surname is not among Faker's 399
and the compound ones (a name column's values need no surname); 15-digit IDs.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

import polars as pl
from faker.providers.person.zh_CN import Provider as _ChineseNames

from jixiao.said import SaidError
from jixiao.schemas.identifiers import CREDIT_SHAPE, is_credit_code

KEY_ENV = "JIXIAO_HASH_KEY_FILE"
DEFAULT_KEY_FILE = Path.home() / ".config" / "jixiao" / "hash.key"


class HashKeyError(SaidError):
    """The hashing key is missing, unreadable or not the warehouse's."""


def key_file() -> Path:
    return Path(os.environ.get(KEY_ENV) or DEFAULT_KEY_FILE)


def key_fingerprint(key: bytes) -> str:
    """What the warehouse keeps to recognise its key (`runs.key_fingerprint`): an HMAC of a
    fixed label, shortened; it tells keys apart and gives nothing of the key away."""
    return hmac.new(key, b"jixiao hash key fingerprint", hashlib.sha256).hexdigest()[:16]


def set_aside_key(path: Path, fingerprint: str) -> Path:
    """Where `--new-key` keeps a replaced key: beside it, named by its fingerprint."""
    return path.with_name(f"{path.name}.{fingerprint}.old")


def load_or_create_key(notify=print, *, held_by: Path | None = None,
                       expected: str | None = None, new: bool = False,
                       lang: str = "zh") -> bytes:  # fmt: skip
    """The keyed-hash secret, outside the repository; created (mode 0600) only when nothing
    was hashed with another key, or on purpose (``new``).

    ``held_by`` names the warehouse when it holds hashes made with the key, ``expected`` the
    fingerprint of that key: a missing key or another key then stops the run (HashKeyError)
    rather than hash tonight's people apart from last night's. With ``new`` the present key,
    if any, is set aside (never deleted) and a fresh one written: the caller rebuilds.

    The key is written whole to a temporary file in the key's folder, fsynced, then
    hard-linked to its name: a run killed meanwhile leaves no key (not an empty one), and of
    two first runs at once the second link fails, so both use the one key that got the name.
    """
    path = key_file()
    if new and path.exists():
        try:
            fingerprint = key_fingerprint(_read_key(path))
        except HashKeyError:  # a damaged key is kept too, named by its bytes
            fingerprint = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        aside = set_aside_key(path, fingerprint)
        os.replace(path, aside)
        notify(f"原散列密钥已移至 {aside}（未删除）；本次运行以新密钥重新散列全部记录。" if lang == "zh"
               else f"the former hashing key was moved to {aside} (not deleted); this run hashes "
               "every record again with a new key.")  # fmt: skip
    if not path.exists():
        if held_by is not None and not new:
            raise HashKeyError(
                f"找不到散列密钥文件 {path}，而数据仓库 {held_by} 中的证号散列是用它算出的："
                "请从备份恢复该文件（或用环境变量 "
                f"{KEY_ENV} 指向它）；若确已丢失，运行 jixiao run --new-key 以新密钥从原始报送"
                "数据重新散列全部记录。",
                f"the hashing key file {path} is missing, and the identity hashes in the warehouse "
                f"{held_by} were made with it: restore it from a backup (or point {KEY_ENV} at "
                "it); if it is truly lost, run `jixiao run --new-key` to hash every record again "
                "from the raw submissions with a new key.",
            )
        _create_key(path, notify, lang)
    key = _read_key(path)
    if expected and not new and key_fingerprint(key) != expected:
        aside = set_aside_key(path, expected)
        restore = f"（--new-key 换下的原密钥在 {aside}）" if aside.exists() else ""
        restore_en = f" (the one --new-key replaced is {aside})" if aside.exists() else ""
        raise HashKeyError(
            f"散列密钥文件 {path} 不是数据仓库 {held_by} 的证号散列所用的密钥（指纹 "
            f"{key_fingerprint(key)}，仓库记录为 {expected}）：请恢复原密钥{restore}，或运行 "
            "jixiao run --new-key 以新密钥从原始报送数据重新散列全部记录。",
            f"the hashing key file {path} is not the key the warehouse {held_by} hashed its "
            f"identities with (fingerprint {key_fingerprint(key)}, the warehouse records "
            f"{expected}): restore the former key{restore_en}, or run `jixiao run --new-key` to "
            "hash every record again from the raw submissions with a new key.",
        )
    return key


def _create_key(path: Path, notify, lang: str = "zh") -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.link(tmp, path)
        except FileExistsError:
            return  # another run created it first: use theirs
        finally:
            os.unlink(tmp)
        dir_fd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise HashKeyError(
            f"无法创建散列密钥文件 {path}：{exc.strerror}（可用环境变量 {KEY_ENV} 指定位置）。",
            f"cannot create the hashing key file {path}: {exc.strerror} (set {KEY_ENV} to put "
            "it elsewhere).",
        ) from None
    notify(
        f"已创建个人信息散列密钥 {path}。请妥善备份：丢失或更换密钥后，须以 jixiao run "
        "--new-key 从原始报送数据重新散列全部记录。" if lang == "zh"
        else f"created the key for hashing personal data, {path}. Back it up: with the key lost "
        "or changed, every record must be hashed again from the raw submissions with "
        "`jixiao run --new-key`."
    )


def _read_key(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except OSError as exc:
        raise HashKeyError(f"无法读取散列密钥文件 {path}：{exc.strerror}。",
                           f"cannot read the hashing key file {path}: {exc.strerror}.") from None
    except ValueError:
        raise HashKeyError(f"散列密钥文件 {path} 内容无效（应为十六进制），请恢复备份。",
                           f"the hashing key file {path} is not valid (it should be hexadecimal): "
                           "restore it from a backup.") from None
    if len(key) < 16:
        raise HashKeyError(f"散列密钥文件 {path} 太短，请恢复备份。",
                           f"the hashing key file {path} is too short: restore it from a backup.")
    return key


def cert_hash(key: bytes, cert_no: str) -> str:
    """HMAC-SHA256 of the certificate number: stable per person, useless without the key."""
    return hmac.new(key, cert_no.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def mask_cert(value: str) -> str:
    """530102**********1234: region and last four kept, the rest hidden."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(value: str) -> str:
    return value[:1] + "*" * (len(value) - 1) if value else value


# By personal kind (schemas/contracts.Sheet.personal).
_MASKS = {"cert": mask_cert, "id": mask_cert, "hash": mask_cert, "name": mask_name,
          "drop": lambda value: "*" * len(value)}  # fmt: skip


def masked(kind: str | None, value: str | None) -> str | None:
    """A value as people may see it: masked when it belongs to a personal column."""
    return _MASKS[kind](value) if kind and value else value


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104), so SQL can compute `cert_hash` as
    sha256(outer || sha256(inner || cert_no)) over a whole column."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def name_pads(key: bytes) -> tuple[bytes, bytes]:
    """`hmac_pads` of a key derived for names: a name's hash never equals a certificate's."""
    return hmac_pads(hmac.new(key, b"jixiao:name", hashlib.sha256).digest())


# --- identifiers by shape -------------------------------------------------------------------

# Full-width digits, letters, space and hyphen as ASCII, one character for one: a match in the
# probe stands at the same place in the text.
_PROBE = str.maketrans(
    {chr(0xFF10 + i): chr(0x30 + i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
    | {"\u3000": " ", "\uff0d": "-", "\uff0e": "."}
)
_DATE = r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_ID = re.compile(
    rf"(?<![0-9])(?<![0-9]\.)[1-9][0-9]{{5}}[ -]?{_DATE}[ -]?[0-9]{{3}}(?:[0-9Xx][0-9]{{0,2}})?"
    r"(?![0-9])(?!\.[0-9])"
)
# The same, loosely, for polars (Rust regex: no look-around; \d takes full-width digits too):
# a superset that picks the rows worth a closer look. The birth date's shape keeps credit codes
# whose organisation code is all digits out of it.
_ID_PROBE = (
    r"\d{6}[ -]?(?:[1１][9９]|[2２][0０])\d{2}(?:[0０][1-9１-９]|[1１][0-2０-２])[0-3０-３]\d"
    r"[ -]?\d{3}"
)
_CREDIT = re.compile(rf"(?<![0-9A-Za-z]){CREDIT_SHAPE}(?![0-9A-Za-z])", re.IGNORECASE)
_SHORTEST = 17  # characters of the shortest text _ID or _CREDIT can find


# --- names ------------------------------------------------------------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f"
_DOTS = "·•‧・･.．"  # the dot between the parts of a minority name, as it gets typed
_HAN_RUN = re.compile(rf"[{_HAN}]+(?:[{_DOTS}][{_HAN}]+)*")
_DOTTED_NAME = re.compile(rf"[{_HAN}]{{1,10}}(?:[{_DOTS}][{_HAN}]{{1,10}})+")
_SHORT_NAME = re.compile(rf"[{_HAN}]{{2,4}}")
_LONGEST_NAME = 20
_COMPOUND_SURNAMES = ("司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
                     "司徒", "令狐", "夏侯", "端木", "独孤", "西门", "南宫", "呼延", "轩辕", "太史",
                     "申屠", "万俟", "闻人", "澹台", "公冶", "宗政", "濮阳", "淳于", "单于")  # fmt: skip
_SURNAMES = frozenset(_ChineseNames.last_names) | frozenset(_COMPOUND_SURNAMES)
# A name does not end like a place, an organisation, a people or a grade (五华区, 彝族, 一级).
_NOT_LAST = frozenset("区县市州盟旗镇乡村街路巷号室楼族级类局委办处科所站厂店司校院部队组")
# Words a roster holds in short Han cells that are not names; the templates' own words are added
# by learn_words.
_ROSTER_WORDS = (
    "合计 小计 总计 备注 说明 序号 姓名 性别 民族 年龄 住址 地址 电话 联系人 联系电话 填表人 "
    "审核人 负责人 经办人 单位 单位盖章 日期 本人 户主 配偶 子女 父亲 母亲 儿子 女儿 群众 党员 "
    "团员 小学 初中 高中 中专 大专 本科 硕士 博士 研究生 文盲 已婚 未婚 离异 丧偶 男性 女性 "
    "视力 听力 言语 肢体 智力 精神 多重 就业 失业 在岗 退休 农业 非农 城镇 农村 是 否 无 有"
)
# Words that name an ID right before it (身份证号530102…): not a name, and what stands before
# them may be.
_ID_LABELS = ("公民身份号码", "身份证号码", "残疾人证号", "身份证号", "残疾证号", "证件号码",
              "身份证", "残疾证", "证件号", "证号", "号码", "编号", "卡号", "号")  # fmt: skip
_SEPARATORS = " \t:：,，、;；(（[【{-—_/=\"'“”‘’「」『』《<"


_NOT_NAMES = set(_ROSTER_WORDS.split())


def learn_words(words: Iterable[str]) -> None:
    """A template's own words (sheet and column names, enum values): never names, in whatever
    programme's text they stand."""
    _NOT_NAMES.update(words)


def _surname_at(text: str, i: int) -> bool:
    return text[i : i + 2] in _SURNAMES or text[i] in _SURNAMES


def is_name(text: str) -> bool:
    """A cell that reads as somebody's name: a minority name joined by a dot
    (阿依古丽·买买提), or 2–4 Han characters beginning with a surname and not ending like a
    place, an organisation or a grade; never a word of the template or of a roster."""
    if text in _NOT_NAMES:
        return False
    if _DOTTED_NAME.fullmatch(text):
        return True
    return bool(_SHORT_NAME.fullmatch(text)) and _surname_at(text, 0) and text[-1] not in _NOT_LAST


def _declared_names(values: pl.Series) -> set[str]:
    """The values of a column the template declares a name: each name, also without the
    spaces typed inside it (``王  伟`` is written 王伟 elsewhere); not a value that is not
    Han characters (a shifted ID, a number), nor a word of the template. Set-based: a batch's
    name column holds hundreds of thousands of values."""
    frame = pl.DataFrame({"value": values}).with_columns(
        squeezed=pl.col("value").str.replace_all(r"\s", "")
    )
    names = frame.filter(
        pl.col("squeezed").str.contains(f"^[{_HAN}{_DOTS}]{{2,20}}$")
        & ~pl.col("squeezed").is_in(list(_NOT_NAMES))
    )
    # united before they become Python strings: most names hold no space, and turning a
    # value into a Python string is what costs here
    return set(pl.concat([names["value"], names["squeezed"]]).unique().to_list())


def _name_before(text: str, end: int) -> tuple[int, int, bool] | None:
    """The Han characters right before ``text[end]``, where an ID starts: (start, stop, sure),
    ``sure`` when they begin at a surname and are 2–4 long (a name to remember, not only to
    mask here). Up to three separators may stand between (``王语嫣：``, ``王语嫣（``), and a
    word that labels the ID (``王语嫣身份证号``) is passed over."""
    for _ in range(2):  # the name, or once more past a label standing alone
        stop = end
        while stop > 0 and end - stop < 3 and text[stop - 1] in _SEPARATORS:
            stop -= 1
        start = stop
        while start > 0 and stop - start < _LONGEST_NAME and _HAN_RUN.match(text[start - 1]):
            start -= 1
        while start > 0 and stop - start < _LONGEST_NAME and text[start - 1] in _DOTS:
            if not (start > 1 and _HAN_RUN.match(text[start - 2])):
                break
            start -= 1
            while start > 0 and stop - start < _LONGEST_NAME and _HAN_RUN.match(text[start - 1]):
                start -= 1
        run = text[start:stop]
        label = next((w for w in _ID_LABELS if run.endswith(w)), "")
        run, stop = run[: len(run) - len(label)], stop - len(label)
        if run:
            break
        if not label:
            return None
        end = start  # a label alone: look before it
    else:
        return None
    if len(run) < 2 or run in _NOT_NAMES:
        return None
    if any(dot in run for dot in _DOTS):
        return start, stop, True
    window = min(len(run), 8)
    first = next((i for i in range(window - 1) if _surname_at(run[-window:], i)), None)
    if first is None:
        return stop - window, stop, False
    start = stop - window + first
    return start, stop, 2 <= stop - start <= 4


class Names(frozenset):
    """Names to mask, and the lengths they come in: a scan tries those lengths only, so that
    masking with a few hundred thousand names costs a few lookups per character."""

    def __new__(cls, names: Iterable[str] = ()) -> Names:
        self = super().__new__(cls, names)
        self.lengths = sorted({len(n) for n in self if len(n) >= 2}, reverse=True)
        return self

    @functools.cached_property
    def frame(self) -> pl.LazyFrame:
        """The names as a frame (column ``gram``), to join with."""
        return pl.LazyFrame({"gram": list(self)}, schema={"gram": pl.String})

    @functools.cached_property
    def long(self) -> list[str]:
        """The names longer than four characters: few, and looked for by substring search."""
        return [n for n in self if len(n) > 4]


def _name_spans(text: str, names: Collection[str]) -> list[tuple[int, int]]:
    """Where the known names stand in the text's runs of Han characters, longest first."""
    names = names if isinstance(names, Names) else Names(names)
    spans = []
    for run in _HAN_RUN.finditer(text):
        word = run.group()
        # Which names the run holds, in one set operation; most runs hold none.
        hits = {word[i : i + n] for n in names.lengths for i in range(len(word) - n + 1)} & names
        lengths = sorted({len(h) for h in hits}, reverse=True)
        i = 0
        while hits and i < len(word) - 1:
            n = next((n for n in lengths if word[i : i + n] in hits), 0)
            if n:
                spans.append((run.start() + i, run.start() + i + n))
            i += n or 1
    return spans


def name_candidates(texts: Iterable[str]) -> set[str]:
    """Every stretch of the texts that could be a name to look up (load.known_names): 2–5 Han
    characters, or a minority name joined by a dot, within a run of Han characters."""
    found = set()
    for text in texts:
        for run in _HAN_RUN.finditer(text or ""):
            word = run.group()
            for part in re.split(f"[{_DOTS}]", word):
                for n in range(2, 6):
                    found |= {part[i : i + n] for i in range(len(part) - n + 1)}
            if word.isalpha():  # no dot: done
                continue
            for i in range(len(word)):
                for j in range(i + 3, min(len(word), i + _LONGEST_NAME) + 1):
                    if _DOTTED_NAME.fullmatch(word[i:j]):
                        found.add(word[i:j])
    return found


# --- masking ----------------------------------------------------------------------------------


def mask_text(text: str, names: Collection[str] = ()) -> str:
    """The text as people may read it: every resident ID, certificate number and credit code
    masked (530102**********1234), every name in ``names`` and the name right before an ID
    masked (王**). Text without either comes back unchanged."""
    if len(text or "") < _SHORTEST and not names:  # no room for an ID (17) or a code (18)
        return text
    probe = text.translate(_PROBE)
    spans: list[tuple[int, int, Callable[[str], str]]] = []
    for m in _ID.finditer(probe):
        spans.append((m.start(), m.end(), mask_cert))
        if before := _name_before(text, m.start()):
            spans.append((before[0], before[1], mask_name))
    for m in _CREDIT.finditer(probe):
        if is_credit_code(m.group().upper()):
            spans.append((m.start(), m.end(), mask_cert))
    if names:
        spans += [(start, end, mask_name) for start, end in _name_spans(text, names)]
    if not spans:
        return text
    out, at = [], 0
    for start, end, mask in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start >= at:  # spans that overlap one already masked are inside it
            out += [text[at:start], mask(text[start:end])]
            at = end
    out.append(text[at:])
    return "".join(out)


@functools.lru_cache(maxsize=1 << 16)  # a night labels each county file twice (flows.nightly)
def file_label(rel: str, key: bytes) -> str:
    """A submitted file's path as it is logged, stored and shown: masked like any text. Two
    files whose masked paths would be the same must not share a log line or a feedback page,
    and the path is also what tells a file from its earlier versions, so a masked path gets a
    keyed tag of the whole (same path, same tag, night after night)."""
    shown = mask_text(rel)
    if shown == rel:
        return rel
    tag = hmac.new(key, rel.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:8]
    return f"{shown}#{tag}"


def masked_values(values: pl.Series, names: Collection[str] = ()) -> dict[str, str]:
    """`mask_text` over many texts (the free-text columns of a batch), once per distinct value
    worth a look — one holding what may be an ID or a code, or one of ``names`` (`_holding`):
    the values it changes, with what they become (for ``Series.replace``)."""
    names = names if isinstance(names, Names) else Names(names)
    distinct = values.drop_nulls().unique()
    suspect = distinct.str.contains(_ID_PROBE) | distinct.str.contains(
        r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ]{18}"
    )
    han = distinct.filter(distinct.str.contains(f"[{_HAN}]{{2}}"))
    if names and not han.is_empty():
        suspect |= distinct.is_in(_holding(han, names).implode())
    return {v: shown for v in distinct.filter(suspect) if (shown := mask_text(v, names)) != v}


_GRAMS_UP_TO = 64  # characters of a value cut into grams; a longer value is looked at whole


def _holding(values: pl.Series, names: Names) -> pl.Series:
    """The values that hold one of the names, set-based: every stretch of a value as long as
    a name is joined with the names (names longer than 4 characters, rare, are matched by
    substring search; values longer than _GRAMS_UP_TO are taken as they are)."""
    short = values.filter(values.str.len_chars() <= _GRAMS_UP_TO)
    longest = short.str.len_chars().max() or 0
    value = pl.LazyFrame({"value": short})
    grams = [value.select("value", gram=pl.col("value").str.slice(i, n))
             for n in names.lengths if n <= 4 for i in range(longest - n + 1)]  # fmt: skip
    found = [values.filter(values.str.len_chars() > _GRAMS_UP_TO)]
    if grams:
        found.append(pl.concat(grams).join(names.frame, on="gram", how="semi").collect()["value"])
    if names.long:
        found.append(values.filter(values.str.contains_any(names.long)))
    return pl.concat(found).unique()


_TRACEBACK = logging.Formatter()


def mask_log_records() -> None:
    """From now on every log record this process makes is masked by shape, traceback included:
    defence in depth for what reaches the console, Prefect's run history or any handler."""
    make = logging.getLogRecordFactory()
    if getattr(make, "masks_personal_data", False):
        return

    def record(*args, **kwargs) -> logging.LogRecord:
        made = make(*args, **kwargs)
        try:
            message = made.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return made
        made.msg, made.args = mask_text(message), ()
        if made.exc_info and not made.exc_text:
            made.exc_text = mask_text(_TRACEBACK.formatException(made.exc_info))
        return made

    record.masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record)


# --- names a file pairs with IDs --------------------------------------------------------------


def row_names(cells: Iterable[str | None], holds_id: bool = False) -> set[str]:
    """The names in a row that holds an ID (or is known to: ``holds_id``): name-like cells
    (`is_name`), and a name standing right before an ID in a cell."""
    cells = [c for c in cells if c]
    with_id = [(c, m) for c in cells if (m := list(_ID.finditer(c.translate(_PROBE))))]
    if not (with_id or holds_id):
        return set()
    found = {c for c in cells if is_name(c)}
    for cell, matches in with_id:
        for m in matches:
            before = _name_before(cell, m.start())
            if before and before[2]:
                found.add(cell[before[0] : before[1]])
    return found


def sheet_names(header: Iterable[str | None], cells: pl.DataFrame, cert: str | None = None,
                name: str | None = None, typed: Collection[str] = ()) -> set[str]:  # fmt: skip
    """The names a sheet pairs with personal IDs, from its ``header`` row and ``cells`` (the
    rows below it, every cell as text): every value of its declared name column ``name``, and
    in each row holding an ID by shape, the names `row_names` finds. Where the ID stands in
    the declared certificate column ``cert``, the row is as the template says: its ``typed``
    columns hold what they are declared to hold, and only the other cells (备注, columns the
    template does not know) are looked at; a row whose ID stands elsewhere (shifted one cell,
    or in a sheet the template does not know, whose first row may be data) is looked at whole.
    One query per sheet, and rows reach Python only when they hold an ID out of place."""
    found = row_names(header)
    if cells.width == 0:
        return found
    if name is not None:
        found |= _declared_names(cells[name].unique())
    probe = cells.select(
        pl.any_horizontal(pl.col(c).str.contains(_ID_PROBE) for c in cells.columns)
        .fill_null(False)
        .alias("holds"),
        (pl.col(cert).str.contains(_ID_PROBE) if cert else pl.lit(False))
        .fill_null(False)
        .alias("aligned"),
    )
    holds, aligned = probe["holds"], probe["aligned"]
    if not holds.any():
        return found
    for row in cells.filter(holds & ~aligned).iter_rows():
        found |= row_names(row)
    free = [c for c in cells.columns if c not in typed]
    if cert is not None and free and aligned.any():
        for row in cells.filter(aligned).select(free).iter_rows():
            if any(row):
                found |= row_names(row, holds_id=True)
    return found
