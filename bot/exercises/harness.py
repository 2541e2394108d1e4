"""Runs inside the sandbox: executes candidate code and reports what each test call returned.

This file is passed to `python -I -S -c`, so it imports nothing from the project. The payload
(code, calls, limits) arrives as JSON on stdin; one JSON line per finished call goes to the
original stdout, while the code's own prints go to a capped buffer and fds 1 and 2 to /dev/null.
Expected values never enter the sandbox: the host compares, so code that tampers with this
harness can at most misreport its own return values.

Limits are set here rather than before exec (preexec_fn is unsafe in a threaded host): after
the interpreter and numpy are loaded, so the memory limit is what the candidate's code may add,
and before any candidate code runs, as hard limits it cannot raise again.
"""

from __future__ import annotations

import functools
import io
import json
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

SITE = "/opt/site"  # where the sandbox binds the packages candidates may import (numpy)


class CaseTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so `except Exception` in the candidate's code does not swallow it."""


class CappedText(io.TextIOBase):
    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self.parts: list[str] = []

    def write(self, s: str) -> int:
        keep = s[: max(self.limit - self.size, 0)]
        self.parts.append(keep)
        self.size += len(keep)
        return len(s)

    def text(self) -> str:
        return "".join(self.parts)


def plain(value: Any, depth: int = 0) -> Any:
    """The value as JSON data: numpy arrays and scalars as lists and numbers, tuples as lists, dict keys as text."""
    if depth > 40:
        raise TypeError("nested too deeply")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return plain(value.tolist(), depth + 1)
    if isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        items = [plain(v, depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    raise TypeError(f"returned a {type(value).__name__}, which is not plain data")


def describe(exc: BaseException) -> str:
    """`ValueError: message (line 4)`, the line being in the candidate's code when the error passed through it."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<answer>"]
    where = f" (line {lines[-1]})" if lines else ""
    message = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}{': ' + message if message else ''}{where}"


def evaluate(call: str, namespace: dict[str, Any]) -> Any:
    return plain(eval(call, namespace))


def alarm(_signum: int, _frame: object) -> None:
    raise CaseTimeout


def timed(fn: Callable[[], Any], seconds: float) -> dict[str, Any]:
    """One bounded call as a record: its status, then its value, or the error and its type."""
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        record = {"status": "ok", "value": fn()}
    except CaseTimeout:
        record = {"status": "timeout"}
    except BaseException as exc:  # the candidate's error, reported, never raised
        record = {"status": "exception", "error": describe(exc), "type": type(exc).__name__}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {**record, "seconds": time.perf_counter() - start}


def set_limits(payload: dict[str, Any]) -> None:
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as f:
        loaded = int(f.read().split()[0]) * page
    for kind, limit in (
        (resource.RLIMIT_AS, loaded + payload["memory_bytes"]),
        (resource.RLIMIT_CPU, payload["cpu_seconds"]),
        (resource.RLIMIT_NPROC, payload["processes"]),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NOFILE, 32),
    ):
        resource.setrlimit(kind, (limit, limit))


def main() -> None:
    payload = json.loads(sys.stdin.buffer.read())
    results = os.fdopen(os.dup(1), "w", buffering=1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    me = os.getpid()

    def emit(record: dict[str, Any]) -> None:
        if os.getpid() != me:  # a process the candidate forked never reports; it just ends
            os._exit(0)
        try:
            line = json.dumps(record)
        except ValueError:  # an int with more digits than Python will print
            line = ""
        if not line or len(line) > payload["value_bytes"]:
            line = json.dumps({**record, "status": "too_large", "value": None})
        results.write(line + "\n")

    sys.path.insert(0, SITE)
    if payload["numpy"]:
        import numpy  # noqa: F401  (loaded before the limits, so it does not count against them)
    sys.setrecursionlimit(10_000)
    signal.signal(signal.SIGALRM, alarm)
    set_limits(payload)
    for j, job in enumerate(payload["jobs"]):
        printed = run_job(j, job, emit, payload["print_bytes"])
        emit({"job": j, "printed": printed})
    emit({"done": True})


def run_job(j: int, job: dict[str, Any], emit: Callable[[dict[str, Any]], None], print_bytes: int) -> str:
    """Setup, the candidate's code, then each call, each bounded by the case time limit; returns what was printed."""
    printed = CappedText(print_bytes)
    sys.stdout = sys.stderr = printed
    namespace: dict[str, Any] = {"__name__": "__answer__"}
    seconds = job["case_seconds"]
    loaded = timed(lambda: exec(compile(job["setup"], "<setup>", "exec"), namespace), seconds)
    if loaded["status"] == "ok":
        loaded = timed(lambda: exec(compile(job["code"], "<answer>", "exec"), namespace), seconds)
    if loaded["status"] == "ok" and not callable(namespace.get(job["function"])):
        loaded = {
            "status": "exception",
            "error": f"no function named {job['function']} is defined",
            "type": "NameError",
        }
    if loaded["status"] != "ok":
        emit({"job": j, "case": "load", **loaded})
        return printed.text()
    for i, call in enumerate(job["calls"]):
        emit({"job": j, "case": i, **timed(functools.partial(evaluate, call, namespace), seconds)})
    return printed.text()


if __name__ == "__main__":
    main()
