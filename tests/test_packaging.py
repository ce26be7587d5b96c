"""A non-editable install runs: the wheel carries the migrations and the templates (DESIGN, Layout)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile

from tests.support import REPO


def test_wheel_ships_migrations_and_templates_and_runs(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "dist"), str(REPO)], check=True, cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("atencion-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tickets/migrations/env.py" in names
    assert "tickets/migrations/script.py.mako" in names
    assert any(n.startswith("tickets/migrations/versions/0001_") for n in names)
    assert "templates/email/acknowledgement.txt" in names and "templates/email/acknowledgement.html" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    for name in ("base.html", "login.html", "list.html", "_filters.html", "error.html"):
        assert f"templates/admin/{name}" in names, name
    for name in ("admin_index.html", "_admin_nav.html", "admin_catalog.html", "admin_users.html", "admin_user.html"):
        assert f"templates/admin/{name}" in names, name  # Administración
    assert {"web_admin/static/atencion.css", "web_admin/static/filters.js", "web_admin/static/document.js"} <= names
    for name in ("_base.html", "_letter.html", "carta_recepcion.html", "acta_visita.html", "carta_respuesta.html"):
        assert f"templates/documents/{name}" in names, name  # Generar Documento

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(wheel)], check=True)
    # the installed copy only: the repository is not on the path, the venv's libraries are
    env = {**os.environ, "PYTHONPATH": f"{target}{os.pathsep}{sysconfig.get_paths()['purelib']}",
           "ATENCION_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "ATENCION_DATA_DIR": str(tmp_path / "var")}
    run = subprocess.run([sys.executable, "-I", "-c",
                          "import sys; sys.path[:0] = __import__('os').environ['PYTHONPATH'].split(':');"
                          "import worker.cli, tickets; print(tickets.__file__); sys.argv=['atencion','migrate'];"
                          "worker.cli.main()"],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert str(target) in run.stdout and "esquema al día" in run.stdout

    # the installed panel serves its pages (templates and static files from the wheel)
    serve = subprocess.run([sys.executable, "-I", "-c",
                            "import sys; sys.path[:0] = __import__('os').environ['PYTHONPATH'].split(':');"
                            "import web_admin; app = web_admin.create_app(); c = app.test_client();"
                            "print(web_admin.__file__);"
                            "from mail.outbound.documents import environment;"
                            "print(len(environment().get_template('acta_visita.html').filename) > 0);"
                            "print(c.get('/login').status_code, c.get('/static/atencion.css').status_code)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert serve.returncode == 0, serve.stderr
    assert str(target) in serve.stdout and serve.stdout.splitlines()[-2:] == ["True", "200 200"]
