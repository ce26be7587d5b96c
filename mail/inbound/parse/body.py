"""Which body a message's text is: the text/plain alternative, unless the HTML one says clearly more."""

from __future__ import annotations

from mail.inbound.parse.html import html_to_text, html_tree, most_words, tree_to_text
from mail.inbound.quotes import extract_new_text

__all__ = ["choose_text"]


def _says_clearly_more(longer: str, shorter: str) -> bool:
    """More than twice the words of ``shorter``, plus five (a greeting and a signature only)."""
    return len(longer.split()) > 2 * len(shorter.split()) + 5


def _clean(text: str) -> str:
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip("\n")


def choose_text(plain: str | None, html: str | None, tnef_texts: list[str]) -> tuple[str, str]:
    """(text, new text) of a message: its whole body as read, and what the sender wrote (quoted
    history, signature and phone footer cut by `mail.inbound.quotes.extract_new_text`). No NULs,
    \\n line endings, blank lines at either end stripped.

    Each is the text/plain alternative's (DESIGN.md: text part first), unless the HTML alternative
    says clearly more — compared on the whole body for the text and on the new text for the new
    text, because the HTML often carries history the plain part omits, and some clients send a
    plain part with little of what the HTML shows. Without a plain body, the HTML as text; without
    either, the text of a winmail.dat (TNEF).
    """
    if plain is not None and plain.strip():
        text, new_text = _clean(plain), extract_new_text(plain)
        tree = html_tree(html) if html else None
        # the HTML can say clearly more than the plain part's new text (no more than its text) only
        # when its words can: else it need not be laid out
        if tree is not None and most_words(tree) > 2 * len(new_text.split()) + 5:
            html_text = _clean(tree_to_text(tree))
            if _says_clearly_more(html_text, text):
                text = html_text
            html_new_text = extract_new_text(html_text)
            if _says_clearly_more(html_new_text, new_text):
                new_text = html_new_text
        return text, new_text
    if html and html.strip():
        text = _clean(html_to_text(html))
    elif tnef_texts:
        text = _clean("\n\n".join(t for t in tnef_texts if t))
    else:
        text = _clean(plain or "")
    return text, extract_new_text(text)
