"""An SMTP server that accepts everything and counts it, in a process of its own (bench/outbound.py).

    python bench/helpers/smtp_sink.py PORT

Listens on 127.0.0.1:PORT (aiosmtpd on the main thread's event loop, no TLS, no AUTH), prints
``ready`` once it listens, and answers ``NOOP`` with ``250 <messages accepted so far>`` (one per
DATA, whatever the number of recipients), so the bench can check that what it timed arrived.
It runs in its own process so that the server does not share the client's interpreter lock.
Stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiosmtpd.smtp import SMTP


class CountingHandler:
    """Accept every message; count them."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages += 1
        self.bytes += len(envelope.original_content or b"")
        return "250 2.0.0 OK"

    async def handle_NOOP(self, server, session, envelope, arg) -> str:  # noqa: N802
        return f"250 {self.messages} {self.bytes}"


async def serve(port: int) -> None:
    handler = CountingHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.bench.invalid", data_size_limit=64 * 1024 * 1024),
        host="127.0.0.1", port=port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
