"""The machine line every bench prints and writes into bench/README.md: CPU model, cores, Python,
SQLite, the load average at the start (this VM is shared: the figures move with it)."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path


def machine(**extra) -> dict:
    """``{"cpu", "cores", "python", "sqlite", "load_average", **extra}`` (e.g. ``postgresql=…``)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "load_average": [round(x, 2) for x in os.getloadavg()], **extra}
