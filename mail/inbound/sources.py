"""Where inbound mail comes from: IMAP (imap-tools), a Maildir, an mbox, .eml files and folders.

Every source yields `Item`s (raw bytes plus where they came from) and is told `done(item)` after
the item's transaction committed: IMAP flags it \\Seen (and moves it to the processed folder when
one is configured), a Maildir moves it to cur/ with the S flag, files are left alone.
"""

from __future__ import annotations

import imaplib
import mailbox as stdlib_mailbox
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from mail.inbound.parse import parse_date


class SourceError(RuntimeError):
    """A source could not be read (bad URL, login refused, folder missing); message is one line."""


@dataclass(frozen=True)
class Item:
    """One message from a source. ``uid`` only for IMAP; ``received_at`` is UTC."""

    raw: bytes | None
    uid: int | None = None
    ref: str | None = None
    received_at: datetime | None = None
    path: Path | None = None  # set (raw None) for a file too large to read into memory
    size: int | None = None
    error: str | None = None  # set (raw None) when the item could not be read


class Source(Protocol):
    """A readable mailbox. `uidvalidity` is None for sources without UIDs."""

    uidvalidity: int | None

    def pending(self, after_uid: int) -> Iterator[Item]: ...
    def done(self, item: Item) -> None: ...
    def close(self) -> None: ...


def header_date(raw: bytes) -> datetime | None:
    """The Date header of a raw message as an aware UTC datetime, or None when it is missing,
    does not parse (`mail.inbound.parse.parse_date`) or is implausible as a receive time
    (before 1990, or more than two days ahead of now)."""
    m = re.search(rb"^Date:[ \t]*(.*(?:\r?\n[ \t].*)*)", raw[:65536], re.IGNORECASE | re.MULTILINE)
    if not m:
        return None
    dt = parse_date(m.group(1).decode("ascii", "replace"))
    if dt is None:
        return None
    try:
        dt = dt.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if dt.year < 1990 or dt > datetime.now(UTC) + timedelta(days=2):
        return None
    return dt


def internaldate(meta: bytes) -> datetime | None:
    """The INTERNALDATE of a FETCH response line as aware UTC (RFC 3501 date-time), or None."""
    m = re.search(rb'INTERNALDATE "([^"]+)"', meta)
    if not m:
        return None
    try:
        return datetime.strptime(m.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z").astimezone(UTC)
    except ValueError:
        return None


def file_time(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


# --- files ---------------------------------------------------------------------------------------


class FileSource:
    """.eml files, folders of .eml files (recursively), a Maildir or an mbox, in file-name order.

    The receive time of an imported file is its Date header when that parses (and is plausible),
    else the file's time. A file larger than ``max_bytes`` is not read into memory: its item has
    ``raw=None`` and ``path`` set, for the caller to hold it by streaming. A file that vanishes or
    cannot be read mid-import yields an item with ``error`` set; the import goes on.
    """

    uidvalidity = None

    def __init__(self, paths: list[Path], *, max_bytes: int | None = None):
        self.paths = [Path(p) for p in paths]
        self.max_bytes = max_bytes
        for p in self.paths:
            if not p.exists():
                raise SourceError(f"no existe: {p}")
            if not (p.is_dir() or p.is_file()):
                raise SourceError(f"no es un archivo ni una carpeta: {p}")

    def count(self) -> int:
        return sum(1 for _ in self._refs())

    def _refs(self) -> Iterator[tuple[str, Path, object, str | None]]:
        """(kind, path, opened mailbox or None, key) in import order."""
        for p in self.paths:
            if p.is_dir() and is_maildir(p):
                md = stdlib_mailbox.Maildir(p, factory=None, create=False)
                for key in sorted(md.keys(), key=lambda k, md=md: _maildir_name(md, k)):
                    yield ("maildir", p, md, key)
            elif p.is_dir():
                for f in sorted(x for x in p.rglob("*") if x.is_file() and not x.name.startswith(".")):
                    yield ("file", f, None, None)
            elif is_mbox(p):
                mb = stdlib_mailbox.mbox(p, factory=None, create=False)
                for key in mb.keys():
                    yield ("mbox", p, mb, key)
            else:
                yield ("file", p, None, None)

    def pending(self, after_uid: int = 0) -> Iterator[Item]:
        for kind, path, box, key in self._refs():
            ref = str(path) if kind == "file" else f"{path}#{key}"
            try:
                if kind == "file":
                    size = path.stat().st_size
                    if self.max_bytes is not None and size > self.max_bytes:
                        yield Item(None, ref=ref, received_at=file_time(path), path=path, size=size)
                        continue
                    raw = path.read_bytes()
                    when_file = path
                elif kind == "maildir":
                    raw = box.get_bytes(key)
                    when_file = Path(path) / box._lookup(key)  # noqa: SLF001 - the file's own time
                else:
                    raw = box.get_bytes(key)
                    when_file = path
                yield Item(raw, ref=ref, received_at=header_date(raw) or file_time(when_file))
            except (OSError, KeyError) as exc:  # vanished or unreadable: say so, go on
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "ya no existe"
                yield Item(None, ref=ref, error=f"{ref}: {reason}")

    def done(self, item: Item) -> None:
        return None

    def close(self) -> None:
        return None


def is_maildir(p: Path) -> bool:
    return (p / "cur").is_dir() and (p / "new").is_dir()


def is_mbox(p: Path) -> bool:
    """An mbox file: starts with a "From " envelope line and is not named as one message (.eml)."""
    if p.suffix.lower() in {".eml", ".msg"}:
        return False
    with open(p, "rb") as fh:
        return fh.read(5) == b"From "


def _maildir_name(md, key: str) -> str:
    return Path(md._lookup(key)).name  # noqa: SLF001


class MaildirSource:
    """A Maildir we own (the demo's inbox): unread messages, marked seen (moved to cur/, flag S)."""

    uidvalidity = None

    def __init__(self, path: Path):
        self.path = Path(path)
        self.md = stdlib_mailbox.Maildir(self.path, factory=None, create=True)

    def pending(self, after_uid: int = 0) -> Iterator[Item]:
        self.md = stdlib_mailbox.Maildir(self.path, factory=None, create=True)
        keys = []
        for key in self.md.keys():
            sub = self.md._lookup(key)  # noqa: SLF001
            if sub.startswith("new/") or "S" not in sub.rpartition(":2,")[2]:
                keys.append((Path(sub).name, key))
        for _name, key in sorted(keys):
            try:
                raw = self.md.get_bytes(key)
            except KeyError:
                continue
            fpath = self.path / self.md._lookup(key)  # noqa: SLF001
            yield Item(raw, ref=f"{self.path}#{key}", received_at=file_time(fpath))

    def done(self, item: Item) -> None:
        key = item.ref.rpartition("#")[2]
        try:
            msg = self.md.get_message(key)
        except KeyError:
            return
        msg.set_subdir("cur")
        msg.add_flag("S")
        self.md[key] = msg

    def close(self) -> None:
        return None


# --- IMAP ----------------------------------------------------------------------------------------


#: The query options an IMAP URL may carry; anything else is refused (a typo must not silently
#: turn STARTTLS off, and there is deliberately no option to skip certificate verification).
IMAP_URL_OPTIONS = ("starttls", "auth", "cafile")
_YES, _NO = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ImapTarget:
    """A parsed ``imap://`` / ``imaps://`` URL: host, port, user, password, folder, security, auth.

    ``cafile``: a PEM file of CA certificates trusted *instead of* the system ones (a private CA);
    only with TLS or STARTTLS. The certificate and the host name are always verified.
    """

    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    security: str = "plain"  # plain | starttls | tls
    auth: str = "password"  # password | xoauth2 (the password is then the access token)
    cafile: str | None = None

    @classmethod
    def from_url(cls, url: str) -> ImapTarget:
        """Parse ``imap://user:pass@host:port/INBOX?starttls=1&auth=xoauth2&cafile=/path/ca.pem``.

        Raises SourceError with a one-line message for anything else (unknown options included).
        """
        parts = urlsplit(url)
        if parts.scheme not in {"imap", "imaps"}:
            raise SourceError(f"URL IMAP no válida (use imap:// o imaps://): {parts.scheme}://…")
        try:
            host, port = parts.hostname, parts.port
        except ValueError as exc:  # port out of range or not a number
            raise SourceError(f"URL IMAP: puerto no válido ({exc})") from exc
        if not host:
            raise SourceError("URL IMAP sin servidor")
        q = {k.lower(): v[-1].strip() for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        for key in q:
            if key not in IMAP_URL_OPTIONS:
                if "verify" in key or "insecure" in key or "check" in key:
                    raise SourceError(f"URL IMAP: ?{key}= no se admite: el certificado siempre se verifica "
                                      "(para una CA propia use ?cafile=/ruta/ca.pem)")
                raise SourceError(f"URL IMAP: opción desconocida ?{key}= "
                                  f"(se admiten: {', '.join(IMAP_URL_OPTIONS)})")
        starttls = q.get("starttls", "0").lower()
        if starttls not in _YES | _NO:
            raise SourceError(f"URL IMAP: starttls={starttls} no válido (use 1 o 0)")
        if parts.scheme == "imaps" and starttls in _YES:
            raise SourceError("URL IMAP: imaps:// ya es TLS; starttls=1 es para imap://")
        security = "tls" if parts.scheme == "imaps" else ("starttls" if starttls in _YES else "plain")
        auth = q.get("auth", "password").lower() or "password"
        if auth not in {"password", "xoauth2"}:
            raise SourceError(f"URL IMAP: auth={auth} no válido (use password o xoauth2)")
        cafile = q.get("cafile")
        if cafile is not None:
            if not cafile:
                raise SourceError("URL IMAP: cafile vacío")
            if security == "plain":
                raise SourceError("URL IMAP: cafile requiere imaps:// o ?starttls=1")
        port = port or (993 if security == "tls" else 143)
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        return cls(host=host, port=port, user=unquote(parts.username or ""),
                   password=unquote(parts.password or ""), folder=folder, security=security,
                   auth=auth, cafile=cafile or None)

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying client context: the system CAs, or only ``cafile`` when given."""
        try:
            return ssl.create_default_context(cafile=self.cafile)
        except ssl.SSLError as exc:
            raise SourceError(f"cafile {self.cafile}: no contiene certificados PEM válidos "
                              f"({exc.reason or exc})") from exc
        except OSError as exc:
            raise SourceError(f"cafile {self.cafile}: {exc.strerror or exc}") from exc


class ImapSource:
    """An IMAP folder read with imap-tools: UIDs above the checkpoint, raw bytes + INTERNALDATE."""

    def __init__(self, target: ImapTarget, processed_folder: str | None = None, timeout_s: float = 60):
        from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

        self.target = target
        self.processed_folder = processed_folder
        context = target.ssl_context() if target.security != "plain" else None
        try:
            if target.security == "tls":
                self.box = MailBox(target.host, target.port, timeout=timeout_s, ssl_context=context)
            elif target.security == "starttls":
                self.box = MailBoxStartTls(target.host, target.port, timeout=timeout_s,
                                           ssl_context=context)
            else:
                self.box = MailBoxUnencrypted(target.host, target.port, timeout=timeout_s)
            if target.auth == "xoauth2":
                self.box.xoauth2(target.user, target.password, initial_folder=target.folder)
            else:
                self.box.login(target.user, target.password, initial_folder=target.folder)
        except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
            raise SourceError(f"IMAP {target.host}:{target.port}: {exc}".splitlines()[0]) from exc
        except Exception as exc:  # imap-tools raises its own error classes on login/select
            raise SourceError(f"IMAP {target.host}:{target.port}: {exc}".splitlines()[0]) from exc
        status = self.box.folder.status(target.folder, ["UIDVALIDITY"])
        self.uidvalidity = int(status["UIDVALIDITY"])
        if processed_folder and not self.box.folder.exists(processed_folder):
            self.box.folder.create(processed_folder)

    def pending(self, after_uid: int, batch: int = 50) -> Iterator[Item]:
        """Messages with UID > ``after_uid``, oldest first, fetched ``batch`` at a time."""
        from imap_tools import AND, U

        uids = [int(u) for u in self.box.uids(AND(uid=U(after_uid + 1, "*")))]
        uids = sorted(u for u in uids if u > after_uid)  # "N:*" always matches the last message
        for i in range(0, len(uids), batch):
            chunk = uids[i:i + batch]
            yield from self._fetch(chunk)

    def _fetch(self, uids: list[int]) -> Iterator[Item]:
        typ, data = self.box.client.uid("FETCH", ",".join(map(str, uids)), "(UID INTERNALDATE BODY.PEEK[])")
        if typ != "OK":
            raise SourceError(f"IMAP FETCH falló: {typ}")
        found: dict[int, Item] = {}
        for part in data:
            if not isinstance(part, tuple):
                continue
            meta, raw = part[0], part[1]
            m = re.search(rb"UID (\d+)", meta)
            if not m:
                continue
            uid = int(m.group(1))
            received = internaldate(meta)
            found[uid] = Item(raw, uid=uid, ref=f"{self.target.folder}/{uid}", received_at=received)
        for uid in uids:
            if uid in found:
                yield found[uid]

    def done(self, item: Item) -> None:
        """Flag \\Seen, then move to the processed folder when configured (after the commit)."""
        self.box.flag(str(item.uid), "\\Seen", True)
        if self.processed_folder:
            self.box.move(str(item.uid), self.processed_folder)

    def close(self) -> None:
        try:
            self.box.logout()
        except Exception:  # already closed or broken connection: nothing left to release
            pass
