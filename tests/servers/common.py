"""What every test server shares: the "unavailable" error, the CI rule, ports, processes, apt.

``obtain()`` is where a missing server becomes a skip outside CI and a failure under CI (the
environment variable ``CI`` set), never the other way round (DESIGN.md, "Testing").
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class ServerUnavailable(RuntimeError):
    """A test server could not be started or reached."""


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def obtain(factory: Callable[[], T], what: str) -> T:
    """Return ``factory()``; if the server is unavailable, fail under CI, else skip."""
    try:
        return factory()
    except ServerUnavailable as exc:
        if in_ci():
            raise
        import pytest

        pytest.skip(f"{what} unavailable: {exc}")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_root() -> bool:
    return os.geteuid() == 0


def process_gone(pid: int) -> bool:
    """True when ``pid`` has exited: absent from /proc, or a zombie (PID 1 here reaps late)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    # the state follows the parenthesised command name, which may contain spaces
    return stat[stat.rfind(")") + 2 :].startswith(("Z", "X"))


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit; True when it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.02)
    return process_gone(pid)


def apt_install(*packages: str) -> None:
    """Install Debian packages (root only): apt-get update, then apt-get install -y."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    try:
        subprocess.run(["apt-get", *lock, "update"], check=True, env=env)
        subprocess.run(["apt-get", *lock, "install", "-y", *packages], check=True, env=env)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ServerUnavailable(f"could not install {' '.join(packages)}: {exc}") from exc
