"""Mail forwarded inline: the forwarder's own words, and the forwarded message's header and text.

What a forward marker or a quoted header block looks like is defined once, in
`mail.inbound.markers`; this module reads the header block that follows one ("De: …",
"Enviado: …", "Asunto: …") and the dates mail clients print in it.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from mail.inbound.markers import FIELD_KEYS, HEADER_FIELD_RE, OUTLOOK_RULE_RE, header_block_at, is_forward_separator
from mail.inbound.parse.addresses import split_name_address
from mail.inbound.parse.headers import collapse, parse_date
from mail.inbound.parse.model import ForwardedMessage

__all__ = ["DEFAULT_TZ", "parse_loose_date", "split_forward"]

#: Time zone assumed for dates written without one inside forwarded text (DESIGN.md default).
DEFAULT_TZ: tzinfo = ZoneInfo("America/Lima")
#: Another "Name: value" line inside a forwarded header block ("Importance: High", "Reply-To: …").
_OTHER_FIELD_RE = re.compile(r"^[ \t>*]*([^\W\d_][\w-]{0,25})[ \t]*\**[ \t]*:[ \t]*\**[ \t]*(.*)$")


def _forward_start(lines: list[str]) -> tuple[int, int] | None:
    """(first line of the forward, first line of its header block), or None."""
    for i, line in enumerate(lines):
        if is_forward_separator(line) or OUTLOOK_RULE_RE.match(line.lstrip(">")):
            return i, i + 1
        if header_block_at(lines, i):
            return i, i
    return None


def _read_fields(lines: list[str]) -> tuple[dict[str, str], int]:
    """The header block at the top of ``lines`` as {key: value} (the kinds of `FIELD_KEYS`, else the
    field name lower-cased) and the index of the first line after it."""
    fields: dict[str, str] = {}
    idx = 0
    while idx < len(lines):
        line = lines[idx]
        known, other = HEADER_FIELD_RE.match(line), _OTHER_FIELD_RE.match(line)
        if known:
            key = FIELD_KEYS[" ".join(known.group("key").lower().split())]
            fields.setdefault(key, known.group("value").strip().strip("*").strip())
        elif other:
            fields.setdefault(other.group(1).lower(), other.group(2).strip().strip("*").strip())
        elif not line.strip() and not fields:
            pass  # blank lines between the marker and the block
        elif fields and line.strip() and (line[:1] in " \t" or lines[idx - 1].rstrip().endswith(("<", "@", ","))):
            pass  # a folded continuation of the previous field
        else:
            break
        idx += 1
    return fields, idx


def split_forward(text: str, *, default_tz: tzinfo = DEFAULT_TZ) -> tuple[str, ForwardedMessage | None]:
    """Split an inline forward: (the forwarder's own words, the forwarded message or None).

    Recognises the separators of `mail.inbound.markers` (Gmail's "---------- Forwarded message
    ---------", "---------- Mensaje reenviado ----------", Outlook's "-----Mensaje original-----",
    Apple Mail's "Begin forwarded message:"), Outlook on the web's line of underscores, and bare
    "De:/Enviado:/Para:/Asunto:" header blocks. A block without a From field is no forward. An
    Outlook reply's quoted header block is reported too: the caller decides whether it is a
    forward (the subject, the marker). Returns (text stripped, None) when there is no forward.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    found = _forward_start(lines)
    if found is None:
        return text.strip(), None
    start, header_start = found
    block = lines[header_start:]
    while block and not block[0].strip():
        block = block[1:]
    fields, end = _read_fields(block)
    if "from" not in fields:
        return text.strip(), None
    body = "\n".join(line[1:].lstrip(" ") if line.startswith(">") else line for line in block[end:])
    sender = split_name_address(fields["from"])
    name = sender.name if sender else collapse(re.sub(r"[<>()\[\]]|mailto:", " ", fields["from"])).strip("\"' ,;")
    return "\n".join(lines[:start]).strip(), ForwardedMessage(
        from_addr=sender.email if sender else None, from_name=name,
        subject=collapse(fields.get("subject", "")),
        date=parse_loose_date(fields.get("date", ""), default_tz=default_tz),
        text=body.strip(), attached=False)


_MONTHS = {"jan": 1, "ene": 1, "feb": 2, "mar": 3, "apr": 4, "abr": 4, "may": 5, "jun": 6, "jul": 7,
           "aug": 8, "ago": 8, "sep": 9, "set": 9, "oct": 10, "nov": 11, "dec": 12, "dic": 12}
_NUMERIC_DATE_RE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b")
_DAY_MONTH_YEAR_RE = re.compile(r"\b(\d{1,2})\.?\s+(?:de\s+)?([a-záéíóú]{3,})\.?,?\s+(?:de\s+|del\s+)?(\d{4})\b")
_MONTH_DAY_YEAR_RE = re.compile(r"\b([a-z]{3,})\.?\s+(\d{1,2}),?\s+(\d{4})\b")
_TIME_RE = re.compile(r"\b(\d{1,2}):(\d{2})(?::\d{2})?\s*([ap])?\.?\s*(?:m\.?)?")


def _day_month_year(low: str) -> tuple[int | None, int | None, int | None, int]:
    """(day, month, year, end of the match) of the first date written in ``low``."""
    if m := _NUMERIC_DATE_RE.search(low):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if month > 12 and day <= 12:
            day, month = month, day
        return day, month, year, m.end()
    if m := _DAY_MONTH_YEAR_RE.search(low):
        return int(m.group(1)), _MONTHS.get(m.group(2)[:3]), int(m.group(3)), m.end()
    if m := _MONTH_DAY_YEAR_RE.search(low):
        return int(m.group(2)), _MONTHS.get(m.group(1)[:3]), int(m.group(3)), m.end()
    return None, None, None, 0


def parse_loose_date(value: str, *, default_tz: tzinfo = DEFAULT_TZ) -> datetime | None:
    """Parse a date as mail clients print it in a quoted header, Spanish or English.

    Examples: "Fri, Jun 7, 2024 at 10:30 AM", "viernes, 7 de junio de 2024 10:30",
    "vie, 7 jun 2024 a las 10:30", "7/06/2024 10:30 a. m.", RFC 5322 dates. Naive results get
    ``default_tz``. Returns None when no date can be recognised.
    """
    if not value:
        return None
    value = collapse(value)
    rfc = parse_date(value)
    if rfc is not None and re.search(r"\d{1,2}:\d{2}", value) and re.search(r"[+-]\d{4}|GMT|UTC", value):
        return rfc
    low = value.lower()
    day, month, year, end = _day_month_year(low)
    if not (day and month and year):
        return rfc
    year = year + 2000 if year < 100 else year
    hour = minute = 0
    if t := _TIME_RE.search(low[end:]):
        hour, minute = int(t.group(1)), int(t.group(2))
        if t.group(3) == "p" and hour < 12:
            hour += 12
        elif t.group(3) == "a" and hour == 12:
            hour = 0
    try:
        return datetime(year, month, day, hour, minute, tzinfo=default_tz)
    except ValueError:
        return rfc
