"""The optional per-point LLM judge against a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import logging
import time

import pytest

from bot.answering.records import AnswerRecord
from bot.app import RedactingFilter
from bot.engine import Engine
from bot.grading.bank_rubrics import rubric_for
from bot.grading.llm import LlmGrader
from questions.loader import Bank, load_bank
from tests.conftest import GRADING_BANK, Conversation, FakeClock, cmd, text
from tests.fake_llm import running_fake_llm

ANSWER = "The gap shows high variance: the model overfits, so I would regularize because it reduces variance."


async def test_each_point_is_judged_with_a_real_quote(bank: Bank) -> None:
    async with running_fake_llm() as fake:
        grader = LlmGrader(fake.url, "test-model", "sk-secret-123456", timeout=5)
        verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
    assert verdict.grader == "llm" and verdict.score == 4.0
    assert [p.status for p in verdict.points] == ["confirmed"] * 3
    assert all(p.evidence == "high variance" for p in verdict.points)  # a real quote from the answer is kept
    assert fake.headers[0]["Authorization"] == "Bearer sk-secret-123456"
    request = fake.requests[0]
    assert request["model"] == "test-model" and request["temperature"] == 0
    assert "1. The gap means high variance" in request["messages"][1]["content"]
    assert "Ada" not in str(request) and "u1" not in str(request)  # no user identity is sent


async def test_a_fabricated_quote_is_discarded(bank: Bank) -> None:
    partial = "It is overfitting the training data."
    async with running_fake_llm() as fake:
        fake.mode = "fabricated"
        grader = LlmGrader(fake.url, "m", None, timeout=5)
        verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), partial)
    offline = grader.offline.grade_sync(rubric_for(bank.technical["fx-bias-variance"]), partial)
    assert [p.status for p in verdict.points] == [p.status for p in offline.points]
    assert "gradient clipping" not in verdict.feedback and verdict.score == offline.score


async def test_a_contradiction_from_the_model_stands(bank: Bank) -> None:
    async with running_fake_llm() as fake:
        fake.mode = "contradicts"
        grader = LlmGrader(fake.url, "m", None, timeout=5)
        verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
    first = verdict.points[0]
    assert first.status == "contradicted" and first.evidence == "high variance" and first.correction == "It is bias."
    assert verdict.score <= 2.5 and "contradiction" in verdict.flags


async def test_an_offline_contradiction_stands_against_the_model() -> None:
    wrong = "Random forests reduce bias, and gradient boosting reduces variance."
    question = load_bank([GRADING_BANK]).technical["fx-rf-vs-gbm"]
    async with running_fake_llm() as fake:
        grader = LlmGrader(fake.url, "m", None, timeout=5)  # the fake says "states" for every point
        verdict = await grader.grade(rubric_for(question), wrong)
    assert [p.status for p in verdict.points] == ["contradicted", "contradicted"]


async def test_points_the_model_leaves_out_keep_the_offline_verdict(bank: Bank) -> None:
    async with running_fake_llm() as fake:
        fake.mode = "missing_points"
        grader = LlmGrader(fake.url, "m", None, timeout=5)
        verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
    offline = grader.offline.grade_sync(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
    assert verdict.grader == "llm" and verdict.points[1:] == offline.points[1:]


@pytest.mark.parametrize("mode", ["malformed", "error500"])
async def test_bad_replies_fall_back_to_the_claim_grader(bank: Bank, mode: str) -> None:
    async with running_fake_llm() as fake:
        fake.mode = mode
        grader = LlmGrader(fake.url, "m", None, timeout=5, retries=2, backoff=0.01)
        verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
    assert verdict.grader == "claims" and "llm_fallback" in verdict.flags
    assert len(fake.requests) == 3  # first try plus two retries


async def test_a_500_then_success_is_retried(bank: Bank) -> None:
    async with running_fake_llm() as fake:
        fake.mode = "then_good"
        grader = LlmGrader(fake.url, "m", None, timeout=5, retries=2, backoff=0.01)
        verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
    assert verdict.grader == "llm" and len(fake.requests) == 2


async def test_slow_reply_times_out_without_leaving_the_user_waiting(bank: Bank) -> None:
    async with running_fake_llm() as fake:
        fake.mode = "slow"
        grader = LlmGrader(fake.url, "m", None, timeout=0.5, retries=2)
        start = time.monotonic()
        verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
        elapsed = time.monotonic() - start
    assert verdict.grader == "claims" and elapsed < 1.5


async def test_unreachable_endpoint_falls_back(bank: Bank) -> None:
    grader = LlmGrader("http://127.0.0.1:9/v1", "m", None, timeout=2, retries=1, backoff=0.01)
    verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
    assert verdict.grader == "claims"


async def test_a_pasted_question_stays_near_zero_with_the_model(bank: Bank) -> None:
    q = bank.technical["fx-bias-variance"]
    async with running_fake_llm() as fake:
        grader = LlmGrader(fake.url, "m", None, timeout=5)
        verdict = await grader.grade(rubric_for(q), q.prompt)
        dont_know = await grader.grade(rubric_for(q), "I don't know")
    assert verdict.score <= 0.5 and "restates_question" in verdict.flags
    assert dont_know.grader == "claims" and len(fake.requests) == 1  # "I don't know" never calls the model


def test_api_key_is_redacted_from_logs(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactingFilter(("sk-secret-123456",)))
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("calling with key %s", "sk-secret-123456")
    assert "sk-secret-123456" not in caplog.text and "[REDACTED]" in caplog.text


async def test_llm_grader_is_used_in_every_round_type(bank: Bank, clock: FakeClock) -> None:
    async with running_fake_llm() as fake:
        engine = Engine(bank, clock, LlmGrader(fake.url, "m", None, timeout=5))
        for args in (("technical", "easy", "3"), ("behavioral", "easy", "3"), ("design", "medium")):
            conv = Conversation(engine)
            await conv.send(cmd("mock", *args))
            await conv.send(
                text("I measured it first because the high variance came from overfitting, so I added regularization.")
            )
            await conv.send(cmd("done"))
            graded = [r for r in conv.records if isinstance(r, AnswerRecord)]
            assert graded and graded[0].verdict["grader"] == "llm", args
    assert len(fake.requests) == 3
