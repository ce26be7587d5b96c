"""tickets/text_match.py: the folded comparison agrees in Python, SQLite and PostgreSQL, and the
PostgreSQL trigram indexes of migration 0005 are built on the very expression the list queries.
tickets/search_text.py: every write path keeps the stored folded columns right (search_text,
text_fold, client_comments_fold), migrations 0009 and 0013 fill them as the models do, and the list
finds by them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import literal, select, text

from tickets import text_match
from tickets.text_match import contains_folded, fold_for_match, folded

SAMPLES = [
    "Filtración en el baño", "FILTRACIÓN EN EL BAÑO", "Ñandú Çedilla", "Pérez Díaz",
    "ÁÀÂÄÃ éèêë ÍÌÎÏ óòôöõ ÚÙÛÜ", "plain ascii 50% _x_", "O'Higgins",
]


@pytest.fixture
def engine(database_url):
    from tickets.db import make_engine

    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_fold_for_match():
    assert fold_for_match("Filtración EN Baño") == "filtracion en bano"
    assert fold_for_match("filtracio\u0301n") == "filtracion"  # an accent typed as a combining mark
    assert fold_for_match("ÑÇÜ") == "ncu"
    assert fold_for_match("  dos  espacios ") == "  dos  espacios "  # spacing kept: substrings


@pytest.mark.parametrize("name", ["0005_folded_text_indexes", "0006_sla_indexes", "0009_stored_search_text"])
def test_migration_copies_the_table(name):
    path = Path(text_match.__file__).parent / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (module.ACCENTED, module.PLAIN) == (text_match.ACCENTED, text_match.PLAIN)


def test_sql_folds_like_python(engine):
    with engine.connect() as conn:
        for sample in SAMPLES:
            assert conn.scalar(select(folded(literal(sample)))) == fold_for_match(sample), sample
            assert conn.scalar(select(contains_folded(literal(sample), sample.upper()))), sample
        assert conn.scalar(select(folded(literal(None)))) is None


def test_wildcards_are_literal(engine):
    with engine.connect() as conn:
        assert conn.scalar(select(contains_folded(literal("50% de descuento"), "50%")))
        assert not conn.scalar(select(contains_folded(literal("500 soles"), "50%")))
        assert not conn.scalar(select(contains_folded(literal("abc"), "a_c")))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_uses_the_folded_trigram_indexes(engine):
    """With sequential scans off, the plan of each folded LIKE names its index: the expression the
    queries compile and the one migration 0005 indexed are the same (a difference would make every
    text filter scan every ticket, silently)."""
    from tickets.db import migrate
    from tickets.models import Client, Ticket

    migrate(engine)
    cases = [(select(Ticket.id).where(contains_folded(getattr(Ticket, c), "filtracion")),
              f"ix_tickets_{c}_fold_trgm")
             for c in ("requester_name", "requester_email", "code")]
    cases += [(select(Client.id).where(contains_folded(Client.name, "perez")), "ix_clients_name_fold_trgm"),
              # the stored folded columns of migration 0009 (tickets.search_text)
              (select(Ticket.id).where(Ticket.search_text.contains("filtracion")), "ix_tickets_search_text_trgm"),
              # the client comments stored on the ticket (migration 0013)
              (select(Ticket.id).where(Ticket.client_comments_fold.contains("gotea")),
               "ix_tickets_client_comments_fold_trgm")]
    with engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        for stmt, index in cases:
            sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(conn.scalars(text("EXPLAIN " + sql)))
            assert index in plan, f"{index} not used\n{plan}"


def test_models_store_searched_text_composed():
    """Mail from some clients arrives decomposed ("o" + U+0301): the models compose what the list
    searches, so "habitacion" finds it in SQL on PostgreSQL too (translate folds composed letters)."""
    from tickets.models import Client, LogbookEntry, Ticket

    ticket = Ticket(subject="Habitacio\u0301n", detail="baN\u0303o", requester_name="Jose\u0301")
    assert (ticket.subject, ticket.detail, ticket.requester_name) == ("Habitación", "baÑo", "José")
    assert LogbookEntry(text="cai\u0301da").text == "caída"
    assert Client(name="Nun\u0303ez").name == "Nuñez"


# --- the stored folded columns (tickets.search_text, migration 0009) -----------------------------


def _assert_stored_folds_right(sessions) -> int:
    """Every ticket's search_text and every entry's text_fold are what the Python builders give
    for the row's own values; returns how many tickets were checked."""
    from tickets.models import LogbookEntry, Ticket
    from tickets.search_text import TICKET_PARTS, entry_text_fold, ticket_search_text

    with sessions() as s:
        tickets = s.execute(select(Ticket.search_text, *(getattr(Ticket, n) for n in TICKET_PARTS))).all()
        for stored, *parts in tickets:
            assert stored == ticket_search_text(*parts), parts
        entries = s.execute(select(LogbookEntry.text_fold, LogbookEntry.kind, LogbookEntry.text)).all()
        for stored, kind, entry_text in entries:
            assert stored == entry_text_fold(kind, entry_text), (kind, entry_text)
        assert any(kind == "comment" for _, kind, _ in entries)
    return len(tickets)


def test_ticket_search_text_parts():
    from tickets.search_text import SEPARATOR, entry_text_fold, ticket_search_text

    assert ticket_search_text("AT-000001", "Filtración", "Baño\u001fCocina", "José Núñez", None) == \
        SEPARATOR.join(["at-000001", "filtracion", "bano cocina", "jose nunez", ""])
    assert entry_text_fold("comment", "Sigue GOTEANDO el caño") == "sigue goteando el cano"
    assert entry_text_fold("change", "Estado cambiado") is None


def test_every_write_path_fills_the_stored_folds(env):
    """Services (Core INSERT), the panel's field edits (tickets.edits, ORM), a client's comment by
    mail, a staff comment, Duplicar and Crear requerimiento (tickets.copies, ORM changes after a
    Core INSERT): the stored columns match the rows, and the list finds the tickets by them."""
    from tests.support import build
    from tickets import copies, edits, services
    from tickets.defaults import DEFAULT_CATEGORY
    from tickets.models import EntryKind, LogbookEntry, Ticket
    from tickets.queries import Filters, count_tickets, iter_ticket_rows

    rosa = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>"
    env.ingest_bytes(build("Filtración en el baño", "Hay humedad en la pared del dormitorio.", sender=rosa))
    with env.sessions.begin() as s:
        opened = services.open_ticket(s, env.ctx, subject="Puerta del depósito", detail="No cierra",
                                      requester_email="Lucia.Fernandez@outlook.com", requester_name="Lucía Fernández")
        services.add_comment(s, env.ctx, opened, text="¿Cuándo vienen? Sigue así.",
                             author_email="lucia.fernandez@outlook.com")
    assert opened.code == "AT-000002"
    env.ingest_bytes(build("Re: [AT-000001] Filtración en el baño", "Sigue goteando el caño de la cocina.",
                           sender=rosa))
    assert [e.text_fold for e in env.entries("AT-000001", EntryKind.COMMENT.value)] == \
        [fold_for_match("Sigue goteando el caño de la cocina.")]
    with env.sessions.begin() as s:
        first = s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))
        assert edits.set_fields(s, env.ctx, first, detail="Mancha de HUMEDÁD en el techo") == ["detail"]
    with env.sessions.begin() as s:
        first = s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))
        copy = copies.duplicate_ticket(s, env.ctx, first)
        second = s.scalar(select(Ticket).where(Ticket.code == "AT-000002"))
        requirement = copies.create_requirement(s, env.ctx, second, subject="Cerradura del portón",
                                                detail="Cambiar la cerradura", type="Atención",
                                                category=DEFAULT_CATEGORY)
        codes = (copy.code, requirement.code)
    assert _assert_stored_folds_right(env.sessions) == 4
    with env.sessions() as s:
        assert "humedad en el techo" in s.scalar(select(Ticket.search_text).where(Ticket.code == "AT-000001"))
        assert "lucia fernandez" in s.scalar(select(Ticket.search_text).where(Ticket.code == codes[1]))

        def listed(**filters):
            return sorted(r.code for r in iter_ticket_rows(s, Filters(**filters)))

        assert listed(q="HUMEDAD en el TECHO") == ["AT-000001", codes[0]]  # the edited detail, and its copy
        assert listed(q="cerradura del porton") == [codes[1]]
        assert listed(q="lucia fernandez") == ["AT-000002", codes[1]]  # the requester's name
        assert listed(q="at-000002") == ["AT-000002"]  # the code, as a substring and exactly
        assert listed(q="gotea") == []  # comments are not the free text's
        assert listed(comment="goteando el cano") == ["AT-000001"]
        assert listed(comment="cuando vienen") == ["AT-000002"]
        assert listed(q="baño\u001fcocina") == [] and listed(q="50%") == []
        assert count_tickets(s, Filters(q="humedad")) == 2
        staff_reply = s.scalar(select(LogbookEntry.text_fold).where(LogbookEntry.kind == EntryKind.COMMENT.value,
                                                                    LogbookEntry.text.like("¿Cuándo%")))
        assert staff_reply == "¿cuando vienen? sigue asi."


def test_migration_0009_fills_the_columns_as_the_models_do(env):
    """Down to 0008 (the columns dropped) and up again: the fill of the rows already there (SQL on
    PostgreSQL, Python on SQLite) gives exactly what the models write."""
    from alembic import command

    from tests.support import build
    from tickets import services
    from tickets.db import alembic_config

    env.ingest_bytes(build("Filtración en el BAÑO", "Humedad; 50% del muro", sender="José Núñez <jose@x.pe>"))
    env.ingest_bytes(build("Re: [AT-000001] Filtración", "Sigue goteando, ¿cuándo vienen?", sender="jose@x.pe"))
    with env.sessions.begin() as s:
        services.open_ticket(s, env.ctx, subject="Ascensor\u001fdetenido", detail="Pasa algo",
                             requester_email=None, requester_name="Ñandú Çedilla")
    assert _assert_stored_folds_right(env.sessions) == 2
    cfg = alembic_config(env.engine.url.render_as_string(hide_password=False))
    with env.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    with env.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert _assert_stored_folds_right(env.sessions) == 2


# --- the client comments stored on the ticket (tickets.client_comments_fold, migration 0013) -------


def _client_comments(sessions) -> dict[str, str]:
    """Each ticket's stored ``client_comments_fold``, by code."""
    from tickets.models import Ticket

    with sessions() as s:
        return dict(s.execute(select(Ticket.code, Ticket.client_comments_fold)).all())


def _client_comments_by_todays_rule(sessions) -> dict[str, str]:
    """What ``client_comments_fold`` holds when no address became a staff user's after its comments
    were written: the folded client comments (no author user, an address no staff user has today),
    in id order."""
    from tickets.models import EntryKind, LogbookEntry, Ticket, User
    from tickets.search_text import SEPARATOR, entry_text_fold

    with sessions() as s:
        staff = {e.lower() for e in s.scalars(select(User.email))}
        out = {code: "" for code in s.scalars(select(Ticket.code))}
        rows = s.execute(select(Ticket.code, LogbookEntry.text, LogbookEntry.author_user_id, LogbookEntry.author_email)
                         .join(Ticket, Ticket.id == LogbookEntry.ticket_id)
                         .where(LogbookEntry.kind == EntryKind.COMMENT.value).order_by(LogbookEntry.id)).all()
        for code, entry_text, user_id, email in rows:
            if user_id is None and email and email.lower() not in staff:
                out[code] += SEPARATOR + entry_text_fold("comment", entry_text)
        return out


def test_every_write_path_fills_the_client_comments(env):
    """A client's comment by mail and a held mail released to a ticket are appended to the ticket's
    ``client_comments_fold``, in order; staff comments are not (panel, mail from a staff user, the
    CLI's ``comment`` without ``--by``, the panel's "Email"); Duplicar and Crear requerimiento start
    empty; an ORM insert appends too. The list's comment filter finds by it."""
    from mail.inbound.held import release_held
    from mail.mailboxes import import_rules
    from tests.cli_harness import stranger_reply
    from tests.support import build
    from tickets import copies, edits, services
    from tickets.defaults import DEFAULT_CATEGORY
    from tickets.models import EntryKind, HeldMessage, LogbookEntry, Ticket, User
    from tickets.queries import Filters, iter_ticket_rows
    from tickets.search_text import SEPARATOR

    rosa = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>"
    with env.sessions.begin() as s:
        s.add(User(email="maria.quispe@inmobiliaria.pe", name="María Quispe", role="agent"))
    env.ingest_bytes(build("Filtración en el baño", "Hay humedad en la pared del dormitorio.", sender=rosa))
    assert _client_comments(env.sessions) == {"AT-000001": ""}  # the opening mail is the detail
    env.ingest_bytes(build("Re: [AT-000001] Filtración en el baño", "Sigue GOTEANDO el caño.", sender=rosa))
    env.ingest_bytes(build("Re: [AT-000001] Filtración en el baño", "Vamos el martes a revisar.",
                           sender="María Quispe <maria.quispe@inmobiliaria.pe>"))  # staff, by mail
    assert [e.author_user_id is not None for e in env.entries("AT-000001", EntryKind.COMMENT.value)] == [False, True]
    assert env.ingest_bytes(stranger_reply(1, "AT-000001")).outcome.value == "held"
    with env.sessions.begin() as s:
        held = s.scalar(select(HeldMessage).where(HeldMessage.state == "held"))
        release_held(s, env.ctx, import_rules(env.settings), held)
    with env.sessions.begin() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.code == "AT-000001"))
        maria = s.scalar(select(User).where(User.name == "María Quispe"))
        services.add_comment(s, env.ctx, ticket, text="Interno: revisar garantía", author_user=maria)
        services.add_comment(s, env.ctx, ticket, text="Desde la consola: garantía", staff=True,
                             author_name="Operador")  # the CLI's comment without --by
        edits.notify_requester(s, env.ctx, ticket, title="Visita", text="Visita el lunes (garantía)")
        services.add_comment(s, env.ctx, ticket, text="Lo escribió María sin usuario (garantía)",
                             author_email="MARIA.QUISPE@inmobiliaria.pe")  # a staff address: not a client's
        assert ticket.client_comments_fold == SEPARATOR.join(["", "sigue goteando el cano.",
                                                              "yo tambien tengo el problema numero 1."])
        copy = copies.duplicate_ticket(s, env.ctx, ticket)
        requirement = copies.create_requirement(s, env.ctx, ticket, subject="Cerradura", detail="Cambiarla",
                                                type="Atención", category=DEFAULT_CATEGORY)
        s.add(LogbookEntry(ticket=requirement, kind=EntryKind.COMMENT.value, text="Por ORM: ¿Cuándo?",
                           author_email="rosa.quispe.h@gmail.com", public=True))
        s.add(LogbookEntry(ticket=copy, kind=EntryKind.COMMENT.value, text="Por ORM, personal (garantía)",
                           author_user_id=maria.id, public=False))
        codes = copy.code, requirement.code
    stored = _client_comments(env.sessions)
    assert stored == _client_comments_by_todays_rule(env.sessions)
    assert stored[codes[0]] == "" and stored[codes[1]] == SEPARATOR + "por orm: ¿cuando?"
    with env.sessions() as s:
        def listed(text):
            return sorted(r.code for r in iter_ticket_rows(s, Filters(comment=text)))

        assert listed("goteando el CAÑO") == ["AT-000001"]
        assert listed("problema número 1") == ["AT-000001"]  # the released held mail
        assert listed("cuando") == [codes[1]]
        assert listed("garantia") == [] and listed("martes") == []  # only in staff comments
        assert listed("cano.\u001fyo") == [] and listed("Filtración") == []  # never across two comments; the detail


def test_a_client_comment_stays_a_client_comment_when_its_address_becomes_staff(env):
    """The rule is decided when the comment is written: a comment from an address that no staff
    user had then stays a client's after a staff user gets that address (the list reads the ticket's
    column, not today's staff addresses); a comment written after that is staff's."""
    from tests.support import build
    from tickets.models import User
    from tickets.queries import Filters, iter_ticket_rows
    from tickets.search_text import SEPARATOR

    lucia = "Lucía Fernández <lucia.fernandez@outlook.com>"
    env.ingest_bytes(build("Puerta del depósito", "No cierra.", sender=lucia))
    env.ingest_bytes(build("Re: [AT-000001] Puerta del depósito", "Sigue sin cerrar la puerta.", sender=lucia))
    with env.sessions.begin() as s:
        s.add(User(email="Lucia.Fernandez@outlook.com", name="Lucía Fernández", role="agent"))
    env.ingest_bytes(build("Re: [AT-000001] Puerta del depósito", "Ya soy del equipo: la puerta se cambia.",
                           sender=lucia))
    assert _client_comments(env.sessions) == {"AT-000001": SEPARATOR + "sigue sin cerrar la puerta."}
    with env.sessions() as s:
        def listed(text):
            return [r.code for r in iter_ticket_rows(s, Filters(comment=text))]

        assert listed("sin cerrar") == ["AT-000001"]
        assert listed("se cambia") == []


def test_migration_0013_fills_the_client_comments_as_the_models_do(env):
    """Down to 0012 (the column dropped) and up again: the fill of the rows already there (SQL on
    PostgreSQL, Python on SQLite) gives exactly what the models appended."""
    from alembic import command

    from tests.support import build
    from tickets import services
    from tickets.db import alembic_config
    from tickets.models import Ticket, User

    jose = "José Núñez <jose@x.pe>"
    env.ingest_bytes(build("Filtración en el BAÑO", "Humedad; 50% del muro", sender=jose))
    env.ingest_bytes(build("Re: [AT-000001] Filtración", "Sigue goteando, ¿cuándo vienen?", sender=jose))
    env.ingest_bytes(build("Re: [AT-000001] Filtración", "Otra vez\u001fÑANDÚ", sender=jose))
    env.ingest_bytes(build("Ascensor detenido", "Pasa algo", sender="Ana <ana@x.pe>"))
    with env.sessions.begin() as s:
        ana = s.scalar(select(Ticket).where(Ticket.code == "AT-000002"))
        staff = User(email="staff@empresa.pe", name="Staff", role="agent")
        s.add(staff)
        s.flush()
        services.add_comment(s, env.ctx, ana, text="Revisado", author_user=staff)
        services.add_comment(s, env.ctx, ana, text="Por correo del personal", author_email="STAFF@empresa.pe")
        services.add_comment(s, env.ctx, ana, text="", author_email="ana@x.pe")
    before = _client_comments(env.sessions)
    assert before == _client_comments_by_todays_rule(env.sessions)
    assert before["AT-000001"].count("\x1f") == 2 and before["AT-000002"] == "\x1f"
    cfg = alembic_config(env.engine.url.render_as_string(hide_password=False))
    with env.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    with env.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert _client_comments(env.sessions) == before


def test_typed_day_and_clock_read_what_people_and_browsers_send():
    """One reading of typed dates and times for the documents' and the events' forms."""
    from datetime import date, time

    from tickets.text import typed_clock, typed_day

    assert typed_day("15/03/2025") == typed_day("15-03-2025") == typed_day("15.03.2025") == date(2025, 3, 15)
    assert typed_day(" 2025-03-15 ") == date(2025, 3, 15)
    assert typed_day("30/02/2025") is None and typed_day("mañana") is None and typed_day("") is None
    assert typed_clock("9:30") == time(9, 30) and typed_clock("23:59") == time(23, 59)
    assert typed_clock("24:00") is None and typed_clock("9:5") is None and typed_clock("09:30 a.m.") is None
