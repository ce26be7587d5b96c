"""Generar nuevo evento end to end in Debian's Chromium (Playwright; tests.test_panel_browser's
fixtures, SQLite and PostgreSQL): on the ticket view, submit the form empty of a title (Spanish
errors per field, screenshot events-errors.png), schedule a visit, see it listed, and receive the
invitation at a real aiosmtpd server — read as a mail client reads it: text, HTML and
``text/calendar; method=REQUEST`` alternatives and the invite.ics attachment, the .ics parsed back
with icalendar. Then edit it (the updated invitation: same UID, SEQUENCE 1; screenshot
event-edit.png) and cancel it (METHOD:CANCEL, SEQUENCE 2). Screenshot events.png always (look at
it); tests/artifacts/<test>-failure.png on failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from tests.test_panel_browser import (  # noqa: F401 - browser, live_panel, page and panel_app are fixtures
    ARTIFACTS,
    browser,
    live_panel,
    log_in,
    page,
    panel_app,
    received,
)

LIMA = ZoneInfo("America/Lima")


def calendar_of(mail, content_type: str = "text/calendar") -> Calendar:
    (part,) = [p for p in mail.walk() if p.get_content_type() == content_type]
    return Calendar.from_ical(part.get_content())


def test_schedule_a_visit_and_receive_the_invitation_with_its_ics(page, smtp):  # noqa: F811
    pg = page
    log_in(pg)
    pg.goto(pg.base + "/atenciones/AT-000003")
    pg.click("#eventos summary")
    assert pg.input_value("#event-attendees") == "rosa@gmail.com"
    day = (datetime.now(LIMA) + timedelta(days=3)).date()

    pg.fill("#event-date", day.isoformat())
    pg.fill("#event-start", "09:30")
    pg.fill("#event-end", "09:00")
    pg.click("#schedule-event")  # no title, the end before the start: refused, per field
    pg.wait_for_selector("#err-event-title")
    assert pg.locator("#err-event-title").inner_text() == "Complete «Título»."
    assert pg.locator("#err-event-end").inner_text() == "La hora de término debe ser posterior a la de inicio."
    ARTIFACTS.mkdir(exist_ok=True)
    pg.locator("#eventos").screenshot(path=str(ARTIFACTS / "events-errors.png"))

    pg.fill("#event-title", "Revisión de la humedad del baño")
    pg.fill("#event-end", "10:45")
    pg.fill("#event-location", "Residencial Los Olivos, Torre B, Dpto. 504")
    pg.fill("#event-attendees", "rosa@gmail.com\nmaria@empresa.pe")
    pg.click("#schedule-event")
    pg.wait_for_url("**/atenciones/AT-000003#eventos")
    assert "invitación enviada a rosa@gmail.com, maria@empresa.pe" in pg.locator(".flash-success").inner_text()
    listed = pg.locator("#event-list").inner_text()
    assert "Visita: Revisión de la humedad del baño" in listed and "09:30 a 10:45" in listed
    assert "Rosa Díaz · rosa@gmail.com — Sin respuesta" in listed
    assert "Visita programada: «Revisión de la humedad del baño»" in pg.locator("#logbook").inner_text()
    pg.locator("#eventos").screenshot(path=str(ARTIFACTS / "events.png"))
    pg.screenshot(path=str(ARTIFACTS / "events-ticket.png"), full_page=True)

    (mail,) = received(smtp, "rosa@gmail.com", "AT-000003", 1)
    assert "Invitación: Revisión de la humedad del baño" in mail["Subject"]
    (alternative,) = [p for p in mail.walk() if p.get_content_type() == "multipart/alternative"]
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html", "text/calendar"]
    (cal_part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert cal_part.get_param("method") == "REQUEST"
    (attached,) = list(mail.iter_attachments())
    assert attached.get_filename() == "invite.ics" and attached.get_content_type() == "application/ics"
    cal = calendar_of(mail)
    assert cal.to_ical() == calendar_of(mail, "application/ics").to_ical()
    (vev,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "REQUEST" and vev["SEQUENCE"] == 0
    assert str(vev["SUMMARY"]) == "Revisión de la humedad del baño"
    assert vev.decoded("DTSTART") == datetime(day.year, day.month, day.day, 9, 30, tzinfo=LIMA)
    assert str(cal.walk("VTIMEZONE")[0]["TZID"]) == "America/Lima"
    assert [str(a) for a in vev["ATTENDEE"]] == ["mailto:rosa@gmail.com", "mailto:maria@empresa.pe"]
    assert all(a.params["RSVP"] == "TRUE" for a in vev["ATTENDEE"])
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Lugar: Residencial Los Olivos, Torre B, Dpto. 504" in text
    uid = str(vev["UID"])
    (staff_copy,) = received(smtp, "maria@empresa.pe", "AT-000003", 1)
    assert str(calendar_of(staff_copy).walk("VEVENT")[0]["UID"]) == uid

    pg.click("#event-list .event-actions a:has-text('Editar')")  # an hour later: SEQUENCE 1, same UID
    pg.wait_for_selector("#event-edit-form")
    assert pg.input_value("#event-start") == "09:30"
    assert pg.input_value("#event-title") == "Revisión de la humedad del baño"
    pg.fill("#event-start", "10:30")
    pg.fill("#event-end", "11:45")
    pg.screenshot(path=str(ARTIFACTS / "event-edit.png"), full_page=True)
    pg.click("#save-event")
    pg.wait_for_url("**/atenciones/AT-000003#eventos")
    assert "10:30 a 11:45" in pg.locator("#event-list").inner_text()
    mails = received(smtp, "rosa@gmail.com", "AT-000003", 2)
    assert "Invitación actualizada: Revisión de la humedad del baño" in mails[-1]["Subject"]
    (vev,) = calendar_of(mails[-1]).walk("VEVENT")
    assert str(vev["UID"]) == uid and vev["SEQUENCE"] == 1
    assert vev.decoded("DTSTART") == datetime(day.year, day.month, day.day, 10, 30, tzinfo=LIMA)

    pg.click("#event-list .event-actions summary")
    pg.click("#event-list .confirm-box button[type=submit]")
    pg.wait_for_url("**/atenciones/AT-000003#eventos")
    assert "Cancelado" in pg.locator("#event-list").inner_text()
    mails = received(smtp, "rosa@gmail.com", "AT-000003", 3)
    cal = calendar_of(mails[-1])
    (vev,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "CANCEL" and vev["STATUS"] == "CANCELLED" and str(vev["UID"]) == uid
    assert vev["SEQUENCE"] == 2
