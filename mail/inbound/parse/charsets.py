"""Bytes to text with a charset fallback: the one decoder every part of the parser uses.

Bodies, subjects, display names, filenames and every other MIME parameter go through
`decode_bytes`, so that a wrong or missing charset label never turns readable bytes into U+FFFD
(DESIGN.md, "Reading a message").
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

__all__ = ["codec_for", "decode_bytes", "unsurrogate"]

#: Labels seen in the wild mapped to the codec that really decodes them (WHATWG Encoding
#: Standard practice: latin-1 and ascii labels are read as windows-1252, gb2312 as gb18030).
_CHARSET_ALIASES = {
    "us-ascii": "cp1252", "ascii": "cp1252", "ansi_x3.4-1968": "cp1252",
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "l1": "cp1252",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "iso-8859-8-i": "iso-8859-8", "windows-874": "cp874", "unicode-1-1-utf-7": "utf-7", "utf8": "utf-8",
    # labels that say nothing: decode as if there were none
    "x-unknown": "", "unknown-8bit": "", "unknown": "", "none": "", "default": "", "x-user-defined": "",
}

#: Single-byte Western code pages charset-normalizer cannot tell apart on short Spanish text
#: (it reads "baño" as cp1250 "bańo"); windows-1252 is by far the likeliest of them.
_WESTERN_SINGLE_BYTE = {
    "cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "latin_1", "iso8859_2", "iso8859_3", "iso8859_4",
    "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15", "iso8859_16", "mac_latin2",
    "mac_roman", "mac_iceland", "mac_turkish", "cp850", "cp437", "cp852", "cp858", "hp_roman8",
}


def codec_for(charset: str | None) -> str:
    """The Python codec name for a MIME charset label (RFC 2978), or "" when unknown or absent."""
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


def decode_bytes(data: bytes, charset: str | None = None, hint: str | None = None) -> str:
    """Decode text bytes as well as possible; never raises, never leaves U+FFFD when avoidable.

    Order: for latin/ascii/absent labels UTF-8 first when the bytes are valid UTF-8 (a common lie
    the other way round); the declared charset (strict); else `hint` (a charset the same message
    uses elsewhere); then charset-normalizer's guess; then UTF-8 when only a stray byte breaks it
    (that byte is lost, not every accent); cp1252, and finally latin-1 (which decodes anything).
    RFC 2045 section 5.2 makes us-ascii the default, RFC 6657 lets receivers be liberal.
    """
    if not data:
        return ""
    codec = codec_for(charset)
    candidates: list[str] = []
    if codec in ("cp1252", "ascii", ""):
        candidates.append("utf-8")
    if codec:
        candidates.append(codec)
    elif codec_for(hint):
        candidates.append(codec_for(hint))
    for name in candidates:
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    guessed = _guess_decode(data)
    if guessed is not None:
        return guessed
    mostly_utf8 = data.decode("utf-8", "replace")
    if mostly_utf8.count("\ufffd") <= max(1, len(mostly_utf8) // 50) and _has_multibyte_utf8(data):
        return mostly_utf8  # one broken byte in UTF-8 text: lose that byte, not every accent
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_UTF8_SEQUENCE_RE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _has_multibyte_utf8(data: bytes) -> bool:
    return _UTF8_SEQUENCE_RE.search(data) is not None


def _guess_decode(data: bytes) -> str | None:
    """charset-normalizer's best guess, or None (no guess, or one that needs U+FFFD)."""
    if data.isascii():
        return data.decode("ascii")
    try:
        best = from_bytes(data[:200_000]).best()
        if best is None or not best.encoding:
            return None
        if best.encoding in _WESTERN_SINGLE_BYTE:
            try:
                return data.decode("cp1252")
            except UnicodeDecodeError:
                pass
        text = data.decode(best.encoding)
    except Exception:  # noqa: BLE001 - any failure of the guesser just means "no guess"
        return None
    # UTF-16 and UTF-32 read pairs of ASCII bytes as one ideogram: mail is never written in them
    # without a label (its headers and markup are ASCII), so such a guess is a misreading
    if "\ufffd" in text or best.encoding.startswith(("utf_16", "utf_32")):
        return None
    return text


_SURROGATE_RE = re.compile("[\udc80-\udcff]")


def unsurrogate(value: str) -> str:
    """Decode the raw 8-bit bytes that `email.message_from_bytes` leaves in header strings as
    surrogates (RFC 6532 allows UTF-8 headers; older mailers write their local code page)."""
    if not _SURROGATE_RE.search(value):
        return value
    return decode_bytes(value.encode("ascii", "surrogateescape"))
