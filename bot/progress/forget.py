"""/forget (or /deleteme): delete everything stored about a user, after a confirmation."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.events import Button, make_choice
from bot.progress.records import ForgetRecord


async def ask_forget(ctx: Ctx) -> None:
    seq = ctx.state.next_seq()
    ctx.say(
        "This deletes everything stored about you: rounds, answers, grades, review schedule, subscriptions, "
        "settings and quiz answers, and your name from group results. A group's quiz settings stay with the "
        "group. It cannot be undone. /export first if you want a copy.",
        [
            Button("Yes, delete everything", make_choice("fg", "yes", seq)),
            Button("Cancel", make_choice("fg", "no", seq)),
        ],
    )


async def confirm_forget(ctx: Ctx, answer: str) -> None:
    if answer != "yes":
        ctx.say("Nothing was deleted.")
        return
    ctx.records.append(ForgetRecord())
    ctx.say("Done: everything stored about you has been deleted. If you write again, you start fresh.", forgotten=True)
