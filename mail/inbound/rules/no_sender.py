"""No usable sender address: held (we could not answer, nor tell who wrote; DESIGN step 8)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mail.inbound.parse import ParsedMessage
from mail.inbound.rules.base import Decision, HeldPayload, RuleSettings
from tickets.models import Outcome

name = "no-sender"
description = "A message without a usable From address is held for review."


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
    """See the module docstring."""
    if msg.from_addr and "@" in msg.from_addr:
        return None
    written = msg.header("from")
    return Decision(Outcome.HELD, name, "no_sender",
                    payload=HeldPayload(f"remitente ilegible: {written[:200]}" if written else "sin remitente"))
