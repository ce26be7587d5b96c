"""Render the documents of "Generar Documento": ``templates/documents/<key>.html`` (Jinja2,
autoescaped) to a printable HTML page, and that page to PDF with WeasyPrint.

The same HTML is the panel's preview and the PDF's source, so what staff see is what is sent. It
is self-contained — its CSS inline, the logo a ``data:`` URI (`tickets.documents.Company`) — and
WeasyPrint is given a fetcher that accepts ``data:`` URLs only: text written by staff or clients can
never make the server read a file or call a URL.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tickets.documents import DocumentKind


class RenderError(RuntimeError):
    """The document could not be rendered (a template error, or WeasyPrint failed)."""


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of ``templates/documents`` (HTML autoescaped; an unknown name is an
    error, never a silently empty line in a signed document)."""
    return Environment(loader=PackageLoader("templates", "documents"), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, auto_reload=False)


def render_html(kind: DocumentKind, context: dict, *, preview: bool = False, toolbar: str = "") -> str:
    """The document as one HTML page (A4, print CSS).

    ``context``: `tickets.documents.document_context`. ``preview``: the page is shown in the
    panel — ``toolbar`` (HTML the panel built: its buttons and forms) is placed above the sheet
    and hidden when printed. Raises RenderError when the template fails.
    """
    from markupsafe import Markup

    try:
        return environment().get_template(f"{kind.key}.html").render(
            context, preview=preview, toolbar=Markup(toolbar))
    except Exception as exc:  # TemplateNotFound, UndefinedError…
        raise RenderError(f"plantilla {kind.key}: {exc}") from exc


def render_pdf(html: str) -> bytes:
    """``html`` (from `render_html`) as PDF bytes, A4, fonts embedded (WeasyPrint; Debian's pango).

    Raises RenderError when WeasyPrint cannot render it, and ImportError/OSError when WeasyPrint
    or its system libraries are missing (an installation problem, not a document's)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=False)
    try:
        return HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf()
    except Exception as exc:
        raise RenderError(f"no se pudo generar el PDF: {exc}") from exc


__all__ = ["RenderError", "environment", "render_html", "render_pdf"]
