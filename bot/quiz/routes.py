"""What channel quizzes answer in a group: /quiz and /settings, /leaderboard anywhere, members'
poll answers, and the scheduled "quiz" and "quiz_close" jobs."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.context import Ctx
from bot.core.router import Router
from bot.quiz import settings
from bot.quiz.leaderboard import leaderboard
from bot.quiz.run import ChannelQuiz
from questions.loader import Bank


def in_group(ctx: Ctx) -> bool:
    return ctx.event.chat_kind == "group"


def register(router: Router, bank: Bank, new_id: Callable[[], str]) -> None:
    quiz = ChannelQuiz(bank, new_id)
    router.command("quiz", settings.command, when=in_group)
    router.command("settings", lambda ctx, args: settings.command(ctx, ()), when=in_group)
    router.command("leaderboard", lambda ctx, args: leaderboard(ctx))
    router.poll_answer(quiz.answer)
    router.job("quiz", lambda ctx, ref: quiz.start(ctx))
    router.job("quiz_close", quiz.close)
