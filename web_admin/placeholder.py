"""The placeholder behind `atencion web` until the panel arrives (the panel issue replaces it).

A bare WSGI application, no framework: ``GET /`` is a Spanish page that says the panel is coming and
which commands do its work meanwhile; ``GET /health`` is ``{"status": "ok"}`` for load balancers and
container health checks; any other path is a 404 and any other method a 405.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

PAGE = """<!doctype html>
<html lang="es">
<head><meta charset="utf-8"><title>Atención</title></head>
<body>
<h1>Atención</h1>
<p>El panel web llegará en una próxima versión.</p>
<p>Mientras tanto, usa la línea de comandos: <code>atencion show</code>, <code>atencion export</code>,
<code>atencion assign</code>, <code>atencion status</code>, <code>atencion comment</code> y
<code>atencion held</code> (<code>atencion --help</code> los lista todos).</p>
</body>
</html>
"""

StartResponse = Callable[..., object]


def _respond(start_response: StartResponse, status: str, content_type: str, body: bytes,
             method: str, extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))),
               ("Cache-Control", "no-store"), *(extra or [])]
    start_response(status, headers)
    return [] if method == "HEAD" else [body]


def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
    """The WSGI application: ``/`` (the Spanish page), ``/health`` (JSON), 404 elsewhere, 405 for a
    method other than GET or HEAD."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO") or "/"
    if path == "/":
        status, ctype, body = "200 OK", "text/html; charset=utf-8", PAGE.encode()
    elif path == "/health":
        status, ctype, body = "200 OK", "application/json", json.dumps({"status": "ok"}).encode()
    else:
        return _respond(start_response, "404 Not Found", "text/plain; charset=utf-8",
                        b"No encontrado\n", method)
    if method not in ("GET", "HEAD"):
        return _respond(start_response, "405 Method Not Allowed", "text/plain; charset=utf-8",
                        "Método no permitido\n".encode(), method, [("Allow", "GET, HEAD")])
    return _respond(start_response, status, ctype, body, method)
