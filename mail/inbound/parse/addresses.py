"""Mailboxes in address headers: (display name, address) pairs, with liberal fallbacks.

The RFC 5322 parser of the standard library (``email.headerregistry`` through policy.default)
reads each header; when it crashes or loses an address that is clearly there, the simpler
``email.utils.getaddresses`` and finally a plain address search take over. Addresses are
lower-cased and must be usable (`usable_address`): an address we could not answer, or one
disguised with invisible characters, is None.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
import unicodedata
from typing import NamedTuple

from mail.inbound.parse.charsets import unsurrogate
from mail.inbound.parse.headers import ENCODED_WORD_RE, collapse, decode_unstructured, unfold

__all__ = ["Address", "address_pairs", "addresses", "salvage_address", "split_name_address", "usable_address"]

#: RFC 5321 section 4.5.3.1.3: a path is at most 256 octets, so an address at most 254.
MAX_ADDRESS_CHARS = 254
#: The standard library's RFC 5322 parser is super-linear in the length of a header: longer
#: values go straight to ``getaddresses``.
MAX_STRUCTURED_HEADER_CHARS = 4096

ADDRESS_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*")
#: RFC 2047 section 5: an encoded word never appears inside an addr-spec; one there hides what the
#: address really is (e.g. our own address plus an invisible character).
_ENCODED_ADDRESS_RE = re.compile(r"<[^<>]*=\?[^<>]*\?=[^<>]*>")


class Address(NamedTuple):
    """A mailbox: its display name (decoded, "" when none) and its lower-cased address."""

    name: str
    email: str


def usable_address(addr: str | None) -> str | None:
    """The lower-cased bare address when it has a local part and a domain (RFC 5322 addr-spec),
    else None.

    Refused: longer than 254 characters (RFC 5321), holding whitespace, quotes, angle brackets,
    control or invisible format characters (U+200B and the like) outside a quoted local part, or a
    domain that is not letters, digits, hyphens and dots (or an address literal) — such an address
    cannot be answered and could dodge the own-address loop guard.
    """
    addr = (addr or "").strip().strip("<>").strip()
    if "@" not in addr or len(addr) > MAX_ADDRESS_CHARS:
        return None
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
    if not (domain.startswith("[") and domain.endswith("]")) and not all(ch.isalnum() or ch in "-." for ch in domain):
        return None
    return f"{local}@{domain}".lower()


#: Characters whose syntax only the RFC 5322 parser reads right: quotes, comments, groups,
#: quoted-pairs, domain literals.
_SPECIALS = frozenset('"()\\:;[]')


def _plain_pairs(raw: str) -> list[tuple[str, str | None]] | None:
    """The pairs of a header made of plain mailboxes only — ``addr`` or ``Name <addr>``, comma
    separated, no RFC 5322 specials (encoded words in names allowed when they hide none), one "@"
    each, no address twice — else None.

    A measured shortcut (bench/README.md, "Inbound"): the RFC 5322 parser costs ≈ 0.12–0.23 ms a
    header, ``getaddresses`` ≈ 0.015 ms, and on these shapes both read the same pairs
    (tests/test_parse_addresses.py checks it on every header of the data sets).
    """
    words = ENCODED_WORD_RE.findall(raw) if "=?" in raw else ()
    if len(raw) > MAX_STRUCTURED_HEADER_CHARS or any("," in w or "@" in w or "<" in w for w in words):
        return None
    bare = ENCODED_WORD_RE.sub("x", raw) if words else raw
    if "=?" in bare or not _SPECIALS.isdisjoint(bare):
        return None
    items = [item for item in raw.split(",") if item.strip()]
    if not items or any(item.count("@") != 1 or item.count("<") > 1 for item in items):
        return None
    parsed = email.utils.getaddresses([raw])
    if any("=?" in a for _, a in parsed):
        return None  # an encoded word inside an address (RFC 2047 section 5 forbids it): the full path
    pairs = [(collapse(decode_unstructured(n)) if words else collapse(n), usable_address(a)) for n, a in parsed]
    found = [a for _, a in pairs]
    return pairs if len(pairs) == len(items) and all(found) and len(set(found)) == len(found) else None


def _stdlib_pairs(name: str, raw: str) -> list[tuple[str, str | None]] | None:
    """The pairs policy.default's parser reads, or None when it fails or loses an address."""
    if len(raw) > MAX_STRUCTURED_HEADER_CHARS:
        return None
    try:
        header = email.policy.default.header_factory(name, raw)
        pairs = [(collapse(decode_unstructured(a.display_name or "")), _as_written(a.addr_spec, raw))
                 for a in header.addresses]
    except Exception:  # noqa: BLE001 - known CPython header-parser crashes on odd input
        return None
    if "@" in raw and (not pairs or any(a is None for _, a in pairs)):
        return None
    return pairs


def _fallback_pairs(raw: str) -> list[tuple[str, str | None]]:
    """``getaddresses`` on the raw value, else the addresses written in its decoded text."""
    try:
        parsed = email.utils.getaddresses([raw])
    except Exception:  # noqa: BLE001
        parsed = []
    pairs = [(collapse(decode_unstructured(n)), _as_written(a, raw)) for n, a in parsed if n or a]
    if not any(a for _, a in pairs):
        pairs = [tuple(m) for m in _written_in(decode_unstructured(raw))] or pairs
    return pairs


def _as_written(addr: str, raw: str) -> str | None:
    """`usable_address`, refusing a quoted local part the sender did not quote: getaddresses quotes
    "Rosa Quispe rosa@x.pe" into '"Rosa Quispe rosa"@x.pe', an address nobody has."""
    if addr.startswith('"') and '"' not in raw:
        return None
    return usable_address(addr)


def _written_in(text: str) -> list[Address]:
    """The addresses written in free text (a header the parsers gave up on): one address keeps the
    rest of the text as its display name; several get none. Invisible characters around them mean
    a disguise, not a typo: none."""
    if any(unicodedata.category(ch) == "Cf" for ch in text):
        return []
    found = [m for m in ADDRESS_RE.finditer(text) if usable_address(m.group(0))]
    if len(found) != 1:
        return [Address("", usable_address(m.group(0))) for m in found]
    addr = usable_address(found[0].group(0))
    name = _name_around(text, found[0].start(), found[0].end())
    return [Address("" if name.lower() == addr else name, addr)]


def _names_as_written(raw: str) -> dict[str, str]:
    """Display names by address as ``getaddresses`` reads them: it keeps RFC 5322 comments
    ("addr (Name)") as names, and the raw encoded words, which the RFC 5322 parser joins without
    the whitespace between them (RFC 2047 section 6.2)."""
    try:
        return {usable_address(a): n for n, a in email.utils.getaddresses([raw]) if n and usable_address(a)}
    except Exception:  # noqa: BLE001
        return {}


def address_pairs(values: list[str], name: str) -> list[tuple[str, str | None]]:
    """All (display name, lower-cased address or None) pairs of the raw ``values`` of the headers
    called ``name`` (the name picks the RFC 5322 grammar: one mailbox for Sender, a list for To)."""
    result: list[tuple[str, str | None]] = []
    for raw in values:
        raw = unsurrogate(unfold(raw))
        if _ENCODED_ADDRESS_RE.search(raw):
            result.append((collapse(decode_unstructured(raw.split("<", 1)[0])), None))
            continue
        plain = _plain_pairs(raw)
        if plain is not None:
            result.extend(plain)
            continue
        pairs = _stdlib_pairs(name, raw)
        if pairs is None:
            pairs = _fallback_pairs(raw)
        written = _names_as_written(raw)
        if written:
            pairs = [(collapse(decode_unstructured(written[a])) if a in written and (not n or "=?" in written[a])
                      else n, a) for n, a in pairs]
        result.extend(pairs)
    return result


def addresses(values: list[str], name: str) -> tuple[Address, ...]:
    """The usable mailboxes of the raw ``values`` of the headers called ``name``, each address once,
    in order."""
    seen: dict[str, Address] = {}
    for display, addr in address_pairs(values, name):
        if addr and addr not in seen:
            seen[addr] = Address("" if display.lower() == addr else display, addr)
    return tuple(seen.values())


def _name_around(text: str, start: int, end: int) -> str:
    """The display name written around an address at text[start:end]: brackets, "mailto:" and
    quotes removed."""
    name = text[:start] + text[end:]
    return collapse(re.sub(r"[<>()\[\]]|mailto:", " ", name)).strip("\"' ,;")


def split_name_address(value: str) -> Address | None:
    """A display name and address from free text such as a quoted "De: Rosa <rosa@x.pe>" line
    ("[mailto:rosa@x.pe]" too); None without a usable address."""
    value = value.replace("[mailto:", "<").replace("]", ">") if "[mailto:" in value else value
    found = ADDRESS_RE.search(value)
    addr = usable_address(found.group(0)) if found else None
    if addr is None:
        return None
    name = _name_around(value, found.start(), found.end())
    return Address("" if name.lower() == addr else name, addr)


def salvage_address(values: list[str]) -> Address | None:
    """The address an encoded word hides in a header's raw ``values`` (RFC 2047 forbids encoded words in an
    addr-spec, so the parsers refuse it): decoded, with its display name, so that our own
    address cannot hide that way. The salvaged address must have a dotted domain."""
    for raw in values:
        found = _written_in(decode_unstructured(raw))
        if found:
            mailbox = found[-1]
            return mailbox if "." in mailbox.email.rpartition("@")[2] else None
    return None
