"""Shared fixtures. Keep this file small: helpers belong in tests/servers/ and tests/support.py."""

import pytest

from tests import servers

pytest_plugins = ("tests.support", "tests.cli_harness", "tests.panel_harness")

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


@pytest.fixture
def smtp():
    """A started SmtpServer (plain SMTP, no AUTH) for one test; ``smtp.url`` is smtp://127.0.0.1:PORT."""
    server = servers.obtain(lambda: servers.SmtpServer().start(), "SMTP (aiosmtpd)")
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server_url():
    """The session's Redis URL: the shared server's database 15 if it answers, else a ThrowawayRedis."""
    url = servers.shared_redis_url()
    if url is not None:
        yield url
        return
    server = servers.obtain(lambda: servers.ThrowawayRedis().start(), "Redis")
    yield server.url
    server.close()


@pytest.fixture
def redis_url(redis_server_url):
    """``redis_server_url``, its one database emptied (FLUSHDB) before and after the test."""
    servers.flush_redis_db(redis_server_url)
    yield redis_server_url
    servers.flush_redis_db(redis_server_url)


@pytest.fixture
def throwaway_redis():
    """A started ThrowawayRedis of this test's own (never the shared server): stop() it to kill Redis."""
    server = servers.obtain(lambda: servers.ThrowawayRedis().start(), "Redis (redis-server)")
    yield server
    server.close()
