"""Export of 100,000 tickets to .xlsx through the panel, next to bare openpyxl write-only (issue 9).

    .venv/bin/python bench/export.py [--rows 100000] [--repeat 3] [--quick] [--no-cli] [--json]

The script generates ``--rows`` tickets in bulk into a throwaway SQLite database (migrated, the
catalog of bench/corpus.py loaded: 400 clients and contracts, 3 projects; tickets inserted with
prebuilt Core INSERTs, 5,000 at a time — realistic Spanish subjects, requesters, statuses,
priorities, categories, areas, assignees, contracts and holders, so the listing's joins are real).
Each round then runs, each in a child process of its own (so each has its own peak RSS):

(a) panel  the panel's Flask app (``web_admin.create_app``) on that database, logged in through the
           login form (untimed), then ``GET /exportar`` with no filter (every ticket) through the
           test client, the response streamed to a file: timed from the request to the last byte.
(b) cli    ``atencion export -o FILE.xlsx`` (``worker.cli.main`` in the child): the whole process,
           interpreter start and imports included, so its seconds are a little more than the work.
(c) bare   openpyxl write-only (with lxml) writing the same 22 columns (bold header, typed dates,
           local time) from one plain SQL query with the same joins (sqlite3 module), elapsed days
           counted in calendar days: the floor of what writing the file costs.

Peak RSS is each child's own high-water mark (VmHWM; ``ru_maxrss`` would include the parent's).
Imports happen before the timed part in (a) and (c) (openpyxl included). Figures: seconds and
peak RSS of each, and the median of the rounds' own (a)/(c) ratios, in wall time (the target's)
and in CPU time of the timed part (less moved by the other tenants of a shared machine).
Target: (a)/(c) ≤ 1.3 and (a)'s peak RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

import corpus as corpus_mod  # noqa: E402  (bench/corpus.py)
from helpers.machine import machine  # noqa: E402  (bench/helpers/machine.py)

TARGET_RATIO = 1.3
TARGET_RSS_MB = 150
SEED = 20261206
ADMIN, PASSWORD = "admin.bench@inmobiliaria-andina.pe", "clave-de-bench-123"
TZ = "America/Lima"
STAFF = [("carla.mendoza", "Carla Mendoza Ríos"), ("luis.paredes", "Luis Paredes Soto"),
         ("rocio.flores", "Rocío Flores Núñez"), ("ivan.cordova", "Iván Córdova Ibáñez"),
         ("monica.zuniga", "Mónica Zúñiga Cáceres")]
STATUSES = ["Registrado", "En proceso", "Atendido", "Cerrado", "Anulado"]
PRIORITIES = ["Baja", "Media", "Alta", "Urgente"]
CATEGORIES = ["Filtraciones", "Acabados", "Instalaciones eléctricas", "Trámites", "Áreas comunes"]
AREAS = ["Postventa", "Legal", "Trámites"]


def export_machine() -> dict:
    """The shared machine line (`helpers.machine`) with the openpyxl and lxml in use."""
    import openpyxl

    return machine(openpyxl=openpyxl.__version__, lxml=openpyxl.LXML)


# --- the database ---------------------------------------------------------------------------------


def catalog() -> dict:
    data = corpus_mod.generate(1, SEED, n_clients=400).catalog
    data = dict(data)
    data["users"] = [{"email": f"{local}@{corpus_mod.DOMAIN}", "name": name, "role": "agent",
                      "area": "Postventa"} for local, name in STAFF]
    data["areas"] = [{"name": a} for a in AREAS]
    data["categories"] = [{"name": c} for c in CATEGORIES]
    data["statuses"] = [{"name": s, "order": i, "attended": s in ("Atendido", "Cerrado"),
                         "closed": s in ("Cerrado", "Anulado")} for i, s in enumerate(STATUSES)]
    data["priorities"] = [{"name": p, "order": i} for i, p in enumerate(PRIORITIES)]
    data["ticket_types"] = [
        {"name": "Atención", "max_response_days": 5, "priority_days": {"Urgente": 1}},
        {"name": "Reclamo", "max_response_days": 15, "day_rule": "business"},
        {"name": "Solicitud", "max_response_days": 10},
    ]
    return data


def build_database(path: Path, n: int) -> dict:
    """Migrate a fresh SQLite file, load the catalog and the admin, insert ``n`` tickets in bulk."""
    from sqlalchemy import insert, select

    from tickets.catalog import load_catalog_data
    from tickets.db import make_engine, make_sessionmaker, migrate
    from tickets.models import (
        Area,
        Category,
        Client,
        Contract,
        Priority,
        Project,
        Status,
        Subdivision,
        Ticket,
        TicketType,
        Unit,
        User,
    )
    from tickets.users import add_or_update_user

    t0 = time.perf_counter()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        load_catalog_data(s, catalog())
        add_or_update_user(s, email=ADMIN, name="Ana Administradora", role="admin", password=PASSWORD)
    r = random.Random(SEED)
    with sessions.begin() as s:
        ids = lambda model: list(s.scalars(select(model.id).order_by(model.id)))  # noqa: E731
        types, cats, stats = ids(TicketType), ids(Category), ids(Status)
        prios, areas, users = ids(Priority), ids(Area), ids(User)
        attended = set(s.scalars(select(Status.id).where(Status.attended)))
        contracts = s.execute(select(Contract.id, Contract.number, Contract.unit_id, Unit.subdivision_id,
                                     Subdivision.project_id)
                              .join(Unit, Contract.unit_id == Unit.id)
                              .join(Subdivision, Unit.subdivision_id == Subdivision.id)).all()
        clients = s.execute(select(Client.id, Client.name)).all()
        promoters = dict(s.execute(select(Project.id, Project.promoter_id)).all())
    start = datetime(2025, 1, 2, 13, 0, tzinfo=UTC)
    stmt = insert(Ticket.__table__)
    batch: list[dict] = []
    with engine.begin() as conn:
        for i in range(n):
            at = start + timedelta(minutes=i * 7 + r.randint(0, 6))
            status = r.choice(stats)
            contract = r.choice(contracts) if r.random() < 0.75 else None
            client = r.choice(clients)
            subject, _ = r.choice(corpus_mod.TOPICS)
            kind = r.choices(("atencion", "reclamo", "solicitud"), (8, 1, 1))[0]
            first = r.random()
            batch.append({
                "code": f"AT-{i + 1:06d}", "kind": kind, "requested_at": at,
                "attended_at": at + timedelta(hours=r.randint(2, 400)) if status in attended else None,
                "type_id": types[("atencion", "reclamo", "solicitud").index(kind)],
                "category_id": r.choice(cats) if r.random() < 0.8 else None,
                "status_id": status, "priority_id": r.choice(prios),
                "project_id": contract.project_id if contract else None,
                "subdivision_id": contract.subdivision_id if contract else None,
                "unit_id": contract.unit_id if contract else None,
                "promoter_id": promoters.get(contract.project_id) if contract else None,
                "requester_client_id": client.id if first < 0.7 else None,
                "requester_name": client.name if first < 0.7 else "",
                "requester_email": f"{corpus_mod._slug(client.name.split()[0])}{i}@gmail.com",
                "holder_client_id": client.id if contract else None,
                "assignee_id": r.choice(users) if r.random() < 0.7 else None,
                "area_id": r.choice(areas) if r.random() < 0.9 else None,
                "contract_id": contract.id if contract else None,
                "subject": subject.format(unit=f"{r.randint(1, 10)}{r.randint(1, 4):02d}")
                + (" — urgente" if r.random() < 0.05 else ""),
                "detail": "", "channel": "email", "created_at": at, "updated_at": at,
            })
            if len(batch) == 5000:
                conn.execute(stmt, batch)
                batch.clear()
        if batch:
            conn.execute(stmt, batch)
    engine.dispose()
    return {"url": url, "seconds": time.perf_counter() - t0, "mb": path.stat().st_size / 1e6}


# --- the children ---------------------------------------------------------------------------------


def child_panel(url: str, out: Path, data_dir: Path) -> dict:
    import openpyxl  # noqa: F401  (imported before the timed part, as in the bare child)

    import tickets.export  # noqa: F401
    from tickets.settings import Settings
    from web_admin import create_app

    settings = Settings(_env_file=None, database_url=url, data_dir=data_dir, timezone=TZ,
                        secret_key="bench-secret-key-" + "x" * 16)
    app = create_app(settings)
    client = app.test_client()
    page = client.get("/login").text
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    r = client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.status_code
    t0, c0 = time.perf_counter(), time.process_time()
    resp = client.get("/exportar", buffered=False)
    assert resp.status_code == 200, resp.status_code
    with open(out, "wb") as fh:
        for block in resp.iter_encoded():
            fh.write(block)
    resp.close()
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}


BARE_HEADERS = (
    "Código", "Formulario", "Asunto", "Estado", "Tipo de atención", "Categoría", "Prioridad", "Proyecto",
    "Torre/Bloque", "Dpto./Unidad", "Promotor", "Solicitante", "Correo del solicitante", "Titular",
    "Usuario asignado", "Correo del asignado", "Área", "N° de contrato", "Fecha de solicitud",
    "Fecha de atención", "Días transcurridos", "Alerta de la atención",
)
"""tickets.export.HEADERS, written out so that the bare child imports neither SQLAlchemy nor our code."""

BARE_SQL = """
SELECT t.code, t.kind, t.subject, s.name, ty.name, c.name, p.name, pr.name, sd.name, u.number, pm.name,
       COALESCE(NULLIF(t.requester_name, ''), rc.name), t.requester_email, hc.name, us.name, us.email,
       a.name, COALESCE(t.contract_number, ct.number), t.requested_at, t.attended_at, ty.max_response_days
FROM tickets t
JOIN ticket_types ty ON t.type_id = ty.id
JOIN statuses s ON t.status_id = s.id
JOIN priorities p ON t.priority_id = p.id
LEFT JOIN categories c ON t.category_id = c.id
LEFT JOIN projects pr ON t.project_id = pr.id
LEFT JOIN subdivisions sd ON t.subdivision_id = sd.id
LEFT JOIN units u ON t.unit_id = u.id
LEFT JOIN promoters pm ON t.promoter_id = pm.id
LEFT JOIN clients rc ON t.requester_client_id = rc.id
LEFT JOIN clients hc ON t.holder_client_id = hc.id
LEFT JOIN users us ON t.assignee_id = us.id
LEFT JOIN areas a ON t.area_id = a.id
LEFT JOIN contracts ct ON t.contract_id = ct.id
ORDER BY t.requested_at DESC, t.id DESC
"""


def child_bare(url: str, out: Path) -> dict:
    from zoneinfo import ZoneInfo

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    zone, today = ZoneInfo(TZ), date.today()
    t0, c0 = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Atenciones")
    bold = Font(bold=True)
    header = []
    for text in BARE_HEADERS:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        header.append(cell)
    ws.append(header)

    def local(text):
        if text is None:
            return None
        return datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)

    n = 0
    for row in conn.execute(BARE_SQL):
        *cols, requested, attended, max_days = row
        requested, attended = local(requested), local(attended)
        days = ((attended.date() if attended else today) - requested.date()).days
        dates = []
        for value in (requested, attended):
            cell = WriteOnlyCell(ws, value=value)
            cell.number_format = "dd/mm/yyyy hh:mm"
            dates.append(cell)
        ws.append([*cols, *dates, days, "Vencida" if days > max_days else "A tiempo"])
        n += 1
    wb.save(out)
    conn.close()
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "rows": n}


def sheet_rows(path: Path) -> int:
    """Rows in the first sheet of an .xlsx (``<row `` tags, streamed), header included."""
    count, tail = 0, b""
    with zipfile.ZipFile(path) as z, z.open("xl/worksheets/sheet1.xml") as fh:
        while block := fh.read(1 << 20):
            data = tail + block
            count += data.count(b"<row ")
            tail = data[-4:]
    return count


def run_child(args: list[str], work: Path, env: dict | None = None) -> dict:
    """Run a child and reap it (os.wait4): its JSON line (seconds, peak RSS) and its wall seconds."""
    log = work / "child.out"
    t0 = time.perf_counter()
    with open(log, "wb") as fh:
        proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    if code != 0:
        raise RuntimeError(f"{args[1:3]} exited {code}: {text[-2000:]}")
    lines = [line for line in text.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    result["wall"] = wall
    result["ru_maxrss_mb"] = usage.ru_maxrss / 1024  # includes the parent's RSS at fork (see peak_rss_mb)
    return result


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), MB: its own, unlike ``ru_maxrss``, which Linux
    carries over exec() from the forking parent (here, the parent that built the database)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child_cli(out: Path) -> dict:
    """``atencion export -o OUT`` as the console script runs it (``worker.cli.main``), in this process."""
    sys.argv = ["atencion", "export", "-o", str(out)]
    from worker.cli import run

    code = run()
    if code:
        raise SystemExit(code)
    return {}


def child_main(which: str, url: str, out: Path, data_dir: Path) -> int:
    if which == "panel":
        result = child_panel(url, out, data_dir)
    elif which == "bare":
        result = child_bare(url, out)
    else:
        result = child_cli(out)
    result["rss_mb"] = peak_rss_mb()
    print(json.dumps(result), flush=True)
    return 0


# --- main -----------------------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="10,000 rows")
    ap.add_argument("--no-cli", action="store_true", help="skip (b), atencion export")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", choices=("panel", "bare", "cli"), help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        return child_main(a.child, a.url, a.out, a.data_dir)
    n = 10_000 if a.quick else a.rows
    from tickets.export import HEADERS

    assert tuple(HEADERS.values()) == BARE_HEADERS, "bench/export.py: BARE_HEADERS out of date"
    started = time.perf_counter()
    info = export_machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, SQLite {info['sqlite']}, "
          f"openpyxl {info['openpyxl']} (lxml {info['lxml']}), load {info['load_average'][0]:.2f}; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = Path(tmp)
        db = build_database(work / "atencion.db", n)
        print(f"database: {n:,} tickets in {db['seconds']:.1f} s ({db['mb']:.1f} MB)", flush=True)
        me = [sys.executable, str(Path(__file__).resolve())]
        env = dict(os.environ, ATENCION_DATABASE_URL=db["url"], ATENCION_DATA_DIR=str(work / "var"),
                   ATENCION_TIMEZONE=TZ)
        rounds = []
        for i in range(a.repeat):
            rnd = {}
            for which in ("panel", "bare"):
                out = work / f"{which}.xlsx"
                rnd[which] = run_child([*me, "--child", which, "--url", db["url"], "--out", str(out),
                                        "--data-dir", str(work / "var")], work)
                rnd[which]["rows"] = sheet_rows(out) - 1
                rnd[which]["mb"] = out.stat().st_size / 1e6
            if not a.no_cli:
                out = work / "cli.xlsx"
                rnd["cli"] = run_child([*me, "--child", "cli", "--out", str(out)], work, env=env)
                rnd["cli"]["seconds"] = rnd["cli"]["wall"]
                rnd["cli"]["rows"] = sheet_rows(out) - 1
            for which, r in rnd.items():
                if r["rows"] != n:
                    raise SystemExit(f"({which}) wrote {r['rows']} rows, expected {n}")
            rnd["ratio"] = rnd["panel"]["seconds"] / rnd["bare"]["seconds"]
            rnd["cpu_ratio"] = rnd["panel"]["cpu"] / rnd["bare"]["cpu"]
            rounds.append(rnd)
            cli = (f"  (b) cli {rnd['cli']['seconds']:.2f} s {rnd['cli']['rss_mb']:.0f} MB"
                   if "cli" in rnd else "")
            print(f"round {i + 1}: (a) panel {rnd['panel']['seconds']:.2f} s {rnd['panel']['rss_mb']:.0f} MB"
                  f"{cli}  (c) bare {rnd['bare']['seconds']:.2f} s {rnd['bare']['rss_mb']:.0f} MB"
                  f"  (a)/(c) {rnd['ratio']:.2f}  cpu s {rnd['panel']['cpu']:.2f} / {rnd['bare']['cpu']:.2f}"
                  f" = {rnd['cpu_ratio']:.2f}  file {rnd['panel']['mb']:.1f} MB", flush=True)
    ratio = statistics.median(r["ratio"] for r in rounds)
    rss = max(r["panel"]["rss_mb"] for r in rounds)
    met = ratio <= TARGET_RATIO and rss < TARGET_RSS_MB
    total = time.perf_counter() - started
    each = ", ".join(f"{r['ratio']:.2f}" for r in rounds)
    cpu_ratio = statistics.median(r["cpu_ratio"] for r in rounds)
    print(f"(a)/(c) median {ratio:.2f} (rounds {each}), in CPU time {cpu_ratio:.2f}, "
          f"(a) peak RSS {rss:.0f} MB; target ≤ {TARGET_RATIO} and < {TARGET_RSS_MB} MB: "
          f"{'met' if met else 'MISSED'}; script run time {total:.0f} s")
    if a.json:
        print(json.dumps({"machine": info, "rows": n, "database": db, "rounds": rounds, "ratio": ratio,
                          "panel_rss_mb": rss, "met": met, "seconds": total}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
