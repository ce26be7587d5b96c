"""Held messages ("Correos retenidos"): `held list`, `held release ID`, `held discard ID`."""

from __future__ import annotations

import click

from mail.inbound.ingest import ReleaseError, release_held
from mail.mailboxes import import_rules
from tickets.held import REASON_LABELS, discard_held, get_pending_held, list_held, state_label
from tickets.services import get_ticket
from worker.cli.app import App, CliError, echo_json, pass_app, printable
from worker.cli.spanish import Int, group, option

#: Characters of a held message's text that `held list --json` includes.
MAX_TEXT_CHARS = 2000

HELD_ID = Int(min=1, max=2**62)


@group()
def held() -> None:
    """Correos retenidos para revisión: remitentes no autorizados, mensajes ilegibles o demasiado grandes."""


@held.command("list")
@option("--json", "as_json", is_flag=True, help="Imprime la lista en JSON (para programas).")
@option("--all", "show_all", is_flag=True, help="También los ya liberados y descartados.")
@pass_app
def held_list(app: App, as_json: bool, show_all: bool) -> None:
    """Lista los correos retenidos que esperan una decisión (con --all, todos)."""
    with app.reader.begin() as s:
        rows = [{"id": h.id, "reason": h.reason, "from": h.from_addr, "subject": h.subject,
                 "received_at": app.local_iso(h.received_at), "text": (h.text or "")[:MAX_TEXT_CHARS],
                 "state": h.state, "detail": h.detail}
                for h in list_held(s, include_resolved=show_all)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no hay correos retenidos")
        return
    state_column = f"{'Estado':<11} " if show_all else ""
    click.echo(f"{'ID':>5}  {state_column}{'Recibido':<16}  {'Motivo':<28} {'Remitente':<35} Asunto")
    for r in rows:
        reason = REASON_LABELS.get(r["reason"], r["reason"])
        state = f"{state_label(r['state']):<11} " if show_all else ""
        click.echo(f"{r['id']:>5}  {state}{app.local_time(r['received_at']):<16}  {reason:<28} "
                   f"{printable(r['from'] or '-'):<35} {printable(r['subject'])[:60]}")


@held.command("release")
@click.argument("held_id", metavar="ID", type=HELD_ID)
@option("--to", "to_code", default=None, metavar="CÓDIGO",
        help="Agregarlo como comentario a esta atención (por defecto: la que nombra, si nombra una).")
@pass_app
def held_release(app: App, held_id: int, to_code: str | None) -> None:
    """Libera el correo retenido ID: un comentario (en --to o en la atención que nombra; su
    remitente queda autorizado en ella) o, si no nombra ninguna, una nueva atención."""
    try:
        with app.sessions.begin() as s:
            row = get_pending_held(s, held_id)
            ticket = get_ticket(s, to_code, app.settings.code_prefix) if to_code else None
            result = release_held(s, app.ctx, import_rules(app.settings), row, ticket)
    except ReleaseError as exc:
        raise CliError(str(exc)) from exc
    what = "comentario en" if result.outcome.value == "comment" else "nueva atención"
    click.echo(f"correo {held_id} liberado: {what} {result.code}")
    app.send_queued()


@held.command("discard")
@click.argument("held_id", metavar="ID", type=HELD_ID)
@pass_app
def held_discard(app: App, held_id: int) -> None:
    """Descarta el correo retenido ID (su registro y el original se conservan; si nombraba una
    atención, una nota en su bitácora lo dice)."""
    with app.sessions.begin() as s:
        discard_held(s, held_id)
    click.echo(f"correo {held_id} descartado")


COMMANDS = (held,)
