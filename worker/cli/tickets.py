"""One ticket: `show`, and the panel's actions `assign`, `status`, `comment`, `set` (through the
same services, so they write the logbook, the history and the outbox as the panel does)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import click
from sqlalchemy.orm import Session

from tickets import edits, services
from tickets.models import Ticket, User
from tickets.reports import ticket_detail
from tickets.services import FieldError, ServiceError, find_user_by_email, get_ticket
from worker.cli.app import App, CliError, echo_json, pass_app, printable
from worker.cli.spanish import command, option

#: Field labels of `show` (the panel's Spanish names).
SHOW_FIELDS = (
    ("status", "Estado"), ("priority", "Prioridad"), ("type", "Tipo de atención"),
    ("category", "Categoría"), ("requester_name", "Solicitante"), ("requester_email", "Correo"),
    ("project", "Proyecto"), ("subdivision", "Torre/Bloque"), ("unit", "Dpto./Unidad"),
    ("contract_number", "N° de contrato"), ("holder", "Titular"), ("assignee", "Usuario asignado"),
    ("area", "Área"), ("requested_at", "Fecha de solicitud"), ("attended_at", "Fecha de atención"),
    ("elapsed_days", "Días transcurridos"), ("alert", "Alerta de la atención"),
)
ENTRY_LABELS = {"comment": "comentario", "email_in": "correo recibido", "email_out": "correo enviado",
                "attachment": "adjunto", "change": "cambio", "follow_up": "seguimiento",
                "event": "evento", "note": "nota"}
CHANGE_LABELS = {"status": "estado", "assignee": "usuario asignado", "attended_at": "fecha de atención",
                 "priority": "prioridad", "category": "categoría", "area": "área", "type": "tipo de atención",
                 "kind": "formulario", "project": "proyecto", "subdivision": "torre/bloque",
                 "unit": "dpto./unidad", "contract_number": "N° de contrato", "holder": "titular",
                 "observation": "observación", "subject": "asunto", "detail": "detalle",
                 "group": "pliego", "duplicated_from": "duplicada desde"}
TIMESTAMP_FIELDS = frozenset({"requested_at", "attended_at"})


@command()
@click.argument("code")
@option("--json", "as_json", is_flag=True, help="Imprime la atención en JSON (para programas).")
@pass_app
def show(app: App, code: str, as_json: bool) -> None:
    """Muestra una atención con sus datos y su bitácora completa (comentarios enteros, nombres de
    los adjuntos, horas locales de la zona configurada).

    CODE: el código de la atención (AT-000123; también at-123).
    """
    with app.reader.begin() as s:
        data = ticket_detail(s, app.settings, code)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['code']}  {printable(data['subject'])}")
    for key, label in SHOW_FIELDS:
        value = data.get(key)
        if key in TIMESTAMP_FIELDS and value:
            value = app.local_time(value)
        click.echo(f"  {label}: {printable(str(value)) if value is not None else ''}")
    if data.get("duplicated_from"):
        click.echo(f"  Duplicada desde: {data['duplicated_from']}")
    if data.get("pliego"):
        click.echo("  Pliego: " + ", ".join(
            f"{p['code']} ({printable(p['status'])})" for p in data["pliego"]))
    click.echo("  Detalle:")
    for line in (data["detail"] or "").splitlines():
        click.echo(f"    {printable(line)}")
    click.echo("  Bitácora:")
    for entry in data["logbook"]:
        for line in entry_lines(app, entry):
            click.echo(line)


def entry_lines(app: App, e: dict) -> list[str]:
    """A logbook entry as terminal lines: ``[time] kind (author): first line``, then the other lines
    of its text and the names of its attachments, indented under it."""
    if e["kind"] == "change":
        old, new = e["old"], e["new"]
        if e["field"] in TIMESTAMP_FIELDS:
            old, new = (app.local_time(v) if v else None for v in (old, new))
        lines = [f"{CHANGE_LABELS.get(e['field'], e['field'])}: {old or '—'} → {new or '—'}"]
    else:
        lines = (e["text"] or "").splitlines() or [""]
    kind = ENTRY_LABELS.get(e["kind"], e["kind"])
    if e["kind"] == "comment":
        kind += " público" if e["public"] else " interno"
    who = f" ({printable(e['author'])})" if e["author"] else ""
    out = [f"    [{app.local_time(e['at'])}] {kind}{who}: {printable(lines[0])}"]
    out += [f"      {printable(line)}".rstrip() for line in lines[1:]]
    files = [a for a in e["attachments"] if not a["inline"]]  # images shown in a mail's body are not files
    if files:
        names = ", ".join(printable(a["name"]) for a in files)
        out.append(f"      adjuntos: {names}")
    return out


def ticket_action(app: App, code: str, act: Callable[[Session, Ticket], str]) -> None:
    """Run ``act(session, ticket)`` in one transaction, print the line it returns, then send (or
    enqueue) the mail it queued."""
    with app.sessions.begin() as s:
        ticket = get_ticket(s, code, app.settings.code_prefix)
        line = act(s, ticket)
    click.echo(line)
    app.send_queued()


def staff_user(s: Session, email: str | None, option_name: str = "--by") -> User | None:
    """The active staff user with this email (None when no email is given). Raises CliError."""
    if not email:
        return None
    user = find_user_by_email(s, email)
    if user is None:
        raise CliError(f"{option_name}: no existe el usuario activo {email}")
    return user


BY_HELP = "Correo del usuario del personal que lo hace (queda en la bitácora)."


@command()
@click.argument("code")
@click.argument("email")
@option("--by", "by_email", default=None, metavar="CORREO", help=BY_HELP)
@pass_app
def assign(app: App, code: str, email: str, by_email: str | None) -> None:
    """Asigna la atención CODE al usuario del personal con correo EMAIL (se le avisa por correo;
    Registrado pasa a Asignado)."""

    def act(s: Session, ticket: Ticket) -> str:
        user = find_user_by_email(s, email)
        if user is None:
            raise ServiceError(f"no existe el usuario activo {email}")
        services.assign(s, app.ctx, ticket, user, by=staff_user(s, by_email))
        return f"{ticket.code} asignada a {user.name} <{user.email}> ({ticket.status.name})"

    ticket_action(app, code, act)


@command()
@click.argument("code")
@click.argument("name")
@option("--by", "by_email", default=None, metavar="CORREO", help=BY_HELP)
@pass_app
def status(app: App, code: str, name: str, by_email: str | None) -> None:
    """Cambia el estado de la atención CODE a NAME; el solicitante recibe un correo cuando el estado
    lo indica.

    NAME: Registrado, Asignado, "En proceso", Atendido, Cerrado, Anulado… (sin distinguir mayúsculas
    ni tildes).
    """

    def act(s: Session, ticket: Ticket) -> str:
        services.set_status(s, app.ctx, ticket, name, by=staff_user(s, by_email))
        return f"{ticket.code}: {ticket.status.name}"

    ticket_action(app, code, act)


@command()
@click.argument("code")
@click.argument("text")
@option("--public", is_flag=True, help="Público: también se envía por correo al solicitante.")
@option("--by", "by_email", default=None, metavar="CORREO",
        help="Correo del usuario del personal que lo escribe (sin él: «operador (CLI)»).")
@pass_app
def comment(app: App, code: str, text: str, public: bool, by_email: str | None) -> None:
    """Agrega un comentario del personal a la atención CODE: interno, salvo con --public."""
    text = text.strip()
    if not text:
        raise CliError("TEXT: el comentario está vacío")

    def act(s: Session, ticket: Ticket) -> str:
        user = staff_user(s, by_email)
        entry_id = services.add_comment(s, app.ctx, ticket, text=text, author_user=user, staff=True,
                                        author_name=None if user else "operador (CLI)", public=public)
        return f"{ticket.code}: comentario #{entry_id} ({'público' if public else 'interno'})"

    ticket_action(app, code, act)


#: `set`'s options: (option, service field, metavar, help).
SET_OPTIONS = (
    ("--type", "type", "TIPO", "Tipo de atención (cambia el plazo de la atención)."),
    ("--category", "category", "CATEGORÍA", "Categoría (\"\": ninguna)."),
    ("--priority", "priority", "PRIORIDAD", "Prioridad: Baja, Media, Alta, Urgente…"),
    ("--kind", "kind", "FORMULARIO", "Formulario: atencion, reclamo o solicitud."),
    ("--area", "area", "ÁREA", "Área (\"\": ninguna)."),
    ("--attended-at", "attended_at", "FECHA", "Fecha de atención AAAA-MM-DD en la zona configurada (\"\": quitarla)."),
    ("--observation", "observation", "TEXTO", "Observación/Respuesta (\"\": quitarla)."),
)


def _set_options(fn):
    for flag, field, metavar, help_ in reversed(SET_OPTIONS):
        fn = option(flag, field, default=None, metavar=metavar, help=help_)(fn)
    return fn


@command("set")
@click.argument("code")
@_set_options
@option("--by", "by_email", default=None, metavar="CORREO", help=BY_HELP)
@pass_app
def set_(app: App, code: str, by_email: str | None, **values) -> None:
    """Cambia el tipo, la categoría, la prioridad, el formulario, el área, la fecha de atención o
    la observación de la atención CODE (cada cambio queda en el historial; nadie recibe correo)."""
    values = {k: v for k, v in values.items() if v is not None}
    if not values:
        raise CliError("indique al menos un campo a cambiar (--type, --category, --priority, --kind, "
                       "--area, --attended-at, --observation)")
    day = None
    if values.get("attended_at"):
        try:
            day = date.fromisoformat(values["attended_at"].strip())
        except ValueError:
            raise CliError(f"--attended-at: fecha no válida '{values['attended_at']}' (use AAAA-MM-DD)") from None

    def act(s: Session, ticket: Ticket) -> str:
        if "attended_at" in values:
            values["attended_at"] = edits.attended_datetime(day, ticket.attended_at, app.zone)
        try:
            changed = edits.set_fields(s, app.ctx, ticket, by=staff_user(s, by_email), **values)
        except FieldError as exc:
            flag = next(f for f, name, *_ in SET_OPTIONS if name == exc.field)
            raise CliError(f"{flag}: {exc.message}") from exc
        if not changed:
            return f"{ticket.code}: sin cambios"
        return f"{ticket.code}: " + ", ".join(CHANGE_LABELS.get(f, f) for f in changed) + " cambiados"

    ticket_action(app, code, act)


COMMANDS = (show, assign, status, comment, set_)
