"""Jinja2 templates shipped as package data: email/ (one .txt and one .html per event)."""
