"""IMAP over TLS and STARTTLS with a private CA, and XOAUTH2, against a real Dovecot.

One Dovecot for the module (tests/dovecot-tls.conf.in): its plain port offers STARTTLS, a second
port speaks TLS, the certificate is signed by a throwaway CA (trustme), and XOAUTH2 tokens are checked by
Dovecot's oauth2 passdb against a tiny RFC 7662 introspection endpoint served by this module.
Proof that the session really was encrypted / really used XOAUTH2 comes from Dovecot's own login
log line ("method=XOAUTH2", "TLS"), not from the client.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from mail.inbound.sources import ImapSource, ImapTarget, SourceError
from tests import servers
from tests.support import build, make_env
from tickets.models import MailboxState

ROSA = "Rosa Quispe Huamán <rosa.quispe.h@gmail.com>"
_users = count(1)


# --------------------------------------------------------------------------- fixtures


class Introspection:
    """A local OAuth2 token introspection endpoint (RFC 7662) on loopback, in a thread.

    ``tokens`` maps a valid access token to its user name; any other token is inactive.
    """

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Dovecot's http client expects

            def do_POST(self) -> None:  # http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[-1] for k, v in parse_qs(body).items()}
                outer.requests.append({"path": self.path, "form": form})
                user = outer.tokens.get(form.get("token", ""))
                answer = {"active": True, "username": user} if user else {"active": False}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/introspect"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def seen_tokens(self) -> list[str]:
        return [r["form"].get("token") for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def introspection():
    endpoint = Introspection()
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="module")
def tls_dovecot(introspection):
    """Dovecot with STARTTLS on .port, TLS on .tls_port, a throwaway CA, and XOAUTH2 via oauth2.

    The certificate names 127.0.0.1 only, so "localhost" (same server) is a name mismatch.
    """
    server = servers.obtain(
        lambda: servers.Dovecot({}, tls=True, tls_hosts=("127.0.0.1",),
                                oauth2_introspection_url=introspection.url).start(),
        "Dovecot with TLS")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory) -> Path:
    """The certificate (PEM file) of a second throwaway CA that signed nothing the server uses."""
    ca = servers.obtain(lambda: servers.new_ca("Otra CA"), "trustme")
    return servers.write_ca_cert(ca, tmp_path_factory.mktemp("other-ca") / "ca.pem")


@pytest.fixture
def env(tmp_path):
    """SQLite only: the database is not what these tests are about (the pipeline tests run both)."""
    e = make_env(f"sqlite:///{tmp_path / 'atencion.db'}", tmp_path)
    yield e
    e.engine.dispose()


@pytest.fixture
def user(tls_dovecot):
    name = f"sec{next(_users)}"
    tls_dovecot.add_user(name, "secret")
    return name


def last_error(env, mailbox: str) -> str | None:
    with env.sessions() as s:
        return s.scalar(select(MailboxState.last_error).where(MailboxState.name == mailbox))


def poll_and_logins(env, dovecot, user: str, url: str):
    """Poll mailbox "seguro" at ``url``; return the report and Dovecot's login lines of that poll."""
    before = len(dovecot.login_lines(user))
    report = env.poll(env.mailbox("seguro", url))
    return report, dovecot.login_lines(user)[before:]


def assert_nothing_lost(env, dovecot, user: str, uid: int, report) -> None:
    """A failed poll: one-line error, recorded for health; nothing ingested; message unseen."""
    assert report.error and "\n" not in report.error, report
    assert report.processed == 0 and not report.counts
    assert last_error(env, "seguro") == report.error
    assert env.inbound() == [] and env.tickets() == []
    assert dovecot.uids(user) == [uid]
    assert "\\Seen" not in dovecot.flags(user, uid)


# --------------------------------------------------------------------------- URL options


def test_url_cafile_and_security_options(tmp_path):
    t = ImapTarget.from_url("imaps://u:p@mail.example.pe/INBOX?cafile=/etc/atencion/ca%20interna.pem")
    assert (t.security, t.port, t.cafile, t.auth) == ("tls", 993, "/etc/atencion/ca interna.pem", "password")
    t = ImapTarget.from_url("imap://u:tok@mail.example.pe:1143/INBOX?starttls=1&cafile=ca.pem&auth=XOAUTH2")
    assert (t.security, t.port, t.cafile, t.auth) == ("starttls", 1143, "ca.pem", "xoauth2")
    t = ImapTarget.from_url("imap://u:p@mail.example.pe/INBOX?starttls=0")
    assert (t.security, t.port, t.cafile) == ("plain", 143, None)


@pytest.mark.parametrize("query, needle", [
    ("verify=0", "verify"),
    ("ssl_verify=false", "ssl_verify"),
    ("tls_verify=no", "tls_verify"),
    ("insecure=1", "insecure"),
    ("check_hostname=0", "check_hostname"),
    ("cafile=/x/ca.pem&verify=0", "verify"),
    ("starttls=1&startls=1", "startls"),  # a typo must not silently mean "no STARTTLS"
    ("starttls=si", "starttls=si"),
    ("starttls", "starttls="),
    ("auth=oauth2", "auth=oauth2"),
    ("cafile=/x/ca.pem", "cafile requiere"),  # plain imap:// with a CA file: nothing to verify
    ("starttls=1&cafile=", "cafile vacío"),
])
def test_url_rejects_insecure_and_unknown_options(query, needle):
    with pytest.raises(SourceError) as exc:
        ImapTarget.from_url(f"imap://u:p@mail.example.pe/INBOX?{query}")
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_url_rejects_starttls_on_imaps():
    with pytest.raises(SourceError, match="imaps:// ya es TLS"):
        ImapTarget.from_url("imaps://u:p@mail.example.pe/INBOX?starttls=1")


def test_unreadable_or_bad_cafile_is_one_line(tmp_path, tls_dovecot, user):
    missing = tmp_path / "no-such-ca.pem"
    with pytest.raises(SourceError, match="no-such-ca.pem") as exc:
        ImapSource(ImapTarget.from_url(tls_dovecot.url(user, security="tls", cafile=str(missing))))
    assert "\n" not in str(exc.value)
    junk = tmp_path / "junk.pem"
    junk.write_text("esto no es un certificado\n")
    with pytest.raises(SourceError, match="no contiene certificados PEM") as exc:
        ImapSource(ImapTarget.from_url(tls_dovecot.url(user, security="tls", cafile=str(junk))))
    assert "\n" not in str(exc.value)


# --------------------------------------------------------------------------- TLS and STARTTLS


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_poll_over_tls_with_private_ca(env, tls_dovecot, user, security):
    uid = tls_dovecot.append(user, build("Filtración en el baño", "Hay una filtración en el baño.",
                                         sender=ROSA))
    url = tls_dovecot.url(user, security=security, cafile=tls_dovecot.ca_file)
    assert url.startswith("imaps://" if security == "tls" else "imap://")
    report, logins = poll_and_logins(env, tls_dovecot, user, url)
    assert report.error is None and report.counts == {"ticket": 1}, report
    [ticket] = env.tickets()
    assert ticket.mailbox == "seguro" and ticket.requester_email == "rosa.quispe.h@gmail.com"
    assert "\\Seen" in tls_dovecot.flags(user, uid)
    assert last_error(env, "seguro") is None
    # the server's word: the poller logged in once, with a password, inside TLS
    [login] = logins
    assert "method=PLAIN" in login and ", TLS," in login, login
    assert env.poll(env.mailbox("seguro", url)).processed == 0


def test_plain_login_on_loopback_is_not_tls(env, tls_dovecot, user):
    """The control for the check above: without TLS Dovecot logs "secured" (loopback), not "TLS"."""
    tls_dovecot.append(user, build("Consulta", "¿Cuándo entregan las llaves?", sender=ROSA))
    report, [login] = poll_and_logins(env, tls_dovecot, user, tls_dovecot.url(user))
    assert report.counts == {"ticket": 1}
    assert "method=PLAIN" in login and ", TLS," not in login and ", secured," in login, login


@pytest.mark.parametrize("security", ["tls", "starttls"])
@pytest.mark.parametrize("trust", ["other_ca", "system_cas"])
def test_untrusted_certificate_fails_and_loses_nothing(env, tls_dovecot, user, other_ca, security, trust):
    uid = tls_dovecot.append(user, build("Puerta no cierra", "La puerta no cierra.", sender=ROSA))
    cafile = str(other_ca) if trust == "other_ca" else None
    url = tls_dovecot.url(user, security=security, cafile=cafile)
    report, logins = poll_and_logins(env, tls_dovecot, user, url)
    assert "CERTIFICATE_VERIFY_FAILED" in report.error, report
    assert report.error.startswith(f"IMAP 127.0.0.1:{tls_dovecot.tls_port if security == 'tls' else tls_dovecot.port}:")
    assert_nothing_lost(env, tls_dovecot, user, uid, report)
    assert logins == []  # the password never reached the server
    # fixed configuration: the same message now becomes the ticket
    report = env.poll(env.mailbox("seguro", tls_dovecot.url(user, security=security,
                                                            cafile=tls_dovecot.ca_file)))
    assert report.error is None and report.counts == {"ticket": 1}
    assert "\\Seen" in tls_dovecot.flags(user, uid)


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_certificate_for_another_name_fails(env, tls_dovecot, user, security):
    """The right CA is not enough: the name must match (the certificate names 127.0.0.1 only)."""
    uid = tls_dovecot.append(user, build("Consulta", "Una consulta.", sender=ROSA))
    url = tls_dovecot.url(user, security=security, cafile=tls_dovecot.ca_file)
    report, logins = poll_and_logins(env, tls_dovecot, user, url.replace("@127.0.0.1:", "@localhost:"))
    assert "CERTIFICATE_VERIFY_FAILED" in report.error and "localhost" in report.error, report
    assert_nothing_lost(env, tls_dovecot, user, uid, report)
    assert logins == []


# --------------------------------------------------------------------------- XOAUTH2


@pytest.mark.parametrize("security", ["plain", "tls"])
def test_poll_with_xoauth2(env, tls_dovecot, introspection, user, security):
    token = f"ya29.token-de-{user}"
    introspection.tokens[token] = user
    uid = tls_dovecot.append(user, build("Intercomunicador malogrado", "No funciona el intercomunicador.",
                                         sender=ROSA))
    url = tls_dovecot.url(user, token, security=security, auth="xoauth2",
                          cafile=tls_dovecot.ca_file if security == "tls" else None)
    report, logins = poll_and_logins(env, tls_dovecot, user, url)
    assert report.error is None and report.counts == {"ticket": 1}, report
    assert env.tickets()[0].mailbox == "seguro"
    assert "\\Seen" in tls_dovecot.flags(user, uid)
    assert token in introspection.seen_tokens()
    [login] = logins
    assert "method=XOAUTH2" in login and (", TLS," in login) == (security == "tls"), login


@pytest.mark.parametrize("bad", ["unknown-token", "password-as-token", "someone-elses-token"])
def test_xoauth2_bad_token_fails_and_loses_nothing(env, tls_dovecot, introspection, user, bad):
    other = f"{user}b"
    tls_dovecot.add_user(other, "secret")
    introspection.tokens[f"good-{user}"] = user
    introspection.tokens[f"good-{other}"] = other
    token = {"unknown-token": "caducado-123", "password-as-token": "secret",
             "someone-elses-token": f"good-{other}"}[bad]
    uid = tls_dovecot.append(user, build("Humedad en la pared", "Hay humedad en la pared.", sender=ROSA))
    report, logins = poll_and_logins(env, tls_dovecot, user, tls_dovecot.url(user, token, auth="xoauth2"))
    assert "AUTHENTICATIONFAILED" in report.error or "Authentication failed" in report.error, report
    assert_nothing_lost(env, tls_dovecot, user, uid, report)
    assert introspection.seen_tokens()[-1] == token  # Dovecot asked the endpoint, which said no
    assert logins == []
    # a valid token for this user: the same message becomes the ticket
    report = env.poll(env.mailbox("seguro", tls_dovecot.url(user, f"good-{user}", auth="xoauth2")))
    assert report.error is None and report.counts == {"ticket": 1}, report
    assert "\\Seen" in tls_dovecot.flags(user, uid)


def test_server_certificate_files(tmp_path):
    """The helper's files: the key matches the certificate, which names the hosts and chains to its CA only."""
    import ssl

    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    files = servers.write_server_certificate(tmp_path / "a", hosts=("127.0.0.1", "localhost"))
    assert files.cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert len(ssl.create_default_context(cafile=str(files.ca_cert)).get_ca_certs()) == 1
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(files.cert), str(files.key))  # key matches
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(files.ca_cert.read_bytes()))
    other = servers.write_ca_cert(servers.new_ca("Otra CA"), tmp_path / "other.pem")
    with pytest.raises((ValueError, InvalidSignature)):  # another CA did not sign it
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(other.read_bytes()))
