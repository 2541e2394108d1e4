"""The shared answer flow: a rated or skipped round question is recorded and scheduled for review like a daily one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.answering import srs
from bot.answering.records import AnswerRecord, CardRecord, RatingRecord
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChoiceIn, TickIn
from bot.engine import Engine
from storage.uow import SqlUnitOfWork
from tests.conftest import Conversation, FakeClock, cmd, make_event, text
from tests.test_daily_and_quiz_engine import Chat
from tests.test_engine_round import GOOD, answer_and_finish, current_qid


async def test_rating_round_questions_creates_a_review_card_for_each(engine: Engine, clock: FakeClock) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "easy", "3"))
    rated = []
    for _ in range(3):
        rated.append(current_qid(conv))
        await answer_and_finish(conv, GOOD[rated[-1]])  # rated "Good"
    assert "Scorecard" in conv.text
    cards = [r.card for r in conv.records if isinstance(r, CardRecord)]
    assert [c.question_id for c in cards] == rated
    assert [r.question_id for r in conv.records if isinstance(r, RatingRecord)] == rated
    # Exactly the card a daily rating of "Good" makes: the same FSRS review, due days from now.
    expected = srs.review(None, rated[0], "good", clock.now)
    assert cards[0].due == expected.due and cards[0].data["stability"] == expected.data["stability"]
    assert all(c.due > clock.now for c in cards)


async def test_rated_round_questions_are_stored_as_review_cards(
    dispatcher: Dispatcher, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    replies = await dispatcher.dispatch(make_event(cmd("mock", "technical", "easy", "3")))
    for _ in range(3):
        await dispatcher.dispatch(make_event(text("an answer that covers little")))
        replies = await dispatcher.dispatch(make_event(cmd("done")))
        labels = {b.label: b.choice_id for r in replies for b in r.buttons}
        if "Skip follow-up" in labels:
            replies = await dispatcher.dispatch(make_event(ChoiceIn(labels["Skip follow-up"])))
            labels = {b.label: b.choice_id for r in replies for b in r.buttons}
        await dispatcher.dispatch(make_event(ChoiceIn(labels["Hard"])))
    async with uow_factory() as uow:
        user = await uow.user_for("test", "u1", "Ada")
        cards = await uow.load_cards(user)
        stats = await uow.stats(user, datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert len(cards) == 3 and stats.cards == 3


async def test_a_skipped_question_is_recorded_and_comes_back_the_same_way_in_a_round_and_daily(
    engine: Engine, clock: FakeClock
) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock", "technical", "easy", "3"))
    in_round = current_qid(conv)
    await conv.send(text("a first thought"))
    await conv.send(cmd("skip"))
    daily = Chat(engine)
    await daily.send(cmd("daily", "09:00", "UTC"))
    await daily.send(TickIn("daily", "1"))
    assert daily.state.daily is not None
    in_daily = daily.state.daily.question_id
    await daily.press("Skip")

    for records, qid in ((conv.records, in_round), (daily.records, in_daily)):
        skipped = [r for r in records if isinstance(r, AnswerRecord)]
        assert [(r.result.question_id, r.result.skipped, r.answer_text) for r in skipped] == [(qid, True, "")]
        assert skipped[0].result.points and {p.status for p in skipped[0].result.points} == {"missed"}
        cards = [r.card for r in records if isinstance(r, CardRecord)]
        assert [c.question_id for c in cards] == [qid]
        assert cards[0].due == srs.review(None, qid, "again", clock.now).due
    assert conv.state.round is not None and conv.state.round.answer == []  # the next question starts afresh
