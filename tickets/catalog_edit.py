"""Create, edit and delete one catalog row from the panel (issue 10, item 7), validated like the
YAML loader: the same natural keys and the same checks (`tickets.catalog`'s ``check_*`` and
``parse_*`` functions), plus the refusals a form can meet and a file cannot: a delete while the row
is in use («No se puede eliminar el estado «Asignado»: lo usan 12 atenciones»; a priority named in
a type's days per priority counts too), a protected name (the default status or priority), the
last closed status, the last ticket type.

Like every service, it works in the caller's transaction and never commits. Each change is logged
(logger ``tickets.catalog_edit``, at INFO: the catalog, the row and who changed it).
Errors: `CatalogFormError` (``errors``: form field → Spanish message) for bad values;
`tickets.services.ServiceError` for a refused delete.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tickets.catalog import CatalogError, check_email, parse_day, parse_holder
from tickets.catalog_specs import KINDS, Field, Kind, label_of
from tickets.models import Client, ClientEmail, ClosedDay, Priority, Status, TicketType, User
from tickets.services import ServiceError, get_by_name
from tickets.text import as_id, fold

log = logging.getLogger(__name__)

_SPLIT = re.compile(r"[,;\s]+")


class CatalogFormError(ServiceError):
    """Some fields are wrong. ``errors``: field name → Spanish message (one per field)."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def get_kind(slug: str) -> Kind:
    """The catalog for a URL slug. Raises KeyError."""
    return KINDS[slug]


def get_row(session: Session, kind: Kind, key: str):
    """The row whose key (an id; a date ``AAAA-MM-DD`` for closed days) is ``key``, or None."""
    if kind.model is ClosedDay:
        try:
            return session.get(ClosedDay, parse_day(key, ""))
        except CatalogError:
            return None
    row_id = as_id(key)
    return session.get(kind.model, row_id) if row_id is not None else None


def row_key(row) -> str:
    """The URL key of a row (see `get_row`)."""
    return row.day.isoformat() if isinstance(row, ClosedDay) else str(row.id)


def _message(exc: CatalogError) -> str:
    text = str(exc).partition(": ")[2] or str(exc)
    return text[0].upper() + text[1:]


def _parse(session: Session, f: Field, raw: str | None, current):
    """One form value → the model's value. Raises ValueError with the Spanish message."""
    text = (raw or "").strip()
    if f.kind == "bool":
        return raw is not None and raw not in ("", "0", "off")
    if not text:
        if f.required:
            raise ValueError(f"Complete «{f.label}».")
        return [] if f.kind in ("emails", "holders") else {} if f.kind == "priority_days" else None
    if f.kind in ("text", "choice") and len(text) > f.max_chars:
        raise ValueError(f"Máximo {f.max_chars} caracteres.")
    if f.kind == "int":
        if not re.fullmatch(r"\d{1,6}", text):
            raise ValueError("Escriba un número entero mayor o igual a 0.")
        value = int(text)
    elif f.kind == "date":
        value = parse_day(text, f.label)
    elif f.kind in ("ref", "user"):
        row_id = as_id(text)
        row = session.get(f.ref or User, row_id) if row_id is not None else None
        if row is None or (f.kind == "user" and not row.active):
            raise ValueError("Elija una opción de la lista." if f.kind == "ref" else "Elija un usuario activo.")
        value = row.id
    elif f.kind == "emails":
        value = list(dict.fromkeys(check_email(a, f.label) for a in _SPLIT.split(text) if a))
    elif f.kind == "holders":
        value = []
        for ref in (r.strip() for r in re.split(r"[,;\n]+", text) if r.strip()):
            dtype, number = parse_holder(ref, f.label)
            client = session.scalar(select(Client).filter_by(document_type=dtype, document_number=number))
            if client is None:
                raise ValueError(f"El titular «{ref}» no es un cliente registrado.")
            value.append(client)
    elif f.kind == "priority_days":
        value = {}
        for part in (p.strip() for p in re.split(r"[,;\n]+", text) if p.strip()):
            name, eq, days = part.partition("=")
            priority = get_by_name(session, Priority, name.strip())
            if not eq or priority is None or not re.fullmatch(r"[0-9]{1,4}", days.strip()):
                raise ValueError(f"«{part}» no es «Prioridad=días» con una prioridad existente.")
            value[priority.name] = int(days.strip())
    else:
        value = text
    if f.check is not None:
        value = f.check(value, f.label)
    return value


def parse_form(session: Session, kind: Kind, form: Mapping[str, str], row=None) -> dict:
    """The form's values, validated. Raises CatalogFormError with every field's problem."""
    values, errors = {}, {}
    for f in kind.fields:
        try:
            values[f.name] = _parse(session, f, form.get(f.name), getattr(row, f.name, None))
        except CatalogError as exc:
            errors[f.name] = _message(exc)
        except ValueError as exc:
            errors[f.name] = str(exc)
    if not errors:
        errors.update(_duplicate(session, kind, values, row))
    if row is not None and not errors:
        errors.update(_protected_edit(session, kind, values, row))
    if errors:
        raise CatalogFormError(errors)
    return values


def _duplicate(session: Session, kind: Kind, values: dict, row) -> dict[str, str]:
    """The natural key's error when another row has it (names compared ignoring case and accents)."""
    others = select(kind.model)
    for k in kind.key:
        if k != "name":
            others = others.where(getattr(kind.model, k) == values[k])
    for other in session.scalars(others):
        if other is row or ("name" in kind.key and fold(other.name) != fold(values["name"])):
            continue
        last = kind.key[-1]
        label = next(f.label for f in kind.fields if f.name == last)
        return {last: f"Ya existe {kind.noun} «{label_of(other)}» con el mismo valor en «{label}»."}
    return {}


def _protected_edit(session: Session, kind: Kind, values: dict, row) -> dict[str, str]:
    name = getattr(row, "name", None)
    if name in kind.protected and values.get("name") != name:
        return {"name": f"No se puede cambiar el nombre de «{name}»: {kind.protected[name]}."}
    if kind.model is Status and row.closed and not values["closed"] and _closed_count(session) <= 1:
        return {"closed": f"«{row.name}» es el único estado cerrado: marque otro como cerrado antes."}
    return {}


def _closed_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Status).where(Status.closed.is_(True)))


def save_row(session: Session, kind: Kind, form: Mapping[str, str], row=None, *, by: str = "") -> tuple[object, bool]:
    """Create (``row`` None) or update ``row`` from the form's values.

    Parameters: form: field name → submitted text (checkboxes: present or not). by: who, for the log.
    Returns: (the row, flushed; True when created). Raises: CatalogFormError, also when another
    admin saved the same natural key (or deleted a chosen reference) between the check and the
    write — the database's constraint answers, not a 500; nothing is written.
    """
    values = parse_form(session, kind, form, row)
    created = row is None
    if created:
        row = kind.model()
        session.add(row)
    old_name = getattr(row, "name", None)
    for name, value in values.items():
        if name == "emails":
            keep = {e.email: e for e in row.emails}
            row.emails = [keep.get(a) or ClientEmail(email=a) for a in value]
        else:
            setattr(row, name, value)
    if kind.model is Priority and old_name and old_name != row.name:
        _rename_priority_days(session, old_name, row.name)
    try:
        session.flush()
    except IntegrityError as exc:  # checked above, but another admin saved or deleted meanwhile
        label = next(f.label for f in kind.fields if f.name == kind.key[-1])
        raise CatalogFormError({kind.key[-1]: f"Otro usuario cambió el catálogo al mismo tiempo (el mismo valor "
                                              f"en «{label}», o una opción que ya no existe). Revise y vuelva a "
                                              "guardar."}) from exc
    log.info("catalog %s: %s %r by %s", kind.slug, "created" if created else "updated", label_of(row), by)
    return row, created


def _rename_priority_days(session: Session, old: str, new: str) -> None:
    """A renamed priority keeps its per-type overrides (``TicketType.priority_days`` is keyed by name)."""
    for ttype in session.scalars(select(TicketType)):
        if old in (ttype.priority_days or {}):
            ttype.priority_days = {(new if k == old else k): v for k, v in ttype.priority_days.items()}


def usage(session: Session, kind: Kind, row) -> list[tuple[int, str]]:
    """What uses ``row``: (count, plural noun) per using column with at least one."""
    found = []
    for use in kind.uses:
        n = session.scalar(select(func.count()).select_from(use.column.table).where(use.column == row.id))
        if n:
            found.append((n, use.singular if n == 1 else use.plural))
    if kind.model is Priority:  # TicketType.priority_days is keyed by the priority's name
        n = sum(row.name in (tt.priority_days or {}) for tt in session.scalars(select(TicketType)))
        if n:
            found.append((n, "tipo de atención (días por prioridad)" if n == 1
                          else "tipos de atención (días por prioridad)"))
    return found


def delete_row(session: Session, kind: Kind, row, *, by: str = "") -> None:
    """Delete ``row``, unless something uses it or the rules need it.

    Raises: ServiceError with the Spanish reason («No se puede eliminar el estado «Asignado»: lo
    usan 12 atenciones»); nothing is deleted.
    """
    what = f"No se puede eliminar {kind.noun} «{label_of(row)}»"
    if getattr(row, "name", None) in kind.protected:
        raise ServiceError(f"{what}: {kind.protected[row.name]}.")
    if kind.model is Status and row.closed and _closed_count(session) <= 1:
        raise ServiceError(f"{what}: es el único estado cerrado (las atenciones no podrían cerrarse).")
    if kind.model is TicketType and session.scalar(select(func.count()).select_from(TicketType)) <= 1:
        raise ServiceError(f"{what}: es el único tipo de atención (las atenciones nuevas necesitan uno).")
    used = usage(session, kind, row)
    if used:
        parts = [f"{n} {noun}" for n, noun in used]
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " y " + parts[-1]
        verb = "usa" if len(used) == 1 and used[0][0] == 1 else "usan"
        raise ServiceError(f"{what}: {kind.pronoun} {verb} {joined}.")
    label = label_of(row)
    session.delete(row)
    try:
        session.flush()
    except IntegrityError as exc:  # counted above, but someone started using it meanwhile
        raise ServiceError(f"{what}: se empezó a usar mientras se eliminaba. Vuelva a intentarlo.") from exc
    log.info("catalog %s: deleted %r by %s", kind.slug, label, by)


def form_values(kind: Kind, row) -> dict[str, object]:
    """A row's values as the form shows them (text; booleans stay booleans)."""
    out: dict[str, object] = {}
    for f in kind.fields:
        value = getattr(row, f.name)
        if f.kind == "bool":
            out[f.name] = bool(value)
        elif f.kind == "emails":
            out[f.name] = ", ".join(e.email for e in value)
        elif f.kind == "holders":
            out[f.name] = ", ".join(f"{c.document_type} {c.document_number}" for c in value)
        elif f.kind == "priority_days":
            out[f.name] = ", ".join(f"{k}={v}" for k, v in (value or {}).items())
        elif f.kind == "date":
            out[f.name] = value.isoformat() if value else ""
        else:
            out[f.name] = "" if value is None else str(value)
    return out


def display_values(session: Session, kind: Kind, row) -> list[str]:
    """A row's cells in the list, in field order, as Spanish text."""
    cells = []
    for f, text in zip(kind.fields, form_values(kind, row).values(), strict=True):
        if f.kind == "bool":
            text = "Sí" if text else "No"
        elif f.kind in ("ref", "user"):
            text = label_of(session.get(f.ref or User, int(text))) if text else ""
        elif f.kind == "choice":
            text = dict(f.choices).get(text, text)
        elif f.kind == "date" and text:
            text = date.fromisoformat(text).strftime("%d/%m/%Y")  # as the rest of the panel shows dates
        cells.append(text)
    return cells


LIST_LIMIT = 200
"""Rows a catalog page shows at most; a search narrows a long catalog (clients, units)."""


def list_rows(session: Session, kind: Kind, query: str = "", limit: int = LIST_LIMIT) -> tuple[list, int]:
    """The catalog's rows in its order, those whose text fields contain ``query`` (case ignored),
    at most ``limit``. Returns: (rows, how many match in all)."""
    stmt = select(kind.model)
    words = query.strip().lower()
    if words:
        columns = [getattr(kind.model, f.name) for f in kind.fields if f.kind == "text"]
        stmt = stmt.where(or_(*(func.lower(c).contains(words, autoescape=True) for c in columns)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    return list(session.scalars(stmt.order_by(*kind.order_by).limit(limit))), total


def options(session: Session, f: Field) -> list[tuple[str, str]]:
    """(value, label) choices of a choice, ref or user field, sorted by label."""
    if f.kind == "choice":
        return list(f.choices)
    if f.kind == "user":
        rows = session.scalars(select(User).where(User.active.is_(True)))
    else:
        rows = session.scalars(select(f.ref))
    return sorted(((str(r.id), label_of(r)) for r in rows), key=lambda o: fold(o[1]))
