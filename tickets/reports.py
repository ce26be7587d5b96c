"""Read models shared by the CLI and the panel: one ticket with its logbook; mailbox health.

Every timestamp they return is ISO 8601 in the configured zone (``settings.timezone``), with its
offset: ``2025-01-06T12:00:00-05:00``.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tickets import outbox
from tickets.copies import pliego_of
from tickets.models import InboundMessage, MailboxState, OutboxMessage, Ticket, utcnow
from tickets.queries import Filters, iter_ticket_rows
from tickets.services import get_ticket


def local_iso(value: datetime | None, zone: ZoneInfo) -> str | None:
    """An aware datetime as ISO 8601 in ``zone`` (None stays None)."""
    return value.astimezone(zone).isoformat() if value is not None else None


def _local_change_value(value: str | None, zone: ZoneInfo) -> str | None:
    """A change entry's old/new of a timestamp field (stored as ISO UTC text) in ``zone``."""
    try:
        return local_iso(datetime.fromisoformat(value), zone) if value else value
    except ValueError:
        return value


#: Change fields whose old/new values are timestamps.
TIMESTAMP_FIELDS = frozenset({"attended_at"})


def row_dict(row) -> dict:
    """A ticket row (tickets.queries) as a JSON-ready dict with the export's snake_case keys."""
    data = asdict(row) if is_dataclass(row) else dict(row)
    for key in ("requested_at", "attended_at"):
        if data.get(key) is not None:
            data[key] = data[key].isoformat()
    if data.get("alert_state") is not None:
        data["alert_state"] = str(data["alert_state"])
    return data


def ticket_detail(session: Session, settings, code: str, *, today: date | None = None) -> dict:
    """The export keys plus ``detail``, ``registered_by`` (an email or None), ``duplicated_from``
    (the code of the ticket it was duplicated from, or None), ``pliego`` (the tickets of its pliego,
    head first, each ``code``, ``subject``, ``status``; empty when in none: `tickets.copies`) and
    ``logbook`` (oldest first) of one ticket.

    ``today``: the local date the SLA columns are computed for (default: today in the zone).

    Timestamps (``requested_at``, ``attended_at``, each entry's ``at`` and the old/new of a change
    of ``attended_at``) are ISO 8601 in ``settings.timezone``.
    Raises: tickets.services.ServiceError when the code does not exist.
    """
    zone = ZoneInfo(settings.timezone)
    ticket = get_ticket(session, code, settings.code_prefix)
    rows = list(iter_ticket_rows(session, Filters(code=ticket.code), tz=settings.timezone,
                                 prefix=settings.code_prefix, today=today))
    data = row_dict(next(r for r in rows if r.code == ticket.code))
    data["detail"] = ticket.detail
    data["registered_by"] = ticket.registered_by.email if ticket.registered_by else None
    data["duplicated_from"] = session.scalar(select(Ticket.code).where(Ticket.id == ticket.duplicated_from_id)) \
        if ticket.duplicated_from_id is not None else None
    data["pliego"] = [{"code": t.code, "subject": t.subject, "status": t.status.name}
                      for t in pliego_of(session, ticket)]
    raws = dict(session.execute(
        select(InboundMessage.id, InboundMessage.raw_sha256).where(InboundMessage.ticket_id == ticket.id)).all())
    data["logbook"] = [
        {
            "kind": e.kind,
            "at": local_iso(e.at, zone),
            "author": (e.author_user.name if e.author_user else (e.author_name or e.author_email)),
            "author_email": e.author_user.email if e.author_user else e.author_email,
            "public": e.public,
            "text": e.text,
            "attachments": [{"id": a.id, "name": a.filename, "content_type": a.content_type, "size": a.size,
                             "sha256": a.sha256, "inline": a.inline} for a in e.attachments],
            **(_change(e, zone) if e.kind == "change" else {}),
            # the full original message, kept whole (mail.inbound.ingest.raw_of reads it)
            **({"inbound_id": e.inbound_id, "raw_sha256": raws.get(e.inbound_id)} if e.inbound_id else {}),
        }
        for e in ticket.entries
    ]
    data["logbook"] = sorted(data["logbook"] + _outbound_entries(session, ticket.id, zone),
                             key=lambda e: e["at"] or "")
    return data


def _outbound_entries(session: Session, ticket_id: int, zone: ZoneInfo) -> list[dict]:
    """The ticket's outbound mail as ``email_out`` logbook entries, one per mail (its copies
    grouped by Message-ID), with ``state`` (pending, sent, failed, bounced) and each copy's
    ``recipients`` entry (``email``, ``outbox_id``, ``state``, ``error``, ``sent_at``)."""
    mails: dict[str, list[OutboxMessage]] = {}
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id)
                               .order_by(OutboxMessage.id)):
        mails.setdefault(row.message_id, []).append(row)
    entries = []
    for mid, copies in mails.items():
        first = copies[0]
        state = outbox.mail_state(c.state for c in copies)
        label = outbox.EVENT_LABELS.get(first.event, first.event)
        entries.append({
            "kind": "email_out", "at": local_iso(first.created_at, zone), "author": None, "author_email": None,
            "public": first.event in outbox.CLIENT_EVENTS,
            "text": f"{label} para {', '.join(first.to_addrs)}"
                    + (f" (cc: {', '.join(first.cc_addrs)})" if first.cc_addrs else "")
                    + f": {outbox.STATE_LABELS.get(state, state)}",
            "attachments": [], "event": first.event, "message_id": mid, "state": state,
            "recipients": [{"email": c.recipient, "outbox_id": c.id, "state": c.state, "error": c.last_error,
                            "sent_at": local_iso(c.sent_at, zone)} for c in copies],
        })
    return entries


def _change(entry, zone: ZoneInfo) -> dict:
    if entry.field in TIMESTAMP_FIELDS:
        return {"field": entry.field, "old": _local_change_value(entry.old, zone),
                "new": _local_change_value(entry.new, zone)}
    return {"field": entry.field, "old": entry.old, "new": entry.new}


def health_report(session: Session, settings, *, configured: list[str] | None = None,
                  max_age_s: int = 600, outbox_max_age_s: float | None = None) -> dict:
    """Each mailbox's last successful poll and last error, and the outbox backlog.

    ``configured``: the names of the configured mailboxes (a configured mailbox never polled is
    unhealthy). A mailbox is unhealthy when its last successful poll is older than ``max_age_s``
    seconds; the outbox when its oldest pending (or sending) row is older than
    ``outbox_max_age_s`` seconds (default ``settings.health_outbox_max_min`` minutes): mail is not
    going out. Times are ISO 8601 in ``settings.timezone``.
    """
    if outbox_max_age_s is None:
        outbox_max_age_s = settings.health_outbox_max_min * 60
    zone = ZoneInfo(settings.timezone)
    now = utcnow()
    states = {m.name: m for m in session.scalars(select(MailboxState).order_by(MailboxState.name))}
    names = list(configured) if configured is not None else list(states)
    mailboxes = []
    for name in names:
        st = states.get(name)
        ok = bool(st and st.last_success_at and now - st.last_success_at <= timedelta(seconds=max_age_s))
        mailboxes.append({
            "name": name,
            "healthy": ok,
            "last_poll_at": local_iso(st.last_poll_at, zone) if st else None,
            "last_success_at": local_iso(st.last_success_at, zone) if st else None,
            "last_error": st.last_error if st else None,
            "last_error_at": local_iso(st.last_error_at, zone) if st else None,
        })
    waiting = OutboxMessage.state.in_(("pending", "sending"))
    pending = session.scalar(select(func.count()).where(waiting))
    failed = session.scalar(select(func.count()).where(OutboxMessage.state == "failed"))
    oldest = session.scalar(select(func.min(OutboxMessage.created_at)).where(waiting))
    outbox_ok = oldest is None or now - oldest <= timedelta(seconds=outbox_max_age_s)
    return {
        "healthy": all(m["healthy"] for m in mailboxes) and outbox_ok,
        "mailboxes": mailboxes,
        "outbox": {"pending": pending, "failed": failed, "healthy": outbox_ok,
                   "oldest_pending_at": local_iso(oldest, zone)},
    }
