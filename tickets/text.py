"""Small text helpers shared by the domain modules."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, time


def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive key for names: ``fold(" Área  Legal ") == "area legal"``.

    Used wherever a name typed by a person is compared with a catalog name (statuses, priorities,
    types, areas…): SQL ``lower()`` folds only ASCII on SQLite and C-locale PostgreSQL.
    """
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def nfc(text: str | None) -> str | None:
    """``text`` in Unicode NFC (``"o" + U+0301`` becomes ``"ó"``); None stays None.

    The models store searched text composed (`tickets.models`: a ticket's subject, detail and
    requester name, a client's name, a logbook entry's text): mail from some clients (macOS) arrives
    decomposed, and the list's accent-insensitive search (`tickets.text_match`) folds composed
    letters only.
    """
    return None if text is None else unicodedata.normalize("NFC", text)


#: The largest row id a database stores (SQLite and PostgreSQL ``BIGINT``: signed 64 bits).
MAX_ID = 2**63 - 1


def as_id(text: str | None) -> int | None:
    """The row id written in ``text`` (ASCII digits, 1 … `MAX_ID`), or None.

    ``as_id(" 42 ") == 42``; ``as_id("²")``, ``as_id("-1")``, ``as_id("9" * 25)`` are None: a
    tampered form or URL must find no row, not reach the database with a value it cannot compare
    (PostgreSQL: "out of range", SQLite: OverflowError — both a 500).
    """
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def plural(n: int, singular: str, plural_: str) -> str:
    """``n`` and the noun phrase that agrees with it: ``plural(1, "mensaje", "mensajes") == "1 mensaje"``."""
    return f"{n} {singular if n == 1 else plural_}"


#: How many valid values an "unknown value" message lists before it says how many more there are.
MAX_LISTED = 30


def unknown_value(noun: str, value: str, valid: Iterable[str], *, feminine: bool = False) -> str:
    """The message for a name that matches no catalog row, listing the valid ones (at most `MAX_LISTED`).

    Examples: ``estado desconocido 'Cerradoo' (válidos: Anulado, Asignado)``,
    ``área desconocida 'Marte' (válidas: Legal, Postventa)``,
    ``tipo de unidad desconocido 'casa' (no hay ninguno registrado)``.
    """
    names = list(valid)
    unknown = "desconocida" if feminine else "desconocido"
    if not names:
        none = "ninguna registrada" if feminine else "ninguno registrado"
        return f"{noun} {unknown} {value!r} (no hay {none})"
    shown = ", ".join(names[:MAX_LISTED])
    if len(names) > MAX_LISTED:
        shown += f", … y {len(names) - MAX_LISTED} más"
    return f"{noun} {unknown} {value!r} ({'válidas' if feminine else 'válidos'}: {shown})"


_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def typed_day(text: str) -> date | None:
    """A day a person typed: dd/mm/aaaa (as Peru writes it; also with ``-`` or ``.``) or aaaa-mm-dd
    (what a browser's date field sends). None when it is neither or not a real day."""
    text = text.strip()
    try:
        match = _DMY.fullmatch(text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text)
    except ValueError:
        return None


def typed_clock(text: str) -> time | None:
    """A time of day typed as HH:MM (24 hours, the hour with one or two digits); else None."""
    match = _HHMM.fullmatch(text.strip())
    return time(int(match[1]), int(match[2])) if match else None

