"""The bounce rule's predicates (`mail.inbound.rules.bounce`): DSN, mailer-daemon, null Return-Path; the
failed recipients of a report (`mail.inbound.delivery_report`)."""

from __future__ import annotations

from mail.inbound.delivery_report import dsn_recipients, text_failures
from mail.inbound.parse import parse_message
from mail.inbound.rules.bounce import is_bounce, is_notice
from tests.support import build


def test_bounce_by_sender_and_by_null_return_path():
    assert is_bounce(parse_message(build("Undelivered Mail Returned to Sender", "x",
                                         sender="MAILER-DAEMON@mx.example.com")))
    raw = b"Return-Path: <>\r\n" + build("Delivery Status Notification (Failure)", "x", sender="x@example.com")
    assert is_bounce(parse_message(raw))
    raw = b"Return-Path: <>\r\n" + build("Notificación de estado de entrega", "x", sender="x@example.com")
    assert is_bounce(parse_message(raw))


def test_null_return_path_alone_is_not_a_bounce():
    raw = b"Return-Path: <>\r\n" + build("Consulta normal", "x", sender="x@example.com")
    assert not is_bounce(parse_message(raw))


def test_failed_recipients_from_dsn():
    raw = (b"From: MAILER-DAEMON@x\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
           b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
           b"Final-Recipient: rfc822; Ana@Example.PE\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
           b"Final-Recipient: rfc822; ok@example.pe\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n--B--\r\n")
    msg = parse_message(raw)
    assert [f.addresses for b in dsn_recipients(msg) if (f := b.failure)] == [("ana@example.pe",)]
    assert is_bounce(msg) and not is_notice(msg)


def test_failed_recipients_of_a_plain_postfix_report():
    text = "<rosa.quispe@ejemplo.pe>: host mx.ejemplo.pe said: 550 5.1.1 unknown user\n"
    [failure] = text_failures(text, ["rosa.quispe@ejemplo.pe", "otra@ejemplo.pe"])
    assert failure.addresses == ("rosa.quispe@ejemplo.pe",) and failure.status == "5.1.1"
