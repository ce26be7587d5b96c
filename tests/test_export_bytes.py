"""The .xlsx writer's speed-ups (bench/export.py) change no byte: `write_export` gives the same
parts as the plain way of writing the same rows with openpyxl write-only — a fresh cell for every
styled value (what tickets/export.py did before the styled cells were reused row after row)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from tests.test_export import LIMA, row
from tickets import export
from tickets.export import ALERT_COLOURS, COLUMN_WIDTHS, COLUMNS, DATE_FORMAT, HEADERS, write_export


def plain_xlsx(rows) -> bytes:
    """The rows written the straightforward way, a new styled cell each time."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Atenciones")
    ws.freeze_panes = "A2"
    for i, k in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = COLUMN_WIDTHS.get(k, 14)
    styles = {state: (PatternFill("solid", fgColor=fill), Font(color=font, bold=state == "overdue"))
              for state, (fill, font) in ALERT_COLOURS.items()}
    header = []
    for k in COLUMNS:
        c = WriteOnlyCell(ws, value=HEADERS[k])
        c.font = Font(bold=True)
        header.append(c)
    ws.append(header)
    for r in rows:
        d = r.as_dict()
        out = []
        for k in COLUMNS:
            v = export._display(k, d[k], export._xlsx_text)
            if isinstance(v, datetime):
                c = WriteOnlyCell(ws, value=v.replace(tzinfo=None))
                c.number_format = DATE_FORMAT
                out.append(c)
            elif k == "alert" and d["alert_state"] in styles:
                c = WriteOnlyCell(ws, value=v)
                c.fill, c.font = styles[d["alert_state"]]
                out.append(c)
            else:
                out.append(v)
        ws.append(out)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # docProps/core.xml holds the time of writing
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def varied_rows() -> list:
    states = [*ALERT_COLOURS, "unknown"]
    out = []
    for i in range(1, 41):
        state = states[i % len(states)]
        out.append(row(
            i, kind=("atencion", "reclamo", "solicitud")[i % 3], alert_state=state, alert=f"alerta {state}",
            subject=("=1+1", "Filtración\x07 en el baño", "+51 999", "Rajadura")[i % 4],
            attended_at=datetime(2025, 1, 3 + i % 20, 9, i, tzinfo=LIMA) if i % 3 else None,
            category=None if i % 5 == 0 else "General", elapsed_days=i))
    return out


def test_write_export_gives_the_plain_writers_bytes():
    rows = varied_rows()
    buf = io.BytesIO()
    assert write_export(iter(rows), buf, "xlsx") == len(rows)
    assert parts(buf.getvalue()) == parts(plain_xlsx(rows))


def test_empty_export_gives_the_plain_writers_bytes():
    buf = io.BytesIO()
    write_export(iter([]), buf, "xlsx")
    assert parts(buf.getvalue()) == parts(plain_xlsx([]))
