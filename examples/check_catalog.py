#!/usr/bin/env python3
"""Consistency check for examples/catalog.yaml (no database needed).

Usage:  python examples/check_catalog.py [path/to/catalog.yaml]

Checks that the file loads with ``yaml.safe_load``, that every natural key is unique
(promoter name, area name, user email, project name, subdivision name within a project,
unit number within a subdivision, client document, contract number, type/category/status/
priority name), that every reference resolves (area leads, user areas, project promoters,
contract project/subdivision/unit/holders/extra units, priority names in ``priority_days``),
and that enumerated fields use allowed values. Prints a one-line summary and exits non-zero
with the list of problems when something is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

ROLES = {"admin", "agent", "legal"}
UNIT_TYPES = {"departamento", "estacionamiento", "depósito", "casa", "local"}
DOC_TYPES = {"DNI", "CE", "RUC", "PASAPORTE"}
DAY_RULES = {"calendar", "business"}
EMAIL_RE = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")
STAFF_DOMAIN = "@inmobiliaria-andina.pe"
DOC_FORMATS = {"DNI": r"\d{8}", "RUC": r"(10|20)\d{9}", "CE": r"\d{9}", "PASAPORTE": r"[A-Z0-9]{6,12}"}


def check(data: dict, base: Path | None = None) -> list[str]:
    """The problems found (``base``: the catalog's folder, where handover records are; None: not checked)."""
    problems: list[str] = []

    def dupes(label: str, keys: list) -> None:
        for key, n in Counter(keys).items():
            if n > 1:
                problems.append(f"{label} duplicated: {key!r} ({n} times)")

    for section in ("promoters", "areas", "users", "projects", "clients", "contracts",
                    "ticket_types", "categories", "statuses", "priorities", "closed_days"):
        if not isinstance(data.get(section), list):
            problems.append(f"section {section!r} missing or not a list")
    if problems:
        return problems

    promoters = {p["name"] for p in data["promoters"]}
    dupes("promoter", [p["name"] for p in data["promoters"]])
    for p in data["promoters"]:
        if not re.fullmatch(r"20\d{9}", str(p.get("ruc", ""))):
            problems.append(f"promoter {p['name']!r}: bad RUC {p.get('ruc')!r}")

    users = {u["email"]: u for u in data["users"]}
    dupes("user email", [u["email"] for u in data["users"]])
    areas = {a["name"]: a for a in data["areas"]}
    dupes("area", [a["name"] for a in data["areas"]])
    for a in data["areas"]:
        if a.get("lead") is not None and a["lead"] not in users:
            problems.append(f"area {a['name']!r}: lead {a['lead']!r} is not a user")
    for u in data["users"]:
        if u.get("role") not in ROLES:
            problems.append(f"user {u['email']!r}: bad role {u.get('role')!r}")
        if u.get("area") is not None and u["area"] not in areas:
            problems.append(f"user {u['email']!r}: unknown area {u['area']!r}")
        if not EMAIL_RE.match(u["email"]) or not u["email"].endswith(STAFF_DOMAIN):
            problems.append(f"user {u['email']!r}: not a staff address")
        if "password" in u:
            problems.append(f"user {u['email']!r}: passwords do not belong in the catalog")

    # project -> subdivision -> {unit number: type}
    units: dict[str, dict[str, dict[str, str]]] = {}
    dupes("project", [p["name"] for p in data["projects"]])
    for p in data["projects"]:
        if p.get("promoter") not in promoters:
            problems.append(f"project {p['name']!r}: unknown promoter {p.get('promoter')!r}")
        subs = units.setdefault(p["name"], {})
        dupes(f"subdivision in {p['name']}", [s["name"] for s in p.get("subdivisions", [])])
        for s in p.get("subdivisions", []):
            numbers = [str(u["number"]) for u in s.get("units", [])]
            dupes(f"unit in {p['name']} / {s['name']}", numbers)
            for u in s.get("units", []):
                if not isinstance(u["number"], str):
                    problems.append(f"unit {p['name']}/{s['name']}/{u['number']!r}: number must be a string")
                if u.get("type") not in UNIT_TYPES:
                    problems.append(f"unit {p['name']}/{s['name']}/{u['number']}: bad type {u.get('type')!r}")
            subs[s["name"]] = {str(u["number"]): u.get("type") for u in s.get("units", [])}

    clients: dict[str, dict] = {}
    client_emails: list[str] = []
    for c in data["clients"]:
        if c.get("document_type") not in DOC_TYPES:
            problems.append(f"client {c.get('name')!r}: bad document_type {c.get('document_type')!r}")
        elif not re.fullmatch(DOC_FORMATS[c["document_type"]], str(c.get("document_number", ""))):
            problems.append(f"client {c.get('name')!r}: bad {c['document_type']} {c.get('document_number')!r}")
        if not isinstance(c.get("document_number"), str):
            problems.append(f"client {c.get('name')!r}: document_number must be a string")
        key = f"{c['document_type']} {c['document_number']}"
        if key in clients:
            problems.append(f"client document duplicated: {key}")
        clients[key] = c
        emails = c.get("emails") or []
        if not emails:
            problems.append(f"client {key}: no email")
        for e in emails:
            if not EMAIL_RE.match(e):
                problems.append(f"client {key}: bad email {e!r}")
            if e.endswith(STAFF_DOMAIN):
                problems.append(f"client {key}: staff-domain email {e!r}")
        client_emails += emails
        if not re.fullmatch(r"\+51 (9\d\d \d{3} \d{3}|1 \d{3} \d{4})", str(c.get("phone", ""))):
            problems.append(f"client {key}: bad Peruvian phone {c.get('phone')!r}")
    dupes("client email", client_emails)
    overlap = set(client_emails) & set(users)
    if overlap:
        problems.append(f"addresses both client and staff: {sorted(overlap)}")

    dupes("contract", [c["number"] for c in data["contracts"]])
    sold: Counter = Counter()
    for c in data["contracts"]:
        label = f"contract {c['number']}"
        subs = units.get(c.get("project"))
        if subs is None:
            problems.append(f"{label}: unknown project {c.get('project')!r}")
            continue
        all_units = [(c.get("subdivision"), c.get("unit"))] + [
            (x.get("subdivision"), x.get("unit")) for x in c.get("extra_units") or []]
        for sub, num in all_units:
            if sub not in subs:
                problems.append(f"{label}: unknown subdivision {sub!r}")
            elif num not in subs[sub]:
                problems.append(f"{label}: unknown unit {sub}/{num!r}")
            else:
                sold[(c["project"], sub, num)] += 1
        for x in c.get("extra_units") or []:
            t = subs.get(x.get("subdivision"), {}).get(x.get("unit"))
            if t not in (None, "estacionamiento", "depósito"):
                problems.append(f"{label}: extra unit {x} is a {t}, expected parking or storage")
        holders = c.get("holders") or []
        if not holders:
            problems.append(f"{label}: no holders")
        for h in holders:
            if h not in clients:
                problems.append(f"{label}: unknown holder {h!r}")
        if not isinstance(c.get("date"), dt.date):
            problems.append(f"{label}: date {c.get('date')!r} is not a YAML date")
    for key, n in sold.items():
        if n > 1:
            problems.append(f"unit sold in {n} contracts: {key}")

    contracts = {c["number"]: c for c in data["contracts"]}
    handovers = data.get("handovers") or []  # optional section
    dupes("handover", [(h.get("project"), h.get("subdivision"), h.get("unit"), h.get("contract")) for h in handovers])
    for h in handovers:
        label = f"handover {h.get('subdivision')}/{h.get('unit')}"
        if h.get("unit") not in units.get(h.get("project"), {}).get(h.get("subdivision"), {}):
            problems.append(f"{label}: unknown unit {h.get('project')}/{h.get('subdivision')}/{h.get('unit')!r}")
        c = contracts.get(h.get("contract")) if h.get("contract") else None
        if h.get("contract") and c is None:
            problems.append(f"{label}: unknown contract {h['contract']!r}")
        elif c is not None and (c.get("project"), c.get("subdivision"), c.get("unit")) != (
                h.get("project"), h.get("subdivision"), h.get("unit")):
            problems.append(f"{label}: contract {h['contract']} sold another unit")
        if not isinstance(h.get("date"), dt.date):
            problems.append(f"{label}: date {h.get('date')!r} is not a YAML date")
        if h.get("record") and base is not None and not (base / str(h["record"])).is_file():
            problems.append(f"{label}: record file {h['record']!r} not found beside the catalog")

    priorities = {p["name"] for p in data["priorities"]}
    dupes("priority", [p["name"] for p in data["priorities"]])
    dupes("priority order", [p["order"] for p in data["priorities"]])
    dupes("ticket type", [t["name"] for t in data["ticket_types"]])
    for t in data["ticket_types"]:
        if t.get("day_rule") not in DAY_RULES:
            problems.append(f"type {t['name']!r}: bad day_rule {t.get('day_rule')!r}")
        if not isinstance(t.get("max_response_days"), int) or t["max_response_days"] <= 0:
            problems.append(f"type {t['name']!r}: bad max_response_days")
        for prio, days in (t.get("priority_days") or {}).items():
            if prio not in priorities:
                problems.append(f"type {t['name']!r}: unknown priority {prio!r}")
            if not isinstance(days, int) or days <= 0:
                problems.append(f"type {t['name']!r}: bad days for {prio!r}")
    dupes("category", [c["name"] for c in data["categories"]])
    dupes("status", [s["name"] for s in data["statuses"]])
    dupes("status order", [s["order"] for s in data["statuses"]])
    for s in data["statuses"]:
        for flag in ("attended", "closed", "notify_requester"):
            if not isinstance(s.get(flag), bool):
                problems.append(f"status {s['name']!r}: {flag} must be true/false")
    for d in data["closed_days"]:
        if not isinstance(d, dt.date):
            problems.append(f"closed day {d!r} is not a YAML date")
    return problems


def summary(data: dict) -> str:
    n_units = sum(len(s.get("units", [])) for p in data["projects"] for s in p.get("subdivisions", []))
    n_subs = sum(len(p.get("subdivisions", [])) for p in data["projects"])
    return (f"{len(data['promoters'])} promoters, {len(data['areas'])} areas, {len(data['users'])} users, "
            f"{len(data['projects'])} projects, {n_subs} subdivisions, {n_units} units, "
            f"{len(data['clients'])} clients, {len(data['contracts'])} contracts, "
            f"{len(data.get('handovers') or [])} handovers, "
            f"{len(data['ticket_types'])} ticket types, {len(data['categories'])} categories, "
            f"{len(data['statuses'])} statuses, {len(data['priorities'])} priorities, "
            f"{len(data['closed_days'])} closed days")


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("catalog.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = check(data, path.parent)
    if problems:
        for p in problems:
            print(f"ERROR: {p}", file=sys.stderr)
        return 1
    print(f"{path}: OK — {summary(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
