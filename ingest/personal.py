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
    """The hashing key cannot be read or created; the message is one Chinese sentence."""


def key_file() -> Path:
    return Path(os.environ.get(KEY_ENV) or DEFAULT_KEY_FILE)


def load_or_create_key(notify=print) -> bytes:
    """The keyed-hash secret; created (mode 0600) on first use, outside the repository.

    The same key must be used night after night, or hashes stop matching across runs. It is
    written whole to a temporary file in the key's folder, fsynced, then hard-linked to its
    name: a run killed meanwhile leaves no key (not an empty one), and of two first runs at
    once the second link fails, so both use the one key that got the name.
    """
    path = key_file()
    if not path.exists():
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
                pass  # another run created it first: use theirs
            else:
                dir_fd = os.open(path.parent, os.O_DIRECTORY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
                notify(
                    f"已创建个人信息散列密钥 {path}（首次运行）。请妥善备份：更换密钥后，"
                    "新旧数据中的同一人将无法关联。"
                )
            finally:
                os.unlink(tmp)
        except OSError as exc:
            raise HashKeyError(
                f"无法创建散列密钥文件 {path}：{exc.strerror}（可用环境变量 {KEY_ENV} 指定位置）。"
            ) from None
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
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
