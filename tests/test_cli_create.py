"""`atencion create` (DESIGN.md, "The atencion command"): "Nueva Atención" from the terminal, with
"Buscar por" (``--document``/``--contract``) and ``--requested-at``, on SQLite and PostgreSQL. The
harness (the ``cli`` and ``loaded`` fixtures) is tests/cli_harness.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.cli_harness import CARLA, EXPORT_KEYS, ROSA, one_line_error
from tickets.models import Ticket
from worker.cli.create import requested_datetime
from worker.cli.spanish import InvalidValue

SUBJECT = ("--subject", "Puerta del closet descolgada", "--detail", "La puerta del closet se salió del riel.")


def test_create_with_an_email_prints_the_code_and_acknowledges(loaded):
    out = loaded.ok("create", *SUBJECT, "--requester-email", "nuevo@example.org",
                    "--requester-name", "Nuevo Cliente", "--priority", "Alta", "--kind", "solicitud")
    code = out.strip()
    assert code == "AT-000004"
    data = loaded.json("show", code, "--json")
    assert (data["requester_email"], data["requester_name"]) == ("nuevo@example.org", "Nuevo Cliente")
    assert (data["priority"], data["kind"], data["status"]) == ("Alta", "solicitud", "Registrado")
    assert data["detail"] == "La puerta del closet se salió del riel."
    assert data["logbook"][0]["kind"] == "event" and "línea de comandos" in data["logbook"][0]["text"]
    assert loaded.outbox(code) == [("acknowledgement", ["nuevo@example.org"])]


def test_create_by_document_fills_the_header(loaded):
    data = loaded.json("create", *SUBJECT, "--document", "46781234", "--by", CARLA, "--json")
    assert EXPORT_KEYS <= set(data) and "logbook" in data
    assert data["code"] == "AT-000004"
    assert (data["requester_name"], data["requester_email"]) == ("Óscar Tello Guzmán", "oscar.tello@yahoo.es")
    assert (data["project"], data["subdivision"], data["unit"], data["contract_number"], data["holder"]) == (
        "Residencial Los Olivos", "Torre A", "101", "CV-2023-0001", "Óscar Tello Guzmán")
    assert data["promoter"]
    with loaded.sessions() as s:
        t = s.scalar(select(Ticket).where(Ticket.code == "AT-000004"))
        assert (t.channel, t.registered_by.email, t.requester_client.document_number) == ("cli", CARLA, "46781234")
    assert t.registered_by_id and data["logbook"][0]["kind"] == "event"
    assert loaded.outbox("AT-000004") == [("acknowledgement", ["oscar.tello@yahoo.es"])]


def test_create_by_contract_alone(loaded):
    data = loaded.json("create", *SUBJECT, "--contract", "cv-2024-0105", "--json")
    assert (data["contract_number"], data["project"], data["subdivision"], data["unit"]) == (
        "CV-2024-0105", "Edificio Mirador de Surco", "Torre 2", "402")
    assert data["requester_name"] == data["holder"] == "Javier Huerta Campos"


def test_a_client_with_two_contracts_must_pick_one(loaded):
    proc = loaded.main("create", *SUBJECT, "--document", "09876543")
    one_line_error(proc, "--contract", "CV-2023-0004", "CV-2024-0105", code=1)
    assert loaded.ticket_count() == 3
    data = loaded.json("create", *SUBJECT, "--document", "09876543", "--contract", "CV-2024-0105", "--json")
    assert (data["contract_number"], data["unit"]) == ("CV-2024-0105", "402")
    proc = loaded.main("create", *SUBJECT, "--document", "09876543", "--contract", "CV-2023-0001")
    one_line_error(proc, "--contract", "CV-2023-0001", "no es de")


def test_create_errors_are_one_spanish_line(loaded):
    proc = loaded.main("create", *SUBJECT)
    one_line_error(proc, "--requester-email", "--document", code=2)
    proc = loaded.main("create", "--detail", "x", "--requester-email", ROSA)
    one_line_error(proc, "--subject", code=2)
    one_line_error(loaded.main("create", *SUBJECT, "--document", "11111111"), "--document", "11111111", code=1)
    one_line_error(loaded.main("create", *SUBJECT, "--contract", "CV-0"), "--contract", "CV-0", code=1)
    one_line_error(loaded.main("create", *SUBJECT, "--requester-email", ROSA, "--type", "Mudanza"),
                   "--type", "Mudanza", code=1)
    one_line_error(loaded.main("create", *SUBJECT, "--requester-email", ROSA, "--project", "Residencial Los Olivos",
                               "--unit", "999"), "--unit", "999", code=1)
    one_line_error(loaded.main("create", *SUBJECT, "--requester-email", ROSA, "--kind", "otro"), "--kind", code=1)
    one_line_error(loaded.main("create", *SUBJECT, "--contract", "CV-2023-0001", "--project",
                               "Edificio Mirador de Surco"), "--project", "CV-2023-0001", code=1)
    assert loaded.ticket_count() == 3


def test_create_with_project_and_unit(loaded):
    data = loaded.json("create", *SUBJECT, "--requester-email", "x@example.org", "--project",
                       "Edificio Mirador de Surco", "--subdivision", "Torre 1", "--unit", "501",
                       "--type", "Atención", "--json")
    assert (data["project"], data["subdivision"], data["unit"]) == ("Edificio Mirador de Surco", "Torre 1", "501")
    # Rosa's email matches her contract in Los Olivos; the project given wins and drops it
    data = loaded.json("create", *SUBJECT, "--requester-email", ROSA, "--project", "Edificio Mirador de Surco",
                       "--json")
    assert (data["project"], data["contract_number"], data["unit"], data["holder"]) == (
        "Edificio Mirador de Surco", None, None, None)


def test_create_with_requested_at_a_local_date_or_date_time(loaded):
    data = loaded.json("create", *SUBJECT, "--requester-email", ROSA, "--requested-at", "2025-01-05T09:30",
                       "--json")
    assert data["requested_at"] == "2025-01-05T09:30:00-05:00"  # America/Lima, the configured zone
    assert data["logbook"][0]["at"].startswith("2025-01-05T09:30")
    data = loaded.json("create", *SUBJECT, "--requester-email", ROSA, "--requested-at", "2025-01-04", "--json")
    assert data["requested_at"].startswith("2025-01-04T") and data["requested_at"].endswith("-05:00")
    assert data["alert_state"] == "overdue"  # the default type gives 5 days; 2025-01-04 is long past


def test_create_refuses_a_bad_requested_at_in_one_line(loaded):
    for bad in ("05/01/2025", "2025-02-30", "ayer", "2025-01-05T25:00", "2999-01-01", ""):
        proc = loaded.main("create", *SUBJECT, "--requester-email", ROSA, "--requested-at", bad)
        one_line_error(proc, "--requested-at", code=2)
    assert "no puede ser futura" in one_line_error(
        loaded.main("create", *SUBJECT, "--requester-email", ROSA, "--requested-at", "2999-01-01T08:00"), code=2)
    assert loaded.ticket_count() == 3


def test_requested_datetime_follows_the_panel():
    """A date is that day at the current local time (today: None, i.e. now); a naive date-time is
    local; an aware one is kept; later than now is refused."""
    lima = ZoneInfo("America/Lima")
    now = datetime(2025, 1, 6, 15, 45, tzinfo=lima)
    assert requested_datetime(date(2025, 1, 6), lima, now) is None
    assert requested_datetime(date(2025, 1, 2), lima, now) == datetime(2025, 1, 2, 20, 45, tzinfo=UTC)
    assert requested_datetime(datetime(2025, 1, 2, 8), lima, now) == datetime(2025, 1, 2, 13, tzinfo=UTC)
    assert requested_datetime(datetime(2025, 1, 2, 8, tzinfo=UTC), lima, now) == datetime(2025, 1, 2, 8, tzinfo=UTC)
    with pytest.raises(InvalidValue):
        requested_datetime(datetime(2025, 1, 6, 16), lima, now)
    with pytest.raises(InvalidValue):
        requested_datetime(date(2025, 1, 7), lima, now)
