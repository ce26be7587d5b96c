"""The marks mail clients put on replies and forwards, defined once.

Subject prefixes, separator lines, quoted header blocks, attribution lines ("On … wrote:"), quoted
lines and phone footers, each named after the client that writes it. Used by mail.inbound.quotes
(the new text of a reply); meant for the parser's inline-forward split and the classification rules.

Every pattern works on one line, or on a few short lines joined, so none of them can run long on a
huge body; the line patterns (`*_RE` below "Lines") are compiled MULTILINE, so they also find a
line in a whole text with `.search(text)`. No database, no network.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_MARKER_CHARS",
    "REPLY_PREFIX_RE",
    "FORWARD_PREFIX_RE",
    "FORWARD_SEPARATOR_RE",
    "OUTLOOK_RULE_RE",
    "QUOTED_LINE_RE",
    "HEADER_FIELD_RE",
    "FIELD_KEYS",
    "PHONE_FOOTER_RE",
    "is_forward_separator",
    "header_block_end",
    "header_block_at",
    "attribution_at",
    "shared_attribution_start",
]

#: Longest line (in characters) that can be a separator, header field or attribution; longer lines
#: are text, which keeps every pattern cheap on pathological bodies.
MAX_MARKER_CHARS = 400

# ---------------------------------------------------------------------------------------------
# Subjects

#: Reply and forward prefixes, repeated, with an optional counter: "Re:", "RE[2]:", "RV:" (Outlook
#: es), "Fwd:"/"FW:", "TR:" (fr), "AW:"/"WG:" (de), "SV:"/"VS:" (nordic), "Antw:" (nl), "R:" (it).
REPLY_PREFIX_RE = re.compile(
    r"^\s*((re|rv|fw|fwd|tr|aw|wg|sv|vs|antw|r)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
#: A subject that starts with a forward prefix: "Fwd:"/"Fw:" (Gmail, Outlook en), "RV:" (Outlook
#: es), "TR:" (Outlook fr), "WG:" (Outlook de), "Reenviado:"/"Reenv:" (webmails es).
FORWARD_PREFIX_RE = re.compile(r"^\s*(fwd?|rv|tr|wg|reenviado|reenv)\s*:", re.IGNORECASE)

# ---------------------------------------------------------------------------------------------
# Lines

#: The noun "message" in the separator lines of Outlook, Gmail, Thunderbird, Yahoo and GMX, in
#: en es pt it fr de da no sv nl pl fi ru.
_MESSAGE_WORD = (
    r"(?:message|mensaje|mensagem|messaggio|nachricht|meddelelse|besked|melding|meddelande"
    r"|bericht|wiadomo\w*|viesti|сообщение)"
)
#: A whole line that starts a forwarded or original message, markup ("*…*", ">") allowed:
#: Gmail "---------- Forwarded message ---------" / "---------- Mensaje reenviado ---------",
#: Outlook "-----Original Message-----" / "-----Mensaje original-----" / "-----Reply Message-----",
#: Thunderbird "-------- Forwarded Message --------", Yahoo "----- Mensaje reenviado -----", GMX
#: "-------- Original-Nachricht --------" (any dash-framed title naming the message), and Apple
#: Mail "Begin forwarded message:" / "Inicio del mensaje reenviado:".
FORWARD_SEPARATOR_RE = re.compile(
    r"^[ \t>*_]*(?:"
    rf"-{{2,}}+[ \t]*(?=[^\n]{{0,60}}?\b{_MESSAGE_WORD}\b)[^\W\d_][^\n]{{0,60}}?[ \t]*-{{2,}}"
    r"|(?:Begin forwarded message|Inicio del mensaje reenviado|Comienzo del mensaje reenviado"
    r"|D[ée]but du message r[ée]exp[ée]di[ée]|Anfang der weitergeleiteten Nachricht"
    r"|Mensagem encaminhada|Inizio messaggio inoltrato)[ \t]*:"
    r")[ \t*_]*$",
    re.IGNORECASE | re.MULTILINE,
)
#: The rule Outlook (web, Hotmail/Outlook.com, mobile) draws above its quoted header block; mailing
#: lists (Mailman) draw it above their footer.
OUTLOOK_RULE_RE = re.compile(r"^[ \t]*_{10,}[ \t]*$", re.MULTILINE)
#: A quoted line: ">" (RFC 3676 section 4.5, every client), or Supercite's initials ("JD> text",
#: Emacs).
QUOTED_LINE_RE = re.compile(r"^[ \t]*(?:>|[A-Za-z]{1,3}>(?=[ \t]|$))", re.MULTILINE)


def is_forward_separator(line: str) -> bool:
    """True when `line` is a whole separator line (see FORWARD_SEPARATOR_RE)."""
    return len(line) <= MAX_MARKER_CHARS and FORWARD_SEPARATOR_RE.match(line) is not None


# ---------------------------------------------------------------------------------------------
# Quoted header blocks (Outlook desktop/web/mobile, Hotmail, Gmail forwards, Apple Mail forwards)

#: Lower-cased field name -> "from" | "date" | "to" | "cc" | "subject", as the clients write them.
FIELD_KEYS: dict[str, str] = {
    # Outlook, Gmail and Apple Mail in English
    "from": "from", "sent": "date", "date": "date", "to": "to", "cc": "cc", "subject": "subject",
    # Spanish: Outlook ("De:/Enviado:/Enviado el:/Para:/CC:/Asunto:"), Outlook for Mac ("Fecha:")
    "de": "from", "enviado": "date", "enviado el": "date", "fecha": "date", "para": "to",
    "asunto": "subject",
    # Portuguese Outlook
    "enviada em": "date", "enviado em": "date", "assunto": "subject",
    # French Outlook ("De :/Envoyé :/À :/Objet :") and webmails ("Message du :/Copie à :/Sujet :")
    "envoyé": "date", "envoyé le": "date", "message du": "date", "à": "to", "a": "to",
    "copie à": "cc", "objet": "subject", "sujet": "subject",
    # German Outlook
    "von": "from", "gesendet": "date", "datum": "date", "an": "to", "betreff": "subject",
    # Dutch Outlook
    "van": "from", "verzonden": "date", "aan": "to", "onderwerp": "subject",
    # Italian Outlook
    "da": "from", "inviato": "date", "data": "date", "oggetto": "subject",
    # Danish and Norwegian Outlook
    "fra": "from", "sendt": "date", "dato": "date", "til": "to", "emne": "subject",
    # Swedish Outlook
    "från": "from", "skickat": "date", "till": "to", "ämne": "subject",
    # Polish Outlook
    "od": "from", "wysłano": "date", "do": "to", "temat": "subject",
}
_FIELD_NAMES = "|".join(
    re.escape(name).replace(r"\ ", r"[ \t]+") for name in sorted(FIELD_KEYS, key=len, reverse=True)
)
#: One line of a quoted header block: "De: …", "*From:* …" (Outlook HTML turned into text),
#: "Enviado el: …", "De : …" (French spacing), "> Sent: …". Groups: `key`, `value`.
HEADER_FIELD_RE = re.compile(
    rf"^[ \t>*]*(?P<key>{_FIELD_NAMES})[ \t]*\**[ \t]*:[ \t]*\**[ \t]*(?P<value>.*)$",
    re.IGNORECASE | re.MULTILINE,
)
#: Any other field inside a block ("Importance: High", "Reply-To: …", "Risposta: …").
_OTHER_FIELD_RE = re.compile(r"^[ \t>*]*[^\W\d_][\w'’ .-]{0,24}[ \t]*\**[ \t]*:")


def _field(line: str) -> tuple[str, str] | None:
    """(kind, value) of a known header field line, or None."""
    m = HEADER_FIELD_RE.match(line) if len(line) <= MAX_MARKER_CHARS else None
    return (FIELD_KEYS[" ".join(m.group("key").lower().split())], m.group("value")) if m else None


_TIME_RE = re.compile(r"\d{1,2}:\d{2}")


def header_block_end(lines: list[str], i: int) -> int:
    """Index just after the quoted header block starting at lines[i], or `i` when there is none.

    A block is a run of header fields, each once (at most 10 lines; a value may fold over up to two
    lines, as Gmail's "Subject: Two\\nline subject") that starts with a known field and holds a From, a
    Date/Sent field and a To or Subject field, in any order: Outlook "From/Sent/To/Subject",
    Thunderbird forwards "Subject/Date/From/To", French webmails "Message du/De/A/Sujet". Two
    fields are enough when the date has a time and the other is an address (talon's
    "From: a@b.c / Date: Wed, 16 May 2012 00:15:02 -0600", "Date: … / To: a@b.c").
    """
    if _field(lines[i]) is None:
        return i
    fields: dict[str, str] = {}
    end = j = i
    folded = 0
    while j < len(lines) and j < i + 10:
        line = lines[j]
        field = _field(line)
        if field is not None or (j > i and len(line) <= MAX_MARKER_CHARS and _OTHER_FIELD_RE.match(line)):
            kind, value = field or ("other", "")
            if kind in fields and kind != "other":
                break  # a block names each field once
            fields[kind] = value
            end, folded = j + 1, 0
        elif line.strip() and folded < 2:
            folded += 1
            if lines[j - 1].rstrip().endswith(("<", ",", ";")):
                end = j + 1  # the address list goes on: "Cc: A <a@x>, B <" / "b@x>"
        else:
            break
        j += 1
    if {"from", "date"} <= fields.keys() and fields.keys() & {"to", "subject"}:
        return end
    if _TIME_RE.search(fields.get("date", "")) and "@" in fields.get("from", "") + fields.get("to", ""):
        return end
    return i


def header_block_at(lines: list[str], i: int) -> bool:
    """True when lines[i] starts a quoted header block (see `header_block_end`)."""
    return header_block_end(lines, i) > i


# ---------------------------------------------------------------------------------------------
# Attribution lines ("On … wrote:")

#: The verb that ends an attribution: en, es (Gmail, Apple Mail, Thunderbird, Yahoo "escribió"),
#: pt, fr, it, nl, nordic, pl, ru, uk, fi, vi; German and Dutch may put the name or the date after
#: it (Thunderbird "Am 07.05.2012 08:10, schrieb Martin:", Gmail "schrieb am Fr., 28. Apr. 2017 um
#: 11:53 Uhr:"); "sent" is Apple Mail's older "On 11-Apr-2011, at 6:54 PM, Roman <r@x> sent:".
_VERB = (
    r"(?:wrote|sent|escribi[óo]|escreveu|(?:schrieb|schreef)(?:\s.{1,80}?)?|a\s+[ée]crit"
    r"|ha\s+scritto|geschreven|skrev|napisa[łl](?:\(a\))?|написал(?:\(а\)|а)?|пише|kirjoitti|đã\s+viết)"
)
#: French puts a no-break space before the colon ("a écrit\xa0:"), hence \s.
_ENDS_WITH_VERB_RE = re.compile(rf"\b{_VERB}\s*:$", re.IGNORECASE)
#: Gmail before 2018 and Gmail in ru/no: "2017-11-24 16:32 GMT+01:00 Name <a@b.c>:",
#: "ср, 30 апр. 2025 г. в 15:19, John <a@b.c>:", Mail.ru "…, 3:32 PM +0300 from a@b.c <a@b.c>:".
_ENDS_WITH_ADDRESS_RE = re.compile(r"@[^\s@<>()]+\s*[>)\]]+\s*:$")
#: A sender written "Name <a@b.c>" or "Name (a@b.c)", as clients write it and people seldom do.
_NAMED_ADDRESS_RE = re.compile(r"<[^\s<>@]*@[^\s<>]+>|\([^\s()@]*@[^\s()]+\)")
#: Attributions without a colon: "On … wrote" (Gmail via some gateways), Android and Zoho
#: "---- On … wrote ----", "---- John Smith wrote ----", "------On 12/29/1987 … wrote-----".
_ON_WROTE_RE = re.compile(r"^On\s.{1,300}\bwrote$")
_DASHED_RE = re.compile(r"^-{2,}[ \t]*\S.{0,300}?\b(?:wrote|escribi[óo])[ \t]*-{2,}$", re.IGNORECASE)
#: Gmail before 2014 starts with the date and has no verb: "2013/7/20 sam via Discourse <a@b.c>",
#: "2016-03-03 17:21 GMT+01:00 Some One".
_DATE_FIRST_RE = re.compile(
    r"^(?:\d{4}[-/]\d{1,2}[-/]\d{1,2}\b[^<>]{1,200}<[^<>\s]+@[^<>\s]+>"
    r"|\d{4}-\d{2}-\d{2}[ \t]+\d{1,2}:\d{2}[ \t]+GMT[+-]\d{1,2}:?\d{2}\b.{0,200})$"
)
#: A time, a numeric date or a year: what separates "El 3/11/25 10:15, Rosa escribió:" from a
#: sentence that ends in "escribió:".
_WHEN_RE = re.compile(r"\d{1,2}[:.]\d{2}\b|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\b(?:19|20)\d{2}\b")
#: Words an attribution opens with: On (en), El (es), Le (fr), Am (de), Op (nl), Em (pt), Il / In
#: data (it), W dniu / Dnia (pl), Den / På (nordic), Vào (vi), At (Eudora).
_OPENING_WORD = r"(?:On|El|Le|Am|Op|Em|Il|In data|W dniu|Dnia|Den|På|Vào|At)\s"
#: How an attribution opens: one of those words and the date within two words ("On Tue, Apr 11,
#: 2017", "El martes, 3 de", "Le 2016-11-16"; so "Le pregunté a Juan" is not one), a date first,
#: or a weekday and a day ("ср, 30 апр.", "pe 20. lokakuuta", "Wednesday, 17 November 2021").
_OPENER_RE = re.compile(
    rf"^(?:{_OPENING_WORD}\s*(?:[^\W\d_]+[.,]?\s+){{0,2}}\d|\d|[^\W\d_]{{1,4}}[.,]?\s+\d|[^\W\d_]{{5,12}},\s+\d)"
)
_WORD_OPENER_RE = re.compile(rf"^{_OPENING_WORD}")


def _is_attribution(text: str) -> bool:
    """True when `text` (one line, or a wrapped attribution joined with spaces) is a whole
    attribution: ends with a verb and a colon and names the sender's address ("Rosa <r@x.pe>
    escribió:"), or opens like one and names a date or an address; ends with an address and a
    colon and names a date; or is one of the colon-less forms."""
    if _ENDS_WITH_VERB_RE.search(text):
        if _NAMED_ADDRESS_RE.search(text):
            return True
        return _OPENER_RE.match(text) is not None and ("@" in text or _WHEN_RE.search(text) is not None)
    if _ENDS_WITH_ADDRESS_RE.search(text):
        return _WHEN_RE.search(text) is not None
    if _ON_WROTE_RE.match(text):
        return _WHEN_RE.search(text) is not None
    return bool(_DASHED_RE.match(text) or _DATE_FIRST_RE.match(text))


def attribution_at(lines: list[str], i: int) -> int | None:
    """Number of lines of the attribution starting at lines[i], or None.

    One line, or up to five when the client wrapped it: Gmail "On Mon, … Rosa <\\nrosa@x.pe>
    wrote:", Gmail es "El lun, … Rosa (<\\nrosa@x.pe>) escribió:", Polymail "On … John Smith",
    a blank line, "<", "mailto:John Smith <j@x>", "> wrote:". A wrapped attribution opens like one
    (see _OPENER_RE), names the sender "Name <a@b.c>" or ends in "<" on its first line, and no
    later line opens a new one, so the sender's own line above an attribution is not taken in.
    """
    first = lines[i].strip()
    if not first or len(first) > MAX_MARKER_CHARS:
        return None
    if _is_attribution(first):
        return 1
    named = _NAMED_ADDRESS_RE.search(first) is not None
    if not (_OPENER_RE.match(first) or named or first.endswith("<")):
        return None
    if first.endswith((".", "!", "?")) and not named:
        return None  # a finished sentence of the sender's, not a wrapped attribution
    parts, j = [first], i + 1
    while j < len(lines) and j < i + 5:
        line = lines[j].strip()
        if not line and j + 1 < len(lines) and lines[j + 1].strip().startswith("<"):
            j += 1  # Polymail puts the address on lines of its own, after a blank line
            continue
        if not line or len(line) > 120 or _WORD_OPENER_RE.match(line):
            return None
        parts.append(line)
        j += 1
        if line.endswith((":", "wrote", "-")) and _is_attribution(" ".join(parts)):
            return j - i
    return None


#: Gmail's text when the line breaks were lost: "reply On Wed, Apr 4, 2012 at 3:59 PM, bob@x.com
#: wrote:" or "reply--- On … wrote:".
_SHARED_RE = re.compile(r"(?<=\S)[ \t-]+((?:On|El)\s.{5,300}\b(?:wrote|escribi[óo]):)[ \t]*$")


def shared_attribution_start(line: str) -> int | None:
    """Where an attribution starts after the sender's own words on the same line, or None."""
    if len(line) > MAX_MARKER_CHARS or _OPENER_RE.match(line.strip()):
        return None
    if not line.rstrip().endswith(("wrote:", "escribió:", "escribio:")):
        return None
    m = _SHARED_RE.search(line)
    if m is None or not _is_attribution(m.group(1)):
        return None
    return m.start()


# ---------------------------------------------------------------------------------------------
# Footers

#: The verb, preposition and possessive of "Sent from my …" in en es fr da/no sv de nl it pl.
_SENT = r"(?:sent|enviado|enviada|envoy[ée]|sendt|skickat|gesendet|verzonden|inviato|wys[łl]ane)"
_FROM = r"(?:from|desde|depuis|de|[àa][ \t]+partir[ \t]+de|fra|fr[åa]n|von|met|via|with|con|da|z)"
_MY = r"(?:my|mi|mon|ma|min|mitt|mein|meinem|mijn|il[ \t]+mio|mio|meu|minha|m[oó]j)"
#: Without a possessive the footer names the app or device ("Sent from Windows Mail", "Enviado
#: desde Outlook para Android", "Sent with Airmail", "Verzonden met BlackBerry Work") or links to
#: it ("Sent from TypeApp<http://www.typeapp.com/…>").
_APP = (
    r"(?:outlook|yahoo|gmail|aol|mail|mailbox|windows|airmail|spark|bluemail|blackberry|samsung"
    r"|huawei|xiaomi|android|iphone|ipad|mobile|m[oó]vil|celular)"
)
#: A phone or app footer, a short line of its own that names a device or app: iOS "Enviado desde mi
#: iPhone" / "Sent from my iPhone" / "Envoyé depuis mon iPad" / "Sendt fra min iPad", Android "Sent
#: from my Galaxy", Yahoo "Enviado desde Yahoo Mail para Android", Outlook mobile "Obtener Outlook
#: para Android" / "Get Outlook for iOS<https://aka.ms/…>" / "Envoyé à partir de Outlook pour iOS".
#: The device may be followed by a link and "please excuse typos", not by a sentence: "Sent from my
#: desk, is much easier then my mobile phone." is text.
PHONE_FOOTER_RE = re.compile(
    r"^[ \t(<]*(?:"
    rf"{_SENT}[ \t]+{_FROM}(?:[ \t]+{_MY}|(?=[ \t]+{_APP}\b)|(?=[ \t]+\S+[ \t]*<?https?://))"
    r"|(?:get|obtener|obtenga|descargar|descargue|obtenir)[ \t]+outlook[ \t]+(?:for|para|pour)"
    r")(?:[ \t]+[\w.&+'’-]+){1,5}"
    r"(?:[ \t]*<?https?://\S+)?"
    r"(?:[ \t]*[.,;-]?[ \t]*(?:please[ \t]+)?(?:excuse|pardon|disculp|perd[oó]n|sorry)[^\n]{0,60})?"
    r"[ \t)>]*$",
    re.IGNORECASE | re.MULTILINE,
)
