"""Console adapter: the engine in a terminal, buttons drawn as numbered choices.

Works with piped standard input (tests, scripts) and ends cleanly at end of input, /quit or Ctrl-C,
keeping the round. A button can be pressed by its number, its letter (quiz options) or its label;
a Skip pressed that way is confirmed first, since a stray digit should not throw a question away.
Code pasted between ``` lines arrives as one message, fences included, so exercises can run it.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import re
import shutil
import sys
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from adapters.screen import Buttons, Screen, keep_attachment
from adapters.text import parse_command
from bot.core.events import ChoiceIn, CommandIn, Inbound, Payload, Reply, TextIn, clean_text

PLATFORM = "console"
GREETING = (
    "mock-interviewer: answer in one or more messages, then /done. /help lists the commands; "
    "/quit, Ctrl-D or Ctrl-C leaves, and your round is kept for next time."
)
BYE = "\nBye! Your progress is saved; run the same command to continue.\n"
QUIT = ("/quit", "/exit")


def parse_line(line: str, buttons: Buttons) -> Payload:
    """A number, a quiz letter or a label picks a button of the last reply; "/word args" is a
    command; the rest is text."""
    stripped = line.strip()
    if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        return ChoiceIn(buttons[int(stripped) - 1][1])
    for label, choice in buttons:
        if stripped and stripped.casefold() == label.casefold():
            return ChoiceIn(choice)
    command = parse_command(line)
    return CommandIn(*command) if command else TextIn(line.rstrip("\n"))


def render(reply: Reply, files: Path | None = None) -> tuple[str, Buttons]:
    lines = [reply.full_text]
    if reply.poll is not None:
        lines += [f"  {chr(65 + i)}. {o}" for i, o in enumerate(reply.poll.options)]
    if (note := keep_attachment(reply, files)) is not None:
        lines.append(note)
    buttons = [(b.label, b.choice_id) for b in reply.buttons]
    if reply.buttons:
        lines.append(_layout([f"[{i}] {b.label}" for i, b in enumerate(reply.buttons, 1)]))
    return "\n".join(lines), buttons


def _layout(cells: list[str], width: int = 78) -> str:
    """Buttons in rows that fit the terminal, not one long line."""
    rows: list[str] = []
    row = ""
    for cell in cells:
        if row and len(row) + 3 + len(cell) > width:
            rows.append(row)
            row = ""
        row = f"{row}   {cell}" if row else cell
    return "\n".join("  " + r for r in [*rows, row])


def user_files(files: Path, user: str) -> Path:
    """Each user's saved files apart: one user's /export never overwrites another's."""
    return files / (re.sub(r"[^\w.-]", "_", user)[:64] or "user")


class PlainScreen:
    """Line by line, as typed or piped; Ctrl-C ends the process at once instead of waiting for a
    blocked readline (the lines come from a daemon thread)."""

    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self._lines = _reader(stdin)
        self._out = stdout

    async def read(self) -> str:
        self._out.write("\n> ")
        self._out.flush()
        line = await self._lines.get()
        if line.strip().startswith("```"):  # a pasted block: everything up to the closing fence
            block = [line.rstrip("\n")]
            while (more := await self._lines.get()) != "":
                block.append(more.rstrip("\n"))
                if more.strip() == "```":
                    break
            return "\n".join(block)
        return line

    def say(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def show(self, reply: Reply, files: Path | None) -> Buttons:
        text, buttons = render(reply, files)
        self.say(f"\n{text}")
        return buttons


def open_screen(stdin: TextIO, stdout: TextIO) -> Screen:
    """A line editor and colour on a real terminal; plain lines for pipes and dumb terminals."""
    interactive = stdin.isatty() and stdout.isatty() and os.environ.get("TERM", "") not in ("", "dumb")
    if interactive:
        from adapters.terminal import TerminalScreen

        return TerminalScreen()
    return PlainScreen(stdin, stdout)


async def run_console(
    dispatch: Callable[[Inbound], Awaitable[list[Reply]]],
    clock: Callable[[], datetime],
    *,
    user: str | None = None,
    first: Payload | None = None,
    screen: Screen | None = None,
    files: Path | None = None,
) -> None:
    screen = screen or open_screen(sys.stdin, sys.stdout)
    name = clean_text(user or getpass.getuser() or "you")
    mine = user_files(files, name) if files is not None else None
    buttons: Buttons = []

    async def send(payload: Payload) -> None:
        nonlocal buttons
        event = Inbound(PLATFORM, "local", "private", name, name, None, clock(), payload, reachable=False)
        for reply in await dispatch(event):
            if shown := screen.show(reply, mine):
                buttons = shown
            if reply.forgotten and mine is not None:
                shutil.rmtree(mine, ignore_errors=True)  # the user's exports and charts go with their data

    screen.say(GREETING)
    await send(first or CommandIn("mock"))
    try:
        while (line := await screen.read()) != "":
            line = clean_text(line)  # bytes that are not UTF-8 arrive as surrogates
            if line.strip().lower() in QUIT:
                break
            payload = parse_line(line, buttons)
            if isinstance(payload, ChoiceIn) and _skips(payload, buttons):
                screen.say("Skip this question? Type y to skip, anything else to keep answering.")
                if (await screen.read()).strip().lower() not in ("y", "yes"):
                    screen.say("Not skipped; carry on.")
                    continue
            await send(payload)
    finally:
        screen.say(BYE)


def _skips(payload: ChoiceIn, buttons: Buttons) -> bool:
    return any(choice == payload.choice_id and label.startswith("Skip") for label, choice in buttons)


def _reader(stdin: TextIO) -> asyncio.Queue[str]:
    """Lines from a daemon thread, "" at the end: Ctrl-C ends the process at once instead of
    waiting for a blocked readline to return."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        try:
            for line in iter(stdin.readline, ""):
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError):
            pass  # the terminal went away (a closed or broken stdin): that is the end of input
        finally:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nobody waits for the end
                loop.call_soon_threadsafe(queue.put_nowait, "")

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return queue
