"""Everything else is a new ticket (DESIGN step 7).

Its requester is the sender — or, when ``Reply-To`` holds exactly one external address other
than ``From`` and ``From`` is no known client or staff user (a web form's mailer, a relay), the
Reply-To person.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mail.inbound.parse import Address, ParsedMessage
from mail.inbound.rules.base import Decision, RuleSettings, TicketPayload
from mail.inbound.rules.lookups import is_known_client
from tickets.models import Outcome
from tickets.services import find_user_by_email

name = "new-ticket"
description = "Any other message opens a new ticket for its sender (or its Reply-To person)."


def requester_of(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Address:
    """Who a new ticket from ``msg`` is for (see the module docstring)."""
    sender = Address(msg.from_name, msg.from_addr or "")
    external = [a for a in msg.reply_to_mailboxes if a.email not in settings.own_addresses]
    if len(external) != 1 or external[0].email == sender.email:
        return sender
    if is_known_client(session, sender.email) or find_user_by_email(session, sender.email) is not None:
        return sender
    return external[0]


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision:
    """Always decides: see the module docstring."""
    return Decision(Outcome.TICKET, name, payload=TicketPayload(requester_of(session, msg, settings)))
