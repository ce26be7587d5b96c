"""The seed's "Duplicar" and "Crear Requerimiento" ("Acciones de un requerimiento"), shared by the
panel's ticket view and the CLI (`atencion duplicate`, `atencion requirement`).

* `duplicate_ticket`: a new ticket with the original's data — its header (requester, holder,
  project, torre, unit, contract, promoter, mailbox) and its requirement (kind, subject, detail,
  type, category, priority, area, and the complaint's or request's own fields) — but not its
  logbook, files, status, assignee, legal adviser, answer (observation, descargo), sheet number or
  dates: it starts in the initial status (Registrado), requested now, registered by the staff
  user. ``duplicated_from_id`` names the original; each ticket's logbook gets an event naming the
  other ("Duplicada desde AT-…" / "Duplicada en AT-…") and the copy's history a change
  ``duplicated_from``. A duplicate is a ticket of its own: it does not join the original's pliego.
* `create_requirement`: a new ticket in the original's pliego (the seed: "crear un nuevo pliego
  del requerimiento actual con la opción de solo completar el nuevo requerimiento"): the header is
  the original's, the requirement part is new (DESIGN's required fields: Tipo de atención,
  Categoría, Prioridad, Fecha de solicitud, Asunto, Detalle).

How ``group_id`` works: it is the id of the pliego's head, the first ticket of the group, and
the head's own ``group_id`` is its own id, so that ``group_id = head`` selects the whole pliego,
head included. A ticket that was never in a pliego has ``group_id`` NULL; the first "Crear
Requerimiento" on it makes it the head (its ``group_id`` becomes its own id, a change written to
its history). A requirement created from any member joins the same head, never a pliego of its own.

Neither action mails the requester (DESIGN, "Outbound mail": Duplicar and Crear Requerimiento send
no acknowledgement); a requirement given an assignee sends the usual assignment mail to that user.
Like `tickets.services`, each function works in the caller's transaction and never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import defaults
from tickets.models import (
    Area,
    Category,
    EntryKind,
    Priority,
    Status,
    Ticket,
    TicketKind,
    TicketType,
    User,
    utcnow,
)
from tickets.services import (
    Context,
    FieldError,
    ResolvedDefaults,
    add_entry,
    assign,
    find_user_by_email,
    get_by_name,
    open_ticket,
    record_change,
    require_by_name,
    touch,
)
from tickets.text import fold, unknown_value

__all__ = ["HEADER_FIELDS", "REQUIREMENT_FIELDS", "create_requirement", "duplicate_ticket",
           "duplicates_of", "pliego_of"]

#: The pliego (the seed's "Pliego de requerimiento"): what a requirement shares with its group.
HEADER_FIELDS = ("requester_client_id", "requester_name", "requester_email", "holder_client_id",
                 "project_id", "subdivision_id", "unit_id", "promoter_id", "contract_id", "contract_number",
                 "mailbox")
#: The requirement part that "Duplicar" copies besides the header: what was asked, never the answer.
REQUIREMENT_FIELDS = ("kind", "subject", "detail", "type_id", "category_id", "priority_id", "area_id",
                      # reclamo/queja: the consumer's complaint as filed
                      "consumer_address", "consumer_phone", "consumer_guardian", "contracted_good",
                      "claimed_amount", "claimed_currency", "good_description", "claim_type", "claim_detail",
                      "consumer_request",
                      # solicitud
                      "request_type", "request_detail")

MAX_SUBJECT = 2000


def _defaults_for(session: Session, *, ttype: TicketType, priority: Priority, category: Category | None,
                  area: Area | None, original: Ticket) -> ResolvedDefaults:
    """The ids a new ticket opens with: the given classification, the initial status, the
    original's project and promoter."""
    status = require_by_name(session, Status, defaults.NEW_STATUS, "estado")
    return ResolvedDefaults(
        type_id=ttype.id, type_max_days=ttype.max_response_days, type_priority_days=dict(ttype.priority_days or {}),
        type_day_rule=ttype.day_rule, status_id=status.id, priority_id=priority.id, priority_name=priority.name,
        category_id=category.id if category else None, area_id=area.id if area else None,
        project_id=original.project_id, promoter_id=original.promoter_id)


def _open_copy(session: Session, ctx: Context, original: Ticket, *, subject: str, detail: str,
               ref: ResolvedDefaults, channel: str, by: User | None,
               requested_at: datetime | None = None) -> Ticket:
    """Open a ticket (no acknowledgement) and give it the original's header exactly (the
    requester's email must not re-match another contract)."""
    ticket = open_ticket(session, ctx, subject=subject, detail=detail, requester_email=original.requester_email,
                         requester_name=original.requester_name, requested_at=requested_at, channel=channel,
                         defaults_=ref, registered_by=by, acknowledge=False)
    for name in HEADER_FIELDS:
        setattr(ticket, name, getattr(original, name))
    return ticket


def _by(by: User | None) -> dict:
    return {"author_user_id": by.id if by else None, "author_email": by.email if by else None,
            "author_name": by.name if by else None}


def duplicate_ticket(session: Session, ctx: Context, original: Ticket, *, by: User | None = None,
                     channel: str = "web") -> Ticket:
    """"Duplicar" (the seed: "crear un nuevo requerimiento con los mismos datos de atención del
    requerimiento actual"): see the module docstring for what is copied and what is not.

    ``by``: the staff user (the copy's ``registered_by``, the author of the entries); ``channel``:
    how it was entered (``web`` from the panel, ``cli``). Returns the new ticket (flushed, not
    committed). Writes: the copy's registration event, its "Duplicada desde AT-…" event and its
    ``duplicated_from`` change; the original's "Duplicada en AT-…" event. No outbox row.
    Raises: ServiceError when the initial status does not exist (`atencion migrate` seeds it).
    """
    ref = _defaults_for(session, ttype=original.type, priority=original.priority, category=original.category,
                        area=original.area, original=original)
    ticket = _open_copy(session, ctx, original, subject=original.subject, detail=original.detail, ref=ref,
                        channel=channel, by=by)
    for name in REQUIREMENT_FIELDS:
        setattr(ticket, name, getattr(original, name))
    ticket.duplicated_from_id = original.id
    session.flush()
    add_entry(session, ticket, EntryKind.EVENT, f"Duplicada desde {original.code}", **_by(by))
    record_change(session, ticket, "duplicated_from", None, original.code, by=by)
    add_entry(session, original, EntryKind.EVENT, f"Duplicada en {ticket.code}", **_by(by))
    touch(session, original)
    return ticket


def _named(session: Session, model, value: str | None, field: str, noun: str, *, feminine: bool,
           required: str | None = None):
    """The catalog row named ``value`` (case and accents ignored); None when blank and not
    ``required`` (the message when it is). Raises FieldError(field, Spanish message)."""
    value = (value or "").strip()
    if not value:
        if required:
            raise FieldError(field, required)
        return None
    row = get_by_name(session, model, value)
    if row is None:
        valid = sorted(session.scalars(select(model.name)), key=fold)
        raise FieldError(field, unknown_value(noun, value, valid, feminine=feminine) + ".")
    return row


def create_requirement(session: Session, ctx: Context, original: Ticket, *, subject: str, detail: str,
                       type: str | None, category: str | None, priority: str | None = defaults.DEFAULT_PRIORITY,
                       area: str | None = None, kind: str = TicketKind.ATENCION.value,
                       assignee: str | None = None, requested_at: datetime | None = None,
                       by: User | None = None, channel: str = "web") -> Ticket:
    """"Crear Requerimiento": a new ticket in ``original``'s pliego with its header (see the module
    docstring for ``group_id``) and this requirement.

    Parameters: ``subject``, ``detail`` (required text); ``type``, ``category``, ``priority``
    (required catalog names, case and accents ignored; DESIGN's "Nueva Atención" required fields);
    ``area`` (optional name); ``kind`` (atencion, reclamo, solicitud); ``assignee`` (optional staff
    email: assigned as the "Asignado" action does, with its mail to that user); ``requested_at``
    (aware, UTC; default now; never later than now); ``by`` the staff user; ``channel`` web or cli.
    Returns the new ticket (flushed, not committed). Writes: its registration event, the event
    "Requerimiento del pliego de AT-…" and the change ``group`` on it; on the original the event
    "Nuevo requerimiento del pliego: AT-…", and when it becomes the head, its change ``group``.
    No outbox row for the requester.
    Raises: FieldError (``subject``, ``detail``, ``type``, ``category``, ``priority``, ``area``,
    ``kind``, ``assignee``, ``requested_at``) with a Spanish message, before anything is written.
    """
    subject, detail = (subject or "").strip(), (detail or "").strip()
    if not subject:
        raise FieldError("subject", "escriba el asunto.")
    if len(subject) > MAX_SUBJECT:
        raise FieldError("subject", f"a lo más {MAX_SUBJECT} caracteres.")
    if not detail:
        raise FieldError("detail", "escriba el detalle.")
    ttype = _named(session, TicketType, type, "type", "tipo de atención", feminine=False,
                   required="elija el tipo de atención.")
    cat = _named(session, Category, category, "category", "categoría", feminine=True,
                 required="elija la categoría.")
    prio = _named(session, Priority, priority, "priority", "prioridad", feminine=True,
                  required="elija la prioridad.")
    ar = _named(session, Area, area, "area", "área", feminine=True)
    if kind not in {k.value for k in TicketKind}:
        raise FieldError("kind", f"formulario '{kind}' no válido (atencion, reclamo o solicitud).")
    user = None
    if assignee and assignee.strip():
        user = find_user_by_email(session, assignee.strip())
        if user is None:
            raise FieldError("assignee", f"no existe el usuario activo {assignee.strip()}.")
    if requested_at is not None and requested_at > utcnow():
        raise FieldError("requested_at", "la fecha de solicitud no puede ser futura.")

    became_head = original.group_id is None
    if became_head:
        original.group_id = original.id
        record_change(session, original, "group", None, original.code, by=by)
    head = original if became_head else session.get(Ticket, original.group_id)
    ref = _defaults_for(session, ttype=ttype, priority=prio, category=cat, area=ar, original=original)
    ticket = _open_copy(session, ctx, original, subject=subject, detail=detail, ref=ref, channel=channel,
                        by=by, requested_at=requested_at)
    ticket.kind = kind
    ticket.group_id = head.id
    session.flush()
    add_entry(session, ticket, EntryKind.EVENT, f"Requerimiento del pliego de {head.code}", **_by(by))
    record_change(session, ticket, "group", None, head.code, by=by)
    add_entry(session, original, EntryKind.EVENT, f"Nuevo requerimiento del pliego: {ticket.code}", **_by(by))
    touch(session, original)
    if user is not None:
        assign(session, ctx, ticket, user, by=by)
    return ticket


def pliego_of(session: Session, ticket: Ticket, *, where=None) -> list[Ticket]:
    """The tickets of ``ticket``'s pliego, the head first then in creation order (``ticket``
    included); empty when it is in none. ``where``: an extra SQL criterion (the panel passes a
    legal user's scope, so that they never see a ticket outside it)."""
    if ticket.group_id is None:
        return []
    stmt = select(Ticket).where(Ticket.group_id == ticket.group_id).order_by(Ticket.id)
    if where is not None:
        stmt = stmt.where(where)
    return list(session.scalars(stmt))


def duplicates_of(session: Session, ticket: Ticket, *, where=None) -> list[Ticket]:
    """The tickets duplicated from ``ticket``, oldest first (``where`` as in `pliego_of`)."""
    stmt = select(Ticket).where(Ticket.duplicated_from_id == ticket.id).order_by(Ticket.id)
    if where is not None:
        stmt = stmt.where(where)
    return list(session.scalars(stmt))
