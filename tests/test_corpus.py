"""Every real-world message of ../shared/corpus/ ends as a ticket, comment, duplicate, ignored or held
message: nothing raises, nothing vanishes (count in = count out) — by import and through Dovecot."""

from __future__ import annotations

import collections
import imaplib
from pathlib import Path

import pytest

from mail.inbound.poller import process_source
from mail.inbound.sources import FileSource
from mail.mailboxes import import_rules
from tests.shared_data import require_shared

OUTCOMES = {"ticket", "comment", "duplicate", "ignored", "held"}


@pytest.fixture
def corpus_files() -> list[Path]:
    """Every message of the corpus (first among a test's fixtures: without it, skip before the rest)."""
    return sorted(p for p in require_shared("corpus").rglob("*")
                  if p.is_file() and p.name not in {"MANIFEST.md", "manifest.json"})


def test_corpus_is_there(corpus_files):
    assert len(corpus_files) >= 150


def test_corpus_by_import(corpus_files, env):
    report = process_source(env.sessions, env.ctx, import_rules(env.settings), FileSource(corpus_files),
                            "corpus", checkpoint=False)
    inbound = env.inbound()
    assert report.processed == len(corpus_files) == len(inbound)
    assert {m.outcome for m in inbound} <= OUTCOMES
    assert not [m.source_ref for m in inbound if m.reason == "processing_error"]
    counts = collections.Counter(m.outcome for m in inbound)
    print("\ncorpus outcomes:", dict(counts), dict(collections.Counter(
        m.reason for m in inbound if m.reason and m.outcome != "duplicate")))
    # the corpus is mostly real mail from real people: most of it must be usable
    assert counts["ticket"] + counts["comment"] >= len(corpus_files) // 2


def test_corpus_through_dovecot(corpus_files, env, dovecot, imap_user):
    user, password = imap_user
    appended = 0
    for path in corpus_files:
        try:
            dovecot.append(user, path.read_bytes())
            appended += 1
        except (imaplib.IMAP4.error, AssertionError, RuntimeError) as exc:  # the server refused it
            print(f"dovecot refused {path.name}: {exc}")
    assert appended >= len(corpus_files) - 5
    report = env.poll(env.mailbox("corpus", dovecot.url(user, password)))
    assert report.error is None
    inbound = env.inbound()
    assert report.processed == appended == len(inbound)
    assert {m.outcome for m in inbound} <= OUTCOMES
    assert not [m.uid for m in inbound if m.reason == "processing_error"]
    assert all("\\Seen" in dovecot.flags(user, uid) for uid in dovecot.uids(user))
