"""The panel's "Exportar" (issue 9, item 3): the .xlsx of exactly the filtered rows (every page),
the same file `atencion export` writes for the same filters — same cells, same sheet XML — with its
name, typed dates, neutralised formulas and the alert cells coloured. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import worker.cli
from tests.panel_harness import ADMIN, LEGAL, Staff, make_panel
from tickets.export import ALERT_COLOURS, HEADERS
from web_admin import listing
from web_admin.state import panel


@pytest.fixture
def live_today_panel(Session, tmp_path, panel_app):
    """A second panel on the same database with today left to the clock (as the CLI's)."""
    app = make_panel(Session, tmp_path, ATENCION_TODAY=None)
    client = Staff(app.test_client())
    assert client.login(ADMIN).status_code == 302
    yield client
    panel(app).engine.dispose()


def cli_export(Session, tmp_path, *options: str) -> bytes:
    url = Session.kw["bind"].url.render_as_string(hide_password=False)
    out = tmp_path / "cli.xlsx"
    out.unlink(missing_ok=True)
    r = CliRunner().invoke(worker.cli.cli, ["export", *options, "-o", str(out)],
                           env={"ATENCION_DATABASE_URL": url, "ATENCION_DATA_DIR": str(tmp_path / "var")})
    assert r.exit_code == 0, r.output
    return out.read_bytes()


def cells(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.values)


def members(data: bytes) -> dict[str, bytes]:
    """The .xlsx's parts, without docProps/core.xml (it holds the time the file was written)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("query, options", [
    ({}, []),
    ({"project": "los olivos"}, ["--project", "los olivos"]),
    ({"status": "registrado", "priority": "urgente"}, ["--status", "registrado", "--priority", "urgente"]),
    ({"alert": "overdue"}, ["--alert", "overdue"]),
    ({"q": "zzz"}, ["--q", "zzz"]),
])
def test_export_is_the_cli_export(Session, tmp_path, live_today_panel, query, options):
    r = live_today_panel.get("/exportar", **query)
    assert r.status_code == 200
    assert r.mimetype == listing.XLSX_TYPE
    assert re.fullmatch(r'attachment; filename="atenciones-\d{8}-\d{4}\.xlsx"', r.headers["Content-Disposition"])
    assert int(r.headers["Content-Length"]) == len(r.data)
    cli = cli_export(Session, tmp_path, *options)
    assert cells(r.data) == cells(cli)
    assert members(r.data) == members(cli)  # byte for byte, but for the creation time


def test_export_has_every_page_in_the_lists_order(admin, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    rows = cells(admin.get("/exportar", sort="code", page="2").data)
    assert rows[0] == tuple(HEADERS.values())
    assert [r[0] for r in rows[1:]] == [f"AT-00000{n}" for n in range(1, 6)]


def test_export_cells(admin):
    wb = load_workbook(io.BytesIO(admin.get("/exportar", sort="code").data))
    ws = wb.active
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:V6"
    header = [c.value for c in ws[1]]
    assert header[-2:] == ["Días transcurridos", "Alerta de la atención"]
    by_code = {row[0].value: row for row in ws.iter_rows(min_row=2)}
    col = {h: i for i, h in enumerate(header)}
    t1, t3 = by_code["AT-000001"], by_code["AT-000003"]
    assert t1[col["Fecha de solicitud"]].value == datetime(2025, 1, 1, 22, 0)  # local time, a real date
    assert t1[col["Fecha de solicitud"]].is_date
    assert t3[col["Asunto"]].value == "'=HYPERLINK(\"http://evil\",\"clic\")"  # neutralised
    assert (t1[col["Días transcurridos"]].value, t1[col["Alerta de la atención"]].value) == (
        5, "Atendido dentro de plazo")
    for code, state in (("AT-000001", "attended_on_time"), ("AT-000002", "overdue"),
                        ("AT-000003", "on_time"), ("AT-000004", "attended_late")):
        cell = by_code[code][col["Alerta de la atención"]]
        assert cell.fill.fgColor.rgb.endswith(ALERT_COLOURS[state][0]), code
        assert cell.font.color.rgb.endswith(ALERT_COLOURS[state][1]), code


def test_legal_user_exports_only_their_tickets(staff):
    assert staff.login(LEGAL).status_code == 302
    rows = cells(staff.get("/exportar").data)
    assert [r[0] for r in rows[1:]] == ["AT-000002"]
