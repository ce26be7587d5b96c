"""The content store (`tickets.storage`): content-addressed, deduplicated, written atomically."""

from __future__ import annotations

import hashlib
import itertools
import os

import pytest

from tickets import storage


def test_store_once_and_read_back(tmp_path):
    data = "Fotografía de la rajadura".encode() * 100
    digest = storage.store_bytes(tmp_path, data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert storage.read_bytes(tmp_path, digest) == data
    assert storage.path_for(tmp_path, digest) == tmp_path / digest[:2] / digest
    assert storage.store_bytes(tmp_path, data) == digest  # the same content: the same file
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [tmp_path / digest[:2] / digest]  # and no temporary file left behind


def test_leftover_temporary_name_from_an_earlier_process(tmp_path, monkeypatch):
    data = b"contenido"
    folder = tmp_path / hashlib.sha256(data).hexdigest()[:2]
    folder.mkdir()
    (folder / f".tmp-{os.getpid()}-0").write_bytes(b"resto de un proceso anterior")
    monkeypatch.setattr(storage, "_tmp_names", itertools.count())
    digest = storage.store_bytes(tmp_path, data)
    assert storage.read_bytes(tmp_path, digest) == data


def test_failed_write_leaves_nothing_under_the_content_name(tmp_path, monkeypatch):
    data = b"x" * 5000

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "replace", broken_replace)
    with pytest.raises(OSError):
        storage.store_bytes(tmp_path, data)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_store_file_streams(tmp_path):
    src = tmp_path / "grande.eml"
    src.write_bytes(b"A" * (3 << 20))
    digest, size = storage.store_file(tmp_path / "store", src, chunk_bytes=1 << 16)
    assert size == 3 << 20
    assert storage.read_bytes(tmp_path / "store", digest) == src.read_bytes()
