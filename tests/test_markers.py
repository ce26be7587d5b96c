"""Subject prefixes (`mail.inbound.markers`): replies and forwards in Spanish, English and others."""

from __future__ import annotations

import pytest

from mail.inbound.markers import FORWARD_PREFIX_RE, REPLY_PREFIX_RE


@pytest.mark.parametrize("subject,expected", [
    ("Re: RV: [AT-000001] Filtración", "[AT-000001] Filtración"), ("RE:Fwd: hola", "hola"),
    ("AW: TR: Wg: SV: asunto", "asunto"), ("Re[2]: eñe", "eñe"), ("Reunión de entrega", "Reunión de entrega"),
])
def test_reply_prefixes(subject, expected):
    assert REPLY_PREFIX_RE.sub("", subject).strip() == expected


@pytest.mark.parametrize("subject,is_forward", [
    ("RV: Filtración", True), ("Fwd: x", True), ("FW: x", True), ("TR: x", True), ("Reenviado: x", True),
    ("Re: x", False), ("Reenvío de planos", False), ("Rv Torre B", False),
])
def test_forward_prefixes(subject, is_forward):
    assert bool(FORWARD_PREFIX_RE.match(subject)) is is_forward
