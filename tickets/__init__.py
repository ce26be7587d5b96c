"""Atención domain: models, codes, SLA, filters and services (no IMAP/SMTP/HTTP here)."""
