"""Keep only the new text of a reply: strip quoted history, attribution lines, signatures and phone
footers written by Gmail, Outlook (desktop and web), Apple Mail and Thunderbird, in Spanish and English.

Detection works on lines. Our own patterns come first; the header patterns of the library
`mail-parser-reply` (languages "es" and "en") are added as extra cut points. Every rule is
conservative: when stripping would leave nothing, the original text is returned (stripped).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["extract_new_text"]

# "On Mon, Nov 3, 2025 at 10:15 AM Rosa <rosa@x.pe> wrote:" (Gmail/Apple/Thunderbird en), possibly
# wrapped over two or three lines; "El lun, 3 nov 2025 a las 10:15, Rosa (<rosa@x.pe>) escribió:"
# (Gmail es), "El 03/11/2025, a las 10:15, Rosa <...> escribió:" (Apple Mail es),
# "El 3/11/25 10:15, Rosa escribió:" (Thunderbird es). Also de/fr/pt/it for good measure.
_ATTRIBUTION_RE = re.compile(
    r"^[ \t]*(?:"
    r"On\b[^\n]{0,300}(?:\n[^\n]{1,300}){0,2}?\bwrote\s*:"
    r"|El\b[^\n]{0,300}(?:\n[^\n]{1,300}){0,2}?\bescribi[óo]\s*:"
    r"|Em\b[^\n]{0,300}(?:\n[^\n]{1,300}){0,2}?\bescreveu\s*:"
    r"|Am\b[^\n]{0,300}(?:\n[^\n]{1,300}){0,2}?\bschrieb[^\n:]{0,80}:"
    r"|Le\b[^\n]{0,300}(?:\n[^\n]{1,300}){0,2}?\b[ée]crit\s*:"
    r"|Il\b[^\n]{0,300}(?:\n[^\n]{1,300}){0,2}?\bscritto\s*:"
    r"|[^\n]{0,200}<[^\n>@]+@[^\n>]+>\s*(?:wrote|escribi[óo])\s*:"
    r")[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# Outlook separators and inline-forward markers.
_SEPARATOR_RE = re.compile(
    r"^[ \t]*(?:-{2,}\s*(?:Original Message|Mensaje original|Forwarded message|Mensaje reenviado"
    r"|Message d'origine|Urspr[üu]ngliche Nachricht|Weitergeleitete Nachricht)\s*-{2,}"
    r"|(?:Begin forwarded message|Inicio del mensaje reenviado|Comienzo del mensaje reenviado)\s*:)[ \t]*$",
    re.IGNORECASE,
)
_UNDERSCORES_RE = re.compile(r"^[ \t]*_{20,}[ \t]*$")
# One header line of an Outlook quoted block ("De: ...", "*From:* ...", "Enviado el: ...").
_HEADER_LINE_RE = re.compile(
    r"^[ \t>*]*(From|De|Sent|Enviado(?: el)?|Date|Fecha|To|Para|Cc|CC|Subject|Asunto|Importance|Importancia)"
    r"[ \t]*\**[ \t]*:",
    re.IGNORECASE,
)
_FROM_KEYS = {"from", "de"}
_SENT_KEYS = {"sent", "enviado", "enviado el", "date", "fecha"}
_OTHER_KEYS = {"to", "para", "subject", "asunto", "cc"}
# Phone and webmail footers: "Enviado desde mi iPhone", "Sent from my Galaxy", "Get Outlook for iOS".
_PHONE_FOOTER_RE = re.compile(
    r"^[ \t]*(?:(?:Enviado|Sent|Envoy[ée]|Gesendet)\s+(?:desde|from|de|von)\s+[^\n]{1,60}"
    r"|(?:Get|Obtener|Obtenga|Descargue|Descargar)\s+Outlook\s+(?:for|para)\s+[^\n]{1,40})[ \t]*$",
    re.IGNORECASE,
)
# RFC 3676 section 4.3 signature delimiter ("-- "); "--" alone is accepted too (trailing space lost).
_SIGNATURE_RE = re.compile(r"^--[ \t]?$")


@lru_cache(maxsize=1)
def _library_header_re() -> re.Pattern[str] | None:
    """The reply-header regex of mail-parser-reply for Spanish and English, or None if unavailable."""
    try:
        from mailparser_reply.parser import EmailMessage

        return EmailMessage(text="", languages=["es", "en"]).HEADER_REGEX
    except Exception:  # noqa: BLE001 - the library is an optional extra detector
        return None


def _outlook_block_at(lines: list[str], i: int) -> bool:
    """True when lines[i] starts an Outlook header block: From/De plus a Sent/Date line and a
    To/Subject line within the next five lines."""
    m = _HEADER_LINE_RE.match(lines[i])
    if not m or m.group(1).lower() not in _FROM_KEYS:
        return False
    keys = set()
    for line in lines[i + 1 : i + 7]:
        hm = _HEADER_LINE_RE.match(line)
        if hm:
            keys.add(hm.group(1).lower())
    return bool(keys & _SENT_KEYS) and bool(keys & _OTHER_KEYS)


def _first_quote_line(lines: list[str], text: str) -> int | None:
    """Index of the first line of quoted history, or None."""
    cuts: list[int] = []
    for i, line in enumerate(lines):
        if _SEPARATOR_RE.match(line):
            cuts.append(i)
            break
        if _UNDERSCORES_RE.match(line):
            following = [ln for ln in lines[i + 1 : i + 4] if ln.strip()]
            if following and _HEADER_LINE_RE.match(following[0]):
                cuts.append(i)
                break
        if _outlook_block_at(lines, i):
            cuts.append(i)
            break
    m = _ATTRIBUTION_RE.search(text)
    if m:
        cuts.append(text.count("\n", 0, m.start()))
    lib = _library_header_re()
    if lib is not None:
        stripped = "\n".join(line.strip() for line in lines)
        for lm in lib.finditer(stripped):
            start = lm.start()
            while start < len(stripped) and stripped[start] == "\n":
                start += 1
            cuts.append(stripped.count("\n", 0, start))
            break
    return min(cuts) if cuts else None


def _strip_quoted_lines(lines: list[str]) -> list[str]:
    """Drop lines quoted with ">" (RFC 3676 section 4.5)."""
    return [line for line in lines if not line.lstrip().startswith(">")]


def _strip_signature(lines: list[str]) -> list[str]:
    """Cut at the signature delimiter when there is exactly one (as Zulip's filter_footer does)."""
    marks = [i for i, line in enumerate(lines) if _SIGNATURE_RE.match(line)]
    if len(marks) == 1 and marks[0] > 0:
        return lines[: marks[0]]
    return lines


def _strip_phone_footer(lines: list[str]) -> list[str]:
    """Cut a phone/webmail footer when it is among the last three non-empty lines."""
    non_empty = [i for i, line in enumerate(lines) if line.strip()]
    for i in non_empty[-3:]:
        if _PHONE_FOOTER_RE.match(lines[i]):
            return lines[:i]
    return lines


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def extract_new_text(text: str, *, html: str | None = None) -> str:
    """Return only the new text of a reply, without quoted history, signature or phone footer.

    Parameters: text(str): the plain-text body (ParsedMessage.text). html(str | None): the HTML
    body, used only when `text` is empty (converted with inscriptis).
    Returns: str, stripped; the original text stripped when stripping would leave nothing.
    Never raises.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip() and html:
        from mail.inbound.parse import html_to_text

        text = html_to_text(html)
    original = text.strip()
    if not original:
        return ""
    lines = text.split("\n")
    cut = _first_quote_line(lines, text)
    if cut is not None:
        lines = lines[:cut]
    lines = _strip_quoted_lines(lines)
    lines = _strip_signature(lines)
    lines = _strip_phone_footer(lines)
    result = _tidy(lines)
    return result or original
