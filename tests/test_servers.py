"""The test servers themselves work (and fail loudly under CI when missing)."""

import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from imap_tools import AND, MailBoxUnencrypted

from tests import servers

RAW = (
    "From: Ana <ana@example.com>\r\n"
    "To: postventa@example.com\r\n"
    "Subject: Filtración en el baño\r\n"
    "Message-ID: <test-servers-1@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Hay una filtración en el baño del depto 302.\r\n"
).encode()


def test_dovecot_append_and_read_back(dovecot):
    uid = dovecot.append("postventa", RAW, flags=["\\Flagged"])
    assert uid in dovecot.uids("postventa")
    assert "\\Flagged" in dovecot.flags("postventa", uid)
    assert "\\Seen" not in dovecot.flags("postventa", uid)

    with MailBoxUnencrypted(dovecot.host, dovecot.port).login(
        "postventa", "secret", initial_folder="INBOX"
    ) as mb:
        msg = next(mb.fetch(AND(uid=str(uid)), mark_seen=False))
        assert msg.subject == "Filtración en el baño"
        assert "depto 302" in msg.text
        mb.flag(msg.uid, "\\Seen", True)
    assert "\\Seen" in dovecot.flags("postventa", uid)

    dovecot.create_folder("postventa", "Procesados")
    uid2 = dovecot.append("postventa", RAW, folder="Procesados")
    assert dovecot.uids("postventa", "Procesados") == [uid2]

    url = urlsplit(dovecot.url("alice", "secret"))
    assert (
        url.scheme,
        url.username,
        url.password,
        url.hostname,
        url.port,
        url.path,
    ) == ("imap", "alice", "secret", "127.0.0.1", dovecot.port, "/INBOX")
    dovecot.clear("postventa")
    assert dovecot.uids("postventa") == []
    assert dovecot.folders("postventa") == ["INBOX"]


def test_dovecot_stop_waits_for_the_master():
    d = servers.obtain(lambda: servers.Dovecot({"bob": "pw"}).start(), "Dovecot")
    pid, port, directory = d.pid, d.port, d.dir
    assert d.append("bob", RAW) == 1
    d.stop()
    assert servers.process_gone(pid)
    assert not servers.port_open("127.0.0.1", port)
    assert not directory.exists()
    d.stop()  # idempotent


def test_database_url_is_fresh_and_empty(database_url):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar() == 1
        assert sa.inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(sa.text("create table t (x integer)"))
    finally:
        engine.dispose()


def test_fresh_postgres_databases_are_distinct_quick_and_dropped():
    admin = servers.obtain(servers.postgres_admin_url, "PostgreSQL")
    urls, times = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        urls.append(servers.fresh_postgres_database(admin))
        times.append(time.perf_counter() - t0)
    assert len(set(urls)) == 5
    print(
        f"CREATE DATABASE: max {max(times):.3f} s, mean {sum(times) / len(times):.3f} s"
    )
    assert sum(times) / len(times) < 1.0
    engine = sa.create_engine(urls[0])
    with engine.connect() as conn:  # an open connection must not block the drop
        for url in urls:
            servers.drop_database(url)
    engine.dispose()
    check = sa.create_engine(admin)
    with check.connect() as conn:
        names = [sa.engine.make_url(u).database for u in urls]
        left = conn.execute(
            sa.text("select count(*) from pg_database where datname = any(:n)"),
            {"n": names},
        )
        assert left.scalar() == 0
    check.dispose()


# ---------------------------------------------------------------- missing servers


def missing_dovecot():
    return servers.Dovecot({"x": "y"}, binary="/nonexistent/dovecot").start()


def missing_postgres():
    port = servers.free_port()
    return servers.fresh_postgres_database(
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    )


@pytest.mark.parametrize(
    "factory", [missing_dovecot, missing_postgres], ids=["dovecot", "postgresql"]
)
def test_missing_server_fails_under_ci(monkeypatch, factory):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(servers.ServerUnavailable):
        servers.obtain(factory, "server")


@pytest.mark.parametrize(
    "factory", [missing_dovecot, missing_postgres], ids=["dovecot", "postgresql"]
)
def test_missing_server_skips_outside_ci(monkeypatch, factory):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="unavailable"):
        servers.obtain(factory, "server")


def test_missing_postgres_binaries_and_dead_env_url(monkeypatch):
    with pytest.raises(servers.ServerUnavailable, match="initdb"):
        servers.PostgresCluster(bindir="/nonexistent/bin").start()
    assert servers.find_local_postgres(port=servers.free_port()) is None
    monkeypatch.setattr(servers.postgres, "_admin_url", None)
    monkeypatch.setenv(
        "ATENCION_TEST_DATABASE_URL",
        f"postgresql+psycopg://postgres@127.0.0.1:{servers.free_port()}/x",
    )
    with pytest.raises(servers.ServerUnavailable, match="does not answer"):
        servers.postgres_admin_url()


@pytest.mark.slow
def test_throwaway_cluster_from_installed_binaries():
    cluster = servers.obtain(
        lambda: servers.PostgresCluster().start(), "PostgreSQL binaries"
    )
    try:
        url = servers.fresh_postgres_database(cluster.url)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar() == 1
        engine.dispose()
    finally:
        base = cluster.base
        cluster.stop()
    assert not base.exists()
