"""How well the offline claim grader orders blind labelled answers, and its latency.

Labelled files live in bench/labels/. Rubric authors may read `tuning*.yaml` and `project.yaml`;
`heldout*.yaml` are never read while rubrics are written. A held-out file that has been measured and
then opened to tuners is renamed `tuning-*` (tuning-h1 to -h3 were the first three held-out sets of
the same 32 questions). Figures are reported per file; the held-out ones are the result. Latency is
compared with a baseline from the same run: splitting the same answer into clauses.

    python -m bench.grading [--labels FILE ...] [--show]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import yaml

from bot.grading.bank_rubrics import rubric_for
from bot.grading.claims import ClaimGrader
from bot.grading.evaluation import Figures, evaluate
from bot.grading.patterns import clear_caches
from bot.grading.text import clauses
from bot.grading.verdict import Verdict
from questions.loader import load_bank

LABELS = Path(__file__).with_name("labels")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=Path, nargs="*", default=sorted(LABELS.glob("*.yaml")))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print every answer's score and point verdicts")
    args = parser.parse_args()
    bank = load_bank()
    grader = ClaimGrader()

    async def grade(qid: str, answer: str) -> Verdict:
        return grader.grade_sync(rubric_for(bank.technical[qid]), answer)

    prompts = {q.id: q.prompt for q in bank.technical.values()}
    everything = []
    held_out: list[Figures] = []
    for path in args.labels:
        data = yaml.safe_load(path.read_text())
        answers = [a for a in data["answers"] if a["question_id"] in bank.technical]
        everything += answers
        figures, verdicts = asyncio.run(evaluate(answers, grade, prompts, data.get("points", [])))
        print(f"grading: {path.name}")
        print("\n".join(figures.lines()))
        if path.name.startswith("heldout"):
            held_out.append(figures)
        if args.show:
            for a, v in zip(answers, verdicts, strict=True):
                marks = " ".join(p.status[:4] for p in v.points)
                print(f"    {v.score:3.1f} {a['label']:<12} {a['question_id']:<40} {marks}")

    if len(held_out) > 1:
        print(f"held-out, {len(held_out)} files pooled:")
        print("\n".join(_pooled(held_out)))

    # Compiling a rubric (expanding its patterns) happens once per question per process, before its
    # first grade; it is timed on its own so the per-answer figures are what a running bot pays.
    compile_times = []
    cold = ClaimGrader()
    for qid in {item["question_id"] for item in everything}:
        clear_caches()
        start = time.perf_counter()
        cold.compile(rubric_for(bank.technical[qid]))
        compile_times.append(time.perf_counter() - start)
    compile_times.sort()
    latencies, baseline = [], []
    for _ in range(args.repeat):
        for item in everything:
            rubric = rubric_for(bank.technical[item["question_id"]])
            start = time.perf_counter()
            grader.grade_sync(rubric, item["answer"])
            latencies.append(time.perf_counter() - start)
            start = time.perf_counter()
            clauses(item["answer"])
            baseline.append(time.perf_counter() - start)
    latencies.sort()
    baseline.sort()

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    print(
        f"first use of a question (rubric compiled once per process): p50 {pct(compile_times, 0.5):.1f} ms, "
        f"max {compile_times[-1] * 1000:.1f} ms over {len(compile_times)} questions"
    )
    print(
        f"latency per answer: p50 {pct(latencies, 0.5):.2f} ms, p99 {pct(latencies, 0.99):.2f} ms (target p99 < 50 ms); "
        f"baseline (clause split) p99 {pct(baseline, 0.99):.2f} ms, ratio {pct(latencies, 0.99) / pct(baseline, 0.99):.1f}x"
    )


def _pooled(files: list[Figures]) -> list[str]:
    """The held-out files' headline figures together: per question (each file's questions count once)
    and per tick, so a second blind set of answers to the same questions adds to the evidence."""
    questions = sum(f.questions for f in files)
    ticks = sum(f.ticks for f in files)

    def per_question(name: str) -> float:
        return sum((getattr(f, name) or 0.0) * f.questions for f in files) / questions

    right = sum((f.tick_precision or 0.0) * f.ticks for f in files)

    def mean(label: str) -> float:  # every file has one answer of the label per question, or none
        having = [f for f in files if label in f.means]
        return sum(f.means[label] * f.questions for f in having) / max(1, sum(f.questions for f in having))

    return [
        f"  question sets                : {questions}",
        f"  ordering accuracy            : {per_question('ordering'):.3f} (target >= 0.90)",
        f"  mean score strong / fluent_wrong: {mean('strong'):.2f} / {mean('fluent_wrong'):.2f} (targets >= 3.3 / <= 1.0)",
        f"  fluent_wrong < partial       : {per_question('wrong_below_partial'):.0%} of question sets (target >= 85%)",
        f"  terse strong >= 2.5          : {per_question('terse_ok'):.0%} of question sets (target >= 85%)",
        f"  tick precision               : {right / ticks if ticks else 0:.3f} on {ticks} ticks (target >= 0.95)",
    ]


if __name__ == "__main__":
    main()
