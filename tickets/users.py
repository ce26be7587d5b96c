"""Staff users: add or update one (the CLI's ``users add``; the panel's user form will call it too).

Like every service, it works inside the caller's transaction and never commits.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from tickets.models import Area, Role, User
from tickets.services import FieldError, get_by_name
from tickets.text import fold, unknown_value

ROLES = tuple(r.value for r in Role)
"""The staff roles: admin (everything), agent (every ticket), legal (their reclamos)."""

MIN_PASSWORD_CHARS = 8
"""Shortest accepted password, in characters."""

MAX_EMAIL_CHARS = 320
MAX_NAME_CHARS = 200


def normalise_email(email: str) -> str:
    """``email`` trimmed and lower-cased. Raises FieldError("email") unless it looks like
    ``local@domain``: one ``@``, both parts present, no spaces, at most 320 characters."""
    value = (email or "").strip().lower()
    local, at, domain = value.partition("@")
    if (not at or not local or not domain or "@" in domain or any(c.isspace() for c in value)
            or len(value) > MAX_EMAIL_CHARS):
        raise FieldError("email", f"correo no válido {value!r}")
    return value


def add_or_update_user(session: Session, *, email: str, name: str, role: str, area: str | None = None,
                       password: str) -> tuple[User, bool]:
    """Create the staff user with this email, or update the one that has it (idempotent by email).

    Parameters: email(str): any case; stored lower-cased. name(str): shown in the panel and in
    mail. role(str): one of `ROLES`. area(str|None): an area's name (case and accents ignored);
    None keeps the user's area. password(str): at least `MIN_PASSWORD_CHARS` characters; only its
    hash is stored. The user is (re)activated.
    Returns: (the user, flushed; True when it was created).
    Raises: FieldError naming the field (email, name, role, area, password); nothing is written.
    """
    email = normalise_email(email)
    name = " ".join((name or "").split())
    if not name:
        raise FieldError("name", "el nombre está vacío")
    if len(name) > MAX_NAME_CHARS:
        raise FieldError("name", f"nombre demasiado largo ({len(name)} caracteres; máximo {MAX_NAME_CHARS})")
    if role not in ROLES:
        raise FieldError("role", f"rol no válido {role!r} (use {', '.join(ROLES[:-1])} o {ROLES[-1]})")
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise FieldError("password", f"debe tener al menos {MIN_PASSWORD_CHARS} caracteres")
    area_row = None
    if area is not None:
        area_row = get_by_name(session, Area, area)
        if area_row is None:
            valid = sorted(session.scalars(select(Area.name)), key=fold)
            raise FieldError("area", unknown_value("área", area, valid, feminine=True))
    user = session.scalar(select(User).where(User.email == email))
    created = user is None
    if created:
        user = User(email=email)
        session.add(user)
    user.name, user.role, user.active = name, role, True
    if area_row is not None:
        user.area_id = area_row.id
    user.password_hash = generate_password_hash(password)
    session.flush()
    return user, created
