"""The background server and the flow host as processes: where they keep their state, their
settings, and how a command locks, recognises and stops them.

Importable alone (the standard library only): a command reads these before it knows whether
the flow host will run it (:mod:`flows.host`), and importing :mod:`flows.background` (the
server's HTTP checks) took ~12 ms more of that time. :mod:`flows.background` and
:mod:`flows.host` share what is here rather than each keeping a copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
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


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold the lock at ``lock_file`` for the block (one command at a time decides whether to
    start a process, or stops one)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def held(lock_file: Path) -> bool:
    """Some process holds the lock at ``lock_file`` now (or it cannot be opened)."""
    try:
        with lock_file.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False
    except OSError:
        return True


def write_record(path: Path, record: dict) -> None:
    """Write a process's JSON record whole or not at all (a reader never sees half of it)."""
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record), encoding="utf-8")
    temporary.replace(path)


def process_alive(pid: int) -> bool:
    """The process exists and has not exited (an exited child not yet reaped by its parent
    is a zombie: not alive)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in "ZX"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def runs_module(pid: int, module: str) -> bool:
    """The process is alive and runs ``python -m module`` (not a reused pid)."""
    try:
        if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] in "ZX":
            return False  # exited, not yet reaped by its parent
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, IndexError):
        cmdline = b""
    if cmdline:
        return module.encode() in cmdline
    # no /proc, or a process caught in exec (its command line reads empty for a moment)
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def terminate(pid: int, running: Callable[[int], bool], wait_seconds: float) -> None:
    """SIGTERM (the process shuts down cleanly), then SIGKILL if it is still ``running``
    after ``wait_seconds``."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if not running(pid):
            return
        time.sleep(0.05)
    if running(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def current_umask() -> int:
    """This process's file mode mask, read without changing it (``os.umask`` sets it, for
    every thread, until it is set back)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
