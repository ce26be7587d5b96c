"""Generar nuevo evento (issue 10, item 2): the services of tickets.events on SQLite and PostgreSQL
— schedule, update, cancel, record_reply, the reminders — each one's effect on the logbook (an
``event`` entry), the history (a ``change`` entry) and the outbox; and the mail the worker would
send (mail.outbound.compose), its .ics parsed back with icalendar: METHOD, UID stable across
updates, DTSTAMP, ORGANIZER, ATTENDEE with RSVP=TRUE, SEQUENCE raised, VTIMEZONE for the
configured zone, METHOD:CANCEL with STATUS:CANCELLED.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from mail.outbound.compose import compose
from tests.support import SUPPORT, build
from tickets import events
from tickets.models import Event, LogbookEntry, OutboxMessage, Ticket, User

LIMA = ZoneInfo("America/Lima")
STAFF = "carla.mendoza@inmobiliaria-andina.pe"
ROSA = "rosa.quispe.h@gmail.com"
#: "now" of these tests (UTC) and a visit three days later, 10:00–11:30 Lima time.
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
START = datetime(2026, 11, 23, 10, 0, tzinfo=LIMA)
END = datetime(2026, 11, 23, 11, 30, tzinfo=LIMA)


@pytest.fixture
def ticket_env(env):
    """``env`` with one ticket from Rosa's mail (AT-000001), its acknowledgement rows dropped."""
    return with_ticket(env)


def with_ticket(env):
    """``env`` after Rosa's mail opened AT-000001, its acknowledgement rows dropped."""
    env.ingest_bytes(build("Humedad en el baño", "La pared del baño tiene humedad."))
    with env.sessions.begin() as s:
        for row in s.scalars(select(OutboxMessage)):
            s.delete(row)
    return env


def staff(s) -> User:
    return s.scalar(select(User).where(User.email == STAFF))


def ticket(s) -> Ticket:
    return s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))


def schedule_visit(env, **kw) -> int:
    with env.sessions.begin() as s:
        args = {"title": "Revisión de la humedad", "starts_at": START, "ends_at": END, "zone": LIMA,
                "location": "Residencial Los Olivos, Torre B, Dpto. 504", "by": staff(s), "now": NOW} | kw
        return events.schedule(s, env.ctx, ticket(s), **args).id


def outbox_rows(env, event: str) -> list[OutboxMessage]:
    with env.sessions() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id)))
        s.expunge_all()
        return rows


def mail_of(env, row_id: int):
    """The mail of outbox row ``row_id`` as a client reads it (composed, serialised, parsed)."""
    with env.sessions() as s:
        msg = compose(s, env.settings, s.get(OutboxMessage, row_id))
    return BytesParser(policy=policy.default).parsebytes(msg.as_bytes())


def calendar_parts(mail) -> tuple[Calendar, Calendar]:
    """(the text/calendar alternative, the invite.ics attachment), each parsed with icalendar."""
    alt = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    att = [p for p in mail.walk() if p.get_content_type() == "application/ics"]
    assert len(alt) == 1 and len(att) == 1
    assert att[0].get_filename() == "invite.ics"
    return Calendar.from_ical(alt[0].get_content()), Calendar.from_ical(att[0].get_content())


def entries(env, kind: str) -> list[LogbookEntry]:
    return env.entries("AT-000001", kind)


# ------------------------------------------------------------------------------------------ schedule


def test_schedule_writes_logbook_history_outbox_and_a_request_ics(ticket_env):
    env = ticket_env
    event_id = schedule_visit(env, attendees=[ROSA, "Luis.Perez@Example.com"])
    with env.sessions() as s:
        ev = s.get(Event, event_id)
        assert ev.uid.endswith("@inmobiliaria-andina.pe") and ev.sequence == 0 and ev.status == "confirmed"
        assert ev.starts_at == START.astimezone(UTC) and ev.starts_at.tzinfo is not None
        assert [(a.email, a.name, a.partstat) for a in ev.attendees] == [
            (ROSA, "Rosa Quispe Huamán", "NEEDS-ACTION"), ("luis.perez@example.com", "", "NEEDS-ACTION")]
        uid = ev.uid
    (entry,) = entries(env, "event")
    assert entry.text == ("Visita programada: «Revisión de la humedad», lunes 23 de noviembre de 2026, de 10:00 "
                          "a 11:30, en Residencial Los Olivos, Torre B, Dpto. 504. Invitados: "
                          f"{ROSA}, luis.perez@example.com.")
    assert entry.author_email == STAFF
    (change,) = [c for c in entries(env, "change") if c.field == "event"]
    assert change.old is None and change.new.startswith("Visita «Revisión de la humedad» · 23/11/2026 10:00–11:30")
    rows = outbox_rows(env, "event_invitation")
    assert [r.recipient for r in rows] == [ROSA, "luis.perez@example.com"]
    assert len({r.message_id for r in rows}) == 1 and rows[0].context["method"] == "REQUEST"

    mail = mail_of(env, rows[0].id)
    assert mail["Subject"].startswith("[AT-000001] Invitación: Revisión de la humedad (lunes 23 de noviembre")
    assert mail["From"].addresses[0].addr_spec == SUPPORT
    assert mail.get_content_type() == "multipart/mixed"
    (alternative,) = [p for p in mail.walk() if p.get_content_type() == "multipart/alternative"]
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    cal_part = [p for p in mail.walk() if p.get_content_type() == "text/calendar"][0]
    assert cal_part.get_param("method") == "REQUEST" and cal_part.get_content_charset() == "utf-8"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Fecha y hora: lunes 23 de noviembre de 2026, de 10:00 a 11:30" in text
    assert "Lugar: Residencial Los Olivos, Torre B, Dpto. 504" in text

    cal, attached = calendar_parts(mail)
    assert cal.to_ical() == attached.to_ical()
    assert cal["METHOD"] == "REQUEST" and cal["VERSION"] == "2.0" and cal["PRODID"]
    (vtz,) = cal.walk("VTIMEZONE")
    assert str(vtz["TZID"]) == "America/Lima"
    (vev,) = cal.walk("VEVENT")
    assert str(vev["UID"]) == uid and vev["SEQUENCE"] == 0 and vev["STATUS"] == "CONFIRMED"
    assert vev.decoded("DTSTART") == START and vev.decoded("DTEND") == END
    assert vev["DTSTART"].params["TZID"] == "America/Lima"
    assert vev.decoded("DTSTAMP") == rows[0].created_at.replace(microsecond=0)
    assert str(vev["SUMMARY"]) == "Revisión de la humedad"
    assert str(vev["LOCATION"]) == "Residencial Los Olivos, Torre B, Dpto. 504"
    assert str(vev["ORGANIZER"]) == f"mailto:{SUPPORT}"
    attendees = vev["ATTENDEE"]
    assert [str(a) for a in attendees] == [f"mailto:{ROSA}", "mailto:luis.perez@example.com"]
    for a in attendees:
        assert a.params["RSVP"] == "TRUE" and a.params["PARTSTAT"] == "NEEDS-ACTION"
        assert a.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendees[0].params["CN"] == "Rosa Quispe Huamán"


def test_visit_invites_the_requester_by_default_and_a_reminder_the_organizer(ticket_env):
    env = ticket_env
    visit = schedule_visit(env)
    reminder = schedule_visit(env, title="Llamar al contratista", kind="reminder", location="")
    with env.sessions() as s:
        assert [a.email for a in s.get(Event, visit).attendees] == [ROSA]
        assert [a.email for a in s.get(Event, reminder).attendees] == [STAFF]
    assert "Recordatorio programado: «Llamar al contratista»" in entries(env, "event")[1].text


@pytest.mark.parametrize(("kw", "errors"), [
    ({"title": "  "}, {"title": "Complete «Título»."}),
    ({"ends_at": START}, {"end": "La hora de término debe ser posterior a la de inicio."}),
    ({"starts_at": datetime(2026, 11, 20, 9, 59, tzinfo=LIMA), "ends_at": END},
     {"start": "El evento no puede empezar en el pasado."}),
    ({"attendees": ["rosa@", "bien@example.com", "sin"]},
     {"attendees": "Correo no válido: rosa@, sin."}),
])
def test_schedule_refuses_bad_values_in_spanish_and_writes_nothing(ticket_env, kw, errors):
    env = ticket_env
    with pytest.raises(events.EventInvalid) as info:
        schedule_visit(env, **kw)
    assert info.value.errors == errors
    assert entries(env, "event") == [] and outbox_rows(env, "event_invitation") == []


def test_read_form_reports_every_field():
    with pytest.raises(events.EventInvalid) as info:
        events.read_form({"title": "x", "date": "31/02/2026", "start": "25:00", "end": "", "kind": "fiesta"}, LIMA)
    assert info.value.errors == {"date": "Fecha no válida: use dd/mm/aaaa.",
                                 "start": "Hora no válida: use HH:MM (24 horas).", "end": "Complete «Hora de término».",
                                 "kind": "Elija «Visita» o «Recordatorio»."}
    values = events.read_form({"title": "Visita", "date": "23/11/2026", "start": "10:00", "end": "11:30",
                               "attendees": "A@x.pe, b@y.pe\nA@x.pe", "kind": "visit"}, LIMA)
    assert values["starts_at"] == START and values["ends_at"] == END
    assert values["attendees"] == ["a@x.pe", "b@y.pe"]


# ------------------------------------------------------------------------------------------ update


def test_update_raises_sequence_keeps_uid_resends_request_and_cancels_a_removed_attendee(ticket_env):
    env = ticket_env
    event_id = schedule_visit(env, attendees=[ROSA, "luis@example.com"])
    with env.sessions.begin() as s:
        ev = s.get(Event, event_id)
        uid = ev.uid
        ev.attendees[0].partstat = "ACCEPTED"
        events.update(s, env.ctx, ev, zone=LIMA, title="Revisión de la humedad (2.ª)",
                      starts_at=START + timedelta(days=1), ends_at=END + timedelta(days=1),
                      location="Torre B, Dpto. 504", attendees=[ROSA, "nuevo@example.com"], by=staff(s), now=NOW)
    with env.sessions() as s:
        ev = s.get(Event, event_id)
        assert ev.uid == uid and ev.sequence == 1
        assert [(a.email, a.partstat) for a in ev.attendees] == [(ROSA, "NEEDS-ACTION"),
                                                                 ("nuevo@example.com", "NEEDS-ACTION")]
    logbook = entries(env, "event")
    assert logbook[-1].text.startswith("Visita modificada: «Revisión de la humedad (2.ª)», martes 24 de noviembre")
    assert "versión 1" in logbook[-1].text and "Sin invitación ya: luis@example.com." in logbook[-1].text
    changes = [c for c in entries(env, "change") if c.field == "event"]
    assert changes[-1].old.startswith("Visita «Revisión de la humedad» · 23/11/2026")
    assert changes[-1].new.startswith("Visita «Revisión de la humedad (2.ª)» · 24/11/2026")

    invitations = outbox_rows(env, "event_invitation")
    assert [r.recipient for r in invitations] == [ROSA, "luis@example.com", ROSA, "nuevo@example.com"]
    mail = mail_of(env, invitations[-1].id)
    assert mail["Subject"].startswith("[AT-000001] Invitación actualizada:")
    cal, _ = calendar_parts(mail)
    (vev,) = cal.walk("VEVENT")
    assert str(vev["UID"]) == uid and vev["SEQUENCE"] == 1 and cal["METHOD"] == "REQUEST"
    assert vev.decoded("DTSTART") == START + timedelta(days=1)
    (cancel_row,) = outbox_rows(env, "event_cancel")
    assert cancel_row.recipient == "luis@example.com"
    cal, _ = calendar_parts(mail_of(env, cancel_row.id))
    (vev,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "CANCEL" and str(vev["UID"]) == uid and vev["SEQUENCE"] == 1
    assert [str(a) for a in vev["ATTENDEE"]] == ["mailto:luis@example.com"] or \
        str(vev["ATTENDEE"]) == "mailto:luis@example.com"


# ------------------------------------------------------------------------------------------ cancel


def test_cancel_sends_method_cancel_with_a_higher_sequence(ticket_env):
    env = ticket_env
    event_id = schedule_visit(env)
    with env.sessions.begin() as s:
        events.cancel(s, env.ctx, s.get(Event, event_id), zone=LIMA, by=staff(s))
    with env.sessions() as s:
        ev = s.get(Event, event_id)
        assert ev.status == "cancelled" and ev.sequence == 1
        uid = ev.uid
    assert entries(env, "event")[-1].text.startswith("Visita cancelada: «Revisión de la humedad», lunes 23")
    change = [c for c in entries(env, "change") if c.field == "event"][-1]
    assert change.new.startswith("Cancelado: Visita «Revisión de la humedad»")
    (row,) = outbox_rows(env, "event_cancel")
    assert row.recipient == ROSA
    mail = mail_of(env, row.id)
    assert mail["Subject"].startswith("[AT-000001] Cancelado: Revisión de la humedad")
    cal_part = [p for p in mail.walk() if p.get_content_type() == "text/calendar"][0]
    assert cal_part.get_param("method") == "CANCEL"
    cal, _ = calendar_parts(mail)
    (vev,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "CANCEL" and vev["STATUS"] == "CANCELLED"
    assert str(vev["UID"]) == uid and vev["SEQUENCE"] == 1
    assert str(cal.walk("VTIMEZONE")[0]["TZID"]) == "America/Lima"
    with env.sessions.begin() as s, pytest.raises(events.EventInvalid):
        events.cancel(s, env.ctx, s.get(Event, event_id), zone=LIMA)
    with env.sessions.begin() as s, pytest.raises(events.EventInvalid):
        events.update(s, env.ctx, s.get(Event, event_id), zone=LIMA, title="x", starts_at=START, ends_at=END)


# ------------------------------------------------------------------------------------------ replies


def test_record_reply_sets_partstat_and_writes_an_event_entry_not_a_comment(ticket_env):
    env = ticket_env
    event_id = schedule_visit(env)
    with env.sessions() as s:
        uid = s.get(Event, event_id).uid
    at = NOW + timedelta(hours=1)
    with env.sessions.begin() as s:
        assert events.record_reply(s, uid, ROSA.upper(), "ACCEPTED", 0, zone=LIMA, at=at) is not None
        assert events.record_reply(s, "otro@example.com", ROSA, "ACCEPTED", 0, zone=LIMA) is None
        assert events.record_reply(s, uid, "intruso@example.com", "ACCEPTED", 0, zone=LIMA) is None
    with env.sessions() as s:
        (a,) = s.get(Event, event_id).attendees
        assert a.partstat == "ACCEPTED" and a.replied_at == at
    assert entries(env, "event")[-1].text == ("Rosa Quispe Huamán aceptó la visita «Revisión de la humedad» del "
                                              "lunes 23 de noviembre de 2026, de 10:00 a 11:30.")
    assert entries(env, "comment") == []
    change = [c for c in entries(env, "change") if c.field == "event_reply"][-1]
    assert (change.old, change.new) == (f"{ROSA}: Sin respuesta", f"{ROSA}: Aceptó")
    # an answer to an older version is noted, not applied
    with env.sessions.begin() as s:
        ev = s.get(Event, event_id)
        events.update(s, env.ctx, ev, zone=LIMA, title=ev.title, starts_at=START, ends_at=END + timedelta(hours=1),
                      location=ev.location, now=NOW)
        events.record_reply(s, uid, ROSA, "DECLINED", 0, zone=LIMA)
    with env.sessions() as s:
        assert s.get(Event, event_id).attendees[0].partstat == "NEEDS-ACTION"
    assert "una versión anterior" in entries(env, "event")[-1].text


# ------------------------------------------------------------------------------------------ reminders


def test_reminders_are_queued_once_within_the_window(ticket_env):
    env = ticket_env
    event_id = schedule_visit(env)
    with env.sessions.begin() as s:  # 25 h before: not yet
        assert events.queue_due_reminders(s, env.ctx, hours=24, zone=LIMA,
                                          now=START.astimezone(UTC) - timedelta(hours=25)) == 0
    at = START.astimezone(UTC) - timedelta(hours=23)
    for _ in range(2):  # a second run (another scheduler) queues nothing more
        with env.sessions.begin() as s:
            events.queue_due_reminders(s, env.ctx, hours=24, zone=LIMA, now=at)
    rows = outbox_rows(env, "event_reminder")
    assert [r.recipient for r in rows] == [STAFF, ROSA]
    assert len({r.message_id for r in rows}) == 1
    with env.sessions() as s:
        assert s.get(Event, event_id).reminded_at == at
    assert entries(env, "event")[-1].text == (f"Recordatorio de la visita «Revisión de la humedad» enviado a "
                                              f"{STAFF}, {ROSA}.")
    mail = mail_of(env, rows[0].id)
    assert mail["Subject"].startswith("[AT-000001] Recordatorio: Revisión de la humedad")
    assert "Fecha y hora: lunes 23 de noviembre de 2026, de 10:00 a 11:30" in \
        mail.get_body(preferencelist=("plain",)).get_content()
    assert not [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    # moved: reminded again; cancelled: never
    with env.sessions.begin() as s:
        ev = s.get(Event, event_id)
        events.update(s, env.ctx, ev, zone=LIMA, title=ev.title, starts_at=START + timedelta(hours=2),
                      ends_at=END + timedelta(hours=2), location=ev.location, now=NOW)
        later = at + timedelta(hours=2)
        assert events.queue_due_reminders(s, env.ctx, hours=24, zone=LIMA, now=later) == 1
        events.cancel(s, env.ctx, ev, zone=LIMA)
        ev.reminded_at = None
        s.flush()
        assert events.queue_due_reminders(s, env.ctx, hours=24, zone=LIMA, now=later) == 0


def test_the_scheduler_job_mails_each_reminder_once_through_smtp(database_url, tmp_path, smtp):
    """worker.scheduler.reminder_job with the in-process outbound (no broker) and a real aiosmtpd:
    a visit starting in 5 hours (real clock) is reminded once to its organizer and requester."""
    from tests.support import make_env
    from worker.outbound import Outbound
    from worker.scheduler import reminder_job

    env = with_ticket(make_env(database_url, tmp_path, smtp_url=smtp.url))
    outbound = Outbound(env.settings, env.sessions)
    try:
        starts = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=5)
        schedule_visit(env, starts_at=starts, ends_at=starts + timedelta(hours=1), now=None)
        outbound.send_pending()
        smtp.clear()
        assert reminder_job(outbound) == 1
        assert reminder_job(outbound) == 0
        for rcpt in (STAFF, ROSA):
            (delivery,) = smtp.deliveries_to(rcpt)
            assert delivery.message["Subject"].startswith("[AT-000001] Recordatorio: Revisión de la humedad")
        assert {r.state for r in outbox_rows(env, "event_reminder")} == {"sent"}
    finally:
        outbound.close()
        env.engine.dispose()
