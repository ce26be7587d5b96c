"""`web [--host H] [--port P]`: the panel (`web_admin.create_app`) served by waitress, a production
WSGI server (DESIGN.md: never a debug server). `bind_panel` and `start_panel_thread` are what
`run` and `demo` use to serve the same panel beside the poller."""

from __future__ import annotations

import errno
import signal
import threading

import click
from waitress import create_server

from tickets.settings import Settings
from worker.cli.app import App, CliError, os_error_message, pass_app
from worker.cli.spanish import Int, command, option

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
WAITRESS_THREADS = 8


def bind_panel(settings: Settings, host: str, port: int):
    """The panel's waitress server, bound to ``host:port`` (port 0: any free port) but not yet serving.

    Returns: the server (``.run()`` serves until ``.close()``; `panel_address` gives its URL).
    Raises: CliError in Spanish for a busy port or an unknown host.
    """
    from web_admin import create_app  # Flask and the templates: only the commands that serve them

    wsgi = create_app(settings)
    try:
        return create_server(wsgi, host=host, port=port, threads=WAITRESS_THREADS, ident="atencion")
    except OSError as exc:  # a busy port, an unknown host
        why = "el puerto ya está en uso" if exc.errno == errno.EADDRINUSE else os_error_message(exc)
        raise CliError(f"no se puede escuchar en {host}:{port}: {why}") from exc


def panel_address(server, host: str) -> str:
    """``http://127.0.0.1:8000/`` — ``host`` as given, with the port the server is bound to."""
    port = getattr(server, "effective_port", None)
    if port is None:  # several sockets (a name that resolves to IPv4 and IPv6): the first one's
        port = server.effective_listen[0][1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def start_panel_thread(server) -> threading.Thread:
    """Serve ``server`` in a daemon thread (stopped by ``server.close()`` or with the process)."""
    thread = threading.Thread(target=server.run, name="panel", daemon=True)
    thread.start()
    return thread


def _stop_on_sigterm() -> None:
    """Let SIGTERM (``docker stop``) end the server as Ctrl-C does."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def host_option(fn):
    return option("--host", default=DEFAULT_HOST, show_default=True, metavar="HOST",
                  help="Dirección en la que escuchar (0.0.0.0: todas las interfaces).")(fn)


def port_option(fn):
    return option("--port", default=DEFAULT_PORT, show_default=True, type=Int(min=1, max=65535),
                  metavar="PUERTO", help="Puerto TCP (1 a 65535).")(fn)


@command()
@host_option
@port_option
@pass_app
def web(app: App, host: str, port: int) -> None:
    """El panel web (lista de atenciones, filtros y exportación; /health), hasta Ctrl-C."""
    server = bind_panel(app.settings, host, port)  # binds now
    click.echo(f"panel web en {panel_address(server, host)} (Ctrl-C para terminar)")
    _stop_on_sigterm()
    try:
        server.run()  # returns on Ctrl-C or SIGTERM: waitress stops on KeyboardInterrupt
    except KeyboardInterrupt:  # one that arrived outside waitress's loop
        pass
    finally:
        server.close()
    click.echo("hasta luego")


COMMANDS = (web,)
