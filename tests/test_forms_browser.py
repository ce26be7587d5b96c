"""A form is sent once (web_admin/static/forms.js), in Debian's Chromium (Playwright;
tests.test_panel_browser's fixtures), on SQLite and PostgreSQL.

The panel here answers each POST half a second late, as a busy server does. While a comment is on
its way its button is disabled (the user sees the click was taken) and a second submission of the
form is cancelled. Chromium itself drops a second click's submission while the first navigation is
pending (checked here too); other browsers send it, and forms.js is what stops them.
"""

from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import func, select

from tests.panel_harness import add_staff, make_panel
from tests.test_panel_browser import (  # noqa: F401 - browser, live_panel and page are fixtures
    browser,
    live_panel,
    log_in,
    off_the_loop,
    page,
)
from tickets.models import LogbookEntry, Ticket
from web_admin.state import panel

COMMENT = "Se coordinó la visita del técnico para el lunes"


class SlowPosts:
    """WSGI middleware: every POST is read whole first — as waitress, the panel's server, reads a
    request before the app sees it — then waits ``delay`` seconds before the panel handles it."""

    def __init__(self, app, delay: float):
        self.app, self.delay = app, delay

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            time.sleep(self.delay)
        return self.app(environ, start_response)


@pytest.fixture
def panel_app(Session, tmp_path):
    add_staff(Session)
    app = make_panel(Session, tmp_path)
    app.wsgi_app = SlowPosts(app.wsgi_app, 0.5)
    yield app
    off_the_loop(panel(app).close)


def comments(app, code: str) -> int:
    with panel(app).sessions() as s:
        return s.scalar(select(func.count()).select_from(LogbookEntry).join(Ticket)
                        .where(Ticket.code == code, LogbookEntry.kind == "comment"))


SEND_TWICE = """() => {
  // what happens on the page, kept in sessionStorage (it outlives the page's navigation)
  const form = document.getElementById('comment-form');
  const button = form.querySelector('button[type=submit]');
  sessionStorage.setItem('log', '');
  const log = (what) => sessionStorage.setItem('log', sessionStorage.getItem('log') + what + ';');
  document.addEventListener('submit', (e) => log(e.defaultPrevented ? 'cancelled' : 'sent'));
  new MutationObserver(() => log(button.disabled ? 'disabled' : 'enabled')).observe(button, {attributes: true});
  button.click();
  setTimeout(() => form.requestSubmit(), 100);  // a second submission while the server answers
}"""


def test_a_comment_on_its_way_cannot_be_sent_again(page, panel_app):  # noqa: F811
    pg = page
    log_in(pg)
    pg.goto(pg.base + "/atenciones/AT-000003")
    before = comments(panel_app, "AT-000003")
    pg.fill("#comment-text", COMMENT)
    pg.evaluate(SEND_TWICE)
    pg.wait_for_selector(".flash-success")
    # sent once, its button disabled at once, the second submission cancelled
    assert pg.evaluate("() => sessionStorage.getItem('log')") == "sent;disabled;cancelled;"
    assert comments(panel_app, "AT-000003") == before + 1
    assert pg.locator("#logbook").inner_text().count(COMMENT) == 1
    # the page after the redirect is a new one: its form is enabled and can be sent
    assert pg.locator("#comment-form button[type=submit]").is_enabled()
    pg.fill("#comment-text", "Segundo comentario")
    pg.locator("#comment-form button[type=submit]").click()
    pg.wait_for_selector("text=Segundo comentario")
    assert comments(panel_app, "AT-000003") == before + 2


def test_a_form_the_browser_refuses_is_not_locked(page, panel_app):  # noqa: F811
    """A submit the page cancels (a required field left empty is not even a submit) leaves the form
    usable: forms.js marks a form only when its submission really goes."""
    pg = page
    log_in(pg)
    pg.goto(pg.base + "/atenciones/AT-000003")
    pg.evaluate("""() => document.getElementById('comment-form')
                   .addEventListener('submit', (e) => e.preventDefault(), {once: true})""")
    pg.fill("#comment-text", COMMENT)
    pg.locator("#comment-form button[type=submit]").click()
    assert pg.locator("#comment-form button[type=submit]").is_enabled()
    assert pg.evaluate("() => document.getElementById('comment-form').dataset.sending") is None
    pg.locator("#comment-form button[type=submit]").click()
    pg.wait_for_selector(".flash-success")
    assert pg.locator("#logbook").inner_text().count(COMMENT) == 1
