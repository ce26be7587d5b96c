"""Jinja2 templates shipped as package data: email/ (one .txt and one .html per event), admin/ (the
panel's pages) and documents/ (the documents of "Generar Documento", rendered to PDF)."""
