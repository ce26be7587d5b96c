"""The README's tour of the panel: one screenshot per page, taken as a user sees it.

Runs `atencion demo` (the README's first command) in a temporary folder, logs in with the admin it
prints, walks the panel's pages in Debian's Chromium (/usr/bin/chromium driven by Playwright, never a
downloaded browser; in Spanish with Debian's chromium-l10n, so date fields read dd/mm/aaaa) and writes
one PNG per page to docs/tour/ (1280 px wide, the whole page, 256 colours). On the way it does what
staff do on a ticket: a follow-up for tomorrow and a visit.

    .venv/bin/python docs/tour.py [--out docs/tour] [--chromium /usr/bin/chromium]

The pages and their file names are `PAGES`; the README's "Tour of the panel" shows them in that order.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PANEL_LINE = re.compile(r"Panel web: (\S+) — usuario (\S+), contraseña (\S+)")
WIDTH, HEIGHT = 1280, 860


def start_demo(workdir: Path) -> tuple[subprocess.Popen, str, str, str]:
    """`atencion demo` on a free port in ``workdir`` (its var/ goes there).

    Returns: the process, the panel's URL, the admin's email and password.

    Raises: RuntimeError when the demo exits or prints no panel line within 120 seconds."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for key in ("ATENCION_DATA_DIR", "ATENCION_DATABASE_URL", "ATENCION_SMTP_URL", "ATENCION_BROKER_URL"):
        env.pop(key, None)
    command = [sys.executable, "-m", "worker.cli", "demo", "--port", str(free_port())]
    proc = subprocess.Popen(command, cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    seen = []
    for line in proc.stdout:
        m = PANEL_LINE.search(line)
        if m:
            return proc, m.group(1), m.group(2), m.group(3)
        seen.append(line)
        if time.monotonic() > deadline:
            break
    stop(proc)
    raise RuntimeError("the demo printed no panel address:\n" + "".join(seen[-10:]))


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Stop the demo's whole process group."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def first_code(page, base: str, query: str = "") -> str:
    """The code of the first ticket the list shows for ``query``."""
    page.goto(f"{base}?{query}")
    return page.locator("td.code a").first.inner_text()


def plan_follow_up_and_visit(page, ticket_url: str) -> None:
    """On the ticket view, as staff do: a follow-up for tomorrow and a visit in three days (its
    invitation goes to the requester through the demo's outbox, var/outbox/)."""
    today = datetime.now(ZoneInfo("America/Lima")).date()
    page.goto(ticket_url)
    page.fill("#follow_up-due_date", (today + timedelta(days=1)).isoformat())
    page.fill("#follow_up-note", "Llamar a la clienta para confirmar que la filtración no volvió.")
    page.click("#follow-up-form button[type=submit]")
    page.wait_for_selector(".flash-success")
    page.click("#eventos summary")
    page.fill("#event-title", "Visita técnica: filtración del techo del baño")
    page.fill("#event-date", (today + timedelta(days=3)).isoformat())
    page.fill("#event-start", "09:30")
    page.fill("#event-end", "10:30")
    page.fill("#event-location", "Dpto. de la clienta")
    page.click("#schedule-event")
    page.wait_for_selector(".flash-success")


def shoot(page, out: Path, name: str, url: str | None = None) -> Path:
    """Open ``url`` (when given) and save the whole page as ``out/name.png``."""
    if url is not None:
        page.goto(url)
    page.wait_for_load_state("networkidle")
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as shot:  # 256 colours: a third of the bytes, the same page to the eye
        shot.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


def tour(base: str, user: str, password: str, out: Path, chromium: str) -> list[Path]:
    """Log in and take the tour; returns the PNG files written, in the README's order."""
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as p:
        # Chromium takes its interface language (date and time fields, "Seleccionar archivo") from
        # LANGUAGE, with Debian's chromium-l10n installed; --lang alone leaves headless in English.
        browser = p.chromium.launch(executable_path=chromium, args=["--lang=es-419"],
                                    env={**os.environ, "LANG": "es_PE.UTF-8", "LANGUAGE": "es_PE:es"})
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, locale="es-PE")
        shots.append(shoot(page, out, "01-login", base + "login"))
        page.fill("input[name=email]", user)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(base)
        shots.append(shoot(page, out, "02-lista", base))
        shots.append(shoot(page, out, "03-lista-filtrada", base + "?alert=overdue&q=humedad"))
        code = first_code(page, base, "q=Filtraci%C3%B3n+de+agua")
        plan_follow_up_and_visit(page, f"{base}atenciones/{code}")
        shots.append(shoot(page, out, "04-atencion", f"{base}atenciones/{code}"))
        shots.append(shoot(page, out, "05-nueva-atencion", base + "atenciones/nueva"))
        shots.append(shoot(page, out, "06-crear-requerimiento", f"{base}atenciones/{code}/requerimiento"))
        shots.append(shoot(page, out, "07-documentos", f"{base}atenciones/{code}/documentos"))
        shots.append(shoot(page, out, "08-acta-de-visita", f"{base}atenciones/{code}/documentos/acta_visita"))
        page.goto(f"{base}atenciones/{code}")
        page.click("#event-list .event-actions a:has-text('Editar')")
        shots.append(shoot(page, out, "09-editar-evento"))
        shots.append(shoot(page, out, "10-seguimientos", base + "seguimientos"))
        shots.append(shoot(page, out, "11-correos-retenidos", base + "correos-retenidos"))
        shots.append(shoot(page, out, "12-resumen", base + "resumen"))
        shots.append(shoot(page, out, "13-archivos-relacionados", base + "archivos-relacionados"))
        shots.append(shoot(page, out, "14-administracion", base + "admin/"))
        shots.append(shoot(page, out, "15-tipos-de-atencion", base + "admin/catalogo/tipos"))
        shots.append(shoot(page, out, "16-entregas", base + "admin/catalogo/entregas"))
        shots.append(shoot(page, out, "17-usuarios", base + "admin/usuarios"))
        browser.close()
    return shots


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "tour")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("[0-9][0-9]-*.png"):  # a page renamed or dropped leaves no stale shot
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="atencion-tour-") as tmp:
        proc, base, user, password = start_demo(Path(tmp))
        try:
            tour(base, user, password, args.out, args.chromium)
        finally:
            stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
