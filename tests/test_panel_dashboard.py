"""The dashboard, "Resumen" (issue 10, item 6): every figure and bar of ``/resumen`` is a link to
the list, and its number is both `count_tickets` for the filters of that link and the number of rows
the list shows there; the categories and the 30-day window (local dates, today included) are the
expected ones; a legal user's figures count only their reclamos; anonymous users go to the login.
Flask test client, SQLite and PostgreSQL (the ``database_url`` fixture, through ``Session``).

The data: tests.test_queries.build_data (AT-000001…5) plus `add_dashboard_tickets` (AT-000006…9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.panel_harness import LEGAL, codes_in
from tests.test_queries import TODAY, lima
from tickets.models import Area, Status, TicketType, User
from tickets.queries import Filters, count_tickets
from tickets.services import Context, open_ticket

HOSTILE_TYPE = '<b>Garantía & "Co"</b>'
LONG_AREA = "Atención al Cliente y Relaciones con Propietarios"


def add_dashboard_tickets(Session, tmp_path) -> None:  # noqa: N803 - the session factory fixture
    """Four more tickets, so that each chart has several bars and the window has both edges:

    * AT-000006: a reclamo of type Atención (5 days), area Postventa, assigned to María (not Jorge),
      requested 2024-12-20, not attended → overdue (still Registrado: assigned without the service);
    * AT-000007: Trámite, Postventa, Cerrado, attended 2024-12-08 00:30 Lima (the window's first
      local date; 2024-12-08 05:30 UTC) → attended late, inside the last 30 days;
    * AT-000008: Atención, Atendido, attended 2024-12-07 23:30 Lima (already 2024-12-08 in UTC)
      after 2 days → attended on time, outside the window;
    * AT-000009: a reclamo of a type with markup in its name (1 day) and an area with a long name,
      Jorge its legal adviser, requested 2025-01-02, not attended → overdue.
    """
    ctx = Context(storage_dir=tmp_path / "files")
    with Session.begin() as s:
        def one(model, name):
            return s.scalar(select(model).where(model.name == name))

        maria, jorge = one(User, "María Quispe"), one(User, "Jorge Ríos")
        atencion, tramite = one(TicketType, "Atención"), one(TicketType, "Trámite")
        postventa = one(Area, "Postventa")
        hostile = TicketType(name=HOSTILE_TYPE, max_response_days=1, priority_days={}, day_rule="calendar")
        long_area = Area(name=LONG_AREA)
        s.add_all([hostile, long_area])
        s.flush()

        def ticket(subject, requested_at, type_, area, status=None, attended_at=None, kind="atencion"):
            t = open_ticket(s, ctx, subject=subject, detail=subject, requester_email="cliente@correo.pe",
                            requester_name="Cliente", requested_at=requested_at, acknowledge=False)
            t.type, t.area, t.kind = type_, area, kind
            if status:
                t.status = one(Status, status)
            t.attended_at = attended_at
            return t

        t6 = ticket("Humedad en el techo", lima(2024, 12, 20), atencion, postventa, kind="reclamo")
        t6.assignee = maria
        ticket("Planos de instalaciones", lima(2024, 11, 1), tramite, postventa, "Cerrado", lima(2024, 12, 8, 0, 30))
        ticket("Llaves de la cochera", lima(2024, 12, 5), atencion, postventa, "Atendido", lima(2024, 12, 7, 23, 30))
        t9 = ticket("Garantía de acabados", lima(2025, 1, 2), hostile, long_area, kind="reclamo")
        t9.legal_adviser = jorge


@pytest.fixture
def data(Session, tmp_path):
    add_dashboard_tickets(Session, tmp_path)


@dataclass
class Link:
    """An ``<a data-count>`` of the dashboard: a headline figure or a bar."""

    kind: str
    """``kpi`` or ``chart-bar``."""
    chart: str | None
    """The id of the bar's chart (``chart-overdue-type``…); None for a headline figure."""
    href: str
    count: int
    label: str | None
    texts: dict[str, str] = field(default_factory=dict)
    """The texts inside the link by class (``value``, ``label``, ``kpi-value``) and its ``title``."""


class LinkParser(HTMLParser):
    """Collects the dashboard's counted links (attributes unescaped, as a browser reads them)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.chart: str | None = None
        self.current: Link | None = None
        self.text_class: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure":
            self.chart = a.get("id")
        elif tag == "a" and "data-count" in a:
            kind = "kpi" if "kpi" in a["class"].split() else "chart-bar"
            self.current = Link(kind, self.chart if kind == "chart-bar" else None, a["href"],
                                int(a["data-count"]), a.get("data-label"))
            self.links.append(self.current)
        elif self.current is not None and tag in ("text", "span", "title"):
            self.text_class = "title" if tag == "title" else a.get("class")

    def handle_endtag(self, tag):
        if tag == "a":
            self.current = None
        elif tag == "figure":
            self.chart = None
        self.text_class = None

    def handle_data(self, data):
        if self.current is not None and self.text_class:
            self.current.texts[self.text_class] = self.current.texts.get(self.text_class, "") + data


def dashboard_links(html: str) -> list[Link]:
    parser = LinkParser()
    parser.feed(html)
    return parser.links


def bars_of(links: list[Link], chart: str) -> dict[str, int]:
    return {link.label: link.count for link in links if link.chart == chart}


def check_every_link(staff, panel_app, links: list[Link], legal_user_id: int | None) -> None:
    """Each link's number = count_tickets for its query string = the rows of the list it opens."""
    from web_admin.state import panel

    assert links
    failures = []
    for link in links:
        url = urlsplit(link.href)
        assert url.path == "/" and not url.netloc, link.href
        filters = Filters.from_mapping(MultiDict(parse_qsl(url.query)), strict=True)
        with panel(panel_app).reader() as s:
            counted = count_tickets(s, filters, today=TODAY, legal_user_id=legal_user_id)
        page = staff.client.get(link.href)
        rows = codes_in(page.text)
        total = "1 atención" if counted == 1 else f"{counted} atenciones"
        if page.status_code != 200 or not link.count == counted == len(rows) or f">{total}" not in page.text:
            failures.append(f"{link.label or link.href}: shows {link.count}, count_tickets {counted}, "
                            f"list {len(rows)} rows ({page.status_code})")
        shown = link.texts.get("value") or link.texts.get("kpi-value")
        if shown != str(link.count):
            failures.append(f"{link.href}: drawn {shown!r}, data-count {link.count}")
    assert not failures, "\n".join(failures)


def test_every_number_is_its_lists_count(admin, panel_app, data):
    r = admin.get("/resumen")
    assert r.status_code == 200
    links = dashboard_links(r.text)
    check_every_link(admin, panel_app, links, legal_user_id=None)
    assert {link.href: link.count for link in links if link.kind == "kpi"} == {
        "/?open=1": 7,  # all but AT-000004 and AT-000007 (Cerrado)
        "/?alert=overdue": 3,  # AT-000002, 6, 9
        "/?alert=attended_on_time&attended_from=2024-12-08&attended_to=2025-01-06": 1,  # AT-000001
        "/?alert=attended_late&attended_from=2024-12-08&attended_to=2025-01-06": 2,  # AT-000004, 7
    }
    assert bars_of(links, "chart-open") == {"Registrado": 4, "Asignado": 1, "En proceso": 0, "Atendido": 2}
    assert [link.label for link in links if link.chart == "chart-open"] == [
        "Registrado", "Asignado", "En proceso", "Atendido"]  # the flow's order; closed states left out
    assert bars_of(links, "chart-overdue-type") == {"Reclamo": 1, "Atención": 1, HOSTILE_TYPE: 1, "Trámite": 0}
    assert bars_of(links, "chart-overdue-area") == {"Área Legal": 1, "Postventa": 1, LONG_AREA: 1}
    assert bars_of(links, "chart-attended") == {"Dentro de plazo": 1, "Fuera de plazo": 2}
    hrefs = {link.label: link.href for link in links if link.chart}
    assert hrefs["Reclamo"] == "/?type=Reclamo&alert=overdue"
    assert hrefs["Postventa"] == "/?area=Postventa&alert=overdue"
    assert hrefs["Asignado"] == "/?status=Asignado&open=1"
    # every ticket has a type: the type bars add up to the overdue figure
    assert sum(bars_of(links, "chart-overdue-type").values()) == 3


def test_markup_in_a_name_is_text(admin, data):
    html = admin.get("/resumen").text
    assert "<b>Garantía" not in html
    assert "&lt;b&gt;Garantía &amp; &#34;Co&#34;&lt;/b&gt;" in html
    (link,) = [link for link in dashboard_links(html) if link.label == HOSTILE_TYPE]
    assert link.texts["title"] == f"{HOSTILE_TYPE}: 1 atención con retraso"
    assert link.texts["label"] == '<b>Garantía & "Co"</…'  # shortened on the chart, whole in the title
    titles = {link.label: link.texts["title"] for link in dashboard_links(html) if link.chart == "chart-open"}
    assert titles["Asignado"] == "Asignado: 1 atención abierta"
    assert titles["Registrado"] == "Registrado: 4 atenciones abiertas"
    assert titles["En proceso"] == "En proceso: 0 atenciones abiertas"
    long = [link for link in dashboard_links(html) if link.label == LONG_AREA][0]
    assert long.texts["label"].endswith("…") and long.texts["title"].startswith(LONG_AREA)


def test_the_window_is_30_local_dates_ending_today(staff, panel_app, data):
    """Today moved one day on: AT-000007, attended on 2024-12-08 (local), leaves the window."""
    from datetime import timedelta

    panel_app.config["ATENCION_TODAY"] = TODAY + timedelta(days=1)
    assert staff.login("admin@empresa.pe").status_code == 302
    links = dashboard_links(staff.get("/resumen").text)
    late = [link for link in links if link.label == "Fuera de plazo"][0]
    assert late.href == "/?alert=attended_late&attended_from=2024-12-09&attended_to=2025-01-07"
    assert late.count == 1  # AT-000004 only
    assert "Del 09/12/2024 al 07/01/2025" in staff.get("/resumen").text


def test_a_legal_user_counts_only_their_reclamos(staff, panel_app, data):
    """Jorge sees AT-000002 (his assignment) and AT-000009 (his as legal adviser), not AT-000006."""
    from web_admin.state import panel

    assert staff.login(LEGAL).status_code == 302
    with panel(panel_app).reader() as s:
        jorge = s.scalar(select(User.id).where(User.email == LEGAL))
    html = staff.get("/resumen").text
    assert "solo sus reclamos" in html
    links = dashboard_links(html)
    check_every_link(staff, panel_app, links, legal_user_id=jorge)
    kpis = {link.href.split("&")[0]: link.count for link in links if link.kind == "kpi"}
    assert kpis == {"/?open=1": 2, "/?alert=overdue": 2, "/?alert=attended_on_time": 0,
                    "/?alert=attended_late": 0}
    assert bars_of(links, "chart-overdue-type") == {"Reclamo": 1, HOSTILE_TYPE: 1, "Atención": 0, "Trámite": 0}
    assert bars_of(links, "chart-overdue-area")["Postventa"] == 0


def test_anonymous_users_go_to_the_login(staff):
    r = staff.get("/resumen")
    assert r.status_code == 302
    assert urlsplit(r.location).path == "/login"
    assert dict(parse_qsl(urlsplit(r.location).query)) == {"next": "/resumen"}
    assert staff.login("admin@empresa.pe", next_="/resumen").location == "/resumen"


def test_the_nav_links_to_the_dashboard(admin):
    assert '<a href="/resumen" class="">Resumen</a>' in admin.get("/").text
    assert '<a href="/resumen" class="active">Resumen</a>' in admin.get("/resumen").text


def test_a_zero_bar_is_a_zero_length_link(admin):
    """On the harness's five tickets alone no overdue ticket is of area Postventa: its bar is drawn
    0 long, and is still a link (to an empty list)."""
    links = dashboard_links(admin.get("/resumen").text)
    postventa = [link for link in links if link.label == "Postventa"][0]
    assert postventa.count == 0
    html = admin.get("/resumen").text
    start = html.index('data-label="Postventa"')
    bar = html[start:html.index("</a>", start)]
    assert re.search(r'<rect class="bar" [^>]*width="0(\.0)?"', bar)


def test_a_blank_catalog_name_is_no_bar(admin, Session):  # noqa: N803 - the session factory fixture
    """An area named "  " would be no filter (every overdue ticket): it is left out."""
    with Session.begin() as s:
        s.add(Area(name="  "))
    links = dashboard_links(admin.get("/resumen").text)
    assert set(bars_of(links, "chart-overdue-area")) == {"Postventa", "Área Legal"}
