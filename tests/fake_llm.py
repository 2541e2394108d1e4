"""A fake OpenAI-compatible chat endpoint on 127.0.0.1 with scripted behaviours."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from tests.loopback import serve_on_loopback


class FakeLlm:
    def __init__(self) -> None:
        # good | fabricated | contradicts | malformed | error500 | slow | missing_points | then_good
        self.mode = "good"
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        mode = self.mode
        if mode == "then_good":
            mode = "error500" if len(self.requests) == 1 else "good"
        if mode == "error500":
            return web.json_response({"error": {"message": "overloaded"}}, status=500)
        if mode == "slow":
            await asyncio.sleep(2)
        user = body["messages"][1]["content"]
        count = user.split("Key points:\n")[1].split("\n\nCandidate answer")[0].count("\n") + 1
        if mode == "malformed":
            content = "Sure! Here is my grade: {score: great"
        else:
            points = [{"index": i, "verdict": "states", "quote": "high variance"} for i in range(1, count + 1)]
            if mode == "fabricated":  # a quote the candidate never wrote
                points = [
                    {"index": i, "verdict": "states", "quote": "gradient clipping fixes it"}
                    for i in range(1, count + 1)
                ]
            if mode == "contradicts":
                points[0] = {
                    "index": 1,
                    "verdict": "contradicts",
                    "quote": "high variance",
                    "correction": "It is bias.",
                }
            if mode == "missing_points":
                points = points[:1]
            content = json.dumps({"points": points})
        return web.json_response({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})


@asynccontextmanager
async def running_fake_llm() -> AsyncIterator[FakeLlm]:
    fake = FakeLlm()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    async with serve_on_loopback(app) as url:
        fake.url = f"{url}/v1"
        yield fake
