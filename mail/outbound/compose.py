"""Build the email of one outbox row (DESIGN, "Outbound mail and workers").

Bodies come from ``templates/email/<event>.txt`` and ``.html`` (Jinja2; the HTML autoescaped),
each template setting ``mail_subject``; the subject gets the ticket's code in brackets. Headers:
our Message-ID (the row's, shared by its copies), In-Reply-To and References that keep the
client's thread (RFC 5322 §3.6.4: their first Message-ID, ours since, their latest), Reply-To the
mailbox (staff: the plus-address with their reply token), ``Auto-Submitted: auto-generated`` on
automatic mail (RFC 3834), Date in the configured zone. Anything a client could have written
(subject, names) is made header-safe: line breaks and control characters become spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formataddr
from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mail.outbound.calendar import CALENDAR_EVENTS, add_calendar, build_calendar
from tickets import storage
from tickets.models import Attachment, InboundMessage, LogbookEntry, OutboxMessage, User
from tickets.outbox import CLIENT_EVENTS
from tickets.queries import ticket_row
from tickets.reply_tokens import reply_address, token_for
from tickets.text_match import fold_for_match

#: The most Message-IDs kept in References (the first, then the newest).
MAX_REFERENCES = 20
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
#: Invisible format characters a client could use to disguise a subject: bidi overrides and
#: isolates (U+202A–202E, U+2066–2069), zero-width characters, the BOM.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


#: Headers whose values repeat from mail to mail (our From and Reply-To, the MIME headers of the
#: two bodies, the fixed markers): `POLICY` parses each distinct value once per process.
REPEATING_HEADERS = frozenset({"from", "reply-to", "auto-submitted", "x-auto-response-suppress",
                               "mime-version", "content-type", "content-transfer-encoding"})


class _Policy(EmailPolicy):
    """``email.policy.default``, except that a header of `REPEATING_HEADERS` set from text reuses
    the header object parsed earlier from the same text (header objects are immutable). Parsing
    headers was ~15% of a worker's time a mail (bench/README.md, "Outbound")."""

    def header_store_parse(self, name, value):
        if type(value) is str and name.lower() in REPEATING_HEADERS:
            return name, _parsed_header(name, value)
        return super().header_store_parse(name, value)


@lru_cache(maxsize=512)
def _parsed_header(name: str, value: str):
    return EmailPolicy.header_store_parse(POLICY, name, value)[1]


#: The policy of the mail we compose (same output as ``email.policy.default``).
POLICY = _Policy()


class ComposeError(ValueError):
    """The row cannot become a mail (unknown event, missing ticket): a permanent failure."""


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of ``templates/email`` (HTML autoescaped; a missing name renders
    empty rather than failing the mail). Filter ``fecha``: a datetime or ISO text as dd/mm/aaaa."""
    env = Environment(loader=PackageLoader("templates", "email"), autoescape=select_autoescape(["html"]),
                      undefined=ChainableUndefined, auto_reload=False, keep_trailing_newline=True)
    env.filters["fecha"] = _fecha
    return env


def _fecha(value) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%d/%m/%Y") if value else ""


def header_safe(text: str | None, limit: int = 200) -> str:
    """One line of at most ``limit`` characters: CR, LF and other controls become one space;
    bidi and zero-width characters are dropped (a subject shown reversed or disguised)."""
    return _UNSAFE.sub(" ", _INVISIBLE.sub("", text or "")).strip()[:limit]


@dataclass(frozen=True)
class Thread:
    """Message-IDs (without <>) of a ticket's mail: ``first_client`` the client's first message,
    ``latest_client`` their newest, ``ours`` our earlier mail on the thread, oldest first."""

    first_client: str | None
    latest_client: str | None
    ours: tuple[str, ...]

    def references(self, own_id: str) -> list[str]:
        """References for a new message of ours: first client id, ours, latest client id."""
        ids = [i for i in (self.first_client, *self.ours, self.latest_client) if i and i != own_id]
        ids = list(dict.fromkeys(i for i in ids if i.isascii()))  # a non-ASCII id cannot be a header token
        if len(ids) > MAX_REFERENCES:
            ids = ids[:1] + ids[-(MAX_REFERENCES - 1):]
        return ids


# prebuilt: building a select() costs more Python than running it, and these run for every mail
#: the client's side of the thread: staff's own replies (internal comments) are not named in
#: mail to the client
_CLIENT_IDS = (select(InboundMessage.message_id)
               .where(InboundMessage.ticket_id == bindparam("tid"), InboundMessage.message_id.is_not(None),
                      InboundMessage.outcome.in_(("ticket", "comment")),
                      InboundMessage.from_addr.not_in(select(User.email).scalar_subquery()))
               .order_by(InboundMessage.id))
_OUR_IDS = (select(OutboxMessage.message_id)
            .where(OutboxMessage.ticket_id == bindparam("tid"), OutboxMessage.id < bindparam("before"),
                   OutboxMessage.event.in_(CLIENT_EVENTS))
            .order_by(OutboxMessage.id))
_ATTACHMENTS = (select(Attachment).where(Attachment.entry_id == bindparam("eid"), Attachment.inline.is_(False))
                .order_by(Attachment.id))
_USER_ID = select(User.id).where(User.email == bindparam("email"))
#: Events whose mail carries the files of its logbook entry (``context["entry_id"]``): a public
#: staff reply's attachments, a generated document's PDF.
ATTACHING_EVENTS = frozenset({"public_reply", "document"})


def thread_of(session: Session, row: OutboxMessage) -> Thread:
    """The thread a row's mail joins: the ticket's client messages and our earlier client mail."""
    if row.ticket_id is None:
        return Thread(None, None, ())
    inbound = list(session.scalars(_CLIENT_IDS, {"tid": row.ticket_id}))
    ours = list(dict.fromkeys(session.scalars(_OUR_IDS, {"tid": row.ticket_id, "before": row.id})))
    return Thread(inbound[0] if inbound else None, inbound[-1] if inbound else None, tuple(ours))


_GREETING = re.compile(
    r"\s*(estimad[oa]s?|senor(a|es|as)?|sr\.?|sra\.?|srta\.?|sres\.?|hola|buen(os|as)\s+(dias|tardes|noches)"
    r"|querid[oa]s?|distinguid[oa]s?|apreciad[oa]s?)\b")


def opens_with_greeting(text: str) -> bool:
    """Whether a staff member's text starts with a greeting ("Estimada Sra. Quispe,", "Hola Rosa",
    "Buenos días"), ignoring case and accents: the client's mail then carries it alone, not after
    ours ("Estimado(a) Rosa Quispe:" followed by "Estimada Sra. Quispe," read as a doubled greeting)."""
    return bool(_GREETING.match(fold_for_match(text)))


def facts(session: Session, settings, row: OutboxMessage) -> dict:
    """What the templates may use: the row's context plus the ticket as listed (code, subject,
    status, project, subdivision, unit, requester, assignee, elapsed days, alert), the comment
    text of ``context["entry_id"]``, the team's name. Dates are local to the configured zone."""
    data = {"team_name": settings.mail_from_name, "ticket": None, "comment": None}
    data.update(row.context or {})
    code = data.get("code")
    if code:
        data["ticket"] = ticket_row(session, code, tz=settings.timezone)
    if data.get("entry_id"):
        entry = session.get(LogbookEntry, data["entry_id"])
        data["comment"] = entry.text if entry else None
        data["greeted"] = opens_with_greeting(data["comment"] or "")  # then the template greets not
        # signed by the staff member who wrote it; an operator's label ("operador (CLI)") is no name
        data["author_name"] = entry.author_user.name if entry and entry.author_user else None
    return data


def _attachments(session: Session, row: OutboxMessage) -> list[Attachment]:
    entry_id = (row.context or {}).get("entry_id")
    if row.event not in ATTACHING_EVENTS or not entry_id:
        return []
    return list(session.scalars(_ATTACHMENTS, {"eid": entry_id}))


def compose(session: Session, settings, row: OutboxMessage, *, now: datetime | None = None) -> EmailMessage:
    """The email of ``row`` (its To/Cc headers; the envelope recipient is ``row.recipient``).

    Raises ComposeError when the event has no template or the templates fail.
    """
    env = environment()
    data = facts(session, settings, row)
    try:
        text_t = env.get_template(f"{row.event}.txt")
        html_t = env.get_template(f"{row.event}.html")
        module = text_t.make_module(data)  # rendered once: its text, and the subject it sets
        text = str(module)
        subject = getattr(module, "mail_subject", "") or row.event
        html = html_t.render(data)
    except Exception as exc:  # TemplateNotFound, UndefinedError, …: this row can never be sent
        raise ComposeError(f"plantilla {row.event}: {exc}") from exc
    msg = EmailMessage(policy=POLICY)
    msg["From"] = formataddr((header_safe(settings.mail_from_name), settings.mail_from))
    msg["To"] = ", ".join(row.to_addrs)
    if row.cc_addrs:
        msg["Cc"] = ", ".join(row.cc_addrs)
    code = data.get("code")
    subject = header_safe(subject, 400)
    set_subject(msg, f"[{code}] {subject}" if code and f"[{code}]" not in subject else subject)
    msg["Message-ID"] = f"<{row.message_id}>"
    # a datetime, not its text: the Date header then skips parsing what we just formatted
    msg["Date"] = (now or datetime.now(ZoneInfo(settings.timezone))).astimezone(ZoneInfo(settings.timezone))
    refs = thread_of(session, row).references(row.message_id)
    if refs:  # the last of References, as RFC 5322 §3.6.4 builds them
        msg["In-Reply-To"] = f"<{refs[-1]}>"
        msg["References"] = " ".join(f"<{i}>" for i in refs)
    msg["Reply-To"] = _reply_to(session, settings, row, code)
    if row.automatic:
        msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office answers to our mail
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    if row.event in CALENDAR_EVENTS:  # an event's invitation or cancellation: its .ics
        add_calendar(msg, build_calendar(row.context, organizer_email=settings.mail_from,
                                         organizer_name=header_safe(settings.mail_from_name),
                                         dtstamp=row.created_at), CALENDAR_EVENTS[row.event])
    for att in _attachments(session, row):
        maintype, _, subtype = (att.content_type or "application/octet-stream").partition("/")
        msg.add_attachment(storage.read_bytes(settings.storage_dir, att.sha256), maintype=maintype,
                           subtype=subtype or "octet-stream", filename=att.filename)
    return msg


def set_subject(msg: EmailMessage, subject: str) -> None:
    """Set ``Subject`` (one line). A non-ASCII subject is written as RFC 2047 encoded-words
    folded here: the email package's own folding leaves the space before an encoded-word at the
    end of the line it breaks, so readers see two spaces ("en el  baño")."""
    if subject.isascii():
        msg["Subject"] = subject
    else:
        msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())


def _reply_to(session: Session, settings, row: OutboxMessage, code: str | None) -> str:
    """The mailbox; to a staff user about a ticket, the plus-address that carries their reply
    token for that ticket (DESIGN: mail to clients never has one, whoever else is on it)."""
    if row.event in CLIENT_EVENTS or not code:
        return settings.mail_from
    user_id = session.scalar(_USER_ID, {"email": row.recipient})
    if user_id is None:
        return settings.mail_from
    return reply_address(settings.mail_from, token_for(settings.secret_key, user_id, code), code)


__all__ = ["CLIENT_EVENTS", "POLICY", "ComposeError", "Thread", "compose", "environment", "facts", "header_safe",
           "set_subject", "thread_of"]
