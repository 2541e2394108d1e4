"""Clarifying questions in a design round, answered from the scenario's fact sheet.

A strong candidate asks about scale, latency, labels and constraints before designing; the
interviewer tells what the fact sheet holds and asks for an assumption about anything else.
"""

from __future__ import annotations

import re

from questions.schema import DesignScenario

MAX_QUESTION_CHARS = 240  # longer messages are answers, even when they end with a question mark
ASSUME = "That's for you to assume: state your assumption and carry on."


def is_question(text: str) -> bool:
    """A short single message ending in a question mark; questions inside a long answer stay in it."""
    text = text.strip()
    return 0 < len(text) <= MAX_QUESTION_CHARS and text.endswith("?") and "\n" not in text


def answer(scenario: DesignScenario, question: str) -> str:
    """The facts the question asks about (at most two, best match first), or an invitation to assume."""
    text = " " + " ".join(re.findall(r"[a-z0-9]+", question.lower())) + " "
    scored = []
    for n, fact in enumerate(scenario.facts):
        hits = sum(1 for about in fact.about if _mentions(text, about))
        if hits:
            scored.append((-hits, n, fact.answer))
    if not scored:
        return ASSUME
    best = sorted(scored)[:2]
    if len(best) == 2 and best[1][0] > best[0][0]:  # clearly fewer matches: not what was asked
        best = best[:1]
    return "\n".join(a for _, _, a in best)


def _mentions(text: str, about: str) -> bool:
    words = re.findall(r"[a-z0-9]+", about.lower())
    if not words:
        return False
    phrase = " ".join(words)
    return f" {phrase} " in text or f" {phrase}s " in text or f" {phrase}es " in text
