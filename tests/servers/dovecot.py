"""A throwaway Dovecot IMAP server for the tests, and imaplib helpers to fill and inspect it.

The config comes from tests/dovecot.conf.in (plain) or tests/dovecot-tls.conf.in (STARTTLS and
imaps, with a certificate from tests/servers/ca.py); the recipe is RECIPES.md, "Dovecot IMAP".
"""

from __future__ import annotations

import atexit
import contextlib
import imaplib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Self
from urllib.parse import quote

from tests.servers.ca import ServerCertificate, write_server_certificate
from tests.servers.common import ServerUnavailable, apt_install, free_port, is_root, port_open, wait_gone

TESTS = Path(__file__).resolve().parents[1]
DOVECOT_CONF_TEMPLATE = TESTS / "dovecot.conf.in"
DOVECOT_TLS_CONF_TEMPLATE = TESTS / "dovecot-tls.conf.in"


def _imap_quote(name: str) -> str:
    from imap_tools.imap_utf7 import utf7_encode

    encoded = utf7_encode(name).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Dovecot:
    """A throwaway Dovecot IMAP server (plain text, no TLS) on a free loopback port.

    >>> d = Dovecot({"alice": "secret"}).start()
    >>> uid = d.append("alice", b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
    >>> d.url("alice")    # 'imap://alice:secret@127.0.0.1:PORT/INBOX'
    >>> d.stop()

    ``tls=True``: a throwaway CA (trustme; its certificate is ``d.ca_file``) signs a certificate for
    ``tls_hosts`` (default: the host and localhost); the plain port offers STARTTLS and ``d.tls_port``
    is an imaps port (dovecot-tls.conf.in). ``oauth2_introspection_url``: XOAUTH2/OAUTHBEARER logins
    are checked by Dovecot's oauth2 passdb against that RFC 7662 endpoint (``introspection_mode =
    post``), and passwords only by the passwd file.
    """

    DEFAULT_BINARY = "dovecot"

    def __init__(
        self,
        users: dict[str, str] | None = None,
        *,
        binary: str = DEFAULT_BINARY,
        host: str = "127.0.0.1",
        port: int | None = None,
        install: bool | None = None,
        tls: bool = False,
        tls_port: int | None = None,
        tls_hosts: Iterable[str] | None = None,
        oauth2_introspection_url: str | None = None,
    ) -> None:
        self.users = dict(users or {})
        self.tls = tls
        self.tls_port = tls_port
        self.tls_hosts = tuple(tls_hosts) if tls_hosts else (host, "localhost")
        self.oauth2_introspection_url = oauth2_introspection_url
        self.certificate: ServerCertificate | None = None
        self.binary = binary
        self.host = host
        self.port = port
        # auto-install only the real package, and only as root
        self.install = (binary == self.DEFAULT_BINARY and is_root()) if install is None else install
        self.dir: Path | None = None
        self.maildir: Path | None = None
        self.conf: Path | None = None
        self.pid: int | None = None
        self.startup_seconds: float | None = None

    # -- lifecycle

    def _find_binary(self) -> str:
        found = shutil.which(self.binary)
        if found:
            return found
        if self.install:
            apt_install("dovecot-imapd")
            found = shutil.which(self.binary)
            if found:
                return found
        hint = "run `make test` as root, or `apt-get install dovecot-imapd`"
        raise ServerUnavailable(f"Dovecot binary {self.binary!r} not found ({hint})")

    def start(self) -> Dovecot:
        if self.pid is not None:
            return self
        binary = self._find_binary()
        if not is_root():
            raise ServerUnavailable("the Dovecot test server must run as root (it switches to 'nobody')")
        self.port = self.port or free_port(self.host)
        d = Path(tempfile.mkdtemp(prefix="atencion-dovecot-", dir="/tmp"))
        self.dir, self.maildir, self.conf = d, d / "mail", d / "dovecot.conf"
        self.maildir.mkdir()
        if self.tls:
            while not self.tls_port or self.tls_port == self.port:
                self.tls_port = free_port(self.host)
            try:
                self.certificate = write_server_certificate(d / "tls", self.tls_hosts)
            except (ServerUnavailable, OSError) as exc:
                self._cleanup_dir()
                raise ServerUnavailable(f"test certificates: {exc}") from exc
        self.conf.write_text(self._render_conf(d))
        self._write_passwd()
        os.chmod(d, 0o755)  # auth runs as 'dovecot' and must traverse d to read d/passwd
        os.chown(self.maildir, 65534, 65534)  # mail_uid=nobody must mkdir maildir/<user>
        atexit.register(self.stop)

        t0 = time.monotonic()
        # no pipes: the daemonized master would inherit them and keep them open
        with open(d / "startup.log", "wb") as out:
            rc = subprocess.call([binary, "-c", str(self.conf)], stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        if rc != 0:
            msg = (d / "startup.log").read_text(errors="replace").strip()
            self._cleanup_dir()
            raise ServerUnavailable(f"dovecot exited {rc}: {msg}")
        pidfile = d / "run" / "master.pid"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            # ready = port accepts AND master.pid exists (the port can be up first)
            if (pidfile.exists() and port_open(self.host, self.port)
                    and (not self.tls or port_open(self.host, self.tls_port))):
                text = pidfile.read_text().strip()
                if text:
                    self.pid = int(text)
                    break
            time.sleep(0.005)
        else:
            log = self.log_tail()
            self._kill_from_pidfile()
            self._cleanup_dir()
            raise ServerUnavailable(f"dovecot did not become ready on {self.host}:{self.port}\n{log}")
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self) -> None:
        pid, self.pid = self.pid, None
        if pid is not None:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if not wait_gone(pid, 15):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                wait_gone(pid, 5)
        self._cleanup_dir()
        atexit.unregister(self.stop)

    def _kill_from_pidfile(self) -> None:
        try:
            pid = int((self.dir / "run" / "master.pid").read_text().strip())
        except (OSError, ValueError, TypeError):
            return
        self.pid = pid
        self.stop()

    def _cleanup_dir(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- configuration

    def _render_conf(self, d: Path) -> str:
        """The config file's text: the template with this server's folders, ports and host."""
        template = DOVECOT_TLS_CONF_TEMPLATE if self.tls else DOVECOT_CONF_TEMPLATE
        text = (
            template.read_text()
            .replace("@D@", str(d))
            .replace("@M@", str(self.maildir))
            .replace("@TLSP@", str(self.tls_port or 0))
            .replace("@P@", str(self.port))
        )
        if self.oauth2_introspection_url:
            text = self._with_oauth2(text, d)
        text = text.replace("listen = 127.0.0.1", f"listen = {self.host}")
        return text.replace("address = 127.0.0.1", f"address = {self.host}")

    def _with_oauth2(self, text: str, d: Path) -> str:
        """The config with an oauth2 passdb (XOAUTH2, OAUTHBEARER) before the passwd file."""
        ext = d / "dovecot-oauth2.conf.ext"
        ext.write_text(
            f"introspection_mode = post\nintrospection_url = {self.oauth2_introspection_url}\n"
            "force_introspection = yes\nusername_attribute = username\n"
            "active_attribute = active\nactive_value = true\n"
        )
        os.chmod(ext, 0o644)  # read by the auth process (user dovecot)
        mechs = "auth_mechanisms = plain login\n"
        passdb = "passdb {\n  driver = passwd-file\n"
        if mechs not in text or passdb not in text:
            raise ServerUnavailable("the Dovecot template has no auth_mechanisms/passwd-file passdb to extend")
        text = text.replace(mechs, "auth_mechanisms = plain login xoauth2 oauthbearer\n")
        # no auth penalty: after a failed login anvil delays the next ones from the same IP by
        # 2, 4, 8... s (a bad-token test would slow every later login); an unreachable
        # anvil-auth-penalty socket turns it off
        anvil = "service anvil {\n  chroot =\n}\n"
        if anvil in text:
            text = text.replace(anvil, "service anvil {\n  chroot =\n  unix_listener anvil-auth-penalty {\n"
                                       "    mode = 0\n  }\n}\n")
        return text.replace(passdb, (
            "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
            f"  args = {ext}\n}}\n"
            "passdb {\n  driver = passwd-file\n  mechanisms = plain login\n"
        ))

    @property
    def ca_file(self) -> str:
        """The CA certificate (PEM) that signed the server certificate (``tls=True`` only)."""
        if self.certificate is None:
            raise RuntimeError("this Dovecot has no TLS")
        return str(self.certificate.ca_cert)

    # -- logs

    def login_lines(self, user: str) -> list[str]:
        """Dovecot's log lines of successful logins of ``user`` ("... method=PLAIN ..., TLS, ...")."""
        try:
            log = (self.dir / "dovecot.log").read_text(errors="replace")
        except (OSError, TypeError):
            return []
        return [line for line in log.splitlines() if "Login: user=<" + user + ">" in line]

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join((self.dir / "dovecot.log").read_text(errors="replace").splitlines()[-lines:])
        except (OSError, TypeError):
            return ""

    # -- users

    def _write_passwd(self) -> None:
        lines = "".join(f"{user}:{{PLAIN}}{password}\n" for user, password in self.users.items())
        path = self.dir / "passwd"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(lines)
        os.chmod(tmp, 0o644)
        tmp.replace(path)

    def add_user(self, user: str, password: str) -> None:
        """Add (or change) a user; a running server picks the change up at once."""
        self.users[user] = password
        if self.dir is None:
            return
        self._write_passwd()
        if self.pid is None:
            return
        os.kill(self.pid, signal.SIGHUP)  # passwd-file may be cached: reload
        deadline = time.monotonic() + 5
        while True:
            try:
                self.connect(user).logout()
                return
            except (imaplib.IMAP4.error, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    # -- IMAP helpers (imaplib, so they do not depend on the code under test)

    def url(self, user: str, password: str | None = None, folder: str = "INBOX", *,
            security: str = "plain", cafile: str | None = None, auth: str | None = None) -> str:
        """The mailbox URL; ``security`` plain | starttls | tls (the imaps port), options as given."""
        password = self.users[user] if password is None else password
        scheme, port, query = "imap", self.port, []
        if security == "tls":
            scheme, port = "imaps", self.tls_port
        elif security == "starttls":
            query.append("starttls=1")
        elif security != "plain":
            raise ValueError(f"security: {security!r}")
        if cafile is not None:
            query.append(f"cafile={quote(str(cafile), safe='/')}")
        if auth is not None:
            query.append(f"auth={auth}")
        q = "?" + "&".join(query) if query else ""
        return (f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:{port}"
                f"/{quote(folder)}{q}")

    def connect(self, user: str, password: str | None = None) -> imaplib.IMAP4:
        if self.pid is None:
            raise RuntimeError("Dovecot is not running")
        im = imaplib.IMAP4(self.host, self.port)
        im.login(user, self.users[user] if password is None else password)
        return im

    @contextlib.contextmanager
    def _session(self, user: str):
        im = self.connect(user)
        try:
            yield im
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                im.logout()

    @staticmethod
    def _ok(typ: str, data, what: str):
        if typ != "OK":
            raise RuntimeError(f"IMAP {what} failed: {typ} {data!r}")
        return data

    def append(self, user: str, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = ()) -> int:
        """APPEND ``raw`` to ``folder``; return its UID."""
        flag_list = "(" + " ".join(flags) + ")" if flags else None
        if isinstance(raw, str):
            raw = raw.encode()
        with self._session(user) as im:
            data = self._ok(*im.append(_imap_quote(folder), flag_list, None, raw), "APPEND")
        m = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
        if not m:
            raise RuntimeError(f"no APPENDUID in {data!r}")
        return int(m.group(1))

    def uids(self, user: str, folder: str = "INBOX") -> list[int]:
        with self._session(user) as im:
            self._ok(*im.select(_imap_quote(folder), readonly=True), "EXAMINE")
            data = self._ok(*im.uid("SEARCH", None, "ALL"), "UID SEARCH")
        return sorted(int(u) for u in (data[0] or b"").split())

    def flags(self, user: str, uid: int, folder: str = "INBOX") -> frozenset[str]:
        """The message's flags, e.g. frozenset({'\\\\Seen', '\\\\Flagged'}); KeyError if absent."""
        with self._session(user) as im:
            self._ok(*im.select(_imap_quote(folder), readonly=True), "EXAMINE")
            data = self._ok(*im.uid("FETCH", str(uid), "(FLAGS)"), "UID FETCH")
        for item in data:
            if isinstance(item, tuple):
                item = item[0]
            if not item:
                continue
            m = re.search(rb"UID (\d+)", item)
            f = re.search(rb"FLAGS \(([^)]*)\)", item)
            if m and f and int(m.group(1)) == uid:
                return frozenset(x.decode() for x in f.group(1).split())
        raise KeyError(f"uid {uid} not in {user}/{folder}")

    def create_folder(self, user: str, name: str) -> None:
        with self._session(user) as im:
            self._ok(*im.create(_imap_quote(name)), "CREATE")

    def folders(self, user: str) -> list[str]:
        from imap_tools.imap_utf7 import utf7_decode

        with self._session(user) as im:
            data = self._ok(*im.list(), "LIST")
        names = []
        for line in data:
            m = re.search(rb'\) "[^"]*" (.*)$', line or b"")
            if m:
                name = m.group(1).strip().strip(b'"')
                names.append(utf7_decode(name))
        return names

    def clear(self, user: str) -> None:
        """Empty INBOX and delete every other folder of ``user`` (isolation between tests)."""
        with self._session(user) as im:
            self._ok(*im.select("INBOX"), "SELECT")
            im.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
            im.expunge()
        for name in self.folders(user):
            if name.upper() != "INBOX":
                with self._session(user) as im:
                    im.delete(_imap_quote(name))
