"""Spaced repetition with FSRS: which question a user should see next, and when it comes back."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from fsrs import Card, Rating, Scheduler

# A daily question is seen once a day at most, so minute-scale learning steps make no sense:
# every rating moves the card straight to a day-scale interval.
SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
RATINGS = {"again": Rating.Again, "hard": Rating.Hard, "good": Rating.Good, "easy": Rating.Easy}
MAX_DUE_BACKLOG = 30  # after a long break, only this many overdue reviews are kept in rotation


def rating_from_score(score: float) -> str:
    """Used when the user does not rate themselves: the grade stands in for the rating."""
    return "again" if score < 1.5 else "hard" if score < 2.5 else "good" if score < 3.5 else "easy"


@dataclass(frozen=True)
class CardState:
    question_id: str
    data: dict[str, Any]
    due: datetime


def review(state: CardState | None, question_id: str, rating: str, now: datetime) -> CardState:
    card = Card.from_dict(cast(Any, state.data)) if state else Card(due=now)
    updated, _log = SCHEDULER.review_card(card, RATINGS[rating], review_datetime=now)
    return CardState(question_id, dict(updated.to_dict()), updated.due)


@dataclass(frozen=True)
class Pick:
    question_id: str
    postponed: tuple[str, ...] = ()  # overdue cards beyond the backlog limit, to be pushed back


def choose(
    cards: Mapping[str, CardState],
    candidates: Sequence[str],
    section_of: Mapping[str, str],
    section_scores: Mapping[str, float],
    now: datetime,
    seed: str,
) -> Pick | None:
    """Due reviews first (most overdue first), then an unseen question from the weakest section.

    `candidates` are the question ids the user's settings allow; no card is shown before it is due.
    After a long break only MAX_DUE_BACKLOG overdue cards stay due; the rest are postponed.
    """
    allowed = set(candidates)
    due = sorted((c for c in cards.values() if c.question_id in allowed and c.due <= now), key=lambda c: c.due)
    if due:
        return Pick(due[0].question_id, tuple(c.question_id for c in due[MAX_DUE_BACKLOG:]))
    fresh = [q for q in candidates if q not in cards]
    if not fresh:
        return None
    sections = sorted({section_of[q] for q in fresh}, key=lambda s: (section_scores.get(s, 2.0), s))
    pool = sorted(q for q in fresh if section_of[q] == sections[0])
    return Pick(random.Random(seed).choice(pool))


def postpone(state: CardState, now: datetime, days: int) -> CardState:
    card = Card.from_dict(cast(Any, state.data))
    card.due = now + timedelta(days=days)
    return CardState(state.question_id, dict(card.to_dict()), card.due)
