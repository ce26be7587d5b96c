"""Held mail in the panel, "Correos retenidos" (issue 9, item 6): the list with reason, sender,
subject and text; release as a comment on the ticket it named or on another one, or as a new
ticket; discard — recorded on the ticket's logbook, as ``atencion held`` does. Also an inbound
mail's original page (sanitised with nh3). SQLite and PostgreSQL (tests.panel_harness)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from tests.cli_harness import stranger_reply
from tests.panel_harness import LEGAL, csrf_token
from tests.support import build
from tickets.models import HeldMessage, LogbookEntry, OutboxMessage, Ticket
from tickets.services import Context
from web_admin.state import panel


def ingest_mail(app, raw: bytes, uid: int):
    from mail.inbound.ingest import Envelope, ingest
    from mail.mailboxes import import_rules

    settings = panel(app).settings
    return ingest(panel(app).sessions, Context.from_settings(settings), import_rules(settings), raw,
                  Envelope("INBOX", 1, uid, received_at=datetime(2025, 1, 6, 15, tzinfo=UTC)))


def held_ids(app) -> list[int]:
    with panel(app).sessions() as s:
        return list(s.scalars(select(HeldMessage.id).where(HeldMessage.state == "held").order_by(HeldMessage.id)))


def post(admin, path: str, data: dict | None = None):
    token = csrf_token(admin.get("/correos-retenidos").text)
    return admin.client.post(path, data={**(data or {}), "csrf_token": token})


def test_held_list_release_and_discard(panel_app, admin):
    for n in (1, 2, 3):
        assert ingest_mail(panel_app, stranger_reply(n, "AT-000001"), n).outcome.value == "held"
    first, second, third = held_ids(panel_app)
    html = admin.get("/correos-retenidos").text
    assert "3 correos esperan una decisión" in html
    assert "remitente no autorizado" in html and "vecino1@example.org" in html
    assert "Yo también tengo el problema número 1." in html and "Nombra la atención" in html

    # release to the ticket it named: a comment there
    r = post(admin, f"/correos-retenidos/{first}/liberar")
    assert r.status_code == 302
    assert "Correo liberado como comentario en AT-000001." in admin.get("/correos-retenidos").text
    # release to another ticket
    r = post(admin, f"/correos-retenidos/{second}/liberar", {"to": "AT-000003"})
    assert r.status_code == 302
    # a bad code: the message next to that row's field
    r = post(admin, f"/correos-retenidos/{third}/liberar", {"to": "AT-999"})
    assert r.status_code == 400 and f'id="err-held-{third}">No existe la atención AT-999.' in r.text
    # discard
    assert post(admin, f"/correos-retenidos/{third}/descartar").status_code == 302
    assert held_ids(panel_app) == []
    assert "No hay correos retenidos." in admin.get("/correos-retenidos").text
    # twice: refused, in Spanish
    r = post(admin, f"/correos-retenidos/{third}/descartar")
    assert r.status_code == 400 and "ya fue descartado" in r.text

    with panel(panel_app).sessions() as s:
        def texts(code, kind):
            t = s.scalar(select(Ticket).where(Ticket.code == code))
            return [e.text for e in s.scalars(select(LogbookEntry).where(LogbookEntry.ticket_id == t.id,
                                                                         LogbookEntry.kind == kind))]
        assert any("problema número 1" in x for x in texts("AT-000001", "comment"))
        assert any("problema número 2" in x for x in texts("AT-000003", "comment"))
        assert any(f"Correo retenido {third} descartado" in x for x in texts("AT-000001", "note"))
        states = dict(s.execute(select(HeldMessage.id, HeldMessage.state)).all())
        assert states == {first: "released", second: "released", third: "discarded"}


def test_release_as_a_new_ticket_with_acknowledgement(panel_app, admin):
    raw = build("Fwd: [AT-000001] consulta", "Consulta de otro vecino.",
                sender="Vecino 9 <vecino9@example.org>", date=datetime(2025, 1, 6, 10, tzinfo=UTC))
    assert ingest_mail(panel_app, raw, 9).outcome.value == "held"
    (held_id,) = held_ids(panel_app)
    # the row names AT-000001: unlink it so that a release opens a new ticket
    with panel(panel_app).sessions.begin() as s:
        s.get(HeldMessage, held_id).ticket_id = None
    with panel(panel_app).sessions() as s:
        before = s.scalar(select(func.count(Ticket.id)))
    assert post(admin, f"/correos-retenidos/{held_id}/liberar").status_code == 302
    assert "Correo liberado como nueva atención AT-000006." in admin.get("/correos-retenidos").text
    with panel(panel_app).sessions() as s:
        assert s.scalar(select(func.count(Ticket.id))) == before + 1
        t = s.scalar(select(Ticket).where(Ticket.code == "AT-000006"))
        assert t.requester_email == "vecino9@example.org"
        ack = s.scalar(select(OutboxMessage).where(OutboxMessage.ticket_id == t.id))
        assert (ack.event, ack.state) == ("acknowledgement", "sent")


def test_held_mail_is_not_for_legal_users(staff):
    assert staff.login(LEGAL).status_code == 302
    assert staff.get("/correos-retenidos").status_code == 403


def test_inbound_original_is_sanitised(panel_app, admin):
    raw = build("Re: [AT-000001] fotos", "Texto plano", sender="Ana Torres <ana@cliente.pe>",
                date=datetime(2025, 1, 6, 9, tzinfo=UTC),
                html='<p onclick="x()">Hola <b>equipo</b></p><script>alert(1)</script>'
                     '<img src="https://tracker.example/p.gif"><a href="javascript:alert(1)">clic</a>')
    result = ingest_mail(panel_app, raw, 20)
    assert result.outcome.value == "comment" and result.code == "AT-000001"
    page = admin.get("/atenciones/AT-000001").text
    link = f"/atenciones/AT-000001/correos/{result.inbound_id}"
    assert "Ver el correo original" in page and link in page
    r = admin.get(link)
    assert r.status_code == 200
    assert "<b>equipo</b>" in r.text and "<script>alert(1)</script>" not in r.text
    assert "onclick" not in r.text and "javascript:" not in r.text
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    eml = admin.get(link + ".eml")
    assert eml.data == raw and eml.headers["Content-Disposition"].startswith("attachment;")
    assert admin.get(f"/atenciones/AT-000002/correos/{result.inbound_id}").status_code == 404
