"""A seed-like training backend with the adapter applied (what README "Adopting it" describes).

Like the seed's training_server.py: an in-memory `jobs` dict, POST /api/training/execute, a
training process per job that writes its progress, and monitor_job() that reads it every tick
and calls persist_job(). Unlike the seed: persist_job() is the adapter's, finished jobs become
tombstones, the status answer carries progress evidence, and start-up reconciliation runs in a
lifespan after the port is bound.

Test-only fault routes under /_test/ kill a job's training process (and its monitor), finish a
job, and report the reporter's backlog. Run as a process (so a crash is a real SIGKILL):

    SEED_PORT=8000 SEED_JOURNAL=/tmp/j.jsonl SEED_PERSIST_URL=http://127.0.0.1:3000/api/training/local/jobs \
      python -m seed_server
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from datetime import datetime, timezone
from typing import Any, AsyncIterator

import uvicorn
from fastapi import FastAPI

from truthful_jobs import (HttpTransport, JobReporter, PsycopgTransport, Tombstones, run_command,
                           startup_reconcile_lifespan, training_router)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def create_app(env: dict[str, str]) -> FastAPI:
    port = int(env["SEED_PORT"])
    tick = int(env.get("SEED_TICK_MS", "200")) / 1000
    jobs: dict[str, dict[str, Any]] = {}  # the seed's in-memory state, as it keeps it
    processes: dict[str, dict[str, Any]] = {}  # stands in for progress.json and the child process
    tasks: dict[str, list[asyncio.Task[Any]]] = {}
    tombstones = Tombstones(float(env.get("SEED_TOMBSTONE_SECONDS", "1800")))
    # SEED_PERSIST_SECRET: the persist route's shared secret (examples/nextjs checks it; the stand-in does not).
    secret = {"Authorization": f"Bearer {env['SEED_PERSIST_SECRET']}"} if env.get("SEED_PERSIST_SECRET") else None
    transport = (HttpTransport(env["SEED_PERSIST_URL"], timeout=2, headers=secret) if env.get("SEED_PERSIST_URL")
                 else PsycopgTransport(env["SEED_DATABASE_URL"]))
    reporter = JobReporter(transport, env["SEED_JOURNAL"], backoff=(0.05, 0.5), tombstones=tombstones)

    async def train(job_id: str) -> None:
        """The training process: one step per tick until told to finish (or killed)."""
        proc = processes[job_id]
        while not proc["done"]:
            await asyncio.sleep(tick / 2)
            proc["step"] += 1
            proc["progress"] = min(0.99, proc["step"] / 1000)

    async def monitor_job(job_id: str) -> None:
        """The seed's monitor: reads progress every tick and persists; notices the end."""
        job = jobs[job_id]
        job["status"] = "running"
        job["started_at"] = now_iso()
        await reporter.apersist_job(job)
        while True:
            await asyncio.sleep(tick)
            proc = processes[job_id]
            if proc["step"] != job["current_step"]:
                job.update(current_step=proc["step"], progress=proc["progress"], progress_updated_at=now_iso())
            training = tasks[job_id][0]
            if proc["done"] or training.done():
                if proc["done"]:
                    job.update(status="completed", progress=1.0)
                else:
                    job.update(status="failed", error="training process exited with signal SIGKILL")
                job["completed_at"] = now_iso()
                await reporter.apersist_job(job)  # journaled before it returns; buries a tombstone
                del jobs[job_id]  # the seed forgets finished jobs; the tombstone keeps answering
                return
            await reporter.apersist_job(job)

    async def stop_training(job_id: str) -> str:
        tasks[job_id][0].cancel()
        return "cancelling"

    @contextlib.asynccontextmanager
    async def seed_lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(reporter.close, 1.0)  # the rest stays journaled for the next start

    lifespan: Any = seed_lifespan
    if env.get("SEED_RECONCILE_ARGV"):
        lifespan = startup_reconcile_lifespan(
            run_command(json.loads(env["SEED_RECONCILE_ARGV"]), json.loads(env.get("SEED_RECONCILE_ENV", "{}")),
                        cwd=env.get("SEED_RECONCILE_CWD")),
            ready_url=f"http://127.0.0.1:{port}/api/training/jobs", timeout=120, inner=seed_lifespan)
    app = FastAPI(lifespan=lifespan)
    app.include_router(training_router(jobs, tombstones, cancel=stop_training))

    @app.post("/api/training/execute")
    async def execute(body: dict[str, Any]) -> dict[str, Any]:
        job_id = body.get("job_id") or str(uuid.uuid4())
        job = {"job_id": job_id, "status": "queued", "model_name": body.get("model_name", "seed-model"),
               "user_id": body.get("user_id"), "config": body.get("config", {}), "progress": 0.0,
               "current_step": 0, "progress_updated_at": now_iso(), "error": None, "completed_at": None,
               "attempt": body.get("attempt", 1)}
        jobs[job_id] = job
        await reporter.apersist_job(job)
        processes[job_id] = {"step": 0, "progress": 0.0, "done": False}
        tasks[job_id] = [asyncio.create_task(train(job_id))]
        tasks[job_id].append(asyncio.create_task(monitor_job(job_id)))
        return {"job_id": job_id, "status": "queued"}

    @app.post("/_test/finish/{job_id}")
    async def finish(job_id: str) -> dict[str, Any]:
        processes[job_id]["done"] = True
        return {"ok": True}

    @app.post("/_test/kill_training/{job_id}")
    async def kill_training(job_id: str) -> dict[str, Any]:
        tasks[job_id][0].cancel()
        return {"ok": True}

    @app.post("/_test/kill_monitor/{job_id}")
    async def kill_monitor(job_id: str) -> dict[str, Any]:
        """Scenario 2, second half: the process and its monitor die; the dict keeps saying running."""
        for task in tasks[job_id]:
            task.cancel()
        return {"ok": True}

    @app.get("/_test/state")
    async def state() -> dict[str, Any]:
        task = getattr(app.state, "startup_reconcile", None)
        return {"backlog": reporter.backlog, "jobs": {k: dict(v) for k, v in jobs.items()},
                "startup_reconcile": None if task is None else ("done" if task.done() else "running"),
                "startup_result": task.result() if task is not None and task.done() else None}

    return app


if __name__ == "__main__":
    env = dict(os.environ)
    uvicorn.run(create_app(env), host="127.0.0.1", port=int(env["SEED_PORT"]), log_level="warning")
