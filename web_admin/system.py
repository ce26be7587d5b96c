"""``/health``: ``{"status": "ok"}`` for load balancers and container health checks (no login,
no rate limit, no database access)."""

from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("system", __name__)


@bp.get("/health")
def health():
    return jsonify(status="ok")
