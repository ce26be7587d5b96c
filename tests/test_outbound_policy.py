"""`mail.outbound.compose.POLICY` (repeating header values parsed once per process) gives exactly
the mail ``email.policy.default`` gives: same bytes, same header objects' meaning, same refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage

import pytest

from mail.outbound.compose import POLICY, REPEATING_HEADERS, _parsed_header


def build(policy, *, to: str, name: str = "Atención al Cliente") -> bytes:
    """A mail shaped like compose's: every header it sets, two bodies, an attachment."""
    msg = EmailMessage(policy=policy)
    msg["From"] = f"{name} <postventa@inmobiliaria-andina.pe>"
    msg["To"] = to
    msg["Cc"] = "José Ñique <jose@example.pe>, ana@example.pe"
    msg["Subject"] = "[AT-000123] Hemos recibido su solicitud: filtración en el baño"
    msg["Message-ID"] = "<AT-000123.acknowledgement.3f9a0c1b2d4e@inmobiliaria-andina.pe>"
    msg["Date"] = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    msg["In-Reply-To"] = "<CA+abc@mail.gmail.com>"
    msg["References"] = "<CA+abc@mail.gmail.com>"
    msg["Reply-To"] = "postventa+tok3n@inmobiliaria-andina.pe"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content("Estimado(a) señora Peña:\n\nHemos recibido su solicitud.\n" + "línea larga " * 20 + "\n")
    msg.add_alternative("<p>Estimado(a) señora Peña:</p><p>Hemos recibido su solicitud.</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.7 ...", maintype="application", subtype="pdf", filename="acta de entrega.pdf")
    for n, part in enumerate(p for p in msg.walk() if p.is_multipart()):  # random otherwise
        part.set_boundary(f"==boundary-{n}==")
    return msg.as_bytes()


@pytest.mark.parametrize("to", ["rosa.quispe12@gmail.com", "Rosa Quispe <rosa@example.pe>"])
def test_same_bytes_as_the_default_policy(to):
    _parsed_header.cache_clear()
    plain = build(email_policy.default, to=to)
    assert build(POLICY, to=to) == plain  # parsed and cached
    assert build(POLICY, to=to) == plain  # from the cache
    assert _parsed_header.cache_info().hits > 0
    # and with another display name: a cached From is not reused for a different value
    assert build(POLICY, to=to, name="Postventa Ñ") == build(email_policy.default, to=to, name="Postventa Ñ")


def test_cached_headers_read_back_as_the_default_policy_reads_them():
    parsed = message_from_bytes(build(POLICY, to="rosa@example.pe"), policy=email_policy.default)
    assert parsed["From"].addresses[0].addr_spec == "postventa@inmobiliaria-andina.pe"
    assert parsed["From"].addresses[0].display_name == "Atención al Cliente"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_body(("html",)).get_content_type() == "text/html"
    assert {h.lower() for h in ("From", "Reply-To", "Content-Type")} <= REPEATING_HEADERS


def test_a_line_break_is_refused_cached_or_not():
    for _ in range(2):
        msg = EmailMessage(policy=POLICY)
        with pytest.raises(ValueError):
            msg["Reply-To"] = "a@example.pe\r\nBcc: victim@example.pe"
