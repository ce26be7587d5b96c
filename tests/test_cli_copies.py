"""`atencion duplicate` and `atencion requirement` (issue 10, item 3): "Duplicar" and "Crear
requerimiento" from the terminal, through `tickets.copies` as the panel — the new code printed,
the copy's data, the pliego (``show --json``'s ``pliego`` and ``duplicated_from``), the logbook
and the history, no acknowledgement in the outbox, and one Spanish line for every bad argument
(exit 2 for a usage error, 1 for a refused value). SQLite and PostgreSQL (tests/cli_harness.py).
"""

from __future__ import annotations

from tests.cli_harness import CARLA, ROSA, changes, one_line_error

REQ = ("--subject", "Copia de planos", "--detail", "Necesito los planos de instalaciones.",
       "--type", "Solicitud", "--category", "Documentación y trámites")


def events(data: dict) -> list[str]:
    return [e["text"] for e in data["logbook"] if e["kind"] == "event"]


def test_duplicate_prints_the_code_and_copies_the_data_only(loaded):
    loaded.ok("set", "AT-000001", "--priority", "Alta", "--category", "Filtraciones y humedad")
    loaded.ok("status", "AT-000001", "En proceso")
    before = loaded.outbox("AT-000001")
    assert loaded.ok("duplicate", "at-1", "--by", CARLA).strip() == "AT-000004"
    new, orig = loaded.json("show", "AT-000004", "--json"), loaded.json("show", "AT-000001", "--json")
    for key in ("subject", "kind", "type", "category", "priority", "area", "project", "subdivision", "unit",
                "promoter", "requester_name", "requester_email", "holder", "contract_number"):
        assert new[key] == orig[key], key
    assert new["detail"] == orig["detail"] and new["priority"] == "Alta" and new["contract_number"]
    assert (new["status"], orig["status"], new["attended_at"]) == ("Registrado", "En proceso", None)
    assert new["requested_at"] > orig["requested_at"] and new["registered_by"] == CARLA
    assert (new["duplicated_from"], orig["duplicated_from"], new["pliego"]) == ("AT-000001", None, [])
    # the copy's logbook: no mail, no file of the original's; its history names the original
    assert [e["kind"] for e in new["logbook"]] == ["event", "event", "change"]
    assert events(new) == ["Atención registrada por la línea de comandos (Carla Mendoza Ríos)",
                           "Duplicada desde AT-000001"]
    assert changes(new) == [("duplicated_from", None, "AT-000001")]
    assert events(orig)[-1] == "Duplicada en AT-000004"
    assert loaded.outbox("AT-000004") == [] and loaded.outbox("AT-000001") == before
    shown = loaded.ok("show", "AT-000004")
    assert "Duplicada desde: AT-000001" in shown and "duplicada desde: — → AT-000001" in shown


def test_requirement_joins_the_pliego_and_sends_no_acknowledgement(loaded):
    out = loaded.ok("requirement", "AT-000001", *REQ, "--priority", "baja", "--kind", "solicitud",
                    "--requested-at", "2025-01-05T09:30")
    assert out.strip() == "AT-000004"
    new, orig = loaded.json("show", "AT-000004", "--json"), loaded.json("show", "AT-000001", "--json")
    for key in ("project", "subdivision", "unit", "promoter", "requester_name", "requester_email", "holder",
                "contract_number"):
        assert new[key] == orig[key], key
    assert orig["requester_email"] == ROSA and orig["contract_number"]
    assert (new["subject"], new["type"], new["category"], new["priority"], new["kind"], new["status"]) == (
        "Copia de planos", "Solicitud", "Documentación y trámites", "Baja", "solicitud", "Registrado")
    assert new["requested_at"] == "2025-01-05T09:30:00-05:00"
    assert [p["code"] for p in new["pliego"]] == [p["code"] for p in orig["pliego"]] == ["AT-000001", "AT-000004"]
    assert changes(new) == [("group", None, "AT-000001")] and changes(orig)[-1] == ("group", None, "AT-000001")
    assert events(new)[-1] == "Requerimiento del pliego de AT-000001"
    assert events(orig)[-1] == "Nuevo requerimiento del pliego: AT-000004"
    assert loaded.outbox("AT-000004") == []
    # from the second one, with an assignee: the same head; only the assignee is mailed
    data = loaded.json("requirement", "AT-000004", *REQ, "--assignee", CARLA, "--json")
    assert data["code"] == "AT-000005" and data["assignee_email"] == CARLA
    assert [p["code"] for p in data["pliego"]] == ["AT-000001", "AT-000004", "AT-000005"]
    assert loaded.outbox("AT-000005") == [("assignment", [CARLA])]
    assert "Pliego: AT-000001 (Registrado), AT-000004 (Registrado), AT-000005 (Asignado)" in loaded.ok(
        "show", "AT-000001")


def test_bad_arguments_are_one_spanish_line(loaded):
    # usage errors: exit 2
    one_line_error(loaded.main("duplicate"), "CODE", code=2)
    one_line_error(loaded.main("duplicate", "hola"), "CODE", "hola", code=2)
    one_line_error(loaded.main("requirement", "AT-000001", "--detail", "x", "--type", "Solicitud",
                               "--category", "Otros"), "--subject", code=2)
    one_line_error(loaded.main("requirement", "AT-000001", "--subject", "x", "--detail", "y",
                               "--category", "Otros"), "--type", code=2)
    one_line_error(loaded.main("requirement", "AT-000001", *REQ, "--requested-at", "05/01/2025"),
                   "--requested-at", code=2)
    one_line_error(loaded.main("requirement", "AT-000001", *REQ, "--requested-at", "2999-01-01"),
                   "--requested-at", "futura", code=2)
    one_line_error(loaded.main("requirement", "AT-000001", *REQ, "--bogus"), "--bogus", code=2)
    # refused values: exit 1, as `show` and `create`
    one_line_error(loaded.main("duplicate", "AT-999999"), "AT-999999", code=1)
    one_line_error(loaded.main("requirement", "AT-999999", *REQ), "AT-999999", code=1)
    one_line_error(loaded.main("duplicate", "AT-000001", "--by", "nadie@x.pe"), "--by", code=1)
    one_line_error(loaded.main("requirement", "AT-000001", *REQ, "--type", "Mudanza"), "--type", "Mudanza", code=1)
    one_line_error(loaded.main("requirement", "AT-000001", *REQ, "--category", "Nada"), "--category", code=1)
    one_line_error(loaded.main("requirement", "AT-000001", *REQ, "--priority", "Altísima"), "--priority", code=1)
    one_line_error(loaded.main("requirement", "AT-000001", *REQ, "--kind", "queja"), "--kind", code=1)
    one_line_error(loaded.main("requirement", "AT-000001", *REQ, "--assignee", "nadie@x.pe"), "--assignee", code=1)
    one_line_error(loaded.main("requirement", "AT-000001", "--subject", " ", "--detail", "y", "--type",
                               "Solicitud", "--category", "Otros"), "--subject", code=1)
    assert loaded.ticket_count() == 3
    assert loaded.json("show", "AT-000001", "--json")["pliego"] == []  # nothing half-written
    # and as a real process
    one_line_error(loaded.run("duplicate", "xyz"), "CODE", code=2)
    assert loaded.run("duplicate", "AT-000002").stdout.strip() == "AT-000004"
