"""The "Atención al Cliente" list (blueprint ``listing``): ``/`` with every filter, sortable
columns and pages of `PAGE_SIZE`; ``/exportar``, the same rows (all pages) as the .xlsx that
``atencion export`` writes; ``/filtros/opciones``, the dependent choices as JSON.

The query string is the state: filters (`tickets.queries.FILTER_NAMES`), ``sort`` (a key of
`tickets.queries.ORDERS`, ``-key`` descending; default ``-requested_at``, as the CLI) and ``page``
(from 1). So a filtered list is a URL to share, and its "Exportar" link exports exactly its rows.
Empty fields of a submitted form are dropped by a redirect, so shared URLs stay short. The last
valid query string is kept in the session: a ticket's "Atención al Cliente" link goes back to the
list as the user left it (`list_return_url`).
"""

from __future__ import annotations

import tempfile
from datetime import datetime

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for
from flask import session as web_session
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from tickets.list_page import list_page
from tickets.queries import ORDERS, FilterError, iter_ticket_rows, parse_value
from tickets.text import fold
from web_admin.filter_form import (
    CELLS,
    FIELD_LABELS,
    FIXED_CHOICES,
    MORE_CELLS,
    PLACEHOLDERS,
    SEED_CELLS,
    WIDGETS,
    choices,
    read_filters,
    subdivision_names,
    unit_numbers,
)
from web_admin.state import panel, read_session

bp = Blueprint("listing", __name__)

PAGE_SIZE = 50
"""Rows per page of the list."""
COUNT_CAP = 10_000
"""The list's header counts at most this many tickets, or the rows up to the page shown when that
is further ("más de 10 000 atenciones", "Página 1 de 201 o más"): an exact count of every match of
a common word visits each matching row (free text "humedad": 94,000 of 1,000,000 tickets, ≈ 0.5 s;
bench/README.md "List"). The export and the CLI always give and count every row."""

DEFAULT_SORT = "-requested_at"

#: The list's columns: (header, sort key or None when it cannot be sorted on).
COLUMNS = (
    ("Código", "code"), ("Fecha de solicitud", "requested_at"), ("Asunto", "subject"),
    ("Solicitante", "requester_name"), ("Proyecto", "project"), ("Torre/Bloque", "subdivision"),
    ("Dpto./Unidad", "unit"), ("Estado", "status"), ("Usuario asignado", "assignee"),
    ("Prioridad", "priority"), ("Días transcurridos", None), ("Alerta de la atención", None),
)
assert all(key is None or key in ORDERS for _, key in COLUMNS)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_BYTES = 64 * 1024


def nav_url(endpoint: str, fallback: str, **values) -> str:
    """``url_for(endpoint)`` once that page exists (part B's blueprints), else ``fallback``."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return fallback


def ticket_url(code: str) -> str:
    """The ticket view's URL (``/atenciones/<code>``; built by part B's ``views.ticket``)."""
    return nav_url("views.ticket", f"/atenciones/{code}", code=code)


def _today():
    """"Today" for the SLA columns and filters: ``app.config["ATENCION_TODAY"]`` (a local date, for
    tests and reproducible screenshots) or None, the date now in the configured zone."""
    return current_app.config.get("ATENCION_TODAY")


def _sort_key() -> str:
    """The ``sort`` of the query string when it is a known key or ``-key`` (else the default; as
    the CLI and `tickets.queries`, ``--code`` is no key)."""
    sort = request.args.get("sort", "").strip()
    return sort if sort.removeprefix("-") in ORDERS else DEFAULT_SORT


def _page() -> int:
    """The ``page`` of the query string: a number from 1 (ASCII digits; one beyond any list, e.g.
    10**30, is a page past the end: `tickets.list_page` shows the last page), anything else 1.
    Never ``int()`` of a long string: past 4,300 digits Python refuses it (a 500)."""
    raw = request.args.get("page", "1").strip().lstrip("0")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    return int(raw) if len(raw) <= 18 else 10**18


def _query(**overrides) -> dict[str, list[str]]:
    """The current query string as a dict of lists, with ``overrides`` (None removes a key)."""
    args = {k: [v for v in request.args.getlist(k) if v.strip()] for k in request.args}
    for key, value in overrides.items():
        args[key] = [] if value is None else [str(value)]
    return {k: v for k, v in args.items() if v}


def list_url(**overrides) -> str:
    """The list's URL with the current filters and ``overrides`` (``page=2``, ``sort="-code"``)."""
    return url_for("listing.index", **_query(**overrides))


def sort_url(key: str, current: str) -> str:
    """A column header's link: sort by ``key``, or reverse it when it is the current sort."""
    return list_url(sort=f"-{key}" if current == key else key, page=None)


def page_numbers(page: int, pages: int) -> list[int | None]:
    """The page links to show: first, last and two around ``page``; None is a gap (…)."""
    wanted = {1, pages, *range(page - 2, page + 3)}
    out: list[int | None] = []
    for n in sorted(p for p in wanted if 1 <= p <= pages):
        if out and out[-1] is not None and n > out[-1] + 1:
            out.append(None)
        out.append(n)
    return out


LIST_QUERY_KEY = "list_query"
"""The session's copy of the list's last valid query string (filters, sort, page), for
:func:`list_return_url`; at most `LIST_QUERY_MAX` characters (a longer one is not kept)."""
LIST_QUERY_MAX = 2000


@bp.app_template_global()
def list_return_url() -> str:
    """The list as this user last left it (the ticket's "Atención al Cliente" link): their filters,
    sort and page, not the whole list; the list itself when they have not filtered it."""
    query = web_session.get(LIST_QUERY_KEY) or ""
    return url_for("listing.index") + (f"?{query}" if query else "")


def _remember_query() -> None:
    query = request.query_string.decode("ascii", "replace")
    query = query if len(query) <= LIST_QUERY_MAX else ""
    if web_session.get(LIST_QUERY_KEY, "") != query:
        web_session[LIST_QUERY_KEY] = query


@bp.get("/")
@login_required
def index():
    """The list. A bad filter value shows its Spanish message next to its field (status 400)."""
    if any(not v.strip() for _, v in request.args.items(multi=True)):  # empty fields of a submitted form
        return redirect(list_url())
    settings = panel().settings
    session = read_session()
    state = read_filters(request.args, session)
    sort, page = _sort_key(), _page()
    rows, total, pages, more = [], 0, 1, False
    if state.filters is not None:
        shown = list_page(session, state.filters, page=page, page_size=PAGE_SIZE, cap=COUNT_CAP,
                          tz=settings.timezone, today=_today(), prefix=settings.code_prefix, order=sort,
                          legal_user_id=current_user.legal_scope_id)
        rows, total, more, page, pages = shown.rows, shown.total, shown.more, shown.page, shown.pages
        _remember_query()
    html = render_template(
        "admin/list.html", rows=rows, total=total, more=more, page=page, pages=pages, sort=sort, state=state,
        values=state.values, errors=state.errors, options=choices(session, state.values),
        seed_cells=SEED_CELLS, more_cells=MORE_CELLS, cells=CELLS, labels=FIELD_LABELS, widgets=WIDGETS,
        fixed=FIXED_CHOICES, placeholders=PLACEHOLDERS, columns=COLUMNS, page_size=PAGE_SIZE,
        page_numbers=page_numbers(page, pages), list_url=list_url, sort_url=sort_url,
        export_url=url_for("listing.export", **_query(page=None)),
        more_open=any(n in state.values for _, names in MORE_CELLS for n in names),
    )
    return html, (400 if state.errors else 200)


def export_filename(now: datetime) -> str:
    """``atenciones-AAAAMMDD-HHMM.xlsx`` for the local time ``now``."""
    return f"atenciones-{now:%Y%m%d-%H%M}.xlsx"


@bp.get("/exportar")
@login_required
def export():
    """The filtered rows, every page, in the list's order, as the .xlsx of ``atencion export``
    (`tickets.export.write_export`): written to an anonymous temporary file (openpyxl write-only
    builds the zip at the end), then streamed in 64 KiB chunks. A bad filter: back to the list."""
    from tickets.export import write_export  # loads openpyxl: only the export needs it

    settings = panel().settings
    session = read_session()
    state = read_filters(request.args, session)
    if state.filters is None:
        return redirect(list_url())
    tmp = tempfile.TemporaryFile()
    try:
        rows = iter_ticket_rows(session, state.filters, tz=settings.timezone, prefix=settings.code_prefix,
                                order=_sort_key(), today=_today(), legal_user_id=current_user.legal_scope_id)
        write_export(rows, tmp, "xlsx")
        size = tmp.tell()
        tmp.seek(0)
    except BaseException:
        tmp.close()
        raise
    session.close()  # the rows are written: free the connection before the download

    def chunks():
        with tmp:
            while block := tmp.read(CHUNK_BYTES):
                yield block

    name = export_filename(datetime.now(panel().zone))
    return Response(chunks(), mimetype=XLSX_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(size),
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@bp.get("/filtros/opciones")
@login_required
def options():
    """``{"subdivisions": [...], "units": [...]}`` for ``?project=&subdivision=`` (filters.js); each
    may be repeated (several projects: their towers). A bad value: 400 ``{"error": "<field>: …"}``."""
    try:
        project = parse_value("project", request.args.getlist("project"))
        subdivision = parse_value("subdivision", request.args.getlist("subdivision"))
    except FilterError as exc:
        return jsonify(error=str(exc)), 400
    project, subdivision = list(project or ()), list(subdivision or ())
    session = read_session()
    return jsonify(subdivisions=subdivision_names(session, project),
                   units=unit_numbers(session, project, subdivision))


@bp.app_template_filter("local_datetime")
def local_datetime(value: datetime | None) -> str:
    """``dd/mm/aaaa hh:mm`` in the configured zone; empty for None."""
    if value is None:
        return ""
    return value.astimezone(panel(current_app).zone).strftime("%d/%m/%Y %H:%M")


@bp.app_template_filter("same")
def same(value: str | None, other: str | None) -> bool:
    """Whether two names are the same ignoring case and accents (a select's current option)."""
    return bool(value) and bool(other) and fold(value) == fold(other)


@bp.app_template_test("among")
@bp.app_template_filter("among")
def among(value: str | None, chosen: str | list[str] | None) -> bool:
    """Whether ``value`` is one of the chosen names (one name or a list), ignoring case and accents:
    a selected option or a checked box."""
    items = [chosen] if isinstance(chosen, str) else list(chosen or ())
    return any(same(value, one) for one in items)
