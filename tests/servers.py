"""Real servers for the tests: Dovecot (IMAP) and PostgreSQL.

Helpers only; the fixtures live in conftest.py.  Every helper raises
``ServerUnavailable`` when its server cannot be had; ``obtain()`` turns that
into a skip, except when the ``CI`` environment variable is set, where it
fails (see DESIGN.md, "Testing").
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import glob
import imaplib
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self, TypeVar
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
DOVECOT_CONF_TEMPLATE = HERE / "dovecot.conf.in"
DOVECOT_TLS_CONF_TEMPLATE = HERE / "dovecot-tls.conf.in"

T = TypeVar("T")


class ServerUnavailable(RuntimeError):
    """A test server could not be started or reached."""


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def obtain(factory: Callable[[], T], what: str) -> T:
    """Return ``factory()``; if the server is unavailable, fail under CI, else skip."""
    try:
        return factory()
    except ServerUnavailable as exc:
        if in_ci():
            raise
        import pytest

        pytest.skip(f"{what} unavailable: {exc}")


# --------------------------------------------------------------------------- utilities


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_root() -> bool:
    return os.geteuid() == 0


def process_gone(pid: int) -> bool:
    """True when ``pid`` has exited: absent from /proc, or a zombie (PID 1 here reaps late)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    # the state follows the parenthesised command name, which may contain spaces
    return stat[stat.rfind(")") + 2 :].startswith(("Z", "X"))


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.02)
    return process_gone(pid)


def apt_install(*packages: str) -> None:
    """Install Debian packages (root only): apt-get update, then apt-get install -y."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    try:
        subprocess.run(["apt-get", *lock, "update"], check=True, env=env)
        subprocess.run(
            ["apt-get", *lock, "install", "-y", *packages], check=True, env=env
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ServerUnavailable(
            f"could not install {' '.join(packages)}: {exc}"
        ) from exc


# --------------------------------------------------------------------------- TLS


class TestCA:
    """A throwaway certificate authority (EC P-256, valid two days) and the certificates it signs.

    Made with the ``cryptography`` package when it is importable, else with the ``openssl``
    command line.

    >>> ca = TestCA(Path("/tmp/x"), "Atención Test CA")
    >>> cert, key = ca.issue("server", hosts=("127.0.0.1", "localhost"))
    >>> ssl.create_default_context(cafile=ca.cert)
    """

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, name: str = "Atencion Test CA") -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.cert = self.dir / "ca.pem"
        self.key = self.dir / "ca.key"
        try:
            import cryptography  # noqa: F401

            self.backend = "cryptography"
        except ImportError as exc:
            if not shutil.which("openssl"):
                raise ServerUnavailable("neither the cryptography package nor the openssl command") from exc
            self.backend = "openssl"
        if self.backend == "cryptography":
            self._crypto_ca()
        else:
            self._openssl_ca()

    def issue(self, name: str, hosts: Iterable[str] = ("127.0.0.1", "localhost")) -> tuple[Path, Path]:
        """A server certificate for ``hosts`` (IP addresses or DNS names): (cert.pem, key.pem)."""
        hosts = list(hosts)
        cert, key = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        if self.backend == "cryptography":
            self._crypto_issue(hosts, cert, key)
        else:
            self._openssl_issue(hosts, cert, key)
        return cert, key

    # -- openssl command line

    @staticmethod
    def _openssl(*args: str) -> None:
        proc = subprocess.run(["openssl", *args], check=False, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            raise ServerUnavailable(f"openssl {args[0]} failed: {proc.stderr.strip()[-500:]}")

    def _openssl_ca(self) -> None:
        self._openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "2", "-subj", f"/CN={self.name}", "-utf8", "-keyout", str(self.key), "-out", str(self.cert),
            "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )

    def _openssl_issue(self, hosts: list[str], cert: Path, key: Path) -> None:
        csr, ext = cert.with_suffix(".csr"), cert.with_suffix(".ext")
        san = ",".join(f"IP:{h}" if _is_ip(h) else f"DNS:{h}" for h in hosts)
        ext.write_text(
            f"subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        )
        self._openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-subj", f"/CN={hosts[0]}", "-keyout", str(key), "-out", str(csr))
        self._openssl("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
                      "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "2",
                      "-extfile", str(ext), "-out", str(cert))

    # -- cryptography package

    def _crypto_ca(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        now = _utcnow()
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _one_hour()).not_valid_after(now + 2 * _one_day())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        self.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def _crypto_issue(self, hosts: list[str], cert_path: Path, key_path: Path) -> None:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        ca_key = serialization.load_pem_private_key(self.key.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(self.cert.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.IPAddress(ipaddress.ip_address(h)) if _is_ip(h) else x509.DNSName(h) for h in hosts]
        now = _utcnow()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _one_hour()).not_valid_after(now + 2 * _one_day())
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=True, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _one_hour() -> timedelta:
    return timedelta(hours=1)


def _one_day() -> timedelta:
    return timedelta(days=1)


# --------------------------------------------------------------------------- Dovecot


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

    ``tls=True``: a throwaway CA (``d.ca``, its certificate ``d.ca_file``) signs a certificate for
    ``tls_hosts`` (default: the host and localhost); the plain port offers STARTTLS and ``d.tls_port`` is an imaps port
    (dovecot-tls.conf.in). ``oauth2_introspection_url``: XOAUTH2/OAUTHBEARER logins are checked by
    Dovecot's oauth2 passdb against that RFC 7662 endpoint (``introspection_mode = post``), and
    passwords only by the passwd file.
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
        self.ca: TestCA | None = None
        self.binary = binary
        self.host = host
        self.port = port
        # auto-install only the real package, and only as root
        self.install = (
            (binary == self.DEFAULT_BINARY and is_root())
            if install is None
            else install
        )
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
            raise ServerUnavailable(
                "the Dovecot test server must run as root (it switches to 'nobody')"
            )
        self.port = self.port or free_port(self.host)
        d = Path(tempfile.mkdtemp(prefix="atencion-dovecot-", dir="/tmp"))
        self.dir, self.maildir, self.conf = d, d / "mail", d / "dovecot.conf"
        self.maildir.mkdir()
        if self.tls:
            while not self.tls_port or self.tls_port == self.port:
                self.tls_port = free_port(self.host)
            try:
                self.ca = TestCA(d / "tls", "Atencion Test CA")
                self.ca.issue("server", hosts=self.tls_hosts)
            except (ServerUnavailable, OSError) as exc:
                self._cleanup_dir()
                raise ServerUnavailable(f"test certificates: {exc}") from exc
        template = DOVECOT_TLS_CONF_TEMPLATE if self.tls else DOVECOT_CONF_TEMPLATE
        text = template.read_text()
        text = (
            text.replace("@D@", str(d))
            .replace("@M@", str(self.maildir))
            .replace("@TLSP@", str(self.tls_port or 0))
            .replace("@P@", str(self.port))
        )
        if self.oauth2_introspection_url:
            text = self._with_oauth2(text, d)
        text = text.replace("listen = 127.0.0.1", f"listen = {self.host}")
        text = text.replace("address = 127.0.0.1", f"address = {self.host}")
        self.conf.write_text(text)
        self._write_passwd()
        os.chmod(
            d, 0o755
        )  # auth runs as 'dovecot' and must traverse d to read d/passwd
        os.chown(
            self.maildir, 65534, 65534
        )  # mail_uid=nobody must mkdir maildir/<user>
        atexit.register(self.stop)

        t0 = time.monotonic()
        # no pipes: the daemonized master would inherit them and keep them open
        with open(d / "startup.log", "wb") as out:
            rc = subprocess.call(
                [binary, "-c", str(self.conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
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
            raise ServerUnavailable(
                f"dovecot did not become ready on {self.host}:{self.port}\n{log}"
            )
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
        if self.ca is None:
            raise RuntimeError("this Dovecot has no TLS")
        return str(self.ca.cert)

    def login_lines(self, user: str) -> list[str]:
        """Dovecot's log lines of successful logins of ``user`` ("... method=PLAIN ..., TLS, ...")."""
        try:
            log = (self.dir / "dovecot.log").read_text(errors="replace")
        except (OSError, TypeError):
            return []
        return [line for line in log.splitlines() if "Login: user=<" + user + ">" in line]

    def _cleanup_dir(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(
                (self.dir / "dovecot.log")
                .read_text(errors="replace")
                .splitlines()[-lines:]
            )
        except (OSError, TypeError):
            return ""

    # -- users

    def _write_passwd(self) -> None:
        lines = "".join(
            f"{user}:{{PLAIN}}{password}\n" for user, password in self.users.items()
        )
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

    def _session(self, user: str):
        im = self.connect(user)

        class _Session:
            def __enter__(_s):
                return im

            def __exit__(_s, *exc):
                with contextlib.suppress(imaplib.IMAP4.error, OSError):
                    im.logout()

        return _Session()

    @staticmethod
    def _ok(typ: str, data, what: str):
        if typ != "OK":
            raise RuntimeError(f"IMAP {what} failed: {typ} {data!r}")
        return data

    def append(
        self, user: str, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = ()
    ) -> int:
        """APPEND ``raw`` to ``folder``; return its UID."""
        flag_list = "(" + " ".join(flags) + ")" if flags else None
        if isinstance(raw, str):
            raw = raw.encode()
        with self._session(user) as im:
            data = self._ok(
                *im.append(_imap_quote(folder), flag_list, None, raw), "APPEND"
            )
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


# --------------------------------------------------------------------------- PostgreSQL

LOCAL_PG_HOST = "127.0.0.1"
LOCAL_PG_PORT = 5432
LOCAL_PG_DATABASE = "test"
_admin_url: str | None = None
_cluster: PostgresCluster | None = None
_counter = itertools.count(1)


def _libpq_url(sqlalchemy_url: str) -> str:
    """'postgresql+psycopg://u@h:p/db' -> 'postgresql://u@h:p/db' (what psycopg.connect takes)."""
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _connect(sqlalchemy_url: str, timeout: int = 3):
    import psycopg

    return psycopg.connect(
        _libpq_url(sqlalchemy_url), autocommit=True, connect_timeout=timeout
    )


def probe_postgres(url: str, timeout: int = 3) -> bool:
    try:
        with _connect(url, timeout) as conn:
            conn.execute("select 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


def find_local_postgres(
    host: str = LOCAL_PG_HOST,
    port: int = LOCAL_PG_PORT,
    database: str = LOCAL_PG_DATABASE,
    users: Iterable[str] | None = None,
) -> str | None:
    """URL of a reachable local server (trust auth): the current user first, then postgres."""
    if not port_open(host, port, timeout=0.5):
        return None
    if users is None:
        users = dict.fromkeys([getpass.getuser(), "postgres"])
    for user in users:
        url = f"postgresql+psycopg://{quote(user, safe='')}@{host}:{port}/{database}"
        if probe_postgres(url):
            return url
    return None


def postgres_bindir() -> str | None:
    dirs = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p)],
    )
    dirs = [d for d in dirs if os.path.exists(os.path.join(d, "initdb"))]
    if dirs:
        return dirs[-1]
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb in /tmp), as user postgres via runuser when root."""

    def __init__(
        self,
        bindir: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
    ):
        self.bindir = bindir
        self.host = host
        self.port = port
        self.base: Path | None = None
        self.running = False

    def _as_pg(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if is_root() else []

    def _run(self, *args: str) -> None:
        # output to a file, not a pipe: pg_ctl start leaves a daemon that would hold a pipe open
        with tempfile.TemporaryFile() as out:
            rc = subprocess.call(
                self._as_pg() + list(args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
            if rc != 0:
                out.seek(0)
                msg = out.read().decode(errors="replace").strip()[-2000:]
                raise ServerUnavailable(
                    f"{os.path.basename(args[0])} exited {rc}: {msg}"
                )

    def start(self) -> PostgresCluster:
        bindir = self.bindir or postgres_bindir()
        if not bindir or not os.path.exists(os.path.join(bindir, "initdb")):
            raise ServerUnavailable(
                f"no PostgreSQL binaries (initdb) in {bindir or '/usr/lib/postgresql/*/bin'} "
                "(run `make test` as root, or `apt-get install postgresql`)"
            )
        self.bindir = bindir
        self.port = self.port or free_port(self.host)
        self.base = Path(tempfile.mkdtemp(prefix="atencion-pg-", dir="/tmp"))
        try:
            if is_root():
                shutil.chown(self.base, "postgres", "postgres")
            os.chmod(self.base, 0o755)
        except (LookupError, OSError) as exc:
            self._cleanup()
            raise ServerUnavailable(
                f"cannot prepare {self.base} for user postgres: {exc}"
            ) from exc
        data, log = self.base / "data", self.base / "log"
        try:
            self._run(
                f"{bindir}/initdb",
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
            opts = (
                f"-p {self.port} -k {self.base} -c listen_addresses={self.host} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            atexit.register(self.stop)
            self._run(
                f"{bindir}/pg_ctl",
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-o",
                opts,
                "start",
            )
            self.running = True
        except (ServerUnavailable, OSError) as exc:
            tail = ""
            try:
                tail = "\n" + "\n".join(
                    log.read_text(errors="replace").splitlines()[-20:]
                )
            except OSError:
                pass
            self.stop()
            raise ServerUnavailable(
                f"throwaway PostgreSQL cluster failed: {exc}{tail}"
            ) from exc
        return self

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/postgres"

    def stop(self) -> None:
        if self.base is not None and (self.base / "data" / "postmaster.pid").exists():
            subprocess.call(
                self._as_pg()
                + [
                    f"{self.bindir}/pg_ctl",
                    "-D",
                    str(self.base / "data"),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        self.running = False
        self._cleanup()
        atexit.unregister(self.stop)

    def _cleanup(self) -> None:
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None


def postgres_admin_url() -> str:
    """An SQLAlchemy URL of a PostgreSQL server where we may CREATE DATABASE.

    1. ``ATENCION_TEST_DATABASE_URL`` when set;
    2. the local server 127.0.0.1:5432, database ``test``, trust auth (current user, then postgres);
    3. a throwaway cluster from the installed binaries (stopped at exit).
    The answer is cached for the process.
    """
    global _admin_url, _cluster
    if _admin_url is not None:
        return _admin_url
    env = os.environ.get("ATENCION_TEST_DATABASE_URL")
    if env:
        if not probe_postgres(env):
            raise ServerUnavailable(f"ATENCION_TEST_DATABASE_URL={env} does not answer")
        _admin_url = env
        return env
    local = find_local_postgres()
    if local:
        _admin_url = local
        return local
    _cluster = PostgresCluster().start()
    _admin_url = _cluster.url
    return _admin_url


def _create_database(conn, name: str) -> None:
    from psycopg import errors, sql

    ident = sql.Identifier(name)
    try:
        # template0: guaranteed empty, and never "being accessed by other users"
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                ident
            )
        )
    except (errors.InvalidParameterValue, errors.FeatureNotSupported):
        conn.execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
            ).format(ident)
        )


def fresh_postgres_database(admin_url: str | None = None) -> str:
    """Create a new, empty, uniquely named database; return its SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    admin_url = admin_url or postgres_admin_url()
    name = f"atencion_test_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:8]}"
    try:
        with _connect(admin_url) as conn:
            _create_database(conn, name)
    except ServerUnavailable:
        raise
    except Exception as exc:
        raise ServerUnavailable(
            f"cannot create a database on {admin_url}: {exc}"
        ) from exc
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database named in ``url`` (connections to it are terminated)."""
    from psycopg import sql
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = (
        postgres_admin_url()
        if _admin_url
        else target.set(database="postgres").render_as_string(hide_password=False)
    )
    if make_url(admin).database == target.database:
        raise ValueError(f"refusing to drop the admin database {target.database!r}")
    with _connect(admin) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(target.database)
            )
        )
