"""Unit tests of mail.inbound.parse: the hard cases, literal messages, CPython header bugs and the
whole shared corpus (every file parses or raises UnparseableMessage)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mail.inbound.parse import (
    Attachment,
    ParsedMessage,
    UnparseableMessage,
    parse_message,
    sanitize_filename,
    split_forward,
)
from tests.shared_data import require_shared, shared_names


def case(prefix: str) -> ParsedMessage:
    (path,) = require_shared("cases").glob(f"{prefix}-*.eml")
    return parse_message(path.read_bytes())


def corpus(name: str) -> ParsedMessage:
    return parse_message(require_shared("corpus", name).read_bytes())


def lit(text: str) -> bytes:
    """A literal message with CRLF line endings, as it comes from IMAP."""
    return text.lstrip("\n").replace("\n", "\r\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Hard cases (shared/cases/README.md)


def test_b01_utf8_label_with_cp1252_bytes() -> None:
    msg = case("B01")
    assert msg.subject == "Filtración en el baño del Dpto 504"
    assert "filtración de agua en el baño principal" in msg.text
    assert "\ufffd" not in msg.text
    assert "\ufffd" not in (msg.html or "")
    assert "(“no es la grifería”)" in msg.text
    assert msg.from_addr == "jmamani.condori@hotmail.com"
    assert msg.from_name == "Jorge Mamani Condori"


def test_b03_rfc2047_words_in_quoted_filename() -> None:
    msg = case("B03")
    assert [a.filename for a in msg.attachments] == [
        "Cotización cochera y depósito – Torre B.pdf"
    ]
    att = msg.attachments[0]
    assert att.content_type == "application/pdf"
    assert att.data.startswith(b"%PDF")
    assert not att.inline
    assert "cochera adicional" in msg.text


def test_b04_winmail_dat_tnef() -> None:
    msg = case("B04")
    assert "Adjunto la lista de observaciones" in msg.text
    names = [a.filename for a in msg.attachments]
    assert names == ["Observaciones entrega Dpto 302.txt"]
    assert b"Rajadura" in msg.attachments[0].data
    assert msg.from_name == "María Fernanda Salazar"


def test_b04_tnef_body_used_when_there_is_no_other_text() -> None:
    raw = require_shared("cases", "B04-outlook-winmail-dat-tnef.eml").read_bytes()
    head, _, rest = raw.partition(
        b"--_002_SA1PR12MB6790tnef_\nContent-Type: text/plain"
    )
    _, _, tnef_part = rest.partition(b"--_002_SA1PR12MB6790tnef_\n")
    msg = parse_message(head + b"--_002_SA1PR12MB6790tnef_\n" + tnef_part)
    assert "Adjunto la lista de observaciones" in msg.text
    assert [a.filename for a in msg.attachments] == [
        "Observaciones entrega Dpto 302.txt"
    ]


def test_b05_forward_as_attachment() -> None:
    msg = case("B05")
    assert "¿es posible reprogramarla para la semana siguiente?" in msg.text
    assert "Le confirmamos su cita" not in msg.text
    assert [a.filename for a in msg.attachments] == ["Cita de entrega de llaves.eml"]
    assert msg.attachments[0].content_type == "message/rfc822"
    assert b"Le confirmamos su cita" in msg.attachments[0].data.replace(b"=\n", b"")
    (fwd,) = msg.forwarded
    assert fwd.attached is True
    assert fwd.from_addr == "ventas@inmobiliaria-andina.pe"
    assert fwd.from_name == "Ventas Inmobiliaria Andina"
    assert fwd.subject == "Cita de entrega de llaves"
    assert fwd.date is not None and fwd.date.tzinfo is not None
    assert "Le confirmamos su cita" in fwd.text


def test_b07_html_fragment_only() -> None:
    msg = case("B07")
    assert msg.content_type == "text/html"
    assert "no funciona el intercomunicador del Dpto 1507" in " ".join(msg.text.split())
    assert "<div" not in msg.text
    assert msg.html is not None and "<div" in msg.html
    assert msg.text.startswith("Buenas noches,")


def test_b08_malformed_long_date() -> None:
    msg = case("B08")
    assert msg.date is None
    assert msg.subject == "Consulta sobre mantenimiento del ascensor"
    assert "se detuvo dos veces entre el piso 6 y el 7" in " ".join(msg.text.split())


def test_b10_localized_forward_prefix_keeps_subject_and_attachment() -> None:
    msg = case("B10")
    assert msg.subject.startswith("RV: [AT-000001]")
    assert [a.filename for a in msg.attachments] == ["Plano ventana dormitorio.pdf"]
    own, fwd = split_forward(msg.text)
    assert "Adjunto el plano con las medidas de la ventana del dormitorio" in own
    assert "Enviado:" not in own
    assert fwd is not None and fwd.from_addr == "postventa@inmobiliaria-andina.pe"


def test_b12_emoji_subject() -> None:
    assert case("B12").subject == "🏠🔑 Entrega de llaves – Dpto 1107 ✅"


def test_b16_bounce_with_returned_ticket_mail() -> None:
    msg = case("B16")
    assert msg.is_delivery_report
    assert msg.content_type == "multipart/report"
    assert msg.report_original is not None
    assert "[AT-000001]" in msg.report_original.subject
    assert msg.report_original.from_addr == "postventa@inmobiliaria-andina.pe"


def test_dates_are_aware() -> None:
    msg = case("B01")
    assert msg.date == datetime(2024, 6, 10, 14, 2, 33, tzinfo=UTC)
    assert msg.date.tzinfo is not None


# ---------------------------------------------------------------------------------------------
# Literal messages

BASIC = """
Return-Path: <>
Delivered-To: Postventa@Inmobiliaria-Andina.pe
X-Original-To: postventa+AT-000123@inmobiliaria-andina.pe
Message-ID:
 <abc.123@mail.example.pe>
In-Reply-To: <one@x.pe>
References: <zero@x.pe>
 <one@x.pe>
From: "Quispe, Rosa" <Rosa.Quispe@Example.PE>
Reply-To: rosa.personal@example.pe
To: Postventa <postventa@inmobiliaria-andina.pe>, otro@example.pe
Cc: percy@example.pe
Subject: Re:   Consulta
 sobre la entrega
Date: Mon, 3 Nov 2025 10:15:00 -0500
X-Custom: =?utf-8?q?caf=C3=A9?=
Content-Type: text/plain; charset=utf-8

Hola\x00 mundo.
"""


def test_literal_headers() -> None:
    msg = parse_message(lit(BASIC))
    assert msg.return_path == ""
    assert msg.delivered_to == (
        "postventa@inmobiliaria-andina.pe",
        "postventa+at-000123@inmobiliaria-andina.pe",
    )
    assert msg.message_id == "abc.123@mail.example.pe"
    assert msg.in_reply_to == ("one@x.pe",)
    assert msg.references == ("zero@x.pe", "one@x.pe")
    assert msg.from_addr == "rosa.quispe@example.pe"
    assert msg.from_name == "Quispe, Rosa"
    assert msg.reply_to == ("rosa.personal@example.pe",)
    assert msg.to == ("postventa@inmobiliaria-andina.pe", "otro@example.pe")
    assert msg.cc == ("percy@example.pe",)
    assert msg.subject == "Re: Consulta sobre la entrega"
    assert msg.date == datetime(2025, 11, 3, 15, 15, tzinfo=UTC)
    assert msg.text == "Hola mundo."
    assert msg.headers["x-custom"] == ("café",)
    assert msg.header("X-CUSTOM") == "café"
    assert msg.content_type == "text/plain"
    assert not msg.is_delivery_report and msg.report_original is None


def test_return_path_absent_is_none() -> None:
    msg = parse_message(lit("From: a@b.pe\nSubject: x\n\nhola\n"))
    assert msg.return_path is None
    assert msg.message_id is None
    assert msg.date is None


def test_message_without_from_is_not_an_error() -> None:
    msg = parse_message(
        lit("To: postventa@inmobiliaria-andina.pe\nSubject: sin remitente\n\nhola\n")
    )
    assert msg.from_addr is None
    assert msg.from_name == ""
    assert msg.text == "hola"


def test_from_without_usable_address() -> None:
    msg = parse_message(lit("From: Rosa Quispe\nSubject: x\n\nhola\n"))
    assert msg.from_addr is None


def test_body_digest_ignores_line_endings_headers_and_trailing_spaces() -> None:
    one = lit("From: a@b.pe\nSubject: x\n\nhola  \nmundo\n")
    two = b"Received: by mx; Mon, 3 Nov 2025 10:15:00 -0500\n" + one.replace(
        b"\r\n", b"\n"
    ).replace(b"hola", b"hola\t")
    other = lit("From: a@b.pe\nSubject: x\n\nhola\nmundo!\n")
    assert parse_message(one).body_digest == parse_message(two).body_digest
    assert parse_message(one).body_digest != parse_message(other).body_digest


MULTI = """
From: a@b.pe
Subject: adjuntos
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

--XX
Content-Type: text/plain; charset=utf-8

cuerpo
--XX
Content-Type: application/pdf
Content-Disposition: attachment;
 filename*=utf-8''Cotizaci%C3%B3n%20cochera.pdf
Content-Transfer-Encoding: base64

JVBERi0=
--XX
Content-Type: text/plain
Content-Disposition: attachment; filename="../../etc/passwd"

root:x:0:0
--XX
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="..\\\\..\\\\win\\\\evil\x07name.exe"

MZ
--XX
Content-Type: image/png
Content-Disposition: inline; filename="firma.png"
Content-ID: <firma@x>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--XX
Content-Type: image/jpeg
Content-Disposition: attachment
Content-Transfer-Encoding: base64

/9j/4A==
--XX--
"""


def test_attachments_rfc2231_traversal_control_chars_inline() -> None:
    msg = parse_message(lit(MULTI))
    assert msg.text == "cuerpo"
    names = [a.filename for a in msg.attachments]
    assert names[0] == "Cotización cochera.pdf"  # RFC 2231 extended parameter
    assert names[1] == "passwd"
    assert names[2] == "evilname.exe"
    assert names[3] == "firma.png"
    assert names[4].startswith("adjunto.") and names[4] != "adjunto."
    assert msg.attachments[0].data == b"%PDF-"
    signature = msg.attachments[3]
    # Content-Disposition inline, but no HTML body shows it by cid: one of the sender's files
    assert signature == Attachment(
        "firma.png", "image/png", signature.data, inline=False, content_id="firma@x"
    )
    assert not msg.attachments[0].inline


@pytest.mark.parametrize(
    ("raw_name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\doc.pdf", "doc.pdf"),
        ("...hidden", "hidden"),
        ("a\x00b\x1fc\u202etxt.exe", "abctxt.exe"),
        ("", "adjunto.pdf"),
        (None, "adjunto.pdf"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_sanitize_filename(raw_name: str | None, expected: str) -> None:
    assert sanitize_filename(raw_name, "application/pdf") == expected


def test_html_only_with_full_document() -> None:
    raw = lit(
        "From: a@b.pe\nSubject: x\nContent-Type: text/html; charset=utf-8\n\n"
        "<html><body><p>Hola <b>equipo</b></p><p>Segunda l&iacute;nea</p></body></html>\n"
    )
    msg = parse_message(raw)
    assert "Hola equipo" in msg.text
    assert "Segunda línea" in msg.text


def test_inline_forward_gmail_spanish() -> None:
    text = (
        "Les reenvío el correo de la constructora.\n\n"
        "---------- Mensaje reenviado ---------\n"
        "De: Constructora Norte <obras@norte.pe>\n"
        "Date: vie, 7 jun 2024 a las 10:30\n"
        "Subject: Fecha de entrega\n"
        "To: <rosa@x.pe>\n\n"
        "La entrega será el 14 de junio.\n"
    )
    own, fwd = split_forward(text)
    assert own == "Les reenvío el correo de la constructora."
    assert fwd is not None
    assert fwd.from_addr == "obras@norte.pe"
    assert fwd.from_name == "Constructora Norte"
    assert fwd.subject == "Fecha de entrega"
    assert fwd.date is not None and (
        fwd.date.year,
        fwd.date.month,
        fwd.date.day,
        fwd.date.hour,
    ) == (2024, 6, 7, 10)
    assert fwd.text == "La entrega será el 14 de junio."
    assert fwd.attached is False


def test_inline_forward_outlook_english() -> None:
    text = (
        "FYI, see below.\n\n"
        "-----Original Message-----\n"
        "From: John Client [mailto:john@client.com]\n"
        "Sent: Friday, June 7, 2024 10:30 AM\n"
        "To: Sales\n"
        "Subject: Keys\n\n"
        "When can I get my keys?\n"
    )
    own, fwd = split_forward(text)
    assert own == "FYI, see below."
    assert (
        fwd is not None
        and fwd.from_addr == "john@client.com"
        and fwd.from_name == "John Client"
    )
    assert fwd.date is not None and fwd.date.hour == 10
    assert fwd.text == "When can I get my keys?"


def test_inline_forward_listed_in_parsed_message() -> None:
    raw = lit(
        "From: staff@inmobiliaria-andina.pe\nSubject: Fwd: Llaves\nContent-Type: text/plain; charset=utf-8\n\n"
        "Cliente pide cita.\n\n---------- Forwarded message ---------\nFrom: Rosa <rosa@x.pe>\n"
        "Date: Mon, Nov 3, 2025 at 10:15 AM\nSubject: Llaves\nTo: <staff@inmobiliaria-andina.pe>\n\n"
        "Quiero mis llaves.\n"
    )
    msg = parse_message(raw)
    (fwd,) = msg.forwarded
    assert (
        fwd.from_addr == "rosa@x.pe"
        and fwd.text == "Quiero mis llaves."
        and not fwd.attached
    )
    assert "Quiero mis llaves." in msg.text  # `text` stays whole


def test_no_forward() -> None:
    assert split_forward("Hola,\n\nnada reenviado.") == (
        "Hola,\n\nnada reenviado.",
        None,
    )


# ---------------------------------------------------------------------------------------------
# CPython header parser bugs (shared/corpus/MANIFEST.md "Files that raise in Python")


def test_empty_group_in_returned_message() -> None:
    msg = corpus("mimekit/delivery-status.txt")
    assert msg.is_delivery_report
    assert msg.report_original is not None
    assert msg.to == ()  # "To: unlisted-recipients:; (no To-header on input)"
    assert "to" in msg.headers
    assert msg.report_original.to == ("newsletter-request@imusic.com",)


def test_cc_cut_after_at_sign() -> None:
    msg = corpus("discourse/long_embedded_email_headers.eml")
    assert msg.cc == ("c@example.com", "d@example.com")
    assert msg.forwarded and msg.forwarded[0].from_addr == "user@example.com"
    assert msg.forwarded[0].text == "Hello world!"


def test_folded_message_id_in_attached_message() -> None:
    msg = corpus("rt/outlook-rfc822")
    assert [a.content_type for a in msg.attachments] == ["message/rfc822"]
    (fwd,) = msg.forwarded
    assert fwd.attached and fwd.subject == "Updates to our terms of use"
    assert msg.attachments[0].filename == "Updates to our terms of use.eml"


def test_unknown_charset_x_unknown() -> None:
    msg = corpus("mikel-mail/raw_email10.eml")
    assert msg.text.startswith("Test test. Hi. Waving.")


def test_rfc2231_continuations_iso_2022_jp() -> None:
    msg = corpus("rt/rfc2231-attachment-filename-continuations")
    assert [a.filename for a in msg.attachments] == ["新しいテキスト ドキュメント.txt"]


def test_multipart_with_illegal_boundary_is_recovered() -> None:
    msg = corpus("mikel-mail/raw_email_with_illegal_boundary.eml")
    assert msg.text.startswith("Hello\nThis is an outlook test")
    # the compat32 parser reads this boundary directly; the recovery path stays for worse ones


def test_multipart_without_body_is_empty_not_an_error() -> None:
    msg = corpus("flanker/false-multipart.eml")
    assert msg.text == "" and msg.subject == "Broken MIME"


def test_nested_multiparts_are_walked() -> None:
    msg = corpus("django-helpdesk/pgp.eml")
    assert msg.text.strip()


# ---------------------------------------------------------------------------------------------
# Unparseable input


@pytest.mark.parametrize(
    "raw", [b"", b"   \r\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600]
)
def test_unparseable(raw: bytes) -> None:
    with pytest.raises(UnparseableMessage):
        parse_message(raw)


def test_outlook_msg_file_is_unparseable() -> None:
    with pytest.raises(UnparseableMessage):
        corpus("spamscope/mail_outlook_1")


def _is_corpus_mail(p: Path) -> bool:
    skip = {"MANIFEST.md", "manifest.json"}
    return p.is_file() and p.name not in skip and not p.name.startswith("README")


def _corpus_files() -> list[Path]:
    return sorted(p for p in require_shared("corpus").rglob("*") if _is_corpus_mail(p))


@pytest.mark.parametrize("name", shared_names("corpus", keep=_is_corpus_mail))
def test_every_corpus_file_parses_or_is_unparseable(name: str) -> None:
    raw = require_shared("corpus", name).read_bytes()
    try:
        msg = parse_message(raw)
    except UnparseableMessage:
        return
    assert isinstance(msg.text, str) and "\x00" not in msg.text and "\r" not in msg.text
    assert msg.raw == raw
    assert len(msg.body_digest) == 64
    for att in msg.attachments:
        assert (
            att.filename
            and "/" not in att.filename
            and not att.filename.startswith(".")
        )
        assert att.content_type == att.content_type.lower()
    if msg.date is not None:
        assert msg.date.tzinfo is not None


def test_corpus_is_large() -> None:
    assert len(_corpus_files()) > 100


# ---------------------------------------------------------------------------------------------
# Performance: linear in size, thousands of messages in seconds


def test_two_thousand_messages_parse_in_seconds() -> None:
    raws = [p.read_bytes() for p in sorted(require_shared("cases").glob("*.eml"))]
    start = time.perf_counter()
    for i in range(2000):
        parse_message(raws[i % len(raws)])
    assert time.perf_counter() - start < 30


def test_large_bodies_are_not_quadratic() -> None:
    line = "Buenos días, la filtración sigue en el baño del Dpto 504.\n"
    small = lit(
        "From: a@b.pe\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\n"
        + line * 2_000
    )
    big = lit(
        "From: a@b.pe\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\n"
        + line * 40_000
    )
    html = lit(
        "From: a@b.pe\nSubject: x\nContent-Type: text/html; charset=utf-8\n\n"
        + ("<p>" + line + "</p>") * 20_000
    )
    start = time.perf_counter()
    parse_message(small)
    t_small = time.perf_counter() - start
    start = time.perf_counter()
    assert parse_message(big).text.count("\n") >= 39_999
    t_big = time.perf_counter() - start
    assert t_big < max(2.0, t_small * 60)
    start = time.perf_counter()
    parse_message(html)
    assert time.perf_counter() - start < 10


# ---------------------------------------------------------------------------------------------
# RTF bodies inside winmail.dat (MS-OXRTFCP compressed RTF)


def test_compressed_rtf_spec_example() -> None:
    """MS-OXRTFCP's example, through the libraries tnefparse uses (compressed-rtf, striprtf)."""
    from compressed_rtf import decompress

    from mail.inbound.parse.tnef import rtf_to_text

    compressed = bytes.fromhex(
        "2d0000002b0000004c5a4675f1c5c7a703000a0072637067313235423"
        "20af32068656c090020627705b06c647d0a800fa0"
    )
    rtf = decompress(compressed)
    assert rtf == b"{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"
    assert rtf_to_text(rtf) == ("hello world", None)


def test_rtf_encapsulating_html() -> None:
    """Outlook's \\fromhtml RTF (MS-OXRTFEX): the HTML comes back, and its text."""
    from mail.inbound.parse.tnef import rtf_to_text

    rtf = (b"{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}"
           b"{\\*\\htmltag19 <html>}{\\*\\htmltag34 <body>}\\htmlrtf {\\htmlrtf0 Hola \\'e1rbol"
           b"{\\*\\htmltag84 <br>}\\htmlrtf\\par\\htmlrtf0 Segunda\\htmlrtf}\\htmlrtf0"
           b"{\\*\\htmltag35 </body>}{\\*\\htmltag27 </html>}}")
    text, html = rtf_to_text(rtf)
    assert text == "Hola \u00e1rbol\nSegunda"
    assert html == "<html><body>Hola \u00e1rbol<br>Segunda</body></html>"


def test_rtf_to_text_escapes() -> None:
    from mail.inbound.parse.tnef import rtf_to_text

    rtf = b"{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}Hola \\'e1rbol\\par Segunda \\u241?o}"
    assert rtf_to_text(rtf) == ("Hola \u00e1rbol\nSegunda \u00f1o", None)
