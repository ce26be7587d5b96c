"""The tests' certificate authority: a throwaway CA and the server certificates it signs."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.servers.common import ServerUnavailable


class TestCA:
    """A throwaway certificate authority (EC P-256, valid two days) and the certificates it signs.

    Made with the ``cryptography`` package when it is importable, else with the ``openssl``
    command line.

    >>> ca = TestCA(Path("/tmp/x"), "Atención Test CA")
    >>> cert, key = ca.issue("server", hosts=("127.0.0.1", "localhost"))
    >>> ssl.create_default_context(cafile=ca.cert)
    """

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path, name: str = "Atencion Test CA") -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.cert = self.dir / "ca.pem"
        self.key = self.dir / "ca.key"
        try:
            import cryptography  # noqa: F401

            self.backend = "cryptography"
        except ImportError as exc:
            if not shutil.which("openssl"):
                raise ServerUnavailable("neither the cryptography package nor the openssl command") from exc
            self.backend = "openssl"
        if self.backend == "cryptography":
            self._crypto_ca()
        else:
            self._openssl_ca()

    def issue(self, name: str, hosts: Iterable[str] = ("127.0.0.1", "localhost")) -> tuple[Path, Path]:
        """A server certificate for ``hosts`` (IP addresses or DNS names): (cert.pem, key.pem)."""
        hosts = list(hosts)
        cert, key = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        if self.backend == "cryptography":
            self._crypto_issue(hosts, cert, key)
        else:
            self._openssl_issue(hosts, cert, key)
        return cert, key

    # -- openssl command line

    @staticmethod
    def _openssl(*args: str) -> None:
        proc = subprocess.run(["openssl", *args], check=False, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            raise ServerUnavailable(f"openssl {args[0]} failed: {proc.stderr.strip()[-500:]}")

    def _openssl_ca(self) -> None:
        self._openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "2", "-subj", f"/CN={self.name}", "-utf8", "-keyout", str(self.key), "-out", str(self.cert),
            "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )

    def _openssl_issue(self, hosts: list[str], cert: Path, key: Path) -> None:
        csr, ext = cert.with_suffix(".csr"), cert.with_suffix(".ext")
        san = ",".join(f"IP:{h}" if _is_ip(h) else f"DNS:{h}" for h in hosts)
        ext.write_text(
            f"subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        )
        self._openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-subj", f"/CN={hosts[0]}", "-keyout", str(key), "-out", str(csr))
        self._openssl("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
                      "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "2",
                      "-extfile", str(ext), "-out", str(cert))

    # -- cryptography package

    def _crypto_ca(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        now = _utcnow()
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _one_hour()).not_valid_after(now + 2 * _one_day())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        self.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def _crypto_issue(self, hosts: list[str], cert_path: Path, key_path: Path) -> None:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        ca_key = serialization.load_pem_private_key(self.key.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(self.cert.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.IPAddress(ipaddress.ip_address(h)) if _is_ip(h) else x509.DNSName(h) for h in hosts]
        now = _utcnow()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _one_hour()).not_valid_after(now + 2 * _one_day())
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=True, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _one_hour() -> timedelta:
    return timedelta(hours=1)


def _one_day() -> timedelta:
    return timedelta(days=1)
