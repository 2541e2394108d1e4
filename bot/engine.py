"""The dialogue engine: one router with every capability registered on it.

Each capability registers its own commands, buttons, forms, free text and scheduled jobs; none of
them imports another's handlers or this module. The order below settles which capability gets
free text that two of them could take: the daily question's typed settings come before a round
being set up, and rounds come last because they answer whatever nobody else claimed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from bot.answering.flow import AnswerFlow
from bot.core.router import Router
from bot.daily import routes as daily
from bot.grading.rubric import RubricGrader
from bot.grading.verdict import Grader
from bot.progress import routes as progress
from bot.quiz import routes as quiz
from bot.rounds import routes as rounds
from questions.loader import Bank


class Engine(Router):
    def __init__(
        self,
        bank: Bank,
        clock: Callable[[], datetime],
        grader: Grader | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:16],
    ) -> None:
        super().__init__(clock)
        self.bank = bank
        answering = AnswerFlow(grader or RubricGrader())
        daily.register(self, bank, answering, new_id)
        quiz.register(self, bank, new_id)
        progress.register(self, new_id)
        rounds.register(self, bank, answering, new_id)
