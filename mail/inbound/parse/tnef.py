"""Outlook rich text: winmail.dat (MS-OXTNEF) and the RTF bodies inside it.

tnefparse opens the container (its ``rtfbody`` decompresses MS-OXRTFCP with compressed-rtf);
RTFDE recovers the HTML that Outlook encapsulates in RTF (``\\fromhtml``, MS-OXRTFEX), and
striprtf reads plain RTF.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass, field

from RTFDE.deencapsulate import DeEncapsulator
from striprtf.striprtf import rtf_to_text as striprtf_text
from tnefparse import TNEF

from mail.inbound.parse.charsets import decode_bytes
from mail.inbound.parse.html import html_to_text

__all__ = ["TnefContent", "read_tnef", "rtf_to_text"]

log = logging.getLogger(__name__)
# RTFDE logs each RTF oddity it works around at WARNING; those are not our warnings.
logging.getLogger("RTFDE").setLevel(logging.ERROR)


@dataclass
class TnefContent:
    """What a winmail.dat holds: its body (text, and HTML when Outlook had one) and its files
    as (filename as written, content type guessed from it, bytes)."""

    text: str = ""
    html: str | None = None
    files: list[tuple[str, str, bytes]] = field(default_factory=list)


def _as_text(value: bytes | str, charset: str = "cp1252") -> str:
    return value if isinstance(value, str) else decode_bytes(bytes(value).rstrip(b"\x00"), charset)


def rtf_to_text(rtf: bytes | str) -> tuple[str, str | None]:
    """(plain text, HTML or None) of an RTF document; the HTML when it encapsulates one (MS-OXRTFEX).

    Never raises: RTF a library cannot read yields ("", None).
    """
    data = rtf.encode("latin-1", "replace") if isinstance(rtf, str) else bytes(rtf)
    if b"\\fromhtml" in data[:4000]:
        try:
            rtf_obj = DeEncapsulator(data)
            rtf_obj.deencapsulate()
            if rtf_obj.content_type == "html" and rtf_obj.html:
                html = _as_text(rtf_obj.html, "utf-8")
                return html_to_text(html), html
        except Exception:  # noqa: BLE001 - fall back to reading it as plain RTF
            pass
    try:
        text = striprtf_text(data.decode("latin-1"), errors="ignore")
    except Exception:  # noqa: BLE001
        return "", None
    return text.replace("\r\n", "\n").replace("\x00", "").strip(), None


def read_tnef(data: bytes) -> TnefContent | None:
    """Open a winmail.dat; None when it is not one (it is then kept as an ordinary file).

    A damaged attachment inside is skipped; a damaged body leaves the text empty.
    """
    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception:  # noqa: BLE001 - not TNEF, or truncated
        return None
    content = TnefContent()
    for att in tnef.attachments:
        try:
            name = _as_text(att.long_filename() or att.name).strip("\x00")
            payload = att.data if isinstance(att.data, bytes) else bytes(att.data or b"")
        except Exception:  # noqa: BLE001, S112 - a broken attachment is skipped
            continue
        content.files.append((name, mimetypes.guess_type(name)[0] or "application/octet-stream", payload))
    try:
        if tnef.body:
            content.text = _as_text(tnef.body).replace("\r\n", "\n").strip()
        elif tnef.htmlbody:
            content.html = _as_text(tnef.htmlbody, "utf-8")
            content.text = html_to_text(content.html)
        elif tnef.has_body():
            content.text, content.html = rtf_to_text(tnef.rtfbody)
    except Exception:  # noqa: BLE001 - a broken body: the files are still worth keeping
        log.info("unreadable TNEF body", exc_info=True)
    return content
