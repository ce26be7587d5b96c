"""`atencion list` (DESIGN.md, "The atencion command"): the same filters and rows as `export`, the
table's columns, --sort, --limit/--all, --json, and the Spanish errors. SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import worker.cli
from tests.cli_harness import EXPORT_KEYS


@pytest.fixture
def run_cli(Session, tmp_path):
    url = Session.kw["bind"].url.render_as_string(hide_password=False)
    env = {"ATENCION_DATABASE_URL": url, "ATENCION_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "160"}

    def run(*args: str):
        return CliRunner().invoke(worker.cli.cli, list(args), env=env)

    return run


def ok(result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_table(run_cli):
    out = ok(run_cli("list", "--sort", "code"))
    lines = out.splitlines()
    assert lines[0].split() == ["Código", "Asunto", "Solicitante", "Estado", "Asignado", "Días", "Alerta"]
    assert [line.split()[0] for line in lines[1:6]] == [f"AT-00000{n}" for n in range(1, 6)]
    assert "Puerta del baño no cierra" in lines[1] and "Ana Torres" in lines[1] and "María Quispe" in lines[1]
    assert lines[-1] == "5 atenciones"


@pytest.mark.parametrize("options", [
    [], ["--status", "registrado"], ["--project", "Los Olivos"], ["--alert", "overdue"],
    ["--kind", "reclamo"], ["--days-min", "5"], ["--q", "zzz"], ["--assignee", "none"],
    ["--status", "Atendido", "--status", "cerrado"],
])
def test_same_rows_as_export(run_cli, tmp_path, options):
    listed = json.loads(ok(run_cli("list", *options, "--all", "--json")))
    out = tmp_path / "e.json"
    ok(run_cli("export", *options, "-o", str(out)))
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert listed == exported  # same keys, same rows, same (default) order
    assert all(set(r) == EXPORT_KEYS for r in listed)


def test_sort_and_limit(run_cli):
    rows = json.loads(ok(run_cli("list", "--sort", "-code", "--limit", "2", "--json")))
    assert [r["code"] for r in rows] == ["AT-000005", "AT-000004"]
    out = ok(run_cli("list", "--sort", "priority", "--limit", "2"))
    assert out.splitlines()[-1] == "2 atenciones de 5 (use --limit N o --all para ver más)"
    assert [r["code"] for r in json.loads(ok(run_cli("list", "--json")))][:1] == ["AT-000003"]  # -requested_at


def test_a_catalog_option_repeated_means_either(run_cli):
    rows = json.loads(ok(run_cli("list", "--status", "Atendido", "--status", "cerrado", "--json")))
    assert sorted(r["code"] for r in rows) == ["AT-000001", "AT-000004"]
    rows = json.loads(ok(run_cli("list", "--priority", "alta", "--priority", "Urgente", "--unit", "e-12",
                                 "--json")))
    assert [r["code"] for r in rows] == ["AT-000002"]


def test_no_rows(run_cli):
    assert ok(run_cli("list", "--q", "zzz")) == "No hay atenciones con estos filtros.\n"
    assert json.loads(ok(run_cli("list", "--q", "zzz", "--json"))) == []


@pytest.mark.parametrize("args, message", [
    (["--status", "Cerradoo"], "error: --status: estado desconocido 'Cerradoo' (válidos: Anulado, Asignado, "
                               "Atendido, Cerrado, En proceso, Registrado)"),
    (["--sort", "elapsed_days"], "error: --sort: orden no válido 'elapsed_days' (use requested_at, "),
    (["--limit", "5", "--all"], "error: --limit y --all no pueden usarse juntos"),
    (["--limit", "0"], "error: --limit: 0 fuera de rango"),
    (["--days-min", "tres"], "error: --days-min: número de días no válido 'tres'"),
    (["--status", "Atendido", "--status", "Cerradoo"], "error: --status: estado desconocido 'Cerradoo'"),
    (["--unit", "ZZZ"], "error: --unit: unidad desconocida 'ZZZ'"),
    (["--days-min", "800000"], "error: --days-min: número de días fuera de rango 800000"),
    (["--limit", "9223372036854775808"], "error: --limit: 9223372036854775808 fuera de rango"),
    (["--q", "caf\udce9"], "error: --q: el texto contiene caracteres no válidos"),
])
def test_errors(Session, tmp_path, monkeypatch, args, message):
    url = Session.kw["bind"].url.render_as_string(hide_password=False)
    monkeypatch.setenv("ATENCION_DATABASE_URL", url)
    monkeypatch.setenv("ATENCION_DATA_DIR", str(tmp_path / "var"))
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = worker.cli.run(["list", *args])
    assert code != 0
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines


def test_a_narrow_terminal_never_cuts_the_code(Session, monkeypatch, capsys):
    """In a 60-column terminal the texts are cut with … but the code stays whole: it is what the
    user types next (`atencion show CODE`)."""
    from rich.console import Console

    from tickets.queries import iter_ticket_rows
    from worker.cli import listing

    monkeypatch.setattr(listing, "Console", lambda **kw: Console(width=60, force_terminal=True,
                                                                 color_system=None, **kw))
    with Session() as s:
        rows = list(iter_ticket_rows(s, order="code"))
    listing.print_table(rows)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:6]] == [f"AT-00000{n}" for n in range(1, 6)]
    assert all(len(line) <= 60 for line in lines)


def test_a_piped_list_keeps_status_days_and_alert_whole(Session, monkeypatch, capsys):
    """Piped (120 columns, as `atencion list | less`): the subject and names are cut with …, never
    the status, the elapsed days or the alert, which are what the list is read for."""
    from rich.console import Console

    from tickets.queries import iter_ticket_rows
    from worker.cli import listing

    monkeypatch.setattr(listing, "Console", lambda **kw: Console(width=120, force_terminal=True,
                                                                 color_system=None, **kw))
    with Session() as s:
        rows = list(iter_ticket_rows(s, order="code"))
    for r in rows:  # long texts, as the demo's mail has
        r.subject = "Filtración de agua en el techo del baño principal y en el pasillo " * 2
        r.requester_name = "Luis Alberto Fernández Paredes de la Torre"
    listing.print_table(rows)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-3:] == ["Asignado", "Días", "Alerta"]
    for r, line in zip(rows, lines[1:], strict=False):
        assert f" {r.status} " in line and line.rstrip().endswith(f"{r.elapsed_days}  {r.alert}".rstrip()), line
        assert "…" in line
    assert all(len(line) <= 120 for line in lines)
