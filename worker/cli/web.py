"""`web [--host H] [--port P]`: the panel's process. Until the panel issue, it serves the placeholder
of `web_admin.placeholder` (a page that points to the CLI, and ``/health``) with waitress, a
production WSGI server (DESIGN.md: never a debug server)."""

from __future__ import annotations

import errno
import signal

import click
from waitress import create_server

from web_admin.placeholder import app
from worker.cli.app import CliError, os_error_message
from worker.cli.spanish import Int, command, option


def _stop_on_sigterm() -> None:
    """Let SIGTERM (``docker stop``) end the server as Ctrl-C does."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@command()
@option("--host", default="127.0.0.1", show_default=True, metavar="HOST",
        help="Dirección en la que escuchar (0.0.0.0: todas las interfaces).")
@option("--port", default=8000, show_default=True, type=Int(min=1, max=65535), metavar="PUERTO",
        help="Puerto TCP (1 a 65535).")
def web(host: str, port: int) -> None:
    """El panel web (por ahora, una página provisional y /health), hasta Ctrl-C."""
    try:
        server = create_server(app, host=host, port=port)  # binds now
    except OSError as exc:  # a busy port, an unknown host
        why = "el puerto ya está en uso" if exc.errno == errno.EADDRINUSE else os_error_message(exc)
        raise CliError(f"no se puede escuchar en {host}:{port}: {why}") from exc
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"panel web en http://{shown}:{port}/ (Ctrl-C para terminar)")
    _stop_on_sigterm()
    try:
        server.run()  # returns on Ctrl-C or SIGTERM: waitress stops on KeyboardInterrupt
    except KeyboardInterrupt:  # one that arrived outside waitress's loop
        server.close()
    click.echo("hasta luego")


COMMANDS = (web,)
