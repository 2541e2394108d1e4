"""Which question comes next: fresh for the user, spread over sections, at the right level."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from bot.answering.results import AnswerResult
from questions.loader import Bank

LEVELS = ("easy", "medium", "hard")


def level_from_score(mean: float | None) -> str:
    if mean is None:
        return "medium"
    return "easy" if mean < 1.5 else "medium" if mean < 2.8 else "hard"


def adapt_level(current: str, last: AnswerResult | None) -> str:
    """After a strong answer go one level up, after a weak one one level down."""
    if last is None:
        return current
    i = LEVELS.index(current)
    if last.score >= 3.0:
        i = min(i + 1, 2)
    elif last.score <= 1.5:
        i = max(i - 1, 0)
    return LEVELS[i]


def pick(
    bank: Bank,
    kind: str,
    difficulty: str,
    asked: Sequence[str],
    seen: frozenset[str],
    seed: str,
    *,
    role: str | None = None,
    seniority: str | None = None,
    sections: Sequence[str] | None = None,
    avoid_sections: Sequence[str] = (),
    exercise: str | None = None,
) -> str | None:
    """Pick deterministically from the seed, relaxing filters one at a time when nothing fits.
    `exercise` ("sql" or "python") keeps to questions whose answer is run, however the others relax."""
    stores: dict[str, dict[str, Any]] = {
        "technical": bank.technical,
        "behavioral": bank.behavioral,
        "design": bank.design,
        "quiz": bank.quiz,
    }
    store = stores[kind]
    pool = [q for q in store.values() if q.id not in asked and (exercise is None or _runs(q, exercise))]
    if not pool:
        return None
    rng = random.Random(seed)

    def fits(q: Any, *, diff: bool, fresh: bool, spread: bool, who: bool, topic: bool) -> bool:
        if diff and getattr(q, "difficulty", difficulty) != difficulty:
            return False
        if fresh and q.id in seen:
            return False
        if spread and q.section in avoid_sections:
            return False
        if topic and sections and q.section not in sections:
            return False
        if who and role and role not in getattr(q, "roles", [role]):
            return False
        return not (who and seniority and seniority not in getattr(q, "seniority", [seniority]))

    relax = [
        dict(diff=True, fresh=True, spread=True, who=True, topic=True),
        dict(diff=True, fresh=True, spread=False, who=True, topic=True),
        dict(diff=True, fresh=False, spread=True, who=True, topic=True),
        dict(diff=True, fresh=False, spread=False, who=False, topic=True),
        dict(diff=False, fresh=True, spread=False, who=False, topic=True),
        dict(diff=False, fresh=False, spread=False, who=False, topic=True),
        dict(diff=False, fresh=False, spread=False, who=False, topic=False),
    ]
    for flags in relax:
        candidates = sorted(q.id for q in pool if fits(q, **flags))
        if candidates:
            return str(rng.choice(candidates))
    return None


def _runs(q: Any, exercise: str) -> bool:
    return getattr(q, "sql" if exercise == "sql" else "tests", None) is not None
