"""Classification of inbound mail: one small module per rule, their order in `chain`.

How is an auto-reply recognised? `auto_reply`. A bounce? `bounce`. Who may comment on a ticket?
`matches_ticket`. What a rule is and decides: `base`. Shared look-ups: `lookups`.
"""

from mail.inbound.rules.base import (
    BouncedCopy,
    BouncePayload,
    CommentPayload,
    Decision,
    ForwardPayload,
    HeldPayload,
    RuleSettings,
    TicketPayload,
)
from mail.inbound.rules.chain import CHAIN, classify, prepare

__all__ = ["CHAIN", "BouncePayload", "BouncedCopy", "CommentPayload", "Decision", "ForwardPayload", "HeldPayload",
           "RuleSettings", "TicketPayload", "classify", "prepare"]
