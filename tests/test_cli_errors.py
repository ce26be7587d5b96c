"""The `atencion` command's errors (DESIGN.md, "The atencion command"): one line on stderr in
Spanish, ``error: …``, exit code 2 for a usage error and 1 for any other, never a traceback, nothing
written — on SQLite and PostgreSQL where the database matters. The harness is tests/cli_harness.py.
"""

from __future__ import annotations

import subprocess
import sys

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
    # it names the database it used: run from another folder than the demo's, the default
    # sqlite:///var/atencion.db is another (empty) file, shown by its absolute path
    line = one_line_error(cli.main("list"), "atencion migrate", code=1)
    if cli.url.startswith("sqlite"):
        assert f"base de datos en uso: {cli.url.removeprefix('sqlite:///')})" in line, line
    else:
        assert f"base de datos en uso: {cli.url.split('://')[0]}://" in line, line


def test_not_migrated_default_database_names_its_folder(bare_cli):
    """Without ATENCION_DATABASE_URL the database is var/atencion.db of the current folder (the
    demo's when run from the project's folder): from elsewhere the hint names that other file."""
    env = {k: v for k, v in bare_cli.env.items() if k != "ATENCION_DATABASE_URL"}
    (bare_cli.home / "var").mkdir(exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "worker.cli", "list"], cwd=bare_cli.home, env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    line = one_line_error(proc, "atencion migrate", code=1)
    assert f"base de datos en uso: {bare_cli.home / 'var' / 'atencion.db'})" in line, line


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


# --------------------------------------------------------------------------- the exact Spanish lines

X = ["-o", "x.json"]

#: click's own usage errors and the values click checks as it parses: exit 2, before any database.
USAGE_ERRORS = [
    ([], "falta el subcomando; vea 'atencion --help'"),
    (["-v"], "falta el subcomando; vea 'atencion --help'"),
    (["catalog"], "falta el subcomando; vea 'atencion catalog --help'"),
    (["no-such-command"], "no existe el comando 'no-such-command' (vea 'atencion --help')"),
    (["shw", "AT-1"], "no existe el comando 'shw'; ¿quiso decir show?"),
    (["-x"], "no existe la opción -x (vea 'atencion --help')"),
    (["export", "--no-such-filter", "x", *X], "no existe la opción --no-such-filter (vea 'atencion export --help')"),
    (["export", "--stat", "Cerrado", *X], "no existe la opción --stat; ¿quiso decir --alert, --contract o --status?"),
    (["show"], "falta el argumento CODE"),
    (["import"], "falta el argumento PATHS"),
    (["held", "release"], "falta el argumento ID"),
    (["export"], "falta la opción -o/--output"),
    (["users", "add", "--email", "a@b.pe", "--name", "A", "--password", "12345678"],
     "falta la opción --role (use admin, agent o legal)"),
    (["export", "-o"], "la opción -o necesita un valor"),
    (["show", "--json=sí", "AT-1"], "la opción --json no admite un valor"),
    (["show", "AT-1", "extra"], "sobra el argumento 'extra'"),
    (["show", "AT-1", "de", "más"], "sobran los argumentos 'de más'"),
    (["users", "add", "--email", "a@b.pe", "--name", "A", "--role", "boss", "--password", "12345678"],
     "--role: valor no válido 'boss' (use admin, agent o legal)"),
    (["held", "release", "uno"], "ID: número entero no válido 'uno'"),
    (["held", "discard", "0"], "ID: 0 fuera de rango: debe ser mayor o igual a 1"),
    (["health", "--max-age", "diez"], "--max-age: número entero no válido 'diez'"),
    (["health", "--max-age", "0"], "--max-age: 0 fuera de rango: debe ser mayor o igual a 1"),
    (["run", "--interval", "0"], "--interval: 0 fuera de rango: debe ser mayor o igual a 0.1"),
    (["demo", "--interval", "pronto"], "--interval: número no válido 'pronto'"),
    # typed filters: checked by tickets.queries.parse_value as click parses them
    (["export", "--requested-from", "2026-13-01", *X],
     "--requested-from: fecha no válida '2026-13-01' (use AAAA-MM-DD)"),
    (["export", "--attended-to", "06/01/2025", *X], "--attended-to: fecha no válida '06/01/2025' (use AAAA-MM-DD)"),
    (["export", "--days-min", "muchos", *X],
     "--days-min: número de días no válido 'muchos' (use un entero mayor o igual a 0)"),
    (["export", "--days-max", "-1", *X], "--days-max: número de días no válido '-1' (use un entero mayor o igual a 0)"),
    (["export", "--alert", "tarde", *X],
     "--alert: alerta no válida 'tarde' (use overdue, on_time, attended_on_time o attended_late)"),
    (["export", "--kind", "queja formal", *X],
     "--kind: formulario desconocido 'queja formal' (válidos: atencion, reclamo, solicitud)"),
    (["export", "--open", "quizás", *X],
     "--open: valor no válido 'quizás' (use 1: solo las abiertas, o 0: solo las cerradas)"),
    (["export", "--q", "x" * 201, *X], "--q: texto demasiado largo (201 caracteres; máximo 200)"),
    # two filters that contradict each other
    (["export", "--requested-from", "2025-02-01", "--requested-to", "2025-01-01", *X],
     "--requested-to: la fecha final 2025-01-01 es anterior a la inicial 2025-02-01"),
    (["export", "--days-min", "5", "--days-max", "2", *X], "--days-max: el máximo (2) es menor que el mínimo (5)"),
]


@pytest.mark.parametrize("args, message", USAGE_ERRORS, ids=[" ".join(a)[:40] or "(nada)" for a, _ in USAGE_ERRORS])
def test_usage_errors_are_exact_spanish_lines(bare_cli, args, message):
    proc = bare_cli.main(*args)
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, f"error: {message}\n", "")
    assert not (bare_cli.home / "atencion.db").exists()  # nothing opened, nothing written
    assert not (bare_cli.home / "x.json").exists()


def test_usage_errors_as_processes(bare_cli):
    for args, message in USAGE_ERRORS[3:6] + USAGE_ERRORS[-2:]:
        proc = bare_cli.run(*args)
        assert (proc.returncode, proc.stderr, proc.stdout) == (2, f"error: {message}\n", ""), args


#: An unknown catalog value in a filter: an error listing the valid ones (exit 1), never an empty file.
CATALOG_ERRORS = [
    ("--status", "Cerradoo",
     "estado desconocido 'Cerradoo' (válidos: Anulado, Asignado, Atendido, Cerrado, En proceso, Registrado)"),
    ("--type", "Garantías", "tipo de atención desconocido 'Garantías' (válidos: Atención, Garantía / Postventa, "
                            "Reclamo, Solicitud)"),
    ("--category", "Jardinería", "categoría desconocida 'Jardinería' (válidas: Acabados, "),
    ("--project", "Los Pinos", "proyecto desconocido 'Los Pinos' (válidos: Condominio Los Cedros, "),
    ("--subdivision", "Torre Z", "torre o bloque desconocido 'Torre Z' (válidos: Bloque 1, "),
    ("--unit-type", "castillo", "tipo de unidad desconocido 'castillo' (válidos: casa, "),
    ("--promoter", "Otra S.A.", "promotor desconocido 'Otra S.A.' (válidos: "),
    ("--area", "Marte", "área desconocida 'Marte' (válidas: Atención al Cliente, Calidad, Legal, Postventa)"),
    ("--priority", "Crítica", "prioridad desconocida 'Crítica' (válidas: Alta, Baja, Media, Urgente)"),
    ("--assignee", "nadie@inmobiliaria-andina.pe",
     "usuario desconocido 'nadie@inmobiliaria-andina.pe' (válidos: none, andrea.castillo@inmobiliaria-andina.pe, "),
]


def test_unknown_catalog_values_list_the_valid_ones(loaded):
    out = loaded.home / "out.json"
    for option, value, message in CATALOG_ERRORS:
        proc = loaded.main("export", "--status", "registrado", option, value, "-o", out)
        line = one_line_error(proc, code=1)
        assert line.startswith(f"error: {option}: {message}"), line
        assert line.endswith(")") and proc.stdout == ""
        assert not out.exists()
    # as a process too, and the exact line
    proc = loaded.run("export", "--status", "Cerradoo", "-o", out)
    assert (proc.returncode, proc.stderr) == (1, f"error: --status: {CATALOG_ERRORS[0][2]}\n")
    assert not out.exists()


def test_output_into_a_missing_folder_is_an_error(loaded):
    for target in (loaded.home / "no-hay" / "x.json", loaded.home / "no-hay" / "sub" / "x.xlsx"):
        proc = loaded.main("export", "--status", "Registrado", "-o", target)
        assert (proc.returncode, proc.stderr) == (1, f"error: -o: no existe la carpeta {target.parent}\n")
    proc = loaded.run("export", "-o", "no-hay/x.csv")  # relative to the working directory
    assert (proc.returncode, proc.stderr) == (1, "error: -o: no existe la carpeta no-hay\n")
    assert not (loaded.home / "no-hay").exists()
    (loaded.home / "carpeta.json").mkdir()
    proc = loaded.main("export", "-o", loaded.home / "carpeta.json")
    assert (proc.returncode, proc.stderr) == (1, f"error: -o: {loaded.home / 'carpeta.json'} es una carpeta\n")


def test_users_add_errors_are_exact(cli):
    cli.ok("migrate")
    base = ["users", "add", "--email", "ana@inmobiliaria-andina.pe", "--name", "Ana", "--role", "agent"]
    for args, message in (
        ([*base, "--password", "corta"], "--password: debe tener al menos 8 caracteres"),
        ([*base, "--area", "Marte", "--password", "secreto-123"],
         "--area: área desconocida 'Marte' (válidas: Postventa)"),
        (["users", "add", "--email", "sin-arroba", "--name", "X", "--role", "agent", "--password", "secreto-123"],
         "--email: correo no válido 'sin-arroba'"),
        (["users", "add", "--email", "a@b.pe", "--name", " ", "--role", "agent", "--password", "secreto-123"],
         "--name: el nombre está vacío"),
    ):
        proc = cli.main(*args)
        assert (proc.returncode, proc.stderr, proc.stdout) == (1, f"error: {message}\n", ""), args
    with cli.sessions() as s:
        assert list(s.scalars(select(User))) == []


def test_held_twice_says_what_became_of_it(loaded):
    for n in (1, 2):
        (loaded.home / f"{n}.eml").write_bytes(stranger_reply(n))
        loaded.ok("import", loaded.home / f"{n}.eml")
    released, discarded = (r["id"] for r in loaded.json("held", "list", "--json"))
    loaded.ok("held", "release", released)
    assert loaded.ok("held", "discard", discarded).strip() == f"correo {discarded} descartado"
    for args, held_id, word in ((["discard"], discarded, "descartado"), (["release"], discarded, "descartado"),
                                (["discard"], released, "liberado"), (["release"], released, "liberado"),
                                (["release", "--to", "AT-000002"], released, "liberado")):
        proc = loaded.main("held", *args[:1], held_id, *args[1:])
        assert (proc.returncode, proc.stderr) == (1, f"error: el correo retenido {held_id} ya fue {word}\n"), args
    proc = loaded.run("held", "discard", discarded)
    assert (proc.returncode, proc.stderr) == (1, f"error: el correo retenido {discarded} ya fue descartado\n")
    states = {r["id"]: r["state"] for r in loaded.json("held", "list", "--all", "--json")}
    assert states == {released: "released", discarded: "discarded"}
    # the discard is on the logbook of the ticket it named, once
    notes = [e for e in loaded.json("show", "AT-000001", "--json")["logbook"] if e["kind"] == "note"]
    assert [e["text"] for e in notes] == [
        f"Correo retenido {discarded} descartado (vecino2@example.org: Re: [AT-000001] Filtración en el baño)"]
    # the plain list speaks Spanish
    text = loaded.ok("held", "list", "--all")
    assert "liberado" in text and "descartado" in text and "released" not in text and "discarded" not in text
