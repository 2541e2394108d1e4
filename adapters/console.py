"""Console adapter: the engine in a terminal, buttons drawn as numbered choices.

Works with piped standard input (tests, scripts) and ends cleanly at end of input.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from adapters.text import parse_command
from bot.core.events import ChoiceIn, CommandIn, Inbound, Payload, Reply, TextIn, clean_text

PLATFORM = "console"


def parse_line(line: str, buttons: list[str]) -> Payload:
    """A number picks a button of the last reply; "/word args" is a command; the rest is text."""
    stripped = line.strip()
    if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        return ChoiceIn(buttons[int(stripped) - 1])
    command = parse_command(line)
    return CommandIn(*command) if command else TextIn(line.rstrip("\n"))


def render(reply: Reply, files: Path | None = None) -> tuple[str, list[str]]:
    lines = [reply.full_text]
    if reply.poll is not None:
        lines += [f"  {chr(65 + i)}. {o}" for i, o in enumerate(reply.poll.options)]
    if reply.attachment is not None:
        a = reply.attachment
        if files is not None:
            files.mkdir(parents=True, exist_ok=True)
            target = files / Path(a.filename).name  # a terminal cannot show a file: save it and say where
            target.write_bytes(a.data)
            lines.append(f"  [saved {a.filename} ({len(a.data):,} bytes) to {target}]")
        else:
            lines.append(f"  [file: {a.filename}, {len(a.data):,} bytes]")
    choices = [b.choice_id for b in reply.buttons]
    if reply.buttons:
        lines.append("  " + "   ".join(f"[{i}] {b.label}" for i, b in enumerate(reply.buttons, 1)))
    return "\n".join(lines), choices


async def run_console(
    dispatch: Callable[[Inbound], Awaitable[list[Reply]]],
    clock: Callable[[], datetime],
    *,
    user: str | None = None,
    first: Payload | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    files: Path | None = None,
) -> None:
    name = clean_text(user or getpass.getuser() or "you")
    buttons: list[str] = []

    async def send(payload: Payload) -> None:
        nonlocal buttons
        event = Inbound(PLATFORM, "local", "private", name, name, None, clock(), payload)
        for reply in await dispatch(event):
            text, choices = render(reply, files)
            stdout.write(f"\n{text}\n")
            if choices:
                buttons = choices
        stdout.write("\n> ")
        stdout.flush()

    await send(first or CommandIn("mock"))
    while True:
        line = await asyncio.to_thread(stdin.readline)
        if line == "":
            stdout.write("\nBye! Your progress is saved; run the same command to continue.\n")
            stdout.flush()
            return
        await send(parse_line(clean_text(line), buttons))  # bytes that are not UTF-8 arrive as surrogates
