"""Follow-ups (Seguimiento, DESIGN "Domain"): a list per ticket of what a staff member (the
owner) must do by a local calendar date, with a note and a done flag.

Rules (a customer-service team's, decided here):

* Creating one needs a note (at most `MAX_NOTE_CHARS` characters), an active staff user as owner
  (any role) and a due date today or later in the configured zone; editing keeps a past due date
  that is not changed but refuses moving one into the past. Errors are `FieldError` (Spanish).
* Overdue = not done and ``due_date`` before today (the configured zone, never the server's UTC
  date); "due" = not done and ``due_date`` on or before today.
* Every action writes one ``follow_up`` logbook entry on the ticket (its text says what happened);
  a changed field (due date, owner, note, done) also writes a ``change`` entry (the history), with
  the field named ``follow_up_<field>``.
* The owner gets one reminder mail (event ``follow_up_reminder``, staff mail through the outbox)
  on the due day, from `reminder_time` (``ATENCION_DIGEST_TIME``, local) on, any day of the week:
  the owner chose that date. A scheduler that was down sends, when it comes back, today's
  reminders and also one late reminder ("Seguimiento vencido: …") for each overdue follow-up that was
  never reminded — silence would hide it until the next business-day digest. A follow-up done
  before its reminder gets none; an inactive owner gets none (it stays unreminded: after a
  reassignment to an active owner it is sent). ``reminded_at`` is set by a conditional UPDATE in
  the transaction that queues the mail, so two schedulers or a restart never send it twice.
* The owner's due and overdue follow-ups are listed in their daily digest (`tickets.digest`).

Functions take a Session and work in the caller's transaction (flush, never commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from tickets.models import EntryKind, FollowUp, Ticket, User, utcnow
from tickets.services import Context, FieldError, ServiceError, add_entry, queue_mail
from tickets.text import nfc

#: Longest note accepted, in characters.
MAX_NOTE_CHARS = 2000

#: The reminder's outbox event (templates/email/follow_up_reminder.txt and .html).
REMINDER_EVENT = "follow_up_reminder"


def fecha(day: date) -> str:
    """A date as users read it: dd/mm/aaaa."""
    return day.strftime("%d/%m/%Y")


def is_overdue(fu: FollowUp, today: date) -> bool:
    """Not done and due before ``today`` (a local date)."""
    return not fu.done and fu.due_date < today


# --- validation -----------------------------------------------------------------------------------


def _clean_note(note: str | None) -> str:
    text = nfc((note or "").replace("\r\n", "\n").strip())
    if not text:
        raise FieldError("note", "Escriba la nota del seguimiento.")
    if len(text) > MAX_NOTE_CHARS:
        raise FieldError("note", f"La nota admite hasta {MAX_NOTE_CHARS} caracteres.")
    return text


def _check_due(due_date: date | None, today: date) -> date:
    if due_date is None:
        raise FieldError("due_date", "Indique la fecha de vencimiento (dd/mm/aaaa).")
    if due_date < today:
        raise FieldError("due_date", f"La fecha de vencimiento no puede ser anterior a hoy ({fecha(today)}).")
    return due_date


def _check_owner(owner: User | None) -> User:
    if owner is None or not owner.active:
        raise FieldError("owner", "El responsable debe ser un usuario activo del equipo.")
    return owner


def _author(by: User | None) -> dict:
    return {"author_user_id": by.id if by else None, "author_email": by.email if by else None,
            "author_name": by.name if by else None}


def _change(session: Session, ticket: Ticket, fu: FollowUp, field_name: str, old, new, by: User | None) -> None:
    if old == new:
        return
    add_entry(session, ticket, EntryKind.CHANGE, f"Seguimiento #{fu.id}", field=f"follow_up_{field_name}",
              old=None if old is None else str(old), new=None if new is None else str(new), **_author(by))


# --- actions --------------------------------------------------------------------------------------


def add_follow_up(session: Session, ticket: Ticket, *, due_date: date | None, note: str | None,
                  owner: User | None, by: User | None, today: date) -> FollowUp:
    """Add a follow-up to ``ticket``; one ``follow_up`` logbook entry.

    Parameters: due_date(date): local calendar date, ``today`` or later; note(str): required;
    owner(User): an active staff user; by(User|None): who adds it (None: an operator);
    today(date): today in the configured zone.
    Returns: the FollowUp, flushed (has an id). Raises: FieldError (``due_date``, ``note``, ``owner``).
    """
    text = _clean_note(note)
    owner = _check_owner(owner)
    due_date = _check_due(due_date, today)
    fu = FollowUp(ticket_id=ticket.id, due_date=due_date, note=text, owner_id=owner.id,
                  created_by_id=by.id if by else None)
    session.add(fu)
    session.flush()
    add_entry(session, ticket, EntryKind.FOLLOW_UP,
              f"Seguimiento para el {fecha(due_date)} a cargo de {owner.name}: {text}", **_author(by))
    ticket.updated_at = utcnow()
    return fu


def edit_follow_up(session: Session, fu: FollowUp, *, due_date: date | None = None, note: str | None = None,
                   owner: User | None = None, by: User | None, today: date) -> list[str]:
    """Change a follow-up's due date, note or owner (None: unchanged); a changed due date or
    owner makes the reminder due again. Returns the changed fields (empty: nothing changed, no
    entry). Raises FieldError as `add_follow_up`; ServiceError for a done follow-up."""
    if fu.done:
        raise ServiceError("el seguimiento ya está hecho; desmárquelo antes de editarlo")
    ticket = fu.ticket
    changed: list[str] = []
    if due_date is not None and due_date != fu.due_date:
        _check_due(due_date, today)
        _change(session, ticket, fu, "due_date", fecha(fu.due_date), fecha(due_date), by)
        fu.due_date, fu.reminded_at = due_date, None
        changed.append("due_date")
    if owner is not None and owner.id != fu.owner_id:
        _check_owner(owner)
        _change(session, ticket, fu, "owner", fu.owner.email, owner.email, by)
        fu.owner, fu.reminded_at = owner, None
        changed.append("owner")
    if note is not None:
        text = _clean_note(note)
        if text != fu.note:
            _change(session, ticket, fu, "note", fu.note, text, by)
            fu.note = text
            changed.append("note")
    if changed:
        add_entry(session, ticket, EntryKind.FOLLOW_UP,
                  f"Seguimiento modificado: para el {fecha(fu.due_date)} a cargo de {fu.owner.name}: {fu.note}",
                  **_author(by))
        ticket.updated_at = utcnow()
        session.flush()
    return changed


def set_done(session: Session, fu: FollowUp, done: bool, *, by: User | None) -> bool:
    """Mark a follow-up done (``done`` True: who and when are kept) or not done again. Returns
    False when it already was so (nothing written); else one ``follow_up`` entry and one
    ``change`` entry (``follow_up_done``: pendiente → hecho)."""
    if fu.done == done:
        return False
    ticket = fu.ticket
    _change(session, ticket, fu, "done", "hecho" if fu.done else "pendiente", "hecho" if done else "pendiente", by)
    fu.done = done
    fu.done_at = utcnow() if done else None
    fu.done_by_id = by.id if (done and by) else None
    word = "hecho" if done else "pendiente otra vez"
    add_entry(session, ticket, EntryKind.FOLLOW_UP, f"Seguimiento del {fecha(fu.due_date)} {word}: {fu.note}",
              **_author(by))
    ticket.updated_at = utcnow()
    session.flush()
    return True


# --- reading --------------------------------------------------------------------------------------


def get_follow_up(session: Session, follow_up_id: int, ticket: Ticket | None = None) -> FollowUp:
    """The follow-up with this id (of ``ticket`` when given). Raises ServiceError."""
    fu = session.get(FollowUp, follow_up_id)
    if fu is None or (ticket is not None and fu.ticket_id != ticket.id):
        raise ServiceError(f"no existe el seguimiento {follow_up_id}"
                           + (f" en la atención {ticket.code}" if ticket is not None else ""))
    return fu


def list_for_ticket(session: Session, ticket: Ticket) -> list[FollowUp]:
    """The ticket's follow-ups: pending first (earliest due first), then the done ones."""
    stmt = (select(FollowUp).where(FollowUp.ticket_id == ticket.id).options(joinedload(FollowUp.owner))
            .order_by(FollowUp.done, FollowUp.due_date, FollowUp.id))
    return list(session.scalars(stmt))


def due_by(session: Session, today: date, *, owner_id: int | None = None) -> list[FollowUp]:
    """Follow-ups not done and due on or before ``today`` (a local date): today's and the overdue
    ones, earliest first, with their ticket and owner loaded."""
    stmt = (select(FollowUp).where(FollowUp.done.is_(False), FollowUp.due_date <= today)
            .options(joinedload(FollowUp.ticket), joinedload(FollowUp.owner))
            .order_by(FollowUp.due_date, FollowUp.id))
    if owner_id is not None:
        stmt = stmt.where(FollowUp.owner_id == owner_id)
    return list(session.scalars(stmt))


def pending(session: Session, *, owner_id: int | None = None, where=None) -> list[FollowUp]:
    """Follow-ups not done, earliest due first (ticket and owner loaded); ``owner_id``: only that
    user's; ``where``: an extra condition on `Ticket` (a legal user's scope)."""
    stmt = (select(FollowUp).join(Ticket, Ticket.id == FollowUp.ticket_id).where(FollowUp.done.is_(False))
            .options(joinedload(FollowUp.ticket), joinedload(FollowUp.owner))
            .order_by(FollowUp.due_date, FollowUp.id))
    if owner_id is not None:
        stmt = stmt.where(FollowUp.owner_id == owner_id)
    if where is not None:
        stmt = stmt.where(where)
    return list(session.scalars(stmt))


def overdue(session: Session, today: date, *, owner_id: int | None = None) -> list[FollowUp]:
    """Follow-ups not done whose due date is before ``today`` (a local date)."""
    return [fu for fu in due_by(session, today, owner_id=owner_id) if fu.due_date < today]


@dataclass(frozen=True)
class DigestItem:
    """A follow-up as the digest lists it (JSON-ready via `as_dict`)."""

    code: str
    subject: str
    due_date: str  # ISO date
    note: str
    overdue: bool

    def as_dict(self) -> dict:
        return {"code": self.code, "subject": self.subject, "due_date": self.due_date, "note": self.note,
                "overdue": self.overdue}


def digest_items(session: Session, today: date) -> dict[str, list[dict]]:
    """``{owner email: [item…]}``: each active owner's follow-ups due today or overdue, earliest
    first; items are `DigestItem.as_dict` (``code``, ``subject``, ``due_date``, ``note``, ``overdue``)."""
    out: dict[str, list[dict]] = {}
    for fu in due_by(session, today):
        if fu.owner.active:
            out.setdefault(fu.owner.email, []).append(DigestItem(
                fu.ticket.code, fu.ticket.subject, fu.due_date.isoformat(), fu.note, fu.due_date < today).as_dict())
    return out


# --- the reminder ---------------------------------------------------------------------------------


def reminder_time(settings) -> time:
    """The local time of day from which the due day's reminders go out (``digest_time``)."""
    hh, mm = (int(p) for p in settings.digest_time.split(":"))
    return time(hh, mm)


def queue_due_reminders(session: Session, settings, *, now: datetime | None = None) -> int:
    """Queue the reminder of every follow-up due today (or overdue) not done and never reminded,
    once the local time is past `reminder_time`; returns how many were queued. Runs in the
    caller's transaction; each follow-up is claimed by an UPDATE … WHERE reminded_at IS NULL,
    so a concurrent scheduler skips it."""
    zone = ZoneInfo(settings.timezone)
    local = (now or utcnow()).astimezone(zone)
    if local.time() < reminder_time(settings):
        return 0
    today = local.date()
    ctx = Context.from_settings(settings)
    stamp = now or utcnow()
    queued = 0
    unreminded = (select(FollowUp).join(User, User.id == FollowUp.owner_id)
                  .where(FollowUp.done.is_(False), FollowUp.due_date <= today, FollowUp.reminded_at.is_(None),
                         User.active.is_(True))
                  .options(joinedload(FollowUp.ticket), joinedload(FollowUp.owner))
                  .order_by(FollowUp.due_date, FollowUp.id))
    for fu in session.scalars(unreminded).all():
        claimed = session.execute(update(FollowUp).where(FollowUp.id == fu.id, FollowUp.reminded_at.is_(None))
                                  .values(reminded_at=stamp).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:  # another scheduler took it
            continue
        context = {"code": fu.ticket.code, "follow_up_id": fu.id, "due_date": fu.due_date.isoformat(),
                   "note": fu.note, "owner_name": fu.owner.name, "overdue": fu.due_date < today,
                   "today": today.isoformat()}
        if queue_mail(session, ctx, fu.ticket, REMINDER_EVENT, [fu.owner.email], context) is not None:
            queued += 1
    return queued


__all__ = ["MAX_NOTE_CHARS", "REMINDER_EVENT", "DigestItem", "add_follow_up", "digest_items", "due_by",
           "edit_follow_up", "fecha", "get_follow_up", "is_overdue", "list_for_ticket", "overdue", "pending",
           "queue_due_reminders", "reminder_time", "set_done"]
