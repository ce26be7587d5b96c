"""The classification chain: the rules in DESIGN.md's order, as data ("Inbound mail", steps 1–8).

Each entry is a rule module (`mail.inbound.rules.base.Rule`). The first rule that returns a
decision settles the message; `new_ticket` always decides. A bounce often carries Auto-Submitted,
so `bounce` is asked before `auto_reply`; a staff forward before the ticket match, which it defers
to when the forward names a ticket. Staff email commands ride on `matches_ticket` (see its
docstring). A calendar answer (METHOD:REPLY) is asked before `auto_reply` and the ticket
match: it names its event by UID, and is recorded there, never as a comment.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mail.inbound.parse import ParsedMessage
from mail.inbound.rules import (
    auto_reply,
    bounce,
    calendar_reply,
    duplicate,
    group_rewrite,
    limits,
    matches_ticket,
    new_ticket,
    no_sender,
    own_address,
    staff_forward,
)
from mail.inbound.rules.base import Decision, Rule, RuleSettings

__all__ = ["CHAIN", "classify", "prepare"]

CHAIN: tuple[Rule, ...] = (
    duplicate,       # 1. seen before
    no_sender,       # 8. no usable sender: held
    limits,          # 8. too many attachments: held
    own_address,     # 2. our own mail: a loop
    bounce,          # 3. delivery failure
    calendar_reply,  # an answer to our invitation: on its event, never a comment
    auto_reply,      # 4. out-of-office, bulk
    staff_forward,   # 6. a client's mail forwarded by staff
    matches_ticket,  # 5–6. a reply to a ticket: comment or held
    new_ticket,      # 7. everything else
)


def prepare(msg: ParsedMessage, settings: RuleSettings) -> ParsedMessage:
    """The message as the rules should see it: a mailing group's From rewrite undone (step 2)."""
    return group_rewrite.unwrap(msg, settings)


def classify(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision:
    """Ask each rule of `CHAIN` in turn; the first decision wins. Reads the database, never writes."""
    for rule in CHAIN:
        decision = rule.check(session, msg, settings)
        if decision is not None:
            return decision
    raise AssertionError("new_ticket always decides")  # pragma: no cover
