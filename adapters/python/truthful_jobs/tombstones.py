"""Finished jobs keep answering for a while after the seed forgets them.

Why: the seed drops a job from its `jobs` dict when it finishes. If the final report was lost
(Next.js down exactly then), the reconciler asks the backend, gets 404, and fails the job as
`lost: backend has no record`, although it completed. A tombstone keeps answering `completed` /
`failed` / `cancelled` (with completed_at and error) for a retention window longer than one
reconcile interval (10 min), so the next pass records the truth; then it is forgotten, so memory
stays bounded on a long-running server.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from .report import TERMINAL

#: 30 minutes: three times the reconcile interval, so a pass that is late or fails once still
#: finds the tombstone.
DEFAULT_RETENTION_SECONDS = 30 * 60


def _read(job: Any, name: str) -> Any:
    return job.get(name) if isinstance(job, Mapping) else getattr(job, name, None)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    return str(value)


@dataclass(frozen=True)
class Tombstone:
    job_id: str
    status: str
    completed_at: str
    error: str | None
    progress: float | None
    current_step: int | None
    updated_at: str | None
    buried_at: float

    def answer(self) -> dict[str, Any]:
        """The status endpoint's answer for a finished job."""
        out: dict[str, Any] = {"job_id": self.job_id, "status": self.status, "completed_at": self.completed_at}
        for key in ("error", "progress", "current_step", "updated_at"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        return out


class Tombstones:
    """A registry of finished jobs, forgotten after `retention_seconds`. Thread-safe.

    `clock` (monotonic seconds) is injectable so tests can step time instead of sleeping.
    """

    def __init__(self, retention_seconds: float = DEFAULT_RETENTION_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.retention_seconds = retention_seconds
        self._clock = clock
        self._entries: dict[str, Tombstone] = {}
        self._lock = threading.Lock()

    def bury(self, job_id: str, job: Any) -> Tombstone:
        """Records a finished job (the seed's job dict or object, as it was at the end)."""
        status = str(_read(job, "status"))
        if status not in TERMINAL:
            raise ValueError(f"only a finished job gets a tombstone, not a {status} one")
        now = datetime.now(timezone.utc).isoformat()
        progress = _read(job, "progress")
        step = _read(job, "current_step")
        stone = Tombstone(
            job_id=job_id, status=status,
            completed_at=_iso(_read(job, "completed_at")) or now,
            error=_read(job, "error") if status != "completed" else None,
            progress=None if progress is None else float(progress),
            current_step=None if step is None else int(step),
            updated_at=_iso(_read(job, "updated_at")) or _iso(_read(job, "progress_updated_at")),
            buried_at=self._clock())
        with self._lock:
            self._entries[job_id] = stone
            self._prune_locked()
        return stone

    def get(self, job_id: str) -> Tombstone | None:
        with self._lock:
            self._prune_locked()
            return self._entries.get(job_id)

    def all(self) -> list[Tombstone]:
        with self._lock:
            self._prune_locked()
            return list(self._entries.values())

    def __len__(self) -> int:
        return len(self.all())

    def _prune_locked(self) -> None:
        horizon = self._clock() - self.retention_seconds
        for job_id in [j for j, s in self._entries.items() if s.buried_at <= horizon]:
            del self._entries[job_id]
