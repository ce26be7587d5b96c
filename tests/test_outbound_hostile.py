"""What a hostile tester found in outbound mail, kept as tests: how many copies one mail may cause,
our own plus-addresses, disguised subjects, staff's replies in the client's thread, refusals to
staff under the hourly limit, reply tokens under the public development key, passwords in
configuration errors. Real SQLite and PostgreSQL (`env`), the real CLI for the error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from mail.outbound.compose import header_safe, thread_of
from mail.outbound.deliver import _held_back
from tests.support import SUPPORT, build
from tickets import outbox, services
from tickets.models import OutboxMessage
from tickets.settings import DEV_SECRET_KEY, Settings

ROSA = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>"
REPO = Path(__file__).resolve().parent.parent


def rows(env, event: str) -> list[OutboxMessage]:
    with env.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id)))


def test_a_mail_with_many_addresses_on_cc_makes_at_most_five_cc_copies(env):
    strangers = [f"vecino{i}@example.org" for i in range(40)]
    cc = ", ".join([*strangers, "Lucía <lucia.fernandez@outlook.com>"])
    assert env.ingest_bytes(build("Filtración en el techo", "Gotea.", sender=ROSA, cc=cc)).outcome == "ticket"
    acks = rows(env, "acknowledgement")
    assert len(acks) == 1 + services.MAX_CLIENT_CC
    assert acks[0].to_addrs == ["rosa.quispe.h@gmail.com"]
    assert "lucia.fernandez@outlook.com" in acks[0].cc_addrs  # a catalog client first, then in order
    assert acks[0].cc_addrs == sorted(acks[0].cc_addrs) and len(acks[0].cc_addrs) == services.MAX_CLIENT_CC


def test_our_plus_addresses_are_ours():
    own = {SUPPORT}
    assert not outbox.is_mailable("postventa+loop@inmobiliaria-andina.pe", own)
    assert not outbox.is_mailable("postventa+AT-000001.0abc@inmobiliaria-andina.pe", own)
    assert outbox.is_mailable("ventas+x@inmobiliaria-andina.pe", own)


def test_disguised_subjects_lose_their_invisible_characters():
    assert header_safe("Fuga \u202egnp.exe\u202c en el baño\u200b") == "Fuga gnp.exe en el baño"
    assert header_safe("Uno\r\nBcc: x@evil.example") == "Uno Bcc: x@evil.example"


def test_the_clients_thread_leaves_out_staffs_own_replies(env):
    code = env.ingest_bytes(build("Filtración", "Gotea.", sender=ROSA, message_id="<rosa-1@gmail.com>")).code
    env.ingest_bytes(build(f"Re: [{code}] Filtración", "Nota interna del personal.",
                           sender="Carla <carla.mendoza@inmobiliaria-andina.pe>", message_id="<staff-1@andina.pe>"))
    with env.sessions.begin() as s:
        t = services.get_ticket(s, code)
        services.set_status(s, env.ctx, t, "En proceso")
    [status] = rows(env, "status")
    with env.sessions() as s:
        thread = thread_of(s, s.get(OutboxMessage, status.id))
    assert thread.first_client == thread.latest_client == "rosa-1@gmail.com"


def test_refusals_to_staff_are_counted_by_the_hourly_limit(env):
    carla = "carla.mendoza@inmobiliaria-andina.pe"
    settings = Settings(_env_file=None, rate_limit_per_hour=2, config=None, imap_url=None)
    with env.sessions.begin() as s:
        for event in ("commands_refused", "commands_refused", "commands_refused", "assignment"):
            outbox.queue(s, ticket_id=None, code="AT-000001", domain="x.pe", event=event, to=[carla])
    with env.sessions.begin() as s:
        ids = outbox.due_ids(s)
        outbox.claim(s, ids, lease_s=60)
        for row in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[:2]:
            row.state, row.sent_at = "sent", row.created_at
    with env.sessions() as s:
        third, assignment = s.scalars(select(OutboxMessage).where(OutboxMessage.state == "sending")
                                      .order_by(OutboxMessage.id)).all()
        assert _held_back(s, settings, third) is not None  # a third refusal within the hour waits
        assert _held_back(s, settings, assignment) is None  # other mail to staff is internal: no limit


def test_no_reply_token_is_trusted_under_the_development_key():
    from mail.inbound.parse import parse_message
    from mail.inbound.rules.base import RuleSettings
    from mail.inbound.staff_reply import trust_of
    from tickets.models import User
    from tickets.reply_tokens import reply_address, token_for

    carla = User(id=1, email="carla.mendoza@inmobiliaria-andina.pe", name="Carla")
    to = reply_address(SUPPORT, token_for(DEV_SECRET_KEY, 1, "AT-000001"), "AT-000001")
    msg = parse_message(build("Re: [AT-000001] x", "#estado Atendido", sender=f"Carla <{carla.email}>", to=to))
    public = RuleSettings(own_addresses=frozenset({SUPPORT}), secret_key=DEV_SECRET_KEY)
    assert trust_of(msg, carla, public, "AT-000001") is None
    to = reply_address(SUPPORT, token_for("una-clave-de-verdad", 1, "AT-000001"), "AT-000001")
    msg = parse_message(build("Re: [AT-000001] x", "#estado Atendido", sender=f"Carla <{carla.email}>", to=to))
    real = RuleSettings(own_addresses=frozenset({SUPPORT}), secret_key="una-clave-de-verdad")
    assert trust_of(msg, carla, real, "AT-000001") == "token"


def test_a_configuration_error_does_not_show_the_smtp_password(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "ATENCION_SMTP_URL": "smtp://u:secreto@[host:25"}
    proc = subprocess.run([sys.executable, "-m", "worker.cli", "health"], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=60)
    assert proc.returncode == 1 and "secreto" not in proc.stderr and "***" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "no es una URL válida" in proc.stderr
