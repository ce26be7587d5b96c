"""Several mailboxes from a TOML file (ATENCION_CONFIG), polled by `atencion poll` as a subprocess.

Two Dovecot users stand for two mailboxes with different defaults; each new ticket carries its
mailbox's name and defaults; ``--mailbox`` polls one; a bad file is a one-line error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tests.support import MINI_CATALOG, REPO, SUPPORT, build
from tickets.catalog import load_catalog_data
from tickets.db import make_engine, make_sessionmaker
from tickets.models import InboundMessage, MailboxState, Ticket

LUCIA = "Lucía Fernández <lucia.fernandez@outlook.com>"  # a client without a contract
EXTRA_CATALOG = {"ticket_types": [{"name": "Reclamo", "max_response_days": 15}],
                 "categories": [{"name": "Garantía"}]}
_users = count(1)


def atencion_command() -> list[str]:
    """``python -m worker.cli`` of this checkout (PYTHONPATH=REPO below), not the venv's console
    script, which runs whichever checkout the venv was installed from."""
    return [sys.executable, "-m", "worker.cli"]


class Atencion:
    """`atencion …` in a subprocess against one SQLite database and one config file."""

    def __init__(self, home: Path, config: Path | None):
        self.home = home
        self.url = f"sqlite:///{home / 'atencion.db'}"
        self.config = config
        self._engine = None

    def run(self, *args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATENCION_")}
        env.update(ATENCION_DATABASE_URL=self.url, ATENCION_DATA_DIR=str(self.home / "var"),
                   ATENCION_MAIL_FROM=SUPPORT, PYTHONPATH=str(REPO))
        if self.config is not None:
            env["ATENCION_CONFIG"] = str(self.config)
        return subprocess.run([*atencion_command(), *args], check=False, cwd=self.home, env=env, capture_output=True,
                              text=True, timeout=120)

    def ok(self, *args: str) -> str:
        proc = self.run(*args)
        assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc.stdout

    @property
    def sessions(self):
        if self._engine is None:
            self._engine = make_engine(self.url)
        return make_sessionmaker(self._engine)

    def tickets(self) -> dict[str, Ticket]:
        """Tickets by subject, with the names the tests read loaded."""
        with self.sessions() as s:
            rows = s.scalars(select(Ticket).options(
                joinedload(Ticket.type), joinedload(Ticket.category), joinedload(Ticket.area),
                joinedload(Ticket.project), joinedload(Ticket.promoter)).order_by(Ticket.id)).unique()
            return {t.subject: t for t in rows}

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    where = f"exit {proc.returncode}\nstdout: {proc.stdout!r}\nstderr: {proc.stderr!r}"
    assert proc.returncode == 1, where
    assert "Traceback" not in proc.stdout + proc.stderr, where
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, where
    for needle in needles:
        assert needle.lower() in lines[0].lower(), where
    return lines[0]


def toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def boxes(dovecot):
    """Two fresh Dovecot users: (postventa user, legal user)."""
    users = []
    for _ in range(2):
        name = f"toml{next(_users)}x{os.getpid() % 10000}"
        dovecot.add_user(name, "secret")
        users.append(name)
    return users


@pytest.fixture
def app(tmp_path, dovecot, boxes):
    """A migrated database with the catalog, and a TOML file with two mailboxes."""
    postventa, legal = boxes
    config = tmp_path / "atencion.toml"
    config.write_text(f"""
# two mailboxes, two sets of defaults
[[mailboxes]]
name = "postventa"
url = {toml_string(dovecot.url(postventa))}
addresses = ["postventa@inmobiliaria-andina.pe"]
type = "Atención"
category = "General"
area = "Postventa"

[[mailboxes]]
name = "legal"
url = {toml_string(dovecot.url(legal))}
addresses = ["legal@inmobiliaria-andina.pe"]
processed_folder = "Procesados"
type = "Reclamo"
category = "Garantía"
area = "Legal"
project = "Residencial Los Olivos"
""", encoding="utf-8")
    a = Atencion(tmp_path, config)
    a.ok("migrate")
    with a.sessions.begin() as s:
        load_catalog_data(s, MINI_CATALOG)
        load_catalog_data(s, EXTRA_CATALOG)
    yield a
    a.close()


def test_two_mailboxes_with_their_own_defaults(app, dovecot, boxes):
    postventa, legal = boxes
    to_legal = "Legal <legal@inmobiliaria-andina.pe>"
    p1 = dovecot.append(postventa, build("Grieta en la pared de la sala", "Apareció una grieta.", sender=LUCIA))
    l1 = dovecot.append(legal, build("Observación a la minuta", "La minuta tiene un error en el área.",
                                     sender=LUCIA, to=to_legal))

    out = app.ok("poll", "--once")
    assert "postventa: 1 mensaje " in out and "legal: 1 mensaje " in out, out
    tickets = app.tickets()
    assert len(tickets) == 2
    pv, lg = tickets["Grieta en la pared de la sala"], tickets["Observación a la minuta"]
    assert (pv.mailbox, pv.type.name, pv.category.name, pv.area.name, pv.project) == \
        ("postventa", "Atención", "General", "Postventa", None)
    assert (lg.mailbox, lg.type.name, lg.category.name, lg.area.name, lg.project.name, lg.promoter.name) == \
        ("legal", "Reclamo", "Garantía", "Legal", "Residencial Los Olivos", "Inmobiliaria Andina S.A.C.")
    with app.sessions() as s:
        inbound = {(m.mailbox, m.uid, m.outcome) for m in s.scalars(select(InboundMessage))}
        states = {m.name: (m.last_uid, m.last_error) for m in s.scalars(select(MailboxState))}
    assert inbound == {("postventa", p1, "ticket"), ("legal", l1, "ticket")}
    assert states == {"postventa": (p1, None), "legal": (l1, None)}
    # on the server: postventa has no processed folder (flag only); legal moves to Procesados
    assert dovecot.uids(postventa) == [p1] and "\\Seen" in dovecot.flags(postventa, p1)
    assert dovecot.uids(legal) == [] and len(dovecot.uids(legal, "Procesados")) == 1
    [moved] = dovecot.uids(legal, "Procesados")
    assert "\\Seen" in dovecot.flags(legal, moved, "Procesados")

    # --mailbox: only that one is read
    p2 = dovecot.append(postventa, build("Timbre no suena", "El timbre no suena.", sender=LUCIA))
    dovecot.append(legal, build("Consulta sobre la escritura", "¿Cuándo firmamos?", sender=LUCIA, to=to_legal))
    out = app.ok("poll", "--once", "--mailbox", "legal")
    assert "legal: 1 mensaje " in out and "postventa" not in out, out
    assert app.tickets()["Consulta sobre la escritura"].mailbox == "legal"
    assert "Timbre no suena" not in app.tickets()
    assert "\\Seen" not in dovecot.flags(postventa, p2)
    out = app.ok("poll", "--once")
    assert "postventa: 1 mensaje " in out and "legal: 0 mensajes" in out, out
    t = app.tickets()["Timbre no suena"]
    assert (t.mailbox, t.area.name, t.type.name) == ("postventa", "Postventa", "Atención")
    assert len(app.tickets()) == 4

    # an unknown mailbox name: one line, exit 1, nothing read
    one_line_error(app.run("poll", "--once", "--mailbox", "ventas"), "--mailbox", "ventas")


def test_poll_errors_of_one_mailbox_do_not_stop_the_other(app, dovecot, boxes, tmp_path):
    """A mailbox whose URL carries an insecure option fails alone; the other is processed."""
    postventa, legal = boxes
    text = app.config.read_text(encoding="utf-8")
    legal_url = dovecot.url(legal)
    app.config.write_text(text.replace(toml_string(legal_url), toml_string(legal_url + "?verify=0")),
                          encoding="utf-8")
    dovecot.append(postventa, build("Grieta", "Una grieta.", sender=LUCIA))
    uid = dovecot.append(legal, build("Minuta", "Un error.", sender=LUCIA))
    proc = app.run("poll", "--once")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "postventa: 1 mensaje " in proc.stdout
    assert "legal: error: URL IMAP: ?verify= no se admite" in proc.stderr, proc.stderr
    with app.sessions() as s:
        state = s.scalar(select(MailboxState).where(MailboxState.name == "legal"))
        assert state.last_error.startswith("URL IMAP: ?verify= no se admite")
    assert [t.mailbox for t in app.tickets().values()] == ["postventa"]
    assert "\\Seen" not in dovecot.flags(legal, uid)


MAILBOX = '[[mailboxes]]\nname = "{name}"\nurl = "imap://u:p@127.0.0.1:1/INBOX"\n'


@pytest.mark.parametrize("text, needles", [
    (MAILBOX.format(name="postventa") + '[[mailboxes]]\nname = "legal"\narea = "Legal"\n',
     ["mailboxes[1]", "url"]),
    (MAILBOX.format(name="postventa") + MAILBOX.format(name="legal") + MAILBOX.format(name="postventa"),
     ["repetidos", "postventa"]),
    ('[[mailboxes]\nname = "x"\n', ["atencion.toml"]),  # not TOML at all
])
def test_bad_config_file_is_one_line(tmp_path, text, needles):
    config = tmp_path / "atencion.toml"
    config.write_text(text, encoding="utf-8")
    one_line_error(Atencion(tmp_path, config).run("poll", "--once"), *needles)


def test_missing_config_file_is_one_line(tmp_path):
    one_line_error(Atencion(tmp_path, tmp_path / "no-existe.toml").run("poll", "--once"), "no-existe.toml")


@pytest.mark.parametrize("text, needles", [
    ('[[mailboxes]]\nurl = "imap://u:p@127.0.0.1:1/INBOX"\n', ["mailboxes[0]", "name"]),
    # a string where a list belongs would become a tuple of single characters
    (MAILBOX.format(name="postventa") + 'addresses = "postventa@inmobiliaria-andina.pe"\n',
     ["mailboxes[0].addresses", "lista"]),
    # [mailboxes] (one table) instead of [[mailboxes]] (a list of tables)
    ('[mailboxes]\nname = "postventa"\nurl = "imap://u:p@127.0.0.1:1/INBOX"\n', ["[[mailboxes]]"]),
    ("mailboxes = [1, 2]\n", ["[[mailboxes]]"]),  # was a TypeError traceback
    (MAILBOX.format(name="postventa") + "area = 5\n", ["mailboxes[0].area"]),
    ('[[mailboxes]]\nname = ""\nurl = "imap://u:p@127.0.0.1:1/INBOX"\n', ["mailboxes[0].name"]),
])
def test_config_shape_errors(tmp_path, text, needles):
    """The same check in process (ConfigError is what the CLI prints as its one line)."""
    from mail.mailboxes import ConfigError, load_mailboxes
    from tickets.settings import Settings

    config = tmp_path / "atencion.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_mailboxes(Settings(_env_file=None, config=config))
    message = str(exc.value)
    assert "\n" not in message and str(config) in message
    for needle in needles:
        assert needle in message, message


def test_config_defaults_and_extra_fields(tmp_path):
    from mail.mailboxes import load_mailboxes
    from tickets.settings import Settings

    config = tmp_path / "atencion.toml"
    config.write_text(MAILBOX.format(name="postventa") + 'addresses = ["a@b.pe"]\nfirma = "Postventa"\n'
                      + MAILBOX.format(name="legal") + 'processed_folder = "Procesados"\narea = "Legal"\n',
                      encoding="utf-8")
    pv, lg = load_mailboxes(Settings(_env_file=None, config=config))
    assert (pv.name, pv.addresses, pv.processed_folder, pv.area, pv.extra) == \
        ("postventa", ("a@b.pe",), None, None, {"firma": "Postventa"})
    assert (lg.name, lg.addresses, lg.processed_folder, lg.area) == ("legal", (), "Procesados", "Legal")
