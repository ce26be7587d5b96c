"""The list at scale: 1,000,000 tickets with their logbooks in PostgreSQL, median and p95 of
(a) the list query as the panel runs it (`tickets.list_page`: the count and the first page of 50,
from one scan of the matches for the trigram text filters), beside its baseline, the same count and
page as two statements (``count_tickets`` + ``iter_ticket_rows``, the list before
`tickets.list_page`), timed alternately in the same run and checked to agree, and (b) the whole
list page over HTTP (Flask test client, logged in), for 10 filter combinations.

    .venv/bin/python bench/list.py [--tickets 1000000] [--runs 20] [--budget 60] [--rebuild] [--json]
        [--exact-count] [--url postgresql+psycopg://postgres@127.0.0.1:5432/atencion_bench]

The query counts as the list's first page does: at most ``web_admin.listing.COUNT_CAP`` (10,000)
tickets; ``--exact-count`` times it with the exact count instead. The "matches" column is always
the exact number.

The database (``atencion_bench``) is created and migrated when missing, filled once with COPY
(deterministic: fixed seed, "today" pinned to 2026-12-01 America/Lima) and reused while it holds
``--tickets`` tickets; ``--rebuild`` drops and refills it. Migrations added later (indexes) are
applied on every run. A combination stops early once ``--budget`` seconds are spent on it (at least
``--min-runs``, default 3), so the SLA filters, which stream every candidate row through Python, do not take an hour;
the table says how many runs each figure is from.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy import make_url  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/atencion_bench"
TODAY = date(2026, 12, 1)
TZ = "America/Lima"
SEED = 20261206
PASSWORD = "clave-bench-123"
ADMIN = "admin@bench.pe"

WORDS = ("puerta ventana baño cocina caño filtración humedad pintura grieta piso mayólica "
         "ascensor estacionamiento depósito terraza luz tablero intercomunicador garantía entrega "
         "llaves medidor agua desagüe techo pared closet jardín portón timbre cerradura vidrio").split()
COMMENTS = ("Sigue goteando el caño de la cocina", "Nadie vino a la visita programada",
            "La humedad volvió a aparecer en la pared", "Gracias, quedó bien", "¿Cuándo vienen a revisar?",
            "Adjunto fotos de la filtración", "El técnico no trajo los repuestos",
            "Necesito la constancia de entrega", "Se volvió a rajar la mayólica del baño")
FIRST = "Ana Luis Rosa Carlos María José Lucía Jorge Pedro Carmen Elena Raúl Sofía Diego Julia Martín".split()
LAST = "Torres Pérez Díaz Quispe Huamán Rojas Flores Castillo Ramírez Mendoza Chávez Vargas Gómez Núñez".split()


def log(msg: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def pg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(url: str, rebuild: bool) -> None:
    u = make_url(url)
    admin = u.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (u.database,)).fetchone()
        if exists and rebuild:
            log(f"dropping {u.database}")
            conn.execute(f'DROP DATABASE "{u.database}"')
            exists = None
        if not exists:
            log(f"creating {u.database}")
            conn.execute(f'CREATE DATABASE "{u.database}"')


def migrate(url: str) -> None:
    from tickets.db import make_engine
    from tickets.db import migrate as run_migrations

    engine = make_engine(url)
    try:
        run_migrations(engine)
    finally:
        engine.dispose()


def ticket_count(conn) -> int:
    return conn.execute("SELECT count(*) FROM tickets").fetchone()[0]


def _esc(s: str | None) -> str:
    if s is None:
        return r"\N"
    return s.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _ts(d: datetime) -> str:
    return d.strftime("%Y-%m-%d %H:%M:%S+00")


def generate(url: str, n: int) -> float:
    """Fill the catalog and ``n`` tickets with their logbooks; returns seconds. The stored folded
    text (``tickets.search_text``, a comment's ``text_fold``, ``tickets.client_comments_fold``) is
    computed as the models do it."""
    from tickets.search_text import SEPARATOR, entry_text_fold, ticket_search_text

    rnd = random.Random(SEED)
    start = time.perf_counter()
    with psycopg.connect(pg_url(url)) as conn:
        c = conn.cursor()
        ids = lambda table, col="name": dict(c.execute(f"SELECT {col}, id FROM {table}").fetchall())  # noqa: E731
        # Catalog: 4 promoters, 20 projects × 5 towers × 40 units, 20,000 clients, 40 staff.
        c.execute("INSERT INTO ticket_types (name, max_response_days, priority_days, day_rule) VALUES "
                  "('Reclamo', 2, '{}', 'calendar'), ('Solicitud', 10, '{\"Urgente\": 3}', 'business') "
                  "ON CONFLICT DO NOTHING")
        c.execute("INSERT INTO categories (name) VALUES ('Acabados'), ('Instalaciones'), ('Documentos'), "
                  "('Áreas comunes') ON CONFLICT DO NOTHING")
        c.execute("INSERT INTO areas (name) VALUES ('Área Legal'), ('Atención al cliente') ON CONFLICT DO NOTHING")
        c.execute("INSERT INTO promoters (name) SELECT 'Inmobiliaria ' || g FROM generate_series(1, 4) g")
        c.execute("INSERT INTO projects (name, promoter_id) SELECT 'Proyecto ' || g, "
                  "(SELECT min(id) FROM promoters) + (g % 4) FROM generate_series(1, 20) g")
        c.execute("INSERT INTO subdivisions (project_id, name) SELECT p.id, 'Torre ' || chr(64 + g) "
                  "FROM projects p, generate_series(1, 5) g")
        c.execute("INSERT INTO units (subdivision_id, number, unit_type) "
                  "SELECT s.id, (100 * (1 + g / 4) + g % 4)::text, "
                  "CASE WHEN g % 10 = 0 THEN 'estacionamiento' ELSE 'departamento' END "
                  "FROM subdivisions s, generate_series(1, 40) g")
        clients = []
        buf = io.StringIO()
        for i in range(1, 20001):
            name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)} {rnd.choice(LAST)}"
            clients.append(name)
            buf.write(f"DNI\t{40000000 + i}\t{name}\n")
        with c.copy("COPY clients (document_type, document_number, name) FROM STDIN") as cp:
            cp.write(buf.getvalue())
        client_ids = [r[0] for r in c.execute("SELECT id FROM clients ORDER BY id")]
        with c.copy("COPY client_emails (client_id, email) FROM STDIN") as cp:
            cp.write("".join(f"{cid}\tcliente{k}@correo.pe\n" for k, cid in enumerate(client_ids, 1)))
        unit_rows = c.execute("SELECT u.id, s.id, s.project_id, p.promoter_id FROM units u "
                              "JOIN subdivisions s ON s.id = u.subdivision_id JOIN projects p ON p.id = s.project_id "
                              "ORDER BY u.id").fetchall()
        with c.copy("COPY contracts (number, unit_id) FROM STDIN") as cp:
            cp.write("".join(f"C-{k:06d}\t{u[0]}\n" for k, u in enumerate(unit_rows, 1)))
        contract_ids = [r[0] for r in c.execute("SELECT id FROM contracts ORDER BY id")]
        staff = []
        with c.copy("COPY users (email, name, role, active) FROM STDIN") as cp:
            for k in range(1, 41):
                name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)} Staff{k}"
                staff.append(name)
                cp.write(f"agente{k}@empresa.pe\t{name}\tagent\tt\n")
        user_ids = [r[0] for r in c.execute("SELECT id FROM users ORDER BY id")]
        conn.commit()
        types, statuses, prios = ids("ticket_types"), ids("statuses"), ids("priorities")
        cats, areas = list(ids("categories").values()), list(ids("areas").values())
        closed_st = [statuses["Cerrado"], statuses["Atendido"]]
        open_st = [statuses["Registrado"], statuses["Asignado"], statuses["En proceso"]]
        type_list = [types["Atención"]] * 7 + [types["Reclamo"]] * 2 + [types["Solicitud"]]
        prio_list = [prios["Baja"]] + [prios["Media"]] * 6 + [prios["Alta"]] * 2 + [prios["Urgente"]]
        log("catalog written")

        # Tickets over the three years before TODAY; 6% open, nearly all of them recent.
        now = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
        span = 3 * 365 * 86400
        tcols = ("code, kind, requested_at, attended_at, type_id, category_id, status_id, priority_id, project_id, "
                 "subdivision_id, unit_id, promoter_id, requester_client_id, requester_name, requester_email, "
                 "holder_client_id, assignee_id, area_id, contract_id, subject, detail, channel, created_at, "
                 "updated_at, search_text, client_comments_fold")
        lcols = ("ticket_id, kind, at, author_user_id, author_client_id, author_email, author_name, public, text, "
                 "text_fold")
        comment_folds = {c: entry_text_fold("comment", c) for c in COMMENTS}
        staff_reply = "Estimado cliente, programamos la visita técnica."
        first_id = None
        chunk = 50_000
        for lo in range(1, n + 1, chunk):
            hi = min(n, lo + chunk - 1)
            tb, lb = io.StringIO(), io.StringIO()
            # Logbooks first (their own random stream, so the data is what it always was): the mail
            # that opened it; a staff reply when assigned; client comments (35%); a status change
            # when attended. Each ticket's client comments also go on the ticket, as the models append.
            rnd2 = random.Random(SEED + lo)
            logbooks, client_folds = {}, {}
            for k in range(lo, hi + 1):
                rows = [("email_in", r"\N", "cliente@correo.pe", "f", f"Mensaje original del ticket {k}", None)]
                if rnd2.random() < 0.6:
                    rows.append(("comment", str(user_ids[k % 40]), r"\N", "t", staff_reply,
                                 entry_text_fold("comment", staff_reply)))
                r = rnd2.random()
                if r < 0.35:
                    for _ in range(1 + (r < 0.1)):
                        comment = COMMENTS[rnd2.randrange(len(COMMENTS))]
                        rows.append(("comment", r"\N", f"cliente{k % 20000 + 1}@correo.pe", "t", comment,
                                     comment_folds[comment]))
                        client_folds[k] = client_folds.get(k, "") + SEPARATOR + comment_folds[comment]
                if rnd2.random() < 0.5:
                    rows.append(("change", str(user_ids[k % 40]), r"\N", "f", "Estado cambiado", None))
                logbooks[k] = rows
            for k in range(lo, hi + 1):
                is_open = rnd.random() < 0.06
                age = rnd.random() * (60 * 86400 if is_open and rnd.random() < 0.9 else span)
                req = now - timedelta(seconds=age)
                att = None if is_open else req + timedelta(seconds=rnd.random() * 12 * 86400)
                if att is not None and att > now:
                    att = now
                u = unit_rows[rnd.randrange(len(unit_rows))]
                ci = rnd.randrange(len(client_ids))
                known = rnd.random() < 0.7
                assignee = user_ids[rnd.randrange(40)] if (not is_open or rnd.random() < 0.6) else None
                status = rnd.choice(open_st if is_open else closed_st)
                tp = type_list[rnd.randrange(10)]
                words = rnd.sample(WORDS, 3)
                subject = f"{words[0].capitalize()} con problema en {words[1]}"
                detail = f"Buenos días, reporto {words[0]} y {words[1]} del {words[2]}. Quedo atento."
                rname = clients[ci] if known else f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
                remail = f"cliente{ci + 1}@correo.pe" if known else f"persona{k}@gmail.com"
                tb.write("\t".join((
                    f"AT-{k:06d}", "reclamo" if tp == types["Reclamo"] else "atencion", _ts(req),
                    _ts(att) if att else r"\N", str(tp), str(cats[k % len(cats)]) if k % 3 else r"\N",
                    str(status), str(prio_list[rnd.randrange(10)]), str(u[2]), str(u[1]), str(u[0]), str(u[3]),
                    str(client_ids[ci]) if known else r"\N", _esc(rname), remail,
                    str(client_ids[ci]) if known else r"\N", str(assignee) if assignee else r"\N",
                    str(areas[k % 2]), str(contract_ids[u[0] - unit_rows[0][0]]) if known else r"\N",
                    _esc(subject), _esc(detail), "email", _ts(req), _ts(att or req),
                    _esc(ticket_search_text(f"AT-{k:06d}", subject, detail, rname, remail)),
                    _esc(client_folds.get(k, "")))) + "\n")
            with c.copy(f"COPY tickets ({tcols}) FROM STDIN") as cp:
                cp.write(tb.getvalue())
            if first_id is None:
                first_id = c.execute("SELECT min(id) FROM tickets").fetchone()[0]
            for k in range(lo, hi + 1):
                tid = first_id + k - 1
                at = _ts(now - timedelta(days=k % 1000))
                for kind, author, email, public, text, fold in logbooks[k]:
                    lb.write(f"{tid}\t{kind}\t{at if kind == 'email_in' else _ts(now)}\t{author}\t\\N\t{email}\t\\N\t"
                             f"{public}\t{_esc(text)}\t{_esc(fold)}\n")
            with c.copy(f"COPY logbook_entries ({lcols}) FROM STDIN") as cp:
                cp.write(lb.getvalue())
            conn.commit()
            log(f"{hi:,} tickets ({time.perf_counter() - start:.0f} s)")
        c.execute("INSERT INTO counters (name, value) VALUES ('AT', %s) ON CONFLICT (name) DO UPDATE SET value = %s",
                  (n, n))
        conn.commit()
    with psycopg.connect(pg_url(url), autocommit=True) as conn:
        log("VACUUM ANALYZE")
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - start


def combos(conn) -> list[tuple[str, dict[str, str]]]:
    """The 10 filter combinations, named after values that exist in the generated data."""
    assignee = conn.execute("SELECT name FROM users WHERE email = 'agente7@empresa.pe'").fetchone()[0]
    requester = conn.execute("SELECT name FROM clients ORDER BY id OFFSET 123 LIMIT 1").fetchone()[0]
    return [
        ("status", {"status": "Registrado"}),
        ("project", {"project": "Proyecto 7"}),
        ("date range", {"requested_from": "2026-03-01", "requested_to": "2026-03-31"}),
        ("assignee", {"assignee": assignee.split()[-1]}),
        ("client comments", {"comment": "goteando"}),
        ("free text", {"q": "humedad"}),
        ("alert=overdue", {"alert": "overdue"}),
        ("days_min=30", {"days_min": "30"}),
        ("code", {"code": "AT-654321"}),
        ("requester", {"requester": requester}),
    ]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def measure(url: str, runs: int, budget: float, min_runs: int = 3, exact_count: bool = False) -> list[dict]:
    """Time each combination; the query counts as the list's first page does (at most
    ``web_admin.listing.COUNT_CAP``), or exactly with ``exact_count`` (the list before the cap)."""
    from tickets.db import make_engine, make_reader, make_sessionmaker
    from tickets.list_page import list_page
    from tickets.queries import Filters, count_tickets, iter_ticket_rows
    from tickets.settings import Settings
    from tickets.users import add_or_update_user
    from web_admin import create_app, listing
    from web_admin.state import panel
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from panel_harness import csrf_token

    cap = None if exact_count else listing.COUNT_CAP
    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as s:
        add_or_update_user(s, email=ADMIN, name="Admin Bench", role="admin", password=PASSWORD)
    reader = make_reader(engine)
    with psycopg.connect(pg_url(url)) as conn:
        cases = combos(conn)
    tmp = tempfile.mkdtemp(prefix="bench-list-")
    settings = Settings(_env_file=None, database_url=url, data_dir=Path(tmp), timezone=TZ,
                        secret_key="bench-secret-key-" + "x" * 16)
    app = create_app(settings, ATENCION_TODAY=TODAY)
    client = app.test_client()
    page = client.get("/login")
    r = client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": csrf_token(page.text)})
    assert r.status_code == 302, r.status_code

    def query_plain(filters):
        """The baseline: the list's count and page as two statements (before tickets.list_page)."""
        with reader() as s:
            total = count_tickets(s, filters, tz=TZ, today=TODAY, cap=cap)
            rows = list(iter_ticket_rows(s, filters, tz=TZ, today=TODAY, limit=listing.PAGE_SIZE))
        return min(total, cap or total), [r.code for r in rows]

    def query_once(filters):
        """The list's query as the panel runs it (tickets.list_page: one scan when it applies)."""
        with reader() as s:
            shown = list_page(s, filters, page=1, page_size=listing.PAGE_SIZE, cap=cap or 10**12,
                              tz=TZ, today=TODAY)
        return shown.total, [r.code for r in shown.rows], shown.one_scan

    out = []
    for name, params in cases:
        filters = Filters.from_mapping(params)
        total_new, codes_new, one_scan = query_once(filters)  # warm-up, and the two ways agree
        assert (total_new, codes_new) == query_plain(filters), name
        with reader() as s:
            total = count_tickets(s, filters, tz=TZ, today=TODAY)  # the exact number, for the table
            shown = len(list(iter_ticket_rows(s, filters, tz=TZ, today=TODAY, limit=50)))
        resp = client.get("/?" + urlencode(params))
        assert resp.status_code == 200, (name, resp.status_code)
        q, p, b = [], [], []
        t_case = time.perf_counter()
        for i in range(runs):
            tb = time.perf_counter()
            query_plain(filters)
            t0 = time.perf_counter()
            query_once(filters)
            t1 = time.perf_counter()
            resp = client.get("/?" + urlencode(params))
            t2 = time.perf_counter()
            assert resp.status_code == 200
            b.append((t0 - tb) * 1000)
            q.append((t1 - t0) * 1000)
            p.append((t2 - t1) * 1000)
            if i + 1 >= min_runs and time.perf_counter() - t_case > budget:
                break
        row = {"combo": name, "params": params, "matches": total, "shown": shown, "runs": len(q),
               "one_scan": one_scan,
               "plain_median_ms": statistics.median(b), "plain_p95_ms": pct(b, 95),
               "query_median_ms": statistics.median(q), "query_p95_ms": pct(q, 95),
               "page_median_ms": statistics.median(p), "page_p95_ms": pct(p, 95)}
        log(f"{name}: {row['matches']:,} rows, plain {row['plain_median_ms']:.0f}/{row['plain_p95_ms']:.0f} ms, "
            f"query {row['query_median_ms']:.0f}/{row['query_p95_ms']:.0f} ms, "
            f"page {row['page_median_ms']:.0f}/{row['page_p95_ms']:.0f} ms ({len(q)} runs)")
        out.append(row)
    panel(app).close()
    engine.dispose()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=os.environ.get("ATENCION_BENCH_URL", DEFAULT_URL))
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per combination at most (≥ 3 runs)")
    ap.add_argument("--min-runs", type=int, default=3, help="runs of a combination even past its budget")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--generate-only", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--exact-count", action="store_true",
                    help="time the query with an exact count (the list before COUNT_CAP), not the list's capped one")
    args = ap.parse_args(argv)

    t_all = time.perf_counter()
    ensure_database(args.url, args.rebuild)
    migrate(args.url)
    with psycopg.connect(pg_url(args.url)) as conn:
        have = ticket_count(conn)
    gen_s = None
    if have == 0:
        log(f"generating {args.tickets:,} tickets")
        gen_s = generate(args.url, args.tickets)
        log(f"generated in {gen_s:.0f} s")
    elif have != args.tickets:
        print(f"atencion_bench holds {have:,} tickets, not {args.tickets:,}: run with --rebuild", file=sys.stderr)
        return 2
    else:
        log(f"reusing atencion_bench ({have:,} tickets)")
    if args.generate_only:
        return 0
    results = measure(args.url, args.runs, args.budget, args.min_runs, exact_count=args.exact_count)
    total_s = time.perf_counter() - t_all
    with psycopg.connect(pg_url(args.url)) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        entries = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'logbook_entries'").fetchone()[0]
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
               f"Python {platform.python_version()}, PostgreSQL {version}")
    if args.json:
        print(json.dumps({"machine": machine, "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                          "count": "exact" if args.exact_count else "capped",
                          "tickets": args.tickets, "logbook_entries": entries, "generation_s": gen_s,
                          "run_s": total_s, "results": results}, indent=2))
        return 0
    print(f"machine: {machine}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {args.tickets:,} tickets, ≈{entries:,} logbook "
          f"entries; generation: {'reused' if gen_s is None else f'{gen_s:.0f} s'}; run {total_s:.0f} s; "
          f"count: {'exact' if args.exact_count else 'capped as the list (COUNT_CAP)'}")
    print("| combination | filters | matches | runs | plain query median / p95 ms | query median / p95 ms "
          "| one scan | page median / p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        ok_q = "" if r["query_p95_ms"] < 100 else " ✗"
        ok_p = "" if r["page_p95_ms"] < 250 else " ✗"
        print(f"| {r['combo']} | `{urlencode(r['params'])}` | {r['matches']:,} | {r['runs']} | "
              f"{r['plain_median_ms']:.0f} / {r['plain_p95_ms']:.0f} | "
              f"{r['query_median_ms']:.0f} / {r['query_p95_ms']:.0f}{ok_q} | {'yes' if r['one_scan'] else 'no'} | "
              f"{r['page_median_ms']:.0f} / {r['page_p95_ms']:.0f}{ok_p} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
