"""The outbox: mail waiting to be sent, one row per envelope recipient (DESIGN, "Outbound mail").

Writing (`queue`) happens in the transaction of the change that causes the mail; the rest is the
workers' side of the row's life, each step one UPDATE so that two workers never send one row:

    pending ──claim──▶ sending (lease) ──mark_sent──▶ sent
       ▲                   │ ├──mark_retry (4xx, connection)──▶ pending, next_attempt_at later
       └──(lease expired)──┘ └──mark_failed (5xx)──▶ failed ──retry (staff)──▶ pending

A worker that dies while holding a row leaves it ``sending``; once its lease has expired the
sweep hands it out again (`due_ids`), and `claim` accepts it. Every claim adds one to
``attempts``; the marks only apply to the claim they belong to (same ``attempts``), so a worker
that lost its lease cannot overwrite the newer claim's outcome. All times are UTC.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from tickets.models import BouncedAddress, OutboxMessage, User, utcnow

#: Local parts that never read their mail: no-reply senders and the mail system's own mailboxes.
_UNATTENDED_LOCAL = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?|"
    r"auto[-_.]?(?:reply|responder|confirm))(?:[-+._].*)?$", re.IGNORECASE)

#: The outbox states (`OutboxMessage.state`) and their Spanish names for people.
STATE_LABELS = {"pending": "pendiente", "sending": "enviando", "sent": "enviado",
                "failed": "fallido", "bounced": "rebotado"}

#: Events whose mail goes to the client (the others go to staff).
CLIENT_EVENTS = frozenset({"acknowledgement", "status", "public_reply", "notification", "document",
                           "event_invitation", "event_cancel"})

#: The events (`OutboxMessage.event`) in the logbook's words.
EVENT_LABELS = {"acknowledgement": "acuse de recibo", "status": "cambio de estado", "assignment": "asignación",
                "reassigned": "reasignación", "client_comment": "comentario del cliente",
                "public_reply": "respuesta al cliente", "commands_refused": "comandos rechazados",
                "digest": "resumen diario de vencidas", "notification": "correo al cliente",
                "document": "documento al cliente", "event_invitation": "invitación a evento (.ics)",
                "event_cancel": "cancelación de evento (.ics)", "event_reminder": "recordatorio de evento",
                "follow_up_reminder": "recordatorio de seguimiento"}

_INSERT = insert(OutboxMessage)


def is_mailable(address: str, own_addresses: Iterable[str] = ()) -> bool:
    """Whether an automatic mail may go to ``address`` (lower-case ``local@domain``).

    Not to our own addresses (a loop), not to no-reply or mail-system mailboxes (nobody reads
    them; an auto-responder answering would start a loop), not to an address literal
    (``user@[10.0.0.1]``), not to anything that is not a single plain address.
    """
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or domain.startswith("[") or "." not in domain:
        return False
    if any(c.isspace() or c in ",;<>\"()" for c in address):
        return False
    base = f"{local.split('+', 1)[0]}@{domain}"  # our plus-addresses are ours too
    return address not in own_addresses and base not in own_addresses and not _UNATTENDED_LOCAL.match(local)


def new_message_id(domain: str, code: str | None, event: str) -> str:
    """A Message-ID of ours, without <>: ``AT-000123.acknowledgement.3f9a0c1b2d4e@domain``."""
    return f"{code or 'atencion'}.{event}.{secrets.token_hex(6)}@{domain}"


def queue(session: Session, *, ticket_id: int | None, code: str | None, domain: str, event: str,
          to: Iterable[str], cc: Iterable[str] = (), context: dict | None = None,
          automatic: bool = True, own_addresses: Iterable[str] = ()) -> str | None:
    """Write one pending row per recipient of a mail and return its Message-ID (without <>), or
    None when nobody is left to send it to.

    ``to``/``cc``: addresses, any case; duplicates, unmailable addresses (`is_mailable`) and
    bounced ones (`BouncedAddress`) are left out, and an address in both keeps its To place.
    The copies share the Message-ID and the headers (``to_addrs``, ``cc_addrs``) and are sent
    on their own. Runs in the caller's transaction.
    """
    own = {a.lower() for a in own_addresses}
    to_list = _clean(to, own)
    cc_list = [a for a in _clean(cc, own) if a not in to_list]
    everyone = to_list + cc_list
    if everyone:
        bounced = set(session.scalars(select(BouncedAddress.email).where(BouncedAddress.email.in_(everyone))))
        to_list = [a for a in to_list if a not in bounced]
        cc_list = [a for a in cc_list if a not in bounced]
    if not to_list:  # a mail only to Cc addresses would be a strange mail: the To is the point
        return None
    mid = new_message_id(domain, code, event)
    now = utcnow()
    session.connection().execute(_INSERT, [
        {"ticket_id": ticket_id, "event": event, "recipient": addr, "to_addrs": to_list,
         "cc_addrs": cc_list, "context": context or {}, "message_id": mid, "automatic": automatic,
         "state": "pending", "attempts": 0, "created_at": now}
        for addr in to_list + cc_list])
    return mid


def _clean(addresses: Iterable[str], own: set[str]) -> list[str]:
    seen: list[str] = []
    for a in addresses:
        a = (a or "").strip().lower()
        if a and a not in seen and is_mailable(a, own):
            seen.append(a)
    return seen


# --- the workers' side ----------------------------------------------------------------------------


def _claimable(now: datetime):
    return or_(
        and_(OutboxMessage.state == "pending",
             or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)),
        and_(OutboxMessage.state == "sending", OutboxMessage.lease_until < now))


def due_ids(session: Session, *, now: datetime | None = None, limit: int = 10_000) -> list[int]:
    """Ids of the rows a worker may take now: pending and due, or sending with an expired lease
    (their worker died), oldest first."""
    now = now or utcnow()
    return list(session.scalars(select(OutboxMessage.id).where(_claimable(now))
                                .order_by(OutboxMessage.id).limit(limit)))


def claim(session: Session, ids: Iterable[int], *, lease_s: float, now: datetime | None = None) -> list[int]:
    """Take the rows of ``ids`` that are still claimable: state ``sending`` with a lease of
    ``lease_s`` seconds, ``attempts`` + 1. Returns the ids taken (one UPDATE; a row another
    worker holds is not taken). The caller commits before sending."""
    ids = list(ids)
    if not ids:
        return []
    now = now or utcnow()
    stmt = (update(OutboxMessage).where(OutboxMessage.id.in_(ids), _claimable(now))
            .values(state="sending", lease_until=now + timedelta(seconds=lease_s),
                    attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id))
    return sorted(session.execute(stmt).scalars())


def renew(session: Session, ids: Iterable[int], *, lease_s: float, now: datetime | None = None) -> None:
    """Extend the lease of rows this worker still holds (a long batch past half its lease)."""
    now = now or utcnow()
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.state == "sending")
                    .values(lease_until=now + timedelta(seconds=lease_s)))


def _mine(row_id: int, attempts: int):
    return and_(OutboxMessage.id == row_id, OutboxMessage.state == "sending",
                OutboxMessage.attempts == attempts)


_MARK_SENT = (update(OutboxMessage)
              .where(OutboxMessage.id == bindparam("rid"), OutboxMessage.state == "sending",
                     OutboxMessage.attempts == bindparam("att"))
              .values(state="sent", sent_at=bindparam("now"), lease_until=None, last_error=None))


def mark_sent(session: Session, row_id: int, attempts: int, *, now: datetime | None = None) -> bool:
    """The server accepted the copy. False when the claim is no longer this worker's.

    Runs for every copy sent, so it is one prebuilt statement on the session's connection (the
    ORM's UPDATE costs ~0.5 ms more); the row, when loaded in ``session``, is expired."""
    result = session.connection().execute(_MARK_SENT, {"rid": row_id, "att": attempts, "now": now or utcnow()})
    loaded = session.identity_map.get(identity_key(OutboxMessage, row_id))
    if loaded is not None:
        session.expire(loaded)
    return result.rowcount == 1


def mark_retry(session: Session, row_id: int, attempts: int, error: str, *, delay_s: float,
               now: datetime | None = None) -> bool:
    """A temporary failure (4xx, no connection): pending again, not before ``delay_s`` seconds."""
    now = now or utcnow()
    result = session.execute(update(OutboxMessage).where(_mine(row_id, attempts))
                             .values(state="pending", lease_until=None, last_error=error[:2000],
                                     next_attempt_at=now + timedelta(seconds=delay_s)))
    return result.rowcount == 1


def mark_failed(session: Session, row_id: int, attempts: int, error: str) -> bool:
    """A permanent failure (5xx, a mail that cannot be built): failed with the server's answer."""
    result = session.execute(update(OutboxMessage).where(_mine(row_id, attempts))
                             .values(state="failed", lease_until=None, last_error=error[:2000]))
    return result.rowcount == 1


def postpone(session: Session, row_id: int, attempts: int, until: datetime, reason: str) -> bool:
    """Give a claimed row back untried (the recipient's hourly limit is reached): pending again
    from ``until``, the claim's attempt not counted."""
    result = session.execute(update(OutboxMessage).where(_mine(row_id, attempts))
                             .values(state="pending", lease_until=None, next_attempt_at=until,
                                     attempts=OutboxMessage.attempts - 1, last_error=reason))
    return result.rowcount == 1


_SENT_SINCE = (select(func.coalesce(OutboxMessage.sent_at, OutboxMessage.lease_until))
               .where(OutboxMessage.recipient == bindparam("recipient"), OutboxMessage.automatic.is_(True),
                      or_(and_(OutboxMessage.state.in_(("sent", "bounced")),
                               OutboxMessage.sent_at >= bindparam("since")),
                          OutboxMessage.state == "sending"))
               .order_by(OutboxMessage.id))
_STAFF_ID = select(User.id).where(User.email == bindparam("email"))


def sent_since(session: Session, recipient: str, since: datetime) -> list[datetime]:
    """When automatic copies to ``recipient`` were sent (or are being sent) since ``since``,
    oldest first: the rate limit's count (DESIGN: 20 per external address per hour)."""
    return list(session.scalars(_SENT_SINCE, {"recipient": recipient, "since": since}))


def is_staff_address(session: Session, address: str) -> bool:
    """Whether ``address`` belongs to a staff user (internal mail: no hourly limit)."""
    return session.scalar(_STAFF_ID, {"email": address}) is not None


# --- staff's view -----------------------------------------------------------------------------------


def retry(session: Session, row_id: int) -> OutboxMessage:
    """Put a failed or bounced copy back to pending, to be sent now (staff's "reintentar").

    Raises LookupError for an unknown id and ValueError (Spanish message) for a row in another
    state. A bounced address stays flagged: clear it first (`clear_bounce`)."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        raise LookupError(f"no existe el correo saliente {row_id}")
    if row.state not in ("failed", "bounced"):
        raise ValueError(f"el correo saliente {row_id} está {STATE_LABELS.get(row.state, row.state)}; "
                         "solo se reintenta uno fallido o rebotado")
    if session.get(BouncedAddress, row.recipient) is not None:
        raise ValueError(f"{row.recipient} está marcado como rebotado; quite la marca antes de reintentar")
    row.state, row.next_attempt_at, row.lease_until, row.bounced_at = "pending", None, None, None
    session.flush()
    return row


def flag_bounced(session: Session, row_id: int, diagnostic: str) -> OutboxMessage | None:
    """A delivery report named this copy: the row becomes ``bounced`` with the report's status
    and text, and its recipient is flagged (no more mail to it until cleared). Returns the row,
    None for an unknown id."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        return None
    row.state, row.bounced_at, row.last_error, row.lease_until = "bounced", utcnow(), diagnostic[:2000], None
    if session.get(BouncedAddress, row.recipient) is None:
        session.add(BouncedAddress(email=row.recipient, diagnostic=diagnostic[:2000], outbox_id=row.id))
    session.flush()
    return row


def bounced(session: Session) -> list[BouncedAddress]:
    """The flagged addresses, oldest flag first."""
    return list(session.scalars(select(BouncedAddress).order_by(BouncedAddress.flagged_at)))


def clear_bounce(session: Session, address: str) -> bool:
    """Take the bounced flag off ``address`` (staff checked it); False when it was not flagged."""
    result = session.execute(delete(BouncedAddress).where(BouncedAddress.email == address.strip().lower()))
    return result.rowcount == 1


def mail_state(states: Iterable[str]) -> str:
    """One mail's state from its copies' states: failed or bounced when any copy is, pending
    while any copy is waiting, else sent."""
    states = set(states)
    for state in ("failed", "bounced", "sending", "pending"):
        if state in states:
            return "pending" if state == "sending" else state
    return "sent"


def rows(session: Session, *, state: str | None = None, ticket_id: int | None = None,
         limit: int | None = None) -> list[OutboxMessage]:
    """Outbox rows, newest first, optionally of one state or one ticket."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if state:
        stmt = stmt.where(OutboxMessage.state == state)
    if ticket_id is not None:
        stmt = stmt.where(OutboxMessage.ticket_id == ticket_id)
    if limit:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


__all__ = ["CLIENT_EVENTS", "EVENT_LABELS", "STATE_LABELS", "claim", "clear_bounce", "due_ids",
           "bounced", "flag_bounced", "is_mailable", "is_staff_address", "mail_state", "mark_failed", "mark_retry",
           "mark_sent", "new_message_id", "postpone", "queue", "renew", "retry", "rows", "sent_since"]
