"""`atencion web`: until the panel arrives, a real process serving the placeholder page and /health
(web_admin/placeholder.py) — started as ``python -m worker.cli web`` of this checkout, asked over
HTTP, stopped with SIGTERM as `docker stop` does; and its port's usage errors in Spanish."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.cli_harness import one_line_error
from tests.servers import free_port
from tests.support import REPO


def get(url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of a GET (an HTTP error status included)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


@pytest.fixture
def web(tmp_path):
    """A running `atencion web --port <free port>`; yields (base URL, process)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATENCION_")}
    env.update(PYTHONPATH=str(REPO), ATENCION_DATA_DIR=str(tmp_path / "var"),
               ATENCION_DATABASE_URL=f"sqlite:///{tmp_path / 'atencion.db'}")
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


def test_placeholder_page_and_health(web):
    base, proc = web
    status, ctype, body = get(base + "/")
    assert status == 200 and ctype.startswith("text/html")
    page = body.decode("utf-8")
    assert "el panel web llegará en una próxima versión" in page.lower()
    assert "atencion show" in page and "atencion export" in page

    status, ctype, body = get(base + "/health")
    assert (status, ctype, json.loads(body)) == (200, "application/json", {"status": "ok"})

    assert get(base + "/tickets")[0] == 404

    started = time.monotonic()
    proc.terminate()  # SIGTERM, as docker stop
    assert proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    assert proc.stdout.read().strip() == "hasta luego"
    assert proc.stderr.read() == ""


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
