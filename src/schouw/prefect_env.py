"""Prefect settings for running on this machine with nothing contacted outside it.

Must run before Prefect is imported: Prefect reads its settings (and creates
``PREFECT_HOME``) at import time. Values already set by the user win, so
``PREFECT_API_URL`` can point at a real server.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def configure_prefect(home: Path | None = None) -> Path:
    """Set a local Prefect home (default: the user's data directory), telemetry off, quiet console logs."""
    home = Path(os.environ.get("PREFECT_HOME") or home or Path(platformdirs.user_data_dir("schouw")) / "prefect")
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_UI_ENABLED": "false",
    }
    for k, v in defaults.items():
        os.environ.setdefault(k, v)
    return home
