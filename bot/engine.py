"""The dialogue engine: one router with every capability registered on it.

Each capability registers its own commands, buttons, forms, free text and scheduled jobs, and gets
what it needs from here; none imports this module or another's handlers. Where two capabilities
could take the same event, the router tries them in the order registered below: the daily
question's typed settings (a time zone it asked for) come before a round that is being set up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from bot.answering.flow import AnswerFlow
from bot.core.router import Router
from bot.daily import routes as daily
from bot.exercises.checking import ExerciseChecker
from bot.grading.claims import ClaimGrader
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
        exercises: ExerciseChecker | None = None,
    ) -> None:
        super().__init__(clock)
        self.bank = bank
        answering = AnswerFlow(grader or ClaimGrader(), exercises)
        daily.register(self, bank, answering, new_id)
        quiz.register(self, bank, new_id)
        progress.register(self, new_id)
        rounds.register(self, bank, answering, new_id)
