"""A deterministic corpus of realistic Spanish inbound mail for the benchmarks (bench/inbound.py).

``generate(n, seed)`` returns a `Corpus`: the raw messages (bytes, CRLF line endings, in delivery
order), the expected kind of each one, and the catalog (clients, projects, contracts) that the
senders come from, ready for ``tickets.catalog.load_catalog_data``. Same ``n`` and ``seed``, same
bytes: the random generator is seeded and every date and Message-ID is derived from it.

The mix (per message, drawn at random):

* ~55% new requests: text/plain, multipart/alternative (text + HTML, Gmail/Outlook styles) or
  HTML only; from catalog clients (requester matching hits the database) or unknown senders;
* ~20% replies to earlier tickets, the code in the subject ("RE: [AT-000012] ...") and the quoted
  history below, Gmail ("El lun, 3 nov 2025 a las 10:15, ... escribió:") or Outlook ("De: / Enviado:
  / Para: / Asunto:") style, some with an HTML alternative;
* ~8% with attachments (JPEG or PDF bytes, 5–200 KB): new requests mostly, some replies;
* ~5% auto-replies (Auto-Submitted / X-Autoreply, "Respuesta automática: ...") to our mail;
* ~4% newsletters (List-Id, List-Unsubscribe, Precedence: bulk);
* ~3% bounces (multipart/report; report-type=delivery-status) of our acknowledgements;
* ~3% re-deliveries (an earlier message again, byte for byte plus a new Received line);
* ~2% odd charsets: ISO-8859-1 declared, or windows-1252 bytes declared as UTF-8.

Ticket codes are handed out in order (AT-000001, ...) to the messages that open tickets, as they are
ingested in order, so replies, auto-replies and bounces only name codes that exist by then.
"""

from __future__ import annotations

import base64
import random
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

SUPPORT = "postventa@inmobiliaria-andina.pe"
SUPPORT_NAME = "Postventa Inmobiliaria Andina"
DOMAIN = "inmobiliaria-andina.pe"
CODE_PREFIX = "AT"
START = datetime(2026, 11, 2, 13, 0, 0, tzinfo=UTC)

# kind -> share of the corpus (the "attachment" and "charset" kinds open tickets too)
MIX = (
    ("new", 0.55),
    ("reply", 0.20),
    ("attachment", 0.08),
    ("auto_reply", 0.05),
    ("newsletter", 0.04),
    ("bounce", 0.03),
    ("duplicate", 0.03),
    ("charset", 0.02),
)
#: expected outcome of each kind (what the pipeline should decide)
EXPECTED = {
    "new": "ticket", "attachment": "ticket", "charset": "ticket", "reply": "comment",
    "attachment_reply": "comment", "auto_reply": "ignored", "newsletter": "ignored",
    "bounce": "ignored", "duplicate": "duplicate",
}

FIRST = ["Rosa", "Percy", "Lucía", "Jorge", "María", "José", "Carmen", "Luis", "Ana", "Carlos", "Rocío",
         "Miguel", "Milagros", "Javier", "Patricia", "Renzo", "Gabriela", "Álvaro", "Sofía", "Raúl",
         "Verónica", "César", "Diana", "Óscar", "Fiorella", "Andrés", "Mónica", "Víctor", "Elena", "Iván"]
LAST = ["Quispe", "Huamán", "Villanueva", "Soto", "Fernández", "Mendoza", "Ríos", "Paredes", "Rojas",
        "Flores", "Castillo", "Chávez", "Vargas", "Ramírez", "Torres", "Gutiérrez", "Salazar", "Núñez",
        "Córdova", "Espinoza", "Zúñiga", "Ibáñez", "Cáceres", "Muñoz", "Valdivia", "Lozano", "Peña"]
MAIL_DOMAINS = ["gmail.com", "gmail.com", "gmail.com", "hotmail.com", "outlook.com", "yahoo.es",
                "outlook.es", "hotmail.es"]
PROJECTS = ["Residencial Los Olivos", "Condominio Miraflores Park", "Torres de San Borja"]

TOPICS = [
    ("Filtración en el baño del departamento {unit}",
     "Les escribo porque desde hace una semana hay una filtración de agua en el baño principal del "
     "departamento {unit}. La mancha en el techo va creciendo y ya se está desprendiendo la pintura."),
    ("Rajadura en la pared de la sala",
     "Buenas tardes, en la sala del departamento {unit} apareció una rajadura diagonal cerca de la "
     "ventana. Quisiera que un técnico la revise antes de que empeore."),
    ("Consulta sobre la entrega de la minuta",
     "Quisiera saber en qué fecha me entregarán la minuta de compraventa y si debo acercarme a la "
     "notaría o me la envían por correo."),
    ("Puerta del estacionamiento no cierra",
     "La puerta del estacionamiento {unit} no cierra bien y el sensor no responde. Varias veces ha "
     "quedado abierta toda la noche."),
    ("Solicitud de copia del contrato",
     "Por favor, necesito una copia simple de mi contrato de compraventa para un trámite en el banco. "
     "¿Me la pueden enviar en PDF?"),
    ("Problema con la terma eléctrica",
     "La terma eléctrica del departamento {unit} dejó de calentar. Ya revisé la llave térmica y está "
     "encendida. ¿La garantía cubre el cambio de la resistencia?"),
    ("Humedad en el dormitorio",
     "En el dormitorio secundario hay humedad en la esquina junto al closet; el olor es fuerte y "
     "ya salió moho en el zócalo."),
    ("Independización y partida registral",
     "Quisiera saber cómo va el trámite de independización de mi unidad y cuándo tendré la partida "
     "registral a mi nombre en Registros Públicos."),
    ("Cerámica suelta en la cocina",
     "Se han soltado tres cerámicas del piso de la cocina, justo frente al lavadero. Adjunto fotos "
     "si las necesitan."),
    ("Ruido en las tuberías",
     "Cada vez que los vecinos del piso de arriba usan el agua se escucha un golpeteo fuerte en las "
     "tuberías de mi departamento {unit}."),
    ("Reclamo por acabados",
     "Los acabados del departamento {unit} no corresponden a lo ofrecido en la cotización: el "
     "laminado es de otra marca y los tomacorrientes no son los indicados."),
    ("Cambio de titular del contrato",
     "Deseo consultar los requisitos para agregar a mi esposa como cotitular del contrato de la "
     "unidad {unit}."),
]
CLOSINGS = ["Quedo atenta a su respuesta.", "Quedo atento a sus comentarios.", "Muchas gracias de antemano.",
            "Agradeceré su pronta atención.", "Saludos cordiales.", "Gracias por su ayuda."]
REPLY_TEXTS = [
    "Gracias por la respuesta. El técnico puede venir el sábado en la mañana, de 9 a 12.",
    "Buenas tardes, el problema sigue igual. Nadie se ha comunicado conmigo todavía.",
    "Les confirmo que ya vinieron a revisar, pero falta cambiar la pieza que mencionaron.",
    "¿Podrían indicarme el número de la persona que vendrá? Así coordino el acceso con el conserje.",
    "Adjunto la información que me pidieron. Cualquier otra cosa me avisan.",
    "Perfecto, muchas gracias. Quedo a la espera de la visita.",
    "Disculpen la demora. Sí, el departamento estará disponible el martes todo el día.",
]
DAYS_ES = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]
MONTHS_ES = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"]

JPEG_HEAD = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300")
PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"


@dataclass
class Corpus:
    """The generated messages (in order), their kinds, and the catalog they refer to."""

    messages: list[bytes]
    kinds: list[str]
    catalog: dict
    tickets: int = 0  # messages expected to open a ticket
    expected: dict = field(default_factory=dict)  # outcome -> count

    @property
    def total_bytes(self) -> int:
        return sum(len(m) for m in self.messages)


@dataclass
class _Ticket:
    code: str
    subject: str
    body: str
    sender: str
    name: str
    message_id: str
    date: datetime


@dataclass
class _Person:
    name: str
    email: str
    unit: str


def _slug(text: str) -> str:
    table = str.maketrans("áéíóúüñÁÉÍÓÚÜÑ", "aeiouunAEIOUUN")
    return text.translate(table).lower().replace(" ", "")


class _Gen:
    def __init__(self, n: int, seed: int, n_clients: int):
        self.r = random.Random(seed)
        self.n = n
        self.now = START
        self.mid_seq = 0
        self.clients: list[_Person] = []
        self.catalog = self._catalog(n_clients)
        self.tickets: list[_Ticket] = []
        self.plain_sent: list[bytes] = []  # earlier new requests (re-delivery candidates)

    # --- catalog ------------------------------------------------------------------------------

    def _catalog(self, n_clients: int) -> dict:
        r = self.r
        projects, units = [], []
        for p in PROJECTS:
            subs = []
            for t in "ABCD":
                us = [{"number": f"{floor}{k:02d}", "type": "departamento"}
                      for floor in range(1, 11) for k in range(1, 5)]
                us += [{"number": f"E-{k}", "type": "estacionamiento"} for k in range(1, 21)]
                subs.append({"name": f"Torre {t}", "units": us})
                units += [(p, f"Torre {t}", u["number"]) for u in us if u["type"] == "departamento"]
            projects.append({"name": p, "promoter": "Inmobiliaria Andina S.A.C.", "subdivisions": subs})
        r.shuffle(units)
        clients, contracts, seen = [], [], set()
        for i in range(n_clients):
            first, last1, last2 = r.choice(FIRST), r.choice(LAST), r.choice(LAST)
            name = f"{first} {last1} {last2}"
            local = f"{_slug(first)}.{_slug(last1)}{r.randint(1, 999)}"
            while local in seen:
                local += str(r.randint(0, 9))
            seen.add(local)
            email_addr = f"{local}@{r.choice(MAIL_DOMAINS)}"
            dni = f"{40000000 + i * 7919 % 9999999:08d}"
            clients.append({"document_type": "DNI", "document_number": dni, "name": name,
                            "emails": [email_addr]})
            project, tower, unit = units[i % len(units)]
            self.clients.append(_Person(name, email_addr, f"{tower} {unit}"))
            holders = [f"DNI {dni}"]
            if i and r.random() < 0.25:  # a co-holder: the previous client
                holders.append(f"DNI {clients[i - 1]['document_number']}")
            contracts.append({"number": f"CV-2025-{i + 1:04d}", "project": project, "subdivision": tower,
                              "unit": unit, "holders": holders, "date": "2025-03-15"})
        return {
            "promoters": [{"name": "Inmobiliaria Andina S.A.C.", "ruc": "20601234567"}],
            "areas": [{"name": "Postventa", "lead": f"carla.mendoza@{DOMAIN}"}, {"name": "Legal"}],
            "users": [
                {"email": f"carla.mendoza@{DOMAIN}", "name": "Carla Mendoza Ríos", "role": "agent",
                 "area": "Postventa"},
                {"email": f"jorge.paredes@{DOMAIN}", "name": "Jorge Paredes", "role": "legal", "area": "Legal"},
            ],
            "projects": projects,
            "clients": clients,
            "contracts": contracts,
            "ticket_types": [{"name": "Atención", "max_response_days": 5, "priority_days": {"Urgente": 1}}],
        }

    # --- helpers ------------------------------------------------------------------------------

    def tick(self) -> datetime:
        self.now += timedelta(seconds=self.r.randint(20, 900))
        return self.now

    def msgid(self, domain: str) -> str:
        self.mid_seq += 1
        token = "".join(self.r.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789")
                        for _ in range(24))
        if "gmail" in domain:
            return f"CA+{token}{self.mid_seq}@mail.gmail.com"
        if "outlook" in domain or "hotmail" in domain:
            return f"{token}{self.mid_seq}@SJ0PR11MB{self.r.randint(1000, 9999)}.namprd11.prod.outlook.com"
        return f"{token}.{self.mid_seq}@{domain}"

    def sender(self) -> _Person:
        if self.r.random() < 0.7:
            return self.r.choice(self.clients)
        first, last = self.r.choice(FIRST), self.r.choice(LAST)
        return _Person(f"{first} {last}", f"{_slug(first)}{self.r.randint(10, 9999)}@{self.r.choice(MAIL_DOMAINS)}",
                       f"Torre {self.r.choice('ABCD')} {self.r.randint(1, 10)}{self.r.randint(1, 4):02d}")

    def received(self, date: datetime, who: str) -> str:
        host = _addr(who).rpartition("@")[2]
        return (f"Received: from mail-{self.r.randint(1, 99)}.{host} (mail.{host} "
                f"[{self.r.randint(1, 223)}.{self.r.randint(0, 255)}."
                f"{self.r.randint(0, 255)}.{self.r.randint(1, 254)}])\r\n"
                f"\tby mx1.{DOMAIN} (Postfix) with ESMTPS id {self.r.randint(10**9, 10**10):X}\r\n"
                f"\tfor <{SUPPORT}>; {format_datetime(date)}")

    def headers(self, *, frm: str, subject: str, date: datetime, mid: str, extra: list[str] = (),
                to: str = f"{SUPPORT_NAME} <{SUPPORT}>") -> list[str]:
        from email.header import Header

        subj = subject if subject.isascii() else Header(subject, "utf-8").encode(maxlinelen=76, linesep="\r\n")
        return [self.received(date, frm), f"Delivered-To: {SUPPORT}", f"Return-Path: <{_addr(frm)}>",
                f"From: {frm}", f"To: {to}", f"Subject: {subj}", f"Date: {format_datetime(date)}",
                f"Message-ID: <{mid}>", "MIME-Version: 1.0", *extra]

    def body_text(self, topic: tuple[str, str], who: _Person) -> str:
        r = self.r
        para = topic[1].format(unit=who.unit)
        extra = r.sample([
            "Ya había reportado esto por teléfono pero no me dieron número de atención.",
            f"Mi número de contacto es 9{r.randint(10000000, 99999999)} y estoy disponible por las tardes.",
            "Vivo en el departamento desde marzo y es la segunda vez que ocurre.",
            "El administrador del edificio está enterado y puede dar acceso al técnico.",
            "Les agradecería que me indiquen el plazo de atención según la garantía.",
            "Cualquier coordinación pueden hacerla con mi hermana, que vive conmigo.",
        ], k=r.randint(0, 3))
        paragraphs = [f"{r.choice(['Buenos días', 'Buenas tardes', 'Estimados', 'Hola'])},", para, *extra,
                      r.choice(CLOSINGS), who.name]
        if r.random() < 0.3:
            paragraphs.append(f"DNI {r.randint(10000000, 79999999)}")
        if r.random() < 0.25:
            paragraphs.append(r.choice(["Enviado desde mi iPhone", "Enviado desde mi Galaxy",
                                        "Obtener Outlook para Android"]))
        return "\n\n".join(textwrap.fill(p, 76) for p in paragraphs) + "\n"

    def next_code(self) -> str:
        return f"{CODE_PREFIX}-{len(self.tickets) + 1:06d}"

    # --- kinds --------------------------------------------------------------------------------

    def new_request(self, style: str | None = None, *, attachment: bool = False,
                    charset: str | None = None) -> bytes:
        r = self.r
        who = self.sender()
        topic = r.choice(TOPICS)
        subject = topic[0].format(unit=who.unit)
        if r.random() < 0.15:
            subject = subject.upper()
        body = self.body_text(topic, who)
        date = self.tick()
        mid = self.msgid(who.email.rpartition("@")[2])
        frm = _fmt_addr(who.name, who.email)
        style = style or r.choices(["plain", "alternative", "html"], [0.35, 0.5, 0.15])[0]
        if charset:
            raw = self._charset_message(frm, subject, date, mid, body, charset)
        else:
            part = _text_part(body) if style == "plain" else (
                _html_part(_html_of(body, r)) if style == "html" else _alternative(body, _html_of(body, r), r))
            if attachment:
                part = _mixed(part, [self._attachment() for _ in range(r.choice([1, 1, 1, 2, 3]))], r)
            raw = _join(self.headers(frm=frm, subject=subject, date=date, mid=mid), part)
        self.tickets.append(_Ticket(self.next_code(), subject, body, who.email, who.name, mid, date))
        self.plain_sent.append(raw)
        return raw

    def _charset_message(self, frm, subject, date, mid, body, charset) -> bytes:
        if charset == "latin-1":
            head = self.headers(frm=frm, subject=subject, date=date, mid=mid)
            part = [b"Content-Type: text/plain; charset=iso-8859-1", b"Content-Transfer-Encoding: 8bit",
                    b"", _crlf(body).encode("latin-1", "replace")]
        else:  # windows-1252 bytes (curly quotes, euro sign) under a utf-8 label, quoted-printable
            import quopri

            body = body.replace("Buenos días", "Buenos días “urgente”") + "\nMonto pagado: 1 500 € – gracias.\n"
            payload = quopri.encodestring(_crlf(body).encode("cp1252", "replace"))
            raw_subject = "=?utf-8?Q?" + "".join(
                f"={b:02X}" if b > 126 or chr(b) in "=?_ " else chr(b)
                for b in subject.encode("cp1252", "replace")) + "?="
            head = [h for h in self.headers(frm=frm, subject="x", date=date, mid=mid)
                    if not h.startswith("Subject:")] + [f"Subject: {raw_subject}"]
            part = [b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: quoted-printable",
                    b"", payload]
        return b"\r\n".join([h.encode("utf-8") for h in head] + part)

    def _attachment(self) -> tuple[str, str, bytes]:
        r = self.r
        size = int(r.triangular(5_000, 200_000, 30_000))
        if r.random() < 0.6:
            name = r.choice(["IMG_2026{:04d}_1{:05d}.jpg", "foto{:02d}{:03d}.jpeg", "WhatsApp Image {}{}.jpeg"])
            name = name.format(r.randint(1, 9999), r.randint(1, 99999))
            return name, "image/jpeg", JPEG_HEAD + r.randbytes(size - len(JPEG_HEAD) - 2) + b"\xff\xd9"
        name = r.choice(["voucher_pago.pdf", "Contrato firmado.pdf", "presupuesto técnico.pdf", "constancia.pdf"])
        return name, "application/pdf", PDF_HEAD + r.randbytes(size - len(PDF_HEAD) - 6) + b"%%EOF\n"

    def reply(self, *, attachment: bool = False) -> bytes:
        r = self.r
        # mostly recent tickets, sometimes old ones
        t = r.choice(self.tickets[-60:]) if r.random() < 0.8 else r.choice(self.tickets)
        date = self.tick()
        mid = self.msgid(t.sender.rpartition("@")[2])
        new_text = r.choice(REPLY_TEXTS) + "\n\n" + t.name.split()[0] + "\n"
        ack_date = t.date + timedelta(minutes=r.randint(1, 30))
        ack = (f"Estimado(a) {t.name}:\n\nHemos registrado su solicitud con el código {t.code}.\n"
               f"Asunto: {t.subject}\n\nLe responderemos dentro del plazo de atención.\n\n"
               f"{SUPPORT_NAME}\n")
        outlook = "outlook" in t.sender or "hotmail" in t.sender or r.random() < 0.2
        if outlook:
            subject = f"RE: [{t.code}] {t.subject}"
            quote_head = (f"De: {SUPPORT_NAME} <{SUPPORT}>\nEnviado: {_fecha_larga(ack_date)}\n"
                          f"Para: {t.name} <{t.sender}>\nAsunto: [{t.code}] {t.subject}\n\n")
            text = new_text + "\n________________________________\n" + quote_head + ack
            if r.random() < 0.5:
                text += "\n" + "\n".join("> " + line if line else ">" for line in t.body.splitlines()) + "\n"
        else:
            subject = f"Re: [{t.code}] {t.subject}"
            attribution = (f"El {DAYS_ES[ack_date.weekday()]}, {ack_date.day} {MONTHS_ES[ack_date.month - 1]} "
                           f"{ack_date.year} a las {ack_date:%H:%M}, {SUPPORT_NAME} (<{SUPPORT}>)\nescribió:")
            quoted = "\n".join("> " + line if line else ">" for line in ack.splitlines())
            text = new_text + "\n" + attribution + "\n\n" + quoted + "\n"
        our_mid = f"{t.code}.acknowledgement.{r.randbytes(6).hex()}@{DOMAIN}"
        extra = [f"In-Reply-To: <{our_mid}>", f"References: <{t.message_id}> <{our_mid}>"]
        part = _text_part(text) if r.random() < 0.4 else _alternative(text, _html_of(text, r, quote=True), r)
        if attachment:
            part = _mixed(part, [self._attachment()], r)
        frm = _fmt_addr(t.name, t.sender)
        return _join(self.headers(frm=frm, subject=subject, date=date, mid=mid, extra=extra), part)

    def auto_reply(self) -> bytes:
        r = self.r
        t = r.choice(self.tickets[-80:])
        date = self.tick()
        mid = self.msgid(t.sender.rpartition("@")[2])
        subject = r.choice(["Respuesta automática: [{c}] {s}", "Fuera de la oficina: [{c}] {s}",
                            "Automatic reply: [{c}] {s}", "Ausencia: [{c}] {s}"]).format(c=t.code, s=t.subject)
        extra = r.choice([["Auto-Submitted: auto-replied"],
                          ["X-Autoreply: yes", "Auto-Submitted: auto-replied"],
                          ["X-Auto-Response-Suppress: All", "X-MS-Exchange-Inbox-Rules-Loop: " + t.sender],
                          []])
        text = (f"Gracias por su mensaje. Me encuentro de vacaciones hasta el {r.randint(1, 28)} de diciembre "
                f"sin acceso al correo.\nPara temas urgentes comuníquese con mi asistente al "
                f"9{r.randint(10000000, 99999999)}.\n\n{t.name}\n")
        our_mid = f"{t.code}.acknowledgement.{r.randbytes(6).hex()}@{DOMAIN}"
        extra = [*extra, f"In-Reply-To: <{our_mid}>"]
        part = _text_part(text) if r.random() < 0.5 else _alternative(text, _html_of(text, r), r)
        return _join(self.headers(frm=_fmt_addr(t.name, t.sender), subject=subject, date=date, mid=mid,
                                  extra=extra), part)

    def newsletter(self) -> bytes:
        r = self.r
        date = self.tick()
        org = r.choice([("Sodimac Perú", "sodimac.com.pe"), ("Colegio de Ingenieros del Perú", "cip.org.pe"),
                        ("Interbank", "interbank.pe"), ("Promart Homecenter", "promart.pe")])
        mid = self.msgid("news." + org[1])
        subject = r.choice(["Ofertas de la semana: hasta 40% en pinturas", "Boletín informativo de noviembre",
                            "¡Últimos días! Cyber Wow en acabados", "Nuevas tasas para tu crédito hipotecario"])
        extra = [f"List-Id: Boletin {org[0]} <boletin.{org[1]}>",
                 f"List-Unsubscribe: <https://news.{org[1]}/baja?u={r.randint(10**6, 10**7)}>, "
                 f"<mailto:baja@news.{org[1]}>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                 "Precedence: bulk"]
        items = "".join(
            f'<tr><td style="padding:12px;border-bottom:1px solid #eee"><a href="https://www.{org[1]}/p/'
            f'{r.randint(1000, 99999)}?utm_source=newsletter&amp;utm_medium=email"><img src="https://img.{org[1]}/'
            f'{r.randint(1, 10**6)}.jpg" width="120" alt="Producto"></a></td><td style="font-family:Arial;'
            f'font-size:14px">Producto {k}: descuento especial por tiempo limitado. Precio antes S/ '
            f'{r.randint(50, 900)}.90, ahora S/ {r.randint(20, 500)}.90</td></tr>'
            for k in range(r.randint(8, 20)))
        html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{{margin:0}} .btn{{color:#fff}}'
                f'</style></head><body><table width="100%" cellpadding="0" cellspacing="0">{items}</table>'
                f'<p style="font-size:11px;color:#999">Si no deseas recibir más correos, '
                f'<a href="https://news.{org[1]}/baja">date de baja aquí</a>.</p></body></html>')
        text = f"{subject}\n\nVer en el navegador: https://news.{org[1]}/v/{r.randint(1, 10**6)}\n"
        return _join(self.headers(frm=f'"{org[0]}" <boletin@news.{org[1]}>', subject=subject, date=date, mid=mid,
                                  extra=extra, to=SUPPORT), _alternative(text, html, r))

    def bounce(self) -> bytes:
        r = self.r
        t = r.choice(self.tickets)
        date = self.tick()
        bad = t.sender.replace("@", r.choice(["x@", "@", "1@"]))
        our_mid = f"{t.code}.acknowledgement.{r.randbytes(6).hex()}@{DOMAIN}"
        boundary = f"{r.randbytes(8).hex()}.{r.randint(1, 10**6)}/mx1.{DOMAIN}"
        mid = f"{r.randbytes(8).hex()}@mx1.{DOMAIN}"
        head = [self.received(date, "mx1." + DOMAIN), "Return-Path: <>", f"Delivered-To: {SUPPORT}",
                f"From: MAILER-DAEMON@mx1.{DOMAIN} (Mail Delivery System)", f"To: {SUPPORT}",
                "Subject: Undelivered Mail Returned to Sender", f"Date: {format_datetime(date)}",
                f"Message-ID: <{mid}>", "Auto-Submitted: auto-replied", "MIME-Version: 1.0",
                f'Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="{boundary}"']
        human = (f"This is the mail system at host mx1.{DOMAIN}.\n\nI'm sorry to have to inform you that your "
                 f"message could not\nbe delivered to one or more recipients.\n\n<{bad}>: host "
                 f"gmail-smtp-in.l.google.com said: 550-5.1.1 The email account that you\n"
                 f"    tried to reach does not exist. (in reply to RCPT TO command)\n")
        status = (f"Reporting-MTA: dns; mx1.{DOMAIN}\nArrival-Date: {format_datetime(date)}\n\n"
                  f"Final-Recipient: rfc822; {bad}\nOriginal-Recipient: rfc822;{bad}\nAction: failed\n"
                  f"Status: 5.1.1\nRemote-MTA: dns; gmail-smtp-in.l.google.com\n"
                  f"Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.\n")
        orig = (f"Return-Path: <{SUPPORT}>\nFrom: {SUPPORT_NAME} <{SUPPORT}>\nTo: {bad}\n"
                f"Subject: [{t.code}] Hemos registrado su solicitud\nDate: {format_datetime(t.date)}\n"
                f"Message-ID: <{our_mid}>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n")
        body = (f"This is a MIME-encapsulated message.\n\n--{boundary}\nContent-Description: Notification\n"
                f"Content-Type: text/plain; charset=us-ascii\n\n{human}\n--{boundary}\n"
                f"Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n{status}\n"
                f"--{boundary}\nContent-Description: Undelivered Message Headers\n"
                f"Content-Type: text/rfc822-headers\n\n{orig}\n--{boundary}--\n")
        return "\r\n".join(head).encode() + b"\r\n\r\n" + _crlf(body).encode()

    def duplicate(self) -> bytes:
        raw = self.r.choice(self.plain_sent[-200:])
        self.tick()
        # the same message delivered again: one more Received line on top, same Message-ID and body
        extra = self.received(self.now, "relay.example.net").encode()
        return extra + b"\r\n" + raw


# --- MIME building (bytes by hand: fast, exact, CRLF) -------------------------------------------


def _addr(value: str) -> str:
    return value.rpartition("<")[2].rstrip(">") if "<" in value else value


def _fmt_addr(name: str, addr: str) -> str:
    from email.header import Header

    if name.isascii():
        return f'"{name}" <{addr}>'
    return f"{Header(name, 'utf-8').encode()} <{addr}>"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _qp(text: str) -> bytes:
    import quopri

    return quopri.encodestring(_crlf(text).encode("utf-8"))


def _text_part(text: str) -> list[bytes]:
    return [b"Content-Type: text/plain; charset=UTF-8", b"Content-Transfer-Encoding: quoted-printable",
            b"", _qp(text)]


def _html_part(html: str) -> list[bytes]:
    return [b"Content-Type: text/html; charset=UTF-8", b"Content-Transfer-Encoding: quoted-printable",
            b"", _qp(html)]


def _html_of(text: str, r: random.Random, quote: bool = False) -> str:
    import html as htmllib

    paras = text.strip().split("\n\n")
    if r.random() < 0.5:  # Gmail
        body = "".join(f'<div dir="ltr">{htmllib.escape(p).replace(chr(10), "<br>")}</div><div><br></div>'
                       for p in paras)
        if quote:
            body = body.replace("&gt; ", "")
            body = f'<div dir="ltr">{body}</div><blockquote class="gmail_quote" style="margin:0px 0px 0px ' \
                   f'0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">...</blockquote>'
        return f'<div dir="ltr">{body}</div>'
    # Outlook
    body = "".join(f'<p class="MsoNormal"><span style="font-size:11.0pt;font-family:&quot;Calibri&quot;,'
                   f'sans-serif">{htmllib.escape(p).replace(chr(10), "<br>")}<o:p></o:p></span></p>' for p in paras)
    return ('<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta http-equiv="Content-Type" '
            'content="text/html; charset=utf-8"><style><!-- p.MsoNormal {margin:0cm;font-size:11.0pt;'
            'font-family:"Calibri",sans-serif;} --></style></head><body lang="ES-PE" link="#0563C1">'
            f'<div class="WordSection1">{body}</div></body></html>')


def _boundary(r: random.Random) -> str:
    return "0000000000" + r.randbytes(9).hex()


def _alternative(text: str, html: str, r: random.Random) -> list[bytes]:
    b = _boundary(r).encode()
    return [b'Content-Type: multipart/alternative; boundary="' + b + b'"', b"",
            b"--" + b, *_text_part(text), b"--" + b, *_html_part(html), b"--" + b + b"--", b""]


def _mixed(body: list[bytes], files: list[tuple[str, str, bytes]], r: random.Random) -> list[bytes]:
    from email.header import Header

    b = _boundary(r).encode()
    out = [b'Content-Type: multipart/mixed; boundary="' + b + b'"', b"", b"--" + b, *body]
    for name, ctype, data in files:
        quoted = name if name.isascii() else Header(name, "utf-8").encode()
        out += [b"--" + b, f'Content-Type: {ctype}; name="{quoted}"'.encode(),
                f'Content-Disposition: attachment; filename="{quoted}"'.encode(),
                b"Content-Transfer-Encoding: base64", b"",
                base64.encodebytes(data).replace(b"\n", b"\r\n").rstrip(b"\r\n")]
    return out + [b"--" + b + b"--", b""]


def _join(headers: list[str], part: list[bytes]) -> bytes:
    head = [h.encode("utf-8") for h in headers]
    # the part's own headers continue the message's header block
    return b"\r\n".join(head + [p.rstrip(b"\r\n") if i < len(part) - 1 else p for i, p in enumerate(part)])


def _fecha_larga(d: datetime) -> str:
    dias = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
    meses = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
             "octubre", "noviembre", "diciembre"]
    return f"{dias[d.weekday()]}, {d.day} de {meses[d.month - 1]} de {d.year} {d:%H:%M}"


# --- entry point ---------------------------------------------------------------------------------


def generate(n: int = 2000, seed: int = 20261130, n_clients: int | None = None) -> Corpus:
    """``n`` messages in delivery order (see the module docstring for the mix)."""
    n_clients = n_clients or max(50, n // 5)
    g = _Gen(n, seed, n_clients)
    kinds_, weights = zip(*MIX, strict=True)
    messages, kinds = [], []
    for _ in range(n):
        kind = "new" if len(g.tickets) < 5 else g.r.choices(kinds_, weights)[0]
        if kind == "new":
            raw = g.new_request()
        elif kind == "attachment":
            if g.r.random() < 0.3:
                kind, raw = "attachment_reply", g.reply(attachment=True)
            else:
                raw = g.new_request(attachment=True)
        elif kind == "charset":
            raw = g.new_request(charset=g.r.choice(["latin-1", "cp1252-as-utf-8"]))
        elif kind == "reply":
            raw = g.reply()
        elif kind == "auto_reply":
            raw = g.auto_reply()
        elif kind == "newsletter":
            raw = g.newsletter()
        elif kind == "bounce":
            raw = g.bounce()
        else:
            raw = g.duplicate()
        messages.append(raw)
        kinds.append(kind)
    expected: dict[str, int] = {}
    for k in kinds:
        expected[EXPECTED[k]] = expected.get(EXPECTED[k], 0) + 1
    return Corpus(messages, kinds, g.catalog, tickets=len(g.tickets), expected=expected)


if __name__ == "__main__":  # a quick look: python bench/corpus.py [N] [OUTDIR]
    import sys
    from collections import Counter
    from pathlib import Path

    c = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
    print(f"{len(c.messages)} messages, {c.total_bytes / 1e6:.1f} MB, {c.tickets} new tickets")
    print(dict(Counter(c.kinds)))
    if len(sys.argv) > 2:
        out = Path(sys.argv[2])
        out.mkdir(parents=True, exist_ok=True)
        for i, raw in enumerate(c.messages):
            (out / f"{i:05d}-{c.kinds[i]}.eml").write_bytes(raw)
