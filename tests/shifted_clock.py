"""``python -m tests.shifted_clock DAYS ARGS…``: the `atencion` command (worker.cli.main) with
the daily digest's clock moved forward by DAYS whole days.

Used by tests/test_digest.py only on a weekend or a holiday of Peru, when the real date would
(rightly) send no digest: the time of day stays real, so ATENCION_DIGEST_TIME "just passed" keeps
its meaning, and everything else (database, SMTP, scheduler, outbox) runs untouched.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import tickets.digest
from tickets.models import utcnow


def main() -> None:
    days = int(sys.argv[1])
    tickets.digest.utcnow = lambda: utcnow() + timedelta(days=days)
    sys.argv = ["atencion", *sys.argv[2:]]
    from worker.cli import main as atencion

    atencion()


if __name__ == "__main__":
    main()
