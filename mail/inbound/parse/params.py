"""MIME part headers: content type, charset, disposition, description, filenames.

Parameters are read with the RFC 2231 rules (continuations, ``name*=charset''…``); every decoded
value goes through the charset fallback of `charsets.decode_bytes`, so a declared charset that
does not match the octets never turns a filename into U+FFFD. Filenames are sanitised
(`tickets.filenames.sanitize_filename`, the rule the panel's uploads follow too).
"""

from __future__ import annotations

import email.policy
from email.message import Message

from mail.inbound.parse.charsets import decode_bytes, unsurrogate
from mail.inbound.parse.headers import collapse, decode_unstructured, raw_value, unfold
from tickets.filenames import sanitize_filename  # one rule for every file we keep (re-exported)

__all__ = ["charset", "content_type", "description", "disposition", "param", "part_filename", "sanitize_filename"]

def _rfc2231_value(value: tuple) -> str:
    """An RFC 2231 extended value — (charset, language, octets as latin-1 code points, already
    percent-decoded by the stdlib) — decoded with the charset fallback: the octets decide when
    the declared charset is wrong."""
    declared, _language, text = value
    text = str(text)
    if any(ord(ch) > 255 for ch in text):  # raw non-ASCII text (already decoded), not octets
        return text
    return decode_bytes(text.encode("latin-1"), declared or None)


def param(raw_header: str | None, name: str) -> str | None:
    """Parameter `name` of a raw Content-Type / Content-Disposition value (RFC 2045, RFC 2231), or None."""
    if not raw_header:
        return None
    try:
        helper = Message(policy=email.policy.compat32)
        helper["Content-Type"] = unsurrogate(unfold(raw_header))
        value = helper.get_param(name, header="content-type")
    except Exception:  # noqa: BLE001 - an unreadable parameter list has no parameters
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        return _rfc2231_value(value)
    return str(value)


def part_filename(part: Message) -> str | None:
    """The filename a part suggests: Content-Disposition filename, else Content-Type name (RFC 2183,
    RFC 2231, and the common but non-standard RFC 2047 encoded words inside a quoted parameter)."""
    for header, name in (("content-disposition", "filename"), ("content-type", "name")):
        value = param(raw_value(part, header), name)
        if value:
            value = unsurrogate(value)
            return decode_unstructured(value) if "=?" in value else value
    return None


def content_type(part: Message) -> str:
    """Lower-case "type/subtype" read from the raw header. RFC 2045 section 5.2: a missing or invalid
    value means text/plain (message/rfc822 inside multipart/digest); RFC 6838 names are at most 127
    restricted characters, so anything longer or odd is application/octet-stream."""
    raw = raw_value(part, "content-type")
    if raw is None:
        return part.get_default_type()
    ctype = "".join(unsurrogate(unfold(raw)).split(";", 1)[0].strip().strip('"').lower().split())
    if ctype.count("/") != 1 or ctype.startswith("/") or ctype.endswith("/"):
        return "text/plain"
    if len(ctype) > 100 or not ctype.isascii() or not ctype.isprintable():
        return "application/octet-stream"
    return ctype


def charset(part: Message) -> str | None:
    """The declared charset parameter of a part, or None."""
    value = param(raw_value(part, "content-type"), "charset")
    return value.strip() if value else None


def disposition(part: Message) -> str | None:
    """"inline", "attachment" (RFC 2183) or another lower-cased token; None when absent."""
    raw = raw_value(part, "content-disposition")
    return (unsurrogate(raw).split(";", 1)[0].strip().lower() or None) if raw else None


def description(part: Message) -> str:
    """Content-Description (RFC 2045 section 8), decoded; "" when absent."""
    raw = raw_value(part, "content-description")
    return collapse(decode_unstructured(raw)) if raw else ""
