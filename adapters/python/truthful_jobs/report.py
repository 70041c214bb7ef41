"""One status report, as the reporter numbers it, journals it and sends it.

Mirrors reporter/src/report.ts, so a journal line means the same thing on both sides.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

Outcome = Literal["applied", "ignored_stale", "refused_fenced", "ignored_terminal", "revived"]
OUTCOMES: frozenset[str] = frozenset({"applied", "ignored_stale", "refused_fenced", "ignored_terminal", "revived"})
ACTIVE: frozenset[str] = frozenset({"queued", "pending", "running"})
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class Report:
    job_id: str
    attempt: int
    #: Strictly increasing per reporter and across restarts: report_job_status() ignores a report
    #: not newer than the last one it applied, so a replay can never regress a job.
    seq: int
    status: str
    progress: float | None = None
    error: str | None = None
    #: When the writer made it (information only: the database orders by seq).
    at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    #: The seed's job fields (user_id, model_name, config, ...) the persist route needs to create
    #: the row. Only the first report of a job carries them.
    row: dict[str, Any] | None = None

    @property
    def mergeable(self) -> bool:
        """A plain heartbeat: worthless once a newer one of the same job and attempt exists.

        Status changes (queued, pending, terminal) and row-creating reports are never merged or
        dropped: losing one changes what the table ends up saying.
        """
        return self.status == "running" and self.row is None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def same_stream(self, other: Report) -> bool:
        return self.job_id == other.job_id and self.attempt == other.attempt

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None or k in ("progress", "error")}

    @staticmethod
    def from_json(value: Any) -> Report | None:
        """None for anything that is not a report (a torn or foreign line)."""
        if not isinstance(value, dict):
            return None
        try:
            job_id, attempt, seq, status = value["job_id"], value["attempt"], value["seq"], value["status"]
        except KeyError:
            return None
        progress, error, row = value.get("progress"), value.get("error"), value.get("row")
        if not (isinstance(job_id, str) and type(attempt) is int and type(seq) is int and isinstance(status, str)):
            return None
        if status not in ACTIVE | TERMINAL or attempt < 1 or seq < 1:
            return None
        if progress is not None and not isinstance(progress, (int, float)):
            return None
        if error is not None and not isinstance(error, str):
            return None
        if row is not None and not isinstance(row, dict):
            return None
        return Report(job_id, attempt, seq, status, None if progress is None else float(progress), error,
                      str(value.get("at", "")), row)


class SeqClock:
    """seq = the clock in microseconds, pushed past the last one handed out.

    The clock keeps seq increasing across restarts (a new process starts above what the old one
    sent); the floor keeps it strict within one process and above anything read back from the
    journal, even if the wall clock steps back.
    """

    def __init__(self, floor: int = 0, now_us: Any = None) -> None:
        self._last = floor
        self._now_us = now_us or (lambda: time.time_ns() // 1000)

    def raise_floor(self, seq: int) -> None:
        self._last = max(self._last, seq)

    def next(self) -> int:
        self._last = max(self._last + 1, int(self._now_us()))
        return self._last
