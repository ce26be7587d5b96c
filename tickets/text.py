"""Small text helpers shared by the domain modules."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive key for names: ``fold(" Área  Legal ") == "area legal"``.

    Used wherever a name typed by a person is compared with a catalog name (statuses, priorities,
    types, areas…): SQL ``lower()`` folds only ASCII on SQLite and C-locale PostgreSQL.
    """
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())
