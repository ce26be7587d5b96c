"""`atencion web`: a real process serving the panel (web_admin) with waitress — started as
``python -m worker.cli web`` of this checkout, asked over HTTP (login page, a login, the list,
/health), stopped with SIGTERM as `docker stop` does; and its port's usage errors in Spanish."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.cli_harness import one_line_error
from tests.servers import free_port
from tests.support import REPO


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, opener=None) -> tuple[int, str, bytes]:
    """Status, content type and body of a GET, redirects not followed (an HTTP error status included)."""
    opener = opener or urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


@pytest.fixture
def web(tmp_path):
    """A running `atencion web --port <free port>`; yields (base URL, process)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATENCION_")}
    env.update(PYTHONPATH=str(REPO), ATENCION_DATA_DIR=str(tmp_path / "var"),
               ATENCION_DATABASE_URL=f"sqlite:///{tmp_path / 'atencion.db'}", ATENCION_SECRET_KEY="k" * 32)
    for args in (["migrate"], ["users", "add", "--email", "ana@empresa.pe", "--name", "Ana", "--role", "agent",
                               "--password", "clave-segura-1"]):
        subprocess.run([sys.executable, "-m", "worker.cli", *args], cwd=tmp_path, env=env, check=True,
                       capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "worker.cli", "web", "--port", str(port)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # printed once the port is bound
        assert first.strip() == f"panel web en http://127.0.0.1:{port}/ (Ctrl-C para terminar)", (
            first + proc.stderr.read() if proc.poll() is not None else first)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


def test_panel_login_list_and_health(web):
    base, proc = web
    status, _, _ = get(base + "/")
    assert status == 302  # to the login page
    status, ctype, body = get(base + "/login")
    assert status == 200 and ctype.startswith("text/html")
    page = body.decode("utf-8")
    assert "Ingresar" in page and "Atención al Cliente" in page

    # a browser: the cookie jar keeps the session that holds the CSRF token
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      opener.open(base + "/login", timeout=10).read().decode()).group(1)
    data = urllib.parse.urlencode({"email": "ana@empresa.pe", "password": "clave-segura-1",
                                   "csrf_token": token}).encode()
    with opener.open(base + "/login", data=data, timeout=10) as r:  # follows the redirect to the list
        listing = r.read().decode("utf-8")
    assert r.status == 200 and "No hay atenciones con estos filtros." in listing and "Exportar" in listing
    status, ctype, _ = get(base + "/static/atencion.css", opener)
    assert status == 200 and ctype.startswith("text/css")

    status, ctype, body = get(base + "/health")
    assert (status, ctype, json.loads(body)) == (200, "application/json", {"status": "ok"})

    started = time.monotonic()
    proc.terminate()  # SIGTERM, as docker stop
    assert proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    assert proc.stdout.read().strip() == "hasta luego"
    assert "Traceback" not in proc.stderr.read()


@pytest.mark.parametrize(("port", "needle"), [("0x", "número entero no válido '0x'"),
                                               ("70000", "70000 fuera de rango"),
                                               ("0", "0 fuera de rango")])
def test_bad_port(bare_cli, port, needle):
    line = one_line_error(bare_cli.run("web", "--port", port), "--port", needle, code=2)
    assert line.startswith("error: ")


def test_busy_port(bare_cli):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        one_line_error(bare_cli.run("web", "--port", str(port)), f"127.0.0.1:{port}", "en uso", code=1)
