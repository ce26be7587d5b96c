"""DESIGN's layout, checked: data flows one way (mail → tickets → outbox → workers), so the domain
package `tickets` imports neither the mail pipeline, the workers, the panel nor their frameworks
(Flask, Dramatiq, imap-tools, aiosmtplib), and `mail` never imports the panel. Read with `ast` from
the source, so an import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    # werkzeug is allowed: tickets.users hashes passwords with werkzeug.security (no web code)
    "tickets": {"mail", "worker", "web_admin", "flask", "flask_login", "flask_wtf", "flask_limiter",
                "dramatiq", "imap_tools", "aiosmtplib"},
    "mail": {"web_admin", "flask", "flask_login", "flask_wtf", "werkzeug"},
}


def imported_roots(path: Path) -> set[str]:
    """The top-level package of every module ``path`` imports (absolute imports only)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    wrong = {str(f.relative_to(ROOT)): sorted(imported_roots(f) & FORBIDDEN[package]) for f in files}
    assert {f: w for f, w in wrong.items() if w} == {}


def test_the_check_sees_a_function_level_import(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def g():\n    from mail.inbound.parse.params import sanitize_filename\n    import flask\n")
    assert imported_roots(f) == {"mail", "flask"}
