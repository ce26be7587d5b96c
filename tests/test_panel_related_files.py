"""Archivos relacionados in the panel (issue 10, item 5): the admin page (pick the owner, upload with
a description, list, delete; refused to agents and legal users), the card on the ticket view and
on Nueva atención (the fragment the script fetches, and without script after «Buscar» or a
validation re-render), and the downloads (headers; who may). Flask test client on SQLite and
PostgreSQL (tests.panel_harness: Los Olivos/Torre A/101 sold by C-2024-100, AT-000001 on it;
jorge@empresa.pe is the legal adviser of AT-000002, on Las Palmas/Bloque B/E-12)."""

from __future__ import annotations

import io
import re
from datetime import date
from html import unescape

import pytest
from sqlalchemy import select

from tests.panel_harness import AGENT, LEGAL, Staff, csrf_token, make_panel
from tickets.models import Handover, Project, RelatedFile, Subdivision, Unit
from tickets.related_files import Owner, add_file
from web_admin.state import panel

PDF = b"%PDF-1.4\n% manual del departamento\n"


def ids(app) -> dict:
    with panel(app).sessions() as s:
        olivos = s.scalar(select(Project).where(Project.name == "Los Olivos"))
        torre = s.scalar(select(Subdivision).where(Subdivision.name == "Torre A"))
        unit = s.scalar(select(Unit).where(Unit.subdivision_id == torre.id, Unit.number == "101"))
        palmas = s.scalar(select(Project).where(Project.name == "Las Palmas"))
        return {"proyecto": olivos.id, "torre": torre.id, "unidad": unit.id, "palmas": palmas.id}


def put(app, kind: str, owner_id: int, name: str, data: bytes = PDF, ctype: str = "application/pdf", **kw) -> int:
    with panel(app).sessions.begin() as s:
        return add_file(s, panel(app).settings.storage_dir, Owner(kind, owner_id), filename=name, content_type=ctype,
                        data=data, max_bytes=1 << 20, **kw).id


def owners(html: str) -> list[str]:
    """The owner headings of the card "Archivos relacionados", in order."""
    card = re.search(r'<div class="card related-files" id="archivos-relacionados".*?</div>', html, re.S)
    assert card, "no related files card"
    return [unescape(h) for h in re.findall(r'<h3 class="rf-owner" data-owner="\w+">([^<]*)</h3>', card.group(0))]


def card_links(html: str) -> list[tuple[str, str]]:
    card = re.search(r'<div class="card related-files" id="archivos-relacionados".*?</div>', html, re.S).group(0)
    return [(unescape(href), unescape(name.strip())) for href, name in
            re.findall(r'<a href="([^"]+)" download><svg[^>]*>.*?</svg>([^<]*)</a>', card, re.S)]


def upload(staff: Staff, data: dict, files: dict | None = None):
    token = csrf_token(staff.get("/").text)  # the logout form's token: the session's
    form = {**{k: str(v) for k, v in data.items()}, "csrf_token": token}
    for name, (filename, content) in (files or {}).items():
        form[name] = (io.BytesIO(content), filename)
    return staff.client.post("/archivos-relacionados", data=form, content_type="multipart/form-data")


def test_admin_picks_a_unit_uploads_lists_and_deletes(panel_app, admin):
    page = admin.get("/archivos-relacionados")
    assert page.status_code == 200
    # a page of Administración: its strip names it, the top bar's Administración is lit
    assert '<a href="/archivos-relacionados" class="active">Archivos relacionados</a>' in page.text
    assert re.search(r'<a href="/admin/" class="active">Administración</a>', page.text)
    assert "Elija un proyecto" in page.text and 'id="upload-form"' not in page.text
    n = ids(panel_app)
    # each choice lists the next one's options: the project its torres, the torre its units
    page = admin.get("/archivos-relacionados", proyecto=n["proyecto"])
    assert f'<option value="{n["torre"]}">Torre A</option>' in page.text
    assert "Archivos de Proyecto Los Olivos" in page.text
    page = admin.get("/archivos-relacionados", proyecto=n["proyecto"], torre=n["torre"], unidad=n["unidad"])
    assert "Archivos de Dpto. 101" in page.text and "Todavía no tiene archivos." in page.text
    assert re.search(r'<option value="\d+">Contrato C-2024-100</option>', page.text)
    # a unit of another torre is dropped: the owner is the torre
    assert "Archivos de Torre A" in admin.get("/archivos-relacionados", proyecto=n["proyecto"], torre=n["torre"],
                                              unidad=999_999).text

    r = upload(admin, {"proyecto": n["proyecto"], "torre": n["torre"], "unidad": n["unidad"],
                       "description": "Manual del propietario"},
               {"file": ("../Manual Dpto 101.pdf", PDF)})
    assert r.status_code == 302
    assert r.location == f"/archivos-relacionados?proyecto={n['proyecto']}&torre={n['torre']}&unidad={n['unidad']}"
    with panel(panel_app).sessions() as s:
        (row,) = s.scalars(select(RelatedFile)).all()
        assert (row.unit_id, row.project_id, row.filename, row.content_type, row.size, row.description) == (
            n["unidad"], None, "Manual Dpto 101.pdf", "application/pdf", len(PDF), "Manual del propietario")
        assert row.uploaded_by.name == "Ana Administradora"
    page = admin.client.get(r.location)
    assert "Archivo «Manual Dpto 101.pdf» agregado." in unescape(page.text)
    assert f'<a href="/archivos-relacionados/{row.id}" download>Manual Dpto 101.pdf</a>' in page.text
    assert "Manual del propietario" in page.text and "Ana Administradora" in page.text

    token = csrf_token(page.text)
    r = admin.client.post(f"/archivos-relacionados/{row.id}/eliminar", data={
        "csrf_token": token, "proyecto": n["proyecto"], "torre": n["torre"], "unidad": n["unidad"]})
    assert r.status_code == 302 and r.location.endswith(f"unidad={n['unidad']}")
    assert "Archivo «Manual Dpto 101.pdf» eliminado." in unescape(admin.client.get(r.location).text)
    with panel(panel_app).sessions() as s:
        assert s.scalars(select(RelatedFile)).all() == []


def test_upload_errors_are_shown_in_spanish(Session, tmp_path):
    from tests.panel_harness import ADMIN, add_staff

    add_staff(Session)
    app = make_panel(Session, tmp_path, settings={"max_message_kib": 1})
    try:
        admin = Staff(app.test_client())
        admin.login(ADMIN)
        n = ids(app)
        r = upload(admin, {"description": "x"}, {"file": ("a.pdf", PDF)})
        assert r.status_code == 400 and 'id="err-owner">Elija a qué pertenece el archivo.' in unescape(r.text)
        r = upload(admin, {"proyecto": n["proyecto"]}, {"file": ("vacio.pdf", b"")})
        assert r.status_code == 400
        assert 'id="err-file">Elija un archivo (no puede estar vacío).' in unescape(r.text)
        r = upload(admin, {"proyecto": n["proyecto"], "description": "Planos"}, {"file": ("big.pdf", b"x" * 2048)})
        assert r.status_code == 400
        assert 'id="err-file">El archivo pesa 2.0 KB; el máximo es 1.0 KB.' in unescape(r.text)
        assert "Máximo 1.0 KB." in r.text
        assert 'value="Planos"' in r.text  # the description is kept
        with panel(app).sessions() as s:
            assert s.scalars(select(RelatedFile)).all() == []
    finally:
        panel(app).close()


@pytest.mark.parametrize("email", [AGENT, LEGAL])
def test_agents_and_legal_users_may_not_manage_files(panel_app, staff, email):
    n = ids(panel_app)
    file_id = put(panel_app, "project", n["proyecto"], "planos.pdf")
    assert staff.get("/archivos-relacionados").status_code == 302  # not logged in: to the login page
    staff.login(email)
    home = staff.get("/")
    assert "Archivos relacionados" not in home.text  # no nav link
    assert staff.get("/archivos-relacionados").status_code == 403
    token = csrf_token(home.text)
    r = staff.client.post("/archivos-relacionados", data={
        "csrf_token": token, "proyecto": n["proyecto"], "file": (io.BytesIO(PDF), "x.pdf")},
        content_type="multipart/form-data")
    assert r.status_code == 403
    assert staff.client.post(f"/archivos-relacionados/{file_id}/eliminar",
                             data={"csrf_token": token}).status_code == 403
    with panel(panel_app).sessions() as s:
        assert [f.filename for f in s.scalars(select(RelatedFile))] == ["planos.pdf"]


@pytest.fixture
def filed(panel_app):
    """Files on Los Olivos, Torre A, 101, C-2024-100 and its handover (15/03/2025, the signed
    record), and on Las Palmas. Returns the ids by owner."""
    n = ids(panel_app)
    with panel(panel_app).sessions.begin() as s:
        from tickets.models import Contract

        contract = s.scalar(select(Contract).where(Contract.number == "C-2024-100"))
        handover = Handover(unit_id=n["unidad"], contract_id=contract.id, handed_over_on=date(2025, 3, 15),
                            observations="Puerta del baño roza el piso.")
        s.add(handover)
        s.flush()
        contract_id, handover_id = contract.id, handover.id
    out = {"project": put(panel_app, "project", n["proyecto"], "planos.pdf", description="Planos generales"),
           "subdivision": put(panel_app, "subdivision", n["torre"], "reglamento.pdf"),
           "unit": put(panel_app, "unit", n["unidad"], "Manual 101 ñandú.pdf"),
           "contract": put(panel_app, "contract", contract_id, "contrato.pdf"),
           "handover": put(panel_app, "handover", handover_id, "acta.pdf"),
           "palmas": put(panel_app, "project", n["palmas"], "<script>.html", data=b"<script>alert(1)</script>",
                         ctype="text/html")}
    with panel(panel_app).sessions.begin() as s:
        s.get(Handover, handover_id).record_file_id = out["handover"]
    return out


OLIVOS_101 = ["Proyecto Los Olivos", "Torre A", "Dpto. 101", "Contrato C-2024-100", "Entrega 15/03/2025"]


def test_ticket_view_lists_the_files_of_its_unit_grouped_by_owner(panel_app, admin, filed):
    html = admin.get("/atenciones/AT-000001").text
    assert owners(html) == OLIVOS_101
    links = card_links(html)
    assert links[0] == (f"/archivos-relacionados/{filed['project']}?atencion=AT-000001", "planos.pdf")
    assert [name for _, name in links] == ["planos.pdf", "reglamento.pdf", "Manual 101 ñandú.pdf", "contrato.pdf",
                                           "acta.pdf"]
    assert "Planos generales" in html and "Acta firmada" in html and "Puerta del baño roza el piso." in html
    assert owners(admin.get("/atenciones/AT-000002").text) == ["Proyecto Las Palmas"]
    html = admin.get("/atenciones/AT-000003").text  # no project, no unit
    assert owners(html) == []
    assert "No hay archivos relacionados con el proyecto, la unidad o el contrato de esta atención." in html


def test_new_ticket_card_follows_the_chosen_unit(panel_app, admin, filed):
    page = admin.get("/atenciones/nueva")
    assert owners(page.text) == [] and "Elija el proyecto y la unidad" in page.text
    assert 'data-fragment-url="/archivos-relacionados/fragmento"' in page.text
    # the fragment the script fetches when Proyecto, Torre, Unidad or N° de contrato change
    r = admin.get("/archivos-relacionados/fragmento", project="Los Olivos", subdivision="Torre A", unit="101")
    assert r.status_code == 200 and r.text.lstrip().startswith('<div class="card related-files"')
    assert owners(r.text) == OLIVOS_101
    assert card_links(r.text)[2] == (f"/archivos-relacionados/{filed['unit']}", "Manual 101 ñandú.pdf")
    assert owners(admin.get("/archivos-relacionados/fragmento", project="Los Olivos", subdivision="Torre A",
                            unit="D-5").text) == ["Proyecto Los Olivos", "Torre A"]
    r = admin.get("/archivos-relacionados/fragmento", project="Las Palmas")
    assert owners(r.text) == ["Proyecto Las Palmas"]
    r = admin.get("/archivos-relacionados/fragmento", project="Ninguno")
    assert owners(r.text) == [] and "Elija el proyecto y la unidad" in r.text
    # without script: «Buscar» fills the header (C-2024-100 → Los Olivos, Torre A, 101), the card follows
    token = csrf_token(page.text)
    r = admin.client.post("/atenciones/nueva", data={"csrf_token": token, "action": "buscar",
                                                     "search_contract": "C-2024-100", "priority": "Media"})
    assert r.status_code == 200 and owners(r.text) == OLIVOS_101
    # a validation re-render keeps it (no Asunto, no Detalle)
    r = admin.client.post("/atenciones/nueva", data={
        "csrf_token": token, "action": "crear", "requester_name": "Ana Torres", "requester_email": "ana@cliente.pe",
        "project": "Los Olivos", "subdivision": "Torre A", "unit": "101", "priority": "Media"})
    assert r.status_code == 400 and "Escriba el asunto." in r.text
    assert owners(r.text) == OLIVOS_101
    # an agent gets the fragment too; a legal user (who cannot create tickets) does not
    admin.logout()
    admin.login(AGENT)
    assert owners(admin.get("/archivos-relacionados/fragmento", project="Las Palmas").text) == ["Proyecto Las Palmas"]


def test_legal_user_gets_no_fragment(panel_app, staff, filed):
    staff.login(LEGAL)
    assert staff.get("/archivos-relacionados/fragmento", project="Las Palmas").status_code == 403


def test_download_headers(panel_app, admin, filed):
    r = admin.get(f"/archivos-relacionados/{filed['unit']}")
    assert r.status_code == 200 and r.data == PDF
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Disposition"] == (
        "attachment; filename=\"Manual 101 nandu.pdf\"; filename*=UTF-8''Manual%20101%20%C3%B1and%C3%BA.pdf")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "private, no-store"
    # HTML is never served as HTML
    r = admin.get(f"/archivos-relacionados/{filed['palmas']}")
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith("attachment;") and r.data == b"<script>alert(1)</script>"
    assert admin.get("/archivos-relacionados/999999").status_code == 404


def test_who_may_download(panel_app, staff, filed):
    assert staff.get(f"/archivos-relacionados/{filed['unit']}").status_code == 302  # to the login page
    staff.login(AGENT)
    assert staff.get(f"/archivos-relacionados/{filed['unit']}").status_code == 200  # staff: any file
    staff.logout()
    # a legal user: only from a ticket of theirs (AT-000002, Las Palmas), only what it lists
    staff.login(LEGAL)
    assert staff.get(f"/archivos-relacionados/{filed['palmas']}").status_code == 404
    html = staff.get("/atenciones/AT-000002").text
    assert card_links(html) == [(f"/archivos-relacionados/{filed['palmas']}?atencion=AT-000002", "<script>.html")]
    assert staff.get(f"/archivos-relacionados/{filed['palmas']}", atencion="AT-000002").status_code == 200
    assert staff.get(f"/archivos-relacionados/{filed['unit']}", atencion="AT-000002").status_code == 404
    assert staff.get(f"/archivos-relacionados/{filed['unit']}", atencion="AT-000001").status_code == 404
