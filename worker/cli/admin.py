"""Administration: `migrate`, `catalog load FILE`, `users add`."""

from __future__ import annotations

from pathlib import Path

import click

from tickets.catalog import load_catalog
from tickets.db import migrate as migrate_schema
from tickets.users import MIN_PASSWORD_CHARS, ROLES, add_or_update_user
from worker.cli.app import App, CliError, pass_app
from worker.cli.spanish import OneOf, PathArg, command, group, option


@command()
@pass_app
def migrate(app: App) -> None:
    """Crea o actualiza el esquema de la base de datos y siembra los valores por defecto
    (estados, prioridades, tipo de atención, categoría y área)."""
    migrate_schema(app.engine)
    click.echo("esquema al día")


@group()
def catalog() -> None:
    """Datos de referencia (promotores, proyectos, unidades, clientes, contratos…) en YAML."""


@catalog.command("load")
@click.argument("file", type=PathArg())
@pass_app
def catalog_load(app: App, file: Path) -> None:
    """Carga el catálogo del archivo YAML FILE: promotores, proyectos, torres, unidades, clientes,
    contratos, entregas, áreas, usuarios, tipos, categorías, estados y prioridades. Idempotente (por claves
    naturales); informa qué cambió."""
    if file.is_dir():
        raise CliError(f"{file} es una carpeta, no un archivo YAML")
    if not file.exists():
        raise CliError(f"no existe el archivo {file}")
    with app.sessions.begin() as s:
        report = load_catalog(s, file, storage_dir=app.settings.storage_dir)
    click.echo(f"catálogo cargado: {report.summary()}")


@group()
def users() -> None:
    """Usuarios del personal (admin, agent, legal)."""


@users.command("add")
@option("--email", required=True, metavar="CORREO", help="Correo del usuario; identifica al usuario.")
@option("--name", required=True, metavar="NOMBRE", help="Nombre completo.")
@option("--role", required=True, type=OneOf(ROLES), metavar="[" + "|".join(ROLES) + "]",
        help="Rol: admin (todo), agent (todas las atenciones) o legal (sus reclamos).")
@option("--area", default=None, metavar="ÁREA",
        help="Área del usuario (sin distinguir mayúsculas ni tildes); sin ella, se mantiene la que tenga.")
@option("--password", required=True, metavar="CLAVE",
        help=f"Contraseña del panel, de al menos {MIN_PASSWORD_CHARS} caracteres (se guarda solo su hash).")
@pass_app
def users_add(app: App, email: str, name: str, role: str, area: str | None, password: str) -> None:
    """Crea un usuario del personal, o lo actualiza si su correo ya existe (idempotente por correo)."""
    with app.sessions.begin() as s:
        user, created = add_or_update_user(s, email=email, name=name, role=role, area=area, password=password)
        line = f"usuario {'creado' if created else 'actualizado'}: {user.email} ({user.role})"
    click.echo(line)


COMMANDS = (migrate, catalog, users)
