"""The console in a real pseudo-terminal: Ctrl-C and /quit end it at once and keep the round."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.console_driver import ROOT


class Terminal:
    def __init__(self, data_dir: Path, *args: str) -> None:
        env = {**os.environ, "DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
        env.pop("DATABASE_URL", None)
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat", "--user", "tty", *args],
            cwd=ROOT,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self.out = ""

    def read_until(self, needle: str, within: float = 60.0) -> str:
        deadline = time.monotonic() + within
        while needle not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, f"{needle!r} not seen; got:\n{self.out[-2000:]}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    self.out += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:  # the child closed the terminal
                    break
        return self.out

    def exited_within(self, seconds: float) -> int | None:
        try:
            return self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def test_ctrl_c_ends_at_once_and_the_round_is_kept(tmp_path: Path) -> None:
    term = Terminal(tmp_path, "technical", "easy", "3")
    term.read_until("Question 1/3")
    term.read_until("\n> ")
    os.killpg(term.proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's foreground group
    code = term.exited_within(10)
    assert code is not None, "Ctrl-C left the process waiting for Enter"
    assert "Bye! Your progress is saved" in term.read_until("Bye!", within=5)
    assert "Traceback" not in term.out and "Exception ignored" not in term.out

    again = Terminal(tmp_path)
    assert "Question 1/3" in again.read_until("Question 1/3")  # the round picks up where it was
    os.write(again.master, b"/quit\n")
    assert again.exited_within(10) == 0
