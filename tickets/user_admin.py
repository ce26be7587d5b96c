"""Staff users from the Administración pages (issue 10, item 7): create, edit name/role/area,
deactivate or reactivate, reset the password, and hand a deactivated agent's open tickets to
someone else. Validation and hashing are `tickets.users.add_or_update_user`'s (the CLI's
``users add``); the reassignment is `tickets.services.assign` (the panel's «Asignado»: history,
watcher, assignment mail through the outbox).

Refusals (a `tickets.services.FieldError` on the field, or a ServiceError; nothing is written):
a duplicate email; an admin removing their own admin role or deactivating themselves; deactivating
an area's lead, or moving them to another area, before another lead is named.
Each change is logged (logger ``tickets.user_admin``, INFO). Never commits.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from tickets import services
from tickets.models import Area, Role, Status, Ticket, User
from tickets.services import Context, FieldError, ServiceError
from tickets.users import MIN_PASSWORD_CHARS, ROLES, add_or_update_user, normalise_email

log = logging.getLogger(__name__)

ROLE_LABELS = {"admin": "Administrador", "agent": "Agente", "legal": "Asesor legal"}


def led_areas(session: Session, user: User) -> list[Area]:
    """The areas ``user`` leads, by name."""
    return list(session.scalars(select(Area).where(Area.lead_id == user.id).order_by(Area.name)))


def _lead_refusal(session: Session, user: User, doing: str) -> str | None:
    areas = led_areas(session, user)
    if not areas:
        return None
    names = ", ".join(f"«{a.name}»" for a in areas)
    return (f"No se puede {doing} a {user.name}: es líder del área {names}. "
            "Nombre antes a otro líder en Administración › Áreas.")


def create_user(session: Session, *, email: str, name: str, role: str, area: str | None,
                password: str, by: str = "") -> User:
    """A new active user. Raises FieldError (email already used — also when another admin created
    it between the check and the write —, or `add_or_update_user`'s)."""
    address = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise FieldError("email", f"Ya existe un usuario con el correo {address}.")
    try:
        user, _ = add_or_update_user(session, email=address, name=name, role=role, area=area or None,
                                     password=password)
        session.flush()
    except IntegrityError as exc:  # another admin created the same address meanwhile
        raise FieldError("email", f"Ya existe un usuario con el correo {address}.") from exc
    log.info("user %s created (role %s) by %s", address, role, by)
    return user


def update_user(session: Session, user: User, *, name: str, role: str, area: str | None, by: User) -> None:
    """Change name, role and area (None: no area).

    Raises: FieldError("role") when ``by`` would remove their own admin role; FieldError("area")
    when ``user`` leads an area and would leave it; FieldError(name/role/area) for bad values.
    """
    name = " ".join((name or "").split())
    if not name:
        raise FieldError("name", "El nombre está vacío.")
    if role not in ROLES:
        raise FieldError("role", "Elija un rol.")
    if user.id == by.id and user.role == Role.ADMIN.value and role != Role.ADMIN.value:
        raise FieldError("role", "No puede quitarse a sí mismo el rol de administrador.")
    area_row = services.get_by_name(session, Area, area) if area else None
    if area and area_row is None:
        raise FieldError("area", "Elija un área de la lista.")
    new_area_id = area_row.id if area_row else None
    if new_area_id != user.area_id:
        led = [a for a in led_areas(session, user) if a.id != new_area_id]
        if led:
            names = ", ".join(f"«{a.name}»" for a in led)
            raise FieldError("area", f"{user.name} es líder del área {names}: nombre antes a otro líder.")
    user.name, user.role, user.area_id = name, role, new_area_id
    session.flush()
    log.info("user %s updated (role %s, area %s) by %s", user.email, role, area, by.email)


def set_active(session: Session, user: User, active: bool, *, by: User) -> None:
    """Deactivate (they can no longer log in; their tickets stay assigned) or reactivate.

    Raises: ServiceError when ``by`` deactivates themselves or ``user`` leads an area.
    """
    if not active:
        if user.id == by.id:
            raise ServiceError("No puede desactivarse a sí mismo.")
        refusal = _lead_refusal(session, user, "desactivar")
        if refusal:
            raise ServiceError(refusal)
    user.active = active
    session.flush()
    log.info("user %s %s by %s", user.email, "reactivated" if active else "deactivated", by.email)


def reset_password(session: Session, user: User, password: str, *, by: User) -> None:
    """Set a new password (hashed as `add_or_update_user` does); the user's sessions end.
    Raises FieldError("password") when shorter than `MIN_PASSWORD_CHARS`."""
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise FieldError("password", f"Debe tener al menos {MIN_PASSWORD_CHARS} caracteres.")
    user.password_hash = generate_password_hash(password)
    session.flush()
    log.info("user %s: password reset by %s", user.email, by.email)


def open_tickets(session: Session, user: User) -> list[Ticket]:
    """The tickets assigned to ``user`` whose status is not closed, oldest first."""
    return list(session.scalars(
        select(Ticket).join(Status, Ticket.status_id == Status.id)
        .where(Ticket.assignee_id == user.id, Status.closed.is_(False)).order_by(Ticket.requested_at)))


def open_counts(session: Session) -> dict[int, int]:
    """User id → how many open (not closed) tickets are assigned to them."""
    rows = session.execute(select(Ticket.assignee_id, func.count()).join(Status, Ticket.status_id == Status.id)
                           .where(Ticket.assignee_id.is_not(None), Status.closed.is_(False))
                           .group_by(Ticket.assignee_id))
    return {user_id: n for user_id, n in rows}


def reassign(session: Session, ctx: Context, user: User, ticket_ids: list[int], to_user_id: int, *,
             by: User) -> list[str]:
    """Assign each of ``user``'s open tickets in ``ticket_ids`` to the active user ``to_user_id``
    through `tickets.services.assign`, in code order. Returns the codes reassigned, in that order.
    Raises: FieldError("to") for an unknown, inactive or same user; ServiceError when a ticket is
    not one of ``user``'s open tickets."""
    target = session.get(User, to_user_id) if to_user_id else None
    if target is None or not target.active or target.id == user.id:
        raise FieldError("to", "Elija otro usuario activo.")
    mine = {t.id: t for t in open_tickets(session, user)}
    if any(ticket_id not in mine for ticket_id in ticket_ids):
        raise ServiceError("Esa atención ya no está abierta ni asignada a este usuario.")
    codes = []
    for ticket in sorted({mine[i] for i in ticket_ids}, key=lambda t: t.code):  # in code order, each once
        services.assign(session, ctx, ticket, target, by=by)
        codes.append(ticket.code)
    log.info("user %s: %d tickets reassigned to %s by %s", user.email, len(codes), target.email, by.email)
    return codes
