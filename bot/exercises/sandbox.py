"""Run the harness on untrusted Python under bubblewrap, without blocking the event loop.

The sandbox sees the system's programs and libraries, the Python installation and the packages
candidates may import (numpy), all read-only, at the paths they need, and nothing else: no /etc,
no home folders, no project files, a read-only root, no network (its own empty network
namespace), its own pid, IPC and UTS namespaces, a fresh /proc and a minimal /dev. It dies with
its parent. The harness then sets hard limits (address space, CPU seconds, processes, zero file
size, open files) before candidate code runs. Code and tests go in on stdin, results come out on
stdout, so nothing is shared through files. A wall-clock timeout kills the whole process group,
and output beyond a cap is not read.

Run as root, bwrap would leave the code running as uid 0, which is exempt from the process limit;
so as root the sandbox keeps no user namespace and `setpriv` drops to CODE_SANDBOX_UID, with every
capability gone, before Python starts. Run as an ordinary user (recommended), the code runs in a
user namespace that may not create further ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import math
import os
import shutil
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values

from bot.config import ConfigError

PACKAGES = ("numpy",)  # bound read-only under /opt/site in the sandbox
STDOUT_LIMIT = 4_000_000
STDERR_LIMIT = 20_000
START_SECONDS = 5.0  # bwrap, the interpreter and numpy, on a busy machine
HARNESS = Path(__file__).with_name("harness.py")


@dataclass(frozen=True)
class SandboxConfig:
    mode: Literal["bwrap", "off"] = "bwrap"
    uid: int = 65534  # who the code runs as when the bot runs as root (nobody)


def sandbox_config(env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> SandboxConfig:
    """CODE_SANDBOX and CODE_SANDBOX_UID from the environment and `.env`, like every other setting."""
    values: dict[str, str] = {}
    if dotenv is not None and dotenv.exists():
        values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    values.update(os.environ if env is None else env)

    def get(name: str) -> str | None:
        raw = values.get(name)
        return raw.strip() if raw and raw.strip() else None

    mode = (get("CODE_SANDBOX") or "bwrap").lower()
    uid = get("CODE_SANDBOX_UID") or "65534"
    problems = []
    if mode not in ("bwrap", "off"):
        problems.append(f"CODE_SANDBOX must be bwrap or off, got {mode[:20]!r}")
    if not uid.isdigit() or int(uid) == 0:
        problems.append(f"CODE_SANDBOX_UID must be the number of an unprivileged user, got {uid[:20]!r}")
    if problems:
        raise ConfigError(problems)
    return SandboxConfig("bwrap" if mode == "bwrap" else "off", int(uid))


class SandboxUnavailable(Exception):
    """Why code cannot be run on this host, in a sentence for the candidate and the operator."""


@dataclass(frozen=True)
class SandboxRun:
    records: list[dict[str, Any]]  # the harness's JSON lines, in order
    stopped: str  # empty when the harness finished; otherwise why the run ended early
    timed_out: bool  # stopped by the wall clock or the CPU limit
    seconds: float


def _system_binds() -> list[str]:
    args: list[str] = []
    for top in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    return args


def _bind_at_same_path(path: Path) -> list[str]:
    """Parents are created world-traversable: as root, bwrap would make them 0700 and the dropped user could not pass."""
    if path.is_relative_to("/usr"):
        return []
    args: list[str] = []
    for parent in reversed(path.parents[:-1]):
        args += ["--perms", "0755", "--dir", str(parent)]
    return [*args, "--ro-bind", str(path), str(path)]


def _python() -> tuple[Path, Path]:
    """The real interpreter (not the venv's symlink) and the installation it needs."""
    prefix = Path(sys.base_prefix).resolve()
    for candidate in (prefix / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}", Path(sys.executable)):
        real = candidate.resolve()
        if real.is_file() and (real.is_relative_to(prefix) or real.is_relative_to("/usr")):
            return real, prefix
    raise SandboxUnavailable(f"cannot find the Python interpreter under {prefix}")


def _package_binds() -> list[str]:
    args = ["--perms", "0755", "--dir", "/opt", "--perms", "0755", "--dir", "/opt/site"]
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue  # not installed: candidates cannot import it, which the exercise will show
        folder = Path(next(iter(spec.submodule_search_locations)))
        args += ["--ro-bind", str(folder), f"/opt/site/{name}"]
        libs = folder.with_name(f"{name}.libs")  # shared libraries of manylinux wheels, found relative to the package
        if libs.is_dir():
            args += ["--ro-bind", str(libs), f"/opt/site/{libs.name}"]
    return args


def bwrap_command(config: SandboxConfig, bwrap: str, *, disable_userns: bool) -> list[str]:
    """The full command line, ending with the harness; raises SandboxUnavailable when it cannot be built."""
    python, prefix = _python()
    namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    drop: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None or not Path(setpriv).resolve().is_relative_to("/usr"):
            raise SandboxUnavailable("running as root needs setpriv (util-linux) to drop to an unprivileged user")
        namespaces += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        namespaces += ["--cap-add", "CAP_SETPCAP"]
        uid = str(config.uid)
        drop = [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all"]
        drop += ["--bounding-set=-all", "--no-new-privs", "--"]
    else:
        namespaces += ["--unshare-user", *(["--disable-userns"] if disable_userns else [])]
    return [
        bwrap,
        *namespaces,
        "--die-with-parent",
        "--new-session",
        *_system_binds(),
        *_bind_at_same_path(prefix),
        *_package_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--clearenv",
        *("--setenv", "LANG", "C.UTF-8"),
        *("--setenv", "OPENBLAS_NUM_THREADS", "1"),
        *("--setenv", "OMP_NUM_THREADS", "1"),
        *("--chdir", "/"),
        *("--remount-ro", "/"),
        *drop,
        str(python),
        "-I",
        "-S",
        "-B",
        "-c",
        HARNESS.read_text(),
    ]


_probes: dict[tuple[SandboxConfig, str | None], tuple[list[str], str | None]] = {}  # (config, bwrap) -> result


class Sandbox:
    """Runs harness payloads, at most one per CPU at a time, once a probe has shown the host can.

    Probe results are kept for the process, so instances are cheap; their asyncio primitives
    belong to the event loop that first waits on them, so make one per loop.
    """

    def __init__(self, config: SandboxConfig, *, concurrency: int | None = None) -> None:
        self.config = config
        self._command: list[str] = []
        self._probe_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(concurrency or os.cpu_count() or 1)

    async def unavailable(self) -> str | None:
        """None when code can run here; otherwise why not, plainly."""
        key = (self.config, shutil.which("bwrap"))
        async with self._probe_lock:
            if key not in _probes:
                reason = await self._probe(key[1])
                _probes[key] = (self._command, reason)
        self._command, reason = _probes[key]
        return reason

    async def _probe(self, bwrap: str | None) -> str | None:
        if self.config.mode == "off":
            return "code execution is turned off on this server (CODE_SANDBOX=off)"
        if bwrap is None:
            return (
                "bubblewrap (bwrap) is not installed on this server, so code is not run here; the operator "
                "can install it (apt-get install bubblewrap) or set CODE_SANDBOX=off to say so"
            )
        try:
            help_text = await _output([bwrap, "--help"])
            self._command = bwrap_command(self.config, bwrap, disable_userns="--disable-userns" in help_text)
        except SandboxUnavailable as exc:
            return str(exc)
        except OSError as exc:
            return f"bwrap cannot be started: {exc}"
        run = await self._run(payload([], numpy=True, memory_mb=64, cpu_seconds=5), START_SECONDS)
        if run.stopped or not run.records:
            return f"bwrap cannot create a sandbox on this server ({run.stopped}); user namespaces may be disabled"
        return None

    async def run(self, data: dict[str, Any], wall_seconds: float) -> SandboxRun:
        reason = await self.unavailable()
        if reason is not None:
            raise SandboxUnavailable(reason)
        async with self._slots:
            return await self._run(data, START_SECONDS + wall_seconds)

    async def _run(self, data: dict[str, Any], wall_seconds: float) -> SandboxRun:
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group, so one kill reaches everything it started
        )
        stopped, timed_out = "", False
        try:
            stdout, stderr, capped = await asyncio.wait_for(_exchange(proc, json.dumps(data).encode()), wall_seconds)
            if capped:
                stopped = f"it wrote more than {STDOUT_LIMIT // 1_000_000} MB of output"
        except TimeoutError:
            stdout, stderr, timed_out = b"", b"", True
            stopped = f"the whole run was stopped after {wall_seconds:g} s"
        finally:
            if proc.returncode is None:
                _kill_group(proc.pid)
            await proc.wait()
            await _drain(proc)
        records = []
        for line in stdout.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        if not stopped and not (records and records[-1].get("done")):
            stopped = _how_it_ended(proc.returncode, stderr)
            timed_out = "CPU" in stopped
        return SandboxRun(records, stopped, timed_out, time.perf_counter() - start)


def payload(jobs: list[dict[str, Any]], *, numpy: bool, memory_mb: int, cpu_seconds: float) -> dict[str, Any]:
    """What the harness reads: the jobs and the limits every job shares."""
    return {
        "jobs": jobs,
        "numpy": numpy,
        "memory_bytes": memory_mb * 1024 * 1024,
        "cpu_seconds": math.ceil(cpu_seconds),
        "processes": 4,  # counted per user: enough for the harness, too few for a fork bomb
        "value_bytes": 64_000,
        "print_bytes": 2_000,
    }


async def _exchange(proc: asyncio.subprocess.Process, data: bytes) -> tuple[bytes, bytes, bool]:
    """Write stdin and read both pipes at once, stopping at the output caps."""
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None

    async def feed(stdin: asyncio.StreamWriter) -> None:
        try:
            stdin.write(data)
            await stdin.drain()
            stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass  # it died before reading everything; its exit status says why

    async def read(stream: asyncio.StreamReader, limit: int) -> tuple[bytes, bool]:
        chunks, size = [], 0
        while chunk := await stream.read(65_536):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                _kill_group(proc.pid)
                return b"".join(chunks)[:limit], True
        return b"".join(chunks), False

    _, (out, capped), (err, _) = await asyncio.gather(
        feed(proc.stdin), read(proc.stdout, STDOUT_LIMIT), read(proc.stderr, STDERR_LIMIT)
    )
    return out, err, capped


async def _drain(proc: asyncio.subprocess.Process) -> None:
    """Read what a stopped run left in its pipes, so their transports close now rather than when
    garbage-collected after the event loop has gone (a capped or timed-out read stops mid-stream)."""

    async def discard(stream: asyncio.StreamReader | None) -> None:
        while stream is not None and await stream.read(65_536):
            pass

    with contextlib.suppress(TimeoutError):  # a descendant that escaped the group keeps the pipe open
        await asyncio.wait_for(asyncio.gather(discard(proc.stdout), discard(proc.stderr)), 5)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _how_it_ended(returncode: int | None, stderr: bytes) -> str:
    if returncode is not None and returncode < 0:
        return f"it was killed by {signal.Signals(-returncode).name}"
    if returncode is not None and returncode > 128 and returncode - 128 in signal.valid_signals():
        name = signal.Signals(returncode - 128).name
        hint = " (the CPU time limit)" if name in ("SIGKILL", "SIGXCPU") else ""  # or the kernel's OOM killer
        return f"it was killed by {name}{hint}"
    tail = stderr.decode(errors="replace").strip().splitlines()
    return f"it ended with status {returncode}" + (f": {tail[-1][:200]}" if tail else "")


async def _output(command: list[str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return out.decode(errors="replace")
