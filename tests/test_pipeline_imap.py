"""Real messages through a real Dovecot and the whole pipeline, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from tests.support import SUPPORT, build
from tickets import outbox, services, storage
from tickets.models import HeldMessage, OutboxMessage, Ticket

ROSA = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>"
PERCY = "Percy Villanueva Soto <percy.vsoto@hotmail.com>"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"

GMAIL_ES_REPLY = """Buenas tardes, ya tomé las fotos que me pidieron. El técnico puede venir el jueves.

El lun, 23 nov 2026 a las 10:15, Postventa Inmobiliaria Andina (<postventa@inmobiliaria-andina.pe>) escribió:
> Estimada Sra. Quispe:
> Hemos registrado su solicitud AT-000001. ¿Podría enviarnos fotos de la filtración?
> Saludos cordiales
"""

OUTLOOK_EN_REPLY = """Please note the leak got worse last night; the ceiling paint is peeling now.

Percy

________________________________
From: Postventa Inmobiliaria Andina <postventa@inmobiliaria-andina.pe>
Sent: Monday, November 23, 2026 10:15 AM
To: Rosa Quispe <rosa.quispe.h@gmail.com>
Cc: Percy Villanueva <percy.vsoto@hotmail.com>
Subject: [AT-000001] Filtración en el baño del Dpto 504

Hemos registrado su solicitud AT-000001. Nuestro equipo técnico la revisará.
"""


def bounce_for(message_id: str, rcpt: str) -> bytes:
    return (
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n"
        f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Date: Fri, 20 Nov 2026 10:00:00 -0500\r\nMessage-ID: <bounce1@mx.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\r\n\r\n'
        "--BB\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNo se pudo entregar.\r\n"
        "--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--BB\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: {SUPPORT}\r\nTo: {rcpt}\r\nSubject: [AT-000001] Hemos recibido su solicitud\r\n"
        f"Message-ID: <{message_id}>\r\n\r\nGracias por escribirnos.\r\n--BB--\r\n"
    ).encode()


def test_mailbox_outcomes(env, dovecot, imap_user):
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    first = build("Filtración en el baño del Dpto 504",
                  "Buenos días,\nHay una filtración de agua en el baño principal del Dpto 504.\nRosa",
                  sender=ROSA, cc=PERCY, attachments=[("../../etc/foto\x07 baño.jpg", "image/jpeg", JPEG)])
    uids = [dovecot.append(user, first)]
    report = env.poll(mb)
    assert report.error is None and report.counts == {"ticket": 1}

    t = env.ticket("AT-000001")
    assert t.requester_email == "rosa.quispe.h@gmail.com"
    assert t.requester_client.name == "Rosa Quispe Huamán"
    assert t.contract.number == "CV-2023-0001" and t.unit.number == "504" and t.holder.name == "Rosa Quispe Huamán"
    assert t.status.name == "Registrado" and "filtración de agua en el baño principal" in t.detail
    [att_entry] = env.entries("AT-000001", "attachment")
    [att] = att_entry.attachments
    assert att.filename == "foto baño.jpg" and att.size == len(JPEG)
    assert storage.read_bytes(env.settings.storage_dir, att.sha256) == JPEG
    assert "\\Seen" in dovecot.flags(user, uids[0])
    with env.sessions() as s:
        ack, cc = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # one mail, two copies
    assert ack.event == "acknowledgement" and ack.to_addrs == ["rosa.quispe.h@gmail.com"]
    assert ack.recipient == "rosa.quispe.h@gmail.com" and cc.recipient == "percy.vsoto@hotmail.com"
    assert cc.message_id == ack.message_id and ack.cc_addrs == ["percy.vsoto@hotmail.com"]
    with env.sessions.begin() as s:  # both copies go out; the To copy will bounce
        for row_id in outbox.claim(s, [ack.id, cc.id], lease_s=60):
            assert outbox.mark_sent(s, row_id, 1)

    later = [
        build("Re: [AT-000001] Filtración en el baño del Dpto 504", GMAIL_ES_REPLY, sender=ROSA),
        build("RE: at-1 Filtración en el baño", OUTLOOK_EN_REPLY, sender=PERCY),
        first,  # re-delivery: same Message-ID and body
        build("Respuesta automática: [AT-000001] Filtración", "Estoy fuera de la oficina.",
              sender=PERCY, headers={"Auto-Submitted": "auto-replied"}),
        build("Ofertas de noviembre en pisos y porcelanatos", "Solo por hoy 30% de descuento.",
              sender="Promart <ofertas@promart.example>", headers={"List-Id": "<ofertas.promart.example>",
                                                                   "Precedence": "bulk"}),
        build("[AT-000001] Hemos recibido su solicitud", "Copia de nuestro propio correo.",
              sender=f"Postventa <{SUPPORT}>"),
        bounce_for(ack.message_id, "rosa.quispe.h@gmail.com"),
        build("Re: [AT-000001] Filtración", "Yo también quiero opinar sobre este caso.",
              sender="Desconocido <curioso@example.org>"),
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4,
        b"Subject: sin remitente\r\n\r\nNo hay From en este mensaje.\r\n",
    ]
    uids += [dovecot.append(user, raw) for raw in later]
    report = env.poll(mb)
    assert report.error is None
    assert report.counts == {"comment": 2, "duplicate": 1, "ignored": 4, "held": 3}

    inbound = env.inbound()
    assert len(inbound) == 1 + len(later)  # count in = count out
    outcomes = [(m.outcome, m.reason) for m in inbound]
    assert outcomes == [
        ("ticket", None), ("comment", None), ("comment", None), ("duplicate", outcomes[3][1]),
        ("ignored", "auto_reply"), ("ignored", "bulk"), ("ignored", "own_address"), ("ignored", "bounce"),
        ("held", "sender_not_allowed"), ("held", "unparseable"), ("held", "no_sender"),
    ]
    comments = env.entries("AT-000001", "comment")
    assert [c.author_email for c in comments] == ["rosa.quispe.h@gmail.com", "percy.vsoto@hotmail.com"]
    assert comments[0].text.startswith("Buenas tardes, ya tomé las fotos")
    assert "escribió" not in comments[0].text and "Estimada" not in comments[0].text
    assert comments[1].text.startswith("Please note the leak got worse")
    assert "Sent:" not in comments[1].text and "Nuestro equipo" not in comments[1].text
    assert len(env.tickets()) == 1  # nothing else opened a ticket
    notes = env.entries("AT-000001", "note")
    assert len(notes) == 1 and notes[0].text == (
        "No se pudo entregar el correo «acuse de recibo» a rosa.quispe.h@gmail.com: 5.1.1 (rebote).")
    with env.sessions() as s:
        assert s.get(OutboxMessage, ack.id).state == "bounced"
        assert s.get(OutboxMessage, cc.id).state == "sent"  # the Cc copy was delivered
        assert [b.email for b in outbox.bounced(s)] == ["rosa.quispe.h@gmail.com"]
        held = s.scalars(select(HeldMessage).order_by(HeldMessage.id)).all()
        assert [h.reason for h in held] == ["sender_not_allowed", "unparseable", "no_sender"]
        assert held[1].raw[:4] == later[8][:4] and len(held[1].raw) >= len(later[8]) - 8
        assert held[0].ticket_id is not None
        # nobody but the ticket's people is mailed; the stranger never is
        to = [a for row in s.scalars(select(OutboxMessage)) for a in row.to_addrs]
        assert "curioso@example.org" not in to
    for uid in uids:
        assert "\\Seen" in dovecot.flags(user, uid)
    assert env.poll(mb).processed == 0  # the checkpoint: nothing is read twice


def test_processed_folder_and_reopen(env, dovecot, imap_user):
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password), processed_folder="Procesados")
    dovecot.append(user, build("Puerta del depósito no cierra", "La puerta no cierra bien.", sender=ROSA))
    env.poll(mb)
    assert dovecot.uids(user) == [] and len(dovecot.uids(user, "Procesados")) == 1
    from tickets.services import set_status

    with env.sessions.begin() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))
        set_status(s, env.ctx, t, "Cerrado")
    assert env.ticket("AT-000001").attended_at is not None
    dovecot.append(user, build("Re: [AT-000001] Puerta del depósito no cierra",
                               "Sigue sin cerrar, por favor vuelvan.\n\nOn Mon, Nov 23, 2026 at 10:15 AM "
                               "Postventa <postventa@inmobiliaria-andina.pe> wrote:\n> Cerramos su caso.",
                               sender=ROSA))
    env.poll(mb)
    t = env.ticket("AT-000001")
    assert t.status.name == "En proceso" and t.attended_at is None and t.closed_at is None
    changes = [(e.field, e.old, e.new) for e in env.entries("AT-000001", "change")]
    assert ("status", "Cerrado", "En proceso") in changes


def test_thread_and_plus_address_matching(env, dovecot, imap_user):
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    original = build("Intercomunicador malogrado", "No funciona el intercomunicador.", sender=ROSA,
                     message_id="<orig-1@mail.gmail.com>")
    dovecot.append(user, original)
    dovecot.append(user, build("Otra consulta", "Adjunto más detalles del intercomunicador.",
                               sender=ROSA, in_reply_to="<orig-1@mail.gmail.com>"))
    dovecot.append(user, build("Sin código en el asunto", "Ya lo revisaron, gracias.", sender=ROSA,
                               to="postventa+AT-000001@inmobiliaria-andina.pe"))
    dovecot.append(user, build("AW: [at-0000001] Intercomunicador", "Danke, sigue igual.", sender=ROSA))
    report = env.poll(mb)
    assert report.counts == {"ticket": 1, "comment": 3}
    assert len(env.entries("AT-000001", "comment")) == 3


def test_staff_forward_becomes_client_ticket(env, dovecot, imap_user):
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    body = ("Les reenvío el caso de la Sra. Fernández, por favor registrarlo.\n\n"
            "---------- Mensaje reenviado ---------\n"
            "De: Lucía Fernández <lucia.fernandez@outlook.com>\n"
            "Date: lun, 23 nov 2026 a las 9:12\n"
            "Subject: Rajadura en la pared de la sala\n"
            "To: Carla Mendoza <carla.mendoza@inmobiliaria-andina.pe>\n\n"
            "Buenos días, apareció una rajadura en la pared de la sala de mi departamento.\n")
    dovecot.append(user, build("Fwd: Rajadura en la pared de la sala", body,
                               sender="Carla Mendoza Ríos <carla.mendoza@inmobiliaria-andina.pe>"))
    assert env.poll(mb).counts == {"ticket": 1}
    t = env.ticket("AT-000001")
    assert t.requester_email == "lucia.fernandez@outlook.com"
    assert t.requester_client.name == "Lucía Fernández"
    assert t.registered_by.email == "carla.mendoza@inmobiliaria-andina.pe"
    assert "rajadura en la pared de la sala" in t.detail and "reenvío" not in t.detail
    [note] = env.entries("AT-000001", "comment")
    assert note.public is False and "por favor registrarlo" in note.text


def test_limits_hold_the_message_with_its_bytes(database_url, tmp_path, dovecot, imap_user):
    from tests.support import make_env

    env = make_env(database_url, tmp_path, max_message_kib=64, max_attachments=2)
    try:
        user, password = imap_user
        mb = env.mailbox("postventa", dovecot.url(user, password))
        big = build("Planos completos", "Adjunto los planos.", sender=ROSA,
                    attachments=[("planos.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 100_000)])
        many = build("Fotos", "Van tres fotos.", sender=ROSA,
                     attachments=[(f"foto{i}.jpg", "image/jpeg", JPEG) for i in range(3)])
        for raw in (big, many):
            dovecot.append(user, raw)
        assert env.poll(mb).counts == {"held": 2}
        with env.sessions() as s:
            held = s.scalars(select(HeldMessage).order_by(HeldMessage.id)).all()
        assert [h.reason for h in held] == ["too_large", "too_many_attachments"]
        # a too-large message stays whole in the content store, not in the database row
        assert held[0].raw is None and b"Van tres fotos" in held[1].raw
        with env.sessions() as s:
            sha = s.get(HeldMessage, held[0].id).inbound.raw_sha256
        assert len(storage.read_bytes(env.settings.storage_dir, sha)) >= len(big) - 100
        assert env.tickets() == []
    finally:
        env.engine.dispose()


def test_reply_to_closed_ticket_can_open_a_linked_one(database_url, tmp_path, dovecot, imap_user):
    from tests.support import make_env
    from tickets.services import set_status

    env = make_env(database_url, tmp_path, reopen_closed=False)
    try:
        user, password = imap_user
        mb = env.mailbox("postventa", dovecot.url(user, password))
        dovecot.append(user, build("Timbre no suena", "El timbre no suena.", sender=ROSA))
        env.poll(mb)
        with env.sessions.begin() as s:
            set_status(s, env.ctx, s.scalar(select(Ticket).where(Ticket.code == "AT-000001")), "Cerrado")
        dovecot.append(user, build("Re: [AT-000001] Timbre no suena", "Volvió a fallar hoy.", sender=ROSA,
                                   cc="Luis Quispe <luis.quispe@example.pe>"))
        assert env.poll(mb).counts == {"ticket": 1}
        assert env.ticket("AT-000001").status.name == "Cerrado"
        new = env.ticket("AT-000002")
        assert new.linked_from_id == env.ticket("AT-000001").id and "Volvió a fallar hoy." in new.detail
        assert [(m.outcome, m.reason) for m in env.inbound()][-1] == ("ticket", "linked_to_AT-000001")
        # the next reply to the closed ticket goes to the open linked one, not to a third ticket
        dovecot.append(user, build("Re: [AT-000001] Timbre no suena", "Sigue igual.", sender=ROSA))
        assert env.poll(mb).counts == {"comment": 1}
        assert [t.code for t in env.tickets()] == ["AT-000001", "AT-000002"]
        assert [e.text for e in env.entries("AT-000002", "comment")] == ["Sigue igual."]
        assert [(m.outcome, m.reason) for m in env.inbound()][-1] == ("comment", "follow_up_of_AT-000001")
        with env.sessions() as s:  # the Cc of the first reply may write on the linked ticket
            assert services.is_allowed_sender(s, env.ticket("AT-000002"), "luis.quispe@example.pe")
    finally:
        env.engine.dispose()


def test_staff_reply_by_mail_is_an_internal_staff_comment(env, dovecot, imap_user):
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    dovecot.append(user, build("Grieta en el muro", "Hay una grieta en el muro de la cocina.", sender=ROSA))
    dovecot.append(user, build("RE: [AT-000001] Grieta en el muro",
                               "Coordinado con el contratista para el martes.\n\n-----Mensaje original-----\n"
                               "De: Rosa Quispe\nEnviado el: lunes\nPara: Postventa\nAsunto: Grieta\n\nHay una grieta.",
                               sender="Carla Mendoza Ríos <carla.mendoza@inmobiliaria-andina.pe>"))
    assert env.poll(mb).counts == {"ticket": 1, "comment": 1}
    [c] = env.entries("AT-000001", "comment")
    assert c.author_user_id is not None and c.public is False
    assert c.text == "Coordinado con el contratista para el martes."
    assert env.ticket("AT-000001").status.name == "Registrado"  # staff mail does not reopen or move it
    with env.sessions() as s:
        events = [r.event for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert events == ["acknowledgement"]  # an internal staff note mails nobody


def test_staff_forward_as_attachment_becomes_client_ticket(env, dovecot, imap_user):
    from email.message import EmailMessage

    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    client_mail = build("Humedad en el dormitorio", "Buenas tardes, hay humedad en la pared del dormitorio.",
                        sender="Lucía Fernández <lucia.fernandez@outlook.com>",
                        to="Carla Mendoza <carla.mendoza@inmobiliaria-andina.pe>")
    fwd = EmailMessage()
    fwd["From"] = "Carla Mendoza Ríos <carla.mendoza@inmobiliaria-andina.pe>"
    fwd["To"] = SUPPORT
    fwd["Subject"] = "RV: Humedad en el dormitorio"
    fwd["Message-ID"] = "<fwd-attached-1@inmobiliaria-andina.pe>"
    fwd.set_content("Registrar, por favor. La visita la coordino yo.")
    from email import message_from_bytes, policy

    fwd.add_attachment(message_from_bytes(client_mail, policy=policy.default))
    dovecot.append(user, fwd.as_bytes())
    assert env.poll(mb).counts == {"ticket": 1}
    t = env.ticket("AT-000001")
    assert t.requester_email == "lucia.fernandez@outlook.com" and t.subject == "Humedad en el dormitorio"
    assert t.registered_by.email == "carla.mendoza@inmobiliaria-andina.pe"
    assert "humedad en la pared del dormitorio" in t.detail and "coordino" not in t.detail
    [note] = env.entries("AT-000001", "comment")
    assert note.public is False and "La visita la coordino yo." in note.text
