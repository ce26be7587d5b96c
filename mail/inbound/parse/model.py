"""What the parser returns: `ParsedMessage` and its parts. Frozen: rules and ingest only read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from mail.inbound.parse.addresses import Address
from tickets.storage import NewFile

__all__ = ["Address", "Attachment", "ForwardedMessage", "ParsedMessage", "UnparseableMessage"]


class UnparseableMessage(ValueError):
    """The bytes are not a mail message at all (empty input, a binary file with no headers)."""


#: One file carried by a message (`tickets.storage.NewFile`): filename sanitised
#: (`params.sanitize_filename`: no path parts, no control characters, never empty); inline when the
#: HTML body shows it by ``cid:``.
Attachment = NewFile


@dataclass(frozen=True)
class ForwardedMessage:
    """A message forwarded inline (a marker and a header block in the text) or attached
    (message/rfc822).

    from_addr is lower-cased; date is aware (naive dates in forwarded text get the default zone);
    text is the forwarded message's own body; attached is True for a message/rfc822 part.
    """

    from_addr: str | None
    from_name: str
    subject: str
    date: datetime | None
    text: str
    attached: bool


@dataclass(frozen=True)
class ParsedMessage:
    """Everything the rules and the ticket services need from one message (see `parse_message`).

    Bodies: ``text`` is the whole body as read — the text/plain alternative, or the HTML one as
    text when it says clearly more (`body.choose_text`), with a winmail.dat's body when there is
    no other; ``new_text`` is what a comment keeps (`mail.inbound.quotes.extract_new_text`: quoted
    history, signature and phone footer cut); ``forwarder_text`` is, for a forward, what the
    forwarder wrote above it (quotes cut), else ""; ``html`` is the HTML alternative as received.
    Addresses are lower-cased and usable; display names decoded. ``forwarded`` lists the inline
    forward found in ``text`` first (an Outlook reply's quoted header block too: the rules decide
    whether it is a forward), then the message/rfc822 parts in MIME order. ``headers``: every
    top-level header, decoded, by lower-cased name. ``body_digest``: sha256 of the body with line
    endings and trailing blanks normalised (a re-delivery with other headers has the same one).
    """

    raw: bytes
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_addr: str | None
    from_name: str
    reply_to: tuple[str, ...]
    reply_to_mailboxes: tuple[Address, ...]
    original_from: Address | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    delivered_to: tuple[str, ...]
    return_path: str | None
    subject: str
    date: datetime | None
    text: str
    new_text: str
    forwarder_text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    forwarded: tuple[ForwardedMessage, ...]
    headers: Mapping[str, tuple[str, ...]]
    content_type: str
    is_delivery_report: bool
    report_original: ParsedMessage | None
    body_digest: str
    defects: tuple[str, ...]

    def header(self, name: str, default: str = "") -> str:
        """First decoded value of the top-level header `name` (case-insensitive), else `default`."""
        values = self.headers.get(name.lower())
        return values[0] if values else default

    @property
    def files(self) -> tuple[Attachment, ...]:
        """The attachments that are the sender's files (not images shown in the body)."""
        return tuple(a for a in self.attachments if not a.inline)
