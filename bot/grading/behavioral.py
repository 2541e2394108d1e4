"""Reads a behavioral answer for what interviewers listen for: the STAR parts in their usual
phrasings, first-person ownership, a measurable result, and the red flags that sink a story."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.grading.text import words

SPOKEN_WPM = 140  # a calm speaking pace; 1-2 minutes is roughly 140-280 words
_B = r"(?<![\w-])"  # a word boundary that a hyphen does not make: "gradient-boosted" is not "boosted"
_E = r"(?![\w-])"

_CUES: dict[str, tuple[str, ...]] = {
    "situation": (
        rf"{_B}(at|in) (my|our|a|the) (previous|last|current|old|first|former)?\s*"
        rf"(job|company|team|internship|lab|startup|role|group|project|employer|position){_E}",
        rf"{_B}(when|while) (i|we) (was|were|worked|joined|started|led|ran){_E}",
        rf"{_B}(last|this|that|one|early|late) (year|quarter|summer|spring|autumn|fall|winter|semester|month|week){_E}",
        rf"{_B}in (19|20)\d\d{_E}",
        rf"{_B}(a few|two|three|several) (years|months|weeks) ago{_E}",
        rf"{_B}(the|our|my) (project|team|product|client|company|service|model|pipeline) (was|had|needed|used|kept){_E}",
        rf"{_B}(context|background|situation) (was|is){_E}",
    ),
    "task": (
        rf"{_B}my (main )?(goal|job|task|role|responsibility|mandate|assignment)( that \w+| there| on \w+)? (was|became){_E}",
        rf"{_B}i (was|got) (responsible|asked|tasked|assigned|in charge|brought in){_E}",
        rf"{_B}i (needed|had|wanted) to{_E}",
        rf"{_B}(the|our) (goal|challenge|problem|task|objective|target) was{_E}",
        rf"{_B}(it was|it became) (my|up to me){_E}",
        rf"{_B}(we|i) (needed|had) to (ship|deliver|fix|cut|reduce|hit|meet){_E}",
    ),
    "action": (
        rf"{_B}i (?:also |then |first |personally |quickly |eventually |finally |immediately )?(?:[a-z]{{3,}}ed|built|"
        rf"wrote|rewrote|ran|led|made|found|took|began|chose|drove|spoke|brought|got|did|sent|kept|put|set up|"
        rf"taught|gave|held|met|split|went|told|dug|caught|sought|sat down|proposed|designed){_E}",
        rf"{_B}my (approach|plan|first step|solution|fix) was{_E}",
        rf"{_B}so i{_E}",
    ),
    "result": (
        rf"{_B}(as a result|in the end|eventually|ultimately|the outcome|the result was|resulted in|led to|"
        rf"which meant|by the end){_E}",
        rf"{_B}(it|we|the model|the team|latency|accuracy|revenue|the project) (shipped|launched|went live|"
        rf"improved|dropped|fell|rose|grew|doubled|halved){_E}",
        rf"\d+(\.\d+)?\s*(%|percent|x{_E}|ms{_E}|hours?|days?|weeks?|users|customers|points)",
    ),
}
_MEASURABLE = re.compile(
    r"\d+(\.\d+)?\s*(%|percent|x(?!\w)|times|ms(?!\w)|seconds|minutes|hours?|days?|weeks?|months?|k(?!\w)|users|"
    r"customers|points|pp|dollars|\$)|\$\s?\d+|from \$?\d+(\.\d+)?\s?\S* to \$?\d+",
    re.I,
)
_RED_FLAGS: dict[str, tuple[str, ...]] = {
    "blames others": (
        rf"{_B}(it was|that was) (their|his|her|the other team's|my manager's|my lead's) (fault|mistake|problem){_E}",
        rf"{_B}(they|he|she|my manager|my lead|the other team) (was|were) (incompetent|useless|lazy|clueless|wrong){_E}",
        rf"{_B}because (they|he|she|the other team) (didn't|did not|never|failed to){_E}",
        rf"{_B}(not my fault|nothing i could (do|have done)){_E}",
    ),
    "takes all the credit": (
        rf"{_B}(i did (it|everything|all of it) (myself|alone|on my own)|single-?handedly|without any help|"
        rf"nobody else (could|would|did)|i alone){_E}",
    ),
}
_REFLECTION = re.compile(
    rf"{_B}(i learned|i learnt|lesson|in hindsight|looking back|next time|i would (now|have)|i'd (now|have)|"
    rf"i now|taught me|i realized|i realised|differently){_E}",
    re.I,
)


@dataclass
class StarReport:
    present: dict[str, bool]
    i_count: int
    we_count: int
    measurable: bool
    words: int
    red_flags: list[str] = field(default_factory=list)
    reflects: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        """0-4: structure counts most, then ownership, a measurable result and reflection; red flags cost."""
        parts = sum(self.present.values()) / 4
        ownership = 1.0 if self.i_count >= max(2, self.we_count // 2) else 0.5 if self.i_count else 0.0
        length_ok = 1.0 if 90 <= self.words <= 450 else 0.5
        raw = (
            0.5 * parts
            + 0.2 * ownership
            + 0.15 * float(self.measurable)
            + 0.1 * float(self.reflects)
            + 0.05 * length_ok
        )
        return round(max(0.0, 4 * raw - 1.0 * len(self.red_flags)), 2)


def analyse(answer: str) -> StarReport:
    text = " ".join(answer.split()).lower().replace("’", "'")
    present = {part: any(re.search(c, text) for c in cues) for part, cues in _CUES.items()}
    toks = words(answer)
    i_count = sum(1 for t in toks if t in ("i", "i'm", "i've", "i'd", "me", "my", "myself"))
    we_count = sum(1 for t in toks if t in ("we", "we're", "we've", "us", "our", "ours"))
    flags = [name for name, cues in _RED_FLAGS.items() if any(re.search(c, text) for c in cues)]
    report = StarReport(
        present, i_count, we_count, bool(_MEASURABLE.search(answer)), len(toks), flags, bool(_REFLECTION.search(text))
    )
    missing = [p for p, ok in present.items() if not ok]
    if missing:
        report.notes.append(f"Add the missing STAR part{'s' if len(missing) > 1 else ''}: " + ", ".join(missing) + ".")
    if we_count > 0 and i_count < max(2, we_count // 2):
        report.notes.append('Say what you did yourself: use "I" for your own actions, not only "we".')
    if not report.measurable:
        report.notes.append(
            'Give the result a number (a metric, time saved, users affected); "it improved" is not one.'
        )
    if not report.reflects:
        report.notes.append("Close with what you learned or would do differently.")
    for flag in flags:
        report.notes.append(
            {
                "blames others": "Red flag: the story blames others. Say what you could control and what you did.",
                "takes all the credit": "Red flag: it sounds like you did everything alone. Credit the people who helped.",
            }[flag]
        )
    seconds = report.words / SPOKEN_WPM * 60
    if report.words < 90:
        report.notes.append(f"Spoken aloud this is about {seconds:.0f} s; aim for 1-2 minutes with more detail.")
    elif report.words > 450:
        report.notes.append(f"Spoken aloud this is about {seconds / 60:.1f} min; trim it to 1-2 minutes.")
    return report
