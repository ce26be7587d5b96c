"""HTML bodies: their readable text (inscriptis), a cheap upper bound of its words, and the inline
parts they reference by ``cid:``."""

from __future__ import annotations

import re
import urllib.parse

from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_engine import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml.etree import ParserError
from lxml.html import HtmlElement, document_fromstring

__all__ = ["html_to_text", "html_tree", "looks_like_html", "most_words", "referenced_content_ids", "tree_to_text"]

#: inscriptis' "strict" profile: the default "relaxed" one indents every nested <div>.
_CONFIG = ParserConfig(css=CSS_PROFILES["strict"])
_LOOKS_HTML_RE = re.compile(r"<\s*(html|body|div|p|br|table|span|font|head)\b", re.IGNORECASE)
#: ``cid:`` URLs (RFC 2392) in attribute values or CSS: src="cid:foto1@x", url(cid:logo).
_CID_RE = re.compile(r"""\bcid:([^"'\s<>()]+)""", re.IGNORECASE)


def html_tree(html: str) -> HtmlElement | None:
    """The lxml tree of an HTML document or fragment, as inscriptis reads it; None when lxml finds
    nothing in it (an empty body, only a comment)."""
    if not html or not html.strip():
        return None
    try:
        return document_fromstring(html)
    except (ParserError, ValueError):
        try:
            return document_fromstring("<pre>" + html + "</pre>")
        except (ParserError, ValueError):
            return None


def tree_to_text(tree: HtmlElement | None) -> str:
    """Readable plain text of a tree (`html_tree`): lines right-stripped, at most one blank line in a
    row. Never raises."""
    if tree is None:
        return ""
    try:
        text = Inscriptis(tree, _CONFIG).get_text()
    except Exception:  # noqa: BLE001 - a tree inscriptis cannot lay out: its bare text
        text = " ".join(tree.itertext())
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML document or fragment. Never raises."""
    return tree_to_text(html_tree(html))


def most_words(tree: HtmlElement | None) -> int:
    """At least as many words as `tree_to_text` gives, without laying the tree out: the words of
    every text node apart (style sheets and the head included), plus one per list item for its
    bullet or number. A measured shortcut (bench/README.md, "Inbound"): laying out costs ≈ 1.3 ms a
    message, this ≈ 0.05 ms; tests/test_parse_body.py checks the bound on every HTML part of the
    data sets and on odd markup."""
    if tree is None:
        return 0
    return sum(len(piece.split()) for piece in tree.itertext()) + sum(1 for _ in tree.iter("li"))


def looks_like_html(text: str) -> bool:
    """Does a body of unknown type start like HTML (a fragment counts)?"""
    return bool(_LOOKS_HTML_RE.search(text[:5000]))


def referenced_content_ids(html: str | None) -> set[str]:
    """The Content-IDs (without <>, as written, percent-decoded) an HTML body shows by ``cid:``."""
    if not html or "cid:" not in html.lower():
        return set()
    return {urllib.parse.unquote(m).strip("<>") for m in _CID_RE.findall(html)}
