"""Reading a delivery report: which addresses failed for good, why, and which message it returns.

Two shapes reach us:

- a DSN (RFC 3464): a ``message/delivery-status`` part with one block per recipient
  (Final-Recipient, Original-Recipient, Action, Status, Diagnostic-Code), the returned message or
  its headers beside it;
- a plain-text report of an MTA that writes none (qmail's "Hi. This is the qmail-send program",
  Exim's "This message was created automatically by mail delivery software", Postfix without DSN,
  Exchange's NDR text): its own words first, then a copy of the returned message's headers.

Only a permanent failure counts: Action ``failed`` with a 5.x.x status in a DSN; in a plain-text
report, a 5xx or 5.x.x code in the report's own words and no word of a delay ("will retry",
"still trying", "retraso"…). A delay warning is not a bounce. Pure functions, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mail.inbound.parse import ParsedMessage

__all__ = ["Failure", "Recipient", "describe", "dsn_recipients", "is_delay_notice", "our_message_ids", "permanent_code",
           "report_words", "text_failures"]

_DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
_ORIGINAL_TYPES = ("message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers")
#: A permanent status: enhanced (RFC 3463, 5.x.x) or a 5xx SMTP reply code ("550 ", "550-").
_ENHANCED_5 = re.compile(r"(?<![\d.])5\.\d{1,3}\.\d{1,3}(?![\d.])")
_STATUS = re.compile(r"(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?![\d.])")
_REPLY_5 = re.compile(r"(?<![\d.])5[0-5]\d(?=[ \-)]|$)", re.MULTILINE)
_DELAY = re.compile(
    r"\bdelay(?:ed)?\b|will\s+(?:be\s+)?retr(?:y|ied)|still\s+trying|not\s+yet\s+been\s+delivered"
    r"|attempts\s+will\s+continue|will\s+(?:continue|keep)\s+trying|retraso|demorad[oa]|reintentar[aá]"
    r"|seguir[aá]\s+intentando", re.IGNORECASE)
#: Where a plain-text report stops speaking and the copy of the returned message begins.
_QUOTE_START = re.compile(
    r"^(?:-{2,}.*(?:copy of the message|original message|mensaje original|undelivered message).*"
    r"|(?:original message headers|mensaje original|encabezados del mensaje original)\b.*"
    r"|(?:return-path|received|from|to|cc|subject|date|message-id|mime-version|content-type|reply-to"
    r"|in-reply-to|references|dkim-signature):.*)$", re.IGNORECASE | re.MULTILINE)
#: A quoted header line inside a report's words ("  To: ana@example.pe"): it names an address of
#: the returned message, not one that failed.
_HEADER_LINE = re.compile(r"^\s*(?:to|cc|bcc|from|reply-to|sender|delivered-to|x-[\w-]+)\s*:", re.IGNORECASE)
_MESSAGE_ID_LINE = re.compile(r"(?<![\w-])message-id:\s*<([^<>\s]+)>", re.IGNORECASE)
#: The local part of our Message-IDs (`tickets.outbox.new_message_id`): CODE.event.12 hex digits.
_OUR_LOCAL = re.compile(r"^[A-Za-z0-9-]+\.[a-z_]+\.[0-9a-f]{12}$")


@dataclass(frozen=True)
class Recipient:
    """One per-recipient block of a DSN. ``addresses``: Original-Recipient then Final-Recipient,
    lower-case, without duplicates (either may be the address we sent to); ``action`` lower-case
    (failed, delayed, delivered, relayed, expanded; "" when missing); ``status`` the Status field's
    x.x.x ("" when missing); ``diagnostic`` the Diagnostic-Code text, one line ("" when missing)."""

    addresses: tuple[str, ...]
    action: str
    status: str
    diagnostic: str

    @property
    def failure(self) -> Failure | None:
        """The permanent failure this block reports, else None: Action failed (or none given) with
        a 5.x.x status, or without a status a 5xx code in the diagnostic."""
        if self.action not in ("failed", ""):
            return None
        code = self.status if self.status else permanent_code(self.diagnostic)
        if not code or not code.startswith("5"):
            return None
        return Failure(self.addresses, code, self.diagnostic)


@dataclass(frozen=True)
class Failure:
    """An address that cannot receive mail, as a report says: ``addresses`` the names it gives
    (lower-case), ``status`` "5.1.1" or "550", ``diagnostic`` the server's words on one line."""

    addresses: tuple[str, ...]
    status: str
    diagnostic: str

    @property
    def text(self) -> str:
        """Status and diagnostic for people (`describe`)."""
        return describe(self.status, self.diagnostic)


def describe(status: str, diagnostic: str) -> str:
    """A failure's status and diagnostic for people: "5.1.1 user unknown"; the diagnostic alone
    when it starts with the status already ("550 5.1.1 user unknown")."""
    if not diagnostic:
        return status
    return diagnostic if status in diagnostic[:16] else f"{status} {diagnostic}"


def _one_line(text: str, limit: int = 500) -> str:
    return " ".join(text.split())[:limit]


def _address(value: str) -> str | None:
    """``rfc822; <Ana@Example.PE>`` → ``ana@example.pe``; None when no plain address."""
    addr = value.split(";", 1)[-1].strip().strip("<>").strip().lower()
    return addr if "@" in addr and not any(c.isspace() for c in addr) else None


def _fields(data: bytes) -> list[dict[str, str]]:
    """The blocks of a delivery-status body as dicts of lower-case field names, continuation lines
    unfolded; a new block also starts where a recipient field repeats without a blank line."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for line in data.decode("utf-8", "replace").replace("\r\n", "\n").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, None
        elif line[0] in " \t" and last:
            current[last] += " " + line.strip()
        elif ":" in line:
            name, value = line.split(":", 1)
            name = name.strip().lower()
            if name in ("final-recipient", "original-recipient") and name in current:
                blocks.append(current)
                current = {}
            current[name], last = value.strip(), name
    if current:
        blocks.append(current)
    return blocks


def dsn_recipients(msg: ParsedMessage) -> tuple[Recipient, ...]:
    """Every per-recipient block of the message's delivery-status parts, in order; empty when it
    has none (not a DSN, or one without recipient blocks)."""
    found: list[Recipient] = []
    for att in msg.attachments:
        if att.content_type not in _DSN_TYPES:
            continue
        for block in _fields(att.data):
            addrs = [a for a in (_address(block.get("original-recipient", "")),
                                 _address(block.get("final-recipient", ""))) if a]
            if not addrs:
                continue
            status = _STATUS.search(block.get("status", ""))
            diagnostic = block.get("diagnostic-code", "")
            action = block.get("action", "").split("(")[0].strip().lower()  # "failed (bad mailbox)"
            found.append(Recipient(tuple(dict.fromkeys(addrs)), action, status.group(0) if status else "",
                                   _one_line(diagnostic.split(";", 1)[-1])))
    return tuple(found)


def permanent_code(text: str) -> str | None:
    """The first permanent status in ``text``: a 5.x.x code, else a 5xx reply code; None if none."""
    match = _ENHANCED_5.search(text) or _REPLY_5.search(text)
    return match.group(0) if match else None


def report_words(msg: ParsedMessage) -> str:
    """The report's own words: the message text up to where the copy of the returned message starts."""
    text = msg.text.replace("\r\n", "\n")
    start = _QUOTE_START.search(text)
    return text[:start.start()] if start else text


def is_delay_notice(words: str) -> bool:
    """Whether a report's own words speak of a delay or of trying again (then it is no bounce)."""
    return bool(_DELAY.search(words))


def our_message_ids(msg: ParsedMessage, domain: str | None) -> tuple[str, ...]:
    """The Message-IDs of ours that a report returns, without <>, in the order found: the returned
    message's (DSN), then those on Message-ID lines quoted in its text or attached copies.

    Ours: the shape of `tickets.outbox.new_message_id` (``AT-000123.acknowledgement.3f9a0c1b2d4e``)
    at ``domain`` (case-insensitive; None: any domain). Other ids are left out.
    """
    found: list[str] = []
    if msg.report_original is not None and msg.report_original.message_id:
        found.append(msg.report_original.message_id)
    texts = [msg.text] + [a.data.decode("utf-8", "replace") for a in msg.attachments
                          if a.content_type in _ORIGINAL_TYPES]
    found += [m.group(1) for text in texts for m in _MESSAGE_ID_LINE.finditer(text)]
    ours = []
    for mid in found:
        local, _, dom = mid.rpartition("@")
        if _OUR_LOCAL.match(local) and (domain is None or dom.lower() == domain.lower()) and mid not in ours:
            ours.append(mid)
    return tuple(ours)


def _paragraphs(words: str) -> list[str]:
    return [p for p in re.split(r"\n[ \t]*\n", words) if p.strip()]


def text_failures(words: str, recipients: Iterable[str]) -> tuple[Failure, ...]:
    """The failures a plain-text report states, among ``recipients`` (the addresses we sent the
    returned message to, lower-case): each one its own words name (not on a quoted To/Cc line),
    with the paragraph naming it (qmail's ``<addr>:`` block, Exim's indented block, Postfix's
    line; the one with a code when several do) as diagnostic.

    Empty when the words carry no permanent code (5xx, 5.x.x) or speak of a delay.
    """
    report_code = permanent_code(words)
    if report_code is None or is_delay_notice(words):
        return ()
    paragraphs = _paragraphs(words)
    failures = []
    for rcpt in recipients:
        named = re.compile(rf"(?<![\w.+-]){re.escape(rcpt)}(?![\w-]|\.\w)", re.IGNORECASE)
        mine = [p for p in paragraphs
                if any(named.search(ln) and not _HEADER_LINE.match(ln) for ln in p.split("\n"))]
        if not mine:
            continue
        para = next((p for p in mine if permanent_code(p)), mine[0])
        lines = [ln for ln in para.split("\n") if ln.strip().strip("<>:").strip().lower() != rcpt]
        failures.append(Failure((rcpt,), permanent_code(para) or report_code, _one_line(" ".join(lines))))
    return tuple(failures)
