"""SQLAlchemy 2 typed models of the domain (DESIGN.md, "Domain").

All timestamps are stored as UTC (``DateTime(timezone=True)``; SQLite keeps them naive and the
``UTCDateTime`` type re-attaches UTC on the way out). Local dates (the SLA's "today") are computed
from them in the configured zone, never stored.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from tickets.search_text import entry_default, install_search_text, ticket_default
from tickets.text import nfc


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite drops the zone; we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict: JSON}


class Role(enum.StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    LEGAL = "legal"


class TicketKind(enum.StrEnum):
    """Which form applies (the seed's Atención, Reclamo/Queja, Solicitud)."""

    ATENCION = "atencion"
    RECLAMO = "reclamo"
    SOLICITUD = "solicitud"


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEB = "web"
    PHONE = "phone"


class Outcome(enum.StrEnum):
    """The one recorded outcome of every inbound message (DESIGN.md, "Inbound mail")."""

    TICKET = "ticket"
    COMMENT = "comment"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    HELD = "held"


class EntryKind(enum.StrEnum):
    """Logbook entry kinds, as `show --json` prints them."""

    COMMENT = "comment"
    EMAIL_IN = "email_in"
    EMAIL_OUT = "email_out"
    ATTACHMENT = "attachment"
    CHANGE = "change"
    FOLLOW_UP = "follow_up"
    EVENT = "event"
    NOTE = "note"


# --- reference data ---------------------------------------------------------------------------


class Promoter(Base):
    """The developer or sales promoter of a project; when a ticket has one, it is the company that
    signs the ticket's documents (``address`` and ``logo``, a path to an image file, in its
    letterhead: `tickets.documents.signing_company`)."""

    __tablename__ = "promoters"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    ruc: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(300))
    logo: Mapped[str | None] = mapped_column(String(500))


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    promoter_id: Mapped[int | None] = mapped_column(ForeignKey("promoters.id"))
    address: Mapped[str | None] = mapped_column(String(300))
    promoter: Mapped[Promoter | None] = relationship()
    subdivisions: Mapped[list[Subdivision]] = relationship(back_populates="project")


class Subdivision(Base):
    """A tower or block (Torre/Bloque) of a project."""

    __tablename__ = "subdivisions"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(100))
    project: Mapped[Project] = relationship(back_populates="subdivisions")
    units: Mapped[list[Unit]] = relationship(back_populates="subdivision")


class Unit(Base):
    """A unit (Dpto./Unidad) with its type: departamento, estacionamiento, depósito, casa, local."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("subdivision_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subdivision_id: Mapped[int] = mapped_column(ForeignKey("subdivisions.id"))
    number: Mapped[str] = mapped_column(String(50))
    unit_type: Mapped[str] = mapped_column(String(50), default="departamento")
    subdivision: Mapped[Subdivision] = relationship(back_populates="units")


class Client(Base):
    """An owner or buyer: document type + number (DNI, CE, RUC, PASAPORTE), name, emails, phone."""

    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("document_type", "document_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[str] = mapped_column(String(20))
    document_number: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    emails: Mapped[list[ClientEmail]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="ClientEmail.id"
    )

    @validates("name")
    def _composed(self, _key, value):
        return nfc(value)


class ClientEmail(Base):
    __tablename__ = "client_emails"
    __table_args__ = (UniqueConstraint("client_id", "email"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    email: Mapped[str] = mapped_column(String(320), index=True)  # lower-case
    client: Mapped[Client] = relationship(back_populates="emails")


contract_holders = Table(
    "contract_holders",
    Base.metadata,
    Column("contract_id", ForeignKey("contracts.id"), primary_key=True),
    Column("client_id", ForeignKey("clients.id"), primary_key=True),
)

contract_extra_units = Table(
    "contract_extra_units",
    Base.metadata,
    Column("contract_id", ForeignKey("contracts.id"), primary_key=True),
    Column("unit_id", ForeignKey("units.id"), primary_key=True),
)


class Contract(Base):
    """A sale (N° de contrato): the main unit, extra units (parking, storage), holders (titulares)."""

    __tablename__ = "contracts"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(50), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    signed_on: Mapped[date | None] = mapped_column(Date)
    unit: Mapped[Unit | None] = relationship()
    holders: Mapped[list[Client]] = relationship(secondary=contract_holders, order_by=Client.id)
    extra_units: Mapped[list[Unit]] = relationship(secondary=contract_extra_units)


class Area(Base):
    __tablename__ = "areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))
    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])


class User(Base):
    """A staff user: admin, agent or legal adviser."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower-case
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=Role.AGENT.value)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    area: Mapped[Area | None] = relationship(foreign_keys=[area_id])


class TicketType(Base):
    """Tipo de atención: max response days, per-priority overrides and the day-count rule."""

    __tablename__ = "ticket_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    max_response_days: Mapped[int] = mapped_column(Integer, default=5)
    priority_days: Mapped[dict] = mapped_column(JSON, default=dict)  # {"Urgente": 1}
    day_rule: Mapped[str] = mapped_column(String(20), default="calendar")  # calendar | business


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Status(Base):
    """Estado, with the flags that drive the SLA (attended), closing and requester mail."""

    __tablename__ = "statuses"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_requester: Mapped[bool] = mapped_column(Boolean, default=False)


class Priority(Base):
    __tablename__ = "priorities"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ClosedDay(Base):
    """An admin-defined non-working day for business-day SLAs (local date)."""

    __tablename__ = "closed_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    note: Mapped[str | None] = mapped_column(String(200))


class Counter(Base):
    """Named counters (ticket codes): incremented in the writer's own transaction."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# --- tickets ------------------------------------------------------------------------------------

ticket_watchers = Table(
    "ticket_watchers",
    Base.metadata,
    Column("ticket_id", ForeignKey("tickets.id"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)


class Ticket(Base):
    """Atención: one requirement or complaint, with the seed's pliego and form fields."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=TicketKind.ATENCION.value)
    requested_at: Mapped[datetime] = mapped_column(index=True)
    attended_at: Mapped[datetime | None]
    type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id"), index=True)
    priority_id: Mapped[int] = mapped_column(ForeignKey("priorities.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    subdivision_id: Mapped[int | None] = mapped_column(ForeignKey("subdivisions.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    promoter_id: Mapped[int | None] = mapped_column(ForeignKey("promoters.id"))
    requester_client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    requester_email: Mapped[str | None] = mapped_column(String(320), index=True)
    holder_client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    contract_number: Mapped[str | None] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    observation: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20), default=Channel.EMAIL.value)
    mailbox: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)  # tickets.copies
    duplicated_from_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    linked_from_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # Reclamo/queja (Libro de Reclamaciones)
    consumer_address: Mapped[str | None] = mapped_column(String(300))
    consumer_phone: Mapped[str | None] = mapped_column(String(50))
    consumer_guardian: Mapped[str | None] = mapped_column(String(200))
    contracted_good: Mapped[str | None] = mapped_column(String(20))  # producto | servicio
    claimed_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    claimed_currency: Mapped[str | None] = mapped_column(String(3))
    good_description: Mapped[str | None] = mapped_column(Text)
    claim_type: Mapped[str | None] = mapped_column(String(20))  # reclamo | queja
    claim_detail: Mapped[str | None] = mapped_column(Text)
    consumer_request: Mapped[str | None] = mapped_column(Text)
    legal_adviser_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    discharge: Mapped[str | None] = mapped_column(Text)
    discharge_at: Mapped[datetime | None]
    sheet_number: Mapped[str | None] = mapped_column(String(50))
    # Solicitud
    request_type: Mapped[str | None] = mapped_column(String(100))
    request_detail: Mapped[str | None] = mapped_column(Text)
    # what the list's free text searches, folded (tickets.search_text; kept by defaults and events)
    search_text: Mapped[str] = mapped_column(Text, default=ticket_default, server_default="")
    # its client comments folded, for the list's comment filter (tickets.search_text; appended when written)
    client_comments_fold: Mapped[str] = mapped_column(Text, default="", server_default="")

    type: Mapped[TicketType] = relationship()
    category: Mapped[Category | None] = relationship()
    status: Mapped[Status] = relationship()
    priority: Mapped[Priority] = relationship()
    project: Mapped[Project | None] = relationship()
    subdivision: Mapped[Subdivision | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    promoter: Mapped[Promoter | None] = relationship()
    requester_client: Mapped[Client | None] = relationship(foreign_keys=[requester_client_id])
    holder: Mapped[Client | None] = relationship(foreign_keys=[holder_client_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    area: Mapped[Area | None] = relationship()
    contract: Mapped[Contract | None] = relationship()
    registered_by: Mapped[User | None] = relationship(foreign_keys=[registered_by_id])
    legal_adviser: Mapped[User | None] = relationship(foreign_keys=[legal_adviser_id])
    watchers: Mapped[list[User]] = relationship(secondary=ticket_watchers)
    entries: Mapped[list[LogbookEntry]] = relationship(
        back_populates="ticket", order_by="(LogbookEntry.at, LogbookEntry.id)"
    )

    @validates("subject", "detail", "requester_name")
    def _composed(self, _key, value):
        return nfc(value)


class TicketParticipant(Base):
    """An address on the ticket's thread (To/Cc of its mail): allowed to comment by email."""

    __tablename__ = "ticket_participants"
    __table_args__ = (UniqueConstraint("ticket_id", "email"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    ticket: Mapped[Ticket] = relationship()


class LogbookEntry(Base):
    """Bitácora entry: comment, inbound/outbound email, attachment, field change, note…"""

    __tablename__ = "logbook_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    author_email: Mapped[str | None] = mapped_column(String(320))
    author_name: Mapped[str | None] = mapped_column(String(200))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    field: Mapped[str | None] = mapped_column(String(50))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    # a comment's text folded, for the list's comment filter (tickets.search_text); NULL otherwise
    text_fold: Mapped[str | None] = mapped_column(Text, default=entry_default)
    ticket: Mapped[Ticket] = relationship(back_populates="entries")

    @validates("text")
    def _composed(self, _key, value):
        return nfc(value)
    inbound: Mapped[InboundMessage | None] = relationship()
    author_user: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="entry", order_by="Attachment.id"
    )


class Attachment(Base):
    """A file on a ticket, stored content-addressed (sha256) under the data directory.

    ``inline``: an image the mail's HTML body shows by ``cid:`` (RFC 2392; ``content_id`` without
    <>) — kept to show the body, not listed among the ticket's files.
    """

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("logbook_entries.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    inline: Mapped[bool] = mapped_column(default=False, server_default=false())
    content_id: Mapped[str | None] = mapped_column(String(998))
    ticket: Mapped[Ticket] = relationship()
    entry: Mapped[LogbookEntry | None] = relationship(back_populates="attachments")


# --- mail ---------------------------------------------------------------------------------------


class MailboxState(Base):
    """Per mailbox: the UID checkpoint, health and the poller lock (lease)."""

    __tablename__ = "mailbox_states"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_poll_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    lock_owner: Mapped[str | None] = mapped_column(String(200))
    lock_until: Mapped[datetime | None]


class InboundMessage(Base):
    """Every message that came in, with its one outcome, and its raw bytes.

    ``raw``: the message as received, kept in the same transaction as the record (deferred: the
    ORM reads it only when asked). NULL for a message over the size limit, whose bytes are in the
    content store under ``raw_sha256`` instead (`mail.inbound.ingest.raw_of` reads either).
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_inbound_messages_source"),
        Index("ix_inbound_messages_message_id", "message_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(100))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    source_ref: Mapped[str | None] = mapped_column(Text)  # file path for imports
    message_id: Mapped[str | None] = mapped_column(String(998))
    body_digest: Mapped[str | None] = mapped_column(String(64))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    raw_size: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    from_addr: Mapped[str | None] = mapped_column(String(320))
    from_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str | None] = mapped_column(String(100))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    text: Mapped[str | None] = mapped_column(Text)  # extracted new text (comments, tickets)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticket: Mapped[Ticket | None] = relationship()


class HeldMessage(Base):
    """A message held for review ("Correos retenidos"), with its raw bytes."""

    __tablename__ = "held_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    reason: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)
    from_addr: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    text: Mapped[str | None] = mapped_column(Text)
    # None when too large to keep in the database: then it is in the content store
    # (the inbound record's raw_sha256)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))  # the ticket it names
    state: Mapped[str] = mapped_column(String(20), default="held")  # held | released | discarded
    resolved_at: Mapped[datetime | None]
    inbound: Mapped[InboundMessage | None] = relationship()


class OutboxMessage(Base):
    """One copy of an email to send: one row per envelope recipient (DESIGN, "Outbound mail").

    Written in the same transaction as the change that caused it. The copies of one mail to its
    To and Cc share ``message_id``, ``to_addrs``/``cc_addrs`` (the headers) and ``context``; each
    is claimed, sent, retried, failed or bounced on its own. ``state``: pending → sending (claimed
    by a worker until ``lease_until``, UTC) → sent | failed (permanent, ``last_error`` holds the
    server's answer) | bounced (a delivery report named it later). ``next_attempt_at`` (UTC, None:
    now) is when a retried row may go again. ``automatic``: mail the system sends on its own
    (``Auto-Submitted: auto-generated``, rate-limited per recipient).
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    event: Mapped[str] = mapped_column(String(50))  # acknowledgement, assignment, status, …
    recipient: Mapped[str] = mapped_column(String(320), index=True)  # envelope recipient, lower-case
    to_addrs: Mapped[list] = mapped_column(JSON, default=list)  # the To header
    cc_addrs: Mapped[list] = mapped_column(JSON, default=list)  # the Cc header
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    bounced_at: Mapped[datetime | None]
    ticket: Mapped[Ticket | None] = relationship()


class BouncedAddress(Base):
    """An address a delivery report said cannot receive mail: no mail goes to it until staff
    clear the flag (DESIGN, "Outbound mail"). ``email`` lower-case; ``diagnostic`` the report's
    status and text; ``outbox_id`` the copy that bounced."""

    __tablename__ = "bounced_addresses"
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow)
    diagnostic: Mapped[str | None] = mapped_column(Text)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class DigestRecord(Base):
    """A daily overdue digest written for one recipient on one local date (the configured zone):
    at most one per recipient per day, even with several schedulers."""

    __tablename__ = "digest_records"
    __table_args__ = (UniqueConstraint("recipient", "local_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    local_date: Mapped[date] = mapped_column(Date)
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- related files (Archivos Relacionados) --------------------------------------------------------


class Handover(Base):
    """Entrega: a unit handed over to its buyer (DESIGN, "Domain"), loaded with the catalog.

    Natural key: (unit, contract) — ``contract`` may be None (a unit handed over without a sale
    on record). ``handed_over_on``: the local date of the handover; ``observations``: what the
    signed record notes; ``record_file``: the signed record (acta), a `RelatedFile` owned by this
    handover (None until the catalog loads one: `tickets.catalog`, ``record:``).
    """

    __tablename__ = "handovers"
    __table_args__ = (UniqueConstraint("unit_id", "contract_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    handed_over_on: Mapped[date] = mapped_column(Date)
    observations: Mapped[str | None] = mapped_column(Text)
    record_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("related_files.id", use_alter=True, ondelete="SET NULL"))
    unit: Mapped[Unit] = relationship()
    contract: Mapped[Contract | None] = relationship()
    record_file: Mapped[RelatedFile | None] = relationship(foreign_keys=[record_file_id], post_update=True)


#: The owner columns of `RelatedFile`, most general first; exactly one is set.
RELATED_OWNERS = ("project", "subdivision", "unit", "contract", "handover")

_ONE_OWNER = " + ".join(f"(CASE WHEN {k}_id IS NULL THEN 0 ELSE 1 END)" for k in RELATED_OWNERS) + " = 1"


class RelatedFile(Base):
    """Archivo relacionado: a file an admin attached to a project, subdivision, unit, contract or
    handover (exactly one of the five ``*_id``: a CHECK says so), stored content-addressed
    (``sha256``, `tickets.storage`) as the ticket attachments. ``filename`` sanitised, ``content_type``
    lower-case "type/subtype", ``size`` in bytes, ``uploaded_at`` UTC."""

    __tablename__ = "related_files"
    __table_args__ = (CheckConstraint(_ONE_OWNER, name="one_owner"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    subdivision_id: Mapped[int | None] = mapped_column(ForeignKey("subdivisions.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(500), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    project: Mapped[Project | None] = relationship()
    subdivision: Mapped[Subdivision | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    contract: Mapped[Contract | None] = relationship()
    handover: Mapped[Handover | None] = relationship(foreign_keys=[handover_id])
    uploaded_by: Mapped[User | None] = relationship()

    @validates("description", "filename")
    def _composed(self, _key, value):
        return nfc(value)
# --- events (Generar nuevo evento) ----------------------------------------------------------------


class EventKind(enum.StrEnum):
    """A visit to the unit with the requester, or a reminder of staff's own."""

    VISIT = "visit"
    REMINDER = "reminder"


class PartStat(enum.StrEnum):
    """An attendee's answer (RFC 5545 §3.2.12 PARTSTAT, the values a VEVENT's attendee may have)."""

    NEEDS_ACTION = "NEEDS-ACTION"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    TENTATIVE = "TENTATIVE"


class Event(Base):
    """Evento (DESIGN, "Domain"): a meeting on a ticket whose invitation is an iCalendar mail.

    ``starts_at``/``ends_at`` UTC (shown in the configured zone). ``uid``: the iCalendar UID,
    ``<uuid>@<our domain>``, never changed; ``sequence``: RFC 5545 SEQUENCE, raised by every
    update and by the cancel; ``status``: confirmed | cancelled. ``organizer``: the staff user who
    scheduled it (the iCalendar ORGANIZER is our mailbox, so answers come back to it).
    ``reminded_at``: when its reminder was queued (None: not yet; reset when the start moves).
    """

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=EventKind.VISIT.value)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(300), default="")
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="confirmed")
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ticket: Mapped[Ticket] = relationship()
    organizer: Mapped[User | None] = relationship()
    attendees: Mapped[list[EventAttendee]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventAttendee.id")

    @validates("title", "location")
    def _composed(self, _key, value):
        return nfc(value)


class EventAttendee(Base):
    """One attendee of an event: ``email`` lower-case, ``name`` as shown, ``partstat`` their
    answer (`PartStat`) and ``replied_at`` (UTC) when it came."""

    __tablename__ = "event_attendees"
    __table_args__ = (UniqueConstraint("event_id", "email"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    partstat: Mapped[str] = mapped_column(String(20), default=PartStat.NEEDS_ACTION.value)
    replied_at: Mapped[datetime | None]
    event: Mapped[Event] = relationship(back_populates="attendees")
class FollowUp(Base):
    """A follow-up (Seguimiento) of a ticket: what its owner must do by a local calendar date.

    ``due_date`` is a date in the configured zone (no time); overdue means not done and
    ``due_date`` before today there (`tickets.follow_ups`). ``reminded_at`` (UTC) is set in the
    transaction that queues the owner's one reminder mail, so it is sent once.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_open_due", "done", "due_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminded_at: Mapped[datetime | None]
    ticket: Mapped[Ticket] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @validates("note")
    def _composed(self, _key, value):
        return nfc(value)


install_search_text(Ticket, LogbookEntry)
