"""Configured mailboxes: ``ATENCION_IMAP_URL`` (one mailbox named "default") or a TOML file.

TOML (named by ``ATENCION_CONFIG``)::

    [[mailboxes]]
    name = "postventa"
    url = "imaps://postventa%40inmobiliaria-andina.pe:secreto@imap.example.pe/INBOX"
    addresses = ["postventa@inmobiliaria-andina.pe"]   # our own addresses (loop guard)
    processed_folder = "Procesados"                    # optional: move after processing
    type = "Atención"      # defaults of new tickets (optional)
    category = "General"
    area = "Postventa"
    project = "Residencial Los Olivos"

``url`` is ``imap://`` (plain, or STARTTLS with ``?starttls=1``) or ``imaps://`` (TLS), user and
password percent-encoded. Options after ``?``:

- ``starttls=1``: upgrade an ``imap://`` connection with STARTTLS (refused with ``imaps://``);
- ``auth=xoauth2``: log in with XOAUTH2; the password part of the URL is then the access token;
- ``cafile=/path/ca.pem``: trust only the CA certificates in this PEM file instead of the system
  ones (a private CA); only with ``imaps://`` or ``?starttls=1``.

The server certificate and host name are always verified: there is no option to turn that off,
and an unknown option (``?verify=0``, a typo) is refused rather than ignored. Example::

    url = "imaps://postventa:secreto@imap.interno.pe/INBOX?cafile=/etc/atencion/ca.pem"

``url`` may also be ``maildir:///path`` (a Maildir the poller owns, as the demo uses).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mail.inbound.ingest import MailboxRules
from mail.inbound.rules import RuleSettings
from mail.inbound.sources import ImapSource, ImapTarget, MaildirSource, SourceError
from tickets.services import TicketDefaults


class ConfigError(ValueError):
    """The mailbox configuration is wrong; the message names the mailbox and the field."""


@dataclass(frozen=True)
class MailboxConfig:
    """One mailbox: where to read it, our addresses there, and the defaults of its new tickets."""

    name: str
    url: str
    addresses: tuple[str, ...] = ()
    processed_folder: str | None = None
    type: str | None = None
    category: str | None = None
    area: str | None = None
    project: str | None = None
    extra: dict = field(default_factory=dict)

    def open_source(self):
        """Connect to the mailbox. Raises SourceError (one line) when it cannot."""
        scheme = urlsplit(self.url).scheme
        if scheme in {"imap", "imaps"}:
            return ImapSource(ImapTarget.from_url(self.url), processed_folder=self.processed_folder)
        if scheme == "maildir":
            parts = urlsplit(self.url)
            return MaildirSource(Path(unquote(parts.netloc + parts.path)))
        raise SourceError(f"buzón {self.name}: URL no soportada {scheme}://")

    def own_addresses(self, settings) -> frozenset[str]:
        """Exactly our addresses: this mailbox's, the login user's when it is an address, MAIL_FROM."""
        own = {a.lower() for a in self.addresses}
        own.add(settings.mail_from.lower())
        try:
            user = ImapTarget.from_url(self.url).user if self.url.startswith("imap") else ""
        except SourceError:
            user = ""
        if "@" in user:
            own.add(user.lower())
        return frozenset(own)

    def rules(self, settings) -> MailboxRules:
        """The ingest settings of this mailbox."""
        return MailboxRules(
            rules=RuleSettings(code_prefix=settings.code_prefix, mail_domain=mail_domain(settings),
                               own_addresses=self.own_addresses(settings),
                               max_attachments=settings.max_attachments, reopen_closed=settings.reopen_closed,
                               secret_key=settings.secret_key, trusted_authserv_id=settings.trusted_authserv_id),
            defaults=TicketDefaults(type=self.type, category=self.category, area=self.area,
                                    project=self.project),
            max_message_bytes=settings.max_message_kib * 1024,
        )


def load_mailboxes(settings) -> list[MailboxConfig]:
    """The configured mailboxes (TOML first, else ATENCION_IMAP_URL). Raises ConfigError."""
    if settings.config:
        path = Path(settings.config)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        out = []
        known = {f for f in MailboxConfig.__dataclass_fields__ if f != "extra"}
        entries = data.get("mailboxes", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ConfigError(f"{path}: 'mailboxes' debe ser una lista de tablas [[mailboxes]]")
        for i, entry in enumerate(entries):
            if "name" not in entry or "url" not in entry:
                raise ConfigError(f"{path}: mailboxes[{i}] necesita name y url")
            for key in known - {"addresses"}:
                value = entry.get(key)
                if value is not None and not (isinstance(value, str) and value.strip()):
                    raise ConfigError(f"{path}: mailboxes[{i}].{key} debe ser un texto no vacío")
            addresses = entry.get("addresses", [])
            if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
                raise ConfigError(f"{path}: mailboxes[{i}].addresses debe ser una lista de direcciones")
            extra = {k: v for k, v in entry.items() if k not in known}
            fields = {k: v for k, v in entry.items() if k in known}
            fields["addresses"] = tuple(addresses)
            out.append(MailboxConfig(**fields, extra=extra))
        seen: set[str] = set()
        for m in out:
            if m.name in seen:
                raise ConfigError(f"{path}: nombres de buzón repetidos: {m.name}")
            seen.add(m.name)
        return out
    if settings.imap_url:
        return [MailboxConfig(name="default", url=settings.imap_url)]
    return []


def mail_domain(settings) -> str | None:
    """The domain of our Message-IDs: MAIL_FROM's (`tickets.services.Context.from_settings`)."""
    return settings.mail_from.rpartition("@")[2].lower() or None


def import_rules(settings, name: str = "import") -> MailboxRules:
    """Rules for `atencion import` (files): own address is MAIL_FROM plus every mailbox's addresses."""
    own = {settings.mail_from.lower()}
    try:
        for mb in load_mailboxes(settings):
            own |= mb.own_addresses(settings)
    except ConfigError:
        pass
    return MailboxRules(
        rules=RuleSettings(code_prefix=settings.code_prefix, mail_domain=mail_domain(settings),
                           own_addresses=frozenset(own),
                           max_attachments=settings.max_attachments, reopen_closed=settings.reopen_closed,
                           secret_key=settings.secret_key, trusted_authserv_id=settings.trusted_authserv_id),
        defaults=TicketDefaults(), max_message_bytes=settings.max_message_kib * 1024)
