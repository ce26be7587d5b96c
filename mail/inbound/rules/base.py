"""What a rule is, what it decides, and what it may read (GNU Mailman's rules and chains, in small).

A rule is a module with a kebab-case ``name``, a one-line ``description`` and
``check(session, msg, settings) -> Decision | None``: it answers one question about a parsed
message, reading the database but never writing it, and returns a `Decision` when the answer
settles the message's outcome, else None (the next rule is asked). `mail.inbound.rules.chain`
holds their order; `mail.inbound.ingest` carries out the decision without changing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from sqlalchemy.orm import Session

from mail.inbound.parse import Address, ForwardedMessage, ParsedMessage
from mail.inbound.staff_reply import StaffReply
from tickets.models import Outcome, Ticket, User

__all__ = ["BouncePayload", "BouncedCopy", "CommentPayload", "Decision", "ForwardPayload", "HeldPayload", "Rule",
           "RuleSettings", "TicketPayload"]


@dataclass(frozen=True)
class RuleSettings:
    """What the rules need from the configuration of the mailbox being read.

    mail_domain: the domain of our Message-IDs (MAIL_FROM's; None: a report's quoted Message-ID
    of our shape is looked up whatever its domain). own_addresses: exactly our addresses,
    lower-case (never whole domains: DESIGN step 2).
    max_attachments: more files than this in one message are held. reopen_closed: a client's
    reply to a closed ticket reopens it (True) or opens a new ticket linked to it (False).
    secret_key: signs the staff reply tokens (`tickets.reply_tokens`; None: no token is valid).
    trusted_authserv_id: the RFC 8601 authserv-id of our own receiving server (None: no
    Authentication-Results header is trusted).
    """

    code_prefix: str = "AT"
    mail_domain: str | None = None
    own_addresses: frozenset[str] = frozenset()
    max_attachments: int = 50
    reopen_closed: bool = True
    secret_key: str | None = field(default=None, repr=False)
    trusted_authserv_id: str | None = None


@dataclass(frozen=True)
class HeldPayload:
    """Why a message is held, in words for the reviewer (None: the reason says it all)."""

    detail: str | None = None


class BouncedCopy(NamedTuple):
    """One copy of our mail that a delivery report says failed for good: its outbox row, the
    recipient (lower-case), the status ("5.1.1", or a 5xx reply code) and the server's words."""

    outbox_id: int
    recipient: str
    status: str
    diagnostic: str


@dataclass(frozen=True)
class BouncePayload:
    """A delivery report of a permanent failure: the copies of our mail it reports, one per failed
    recipient (empty when the returned message is not ours, or no copy of it is named)."""

    copies: tuple[BouncedCopy, ...] = ()


@dataclass(frozen=True)
class ForwardPayload:
    """A client's mail forwarded by a staff user: the forwarder and the forwarded message."""

    staff: User
    forwarded: ForwardedMessage


@dataclass(frozen=True)
class CommentPayload:
    """A comment on the decision's ticket. author: the staff user who wrote it (None: the client or
    another allowed address). follow_up_of: the closed ticket the reply named, when the comment
    goes to its open linked ticket instead. staff_reply: a staff reply's command lines, checked
    (None: no command, an ordinary comment)."""

    author: User | None = None
    follow_up_of: Ticket | None = None
    staff_reply: StaffReply | None = None


@dataclass(frozen=True)
class TicketPayload:
    """A new ticket. requester: who it is for (the sender, or the Reply-To person of a web form
    or relay, DESIGN step 7). linked_from: the closed ticket a reply named (reopen_closed false)."""

    requester: Address
    linked_from: Ticket | None = None


Payload = HeldPayload | BouncePayload | ForwardPayload | CommentPayload | TicketPayload


@dataclass(frozen=True)
class Decision:
    """The outcome of one message, the rule that chose it, and what carrying it out needs.

    outcome: ticket, comment, duplicate, ignored or held. rule: the deciding rule's name (logged,
    stored on the inbound record). reason: the machine-readable why (``auto_reply``, ``bulk``,
    ``sender_not_allowed``, ``linked_to_AT-000001``…), None for plain tickets and comments.
    ticket: the existing ticket the message concerns (a comment's, a held reply's, the one a bounce
    or an auto-reply refers to), else None.
    """

    outcome: Outcome
    rule: str
    reason: str | None = None
    ticket: Ticket | None = None
    payload: Payload | None = None


class Rule(Protocol):
    """A classification rule: a module with these three names (see the module docstring)."""

    name: str
    description: str

    def check(self, session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
        """The decision when this rule settles the message, else None. Reads, never writes."""
