"""An automatic message — an out-of-office, another helpdesk's acknowledgement, a newsletter — is
ignored (DESIGN step 4): never a comment, a reopening, a new ticket or an answer. The inbound
record names the ticket it refers to, if any.

Signals: Auto-Submitted other than ``no`` (RFC 3834); X-Autoreply, X-Autorespond,
X-Autoresponder; X-Loop (other helpdesks mark their own automatic mail with it); Precedence
bulk/junk/list/auto_reply; List-Id (RFC 2919) or List-Unsubscribe (RFC 2369), unless the list is
our own group (`group_rewrite.is_our_group`); Exchange's inbox-rule headers; out-of-office
subjects in Spanish and English. Not X-Auto-Response-Suppress alone: Outlook puts it on
ordinary mail.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from mail.inbound.markers import REPLY_PREFIX_RE
from mail.inbound.parse import ParsedMessage
from mail.inbound.rules.base import Decision, RuleSettings
from mail.inbound.rules.group_rewrite import is_our_group
from mail.inbound.rules.lookups import referenced_ticket
from tickets.models import Outcome

name = "auto-reply"
description = "An auto-reply or bulk mail is ignored; the record names the ticket it refers to."

#: A known auto-reply label, then ":" or the end of the subject ("Estoy fuera del país, ¿…?" is a
#: client's question, not an auto-reply), or "Out of office - …".
AUTO_SUBJECT_RE = re.compile(
    r"^\s*(respuesta\s+autom[aá]tica|auto(matic|matische)?[\s-]*(reply|response|antwort|respuesta)|"
    r"fuera\s+de\s+(la\s+)?oficina|out\s+of\s+(the\s+)?office(\s+auto\s*reply)?|autoreply|auto|"
    r"r[ée]ponse\s+automatique|absence\s+du\s+bureau|abwesenheitsnotiz|ausencia|ausente|vacaciones|"
    r"vacation)\s*(:|$)|^\s*(out\s+of\s+(the\s+)?office|fuera\s+de\s+(la\s+)?oficina)\s+-",
    re.IGNORECASE,
)
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-loop",
                      "x-ms-exchange-generated-message-source", "x-ms-exchange-inbox-rules-loop")


def _value(msg: ParsedMessage, header: str) -> str:
    return msg.header(header).strip().lower()


def why_automatic(msg: ParsedMessage, settings: RuleSettings) -> str | None:
    """``auto_reply`` or ``bulk`` when the message was sent by a machine (module docstring), else None."""
    if any(v.strip().lower() not in {"", "no"} for v in msg.headers.get("auto-submitted", ())):
        return "auto_reply"
    if any(_value(msg, h) for h in _AUTOREPLY_HEADERS):
        return "auto_reply"
    precedence = _value(msg, "precedence")
    ours = is_our_group(msg, settings)
    if precedence == "auto_reply":
        return "auto_reply"
    if precedence in {"bulk", "junk"} or (precedence == "list" and not ours):
        return "bulk"
    if (_value(msg, "list-id") or _value(msg, "list-unsubscribe")) and not ours:
        return "bulk"
    subject = msg.subject or ""
    if AUTO_SUBJECT_RE.search(subject) or AUTO_SUBJECT_RE.search(REPLY_PREFIX_RE.sub("", subject)):
        return "auto_reply"  # also "RE: Respuesta automática: …" (an auto-reply quoting a reply)
    return None


def check(session: Session, msg: ParsedMessage, settings: RuleSettings) -> Decision | None:
    """See the module docstring."""
    why = why_automatic(msg, settings)
    if why is None:
        return None
    return Decision(Outcome.IGNORED, name, why, ticket=referenced_ticket(session, msg, settings.code_prefix))
