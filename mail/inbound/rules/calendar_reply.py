"""An attendee's answer to one of our invitations (iTIP METHOD:REPLY, RFC 5546 §3.2.3; carried by
mail as iMIP, RFC 6047): Gmail, Outlook and Apple Mail send it when the invitee clicks "Aceptar",
"Rechazar" or "Tal vez" — a ``text/calendar; method=REPLY`` part (Outlook often base64, Gmail
also as an ``invite.ics``/``application/ics`` attachment) whose VEVENT has our UID, the SEQUENCE
answered and one ATTENDEE with its PARTSTAT.

A REPLY for an event of ours, from the attendee it names, is recorded on the event
(`tickets.events.record_reply`: the attendee's answer and a logbook ``event`` entry), never as a
comment: outcome ``ignored`` with reason ``calendar_reply`` and a `CalendarReplyPayload`. A REPLY
with a UID we do not know, or for someone not invited, or sent by somebody else than the
attendee, or whose answer is none we record (PARTSTAT missing, DELEGATED, NEEDS-ACTION, an
X- value: we cannot say what they answered), is held for review. Any other message (no calendar
part, another METHOD) is not this rule's: it falls through to the next rules.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email import message_from_bytes, policy

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from mail.inbound.parse import ParsedMessage
from mail.inbound.rules.base import Decision, HeldPayload, RuleSettings
from tickets.models import Event, Outcome

log = logging.getLogger(__name__)

name = "calendar-reply"
description = "A calendar answer (METHOD:REPLY) to one of our invitations: recorded on its event."

_CALENDAR_TYPES = ("text/calendar", "application/ics")
#: The answers recorded on an event (RFC 5545 §3.2.12, the ones Accept/Decline/Maybe send).
ANSWERS = frozenset({"ACCEPTED", "DECLINED", "TENTATIVE"})
_HAS_CALENDAR = re.compile(rb"(?i)content-type:[ \t]*(?:\r?\n[ \t]+)?(?:text/calendar|application/ics)")


@dataclass(frozen=True)
class CalendarReplyPayload:
    """What one REPLY says: the event's ``uid``, the ``attendee`` (lower-case address) and their
    ``name`` (CN), their answer ``partstat`` (ACCEPTED, DECLINED, TENTATIVE) and the ``sequence``
    answered."""

    uid: str
    attendee: str
    partstat: str
    sequence: int
    name: str | None = None


def read_reply(raw: bytes) -> CalendarReplyPayload | None:
    """The REPLY carried by a message (its first calendar part with METHOD:REPLY and a VEVENT
    with UID and ATTENDEE), or None. Lenient: a part icalendar cannot read is skipped."""
    if not _HAS_CALENDAR.search(raw):  # one scan, no copy: most mail has no calendar
        return None
    message = message_from_bytes(raw, policy=policy.compat32)
    for part in message.walk():
        if part.get_content_type() not in _CALENDAR_TYPES:
            continue
        data = part.get_payload(decode=True)
        if not data:
            continue
        try:
            cal = Calendar.from_ical(data)
        except Exception:  # noqa: BLE001 - any sender's broken calendar: not a reply we can read
            log.info("unreadable calendar part skipped")
            continue
        if str(cal.get("METHOD", "")).upper() != "REPLY":
            continue
        for vevent in cal.walk("VEVENT"):
            attendees = vevent.get("ATTENDEE")
            if not vevent.get("UID") or attendees is None:
                continue
            attendee = attendees[0] if isinstance(attendees, list) else attendees
            address = str(attendee)
            if address.lower().startswith("mailto:"):
                address = address[7:]
            try:
                sequence = int(vevent.get("SEQUENCE", 0))
            except (TypeError, ValueError):
                sequence = 0
            params = getattr(attendee, "params", {})
            cn = params.get("CN")
            return CalendarReplyPayload(uid=str(vevent["UID"]), attendee=address.strip().lower(),
                                        partstat=str(params.get("PARTSTAT", "")).upper(), sequence=sequence,
                                        name=str(cn) if cn else None)
    return None


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
    """See the module docstring."""
    reply = read_reply(msg.raw)
    if reply is None:
        return None
    event = session.scalar(select(Event).where(Event.uid == reply.uid))
    if event is None:
        return Decision(Outcome.HELD, name, "calendar_unknown_event",
                        payload=HeldPayload(f"respuesta de calendario de {msg.from_addr} a un evento desconocido "
                                            f"(UID {reply.uid})"))
    ticket = event.ticket
    if reply.attendee not in {a.email for a in event.attendees}:
        return Decision(Outcome.HELD, name, "calendar_unknown_attendee", ticket=ticket,
                        payload=HeldPayload(f"respuesta de calendario de {reply.attendee}, que no está "
                                            f"invitado a «{event.title}» ({ticket.code})"))
    if (msg.from_addr or "").lower() != reply.attendee:
        return Decision(Outcome.HELD, name, "calendar_reply_not_from_attendee", ticket=ticket,
                        payload=HeldPayload(f"respuesta de calendario por {reply.attendee} enviada por "
                                            f"{msg.from_addr} ({ticket.code})"))
    if reply.partstat not in ANSWERS:
        return Decision(Outcome.HELD, name, "calendar_reply_unknown_answer", ticket=ticket,
                        payload=HeldPayload(f"respuesta de calendario de {reply.attendee} a «{event.title}» "
                                            f"({ticket.code}) con una respuesta que no sabemos anotar "
                                            f"(PARTSTAT «{reply.partstat[:40] or 'ninguno'}»)"))
    return Decision(Outcome.IGNORED, name, "calendar_reply", ticket=ticket, payload=reply)
