"""Reply tokens: the secret a staff user's reply carries back in our plus-address (DESIGN, "Staff
email commands").

Mail to a staff user about a ticket has ``Reply-To: postventa+AT-000123.<token>@dominio``
(`reply_address`); a reply that comes back to that address from that user's address may carry
commands (`#estado …`) for that ticket. The token is the HMAC-SHA256 (RFC 2104) of the user's id
and the ticket's code under ``ATENCION_SECRET_KEY``, truncated to 80 bits, written in lower-case
base32 (RFC 4648, no padding) after a leading ``0``:

- 17 characters of ``[0a-z2-7]``: safe in a URL and in an address's local part (RFC 5322 atext),
  and unchanged by servers that lower-case local parts;
- the leading digit (``0`` is not in the base32 alphabet) keeps a ticket-code prefix (``AT``) from
  ever being read inside a token by the tolerant code search (`tickets.codes.code_pattern` wants
  no letter or digit before the prefix, and every later character is one).

The token is per ticket and per staff user (DESIGN): one that leaked opens no other ticket and
speaks for no other user. The outbound worker calls ``reply_address(settings.mail_from,
token_for(settings.secret_key, user.id, code), code)``. Changing the secret key invalidates every
token already mailed. Pure functions: no database, no mail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

__all__ = ["TOKEN_LENGTH", "is_token_shaped", "reply_address", "token_for", "tokens_in_address", "user_for_token",
           "verify"]

#: Bytes of the HMAC kept (80 bits: 16 base32 characters).
_DIGEST_BYTES = 10
_LEAD = "0"
#: Characters in a token: the lead digit and 16 base32 characters.
TOKEN_LENGTH = 1 + 16
_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def token_for(secret_key: str, user_id: int, ticket_code: str) -> str:
    """The reply token of staff user ``user_id`` for the ticket ``ticket_code`` (``AT-000123``,
    compared upper-case).

    Examples: ``len(token_for("k", 7, "AT-000001")) == 17``; it starts with ``"0"``.
    """
    material = f"reply-token:user:{int(user_id)}:ticket:{ticket_code.strip().upper()}"
    mac = hmac.new(secret_key.encode("utf-8"), material.encode("utf-8"), hashlib.sha256)
    return _LEAD + base64.b32encode(mac.digest()[:_DIGEST_BYTES]).decode("ascii").lower()


def is_token_shaped(text: str) -> bool:
    """Could ``text`` be a token (length and alphabet only; says nothing of its validity)?"""
    return (len(text) == TOKEN_LENGTH and text[:1] == _LEAD
            and all(c in _ALPHABET for c in text[1:]))


def verify(secret_key: str, token: str, user_id: int, ticket_code: str) -> bool:
    """Is ``token`` user ``user_id``'s token for ticket ``ticket_code``? Constant-time comparison;
    case-insensitive."""
    if not secret_key or not token or not ticket_code:
        return False
    return hmac.compare_digest(token_for(secret_key, user_id, ticket_code), token.strip().lower())


def user_for_token(secret_key: str, token: str, user_ids: Iterable[int], ticket_code: str) -> int | None:
    """The id among ``user_ids`` whose token for ``ticket_code`` ``token`` is, else None (each
    compared in constant time)."""
    found = None
    for uid in user_ids:
        if verify(secret_key, token, uid, ticket_code) and found is None:
            found = uid
    return found


def reply_address(mail_from: str, token: str, ticket_code: str | None = None) -> str:
    """Our address with the ticket's code and the token as its plus part (DESIGN's form):
    ``reply_address("postventa@x.pe", t, "AT-000123")`` is ``"postventa+AT-000123.<t>@x.pe"``
    (without a code: ``"postventa+<t>@x.pe"``). A plus part already in ``mail_from`` is replaced."""
    local, at, domain = mail_from.strip().rpartition("@")
    if not at:
        local, domain = mail_from.strip(), ""
    local = local.partition("+")[0]
    plus = f"{ticket_code}.{token}" if ticket_code else token
    return f"{local}+{plus}@{domain}" if domain else f"{local}+{plus}"


def tokens_in_address(address: str, own_addresses: Iterable[str] | None = None) -> list[str]:
    """The token-shaped pieces of an address's plus part: ``postventa+0abc…@x.pe`` and DESIGN's
    ``postventa+AT-000123.0abc…@x.pe`` (pieces split on ``.``) alike.

    ``own_addresses``: when given (lower-case), only an address that is one of these once its plus
    part is removed counts: the token must come back to our own mailbox.
    """
    local, _, domain = address.strip().lower().rpartition("@")
    base, plus, tail = local.partition("+")
    if not plus or (own_addresses is not None and f"{base}@{domain}" not in set(own_addresses)):
        return []
    return [piece for piece in tail.split(".") if is_token_shaped(piece)]
