"""Hostile calendar answers (issue 10, Eventos) through the real inbound pipeline, SQLite and
PostgreSQL: every REPLY ends as a recorded answer, a held message or an ordinary comment — never
a crash, never silently dropped. Also: invitations whose title, place and names carry CR/LF,
commas, semicolons, backslashes, emoji, bidi marks or 2,000 characters stay valid .ics (parsed
back with icalendar) and cannot inject mail headers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from sqlalchemy import select

from tests.support import SUPPORT
from tests.test_events import LIMA, ROSA, entries, with_ticket
from tests.test_rule_calendar_reply import gmail_reply, partstat, reply_ics, visit_uid
from tickets import events
from tickets.models import Event, HeldMessage


@pytest.fixture
def ticket_env(env):
    return with_ticket(env)


def raw_calendar_mail(ics: bytes, *, charset: str = "utf-8", cte: str = "8bit", sender: str = ROSA) -> bytes:
    """A bare text/calendar message written by hand (any charset, any transfer encoding)."""
    import base64
    import quopri

    body = {"8bit": ics, "base64": base64.encodebytes(ics), "quoted-printable": quopri.encodestring(ics)}[cte]
    head = (f"From: Rosa <{sender}>\r\nTo: {SUPPORT}\r\nSubject: Aceptado: Revision\r\n"
            f"Date: {format_datetime(datetime(2026, 11, 20, 16, 0, tzinfo=UTC))}\r\n"
            f"Message-ID: {make_msgid(domain='x.pe')}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/calendar; method=REPLY; charset={charset}\r\n"
            f"Content-Transfer-Encoding: {cte}\r\n\r\n")
    return head.encode("ascii") + body


@pytest.mark.parametrize("word", ["DELEGATED", "X-MAYBE", ""])
def test_a_reply_with_an_answer_we_cannot_record_is_held_not_dropped(ticket_env, word):
    env = ticket_env
    uid = visit_uid(env)
    result = env.ingest_bytes(raw_calendar_mail(reply_ics(uid, ROSA, word) if word else
                                                reply_ics(uid, ROSA, "ACCEPTED").replace(b";PARTSTAT=ACCEPTED", b"")))
    assert (result.outcome.value, result.reason) == ("held", "calendar_reply_unknown_answer")
    assert partstat(env) == ("NEEDS-ACTION", None)
    with env.sessions() as s:
        (held,) = s.scalars(select(HeldMessage)).all()
        assert held.reason == "calendar_reply_unknown_answer"


def test_lowercase_partstat_and_uppercase_mailto_are_recorded(ticket_env):
    env = ticket_env
    uid = visit_uid(env)
    ics = reply_ics(uid, ROSA, "ACCEPTED").replace(b"PARTSTAT=ACCEPTED", b"PARTSTAT=accepted")
    ics = ics.replace(b"mailto:" + ROSA.encode(), b"MAILTO:" + ROSA.upper().encode())
    result = env.ingest_bytes(raw_calendar_mail(ics, cte="quoted-printable"))
    assert result.reason == "calendar_reply"
    assert partstat(env)[0] == "ACCEPTED"


def test_a_latin1_calendar_part_is_read(ticket_env):
    env = ticket_env
    uid = visit_uid(env)
    ics = reply_ics(uid, ROSA, "DECLINED", cn="Rosa Quispe Huamán").decode().encode("latin-1")
    result = env.ingest_bytes(raw_calendar_mail(ics, charset="iso-8859-1", cte="base64"))
    assert result.reason == "calendar_reply"
    assert partstat(env)[0] == "DECLINED"


def test_a_reply_to_a_cancelled_event_is_noted_not_applied(ticket_env):
    env = ticket_env
    uid = visit_uid(env)
    with env.sessions.begin() as s:
        events.cancel(s, env.ctx, s.scalar(select(Event)), zone=LIMA)
    result = env.ingest_bytes(gmail_reply(uid, "ACCEPTED", sequence=1))
    assert (result.outcome.value, result.reason) == ("ignored", "calendar_reply")
    assert partstat(env) == ("NEEDS-ACTION", None)
    assert "cancelad" in entries(env, "event")[-1].text
    assert entries(env, "comment") == []


@pytest.mark.parametrize("ics", [
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n",  # no VEVENT
    b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:2026133\r\n",  # truncated
    b"\xff\xfe garbage " * 1000,
])
def test_unreadable_or_empty_replies_become_ordinary_comments(ticket_env, ics):
    env = ticket_env
    visit_uid(env)
    m = EmailMessage()
    m["From"] = f"Rosa <{ROSA}>"
    m["To"] = SUPPORT
    m["Subject"] = "Re: [AT-000001] Invitación: Revisión de la humedad"
    m["Message-ID"] = make_msgid(domain="x.pe")
    m.set_content("Respondo a la invitación.")
    m.add_attachment(ics, maintype="text", subtype="calendar", filename="invite.ics")
    result = env.ingest_bytes(m.as_bytes())
    assert (result.outcome.value, result.code) == ("comment", "AT-000001")
    assert partstat(env)[0] == "NEEDS-ACTION"


def test_two_vevents_the_second_one_ours(ticket_env):
    """A REPLY carrying an unrelated VEVENT first and ours second: ours is the one answered."""
    env = ticket_env
    uid = visit_uid(env)
    ours = reply_ics(uid, ROSA, "TENTATIVE")
    other = reply_ics("otro@x.pe", ROSA, "ACCEPTED")
    body = other.split(b"BEGIN:VEVENT")[1].split(b"END:VEVENT")[0]
    ics = ours.replace(b"BEGIN:VEVENT", b"BEGIN:VEVENT" + body + b"END:VEVENT\r\nBEGIN:VEVENT", 1)
    result = env.ingest_bytes(raw_calendar_mail(ics))
    assert result.outcome.value in ("ignored", "held")
    assert result.outcome.value != "ignored" or partstat(env)[0] == "TENTATIVE"


def test_parse_reads_hostile_calendar_mails_without_a_traceback(loaded):
    """`atencion parse --json` on broken, huge and odd calendar answers: one decision each."""
    cli = loaded
    mails = {
        "a-no-vevent.eml": raw_calendar_mail(b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n"),
        "b-delegated.eml": raw_calendar_mail(reply_ics("nadie@x.pe", ROSA, "DELEGATED"), cte="base64"),
        "c-huge.eml": raw_calendar_mail(reply_ics("u@x.pe", ROSA, "ACCEPTED", cn="Ñ" * 200_000), cte="base64"),
        "d-bad-folding.eml": raw_calendar_mail(b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:a\r\n"
                                               b"\r\n  b\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:" + ROSA.encode()
                                               + b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
    }
    for name, raw in mails.items():
        (cli.home / name).write_bytes(raw)
    results = cli.json("parse", "--json", *(cli.home / name for name in mails))
    assert [r["outcome"] for r in results] == ["ticket", "held", "held", "held"]
    assert [r["reason"] for r in results][1:] == ["calendar_unknown_event"] * 3


HOSTILE_TITLE = "Visita\r\nBcc: intruso@example.com\rX;y,z\\n \\ 🏠 \u202eodatsid\u202c fin"
HOSTILE_PLACE = "Torre B; Dpto. 504, \"piso\" 5\nBEGIN:VEVENT\r\nUID:falso" + "ñ" * 2000


def test_hostile_title_place_and_names_keep_the_ics_valid_and_the_headers_clean(ticket_env):
    from email import policy
    from email.parser import BytesParser

    from icalendar import Calendar

    from mail.outbound.compose import compose
    from tests.test_events import END, NOW, START, staff, ticket
    from tickets.models import OutboxMessage

    env = ticket_env
    with env.sessions.begin() as s:
        t = ticket(s)
        t.requester_name = 'Rosa "La Jefa"; Quispe,\r\nHuamán \\ 🌹'
        events.schedule(s, env.ctx, t, title=HOSTILE_TITLE, starts_at=START, ends_at=END, zone=LIMA,
                        location=HOSTILE_PLACE, by=staff(s), now=NOW,
                        attendees=[ROSA, ROSA.upper(), " Luis@Example.com ", "luis@example.com"])
    with env.sessions() as s:
        ev = s.scalar(select(Event))
        assert sorted(a.email for a in ev.attendees) == ["luis@example.com", ROSA]
        assert ev.title == "Visita Bcc: intruso@example.com X;y,z\\n \\ 🏠 \u202eodatsid\u202c fin"
        assert ev.location.startswith('Torre B; Dpto. 504, "piso" 5 BEGIN:VEVENT UID:falso') and len(ev.location) == 300
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.event == "event_invitation")))
        assert rows
        for row in rows:
            raw = compose(s, env.settings, row).as_bytes()
            mail = BytesParser(policy=policy.default).parsebytes(raw)
            assert "intruso" not in (mail["Bcc"] or "") and "\n" not in mail["Subject"]
            assert [k for k in mail.keys() if k.lower() == "bcc"] == []
            (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
            text = part.get_content()
            lines = part.get_payload(decode=True).replace(b"\r\n", b"\n").split(b"\n")
            assert [line for line in lines if len(line) > 75 or b"\r" in line] == []  # folded, no bare CR
            assert [line for line in lines if line.startswith(b"BEGIN:VEVENT")] == [b"BEGIN:VEVENT"]
            cal = Calendar.from_ical(text)
            (vevent,) = cal.walk("VEVENT")
            assert str(vevent["UID"]) == ev.uid
            assert str(vevent["SUMMARY"]) == ev.title and str(vevent["LOCATION"]) == ev.location
            names = {str(a).lower(): a.params.get("CN") for a in vevent["ATTENDEE"]}
            assert names[f"mailto:{ROSA}"] == 'Rosa "La Jefa"; Quispe, Huamán \\ 🌹'


def test_our_own_mailbox_cannot_be_invited(ticket_env):
    """`queue_mail` never mails our own address: invited, it would wait for an answer forever."""
    from tests.test_events import END, NOW, START, staff, ticket

    env = ticket_env
    with env.sessions.begin() as s:
        with pytest.raises(events.EventInvalid) as exc:
            events.schedule(s, env.ctx, ticket(s), title="Visita", starts_at=START, ends_at=END, zone=LIMA,
                            by=staff(s), now=NOW, attendees=[ROSA, SUPPORT.upper()])
        assert exc.value.errors == {"attendees": f"No invite a nuestro propio buzón: {SUPPORT}."}
        ev = events.schedule(s, env.ctx, ticket(s), title="Visita", starts_at=START, ends_at=END, zone=LIMA,
                             by=staff(s), now=NOW, attendees=[ROSA])
        with pytest.raises(events.EventInvalid):
            events.update(s, env.ctx, ev, zone=LIMA, title="Visita", starts_at=START, ends_at=END,
                          attendees=[ROSA, SUPPORT], now=NOW)
