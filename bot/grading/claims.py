"""The default, offline grader: each key point is a claim that must be stated in one clause.

A claim is what is said (`says`) and, where roles matter, who it is said of (`subject`). A clause
confirms a point only when it states the claim about the right subject with the right polarity;
the same words about the other subject, negated, reversed ("increases" for "reduces"), with a
flipped sign, or matching one of the point's listed contradictions, contradict it instead. Every
tick comes with the candidate's own words. Clauses copied from the question earn nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property

from rapidfuzz import fuzz

from bot.grading.patterns import (
    Expansion,
    PToken,
    Span,
    expand,
    find,
    formula_token,
    token_matches,
    typo,
)
from bot.grading.text import CONTRAST, NEGATION_BEFORE, NEGATIONS, STOPWORDS, Clause, Token, clauses, stem
from bot.grading.verdict import PointVerdict, Rubric, Status, Verdict, all_missed, feedback_lines, score_of
from questions.schema import Claim, KeyPoint

# "I don't know" and the like; "pass" or "skip" only as the whole answer ("Skip prompting and
# fine-tune" is an answer), and "I don't" only before "know" ("I don't think it overfits" is one too).
_DONT_KNOW = re.compile(
    r"^\W*(i\s+(really\s+)?do\s*n[o']?t\s+know|i\s+dunno|dunno|i\s+have\s+no\s+idea|no\s+idea|idk|not\s+sure"
    r"|i\s+(am|'m)\s+not\s+sure|no\s+clue|i\s+forgot|(pass|skip)(\s+(it|this|this\s+one|for\s+now))?\W*$|\?+\W*$)",
    re.I,
)
_NOT_REALLY_NEGATED = {"only", "just", "merely", "simply"}  # "not only reduces variance" affirms it
_PASSIVE = {"by", "via", "through"}
_RELATIVE = frozenset("which who whose that".split())
# A negation before one of these belongs elsewhere ("do not flip X-rays, because the heart ...").
_CONJUNCTIONS = {"and", "or", "but", "so", "while", "whereas", "then", "because", "since", "which", "if", "when"}
NEGATION_WINDOW = 4
# Words after a wrong claim that reject it ("a random split would leak"): the contradiction is quoted, not made.
_REJECTION = frozenset(
    stem(w)
    for w in "wrong mistake mistaken misleading naive tempting pitfall flawed incorrect fallacy myth misconception"
    " leak leaks leakage trap".split()
)


# "X would not help", "X isn't needed": a negation right after what was said, with one of these verbs, denies it.
_DENIALS = frozenset(
    "help helps helped work works fix fixes solve solves needed necessary required useful matter matters".split()
)
_AUXILIARIES = frozenset("would will does do did is are was were can could should might may".split())
# A negation after these states what a step prevents ("so that the softmax does not saturate"), not a claim.
_PURPOSE = (("so", "that"), ("in", "order"), ("make", "sure"), ("ensure",), ("ensures",), ("lest",))


def _denied_after(toks: tuple[Token, ...], end: int) -> bool:
    i = end + (end < len(toks) and toks[end].text in _AUXILIARIES and not toks[end].after_break)
    return (
        i + 1 < len(toks)
        and toks[i].text in NEGATIONS
        and not toks[i].after_break
        and toks[i + 1].text in _DENIALS
        and not toks[i + 1].after_break
    )


def _purpose(toks: tuple[Token, ...], start: int) -> bool:
    """The statement at `start` follows "so that", "in order", "make sure" or "ensure" in its clause part."""
    words = []
    for t in reversed(toks[:start]):
        words.append(t.text)
        if t.after_break:
            break
    words.reverse()
    return any(tuple(words[i : i + len(m)]) == m for m in _PURPOSE for i in range(len(words)))


@dataclass(frozen=True)
class _Side:
    """A claim or a contradiction, compiled: subject and says expansions."""

    subject: tuple[Expansion, ...]
    says: tuple[Expansion, ...]
    correction: str = ""


@dataclass(frozen=True)
class _Point:
    kp: KeyPoint
    claims: tuple[_Side, ...]
    contradictions: tuple[_Side, ...]
    terms: frozenset[str]  # content stems of what the point says, for "mentioned"


def _side(claim: Claim, correction: str = "") -> _Side:
    subject = tuple(e for s in claim.subject for e in expand(s))
    return _Side(subject, tuple(e for s in claim.says for e in expand(s)), correction)


def _compile(rubric: Rubric) -> tuple[_Point, ...]:
    points = []
    for kp in rubric.key_points:
        claims = tuple(_side(c) for c in kp.claims)
        contras = tuple(_side(c, c.correction) for c in kp.contradictions)
        terms = frozenset(t.stem for side in claims for e in side.says for t in e.tokens if t.text not in STOPWORDS)
        points.append(_Point(kp, claims, contras, terms))
    return tuple(points)


@dataclass(frozen=True)
class _Found:
    clause: int
    span: Span
    negated: bool


class _Reading:
    """One answer read against one rubric: clauses, subject mentions and what each pattern finds."""

    def __init__(self, parts: list[Clause], points: tuple[_Point, ...], echo: frozenset[int]) -> None:
        self.parts = parts
        self.echo = echo
        self._present: dict[tuple[int, str, float | None, float | None, bool, bool | str], bool] = {}
        subjects = {e for p in points for side in (*p.claims, *p.contradictions) for e in side.subject}
        # (clause, start, end, expansion) for every subject mention, in reading order
        found = sorted(
            ((ci, s.start, s.end, e) for ci, c in enumerate(parts) for e in subjects for s in find(e, c.tokens)),
            key=lambda m: (m[0], m[1], m[2]),
        )
        self.mentions = [m for m in found if not self._contrasted(parts[m[0]], m[1])]
        # "unlike DQN, which is off-policy": what follows the relative pronoun is said of DQN
        self.relative = [m for m in found if self._contrasted(parts[m[0]], m[1]) and self._relative_after(m)]

    @staticmethod
    def _contrasted(clause: Clause, start: int) -> bool:
        """ "unlike X", "rather than X", "compared with X": X is not what the clause is about."""
        before = [t.text for t in clause.tokens[max(0, start - 3) : start]]
        return any(w in CONTRAST for w in before) or "compared" in before

    def _relative_after(self, m: tuple[int, int, int, Expansion]) -> bool:
        toks = self.parts[m[0]].tokens
        return m[2] < len(toks) and toks[m[2]].text in _RELATIVE

    def bound(self, ci: int, span: Span) -> set[Expansion] | None:
        """The subject a statement at `span` of clause `ci` is about: the nearest mention before it in
        the clause (or the contrasted one a "which" refers to: "unlike DQN, which is off-policy"),
        else one after it in a passive ("is reduced by bagging"), else the last one in the previous
        clauses of the paragraph ("It reduces variance"). None when there is none."""
        before = [m for m in self.mentions if m[0] == ci and m[2] <= span.start]
        relative = [m for m in self.relative if m[0] == ci and m[2] <= span.start]
        if relative and (not before or max(m[2] for m in relative) > max(m[2] for m in before)):
            end = max(m[2] for m in relative)
            return {m[3] for m in relative if m[2] == end}
        if before:
            end = max(m[2] for m in before)
            start = min(m[1] for m in before if m[2] == end)
            return {m[3] for m in before if m[2] > start}
        clause = self.parts[ci]
        after = [m for m in self.mentions if m[0] == ci and m[1] >= span.end]
        if after and any(t.text in _PASSIVE for t in clause.tokens[span.end : after[0][1]]):
            first = after[0][1]
            return {m[3] for m in after if m[1] == first}
        for prev in range(ci - 1, max(-1, ci - 3), -1):
            if self.parts[prev].paragraph != clause.paragraph:
                break
            earlier = [m for m in self.mentions if m[0] == prev]
            if earlier:
                end = max(m[2] for m in earlier)
                return {m[3] for m in earlier if m[2] == end}
            if self.parts[prev].header:
                break
        return None

    def negated(self, ci: int, span: Span, exp: Expansion | None = None) -> bool:
        toks = self.parts[ci].tokens
        if exp is not None and self._negated_inside(toks, span, exp):
            return True
        if _denied_after(toks, span.end):
            return True
        lo = max(0, span.start - NEGATION_WINDOW)
        for m in self.mentions:  # a negation before the subject belongs to something else
            if m[0] == ci and lo < m[2] <= span.start:
                lo = m[2]
        # A conjunction or a comma before the statement starts it afresh: "Instead, use X" affirms X.
        for i in range(lo, span.start + 1):
            if i < len(toks) and (toks[i].after_break or (i < span.start and toks[i].text in _CONJUNCTIONS)):
                lo = i + (0 if toks[i].after_break else 1)
        window = [t.text for t in toks[lo : span.start]] + [toks[span.start].text if span.start < len(toks) else ""]
        for i, w in enumerate(window[:-1]):
            following = window[i + 1]
            if w in NEGATIONS and following not in _NOT_REALLY_NEGATED:
                return True
            if NEGATION_BEFORE.get(w) == following:
                return True
            if (w, following) in (("rather", "than"), ("instead", "of"), ("as", "opposed")):
                return True
        return False

    @staticmethod
    def _negated_inside(toks: tuple[Token, ...], span: Span, exp: Expansion) -> bool:
        """A negation between the matched words ("dropout does not reduce overfitting") that the
        pattern does not have itself, unless a break follows it ("bagging, not boosting, reduces
        variance") or it reads "not only"."""
        own = sum(p.text in NEGATIONS for p in exp.tokens)
        inside = 0
        for i in range(span.start + 1, span.end - 1):
            if toks[i].text not in NEGATIONS or toks[i + 1].text in _NOT_REALLY_NEGATED:
                continue
            target = next((h for h in span.hits if h > i), span.end)
            if not any(t.after_break for t in toks[i + 1 : target + 1]):
                inside += 1
        return inside > own

    def rejected(self, ci: int, span: Span) -> bool:
        """The clause names a wrong claim to reject it: "a random split would leak", "X is a mistake"."""
        toks = self.parts[ci].tokens
        for i in range(span.end, len(toks)):
            if toks[i].stem in _REJECTION and not any(t.text in NEGATIONS for t in toks[max(span.end, i - 2) : i]):
                return True
        return False

    def find(self, side: _Side, *, flip: bool = False) -> list[_Found]:
        """Where `side` is said about its own subject (or anywhere, when it has none)."""
        out = []
        says = self.anywhere(side, flip)
        for ci, clause in enumerate(self.parts):
            if ci in self.echo:
                continue
            for exp in says:
                if not self.could_match(ci, exp, flip):
                    continue
                for span in find(exp, clause.tokens, flip=flip):
                    if side.subject:
                        subject = self.bound(ci, span)
                        if subject is None or not subject & set(side.subject):
                            continue
                    negated = self.negated(ci, span, exp)
                    if negated and _purpose(clause.tokens, span.start):
                        continue  # "so that X does not happen" neither states X nor denies it
                    out.append(_Found(ci, span, negated))
        return out

    def said_unbound(self, side: _Side) -> bool:
        """The words of `side` appear, but not about its subject: worth a "couldn't confirm"."""
        says = self.anywhere(side, False)
        for ci, clause in enumerate(self.parts):
            if ci in self.echo:
                continue
            for exp in says:
                if not self.could_match(ci, exp, False):
                    continue
                for span in find(exp, clause.tokens):
                    subject = self.bound(ci, span)
                    if subject is None and not self.negated(ci, span, exp):
                        return True
        return False

    def anywhere(self, side: _Side, flip: bool) -> list[Expansion]:
        """The expansions whose every word occurs somewhere in the answer (clause `-1` is the whole
        answer): most are ruled out once here instead of once per clause."""
        return [exp for exp in side.says if self.could_match(-1, exp, flip)]

    def could_match(self, ci: int, exp: Expansion, flip: bool) -> bool:
        """A cheap necessary test before the ordered search: every word of the expansion matches some
        word of the clause. Answers are graded against thousands of expansions; most fail here."""
        if exp.formula and flip:
            return True  # a flipped formula swaps its operators: leave it to the full search
        for p in exp.tokens:
            # by what the test depends on, not by identity: the same word recurs in many expansions
            key = (ci, p.text, p.value, p.tolerance, p.compound, "formula" if exp.formula else flip)
            found = self._present.get(key)
            if found is None:
                found = self._present[key] = self._has(ci, p, flip, exp.formula)
            if not found:
                return False
        return True

    def _has(self, ci: int, p: PToken, flip: bool, formula: bool) -> bool:
        whole = ci < 0
        toks = self.all_tokens if whole else self.parts[ci].tokens
        if formula:
            return any(formula_token(p, t) for t in toks)
        if p.value is None and p.direction is None:  # a plain word: its stem, or a misspelling of it
            if p.stem in (self.answer_stems if whole else self.clause_stems[ci]):
                return True
            initials = self.answer_initials if whole else self.initials[ci]
            return any(typo(p.text, w) for w in initials.get(p.text[:1], ()))
        return any(token_matches(p, t, flip) for t in toks)

    @cached_property
    def initials(self) -> list[dict[str, list[str]]]:
        """Each clause's words by first letter: a misspelling keeps its first letter."""
        out: list[dict[str, list[str]]] = []
        for c in self.parts:
            by: dict[str, list[str]] = {}
            for t in c.tokens:
                if t.value is None:
                    by.setdefault(t.text[:1], []).append(t.text)
            out.append(by)
        return out

    @cached_property
    def answer_initials(self) -> dict[str, list[str]]:
        whole: dict[str, list[str]] = {}
        for by in self.initials:
            for initial, words in by.items():
                whole.setdefault(initial, []).extend(words)
        return whole

    @cached_property
    def clause_stems(self) -> list[set[str]]:
        return [set(c.stems) for c in self.parts]

    @cached_property
    def answer_stems(self) -> set[str]:
        return set().union(*self.clause_stems)

    @cached_property
    def all_tokens(self) -> tuple[Token, ...]:
        return tuple(t for ci, c in enumerate(self.parts) if ci not in self.echo for t in c.tokens)


class ClaimGrader:
    name = "claims"

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[_Point, ...]] = {}

    async def grade(self, rubric: Rubric, answer: str) -> Verdict:
        return self.grade_sync(rubric, answer)

    def compile(self, rubric: Rubric) -> tuple[_Point, ...]:
        """The rubric's patterns expanded, once per question: the costly part of a first grade."""
        points = self._compiled.get(rubric.question_id)
        if points is None:
            points = self._compiled[rubric.question_id] = _compile(rubric)
        return points

    def grade_sync(self, rubric: Rubric, answer: str) -> Verdict:
        points = self.compile(rubric)
        answer = answer.strip()
        parts = clauses(answer)
        if not parts or (len(answer) <= 80 and _DONT_KNOW.match(answer)):
            return self._dont_know(points)
        reading = _Reading(parts, points, _echoed(parts, rubric.prompt))
        judged = [self._judge(reading, p) for p in points]
        # A clause caught stating a wrong claim backs no tick: "k-means is EM with full covariances and hard
        # assignments" names the right terms around a false claim. And an answer caught in a wrong claim gets
        # no benefit of the doubt: a point it states in one clause only is "mentioned", not confirmed (on blind
        # answers, such ticks were right about half the time).
        wrong = {clause for _, _, clauses_ in judged for clause in clauses_}
        needed = 2 if wrong else 1
        verdicts = [
            replace(v, status="mentioned", evidence="")
            if v.status == "confirmed" and len(ticks - wrong) < needed
            else v
            for v, ticks, _ in judged
        ]
        flags: list[str] = []
        score = score_of(verdicts)
        if _restates(parts, reading.echo, rubric.prompt, answer):
            flags.append("restates_question")
            score = min(score, 0.5)
        if any(v.status == "contradicted" for v in verdicts):
            flags.append("contradiction")
        return Verdict(score, verdicts, "\n".join(feedback_lines(verdicts)), flags, grader=self.name)

    def _judge(self, reading: _Reading, point: _Point) -> tuple[PointVerdict, frozenset[int], frozenset[int]]:
        """The point's verdict, the clauses that confirm it, and the clauses that contradict it."""
        kp = point.kp
        parts = reading.parts
        confirming: frozenset[int] = frozenset()

        def verdict(
            status: Status, found: _Found | None = None, correction: str = "", also: frozenset[int] = frozenset()
        ) -> tuple[PointVerdict, frozenset[int], frozenset[int]]:
            quote = parts[found.clause].quote(found.span.start, found.span.end) if found else ""
            against = also | {found.clause} if found and status == "contradicted" else frozenset()
            return PointVerdict(kp.point, status, quote, kp.weight, correction), confirming, against

        hits = [
            (f, side)
            for side in point.contradictions
            for f in reading.find(side)
            if not f.negated and not reading.rejected(f.clause, f.span)
        ]
        if hits:  # every clause caught in a wrong claim is known, so none of them backs another point's tick
            first, side = hits[0]
            return verdict("contradicted", first, side.correction, frozenset(f.clause for f, _ in hits))
        found = {id(side): reading.find(side) for side in point.claims}
        confirmed = next((f for fs in found.values() for f in fs if not f.negated), None)
        # A negated or reversed reading contradicts the point only when no other clause states it: an answer
        # that says both (symmetric facts, "min here, max there") is not caught in a contradiction by a guess.
        for side in point.claims:
            if confirmed is not None:
                continue
            negated = [f for f in found[id(side)] if f.negated]
            if negated:
                return verdict("contradicted", negated[0], f"In fact: {kp.point}")
            reversed_ = [r for r in reading.find(side, flip=True) if not r.negated]
            if reversed_:
                return verdict("contradicted", reversed_[0], f"That is the other way round: {kp.point}")
        if confirmed is not None:
            confirming = frozenset(f.clause for fs in found.values() for f in fs if not f.negated)
            return verdict("confirmed", confirmed)
        if any(side.subject and reading.said_unbound(side) for side in point.claims) or self._terms_present(
            reading, point
        ):
            return verdict("mentioned")
        return verdict("missed")

    @staticmethod
    def _terms_present(reading: _Reading, point: _Point) -> bool:
        """Two or more of the point's content words together in one clause (not copied from the question)."""
        need = 2 if len(point.terms) <= 4 else 3
        return any(
            len(point.terms & stems) >= need for ci, stems in enumerate(reading.clause_stems) if ci not in reading.echo
        )

    def _dont_know(self, points: tuple[_Point, ...]) -> Verdict:
        verdicts = all_missed(tuple(p.kp for p in points))
        lines = [
            "No problem, saying so is better than guessing in a real interview. Here is what a strong answer covers:",
            *(f"• {p.kp.point}" for p in points),
            "",
            "Tip: in an interview, think aloud about what you do know; partial reasoning earns credit.",
        ]
        return Verdict(0.0, verdicts, "\n".join(lines), ["dont_know"], grader=self.name)


def _echoed(parts: list[Clause], prompt: str) -> frozenset[int]:
    """Clauses copied from the question: stating the question back confirms nothing."""
    flat = " ".join(prompt.casefold().split())
    out = set()
    for i, c in enumerate(parts):
        text = " ".join(c.original.casefold().split())
        if len(c.tokens) >= 5 and fuzz.partial_ratio(text, flat) >= 95:
            out.add(i)
    return frozenset(out)


def _restates(parts: list[Clause], echo: frozenset[int], prompt: str, answer: str) -> bool:
    """The answer is mostly the question pasted back. Reusing the question's terms is fine."""
    copied = sum(len(parts[i].tokens) for i in echo)
    total = sum(len(c.tokens) for c in parts)
    return copied >= 0.6 * total or fuzz.ratio(answer.casefold(), prompt.casefold()) >= 85
