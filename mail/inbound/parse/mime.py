"""The MIME walk: one pass over a message's parts collecting its bodies, files, forwarded
messages and delivery-report parts (RFC 2045, 2046, 2183, 3462/6522 reports, 3464 DSNs).

Payloads are decoded directly (never ``get_content()``, which raises on unknown charsets and broken
multiparts); a multipart whose boundary is missing is re-split on the boundary its body really
uses. Security parts (S/MIME and PGP signatures, RFC 8551 and RFC 3156) are not files: the raw
message keeps them.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message

from mail.inbound.parse.charsets import decode_bytes, unsurrogate
from mail.inbound.parse.headers import collapse, raw_value
from mail.inbound.parse.html import html_to_text, looks_like_html
from mail.inbound.parse.model import Attachment, ForwardedMessage, ParsedMessage
from mail.inbound.parse.params import (
    charset,
    content_type,
    description,
    disposition,
    param,
    part_filename,
    sanitize_filename,
)
from mail.inbound.parse.tnef import read_tnef

__all__ = ["Body", "MimeWalker", "message_bytes", "payload_bytes"]

#: Deepest part nesting read; deeper parts are ignored (a defect is noted).
MAX_PART_DEPTH = 50
#: Signature parts: proof of who sent the mail, not something the customer attached.
SIGNATURE_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
_HEADER_LINE_RE = re.compile(rb"^[!-9;-~]+[ \t]*:")
_BOUNDARY_LINE_RE = re.compile(rb"^--(\S[^\r\n]{0,199}?)[ \t]*\r?$", re.MULTILINE)


@dataclass
class Body:
    """The text/plain and text/html bodies found under one part (None when it has none)."""

    plain: str | None = None
    html: str | None = None


def payload_bytes(part: Message) -> bytes:
    """The decoded (base64, quoted-printable, uuencode) payload of a leaf part (RFC 2045 section 6);
    the raw payload when it cannot be decoded. Never raises."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("ascii" if payload.isascii() else "utf-8", "surrogateescape")
    return b""


def message_bytes(msg: Message) -> bytes:
    """Serialise a nested message; policy.default can raise on odd headers, so compat32 follows."""
    for policy in (None, email.policy.compat32):
        try:
            return msg.as_bytes(policy=policy) if policy else msg.as_bytes()
        except Exception:  # noqa: BLE001, S112 - try the next, more lenient serialisation
            continue
    try:
        return msg.as_string(policy=email.policy.compat32).encode("utf-8", "surrogateescape")
    except Exception:  # noqa: BLE001
        return b""


def clean_text(text: str) -> str:
    """Text with NULs removed and line endings as \\n."""
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


def _resplit_multipart(part: Message, ctype: str) -> Message | None:
    """A broken multipart re-parsed with the boundary its body really uses (a "--xxx" line followed
    by a header line, RFC 2046 section 5.1.1), or None."""
    payload = part.get_payload()
    if not isinstance(payload, str) or len(payload) > 20_000_000:
        return None
    data = payload.encode("ascii" if payload.isascii() else "utf-8", "surrogateescape")
    for m in _BOUNDARY_LINE_RE.finditer(data):
        boundary = m.group(1)
        if boundary.endswith(b"--") or b'"' in boundary:
            continue
        if not _HEADER_LINE_RE.match(data[m.end(): m.end() + 200].lstrip(b"\r\n")):
            continue
        synthetic = b"Content-Type: " + ctype.encode() + b'; boundary="' + boundary + b'"\n\n' + data
        try:
            rebuilt = email.message_from_bytes(synthetic, policy=email.policy.compat32)
        except Exception:  # noqa: BLE001
            return None
        children = rebuilt.get_payload()
        return rebuilt if rebuilt.is_multipart() and isinstance(children, list) and children else None
    return None


class MimeWalker:
    """Walks one message's MIME tree once, collecting into its attributes.

    ``parse_nested`` parses an attached message (forwarded mail, a bounce's returned message);
    ``hint`` is a charset the message uses elsewhere, tried for parts that declare none.
    """

    def __init__(self, parse_nested: Callable[[bytes], ParsedMessage | None], hint: str | None = None):
        self.parse_nested = parse_nested
        self.hint = hint
        self.attachments: list[Attachment] = []
        self.forwarded: list[ForwardedMessage] = []
        self.defects: dict[str, None] = {}
        self.is_delivery_report = False
        self.report_original: ParsedMessage | None = None
        self.tnef_texts: list[str] = []
        self.tnef_html: list[str] = []
        self._in_report = False

    def note_defects(self, part: Message) -> None:
        """Record the stdlib parser's defects of a part by class name."""
        for defect in getattr(part, "defects", ()) or ():
            self.defects.setdefault(type(defect).__name__, None)

    def text_of(self, part: Message) -> str:
        """The decoded text of a leaf part (declared charset, else the fallback)."""
        return clean_text(decode_bytes(payload_bytes(part), charset(part), self.hint))

    def walk(self, part: Message, level: int = 0, parent: str = "") -> Body:
        """Collect what ``part`` holds; returns its bodies."""
        self.note_defects(part)
        ctype = content_type(part)
        maintype = ctype.split("/", 1)[0]
        if level > MAX_PART_DEPTH:
            self.defects.setdefault("TooDeeplyNested", None)
            return Body()
        if maintype == "multipart":
            if part.is_multipart():
                return self.multipart(part, ctype, level)
            rebuilt = _resplit_multipart(part, ctype)  # e.g. an unquoted boundary containing "="
            if rebuilt is not None:
                self.defects.setdefault("BoundaryRecovered", None)
                return self.multipart(rebuilt, ctype, level)
            text = self.text_of(part)
            return Body(html=text) if looks_like_html(text) else Body(plain=text)
        filename = part_filename(part)
        if ctype in SIGNATURE_TYPES or (filename or "").lower() in ("smime.p7s", "signature.asc"):
            return Body()
        if ctype == "message/delivery-status":
            self.is_delivery_report = True
            return self.keep_file(part, ctype, filename or (description(part) or "delivery-status") + ".txt", raw=True)
        if ctype in ("message/rfc822", "message/global"):
            return self.attached_message(part, filename)
        if maintype == "message":
            return self.keep_file(part, ctype, filename or (description(part) or ctype.split("/")[1]) + ".txt",
                                  raw=True)
        if ctype == "text/rfc822-headers":
            if self._in_report and self.report_original is None:
                self.report_original = self.parse_nested(payload_bytes(part).rstrip(b"\r\n") + b"\n\n")
            return self.keep_file(part, ctype, filename or "headers.txt")
        if (ctype in TNEF_TYPES or (filename or "").lower() == "winmail.dat") and self.tnef(part):
            return Body()
        # A text part is the body unless it is marked as an attachment, or it is a named part inside
        # a multipart other than alternative (RFC 2183: a filename suggests a file).
        disp = disposition(part)
        if ctype in ("text/plain", "text/html") and disp != "attachment" and (
                not filename or level == 0 or parent == "multipart/alternative"
                or (disp is None and ctype == "text/html")):
            text = self.text_of(part)
            return Body(html=text) if ctype == "text/html" else Body(plain=text)
        return self.keep_file(part, ctype, filename)

    def multipart(self, part: Message, ctype: str, level: int) -> Body:
        """The bodies of a multipart: alternatives pick one each; other kinds join theirs."""
        children = part.get_payload()
        if not isinstance(children, list):
            return Body()
        if ctype == "multipart/report":
            if (param(raw_value(part, "content-type"), "report-type") or "").lower() == "delivery-status":
                self.is_delivery_report = True
            self._in_report = True
        bodies = [self.walk(child, level + 1, ctype) for child in children]
        if ctype == "multipart/alternative":
            plain = next((b.plain for b in bodies if b.plain and b.plain.strip()), None)
            if plain is None:
                plain = next((b.plain for b in bodies if b.plain is not None), None)
            html = next((b.html for b in reversed(bodies) if b.html and b.html.strip()), None)
            return Body(plain=plain, html=html)
        if ctype == "multipart/signed":
            bodies = bodies[:1]  # RFC 1847: the first part is the content, the second the signature
        bodies = [b for b in bodies if b.plain is not None or b.html is not None]
        if len(bodies) <= 1:
            return bodies[0] if bodies else Body()
        htmls = [b.html for b in bodies if b.html]
        if not any(b.plain is not None for b in bodies):
            return Body(html="\n".join(htmls))
        texts = [b.plain if b.plain is not None else html_to_text(b.html or "") for b in bodies]
        return Body(plain="\n\n".join(t.strip("\n") for t in texts if t.strip()), html="\n".join(htmls) or None)

    def attached_message(self, part: Message, filename: str | None) -> Body:
        """A message/rfc822 part: kept as an .eml file named after its subject, and read as a
        forwarded message (or as the returned message of a delivery report)."""
        payload = part.get_payload()
        data = message_bytes(payload[0]) if isinstance(payload, list) and payload else payload_bytes(part)
        nested = self.parse_nested(data)
        if nested is not None and nested.subject:
            name = nested.subject + ".eml"
        elif filename:
            name = filename if filename.lower().endswith(".eml") else filename + ".eml"
        else:
            name = (description(part) or "mensaje") + ".eml"
        self.attachments.append(Attachment(sanitize_filename(name, "message/rfc822"), "message/rfc822", data))
        if nested is not None:
            if self._in_report and self.report_original is None:
                self.report_original = nested
            self.forwarded.append(ForwardedMessage(from_addr=nested.from_addr, from_name=nested.from_name,
                                                   subject=nested.subject, date=nested.date, text=nested.text,
                                                   attached=True))
        return Body()

    def tnef(self, part: Message) -> bool:
        """Open a winmail.dat: its files become attachments, its body a text candidate. False when
        it cannot be opened (it is then kept as an ordinary file)."""
        content = read_tnef(payload_bytes(part))
        if content is None:
            self.defects.setdefault("InvalidTNEF", None)
            return False
        for name, ctype, data in content.files:
            self.attachments.append(Attachment(sanitize_filename(name, ctype), ctype.lower(), data))
        if content.text:
            self.tnef_texts.append(content.text)
        if content.html:
            self.tnef_html.append(content.html)
        return True

    def keep_file(self, part: Message, ctype: str, filename: str | None, raw: bool = False) -> Body:
        """Keep a part as a file named ``filename`` (sanitised; None: a name from the type) — ``raw``:
        its serialised sub-parts, for message/* parts."""
        payload = part.get_payload()
        if (raw or part.is_multipart()) and isinstance(payload, list):
            data = b"\n".join(message_bytes(p) for p in payload if isinstance(p, Message))
        else:
            data = payload_bytes(part)
        content_id = raw_value(part, "content-id")
        content_id = collapse(unsurrogate(content_id)).strip("<>").strip() if content_id else None
        self.attachments.append(Attachment(sanitize_filename(filename, ctype), ctype, data,
                                           content_id=content_id or None))
        return Body()
