"""Safe file names for what we store and serve: mail attachments, panel uploads, related files.

One rule for every way a file comes in (the mail parser, the ticket view's comment form, the
Archivos relacionados page), so a name that is safe in one place is safe in all of them.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata

__all__ = ["MAX_FILENAME_CHARS", "sanitize_filename"]

#: Longest filename kept, in characters (the extension preserved).
MAX_FILENAME_CHARS = 200
#: Control and bidirectional-override characters, never kept in a filename.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WS_RE = re.compile(r"\s+")
_WINDOWS_DEVICE_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                         *(f"LPT{i}" for i in range(1, 10))}


def sanitize_filename(name: str | None, content_type: str = "application/octet-stream") -> str:
    """A safe file name: last path component only, no control, bidi or zero-width characters, no
    leading dots, no Windows device name, runs of whitespace as one space, composed (NFC), at most
    `MAX_FILENAME_CHARS` characters (the extension kept), never empty ("adjunto" plus an extension
    guessed from `content_type`).

    >>> sanitize_filename("../../etc/passwd")
    'passwd'
    """
    name = _CONTROL_RE.sub("", name or "")
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    name = unicodedata.normalize("NFC", name)
    name = _WS_RE.sub(" ", re.split(r"[/\\]", name)[-1]).strip().lstrip(".").strip()
    if name.split(".")[0].strip().upper() in _WINDOWS_DEVICE_NAMES:
        name = "_" + name
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            name = stem[: MAX_FILENAME_CHARS - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip()
    if not name:
        ext = ".txt" if content_type == "text/plain" else (
            mimetypes.guess_extension(content_type or "", strict=False) or ".bin")
        name = "adjunto" + ext
    return name
