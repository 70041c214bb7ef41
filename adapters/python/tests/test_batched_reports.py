"""One call per tick: the reporter hands everything queued to a batching transport at once, and
PsycopgTransport delivers a batch through report_job_statuses() with an outcome per report."""
from __future__ import annotations

import threading
import uuid
from pathlib import Path

from conftest import Db

from truthful_jobs import DeliveryError, JobReporter, PsycopgTransport, Report


class FakeBatchTransport:
    """Counts calls; a job in `refuse` is refused for good, per report."""

    def __init__(self) -> None:
        self.calls: list[list[Report]] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    def send(self, report: Report) -> str:
        raise AssertionError("a batching transport is sent batches")

    def send_batch(self, reports: list[Report]) -> list[str | DeliveryError]:
        with self.lock:
            self.calls.append(list(reports))
        return [DeliveryError("job does not exist", retryable=False) if r.job_id in self.refuse else "applied"
                for r in reports]

    def close(self) -> None:
        pass


def test_a_tick_of_heartbeats_leaves_in_one_call(tmp_path: Path) -> None:
    transport = FakeBatchTransport()
    transport.refuse.add("gone")
    warnings: list[str] = []
    reporter = JobReporter(transport, tmp_path / "j.jsonl", on_warning=warnings.append,  # type: ignore[arg-type]
                           linger=0.2)
    for i in range(50):
        reporter.persist_job({"job_id": f"job-{i}", "status": "running", "progress": i})
    reporter.persist_job({"job_id": "gone", "status": "running"})
    assert reporter.flush(5)
    reporter.close()
    assert len(transport.calls) == 1 and len(transport.calls[0]) == 51
    assert warnings == ["dropped a running report for job gone: job does not exist"]


def test_psycopg_batch_applies_each_report_by_the_rules(database_url: str, db: Db) -> None:
    transport = PsycopgTransport(database_url)
    fresh, other = str(uuid.uuid4()), str(uuid.uuid4())
    user = db.conn.execute("insert into auth.users (email) values (%s) returning id",
                           (f"{fresh}@example.com",)).fetchone()[0]
    row = {"user_id": str(user), "model_name": "m", "config": {}}
    results = transport.send_batch([
        Report(fresh, 1, 10, "running", 0.5, None, row=row),    # creates the row, then applies
        Report(other, 1, 10, "running", 0.5, None, row=row),
        Report(fresh, 1, 5, "running", 0.4, None),              # older: ignored, in array order
        Report(fresh, 1, 11, "completed", 1.0, None),
        Report(str(uuid.uuid4()), 1, 1, "running", None, None),  # unknown job, no row: refused for good
    ])
    transport.close()
    assert results[:4] == ["applied", "applied", "ignored_stale", "applied"]
    assert isinstance(results[4], DeliveryError) and not results[4].retryable
    assert db.row(fresh)["status"] == "completed" and db.row(other)["progress"] == 0.5
