"""Ticket services: the only code that changes tickets, writes their logbook and queues their mail.

The mail pipeline, the CLI and the panel all call these. Each function takes a Session and works
inside the caller's transaction (it writes or flushes, never commits): the caller owns ``begin()``.
Outbox rows are written here, in the same transaction as the change that causes them.

New tickets and the append-only rows (logbook entries, attachments, participants, outbox) are
written with prebuilt Core statements rather than through the ORM unit of work, and the hot
look-ups are prebuilt too: ingest runs these for every message, and building a statement or
flushing an object graph costs several times what SQLite takes to run it (bench/README.md).
Changes to an existing ticket (status, assignee) go through the ORM as usual.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from tickets import defaults, outbox, storage
from tickets.codes import next_code
from tickets.models import (
    Area,
    Attachment,
    Category,
    Client,
    ClientEmail,
    Contract,
    EntryKind,
    LogbookEntry,
    OutboxMessage,
    Priority,
    Status,
    Ticket,
    TicketParticipant,
    TicketType,
    User,
    contract_holders,
    ticket_watchers,
    utcnow,
)
from tickets.search_text import append_client_comment
from tickets.storage import NewFile
from tickets.text import fold, unknown_value

log = logging.getLogger(__name__)


class ServiceError(ValueError):
    """A request the domain refuses (unknown status, user, ticket…); the message is user-facing."""


class FieldError(ServiceError):
    """A bad value for one named field; ``str()`` is ``"<field>: <message in Spanish>"``.

    ``field`` is the name in code (``email``, ``password``): the CLI shows it as ``--email``, the
    panel next to that form field.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Context:
    """What the services need from the configuration."""

    code_prefix: str = "AT"
    storage_dir: Path = Path("var/files")
    mail_domain: str = "localhost"
    #: our own addresses, lower-case: never mailed (a loop)
    own_addresses: frozenset[str] = frozenset()
    #: False: write no outbox rows at all (``import --no-notify``: an archive of old mail)
    notify: bool = True
    #: the configured zone (IANA name): local times in logbook texts (events)
    timezone: str = "America/Lima"

    @classmethod
    def from_settings(cls, settings) -> Context:
        domain = settings.mail_from.rpartition("@")[2] or "localhost"
        return cls(code_prefix=settings.code_prefix, storage_dir=settings.storage_dir,
                   mail_domain=domain, own_addresses=frozenset({settings.mail_from.lower()}),
                   timezone=settings.timezone)


@dataclass
class TicketDefaults:
    """Names of the type, category, area, project for new mail tickets (a mailbox's defaults)."""

    type: str | None = None
    category: str | None = None
    area: str | None = None
    project: str | None = None
    priority: str = defaults.DEFAULT_PRIORITY
    status: str = defaults.NEW_STATUS
    extra: dict = field(default_factory=dict)


#: How a ticket came in, in the logbook's words ("Atención registrada por correo").
CHANNEL_WORDS = {"email": "por correo", "web": "en el panel", "phone": "por teléfono",
                 "cli": "por la línea de comandos"}


# --- look-ups -------------------------------------------------------------------------------------


def get_by_name(session: Session, model, name: str | None):
    """The row of ``model`` whose name matches ``name`` ignoring case and accents, or None.

    Compared in Python: SQL ``lower()`` only folds ASCII on SQLite and C-locale PostgreSQL.
    Reference tables (statuses, types, areas…) are small.
    """
    if not name:
        return None
    exact = session.scalar(select(model).where(model.name == name.strip()))
    if exact is not None:
        return exact
    key = fold(name)
    for row in session.scalars(select(model)):
        if fold(row.name) == key:
            return row
    return None


def require_by_name(session: Session, model, name: str, label: str, *, feminine: bool = False):
    """Like `get_by_name`, but raises ServiceError when missing: ``label`` (the Spanish noun,
    ``feminine`` for its agreement) unknown, with the valid names listed."""
    row = get_by_name(session, model, name)
    if row is None:
        valid = sorted(session.scalars(select(model.name)), key=fold)
        raise ServiceError(unknown_value(label, name, valid, feminine=feminine))
    return row


def get_ticket(session: Session, code: str, prefix: str = "AT") -> Ticket:
    """The ticket with this code (tolerant: ``at-12`` finds AT-000012). Raises ServiceError."""
    from tickets.codes import find_codes

    found = find_codes(code, prefix)
    norm = found[0] if found else code.strip().upper()
    ticket = session.scalar(select(Ticket).where(Ticket.code == norm))
    if ticket is None:
        raise ServiceError(f"no existe la atención {code}")
    return ticket


_STAFF_ID_BY_EMAIL = select(User.id).where(User.email == bindparam("email"), User.active.is_(True))
_CLIENT_IDS_BY_EMAIL = select(ClientEmail.client_id).where(ClientEmail.email == bindparam("email"))


def find_user_by_email(session: Session, email: str | None) -> User | None:
    """The active staff user with this address (case-insensitive), or None.

    Looked up by id first (a plain query: most senders are not staff), then loaded.
    """
    if not email:
        return None
    user_id = session.connection().execute(_STAFF_ID_BY_EMAIL, {"email": email.lower()}).scalar()
    return session.get(User, user_id) if user_id is not None else None


@dataclass(frozen=True)
class StatusFlags:
    """What the services need to know of a status: its name and whether it is attended/closed."""

    name: str
    attended: bool
    closed: bool


_STATUS_FLAGS = select(Status.name, Status.attended, Status.closed).where(Status.id == bindparam("sid"))


def status_flags(session: Session, status_id: int) -> StatusFlags:
    """Name and flags of the status with this id. Raises sqlalchemy's NoResultFound for an unknown id."""
    row = session.connection().execute(_STATUS_FLAGS, {"sid": status_id}).one()
    return StatusFlags(row.name, bool(row.attended), bool(row.closed))


# --- logbook and outbox ---------------------------------------------------------------------------
#
# Logbook entries, attachments, thread participants and outbox rows are append-only: they are
# written with one Core INSERT each, at once, instead of as ORM objects in a flush. The unit of work
# costs about four times as much per row (bench/README.md, "Inbound"), and ingest writes several of
# these rows for every message. A loaded ``ticket.entries`` collection is expired so that a later
# read in the same session sees the new entry.

_INSERT_ENTRY = insert(LogbookEntry)
_INSERT_ATTACHMENT = insert(Attachment)
_INSERT_OUTBOX = insert(OutboxMessage)
_INSERT_PARTICIPANT = insert(TicketParticipant)
_SELECT_PARTICIPANTS = select(TicketParticipant.email).where(TicketParticipant.ticket_id == bindparam("tid"))
_HOLDERS_OF_CONTRACT = select(contract_holders.c.client_id).where(contract_holders.c.contract_id == bindparam("cid"))
_WATCHER_EMAILS = (select(User.email).join(ticket_watchers, ticket_watchers.c.user_id == User.id)
                   .where(ticket_watchers.c.ticket_id == bindparam("tid")))
_TOUCH_TICKET = update(Ticket).where(Ticket.id == bindparam("tid")).values(updated_at=bindparam("now"))


def add_entry(session: Session, ticket: Ticket | NewTicket, kind: EntryKind, text: str = "", **fields) -> int:
    """Append a logbook entry to ``ticket`` and return its id (written now, in the caller's transaction).

    ``fields``: other `LogbookEntry` columns (``at`` in UTC, default now; ``author_*``, ``public``,
    ``field``/``old``/``new``, ``inbound_id``). The ticket must already be in the database. A
    client's comment (see `tickets.search_text`: no author user, an address no staff user has) is
    also appended to the ticket's ``client_comments_fold``, in this transaction.
    """
    if fields.get("author_name"):
        fields["author_name"] = fields["author_name"][:200]
    if ticket.id is None:  # a ticket the caller added through the ORM and did not flush yet
        session.flush()
    entry_id = session.connection().execute(
        _INSERT_ENTRY, {"ticket_id": ticket.id, "kind": kind.value, "text": text, **fields}
    ).inserted_primary_key[0]
    if append_client_comment(session.connection(), ticket.id, kind.value, text, fields.get("author_user_id"),
                             fields.get("author_email")) \
            and "client_comments_fold" in ticket.__dict__:
        session.expire(ticket, ["client_comments_fold"])
    if "entries" in ticket.__dict__:
        session.expire(ticket, ["entries"])
    return entry_id


def record_change(session: Session, ticket: Ticket, field_name: str, old, new, *,
                  by: User | None = None, by_email: str | None = None) -> int | None:
    """Write a field-change entry (field, old, new, who, when) and return its id; None when old == new."""
    old_s = None if old is None else str(old)
    new_s = None if new is None else str(new)
    if old_s == new_s:
        return None
    return add_entry(session, ticket, EntryKind.CHANGE, field=field_name, old=old_s, new=new_s,
                     author_user_id=by.id if by else None,
                     author_email=by.email if by else by_email,
                     author_name=by.name if by else None)


def attach_files(session: Session, ctx: Context, ticket: Ticket | NewTicket, entry_id: int | None,
                 files: list[NewFile]) -> list[str]:
    """Store ``files`` content-addressed, link them to the ticket (and entry); returns their SHA-256s."""
    if not files:
        return []
    rows = [{"ticket_id": ticket.id, "entry_id": entry_id, "filename": f.filename,
             "content_type": f.content_type, "size": len(f.data), "inline": f.inline,
             "content_id": f.content_id[:998] if f.content_id else None,
             "sha256": storage.store_bytes(ctx.storage_dir, f.data)} for f in files]
    session.connection().execute(_INSERT_ATTACHMENT, rows)
    return [r["sha256"] for r in rows]


def files_note(files: list[NewFile]) -> str:
    """The logbook text for the files that came with a request: "2 archivos adjuntos con la
    solicitud"; images shown in the mail's body are not counted as files."""
    n = sum(1 for f in files if not f.inline)
    if n == 0:
        return "Imágenes incluidas en el cuerpo del correo"
    return f"{n} archivo{'s' if n != 1 else ''} adjunto{'s' if n != 1 else ''} con la solicitud"


def queue_mail(session: Session, ctx: Context, ticket: Ticket | NewTicket | None, event: str,
               to: list[str], context: dict | None = None, *, cc: list[str] = (),
               automatic: bool = True) -> str | None:
    """Queue a mail (one outbox row per recipient, sent later by a worker) and return its
    Message-ID (without <>); None when there is nobody to send it to (see `tickets.outbox.queue`
    for who is left out: our own, no-reply and bounced addresses). Nothing is written when
    ``ctx.notify`` is False.

    The Message-ID is fixed now: it joins the ticket's thread, so replies to it match
    (see `mail.inbound.rules.lookups.find_ticket_by_thread`).
    """
    if not ctx.notify:
        return None
    return outbox.queue(session, ticket_id=ticket.id if ticket else None, code=ticket.code if ticket else None,
                        domain=ctx.mail_domain, event=event, to=to, cc=cc, context=context,
                        automatic=automatic, own_addresses=ctx.own_addresses)


_STAFF_EMAILS_AMONG = select(User.email).where(User.email.in_(bindparam("emails", expanding=True)))


#: The most Cc addresses on mail to the client: a mail with 300 addresses on Cc must not make us
#: send 300 copies of every acknowledgement and status mail. Known clients (the catalog) first.
MAX_CLIENT_CC = 5
_CLIENT_EMAILS_AMONG = select(ClientEmail.email).where(ClientEmail.email.in_(bindparam("emails", expanding=True)))


def client_recipients(session: Session, ctx: Context, ticket: Ticket | NewTicket) -> tuple[list[str], list[str]]:
    """Who automatic mail to the client goes to (DESIGN, "Outbound mail"): To the requester; Cc
    the ticket's other thread addresses (co-owners who were on Cc), never staff or our own, at
    most `MAX_CLIENT_CC` (addresses of catalog clients first, then in order).
    Returns ``([requester], [cc…])``, both empty when the ticket has no requester address."""
    if not ticket.requester_email:
        return [], []
    others = sorted(e for e in session.connection().scalars(_SELECT_PARTICIPANTS, {"tid": ticket.id})
                    if e != ticket.requester_email and e not in ctx.own_addresses)
    if others:
        conn = session.connection()
        staff = set(conn.scalars(_STAFF_EMAILS_AMONG, {"emails": others}))
        others = [e for e in others if e not in staff]
    if len(others) > MAX_CLIENT_CC:
        known = set(session.connection().scalars(_CLIENT_EMAILS_AMONG, {"emails": others}))
        others = sorted(sorted(others, key=lambda e: e not in known)[:MAX_CLIENT_CC])
    return [ticket.requester_email], others


def add_participants(session: Session, ticket: Ticket | NewTicket, emails, *, new_ticket: bool = False) -> None:
    """Remember addresses on the ticket's thread (they may comment by email)."""
    wanted = {e.lower() for e in emails if e}
    if not wanted:
        return
    conn = session.connection()
    known = set() if new_ticket else set(conn.scalars(_SELECT_PARTICIPANTS, {"tid": ticket.id}))
    new = sorted(wanted - known)
    if new:
        conn.execute(_INSERT_PARTICIPANT, [{"ticket_id": ticket.id, "email": e} for e in new])


def open_linked_ticket(session: Session, ticket: Ticket) -> Ticket | None:
    """The newest ticket opened as a follow-up of ``ticket`` (``linked_from``) that is not closed."""
    return session.scalar(
        select(Ticket).join(Status, Ticket.status_id == Status.id)
        .where(Ticket.linked_from_id == ticket.id, Status.closed.is_(False))
        .order_by(Ticket.id.desc()).limit(1))


def is_allowed_sender(session: Session, ticket: Ticket, email: str | None) -> bool:
    """May ``email`` comment on ``ticket`` by mail? Requester, holders, staff, thread addresses.

    Plain queries, cheapest first: this runs for every reply that is not from the requester.
    """
    if not email:
        return False
    email = email.lower()
    if ticket.requester_email and ticket.requester_email.lower() == email:
        return True
    conn = session.connection()
    if conn.execute(_STAFF_ID_BY_EMAIL, {"email": email}).first() is not None:
        return True
    client_ids = set(conn.scalars(_CLIENT_IDS_BY_EMAIL, {"email": email}))
    if client_ids and (ticket.requester_client_id in client_ids or ticket.holder_client_id in client_ids):
        return True
    if client_ids and ticket.contract_id is not None and client_ids & set(
            conn.scalars(_HOLDERS_OF_CONTRACT, {"cid": ticket.contract_id})):
        return True
    return email in set(conn.scalars(_SELECT_PARTICIPANTS, {"tid": ticket.id}))


# --- ticket life cycle ----------------------------------------------------------------------------


_INSERT_TICKET = insert(Ticket)


@dataclass(frozen=True)
class NewTicket:
    """A ticket `open_ticket_row` just wrote: id, code, what its first rows quote, and ``values``
    (every column value inserted, UTC datetimes)."""

    id: int
    code: str
    subject: str
    requester_email: str | None
    requester_name: str
    requested_at: datetime
    values: dict


def open_ticket(session: Session, ctx: Context, **fields) -> Ticket:
    """`open_ticket_row`, returning the ticket as an ORM object attached to the session.

    The object holds what was inserted without reading it back; its references and other
    columns load on first use. Raises what `open_ticket_row` raises.
    """
    new = open_ticket_row(session, ctx, **fields)
    ticket = Ticket(**new.values)
    make_transient_to_detached(ticket)
    session.add(ticket)
    return ticket


def open_ticket_row(session: Session, ctx: Context, *, subject: str, detail: str,
                requester_email: str | None, requester_name: str = "",
                requested_at: datetime | None = None, channel: str = "email",
                mailbox: str | None = None, defaults_: TicketDefaults | ResolvedDefaults | None = None,
                registered_by: User | None = None, files: list[NewFile] | None = None,
                participants: list[str] | None = None,
                acknowledge: bool = True, linked_from: Ticket | None = None,
                inbound_id: int | None = None) -> NewTicket:
    """Create a ticket with the next code and its first logbook entries; returns what was written.

    The requester is matched to a Client by email; when that client holds exactly one contract,
    its project, subdivision, unit, promoter, contract number and holder are filled in (the seed's
    "Buscar por"). The acknowledgement outbox row is written when ``acknowledge`` and there is a
    requester address. Dates are UTC; ``requested_at`` defaults to now. ``inbound_id``: the
    `InboundMessage` the ticket comes from; it opens the logbook (an "email in" entry linked to
    the raw original), else an "event" entry says who registered the ticket.
    A named default (type, category, area) that does not exist is logged and the first one is
    used instead, so a misconfigured mailbox still records its mail.
    Raises: ServiceError when the status or priority named in the defaults does not exist.

    The rows are written with Core INSERTs and no ORM object is made: this runs for every new
    mail ticket (`open_ticket` gives the ORM object).
    """
    if session.new:  # e.g. a user added by the caller: its id is needed below
        session.flush()
    ref = defaults_ if isinstance(defaults_, ResolvedDefaults) else resolve_defaults(
        session, defaults_ or TicketDefaults())
    now = utcnow()
    values = {
        "code": next_code(session, ctx.code_prefix), "requested_at": requested_at or now,
        "type_id": ref.type_id, "status_id": ref.status_id, "priority_id": ref.priority_id,
        "category_id": ref.category_id, "area_id": ref.area_id, "project_id": ref.project_id,
        "promoter_id": ref.promoter_id, "subject": (subject or "(sin asunto)")[:2000],
        "detail": detail or "", "requester_email": requester_email.lower() if requester_email else None,
        "requester_name": (requester_name or "")[:200], "channel": channel, "mailbox": mailbox,
        "registered_by_id": registered_by.id if registered_by else None,
        "created_at": now, "updated_at": now, "linked_from_id": linked_from.id if linked_from else None,
    }
    match_requester(session, values)
    values["id"] = session.connection().execute(_INSERT_TICKET, values).inserted_primary_key[0]
    ticket = NewTicket(values["id"], values["code"], values["subject"], values["requester_email"],
                       values["requester_name"], values["requested_at"], values)
    if inbound_id is not None:  # the mail it came from opens the logbook (its raw original linked)
        add_entry(session, ticket, EntryKind.EMAIL_IN,
                  f"Correo recibido: {ticket.subject}"
                  + (f" (reenviado por {registered_by.name})" if registered_by else ""),
                  author_email=ticket.requester_email, author_name=ticket.requester_name, public=True,
                  inbound_id=inbound_id, at=ticket.requested_at)
    else:
        add_entry(session, ticket, EntryKind.EVENT,
                  f"Atención registrada {CHANNEL_WORDS.get(channel, 'por ' + channel)}"
                  + (f" ({registered_by.name})" if registered_by else ""),
                  author_user_id=registered_by.id if registered_by else None, at=ticket.requested_at)
    if files:
        entry_id = add_entry(session, ticket, EntryKind.ATTACHMENT, files_note(files),
                             author_email=ticket.requester_email, author_name=ticket.requester_name,
                             at=ticket.requested_at)
        attach_files(session, ctx, ticket, entry_id, files)
    # the requester is always allowed; participants are the other addresses on the thread
    add_participants(session, ticket, [p for p in participants or [] if p != ticket.requester_email],
                     new_ticket=True)
    if acknowledge and ticket.requester_email:
        from tickets.sla import max_response_days

        to, cc = client_recipients(session, ctx, ticket)
        queue_mail(session, ctx, ticket, "acknowledgement", to, cc=cc, context={
            "code": ticket.code, "subject": ticket.subject, "requester_name": ticket.requester_name,
            "requested_at": ticket.requested_at.isoformat(),
            "max_days": max_response_days(ref.type_max_days, ref.type_priority_days, ref.priority_name),
            "day_rule": ref.type_day_rule})
    return ticket


@dataclass(frozen=True)
class ResolvedDefaults:
    """The ids (and the type's SLA settings) that new tickets with given defaults get."""

    type_id: int
    type_max_days: int
    type_priority_days: dict
    type_day_rule: str
    status_id: int
    priority_id: int
    priority_name: str
    category_id: int | None
    area_id: int | None
    project_id: int | None
    promoter_id: int | None


def resolve_defaults(session: Session, d: TicketDefaults) -> ResolvedDefaults:
    """Resolve a mailbox's default names to ids (and the type's SLA settings).

    A named type, category, area or project that does not exist is logged and the first one (no
    project) is used, so a misconfigured mailbox still records its mail.
    Raises: ServiceError when the status or priority does not exist.
    """
    from tickets.models import Project

    for model, name, label in ((TicketType, d.type, "type"), (Category, d.category, "category"),
                               (Area, d.area, "area"), (Project, d.project, "project")):
        if name and get_by_name(session, model, name) is None:
            log.warning("default %s %r does not exist; using the first one", label, name)
    ttype = get_by_name(session, TicketType, d.type) or get_by_name(session, TicketType, defaults.DEFAULT_TYPE) \
        or session.scalar(select(TicketType).order_by(TicketType.id))
    if ttype is None:
        raise ServiceError("no hay tipos de atención: ejecute 'atencion migrate'")
    status = require_by_name(session, Status, d.status, "estado")
    priority = require_by_name(session, Priority, d.priority, "prioridad", feminine=True)
    category = get_by_name(session, Category, d.category) or session.scalar(select(Category).order_by(Category.id))
    area = get_by_name(session, Area, d.area) or session.scalar(select(Area).order_by(Area.id))
    project = get_by_name(session, Project, d.project)
    return ResolvedDefaults(
        type_id=ttype.id, type_max_days=ttype.max_response_days, type_priority_days=dict(ttype.priority_days or {}),
        type_day_rule=ttype.day_rule, status_id=status.id, priority_id=priority.id, priority_name=priority.name,
        category_id=category.id if category else None, area_id=area.id if area else None,
        project_id=project.id if project else None, promoter_id=project.promoter_id if project else None)


def _requester_query():
    from tickets.models import Project, Subdivision, Unit

    return (select(ClientEmail.client_id, Client.name, Contract.id, Contract.number, Unit.id,
                   Subdivision.id, Project.id, Project.promoter_id)
            .select_from(ClientEmail).join(Client, Client.id == ClientEmail.client_id)
            .outerjoin(contract_holders, contract_holders.c.client_id == Client.id)
            .outerjoin(Contract, Contract.id == contract_holders.c.contract_id)
            .outerjoin(Unit, Contract.unit_id == Unit.id)
            .outerjoin(Subdivision, Unit.subdivision_id == Subdivision.id)
            .outerjoin(Project, Subdivision.project_id == Project.id)
            .where(ClientEmail.email == bindparam("email")))


#: One row per (client with this email, contract the client holds); contract columns NULL if none.
_CLIENTS_AND_CONTRACTS = _requester_query()


def match_requester(session: Session, values: dict) -> None:
    """The seed's "Buscar por": link the requester's Client (by email) and, when that client
    holds exactly one contract, fill contract, unit, subdivision, project, promoter and holder.

    ``values``: the new ticket's column values (``requester_email`` lower-cased), updated in place.
    Nothing is filled when the email belongs to several clients. One plain query (no ORM
    objects): this runs for every new mail ticket.
    """
    if not values.get("requester_email"):
        return
    rows = session.connection().execute(_CLIENTS_AND_CONTRACTS, {"email": values["requester_email"]}).all()
    if len({r[0] for r in rows}) != 1:
        return
    client_id, client_name = rows[0][0], rows[0][1]
    values["requester_client_id"] = client_id
    if not values.get("requester_name"):
        values["requester_name"] = client_name
    contracts = {r[2]: r for r in rows if r[2] is not None}
    if len(contracts) != 1:
        return
    _, _, contract_id, number, unit_id, subdivision_id, project_id, promoter_id = next(iter(contracts.values()))
    values.update(contract_id=contract_id, contract_number=number, holder_client_id=client_id)
    if unit_id is not None:
        values.update(unit_id=unit_id, subdivision_id=subdivision_id, project_id=project_id,
                      promoter_id=promoter_id)


def add_comment(session: Session, ctx: Context, ticket: Ticket, *, text: str,
                author_user: User | None = None, author_email: str | None = None,
                author_name: str | None = None, public: bool = False,
                inbound_id: int | None = None, files: list[NewFile] | None = None,
                reopen: bool = True,
                at: datetime | None = None, staff: bool | None = None) -> int:
    """Append a comment; a client's comment reopens an attended or closed ticket (to En proceso).

    ``at`` (UTC) is when it was written or received (default now). ``staff``: whether staff wrote
    it; by default, whether ``author_user`` is given. ``staff=True`` without a user is a comment by
    an operator who is no staff user (the CLI's ``comment`` without ``--by``): ``author_name``
    says who.

    A client's comment (not staff) is mailed to the assignee and watchers; a public staff comment
    is mailed to the requester. Returns the entry's id (written, not committed).
    """
    is_staff = author_user is not None if staff is None else staff
    entry_id = add_entry(
        session, ticket, EntryKind.COMMENT, text,
        author_user_id=author_user.id if author_user else None,
        author_client_id=ticket.requester_client_id if (not is_staff and author_email and
                                                        author_email == ticket.requester_email) else None,
        author_email=(author_user.email if author_user else author_email),
        author_name=(author_user.name if author_user else author_name),
        public=public or not is_staff, inbound_id=inbound_id, at=at or utcnow(),
    )
    if files:
        attach_files(session, ctx, ticket, entry_id, files)
    touch(session, ticket)
    event, recipients = None, []
    if not is_staff:
        status = status_flags(session, ticket.status_id)
        if reopen and (status.closed or status.attended):
            reopen_ticket(session, ticket, by_email=author_email)
        recipients = list(session.connection().scalars(_WATCHER_EMAILS, {"tid": ticket.id}))
        if ticket.assignee is not None:
            recipients.append(ticket.assignee.email)
        event = "client_comment"
    elif public and ticket.requester_email:
        recipients, cc = client_recipients(session, ctx, ticket)
        queue_mail(session, ctx, ticket, "public_reply", recipients, {"code": ticket.code, "entry_id": entry_id},
                   cc=cc, automatic=False)
    if event:
        if author_email:  # the client's own comment is not mailed back to them
            recipients = [r for r in recipients if r != author_email.lower()]
        queue_mail(session, ctx, ticket, event, recipients, {"code": ticket.code, "entry_id": entry_id})
    return entry_id


def touch(session: Session, ticket: Ticket) -> None:
    """Set ``updated_at`` to now (UTC) in the database and on the loaded object, without a flush."""
    now = utcnow()
    session.connection().execute(_TOUCH_TICKET, {"tid": ticket.id, "now": now})
    set_committed_value(ticket, "updated_at", now)


def reopen_ticket(session: Session, ticket: Ticket, *, by: User | None = None,
                  by_email: str | None = None) -> None:
    """Back to En proceso: clears attended_at and closed_at (DESIGN.md, "Domain")."""
    status = require_by_name(session, Status, defaults.REOPEN_STATUS, "estado")
    record_change(session, ticket, "status", ticket.status.name, status.name, by=by, by_email=by_email)
    if ticket.attended_at is not None:
        record_change(session, ticket, "attended_at", ticket.attended_at.isoformat(), None, by=by,
                      by_email=by_email)
    ticket.status = status
    ticket.attended_at = None
    ticket.closed_at = None


def set_status(session: Session, ctx: Context, ticket: Ticket, status_name: str, *,
               by: User | None = None, notify: bool = True) -> Ticket:
    """Change the status; sets attended_at the first time an `attended` status is reached.

    The requester (To) and the ticket's other client addresses (Cc) are mailed when the status
    has ``notify_requester`` and ``notify`` (False: the change came from the requester's own
    mail). Raises ServiceError for an unknown status name.
    """
    status = require_by_name(session, Status, status_name, "estado")
    if status.id == ticket.status_id:
        return ticket
    record_change(session, ticket, "status", ticket.status.name, status.name, by=by)
    ticket.status = status
    now = utcnow()
    if status.attended and ticket.attended_at is None:
        ticket.attended_at = now
        record_change(session, ticket, "attended_at", None, now.isoformat(), by=by)
    if status.closed:
        ticket.closed_at = now
    elif ticket.closed_at is not None:
        ticket.closed_at = None
    ticket.updated_at = now
    if status.notify_requester and ticket.requester_email and notify:
        to, cc = client_recipients(session, ctx, ticket)
        queue_mail(session, ctx, ticket, "status", to, {"code": ticket.code, "status": status.name}, cc=cc)
    session.flush()
    return ticket


def assign(session: Session, ctx: Context, ticket: Ticket, user: User, *, by: User | None = None) -> Ticket:
    """Assign to ``user`` (who becomes a watcher); Registrado moves to Asignado. The new assignee
    gets an "assignment" mail; the previous one (if any, and not the one who made the change) a
    short "reassigned" note, never "asignada a usted"."""
    if ticket.assignee_id == user.id:
        return ticket
    previous = ticket.assignee
    record_change(session, ticket, "assignee", ticket.assignee.email if ticket.assignee else None,
                  user.email, by=by)
    ticket.assignee = user
    if user not in ticket.watchers:
        ticket.watchers.append(user)
    if ticket.status.name == defaults.NEW_STATUS:
        assigned = get_by_name(session, Status, "Asignado")
        if assigned is not None:
            record_change(session, ticket, "status", ticket.status.name, assigned.name, by=by)
            ticket.status = assigned
    ticket.updated_at = utcnow()
    queue_mail(session, ctx, ticket, "assignment", [user.email], {"code": ticket.code})
    if previous is not None and previous.id != user.id and (by is None or by.id != previous.id):
        queue_mail(session, ctx, ticket, "reassigned", [previous.email],
                   {"code": ticket.code, "assignee_name": user.name})
    session.flush()
    return ticket
