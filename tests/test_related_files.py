"""Archivos Relacionados and handovers in the domain (issue 10, item 5): `tickets.related_files`
(add with its checks, remove, the groups for a unit and for a ticket) and the catalog's
``handovers:`` section (idempotent, the signed record kept as a related file of the handover),
also through ``atencion catalog load`` on examples/catalog.yaml. SQLite and PostgreSQL (the
``Session`` fixture: tests.test_queries.build_data — Los Olivos/Torre A/101 sold by C-2024-100
to Ana, AT-000001 on it; Las Palmas/Bloque B/E-12 by C-2024-200, AT-000002)."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tickets import storage
from tickets.catalog import CatalogError, load_catalog
from tickets.models import Contract, Handover, Project, RelatedFile, Subdivision, Ticket, Unit, User
from tickets.related_files import (
    Owner,
    RelatedFileError,
    add_file,
    for_ticket,
    for_unit,
    remove_file,
    resolve_place,
)

PDF = b"%PDF-1.4\n% plano de la torre\n"
MAX = 1024


def one(s, model, **by):
    return s.scalar(select(model).filter_by(**by))


def places(s) -> dict:
    olivos = one(s, Project, name="Los Olivos")
    torre = one(s, Subdivision, name="Torre A")
    return {"project": olivos, "subdivision": torre, "unit": one(s, Unit, subdivision_id=torre.id, number="101"),
            "d5": one(s, Unit, subdivision_id=torre.id, number="D-5"),
            "contract": one(s, Contract, number="C-2024-100")}


def add(s, tmp_path, owner: Owner, name: str, data: bytes = PDF, **kw) -> RelatedFile:
    return add_file(s, tmp_path / "files", owner, filename=name, content_type=kw.pop("content_type", "application/pdf"),
                    data=data, max_bytes=kw.pop("max_bytes", MAX), **kw)


def labels(groups) -> list[tuple[str, list[str]]]:
    return [(g.label, [f.filename for f in g.files]) for g in groups]


@pytest.fixture
def filed(Session, tmp_path):
    """A file on each of Los Olivos, Torre A, 101, C-2024-100 and its handover of 15/03/2025, whose
    signed record is the handover's file; one on Las Palmas. Returns the ids."""
    with Session.begin() as s:
        p = places(s)
        handover = Handover(unit_id=p["unit"].id, contract_id=p["contract"].id, handed_over_on=date(2025, 3, 15),
                            observations="Sin observaciones.")
        s.add(handover)
        s.flush()
        admin = one(s, User, email="maria@empresa.pe")
        ids = {
            "project": add(s, tmp_path, Owner("project", p["project"].id), "planos.pdf",
                           description="Planos generales", uploaded_by=admin).id,
            "subdivision": add(s, tmp_path, Owner("subdivision", p["subdivision"].id), "reglamento.pdf").id,
            "unit": add(s, tmp_path, Owner("unit", p["unit"].id), "manual-101.pdf").id,
            "contract": add(s, tmp_path, Owner("contract", p["contract"].id), "contrato.pdf").id,
            "handover": add(s, tmp_path, Owner("handover", handover.id), "acta.pdf", data=b"%PDF acta").id,
            "palmas": add(s, tmp_path, Owner("project", one(s, Project, name="Las Palmas").id), "palmas.pdf").id,
        }
        handover.record_file_id = ids["handover"]
        ids["handover_row"] = handover.id
    return ids


def test_for_unit_groups_the_files_by_owner_general_first(Session, filed, tmp_path):
    with Session() as s:
        p = places(s)
        groups = for_unit(s, p["unit"])
        assert labels(groups) == [("Proyecto Los Olivos", ["planos.pdf"]), ("Torre A", ["reglamento.pdf"]),
                                  ("Dpto. 101", ["manual-101.pdf"]), ("Contrato C-2024-100", ["contrato.pdf"]),
                                  ("Entrega 15/03/2025", ["acta.pdf"])]
        assert [g.owner.kind for g in groups] == ["project", "subdivision", "unit", "contract", "handover"]
        assert groups[-1].note == "Sin observaciones." and groups[-1].record_id == filed["handover"]
        planos = groups[0].files[0]
        assert (planos.content_type, planos.size, planos.description, planos.uploaded_by.name) == (
            "application/pdf", len(PDF), "Planos generales", "María Quispe")
        assert planos.sha256 == storage.sha256_hex(PDF)
        assert storage.read_bytes(tmp_path / "files", planos.sha256) == PDF  # content-addressed store
        # the storage unit D-5 of the same torre: no contract, no handover, no files of its own
        assert labels(for_unit(s, p["d5"])) == [("Proyecto Los Olivos", ["planos.pdf"]),
                                                ("Torre A", ["reglamento.pdf"])]


def test_for_ticket_by_unit_else_subdivision_else_project_plus_its_contract(Session, filed):
    with Session.begin() as s:
        t1, t3 = one(s, Ticket, code="AT-000001"), one(s, Ticket, code="AT-000003")
        assert [g.label for g in for_ticket(s, t1)] == [
            "Proyecto Los Olivos", "Torre A", "Dpto. 101", "Contrato C-2024-100", "Entrega 15/03/2025"]
        assert for_ticket(s, t3) == []  # no project, no unit, no contract
        p = places(s)
        t3.project_id, t3.subdivision_id = p["project"].id, p["subdivision"].id
        s.flush()
        s.expire(t3)
        assert labels(for_ticket(s, t3)) == [("Proyecto Los Olivos", ["planos.pdf"]), ("Torre A", ["reglamento.pdf"])]
        # only the contract's number written (no unit): the contract's files and its handover
        t3.project_id, t3.subdivision_id, t3.contract_number = None, None, "C-2024-100"
        s.flush()
        s.expire(t3)
        assert labels(for_ticket(s, t3)) == [("Contrato C-2024-100", ["contrato.pdf"]),
                                             ("Entrega 15/03/2025", ["acta.pdf"])]
        # another project's unit: nothing of Los Olivos
        assert labels(for_ticket(s, one(s, Ticket, code="AT-000002"))) == [("Proyecto Las Palmas", ["palmas.pdf"])]


def test_resolve_place_reads_the_new_ticket_form_names(Session, filed):
    with Session() as s:
        p = places(s)
        assert resolve_place(s, project="Los Olivos", subdivision="Torre A", unit="101") == {
            "project": p["project"], "subdivision": p["subdivision"], "unit": p["unit"], "contract": None}
        assert resolve_place(s, project="Los Olivos", unit="101")["unit"] == p["unit"]  # unique in the project
        # as Nueva atención's intake reads the unit: case and accents ignored
        assert resolve_place(s, project="Los Olivos", subdivision="Torre A", unit=" d-5 ")["unit"].number == "D-5"
        assert resolve_place(s, project="Los Olivos", subdivision="Torre Z", unit="101")["unit"] is None
        assert resolve_place(s, project="Nadie", unit="101") == {
            "project": None, "subdivision": None, "unit": None, "contract": None}
        assert resolve_place(s, project="", contract=" C-2024-100 ")["contract"] == p["contract"]


def test_add_checks_owner_size_and_name(Session, tmp_path):
    with Session.begin() as s:
        unit = places(s)["unit"]
        with pytest.raises(RelatedFileError) as err:
            add(s, tmp_path, Owner("unit", 999_999), "x.pdf")
        assert err.value.field == "owner"
        with pytest.raises(RelatedFileError) as err:
            add(s, tmp_path, Owner("tower", unit.id), "x.pdf")
        assert err.value.field == "owner"
        with pytest.raises(RelatedFileError) as err:
            add(s, tmp_path, Owner("unit", unit.id), "x.pdf", data=b"")
        assert (err.value.field, err.value.message) == ("file", "Elija un archivo (no puede estar vacío).")
        with pytest.raises(RelatedFileError) as err:
            add(s, tmp_path, Owner("unit", unit.id), "big.pdf", data=b"x" * 2_200_000, max_bytes=2 * 1048576)
        assert (err.value.field, err.value.message) == ("file", "El archivo pesa 2.1 MB; el máximo es 2.0 MB.")
        with pytest.raises(RelatedFileError) as err:
            add(s, tmp_path, Owner("unit", unit.id), "x.pdf", description="d" * 501)
        assert err.value.field == "description"
        row = add(s, tmp_path, Owner("unit", unit.id), "../../etc/Pla\u0301no\x00 101.PDF",
                  content_type="Application/PDF; name=x")
        assert (row.filename, row.content_type, row.unit_id) == ("Pláno 101.PDF", "application/pdf", unit.id)
        assert add(s, tmp_path, Owner("unit", unit.id), "", content_type="").filename == "adjunto.bin"
        assert len(s.scalars(select(RelatedFile)).all()) == 2  # the refused ones left nothing


@pytest.mark.parametrize("owners", [{}, {"project_id": "p", "unit_id": "u"}])
def test_exactly_one_owner_is_a_database_rule(Session, owners):
    with Session() as s:
        p = places(s)
        ids = {"project_id": p["project"].id, "unit_id": p["unit"].id}
        s.add(RelatedFile(sha256="0" * 64, filename="x.pdf", content_type="application/pdf", size=1,
                          **{k: ids[k] for k in owners}))
        with pytest.raises(IntegrityError, match="one_owner|CHECK"):
            s.flush()


def test_remove_drops_the_row_and_a_handovers_record_keeps_the_bytes(Session, filed, tmp_path):
    with Session.begin() as s:
        assert remove_file(s, filed["handover"]).filename == "acta.pdf"
        with pytest.raises(RelatedFileError, match="ya no existe"):
            remove_file(s, filed["handover"])
    with Session() as s:
        assert s.get(RelatedFile, filed["handover"]) is None
        handover = s.get(Handover, filed["handover_row"])
        assert handover.record_file_id is None
        groups = for_unit(s, places(s)["unit"])
        assert labels(groups)[-1] == ("Entrega 15/03/2025", [])  # a handover is listed without files
        assert storage.read_bytes(tmp_path / "files", storage.sha256_hex(b"%PDF acta")) == b"%PDF acta"


def write_catalog(tmp_path, handovers: list[dict]):
    path = tmp_path / "catalogo" / "catalog.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump({"handovers": handovers}, allow_unicode=True), encoding="utf-8")
    return path


def test_catalog_loads_handovers_idempotently_with_the_signed_record(Session, tmp_path):
    store = tmp_path / "store"
    (tmp_path / "catalogo" / "actas").mkdir(parents=True)
    (tmp_path / "catalogo" / "actas" / "acta-101.pdf").write_bytes(b"%PDF acta firmada")
    entry = {"project": "Los Olivos", "subdivision": "Torre A", "unit": "101", "contract": "C-2024-100",
             "date": "2025-03-15", "observations": "Puerta roza el piso.", "record": "actas/acta-101.pdf"}
    path = write_catalog(tmp_path, [entry, {"project": "Los Olivos", "unit": "D-5", "date": date(2025, 3, 16)}])
    with Session.begin() as s:
        assert load_catalog(s, path, storage_dir=store).summary() == "handovers: +2 ~0"
    with Session.begin() as s:
        assert load_catalog(s, path, storage_dir=store).summary() == "sin cambios"
    with Session() as s:
        p = places(s)
        h = one(s, Handover, unit_id=p["unit"].id)
        assert (h.contract.number, h.handed_over_on, h.observations) == ("C-2024-100", date(2025, 3, 15),
                                                                         "Puerta roza el piso.")
        assert (h.record_file.filename, h.record_file.handover_id, h.record_file.description) == (
            "acta-101.pdf", h.id, "Acta de entrega firmada")
        assert storage.read_bytes(store, h.record_file.sha256) == b"%PDF acta firmada"
        d5 = one(s, Handover, unit_id=p["d5"].id)
        assert (d5.contract_id, d5.record_file_id, d5.observations) == (None, None, None)
        first_record = h.record_file_id
    # a new scan of the record and new observations: updated, the old record replaced
    (tmp_path / "catalogo" / "actas" / "acta-101.pdf").write_bytes(b"%PDF acta firmada v2")
    write_catalog(tmp_path, [{**entry, "observations": "Corregido."}])
    with Session.begin() as s:
        assert load_catalog(s, path, storage_dir=store).summary() == "handovers: +0 ~2"
    with Session() as s:
        h = one(s, Handover, unit_id=places(s)["unit"].id)
        assert h.observations == "Corregido." and h.record_file_id != first_record
        assert s.get(RelatedFile, first_record) is None
        assert [f.filename for f in s.scalars(select(RelatedFile).where(RelatedFile.handover_id == h.id))] == [
            "acta-101.pdf"]


@pytest.mark.parametrize(("entry", "message"), [
    ({"project": "Los Olivos", "unit": "999", "date": "2025-01-01"},
     "handovers[0]: unidad 'Los Olivos/None/999' no existe"),
    ({"project": "Los Olivos", "date": "2025-01-01"}, "handovers[0]: falta el campo 'unit'"),
    ({"project": "Los Olivos", "unit": "101"}, "handovers[0]: falta el campo 'date'"),
    ({"project": "Los Olivos", "unit": "101", "date": "15/03/2025"}, "fecha '15/03/2025' no válida (AAAA-MM-DD)"),
    ({"project": "Los Olivos", "unit": "101", "date": "2025-03-15", "contract": "C-0"}, "no existe el contrato 'C-0'"),
    ({"project": "Los Olivos", "unit": "101", "date": "2025-03-15", "record": "nada.pdf"},
     "no se puede leer el acta 'nada.pdf'"),
])
def test_catalog_handover_errors_say_where(Session, tmp_path, entry, message):
    with Session() as s, pytest.raises(CatalogError) as err:
        load_catalog(s, write_catalog(tmp_path, [entry]), storage_dir=tmp_path / "store")
    assert message in str(err.value)


def test_catalog_load_command_loads_the_examples_handovers(cli):
    from tests.cli_harness import CATALOG

    cli.ok("migrate")
    first = cli.ok("catalog", "load", CATALOG)
    assert "handovers: +4 ~0" in first
    assert cli.ok("catalog", "load", CATALOG).strip() == "catálogo cargado: sin cambios"
    with cli.sessions() as s:
        rosa = s.scalar(select(Handover).join(Contract).where(Contract.number == "CV-2023-0007"))
        assert (rosa.unit.number, rosa.unit.subdivision.name, rosa.handed_over_on) == ("302", "Torre B",
                                                                                     date(2023, 11, 15))
        assert rosa.record_file.filename == "entrega-CV-2023-0007.pdf"
        assert rosa.record_file.content_type == "application/pdf"
        data = storage.read_bytes(cli.home / "var" / "files", rosa.record_file.sha256)
        assert data.startswith(b"%PDF-") and len(data) == rosa.record_file.size
        assert [g.label for g in for_unit(s, rosa.unit)] == ["Entrega 15/11/2023"]  # a contract without files: left out
