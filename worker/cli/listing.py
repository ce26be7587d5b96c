"""`list [filters] [--sort KEY] [--limit N | --all] [--json]`: the panel's "Atención al Cliente" list
in the terminal — the same filters (`worker.cli.filters`) and the same rows as `export` and the
panel (`tickets.queries.iter_ticket_rows`), a table of code, subject, requester, status, assignee,
elapsed days and alert, or with ``--json`` a list of objects with the export's keys."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tickets.queries import ORDERS, count_tickets, iter_ticket_rows
from tickets.text import plural
from worker.cli.app import App, echo_json, pass_app, printable
from worker.cli.filters import FILTERS_HELP, build_filters, check_filters, filter_options
from worker.cli.spanish import Int, SpanishType, command, option

DEFAULT_LIMIT = 50
"""Rows shown without --limit or --all (a page of the panel)."""

DEFAULT_SORT = "-requested_at"

#: Rich styles of the alert column, per alert state (the panel's colours; none without a terminal).
ALERT_STYLES = {"overdue": "bold red", "on_time": "green", "attended_on_time": "blue",
                "attended_late": "dark_orange"}


class SortKey(SpanishType):
    """A key of `tickets.queries.ORDERS` (the export's JSON keys), ``-key`` for descending."""

    name = "orden"

    def convert(self, value, param, ctx):
        key = str(value).strip()
        if key.lstrip("-") in ORDERS and not key.startswith("--"):
            return key
        valid = ", ".join(ORDERS)
        self.fail(f"orden no válido {key!r} (use {valid}; con - delante, descendente)", param, ctx)


LIST_HELP = (
    "Lista las atenciones que cumplen los filtros (sin filtros, todas), como la lista del panel: "
    "código, asunto, solicitante, estado, usuario asignado, días transcurridos y alerta.\n\n"
    "Mismos filtros y mismas filas que 'atencion export'. " + FILTERS_HELP)


@command("list", help=LIST_HELP)
@filter_options
@option("--sort", "sort", default=DEFAULT_SORT, show_default=True, type=SortKey(), metavar="CLAVE",
        help="Orden: " + ", ".join(ORDERS) + "; con - delante, descendente.")
@option("--limit", "limit", default=None, type=Int(min=1, max=1_000_000_000), metavar="N",
        help=f"Muestra como mucho N atenciones (por defecto {DEFAULT_LIMIT}).")
@option("--all", "show_all", is_flag=True, help="Muestra todas las atenciones (sin límite).")
@option("--json", "as_json", is_flag=True, help="Imprime una lista JSON con las claves de la exportación.")
@pass_app
def list_(app: App, sort: str, limit: int | None, show_all: bool, as_json: bool, **options) -> None:
    """List the tickets that match the filter options (help: `LIST_HELP`)."""
    if show_all and limit is not None:
        raise click.UsageError("--limit y --all no pueden usarse juntos")
    limit = None if show_all else (limit or DEFAULT_LIMIT)
    filters = build_filters(options)
    settings = app.settings
    with app.reader.begin() as s:
        check_filters(s, filters)
        rows = list(iter_ticket_rows(s, filters, tz=settings.timezone, prefix=settings.code_prefix,
                                     order=sort, limit=limit))
        total = len(rows) if limit is None or len(rows) < limit else count_tickets(
            s, filters, tz=settings.timezone, prefix=settings.code_prefix)
    if as_json:
        echo_json([r.to_json() for r in rows])
        return
    if not rows:
        click.echo("No hay atenciones con estos filtros.")
        return
    print_table(rows)
    shown = plural(len(rows), "atención", "atenciones")
    if total > len(rows):
        click.echo(f"{shown} de {total} (use --limit N o --all para ver más)")
    else:
        click.echo(shown)


def print_table(rows) -> None:
    """The rows as a table on stdout (as wide as the terminal; long texts cut with …).

    The code, status, days and alert are short and what the list is read for: they keep their
    width, and the subject, requester and assignee share what is left (3:2:1, none wider than its
    longest text). Rich alone would shave every column evenly, down to nothing."""
    rows = list(rows)
    cells = [(r.code, printable(r.subject.replace("\n", " ")), printable(r.requester_name or r.requester_email or ""),
              r.status, printable(r.assignee or "—"), str(r.elapsed_days), r.alert) for r in rows]
    heads = ("Código", "Asunto", "Solicitante", "Estado", "Asignado", "Días", "Alerta")
    longest = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]
    console = Console(soft_wrap=False, highlight=False)
    if not console.is_terminal and console.width < 120:
        console.width = 120  # piped: do not squeeze the table into 80 columns
    fixed = longest[0] + longest[3] + longest[5] + longest[6] + 2 * (len(heads) - 1)
    texts = _share(max(console.width - fixed, 3), [(longest[1], 3), (longest[2], 2), (longest[4], 1)])
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("Código", no_wrap=True, width=longest[0])
    table.add_column("Asunto", overflow="ellipsis", no_wrap=True, width=texts[0])
    table.add_column("Solicitante", overflow="ellipsis", no_wrap=True, width=texts[1])
    table.add_column("Estado", no_wrap=True, width=longest[3])
    table.add_column("Asignado", overflow="ellipsis", no_wrap=True, width=texts[2])
    table.add_column("Días", justify="right", no_wrap=True, width=longest[5])
    table.add_column("Alerta", no_wrap=True, width=longest[6])
    for r, c in zip(rows, cells, strict=True):
        table.add_row(*(Text(v) for v in c[:6]), Text(c[6], style=ALERT_STYLES.get(r.alert_state, "")))
    console.print(table)


def _share(room: int, wants: list[tuple[int, int]]) -> list[int]:
    """Split ``room`` characters among columns given as (longest text, ratio): by ratio, none wider
    than its text, what one leaves going to the others; each at least 1."""
    widths = [1] * len(wants)
    room -= len(wants)
    while room > 0:
        open_ = [i for i, (want, _) in enumerate(wants) if widths[i] < want]
        if not open_:
            break
        total = sum(wants[i][1] for i in open_)
        given = 0
        for i in open_:
            add = min(wants[i][0] - widths[i], max(room * wants[i][1] // total, 1), room - given)
            widths[i] += add
            given += add
        room -= given
        if given == 0:
            break
    return widths


COMMANDS = (list_,)
