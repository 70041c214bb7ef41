"""The adapter against the real Next.js persist route (examples/nextjs/app/api/training/local/jobs),
not the stand-in: the route the README's Next.js kit ships, with its shared secret, over the
local stack. Scenario 3 at its worst, Next.js down exactly when a job completes, ends completed.
"""
from __future__ import annotations

import os
import subprocess
import time
from typing import Any, Callable, Iterator

import httpx
import pytest

from conftest import REPO, Db, Seed, free_port

KIT = REPO / "examples" / "nextjs"
SECRET = "pytest-backend-secret-0123456789"


def running(row: dict[str, Any]) -> bool:
    return bool(row["status"] == "running" and (row["progress"] or 0) > 0)


class NextRoute:
    """The kit served by `next start`; stop() is Next.js down, start() brings it back on the same port."""

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/training/local/jobs"
        self.env = {**os.environ, "DATABASE_URL": database_url, "TRAINING_BACKEND_SECRET": SECRET,
                    "NEXT_TELEMETRY_DISABLED": "1"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["node", str(KIT / "node_modules/next/dist/bin/next"), "start", "-p", str(self.port), "-H", "127.0.0.1"],
            cwd=KIT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        until = time.monotonic() + 60
        while time.monotonic() < until:
            try:
                httpx.post(self.url, json={}, timeout=2)  # any HTTP answer: it is up
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("next start did not answer within 60 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                # next start drains open connections on SIGTERM, which on a loaded machine outlasted 10 s
                # once (CI, 2026-12-05); Next.js being down is all the test needs, so it goes down hard.
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None


@pytest.fixture(scope="module")
def built_kit() -> None:
    # Installs the kit's dependencies and builds it when a source changed (as npm test does).
    subprocess.run(["npx", "--no-install", "tsx", "dev/example/build-next.ts"], cwd=REPO, check=True)


@pytest.fixture()
def next_route(built_kit: None, database_url: str) -> Iterator[NextRoute]:
    route = NextRoute(database_url)
    route.start()
    yield route
    route.stop()


def test_next_down_exactly_when_a_job_completes_ends_completed_through_the_real_route(
        db: Db, next_route: NextRoute, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_PERSIST_URL=next_route.url, SEED_PERSIST_SECRET=SECRET)
    job = seed.execute()
    db.wait_for(job, running)  # the first report created the row through the route
    next_route.stop()  # Next.js down
    seed.post(f"/_test/finish/{job}")
    until = time.monotonic() + 10
    while seed.status(job).json()["status"] != "completed":
        assert time.monotonic() < until
        time.sleep(0.1)
    assert db.row(job)["status"] == "running"  # the final report waits in the journal

    next_route.start()  # back: the journal is replayed through the route
    seed.wait_backlog_empty()
    row = db.wait_for(job, lambda r: r["status"] == "completed")
    assert row["completed_at"] is not None


def test_a_wrong_secret_writes_nothing(db: Db, next_route: NextRoute, seed_factory: Callable[..., Seed]) -> None:
    seed = seed_factory(SEED_PERSIST_URL=next_route.url, SEED_PERSIST_SECRET="not-the-route-secret-000")
    job = seed.execute()
    time.sleep(1.5)  # a few delivery attempts, each answered 401
    count = db.conn.execute("select count(*) from public.local_training_jobs where id = %s", (job,)).fetchone()
    assert count is not None and count[0] == 0
    # A wrong secret is our configuration, not the report: the report is kept to be retried, not dropped.
    assert seed.state()["backlog"] > 0
