"""Access to the panel: ``/login`` and ``/logout`` (blueprint ``auth``), the logged-in staff user
(`StaffUser`, loaded by Flask-Login on each request) and the role checks (DESIGN.md, "Web panel").

Roles: admin (everything, catalog and users included), agent (every ticket, no administration),
legal (only the reclamo/queja tickets where they are the legal adviser or the assignee: the list
passes `StaffUser.legal_scope_id` to `tickets.queries`; part B's ticket view answers 404 for the
others). Passwords are checked against ``User.password_hash`` as written by
`tickets.users.add_or_update_user` (werkzeug's hashes). A deactivated user cannot log in, and one
deactivated while logged in is logged out on their next request. The session identifies the user
by id plus a fingerprint of their password hash, so changing a password ends the other sessions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from tickets.models import Role, User
from web_admin.state import read_session

__all__ = ["StaffUser", "bp", "login_manager", "role_required"]

bp = Blueprint("auth", __name__)

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Ingrese para ver esta página."
login_manager.login_message_category = "info"

#: Checked when the email is unknown, so that an unknown address takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone")

BAD_CREDENTIALS = "Correo o contraseña incorrectos."
DEACTIVATED = "Su usuario está desactivado. Consulte con un administrador."


@dataclass(frozen=True)
class StaffUser(UserMixin):
    """The logged-in staff member, as the views see it (no ORM object kept across requests)."""

    id: int
    email: str
    name: str
    role: str
    fingerprint: str
    """First 16 hex digits of the sha256 of the password hash (see the module docstring)."""

    def get_id(self) -> str:
        return f"{self.id}.{self.fingerprint}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def is_legal(self) -> bool:
        return self.role == Role.LEGAL.value

    @property
    def legal_scope_id(self) -> int | None:
        """This user's id when they see only their reclamos (legal role), else None (every ticket)."""
        return self.id if self.is_legal else None

    @classmethod
    def from_user(cls, user: User) -> StaffUser:
        return cls(user.id, user.email, user.name, user.role, _fingerprint(user.password_hash or ""))


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@login_manager.user_loader
def load_user(session_id: str) -> StaffUser | None:
    """The active user the session names, or None (logged out) when they are gone, deactivated or
    changed their password."""
    user_id, _, fingerprint = session_id.partition(".")
    if not user_id.isdigit():
        return None
    user = read_session().get(User, int(user_id))
    if user is None or not user.active or not user.password_hash:
        return None
    staff = StaffUser.from_user(user)
    return staff if staff.fingerprint == fingerprint else None


def role_required(*roles: str):
    """View decorator: logged in and one of ``roles`` (``Role`` values), else 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


class LoginForm(FlaskForm):
    email = EmailField("Correo", validators=[DataRequired("Escriba su correo."), Length(max=320)])
    password = PasswordField("Contraseña", validators=[DataRequired("Escriba su contraseña."),
                                                       Length(max=200)])


def _safe_next(target: str | None) -> str:
    """``next`` only when it is a path on this site (never another host: no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("listing.index")


def check_credentials(email: str, password: str) -> tuple[User | None, str | None]:
    """The user for ``email`` and ``password``, or (None, the Spanish reason). Case-insensitive email."""
    user = read_session().scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None, BAD_CREDENTIALS
    if not check_password_hash(user.password_hash, password):
        return None, BAD_CREDENTIALS
    if not user.active:
        return None, DEACTIVATED
    return user, None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login page; a successful POST redirects (302) to ``next`` or the list."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user, error = check_credentials(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # nothing of an earlier user's session (the list they left) carries over
            login_user(StaffUser.from_user(user))
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        error = "Escriba su correo y su contraseña."
    return render_template("admin/login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    """End the session (a POST with its CSRF token: a link elsewhere cannot log anyone out)."""
    logout_user()
    session.clear()  # the list they left (web_admin.listing.list_return_url) goes with them
    return redirect(url_for("auth.login"))
