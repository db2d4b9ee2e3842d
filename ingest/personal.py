"""Personal data (SPEC §4): keyed hashes for the warehouse, masks for anything people read."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

KEY_ENV = "JIXIAO_HASH_KEY_FILE"
DEFAULT_KEY_FILE = Path.home() / ".config" / "jixiao" / "hash.key"


class HashKeyError(Exception):
    """The hashing key is missing, unreadable or not the warehouse's; one Chinese sentence."""


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
                       expected: str | None = None, new: bool = False) -> bytes:  # fmt: skip
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
        notify(f"原散列密钥已移至 {aside}（未删除）；本次运行以新密钥重新散列全部记录。")
    if not path.exists():
        if held_by is not None and not new:
            raise HashKeyError(
                f"找不到散列密钥文件 {path}，而数据仓库 {held_by} 中的证号散列是用它算出的："
                "请从备份恢复该文件（或用环境变量 "
                f"{KEY_ENV} 指向它）；若确已丢失，运行 jixiao run --new-key 以新密钥从原始报送"
                "数据重新散列全部记录。"
            )
        _create_key(path, notify)
    key = _read_key(path)
    if expected and not new and key_fingerprint(key) != expected:
        aside = set_aside_key(path, expected)
        restore = f"（--new-key 换下的原密钥在 {aside}）" if aside.exists() else ""
        raise HashKeyError(
            f"散列密钥文件 {path} 不是数据仓库 {held_by} 的证号散列所用的密钥（指纹 "
            f"{key_fingerprint(key)}，仓库记录为 {expected}）：请恢复原密钥{restore}，或运行 "
            "jixiao run --new-key 以新密钥从原始报送数据重新散列全部记录。"
        )
    return key


def _create_key(path: Path, notify) -> None:
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
            f"无法创建散列密钥文件 {path}：{exc.strerror}（可用环境变量 {KEY_ENV} 指定位置）。"
        ) from None
    notify(
        f"已创建个人信息散列密钥 {path}。请妥善备份：丢失或更换密钥后，须以 jixiao run "
        "--new-key 从原始报送数据重新散列全部记录。"
    )


def _read_key(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except OSError as exc:
        raise HashKeyError(f"无法读取散列密钥文件 {path}：{exc.strerror}。") from None
    except ValueError:
        raise HashKeyError(f"散列密钥文件 {path} 内容无效（应为十六进制），请恢复备份。") from None
    if len(key) < 16:
        raise HashKeyError(f"散列密钥文件 {path} 太短，请恢复备份。")
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


_MASKS = {"cert": mask_cert, "name": mask_name}


def masked(kind: str | None, value: str | None) -> str | None:
    """A value as people may see it: masked when it belongs to a personal column."""
    return _MASKS[kind](value) if kind and value else value


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104), so SQL can compute `cert_hash` as
    sha256(outer || sha256(inner || cert_no)) over a whole column."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
