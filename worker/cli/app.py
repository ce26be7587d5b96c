"""What every command shares: the process objects (`App`), the one-line error (`CliError`), and the
helpers that print JSON and text for a terminal in the configured time zone."""

from __future__ import annotations

import errno
import json
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tickets.db import make_engine, make_reader, make_sessionmaker
from tickets.services import Context
from tickets.settings import Settings
from worker.outbound import BrokerUnavailable
from worker.outbound import setup as outbound_setup


class CliError(click.ClickException):
    """A one-line error for the user (the message in Spanish); exit code 1."""


class App:
    """The process objects of one command: settings, then the engine, session factories and service
    context, built on first use (``--help`` and bad arguments never touch the database)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = make_sessionmaker(self.engine)
        return self._sessions

    @property
    def reader(self) -> sessionmaker[Session]:
        """Read-only sessions (SQLite: no write lock held while reading)."""
        return make_reader(self.engine)

    @cached_property
    def outbound(self):
        """This process's broker, actor and SMTP connections (`worker.outbound.Outbound`)."""
        return outbound_setup(self.settings, self.sessions)

    def send_queued(self) -> None:
        """After a command's commit: without a broker, send the mail it queued now (this process
        is about to exit); with Redis, hand it to the workers. A copy that failed for good is
        reported on stderr in one line (see ``atencion outbox list --state failed``), and so is a
        broker that is down: the command's change is committed, its mail waits for the sweep."""
        try:
            report = self.outbound.after_commit()
        except BrokerUnavailable as exc:
            click.echo(f"aviso: {exc}; el correo queda pendiente y se enviará cuando vuelva "
                       "(barrido de 'atencion scheduler')", err=True)
            return
        if report is not None:
            self.warn_failed(report)

    @staticmethod
    def warn_failed(report) -> None:
        """One stderr line when copies of this run failed for good (a `DeliveryReport`)."""
        n = len(report.failed)
        if n:
            click.echo(f"aviso: {n} correo{'s' if n != 1 else ''} no se pudo enviar "
                       "(vea 'atencion outbox list --state failed')", err=True)

    def close(self) -> None:
        """Close the SMTP connections this command opened."""
        if "outbound" in self.__dict__:
            self.outbound.close()

    @property
    def ctx(self) -> Context:
        """What the ticket services need from the settings."""
        return Context.from_settings(self.settings)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The configured time zone: every time shown or written in JSON is in it."""
        return ZoneInfo(self.settings.timezone)

    def local_time(self, value: str | datetime | None) -> str:
        """An instant (aware datetime or ISO 8601 text) as local ``AAAA-MM-DD HH:MM``; ``—`` when None."""
        if not value:
            return "—"
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        return when.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")

    def local_iso(self, value: datetime | None) -> str | None:
        """An aware datetime as ISO 8601 with the configured zone's offset (for JSON)."""
        return value.astimezone(self.zone).isoformat() if value is not None else None


pass_app = click.make_pass_decorator(App)


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if is_dataclass(value):
        return asdict(value)
    return str(value)


def echo_json(data) -> None:
    """``data`` as indented JSON on stdout (UTF-8 text, not ``\\u`` escapes)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


def printable(text: str | None) -> str:
    """Text safe for a terminal: control characters (escape sequences) dropped."""
    return "".join(ch for ch in text or "" if ch.isprintable() or ch == "\t")


#: The usual operating-system errors, in the users' words.
_OS_ERRORS = {
    errno.ENOENT: "no existe", errno.EACCES: "permiso denegado", errno.EPERM: "operación no permitida",
    errno.EISDIR: "es una carpeta", errno.ENOTDIR: "no es una carpeta", errno.ENOSPC: "no queda espacio en el disco",
    errno.EROFS: "sistema de archivos de solo lectura", errno.EEXIST: "ya existe",
}


def os_error_message(exc: OSError) -> str:
    """``/ruta/archivo: permiso denegado``; the system's own text for errors not listed."""
    what = _OS_ERRORS.get(exc.errno) or exc.strerror or str(exc)
    return f"{exc.filename}: {what}" if exc.filename else what
