"""Staff email commands (DESIGN, "Staff email commands"): the parser, the reply token and the
Authentication-Results trust as plain functions, then replies through the whole pipeline on SQLite
and PostgreSQL (one through a real Dovecot): accepted with the reply token or a trusted DKIM pass,
refused and explained by mail without, never applied halfway."""

from __future__ import annotations

from email import message_from_string

import pytest
from sqlalchemy import select

from mail.inbound.staff_commands import Command, parse_commands
from mail.inbound.trust import sender_is_authenticated
from tests.support import SUPPORT, build, make_env
from tickets.models import OutboxMessage, User
from tickets.reply_tokens import is_token_shaped, reply_address, token_for, tokens_in_address, user_for_token, verify

ROSA = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>"
CARLA = "carla.mendoza@inmobiliaria-andina.pe"
JORGE = "jorge.paredes@inmobiliaria-andina.pe"
DOMAIN = "inmobiliaria-andina.pe"
MX = "mx.inmobiliaria-andina.pe"
SECRET = "clave-de-prueba"


# --- parse_commands -------------------------------------------------------------------------------


def test_parse_commands_reads_the_top_lines_only():
    commands, rest, errors = parse_commands(
        "#estado Atendido\n\n#Asignar: maria@empresa.pe\n#PRIORIDAD alta\n#público\n"
        "Estimada Sra. Quispe:\nYa se reparó la tubería.\n#estado Cerrado\n")
    assert errors == ()
    assert [(c.name, c.value) for c in commands] == [
        ("status", "Atendido"), ("assign", "maria@empresa.pe"), ("priority", "alta"), ("public", "")]
    assert commands[1].written == "#Asignar: maria@empresa.pe"
    assert rest == "Estimada Sra. Quispe:\nYa se reparó la tubería.\n#estado Cerrado"  # lower down: text


@pytest.mark.parametrize("text", ["Hola, ya fuimos.", "", "   \n\n", "# Título\n#estado Atendido",
                                  "#1 la tubería\n#2 el caño"])
def test_parse_commands_without_commands(text):
    assert parse_commands(text) == ((), text.strip(), ())


def test_parse_commands_errors_in_spanish():
    assert parse_commands("#estdo Atendido\nListo")[2] == ("comando desconocido #estdo",)
    assert parse_commands("#estado Atendido\n#Estado Cerrado\nListo")[2] == ("comando repetido #Estado",)
    assert parse_commands("#asignar\nListo")[2] == ("#asignar sin valor",)
    [public_alone] = parse_commands("#publico\n\n")[2]
    assert public_alone.startswith("#publico sin texto")
    assert parse_commands("#publico Estimada Sra.\nTexto")[2][0].startswith("#publico no lleva valor")


def test_parse_commands_returns_the_command_as_written():
    assert parse_commands("  #estado   En proceso  \r\nVamos mañana.") == (
        (Command("status", "En proceso", "#estado   En proceso"),), "Vamos mañana.", ())


# --- reply tokens ---------------------------------------------------------------------------------


def test_token_round_trip_wrong_user_and_wrong_ticket():
    token = token_for(SECRET, 7, "AT-000001")
    assert is_token_shaped(token) and token == token.lower() and len(token) == 17
    assert verify(SECRET, token, 7, "AT-000001") and verify(SECRET, token.upper(), 7, "at-000001")
    assert not verify(SECRET, token, 8, "AT-000001")
    assert not verify(SECRET, token, 7, "AT-000002")  # per ticket: a token opens no other ticket
    assert not verify("otra-clave", token, 7, "AT-000001")
    assert not verify("", token, 7, "AT-000001") and not verify(SECRET, "", 7, "AT-000001")
    assert user_for_token(SECRET, token, [1, 2, 7, 9], "AT-000001") == 7
    assert user_for_token(SECRET, token, [1, 2], "AT-000001") is None
    assert token_for(SECRET, 7, "AT-000001") == token and token_for(SECRET, 8, "AT-000001") != token


def test_reply_address_and_tokens_in_address():
    token = token_for(SECRET, 3, "AT-000123")
    address = reply_address(SUPPORT, token, "AT-000123")
    assert address == f"postventa+AT-000123.{token}@{DOMAIN}"  # DESIGN's shape
    assert reply_address(f"postventa+viejo@{DOMAIN}", token, "AT-000123") == address
    assert reply_address(SUPPORT, token) == f"postventa+{token}@{DOMAIN}"
    assert tokens_in_address(address, {SUPPORT}) == [token]
    assert tokens_in_address(f"postventa+AT-000123.{token}@{DOMAIN}", {SUPPORT}) == [token]  # DESIGN's shape
    assert tokens_in_address(f"otro+{token}@{DOMAIN}", {SUPPORT}) == []  # not our mailbox
    assert tokens_in_address(SUPPORT, {SUPPORT}) == []


def test_a_token_is_never_read_as_a_ticket_code():
    from tickets.codes import find_codes

    assert all(find_codes(token_for(SECRET, uid, "AT-000001"), "AT") == [] for uid in range(2000))


# --- trust: Authentication-Results ----------------------------------------------------------------


def headers(*auth_results: str, sender: str = f"Carla Mendoza <{CARLA}>", more: str = ""):
    text = "".join(f"Authentication-Results: {a}\n" for a in auth_results)
    return message_from_string(f"{text}From: {sender}\n{more}Subject: x\n\nbody\n")


def test_trusted_dkim_pass_aligned():
    msg = headers(f"{MX}; dkim=pass header.d={DOMAIN} header.s=google; spf=pass smtp.mailfrom={CARLA}")
    assert sender_is_authenticated(msg, CARLA, MX)
    assert sender_is_authenticated(msg, CARLA, MX.upper())
    assert not sender_is_authenticated(msg, CARLA, None)  # nothing trusted when none is configured
    assert not sender_is_authenticated(msg, CARLA, "")


def test_other_authserv_id_is_ignored():
    forged = headers(f"mx.atacante.example; dkim=pass header.d={DOMAIN}; dmarc=pass header.from={DOMAIN}")
    assert not sender_is_authenticated(forged, CARLA, MX)
    # ours says fail (topmost), the sender's own claim lower down is not read
    below = headers(f"{MX}; dkim=fail header.d={DOMAIN}", f"{MX}; dkim=pass header.d={DOMAIN}")
    assert not sender_is_authenticated(below, CARLA, MX)
    # a foreign header above ours does not hide ours
    above = headers("mx.otro.example; dkim=fail", f"{MX}; dkim=pass header.d={DOMAIN}")
    assert sender_is_authenticated(above, CARLA, MX)


def test_dkim_misaligned_or_failed():
    assert not sender_is_authenticated(headers(f"{MX}; dkim=pass header.d=gmail.com"), CARLA, MX)
    assert not sender_is_authenticated(headers(f"{MX}; dkim=pass header.d=mail.{DOMAIN}"), CARLA, MX)  # strict
    assert not sender_is_authenticated(headers(f"{MX}; dkim=fail header.d={DOMAIN}"), CARLA, MX)
    assert not sender_is_authenticated(headers(f"{MX}; spf=pass smtp.mailfrom={CARLA}"), CARLA, MX)
    assert sender_is_authenticated(headers(f"{MX}; dkim=pass header.i=@{DOMAIN}"), CARLA, MX)


def test_dmarc_pass():
    assert sender_is_authenticated(headers(f"{MX}; dmarc=pass (p=reject) header.from={DOMAIN}"), CARLA, MX)
    assert not sender_is_authenticated(headers(f"{MX}; dmarc=pass header.from=gmail.com"), CARLA, MX)
    assert not sender_is_authenticated(headers(f"{MX}; dmarc=fail header.from={DOMAIN}"), CARLA, MX)


@pytest.mark.parametrize("value", [f"{MX}; dkim", f"{MX};;; dkim=pass header.d={DOMAIN} (", f"{MX}",
                                   f"{MX}; dkim=pass header.d={DOMAIN} = = ;", "\x00"])
def test_malformed_header_is_not_authenticated(value):
    assert sender_is_authenticated(headers(value), CARLA, MX) is False


def test_exactly_one_from_author():
    ok = f"{MX}; dkim=pass header.d={DOMAIN}"
    assert not sender_is_authenticated(headers(ok, sender=f"{CARLA}, otro@{DOMAIN}"), CARLA, MX)
    assert not sender_is_authenticated(headers(ok, more=f"From: otro@{DOMAIN}\n"), CARLA, MX)
    assert not sender_is_authenticated(headers(ok), f"otro@{DOMAIN}", MX)  # not the From author
    assert not sender_is_authenticated({}, CARLA, MX) and not sender_is_authenticated(None, None, MX)


# --- through the pipeline ---------------------------------------------------------------------------


@pytest.fixture
def staff_env(database_url, tmp_path):
    """The small catalog; reply tokens signed with SECRET; our border server is MX."""
    e = make_env(database_url, tmp_path, secret_key=SECRET, trusted_authserv_id=MX)
    yield e
    e.engine.dispose()


def user_id(env, email: str) -> int:
    with env.sessions() as s:
        return s.scalar(select(User.id).where(User.email == email))


def outbox(env) -> list[OutboxMessage]:
    with env.sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def open_ticket(env) -> str:
    result = env.ingest_bytes(build("Filtración en el baño del Dpto 504", "Hay una filtración.", sender=ROSA))
    assert result.outcome == "ticket"
    return result.code


def staff_reply(env, body: str, *, sender: str = CARLA, token_of: str | None = CARLA,
                ticket: str = "AT-000001", **kw) -> bytes:
    to = (reply_address(SUPPORT, token_for(SECRET, user_id(env, token_of), ticket), ticket)
          if token_of else SUPPORT)
    return build("Re: [AT-000001] Filtración en el baño del Dpto 504", body, sender=f"Carla <{sender}>",
                 to=f"Postventa <{to}>", **kw)


FULL = (f"#estado Atendido\n#asignar {JORGE}\n#prioridad alta\n#publico\n\n"
        "Estimada Sra. Quispe: el técnico cambió la tubería del baño.\n\n"
        "El lun, 23 nov 2026 a las 10:15, Postventa (<postventa@inmobiliaria-andina.pe>) escribió:\n"
        "> Hemos registrado su solicitud AT-000001.\n")


def state(env, code) -> tuple[str, str, str | None, bool]:
    """(status, priority, assignee's email, attended) of a ticket."""
    with env.sessions() as s:
        t = env_ticket(s, code)
        return t.status.name, t.priority.name, t.assignee.email if t.assignee else None, t.attended_at is not None


def env_ticket(s, code):
    from tickets.models import Ticket

    return s.scalar(select(Ticket).where(Ticket.code == code))


def changes(env, code):
    return [(e.field, e.old, e.new, e.author_email) for e in env.entries(code, "change")]


def test_accepted_with_the_reply_token(staff_env):
    env = staff_env
    code = open_ticket(env)
    result = env.ingest_bytes(staff_reply(env, FULL))
    assert (result.outcome, result.reason, result.code) == ("comment", "staff_commands", code)
    assert state(env, code) == ("Atendido", "Alta", JORGE, True)
    assert changes(env, code)[:3] == [("assignee", None, JORGE, CARLA), ("status", "Registrado", "Asignado", CARLA),
                                      ("priority", "Media", "Alta", CARLA)]
    assert changes(env, code)[3][:3] == ("status", "Asignado", "Atendido")
    [comment] = env.entries(code, "comment")
    assert comment.public and comment.author_email == CARLA
    assert comment.text == "Estimada Sra. Quispe: el técnico cambió la tubería del baño."
    rows = [(r.event, r.to_addrs) for r in outbox(env)]
    assert rows == [("acknowledgement", ["rosa.quispe.h@gmail.com"]), ("public_reply", ["rosa.quispe.h@gmail.com"]),
                    ("assignment", [JORGE]), ("status", ["rosa.quispe.h@gmail.com"])]
    assert env.entries(code, "note") == []


def test_accepted_with_a_trusted_dkim_pass(staff_env):
    env = staff_env
    code = open_ticket(env)
    raw = staff_reply(env, "#estado En proceso\n\nVamos el jueves.", token_of=None, headers={
        "Authentication-Results": f"{MX}; dkim=pass header.d={DOMAIN} header.s=s1; dmarc=pass header.from={DOMAIN}"})
    assert env.ingest_bytes(raw).reason == "staff_commands"
    assert env.ticket(code).status.name == "En proceso"
    [comment] = env.entries(code, "comment")
    assert not comment.public and comment.text == "Vamos el jueves."  # internal by default
    assert [r.event for r in outbox(env)] == ["acknowledgement", "status"]


def assert_refused(env, code, *, reasons: list[str], commands: list[str], comment_text: str | None):
    t = env.ticket(code)
    assert state(env, code) == ("Registrado", "Media", None, False)
    assert changes(env, code) == []
    comments = env.entries(code, "comment")
    if comment_text is None:
        assert comments == []
    else:
        [comment] = comments
        assert (comment.text, comment.public, comment.author_email) == (comment_text, False, CARLA)
    [note] = env.entries(code, "note")
    assert all(c in note.text for c in commands) and not note.public
    rows = outbox(env)
    assert [r.event for r in rows] == ["acknowledgement", "commands_refused"]
    refused = rows[1]
    assert refused.to_addrs == [CARLA] and refused.ticket_id == t.id
    assert refused.context["code"] == code and refused.context["commands"] == commands
    assert len(refused.context["errors"]) == len(reasons)
    for got, wanted in zip(refused.context["errors"], reasons, strict=True):
        assert wanted in got


def test_refused_without_trust(staff_env):
    env = staff_env
    code = open_ticket(env)
    result = env.ingest_bytes(staff_reply(env, "#estado Atendido\n#publico\nYa quedó.", token_of=None))
    assert (result.outcome, result.reason) == ("comment", "commands_refused")
    assert_refused(env, code, reasons=["no se pudo comprobar que el correo es suyo"],
                   commands=["#estado Atendido", "#publico"], comment_text="Ya quedó.")


def test_refused_with_a_foreign_authserv_id(staff_env):
    env = staff_env
    code = open_ticket(env)
    raw = staff_reply(env, "#estado Atendido\nYa quedó.", token_of=None, headers={
        "Authentication-Results": f"mx.otro.example; dkim=pass header.d={DOMAIN}; dmarc=pass header.from={DOMAIN}"})
    assert env.ingest_bytes(raw).reason == "commands_refused"
    assert_refused(env, code, reasons=["no se pudo comprobar"], commands=["#estado Atendido"],
                   comment_text="Ya quedó.")


def test_all_or_none(staff_env):
    env = staff_env
    code = open_ticket(env)
    raw = staff_reply(env, "#estado Atendido\n#asignar nadie@x.pe\n#prioridad Altísima\nRevisado.")
    assert env.ingest_bytes(raw).reason == "commands_refused"
    assert_refused(env, code, reasons=["no existe el usuario activo del personal nadie@x.pe",
                                       "prioridad desconocida 'Altísima'"],
                   commands=["#estado Atendido", "#asignar nadie@x.pe", "#prioridad Altísima"],
                   comment_text="Revisado.")


def test_token_of_another_staff_user_is_refused(staff_env):
    env = staff_env
    code = open_ticket(env)
    raw = staff_reply(env, "#estado Atendido\nYa quedó.", token_of=JORGE)
    assert env.ingest_bytes(raw).reason == "commands_refused"
    assert_refused(env, code, reasons=["no se pudo comprobar"], commands=["#estado Atendido"],
                   comment_text="Ya quedó.")


def test_token_of_another_ticket_is_refused(staff_env):
    """The token is per ticket (DESIGN): Carla's token of AT-000002 gives no trust on AT-000001."""
    env = staff_env
    code = open_ticket(env)
    raw = staff_reply(env, "#estado Atendido\nYa quedó.", ticket="AT-000002")
    assert env.ingest_bytes(raw).reason == "commands_refused"
    assert_refused(env, code, reasons=["no se pudo comprobar"], commands=["#estado Atendido"],
                   comment_text="Ya quedó.")


def test_unknown_command_is_refused_even_with_the_token(staff_env):
    env = staff_env
    code = open_ticket(env)
    raw = staff_reply(env, "#estdo Atendido\n#prioridad Alta\n")
    assert env.ingest_bytes(raw).reason == "commands_refused"
    assert_refused(env, code, reasons=["comando desconocido #estdo"], commands=["#estdo Atendido", "#prioridad Alta"],
                   comment_text=None)


def test_a_staff_reply_without_commands_is_an_internal_comment(staff_env):
    env = staff_env
    code = open_ticket(env)
    result = env.ingest_bytes(staff_reply(env, "Llamé a la señora, vamos el jueves.\n#estado Atendido"))
    assert (result.outcome, result.reason) == ("comment", None)
    [comment] = env.entries(code, "comment")
    assert not comment.public and comment.text.startswith("Llamé a la señora")
    assert env.ticket(code).status.name == "Registrado"
    assert [r.event for r in outbox(env)] == ["acknowledgement"]


def test_a_client_cannot_command(staff_env):
    env = staff_env
    code = open_ticket(env)
    raw = build("Re: [AT-000001] Filtración", "#estado Cerrado\nGracias.", sender=ROSA,
                to=reply_address(SUPPORT, token_for(SECRET, user_id(env, CARLA), code), code))
    assert env.ingest_bytes(raw).reason is None
    assert env.ticket(code).status.name == "Registrado"
    [comment] = env.entries(code, "comment")
    assert comment.text.startswith("#estado Cerrado")


def test_through_dovecot_accepted_and_refused(staff_env, dovecot, imap_user):
    env = staff_env
    user, password = imap_user
    mb = env.mailbox("postventa", dovecot.url(user, password))
    dovecot.append(user, build("Filtración en el baño del Dpto 504", "Hay una filtración.", sender=ROSA))
    assert env.poll(mb).counts == {"ticket": 1}
    dovecot.append(user, staff_reply(env, "#prioridad Urgente\n#asignar jorge.paredes@inmobiliaria-andina.pe\n"
                                          "Lo ve Legal."))
    dovecot.append(user, staff_reply(env, "#estado Cerrado\nCierro.", token_of=None))
    assert env.poll(mb).counts == {"comment": 2}
    assert [(m.outcome, m.reason) for m in env.inbound()] == [
        ("ticket", None), ("comment", "staff_commands"), ("comment", "commands_refused")]
    assert state(env, "AT-000001") == ("Asignado", "Urgente", JORGE, False)
    assert [r.event for r in outbox(env)] == ["acknowledgement", "assignment", "commands_refused"]
