"""Outbound mail: `worker`, `scheduler`, `send-pending`, and `outbox list|retry|bounced|clear-bounce`."""

from __future__ import annotations

import signal
import threading

import click
import dramatiq

from tickets import outbox
from worker.cli.app import App, CliError, echo_json, pass_app, printable
from worker.cli.mail import long_running_logs
from worker.cli.spanish import Int, OneOf, command, group, option
from worker.outbound import QUEUE
from worker.scheduler import make_scheduler


def wait_for_signal() -> None:
    """Block until SIGTERM or SIGINT (Ctrl-C)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass


def start_worker(app: App, threads: int) -> dramatiq.Worker:
    """A Dramatiq worker on this process's broker (Redis, or the in-process one), started."""
    worker = dramatiq.Worker(app.outbound.broker, queues={QUEUE}, worker_threads=threads, worker_timeout=200)
    worker.start()
    return worker


@command()
@option("--threads", default=4, show_default=True, type=Int(min=1, max=64), metavar="N",
        help="Hilos que envían a la vez (cada uno con su conexión SMTP).")
@pass_app
def worker(app: App, threads: int) -> None:
    """Envía el correo saliente que llega por la cola de Redis (ATENCION_BROKER_URL), hasta
    Ctrl-C o SIGTERM. Arranque tantos procesos como quiera, en uno o varios servidores."""
    if not app.settings.broker_url:
        raise CliError("sin ATENCION_BROKER_URL no hay cola que atender: 'atencion run' envía el correo "
                       "en su propio proceso (o use 'atencion send-pending')")
    long_running_logs()
    w = start_worker(app, threads)
    click.echo(f"worker: {threads} hilos atendiendo la cola '{QUEUE}' en {app.settings.broker_url.split('@')[-1]}")
    try:
        wait_for_signal()
    finally:
        w.stop()
        app.close()


@command()
@pass_app
def scheduler(app: App) -> None:
    """Tareas periódicas: barrido del correo saliente pendiente (cada ATENCION_SWEEP_INTERVAL_S),
    resumen diario de atenciones vencidas (ATENCION_DIGEST_TIME, días hábiles) y recordatorios de
    eventos (ATENCION_EVENT_REMINDER_HOURS antes), hasta Ctrl-C."""
    long_running_logs()
    click.echo(f"scheduler: barrido cada {app.settings.sweep_interval_s:g} s, resumen diario a las "
               f"{app.settings.digest_time} ({app.settings.timezone})")
    sched = make_scheduler(app.outbound, background=False)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sched.shutdown(wait=False))
    try:
        sched.start()
    finally:
        app.close()


@command("send-pending")
@pass_app
def send_pending(app: App) -> None:
    """Envía ahora, en este proceso, todo el correo saliente pendiente y termina (sale con 1 si
    alguno falló de forma definitiva en esta pasada)."""
    try:
        report = app.outbound.send_pending()
    finally:
        app.close()
    waiting = len(report.retried) + len(report.postponed)
    click.echo(f"enviados: {len(report.sent)}; fallidos: {len(report.failed)}; en espera: {waiting}")
    for row_id, error in sorted(report.failed.items()):
        click.echo(f"  {row_id}: {printable(error)}", err=True)
    if report.failed:
        raise SystemExit(1)


@group("outbox")
def outbox_group() -> None:
    """El correo saliente: ver su estado y reintentar el fallido."""


@outbox_group.command("list")
@option("--state", default=None, type=OneOf(tuple(outbox.STATE_LABELS)), help="Solo los de este estado.")
@option("--limit", default=50, show_default=True, type=Int(min=1), metavar="N", help="Cuántos mostrar.")
@option("--json", "as_json", is_flag=True, help="Imprime la lista en JSON.")
@pass_app
def outbox_list(app: App, state: str | None, limit: int, as_json: bool) -> None:
    """Lista el correo saliente, el más nuevo primero: una copia por destinatario."""
    with app.reader() as s:
        rows = outbox.rows(s, state=state, limit=limit)
        codes = {r.id: r.ticket.code if r.ticket else None for r in rows}
    data = [{"id": r.id, "ticket": codes[r.id], "event": r.event, "to": r.recipient, "state": r.state,
             "attempts": r.attempts, "error": r.last_error, "message_id": r.message_id,
             "created_at": app.local_iso(r.created_at), "sent_at": app.local_iso(r.sent_at)} for r in rows]
    if as_json:
        echo_json(data)
        return
    if not data:
        click.echo("no hay correo saliente" + (f" {outbox.STATE_LABELS[state]}" if state else ""))
        return
    for d in data:
        label = outbox.EVENT_LABELS.get(d["event"], d["event"])
        line = (f"{d['id']:>6}  {app.local_time(d['created_at'])}  {d['ticket'] or '—':<10}  "
                f"{outbox.STATE_LABELS.get(d['state'], d['state']):<9}  {printable(d['to'])}  ({label})")
        click.echo(line)
        if d["error"] and d["state"] in ("failed", "bounced", "pending"):
            click.echo(f"        {printable(d['error'])}")


@outbox_group.command("retry")
@click.argument("row_id", metavar="ID", type=Int(min=1))
@pass_app
def outbox_retry(app: App, row_id: int) -> None:
    """Vuelve a enviar el correo saliente ID (fallido o rebotado)."""
    with app.sessions.begin() as s:
        try:
            row = outbox.retry(s, row_id)
        except (LookupError, ValueError) as exc:
            raise CliError(str(exc)) from exc
        to = row.recipient
    click.echo(f"{row_id}: pendiente otra vez, para {to}")
    app.send_queued()


@outbox_group.command("bounced")
@option("--json", "as_json", is_flag=True, help="Imprime la lista en JSON.")
@pass_app
def outbox_bounced(app: App, as_json: bool) -> None:
    """Las direcciones marcadas como rebotadas (no reciben correo hasta quitar la marca)."""
    with app.reader() as s:
        rows = outbox.bounced(s)
        data = [{"email": r.email, "flagged_at": app.local_iso(r.flagged_at), "diagnostic": r.diagnostic,
                 "outbox_id": r.outbox_id} for r in rows]
    if as_json:
        echo_json(data)
        return
    if not data:
        click.echo("no hay direcciones rebotadas")
    for d in data:
        click.echo(f"{printable(d['email'])}  {app.local_time(d['flagged_at'])}  {printable(d['diagnostic'] or '')}")


@outbox_group.command("clear-bounce")
@click.argument("email", metavar="CORREO")
@pass_app
def outbox_clear_bounce(app: App, email: str) -> None:
    """Quita la marca de rebote de CORREO: vuelve a recibir correo."""
    with app.sessions.begin() as s:
        if not outbox.clear_bounce(s, email):
            raise CliError(f"{email} no está marcado como rebotado")
    click.echo(f"{email.strip().lower()}: recibe correo otra vez")


COMMANDS = (worker, scheduler, send_pending, outbox_group)
