"""The tests' certificate authority: a throwaway CA from ``trustme`` and the PEM files a server needs.

>>> files = write_server_certificate(Path("/tmp/x/tls"), hosts=("127.0.0.1", "localhost"))
>>> files.cert, files.key      # the server's ssl_cert / ssl_key (Dovecot: dovecot-tls.conf.in)
>>> ssl.create_default_context(cafile=files.ca_cert)   # what a client trusts
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.servers.common import ServerUnavailable


@dataclass(frozen=True)
class ServerCertificate:
    """PEM files: the CA's certificate, and the server certificate (chain) with its private key."""

    ca_cert: Path
    cert: Path
    key: Path


def new_ca(organization: str = "Atencion Test CA"):
    """A fresh ``trustme.CA`` (ECDSA P-256, in memory); ServerUnavailable when trustme is missing."""
    try:
        import trustme
    except ImportError as exc:
        raise ServerUnavailable("the trustme package is missing (pip install -r requirements.lock)") from exc
    return trustme.CA(organization_name=organization)


def write_ca_cert(ca, path: Path) -> Path:
    """Write the certificate of ``ca`` (a ``trustme.CA``) to ``path``: a client's cafile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(path)
    return path


def write_server_certificate(
    directory: Path, hosts: Iterable[str] = ("127.0.0.1", "localhost"), *, ca=None, name: str = "server"
) -> ServerCertificate:
    """A certificate for ``hosts`` (IP addresses or DNS names) signed by ``ca`` (default: a new one).

    Writes ``directory/ca.pem``, ``directory/{name}.pem`` (the certificate chain) and
    ``directory/{name}.key``.
    """
    ca = ca or new_ca()
    leaf = ca.issue_cert(*hosts)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(key)
    return ServerCertificate(write_ca_cert(ca, directory / "ca.pem"), cert, key)
