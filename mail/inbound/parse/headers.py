"""Header values: raw access, RFC 2047 decoding, message ids and dates.

Messages are parsed with the compat32 policy, which never raises on odd headers; these helpers
read the raw values (`raw_values`) and decode them liberally, with the charset fallback of
`charsets.decode_bytes` for encoded words and for raw 8-bit bytes.
"""

from __future__ import annotations

import email.header
import email.utils
import re
from datetime import UTC, datetime
from email.message import Message

from mail.inbound.parse.charsets import decode_bytes, unsurrogate

__all__ = ["collapse", "decode_rfc2047", "decode_unstructured", "msg_ids", "parse_date", "raw_value",
           "raw_values", "unfold"]

FOLD_RE = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_WS_RE = re.compile(r"\s+")
ENCODED_WORD_RE = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
#: Control characters (C0 but tab, DEL, C1) never belong in a header value; ESC sequences in a
#: subject would otherwise reach an operator's terminal.
HEADER_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def collapse(value: str) -> str:
    """Runs of whitespace as one space, stripped."""
    return _WS_RE.sub(" ", value).strip()


def unfold(value: str) -> str:
    """A header value without its folding line breaks (RFC 5322 section 2.2.3)."""
    return FOLD_RE.sub("", value)


def raw_items(part: Message) -> list[tuple[str, str]]:
    """(name, raw value) pairs of a part's header, never going through a header parser."""
    try:
        return [(str(k), str(v)) for k, v in part.raw_items()]
    except Exception:  # noqa: BLE001 - a damaged header list: read what is there
        return [(str(k), str(v)) for k, v in getattr(part, "_headers", [])]


def raw_values(part: Message, name: str) -> list[str]:
    """Raw values of the headers called ``name`` (any case), in order."""
    name = name.lower()
    return [v for k, v in raw_items(part) if k.lower() == name]


def raw_value(part: Message, name: str) -> str | None:
    """The first raw value of header ``name``, or None."""
    values = raw_values(part, name)
    return values[0] if values else None


def decode_rfc2047(value: str) -> str:
    """Decode RFC 2047 encoded words liberally (unknown or wrong charsets, words inside quotes).

    Adjacent encoded words separated only by whitespace are joined (RFC 2047 section 6.2).
    Each word's bytes go through `decode_bytes` with its declared charset. Never raises.
    """
    value = unsurrogate(value)
    if "=?" not in value:
        return value
    try:
        chunks = email.header.decode_header(value)
    except Exception:  # noqa: BLE001 - malformed words stay as written
        return value
    return "".join(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset)
                   for chunk, charset in chunks)


def decode_unstructured(value: str) -> str:
    """An unstructured header value (RFC 5322 section 3.2.5): unfolded, RFC 2047 decoded, without
    control characters."""
    decoded = decode_rfc2047(unfold(str(value)))
    if "=?" in decoded and ENCODED_WORD_RE.search(decoded):
        # decode_header needs whitespace around words; decode the leftovers one by one
        decoded = ENCODED_WORD_RE.sub(lambda m: decode_rfc2047(" " + m.group(0) + " ").strip(), decoded)
    return HEADER_CONTROL_RE.sub("", decoded)


_MSGID_RE = re.compile(r"<([^<>]*)>")


def msg_ids(value: str | None) -> tuple[str, ...]:
    """Message ids of a Message-ID/In-Reply-To/References value (RFC 5322 section 3.6.4), without <>.

    Ids longer than 998 characters (the longest line RFC 5322 allows) are garbage and dropped.
    """
    if not value:
        return ()
    value = unsurrogate(value)
    ids = [re.sub(r"\s+", "", m) for m in _MSGID_RE.findall(value)] or [t.strip("<>") for t in value.split()]
    ids = [HEADER_CONTROL_RE.sub("", i) for i in ids]
    return tuple(dict.fromkeys(i for i in ids if i and len(i) <= 998))


def parse_date(value: str | None) -> datetime | None:
    """Aware datetime from an RFC 5322 date-time; None when missing, unparseable or implausible.

    A "-0000" zone or none (RFC 5322 section 3.3: time known, zone unknown) is read as UTC.
    Values over 120 characters and years outside 1970–2200 are not dates.
    """
    if not value:
        return None
    value = collapse(unsurrogate(value))
    if len(value) > 120:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None or not (1970 <= parsed.year <= 2200):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
