"""The hard cases of ../shared/cases/ through a real Dovecot and the whole pipeline (README there gives
the expected outcomes), on SQLite and PostgreSQL; plus variants of each case's kind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.shared_data import require_shared
from tests.support import SUPPORT, build
from tickets.models import OutboxMessage, Ticket, utcnow

SUBJECT_1 = "Observaciones de la entrega del departamento – Torre B"


@pytest.fixture
def case():
    """``case("B01")``: the bytes of that hard case (first among a test's fixtures: without the data set,
    skip before the rest)."""
    cases = require_shared("cases")

    def read(name: str) -> bytes:
        [path] = cases.glob(f"{name}-*.eml")
        return path.read_bytes()

    return read


@pytest.fixture
def mailbox(env, dovecot, imap_user):
    """A mailbox where AT-000001 exists as the cases' README requires (Rosa, Percy on the thread)."""
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    dovecot.append(user, build(SUBJECT_1, "Les envío las observaciones de la entrega del departamento.",
                               sender="Rosa Quispe Huamán <rosa.quispe.h@gmail.com>",
                               cc="Percy Villanueva Soto <percy.vsoto@hotmail.com>"))
    assert env.poll(mb).counts == {"ticket": 1}

    def deliver(*raws: bytes):
        before = len(env.inbound())
        for raw in raws:
            dovecot.append(user, raw)
        report = env.poll(mb)
        assert report.error is None
        return env.inbound()[before:]

    return deliver


def outbox_count(env) -> int:
    with env.sessions() as s:
        return len(s.scalars(select(OutboxMessage)).all())


def test_b01_mislabelled_charset(case, env, mailbox):
    [rec] = mailbox(case("B01"))
    assert rec.outcome == "ticket"
    t = env.ticket("AT-000002")
    assert t.subject == "Filtración en el baño del Dpto 504"
    assert "filtración de agua en el baño principal" in t.detail and "\ufffd" not in t.detail


def test_b03_encoded_word_filename(case, env, mailbox):
    [rec] = mailbox(case("B03"))
    assert rec.outcome == "ticket"
    names = [a.filename for e in env.entries("AT-000002") for a in e.attachments]
    assert names == ["Cotización cochera y depósito – Torre B.pdf"]


def test_b04_winmail_dat(case, env, mailbox):
    [rec] = mailbox(case("B04"))
    assert rec.outcome == "ticket"
    t = env.ticket("AT-000002")
    assert "Adjunto la lista de observaciones" in t.detail
    names = [a.filename for e in env.entries("AT-000002") for a in e.attachments]
    assert "Observaciones entrega Dpto 302.txt" in names


def test_b05_forward_as_attachment(case, env, mailbox):
    [rec] = mailbox(case("B05"))
    assert rec.outcome == "ticket"
    t = env.ticket("AT-000002")
    assert "¿es posible reprogramarla para la semana siguiente?" in t.detail
    assert "Le confirmamos su cita" not in t.detail
    assert t.requester_email == "milagros.chavez.t@gmail.com"  # a client, not staff: her own ticket
    names = [a.filename for e in env.entries("AT-000002") for a in e.attachments]
    assert "Cita de entrega de llaves.eml" in names


def test_b07_html_fragment(case, env, mailbox):
    [rec] = mailbox(case("B07"))
    assert rec.outcome == "ticket"
    assert "no funciona el intercomunicador del Dpto 1507" in env.ticket("AT-000002").detail


def test_b08_malformed_date_uses_receive_time(case, env, mailbox):
    start = utcnow() - timedelta(minutes=5)
    [rec] = mailbox(case("B08"))
    assert rec.outcome == "ticket"
    t = env.ticket("AT-000002")
    assert t.subject == "Consulta sobre mantenimiento del ascensor"
    assert "se detuvo dos veces entre el piso 6 y el 7" in t.detail
    assert start <= t.requested_at <= utcnow() + timedelta(minutes=5)  # IMAP INTERNALDATE, not the header


def test_b10_rv_prefix_without_threading_headers(case, env, mailbox):
    [rec] = mailbox(case("B10"))
    assert rec.outcome == "comment"
    [c] = env.entries("AT-000001", "comment")
    assert "Adjunto el plano con las medidas de la ventana del dormitorio" in c.text
    assert "Enviado:" not in c.text and c.author_email == "percy.vsoto@hotmail.com"
    assert [a.filename for a in c.attachments] == ["Plano ventana dormitorio.pdf"]
    assert len(env.tickets()) == 1


def test_b12_emoji_subject(case, env, mailbox):
    [rec] = mailbox(case("B12"))
    assert rec.outcome == "ticket"
    assert env.ticket("AT-000002").subject == "🏠🔑 Entrega de llaves – Dpto 1107 ✅"


def test_b15_outlook_rule_auto_reply(case, env, mailbox):
    before = outbox_count(env)
    [rec] = mailbox(case("B15"))
    assert (rec.outcome, rec.reason) == ("ignored", "auto_reply")
    assert env.entries("AT-000001", "comment") == []
    assert env.ticket("AT-000001").status.name == "Registrado"
    assert outbox_count(env) == before
    assert rec.ticket_id == env.ticket("AT-000001").id


def test_b16_bounce_of_our_ticket_mail(case, env, mailbox):
    before = outbox_count(env)
    [rec] = mailbox(case("B16"))
    assert (rec.outcome, rec.reason) == ("ignored", "bounce")
    assert len(env.tickets()) == 1 and env.entries("AT-000001", "comment") == []
    assert outbox_count(env) == before
    notes = env.entries("AT-000001", "note")
    assert len(notes) <= 1 and all("percy.vsoto@hotmail.con" in n.text for n in notes)


# --- the kinds, not only the files --------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["RV:", "RE:", "Re:", "TR:", "Fwd:", "FW:", "AW:", "RES:", "Re: RV:", "SV:"])
def test_reply_prefixes_match_the_ticket(env, mailbox, prefix):
    [rec] = mailbox(build(f"{prefix} [AT-000001] {SUBJECT_1}", "Nueva información sobre la entrega.",
                          sender="Percy Villanueva Soto <percy.vsoto@hotmail.com>"))
    assert rec.outcome == "comment"


@pytest.mark.parametrize("subject,headers", [
    ("Automatic reply: [AT-000001] Observaciones", {}),
    ("Fuera de la oficina: [AT-000001] Observaciones", {}),
    ("Out of Office: [AT-000001]", {}),
    ("Re: [AT-000001] Observaciones", {"X-Autoreply": "yes"}),
    ("Re: [AT-000001] Observaciones", {"Precedence": "auto_reply"}),
    ("Re: [AT-000001] Observaciones", {"Auto-Submitted": "auto-replied (vacation)"}),
    ("Re: [AT-000001] Observaciones", {"X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent"}),
])
def test_auto_reply_kinds_are_ignored(env, mailbox, subject, headers):
    [rec] = mailbox(build(subject, "Estaré fuera hasta el lunes.", headers=headers,
                          sender="Percy Villanueva Soto <percy.vsoto@hotmail.com>"))
    assert (rec.outcome, rec.reason) == ("ignored", "auto_reply")
    assert env.entries("AT-000001", "comment") == []


@pytest.mark.parametrize("date", ["Lun, 32 Nov 2026 25:61:00 -0500", "x" * 3000, "", "Tue, 1 Feb 99999 10:00:00 +0000"])
def test_broken_dates_take_the_receive_time(env, mailbox, date):
    raw = build("Consulta por el ascensor", "Se detuvo entre pisos.").replace(
        b"Date: ", b"X-Old-Date: ", 1)
    raw = f"Date: {date}\r\n".encode() + raw
    [rec] = mailbox(raw)
    assert rec.outcome == "ticket"
    assert abs(env.ticket("AT-000002").requested_at - utcnow()) < timedelta(minutes=10)


def test_mislabelled_charset_in_html_only_mail(env, mailbox):
    html = "<p>La puerta del baño no cierra y la cerámica está rota.</p>".encode("cp1252")
    raw = (b"From: Ana <ana@example.pe>\r\nTo: " + SUPPORT.encode() + b"\r\nSubject: Puerta\r\n"
           b"Message-ID: <cp1@example.pe>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + html)
    [rec] = mailbox(raw)
    assert rec.outcome == "ticket"
    assert "La puerta del baño no cierra y la cerámica está rota." in env.ticket("AT-000002").detail


def test_emoji_everywhere(env, mailbox):
    [rec] = mailbox(build("🚿 Ducha sin presión 💧", "La ducha no tiene presión 😟 desde ayer 🙏",
                          attachments=[("foto 📷.jpg", "image/jpeg", b"\xff\xd8\xff\xd9")]))
    assert rec.outcome == "ticket"
    t = env.ticket("AT-000002")
    assert t.subject == "🚿 Ducha sin presión 💧" and "😟" in t.detail
    with env.sessions() as s:
        assert s.scalar(select(Ticket.subject).where(Ticket.code == "AT-000002")) == "🚿 Ducha sin presión 💧"
