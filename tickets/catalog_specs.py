"""What the Administración pages know of each catalog table (issue 10, item 7): its Spanish
names, its form fields, its natural key (the same one `tickets.catalog` loads by) and the rows that
use it (a delete is refused while any does). `tickets.catalog_edit` validates and writes through
this table; the panel (`web_admin.admin_catalog`) draws its list and form from it.

Handovers (entregas) are edited here too; their signed record (acta) is a related file, uploaded on
the Archivos relacionados page (`web_admin.related_files`) or loaded with the catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Column

from tickets import catalog
from tickets.defaults import DEFAULT_PRIORITY, NEW_STATUS, REOPEN_STATUS
from tickets.models import (
    Area,
    Category,
    Client,
    ClosedDay,
    Contract,
    Handover,
    LogbookEntry,
    Priority,
    Project,
    Promoter,
    RelatedFile,
    Status,
    Subdivision,
    Ticket,
    TicketType,
    Unit,
    User,
    contract_extra_units,
    contract_holders,
)

UNIT_TYPE_CHOICES = tuple((t, t.capitalize()) for t in sorted(catalog.UNIT_TYPES - {"deposito"}))
DOCUMENT_CHOICES = tuple((t, t) for t in ("DNI", "CE", "RUC", "PASAPORTE"))
DAY_RULE_CHOICES = (("calendar", "Días calendario"), ("business", "Días hábiles"))


@dataclass(frozen=True)
class Field:
    """One form field. ``name``: the model attribute and the form input's name. ``kind``: text,
    int, bool, choice, date, ref (a row of ``ref``, by id), user (an active staff user, by id),
    emails, holders or priority_days (each a text the editor parses). ``check``: the loader's own
    validator (``check(value, where)``, raises `tickets.catalog.CatalogError`)."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    max_chars: int = 200
    choices: tuple[tuple[str, str], ...] = ()
    ref: type | None = None
    check: Callable | None = None
    hint: str = ""


@dataclass(frozen=True)
class Use:
    """A column that points at a catalog row: ``plural`` names what it counts (``atenciones``)."""

    column: Column
    singular: str
    plural: str


@dataclass(frozen=True)
class Kind:
    """One catalog: URL ``slug``, ``title`` (plural, for the page), ``noun`` (singular with its
    article, for messages: «el estado»), ``pronoun`` (lo/la: «lo usan 12 atenciones»), ``key``
    (natural key: attribute names), ``uses`` (what blocks a delete), ``protected`` (names that are
    never deleted nor renamed, with the reason)."""

    slug: str
    model: type
    title: str
    noun: str
    pronoun: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    uses: tuple[Use, ...] = ()
    protected: dict[str, str] = field(default_factory=dict)
    order_by: tuple = ()


def label_of(row) -> str:
    """The Spanish label of a catalog row (a unit: «Los Olivos / Torre A / 101»)."""
    if row is None:
        return ""
    if isinstance(row, Subdivision):
        return f"{row.project.name} / {row.name}"
    if isinstance(row, Unit):
        return f"{label_of(row.subdivision)} / {row.number}"
    if isinstance(row, Client):
        return f"{row.name} ({row.document_type} {row.document_number})"
    if isinstance(row, Contract):
        return row.number
    if isinstance(row, ClosedDay):
        return f"{row.day:%d/%m/%Y}"
    if isinstance(row, Handover):
        return f"{label_of(row.unit)} — {row.handed_over_on:%d/%m/%Y}"
    if isinstance(row, User):
        return f"{row.name} <{row.email}>"
    return row.name


T = Ticket


def files_of(column: Column) -> Use:
    """The related files (Archivos relacionados) that a row owns: they block its delete."""
    return Use(column, "archivo relacionado", "archivos relacionados")

KINDS: dict[str, Kind] = {k.slug: k for k in (
    Kind("promotores", Promoter, "Promotores", "el promotor", "lo", (
        Field("name", "Nombre", required=True),
        Field("ruc", "RUC", max_chars=20),
        Field("address", "Dirección", max_chars=300),
        Field("logo", "Logo (ruta de la imagen)", max_chars=500, hint="Ruta de un archivo PNG o JPEG en el servidor."),
    ), ("name",), (Use(T.promoter_id, "atención", "atenciones"), Use(Project.promoter_id, "proyecto", "proyectos")),
        order_by=(Promoter.name,)),
    Kind("proyectos", Project, "Proyectos", "el proyecto", "lo", (
        Field("name", "Nombre", required=True),
        Field("promoter_id", "Promotor", "ref", ref=Promoter),
        Field("address", "Dirección", max_chars=300),
    ), ("name",), (Use(T.project_id, "atención", "atenciones"),
                   Use(Subdivision.project_id, "torre o bloque", "torres o bloques"),
                   files_of(RelatedFile.project_id)), order_by=(Project.name,)),
    Kind("torres", Subdivision, "Torres y bloques", "la torre o bloque", "la", (
        Field("project_id", "Proyecto", "ref", required=True, ref=Project),
        Field("name", "Nombre", required=True, max_chars=100),
    ), ("project_id", "name"), (Use(T.subdivision_id, "atención", "atenciones"),
                                Use(Unit.subdivision_id, "unidad", "unidades"),
                                files_of(RelatedFile.subdivision_id)), order_by=(Subdivision.id,)),
    Kind("unidades", Unit, "Unidades", "la unidad", "la", (
        Field("subdivision_id", "Torre o bloque", "ref", required=True, ref=Subdivision),
        Field("number", "Número", required=True, max_chars=50),
        Field("unit_type", "Tipo de unidad", "choice", required=True, choices=UNIT_TYPE_CHOICES,
              check=catalog.check_unit_type),
    ), ("subdivision_id", "number"), (Use(T.unit_id, "atención", "atenciones"),
                                      Use(Contract.unit_id, "contrato", "contratos"),
                                      Use(contract_extra_units.c.unit_id, "contrato", "contratos (unidad adicional)"),
                                      Use(Handover.unit_id, "entrega", "entregas"),
                                      files_of(RelatedFile.unit_id)),
        order_by=(Unit.subdivision_id, Unit.number)),
    Kind("clientes", Client, "Clientes", "el cliente", "lo", (
        Field("document_type", "Tipo de documento", "choice", required=True, choices=DOCUMENT_CHOICES,
              check=catalog.check_document_type),
        Field("document_number", "N° de documento", required=True, max_chars=30),
        Field("name", "Nombre", required=True),
        Field("emails", "Correos", "emails", hint="Separados por comas."),
        Field("phone", "Teléfono", max_chars=50),
    ), ("document_type", "document_number"), (
        Use(T.requester_client_id, "atención", "atenciones (solicitante)"),
        Use(T.holder_client_id, "atención", "atenciones (titular)"),
        Use(contract_holders.c.client_id, "contrato", "contratos"),
        Use(LogbookEntry.author_client_id, "entrada de bitácora", "entradas de bitácora"),
    ), order_by=(Client.name,)),
    Kind("contratos", Contract, "Contratos", "el contrato", "lo", (
        Field("number", "N° de contrato", required=True, max_chars=50),
        Field("unit_id", "Unidad", "ref", ref=Unit),
        Field("holders", "Titulares", "holders",
              hint="Documento de cada titular, separados por comas: DNI 45871236, CE 001234."),
        Field("signed_on", "Fecha del contrato", "date"),
    ), ("number",), (Use(T.contract_id, "atención", "atenciones"), Use(Handover.contract_id, "entrega", "entregas"),
                     files_of(RelatedFile.contract_id)), order_by=(Contract.number,)),
    Kind("entregas", Handover, "Entregas", "la entrega", "la", (
        Field("unit_id", "Unidad", "ref", required=True, ref=Unit),
        Field("contract_id", "N° de contrato", "ref", ref=Contract),
        Field("handed_over_on", "Fecha de entrega", "date", required=True),
        Field("observations", "Observaciones del acta", max_chars=2000),
    ), ("unit_id", "contract_id"), (files_of(RelatedFile.handover_id),),
        order_by=(Handover.handed_over_on.desc(), Handover.id)),
    Kind("areas", Area, "Áreas", "el área", "la", (
        Field("name", "Nombre", required=True, max_chars=100),
        Field("lead_id", "Líder", "user"),
    ), ("name",), (Use(T.area_id, "atención", "atenciones"), Use(User.area_id, "usuario", "usuarios")),
        order_by=(Area.name,)),
    Kind("tipos", TicketType, "Tipos de atención", "el tipo de atención", "lo", (
        Field("name", "Nombre", required=True, max_chars=100),
        Field("max_response_days", "Días máximos de respuesta", "int", required=True, check=catalog.check_max_days),
        Field("priority_days", "Días por prioridad", "priority_days",
              hint="Opcional, p. ej. «Urgente=1, Alta=3»: reemplaza los días máximos para esa prioridad."),
        Field("day_rule", "Cómputo de días", "choice", required=True, choices=DAY_RULE_CHOICES,
              check=catalog.check_day_rule),
    ), ("name",), (Use(T.type_id, "atención", "atenciones"),), order_by=(TicketType.name,)),
    Kind("categorias", Category, "Categorías", "la categoría", "la", (
        Field("name", "Nombre", required=True, max_chars=100),
    ), ("name",), (Use(T.category_id, "atención", "atenciones"),), order_by=(Category.name,)),
    Kind("estados", Status, "Estados", "el estado", "lo", (
        Field("name", "Nombre", required=True, max_chars=100),
        Field("position", "Orden", "int", required=True),
        Field("attended", "Atendido (detiene el plazo)", "bool"),
        Field("closed", "Cerrado", "bool"),
        Field("notify_requester", "Avisar al solicitante", "bool"),
    ), ("name",), (Use(T.status_id, "atención", "atenciones"),),
        protected={NEW_STATUS: "es el estado de las atenciones nuevas",
                   REOPEN_STATUS: "es el estado de las atenciones reabiertas"},
        order_by=(Status.position, Status.name)),
    Kind("prioridades", Priority, "Prioridades", "la prioridad", "la", (
        Field("name", "Nombre", required=True, max_chars=50),
        Field("position", "Orden", "int", required=True),
    ), ("name",), (Use(T.priority_id, "atención", "atenciones"),),
        protected={DEFAULT_PRIORITY: "es la prioridad por defecto de las atenciones nuevas"},
        order_by=(Priority.position, Priority.name)),
    Kind("dias-no-laborables", ClosedDay, "Días no laborables", "el día no laborable", "lo", (
        Field("day", "Fecha", "date", required=True),
        Field("note", "Motivo"),
    ), ("day",), order_by=(ClosedDay.day,)),
)}
"""The catalogs, in the order the Administración page lists them."""
