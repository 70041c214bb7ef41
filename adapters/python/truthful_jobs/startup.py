"""Start-up reconciliation that runs after the server accepts requests, and never blocks start-up.

The README's old snippet used @app.on_event("startup") with a synchronous 70 s httpx.post():
uvicorn runs start-up hooks *before* it binds the port, so the pass asked a backend that was not
listening yet (every job looked unreachable), and the server accepted nothing for up to 70 s.

Here a FastAPI `lifespan` schedules one background task: it waits until `ready_url` (this
server, as the reconciler will reach it) answers any HTTP response, then runs the pass with a
bounded timeout. Failures are logged, never raised: the server serves either way.

    app = FastAPI(lifespan=startup_reconcile_lifespan(
        call_function(os.environ["RECONCILE_URL"], os.environ["RECONCILE_SECRET"]),
        ready_url="http://127.0.0.1:8000/api/training/jobs"))
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping, Sequence

import httpx

log = logging.getLogger("truthful_jobs.startup")

Reconcile = Callable[[], Awaitable[Any]]
Lifespan = Callable[[Any], contextlib.AbstractAsyncContextManager[Any]]


def call_function(url: str, secret: str, timeout: float = 70.0, trigger: str = "startup") -> Reconcile:
    """POST the reconcile-jobs Edge Function (timeout above its 60 s deadline)."""
    async def reconcile() -> Any:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, json={"trigger": trigger},
                                         headers={"Authorization": f"Bearer {secret}"})
            response.raise_for_status()
            return response.json()
    return reconcile


def run_command(argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: str | None = None) -> Reconcile:
    """Run the pass from next to the backend: `npm run reconcile -- --once --trigger startup`."""
    async def reconcile() -> Any:
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, env={**os.environ, **(env or {})},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await process.communicate()
        except asyncio.CancelledError:
            process.kill()
            raise
        if process.returncode != 0:
            raise RuntimeError(f"{argv[0]} exited {process.returncode}: {err.decode(errors='replace')[-500:]}")
        return out.decode(errors="replace")
    return reconcile


async def wait_until_accepting(url: str, timeout: float) -> bool:
    """True once `url` answers anything over HTTP (a 404 too: the port is bound and serving)."""
    until = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < until:
            try:
                await client.get(url)
                return True
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    return False


async def reconcile_when_ready(reconcile: Reconcile, ready_url: str, ready_timeout: float = 60.0,
                               timeout: float = 90.0) -> Any:
    """Waits for the server, then runs one pass; logs and returns None instead of raising."""
    if not await wait_until_accepting(ready_url, ready_timeout):
        log.warning("start-up reconcile skipped: %s did not answer within %.0f s", ready_url, ready_timeout)
        return None
    try:
        result = await asyncio.wait_for(reconcile(), timeout)
    except asyncio.TimeoutError:
        log.warning("start-up reconcile gave up after %.0f s; the scheduled pass will catch up", timeout)
        return None
    except Exception as error:  # the server must serve even when the pass cannot run
        log.warning("start-up reconcile failed: %s", error)
        return None
    log.info("start-up reconcile done")
    return result


def startup_reconcile_lifespan(reconcile: Reconcile, *, ready_url: str, ready_timeout: float = 60.0,
                               timeout: float = 90.0, inner: Lifespan | None = None) -> Lifespan:
    """A FastAPI lifespan: schedules the pass in the background and yields at once.

    `inner` is the seed's own lifespan, if it has one (it runs around ours). The task is kept on
    `app.state.startup_reconcile` (tests await it) and cancelled at shutdown.
    """
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with (inner(app) if inner is not None else contextlib.nullcontext()) as state:
            task = asyncio.create_task(reconcile_when_ready(reconcile, ready_url, ready_timeout, timeout),
                                       name="startup-reconcile")
            app.state.startup_reconcile = task
            try:
                yield state
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    return lifespan
