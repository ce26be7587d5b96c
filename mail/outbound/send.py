"""Hand a composed mail to the SMTP server (aiosmtplib), or write it as an .eml file when no
``ATENCION_SMTP_URL`` is set (DESIGN, "Configuration").

A transport sends one copy at a time to one envelope recipient and says how it went by raising
`SendError` (``permanent`` for a 5xx answer, else temporary: 4xx, refused or lost connection).
`SmtpTransport` keeps one connection open between sends (one transport per worker thread), with
its own event loop; a connection idle for more than `IDLE_CHECK_S` is checked with NOOP first, so
a server that dropped it does not cost a row an attempt. After an error the connection is
closed and the next send opens a new one: a copy is never re-sent on the same call.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import aiosmtplib.email

#: Seconds a connection may sit idle before it is checked with NOOP.
IDLE_CHECK_S = 10.0
#: Seconds for each SMTP command (connect, each reply, DATA).
TIMEOUT_S = 60.0


class SendError(Exception):
    """A copy was not accepted. ``permanent``: the server refused it for good (5xx); else try
    again later. ``str()`` is the server's answer or the connection error, one line."""

    def __init__(self, text: str, *, permanent: bool):
        super().__init__(" ".join(text.split())[:2000])
        self.permanent = permanent


class SmtpTransport:
    """One reused SMTP connection to the server of ``url`` (``smtp://user:pass@host:port``,
    ``?starttls=1`` to require STARTTLS, ``smtps://`` for implicit TLS). Certificates are checked
    against the system store (``SSL_CERT_FILE`` names another). Not thread-safe: one per thread.
    """

    def __init__(self, url: str, *, timeout: float = TIMEOUT_S):
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        self._options = dict(
            hostname=parts.hostname, port=parts.port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=implicit,
            start_tls=True if query.get("starttls", ["0"])[0] in ("1", "true", "yes") else None,
            timeout=timeout, tls_context=ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE")),
        )
        self._loop = asyncio.new_event_loop()
        self._client: aiosmtplib.SMTP | None = None
        self._last_used = 0.0
        self._flat_of: EmailMessage | None = None  # the last message flattened, and its bytes
        self._flat_cte = ""
        self._flat_bytes = b""

    def send(self, msg: EmailMessage, sender: str, recipient: str, *, row_id: int = 0) -> None:
        """Send ``msg`` to ``recipient`` with envelope sender ``sender``. Raises SendError.
        (``row_id`` names the outbox row in the .eml transport; unused here.)"""
        self._loop.run_until_complete(self._send(msg, sender, recipient))

    async def _send(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        try:
            client = await self._connected()
            if sender.isascii() and recipient.isascii():
                errors, _ = await client.sendmail(sender, [recipient], self._flat(msg, client),
                                                  mail_options=self._mail_options(client))
            else:  # SMTPUTF8: aiosmtplib checks the extension and flattens with the UTF-8 policy
                errors, _ = await client.send_message(msg, sender=sender, recipients=[recipient])
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await self._reset()
            refused = exc.recipients[0] if exc.recipients else None
            code = refused.code if refused else 550
            raise SendError(f"{code} {refused.message if refused else exc}", permanent=code >= 500) from exc
        except aiosmtplib.SMTPNotSupported as exc:  # e.g. SMTPUTF8 needed and not offered
            await self._reset()
            raise SendError(f"el servidor no admite este correo: {exc}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            permanent = exc.code >= 500 and not isinstance(exc, aiosmtplib.SMTPAuthenticationError)
            raise SendError(f"{exc.code} {exc.message}", permanent=permanent) from exc
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            await self._reset()
            raise SendError(f"sin conexión con el servidor SMTP: {exc or type(exc).__name__}",
                            permanent=False) from exc
        self._last_used = time.monotonic()
        if errors:  # one recipient only: refused ones raise above; kept for safety
            addr, response = next(iter(errors.items()))
            raise SendError(f"{addr}: {response.code} {response.message}", permanent=response.code >= 500)

    def _flat(self, msg: EmailMessage, client: aiosmtplib.SMTP) -> bytes:
        """``msg`` as the bytes `aiosmtplib.SMTP.send_message` would send (its own flattening), made
        once for the copies of one mail sent one after the other (the generator costs ≈ 2 ms)."""
        cte = "8bit" if client.supports_extension("8BITMIME") else "7bit"
        if self._flat_of is not msg or self._flat_cte != cte:
            self._flat_bytes = aiosmtplib.email.flatten_message(msg, utf8=False, cte_type=cte)
            self._flat_of, self._flat_cte = msg, cte
        return self._flat_bytes

    @staticmethod
    def _mail_options(client: aiosmtplib.SMTP) -> list[str]:
        return ["BODY=8BITMIME"] if client.supports_extension("8BITMIME") else []

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            if time.monotonic() - self._last_used < IDLE_CHECK_S:
                return self._client
            try:
                await self._client.noop()
                return self._client
            except (TimeoutError, aiosmtplib.SMTPException, OSError):
                await self._reset()
        self._client = aiosmtplib.SMTP(**self._options)
        await self._client.connect()
        return self._client

    async def _reset(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing a broken connection: nothing to add
                pass

    def close(self) -> None:
        """QUIT (when connected) and close the event loop. A transport still sending in its own
        thread (a process stopping mid-send) is left alone: its connection ends with the process."""
        if self._loop.is_running():
            return
        if self._client is not None and self._client.is_connected:
            try:
                self._loop.run_until_complete(self._client.quit())
            except (TimeoutError, aiosmtplib.SMTPException, OSError):
                pass
        self._client = None
        self._loop.close()


class EmlTransport:
    """Writes each copy as ``<directory>/<UTC timestamp>-<outbox id>.eml`` (the embedded default:
    ``$ATENCION_DATA_DIR/outbox``). The file appears whole (written aside, then renamed)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def send(self, msg: EmailMessage, sender: str, recipient: str, *, row_id: int = 0) -> Path:
        """Write the copy; the envelope goes in X-Envelope-* headers of the file. Raises
        SendError (temporary) when the folder cannot be written."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}-{row_id}.eml"
        data = (f"X-Envelope-From: <{sender}>\r\nX-Envelope-To: <{recipient}>\r\n").encode() + msg.as_bytes()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError as exc:
            raise SendError(f"no se pudo escribir {path}: {exc.strerror or exc}", permanent=False) from exc
        return path

    def close(self) -> None:
        """Nothing to close."""


def transport_for(settings) -> SmtpTransport | EmlTransport:
    """The transport the settings name: SMTP when ``smtp_url`` is set, else .eml files. Each SMTP
    command may take an eighth of the outbox lease at most (15 s by default), so that one send
    ends well within the lease and no other worker takes the row while it is in flight."""
    if settings.smtp_url:
        return SmtpTransport(settings.smtp_url, timeout=min(TIMEOUT_S, settings.outbox_lease_s / 8))
    return EmlTransport(Path(settings.data_dir) / "outbox")
