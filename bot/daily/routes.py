"""What the daily question answers: /daily (and the t.me/<bot>?start=daily link), /settings in a
private chat, its buttons, forms and typed settings, /done, /hint and /skip while it is open
outside a round, and the scheduled "daily" send."""

from __future__ import annotations

from collections.abc import Callable

from bot.answering.flow import AnswerFlow
from bot.core.context import Ctx
from bot.core.router import CommandHandler, Router
from bot.daily.question import DailyQuestion
from bot.daily.settings import DailySettings
from questions.loader import Bank

ANSWER_ACTIONS = ("done", "hint", "skip", "rt", "wrong")


def question_open(ctx: Ctx) -> bool:
    """Outside a round; inside one, /done and the like belong to the round."""
    return ctx.state.mode != "round" and ctx.state.daily is not None


def wants_text(ctx: Ctx) -> bool:
    st = ctx.state
    return st.mode != "round" and (st.awaiting is not None or (st.mode == "idle" and st.daily is not None))


def register(router: Router, bank: Bank, answering: AnswerFlow, new_id: Callable[[], str]) -> None:
    question = DailyQuestion(bank, answering, new_id)
    settings = DailySettings(question)

    def answer(name: str) -> CommandHandler:
        async def run(ctx: Ctx, args: tuple[str, ...]) -> None:
            await question.answer_action(ctx, name, "")

        return run

    async def on_button(ctx: Ctx, action: str, value: str) -> None:
        if action in ANSWER_ACTIONS:
            await question.answer_action(ctx, action, value)
        else:
            await settings.choice(ctx, action, value)

    async def on_text(ctx: Ctx, text: str) -> None:
        if ctx.state.awaiting is not None:
            await settings.awaited_text(ctx, text)
        else:
            await question.answer_text(ctx, text)

    async def on_form(ctx: Ctx, text: str) -> bool:
        if ctx.state.mode != "idle" or ctx.state.daily is None:
            return False
        if await question.answer_text(ctx, text, quiet=True):
            await question.answer_action(ctx, "done", "")
        return True

    router.command("daily", settings.command, keeps_prompt=True)
    router.deep_link("daily", settings.command)
    router.command("settings", lambda ctx, args: settings.command(ctx, ()))  # in a group: the channel quiz
    for name in ("done", "hint", "skip"):
        router.command(name, answer(name), when=question_open)
    router.choice("dl", on_button)
    router.form("dl", on_form)
    router.text(on_text, when=wants_text)
    router.job("daily", lambda ctx, ref: question.send(ctx))
