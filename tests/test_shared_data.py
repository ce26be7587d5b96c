"""A clone without the shared data sets: the data-set tests skip with one reason outside CI and fail
under CI, naming the folder and the variable (DESIGN.md, "Testing"); every other test still runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared_data import MISSING, REPO, require_shared, shared_dir, shared_names

REASON = "shared data sets not found: ../shared (set ATENCION_SHARED_DIR); looked in {}"
#: A few data-set tests of each shape: reading in the body, through a fixture, parametrized over files.
DATA_SET_TESTS = ["tests/test_zammad_parse.py", "tests/test_corpus.py", "tests/test_parse.py",
                  "-k", "zammad or corpus_is or every_corpus_file"]


def run_pytest(shared: Path, *, ci: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "ATENCION_SHARED_DIR"}}
    env["ATENCION_SHARED_DIR"] = str(shared)
    if ci:
        env["CI"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *DATA_SET_TESTS],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_without_shared_data_sets_they_skip_with_one_reason(tmp_path):
    run = run_pytest(tmp_path, ci=False)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    summary = out.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ skipped(, \d+ deselected)? in .*", summary) and int(summary.split()[0]) >= 4, out
    reasons = {line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("SKIPPED [")}
    assert reasons == {REASON.format(tmp_path)}, out
    assert "empty parameter set" not in out


def test_without_shared_data_sets_ci_fails_naming_the_folder(tmp_path):
    run = run_pytest(tmp_path, ci=True)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    summary = out.strip().splitlines()[-1]
    assert "skipped" not in summary and "passed" not in summary, out
    assert REASON.format(tmp_path) in out


def test_shared_dir_is_the_variable_or_the_folder_next_to_the_clone(monkeypatch, tmp_path):
    monkeypatch.delenv("ATENCION_SHARED_DIR", raising=False)
    assert shared_dir() == REPO.parent / "shared"
    monkeypatch.setenv("ATENCION_SHARED_DIR", str(tmp_path))
    assert shared_dir() == tmp_path
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "B01-x.eml").write_bytes(b"")
    assert require_shared("cases") == tmp_path / "cases"
    assert shared_names("cases") == ["B01-x.eml"]
    assert shared_names("corpus") == [MISSING]


@pytest.mark.parametrize("ci", [False, True])
def test_require_shared_skips_outside_ci_and_fails_under_ci(monkeypatch, tmp_path, ci):
    monkeypatch.setenv("ATENCION_SHARED_DIR", str(tmp_path / "nothing"))
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.fail.Exception if ci else pytest.skip.Exception) as exc:
        require_shared("peer", "zammad")
    assert str(exc.value) == REASON.format(tmp_path / "nothing")
