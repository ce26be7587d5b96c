"""Hostile input for the list ("Atención al Cliente", `GET /`, `tickets.list_page`): page numbers
beyond any list or any integer, and text filters with wildcards, quotes, emoji, combining marks or
codes, alone and with the SLA filters, ``open``, a catalog filter's several values or a legal
user's scope — on SQLite and PostgreSQL, the one-scan way (`tickets.queries.count_with_ids` +
`rows_of_ids`) agreeing with the plain one (`count_tickets` + `iter_ticket_rows`), never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, update

from tests.panel_harness import codes_in
from tests.test_list_page import plain, shown
from tests.test_queries import TODAY, nums
from tickets.list_page import list_page
from tickets.models import Ticket, User
from tickets.queries import FilterError, Filters, count_tickets, count_with_ids, iter_ticket_rows, rows_of_ids

HUGE = 10**30  # beyond 64 bits: PostgreSQL "bigint out of range", SQLite OverflowError (both were raised)


@pytest.mark.parametrize("data", [{}, {"q": "e"}], ids=["plain", "one-scan"])
@pytest.mark.parametrize("kw", [{"page": HUGE}, {"page": 2**63}, {"page_size": HUGE}, {"cap": HUGE},
                                {"page": HUGE, "page_size": HUGE}],
                         ids=["page", "page-2**63", "page_size", "cap", "both"])
def test_a_page_or_size_beyond_64_bits_is_the_last_page(Session, data, kw):
    """list_page raised the database's overflow (a 500 had the panel let such a page through);
    a page past the end is the last page, a page size or cap beyond every table is no bound."""
    filters = Filters.from_mapping(data)
    page, size = kw.get("page", 1), kw.get("page_size", 2)
    with Session() as s:
        got = list_page(s, filters, today=TODAY, **{"page_size": 2, **kw})
        everything = nums(iter_ticket_rows(s, filters, today=TODAY))
        assert (got.total, got.more, got.pages) == (len(everything), False, -(-len(everything) // size))
        assert got.page == min(page, got.pages)
        assert nums(got.rows) == everything[(got.page - 1) * size:got.page * size]
        assert got.one_scan == (s.get_bind().dialect.name == "postgresql" and bool(data))
        assert shown(got) == plain(s, filters, page=page, page_size=size, cap=kw.get("cap", 10_000))


def test_counts_limits_and_offsets_beyond_64_bits_mean_no_bound(Session):
    with Session() as s:
        everything = nums(iter_ticket_rows(s, Filters(), today=TODAY))
        assert count_tickets(s, Filters(), today=TODAY, cap=HUGE) == len(everything) == 5
        assert nums(iter_ticket_rows(s, Filters(), today=TODAY, limit=HUGE)) == everything
        assert nums(iter_ticket_rows(s, Filters(), today=TODAY, limit=1, offset=HUGE)) == []
        assert rows_of_ids(s, [], limit=HUGE, offset=HUGE) == []
        if s.get_bind().dialect.name == "postgresql":
            total, ids = count_with_ids(s, Filters(q="e"), cap=HUGE, ids_upto=HUGE, today=TODAY)
            assert total == len(ids) == count_tickets(s, Filters(q="e"), today=TODAY)
            assert nums(rows_of_ids(s, ids, today=TODAY, limit=HUGE)) == \
                nums(iter_ticket_rows(s, Filters(q="e"), today=TODAY))
            assert rows_of_ids(s, ids, today=TODAY, limit=1, offset=HUGE) == []


@pytest.mark.parametrize("page", ["9" * 5000, "9" * 30, "99999999999", "1000000000", "000000000000000000000002"],
                         ids=["5000-digits", "30-digits", "11-digits", "10**9", "zeros-then-2"])
@pytest.mark.parametrize("q", ["", "e"], ids=["plain", "one-scan"])
def test_the_panel_takes_any_page_number(admin, page, q):
    """A page of 5,000 digits was a 500 (Python's int() refuses more than 4,300 digits); one of 10**9
    or more was page 1 while 999999999 was the last page. Any number: that page, or the last."""
    query = {"sort": "code", **({"q": q} if q else {})}
    pages = [codes_in(admin.get("/", **query, page=str(n)).text) for n in (1, 2, 3)]
    r = admin.get("/", **query, page=page)
    assert r.status_code == 200
    expected = pages[1] if page.endswith("02") else [p for p in pages if p][-1]
    assert codes_in(r.text) == expected


def test_a_ticket_taken_off_a_legal_user_between_the_count_and_the_page_is_not_shown(Session):
    """The one-scan way reads the page from the ids the count found, in a later statement: a reclamo
    reassigned away from the legal user in between (another session's commit, a real race) was
    still shown to them. The page now checks the legal scope again, as the plain way's query does."""
    engine = Session.kw["bind"]
    with Session() as s:
        jorge = s.scalar(select(User.id).where(User.email == "jorge@empresa.pe"))
        maria = s.scalar(select(User.id).where(User.email == "maria@empresa.pe"))
    raced = []

    def reassign() -> None:
        with Session.begin() as other:  # another connection, committed before the page is read
            other.execute(update(Ticket).where(Ticket.code == "AT-000002")
                          .values(assignee_id=maria, legal_adviser_id=None))

    def reassign_after_the_count(_conn, _cursor, statement, *_args) -> None:
        if "array_agg" in statement and not raced:
            raced.append(True)
            reassign()

    event.listen(engine, "after_cursor_execute", reassign_after_the_count)
    try:
        with Session() as s:
            got = list_page(s, Filters(q="estacionamiento"), today=TODAY, legal_user_id=jorge)
    finally:
        event.remove(engine, "after_cursor_execute", reassign_after_the_count)
    if engine.dialect.name == "postgresql":
        assert raced and got.one_scan and got.total == 1  # counted while still his
        assert nums(got.rows) == []  # but not shown once it is no longer his
    else:  # SQLite: the plain way, no ids carried over, nothing to race with
        assert not raced and nums(got.rows) == [2]
        reassign()
    with Session() as s:
        ticket_id = s.scalar(select(Ticket.id).where(Ticket.code == "AT-000002"))
        assert nums(rows_of_ids(s, [ticket_id], today=TODAY, legal_user_id=jorge)) == []
        assert nums(rows_of_ids(s, [ticket_id], today=TODAY, legal_user_id=maria)) == [2]
        assert nums(rows_of_ids(s, [ticket_id], today=TODAY)) == [2]


@pytest.mark.parametrize("order", ["--code", "+-code", "-+code", "+code", "- code", "code-", "", "elapsed_days"])
def test_a_sort_key_with_odd_signs_is_refused_as_the_cli_refuses_it(Session, order):
    """``+-code`` listed ascending and ``--code`` descending (any run of signs was read), while
    `atencion list --sort` refused both: one rule, ``key`` or ``-key``."""
    with Session() as s:
        with pytest.raises(FilterError, match="^order: orden no válido"):
            list(iter_ticket_rows(s, Filters(), today=TODAY, order=order))
        with pytest.raises(FilterError, match="^order: orden no válido"):
            list_page(s, Filters(q="e"), today=TODAY, order=order)
        assert nums(iter_ticket_rows(s, Filters(), today=TODAY, order=" -code ")) == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("sort", ["--code", "+-code", "---code"])
def test_the_panel_reads_a_sort_with_odd_signs_as_an_unknown_one(admin, sort):
    default = codes_in(admin.get("/").text)
    assert codes_in(admin.get("/", sort="-code").text) == [f"AT-00000{n}" for n in (5, 4, 3, 2, 1)]
    r = admin.get("/", sort=sort)
    assert r.status_code == 200 and codes_in(r.text) == default
    assert admin.get("/exportar", sort=sort).status_code == 200


HOSTILE_TEXTS = ["%", "_", "\\", "'", '"', "50%", "😀", "filtracio\u0301n", "garantía\x1fterma", "at-2",
                 "[AT-000001]", "ESTACIONAMIENTO", "   e   ", "x" * 200]
"""Wildcards, quotes, emoji, a combining accent, the separator of tickets.search_text (read as a
space), codes, capitals, spaces, the longest text accepted."""

COMBINED = [{}, {"days_min": "1"}, {"alert": "overdue"}, {"alert": "attended_on_time"}, {"open": "1"},
            {"status": ["Registrado", "Asignado", "registrado"]}, {"kind": "reclamo", "days_max": "10"}]


def test_hostile_texts_give_the_same_page_and_count_both_ways(Session):
    """Held (no defect found): every trigram text filter with each hostile text, combined in turn
    with the SLA filters, ``open``, a catalog filter's several values and a legal user's scope:
    the one-scan page and count are the plain way's."""
    failures = []
    with Session() as s:
        jorge = s.scalar(select(User.id).where(User.email == "jorge@empresa.pe"))
        fields = ("code", "requester", "holder", "contract", "comment", "q")
        for i, text in enumerate(HOSTILE_TEXTS):
            for j, field in enumerate(fields):
                data = {field: text, **COMBINED[(i + j) % len(COMBINED)]}
                filters = Filters.from_mapping(data)
                legal = jorge if (i + j) % 3 == 0 else None
                for page in (1, 2):
                    got = list_page(s, filters, page=page, page_size=1, today=TODAY, order="code",
                                    legal_user_id=legal)
                    want = plain(s, filters, page=page, page_size=1, cap=10_000, order="code", legal_user_id=legal)
                    if shown(got) != want:
                        failures.append(f"{data} legal={legal} page {page}: {shown(got)} != {want}")
        assert nums(list_page(s, Filters(q="filtracio\u0301n"), today=TODAY).rows) == [2]
        assert nums(list_page(s, Filters(q="50%"), today=TODAY).rows) == [3]
        assert nums(list_page(s, Filters(code="[AT-000001]"), today=TODAY).rows) == [1]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("data", [{"q": "%"}, {"q": "50%", "alert": "on_time"}, {"requester": "_"},
                                  {"comment": "filtracio\u0301n"}, {"code": "at-1", "open": "1"},
                                  {"q": "e", "days_min": "1", "status": ["Registrado", "Asignado"]}])
def test_the_export_has_the_rows_of_the_list(admin, data):
    """Held: the export of a hostile filter's URL has exactly the list's rows, in its order."""
    from io import BytesIO

    from openpyxl import load_workbook

    listed = admin.get("/", sort="code", **data)
    assert listed.status_code == 200
    sheet = load_workbook(BytesIO(admin.get("/exportar", sort="code", **data).data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == codes_in(listed.text)


@pytest.mark.parametrize("data", [{"q": "%"}, {"q": "50%"}, {"requester": "_"}, {"code": "[AT-000001]"},
                                  {"comment": "filtracio\u0301n"}, {"q": "ESTACIONAMIENTO", "open": "1"},
                                  {"q": "e", "status": ["Registrado", "asignado"]}, {"holder": "'"}])
def test_atencion_list_has_the_rows_of_the_panel(admin, Session, tmp_path, data):
    """Held: `atencion list` with the same hostile filters lists the panel's rows (no SLA filter
    here: the panel's "today" is pinned, the CLI's is the real one)."""
    import json

    from click.testing import CliRunner

    import worker.cli

    url = Session.kw["bind"].url.render_as_string(hide_password=False)
    options = [arg for name, value in data.items()
               for one in (value if isinstance(value, list) else [value]) for arg in (f"--{name}", one)]
    r = CliRunner().invoke(worker.cli.cli, ["list", *options, "--sort", "code", "--all", "--json"],
                           env={"ATENCION_DATABASE_URL": url, "ATENCION_DATA_DIR": str(tmp_path / "var")})
    assert r.exit_code == 0, (r.output, r.exception)
    assert [row["code"] for row in json.loads(r.stdout)] == codes_in(admin.get("/", sort="code", **data).text)


@pytest.mark.parametrize(("kw", "field"), [({"limit": -1}, "limit"), ({"offset": -1}, "offset"),
                                           ({"limit": 5, "offset": -(10**30)}, "offset")])
def test_a_negative_limit_or_offset_names_its_own_field(Session, kw, field):
    """A negative offset was reported as ``limit: …``."""
    with Session() as s, pytest.raises(FilterError, match=f"^{field}: la paginación"):
        list(iter_ticket_rows(s, Filters(), today=TODAY, **kw))
