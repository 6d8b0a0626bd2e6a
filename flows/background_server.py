"""The background Prefect server's own process: the API and UI, stopped when left idle.

    python -m budget_disclosures.flows.background_server --port PORT --idle-minutes 30 --record FILE

Started detached by :mod:`flows.background` (never by hand). It serves Prefect's full server
app (UI included) on 127.0.0.1 through uvicorn in this process, counts the requests it
answers (health checks excepted), and asks uvicorn to stop once none came for the idle
period; on the way out it removes its record, if the record is still its own.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path


class ActivityClock:
    """ASGI middleware noting when the last request (other than a health check) came."""

    def __init__(self, app) -> None:
        self.app = app
        self.last = time.monotonic()

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("type") == "http" and not scope.get("path", "").endswith("/health"):
            self.last = time.monotonic()
        await self.app(scope, receive, send)


def _watch_idle(clock: ActivityClock, server, idle_seconds: float) -> None:
    """Stop the server once it has been idle for ``idle_seconds``."""
    while not server.should_exit:
        time.sleep(min(5.0, max(idle_seconds / 4, 0.2)))
        if time.monotonic() - clock.last >= idle_seconds:
            server.should_exit = True


def _forget(record: Path) -> None:
    """Remove the record if it is still this process's (a replacement keeps its own)."""
    try:
        if json.loads(record.read_text(encoding="utf-8")).get("pid") == os.getpid():
            record.unlink(missing_ok=True)
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle-minutes", type=float, default=30.0)
    parser.add_argument("--record", type=Path, required=True)
    args = parser.parse_args(argv)

    import uvicorn
    from prefect.server.api.server import create_app

    clock = ActivityClock(create_app(final=True))
    config = uvicorn.Config(
        clock, host="127.0.0.1", port=args.port, log_level="error", lifespan="on"
    )
    server = uvicorn.Server(config)
    watcher = threading.Thread(
        target=_watch_idle, args=(clock, server, args.idle_minutes * 60), daemon=True
    )
    watcher.start()
    try:
        server.run()
    finally:
        _forget(args.record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
