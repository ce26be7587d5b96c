"""Configuration: one pydantic-settings class, read once per process and passed in.

Every field is read from an environment variable with the prefix ``ATENCION_`` (a ``.env`` file in
the working directory is read too). Defaults are the embedded ones `make demo` uses: SQLite under
``var/``, the in-process broker, outgoing mail written under ``var/outbox/``.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The development default of ``ATENCION_SECRET_KEY``: anyone can compute tokens with it, so no
#: reply token made with it is trusted (`mail.inbound.staff_reply.trust_of`).
DEV_SECRET_KEY = "dev-insecure-change-me"


class Settings(BaseSettings):
    """The process configuration (DESIGN.md, "Configuration")."""

    model_config = SettingsConfigDict(env_prefix="ATENCION_", env_file=".env", extra="ignore")

    database_url: str = Field("sqlite:///var/atencion.db", description="SQLAlchemy URL")
    broker_url: str | None = Field(None, description="redis://… ; unset: in-process broker")
    imap_url: str | None = Field(
        None, description="imap://user:pass@host:port/INBOX, imaps://…, ?starttls=1; the default mailbox"
    )
    smtp_url: str | None = Field(None, description="smtp://… ; unset: mail written to DATA_DIR/outbox")
    mail_from: str = Field("postventa@localhost", description="our From address; also an own address")
    code_prefix: str = Field("AT", description="ticket code prefix: AT-000123")
    timezone: str = Field("America/Lima", description="zone of 'today' for the SLA and local dates")
    data_dir: Path = Field(Path("var"), description="attachments, raw mail, outbox .eml files")
    secret_key: str = Field(DEV_SECRET_KEY, description="panel sessions, reply tokens (default: no token trusted)")
    trusted_authserv_id: str | None = Field(None, description="RFC 8601 authserv-id we trust")
    secure_cookies: bool = Field(False, description="Secure session cookies (HTTPS panel)")
    mail_redirect_all_to: str | None = Field(None, description="development: all mail goes here")
    config: Path | None = Field(None, description="TOML file with several mailboxes")
    max_message_kib: int = Field(25 * 1024, ge=1, description="largest accepted message, in KiB")
    max_attachments: int = Field(50, ge=0, description="most attachments accepted in one message")
    reopen_closed: bool = Field(
        True, description="a reply to a closed ticket reopens it (False: opens a new linked ticket)"
    )
    poll_interval_s: float = Field(30.0, gt=0, description="seconds between two polls of a mailbox")
    lock_ttl_s: int = Field(300, ge=1, description="seconds a mailbox lock lives without renewal")
    mail_from_name: str = Field("Atención al Cliente", description="display name of our From")
    outbox_lease_s: float = Field(120.0, gt=0, description="seconds a worker holds a claimed outbox row")
    retry_backoff_s: float = Field(
        60.0, gt=0, description="first wait after a temporary SMTP failure, doubled each attempt (max 1 h)")
    max_attempts: int = Field(8, ge=1, description="temporary failures before an outbox row is failed")
    sweep_interval_s: float = Field(30.0, gt=0, description="seconds between two outbox sweeps")
    rate_limit_per_hour: int = Field(20, ge=1, description="automatic mails per external address per hour")
    digest_time: str = Field("08:00", description="local time (HH:MM) of the daily overdue digest")
    health_outbox_max_min: float = Field(
        15.0, gt=0, description="health fails when the oldest pending outbox row is older (minutes)")
    event_reminder_hours: float = Field(
        24.0, gt=0, description="hours before an event its reminder is mailed (organizer; the requester of a visit)")
    company_name: str = Field(
        "Atención al Cliente", description="the company that signs documents (a ticket's promoter overrides it)")
    company_ruc: str | None = Field(None, description="that company's RUC, printed under its name")
    company_address: str | None = Field(None, description="that company's address, printed in the letterhead")
    company_logo: Path | None = Field(
        None, description="PNG, JPEG, GIF or SVG file of that company's logo (at most 1 MiB)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """An IANA zone name such as America/Lima (the SLA's "today" depends on it)."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"zona horaria desconocida {value!r} (p. ej. America/Lima)") from exc
        return value

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        """HH:MM, 24-hour, local to ``timezone``."""
        hh, sep, mm = value.strip().partition(":")
        if not (sep and hh.isascii() and mm.isascii() and hh.isdigit() and mm.isdigit()
                and int(hh) < 24 and int(mm) < 60 and len(mm) == 2):
            raise ValueError(f"hora no válida {value!r} (formato HH:MM, p. ej. 08:00)")
        return f"{int(hh):02d}:{mm}"

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        """smtp://[user:pass@]host[:port][?starttls=1] or smtps://…"""
        if value is None or not value.strip():
            return None
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value.strip())
        except ValueError:  # "Invalid IPv6 URL": an unclosed [
            raise ValueError("ATENCION_SMTP_URL no es una URL válida (smtp://servidor[:puerto])") from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("ATENCION_SMTP_URL debe ser smtp://servidor[:puerto] o smtps://servidor[:puerto]")
        try:
            parts.port  # noqa: B018  (raises on a bad port)
        except ValueError:
            raise ValueError("ATENCION_SMTP_URL tiene un puerto no válido") from None
        return value.strip()

    @property
    def storage_dir(self) -> Path:
        """Content-addressed files (attachments and raw messages)."""
        return self.data_dir / "files"


def load_settings(**overrides) -> Settings:
    """Read the settings from the environment, with explicit overrides (tests, CLI options)."""
    return Settings(**overrides)
