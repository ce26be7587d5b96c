"""A message already recorded for its mailbox + UIDVALIDITY + UID is not processed again.

That happens when a poller committed a message and died before flagging it: the next poll fetches it
again. The check is made inside the message's own transaction (no extra one per message).
"""

from __future__ import annotations

from mail.inbound.ingest import Envelope, ingest
from mail.mailboxes import import_rules
from tests.support import build


def test_the_same_uid_twice_keeps_the_first_outcome(env):
    raw = build("Caño roto en la cocina", "Gotea desde ayer.")
    rules = import_rules(env.settings)
    where = Envelope(mailbox="postventa", uidvalidity=7, uid=42)
    first = ingest(env.sessions, env.ctx, rules, raw, where)
    again = ingest(env.sessions, env.ctx, rules, raw, where)
    assert (first.outcome.value, first.code, first.already_recorded) == ("ticket", "AT-000001", False)
    assert (again.outcome.value, again.code, again.inbound_id, again.already_recorded) == \
        ("ticket", "AT-000001", first.inbound_id, True)
    assert len(env.inbound()) == 1 and [t.code for t in env.tickets()] == ["AT-000001"]
    other = ingest(env.sessions, env.ctx, rules, build("Otro", "Otro asunto."),
                   Envelope(mailbox="postventa", uidvalidity=8, uid=42))  # a new UIDVALIDITY: new mail
    assert (other.outcome.value, other.code, other.already_recorded) == ("ticket", "AT-000002", False)
