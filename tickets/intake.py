"""Nueva Atención (DESIGN.md, "Web panel" and "The atencion command": ``create``), shared by the
panel's form and the CLI.

* `lookup`: the seed's "Buscar por" — a client's document number (DNI, CE, RUC) or a contract
  number gives the header to fill (requester name and emails, holder, project, torre, unit,
  promoter, contract number), the client's data ("Datos del cliente") and the holder's previous
  tickets ("Atenciones previas"). A client who holds several contracts gets them all in
  ``contracts`` and no ``header``: the caller chooses one (``contract=``).
* `create_ticket`: checks the names it is given (a `FieldError` per field, in Spanish) and opens
  the ticket through `tickets.services.open_ticket` (the acknowledgement goes to the outbox when
  there is a requester email), then writes the chosen header on it.

The services never commit; the caller owns the transaction and sends the queued mail after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tickets.models import (
    Area,
    Category,
    Client,
    Contract,
    Priority,
    Project,
    Subdivision,
    Ticket,
    TicketKind,
    TicketType,
    Unit,
    User,
)
from tickets.services import (
    Context,
    FieldError,
    TicketDefaults,
    assign,
    find_user_by_email,
    get_by_name,
    open_ticket,
)
from tickets.text import fold

__all__ = ["Header", "Lookup", "create_ticket", "lookup"]

PREVIOUS_LIMIT = 20
"""Previous tickets of the holder shown ("Atenciones previas")."""


@dataclass(frozen=True)
class Header:
    """The "pliego" a contract fills: names as the panel shows them, ids for the ticket."""

    contract_number: str
    contract_id: int
    project: str = ""
    subdivision: str = ""
    unit: str = ""
    promoter: str = ""
    holder: str = ""
    holder_client_id: int | None = None
    project_id: int | None = None
    subdivision_id: int | None = None
    unit_id: int | None = None
    promoter_id: int | None = None


@dataclass(frozen=True)
class Lookup:
    """What "Buscar por" found: the client (requester), its contracts, the chosen header, the
    client's data and the holder's previous tickets (newest first)."""

    client_id: int | None = None
    requester_name: str = ""
    emails: tuple[str, ...] = ()
    client: dict = field(default_factory=dict)
    contracts: tuple[Header, ...] = ()
    header: Header | None = None
    previous: tuple[dict, ...] = ()

    @property
    def requester_email(self) -> str | None:
        return self.emails[0] if self.emails else None


def _header(contract: Contract, client: Client | None) -> Header:
    unit = contract.unit
    sub = unit.subdivision if unit else None
    project = sub.project if sub else None
    promoter = project.promoter if project else None
    holder = client if client is not None and client in contract.holders else (
        contract.holders[0] if contract.holders else None)
    return Header(
        contract_number=contract.number, contract_id=contract.id,
        project=project.name if project else "", subdivision=sub.name if sub else "",
        unit=unit.number if unit else "", promoter=promoter.name if promoter else "",
        holder=holder.name if holder else "", holder_client_id=holder.id if holder else None,
        project_id=project.id if project else None, subdivision_id=sub.id if sub else None,
        unit_id=unit.id if unit else None, promoter_id=promoter.id if promoter else None)


def _client_data(client: Client) -> dict:
    return {"document": f"{client.document_type} {client.document_number}", "name": client.name,
            "emails": [e.email for e in client.emails], "phone": client.phone or ""}


def _previous(session: Session, client_ids: list[int]) -> tuple[dict, ...]:
    if not client_ids:
        return ()
    rows = session.scalars(
        select(Ticket).where(or_(Ticket.holder_client_id.in_(client_ids),
                                 Ticket.requester_client_id.in_(client_ids)))
        .order_by(Ticket.requested_at.desc(), Ticket.id.desc()).limit(PREVIOUS_LIMIT))
    return tuple({"code": t.code, "subject": t.subject, "status": t.status.name,
                  "requested_at": t.requested_at, "type": t.type.name} for t in rows)


def find_client(session: Session, document: str) -> Client | None:
    """The client with this document number (``45871236``, ``DNI 45871236``), or None."""
    text = " ".join(document.split())
    number = text.split(" ")[-1] if text else ""
    doc_type = text.split(" ")[0].upper() if " " in text else None
    stmt = select(Client).where(Client.document_number == number)
    if doc_type:
        stmt = stmt.where(Client.document_type == doc_type)
    return session.scalars(stmt.order_by(Client.id)).first()


def lookup(session: Session, *, document: str | None = None, contract: str | None = None) -> Lookup:
    """"Buscar por": by a client's ``document`` (and optionally the ``contract`` among theirs) or by
    a ``contract`` number alone (its first holder is the requester).

    Raises: FieldError (``document`` or ``contract``) when nothing matches, or the contract is not
    one of the client's.
    """
    document = (document or "").strip()
    contract = (contract or "").strip()
    client = None
    if document:
        client = find_client(session, document)
        if client is None:
            raise FieldError("document", f"no hay un cliente con el documento {document}.")
        held = list(session.scalars(select(Contract).where(Contract.holders.any(Client.id == client.id))
                                    .order_by(Contract.number)))
    if contract:
        found = session.scalar(select(Contract).where(Contract.number == contract))
        if found is None:
            found = next((c for c in session.scalars(select(Contract))
                          if fold(c.number) == fold(contract)), None)
        if found is None:
            raise FieldError("contract", f"no existe el contrato {contract}.")
        if client is not None and found not in held:
            raise FieldError("contract", f"el contrato {found.number} no es de {client.name} "
                                         f"(los suyos: {', '.join(c.number for c in held) or 'ninguno'}).")
        if client is None:
            client = found.holders[0] if found.holders else None
        held = [found]
    if client is None and not contract:
        return Lookup()
    headers = tuple(_header(c, client) for c in held)
    holder_ids = sorted({h.holder_client_id for h in headers if h.holder_client_id} | (
        {client.id} if client else set()))
    return Lookup(
        client_id=client.id if client else None, requester_name=client.name if client else "",
        emails=tuple(e.email for e in client.emails) if client else (),
        client=_client_data(client) if client else {}, contracts=headers,
        header=headers[0] if len(headers) == 1 else None, previous=_previous(session, holder_ids))


def _named(session: Session, model, name: str | None, field_: str, label: str):
    if not name:
        return None
    row = get_by_name(session, model, name)
    if row is None:
        valid = ", ".join(sorted(session.scalars(select(model.name)), key=fold))
        raise FieldError(field_, f"{label} '{name}' no existe (válidos: {valid}).")
    return row


def _place(session: Session, project: Project | None, subdivision: str | None,
           unit: str | None) -> tuple[Subdivision | None, Unit | None]:
    """The torre and unit named within ``project``. Raises FieldError."""
    sub = None
    if subdivision:
        if project is None:
            raise FieldError("subdivision", "elija primero el proyecto.")
        sub = next((s for s in project.subdivisions if fold(s.name) == fold(subdivision)), None)
        if sub is None:
            raise FieldError("subdivision", f"la torre/bloque '{subdivision}' no es de {project.name}.")
    if not unit:
        return sub, None
    if project is None:
        raise FieldError("unit", "elija primero el proyecto.")
    units = [u for s in ([sub] if sub else project.subdivisions) for u in s.units
             if fold(u.number) == fold(unit)]
    if not units and sub is not None:
        raise FieldError("unit", f"la unidad '{unit}' no es de {sub.name} ({project.name}).")
    if len(units) != 1:
        raise FieldError("unit", f"la unidad '{unit}' no existe en {project.name}." if not units else
                         f"hay varias unidades '{unit}' en {project.name}: indique la torre/bloque.")
    return units[0].subdivision, units[0]


def create_ticket(session: Session, ctx: Context, *, subject: str, detail: str,
                  requester_name: str = "", requester_email: str | None = None,
                  document: str | None = None, contract: str | None = None,
                  kind: str = TicketKind.ATENCION.value, type: str | None = None,
                  category: str | None = None, priority: str | None = None,
                  project: str | None = None, subdivision: str | None = None, unit: str | None = None,
                  area: str | None = None, assignee: str | None = None, channel: str = "web",
                  requested_at: datetime | None = None, registered_by: User | None = None,
                  acknowledge: bool = True) -> Ticket:
    """Nueva Atención: "Buscar por" ``document``/``contract`` (when given) fills the header and the
    requester; the other names override or complete it. ``requested_at`` UTC (default now).

    Raises: FieldError (field names as the arguments: ``subject``, ``requester_email``,
    ``document``, ``contract``, ``type``, ``project``, ``unit``…) with a Spanish message.
    """
    subject, detail = (subject or "").strip(), (detail or "").strip()
    if not subject:
        raise FieldError("subject", "escriba el asunto.")
    if not detail:
        raise FieldError("detail", "escriba el detalle.")
    if kind not in {k.value for k in TicketKind}:
        raise FieldError("kind", f"formulario '{kind}' no válido (atencion, reclamo o solicitud).")
    found = lookup(session, document=document, contract=contract) if (document or contract) else Lookup()
    if found.contracts and found.header is None:
        raise FieldError("contract", f"el cliente {found.requester_name} tiene varios contratos: "
                                     + ", ".join(h.contract_number for h in found.contracts)
                                     + "; elija uno.")
    email = (requester_email or "").strip().lower() or found.requester_email
    if not email and found.client_id is None:
        raise FieldError("requester_email", "indique el correo o el documento del solicitante.")
    ttype = _named(session, TicketType, type, "type", "el tipo de atención")
    cat = _named(session, Category, category, "category", "la categoría")
    prio = _named(session, Priority, priority, "priority", "la prioridad")
    proj = _named(session, Project, project, "project", "el proyecto")
    ar = _named(session, Area, area, "area", "el área")
    user = None
    if assignee:
        user = find_user_by_email(session, assignee)
        if user is None:
            raise FieldError("assignee", f"no existe el usuario activo {assignee}.")
    sub, un = _place(session, proj, subdivision, unit)
    defaults = TicketDefaults(type=ttype.name if ttype else None, category=cat.name if cat else None,
                              area=ar.name if ar else None, project=proj.name if proj else None,
                              **({"priority": prio.name} if prio else {}))
    ticket = open_ticket(session, ctx, subject=subject, detail=detail, requester_email=email,
                         requester_name=(requester_name or "").strip() or found.requester_name,
                         requested_at=requested_at, channel=channel, defaults_=defaults,
                         registered_by=registered_by, acknowledge=acknowledge)
    ticket.kind = kind
    if found.client_id is not None:
        ticket.requester_client_id = found.client_id
    h = found.header
    if h is not None and proj is not None and h.project_id not in (None, proj.id):
        raise FieldError("project", f"el contrato {h.contract_number} es del proyecto {h.project}.")
    if h is not None:
        ticket.contract_id, ticket.contract_number = h.contract_id, h.contract_number
        ticket.holder_client_id = h.holder_client_id
        ticket.project_id, ticket.subdivision_id = h.project_id, h.subdivision_id
        ticket.unit_id, ticket.promoter_id = h.unit_id, h.promoter_id
    if proj is not None and h is None and ticket.project_id not in (None, proj.id):
        # the requester's email matched a contract of another project: the staff's project wins
        ticket.contract_id = ticket.contract_number = ticket.holder_client_id = None
        ticket.subdivision_id = ticket.unit_id = None
    if proj is not None:
        ticket.project_id, ticket.promoter_id = proj.id, proj.promoter_id
    if sub is not None:
        ticket.subdivision_id = sub.id
    if un is not None:
        ticket.unit_id = un.id
    session.flush()
    if user is not None:
        assign(session, ctx, ticket, user, by=registered_by)
    return ticket
