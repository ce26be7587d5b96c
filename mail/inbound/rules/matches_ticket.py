"""A reply to a known ticket (DESIGN steps 5 and 6): its code in the subject, its thread or a
plus-address names the ticket.

An allowed sender — requester, holder, staff, or an address already on the ticket's thread —
writes a comment. Anyone else is held for review, and nobody is mailed. A client's reply to a
closed ticket reopens it, or, when the mailbox does not reopen (``reopen_closed`` false), opens a
new ticket linked to it; later replies go to that linked ticket while it is open.

A staff reply may start with command lines (``#estado Atendido``…): they are read and checked here
(`mail.inbound.staff_reply`) and ride on the comment's payload, and the reason says whether they
are accepted (``staff_commands``) or refused (``commands_refused``). They belong to this rule, not
to one of their own before it: a command is a property of a staff comment on the ticket this rule
finds, and a separate rule would look the ticket up a second time to reach the same outcome.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mail.inbound.parse import Address, ParsedMessage
from mail.inbound.rules.base import CommentPayload, Decision, HeldPayload, RuleSettings, TicketPayload
from mail.inbound.rules.lookups import referenced_ticket
from mail.inbound.staff_reply import read_staff_reply
from tickets.models import Outcome
from tickets.services import find_user_by_email, is_allowed_sender, open_linked_ticket, status_flags

name = "matches-ticket"
description = "A reply to a known ticket: a comment from an allowed sender, else held."


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
    """See the module docstring."""
    ticket = referenced_ticket(session, msg, settings.code_prefix)
    if ticket is None:
        return None
    staff = find_user_by_email(session, msg.from_addr)
    if staff is None and not is_allowed_sender(session, ticket, msg.from_addr):
        return Decision(Outcome.HELD, name, "sender_not_allowed", ticket=ticket,
                        payload=HeldPayload(f"de {msg.from_addr} sobre {ticket.code}"))
    if staff is None and not settings.reopen_closed and status_flags(session, ticket.status_id).closed:
        follow_up = open_linked_ticket(session, ticket)
        if follow_up is None:
            return Decision(Outcome.TICKET, name, f"linked_to_{ticket.code}",
                            payload=TicketPayload(Address(msg.from_name, msg.from_addr), linked_from=ticket))
        return Decision(Outcome.COMMENT, name, f"follow_up_of_{ticket.code}", ticket=follow_up,
                        payload=CommentPayload(follow_up_of=ticket))
    if staff is not None and (reply := read_staff_reply(session, msg, staff, settings, ticket.code)) is not None:
        return Decision(Outcome.COMMENT, name, "staff_commands" if reply.accepted else "commands_refused",
                        ticket=ticket, payload=CommentPayload(author=staff, staff_reply=reply))
    return Decision(Outcome.COMMENT, name, ticket=ticket, payload=CommentPayload(author=staff))
