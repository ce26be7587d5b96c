"""The kinds of mail DESIGN.md names in "Inbound mail" (steps 2, 4, 6, 7 and "Reading a message"),
each through a real Dovecot and the whole pipeline, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from tests.support import SUPPORT, build
from tickets import storage
from tickets.models import Attachment, InboundMessage, OutboxMessage, Ticket

ROSA = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>"
GROUP_HEADERS = {"List-Id": "Postventa <postventa.inmobiliaria-andina.pe>",
                 "List-Post": "<https://groups.google.com/a/inmobiliaria-andina.pe/group/postventa/post>, "
                              "<mailto:postventa@inmobiliaria-andina.pe>",
                 "Precedence": "list", "Mailing-list": "list postventa@inmobiliaria-andina.pe; contact owner"}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def outbox(env) -> list[tuple[str, list[str]]]:
    with env.sessions() as s:
        return [(r.event, r.to_addrs) for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def files(env, code: str) -> list[tuple[str, bool]]:
    with env.sessions() as s:
        ticket_id = s.scalar(select(Ticket.id).where(Ticket.code == code))
        return [(a.filename, a.inline) for a in
                s.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id))]


def test_our_group_rewrites_from_and_the_mail_is_the_authors(env, dovecot, imap_user):
    """Step 2: Google Groups rewrites From to the group for a DMARC p=reject domain."""
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    rewritten = build("Filtración en el baño del Dpto 504", "Hay una filtración en el baño principal.",
                      sender=f"'Rosa Quispe Huamán' via Postventa <{SUPPORT}>",
                      headers={**GROUP_HEADERS, "X-Original-From": ROSA, "Reply-To": ROSA,
                               "X-Original-Sender": "rosa.quispe.h@gmail.com"})
    not_rewritten = build("Timbre malogrado", "El timbre no suena.",
                          sender="Lucía Fernández <lucia.fernandez@outlook.com>", headers=GROUP_HEADERS)
    ambiguous = build("Aviso", "Dos personas en Reply-To y ninguna original.", sender=f"Postventa <{SUPPORT}>",
                      headers={**GROUP_HEADERS, "Reply-To": "a@x.pe, b@y.pe"})
    our_own = build("[AT-000001] Hemos recibido su solicitud", "Copia de nuestro acuse.",
                    sender=f"Postventa <{SUPPORT}>", headers={"Reply-To": SUPPORT})
    for raw in (rewritten, not_rewritten, ambiguous, our_own):
        dovecot.append(user, raw)
    assert env.poll(mb).counts == {"ticket": 2, "ignored": 2}
    first = env.ticket("AT-000001")
    assert (first.requester_email, first.requester_name) == ("rosa.quispe.h@gmail.com", "Rosa Quispe Huamán")
    assert first.contract.number == "CV-2023-0001"  # the client, matched through the real author
    assert env.ticket("AT-000002").requester_email == "lucia.fernandez@outlook.com"
    assert [(m.outcome, m.reason) for m in env.inbound()][2:] == [("ignored", "own_address")] * 2
    assert [to for event, to in outbox(env)] == [["rosa.quispe.h@gmail.com"], ["lucia.fernandez@outlook.com"]]


def test_x_loop_marks_another_helpdesks_automatic_mail(env, dovecot, imap_user):
    """Step 4: a supplier's helpdesk acknowledges our mail; never a comment, a reopening or an answer."""
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    dovecot.append(user, build("Grieta en la cochera", "Hay una grieta en la cochera E-12.", sender=ROSA))
    env.poll(mb)
    dovecot.append(user, build("Re: [AT-000001] Grieta en la cochera", "Su caso #4411 fue registrado.",
                               sender=ROSA, headers={"X-Loop": "soporte@helpdesk-proveedor.pe"}))
    assert env.poll(mb).counts == {"ignored": 1}
    last = env.inbound()[-1]
    assert (last.outcome, last.reason, last.ticket_id) == ("ignored", "auto_reply", env.ticket("AT-000001").id)
    assert env.entries("AT-000001", "comment") == []
    assert [event for event, _ in outbox(env)] == ["acknowledgement"]


def test_reply_to_person_of_a_web_form_is_the_requester(env, dovecot, imap_user):
    """Step 7: Reply-To holds one external address other than From, and From is nobody we know."""
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    form = build("Formulario de contacto: filtración", "Nombre: Rosa\nMensaje: hay una filtración en el baño.",
                 sender="Formulario web <no-reply@formularios.example>", headers={"Reply-To": ROSA})
    client_with_reply_to = build("Consulta de mantenimiento", "¿Cada cuánto se da mantenimiento al ascensor?",
                                 sender="Percy Villanueva Soto <percy.vsoto@hotmail.com>",
                                 headers={"Reply-To": "Percy trabajo <percy@empresa.example>"})
    relay = build("Reclamo", "Texto", sender="Relay <relay@relay.example>",
                  headers={"Reply-To": "a@x.example, b@y.example"})
    staff_to_ourselves = build("Consulta", "Texto", sender="Relay <relay@relay.example>",
                               headers={"Reply-To": SUPPORT})
    for raw in (form, client_with_reply_to, relay, staff_to_ourselves):
        dovecot.append(user, raw)
    assert env.poll(mb).counts == {"ticket": 4}
    form_ticket = env.ticket("AT-000001")
    assert form_ticket.requester_email == "rosa.quispe.h@gmail.com"
    assert form_ticket.requester_name == "Rosa Quispe Huamán"
    assert form_ticket.contract.number == "CV-2023-0001"
    assert env.ticket("AT-000002").requester_email == "percy.vsoto@hotmail.com"  # a known client stays
    assert env.ticket("AT-000003").requester_email == "relay@relay.example"  # two Reply-To: nobody to pick
    assert env.ticket("AT-000004").requester_email == "relay@relay.example"  # Reply-To is our own address
    assert outbox(env)[0] == ("acknowledgement", ["rosa.quispe.h@gmail.com"])


def test_inline_images_and_signatures_are_not_files(env, dovecot, imap_user):
    """Reading a message: cid: images are kept and flagged inline; S/MIME signatures are not files."""
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    raw = (
        f"From: {ROSA}\r\nTo: {SUPPORT}\r\nSubject: Mancha de humedad en el techo\r\n"
        "Message-ID: <cid-1@mail.gmail.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary=S\r\n\r\n'
        "--S\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n"
        "--M\r\nContent-Type: multipart/related; boundary=R\r\n\r\n"
        "--R\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n"
        "--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAsí está el techo del dormitorio.\r\n"
        "--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        '<p>Así está el techo del dormitorio.</p><img src="cid:techo@rosa">\r\n--A--\r\n'
        "--R\r\nContent-Type: image/jpeg; name=\"image001.jpg\"\r\nContent-ID: <techo@rosa>\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRgABAQAAAQABAAD/2Q==\r\n--R--\r\n"
        "--M\r\nContent-Type: application/pdf; name=\"acta de entrega.pdf\"\r\n"
        "Content-Disposition: attachment; filename=\"acta de entrega.pdf\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n--M--\r\n"
        "--S\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
        "Content-Disposition: attachment; filename=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==\r\n--S--\r\n"
    ).encode()
    dovecot.append(user, raw)
    assert env.poll(mb).counts == {"ticket": 1}
    assert files(env, "AT-000001") == [("image001.jpg", True), ("acta de entrega.pdf", False)]
    [entry] = env.entries("AT-000001", "attachment")
    assert entry.text == "1 archivo adjunto con la solicitud"
    with env.sessions() as s:
        [image] = s.scalars(select(Attachment).where(Attachment.inline.is_(True))).all()
        assert image.content_id == "techo@rosa"
        assert storage.read_bytes(env.settings.storage_dir, image.sha256).startswith(b"\xff\xd8")
    with env.sessions() as s:  # the raw message keeps the signature
        assert b"smime.p7s" in s.scalar(select(InboundMessage.raw))


def test_answers_between_quoted_paragraphs_stay_in_order(env, dovecot, imap_user):
    """Step 6: the new text is what the sender wrote, answers between quotes included."""
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    dovecot.append(user, build("Observaciones de la entrega", "Van mis observaciones.", sender=ROSA))
    env.poll(mb)
    reply = ("El lun, 23 nov 2026 a las 10:15, Postventa (<postventa@inmobiliaria-andina.pe>) escribió:\n"
             "> 1. ¿Qué día puede recibir al técnico?\n"
             "El jueves después de las 3 pm.\n\n"
             "> 2. ¿La filtración sigue activa?\n"
             "Sí, sobre todo cuando llueve.\n\n"
             "> Saludos,\n> Postventa\n")
    dovecot.append(user, build("Re: [AT-000001] Observaciones de la entrega", reply, sender=ROSA))
    assert env.poll(mb).counts == {"comment": 1}
    [comment] = env.entries("AT-000001", "comment")
    assert comment.text == "El jueves después de las 3 pm.\n\nSí, sobre todo cuando llueve."


def test_mislabelled_charsets_in_headers_and_parameters(env, dovecot, imap_user):
    """Reading a message: every header and MIME parameter gets the charset fallback."""
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    raw = (
        # a raw 8-bit name in windows-1252, and an RFC 2231 filename declared UTF-8 whose octets are not
        b"From: Mar\xeda Ch\xe1vez <maria.chavez@example.pe>\r\nTo: " + SUPPORT.encode() + b"\r\n"
        b"Subject: =?utf-8?q?Cotizaci=F3n_de_cochera?=\r\nMessage-ID: <charset-1@example.pe>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAdjunto la cotizaci\xf3n.\r\n"
        b"--B\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''Cotizaci%F3n%20dep%F3sito.pdf\r\n"
        b"Content-Description: Cotizaci\xf3n\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--B--\r\n"
    )
    dovecot.append(user, raw)
    assert env.poll(mb).counts == {"ticket": 1}
    t = env.ticket("AT-000001")
    assert (t.requester_name, t.subject) == ("María Chávez", "Cotización de cochera")
    assert t.detail == "Adjunto la cotización."
    assert files(env, "AT-000001") == [("Cotización depósito.pdf", False)]
    assert "\ufffd" not in t.requester_name + t.subject + t.detail


def test_salvaged_sender_keeps_its_display_name(env, dovecot, imap_user):
    """A From without angle brackets: the address is salvaged with the name written beside it."""
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    raw = (f"From: Rosa Quispe Huamán rosa.quispe.h@gmail.com\r\nTo: {SUPPORT}\r\n"
           "Subject: Puerta del closet\r\nMessage-ID: <salvage-1@example.pe>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nLa puerta del closet se descolgó.\r\n").encode()
    dovecot.append(user, raw)
    assert env.poll(mb).counts == {"ticket": 1}
    t = env.ticket("AT-000001")
    assert (t.requester_email, t.requester_name) == ("rosa.quispe.h@gmail.com", "Rosa Quispe Huamán")
