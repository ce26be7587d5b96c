"""Reply tokens: the secret a staff user's reply carries back in our plus-address (DESIGN, "Staff
email commands").

Mail to a staff user has ``Reply-To: postventa+<token>@dominio`` (`reply_address`); a reply that
comes back to that address from one of that user's addresses may carry commands (`#estado …`). The
token is the HMAC-SHA256 (RFC 2104) of the user's id under ``ATENCION_SECRET_KEY``, truncated to
80 bits, written in lower-case base32 (RFC 4648, no padding) after a leading ``0``:

- 17 characters of ``[0a-z2-7]``: safe in a URL and in an address's local part (RFC 5322 atext),
  and unchanged by servers that lower-case local parts;
- the leading digit (``0`` is not in the base32 alphabet) keeps a ticket-code prefix (``AT``) from
  ever being read inside a token by the tolerant code search (`tickets.codes.code_pattern` wants
  no letter or digit before the prefix, and every later character is one).

The token is per staff user (not per ticket): the outbound worker calls
``reply_address(settings.mail_from, token_for(settings.secret_key, user.id))``. Changing the
secret key invalidates every token already mailed. Pure functions: no database, no mail.
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


def token_for(secret_key: str, user_id: int) -> str:
    """The reply token of staff user ``user_id``.

    Examples: ``len(token_for("k", 7)) == 17``; ``token_for("k", 7).startswith("0")``.
    """
    mac = hmac.new(secret_key.encode("utf-8"), f"reply-token:user:{int(user_id)}".encode("ascii"), hashlib.sha256)
    return _LEAD + base64.b32encode(mac.digest()[:_DIGEST_BYTES]).decode("ascii").lower()


def is_token_shaped(text: str) -> bool:
    """Could ``text`` be a token (length and alphabet only; says nothing of its validity)?"""
    return (len(text) == TOKEN_LENGTH and text[:1] == _LEAD
            and all(c in _ALPHABET for c in text[1:]))


def verify(secret_key: str, token: str, user_id: int) -> bool:
    """Is ``token`` the reply token of user ``user_id``? Constant-time comparison; case-insensitive."""
    if not secret_key or not token:
        return False
    return hmac.compare_digest(token_for(secret_key, user_id), token.strip().lower())


def user_for_token(secret_key: str, token: str, user_ids: Iterable[int]) -> int | None:
    """The id among ``user_ids`` whose token ``token`` is, else None (each compared in constant time)."""
    found = None
    for uid in user_ids:
        if verify(secret_key, token, uid) and found is None:
            found = uid
    return found


def reply_address(mail_from: str, token: str) -> str:
    """Our address with the token as its plus part: ``reply_address("postventa@x.pe", t)`` is
    ``"postventa+<t>@x.pe"``. A plus part already in ``mail_from`` is replaced."""
    local, at, domain = mail_from.strip().rpartition("@")
    if not at:
        local, domain = mail_from.strip(), ""
    local = local.partition("+")[0]
    return f"{local}+{token}@{domain}" if domain else f"{local}+{token}"


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
