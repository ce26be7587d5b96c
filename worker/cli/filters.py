"""The ticket filters as command-line options (DESIGN.md, "Filters"): one option per filter of
`tickets.queries.FILTER_NAMES` (``--days-min`` for ``days_min``), each value checked as click parses
it by `tickets.queries.parse_value` (the rules the panel applies too), the catalog names checked
against the database by `tickets.queries.Filters.validate`. A catalog filter's option may be
repeated (``--status Registrado --status Asignado``: either). `list` and `export` use them."""

from __future__ import annotations

import click
from sqlalchemy.orm import Session

from tickets.filter_values import MULTI_FILTERS
from tickets.queries import ALERT_STATES, FILTER_NAMES, KINDS, FilterError, Filters, parse_value
from worker.cli.app import CliError
from worker.cli.spanish import SpanishType, option

FILTERS_HELP = ("Los nombres de catálogo (estado, tipo, proyecto, área…) no distinguen mayúsculas ni "
                "tildes, y uno desconocido es un error que lista los válidos; se pueden repetir "
                "(--status Registrado --status Asignado: cualquiera de los dos). Los textos no "
                "distinguen mayúsculas ni tildes. Las fechas son días locales (AAAA-MM-DD), incluidos "
                "los extremos.")
"""What every filter option has in common, for the help of the commands that take them."""

#: Per filter: the value's form (metavar) and what it filters (the option's help).
FILTER_HELP = {
    "requested_from": ("AAAA-MM-DD", "Fecha de solicitud: desde este día."),
    "requested_to": ("AAAA-MM-DD", "Fecha de solicitud: hasta este día."),
    "code": ("CÓDIGO", "Código de la atención: AT-000123, at-123 o parte del código."),
    "type": ("NOMBRE", "Tipo de atención."),
    "category": ("NOMBRE", "Categoría."),
    "status": ("NOMBRE", "Estado (Registrado, Asignado, En proceso, Atendido, Cerrado, Anulado…)."),
    "project": ("NOMBRE", "Proyecto."),
    "subdivision": ("NOMBRE", "Torre/Bloque."),
    "unit": ("NÚMERO", "Dpto./Unidad: su número exacto (p. ej. 101)."),
    "unit_type": ("NOMBRE", "Tipo de unidad (departamento, estacionamiento, depósito…)."),
    "promoter": ("NOMBRE", "Promotor."),
    "requester": ("TEXTO", ("Solicitante: parte de su nombre o de su correo; con varias palabras, cada una en "
                           "cualquier orden (luis fernandez).")),
    "holder": ("TEXTO", ("Titular: parte de su nombre o de uno de sus correos; con varias palabras, cada una "
                        "en cualquier orden.")),
    "assignee": ("TEXTO", "Usuario asignado: parte de su nombre o de su correo; 'none' o 'sin asignar': sin asignar."),
    "area": ("NOMBRE", "Área."),
    "contract": ("TEXTO", "N° de contrato, o parte de él."),
    "comment": ("TEXTO", "Texto que aparece en los comentarios del cliente."),
    "days_min": ("N", "Días transcurridos: al menos N (un entero desde 0)."),
    "days_max": ("N", "Días transcurridos: como mucho N (un entero desde 0)."),
    "priority": ("NOMBRE", "Prioridad (Baja, Media, Alta, Urgente)."),
    "alert": ("[" + "|".join(ALERT_STATES) + "]",
              "Alerta de la atención: overdue (con días de retraso), on_time (en plazo), "
              "attended_on_time (atendido dentro de plazo), attended_late (atendido fuera de plazo)."),
    "attended_from": ("AAAA-MM-DD", "Fecha de atención: desde este día (las no atendidas quedan fuera)."),
    "attended_to": ("AAAA-MM-DD", "Fecha de atención: hasta este día."),
    "open": ("[1|0]", "1: solo las abiertas (en un estado no cerrado); 0: solo las cerradas."),
    "kind": ("[" + "|".join(KINDS) + "]", "Formulario: atencion, reclamo (reclamo o queja) o solicitud."),
    "q": ("TEXTO", "Texto libre: en el código, el asunto, el detalle o el nombre o correo del solicitante."),
}
assert set(FILTER_HELP) == set(FILTER_NAMES), set(FILTER_NAMES) ^ set(FILTER_HELP)


def option_name(name: str) -> str:
    """The CLI option of a filter: ``days_min`` → ``--days-min``."""
    return "--" + name.replace("_", "-")


class FilterValue(SpanishType):
    """The value of one filter, parsed as `tickets.queries.parse_value` parses it."""

    name = "filtro"

    def __init__(self, filter_name: str) -> None:
        self.filter_name = filter_name

    def convert(self, value, param, ctx):
        try:
            return parse_value(self.filter_name, value)
        except FilterError as exc:
            self.fail(exc.message, param, ctx)


def filter_options(fn):
    """Decorator: one option per filter, in DESIGN.md's order; a catalog filter's may be repeated."""
    for name in reversed(FILTER_NAMES):
        metavar, help_ = FILTER_HELP[name]
        multiple = name in MULTI_FILTERS
        fn = option(option_name(name), name, default=None, type=FilterValue(name), metavar=metavar,
                    multiple=multiple, help=help_ + (" Se puede repetir." if multiple else ""))(fn)
    return fn


def _option_value(name: str, value):
    """A repeated option's values (each a tuple of one name) joined into one tuple, or None."""
    if name in MULTI_FILTERS and value is not None and not isinstance(value, str):
        return tuple(one for item in value if item for one in item) or None
    return value


def build_filters(options: dict) -> Filters:
    """The `Filters` of the filter options among ``options`` (each value already parsed).

    Raises: click.UsageError (exit 2) when two options contradict each other (``--requested-to``
    before ``--requested-from``, ``--days-max`` below ``--days-min``).
    """
    try:
        return Filters(**{name: _option_value(name, options.get(name)) for name in FILTER_NAMES})
    except FilterError as exc:
        raise click.UsageError(f"{option_name(exc.field)}: {exc.message}") from exc


def check_filters(session: Session, filters: Filters) -> None:
    """Every catalog name in ``filters`` exists (`Filters.validate`). Raises CliError naming the
    option and listing the valid values: ``--status: estado desconocido 'Cerradoo' (válidos: …)``."""
    try:
        filters.validate(session)
    except FilterError as exc:
        raise CliError(f"{option_name(exc.field)}: {exc.message}") from exc
