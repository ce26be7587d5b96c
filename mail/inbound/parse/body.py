"""Which body a message's text is: the text/plain alternative, unless the HTML one says clearly more."""

from __future__ import annotations

from mail.inbound.parse.html import html_to_text
from mail.inbound.quotes import extract_new_text

__all__ = ["choose_text"]


def _says_clearly_more(longer: str, shorter: str) -> bool:
    """More than twice the words of ``shorter``, plus five (a greeting and a signature only)."""
    return len(longer.split()) > 2 * len(shorter.split()) + 5


def choose_text(plain: str | None, html: str | None, tnef_texts: list[str]) -> str:
    """The message's text, without NULs, \\n line endings, blank lines at either end stripped.

    The text/plain alternative (DESIGN.md: text part first), unless what the sender wrote in the
    HTML alternative (its new text, quoted history cut) says clearly more than in the plain one:
    some clients send a plain part with little of what the HTML shows.
    Without a plain body, the HTML as text; without either, the text of a winmail.dat (TNEF).
    """
    if plain is not None and plain.strip():
        text = plain
        if html and html.strip():
            html_text = html_to_text(html)
            # compared on what the sender wrote: the HTML often carries history the plain part omits
            if _says_clearly_more(extract_new_text(html_text), extract_new_text(plain)):
                text = html_text
    elif html and html.strip():
        text = html_to_text(html)
    elif tnef_texts:
        text = "\n\n".join(t for t in tnef_texts if t)
    else:
        text = plain or ""
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip("\n")
