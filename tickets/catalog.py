"""`atencion catalog load FILE`: reference data from YAML, idempotent by natural keys.

Sections (all optional): promoters, areas, users, projects (with subdivisions and units), clients,
contracts, handovers, ticket_types, categories, statuses, priorities, closed_days — see
examples/catalog.yaml. Natural keys: names; (project, subdivision); (subdivision, unit number);
(document type, number) for clients; contract number; user email; (unit, contract) for handovers.
Loading the same file twice changes nothing.
"""

from __future__ import annotations

import mimetypes
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import storage
from tickets.models import (
    Area,
    Category,
    Client,
    ClientEmail,
    ClosedDay,
    Contract,
    Handover,
    Priority,
    Project,
    Promoter,
    Role,
    Status,
    Subdivision,
    TicketType,
    Unit,
    User,
)

UNIT_TYPES = {"departamento", "estacionamiento", "depósito", "deposito", "casa", "local", "oficina"}
DOCUMENT_TYPES = {"DNI", "CE", "RUC", "PASAPORTE"}
#: The largest signed handover record the catalog loads, in bytes.
MAX_RECORD_BYTES = 25 * 1024 * 1024


class CatalogError(ValueError):
    """The catalog is wrong; the message says where (section, entry, field) and why."""


@dataclass
class LoadReport:
    """What a load did: per section, how many rows were created and updated."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        keys = sorted(set(self.created) | set(self.updated))
        if not keys:
            return "sin cambios"
        return ", ".join(f"{k}: +{self.created[k]} ~{self.updated[k]}" for k in keys)


def _set(obj, report: LoadReport, section: str, created: bool, **values) -> None:
    changed = False
    for k, v in values.items():
        if getattr(obj, k) != v:
            setattr(obj, k, v)
            changed = True
    if created:
        report.created[section] += 1
    elif changed:
        report.updated[section] += 1


def _need(entry: dict, key: str, where: str):
    if key not in entry or entry[key] in (None, ""):
        raise CatalogError(f"{where}: falta el campo '{key}'")
    return entry[key]


def _get_or_new(session: Session, model, **key):
    row = session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key)
        session.add(row)
        return row, True
    return row, False


def _by_name(session: Session, model, name, where: str):
    row = session.scalar(select(model).where(model.name == name))
    if row is None:
        raise CatalogError(f"{where}: no existe {model.__tablename__[:-1]} '{name}'")
    return row


def describe_yaml_error(exc: yaml.YAMLError) -> str:
    """One line: the problem and where (line and column, 1-based) for a YAML syntax error."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"YAML no válido, línea {mark.line + 1}, columna {mark.column + 1}: {problem}"
    return f"YAML no válido: {problem}"


def parse_holder(ref: str, where: str) -> tuple[str, str]:
    """``"DNI 45871236"`` → ``("DNI", "45871236")``. Raises CatalogError."""
    parts = str(ref).split()
    if len(parts) != 2 or parts[0].upper() not in DOCUMENT_TYPES:
        raise CatalogError(f"{where}: titular '{ref}' debe ser 'TIPO NÚMERO' (DNI, CE, RUC, PASAPORTE)")
    return parts[0].upper(), parts[1]


def check_unit_type(value, where: str) -> str:
    """A unit type, lower-cased, one of `UNIT_TYPES`. Raises CatalogError."""
    utype = str(value or "departamento").strip().lower()
    if utype not in UNIT_TYPES:
        raise CatalogError(f"{where}: tipo de unidad '{utype}' no válido")
    return utype


def check_document_type(value, where: str) -> str:
    """A document type, upper-cased, one of `DOCUMENT_TYPES`. Raises CatalogError."""
    dtype = str(value or "").strip().upper()
    if dtype not in DOCUMENT_TYPES:
        raise CatalogError(f"{where}: tipo de documento '{dtype}' no válido (DNI, CE, RUC, PASAPORTE)")
    return dtype


def check_email(value, where: str) -> str:
    """A client address, trimmed and lower-cased; it must hold an ``@``. Raises CatalogError."""
    addr = str(value).strip().lower()
    if "@" not in addr:
        raise CatalogError(f"{where}: correo no válido '{addr}'")
    return addr


def check_day_rule(value, where: str) -> str:
    """``calendar`` or ``business`` (the SLA's day count). Raises CatalogError."""
    if value not in {"calendar", "business"}:
        raise CatalogError(f"{where}: day_rule '{value}' no válido (calendar, business)")
    return value


def check_max_days(value, where: str) -> int:
    """Maximum response days: an integer ≥ 0. Raises CatalogError."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise CatalogError(f"{where}: max_response_days debe ser un entero ≥ 0")
    return value


def parse_day(value, where: str) -> date:
    """A date (``AAAA-MM-DD`` text or a date). Raises CatalogError."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise CatalogError(f"{where}: fecha '{value}' no válida (AAAA-MM-DD)") from exc


def load_catalog(session: Session, path: Path, storage_dir: Path | None = None) -> LoadReport:
    """Load a YAML catalog into the database (in the caller's transaction).

    ``storage_dir``: the content store (``Settings.storage_dir``) where a handover's signed record
    (``record:``, a path relative to the catalog file) is kept; None: a record is refused.
    Raises: CatalogError naming the section, entry and field of the first problem.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise CatalogError(f"{path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: {describe_yaml_error(exc)}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: se esperaba un mapa de secciones")
    return load_catalog_data(session, data, base_dir=Path(path).parent, storage_dir=storage_dir)


def load_catalog_data(session: Session, data: dict, *, base_dir: Path | None = None,
                      storage_dir: Path | None = None) -> LoadReport:
    """Load an already parsed catalog mapping (``base_dir``: where handover records' relative paths
    start). See `load_catalog`."""
    r = LoadReport()
    for i, e in enumerate(data.get("promoters") or []):
        row, new = _get_or_new(session, Promoter, name=_need(e, "name", f"promoters[{i}]"))
        _set(row, r, "promoters", new, ruc=str(e["ruc"]) if e.get("ruc") else None,
             address=e.get("address") or None, logo=str(e["logo"]) if e.get("logo") else None)
    session.flush()
    new_areas = set()
    for i, e in enumerate(data.get("areas") or []):
        row, new = _get_or_new(session, Area, name=_need(e, "name", f"areas[{i}]"))
        _set(row, r, "areas", new)
        if new:
            new_areas.add(row.name)
    session.flush()
    for i, e in enumerate(data.get("users") or []):
        where = f"users[{i}]"
        email = str(_need(e, "email", where)).strip().lower()
        role = e.get("role", "agent")
        if role not in {x.value for x in Role}:
            raise CatalogError(f"{where}: rol '{role}' no válido (admin, agent, legal)")
        area = _by_name(session, Area, e["area"], where).id if e.get("area") else None
        row, new = _get_or_new(session, User, email=email)
        # `active` is the file's only when it says so: reloading the catalog never brings back a user
        # an admin deactivated in the panel (Administración › Usuarios) — they could log in again
        status = {"active": bool(e.get("active", True))} if new or "active" in e else {}
        _set(row, r, "users", new, name=_need(e, "name", where), role=role, area_id=area, **status)
    session.flush()
    for i, e in enumerate(data.get("areas") or []):
        if e.get("lead"):
            area = _by_name(session, Area, e["name"], f"areas[{i}]")
            lead = session.scalar(select(User).where(User.email == str(e["lead"]).lower()))
            if lead is None:
                raise CatalogError(f"areas[{i}]: el líder '{e['lead']}' no es un usuario")
            if area.lead_id != lead.id:
                area.lead_id = lead.id
                if area.name not in new_areas:
                    r.updated["areas"] += 1
    for i, e in enumerate(data.get("projects") or []):
        where = f"projects[{i}]"
        promoter = _by_name(session, Promoter, e["promoter"], where).id if e.get("promoter") else None
        project, new = _get_or_new(session, Project, name=_need(e, "name", where))
        _set(project, r, "projects", new, promoter_id=promoter, address=e.get("address"))
        session.flush()
        for j, s in enumerate(e.get("subdivisions") or []):
            w2 = f"{where}.subdivisions[{j}]"
            sub, new = _get_or_new(session, Subdivision, project_id=project.id, name=str(_need(s, "name", w2)))
            _set(sub, r, "subdivisions", new)
            session.flush()
            for k, u in enumerate(s.get("units") or []):
                w3 = f"{w2}.units[{k}]"
                utype = check_unit_type(u.get("type", "departamento"), w3)
                unit, new = _get_or_new(session, Unit, subdivision_id=sub.id, number=str(_need(u, "number", w3)))
                _set(unit, r, "units", new, unit_type=utype)
    session.flush()
    for i, e in enumerate(data.get("clients") or []):
        where = f"clients[{i}]"
        dtype = check_document_type(_need(e, "document_type", where), where)
        client, new = _get_or_new(session, Client, document_type=dtype,
                                  document_number=str(_need(e, "document_number", where)))
        _set(client, r, "clients", new, name=_need(e, "name", where),
             phone=str(e["phone"]) if e.get("phone") else None)
        have = {ce.email for ce in client.emails}
        for addr in e.get("emails") or []:
            addr = check_email(addr, where)
            if addr not in have:
                client.emails.append(ClientEmail(email=addr))
                have.add(addr)
                if not new:
                    r.updated["clients"] += 1
    session.flush()
    for i, e in enumerate(data.get("contracts") or []):
        where = f"contracts[{i}]"
        unit = _find_unit(session, e, where)
        holders = []
        for ref in e.get("holders") or []:
            dtype, num = parse_holder(ref, where)
            c = session.scalar(select(Client).filter_by(document_type=dtype, document_number=str(num)))
            if c is None:
                raise CatalogError(f"{where}: titular '{ref}' no está en clients")
            holders.append(c)
        extra = [_find_unit(session, {"project": e.get("project"), **x}, f"{where}.extra_units")
                 for x in e.get("extra_units") or []]
        contract, new = _get_or_new(session, Contract, number=str(_need(e, "number", where)))
        signed = e.get("date")
        if signed is not None:
            signed = parse_day(signed, where)
        _set(contract, r, "contracts", new, unit_id=unit.id if unit else None, signed_on=signed)
        if [h.id for h in contract.holders] != [h.id for h in holders]:
            contract.holders = holders
            if not new:
                r.updated["contracts"] += 1
        if sorted(u.id for u in contract.extra_units) != sorted(u.id for u in extra):
            contract.extra_units = extra
    session.flush()
    for i, e in enumerate(data.get("handovers") or []):
        _load_handover(session, r, e, f"handovers[{i}]", base_dir, storage_dir)
    session.flush()
    for i, e in enumerate(data.get("ticket_types") or []):
        where = f"ticket_types[{i}]"
        rule = check_day_rule(e.get("day_rule", "calendar"), where)
        days = check_max_days(e.get("max_response_days", 5), where)
        row, new = _get_or_new(session, TicketType, name=_need(e, "name", where))
        _set(row, r, "ticket_types", new, max_response_days=days, day_rule=rule,
             priority_days={str(k): int(v) for k, v in (e.get("priority_days") or {}).items()})
    for i, e in enumerate(data.get("categories") or []):
        row, new = _get_or_new(session, Category, name=_need(e, "name", f"categories[{i}]"))
        _set(row, r, "categories", new)
    for i, e in enumerate(data.get("statuses") or []):
        row, new = _get_or_new(session, Status, name=_need(e, "name", f"statuses[{i}]"))
        _set(row, r, "statuses", new, position=int(e.get("order", 0)), attended=bool(e.get("attended")),
             closed=bool(e.get("closed")), notify_requester=bool(e.get("notify_requester")))
    for i, e in enumerate(data.get("priorities") or []):
        row, new = _get_or_new(session, Priority, name=_need(e, "name", f"priorities[{i}]"))
        _set(row, r, "priorities", new, position=int(e.get("order", 0)))
    for i, d in enumerate(data.get("closed_days") or []):
        day = parse_day(d, f"closed_days[{i}]")
        if session.get(ClosedDay, day) is None:
            session.add(ClosedDay(day=day))
            r.created["closed_days"] += 1
    session.flush()
    return r


def _load_handover(session: Session, r: LoadReport, e: dict, where: str, base_dir: Path | None,
                   storage_dir: Path | None) -> None:
    """One ``handovers:`` entry: project, subdivision, unit, contract (optional: its number), date,
    observations, record (optional: the signed record's file, relative to the catalog). Keyed by
    (unit, contract); a record with other content replaces the previous one."""
    from tickets.related_files import Owner, add_file, remove_file

    unit = _find_unit(session, {**e, "unit": _need(e, "unit", where)}, where)
    contract = None
    if e.get("contract"):
        contract = session.scalar(select(Contract).where(Contract.number == str(e["contract"])))
        if contract is None:
            raise CatalogError(f"{where}: no existe el contrato '{e['contract']}'")
    day = _need(e, "date", where)
    if not isinstance(day, date):
        try:
            day = date.fromisoformat(str(day))
        except ValueError as exc:
            raise CatalogError(f"{where}: fecha '{day}' no válida (AAAA-MM-DD)") from exc
    handover, new = _get_or_new(session, Handover, unit_id=unit.id, contract_id=contract.id if contract else None)
    _set(handover, r, "handovers", new, handed_over_on=day, observations=e.get("observations") or None)
    session.flush()
    if not e.get("record"):
        return
    if storage_dir is None or base_dir is None:
        raise CatalogError(f"{where}: 'record' necesita el directorio de datos (atencion catalog load)")
    source = base_dir / str(e["record"])
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{where}: no se puede leer el acta '{e['record']}': {exc.strerror or exc}") from exc
    old = handover.record_file
    if old is not None and old.sha256 == storage.sha256_hex(data) and old.filename == source.name:
        return
    mime = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
    record = add_file(session, storage_dir, Owner("handover", handover.id), filename=source.name,
                      content_type=mime, data=data, max_bytes=MAX_RECORD_BYTES, description="Acta de entrega firmada")
    if old is not None:
        remove_file(session, old.id)
    handover.record_file_id = record.id
    if not new:
        r.updated["handovers"] += 1


def _find_unit(session: Session, e: dict, where: str) -> Unit | None:
    if not e.get("unit"):
        return None
    q = select(Unit).join(Subdivision).join(Project).where(Unit.number == str(e["unit"]))
    if e.get("subdivision"):
        q = q.where(Subdivision.name == str(e["subdivision"]))
    if e.get("project"):
        q = q.where(Project.name == e["project"])
    rows = list(session.scalars(q))
    if len(rows) != 1:
        raise CatalogError(f"{where}: unidad '{e.get('project')}/{e.get('subdivision')}/{e['unit']}' "
                           + ("no existe" if not rows else "es ambigua"))
    return rows[0]
