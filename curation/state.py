"""Batch state beside the curated datasets: the writer lock, the document registry, run log.

* The **lock** (``<curated>/_state/lock``, ``fcntl.flock``) makes sure two runs never write
  ``curated/`` at once; the second waits up to a timeout or exits with a clear message.
* The **registry** (``_state/registry.json``) is keyed by SHA-256: source name, first seen,
  last ingested, pipeline version, status. It is rewritten atomically (temp file + rename).
* The **run log** (``_state/runs.jsonl``) has one JSON line per finished run, for
  ``disclosures status``.
* The **server record** (``_state/prefect-server.json``) names the Prefect server of a running
  ``disclosures serve`` on this folder, so that an ``ingest`` into it reports there too.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

STATE_DIR = "_state"


class LockBusy(RuntimeError):
    """Another run holds the writer lock of this curated folder."""


def state_dir(curated: Path) -> Path:
    path = curated / STATE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


_HELD: dict[Path, int] = {}  # lock file → how many nested holders in this process


@contextlib.contextmanager
def writer_lock(curated: Path, wait_seconds: float = 0.0) -> Iterator[bool]:
    """Hold the curated folder's writer lock; raise :class:`LockBusy` if it stays taken.

    Re-entrant within a process: the command takes the lock before it starts its first
    documents, and the flow it then runs takes it again. Yields whether this call took the
    lock (the holder that took it cleans what a killed run left; nested holders must not,
    as documents may already be writing).
    """
    path = (state_dir(curated) / "lock").resolve()
    if path in _HELD:
        _HELD[path] += 1
        try:
            yield False
        finally:
            _HELD[path] -= 1
        return
    handle = _acquire(path, curated, wait_seconds)
    _HELD[path] = 1
    try:
        yield True
    finally:
        del _HELD[path]
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _acquire(path: Path, curated: Path, wait_seconds: float):
    """The lock file's handle, locked and naming this process; LockBusy after the wait."""
    handle = path.open("a+")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise LockBusy(f"{curated} is being written by {holder}") from None
            time.sleep(0.2)
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} since {now_iso()}")
    handle.flush()
    return handle


def clean_stale_temporaries(curated: Path) -> int:
    """Delete temporary files left by a killed run (never read as data: hidden ``.tmp``)."""
    removed = 0
    if not curated.exists():
        return 0
    for path in curated.rglob(".*.tmp"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _write_json_atomic(path: Path, data: object) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


SERVER_FILE = "prefect-server.json"


def record_server(curated: Path, api_url: str) -> None:
    """Note the Prefect server this process started and serves from (``disclosures serve``)."""
    _write_json_atomic(
        state_dir(curated) / SERVER_FILE,
        {"api_url": api_url, "pid": os.getpid(), "started": now_iso()},
    )


def forget_server(curated: Path) -> None:
    """Remove this process's server record (a record written by another process stays)."""
    recorded = recorded_server(curated)
    if recorded is not None and recorded.get("pid") == os.getpid():
        (curated / STATE_DIR / SERVER_FILE).unlink(missing_ok=True)


def recorded_server(curated: Path) -> dict | None:
    """The server record (``api_url``, ``pid``, ``started``), if there is a readable one;
    whether that server still answers is for the caller to check."""
    try:
        recorded = json.loads((curated / STATE_DIR / SERVER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return recorded if isinstance(recorded, dict) and recorded.get("api_url") else None


def load_registry(curated: Path) -> dict[str, dict]:
    path = state_dir(curated) / "registry.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return {}


def update_registry(curated: Path, summaries: list[dict], version: str) -> dict[str, dict]:
    """Record each processed document under its SHA-256 (first seen is kept)."""
    registry = load_registry(curated)
    stamp = now_iso()
    for summary in summaries:
        sha = summary.get("sha256")
        if not sha:
            continue
        entry = registry.setdefault(sha, {"first_seen": stamp})
        entry.update(
            {
                "doc_id": sha[:16],
                "source_name": summary.get("file"),
                "status": summary.get("status"),
                "reason": summary.get("reason") or "",
            }
        )
        if not summary.get("skipped"):
            entry["last_ingested"] = stamp
            entry["pipeline_version"] = version
    _write_json_atomic(state_dir(curated) / "registry.json", registry)
    return registry


def append_run(curated: Path, record: dict) -> None:
    """One JSON line per finished run (appended; a torn last line is skipped on read)."""
    with (state_dir(curated) / "runs.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_runs(curated: Path, limit: int = 10) -> list[dict]:
    path = curated / STATE_DIR / "runs.jsonl"
    if not path.exists():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            runs.append(json.loads(line))
    return runs[-limit:]
