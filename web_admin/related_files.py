"""Archivos relacionados (blueprint ``related_files``; `tickets.related_files` does the work).

* ``/archivos-relacionados`` (admins only; others 403): pick the owner — Proyecto → Torre/Bloque →
  Dpto./Unidad, then Contrato or Entrega (a GET form: each choice narrows the next; the small
  static/related_files.js submits it on change, an «Elegir» button does without it) — list its
  files, delete one, upload one with a description (POST, CSRF). The owner is the most specific
  choice: entrega, else contrato, else unidad, else torre, else proyecto.
* ``/archivos-relacionados/<id>``: the file as a download (``Content-Disposition: attachment``
  with its sanitised name, a safe content type, ``nosniff``; `web_admin.views.stored_download`).
  Access: admins and agents, any file. A legal user only from a ticket they may see
  (``?atencion=CODE``, as the ticket view's links carry) and only a file listed on it; else 404.
* ``/archivos-relacionados/fragmento``: the card "Archivos relacionados" of Nueva atención for
  ``project``, ``subdivision``, ``unit``, ``contract_number`` (names as typed; admins and agents),
  which static/related_files.js swaps in when those fields change.

The card itself is templates/admin/_related_files.html: included by the ticket view and by Nueva
atención, which get its groups from the template functions ``related_files_of_ticket(t)`` and
``related_files_of_form(form)`` (registered here, so those views need no change).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from tickets import related_files as rf
from tickets.catalog_specs import KINDS  # the Administración strip this page shares
from tickets.models import Contract, Handover, Project, RelatedFile, Subdivision, Unit, User
from tickets.text import as_id
from web_admin.auth import role_required
from web_admin.state import panel, read_session
from web_admin.views import load_ticket, stored_download

bp = Blueprint("related_files", __name__)

#: The picker's query parameters, most general first, and the owner kind each one chooses.
PICKS = (("proyecto", "project"), ("torre", "subdivision"), ("unidad", "unit"), ("contrato", "contract"),
         ("entrega", "handover"))


def _int_arg(source, name: str) -> int | None:
    return as_id(source.get(name))


def picker(session, args) -> dict:
    """The picker's state from ``args``: the chosen rows (``project`` … ``handover``, each a row or
    None; a choice that does not belong to the one above it is dropped), the choices of each
    select, and ``owner`` (`tickets.related_files.Owner` of the most specific choice, or None)."""
    chosen: dict = {kind: None for _, kind in PICKS}
    project = session.get(Project, _int_arg(args, "proyecto") or 0)
    chosen["project"] = project
    sub = session.get(Subdivision, _int_arg(args, "torre") or 0) if project else None
    chosen["subdivision"] = sub if sub is not None and sub.project_id == project.id else None
    unit = session.get(Unit, _int_arg(args, "unidad") or 0) if chosen["subdivision"] else None
    chosen["unit"] = unit if unit is not None and unit.subdivision_id == chosen["subdivision"].id else None
    options: dict = {"project": session.scalars(select(Project).order_by(Project.name)).all(),
                     "subdivision": [], "unit": [], "contract": [], "handover": []}
    if project is not None:
        options["subdivision"] = session.scalars(select(Subdivision).where(Subdivision.project_id == project.id)
                                                 .order_by(Subdivision.name)).all()
    if chosen["subdivision"] is not None:
        options["unit"] = session.scalars(select(Unit).where(Unit.subdivision_id == chosen["subdivision"].id)
                                          .order_by(Unit.number)).all()
    if chosen["unit"] is not None:
        options["contract"] = rf.contracts_of_unit(session, chosen["unit"])
    elif project is not None:
        options["contract"] = session.scalars(
            select(Contract).join(Unit, Contract.unit_id == Unit.id).join(Subdivision)
            .where(Subdivision.project_id == project.id).order_by(Contract.number)).all()
    contract = session.get(Contract, _int_arg(args, "contrato") or 0)
    chosen["contract"] = contract if contract in options["contract"] else None
    if chosen["unit"] is not None or chosen["contract"] is not None:
        q = select(Handover).order_by(Handover.handed_over_on)
        if chosen["contract"] is not None:
            q = q.where(Handover.contract_id == chosen["contract"].id)
        if chosen["unit"] is not None:
            q = q.where(Handover.unit_id == chosen["unit"].id)
        options["handover"] = session.scalars(q).all()
    handover = session.get(Handover, _int_arg(args, "entrega") or 0)
    chosen["handover"] = handover if handover in options["handover"] else None
    owner = next((rf.Owner(kind, chosen[kind].id) for _, kind in reversed(PICKS) if chosen[kind] is not None), None)
    return {"chosen": chosen, "options": options, "owner": owner}


def _page_args(state: dict) -> dict:
    """The query string that shows ``state``'s choices again."""
    return {param: state["chosen"][kind].id for param, kind in PICKS if state["chosen"][kind] is not None}


def _render_page(state: dict, error: dict | None = None, status: int = 200):
    session = read_session()
    owner_row = rf.load_owner(session, state["owner"]) if state["owner"] else None
    return render_template(
        "admin/related_files.html", picks=PICKS, state=state, owner_row=owner_row,
        owner_label=rf.owner_label, unit_label=rf.unit_label, page_args=_page_args(state),
        files=rf.files_of(session, state["owner"]) if state["owner"] else [], error=error or {},
        description=request.form.get("description", "") if request.method == "POST" else "",
        max_size=rf.human_size(panel().settings.max_message_kib * 1024), kinds=KINDS,
    ), status


@bp.get("/archivos-relacionados")
@role_required("admin")
def index():
    """The admin page (see the module docstring)."""
    return _render_page(picker(read_session(), request.args))


@bp.post("/archivos-relacionados")
@role_required("admin")
def upload():
    """Upload a file (``file``) with a description to the chosen owner; back to the page."""
    state = picker(read_session(), request.form)
    if state["owner"] is None:
        return _render_page(state, {"owner": "Elija a qué pertenece el archivo."}, 400)
    upload_ = request.files.get("file")
    settings = panel().settings
    try:
        with panel().sessions.begin() as s:
            row = rf.add_file(s, settings.storage_dir, state["owner"],
                              filename=upload_.filename if upload_ else None,
                              content_type=upload_.mimetype if upload_ else None,
                              data=upload_.read() if upload_ else b"", max_bytes=settings.max_message_kib * 1024,
                              description=request.form.get("description", ""),
                              uploaded_by=s.get(User, current_user.id))
            name = row.filename
    except rf.RelatedFileError as exc:
        return _render_page(state, {exc.field: exc.message}, 400)
    flash(f"Archivo «{name}» agregado.", "success")
    return redirect(url_for("related_files.index", **_page_args(state)))


@bp.post("/archivos-relacionados/<int:file_id>/eliminar")
@role_required("admin")
def delete(file_id: int):
    """Delete one related file; back to the page of its owner."""
    state = picker(read_session(), request.form)
    try:
        with panel().sessions.begin() as s:
            name = rf.remove_file(s, file_id).filename
    except rf.RelatedFileError as exc:
        flash(exc.message, "warning")
    else:
        flash(f"Archivo «{name}» eliminado.", "success")
    return redirect(url_for("related_files.index", **_page_args(state)))


@bp.get("/archivos-relacionados/<int:file_id>")
@login_required
def download(file_id: int):
    """The file as a download (see the module docstring for who may)."""
    session = read_session()
    row = session.get(RelatedFile, file_id)
    if row is None:
        abort(404)
    if current_user.is_legal:
        code = request.args.get("atencion", "")
        if not code:
            abort(404)
        ticket = load_ticket(session, code)  # 404 outside the legal user's scope
        if all(f.id != row.id for g in rf.for_ticket(session, ticket) for f in g.files):
            abort(404)
    return stored_download(row, "archivo")


@bp.get("/archivos-relacionados/fragmento")
@role_required("admin", "agent")
def fragment():
    """Nueva atención's card for the place the form names (see the module docstring)."""
    a = request.args
    place = rf.resolve_place(read_session(), project=a.get("project"), subdivision=a.get("subdivision"),
                             unit=a.get("unit"), contract=a.get("contract_number"))
    return render_template("admin/_related_files.html", groups=rf.for_place(read_session(), **place),
                           place_chosen=any(place.values()))


@bp.app_template_filter("file_size")
def file_size(n_bytes: int) -> str:
    """A size in bytes as "51 B", "12.0 KB", "2.5 MB" (`tickets.related_files.human_size`)."""
    return rf.human_size(n_bytes)


@bp.app_context_processor
def _template_functions() -> dict:
    """``related_files_of_ticket(t)`` and ``related_files_of_form(form)`` for the card's template."""

    def of_ticket(ticket):
        return rf.for_ticket(read_session(), ticket)

    def of_form(form):
        place = rf.resolve_place(read_session(), project=form.project.data, subdivision=form.subdivision.data,
                                 unit=form.unit.data, contract=form.contract_number.data)
        return rf.for_place(read_session(), **place)

    return {"related_files_of_ticket": of_ticket, "related_files_of_form": of_form}
