"""The dashboard, "Resumen" (blueprint ``dashboard``): ``/resumen`` shows how many tickets are
open, which ones are late by ticket type and by area, and how many were attended on time or late
in the last 30 days (DESIGN.md, "Web panel": "a small dashboard"), as server-drawn SVG bar charts.

Every number on the page is a link to the list (``listing.index``) filtered to exactly the tickets
it counts, and is counted with the list's own query (`tickets.queries.count_tickets` with the
`tickets.queries.Filters` whose `Filters.to_query` is the link's query string), for the same
"today" and with the same role scope (a legal user counts only their reclamos), so a bar's number
is the count the list shows when the bar is clicked. "The last 30 days" are the 30 local dates in
the configured zone that end today, today included (``attended_from`` = today − 29,
``attended_to`` = today); the alert's days are counted by each type's rule, as in the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, current_app, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.models import Area, Status, TicketType
from tickets.queries import Filters, count_tickets
from tickets.sla import AlertState, local_today
from tickets.text import fold
from web_admin.charts import BarChart, BarSpec, format_count, horizontal_bars
from web_admin.state import panel, read_session

__all__ = ["WINDOW_DAYS", "Dashboard", "Figure", "bp", "collect", "list_href"]

bp = Blueprint("dashboard", __name__)

WINDOW_DAYS = 30
"""The "attended" chart's window: this many local dates, ending today (included)."""


@dataclass(frozen=True)
class Figure:
    """One number of the dashboard: its label, its filters, the count and the list's URL."""

    label: str
    filters: Filters
    count: int
    href: str


@dataclass(frozen=True)
class Dashboard:
    """What the page shows: four headline figures and four charts (`web_admin.charts.BarChart`)."""

    today: date
    """The local date the figures are counted for."""
    window_from: date
    """First local date of the last `WINDOW_DAYS` days (today − 29)."""
    open: Figure
    overdue: Figure
    attended_on_time: Figure
    attended_late: Figure
    open_by_status: BarChart
    overdue_by_type: BarChart
    overdue_by_area: BarChart
    attended: BarChart
    """Attended in the window: on time, then late."""


def list_href(filters: Filters) -> str:
    """The list's URL showing exactly the tickets of ``filters`` (``/?alert=overdue&type=Reclamo``)."""
    return url_for("listing.index", **filters.to_query())


def _by_count(specs: list[BarSpec]) -> list[BarSpec]:
    """Largest count first; equal counts by name ignoring case and accents."""
    return sorted(specs, key=lambda s: (-s.value, fold(s.label)))


def collect(session: Session, *, tz: str, prefix: str, today: date, legal_user_id: int | None,
            href: Callable[[Filters], str]) -> Dashboard:
    """Count the dashboard's figures as of the local date ``today`` in the zone ``tz``.

    Each figure and bar is ``count_tickets(session, filters, …)`` for its `Filters`, with
    ``legal_user_id`` (None: every ticket; a legal user's id: only their reclamos), and links to
    ``href(filters)``. Categories come from the catalog (every open status in flow order, every
    type, every area; a blank name is left out), so a category with no ticket is a bar of 0; bars
    of types and areas are sorted by count, largest first. Costs one count per figure and per bar.
    """

    def figure(label: str, filters: Filters) -> Figure:
        n = count_tickets(session, filters, tz=tz, prefix=prefix, today=today, legal_user_id=legal_user_id)
        return Figure(label, filters, n, href(filters))

    def bar(fig: Figure, title: str, tone: str = "") -> BarSpec:
        return BarSpec(fig.label, fig.count, fig.href, title=title, tone=tone)

    def atenciones(n: int, what: str = "") -> str:  # "1 atención abierta", "2 atenciones abiertas"
        words = ("atención", what) if n == 1 else ("atenciones", what + "s" if what else "")
        return " ".join([format_count(n), *filter(None, words)])

    overdue = AlertState.OVERDUE
    window_from = today - timedelta(days=WINDOW_DAYS - 1)
    window = {"attended_from": window_from, "attended_to": today}

    def names(stmt) -> list[str]:  # a blank name would be no filter at all: every ticket
        return [name for name in session.scalars(stmt) if name and name.strip()]

    statuses = names(select(Status.name).where(Status.closed.is_(False)).order_by(Status.position, Status.name))
    types = names(select(TicketType.name))
    areas = names(select(Area.name))

    by_status = []
    for name in statuses:
        fig = figure(name, Filters(open=True, status=name))
        by_status.append(bar(fig, f"{name}: {atenciones(fig.count, 'abierta')}"))
    by_type = []
    for name in types:
        fig = figure(name, Filters(alert=overdue, type=name))
        by_type.append(bar(fig, f"{name}: {atenciones(fig.count)} con retraso"))
    by_area = []
    for name in areas:
        fig = figure(name, Filters(alert=overdue, area=name))
        by_area.append(bar(fig, f"{name}: {atenciones(fig.count)} con retraso"))

    on_time = figure("Dentro de plazo", Filters(alert=AlertState.ATTENDED_ON_TIME, **window))
    late = figure("Fuera de plazo", Filters(alert=AlertState.ATTENDED_LATE, **window))
    attended = [bar(on_time, f"Atendidas dentro de plazo: {atenciones(on_time.count)}", "attended_on_time"),
                bar(late, f"Atendidas fuera de plazo: {atenciones(late.count)}", "attended_late")]

    return Dashboard(
        today=today, window_from=window_from,
        open=figure("Abiertas", Filters(open=True)),
        overdue=figure("Con retraso", Filters(alert=overdue)),
        attended_on_time=on_time, attended_late=late,
        open_by_status=horizontal_bars(by_status),
        overdue_by_type=horizontal_bars(_by_count(by_type)),
        overdue_by_area=horizontal_bars(_by_count(by_area)),
        attended=horizontal_bars(attended),
    )


def _today() -> date:
    """The list's "today" (`web_admin.listing`): ``ATENCION_TODAY`` when set, else the local date
    now in the configured zone."""
    return current_app.config.get("ATENCION_TODAY") or local_today(panel().settings.timezone)


@bp.get("/resumen")
@login_required
def index():
    """The dashboard for the logged-in user (a legal user: their reclamos only)."""
    settings = panel().settings
    data = collect(read_session(), tz=settings.timezone, prefix=settings.code_prefix, today=_today(),
                   legal_user_id=current_user.legal_scope_id, href=list_href)
    return render_template("admin/dashboard.html", data=data)
