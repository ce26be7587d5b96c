"""click in Spanish: help pages, value types whose errors are Spanish, and click's usage errors
translated into one line (DESIGN.md, "The atencion command": "click's own usage errors translated").

Through click's own extension points, no patching of its internals:

* `Command` / `Group` use a `Context` whose `HelpFormatter` writes "Uso:", "Opciones:", "Comandos:";
  the help option says "Muestra esta ayuda y termina."; `Option` writes "[obligatorio]" and
  "[por defecto: …]".
* The value types (`Text`, `Int`, `Float`, `OneOf`, `PathArg`) fail with Spanish messages
  (`InvalidValue`), so a bad value needs no translation, only the option's name in front.
* `usage_message` turns the usage errors click raises itself while parsing (missing argument or
  option, no such option or command, an option without its value, extra arguments) into one
  Spanish line, from the exception's attributes (its class, option name, parameter).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import click

# --------------------------------------------------------------------------- help pages


class HelpFormatter(click.HelpFormatter):
    """click's help formatter with Spanish headings."""

    SECTIONS = {"Options": "Opciones", "Commands": "Comandos", "Positional arguments": "Argumentos"}

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "Uso: " if prefix is None else prefix)

    def section(self, name: str):
        return super().section(self.SECTIONS.get(name, name))


class Context(click.Context):
    formatter_class = HelpFormatter


class Command(click.Command):
    """A command whose help page is Spanish."""

    context_class = Context

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[OPCIONES]")
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = "Muestra esta ayuda y termina."
        return option


class Group(Command, click.Group):
    """A group whose help page is Spanish; its subcommands and subgroups are Spanish too."""

    command_class = Command
    group_class = type  # subgroups: this class

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("subcommand_metavar", "COMANDO [ARGUMENTOS]...")
        super().__init__(*args, **kwargs)


class Option(click.Option):
    """An option whose help shows "[por defecto: …]" and "[obligatorio]"; a text option shows TEXTO."""

    def __init__(self, *args, **kwargs) -> None:
        show_default = kwargs.pop("show_default", False)
        if show_default and kwargs.get("help") and kwargs.get("default") is not None:
            kwargs["help"] = f"{kwargs['help']} [por defecto: {kwargs['default']}]"
        if kwargs.get("type") is None and not kwargs.get("is_flag") and isinstance(kwargs.get("default"),
                                                                                     (str, type(None))):
            kwargs["type"] = TEXT
        super().__init__(*args, **kwargs)

    def get_help_extra(self, ctx: click.Context):
        extra = super().get_help_extra(ctx)
        if "required" in extra:
            extra["required"] = "obligatorio"
        return extra


command = functools.partial(click.command, cls=Command)
group = functools.partial(click.group, cls=Group)
option = functools.partial(click.option, cls=Option)


# --------------------------------------------------------------------------- value types


class InvalidValue(click.BadParameter):
    """A bad value whose message is already Spanish (raised by the types below)."""


class SpanishType(click.ParamType):
    """A value type whose ``fail()`` raises `InvalidValue`."""

    def fail(self, message: str, param: click.Parameter | None = None, ctx: click.Context | None = None):
        raise InvalidValue(message, ctx=ctx, param=param)

    def get_missing_message(self, param, ctx=None) -> str | None:
        """What to add when the value is missing (``use admin, agent o legal``), or None."""
        return None


class Text(SpanishType):
    """Any text (the type of an option that names none): shown as TEXTO in the help."""

    name = "texto"

    def convert(self, value, param, ctx):
        return value if isinstance(value, str) else str(value)


TEXT = Text()


class Int(SpanishType):
    """An integer, optionally within [min, max]."""

    name = "entero"

    def __init__(self, min: int | None = None, max: int | None = None) -> None:  # noqa: A002 - click's names
        self.min, self.max = min, max

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,30}\s*", value):
            number = int(value)
        else:
            self.fail(f"número entero no válido {value!r}", param, ctx)
        if self.min is not None and number < self.min:
            self.fail(f"{number} fuera de rango: debe ser mayor o igual a {self.min}", param, ctx)
        if self.max is not None and number > self.max:
            self.fail(f"{number} fuera de rango: debe ser menor o igual a {self.max}", param, ctx)
        return number


class Float(SpanishType):
    """A decimal number (``2.5`` or ``2,5``), at least ``min``."""

    name = "número"

    def __init__(self, min: float | None = None) -> None:  # noqa: A002 - click's name
        self.min = min

    def convert(self, value, param, ctx):
        try:
            number = float(value.replace(",", ".") if isinstance(value, str) else value)
        except (TypeError, ValueError):
            self.fail(f"número no válido {value!r}", param, ctx)
        if number != number or number in (float("inf"), float("-inf")):
            self.fail(f"número no válido {value!r}", param, ctx)
        if self.min is not None and number < self.min:
            self.fail(f"{value} fuera de rango: debe ser mayor o igual a {self.min}", param, ctx)
        return number


class OneOf(SpanishType):
    """One of a few fixed words (exact, as typed)."""

    name = "opción"

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices

    def convert(self, value, param, ctx):
        if value in self.choices:
            return value
        self.fail(f"valor no válido {value!r} (use {join_or(self.choices)})", param, ctx)

    def get_missing_message(self, param, ctx=None) -> str:
        return f"use {join_or(self.choices)}"


class PathArg(SpanishType):
    """A path, as a `pathlib.Path`; whether it must exist is the command's business (it says which)."""

    name = "ruta"

    def convert(self, value, param, ctx):
        if not str(value).strip():
            self.fail("la ruta está vacía", param, ctx)
        return value if isinstance(value, Path) else Path(value)


def join_or(words) -> str:
    """``a, b o c``."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " o " + words[-1]


# --------------------------------------------------------------------------- usage errors


def param_name(param: click.Parameter | None) -> str:
    """How the user typed or would type a parameter: ``-o/--output``, ``--status``, ``CODE``."""
    if param is None:
        return "el valor"
    if isinstance(param, click.Option):
        return "/".join(param.opts)
    return param.human_readable_name


def _suggest(close, ctx: click.Context | None) -> str:
    """``; ¿quiso decir --status?`` for click's close matches, else where to find the valid ones."""
    if close:
        return f"; ¿quiso decir {join_or(sorted(close))}?"
    return f" (vea '{ctx.command_path} --help')" if ctx is not None else ""


#: click's own English messages that carry no structured data, and their Spanish form.
_MESSAGES = (
    (re.compile(r"^Option '(.+)' requires an argument\.$"), "la opción {0} necesita un valor"),
    (re.compile(r"^Option '(.+)' requires (\d+) arguments\.$"), "la opción {0} necesita {1} valores"),
    (re.compile(r"^Option '(.+)' does not take a value\.$"), "la opción {0} no admite un valor"),
    (re.compile(r"^Argument '(.+)' takes (\d+) values\.$"), "el argumento {0} necesita {1} valores"),
    (re.compile(r"^Got unexpected extra argument \((.+)\)$"), "sobra el argumento '{0}'"),
    (re.compile(r"^Got unexpected extra arguments \((.+)\)$"), "sobran los argumentos '{0}'"),
    (re.compile(r"^No such command '(.+)'\.$"), "no existe el comando '{0}'"),  # click < 8.4
    (re.compile(r"^Takes (\d+) values but (\d+) (?:was|were) given\.$"), "necesita {0} valores y recibió {1}"),
)


def _translate(message: str) -> str:
    for pattern, spanish in _MESSAGES:
        m = pattern.match(message)
        if m:
            return spanish.format(*m.groups())
    return message


#: click >= 8.4 raises this for an unknown subcommand (older ones a plain UsageError).
_NoSuchCommand = getattr(click.exceptions, "NoSuchCommand", ())


def usage_message(exc: click.UsageError) -> str:
    """One Spanish line for a usage error raised while click parsed the command line."""
    ctx = exc.ctx
    if isinstance(exc, click.exceptions.NoArgsIsHelpError) or exc.message == "Missing command.":
        return f"falta el subcomando; vea '{ctx.command_path if ctx else 'atencion'} --help'"
    if isinstance(exc, click.MissingParameter):
        param = exc.param
        if param is None:
            return "falta un parámetro"
        what = "la opción" if isinstance(param, click.Option) else "el argumento"
        text = f"falta {what} {param_name(param)}"
        extra = param.type.get_missing_message(param, ctx) if isinstance(param.type, SpanishType) else None
        return f"{text} ({extra})" if extra else text
    if isinstance(exc, InvalidValue):
        return f"{exc.param_hint or param_name(exc.param)}: {exc.message}"
    if isinstance(exc, click.BadParameter):  # a click type we did not replace: its message is English
        return f"valor no válido para {exc.param_hint or param_name(exc.param)}: {_translate(exc.message)}"
    if isinstance(exc, click.NoSuchOption):
        return f"no existe la opción {exc.option_name}{_suggest(exc.possibilities, ctx)}"
    if isinstance(exc, _NoSuchCommand):
        return f"no existe el comando '{exc.command_name}'{_suggest(exc.possibilities, ctx)}"
    return _translate(exc.message)
