"""Mail in: `poll`, `import`, `parse`, `run` (and the loop `demo` shares with `run`)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from email.parser import BytesHeaderParser
from pathlib import Path
from urllib.parse import urlsplit

import click
import dramatiq
from rich.progress import Progress

from mail.inbound.explain import explain
from mail.inbound.poller import poll_mailbox, process_source
from mail.inbound.sources import FileSource, SourceError
from mail.mailboxes import ConfigError, MailboxConfig, import_rules, load_mailboxes
from tickets.held import REASON_LABELS as HELD_REASONS
from tickets.queries import Filters, iter_ticket_rows
from tickets.text import plural
from worker.cli.app import App, CliError, echo_json, pass_app, printable
from worker.cli.spanish import Float, PathArg, command, option
from worker.cli.web import bind_panel, host_option, panel_address, port_option, start_panel_thread
from worker.outbound import QUEUE
from worker.scheduler import make_scheduler

log = logging.getLogger(__name__)

#: Outcomes in the order the counts line shows them, with their Spanish labels.
OUTCOME_LABELS = {"ticket": "atenciones", "comment": "comentarios", "duplicate": "duplicados",
                  "ignored": "ignorados", "held": "retenidos"}


def counts_line(processed: int, counts: Mapping[str, int]) -> str:
    """``3 mensajes — atenciones: 3, comentarios: 0, duplicados: 0, ignorados: 0, retenidos: 0``."""
    return (f"{plural(processed, 'mensaje', 'mensajes')} — "
            + ", ".join(f"{label}: {counts.get(key, 0)}" for key, label in OUTCOME_LABELS.items()))


def configured_mailboxes(app: App, only: str | None = None) -> list[MailboxConfig]:
    """The configured mailboxes (``only``: the one with that name). Raises CliError when none is."""
    try:
        mailboxes = load_mailboxes(app.settings)
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    if not mailboxes:
        raise CliError("no hay buzones configurados (ATENCION_IMAP_URL o ATENCION_CONFIG)")
    if only:
        mailboxes = [m for m in mailboxes if m.name == only]
        if not mailboxes:
            raise CliError(f"--mailbox: no existe el buzón '{only}'")
    return mailboxes


def long_running_logs() -> None:
    """Warnings and errors of a long-running loop go to stderr (unless -v asked for more)."""
    root = logging.getLogger()
    if root.level > logging.WARNING:
        root.setLevel(logging.WARNING)


@command()
@option("--once", is_flag=True, help="Una pasada por cada buzón y termina (sale con 1 si alguno falló).")
@option("--mailbox", "mailbox_name", default=None, metavar="NOMBRE", help="Solo el buzón con este nombre.")
@pass_app
def poll(app: App, once: bool, mailbox_name: str | None) -> None:
    """Lee el correo nuevo de los buzones configurados: procesa cada mensaje en una transacción y,
    después de confirmarla, lo marca o lo mueve en el servidor. Sin --once, repite cada
    ATENCION_POLL_INTERVAL_S segundos."""
    mailboxes = configured_mailboxes(app, mailbox_name)
    if not once:
        long_running_logs()
    failed = False
    while True:
        for mb in mailboxes:
            report = poll_mailbox(app.sessions, app.ctx, app.settings, mb)
            if report.error:
                failed = True
                click.echo(f"{mb.name}: error: {report.error}", err=True)
            elif report.locked_out:
                click.echo(f"{mb.name}: otro proceso lo está leyendo")
            else:
                click.echo(f"{mb.name}: {counts_line(report.processed, report.counts)}")
        app.send_queued()
        if once:
            app.close()
            sys.exit(1 if failed else 0)
        time.sleep(app.settings.poll_interval_s)


@command("import")
@click.argument("paths", nargs=-1, required=True, type=PathArg())
@option("--mailbox", "mailbox_name", default="import", show_default=True, metavar="NOMBRE",
        help="Nombre con que se registra el buzón de origen.")
@option("--no-notify", "no_notify", is_flag=True,
        help="No envía ningún correo (acuses, avisos): para importar un archivo de correo antiguo.")
@pass_app
def import_(app: App, paths: tuple[Path, ...], mailbox_name: str, no_notify: bool) -> None:
    """Importa PATHS (archivos .eml, carpetas de .eml, un Maildir o un mbox) por el mismo proceso
    que el correo del servidor, en orden de nombre de archivo, con barra de progreso. Muestra
    cuántos mensajes fueron atenciones, comentarios, duplicados, ignorados y retenidos, y envía
    los acuses de recibo (salvo con --no-notify)."""
    rules = import_rules(app.settings)
    try:
        source = FileSource(list(paths), max_bytes=rules.max_message_bytes)
    except SourceError as exc:
        raise CliError(str(exc)) from exc
    total = source.count()
    with Progress(transient=False, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("Importando", total=total)
        report = process_source(app.sessions, replace(app.ctx, notify=not no_notify), rules, source,
                                mailbox_name, checkpoint=False, on_result=lambda _r: progress.advance(task))
    click.echo(counts_line(report.processed, report.counts))
    if not no_notify:
        app.send_queued()
    if report.unreadable:
        for line in report.unreadable[:20]:
            click.echo(f"no leído: {line}", err=True)
        n = len(report.unreadable)
        raise CliError(f"{plural(n, 'archivo no se pudo leer', 'archivos no se pudieron leer')} "
                       "(el resto se importó)")


#: What each outcome and reason of the rule chain means, in the users' words (`parse`).
DECISION_LABELS = {"ticket": "nueva atención", "comment": "comentario", "duplicate": "duplicado",
                   "ignored": "ignorado", "held": "retenido"}
REASON_LABELS = {**HELD_REASONS, "auto_reply": "respuesta automática", "bulk": "correo masivo",
                 "own_address": "enviado por nuestra propia dirección (bucle)", "bounce": "rebote",
                 "delivery_notice": "aviso de demora o entrega (no es un rebote)",
                 "forwarded_by_staff": "reenviado por el personal",
                 "calendar_reply": "respuesta de calendario (anotada en su evento)"}


def describe_decision(result: dict) -> str:
    """``comentario en AT-000001``, ``ignorado: respuesta automática``… (one line, Spanish)."""
    outcome = DECISION_LABELS.get(result["outcome"], result["outcome"])
    reason = result["reason"] or ""
    if reason.startswith(("linked_to_", "follow_up_of_")):
        reason = f"sigue a {reason.rsplit('_', 1)[1]}"
    reason = REASON_LABELS.get(reason, reason)
    where = f" en {result['ticket']}" if result["ticket"] and result["outcome"] == "comment" else ""
    about = f" (sobre {result['ticket']})" if result["ticket"] and result["outcome"] != "comment" else ""
    return f"{outcome}{where}{': ' + reason if reason else ''}{about} [regla {result['rule']}]"


@command("parse")
@click.argument("paths", nargs=-1, required=True, type=PathArg())
@option("--json", "as_json", is_flag=True, help="Una lista JSON, un objeto por mensaje.")
@pass_app
def parse_(app: App, paths: tuple[Path, ...], as_json: bool) -> None:
    """Muestra cómo se lee cada mensaje de PATHS (archivos .eml, carpetas, un Maildir o un mbox) y
    qué decidirían las reglas con la base de datos actual, sin escribir nada: la herramienta para
    saber por qué un correo terminó como terminó."""
    rules = import_rules(app.settings).resolved(app.sessions)
    try:
        source = FileSource(list(paths), max_bytes=rules.max_message_bytes)
    except SourceError as exc:
        raise CliError(str(exc)) from exc
    results = []
    with app.reader() as session:
        for item in source.pending():
            if item.error is not None:
                raise CliError(item.error)
            raw = item.raw if item.raw is not None else b"x" * (rules.max_message_bytes + 1)
            results.append({"file": item.ref, **explain(session, raw, rules)})
        session.rollback()  # nothing is written; the rules only read
    if as_json:
        echo_json(results)
        return
    for r in results:
        click.echo(printable(r["file"]))
        sender = f"{r['from_name']} <{r['from']}>" if r["from_name"] else (r["from"] or "(sin remitente)")
        click.echo(f"  De: {printable(sender)}")
        if r["requester"] and r["requester"] != r["from"]:
            click.echo(f"  Solicitante: {printable(r['requester'])}")
        click.echo(f"  Asunto: {printable(r['subject'])}")
        click.echo(f"  Resultado: {describe_decision(r)}")
        for a in r["attachments"]:
            where = "en el cuerpo, " if a["inline"] else ""
            click.echo(f"  Adjunto: {printable(a['name'])} ({where}{a['content_type']}, {a['size']} bytes)")
        comment = r["outcome"] == "comment"
        click.echo("  Texto del comentario:" if comment else "  Texto:")
        for line in ((r["new_text"] if comment else r["text"]) or "(vacío)").splitlines():
            click.echo(f"    {printable(line)}")


def print_ticket_lines(app: App, codes: Iterable[str] | None = None) -> None:
    """One line per ticket (``codes``: only these), in code order: code, subject, requester, status,
    elapsed days, alert — never wrapped, whatever the terminal's width."""
    wanted = None if codes is None else set(codes)
    with app.reader.begin() as s:
        rows = list(iter_ticket_rows(s, Filters(), tz=app.settings.timezone,
                                     prefix=app.settings.code_prefix, order="code"))
    for r in rows:
        if wanted is not None and r.code not in wanted:
            continue
        subject = printable((r.subject or "").replace("\n", " "))
        subject = subject if len(subject) <= 50 else subject[:49] + "…"
        requester = printable(r.requester_name or r.requester_email or "")
        click.echo(f"{r.code}  {subject:<50}  {requester[:28]:<28}  {r.status:<11}  "
                   f"{r.elapsed_days:>3} d  {r.alert}")


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it is under it (``var/outbox``), else absolute."""
    path = path.resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def send_and_tell(app: App, what: str) -> None:
    """Send the mail queued so far and say so in one Spanish line starting with ``what``.

    Without a broker the mail is sent here: with no ``ATENCION_SMTP_URL`` the line counts the .eml
    files this call wrote and names their folder (``…: 13 correos en var/outbox/ (ábralos con su
    cliente de correo)``), with one it counts the recipients the server accepted (``… a 16
    destinatarios por smtp.example.com:587``). With Redis the
    workers send it and nothing is printed. A copy that failed for good is reported on stderr.
    """
    if not app.outbound.in_process:
        app.send_queued()  # Redis's workers send it (a broker that is down is one warning line)
        return
    folder = Path(app.settings.data_dir) / "outbox"
    before = set(folder.glob("*.eml")) if folder.is_dir() else set()
    report = app.outbound.send_pending()
    app.warn_failed(report)
    if app.settings.smtp_url:
        if report.sent:
            server = urlsplit(app.settings.smtp_url)
            host = f"{server.hostname}:{server.port}" if server.port else server.hostname
            click.echo(f"{what} a {plural(len(report.sent), 'destinatario', 'destinatarios')} por {host}")
        return
    written = sorted(set(folder.glob("*.eml")) - before) if folder.is_dir() else []
    if not written:
        return
    mails = len({_message_id(f) for f in written})  # the copies of one mail share its Message-ID
    copies = "" if mails == len(written) else f" ({len(written)} archivos .eml, uno por destinatario)"
    click.echo(f"{what}: {plural(mails, 'correo', 'correos')}{copies} en {shown_path(folder)}/ "
               f"({'ábralo' if len(written) == 1 else 'ábralos'} con su cliente de correo)")


def _message_id(eml: Path) -> str:
    with eml.open("rb") as f:
        return str(BytesHeaderParser().parse(f).get("Message-ID", eml.name))


def run_loop(app: App, mailboxes: list[MailboxConfig], interval_s: float, panel=None) -> None:
    """The embedded default: poll the mailboxes every ``interval_s`` seconds and print what
    arrives, with a Dramatiq worker (in-process broker, or Redis when configured), the
    scheduler (sweep, digest) and, when given, the panel (a bound waitress server:
    `worker.cli.web.bind_panel`) in background threads of this process, until Ctrl-C. Without a
    broker the loop itself sends after each pass — what the pass queued and any retry that came
    due —, so its "Correo enviado" line counts what went out and no sweep races with it."""
    long_running_logs()
    if panel is not None:
        start_panel_thread(panel)
    worker = dramatiq.Worker(app.outbound.broker, queues={QUEUE}, worker_threads=2, worker_timeout=200)
    worker.start()
    scheduler = make_scheduler(app.outbound, background=True, sweep=not app.outbound.in_process)
    scheduler.start()
    try:
        while True:
            any_processed = False
            for mb in mailboxes:
                new_codes: set[str] = set()
                try:
                    report = poll_mailbox(app.sessions, app.ctx, app.settings, mb,
                                          on_result=lambda r, codes=new_codes: codes.add(r.code) if r.code else None)
                except Exception as exc:  # e.g. the database is down: say so, try again next round
                    log.exception("poll of %s failed", mb.name)
                    click.echo(f"{mb.name}: error: {str(exc).splitlines()[0] if str(exc) else exc!r}", err=True)
                    continue
                any_processed = any_processed or bool(report.processed)
                if report.error:
                    click.echo(f"{mb.name}: error: {report.error}", err=True)
                elif report.processed:
                    click.echo(counts_line(report.processed, report.counts))
                    print_ticket_lines(app, new_codes)
            if app.outbound.in_process or any_processed:
                try:
                    send_and_tell(app, "Correo enviado")  # in process now, or Redis's workers
                except Exception as exc:  # the database is down: the rows wait, the next pass tries again
                    log.exception("sending the outbox failed")
                    click.echo(f"envío: error: {str(exc).splitlines()[0] if str(exc) else exc!r}", err=True)
            time.sleep(interval_s)
    except KeyboardInterrupt:
        click.echo("\nhasta luego")
    finally:
        if panel is not None:
            panel.close()
        scheduler.shutdown(wait=False)
        worker.stop()
        app.close()


@command()
@option("--interval", "interval_s", default=None, type=Float(min=0.1), metavar="SEGUNDOS",
        help="Segundos entre dos lecturas (por defecto: ATENCION_POLL_INTERVAL_S).")
@host_option
@port_option
@pass_app
def run(app: App, interval_s: float | None, host: str, port: int) -> None:
    """El modo integrado: lee todos los buzones configurados, envía el correo saliente (con el
    barrido y el resumen diario) y sirve el panel web en --host:--port, en un solo proceso, hasta
    Ctrl-C."""
    mailboxes = configured_mailboxes(app)
    panel = bind_panel(app.settings, host, port)
    click.echo(f"panel web en {panel_address(panel, host)}")
    run_loop(app, mailboxes, interval_s or app.settings.poll_interval_s, panel)


COMMANDS = (poll, import_, parse_, run)
