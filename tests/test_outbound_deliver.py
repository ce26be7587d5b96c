"""`mail.outbound.deliver.deliver` reads and composes outside the write transaction (on SQLite the
write lock is not held through compose) and still sends, postpones, and fails each copy as before.
Real aiosmtpd (`smtp`), SQLite and PostgreSQL (`database_url`)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

from mail.outbound import deliver as deliver_mod
from mail.outbound.deliver import deliver
from mail.outbound.send import SmtpTransport
from tickets import outbox
from tickets.db import make_engine, make_sessionmaker, migrate
from tickets.models import BouncedAddress, OutboxMessage
from tickets.services import Context, open_ticket
from tickets.settings import Settings

SUPPORT = "postventa@inmobiliaria-andina.pe"


def make_env(database_url, smtp, tmp_path):
    engine = make_engine(database_url)
    migrate(engine)
    settings = Settings(_env_file=None, database_url=database_url, smtp_url=smtp.url, mail_from=SUPPORT,
                        data_dir=tmp_path / "var", config=None, imap_url=None, rate_limit_per_hour=1)
    return settings, make_sessionmaker(engine), SmtpTransport(smtp.url), engine


@pytest.fixture
def env(database_url, smtp, tmp_path):
    settings, sessions, transport, engine = make_env(database_url, smtp, tmp_path)
    yield settings, sessions, transport
    transport.close()
    engine.dispose()


@pytest.fixture
def sqlite_env(smtp, tmp_path):
    """`env` on SQLite only (its one write lock), and the database file's path."""
    path = tmp_path / "atencion.db"
    settings, sessions, transport, engine = make_env(f"sqlite:///{path}", smtp, tmp_path)
    yield settings, sessions, transport, path
    transport.close()
    engine.dispose()


def queue_ack(sessions, settings, requester: str, cc=()) -> list[int]:
    ctx = Context.from_settings(settings)
    with sessions.begin() as s:
        ticket = open_ticket(s, ctx, subject="Filtración en el baño", detail="Gotea el techo.",
                             requester_email=requester, acknowledge=False)
        s.flush()
        outbox.queue(s, ticket_id=ticket.id, code=ticket.code, domain="inmobiliaria-andina.pe",
                     event="acknowledgement", to=[requester], cc=cc,
                     context={"code": ticket.code, "subject": ticket.subject, "max_days": 5})
    with sessions() as s:
        return outbox.due_ids(s)


def states(sessions) -> dict[str, str]:
    with sessions() as s:
        return dict(s.execute(select(OutboxMessage.recipient, OutboxMessage.state)).all())


def test_sends_postpones_and_fails_each_copy(env, smtp):
    settings, sessions, transport = env
    ids = queue_ack(sessions, settings, "rosa@example.pe", cc=["juan@example.pe", "rebota@example.pe"])
    with sessions.begin() as s:
        s.add(BouncedAddress(email="rebota@example.pe", diagnostic="550 5.1.1 no such user"))
    report = deliver(sessions, settings, transport, ids)
    assert len(report.sent) == 2 and len(report.failed) == 1
    assert states(sessions) == {"rosa@example.pe": "sent", "juan@example.pe": "sent",
                                "rebota@example.pe": "failed"}
    assert sorted(r for d in smtp.deliveries() for r in d.rcpt_tos) == ["juan@example.pe", "rosa@example.pe"]
    # the hourly limit is 1 here: a second mail to rosa waits, untried (its attempt not counted)
    (again,) = [i for i in queue_ack(sessions, settings, "rosa@example.pe")]
    report = deliver(sessions, settings, transport, [again])
    assert report.postponed == [again]
    with sessions() as s:
        row = s.get(OutboxMessage, again)
        assert (row.state, row.attempts, row.next_attempt_at is not None) == ("pending", 0, True)


def test_a_mail_that_cannot_be_composed_fails(env, smtp):
    settings, sessions, transport = env
    ids = queue_ack(sessions, settings, "rosa@example.pe")
    with sessions.begin() as s:
        s.get(OutboxMessage, ids[0]).event = "no_such_event"
    report = deliver(sessions, settings, transport, ids)
    assert list(report.failed) == ids and "plantilla no_such_event" in report.failed[ids[0]]
    assert states(sessions) == {"rosa@example.pe": "failed"} and smtp.deliveries() == []


def test_compose_does_not_hold_the_sqlite_write_lock(sqlite_env, monkeypatch):
    """While a row is composed, another connection can take SQLite's write lock at once (the
    workers' threads do not queue on it through compose)."""
    settings, sessions, transport, path = sqlite_env
    ids = queue_ack(sessions, settings, "rosa@example.pe")
    seen = []
    real_compose = deliver_mod.compose

    def compose_and_write(session, settings_, row):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # raises 'database is locked' if deliver held the lock
            other.execute("ROLLBACK")
            seen.append("free")
        finally:
            other.close()
        return real_compose(session, settings_, row)

    monkeypatch.setattr(deliver_mod, "compose", compose_and_write)
    report = deliver(sessions, settings, transport, ids)
    assert seen == ["free"] and report.sent == ids


def test_the_copies_of_one_mail_are_the_mail_each_copy_composes(env, smtp):
    """deliver builds one mail's email once for all its copies (`deliver._copy_key`): each copy the
    server receives equals what `compose` makes of that copy's own row (the Date aside), and
    mail to staff is still built per recipient (each carries its own reply token)."""
    settings, sessions, transport = env
    ids = queue_ack(sessions, settings, "rosa@example.pe", cc=["juan@example.pe", "ana@example.pe"])
    with sessions() as s:
        plain = {r.recipient: deliver_mod.compose(s, settings, r) for r in s.scalars(select(OutboxMessage))}
    report = deliver(sessions, settings, transport, ids)
    assert len(report.sent) == 3
    received = {d.rcpt_tos[0]: d.message for d in smtp.wait_for(3)}
    assert sorted(received) == sorted(plain)
    for rcpt, msg in received.items():
        plain[rcpt].as_bytes()  # give it its MIME boundary, as sending did
        skip = ("Date", "Content-Type")  # the boundary is random; the type is compared below
        expected = [(k, str(v)) for k, v in plain[rcpt].items() if k not in skip]
        assert [(k, str(v)) for k, v in msg.items() if k not in skip] == expected, rcpt
        assert msg.get_content_type() == plain[rcpt].get_content_type() == "multipart/alternative"
        text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")  # as the wire carries it
        assert text == plain[rcpt].get_body(("plain",)).get_content()
    assert deliver_mod._copy_key(_row(sessions, ids[0])) == deliver_mod._copy_key(_row(sessions, ids[1]))
    with sessions() as s:  # the same mail to two staff members: two keys
        staff = [OutboxMessage(message_id="m@x", event="assignment", recipient=a) for a in ("c@x.pe", "d@x.pe")]
        assert deliver_mod._copy_key(staff[0]) != deliver_mod._copy_key(staff[1])


def _row(sessions, row_id):
    with sessions() as s:
        return s.get(OutboxMessage, row_id)


def test_a_non_ascii_address_goes_with_smtputf8(env, smtp):
    """An address with a non-ASCII local part is sent with SMTPUTF8 (aiosmtplib's own path); the
    ASCII copies of the same mail go by the shared flattened bytes, all three received whole."""
    settings, sessions, transport = env
    ids = queue_ack(sessions, settings, "josé.pérez@example.pe", cc=["juan@example.pe", "ana@example.pe"])
    report = deliver(sessions, settings, transport, ids)
    assert len(report.sent) == 3, report
    got = {d.rcpt_tos[0]: d for d in smtp.wait_for(3)}
    assert "SMTPUTF8" in got["josé.pérez@example.pe"].mail_options
    assert "SMTPUTF8" not in got["juan@example.pe"].mail_options
    subjects = {d.message["Subject"] for d in got.values()}
    assert len(subjects) == 1 and subjects.pop().startswith("[AT-000001] Hemos recibido su solicitud")


def test_mail_to_the_client_never_carries_a_reply_token(env, smtp):
    """A staff member who is a ticket's requester, with a client on Cc: every copy of the
    acknowledgement has Reply-To the mailbox (DESIGN: mail to clients never has a token), whichever
    copy is composed first."""
    from tickets.models import User

    settings, sessions, transport = env
    with sessions.begin() as s:
        s.add(User(email="carla@inmobiliaria-andina.pe", name="Carla", role="agent"))
    ids = queue_ack(sessions, settings, "carla@inmobiliaria-andina.pe", cc=["rosa@example.pe"])
    deliver(sessions, settings, transport, ids)
    assert {d.message["Reply-To"] for d in smtp.wait_for(2)} == {SUPPORT}
