"""A test-only clock for the browser tests: the server's "now" is read from a file the test writes.

The file holds one ISO 8601 instant with its offset (``2026-11-30T09:00:00+07:00``). The clock says
that instant plus the wall time elapsed since the file was written, so time keeps moving in small
steps between the test's jumps (events keep their order) and a rewrite of the file jumps the whole
server, the web requests and the worker loop alike, to a new instant. Nothing in web/ or engine/
knows this class: only tests/e2e/serve_with_clock.py hands it to ``web.create_app``.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


class FileClock:
    """engine.timekeeping.clock.Clock whose time comes from a file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: tuple[int, datetime, float] | None = None  # (mtime_ns, instant, wall time it was written)

    def now(self) -> datetime:
        """Return the instant in the file plus the time since it was written. Raises OSError or ValueError
        when the file is missing or does not hold an aware ISO instant (a broken test set-up, never hidden)."""
        stat = self.path.stat()
        with self._lock:
            if self._seen is None or self._seen[0] != stat.st_mtime_ns:
                instant = datetime.fromisoformat(self.path.read_text().strip())
                if instant.tzinfo is None:
                    raise ValueError(f"{self.path}: the instant needs an offset, got {instant.isoformat()}")
                self._seen = (stat.st_mtime_ns, instant.astimezone(UTC), stat.st_mtime)
            _mtime_ns, instant, written = self._seen
        return instant + timedelta(seconds=max(0.0, time.time() - written))


def set_clock(path: str | os.PathLike[str], instant: datetime) -> None:
    """Move the server's clock to ``instant`` (aware); it runs on from there. Written atomically."""
    if instant.tzinfo is None:
        raise ValueError("set_clock needs an aware datetime")
    target = Path(path)
    scratch = target.with_name(target.name + ".tmp")
    scratch.write_text(instant.isoformat())
    os.replace(scratch, target)
