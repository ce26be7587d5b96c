"""The panel's list (issue 9, item 2): every filter of tickets.queries over HTTP narrows the
seeded data to exactly the expected rows (the CASES of tests/test_queries.py, as query strings),
bad values show their Spanish message next to their field, dependent choices, sort and pages.
Flask test client, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.panel_harness import AGENT, codes_in
from tests.test_queries import CASES
from web_admin import listing
from web_admin.filter_form import CELLS, SEED_CELLS


def nums(html: str) -> set[int]:
    return {int(c.split("-")[1]) for c in codes_in(html)}


def test_the_form_has_every_filter_once_and_the_seeds_17(admin):
    from tickets.queries import FILTER_NAMES

    assert len(SEED_CELLS) == 17
    html = admin.get("/").text
    for name in FILTER_NAMES:  # one widget each (a catalog filter's boxes share its name)
        assert len(re.findall(rf'id="f-{name}"', html)) == 1, name
        assert re.search(rf'name="{name}"', html), name
    for title, _ in CELLS[:-1]:
        assert f">{title}</label>" in html.replace("&amp;", "&"), title


def test_every_filter(admin, panel_app):
    """Each case of test_queries as a URL: its rows, its count; a catalog name that does not exist
    (``type=Garantías``) is not an empty list but the field's message listing the valid ones."""
    from tickets.queries import FilterError, Filters
    from web_admin.state import panel

    failures = []
    for filters, expected in CASES:
        r = admin.get("/", **filters)
        with panel(panel_app).reader() as s:
            try:
                Filters.from_mapping(filters).validate(s)
            except FilterError as exc:
                if r.status_code != 400 or not error_of(r.text, exc.field).startswith(exc.message[:30]):
                    failures.append(f"{filters}: no message for {exc.field} ({r.status_code})")
                continue
        got = nums(r.text)
        if r.status_code != 200 or got != expected:
            failures.append(f"{filters}: expected {sorted(expected)}, got {sorted(got)} ({r.status_code})")
        total = "1 atención" if len(expected) == 1 else f"{len(expected)} atenciones"
        if f">{total}" not in r.text:
            failures.append(f"{filters}: no '{total}' in the page")
    assert not failures, "\n".join(failures)


def test_unfiltered_list_shows_every_ticket_newest_first(admin):
    r = admin.get("/")
    assert codes_in(r.text) == ["AT-000003", "AT-000005", "AT-000001", "AT-000002", "AT-000004"]
    assert ">5 atenciones<" in r.text


def test_row_cells_and_alert_colours(admin):
    html = admin.get("/", code="AT-2").text
    row = html[html.index('<tr class="row-overdue">'):]
    row = row[:row.index("</tr>")]
    for text in ("01/01/2025 09:00", "Filtración en estacionamiento", "Luis Pérez", "Las Palmas",
                 "Bloque B", "E-12", "Asignado", "Jorge Ríos", "Alta", "3 días de retraso"):
        assert text in unescape(row), text
    assert 'class="num days days-overdue">5<' in row
    assert 'class="alert alert-overdue"' in row
    assert 'href="/atenciones/AT-000002"' in row
    states = {"AT-1": "attended_on_time", "AT-3": "on_time", "AT-4": "attended_late"}
    for code, state in states.items():
        assert f'class="alert alert-{state}"' in admin.get("/", code=code).text, code


def test_alert_filter_offers_the_columns_words(admin):
    """The "Alerta de la atención" filter's options say what the column says ("Atendido fuera de
    plazo"), not another wording of it."""
    for code, value in (("AT-1", "attended_on_time"), ("AT-4", "attended_late")):
        html = unescape(admin.get("/", code=code).text)
        shown = re.search(r'class="alert alert-[a-z_]+">([^<]+)<', html).group(1)
        assert re.search(rf'<option value="{value}"[^>]*>{shown}</option>', html), (value, shown)


def error_of(html: str, field: str) -> str:
    m = re.search(rf'<p class="field-error" id="err-{field}">([^<]*)</p>', html)
    return unescape(m.group(1)) if m else ""


def test_bad_values_show_the_fields_spanish_message(admin):
    r = admin.get("/", status="Cerradoo", days_min="tres", requested_from="2025-02-30", code="AT-1")
    assert r.status_code == 400
    assert error_of(r.text, "status") == ("estado desconocido 'Cerradoo' (válidos: Anulado, Asignado, "
                                          "Atendido, Cerrado, En proceso, Registrado)")
    assert error_of(r.text, "days_min") == "número de días no válido 'tres' (use un entero mayor o igual a 0)"
    assert error_of(r.text, "requested_from") == "fecha no válida '2025-02-30' (use AAAA-MM-DD)"
    assert error_of(r.text, "code") == ""
    assert "Revise los filtros marcados: 3 valores no son válidos." in r.text
    assert codes_in(r.text) == []
    # the message sits in the field's own cell, and the typed values are kept
    cell = r.text[r.text.index('for="f-days_min"'):]
    assert cell.index('id="err-days_min"') < re.search(r'<div class="cell[" ]', cell).start()
    assert 'value="tres"' in r.text and 'value="AT-1"' in r.text
    r = admin.get("/", days_min="5", days_max="2")
    assert error_of(r.text, "days_max") == "el máximo (2) es menor que el mínimo (5)"
    r = admin.get("/", assignee="pedro")
    assert error_of(r.text, "assignee").startswith("usuario desconocido 'pedro' (válidos: none, ")
    # the export of a bad URL goes back to the list, which shows the messages
    r = admin.get("/exportar", status="Cerradoo")
    assert r.status_code == 302 and r.location == "/?status=Cerradoo"


def test_empty_fields_are_dropped_from_the_url(admin):
    r = admin.client.get("/?q=&status=&project=los+olivos&sort=code&page=")
    assert r.status_code == 302
    assert parse_qs(urlsplit(r.location).query) == {"project": ["los olivos"], "sort": ["code"]}


def test_catalog_selects_keep_the_current_value(admin):
    html = admin.get("/", status="atendido", project="los olivos").text
    assert '<input type="checkbox" name="status" value="Atendido" checked>' in html
    assert '<option value="Los Olivos" selected>' in html


def test_several_values_of_a_catalog_filter(admin):
    """``status=A&status=B``: either; the boxes stay checked and the summary names them; several
    projects in a shared URL keep a multiple select, so sending the form again loses none."""
    r = admin.client.get("/?status=Atendido&status=cerrado&priority=Alta&priority=Media")
    assert r.status_code == 200
    assert nums(r.text) == {1, 4}
    html = r.text
    for value in ("Atendido", "Cerrado", "Alta", "Media"):
        assert re.search(rf'name="(status|priority)" value="{value}" checked>', html), value
    assert "<summary>Atendido, Cerrado</summary>" in html
    assert '<input type="checkbox" name="status" value="Registrado">' in html  # not checked
    html = admin.client.get("/?project=Los+Olivos&project=las+palmas").text
    assert nums(html) == {1, 2}
    select = html[html.index('id="f-project"'):]
    select = select[:select.index("</select>")]
    assert "multiple" in select and select.count(" selected") == 2
    assert options_of(html, "subdivision") == ["Bloque B", "Torre A"]  # both projects' towers
    # the export of that URL has the same rows
    from io import BytesIO

    from openpyxl import load_workbook

    xlsx = admin.client.get("/exportar?status=Atendido&status=cerrado")
    assert xlsx.status_code == 200
    sheet = load_workbook(BytesIO(xlsx.data), read_only=True).active
    assert sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True)) == ["AT-000001", "AT-000004"]
    # one unknown name among several: the field's message
    r = admin.client.get("/?status=Atendido&status=Cerradoo")
    assert r.status_code == 400 and "estado desconocido &#39;Cerradoo&#39;" in r.text


def options_of(html: str, select: str) -> list[str]:
    block = html[html.index(f'id="f-{select}"'):]
    block = block[:block.index("</select>")]
    return [unescape(v) for v in re.findall(r'<option value="([^"]*)"', block) if v]


def datalist_of(html: str, name: str) -> list[str]:
    block = html[html.index(f'id="dl-{name}"'):]
    block = block[:block.index("</datalist>")]
    return [unescape(v) for v in re.findall(r'<option value="([^"]*)"', block)]


def test_dependent_choices_without_javascript(admin):
    html = admin.get("/").text
    assert options_of(html, "subdivision") == ["Bloque B", "Torre A"]
    assert datalist_of(html, "unit") == []  # no project: no unit suggestions
    html = admin.get("/", project="los olivos").text
    assert options_of(html, "subdivision") == ["Torre A"]
    assert datalist_of(html, "unit") == ["101", "D-5"]
    html = admin.get("/", project="Las Palmas", subdivision="Bloque B").text
    assert options_of(html, "subdivision") == ["Bloque B"]
    assert datalist_of(html, "unit") == ["E-12"]
    # a tower of another project stays visible (and selected) rather than vanish
    html = admin.get("/", project="Las Palmas", subdivision="Torre A").text
    assert options_of(html, "subdivision") == ["Bloque B", "Torre A"]
    assert admin.get("/filtros/opciones", project="LOS OLIVOS").json == {
        "subdivisions": ["Torre A"], "units": ["101", "D-5"]}
    assert admin.get("/filtros/opciones", project="Los Olivos", subdivision="torre a").json["units"] == ["101", "D-5"]
    assert admin.get("/filtros/opciones").json == {"subdivisions": ["Bloque B", "Torre A"], "units": []}


@pytest.mark.parametrize("sort, expected", [
    ("code", [1, 2, 3, 4, 5]),
    ("-code", [5, 4, 3, 2, 1]),
    ("requested_at", [4, 2, 1, 5, 3]),
    ("priority", [1, 4, 5, 2, 3]),
    ("-priority", [3, 2, 5, 4, 1]),
    ("subject", [3, 2, 4, 1, 5]),
    ("project", [2, 1, 3, 4, 5]),  # empty last
    ("-project", [5, 4, 3, 1, 2]),  # empty first
    ("assignee", [2, 1, 3, 4, 5]),
    ("bogus", [3, 5, 1, 2, 4]),  # unknown: the default, -requested_at
])
def test_sort(admin, sort, expected):
    html = admin.get("/", sort=sort).text
    assert [int(c.split("-")[1]) for c in codes_in(html)] == expected


def test_sort_links_toggle_and_keep_the_filters(admin):
    html = unescape(admin.get("/", status="registrado", sort="code").text)
    assert 'href="/?status=registrado&sort=-code">Código ▲' in html
    assert 'href="/?status=registrado&sort=subject">Asunto<' in html


def test_pages_keep_filters_and_sort(admin, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    html = admin.get("/", open="1", sort="code").text  # AT-000001, 2, 3, 5
    assert codes_in(html) == ["AT-000001", "AT-000002"]
    assert ">4 atenciones con los filtros aplicados<" in html and "Página 1 de 2" in html
    links = [unescape(h) for h in re.findall(r'<a href="([^"]*)" rel="next">', html)]
    assert links == ["/?open=1&sort=code&page=2"]
    html = admin.client.get(links[0]).text
    assert codes_in(html) == ["AT-000003", "AT-000005"]
    assert "Página 2 de 2" in html and 'rel="prev"' in html and 'rel="next"' not in html
    assert unescape(re.search(r'id="export" href="([^"]*)"', html).group(1)) == "/exportar?open=1&sort=code"
    # past the last page: the last page; nonsense: the first
    assert codes_in(admin.get("/", open="1", sort="code", page="9").text) == ["AT-000003", "AT-000005"]
    assert codes_in(admin.get("/", open="1", sort="code", page="x").text) == ["AT-000001", "AT-000002"]
    # SLA filters page over the filtered stream (AT-000003 and AT-000005 are on time)
    monkeypatch.setattr(listing, "PAGE_SIZE", 1)
    html = admin.get("/", alert="on_time", sort="code", page="2").text
    assert codes_in(html) == ["AT-000005"] and "Página 2 de 2" in html


def test_page_numbers():
    assert listing.page_numbers(1, 1) == [1]
    assert listing.page_numbers(1, 10) == [1, 2, 3, None, 10]
    assert listing.page_numbers(6, 20) == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert listing.page_numbers(20, 20) == [1, None, 18, 19, 20]


def test_fifty_a_page(admin, panel_app):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tickets.services import Context, open_ticket
    from web_admin.state import panel

    with panel(panel_app).sessions.begin() as s:
        for n in range(55):
            open_ticket(s, Context(storage_dir=panel(panel_app).settings.storage_dir),
                        subject=f"Consulta número {n}", detail="Detalle", requester_email=f"c{n}@cliente.pe",
                        requested_at=datetime(2024, 11, 1, 9, n, tzinfo=ZoneInfo("America/Lima")))
    html = admin.get("/").text
    assert len(codes_in(html)) == 50 and ">60 atenciones<" in html and "Página 1 de 2" in html
    assert len(codes_in(admin.get("/", page="2").text)) == 10


def test_hostile_page_and_dependent_choices(admin):
    """``page=²`` (a digit to str.isdigit, not to int) is page 1; /filtros/opciones takes several
    projects (a shared URL's multiple select) and names a bad value in Spanish."""
    assert admin.client.get("/?page=%C2%B2").status_code == 200
    r = admin.client.get("/filtros/opciones?project=Los+Olivos&project=las+palmas")
    assert r.json == {"subdivisions": ["Bloque B", "Torre A"], "units": ["101", "D-5", "E-12"]}
    r = admin.client.get("/filtros/opciones?project=" + "x" * 201)
    assert r.status_code == 400 and r.json["error"].startswith("project: texto demasiado largo")


def test_unknown_unit_and_huge_days_are_the_fields_errors(admin):
    r = admin.get("/", unit="ZZZ")
    assert r.status_code == 400 and "unidad desconocida &#39;ZZZ&#39;" in r.text
    assert nums(admin.get("/", unit=["101", "E-12"]).text) == {1, 2}
    r = admin.get("/", days_min="999999999")
    assert r.status_code == 400 and "número de días fuera de rango 999999999 (máximo 36500" in r.text


def test_a_capped_count_says_more_than(admin, monkeypatch):
    """Past ``COUNT_CAP`` matches the header says "más de N" and the pager "de M o más"; the pages
    past the cap are still reachable (the cap grows with the page asked for), and the export still
    gives every row."""
    from io import BytesIO

    from openpyxl import load_workbook

    monkeypatch.setattr(listing, "PAGE_SIZE", 1)
    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    html = admin.get("/", open="1", sort="code").text  # 4 tickets: AT-000001, 2, 3, 5
    assert codes_in(html) == ["AT-000001"]
    assert ">más de 2 atenciones con los filtros aplicados<" in html and "Página 1 de 3 o más" in html
    html = admin.get("/", open="1", sort="code", page="3").text
    assert codes_in(html) == ["AT-000003"] and "más de 3 atenciones" in html and "Página 3 de 4 o más" in html
    html = admin.get("/", open="1", sort="code", page="4").text  # the cap (4) reaches the last row
    assert codes_in(html) == ["AT-000005"] and ">4 atenciones con" in html and "Página 4 de 4 ·" in html
    assert 'rel="next"' not in html
    monkeypatch.setattr(listing, "COUNT_CAP", 4)
    html = admin.get("/", open="1", sort="code").text
    assert ">4 atenciones con los filtros aplicados<" in html and "Página 1 de 4 ·" in html
    sheet = load_workbook(BytesIO(admin.get("/exportar", open="1", sort="code").data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == \
        ["AT-000001", "AT-000002", "AT-000003", "AT-000005"]


def test_count_tickets_cap(panel_app):
    from tickets.queries import Filters, count_tickets
    from web_admin.state import panel

    with panel(panel_app).reader() as s:
        exact = count_tickets(s, Filters())
        assert exact > 3
        assert count_tickets(s, Filters(), cap=exact) == exact
        assert count_tickets(s, Filters(), cap=2) == 3  # "more than 2"
        assert count_tickets(s, Filters(), cap=0) == 1
        # the SLA filters count disjoint branches (open, attended): the cut applies to their sum
        on_time = count_tickets(s, Filters(alert="on_time"))
        assert count_tickets(s, Filters(alert="on_time"), cap=1) == min(on_time, 2)
        assert count_tickets(s, Filters(days_min=0), cap=exact + 5) == count_tickets(s, Filters(days_min=0))


def test_ticket_link_back_to_the_list_as_left(admin):
    """A ticket's "Atención al Cliente" link returns to the list with the filters, sort and page it
    was left with (not the whole list); a bad filter is not kept; an unfiltered list: the list."""
    def back_link() -> str:
        html = admin.get("/atenciones/AT-000001").text
        return unescape(re.search(r'<a href="([^"]*)">Atención al Cliente</a> ›', html).group(1))

    assert back_link() == "/"
    admin.get("/", requester="ana torres", status="Atendido", sort="-code")
    assert back_link() == "/?requester=ana+torres&status=Atendido&sort=-code"
    assert admin.get("/", days_min="tres").status_code == 400  # a bad value: the last good one stays
    assert back_link() == "/?requester=ana+torres&status=Atendido&sort=-code"
    admin.get("/")
    assert back_link() == "/"
    # the list a user left does not pass to the next one who logs in on the same browser
    admin.get("/", status="Atendido")
    assert back_link() == "/?status=Atendido"
    assert admin.logout().status_code == 302
    assert admin.login(AGENT).status_code == 302
    assert back_link() == "/"
