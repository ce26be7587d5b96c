"""Score the new text of a reply against four reply-stripping libraries' public test cases
(github/email_reply_parser, crisp-oss/email-reply-parser, mailgun/talon, discourse/email_reply_trimmer;
../shared/peer/quotes/README.md gives the format and SOURCES.md the licenses; test data only).

Each case goes through the same entry point as the ingest (`comment_text`). A case passes when every
`present` run is in the output and no `absent` line is, both whitespace-normalised as score.py does.
Run with -s to see the scores per source, kind and language.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest

from mail.inbound.apply import clean_text
from mail.inbound.parse import parse_message
from tests.shared_data import require_shared

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("github", "crisp", "talon", "discourse")

#: Misses we keep on purpose: case id -> one-line reason. Never a `keep` case.
DELIBERATE: dict[str, str] = {
    "crisp:email_7": "an unquoted line below a quoted line that ends a sentence may be the sender's "
    "answer: kept ('rhoncus tortor in.' is Italian history re-wrapped without '>')",
    "crisp:email_with_regards": "we keep the sender's sign-off and name ('Regards, John Doe'): the "
    "comment shows who signs, as our own tests keep 'Gracias,\\nRosa'",
    "talon:test_dont_parse_quotations_for_forwarded_messages": "peers disagree: a forward below the "
    "sender's words is cut like history (as crisp and discourse do); talon keeps it whole",
}


def comment_text(raw: bytes) -> str:
    """The comment text the ingest stores for this message (`mail.inbound.apply.comment`)."""
    return clean_text(parse_message(raw).new_text)


def wrap(text: str, case_id: str) -> bytes:
    """A minimal UTF-8 message around a plain-text case, exactly as score.py's wrap()."""
    body = base64.encodebytes(text.encode("utf-8")).decode("ascii")
    message_id = "".join(ch if ch.isalnum() else "." for ch in case_id)
    head = (
        "From: Peer Fixture <cliente@example.com>\r\n"
        "To: postventa@example.com\r\n"
        "Subject: Re: [AT-000001] peer fixture\r\n"
        "Date: Mon, 03 Nov 2025 10:15:00 -0500\r\n"
        f"Message-ID: <{message_id}@peer-quotes.invalid>\r\n"
        "In-Reply-To: <ticket-1@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    return head.encode("ascii") + body.replace("\n", "\r\n").encode("ascii")


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text or "")).strip()


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    peer = require_shared("peer", "quotes")
    loaded = []
    for source in SOURCES:
        doc = json.loads((peer / "cases" / f"{source}.json").read_text(encoding="utf-8"))
        for case in doc["cases"]:
            raw = (peer / "cases" / case["eml"]).read_bytes() if "eml" in case else wrap(case["text"], case["id"])
            output = norm(comment_text(raw))
            case["ok"] = all(norm(p) in output for p in case["present"]) and not any(
                norm(a) in output for a in case["absent"]
            )
            case["source"] = source
            loaded.append(case)
    return loaded


def _table(title: str, cases: list[dict], key) -> str:
    groups: dict[str, list[bool]] = defaultdict(list)
    for case in cases:
        groups[key(case)].append(case["ok"])
    rows = [f"{title:<10}{'pass':>10}{'rate':>8}"]
    for name, oks in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        rows.append(f"{name:<10}{sum(oks):>6}/{len(oks):<4}{100 * sum(oks) / len(oks):>7.1f}%")
    return "\n".join(rows)


def test_peer_cases(cases: list[dict]) -> None:
    esen = [c["ok"] for c in cases if c["lang"] in ("es", "en")]
    print("\nPeer quote-stripping cases")
    print(_table("source", cases, lambda c: c["source"]))
    print(_table("kind", cases, lambda c: c["kind"]))
    print(_table("lang", cases, lambda c: c["lang"]))
    print(f"es+en: {sum(esen)}/{len(esen)} ({100 * sum(esen) / len(esen):.1f}%)")
    print(f"all: {sum(c['ok'] for c in cases)}/{len(cases)}")
    misses = {c["id"] for c in cases if not c["ok"]}
    for case_id in sorted(misses):
        print("MISS", case_id, "-", DELIBERATE.get(case_id, "UNEXPLAINED"))
    unexplained = sorted(misses - DELIBERATE.keys())
    assert not unexplained, f"misses not in DELIBERATE: {unexplained}"
    stale = sorted(DELIBERATE.keys() - misses)
    assert not stale, f"DELIBERATE entries that pass now (remove them): {stale}"


def test_keep_cases_are_never_deliberate(cases: list[dict]) -> None:
    keep = {c["id"] for c in cases if c["kind"] == "keep"}
    assert keep and not keep & DELIBERATE.keys()
