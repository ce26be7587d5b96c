"""One ticket as the list shows it and the export writes it: :class:`TicketRow` and its keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.models import TicketType
from tickets.sla import DayRule, compute_alert, max_response_days
from tickets.sla_sql import day_rule

__all__ = ["ROW_KEYS", "TicketRow", "TypeRules", "ticket_row_from"]


ROW_KEYS = (
    "code", "kind", "subject", "status", "type", "category", "priority", "project", "subdivision",
    "unit", "promoter", "requester_name", "requester_email", "holder", "assignee",
    "assignee_email", "area", "contract_number", "requested_at", "attended_at", "elapsed_days",
    "alert", "alert_state",
)
"""The export's JSON keys (DESIGN.md, "The atencion command": ``export``), in column order."""


@dataclass(slots=True)
class TicketRow:
    """One ticket as listed and exported. Datetimes are aware, in the configured zone."""

    code: str
    kind: str
    subject: str
    status: str
    type: str
    category: str | None
    priority: str
    project: str | None
    subdivision: str | None
    unit: str | None
    promoter: str | None
    requester_name: str | None
    requester_email: str | None
    holder: str | None
    assignee: str | None
    assignee_email: str | None
    area: str | None
    contract_number: str | None
    requested_at: datetime
    attended_at: datetime | None
    elapsed_days: int
    alert: str
    alert_state: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict with the ROW_KEYS (datetimes kept as objects)."""
        return {k: getattr(self, k) for k in ROW_KEYS}

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: datetimes as ISO 8601 with the zone's offset."""
        d = self.as_dict()
        for k in ("requested_at", "attended_at"):
            if d[k] is not None:
                d[k] = d[k].isoformat()
        return d


class TypeRules:
    """Each ticket type's maximum response days for a priority and its day rule, read once from
    ``ticket_types`` (:meth:`load`) for a whole listing or export, instead of with every row: a
    type's per-priority days are JSON, and decoding them and folding the priority names for each of
    100,000 rows was a fifth of reading the rows (bench/README.md, "Export"). ``rules(type_id,
    priority)`` → ``(max_days, DayRule)``, exactly `tickets.sla.max_response_days` of the type's
    days for that priority (tests/test_queries.py checks every type and priority both ways)."""

    def __init__(self, types: dict[int, tuple[int, dict | None, str]]):
        self._types = types
        self._rules: dict[tuple[int, str], tuple[int, DayRule]] = {}

    @classmethod
    def load(cls, session: Session) -> TypeRules:
        rows = session.execute(select(TicketType.id, TicketType.max_response_days, TicketType.priority_days,
                                      TicketType.day_rule))
        return cls({r.id: (r.max_response_days, r.priority_days, r.day_rule) for r in rows})

    def __call__(self, type_id: int, priority: str) -> tuple[int, DayRule]:
        key = (type_id, priority)
        rule = self._rules.get(key)
        if rule is None:
            max_days, per_priority, rule_name = self._types[type_id]
            rule = self._rules[key] = (max_response_days(max_days, per_priority, priority), day_rule(rule_name))
        return rule


def ticket_row_from(r, zone: ZoneInfo, today: date, closed: frozenset[date], rules: TypeRules) -> TicketRow:
    """One row of the list's SELECT (`tickets.queries`) as a TicketRow: dates local in ``zone``,
    the SLA alert as of ``today`` (a local date), ``closed``: the admin-defined closed days,
    ``rules``: the ticket types' days (:class:`TypeRules`)."""
    requested = r.requested_at.astimezone(zone)
    attended = r.attended_at.astimezone(zone) if r.attended_at is not None else None
    max_days, rule = rules(r.type_id, r.priority)
    alert = compute_alert(requested.date(), attended.date() if attended else None, today,
                          max_days, rule, closed_days=closed)
    return TicketRow(
        code=r.code, kind=r.kind, subject=r.subject, status=r.status, type=r.type,
        category=r.category, priority=r.priority, project=r.project,
        subdivision=r.subdivision, unit=r.unit, promoter=r.promoter,
        requester_name=r.requester_name or r.requester_client_name or None,
        requester_email=r.requester_email, holder=r.holder, assignee=r.assignee,
        assignee_email=r.assignee_email, area=r.area,
        contract_number=r.contract_number or r.contract_ref_number,
        requested_at=requested, attended_at=attended, elapsed_days=alert.elapsed_days,
        alert=alert.text, alert_state=alert.state.value,
    )
