"""tickets/export.py: xlsx, csv and json read back; the formula-injection guard; streaming.

The database round trips run on SQLite and PostgreSQL (``database_url``) with the data of
tests/test_queries.py; the format details use hand-made rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tracemalloc
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from tests.test_queries import TODAY
from tickets.export import HEADERS, format_for_path, neutralise, write_export
from tickets.queries import ROW_KEYS, Filters, TicketRow, iter_ticket_rows

LIMA = ZoneInfo("America/Lima")
SPANISH_HEADERS = [
    "Código", "Formulario", "Asunto", "Estado", "Tipo de atención", "Categoría", "Prioridad", "Proyecto",
    "Torre/Bloque", "Dpto./Unidad", "Promotor", "Solicitante", "Correo del solicitante", "Titular",
    "Usuario asignado", "Correo del asignado", "Área", "N° de contrato", "Fecha de solicitud",
    "Fecha de atención", "Días transcurridos", "Alerta de la atención",
]
COL = {h: i for i, h in enumerate(SPANISH_HEADERS)}


# --------------------------------------------------------------------------- neutralise


@pytest.mark.parametrize("text, expected", [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+51 999 888 777", "'+51 999 888 777"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("Hola = mundo", "Hola = mundo"),
    ("'ya citado", "'ya citado"),
    (" =espacio", " =espacio"),
    ("", ""),
    (None, None),
])
def test_neutralise(text, expected):
    assert neutralise(text) == expected


# --------------------------------------------------------------------------- hand-made rows


def row(i: int = 1, **over) -> TicketRow:
    values = {
        "code": f"AT-{i:06d}", "kind": "reclamo", "subject": "=cmd|' /C calc'!A0",
        "status": "En proceso",
        "type": "Atención", "category": "General", "priority": "Alta", "project": "Los Olivos",
        "subdivision": "Torre A", "unit": "101", "promoter": "Inmobiliaria Sol",
        "requester_name": 'Núñez, "Pepe"\nsegunda línea', "requester_email": "pepe@cliente.pe",
        "holder": "Ana Torres", "assignee": "María Quispe", "assignee_email": "maria@empresa.pe",
        "area": "Postventa", "contract_number": "-C-100",
        "requested_at": datetime(2025, 1, 1, 22, 30, tzinfo=LIMA),
        "attended_at": None, "elapsed_days": 5, "alert": "3 días de retraso", "alert_state": "overdue",
    }
    values.update(over)
    return TicketRow(**values)


def rows_gen(n: int):
    for i in range(1, n + 1):
        yield row(i, subject=f"Asunto {i}", requester_name=f"Cliente {i}")


def test_headers_are_the_design_columns():
    assert list(HEADERS.values()) == SPANISH_HEADERS
    assert list(HEADERS) == [k for k in ROW_KEYS if k != "alert_state"]


def test_xlsx(tmp_path):
    path = tmp_path / "atenciones.xlsx"
    attended = row(2, subject="\x01=oculto", kind="atencion",
                   attended_at=datetime(2025, 1, 6, 8, 5, tzinfo=LIMA),
                   alert="Atendido dentro de plazo", alert_state="attended_on_time")
    assert write_export(iter([row(1), attended]), path) == 2

    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws.title == "Atenciones"
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[0] == SPANISH_HEADERS
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:V3"
    assert ws.max_row == 3

    r1 = ws[2]
    assert r1[COL["Código"]].value == "AT-000001"
    assert r1[COL["Formulario"]].value == "Reclamo/Queja"
    asunto = r1[COL["Asunto"]]
    assert asunto.value == "'=cmd|' /C calc'!A0" and asunto.data_type == "s"
    assert r1[COL["N° de contrato"]].value == "'-C-100"
    assert r1[COL["Solicitante"]].value == 'Núñez, "Pepe"\nsegunda línea'
    fecha = r1[COL["Fecha de solicitud"]]
    assert fecha.value == datetime(2025, 1, 1, 22, 30)  # local time, naive: what Excel shows
    assert fecha.is_date and fecha.number_format == "dd/mm/yyyy hh:mm"
    assert r1[COL["Fecha de atención"]].value is None
    dias = r1[COL["Días transcurridos"]]
    assert dias.value == 5 and dias.data_type == "n"
    assert r1[COL["Alerta de la atención"]].value == "3 días de retraso"

    r2 = ws[3]
    assert r2[COL["Formulario"]].value == "Atención"
    # a control character is dropped first, so the guard still sees the "="
    assert r2[COL["Asunto"]].value == "'=oculto" and r2[COL["Asunto"]].data_type == "s"
    assert r2[COL["Fecha de atención"]].value == datetime(2025, 1, 6, 8, 5)


def test_xlsx_empty_and_to_stream():
    buf = io.BytesIO()
    assert write_export(iter([]), buf, "xlsx") == 0
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active
    assert [c.value for c in ws[1]] == SPANISH_HEADERS
    assert ws.auto_filter.ref == "A1:V1" and ws.freeze_panes == "A2"


def test_csv(tmp_path):
    path = tmp_path / "atenciones.csv"
    assert write_export(iter([row(1), row(2, subject="Normal, con coma")]), path) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    with open(path, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == SPANISH_HEADERS
    assert len(table) == 3
    r1 = table[1]
    assert r1[COL["Asunto"]] == "'=cmd|' /C calc'!A0"
    assert r1[COL["N° de contrato"]] == "'-C-100"
    assert r1[COL["Solicitante"]] == 'Núñez, "Pepe"\nsegunda línea'  # quoted, round-trips
    assert r1[COL["Formulario"]] == "Reclamo/Queja"
    assert r1[COL["Fecha de solicitud"]] == "2025-01-01 22:30"
    assert r1[COL["Fecha de atención"]] == ""
    assert r1[COL["Días transcurridos"]] == "5"
    assert table[2][COL["Asunto"]] == "Normal, con coma"


def test_csv_and_json_to_streams():
    b = io.BytesIO()
    write_export(iter([row()]), b, "csv")
    assert b.getvalue().startswith("\ufeffCódigo,".encode())
    assert not b.closed
    t = io.StringIO()
    write_export(iter([row()]), t, "csv")
    assert t.getvalue().startswith("\ufeffCódigo,")
    j = io.BytesIO()
    write_export(iter([row()]), j, "json")
    assert json.loads(j.getvalue())[0]["code"] == "AT-000001"
    t = io.StringIO()
    assert write_export(iter([]), t, "json") == 0
    assert json.loads(t.getvalue()) == []


def test_json(tmp_path):
    path = tmp_path / "atenciones.json"
    r2 = row(2, attended_at=datetime(2025, 1, 6, 8, 5, tzinfo=LIMA), alert_state="attended_late",
             alert="Atendido fuera de plazo")
    assert write_export(iter([row(1), r2]), path) == 2
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [list(d) for d in data] == [list(ROW_KEYS)] * 2
    d1, d2 = data
    assert d1["subject"] == "=cmd|' /C calc'!A0"  # JSON is for programs: text as is
    assert d1["kind"] == "reclamo"
    assert d1["requested_at"] == "2025-01-01T22:30:00-05:00"
    assert d1["attended_at"] is None
    assert d1["elapsed_days"] == 5 and isinstance(d1["elapsed_days"], int)
    assert (d1["alert"], d1["alert_state"]) == ("3 días de retraso", "overdue")
    assert d2["attended_at"] == "2025-01-06T08:05:00-05:00"
    assert datetime.fromisoformat(d2["attended_at"]) == datetime(2025, 1, 6, 13, 5, tzinfo=ZoneInfo("UTC"))


def test_format_for_path():
    assert format_for_path("x/Reporte.XLSX") == "xlsx"
    assert format_for_path("a.csv") == "csv" and format_for_path("a.json") == "json"
    with pytest.raises(ValueError, match="no soportado"):
        format_for_path("a.xls")
    with pytest.raises(ValueError, match="no soportado"):
        write_export(iter([]), io.BytesIO(), "pdf")
    with pytest.raises(ValueError, match="indique el formato"):
        write_export(iter([]), io.BytesIO())


# --------------------------------------------------------------------------- streaming


def _peak(fmt: str, n: int) -> int:
    tracemalloc.start()
    try:
        write_export(rows_gen(n), io.BytesIO() if fmt == "xlsx" else _Sink(), fmt)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class _Sink(io.RawIOBase):
    """A binary stream that throws the bytes away (so the output itself takes no memory)."""

    def writable(self):
        return True

    def write(self, b):
        return len(b)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_text_formats_stream_in_constant_memory(fmt):
    # 20 times the rows, the same peak: nothing is kept per row (100,000 rows: see bench/)
    a, b = _peak(fmt, 1_000), _peak(fmt, 20_000)
    assert b < a * 1.5 + 256 * 1024, (a, b)


@pytest.mark.slow
def test_xlsx_streams_in_constant_memory(tmp_path):
    # openpyxl write-only spools rows to a temporary file; only the zip output grows (in BytesIO
    # here), so compare against a file target: peak memory must not grow with the row count.
    def peak(n):
        tracemalloc.start()
        try:
            write_export(rows_gen(n), tmp_path / f"{n}.xlsx")
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    a, b = peak(500), peak(5_000)
    assert b < a * 1.5 + 1024 * 1024, (a, b)


# --------------------------------------------------------------------------- from the database


def test_export_from_database(Session, tmp_path):
    """The export of a filter is exactly the filtered rows, in every format."""
    f = Filters.from_mapping({"alert": "on_time"})
    with Session() as s:
        for ext in ("xlsx", "csv", "json"):
            assert write_export(iter_ticket_rows(s, f, today=TODAY, order="code"),
                                tmp_path / f"out.{ext}") == 2

    mask = os.umask(0o022)
    os.umask(mask)
    for ext in ("xlsx", "csv", "json"):  # an ordinary new file, not mkstemp's owner-only one
        assert (tmp_path / f"out.{ext}").stat().st_mode & 0o777 == 0o666 & ~mask
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    table = [[c.value for c in r] for r in ws.iter_rows()]
    assert table[0] == SPANISH_HEADERS and len(table) == 3
    r3, r5 = table[1], table[2]
    assert (r3[COL["Código"]], r5[COL["Código"]]) == ("AT-000003", "AT-000005")
    assert r3[COL["Asunto"]] == "'=HYPERLINK(\"http://evil\",\"clic\")"
    assert r3[COL["Fecha de solicitud"]] == datetime(2025, 1, 5, 10, 0)
    assert r3[COL["Días transcurridos"]] == 1
    assert r3[COL["Alerta de la atención"]] == "En plazo (vence hoy)"
    assert r5[COL["Formulario"]] == "Solicitud"
    assert ws.auto_filter.ref == "A1:V3"

    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows] == ["Código", "AT-000003", "AT-000005"]
    assert rows[1][COL["Asunto"]] == "'=HYPERLINK(\"http://evil\",\"clic\")"
    assert rows[1][COL["Solicitante"]] == "Rosa Díaz"

    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [d["code"] for d in data] == ["AT-000003", "AT-000005"]
    assert data[0]["subject"] == "=HYPERLINK(\"http://evil\",\"clic\")"
    assert data[0]["requested_at"] == "2025-01-05T10:00:00-05:00"
    assert [d["alert_state"] for d in data] == ["on_time", "on_time"]
    assert data[1]["elapsed_days"] == 1 and data[1]["type"] == "Trámite"


def test_export_seed_examples_json(Session, tmp_path):
    with Session() as s:
        buf = io.BytesIO()
        write_export(iter_ticket_rows(s, Filters(requested_from=date(2025, 1, 1),
                                                 requested_to=date(2025, 1, 1)),
                                      today=TODAY, order="code"), buf, "json")
    t1, t2 = json.loads(buf.getvalue())
    assert (t1["code"], t1["elapsed_days"], t1["attended_at"]) == ("AT-000001", 5, "2025-01-06T12:00:00-05:00")
    assert (t2["code"], t2["elapsed_days"], t2["alert"], t2["alert_state"]) == (
        "AT-000002", 5, "3 días de retraso", "overdue")
