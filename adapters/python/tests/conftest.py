"""Fixtures for tests against the local stack: a scratch database migrated like the real one,
a stand-in for the Next.js persist route, the seed-like server as a process, and the project's
real reconciler (the Node CLI, `npm run reconcile -- --once`)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from truthful_jobs import DeliveryError, PsycopgTransport, Report

REPO = Path(__file__).resolve().parents[3]
TESTS = Path(__file__).resolve().parent
SCRATCH_DB = "truthful_jobs_py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@pytest.fixture(scope="session")
def database_url() -> str:
    """A database of its own, with the stand-ins and the migrations the Supabase CLI applies.

    Not skipped when DATABASE_URL is absent: `npm test` always sets it, and a silent skip would
    let the adapter ship untested against the real function.
    """
    admin = os.environ.get("DATABASE_URL")
    if not admin:
        pytest.fail("DATABASE_URL is not set: run these through `npm test` (it starts the local stack), "
                    "or `npm run db:up` and export the DATABASE_URL it prints")
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"drop database if exists {SCRATCH_DB} with (force)")
        conn.execute(f"create database {SCRATCH_DB}")
    url = with_database(admin, SCRATCH_DB)
    for sql in sorted((REPO / "supabase" / "local").glob("*.sql")):
        subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-f", str(sql)], check=True,
                       capture_output=True)
    subprocess.run(["npx", "--no-install", "supabase", "db", "push", "--db-url", f"{url}?sslmode=disable", "--yes"],
                   cwd=REPO, check=True, capture_output=True)
    return url


class Db:
    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def row(self, job_id: str) -> dict[str, Any]:
        cur = self.conn.execute(
            "select e.status, e.effective_status, e.status_reason, e.completed_at, e.progress, e.attempt, j.report_seq "
            "from public.local_training_jobs_effective e join public.local_training_jobs j using (id) "
            "where e.id = %s", (job_id,))
        values = cur.fetchone()
        assert values is not None, f"no row for job {job_id}"
        return dict(zip([c.name for c in cur.description], values))

    def history(self, job_id: str) -> list[tuple[str, str | None]]:
        return [(r[0], r[1]) for r in self.conn.execute(
            "select to_status, reason from public.local_training_job_history where job_id = %s order by id",
            (job_id,)).fetchall()]

    def backdate(self, job_id: str, seconds: float) -> None:
        """As dev/lib/backdate.ts: the row's last sign of life moves into the past.

        Liveness is heartbeat_at and confirmed_until, not updated_at: the row's clock is shifted
        as a whole, so the job was silent `seconds` by either witness.
        """
        with self.conn.transaction():
            self.conn.execute("set local session_replication_role = replica")
            self.conn.execute(
                "update public.local_training_jobs j set updated_at = j.updated_at - shift.by, "
                "heartbeat_at = j.heartbeat_at - shift.by, confirmed_at = j.confirmed_at - shift.by, "
                "confirmed_until = j.confirmed_until - shift.by "
                "from (select id, greatest(heartbeat_at, confirmed_at) - (now() - make_interval(secs => %s)) as by "
                "      from public.local_training_jobs where id = %s) shift "
                "where j.id = shift.id", (seconds, job_id))

    def wait_for(self, job_id: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15) -> dict[str, Any]:
        until = time.monotonic() + timeout
        while True:
            try:
                row = self.row(job_id)
            except AssertionError:
                row = None
            if row is not None and predicate(row):
                return row
            if time.monotonic() > until:
                raise AssertionError(f"job {job_id}: condition not met within {timeout}s; last row {row}")
            time.sleep(0.1)


@pytest.fixture()
def db(database_url: str) -> Iterator[Db]:
    d = Db(database_url)
    # Each test starts from an empty table: a pass looks at every active row.
    d.conn.execute("delete from public.local_training_jobs")
    yield d
    d.conn.close()


class PersistRoute:
    """Stands in for the Next.js persist route: body = job dict + attempt + seq -> report_job_status().

    stop() makes it refuse connections (Next.js down); start() brings it back on the same port.
    """

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/training/local/jobs"
        self.transport = PsycopgTransport(database_url)
        self.lock = threading.Lock()
        self.outcomes: list[tuple[str, str, str]] = []
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        route = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                row = {k: body[k] for k in ("user_id", "model_name", "config") if k in body} or None
                report = Report(body["job_id"], body["attempt"], body["seq"], body["status"], body.get("progress"),
                                body.get("error"), row=row)
                try:
                    with route.lock:
                        outcome = route.transport.send(report)
                    route.outcomes.append((report.job_id, report.status, outcome))
                    self._answer(200, {"outcome": outcome})
                except DeliveryError as error:
                    self._answer(503 if error.retryable else 400, {"error": str(error)})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture()
def persist_route(database_url: str) -> Iterator[PersistRoute]:
    route = PersistRoute(database_url)
    route.start()
    yield route
    route.stop()
    route.transport.close()


class Seed:
    """The seed-like server as a process: crash() is a SIGKILL, restart() keeps port and journal."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env, "SEED_PORT": str(self.port)}
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(TESTS / "seed_server.py")], env=self.env, cwd=TESTS)
        until = time.monotonic() + 30
        while time.monotonic() < until:
            try:
                self.http.get("/api/training/jobs")
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError("seed server did not start")

    def crash(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.crash()
        self.start()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.crash()
            self.proc = None

    def execute(self, **body: Any) -> str:
        return str(self.http.post("/api/training/execute", json={"model_name": "llama-lora", **body}).json()["job_id"])

    def post(self, path: str) -> None:
        self.http.post(path).raise_for_status()

    def state(self) -> dict[str, Any]:
        return dict(self.http.get("/_test/state").json())

    def status(self, job_id: str) -> httpx.Response:
        return self.http.get(f"/api/training/status/{job_id}")

    def wait_backlog_empty(self, timeout: float = 15) -> None:
        until = time.monotonic() + timeout
        while self.state()["backlog"] > 0:
            assert time.monotonic() < until, "the reporter's backlog did not drain"
            time.sleep(0.1)


@pytest.fixture()
def seed_factory(tmp_path: Path) -> Iterator[Callable[..., Seed]]:
    seeds: list[Seed] = []

    def make(**env: str) -> Seed:
        seed = Seed({"SEED_JOURNAL": str(tmp_path / "journal.jsonl"), **env})
        seed.start()
        seeds.append(seed)
        return seed

    yield make
    for seed in seeds:
        seed.stop()


def reconcile_argv(trigger: str = "test", *settings: str) -> list[str]:
    """The CLI's pass; each of `settings` ("grace=0 seconds") overrides the settings row for that run."""
    sets = [arg for s in ("request_timeout=3 seconds", *settings) for arg in ("--set", s)]
    return ["npx", "--no-install", "tsx", "cli/reconcile.ts", "--once", "--json", "--trigger", trigger, *sets]


def reconcile_env(database_url: str, backend_url: str, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "BACKEND_URL": backend_url, **extra}


def reconcile(database_url: str, backend_url: str, **extra: str) -> dict[str, Any]:
    """One pass of the project's real reconciler (the same core the Edge Function runs)."""
    r = subprocess.run(reconcile_argv(), cwd=REPO, capture_output=True, text=True, timeout=120,
                       env={**os.environ, **reconcile_env(database_url, backend_url, **extra)})
    assert r.returncode == 0, f"reconcile failed: {r.stderr[-2000:]}"
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))
