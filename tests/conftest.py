"""Shared fixtures. Keep this file small: helpers belong in tests/servers/ and tests/support.py."""

import pytest

from tests import servers

pytest_plugins = ("tests.support", "tests.cli_harness")

DOVECOT_USERS = {"alice": "secret", "postventa": "secret"}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a slow test (deselect with -m 'not slow')"
    )


@pytest.fixture(scope="session")
def dovecot():
    """A Dovecot IMAP server for the whole session (users alice/secret and postventa/secret)."""
    server = servers.obtain(lambda: servers.Dovecot(DOVECOT_USERS).start(), "Dovecot")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """SQLAlchemy URL of a fresh, empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'atencion.db'}"
        return
    url = servers.obtain(servers.fresh_postgres_database, "PostgreSQL")
    yield url
    servers.drop_database(url)
