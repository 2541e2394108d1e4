"""The optional LLM grader against a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import logging
import time

import pytest

from bot.answering.records import AnswerRecord
from bot.app import RedactingFilter
from bot.engine import Engine
from bot.grading.bank_rubrics import rubric_for
from bot.grading.llm import LlmGrader
from questions.loader import Bank
from tests.conftest import Conversation, FakeClock, cmd, text
from tests.fake_llm import running_fake_llm

ANSWER = "The gap shows high variance: the model overfits, so I would regularize because it reduces variance."


async def test_good_json_is_used(bank: Bank) -> None:
    async with running_fake_llm() as fake:
        grader = LlmGrader(fake.url, "test-model", "sk-secret-123456", timeout=5)
        verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
    assert verdict.grader == "llm" and verdict.score == 3.5
    assert verdict.follow_up == "What about leakage?"
    assert [p.status for p in verdict.points] == ["covered"] * 3
    assert verdict.points[0].evidence == "high variance"  # a real quote from the answer is kept
    assert fake.headers[0]["Authorization"] == "Bearer sk-secret-123456"
    request = fake.requests[0]
    assert request["model"] == "test-model" and request["temperature"] == 0
    assert "Ada" not in str(request) and "u1" not in str(request)  # no user identity is sent


@pytest.mark.parametrize("mode", ["malformed", "error500", "missing_points"])
async def test_bad_replies_fall_back_to_the_rubric(bank: Bank, mode: str) -> None:
    async with running_fake_llm() as fake:
        fake.mode = mode
        grader = LlmGrader(fake.url, "m", None, timeout=5, retries=2, backoff=0.01)
        verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
    assert verdict.grader == "rubric" and "llm_fallback" in verdict.flags
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
    assert verdict.grader == "rubric" and elapsed < 1.5


async def test_unreachable_endpoint_falls_back(bank: Bank) -> None:
    grader = LlmGrader("http://127.0.0.1:9/v1", "m", None, timeout=2, retries=1, backoff=0.01)
    verdict = await grader.grade(rubric_for(bank.technical["fx-bias-variance"]), ANSWER)
    assert verdict.grader == "rubric"


async def test_anti_gaming_caps_apply_to_llm_scores(bank: Bank) -> None:
    q = bank.technical["fx-bias-variance"]
    async with running_fake_llm() as fake:
        grader = LlmGrader(fake.url, "m", None, timeout=5)
        verdict = await grader.grade(rubric_for(q), q.prompt)
        dont_know = await grader.grade(rubric_for(q), "I don't know")
    assert verdict.score <= 0.5 and "restates_question" in verdict.flags
    assert dont_know.grader == "rubric" and len(fake.requests) == 1  # "I don't know" never calls the model


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
