"""`demo`: a fresh SQLite database, the example catalog and mailbox, then `run` on that Maildir."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path

import click
from rich.progress import Progress
from sqlalchemy.engine import make_url

from mail.inbound.poller import poll_mailbox
from mail.inbound.sources import header_date
from mail.mailboxes import MailboxConfig
from tickets.catalog import load_catalog
from tickets.db import migrate as migrate_schema
from tickets.settings import Settings
from tickets.users import add_or_update_user
from worker.cli.app import App, CliError, pass_app
from worker.cli.mail import counts_line, print_ticket_lines, run_loop, send_and_tell
from worker.cli.spanish import Float, command, option
from worker.cli.web import bind_panel, host_option, panel_address, port_option

DEMO_ADDRESS = "postventa@inmobiliaria-andina.pe"
"""The support address of the example company (examples/catalog.yaml, examples/mailbox)."""

DEMO_ADMIN_EMAIL = "admin@demo.pe"
"""The panel user the demo creates (role admin; a new random password each run)."""


def find_examples() -> Path:
    """The examples/ folder: in the working directory, else beside the installed packages."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (base / "examples" / "catalog.yaml").exists():
            return base / "examples"
    raise CliError("no se encuentra examples/ (ejecute desde la carpeta del proyecto)")


@command()
@option("--no-run", is_flag=True, help="Importa y lista, y termina (no se queda vigilando el buzón).")
@option("--interval", "interval_s", default=2.0, show_default=True, type=Float(min=0.1), metavar="SEGUNDOS",
        help="Segundos entre dos lecturas del buzón.")
@host_option
@port_option
@pass_app
def demo(app: App, no_run: bool, interval_s: float, host: str, port: int) -> None:
    """Demostración: copia examples/mailbox a var/demo/inbox (un Maildir), carga el catálogo de
    ejemplo en una base SQLite nueva, importa el buzón, lista una línea por atención y se queda
    leyendo ese Maildir (un .eml dejado en var/demo/inbox/new/ aparece en segundos) con el panel
    web en --host:--port (otro puerto libre si ese está ocupado), cuya dirección y cuyo usuario
    administrador imprime."""
    url = make_url(app.settings.database_url)
    default_url = Settings.model_fields["database_url"].default
    if app.settings.database_url != default_url:
        # the demo starts from an empty database: it never deletes one the user configured
        raise CliError(f"la demo crea {default_url} desde cero: deje ATENCION_DATABASE_URL sin definir")
    examples = find_examples()
    db_file = Path(url.database)
    for p in (db_file, Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
        p.unlink(missing_ok=True)
    inbox = app.settings.data_dir / "demo" / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    shutil.copytree(examples / "mailbox", inbox,
                    ignore=shutil.ignore_patterns("*.md", "*.json", "*.py", ".keep", ".gitkeep"))
    for sub in ("cur", "new", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    backdate_deliveries(inbox)
    if app.settings.mail_from == "postventa@localhost":
        app.settings = app.settings.model_copy(update={"mail_from": DEMO_ADDRESS})
    migrate_schema(app.engine)
    with app.sessions.begin() as s:
        report = load_catalog(s, examples / "catalog.yaml", storage_dir=app.settings.storage_dir)
    click.echo(f"catálogo: {report.summary()}")
    mb = MailboxConfig(name="demo", url=f"maildir://{inbox.resolve()}", addresses=(DEMO_ADDRESS,))
    import_with_progress(app, mb, inbox)
    print_ticket_lines(app)
    send_and_tell(app, "Acuses de recibo enviados")
    if app.settings.mail_from == DEMO_ADDRESS:
        click.echo(f"Los demás comandos trabajan sobre esta misma base; para que su correo salga de "
                   f"{DEMO_ADDRESS} como el de la demo: export ATENCION_MAIL_FROM={DEMO_ADDRESS}")
    if no_run:
        return
    password = create_demo_admin(app)
    panel = bind_demo_panel(app, host, port)
    click.echo(f"\nPanel web: {panel_address(panel, host)} — usuario {DEMO_ADMIN_EMAIL}, "
               f"contraseña {password}")
    click.echo(f"Vigilando {inbox}/new/ — deje allí un archivo .eml y aparecerá en segundos "
               f"(Ctrl-C para salir).")
    run_loop(app, [mb], interval_s, panel)


def create_demo_admin(app: App) -> str:
    """The demo's admin user (`DEMO_ADMIN_EMAIL`), created or updated through `tickets.users` with
    a fresh random password, which is returned (printed once: the demo database is new each run)."""
    password = secrets.token_urlsafe(9)
    with app.sessions.begin() as s:
        add_or_update_user(s, email=DEMO_ADMIN_EMAIL, name="Administrador de la demo", role="admin",
                           password=password)
    return password


def bind_demo_panel(app: App, host: str, port: int):
    """The panel on ``host:port``; when that port is taken (another demo, another program), on any
    free port instead, so that the demo still starts (its address is printed either way)."""
    try:
        return bind_panel(app.settings, host, port)
    except CliError:
        return bind_panel(app.settings, host, 0)


def backdate_deliveries(maildir: Path) -> None:
    """Give each sample file the delivery time of its Date header, as if it had arrived then
    (a Maildir's receive time is the file's time)."""
    for f in (maildir / "new").iterdir():
        if f.is_file():
            when = header_date(f.read_bytes())
            if when is not None:
                os.utime(f, (when.timestamp(), when.timestamp()))


def import_with_progress(app: App, mb: MailboxConfig, maildir: Path) -> None:
    """One pass over the demo Maildir, with a progress bar on a terminal, then the counts line."""
    total = sum(1 for f in (maildir / "new").iterdir() if f.is_file())
    with Progress(disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("Importando el buzón de ejemplo", total=total)
        report = poll_mailbox(app.sessions, app.ctx, app.settings, mb,
                              on_result=lambda _r: progress.advance(task))
    if report.error:
        raise CliError(report.error)
    click.echo(counts_line(report.processed, report.counts))


COMMANDS = (demo,)
