"""Turn the raw bytes of one inbound message into a `ParsedMessage`: pure parsing, no database, no network.

The parser is liberal (RFC 5322 section 3 "be liberal in what you accept"): it never raises on
malformed mail except `UnparseableMessage` when the input is not a mail at all. CPython's header
parser (policy.default) has known crashes on odd headers; every header access falls back to the
compat32 view or to raw RFC 2047 decoding, and bodies are decoded from the parts' payloads directly
instead of calling ``get_content()`` (which raises on unknown charsets and broken multiparts).
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.policy
import email.utils
import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.message import Message
from types import MappingProxyType
from zoneinfo import ZoneInfo

__all__ = [
    "Attachment",
    "ForwardedMessage",
    "ParsedMessage",
    "UnparseableMessage",
    "decode_bytes",
    "html_to_text",
    "parse_message",
    "sanitize_filename",
    "split_forward",
]

#: Time zone assumed for dates written without one inside forwarded text (DESIGN.md default).
DEFAULT_TZ: tzinfo = ZoneInfo("America/Lima")
#: Nesting limit for message/rfc822 parts parsed recursively (forwarded mail, bounces).
MAX_NESTING = 5
#: Address headers longer than this skip policy.default's parser (super-linear) for getaddresses.
MAX_STRUCTURED_HEADER_CHARS = 4096
#: Longest filename kept, in characters (extension preserved).
MAX_FILENAME_CHARS = 200


class UnparseableMessage(ValueError):
    """The bytes are not a mail message at all (empty input, a binary file with no headers)."""


@dataclass(frozen=True)
class Attachment:
    """One file carried by a message.

    filename: sanitised (no path parts, no control chars, no leading dots, at most 200 chars,
    never empty: "adjunto" plus an extension guessed from the type). content_type: lower-case
    "type/subtype". inline: Content-Disposition inline with a Content-ID (RFC 2392), e.g. images
    of a signature.
    """

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True)
class ForwardedMessage:
    """A message forwarded inline (marker plus header block in the text) or attached (message/rfc822).

    from_addr is lower-cased; date is aware (naive dates in forwarded text get `DEFAULT_TZ`);
    text is the forwarded message's own body; attached is True for a message/rfc822 part.
    """

    from_addr: str | None
    from_name: str
    subject: str
    date: datetime | None
    text: str
    attached: bool


@dataclass(frozen=True)
class ParsedMessage:
    """Everything the classifier and the ticket services need from one message. See `parse_message`.

    `forwarded` lists the inline forward found in `text` first (if any, see `split_forward`; note
    that an Outlook reply's quoted "De:/Enviado:/Para:/Asunto:" block is reported too, so the
    caller decides whether it is a forward), then the message/rfc822 parts in MIME order.
    """

    raw: bytes
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_addr: str | None
    from_name: str
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    delivered_to: tuple[str, ...]
    return_path: str | None
    subject: str
    date: datetime | None
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    forwarded: tuple[ForwardedMessage, ...]
    headers: Mapping[str, tuple[str, ...]]
    content_type: str
    is_delivery_report: bool
    report_original: ParsedMessage | None
    body_digest: str
    defects: tuple[str, ...]

    def header(self, name: str, default: str = "") -> str:
        """First decoded value of the top-level header `name` (case-insensitive), else `default`."""
        values = self.headers.get(name.lower())
        return values[0] if values else default


# --------------------------------------------------------------------------------------------
# Charsets

#: Labels seen in the wild mapped to the codec that really decodes them (WHATWG Encoding
#: Standard practice: latin-1 and ascii labels are read as windows-1252, gb2312 as gb18030).
_CHARSET_ALIASES = {
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "none": "",
    "default": "",
    "x-user-defined": "",
}
_ALIASES_LATIN = {"cp1252", ""}


def _codec_for(charset: str | None) -> str:
    """Return a Python codec name for a MIME charset label, or "" when unknown or absent."""
    if not charset:
        return ""
    label = str(charset).strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    if not label:
        return ""
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return ""


def decode_bytes(
    data: bytes, charset: str | None = None, hint: str | None = None
) -> str:
    """Decode text bytes as well as possible; never raises, never leaves U+FFFD when avoidable.

    Order: the declared charset (strict), else `hint` (a charset the same message uses elsewhere); for
    latin/ascii/absent labels, UTF-8 first when the bytes
    are valid UTF-8 (a common lie the other way round); then charset-normalizer's guess, cp1252
    and finally latin-1 (which decodes anything). RFC 2045 section 5.2 makes us-ascii the default,
    RFC 6657 lets receivers be liberal about it.
    """
    if not data:
        return ""
    codec = _codec_for(charset)
    candidates: list[str] = []
    if codec in _ALIASES_LATIN or codec == "ascii" or not codec:
        candidates.append("utf-8")
    if codec:
        candidates.append(codec)
    if not codec and _codec_for(hint):
        candidates.append(_codec_for(hint))
    for name in candidates:
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    guessed = _guess_decode(data)
    if guessed is not None:
        return guessed
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_LATIN_SINGLE_BYTE = {
    "cp1250",
    "cp1252",
    "cp1254",
    "cp1257",
    "cp1258",
    "latin_1",
    "iso8859_2",
    "iso8859_3",
    "iso8859_4",
    "iso8859_9",
    "iso8859_10",
    "iso8859_13",
    "iso8859_14",
    "iso8859_15",
    "iso8859_16",
    "mac_latin2",
    "mac_roman",
    "mac_iceland",
    "mac_turkish",
    "cp850",
    "cp437",
    "cp852",
    "cp858",
    "hp_roman8",
}


def _guess_decode(data: bytes) -> str | None:
    """charset-normalizer's best guess, or None (no guess, or one that needs U+FFFD)."""
    if data.isascii():
        return data.decode("ascii")
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is None or not best.encoding:
            return None
        encoding = best.encoding
        if encoding in _LATIN_SINGLE_BYTE:
            # charset-normalizer cannot tell Western code pages apart on short Spanish text
            # (it reads "baño" as cp1250 "bańo"); windows-1252 is by far the likeliest.
            try:
                return data.decode("cp1252")
            except UnicodeDecodeError:
                pass
        text = data.decode(encoding)
    except Exception:  # noqa: BLE001 - any failure of the guesser just means "no guess"
        return None
    return None if "\ufffd" in text else text


_SURROGATE_RE = re.compile("[\udc80-\udcff]")


def _unsurrogate(value: str) -> str:
    """Header strings from message_from_bytes carry raw 8-bit bytes as surrogates; decode them."""
    if not _SURROGATE_RE.search(value):
        return value
    return decode_bytes(value.encode("ascii", "surrogateescape"))


# --------------------------------------------------------------------------------------------
# Headers

_FOLD_RE = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_WS_RE = re.compile(r"\s+")
_ENCODED_WORD_RE = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def decode_rfc2047(value: str) -> str:
    """Decode RFC 2047 encoded words liberally (unknown charsets, words inside quotes, no spaces).

    Adjacent encoded words separated only by whitespace are joined (RFC 2047 section 6.2).
    Never raises.
    """
    value = _unsurrogate(value)
    if "=?" not in value:
        return value
    try:
        chunks = email.header.decode_header(value)
    except Exception:  # noqa: BLE001
        return value
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            out.append(decode_bytes(chunk, charset))
    return "".join(out)


def _decode_unstructured(value: str) -> str:
    """An unstructured header value (RFC 5322 section 3.2.5): unfolded and RFC 2047 decoded."""
    value = _FOLD_RE.sub("", str(value))
    decoded = decode_rfc2047(value)
    if "=?" in decoded and _ENCODED_WORD_RE.search(decoded):
        # decode_header needs whitespace around words; decode the leftovers one by one.
        decoded = _ENCODED_WORD_RE.sub(
            lambda m: decode_rfc2047(" " + m.group(0) + " ").strip(), decoded
        )
    return _HEADER_CONTROL_RE.sub("", decoded)


#: Control characters (C0 but tab, DEL, C1) never belong in a header value; ESC sequences in a
#: subject would otherwise reach an operator's terminal.
_HEADER_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _collapse(value: str) -> str:
    return _WS_RE.sub(" ", value).strip()


def _raw_headers(msg: Message) -> list[tuple[str, str]]:
    """(name, raw value) pairs, never going through the header parser."""
    try:
        return [(str(k), str(v)) for k, v in msg.raw_items()]
    except Exception:  # noqa: BLE001
        return [(str(k), str(v)) for k, v in getattr(msg, "_headers", [])]


def _raw_get_all(msg: Message, name: str) -> list[str]:
    """Raw values of the headers called ``name`` (any case), in order.

    The headers of a part are indexed by lower-cased name once, on first use (a message's
    headers are read some thirty times while parsing it, and never changed).
    """
    index = msg.__dict__.get("_atencion_raw_index")
    if index is None:
        index = {}
        for k, v in _raw_headers(msg):
            index.setdefault(k.lower(), []).append(v)
        msg.__dict__["_atencion_raw_index"] = index
    return list(index.get(name.lower(), ()))


def _raw_get(msg: Message, name: str) -> str | None:
    values = _raw_get_all(msg, name)
    return values[0] if values else None


_ADDR_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*"
)


_PLAIN_ADDR_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\Z")

#: RFC 5321 section 4.5.3.1.3: a path is at most 256 octets, so an address at most 254.
MAX_ADDRESS_CHARS = 254


def _usable_addr(addr: str) -> str | None:
    """Lower-cased bare address when it has a local part and a domain (RFC 5322 addr-spec), else None.

    Refused: longer than 254 characters (RFC 5321), or holding whitespace, quotes, angle brackets,
    control or invisible format characters (U+200B and the like) — such an address cannot be
    answered and could dodge the own-address loop guard.
    """
    addr = (addr or "").strip().strip("<>").strip()
    if addr.count("@") < 1 or len(addr) > MAX_ADDRESS_CHARS:
        return None
    if _PLAIN_ADDR_RE.match(addr):  # printable ASCII only: none of the checks below can refuse it
        local, _, domain = addr.partition("@")
        domain = domain.rstrip(".")
        return f"{local}@{domain}".lower() if local and domain else None
    local, _, domain = addr.rpartition("@")
    local, domain = local.strip(), domain.strip().rstrip(".")
    if not local or not domain:
        return None
    quoted = len(local) > 2 and local[0] == local[-1] == '"'  # RFC 5322 quoted-string local part
    for ch in (local[1:-1] if quoted else local) + domain:
        if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} or ch in '"<>\\':
            return None
        if not quoted and (ch.isspace() or ch in ",;"):
            return None
    if not (domain.startswith("[") and domain.endswith("]")) and not all(
            ch.isalnum() or ch in "-." for ch in domain):
        return None  # RFC 5321 domain: labels of letters, digits and hyphens (or an address literal)
    return f"{local}@{domain}".lower()


_ENCODED_ADDR_RE = re.compile(r"<[^<>]*=\?[^<>]*\?=[^<>]*>")


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_SIMPLE_ADDR = (rf"{_ATEXT}+(?:\.{_ATEXT}+)*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")
#: One mailbox of the plain shapes nearly all mail uses (RFC 5322 section 3.4): ``addr``, ``<addr>``,
#: ``Name <addr>`` (atoms, dots, non-ASCII letters, encoded words) or ``"Quoted, Name" <addr>``,
#: then a comma or the end. Anything else (comments, groups, escapes, routes) takes the full parser.
_PHRASE_CHAR = r"[^\x00-\x20\x7f-\x9f\"(),:;<>@\[\]\\]"
_SIMPLE_MAILBOX_RE = re.compile(
    # words separated by spaces (no run of whitespace can be split two ways: linear time)
    rf"[ \t]*(?:(?P<bare>{_SIMPLE_ADDR})"
    rf"|(?:(?P<phrase>{_PHRASE_CHAR}+(?: +{_PHRASE_CHAR}+)*)"
    rf"|\"(?P<quoted>[^\x00-\x1f\x7f-\x9f\"\\]*)\")?[ \t]*<(?P<angle>{_SIMPLE_ADDR})>)[ \t]*(?:,|$)"
)


def _simple_addresses(raw: str) -> list[tuple[str, str | None]] | None:
    """(display name, address) pairs of a header made only of plain mailboxes, else None.

    The fast path of `_parse_addresses` (the RFC 5322 parser of the standard library costs
    ≈ 0.1 ms per header): it gives the same pairs for what it accepts, and declines the rest —
    long values, an encoded word in an address (RFC 2047 section 5 forbids it; the full path
    decodes it, so our own address cannot hide that way), a malformed encoded word in a name,
    an unusable or repeated address.
    """
    if len(raw) > MAX_STRUCTURED_HEADER_CHARS:
        return None
    pairs: list[tuple[str, str | None]] = []
    pos, end = 0, len(raw)
    while pos < end:
        m = _SIMPLE_MAILBOX_RE.match(raw, pos)
        if m is None or m.end() == pos:
            return None
        addr = m["bare"] if m["bare"] is not None else m["angle"]
        if "=?" in addr:
            return None
        display = "" if m["bare"] is not None else (m["quoted"] if m["quoted"] is not None else m["phrase"]) or ""
        if "=?" in display and "=?" in _ENCODED_WORD_RE.sub("", display):
            return None
        pairs.append((_collapse(_decode_unstructured(display)) if display else "", _usable_addr(addr)))
        pos = m.end()
        if raw.endswith(",", 0, pos) and not raw[pos:].strip():
            return None  # a trailing comma: let the full parser judge it
    addrs = [a for _, a in pairs]
    if None in addrs or len(set(addrs)) < len(addrs):
        return None  # an unusable or repeated address: the full parser decides the names
    return pairs or None


def _parse_addresses(msg: Message, name: str) -> list[tuple[str, str | None]]:
    """All (display name, lower-cased address or None) pairs of the headers called `name`.

    Tries the RFC 5322 parser of policy.default and falls back to `email.utils.getaddresses` on
    the decoded text, which survives the CPython bugs (empty groups, a Cc cut after "@").
    """
    result: list[tuple[str, str | None]] = []
    for raw in _raw_get_all(msg, name):
        raw = _FOLD_RE.sub("", raw)
        if _ENCODED_ADDR_RE.search(raw):
            # RFC 2047 section 5: an encoded word never appears inside an addr-spec; one there
            # hides what the address really is (e.g. our own address plus an invisible character)
            result.append((_collapse(_decode_unstructured(raw.split("<", 1)[0])), None))
            continue
        simple = _simple_addresses(_unsurrogate(raw))
        if simple is not None:
            result.extend(simple)
            continue
        pairs: list[tuple[str, str | None]] | None = None
        try:
            if len(raw) > MAX_STRUCTURED_HEADER_CHARS:
                raise ValueError(
                    "too long for the RFC 5322 parser"
                )  # it is super-linear in size
            header = email.policy.default.header_factory(name, _unsurrogate(raw))
            pairs = []
            for addr in header.addresses:
                display = _decode_unstructured(addr.display_name or "")
                pairs.append((_collapse(display), _usable_addr(addr.addr_spec)))
            if "@" in raw and (not pairs or any(a is None for _, a in pairs)):
                pairs = None  # the parser lost an address that is clearly there
        except Exception:  # noqa: BLE001 - CPython header parser bugs
            pairs = None
        if pairs is None:
            pairs = []
            try:
                parsed = email.utils.getaddresses([_unsurrogate(raw)])
            except Exception:  # noqa: BLE001
                parsed = []
            for display, addr in parsed:
                if not display and not addr:
                    continue
                pairs.append(
                    (_collapse(_decode_unstructured(display)), _usable_addr(addr))
                )
            if not any(a for _, a in pairs):
                found = _ADDR_RE.findall(_unsurrogate(raw))
                pairs = [("", _usable_addr(a)) for a in found] or pairs
        try:
            raw_names = {
                _usable_addr(a): n
                for n, a in email.utils.getaddresses([_unsurrogate(raw)])
                if n and _usable_addr(a)
            }
        except Exception:  # noqa: BLE001
            raw_names = {}
        if raw_names:
            # getaddresses keeps RFC 5322 comments ("addr (Name)") as names and the raw encoded
            # words, which decode_header joins without the whitespace between them (RFC 2047 6.2).
            pairs = [
                (
                    _collapse(_decode_unstructured(raw_names[a]))
                    if a in raw_names and (not n or "=?" in raw_names[a])
                    else n,
                    a,
                )
                for n, a in pairs
            ]
        result.extend(pairs)
    return result


def _addr_tuple(msg: Message, name: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for _, addr in _parse_addresses(msg, name):
        if addr:
            seen.setdefault(addr, None)
    return tuple(seen)


_MSGID_RE = re.compile(r"<([^<>]*)>")


def _msg_ids(value: str | None) -> tuple[str, ...]:
    """Message ids of a Message-ID/In-Reply-To/References value (RFC 5322 section 3.6.4), without <>."""
    if not value:
        return ()
    value = _unsurrogate(value)
    ids = [re.sub(r"\s+", "", m) for m in _MSGID_RE.findall(value)]
    if not ids:
        ids = [tok.strip("<>") for tok in value.split()]
    ids = [_HEADER_CONTROL_RE.sub("", i) for i in ids]
    # RFC 5322 lines are at most 998 characters: a longer id is garbage, not an identifier
    return tuple(dict.fromkeys(i for i in ids if i and len(i) <= 998))


def parse_date(value: str | None) -> datetime | None:
    """Aware datetime from an RFC 5322 date-time; None when missing or unparseable.

    A "-0000" zone (RFC 5322 section 3.3: time known, zone unknown) is read as UTC.
    """
    if not value:
        return None
    value = _collapse(_unsurrogate(value))
    if len(value) > 120:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None or not (1970 <= parsed.year <= 2200):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


# --------------------------------------------------------------------------------------------
# Filenames

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


_WINDOWS_DEVICE_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                         *(f"LPT{i}" for i in range(1, 10))}


def sanitize_filename(
    name: str | None, content_type: str = "application/octet-stream"
) -> str:
    """A safe file name: last path component only, no control or bidi characters, no leading dots,
    at most `MAX_FILENAME_CHARS` characters (the extension kept), never empty ("adjunto" plus an
    extension guessed from `content_type`).

    >>> sanitize_filename("../../etc/passwd")
    'passwd'
    """
    name = _CONTROL_RE.sub("", name or "")
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")  # zero-width, BOM, bidi
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = _collapse(name).lstrip(".").strip()
    if name.split(".")[0].strip().upper() in _WINDOWS_DEVICE_NAMES:
        name = "_" + name
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip()
    if not name:
        ext = mimetypes.guess_extension(content_type or "", strict=False) or ".bin"
        if content_type == "text/plain":
            ext = ".txt"
        name = "adjunto" + ext
    return name


def _param_from_raw(raw_value: str, param: str) -> str | None:
    """A parameter from a raw Content-Type/Content-Disposition value, via compat32 (RFC 2231 aware)."""
    try:
        helper = Message(policy=email.policy.compat32)
        helper["Content-Type"] = _unsurrogate(_FOLD_RE.sub("", raw_value))
        value = helper.get_param(param, header="content-type")
    except Exception:  # noqa: BLE001
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        try:
            return email.utils.collapse_rfc2231_value(value, fallback_charset="utf-8")
        except Exception:  # noqa: BLE001
            return decode_bytes(str(value[2]).encode("latin-1", "replace"), value[0])
    return str(value)


def _part_filename(part: Message) -> str | None:
    """Filename from Content-Disposition filename or Content-Type name (RFC 2183, RFC 2231, and the
    non-standard but common RFC 2047 encoded words inside a quoted parameter)."""
    name: str | None = None
    for header, param in (
        ("content-disposition", "filename"),
        ("content-type", "name"),
    ):
        raw = _raw_get(part, header)
        if raw is None:
            continue
        name = _param_from_raw(raw, param)
        if name:
            break
    if not name:
        return None
    name = _unsurrogate(name)
    if "=?" in name:
        name = _decode_unstructured(name)
    return name


def _content_type(part: Message) -> str:
    """Lower-case "type/subtype" read from the raw header (RFC 2045 section 5.2: a missing or
    invalid value means text/plain, or message/rfc822 inside multipart/digest)."""
    raw = _raw_get(part, "content-type")
    if raw is None:
        return part.get_default_type()
    ctype = (
        _unsurrogate(_FOLD_RE.sub("", raw)).split(";", 1)[0].strip().strip('"').lower()
    )
    ctype = "".join(ctype.split())
    if ctype.count("/") != 1 or ctype.startswith("/") or ctype.endswith("/"):
        return "text/plain"
    if len(ctype) > 100 or not ctype.isascii() or not ctype.isprintable():
        return "application/octet-stream"  # RFC 6838 names are at most 127 restricted characters
    return ctype


def _charset(part: Message) -> str | None:
    raw = _raw_get(part, "content-type")
    if not raw:
        return None
    value = _param_from_raw(raw, "charset")
    return value.strip() if value else None


_BOUNDARY_LINE_RE = re.compile(rb"^--(\S[^\r\n]{0,199}?)[ \t]*\r?$", re.MULTILINE)


def _resplit_multipart(part: Message, ctype: str) -> Message | None:
    """Re-parse a broken multipart with the boundary its body actually uses, or None.

    The boundary is a "--xxx" line (RFC 2046 section 5.1.1) followed by a header line.
    """
    payload = part.get_payload()
    if not isinstance(payload, str) or len(payload) > 20_000_000:
        return None
    data = (
        payload.encode("ascii", "surrogateescape")
        if payload.isascii()
        else payload.encode("utf-8", "surrogateescape")
    )
    for m in _BOUNDARY_LINE_RE.finditer(data):
        boundary = m.group(1)
        if boundary.endswith(b"--") or b'"' in boundary:
            continue
        following = data[m.end() : m.end() + 200].lstrip(b"\r\n")
        if not _HEADER_LINE_RE.match(following):
            continue
        synthetic = (
            b"Content-Type: "
            + ctype.encode()
            + b'; boundary="'
            + boundary
            + b'"\n\n'
            + data
        )
        try:
            rebuilt = email.message_from_bytes(synthetic, policy=email.policy.compat32)
        except Exception:  # noqa: BLE001
            return None
        if (
            rebuilt.is_multipart()
            and isinstance(rebuilt.get_payload(), list)
            and rebuilt.get_payload()
        ):
            return rebuilt
        return None
    return None


def _description(part: Message) -> str:
    """Content-Description (RFC 2045 section 8), decoded; "" when absent."""
    raw = _raw_get(part, "content-description")
    return _collapse(_decode_unstructured(raw)) if raw else ""


def _disposition(part: Message) -> str | None:
    raw = _raw_get(part, "content-disposition")
    if not raw:
        return None
    return _unsurrogate(raw).split(";", 1)[0].strip().lower() or None


def _payload_bytes(part: Message) -> bytes:
    """The decoded (base64/QP/uuencode) payload of a leaf part; never raises (RFC 2045 section 6)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return (
            payload.encode("ascii", "surrogateescape")
            if payload.isascii()
            else payload.encode("utf-8", "surrogateescape")
        )
    return b""


def _part_text(part: Message, hint: str | None = None) -> str:
    return _clean_text(decode_bytes(_payload_bytes(part), _charset(part), hint))


def _clean_text(text: str) -> str:
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


_LOOKS_HTML_RE = re.compile(
    r"<\s*(html|body|div|p|br|table|span|font|head)\b", re.IGNORECASE
)


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML document or fragment (inscriptis). Never raises."""
    if not html or not html.strip():
        return ""
    try:
        from inscriptis import get_text
        from inscriptis.css_profiles import CSS_PROFILES
        from inscriptis.model.config import ParserConfig

        # The "strict" profile: the default "relaxed" one indents every nested <div>.
        text = get_text(html, ParserConfig(css=CSS_PROFILES["strict"]))
    except Exception:  # noqa: BLE001
        text = re.sub(r"<[^>]*>", " ", html)
    text = _clean_text(text)
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _message_bytes(msg: Message) -> bytes:
    """Serialise a nested message; policy.default can raise on odd headers, so fall back to compat32."""
    for policy in (None, email.policy.compat32):
        try:
            return msg.as_bytes(policy=policy) if policy else msg.as_bytes()
        except Exception:  # noqa: BLE001, S112 - try the next, more lenient serialisation
            continue
    try:
        return msg.as_string(policy=email.policy.compat32).encode(
            "utf-8", "surrogateescape"
        )
    except Exception:  # noqa: BLE001
        return b""


# --------------------------------------------------------------------------------------------
# RTF (TNEF bodies)


def _lzfu_decompress(data: bytes) -> bytes | None:
    """Decompress MS-OXRTFCP compressed RTF ("LZFu"); None when it is not compressed RTF."""
    if len(data) < 16:
        return None
    import struct

    comp_size, raw_size, magic, _crc = struct.unpack("<IIII", data[:16])
    if magic == 0x414C454D:  # "MELA": stored uncompressed
        return data[16 : 16 + raw_size]
    if magic != 0x75465A4C:  # "LZFu"
        return None
    prebuf = (
        b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern "
        b"\\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0"
        b"\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"
    )
    window = bytearray(4096)
    window[: len(prebuf)] = prebuf
    wpos = len(prebuf)
    out = bytearray()
    pos, end = 16, min(len(data), comp_size + 4)
    while pos < end:
        flags = data[pos]
        pos += 1
        for bit in range(8):
            if pos >= end:
                break
            if flags & (1 << bit):
                if pos + 1 >= len(data):
                    return bytes(out)
                ref = (data[pos] << 8) | data[pos + 1]
                pos += 2
                offset, length = ref >> 4, (ref & 0xF) + 2
                if offset == wpos % 4096:
                    return bytes(out)
                for i in range(length):
                    ch = window[(offset + i) % 4096]
                    out.append(ch)
                    window[wpos % 4096] = ch
                    wpos += 1
            else:
                ch = data[pos]
                pos += 1
                out.append(ch)
                window[wpos % 4096] = ch
                wpos += 1
    return bytes(out)


def rtf_to_text(rtf: bytes | str) -> tuple[str, str | None]:
    """(plain text, embedded HTML or None) of an RTF document; handles Outlook's \\fromhtml RTF."""
    if isinstance(rtf, bytes):
        rtf = rtf.decode("latin-1")
    html_mode = "\\fromhtml" in rtf[:2000]
    out: list[str] = []
    stack: list[bool] = []
    skip = False
    i, n = 0, len(rtf)
    pending: bytearray = bytearray()
    uc_skip = 0

    def flush() -> None:
        if pending:
            out.append(decode_bytes(bytes(pending), "cp1252"))
            pending.clear()

    destinations = {
        "fonttbl",
        "colortbl",
        "stylesheet",
        "info",
        "pict",
        "object",
        "header",
        "footer",
        "themedata",
        "colorschememapping",
        "datastore",
        "latentstyles",
        "listtable",
        "listoverridetable",
        "rsidtbl",
        "xmlnstbl",
        "generator",
        "mmathPr",
    }
    htmltag = False
    while i < n:
        ch = rtf[i]
        if ch == "{":
            stack.append(skip)
            i += 1
            continue
        if ch == "}":
            skip = stack.pop() if stack else False
            i += 1
            continue
        if ch == "\\":
            m = re.compile(
                r"\\([a-zA-Z]+)(-?\d+)? ?|\\'([0-9a-fA-F]{2})|\\(.)", re.DOTALL
            ).match(rtf, i)
            if not m:
                i += 1
                continue
            i = m.end()
            word, arg, hexbyte, sym = m.group(1), m.group(2), m.group(3), m.group(4)
            if hexbyte is not None:
                if uc_skip:
                    uc_skip -= 1
                elif not skip:
                    pending.extend(bytes([int(hexbyte, 16)]))
                continue
            flush()
            if sym is not None:
                if sym == "*":
                    skip = True
                elif sym in "\\{}" and not skip:
                    out.append(sym)
                elif sym == "~" and not skip:
                    out.append("\u00a0")
                continue
            if word in destinations:
                skip = True
            elif word == "htmltag":
                htmltag = True
                if html_mode:
                    skip = False
            elif word == "htmlrtf":
                skip = arg != "0" if html_mode else skip
            elif skip:
                continue
            elif word in ("par", "line"):
                out.append("\n")
            elif word == "tab":
                out.append("\t")
            elif word == "u" and arg:
                code = int(arg)
                out.append(chr(code + 65536 if code < 0 else code))
                uc_skip = 1
            continue
        if ch in "\r\n":
            i += 1
            continue
        if not skip:
            if uc_skip:
                uc_skip -= 1
            else:
                pending.extend(ch.encode("latin-1", "replace"))
        i += 1
    flush()
    text = "".join(out)
    if html_mode and htmltag:
        return html_to_text(text), text
    return _clean_text(text).strip(), None


# --------------------------------------------------------------------------------------------
# Inline forwards

_FWD_MARKER_RE = re.compile(
    r"^[ \t>]*(?:"
    r"-{2,}\s*(?:Forwarded message|Mensaje reenviado|Original Message|Mensaje original|Message d'origine"
    r"|Message transf[ée]r[ée]|Weitergeleitete Nachricht|Urspr[üu]ngliche Nachricht)\s*-{2,}"
    r"|(?:Begin forwarded message|Inicio del mensaje reenviado|Comienzo del mensaje reenviado):"
    r"|_{20,}"
    r")[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_FWD_HEADER_RE = re.compile(
    r"^[ \t>*]*([A-Za-z\u00c0-\u00ff][\w\u00c0-\u00ff-]{0,25}(?: el| a)?)[ \t]*\**[ \t]*:[ \t]*\**[ \t]*(.*)$",
    re.IGNORECASE,
)
_OUTLOOK_BLOCK_RE = re.compile(
    r"^[ \t>*]*(?:De|From)[ \t]*\**:[^\n]*\n(?:[ \t>*]*[^\n:]{1,20}:[^\n]*\n){0,3}?"
    r"[ \t>*]*(?:Enviado(?: el)?|Sent|Fecha|Date)[ \t]*\**:",
    re.IGNORECASE | re.MULTILINE,
)
_FIELD_KEYS = {
    "from": "from",
    "de": "from",
    "sent": "date",
    "enviado": "date",
    "enviado el": "date",
    "date": "date",
    "fecha": "date",
    "to": "to",
    "para": "to",
    "subject": "subject",
    "asunto": "subject",
}


def split_forward(
    text: str, *, default_tz: tzinfo = DEFAULT_TZ
) -> tuple[str, ForwardedMessage | None]:
    """Split an inline forward: (the forwarder's own words, the forwarded message or None).

    Recognises Gmail's "---------- Forwarded message ---------", "---------- Mensaje reenviado
    ----------", Outlook's "-----Original Message-----"/"-----Mensaje original-----" and bare
    "De:/From: ... Enviado:/Sent: ... Para:/To: ... Asunto:/Subject:" header blocks, and Apple
    Mail's "Begin forwarded message:". Returns (text, None) when there is no forward.
    """
    text = _clean_text(text or "")
    candidates: list[tuple[int, int]] = []  # (start of marker, start of header block)
    m = _FWD_MARKER_RE.search(text)
    if m:
        candidates.append((m.start(), m.end()))
    b = _OUTLOOK_BLOCK_RE.search(text)
    if b:
        candidates.append((b.start(), b.start()))
    if not candidates:
        return text.strip(), None
    start, header_start = min(candidates)
    lines = text[header_start:].lstrip("\n").split("\n")
    fields: dict[str, str] = {}
    idx = 0
    seen_header = False
    while idx < len(lines):
        line = lines[idx]
        hm = _FWD_HEADER_RE.match(line)
        if hm:
            key = _FIELD_KEYS.get(hm.group(1).lower())
            value = hm.group(2).strip().strip("*").strip()
            if key and key not in fields:
                fields[key] = value
            elif key is None:
                fields.setdefault(hm.group(1).lower(), value)
            seen_header = True
            idx += 1
            continue
        if not line.strip() and not seen_header:
            idx += 1
            continue
        if (
            seen_header
            and line.strip()
            and (line[:1] in " \t" or lines[idx - 1].rstrip().endswith(("<", "@", ",")))
        ):
            idx += 1  # a folded continuation line of the previous field
            continue
        break
    if not seen_header or "from" not in fields:
        return text.strip(), None
    body = "\n".join(lines[idx:]).strip("\n")
    body = "\n".join(
        line[1:].lstrip(" ") if line.startswith(">") else line
        for line in body.split("\n")
    )
    own = text[:start].rstrip()
    from_name, from_addr = _split_name_addr(fields.get("from", ""))
    fwd = ForwardedMessage(
        from_addr=from_addr,
        from_name=from_name,
        subject=_collapse(fields.get("subject", "")),
        date=parse_loose_date(fields.get("date", ""), default_tz=default_tz),
        text=body.strip(),
        attached=False,
    )
    return own.strip(), fwd


def _split_name_addr(value: str) -> tuple[str, str | None]:
    value = (
        value.replace("[mailto:", "<").replace("]", ">")
        if "[mailto:" in value
        else value
    )
    found = _ADDR_RE.search(value)
    addr = _usable_addr(found.group(0)) if found else None
    name = value
    if found:
        name = value[: found.start()] + value[found.end() :]
    name = re.sub(r"[<>()\[\]]|mailto:", " ", name)
    name = _collapse(name).strip("\"' ,;")
    if addr and name.lower() == addr:
        name = ""
    return name, addr


_MONTHS = {
    "jan": 1,
    "ene": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "abr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "ago": 8,
    "sep": 9,
    "set": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
    "dic": 12,
}


def parse_loose_date(value: str, *, default_tz: tzinfo = DEFAULT_TZ) -> datetime | None:
    """Parse dates as mail clients print them in quoted headers, Spanish or English.

    Examples: "Fri, Jun 7, 2024 at 10:30 AM", "viernes, 7 de junio de 2024 10:30",
    "vie, 7 jun 2024 a las 10:30", "7/06/2024 10:30 a. m.", RFC 5322 dates. Naive results get
    `default_tz`. Returns None when no date can be recognised.
    """
    if not value:
        return None
    value = _collapse(value)
    rfc = parse_date(value)
    if (
        rfc is not None
        and re.search(r"\d{1,2}:\d{2}", value)
        and re.search(r"[+-]\d{4}|GMT|UTC", value)
    ):
        return rfc
    low = value.lower()
    day = month = year = None
    m = re.search(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b", low)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if month > 12 and day <= 12:
            day, month = month, day
    else:
        m = re.search(
            r"\b(\d{1,2})\.?\s+(?:de\s+)?([a-záéíóú]{3,})\.?,?\s+(?:de\s+|del\s+)?(\d{4})\b",
            low,
        )
        if m:
            day, month, year = (
                int(m.group(1)),
                _MONTHS.get(m.group(2)[:3]),
                int(m.group(3)),
            )
        else:
            m = re.search(r"\b([a-z]{3,})\.?\s+(\d{1,2}),?\s+(\d{4})\b", low)
            if m:
                day, month, year = (
                    int(m.group(2)),
                    _MONTHS.get(m.group(1)[:3]),
                    int(m.group(3)),
                )
    if not (day and month and year):
        return rfc
    if year < 100:
        year += 2000
    hour = minute = 0
    t = re.search(
        r"\b(\d{1,2}):(\d{2})(?::\d{2})?\s*([ap])?\.?\s*(?:m\.?)?",
        low[m.end() :] if m else low,
    )
    if t:
        hour, minute = int(t.group(1)), int(t.group(2))
        if t.group(3) == "p" and hour < 12:
            hour += 12
        elif t.group(3) == "a" and hour == 12:
            hour = 0
    try:
        return datetime(year, month, day, hour, minute, tzinfo=default_tz)
    except ValueError:
        return rfc


# --------------------------------------------------------------------------------------------
# Body walking


@dataclass
class _Body:
    plain: str | None = None
    html: str | None = None


class _Walker:
    """Walks the MIME tree once, collecting bodies, attachments, forwards and report parts."""

    def __init__(self, max_attachments: int | None, depth: int, default_tz: tzinfo):
        self.max_attachments = max_attachments
        self.depth = depth
        self.default_tz = default_tz
        self.attachments: list[Attachment] = []
        self.forwarded: list[ForwardedMessage] = []
        self.defects: dict[str, None] = {}
        self.is_delivery_report = False
        self.report_original: ParsedMessage | None = None
        self.tnef_texts: list[str] = []
        self.tnef_html: list[str] = []
        self.in_report = False
        self.hint: str | None = None

    def note_defects(self, part: Message) -> None:
        for defect in getattr(part, "defects", ()) or ():
            self.defects.setdefault(type(defect).__name__, None)

    def add_attachment(self, att: Attachment) -> None:
        if (
            self.max_attachments is not None
            and len(self.attachments) > self.max_attachments
        ):
            self.defects.setdefault("TooManyAttachments", None)
            return
        self.attachments.append(att)

    def walk(self, part: Message, level: int = 0, parent: str = "") -> _Body:
        self.note_defects(part)
        ctype = _content_type(part)
        maintype = ctype.split("/", 1)[0]
        if level > 50:
            return _Body()
        if ctype == "message/delivery-status":
            self.is_delivery_report = True
            described = _description(part)
            name = described + ".txt" if described else "delivery-status.txt"
            return self.leaf_attachment(part, ctype, default_name=name, raw=True)
        if ctype in ("message/rfc822", "message/global"):
            return self.rfc822(part, ctype)
        if maintype == "message":
            return self.leaf_attachment(
                part,
                ctype,
                default_name=(_description(part) or ctype.split("/")[1]) + ".txt",
                raw=True,
            )
        if maintype == "multipart" and part.is_multipart():
            return self.multipart(part, ctype, level)
        if maintype == "multipart":
            # A multipart whose boundary is missing or never found: one opaque part (RFC 2046 5.1.1).
            # Try the boundary really used in the body (e.g. an unquoted one containing "=").
            rebuilt = _resplit_multipart(part, ctype)
            if rebuilt is not None:
                self.defects.setdefault("BoundaryRecovered", None)
                return self.multipart(rebuilt, ctype, level)
            text = _part_text(part, self.hint)
            if _LOOKS_HTML_RE.search(text[:5000]):
                return _Body(html=text)
            return _Body(plain=text)
        if ctype == "text/rfc822-headers":
            if self.in_report and self.report_original is None:
                self.report_original = self.parse_nested(
                    _payload_bytes(part).rstrip(b"\r\n") + b"\n\n"
                )
            return self.leaf_attachment(part, ctype, default_name="headers.txt")
        is_tnef = ctype in ("application/ms-tnef", "application/vnd.ms-tnef") or (
            (_part_filename(part) or "").lower() == "winmail.dat"
        )
        if is_tnef and self.tnef(part):
            return (
                _Body()
            )  # when it cannot be opened it is kept as an ordinary attachment
        disposition = _disposition(part)
        filename = _part_filename(part)
        # A text part is the body unless it is marked as an attachment, or it is a named part
        # inside a multipart other than alternative (RFC 2183: a filename suggests a file).
        is_body_text = (
            ctype in ("text/plain", "text/html")
            and disposition != "attachment"
            and (
                not filename
                or level == 0
                or parent == "multipart/alternative"
                or (disposition is None and ctype == "text/html")
            )
        )
        if is_body_text:
            text = _part_text(part, self.hint)
            return _Body(html=text) if ctype == "text/html" else _Body(plain=text)
        return self.leaf_attachment(part, ctype)

    def multipart(self, part: Message, ctype: str, level: int) -> _Body:
        children = part.get_payload()
        if not isinstance(children, list):
            return _Body()
        if ctype == "multipart/report":
            report_type = (
                _param_from_raw(_raw_get(part, "content-type") or "", "report-type")
                or ""
            ).lower()
            if report_type == "delivery-status":
                self.is_delivery_report = True
            self.in_report = True
        if ctype == "multipart/alternative":
            bodies = [self.walk(child, level + 1, ctype) for child in children]
            plain = next((b.plain for b in bodies if b.plain and b.plain.strip()), None)
            html = next(
                (b.html for b in reversed(bodies) if b.html and b.html.strip()), None
            )
            if plain is None:
                plain = next((b.plain for b in bodies if b.plain is not None), None)
            return _Body(plain=plain, html=html)
        bodies = [self.walk(child, level + 1, ctype) for child in children]
        if ctype == "multipart/signed" or ctype == "multipart/encrypted":
            bodies = bodies[:1] if ctype == "multipart/signed" else bodies
        bodies = [b for b in bodies if b.plain is not None or b.html is not None]
        if not bodies:
            return _Body()
        if len(bodies) == 1:
            return bodies[0]
        htmls = [b.html for b in bodies if b.html]
        if any(b.plain is not None for b in bodies):
            texts = [
                b.plain if b.plain is not None else html_to_text(b.html or "")
                for b in bodies
            ]
            return _Body(
                plain="\n\n".join(t.strip("\n") for t in texts if t.strip()),
                html="\n".join(htmls) or None,
            )
        return _Body(html="\n".join(htmls))

    def parse_nested(self, data: bytes) -> ParsedMessage | None:
        if self.depth >= MAX_NESTING or not data.strip():
            return None
        try:
            return _parse(
                data,
                max_attachments=self.max_attachments,
                depth=self.depth + 1,
                default_tz=self.default_tz,
            )
        except UnparseableMessage:
            return None

    def rfc822(self, part: Message, ctype: str) -> _Body:
        payload = part.get_payload()
        inner: Message | None = None
        if isinstance(payload, list) and payload:
            inner = payload[0]
            data = _message_bytes(inner)
        else:
            data = _payload_bytes(part)
        nested = self.parse_nested(data)
        subject = nested.subject if nested else ""
        filename = _part_filename(part)
        if subject:
            name = subject + ".eml"
        elif filename:
            name = filename if filename.lower().endswith(".eml") else filename + ".eml"
        elif _description(part):
            name = _description(part) + ".eml"
        else:
            name = "mensaje.eml"
        self.add_attachment(
            Attachment(
                sanitize_filename(name, "message/rfc822"), "message/rfc822", data
            )
        )
        if nested is not None:
            if self.in_report and self.report_original is None:
                self.report_original = nested
            self.forwarded.append(
                ForwardedMessage(
                    from_addr=nested.from_addr,
                    from_name=nested.from_name,
                    subject=nested.subject,
                    date=nested.date,
                    text=nested.text,
                    attached=True,
                )
            )
        return _Body()

    def tnef(self, part: Message) -> bool:
        """Open winmail.dat (MS-OXTNEF): its files become attachments, its body a text candidate."""
        data = _payload_bytes(part)
        try:
            from tnefparse import TNEF

            tnef = TNEF(data, do_checksum=False)
        except Exception:  # noqa: BLE001
            self.defects.setdefault("InvalidTNEF", None)
            return False
        for att in tnef.attachments:
            try:
                name = att.long_filename() or att.name
                if isinstance(name, bytes):
                    name = decode_bytes(name.rstrip(b"\x00"), "cp1252")
                name = str(name).strip("\x00")
                payload = (
                    att.data if isinstance(att.data, bytes) else bytes(att.data or b"")
                )
            except Exception:  # noqa: BLE001, S112 - a broken TNEF attachment is skipped
                continue
            guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
            self.add_attachment(
                Attachment(sanitize_filename(name, guessed), guessed.lower(), payload)
            )
        try:
            body = tnef.body
            if body:
                text = (
                    body
                    if isinstance(body, str)
                    else decode_bytes(bytes(body).rstrip(b"\x00"), "cp1252")
                )
                self.tnef_texts.append(_clean_text(text).strip())
            elif tnef.htmlbody:
                html = (
                    tnef.htmlbody
                    if isinstance(tnef.htmlbody, str)
                    else decode_bytes(bytes(tnef.htmlbody))
                )
                self.tnef_html.append(html)
                self.tnef_texts.append(html_to_text(html))
            elif tnef._rtfbody:
                rtf = _lzfu_decompress(bytes(tnef._rtfbody))
                if rtf:
                    text, html = rtf_to_text(rtf)
                    if html:
                        self.tnef_html.append(html)
                    if text:
                        self.tnef_texts.append(text)
        except Exception:  # noqa: BLE001
            self.defects.setdefault("InvalidTNEFBody", None)
        return True

    def leaf_attachment(
        self, part: Message, ctype: str, default_name: str = "", raw: bool = False
    ) -> _Body:
        if raw or part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                data = b"\n".join(
                    _message_bytes(p) for p in payload if isinstance(p, Message)
                )
            else:
                data = _payload_bytes(part)
        else:
            data = _payload_bytes(part)
        filename = _part_filename(part) or default_name
        content_id = _raw_get(part, "content-id")
        content_id = (
            _collapse(_unsurrogate(content_id)).strip("<>").strip() or None
            if content_id
            else None
        )
        inline = _disposition(part) == "inline" and content_id is not None
        if not filename and ctype == "text/plain":
            filename = ""
        self.add_attachment(
            Attachment(
                sanitize_filename(filename, ctype),
                ctype,
                data,
                inline=inline,
                content_id=content_id,
            )
        )
        return _Body()


# --------------------------------------------------------------------------------------------
# Entry point


def _body_digest(raw: bytes) -> str:
    """sha256 hex of the body bytes (after the first blank line), line endings as \\n and trailing
    whitespace of each line removed, so that a re-delivery with other headers has the same digest."""
    normalised = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    _, sep, body = normalised.partition(b"\n\n")
    if not sep:
        body = b""
    lines = [line.rstrip(b" \t") for line in body.split(b"\n")]
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


_HEADER_LINE_RE = re.compile(rb"^[!-9;-~]+[ \t]*:")


def _prepare(raw: bytes) -> bytes:
    """Drop a UTF-8 BOM and whitespace-only lines before the first header (seen in the wild)."""
    data = raw
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    while True:
        nl = data.find(b"\n")
        if nl < 0:
            break
        first = data[:nl]
        rest = data[nl + 1 : nl + 200]
        if (
            first.strip(b" \t\r") == b""
            and len(data) > nl + 1
            and _HEADER_LINE_RE.match(rest)
        ):
            data = data[nl + 1 :]
            continue
        if (
            not _HEADER_LINE_RE.match(first)
            and not first.startswith(b"From ")
            and len(first) < 200
            and _HEADER_LINE_RE.match(rest)
            and first.strip(b" \t\r-=*_").strip()
            and not first.startswith((b" ", b"\t"))
        ):
            # A banner line before the headers ("---- Original email message ----").
            data = data[nl + 1 :]
        break
    return _repair_unfolded_headers(data)


def _repair_unfolded_headers(data: bytes) -> bytes:
    """Indent header continuation lines that lost their leading whitespace (RFC 5322 section 2.2.3
    folding done wrong), when more header fields follow them before the blank line."""
    end = len(data)
    for sep in (b"\r\n\r\n", b"\n\n"):
        pos = data.find(sep)
        if 0 <= pos < end:
            end = pos
    head = data[:end]
    lines = head.split(b"\n")
    changed = False
    for i, line in enumerate(lines[1:], start=1):
        if not line.strip() or line[:1] in b" \t" or _HEADER_LINE_RE.match(line):
            continue
        following = lines[i + 1 : i + 6]
        previous = lines[i - 1].rstrip(b"\r \t")
        if any(_HEADER_LINE_RE.match(nxt) for nxt in following) or previous.endswith(
            (b"@", b"<", b",")
        ):
            lines[i] = b" " + line
            changed = True
    if not changed:
        return data
    return b"\n".join(lines) + data[end:]


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if sample.startswith(b"\xd0\xcf\x11\xe0"):  # OLE compound file (Outlook .msg)
        return True
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control > len(sample) // 20


def parse_message(
    raw: bytes, *, max_attachments: int | None = None, default_tz: tzinfo = DEFAULT_TZ
) -> ParsedMessage:
    """Parse one raw RFC 5322 / MIME message.

    Parameters: raw(bytes): the message as received. max_attachments(int | None): stop keeping
    attachments after max_attachments + 1 of them (so the caller can see the limit was broken and
    hold the message; the defect "TooManyAttachments" is recorded). default_tz: time zone assumed
    for dates without one inside forwarded text.
    Returns: ParsedMessage (see the field comments there).
    Raises: UnparseableMessage: empty input, or bytes that are not a mail at all (no header,
    binary content such as an Outlook .msg file). Nothing else is raised.
    """
    return _parse(
        bytes(raw or b""),
        max_attachments=max_attachments,
        depth=0,
        default_tz=default_tz,
    )


def _parse(
    raw: bytes, *, max_attachments: int | None, depth: int, default_tz: tzinfo
) -> ParsedMessage:
    if not raw.strip():
        raise UnparseableMessage("empty message")
    prepared = _prepare(raw)
    try:
        msg = email.message_from_bytes(prepared, policy=email.policy.compat32)
    except Exception as exc:
        raise UnparseableMessage(f"cannot parse: {exc!r}") from exc
    raw_headers = _raw_headers(msg)
    if not raw_headers:
        if _looks_binary(prepared):
            raise UnparseableMessage("not a mail message: no headers, binary content")
        if not prepared.strip():
            raise UnparseableMessage("empty message")

    headers: dict[str, list[str]] = {}
    for name, value in raw_headers:
        headers.setdefault(name.strip().lower(), []).append(
            _collapse(_decode_unstructured(value))
        )

    walker = _Walker(max_attachments, depth, default_tz)
    for _, value in raw_headers:
        found = re.search(r"=\?([^?*\s]+)", value)
        if found and _codec_for(found.group(1)) not in ("", "utf-8", "ascii"):
            walker.hint = found.group(1)
            break
    try:
        body = walker.walk(msg)
    except RecursionError:
        walker.defects.setdefault("TooDeeplyNested", None)
        body = _Body(plain=_clean_text(decode_bytes(prepared.partition(b"\n\n")[2])))

    html = body.html
    if body.plain is not None and body.plain.strip():
        text = body.plain
    elif html and html.strip():
        text = html_to_text(html)
    elif walker.tnef_texts:
        text = "\n\n".join(t for t in walker.tnef_texts if t)
        html = html or ("\n".join(walker.tnef_html) or None)
    else:
        text = body.plain or ""
    text = _clean_text(text).strip("\n")
    if html is not None:
        html = html.replace("\x00", "")

    from_pairs = _parse_addresses(msg, "from") or _parse_addresses(msg, "sender")
    from_name, from_addr = "", None
    for name, addr in from_pairs:
        if addr:
            from_name, from_addr = name, addr
            break
    if from_addr is None and from_pairs:
        from_name = from_pairs[0][0]
    if from_addr is None:
        # A real address hidden in a malformed encoded word or a broken display name.
        for raw_from in _raw_get_all(msg, "from"):
            decoded = _decode_unstructured(raw_from)
            if any(unicodedata.category(ch) == "Cf" for ch in decoded):
                break  # invisible characters around an address: a disguise, not a typo
            found = _ADDR_RE.findall(decoded)
            if found:
                from_addr = _usable_addr(found[-1])
                if from_addr and "." not in from_addr.rpartition("@")[2]:
                    from_addr = None  # a salvaged address must have a real domain
                break
    if from_addr and from_name.lower() == from_addr:
        from_name = ""

    delivered: dict[str, None] = {}
    for hname in ("delivered-to", "x-original-to", "envelope-to"):
        for value in _raw_get_all(msg, hname):
            for _, addr in email.utils.getaddresses([_unsurrogate(value)]):
                if _usable_addr(addr):
                    delivered.setdefault(_usable_addr(addr) or "", None)

    return_path: str | None = None
    rp_values = _raw_get_all(msg, "return-path")
    if rp_values:
        rp = _collapse(_unsurrogate(rp_values[0])).strip("<>").strip()
        return_path = (_usable_addr(rp) or rp.lower()) if rp else ""

    subject_raw = _raw_get(msg, "subject")
    subject = (
        _collapse(_decode_unstructured(subject_raw)) if subject_raw is not None else ""
    )

    forwarded = list(walker.forwarded)
    _, inline_fwd = split_forward(text, default_tz=default_tz)
    if inline_fwd is not None:
        forwarded.insert(0, inline_fwd)

    walker.note_defects(msg)
    return ParsedMessage(
        raw=raw,
        message_id=(_msg_ids(_raw_get(msg, "message-id")) or (None,))[0],
        in_reply_to=_msg_ids(" ".join(_raw_get_all(msg, "in-reply-to"))),
        references=_msg_ids(" ".join(_raw_get_all(msg, "references"))),
        from_addr=from_addr,
        from_name=from_name,
        reply_to=_addr_tuple(msg, "reply-to"),
        to=_addr_tuple(msg, "to"),
        cc=_addr_tuple(msg, "cc"),
        delivered_to=tuple(delivered),
        return_path=return_path,
        subject=subject,
        date=parse_date(_raw_get(msg, "date")),
        text=text,
        html=html,
        attachments=tuple(walker.attachments),
        forwarded=tuple(forwarded),
        headers=MappingProxyType({k: tuple(v) for k, v in headers.items()}),
        content_type=_content_type(msg),
        is_delivery_report=walker.is_delivery_report,
        report_original=walker.report_original if walker.is_delivery_report else None,
        body_digest=_body_digest(raw),
        defects=tuple(walker.defects),
    )
