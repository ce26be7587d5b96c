"""A real SMTP server for the tests (aiosmtpd), capturing what is delivered, with faults on demand.

>>> s = SmtpServer().start()
>>> s.url                                   # 'smtp://127.0.0.1:PORT'
>>> ... send with aiosmtplib or smtplib ...
>>> s.wait_for(1)[0].message["Subject"]     # the parsed EmailMessage
>>> s.reject_rcpt["nadie@example.com"] = (550, "5.1.1 No such user")
>>> s.fail_next_data(2)                     # the next two DATA get 451 4.3.0
>>> s.stop(); s.start()                     # an outage: connection refused in between, same port
>>> s.close()                               # stop and delete the certificate files

``security="starttls"``: the port offers (and requires) STARTTLS; ``security="tls"``: implicit TLS
(smtps). The certificate is signed by a throwaway trustme CA whose PEM is ``s.ca_file``.
``auth=True``: AUTH PLAIN and LOGIN are required, with ``SmtpServer.USER`` / ``SmtpServer.PASSWORD``.
The recipe is RECIPES.md, "aiosmtpd + aiosmtplib"; the server runs in its own thread and event loop.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import shutil
import socket
import ssl
import tempfile
import threading
import time
import warnings
import weakref
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import quote

from tests.servers.ca import ServerCertificate, write_server_certificate
from tests.servers.common import ServerUnavailable, free_port

SECURITIES = ("plain", "starttls", "tls")


@dataclass(frozen=True)
class Delivery:
    """One message the server accepted: it answered 250 to its DATA, the client still connected.

    ``mail_from``: the envelope sender ('' for a null sender); ``rcpt_tos``: the accepted envelope
    recipients, in order (rejected ones are not here); ``data``: the message bytes as received (dot
    unstuffed, CRLF line ends); ``message``: ``data`` parsed with ``email.policy.default``;
    ``mail_options``: the MAIL FROM parameters, upper-cased (e.g. ``('SMTPUTF8', 'BODY=8BITMIME')``);
    ``login``: the AUTH user, or None.
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    message: EmailMessage
    mail_options: tuple[str, ...] = ()
    login: str | None = None


def _smtp_status(code: int, text: str) -> str:
    return f"{int(code)} {text}".strip()


def _check_bindable(host: str, port: int) -> None:
    """ServerUnavailable at once when ``host:port`` cannot be bound (e.g. someone else took it)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's create_server does
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ServerUnavailable(f"aiosmtpd could not listen on {host}:{port}: {exc}") from exc


@functools.cache
def _smtp_class():
    """aiosmtpd's SMTP whose sessions keep the legacy ``login_data`` without a DeprecationWarning."""
    from aiosmtpd.smtp import SMTP, Session

    class QuietSession(Session):
        login_data = None  # a plain attribute: aiosmtpd still sets it after AUTH, and warns

    class QuietSMTP(SMTP):
        def _create_session(self):
            return QuietSession(self.loop)

    return QuietSMTP


class _Handler:
    """The aiosmtpd handler: RCPT and DATA hooks that consult the server's fault settings."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        rejection = self.server._rejection_for(address)
        if rejection is not None:
            return _smtp_status(*rejection)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 - aiosmtpd's name
        server = self.server
        failure = server._on_data()
        if failure is not None:
            return _smtp_status(*failure)
        if server.drop_after_data:
            # no reply at all: abort the socket; connection_lost() then cancels this coroutine
            smtp.transport.abort()
            await asyncio.Event().wait()
        login = None
        auth_data = getattr(session, "auth_data", None)
        if session.authenticated and auth_data is not None and hasattr(auth_data, "login"):
            login = auth_data.login.decode("utf-8", "replace")
        if server.data_delay_s > 0:
            await asyncio.sleep(server.data_delay_s)
        if smtp.transport is None or smtp.transport.is_closing():
            return "421 4.4.2 client gone"  # nobody to answer 250 to: not delivered (see data_delay_s)
        data = bytes(envelope.original_content or b"")
        server._record(Delivery(
            mail_from="" if envelope.mail_from in (None, "<>") else envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=data,
            message=BytesParser(policy=policy.default).parsebytes(data),
            mail_options=tuple(envelope.mail_options),
            login=login,
        ))
        return "250 2.0.0 OK: queued"


class SmtpServer:
    """An aiosmtpd SMTP server on a free loopback port (or ``port``), capturing every delivery.

    Fault injection, settable while it runs (read at each command; ``smtputf8`` at each connection):

    - ``reject_rcpt[address] = (code, text)``: RCPT TO that address (case-insensitive) is answered
      ``code text``, e.g. ``(550, "5.1.1 No such user")`` or ``(451, "4.3.0 Try again later")``;
      the other recipients of the same mail are accepted.
    - ``fail_next_data(n, code=451, text=...)``: the next ``n`` DATA are answered ``code text``
      after the message was received (nothing recorded).
    - ``data_delay_s``: seconds to sleep before the final reply to DATA (a slow server deciding
      whether to take the message). The delivery is recorded when the server answers 250, after
      the sleep, and only if the client is still connected: a client killed during the sleep did
      not deliver (RFC 5321 4.1.1.4: the 250 is the server taking responsibility). To kill a client
      in that window, wait for ``data_commands`` (counted on receipt, before the sleep).
    - ``drop_after_data``: after the message is received, close the connection without any reply
      (nothing recorded).
    - ``smtputf8``: advertise SMTPUTF8 (default True); off, a MAIL FROM with SMTPUTF8 is refused.

    ``data_commands`` counts the DATA whose content the server received, accepted or not;
    ``count()`` counts the deliveries. ``stop()`` closes the port and every open connection;
    ``start()`` again listens on the same port.
    """

    USER = "mailer"
    PASSWORD = "secret"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        security: str = "plain",
        auth: bool = False,
        tls_hosts: tuple[str, ...] | None = None,
    ) -> None:
        if security not in SECURITIES:
            raise ValueError(f"security: {security!r} (one of {', '.join(SECURITIES)})")
        self.host = host
        self.port = port
        self.security = security
        self.auth = auth
        self.tls_hosts = tls_hosts or (host, "localhost")
        self.certificate: ServerCertificate | None = None
        self.reject_rcpt: dict[str, tuple[int, str]] = {}
        self.data_delay_s: float = 0.0
        self.drop_after_data: bool = False
        self.smtputf8: bool = True
        self.data_commands = 0
        self._fail_data: list[tuple[int, str]] = []
        self._deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._handler = _Handler(self)
        self._controller = None
        self._protocols: weakref.WeakSet = weakref.WeakSet()
        self._dir: Path | None = None

    # -- lifecycle

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._controller is not None

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate (PEM) a client must trust; None when ``security`` is plain."""
        return self.certificate.ca_cert if self.certificate else None

    def ssl_context(self) -> ssl.SSLContext:
        """A client SSLContext that trusts this server's CA (and checks the host name)."""
        if self.ca_file is None:
            raise RuntimeError("this SmtpServer has no TLS (security='plain')")
        return ssl.create_default_context(cafile=str(self.ca_file))

    def _server_ssl_context(self) -> ssl.SSLContext | None:
        if self.security == "plain":
            return None
        if self.certificate is None:
            self._dir = Path(tempfile.mkdtemp(prefix="atencion-smtp-", dir="/tmp"))
            atexit.register(self.close)
            self.certificate = write_server_certificate(self._dir / "tls", self.tls_hosts)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.certificate.cert, self.certificate.key)
        return ctx

    def start(self) -> SmtpServer:
        """Listen (again) on ``port`` (a free one the first time); return self. Idempotent."""
        if self._controller is not None:
            return self
        try:
            from aiosmtpd.controller import Controller
        except ImportError as exc:
            raise ServerUnavailable("the aiosmtpd package is missing (pip install -r requirements.lock)") from exc
        server_ctx = self._server_ssl_context()
        self.port = self.port or free_port(self.host)
        _check_bindable(self.host, self.port)  # else Controller.start() waits its whole ready_timeout
        owner = self

        class _Controller(Controller):
            def factory(self):
                return owner._new_protocol(self.SMTP_kwargs)

        kwargs = {"server_hostname": "smtp.test.invalid", "ready_timeout": 10.0}
        if self.security == "tls":
            kwargs["ssl_context"] = server_ctx
        elif self.security == "starttls":
            kwargs.update(tls_context=server_ctx, require_starttls=True)
        if self.auth:
            kwargs.update(auth_required=True, auth_require_tls=self.security == "starttls",
                          authenticator=self._authenticate)
        controller = _Controller(self._handler, hostname=self.host, port=self.port, **kwargs)
        try:
            controller.start()
        except Exception as exc:  # noqa: BLE001 - bind errors, timeouts: the server is not there
            with contextlib.suppress(Exception):
                controller.stop(no_assert=True)
            raise ServerUnavailable(f"aiosmtpd could not listen on {self.host}:{self.port}: {exc!r}") from exc
        self._controller = controller
        return self

    def stop(self) -> None:
        """Close the listening port and abort every open connection (an outage). Idempotent."""
        controller, self._controller = self._controller, None
        if controller is None:
            return

        async def abort_all():
            for proto in list(self._protocols):
                for transport in (proto.transport, getattr(proto, "_original_transport", None)):
                    if transport is not None:
                        transport.abort()
            await asyncio.sleep(0)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(abort_all(), controller.loop).result(5)
        controller.stop(no_assert=True)
        self._protocols.clear()

    def restart(self) -> SmtpServer:
        """``stop()`` then ``start()`` on the same port (captured deliveries and faults are kept)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """``stop()`` and delete the certificate files (the fixture's teardown)."""
        self.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self.certificate = None
        atexit.unregister(self.close)

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- URLs

    def make_url(self, *, user: str | None = None, password: str | None = None, cafile: bool = False) -> str:
        """The server's URL: ``smtp://127.0.0.1:PORT``, ``smtp://USER:PASSWORD@…?starttls=1``, ``smtps://…``.

        Credentials are included when ``auth`` is on (or given); ``cafile=True`` adds
        ``cafile=/path/ca.pem`` to the query (TLS only).
        """
        if self.port is None:
            raise RuntimeError("SmtpServer has no port yet: start() it first")
        scheme = "smtps" if self.security == "tls" else "smtp"
        query = ["starttls=1"] if self.security == "starttls" else []
        if cafile:
            if self.ca_file is None:
                raise RuntimeError("cafile: this SmtpServer has no TLS")
            query.append(f"cafile={quote(str(self.ca_file), safe='/')}")
        if user is None and self.auth:
            user, password = self.USER, self.PASSWORD if password is None else password
        userinfo = ""
        if user is not None:
            userinfo = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "") + "@"
        q = "?" + "&".join(query) if query else ""
        return f"{scheme}://{userinfo}{self.host}:{self.port}{q}"

    @property
    def url(self) -> str:
        """``make_url()``: the URL a client uses (credentials when ``auth``; no cafile)."""
        return self.make_url()

    # -- what was delivered

    def deliveries(self) -> list[Delivery]:
        """Every delivery so far, oldest first (a copy)."""
        with self._lock:
            return list(self._deliveries)

    def messages(self) -> list[EmailMessage]:
        """The parsed message of every delivery, oldest first."""
        return [d.message for d in self.deliveries()]

    def deliveries_to(self, address: str) -> list[Delivery]:
        """The deliveries with ``address`` among their envelope recipients (case-insensitive)."""
        address = address.lower()
        return [d for d in self.deliveries() if address in (r.lower() for r in d.rcpt_tos)]

    def count(self) -> int:
        """How many deliveries (accepted DATA) so far."""
        with self._lock:
            return len(self._deliveries)

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Delivery]:
        """Poll until at least ``n`` deliveries arrived; return them all (oldest first).

        AssertionError after ``timeout`` seconds, naming what did arrive.
        """
        deadline = time.monotonic() + timeout
        while True:
            got = self.deliveries()
            if len(got) >= n:
                return got
            if time.monotonic() >= deadline:
                summary = [(d.mail_from, d.rcpt_tos, d.message.get("Subject")) for d in got]
                raise AssertionError(
                    f"expected {n} deliveries within {timeout} s, got {len(got)} "
                    f"({self.data_commands} DATA received): {summary}"
                )
            time.sleep(0.01)

    def clear(self) -> None:
        """Forget the deliveries and counters, and reset every fault to its default."""
        with self._lock:
            self._deliveries.clear()
            self._fail_data.clear()
            self.data_commands = 0
        self.reject_rcpt.clear()
        self.data_delay_s = 0.0
        self.drop_after_data = False
        self.smtputf8 = True

    # -- faults

    def fail_next_data(self, n: int = 1, code: int = 451, text: str = "4.3.0 Temporary failure, try again") -> None:
        """Answer the next ``n`` DATA with ``code text`` (after receiving the message)."""
        with self._lock:
            self._fail_data.extend([(code, text)] * n)

    # -- called from the server's thread

    def _new_protocol(self, smtp_kwargs: dict):
        kwargs = dict(smtp_kwargs, enable_SMTPUTF8=self.smtputf8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Requiring AUTH while not requiring TLS": on purpose here
            proto = _smtp_class()(self._handler, **kwargs)
        self._protocols.add(proto)
        return proto

    def _authenticate(self, smtp, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (isinstance(auth_data, LoginPassword) and mechanism in ("PLAIN", "LOGIN")
              and auth_data.login == self.USER.encode() and auth_data.password == self.PASSWORD.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def _rejection_for(self, address: str) -> tuple[int, str] | None:
        wanted = address.lower()
        for addr, rejection in list(self.reject_rcpt.items()):
            if addr.lower() == wanted:
                return rejection
        return None

    def _on_data(self) -> tuple[int, str] | None:
        with self._lock:
            self.data_commands += 1
            return self._fail_data.pop(0) if self._fail_data else None

    def _record(self, delivery: Delivery) -> None:
        with self._lock:
            self._deliveries.append(delivery)
