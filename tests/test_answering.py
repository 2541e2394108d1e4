"""The shared answer flow: a rated round question schedules its review like a rated daily question."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.answering import srs
from bot.answering.records import CardRecord, RatingRecord
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChoiceIn
from bot.engine import Engine
from storage.uow import SqlUnitOfWork
from tests.conftest import Conversation, FakeClock, cmd, make_event, text
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
