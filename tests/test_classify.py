"""Unit tests of the pure classification predicates (hit, miss, non-ASCII)."""

from __future__ import annotations

import pytest

from mail.inbound.classify import failed_recipients, is_auto_reply, is_bounce, strip_prefixes
from mail.inbound.parse import parse_message
from tests.support import build


def msg(subject="Consulta", body="Hola", **headers):
    return parse_message(build(subject, body, headers=headers))


@pytest.mark.parametrize("subject", [
    "Respuesta automática: [AT-000001] Filtración", "Automatic reply: Observaciones", "Fuera de la oficina",
    "Out of Office AutoReply: hola", "Auto: Re: consulta", "Ausente: vuelvo el lunes", "Autoreply",
    "Automatische Antwort: Ihre Anfrage", "Réponse automatique : absent",
])
def test_auto_reply_subjects(subject):
    assert is_auto_reply(msg(subject)) == "auto_reply"


@pytest.mark.parametrize("subject", [
    "Estoy fuera del país, ¿pueden coordinar con mi hermana?", "Auto revisión del departamento",
    "Re: [AT-000001] Respuesta a su consulta", "Oficina 302 sin luz",
])
def test_client_subjects_are_not_auto_replies(subject):
    assert is_auto_reply(msg(subject)) is None


def test_vacation_label_with_colon_is_auto():
    assert is_auto_reply(msg("Vacaciones: regreso el 5 de enero")) == "auto_reply"


@pytest.mark.parametrize("headers,why", [
    ({"Auto-Submitted": "auto-replied"}, "auto_reply"), ({"Auto-Submitted": "auto-generated"}, "auto_reply"),
    ({"X-Autoreply": "yes"}, "auto_reply"), ({"X-Autorespond": "1"}, "auto_reply"),
    ({"Precedence": "bulk"}, "bulk"), ({"Precedence": "junk"}, "bulk"), ({"Precedence": "list"}, "bulk"),
    ({"List-Id": "<ofertas.tienda.pe>"}, "bulk"), ({"List-Unsubscribe": "<mailto:baja@tienda.pe>"}, "bulk"),
    ({"X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent"}, "auto_reply"),
])
def test_auto_reply_headers(headers, why):
    assert is_auto_reply(msg(**headers)) == why


def test_auto_submitted_no_is_a_person():
    assert is_auto_reply(msg(**{"Auto-Submitted": "no"})) is None


def test_bounce_by_sender_and_by_null_return_path():
    assert is_bounce(parse_message(build("Undelivered Mail Returned to Sender", "x",
                                         sender="MAILER-DAEMON@mx.example.com")))
    raw = b"Return-Path: <>\r\n" + build("Delivery Status Notification (Failure)", "x", sender="x@example.com")
    assert is_bounce(parse_message(raw))
    raw = b"Return-Path: <>\r\n" + build("Consulta normal", "x", sender="x@example.com")
    assert not is_bounce(parse_message(raw))


def test_failed_recipients_from_dsn():
    raw = (b"From: MAILER-DAEMON@x\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
           b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
           b"Final-Recipient: rfc822; Ana@Example.PE\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--B--\r\n")
    assert failed_recipients(raw) == ["ana@example.pe"]


@pytest.mark.parametrize("subject,expected", [
    ("Re: RV: [AT-000001] Filtración", "[AT-000001] Filtración"), ("RE:Fwd: hola", "hola"),
    ("AW: TR: Wg: SV: asunto", "asunto"), ("Re[2]: eñe", "eñe"), ("Reunión de entrega", "Reunión de entrega"),
])
def test_strip_prefixes(subject, expected):
    assert strip_prefixes(subject) == expected
