"""Unit tests of mail.inbound.quotes.extract_new_text: one realistic reply per mail client and
language, plus the conservative cases."""

from __future__ import annotations

import pytest

from mail.inbound.quotes import extract_new_text

NEW = "Buenas tardes:\n\nYa revisé el baño y la filtración continúa. ¿Pueden venir el jueves?\n\nGracias,\nRosa"
NEW_EN = (
    "Hi,\n\nThe leak is still there. Could someone come on Thursday?\n\nThanks,\nRosa"
)
OLD = "La visita técnica quedó programada para el martes."
OLD_EN = "The technician visit is scheduled for Tuesday."

REPLIES = {
    "gmail-es": (
        NEW,
        NEW + "\n\nEl lun, 3 nov 2025 a las 10:15, Postventa Inmobiliaria Andina (<\n"
        "postventa@inmobiliaria-andina.pe>) escribió:\n\n> Estimada Sra. Quispe:\n>\n> "
        + OLD
        + "\n>\n"
        "> Saludos,\n> Postventa\n",
    ),
    "gmail-es-one-line": (
        NEW,
        NEW
        + "\n\nEl lun, 3 nov 2025 a las 10:15, Rosa Quispe (<rosa@x.pe>) escribió:\n\n> "
        + OLD
        + "\n",
    ),
    "gmail-en": (
        NEW_EN,
        NEW_EN + "\n\nOn Mon, Nov 3, 2025 at 10:15 AM Postventa Inmobiliaria Andina <\n"
        "postventa@inmobiliaria-andina.pe> wrote:\n\n> " + OLD_EN + "\n>\n> Regards\n",
    ),
    "outlook-desktop-es": (
        NEW,
        NEW
        + "\n\n-----Mensaje original-----\nDe: Postventa <postventa@inmobiliaria-andina.pe>\n"
        "Enviado el: lunes, 3 de noviembre de 2025 10:15\nPara: Rosa Quispe <rosa@x.pe>\n"
        "Asunto: [AT-000123] Filtración\n\n" + OLD + "\n",
    ),
    "outlook-desktop-es-block": (
        NEW,
        NEW
        + "\n\nDe: Postventa <postventa@inmobiliaria-andina.pe>\nEnviado: lunes, 3 de noviembre de 2025 10:15\n"
        "Para: Rosa Quispe <rosa@x.pe>\nCC: percy@x.pe\nAsunto: [AT-000123] Filtración\n\n"
        + OLD
        + "\n",
    ),
    "outlook-desktop-en": (
        NEW_EN,
        NEW_EN
        + "\n\n-----Original Message-----\nFrom: Postventa <postventa@inmobiliaria-andina.pe>\n"
        "Sent: Monday, November 3, 2025 10:15 AM\nTo: Rosa Quispe <rosa@x.pe>\nSubject: [AT-000123] Leak\n\n"
        + OLD_EN
        + "\n",
    ),
    "outlook-desktop-en-bold-from-html": (
        NEW_EN,
        NEW_EN
        + "\n\n*From:* Postventa <postventa@inmobiliaria-andina.pe>\n*Sent:* Monday, November 3, 2025 10:15 AM\n"
        "*To:* Rosa Quispe <rosa@x.pe>\n*Subject:* [AT-000123] Leak\n\n"
        + OLD_EN
        + "\n",
    ),
    "outlook-web-es": (
        NEW,
        NEW
        + "\n\n________________________________\nDe: Postventa Inmobiliaria Andina <postventa@inmobiliaria-andina.pe>\n"
        "Enviado: miércoles, 5 de junio de 2024 09:45\nPara: Rosa Quispe Huamán <rosa.quispe.h@gmail.com>\n"
        "Asunto: [AT-000001] Observaciones\n\n" + OLD + "\n",
    ),
    "outlook-web-en": (
        NEW_EN,
        NEW_EN
        + "\n\n________________________________\nFrom: Postventa <postventa@inmobiliaria-andina.pe>\n"
        "Sent: Wednesday, June 5, 2024 9:45 AM\nTo: Rosa Quispe <rosa@x.pe>\nSubject: [AT-000001] Notes\n\n"
        + OLD_EN
        + "\n",
    ),
    "apple-mail-es": (
        NEW,
        NEW
        + "\n\n> El 03/11/2025, a las 10:15, Postventa <postventa@inmobiliaria-andina.pe> escribió:\n>\n> "
        + OLD
        + "\n",
    ),
    "apple-mail-es-unquoted-attribution": (
        NEW,
        NEW
        + "\n\nEl 03/11/2025, a las 10:15, Postventa <postventa@inmobiliaria-andina.pe> escribió:\n\n> "
        + OLD
        + "\n",
    ),
    "apple-mail-en": (
        NEW_EN,
        NEW_EN
        + "\n\n> On Nov 3, 2025, at 10:15 AM, Postventa <postventa@inmobiliaria-andina.pe> wrote:\n>\n> "
        + OLD_EN
        + "\n",
    ),
    "thunderbird-es": (
        NEW,
        NEW + "\n\nEl 3/11/25 10:15, Postventa escribió:\n> " + OLD + "\n",
    ),
    "thunderbird-en": (
        NEW_EN,
        NEW_EN + "\n\nOn 11/3/25 10:15, Postventa wrote:\n> " + OLD_EN + "\n",
    ),
    "iphone-footer-es": (
        NEW,
        NEW
        + "\n\nEnviado desde mi iPhone\n\n> El 3 nov 2025, a las 10:15, Postventa <postventa@x.pe> escribió:\n> "
        + OLD
        + "\n",
    ),
    "iphone-footer-en": (NEW_EN, NEW_EN + "\n\nSent from my iPhone\n"),
    "outlook-android-footer": (NEW, NEW + "\n\nEnviado desde Outlook para Android\n"),
    "get-outlook-footer": (
        NEW_EN,
        NEW_EN + "\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n",
    ),
    "signature-dash-dash": (
        NEW,
        NEW + "\n-- \nRosa Quispe Huamán\nDpto 504 – Torre B\nCel. 987 654 321\n",
    ),
    "interleaved-quote-lines": (
        "Respuesta a la primera pregunta: sí.\n\nY a la segunda: el jueves.",
        "> ¿Pueden venir?\nRespuesta a la primera pregunta: sí.\n\n> ¿Qué día?\nY a la segunda: el jueves.\n",
    ),
}


@pytest.mark.parametrize("client", sorted(REPLIES))
def test_new_text_is_kept_and_quotes_removed(client: str) -> None:
    expected, body = REPLIES[client]
    result = extract_new_text(body)
    assert result == expected
    for quoted in (
        OLD,
        OLD_EN,
        "escribió",
        "wrote:",
        "De:",
        "From:",
        "Enviado",
        "Sent",
        ">",
        "Cel.",
    ):
        assert quoted not in result


def test_crlf_input() -> None:
    expected, body = REPLIES["gmail-en"]
    assert extract_new_text(body.replace("\n", "\r\n")) == expected


def test_b10_outlook_web_reply_from_case_file() -> None:
    from pathlib import Path

    from mail.inbound.parse import parse_message

    raw = next(
        (Path(__file__).resolve().parents[2] / "shared" / "cases").glob("B10-*.eml")
    ).read_bytes()
    result = extract_new_text(parse_message(raw).text)
    assert "Adjunto el plano con las medidas de la ventana del dormitorio" in result
    assert "Enviado:" not in result and "Estimada Sra. Quispe" not in result


# ---------------------------------------------------------------------------------------------
# Conservative cases


def test_nothing_to_strip() -> None:
    assert (
        extract_new_text("  Hola,\n\nel intercomunicador no funciona.\n\n")
        == "Hola,\n\nel intercomunicador no funciona."
    )


def test_all_quoted_returns_original() -> None:
    body = "> Todo es cita\n> y nada más\n"
    assert extract_new_text(body) == body.strip()


def test_reply_with_only_attribution_returns_original() -> None:
    body = "On Mon, Nov 3, 2025 at 10:15 AM Rosa <rosa@x.pe> wrote:\n> hola\n"
    assert extract_new_text(body) == body.strip()


def test_empty() -> None:
    assert extract_new_text("") == ""
    assert extract_new_text("   \n") == ""


def test_html_used_when_text_is_empty() -> None:
    html = "<div>Listo, gracias.</div><div class='gmail_quote'>El lun, 3 nov 2025 a las 10:15, Rosa (&lt;r@x.pe&gt;) escribió:<br><blockquote>&gt; viejo</blockquote></div>"
    assert extract_new_text("", html=html) == "Listo, gracias."


def test_two_dash_lines_are_ambiguous_and_kept() -> None:
    body = "Lista:\n--\nuno\n--\ndos"
    assert extract_new_text(body) == body


def test_phone_footer_only_near_the_end() -> None:
    body = "Sent from my iPhone, the photo shows the crack.\nPlease check it.\nIt is big.\nReally.\nThanks"
    assert extract_new_text(body) == body


def test_words_el_and_on_at_line_start_are_not_attributions() -> None:
    body = "El agua baja por la pared.\nOn Monday the plumber came.\nEl vecino escribió una queja."
    assert extract_new_text(body) == body


def test_own_text_mentioning_de_colon_is_kept() -> None:
    body = "De: mi parte todo bien.\nPara: el jueves está bien."
    assert extract_new_text(body) == body
