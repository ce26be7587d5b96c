"""The Redis test servers (tests/servers/redis.py): a throwaway redis-server, and the shared database 15."""

import pytest
import redis

from tests import servers


def client(url):
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)


def test_throwaway_redis_dies_and_comes_back_on_the_same_port(throwaway_redis):
    r = client(throwaway_redis.url)
    assert r.ping()
    assert r.config_get("save") == {"save": ""} and r.config_get("appendonly") == {"appendonly": "no"}
    r.set("k", "v")
    port, pid = throwaway_redis.port, throwaway_redis.pid

    throwaway_redis.stop()
    assert servers.process_gone(pid) and not throwaway_redis.running
    with pytest.raises(redis.ConnectionError):
        r.ping()
    assert not servers.redis_ping(throwaway_redis.url)
    throwaway_redis.stop()  # idempotent

    assert throwaway_redis.restart() is throwaway_redis
    assert throwaway_redis.port == port and throwaway_redis.pid != pid
    assert r.ping()  # the same client reconnects
    assert r.get("k") is None  # no persistence
    assert throwaway_redis.url == f"redis://127.0.0.1:{port}/0"
    r.close()


def test_flush_redis_db_flushes_only_its_database(throwaway_redis):
    db0 = f"redis://127.0.0.1:{throwaway_redis.port}/0"
    db15 = f"redis://127.0.0.1:{throwaway_redis.port}/15"
    client(db0).set("keep", "1")
    client(db15).set("drop", "1")
    assert servers.redis_db_index(db15) == 15 and servers.redis_db_index(f"redis://h:{1}") == 0
    servers.flush_redis_db(db15)
    assert client(db15).dbsize() == 0
    assert client(db0).get("keep") == b"1"


def test_redis_url_is_database_15_of_the_shared_server_and_empty(redis_url):
    shared = servers.shared_redis_url()
    if shared is not None:
        assert redis_url == shared
        if shared == servers.redis.DEFAULT_TEST_REDIS_URL:
            assert servers.redis_db_index(redis_url) == 15
    r = client(redis_url)
    assert r.dbsize() == 0
    r.set("atencion:test", "1")
    r.close()


def test_redis_url_was_flushed_after_the_previous_test(redis_url):
    assert client(redis_url).get("atencion:test") is None


def test_missing_redis(monkeypatch):
    with pytest.raises(servers.ServerUnavailable, match="not found"):
        servers.ThrowawayRedis(binary="/nonexistent/redis-server").start()
    monkeypatch.setenv("ATENCION_TEST_REDIS_URL", f"redis://127.0.0.1:{servers.free_port()}/15")
    assert servers.shared_redis_url() is None
    monkeypatch.setenv("CI", "true")
    with pytest.raises(servers.ServerUnavailable):
        servers.obtain(lambda: servers.ThrowawayRedis(binary="/nonexistent/redis-server").start(), "Redis")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="Redis unavailable"):
        servers.obtain(lambda: servers.ThrowawayRedis(binary="/nonexistent/redis-server").start(), "Redis")
