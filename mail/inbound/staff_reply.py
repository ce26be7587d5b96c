"""What a staff reply's command lines ask for, and whether they may be carried out (DESIGN, "Staff
email commands"). Read-only: the rules call `read_staff_reply`; `mail.inbound.apply` carries out
the `StaffReply` it returns, all or none.

A reply's commands are accepted only when the sender is trusted and every command is valid:

- trusted: the reply came back to our mailbox's plus-address with the reply token of the staff
  user who is its From author (`tickets.reply_tokens`; a token of another user is no trust), or
  our receiving server's ``Authentication-Results`` says DKIM/DMARC passed for the From domain
  (`mail.inbound.trust`);
- valid: well formed (`mail.inbound.staff_commands`), the status and priority exist, the
  assignee is an active staff user — resolved by name with the same services the CLI uses.

Everything is checked before anything changes, so the errors list every reason at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from mail.inbound.parse import ParsedMessage
from mail.inbound.staff_commands import Command, parse_commands
from mail.inbound.trust import sender_is_authenticated
from tickets import reply_tokens
from tickets.models import Priority, Status, User
from tickets.services import ServiceError, find_user_by_email, require_by_name
from tickets.settings import DEV_SECRET_KEY

if TYPE_CHECKING:
    from mail.inbound.rules.base import RuleSettings

__all__ = ["NOT_TRUSTED", "StaffReply", "read_staff_reply", "trust_of"]

#: The refusal's reason when the sender could not be verified (Spanish, for the staff member).
NOT_TRUSTED = ("no se pudo comprobar que el correo es suyo: responda desde su dirección al correo que le "
               "envió el sistema (lleva su token de respuesta) o envíe desde un servidor que firme con DKIM")


@dataclass(frozen=True)
class StaffReply:
    """A staff reply with command lines.

    commands: as parsed, in order. text: the comment's text without the command lines.
    errors: Spanish reasons for refusing; empty means accepted. trusted_by: ``"token"``, ``"dkim"``
    or None (not trusted). status / priority: the catalog names asked for (resolved), assignee: the
    staff user, public: the reply goes to the requester — all None/False when not asked.
    """

    commands: tuple[Command, ...]
    text: str
    errors: tuple[str, ...] = ()
    trusted_by: str | None = None
    status: str | None = None
    assignee: User | None = None
    priority: str | None = None
    public: bool = False

    @property
    def accepted(self) -> bool:
        """May every command be carried out?"""
        return not self.errors

    @property
    def written(self) -> list[str]:
        """The command lines as the sender wrote them."""
        return [c.written for c in self.commands]


def trust_of(msg: ParsedMessage, staff: User, settings: RuleSettings, ticket_code: str) -> str | None:
    """How the sender is trusted: ``"token"`` when the message was sent to one of our own addresses
    with ``staff``'s reply token for ``ticket_code`` as plus part and ``staff`` is its From author
    (a token of another ticket or user is no trust); else ``"dkim"`` when our trusted server's
    Authentication-Results says DKIM/DMARC passed; else None."""
    if not msg.from_addr or msg.from_addr.lower() != staff.email.lower():
        return None
    if settings.secret_key and settings.secret_key != DEV_SECRET_KEY:  # a public key proves nothing
        for addr in (*msg.to, *msg.cc, *msg.delivered_to):
            for token in reply_tokens.tokens_in_address(addr, settings.own_addresses):
                if reply_tokens.verify(settings.secret_key, token, staff.id, ticket_code):
                    return "token"
    if sender_is_authenticated(msg, msg.from_addr, settings.trusted_authserv_id):
        return "dkim"
    return None


def _resolve(session: Session, command: Command) -> tuple[object, str | None]:
    """The catalog value a command names and None, or None and the Spanish reason it is invalid."""
    try:
        if command.name == "status":
            return require_by_name(session, Status, command.value, "estado").name, None
        if command.name == "priority":
            return require_by_name(session, Priority, command.value, "prioridad", feminine=True).name, None
    except ServiceError as exc:
        return None, f"{command.written}: {exc}"
    if command.name == "assign":
        email = parseaddr(command.value)[1] or command.value
        user = find_user_by_email(session, email)
        if user is None:
            return None, f"{command.written}: no existe el usuario activo del personal {email}"
        return user, None
    return None, None


def read_staff_reply(session: Session, msg: ParsedMessage, staff: User, settings: RuleSettings,
                     ticket_code: str) -> StaffReply | None:
    """The commands of ``staff``'s reply ``msg`` about ticket ``ticket_code`` and whether they are
    accepted; None when the reply has no command line at its top (an ordinary internal comment).
    Reads, never writes."""
    commands, text, errors = parse_commands(msg.new_text)
    if not commands:
        return None
    trusted_by = trust_of(msg, staff, settings, ticket_code)
    reasons = [] if trusted_by else [NOT_TRUSTED]
    reasons += errors
    values: dict[str, object] = {}
    for command in commands:
        if command.name in ("status", "priority", "assign") and command.name not in values:
            value, reason = _resolve(session, command)
            if reason:
                reasons.append(reason)
            values[command.name] = value
    return StaffReply(commands=commands, text=text, errors=tuple(reasons), trusted_by=trusted_by,
                      status=values.get("status"), assignee=values.get("assign"),
                      priority=values.get("priority"), public=any(c.name == "public" for c in commands))
