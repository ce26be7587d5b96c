"""HTML bodies: their readable text (inscriptis) and the inline parts they reference by ``cid:``."""

from __future__ import annotations

import re
import urllib.parse

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

__all__ = ["html_to_text", "looks_like_html", "referenced_content_ids"]

#: inscriptis' "strict" profile: the default "relaxed" one indents every nested <div>.
_CONFIG = ParserConfig(css=CSS_PROFILES["strict"])
_LOOKS_HTML_RE = re.compile(r"<\s*(html|body|div|p|br|table|span|font|head)\b", re.IGNORECASE)
#: ``cid:`` URLs (RFC 2392) in attribute values or CSS: src="cid:foto1@x", url(cid:logo).
_CID_RE = re.compile(r"""\bcid:([^"'\s<>()]+)""", re.IGNORECASE)


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML document or fragment; lines right-stripped, at most one blank
    line in a row. Never raises (markup inscriptis cannot read loses its tags by a plain regex)."""
    if not html or not html.strip():
        return ""
    try:
        text = get_text(html, _CONFIG)
    except Exception:  # noqa: BLE001 - lxml refuses some documents (e.g. only a comment)
        text = re.sub(r"<[^>]*>", " ", html)
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def looks_like_html(text: str) -> bool:
    """Does a body of unknown type start like HTML (a fragment counts)?"""
    return bool(_LOOKS_HTML_RE.search(text[:5000]))


def referenced_content_ids(html: str | None) -> set[str]:
    """The Content-IDs (without <>, as written, percent-decoded) an HTML body shows by ``cid:``."""
    if not html or "cid:" not in html.lower():
        return set()
    return {urllib.parse.unquote(m).strip("<>") for m in _CID_RE.findall(html)}
