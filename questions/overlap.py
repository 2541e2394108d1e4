"""Questions that ask the same thing in different words: compared by topic and key points.

The prompt check in the loader catches copy-paste; two questions written separately on the same
idea share little surface text but the same topic words and the same key points. Each question
becomes a TF-IDF vector of its topic, subtopic and key points (stemmed words, stopwords dropped) and
pairs are compared by cosine similarity.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from questions.schema import TechnicalQuestion

OVERLAP_ERROR = 0.6  # the same question twice: merge or differentiate
OVERLAP_NOTE = 0.45  # close enough that a reviewer should look

_WORD = re.compile(r"[a-z][a-z0-9]+")
_STOP = frozenset(
    "the a an and or of to in on for with by is are be it its as at from that this which what when why how "
    "not no but than then so can may use used using uses into over under between both each more most less "
    "one two their there they them you your does do if only also same other while about all any".split()
)


@dataclass(frozen=True)
class Overlap:
    first: str
    second: str
    score: float


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "s", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _terms(question: TechnicalQuestion) -> Counter[str]:
    text = " ".join([question.topic, question.subtopic, *(k.point for k in question.key_points)])
    return Counter(_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP)


def runs(question: TechnicalQuestion) -> bool:
    """An exercise that is executed; it may cover the same idea as the question that explains it."""
    return question.sql is not None or question.tests is not None


def overlaps(questions: Iterable[TechnicalQuestion], threshold: float = OVERLAP_NOTE) -> list[Overlap]:
    """Pairs at or above `threshold`, most similar first."""
    items = list(questions)
    counts = [_terms(q) for q in items]
    df = Counter(t for c in counts for t in c)
    n = len(items)
    vectors: list[dict[str, float]] = []
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for i, c in enumerate(counts):
        vec = {t: (1 + math.log(k)) * (1 + math.log((1 + n) / (1 + df[t]))) for t, k in c.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({t: v / norm for t, v in vec.items()})
        for t, v in vectors[-1].items():
            postings[t].append((i, v))
    found = []
    for i, vec in enumerate(vectors):
        dots: dict[int, float] = defaultdict(float)
        for t, v in vec.items():
            for j, w in postings[t]:
                if j > i:
                    dots[j] += v * w
        found += [Overlap(items[i].id, items[j].id, s) for j, s in dots.items() if s >= threshold]
    return sorted(found, key=lambda o: -o.score)
