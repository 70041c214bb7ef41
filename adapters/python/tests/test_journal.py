"""The journal: durable, replayed in order, bounded without ever losing a status change."""
from __future__ import annotations

import json
from pathlib import Path

from truthful_jobs import Journal, Report


def r(seq: int, status: str = "running", job: str = "a", attempt: int = 1, row: dict | None = None) -> Report:
    return Report(job, attempt, seq, status, 0.5 if status == "running" else None, None, row=row)


def test_reads_back_after_restart_in_seq_order(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append([r(5, "completed"), r(3, "queued", row={"model_name": "m"}), r(4)])
    again = Journal(path)
    assert [x.seq for x in again.pending()] == [3, 4, 5]
    assert again.pending()[0].row == {"model_name": "m"}


def test_merges_heartbeats_of_one_job_and_attempt(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append([r(1), r(2), r(3, job="b"), r(4, attempt=2), r(5, "completed")])
    assert sorted((x.job_id, x.attempt, x.seq) for x in journal.pending()) == [("a", 1, 2), ("a", 1, 5), ("a", 2, 4), ("b", 1, 3)]
    journal.append([r(1)])  # an older heartbeat never replaces a newer one
    assert sorted(x.seq for x in journal.pending()) == [2, 3, 4, 5]


def test_bound_drops_oldest_heartbeats_never_status_changes(tmp_path: Path) -> None:
    warnings: list[str] = []
    journal = Journal(tmp_path / "j.jsonl", max_entries=3, on_warning=warnings.append)
    journal.append([r(1, "completed", job="t1"), r(2, job="h1"), r(3, job="h2"), r(4, job="h3"),
                    r(5, "failed", job="t2"), r(6, "queued", job="q", row={})])
    assert sorted(x.seq for x in journal.pending()) == [1, 5, 6]
    assert len(warnings) == 1 and "bound" in warnings[0]
    assert sorted(x.seq for x in Journal(tmp_path / "j.jsonl", max_entries=3).pending()) == [1, 5, 6]


def test_torn_and_foreign_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    good = json.dumps(r(7, "completed").to_json())
    path.write_text(f'{good}\n{{"job_id": "x", "attempt": 1, "seq"\nnot json\n{{"hello": 1}}\n')
    assert [x.seq for x in Journal(path).pending()] == [7]


def test_remove_and_clear_rewrite_the_file(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append([r(1, "queued", row={}), r(2, "completed")])
    journal.remove([1])
    assert [x.seq for x in Journal(path).pending()] == [2]
    journal.clear()
    assert not path.exists()
