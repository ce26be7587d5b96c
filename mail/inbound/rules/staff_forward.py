"""A client's mail forwarded to the mailbox by a staff user (inline or attached) and about no
known ticket is a new ticket for that client (DESIGN step 6): the requester is the original
sender, the detail the client's text, the staff member its ``registered_by``, and their own
words become an internal comment.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mail.inbound.markers import FORWARD_PREFIX_RE, FORWARD_SEPARATOR_RE
from mail.inbound.parse import ParsedMessage
from mail.inbound.rules.base import Decision, ForwardPayload, RuleSettings
from mail.inbound.rules.lookups import referenced_ticket
from tickets.models import Outcome
from tickets.services import find_user_by_email

name = "staff-forward"
description = "A client's mail forwarded by a staff user becomes that client's ticket."


def _is_forward(msg: ParsedMessage) -> bool:
    """Attached, or marked as a forward by its subject or a separator line: an ordinary reply's
    quoted header block looks like an inline forward too."""
    return (msg.forwarded[0].attached or bool(FORWARD_PREFIX_RE.match(msg.subject or ""))
            or FORWARD_SEPARATOR_RE.search(msg.text) is not None)


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
    """See the module docstring."""
    if not msg.forwarded:
        return None
    staff = find_user_by_email(session, msg.from_addr)
    if staff is None or not _is_forward(msg):
        return None
    original = msg.forwarded[0]
    if not original.from_addr or original.from_addr in settings.own_addresses:
        return None
    if find_user_by_email(session, original.from_addr) is not None:
        return None  # staff forwarding staff: an internal matter, not a client's request
    if referenced_ticket(session, msg, settings.code_prefix) is not None:
        return None
    return Decision(Outcome.TICKET, name, "forwarded_by_staff", payload=ForwardPayload(staff, original))
