"""Serving a fake platform (Telegram, Discord, an LLM endpoint) on 127.0.0.1, on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def serve_on_loopback(app: web.Application, port: int = 0) -> AsyncIterator[str]:
    """Yields the base URL, http://127.0.0.1:<port>; nothing listens beyond loopback."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
