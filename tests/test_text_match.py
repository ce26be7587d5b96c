"""tickets/text_match.py: the folded comparison agrees in Python, SQLite and PostgreSQL, and the
PostgreSQL trigram indexes of migration 0005 are built on the very expression the list queries."""

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


@pytest.mark.parametrize("name", ["0005_folded_text_indexes", "0006_sla_indexes"])
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
    from tickets.models import Client, EntryKind, LogbookEntry, Ticket

    migrate(engine)
    comment = (LogbookEntry.kind == EntryKind.COMMENT.value, LogbookEntry.author_user_id.is_(None))
    cases = [(select(Ticket.id).where(contains_folded(getattr(Ticket, c), "filtracion")),
              f"ix_tickets_{c}_fold_trgm")
             for c in ("subject", "detail", "requester_name", "requester_email", "code")]
    cases += [(select(Client.id).where(contains_folded(Client.name, "perez")), "ix_clients_name_fold_trgm"),
              (select(LogbookEntry.id).where(*comment, contains_folded(LogbookEntry.text, "gotea")),
               "ix_logbook_entries_client_comment_fold_trgm")]
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
