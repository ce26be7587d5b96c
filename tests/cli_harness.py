"""The harness of the `atencion` command's tests (tests/test_cli.py, tests/test_cli_errors.py),
registered as a pytest plugin by conftest.py: the CLI against one database (SQLite and PostgreSQL
through the ``database_url`` fixture), in-process or as a real process of this checkout.

Most commands run in-process through click's CliRunner on ``worker.cli.cli`` (fast). Error lines and
exit codes are checked through ``worker.cli.main()`` in-process and through real subprocesses of
``python -m worker.cli`` (with this checkout first on PYTHONPATH, never the venv's console script) —
``main()`` is the only place that turns every error into one line. Configuration comes from the
environment only (cwd is the test's tmp_path, so no .env file is read).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import worker.cli
from tests.support import REPO, SUPPORT, build
from tickets.db import make_engine, make_sessionmaker
from tickets.models import OutboxMessage, Ticket

CATALOG = REPO / "examples" / "catalog.yaml"
CARLA = "carla.mendoza@inmobiliaria-andina.pe"
ROSA = "rosa.quispe.h@gmail.com"
PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg"

EXPORT_KEYS = {
    "code", "kind", "subject", "status", "type", "category", "priority", "project", "subdivision",
    "unit", "promoter", "requester_name", "requester_email", "holder", "assignee", "assignee_email",
    "area", "contract_number", "requested_at", "attended_at", "elapsed_days", "alert", "alert_state",
}
NOW = datetime.now(UTC).replace(microsecond=0)


# --------------------------------------------------------------------------- harness


@dataclass
class Cli:
    """The CLI against one database: in-process (``invoke``/``ok``) or as a subprocess (``run``)."""

    url: str
    home: Path
    monkeypatch: pytest.MonkeyPatch
    apps: list = field(default_factory=list)
    _engine: object = None

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATENCION_")}
        env.update(ATENCION_DATABASE_URL=self.url, ATENCION_DATA_DIR=str(self.home / "var"),
                   ATENCION_MAIL_FROM=SUPPORT, PYTHONPATH=str(REPO), COLUMNS="80")
        return env

    def invoke(self, *args: str):
        """CliRunner on worker.cli.cli; engines the command made are disposed afterwards."""
        try:
            return CliRunner().invoke(worker.cli.cli, [str(a) for a in args], env=self.env)
        finally:
            self._dispose_apps()

    def _dispose_apps(self) -> None:
        for app in self.apps:
            if app._engine is not None:
                app._engine.dispose()
        self.apps.clear()

    def ok(self, *args: str) -> str:
        r = self.invoke(*args)
        detail = f"{args}: exit {r.exit_code}\nstdout: {r.stdout}\nstderr: {r.stderr}\n{r.exception!r}"
        assert r.exit_code == 0, detail
        assert r.exception is None, detail
        return r.stdout

    def json(self, *args: str):
        return json.loads(self.ok(*args))

    def main(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        """``worker.cli.main()`` in this process (the console entry point: one-line errors); stdout,
        stderr and the exit code as from a process. An exception escaping main() is a traceback."""
        out, err, code = io.StringIO(), io.StringIO(), 0
        try:
            with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), redirect_stderr(err):
                for key, value in {**self.env, **extra_env}.items():
                    mp.setenv(key, value)
                mp.setattr(sys, "argv", ["atencion", *map(str, args)])
                try:
                    worker.cli.main()
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                except BaseException:  # noqa: BLE001 - a process would print a traceback
                    err.write(traceback.format_exc())
                    code = 1
        finally:
            self._dispose_apps()
        return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())

    def run(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        """A real ``python -m worker.cli`` process (through main(), with the process's logging)."""
        return subprocess.run([sys.executable, "-m", "worker.cli", *map(str, args)], cwd=self.home,
                              env={**self.env, **extra_env}, capture_output=True, text=True,
                              check=False, timeout=120)

    # database access for the checks
    @property
    def sessions(self):
        if self._engine is None:
            self._engine = make_engine(self.url)
        return make_sessionmaker(self._engine)

    def outbox(self, code: str) -> list[tuple[str, list[str]]]:
        with self.sessions() as s:
            rows = s.execute(select(OutboxMessage.event, OutboxMessage.to_addrs).join(
                Ticket, Ticket.id == OutboxMessage.ticket_id).where(Ticket.code == code)
                .order_by(OutboxMessage.id))
            return [(e, list(to)) for e, to in rows]

    def ticket_count(self) -> int:
        with self.sessions() as s:
            return len(list(s.scalars(select(Ticket.id))))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _make_cli(database_url, tmp_path, monkeypatch) -> Cli:
    for key in list(os.environ):
        if key.startswith("ATENCION_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    c = Cli(database_url, tmp_path, monkeypatch)

    class TrackedApp(worker.cli.App):
        def __init__(self, settings):
            super().__init__(settings)
            c.apps.append(self)

    monkeypatch.setattr(worker.cli, "App", TrackedApp)
    return c


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch):
    """The CLI on a fresh, empty database (not migrated); cwd is tmp_path, no ATENCION_* leaks in."""
    c = _make_cli(database_url, tmp_path, monkeypatch)
    yield c
    c.close()


@pytest.fixture
def bare_cli(tmp_path, monkeypatch):
    """The CLI for checks that never reach a database (arguments, settings): SQLite only."""
    c = _make_cli(f"sqlite:///{tmp_path / 'atencion.db'}", tmp_path, monkeypatch)
    yield c
    c.close()


def one_line_error(proc: subprocess.CompletedProcess, *needles: str, code: int | None = None) -> str:
    """Non-zero exit, exactly one line on stderr (containing every needle), never a traceback."""
    where = f"exit {proc.returncode}\nstdout: {proc.stdout!r}\nstderr: {proc.stderr!r}"
    assert "Traceback" not in proc.stdout + proc.stderr, where
    assert proc.returncode != 0, where
    if code is not None:
        assert proc.returncode == code, where
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, where
    for needle in needles:
        assert needle.lower() in lines[0].lower(), where
    return lines[0]


def write_mails(folder: Path) -> dict[str, bytes]:
    """Three client messages: two old (overdue) and one from an hour ago (on time)."""
    folder.mkdir(parents=True, exist_ok=True)
    mails = {
        "01.eml": build("Filtración en el baño", "Hay una filtración en el techo del baño.\nRosa",
                        attachments=[("foto.jpg", "image/jpeg", PHOTO)],
                        date=NOW - timedelta(days=20)),
        "02.eml": build("Puerta principal no cierra", "La puerta principal no cierra bien.",
                        sender="Percy Villanueva Soto <percy.vsoto@hotmail.com>",
                        date=NOW - timedelta(days=12)),
        "03.eml": build("Consulta sobre la entrega", "¿Cuándo es la entrega de llaves?",
                        sender="Lucía Fernández <lucia.fernandez@outlook.com>",
                        date=NOW - timedelta(hours=1)),
    }
    for name, raw in mails.items():
        (folder / name).write_bytes(raw)
    return mails


def stranger_reply(n: int, code: str = "AT-000001") -> bytes:
    return build(f"Re: [{code}] Filtración en el baño", f"Yo también tengo el problema número {n}.",
                 sender=f"Vecino {n} <vecino{n}@example.org>", date=NOW - timedelta(minutes=30 - n))


@pytest.fixture
def loaded(cli):
    """Migrated, example catalog loaded, three tickets imported (AT-000001 … AT-000003)."""
    cli.ok("migrate")
    cli.ok("catalog", "load", CATALOG)
    write_mails(cli.home / "mails")
    cli.ok("import", cli.home / "mails")
    return cli



def export_json(cli: Cli, *filters: str) -> list[dict]:
    out = cli.home / "out" / "export.json"
    out.parent.mkdir(exist_ok=True)  # -o never creates a folder
    msg = cli.ok("export", *filters, "-o", out)
    rows = json.loads(out.read_text(encoding="utf-8"))
    noun = "atención exportada" if len(rows) == 1 else "atenciones exportadas"
    assert msg.strip() == f"{len(rows)} {noun} a {out}"
    return rows


def codes(rows: list[dict]) -> list[str]:
    return sorted(r["code"] for r in rows)


def changes(data: dict) -> list[tuple[str, str | None, str | None]]:
    return [(e["field"], e["old"], e["new"]) for e in data["logbook"] if e["kind"] == "change"]

