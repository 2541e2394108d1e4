"""Abuse limits through the composed app: polite replies, nothing lost, and floods kept from the grader."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.config import ConfigError, load_settings
from bot.core import texts
from bot.core.events import ChoiceIn, CommandIn, Inbound, Payload, Reply, TextIn
from bot.core.ports import ConversationKey
from bot.grading.claims import ClaimGrader
from bot.grading.verdict import Rubric, Verdict
from questions.loader import Bank
from tests.conftest import FakeClock, last_buttons, make_event

ANSWER = "Because it reduces variance, I would regularize and check a learning curve."


class CountingGrader:
    name = "counting"

    def __init__(self) -> None:
        self.answers: list[str] = []

    async def grade(self, rubric: Rubric, answer: str) -> Verdict:
        self.answers.append(answer)
        return await ClaimGrader().grade(rubric, answer)


@pytest.fixture
def grader() -> CountingGrader:
    return CountingGrader()


@pytest.fixture
async def app(tmp_path: Path, bank: Bank, clock: FakeClock, grader: CountingGrader) -> AsyncIterator[App]:
    env = {"DATA_DIR": str(tmp_path), "RATE_MESSAGES_PER_MINUTE": "12", "RATE_GRADES_PER_HOUR": "1",
           "RATE_GROUP_QUIZZES_PER_HOUR": "1", "MAX_MESSAGE_CHARS": "500"}  # fmt: skip
    async with build_app(load_settings(env, dotenv=None), clock=clock, bank=bank, grader=grader) as built:
        yield built


async def send(app: App, payload: Payload, user: str = "u1") -> list[Reply]:
    return await app.handle(make_event(payload, user=user))


async def press(app: App, replies: list[Reply], label: str) -> list[Reply]:
    buttons = last_buttons(replies)
    assert label in buttons, f"no {label!r} in {list(buttons)}"
    return await send(app, ChoiceIn(buttons[label]))


async def stored_version(app: App, user: str = "u1") -> int:
    async with app.uow() as store:
        uid = await store.user_for("test", user, "Ada")
        return (await store.load_state(ConversationKey("test", "c1", uid)))[1]


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.full_text for r in replies)


async def answer_next(app: App, replies: list[Reply]) -> list[Reply]:
    """From a question on screen: type an answer and press Done."""
    return await press(app, await send(app, TextIn(ANSWER)), "Done")


async def test_grade_limit_replies_politely_and_keeps_the_round(
    app: App, clock: FakeClock, grader: CountingGrader
) -> None:
    replies = await send(app, CommandIn("mock"))
    for label in ("Technical", "Easy", "3"):
        replies = await press(app, replies, label)
    graded = await answer_next(app, replies)
    assert len(grader.answers) == 1
    while "Done" not in last_buttons(graded) and last_buttons(graded):  # past the follow-up and the rating
        label = next(b for b in ("Skip follow-up", "Good", "Next question", "Next") if b in last_buttons(graded))
        graded = await press(app, graded, label)
    typed = await send(app, TextIn(ANSWER))
    version = await stored_version(app)

    refused = await press(app, typed, "Done")
    assert len(refused) == 1 and refused[0].private
    assert "1 answer graded in the last hour" in refused[0].text and "round is kept" in refused[0].text
    assert await stored_version(app) == version and len(grader.answers) == 1  # nothing changed, nothing graded

    clock.advance(minutes=61)
    again = await press(app, typed, "Done")
    assert len(grader.answers) >= 2 and "graded in the last hour" not in text_of(again)
    assert await stored_version(app) > version  # the answer went through and the round moved on


async def test_flooding_gets_one_notice_then_silence_then_service(app: App, clock: FakeClock) -> None:
    for _ in range(12):
        assert await send(app, CommandIn("help"))
    notice = await send(app, CommandIn("help"))
    assert "faster than I can answer" in notice[0].text and notice[0].private
    assert await send(app, CommandIn("help")) == []  # told once; the rest of the flood is dropped
    assert await send(app, CommandIn("help"), user="u2")  # other users are not held up
    clock.advance(seconds=61)
    assert "faster" not in text_of(await send(app, CommandIn("help")))


async def test_oversized_answer_never_reaches_the_grader(app: App, grader: CountingGrader) -> None:
    replies = await send(app, CommandIn("mock"))
    for label in ("Technical", "Easy", "3"):
        replies = await press(app, replies, label)
    version = await stored_version(app)
    refused = await send(app, TextIn("x " * 400))
    assert "That message is 800 characters; I read at most 500 at once" in refused[0].text
    assert await stored_version(app) == version and grader.answers == []


async def test_group_quiz_starts_are_limited_per_group(app: App) -> None:
    def quiz_now(chat: str, user: str) -> Inbound:
        return replace(make_event(CommandIn("quiz", ("now",)), user=user, chat=chat), chat_kind="group", is_admin=True)

    assert "Starting a quiz" in text_of(await app.handle(quiz_now("g1", "u1")))
    refused = await app.handle(quiz_now("g1", "u2"))
    assert "This group has started 1 quiz in the last hour" in refused[0].text
    assert "Starting a quiz" in text_of(await app.handle(quiz_now("g2", "u2")))


async def test_members_refused_a_quiz_start_do_not_use_up_the_groups_starts(app: App) -> None:
    member = replace(make_event(CommandIn("quiz", ("now",)), user="u3", chat="g1"), chat_kind="group")
    for _ in range(3):
        assert "Only group admins" in text_of(await app.handle(member))
    admin = replace(member, user_id="u1", is_admin=True)
    assert "Starting a quiz" in text_of(await app.handle(admin))


def test_limits_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {"DATA_DIR": str(tmp_path), "RATE_GRADES_PER_HOUR": "0", "MAX_MESSAGE_CHARS": "lots"}, dotenv=None
        )
    assert caught.value.problems == [
        "RATE_GRADES_PER_HOUR must be a whole number from 1 to 100000, got '0'",
        "MAX_MESSAGE_CHARS must be a whole number from 1 to 8000, got 'lots'",
    ]


def test_message_size_limit_stays_within_what_the_engine_reads(tmp_path: Path) -> None:
    """The engine refuses longer messages itself, so a higher setting would promise what it cannot keep."""
    assert load_settings({"DATA_DIR": str(tmp_path)}, dotenv=None).max_message_chars == texts.MAX_MESSAGE_CHARS
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATA_DIR": str(tmp_path), "MAX_MESSAGE_CHARS": "20000"}, dotenv=None)
    assert caught.value.problems == ["MAX_MESSAGE_CHARS must be a whole number from 1 to 8000, got '20000'"]
