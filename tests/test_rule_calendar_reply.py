"""The calendar-reply rule (mail.inbound.rules.calendar_reply) through the real inbound pipeline
(mail.inbound.ingest, SQLite and PostgreSQL): an attendee's Accept/Decline to our invitation
(METHOD:REPLY), shaped as Gmail sends it (text/calendar alternative + invite.ics attachment,
quoted-printable) and as Outlook does (base64 text/calendar, CN with accents), is recorded on the
event — PARTSTAT, replied_at, a logbook ``event`` entry linked to the message — never as a
comment, and nobody is mailed. An unknown UID, an uninvited attendee or a reply sent by someone
else is held; a calendar that is not a REPLY, or no calendar at all, falls through.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from icalendar import Calendar, vCalAddress
from icalendar import Event as VEvent
from sqlalchemy import select

from mail.inbound.rules.calendar_reply import read_reply
from tests.support import SUPPORT, build
from tests.test_events import END, LIMA, NOW, ROSA, START, entries, schedule_visit, with_ticket
from tickets.models import Event, HeldMessage, InboundMessage, OutboxMessage


@pytest.fixture
def ticket_env(env):
    """``env`` with AT-000001, Rosa's ticket (tests.test_events)."""
    return with_ticket(env)


def reply_ics(uid: str, attendee: str, partstat: str, *, sequence: int = 0, cn: str | None = None,
              method: str = "REPLY") -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Google Inc//Google Calendar 70.9054//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    ev = VEvent()
    ev.add("uid", uid)
    ev.add("sequence", sequence)
    ev.add("dtstamp", datetime(2026, 11, 20, 16, 0, tzinfo=UTC))
    ev.add("dtstart", START)
    ev.add("dtend", END)
    ev.add("summary", "Revisión de la humedad")
    organizer = vCalAddress(f"mailto:{SUPPORT}")
    ev.add("organizer", organizer)
    a = vCalAddress(f"mailto:{attendee}")
    a.params["partstat"] = partstat
    if cn:
        a.params["cn"] = cn
    ev.add("attendee", a)
    cal.add_component(ev)
    return cal.to_ical()


def gmail_reply(uid: str, partstat: str = "ACCEPTED", *, sender: str = ROSA, attendee: str = ROSA,
                sequence: int = 0, method: str = "REPLY") -> bytes:
    """As Gmail answers an invitation: alternative text/html/calendar, plus invite.ics."""
    m = EmailMessage()
    m["From"] = f"Rosa Quispe <{sender}>"
    m["To"] = SUPPORT
    word = {"ACCEPTED": "aceptada", "DECLINED": "rechazada", "TENTATIVE": "aceptada provisionalmente"}[partstat]
    m["Subject"] = f"Invitación {word}: [AT-000001] Invitación: Revisión de la humedad @ lun 23 nov 2026"
    m["Date"] = format_datetime(datetime(2026, 11, 20, 16, 0, tzinfo=UTC))
    m["Message-ID"] = make_msgid(domain="mail.gmail.com")
    ics = reply_ics(uid, attendee, partstat, sequence=sequence, method=method)
    m.set_content(f"Rosa Quispe ha {word[:-1]}o esta invitación.")
    m.add_alternative(f"<p>Rosa Quispe ha {word[:-1]}o esta invitación.</p>", subtype="html")
    m.add_alternative(ics.decode(), subtype="calendar", params={"method": method}, cte="quoted-printable")
    m.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return m.as_bytes()


def outlook_reply(uid: str, partstat: str = "DECLINED", *, sequence: int = 0) -> bytes:
    """As Outlook answers: text/plain + base64 text/calendar (method=REPLY), a CN with accents."""
    ics = reply_ics(uid, ROSA, partstat, sequence=sequence, cn="Rosa Quispe Huamán")
    m = EmailMessage()
    m["From"] = f'"Quispe Huamán, Rosa" <{ROSA}>'
    m["To"] = f"Atención al Cliente <{SUPPORT}>"
    m["Subject"] = "Rechazado: [AT-000001] Invitación: Revisión de la humedad"
    m["Thread-Topic"] = "[AT-000001] Invitación: Revisión de la humedad"
    m["X-MS-Has-Attach"] = ""
    m["Date"] = format_datetime(datetime(2026, 11, 20, 16, 5, tzinfo=UTC))
    m["Message-ID"] = make_msgid(domain="EXCH01.outlook.com")
    m.set_content("")
    m.add_alternative(ics.decode(), subtype="calendar", params={"method": "REPLY"}, cte="base64")
    return m.as_bytes()


def visit_uid(env) -> str:
    event_id = schedule_visit(env)
    with env.sessions.begin() as s:
        for row in s.scalars(select(OutboxMessage)):
            s.delete(row)
        return s.get(Event, event_id).uid


def partstat(env) -> tuple[str, datetime | None]:
    with env.sessions() as s:
        (a,) = s.scalar(select(Event)).attendees
        return a.partstat, a.replied_at


def test_read_reply_hit_miss_and_nested():
    raw = gmail_reply("u1@x.pe", "TENTATIVE")
    reply = read_reply(raw)
    assert (reply.uid, reply.attendee, reply.partstat, reply.sequence) == ("u1@x.pe", ROSA, "TENTATIVE", 0)
    assert read_reply(outlook_reply("u2@x.pe", sequence=3)).sequence == 3
    assert read_reply(outlook_reply("u2@x.pe")).name == "Rosa Quispe Huamán"
    assert read_reply(build("Hola", "sin calendario")) is None
    assert read_reply(gmail_reply("u1@x.pe", method="REQUEST")) is None
    # the whole message one text/calendar body, its Content-Type folded (as some clients send it)
    literal = (b"From: Rosa <rosa.quispe.h@gmail.com>\r\nTo: " + SUPPORT.encode() + b"\r\nSubject: Aceptado\r\n"
               b"MIME-Version: 1.0\r\nContent-Type:\r\n text/calendar; method=REPLY; charset=UTF-8\r\n\r\n"
               + reply_ics("u3@x.pe", ROSA, "DECLINED", cn="Rosa Quispe Huamán"))
    reply = read_reply(literal)
    assert (reply.uid, reply.partstat, reply.name) == ("u3@x.pe", "DECLINED", "Rosa Quispe Huamán")
    broken = build("Calendario roto", "x", attachments=[("invite.ics", "text/calendar", b"BEGIN:VCALENDAR\nbasura")])
    assert read_reply(broken) is None


def test_gmail_accept_is_recorded_on_the_event_not_as_a_comment(ticket_env):
    env = ticket_env
    uid = visit_uid(env)
    result = env.ingest_bytes(gmail_reply(uid, "ACCEPTED"))
    assert (result.outcome.value, result.rule, result.reason, result.code) == (
        "ignored", "calendar-reply", "calendar_reply", "AT-000001")
    state, replied_at = partstat(env)
    assert state == "ACCEPTED" and replied_at is not None
    entry = entries(env, "event")[-1]
    assert entry.text == ("Rosa Quispe Huamán aceptó la visita «Revisión de la humedad» del lunes 23 de "
                          "noviembre de 2026, de 10:00 a 11:30.")
    assert entry.inbound_id == result.inbound_id and entry.author_email == ROSA
    assert entries(env, "comment") == []
    assert [c.new for c in entries(env, "change") if c.field == "event_reply"] == [f"{ROSA}: Aceptó"]
    with env.sessions() as s:
        assert s.scalars(select(OutboxMessage)).all() == []  # nobody is mailed
        assert s.get(InboundMessage, result.inbound_id).ticket.code == "AT-000001"


def test_outlook_decline_then_tentative(ticket_env):
    env = ticket_env
    uid = visit_uid(env)
    assert env.ingest_bytes(outlook_reply(uid, "DECLINED")).reason == "calendar_reply"
    assert partstat(env)[0] == "DECLINED"
    assert entries(env, "event")[-1].text.startswith("Rosa Quispe Huamán rechazó la visita «Revisión")
    env.ingest_bytes(gmail_reply(uid, "TENTATIVE"))
    assert partstat(env)[0] == "TENTATIVE"
    assert entries(env, "comment") == []


@pytest.mark.parametrize(("kind", "reason"), [
    ("unknown_uid", "calendar_unknown_event"),
    ("not_invited", "calendar_unknown_attendee"),
    ("forged", "calendar_reply_not_from_attendee"),
])
def test_unknown_or_foreign_replies_are_held(ticket_env, kind, reason):
    env = ticket_env
    uid = visit_uid(env)
    raw = {"unknown_uid": lambda: gmail_reply("no-existe@otro.pe"),
           "not_invited": lambda: gmail_reply(uid, sender="intruso@example.com", attendee="intruso@example.com"),
           "forged": lambda: gmail_reply(uid, sender="intruso@example.com")}[kind]()
    result = env.ingest_bytes(raw)
    assert (result.outcome.value, result.reason) == ("held", reason)
    assert partstat(env) == ("NEEDS-ACTION", None)
    with env.sessions() as s:
        (held,) = s.scalars(select(HeldMessage)).all()
        assert held.reason == reason
    assert entries(env, "comment") == [] and len(entries(env, "event")) == 1


def test_a_calendar_that_is_not_a_reply_falls_through(ticket_env):
    env = ticket_env
    uid = visit_uid(env)
    result = env.ingest_bytes(gmail_reply(uid, method="COUNTER"))
    assert result.rule == "matches-ticket" and result.outcome.value == "comment"
    assert partstat(env)[0] == "NEEDS-ACTION"


def test_a_reply_to_an_older_version_is_noted_not_applied(ticket_env):
    env = ticket_env
    uid = visit_uid(env)
    from tickets import events

    with env.sessions.begin() as s:
        ev = s.scalar(select(Event))
        events.update(s, env.ctx, ev, zone=LIMA, title=ev.title, starts_at=START, ends_at=END,
                      location="Otro lugar", now=NOW)
    env.ingest_bytes(outlook_reply(uid, "ACCEPTED", sequence=0))
    assert partstat(env)[0] == "NEEDS-ACTION"
    assert "una versión anterior" in entries(env, "event")[-1].text
    env.ingest_bytes(outlook_reply(uid, "ACCEPTED", sequence=1))
    assert partstat(env)[0] == "ACCEPTED"
