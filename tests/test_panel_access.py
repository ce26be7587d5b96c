"""The panel's access rules (issue 9, item 1): login with hashed passwords, wrong password, unknown
and deactivated users, the login rate limit, CSRF on every form, logout, the legal role's scope,
cookies and redirects. Flask test client, SQLite and PostgreSQL (tests.panel_harness)."""

from __future__ import annotations

from sqlalchemy import select

from tests.panel_harness import ADMIN, AGENT, INACTIVE, LEGAL, PASSWORD, Staff, codes_in, csrf_token, make_panel
from tickets.models import Ticket, User
from web_admin.auth import BAD_CREDENTIALS, DEACTIVATED
from web_admin.state import panel


def test_anonymous_is_sent_to_the_login_page(staff):
    for path in ("/", "/?status=Registrado", "/exportar", "/filtros/opciones"):
        r = staff.client.get(path)
        assert r.status_code == 302 and r.location.startswith("/login?next="), path
    page = staff.client.get("/login")
    assert page.status_code == 200
    assert '<html lang="es">' in page.text and "Ingresar" in page.text and "Contraseña" in page.text


def test_login_and_logout(staff):
    r = staff.login(ADMIN)
    assert (r.status_code, r.location) == (302, "/")
    page = staff.get("/")
    assert page.status_code == 200 and "Ana Administradora" in page.text and "Salir" in page.text
    assert staff.client.get("/login").status_code == 302  # already in: back to the list
    r = staff.logout()
    assert (r.status_code, r.location) == (302, "/login")
    assert staff.client.get("/").status_code == 302


def test_login_email_ignores_case_and_next_is_followed(staff):
    r = staff.login("  MARIA@Empresa.PE ", next_="/?status=Registrado")
    assert (r.status_code, r.location) == (302, "/?status=Registrado")


def test_login_never_redirects_to_another_site(staff):
    for evil in ("http://evil.example/", "//evil.example/", "https:/evil"):
        staff.client.get("/login")
        r = staff.login(AGENT, next_=evil)
        assert (r.status_code, r.location) == (302, "/"), evil
        staff.logout()


def test_wrong_password_and_unknown_user(staff):
    for email, password in ((ADMIN, "otra-clave-123"), ("nadie@empresa.pe", PASSWORD), (ADMIN, "")):
        r = staff.login(email, password)
        assert r.status_code == 401, (email, password)
        assert BAD_CREDENTIALS in r.text or "Escriba su correo y su contraseña." in r.text
        assert staff.client.get("/").status_code == 302


def test_deactivated_user_cannot_log_in_and_is_logged_out(panel_app, staff):
    r = staff.login(INACTIVE)
    assert r.status_code == 401 and DEACTIVATED in r.text
    assert staff.client.get("/").status_code == 302
    # deactivated while logged in: the next request is anonymous
    assert staff.login(AGENT).status_code == 302
    with panel(panel_app).sessions.begin() as s:
        s.scalar(select(User).where(User.email == AGENT)).active = False
    assert staff.client.get("/").status_code == 302


def test_password_change_ends_other_sessions(panel_app, staff):
    from tickets.users import add_or_update_user

    assert staff.login(AGENT).status_code == 302
    with panel(panel_app).sessions.begin() as s:
        add_or_update_user(s, email=AGENT, name="María Quispe", role="agent", password="nueva-clave-456")
    assert staff.client.get("/").status_code == 302


def test_login_rate_limit(staff):
    for attempt in range(5):
        assert staff.login(ADMIN, "mala-clave-000").status_code == 401, attempt
    r = staff.login(ADMIN, "mala-clave-000")
    assert r.status_code == 429 and "Demasiados intentos" in r.text
    assert staff.login(ADMIN).status_code == 429  # even the right password, for a minute
    assert staff.client.get("/login").status_code == 200  # the page itself is not limited


def test_successful_logins_are_not_limited(staff):
    for _ in range(7):
        assert staff.login(ADMIN).status_code == 302
        staff.logout()


def test_post_without_csrf_token_is_refused(staff):
    r = staff.client.post("/login", data={"email": ADMIN, "password": PASSWORD})
    assert r.status_code == 400 and "token de seguridad" in r.text
    assert staff.client.get("/").status_code == 302  # not logged in
    r = staff.client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": "falso"})
    assert r.status_code == 400
    assert staff.login(ADMIN).status_code == 302
    r = staff.client.post("/logout")  # a logout link on another site cannot log anyone out
    assert r.status_code == 400
    assert staff.client.get("/").status_code == 200
    assert csrf_token(staff.client.get("/").text)


def test_session_cookie_flags(Session, tmp_path):
    for secure in (False, True):
        app = make_panel(Session, tmp_path, settings={"secure_cookies": secure})
        try:
            from tests.panel_harness import add_staff

            if not secure:
                add_staff(Session)
            r = Staff(app.test_client()).login(ADMIN)
            cookie = r.headers["Set-Cookie"]
            assert cookie.startswith("atencion_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
            assert ("Secure" in cookie) is secure
        finally:
            panel(app).engine.dispose()


def test_legal_user_sees_only_their_reclamos(panel_app, staff):
    # AT-000005 becomes a reclamo with Jorge as legal adviser; AT-000003 a reclamo of someone else
    with panel(panel_app).sessions.begin() as s:
        jorge = s.scalar(select(User).where(User.email == LEGAL))
        t5 = s.scalar(select(Ticket).where(Ticket.code == "AT-000005"))
        t5.kind, t5.legal_adviser_id = "reclamo", jorge.id
        s.scalar(select(Ticket).where(Ticket.code == "AT-000003")).kind = "reclamo"
    assert staff.login(LEGAL).status_code == 302
    page = staff.get("/")
    assert sorted(codes_in(page.text)) == ["AT-000002", "AT-000005"]  # assignee / legal adviser
    assert "2 atenciones" in page.text and "Asesor legal" in page.text
    assert codes_in(staff.get("/", q="at-3").text) == []
    assert codes_in(staff.get("/", status="Registrado").text) == ["AT-000005"]
    staff.logout()
    assert staff.login(AGENT).status_code == 302  # an agent sees every ticket
    assert len(codes_in(staff.get("/").text)) == 5


def test_health_needs_no_login(staff):
    r = staff.client.get("/health")
    assert (r.status_code, r.json) == (200, {"status": "ok"})


def test_not_found_page_is_spanish(admin):
    r = admin.client.get("/no-existe")
    assert r.status_code == 404 and "No encontrado" in r.text
