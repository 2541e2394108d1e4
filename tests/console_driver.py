"""Runs `mock-interviewer chat` as a real subprocess and talks to it line by line."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "\n> "


_WARM: dict[tuple[Path, ...], list[Path]] = {}


def warm_bank_cache(data_dir: Path, *extra: Path) -> None:
    """Every test has its own data folder, so every console start would validate the whole bank
    again (seconds of CPU); the validated bank (with `extra` bank folders, as EXTRA_BANK_DIRS
    names them) is built once per test session and copied in."""
    if extra not in _WARM:
        from questions.loader import SHIPPED_DIR, load_bank_cached

        shared = Path(tempfile.mkdtemp(prefix="bank-cache-"))
        load_bank_cached([SHIPPED_DIR, *extra], shared)
        _WARM[extra] = list(shared.glob("bank-*.pickle"))
    (data_dir / "cache").mkdir(parents=True, exist_ok=True)
    for cached in _WARM[extra]:
        shutil.copy(cached, data_dir / "cache" / cached.name)


class ConsoleProcess:
    def __init__(self, data_dir: Path, *args: str, user: str = "tester", env: dict[str, str] | None = None) -> None:
        warm_bank_cache(data_dir)
        full_env = {**os.environ, "DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", **(env or {})}
        full_env.pop("DATABASE_URL", None)  # the console default is the embedded SQLite file
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat", "--user", user, *args],
            cwd=ROOT,
            env=full_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._chunks: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.transcript = ""

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        while ch := self.proc.stdout.read(1):
            self._chunks.put(ch)
        self._chunks.put("")

    def read_turn(self, timeout: float = 30.0) -> str:
        """Everything printed until the next prompt."""
        out = ""
        deadline = time.monotonic() + timeout
        while not out.endswith(PROMPT):
            try:
                ch = self._chunks.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no prompt after {timeout}s; got {out[-500:]!r}") from None
            if ch == "":
                break
            out += ch
        self.transcript += out
        return out

    def send(self, line: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read_turn()

    def close(self) -> tuple[int, str, str]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        rest = ""
        while (ch := self._chunks.get(timeout=30)) != "":
            rest += ch
        code = self.proc.wait(timeout=30)
        assert self.proc.stderr is not None
        return code, rest, self.proc.stderr.read()

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        self.proc.wait(timeout=30)
