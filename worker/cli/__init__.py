"""The `atencion` command (DESIGN.md, "The atencion command"): the click group `cli` and `main()`,
the console script's entry point (``atencion = "worker.cli:main"``).

One module per command group: `admin` (migrate, catalog, users), `mail` (poll, import, parse, run),
`tickets` (show, assign, status, comment, set), `create` (Nueva Atención), `copies` (duplicate,
requirement: Duplicar and Crear Requerimiento), `held`,
`export` (export, health), `listing` (list),
`outbound` (worker, scheduler, send-pending, outbox), `web` (the panel's process), `demo`,
`follow_ups` (follow-up add, done, list). Each
lists its commands in ``COMMANDS``; this module adds them to `cli` (a new group is a new module
added to the loop below). Beside them:
`app` (App, CliError, output helpers), `spanish` (click in Spanish), `filters` (the filter options).

Every subcommand reads the same configuration (`tickets.settings.Settings`) and writes through the
`tickets` services. `main()` is the one place that turns every error into one Spanish line on
stderr: exit code 2 for a usage error (click's own ones translated by `worker.cli.spanish`), 1 for
any other; never a traceback.
"""

from __future__ import annotations

import logging
import os
import re
import sys

import click
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tickets.catalog import CatalogError
from tickets.queries import FilterError
from tickets.services import FieldError, ServiceError
from tickets.settings import load_settings
from worker.cli import admin, copies, create, demo, export, held, listing, mail, outbound, tickets, web
from worker.cli import follow_ups as follow_ups_cli
from worker.cli.app import App, CliError, os_error_message
from worker.cli.filters import option_name
from worker.cli.spanish import group, option, usage_message

__all__ = ["App", "cli", "main", "run"]


@group()
@option("-v", "--verbose", is_flag=True, help="Muestra en stderr lo que va ocurriendo (registro INFO).")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Atención: atenciones de postventa a partir del correo.

    La configuración se lee de las variables ATENCION_* (y de un archivo .env).
    """
    # one-shot commands print their own one-line results and errors; logs are for -v and for the
    # long-running `run` / `poll` loops (which raise the level themselves)
    logging.basicConfig(level=logging.INFO if verbose else logging.CRITICAL,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        ctx.obj = App(load_settings())
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "ATENCION_" + "_".join(str(p) for p in err["loc"]).upper()
        message = err["msg"].removeprefix("Value error, ")  # our validators' messages are Spanish
        raise CliError(f"configuración no válida: {name}: {message} "
                       f"(valor {_masked(err.get('input'))!r})") from exc


def _masked(value):
    """A configuration value as it may be shown: the password of a URL (``scheme://user:pass@``)
    replaced by ``***``."""
    if isinstance(value, str):
        return re.sub(r"(://[^/@:\s]*:)[^@\s]*@", r"\1***@", value)
    return value


for _module in (admin, mail, tickets, create, copies, held, export, listing, outbound, web, demo):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
cli.add_command(follow_ups_cli.follow_up)  # follow-up add|done|list (Seguimiento)


def _fail(message: str, code: int = 1) -> int:
    click.echo(f"error: {message}", err=True)
    return code


def database_in_use() -> str:
    """The database the command used, for an error: a SQLite file as its absolute path (the default
    ``var/atencion.db`` is relative to the current folder: run from another folder, a command finds
    an empty database instead of the demo's), any other URL without its password."""
    try:
        url = make_url(load_settings().database_url)
    except Exception:  # noqa: BLE001 - only a hint: the settings' own error is reported elsewhere
        return "ATENCION_DATABASE_URL"
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return os.path.abspath(url.database)
    return url.render_as_string(hide_password=True)


def run(args: list[str] | None = None) -> int:
    """Run the command line ``args`` (default: ``sys.argv[1:]``); returns the exit code, having
    written any error as one line on stderr. A command may also end with SystemExit (``health``)."""
    try:
        result = cli.main(args=args, prog_name="atencion", standalone_mode=False)
    except click.exceptions.Abort:
        return _fail("cancelado")
    except click.UsageError as exc:
        return _fail(usage_message(exc), exc.exit_code)
    except click.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code)
    except FilterError as exc:
        return _fail(f"{option_name(exc.field)}: {exc.message}")
    except FieldError as exc:
        return _fail(f"{option_name(exc.field)}: {exc.message}")
    except (CatalogError, ServiceError) as exc:
        return _fail(str(exc))
    except SQLAlchemyError as exc:
        first = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        hint = ""
        if "no such table" in first or "does not exist" in first:
            hint = f" (¿ejecutó 'atencion migrate'? base de datos en uso: {database_in_use()})"
        return _fail(f"base de datos: {first}{hint}")
    except OSError as exc:
        return _fail(os_error_message(exc))
    except ImportError as exc:  # e.g. a mysql:// URL without its driver
        return _fail(f"falta un módulo: {exc.name or exc} (¿URL de base de datos soportada?)")
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console entry point: `run` the process's arguments and exit with its code."""
    sys.exit(run())
