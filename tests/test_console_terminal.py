"""The console in a real pseudo-terminal (line editor and colour): Ctrl-C, Ctrl-D and /quit end it
at once and keep the round, and a long multi-line paste arrives whole as one message."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.console_driver import ROOT, warm_bank_cache

PROMPT_OPENS = "\x1b[?2004h"


class Terminal:
    def __init__(self, data_dir: Path, *args: str) -> None:
        warm_bank_cache(data_dir)
        env = {**os.environ, "DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", "TERM": "xterm-256color"}
        env.pop("DATABASE_URL", None)
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))  # 40 rows, 100 columns
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

    def _read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536).decode("utf-8", "replace")
        except OSError:  # the child closed the terminal
            return False
        self.out += chunk
        for _ in range(chunk.count("\x1b[6n")):  # the editor asks where the cursor is, as a terminal answers
            os.write(self.master, b"\x1b[20;1R")
        return True

    def read_until(self, needle: str, within: float = 60.0) -> str:
        deadline = time.monotonic() + within
        while needle not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, f"{needle!r} not seen; got:\n{self.out[-2000:]}"
            if not self._read(min(left, 0.5)):
                break
        return self.out

    def prompted(self, after: int = 0) -> None:
        """Wait until the line editor has opened its prompt more than `after` times (it turns
        bracketed paste on each time)."""
        deadline = time.monotonic() + 60
        while self.out.count(PROMPT_OPENS) <= after:
            assert time.monotonic() < deadline, f"no prompt; got:\n{self.out[-2000:]}"
            if not self._read(0.5):
                break

    def plain(self) -> str:
        """What a person reads: the output without colour and cursor escapes."""
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r", "", self.out)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def exited_within(self, seconds: float) -> int | None:
        try:
            return self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


@pytest.mark.parametrize("how", ["ctrl-c key", "SIGINT", "ctrl-d"])
def test_leaving_ends_at_once_and_the_round_is_kept(tmp_path: Path, how: str) -> None:
    term = Terminal(tmp_path, "technical", "easy", "3")
    term.read_until("Question 1/3")
    term.prompted()
    if how == "SIGINT":
        os.killpg(term.proc.pid, signal.SIGINT)  # what a terminal sends its foreground group outside raw mode
    else:
        term.type(b"\x03" if how == "ctrl-c key" else b"\x04")  # the editor reads keys raw: Ctrl-C is a byte
    code = term.exited_within(10)
    assert code == 0, f"{how} left the process running or failing: {term.out[-1500:]}"
    assert "Bye! Your progress is saved" in term.read_until("Bye!", within=5)
    assert "Traceback" not in term.out and "Exception ignored" not in term.out

    again = Terminal(tmp_path)
    assert "Question 1/3" in again.read_until("Question 1/3")  # the round picks up where it was
    again.prompted()
    again.type(b"/quit\r")
    assert again.exited_within(10) == 0


def test_a_long_multi_line_paste_arrives_whole(tmp_path: Path) -> None:
    term = Terminal(tmp_path, "technical", "easy", "3")
    term.read_until("Question 1/3")
    term.prompted()
    term.read_until("Enter sends · Alt-Enter new line")  # the keys are explained under the prompt
    words = "gradient " * 2000  # 18,000 characters: a terminal's line discipline would cut it at 4,095
    term.type(b"\x1b[200~" + f"{words}\nsecond line".encode() + b"\x1b[201~\r")  # a bracketed paste, then Enter
    term.read_until("characters long")
    assert "18,012 characters long; I can take up to 8,000" in term.plain()
    term.prompted(after=term.out.count(PROMPT_OPENS))
    term.type(b"first line\x1b\rsecond line\r")  # Alt-Enter adds a line; Enter sends both as one message
    term.read_until("so far")
    assert "Noted (4 words so far)" in term.plain()
    term.type(b"/quit\r")
    assert term.exited_within(10) == 0
