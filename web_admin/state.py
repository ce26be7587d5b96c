"""What the panel's views share: the settings and database handles of the application
(`PanelState`, reached with `panel()`), and one read-only session per request (`read_session()`,
closed on teardown). Writes (part B's actions) open their own ``panel().sessions.begin()``
transaction and call the `tickets` services, which never commit."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g
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
