"""Reply tokens: the plus part of the address staff reply to (``postventa+<token>@dominio``).

A token is an HMAC-SHA256 of the user's id under ``ATENCION_SECRET_KEY``, truncated: it proves a
reply came back through a mail we sent to that user (DESIGN, "Outbound mail": Reply-To to staff).
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def token_for(secret_key: str, user_id: int) -> str:
    """The reply token of staff user ``user_id``: 16 lower-case base32 characters."""
    digest = hmac.new(secret_key.encode(), f"reply:{user_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:16]


def verify(secret_key: str, token: str, user_id: int) -> bool:
    """Whether ``token`` is user ``user_id``'s (constant-time comparison)."""
    return hmac.compare_digest(token.strip().lower(), token_for(secret_key, user_id))


def reply_address(mail_from: str, token: str) -> str:
    """``local+token@domain`` from our address ``local@domain``."""
    local, _, domain = mail_from.rpartition("@")
    return f"{local.split('+', 1)[0]}+{token}@{domain}"
