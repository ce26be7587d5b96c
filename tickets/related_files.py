"""Archivos Relacionados (DESIGN, "Domain"): files an admin attaches to a project, subdivision,
unit, contract (the sale) or handover (entrega), stored content-addressed as the ticket attachments
(`tickets.storage`), and which of them concern a unit or a ticket.

Who may upload or remove (admins) is the panel's check (`web_admin.related_files`); these
services check the owner, the size and the name. No commit: the caller owns the transaction.

Groups (`Group`), most general first: the project's files, the subdivision's, the unit's, each
contract's, each handover's (a handover is listed even without files: its date and observations
are the record). For a ticket (`for_ticket`): its unit's groups, else its subdivision's, else its
project's; plus its contract's (``contract_id``, else the contract named by ``contract_number``)
and that contract's handovers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tickets import storage
from tickets.filenames import sanitize_filename
from tickets.models import (
    RELATED_OWNERS,
    Contract,
    Handover,
    Project,
    RelatedFile,
    Subdivision,
    Ticket,
    Unit,
    User,
    contract_extra_units,
)
from tickets.text import fold

#: Models of the owner kinds (`tickets.models.RELATED_OWNERS`).
OWNER_MODELS = {"project": Project, "subdivision": Subdivision, "unit": Unit, "contract": Contract,
                "handover": Handover}

#: How a unit type is abbreviated in front of its number ("Dpto. 101").
UNIT_LABELS = {"departamento": "Dpto.", "estacionamiento": "Estac.", "depósito": "Depósito",
               "deposito": "Depósito", "casa": "Casa", "local": "Local", "oficina": "Oficina"}

MAX_DESCRIPTION_CHARS = 500


class RelatedFileError(ValueError):
    """A file or owner the services refuse; ``field`` names the form field, ``message`` is Spanish."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Owner:
    """What a file belongs to: ``kind`` one of `RELATED_OWNERS`, ``id`` that row's id."""

    kind: str
    id: int

    @classmethod
    def of(cls, row: RelatedFile) -> Owner:
        """The owner of ``row`` (the one ``*_id`` that is set)."""
        for kind in RELATED_OWNERS:
            if (value := getattr(row, f"{kind}_id")) is not None:
                return cls(kind, value)
        raise ValueError(f"related file {row.id} has no owner")


@dataclass
class Group:
    """The files of one owner, as the ticket view lists them: ``label`` ("Proyecto X", "Torre A",
    "Dpto. 101", "Contrato C-1", "Entrega 15/03/2025"), ``note`` (a handover's observations),
    ``record_id`` (the id of a handover's signed record among ``files``)."""

    owner: Owner
    label: str
    files: list[RelatedFile] = field(default_factory=list)
    note: str | None = None
    record_id: int | None = None


def human_size(n_bytes: int) -> str:
    """``"2.5 MB"``, ``"12.0 KB"``, ``"51 B"``: a size in bytes as people read it (binary units,
    1 KB = 1024 bytes, named as file managers and mail clients name them)."""
    if n_bytes < 1024:
        return f"{n_bytes} B"
    return f"{n_bytes / 1048576:.1f} MB" if n_bytes >= 1048576 else f"{n_bytes / 1024:.1f} KB"


def unit_label(unit: Unit) -> str:
    """``"Dpto. 101"``: the unit's type abbreviated, then its number."""
    return f"{UNIT_LABELS.get(unit.unit_type, unit.unit_type.capitalize())} {unit.number}"


def owner_label(row) -> str:
    """The Spanish label of an owner row (see `Group`)."""
    if isinstance(row, Project):
        return f"Proyecto {row.name}"
    if isinstance(row, Subdivision):
        return row.name
    if isinstance(row, Unit):
        return unit_label(row)
    if isinstance(row, Contract):
        return f"Contrato {row.number}"
    if isinstance(row, Handover):
        return f"Entrega {row.handed_over_on:%d/%m/%Y}"
    raise TypeError(f"not an owner: {row!r}")


def load_owner(session: Session, owner: Owner):
    """The row of ``owner``. Raises: RelatedFileError (field "owner") for an unknown kind or id."""
    model = OWNER_MODELS.get(owner.kind)
    row = session.get(model, owner.id) if model is not None else None
    if row is None:
        raise RelatedFileError("owner", "Elija a qué pertenece el archivo (proyecto, torre, unidad, "
                                        "contrato o entrega).")
    return row


def add_file(session: Session, storage_dir: Path, owner: Owner, *, filename: str | None, content_type: str | None,
             data: bytes, max_bytes: int, description: str = "", uploaded_by: User | None = None) -> RelatedFile:
    """Store ``data`` and attach it to ``owner``.

    Parameters: filename(str): as uploaded; sanitised here (last path component, no control
    characters, never empty: `tickets.filenames.sanitize_filename`). content_type(str):
    as declared ("type/subtype"; parameters dropped, lower-case; empty: octet-stream). max_bytes(int):
    the largest file accepted, in bytes (the panel passes ``max_message_kib`` × 1024, the
    attachments' limit). description(str): at most `MAX_DESCRIPTION_CHARS` characters.
    Returns: the RelatedFile, flushed (has an id). The bytes are written before the caller commits
    (an orphan left by a rollback is harmless: `tickets.storage`).
    Raises: RelatedFileError — field "owner" (unknown owner), "file" (empty or too large),
    "description" (too long).
    """
    load_owner(session, owner)
    if not data:
        raise RelatedFileError("file", "Elija un archivo (no puede estar vacío).")
    if len(data) > max_bytes:
        raise RelatedFileError("file", f"El archivo pesa {human_size(len(data))}; el máximo es "
                                       f"{human_size(max_bytes)}.")
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise RelatedFileError("description", f"Máximo {MAX_DESCRIPTION_CHARS} caracteres.")
    ctype = (content_type or "").split(";")[0].strip().lower() or "application/octet-stream"
    row = RelatedFile(sha256=storage.store_bytes(storage_dir, data), filename=sanitize_filename(filename, ctype),
                      content_type=ctype, size=len(data), description=description,
                      uploaded_by_id=uploaded_by.id if uploaded_by else None, **{f"{owner.kind}_id": owner.id})
    session.add(row)
    session.flush()
    return row


def remove_file(session: Session, file_id: int) -> RelatedFile:
    """Delete the related file ``file_id`` (a handover whose signed record it was keeps no record).
    The stored bytes stay: another row may name the same content. Returns the deleted row.
    Raises: RelatedFileError (field "file") when there is no such file."""
    row = session.get(RelatedFile, file_id)
    if row is None:
        raise RelatedFileError("file", "El archivo ya no existe.")
    for handover in session.scalars(select(Handover).where(Handover.record_file_id == row.id)):
        handover.record_file_id = None
    session.flush()
    session.delete(row)
    session.flush()
    return row


def files_of(session: Session, owner: Owner) -> list[RelatedFile]:
    """The files of one owner, oldest first."""
    column = getattr(RelatedFile, f"{owner.kind}_id")
    return list(session.scalars(select(RelatedFile).where(column == owner.id).order_by(RelatedFile.id)))


def contracts_of_unit(session: Session, unit: Unit) -> list[Contract]:
    """The contracts that sold ``unit``, as main unit or as an extra unit (parking, storage)."""
    extra = select(contract_extra_units.c.contract_id).where(contract_extra_units.c.unit_id == unit.id)
    return list(session.scalars(select(Contract).where(or_(Contract.unit_id == unit.id, Contract.id.in_(extra)))
                                .order_by(Contract.number)))


def for_place(session: Session, *, project: Project | None = None, subdivision: Subdivision | None = None,
              unit: Unit | None = None, contract: Contract | None = None) -> list[Group]:
    """The groups for a place: the most specific of ``unit``/``subdivision``/``project`` and the
    places above it, the unit's contracts and handovers, plus ``contract`` and its handovers.
    Owners without files are left out, except handovers. See the module docstring."""
    if unit is not None:
        subdivision = unit.subdivision
    if subdivision is not None:
        project = subdivision.project
    owners: list = [row for row in (project, subdivision, unit) if row is not None]
    contracts = contracts_of_unit(session, unit) if unit is not None else []
    if contract is not None and contract.id not in {c.id for c in contracts}:
        contracts.append(contract)
    owners += contracts
    handover_where = [Handover.unit_id == unit.id] if unit is not None else []
    if contracts:
        handover_where.append(Handover.contract_id.in_([c.id for c in contracts]))
    if handover_where:
        owners += session.scalars(select(Handover).where(or_(*handover_where))
                                  .order_by(Handover.handed_over_on, Handover.id)).all()
    groups = []
    for row in owners:
        kind = next(k for k, m in OWNER_MODELS.items() if isinstance(row, m))
        owner = Owner(kind, row.id)
        group = Group(owner, owner_label(row), files_of(session, owner))
        if isinstance(row, Handover):
            group.note, group.record_id = row.observations, row.record_file_id
        elif not group.files:
            continue
        groups.append(group)
    return groups


def for_unit(session: Session, unit: Unit) -> list[Group]:
    """The groups of files relevant to ``unit`` (see the module docstring)."""
    return for_place(session, unit=unit)


def contract_of_ticket(session: Session, ticket: Ticket) -> Contract | None:
    """The ticket's contract: ``contract_id``, else the contract whose number it wrote."""
    if ticket.contract is not None:
        return ticket.contract
    number = (ticket.contract_number or "").strip()
    return session.scalar(select(Contract).where(Contract.number == number)) if number else None


def for_ticket(session: Session, ticket: Ticket) -> list[Group]:
    """The groups of files relevant to ``ticket`` (see the module docstring)."""
    return for_place(session, project=ticket.project, subdivision=ticket.subdivision, unit=ticket.unit,
                     contract=contract_of_ticket(session, ticket))


def resolve_place(session: Session, *, project: str | None, subdivision: str | None = None,
                  unit: str | None = None, contract: str | None = None) -> dict:
    """The rows a Nueva atención form names (project and subdivision names, unit number, contract
    number, as typed): ``{"project", "subdivision", "unit", "contract"}``, each a row or None —
    an unknown name stops there (a unit is looked up only in a known subdivision, or in the project
    when the number is unique in it). Arguments for `for_place`."""
    found: dict = {"project": None, "subdivision": None, "unit": None, "contract": None}
    number = (contract or "").strip()
    if number:
        found["contract"] = session.scalar(select(Contract).where(Contract.number == number))
    name = (project or "").strip()
    if not name or (p := session.scalar(select(Project).where(Project.name == name))) is None:
        return found
    found["project"] = p
    sub_name, unit_number = (subdivision or "").strip(), (unit or "").strip()
    if sub_name:
        found["subdivision"] = session.scalar(select(Subdivision).where(Subdivision.project_id == p.id,
                                                                        Subdivision.name == sub_name))
        if found["subdivision"] is None:
            return found
    if unit_number:  # as `tickets.intake` reads it: case and accents ignored ("c-01" is C-01)
        q = select(Unit).join(Subdivision).where(Subdivision.project_id == p.id)
        if found["subdivision"] is not None:
            q = q.where(Unit.subdivision_id == found["subdivision"].id)
        units = [u for u in session.scalars(q) if fold(u.number) == fold(unit_number)]
        if len(units) == 1:
            found["unit"] = units[0]
    return found
