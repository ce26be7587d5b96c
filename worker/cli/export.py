"""Reports: `export [filters] -o FILE` and `health`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mail.mailboxes import ConfigError, load_mailboxes
from tickets.queries import iter_ticket_rows
from tickets.reports import health_report
from tickets.text import plural
from worker.cli.app import App, CliError, echo_json, pass_app
from worker.cli.filters import FILTERS_HELP, build_filters, check_filters, filter_options
from worker.cli.spanish import Int, PathArg, command, option


def check_output(output: Path, formats: tuple[str, ...]) -> str:
    """The export format of ``-o FILE`` (its extension). Raises CliError when the extension is not
    one of ``formats``, FILE is a folder, or its folder does not exist (it is never created)."""
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in formats:
        if not output.suffix:
            raise CliError(f"-o: falta la extensión del archivo {output} (.xlsx, .csv o .json)")
        raise CliError(f"-o: extensión '{output.suffix}' no soportada (.xlsx, .csv o .json)")
    if output.is_dir():
        raise CliError(f"-o: {output} es una carpeta")
    folder = output.parent
    if not folder.exists():
        raise CliError(f"-o: no existe la carpeta {folder}")
    if not folder.is_dir():
        raise CliError(f"-o: {folder} no es una carpeta")
    return fmt


EXPORT_HELP = (
    "Exporta a un archivo las atenciones que cumplen los filtros (sin filtros, todas).\n\n"
    "El formato sigue a la extensión de -o: .xlsx (como el panel), .csv o .json; las horas están en la "
    "zona horaria configurada. " + FILTERS_HELP)


@command(help=EXPORT_HELP)
@filter_options
@option("-o", "--output", "output", required=True, type=PathArg(), metavar="ARCHIVO",
        help="Archivo a escribir: .xlsx, .csv o .json. Su carpeta debe existir (no se crea).")
@pass_app
def export(app: App, output: Path, **options) -> None:
    """Export the tickets that match the filter options to ``output`` (help: `EXPORT_HELP`)."""
    # The one import done late: tickets.export loads openpyxl, about 0.1 s — a sixth of the start-up
    # of every other command, none of which needs it.
    from tickets.export import FORMATS, write_export

    filters = build_filters(options)
    fmt = check_output(output, FORMATS)
    with app.reader.begin() as s:
        check_filters(s, filters)
        rows = iter_ticket_rows(s, filters, tz=app.settings.timezone, prefix=app.settings.code_prefix)
        count = write_export(rows, output, fmt)
    click.echo(f"{plural(count, 'atención exportada', 'atenciones exportadas')} a {output}")


@command()
@option("--json", "as_json", is_flag=True, help="Imprime el informe en JSON (para programas).")
@option("--max-age", "max_age_s", default=600, show_default=True, type=Int(min=1), metavar="SEGUNDOS",
        help="Segundos desde la última lectura correcta tras los cuales un buzón está mal.")
@pass_app
def health(app: App, as_json: bool, max_age_s: int) -> None:
    """Estado de cada buzón (última lectura correcta y último error) y de los correos por enviar.
    Sale con 1 cuando un buzón no se ha leído en --max-age segundos o cuando el correo pendiente
    más antiguo lleva más de ATENCION_HEALTH_OUTBOX_MAX_MIN minutos (15) sin salir."""
    try:
        names = [m.name for m in load_mailboxes(app.settings)]
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    with app.reader.begin() as s:
        report = health_report(s, app.settings, configured=names or None, max_age_s=max_age_s)
    if as_json:
        echo_json(report)
    else:
        for m in report["mailboxes"]:
            state = "OK" if m["healthy"] else "MAL"
            ok_at = app.local_time(m["last_success_at"]) if m["last_success_at"] else "nunca"
            click.echo(f"{state:<4} {m['name']}: último éxito {ok_at}; último error {m['last_error'] or '-'}")
        ob = report["outbox"]
        oldest = app.local_time(ob["oldest_pending_at"]) if ob["oldest_pending_at"] else "-"
        state = "OK" if ob["healthy"] else "MAL"
        click.echo(f"{state:<4} correos por enviar: {ob['pending']} (el más antiguo: {oldest}); "
                   f"fallidos: {ob['failed']}")
    if not report["healthy"]:
        sys.exit(1)


COMMANDS = (export, health)
