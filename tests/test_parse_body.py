"""Which body is a message's text (`mail.inbound.parse.body.choose_text`), and inline images."""

from __future__ import annotations

from pathlib import Path

from mail.inbound.parse import parse_message
from mail.inbound.parse.body import choose_text
from mail.inbound.parse.html import html_tree, most_words, tree_to_text
from tests.support import build

WORDS = " ".join(f"palabra{i}" for i in range(40))


def test_stub_plain_part_gives_the_html_text():
    text, new_text = choose_text("Saludos", f"<p>{WORDS}</p>", [])
    assert text.startswith("palabra0") and new_text.startswith("palabra0")


def test_complete_plain_part_is_kept():
    assert choose_text(WORDS, f"<p>{WORDS}</p><p>Enviado desde mi celular</p>", []) == (WORDS, WORDS)


def test_history_only_in_the_html_keeps_the_plain_new_text():
    """Yahoo: the plain part has the reply only, the HTML the reply and the quoted history."""
    reply = "Sí, el jueves a las 10 está bien.\nRosa"
    history = "<p>On Wed, 4/4/12, Postventa &lt;p@x.pe&gt; wrote:</p><blockquote><p>" + WORDS + "</p></blockquote>"
    text, new_text = choose_text(reply, f"<p>Sí, el jueves a las 10 está bien.<br>Rosa Q.</p>{history}", [])
    assert "palabra0" in text  # the whole body: the HTML says clearly more
    assert new_text == reply  # what she wrote: the plain part's


def test_html_only_and_tnef_only():
    assert choose_text(None, "<div>Hola <b>mundo</b></div>", []) == ("Hola mundo", "Hola mundo")
    assert choose_text("  \n", None, ["del winmail.dat"])[0] == "del winmail.dat"
    assert choose_text(None, None, []) == ("", "")


def test_text_has_unix_line_endings_and_no_nul():
    assert choose_text("\r\nuno\r\ndos\x00\r\n\r\n", None, [])[0] == "uno\ndos"


def test_a_message_whose_plain_part_is_a_stub_reads_as_its_html():
    msg = parse_message(build("Consulta", "Saludos", html=f"<html><body><p>{WORDS}</p></body></html>"))
    assert msg.text.startswith("palabra0") and msg.html.startswith("<html>")


def test_images_shown_by_cid_are_inline_not_files():
    raw = (
        "From: Rosa <rosa@x.pe>\r\nTo: postventa@inmobiliaria-andina.pe\r\nSubject: Foto del baño\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=R\r\n\r\n"
        "--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        '<p>Así está el baño:</p><img src="cid:foto1@x.pe"><img src=\'CID:firma%40x.pe\'>\r\n'
        "--R\r\nContent-Type: image/jpeg; name=foto.jpg\r\nContent-ID: <foto1@x.pe>\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n"
        "--R\r\nContent-Type: image/png; name=firma.png\r\nContent-ID: <firma@x.pe>\r\n"
        "Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n"
        "--R\r\nContent-Type: image/png; name=plano.png\r\nContent-ID: <plano@x.pe>\r\n"
        "Content-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n--R--\r\n"
    ).encode()
    msg = parse_message(raw)
    assert [(a.filename, a.inline) for a in msg.attachments] == [
        ("foto.jpg", True), ("firma.png", True), ("plano.png", False)]
    assert [a.filename for a in msg.files] == ["plano.png"]  # not shown in the body: the client's file


def test_signature_parts_are_not_files():
    for ctype, name in (("application/pkcs7-signature", "smime.p7s"),
                        ("application/x-pkcs7-signature", "smime.p7s"),
                        ("application/pgp-signature", "signature.asc")):
        raw = (
            "From: Rosa <rosa@x.pe>\r\nTo: postventa@inmobiliaria-andina.pe\r\nSubject: Firmado\r\n"
            f'MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol="{ctype}"; boundary=S\r\n\r\n'
            "--S\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n"
            "--M\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAdjunto el acta firmada.\r\n"
            "--M\r\nContent-Type: application/pdf; name=acta.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            "JVBERi0=\r\n--M--\r\n"
            f"--S\r\nContent-Type: {ctype}; name={name}\r\nContent-Disposition: attachment; filename={name}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3\r\n--S--\r\n"
        ).encode()
        msg = parse_message(raw)
        assert [a.filename for a in msg.attachments] == ["acta.pdf"], ctype
        assert msg.text == "Adjunto el acta firmada."
        assert name.encode() in msg.raw  # the raw message keeps the signature


# --- the word bound that spares laying out the HTML agrees with the layout -----------------------

ODD_HTML = [
    "<ul><li>uno</li><li>dos</li></ul><p>a&nbsp;b</p><div>x</div><div>y</div><br>z",
    "<ol><li>primero</li><li>segundo</li></ol><table><tr><td>a</td><td>b</td></tr></table>",
    "<p>Hola.</p><p>Monto < S/ 5000: la puerta del 504 no cierra; plazo > 5 días.</p>",
    "a < b and c > d", "<p>a</p>< b c d e >f", "<!-->uno dos tres cuatro<!-- x -->",
    "<p>x</p><!-- a --!> b c d e f g -->h", "<style-x>uno dos tres cuatro</style>",
    '<p title="<script>">uno dos tres cuatro cinco</p><p>seis</script></p>',
    "<xmp><b>x y z</b> <style>q r s</style></xmp>", "<plaintext>a <b> c <style>d e f</style> g",
    "a&#32b&#x20;c&nbsp;d", "<pre>uno   dos\n tres</pre>", "<textarea>uno dos</textarea><select><option>a",
    "<html><head><style>p {margin: 0}</style></head><body><p>Estimados, gracias.</p></body></html>",
    "<dl><dt>Dpto</dt><dd>504</dd></dl><blockquote>cita <i>uno</i></blockquote>",
]


def html_bodies():
    import sys

    from mail.inbound.parse import UnparseableMessage
    from tests.shared_data import require_shared

    repo = Path(__file__).resolve().parents[1]
    raws = []
    for base in (*(require_shared(n) for n in ("corpus", "cases", "peer")), repo / "tests", repo / "examples"):
        raws += [p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file() and p.suffix in {"", ".eml", ".box"}]
    sys.path.insert(0, str(repo / "bench"))
    try:
        import corpus
    finally:
        sys.path.pop(0)
    raws += corpus.generate(400, seed=20261130).messages
    for raw in raws:
        try:
            msg = parse_message(raw)
        except UnparseableMessage:
            continue
        if msg.html:
            yield msg.html


def test_word_bound_is_never_below_the_laid_out_text():
    checked = 0
    for html in [*html_bodies(), *ODD_HTML]:
        tree = html_tree(html)
        assert most_words(tree) >= len(tree_to_text(tree).split()), html[:300]
        checked += 1
    assert checked > 100


def test_bound_and_layout_choose_what_the_layout_alone_chooses():
    """The shortcut changes nothing: the same choice as always laying the HTML out."""
    for plain, html in [("Saludos", f"<p>{WORDS}</p>"), (WORDS, f"<p>{WORDS}</p>"),
                        ("Ok", "<ul>" + "<li>x</li>" * 3 + "</ul>"), ("", "<p>solo html</p>")]:
        tree = html_tree(html)
        laid_out = tree_to_text(tree)
        expected = laid_out if len(laid_out.split()) > 2 * len(plain.split()) + 5 or not plain else plain
        assert choose_text(plain, html, [])[0] == expected
