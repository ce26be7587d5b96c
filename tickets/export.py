"""Export of ticket rows to .xlsx, .csv or .json, streamed (DESIGN.md, "Export" and `atencion export`).

* xlsx: openpyxl write-only (rows go to a temporary file as they come, so memory stays flat), one
  sheet "Atenciones", bold Spanish header, frozen header row, autofilter over the written range,
  typed cells: dates as naive local datetimes formatted ``dd/mm/yyyy hh:mm``, days as integers;
  the alert cell filled with its state's colour (`ALERT_COLOURS`, as the panel's list).
* csv: UTF-8 with a BOM (so Excel detects the encoding), ``,`` separator, fields quoted when they
  contain a comma, quote or line break; dates as ``AAAA-MM-DD HH:MM`` local time.
* json: a list of objects with the snake_case keys of :data:`tickets.queries.ROW_KEYS`, dates in
  ISO 8601 with the zone's offset, written object by object.

Formula injection: in xlsx and csv every text cell that starts with ``=``, ``+``, ``-``, ``@``, tab
or carriage return gets a leading apostrophe in the text itself (:func:`neutralise`), so that no
formula ever runs in the user's spreadsheet. JSON is for programs and keeps the text as it is.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from tickets.queries import ROW_KEYS, TicketRow

__all__ = ["ALERT_COLOURS", "FORMATS", "HEADERS", "KIND_LABELS", "format_for_path", "neutralise", "write_export"]

FORMATS = ("xlsx", "csv", "json")

HEADERS: dict[str, str] = {
    "code": "Código",
    "kind": "Formulario",
    "subject": "Asunto",
    "status": "Estado",
    "type": "Tipo de atención",
    "category": "Categoría",
    "priority": "Prioridad",
    "project": "Proyecto",
    "subdivision": "Torre/Bloque",
    "unit": "Dpto./Unidad",
    "promoter": "Promotor",
    "requester_name": "Solicitante",
    "requester_email": "Correo del solicitante",
    "holder": "Titular",
    "assignee": "Usuario asignado",
    "assignee_email": "Correo del asignado",
    "area": "Área",
    "contract_number": "N° de contrato",
    "requested_at": "Fecha de solicitud",
    "attended_at": "Fecha de atención",
    "elapsed_days": "Días transcurridos",
    "alert": "Alerta de la atención",
}
"""Spreadsheet columns (xlsx, csv), in order: the row keys except ``alert_state``."""

COLUMNS = tuple(HEADERS)

KIND_LABELS = {"atencion": "Atención", "reclamo": "Reclamo/Queja", "solicitud": "Solicitud"}
"""Spanish label of a ticket's kind (which form applies)."""

DATE_COLUMNS = frozenset({"requested_at", "attended_at"})
DATE_FORMAT = "dd/mm/yyyy hh:mm"
CSV_DATE_FORMAT = "%Y-%m-%d %H:%M"
XLSX_MAX_CELL = 32_767  # Excel's limit on the characters of one cell
COLUMN_WIDTHS = {
    "code": 12, "kind": 14, "subject": 40, "status": 12, "type": 16, "category": 16,
    "priority": 10, "project": 20, "subdivision": 12, "unit": 10, "promoter": 20,
    "requester_name": 24, "requester_email": 26, "holder": 24, "assignee": 20,
    "assignee_email": 26, "area": 16, "contract_number": 14, "requested_at": 17,
    "attended_at": 17, "elapsed_days": 10, "alert": 24,
}

ALERT_COLOURS = {
    "overdue": ("FDE2E1", "9B1C1C"),
    "on_time": ("DCF5E3", "166534"),
    "attended_on_time": ("E0ECFB", "1E40AF"),
    "attended_late": ("FDE9D4", "9A3412"),
}
"""Per alert state: (fill, font) RGB of the "Alerta de la atención" cell — the panel's colours
(web_admin/static/atencion.css): overdue red, on time green, attended on time blue, late orange."""

_DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")

assert set(HEADERS) == set(ROW_KEYS) - {"alert_state"}


def neutralise(text: str | None) -> str | None:
    """Prefix ``'`` to text that a spreadsheet could take for a formula (``=``, ``+``, ``-``, ``@``,
    tab, CR at the start); any other text, and None, is returned unchanged."""
    if text and text.startswith(_DANGEROUS_FIRST):
        return "'" + text
    return text


def format_for_path(path: str | os.PathLike) -> str:
    """The export format named by a file's extension (``.xlsx``, ``.csv``, ``.json``)."""
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise ValueError(f"formato de exportación no soportado: {Path(path).name!r} (use .xlsx, .csv o .json)")
    return ext


def _row_dict(row: TicketRow | dict) -> dict[str, Any]:
    return row.as_dict() if isinstance(row, TicketRow) else row


def _display(key: str, value: Any, clean=None) -> Any:
    """The value of a spreadsheet cell before typing: kind label, ``clean``-ed, then neutralised."""
    if value is None:
        return None
    if key == "kind":
        value = KIND_LABELS.get(value, value)
    if isinstance(value, str):
        if clean is not None:
            value = clean(value)
        return neutralise(value)
    return value


def _umask() -> int:
    """The process's file-mode creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_export(rows: Iterable[TicketRow | dict], path_or_stream: str | os.PathLike | IO,
                 fmt: str | None = None) -> int:
    """Write ``rows`` (consumed once, never held in memory) as ``fmt`` — xlsx, csv or json.

    ``path_or_stream``: a file path, or a binary stream (xlsx, csv, json) or a text stream
    (csv, json). ``fmt`` defaults to the path's extension. Returns the number of rows written.
    """
    if fmt is None:
        if isinstance(path_or_stream, (str, os.PathLike)):
            fmt = format_for_path(path_or_stream)
        else:
            raise ValueError("indique el formato de exportación (xlsx, csv o json)")
    fmt = fmt.lower().lstrip(".")
    if isinstance(path_or_stream, (str, os.PathLike)):
        # write beside the target, then rename: a failed export leaves no partial file behind
        target = os.fspath(path_or_stream)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(target)),
                                   prefix=".export-", suffix=f".{fmt}")
        os.close(fd)
        try:
            count = _write_path(rows, tmp, fmt)
            os.chmod(tmp, 0o666 & ~_umask())  # as an ordinary new file (mkstemp makes it 0600)
            os.replace(tmp, target)
            return count
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    if fmt == "xlsx":
        return _write_xlsx(rows, path_or_stream)
    if fmt not in ("csv", "json"):
        raise ValueError(f"formato de exportación no soportado: {fmt!r} (use xlsx, csv o json)")
    writer = _write_csv if fmt == "csv" else _write_json
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    if isinstance(path_or_stream, io.TextIOBase):
        if fmt == "csv":
            path_or_stream.write("\ufeff")
        return writer(rows, path_or_stream)
    text = io.TextIOWrapper(path_or_stream, encoding=encoding, newline="", write_through=True)
    try:
        return writer(rows, text)
    finally:
        text.flush()
        text.detach()  # leave the caller's stream open


def _write_path(rows, path: str, fmt: str) -> int:
    if fmt == "xlsx":
        return _write_xlsx(rows, path)
    if fmt not in ("csv", "json"):
        raise ValueError(f"formato de exportación no soportado: {fmt!r} (use xlsx, csv o json)")
    writer = _write_csv if fmt == "csv" else _write_json
    with open(path, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as fh:
        return writer(rows, fh)


# --------------------------------------------------------------------------- csv


def _write_csv(rows: Iterable, fh: IO[str]) -> int:
    w = csv.writer(fh, delimiter=",", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow([HEADERS[k] for k in COLUMNS])
    n = 0
    for row in rows:
        d = _row_dict(row)
        out = []
        for k in COLUMNS:
            v = _display(k, d.get(k))
            if isinstance(v, datetime):
                v = v.strftime(CSV_DATE_FORMAT)
            out.append("" if v is None else v)
        w.writerow(out)
        n += 1
    return n


# --------------------------------------------------------------------------- json


def _json_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _write_json(rows: Iterable, fh: IO[str]) -> int:
    n = 0
    fh.write("[")
    for row in rows:
        d = _row_dict(row)
        fh.write(",\n" if n else "\n")
        fh.write(json.dumps({k: _json_value(d.get(k)) for k in ROW_KEYS}, ensure_ascii=False))
        n += 1
    fh.write("\n]\n" if n else "]\n")
    return n


# --------------------------------------------------------------------------- xlsx


def _xlsx_text(value: str) -> str:
    value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters make openpyxl raise
    return value[:XLSX_MAX_CELL - 1]  # room for neutralise()'s apostrophe


def _write_xlsx(rows: Iterable, target) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Atenciones")
    ws.freeze_panes = "A2"  # must precede the first append, or openpyxl silently drops it
    for i, k in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = COLUMN_WIDTHS.get(k, 14)
    bold = Font(bold=True)
    alert_styles = {state: (PatternFill("solid", fgColor=fill), Font(color=font, bold=state == "overdue"))
                    for state, (fill, font) in ALERT_COLOURS.items()}
    header = []
    for k in COLUMNS:
        c = WriteOnlyCell(ws, value=HEADERS[k])
        c.font = bold
        header.append(c)
    ws.append(header)
    # One styled cell per (column, style), made when first needed (so styles are registered in the
    # same order as a fresh cell per row would) and reused row after row: write-only openpyxl
    # writes a row's XML as soon as it is appended, so only the value changes. Styling a fresh cell
    # costs a style look-up (hashing Font/PatternFill objects) every time.
    styled: dict[str, WriteOnlyCell] = {}
    n = 0
    for row in rows:
        d = _row_dict(row)
        out = []
        for k in COLUMNS:
            v = _display(k, d.get(k), _xlsx_text)
            if isinstance(v, datetime):
                if v.tzinfo is not None:
                    v = v.replace(tzinfo=None)  # already in the configured zone: keep local time
                c = styled.get(k)
                if c is None:
                    c = styled[k] = WriteOnlyCell(ws, value=v)  # as before: the value first
                    c.number_format = DATE_FORMAT
                c.value = v
                out.append(c)
            elif k == "alert" and d.get("alert_state") in alert_styles:
                state = d["alert_state"]
                c = styled.get(state)
                if c is None:
                    c = styled[state] = WriteOnlyCell(ws, value=v)
                    c.fill, c.font = alert_styles[state]
                c.value = v
                out.append(c)
            else:
                out.append(v)
        ws.append(out)
        n += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{n + 1}"
    wb.save(target)
    return n
