"""The default, offline grader: key-point phrasings matched by stems and fuzzy matching.

Matching alone is easy to game, so the score also depends on whether the answer explains
anything (connective words, sentences rather than a term list), whether it merely repeats the
question, and whether a phrase is negated where it appears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.grading.text import (
    CONNECTIVES,
    NEGATIONS,
    STOPWORDS,
    Clause,
    clauses,
    content_stems,
    contradicts,
    is_negated,
    stem,
    words,
)
from bot.grading.verdict import PointVerdict, Rubric, Status, Verdict

COVERED, PARTLY = 0.75, 0.4
_LIST_SPLIT = re.compile(r"[,;\n•]+|\s[-–]\s")
FUZZY_MIN = 85  # rapidfuzz ratio between a phrasing word and an answer word still read as a typo
_MATH = frozenset("=<>+*/^")
_DIGIT = re.compile(r"\d")
_DONT_KNOW = re.compile(
    r"^\W*(i\s+(really\s+)?(do\s*n[o']?t|dunno|have\s+no\s+idea)|no\s+idea|idk|not\s+sure|pass|skip|\?+|"
    r"i\s+(am|'m)\s+not\s+sure|no\s+clue|i\s+forgot)\b",
    re.I,
)


@dataclass(frozen=True)
class _Phrase:
    words: tuple[str, ...]
    stems: tuple[str, ...]
    negative: bool  # the phrasing itself contains a negation ("does not converge")
    formula: bool  # every symbol counts: "k/i" is not half-right when the answer says "k/n"


@dataclass(frozen=True)
class _Point:
    text: str
    weight: int
    phrases: tuple[_Phrase, ...]
    point_stems: frozenset[str]


def _compile(rubric: Rubric) -> tuple[_Point, ...]:
    points = []
    for kp in rubric.key_points:
        phrases = []
        for ph in kp.phrasings:
            toks = _meaningful(words(ph))
            negative, formula = any(t in NEGATIONS for t in toks), any(t in _MATH for t in toks)
            phrases.append(_Phrase(tuple(toks), tuple(stem(t) for t in toks), negative, formula))
        points.append(_Point(kp.point, kp.weight, tuple(phrases), frozenset(content_stems(kp.point))))
    return tuple(points)


def _meaningful(toks: list[str]) -> list[str]:
    """The words of a phrasing that must be matched. Function words are dropped, except where they
    carry the meaning: negations, either half of a hyphenated compound ("on-policy" is not "off-policy")
    and anything in a formula ("k/i" is not "k/n")."""
    if any(t in _MATH for t in toks):
        return toks
    keep = [
        t
        for i, t in enumerate(toks)
        if t != "-"
        and (
            t not in STOPWORDS
            or t in NEGATIONS
            or (i + 1 < len(toks) and toks[i + 1] == "-")
            or (i > 0 and toks[i - 1] == "-")
        )
    ]
    return keep or toks


def _find(phrase: _Phrase, clause: Clause) -> tuple[float, int, int]:
    """Strength of a phrase inside one clause (0-1) and the token span [start, end) it covers."""
    n = len(phrase.stems)
    stems = clause.stems
    if n == 0:
        return 0.0, -1, -1
    first = phrase.stems[0]
    for i, s in enumerate(stems):  # exact run of stems
        if s == first and tuple(stems[i : i + n]) == phrase.stems:
            return 1.0, i, i + n
    found, start, end = _tightest(phrase.stems, stems)
    if found == n and end - start <= n + 4:  # all words, close together
        return 0.9, start, end
    typo_found, typo_start, typo_end = _tightest_fuzzy(phrase, clause)
    if typo_found == n and typo_end - typo_start <= n + 4:  # all words, some misspelt
        return 0.8, typo_start, typo_end
    if n >= 3 and found >= n - 1 and end - start <= n + 4 and not phrase.formula:
        return 0.5, start, end
    return 0.0, -1, -1


def _typo_of(word: str, token: str) -> bool:
    """A misspelling, not another word: same first letter, close spelling, and numbers exactly equal
    ("overflw" is "overflow"; "global" is not "local", "40" is not "4")."""
    if len(word) < 4 or word[0] != token[:1] or _DIGIT.search(word) or _DIGIT.search(token):
        return False
    return fuzz.ratio(word, token, score_cutoff=FUZZY_MIN) > 0


def _tightest_fuzzy(phrase: _Phrase, clause: Clause) -> tuple[int, int, int]:
    """Like `_tightest`, with each phrasing word also matching a misspelling of itself."""
    positions = []
    for word, wanted in zip(phrase.words, phrase.stems, strict=True):
        pairs = zip(clause.tokens, clause.stems, strict=True)
        found = [i for i, (tok, st) in enumerate(pairs) if st == wanted or _typo_of(word, tok)]
        if not found:
            return 0, -1, -1
        positions.append(found)
    return (len(positions), *_narrowest(positions))


def _tightest(wanted: tuple[str, ...], stems: tuple[str, ...]) -> tuple[int, int, int]:
    """How many of the wanted stems occur, and the narrowest span [start, end) holding one of each.
    A word used earlier in the sentence must not stretch the span, so every occurrence is tried."""
    where = {w: [i for i, s in enumerate(stems) if s == w] for w in set(wanted)}
    positions = [where[w] for w in dict.fromkeys(wanted) if where[w]]
    if not positions:
        return 0, -1, -1
    return (sum(1 for w in wanted if where[w]), *_narrowest(positions))


def _narrowest(positions: list[list[int]]) -> tuple[int, int]:
    """The smallest span [start, end) that takes one position from each list."""
    best = (-1, 1 << 30)
    for anchor in positions[0]:
        lo = hi = anchor
        for found in positions[1:]:
            nearest = min(found, key=lambda i: abs(i - anchor))
            lo, hi = min(lo, nearest), max(hi, nearest)
        if hi - lo < best[1] - best[0]:
            best = (lo, hi)
    return best[0], best[1] + 1


class RubricGrader:
    name = "rubric"

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[_Point, ...]] = {}

    async def grade(self, rubric: Rubric, answer: str) -> Verdict:
        return self.grade_sync(rubric, answer)

    def grade_sync(self, rubric: Rubric, answer: str) -> Verdict:
        points = self._compiled.get(rubric.question_id)
        if points is None:
            points = self._compiled[rubric.question_id] = _compile(rubric)
        answer = answer.strip()
        flags: list[str] = []
        tokens = words(answer)
        if not tokens or (len(tokens) <= 12 and _DONT_KNOW.match(answer)):
            return self._dont_know(rubric, points)

        parts = clauses(answer)
        verdicts: list[PointVerdict] = []
        earned = total = 0.0
        negated_hits = 0
        answer_stems = set(content_stems(answer))
        for point in points:
            best, evidence, negated = 0.0, "", False
            for clause in parts:
                for phrase in point.phrases:
                    strength, start, end = _find(phrase, clause)
                    if strength <= best:
                        continue
                    # Polarity must agree: "X does not reduce variance" does not cover "X reduces
                    # variance", and "you can backpropagate through sampling" does not cover
                    # "you cannot backpropagate through sampling" however close the spelling.
                    window = clause.stems[max(0, start - 2) : end + 1]
                    if is_negated(clause.tokens, start, end) != phrase.negative or contradicts(phrase.stems, window):
                        negated = True
                        continue
                    best, evidence = strength, clause.original
            negated_hits += negated
            if best < PARTLY and point.point_stems and not negated:
                overlap = len(point.point_stems & answer_stems) / len(point.point_stems)
                if overlap >= 0.6:
                    best = 0.5
                    evidence = evidence or _clause_with(parts, point.point_stems)
            status: Status = "covered" if best >= COVERED else "partly" if best >= PARTLY else "missed"
            credit = 1.0 if status == "covered" else 0.5 if status == "partly" else 0.0
            earned += credit * point.weight
            total += point.weight
            verdicts.append(
                PointVerdict(point.text, status, _trim(evidence) if status != "missed" else "", point.weight)
            )

        score = 4.0 * earned / total if total else 0.0
        score = self._penalise(rubric, answer, tokens, score, flags)
        if negated_hits:
            flags.append("negated")
        return Verdict(round(score, 1), verdicts, _feedback(verdicts, flags), _follow_up(rubric, verdicts), flags)

    def _penalise(self, rubric: Rubric, answer: str, tokens: list[str], score: float, flags: list[str]) -> float:
        prompt_stems = set(content_stems(rubric.prompt))
        mine = content_stems(answer)
        if mine:
            novel = sum(1 for s in mine if s not in prompt_stems) / len(mine)
            if novel < 0.3 or fuzz.token_set_ratio(answer.lower(), rubric.prompt.lower()) >= 90:
                flags.append("restates_question")
                return min(score, 0.4)
        explanatory = sum(1 for t in tokens if t in CONNECTIVES)
        # Share of function words among real words: symbols and one-letter variables in a formula are
        # neither, so a derivation written in maths is not mistaken for a list of terms.
        prose = [t for t in tokens if len(t) > 1 and t.isalpha()] or tokens
        function_share = sum(1 for t in prose if t in STOPWORDS) / len(prose)
        longest_clause = max((len(c.tokens) for c in clauses(answer)), default=0)
        if explanatory == 0 or function_share < 0.18 or longest_clause < 6:
            flags.append("list_without_explanation")
            # A bare list of terms shows recall of vocabulary, not understanding: below a weak answer.
            items = [i.split() for i in _LIST_SPLIT.split(answer) if i.strip()]
            bare = explanatory == 0 and len(items) >= 4 and sum(map(len, items)) / len(items) <= 3.5
            score = min(score, 1.0 if bare else 2.0)
        if len(mine) < 6:
            flags.append("very_short")
            score = min(score, 1.5)
        return score

    def _dont_know(self, rubric: Rubric, points: tuple[_Point, ...]) -> Verdict:
        verdicts = [PointVerdict(p.text, "missed", "", p.weight) for p in points]
        lines = [
            "No problem, saying so is better than guessing in a real interview. Here is what a strong answer covers:",
            *(f"• {p.text}" for p in points),
            "",
            "Tip: in an interview, think aloud about what you do know; partial reasoning earns credit.",
        ]
        return Verdict(0.0, verdicts, "\n".join(lines), _follow_up(rubric, verdicts), ["dont_know"])


def _clause_with(parts: list[Clause], target: frozenset[str]) -> str:
    best = max(parts, key=lambda c: len(target & set(c.stems)), default=None)
    return best.original if best else ""


def _trim(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _feedback(points: list[PointVerdict], flags: list[str]) -> str:
    covered = [p for p in points if p.status == "covered"]
    partly = [p for p in points if p.status == "partly"]
    missed = [p for p in points if p.status == "missed"]
    lines: list[str] = []
    if covered:
        lines.append("Covered:")
        lines += [f"  ✓ {p.point}" for p in covered]
    if partly:
        lines.append("Partly covered (say more):")
        lines += [f"  ~ {p.point}" for p in partly]
    if missed:
        lines.append("Missed:")
        lines += [f"  ✗ {p.point}" for p in missed]
    if "restates_question" in flags:
        lines.append("Your answer mostly repeats the question; explain your own reasoning instead.")
    if "list_without_explanation" in flags:
        lines.append("You named terms without explaining them: say why and how, in full sentences.")
    if "negated" in flags:
        lines.append("Careful: some statements said the opposite of what a correct answer says.")
    if "very_short" in flags:
        lines.append("The answer is very short; an interviewer expects a few sentences of reasoning.")
    return "\n".join(lines)


def _follow_up(rubric: Rubric, points: list[PointVerdict]) -> str | None:
    return rubric.follow_ups[0] if rubric.follow_ups else None
