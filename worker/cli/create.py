"""`create`: "Nueva Atención" from the terminal, through the panel's service
(`tickets.intake.create_ticket`); ``--document``/``--contract`` fill the header as "Buscar por"
does (a client with several contracts is an error listing them, unless ``--contract`` picks one)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import click

from tickets.intake import create_ticket
from tickets.models import TicketKind
from tickets.reports import ticket_detail
from worker.cli.app import App, echo_json, pass_app
from worker.cli.spanish import InvalidValue, SpanishType, command, option
from worker.cli.tickets import BY_HELP, staff_user

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class LocalDateTime(SpanishType):
    """``AAAA-MM-DD`` (a `date`) or ``AAAA-MM-DDTHH:MM[:SS]`` / ``AAAA-MM-DD HH:MM`` (a naive
    `datetime`, local to the configured zone; one with a UTC offset is kept aware). A bad value
    fails with a Spanish message (click's usage error: exit code 2)."""

    name = "fecha"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        text = str(value).strip()
        try:
            if _DAY.fullmatch(text):
                return date.fromisoformat(text)
            if _DAY.match(text) and len(text) > 10 and text[10] in "T ":
                return datetime.fromisoformat(text)
        except ValueError:
            pass
        self.fail(f"fecha no válida {str(value)!r} (use AAAA-MM-DD o AAAA-MM-DDTHH:MM)", param, ctx)


def requested_datetime(value: date | datetime, zone: ZoneInfo, now: datetime | None = None) -> datetime | None:
    """``--requested-at`` as the UTC datetime `create_ticket` takes, or None for "now".

    A date is that day in ``zone`` at the current local time of day (today: now), as the panel's
    "Fecha de solicitud" does; a naive datetime is local to ``zone``. ``now`` (aware) defaults to
    the current time. Raises InvalidValue when the moment is later than ``now``.
    """
    now = (now or datetime.now(zone)).astimezone(zone)
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=zone)
    elif value == now.date():
        return None
    else:
        when = datetime.combine(value, now.time(), zone)
    if when > now:
        raise InvalidValue(f"la fecha de solicitud no puede ser futura ({value.isoformat()})",
                           param_hint="--requested-at")
    return when.astimezone(UTC)


@command()
@option("--subject", required=True, metavar="ASUNTO", help="Asunto de la atención.")
@option("--detail", required=True, metavar="DETALLE", help="Detalle del requerimiento.")
@option("--requester-email", default=None, metavar="CORREO", help="Correo del solicitante.")
@option("--requester-name", default=None, metavar="NOMBRE", help="Nombre del solicitante.")
@option("--document", default=None, metavar="DOCUMENTO",
        help="Buscar por el documento del cliente (DNI, CE o RUC): llena el pliego.")
@option("--contract", default=None, metavar="CONTRATO",
        help="Buscar por el N° de contrato (o elegir uno de los del cliente de --document).")
@option("--kind", default=TicketKind.ATENCION.value, metavar="FORMULARIO",
        help="Formulario: atencion (por defecto), reclamo o solicitud.")
@option("--type", "type_", default=None, metavar="TIPO", help="Tipo de atención.")
@option("--category", default=None, metavar="CATEGORÍA", help="Categoría.")
@option("--priority", default=None, metavar="PRIORIDAD", help="Prioridad (por defecto Media).")
@option("--project", default=None, metavar="PROYECTO", help="Proyecto.")
@option("--subdivision", default=None, metavar="TORRE", help="Torre/Bloque.")
@option("--unit", default=None, metavar="UNIDAD", help="Dpto./Unidad.")
@option("--area", default=None, metavar="ÁREA", help="Área.")
@option("--requested-at", type=LocalDateTime(), default=None, metavar="FECHA",
        help="Fecha de solicitud AAAA-MM-DD (o AAAA-MM-DDTHH:MM) en la zona configurada; por defecto, ahora.")
@option("--by", "by_email", default=None, metavar="CORREO", help=BY_HELP)
@option("--json", "as_json", is_flag=True, help="Imprime la atención creada en JSON (como show --json).")
@pass_app
def create(app: App, subject: str, detail: str, requester_email: str | None, requester_name: str | None,
           document: str | None, contract: str | None, kind: str, type_: str | None, category: str | None,
           priority: str | None, project: str | None, subdivision: str | None, unit: str | None,
           area: str | None, requested_at: date | datetime | None, by_email: str | None, as_json: bool) -> None:
    """Crea una atención ("Nueva Atención") y envía el acuse al solicitante. Indique al solicitante
    con --requester-email, o búsquelo con --document o --contract (llenan proyecto, torre, unidad,
    titular, promotor y N° de contrato). Imprime el código de la nueva atención."""
    if not (requester_email or document or contract):
        raise click.UsageError("indique --requester-email, --document o --contract")
    requested = requested_datetime(requested_at, app.zone) if requested_at is not None else None
    with app.sessions.begin() as s:
        ticket = create_ticket(
            s, app.ctx, subject=subject, detail=detail, requester_email=requester_email,
            requester_name=requester_name or "", document=document, contract=contract, kind=kind,
            type=type_, category=category, priority=priority, project=project, subdivision=subdivision,
            unit=unit, area=area, channel="cli", requested_at=requested, registered_by=staff_user(s, by_email))
        code = ticket.code
    if as_json:
        with app.reader.begin() as s:
            echo_json(ticket_detail(s, app.settings, code))
    else:
        click.echo(code)
    app.send_queued()


COMMANDS = (create,)
