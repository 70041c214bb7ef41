"""The start-up hook yields at once, runs the pass only once the server answers, and never raises."""
from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from conftest import free_port
from truthful_jobs import startup_reconcile_lifespan


async def _http_server(port: int) -> asyncio.AbstractServer:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
    return await asyncio.start_server(answer, "127.0.0.1", port)


def test_yields_at_once_and_reconciles_only_after_the_port_answers() -> None:
    async def scenario() -> None:
        port = free_port()
        calls: list[float] = []

        async def reconcile() -> str:
            calls.append(time.monotonic())
            await asyncio.sleep(0.2)  # a slow pass must not hold anything up
            return "pass done"

        app: Any = SimpleNamespace(state=SimpleNamespace())
        started = time.monotonic()
        async with startup_reconcile_lifespan(reconcile, ready_url=f"http://127.0.0.1:{port}/", ready_timeout=10)(app):
            assert time.monotonic() - started < 0.1  # start-up is not blocked
            await asyncio.sleep(0.5)
            assert calls == []  # nothing listens yet: a pass now would find the backend unreachable
            bound = time.monotonic()
            server = await _http_server(port)
            assert await app.state.startup_reconcile == "pass done"
            assert calls[0] >= bound
            server.close()

    asyncio.run(scenario())


def test_a_failing_or_hanging_pass_is_logged_not_raised_and_cancelled_at_shutdown() -> None:
    async def scenario() -> None:
        port = free_port()
        server = await _http_server(port)

        async def broken() -> None:
            raise RuntimeError("reconcile-jobs answered 401")

        async def hanging() -> None:
            await asyncio.sleep(3600)

        app: Any = SimpleNamespace(state=SimpleNamespace())
        async with startup_reconcile_lifespan(broken, ready_url=f"http://127.0.0.1:{port}/")(app):
            assert await app.state.startup_reconcile is None
        async with startup_reconcile_lifespan(hanging, ready_url=f"http://127.0.0.1:{port}/", timeout=0.3)(app):
            assert await app.state.startup_reconcile is None  # bounded
        async with startup_reconcile_lifespan(hanging, ready_url=f"http://127.0.0.1:{port}/")(app):
            task = app.state.startup_reconcile
        assert task.cancelled() or task.done()  # shutdown does not wait for it
        server.close()

    asyncio.run(scenario())
