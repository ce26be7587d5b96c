"""More attachments than the mailbox allows: held (DESIGN step 8). A message over the size limit
is held by ingest before it is parsed at all."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mail.inbound.parse import ParsedMessage
from mail.inbound.rules.base import Decision, HeldPayload, RuleSettings
from tickets.models import Outcome

name = "limits"
description = "A message with more attachments than ATENCION_MAX_ATTACHMENTS is held."


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
    """See the module docstring."""
    if len(msg.attachments) <= settings.max_attachments:
        return None
    return Decision(Outcome.HELD, name, "too_many_attachments",
                    payload=HeldPayload(f"{len(msg.attachments)} adjuntos (máximo {settings.max_attachments})"))
