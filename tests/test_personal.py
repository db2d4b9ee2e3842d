"""The hashing key, keyed hashes and masks (SPEC §4)."""

import stat

import pytest

from ingest.personal import (
    KEY_ENV,
    HashKeyError,
    cert_hash,
    load_or_create_key,
    mask_cert,
    mask_name,
)


def test_key_created_once_with_a_message_and_private(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "keys" / "hash.key"))
    said = []
    key = load_or_create_key(said.append)
    assert len(key) == 32 and len(said) == 1 and "已创建个人信息散列密钥" in said[0]
    assert stat.S_IMODE((tmp_path / "keys" / "hash.key").stat().st_mode) == 0o600
    assert load_or_create_key(said.append) == key and len(said) == 1  # reused, silently


def test_damaged_key_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "hash.key"
    monkeypatch.setenv(KEY_ENV, str(path))
    path.write_text("not hex\n", encoding="ascii")
    with pytest.raises(HashKeyError, match="内容无效"):
        load_or_create_key()
    path.write_text("abcd\n", encoding="ascii")
    with pytest.raises(HashKeyError, match="太短"):
        load_or_create_key()


def test_hash_is_keyed_and_stable():
    cert = "53010219800101001X21"
    assert cert_hash(b"k" * 32, cert) == cert_hash(b"k" * 32, cert)
    assert cert_hash(b"k" * 32, cert) != cert_hash(b"j" * 32, cert)
    assert cert not in cert_hash(b"k" * 32, cert)


def test_masks():
    assert mask_cert("53010219800101001X21") == "530102**********1X21"
    assert mask_cert("12345") == "*****"
    assert mask_name("张三丰") == "张**"
