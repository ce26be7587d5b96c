"""`parse_message`: the raw bytes of one message in, a `ParsedMessage` out. No database, no network.

The parser is liberal (RFC 5322 section 3: "be liberal in what you accept"): it raises only
`UnparseableMessage`, when the input is not a mail at all. It reads the message with the
stdlib's compat32 policy, which never raises on odd headers, and decodes every value itself.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import re
from datetime import tzinfo
from types import MappingProxyType

from mail.inbound.parse.addresses import Address, address_pairs, addresses, salvage_address, usable_address
from mail.inbound.parse.body import choose_text
from mail.inbound.parse.charsets import codec_for, decode_bytes, unsurrogate
from mail.inbound.parse.forwards import DEFAULT_TZ, split_forward
from mail.inbound.parse.headers import (
    collapse,
    decode_unstructured,
    msg_ids,
    parse_date,
    raw_items,
)
from mail.inbound.parse.html import referenced_content_ids
from mail.inbound.parse.mime import Body, MimeWalker, clean_text
from mail.inbound.parse.model import ParsedMessage, UnparseableMessage
from mail.inbound.parse.params import content_type
from mail.inbound.quotes import extract_new_text

__all__ = ["parse_message"]

#: Nesting limit for message/rfc822 parts parsed recursively (forwarded mail, bounces).
MAX_NESTING = 5
_HEADER_LINE_RE = re.compile(rb"^[!-9;-~]+[ \t]*:")
_CHARSET_OF_WORD_RE = re.compile(r"=\?([^?*\s]+)")


def _prepare(raw: bytes) -> bytes:
    """Drop a UTF-8 BOM, blank lines and a banner line ("---- Original email message ----") before
    the first header (seen in the wild), then repair wrongly folded header lines."""
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    while (nl := data.find(b"\n")) >= 0:
        first, rest = data[:nl], data[nl + 1: nl + 200]
        if not first.strip(b" \t\r") and len(data) > nl + 1 and _HEADER_LINE_RE.match(rest):
            data = data[nl + 1:]
            continue
        if (not _HEADER_LINE_RE.match(first) and not first.startswith((b"From ", b" ", b"\t")) and len(first) < 200
                and _HEADER_LINE_RE.match(rest) and first.strip(b" \t\r-=*_").strip()):
            data = data[nl + 1:]
        break
    return _repair_unfolded_headers(data)


def _repair_unfolded_headers(data: bytes) -> bytes:
    """Indent header continuation lines that lost their leading whitespace (RFC 5322 section 2.2.3
    folding done wrong), when more header fields follow them before the blank line."""
    end = min((p for p in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if p >= 0), default=len(data))
    lines = data[:end].split(b"\n")
    changed = False
    for i, line in enumerate(lines[1:], start=1):
        if not line.strip() or line[:1] in b" \t" or _HEADER_LINE_RE.match(line):
            continue
        if any(_HEADER_LINE_RE.match(nxt) for nxt in lines[i + 1: i + 6]) or \
                lines[i - 1].rstrip(b"\r \t").endswith((b"@", b"<", b",")):
            lines[i] = b" " + line
            changed = True
    return b"\n".join(lines) + data[end:] if changed else data


def _looks_binary(data: bytes) -> bool:
    """An Outlook .msg file (OLE compound document) or other binary data, not a mail."""
    sample = data[:4096]
    if sample.startswith(b"\xd0\xcf\x11\xe0") or b"\x00" in sample:
        return True
    return sum(1 for b in sample if b < 9 or 13 < b < 32) > len(sample) // 20


def _body_digest(raw: bytes) -> str:
    """sha256 hex of the body (after the first blank line), line endings as \\n and trailing
    whitespace of each line removed, so that a re-delivery with other headers has the same digest."""
    _, sep, body = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").partition(b"\n\n")
    lines = [line.rstrip(b" \t") for line in (body if sep else b"").split(b"\n")]
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def _sender(raw: dict[str, list[str]]) -> Address | None:
    """The author (From, else Sender, RFC 5322 section 3.6.2), from the raw header values by
    lower-cased name; an address salvaged from a malformed From keeps its display name."""
    pairs = address_pairs(raw.get("from", []), "from") or address_pairs(raw.get("sender", []), "sender")
    for name, addr in pairs:
        if addr:
            return Address("" if name.lower() == addr else name, addr)
    salvaged = salvage_address(raw.get("from", []))
    if salvaged is not None:
        return salvaged
    return Address(pairs[0][0], "") if pairs else None


def parse_message(raw: bytes, *, default_tz: tzinfo = DEFAULT_TZ) -> ParsedMessage:
    """Parse one raw RFC 5322 / MIME message.

    Parameters: raw(bytes): the message as received. default_tz: zone assumed for dates without one
    inside forwarded text (the configured zone; America/Lima by default).
    Returns: ParsedMessage (see its docstring for each field).
    Raises: UnparseableMessage: empty input, or bytes that are not a mail at all (no header and
    binary content, such as an Outlook .msg file). Nothing else is raised.
    """
    return _parse(bytes(raw or b""), depth=0, default_tz=default_tz)


def _parse(raw: bytes, *, depth: int, default_tz: tzinfo) -> ParsedMessage:
    if not raw.strip():
        raise UnparseableMessage("empty message")
    prepared = _prepare(raw)
    try:
        msg = email.message_from_bytes(prepared, policy=email.policy.compat32)
    except Exception as exc:
        raise UnparseableMessage(f"cannot parse: {exc!r}") from exc
    items = raw_items(msg)
    if not items and _looks_binary(prepared):
        raise UnparseableMessage("not a mail message: no headers, binary content")
    raw_headers: dict[str, list[str]] = {}  # raw values by lower-cased name, read once
    for name, value in items:
        raw_headers.setdefault(name.strip().lower(), []).append(value)
    headers = {name: tuple(collapse(decode_unstructured(v)) for v in values) for name, values in raw_headers.items()}

    def first(name: str) -> str | None:
        values = raw_headers.get(name)
        return values[0] if values else None

    def parse_nested(data: bytes) -> ParsedMessage | None:
        if depth >= MAX_NESTING or not data.strip():
            return None
        try:
            return _parse(data, depth=depth + 1, default_tz=default_tz)
        except UnparseableMessage:
            return None

    # a charset the message's encoded words use: the best guess for its unlabelled 8-bit parts
    hint = next((m.group(1) for _, v in items if (m := _CHARSET_OF_WORD_RE.search(v))
                 and codec_for(m.group(1)) not in ("", "utf-8", "ascii")), None)
    walker = MimeWalker(parse_nested, hint)
    try:
        body = walker.walk(msg)
    except RecursionError:
        walker.defects.setdefault("TooDeeplyNested", None)
        body = Body(plain=clean_text(decode_bytes(prepared.partition(b"\n\n")[2])))
    walker.note_defects(msg)
    text, new_text = choose_text(body.plain, body.html, walker.tnef_texts)
    html = body.html if body.html is not None else ("\n".join(walker.tnef_html) or None)
    html = html.replace("\x00", "") if html is not None else None

    shown = referenced_content_ids(html)
    attachments = tuple(dataclasses.replace(a, inline=a.content_id in shown) if a.content_id else a
                        for a in walker.attachments)
    sender = _sender(raw_headers)
    own_words, inline_forward = split_forward(text, default_tz=default_tz)
    return_path = first("return-path")
    if return_path is not None:
        bare = collapse(unsurrogate(return_path)).strip("<>").strip()
        return_path = (usable_address(bare) or bare.lower()) if bare else ""
    subject = first("subject")
    original_from = addresses(raw_headers.get("x-original-from", []), "x-original-from")
    reply_to = addresses(raw_headers.get("reply-to", []), "reply-to")
    return ParsedMessage(
        raw=raw,
        message_id=(msg_ids(first("message-id")) or (None,))[0],
        in_reply_to=msg_ids(" ".join(raw_headers.get("in-reply-to", []))),
        references=msg_ids(" ".join(raw_headers.get("references", []))),
        from_addr=(sender.email or None) if sender else None,
        from_name=sender.name if sender else "",
        reply_to=tuple(a.email for a in reply_to),
        reply_to_mailboxes=reply_to,
        original_from=original_from[0] if len(original_from) == 1 else None,
        to=tuple(a.email for a in addresses(raw_headers.get("to", []), "to")),
        cc=tuple(a.email for a in addresses(raw_headers.get("cc", []), "cc")),
        delivered_to=tuple(dict.fromkeys(a.email for h in ("delivered-to", "x-original-to", "envelope-to")
                                         for a in addresses(raw_headers.get(h, []), h))),
        return_path=return_path,
        subject=collapse(decode_unstructured(subject)) if subject is not None else "",
        date=parse_date(first("date")),
        text=text,
        new_text=new_text,
        forwarder_text=extract_new_text(own_words) if inline_forward else (new_text if walker.forwarded else ""),
        html=html,
        attachments=attachments,
        forwarded=((inline_forward,) if inline_forward else ()) + tuple(walker.forwarded),
        headers=MappingProxyType(headers),
        content_type=content_type(msg),
        is_delivery_report=walker.is_delivery_report,
        report_original=walker.report_original if walker.is_delivery_report else None,
        body_digest=_body_digest(raw),
        defects=tuple(walker.defects),
    )
