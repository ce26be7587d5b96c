"""The services behind the CLI's writes, on SQLite and PostgreSQL: `tickets.users.add_or_update_user`,
`tickets.held.discard_held` (and its look-ups), and a staff comment without a user (an operator at
the CLI) through `tickets.services.add_comment`. Each refusal is a ServiceError (a FieldError naming
the field where there is one) and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from tests.support import SUPPORT
from tickets import services
from tickets.held import discard_held, get_pending_held, list_held
from tickets.models import HeldMessage, LogbookEntry, OutboxMessage, Ticket, User, utcnow
from tickets.services import FieldError, ServiceError
from tickets.users import add_or_update_user

ROSA = "rosa.quispe.h@gmail.com"
CARLA = "carla.mendoza@inmobiliaria-andina.pe"

# --------------------------------------------------------------------------- users


def test_add_then_update_user(env):
    with env.sessions.begin() as s:
        user, created = add_or_update_user(s, email="  Ana.Lopez@Inmobiliaria-Andina.PE ", name=" Ana   López ",
                                           role="agent", area="postventa", password="secreto-123")
        assert created and user.id is not None
    with env.sessions.begin() as s:
        user, created = add_or_update_user(s, email="ana.lopez@inmobiliaria-andina.pe", name="Ana López Ruiz",
                                           role="admin", password="otro-secreto")
        assert not created
    with env.sessions() as s:
        [u] = s.scalars(select(User).where(User.email == "ana.lopez@inmobiliaria-andina.pe"))
        assert (u.name, u.role, u.active, u.area.name) == ("Ana López Ruiz", "admin", True, "Postventa")
        assert check_password_hash(u.password_hash, "otro-secreto")


@pytest.mark.parametrize("fields, message", [
    ({"email": "sin-arroba"}, "email: correo no válido 'sin-arroba'"),
    ({"email": "a@b@c.pe"}, "email: correo no válido 'a@b@c.pe'"),
    ({"email": "ana @x.pe"}, "email: correo no válido 'ana @x.pe'"),
    ({"email": "@x.pe"}, "email: correo no válido '@x.pe'"),
    ({"name": "   "}, "name: el nombre está vacío"),
    ({"role": "boss"}, "role: rol no válido 'boss' (use admin, agent o legal)"),
    ({"password": "corta"}, "password: debe tener al menos 8 caracteres"),
    ({"area": "Marte"}, "area: área desconocida 'Marte' (válidas: Legal, Postventa)"),
])
def test_user_refusals_name_the_field_and_write_nothing(env, fields, message):
    good = {"email": "ana@inmobiliaria-andina.pe", "name": "Ana", "role": "agent", "area": None,
            "password": "secreto-123"}
    with env.sessions.begin() as s, pytest.raises(FieldError) as info:
        add_or_update_user(s, **{**good, **fields})
    assert str(info.value) == message
    assert info.value.field == message.split(":")[0]
    assert isinstance(info.value, ServiceError)
    with env.sessions() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 2  # the catalog's two


# --------------------------------------------------------------------------- held messages


def opened(env) -> str:
    with env.sessions.begin() as s:
        return services.open_ticket(s, env.ctx, subject="Filtración", detail="Gotea.", requester_email=ROSA).code


def held_row(env, code: str | None, state: str = "held") -> int:
    with env.sessions.begin() as s:
        ticket_id = s.scalar(select(Ticket.id).where(Ticket.code == code)) if code else None
        row = HeldMessage(reason="sender_not_allowed", from_addr="vecino@example.org",
                          subject=f"Re: [{code}] Filtración" if code else "Hola", received_at=utcnow(),
                          text="Yo también", raw=b"From: vecino@example.org\r\n\r\nYo tambien\r\n",
                          ticket_id=ticket_id, state=state)
        s.add(row)
        s.flush()
        return row.id


def test_discard_held_records_state_time_and_a_note(env):
    code = opened(env)
    held_id = held_row(env, code)
    with env.sessions.begin() as s:
        carla = s.scalar(select(User).where(User.email == CARLA))
        row = discard_held(s, held_id, by=carla)
        assert row.state == "discarded" and row.resolved_at is not None
    with env.sessions() as s:
        assert [h.id for h in list_held(s)] == []
        assert [(h.id, h.state) for h in list_held(s, include_resolved=True)] == [(held_id, "discarded")]
    [note] = env.entries(code, "note")
    assert note.text == f"Correo retenido {held_id} descartado (vecino@example.org: Re: [{code}] Filtración)"
    assert (note.public, note.author_email, note.author_name) == (False, CARLA, "Carla Mendoza Ríos")


def test_discard_held_without_ticket_writes_no_note(env):
    held_id = held_row(env, None)
    with env.sessions.begin() as s:
        discard_held(s, held_id)
    with env.sessions() as s:
        assert s.get(HeldMessage, held_id).state == "discarded"
        assert s.scalar(select(func.count()).select_from(LogbookEntry)) == 0


@pytest.mark.parametrize("state, word", [("discarded", "descartado"), ("released", "liberado")])
def test_a_resolved_held_message_cannot_be_discarded_again(env, state, word):
    held_id = held_row(env, opened(env), state=state)
    for fn in (discard_held, get_pending_held):
        with env.sessions.begin() as s, pytest.raises(ServiceError) as info:
            fn(s, held_id)
        assert str(info.value) == f"el correo retenido {held_id} ya fue {word}"
    with env.sessions() as s:
        assert s.get(HeldMessage, held_id).state == state
        assert s.scalar(select(func.count()).select_from(LogbookEntry).where(LogbookEntry.kind == "note")) == 0


def test_unknown_held_message(env):
    with env.sessions.begin() as s, pytest.raises(ServiceError, match="^no existe el correo retenido 99$"):
        discard_held(s, 99)


# --------------------------------------------------------------------------- operator comments


def outbox_events(env, code: str) -> list[tuple[str, list[str]]]:
    with env.sessions() as s:
        return [(e, list(to)) for e, to in s.execute(
            select(OutboxMessage.event, OutboxMessage.to_addrs).join(Ticket, Ticket.id == OutboxMessage.ticket_id)
            .where(Ticket.code == code).order_by(OutboxMessage.id))]


def test_operator_comment_is_staff_without_a_user(env):
    code = opened(env)
    with env.sessions.begin() as s:  # attended: a client's comment would reopen it
        services.set_status(s, env.ctx, s.scalar(select(Ticket).where(Ticket.code == code)), "Atendido")
    before = outbox_events(env, code)
    with env.sessions.begin() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == code))
        services.add_comment(s, env.ctx, t, text="Nota interna", author_name="operador (CLI)", staff=True)
        services.add_comment(s, env.ctx, t, text="Ya enviamos al técnico", author_name="operador (CLI)",
                             staff=True, public=True)
    internal, public = env.entries(code, "comment")
    assert (internal.public, internal.author_user_id, internal.author_name) == (False, None, "operador (CLI)")
    assert (public.public, public.author_client_id, public.author_email) == (True, None, None)
    assert env.ticket(code).status.name == "Atendido"  # staff: no reopening
    assert outbox_events(env, code)[len(before):] == [("public_reply", [ROSA])]  # only the public one
    assert SUPPORT not in {a for _, to in outbox_events(env, code) for a in to}
