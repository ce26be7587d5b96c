"""`duplicate` and `requirement`: the ticket view's "Duplicar" and "Crear requerimiento" from the
terminal, through the same service (`tickets.copies`). Neither mails the requester; each prints the
new ticket's code (``--json``: the `show` JSON of the new ticket).

CODE must look like a ticket code (``AT-000123``, ``at-123``): anything else is a usage error
(one line, exit 2); a well-formed code of no ticket is "no existe la atención" (exit 1), as in
`show`."""

from __future__ import annotations

from datetime import date, datetime

import click

from tickets import copies
from tickets.codes import find_codes
from tickets.defaults import DEFAULT_PRIORITY
from tickets.models import TicketKind
from tickets.reports import ticket_detail
from tickets.services import get_ticket
from worker.cli.app import App, echo_json, pass_app
from worker.cli.create import LocalDateTime, requested_datetime
from worker.cli.spanish import SpanishType, command, option
from worker.cli.tickets import BY_HELP, staff_user


class TicketCode(SpanishType):
    """A ticket's code as typed (``AT-000123``, ``at-123``), normalised (``AT-000123``); a value
    with no code in it fails with a Spanish message (a usage error: exit code 2)."""

    name = "código"

    def convert(self, value, param, ctx):
        app = ctx.find_object(App) if ctx is not None else None
        prefix = app.settings.code_prefix if app is not None else "AT"
        found = find_codes(str(value), prefix)
        if len(found) != 1 or len(str(value).strip()) > 40:
            self.fail(f"código de atención no válido {str(value)!r} (por ejemplo {prefix}-000123)", param, ctx)
        return found[0]


def _print_new(app: App, code: str, as_json: bool) -> None:
    if as_json:
        with app.reader.begin() as s:
            echo_json(ticket_detail(s, app.settings, code))
    else:
        click.echo(code)


@command()
@click.argument("code", type=TicketCode())
@option("--by", "by_email", default=None, metavar="CORREO", help=BY_HELP)
@option("--json", "as_json", is_flag=True, help="Imprime la nueva atención en JSON (como show --json).")
@pass_app
def duplicate(app: App, code: str, by_email: str | None, as_json: bool) -> None:
    """"Duplicar": crea una atención con los mismos datos que CODE (pliego, tipo, categoría,
    prioridad, área, formulario, asunto y detalle), sin su bitácora ni sus adjuntos, en estado
    Registrado y con fecha de solicitud de ahora. No se envía acuse al solicitante. Imprime el
    código de la nueva atención.

    CODE: el código de la atención (AT-000123; también at-123).
    """
    with app.sessions.begin() as s:
        original = get_ticket(s, code, app.settings.code_prefix)
        new = copies.duplicate_ticket(s, app.ctx, original, by=staff_user(s, by_email), channel="cli")
        new_code = new.code
    _print_new(app, new_code, as_json)
    app.send_queued()


@command()
@click.argument("code", type=TicketCode())
@option("--subject", required=True, metavar="ASUNTO", help="Asunto del requerimiento.")
@option("--detail", required=True, metavar="DETALLE", help="Detalle del requerimiento.")
@option("--type", "type_", required=True, metavar="TIPO", help="Tipo de atención.")
@option("--category", required=True, metavar="CATEGORÍA", help="Categoría.")
@option("--priority", default=DEFAULT_PRIORITY, show_default=True, metavar="PRIORIDAD", help="Prioridad.")
@option("--area", default=None, metavar="ÁREA", help="Área.")
@option("--kind", default=TicketKind.ATENCION.value, show_default=True, metavar="FORMULARIO",
        help="Formulario: atencion, reclamo o solicitud.")
@option("--assignee", default=None, metavar="CORREO",
        help="Usuario asignado (recibe el correo de asignación).")
@option("--requested-at", type=LocalDateTime(), default=None, metavar="FECHA",
        help="Fecha de solicitud AAAA-MM-DD (o AAAA-MM-DDTHH:MM) en la zona configurada; por defecto, ahora.")
@option("--by", "by_email", default=None, metavar="CORREO", help=BY_HELP)
@option("--json", "as_json", is_flag=True, help="Imprime la nueva atención en JSON (como show --json).")
@pass_app
def requirement(app: App, code: str, subject: str, detail: str, type_: str, category: str, priority: str,
                area: str | None, kind: str, assignee: str | None, requested_at: date | datetime | None,
                by_email: str | None, as_json: bool) -> None:
    """"Crear requerimiento": un nuevo requerimiento en el pliego de CODE, con su mismo pliego
    (solicitante, titular, proyecto, torre, unidad, contrato, promotor); solo se indica el
    requerimiento. La primera atención del pliego es su cabeza. No se envía acuse al solicitante.
    Imprime el código de la nueva atención.

    CODE: el código de una atención del pliego (AT-000123; también at-123).
    """
    requested = requested_datetime(requested_at, app.zone) if requested_at is not None else None
    with app.sessions.begin() as s:
        original = get_ticket(s, code, app.settings.code_prefix)
        new = copies.create_requirement(
            s, app.ctx, original, subject=subject, detail=detail, type=type_, category=category,
            priority=priority, area=area, kind=kind, assignee=assignee, requested_at=requested,
            by=staff_user(s, by_email), channel="cli")
        new_code = new.code
    _print_new(app, new_code, as_json)
    app.send_queued()


COMMANDS = (duplicate, requirement)
