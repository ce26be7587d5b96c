#!/usr/bin/env python3
"""Generate the demo mailbox ``examples/mailbox`` (a Maildir) and its expected outcomes.

Usage:  python examples/make_mailbox.py [--check]

Writes, deterministically (same bytes on every run, stdlib only):
  examples/mailbox/{cur,new,tmp}/      Maildir; the messages are new/0001.eml ... new/0024.eml
  examples/mailbox/expected.json       one object per message: the outcome the import must record
  examples/mailbox/EXPECTED.md         the same as a readable table

Everything in the messages is invented (people, companies, addresses, document numbers); the
clients and staff are the ones of examples/catalog.yaml. The messages imitate what real clients
send: Gmail multipart/alternative with Spanish quote headers, Outlook HTML-only and Outlook
"De:/Enviado:/Para:/Asunto:" quotes, an iPhone inline photo, Thunderbird's RFC 2231 filename, a
mislabelled charset (utf-8 declared, cp1252 bytes), an Exchange out-of-office, a newsletter, a
Gmail DSN bounce, a re-delivered duplicate, a stranger's reply and a staff forward.

The images are produced by the tiny PNG and baseline-JPEG encoders below and the PDF is written by
hand, so the attachments are real, valid files of a few hundred bytes.

With ``--check`` (also run after generating) every message is parsed with
``email.message_from_bytes(b, policy=email.policy.default)``, the Maildir is opened with
``mailbox.Maildir``, and examples/check_catalog.py validates the catalog and that every client
sender in expected.json is in it.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import html
import json
import mailbox
import quopri
import shutil
import struct
import sys
import zlib
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAILDIR = HERE / "mailbox"
LIMA = dt.timezone(dt.timedelta(hours=-5))

SUPPORT = "postventa@inmobiliaria-andina.pe"
SUPPORT_NAME = "Postventa Inmobiliaria Andina"
MX = "mx1.inmobiliaria-andina.pe"

DIAS = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]
DIAS_LARGOS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MESES = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"]
MESES_LARGOS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                "septiembre", "octubre", "noviembre", "diciembre"]


# --------------------------------------------------------------------------- tiny file encoders

def png(width: int, height: int, pixel) -> bytes:
    """An 8-bit RGB PNG; ``pixel(x, y) -> (r, g, b)``."""
    raw = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def jpeg(width: int, height: int, block_rgb) -> bytes:
    """A baseline JFIF JPEG whose 8x8 blocks are flat colours; ``block_rgb(bx, by) -> (r, g, b)``.

    Only DC coefficients are coded (every block ends with EOB), with a small custom Huffman
    table: enough for a valid, decodable, mosaic-like "photo" of a few hundred bytes.
    """
    assert width % 8 == 0 and height % 8 == 0

    def seg(marker: int, payload: bytes) -> bytes:
        return struct.pack(">HH", marker, len(payload) + 2) + payload

    out = bytearray(b"\xff\xd8")
    out += seg(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00")
    out += seg(0xFFDB, b"\x00" + bytes([8] * 64))                       # quant table 0: all 8
    out += seg(0xFFC0, struct.pack(">BHHB", 8, height, width, 3)
               + b"\x01\x11\x00" + b"\x02\x11\x00" + b"\x03\x11\x00")
    dc_counts = bytes([0, 0, 0, 12] + [0] * 12)                          # 12 codes of length 4
    out += seg(0xFFC4, b"\x00" + dc_counts + bytes(range(12)))
    ac_counts = bytes([0, 2] + [0] * 14)                                 # EOB="00", 0x01="01"
    out += seg(0xFFC4, b"\x10" + ac_counts + b"\x00\x01")
    out += seg(0xFFDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")

    bits: list[int] = []

    def put(value: int, n: int) -> None:
        bits.extend((value >> (n - 1 - i)) & 1 for i in range(n))

    pred = [0, 0, 0]
    for by in range(height // 8):
        for bx in range(width // 8):
            r, g, b = block_rgb(bx, by)
            ycc = (0.299 * r + 0.587 * g + 0.114 * b,
                   128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                   128 + 0.5 * r - 0.418688 * g - 0.081312 * b)
            for c in range(3):
                dc = max(-127, min(127, round(ycc[c]) - 128))  # F(0,0) = 8*(v-128), q = 8
                diff, pred[c] = dc - pred[c], dc
                size = abs(diff).bit_length()
                put(size, 4)                                   # DC code: category as 4 bits
                if size:
                    put(diff if diff > 0 else diff + (1 << size) - 1, size)
                put(0, 2)                                      # EOB
    bits.extend([1] * (-len(bits) % 8))
    for i in range(0, len(bits), 8):
        byte = int("".join(map(str, bits[i:i + 8])), 2)
        out.append(byte)
        if byte == 0xFF:
            out.append(0)
    out += b"\xff\xd9"
    return bytes(out)


def pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF 1.4 with Helvetica text (WinAnsiEncoding), correct xref offsets."""
    def esc(s: str) -> bytes:
        return s.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")

    stream = b"BT /F1 13 Tf 72 770 Td (" + esc(title) + b") Tj ET\nBT /F1 10 Tf 72 740 Td 14 TL\n"
    stream += b"".join(b"(" + esc(line) + b") '\n" for line in lines) + b"ET\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title (" + esc(title) + b") /Producer (Atencion make_mailbox.py) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def wall_photo(stain=(92, 84, 70), seed=0):
    """A beige wall with a darker stain, as a block colour function for jpeg()."""
    def f(bx, by):
        d = ((bx - 6 - seed % 3) ** 2 + (by - 4) ** 2) ** 0.5
        t = max(0.0, min(1.0, (d - 1.5) / 3.5))
        base = (221 - (bx + by + seed) % 3 * 4, 208 - by % 2 * 3, 182)
        return tuple(round(s + (b - s) * t) for s, b in zip(stain, base))
    return f


# --------------------------------------------------------------------------- MIME building

def h(value: str) -> str:
    """A header value, RFC 2047-encoded when it is not ASCII."""
    try:
        value.encode("ascii")
        return value
    except UnicodeEncodeError:
        return Header(value, "utf-8").encode()


def addr(name: str, email_: str) -> str:
    return formataddr((name, email_), charset="utf-8")


def when(day: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, second, tzinfo=LIMA)


def rfcdate(d: dt.datetime) -> str:
    return format_datetime(d)


def token(seed: str, n: int = 16, alphabet="0123456789abcdef") -> str:
    digest = hashlib.shake_256(seed.encode()).digest(n)
    return "".join(alphabet[b % len(alphabet)] for b in digest[:n])


def mid_gmail(seed: str) -> str:
    alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+="
    return f"<CA{token(seed, 50, alpha)}@mail.gmail.com>"


def mid_outlook(seed: str) -> str:
    box = "SJ0PR11MB" + token(seed + "box", 4, "0123456789")
    return f"<{box}{token(seed, 28, '0123456789ABCDEF')}@{box}.namprd11.prod.outlook.com>"


def mid_plain(seed: str, domain: str) -> str:
    return f"<{token(seed, 8)}-{token(seed + '1', 4)}-{token(seed + '2', 12)}@{domain}>"


def gmail_boundary(seed: str) -> str:
    return "000000000000" + token(seed, 16)


def qp(text: str, charset: str = "utf-8") -> bytes:
    return quopri.encodestring(text.encode(charset))


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data)


def text_part(text: str, subtype: str = "plain", charset: str = "UTF-8", cte: str = "quoted-printable",
              raw: bytes | None = None) -> bytes:
    if raw is not None:
        body = raw
    elif cte == "quoted-printable":
        body = qp(text, charset)
    elif cte == "base64":
        body = b64(text.encode(charset))
    else:
        body = text.encode(charset)
    if not body.endswith(b"\n"):
        body += b"\n"
    return (f'Content-Type: text/{subtype}; charset="{charset}"\n'
            f"Content-Transfer-Encoding: {cte}\n\n").encode() + body


def attachment(data: bytes, ctype: str, filename: str, disposition: str = "attachment",
               extra: str = "", style: str = "plain") -> bytes:
    if style == "plain":
        head = (f'Content-Type: {ctype}; name="{filename}"\n'
                f'Content-Disposition: {disposition}; filename="{filename}"\n')
    elif style == "thunderbird":        # RFC 2047 in name=, RFC 2231 in filename*=
        from urllib.parse import quote
        head = (f'Content-Type: {ctype};\n name="{Header(filename, "utf-8").encode()}"\n'
                f"Content-Disposition: {disposition};\n filename*=UTF-8''{quote(filename)}\n")
    else:
        raise ValueError(style)
    return (head + extra + "Content-Transfer-Encoding: base64\n\n").encode() + b64(data)


def multipart(subtype: str, boundary: str, parts: list[bytes], params: str = "") -> bytes:
    out = f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}\n\n'.encode()
    for p in parts:
        out += f"--{boundary}\n".encode() + p + b"\n"
    return out + f"--{boundary}--\n".encode()


def received(frm: str, ip: str, at: dt.datetime, seed: str) -> list[tuple[str, str]]:
    return [("Received", f"from {frm} ({frm} [{ip}])\n\tby {MX} (Postfix) with ESMTPS id "
                         f"4{token(seed, 10, 'BCDFGHJKLMNPQRSTVWXYZ0123456789')}\n"
                         f"\tfor <{SUPPORT}>; {rfcdate(at + dt.timedelta(seconds=3))}")]


def message(envelope: str, trace: list[tuple[str, str]], headers: list[tuple[str, str]],
            entity: bytes) -> bytes:
    lines = [f"Return-Path: <{envelope}>", f"Delivered-To: {SUPPORT}"]
    lines += [f"{k}: {v}" for k, v in trace + headers]
    lines.append("MIME-Version: 1.0")
    return ("\n".join(lines) + "\n").encode("ascii") + entity


def paras_html(text: str) -> str:
    out = []
    for line in text.split("\n"):
        out.append(f"<div>{html.escape(line)}</div>" if line else "<div><br></div>")
    return "".join(out)


def gmail_reply_html(new: str, attribution: str, quoted: str) -> str:
    return (f'<div dir="ltr">{paras_html(new)}</div><br><div class="gmail_quote">'
            f'<div dir="ltr" class="gmail_attr">{html.escape(attribution)}<br></div>'
            '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
            f'rgb(204,204,204);padding-left:1ex">{paras_html(quoted)}</blockquote></div>\n')


def quote_gt(text: str) -> str:
    return "\n".join(("> " + line) if line else ">" for line in text.split("\n"))


def gmail_attr(d: dt.datetime, name: str, email_: str, parens: bool = False) -> str:
    who = f"{name} (<{email_}>)" if parens else f"{name} <{email_}>"
    return (f"El {DIAS[d.weekday()]}, {d.day} {MESES[d.month - 1]} {d.year} a las "
            f"{d.hour}:{d.minute:02d}, {who} escribió:")


def outlook_header(d: dt.datetime, frm: str, to: str, subject: str, enviado: str = "Enviado") -> str:
    fecha = (f"{DIAS_LARGOS[d.weekday()]}, {d.day} de {MESES_LARGOS[d.month - 1]} de {d.year} "
             f"{d.hour}:{d.minute:02d}")
    return (f"________________________________\nDe: {frm}\n{enviado}: {fecha}\nPara: {to}\n"
            f"Asunto: {subject}")


def ack_text(name: str, code: str) -> str:
    """What our acknowledgement says (quoted by the clients who reply to it)."""
    return (f"Estimado(a) {name}:\n\n"
            f"Hemos registrado su solicitud con el código {code}. Un asesor de Postventa se "
            "comunicará con usted dentro del plazo de atención.\n\n"
            f"Para agregar información, responda a este correo manteniendo el código [{code}] en "
            "el asunto.\n\n"
            "Atentamente,\nPostventa - Inmobiliaria Andina S.A.C.\nTel. (01) 615-4800")


def ack_mid(code: str, d: dt.datetime) -> str:
    return f"<{d.strftime('%Y%m%d%H%M%S')}.{code}.ack@inmobiliaria-andina.pe>"


GMAIL_IP = "209.85.218.{}"
OUTLOOK_HOST = "mail-dm6nam12olkn2080.outbound.protection.outlook.com"


def gmail_trace(at, seed, sender_domain="gmail.com"):
    n = 40 + int(token(seed + "host", 2, "0123456789")) % 30
    return received(f"mail-ej1-f{n}.google.com", GMAIL_IP.format(n), at, seed) + [
        ("Authentication-Results", f"{MX};\n\tdkim=pass header.d={sender_domain};\n\t"
                                   f"spf=pass smtp.mailfrom={sender_domain};\n\tdmarc=pass header.from={sender_domain}")]


def outlook_trace(at, seed, sender_domain):
    return received(OUTLOOK_HOST, "40.92.21.80", at, seed) + [
        ("Authentication-Results", f"{MX};\n\tdkim=pass header.d={sender_domain};\n\t"
                                   f"spf=pass smtp.mailfrom={sender_domain};\n\tdmarc=pass header.from={sender_domain}")]


# --------------------------------------------------------------------------- the messages

MESSAGES: list[tuple[str, bytes, dict]] = []   # (file name, bytes, expected)
MIDS: dict[str, str] = {}                       # file -> Message-ID


def add(name: str, data: bytes, expected: dict, crlf: bool = False) -> None:
    if crlf:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    expected = {"file": name, **expected}
    for key in ("outcome", "code", "requester", "contains", "not_contains", "reason"):
        expected.setdefault(key, None)
    MESSAGES.append((name, data, expected))


def build() -> None:
    # 0001 ---------------------------------------------------------------- Rosa, Gmail alternative
    d1 = when(2, 9, 12, 41)
    rosa = ("Rosa Quispe Huamán", "rosa.quispe.h@gmail.com")
    s1 = "Filtración de agua en el techo del baño - Dpto. 302 Torre B"
    t1 = ("Buenos días:\n\n"
          "Les escribo como propietaria del departamento 302 de la Torre B de Residencial Los Olivos. "
          "Desde el sábado aparece una mancha de humedad en el techo del baño principal y anoche empezó "
          "a gotear junto a la lámpara. Creemos que el agua viene del departamento de arriba.\n\n"
          "Les agradeceré enviar a un técnico para revisar la filtración antes de que dañe el falso "
          "techo. Puedo recibirlos cualquier día por la mañana.\n\n"
          "Mi esposo, Percy Villanueva, también es titular y está en copia.\n\n"
          "Saludos cordiales,\nRosa Quispe Huamán\nDNI 45871236\nCel. 987 654 321")
    MIDS["0001"] = mid_gmail("0001")
    e1 = multipart("alternative", gmail_boundary("0001"), [
        text_part(t1), text_part(f'<div dir="ltr">{paras_html(t1)}</div>\n', "html")])
    add("0001.eml", message(rosa[1], gmail_trace(d1, "0001"), [
        ("From", addr(*rosa)), ("Date", rfcdate(d1)), ("Message-ID", MIDS["0001"]),
        ("Subject", h(s1)), ("To", SUPPORT), ("Cc", addr("Percy Villanueva Soto", "percy.vsoto@hotmail.com"))],
        e1), dict(outcome="ticket", code="AT-000001", requester=rosa[1], requester_name=rosa[0],
                  subject=s1, contains="empezó a gotear junto a la lámpara", contract="CV-2023-0007",
                  project="Residencial Los Olivos", subdivision="Torre B", unit="302",
                  note="Gmail multipart/alternative (text + HTML); co-holder Percy in Cc"))

    # 0002 ---------------------------------------------------------------- bounce of our ack to Rosa
    d2 = when(2, 9, 13, 20)
    ack1_at = when(2, 9, 12, 58)
    ack1 = (f"Return-Path: <{SUPPORT}>\nReceived: by {MX} (Postfix, from userid 1001)\n\tid 4Qm8Zk2c1Yz9"
            f"; {rfcdate(ack1_at)}\n"
            f"From: {addr('Postventa Inmobiliaria Andina', SUPPORT)}\nTo: {addr(*rosa)}\n"
            f"Subject: [AT-000001] Hemos recibido su solicitud\nDate: {rfcdate(ack1_at)}\n"
            f"Message-ID: {ack_mid('AT-000001', ack1_at)}\nIn-Reply-To: {MIDS['0001']}\n"
            f"References: {MIDS['0001']}\nAuto-Submitted: auto-generated\nReply-To: {SUPPORT}\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=\"utf-8\"\n"
            "Content-Transfer-Encoding: quoted-printable\n\n").encode() + qp(ack_text(rosa[0], "AT-000001"))
    human = ("** No se ha podido entregar el mensaje **\n\n"
             "No se ha podido entregar tu mensaje a rosa.quispe.h@gmail.com porque la cuenta de correo "
             "electrónico a la que intentaste acceder ha superado su cuota de almacenamiento.\n\n"
             "La respuesta fue:\n\n552 5.2.2 The recipient's inbox is out of storage space. "
             "Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm\n")
    dsn = ("Reporting-MTA: dns; googlemail.com\n"
           f"Arrival-Date: {rfcdate(ack1_at)}\n\n"
           "Final-Recipient: rfc822; rosa.quispe.h@gmail.com\nAction: failed\nStatus: 5.2.2\n"
           "Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.0.27, the server for the domain gmail.com.)\n"
           "Diagnostic-Code: smtp; 552-5.2.2 The recipient's inbox is out of storage space.\n"
           f"Last-Attempt-Date: {rfcdate(d2)}\n")
    bnd = gmail_boundary("0002")
    e2 = multipart("report", bnd, [
        text_part(human),
        b"Content-Type: message/delivery-status\n\n" + dsn.encode(),
        b"Content-Type: message/rfc822\n\n" + ack1], params="; report-type=delivery-status")
    add("0002.eml", message("", received("mail-sor-f69.google.com", "209.85.220.69", d2, "0002"), [
        ("From", "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"),
        ("To", SUPPORT), ("Date", rfcdate(d2)), ("Message-ID", mid_gmail("0002")),
        ("Subject", "Delivery Status Notification (Failure)"), ("Auto-Submitted", "auto-replied"),
        ("In-Reply-To", ack_mid("AT-000001", ack1_at)), ("References", ack_mid("AT-000001", ack1_at))],
        e2), dict(outcome="ignored", reason="bounce", code="AT-000001",
                  note="Gmail DSN (multipart/report, empty Return-Path, Auto-Submitted too); the returned "
                       "original is our '[AT-000001] Hemos recibido su solicitud'. Its Message-ID is not "
                       "one the demo database knows, so the code in the returned subject is the only link."))

    # 0003 ---------------------------------------------------------------- Marco, Outlook HTML only
    d3 = when(2, 10, 40, 5)
    marco = ("Marco Antonio Salazar Vidal", "marco.salazar.v@outlook.com")
    s3 = "Puerta principal no cierra correctamente"
    html3 = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office">\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=Windows-1252">\n'
        '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>\n'
        '</head>\n<body dir="ltr">\n'
        '<div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">\n'
        'Estimados señores de Postventa:</div>\n'
        '<div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt;"><br></div>\n'
        '<div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt;">\n'
        'La puerta principal de mi departamento (Torre A, dpto. 201, Residencial Los Olivos) roza con el '
        'marco y no cierra sin empujarla con fuerza. Además, la chapa de seguridad se traba al girar la '
        'llave desde afuera.</div>\n'
        '<div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt;"><br></div>\n'
        '<div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt;">\n'
        'Solicito que la revisen dentro de la <b>garantía</b>, ya que el departamento se entregó hace '
        'menos de un año.</div>\n'
        '<div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt;"><br></div>\n'
        '<div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt;">\n'
        'Atentamente,<br>Marco Antonio Salazar Vidal<br>Cel. 955 120 334</div>\n</body>\n</html>\n')
    MIDS["0003"] = mid_outlook("0003")
    add("0003.eml", message(marco[1], outlook_trace(d3, "0003", "outlook.com"), [
        ("From", addr(*marco)), ("To", addr("Postventa Inmobiliaria Andina", SUPPORT)),
        ("Subject", s3), ("Thread-Topic", s3), ("Thread-Index", "AQHbTm" + token("0003", 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")),
        ("Date", rfcdate(d3)), ("Message-ID", MIDS["0003"]), ("Accept-Language", "es-PE, en-US"),
        ("Content-Language", "es-PE"), ("X-MS-Has-Attach", ""), ("X-MS-TNEF-Correlator", ""),
        ("X-MS-Exchange-Organization-SCL", "1")],
        text_part(html3, "html", "Windows-1252")),
        dict(outcome="ticket", code="AT-000002", requester=marco[1], requester_name=marco[0], subject=s3,
             contains="roza con el marco y no cierra", contract="CV-2023-0003",
             project="Residencial Los Olivos", subdivision="Torre A", unit="201",
             note="Outlook.com, HTML only (Windows-1252, quoted-printable): detail comes from HTML to text"))

    # 0004 ---------------------------------------------------------------- Luis, Gmail + 2 PNG
    d4 = when(2, 15, 5, 12)
    luis = ("Luis Alberto Fernández Paredes", "luisfernandez.p@gmail.com")
    s4 = "Pintura descascarada y zócalos despegados - Dpto. 401 Torre B"
    t4 = ("Buenas tardes,\n\n"
          "En la sala y el pasadizo de mi departamento (401, Torre B, Residencial Los Olivos) la pintura "
          "se está descascarando cerca del piso y varios zócalos de madera se han despegado de la pared. "
          "Adjunto dos fotos.\n\n"
          "Quisiera saber si esto lo cubre la garantía de acabados y cuándo podrían venir a revisarlo.\n\n"
          "Gracias,\nLuis Fernández P.")
    p1 = png(48, 32, lambda x, y: (236 - (x * y) % 7, 229 - y % 5, 214) if y < 24 else (122, 84, 52))
    p2 = png(48, 32, lambda x, y: (230, 224 - (x % 6) * 3, 208) if (x + y) % 11 else (170, 160, 140))
    MIDS["0004"] = mid_gmail("0004")
    e4 = multipart("mixed", gmail_boundary("0004m"), [
        multipart("alternative", gmail_boundary("0004a"), [
            text_part(t4), text_part(f'<div dir="ltr">{paras_html(t4)}</div>\n', "html")]),
        attachment(p1, "image/png", "IMG_20261102_143012.png",
                   extra="Content-ID: <f_mh1a2b3c0>\nX-Attachment-Id: f_mh1a2b3c0\n"),
        attachment(p2, "image/png", "IMG_20261102_143047.png",
                   extra="Content-ID: <f_mh1a2b3c1>\nX-Attachment-Id: f_mh1a2b3c1\n")])
    add("0004.eml", message(luis[1], gmail_trace(d4, "0004"), [
        ("From", addr(*luis)), ("Date", rfcdate(d4)), ("Message-ID", MIDS["0004"]),
        ("Subject", h(s4)), ("To", SUPPORT)], e4),
        dict(outcome="ticket", code="AT-000003", requester=luis[1], requester_name=luis[0], subject=s4,
             contains="varios zócalos de madera se han despegado", contract="CV-2023-0011",
             attachments=["IMG_20261102_143012.png", "IMG_20261102_143047.png"],
             note="Gmail mixed(alternative, 2 PNG)"))

    # 0005 ---------------------------------------------------------------- company client, PDF
    d5 = when(2, 17, 30, 44)
    jr = ("Jorge Ramírez Tapia", "jramirez@pacificosur.com.pe")
    s5 = "Solicitud de documentos para independización del local L-01"
    t5 = ("Señores\nInmobiliaria Andina S.A.C. / Ventas y Proyectos Lima S.A.C.\nPresente.-\n\n"
          "En representación de Comercializadora Pacífico Sur S.A.C. (RUC 20512345678), propietaria del "
          "local comercial L-01 del Edificio Mirador de Surco (contrato CV-2024-0102), solicitamos la "
          "entrega de la memoria descriptiva, los planos de independización y la copia de la declaratoria "
          "de fábrica, necesarios para inscribir la independización del local en SUNARP.\n\n"
          "Adjuntamos la carta firmada por nuestro gerente general.\n\n"
          "Atentamente,\n\nJorge Ramírez Tapia\nJefe de Administración\n"
          "Comercializadora Pacífico Sur S.A.C.\nTel. (01) 445-2310 anexo 112")
    pdf5 = pdf("Carta N.° 045-2026-GG/PS", [
        "Santiago de Surco, 2 de noviembre de 2026", "",
        "Señores: Inmobiliaria Andina S.A.C.", "Atención: Área de Postventa", "",
        "Asunto: Documentos para la independización del local L-01 (contrato CV-2024-0102)", "",
        "Por medio de la presente solicitamos la memoria descriptiva, los planos de",
        "independización y la declaratoria de fábrica del local L-01 del Edificio",
        "Mirador de Surco, para su inscripción en la SUNARP.", "",
        "Atentamente,", "", "Gerencia General - Comercializadora Pacífico Sur S.A.C."])
    MIDS["0005"] = mid_plain("0005", "pacificosur.com.pe")
    e5 = multipart("mixed", "------------" + token("0005b", 24, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), [
        text_part(t5, charset="UTF-8", cte="8bit"),
        attachment(pdf5, "application/pdf", "Carta_045-2026-GG.pdf")],
        params="")
    add("0005.eml", message(jr[1], received("mail.pacificosur.com.pe", "190.117.64.21", d5, "0005"), [
        ("Message-ID", MIDS["0005"]), ("Date", rfcdate(d5)),
        ("User-Agent", "Mozilla Thunderbird"), ("Content-Language", "es-ES"),
        ("To", SUPPORT), ("Cc", addr("Gerencia Pacífico Sur", "gerencia@pacificosur.com.pe")),
        ("From", addr(*jr)), ("Subject", h(s5)),
        ("Organization", "Comercializadora Pacifico Sur S.A.C.")], e5),
        dict(outcome="ticket", code="AT-000004", requester=jr[1],
             requester_name="Comercializadora Pacífico Sur S.A.C.", subject=s5,
             contains="planos de independización", contract="CV-2024-0102",
             attachments=["Carta_045-2026-GG.pdf"],
             note="RUC client (company); the sender is the client's second address; Thunderbird, 8bit utf-8"))

    # 0006 ---------------------------------------------------------------- out of office (Exchange)
    d6 = when(2, 17, 31, 2)
    s6 = "Respuesta automática: [AT-000004] Hemos recibido su solicitud"
    t6 = ("Gracias por su mensaje. Me encuentro de vacaciones del 3 al 13 de noviembre, sin acceso al "
          "correo.\n\nPara temas urgentes comuníquese con gerencia@pacificosur.com.pe o al (01) 445-2310.\n\n"
          "Jorge Ramírez Tapia")
    add("0006.eml", message("", received("mail.pacificosur.com.pe", "190.117.64.21", d6, "0006"), [
        ("From", addr(*jr)), ("To", addr(SUPPORT_NAME, SUPPORT)), ("Subject", h(s6)),
        ("Thread-Topic", h("[AT-000004] Hemos recibido su solicitud")),
        ("Date", rfcdate(d6)), ("Message-ID", mid_plain("0006", "pacificosur.com.pe")),
        ("In-Reply-To", ack_mid("AT-000004", when(2, 17, 31, 0))),
        ("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All"),
        ("X-MS-Exchange-Inbox-Rules-Loop", jr[1]), ("X-MS-Exchange-Generated-Message-Source", "Mailbox Rules Agent"),
        ("Content-Language", "es-PE")],
        text_part(t6)),
        dict(outcome="ignored", reason="auto_reply", code="AT-000004",
             note="Exchange out-of-office to our acknowledgement of AT-000004; the inbound record may name "
                  "AT-000004, but no comment is added and nothing is sent"))

    # 0007 ---------------------------------------------------------------- Javier (2 contracts), iPhone
    d7 = when(3, 8, 20, 33)
    jav = ("Javier Huerta Campos", "javier.huerta.c@gmail.com")
    s7 = "Intercomunicador no funciona"
    t7 = ("Buenos días,\n\n"
          "El intercomunicador de mi departamento en Los Olivos no funciona desde el fin de semana: suena "
          "el timbre pero no se escucha a la persona que llama desde la puerta del edificio ni se puede "
          "abrir la puerta con el botón. Adjunto foto del equipo.\n\n"
          "Por favor, su apoyo.\n\nJavier Huerta\n\nEnviado desde mi iPhone")
    MIDS["0007"] = f"<{token('0007', 8, '0123456789ABCDEF')}-{token('0007a', 4, '0123456789ABCDEF')}-" \
                   f"{token('0007b', 4, '0123456789ABCDEF')}-{token('0007c', 12, '0123456789ABCDEF')}@gmail.com>"
    j7 = jpeg(64, 48, lambda bx, by: (235, 233, 226) if not (2 <= bx <= 5 and 1 <= by <= 4)
              else ((40, 40, 44) if (bx, by) != (3, 2) else (96, 160, 92)))
    e7 = multipart("mixed", "Apple-Mail-" + token("0007m", 8, "0123456789ABCDEF").upper(), [
        text_part(t7, charset="utf-8"),
        attachment(j7, "image/jpeg", "IMG_4821.jpeg", disposition="inline")])
    raw7 = message(jav[1], gmail_trace(d7, "0007"), [
        ("From", addr(*jav)), ("Content-Transfer-Encoding", "7bit"), ("Subject", s7),
        ("Date", rfcdate(d7)), ("Message-Id", MIDS["0007"]), ("To", SUPPORT),
        ("X-Mailer", "iPhone Mail (22B91)")], e7)
    add("0007.eml", raw7,
        dict(outcome="ticket", code="AT-000005", requester=jav[1], requester_name=jav[0], subject=s7,
             contains="no se escucha a la persona que llama", contract=None,
             attachments=["IMG_4821.jpeg"],
             note="client with TWO contracts: requester matched, but project/unit/contract stay empty; "
                  "iPhone photo with Content-Disposition: inline"))

    # 0008 ---------------------------------------------------------------- Luis replies (Gmail quote)
    d8 = when(3, 9, 45, 10)
    ack3_at = when(2, 15, 6, 0)
    s8 = "Re: [AT-000003] Hemos recibido su solicitud"
    new8 = ("Hola, una precisión: también se está despegando el contrazócalo de la cocina, al lado de la "
            "lavadora. Los sábados estoy en casa toda la mañana por si pueden venir.\n\nLuis")
    attr8 = gmail_attr(ack3_at, "Inmobiliaria Andina", SUPPORT)
    q8 = ack_text(luis[0], "AT-000003")
    t8 = f"{new8}\n\n{attr8}\n\n{quote_gt(q8)}\n"
    e8 = multipart("alternative", gmail_boundary("0008"), [
        text_part(t8), text_part(gmail_reply_html(new8, attr8, q8), "html")])
    add("0008.eml", message(luis[1], gmail_trace(d8, "0008"), [
        ("From", addr(*luis)), ("Date", rfcdate(d8)), ("Message-ID", mid_gmail("0008")),
        ("In-Reply-To", ack_mid("AT-000003", ack3_at)),
        ("References", f"{MIDS['0004']} {ack_mid('AT-000003', ack3_at)}"),
        ("Subject", s8), ("To", addr(SUPPORT_NAME, SUPPORT))], e8),
        dict(outcome="comment", code="AT-000003", requester=luis[1],
             contains="también se está despegando el contrazócalo de la cocina",
             not_contains="Hemos registrado su solicitud",
             note="Gmail-Spanish attribution 'El lun, 2 nov 2026 a las 15:06, ... escribió:' + '> ' lines"))

    # 0009 ---------------------------------------------------------------- newsletter (bulk)
    d9 = when(3, 11, 0, 0)
    s9 = "¡Cyber Hogar! Hasta 40% en pinturas, cerámicos y grifería"
    t9 = ("HogarPlus Perú - Cyber Hogar\n\nSolo hasta el domingo: hasta 40% de descuento en pinturas "
          "látex, cerámicos y grifería. Despacho gratis en Lima Metropolitana por compras mayores a "
          "S/ 299.\n\nVer ofertas: https://www.hogarplus.pe/cyber?utm_source=newsletter\n\n"
          "Recibes este correo porque te suscribiste a las novedades de HogarPlus Perú.\n"
          "Anular suscripción: https://news.hogarplus.pe/u/8f2c1e")
    e9 = multipart("alternative", "----=_Part_" + token("0009", 12, "0123456789"), [
        text_part(t9),
        text_part("<html><body><table width=\"600\"><tr><td><h1>Cyber Hogar</h1><p>Hasta <b>40%</b> en "
                  "pinturas, cerámicos y grifería.</p><p><a href=\"https://www.hogarplus.pe/cyber\">Ver "
                  "ofertas</a></p><p style=\"font-size:11px\">Anular suscripción: "
                  "<a href=\"https://news.hogarplus.pe/u/8f2c1e\">aquí</a></p></td></tr></table>"
                  "<img src=\"https://news.hogarplus.pe/o/8f2c1e.gif\" width=\"1\" height=\"1\"></body></html>",
                  "html")])
    add("0009.eml", message("bounces+8f2c1e@news.hogarplus.pe",
                            received("o1.news.hogarplus.pe", "167.89.12.45", d9, "0009"), [
        ("From", addr("HogarPlus Perú", "novedades@news.hogarplus.pe")), ("To", SUPPORT),
        ("Subject", h(s9)), ("Date", rfcdate(d9)), ("Message-ID", mid_plain("0009", "news.hogarplus.pe")),
        ("List-Id", "Novedades HogarPlus <novedades.news.hogarplus.pe>"),
        ("List-Unsubscribe", "<https://news.hogarplus.pe/u/8f2c1e>, <mailto:unsubscribe@news.hogarplus.pe?subject=8f2c1e>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"), ("Precedence", "bulk"),
        ("X-Campaign", "cyber-hogar-2026-11")], e9),
        dict(outcome="ignored", reason="bulk", note="newsletter: List-Id, List-Unsubscribe, Precedence: bulk"))

    # 0010 ---------------------------------------------------------------- mislabelled charset (cp1252)
    d10 = when(3, 19, 22, 7)
    gio = ("Giovanna Ccori Mamani", "giovanna.ccori@yahoo.es")
    s10 = "Humedad y moho en dormitorio - Dpto 102 Torre B"
    t10 = ("Buenas noches,\n\n"
           "Les escribo porque en la habitación principal del dpto. 102 de la Torre B apareció humedad en la "
           "pared que colinda con el baño. Ya salió moho y la pintura está hinchada; mi hijo pequeño duerme "
           "ahí y me preocupa su salud.\n\n"
           "¿Podrían enviar a un técnico lo antes posible? Estoy en casa de lunes a viernes después de las "
           "6 p.m. y los sábados todo el día.\n\n"
           "Gracias por su atención.\nGiovanna Ccori Mamani\nDNI 43567821 - Cel. 962 305 781")
    add("0010.eml", message(gio[1], received("sonic309-21.consmr.mail.ir2.yahoo.com", "77.238.176.37",
                                             d10, "0010"), [
        ("Date", rfcdate(d10)), ("From", addr(*gio)), ("To", SUPPORT),
        ("Message-ID", f"<{token('0010', 9, '0123456789')}.{token('0010a', 7, '0123456789')}."
                       f"1793752927@mail.yahoo.com>"),
        ("Subject", s10), ("X-Mailer", "Microsoft Outlook 15.0")],
        text_part("", charset="utf-8", cte="8bit", raw=t10.replace("\n", "\r\n").encode("cp1252"))),
        dict(outcome="ticket", code="AT-000006", requester=gio[1], requester_name=gio[0], subject=s10,
             contains="en la habitación principal del dpto. 102", contract="CV-2023-0009",
             note="declares charset=utf-8 but the body bytes are Windows-1252 (e.g. 0xF3 for 'ó'); "
                  "CRLF line endings; the accents must come out right (charset-normalizer fallback)"),
        crlf=True)

    # 0011 ---------------------------------------------------------------- Marco: "RE: AT-2" + Outlook quote
    d11 = when(4, 8, 5, 55)
    ack2_at = when(2, 10, 41, 0)
    s11 = "RE: AT-2 Puerta principal sigue sin cerrar"
    new11 = ("Buenos días, hasta ahora nadie se ha comunicado conmigo. La puerta sigue sin cerrar y anoche "
             "tuvimos que dejarla asegurada con una silla. Les pido que me den una fecha de visita.\n\n"
             "Saludos,\nMarco Salazar")
    hdr11 = outlook_header(ack2_at, f"{SUPPORT_NAME} <{SUPPORT}>", f"{marco[0]} <{marco[1]}>",
                           "[AT-000002] Hemos recibido su solicitud")
    q11 = ack_text(marco[0], "AT-000002")
    t11 = f"{new11}\n\n{hdr11}\n\n{q11}\n"
    html11 = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
              f'<body dir="ltr"><div style="font-family: Calibri, Arial, Helvetica, sans-serif; font-size: 12pt;">'
              f'{paras_html(new11)}</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%" '
              f'tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" '
              f'style="font-size:11pt" color="#000000"><b>De:</b> {html.escape(SUPPORT_NAME)} '
              f'&lt;{SUPPORT}&gt;<br><b>Enviado:</b> {hdr11.splitlines()[2][9:]}<br><b>Para:</b> '
              f'{html.escape(marco[0])} &lt;{marco[1]}&gt;<br><b>Asunto:</b> [AT-000002] Hemos recibido su '
              f'solicitud</font><div>&nbsp;</div></div><div>{paras_html(q11)}</div></body></html>\n')
    e11 = multipart("alternative", "_000_" + token("0011", 24, "0123456789ABCDEF") + "_", [
        text_part(t11, charset="utf-8"), text_part(html11, "html", "utf-8")])
    add("0011.eml", message(marco[1], outlook_trace(d11, "0011", "outlook.com"), [
        ("From", addr(*marco)), ("To", addr("Postventa Inmobiliaria Andina", SUPPORT)), ("Subject", s11),
        ("Thread-Topic", "AT-2 Puerta principal sigue sin cerrar"),
        ("Thread-Index", "AQHbTm" + token("0011", 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")),
        ("Date", rfcdate(d11)), ("Message-ID", mid_outlook("0011")), ("Content-Language", "es-PE")],
        e11),
        dict(outcome="comment", code="AT-000002", requester=marco[1],
             contains="tuvimos que dejarla asegurada con una silla",
             not_contains="Hemos registrado su solicitud",
             note="code without brackets or zero padding ('RE: AT-2'); no In-Reply-To/References; "
                  "Outlook-Spanish quote (underscores + De:/Enviado:/Para:/Asunto:, no '>' prefix)"))

    # 0012 ---------------------------------------------------------------- tenant not in the catalog
    d12 = when(4, 12, 30, 18)
    gab = ("Gabriel Ortiz Medina", "gabo.ortiz.m@gmail.com")
    s12 = "Ascensor de la Torre A se detiene entre pisos"
    t12 = ("Buenas tardes, soy inquilino del departamento 402 de la Torre A de Residencial Los Olivos.\n\n"
           "Desde el lunes el ascensor se detiene entre el 2.º y el 3.er piso y hay que volver a marcar para "
           "que continúe. Hoy una vecina mayor se quedó atrapada unos minutos. La administración del edificio "
           "me indicó que les escriba a ustedes porque el ascensor aún está en garantía.\n\n"
           "Gabriel Ortiz\n987 112 903")
    add("0012.eml", message(gab[1], gmail_trace(d12, "0012"), [
        ("From", addr(*gab)), ("Date", rfcdate(d12)), ("Message-ID", mid_gmail("0012")),
        ("Subject", s12), ("To", SUPPORT)],
        text_part(t12)),
        dict(outcome="ticket", code="AT-000007", requester=gab[1], requester_name=gab[0], subject=s12,
             contains="el ascensor se detiene entre el 2.º y el 3.er piso", contract=None,
             note="sender is not a catalog client (a tenant): requester is a bare name + email"))

    # 0013 ---------------------------------------------------------------- Renato, terma warranty, PDF + JPEG
    d13 = when(4, 16, 10, 40)
    ren = ("Renato Paz Olaechea", "renato.pazo@hotmail.com")
    s13 = "Garantía de terma eléctrica - no calienta el agua"
    t13 = ("Estimados:\n\n"
           "La terma eléctrica de 80 litros instalada en mi departamento (Torre 1, dpto. 501, Edificio "
           "Mirador de Surco) dejó de calentar el agua. El foco piloto se enciende, pero el agua sale fría "
           "incluso después de tres horas.\n\n"
           "Adjunto la boleta que me entregaron con el departamento y una foto de la placa de la terma. "
           "Solicito que se haga efectiva la garantía.\n\n"
           "Saludos,\nRenato Paz Olaechea")
    pdf13 = pdf("Boleta de venta electrónica B001-00004512", [
        "Comercial Termotec S.A.C. - RUC 20498765432", "Fecha de emisión: 12/03/2024", "",
        "Cliente: Ventas y Proyectos Lima S.A.C. - RUC 20556677889", "",
        "1 x Terma eléctrica 80 L, 1500 W, modelo TE-80L          S/ 649.00",
        "Instalación en Edificio Mirador de Surco, Torre 1, 501    S/   0.00", "",
        "Total                                                     S/ 649.00",
        "Garantía del fabricante: 2 años."])
    j13 = jpeg(48, 64, lambda bx, by: (242, 242, 240) if by not in (2, 3) or bx in (0, 5)
               else (188, 190, 196))
    MIDS["0013"] = mid_outlook("0013")
    e13 = multipart("mixed", "_004_" + token("0013m", 24, "0123456789ABCDEF") + "_", [
        multipart("alternative", "_000_" + token("0013a", 24, "0123456789ABCDEF") + "_", [
            text_part(t13, charset="iso-8859-1"),
            text_part(f'<html><body dir="ltr"><div>{paras_html(t13)}</div></body></html>\n', "html",
                      "iso-8859-1")]),
        attachment(pdf13, "application/pdf", "Boleta_B001-00004512.pdf"),
        attachment(j13, "image/jpeg", "placa_terma.jpg")])
    add("0013.eml", message(ren[1], outlook_trace(d13, "0013", "hotmail.com"), [
        ("From", addr(*ren)), ("To", SUPPORT), ("Subject", h(s13)),
        ("Thread-Topic", h(s13)), ("Date", rfcdate(d13)), ("Message-ID", MIDS["0013"]),
        ("Content-Language", "es-PE"), ("X-MS-Has-Attach", "yes")], e13),
        dict(outcome="ticket", code="AT-000008", requester=ren[1], requester_name=ren[0], subject=s13,
             contains="dejó de calentar el agua", contract="CV-2024-0101",
             attachments=["Boleta_B001-00004512.pdf", "placa_terma.jpg"],
             note="hotmail, ISO-8859-1 text/HTML alternative + PDF + JPEG; contract also covers E-101 and D-101"))

    # 0014 ---------------------------------------------------------------- Renato forwards our ack back (RV:)
    d14 = when(4, 18, 2, 30)
    ack8_at = when(4, 16, 11, 0)
    s14 = "RV: [AT-000008] Hemos recibido su solicitud"
    new14 = ("Les reenvío su correo para agregar el número de serie de la terma: TE80L-2403-118734. "
             "La instalaron el 15 de marzo de 2024.\n\nRenato")
    hdr14 = outlook_header(ack8_at, f"{SUPPORT_NAME} <{SUPPORT}>", f"{ren[0]} <{ren[1]}>",
                           "[AT-000008] Hemos recibido su solicitud", enviado="Enviado el")
    q14 = ack_text(ren[0], "AT-000008")
    t14 = f"{new14}\n\n{hdr14}\n\n{q14}\n"
    add("0014.eml", message(ren[1], outlook_trace(d14, "0014", "hotmail.com"), [
        ("From", addr(*ren)), ("To", SUPPORT), ("Subject", s14), ("Thread-Topic", s14[4:]),
        ("Date", rfcdate(d14)), ("Message-ID", mid_outlook("0014")), ("Content-Language", "es-PE")],
        text_part(t14, charset="utf-8")),
        dict(outcome="comment", code="AT-000008", requester=ren[1],
             contains="número de serie de la terma: TE80L-2403-118734",
             not_contains="Hemos registrado su solicitud",
             note="requester forwards ('RV:') our acknowledgement back with new information; Outlook "
                  "desktop 'Enviado el:' header, no '>' prefix"))

    # 0015 ---------------------------------------------------------------- Camila, cochera (CE)
    d15 = when(5, 7, 50, 3)
    cam = ("Camila Andrea Rondón Pérez", "camila.rondon@gmail.com")
    s15 = "Puerta levadiza de la cochera no abre con mi control"
    t15 = ("Hola, buenos días.\n\n"
           "Desde hace tres días la puerta levadiza de la cochera del Edificio Mirador de Surco no abre con "
           "mi control remoto (estacionamiento E-102). El vigilante tiene que abrirla manualmente cada vez "
           "y en la mañana se forma cola en la rampa. Ya cambié la pila del control y sigue igual.\n\n"
           "¿Pueden programar un control nuevo o revisar el receptor?\n\n"
           "Gracias,\nCamila Rondón\nDpto. 1201, Torre 1")
    add("0015.eml", message(cam[1], gmail_trace(d15, "0015"), [
        ("From", addr(*cam)), ("Date", rfcdate(d15)), ("Message-ID", mid_gmail("0015")),
        ("Subject", s15), ("To", SUPPORT)],
        multipart("alternative", gmail_boundary("0015"), [
            text_part(t15), text_part(f'<div dir="ltr">{paras_html(t15)}</div>\n', "html")])),
        dict(outcome="ticket", code="AT-000009", requester=cam[1], requester_name=cam[0], subject=s15,
             contains="no abre con mi control remoto (estacionamiento E-102)", contract="CV-2024-0103",
             note="client with a CE (carné de extranjería); parking E-102 is an extra unit of her contract"))

    # 0016 ---------------------------------------------------------------- stranger replies to AT-000001
    d16 = when(5, 10, 15, 26)
    jul = ("Julio Benavides", "jbenavides.instalaciones@gmail.com")
    s16 = "Re: [AT-000001] Hemos recibido su solicitud"
    new16 = ("Buenos días, soy el gasfitero que contrató la señora Quispe. Revisé el techo del baño y la "
             "filtración viene de la montante del departamento 402; les sugiero revisar ese departamento. "
             "Mi presupuesto para reparar el falso techo es S/ 850.\n\nJulio Benavides\nInstalaciones sanitarias")
    attr16 = gmail_attr(ack1_at, "Rosa Quispe Huamán", rosa[1], parens=True)
    q16 = ack_text(rosa[0], "AT-000001")
    add("0016.eml", message(jul[1], gmail_trace(d16, "0016"), [
        ("From", addr(*jul)), ("Date", rfcdate(d16)), ("Message-ID", mid_gmail("0016")),
        ("In-Reply-To", ack_mid("AT-000001", ack1_at)), ("References", ack_mid("AT-000001", ack1_at)),
        ("Subject", s16), ("To", SUPPORT)],
        text_part(f"{new16}\n\n{attr16}\n\n{quote_gt(q16)}\n")),
        dict(outcome="held", reason="sender_not_allowed", code="AT-000001",
             note="a stranger (not requester, holder, staff or on the thread) replies with the code: held "
                  "for review ('Correos retenidos'); nothing is mailed to him"))

    # 0017 ---------------------------------------------------------------- staff forwards a client's mail
    d17 = when(5, 11, 40, 12)
    dieg = ("Diego Salas Beltrán", "diego.salas@inmobiliaria-andina.pe")
    mon = ("Mónica Torres Bazán", "monica.torresb@gmail.com")
    mon_at = when(4, 21, 3, 0)
    s17 = "Fwd: La puerta del clóset del dormitorio principal se descolgó"
    note17 = "Registrar por favor; la Sra. Torres me escribió a mi correo y la visita la coordino yo."
    client17 = ("Buenas noches Sr. Salas,\n\n"
                "Le escribo porque la puerta corrediza del clóset del dormitorio principal se descolgó del riel "
                "y ya no se puede cerrar. Una de las ruedas está rota. Es el departamento 301 de la Torre A, "
                "Residencial Los Olivos.\n\n"
                "¿Me podría ayudar a que la arreglen? Estoy disponible el viernes en la tarde.\n\n"
                "Muchas gracias,\nMónica Torres")
    fwd17 = (f"{note17}\n\n---------- Mensaje reenviado ---------\n"
             f"De: {mon[0]} <{mon[1]}>\n"
             f"Date: {DIAS[mon_at.weekday()]}, {mon_at.day} {MESES[mon_at.month - 1]} {mon_at.year} a las "
             f"{mon_at.hour}:{mon_at.minute:02d}\n"
             "Subject: La puerta del clóset del dormitorio principal se descolgó\n"
             f"To: {dieg[0]} <{dieg[1]}>\n\n\n{client17}\n")
    fhtml17 = (f'<div dir="ltr">{html.escape(note17)}<br><br><div class="gmail_quote"><div dir="ltr" '
               f'class="gmail_attr">---------- Mensaje reenviado ---------<br>De: <strong class="gmail_sendername" '
               f'dir="auto">{html.escape(mon[0])}</strong> <span dir="auto">&lt;<a href="mailto:{mon[1]}">'
               f'{mon[1]}</a>&gt;</span><br>Date: {fwd17.splitlines()[4][6:]}<br>Subject: La puerta del clóset '
               f'del dormitorio principal se descolgó<br>To: {html.escape(dieg[0])} &lt;<a href="mailto:'
               f'{dieg[1]}">{dieg[1]}</a>&gt;<br></div><br><br>{paras_html(client17)}</div></div>\n')
    add("0017.eml", message(dieg[1], gmail_trace(d17, "0017", "inmobiliaria-andina.pe"), [
        ("From", addr(*dieg)), ("Date", rfcdate(d17)), ("Message-ID", mid_gmail("0017")),
        ("Subject", h(s17)), ("To", SUPPORT)],
        multipart("alternative", gmail_boundary("0017"), [text_part(fwd17), text_part(fhtml17, "html")])),
        dict(outcome="ticket", code="AT-000010", requester=mon[1], requester_name=mon[0], subject=s17.removeprefix("Fwd: "),
             contains="se descolgó del riel", not_contains="la visita la coordino yo",
             registered_by=dieg[1], contract="CV-2023-0005",
             internal_comment="la visita la coordino yo",
             note="staff user forwards inline (Gmail 'Mensaje reenviado'): requester is the ORIGINAL client, "
                  "detail is her text, Diego is registered_by and his one-line note becomes an internal "
                  "comment. The ticket is the client's mail, so its subject is the client's own "
                  "(without the forwarder's 'Fwd:')."))

    # 0018 ---------------------------------------------------------------- Rosa, matched by In-Reply-To only
    d18 = when(5, 13, 0, 48)
    s18 = "Re: " + s1
    new18 = ("Buenas tardes, les escribo nuevamente porque la mancha ya llegó al pasillo y el falso techo del "
             "baño está empezando a ceder. ¿Cuándo podrían venir? El jueves y viernes estoy todo el día.\n\nRosa")
    attr18 = gmail_attr(d1, rosa[0], rosa[1], parens=True)
    t18 = f"{new18}\n\n{attr18}\n\n{quote_gt(t1)}\n"
    add("0018.eml", message(rosa[1], gmail_trace(d18, "0018"), [
        ("From", addr(*rosa)), ("Date", rfcdate(d18)), ("Message-ID", mid_gmail("0018")),
        ("In-Reply-To", MIDS["0001"]), ("References", MIDS["0001"]),
        ("Subject", h(s18)), ("To", SUPPORT), ("Cc", addr("Percy Villanueva Soto", "percy.vsoto@hotmail.com"))],
        multipart("alternative", gmail_boundary("0018"), [
            text_part(t18), text_part(gmail_reply_html(new18, attr18, t1), "html")])),
        dict(outcome="comment", code="AT-000001", requester=rosa[1],
             contains="la mancha ya llegó al pasillo", not_contains="empezó a gotear junto a la lámpara",
             note="no code in the subject: matched only through In-Reply-To = Message-ID of 0001.eml (the "
                  "client's own original message, which the system records)"))

    # 0019 ---------------------------------------------------------------- duplicate re-delivery of 0007
    d19 = when(3, 8, 21, 50)
    extra = (f"Received: from {MX} (localhost [127.0.0.1])\n\tby mx2.inmobiliaria-andina.pe (Postfix) with "
             f"LMTP id 7Hq2kR0aF2mYBwAA for <{SUPPORT}>; {rfcdate(d19)}\n").encode()
    add("0019.eml", extra + raw7,
        dict(outcome="duplicate", code="AT-000005",
             note="re-delivery of 0007.eml: same Message-ID and body, one extra Received header on top, "
                  "and CRLF line endings where 0007.eml has LF (same body once line endings are "
                  "normalised); consumes no code"),
        crlf=True)

    # 0020 ---------------------------------------------------------------- accented attachment name (RFC 2231)
    d20 = when(6, 9, 30, 15)
    ale = ("Alejandro Quiroz Lazo", "alejandro.quiroz@outlook.com")
    s20 = "Fisura en muro de la sala - Dpto. 301 Torre 2"
    fn20 = "Fotografía fisura sala.jpg"
    t20 = ("Buenos días,\n\n"
           "En el muro de la sala que da a la terraza apareció una fisura diagonal de casi un metro, desde "
           "la esquina de la ventana hacia el techo. No sé si es estructural o solo del tarrajeo. Adjunto "
           "una fotografía.\n\n"
           "Departamento 301, Torre 2, Edificio Mirador de Surco.\n\n"
           "Atentamente,\nAlejandro Quiroz Lazo\n940 772 361")
    j20 = jpeg(80, 56, wall_photo(stain=(120, 112, 100), seed=2))
    e20 = multipart("mixed", "------------" + token("0020b", 24, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), [
        text_part(t20, charset="UTF-8", cte="8bit"),
        attachment(j20, "image/jpeg", fn20, style="thunderbird")])
    add("0020.eml", message(ale[1], outlook_trace(d20, "0020", "outlook.com"), [
        ("Message-ID", mid_plain("0020", "outlook.com")), ("Date", rfcdate(d20)),
        ("User-Agent", "Mozilla Thunderbird"), ("Content-Language", "es-PE"),
        ("To", SUPPORT), ("From", addr(*ale)), ("Subject", s20)], e20),
        dict(outcome="ticket", code="AT-000011", requester=ale[1], requester_name=ale[0], subject=s20,
             contains="apareció una fisura diagonal de casi un metro", contract="CV-2024-0104",
             attachments=[fn20],
             note="attachment name with accent and spaces: RFC 2231 filename*=UTF-8''Fotograf%C3%ADa... and "
                  "RFC 2047 name= (Thunderbird); must be stored as 'Fotografía fisura sala.jpg'"))

    # 0021 ---------------------------------------------------------------- staff reply (Gmail, wrapped attribution)
    d21 = when(6, 11, 15, 4)
    carla = ("Carla Mendoza Ríos", "carla.mendoza@inmobiliaria-andina.pe")
    assign_at = when(3, 8, 25, 0)
    s21 = "Re: [AT-000005] Intercomunicador no funciona"
    new21 = ("Sr. Huerta, coordinamos la visita técnica para el martes 10 de noviembre a las 10:00 a. m. con "
             "el proveedor del intercomunicador. Por favor confirme si el equipo es el del departamento 202 "
             "de la Torre A o el de la Torre 2 del Mirador de Surco.\n\nCarla Mendoza Ríos\nPostventa - "
             "Inmobiliaria Andina S.A.C.")
    attr21 = gmail_attr(assign_at, SUPPORT_NAME, SUPPORT, parens=True)
    cut = attr21.index("(<") + 2
    attr21_wrapped = attr21[:cut] + "\n" + attr21[cut:]   # Gmail wraps the attribution line at ~78 chars
    q21 = ("Se le asignó la atención AT-000005: Intercomunicador no funciona\n"
           f"Solicitante: {jav[0]} <{jav[1]}>\n\n{t7}")
    t21 = f"{new21}\n\n{attr21_wrapped}\n\n{quote_gt(q21)}\n"
    add("0021.eml", message(carla[1], gmail_trace(d21, "0021", "inmobiliaria-andina.pe"), [
        ("From", addr(*carla)), ("Date", rfcdate(d21)), ("Message-ID", mid_gmail("0021")),
        ("In-Reply-To", "<20261103082500.AT-000005.assign@inmobiliaria-andina.pe>"),
        ("Subject", s21), ("To", SUPPORT), ("Cc", addr(*jav))],
        multipart("alternative", gmail_boundary("0021"), [
            text_part(t21), text_part(gmail_reply_html(new21, attr21, q21), "html")])),
        dict(outcome="comment", code="AT-000005", requester=carla[1],
             contains="coordinamos la visita técnica para el martes 10 de noviembre",
             not_contains="no se escucha a la persona que llama",
             note="a staff user (catalog agent) replies: allowed on any ticket. No '#' commands. Gmail "
                  "wrapped the attribution line after '(<' (real Gmail behaviour). The 'requester' field "
                  "here is the comment's author"))

    # 0022 ---------------------------------------------------------------- our own address (loop guard)
    d22 = when(6, 11, 16, 0)
    s22 = "[AT-000005] Su atención está En proceso"
    t22 = (f"Estimado(a) {jav[0]}:\n\nSu atención AT-000005 (Intercomunicador no funciona) cambió al estado "
           "En proceso.\n\nAtentamente,\nPostventa - Inmobiliaria Andina S.A.C.")
    add("0022.eml", message(SUPPORT, [("Received", f"by {MX} (Postfix, from userid 1001)\n\tid 4Qn2Wd0f3Kz1; "
                                                   f"{rfcdate(d22)}")], [
        ("From", addr(SUPPORT_NAME, SUPPORT)), ("To", addr(*jav)), ("Cc", SUPPORT),
        ("Reply-To", SUPPORT), ("Subject", h(s22)), ("Date", rfcdate(d22)),
        ("Message-ID", "<20261106111600.AT-000005.status@inmobiliaria-andina.pe>"),
        ("In-Reply-To", MIDS["0007"]), ("References", MIDS["0007"]),
        ("Auto-Submitted", "auto-generated")],
        text_part(t22)),
        dict(outcome="ignored", reason="own_address", code=None,
             note="From is the support mailbox itself (a status mail that Cc'd the mailbox): loop guard, "
                  "checked before the auto-reply rule although it also carries Auto-Submitted"))

    # 0023 ---------------------------------------------------------------- Elena, casa, 2 JPEG
    d23 = when(7, 10, 5, 27)
    ele = ("Elena Chumpitaz Rivas", "elena.chumpitaz@gmail.com")
    s23 = "Observaciones al acta de entrega - Casa C-03, Bloque 1"
    t23 = ("Estimados señores:\n\n"
           "El sábado 31 de octubre recibimos la casa C-03 del Bloque 1 en el Condominio Los Cedros. En el "
           "acta de entrega dejamos tres observaciones que siguen pendientes:\n\n"
           "1. El portón de la cochera no cierra al ras del piso.\n"
           "2. Dos mayólicas del baño de visitas están rajadas.\n"
           "3. El tablero eléctrico no tiene rotulados los circuitos.\n\n"
           "Adjunto fotos. Quedamos atentos a la fecha de subsanación.\n\n"
           "Elena Chumpitaz y Hugo Cárdenas")
    j23a = jpeg(64, 48, lambda bx, by: (200, 200, 204) if by < 4 else (150, 140, 128))
    j23b = jpeg(64, 48, lambda bx, by: (246, 246, 244) if (bx + by) % 4 else (70, 70, 70))
    e23 = multipart("mixed", gmail_boundary("0023m"), [
        multipart("alternative", gmail_boundary("0023a"), [
            text_part(t23), text_part(f'<div dir="ltr">{paras_html(t23)}</div>\n', "html")]),
        attachment(j23a, "image/jpeg", "porton_cochera.jpg",
                   extra="Content-ID: <f_mh7c8d9e0>\nX-Attachment-Id: f_mh7c8d9e0\n"),
        attachment(j23b, "image/jpeg", "mayolicas_bano_visitas.jpg",
                   extra="Content-ID: <f_mh7c8d9e1>\nX-Attachment-Id: f_mh7c8d9e1\n")])
    add("0023.eml", message(ele[1], gmail_trace(d23, "0023"), [
        ("From", addr(*ele)), ("Date", rfcdate(d23)), ("Message-ID", mid_gmail("0023")),
        ("Subject", s23), ("To", SUPPORT), ("Cc", addr("Hugo Cárdenas Loayza", "hugo.cardenas.l@hotmail.com"))],
        e23),
        dict(outcome="ticket", code="AT-000012", requester=ele[1], requester_name=ele[0], subject=s23,
             contains="El portón de la cochera no cierra al ras del piso", contract="CV-2025-0201",
             attachments=["porton_cochera.jpg", "mayolicas_bano_visitas.jpg"],
             note="a casa (Condominio Los Cedros, Lurín); spouses are co-holders; sent on a Saturday"))

    # 0024 ---------------------------------------------------------------- Sofía, reclamo
    d24 = when(9, 9, 0, 31)
    sof = ("Sofía Mendoza Carrasco", "sofia.mendozac@gmail.com")
    s24 = "Reclamo: constancia de no adeudo pendiente desde septiembre"
    t24 = ("Señores Inmobiliaria Andina S.A.C.:\n\n"
           "El 15 de septiembre cancelé el saldo del precio de mi departamento 202 de la Torre B "
           "(contrato CV-2023-0012) y hasta hoy no me entregan la constancia de no adeudo ni la minuta para "
           "levantar la hipoteca. He llamado cuatro veces a la central sin respuesta.\n\n"
           "Presento este reclamo conforme al Código de Protección y Defensa del Consumidor y solicito la "
           "entrega de ambos documentos en un plazo no mayor de 15 días hábiles.\n\n"
           "Sofía Mendoza Carrasco\nDNI 41827364\nCel. 981 093 456")
    add("0024.eml", message(sof[1], gmail_trace(d24, "0024"), [
        ("From", addr(*sof)), ("Date", rfcdate(d24)), ("Message-ID", mid_gmail("0024")),
        ("Subject", s24), ("To", SUPPORT)],
        multipart("alternative", gmail_boundary("0024"), [
            text_part(t24), text_part(f'<div dir="ltr">{paras_html(t24)}</div>\n', "html")])),
        dict(outcome="ticket", code="AT-000013", requester=sof[1], requester_name=sof[0], subject=s24,
             contains="no me entregan la constancia de no adeudo", contract="CV-2023-0012",
             note="a formal complaint (reclamo) by email; it still gets the mailbox's default type"))


# --------------------------------------------------------------------------- output

def write() -> None:
    if MAILDIR.exists():
        shutil.rmtree(MAILDIR)
    for sub in ("cur", "new", "tmp"):
        (MAILDIR / sub).mkdir(parents=True)
    # git keeps no empty folders. tmp/ is never listed by readers, so a .gitkeep is harmless there;
    # but Python 3.11's mailbox.Maildir lists EVERY file of cur/ and new/ (dot files included; only
    # 3.13+ skips them), so cur/ is kept by an empty hidden sub-folder, which every reader skips.
    (MAILDIR / "tmp" / ".gitkeep").write_bytes(b"")
    (MAILDIR / "cur" / ".keep").mkdir()
    (MAILDIR / "cur" / ".keep" / ".gitkeep").write_bytes(b"")
    for name, data, _ in MESSAGES:
        (MAILDIR / "new" / name).write_bytes(data)
    expected = [e for _, _, e in MESSAGES]
    (MAILDIR / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
    (MAILDIR / "EXPECTED.md").write_text(expected_md(expected), encoding="utf-8")


def expected_md(expected: list[dict]) -> str:
    from collections import Counter
    counts = Counter(e["outcome"] for e in expected)
    rows = []
    for e in expected:
        if e["outcome"] == "ticket":
            what = f"**{e['code']}** — {e['requester']} — «{e['subject']}»"
            if e.get("registered_by"):
                what += f" (registered_by {e['registered_by']})"
            check = f"detail contains «{e['contains']}»"
            if e.get("not_contains"):
                check += f"; not «{e['not_contains']}»"
            check += f"; contract {e.get('contract') or '—'}"
            if e.get("attachments"):
                check += "; attachments: " + ", ".join(e["attachments"])
        elif e["outcome"] == "comment":
            what = f"on **{e['code']}** by {e['requester']}"
            check = f"contains «{e['contains']}»; not «{e['not_contains']}»"
        elif e["outcome"] == "duplicate":
            what = f"of an earlier message (ticket {e['code']})"
            check = "no new ticket, no comment, no code consumed"
        else:
            what = f"reason `{e['reason']}`" + (f" (refers to {e['code']})" if e["code"] else "")
            check = "nothing created, nothing sent"
        rows.append(f"| {e['file']} | {e['outcome']} | {what} | {check} | {e.get('note', '')} |")
    return f"""# Demo mailbox — expected outcomes

Generated by `examples/make_mailbox.py` (do not edit by hand: change the script and run it).
The messages are in `new/` of this Maildir; `cur/` and `tmp/` are empty. `atencion import
examples/mailbox` (or `atencion demo`) must process them in file-name order, after loading
`examples/catalog.yaml` into an empty database, and record exactly these outcomes. Codes start at
AT-000001 and only a message that becomes a NEW ticket consumes one.

Totals: {len(expected)} messages — {counts['ticket']} tickets, {counts['comment']} comments,
{counts['duplicate']} duplicate, {counts['ignored']} ignored, {counts['held']} held.

`expected.json` holds the same data for tests: a list of objects with the keys
`file` (name in `new/`, equal to the Maildir key), `outcome` (`ticket`, `comment`, `duplicate`,
`ignored`, `held`), `code`, `requester`, `contains`, `not_contains`, `reason`, and, where they
apply, `requester_name`, `subject`, `contract` (expected contract filled in from the catalog, or
null when none can be: unknown sender, or a client with two contracts), `project`, `subdivision`,
`unit`, `attachments` (file names), `registered_by`, `internal_comment` and `note`.

Meaning of the fields per outcome:
- `ticket`: `code` is the code the new ticket gets; `requester` the requester's email; `contains`
  a phrase of the ticket's detail; `not_contains` a phrase that must NOT be in the detail.
- `comment`: `code` is the ticket it is added to; `requester` is the comment's author address;
  `contains` a phrase of the new text that must be in the comment; `not_contains` a phrase of the
  quoted history that must not be.
- `duplicate`: `code` is the ticket of the original delivery (informative).
- `ignored` / `held`: `reason` as recorded (`bounce`, `auto_reply`, `bulk`, `own_address`,
  `sender_not_allowed`); `code` is the ticket the message refers to, if any (informative; no comment
  is added there — at most a bounce note).

Phrases are compared after decoding (quoted-printable, base64, charsets) and, for HTML-only mail,
after HTML-to-text conversion; whitespace may be normalised (collapse runs of spaces/newlines).

| file | outcome | what | check | note |
|---|---|---|---|---|
""" + "\n".join(rows) + "\n"


def check() -> int:
    problems = []
    box = mailbox.Maildir(str(MAILDIR), factory=None, create=False)
    keys = sorted(box.keys())
    expected = json.loads((MAILDIR / "expected.json").read_text(encoding="utf-8"))
    if keys != [e["file"] for e in expected]:
        problems.append(f"Maildir keys {keys} != expected files")
    seen_codes = []
    for e in expected:
        raw = (MAILDIR / "new" / e["file"]).read_bytes()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        for hname in ("From", "Date", "Message-ID", "To"):
            if msg[hname] is None:
                problems.append(f"{e['file']}: no {hname}")
        if msg.defects:
            problems.append(f"{e['file']}: defects {msg.defects}")
        for part in msg.walk():
            if part.defects:
                problems.append(f"{e['file']}: part defects {part.defects}")
            if not part.is_multipart() and part.get_content_maintype() != "message":
                part.get_payload(decode=True)
        names = [p.get_filename() for p in msg.walk() if p.get_filename()]
        if e.get("attachments") and names != e["attachments"]:
            problems.append(f"{e['file']}: attachments {names} != {e['attachments']}")
        if e["outcome"] in ("ticket", "comment") and e["file"] != "0010.eml":
            body = msg.get_body(preferencelist=("plain", "html"))
            text = body.get_content()
            if e["contains"] not in " ".join(text.split()) and e["contains"] not in html.unescape(text):
                problems.append(f"{e['file']}: phrase not in body: {e['contains']!r}")
            if e["not_contains"] and e["outcome"] == "comment" and e["not_contains"] not in text:
                problems.append(f"{e['file']}: quoted phrase absent from the raw body: {e['not_contains']!r}")
        if e["outcome"] == "ticket":
            seen_codes.append(e["code"])
    if seen_codes != [f"AT-{i:06d}" for i in range(1, len(seen_codes) + 1)]:
        problems.append(f"ticket codes not consecutive: {seen_codes}")
    # cp1252 really is cp1252 under a utf-8 label
    raw10 = (MAILDIR / "new" / "0010.eml").read_bytes()
    body10 = raw10.split(b"\r\n\r\n", 1)[1]
    try:
        body10.decode("utf-8")
        problems.append("0010.eml: body decodes as utf-8, it should not")
    except UnicodeDecodeError:
        if "habitación principal" not in body10.decode("cp1252"):
            problems.append("0010.eml: cp1252 text missing")
    # duplicate: same Message-ID and same body once line endings are normalised
    a = (MAILDIR / "new" / "0007.eml").read_bytes()
    b = (MAILDIR / "new" / "0019.eml").read_bytes().replace(b"\r\n", b"\n")
    ma = email.message_from_bytes(a, policy=email.policy.default)
    mb = email.message_from_bytes(b, policy=email.policy.default)
    if ma["Message-ID"] != mb["Message-ID"] or a.split(b"\n\n", 1)[1] != b.split(b"\n\n", 1)[1]:
        problems.append("0019.eml is not a re-delivery of 0007.eml")
    # the In-Reply-To of 0018 is the Message-ID of 0001
    m1 = email.message_from_bytes((MAILDIR / "new" / "0001.eml").read_bytes(), policy=email.policy.default)
    m18 = email.message_from_bytes((MAILDIR / "new" / "0018.eml").read_bytes(), policy=email.policy.default)
    if m18["In-Reply-To"] != m1["Message-ID"]:
        problems.append("0018.eml In-Reply-To does not point to 0001.eml")
    # senders of tickets/comments are in the catalog where they should be
    sys.path.insert(0, str(HERE))
    import check_catalog
    import yaml
    catalog = yaml.safe_load((HERE / "catalog.yaml").read_text(encoding="utf-8"))
    problems += [f"catalog: {p}" for p in check_catalog.check(catalog)]
    client_emails = {m for c in catalog["clients"] for m in c["emails"]}
    staff = {u["email"] for u in catalog["users"]}
    contracts_by_email: dict[str, list[str]] = {}
    for c in catalog["contracts"]:
        for hkey in c["holders"]:
            cl = next(x for x in catalog["clients"] if f"{x['document_type']} {x['document_number']}" == hkey)
            for m in cl["emails"]:
                contracts_by_email.setdefault(m, []).append(c["number"])
    for e in expected:
        if e["outcome"] == "ticket":
            cs = contracts_by_email.get(e["requester"], [])
            want = cs[0] if len(cs) == 1 else None
            if e.get("contract", "missing") != want:
                problems.append(f"{e['file']}: contract {e.get('contract')} but catalog gives {cs}")
        if e["outcome"] == "comment" and e["requester"] not in client_emails | staff:
            problems.append(f"{e['file']}: comment author not in catalog")
    held = [e for e in expected if e["outcome"] == "held"]
    for e in held:
        sender = email.message_from_bytes((MAILDIR / "new" / e["file"]).read_bytes(),
                                          policy=email.policy.default)["From"].addresses[0].addr_spec
        if sender in client_emails | staff:
            problems.append(f"{e['file']}: held sender {sender} is in the catalog")
    for p in problems:
        print("ERROR:", p, file=sys.stderr)
    if not problems:
        print(f"{MAILDIR}: OK — {len(keys)} messages parse; expected.json consistent with catalog.yaml")
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    if "--check" not in argv:
        build()
        write()
    return check()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
