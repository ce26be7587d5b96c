"""`SmtpTransport.close` while the transport's own thread is still sending (a `scheduler` or `run`
stopped by SIGTERM mid-send): it returns without touching the busy event loop, and the send ends
on its own. The "server" is a real listening socket that accepts and never greets."""

from __future__ import annotations

import socket
import threading
from email.message import EmailMessage

from mail.outbound.send import SendError, SmtpTransport


def test_close_from_another_thread_while_sending_leaves_the_busy_transport_alone() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        transport = SmtpTransport(f"smtp://127.0.0.1:{listener.getsockname()[1]}", timeout=30)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "a@example.com", "b@example.com", "x"
        msg.set_content("x")
        outcome: dict = {}

        def send() -> None:
            try:
                transport.send(msg, "a@example.com", "b@example.com")
            except BaseException as exc:  # noqa: BLE001 - inspected below
                outcome["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        listener.settimeout(30)
        conn, _ = listener.accept()  # the sender is now inside its event loop, waiting for the greeting
        try:
            transport.close()  # before the fix: RuntimeError "This event loop is already running"
        finally:
            conn.close()  # the greeting never comes: the send fails as a temporary error
            sender.join(timeout=30)
        assert not sender.is_alive()
        assert isinstance(outcome.get("error"), SendError) and not outcome["error"].permanent
        transport.close()  # idle now: this one closes the loop
        assert transport._loop.is_closed()


def test_close_of_an_idle_transport_closes_its_loop() -> None:
    transport = SmtpTransport("smtp://127.0.0.1:9")
    transport.close()
    assert transport._loop.is_closed()
