"""Tombstones answer for a finished job during the retention window, then are forgotten."""
from __future__ import annotations

import pytest

from truthful_jobs import Tombstones


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_answers_terminal_with_completed_at_and_error_then_forgets() -> None:
    clock = Clock()
    stones = Tombstones(retention_seconds=1800, clock=clock)
    stones.bury("a", {"status": "failed", "error": "CUDA out of memory", "progress": 0.4, "current_step": 40,
                      "completed_at": "2025-11-14T10:00:00+00:00"})
    stones.bury("b", {"status": "completed", "error": "ignored for completed", "progress": 1.0})
    a, b = stones.get("a"), stones.get("b")
    assert a is not None and a.answer() == {"job_id": "a", "status": "failed", "completed_at": "2025-11-14T10:00:00+00:00",
                                           "error": "CUDA out of memory", "progress": 0.4, "current_step": 40}
    assert b is not None and b.answer()["status"] == "completed" and "error" not in b.answer()
    assert b.answer()["completed_at"]  # stamped when the seed had none
    clock.now += 601  # one reconcile interval later: still answering
    assert stones.get("a") is not None
    clock.now += 1200
    assert stones.get("a") is None and len(stones) == 0


def test_refuses_an_active_job() -> None:
    with pytest.raises(ValueError):
        Tombstones().bury("a", {"status": "running"})


def test_retention_is_longer_than_one_reconcile_interval_by_default() -> None:
    assert Tombstones().retention_seconds > 600
