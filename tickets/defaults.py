"""What a mailbox needs before any catalog is loaded (DESIGN.md, "Domain"), seeded where missing.

The status flow Registrado → Asignado → En proceso → Atendido → Cerrado, plus Anulado; requester
mail on En proceso, Atendido, Cerrado and Anulado (not on Asignado); priorities Baja, Media, Alta,
Urgente; a default ticket type "Atención" (5 calendar days, Urgente 1); a default category and area.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.models import Area, Category, Priority, Status, TicketType

#: name, position, attended, closed, notify_requester
STATUS_FLOW = (
    ("Registrado", 1, False, False, False),
    ("Asignado", 2, False, False, False),
    ("En proceso", 3, False, False, True),
    ("Atendido", 4, True, False, True),
    ("Cerrado", 5, True, True, True),
    ("Anulado", 6, False, True, True),
)
PRIORITIES = (("Baja", 1), ("Media", 2), ("Alta", 3), ("Urgente", 4))
DEFAULT_TYPE = "Atención"
DEFAULT_CATEGORY = "General"
DEFAULT_AREA = "Postventa"
NEW_STATUS = "Registrado"
REOPEN_STATUS = "En proceso"
DEFAULT_PRIORITY = "Media"


def _missing(session: Session, model, name: str) -> bool:
    return session.scalar(select(model.id).where(model.name == name)) is None


def seed_defaults(session: Session) -> list[str]:
    """Insert the default statuses, priorities, type, category and area that are missing.

    Returns: the names inserted (empty when everything was there). Does not commit.
    """
    added: list[str] = []
    for name, pos, attended, closed, notify in STATUS_FLOW:
        if _missing(session, Status, name):
            session.add(Status(name=name, position=pos, attended=attended, closed=closed,
                               notify_requester=notify))
            added.append(f"status:{name}")
    for name, pos in PRIORITIES:
        if _missing(session, Priority, name):
            session.add(Priority(name=name, position=pos))
            added.append(f"priority:{name}")
    if _missing(session, TicketType, DEFAULT_TYPE):
        session.add(TicketType(name=DEFAULT_TYPE, max_response_days=5,
                               priority_days={"Urgente": 1}, day_rule="calendar"))
        added.append(f"type:{DEFAULT_TYPE}")
    if session.scalar(select(Category.id).limit(1)) is None:
        session.add(Category(name=DEFAULT_CATEGORY))
        added.append(f"category:{DEFAULT_CATEGORY}")
    if session.scalar(select(Area.id).limit(1)) is None:
        session.add(Area(name=DEFAULT_AREA))
        added.append(f"area:{DEFAULT_AREA}")
    from tickets.codes import ensure_counter

    ensure_counter(session)
    session.flush()
    return added
