"""The demo's sample Maildir, imported through the pipeline, ends exactly as examples/mailbox/expected.json says."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mail.inbound.poller import process_source
from mail.inbound.sources import FileSource
from mail.mailboxes import import_rules
from tests.support import REPO, make_env
from tickets.models import InboundMessage

EXPECTED = json.loads((REPO / "examples" / "mailbox" / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def demo_env(database_url, tmp_path):
    e = make_env(database_url, tmp_path, catalog=None)
    from tickets.catalog import load_catalog

    with e.sessions.begin() as s:
        load_catalog(s, REPO / "examples" / "catalog.yaml", e.settings.storage_dir)  # handovers' records
    report = process_source(e.sessions, e.ctx, import_rules(e.settings),
                            FileSource([REPO / "examples" / "mailbox"]), "demo", checkpoint=False)
    yield e, report
    e.engine.dispose()


def test_sample_mailbox_outcomes(demo_env):
    env, report = demo_env
    assert report.processed == len(EXPECTED) >= 20
    with env.sessions() as s:
        records = {r.source_ref.rpartition("#")[2].split(":")[0]: r
                   for r in s.scalars(select(InboundMessage))}
    problems = []
    for exp in EXPECTED:
        rec = records[exp["file"].removesuffix(".eml")] if exp["file"].removesuffix(".eml") in records \
            else records[exp["file"]]
        got = (rec.outcome, rec.reason if exp["outcome"] in {"ignored", "held"} else None)
        want = (exp["outcome"], exp["reason"] if exp["outcome"] in {"ignored", "held"} else None)
        if got != want:
            problems.append(f"{exp['file']}: got {got}, want {want}")
            continue
        if exp["outcome"] == "ticket":
            t = env.ticket(exp["code"])
            for key, value in (("requester_email", exp["requester"]), ("subject", exp.get("subject"))):
                if value is not None and getattr(t, key) != value:
                    problems.append(f"{exp['file']}: {key} {getattr(t, key)!r} != {value!r}")
            contract = t.contract.number if t.contract else None
            if "contract" in exp and contract != exp["contract"]:
                problems.append(f"{exp['file']}: contract {contract!r} != {exp['contract']!r}")
            if exp.get("contains") and exp["contains"] not in t.detail:
                problems.append(f"{exp['file']}: detail lacks {exp['contains']!r}")
            if exp.get("registered_by") and (t.registered_by is None or t.registered_by.email != exp["registered_by"]):
                problems.append(f"{exp['file']}: registered_by {t.registered_by}")
            names = sorted(a.filename for e in env.entries(exp["code"]) for a in e.attachments)
            for name in exp.get("attachments") or []:
                if name not in names:
                    problems.append(f"{exp['file']}: attachment {name!r} not in {names}")
        elif exp["outcome"] == "comment":
            texts = [e.text for e in env.entries(exp["code"], "comment") if e.inbound_id == rec.id]
            if len(texts) != 1:
                problems.append(f"{exp['file']}: no comment on {exp['code']}")
                continue
            if exp.get("contains") and exp["contains"] not in texts[0]:
                problems.append(f"{exp['file']}: comment lacks {exp['contains']!r}: {texts[0]!r}")
            if exp.get("not_contains") and exp["not_contains"] in texts[0]:
                problems.append(f"{exp['file']}: comment keeps quoted {exp['not_contains']!r}")
        elif exp.get("code") and exp["outcome"] in {"ignored", "held"}:
            t = env.ticket(exp["code"])
            if rec.ticket_id != t.id:
                problems.append(f"{exp['file']}: refers to {rec.ticket_id}, want {exp['code']}")
    assert not problems, "\n".join(problems)
