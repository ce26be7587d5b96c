"""Archivos relacionados end to end in Debian's Chromium (Playwright; tests.test_panel_browser's
browser, live server and page, on tests.panel_harness's panel — no mail involved): the admin
picks Los Olivos → Torre A → Dpto. 101 (each select submits the picker through the small
script), uploads a PDF with a description; then on Nueva atención choosing that project, torre and
unit shows the file in the card «Archivos relacionados» (fetched by static/related_files.js),
and its link downloads the same bytes. SQLite and PostgreSQL, as the other browser tests.
Screenshots: related-files.png and new-ticket-related-files.png always (look at them), and
tests/artifacts/<test>-failure.png on failure.
"""

from __future__ import annotations

from tests.test_panel_browser import (  # noqa: F401 - browser, live_panel and page are fixtures
    ARTIFACTS,
    browser,
    live_panel,
    log_in,
    page,
)

PDF = b"%PDF-1.4\n% Manual del propietario, Dpto. 101\n%%EOF\n"


def test_admin_adds_a_file_to_a_unit_and_a_new_ticket_for_that_unit_shows_it(page):  # noqa: F811
    pg = page
    log_in(pg)
    pg.click("nav >> text=Administración")  # the related files are a page of Administración
    pg.click("#tile-archivos")
    pg.wait_for_url("**/archivos-relacionados")
    # each choice submits the picker (no button press) and lists the next select's options
    pg.select_option("#pick-proyecto", label="Los Olivos")
    pg.wait_for_url("**/archivos-relacionados?proyecto=*")
    pg.select_option("#pick-torre", label="Torre A")
    pg.wait_for_url("**&torre=*")
    pg.select_option("#pick-unidad", label="Dpto. 101")
    pg.wait_for_url("**&unidad=*")
    assert pg.locator("#owner-files h2").inner_text().startswith("Archivos de Dpto. 101")
    assert pg.locator("#no-files").is_visible()
    pg.set_input_files("#rf-file", files=[{"name": "Manual del propietario 101.pdf", "mimeType": "application/pdf",
                                           "buffer": PDF}])
    pg.fill("#rf-description", "Manual del propietario y garantías")
    pg.click("#rf-upload")
    pg.wait_for_selector(".flash-success")
    assert pg.locator(".flash-success").inner_text() == "Archivo «Manual del propietario 101.pdf» agregado."
    assert pg.locator("#files-table tbody tr").count() == 1
    assert "Manual del propietario y garantías" in pg.locator("#files-table").inner_text()
    assert pg.locator("#pick-unidad").input_value() != ""  # still on the unit's page
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "related-files.png"), full_page=True)

    pg.click("nav >> text=Nueva atención")
    pg.wait_for_url("**/atenciones/nueva")
    card = pg.locator("#archivos-relacionados")
    assert "Elija el proyecto y la unidad" in card.inner_text()
    pg.select_option("#project", "Los Olivos")
    pg.wait_for_selector("#subdivision option[value='Torre A']", state="attached")
    pg.select_option("#subdivision", "Torre A")
    pg.fill("#unit", "101")
    link = pg.locator("#archivos-relacionados a:has-text('Manual del propietario 101.pdf')")
    link.wait_for()
    text = pg.locator("#archivos-relacionados").inner_text()
    headings = pg.locator("#archivos-relacionados h3").all_inner_texts()
    assert headings == ["Dpto. 101"]
    assert "Manual del propietario y garantías" in text
    pg.screenshot(path=str(ARTIFACTS / "new-ticket-related-files.png"), full_page=True)
    with pg.expect_download() as info:
        link.click()
    assert info.value.suggested_filename == "Manual del propietario 101.pdf"
    assert open(info.value.path(), "rb").read() == PDF
    assert "51 B" in text  # its size
    # another unit of the torre: its card has none of 101's files
    pg.fill("#unit", "D-5")
    pg.wait_for_function("() => !document.getElementById('archivos-relacionados').innerText.includes('Manual')")
    assert "No hay archivos relacionados" in pg.locator("#archivos-relacionados").inner_text()

    # the ticket view of AT-000001 (Los Olivos, Torre A, 101, contract C-2024-100) lists it too
    pg.goto(pg.base + "/atenciones/AT-000001")
    card = pg.locator("#archivos-relacionados")
    assert card.locator("h3").all_inner_texts() == ["Dpto. 101"]
    assert "Manual del propietario 101.pdf" in card.inner_text()
    card.scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / "ticket-related-files.png"), full_page=True)
    with pg.expect_download() as info:
        card.locator("a:has-text('Manual del propietario 101.pdf')").click()
    assert open(info.value.path(), "rb").read() == PDF


def test_deleting_a_related_file_asks_first(page):  # noqa: F811
    """«Eliminar» opens a confirmation (a signed acta is gone for good); only «Sí, eliminar el
    archivo» deletes it."""
    pg = page
    log_in(pg)
    pg.goto(pg.base + "/archivos-relacionados")
    pg.select_option("#pick-proyecto", label="Los Olivos")
    pg.wait_for_url("**/archivos-relacionados?proyecto=*")
    pg.set_input_files("#rf-file", files=[{"name": "Plano Los Olivos.pdf", "mimeType": "application/pdf",
                                           "buffer": PDF}])
    pg.click("#rf-upload")
    pg.wait_for_selector(".flash-success")
    pg.click("#files-table summary:has-text('Eliminar')")
    box = pg.locator("#files-table .confirm-box")
    assert box.is_visible()
    assert "¿Eliminar «Plano Los Olivos.pdf»?" in box.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "related-files-delete-confirm.png"), full_page=True)
    assert pg.locator("#files-table tbody tr").count() == 1  # nothing deleted yet
    box.locator("button:has-text('Sí, eliminar el archivo')").click()
    pg.wait_for_selector(".flash-success")
    assert "Plano Los Olivos.pdf" in pg.locator(".flash-success").inner_text()
    assert pg.locator("#no-files").is_visible()
    assert pg.locator("#pick-proyecto").input_value() != ""  # still on the project's page
