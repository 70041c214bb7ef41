"""JobReporter without a database: ordering, durability, outcomes, and the HTTP transport's rules."""
from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from truthful_jobs import DeliveryError, HttpTransport, JobReporter, Report, SeqClock, Tombstones


class FakeTransport:
    """Records what it receives; `down` makes every send a retryable failure."""

    def __init__(self) -> None:
        self.down = False
        self.sent: list[Report] = []
        self.answer: dict[str, str] = {}
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    def send(self, report: Report) -> str:
        with self.lock:
            if self.down:
                raise DeliveryError("connection refused", retryable=True)
            if report.job_id in self.refuse:
                raise DeliveryError("job does not exist", retryable=False)
            self.sent.append(report)
            return self.answer.get(report.job_id, "applied")

    def close(self) -> None:
        pass


def reporter(tmp_path: Path, transport: FakeTransport, **kw: object) -> JobReporter:
    return JobReporter(transport, tmp_path / "journal.jsonl", backoff=(0.01, 0.05), **kw)  # type: ignore[arg-type]


def test_seq_is_strict_and_survives_a_clock_step_back() -> None:
    times = iter([100, 100, 50, 200])
    clock = SeqClock(floor=0, now_us=lambda: next(times))
    assert [clock.next() for _ in range(4)] == [100, 101, 102, 200]


def test_reports_in_order_with_attempt_and_seq(tmp_path: Path) -> None:
    t = FakeTransport()
    rep = reporter(tmp_path, t)
    rep.persist_job({"id": "j1", "status": "queued", "model_name": "m", "user_id": None, "config": {"lr": 1}})
    rep.persist_job({"id": "j1", "status": "running", "progress": 42.0, "attempt": 2})
    rep.persist_job({"id": "j1", "status": "completed", "progress": 1.0, "attempt": 2})
    assert rep.flush(5)
    seqs = [r.seq for r in t.sent]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert t.sent[0].row == {"model_name": "m", "config": {"lr": 1}} and t.sent[1].row is None
    assert t.sent[1].progress == pytest.approx(0.42) and t.sent[1].attempt == 2
    rep.close()


def test_outage_journals_and_a_restart_replays_in_order_above_old_seqs(tmp_path: Path) -> None:
    t = FakeTransport()
    t.down = True
    stones = Tombstones()
    rep = reporter(tmp_path, t, tombstones=stones)
    rep.persist_job({"id": "j1", "status": "running", "progress": 0.1})
    for p in (0.2, 0.3):
        rep.persist_job({"id": "j1", "status": "running", "progress": p})
    rep.persist_job({"id": "j1", "status": "completed", "progress": 1.0})
    assert stones.get("j1") is not None and stones.get("j1").status == "completed"  # type: ignore[union-attr]
    rep.close(timeout=0.2)  # the process stops while the route is down
    assert (tmp_path / "journal.jsonl").exists()

    t.down = False
    again = reporter(tmp_path, t)
    assert again.flush(5)
    assert [r.status for r in t.sent][-1] == "completed"
    assert all(a.seq < b.seq for a, b in zip(t.sent, t.sent[1:]))
    new = again.report("j1", "running")
    assert new is not None and new.seq > t.sent[-1].seq
    again.close()
    assert not (tmp_path / "journal.jsonl").exists()


def test_terminal_report_is_durable_before_persist_job_returns(tmp_path: Path) -> None:
    t = FakeTransport()
    t.down = True
    rep = reporter(tmp_path, t)
    rep.persist_job({"id": "j1", "status": "failed", "error": "OOM"})
    # No close(): a crash right now must not lose it.
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert any('"failed"' in line and "OOM" in line for line in lines)
    t.down = False
    assert rep.flush(5)
    rep.close()


def test_stale_answers_are_not_retried_and_refusals_are_dropped(tmp_path: Path) -> None:
    t = FakeTransport()
    t.answer["old"] = "ignored_stale"
    t.refuse.add("gone")
    warnings: list[str] = []
    rep = reporter(tmp_path, t, on_warning=warnings.append)
    rep.report("old", "running")
    rep.report("gone", "completed")
    rep.report("ok", "running")
    assert rep.flush(5)
    assert [r.job_id for r in t.sent] == ["old", "ok"]
    assert any("dropped a completed report for job gone" in w for w in warnings)
    rep.close()


def test_a_fenced_attempt_goes_quiet(tmp_path: Path) -> None:
    t = FakeTransport()
    t.answer["j"] = "refused_fenced"
    rep = reporter(tmp_path, t, on_warning=lambda m: None)
    rep.report("j", "running", attempt=1)
    assert rep.flush(5)
    assert rep.report("j", "running", attempt=1) is None
    assert rep.report("j", "running", attempt=2) is not None
    rep.close()


def test_heartbeats_queued_during_an_outage_are_merged(tmp_path: Path) -> None:
    t = FakeTransport()
    t.down = True
    rep = reporter(tmp_path, t)
    rep.report("j", "queued", row={})
    for _ in range(50):
        rep.report("j", "running", progress=0.5)
    assert rep.backlog <= 3  # the creation, at most one in flight, the newest heartbeat
    t.down = False
    assert rep.flush(5)
    rep.close()


def _http(handler) -> HttpTransport:  # type: ignore[no-untyped-def]
    return HttpTransport("http://persist.test/api/training/local/jobs",
                         client=httpx.Client(transport=httpx.MockTransport(handler)))


def test_http_transport_sends_the_job_dict_with_attempt_and_seq() -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"outcome": "ignored_terminal"})

    outcome = _http(handler).send(Report("j", 3, 99, "running", 0.5, None, row={"model_name": "m"}))
    assert outcome == "ignored_terminal"
    assert seen[0]["job_id"] == "j" and seen[0]["attempt"] == 3 and seen[0]["seq"] == 99 and seen[0]["model_name"] == "m"


@pytest.mark.parametrize("status,body,retryable", [
    (500, {"error": "boom"}, True), (503, None, True), (429, {}, True), (400, {"error": "bad"}, False),
    (404, {"error": "no such job"}, False), (200, None, True),  # 200 with an HTML body: a proxy, not the route
])
def test_http_transport_classifies_failures(status: int, body: object, retryable: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body) if body is not None else httpx.Response(status, text="<html>")

    with pytest.raises(DeliveryError) as info:
        _http(handler).send(Report("j", 1, 1, "running"))
    assert info.value.retryable is retryable


def test_http_transport_409_is_an_answer_not_an_error() -> None:
    transport = _http(lambda request: httpx.Response(409, json={"outcome": "refused_fenced"}))
    assert transport.send(Report("j", 1, 1, "running")) == "refused_fenced"


def test_http_transport_connection_refused_is_retryable() -> None:
    transport = HttpTransport("http://127.0.0.1:9/api/training/local/jobs", timeout=1)
    with pytest.raises(DeliveryError) as info:
        transport.send(Report("j", 1, 1, "running"))
    assert info.value.retryable
