"""The backend contract's routes over the seed's in-memory `jobs` dict plus tombstones.

- GET  /api/training/status/{id}: status with progress evidence (progress, current_step, and
  updated_at = when progress last changed). A reconciler counts `running` as a sign of life only
  when that evidence moved since its previous pass: the seed's dict keeps saying `running` after
  its monitor died (scenario 2), and a claim without movement must not keep a dead job alive.
- GET  /api/training/jobs: every job held, tombstones included: one request per pass. With
  `?cursor=C&limit=N` (the contract's optional paging), the jobs after C by job_id, at most N,
  and `next_cursor` (the last job_id of the page; null at the end).
- POST /api/training/cancel/{id} (only when the seed gives a way to stop training).

Unknown jobs answer 404 with a JSON body: the reconciler trusts a JSON 404, not a proxy's HTML one.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from .report import ACTIVE, TERMINAL
from .reporter import fraction, job_field
from .tombstones import Tombstones

#: stop(job_id) asks the training to stop; returns the status to answer ("cancelling" while it stops).
CancelFn = Callable[[str], "str | None | Awaitable[str | None]"]


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(value, (int, float)):  # a time.time() stamp
        return datetime.fromtimestamp(value, timezone.utc).isoformat()
    return str(value)


def status_answer(job_id: str, job: Any) -> dict[str, Any]:
    """One job of the seed's dict, as the contract's status answer."""
    status = str(job_field(job, "status"))
    out: dict[str, Any] = {"job_id": job_id, "status": status}
    if status in ("failed", "cancelled") and (error := job_field(job, "error")) is not None:
        out["error"] = str(error)
    if status in TERMINAL and (done := _iso(job_field(job, "completed_at"))) is not None:
        out["completed_at"] = done
    if (progress := fraction(job_field(job, "progress"))) is not None:
        out["progress"] = progress
    if (step := job_field(job, "current_step")) is not None:
        out["current_step"] = int(step)
    if (moved := _iso(job_field(job, "progress_updated_at", "updated_at"))) is not None:
        out["updated_at"] = moved
    return out


def lookup(job_id: str, jobs: Mapping[str, Any], tombstones: Tombstones | None) -> dict[str, Any] | None:
    """The live job first (its status is the newest), then its tombstone, else None (unknown)."""
    job = jobs.get(job_id)
    if job is not None:
        return status_answer(job_id, job)
    stone = tombstones.get(job_id) if tombstones is not None else None
    return stone.answer() if stone is not None else None


def all_answers(jobs: Mapping[str, Any], tombstones: Tombstones | None) -> list[dict[str, Any]]:
    answers = {job_id: status_answer(job_id, job) for job_id, job in list(jobs.items())}
    for stone in tombstones.all() if tombstones is not None else []:
        answers.setdefault(stone.job_id, stone.answer())
    return list(answers.values())


#: Entries per list page when `limit` is absent or out of range, and the most a page holds.
DEFAULT_LIST_LIMIT = 1000
MAX_LIST_LIMIT = 10000


def list_page(answers: list[dict[str, Any]], cursor: str, limit: int | None) -> dict[str, Any]:
    """Keyset paging over job ids: the reconciler reads the list alongside its own pages of rows
    (both ordered by job id), so it never holds the whole list, and a shard starts at its range."""
    size = limit if limit is not None and 0 < limit <= MAX_LIST_LIMIT else DEFAULT_LIST_LIMIT
    after = sorted((a for a in answers if a["job_id"] > cursor), key=lambda a: a["job_id"])
    page = after[:size]
    return {"jobs": page, "next_cursor": page[-1]["job_id"] if len(after) > size else None}


def training_router(jobs: Mapping[str, Any], tombstones: Tombstones | None = None,
                    cancel: CancelFn | None = None, prefix: str = "/api/training") -> Any:
    """A FastAPI APIRouter; include it in place of the seed's own status route."""
    from fastapi import APIRouter
    from fastapi.responses import JSONResponse

    router = APIRouter(prefix=prefix)

    @router.get("/status/{job_id}")
    async def job_status(job_id: str) -> Any:
        answer = lookup(job_id, jobs, tombstones)
        if answer is None:
            return JSONResponse({"detail": f"job {job_id} not found"}, status_code=404)
        return answer

    @router.get("/jobs")
    async def list_jobs(cursor: str | None = None, limit: int | None = None) -> Any:
        answers = all_answers(jobs, tombstones)
        return {"jobs": answers} if cursor is None else list_page(answers, cursor, limit)

    if cancel is not None:
        @router.post("/cancel/{job_id}")
        async def cancel_job(job_id: str) -> Any:
            answer = lookup(job_id, jobs, tombstones)
            if answer is None:
                return JSONResponse({"detail": f"job {job_id} not found"}, status_code=404)
            if answer["status"] not in ACTIVE:
                return {"job_id": job_id, "status": answer["status"]}  # already stopped: say how
            result = cancel(job_id)
            if inspect.isawaitable(result):
                result = await result
            return {"job_id": job_id, "status": result or "cancelling"}

    return router
