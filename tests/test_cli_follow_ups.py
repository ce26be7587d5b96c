"""`atencion follow-up add|done|list` (worker/cli/follow_ups.py) on SQLite and PostgreSQL: the
same services as the panel, so the bitácora and the history (`show --json`) say what happened;
bad input is one Spanish line naming the option, never a traceback."""

from __future__ import annotations

from datetime import timedelta

from tests.cli_harness import CARLA, one_line_error
from tickets.sla import local_today

LIMA = "America/Lima"


def follow_up_log(cli, code: str) -> list[tuple]:
    data = cli.json("show", code, "--json")
    return [(e["kind"], e["text"], e.get("field"), e.get("old"), e.get("new")) for e in data["logbook"]
            if e["kind"] == "follow_up" or (e.get("field") or "").startswith("follow_up")]


def test_add_list_done_and_undo(loaded) -> None:
    today = local_today(LIMA)
    day = f"{today:%d/%m/%Y}"
    loaded.ok("assign", "AT-000001", CARLA)
    out = loaded.ok("follow-up", "add", "AT-000001", "--due", today.isoformat(), "--note", "Llamar a Rosa")
    assert out.strip() == f"seguimiento 1 en AT-000001: vence {today.isoformat()}, a cargo de Carla Mendoza Ríos"
    assert follow_up_log(loaded, "AT-000001") == [
        ("follow_up", f"Seguimiento para el {day} a cargo de Carla Mendoza Ríos: Llamar a Rosa", None, None, None)]

    (item,) = loaded.json("follow-up", "list", "AT-000001", "--json")
    assert {k: item[k] for k in ("id", "code", "due_date", "note", "owner_email", "done", "overdue")} == {
        "id": 1, "code": "AT-000001", "due_date": today.isoformat(), "note": "Llamar a Rosa", "owner_email": CARLA,
        "done": False, "overdue": False}
    assert [i["id"] for i in loaded.json("follow-up", "list", "--json")] == [1]  # due today
    assert "pendiente" in loaded.ok("follow-up", "list")

    assert loaded.ok("follow-up", "done", "1", "--by", CARLA).strip() == "seguimiento 1 de AT-000001: hecho"
    assert loaded.ok("follow-up", "done", "1").strip() == "seguimiento 1 de AT-000001: hecho (ya lo estaba)"
    assert loaded.json("follow-up", "list", "--json") == []
    assert loaded.ok("follow-up", "list").strip() == "no hay seguimientos para hoy ni vencidos"
    assert loaded.ok("follow-up", "done", "1", "--undo").strip() == "seguimiento 1 de AT-000001: pendiente"
    assert follow_up_log(loaded, "AT-000001")[1:] == [
        ("change", "Seguimiento #1", "follow_up_done", "pendiente", "hecho"),
        ("follow_up", f"Seguimiento del {day} hecho: Llamar a Rosa", None, None, None),
        ("change", "Seguimiento #1", "follow_up_done", "hecho", "pendiente"),
        ("follow_up", f"Seguimiento del {day} pendiente otra vez: Llamar a Rosa", None, None, None),
    ]
    # --owner: another staff member; the reminder is not mailed now (only on its due day)
    later = (today + timedelta(days=3)).isoformat()
    loaded.ok("follow-up", "add", "AT-000002", "--due", later, "--note", "Revisar", "--owner", CARLA)
    assert all(event != "follow_up_reminder" for event, _ in loaded.outbox("AT-000002"))
    # an unassigned ticket and no --owner: the one who adds it (--by) owns it, as the panel proposes
    assert not loaded.json("show", "AT-000003", "--json")["assignee"]
    out = loaded.ok("follow-up", "add", "AT-000003", "--due", later, "--note", "Enviar planos", "--by", CARLA)
    assert out.strip() == f"seguimiento 3 en AT-000003: vence {later}, a cargo de Carla Mendoza Ríos"

    # edit: each changed field in the history
    later2 = (today + timedelta(days=5)).isoformat()
    out = loaded.ok("follow-up", "edit", "2", "--due", later2, "--note", "Revisar la grieta")
    assert out.strip() == "seguimiento 2 de AT-000002: fecha, nota cambiados"
    assert loaded.ok("follow-up", "edit", "2", "--note", "Revisar la grieta").strip() == \
        "seguimiento 2 de AT-000002: sin cambios"
    d1, d2 = (f"{today + timedelta(days=n):%d/%m/%Y}" for n in (3, 5))
    assert follow_up_log(loaded, "AT-000002")[1:] == [
        ("change", "Seguimiento #2", "follow_up_due_date", d1, d2),
        ("change", "Seguimiento #2", "follow_up_note", "Revisar", "Revisar la grieta"),
        ("follow_up", f"Seguimiento modificado: para el {d2} a cargo de Carla Mendoza Ríos: Revisar la grieta",
         None, None, None),
    ]


def test_bad_input_is_one_spanish_line(loaded) -> None:
    today = local_today(LIMA)
    one_line_error(loaded.main("follow-up", "add", "AT-000003", "--due", today.isoformat(), "--note", "x"),
                   "--owner: la atención no tiene usuario asignado; indique el responsable (--owner CORREO) "
                   "o quién lo agrega (--by CORREO)")
    one_line_error(loaded.main("follow-up", "add", "AT-000003", "--due", "10/12/2026", "--note", "x",
                               "--owner", CARLA), "--due: fecha no válida '10/12/2026' (use AAAA-MM-DD)")
    yesterday = (today - timedelta(days=1)).isoformat()
    one_line_error(loaded.main("follow-up", "add", "AT-000003", "--due", yesterday, "--note", "x", "--owner", CARLA),
                   "--due: La fecha de vencimiento no puede ser anterior a hoy")
    one_line_error(loaded.main("follow-up", "add", "AT-000003", "--due", today.isoformat(), "--note", " ",
                               "--owner", CARLA), "--note: Escriba la nota del seguimiento.")
    one_line_error(loaded.main("follow-up", "add", "AT-000003", "--due", today.isoformat(), "--note", "x",
                               "--owner", "nadie@x.pe"), "--owner: no existe el usuario activo nadie@x.pe")
    one_line_error(loaded.main("follow-up", "done", "99"), "no existe el seguimiento 99")
    one_line_error(loaded.main("follow-up", "edit", "99", "--note", "x"), "no existe el seguimiento 99")
    one_line_error(loaded.main("follow-up", "edit", "1"), "indique al menos un campo")
    one_line_error(loaded.main("follow-up", "add", "AT-000099", "--due", today.isoformat(), "--note", "x"),
                   "no existe la atención AT-000099")
    assert follow_up_log(loaded, "AT-000003") == []
