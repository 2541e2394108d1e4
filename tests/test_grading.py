"""The offline rubric grader, the behavioral analyser and the `grade` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.grading.bank_rubrics import rubric_for
from bot.grading.behavioral import analyse
from bot.grading.rubric import RubricGrader
from bot.grading.verdict import Rubric
from questions.loader import Bank
from questions.schema import KeyPoint
from tests.conftest import FIXTURE_BANK, ROOT

STRONG = (
    "Overfitting: the gap means high variance, because the model memorizes the training data instead of "
    "generalizing. I would add regularization such as dropout or weight decay, use a simpler model to reduce "
    "complexity, and get more training data or use data augmentation."
)
PARTIAL = "It is probably overfitting, which happens when the model memorizes the training data."
WRONG = "The model is underfitting, so I would train a much larger network for longer."


@pytest.fixture
def grader() -> RubricGrader:
    return RubricGrader()


def grade(grader: RubricGrader, bank: Bank, qid: str, answer: str) -> tuple[float, list[str], list[str]]:
    verdict = grader.grade_sync(rubric_for(bank.technical[qid]), answer)
    return verdict.score, [p.status for p in verdict.points], verdict.flags


def test_strong_beats_partial_beats_wrong(grader: RubricGrader, bank: Bank) -> None:
    strong, _, _ = grade(grader, bank, "fx-bias-variance", STRONG)
    partial, _, _ = grade(grader, bank, "fx-bias-variance", PARTIAL)
    wrong, _, _ = grade(grader, bank, "fx-bias-variance", WRONG)
    assert strong >= 3.5 and strong > partial > wrong


def test_keyword_list_does_not_reach_full_marks(grader: RubricGrader, bank: Bank) -> None:
    score, statuses, flags = grade(
        grader, bank, "fx-bias-variance", "overfitting, high variance, regularization, dropout, more data, augmentation"
    )
    assert "covered" in statuses
    assert score <= 2.0 and "list_without_explanation" in flags


def test_pasted_question_scores_near_zero(grader: RubricGrader, bank: Bank) -> None:
    q = bank.technical["fx-bias-variance"]
    score, _, flags = grade(grader, bank, "fx-bias-variance", q.prompt)
    assert score <= 0.5 and "restates_question" in flags


@pytest.mark.parametrize("answer", ["I don't know", "idk", "No idea, sorry", "not sure", "I dont know 🙁"])
def test_dont_know_gets_a_kind_teaching_reply(grader: RubricGrader, bank: Bank, answer: str) -> None:
    verdict = grader.grade_sync(rubric_for(bank.technical["fx-l1-vs-l2"]), answer)
    assert verdict.score == 0 and "dont_know" in verdict.flags
    assert "No problem" in verdict.feedback
    for kp in bank.technical["fx-l1-vs-l2"].key_points:
        assert kp.point in verdict.feedback


def test_negation_does_not_cover_the_point(grader: RubricGrader, bank: Bank) -> None:
    positive = "L1 drives weak weights to exactly zero, which makes the model sparse, so it does feature selection."
    negated = "L1 does not drive weights to exactly zero and it is not sparse, so there is no feature selection."
    pos, pos_status, _ = grade(grader, bank, "fx-l1-vs-l2", positive)
    neg, neg_status, flags = grade(grader, bank, "fx-l1-vs-l2", negated)
    assert pos_status[0] == "covered" and neg_status[0] == "missed"
    assert neg < pos and "negated" in flags


def test_typos_still_match(grader: RubricGrader, bank: Bank) -> None:
    score, statuses, _ = grade(
        grader,
        bank,
        "fx-softmax-stable",
        "Big logits overflw to infinty, so I subtract the maxmum logit first because softmax is shift invariant.",
    )
    assert statuses[1] in ("covered", "partly") and score > 1.0


def test_evidence_quotes_the_answer(grader: RubricGrader, bank: Bank) -> None:
    verdict = grader.grade_sync(rubric_for(bank.technical["fx-bias-variance"]), STRONG)
    covered = [p for p in verdict.points if p.status == "covered"]
    assert covered and all(p.evidence and p.evidence.rstrip("…")[:20] in STRONG for p in covered)


def test_off_topic_and_foreign_scripts_score_zero(grader: RubricGrader, bank: Bank) -> None:
    for answer in (
        "I enjoy hiking on weekends because it is relaxing.",
        "这是一个关于天气的回答，因为今天下雨。",
        "🙂🙂🙂",
    ):
        score, _, _ = grade(grader, bank, "fx-bias-variance", answer)
        assert score == 0


def test_behavioral_analysis_finds_star_ownership_and_numbers() -> None:
    strong = (
        "At my previous company our team had a recommendation model whose latency kept breaking the SLA. "
        "My goal was to bring p99 latency under 100 ms before the holiday launch. I profiled the service, "
        "I found the feature lookups were sequential, and I rewrote them as one batched call; I also added a cache. "
        "As a result p99 dropped from 240 ms to 80 ms and we launched on time. I learned to profile before optimising."
    )
    report = analyse(strong)
    assert all(report.present.values())
    assert report.measurable and report.i_count > report.we_count
    weak = analyse("We worked hard as a team and we fixed it together and we were happy.")
    assert not weak.present["result"] or not weak.measurable
    assert any("I" in n for n in weak.notes) and any("number" in n for n in weak.notes)
    assert any("1-2 minutes" in n for n in weak.notes)
    assert report.score > weak.score


def test_grade_command_prints_json() -> None:
    env = {**os.environ, "EXTRA_BANK_DIRS": str(FIXTURE_BANK), "DATA_DIR": "/tmp/mi-grade-test"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "grade", "fx-bias-variance"],
        input=STRONG,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["question_id"] == "fx-bias-variance" and out["score"] >= 3.5
    assert {p["status"] for p in out["key_points"]} == {"covered"} and out["key_points"][0]["evidence"]
    missing = subprocess.run(
        [sys.executable, "-m", "bot.cli", "grade", "no-such-question"],
        input="x",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert missing.returncode == 2 and "no gradable question" in missing.stderr


def test_fixture_bank_exists() -> None:
    assert (FIXTURE_BANK / "technical.yaml").exists()


def test_opposite_direction_and_lost_negation_do_not_cover(grader: RubricGrader, bank: Bank) -> None:
    # The fixture's first bias-variance point is about high variance; saying variance is low is the opposite.
    right = "The gap tells me the model has high variance, which is why I would regularize it."
    opposite = "The gap tells me the model has low variance, which is why I would regularize it."
    r, r_status, _ = grade(grader, bank, "fx-bias-variance", right)
    o, o_status, _ = grade(grader, bank, "fx-bias-variance", opposite)
    assert r_status[0] == "covered" and o_status[0] == "missed" and o < r


def test_a_bare_list_of_terms_scores_below_a_weak_explanation(grader: RubricGrader, bank: Bank) -> None:
    bare, _, flags = grade(grader, bank, "fx-l1-vs-l2", "L1, L2, sparsity, corners, feature selection, lasso, ridge")
    weak, _, _ = grade(grader, bank, "fx-l1-vs-l2", "L1 gives sparse models because weak weights go to zero.")
    assert bare <= 1.0 < weak and "list_without_explanation" in flags


@pytest.mark.parametrize(
    ("phrasing", "wrong"),
    [
        ("on-policy", "SARSA is off-policy, so it learns the greedy value."),
        ("local optimum", "Gradient descent always reaches the global optimum of a neural network."),
        ("about 4 days", "It takes about 40 days to train on one machine."),
        ("k/i", "Each item is kept with probability k/n, so the sample stays uniform."),
    ],
)
def test_a_different_word_is_not_a_typo(grader: RubricGrader, phrasing: str, wrong: str) -> None:
    rubric = Rubric("probe", "technical", "Explain.", (KeyPoint(point="p", phrasings=[phrasing, phrasing + " x"]),), "")
    assert grader.grade_sync(rubric, wrong).points[0].status == "missed"
    assert grader.grade_sync(rubric, wrong.replace(wrong.split()[3], phrasing)).points[0].status != "missed"
