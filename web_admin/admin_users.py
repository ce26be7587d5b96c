"""Administración › Usuarios (admins only; blueprint ``admin_users``, prefix ``/admin``):
``/admin/usuarios`` lists the staff and creates one (email, name, role, area, password);
``/admin/usuarios/<id>`` edits role and area, deactivates or reactivates, sets a new password typed
by the admin (never shown again), and lists the user's open tickets with a form to reassign them —
one by one or all at once — through the panel's «Asignado» service (history, assignment mail).
Writes go through `tickets.user_admin`; a refusal is shown with its reason. Agents and legal users
get 403.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tickets import user_admin
from tickets.catalog_specs import KINDS
from tickets.models import Area, Role, User
from tickets.services import Context, FieldError, ServiceError
from tickets.text import as_id, fold
from tickets.user_admin import ROLE_LABELS
from web_admin.auth import role_required
from web_admin.state import panel, read_session, send_queued

bp = Blueprint("admin_users", __name__, url_prefix="/admin")

ADMIN = Role.ADMIN.value


def _common(s) -> dict:
    areas = sorted(s.scalars(select(Area.name)), key=fold)
    return {"kinds": KINDS, "roles": ROLE_LABELS, "areas": areas}


def _render_list(values=None, errors=None, status=200):
    s = read_session()
    users = list(s.scalars(select(User).order_by(User.active.desc(), User.name)))
    leads = {a.lead_id: a.name for a in s.scalars(select(Area).where(Area.lead_id.is_not(None)))}
    return render_template("admin/admin_users.html", users=users, leads=leads, open=user_admin.open_counts(s),
                           values=values or {},
                           errors=errors or {}, **_common(s)), status


def _render_user(user_id: int, errors=None, refusal=None, values=None, status=200):
    s = read_session()
    user = s.get(User, user_id)
    if user is None:
        abort(404)
    others = [u for u in s.scalars(select(User).where(User.active.is_(True), User.id != user.id)
                                   .order_by(User.name))]
    return render_template("admin/admin_user.html", user=user, led=user_admin.led_areas(s, user),
                           tickets=user_admin.open_tickets(s, user), others=others, errors=errors or {},
                           refusal=refusal, values=values or {}, **_common(s)), status


@bp.get("/usuarios")
@role_required(ADMIN)
def users():
    """Every staff user (active first) and the form for a new one."""
    return _render_list()


@bp.post("/usuarios")
@role_required(ADMIN)
def create():
    """Create a user; a bad or duplicate value re-renders the form with its message (400)."""
    f = request.form
    try:
        with panel().sessions.begin() as s:
            user_admin.create_user(s, email=f.get("email", ""), name=f.get("name", ""), role=f.get("role", ""),
                                   area=f.get("area") or None, password=f.get("password", ""),
                                   by=current_user.email)
    except FieldError as exc:
        values = {k: f.get(k, "") for k in ("email", "name", "role", "area")}
        return _render_list(values, {exc.field: _capital(exc.message)}, 400)
    flash(f"Usuario {f.get('email', '').strip().lower()} creado.", "success")
    return redirect(url_for("admin_users.users"))


def _capital(text: str) -> str:
    text = text.strip()
    return text[0].upper() + text[1:] + ("" if text.endswith(".") or text.endswith(")") else ".")


def _act(user_id: int, act, *, send: bool = False):
    """Run ``act(session, user, me)`` in a transaction; it returns the message to flash. A
    FieldError or ServiceError re-renders the user's page with it (400/409). ``send``: send the
    mail the action queued, after the commit."""
    try:
        with panel().sessions.begin() as s:
            user = s.get(User, user_id)
            if user is None:
                abort(404)
            message = act(s, user, s.get(User, current_user.id))
    except FieldError as exc:
        return _render_user(user_id, errors={exc.field: _capital(exc.message)}, values=request.form, status=400)
    except ServiceError as exc:
        return _render_user(user_id, refusal=_capital(str(exc)), status=409)
    if send:
        send_queued()
    flash(message, "success")
    return redirect(url_for("admin_users.user", user_id=user_id))


@bp.get("/usuarios/<int:user_id>")
@role_required(ADMIN)
def user(user_id: int):
    """One user: edit, activate, password, open tickets to reassign."""
    return _render_user(user_id)


@bp.post("/usuarios/<int:user_id>")
@role_required(ADMIN)
def update(user_id: int):
    """Save name, role and area."""
    f = request.form

    def act(s, u, me):
        user_admin.update_user(s, u, name=f.get("name", ""), role=f.get("role", ""), area=f.get("area") or None,
                               by=me)
        return "Usuario guardado."

    return _act(user_id, act)


@bp.post("/usuarios/<int:user_id>/desactivar")
@role_required(ADMIN)
def deactivate(user_id: int):
    """Deactivate; the page then lists their open tickets to reassign."""
    def act(s, u, me):
        user_admin.set_active(s, u, False, by=me)
        n = len(user_admin.open_tickets(s, u))
        if not n:
            return "Usuario desactivado."
        many = n != 1
        return (f"Usuario desactivado. Tiene {n} atenci{'ones' if many else 'ón'} abierta{'s' if many else ''}: "
                f"reasígnela{'s' if many else ''} abajo.")

    return _act(user_id, act)


@bp.post("/usuarios/<int:user_id>/reactivar")
@role_required(ADMIN)
def reactivate(user_id: int):
    """Reactivate: they can log in again."""
    def act(s, u, me):
        user_admin.set_active(s, u, True, by=me)
        return "Usuario reactivado."

    return _act(user_id, act)


@bp.post("/usuarios/<int:user_id>/clave")
@role_required(ADMIN)
def password(user_id: int):
    """Set the password the admin typed (twice); their other sessions end."""
    new, again = request.form.get("password", ""), request.form.get("password2", "")

    def act(s, u, me):
        if new != again:
            raise FieldError("password2", "Las dos contraseñas no coinciden.")
        user_admin.reset_password(s, u, new, by=me)
        return "Contraseña cambiada. Comuníquela al usuario por un medio seguro."

    return _act(user_id, act)


@bp.post("/usuarios/<int:user_id>/reasignar")
@role_required(ADMIN)
def reassign(user_id: int):
    """Reassign the posted ``ticket`` ids (one, or all of the list) to ``to`` (a user id)."""
    ids = [i for i in map(as_id, request.form.getlist("ticket")) if i is not None]
    to = request.form.get("to", "")

    def act(s, u, me):
        if not ids:
            raise ServiceError("No eligió ninguna atención.")
        ctx = Context.from_settings(panel().settings)
        codes = user_admin.reassign(s, ctx, u, ids, as_id(to) or 0, by=me)
        return f"Reasignada{'s' if len(codes) != 1 else ''} a {s.get(User, as_id(to)).name}: {', '.join(codes)}."

    return _act(user_id, act, send=True)
