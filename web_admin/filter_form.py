"""The list's filter form, built from the one definition of the filters (`tickets.queries`:
`FILTER_NAMES`, `parse_value`, `Filters`, `FilterError`); the panel adds only Spanish labels and a
widget per filter.

Shapes: `CELLS` is the form's layout — (label, filter names) per cell, the seed's 17 first
(`SEED_CELLS`), then DESIGN's others (`MORE_CELLS`); every filter is in exactly one cell.
`read_filters(args, session)` → `FilterState` (the typed `Filters`, or None when a value is bad,
and ``errors``: filter name → Spanish message, every bad field at once). `choices(session, values)`
→ the options of the select, checkbox and datalist widgets, the dependent ones narrowed: Torre/Bloque
lists the chosen projects' towers, Dpto./Unidad the chosen towers' (or projects') units.

Catalog filters take several values (DESIGN.md, "Filters"): their ``values`` entry is a list, shown
as a list of checkboxes that opens from a summary line (``<details>``, no script needed) — except
Proyecto and Torre/Bloque, single selects that the small script keeps dependent (a URL with several
projects shows a multiple select, so a shared URL loses nothing when the form is sent again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.filter_values import MULTI_FILTERS
from tickets.models import (
    Area,
    Category,
    Priority,
    Project,
    Promoter,
    Status,
    Subdivision,
    TicketType,
    Unit,
    User,
)
from tickets.queries import (
    ASSIGNEE_NONE,
    FILTER_NAMES,
    FilterError,
    Filters,
    parse_value,
)
from tickets.text import fold

SEED_CELLS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Fecha de solicitud", ("requested_from", "requested_to")),
    ("Código", ("code",)),
    ("Tipo de atención", ("type",)),
    ("Categoría", ("category",)),
    ("Estado", ("status",)),
    ("Proyecto", ("project",)),
    ("Torre/Bloque", ("subdivision",)),
    ("Dpto./Unidad", ("unit",)),
    ("Promotor", ("promoter",)),
    ("Solicitante", ("requester",)),
    ("Titular", ("holder",)),
    ("Usuario asignado", ("assignee",)),
    ("Área", ("area",)),
    ("N° de contrato", ("contract",)),
    ("Comentarios de clientes", ("comment",)),
    ("Número de días", ("days_min", "days_max")),
    ("Prioridad", ("priority",)),
)
"""The seed's 17 filters, in its order."""

MORE_CELLS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Alerta de la atención", ("alert",)),
    ("Fecha de atención", ("attended_from", "attended_to")),
    ("Tipo de unidad", ("unit_type",)),
    ("Abiertas o cerradas", ("open",)),
    ("Formulario", ("kind",)),
)
"""DESIGN.md's other filters (free text ``q`` is the search box above the form)."""

CELLS = SEED_CELLS + MORE_CELLS + (("Buscar", ("q",)),)
assert sorted(n for _, names in CELLS for n in names) == sorted(FILTER_NAMES)

#: Per filter name: its own label (for one of a pair: "desde"/"hasta") and its widget.
FIELD_LABELS = {"requested_from": "Desde", "requested_to": "Hasta", "attended_from": "Desde",
                "attended_to": "Hasta", "days_min": "Mínimo", "days_max": "Máximo"}

WIDGETS = {
    **dict.fromkeys(("requested_from", "requested_to", "attended_from", "attended_to"), "date"),
    **dict.fromkeys(("days_min", "days_max"), "number"),
    **dict.fromkeys(("project", "subdivision", "alert", "open", "kind"), "select"),
    **dict.fromkeys(("type", "category", "status", "unit_type", "promoter", "area", "priority"), "checks"),
    **dict.fromkeys(("unit", "assignee"), "datalist"),
}
"""date, number, select (one value; several for project/subdivision when the URL has them),
checks (several values), datalist (free text with suggestions); any other: text."""

FIXED_CHOICES = {
    "alert": (("overdue", "Con días de retraso"), ("on_time", "En plazo"),
              ("attended_on_time", "Atendido dentro de plazo"), ("attended_late", "Atendido fuera de plazo")),
    "open": (("1", "Solo abiertas"), ("0", "Solo cerradas")),
    "kind": (("atencion", "Atención"), ("reclamo", "Reclamo/Queja"), ("solicitud", "Solicitud")),
}
"""(value, Spanish label) of the filters whose values are fixed words."""

PLACEHOLDERS = {"code": "AT-000123", "requester": "Nombre o correo", "holder": "Nombre o correo",
                "assignee": "Nombre, correo o «sin asignar»", "contract": "N° o parte de él",
                "comment": "Texto del comentario", "unit": "Número", "q": "Código, asunto, detalle, solicitante…"}

_CATALOG_COLUMNS = {
    "type": TicketType.name, "category": Category.name, "status": Status.name, "project": Project.name,
    "unit_type": Unit.unit_type, "promoter": Promoter.name, "area": Area.name,
}
_ORDERED = {"status": (Status.position, Status.name), "priority": (Priority.position, Priority.name)}


@dataclass
class FilterState:
    """What the list's query string says: raw ``values`` (as typed, for the form), the typed
    ``filters`` (None when some value is bad) and ``errors`` (filter name → Spanish message)."""

    values: dict[str, str | list[str]]
    """Filter name → the text typed; a list of the chosen names for a catalog filter."""
    filters: Filters | None
    errors: dict[str, str] = field(default_factory=dict)


def _arg_values(args: Mapping[str, str], name: str) -> str | list[str]:
    """One filter's text in ``args`` (werkzeug's MultiDict or a plain mapping): every non-empty
    value of a catalog filter, as a list; else the first value, trimmed."""
    if name in MULTI_FILTERS:
        raw = args.getlist(name) if hasattr(args, "getlist") else args.get(name)
        items = [] if raw is None else [raw] if isinstance(raw, str) else list(raw)
        return [str(v).strip() for v in items if str(v).strip()]
    return str(args.get(name, "")).strip()


def read_filters(args: Mapping[str, str], session: Session | None = None) -> FilterState:
    """Parse the filters of a query string (other keys — page, sort — are ignored), checking every
    field alone (`parse_value`), then the pairs (a range backwards), then, with ``session``, the
    catalog names (`Filters.validate`: an unknown name is an error that lists the valid ones)."""
    values = {n: v for n in FILTER_NAMES if (v := _arg_values(args, n))}
    errors: dict[str, str] = {}
    parsed = {}
    for name, raw in values.items():
        try:
            parsed[name] = parse_value(name, raw)
        except FilterError as exc:
            errors[exc.field] = exc.message
    if session is not None:
        for name, value in parsed.items():
            try:
                Filters(**{name: value}).validate(session)
            except FilterError as exc:
                errors[exc.field] = exc.message
    if not errors:
        try:
            return FilterState(values, Filters(**parsed))
        except FilterError as exc:  # a range backwards
            errors[exc.field] = exc.message
    return FilterState(values, None, errors)


def _names(session: Session, column, where=None) -> list[str]:
    stmt = select(column).distinct()
    if where is not None:
        stmt = stmt.where(where)
    return sorted({n for n in session.scalars(stmt) if n}, key=fold)


def _folded(names: str | list[str] | None) -> set[str] | None:
    """The chosen names folded (one name or several); None when none is chosen."""
    items = [names] if isinstance(names, str) else list(names or ())
    return {fold(n) for n in items if n} or None


def subdivision_names(session: Session, project: str | list[str] | None) -> list[str]:
    """Tower/block names: the chosen projects' (names matched ignoring case and accents), or all."""
    keys = _folded(project)
    rows = session.execute(select(Subdivision.name, Project.name).join(Project, Subdivision.project_id == Project.id))
    return sorted({s for s, p in rows if s and (keys is None or fold(p) in keys)}, key=fold)


def unit_numbers(session: Session, project: str | list[str] | None,
                 subdivision: str | list[str] | None) -> list[str]:
    """Unit numbers of the chosen towers (within the chosen projects), or of the chosen projects;
    none when neither is chosen (a whole portfolio's units are too many to suggest)."""
    pkeys, skeys = _folded(project), _folded(subdivision)
    if pkeys is None and skeys is None:
        return []
    rows = session.execute(
        select(Unit.number, Subdivision.name, Project.name)
        .join(Subdivision, Unit.subdivision_id == Subdivision.id)
        .join(Project, Subdivision.project_id == Project.id))
    return sorted({u for u, s, p in rows
                   if (pkeys is None or fold(p) in pkeys) and (skeys is None or fold(s) in skeys)},
                  key=lambda u: (len(u), fold(u)))


def choices(session: Session, values: Mapping[str, str | list[str]]) -> dict[str, list[tuple[str, str]]]:
    """(value, label) options per select/datalist filter; the current value is always among them."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name, column in _CATALOG_COLUMNS.items():
        out[name] = [(n, n) for n in _names(session, column)]
    for name, (position, column) in _ORDERED.items():
        rows = session.execute(select(column).order_by(position, column))
        out[name] = [(n, n) for (n,) in rows]
    out["subdivision"] = [(n, n) for n in subdivision_names(session, values.get("project"))]
    out["unit"] = [(n, n) for n in unit_numbers(session, values.get("project"), values.get("subdivision"))]
    users = session.execute(select(User.name, User.email).where(User.active.is_(True)).order_by(User.name))
    out["assignee"] = [(ASSIGNEE_NONE, "Sin asignar")] + [(email, name) for name, email in users]
    for name, fixed in FIXED_CHOICES.items():
        out[name] = list(fixed)
    for name, options in out.items():  # keep a value typed in the URL visible, even if not listed
        if WIDGETS.get(name) not in ("select", "checks"):
            continue
        current = values.get(name) or []
        for one in [current] if isinstance(current, str) else current:
            if all(fold(v) != fold(one) for v, _ in options):
                options.append((one, one))
    return out
