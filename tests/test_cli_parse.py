"""`atencion parse FILE… [--json]`: how each message is read and what the rule chain would decide,
writing nothing (DESIGN.md, "The atencion command"), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.cli_harness import ROSA, one_line_error
from tests.support import SUPPORT, build
from tickets.models import HeldMessage, InboundMessage, OutboxMessage, Ticket

KEYS = {"file", "message_id", "from", "from_name", "requester", "reply_to", "subject", "text", "new_text",
        "attachments", "outcome", "reason", "ticket", "rule"}
GMAIL_REPLY = ("Sí, pueden venir el jueves.\n\nEl lun, 23 nov 2026 a las 10:15, Postventa "
               f"(<{SUPPORT}>) escribió:\n> ¿Cuándo podemos visitarla?\n")


def counts(cli) -> tuple[int, ...]:
    with cli.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in
                     (Ticket, InboundMessage, OutboxMessage, HeldMessage))


def test_parse_json_reads_and_decides_without_writing(loaded):
    cli = loaded
    mails = {
        "a-reply.eml": build("Re: [AT-000001] Filtración en el baño", GMAIL_REPLY),
        "b-stranger.eml": build("Re: [AT-000001] Filtración", "Opino yo.", sender="Curioso <curioso@example.org>"),
        "c-ooo.eml": build("Respuesta automática: [AT-000001] Filtración", "Estoy de vacaciones.",
                           headers={"Auto-Submitted": "auto-replied"}),
        "d-form.eml": build("Formulario web: consulta", "Nombre: Rosa\nMensaje: ¿y la cochera?",
                            sender="Formulario <no-reply@formularios.example>", headers={"Reply-To": ROSA},
                            attachments=[("plano.pdf", "application/pdf", b"%PDF-1.4")]),
        "e-binary.eml": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4,
    }
    for name, raw in mails.items():
        (cli.home / name).write_bytes(raw)
    before = counts(cli)
    results = cli.json("parse", "--json", *(cli.home / name for name in mails))
    assert counts(cli) == before  # nothing written
    assert [set(r) for r in results] == [KEYS] * len(mails)
    decided = [(r["outcome"], r["reason"], r["ticket"]) for r in results]
    assert decided == [("comment", None, "AT-000001"), ("held", "sender_not_allowed", "AT-000001"),
                       ("ignored", "auto_reply", "AT-000001"), ("ticket", None, None),
                       ("held", "unparseable", None)]
    reply, _, _, form, _ = results
    assert reply["file"].endswith("a-reply.eml") and reply["from"] == ROSA
    assert reply["new_text"] == "Sí, pueden venir el jueves." and "escribió" in reply["text"]
    assert (form["from"], form["requester"], form["reply_to"]) == ("no-reply@formularios.example", ROSA, [ROSA])
    assert form["attachments"] == [{"name": "plano.pdf", "content_type": "application/pdf", "size": 8,
                                    "inline": False}]


def test_parse_text_says_it_in_spanish(loaded):
    cli = loaded
    path = cli.home / "reply.eml"
    path.write_bytes(build("Re: [AT-000001] Filtración en el baño", GMAIL_REPLY))
    out = cli.ok("parse", path)
    assert "Resultado: comentario en AT-000001 [regla matches-ticket]" in out
    assert "Texto del comentario:\n    Sí, pueden venir el jueves.\n" in out
    assert "escribió" not in out


def test_parse_errors_are_one_line(loaded):
    cli = loaded
    one_line_error(cli.run("parse", cli.home / "no-existe.eml"), "no-existe.eml", code=1)
    one_line_error(cli.run("parse"), "falta el argumento", code=2)
