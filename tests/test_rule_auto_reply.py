"""The auto-reply rule (`mail.inbound.rules.auto_reply`): hit, miss, our own group, non-ASCII."""

from __future__ import annotations

import pytest

from mail.inbound.parse import parse_message
from mail.inbound.rules import RuleSettings
from mail.inbound.rules.auto_reply import why_automatic
from tests.support import SUPPORT, build

OURS = RuleSettings(own_addresses=frozenset({SUPPORT}))


def msg(subject="Consulta", body="Hola", **headers):
    return parse_message(build(subject, body, headers=headers))


@pytest.mark.parametrize("subject", [
    "Respuesta automática: [AT-000001] Filtración", "Automatic reply: Observaciones", "Fuera de la oficina",
    "Out of Office AutoReply: hola", "Auto: Re: consulta", "Ausente: vuelvo el lunes", "Autoreply",
    "Automatische Antwort: Ihre Anfrage", "Réponse automatique : absent", "RE: Respuesta automática: hola",
])
def test_auto_reply_subjects(subject):
    assert why_automatic(msg(subject), OURS) == "auto_reply"


@pytest.mark.parametrize("subject", [
    "Estoy fuera del país, ¿pueden coordinar con mi hermana?", "Auto revisión del departamento",
    "Re: [AT-000001] Respuesta a su consulta", "Oficina 302 sin luz",
])
def test_client_subjects_are_not_auto_replies(subject):
    assert why_automatic(msg(subject), OURS) is None


def test_vacation_label_with_colon_is_auto():
    assert why_automatic(msg("Vacaciones: regreso el 5 de enero"), OURS) == "auto_reply"


@pytest.mark.parametrize("headers,why", [
    ({"Auto-Submitted": "auto-replied"}, "auto_reply"), ({"Auto-Submitted": "auto-generated"}, "auto_reply"),
    ({"X-Autoreply": "yes"}, "auto_reply"), ({"X-Autorespond": "1"}, "auto_reply"),
    ({"X-Loop": "helpdesk@proveedor.pe"}, "auto_reply"), ({"X-Loop": "OTRS"}, "auto_reply"),
    ({"Precedence": "bulk"}, "bulk"), ({"Precedence": "junk"}, "bulk"), ({"Precedence": "list"}, "bulk"),
    ({"Precedence": "auto_reply"}, "auto_reply"),
    ({"List-Id": "<ofertas.tienda.pe>"}, "bulk"), ({"List-Unsubscribe": "<mailto:baja@tienda.pe>"}, "bulk"),
    ({"X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent"}, "auto_reply"),
])
def test_auto_reply_headers(headers, why):
    assert why_automatic(msg(**headers), OURS) == why


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "no"},
    {"X-Auto-Response-Suppress": "All"},  # Outlook puts it on ordinary mail
    {"List-Id": "<postventa.inmobiliaria-andina.pe>", "Precedence": "list"},  # our own group
    {"List-Post": "<mailto:postventa@inmobiliaria-andina.pe>", "List-Unsubscribe": "<mailto:x@y.pe>"},
])
def test_a_person_writing(headers):
    assert why_automatic(msg(**headers), OURS) is None


def test_our_group_does_not_hide_an_out_of_office():
    headers = {"List-Id": "<postventa.inmobiliaria-andina.pe>", "Auto-Submitted": "auto-replied"}
    assert why_automatic(msg(**headers), OURS) == "auto_reply"


def test_another_group_is_bulk():
    assert why_automatic(msg(**{"List-Id": "<vecinos.inmobiliaria-andina.pe>"}), OURS) == "bulk"


def test_auto_reply_inside_a_multipart_with_non_ascii_subject():
    raw = build("Respuesta automática: Añadir cochera", "Estaré fuera.", html="<p>Estaré fuera.</p>",
                attachments=[("logo.png", "image/png", b"\x89PNG")])
    assert why_automatic(parse_message(raw), OURS) == "auto_reply"
