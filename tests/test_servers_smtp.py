"""The SMTP test server (tests/servers/smtp.py): delivery, TLS and AUTH, outages and injected faults."""

import asyncio
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from tests import servers

ROOT = Path(__file__).resolve().parents[1]


def make_message(subject="Filtración en el baño", to=("ana@example.com",), sender="soporte@example.com"):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Message-ID"] = "<servers-smtp-1@example.com>"
    msg.set_content("Hay una filtración en el depto 302.\n")
    return msg


def send_async(server, message, **kwargs):
    """aiosmtplib.send to ``server`` (plain unless told), in a fresh event loop."""
    kwargs.setdefault("start_tls", False)
    kwargs.setdefault("timeout", 5)
    return asyncio.run(aiosmtplib.send(message, hostname=server.host, port=server.port, **kwargs))


def start(**kwargs):
    return servers.obtain(lambda: servers.SmtpServer(**kwargs).start(), "SMTP (aiosmtpd)")


# ---------------------------------------------------------------- delivery


def test_aiosmtplib_delivery_is_captured(smtp):
    errors, reply = send_async(smtp, make_message(to=("ana@example.com", "Luis@Example.com")))
    assert errors == {}
    assert "OK" in reply
    [d] = smtp.wait_for(1)
    assert isinstance(d, servers.Delivery)
    assert d.mail_from == "soporte@example.com"
    assert d.rcpt_tos == ("ana@example.com", "Luis@Example.com")
    assert d.message["Subject"] == "Filtración en el baño"
    assert d.message["Message-ID"] == "<servers-smtp-1@example.com>"
    assert "depto 302" in d.message.get_content()
    assert d.data.startswith(b"From: soporte@example.com\r\n")
    assert d.login is None
    assert smtp.count() == 1 and smtp.data_commands == 1
    assert [m["Subject"] for m in smtp.messages()] == ["Filtración en el baño"]
    assert smtp.deliveries_to("luis@example.com") == [d]
    assert smtp.deliveries_to("nadie@example.com") == []
    assert smtp.url == f"smtp://127.0.0.1:{smtp.port}"


def test_smtplib_delivery_and_clear(smtp):
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
        refused = client.sendmail("", ["ana@example.com"], b"Subject: rebote\r\n\r\ncuerpo\r\n")
    assert refused == {}
    [d] = smtp.wait_for(1)
    assert (d.mail_from, d.rcpt_tos, d.data) == ("", ("ana@example.com",), b"Subject: rebote\r\n\r\ncuerpo\r\n")
    smtp.fail_next_data(1)
    smtp.reject_rcpt["x@example.com"] = (550, "5.1.1 No")
    smtp.clear()
    assert (smtp.count(), smtp.data_commands, smtp.reject_rcpt) == (0, 0, {})
    send_async(smtp, make_message())
    assert smtp.count() == 1


def test_wait_for_says_what_arrived(smtp):
    send_async(smtp, make_message(subject="uno"))
    with pytest.raises(AssertionError, match=r"expected 2 deliveries within 0.1 s, got 1 .*'uno'"):
        smtp.wait_for(2, timeout=0.1)


def test_smtputf8_on_and_off(smtp):
    to = "josé@example.com"
    errors, _ = send_async(smtp, make_message(to=(to,), sender="núñez@example.com"))
    assert errors == {}
    [d] = smtp.wait_for(1)
    assert d.rcpt_tos == (to,) and d.mail_from == "núñez@example.com"
    assert "SMTPUTF8" in d.mail_options

    smtp.smtputf8 = False  # read at each new connection
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
        client.ehlo()
        assert not client.has_extn("smtputf8")
        code, text = client.docmd("MAIL", "FROM:<nunez@example.com> SMTPUTF8")
        assert code >= 500, text
    with pytest.raises(aiosmtplib.SMTPNotSupported):
        send_async(smtp, make_message(to=(to,)))
    assert smtp.count() == 1


# ---------------------------------------------------------------- faults


def test_permanent_reject_of_one_recipient_only(smtp):
    smtp.reject_rcpt["Nadie@example.com"] = (550, "5.1.1 No such user")
    msg = make_message(to=("ana@example.com", "nadie@example.com"))
    errors, _ = send_async(smtp, msg)
    assert errors == {"nadie@example.com": aiosmtplib.SMTPResponse(550, "5.1.1 No such user")}
    [d] = smtp.wait_for(1)
    assert d.rcpt_tos == ("ana@example.com",)

    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as exc:
        client.sendmail("soporte@example.com", ["nadie@example.com"], b"Subject: x\r\n\r\ny\r\n")
    assert exc.value.recipients == {"nadie@example.com": (550, b"5.1.1 No such user")}
    assert smtp.count() == 1 and smtp.data_commands == 1  # no valid recipient: no DATA at all


def test_temporary_reject_of_a_recipient(smtp):
    smtp.reject_rcpt["luis@example.com"] = (451, "4.3.0 Try again later")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
        refused = client.sendmail("soporte@example.com", ["ana@example.com", "luis@example.com"], b"\r\nx\r\n")
    assert refused == {"luis@example.com": (451, b"4.3.0 Try again later")}
    del smtp.reject_rcpt["luis@example.com"]
    send_async(smtp, make_message(to=("luis@example.com",)))
    assert [d.rcpt_tos for d in smtp.wait_for(2)] == [("ana@example.com",), ("luis@example.com",)]


def test_fail_next_data_then_success(smtp):
    smtp.fail_next_data(2)
    for _ in range(2):
        with pytest.raises(aiosmtplib.SMTPDataError) as exc:
            send_async(smtp, make_message())
        assert exc.value.code == 451 and exc.value.message.startswith("4.3.0")
    assert smtp.count() == 0
    send_async(smtp, make_message())
    assert smtp.count() == 1 and smtp.data_commands == 3

    smtp.fail_next_data(1, 554, "5.6.0 Rechazado")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client, pytest.raises(smtplib.SMTPDataError) as exc:
        client.sendmail("a@example.com", ["b@example.com"], b"\r\nx\r\n")
    assert exc.value.args == (554, b"5.6.0 Rechazado")


def test_drop_after_data_closes_without_a_reply(smtp):
    smtp.drop_after_data = True
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        send_async(smtp, make_message())
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client, pytest.raises(smtplib.SMTPServerDisconnected):
        client.sendmail("a@example.com", ["b@example.com"], b"\r\nx\r\n")
    assert smtp.count() == 0 and smtp.data_commands == 2
    smtp.drop_after_data = False
    send_async(smtp, make_message())
    assert smtp.count() == 1


def test_data_delay_delays_the_final_reply(smtp):
    smtp.data_delay_s = 0.3
    t0 = time.monotonic()
    send_async(smtp, make_message())
    assert time.monotonic() - t0 >= 0.3
    smtp.data_delay_s = 1.0
    with pytest.raises(aiosmtplib.SMTPTimeoutError):
        send_async(smtp, make_message(subject="impaciente"), timeout=0.2)
    # the impatient client hung up before the 250: received, not delivered
    assert [m["Subject"] for m in smtp.messages()] == ["Filtración en el baño"]
    assert smtp.data_commands == 2


CLIENT = """
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as c:
    c.sendmail("a@example.com", ["b@example.com"], b"Subject: killed\\r\\n\\r\\nx\\r\\n")
print("sent", flush=True)
"""


def test_client_killed_before_the_final_reply(smtp):
    """``data_commands`` counts the DATA on receipt, before the delay: the client can die before its
    250, and then the message is not delivered (the server never took it)."""
    smtp.data_delay_s = 30
    proc = subprocess.Popen([sys.executable, "-c", CLIENT, str(smtp.port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while smtp.data_commands < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(10)
    assert proc.returncode == -signal.SIGKILL and b"sent" not in out
    assert smtp.data_commands == 1
    smtp.data_delay_s = 0
    send_async(smtp, make_message())  # the server is still fine
    assert [m["Subject"] for m in smtp.messages()] == ["Filtración en el baño"]
    assert smtp.data_commands == 2


# ---------------------------------------------------------------- outage


def test_stop_refuses_then_restart_on_the_same_port(smtp):
    port = smtp.port
    idle = smtplib.SMTP(smtp.host, port, timeout=5)
    idle.ehlo()
    smtp.stop()
    assert not smtp.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((smtp.host, port), timeout=2).close()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        send_async(smtp, make_message())
    with pytest.raises(smtplib.SMTPServerDisconnected):  # open connections are cut too
        idle.noop()
    idle.close()
    smtp.stop()  # idempotent

    assert smtp.restart() is smtp and smtp.port == port
    send_async(smtp, make_message())
    assert smtp.count() == 1


# ---------------------------------------------------------------- TLS and AUTH


def test_starttls_and_auth():
    server = start(security="starttls", auth=True)
    try:
        user, password = servers.SmtpServer.USER, servers.SmtpServer.PASSWORD
        assert server.url == f"smtp://{user}:{password}@127.0.0.1:{server.port}?starttls=1"
        assert server.make_url(cafile=True).endswith(f"?starttls=1&cafile={server.ca_file}")
        assert server.ca_file.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
        ctx = server.ssl_context()
        send_async(server, make_message(), start_tls=True, tls_context=ctx, username=user, password=password)
        assert server.wait_for(1)[0].login == user

        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            send_async(server, make_message(), start_tls=True, tls_context=ctx, username=user, password="wrong")
        with pytest.raises(aiosmtplib.SMTPResponseException) as exc:  # AUTH is required
            send_async(server, make_message(), start_tls=True, tls_context=ctx)
        assert exc.value.code == 530
        with pytest.raises(aiosmtplib.SMTPResponseException) as exc:  # STARTTLS is required
            send_async(server, make_message())
        assert exc.value.code == 530
        with pytest.raises(ssl.SSLCertVerificationError):  # our CA only
            send_async(server, make_message(), start_tls=True, tls_context=ssl.create_default_context(),
                       username=user, password=password)

        with smtplib.SMTP(server.host, server.port, timeout=5) as client:  # AUTH LOGIN as well
            client.starttls(context=ctx)
            client.ehlo()
            assert {"PLAIN", "LOGIN"} <= set(client.esmtp_features["auth"].split())
            client.user, client.password = user, password
            client.auth("LOGIN", client.auth_login)
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: login\r\n\r\nx\r\n")
        assert server.count() == 2

        ca = server.ca_file
        server.restart()  # same port, same certificate
        send_async(server, make_message(), start_tls=True, tls_context=ssl.create_default_context(cafile=ca),
                   username=user, password=password)
        assert server.count() == 3
    finally:
        directory = server.ca_file.parent
        server.close()
    assert not directory.exists()


def test_implicit_tls():
    server = start(security="tls", auth=True)
    try:
        assert server.url == f"smtps://mailer:secret@127.0.0.1:{server.port}"
        send_async(server, make_message(), use_tls=True, tls_context=server.ssl_context(),
                   username=server.USER, password=server.PASSWORD)
        with smtplib.SMTP_SSL(server.host, server.port, context=server.ssl_context(), timeout=5) as client:
            client.login(server.USER, server.PASSWORD)  # AUTH PLAIN
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: smtps\r\n\r\nx\r\n")
        assert [d.login for d in server.wait_for(2)] == ["mailer", "mailer"]
        with pytest.raises((aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected)):  # no TLS: no greeting
            send_async(server, make_message(), timeout=0.3)
    finally:
        server.close()


def test_plain_server_with_auth_and_bad_settings():
    server = start(auth=True)
    try:
        assert server.url == f"smtp://mailer:secret@127.0.0.1:{server.port}"
        assert server.make_url(user="otro", password="p@ss") == f"smtp://otro:p%40ss@127.0.0.1:{server.port}"
        send_async(server, make_message(), username="mailer", password="secret")
        assert server.count() == 1
        with pytest.raises(RuntimeError, match="no TLS"):
            server.ssl_context()
    finally:
        server.close()
    with pytest.raises(ValueError, match="security"):
        servers.SmtpServer(security="ssl")


def test_port_taken_is_unavailable(smtp):
    with pytest.raises(servers.ServerUnavailable, match="could not listen"):
        servers.SmtpServer(port=smtp.port).start()
