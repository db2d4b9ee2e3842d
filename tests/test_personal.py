"""The hashing key, keyed hashes and masks (SPEC §4)."""

import os
import signal
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from jixiao.ingest.personal import (
    KEY_ENV,
    HashKeyError,
    cert_hash,
    key_fingerprint,
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


def _first_run(key: Path, code: str = "") -> subprocess.CompletedProcess:
    """A process creating the key, as a first `jixiao run` does; ``code`` runs before."""
    return subprocess.run(
        [sys.executable, "-c", code + "from ingest.personal import load_or_create_key\n"
         "print(load_or_create_key(lambda m: print('created')).hex())"],
        env=os.environ | {KEY_ENV: str(key)}, cwd=Path(__file__).parent.parent,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_killed_while_creating_the_key_leaves_none(tmp_path):
    key = tmp_path / "keys" / "hash.key"
    # SIGKILL once the key is written and fsynced under its temporary name, before the link.
    dies = "import os, signal\nos.link = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
    assert _first_run(key, dies).returncode == -signal.SIGKILL
    assert not key.exists()  # not an empty key that every later run would refuse
    done = _first_run(key)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["created", key.read_text(encoding="ascii").strip()]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_concurrent_first_runs_end_with_one_key(tmp_path):
    key = tmp_path / "keys" / "hash.key"
    with ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda _: _first_run(key), range(8)))
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    used = {r.stdout.split()[-1] for r in runs}
    assert used == {key.read_text(encoding="ascii").strip()}  # all use the one on disk
    assert sum("created" in r.stdout.split() for r in runs) == 1  # said once
    assert [p.name for p in key.parent.iterdir()] == ["hash.key"]  # no temporary file left


def test_damaged_key_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "hash.key"
    monkeypatch.setenv(KEY_ENV, str(path))
    path.write_text("not hex\n", encoding="ascii")
    with pytest.raises(HashKeyError, match="内容无效"):
        load_or_create_key()
    path.write_text("abcd\n", encoding="ascii")
    with pytest.raises(HashKeyError, match="太短"):
        load_or_create_key()


def test_a_missing_key_is_never_replaced_silently(tmp_path, monkeypatch):
    path = tmp_path / "hash.key"
    monkeypatch.setenv(KEY_ENV, str(path))
    with pytest.raises(HashKeyError) as stop:
        load_or_create_key(held_by=Path("curated/warehouse.duckdb"), expected="0123456789abcdef")
    said = str(stop.value)
    assert str(path) in said and "curated/warehouse.duckdb" in said and "--new-key" in said
    assert not path.exists()  # no new key made behind the operator's back


def test_another_key_stops_and_names_the_one_set_aside(tmp_path, monkeypatch):
    path = tmp_path / "hash.key"
    monkeypatch.setenv(KEY_ENV, str(path))
    first = load_or_create_key(lambda _: None)
    said = []
    second = load_or_create_key(said.append, held_by=Path("w.duckdb"),
                                expected=key_fingerprint(first), new=True)  # fmt: skip
    aside = path.with_name(f"hash.key.{key_fingerprint(first)}.old")
    assert second != first and bytes.fromhex(aside.read_text(encoding="ascii")) == first
    assert any(str(aside) in line for line in said)  # the replaced key is kept, and said where
    with pytest.raises(HashKeyError, match="不是数据仓库 w.duckdb") as stop:
        load_or_create_key(held_by=Path("w.duckdb"), expected=key_fingerprint(first))
    assert str(aside) in str(stop.value) and "--new-key" in str(stop.value)
    assert load_or_create_key(held_by=Path("w.duckdb"), expected=key_fingerprint(second)) == second


def test_fingerprint_tells_keys_apart_and_is_not_the_key():
    key = bytes(range(32))
    assert key_fingerprint(key) == key_fingerprint(bytes(range(32)))
    assert key_fingerprint(key) != key_fingerprint(bytes(range(1, 33)))
    assert len(key_fingerprint(key)) == 16 and key_fingerprint(key) not in key.hex()


def test_hash_is_keyed_and_stable():
    cert = "53010219800101001X21"
    assert cert_hash(b"k" * 32, cert) == cert_hash(b"k" * 32, cert)
    assert cert_hash(b"k" * 32, cert) != cert_hash(b"j" * 32, cert)
    assert cert not in cert_hash(b"k" * 32, cert)


def test_masks():
    assert mask_cert("53010219800101001X21") == "530102**********1X21"
    assert mask_cert("12345") == "*****"
    assert mask_name("张三丰") == "张**"
