"""tickets/queries.py: every filter (positive and negative), SLA filters, ordering, counting, errors.

Runs on SQLite and PostgreSQL (the ``database_url`` fixture). The data is built with the services
(open_ticket, assign, add_comment, set_status); ``attended_at`` is then pinned to fixed dates
because set_status stamps the real clock. "Today" is always fixed: 2025-01-06 (America/Lima).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.sql import Select

from tickets.models import (
    Area,
    Category,
    Client,
    ClientEmail,
    ClosedDay,
    Contract,
    Project,
    Promoter,
    Subdivision,
    TicketType,
    Unit,
    User,
)
from tickets.queries import (
    FILTER_NAMES,
    ROW_KEYS,
    FilterError,
    Filters,
    TicketRow,
    count_tickets,
    iter_ticket_rows,
    parse_value,
    ticket_row,
    ticket_select,
)
from tickets.services import (
    Context,
    TicketDefaults,
    add_comment,
    assign,
    open_ticket,
    set_status,
)

LIMA = ZoneInfo("America/Lima")
TODAY = date(2025, 1, 6)


def lima(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LIMA)


# --------------------------------------------------------------------------- data


def build_data(Session, tmp_path) -> None:
    """Five tickets covering every filter (see the table in test_filters)."""
    ctx = Context(storage_dir=tmp_path / "files")
    with Session.begin() as s:
        sol = Promoter(name="Inmobiliaria Sol")
        luna = Promoter(name="Constructora Luna")
        olivos = Project(name="Los Olivos", promoter=sol)
        palmas = Project(name="Las Palmas", promoter=luna)
        torre_a = Subdivision(project=olivos, name="Torre A")
        bloque_b = Subdivision(project=palmas, name="Bloque B")
        u101 = Unit(subdivision=torre_a, number="101", unit_type="departamento")
        Unit(subdivision=torre_a, number="D-5", unit_type="depósito")
        e12 = Unit(subdivision=bloque_b, number="E-12", unit_type="estacionamiento")
        ana = Client(document_type="DNI", document_number="40000001", name="Ana Torres",
                     emails=[ClientEmail(email="ana@cliente.pe")])
        luis = Client(document_type="DNI", document_number="40000002", name="Luis Pérez",
                      emails=[ClientEmail(email="luis@cliente.pe"),
                              ClientEmail(email="luis.perez@trabajo.pe")])
        s.add_all([
            Contract(number="C-2024-100", unit=u101, holders=[ana]),
            Contract(number="C-2024-200", unit=e12, holders=[luis]),
        ])
        legal = Area(name="Área Legal")
        postventa = s.scalar(select(Area).where(Area.name == "Postventa"))
        maria = User(email="maria@empresa.pe", name="María Quispe", area=postventa)
        jorge = User(email="jorge@empresa.pe", name="Jorge Ríos", area=legal)
        s.add_all([legal, maria, jorge, Category(name="Acabados"),
                   TicketType(name="Reclamo", max_response_days=2, priority_days={}, day_rule="calendar"),
                   TicketType(name="Trámite", max_response_days=3, priority_days={}, day_rule="business")])
        s.flush()

        # AT-000001: Ana (contract filled in), 2025-01-01 22:00 Lima = 2025-01-02 03:00 UTC,
        # assigned to María, a client comment, attended 2025-01-06 → 5 days, max 5: on time.
        t1 = open_ticket(s, ctx, subject="Puerta del baño no cierra",
                         detail="La puerta del baño principal no cierra bien.",
                         requester_email="ana@cliente.pe", requested_at=lima(2025, 1, 1, 22))
        assign(s, ctx, t1, maria)
        add_comment(s, ctx, t1, text="Sigue goteando el caño de la cocina",
                    author_email="ana@cliente.pe", author_name="Ana Torres")
        set_status(s, ctx, t1, "Atendido", by=maria)
        t1.attended_at = lima(2025, 1, 6, 12)

        # AT-000002: Luis, a reclamo of type Reclamo (max 2), priority Alta, area Área Legal,
        # assigned to Jorge, a staff comment; not attended → today 2025-01-06: 3 días de retraso.
        t2 = open_ticket(s, ctx, subject="Filtración en estacionamiento",
                         detail="Hay agua en el estacionamiento E-12.",
                         requester_email="luis@cliente.pe", requested_at=lima(2025, 1, 1, 9),
                         defaults_=TicketDefaults(type="Reclamo", area="Área Legal", priority="Alta"))
        t2.kind = "reclamo"
        # services.get_by_name compares with SQL lower(), which does not fold "Á" on SQLite (nor on
        # a C-locale PostgreSQL), and open_ticket then silently falls back to the first area.
        t2.area = legal
        assign(s, ctx, t2, jorge)
        add_comment(s, ctx, t2, text="Revisar cláusula de garantía", author_user=jorge)

        # AT-000003: a stranger, category Acabados, Urgente (max 1), a formula-like subject.
        open_ticket(s, ctx, subject="=HYPERLINK(\"http://evil\",\"clic\")",
                    detail="Consulta: ¿aplica el 50% de descuento?",
                    requester_email="rosa@gmail.com", requester_name="Rosa Díaz",
                    requested_at=lima(2025, 1, 5),
                    defaults_=TicketDefaults(category="Acabados", priority="Urgente"))

        # AT-000004: Pedro (not a client), closed; attended 2025-01-03 → 14 days, max 5: late.
        # A client comment, and a staff member's comment that came in by email (no author_user).
        t4 = open_ticket(s, ctx, subject="Garantía de la terma", detail="La terma no calienta.",
                         requester_email="pedro@cliente.pe", requester_name="Pedro Soto",
                         requested_at=lima(2024, 12, 20))
        add_comment(s, ctx, t4, text="Gracias por la atención", author_email="pedro@cliente.pe",
                    author_name="Pedro Soto")
        add_comment(s, ctx, t4, text="Nota: aplica garantía del fabricante",
                    author_email="maria@empresa.pe", author_name="María Quispe")
        set_status(s, ctx, t4, "Cerrado")
        t4.attended_at = lima(2025, 1, 3, 16)

        # AT-000005: type Trámite (business days, max 3), a solicitud, Friday 2025-01-03.
        t5 = open_ticket(s, ctx, subject="Solicitud de planos", detail="Necesito los planos.",
                         requester_email="carla@otro.pe", requester_name="Carla Vega",
                         requested_at=lima(2025, 1, 3), defaults_=TicketDefaults(type="Trámite"))
        t5.kind = "solicitud"




def nums(rows) -> list[int]:
    return [int(r.code.split("-")[1]) for r in rows]


def run(Session, **filters) -> set[int]:
    with Session() as s:
        return set(nums(iter_ticket_rows(s, Filters.from_mapping(filters), today=TODAY)))


# --------------------------------------------------------------------------- every filter

CASES = [
    # (filters, expected ticket numbers)
    ({}, {1, 2, 3, 4, 5}),
    # local dates in America/Lima, inclusive: AT-000001 is 2025-01-02 in UTC but 2025-01-01 in Lima
    ({"requested_from": "2025-01-02"}, {3, 5}),
    ({"requested_to": "2025-01-01"}, {1, 2, 4}),
    ({"requested_to": "2024-12-19"}, set()),
    ({"requested_from": "2025-01-01", "requested_to": "2025-01-01"}, {1, 2}),
    ({"requested_from": "2024-12-21", "requested_to": "2024-12-31"}, set()),
    ({"code": "at-2"}, {2}),
    ({"code": "[AT-000003]"}, {3}),
    ({"code": "000004"}, {4}),
    ({"code": "AT-999"}, set()),
    ({"type": "reclamo"}, {2}),
    ({"type": "ATENCION"}, {1, 3, 4}),  # accents and case ignored
    ({"type": "Garantías"}, set()),
    ({"category": "acabados"}, {3}),
    ({"category": "Electricidad"}, set()),
    ({"status": "atendido"}, {1}),
    ({"status": "REGISTRADO"}, {3, 5}),
    ({"status": "Cerrado"}, {4}),
    ({"status": "Anulado"}, set()),
    ({"project": "los olivos"}, {1}),
    ({"project": "Las Palmas"}, {2}),
    ({"project": "Otro"}, set()),
    ({"subdivision": "torre a"}, {1}),
    ({"subdivision": "Torre Z"}, set()),
    ({"unit": "e-12"}, {2}),
    ({"unit": "999"}, set()),
    ({"unit_type": "estacionamiento"}, {2}),
    ({"unit_type": "Departamento"}, {1}),
    ({"unit_type": "DEPOSITO"}, set()),  # exists (D-5) but no ticket on it
    ({"promoter": "inmobiliaria sol"}, {1}),
    ({"promoter": "Constructora Luna"}, {2}),
    ({"promoter": "Otra"}, set()),
    ({"requester": "ana"}, {1}),
    ({"requester": "GMAIL.COM"}, {3}),
    ({"requester": "díaz"}, {3}),
    ({"requester": "nadie"}, set()),
    ({"holder": "pérez"}, {2}),
    ({"holder": "trabajo.pe"}, {2}),  # the holder's second address
    ({"holder": "ana@cliente"}, {1}),
    ({"holder": "rosa"}, set()),
    ({"assignee": "maría"}, {1}),
    ({"assignee": "JORGE@empresa"}, {2}),
    ({"assignee": "pedro"}, set()),
    ({"area": "area legal"}, {2}),
    ({"area": "postventa"}, {1, 3, 4, 5}),
    ({"area": "Finanzas"}, set()),
    ({"contract": "2024-200"}, {2}),
    ({"contract": "c-2024-100"}, {1}),
    ({"contract": "C-9"}, set()),
    ({"comment": "caño"}, {1}),
    ({"comment": "GRACIAS"}, {4}),
    ({"comment": "garantía"}, set()),  # only in staff comments (one by user, one by staff email)
    ({"comment": "planos"}, set()),  # in a detail, not in a comment
    ({"priority": "alta"}, {2}),
    ({"priority": "Urgente"}, {3}),
    ({"priority": "Baja"}, set()),
    ({"q": "baño"}, {1}),  # subject
    ({"q": "50%"}, {3}),  # detail; % is literal
    ({"q": "%"}, {3}),
    ({"q": "_"}, set()),  # _ is literal too
    ({"q": "at-5"}, {5}),  # a code
    ({"q": "rosa@gmail"}, {3}),  # requester email
    ({"q": "luis pérez"}, {2}),  # the matched client's name
    ({"q": "zzz"}, set()),
    # accents and case ignored by every text filter: typed without them, or in capitals
    ({"q": "filtracion"}, {2}),
    ({"q": "FILTRACIÓN EN"}, {2}),
    ({"q": "BANO PRINCIPAL"}, {1}),  # detail
    ({"q": "LUIS PEREZ"}, {2}),
    ({"q": "filtracio\u0301n"}, {2}),  # an accent typed as a combining mark
    # several words: each one, in any order, anywhere in the code, subject, detail or requester
    ({"q": "estacionamiento filtracion"}, {2}),  # subject and detail, the other way round
    ({"q": "puerta ana"}, {1}),  # a subject word and the requester's address
    ({"q": "terma pedro"}, {4}),  # a subject word and the requester's name
    ({"q": "perez luis"}, {2}),  # the matched client's name
    ({"q": "puerta filtracion"}, set()),
    ({"requester": "rosa diaz"}, {3}),
    # several words: each one, in any order, in the name or the address (a first name and a surname)
    ({"requester": "diaz rosa"}, {3}),
    ({"requester": "rosa gmail"}, {3}),
    ({"requester": "  rosa   díaz "}, {3}),
    ({"requester": "rosa torres"}, set()),
    ({"holder": "luis trabajo"}, {2}),
    ({"holder": "perez luis"}, {2}),
    ({"holder": "luis torres"}, set()),
    ({"holder": "PEREZ"}, {2}),
    ({"assignee": "maria quispe"}, {1}),
    ({"assignee": "RIOS"}, {2}),
    ({"comment": "cano de la cocina"}, {1}),
    ({"comment": "CLAUSULA"}, set()),  # a staff comment
    # SLA filters (today 2025-01-06): elapsed 1→5, 2→5, 3→1, 4→14, 5→1 (business days)
    ({"days_min": "5"}, {1, 2, 4}),
    ({"days_max": "1"}, {3, 5}),
    ({"days_min": "2", "days_max": "5"}, {1, 2}),
    ({"days_min": "15"}, set()),
    ({"days_max": "0"}, set()),
    ({"alert": "overdue"}, {2}),
    ({"alert": "on_time"}, {3, 5}),
    ({"alert": "attended_on_time"}, {1}),
    ({"alert": "attended_late"}, {4}),
    ({"alert": "overdue", "priority": "urgente"}, set()),
    # Fecha de atención (local dates): AT-000001 attended 2025-01-06, AT-000004 2025-01-03
    ({"attended_from": "2025-01-04"}, {1}),
    ({"attended_from": "2025-01-07"}, set()),
    ({"attended_to": "2025-01-03"}, {4}),
    ({"attended_to": "2025-01-02"}, set()),
    ({"attended_from": "2025-01-03", "attended_to": "2025-01-06"}, {1, 4}),
    # open: not in a closed status (Atendido is attended, not closed); 0: closed ones
    ({"open": "1"}, {1, 2, 3, 5}),
    ({"open": "0"}, {4}),
    ({"open": "1", "code": "at-4"}, set()),
    # kind: codes and the panel's words
    ({"kind": "reclamo"}, {2}),
    ({"kind": "Solicitud"}, {5}),
    ({"kind": "Atención"}, {1, 3, 4}),
    ({"kind": "queja", "status": "registrado"}, set()),
    # assignee none: unassigned
    ({"assignee": "none"}, {3, 4, 5}),
    ({"assignee": "NONE", "code": "at-1"}, set()),
    ({"assignee": "Sin asignar"}, {3, 4, 5}),  # the panel's words
    # catalog filters take several values: any of them
    ({"status": ["atendido", "Cerrado"]}, {1, 4}),
    ({"priority": ["alta", "URGENTE"]}, {2, 3}),
    ({"type": ["Reclamo", "tramite"]}, {2, 5}),
    ({"unit": ["101", "e-12"]}, {1, 2}),
    ({"project": ["Los Olivos", "Las Palmas"], "status": ["registrado", "atendido"]}, {1}),
    ({"area": ["Área Legal", "area legal"]}, {2}),  # a repeat is one value
    # combinations
    ({"status": "registrado", "priority": "urgente"}, {3}),
    ({"status": "registrado", "priority": "alta"}, set()),
    ({"area": "postventa", "alert": "on_time", "days_max": "1"}, {3, 5}),
    ({"project": "los olivos", "alert": "overdue"}, set()),
]


def test_every_filter_name_is_covered():
    used = {k for f, _ in CASES for k in f}
    assert used == set(FILTER_NAMES)
    for name in FILTER_NAMES:  # at least one positive and one negative case each
        assert any(name in f and exp for f, exp in CASES), name
        assert any(name in f and not exp for f, exp in CASES), name


def test_filters(Session):
    with Session() as s:
        failures = []
        for filters, expected in CASES:
            got = set(nums(iter_ticket_rows(s, Filters.from_mapping(filters), today=TODAY)))
            if got != expected:
                failures.append(f"{filters}: expected {sorted(expected)}, got {sorted(got)}")
            n = count_tickets(s, Filters.from_mapping(filters), today=TODAY)
            if n != len(expected):
                failures.append(f"count {filters}: expected {len(expected)}, got {n}")
    assert not failures, "\n".join(failures)


def test_pages_list_what_the_stream_lists(Session):
    """A page (``limit`` ≤ 1000: fetched at once, on PostgreSQL with the joins in written order when
    no condition reads a joined table) lists the same tickets as the stream, for every case, and
    leaves ``join_collapse_limit`` as it found it."""
    with Session() as s:
        for filters, expected in CASES:
            got = set(nums(iter_ticket_rows(s, Filters.from_mapping(filters), today=TODAY, limit=50)))
            assert got == expected, filters
        if s.get_bind().dialect.name == "postgresql":
            assert s.execute(text("SHOW join_collapse_limit")).scalar() == "8"


# --------------------------------------------------------------------------- rows and SLA


def test_row_content_and_seed_examples(Session):
    with Session() as s:
        rows = {r.code: r for r in iter_ticket_rows(s, Filters(), today=TODAY)}
    t1, t2, t3, t4, t5 = (rows[f"AT-00000{i}"] for i in range(1, 6))
    assert list(t1.as_dict()) == list(ROW_KEYS)
    assert t1.as_dict() == {
        "code": "AT-000001", "kind": "atencion", "subject": "Puerta del baño no cierra",
        "status": "Atendido", "type": "Atención", "category": "General", "priority": "Media",
        "project": "Los Olivos", "subdivision": "Torre A", "unit": "101",
        "promoter": "Inmobiliaria Sol", "requester_name": "Ana Torres",
        "requester_email": "ana@cliente.pe", "holder": "Ana Torres", "assignee": "María Quispe",
        "assignee_email": "maria@empresa.pe", "area": "Postventa", "contract_number": "C-2024-100",
        "requested_at": lima(2025, 1, 1, 22), "attended_at": lima(2025, 1, 6, 12),
        # seed: requested 2025-01-01, attended 2025-01-06 → 5 (in Lima; UTC would say 4)
        "elapsed_days": 5, "alert": "Atendido dentro de plazo", "alert_state": "attended_on_time",
    }
    assert t1.requested_at.utcoffset() == timedelta(hours=-5)
    # seed: requested 2025-01-01, not attended, today 2025-01-06, max 2 → "3 días de retraso"
    assert (t2.kind, t2.type, t2.elapsed_days, t2.alert, t2.alert_state) == (
        "reclamo", "Reclamo", 5, "3 días de retraso", "overdue")
    assert (t2.holder, t2.area, t2.attended_at) == ("Luis Pérez", "Área Legal", None)
    # Urgente → the type's per-priority override (1 day)
    assert (t3.elapsed_days, t3.alert, t3.holder, t3.project) == (1, "En plazo (vence hoy)", None, None)
    assert (t4.elapsed_days, t4.alert, t4.alert_state) == (14, "Atendido fuera de plazo", "attended_late")
    # business days: Friday 2025-01-03 → Monday 2025-01-06 is 1 business day (3 calendar days)
    assert (t5.kind, t5.elapsed_days, t5.alert) == ("solicitud", 1, "En plazo (quedan 2 días)")


def test_closed_days_table_feeds_business_days(Session):
    with Session.begin() as s:
        s.add(ClosedDay(day=date(2025, 1, 6), note="Cierre por inventario"))
    with Session() as s:
        (t5,) = iter_ticket_rows(s, Filters(code="AT-5"), today=TODAY)
    assert (t5.elapsed_days, t5.alert) == (0, "En plazo (quedan 3 días)")
    assert run(Session, days_max="0") == {5}


def test_today_moves_the_alert(Session):
    with Session() as s:
        (t3,) = iter_ticket_rows(s, Filters(code="AT-3"), today=date(2025, 1, 8))
    assert (t3.elapsed_days, t3.alert, t3.alert_state) == (3, "2 días de retraso", "overdue")
    with Session() as s:  # default today: the local date now, far after 2025 → overdue
        (t3,) = iter_ticket_rows(s, Filters(code="AT-3"))
    assert t3.alert_state == "overdue"


def test_other_time_zone(Session):
    # In UTC, AT-000001 was requested on 2025-01-02 (03:00Z)
    with Session() as s:
        got = nums(iter_ticket_rows(s, Filters(requested_from="2025-01-02"), tz="UTC", today=TODAY))
        (t1,) = iter_ticket_rows(s, Filters(code="AT-1"), tz="UTC", today=TODAY)
    assert set(got) == {1, 3, 5}
    assert t1.requested_at.isoformat() == "2025-01-02T03:00:00+00:00"
    assert t1.elapsed_days == 4  # 2025-01-02 → 2025-01-06 (17:00Z)


@pytest.mark.parametrize("tz", ["America/Lima", "UTC"])
def test_ticket_row_agrees_with_the_listing(Session, tz):
    """`ticket_row` (one prebuilt statement, what outbound compose reads) gives, for every
    ticket and two zones, the row the listing gives for Filters(code=…); None for no ticket."""
    with Session.begin() as s:
        s.add(ClosedDay(day=date(2025, 1, 6), note="Cierre por inventario"))
    with Session() as s:
        listed = list(iter_ticket_rows(s, Filters(), tz=tz, today=TODAY))
        assert len(listed) == 5
        for row in listed:
            (by_filter,) = iter_ticket_rows(s, Filters(code=row.code), tz=tz, today=TODAY)
            assert ticket_row(s, row.code, tz=tz, today=TODAY) == by_filter == row
        assert ticket_row(s, "AT-999999", tz=tz, today=TODAY) is None
        assert ticket_row(s, "AT-1", tz=tz, today=TODAY) is None  # exact codes only


# --------------------------------------------------------------------------- SQL shape


def test_one_select_no_n_plus_one(Session):
    statements = []
    engine = Session.kw["bind"]

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session() as s:
            rows = list(iter_ticket_rows(s, Filters(), today=TODAY))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(rows) == 5
    # the closed days, the ticket types' days (TypeRules) and the rows, whatever the row count
    assert len(statements) == 3, statements


def test_ticket_select_is_sql_only(Session):
    stmt = ticket_select(Filters(status="Registrado", days_min=100), tz="America/Lima", today=TODAY)
    assert isinstance(stmt, Select)
    with Session() as s:
        # days_min is applied in Python (iter_ticket_rows), not in the SELECT
        assert sorted(r.code for r in s.execute(stmt)) == ["AT-000003", "AT-000005"]
        assert list(iter_ticket_rows(s, Filters(status="Registrado", days_min=100), today=TODAY)) == []


def test_iterator_is_lazy(Session):
    with Session() as s:
        it = iter_ticket_rows(s, Filters(), today=TODAY)
        assert iter(it) is it
        first = next(it)
        assert isinstance(first, TicketRow)
        it.close()


# --------------------------------------------------------------------------- order and pages


@pytest.mark.parametrize("order, expected", [
    ("code", [1, 2, 3, 4, 5]),
    ("-code", [5, 4, 3, 2, 1]),
    ("requested_at", [4, 2, 1, 5, 3]),
    ("-requested_at", [3, 5, 1, 2, 4]),
    ("priority", [1, 4, 5, 2, 3]),  # Media, Media, Media, Alta, Urgente (ties by id)
    ("-priority", [3, 2, 5, 4, 1]),
    ("status", [3, 5, 2, 1, 4]),  # Registrado ×2, Asignado, Atendido, Cerrado
])
def test_order(Session, order, expected):
    with Session() as s:
        assert nums(iter_ticket_rows(s, Filters(), today=TODAY, order=order)) == expected


def test_pages_and_count(Session):
    with Session() as s:
        assert nums(iter_ticket_rows(s, Filters(), today=TODAY, order="code", limit=2, offset=1)) == [2, 3]
        assert nums(iter_ticket_rows(s, Filters(alert="on_time"), today=TODAY, order="code",
                                     limit=1, offset=1)) == [5]
        assert count_tickets(s) == 5
        assert count_tickets(s, Filters(status="registrado")) == 2
        assert count_tickets(s, Filters(alert="overdue"), today=TODAY) == 1
        with pytest.raises(FilterError, match="^order: orden no válido 'elapsed_days'"):
            list(iter_ticket_rows(s, Filters(), order="elapsed_days"))


# --------------------------------------------------------------------------- validation (no DB)


@pytest.mark.parametrize("data, message", [
    ({"requested_from": "2025-13-01"}, "requested_from: fecha no válida '2025-13-01' (use AAAA-MM-DD)"),
    ({"requested_to": "06/01/2025"}, "requested_to: fecha no válida '06/01/2025' (use AAAA-MM-DD)"),
    ({"requested_from": "2025-01-06", "requested_to": "2025-01-01"},
     "requested_to: la fecha final 2025-01-01 es anterior a la inicial 2025-01-06"),
    ({"days_min": "tres"}, "days_min: número de días no válido 'tres' (use un entero mayor o igual a 0)"),
    ({"days_max": "-1"}, "days_max: número de días no válido '-1' (use un entero mayor o igual a 0)"),
    ({"days_min": "5", "days_max": "2"}, "days_max: el máximo (2) es menor que el mínimo (5)"),
    ({"alert": "late"},
     "alert: alerta no válida 'late' (use overdue, on_time, attended_on_time o attended_late)"),
    ({"q": "x" * 201}, "q: texto demasiado largo (201 caracteres; máximo 200)"),
    ({"attended_to": "2025-02-30"}, "attended_to: fecha no válida '2025-02-30' (use AAAA-MM-DD)"),
    ({"attended_from": "2025-01-06", "attended_to": "2025-01-01"},
     "attended_to: la fecha final 2025-01-01 es anterior a la inicial 2025-01-06"),
    ({"open": "tal vez"}, "open: valor no válido 'tal vez' (use 1: solo las abiertas, o 0: solo las cerradas)"),
    ({"kind": "queja formal"}, "kind: formulario desconocido 'queja formal' (válidos: atencion, reclamo, solicitud)"),
])
def test_filter_errors(data, message):
    with pytest.raises(FilterError) as info:
        Filters.from_mapping(data)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)
    assert info.value.field == message.split(":")[0]


def test_from_mapping_and_to_query():
    f = Filters.from_mapping({
        "requested_from": " 2025-01-01 ", "requested_to": "", "status": "  En   proceso ",
        "days-min": "3", "alert": "OVERDUE", "page": "2", "order": "code",
    })
    assert f.requested_from == date(2025, 1, 1) and f.requested_to is None
    assert (f.status, f.days_min, f.alert) == (("En proceso",), 3, "overdue")
    assert f.needs_python
    q = f.to_query()
    assert q == {"requested_from": "2025-01-01", "status": ["En proceso"], "days_min": "3",
                 "alert": "overdue"}
    assert Filters.from_mapping(q) == f
    # a multi-valued mapping (werkzeug's request.args): every value of a catalog filter
    from werkzeug.datastructures import MultiDict

    f = Filters.from_mapping(MultiDict([("status", "Registrado"), ("status", ""), ("status", "registrado"),
                                        ("status", "Asignado"), ("q", "uno"), ("q", "dos")]))
    assert f.status == ("Registrado", "Asignado") and f.q == "uno"
    assert Filters.from_mapping(f.to_query()) == f
    with pytest.raises(FilterError, match="^priority: demasiados valores \\(51; máximo 50\\)$"):
        Filters(priority=[f"p{i}" for i in range(51)])
    assert Filters().to_query() == {} and not Filters().needs_python
    with pytest.raises(FilterError, match="^page: filtro desconocido$"):
        Filters.from_mapping({"page": "2"}, strict=True)
    # typed values are accepted as they are; strings are validated on construction too
    assert Filters(requested_from=date(2025, 1, 1), days_max=4).to_query() == {
        "requested_from": "2025-01-01", "days_max": "4"}
    with pytest.raises(FilterError, match="^days_min:"):
        Filters(days_min="x")


@pytest.mark.parametrize("name, value, expected", [
    ("requested_from", " 2025-01-01 ", date(2025, 1, 1)),
    ("attended_to", "", None),
    ("days_min", "+3", 3),
    ("alert", "Overdue", "overdue"),
    ("open", "1", True), ("open", "sí", True), ("open", "0", False), ("open", "No", False),
    ("open", True, True), ("open", "", None),
    ("kind", "Reclamo/Queja", "reclamo"), ("kind", "QUEJA", "reclamo"), ("kind", "atención", "atencion"),
    ("status", "  En   proceso ", ("En proceso",)),
    ("status", ["Registrado", " ", "REGISTRADO", "Asignado"], ("Registrado", "Asignado")),
    ("unit", "", None),
])
def test_parse_value(name, value, expected):
    assert parse_value(name, value) == expected


def test_new_filters_round_trip():
    f = Filters.from_mapping({"attended-from": "2025-01-02", "open": "0", "kind": "Solicitud",
                              "assignee": "none"})
    assert f.to_query() == {"assignee": "none", "attended_from": "2025-01-02", "open": "0", "kind": "solicitud"}
    assert Filters.from_mapping(f.to_query()) == f
    assert not f.needs_python


# --------------------------------------------------------------------------- validate (catalog names)


def test_validate_accepts_known_names_ignoring_case_and_accents(Session):
    with Session() as s:
        Filters(type="ATENCION", category="acabados", status="atendido", project="los olivos",
                subdivision="TORRE A", unit_type="DEPOSITO", promoter="inmobiliaria sol",
                area="area legal", priority="urgente", assignee="maría").validate(s)
        Filters(assignee="JORGE@empresa").validate(s)
        Filters(assignee="none").validate(s)
        Filters(unit=["d-5", "E-12"]).validate(s)  # units are a catalog: their numbers, any case
        # free text is searched, not validated
        Filters(requester="nadie", holder="nadie", comment="nada", q="zzz").validate(s)
        Filters().validate(s)


@pytest.mark.parametrize("filters, message", [
    ({"status": "Cerradoo"},
     "status: estado desconocido 'Cerradoo' (válidos: Anulado, Asignado, Atendido, Cerrado, En proceso, "
     "Registrado)"),
    ({"type": "Garantías"}, "type: tipo de atención desconocido 'Garantías' (válidos: Atención, Reclamo, Trámite)"),
    ({"category": "Electricidad"}, "category: categoría desconocida 'Electricidad' (válidas: Acabados, General)"),
    ({"project": "Otro"}, "project: proyecto desconocido 'Otro' (válidos: Las Palmas, Los Olivos)"),
    ({"subdivision": "Torre Z"}, "subdivision: torre o bloque desconocido 'Torre Z' (válidos: Bloque B, Torre A)"),
    ({"unit_type": "casa"},
     "unit_type: tipo de unidad desconocido 'casa' (válidos: departamento, depósito, estacionamiento)"),
    ({"promoter": "Otra"}, "promoter: promotor desconocido 'Otra' (válidos: Constructora Luna, Inmobiliaria Sol)"),
    ({"area": "Finanzas"}, "area: área desconocida 'Finanzas' (válidas: Área Legal, Postventa)"),
    ({"priority": "Crítica"}, "priority: prioridad desconocida 'Crítica' (válidas: Alta, Baja, Media, Urgente)"),
    ({"assignee": "pedro"},
     "assignee: usuario desconocido 'pedro' (válidos: none, jorge@empresa.pe, maria@empresa.pe)"),
    # the first unknown one in FILTER_NAMES order is named
    ({"status": "Registrado", "priority": "Crítica", "area": "Finanzas"},
     "area: área desconocida 'Finanzas' (válidas: Área Legal, Postventa)"),
])
def test_validate_names_the_unknown_filter_and_lists_the_valid_values(Session, filters, message):
    with Session() as s, pytest.raises(FilterError) as info:
        Filters(**filters).validate(s)
    assert str(info.value) == message
    assert info.value.field == message.split(":")[0]


def test_validate_long_lists_are_cut(Session):
    with Session.begin() as s:
        s.add_all([Category(name=f"Categoría {n:02d}") for n in range(40)])
    with Session() as s, pytest.raises(FilterError) as info:
        Filters(category="Inexistente").validate(s)
    message = str(info.value)
    assert message.startswith("category: categoría desconocida 'Inexistente' (válidas: Acabados, Categoría 00, ")
    assert message.endswith(", … y 12 más)")  # 42 categories, 30 listed


def test_text_words():
    """A text filter's words, each matched on its own; past MAX_WORDS the rest is one phrase."""
    from tickets.filter_sql import MAX_WORDS, text_words

    assert text_words("luis fernandez") == ["luis", "fernandez"]
    assert text_words("  rosa   rosa díaz ") == ["rosa", "díaz"]
    assert text_words("humedad") == ["humedad"]
    # a word of one or two letters stays with the next one (the last with the one before): a
    # trigram index cannot look it up alone
    assert text_words("maria de la cruz") == ["maria", "de la cruz"]
    assert text_words("Pérez y") == ["Pérez y"]
    assert text_words("de la") == ["de la"]
    assert text_words("   ") == ["   "]
    many = " ".join(f"word{i}" for i in range(20))
    words = text_words(many)
    assert len(words) == MAX_WORDS and words[-1] == " ".join(f"word{i}" for i in range(MAX_WORDS - 1, 20))


def test_type_rules_agree_with_max_response_days(Session):
    """TypeRules (each type's days read once per listing) gives, for every type and priority, what
    tickets.sla.max_response_days gives from the type's own columns, and the type's day rule."""
    from tickets.list_row import TypeRules
    from tickets.models import Priority, TicketType
    from tickets.sla import DayRule, max_response_days

    with Session() as s:
        rules = TypeRules.load(s)
        priorities = [*s.scalars(select(Priority.name)), "URGENTE", " alta ", "Inexistente"]
        types = s.scalars(select(TicketType)).all()
        assert any(t.priority_days for t in types)  # the data has per-priority overrides
        for t in types:
            for p in priorities:
                assert rules(t.id, p) == (max_response_days(t.max_response_days, t.priority_days, p),
                                          DayRule(t.day_rule)), (t.name, p)
