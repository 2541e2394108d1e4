"""The slash commands Discord shows, with their options; each becomes a command for the engine.

Option types here are what Discord draws as pickers, so their names are engine arguments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Literal

import discord
from discord import app_commands

from bot.rounds.presets import PRESETS

Track = Literal["technical", "behavioral", "mixed", "design", "quiz", "loop", "exercises", "sql", "python"]
Level = Literal["easy", "medium", "hard", "match"]
Length = Literal[3, 5, 8]
DailyAction = Literal["show", "time", "zone", "days", "topics", "difficulty", "role", "pause", "resume", "stop", "now"]
QuizAction = Literal[
    "show", "now", "on", "off", "time", "zone", "days", "count", "open", "difficulty", "topics", "role", "leaderboard"
]
SIMPLE_COMMANDS = {
    "done": "Finish your answer and have it graded",
    "hint": "A hint for the current question (each costs a little score)",
    "skip": "Skip the current question",
    "repeat": "Show the current question again",
    "time": "Time spent on this question and round",
    "pause": "Pause the round; /mock resumes it",
    "stop": "End the round with a scorecard",
    "history": "Your recent rounds and scores",
    "stats": "Your progress by book section, with a chart",
    "export": "Everything stored about you, as files",
    "forget": "Delete everything stored about you",
    "settings": "Daily-question settings (DM) or this channel's quiz settings (server)",
    "leaderboard": "This channel's quiz leaderboard",
    "unlink": "Stop sharing progress with your other platform account",
    "help": "What I can do",
}

OnCommand = Callable[[discord.Interaction[Any], str, Sequence[str]], Awaitable[None]]
OnAnswer = Callable[[discord.Interaction[Any], str], Awaitable[None]]


def add_commands(tree: app_commands.CommandTree[Any], on_command: OnCommand, on_answer: OnAnswer) -> None:
    """Every command on `tree`: those with options here, the rest from SIMPLE_COMMANDS."""

    @tree.command(name="mock", description="Start or resume a mock interview round")
    @app_commands.describe(
        track="What kind of round",
        difficulty="How hard",
        length="How many questions",
        preset="A full loop for a role",
    )
    @app_commands.choices(preset=[app_commands.Choice(name=p.label, value=k) for k, p in PRESETS.items()])
    async def mock(
        interaction: discord.Interaction[Any],
        track: Track | None = None,
        difficulty: Level | None = None,
        length: Length | None = None,
        preset: str | None = None,
    ) -> None:
        args = [str(a) for a in (track, difficulty, length, preset) if a is not None]
        await on_command(interaction, "mock", args)

    @tree.command(name="answer", description="Add to your answer (or press the Answer button for a form)")
    @app_commands.describe(text="Your answer, or the next part of it; /done when you have finished")
    async def answer(interaction: discord.Interaction[Any], text: app_commands.Range[str, 1, 4000]) -> None:
        await on_answer(interaction, text)

    @tree.command(name="daily", description="One question a day by DM at your local time, with spaced repetition")
    @app_commands.describe(action="What to change", value="e.g. 08:30, Europe/Berlin, weekdays, 5 7, medium")
    async def daily(
        interaction: discord.Interaction[Any], action: DailyAction | None = None, value: str | None = None
    ) -> None:
        await on_command(interaction, "daily", _args(action, value))

    @tree.command(name="quiz", description="A quiz drill, or this channel's quiz (server admins set it up)")
    @app_commands.describe(action="Channel quiz setting", value="e.g. 18:00 Europe/Berlin, mon,thu, 5, @role")
    async def quiz(
        interaction: discord.Interaction[Any], action: QuizAction | None = None, value: str | None = None
    ) -> None:
        await on_command(interaction, "quiz", _args(action, value))

    @tree.command(name="ask", description="Ask the interviewer a clarifying question in a system design round")
    @app_commands.describe(question="For example: how many users do we have?")
    async def ask(interaction: discord.Interaction[Any], question: app_commands.Range[str, 1, 300]) -> None:
        await on_command(interaction, "ask", question.split())

    @tree.command(name="link", description="Share progress between your Telegram and Discord accounts")
    @app_commands.describe(code="The code the other platform gave you; leave empty to get one")
    async def link(interaction: discord.Interaction[Any], code: str | None = None) -> None:
        await on_command(interaction, "link", [code] if code else [])

    for name, description in SIMPLE_COMMANDS.items():
        tree.add_command(app_commands.Command(name=name, description=description, callback=_simple(name, on_command)))


def _simple(name: str, on_command: OnCommand) -> Callable[[discord.Interaction[Any]], Coroutine[Any, Any, None]]:
    async def command(interaction: discord.Interaction[Any]) -> None:
        await on_command(interaction, name, [])

    return command


def _args(action: str | None, value: str | None) -> list[str]:
    return ([action] if action and action != "show" else []) + (value.split() if value else [])
