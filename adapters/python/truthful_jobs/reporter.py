"""A drop-in, resilient persist_job() for the seed's training backend.

The seed's persist_job(job) POSTs the whole job to Next.js three times and then gives up, so a
report sent while Next.js is down is lost, and a late or replayed one can regress a job. Here:

- every report carries the job's `attempt` and a strictly increasing `seq`, so
  report_job_status() ignores stale and replayed reports and refuses a superseded attempt;
- persist_job() never waits on the network: a background thread delivers reports in order, all
  that is queued in one call when the transport can batch (PsycopgTransport: one
  report_job_statuses() call per tick, however many jobs run here);
- a status change (terminal above all) is fsync'd to the journal before persist_job() returns,
  and everything undelivered goes there when the route cannot be reached; the journal is replayed
  in order, with backoff and jitter, when the route is back or after a restart.

Mirrors reporter/src/reporter.ts (StatusReporter).
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
import time
from collections.abc import Mapping
from typing import Any, Callable

from .journal import Journal
from .report import Report, SeqClock
from .tombstones import Tombstones
from .transports import DeliveryError, Transport

log = logging.getLogger("truthful_jobs.reporter")

#: The seed's job fields the persist route needs to create the row (sent with a job's first report).
ROW_FIELDS = ("user_id", "model_name", "config", "started_at", "created_at")


def job_field(job: Any, *names: str) -> Any:
    """The seed keeps jobs as dicts or as pydantic/dataclass objects: read either."""
    for name in names:
        value = job.get(name) if isinstance(job, Mapping) else getattr(job, name, None)
        if value is not None:
            return value
    return None


def fraction(progress: Any) -> float | None:
    """report_job_status() takes 0..1; a seed that counts in percent (42.0) is scaled down."""
    if progress is None:
        return None
    value = float(progress)
    if value != value:  # NaN: no usable progress
        return None
    return min(1.0, max(0.0, value / 100 if value > 1 else value))


class JobReporter:
    def __init__(self, transport: Transport, journal_path: str | os.PathLike[str], *,
                 max_journal_entries: int = 10_000, backoff: tuple[float, float] = (0.2, 30.0),
                 tombstones: Tombstones | None = None,
                 on_outcome: Callable[[Report, str], None] | None = None,
                 on_warning: Callable[[str], None] | None = None,
                 jitter: Callable[[], float] = random.random, max_batch: int = 1_000,
                 linger: float = 0.005) -> None:
        self.transport = transport
        self.tombstones = tombstones
        self._warn = on_warning or log.warning
        self._on_outcome = on_outcome
        self._backoff = backoff
        self._jitter = jitter
        self._journal = Journal(journal_path, max_journal_entries, self._warn)
        self._cond = threading.Condition()
        # A backlog left by an earlier process goes first, in order.
        self._queue: list[tuple[Report, bool]] = [(r, True) for r in self._journal.pending()]
        self._seq = SeqClock(max((r.seq for r, _ in self._queue), default=0))
        self._max_batch = max_batch
        self._linger = linger
        # The batch call refused as a whole (an older database without it): one report per call.
        self._single_only = False
        self._in_flight: set[int] = set()  # ids of the reports being sent: a merge must keep them
        self._known: set[str] = {r.job_id for r, _ in self._queue}
        self._fenced: set[tuple[str, int]] = set()
        self._failures = 0
        self._closed = False
        self._thread = threading.Thread(target=self._drain, name="truthful-jobs-reporter", daemon=True)
        self._thread.start()

    # --- the seed's API --------------------------------------------------------------------

    def persist_job(self, job: Any) -> Report | None:
        """Drop-in for the seed's persist_job(job): takes the job dict (or object) as it is.

        Returns at once for a heartbeat; for a status change, once it is durable (journaled).
        A finished job is also kept as a tombstone, so the status endpoint can still answer for it.
        """
        job_id = str(job_field(job, "job_id", "id"))
        status = str(job_field(job, "status"))
        progress = job_field(job, "progress")
        report = self.report(job_id, status, attempt=int(job_field(job, "attempt") or 1),
                             progress=fraction(progress),
                             error=job_field(job, "error"),
                             row={k: v for k in ROW_FIELDS if (v := job_field(job, k)) is not None})
        if report is not None and report.terminal and self.tombstones is not None:
            self.tombstones.bury(job_id, job)
        return report

    async def apersist_job(self, job: Any) -> Report | None:
        """For an async seed: the fsync of a status change happens off the event loop."""
        return await asyncio.to_thread(self.persist_job, job)

    def report(self, job_id: str, status: str, *, attempt: int = 1, progress: float | None = None,
               error: str | None = None, row: dict[str, Any] | None = None) -> Report | None:
        """Numbers and queues one report; None when a newer attempt owns the job (stay quiet)."""
        with self._cond:
            if self._closed:
                raise RuntimeError(f"reporter is closed: report for job {job_id} not taken")
            if (job_id, attempt) in self._fenced:
                return None
            first = job_id not in self._known
            self._known.add(job_id)
            report = Report(job_id, attempt, self._seq.next(), status, progress,
                            error if status in ("failed", "cancelled") else None,
                            row=(row or {}) if first else None)
            journaled = False
            if report.mergeable:
                # An unsent heartbeat of the same attempt is worthless once a newer one exists.
                self._queue = [(r, j) for r, j in self._queue
                               if id(r) in self._in_flight or not r.mergeable or not r.same_stream(report)]
            else:
                # A status change must survive a crash from the moment the caller is told it is taken.
                self._journal.append([report])
                journaled = True
            self._queue.append((report, journaled))
            self._cond.notify_all()
            return report

    @property
    def backlog(self) -> int:
        with self._cond:
            return len(self._queue)

    def flush(self, timeout: float = 30.0) -> bool:
        """Waits until everything is delivered, or the time is up (then False)."""
        until = time.monotonic() + timeout
        with self._cond:
            while self._queue and time.monotonic() < until:
                self._failures = min(self._failures, 1)  # skip the long backoff: someone is waiting
                self._cond.notify_all()
                self._cond.wait(min(0.05, max(0.0, until - time.monotonic())))
            return not self._queue

    def close(self, timeout: float = 5.0) -> None:
        """Tries to deliver for a while, then leaves the rest in the journal for the next start."""
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=30)
        with self._cond:
            self._journal.append(r for r, journaled in self._queue if not journaled)
        self.transport.close()

    # --- delivery --------------------------------------------------------------------------

    def _drain(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                batching = hasattr(self.transport, "send_batch") and not self._single_only
                # A tick's reports (one persist_job() per job, in a loop) arrive a few µs apart:
                # wait a moment for the rest, so they leave in one call.
                until = time.monotonic() + (self._linger if batching else 0)
                while len(self._queue) < self._max_batch and not self._closed and time.monotonic() < until:
                    self._cond.wait(until - time.monotonic())
                batch = [r for r, _ in self._queue[:self._max_batch if batching else 1]]
                self._in_flight = {id(r) for r in batch}
            results: list[str | DeliveryError]
            try:
                if batching:
                    results = self.transport.send_batch(batch)  # type: ignore[attr-defined]
                else:
                    results = [self.transport.send(batch[0])]
                error: DeliveryError | None = None
            except DeliveryError as failure:
                results, error = [], failure
            except Exception as failure:  # a transport bug must not kill delivery for good
                results, error = [], DeliveryError(repr(failure), retryable=True)
            with self._cond:
                self._in_flight = set()
                if error is not None and not error.retryable and batching:
                    # The batch call itself is refused, not a report in it: one at a time from now on.
                    self._single_only = True
                    self._warn(f"batched reports refused ({error}); sending one report per call")
                    continue
                if error is not None:
                    results = [error]  # single send: it concerns the head
                retry_later = error is not None and error.retryable
                delivered: list[tuple[Report, str]] = []
                for report, result in zip(batch, results):
                    if isinstance(result, DeliveryError) and result.retryable:
                        retry_later = True  # kept in the queue, in its place
                        continue
                    self._forget(report)
                    if isinstance(result, DeliveryError):
                        self._warn(f"dropped a {report.status} report for job {report.job_id}: {result}")
                    else:
                        delivered.append((report, result))
                        if result == "refused_fenced":
                            self._fence(report)
                if not retry_later:
                    self._failures = 0
                self._cond.notify_all()
                if retry_later:
                    # Unreachable: make the backlog durable, then wait with backoff and jitter.
                    unsaved = [r for r, journaled in self._queue if not journaled]
                    self._journal.append(unsaved)
                    self._queue = [(r, True) for r, _ in self._queue]
                    self._failures += 1
                    base, ceiling = self._backoff
                    delay = min(ceiling, base * 2 ** (self._failures - 1)) * (0.5 + self._jitter() / 2)
                    if self._failures == 1 or self._failures % 20 == 0:
                        self._warn(f"persist path down ({error or 'a report was refused for now'}); "
                                   f"{len(self._queue)} reports journaled, retrying")
                    self._cond.wait(delay)
            if self._on_outcome is not None:
                for report, outcome in delivered:
                    self._on_outcome(report, outcome)

    def _forget(self, head: Report) -> None:
        journaled = any(r is head and j for r, j in self._queue)
        self._queue = [(r, j) for r, j in self._queue if r is not head]
        if not self._queue and len(self._journal):
            self._journal.clear()
        elif journaled:
            self._journal.remove([head.seq])

    def _fence(self, report: Report) -> None:
        if (report.job_id, report.attempt) in self._fenced:
            return  # a batch can carry several of its reports
        self._fenced.add((report.job_id, report.attempt))
        dropped = [r.seq for r, _ in self._queue if r.same_stream(report)]
        self._queue = [(r, j) for r, j in self._queue if not r.same_stream(report)]
        self._journal.remove(dropped)
        self._warn(f"job {report.job_id} was resumed by a newer attempt; "
                   f"reports from attempt {report.attempt} are refused")
