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
    # Spanish clients' quote headers (DESIGN: Gmail, Outlook, Apple Mail, Thunderbird, Yahoo, Hotmail)
    "yahoo-es-unquoted-history": (
        NEW,
        NEW
        + "\n\n\nEl martes, 3 de noviembre de 2025 10:15:02 GMT-5, Postventa <postventa@inmobiliaria-andina.pe> escribió:\n\n\n"
        + OLD
        + "\n",
    ),
    "yahoo-en-unquoted-history": (
        NEW_EN,
        NEW_EN
        + "\n\n\nOn Tuesday, November 3, 2025, 10:15:02 AM GMT-5, Postventa <postventa@inmobiliaria-andina.pe> wrote:\n\n\n"
        + OLD_EN
        + "\n",
    ),
    "yahoo-classic-en": (
        NEW_EN,
        NEW_EN + "\n\n--- On Mon, 11/3/25, Postventa <postventa@x.pe> wrote:\n\nFrom: Postventa <postventa@x.pe>\n"
        "Subject: [AT-000123] Leak\nTo: rosa@x.pe\nDate: Monday, November 3, 2025, 10:15 AM\n\n" + OLD_EN + "\n",
    ),
    "apple-mail-es-a-las": (
        NEW,
        NEW + "\n\nEl 3 nov 2025, a las 10:15, Rosa <r@x.pe> escribió:\n\n> " + OLD + "\n",
    ),
    "thunderbird-es-a-las": (
        NEW,
        NEW + "\n\nEl 3/11/25 a las 10:15, Postventa escribió:\n> " + OLD + "\n",
    ),
    "gmail-es-android": (
        NEW,
        NEW + "\n\nEl lun., 3 nov. 2025 10:15 a. m., Postventa <postventa@x.pe> escribió:\n\n> " + OLD + "\n",
    ),
    "gmail-es-forward": (
        NEW,
        NEW
        + "\n\n---------- Forwarded message ---------\nDe: Postventa <postventa@x.pe>\n"
        "Date: lun, 3 nov 2025 a las 10:15\nSubject: [AT-000123] Filtración\nTo: Rosa <r@x.pe>\n\n" + OLD + "\n",
    ),
    "gmail-en-before-2014": (
        NEW_EN,
        NEW_EN + "\n\n2013/11/3 Postventa <postventa@x.pe>\n\n> " + OLD_EN + "\n",
    ),
    "gmail-en-before-2018": (
        NEW_EN,
        NEW_EN + "\n\n2017-11-03 10:15 GMT-05:00 Postventa <\npostventa@inmobiliaria-andina.pe>:\n\n> " + OLD_EN + "\n",
    ),
    "outlook-mac-es": (
        NEW,
        NEW
        + "\n\nDe: Postventa <postventa@x.pe>\nFecha: lunes, 3 de noviembre de 2025, 10:15\n"
        "Para: Rosa Quispe <rosa@x.pe>\nAsunto: [AT-000123] Filtración\n\n" + OLD + "\n",
    ),
    "outlook-mobile-es": (
        NEW,
        NEW
        + "\n\nObtener Outlook para Android<https://aka.ms/ghei36>\n________________________________\n"
        "De: Postventa <postventa@x.pe>\nEnviado: lunes, 3 de noviembre de 2025 10:15:02 a. m.\n"
        "Para: Rosa Quispe <rosa@x.pe>\nAsunto: [AT-000123] Filtración\n\n" + OLD + "\n",
    ),
    "outlook-mobile-en": (
        NEW_EN,
        NEW_EN
        + "\n\nGet Outlook for Android<https://aka.ms/ghei36>\n________________________________\n"
        "From: Postventa <postventa@x.pe>\nSent: Monday, November 3, 2025 10:15:02 AM\n"
        "To: Rosa Quispe <rosa@x.pe>\nSubject: [AT-000123] Leak\n\n" + OLD_EN + "\n",
    ),
    "hotmail-es": (
        NEW,
        NEW
        + "\n\n________________________________\nDe: Postventa <postventa@x.pe>\n"
        "Enviado: lunes, 3 de noviembre de 2025 15:15\nPara: rosa_quispe@hotmail.com <rosa_quispe@hotmail.com>\n"
        "Asunto: RE: [AT-000123] Filtración\n\n" + OLD + "\n",
    ),
    "outlook-desktop-es-importance": (
        NEW,
        NEW
        + "\n\n*De:* Postventa <postventa@x.pe>\n*Enviado el:* lunes, 3 de noviembre de 2025 10:15\n"
        "*Para:* Rosa Quispe <rosa@x.pe>\n*CC:* Percy <percy@x.pe>\n*Asunto:* [AT-000123] Filtración\n"
        "*Importancia:* Alta\n\n" + OLD + "\n",
    ),
    "outlook-separator-with-markup": (
        NEW_EN,
        NEW_EN + "\n\n*-------- Original Message --------*\n\n" + OLD_EN + "\n",
    ),
    "samsung-footer-es": (NEW, NEW + "\n\nEnviado desde mi smartphone Samsung Galaxy.\n"),
    "yahoo-footer-es": (NEW, NEW + "\n\nEnviado desde Yahoo Mail para Android\n"),
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
    from mail.inbound.parse import parse_message
    from tests.shared_data import require_shared

    raw = next(require_shared("cases").glob("B10-*.eml")).read_bytes()
    result = parse_message(raw).new_text
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


# ---------------------------------------------------------------------------------------------
# Answers below and between quotes (DESIGN, Inbound mail, step 6)


def test_answers_between_quotes_stay_in_order_without_quotes_or_attribution() -> None:
    body = (
        "El lun, 3 nov 2025 a las 10:15, Postventa (<postventa@x.pe>) escribió:\n\n"
        "> ¿Pueden recibir al técnico el jueves?\n\nSí, el jueves desde las 9.\n\n"
        "> ¿Quién estará en el departamento?\n>\n\nMi esposo, Percy.\n\n"
        "> Saludos,\n> Postventa\n"
    )
    assert extract_new_text(body) == "Sí, el jueves desde las 9.\n\nMi esposo, Percy."


def test_reply_below_a_quote_at_the_top_is_kept() -> None:
    body = "On Nov 3, 2025, at 10:15 AM, Postventa <postventa@x.pe> wrote:\n\n>\n> " + OLD_EN + "\n" + NEW_EN
    assert extract_new_text(body) == NEW_EN


def test_reply_around_a_quote_keeps_both_parts() -> None:
    body = (
        "Buenas tardes:\nOn 11/3/25 10:15, Postventa wrote:\n\n>" + OLD_EN + "\n>On 11/2/25 9:00, Rosa wrote:\n"
        ">> Hola\n\nGracias,\nRosa\n"
    )
    assert extract_new_text(body) == "Buenas tardes:\n\nGracias,\nRosa"


def test_unquoted_history_after_an_attribution_is_cut_with_everything_below() -> None:
    body = NEW + "\n\nEl 3/11/25 a las 10:15, Postventa escribió:\n\n" + OLD + "\n\nMás historia.\n"
    assert extract_new_text(body) == NEW


def test_attribution_with_nothing_above_and_unquoted_text_below_drops_only_the_attribution() -> None:
    body = 'On 3 Nov 2025 10:15, "Rosa Quispe" <rosa@x.pe> wrote:\n\nThe leak is back.\n\nIt drips at night.\n'
    assert extract_new_text(body) == "The leak is back.\n\nIt drips at night."


def test_forward_with_nothing_above_keeps_the_forwarded_text_without_its_header() -> None:
    body = (
        "---------- Mensaje reenviado ---------\nDe: Percy <percy@x.pe>\nDate: lun, 3 nov 2025 a las 10:15\n"
        "Subject: Filtración\nque sigue\nTo: Rosa <rosa@x.pe>\n\nEl agua baja por la pared.\n"
    )
    assert extract_new_text(body) == "El agua baja por la pared."


def test_gmail_rewrapped_quote_line_is_not_an_answer() -> None:
    long_quoted = "> La visita técnica quedó programada para el martes en la mañana, entre las"
    body = NEW + "\n\nEl 3/11/25 a las 10:15, Postventa escribió:\n" + long_quoted + "\n9 y las 11.\n>\n> Saludos\n"
    assert extract_new_text(body) == NEW


def test_link_cut_by_the_wrap_inside_a_quote_is_not_an_answer() -> None:
    body = "Listo.\n\nOn 11/3/25 10:15, Postventa wrote:\n> Ver el plano (https://x.pe/plano?id=\n12345)\n>\n"
    assert extract_new_text(body) == "Listo."


def test_short_answer_between_two_quoted_questions_is_kept() -> None:
    body = "> ¿Viene el jueves?\nSí.\n> ¿A qué hora?\nA las 10.\n"
    assert extract_new_text(body) == "Sí.\nA las 10."


# ---------------------------------------------------------------------------------------------
# Attribution lines


@pytest.mark.parametrize(
    "attribution",
    [
        "2017-11-24 16:32 GMT+01:00 Postventa <postventa@x.pe>:",  # Gmail before 2018
        "2013/7/20 Postventa <postventa@x.pe>",  # Gmail before 2014
        '30.09.2017, 18.30, "Postventa" <postventa@x.pe>:',
        '11:00 AM, November 17, 2021, "Postventa" <postventa@x.pe>:',
        "Wednesday, 17 November 2021, 3:32 PM +0300 from postventa@x.pe <postventa@x.pe>:",  # Mail.ru
        "On Wed, 14 Nov 2018 08:14:43 -0200 Postventa <postventa@x.pe> wrote",  # no colon
        "---- On Wed, 24 Feb 2021 14:02:50 +0530 postventa@x.pe wrote ----",  # Zoho
        "---- Postventa wrote ----",  # Android
        "------On 12/29/1987 17:32 PM, Postventa wrote-----",
        "On 11-Apr-2011, at 6:54 PM, Postventa <postventa@x.pe> sent:",  # Apple Mail, older
        "At 6/16/2016 08:32 PM, you wrote:",  # Eudora
        "On Tue, Apr 11, 2017 at 10:07 PM Postventa\n\n<\nmailto:Postventa <postventa@x.pe>\n> wrote:",  # Polymail
        "On Fri, May 6, 2011 at 6:03 PM, Postventa from Hacker News\n<postventa@x.pe> wrote:",
        # other languages, where the rule costs nothing
        "Op 12 december 2016 19:05 schreef Postventa <\npostventa@x.pe>:",
        "Le 2016-11-16 02:22, Postventa a écrit\xa0:",
        "Am 07.05.2012 08:10, schrieb Postventa via Znuny Team:",
        "Postventa <postventa@x.pe> schrieb am Fr., 28.\nApr. 2017 um 11:53 Uhr:",
        "W dniu 28 stycznia 2015 01:53 użytkownik Postventa <postventa@x.pe>\nnapisał:",
        "ср, 30 апр. 2025 г. в 15:19, Postventa <postventa@x.pe>:",
    ],
)
def test_attribution_kinds_are_cut(attribution: str) -> None:
    body = NEW_EN + "\n\n" + attribution + "\n\n" + OLD_EN + "\n"
    assert extract_new_text(body) == NEW_EN
    quoted = NEW_EN + "\n\n" + attribution + "\n\n> " + OLD_EN + "\n\nP.S. Thursday works too.\n"
    assert extract_new_text(quoted) == NEW_EN + "\n\nP.S. Thursday works too."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:\n> Hi", "reply"),
        ("Listo--- On Wed, Apr 4, 2012 at 3:59 PM, postventa@x.pe wrote:\n> Hola", "Listo"),
        ("Gracias El lun, 3 nov 2025 a las 10:15, Rosa (<r@x.pe>) escribió:\n> Hola", "Gracias"),
    ],
)
def test_attribution_sharing_a_line_with_the_reply(body: str, expected: str) -> None:
    assert extract_new_text(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "El vecino escribió:\nque no hay agua desde el lunes.",  # no date, no address
        "Nos vemos el jueves a las 10:15.\nEl técnico escribió:\n> algo",  # a sentence above
        "Sent the photos on 3/11/2025 to the engineer.\nHe wrote back today.",
        "2024-01-15 14:30:25 llegó el técnico\n2024/01/15 salió",  # dates in the sender's text
        "Fecha: 3/11\nPara: el jueves\nAsunto: visita",  # a form, no From field
        'Hola\nLe pregunté a juan@x.pe y esto escribió:\n"El lunes vamos"\n\nSaludos',  # "Le" is Spanish too
        'Mi correo es rosa@x.pe\nY esto es lo que el ingeniero escribió:\n"El lunes vamos"',
    ],
)
def test_sender_lines_that_look_like_attributions_are_kept(body: str) -> None:
    assert extract_new_text(body).replace("\n> algo", "") == body.replace("\n> algo", "")


# ---------------------------------------------------------------------------------------------
# Separators, header blocks in other languages, footers


@pytest.mark.parametrize(
    "separator",
    ["-----Reply Message-----", "-------- Mensaje reenviado --------", "-------- Original-Nachricht --------",
     "-----Oprindelig meddelelse-----", "Inicio del mensaje reenviado:"],
)
def test_separator_kinds_are_cut(separator: str) -> None:
    assert extract_new_text(NEW + "\n\n" + separator + "\n\n" + OLD + "\n") == NEW


@pytest.mark.parametrize(
    "block",
    [
        "Von: Postventa <postventa@x.pe>\nGesendet: Montag, 3. November 2025 10:15\nAn: Rosa\nBetreff: Leck",
        "De : Postventa [mailto:postventa@x.pe]\nEnvoyé : lundi 3 novembre 2025 10:15\nÀ : Rosa\nObjet : Fuite",
        "Van: Postventa\nVerzonden: maandag 3 november 2025 10:15\nAan: Rosa\nOnderwerp: Lek",
        "Da: Postventa\nInviato: lunedì 3 novembre 2025 10:15\nA: Rosa\nOggetto: Perdita",
        "Fra: Postventa\nSendt: 3. november 2025 10:15\nTil: Rosa\nEmne: Lækage",
        "Från: Postventa\nSkickat: den 3 november 2025 10:15\nTill: Rosa\nÄmne: Läcka",
        "Od: Postventa\nWysłano: 3 listopada 2025 10:15\nDo: Rosa\nTemat: Wyciek",
        "From: postventa@x.pe\nDate: Mon, 3 Nov 2025 10:15:02 -0500",  # two fields: a time and an address
    ],
)
def test_header_blocks_in_other_languages_are_cut(block: str) -> None:
    assert extract_new_text(NEW + "\n\n" + block + "\n\n" + OLD + "\n") == NEW


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my Wiko RIDGE FAB 4G",
        "Envoyé depuis mon iPhone",
        "Sendt fra min iPad",
        "Envoyé à partir de Outlook pour iOS<https://aka.ms/o0ukef>",
        "Sent from my HTC M8 Android phone.  Please excuse typos",
        "Sent from TypeApp<http://www.typeapp.com/r?b=2621>",
    ],
)
def test_phone_footers_end_the_new_text(footer: str) -> None:
    assert extract_new_text(NEW_EN + "\n\n" + footer + "\n") == NEW_EN
    # the history a phone puts under its footer without any header goes too
    assert extract_new_text(NEW_EN + "\n\n" + footer + "\n\n" + OLD_EN + "\n") == NEW_EN


def test_sentence_starting_like_a_phone_footer_is_kept() -> None:
    body = "Here is another email\n\nSent from my desk, is much easier then my mobile phone."
    assert extract_new_text(body) == body
    body = "Enviado de vuelta al proveedor.\nLes aviso cuando llegue."
    assert extract_new_text(body) == body


def test_mailing_list_footer_is_cut() -> None:
    body = (
        NEW_EN + "\n\n\n_______________________________________________\nriak-users mailing list\n"
        "riak-users@lists.basho.com\nhttp://lists.basho.com/mailman/listinfo/riak-users_lists.basho.com\n"
    )
    assert extract_new_text(body) == NEW_EN


def test_text_under_a_rule_is_kept_when_it_is_long() -> None:
    body = NEW + "\n\n" + "_" * 30 + "\n" + "\n".join(f"Observación {n}: fisura en la pared." for n in range(8))
    assert extract_new_text(body) == body


# ---------------------------------------------------------------------------------------------
# Performance: every pattern works on one short line or a few, so huge bodies stay linear


@pytest.mark.parametrize(
    "unit",
    [
        "On " + "a " * 11 + "\n",
        "From: x@y.z\n",
        "-" * 24 + "\n",
        "> a\nb\n",
        "On 3/11/25 a\n\n<\n",
    ],
)
def test_pathological_megabyte_body_finishes_quickly(unit: str) -> None:
    import time

    body = unit * (1_000_000 // len(unit))
    started = time.perf_counter()
    extract_new_text(body)
    elapsed = time.perf_counter() - started
    print(f"\n{len(body.splitlines())} lines of {unit[:20]!r}: {elapsed:.2f} s")
    assert elapsed < 5


def test_megabyte_single_line_finishes_quickly() -> None:
    import time

    started = time.perf_counter()
    assert extract_new_text("On " + "a " * 500_000).startswith("On a a")
    assert time.perf_counter() - started < 5


# ---------------------------------------------------------------------------------------------
# mail.inbound.markers, the patterns defined once


def test_markers_helpers() -> None:
    from mail.inbound import markers

    outlook = ["De: Postventa <p@x.pe>", "Enviado el: lunes, 3 de noviembre de 2025 10:15", "Para: Rosa",
               "Asunto: RE: Filtración", "", "texto"]
    assert markers.header_block_at(outlook, 0) and markers.header_block_end(outlook, 0) == 4
    assert not markers.header_block_at(["De: mi parte todo bien.", "Para: el jueves está bien."], 0)
    assert markers.attribution_at(["Gracias.", "El lun, 3 nov 2025 a las 10:15, Rosa (<", "r@x.pe>) escribió:"], 1) == 2
    assert markers.attribution_at(["Gracias.", "El lun, 3 nov 2025 a las 10:15, Rosa (<", "r@x.pe>) escribió:"], 0) is None
    assert markers.is_forward_separator("---------- Forwarded message ---------")
    assert not markers.is_forward_separator("This is not a ---------- delimiter.")
    assert markers.FORWARD_SEPARATOR_RE.search("Hola\n-----Mensaje original-----\nDe: x")
    assert set(markers.FIELD_KEYS.values()) == {"from", "date", "to", "cc", "subject"}
    m = markers.HEADER_FIELD_RE.match("*Enviado el:* lunes")
    assert m and markers.FIELD_KEYS[m.group("key").lower()] == "date" and m.group("value") == "lunes"
    assert markers.PHONE_FOOTER_RE.match("Enviado desde mi iPhone")
