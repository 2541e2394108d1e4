"""The offline claim grader, the behavioral analyser and the `grade` command.

The examples are the failures seen with the old keyword grader: each must now be read as the
claim it makes, not the words it uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.grading.bank_rubrics import rubric_for
from bot.grading.behavioral import analyse
from bot.grading.claims import ClaimGrader
from bot.grading.text import clauses, words
from bot.grading.verdict import PointVerdict, Rubric, Verdict, score_of
from questions.loader import Bank, load_bank
from questions.schema import KeyPoint
from tests.conftest import FIXTURE_BANK, GRADING_BANK, ROOT
from tests.console_driver import warm_bank_cache

STRONG = (
    "The gap means high variance: the model is overfitting the training data instead of generalizing. "
    "I would add regularization such as dropout or weight decay, use a simpler model, and get more training data "
    "or use data augmentation."
)


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank([FIXTURE_BANK, GRADING_BANK])


@pytest.fixture
def grader() -> ClaimGrader:
    return ClaimGrader()


def grade(grader: ClaimGrader, bank: Bank, qid: str, answer: str) -> Verdict:
    return grader.grade_sync(rubric_for(bank.technical[qid]), answer)


def statuses(verdict: Verdict) -> list[str]:
    return [p.status for p in verdict.points]


# ---------------------------------------------------------------- the examples


def test_a_dropped_sign_and_a_wrong_maximum_are_contradictions(grader: ClaimGrader, bank: Bank) -> None:
    wrong = grade(
        grader, bank, "fx-sigmoid-derivative", "The derivative is sigma(z)(1 + sigma(z)), largest for large z."
    )
    right = grade(grader, bank, "fx-sigmoid-derivative", "σ'(z) = σ(z)(1 − σ(z)); it peaks at z = 0, where it is 1/4.")
    assert statuses(wrong) == ["contradicted", "contradicted"] and wrong.score == 0
    assert statuses(right) == ["confirmed", "confirmed"] and right.score == 4.0
    assert "minus" in wrong.points[0].correction and "1 + sigma(z)" in wrong.points[0].evidence


def test_swapped_roles_do_not_earn_the_points(grader: ClaimGrader, bank: Bank) -> None:
    swapped = grade(grader, bank, "fx-rf-vs-gbm", "Random forests reduce bias and gradient boosting reduces variance.")
    right = grade(grader, bank, "fx-rf-vs-gbm", "Random forests reduce variance, while boosting reduces bias.")
    assert statuses(swapped) == ["contradicted", "contradicted"] and swapped.score == 0
    assert statuses(right) == ["confirmed", "confirmed"]


def test_word_order_decides_who_does_what(grader: ClaimGrader, bank: Bank) -> None:
    swapped = grade(
        grader, bank, "fx-cross-attention", "Queries come from the encoder, keys and values from the decoder."
    )
    right = grade(grader, bank, "fx-cross-attention", "Q from the decoder; K and V from the encoder output.")
    assert statuses(swapped) == ["contradicted", "contradicted"]
    assert statuses(right) == ["confirmed", "confirmed"] and right.score == 4.0


def test_reversal_words_are_read(grader: ClaimGrader, bank: Bank) -> None:
    minimised = grade(grader, bank, "fx-kmeans-shapes", "Pick the k whose silhouette score is minimised.")
    ring = grade(grader, bank, "fx-kmeans-shapes", "K-means copes well with elongated or ring-shaped clusters.")
    assert minimised.points[1].status == "contradicted" and "higher is better" in minimised.points[1].correction
    assert ring.points[0].status == "contradicted"
    rather = grade(grader, bank, "fx-rf-vs-gbm", "Bagging helps by averaging trees, rather than reducing variance.")
    assert rather.points[0].status == "contradicted"


def test_swapping_which_detector_localises_better_is_caught(grader: ClaimGrader, bank: Bank) -> None:
    swapped = grade(grader, bank, "fx-map-detectors", "Detector P localises more precisely; Q finds more objects.")
    right = grade(
        grader, bank, "fx-map-detectors", "Q has tighter boxes since it wins at strict IoU. P finds more objects."
    )
    assert swapped.points[0].status == "contradicted" and swapped.score <= 1.0
    assert statuses(right) == ["confirmed", "confirmed"]


def test_numbers_are_compared_as_values(grader: ClaimGrader, bank: Bank) -> None:
    wrong = grade(grader, bank, "fx-bootstrap-left-out", "About 63% of rows are left out of each bootstrap sample.")
    right = grade(grader, bank, "fx-bootstrap-left-out", "Roughly 1/e, about 37 percent, is left out: (1 - 1/n)^n.")
    complement = grade(grader, bank, "fx-bootstrap-left-out", "The share left out is 1 - 1/e, by the same limit.")
    assert wrong.points[0].status == "contradicted" and "36.8%" in wrong.points[0].correction
    assert right.points[0].status == "confirmed"
    assert complement.points[0].status == "contradicted"  # 1 - 1/e is 0.632, not the 1/e inside it
    repeated = grade(grader, bank, "fx-bayes-test", "The test catches 99% of cases, so the posterior is about 17%.")
    assert repeated.points[1].status == "confirmed"  # the 99% the question states is not read as a claim


def test_a_contradicted_weighty_point_keeps_the_score_below_three(grader: ClaimGrader, bank: Bank) -> None:
    verdict = grade(
        grader,
        bank,
        "fx-rf-vs-gbm",
        "Boosting fits each tree to the residuals, which reduces bias. Random forests also mostly reduce bias.",
    )
    assert "contradicted" in statuses(verdict) and verdict.score < 3
    assert "contradiction" in verdict.flags and "✗" in verdict.feedback


def test_every_tick_is_backed_by_a_quote(grader: ClaimGrader, bank: Bank) -> None:
    verdict = grade(grader, bank, "fx-bias-variance", STRONG)
    assert verdict.score == 4.0
    for p in verdict.points:
        assert p.status == "confirmed" and p.evidence.strip("…")[:25] in STRONG
        assert f"“{p.evidence}”" in verdict.feedback


def test_terms_without_the_claim_are_only_mentioned(grader: ClaimGrader, bank: Bank) -> None:
    verdict = grade(grader, bank, "fx-rf-vs-gbm", "Both are about bias and variance; it depends which one you reduce.")
    assert "confirmed" not in statuses(verdict) and verdict.score <= 1.0
    mentioned = grade(grader, bank, "fx-rf-vs-gbm", "It mostly reduces variance, I think.")
    assert mentioned.points[0].status == "mentioned" and "couldn't confirm" in mentioned.feedback


# ---------------------------------------------------------------- concise experts, pasted questions


def test_a_terse_expert_answer_is_not_capped(grader: ClaimGrader, bank: Bank) -> None:
    terse = grade(
        grader, bank, "fx-softmax-stable", "exp overflows for big logits -> subtract the max first (shift-invariant)."
    )
    assert terse.score == 4.0 and not terse.flags


def test_code_and_formulas_count_as_explanations(grader: ClaimGrader, bank: Bank) -> None:
    code = grade(
        grader,
        bank,
        "fx-softmax-stable",
        "```python\nz = x - max(x)  # exp(1000) overflows to inf\nreturn exp(z) / exp(z).sum()\n```",
    )
    assert code.points[1].status == "confirmed"
    formula = grade(grader, bank, "fx-bayes-test", "Bayes: 99 / (99 + 495) ≈ 0.167, i.e. about 17%.")
    assert formula.score == 4.0


def test_reusing_the_prompts_terms_is_fine_but_pasting_it_is_not(grader: ClaimGrader, bank: Bank) -> None:
    q = bank.technical["fx-cross-attention"]
    reuse = grade(
        grader, bank, "fx-cross-attention", "Queries come from the decoder, keys and values from the encoder."
    )
    assert reuse.score == 4.0 and "restates_question" not in reuse.flags
    pasted = grade(grader, bank, "fx-cross-attention", q.prompt)
    assert pasted.score <= 0.5 and "restates_question" in pasted.flags
    prompt_then_claim = grade(grader, bank, "fx-bayes-test", bank.technical["fx-bayes-test"].prompt)
    assert prompt_then_claim.score <= 0.5


@pytest.mark.parametrize("answer", ["I don't know", "idk", "No idea, sorry", "not sure", "I dont know 🙁"])
def test_dont_know_gets_a_kind_teaching_reply(grader: ClaimGrader, bank: Bank, answer: str) -> None:
    verdict = grade(grader, bank, "fx-l1-vs-l2", answer)
    assert verdict.score == 0 and "dont_know" in verdict.flags
    assert "No problem" in verdict.feedback
    for kp in bank.technical["fx-l1-vs-l2"].key_points:
        assert kp.point in verdict.feedback


def test_negation_contradicts_the_point(grader: ClaimGrader, bank: Bank) -> None:
    positive = grade(
        grader, bank, "fx-l1-vs-l2", "L1 drives weak weights exactly to zero, so it does feature selection."
    )
    negated = grade(
        grader, bank, "fx-l1-vs-l2", "L1 does not give sparse models; it never sets weights exactly to zero."
    )
    assert positive.points[0].status == "confirmed" and negated.points[0].status == "contradicted"
    not_only = grade(grader, bank, "fx-l1-vs-l2", "L1 not only gives sparse models but is easier to read.")
    assert not_only.points[0].status == "confirmed"


def test_typos_still_match(grader: ClaimGrader, bank: Bank) -> None:
    verdict = grade(
        grader, bank, "fx-softmax-stable", "Big logits overflw to infinty, so I subtract the maxmum logit first."
    )
    assert verdict.points[1].status == "confirmed"


def test_off_topic_and_foreign_scripts_score_zero(grader: ClaimGrader, bank: Bank) -> None:
    for answer in (
        "I enjoy hiking on weekends because it is relaxing.",
        "这是一个关于天气的回答，因为今天下雨。",
        "🙂🙂🙂",
    ):
        assert grade(grader, bank, "fx-bias-variance", answer).score == 0


@pytest.mark.parametrize(
    ("says", "wrong", "right"),
    [
        ("on-policy update", "SARSA is an off-policy update.", "SARSA is an on-policy update."),
        ("local optimum reached", "A global optimum is reached.", "A local optimum is reached."),
        ("about 4 days", "It takes about 40 days.", "It takes about 4 days."),
        ("probability k/i", "Kept with probability k/n.", "Kept with probability k/i."),
    ],
)
def test_a_different_word_is_not_a_typo(grader: ClaimGrader, says: str, wrong: str, right: str) -> None:
    rubric = Rubric("probe", "technical", "Explain.", (KeyPoint(point="p", claims=[{"says": [says]}]),), "")
    assert grader.grade_sync(rubric, wrong).points[0].status in ("missed", "mentioned")
    assert grader.grade_sync(rubric, right).points[0].status == "confirmed"


def test_follow_ups_are_graded_on_their_own_rubric(grader: ClaimGrader, bank: Bank) -> None:
    from bot.grading.bank_rubrics import follow_up_rubric

    rubric = follow_up_rubric(bank.technical["fx-bayes-test"], 0)
    assert rubric is not None and rubric.kind == "follow_up"
    verdict = grader.grade_sync(rubric, "The 17% becomes the new prior, so after the second positive it is about 80%.")
    assert verdict.score == 4.0


# ---------------------------------------------------------------- behavioral


def test_behavioral_analysis_finds_star_ownership_numbers_and_reflection() -> None:
    strong = (
        "At my previous company our team had a recommendation model whose latency kept breaking the SLA. "
        "My goal was to bring p99 latency under 100 ms before the holiday launch. I profiled the service, "
        "I found the feature lookups were sequential, and I rewrote them as one batched call; I also added a cache. "
        "As a result p99 dropped from 240 ms to 80 ms and we launched on time. I learned to profile before optimising."
    )
    report = analyse(strong)
    assert all(report.present.values()) and report.reflects and not report.red_flags
    assert report.measurable and report.i_count > report.we_count
    weak = analyse("We worked hard as a team and we fixed it together and we were happy.")
    assert not weak.measurable and not weak.reflects
    assert any("I" in n for n in weak.notes) and any("number" in n for n in weak.notes)
    assert any("1-2 minutes" in n for n in weak.notes)
    assert report.score > weak.score


def test_star_parts_in_their_usual_phrasings() -> None:
    report = analyse(
        "Last spring, the churn model kept drifting. My task that quarter was to stabilise it. "
        "I was asked to own retraining, so I built a weekly pipeline. In the end churn recall rose from 0.61 to 0.74."
    )
    assert all(report.present.values()) and report.measurable


def test_vague_results_and_hyphenated_words_are_not_results() -> None:
    report = analyse("We used a gradient-boosted model. We learned a lot and it improved.")
    assert not report.measurable and not report.present["action"]
    assert any('"it improved" is not one' in n for n in report.notes)


def test_red_flags_are_named() -> None:
    report = analyse(
        "At my last job the launch slipped. It was their fault; the other team were incompetent. "
        "I did everything myself in the end."
    )
    assert report.red_flags == ["blames others", "takes all the credit"]
    assert sum("Red flag" in n for n in report.notes) == 2
    clean = analyse("At my last job the launch slipped. I re-planned the work with the other team and we shipped.")
    assert report.score < clean.score


# ---------------------------------------------------------------- the grade command


def _grade_cli(*args: str, stdin: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    warm_bank_cache(data_dir, FIXTURE_BANK)
    env = {**os.environ, "EXTRA_BANK_DIRS": str(FIXTURE_BANK), "DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "grade", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_grade_command_prints_json(tmp_path: Path) -> None:
    done = _grade_cli("fx-bias-variance", stdin=STRONG, data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["question_id"] == "fx-bias-variance" and out["score"] == 4.0
    assert {p["status"] for p in out["key_points"]} == {"confirmed"} and out["key_points"][0]["evidence"]
    missing = _grade_cli("no-such-question", stdin="x", data_dir=tmp_path)
    assert missing.returncode == 2 and "no gradable question" in missing.stderr


def test_grade_jsonl_writes_one_verdict_per_line_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "fx-bias-variance", "answer": STRONG}),
        "not json",
        json.dumps({"id": "no-such-question", "answer": "x"}),
        json.dumps({"id": "fx-bias-variance", "answer": "I don't know"}),
    ]
    done = _grade_cli("--jsonl", stdin="\n".join(lines) + "\n", data_dir=tmp_path)
    assert done.returncode == 1, done.stderr  # two lines failed
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o.get("id") for o in out] == ["fx-bias-variance", None, "no-such-question", "fx-bias-variance"]
    assert out[0]["score"] == 4.0 and "error" in out[1] and "error" in out[2] and out[3]["score"] == 0.0


def test_grade_eval_prints_the_benchmark_figures(tmp_path: Path) -> None:
    """On a tiny labelled file whose figures can be worked out by hand; a label whose point text is
    gone is reported, not silently dropped."""
    points = [kp.point for kp in load_bank([FIXTURE_BANK]).technical["fx-bias-variance"].key_points]
    labelled = {
        "answers": [
            {"question_id": "fx-bias-variance", "label": "strong", "answer": STRONG},
            {"question_id": "fx-bias-variance", "label": "off_topic", "answer": "Paris is the capital of France."},
        ],
        "points": [
            {"question_id": "fx-bias-variance", "answer_index": 0, "point": points[0], "verdict": "covered"},
            {"question_id": "fx-bias-variance", "answer_index": 0, "point": points[1], "verdict": "missed"},
            {
                "question_id": "fx-bias-variance",
                "answer_index": 0,
                "point": "a point since reworded",
                "verdict": "covered",
            },
        ],
    }
    path = tmp_path / "labels.yaml"
    path.write_text(json.dumps(labelled))  # JSON is YAML
    done = _grade_cli("--eval", str(path), stdin="", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "answers / questions          : 2 / 1" in done.stdout
    assert "ordering accuracy            : 1.000" in done.stdout
    assert "tick precision               : 0.500 on 2 ticks" in done.stdout  # both confirmed, one labelled missed
    assert "STALE point labels (skipped) : 1" in done.stdout
    unreadable = _grade_cli("--eval", str(tmp_path / "missing.yaml"), stdin="", data_dir=tmp_path)
    assert unreadable.returncode == 2 and "cannot read labelled answers" in unreadable.stderr


def test_grade_does_not_import_the_chat_stacks(tmp_path: Path) -> None:
    """`grade` is a batch tool: Telegram, Discord and the chart stack cost seconds to import."""
    script = (
        "import sys, io; sys.stdin = io.StringIO(sys.argv[1]); from bot.cli import main; code = main(['grade', "
        "'fx-bias-variance']); heavy = [m for m in ('telegram', 'discord', 'matplotlib') if m in sys.modules]; "
        "print(code, heavy, file=sys.stderr)"
    )
    warm_bank_cache(tmp_path, FIXTURE_BANK)
    env = {**os.environ, "EXTRA_BANK_DIRS": str(FIXTURE_BANK), "DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script, STRONG], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert done.stderr.strip().splitlines()[-1] == "0 []", done.stderr


def test_fixture_bank_exists() -> None:
    assert (FIXTURE_BANK / "technical.yaml").exists()


def test_claim_form_patterns_are_validated(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="at least 2 content words"):
        KeyPoint(point="p", claims=[{"says": ["variance"]}])
    with pytest.raises(ValidationError, match="needs at least one contradiction"):
        KeyPoint(point="p", claims=[{"says": ["lower variance"]}], weight=2)
    with pytest.raises(ValidationError, match="unclosed"):
        KeyPoint(point="p", claims=[{"says": ["(lower|reduce variance"]}])
    assert KeyPoint(point="p", claims=[{"subject": ["bagging"], "says": ["variance"]}]).claims


def test_a_negation_between_the_claims_words_is_read(grader: ClaimGrader, bank: Bank) -> None:
    for answer in (
        "A random forest's variance never drops, whatever you average.",
        "A random forest rarely reduces variance.",
    ):
        assert grade(grader, bank, "fx-rf-vs-gbm", answer).points[0].status == "contradicted", answer
    aside = grade(grader, bank, "fx-rf-vs-gbm", "A random forest, not a single tree, has variance that drops.")
    assert aside.points[0].status == "confirmed"


def test_a_wrong_claim_named_to_reject_it_is_not_a_contradiction(grader: ClaimGrader, bank: Bank) -> None:
    rejected = grade(
        grader, bank, "fx-rf-vs-gbm", "Saying a random forest reduces bias would be a mistake. It reduces variance."
    )
    made = grade(grader, bank, "fx-rf-vs-gbm", "A random forest reduces bias. It is great.")
    assert rejected.points[0].status == "confirmed" and made.points[0].status == "contradicted"


def test_a_header_starts_a_new_topic(grader: ClaimGrader, bank: Bank) -> None:
    """Without the header, "reduces bias" would be read as said of the random forest."""
    answer = "A random forest reduces variance.\nThe other method:\nreduces bias by fitting residuals."
    verdict = grade(grader, bank, "fx-rf-vs-gbm", answer)
    assert verdict.points[0].status == "confirmed"
    joined = grade(grader, bank, "fx-rf-vs-gbm", "A random forest reduces variance.\nIt also reduces bias.")
    assert joined.points[0].status == "contradicted"


def test_terse_shorthand_reads_as_words() -> None:
    assert words("bagging -> lower variance") == ["bagging", "to", "lower", "variance"]
    assert words("a => b, c ⇒ d") == ["a", "to", "b", "c", "to", "d"]
    assert words("train w/o dropout, w/ L2") == ["train", "without", "dropout", "with", "l2"]
    assert words("Δ loss, ρ = 0.3") == ["delta", "loss", "rho", "=", "0.3"]


def test_abbreviations_do_not_end_a_clause() -> None:
    parts = [c.original for c in clauses("Take the gradient w.r.t. the weights, e.g. with autograd. Then step.")]
    assert parts == ["Take the gradient w.r.t. the weights, e.g. with autograd.", "Then step."]


def test_a_clause_caught_in_a_wrong_claim_backs_no_tick(grader: ClaimGrader, bank: Bank) -> None:
    """Boosting's point is said right, but in the clause that also says bagging lowers bias. Said apart
    (twice, as an answer caught in a wrong claim needs), it is confirmed."""
    mixed = grade(grader, bank, "fx-rf-vs-gbm", "Boosting fits the residuals and a random forest reduces bias.")
    apart = grade(
        grader,
        bank,
        "fx-rf-vs-gbm",
        "Boosting fits the residuals. A random forest reduces bias. Each boosting round fits the residuals.",
    )
    assert [p.status for p in mixed.points] == ["contradicted", "mentioned"]
    assert [p.status for p in apart.points] == ["contradicted", "confirmed"]


def test_direction_arrows_and_epsilon_spellings() -> None:
    assert words("λ ↑ → bias ↓") == ["lambda", "increases", "to", "bias", "decreases"]
    assert words("(1 - eps) + ε/K") == words("(1 - epsilon) + epsilon/K")


def test_a_denial_after_the_claim_is_read(grader: ClaimGrader, bank: Bank) -> None:
    """ "X would not help" denies X; a clause about something else in between does not."""
    assert grade(grader, bank, "fx-underfitting-fix", "A bigger model would not help here.").points[0].status == (
        "contradicted"
    )
    assert grade(grader, bank, "fx-underfitting-fix", "A bigger model isn't needed.").points[0].status == "contradicted"
    for answer in ("A bigger model helps.", "A bigger model, which does not help speed, is what I'd try."):
        assert grade(grader, bank, "fx-underfitting-fix", answer).points[0].status == "confirmed", answer


def test_a_root_or_a_power_is_not_the_bare_quantity(grader: ClaimGrader, bank: Bank) -> None:
    """ "divide by sqrt(d_k)" must not match the wrong claim "divide by d_k"."""
    for answer in (
        "We divide by √d_k.",
        "We divide by sqrt(d_k).",
        "They're scaled by the square root of the dimension.",
    ):
        assert grade(grader, bank, "fx-attention-scaling", answer).points[0].status == "confirmed", answer
    assert grade(grader, bank, "fx-attention-scaling", "We divide by d_k.").points[0].status == "contradicted"
    assert grade(grader, bank, "fx-attention-scaling", "We divide by d^0.5.").points[0].status != "contradicted"


def test_a_negation_after_so_that_states_a_purpose(grader: ClaimGrader, bank: Bank) -> None:
    purpose = grade(grader, bank, "fx-attention-scaling", "Divide by sqrt(d_k) so that the softmax does not saturate.")
    denial = grade(grader, bank, "fx-attention-scaling", "Divide by sqrt(d_k); the softmax does not saturate anyway.")
    assert purpose.points[1].status != "contradicted"
    assert denial.points[1].status == "contradicted"


def test_which_after_a_contrasted_subject_is_said_of_it(grader: ClaimGrader, bank: Bank) -> None:
    """ "unlike a random forest, which reduces variance": the relative clause is about the forest."""
    right = grade(
        grader, bank, "fx-rf-vs-gbm", "Boosting reduces bias, unlike a random forest, which reduces variance."
    )
    assert statuses(right) == ["confirmed", "confirmed"]
    wrong = grade(grader, bank, "fx-rf-vs-gbm", "Unlike a random forest, gradient boosting reduces variance.")
    assert wrong.points[1].status == "contradicted"


def test_a_moved_direction_word_does_not_jump_a_comma() -> None:
    """ "small lambda underfits" is also said "lambda ... small" in a passive, but not across a comma."""
    from bot.grading.patterns import expand, find

    def found(pattern: str, text: str) -> bool:
        return any(find(e, c.tokens) for e in expand(pattern) for c in clauses(text))

    assert not found("small lambda underfits", "Large lambda underfits, small lambda overfits.")
    assert found("(lower|reduce) variance", "With bagging the variance is reduced.")


def test_boosting_is_an_algorithm_not_an_increase() -> None:
    """ "boosting" as a direction word would end the gap of a directed pattern."""
    from bot.grading.patterns import expand, find

    text = "Adding features or moving to gradient boosting would not help."
    assert any(find(e, c.tokens) for e in expand("features ... not help") for c in clauses(text))


def test_a_short_word_one_letter_off_is_another_word() -> None:
    from bot.grading.patterns import typo

    assert not typo("short", "shot") and not typo("curves", "cures") and not typo("prior", "prio")
    assert typo("variance", "varaince") and typo("dropout", "droput")


def test_every_clause_caught_in_a_wrong_claim_backs_no_tick(grader: ClaimGrader, bank: Bank) -> None:
    """Not only the first: the second wrong clause here would otherwise tick boosting's point."""
    answer = "A random forest reduces bias. Bagging reduces bias and boosting fits the residuals."
    assert statuses(grade(grader, bank, "fx-rf-vs-gbm", answer)) == ["contradicted", "mentioned"]


def test_a_negation_before_because_belongs_to_its_own_clause(grader: ClaimGrader, bank: Bank) -> None:
    answer = "Do not stop because the highest silhouette is reached."
    assert grade(grader, bank, "fx-kmeans-shapes", answer).points[1].status == "confirmed"


def test_an_answer_caught_in_a_wrong_claim_needs_two_clauses_for_a_tick(grader: ClaimGrader, bank: Bank) -> None:
    """Once an answer states a wrong claim, one clause is not enough to confirm another point."""
    honest = grade(grader, bank, "fx-underfitting-fix", "Use a larger model. Use less regularisation.")
    assert statuses(honest) == ["confirmed", "confirmed"]
    caught = grade(grader, bank, "fx-underfitting-fix", "More training data will fix it. Use less regularisation.")
    assert statuses(caught) == ["contradicted", "mentioned"]
    assert caught.points[1].evidence == ""
    twice = "More training data will fix it. Use less regularisation. Less regularisation lets it fit the training set."
    assert statuses(grade(grader, bank, "fx-underfitting-fix", twice)) == ["contradicted", "confirmed"]


def test_an_answer_caught_in_a_wrong_claim_gets_nothing_for_points_it_only_mentions() -> None:
    """Mentioned terms earn a little as the benefit of the doubt; a wrong claim elsewhere withdraws it."""
    mentioned = [PointVerdict("a", "mentioned", "", 2), PointVerdict("b", "mentioned", "", 2)]
    honest = [PointVerdict("c", "confirmed", "q", 2), *mentioned, PointVerdict("d", "missed", "", 2)]
    caught = [PointVerdict("c", "confirmed", "q", 2), *mentioned, PointVerdict("d", "contradicted", "q", 2)]
    assert score_of(honest) == 1.5  # (2 + 0.5 + 0.5) / 8 of 4
    assert score_of(caught) == 0.5  # (2 - 1) / 8 of 4: the mentions earn nothing


def test_not_equal_signs_are_negations(grader: ClaimGrader) -> None:
    """ "≠" and "!=" were dropped (and "!=" read as "="), so "density ≠ probability" stated the opposite."""
    point = KeyPoint(point="p", claims=[{"says": ["density (is|=) (a|) probability"]}])
    rubric = Rubric("probe-neq", "technical", "Explain.", (point,), "")
    for answer in ("A density ≠ a probability.", "density != probability", "density =/= probability"):
        assert statuses(grader.grade_sync(rubric, answer)) == ["contradicted"], answer
    assert statuses(grader.grade_sync(rubric, "The density = probability here.")) == ["confirmed"]
