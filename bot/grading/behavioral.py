"""Checks a behavioral answer for the parts interviewers listen for: STAR, ownership, numbers, length."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.grading.text import words

SPOKEN_WPM = 140  # a calm speaking pace; 1-2 minutes is roughly 140-280 words
_CUES: dict[str, tuple[str, ...]] = {
    "situation": (
        r"\bat (my|our|a|the) (previous|last|current|old)?\s*(job|company|team|internship|lab|startup|role)\b",
        r"\b(when|while) i (was|worked|joined)\b",
        r"\b(last|this|that) (year|quarter|summer|semester|month)\b",
        r"\bin (19|20)\d\d\b",
        r"\b(the|our|my) (project|team|product|client|company) (was|had|needed|used)\b",
        r"\bcontext\b|\bbackground\b|\bsituation\b",
        r"\bwe (had|were|needed)\b",
    ),
    "task": (
        r"\bmy (goal|job|task|role|responsibility) was\b",
        r"\bi (was|am) (responsible|asked|tasked|in charge)\b",
        r"\bi (needed|had) to\b",
        r"\b(the|our) (goal|challenge|problem|task) was\b",
        r"\bwe (needed|had) to\b",
        r"\b(deadline|target|objective)\b",
    ),
    "action": (
        r"\bi (?:also |then |first |personally |quickly |eventually |finally )?(?:[a-z]{3,}ed|built|wrote|rewrote|ran|"
        r"led|made|found|took|began|chose|drove|spoke|brought|got|did|sent|kept|put|set up|taught|gave|held|met|"
        r"split|went|told|became|dug|caught|sought)\b",
        r"\bmy (approach|plan|first step|solution) was\b",
    ),
    "result": (
        r"\b(as a result|in the end|eventually|ultimately|outcome|result was|resulted in)\b",
        r"\b(reduced|increased|improved|cut|saved|raised|lowered|doubled|halved|boosted|shipped|launched|"
        r"grew|dropped|decreased)\b",
        r"\b(i|we) learned\b|\blesson\b",
        r"\d+(\.\d+)?\s*(%|percent|x\b|ms\b|hours?|days?|weeks?|users|customers|points)",
    ),
}
_MEASURABLE = re.compile(
    r"\d+(\.\d+)?\s*(%|percent|x\b|times|ms\b|seconds|minutes|hours?|days?|weeks?|k\b|users|customers|points|"
    r"dollars|\$)|\$\s?\d+|from \d+(\.\d+)? ?\S* to \d+",
    re.I,
)


@dataclass
class StarReport:
    present: dict[str, bool]
    i_count: int
    we_count: int
    measurable: bool
    words: int
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        """0-4: structure counts most, then ownership and a measurable result."""
        parts = sum(self.present.values()) / 4
        ownership = 1.0 if self.i_count >= max(2, self.we_count // 2) else 0.5 if self.i_count else 0.0
        length_ok = 1.0 if 90 <= self.words <= 450 else 0.5
        return round(4 * (0.55 * parts + 0.2 * ownership + 0.15 * float(self.measurable) + 0.1 * length_ok), 2)


def analyse(answer: str) -> StarReport:
    text = " ".join(answer.split()).lower().replace("’", "'")
    present = {part: any(re.search(c, text) for c in cues) for part, cues in _CUES.items()}
    toks = words(answer)
    i_count = sum(1 for t in toks if t in ("i", "i'm", "i've", "i'd", "me", "my", "myself"))
    we_count = sum(1 for t in toks if t in ("we", "we're", "we've", "us", "our", "ours"))
    report = StarReport(present, i_count, we_count, bool(_MEASURABLE.search(answer)), len(toks))
    missing = [p for p, ok in present.items() if not ok]
    if missing:
        report.notes.append("Add the missing STAR part(s): " + ", ".join(missing) + ".")
    if we_count > 0 and i_count < max(2, we_count // 2):
        report.notes.append('Say what you did yourself: use "I" for your own actions, not only "we".')
    if not report.measurable:
        report.notes.append("Give the result a number (a metric, time saved, users affected).")
    seconds = report.words / SPOKEN_WPM * 60
    if report.words < 90:
        report.notes.append(f"Spoken aloud this is about {seconds:.0f} s; aim for 1-2 minutes with more detail.")
    elif report.words > 450:
        report.notes.append(f"Spoken aloud this is about {seconds / 60:.1f} min; trim it to 1-2 minutes.")
    return report
