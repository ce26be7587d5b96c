"""Follow-ups (Seguimiento): the services of `tickets.follow_ups` (logbook, history, validation),
the owner's reminder mail through the outbox (`queue_due_reminders` and the scheduler's
`follow_up_job` sending it to a real aiosmtpd server) and the digest's "Seguimientos para hoy /
vencidos" section — on SQLite and PostgreSQL.

Dates are Lima's (UTC−5), as in tests/test_digest.py: Thu 2026-12-10 is a business day, the
reminder time is ATENCION_DIGEST_TIME (08:00 local).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from mail.outbound.compose import compose
from tests.support import make_env
from tests.test_digest import CARLA, CATALOG, DIEGO, MARTA, RAUL, lima, seed
from tickets import follow_ups as fus
from tickets.digest import queue_due_digests
from tickets.models import FollowUp, LogbookEntry, OutboxMessage, User
from tickets.services import FieldError, ServiceError, get_ticket
from tickets.sla import local_today

DUE = date(2026, 12, 10)
TODAY = date(2026, 12, 9)  # the day the follow-ups are written


@pytest.fixture
def fenv(database_url, tmp_path):
    e = make_env(database_url, tmp_path, catalog=CATALOG)
    e.codes = seed(e, lima(2026, 11, 20, 9))
    yield e
    e.engine.dispose()


def user(s, email: str) -> User:
    return s.scalar(select(User).where(User.email == email))


def add(env, code_key: str, owner: str, due: date = DUE, note: str = "Llamar a la Sra. Quispe para coordinar la visita",
        by: str = CARLA) -> int:
    with env.sessions.begin() as s:
        fu = fus.add_follow_up(s, get_ticket(s, env.codes[code_key]), due_date=due, note=note,
                               owner=user(s, owner), by=user(s, by), today=TODAY)
        return fu.id


def entries(env, code: str) -> list[tuple[str, str, str | None, str | None, str | None]]:
    with env.sessions() as s:
        rows = s.scalars(select(LogbookEntry).where(LogbookEntry.ticket_id == get_ticket(s, code).id)
                         .where(LogbookEntry.kind.in_(("follow_up", "change")))
                         .order_by(LogbookEntry.id))
        return [(e.kind, e.text, e.field, e.old, e.new) for e in rows
                if e.kind == "follow_up" or (e.field or "").startswith("follow_up")]


def reminders(env) -> list[OutboxMessage]:
    with env.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.event == fus.REMINDER_EVENT)
                              .order_by(OutboxMessage.id)))


def remind(env, now: datetime) -> int:
    with env.sessions.begin() as s:
        return fus.queue_due_reminders(s, env.settings, now=now)


# --------------------------------------------------------------------------- services


def test_add_writes_one_follow_up_entry_and_no_mail(fenv) -> None:
    code = fenv.codes["diego"]
    fid = add(fenv, "diego", DIEGO)
    assert entries(fenv, code) == [("follow_up", "Seguimiento para el 10/12/2026 a cargo de Diego Salas: "
                                    "Llamar a la Sra. Quispe para coordinar la visita", None, None, None)]
    with fenv.sessions() as s:
        fu = s.get(FollowUp, fid)
        assert (fu.due_date, fu.done, fu.owner.email, fu.created_by.email, fu.reminded_at) == (DUE, False, DIEGO,
                                                                                              CARLA, None)
        (entry,) = s.scalars(select(LogbookEntry).where(LogbookEntry.kind == "follow_up"))
        assert entry.author_user.email == CARLA
        assert [f.id for f in fus.list_for_ticket(s, get_ticket(s, code))] == [fid]
    assert reminders(fenv) == []
    with fenv.sessions() as s:  # nothing queued at all (the seed wrote no mail either)
        assert s.scalars(select(OutboxMessage)).all() == []


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"due": date(2026, 12, 8)}, "due_date", "La fecha de vencimiento no puede ser anterior a hoy (09/12/2026)."),
    ({"due": None}, "due_date", "Indique la fecha de vencimiento (dd/mm/aaaa)."),
    ({"note": "  \n "}, "note", "Escriba la nota del seguimiento."),
    ({"note": "x" * 2001}, "note", "La nota admite hasta 2000 caracteres."),
    ({"owner": RAUL}, "owner", "El responsable debe ser un usuario activo del equipo."),
], ids=["past", "no-date", "blank-note", "long-note", "inactive-owner"])
def test_add_refuses_bad_values_in_spanish_and_writes_nothing(fenv, values, field, message) -> None:
    with pytest.raises(FieldError) as info, fenv.sessions.begin() as s:
        fus.add_follow_up(s, get_ticket(s, fenv.codes["diego"]), due_date=values.get("due", DUE),
                          note=values.get("note", "Una nota"), owner=user(s, values.get("owner", DIEGO)),
                          by=user(s, CARLA), today=TODAY)
    assert (info.value.field, info.value.message) == (field, message)
    assert entries(fenv, fenv.codes["diego"]) == []
    with fenv.sessions() as s:
        assert s.scalars(select(FollowUp)).all() == []


def test_today_is_accepted_and_the_owner_may_be_missing(fenv) -> None:
    add(fenv, "diego", DIEGO, due=TODAY)  # due today: fine
    with pytest.raises(FieldError) as info, fenv.sessions.begin() as s:
        fus.add_follow_up(s, get_ticket(s, fenv.codes["diego"]), due_date=DUE, note="x", owner=None, by=None,
                          today=TODAY)
    assert info.value.field == "owner"


def test_done_and_undone_write_the_logbook_and_the_history(fenv) -> None:
    code = fenv.codes["diego"]
    fid = add(fenv, "diego", DIEGO)
    with fenv.sessions.begin() as s:
        assert fus.set_done(s, s.get(FollowUp, fid), True, by=user(s, DIEGO)) is True
    with fenv.sessions.begin() as s:  # twice: nothing more
        assert fus.set_done(s, s.get(FollowUp, fid), True, by=user(s, DIEGO)) is False
    with fenv.sessions() as s:
        fu = s.get(FollowUp, fid)
        assert fu.done and fu.done_by.email == DIEGO and fu.done_at is not None
    with fenv.sessions.begin() as s:
        assert fus.set_done(s, s.get(FollowUp, fid), False, by=user(s, CARLA)) is True
    with fenv.sessions() as s:
        fu = s.get(FollowUp, fid)
        assert not fu.done and fu.done_by is None and fu.done_at is None
    note = "Llamar a la Sra. Quispe para coordinar la visita"
    assert entries(fenv, code)[1:] == [
        ("change", f"Seguimiento #{fid}", "follow_up_done", "pendiente", "hecho"),
        ("follow_up", f"Seguimiento del 10/12/2026 hecho: {note}", None, None, None),
        ("change", f"Seguimiento #{fid}", "follow_up_done", "hecho", "pendiente"),
        ("follow_up", f"Seguimiento del 10/12/2026 pendiente otra vez: {note}", None, None, None),
    ]


def test_edit_writes_each_changed_field_to_the_history_and_rearms_the_reminder(fenv) -> None:
    code = fenv.codes["diego"]
    fid = add(fenv, "diego", DIEGO)
    assert remind(fenv, lima(2026, 12, 10, 8)) == 1
    with fenv.sessions.begin() as s:
        changed = fus.edit_follow_up(s, s.get(FollowUp, fid), due_date=date(2026, 12, 14), owner=user(s, CARLA),
                                     note="Llamar a la Sra. Quispe para coordinar la visita", by=user(s, CARLA),
                                     today=DUE)
        assert changed == ["due_date", "owner"]
    with fenv.sessions.begin() as s:  # nothing changed: nothing written
        assert fus.edit_follow_up(s, s.get(FollowUp, fid), due_date=date(2026, 12, 14), by=None, today=DUE) == []
    with pytest.raises(FieldError) as info, fenv.sessions.begin() as s:
        fus.edit_follow_up(s, s.get(FollowUp, fid), due_date=date(2026, 12, 9), by=None, today=DUE)
    assert info.value.field == "due_date"
    got = entries(fenv, code)
    assert got[1:] == [
        ("change", f"Seguimiento #{fid}", "follow_up_due_date", "10/12/2026", "14/12/2026"),
        ("change", f"Seguimiento #{fid}", "follow_up_owner", DIEGO, CARLA),
        ("follow_up", "Seguimiento modificado: para el 14/12/2026 a cargo de Carla Mendoza Ríos: "
                      "Llamar a la Sra. Quispe para coordinar la visita", None, None, None),
    ]
    with fenv.sessions() as s:
        assert s.get(FollowUp, fid).reminded_at is None  # the new owner gets it on the new day
    assert remind(fenv, lima(2026, 12, 13, 9)) == 0
    assert remind(fenv, lima(2026, 12, 14, 8)) == 1
    assert [r.recipient for r in reminders(fenv)] == [DIEGO, CARLA]
    with fenv.sessions.begin() as s:  # a done follow-up is not edited
        fus.set_done(s, s.get(FollowUp, fid), True, by=None)
    with pytest.raises(ServiceError, match="ya está hecho"), fenv.sessions.begin() as s:
        fus.edit_follow_up(s, s.get(FollowUp, fid), note="otra", by=None, today=DUE)


def test_overdue_is_decided_by_the_local_date(fenv) -> None:
    fid = add(fenv, "diego", DIEGO)
    # 2026-12-11 04:59 UTC is still Thursday 10 at 23:59 in Lima: due, not overdue
    late_thursday = local_today("America/Lima", now=datetime(2026, 12, 11, 4, 59, tzinfo=UTC))
    friday = local_today("America/Lima", now=datetime(2026, 12, 11, 5, 0, tzinfo=UTC))
    assert (late_thursday, friday) == (DUE, date(2026, 12, 11))
    with fenv.sessions() as s:
        assert [f.id for f in fus.due_by(s, late_thursday)] == [fid]
        assert fus.overdue(s, late_thursday) == []
        assert [f.id for f in fus.overdue(s, friday)] == [fid]
        assert fus.is_overdue(s.get(FollowUp, fid), friday) and not fus.is_overdue(s.get(FollowUp, fid), DUE)
        assert fus.due_by(s, TODAY) == []
    with fenv.sessions.begin() as s:
        fus.set_done(s, s.get(FollowUp, fid), True, by=None)
    with fenv.sessions() as s:
        assert fus.overdue(s, friday) == []


# --------------------------------------------------------------------------- the reminder


def test_one_reminder_on_the_due_day_from_the_local_reminder_time(fenv) -> None:
    fid = add(fenv, "diego", DIEGO)
    add(fenv, "carla", CARLA, due=date(2026, 12, 11), note="Enviar el presupuesto")
    # 2026-12-10 04:00 UTC: the UTC date is the due day, but in Lima it is still Wednesday 23:00
    assert remind(fenv, datetime(2026, 12, 10, 4, 0, tzinfo=UTC)) == 0
    assert remind(fenv, lima(2026, 12, 10, 7, 59)) == 0
    assert remind(fenv, lima(2026, 12, 10, 8, 0)) == 1
    for hh in (8, 12, 23):  # a scheduler checking all day, or restarted: never again
        assert remind(fenv, lima(2026, 12, 10, hh, 30)) == 0
    (row,) = reminders(fenv)
    assert (row.recipient, row.to_addrs, row.cc_addrs, row.state) == (DIEGO, [DIEGO], [], "pending")
    assert row.context["follow_up_id"] == fid and row.context["overdue"] is False
    with fenv.sessions() as s:
        assert row.ticket_id == get_ticket(s, fenv.codes["diego"]).id
        assert s.get(FollowUp, fid).reminded_at == lima(2026, 12, 10, 8, 0)
    assert remind(fenv, lima(2026, 12, 11, 8, 0)) == 1  # Carla's, on its day
    assert [r.recipient for r in reminders(fenv)] == [DIEGO, CARLA]


def test_a_scheduler_that_was_down_sends_late_reminders_once_and_none_for_done_ones(fenv) -> None:
    late = add(fenv, "diego", DIEGO)                       # due Thu 10, never reminded
    add(fenv, "carla", CARLA, note="Ya resuelto")          # due Thu 10, done before anybody looked
    today = add(fenv, "jorge", MARTA, due=date(2026, 12, 14), note="Revisar la minuta")
    with fenv.sessions.begin() as s:
        fus.set_done(s, s.scalar(select(FollowUp).where(FollowUp.note == "Ya resuelto")), True, by=None)
    assert remind(fenv, lima(2026, 12, 14, 9)) == 2  # back on Monday: Monday's and the late one
    got = {r.context["follow_up_id"]: r for r in reminders(fenv)}
    assert set(got) == {late, today}
    assert got[late].context["overdue"] is True and got[today].context["overdue"] is False
    assert remind(fenv, lima(2026, 12, 15, 9)) == 0


def test_an_inactive_owner_gets_no_reminder_until_the_follow_up_is_given_to_someone_active(fenv) -> None:
    fid = add(fenv, "diego", DIEGO)
    with fenv.sessions.begin() as s:
        user(s, DIEGO).active = False
    assert remind(fenv, lima(2026, 12, 10, 9)) == 0
    with fenv.sessions.begin() as s:
        fus.edit_follow_up(s, s.get(FollowUp, fid), owner=user(s, CARLA), by=None, today=DUE)
    assert remind(fenv, lima(2026, 12, 10, 9, 1)) == 1
    assert [r.recipient for r in reminders(fenv)] == [CARLA]


def test_two_schedulers_at_once_queue_one_reminder(fenv) -> None:
    add(fenv, "diego", DIEGO)
    now = lima(2026, 12, 10, 8, 1)
    first = fenv.sessions()
    first.begin()
    assert fus.queue_due_reminders(first, fenv.settings, now=now) == 1
    result: dict = {}

    def second() -> None:
        try:
            result["n"] = remind(fenv, now)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            result["error"] = exc

    t = threading.Thread(target=second)
    t.start()
    try:
        t.join(timeout=1.0)  # PostgreSQL: blocked on the first one's row; SQLite: on its write lock
    finally:
        first.commit()
        first.close()
        t.join(timeout=60)
    assert not t.is_alive() and "error" not in result, result
    assert result["n"] == 0
    assert len(reminders(fenv)) == 1


def test_the_reminder_reads_as_staff_mail(fenv) -> None:
    add(fenv, "diego", DIEGO, note="Llamar a la Sra. Quispe para coordinar la visita del técnico al baño")
    assert remind(fenv, lima(2026, 12, 11, 9)) == 1  # a day late: "vencido"
    (row,) = reminders(fenv)
    code = fenv.codes["diego"]
    with fenv.sessions() as s:
        msg = compose(s, fenv.settings, s.get(OutboxMessage, row.id))
    assert msg["To"] == DIEGO
    assert msg["Subject"] == f"[{code}] Seguimiento vencido: Llamar a la Sra. Quispe para coordinar la visita del…"
    assert msg["Reply-To"].startswith(f"postventa+{code}.")  # the owner's reply token: a reply comments
    assert msg["Auto-Submitted"] == "auto-generated"
    body = msg.get_body(("plain",)).get_content()
    assert body.startswith("Hola, Diego Salas:\n\nEste seguimiento a su cargo venció el 10/12/2026 y sigue pendiente:")
    assert "visita del técnico al baño" in body and f"Código: {code}" in body
    assert "venció el 10/12/2026" in msg.get_body(("html",)).get_content()


def test_the_scheduler_job_sends_the_reminder_to_smtp(fenv, smtp, monkeypatch) -> None:
    from tickets.models import utcnow
    from worker import scheduler
    from worker.outbound import Outbound

    add(fenv, "diego", DIEGO)
    with fenv.sessions.begin() as s:  # due today, whatever the real today is
        s.scalar(select(FollowUp)).due_date = local_today("America/Lima")
    settings = fenv.settings.model_copy(update={"smtp_url": smtp.url, "digest_time": "00:00"})
    outbound = Outbound(settings, fenv.sessions)
    try:
        scheduler.follow_up_job(outbound)
        scheduler.follow_up_job(outbound)  # a second run (a restart): nothing more
        (delivery,) = smtp.wait_for(1, timeout=30)
    finally:
        outbound.close()
    assert list(delivery.rcpt_tos) == [DIEGO]
    assert "Seguimiento para hoy: Llamar a la Sra. Quispe" in delivery.message["Subject"]
    (row,) = reminders(fenv)
    assert row.state == "sent" and row.sent_at <= utcnow()
    assert len(smtp.deliveries()) == 1


# --------------------------------------------------------------------------- the digest


def test_the_digest_lists_the_owners_due_and_overdue_follow_ups(fenv) -> None:
    add(fenv, "diego", DIEGO, due=date(2026, 12, 9), note="Confirmar la visita")       # overdue on the 10th
    add(fenv, "jorge", DIEGO, note="Enviar la carta")                                  # due on the 10th
    add(fenv, "carla", DIEGO, due=date(2026, 12, 14), note="Más adelante")            # not yet
    add(fenv, "marta_a_tiempo", MARTA, note="Revisar tableros")                       # Marta: only this
    with fenv.sessions.begin() as s:
        assert queue_due_digests(s, fenv.settings, now=lima(2026, 12, 10, 8)) == 4  # Carla, Diego, Jorge, Marta
    with fenv.sessions() as s:
        rows = {r.recipient: r for r in s.scalars(select(OutboxMessage).where(OutboxMessage.event == "digest"))}
        c = fenv.codes
        listed = [(f["code"], f["due_date"], f["note"], f["overdue"]) for f in rows[DIEGO].context["follow_ups"]]
        assert listed == [(c["diego"], "2026-12-09", "Confirmar la visita", True),
                          (c["jorge"], "2026-12-10", "Enviar la carta", False)]
        assert rows[MARTA].context["count"] == 0 and rows[MARTA].context["follow_up_count"] == 1
        assert rows[CARLA].context["follow_ups"] == []  # the area lead gets the tickets, not others' follow-ups
        marta = compose(s, fenv.settings, rows[MARTA])
        diego = compose(s, fenv.settings, rows[DIEGO])
    assert marta["Subject"] == "Resumen diario: 1 seguimiento para hoy o vencido (10/12/2026)"
    text = marta.get_body(("plain",)).get_content()
    assert text.startswith("Seguimientos para hoy / vencidos (1):") and "Revisar tableros" in text
    assert "atenciones vencidas" not in text.split("\n")[0]
    assert diego["Subject"] == "Resumen diario: 1 atención vencida y 2 seguimientos (10/12/2026)"
    body = diego.get_body(("plain",)).get_content()
    assert "Seguimientos para hoy / vencidos (2):" in body
    assert f"{c['diego']}  09/12/2026 VENCIDO" in body and f"{c['jorge']}  10/12/2026 hoy" in body
    html = diego.get_body(("html",)).get_content()
    assert "Seguimientos para hoy / vencidos (2)" in html and "09/12/2026 (vencido)" in html


def test_a_digest_with_only_done_follow_ups_is_not_sent(database_url, tmp_path) -> None:
    env = make_env(database_url, tmp_path, catalog=CATALOG)
    try:
        env.codes = seed(env, lima(2026, 12, 9, 9))  # nothing overdue on the 10th
        fid = add(env, "diego", DIEGO)
        with env.sessions.begin() as s:
            fus.set_done(s, s.get(FollowUp, fid), True, by=None)
        with env.sessions.begin() as s:
            assert queue_due_digests(s, env.settings, now=lima(2026, 12, 10, 8)) == 0
        with env.sessions.begin() as s:
            fus.set_done(s, s.get(FollowUp, fid), False, by=None)
        with env.sessions.begin() as s:  # pending again: that day's digest goes out (no record was written)
            assert queue_due_digests(s, env.settings, now=lima(2026, 12, 10, 9)) == 1
    finally:
        env.engine.dispose()
