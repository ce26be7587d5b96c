"""Periodic jobs (DESIGN, "Outbound mail and workers"): the outbox sweep, the daily overdue
digest, the event reminders (`tickets.events`) and the follow-up reminders (`tickets.follow_ups`),
on APScheduler. ``atencion scheduler`` runs them in the foreground; ``atencion run`` in a background
thread beside the poller and the in-process worker.

Several schedulers may run at once: the sweep only enqueues ids (a row is claimed once), the digest
is recorded per recipient and local date in the database (`tickets.digest`), an event's reminder is
taken with one conditional UPDATE of its ``reminded_at`` (`tickets.events`), and a follow-up's
reminder is claimed by setting its ``reminded_at`` (sent once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session

from tickets import digest, events, follow_ups
from tickets.services import Context
from worker.outbound import BrokerUnavailable

log = logging.getLogger(__name__)

#: Seconds between two checks of whether the day's digest is due.
DIGEST_CHECK_S = 60.0
#: Seconds between two looks for events whose reminder is due.
REMINDER_CHECK_S = 60.0


def sweep_job(outbound) -> None:
    """Re-enqueue due rows (in process: send them)."""
    try:
        if outbound.in_process:
            outbound.send_pending()
        else:
            n = outbound.sweep()
            if n:
                log.info("sweep: %d outbox rows enqueued", n)
    except BrokerUnavailable as exc:  # Redis down: one line, the next run tries again
        log.warning("outbox sweep: %s", exc)
    except Exception:  # a database outage: log, the next run tries again
        log.exception("outbox sweep failed")


def queue_then_send(outbound, what: str, queue: Callable[[Session], int]) -> int:
    """Run ``queue(session)`` in one transaction (it writes outbox rows and returns how many), then
    hand the rows to the workers. A failure (a database outage) is logged and the next run tries
    again. Returns how many were queued (0 on failure)."""
    try:
        with outbound.sessions.begin() as session:
            n = queue(session)
        if n:
            log.info("%s: %d queued", what, n)
            sweep_job(outbound)
        return n
    except Exception:
        log.exception("%s failed", what)
        return 0


def digest_job(outbound) -> int:
    """Write today's digests when their time has come (`tickets.digest`), then send them."""
    return queue_then_send(outbound, "digest", lambda s: digest.queue_due_digests(s, outbound.settings))


def reminder_job(outbound) -> int:
    """Queue the reminders of the events starting within ``event_reminder_hours`` (each once,
    `tickets.events`), then send them. Returns how many events were reminded."""
    settings = outbound.settings
    return queue_then_send(outbound, "event reminders", lambda s: events.queue_due_reminders(
        s, Context.from_settings(settings), hours=settings.event_reminder_hours, zone=ZoneInfo(settings.timezone)))


def follow_up_job(outbound) -> int:
    """Queue the reminders of the follow-ups due today (and overdue ones never reminded,
    `tickets.follow_ups`), then send them. Idempotent: a run after a restart finds them reminded."""
    return queue_then_send(outbound, "follow-up reminders",
                           lambda s: follow_ups.queue_due_reminders(s, outbound.settings))


def make_scheduler(outbound, *, background: bool, sweep: bool = True) -> BaseScheduler:
    """A scheduler with the sweep (every ``sweep_interval_s``), the digest check, the event
    reminders and the follow-up reminders (each every minute), all run once at start (a scheduler
    that was down catches up on the day's digest and the reminders it missed).
    ``background``: run in a thread (`run`) rather than in the caller's (`scheduler`).
    ``sweep`` False: no sweep job (`run` without a broker sends after each poll pass itself)."""
    scheduler = (BackgroundScheduler if background else BlockingScheduler)(timezone=outbound.settings.timezone)
    now = datetime.now(scheduler.timezone)
    if sweep:
        scheduler.add_job(sweep_job, "interval", args=[outbound], seconds=outbound.settings.sweep_interval_s,
                          next_run_time=now, id="sweep", max_instances=1, coalesce=True)
    scheduler.add_job(digest_job, "interval", args=[outbound], seconds=DIGEST_CHECK_S,
                      next_run_time=now, id="digest", max_instances=1, coalesce=True)
    scheduler.add_job(reminder_job, "interval", args=[outbound], seconds=REMINDER_CHECK_S,
                      next_run_time=now, id="event-reminders", max_instances=1, coalesce=True)
    scheduler.add_job(follow_up_job, "interval", args=[outbound], seconds=REMINDER_CHECK_S,
                      next_run_time=now, id="follow_ups", max_instances=1, coalesce=True)
    return scheduler
