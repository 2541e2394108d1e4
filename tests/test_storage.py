"""Dispatcher and SQL storage together, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select

from bot.core.dispatcher import Dispatcher
from bot.core.events import ChoiceIn, Reply
from bot.core.ports import ConversationKey
from bot.delivery.ports import HeldVote
from bot.engine import Engine
from storage.models import AnswerRow, ProcessedMessage, RoundRow, User
from storage.uow import SqlUnitOfWork
from tests.conftest import FakeClock, cmd, make_event, text


def buttons(replies: list[Reply]) -> dict[str, str]:
    return {b.label: b.choice_id for r in replies for b in r.buttons}


async def test_same_platform_message_is_processed_once(
    dispatcher: Dispatcher, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    await dispatcher.dispatch(make_event(cmd("mock", "technical", "medium", "3"), message_id="1"))
    first = await dispatcher.dispatch(make_event(text("an answer"), message_id="2"))
    again = await dispatcher.dispatch(make_event(text("an answer"), message_id="2"))
    assert first and again == []
    async with uow_factory() as uow:
        user = await uow.user_for("test", "u1", "Ada")
        state, version = await uow.load_state(ConversationKey("test", "c1", user))
        assert state.round is not None and state.round.answer == ["an answer"]
        assert version == 2
        count = await uow.session.scalar(select(func.count()).select_from(ProcessedMessage))
        assert count == 2


async def test_same_message_id_in_another_chat_is_distinct(dispatcher: Dispatcher) -> None:
    a = await dispatcher.dispatch(make_event(cmd("help"), message_id="7", chat="c1"))
    b = await dispatcher.dispatch(make_event(cmd("help"), message_id="7", chat="c2"))
    assert a and b


async def test_concurrent_events_lose_no_update(
    engine: Engine, uow_factory: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    # Two dispatchers stand for two processes: they do not share the in-process lock,
    # so only the version column can keep both answer parts.
    one, two = Dispatcher(engine, uow_factory, clock), Dispatcher(engine, uow_factory, clock)
    await one.dispatch(make_event(cmd("mock", "technical", "medium", "3")))
    parts = [f"part {i}" for i in range(8)]
    await asyncio.gather(*[(one if i % 2 else two).dispatch(make_event(text(p))) for i, p in enumerate(parts)])
    async with uow_factory() as uow:
        user = await uow.user_for("test", "u1", "Ada")
        state, _ = await uow.load_state(ConversationKey("test", "c1", user))
    assert state.round is not None
    assert sorted(state.round.answer) == sorted(parts)


async def test_round_answers_ratings_and_scorecard_are_stored(
    dispatcher: Dispatcher, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    replies = await dispatcher.dispatch(make_event(cmd("mock", "technical", "hard", "3")))
    for _ in range(3):
        await dispatcher.dispatch(
            make_event(
                text("By Bayes with the prior the posterior is about 17 percent because false positives dominate.")
            )
        )
        replies = await dispatcher.dispatch(make_event(cmd("done")))
        if "Skip follow-up" in buttons(replies):
            replies = await dispatcher.dispatch(make_event(ChoiceIn(buttons(replies)["Skip follow-up"])))
        replies = await dispatcher.dispatch(make_event(ChoiceIn(buttons(replies)["Good"])))
    assert replies[-1].title is not None and "Scorecard" in replies[-1].title
    async with uow_factory() as uow:
        rounds = (await uow.session.scalars(select(RoundRow))).all()
        assert [r.status for r in rounds] == ["finished"]
        assert rounds[0].scorecard is not None and rounds[0].scorecard["questions"] == 3
        answers = (await uow.session.scalars(select(AnswerRow).order_by(AnswerRow.id))).all()
        assert len(answers) == 3 and all(a.self_rating == "good" for a in answers)
        assert answers[0].question_id == "fx-bayes-test" and answers[0].score >= 3
        user = await uow.user_for("test", "u1", "Ada")
        history = await uow.history(user, 5)
        profile = await uow.load_profile(user, "Ada")
    assert history[0]["scorecard"]["questions"] == 3
    assert "fx-bayes-test" in profile.seen and profile.recent_scores["technical"] > 0
    replies = await dispatcher.dispatch(make_event(cmd("history")))
    assert "technical (finished)" in replies[0].text


async def test_state_survives_a_new_dispatcher(
    engine: Engine, uow_factory: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    first = Dispatcher(engine, uow_factory, clock)
    await first.dispatch(make_event(cmd("mock", "technical", "medium", "3")))
    await first.dispatch(make_event(text("kept across restarts")))
    restarted = Dispatcher(engine, uow_factory, clock)
    replies = await restarted.dispatch(make_event(cmd("repeat")))
    assert "Question 1/3" in replies[0].text and "3 words" in replies[0].text


async def test_platform_identities_are_separate_users(uow_factory: Callable[[], SqlUnitOfWork]) -> None:
    async with uow_factory() as uow:
        a = await uow.user_for("telegram", "42", "A")
        b = await uow.user_for("discord", "42", "B")
        again = await uow.user_for("telegram", "42", "A")
    assert a != b and a == again


async def test_a_held_vote_is_taken_once_and_old_ones_are_pruned(
    uow_factory: Callable[[], SqlUnitOfWork], clock: FakeClock
) -> None:
    votes = [HeldVote("p1", "42", "Ada", 1, f"pa{n}", clock.now) for n in (1, 2)]
    async with uow_factory() as uow:
        for vote in [*votes, votes[0]]:  # the same update twice is held once
            await uow.hold_vote("telegram", vote)
        await uow.hold_vote("telegram", HeldVote("p2", "43", "B\x00o\ud800", 0, "pa3", clock.now - timedelta(days=2)))
    async with uow_factory() as uow:
        assert await uow.take_votes("telegram", "p1", "pa2") == [votes[1]]
        assert await uow.take_votes("telegram", "p1") == [votes[0]]
        assert await uow.take_votes("telegram", "p1") == [] and await uow.take_votes("discord", "p2") == []
        assert await uow.prune_held_votes(clock.now - timedelta(days=1)) == 1
        assert await uow.take_votes("telegram", "p2") == []


async def test_nul_bytes_and_lone_surrogates_never_reach_the_database(
    dispatcher: Dispatcher, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    odd = make_event(text("x \udcff\udcfe and a\x00b"), message_id="2", name="Ada\x00\udcff")
    await dispatcher.dispatch(make_event(cmd("mock", "technical", "medium", "3"), message_id="1"))
    assert await dispatcher.dispatch(odd)  # answered: PostgreSQL used to refuse the row
    replies = await dispatcher.dispatch(make_event(cmd("done"), message_id="3"))
    assert "Score" in replies[0].text or "score" in replies[0].text.lower()  # SQLite used to raise here
    async with uow_factory() as uow:
        answer = await uow.session.scalar(select(AnswerRow.answer_text))
    assert answer == "x \ufffd\ufffd and ab"


async def test_a_first_message_with_an_unstorable_name_creates_a_clean_user(
    dispatcher: Dispatcher, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    first = make_event(cmd("help"), user="u\x00new", message_id="1\x00", name="Ada\x00\udcff")
    assert await dispatcher.dispatch(first)  # the user row and the dedupe key are written before the engine runs
    async with uow_factory() as uow:
        name = await uow.session.scalar(select(User.display_name))
    assert name == "Ada\ufffd"
