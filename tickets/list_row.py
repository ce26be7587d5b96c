"""One ticket as the list shows it and the export writes it: :class:`TicketRow` and its keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tickets.sla import compute_alert, max_response_days
from tickets.sla_sql import day_rule

__all__ = ["ROW_KEYS", "TicketRow", "ticket_row_from"]


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


def ticket_row_from(r, zone: ZoneInfo, today: date, closed: frozenset[date]) -> TicketRow:
    """One row of the list's SELECT (`tickets.queries`) as a TicketRow: dates local in ``zone``,
    the SLA alert as of ``today`` (a local date), ``closed``: the admin-defined closed days."""
    requested = r.requested_at.astimezone(zone)
    attended = r.attended_at.astimezone(zone) if r.attended_at is not None else None
    max_days = max_response_days(r.type_max_days, r.type_priority_days, r.priority)
    alert = compute_alert(requested.date(), attended.date() if attended else None, today,
                          max_days, day_rule(r.type_day_rule), closed_days=closed)
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
