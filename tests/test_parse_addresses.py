"""Address headers (`mail.inbound.parse.addresses`): the stdlib parser, its fallbacks, salvage."""

from __future__ import annotations

import email
import email.policy
import time
from pathlib import Path

import pytest

from mail.inbound.parse import parse_message
from mail.inbound.parse.addresses import address_pairs


def pairs(value: str) -> list[tuple[str, str | None]]:
    """``value`` as the parser hands it over: raw, 8-bit bytes as surrogates."""
    return address_pairs([value], "to")


@pytest.mark.parametrize("value, expected", [
    ("Juan Pérez <Juan.Perez@Gmail.com>", [("Juan Pérez", "juan.perez@gmail.com")]),
    ('"Quispe, Rosa" <rosa@x.pe>, ana@x.pe', [("Quispe, Rosa", "rosa@x.pe"), ("", "ana@x.pe")]),
    ("=?UTF-8?Q?Mar=C3=ADa_L=C3=B3pez?= <maria@x.pe>", [("María López", "maria@x.pe")]),
    ("=?UTF-8?Q?Mar=C3=ADa?= =?UTF-8?Q?_L=C3=B3pez?= <maria@x.pe>", [("María López", "maria@x.pe")]),
    ("maria@x.pe (María López)", [("María López", "maria@x.pe")]),
    ("Vecinos: a@x.pe, b@x.pe;", [("", "a@x.pe"), ("", "b@x.pe")]),
    ("Juan <" + "a" * 250 + "@x.pe>", [("Juan", None)]),
    ("Soporte <=?utf-8?b?cG9zdHZlbnRh?=@inmobiliaria-andina.pe>", [("Soporte", None)]),
    ("José\u200b <jose\u200b@x.pe>", [("José\u200b", None)]),  # an invisible character: no address
])
def test_pairs(value, expected):
    assert pairs(value) == expected


def test_an_encoded_word_cannot_hide_our_own_address():
    raw = (b"From: =?utf-8?q?postventa?=@inmobiliaria-andina.pe\r\nTo: ana@x.pe\r\n"
           b"Subject: bucle\r\n\r\nhola\r\n")
    assert parse_message(raw).from_addr == "postventa@inmobiliaria-andina.pe"


@pytest.mark.parametrize("header, name, addr", [
    # an encoded word without its end: kept as written
    (b"From: Rosa Quisp=?utf-8?q?e_Huam=C3=A1n rosa.quispe.h@gmail.com", "Rosa Quisp=?utf-8?q?e_Huam=C3=A1n",
     "rosa.quispe.h@gmail.com"),
    (b"From: Rosa Quispe rosa.quispe.h@gmail.com", "Rosa Quispe", "rosa.quispe.h@gmail.com"),
    (b"From: =?utf-8?q?Rosa_Quispe_Huam=C3=A1n?= <rosa.quispe.h@gmail.com", "Rosa Quispe Huamán",
     "rosa.quispe.h@gmail.com"),
    (b'From: "Rosa Quispe <rosa.quispe.h@gmail.com>', "Rosa Quispe", "rosa.quispe.h@gmail.com"),
])
def test_a_salvaged_address_keeps_its_display_name(header, name, addr):
    msg = parse_message(header + b"\r\nTo: postventa@inmobiliaria-andina.pe\r\nSubject: x\r\n\r\nhola\r\n")
    assert (msg.from_name, msg.from_addr) == (name, addr)


def test_runs_of_spaces_after_a_comma_parse_quickly():
    """Long folded headers: the stdlib's RFC 5322 parser is super-linear, long values skip it."""
    raw = (b"From: Rosa <rosa.quispe.h@gmail.com>\r\nTo: postventa@inmobiliaria-andina.pe,"
           + (b"\r\n" + b" " * 900) * 4 + b"x\r\nCc: " + b"a " * 3000 + b"<c@x.pe>\r\n"
           b"Subject: s\r\n\r\nbody\r\n")
    start = time.monotonic()
    msg = parse_message(raw)
    assert msg.from_addr == "rosa.quispe.h@gmail.com" and "postventa@inmobiliaria-andina.pe" in msg.to
    assert time.monotonic() - start < 5  # a generous bound: it once took 15 s


# --- the plain-mailbox shortcut agrees with the RFC 5322 parser ------------------------------------

HEADERS = {"from", "to", "cc", "reply-to", "sender", "delivered-to", "x-original-to", "x-original-from"}
NAMES = ["Juan Pérez", "=?UTF-8?Q?Juan_P=C3=A9rez?=", "J. Pérez", '"Pérez, Juan"', "Juan (casa) Pérez", "",
         "  Ana   María  ", "O'Brien", "a@b", "Ana; María", "Ana.María", "Soporte [Postventa]", "José\u200bPostventa",
         "jang@xyz"]
ADDRESSES = ["juan@x.pe", "JUAN.P@Example.COM", "a+b@c.d", "user@localhost", "a..b@x.pe", "a@-x.pe",
             '"a b"@x.pe', "a@[1.2.3.4]", "a@x.pe.", "ñ@x.pe", "a@x_y.pe", "postventa@inmobiliaria-andina.pe"]
SHAPES = ["{a}", "<{a}>", "{n} <{a}>", "{n}<{a}>", " {n}  <{a}> "]


def generated(count: int, seed: int = 1) -> list[str]:
    import random

    rnd = random.Random(seed)
    values = []
    for _ in range(count):
        parts = [rnd.choice(SHAPES).format(n=rnd.choice(NAMES), a=rnd.choice(ADDRESSES))
                 for _ in range(rnd.choice([1, 1, 1, 2, 3]))]
        values.append(rnd.choice([",", ", ", " ,", ",\r\n "]).join(parts) + rnd.choice(["", "", ",", " "]))
    return values


def real_values() -> list[str]:
    import sys

    from tests.shared_data import require_shared

    repo = Path(__file__).resolve().parents[1]
    values = []
    for base in (*(require_shared(n) for n in ("corpus", "cases", "peer")), repo / "tests", repo / "examples"):
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix in {"", ".eml", ".box", ".msg", ".txt", ".mbox"}:
                msg = email.message_from_bytes(path.read_bytes()[:200_000], policy=email.policy.compat32)
                values += [str(v) for k, v in msg.raw_items() if k.lower() in HEADERS]
    sys.path.insert(0, str(repo / "bench"))
    try:
        import corpus
    finally:
        sys.path.pop(0)
    for raw in corpus.generate(400, seed=20261130).messages:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        values += [str(v) for k, v in msg.raw_items() if k.lower() in HEADERS]
    return values


@pytest.mark.parametrize("source", ["real", "generated"])
def test_plain_mailbox_shortcut_reads_what_the_full_parser_reads(source, monkeypatch):
    from mail.inbound.parse import addresses
    from mail.inbound.parse.charsets import unsurrogate
    from mail.inbound.parse.headers import unfold

    values = real_values() if source == "real" else generated(6000)
    shortcut = addresses._plain_pairs
    taken = [(v, shortcut(unsurrogate(unfold(v)))) for v in values]
    taken = [(v, p) for v, p in taken if p is not None]
    monkeypatch.setattr(addresses, "_plain_pairs", lambda raw: None)
    for value, fast in taken:
        assert fast == pairs(value), value
    assert len(taken) > len(values) * (0.5 if source == "real" else 0.1)  # it is taken for common mail
