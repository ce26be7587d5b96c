"""Inbound throughput: messages per second end to end, next to the raw parse rate of the same corpus.

    .venv/bin/python bench/inbound.py [--count 2000] [--seed N] [--json] [--keep DIR]

One run generates the corpus once (bench/corpus.py) and measures, over the same messages:

(a) raw parse    ``email.message_from_bytes(raw, policy=email.policy.default)``, then every leaf part
                 decoded: ``get_content()`` on text parts, ``get_payload(decode=True)`` on the others
                 (errors caught, so a hostile message cannot stop the baseline);
(b) our parse    ``mail.inbound.parse.parse_message`` alone (no database);
(c) end to end   ``mail.inbound.ingest.ingest`` per message, exactly as ``atencion import`` calls it
                 (raw bytes to the content store, parse, classify, ticket services, outbox rows,
                 one SQLite transaction per message), on a fresh SQLite file with the generated
                 catalog loaded. Only the ingest loop is timed.

The figure that matters is (c)/(a): target 0.5, stretch 0.7 (DESIGN.md, "Scale"; bench/README.md).
The outcome counts are checked against what the corpus should produce, so the figure cannot come
from a pipeline that holds or drops everything; the run fails (exit 2) when they are implausible.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import corpus as corpus_mod  # noqa: E402  (bench/corpus.py)

TARGET = 0.5
STRETCH = 0.7


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "platform": platform.platform(terse=True)}


# --- (a) raw parse -------------------------------------------------------------------------------


def raw_parse(raw: bytes) -> int:
    """The stdlib baseline for one message; returns decoded characters + bytes (so nothing is skipped)."""
    n = 0
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:  # noqa: BLE001
        return 0
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            if part.get_content_maintype() == "text":
                n += len(part.get_content())
            else:
                n += len(part.get_payload(decode=True) or b"")
        except Exception:  # noqa: BLE001 - a broken part must not stop the baseline
            continue
    return n


# --- (c) end to end ------------------------------------------------------------------------------


def end_to_end(messages: list[bytes], catalog: dict, workdir: Path, *, profile: str | None = None):
    """Ingest every message into a fresh SQLite database; returns (seconds, outcome counts, facts).

    ``facts``: row counts of the database afterwards, its size, and ``cpu_s`` (process CPU time of
    the loop: next to the wall time it shows whether the machine was busy or the loop waited on I/O).
    """
    from sqlalchemy import func, select

    from mail.inbound.ingest import Envelope, ingest
    from mail.inbound.sources import header_date
    from mail.mailboxes import import_rules
    from tickets.catalog import load_catalog_data
    from tickets.db import make_engine, make_sessionmaker, migrate
    from tickets.models import Attachment, InboundMessage, OutboxMessage, Ticket
    from tickets.services import Context
    from tickets.settings import Settings

    url = f"sqlite:///{workdir / 'atencion.db'}"
    settings = Settings(_env_file=None, database_url=url, data_dir=workdir / "var",
                        mail_from=corpus_mod.SUPPORT, config=None, imap_url=None)
    engine = make_engine(url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        load_catalog_data(s, catalog)
    ctx = Context.from_settings(settings)
    rules = import_rules(settings)
    # what the importer computes per file before ingest (FileSource): not part of the pipeline's cost
    envs = [Envelope(mailbox="import", source_ref=f"bench/{i:05d}.eml", received_at=header_date(raw))
            for i, raw in enumerate(messages)]

    counts: Counter = Counter()
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t0, c0 = time.perf_counter(), time.process_time()
    for raw, env in zip(messages, envs, strict=True):
        counts[ingest(sessions, ctx, rules, raw, env).outcome.value] += 1
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)
    with sessions() as s:
        facts = {
            "tickets": s.scalar(select(func.count(Ticket.id))),
            "inbound": s.scalar(select(func.count(InboundMessage.id))),
            "outbox": s.scalar(select(func.count(OutboxMessage.id))),
            "attachments": s.scalar(select(func.count(Attachment.id))),
            "last_code": s.scalar(select(func.max(Ticket.code))),
        }
    facts["db_bytes"] = sum(p.stat().st_size for p in workdir.glob("atencion.db*"))
    facts["cpu_s"] = cpu
    engine.dispose()
    return seconds, counts, facts


def plausible(counts: Counter, expected: dict, n: int) -> list[str]:
    """Problems with the outcome counts (empty when they look like the corpus)."""
    problems = []
    if counts.get("held", 0) > 0.05 * n:
        problems.append(f"{counts['held']} held (more than 5%)")
    for outcome in ("ticket", "comment", "ignored", "duplicate"):
        want, got = expected.get(outcome, 0), counts.get(outcome, 0)
        if want and abs(got - want) > max(3, 0.10 * want):
            problems.append(f"{outcome}: {got}, corpus expects about {want}")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=2000, help="messages in the corpus (default 2000)")
    ap.add_argument("--seed", type=int, default=20261130, help="corpus random seed")
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--keep", type=Path, help="work in this directory and keep the database there")
    ap.add_argument("--profile", metavar="FILE", help="cProfile the end-to-end loop into FILE (slower)")
    args = ap.parse_args(argv)

    import logging

    logging.basicConfig(level=logging.WARNING)  # the pipeline logs each message at INFO: not shown

    t0 = time.perf_counter()
    c = corpus_mod.generate(args.count, seed=args.seed)
    gen_s = time.perf_counter() - t0
    msgs = c.messages

    # (a) stdlib baseline
    t0, c0 = time.perf_counter(), time.process_time()
    for raw in msgs:
        raw_parse(raw)
    raw_s, raw_cpu = time.perf_counter() - t0, time.process_time() - c0

    # (b) our parser alone
    from mail.inbound.parse import UnparseableMessage, parse_message

    t0, c0 = time.perf_counter(), time.process_time()
    for raw in msgs:
        try:
            parse_message(raw, max_attachments=None)
        except UnparseableMessage:
            pass
    parse_s, parse_cpu = time.perf_counter() - t0, time.process_time() - c0

    # (c) end to end
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        e2e_s, counts, facts = end_to_end(msgs, c.catalog, args.keep, profile=args.profile)
    else:
        with tempfile.TemporaryDirectory(prefix="atencion-bench-") as tmp:
            e2e_s, counts, facts = end_to_end(msgs, c.catalog, Path(tmp), profile=args.profile)

    n = len(msgs)
    rate = {k: n / s for k, s in (("raw", raw_s), ("parse", parse_s), ("e2e", e2e_s))}
    ratio = rate["e2e"] / rate["raw"]
    problems = plausible(counts, c.expected, n)
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "corpus": {"messages": n, "mbytes": round(c.total_bytes / 1e6, 1), "seed": args.seed,
                   "kinds": dict(Counter(c.kinds)), "generate_s": round(gen_s, 2)},
        "raw_parse": {"seconds": round(raw_s, 3), "cpu_seconds": round(raw_cpu, 3),
                      "msg_per_s": round(rate["raw"], 1)},
        "our_parse": {"seconds": round(parse_s, 3), "cpu_seconds": round(parse_cpu, 3),
                      "msg_per_s": round(rate["parse"], 1)},
        "end_to_end": {"seconds": round(e2e_s, 3), "cpu_seconds": round(facts.pop("cpu_s"), 3),
                       "msg_per_s": round(rate["e2e"], 1)},
        "ratio_e2e_to_raw": round(ratio, 3),
        "ratio_parse_to_raw": round(rate["parse"] / rate["raw"], 3),
        "target": TARGET, "stretch": STRETCH,
        "outcomes": dict(sorted(counts.items())), "expected_outcomes": dict(sorted(c.expected.items())),
        "database": facts, "problems": problems,
    }
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        m = result["machine"]
        print(f"Atención inbound benchmark — {result['date']}")
        print(f"machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}; SQLite {m['sqlite']}")
        print(f"corpus:  {n} messages, {result['corpus']['mbytes']} MB, seed {args.seed} "
              f"(generated in {gen_s:.1f} s)")
        print()
        print(f"  {'':<34}{'messages':>9}{'seconds':>10}{'cpu s':>8}{'msg/s':>10}")
        for label, key, row in (("(a) raw parse (stdlib, decoded)", "raw", "raw_parse"),
                                ("(b) our parse (parse_message)", "parse", "our_parse"),
                                ("(c) end to end (ingest, SQLite)", "e2e", "end_to_end")):
            r = result[row]
            print(f"  {label:<34}{n:>9}{r['seconds']:>10.2f}{r['cpu_seconds']:>8.2f}{rate[key]:>10.1f}")
        verdict = "stretch met" if ratio >= STRETCH else "target met" if ratio >= TARGET else "BELOW TARGET"
        print()
        print(f"  (c)/(a) = {ratio:.2f}   target {TARGET}, stretch {STRETCH}: {verdict}")
        print(f"  (b)/(a) = {rate['parse'] / rate['raw']:.2f}   (parser alone)")
        print()
        print("  outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
              + "   (corpus expects " + ", ".join(f"{k} {v}" for k, v in sorted(c.expected.items())) + ")")
        print(f"  database: {facts['tickets']} tickets (last {facts['last_code']}), {facts['inbound']} inbound, "
              f"{facts['outbox']} outbox, {facts['attachments']} attachments, {facts['db_bytes'] / 1e6:.1f} MB")
        for p in problems:
            print(f"  IMPLAUSIBLE: {p}")
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
