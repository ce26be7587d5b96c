"""Did the message's author pass DKIM or DMARC, as our own receiving server says?

Sources: RFC 8601 (``Authentication-Results``: ``authserv-id; method=result prop.name=value …``),
RFC 6376 §3.5 (the DKIM ``d=``/``i=`` signing domain), RFC 7489 §3.1 (DMARC identifier alignment).

Only a header written by our own border server counts: a sender can put any
``Authentication-Results`` in the mail they send, so headers whose authserv-id is not the configured
``ATENCION_TRUSTED_AUTHSERV_ID`` are ignored, and of the trusted ones only the topmost (the last
added, by our server) is read (DESIGN, "Staff email commands"). With no trusted id configured,
nothing is trusted. Accepted when that header says:

- ``dmarc=pass`` with ``header.from`` equal to the From address's domain (a result without
  ``header.from`` is about the From domain by definition, RFC 7489 §3.1, and counts); or
- ``dkim=pass`` whose ``header.d`` (or, when absent, the domain of ``header.i``) equals the From
  address's domain.

Alignment is *strict* (RFC 7489 §3.1.1: the domains are identical): a relaxed check needs the
public-suffix list to find organisational domains, and a staff member's mail is signed by their
own domain. The message must have exactly one From header with exactly one address — the author
being judged. A malformed header is "not authenticated"; nothing here raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.utils import getaddresses

import authres

__all__ = ["sender_is_authenticated", "trusted_results"]


def _header_values(source, name: str) -> Sequence[str]:
    """Every value of header ``name`` in order, top first: ``source`` is a `ParsedMessage`
    (``.headers``), an `email.message.Message` (``get_all``), or a mapping of lower-cased names to
    tuples of values."""
    if hasattr(source, "get_all"):
        return [str(v) for v in (source.get_all(name) or [])]
    headers = getattr(source, "headers", source)
    if isinstance(headers, Mapping):
        values = headers.get(name.lower(), ())
        return [values] if isinstance(values, str) else list(values)
    return []


def _authserv_id(value: str) -> str:
    """The authserv-id a header value starts with, without parsing the rest (lower-case)."""
    head = value.split(";", 1)[0].strip().split()
    return head[0].lower() if head else ""


def trusted_results(source, trusted_authserv_id: str | None) -> list | None:
    """The results (``authres`` objects) of the topmost ``Authentication-Results`` header whose
    authserv-id is ``trusted_authserv_id`` (case-insensitive); None when there is no such header,
    none is configured, or that header does not parse."""
    if not trusted_authserv_id:
        return None
    wanted = trusted_authserv_id.strip().lower()
    for value in _header_values(source, "authentication-results"):
        if _authserv_id(value) != wanted:
            continue
        try:
            parsed = authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
        except Exception:  # authres raises its own SyntaxError and, on odd input, others
            return None
        if (parsed.authserv_id or "").lower() != wanted:
            return None
        return list(parsed.results)
    return None


def _props(result) -> dict[str, str]:
    """``{"header.d": "x.pe", …}`` of one result, names lower-cased."""
    out = {}
    for p in getattr(result, "properties", None) or []:
        if p.type and p.name and p.value is not None:
            out.setdefault(f"{p.type}.{p.name}".lower(), str(p.value).strip().lower())
    return out


def _single_author(source) -> str | None:
    """The one address of the message's one From header (lower-case), else None."""
    values = _header_values(source, "from")
    if len(values) != 1:
        return None
    found = [addr for _, addr in getaddresses(values) if addr]
    return found[0].lower() if len(found) == 1 else None


def sender_is_authenticated(msg_or_headers, from_addr: str | None, trusted_authserv_id: str | None) -> bool:
    """Did ``from_addr``, the message's only From author, pass DMARC or an aligned DKIM check
    according to our trusted server's topmost ``Authentication-Results``? (See the module docstring.)

    Parameters: msg_or_headers: a `ParsedMessage`, an `email.message.Message` or a mapping of lower-cased
    header names to value tuples. from_addr(str): the author's address. trusted_authserv_id(str):
    ``ATENCION_TRUSTED_AUTHSERV_ID``; None or empty: nothing is trusted.
    Returns: True only on a positive, aligned result; False otherwise (never raises).
    """
    try:
        if not from_addr or "@" not in from_addr:
            return False
        author = _single_author(msg_or_headers)
        if author is None or author != from_addr.strip().lower():
            return False
        domain = author.rpartition("@")[2]
        results = trusted_results(msg_or_headers, trusted_authserv_id)
        for result in results or []:
            method = (getattr(result, "method", "") or "").lower()
            if (getattr(result, "result", "") or "").lower() != "pass":
                continue
            props = _props(result)
            if method == "dmarc" and props.get("header.from", domain) == domain:
                return True
            signer = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
            if method == "dkim" and signer == domain:
                return True
        return False
    except Exception:  # a malformed header is never authentication
        return False
