"""Where the background server and the flow host keep their state, and their settings.

Importable alone (the standard library only): a command reads them before it knows whether
the flow host will run it (:mod:`flows.host`), and importing :mod:`flows.background` (the
server's HTTP checks) took ~12 ms more of that time.
"""

from __future__ import annotations

import os
from pathlib import Path

SERVER_DIR_ENV = "BUDGET_DISCLOSURES_SERVER_DIR"
MODE_ENV = "BUDGET_DISCLOSURES_SERVER"  # "background" (default) or "temporary"
IDLE_ENV = "BUDGET_DISCLOSURES_SERVER_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 30.0


def server_dir() -> Path:
    """Where the record, the lock and the server's log live."""
    configured = os.environ.get(SERVER_DIR_ENV)
    if configured:
        return Path(configured)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "budget-disclosures"


def temporary_mode() -> bool:
    """The user asked for a server that lives only as long as each command."""
    return os.environ.get(MODE_ENV, "background").strip().lower() == "temporary"


def idle_minutes() -> float:
    try:
        return max(float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_MINUTES)), 0.05)
    except ValueError:
        return DEFAULT_IDLE_MINUTES
