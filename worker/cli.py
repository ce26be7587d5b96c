"""The `atencion` command (DESIGN.md, "The atencion command").

Every subcommand reads the same configuration (`tickets.settings.Settings`), exits non-zero with a
one-line error on bad input (never a traceback), and where it prints data, ``--json`` prints JSON.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from pathlib import Path

import click
from pydantic import ValidationError

from tickets.settings import Settings, load_settings


class CliError(click.ClickException):
    """A one-line error for the user; exit code 1."""

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class App:
    """Lazily built process objects: settings, engine, session factory, service context."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._engine = None
        self._sessions = None

    @property
    def engine(self):
        if self._engine is None:
            from tickets.db import make_engine

            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def sessions(self):
        if self._sessions is None:
            from tickets.db import make_sessionmaker

            self._sessions = make_sessionmaker(self.engine)
        return self._sessions

    @property
    def reader(self):
        """Read-only sessions (SQLite: no write lock held while reading)."""
        from tickets.db import make_reader

        return make_reader(self.engine)

    @property
    def ctx(self):
        from tickets.services import Context

        return Context.from_settings(self.settings)


pass_app = click.make_pass_decorator(App)


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if is_dataclass(value):
        return asdict(value)
    return str(value)


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default))


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (INFO).")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Atención: tickets de postventa a partir del correo."""
    # one-shot commands print their own one-line results and errors; logs are for -v and for the
    # long-running `run` / `poll` loops (which raise the level themselves)
    logging.basicConfig(level=logging.INFO if verbose else logging.CRITICAL,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        ctx.obj = App(load_settings())
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "ATENCION_" + "_".join(str(p) for p in err["loc"]).upper()
        raise CliError(f"configuración no válida: {name}: {err['msg']} "
                       f"(valor {err.get('input')!r})") from exc


# --- schema, catalog, users --------------------------------------------------------------------------


@cli.command()
@pass_app
def migrate(app: App) -> None:
    """Create or upgrade the schema and seed the defaults."""
    from tickets.db import migrate as do_migrate

    do_migrate(app.engine)
    click.echo("esquema al día")


@cli.group()
def catalog() -> None:
    """Reference data (YAML)."""


@catalog.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def catalog_load(app: App, file: Path) -> None:
    """Load promoters, projects, units, clients, contracts, … from FILE (idempotent)."""
    from tickets.catalog import load_catalog

    if not file.exists():
        raise CliError(f"no existe el archivo {file}")
    with app.sessions.begin() as s:
        report = load_catalog(s, file)
    click.echo(f"catálogo cargado: {report.summary()}")


@cli.group()
def users() -> None:
    """Staff users."""


@users.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["admin", "agent", "legal"]), required=True)
@click.option("--area", default=None)
@click.option("--password", required=True)
@pass_app
def users_add(app: App, email: str, name: str, role: str, area: str | None, password: str) -> None:
    """Add or update a staff user (idempotent by email)."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from tickets.models import Area, User
    from tickets.services import require_by_name

    email = email.strip().lower()
    if "@" not in email:
        raise CliError(f"--email: correo no válido '{email}'")
    if len(password) < 8:
        raise CliError("--password: debe tener al menos 8 caracteres")
    with app.sessions.begin() as s:
        area_row = require_by_name(s, Area, area, "área") if area else None
        user = s.scalar(select(User).where(User.email == email))
        created = user is None
        if created:
            user = User(email=email)
            s.add(user)
        user.name, user.role, user.active = name, role, True
        if area_row is not None:
            user.area_id = area_row.id
        user.password_hash = generate_password_hash(password)
    click.echo(f"usuario {'creado' if created else 'actualizado'}: {email} ({role})")


# --- mail in --------------------------------------------------------------------------------------


def _print_counts(counts) -> None:
    order = ["ticket", "comment", "duplicate", "ignored", "held"]
    labels = {"ticket": "atenciones", "comment": "comentarios", "duplicate": "duplicados",
              "ignored": "ignorados", "held": "retenidos"}
    click.echo(", ".join(f"{labels[k]}: {counts.get(k, 0)}" for k in order))


@cli.command()
@click.option("--once", is_flag=True, help="One pass over every mailbox, then exit.")
@click.option("--mailbox", "mailbox_name", default=None, help="Only this mailbox.")
@pass_app
def poll(app: App, once: bool, mailbox_name: str | None) -> None:
    """Fetch new mail, process it, commit, then flag/move it on the server."""
    from mail.inbound.poller import poll_mailbox

    mailboxes = _mailboxes(app, mailbox_name)
    if not once:
        _long_running_logs()
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
                click.echo(f"{mb.name}: {report.processed} mensajes — ", nl=False)
                _print_counts(report.counts)
        if once:
            sys.exit(1 if failed else 0)
        time.sleep(app.settings.poll_interval_s)


def _mailboxes(app: App, only: str | None):
    from mail.mailboxes import ConfigError, load_mailboxes

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


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--mailbox", "mailbox_name", default="import", help="Name recorded as the mailbox.")
@pass_app
def import_(app: App, paths: tuple[Path, ...], mailbox_name: str) -> None:
    """Import .eml files, folders of them, a Maildir or an mbox through the same pipeline."""
    from rich.progress import Progress

    from mail.inbound.poller import process_source
    from mail.inbound.sources import FileSource, SourceError
    from mail.mailboxes import import_rules

    rules = import_rules(app.settings)
    try:
        source = FileSource(list(paths), max_bytes=rules.max_message_bytes)
    except SourceError as exc:
        raise CliError(str(exc)) from exc
    total = source.count()
    with Progress(transient=False, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("Importando", total=total)
        report = process_source(app.sessions, app.ctx, rules, source, mailbox_name, checkpoint=False,
                                on_result=lambda _r: progress.advance(task))
    click.echo(f"{report.processed} mensajes — ", nl=False)
    _print_counts(report.counts)
    if report.unreadable:
        for line in report.unreadable[:20]:
            click.echo(f"no leído: {line}", err=True)
        raise CliError(f"{len(report.unreadable)} archivo(s) no se pudieron leer (el resto se importó)")


# --- tickets ----------------------------------------------------------------------------------------


@cli.command()
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show(app: App, code: str, as_json: bool) -> None:
    """One ticket with its fields and its logbook."""
    from tickets.reports import ticket_detail

    with app.sessions.begin() as s:
        data = ticket_detail(s, app.settings, code)
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['code']}  {printable(data['subject'])}")
    for key, label in SHOW_FIELDS:
        value = data.get(key)
        if key in {"requested_at", "attended_at"} and value:
            value = local_time(app, value)
        click.echo(f"  {label}: {printable(str(value)) if value is not None else ''}")
    click.echo("  Detalle:")
    for line in (data["detail"] or "").splitlines()[:40]:
        click.echo(f"    {printable(line)}")
    click.echo("  Bitácora:")
    for e in data["logbook"]:
        if e["kind"] == "change":
            field = CHANGE_LABELS.get(e["field"], e["field"])
            text = f"{field}: {e['old'] or '—'} → {e['new'] or '—'}"
        else:
            text = (e["text"] or "").splitlines()[0] if e["text"] else ""
        who = f" ({printable(e['author'])})" if e["author"] else ""
        click.echo(f"    [{local_time(app, e['at'])}] {ENTRY_LABELS.get(e['kind'], e['kind'])}{who}: "
                   f"{printable(text)}")


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
                 "priority": "prioridad", "category": "categoría", "area": "área"}


def printable(text: str) -> str:
    """Text safe for a terminal: control characters (escape sequences) dropped."""
    return "".join(ch for ch in text if ch.isprintable() or ch == "\t")


def local_time(app: App, iso: str | None) -> str:
    """An ISO 8601 UTC timestamp as local 'AAAA-MM-DD HH:MM' in the configured zone."""
    if not iso:
        return "—"
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(iso).astimezone(ZoneInfo(app.settings.timezone)).strftime("%Y-%m-%d %H:%M")


def _ticket_action(app: App, code: str, fn) -> None:
    from tickets.services import ServiceError, get_ticket

    try:
        with app.sessions.begin() as s:
            ticket = get_ticket(s, code, app.settings.code_prefix)
            msg = fn(s, ticket)
    except ServiceError as exc:
        raise CliError(str(exc)) from exc
    click.echo(msg)


def _actor(s, email: str | None):
    from tickets.services import ServiceError, find_user_by_email

    if not email:
        return None
    user = find_user_by_email(s, email)
    if user is None:
        raise ServiceError(f"--by: no existe el usuario {email}")
    return user


@cli.command()
@click.argument("code")
@click.argument("email")
@click.option("--by", "by_email", default=None, help="Staff user doing it (email).")
@pass_app
def assign(app: App, code: str, email: str, by_email: str | None) -> None:
    """Assign ticket CODE to the staff user EMAIL."""
    from tickets import services

    def act(s, ticket):
        user = services.find_user_by_email(s, email)
        if user is None:
            raise services.ServiceError(f"no existe el usuario activo {email}")
        services.assign(s, app.ctx, ticket, user, by=_actor(s, by_email))
        return f"{ticket.code} asignada a {user.name} <{user.email}> ({ticket.status.name})"

    _ticket_action(app, code, act)


@cli.command()
@click.argument("code")
@click.argument("name")
@click.option("--by", "by_email", default=None, help="Staff user doing it (email).")
@pass_app
def status(app: App, code: str, name: str, by_email: str | None) -> None:
    """Change the status of ticket CODE to NAME."""
    from tickets import services

    def act(s, ticket):
        services.set_status(s, app.ctx, ticket, name, by=_actor(s, by_email))
        return f"{ticket.code}: {ticket.status.name}"

    _ticket_action(app, code, act)


@cli.command()
@click.argument("code")
@click.argument("text")
@click.option("--public", is_flag=True, help="Send this comment to the requester.")
@click.option("--by", "by_email", default=None, help="Staff user writing it (email).")
@pass_app
def comment(app: App, code: str, text: str, public: bool, by_email: str | None) -> None:
    """Add a staff comment to ticket CODE (internal unless --public)."""
    from tickets import services

    if not text.strip():
        raise CliError("TEXT: el comentario está vacío")

    def act(s, ticket):
        user = _actor(s, by_email)
        entry_id = services.add_comment(s, app.ctx, ticket, text=text.strip(), author_user=user,
                                        author_email=None if user else "cli", author_name="CLI",
                                        public=public) if user else _cli_comment(s, app, ticket, text, public)
        return f"{ticket.code}: comentario #{entry_id} ({'público' if public else 'interno'})"

    _ticket_action(app, code, act)


def _cli_comment(s, app: App, ticket, text: str, public: bool) -> int:
    """A staff comment without a named user (written from the CLI by an operator); returns its id."""
    from tickets import services
    from tickets.models import EntryKind

    entry_id = services.add_entry(s, ticket, EntryKind.COMMENT, text.strip(), author_name="operador (CLI)",
                                  public=public)
    if public and ticket.requester_email:
        services.queue_mail(s, app.ctx, ticket, "public_reply", [ticket.requester_email],
                            {"code": ticket.code, "entry_id": entry_id})
    return entry_id


# --- held mail --------------------------------------------------------------------------------------


@cli.group()
def held() -> None:
    """Held messages ("Correos retenidos")."""


@held.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--all", "show_all", is_flag=True, help="Also released and discarded ones.")
@pass_app
def held_list(app: App, as_json: bool, show_all: bool) -> None:
    """Messages held for review."""
    from sqlalchemy import select

    from tickets.models import HeldMessage

    with app.sessions.begin() as s:
        q = select(HeldMessage).order_by(HeldMessage.id)
        if not show_all:
            q = q.where(HeldMessage.state == "held")
        rows = [{"id": h.id, "reason": h.reason, "from": h.from_addr, "subject": h.subject,
                 "received_at": h.received_at.isoformat(), "text": (h.text or "")[:2000],
                 "state": h.state, "detail": h.detail} for h in s.scalars(q)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no hay correos retenidos")
        return
    click.echo(f"{'ID':>5}  {'Motivo':<28} {'Remitente':<35} Asunto")
    for r in rows:
        reason = HELD_REASONS.get(r["reason"], r["reason"])
        click.echo(f"{r['id']:>5}  {reason:<28} {printable(r['from'] or '-'):<35} "
                   f"{printable(r['subject'] or '')[:60]}")


#: What the held reasons mean, in the users' words.
HELD_REASONS = {"sender_not_allowed": "remitente no autorizado", "unparseable": "no se pudo leer",
                "no_sender": "sin remitente", "too_large": "demasiado grande",
                "too_many_attachments": "demasiados adjuntos", "processing_error": "error al procesar"}


def _held_row(s, held_id: int):
    from tickets.models import HeldMessage

    row = s.get(HeldMessage, held_id)
    if row is None:
        raise CliError(f"no existe el correo retenido {held_id}")
    return row


@held.command("release")
@click.argument("held_id", type=click.IntRange(1, 2**62))
@click.option("--to", "to_code", default=None, help="Add it as a comment on this ticket.")
@pass_app
def held_release(app: App, held_id: int, to_code: str | None) -> None:
    """Release a held message: a comment (on --to or the ticket it named) or a new ticket."""
    from mail.inbound.ingest import ReleaseError, release_held
    from mail.mailboxes import import_rules
    from tickets.services import ServiceError, get_ticket

    try:
        with app.sessions.begin() as s:
            row = _held_row(s, held_id)
            ticket = get_ticket(s, to_code, app.settings.code_prefix) if to_code else None
            result = release_held(s, app.ctx, import_rules(app.settings), row, ticket)
    except (ReleaseError, ServiceError) as exc:
        raise CliError(str(exc)) from exc
    what = "comentario en" if result.outcome.value == "comment" else "nueva atención"
    click.echo(f"correo {held_id} liberado: {what} {result.code}")


@held.command("discard")
@click.argument("held_id", type=click.IntRange(1, 2**62))
@pass_app
def held_discard(app: App, held_id: int) -> None:
    """Discard a held message (its record and raw bytes are kept)."""
    from tickets.models import utcnow

    with app.sessions.begin() as s:
        row = _held_row(s, held_id)
        if row.state != "held":
            raise CliError(f"el correo retenido {held_id} ya fue {row.state}")
        row.state, row.resolved_at = "discarded", utcnow()
    click.echo(f"correo {held_id} descartado")


# --- export, health -----------------------------------------------------------------------------------

FILTER_NAMES = ("requested_from", "requested_to", "code", "type", "category", "status", "project",
                "subdivision", "unit", "unit_type", "promoter", "requester", "holder", "assignee",
                "area", "contract", "comment", "days_min", "days_max", "priority", "alert", "q")


def filter_options(fn):
    """One CLI option per filter of DESIGN.md ("Filters"): ``days_min`` → ``--days-min``."""
    for name in reversed(FILTER_NAMES):
        fn = click.option(f"--{name.replace('_', '-')}", name, default=None)(fn)
    return fn


@cli.command()
@filter_options
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write: .xlsx, .csv or .json")
@pass_app
def export(app: App, output: Path, **filters) -> None:
    """Export the filtered tickets; the format follows the extension."""
    from tickets.export import write_export
    from tickets.queries import FilterError, Filters, iter_ticket_rows

    fmt = output.suffix.lower().lstrip(".")
    if fmt not in {"xlsx", "csv", "json"}:
        raise CliError(f"-o: extensión '{output.suffix}' no soportada (.xlsx, .csv, .json)")
    try:
        f = Filters.from_mapping({k: v for k, v in filters.items() if v is not None})
    except FilterError as exc:
        raise CliError(str(exc)) from exc
    counted = {"n": 0}

    def rows(session):
        for row in iter_ticket_rows(session, f, tz=app.settings.timezone, prefix=app.settings.code_prefix):
            counted["n"] += 1
            yield row

    output.parent.mkdir(parents=True, exist_ok=True)
    with app.reader.begin() as s:
        write_export(rows(s), output, fmt)
    click.echo(f"{counted['n']} atenciones exportadas a {output}")


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--max-age", "max_age_s", default=600, show_default=True,
              help="Seconds since the last successful poll before a mailbox is unhealthy.")
@pass_app
def health(app: App, as_json: bool, max_age_s: int) -> None:
    """Each mailbox's last successful poll and last error, and the outbox backlog."""
    from mail.mailboxes import ConfigError, load_mailboxes
    from tickets.reports import health_report

    try:
        names = [m.name for m in load_mailboxes(app.settings)]
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    with app.sessions.begin() as s:
        report = health_report(s, app.settings, configured=names or None, max_age_s=max_age_s)
    if as_json:
        echo_json(report)
    else:
        for m in report["mailboxes"]:
            state = "OK" if m["healthy"] else "MAL"
            ok_at = local_time(app, m["last_success_at"]) if m["last_success_at"] else "nunca"
            click.echo(f"{state:<4} {m['name']}: último éxito {ok_at}; último error {m['last_error'] or '-'}")
        ob = report["outbox"]
        oldest = local_time(app, ob["oldest_pending_at"]) if ob["oldest_pending_at"] else "-"
        click.echo(f"correos por enviar: {ob['pending']} (el más antiguo: {oldest}), {ob['failed']} fallidos")
    if not report["healthy"]:
        sys.exit(1)


# --- demo and run -----------------------------------------------------------------------------------


def find_examples() -> Path:
    """The examples/ folder: in the working directory, else beside the installed packages."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        if (base / "examples" / "catalog.yaml").exists():
            return base / "examples"
    raise CliError("no se encuentra examples/ (ejecute desde la carpeta del proyecto)")


@cli.command()
@click.option("--no-run", is_flag=True, help="Import and list, then exit (do not keep watching).")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between two polls.")
@pass_app
def demo(app: App, no_run: bool, interval: float) -> None:
    """Fresh SQLite database, example catalog and mailbox imported, then `run` on that Maildir."""
    from sqlalchemy.engine import make_url

    from mail.mailboxes import MailboxConfig
    from tickets.catalog import load_catalog
    from tickets.db import migrate as do_migrate

    url = make_url(app.settings.database_url)
    default_url = Settings.model_fields["database_url"].default
    if app.settings.database_url != default_url:
        # the demo starts from an empty database: it never deletes one the user configured
        raise CliError(f"la demo crea {default_url} desde cero: deje ATENCION_DATABASE_URL sin definir")
    examples = find_examples()
    data = app.settings.data_dir
    db_file = Path(url.database)
    for p in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
        p.unlink(missing_ok=True)
    inbox = data / "demo" / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    shutil.copytree(examples / "mailbox", inbox, ignore=shutil.ignore_patterns("*.md", "*.json", "*.py"))
    for sub in ("cur", "new", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    backdate_deliveries(inbox)
    if app.settings.mail_from == "postventa@localhost":
        app.settings = app.settings.model_copy(update={"mail_from": "postventa@inmobiliaria-andina.pe"})
    do_migrate(app.engine)
    with app.sessions.begin() as s:
        report = load_catalog(s, examples / "catalog.yaml")
    click.echo(f"catálogo: {report.summary()}")
    mb = MailboxConfig(name="demo", url=f"maildir://{inbox.resolve()}",
                       addresses=("postventa@inmobiliaria-andina.pe",))
    _import_with_progress(app, mb)
    print_ticket_lines(app)
    if no_run:
        return
    click.echo(f"\nVigilando {inbox}/new/ — deje allí un archivo .eml y aparecerá en segundos "
               f"(Ctrl-C para salir).")
    run_loop(app, [mb], interval)


def backdate_deliveries(maildir: Path) -> None:
    """Give each sample file the delivery time of its Date header, as if it had arrived then
    (a Maildir's receive time is the file's time)."""
    import os

    from mail.inbound.sources import header_date

    for f in (maildir / "new").iterdir():
        if f.is_file():
            when = header_date(f.read_bytes())
            if when is not None:
                os.utime(f, (when.timestamp(), when.timestamp()))


def _import_with_progress(app: App, mb) -> None:
    from rich.progress import Progress

    from mail.inbound.poller import poll_mailbox

    total = sum(1 for f in (Path(mb.url[len("maildir://"):]) / "new").iterdir() if f.is_file())
    with Progress(disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("Importando el buzón de ejemplo", total=total)
        report = poll_mailbox(app.sessions, app.ctx, app.settings, mb,
                              on_result=lambda _r: progress.advance(task))
    if report.error:
        raise CliError(report.error)
    click.echo(f"{report.processed} mensajes — ", nl=False)
    _print_counts(report.counts)


def print_ticket_lines(app: App, codes: set[str] | None = None) -> None:
    """One line per ticket: code, subject, requester, status, elapsed days, alert (never wrapped)."""
    from tickets.queries import Filters, iter_ticket_rows

    with app.sessions.begin() as s:
        rows = list(iter_ticket_rows(s, Filters(), tz=app.settings.timezone,
                                     prefix=app.settings.code_prefix, order="code"))
    for r in rows:
        if codes is not None and r.code not in codes:
            continue
        subject = (r.subject or "").replace("\n", " ")
        subject = subject if len(subject) <= 50 else subject[:49] + "…"
        requester = r.requester_name or r.requester_email or ""
        click.echo(f"{r.code}  {subject:<50}  {requester[:28]:<28}  {r.status:<11}  "
                   f"{r.elapsed_days:>3} d  {r.alert}")


def _long_running_logs() -> None:
    """Warnings and errors of a long-running loop go to stderr (unless -v asked for more)."""
    root = logging.getLogger()
    if root.level > logging.WARNING:
        root.setLevel(logging.WARNING)


def run_loop(app: App, mailboxes, interval: float) -> None:
    """Poll the mailboxes every ``interval`` seconds and print what arrives, until Ctrl-C."""
    from mail.inbound.poller import poll_mailbox

    _long_running_logs()
    try:
        while True:
            for mb in mailboxes:
                new_codes: set[str] = set()
                try:
                    report = poll_mailbox(app.sessions, app.ctx, app.settings, mb,
                                          on_result=lambda r, codes=new_codes: codes.add(r.code) if r.code else None)
                except Exception as exc:  # e.g. the database is down: say so, try again next round
                    logging.getLogger(__name__).exception("poll of %s failed", mb.name)
                    click.echo(f"{mb.name}: error: {str(exc).splitlines()[0] if str(exc) else exc!r}", err=True)
                    continue
                if report.error:
                    click.echo(f"{mb.name}: error: {report.error}", err=True)
                elif report.processed:
                    _print_counts(report.counts)
                    print_ticket_lines(app, new_codes)
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("\nhasta luego")


@cli.command()
@click.option("--interval", default=None, type=float, help="Seconds between polls (default: config).")
@pass_app
def run(app: App, interval: float | None) -> None:
    """The embedded default: poll every configured mailbox in one process, until Ctrl-C."""
    run_loop(app, _mailboxes(app, None), interval or app.settings.poll_interval_s)


def main() -> None:
    """Console entry point: one-line errors, never a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from tickets.catalog import CatalogError
    from tickets.services import ServiceError

    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("cancelado", err=True)
        sys.exit(1)
    except click.exceptions.NoArgsIsHelpError as exc:  # `atencion catalog`: say what is missing
        click.echo(f"error: falta el subcomando; vea '{exc.ctx.command_path} --help'", err=True)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:  # one line, not click's usage block
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (CatalogError, ServiceError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        first = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        hint = " (¿ejecutó 'atencion migrate'?)" if "no such table" in first or "does not exist" in first else ""
        click.echo(f"error de base de datos: {first}{hint}", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except ImportError as exc:  # e.g. a mysql:// URL without its driver
        click.echo(f"error: falta un módulo: {exc.name or exc} (¿URL de base de datos soportada?)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
