"""The `atencion` command's errors (DESIGN.md, "The atencion command"): one line on stderr in
Spanish, ``error: …``, exit code 2 for a usage error and 1 for any other, never a traceback, nothing
written — on SQLite and PostgreSQL where the database matters. The harness is tests/cli_harness.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.cli_harness import CARLA, CATALOG, one_line_error, stranger_reply, write_mails
from tests.servers import free_port
from tickets.models import Category, Promoter, User

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

def test_import_errors_are_one_line(cli):
    cli.ok("migrate")
    one_line_error(cli.run("import", cli.home / "no-existe"), "no-existe", code=1)
    one_line_error(cli.main("import"), "PATHS")  # missing argument: a usage error

def test_show_unknown_ticket_is_one_line(loaded):
    one_line_error(loaded.run("show", "AT-999999"), "AT-999999", code=1)
    one_line_error(loaded.main("show", "AT-999999", "--json"), "AT-999999", code=1)

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

def test_held_release_to_unknown_ticket_keeps_it_held(loaded):
    (loaded.home / "h.eml").write_bytes(stranger_reply(7))
    loaded.ok("import", loaded.home / "h.eml")
    [row] = loaded.json("held", "list", "--json")
    one_line_error(loaded.main("held", "release", row["id"], "--to", "AT-999999"), "AT-999999", code=1)
    assert [r["id"] for r in loaded.json("held", "list", "--json")] == [row["id"]]

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
