"""The console on a real terminal: prompt_toolkit reads (a pasted block arrives whole, Alt-Enter adds
a line, Up recalls earlier messages, Ctrl-C and Ctrl-D leave at once) and rich writes (wrapped to
the terminal's width, ticks and crosses in colour, score blocks as tables, code set apart).

Only loaded when both ends are a terminal; pipes and scripts keep the plain line mode."""

from __future__ import annotations

import re
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from adapters.screen import Buttons, keep_attachment
from adapters.text import fenced_parts
from bot.core.events import Reply

TOOLBAR = " Enter sends · Alt-Enter new line · a paste keeps its lines · /done ends an answer · Ctrl-D leaves "
# "  7.3 Objective functions: 2.5/4 (3)": the score lines of a scorecard, drawn as a table
_SCORE_LINE = re.compile(r"^  (?P<label>[^•·:][^:]*): (?P<score>\d+(?:\.\d+)?)/4(?: \((?P<n>\d+)\))?$")
_STYLES = (("✓", "green"), ("✅", "green"), ("✗", "red"), ("❌", "red"), ("· Not covered", "yellow"))


def _keys() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("escape", "enter")  # Alt-Enter (or Esc then Enter): a new line inside the answer
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return keys


class TerminalScreen:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self._session: PromptSession[str] = PromptSession(
            history=InMemoryHistory(),  # this session only: answers are not written to disk behind /forget's back
            key_bindings=_keys(),
            bottom_toolbar=TOOLBAR,
        )

    async def read(self) -> str:
        try:
            text = await self._session.prompt_async("> ")
            if text.strip().startswith("```") and text.count("```") == 1:  # typed fence: lines up to the closing one
                while (more := await self._session.prompt_async("… ")).strip() != "```":
                    text += "\n" + more
                text += "\n```"
            return text or "\n"  # an empty Enter is an (empty) message, not the end
        except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C: leave now, the round is kept
            return ""

    def say(self, text: str) -> None:
        self.console.print(text)

    def show(self, reply: Reply, files: Path | None) -> Buttons:
        self.console.print()
        self.console.print(rich_reply(reply, files))
        return [(b.label, b.choice_id) for b in reply.buttons]


def rich_reply(reply: Reply, files: Path | None) -> RenderableType:
    parts: list[RenderableType] = []
    for is_code, piece in fenced_parts(reply.text):
        if is_code:
            parts.append(Padding(Text(piece, style="cyan", no_wrap=True), (0, 0, 0, 4)))
        elif piece.strip("\n"):
            parts += _prose(piece.strip("\n"))
    if reply.poll is not None:
        parts += [Text.assemble((f"  {chr(65 + i)}. ", "bold cyan"), o) for i, o in enumerate(reply.poll.options)]
    if (note := keep_attachment(reply, files)) is not None:
        parts.append(Text(note, style="dim"))
    if reply.buttons:
        row = Text("  ")
        for i, b in enumerate(reply.buttons, 1):
            row.append(f"[{i}]", style="bold cyan").append(f" {b.label}   ")
        parts.append(row)
    body = Group(*parts)
    if reply.title:  # a card (scorecard, settings): framed, with its title
        return Panel(body, title=Text(reply.title, style="bold"), title_align="left", border_style="blue")
    return body


def _prose(text: str) -> list[RenderableType]:
    """Lines styled by what they say; runs of "label: x/4" lines become one table."""
    out: list[RenderableType] = []
    scores: list[re.Match[str]] = []
    for line in [*text.split("\n"), None]:
        match = _SCORE_LINE.match(line) if line is not None else None
        if match:
            scores.append(match)
            continue
        if scores:
            out.append(_score_table(scores))
            scores = []
        if line is not None:
            out.append(_styled(line))
    return out


def _styled(line: str) -> Text:
    stripped = line.lstrip()
    for mark, style in _STYLES:
        if stripped.startswith(mark):
            return Text(line, style=style)
    if stripped.startswith(("Score:", "Overall:", "Signal:")) or (line.endswith(":") and not line.startswith(" ")):
        return Text(line, style="bold")
    return Text(line)


def _score_table(rows: list[re.Match[str]]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 2))
    table.add_column("what")
    table.add_column("score", justify="right")
    table.add_column("answers", justify="right", style="dim")
    for m in rows:
        value = float(m["score"])
        colour = "green" if value >= 3 else "yellow" if value >= 2 else "red"
        table.add_row(m["label"], Text(f"{m['score']}/4", style=colour), m["n"] or "")
    return table
