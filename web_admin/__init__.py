"""The staff panel (DESIGN.md, "Web panel"): a Flask application built by `create_app`.

Layout — one blueprint per area, each in its own module:

* `web_admin.auth`: ``/login``, ``/logout``, the Flask-Login user (`StaffUser`) and the role checks
  (`role_required`; a legal user sees only their reclamo/queja tickets: `StaffUser.legal_scope_id`).
* `web_admin.listing`: ``/`` (the "Atención al Cliente" list with every filter), ``/exportar``
  (the same rows as .xlsx), ``/filtros/opciones`` (the dependent choices, for the small script).
* `web_admin.system`: ``/health`` (for load balancers and container health checks).
* `web_admin.views`: ``/atenciones/<code>`` (the ticket view: data and form left, bitácora right),
  its files and original mails; `web_admin.actions` adds the ticket's actions (POST) to it.
* `web_admin.held_mail`: ``/correos-retenidos`` (held mail: release or discard).
* `web_admin.dashboard`: ``/resumen`` (open, overdue by type and area, attended on time or late in
  the last 30 days: SVG bar charts drawn from `web_admin.charts`, each bar a link to its list).
* `web_admin.documents`: ``/atenciones/<code>/documentos/<key>`` (Generar documento: the text,
  the printable preview, "Enviar" as PDF; on the ticket view's blueprint).
* `web_admin.new_ticket`: ``/atenciones/nueva`` (Nueva atención with "Buscar por"; endpoint
  ``views.new_ticket`` on the ticket view's blueprint).
* `web_admin.copies`: the ticket's "Duplicar" and "Crear requerimiento" (same blueprint).
* `web_admin.admin_catalog`, `web_admin.admin_users`: ``/admin/…`` (Administración, admins only:
  the catalogs and the staff users).
* `web_admin.related_files`: ``/archivos-relacionados`` (admins: files of a project, torre, unit,
  contract or entrega), their downloads, and the card that lists them on the ticket view and on
  Nueva atención (templates/admin/_related_files.html).
* `web_admin.events`: ``/atenciones/<code>/eventos…`` (Eventos: schedule, edit, cancel; blueprint
  ``events``, its section ``templates/admin/_events.html``).
* `web_admin.follow_ups`: the ticket view's "Seguimiento" section (``/atenciones/<code>/seguimientos``:
  add, mark done; its own blueprint and partial template ``admin/_follow_ups.html``).

`web_admin.state` holds what the views share: the settings, the engine and session factories
(`panel()`) and the request's read-only session (`read_session()`). `web_admin.filter_form` turns
the filters of `tickets.queries` (the one definition the export and the CLI use) into the list's
form. Templates live in the top-level ``templates/admin/`` package folder (shipped in the wheel),
static files in ``web_admin/static/`` (vendored, no CDN, no build step).

Security: CSRF on every form (Flask-WTF's `CSRFProtect`: a POST without its token is a 400), login
rate limit (Flask-Limiter, memory storage per process: `LOGIN_RATE_LIMIT` failed attempts per IP),
session cookie HttpOnly, SameSite=Lax, and Secure when ``ATENCION_SECURE_COOKIES`` is set.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, abort, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.routing import IntegerConverter

import templates as templates_package
from tickets.settings import Settings, load_settings
from tickets.text import MAX_ID
from web_admin import actions, auth, copies, dashboard, documents, events, held_mail, listing, new_ticket, system, views
from web_admin import follow_ups as follow_ups_section
from web_admin.admin_catalog import bp as admin_catalog_bp  # Administración
from web_admin.admin_users import bp as admin_users_bp
from web_admin.related_files import bp as related_files_bp
from web_admin.state import PanelState, close_read_session

__all__ = ["LOGIN_RATE_LIMIT", "create_app"]

log = logging.getLogger(__name__)

LOGIN_RATE_LIMIT = "5 per minute"
"""Failed logins accepted per client IP address; the next one is answered 429 (issue 9)."""

DEV_SECRET = Settings.model_fields["secret_key"].default

TEMPLATES_DIR = Path(templates_package.__file__).resolve().parent
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None, **config) -> Flask:
    """Build the panel for ``settings`` (default: read from the ``ATENCION_*`` environment).

    Parameters: settings(Settings|None): database, time zone, code prefix, secret key, cookies.
    config: Flask configuration overrides (tests: ``RATELIMIT_ENABLED=False``…).
    Returns: the Flask application; its engine is ``panel(app).engine`` (dispose it when done).
    """
    settings = settings or load_settings()
    app = Flask(__name__, template_folder=str(TEMPLATES_DIR), static_folder=str(STATIC_DIR))
    if settings.secret_key == DEV_SECRET:
        log.warning("ATENCION_SECRET_KEY is not set: the panel uses an insecure development key")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="atencion_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_HEADERS_ENABLED=False,
        MAX_CONTENT_LENGTH=30 * 1024 * 1024,
    )
    app.config.update(config)
    app.extensions["atencion"] = PanelState.from_settings(settings)
    app.teardown_appcontext(close_read_session)

    app.url_map.converters["int"] = RowIdConverter  # before any blueprint's routes are added
    CSRFProtect(app)
    auth.login_manager.init_app(app)
    assert actions.bp is views.bp  # the actions are routes of the ticket view's blueprint
    assert new_ticket.bp is views.bp  # so is Nueva atención (views.new_ticket)
    assert copies.bp is views.bp  # and Duplicar / Crear requerimiento
    assert documents.bp is views.bp  # and Generar documento (views.document…)
    for blueprint in (auth.bp, listing.bp, system.bp, views.bp, held_mail.bp, dashboard.bp, events.bp):
        app.register_blueprint(blueprint)
    for blueprint in (admin_catalog_bp, admin_users_bp):  # Administración (/admin)
        app.register_blueprint(blueprint)
    app.register_blueprint(related_files_bp)
    app.register_blueprint(follow_ups_section.bp)  # the ticket view's Seguimiento
    limiter = Limiter(get_remote_address, app=app, default_limits=[])
    # only failed attempts count (a successful login redirects)
    app.view_functions["auth.login"] = limiter.limit(
        LOGIN_RATE_LIMIT, methods=["POST"], deduct_when=lambda response: response.status_code != 302,
    )(app.view_functions["auth.login"])
    limiter.exempt(system.bp)
    _register_errors(app)
    app.before_request(refuse_nul)
    app.jinja_env.globals.update(nav_url=listing.nav_url, ticket_url=listing.ticket_url)
    return app


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in the panel's routes: a row id, 1 … 2**63 − 1 (`tickets.text.MAX_ID`). A
    longer number matches no route (404) instead of reaching the database, which cannot compare
    it (PostgreSQL "out of range", SQLite OverflowError: a 500)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's parameter name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def refuse_nul() -> None:
    """Refuse (400) a request whose query or form holds a NUL character (``%00``): no person types
    one, PostgreSQL cannot store one in text (it would be a 500) and SQLite would keep it in the
    data. Uploaded files' bytes are not looked at (their names are cleaned by `tickets.filenames`)."""
    for values in (request.args, request.form):
        if any("\x00" in key or any("\x00" in v for v in values.getlist(key)) for key in values):
            abort(400)


def _register_errors(app: Flask) -> None:
    """Spanish error pages: bad CSRF token (400), other bad requests (400), no permission (403),
    not found (404), too many logins (429)."""

    @app.errorhandler(400)
    def bad_request(exc):
        return render_template("admin/error.html", title="Solicitud no válida",
                               message="El formulario o la dirección contiene caracteres no válidos. "
                                       "Vuelva a la página y revise lo escrito."), 400

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_template("admin/error.html", title="Formulario caducado",
                               message="El formulario no es válido o caducó (falta el token de "
                                       "seguridad). Vuelva a la página y envíelo de nuevo."), 400

    @app.errorhandler(403)
    def forbidden(exc):
        return render_template("admin/error.html", title="Sin permiso",
                               message="Su rol no permite usar esta página."), 403

    @app.errorhandler(404)
    def not_found(exc):
        return render_template("admin/error.html", title="No encontrado",
                               message="La página o la atención que busca no existe, o no tiene "
                                       "acceso a ella."), 404

    @app.errorhandler(429)
    def too_many(exc):
        return render_template("admin/error.html", title="Demasiados intentos",
                               message="Demasiados intentos de ingreso fallidos. Espere un minuto "
                                       "y vuelva a intentarlo."), 429
