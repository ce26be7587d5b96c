"""The ticket filters of the list, the export and the CLI, defined once (DESIGN.md, "Filters").

Each filter has one name, used as the URL query parameter, the CLI option (``--days-min`` for
``days_min``) and the field of :class:`Filters`. :meth:`Filters.from_mapping` validates user input
(a URL's query string, CLI options) and raises :class:`FilterError` with a Spanish message naming the
field; :meth:`Filters.to_query` gives the mapping back for a shareable URL. :func:`parse_value` checks
one value alone (the CLI checks each option as it parses it), and :meth:`Filters.validate` checks the
catalog names against the database: an unknown status is an error that lists the valid ones, never an
empty result (the list, the export and the CLI call it). How each filter runs in SQL is in
`tickets.filter_sql`; the query itself in `tickets.queries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.filter_values import (
    ASSIGNEE_NONE,
    MULTI_FILTERS,
    NAME_FILTERS,
    NAME_NOUNS,
    SLA_FILTERS,
    FilterError,
    means_unassigned,
    parse_value,
)
from tickets.models import Area, Category, Priority, Project, Promoter, Status, Subdivision, TicketType, Unit, User
from tickets.sla import AlertState
from tickets.text import fold, unknown_value
from tickets.text_match import fold_for_match

__all__ = ["FILTER_NAMES", "FilterError", "Filters", "name_column", "parse_value"]


@dataclass
class Filters:
    """Every filter of DESIGN.md "Filters"; ``None`` means "not filtered". No filter → every ticket.

    Values may be given as strings (they are parsed and validated on construction, raising
    :class:`FilterError`) or already typed (dates, ints, :class:`AlertState`). Catalog filters
    (`tickets.filter_values.MULTI_FILTERS`) hold a tuple of names and match any of them; one
    string is taken as one name: ``Filters(status="Registrado").status == ("Registrado",)``.
    """

    requested_from: date | None = None
    """Fecha de solicitud from (local date, inclusive)."""
    requested_to: date | None = None
    """Fecha de solicitud to (local date, inclusive)."""
    code: str | None = None
    """Código: tolerant (``at-12`` finds AT-000012) or any substring of the code."""
    type: tuple[str, ...] | None = None
    """Tipo de atención: names, any of them (so for every catalog filter below)."""
    category: tuple[str, ...] | None = None
    status: tuple[str, ...] | None = None
    project: tuple[str, ...] | None = None
    subdivision: tuple[str, ...] | None = None
    """Torre/Bloque names."""
    unit: tuple[str, ...] | None = None
    """Dpto./Unidad numbers (case-insensitive, exact)."""
    unit_type: tuple[str, ...] | None = None
    promoter: tuple[str, ...] | None = None
    requester: str | None = None
    """Solicitante: each word (`tickets.filter_sql.text_words`) a substring of the name, or each one
    of the email, or each one of the matched client's name."""
    holder: str | None = None
    """Titular: each word a substring of the holder client's name, or each one of one of their emails."""
    assignee: str | None = None
    """Usuario asignado: substring of the user's name or email."""
    area: tuple[str, ...] | None = None
    contract: str | None = None
    """N° de contrato: substring of the contract number."""
    comment: str | None = None
    """Text found in the client's comments: comment entries written by no staff user — no author
    user, and an author address that was no staff user's *when it was written* (stored on the
    ticket, ``tickets.client_comments_fold``; a later staff user with that address changes nothing;
    a comment without an address is staff's)."""
    days_min: int | None = None
    """Días transcurridos ≥ this (in the type's day rule)."""
    days_max: int | None = None
    """Días transcurridos ≤ this."""
    priority: tuple[str, ...] | None = None
    alert: AlertState | None = None
    """overdue | on_time | attended_on_time | attended_late."""
    attended_from: date | None = None
    """Fecha de atención from (local date, inclusive); tickets never attended do not match."""
    attended_to: date | None = None
    """Fecha de atención to (local date, inclusive)."""
    open: bool | None = None
    """True (``1``): not in a closed status; False (``0``): in a closed status."""
    kind: str | None = None
    """Which form applies: atencion, reclamo, solicitud (Spanish words and labels accepted)."""
    q: str | None = None
    """Free text over code, subject, detail and requester name/email, each word on its own (or every
    word in the matched client's name, or a code it names)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, parse_value(f.name, getattr(self, f.name)))
        for start, end in (("requested_from", "requested_to"), ("attended_from", "attended_to")):
            first, last = getattr(self, start), getattr(self, end)
            if first and last and first > last:
                raise FilterError(
                    end, f"la fecha final {last.isoformat()} es anterior a la inicial {first.isoformat()}")
        if self.days_min is not None and self.days_max is not None and self.days_min > self.days_max:
            raise FilterError(
                "days_max", f"el máximo ({self.days_max}) es menor que el mínimo ({self.days_min})"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, strict: bool = False) -> Filters:
        """Filters from a query string / CLI options mapping (``{"status": "Atendido", …}``).

        Empty values mean "not filtered"; keys that are not filters (``page``, ``order``…) are
        ignored, or refused with ``strict=True``. CLI-style names (``days-min``) are accepted. A
        catalog filter's value may be a list; from a multi-valued mapping (werkzeug's
        ``request.args``) every value of its key is taken (``status=A&status=B``).
        Raises :class:`FilterError` naming the first bad field.
        """
        known = {}
        getlist = getattr(data, "getlist", None)
        for key in data:
            name = str(key).replace("-", "_")
            if name in FILTER_NAMES:
                known[name] = getlist(key) if getlist and name in MULTI_FILTERS else data[key]
            elif strict:
                raise FilterError(str(key), "filtro desconocido")
        return cls(**known)

    def to_query(self) -> dict[str, str | list[str]]:
        """The set filters as strings (a list of names for a catalog filter), in declaration order,
        for a URL (``url_for``/``urlencode(doseq=True)`` repeat the key) or :meth:`from_mapping`."""
        out: dict[str, str | list[str]] = {}
        for name in FILTER_NAMES:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, tuple):
                out[name] = list(value)
            elif isinstance(value, bool):
                out[name] = "1" if value else "0"
            else:
                out[name] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    def validate(self, session: Session) -> None:
        """Check the catalog names against the database: each catalog filter (status, type, …) must
        name a row, ignoring case and accents (``unit``: a unit's number), and ``assignee`` (unless
        ``none``) must be found in some staff user's name or email. Reads only the catalog tables.

        Raises :class:`FilterError` naming the first unknown one (in :data:`FILTER_NAMES` order) and
        listing the valid values: ``status: estado desconocido 'Cerradoo' (válidos: Anulado, …)``.
        """
        for name in FILTER_NAMES:
            wanted = getattr(self, name)
            if wanted is None:
                continue
            if name in NAME_FILTERS:
                column = name_column(name)
                valid = sorted({n for n in session.scalars(select(column).distinct()) if n is not None},
                               key=fold)
                keys = {fold(n) for n in valid}
                for one in wanted:
                    if fold(one) not in keys:
                        noun, feminine = NAME_NOUNS[name]
                        raise FilterError(name, unknown_value(noun, one, valid, feminine=feminine))
            elif name == "unit":
                valid = sorted({n for n in session.scalars(select(Unit.number).distinct()) if n},
                               key=lambda n: (len(n), fold(n)))
                keys = {fold_for_match(n) for n in valid}
                for one in wanted:
                    if fold_for_match(one) not in keys:
                        raise FilterError(name, unknown_value("unidad", one, valid, feminine=True))
            elif name == "assignee" and not means_unassigned(wanted):
                key = fold(wanted)
                users = session.execute(select(User.name, User.email).order_by(User.email)).all()
                if not any(key in fold(u.name or "") or key in fold(u.email) for u in users):
                    raise FilterError(name, unknown_value(
                        "usuario", wanted, [ASSIGNEE_NONE, *(u.email for u in users)]))

    @property
    def needs_python(self) -> bool:
        """True when an SLA filter (days_min, days_max, alert) is set: they need the session's
        catalogs and "today" (`tickets.sla_sql` applies them in SQL)."""
        return any(getattr(self, n) is not None for n in SLA_FILTERS)

    def matches_sla(self, elapsed_days: int, alert_state: str) -> bool:
        """The SLA part of the filter, for one row's computed elapsed days and alert state."""
        if self.days_min is not None and elapsed_days < self.days_min:
            return False
        if self.days_max is not None and elapsed_days > self.days_max:
            return False
        return self.alert is None or alert_state == self.alert


FILTER_NAMES = tuple(f.name for f in fields(Filters))
"""The filter names, in DESIGN.md order."""



def name_column(name: str):
    """The catalog column a name filter (`tickets.filter_values.NAME_FILTERS`) compares its names with."""
    return {
        "type": TicketType.name, "category": Category.name, "status": Status.name,
        "project": Project.name, "subdivision": Subdivision.name, "unit_type": Unit.unit_type,
        "promoter": Promoter.name, "area": Area.name, "priority": Priority.name,
    }[name]

