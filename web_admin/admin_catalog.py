"""Administración (admins only; blueprint ``admin_catalog``, prefix ``/admin``): ``/admin/`` lists
the catalogs and users; ``/admin/catalogo/<slug>`` is one catalog (`tickets.catalog_specs.KINDS`):
its rows, a form to create one, ``/<key>`` the form to edit one, ``/<key>/eliminar`` (POST) to
delete it. Writes go through `tickets.catalog_edit` (the YAML loader's checks and natural keys);
a bad value re-renders the form (400) with the Spanish message by its field, a refused delete shows
the reason (409). Agents and legal users get 403 on every page, like held mail's.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from tickets import catalog_edit
from tickets.catalog_edit import CatalogFormError
from tickets.catalog_specs import KINDS, label_of
from tickets.models import RelatedFile, Role, User
from tickets.services import ServiceError
from web_admin.auth import role_required
from web_admin.state import panel, read_session

bp = Blueprint("admin_catalog", __name__, url_prefix="/admin")

ADMIN = Role.ADMIN.value


def _kind(slug: str):
    if slug not in KINDS:
        abort(404)
    return KINDS[slug]


@bp.get("/")
@role_required(ADMIN)
def index():
    """The catalogs, each with its row count, the users and the related files (Archivos relacionados)."""
    s = read_session()
    counts = {slug: s.scalar(select(func.count()).select_from(k.model)) for slug, k in KINDS.items()}
    users = s.scalar(select(func.count()).select_from(User))
    files = s.scalar(select(func.count()).select_from(RelatedFile))
    return render_template("admin/admin_index.html", kinds=KINDS, counts=counts, users=users, related_files=files)


def _render(kind, row=None, values=None, errors=None, refusal=None, status=200):
    s = read_session()
    query = request.args.get("q", "")
    rows, total = catalog_edit.list_rows(s, kind, query)
    table = [(catalog_edit.row_key(r), label_of(r), catalog_edit.display_values(s, kind, r)) for r in rows]
    if values is None:
        values = catalog_edit.form_values(kind, row) if row is not None else {}
    opts = {f.name: catalog_edit.options(s, f) for f in kind.fields if f.kind in ("choice", "ref", "user")}
    return render_template("admin/admin_catalog.html", kind=kind, kinds=KINDS, table=table, values=values,
                           errors=errors or {}, options=opts, refusal=refusal, query=query, total=total,
                           editing=catalog_edit.row_key(row) if row is not None else None,
                           editing_label=label_of(row) if row is not None else None), status


def _row_or_404(s, kind, key: str):
    row = catalog_edit.get_row(s, kind, key)
    if row is None:
        abort(404)
    return row


@bp.get("/catalogo/<slug>")
@role_required(ADMIN)
def catalog(slug: str):
    """One catalog: its rows and the form for a new one."""
    return _render(_kind(slug))


@bp.get("/catalogo/<slug>/<key>")
@role_required(ADMIN)
def edit(slug: str, key: str):
    """One catalog with the form of one of its rows."""
    kind = _kind(slug)
    return _render(kind, _row_or_404(read_session(), kind, key))


def _save(kind, key: str | None):
    try:
        with panel().sessions.begin() as s:
            row = _row_or_404(s, kind, key) if key is not None else None
            row, created = catalog_edit.save_row(s, kind, request.form, row, by=current_user.email)
            label = label_of(row)
    except CatalogFormError as exc:
        row = _row_or_404(read_session(), kind, key) if key is not None else None
        values = {f.name: (f.name in request.form) if f.kind == "bool" else request.form.get(f.name, "")
                  for f in kind.fields}
        return _render(kind, row, values, exc.errors, status=400)
    flash(f"{kind.noun[0].upper()}{kind.noun[1:]} «{label}» se {'creó' if created else 'guardó'}.", "success")
    return redirect(url_for("admin_catalog.catalog", slug=kind.slug))


@bp.post("/catalogo/<slug>")
@role_required(ADMIN)
def create(slug: str):
    """Create a row from the form."""
    return _save(_kind(slug), None)


@bp.post("/catalogo/<slug>/<key>")
@role_required(ADMIN)
def update(slug: str, key: str):
    """Save the edited row."""
    return _save(_kind(slug), key)


@bp.post("/catalogo/<slug>/<key>/eliminar")
@role_required(ADMIN)
def delete(slug: str, key: str):
    """Delete a row; refused with the reason while it is in use."""
    kind = _kind(slug)
    try:
        with panel().sessions.begin() as s:
            row = _row_or_404(s, kind, key)
            label = label_of(row)
            catalog_edit.delete_row(s, kind, row, by=current_user.email)
    except ServiceError as exc:
        return _render(kind, refusal=str(exc), status=409)
    flash(f"{kind.noun[0].upper()}{kind.noun[1:]} «{label}» se eliminó.", "success")
    return redirect(url_for("admin_catalog.catalog", slug=kind.slug))
