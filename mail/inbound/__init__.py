"""Inbound mail: every message that reaches a support mailbox becomes a ticket, a comment, an
ignored auto-reply or bounce, a duplicate, or a held message — exactly one of them, recorded.

How one message flows (GNU Mailman's "8 miles high", ours)::

    sources ──► poller ──► ingest ─────────────────────────────────────────► source.done()
    (IMAP,      (lock,     │ one database transaction per message              (flag \\Seen or
     Maildir,   check-     │                                                    move, only after
     files)     point)     ├─ parse/      bytes → ParsedMessage (text, new text, the commit)
                           │              forwards, files; no database)
                           ├─ rules/      chain.prepare (our group's From rewrite undone), then
                           │              each rule of chain.CHAIN in turn: the first Decision
                           │              wins (duplicate, no sender, limits, own address, bounce,
                           │              auto-reply, staff forward, ticket match, new ticket)
                           ├─ the inbound record: outcome, reason, raw bytes
                           └─ apply       the decision through tickets.services (logbook, files,
                                          outbox rows); held.py releases a held message later

Where to look: how a reply is cut to its new text — `quotes`; what a quote header, a forward
separator or a reply prefix looks like — `markers`; how an auto-reply is recognised —
`rules.auto_reply`; who may comment on a ticket — `rules.matches_ticket`; what a staff reply's
``#estado …`` lines do and when they are trusted — `staff_reply` (`staff_commands`, `trust`); which body is the text —
`parse.body`; why a message was held — the ``reason`` of its `rules` decision.
"""
