"""Follow-ups (Seguimiento) from the terminal: `follow-up add CODE`, `follow-up edit ID`,
`follow-up done ID`, `follow-up list [CODE]` — through `tickets.follow_ups`, so they write the bitácora and the history
as the panel does. Dates are ``AAAA-MM-DD``, "today" is the configured zone's."""

from __future__ import annotations

from datetime import date

import click

from tickets import follow_ups
from tickets.models import FollowUp
from tickets.services import FieldError, find_user_by_email, get_ticket
from tickets.sla import local_today
from worker.cli.app import App, CliError, echo_json, pass_app, printable
from worker.cli.spanish import Int, group, option
from worker.cli.tickets import BY_HELP, CHANGE_LABELS, staff_user

FOLLOW_UP_ID = Int(min=1, max=2**62)

# `show`'s names for a follow-up's history fields (`tickets.follow_ups` writes ``follow_up_<field>``)
for _field, _label in {"follow_up_due_date": "seguimiento: vencimiento", "follow_up_owner": "seguimiento: responsable",
                       "follow_up_note": "seguimiento: nota", "follow_up_done": "seguimiento"}.items():
    CHANGE_LABELS[_field] = _label

#: The service's field names as this command's options.
FLAGS = {"due_date": "--due", "note": "--note", "owner": "--owner"}


def _as_dict(app: App, fu: FollowUp, today: date) -> dict:
    return {"id": fu.id, "code": fu.ticket.code, "due_date": fu.due_date.isoformat(), "note": fu.note,
            "owner": fu.owner.name, "owner_email": fu.owner.email, "done": fu.done,
            "done_at": app.local_iso(fu.done_at), "overdue": follow_ups.is_overdue(fu, today)}


def _parse_due(due: str) -> date:
    try:
        return date.fromisoformat(due.strip())
    except ValueError:
        raise CliError(f"--due: fecha no válida '{due}' (use AAAA-MM-DD)") from None


@group("follow-up")
def follow_up() -> None:
    """Seguimientos de las atenciones: fecha de vencimiento, nota, responsable y hecho."""


@follow_up.command("add")
@click.argument("code")
@option("--due", "due", required=True, metavar="AAAA-MM-DD", help="Fecha de vencimiento (hoy o después).")
@option("--note", "note", required=True, metavar="TEXTO", help="Qué hay que hacer.")
@option("--owner", "owner_email", default=None, metavar="CORREO",
        help="Responsable (por defecto, el usuario asignado a la atención; si no tiene, el de --by).")
@option("--by", "by_email", default=None, metavar="CORREO", help=BY_HELP)
@pass_app
def follow_up_add(app: App, code: str, due: str, note: str, owner_email: str | None, by_email: str | None) -> None:
    """Agrega un seguimiento a la atención CODE (queda en la bitácora; el responsable recibe un
    recordatorio por correo el día del vencimiento). El responsable: --owner, si no el usuario
    asignado, si no quien lo agrega (--by), como el panel propone a quien lo escribe."""
    due_date = _parse_due(due)
    with app.sessions.begin() as s:
        ticket = get_ticket(s, code, app.settings.code_prefix)
        by = staff_user(s, by_email)
        if owner_email:
            owner = find_user_by_email(s, owner_email)
            if owner is None:
                raise CliError(f"--owner: no existe el usuario activo {owner_email}")
        elif ticket.assignee is not None:
            owner = ticket.assignee
        elif by is not None:
            owner = by
        else:
            raise CliError("--owner: la atención no tiene usuario asignado; indique el responsable "
                           "(--owner CORREO) o quién lo agrega (--by CORREO)")
        try:
            fu = follow_ups.add_follow_up(s, ticket, due_date=due_date, note=note, owner=owner,
                                          by=by, today=local_today(app.settings.timezone))
        except FieldError as exc:
            raise CliError(f"{FLAGS.get(exc.field, exc.field)}: {exc.message}") from exc
        line = f"seguimiento {fu.id} en {ticket.code}: vence {fu.due_date.isoformat()}, a cargo de {fu.owner.name}"
    click.echo(line)


@follow_up.command("edit")
@click.argument("follow_up_id", metavar="ID", type=FOLLOW_UP_ID)
@option("--due", "due", default=None, metavar="AAAA-MM-DD", help="Nueva fecha de vencimiento (hoy o después).")
@option("--note", "note", default=None, metavar="TEXTO", help="Nueva nota.")
@option("--owner", "owner_email", default=None, metavar="CORREO", help="Nuevo responsable.")
@option("--by", "by_email", default=None, metavar="CORREO", help=BY_HELP)
@pass_app
def follow_up_edit(app: App, follow_up_id: int, due: str | None, note: str | None, owner_email: str | None,
                   by_email: str | None) -> None:
    """Cambia la fecha, la nota o el responsable del seguimiento ID (cada cambio queda en el
    historial; una nueva fecha o un nuevo responsable vuelven a programar el recordatorio)."""
    if due is None and note is None and owner_email is None:
        raise CliError("indique al menos un campo a cambiar (--due, --note, --owner)")
    due_date = _parse_due(due) if due is not None else None
    with app.sessions.begin() as s:
        fu = follow_ups.get_follow_up(s, follow_up_id)
        owner = None
        if owner_email:
            owner = find_user_by_email(s, owner_email)
            if owner is None:
                raise CliError(f"--owner: no existe el usuario activo {owner_email}")
        try:
            changed = follow_ups.edit_follow_up(s, fu, due_date=due_date, note=note, owner=owner,
                                                by=staff_user(s, by_email), today=local_today(app.settings.timezone))
        except FieldError as exc:
            raise CliError(f"{FLAGS.get(exc.field, exc.field)}: {exc.message}") from exc
        code = fu.ticket.code
    words = {"due_date": "fecha", "owner": "responsable", "note": "nota"}
    click.echo(f"seguimiento {follow_up_id} de {code}: "
               + (", ".join(words[f] for f in changed) + " cambiados" if changed else "sin cambios"))


@follow_up.command("done")
@click.argument("follow_up_id", metavar="ID", type=FOLLOW_UP_ID)
@option("--undo", is_flag=True, help="Lo vuelve a dejar pendiente.")
@option("--by", "by_email", default=None, metavar="CORREO", help=BY_HELP)
@pass_app
def follow_up_done(app: App, follow_up_id: int, undo: bool, by_email: str | None) -> None:
    """Marca como hecho el seguimiento ID (con --undo, pendiente otra vez)."""
    with app.sessions.begin() as s:
        fu = follow_ups.get_follow_up(s, follow_up_id)
        changed = follow_ups.set_done(s, fu, not undo, by=staff_user(s, by_email))
        code = fu.ticket.code
    word = "pendiente" if undo else "hecho"
    click.echo(f"seguimiento {follow_up_id} de {code}: {word}" + ("" if changed else " (ya lo estaba)"))


@follow_up.command("list")
@click.argument("code", required=False)
@option("--json", "as_json", is_flag=True, help="Imprime la lista en JSON (para programas).")
@pass_app
def follow_up_list(app: App, code: str | None, as_json: bool) -> None:
    """Los seguimientos de la atención CODE; sin CODE, los pendientes que vencen hoy o están vencidos."""
    today = local_today(app.settings.timezone)
    with app.reader.begin() as s:
        if code:
            rows = follow_ups.list_for_ticket(s, get_ticket(s, code, app.settings.code_prefix))
        else:
            rows = follow_ups.due_by(s, today)
        items = [_as_dict(app, fu, today) for fu in rows]
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo("no hay seguimientos" if code else "no hay seguimientos para hoy ni vencidos")
        return
    for i in items:
        state = "hecho" if i["done"] else ("VENCIDO" if i["overdue"] else "pendiente")
        click.echo(f"{i['id']:>5}  {i['code']}  {i['due_date']}  {state:<9}  {printable(i['owner']):<24} "
                   f"{printable(i['note']).replace(chr(10), ' ')[:80]}")


COMMANDS = (follow_up,)

__all__ = ["COMMANDS", "follow_up"]
