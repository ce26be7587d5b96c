"""Staff email commands: the ``#palabra valor`` lines at the top of a staff reply (DESIGN, "Staff
email commands"). Pure: text in, commands out; whether they are allowed and valid is decided
elsewhere (`mail.inbound.staff_reply`).

Grammar, read from the top of the reply's new text (quotes already cut)::

    #estado <nombre de estado>      status      e.g. "#estado En proceso"
    #asignar <correo>               assign      e.g. "#asignar maria@empresa.pe"
    #prioridad <nombre>             priority    e.g. "#prioridad Alta"
    #publico  (or #público)         public      the reply is mailed to the requester

Blank lines may separate command lines; the first line that is neither blank nor ``#`` followed
by a letter ends the commands, and everything from it on is the comment's text. Words are case-
and accent-insensitive (``#ESTADO``, ``#Público``); a ``:`` after the word is allowed
(``#estado: Atendido``). Errors (Spanish, for the refusal mail): an unknown ``#palabra`` at the top,
a command given twice, a value missing (or given to ``#publico``), and ``#publico`` with no text to
send. A ``#`` line further down is text (a hashtag, a numbered ``#1``), never a command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tickets.text import fold

__all__ = ["COMMAND_WORDS", "Command", "parse_commands"]

#: Folded command word → command name in code.
COMMAND_WORDS = {"estado": "status", "asignar": "assign", "prioridad": "priority", "publico": "public"}
#: Commands that take a value (the others take none).
_WITH_VALUE = frozenset({"status", "assign", "priority"})
# "#" + a word that starts with a letter (any script); the value is the rest of the line
_COMMAND_LINE = re.compile(r"^#(?P<word>[^\W\d_][\w]*)\s*:?\s*(?P<value>.*)$")


@dataclass(frozen=True)
class Command:
    """One command line: ``name`` in code (status, assign, priority, public; ``unknown`` for a word
    that is no command), ``value`` as written
    (stripped; "" for ``#publico``), ``written`` the whole line as the sender wrote it."""

    name: str
    value: str
    written: str


def parse_commands(text: str) -> tuple[tuple[Command, ...], str, tuple[str, ...]]:
    """Split a staff reply into its top command lines and the comment's text.

    Returns: (commands in order, rest: the text after them with leading blank lines removed,
    errors: Spanish reasons, empty when the commands are well formed). A text without ``#`` lines
    at the top returns ``((), text.strip(), ())``.

    Examples: ``parse_commands("#estado Atendido\\n\\nListo.")`` gives
    ``((Command("status", "Atendido", "#estado Atendido"),), "Listo.", ())``;
    ``parse_commands("#estdo Atendido")[2] == ("comando desconocido #estdo",)``.
    """
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    commands: list[Command] = []
    errors: list[str] = []
    seen: set[str] = set()
    index = 0
    for index, line in enumerate(lines):  # noqa: B007 - the index is read after the loop
        stripped = line.strip()
        if not stripped:
            continue
        match = _COMMAND_LINE.match(stripped)
        if match is None:
            break
        word, value = match.group("word"), match.group("value").strip()
        name = COMMAND_WORDS.get(fold(word))
        if name is None:
            errors.append(f"comando desconocido #{word}")
        elif name in seen:
            errors.append(f"comando repetido #{word}")
        elif name in _WITH_VALUE and not value:
            errors.append(f"#{word} sin valor")
        elif name not in _WITH_VALUE and value:
            errors.append(f"#{word} no lleva valor: escriba el texto en las líneas siguientes")
        seen.add(name or fold(word))
        commands.append(Command(name or "unknown", value, stripped))
    else:
        index = len(lines)
    rest = "\n".join(lines[index:]).strip()
    if any(c.name == "public" for c in commands) and not rest:
        errors.append("#publico sin texto: no hay nada que enviar al solicitante")
    return tuple(commands), rest, tuple(errors)
