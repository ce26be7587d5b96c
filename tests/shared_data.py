"""Where the tests find the shared data sets, and what a test does when they are missing.

The data sets are not part of the project (their licenses and origins stay with them): the hard
cases (``cases/``), the corpus of public .eml samples (``corpus/``, see its MANIFEST), Zammad's parser
expectations (``peer/zammad/``) and the reply-stripping suites (``peer/quotes/``). They live in
``../shared`` next to the clone, or wherever ``ATENCION_SHARED_DIR`` points.

A test that needs one asks ``require_shared("peer", "zammad")`` for its path. When it is missing the
test fails under CI (the ``CI`` environment variable set) and is skipped elsewhere, always with the
one reason of ``missing_reason()`` (DESIGN.md, "Testing"). A parametrized test takes its parameters
from ``shared_names()``, which never leaves pytest an empty list to complain about.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.servers.common import in_ci

ENV_VAR = "ATENCION_SHARED_DIR"
REPO = Path(__file__).resolve().parents[1]
#: The one parameter ``shared_names()`` gives when the data set is missing.
MISSING = "(shared data sets missing)"


def shared_dir() -> Path:
    """The folder of the shared data sets: ``$ATENCION_SHARED_DIR``, else ``../shared`` next to the clone."""
    value = os.environ.get(ENV_VAR)
    return Path(value).expanduser().resolve() if value else REPO.parent / "shared"


def missing_reason(folder: Path) -> str:
    """The one skip (or failure) reason of every data-set test when ``folder`` lacks the data sets."""
    return f"shared data sets not found: ../shared (set {ENV_VAR}); looked in {folder}"


def require_shared(*parts: str) -> Path:
    """The path of a data set or of a file in one, e.g. ``require_shared("cases")``.

    Raises: pytest's Failed under CI, its Skipped elsewhere, when the path does not exist; the reason
    names the data sets' folder and the variable, the same for every test.
    """
    root = shared_dir()
    path = root.joinpath(*parts)
    if path.exists():
        return path
    reason = missing_reason(root)
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def shared_names(*parts: str, keep: Callable[[Path], bool] = Path.is_file) -> list[str]:
    """The files under a data set that ``keep`` accepts, relative to it and sorted: parameters for a test
    that opens each with ``require_shared(*parts, name)``.

    When the data set is missing: ``[MISSING]``, so the test is collected once and ``require_shared``
    skips or fails it with the one reason (an empty list would give pytest's "got empty parameter set").
    """
    folder = shared_dir().joinpath(*parts)
    if not folder.is_dir():
        return [MISSING]
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if keep(p))
