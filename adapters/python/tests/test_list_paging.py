"""The list route's optional paging (`?cursor=`): keyset pages by job id that, followed from an
empty cursor, give every job exactly once; without a cursor, the whole list as before."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from truthful_jobs.routes import training_router


def client_for(jobs: dict[str, dict[str, object]]) -> TestClient:
    app = FastAPI()
    app.include_router(training_router(jobs))
    return TestClient(app)


JOBS = {f"{i:08x}-0000-4000-8000-000000000000": {"status": "running", "progress": 0.5} for i in range(25, 0, -1)}


def test_pages_follow_next_cursor_to_the_end_in_job_id_order() -> None:
    client = client_for(JOBS)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while cursor is not None:
        body = client.get("/api/training/jobs", params={"cursor": cursor, "limit": 10}).json()
        seen += [j["job_id"] for j in body["jobs"]]
        cursor = body["next_cursor"]
        pages += 1
    assert seen == sorted(JOBS)
    assert pages == 3


def test_a_cursor_starts_after_that_job_id() -> None:
    ids = sorted(JOBS)
    body = client_for(JOBS).get("/api/training/jobs", params={"cursor": ids[19], "limit": 10}).json()
    assert [j["job_id"] for j in body["jobs"]] == ids[20:]
    assert body["next_cursor"] is None


def test_without_a_cursor_the_whole_list_as_before() -> None:
    body = client_for(JOBS).get("/api/training/jobs").json()
    assert "next_cursor" not in body
    assert len(body["jobs"]) == 25
