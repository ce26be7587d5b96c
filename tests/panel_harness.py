"""The panel's test harness (registered as a pytest plugin by conftest.py): the Flask app on the
filter test data (tests.test_queries.build_data, SQLite and PostgreSQL), its staff users with
passwords, and `Staff`, a logged-in test client (FL-style ``AuthActions``).

Users (password `PASSWORD` unless said): admin@empresa.pe (admin), maria@empresa.pe (agent),
jorge@empresa.pe (legal; assignee of the reclamo AT-000002), baja@empresa.pe (deactivated).
"Today" is pinned to tests.test_queries.TODAY (2025-01-06) through ``ATENCION_TODAY``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tickets.models import User
from tickets.settings import Settings
from tickets.users import add_or_update_user
from web_admin import create_app
from web_admin.state import panel

PASSWORD = "clave-segura-123"
ADMIN, AGENT, LEGAL, INACTIVE = "admin@empresa.pe", "maria@empresa.pe", "jorge@empresa.pe", "baja@empresa.pe"

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
_CODES = re.compile(r'<td class="code"><a href="[^"]*">([A-Z]+-\d+)</a>')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a page."""
    m = _CSRF.search(html)
    assert m, "no csrf_token in the page"
    return m.group(1) or m.group(2)


def field_errors(html: str) -> dict[str, str]:
    """The page's per-field errors: {field name: its Spanish message}."""
    return {f: unescape(m) for f, m in re.findall(r'<p class="field-error" id="err-([\w-]+)">([^<]*)</p>', html)}


def refusal(html: str) -> str:
    """The page's refusal (a change refused with its reason), or "" when there is none."""
    m = re.search(r'<p class="form-error" role="alert" id="refusal">([^<]*)</p>', html)
    return unescape(m.group(1)) if m else ""


def codes_in(html: str) -> list[str]:
    """The ticket codes of the list's rows, in order."""
    return _CODES.findall(html)


def add_staff(sessions) -> None:
    """The four users of the module docstring (maria and jorge exist in build_data: updated)."""
    with sessions.begin() as s:
        add_or_update_user(s, email=ADMIN, name="Ana Administradora", role="admin", password=PASSWORD)
        add_or_update_user(s, email=AGENT, name="María Quispe", role="agent", password=PASSWORD)
        add_or_update_user(s, email=LEGAL, name="Jorge Ríos", role="legal", password=PASSWORD)
        add_or_update_user(s, email=INACTIVE, name="Beto Baja", role="agent", password=PASSWORD)
        s.scalar(select(User).where(User.email == INACTIVE)).active = False


def make_panel(sessions, tmp_path, **config) -> Flask:
    """The panel on the database of ``sessions`` (the ``Session`` fixture), today pinned."""
    from tests.test_queries import TODAY

    url = sessions.kw["bind"].url.render_as_string(hide_password=False)
    settings = Settings(_env_file=None, database_url=url, data_dir=tmp_path / "var",
                        secret_key="test-secret-key-" + "x" * 16, **config.pop("settings", {}))
    config.setdefault("ATENCION_TODAY", TODAY)
    return create_app(settings, **config)


@dataclass
class Staff:
    """A test client that logs in through the login form, as a browser does."""

    client: FlaskClient

    def login(self, email: str, password: str = PASSWORD, next_: str | None = None):
        page = self.client.get("/login")
        url = "/login" + (f"?{urlencode({'next': next_})}" if next_ else "")
        return self.client.post(url, data={"email": email, "password": password,
                                           "csrf_token": csrf_token(page.text)})

    def logout(self):
        page = self.client.get("/")
        return self.client.post("/logout", data={"csrf_token": csrf_token(page.text)})

    def get(self, path: str = "/", **params):
        return self.client.get(path, query_string=params)


@pytest.fixture
def panel_app(Session, tmp_path):
    """The panel on the filter test data with the staff users (SQLite and PostgreSQL)."""
    add_staff(Session)
    app = make_panel(Session, tmp_path)
    yield app
    panel(app).close()


@pytest.fixture
def staff(panel_app) -> Staff:
    """A not-yet-logged-in `Staff` client of ``panel_app``."""
    return Staff(panel_app.test_client())


@pytest.fixture
def admin(staff) -> Staff:
    """`Staff` logged in as the admin."""
    assert staff.login(ADMIN).status_code == 302
    return staff


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Mark a test whose call failed (``item.failed``): the browser tests then save a screenshot."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.failed = True
