"""Issue 8, outbound mail end to end, on SQLite and PostgreSQL: client mail comes in through a real
Dovecot (`poll --once`) or `import`; the outbox is delivered to a real aiosmtpd by real workers
(`atencion worker` processes) through a real Redis, and once by the embedded default (no broker:
the command sends before it exits). Every check counts what the SMTP server received, then runs
`send-pending` and checks that nothing more arrives, and reads the received mails' headers and text.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from itertools import count

import pytest
from sqlalchemy import select

from tests.cli_harness import CARLA, CATALOG, ROSA, Cli
from tests.servers.smtp import Delivery, SmtpServer
from tests.support import SUPPORT, build
from tickets.models import OutboxMessage, User
from tickets.reply_tokens import reply_address, token_for

PERCY = "percy.vsoto@hotmail.com"
DIEGO = "diego.salas@inmobiliaria-andina.pe"
SECRET = "clave-secreta-de-prueba"
FIRST_ID = "fuga-302.1@mail.gmail.com"
HOSTILE = '<b>Fuga & "humedad"</b>\r\nBcc: x@evil.example'
SETTLE_S = 30.0


def encoded_word(text: str) -> str:
    """``text`` as one RFC 2047 Q encoded-word, every byte escaped (so CR and LF survive)."""
    return "=?utf-8?q?" + "".join(f"={b:02X}" for b in text.encode()) + "?="


def client_mail(subject: str = "Fuga de agua en el baño del Dpto 302") -> bytes:
    """Rosa's first mail, Percy (co-owner) on Cc; the subject sent as an encoded-word."""
    raw = build("SUBJECT-HERE", "Buenos días,\nHay una fuga de agua en el baño del Dpto 302.\nRosa",
                sender=f"Rosa Quispe Huamán <{ROSA}>", cc=f"Percy Villanueva Soto <{PERCY}>",
                message_id=f"<{FIRST_ID}>")
    return raw.replace(b"Subject: SUBJECT-HERE", b"Subject: " + encoded_word(subject).encode())


def plain(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def html(msg: EmailMessage) -> str:
    return msg.get_body(("html",)).get_content()


def ids(header: str | None) -> list[str]:
    """Message-IDs of a References/In-Reply-To value, without <>."""
    return [part.strip("<>") for part in (header or "").split()]


@dataclass
class Mail:
    """One mail as the server received it: its copies (one per envelope recipient)."""

    copies: list[Delivery]

    @property
    def msg(self) -> EmailMessage:
        return self.copies[0].message

    @property
    def rcpts(self) -> list[str]:
        return sorted(r for d in self.copies for r in d.rcpt_tos)

    def to(self, address: str) -> EmailMessage:
        [copy] = [d for d in self.copies if address in d.rcpt_tos]
        return copy.message


@dataclass
class Mailroom:
    """The CLI on a migrated database with the example catalog, mailing to ``smtp``; through the
    Redis ``broker`` (and `atencion worker` processes) or, without one, the embedded default."""

    cli: Cli
    smtp: SmtpServer
    broker: str | None
    seen: int = 0
    _batch: count = field(default_factory=lambda: count(1))

    @property
    def env(self) -> dict[str, str]:
        env = {"ATENCION_SMTP_URL": self.smtp.url, "ATENCION_SECRET_KEY": SECRET}
        return {**env, "ATENCION_BROKER_URL": self.broker} if self.broker else env

    def run(self, *args: str, **extra: str) -> str:
        """A real ``python -m worker.cli`` process; its stdout (exit 0 and no traceback asserted)."""
        proc = self.cli.run(*args, **self.env, **extra)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, (args, proc.stdout, proc.stderr)
        return proc.stdout

    def import_(self, *raws: bytes) -> str:
        folder = self.cli.home / f"in{next(self._batch)}"
        folder.mkdir()
        for n, raw in enumerate(raws):
            (folder / f"{n:02}.eml").write_bytes(raw)
        return self.run("import", folder)

    def rows(self) -> list[OutboxMessage]:
        with self.cli.sessions() as s:
            return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def settle(self) -> list[OutboxMessage]:
        """Wait until no outbox row is pending or being sent (the workers marked them); the rows."""
        deadline = time.monotonic() + SETTLE_S
        while True:
            rows = self.rows()
            if not any(r.state in ("pending", "sending") for r in rows):
                return rows
            assert time.monotonic() < deadline, [(r.id, r.event, r.state, r.last_error) for r in rows]
            time.sleep(0.05)

    def expect(self, copies: int) -> list[Mail]:
        """The mails of exactly ``copies`` new deliveries: wait for them, let the workers mark
        their rows, run a sweep (`send-pending`), and check that nothing more arrived."""
        got = self.smtp.wait_for(self.seen + copies, timeout=SETTLE_S)[self.seen:]
        rows = self.settle()
        sweep = self.cli.main("send-pending", ATENCION_SMTP_URL=self.smtp.url)  # in process, no broker
        assert sweep.returncode == 0 and sweep.stdout.startswith("enviados: 0;"), sweep
        assert self.smtp.count() == self.seen + copies, [d.message["Subject"] for d in self.smtp.deliveries()]
        assert {r.state for r in rows} <= {"sent", "bounced"}, [(r.id, r.event, r.state, r.last_error) for r in rows]
        self.seen += copies
        by_id: dict[str, list[Delivery]] = defaultdict(list)
        for d in got:
            by_id[d.message["Message-ID"]].append(d)
            # reads as written: the subject's words once spaced, no run of blank lines in the text
            assert "  " not in d.message["Subject"] and "\n\n\n" not in plain(d.message), d.data.decode()
        return [Mail(c) for c in by_id.values()]

    def user_id(self, email: str) -> int:
        with self.cli.sessions() as s:
            return s.scalar(select(User.id).where(User.email == email))

    def show(self) -> dict:
        return self.cli.json("show", "AT-000001", "--json")


def make_room(cli: Cli, smtp: SmtpServer, broker: str | None) -> Mailroom:
    cli.ok("migrate")
    cli.ok("catalog", "load", CATALOG)
    return Mailroom(cli, smtp, broker)


@pytest.fixture
def room(cli, smtp, redis_url):
    """A Mailroom with the Redis broker and an `atencion worker` process (2 threads)."""
    r = make_room(cli, smtp, redis_url)
    proc = subprocess.Popen([sys.executable, "-m", "worker.cli", "worker", "--threads", "2"], cwd=cli.home,
                            env={**cli.env, **r.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield r
    proc.terminate()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err, (proc.returncode, out, err)


@pytest.fixture
def embedded(cli, smtp):
    """A Mailroom without a broker: each command sends what it queued before it exits."""
    return make_room(cli, smtp, None)


def check_client_mail(mail: Mail, subject_part: str, *, thread: list[str]) -> EmailMessage:
    """An automatic mail to the client: To Rosa, Cc Percy (one copy each), our Message-ID, the
    thread's ids in References, the last one in In-Reply-To, Reply-To the mailbox, local Date."""
    assert mail.rcpts == sorted([ROSA, PERCY])
    msg = mail.msg
    assert msg["To"] == ROSA and msg["Cc"] == PERCY
    assert "Bcc" not in msg and msg["Subject"].startswith("[AT-000001] ") and subject_part in msg["Subject"]
    assert msg["Message-ID"].endswith("@inmobiliaria-andina.pe>") and "AT-000001" in msg["Message-ID"]
    assert ids(msg["References"]) == thread and ids(msg["In-Reply-To"]) == thread[-1:]
    assert msg["Reply-To"] == SUPPORT and msg["Auto-Submitted"] == "auto-generated"
    assert msg["From"].endswith(f"<{SUPPORT}>") and msg["Date"].endswith(" -0500")  # America/Lima
    for d in mail.copies:
        assert d.mail_from == SUPPORT and d.message["Message-ID"] == msg["Message-ID"]
    return msg


def check_staff_mail(room: Mailroom, mail: Mail, email: str, subject_part: str) -> EmailMessage:
    """A mail to one staff user: To them only, Reply-To the plus-address with their reply token."""
    assert mail.rcpts == [email]
    msg = mail.msg
    assert msg["To"] == email and "Cc" not in msg and subject_part in msg["Subject"]
    assert msg["Subject"].startswith("[AT-000001] ") and ids(msg["References"])[0] == FIRST_ID
    code = "AT-000001"
    assert msg["Reply-To"] == reply_address(SUPPORT, token_for(SECRET, room.user_id(email), code), code)
    assert msg["Reply-To"].startswith("postventa+AT-000001.0")
    return msg


# --------------------------------------------------------------------------- the tests


def test_acknowledgement_from_dovecot_through_redis_workers(room, dovecot, imap_user):
    user, password = imap_user
    dovecot.append(user, client_mail(HOSTILE))
    out = room.run("poll", "--once", ATENCION_IMAP_URL=dovecot.url(user, password))
    assert "atenciones: 1" in out

    [ack] = room.expect(2)  # one mail: Rosa in To, Percy in Cc, one copy each
    msg = check_client_mail(ack, "Hemos recibido su solicitud", thread=[FIRST_ID])
    assert "\r" not in msg["Subject"] and "\n" not in msg["Subject"]
    assert "x@evil.example" not in ack.rcpts
    assert "&lt;b&gt;Fuga &amp; &#34;humedad&#34;&lt;/b&gt;" in html(msg) and "<b>Fuga" not in html(msg)
    text = plain(msg)
    assert text.startswith("Estimado(a) Rosa Quispe Huamán:\n\nHemos recibido su solicitud y la registramos "
                           "con el código AT-000001.\n")
    assert re.search(r"\n  Fecha de solicitud: [\d/]+\n  Plazo de respuesta: 5 días\n\nPara añadir información", text)
    assert "Días transcurridos" not in text  # an acknowledgement of old mail must not look late
    assert text.endswith("\n\nAtentamente,\nAtención al Cliente\n")

    [entry] = [e for e in room.show()["logbook"] if e["kind"] == "email_out"]
    assert entry["event"] == "acknowledgement" and entry["state"] == "sent"
    assert entry["message_id"] == msg["Message-ID"].strip("<>")
    assert sorted((r["email"], r["state"]) for r in entry["recipients"]) == [(PERCY, "sent"), (ROSA, "sent")]


def test_assignment_status_and_reopening_through_redis_workers(room):
    room.import_(client_mail())
    [ack] = room.expect(2)
    ack_id = ack.msg["Message-ID"].strip("<>")

    room.run("assign", "AT-000001", CARLA)
    [mail] = room.expect(1)
    msg = check_staff_mail(room, mail, CARLA, "Atención asignada a usted")
    assert plain(msg).startswith("Se le asignó la atención AT-000001.\n")
    assert msg["Auto-Submitted"] == "auto-generated"

    room.run("assign", "AT-000001", DIEGO)
    mails = {m.rcpts[0]: m for m in room.expect(2)}
    assert sorted(mails) == [CARLA, DIEGO]
    assert "asignada a usted" in check_staff_mail(room, mails[DIEGO], DIEGO, "asignada a usted")["Subject"]
    note = check_staff_mail(room, mails[CARLA], CARLA, "Atención reasignada")
    assert "asignada a usted" not in note["Subject"] and "Se le asignó" not in plain(note)
    assert plain(note).startswith("La atención AT-000001 fue reasignada a Diego Salas Beltrán; "
                                  "ya no está a su cargo.\n")

    room.run("status", "AT-000001", "En proceso")
    [mail] = room.expect(2)
    msg = check_client_mail(mail, "En proceso", thread=[FIRST_ID, ack_id])
    assert msg["Subject"] == "[AT-000001] Estado de su atención: En proceso"
    assert "El estado de su atención AT-000001 cambió a: En proceso." in plain(msg)

    room.run("status", "AT-000001", "Asignado")  # not notify_requester: nobody is told
    assert room.expect(0) == []

    room.run("status", "AT-000001", "Atendido")
    [attended] = room.expect(2)
    check_client_mail(attended, "Atendido", thread=[FIRST_ID, ack_id, mail.msg["Message-ID"].strip("<>")])

    # Rosa answers the attended ticket: it reopens (En proceso) with no status mail to her; the
    # staff on the ticket (assignee and watchers) get her comment
    reply = build("Re: [AT-000001] Fuga de agua", "Sigue goteando, por favor vuelvan.",
                  sender=f"Rosa Quispe Huamán <{ROSA}>", in_reply_to=f"<{FIRST_ID}>")
    room.import_(reply)
    assert room.show()["status"] == "En proceso"
    [comment] = room.expect(2)
    assert comment.rcpts == sorted([CARLA, DIEGO]) and "Nuevo comentario del cliente" in comment.msg["Subject"]
    assert "Sigue goteando" in plain(comment.msg)
    events = [r.event for r in room.rows()]
    assert events.count("status") == 4  # En proceso, Atendido: two copies each; none for the reopening


def test_no_mail_for_automatic_and_stranger_messages_embedded(embedded, dovecot, imap_user):
    room = embedded
    out = room.import_(client_mail())  # no broker: `import` sends the acknowledgement itself
    assert "atenciones: 1" in out
    [ack] = room.expect(2)
    check_client_mail(ack, "Hemos recibido su solicitud", thread=[FIRST_ID])
    rows_before = len(room.rows())

    user, password = imap_user
    now = datetime.now(UTC)
    subject = "Re: [AT-000001] Fuga de agua en el baño del Dpto 302"
    for raw in [
        build(subject, "Estoy de vacaciones hasta el lunes.", sender=f"Percy <{PERCY}>",
              headers={"Auto-Submitted": "auto-replied"}),
        build("Respuesta automática: " + subject, "Fuera de la oficina.", sender=f"Percy <{PERCY}>"),
        build("Ofertas de diciembre en porcelanatos", "30% de descuento.", sender="Promart <ofertas@promart.example>",
              headers={"List-Id": "<ofertas.promart.example>", "Precedence": "bulk"}),
        build("[AT-000001] Hemos recibido su solicitud", "Nuestra propia copia.", sender=f"Postventa <{SUPPORT}>"),
        dsn(ack.msg["Message-ID"], ROSA),
        build(subject, "Yo también tengo una fuga.", sender="Vecino <vecino@example.org>",
              in_reply_to=f"<{FIRST_ID}>", date=now - timedelta(minutes=1)),
    ]:
        dovecot.append(user, raw)
    out = room.run("poll", "--once", ATENCION_IMAP_URL=dovecot.url(user, password))
    assert "6 mensajes" in out and "ignorados: 5" in out and "retenidos: 1" in out

    assert room.expect(0) == []
    rows = room.rows()
    assert len(rows) == rows_before  # not one outbox row either


def dsn(message_id: str, rcpt: str) -> bytes:
    """A delivery status notification (RFC 3464) for our mail ``message_id`` (with <>) to ``rcpt``."""
    return (
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.gmail.example>\r\n"
        f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Date: Fri, 20 Nov 2026 10:00:00 -0500\r\nMessage-ID: <dsn.1@mx.gmail.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\r\n\r\n'
        "--BB\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNo se pudo entregar.\r\n"
        "--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.gmail.example\r\n\r\n"
        f"Final-Recipient: rfc822; {rcpt}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--BB\r\nContent-Type: message/rfc822\r\n\r\nFrom: {SUPPORT}\r\nTo: {rcpt}\r\n"
        f"Subject: [AT-000001] Hemos recibido su solicitud\r\nMessage-ID: {message_id}\r\n\r\nGracias.\r\n--BB--\r\n"
    ).encode()
