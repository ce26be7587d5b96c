"""tickets.copies without the panel: how ``group_id`` makes a pliego (the first ticket is its head,
whatever member a requirement is created from), a duplicate of a pliego's ticket is no member of
it, a refused requirement writes nothing, and `pliego_of` / `duplicates_of` with an extra
criterion. SQLite and PostgreSQL, on the filter test data (the ``Session`` fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tickets import copies
from tickets.models import LogbookEntry, Ticket
from tickets.services import Context, FieldError

REQ = {"subject": "Planos", "detail": "Necesito los planos.", "type": "Atención", "category": "Acabados"}


@pytest.fixture
def data(Session, tmp_path):
    return Session, Context(storage_dir=tmp_path / "files")


def by_code(s, code) -> Ticket:
    return s.scalar(select(Ticket).where(Ticket.code == code))


def test_every_requirement_joins_the_first_tickets_pliego(data):
    Session, ctx = data
    with Session.begin() as s:
        a = copies.create_requirement(s, ctx, by_code(s, "AT-000003"), **REQ)
        b = copies.create_requirement(s, ctx, a, **{**REQ, "priority": "alta"})  # from a member
        dup = copies.duplicate_ticket(s, ctx, b)
        codes = (a.code, b.code, dup.code)
    with Session() as s:
        head = by_code(s, "AT-000003")
        a, b, dup = (by_code(s, c) for c in codes)
        assert head.group_id == a.group_id == b.group_id == head.id
        assert b.priority.name == "Alta" and b.requester_email == head.requester_email == "rosa@gmail.com"
        assert [t.code for t in copies.pliego_of(s, b)] == ["AT-000003", a.code, b.code]
        assert dup.group_id is None and copies.pliego_of(s, dup) == [] and dup.duplicated_from_id == b.id
        assert [t.code for t in copies.duplicates_of(s, b)] == [dup.code]
        assert copies.pliego_of(s, b, where=Ticket.kind == "reclamo") == []
        # the head's history says once that it became one
        assert s.scalars(select(LogbookEntry.new).where(LogbookEntry.ticket_id == head.id,
                                                        LogbookEntry.field == "group")).all() == ["AT-000003"]


@pytest.mark.parametrize(("change", "field"), [
    ({"subject": " "}, "subject"), ({"detail": ""}, "detail"), ({"type": ""}, "type"),
    ({"type": "Mudanza"}, "type"), ({"category": None}, "category"), ({"priority": ""}, "priority"),
    ({"area": "Marte"}, "area"), ({"kind": "queja"}, "kind"), ({"assignee": "nadie@x.pe"}, "assignee"),
])
def test_a_refused_requirement_writes_nothing(data, change, field):
    Session, ctx = data
    with Session() as s:  # checked in the same transaction: the error comes before any write
        with pytest.raises(FieldError) as exc:
            copies.create_requirement(s, ctx, by_code(s, "AT-000003"), **{**REQ, **change})
        s.flush()
        assert by_code(s, "AT-000003").group_id is None
        assert len(s.scalars(select(Ticket.id)).all()) == 5
        assert s.scalars(select(LogbookEntry.id).where(LogbookEntry.field == "group")).all() == []
    assert exc.value.field == field and exc.value.message.endswith(".")
