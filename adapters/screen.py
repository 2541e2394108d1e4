"""What every console screen shares, plain or a real terminal: the buttons it drew and the files it saved.

Its own module so the terminal screen (prompt_toolkit, rich) need not import the console adapter,
which loads it lazily only when a real terminal is attached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from bot.core.events import Reply

Buttons = list[tuple[str, str]]  # (label, choice id) of the last reply's buttons


def keep_attachment(reply: Reply, files: Path | None) -> str | None:
    """A terminal cannot show a file: save it in the user's folder and say where."""
    a = reply.attachment
    if a is None:
        return None
    if files is None:
        return f"  [file: {a.filename}, {len(a.data):,} bytes]"
    files.mkdir(parents=True, exist_ok=True)
    target = files / Path(a.filename).name
    target.write_bytes(a.data)
    return f"  [saved {a.filename} ({len(a.data):,} bytes) to {target}]"


class Screen(Protocol):
    """Where the console reads and writes: plain lines (pipes, scripts, tests) or a real terminal."""

    async def read(self) -> str:
        """The next message, prompting for it; "" at end of input, Ctrl-D or Ctrl-C."""
        ...

    def say(self, text: str) -> None: ...

    def show(self, reply: Reply, files: Path | None) -> Buttons: ...
