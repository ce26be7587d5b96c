"""The daily overdue digest (DESIGN, "Outbound mail and workers"): one mail per recipient per
local date, at ``ATENCION_DIGEST_TIME`` in the configured zone, on business days (Monday–Friday,
not a holiday of Peru, not an admin-defined closed day), skipped when the recipient has nothing
overdue and no follow-up due.

A recipient's digest lists the overdue tickets assigned to them and, for an area lead, the
overdue tickets of their area (each ticket once). "Overdue" is the list's alert
(`tickets.sla.AlertState.OVERDUE`: not attended and past its maximum response days).
It also lists, in a section "Seguimientos para hoy / vencidos", the recipient's own follow-ups
not done and due that day or before (`tickets.follow_ups.digest_items`): a digest with only
follow-ups is sent too.
Each digest is recorded (`DigestRecord`, unique per recipient and local date) in the transaction
that queues it, so two schedulers, or one that runs the check every minute, send it once; a
scheduler that was down sends the day's digest when it comes back, never a missed day's.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tickets.follow_ups import digest_items
from tickets.models import Area, ClosedDay, DigestRecord, User, utcnow
from tickets.queries import Filters, iter_ticket_rows
from tickets.services import Context, queue_mail
from tickets.sla import AlertState, is_business_day


def is_due(settings, now: datetime | None = None) -> date | None:
    """The local date whose digest is due at ``now`` (UTC, default now), or None: before the
    digest time, or not a business day."""
    zone = ZoneInfo(settings.timezone)
    local = (now or utcnow()).astimezone(zone)
    hh, mm = (int(p) for p in settings.digest_time.split(":"))
    if local.time() < time(hh, mm):
        return None
    return local.date()


def recipients(session: Session, settings, today: date) -> dict[str, list[dict]]:
    """Who gets a digest on ``today`` (a local date) and which tickets: ``{email: [ticket…]}``,
    each ticket ``{code, subject, status, assignee, area, elapsed_days, alert}``, oldest request
    first. Inactive users get nothing."""
    leads = {a.name: a.lead.email for a in session.scalars(select(Area)) if a.lead is not None and a.lead.active}
    active = set(session.scalars(select(User.email).where(User.active.is_(True))))
    out: dict[str, dict[str, dict]] = {}
    for row in iter_ticket_rows(session, Filters(alert=AlertState.OVERDUE), tz=settings.timezone, today=today,
                                prefix=settings.code_prefix, order="requested_at"):
        item = {"code": row.code, "subject": row.subject, "status": row.status, "assignee": row.assignee,
                "area": row.area, "elapsed_days": row.elapsed_days, "alert": row.alert}
        for email in (row.assignee_email, leads.get(row.area)):
            if email and email in active:
                out.setdefault(email, {})[row.code] = item
    return {email: list(items.values()) for email, items in out.items()}


def queue_due_digests(session: Session, settings, *, now: datetime | None = None) -> int:
    """Queue today's digests not written yet, if their time has come; returns how many mails
    were queued. Runs in the caller's transaction (one savepoint per recipient)."""
    today = is_due(settings, now)
    if today is None:
        return 0
    closed = frozenset(session.scalars(select(ClosedDay.day)))
    if not is_business_day(today, closed_days=closed):
        return 0
    done = set(session.scalars(select(DigestRecord.recipient).where(DigestRecord.local_date == today)))
    ctx = Context.from_settings(settings)
    queued = 0
    overdue = recipients(session, settings, today)
    follow_ups = digest_items(session, today)
    for email in sorted(overdue.keys() | follow_ups.keys()):
        items, fus = overdue.get(email, []), follow_ups.get(email, [])
        if email in done or not (items or fus):
            continue
        try:
            with session.begin_nested():
                session.add(DigestRecord(recipient=email, local_date=today, tickets=len(items)))
                session.flush()
                mid = queue_mail(session, ctx, None, "digest", [email],
                                 {"date": today.isoformat(), "tickets": items, "count": len(items),
                                  "follow_ups": fus, "follow_up_count": len(fus)})
        except IntegrityError:  # another scheduler wrote it first
            continue
        if mid is not None:  # None: a bounced (or our own) address; the record still says "done today"
            queued += 1
    return queued
