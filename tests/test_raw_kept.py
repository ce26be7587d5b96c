"""Every message's raw bytes are kept, byte for byte, in the same transaction as its record.

Within the size limit the bytes live in the inbound record; over it, in the content store under
the record's ``raw_sha256``. `ingest.raw_of` reads either. Attachments stay in the content store.
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from mail.inbound.ingest import raw_of
from tests.support import build, make_env
from tickets.models import HeldMessage, InboundMessage

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


def store_files(env):
    return sorted(p.name for p in env.settings.storage_dir.rglob("*") if p.is_file())


def test_raw_bytes_are_kept_with_the_record_and_attachments_in_the_store(env):
    raw = build("Planos del departamento", "Adjunto los planos.\n\nRosa",
                attachments=[("planos.pdf", "application/pdf", PDF)])
    result = env.ingest_bytes(raw)
    assert result.outcome.value == "ticket"
    with env.sessions() as s:
        assert raw_of(s, env.ctx, result.inbound_id) == raw
        record = s.get(InboundMessage, result.inbound_id)
        assert (record.raw_sha256, record.raw_size) == (hashlib.sha256(raw).hexdigest(), len(raw))
    assert store_files(env) == [hashlib.sha256(PDF).hexdigest()]  # the attachment only


def test_a_message_over_the_limit_is_held_with_its_bytes_in_the_store(database_url, tmp_path):
    env = make_env(database_url, tmp_path, max_message_kib=8)
    raw = build("Fotos", "Van las fotos", attachments=[("foto.jpg", "image/jpeg", b"\xff\xd8" + b"1" * 20_000)])
    result = env.ingest_bytes(raw)
    assert (result.outcome.value, result.reason) == ("held", "too_large")
    with env.sessions() as s:
        assert raw_of(s, env.ctx, result.inbound_id) == raw
        assert s.get(InboundMessage, result.inbound_id).raw is None
        assert s.scalar(select(HeldMessage.raw)) is None
    assert store_files(env) == [hashlib.sha256(raw).hexdigest()]


def test_unknown_record(env):
    with env.sessions() as s, pytest.raises(LookupError):
        raw_of(s, env.ctx, 12345)
