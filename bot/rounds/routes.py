"""What rounds answer: /mock (and /quiz in a private chat), the controls inside a round, its
buttons and forms, /history, and the way in: /start, /help and anything said outside a round."""

from __future__ import annotations

from collections.abc import Callable

from bot.answering.flow import AnswerFlow
from bot.answering.srs import RATINGS
from bot.core.context import Ctx
from bot.core.router import CommandHandler, Router
from bot.rounds.answers import RoundAnswers
from bot.rounds.flow import RoundFlow
from bot.rounds.history import history
from bot.rounds.home import Home
from bot.rounds.setup import RoundSetup
from questions.loader import Bank

CONTROLS = ("done", "hint", "skip", "repeat", "time", "pause", "stop", "cancel")


def in_round(ctx: Ctx) -> bool:
    return ctx.state.mode == "round" and ctx.state.round is not None


def in_setup(ctx: Ctx) -> bool:
    return ctx.state.mode == "setup"


def register(router: Router, bank: Bank, answering: AnswerFlow, new_id: Callable[[], str]) -> None:
    flow = RoundFlow(bank, answering)
    answers = RoundAnswers(flow)
    setup = RoundSetup(flow, new_id)
    home = Home(flow)

    def control(name: str) -> CommandHandler:
        async def run(ctx: Ctx, args: tuple[str, ...]) -> None:
            assert ctx.state.round is not None
            await answers.command(ctx, ctx.state.round, name)

        return run

    async def ask(ctx: Ctx, args: tuple[str, ...]) -> None:
        assert ctx.state.round is not None
        await answers.ask(ctx, ctx.state.round, " ".join(args))

    async def nothing_open(ctx: Ctx, args: tuple[str, ...]) -> None:
        ctx.say("There's no question open right now. " + ctx.where())

    async def on_round_button(ctx: Ctx, action: str, value: str) -> None:
        rnd = ctx.state.round if in_round(ctx) else None
        if rnd is None:
            await setup.stale(ctx)
        elif action in ("done", "hint", "skip", "next"):
            await answers.command(ctx, rnd, action)
        else:
            ctx.say("Sorry, I don't recognise that button. " + ctx.where())

    async def on_rating(ctx: Ctx, action: str, value: str) -> None:
        rnd = ctx.state.round if in_round(ctx) else None
        if rnd is None:
            await setup.stale(ctx)
        elif rnd.phase == "rate" and action in (*RATINGS, "wrong"):
            await answers.rate(ctx, rnd, action, value)
        else:
            ctx.say("Sorry, I don't recognise that button. " + ctx.where())

    async def on_option(ctx: Ctx, action: str, value: str) -> None:
        rnd = ctx.state.round if in_round(ctx) else None
        if rnd is None:
            await setup.stale(ctx)
        elif rnd.phase == "answer" and rnd.current_slot.kind == "quiz" and action.isdigit():
            await answers.quiz_answer(ctx, rnd, int(action))
        else:
            ctx.say("Sorry, I don't recognise that button. " + ctx.where())

    async def in_setup_text(ctx: Ctx, text: str) -> None:
        setup.ask(ctx, "Please pick one of the options.")

    router.command("mock", setup.mock)
    router.command("quiz", lambda ctx, args: setup.mock(ctx, ("quiz", *args)))  # a drill; groups have channel quizzes
    router.command("history", lambda ctx, args: history(ctx), needs_history=True)
    router.command("start", lambda ctx, args: home.start(ctx), keeps_prompt=True)  # as /start daily does
    router.command("help", lambda ctx, args: home.help(ctx))
    for name in CONTROLS:
        router.command(name, control(name), when=in_round)
        router.command(name, nothing_open)
    router.command("ask", ask, when=in_round)
    router.command("ask", nothing_open)
    for name in ("stop", "cancel"):
        router.command(name, lambda ctx, args: setup.cancel(ctx), when=in_setup)
    router.choice("mk", setup.choice, any_age=("go",))
    router.choice("rd", on_round_button)
    router.choice("rt", on_rating)
    router.choice("qz", on_option)
    router.form("rd", answers.submit)
    router.text(answers.text, when=in_round)
    router.text(in_setup_text, when=in_setup)
    router.text(lambda ctx, text: home.nudge(ctx))
    router.stale(setup.stale)
