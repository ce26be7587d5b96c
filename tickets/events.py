"""Generar nuevo evento (issue 10, item 2): a visit to the unit with the requester, or staff's own
reminder, on a ticket — its invitation is an iCalendar mail (RFC 5545/5546, iMIP RFC 6047).

Services, each in the caller's transaction (flush, never commit), each writing one logbook
``event`` entry and one history (``change``) entry, and queuing its mail:

* `schedule` — a new event (SEQUENCE 0) and an ``event_invitation`` (METHOD:REQUEST) to its attendees;
* `update` — new values, SEQUENCE + 1, the REQUEST sent again (an attendee taken off gets a CANCEL);
* `cancel` — STATUS:CANCELLED, SEQUENCE + 1, an ``event_cancel`` (METHOD:CANCEL) to the attendees;
* `record_reply` — an attendee's Accept/Decline (METHOD:REPLY, read by the inbound rule
  `mail.inbound.rules.calendar_reply`) on the event: never a comment;
* `queue_due_reminders` — the scheduler's job: an ``event_reminder`` ``event_reminder_hours`` before.

The outbox row's ``context`` is a snapshot of the event (`snapshot`): the mail and its .ics
(`mail.outbound.calendar`) are built from it, so a retried copy says what was sent the first time.
Validation messages are Spanish (`EventInvalid.errors`, one per form field).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from tickets.documents import MONTHS
from tickets.models import EntryKind, Event, EventAttendee, EventKind, PartStat, Ticket, User, utcnow
from tickets.services import Context, ServiceError, add_entry, queue_mail, record_change, touch
from tickets.text import typed_clock, typed_day

#: What the logbook and the panel call the kinds and the answers.
KIND_LABELS = {EventKind.VISIT.value: "Visita", EventKind.REMINDER.value: "Recordatorio"}
PARTSTAT_LABELS = {"NEEDS-ACTION": "Sin respuesta", "ACCEPTED": "Aceptó", "DECLINED": "Rechazó",
                   "TENTATIVE": "Tal vez"}
#: An answer as the logbook says it ("Juan Pérez aceptó la visita").
PARTSTAT_VERBS = {"ACCEPTED": "aceptó", "DECLINED": "rechazó", "TENTATIVE": "respondió «tal vez» a",
                  "NEEDS-ACTION": "dejó sin respuesta"}
STATUS_LABELS = {"confirmed": "Confirmado", "cancelled": "Cancelado"}
WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
#: Mail events of this module (`tickets.outbox.EVENT_LABELS` names them in the logbook).
INVITATION, CANCELLATION, REMINDER = "event_invitation", "event_cancel", "event_reminder"
MAX_ATTENDEES = 20
#: How far ahead an event may be (years): a visit or reminder, not a date typed wrong (9999).
MAX_YEARS_AHEAD = 5
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_SPLIT = re.compile(r"[\s,;]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class EventInvalid(ServiceError):
    """The values of an event were refused: ``errors`` maps each form field (``title``, ``date``,
    ``start``, ``end``, ``location``, ``attendees``, ``kind``) to its Spanish message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


# --- reading the form -------------------------------------------------------------------------------


def one_line(text: str | None) -> str:
    """``text`` as one line: control characters (CR, LF, tab, NUL…) and runs of spaces become one
    space, trimmed. A title or place is one line in the form, the .ics (SUMMARY, LOCATION), the
    subject and the logbook; a line break could only come from a tampered form or a script."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


def _unique(addresses: Iterable[str]) -> list[str]:
    """The addresses lower-case and trimmed, in order, once (``Rosa@X.pe`` and ``rosa@x.pe`` are
    one attendee: the table is unique on the lower-case address)."""
    return list(dict.fromkeys(a.strip().lower() for a in addresses if a and a.strip()))


def split_addresses(text: str) -> list[str]:
    """The addresses written in ``text`` (commas, semicolons, spaces or lines), lower-case, in order, once."""
    return list(dict.fromkeys(a.lower() for a in _SPLIT.split(text or "") if a))


def read_form(raw: Mapping[str, str], zone: ZoneInfo) -> dict:
    """The panel's form values (``title``, ``date`` dd/mm/aaaa or ISO, ``start``/``end`` HH:MM in
    ``zone``, ``location``, ``attendees`` text, ``kind``) as `schedule`/`update` arguments:
    ``title``, ``kind``, ``starts_at``/``ends_at`` (aware, UTC), ``location``, ``attendees`` (list).
    Raises EventInvalid with every field's problem at once."""
    errors: dict[str, str] = {}
    day = typed_day(raw.get("date", ""))
    start, end = typed_clock(raw.get("start", "")), typed_clock(raw.get("end", ""))
    if not raw.get("date", "").strip():
        errors["date"] = "Complete «Fecha»."
    elif day is None:
        errors["date"] = "Fecha no válida: use dd/mm/aaaa."
    for name, value, label in (("start", start, "Hora de inicio"), ("end", end, "Hora de término")):
        if not raw.get(name, "").strip():
            errors[name] = f"Complete «{label}»."
        elif value is None:
            errors[name] = "Hora no válida: use HH:MM (24 horas)."
    kind = raw.get("kind", EventKind.VISIT.value) or EventKind.VISIT.value
    if kind not in KIND_LABELS:
        errors["kind"] = "Elija «Visita» o «Recordatorio»."
    if errors:
        raise EventInvalid(errors)
    starts = datetime.combine(day, start, zone)
    ends = datetime.combine(day, end, zone)
    return {"title": raw.get("title", ""), "kind": kind, "starts_at": starts, "ends_at": ends,
            "location": raw.get("location", ""), "attendees": split_addresses(raw.get("attendees", ""))}


def _check(title: str, starts_at: datetime, ends_at: datetime, attendees: list[str], *,
           now: datetime, new: bool, own: Iterable[str] = ()) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not (title or "").strip():
        errors["title"] = "Complete «Título»."
    elif len(title.strip()) > 200:
        errors["title"] = "El título admite hasta 200 caracteres."
    if max(starts_at.date(), ends_at.date()) > now.date() + timedelta(days=366 * MAX_YEARS_AHEAD):
        # checked on the dates alone: comparing an aware 31/12/9999 23:00 overflows (a 500)
        errors["date"] = f"El evento debe ser dentro de los próximos {MAX_YEARS_AHEAD} años."
    elif ends_at <= starts_at:
        errors["end"] = "La hora de término debe ser posterior a la de inicio."
    if new and "date" not in errors and starts_at < now:
        errors["start"] = "El evento no puede empezar en el pasado."
    bad = [a for a in attendees if not _EMAIL.match(a)]
    ours = [a for a in attendees if a in {o.lower() for o in own}]
    if bad:
        errors["attendees"] = f"Correo no válido: {', '.join(bad)}."
    elif ours:  # never mailed (`queue_mail` leaves our own out): it would wait for an answer forever
        errors["attendees"] = f"No invite a nuestro propio buzón: {', '.join(ours)}."
    elif not attendees:
        errors["attendees"] = "Indique al menos un invitado (correo)."
    elif len(attendees) > MAX_ATTENDEES:
        errors["attendees"] = f"Como máximo {MAX_ATTENDEES} invitados."
    return errors


# --- words -------------------------------------------------------------------------------------------


def when_text(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> str:
    """``jueves 10 de diciembre de 2026, de 10:00 a 11:30`` in ``zone`` (the end's date when it
    is another day)."""
    s, e = starts_at.astimezone(zone), ends_at.astimezone(zone)
    day = f"{WEEKDAYS[s.weekday()]} {s.day} de {MONTHS[s.month - 1]} de {s.year}"
    if e.date() != s.date():
        return f"{day}, {s:%H:%M}, al {e.day} de {MONTHS[e.month - 1]} de {e.year}, {e:%H:%M}"
    return f"{day}, de {s:%H:%M} a {e:%H:%M}"


def summary(event: Event, zone: ZoneInfo) -> str:
    """One line for the history: ``Visita «Revisión» · 10/12/2026 10:00–11:00 · Torre B 504``."""
    s, e = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    text = f"{KIND_LABELS.get(event.kind, event.kind)} «{event.title}» · {s:%d/%m/%Y %H:%M}–{e:%H:%M}"
    return text + (f" · {event.location}" if event.location else "")


def kind_participle(kind: str, participle: str) -> str:
    """``Visita programada`` / ``Recordatorio programado``: the kind with its participle agreeing."""
    return f"{KIND_LABELS.get(kind, kind)} {participle}{'a' if kind == EventKind.VISIT.value else 'o'}"


def _noun(event: Event) -> str:
    return "la visita" if event.kind == EventKind.VISIT.value else "el recordatorio"


def snapshot(event: Event, zone: ZoneInfo, method: str) -> dict:
    """The outbox context of an invitation or cancellation: everything its mail and .ics need
    (times ISO 8601 UTC, ``tzid`` the configured zone's name, ``when`` in words)."""
    return {
        "code": event.ticket.code, "event_id": event.id, "uid": event.uid, "sequence": event.sequence,
        "method": method, "status": event.status, "title": event.title, "kind": event.kind,
        "kind_label": KIND_LABELS.get(event.kind, event.kind), "location": event.location,
        "starts_at": event.starts_at.isoformat(), "ends_at": event.ends_at.isoformat(), "tzid": zone.key,
        "when": when_text(event.starts_at, event.ends_at, zone),
        "organizer_name": event.organizer.name if event.organizer else None,
        "attendees": [{"email": a.email, "name": a.name, "partstat": a.partstat} for a in event.attendees],
    }


# --- the services -----------------------------------------------------------------------------------


def _who(by: User | None) -> dict:
    return {"author_user_id": by.id if by else None, "author_email": by.email if by else None,
            "author_name": by.name if by else None}


def _name_for(session: Session, ticket: Ticket, email: str) -> str:
    if ticket.requester_email and email == ticket.requester_email.lower():
        return one_line(ticket.requester_name)
    user = session.scalar(select(User).where(User.email == email))
    return one_line(user.name) if user else ""


def default_attendees(ticket: Ticket, kind: str, by: User | None) -> list[str]:
    """Who is invited when nobody is named: the requester to a visit, the organizer to a reminder."""
    if kind == EventKind.VISIT.value and ticket.requester_email:
        return [ticket.requester_email.lower()]
    return [by.email] if by else []


def _mail(session: Session, ctx: Context, event: Event, zone: ZoneInfo, mail_event: str, method: str,
          to: Iterable[str]) -> str | None:
    return queue_mail(session, ctx, event.ticket, mail_event, list(to), snapshot(event, zone, method),
                      automatic=False)


def schedule(session: Session, ctx: Context, ticket: Ticket, *, title: str, starts_at: datetime,
             ends_at: datetime, zone: ZoneInfo, location: str = "", kind: str = EventKind.VISIT.value,
             attendees: list[str] | None = None, by: User | None = None, now: datetime | None = None) -> Event:
    """Schedule an event on ``ticket`` and invite its attendees.

    Parameters: starts_at/ends_at(datetime): aware; stored UTC. attendees(list[str]|None): e-mail
    addresses (None: `default_attendees`; empty: refused). zone(ZoneInfo): the configured zone (words,
    VTIMEZONE). by(User): the organizer. now(datetime): UTC, for "not in the past".
    Returns: the Event, flushed. Raises: EventInvalid (Spanish, per field).
    """
    now = now or utcnow()
    if attendees is None:
        attendees = default_attendees(ticket, kind, by)
    attendees = _unique(attendees)
    title, location = one_line(title), one_line(location)
    errors = _check(title, starts_at, ends_at, attendees, now=now, new=True, own=ctx.own_addresses)
    if kind not in KIND_LABELS:
        errors["kind"] = "Elija «Visita» o «Recordatorio»."
    if errors:
        raise EventInvalid(errors)
    event = Event(ticket=ticket, kind=kind, title=title.strip(), starts_at=starts_at, ends_at=ends_at,
                  location=(location or "").strip()[:300], uid=f"{uuid.uuid4()}@{ctx.mail_domain}", sequence=0,
                  status="confirmed", organizer=by,
                  attendees=[EventAttendee(email=a, name=_name_for(session, ticket, a)) for a in attendees])
    session.add(event)
    session.flush()
    add_entry(session, ticket, EntryKind.EVENT,
              f"{kind_participle(kind, 'programad')}: «{event.title}», {when_text(starts_at, ends_at, zone)}"
              + (f", en {event.location}" if event.location else "") + f". Invitados: {', '.join(attendees)}.",
              **_who(by))
    record_change(session, ticket, "event", None, summary(event, zone), by=by)
    touch(session, ticket)
    _mail(session, ctx, event, zone, INVITATION, "REQUEST", attendees)
    return event


def update(session: Session, ctx: Context, event: Event, *, zone: ZoneInfo, title: str, starts_at: datetime,
           ends_at: datetime, location: str = "", attendees: list[str] | None = None, by: User | None = None,
           now: datetime | None = None) -> Event:
    """Change an event: SEQUENCE + 1 and the REQUEST again to every attendee (RFC 5546 §2.1.4).

    A new time asks everyone again (their answers go back to NEEDS-ACTION) and re-arms the
    reminder; an attendee taken off the list gets the CANCEL. Raises EventInvalid (also for a
    cancelled event: it cannot be changed).
    """
    if event.status == "cancelled":
        raise EventInvalid({"title": "El evento está cancelado; programe uno nuevo."})
    attendees = _unique(attendees if attendees is not None else [a.email for a in event.attendees])
    title, location = one_line(title), one_line(location)
    errors = _check(title, starts_at, ends_at, attendees, now=now or utcnow(), new=False, own=ctx.own_addresses)
    if errors:
        raise EventInvalid(errors)
    before = summary(event, zone)
    moved = (starts_at != event.starts_at or ends_at != event.ends_at)
    event.title, event.starts_at, event.ends_at = title.strip(), starts_at, ends_at
    event.location = (location or "").strip()[:300]
    removed = [a for a in event.attendees if a.email not in attendees]
    kept = {a.email for a in event.attendees}
    for a in removed:
        event.attendees.remove(a)
    for email in attendees:
        if email not in kept:
            event.attendees.append(EventAttendee(email=email, name=_name_for(session, event.ticket, email)))
    if moved:
        event.reminded_at = None
        for a in event.attendees:
            a.partstat, a.replied_at = PartStat.NEEDS_ACTION.value, None
    event.sequence += 1
    session.flush()
    after = summary(event, zone)
    add_entry(session, event.ticket, EntryKind.EVENT,
              f"{kind_participle(event.kind, 'modificad')}: «{event.title}», "
              f"{when_text(starts_at, ends_at, zone)}" + (f", en {event.location}" if event.location else "")
              + f". Invitación actualizada (versión {event.sequence}) a {', '.join(attendees)}."
              + (f" Sin invitación ya: {', '.join(a.email for a in removed)}." if removed else ""), **_who(by))
    record_change(session, event.ticket, "event", before, after, by=by)
    touch(session, event.ticket)
    _mail(session, ctx, event, zone, INVITATION, "REQUEST", attendees)
    if removed:
        snap = snapshot(event, zone, "CANCEL")
        snap["attendees"] = [{"email": a.email, "name": a.name, "partstat": a.partstat} for a in removed]
        queue_mail(session, ctx, event.ticket, CANCELLATION, [a.email for a in removed], snap, automatic=False)
    return event


def cancel(session: Session, ctx: Context, event: Event, *, zone: ZoneInfo, by: User | None = None) -> Event:
    """Cancel an event: STATUS:CANCELLED, SEQUENCE + 1, METHOD:CANCEL to every attendee
    (RFC 5546 §3.2.5). Raises EventInvalid when it was already cancelled."""
    if event.status == "cancelled":
        raise EventInvalid({"title": "El evento ya estaba cancelado."})
    before = summary(event, zone)
    event.status = "cancelled"
    event.sequence += 1
    session.flush()
    to = [a.email for a in event.attendees]
    add_entry(session, event.ticket, EntryKind.EVENT,
              f"{kind_participle(event.kind, 'cancelad')}: «{event.title}», "
              f"{when_text(event.starts_at, event.ends_at, zone)}. Aviso de cancelación a {', '.join(to)}.",
              **_who(by))
    record_change(session, event.ticket, "event", before, f"Cancelado: {before}", by=by)
    touch(session, event.ticket)
    _mail(session, ctx, event, zone, CANCELLATION, "CANCEL", to)
    return event


def find_by_uid(session: Session, uid: str) -> Event | None:
    """The event with this iCalendar UID, or None."""
    return session.scalar(select(Event).where(Event.uid == uid))


def record_reply(session: Session, uid: str, attendee: str, partstat: str, sequence: int = 0, *,
                 zone: ZoneInfo, name: str | None = None, at: datetime | None = None,
                 inbound_id: int | None = None) -> Event | None:
    """An attendee's answer (METHOD:REPLY) on the event ``uid``.

    Parameters: attendee(str): their address (any case). partstat(str): ACCEPTED, DECLINED,
    TENTATIVE (anything else is ignored). sequence(int): the SEQUENCE they answered.
    Returns: the event, or None when no event has this UID or the attendee is not on it. An answer
    to an older version (its SEQUENCE below the event's) is noted in the logbook, not applied
    (RFC 5546 §2.1.5): they answered a time that changed since. So is an answer to a cancelled
    event (it crossed our CANCEL): the answers stay as they were when it was cancelled.
    """
    event = find_by_uid(session, uid)
    attendee = (attendee or "").lower()
    if event is None:
        return None
    row = next((a for a in event.attendees if a.email == attendee), None)
    if row is None or partstat not in PARTSTAT_VERBS or partstat == PartStat.NEEDS_ACTION.value:
        return None
    at = at or utcnow()
    who = row.name or name or attendee
    link = {"author_email": attendee, "author_name": who, "inbound_id": inbound_id, "at": at}
    if event.status == "cancelled":
        add_entry(session, event.ticket, EntryKind.EVENT,
                  f"{who} {PARTSTAT_VERBS[partstat]} {_noun(event)} «{event.title}», que está cancelad"
                  f"{'a' if event.kind == EventKind.VISIT.value else 'o'}: su respuesta no se aplica.", **link)
        return event
    if sequence < event.sequence:
        add_entry(session, event.ticket, EntryKind.EVENT,
                  f"{who} {PARTSTAT_VERBS[partstat]} una versión anterior de {_noun(event)} «{event.title}» "
                  f"(versión {sequence}; la vigente es la {event.sequence}): su respuesta no se aplica.", **link)
        return event
    old = row.partstat
    row.partstat, row.replied_at = partstat, at
    session.flush()
    add_entry(session, event.ticket, EntryKind.EVENT,
              f"{who} {PARTSTAT_VERBS[partstat]} {_noun(event)} «{event.title}» del "
              f"{when_text(event.starts_at, event.ends_at, zone)}.", **link)
    record_change(session, event.ticket, "event_reply", f"{attendee}: {PARTSTAT_LABELS.get(old, old)}",
                  f"{attendee}: {PARTSTAT_LABELS[partstat]}", by_email=attendee)
    touch(session, event.ticket)
    return event


def events_of(session: Session, ticket_id: int) -> list[Event]:
    """The ticket's events, soonest first (cancelled ones included)."""
    return list(session.scalars(select(Event).where(Event.ticket_id == ticket_id)
                                .order_by(Event.starts_at, Event.id)))


def reminder_recipients(event: Event) -> list[str]:
    """Who the reminder goes to: the organizer, and the requester of a visit (when invited)."""
    to = [event.organizer.email] if event.organizer else []
    requester = (event.ticket.requester_email or "").lower()
    if event.kind == EventKind.VISIT.value and requester and requester in {a.email for a in event.attendees}:
        to.append(requester)
    return list(dict.fromkeys(to))


def queue_due_reminders(session: Session, ctx: Context, *, hours: float, zone: ZoneInfo,
                        now: datetime | None = None) -> int:
    """Queue the reminder of every confirmed event starting within ``hours`` hours (and not yet
    started) that has none yet; returns how many events were reminded.

    Idempotent, also with several schedulers: each event is taken with one conditional UPDATE
    (``reminded_at`` still NULL), so only one run queues its mail.
    """
    now = now or utcnow()
    due = session.scalars(select(Event).where(Event.status == "confirmed", Event.reminded_at.is_(None),
                                              Event.starts_at > now,
                                              Event.starts_at <= now + timedelta(hours=hours))
                          .order_by(Event.starts_at))
    n = 0
    for event in list(due):
        taken = session.execute(sql_update(Event).where(Event.id == event.id, Event.reminded_at.is_(None))
                                .values(reminded_at=now).execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            continue
        session.refresh(event, ["reminded_at"])
        to = reminder_recipients(event)
        context = {"code": event.ticket.code, "event_id": event.id, "title": event.title, "kind": event.kind,
                   "kind_label": KIND_LABELS.get(event.kind, event.kind), "location": event.location,
                   "when": when_text(event.starts_at, event.ends_at, zone)}
        queue_mail(session, ctx, event.ticket, REMINDER, to, context)
        add_entry(session, event.ticket, EntryKind.EVENT,
                  f"Recordatorio de {_noun(event)} «{event.title}» enviado a {', '.join(to) or 'nadie'}.", at=now)
        n += 1
    return n


__all__ = ["CANCELLATION", "INVITATION", "KIND_LABELS", "PARTSTAT_LABELS", "REMINDER", "STATUS_LABELS",
           "EventInvalid", "cancel", "default_attendees", "events_of", "find_by_uid", "kind_participle",
           "queue_due_reminders", "read_form", "record_reply", "reminder_recipients", "schedule", "snapshot",
           "split_addresses", "summary", "update", "when_text"]
