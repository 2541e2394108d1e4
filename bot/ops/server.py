"""The operations listener: /metrics for Prometheus, /healthz and /readyz for orchestrators.

A few GET requests a minute need no web framework: a small asyncio server on the bot's own event
loop. /healthz answering at all shows the loop is responsive (a blocked loop answers nothing and
the probe times out); /readyz runs the readiness checks it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[list[tuple[str, bool, str]]]]  # (name, passed, detail)


class OpsServer:
    def __init__(
        self,
        listen: str,
        ready: ReadinessCheck,
        refresh: Callable[[], Awaitable[None]] | None = None,
        *,
        check_within: float = 5.0,
    ) -> None:
        host, _, port = listen.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self.ready = ready
        self.refresh = refresh
        self.check_within = check_within
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("metrics and health checks on http://%s:%d/metrics, /healthz, /readyz", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self.check_within + 5):
                request = (await reader.readline()).decode("latin-1").split()
                while (await reader.readline()).strip():  # headers: none is needed
                    pass
                status, ctype, body = await self._respond(request)
            head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            writer.write(head.encode("latin-1") + (b"" if request[:1] == ["HEAD"] else body))
            await writer.drain()
        except (TimeoutError, ConnectionError) as exc:
            log.debug("ops listener: request dropped (%s)", type(exc).__name__)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _respond(self, request: list[str]) -> tuple[str, str, bytes]:
        text = "text/plain; charset=utf-8"
        if len(request) < 2 or request[0] not in ("GET", "HEAD"):
            return "405 Method Not Allowed", text, b"GET only\n"
        path = request[1].split("?")[0]
        if path == "/healthz":
            return "200 OK", text, b"ok\n"
        if path == "/readyz":
            try:
                async with asyncio.timeout(self.check_within):
                    checks = await self.ready()
            except TimeoutError:
                checks = [("checks", False, f"did not finish within {self.check_within:g} s")]
            except Exception as exc:  # a check that broke is a failed check, not a dropped probe
                log.warning("readiness check failed", exc_info=True)
                checks = [("checks", False, f"raised {type(exc).__name__}")]
            lines = "".join(f"{'ok' if passed else 'FAIL'} {name}: {detail}\n" for name, passed, detail in checks)
            status = "200 OK" if all(passed for _, passed, _ in checks) else "503 Service Unavailable"
            return status, text, lines.encode()
        if path == "/metrics":
            if self.refresh is not None:
                try:
                    async with asyncio.timeout(self.check_within):
                        await self.refresh()
                except Exception as exc:  # the process figures still go out; the database ones are stale
                    log.warning("metrics: database figures not refreshed (%s)", type(exc).__name__)
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(REGISTRY)
        return "404 Not Found", text, b"try /metrics, /healthz or /readyz\n"
