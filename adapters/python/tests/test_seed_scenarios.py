"""The seed's four scenarios, and Next.js down exactly when a job completes, with the adapter
applied to a seed-like server, against the local stack, the real report_job_status() and the
project's real reconciler (Node CLI).

The reconciler's liveness rule applies throughout: a backend's `running` counts as a sign of life
only when its progress moves between two passes.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

import pytest

from conftest import REPO, Db, PersistRoute, Seed, reconcile, reconcile_argv, reconcile_env


def running(row: dict[str, Any]) -> bool:
    return bool(row["status"] == "running" and (row["progress"] or 0) > 0)


def test_1_backend_crash_and_restart_reconciles_at_start_up_after_the_port_is_bound(
        db: Db, database_url: str, persist_route: PersistRoute, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_PERSIST_URL=persist_route.url)
    job = seed.execute()
    db.wait_for(job, running)
    seed.crash()  # memory lost: the job is gone with the process

    # The restarted server reconciles in its lifespan: after it accepts, without blocking start-up.
    seed.env.update(SEED_RECONCILE_ARGV=json.dumps(reconcile_argv("startup", "grace=0 seconds")),
                    SEED_RECONCILE_CWD=str(REPO), SEED_RECONCILE_ENV=json.dumps(reconcile_env(database_url, seed.url)))
    started = time.monotonic()
    seed.start()
    assert time.monotonic() - started < 10
    assert seed.state()["startup_reconcile"] == "running"  # serving while the pass runs
    until = time.monotonic() + 90
    while seed.state()["startup_reconcile"] != "done":
        assert time.monotonic() < until, "start-up reconcile did not finish"
        time.sleep(0.2)

    row = db.row(job)
    assert row["status"] == "failed" and row["status_reason"].startswith("lost"), row
    trigger, reachable = db.conn.execute(
        "select trigger, backend_reachable from jobs_private.reconcile_passes order by started_at desc limit 1").fetchone()
    assert (trigger, reachable) == ("startup", True)  # it asked a backend that was listening


def test_2_training_process_dies_and_the_monitor_reports_failed(
        db: Db, persist_route: PersistRoute, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_PERSIST_URL=persist_route.url)
    job = seed.execute()
    db.wait_for(job, running)
    seed.post(f"/_test/kill_training/{job}")
    row = db.wait_for(job, lambda r: r["status"] == "failed")
    assert "training process exited" in row["status_reason"]
    answer = seed.status(job).json()  # the tombstone answers after the seed forgot the job
    assert answer["status"] == "failed" and answer["completed_at"] and "SIGKILL" in answer["error"]


def test_2b_training_process_and_monitor_die_backend_still_says_running(
        db: Db, database_url: str, persist_route: PersistRoute, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_PERSIST_URL=persist_route.url)
    job = seed.execute()
    db.wait_for(job, running)
    seed.post(f"/_test/kill_monitor/{job}")  # the dict keeps saying running; progress is frozen
    assert seed.status(job).json()["status"] == "running"
    # A claim without movement from a job silent past the hard timeout is stalled, on the first pass.
    db.backdate(job, 11 * 60)
    reconcile(database_url, seed.url)
    row = db.row(job)
    assert row["status"] == "failed" and "stalled" in (row["status_reason"] or ""), row


def test_3_persist_route_down_while_running_journals_and_replays(
        db: Db, database_url: str, persist_route: PersistRoute, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_PERSIST_URL=persist_route.url)
    job = seed.execute()
    db.wait_for(job, running)
    persist_route.stop()  # Next.js down
    time.sleep(1.0)
    progress_before = seed.status(job).json()["progress"]
    db.backdate(job, 5 * 60)  # silent past the stale threshold, not past the hard timeout
    assert db.row(job)["effective_status"] == "stale"
    # The backend answers running with moving progress: a pass must not fail the job.
    reconcile(database_url, seed.url)
    time.sleep(0.5)
    reconcile(database_url, seed.url)
    row = db.row(job)
    # The second pass saw the progress move: the backend vouches, and readers see running again.
    assert row["status"] == "running" and row["effective_status"] == "running", row
    assert seed.status(job).json()["progress"] > progress_before

    persist_route.start()  # back: the journal is replayed, heartbeats resume
    seed.wait_backlog_empty()
    db.wait_for(job, lambda r: r["effective_status"] == "running" and r["progress"] > progress_before)
    seed.post(f"/_test/finish/{job}")
    row = db.wait_for(job, lambda r: r["status"] == "completed")
    assert row["completed_at"] is not None


def test_3_persist_route_down_exactly_when_the_job_completes_ends_completed(
        db: Db, database_url: str, persist_route: PersistRoute, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_PERSIST_URL=persist_route.url)
    job = seed.execute()
    db.wait_for(job, running)
    persist_route.stop()
    seed.post(f"/_test/finish/{job}")
    until = time.monotonic() + 10
    while seed.status(job).json()["status"] != "completed":
        assert time.monotonic() < until
        time.sleep(0.1)
    assert job not in seed.state()["jobs"]  # the seed forgot it; only the tombstone answers
    assert db.row(job)["status"] == "running"  # the final report is in the journal, not the table

    db.backdate(job, 3 * 60)  # past the grace period: a 404 now would fail it as lost
    summary = reconcile(database_url, seed.url)
    row = db.row(job)
    assert row["status"] == "completed" and row["completed_at"] is not None, (row, summary)

    persist_route.start()
    seed.wait_backlog_empty()  # the journaled final report arrives late: ignored, not a regression
    assert (job, "completed", "ignored_terminal") in persist_route.outcomes
    assert db.row(job)["status"] == "completed"
    assert not any((reason or "").startswith("lost") for _, reason in db.history(job))


def test_3_route_down_at_completion_and_backend_restarts_replays_the_journal_after_restart(
        db: Db, database_url: str, persist_route: PersistRoute, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_PERSIST_URL=persist_route.url)
    job = seed.execute()
    db.wait_for(job, running)
    persist_route.stop()
    seed.post(f"/_test/finish/{job}")
    until = time.monotonic() + 10
    while seed.status(job).json()["status"] != "completed":
        assert time.monotonic() < until
        time.sleep(0.1)
    seed.restart()  # SIGKILL: memory and tombstone gone, the journal on disk survives
    assert seed.status(job).status_code == 404

    db.backdate(job, 3 * 60)
    reconcile(database_url, seed.url)  # the reconciler can only presume it lost
    assert db.row(job)["status"] == "failed"

    persist_route.start()  # the new process replays the journal: the truth wins
    seed.wait_backlog_empty()
    row = db.wait_for(job, lambda r: r["status"] == "completed")
    assert row["status"] == "completed"
    # The first replayed report revives the presumed-dead row (a journaled heartbeat or the final one).
    assert any(j == job and outcome == "revived" for j, _, outcome in persist_route.outcomes)


def test_4_long_running_server_ghosts_are_failed_live_and_finished_jobs_are_not(
        db: Db, database_url: str, persist_route: PersistRoute, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_PERSIST_URL=persist_route.url)
    ghosts = [str(r[0]) for r in db.conn.execute(
        "insert into public.local_training_jobs (model_name, status) "
        "select 'ghost from 11/11', 'running' from generate_series(1, 3) returning id").fetchall()]
    for ghost in ghosts:
        db.backdate(ghost, 3 * 24 * 3600)
    live = seed.execute()
    done = seed.execute()
    db.wait_for(live, running)
    db.wait_for(done, running)
    seed.post(f"/_test/finish/{done}")
    db.wait_for(done, lambda r: r["status"] == "completed")

    summary = reconcile(database_url, seed.url)
    assert summary["backends"][0]["mode"] == "list"  # one request for the whole pass
    for ghost in ghosts:
        row = db.row(ghost)
        assert row["status"] == "failed" and row["status_reason"].startswith("lost"), row
    assert db.row(live)["status"] == "running"
    assert db.row(done)["status"] == "completed"


def test_direct_transport_reports_through_report_job_status(
        db: Db, database_url: str, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_DATABASE_URL=database_url)
    job = seed.execute()
    db.wait_for(job, running)
    seed.post(f"/_test/finish/{job}")
    row = db.wait_for(job, lambda r: r["status"] == "completed")
    assert row["report_seq"] > 0 and row["attempt"] == 1
    assert any(actor.startswith("reporter:") for (actor,) in db.conn.execute(
        "select actor from public.local_training_job_history where job_id = %s", (job,)).fetchall())


def test_status_list_and_cancel_routes_follow_the_contract(
        db: Db, persist_route: PersistRoute, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_PERSIST_URL=persist_route.url)
    job = seed.execute()
    db.wait_for(job, running)
    first = seed.status(job).json()
    time.sleep(0.6)
    second = seed.status(job).json()
    assert first["status"] == "running" and {"progress", "current_step", "updated_at"} <= first.keys()
    assert second["current_step"] > first["current_step"] and second["updated_at"] != first["updated_at"]

    missing = seed.status("00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and "detail" in missing.json()
    assert job in {j["job_id"] for j in seed.http.get("/api/training/jobs").json()["jobs"]}

    assert seed.http.post(f"/api/training/cancel/{job}").json() == {"job_id": job, "status": "cancelling"}
    db.wait_for(job, lambda r: r["status"] == "failed")  # the monitor sees the process stop
    again = seed.http.post(f"/api/training/cancel/{job}").json()
    assert again["status"] == "failed"  # already stopped: says how
    assert seed.http.post("/api/training/cancel/00000000-0000-0000-0000-000000000000").status_code == 404
