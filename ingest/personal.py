"""Personal data (SPEC §4): keyed hashes for the warehouse, masks for anything people read."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV = "JIXIAO_HASH_KEY_FILE"
DEFAULT_KEY_FILE = Path.home() / ".config" / "jixiao" / "hash.key"


class HashKeyError(Exception):
    """The hashing key cannot be read or created; the message is one Chinese sentence."""


def key_file() -> Path:
    return Path(os.environ.get(KEY_ENV) or DEFAULT_KEY_FILE)


def load_or_create_key(notify=print) -> bytes:
    """The keyed-hash secret; created (mode 0600) on first use, outside the repository.

    The same key must be used night after night, or hashes stop matching across runs.
    """
    path = key_file()
    if path.exists():
        text = path.read_text(encoding="ascii").strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise HashKeyError(
                f"散列密钥文件 {path} 内容无效（应为十六进制），请恢复备份。"
            ) from None
        if len(key) < 16:
            raise HashKeyError(f"散列密钥文件 {path} 太短，请恢复备份。")
        return key
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    except OSError as exc:
        raise HashKeyError(
            f"无法创建散列密钥文件 {path}：{exc.strerror}（可用环境变量 {KEY_ENV} 指定位置）。"
        ) from None
    notify(
        f"已创建个人信息散列密钥 {path}（首次运行）。请妥善备份：更换密钥后，新旧数据中的同一人将无法关联。"
    )
    return load_or_create_key(notify)


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
