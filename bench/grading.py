"""How well the offline rubric grader orders answers, against a labelled set in the repo.

Per question, every strong answer should outscore every partial one, and every partial one every
wrong one (pairwise ordering accuracy; a tie counts half). Also the Spearman correlation between
scores and labels, and the grading latency per answer (with a baseline in the same run: just
tokenising the same answer).

    python -m bench.grading [--labels bench/grading_labels.yaml]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

import yaml

from bot.grading.bank_rubrics import rubric_for
from bot.grading.rubric import RubricGrader
from bot.grading.text import clauses
from questions.loader import load_bank

LABELS = Path(__file__).with_name("grading_labels.yaml")
RANK = {"wrong": 0, "partial": 1, "strong": 2}


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2
        i = j + 1
    return out


def spearman(xs: list[float], ys: list[float]) -> float:
    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sx = sum((a - mx) ** 2 for a in rx) ** 0.5
    sy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (sx * sy) if sx and sy else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--show", action="store_true", help="print every answer's score")
    args = parser.parse_args()
    bank = load_bank()
    items = yaml.safe_load(args.labels.read_text())["answers"]
    grader = RubricGrader()
    scored: dict[str, list[tuple[int, float, str]]] = defaultdict(list)
    by_case: dict[str, list[float]] = defaultdict(list)
    for item in items:
        rubric = rubric_for(bank.technical[item["question_id"]])
        score = grader.grade_sync(rubric, item["answer"]).score
        scored[item["question_id"]].append((RANK[item["label"]], score, item.get("case", "normal")))
        by_case[f"{item['label']}/{item.get('case', 'normal')}"].append(score)
        if args.show:
            print(f"{score:4.1f} {item['label']:8} {item.get('case', 'normal'):9} {item['question_id']}")
    pairs = wins = strict = 0.0
    for answers in scored.values():
        for a_rank, a_score, _ in answers:
            for b_rank, b_score, _ in answers:
                if a_rank == b_rank + 1:  # strong vs partial, partial vs wrong
                    pairs += 1
                    wins += 1.0 if a_score > b_score else 0.5 if a_score == b_score else 0.0
                    strict += a_score > b_score
    labels = [float(r) for answers in scored.values() for r, _, _ in answers]
    scores = [s for answers in scored.values() for _, s, _ in answers]

    latencies, baseline = [], []
    for _ in range(args.repeat):
        for item in items:
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

    print(f"grading: {len(items)} labelled answers to {len(scored)} questions")
    print(
        f"  pairwise ordering accuracy : {wins / pairs:.3f} ({int(pairs)} pairs; strict, ties as losses: {strict / pairs:.3f}); target >= 0.85"
    )
    print(f"  Spearman correlation       : {spearman(scores, labels):.3f}")
    for case in sorted(by_case):
        print(f"  mean score {case:20}: {statistics.fmean(by_case[case]):.2f} (n={len(by_case[case])})")
    print(
        f"  latency per answer         : p50 {pct(latencies, 0.5):.2f} ms, p99 {pct(latencies, 0.99):.2f} ms (target p99 < 50 ms)"
    )
    print(
        f"  baseline (tokenising only) : p50 {pct(baseline, 0.5):.2f} ms, p99 {pct(baseline, 0.99):.2f} ms; grading p99 = {pct(latencies, 0.99) / pct(baseline, 0.99):.1f}x"
    )


if __name__ == "__main__":
    main()
