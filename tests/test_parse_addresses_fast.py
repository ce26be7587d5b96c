"""The fast path of address parsing (`parse._simple_addresses`) agrees with the full parser.

`_parse_addresses` first tries a plain-shapes matcher and only falls back to the standard library's
RFC 5322 parser when it declines. Whatever the fast path accepts must come out exactly as the full
parser would have given it: checked on every address header of the shared corpus, the hard cases,
the peer suite, our fixtures and sample mailbox, the benchmark corpus, and on generated headers
that mix the shapes that trip parsers (encoded words, quoted commas, dots, repeats, odd spacing).
"""

from __future__ import annotations

import email
import email.message
import email.policy
import random
import sys
from pathlib import Path

import pytest

import mail.inbound.parse as parse
from tests.shared_data import require_shared

ROOT = Path(__file__).resolve().parents[1]
ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "sender", "delivered-to", "bcc", "resent-from",
                   "x-original-to"}

NAMES = ["Juan Pérez", "=?UTF-8?Q?Juan_P=C3=A9rez?=", "=?utf-8?B?SnVhbiBQw6lyZXo=?=", "J. Pérez",
         '"Pérez, Juan"', '"Juan \\"J\\" P"', "Juan (casa) Pérez", "", "  Ana   María  ", '""', "O'Brien",
         "=?iso-8859-1?q?Mar=EDa?= de la Cruz", '"=?UTF-8?Q?Mar=C3=ADa?="', "a@b", "Ana; María",
         "Ana.María", "Ana\tMaría", "Soporte [Postventa]", "José\u200bPostventa"]
ADDRESSES = ["juan@x.pe", "JUAN.P@Example.COM", "a+b@c.d", "user@localhost", "a..b@x.pe", "a@-x.pe",
             "a@x..pe", '"a b"@x.pe', "a@[1.2.3.4]", "a@x.pe.", ".a@x.pe", "ñ@x.pe", "a@x_y.pe",
             "postventa@inmobiliaria-andina.pe"]
SHAPES = ["{a}", "<{a}>", "{n} <{a}>", "{n}<{a}>", " {n}  <{a}> "]


def generated(count: int, seed: int = 1) -> list[str]:
    rnd = random.Random(seed)
    values = []
    for _ in range(count):
        parts = [rnd.choice(SHAPES).format(n=rnd.choice(NAMES), a=rnd.choice(ADDRESSES))
                 for _ in range(rnd.choice([1, 1, 1, 2, 3]))]
        values.append(rnd.choice([",", ", ", " ,", ",\r\n "]).join(parts) + rnd.choice(["", "", ",", " "]))
    return values


def header_values(raw: bytes) -> list[str]:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    return [str(v) for k, v in msg.raw_items() if k.lower() in ADDRESS_HEADERS]


def real_values() -> list[str]:
    values = []
    shared = [require_shared(name) for name in ("corpus", "cases", "peer")]
    for base in (*shared, ROOT / "tests", ROOT / "examples"):
        for path in sorted(base.rglob("*")) if base.is_dir() else []:
            if path.is_file() and path.suffix in {"", ".eml", ".msg", ".txt", ".mbox"}:
                values.extend(header_values(path.read_bytes()[:200_000]))
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import corpus
    finally:
        sys.path.pop(0)
    for raw in corpus.generate(400, seed=20261130).messages:
        values.extend(header_values(raw))
    return values


def full_parser(value: str) -> list[tuple[str, str | None]]:
    msg = email.message.Message()
    msg._headers = [("To", value)]
    fast = parse._simple_addresses
    parse._simple_addresses = lambda raw: None
    try:
        return parse._parse_addresses(msg, "to")
    finally:
        parse._simple_addresses = fast


def through_fast_path(value: str) -> list[tuple[str, str | None]] | None:
    return parse._simple_addresses(parse._unsurrogate(parse._FOLD_RE.sub("", value)))


@pytest.mark.parametrize("source", ["real", "generated"])
def test_fast_path_gives_what_the_full_parser_gives(source):
    values = real_values() if source == "real" else generated(6000)
    accepted = 0
    for value in values:
        fast = through_fast_path(value)
        if fast is None:
            continue
        accepted += 1
        assert fast == full_parser(value), value
    # the fast path is taken for the common shapes (real mail), and often enough in the mix
    assert accepted > len(values) * (0.5 if source == "real" else 0.1)


@pytest.mark.parametrize("value, expected", [
    ("Juan Pérez <Juan.Perez@Gmail.com>", [("Juan Pérez", "juan.perez@gmail.com")]),
    ('"Quispe, Rosa" <rosa@x.pe>, ana@x.pe', [("Quispe, Rosa", "rosa@x.pe"), ("", "ana@x.pe")]),
    ("=?UTF-8?Q?Mar=C3=ADa_L=C3=B3pez?= <maria@x.pe>", [("María López", "maria@x.pe")]),
])
def test_fast_path_common_shapes(value, expected):
    assert through_fast_path(value) == expected


@pytest.mark.parametrize("value", [
    "Juan (casa) <j@x.pe>",            # comment
    "Vecinos: a@x.pe, b@x.pe;",        # group
    '"Juan \\"J\\"" <j@x.pe>',         # quoted-pair
    "j@x.pe, j@x.pe",                  # the same address twice
    "j@x.pe,",                         # trailing comma
    "<@route:j@x.pe>",                 # obsolete route
    "",
    "=?utf-8?q?postventa?=@inmobiliaria-andina.pe",       # an encoded word inside an address
    "Soporte <=?utf-8?b?cG9zdHZlbnRh?=@inmobiliaria-andina.pe>",
    "Juan <" + "a" * 250 + "@x.pe>",   # unusable (longer than RFC 5321 allows)
    "=??q??= <a@x.pe>",                 # a malformed encoded word in the name
    "b@x.pe," + " " * 3000 + "x",       # long: the full parser's limits apply
])
def test_fast_path_declines_what_it_does_not_know(value):
    assert through_fast_path(value) is None


def test_an_encoded_word_cannot_hide_our_own_address():
    raw = (b"From: =?utf-8?q?postventa?=@inmobiliaria-andina.pe\r\nTo: ana@x.pe\r\n"
           b"Subject: bucle\r\n\r\nhola\r\n")
    assert parse.parse_message(raw).from_addr == "postventa@inmobiliaria-andina.pe"


def test_runs_of_spaces_after_a_comma_parse_quickly():
    """Folded runs of spaces once made the fast path's regex cubic (a 4 KB header took 15 s)."""
    raw = (b"From: Rosa <rosa.quispe.h@gmail.com>\r\nTo: postventa@inmobiliaria-andina.pe,"
           + (b"\r\n" + b" " * 900) * 4 + b"x\r\nCc: " + b"a " * 3000 + b"<c@x.pe>\r\n"
           b"Subject: s\r\n\r\nbody\r\n")
    msg = parse.parse_message(raw)
    assert msg.from_addr == "rosa.quispe.h@gmail.com" and "postventa@inmobiliaria-andina.pe" in msg.to
