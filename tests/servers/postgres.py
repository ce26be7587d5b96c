"""PostgreSQL for the tests: find a server, else start a throwaway cluster; fresh databases; drop.

Where the server comes from, in order (``postgres_admin_url``): ``ATENCION_TEST_DATABASE_URL``, the
local server at 127.0.0.1:5432 (database ``test``, trust auth), a throwaway cluster made with the
installed binaries (RECIPES.md, "PostgreSQL as root").
"""

from __future__ import annotations

import atexit
import getpass
import glob
import itertools
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from tests.servers.common import ServerUnavailable, free_port, is_root, port_open

LOCAL_PG_HOST = "127.0.0.1"
LOCAL_PG_PORT = 5432
LOCAL_PG_DATABASE = "test"
_admin_url: str | None = None
_cluster: PostgresCluster | None = None
_counter = itertools.count(1)


def _libpq_url(sqlalchemy_url: str) -> str:
    """'postgresql+psycopg://u@h:p/db' -> 'postgresql://u@h:p/db' (what psycopg.connect takes)."""
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _connect(sqlalchemy_url: str, timeout: int = 3):
    import psycopg

    return psycopg.connect(_libpq_url(sqlalchemy_url), autocommit=True, connect_timeout=timeout)


def probe_postgres(url: str, timeout: int = 3) -> bool:
    try:
        with _connect(url, timeout) as conn:
            conn.execute("select 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


def find_local_postgres(
    host: str = LOCAL_PG_HOST,
    port: int = LOCAL_PG_PORT,
    database: str = LOCAL_PG_DATABASE,
    users: Iterable[str] | None = None,
) -> str | None:
    """URL of a reachable local server (trust auth): the current user first, then postgres."""
    if not port_open(host, port, timeout=0.5):
        return None
    if users is None:
        users = dict.fromkeys([getpass.getuser(), "postgres"])
    for user in users:
        url = f"postgresql+psycopg://{quote(user, safe='')}@{host}:{port}/{database}"
        if probe_postgres(url):
            return url
    return None


def postgres_bindir() -> str | None:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    dirs = [d for d in dirs if os.path.exists(os.path.join(d, "initdb"))]
    if dirs:
        return dirs[-1]
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb in /tmp), as user postgres via runuser when root."""

    def __init__(self, bindir: str | None = None, host: str = "127.0.0.1", port: int | None = None):
        self.bindir = bindir
        self.host = host
        self.port = port
        self.base: Path | None = None
        self.running = False

    def _as_pg(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if is_root() else []

    def _run(self, *args: str) -> None:
        # output to a file, not a pipe: pg_ctl start leaves a daemon that would hold a pipe open
        with tempfile.TemporaryFile() as out:
            rc = subprocess.call(self._as_pg() + list(args), stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            if rc != 0:
                out.seek(0)
                msg = out.read().decode(errors="replace").strip()[-2000:]
                raise ServerUnavailable(f"{os.path.basename(args[0])} exited {rc}: {msg}")

    def start(self) -> PostgresCluster:
        bindir = self.bindir or postgres_bindir()
        if not bindir or not os.path.exists(os.path.join(bindir, "initdb")):
            raise ServerUnavailable(
                f"no PostgreSQL binaries (initdb) in {bindir or '/usr/lib/postgresql/*/bin'} "
                "(run `make test` as root, or `apt-get install postgresql`)"
            )
        self.bindir = bindir
        self.port = self.port or free_port(self.host)
        self.base = Path(tempfile.mkdtemp(prefix="atencion-pg-", dir="/tmp"))
        try:
            if is_root():
                shutil.chown(self.base, "postgres", "postgres")
            os.chmod(self.base, 0o755)
        except (LookupError, OSError) as exc:
            self._cleanup()
            raise ServerUnavailable(f"cannot prepare {self.base} for user postgres: {exc}") from exc
        data, log = self.base / "data", self.base / "log"
        try:
            self._run(f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C", "--no-sync")
            opts = (
                f"-p {self.port} -k {self.base} -c listen_addresses={self.host} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            atexit.register(self.stop)
            self._run(f"{bindir}/pg_ctl", "-D", str(data), "-l", str(log), "-w", "-o", opts, "start")
            self.running = True
        except (ServerUnavailable, OSError) as exc:
            tail = ""
            try:
                tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            except OSError:
                pass
            self.stop()
            raise ServerUnavailable(f"throwaway PostgreSQL cluster failed: {exc}{tail}") from exc
        return self

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/postgres"

    def stop(self) -> None:
        if self.base is not None and (self.base / "data" / "postmaster.pid").exists():
            subprocess.call(
                self._as_pg() + [f"{self.bindir}/pg_ctl", "-D", str(self.base / "data"), "-m", "fast", "-w", "stop"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        self.running = False
        self._cleanup()
        atexit.unregister(self.stop)

    def _cleanup(self) -> None:
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None


def postgres_admin_url() -> str:
    """An SQLAlchemy URL of a PostgreSQL server where we may CREATE DATABASE.

    1. ``ATENCION_TEST_DATABASE_URL`` when set;
    2. the local server 127.0.0.1:5432, database ``test``, trust auth (current user, then postgres);
    3. a throwaway cluster from the installed binaries (stopped at exit).
    The answer is cached for the process.
    """
    global _admin_url, _cluster
    if _admin_url is not None:
        return _admin_url
    env = os.environ.get("ATENCION_TEST_DATABASE_URL")
    if env:
        if not probe_postgres(env):
            raise ServerUnavailable(f"ATENCION_TEST_DATABASE_URL={env} does not answer")
        _admin_url = env
        return env
    local = find_local_postgres()
    if local:
        _admin_url = local
        return local
    _cluster = PostgresCluster().start()
    _admin_url = _cluster.url
    return _admin_url


def _create_database(conn, name: str) -> None:
    from psycopg import errors, sql

    ident = sql.Identifier(name)
    try:
        # template0: guaranteed empty, and never "being accessed by other users"
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(ident))
    except (errors.InvalidParameterValue, errors.FeatureNotSupported):
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'").format(ident)
        )


def fresh_postgres_database(admin_url: str | None = None) -> str:
    """Create a new, empty, uniquely named database; return its SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    admin_url = admin_url or postgres_admin_url()
    name = f"atencion_test_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:8]}"
    try:
        with _connect(admin_url) as conn:
            _create_database(conn, name)
    except ServerUnavailable:
        raise
    except Exception as exc:
        raise ServerUnavailable(f"cannot create a database on {admin_url}: {exc}") from exc
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database named in ``url`` (connections to it are terminated)."""
    from psycopg import sql
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if _admin_url:
        admin = postgres_admin_url()
    else:
        admin = target.set(database="postgres").render_as_string(hide_password=False)
    if make_url(admin).database == target.database:
        raise ValueError(f"refusing to drop the admin database {target.database!r}")
    with _connect(admin) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target.database)))
