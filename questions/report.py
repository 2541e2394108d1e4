"""Validation and statistics output shared by `mock-interviewer questions ...`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from questions.loader import Bank, BankInvalid, load_bank
from questions.overlap import OVERLAP_NOTE, overlaps
from questions.schema import QuizQuestion
from questions.sections import SECTIONS

# Floors from the bank issues; `questions stats` marks any section below its floor.
TECHNICAL_FLOORS: dict[str, int] = {  # 620 in all; 9.1 and 9.2 together at least 90
    "5.1.1": 13,
    "5.1.2": 19,
    "5.1.3": 14,
    "5.1.4": 20,
    "5.2.1": 37,
    "5.2.2": 46,
    "6.1": 29,
    "6.2": 15,
    "6.3": 35,
    "7.1": 27,
    "7.2": 32,
    "7.3": 48,
    "8.1": 51,
    "8.2.1": 25,
    "8.2.2": 23,
    "8.2.3": 13,
    "8.2.4": 19,
    "8.3": 61,
    "9.1": 40,
    "9.2": 53,
}
# Areas the 2026 bank issue added, counted by their id prefix.
AREA_FLOORS: dict[str, tuple[str, int]] = {
    "causal inference": ("causal-", 12),
    "time series": ("ts-", 10),
    "recommender systems": ("rec-", 12),
    "experiment design": ("exp-", 8),
    "product metrics": ("metric-", 10),
}
OTHER_FLOORS: dict[str, int] = {"behavioral": 80, "design": 45, "quiz": 250}


@dataclass(frozen=True)
class QuizAnswerStats:
    """How guessable the quiz bank is from the options' form alone.

    `longest` counts items whose correct option is strictly longer than every other option (a
    test-taker's "pick the longest" cue); `positions[i]` counts correct answers at index i (A, B, ...),
    and `four_option_positions` the same among items with exactly four options."""

    items: int
    longest: int
    positions: tuple[int, ...]
    four_option_items: int
    four_option_positions: tuple[int, ...]

    @property
    def longest_share(self) -> float:
        return self.longest / self.items if self.items else 0.0

    def position_shares(self, *, four_options: bool = False) -> dict[str, float]:
        counts, total = (
            (self.four_option_positions, self.four_option_items) if four_options else (self.positions, self.items)
        )
        return {chr(65 + i): (c / total if total else 0.0) for i, c in enumerate(counts)}

    def line(self) -> str:
        if not self.items:
            return "quiz answers: no quiz items"
        spread = " ".join(f"{k} {v:.0%}" for k, v in self.position_shares().items())
        return (
            f"quiz answers: correct option strictly longest in {self.longest}/{self.items} "
            f"({self.longest_share:.0%}); positions {spread}"
        )


def quiz_answer_stats(quiz: Iterable[QuizQuestion]) -> QuizAnswerStats:
    items = list(quiz)
    width = max((len(q.options) for q in items), default=0)
    positions = [0] * width
    four = [0] * 4
    longest = 0
    for q in items:
        right = len(q.options[q.answer])
        if all(right > len(o) for i, o in enumerate(q.options) if i != q.answer):
            longest += 1
        positions[q.answer] += 1
        if len(q.options) == 4:
            four[q.answer] += 1
    return QuizAnswerStats(len(items), longest, tuple(positions), sum(four), tuple(four))


def validate(paths: list[Path]) -> tuple[int, str]:
    """Exit code and text for `questions validate`."""
    try:
        bank = load_bank(paths)
    except BankInvalid as exc:
        return 1, str(exc)
    except FileNotFoundError as exc:
        return 2, str(exc)
    text = f"ok: {len(bank)} items valid in {', '.join(str(p) for p in paths)}"
    text += "".join(f"\nnote: {n}" for n in bank.notes)
    similar = overlaps(bank.technical.values(), OVERLAP_NOTE)
    if similar:
        text += f"\n{len(similar)} pairs of technical questions with similar topic and key points (>= {OVERLAP_NOTE}):"
        text += "".join(f"\n  {o.score:.2f}  {o.first} / {o.second}" for o in similar)
    if bank.quiz:
        text += "\n" + quiz_answer_stats(bank.quiz.values()).line()
    return 0, text


def stats_table(bank: Bank) -> str:
    rows: Counter[tuple[str, str]] = Counter()
    for q in bank.technical.values():
        rows[(q.section, q.difficulty)] += 1
    lines = [f"{'section':<8} {'title':<44} {'easy':>5} {'med':>5} {'hard':>5} {'total':>6} {'floor':>6}"]
    total = Counter[str]()
    for section in sorted({s for s, _ in rows} | set(TECHNICAL_FLOORS), key=_section_key):
        counts = [rows[(section, d)] for d in ("easy", "medium", "hard")]
        floor = TECHNICAL_FLOORS.get(section, 0)
        mark = "" if sum(counts) >= floor else "  BELOW FLOOR"
        lines.append(
            f"{section:<8} {SECTIONS.get(section, '')[:44]:<44} {counts[0]:>5} {counts[1]:>5} {counts[2]:>5} "
            f"{sum(counts):>6} {floor:>6}{mark}"
        )
        for d, c in zip(("easy", "medium", "hard"), counts, strict=True):
            total[d] += c
    n = sum(total.values()) or 1
    lines.append(
        f"{'technical':<53} {total['easy']:>5} {total['medium']:>5} {total['hard']:>5} {sum(total.values()):>6} "
        f"{sum(TECHNICAL_FLOORS.values()):>6}"
    )
    lines.append(
        f"{'mix':<53} {total['easy'] / n:>5.0%} {total['medium'] / n:>5.0%} {total['hard'] / n:>5.0%}   (target 40/45/15)"
    )
    for kind, store in (("behavioral", bank.behavioral), ("design", bank.design), ("quiz", bank.quiz)):
        mark = "" if len(store) >= OTHER_FLOORS[kind] else "  BELOW FLOOR"
        lines.append(f"{kind:<53} {'':>17} {len(store):>6} {OTHER_FLOORS[kind]:>6}{mark}")
    for area, (prefix, floor) in AREA_FLOORS.items():
        count = sum(1 for qid in bank.technical if qid.startswith(prefix))
        mark = "" if count >= floor else "  BELOW FLOOR"
        lines.append(f"{'area: ' + area:<53} {'':>17} {count:>6} {floor:>6}{mark}")
    lines.append(f"{'coaching cards':<53} {'':>17} {len(bank.cards):>6}")
    lines.append(quiz_answer_stats(bank.quiz.values()).line() + "   (target: longest <= 30%, each position ~25%)")
    return "\n".join(lines)


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(p) for p in section.split("."))
