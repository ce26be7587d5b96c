"""Delivery reports of our own mail (issue 8, "Bounces"): a DSN or a plain-text MTA report is matched
to the copy it returns (Message-ID and recipient), that copy is marked bounced, its address flagged
and one note written; a delay report, or a report of mail not ours, changes nothing. A bounce never
causes mail, a comment or a ticket. On SQLite and PostgreSQL; the readers on their own first."""

from __future__ import annotations

from email.utils import make_msgid

import pytest
from sqlalchemy import func, select

from mail.inbound.delivery_report import (
    dsn_recipients,
    is_delay_notice,
    our_message_ids,
    report_words,
    text_failures,
)
from mail.inbound.parse import parse_message
from tests.cli_harness import CATALOG
from tests.shared_data import require_shared
from tests.support import SUPPORT, build
from tickets import outbox
from tickets.models import BouncedAddress, LogbookEntry, OutboxMessage, Ticket

ROSA = "rosa.quispe.h@gmail.com"
PERCY = "percy.vsoto@hotmail.com"
DOMAIN = SUPPORT.rpartition("@")[2]
OURS = f"AT-000001.acknowledgement.3f9a0c1b2d4e@{DOMAIN}"


# --------------------------------------------------------------------------- reports as MTAs write them


def original_headers(mid: str, subject: str = "[AT-000001] Hemos recibido su solicitud") -> str:
    """The headers of our mail as a report quotes them (both copies' addresses in To and Cc)."""
    return (f"Return-Path: <{SUPPORT}>\nFrom: Postventa Inmobiliaria Andina <{SUPPORT}>\n"
            f"To: {ROSA}\nCc: {PERCY}\nSubject: {subject}\nDate: Fri, 20 Nov 2026 10:00:00 -0500\n"
            f"Message-ID: <{mid}>\nIn-Reply-To: <cliente.1@mail.example.com>\n"
            "Auto-Submitted: auto-generated\n")


def fold(text: str) -> str:
    """A long field folded at a space, as MTAs write it."""
    cut = text.rfind(" ", 0, 40)
    return text if cut < 0 else f"{text[:cut]}\n   {text[cut:]}"


def dsn(mid: str, *blocks: tuple[str, str, str, str], headers_only: bool = False) -> bytes:
    """A multipart/report DSN: one (recipient, action, status, diagnostic) block per recipient,
    the returned message (or only its headers) beside it."""
    per_rcpt = "".join(
        f"Original-Recipient: rfc822;{r}\nFinal-Recipient: rfc822; {r}\nAction: {a}\nStatus: {s}\n"
        + (f"Diagnostic-Code: smtp; {fold(d)}\n" if d else "") + "\n"
        for r, a, s, d in blocks)
    returned = (("Content-Type: text/rfc822-headers\n\n" + original_headers(mid)) if headers_only else
                ("Content-Type: message/rfc822\n\n" + original_headers(mid) + "\nGracias por escribirnos.\n"))
    return (
        f"Return-Path: <>\nFrom: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nTo: {SUPPORT}\n"
        f"Subject: Delivery Status Notification\nDate: Fri, 20 Nov 2026 10:05:00 -0500\n"
        f"Message-ID: {make_msgid(domain='mx.google.example')}\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\n\n'
        "--BB\nContent-Type: text/plain; charset=utf-8\n\nReport for your message.\n\n"
        "--BB\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.google.example\n"
        "Arrival-Date: Fri, 20 Nov 2026 10:00:01 -0500\n\n" + per_rcpt +
        "--BB\n" + returned + "\n--BB--\n").replace("\n", "\r\n").encode()


def qmail(mid: str, rcpt: str = ROSA) -> bytes:
    return (
        f"Return-Path: <>\nFrom: MAILER-DAEMON@mail.example.net\nTo: {SUPPORT}\nSubject: failure notice\n"
        f"Date: Fri, 20 Nov 2026 10:05:00 -0500\nMessage-ID: {make_msgid(domain='mail.example.net')}\n\n"
        "Hi. This is the qmail-send program at mail.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{rcpt}>:\n192.0.2.25 does not like recipient.\n"
        f"Remote host said: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown\n"
        "Giving up on 192.0.2.25.\n\n--- Below this line is a copy of the message.\n\n"
        + original_headers(mid) + "\nGracias por escribirnos.\n").replace("\n", "\r\n").encode()


def exim(mid: str, rcpt: str = PERCY, *, delay: bool = False) -> bytes:
    if delay:
        subject, words = "Warning: message 1P1ce6-000Egt-GZ delayed 24 hours", (
            "A message that you sent has not yet been delivered to one or more of its\n"
            "recipients after more than 24 hours on the queue on mx.example.net.\n\n"
            "The address to which the message has not yet been delivered is:\n\n"
            f"  {rcpt}\n    host mx.hotmail.example [192.0.2.7]: 451 4.7.1 Greylisted, try later\n\n"
            "No action is required on your part. Delivery attempts will continue for\n"
            "some time, and this warning may be repeated at intervals.\n\n"
            "------ This is a copy of the message's headers. ------\n\n")
    else:
        subject, words = "Mail delivery failed: returning message to sender", (
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            f"  {rcpt}\n    host mx.hotmail.example [192.0.2.7]\n"
            f"    SMTP error from remote mail server after RCPT TO:<{rcpt}>:\n"
            f"    550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown\n\n"
            "------ This is a copy of the message, including all the headers. ------\n\n")
    return (
        f"Return-Path: <>\nFrom: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: {SUPPORT}\n"
        f"Subject: {subject}\nAuto-Submitted: auto-replied\nDate: Fri, 20 Nov 2026 10:05:00 -0500\n"
        f"Message-ID: {make_msgid(domain='mx.example.net')}\n\n"
        "This message was created automatically by mail delivery software.\n\n" + words
        + original_headers(mid) + "\nGracias por escribirnos.\n").replace("\n", "\r\n").encode()


# --------------------------------------------------------------------------- the readers


def test_dsn_blocks_read_with_folded_diagnostic_and_both_recipient_fields():
    msg = parse_message(dsn(OURS, (PERCY, "failed", "5.1.1", "550 5.1.1 The email account that you tried to "
                                                             "reach does not exist"),
                            (ROSA, "delivered", "2.0.0", "")))
    failed, delivered = dsn_recipients(msg)
    assert failed.addresses == (PERCY,) and failed.action == "failed" and failed.status == "5.1.1"
    assert failed.diagnostic == "550 5.1.1 The email account that you tried to reach does not exist"
    assert failed.failure is not None and failed.failure.text == failed.diagnostic
    assert delivered.action == "delivered" and delivered.failure is None
    assert our_message_ids(msg, DOMAIN) == (OURS,)


def test_a_delay_or_temporary_dsn_block_is_no_failure():
    msg = parse_message(dsn(OURS, (PERCY, "delayed", "4.4.7", "451 4.4.7 try again later"),
                            (ROSA, "failed", "4.4.7", "421 too many connections")))
    assert [b.failure for b in dsn_recipients(msg)] == [None, None]


def test_plain_text_reports_name_the_failed_copy_only():
    q = parse_message(qmail(OURS))
    assert our_message_ids(q, DOMAIN) == (OURS,)
    [f] = text_failures(report_words(q), [ROSA, PERCY])  # Percy is only in the quoted Cc
    assert f.addresses == (ROSA,) and f.status == "5.1.1" and "User unknown" in f.diagnostic
    e = parse_message(exim(OURS))
    [f] = text_failures(report_words(e), [ROSA, PERCY])
    assert f.addresses == (PERCY,) and f.status == "5.1.1" and "SMTP error" in f.diagnostic
    postfix = "<percy.vsoto@hotmail.com>: host mx said: 550 5.1.1 unknown user (in reply to RCPT TO)\n"
    assert [f.addresses for f in text_failures(postfix, [ROSA, PERCY])] == [(PERCY,)]


def test_plain_text_without_a_permanent_code_or_with_a_delay_is_no_failure():
    words = report_words(parse_message(exim(OURS, delay=True)))
    assert is_delay_notice(words) and text_failures(words, [PERCY]) == ()
    assert text_failures(f"<{PERCY}>:\nConnection refused. Will try again later.\n", [PERCY]) == ()
    assert text_failures(f"<{PERCY}>:\nSorry, no mailbox here by that name. (#5.1.1)\n", [PERCY])
    for word in ("retraso en la entrega", "still trying", "will retry"):
        assert text_failures(f"<{PERCY}>: 550 5.1.1 {word}\n", [PERCY]) == ()


def test_an_address_on_a_quoted_header_line_is_not_a_failure():
    words = (f"This report relates to a message you sent with the following header fields:\n\n"
             f"  Message-id: <{OURS}>\n  To: {ROSA}\n  Cc: {PERCY}\n\n"
             "Your message cannot be delivered to the following recipients:\n\n"
             f"  Recipient address: {PERCY}\n  Reason: Remote SMTP server has rejected address\n"
             f"  Diagnostic code: smtp; 550 5.1.1 User Unknown: {PERCY}\n")
    assert [f.addresses for f in text_failures(words, [ROSA, PERCY])] == [(PERCY,)]


@pytest.mark.parametrize(("name", "their_id", "their_rcpt"), [
    ("sisimai/bsd/lhost-exim-01.eml", "hogeuoiuadogalhg.dg9i09@example.jp", "kijitora@example.ed.jp"),
    ("sisimai/bsd/lhost-mailru-01.eml", "8F3CE2D8-D60E-48C3-B9AF-BED628EE2CA5@mail.example.ru",
     "kijitora@example.jp"),
    ("sisimai/bsd/lhost-office365-01.eml", "FFFFFFFF.EEEEEEEE@example.ed.jp", "kijitora@example.com"),
])
def test_real_plain_text_reports_match_once_they_return_our_mail(name, their_id, their_rcpt):
    """Real reports of the shared corpus (Exim, Mail.ru's Exim, Office 365's NDR text): as they are,
    nothing of ours; with their returned Message-ID and recipient made ours, that copy failed."""
    raw = (require_shared("corpus") / name).read_bytes()
    assert our_message_ids(parse_message(raw), DOMAIN) == ()
    msg = parse_message(raw.replace(their_id.encode(), OURS.encode()).replace(their_rcpt.encode(), PERCY.encode()))
    assert our_message_ids(msg, DOMAIN) == (OURS,)
    [failure] = text_failures(report_words(msg), [ROSA, PERCY])
    assert failure.addresses == (PERCY,) and failure.status.startswith("5.")


def test_only_message_ids_of_ours_are_returned():
    raw = qmail(OURS).replace(OURS.encode(), b"AT-000001.acknowledgement.3f9a0c1b2d4e@otro-dominio.pe")
    assert our_message_ids(parse_message(raw), DOMAIN) == ()
    raw = qmail(OURS).replace(OURS.encode(), b"CAFxyz123@mail.gmail.com")
    assert our_message_ids(parse_message(raw), None) == ()
    shouting = OURS.replace(DOMAIN, DOMAIN.upper())
    assert our_message_ids(parse_message(qmail(shouting)), DOMAIN) == (shouting,)
    # an id of ours in the quoted In-Reply-To is another mail: only the Message-ID line counts
    earlier = f"AT-000001.status.{'a' * 12}@{DOMAIN}"
    raw = qmail(OURS).replace(b"<cliente.1@mail.example.com>", f"<{earlier}>".encode())
    assert our_message_ids(parse_message(raw), DOMAIN) == (OURS,)


# --------------------------------------------------------------------------- through the pipeline


def open_ticket(env) -> str:
    """AT-000001 from Rosa with Percy in Cc; its acknowledgement's two copies sent. Its Message-ID."""
    result = env.ingest_bytes(build("Filtración en el baño del Dpto 504", "Hay una filtración en el baño.",
                                    sender=f"Rosa Quispe <{ROSA}>", cc=f"Percy <{PERCY}>"))
    assert result.code == "AT-000001"
    with env.sessions.begin() as s:
        for row_id in outbox.claim(s, outbox.due_ids(s), lease_s=60):
            assert outbox.mark_sent(s, row_id, 1)
        [mid] = set(s.scalars(select(OutboxMessage.message_id)))
    return mid


def copies(env) -> dict[str, tuple[str, str | None]]:
    with env.sessions() as s:
        return {r.recipient: (r.state, r.last_error) for r in s.scalars(select(OutboxMessage))}


def snapshot(env) -> tuple:
    """What a bounce must never change: outbox rows, tickets, comments, the ticket's status."""
    with env.sessions() as s:
        count = s.scalar(select(func.count()).select_from(OutboxMessage))
        tickets = s.scalar(select(func.count()).select_from(Ticket))
        comments = s.scalar(select(func.count()).select_from(LogbookEntry).where(LogbookEntry.kind == "comment"))
    return count, tickets, comments, env.ticket("AT-000001").status.name


def flagged(env) -> list[str]:
    with env.sessions() as s:
        return list(s.scalars(select(BouncedAddress.email).order_by(BouncedAddress.email)))


def notes(env) -> list[str]:
    return [e.text for e in env.entries("AT-000001", "note")]


def test_dsn_for_the_cc_copy_bounces_that_copy_only_and_once(env):
    mid = open_ticket(env)
    before = snapshot(env)
    result = env.ingest_bytes(dsn(mid, (PERCY, "failed", "5.1.1", "550 5.1.1 The email account that you "
                                                                  "tried to reach does not exist")))
    assert (result.outcome.value, result.rule, result.reason) == ("ignored", "bounce", "bounce")
    assert copies(env) == {ROSA: ("sent", None), PERCY: (
        "bounced", "550 5.1.1 The email account that you tried to reach does not exist")}
    assert flagged(env) == [PERCY]
    assert notes(env) == ["No se pudo entregar el correo «acuse de recibo» a percy.vsoto@hotmail.com: 550 5.1.1 "
                          "The email account that you tried to reach does not exist (rebote)."]
    assert snapshot(env) == before  # no mail, no comment, no ticket, no status change
    with env.sessions() as s:
        assert s.scalar(select(BouncedAddress.outbox_id).where(BouncedAddress.email == PERCY)) is not None

    # a second report of the same copy (another report, so not a duplicate) changes nothing more
    again = env.ingest_bytes(dsn(mid, (PERCY, "failed", "5.1.1", "550 5.1.1 no such user"), headers_only=True))
    assert (again.outcome.value, again.reason) == ("ignored", "bounce")
    assert len(notes(env)) == 1 and copies(env)[PERCY][1].startswith("550 5.1.1 The email account")
    assert snapshot(env) == before


def test_plain_text_qmail_and_exim_reports_are_matched(env):
    mid = open_ticket(env)
    before = snapshot(env)
    assert env.ingest_bytes(qmail(mid)).reason == "bounce"
    assert copies(env)[ROSA][0] == "bounced" and copies(env)[PERCY][0] == "sent"
    assert copies(env)[ROSA][1].startswith("5.1.1 ") and "User unknown" in copies(env)[ROSA][1]
    assert env.ingest_bytes(exim(mid)).reason == "bounce"
    assert copies(env)[PERCY][0] == "bounced"
    assert flagged(env) == [PERCY, ROSA]
    [n1, n2] = notes(env)
    assert n1.startswith(f"No se pudo entregar el correo «acuse de recibo» a {ROSA}: 5.1.1 ") and n1.endswith(
        "(rebote).")
    assert n2.startswith(f"No se pudo entregar el correo «acuse de recibo» a {PERCY}: 5.1.1 ")
    assert snapshot(env) == before


def test_delay_reports_flag_nothing(env):
    mid = open_ticket(env)
    before = snapshot(env)
    delayed = env.ingest_bytes(dsn(mid, (PERCY, "delayed", "4.4.7", "451 4.4.7 try again later")))
    assert (delayed.outcome.value, delayed.rule, delayed.reason) == ("ignored", "bounce", "delivery_notice")
    warning = env.ingest_bytes(exim(mid, delay=True))
    assert (warning.outcome.value, warning.reason) == ("ignored", "delivery_notice")
    relayed = env.ingest_bytes(dsn(mid, (ROSA, "relayed", "2.0.0", ""), (PERCY, "delivered", "2.0.0", "")))
    assert relayed.reason == "delivery_notice"
    assert copies(env) == {ROSA: ("sent", None), PERCY: ("sent", None)}
    assert flagged(env) == [] and notes(env) == []
    assert snapshot(env) == before


def test_a_report_of_mail_not_ours_is_ignored_and_flags_nothing(env):
    mid = open_ticket(env)
    before = snapshot(env)
    unknown = f"AT-000001.status.{'0' * 12}@{DOMAIN}"  # our shape, but no such mail
    for raw in (dsn(unknown, (PERCY, "failed", "5.1.1", "550 5.1.1 user unknown")),
                dsn("CAFxyz123@mail.gmail.com", (PERCY, "failed", "5.1.1", "550 5.1.1 user unknown")),
                qmail("20240605144502.9C1F32A0B7@mx1.example.net", rcpt=ROSA),
                qmail(mid.replace(DOMAIN, "otro-dominio.pe"), rcpt=ROSA)):
        result = env.ingest_bytes(raw)
        assert (result.outcome.value, result.reason) == ("ignored", "bounce")
    assert copies(env) == {ROSA: ("sent", None), PERCY: ("sent", None)}
    assert flagged(env) == [] and notes(env) == []
    assert snapshot(env) == before


def test_a_dsn_for_the_cc_copy_through_dovecot(env, dovecot, imap_user):
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    dovecot.append(user, build("Filtración en el baño del Dpto 504", "Hay una filtración en el baño.",
                               sender=f"Rosa Quispe <{ROSA}>", cc=f"Percy <{PERCY}>"))
    assert env.poll(mb).counts == {"ticket": 1}
    with env.sessions.begin() as s:
        for row_id in outbox.claim(s, outbox.due_ids(s), lease_s=60):
            outbox.mark_sent(s, row_id, 1)
        [mid] = set(s.scalars(select(OutboxMessage.message_id)))
    before = snapshot(env)
    dovecot.append(user, dsn(mid, (PERCY, "failed", "5.2.1", "550 5.2.1 The email account that you tried "
                                                             "to reach is disabled")))
    dovecot.append(user, qmail(mid.replace(DOMAIN, "otro-dominio.pe")))
    report = env.poll(mb)
    assert report.error is None and report.counts == {"ignored": 2}
    assert [(m.outcome, m.reason) for m in env.inbound()[1:]] == [("ignored", "bounce")] * 2
    assert copies(env)[PERCY][0] == "bounced" and copies(env)[ROSA] == ("sent", None)
    assert flagged(env) == [PERCY] and len(notes(env)) == 1 and "5.2.1" in notes(env)[0]
    assert snapshot(env) == before


# --------------------------------------------------------------------------- the staff's side, by the CLI


def test_flagged_address_gets_no_more_mail_until_cleared(cli):
    cli.ok("migrate")
    cli.ok("catalog", "load", CATALOG)
    mail = cli.home / "in" / "01.eml"
    mail.parent.mkdir()
    mail.write_bytes(build("Filtración en el baño", "Hay una filtración en el techo del baño.",
                           sender=f"Rosa Quispe <{ROSA}>", cc=f"Percy <{PERCY}>"))
    cli.ok("import", mail.parent)
    with cli.sessions() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(r.recipient, r.state) for r in rows] == [(ROSA, "sent"), (PERCY, "sent")]
        mid = rows[0].message_id
    bounce = cli.home / "bounce" / "01.eml"
    bounce.parent.mkdir()
    bounce.write_bytes(dsn(mid, (PERCY, "failed", "5.1.1", "550 5.1.1 user unknown")))
    cli.ok("import", bounce.parent)

    data = cli.json("show", "AT-000001", "--json")
    [ack] = [e for e in data["logbook"] if e["kind"] == "email_out"]
    assert ack["state"] == "bounced"
    assert {r["email"]: r["state"] for r in ack["recipients"]} == {ROSA: "sent", PERCY: "bounced"}
    assert [e["text"] for e in data["logbook"] if e["kind"] == "note"] == [
        f"No se pudo entregar el correo «acuse de recibo» a {PERCY}: 550 5.1.1 user unknown (rebote)."]
    [listed] = cli.json("outbox", "bounced", "--json")
    assert listed["email"] == PERCY and listed["diagnostic"] == "550 5.1.1 user unknown"
    assert PERCY in cli.ok("outbox", "bounced")

    cli.ok("status", "AT-000001", "En proceso")  # the client is told: Rosa only
    [status_mail] = [e for e in cli.json("show", "AT-000001", "--json")["logbook"]
                     if e["kind"] == "email_out" and e["event"] == "status"]
    assert [r["email"] for r in status_mail["recipients"]] == [ROSA] and status_mail["state"] == "sent"

    assert cli.ok("outbox", "clear-bounce", PERCY.upper()).strip() == f"{PERCY}: recibe correo otra vez"
    assert cli.json("outbox", "bounced", "--json") == []
    cli.ok("status", "AT-000001", "Atendido")
    mails = [e for e in cli.json("show", "AT-000001", "--json")["logbook"]
             if e["kind"] == "email_out" and e["event"] == "status"]
    assert {r["email"]: r["state"] for r in mails[-1]["recipients"]} == {ROSA: "sent", PERCY: "sent"}
