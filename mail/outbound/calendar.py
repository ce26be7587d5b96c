"""The iCalendar part of an event's mail (iMIP, RFC 6047; iTIP, RFC 5546; objects, RFC 5545),
built with ``icalendar`` from the outbox row's snapshot (`tickets.events.snapshot`).

One VCALENDAR (PRODID, VERSION 2.0, METHOD REQUEST or CANCEL) with the configured zone's
VTIMEZONE and one VEVENT: UID (stable across updates), SEQUENCE, DTSTAMP (when the row was
written, UTC), DTSTART/DTEND with TZID, SUMMARY, LOCATION, STATUS (CONFIRMED, or CANCELLED with
METHOD:CANCEL), ORGANIZER (our mailbox, with the staff member's name: answers come back to us),
one ATTENDEE per invitee (ROLE=REQ-PARTICIPANT, PARTSTAT, RSVP=TRUE).

`add_calendar` puts it in the mail twice, as Outlook and Gmail expect: as a third alternative
(``text/calendar; method=REQUEST; charset=UTF-8``) beside the text and the HTML, and as an
``invite.ics`` attachment (``application/ics``) for clients that only show attachments.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from tickets.events import one_line

#: Our PRODID (RFC 5545 §3.7.3).
PRODID = "-//Atencion al Cliente//Eventos//ES"
#: Mail events that carry a calendar, and their iTIP METHOD.
CALENDAR_EVENTS = {"event_invitation": "REQUEST", "event_cancel": "CANCEL"}


def build_calendar(snap: dict, *, organizer_email: str, organizer_name: str, dtstamp: datetime) -> bytes:
    """The .ics bytes (CRLF lines, folded at 75 octets) of ``snap`` (`tickets.events.snapshot`).

    Parameters: organizer_email(str): our mailbox (ORGANIZER's mailto). organizer_name(str): its
    CN. dtstamp(datetime): aware; written in UTC.
    """
    zone = ZoneInfo(snap["tzid"])
    method = snap["method"]
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    ev = Event()
    ev.add("uid", snap["uid"])
    ev.add("sequence", int(snap["sequence"]))
    ev.add("dtstamp", dtstamp)
    ev.add("dtstart", datetime.fromisoformat(snap["starts_at"]).astimezone(zone))
    ev.add("dtend", datetime.fromisoformat(snap["ends_at"]).astimezone(zone))
    ev.add("summary", snap["title"])
    if snap.get("location"):
        ev.add("location", snap["location"])
    ev.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(one_line(organizer_name))  # a parameter holds no line break
    ev.add("organizer", organizer)
    for a in snap.get("attendees", []):
        attendee = vCalAddress(f"mailto:{a['email']}")
        if one_line(a.get("name")):
            attendee.params["cn"] = vText(one_line(a["name"]))
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText(a.get("partstat") or "NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        ev.add("attendee", attendee)
    cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()


def add_calendar(msg: EmailMessage, ics: bytes, method: str) -> None:
    """Add ``ics`` to ``msg`` (multipart/alternative of text and HTML): as the third alternative
    ``text/calendar; method=…; charset=UTF-8``, and as an ``invite.ics`` attachment. Call before
    any other attachment (the message becomes multipart/mixed)."""
    text = ics.decode("utf-8")
    msg.add_alternative(text, subtype="calendar", charset="utf-8", params={"method": method})
    msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")


__all__ = ["CALENDAR_EVENTS", "PRODID", "add_calendar", "build_calendar"]
