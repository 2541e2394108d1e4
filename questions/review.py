"""`python -m questions.review`: a fixed-seed sample of 40 technical questions, written to REVIEW.md
with their rubrics and reference answers, so a person can read them as an interviewer would."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from questions.loader import SHIPPED_DIR, load_bank
from questions.schema import KeyPoint
from questions.sections import section_title

SEED = 20261205  # a fresh sample for each review round
SAMPLE = 40
NOTES_MARK = "<!-- reviewer notes below are kept when the file is regenerated -->"


def main() -> int:
    bank = load_bank()
    rng = random.Random(SEED)
    picked = rng.sample(sorted(bank.technical), SAMPLE)
    target = SHIPPED_DIR / "REVIEW.md"
    notes = ""
    if target.exists() and NOTES_MARK in target.read_text():
        notes = target.read_text().split(NOTES_MARK, 1)[1]
    out = [
        "# Sampled review of the technical bank",
        "",
        f"{SAMPLE} questions drawn with seed {SEED} by `python -m questions.review`, each read as an interviewer",
        "would: is the question fair, is every key point right and necessary, does the reference answer hold?",
        "",
    ]
    for n, qid in enumerate(picked, 1):
        q = bank.technical[qid]
        out += [
            f"## {n}. `{q.id}` · {section_title(q.section)} · {q.difficulty} · {q.kind}",
            "",
            f"**Prompt.** {q.prompt}",
            "",
            "**Key points.**",
            *[line for kp in q.key_points for line in _key_point(kp)],
            "",
            f"**Reference answer.** {q.reference_answer}",
            "",
        ]
    out += [NOTES_MARK + (notes if notes else "\n\n## Reviewer notes\n\n(none yet)\n")]
    Path(target).write_text("\n".join(out))
    print(f"wrote {target} ({SAMPLE} questions)")
    return 0


def _key_point(kp: KeyPoint) -> list[str]:
    """The point, what confirms it and what contradicts it, as a reviewer reads them."""
    lines = [f"- ({kp.weight}) {kp.point}"]
    lines += [f"  - says: `{'`, `'.join(c.says)}`" for c in kp.claims]
    lines += [f"  - wrong: `{'`, `'.join(c.says)}` → {c.correction}" for c in kp.contradictions]
    return lines


if __name__ == "__main__":
    sys.exit(main())
