"""/leaderboard: a group's channel quiz scores, this week and all time."""

from __future__ import annotations

from bot.core.context import Ctx


async def leaderboard(ctx: Ctx) -> None:
    board = await ctx.data.leaderboard()
    if not board.all_time:
        ctx.say("No quiz answers in this chat yet.", private=False)
        return

    def rows(entries: list[tuple[str, int, int]]) -> str:
        return (
            "\n".join(f"{i}. {name}: {right}/{total}" for i, (name, right, total) in enumerate(entries, 1))
            or "(no answers)"
        )

    ctx.say(f"🏆 Leaderboard, this week\n{rows(board.week)}\n\nAll time\n{rows(board.all_time)}", private=False)
