"""Test support: an application environment on a fresh database, a small catalog, message builders,
and fixtures (registered through ``pytest_plugins`` in conftest.py)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlalchemy import select

from mail.inbound.poller import poll_mailbox
from mail.mailboxes import MailboxConfig, import_rules
from tickets.catalog import load_catalog_data
from tickets.db import make_engine, make_sessionmaker, migrate
from tickets.models import InboundMessage, LogbookEntry, Ticket
from tickets.services import Context
from tickets.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SUPPORT = "postventa@inmobiliaria-andina.pe"

MINI_CATALOG = {
    "promoters": [{"name": "Inmobiliaria Andina S.A.C.", "ruc": "20601234567"}],
    "areas": [{"name": "Postventa", "lead": "carla.mendoza@inmobiliaria-andina.pe"}, {"name": "Legal"}],
    "users": [
        {"email": "carla.mendoza@inmobiliaria-andina.pe", "name": "Carla Mendoza Ríos", "role": "agent",
         "area": "Postventa"},
        {"email": "jorge.paredes@inmobiliaria-andina.pe", "name": "Jorge Paredes", "role": "legal",
         "area": "Legal"},
    ],
    "projects": [{
        "name": "Residencial Los Olivos", "promoter": "Inmobiliaria Andina S.A.C.",
        "subdivisions": [
            {"name": "Torre A", "units": [{"number": "101", "type": "departamento"}]},
            {"name": "Torre B", "units": [{"number": "504", "type": "departamento"},
                                          {"number": "E-12", "type": "estacionamiento"}]},
        ],
    }],
    "clients": [
        {"document_type": "DNI", "document_number": "45871236", "name": "Rosa Quispe Huamán",
         "emails": ["rosa.quispe.h@gmail.com"]},
        {"document_type": "DNI", "document_number": "40112233", "name": "Percy Villanueva Soto",
         "emails": ["percy.vsoto@hotmail.com"]},
        {"document_type": "CE", "document_number": "001234567", "name": "Lucía Fernández",
         "emails": ["lucia.fernandez@outlook.com"]},
    ],
    "contracts": [
        {"number": "CV-2023-0001", "project": "Residencial Los Olivos", "subdivision": "Torre B",
         "unit": "504", "holders": ["DNI 45871236", "DNI 40112233"], "date": "2023-05-10"},
    ],
    "ticket_types": [{"name": "Atención", "max_response_days": 5, "priority_days": {"Urgente": 1}}],
}


@dataclass
class Env:
    """A migrated database plus the settings and service context the pipeline uses."""

    settings: Settings
    engine: object
    sessions: object
    ctx: Context

    def mailbox(self, name: str, url: str, **kw) -> MailboxConfig:
        return MailboxConfig(name=name, url=url, addresses=(SUPPORT,), **kw)

    def poll(self, mb: MailboxConfig, **kw):
        return poll_mailbox(self.sessions, self.ctx, self.settings, mb, **kw)

    def ingest_bytes(self, raw: bytes, ref: str = "test"):
        from mail.inbound.ingest import Envelope, ingest

        return ingest(self.sessions, self.ctx, import_rules(self.settings), raw,
                      Envelope(mailbox="import", source_ref=ref))

    def ticket(self, code: str) -> Ticket:
        with self.sessions() as s:
            t = s.scalar(select(Ticket).where(Ticket.code == code))
            assert t is not None, f"no ticket {code}"
            # touch what the tests read, so it is loaded before the session closes
            _ = (t.status.name, t.requester_client, t.holder, t.contract, t.unit, t.project, t.registered_by)
            return t

    def tickets(self) -> list[Ticket]:
        with self.sessions() as s:
            return list(s.scalars(select(Ticket).order_by(Ticket.id)))

    def entries(self, code: str, kind: str | None = None) -> list[LogbookEntry]:
        with self.sessions() as s:
            q = select(LogbookEntry).join(Ticket).where(Ticket.code == code).order_by(LogbookEntry.id)
            if kind:
                q = q.where(LogbookEntry.kind == kind)
            rows = list(s.scalars(q))
            for e in rows:
                _ = list(e.attachments)
            return rows

    def inbound(self) -> list[InboundMessage]:
        with self.sessions() as s:
            return list(s.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def make_env(database_url: str, tmp_path: Path, catalog: dict | None = MINI_CATALOG, **overrides) -> Env:
    settings = Settings(_env_file=None, database_url=database_url, data_dir=tmp_path / "var",
                        mail_from=SUPPORT, **overrides)
    engine = make_engine(database_url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    if catalog:
        with sessions.begin() as s:
            load_catalog_data(s, catalog)
    return Env(settings, engine, sessions, Context.from_settings(settings))


_counter = itertools.count(1)


def build(subject: str, body: str, *, sender: str = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>",
          to: str = f"Postventa <{SUPPORT}>", cc: str | None = None, html: str | None = None,
          attachments: list[tuple[str, str, bytes]] = (), headers: dict | None = None,
          in_reply_to: str | None = None, message_id: str | None = None,
          date: datetime | None = None) -> bytes:
    """A well-formed message (EmailMessage) as bytes with CRLF line endings."""
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    if cc:
        m["Cc"] = cc
    m["Subject"] = subject
    m["Date"] = format_datetime(date or datetime(2026, 11, 20, 15, 0, next(_counter) % 60, tzinfo=UTC))
    m["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
        m["References"] = in_reply_to
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    if html:
        m.add_alternative(html, subtype="html")
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes(policy=m.policy.clone(linesep="\r\n"))


@pytest.fixture
def env(database_url, tmp_path) -> Env:
    """A migrated database (SQLite and PostgreSQL) with the small catalog loaded."""
    e = make_env(database_url, tmp_path)
    yield e
    e.engine.dispose()


_user_counter = itertools.count(1)


@pytest.fixture
def imap_user(dovecot):
    """A fresh Dovecot user (an empty INBOX) for one test: (user, password)."""
    user = f"box{next(_user_counter)}x{id(dovecot) % 10000}"
    dovecot.add_user(user, "secret")
    return user, "secret"


@pytest.fixture
def Session(database_url, tmp_path):  # noqa: N802 - a session factory, named like one
    """A migrated database holding the filter/export test tickets (tests.test_queries.build_data)."""
    from tests.test_queries import build_data

    engine = make_engine(database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    build_data(factory, tmp_path)
    yield factory
    engine.dispose()
