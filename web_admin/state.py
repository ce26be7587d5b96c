"""What the panel's views share: the settings and database handles of the application
(`PanelState`, reached with `panel()`), and one read-only session per request (`read_session()`,
closed on teardown). Writes (the ticket's actions, held mail) open their own
``panel().sessions.begin()`` transaction and call the `tickets` services, which never commit;
then `send_queued()` sends the mail they queued as the CLI does (in process without a broker,
enqueued with Redis)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Flask, current_app, flash, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tickets.db import make_engine, make_reader, make_sessionmaker
from tickets.settings import Settings


@dataclass
class PanelState:
    """The process objects of one panel application."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    """Read-write sessions (the caller owns ``begin()``)."""
    reader: sessionmaker[Session]
    """Read-only sessions: on SQLite they never take the write lock."""

    @classmethod
    def from_settings(cls, settings: Settings) -> PanelState:
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_sessionmaker(engine), make_reader(engine))

    _outbound: object | None = None

    @property
    def outbound(self):
        """This panel's `worker.outbound.Outbound` (broker and SMTP connections), made on first use.

        Its own instance, not the process's `worker.outbound.setup` one: under `atencion run` that
        one belongs to the worker thread, and replacing it would close its connections."""
        if self._outbound is None:
            from worker.outbound import Outbound  # dramatiq: only when an action sends mail

            self._outbound = Outbound(self.settings, self.sessions)
        return self._outbound

    def close(self) -> None:
        """Close the SMTP connections and the engine's pool."""
        if self._outbound is not None:
            self._outbound.close()
        self.engine.dispose()

    @property
    def zone(self) -> ZoneInfo:
        """The configured time zone: every date the panel shows is in it."""
        return ZoneInfo(self.settings.timezone)


def panel(app: Flask | None = None) -> PanelState:
    """The `PanelState` of ``app`` (default: the current application)."""
    return (app or current_app).extensions["atencion"]


def read_session() -> Session:
    """This request's read-only session (opened on first use, closed at teardown)."""
    if "read_session" not in g:
        g.read_session = panel().reader()
    return g.read_session


def close_read_session(exc: BaseException | None = None) -> None:
    """Teardown: close the request's read-only session, if one was opened."""
    session = g.pop("read_session", None)
    if session is not None:
        session.close()


def send_queued() -> None:
    """After an action's commit: send (no broker) or enqueue (Redis) the mail it queued, as the
    CLI's ``App.send_queued``. A broker that is down or a copy that failed for good is a warning
    flashed to the user; the action itself is committed either way."""
    from worker.outbound import BrokerUnavailable

    try:
        report = panel().outbound.after_commit()
    except BrokerUnavailable as exc:
        flash(f"Aviso: {exc}; el correo queda pendiente y se enviará cuando vuelva.", "warning")
        return
    if report is not None and report.failed:
        n = len(report.failed)
        flash(f"Aviso: {n} correo{'s' if n != 1 else ''} no se pudo enviar (vea la bitácora).", "warning")
