"""Keep only the new text of a reply: what the sender wrote, without the quoted history, the
attribution and header lines above it, the signature, phone footers and mailing-list footers.

The markers (which client writes what) live in mail.inbound.markers; this module is the algorithm.
It walks the lines once (DESIGN, Inbound mail, step 6):
- ">" lines are history and are dropped wherever they are, so answers written between quoted
  paragraphs or below them stay, in order;
- a marker (an attribution, a separator, a header block, a phone footer) followed by ">" lines is
  dropped with them and the walk goes on;
- a marker followed by unquoted text (Outlook's header block over the original message, Yahoo's
  unquoted history) ends the new text: everything after it is history. When the sender has
  written nothing yet, only the marker is dropped: the text below is all there is.
When unsure, keep: when stripping would leave nothing, the original text is returned (stripped).
"""

from __future__ import annotations

import re

from mail.inbound.markers import (
    MAX_MARKER_CHARS,
    OUTLOOK_RULE_RE,
    PHONE_FOOTER_RE,
    QUOTED_LINE_RE,
    attribution_at,
    header_block_end,
    is_forward_separator,
    shared_attribution_start,
)

__all__ = ["extract_new_text"]

#: RFC 3676 section 4.3 signature delimiter ("-- "); "--" alone too (the trailing space gets lost).
_SIGNATURE_RE = re.compile(r"^--[ \t]?$")
#: At most this many non-blank lines below a rule of underscores make a footer (Mailman's list
#: footer is three: list name, address, URL).
_FOOTER_MAX_LINES = 6
#: A line of decoration only, left at the end after a cut ("====", "-----").
_DECORATION_RE = re.compile(r"^[ \t]*[-_=*~]+[ \t]*$")


def _marker_at(lines: list[str], i: int) -> int:
    """Number of lines of the marker starting at lines[i] (0 when none): a separator line, an
    Outlook rule over a header block, a header block, an attribution or a phone footer."""
    line = lines[i]
    if not line.strip() or len(line) > MAX_MARKER_CHARS:
        return 0
    if is_forward_separator(line) or PHONE_FOOTER_RE.match(line):
        return 1
    if OUTLOOK_RULE_RE.match(line):
        nxt = _next_nonblank(lines, i + 1)
        return nxt - i if nxt is not None and header_block_end(lines, nxt) > nxt else 0
    end = header_block_end(lines, i)
    if end > i:
        return end - i
    return attribution_at(lines, i) or 0


def _next_nonblank(lines: list[str], i: int) -> int | None:
    while i < len(lines):
        if lines[i].strip():
            return i
        i += 1
    return None


def _is_quoted(lines: list[str], i: int) -> bool:
    """A ">" line, or an unquoted line squeezed between two quoted lines that belongs to the quote:
    the line above stops mid-sentence (a long line without a final stop) or inside a bracket (a
    link cut by the wrap), or the line ends with the ">" of the next one (Outlook re-wrapping)."""
    if QUOTED_LINE_RE.match(lines[i]):
        return True
    if not (0 < i < len(lines) - 1 and lines[i].strip()):
        return False
    above, line = lines[i - 1].rstrip(), lines[i].rstrip()
    if not (QUOTED_LINE_RE.match(above) and QUOTED_LINE_RE.match(lines[i + 1])):
        return False
    quoted = above.lstrip(" \t>")
    unfinished = len(quoted) >= 48 and not quoted.endswith((".", "!", "?", ":"))
    open_bracket = quoted.count("(") > quoted.count(")") or quoted.count("<") > quoted.count(">")
    return unfinished or open_bracket or line.endswith(" >")


def _new_lines(lines: list[str]) -> list[str]:
    """The lines the sender wrote, in order (see the module docstring)."""
    out: list[str] = []
    wrote = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_quoted(lines, i):
            i += 1
            continue
        start = shared_attribution_start(line)
        nxt = _next_nonblank(lines, i + 1) if start is not None else None
        if nxt is not None and _is_quoted(lines, nxt):
            line = line[:start]  # "reply On … wrote:" over a quote: keep "reply"
        elif span := _marker_at(lines, i):
            nxt = _next_nonblank(lines, i + span)
            if nxt is None or (wrote and not (_is_quoted(lines, nxt) or _marker_at(lines, nxt))):
                break  # nothing below, or unquoted history below the sender's last line
            i += span
            continue
        out.append(line)
        wrote = wrote or bool(line.strip())
        i += 1
    return out


def _strip_signature(lines: list[str]) -> list[str]:
    """Cut at the signature delimiter when there is exactly one (as Zulip's filter_footer does)."""
    marks = [i for i, line in enumerate(lines) if _SIGNATURE_RE.match(line)]
    if len(marks) == 1 and marks[0] > 0:
        return lines[: marks[0]]
    return lines


def _strip_list_footer(lines: list[str]) -> list[str]:
    """Cut a footer under a rule of underscores at the end (Mailman's "____ / riak-users mailing
    list / address / URL", a signature under a rule) when the sender wrote something above it."""
    rules = [i for i, line in enumerate(lines) if OUTLOOK_RULE_RE.match(line)]
    if not rules:
        return lines
    last = rules[-1]
    below = [line for line in lines[last + 1 :] if line.strip()]
    above = any(line.strip() for line in lines[:last])
    if above and 0 < len(below) <= _FOOTER_MAX_LINES:
        return lines[:last]
    return lines


def _tidy(lines: list[str]) -> str:
    lines = [line.rstrip() for line in lines]
    while lines and (not lines[-1] or _DECORATION_RE.match(lines[-1])):
        lines.pop()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def extract_new_text(text: str, *, html: str | None = None) -> str:
    """Return only the new text of a reply, without quoted history, signature or footers.

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
    lines = _new_lines(text.split("\n"))
    lines = _strip_signature(lines)
    lines = _strip_list_footer(lines)
    return _tidy(lines) or original
