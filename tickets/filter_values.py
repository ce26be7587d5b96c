"""Filter values: each filter's parsing and checking alone, and the names of the filter groups.

One filter's value as a user typed it (a URL's query string, a CLI option) is parsed by
:func:`parse_value` into its typed form, or refused with :class:`FilterError` and a Spanish message
naming the field. The filters themselves (the dataclass :class:`tickets.queries.Filters`) and the
query are in `tickets.queries`; DESIGN.md, "Filters", is the source of every rule.

Catalog filters (:data:`MULTI_FILTERS`: type, category, status, project, subdivision, unit,
unit_type, promoter, area, priority) take several values (DESIGN.md: ``status=Registrado&status=Asignado``
means either): their parsed form is a tuple of names, never empty (None: not filtered).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from tickets.models import TicketKind
from tickets.sla import AlertState
from tickets.text import fold, unknown_value

__all__ = [
    "ALERT_STATES",
    "ASSIGNEE_NONE",
    "DATE_FILTERS",
    "KINDS",
    "MAX_DAYS",
    "MAX_TEXT",
    "MAX_VALUES",
    "MULTI_FILTERS",
    "NAME_FILTERS",
    "NAME_NOUNS",
    "SLA_FILTERS",
    "UNASSIGNED_WORDS",
    "FilterError",
    "means_unassigned",
    "parse_value",
]

MAX_TEXT = 200
"""Longest accepted free-text filter value (characters)."""

ALERT_STATES = tuple(s.value for s in AlertState)
"""Values of the ``alert`` filter: overdue, on_time, attended_on_time, attended_late."""

KINDS = tuple(k.value for k in TicketKind)
"""Values of the ``kind`` filter (which form applies): atencion, reclamo, solicitud."""

ASSIGNEE_NONE = "none"
"""``assignee=none``: the tickets nobody is assigned to."""

UNASSIGNED_WORDS = frozenset({ASSIGNEE_NONE, "sin asignar", "nadie"})
"""What ``assignee`` accepts for "nobody", folded: DESIGN's ``none`` and the panel's words."""


def means_unassigned(text: str) -> bool:
    """Whether an ``assignee`` value asks for the unassigned tickets ("none", "Sin asignar")."""
    return fold(text) in UNASSIGNED_WORDS

NAME_FILTERS = (
    "type", "category", "status", "project", "subdivision", "unit_type", "promoter", "area",
    "priority",
)
"""Filters that name a catalog row; matched by name ignoring case and accents."""

MULTI_FILTERS = (*NAME_FILTERS, "unit")
"""Catalog filters: they take several values (any of them matches); parsed to a tuple of names."""

MAX_VALUES = 50
"""Most values one catalog filter accepts (a longer list is refused, naming the filter)."""

MAX_DAYS = 36_500
"""Largest ``days_min``/``days_max`` accepted (100 years of calendar days): "today" minus it must
stay a date the database and Python can hold."""

NAME_NOUNS = {
    "type": ("tipo de atención", False), "category": ("categoría", True), "status": ("estado", False),
    "project": ("proyecto", False), "subdivision": ("torre o bloque", False),
    "unit_type": ("tipo de unidad", False), "promoter": ("promotor", False), "area": ("área", True),
    "priority": ("prioridad", True),
}
"""The Spanish noun of each catalog filter, and whether it is feminine (for "desconocida")."""

DATE_FILTERS = ("requested_from", "requested_to", "attended_from", "attended_to")
"""Filters that take a local date, AAAA-MM-DD."""

SLA_FILTERS = ("days_min", "days_max", "alert")
"""Filters that need the day rule and "today": applied in SQL by `tickets.sla_sql`."""

# --------------------------------------------------------------------------- errors and parsing


class FilterError(ValueError):
    """A filter value that cannot be used; ``str()`` is ``"<field>: <message in Spanish>"``."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_date(field: str, value: Any) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not text:
        return None
    if _ISO_DATE.fullmatch(text):
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            if not 1900 <= parsed.year <= 9000:
                raise FilterError(field, f"fecha fuera de rango {text!r} (entre 1900 y 9000)")
            return parsed
    raise FilterError(field, f"fecha no válida {text!r} (use AAAA-MM-DD)")


def parse_value(name: str, value: Any) -> Any:
    """One filter's value, parsed and checked alone: a date, a number of days, an alert state,
    ``open`` as a bool, ``kind`` as its code, a tuple of names for a catalog filter
    (:data:`MULTI_FILTERS`; ``value`` one string or an iterable of them), or trimmed text; None
    (not filtered) when empty.

    Raises :class:`FilterError` naming the filter (``name`` must be one of :data:`FILTER_NAMES`).
    """
    if name in DATE_FILTERS:
        return _parse_date(name, value)
    if name in ("days_min", "days_max"):
        return _parse_days(name, value)
    if name == "alert":
        return _parse_alert(name, value)
    if name == "open":
        return _parse_open(name, value)
    if name == "kind":
        return _parse_kind(name, value)
    if name in MULTI_FILTERS:
        return _parse_names(name, value)
    return _parse_text(name, value)


def _parse_names(field: str, value: Any) -> tuple[str, ...] | None:
    """Several catalog names: each trimmed, empty ones dropped, repeats (ignoring case and
    accents) dropped, the order kept; None when none is left."""
    if value is None:
        return None
    items: Iterable[Any] = (value,) if isinstance(value, str) else value
    names: list[str] = []
    seen: set[str] = set()
    for item in items:
        text = _parse_text(field, item)
        if text is not None and fold(text) not in seen:
            seen.add(fold(text))
            names.append(text)
    if len(names) > MAX_VALUES:
        raise FilterError(field, f"demasiados valores ({len(names)}; máximo {MAX_VALUES})")
    return tuple(names) or None


def _parse_days(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise FilterError(field, f"número de días no válido {value!r} (use un entero mayor o igual a 0)")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not text:
            return None
        if not re.fullmatch(r"\+?\d{1,9}", text):
            raise FilterError(field, f"número de días no válido {text!r} (use un entero mayor o igual a 0)")
        number = int(text)
    if number < 0:
        raise FilterError(field, f"número de días no válido {value!r} (use un entero mayor o igual a 0)")
    if number > MAX_DAYS:
        raise FilterError(field, f"número de días fuera de rango {number} (máximo {MAX_DAYS}, 100 años)")
    return number


def _parse_alert(field: str, value: Any) -> AlertState | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    try:
        return AlertState(text)
    except ValueError:
        choices = ", ".join(ALERT_STATES[:-1]) + " o " + ALERT_STATES[-1]
        raise FilterError(field, f"alerta no válida {str(value).strip()!r} (use {choices})") from None


_KIND_WORDS = {"atencion": "atencion", "reclamo": "reclamo", "queja": "reclamo", "reclamo/queja": "reclamo",
               "solicitud": "solicitud"}
"""The words ``kind`` accepts, folded: the codes and the panel's labels ("Reclamo/Queja")."""


def _parse_kind(field: str, value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    kind = _KIND_WORDS.get(fold(text))
    if kind is None:
        raise FilterError(field, unknown_value("formulario", text, KINDS))
    return kind


_TRUE = frozenset({"1", "si", "true", "yes"})
_FALSE = frozenset({"0", "no", "false"})


def _parse_open(field: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = fold(str(value))
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FilterError(field, f"valor no válido {str(value).strip()!r} (use 1: solo las abiertas, "
                             f"o 0: solo las cerradas)")


def _parse_text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())  # trim, collapse inner whitespace
    if not text:
        return None
    if len(text) > MAX_TEXT:
        raise FilterError(field, f"texto demasiado largo ({len(text)} caracteres; máximo {MAX_TEXT})")
    if "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text):  # NUL; bytes not UTF-8 (CLI)
        raise FilterError(field, "el texto contiene caracteres no válidos")
    return text
