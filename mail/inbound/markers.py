"""PLACEHOLDER (replaced by the quotes branch): forward and quote markers, defined once."""

from __future__ import annotations

import re

REPLY_PREFIX_RE = re.compile(r"^\s*((re|rv|fw|fwd|tr|aw|wg|sv|vs|antw|r)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
FORWARD_PREFIX_RE = re.compile(r"^\s*(fwd?|rv|tr|wg|reenviado|reenv)\s*:", re.IGNORECASE)
FORWARD_SEPARATOR_RE = re.compile(
    r"^[ \t*]*(?:-{2,}\s*(?:Forwarded message|Mensaje reenviado|Original Message|Mensaje original|Message d'origine"
    r"|Message transf[ée]r[ée]|Weitergeleitete Nachricht|Urspr[üu]ngliche Nachricht)\s*-{2,}"
    r"|(?:Begin forwarded message|Inicio del mensaje reenviado|Comienzo del mensaje reenviado):)[ \t*]*$",
    re.IGNORECASE)
HEADER_FIELD_RE = re.compile(
    r"^[ \t>*]*(From|De|Sent|Enviado(?: el)?|Date|Fecha|To|Para|Cc|CC|Subject|Asunto)[ \t]*\**[ \t]*:",
    re.IGNORECASE)
FIELD_KEYS = {"from": "from", "de": "from", "sent": "date", "enviado": "date", "enviado el": "date",
              "date": "date", "fecha": "date", "to": "to", "para": "to", "subject": "subject",
              "asunto": "subject", "cc": "cc"}


def header_block_at(lines: list[str], i: int) -> bool:
    m = HEADER_FIELD_RE.match(lines[i])
    if not m or FIELD_KEYS.get(m.group(1).lower()) != "from":
        return False
    keys = {FIELD_KEYS.get(hm.group(1).lower()) for line in lines[i + 1: i + 7]
            if (hm := HEADER_FIELD_RE.match(line))}
    return "date" in keys and bool(keys & {"to", "subject"})
