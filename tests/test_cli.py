"""The `atencion` command's contract (DESIGN.md, "The atencion command"), on SQLite and PostgreSQL.

Most commands run in-process through click's CliRunner on ``worker.cli.cli`` (fast). Error lines and
exit codes are checked through real subprocesses of ``python -m worker.cli`` — that goes through
``main()``, the only place that turns every error into one line. Configuration comes from the
environment only (cwd is the test's tmp_path, so no .env file is read).
"""

from __future__ import annotations

import csv
import hashlib
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
from tests.servers import free_port
from tests.support import REPO, SUPPORT, build
from tickets.db import make_engine, make_sessionmaker
from tickets.models import MailboxState, OutboxMessage, Ticket, User

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


# --------------------------------------------------------------------------- migrate, catalog


def test_migrate_twice_and_catalog_load_twice(cli):
    assert "esquema al día" in cli.ok("migrate")
    assert "esquema al día" in cli.ok("migrate")
    first = cli.ok("catalog", "load", CATALOG)
    assert first.startswith("catálogo cargado: ")
    assert "users: +8" in first and "contracts: +24" in first
    second = cli.ok("catalog", "load", CATALOG)
    assert second.strip() == "catálogo cargado: sin cambios"
    with cli.sessions() as s:
        assert len(list(s.scalars(select(User)))) == 8
    # migrating again after a load keeps the data
    cli.ok("migrate")
    assert cli.ok("catalog", "load", CATALOG).strip() == "catálogo cargado: sin cambios"


BROKEN_CATALOGS = {
    "unknown_holder": (
        ("promoters:\n  - {name: Promotor Fantasma}\n"
         "contracts:\n  - {number: CV-X-1, holders: [\"DNI 99999999\"]}\n"),
        ("contracts[0]", "DNI 99999999"),
    ),
    "bad_unit_type": (
        ("projects:\n  - name: Proyecto Uno\n    subdivisions:\n      - name: Torre A\n"
         "        units:\n          - {number: \"101\", type: castillo}\n"),
        ("projects[0].subdivisions[0].units[0]", "castillo"),
    ),
    "bad_holder_format": (
        "contracts:\n  - {number: CV-X-2, holders: [\"45871236\"]}\n",
        ("contracts[0]", "titular"),
    ),
    "bad_role": (
        "users:\n  - {email: a@b.pe, name: A, role: boss}\n",
        ("users[0]", "boss"),
    ),
    "missing_name": (
        "categories:\n  - {name: Buena}\n  - {order: 2}\n",
        ("categories[1]", "name"),
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CATALOGS))
def test_broken_catalog_is_one_line_and_changes_nothing(cli, case):
    text, needles = BROKEN_CATALOGS[case]
    cli.ok("migrate")
    path = cli.home / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    one_line_error(cli.main("catalog", "load", path), *needles, code=1)
    with cli.sessions() as s:  # the load is one transaction: nothing before the error was kept
        from tickets.models import Category, Promoter

        assert s.scalar(select(Promoter).where(Promoter.name == "Promotor Fantasma")) is None
        assert s.scalar(select(Category).where(Category.name == "Buena")) is None


def test_bad_yaml_and_missing_file_are_one_line(cli):
    cli.ok("migrate")
    bad = cli.home / "roto.yaml"
    bad.write_text("projects: [\n  - name: : :\n", encoding="utf-8")
    one_line_error(cli.run("catalog", "load", bad), "roto.yaml", code=1)
    one_line_error(cli.main("catalog", "load", cli.home / "no-hay.yaml"), "no-hay.yaml", code=1)
    not_a_map = cli.home / "lista.yaml"
    not_a_map.write_text("- a\n- b\n", encoding="utf-8")
    one_line_error(cli.main("catalog", "load", not_a_map), "lista.yaml", code=1)


def test_bad_yaml_error_says_where(cli):
    cli.ok("migrate")
    bad = cli.home / "roto.yaml"
    bad.write_text("projects: [\n  - name: : :\n", encoding="utf-8")
    line = one_line_error(cli.run("catalog", "load", bad), "roto.yaml")
    assert "line 2" in line or "línea 2" in line, line


# --------------------------------------------------------------------------- users


def test_users_add_creates_then_updates(cli):
    cli.ok("migrate")
    out = cli.ok("users", "add", "--email", "Ana.Lopez@Inmobiliaria-Andina.pe", "--name", "Ana López",
                 "--role", "agent", "--area", "Postventa", "--password", "secreto-123")
    assert out.strip() == "usuario creado: ana.lopez@inmobiliaria-andina.pe (agent)"
    out = cli.ok("users", "add", "--email", "ana.lopez@inmobiliaria-andina.pe", "--name", "Ana López Ruiz",
                 "--role", "admin", "--password", "otro-secreto")
    assert out.strip() == "usuario actualizado: ana.lopez@inmobiliaria-andina.pe (admin)"
    with cli.sessions() as s:
        users = list(s.scalars(select(User).where(User.email == "ana.lopez@inmobiliaria-andina.pe")))
        assert len(users) == 1
        u = users[0]
        assert (u.name, u.role, u.active) == ("Ana López Ruiz", "admin", True)
        assert u.area is not None and u.area.name == "Postventa"  # kept when --area is not given
        from werkzeug.security import check_password_hash

        assert check_password_hash(u.password_hash, "otro-secreto")


def test_users_add_errors_are_one_line(cli):
    cli.ok("migrate")
    base = ["users", "add", "--email", "ana@inmobiliaria-andina.pe", "--name", "Ana"]
    one_line_error(cli.run(*base, "--role", "boss", "--password", "secreto-123"), "--role", "boss")
    one_line_error(cli.main(*base, "--role", "agent", "--password", "corta"), "--password", code=1)
    one_line_error(cli.main("users", "add", "--email", "sin-arroba", "--name", "X", "--role", "agent",
                           "--password", "secreto-123"), "--email", code=1)
    one_line_error(cli.main(*base, "--role", "agent", "--area", "Marte", "--password", "secreto-123"),
                   "Marte", code=1)
    with cli.sessions() as s:
        assert s.scalar(select(User).where(User.email == "ana@inmobiliaria-andina.pe")) is None


# --------------------------------------------------------------------------- import


def test_import_folder_then_again_all_duplicates(cli):
    cli.ok("migrate")
    cli.ok("catalog", "load", CATALOG)
    write_mails(cli.home / "mails")
    out = cli.ok("import", cli.home / "mails")
    assert out.strip() == ("3 mensajes — atenciones: 3, comentarios: 0, duplicados: 0, ignorados: 0, "
                           "retenidos: 0")
    assert cli.ticket_count() == 3
    out = cli.ok("import", cli.home / "mails")
    assert out.strip() == ("3 mensajes — atenciones: 0, comentarios: 0, duplicados: 3, ignorados: 0, "
                           "retenidos: 0")
    assert cli.ticket_count() == 3
    # a single file (a reply from the requester) is a comment
    reply = cli.home / "reply.eml"
    reply.write_bytes(build("Re: [AT-000001] Filtración en el baño", "Sigue goteando.",
                            date=NOW - timedelta(minutes=5)))
    out = cli.ok("import", reply)
    assert "atenciones: 0, comentarios: 1," in out
    assert cli.ticket_count() == 3


def test_import_errors_are_one_line(cli):
    cli.ok("migrate")
    one_line_error(cli.run("import", cli.home / "no-existe"), "no-existe", code=1)
    one_line_error(cli.main("import"), "PATHS")  # missing argument: a usage error


# --------------------------------------------------------------------------- show


def test_show_json_has_export_keys_detail_and_logbook(loaded):
    data = loaded.json("show", "AT-000001", "--json")
    assert EXPORT_KEYS <= set(data), EXPORT_KEYS - set(data)
    assert {"detail", "logbook"} <= set(data)
    assert data["code"] == "AT-000001"
    assert data["subject"] == "Filtración en el baño"
    assert data["status"] == "Registrado"
    assert data["requester_email"] == ROSA
    assert "filtración en el techo" in data["detail"]
    assert isinstance(data["elapsed_days"], int)
    assert data["alert_state"] in {"overdue", "on_time", "attended_on_time", "attended_late"}
    datetime.fromisoformat(data["requested_at"])  # ISO 8601
    assert data["requested_at"].endswith("-05:00")  # America/Lima, the configured zone
    assert data["attended_at"] is None
    log = data["logbook"]
    assert log, "empty logbook"
    for e in log:
        assert {"kind", "at", "author", "public", "text", "attachments"} <= set(e)
        assert e["kind"] in {"comment", "email_in", "email_out", "attachment", "change", "follow_up",
                             "event", "note"}
        assert isinstance(e["public"], bool)
        datetime.fromisoformat(e["at"])
    assert [e["at"] for e in log] == sorted(e["at"] for e in log), "logbook not oldest first"
    files = [a for e in log for a in e["attachments"]]
    assert files == [{"name": "foto.jpg", "content_type": "image/jpeg", "size": len(PHOTO),
                      "sha256": hashlib.sha256(PHOTO).hexdigest()}]
    assert any(e["kind"] == "email_in" for e in log)
    # tolerant code, and the text form
    assert loaded.json("show", "at-1", "--json")["code"] == "AT-000001"
    text = loaded.ok("show", "AT-000001")
    assert text.splitlines()[0].startswith("AT-000001  Filtración en el baño")
    assert "Bitácora:" in text


def test_show_unknown_ticket_is_one_line(loaded):
    one_line_error(loaded.run("show", "AT-999999"), "AT-999999", code=1)
    one_line_error(loaded.main("show", "AT-999999", "--json"), "AT-999999", code=1)


# --------------------------------------------------------------------------- assign, status, comment


def changes(data: dict) -> list[tuple[str, str | None, str | None]]:
    return [(e["field"], e["old"], e["new"]) for e in data["logbook"] if e["kind"] == "change"]


def test_assign_status_comment(loaded):
    out = loaded.ok("assign", "AT-000001", CARLA)
    assert out.strip() == f"AT-000001 asignada a Carla Mendoza Ríos <{CARLA}> (Asignado)"
    data = loaded.json("show", "AT-000001", "--json")
    assert data["status"] == "Asignado"
    assert data["assignee_email"] == CARLA and data["assignee"] == "Carla Mendoza Ríos"
    assert ("assignee", None, CARLA) in changes(data)
    assert ("status", "Registrado", "Asignado") in changes(data)
    assert ("assignment", [CARLA]) in loaded.outbox("AT-000001")

    # assigning again to the same user changes nothing
    before = len(data["logbook"])
    loaded.ok("assign", "AT-000001", CARLA)
    assert len(loaded.json("show", "AT-000001", "--json")["logbook"]) == before

    assert loaded.ok("status", "AT-000001", "Atendido").strip() == "AT-000001: Atendido"
    data = loaded.json("show", "AT-000001", "--json")
    assert data["status"] == "Atendido"
    assert data["attended_at"] is not None
    datetime.fromisoformat(data["attended_at"])
    assert data["alert_state"] in {"attended_on_time", "attended_late"}
    assert ("status", "Asignado", "Atendido") in changes(data)
    assert any(f == "attended_at" and old is None and new for f, old, new in changes(data))

    out = loaded.ok("comment", "AT-000001", "  Ya enviamos al técnico  ", "--public")
    assert out.startswith("AT-000001: comentario #") and "(público)" in out
    data = loaded.json("show", "AT-000001", "--json")
    last = data["logbook"][-1]
    assert (last["kind"], last["public"], last["text"]) == ("comment", True, "Ya enviamos al técnico")
    assert loaded.outbox("AT-000001")[-1] == ("public_reply", [ROSA])

    n_out = len(loaded.outbox("AT-000001"))
    out = loaded.ok("comment", "AT-000001", "Nota interna", "--by", CARLA)
    assert "(interno)" in out
    last = loaded.json("show", "AT-000001", "--json")["logbook"][-1]
    assert (last["kind"], last["public"], last["text"], last["author"]) == \
        ("comment", False, "Nota interna", "Carla Mendoza Ríos")
    assert all(ev != "public_reply" for ev, _ in loaded.outbox("AT-000001")[n_out:])


def test_ticket_action_errors_are_one_line(loaded):
    one_line_error(loaded.run("status", "AT-000001", "Inexistente"), "Inexistente", code=1)
    one_line_error(loaded.main("assign", "AT-000001", "nadie@inmobiliaria-andina.pe"),
                   "nadie@inmobiliaria-andina.pe", code=1)
    one_line_error(loaded.main("assign", "AT-999999", CARLA), "AT-999999", code=1)
    one_line_error(loaded.main("comment", "AT-000001", "hola", "--by", "nadie@x.pe"), "nadie@x.pe", code=1)
    one_line_error(loaded.main("comment", "AT-000001", "   "), code=1)
    one_line_error(loaded.main("status", "AT-000001"), "NAME")
    # nothing changed
    data = loaded.json("show", "AT-000001", "--json")
    assert data["status"] == "Registrado" and data["assignee"] is None
    assert not [e for e in data["logbook"] if e["kind"] in {"change", "comment"}]


# --------------------------------------------------------------------------- held mail


def test_held_list_release_discard(loaded):
    held_dir = loaded.home / "held"
    held_dir.mkdir()
    for n in (1, 2, 3):
        (held_dir / f"{n}.eml").write_bytes(stranger_reply(n))
    out = loaded.ok("import", held_dir)
    assert "atenciones: 0, comentarios: 0, duplicados: 0, ignorados: 0, retenidos: 3" in out
    rows = loaded.json("held", "list", "--json")
    assert len(rows) == 3
    for r in rows:
        assert {"id", "reason", "from", "subject", "received_at", "text"} <= set(r)
        datetime.fromisoformat(r["received_at"])
    first, second, third = rows
    assert first["from"] == "vecino1@example.org"
    assert "[AT-000001]" in first["subject"]
    assert "problema número 1" in first["text"]
    assert first["reason"]

    # release: a comment on the ticket it named
    out = loaded.ok("held", "release", first["id"])
    assert out.strip() == f"correo {first['id']} liberado: comentario en AT-000001"
    comments = [e for e in loaded.json("show", "AT-000001", "--json")["logbook"] if e["kind"] == "comment"]
    assert any("problema número 1" in e["text"] for e in comments)

    # release --to another ticket
    out = loaded.ok("held", "release", second["id"], "--to", "AT-000002")
    assert out.strip() == f"correo {second['id']} liberado: comentario en AT-000002"
    comments = [e for e in loaded.json("show", "AT-000002", "--json")["logbook"] if e["kind"] == "comment"]
    assert any("problema número 2" in e["text"] for e in comments)

    # discard
    assert loaded.ok("held", "discard", third["id"]).strip() == f"correo {third['id']} descartado"
    assert loaded.json("held", "list", "--json") == []
    assert loaded.ok("held", "list").strip() == "no hay correos retenidos"
    states = {r["id"]: r["state"] for r in loaded.json("held", "list", "--all", "--json")}
    assert states == {first["id"]: "released", second["id"]: "released", third["id"]: "discarded"}
    assert loaded.ticket_count() == 3

    # twice, unknown, wrong type: one line each
    one_line_error(loaded.run("held", "release", first["id"]), str(first["id"]), code=1)
    one_line_error(loaded.main("held", "discard", third["id"]), str(third["id"]), code=1)
    one_line_error(loaded.main("held", "discard", first["id"]), str(first["id"]), code=1)
    one_line_error(loaded.main("held", "release", "9999"), "9999", code=1)
    one_line_error(loaded.main("held", "release", "abc"), "abc")


def test_held_release_to_unknown_ticket_keeps_it_held(loaded):
    (loaded.home / "h.eml").write_bytes(stranger_reply(7))
    loaded.ok("import", loaded.home / "h.eml")
    [row] = loaded.json("held", "list", "--json")
    one_line_error(loaded.main("held", "release", row["id"], "--to", "AT-999999"), "AT-999999", code=1)
    assert [r["id"] for r in loaded.json("held", "list", "--json")] == [row["id"]]


# --------------------------------------------------------------------------- export


def export_json(cli: Cli, *filters: str) -> list[dict]:
    out = cli.home / "out" / "export.json"
    msg = cli.ok("export", *filters, "-o", out)
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert msg.strip() == f"{len(rows)} atenciones exportadas a {out}"
    return rows


def codes(rows: list[dict]) -> list[str]:
    return sorted(r["code"] for r in rows)


def test_export_formats_and_filters(loaded):
    rows = export_json(loaded)
    assert codes(rows) == ["AT-000001", "AT-000002", "AT-000003"]
    for r in rows:
        assert EXPORT_KEYS <= set(r), EXPORT_KEYS - set(r)
        assert isinstance(r["elapsed_days"], int)
        datetime.fromisoformat(r["requested_at"])
    assert codes(export_json(loaded, "--status", "Registrado")) == ["AT-000001", "AT-000002", "AT-000003"]
    assert codes(export_json(loaded, "--status", "registrado")) == ["AT-000001", "AT-000002", "AT-000003"]
    since = (NOW - timedelta(days=5)).date().isoformat()
    assert codes(export_json(loaded, "--requested-from", since)) == ["AT-000003"]
    assert codes(export_json(loaded, "--requested-from", "2000-01-01")) == ["AT-000001", "AT-000002",
                                                                            "AT-000003"]
    assert codes(export_json(loaded, "--days-min", "0")) == ["AT-000001", "AT-000002", "AT-000003"]
    assert codes(export_json(loaded, "--days-min", "15")) == ["AT-000001"]
    assert codes(export_json(loaded, "--alert", "on_time")) == ["AT-000003"]
    assert codes(export_json(loaded, "--alert", "overdue")) == ["AT-000001", "AT-000002"]
    assert codes(export_json(loaded, "--status", "Registrado", "--alert", "on_time",
                             "--requested-from", since, "--days-min", "0")) == ["AT-000003"]
    assert export_json(loaded, "--status", "Cerrado") == []

    csv_path = loaded.home / "out.csv"
    loaded.ok("export", "--alert", "overdue", "-o", csv_path)
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert table[0][0] == "Código" and "Días transcurridos" in table[0]
    assert sorted(r[0] for r in table[1:]) == ["AT-000001", "AT-000002"]

    xlsx_path = loaded.home / "out.xlsx"
    loaded.ok("export", "--status", "Registrado", "-o", xlsx_path)
    from openpyxl import load_workbook

    wb = load_workbook(xlsx_path, read_only=True)
    ws = wb["Atenciones"]
    values = list(ws.iter_rows(values_only=True))
    wb.close()
    assert values[0][0] == "Código" and "Alerta de la atención" in values[0]
    assert sorted(v[0] for v in values[1:]) == ["AT-000001", "AT-000002", "AT-000003"]


def test_export_errors_are_one_line(loaded):
    out = loaded.home / "out.json"
    line = one_line_error(loaded.run("export", "--requested-from", "2026-13-01", "-o", out), "2026-13-01")
    assert "requested_from" in line or "requested-from" in line, line
    line = one_line_error(loaded.main("export", "--days-min", "muchos", "-o", out), "muchos")
    assert "days_min" in line or "days-min" in line, line
    line = one_line_error(loaded.main("export", "--alert", "tarde", "-o", out), "tarde")
    assert "alert" in line
    one_line_error(loaded.run("export", "-o", loaded.home / "out.txt"), ".txt", code=1)
    one_line_error(loaded.main("export"), "--output")  # -o is required
    assert not out.exists() and not (loaded.home / "out.txt").exists()


# --------------------------------------------------------------------------- health


def test_health_without_mailbox_is_healthy(cli):
    """Decision: with no mailbox configured, `health` judges the mailboxes recorded in the database
    (polled by another host); none recorded → healthy (exit 0), only the outbox is reported."""
    cli.ok("migrate")
    proc = cli.run("health")
    assert proc.returncode == 0, proc.stderr
    assert "correos por enviar: 0" in proc.stdout
    proc = cli.main("health", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["healthy"] is True and report["mailboxes"] == []
    assert report["outbox"] == {"pending": 0, "failed": 0, "oldest_pending_at": None}


def test_health_judges_recorded_mailboxes_when_none_configured(cli):
    cli.ok("migrate")
    now = datetime.now(UTC).replace(tzinfo=None)
    with cli.sessions.begin() as s:
        s.add(MailboxState(name="postventa", last_poll_at=now, last_success_at=now - timedelta(minutes=11)))
    proc = cli.run("health")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "MAL  postventa" in proc.stdout
    assert cli.main("health", "--max-age", "3600").returncode == 0
    with cli.sessions.begin() as s:
        s.scalar(select(MailboxState)).last_success_at = now
    assert cli.main("health").returncode == 0


def test_health_with_closed_imap_port(cli):
    cli.ok("migrate")
    imap = f"imap://postventa:secret@127.0.0.1:{free_port()}/INBOX"
    proc = cli.run("health", "--json", ATENCION_IMAP_URL=imap)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["healthy"] is False
    [mb] = report["mailboxes"]
    assert (mb["name"], mb["healthy"], mb["last_success_at"]) == ("default", False, None)

    poll = cli.run("poll", "--once", ATENCION_IMAP_URL=imap)
    assert poll.returncode == 1
    assert "Traceback" not in poll.stdout + poll.stderr
    assert "default: error:" in poll.stderr
    proc = cli.main("health", "--json", ATENCION_IMAP_URL=imap)
    assert proc.returncode == 1
    [mb] = json.loads(proc.stdout)["mailboxes"]
    assert mb["last_error"] and mb["last_error_at"] and mb["last_success_at"] is None
    proc = cli.run("health", ATENCION_IMAP_URL=imap)
    assert proc.returncode == 1 and proc.stdout.startswith("MAL  default:")


def test_poll_once_closed_port_is_one_line(cli):
    cli.ok("migrate")
    imap = f"imap://postventa:secret@127.0.0.1:{free_port()}/INBOX"
    one_line_error(cli.run("poll", "--once", ATENCION_IMAP_URL=imap), "default", code=1)


# --------------------------------------------------------------------------- bad arguments, config


@pytest.mark.parametrize("args, needle", [
    (["no-such-command"], "no-such-command"),
    (["show"], "CODE"),
    (["assign", "AT-000001"], "EMAIL"),
    (["users", "add", "--email", "a@b.pe", "--name", "A", "--role", "boss", "--password", "12345678"],
     "boss"),
    (["export", "--no-such-filter", "x", "-o", "x.json"], "--no-such-filter"),
    (["held", "release", "uno"], "uno"),
    (["health", "--max-age", "diez"], "diez"),
])
def test_bad_arguments_are_one_line(bare_cli, args, needle):
    proc = bare_cli.main(*args)
    one_line_error(proc, needle)
    assert proc.stdout == ""


def test_bad_arguments_as_processes(bare_cli):
    for args, needle in (
        (["no-such-command"], "no-such-command"),
        (["show"], "CODE"),
        (["users", "add", "--email", "a@b.pe", "--name", "A", "--role", "boss", "--password", "12345678"],
         "--role"),
    ):
        proc = bare_cli.run(*args)
        one_line_error(proc, needle, code=2)
        assert proc.stdout == ""


@pytest.mark.parametrize("args", [["catalog"], ["held"], []])
def test_group_without_subcommand_is_one_line(bare_cli, args):
    one_line_error(bare_cli.run(*args))


def test_help_is_not_an_error(bare_cli):
    proc = bare_cli.run("--help")
    assert proc.returncode == 0 and "Usage:" in proc.stdout and proc.stderr == ""
    proc = bare_cli.main("export", "--help")
    assert proc.returncode == 0 and "--requested-from" in proc.stdout and "--days-min" in proc.stdout


def test_not_migrated_database_is_one_line_with_hint(cli):
    for args in (["show", "AT-000001"], ["held", "list"], ["health"],
                 ["users", "add", "--email", "a@b.pe", "--name", "A", "--role", "agent",
                  "--password", "12345678"],
                 ["catalog", "load", CATALOG], ["assign", "AT-000001", CARLA],
                 ["export", "--status", "Registrado", "-o", cli.home / "o.csv"]):
        one_line_error(cli.main(*args), "atencion migrate", code=1)
    one_line_error(cli.run("show", "AT-000001"), "atencion migrate", code=1)  # and as a process


def test_import_into_not_migrated_database_is_one_line(cli):
    write_mails(cli.home / "mails")
    one_line_error(cli.run("import", cli.home / "mails"), "atencion migrate", code=1)


def test_export_failure_leaves_no_partial_file(cli):
    out = cli.home / "out.json"
    one_line_error(cli.run("export", "-o", out), "atencion migrate", code=1)
    assert not out.exists(), out.read_bytes()[:50]


def test_bad_setting_names_the_variable(bare_cli):
    line = one_line_error(bare_cli.run("health", ATENCION_POLL_INTERVAL_S="pronto"), code=1)
    assert "poll_interval_s" in line.lower(), line


def test_bad_setting_is_one_line(bare_cli):
    one_line_error(bare_cli.run("health", ATENCION_POLL_INTERVAL_S="pronto"), "configuración", code=1)
