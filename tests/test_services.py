"""Ticket services written with Core statements: what they leave in the database and in the session.

`open_ticket` inserts the ticket and its first rows without the ORM unit of work and hands back a
persistent object; `add_entry`, `add_comment`, `queue_mail` append rows at once. These tests pin
the behaviour the rewrite must keep, on SQLite and PostgreSQL: the seed's "Buscar por" (client by
email, contract filled only when unambiguous), the returned object's loaded and lazy attributes,
a loaded logbook seeing new entries, the thread rules of `is_allowed_sender`, and the
notifications of a client's comment (watchers and assignee).
"""

from __future__ import annotations

from sqlalchemy import select

from tests.support import MINI_CATALOG, make_env
from tickets import services
from tickets.models import Client, ClientEmail, EntryKind, OutboxMessage, Ticket, User


def opened(env, email, **kw):
    with env.sessions.begin() as s:
        return services.open_ticket(s, env.ctx, subject="Filtración en el baño", detail="Gotea.",
                                    requester_email=email, **kw).code


def test_client_with_one_contract_gets_it_filled(env):
    t = env.ticket(opened(env, "Rosa.Quispe.H@gmail.com"))
    assert t.requester_email == "rosa.quispe.h@gmail.com"
    assert t.requester_name == "Rosa Quispe Huamán"  # from the client when the mail gave none
    assert t.requester_client.name == t.holder.name == "Rosa Quispe Huamán"
    assert (t.contract.number, t.contract_number, t.unit.number) == ("CV-2023-0001",) * 2 + ("504",)
    assert t.project.name == "Residencial Los Olivos" and t.promoter_id is not None


def test_client_without_contract_is_linked_only(env):
    t = env.ticket(opened(env, "lucia.fernandez@outlook.com", requester_name="Lucía F."))
    assert t.requester_client.name == "Lucía Fernández" and t.requester_name == "Lucía F."
    assert t.contract is None and t.unit is None and t.holder is None


def test_two_contracts_leave_the_contract_to_staff(database_url, tmp_path):
    catalog = {**MINI_CATALOG, "contracts": [*MINI_CATALOG["contracts"], {
        "number": "CV-2023-0002", "project": "Residencial Los Olivos", "subdivision": "Torre A",
        "unit": "101", "holders": ["DNI 45871236"], "date": "2023-06-01"}]}
    env = make_env(database_url, tmp_path, catalog)
    t = env.ticket(opened(env, "rosa.quispe.h@gmail.com"))
    assert t.requester_client.name == "Rosa Quispe Huamán"
    assert t.contract is None and t.contract_number is None and t.unit is None


def test_email_shared_by_two_clients_links_nobody(env):
    with env.sessions.begin() as s:
        other = Client(document_type="DNI", document_number="12345678", name="Otra Persona")
        s.add(other)
        s.flush()
        s.add(ClientEmail(client_id=other.id, email="percy.vsoto@hotmail.com"))
    t = env.ticket(opened(env, "percy.vsoto@hotmail.com"))
    assert t.requester_client is None and t.contract is None


def test_returned_ticket_is_persistent_and_loads_the_rest(env):
    with env.sessions.begin() as s:
        t = services.open_ticket(s, env.ctx, subject="Puerta", detail="No cierra",
                                 requester_email="rosa.quispe.h@gmail.com")
        assert t.id is not None and t.code == "AT-000001"
        assert t.status.name == "Registrado"        # a reference, loaded on first use
        assert t.closed_at is None and t.attended_at is None  # columns not set: read back
        assert [e.kind for e in t.entries] == [EntryKind.EVENT.value]
        services.add_comment(s, env.ctx, t, text="Sigue sin cerrar", author_email="rosa.quispe.h@gmail.com")
        assert [e.kind for e in t.entries] == [EntryKind.EVENT.value, EntryKind.COMMENT.value]
        assert s.scalar(select(OutboxMessage.event).where(OutboxMessage.ticket_id == t.id)) == "acknowledgement"
    assert env.ticket("AT-000001").updated_at >= env.ticket("AT-000001").created_at


def test_client_comment_notifies_watchers_and_assignee(env):
    code = opened(env, "rosa.quispe.h@gmail.com")
    with env.sessions.begin() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == code))
        carla = s.scalar(select(User).where(User.email.like("carla%")))
        services.assign(s, env.ctx, t, carla)
    with env.sessions.begin() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == code))
        entry_id = services.add_comment(s, env.ctx, t, text="¿Cuándo vienen?",
                                        author_email="rosa.quispe.h@gmail.com")
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.event == "client_comment"))
        assert row.to_addrs == ["carla.mendoza@inmobiliaria-andina.pe"]
        assert row.context == {"code": code, "entry_id": entry_id}


def test_who_may_comment_by_mail(env):
    code = opened(env, "rosa.quispe.h@gmail.com")
    with env.sessions.begin() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == code))
        services.add_participants(s, t, ["Vecino@Example.com"])
        allowed = {e: services.is_allowed_sender(s, t, e) for e in (
            "ROSA.QUISPE.H@gmail.com",               # the requester
            "percy.vsoto@hotmail.com",               # the other holder of the contract
            "carla.mendoza@inmobiliaria-andina.pe",  # staff
            "vecino@example.com",                    # on the thread
            "lucia.fernandez@outlook.com",           # a client, but not of this contract
            "extrano@example.com", None)}
    assert allowed == {"ROSA.QUISPE.H@gmail.com": True, "percy.vsoto@hotmail.com": True,
                       "carla.mendoza@inmobiliaria-andina.pe": True, "vecino@example.com": True,
                       "lucia.fernandez@outlook.com": False, "extrano@example.com": False, None: False}


def test_objects_the_caller_did_not_flush_yet_are_written_first(env):
    with env.sessions.begin() as s:
        clerk = User(email="mesa.partes@inmobiliaria-andina.pe", name="Mesa de Partes", role="agent")
        s.add(clerk)  # not flushed: open_ticket needs its id
        t = services.open_ticket(s, env.ctx, subject="Carta notarial", detail="Recibida en físico",
                                 requester_email=None, channel="presencial", registered_by=clerk)
        assert t.registered_by_id == clerk.id is not None
        pending = Ticket(code="AT-999999", type_id=t.type_id, status_id=t.status_id,
                         priority_id=t.priority_id, subject="A mano", detail="", requested_at=t.requested_at)
        s.add(pending)  # not flushed either: add_entry needs its id
        services.add_entry(s, pending, EntryKind.NOTE, "Registrada a mano")
    assert [e.text for e in env.entries("AT-999999")] == ["Registrada a mano"]
    assert env.ticket(t.code).registered_by.name == "Mesa de Partes"
