"""Real servers for the tests: Dovecot (IMAP), PostgreSQL, SMTP, Redis, and the CA for TLS.

Helpers only; the fixtures live in conftest.py. Every helper raises ``ServerUnavailable`` when its
server cannot be had; ``obtain()`` turns that into a skip, except when the ``CI`` environment
variable is set, where it fails (see DESIGN.md, "Testing"). One module per concern:

- common.py: ServerUnavailable, in_ci, obtain, ports, processes, apt_install
- ca.py: the test certificate authority (trustme) and the PEM files a TLS server needs
- dovecot.py: Dovecot, a throwaway IMAP server, with imaplib helpers
- postgres.py: the local server probe, a throwaway cluster, fresh databases, drop
- smtp.py: SmtpServer (aiosmtpd) capturing every Delivery, with faults on demand
- redis.py: the shared Redis (database 15) probe and flush, ThrowawayRedis (its own redis-server)
"""

from tests.servers.ca import ServerCertificate, new_ca, write_ca_cert, write_server_certificate
from tests.servers.common import (
    ServerUnavailable,
    apt_install,
    free_port,
    in_ci,
    is_root,
    obtain,
    port_open,
    process_gone,
    wait_gone,
)
from tests.servers.dovecot import Dovecot
from tests.servers.postgres import (
    PostgresCluster,
    drop_database,
    find_local_postgres,
    fresh_postgres_database,
    postgres_admin_url,
    postgres_bindir,
    probe_postgres,
)
from tests.servers.redis import ThrowawayRedis, flush_redis_db, redis_db_index, redis_ping, shared_redis_url
from tests.servers.smtp import Delivery, SmtpServer

__all__ = [
    "Delivery",
    "Dovecot",
    "PostgresCluster",
    "ServerCertificate",
    "ServerUnavailable",
    "SmtpServer",
    "ThrowawayRedis",
    "apt_install",
    "drop_database",
    "find_local_postgres",
    "flush_redis_db",
    "free_port",
    "fresh_postgres_database",
    "in_ci",
    "is_root",
    "new_ca",
    "obtain",
    "port_open",
    "postgres_admin_url",
    "postgres_bindir",
    "probe_postgres",
    "process_gone",
    "redis_db_index",
    "redis_ping",
    "shared_redis_url",
    "wait_gone",
    "write_ca_cert",
    "write_server_certificate",
]
