"""Mail that reaches us through our own mailing group (DESIGN step 2's exception).

When the support address is a group (Google Groups and the like), every message carries the
group's List-Id / List-Post, and for senders whose domain publishes DMARC p=reject the group
rewrites ``From:`` to the group itself, keeping the author in ``X-Original-From`` and
``Reply-To``. Such mail is its author's: neither a loop (`own_address`) nor bulk (`auto_reply`).
Our own outbound mail never carries X-Original-From.
"""

from __future__ import annotations

import dataclasses
import re

from mail.inbound.parse import Address, ParsedMessage
from mail.inbound.rules.base import RuleSettings

__all__ = ["is_our_group", "unwrap"]

_MAILTO_RE = re.compile(r"mailto:([^>,\s?]+)", re.IGNORECASE)
_LIST_ID_RE = re.compile(r"<([^<>\s]+)>")


def _list_addresses(msg: ParsedMessage) -> set[str]:
    """The addresses the list headers name: List-Post's mailto (RFC 2369) and the List-Id
    (RFC 2919: ``<postventa.inmobiliaria-andina.pe>`` for postventa@inmobiliaria-andina.pe, as
    written; compared with our addresses' first "@" read as ".")."""
    found = {m.lower() for m in _MAILTO_RE.findall(msg.header("list-post"))}
    found |= {"list-id:" + m.lower() for m in _LIST_ID_RE.findall(msg.header("list-id"))}
    return found


def is_our_group(msg: ParsedMessage, settings: RuleSettings) -> bool:
    """Do the message's List-Id or List-Post name one of our own addresses?"""
    named = _list_addresses(msg)
    return any(a in named or "list-id:" + a.replace("@", ".", 1) in named for a in settings.own_addresses)


def _author(msg: ParsedMessage, settings: RuleSettings) -> Address | None:
    """The one external author the group kept: X-Original-From, else a lone external Reply-To."""
    if msg.original_from is not None:
        return msg.original_from if msg.original_from.email not in settings.own_addresses else None
    external = [a for a in msg.reply_to_mailboxes if a.email not in settings.own_addresses]
    return external[0] if len(external) == 1 else None


def unwrap(msg: ParsedMessage, settings: RuleSettings) -> ParsedMessage:
    """The message with its author back in From when our group rewrote From to itself; else as is."""
    if msg.from_addr not in settings.own_addresses or not is_our_group(msg, settings):
        return msg
    author = _author(msg, settings)
    if author is None:
        return msg
    return dataclasses.replace(msg, from_addr=author.email, from_name=author.name)
