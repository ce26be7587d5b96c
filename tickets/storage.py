"""Content-addressed file store: ``<root>/<aa>/<sha256>`` (256 folders), written atomically.

Used for attachments, and for the raw bytes of an inbound message over the size limit (the others
are kept in their inbound record, in the same transaction: a file per message costs more than the
rest of the pipeline on some disks, bench/README.md). A file is written before the database
transaction that refers to it commits; an orphan left by a rollback is harmless (the same content
maps to the same name, so a retry reuses it).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NewFile:
    """A file to keep: sanitised filename, lower-case "type/subtype", its bytes; ``inline`` for an
    image a mail's HTML body shows by ``cid:`` (RFC 2392; ``content_id`` without <>) — kept to show
    the body, not one of the ticket's files. What the parser gives for each attachment
    (`mail.inbound.parse.Attachment`) and what the services store."""

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


def sha256_hex(data: bytes) -> str:
    """The lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def path_for(root: Path, digest: str) -> Path:
    """Where the file with this SHA-256 lives (it may not exist)."""
    return Path(root) / digest[:2] / digest


_tmp_names = itertools.count()


def store_bytes(root: Path, data: bytes) -> str:
    """Store ``data`` once and return its SHA-256 hex digest. Raises OSError on disk errors.

    Written to a temporary name in the target folder, then renamed (atomic on POSIX), so a
    crash never leaves a partial file under a content name. String paths and a per-process
    temporary name: this runs for every inbound message (bench/README.md).
    """
    digest = sha256_hex(data)
    folder = os.path.join(root, digest[:2])
    target = os.path.join(folder, digest)
    if os.path.exists(target):
        return digest
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{next(_tmp_names)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileNotFoundError:  # the first file of its folder
        os.makedirs(folder, exist_ok=True)
        fd = os.open(tmp, flags, 0o600)
    except FileExistsError:  # left by an earlier process with the same pid
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def store_file(root: Path, source: Path, chunk_bytes: int = 1 << 20) -> tuple[str, int]:
    """Store a file by streaming it (never whole in memory); returns (sha256 hex, size in bytes).

    Raises OSError when the source cannot be read or the store written.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".tmp-")
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            while chunk := src.read(chunk_bytes):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        target = path_for(root, digest.hexdigest())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def read_bytes(root: Path, digest: str) -> bytes:
    """The stored content. Raises FileNotFoundError when it is not there."""
    return path_for(root, digest).read_bytes()
