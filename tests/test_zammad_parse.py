"""Score our parser against Zammad's parser expectations (a peer's test suite, AGPL-3.0 test data
from zammad/zammad test/data/mail/, see shared/peer/zammad/README.md; used as test data only).

`score_zammad(extract)` takes any function raw bytes -> dict(from_email, from_display_name,
subject, body, attachments) so it can later be pointed at the full ingestion pipeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from mail.inbound.parse import UnparseableMessage, html_to_text, parse_message
from tests.shared_data import require_shared

FIELDS = ("from_email", "from_display_name", "subject", "body", "attachments")

#: Misses we keep on purpose: (file, field) -> one-line reason.
_EMPTY = "Zammad's placeholder 'no visible content' for an empty body; we keep text empty (the caller decides)"
DELIBERATE: dict[tuple[str, str], str] = {
    (
        "mail016.box",
        "from_email",
    ): "no From header: we hold the message instead of trusting Reply-To",
    ("mail024.box", "body"): _EMPTY,
    (
        "mail026.box",
        "body",
    ): "the expected piece is the HTML <title>, which is not readable body text",
    ("mail027.box", "body"): _EMPTY + " (HTML with only a remote image)",
    ("mail042.box", "body"): _EMPTY
    + " (PGP-encrypted; the parts are kept as attachments)",
    (
        "mail044.box",
        "from_email",
    ): "we drop the trailing dot of the domain 'yahoo.com.' to get a usable address",
    (
        "mail046.box",
        "from_display_name",
    ): "Zammad's garbled name; we decode the raw GBK bytes",
    (
        "mail065.box",
        "from_display_name",
    ): "Zammad's quirk '=20Andreas?='; we decode the whole broken encoded word",
    ("mail067.box", "body"): _EMPTY,
    ("mail070.box", "body"): _EMPTY,
    (
        "mail071.box",
        "from_email",
    ): "a local part with spaces: we keep RFC 5322's quoted form",
    ("mail071.box", "body"): _EMPTY + " (the multipart has no body at all)",
    (
        "mail071.box",
        "attachments",
    ): "Zammad makes an empty attachment 'file' from a boundary-less multipart; we do not",
    (
        "mail072.box",
        "body",
    ): "Zammad decodes windows-1258 as windows-1250 ('ŕ'); we read 'à' as declared",
    (
        "mail076.box",
        "from_email",
    ): "Zammad keeps the stray '>'; we return the address without it",
    (
        "mail076.box",
        "from_display_name",
    ): "Zammad derives a name from the broken address; we leave it empty",
    (
        "mail087.box",
        "from_email",
    ): "'Test test@example.com': we keep RFC 5322's quoted local part",
    (
        "mail087.box",
        "from_display_name",
    ): "no display name in RFC 5322 terms; Zammad invents one",
    (
        "mail087.box",
        "body",
    ): "the part without Content-Type is text/plain (RFC 2045 5.2): it is our body",
    (
        "mail087.box",
        "attachments",
    ): "the same part: Zammad keeps it as attachment 'file', we as the body",
    (
        "mail092.box",
        "attachments",
    ): "we name the empty returned message after its Content-Description",
    ("mail094.box", "body"): _EMPTY + " (top-level PDF, kept as the attachment)",
    (
        "mail105.box",
        "body",
    ): "a multipart without its boundary: we recover the text as the body",
    (
        "mail105.box",
        "attachments",
    ): "the same text: Zammad keeps it as attachment 'file', we as the body",
}

#: Zammad turns the HTML alternative into a synthetic attachment; we keep the raw message instead.
SYNTHETIC_ATTACHMENTS = {"message.html"}


def _norm(value: str | None) -> str:
    return re.sub(r"\s+", " ", value or "").strip()


def extract_with_parser(raw: bytes) -> dict:
    """Our parse layer seen through the fields Zammad's expectations speak about."""
    try:
        msg = parse_message(raw)
    except UnparseableMessage:
        return {
            "from_email": None,
            "from_display_name": None,
            "subject": None,
            "body": "",
            "attachments": [],
        }
    body = msg.text
    if msg.html:
        body = body + "\n" + html_to_text(msg.html)
    return {
        "from_email": msg.from_addr,
        "from_display_name": msg.from_name,
        "subject": msg.subject,
        "body": body,
        "attachments": [a.filename for a in msg.attachments],
    }


def score_zammad(
    extract: Callable[[bytes], dict],
) -> tuple[dict[str, list[int]], list[tuple[str, str, str]]]:
    """Compare `extract` against expectations.json.

    Returns: ({field: [hits, total]}, [(file, field, explanation) for every miss]).
    Comparison rules: from_email case-insensitive; display name, subject and body substrings with
    whitespace normalised; attachments as a set of names without Zammad's synthetic message.html.
    Skips (fails under CI) when ../shared/peer/zammad/ is missing.
    """
    zammad = require_shared("peer", "zammad")
    expectations = json.loads((zammad / "expectations.json").read_text(encoding="utf-8"))
    score = {field: [0, 0] for field in FIELDS}
    misses: list[tuple[str, str, str]] = []

    def check(name: str, field: str, ok: bool, detail: str) -> None:
        score[field][1] += 1
        if ok:
            score[field][0] += 1
        else:
            misses.append((name, field, detail))

    for exp in expectations:
        name = exp["file"]
        got = extract((zammad / name).read_bytes())
        if "from_email" in exp:
            want = (exp["from_email"] or "").lower() or None
            have = (got["from_email"] or "").lower() or None
            check(name, "from_email", want == have, f"want {want!r} got {have!r}")
        if "from_display_name" in exp:
            want, have = (
                _norm(exp["from_display_name"]),
                _norm(got["from_display_name"]),
            )
            check(
                name, "from_display_name", want == have, f"want {want!r} got {have!r}"
            )
        if "subject" in exp:
            want, have = _norm(exp["subject"]), _norm(got["subject"])
            check(name, "subject", want == have, f"want {want!r} got {have!r}")
        if exp.get("body_contains"):
            body = _norm(got["body"])
            for piece in exp["body_contains"]:
                check(name, "body", _norm(piece) in body, f"missing {piece!r}")
        if "attachments" in exp:
            want_set = {a for a in exp["attachments"] if a not in SYNTHETIC_ATTACHMENTS}
            have_set = set(got["attachments"])
            check(
                name,
                "attachments",
                want_set == have_set,
                f"want {sorted(want_set)} got {sorted(have_set)}",
            )
    return score, misses


def _table(score: dict[str, list[int]]) -> str:
    rows = [f"{'field':<20}{'hits':>6}{'total':>7}"]
    for field, (hits, total) in score.items():
        rows.append(f"{field:<20}{hits:>6}{total:>7}")
    return "\n".join(rows)


def test_zammad_expectations() -> None:
    score, misses = score_zammad(extract_with_parser)
    print("\nZammad parser expectations\n" + _table(score))
    for miss in misses:
        print("MISS", *miss)
    unexplained = [m for m in misses if (m[0], m[1]) not in DELIBERATE]
    assert not unexplained, "\n".join(" | ".join(m) for m in unexplained)
    stale = [key for key in DELIBERATE if key not in {(m[0], m[1]) for m in misses}]
    assert not stale, f"DELIBERATE entries no longer needed: {stale}"
