"""Redis for the tests: the machine's shared server (database 15 only), or a throwaway redis-server.

>>> shared_redis_url()          # 'redis://127.0.0.1:6379/15' when it answers PING, else None
>>> r = ThrowawayRedis().start()
>>> r.url                       # 'redis://127.0.0.1:PORT/0'
>>> r.stop(); r.start()         # Redis dies (SIGKILL), then comes back empty on the same port
>>> r.close()                   # stop and delete its directory

The shared server is shared: only ever FLUSHDB the database its URL names (``flush_redis_db``),
never FLUSHALL. The recipe is RECIPES.md, "Redis".
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.servers.common import ServerUnavailable, apt_install, free_port, is_root, wait_gone

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_ping(url: str, timeout: float = 0.5) -> bool:
    """True when the server at ``url`` (``redis://host:port/db``, no password) answers PING."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_db_index(url: str) -> int:
    """The database number in ``url``'s path (``redis://h:p/15`` -> 15; none -> 0)."""
    path = urlsplit(url).path.strip("/")
    return int(path) if path else 0


def shared_redis_url() -> str | None:
    """``ATENCION_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/15) when it answers PING, else None."""
    url = os.environ.get("ATENCION_TEST_REDIS_URL") or DEFAULT_TEST_REDIS_URL
    if redis_ping(url) or _redis_py_ping(url):
        return url
    return None


def _redis_py_ping(url: str) -> bool:
    """PING with redis-py (a server with a password or TLS); False when anything fails."""
    try:
        import redis
    except ImportError:
        return False
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


def flush_redis_db(url: str) -> None:
    """FLUSHDB on the one database ``url`` names (never FLUSHALL: the server may be shared)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


class ThrowawayRedis:
    """A redis-server of our own: no persistence, a free loopback port, its own temp directory.

    ``stop()`` kills it with SIGKILL (Redis dying); ``start()`` again uses the same port and
    comes back empty. Runs as root as well. ``db`` is the database number in ``url``.
    """

    DEFAULT_BINARY = "redis-server"

    def __init__(self, *, binary: str = DEFAULT_BINARY, host: str = "127.0.0.1", port: int | None = None,
                 db: int = 0, install: bool | None = None) -> None:
        self.binary = binary
        self.host = host
        self.port = port
        self.db = db
        self.install = (binary == self.DEFAULT_BINARY and is_root()) if install is None else install
        self.dir: Path | None = None
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        """The redis-server's process id while started, else None."""
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        """True while the redis-server process is alive."""
        return self.process is not None and self.process.poll() is None

    @property
    def url(self) -> str:
        """``redis://HOST:PORT/DB``."""
        if self.port is None:
            raise RuntimeError("ThrowawayRedis has no port yet: start() it first")
        return f"redis://{self.host}:{self.port}/{self.db}"

    def _find_binary(self) -> str:
        found = shutil.which(self.binary)
        if not found and self.install:
            apt_install("redis-server")
            found = shutil.which(self.binary)
        if not found:
            hint = "run `make test` as root, or `apt-get install redis-server`"
            raise ServerUnavailable(f"Redis binary {self.binary!r} not found ({hint})")
        return found

    def start(self, timeout: float = 10.0) -> ThrowawayRedis:
        """Start redis-server and wait until it answers PING; return self. Idempotent."""
        if self.running:
            return self
        binary = self._find_binary()
        self.port = self.port or free_port(self.host)
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="atencion-redis-", dir="/tmp"))
            atexit.register(self.close)
        log = self.dir / "redis.log"
        args = [binary, "--port", str(self.port), "--bind", self.host, "--save", "", "--appendonly", "no",
                "--dir", str(self.dir), "--daemonize", "no", "--logfile", str(log)]
        try:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        except OSError as exc:
            raise ServerUnavailable(f"cannot run {binary}: {exc}") from exc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if redis_ping(self.url, timeout=0.2):
                return self
            time.sleep(0.01)
        tail = self.log_tail()
        self.stop()
        raise ServerUnavailable(f"redis-server did not answer on {self.host}:{self.port}\n{tail}")

    def stop(self) -> None:
        """SIGKILL the server and wait for it to exit (its data is gone). Idempotent."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            wait_gone(process.pid, 5)

    def restart(self) -> ThrowawayRedis:
        """``stop()`` then ``start()`` on the same port."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """``stop()`` and delete the server's directory."""
        self.stop()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        atexit.unregister(self.close)

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the server's log ('' when there is none)."""
        try:
            return "\n".join((self.dir / "redis.log").read_text(errors="replace").splitlines()[-lines:])
        except (OSError, TypeError):
            return ""

    def __enter__(self) -> ThrowawayRedis:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
