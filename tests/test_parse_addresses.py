"""Address headers (`mail.inbound.parse.addresses`): the stdlib parser, its fallbacks, salvage."""

from __future__ import annotations

import email
import email.policy
import time

import pytest

from mail.inbound.parse import parse_message
from mail.inbound.parse.addresses import address_pairs


def pairs(value: str) -> list[tuple[str, str | None]]:
    msg = email.message_from_bytes(b"To: " + value.encode() + b"\r\n\r\n", policy=email.policy.compat32)
    return address_pairs(msg, "to")


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
