"""Sent by one of our own addresses: a mail loop, ignored (DESIGN step 2).

Exactly the configured mailbox and From addresses, never their whole domain (staff write from
it). A mailing group's From rewrite is not a loop: `group_rewrite.unwrap` gives such a message
back its author before the chain runs.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mail.inbound.parse import ParsedMessage
from mail.inbound.rules.base import Decision, RuleSettings
from tickets.models import Outcome

name = "own-address"
description = "A message from one of our own addresses is ignored (loop guard)."


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
    """See the module docstring."""
    if msg.from_addr in settings.own_addresses:
        return Decision(Outcome.IGNORED, name, "own_address")
    return None
