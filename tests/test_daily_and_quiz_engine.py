"""Daily subscription, daily question and channel quiz through the engine with plain data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.answering.records import CardRecord
from bot.core.events import ChatKind, ChoiceIn, Inbound, Payload, PollAnswerIn, Reply, TickIn
from bot.core.ports import Profile, StaticUserData
from bot.core.state import DialogueState
from bot.delivery.ports import ScheduledRecord
from bot.engine import Engine
from bot.quiz.records import QuizAnswerRecord, QuizRunRecord, QuizRunView
from bot.subscriptions.subscription import Subscription, SubscriptionRecord
from tests.conftest import FakeClock, cmd, last_buttons, text


class Chat:
    def __init__(self, engine: Engine, *, kind: str = "private", user: str = "u1", admin: bool = False) -> None:
        self.engine, self.kind, self.user, self.admin = engine, kind, user, admin
        self.state = DialogueState()
        self.data = StaticUserData(Profile(user_id=1, display_name="Ada"))
        self.records: list[object] = []
        self.replies: list[Reply] = []

    async def send(self, payload: Payload, *, user: str | None = None) -> str:
        kind: ChatKind = "group" if self.kind == "group" else "private"
        event = Inbound(
            "test",
            "chat1",
            kind,
            self.user if user is None else user,
            "Ada",
            None,
            datetime(2026, 3, 2, tzinfo=UTC),
            payload,
            is_admin=self.admin,
        )
        turn = await self.engine.handle(event, self.state, self.data)
        self.state, self.replies = turn.state, turn.replies
        self.records += turn.records
        for rec in turn.records:  # what storage would do
            if isinstance(rec, SubscriptionRecord):
                self.data.subscriptions[rec.subscription.kind] = rec.subscription
            if isinstance(rec, CardRecord):
                self.data.known_cards[rec.card.question_id] = rec.card
        return "\n".join(r.text for r in turn.replies)

    async def press(self, label: str) -> str:
        return await self.send(ChoiceIn(last_buttons(self.replies)[label]))


async def test_subscribe_by_chat_sets_zone_time_and_next_run(engine: Engine, clock: FakeClock) -> None:
    chat = Chat(engine)
    out = await chat.send(cmd("daily"))
    assert "Subscribe" in last_buttons(chat.replies)
    out = await chat.press("Subscribe")
    assert "time zone" in out
    out = await chat.send(text("Kathmandu"))
    assert "Asia/Kathmandu" in out
    out = await chat.send(text("7:15"))
    sub = chat.data.subscriptions["daily"]
    assert sub.active and sub.at == "07:15" and sub.zone == "Asia/Kathmandu"
    assert sub.next_run == datetime(
        2026, 3, 3, 1, 30, tzinfo=UTC
    )  # 07:15 +05:45, the morning after the fake clock's 09:00
    assert "You're subscribed" in out and "(next: Tue 03 Mar 07:15)" in out


async def test_daily_settings_commands_and_bad_values(engine: Engine) -> None:
    chat = Chat(engine)
    assert "not subscribed" in await chat.send(cmd("daily", "pause"))
    await chat.send(cmd("daily", "08:30", "Europe/Berlin"))
    sub = chat.data.subscriptions["daily"]
    assert (sub.at, sub.zone, sub.active) == ("08:30", "Europe/Berlin", True)
    assert "don't know that time zone" in await chat.send(cmd("daily", "zone", "Atlantis"))
    await chat.send(cmd("daily", "days", "mon,wed,fri"))
    await chat.send(cmd("daily", "topics", "5", "7.3"))
    await chat.send(cmd("daily", "difficulty", "hard"))
    sub = chat.data.subscriptions["daily"]
    assert sub.days == ("mon", "wed", "fri") and sub.topics == ("5", "7.3") and sub.difficulty == "hard"
    assert "Try /daily" in await chat.send(cmd("daily", "role", "astronaut"))
    await chat.send(cmd("daily", "role", "ds"))
    assert chat.data.subscriptions["daily"].role == "ds" and "Role: Data scientist" in chat.replies[-1].text
    await chat.press("Any role")
    assert chat.data.subscriptions["daily"].role is None
    await chat.press("Pause")
    assert not chat.data.subscriptions["daily"].active and chat.data.subscriptions["daily"].next_run is None
    await chat.send(cmd("daily", "resume"))
    assert chat.data.subscriptions["daily"].active
    await chat.send(cmd("daily", "stop"))
    assert chat.data.subscriptions["daily"].deactivated_reason == "unsubscribed"


async def test_daily_only_in_private_chats(engine: Engine) -> None:
    chat = Chat(engine, kind="group")
    assert "private chat" in await chat.send(cmd("daily"))


async def test_daily_tick_answer_grade_rate_and_next_due(engine: Engine, clock: FakeClock) -> None:
    chat = Chat(engine)
    await chat.send(cmd("daily", "09:00", "UTC"))
    await chat.send(cmd("daily", "difficulty", "easy"))
    out = await chat.send(TickIn("daily", "1"), user="u1")
    assert "Daily question" in out and chat.state.daily is not None
    assert chat.state.daily.question_id == "fx-l1-vs-l2"  # the only easy technical question
    await chat.send(
        text("L1 gives exact zeros, so the model is sparse and does feature selection, because weak weights vanish.")
    )
    out = await chat.send(cmd("done"))
    assert "Score:" in out and "Reference answer" in out and "Streak: 1 day" in out
    out = await chat.press("Hard")
    assert "comes back on" in out and chat.state.daily is None
    card = chat.data.known_cards["fx-l1-vs-l2"]
    assert card.due > clock.now
    assert chat.data.subscriptions["daily"].streak == 1


async def test_daily_skip_counts_as_again_and_the_card_returns_first(engine: Engine, clock: FakeClock) -> None:
    chat = Chat(engine)
    await chat.send(cmd("daily", "09:00", "UTC"))
    await chat.send(TickIn("daily", "1"))
    first = chat.state.daily.question_id if chat.state.daily else ""
    out = await chat.press("Skip")
    assert "A strong answer covers" in out
    card = chat.data.known_cards[first]
    clock.now = card.due  # when it is due, it comes back before any new question
    await chat.send(TickIn("daily", "1"))
    assert chat.state.daily is not None and chat.state.daily.question_id == first
    assert "(review)" in chat.replies[0].text


async def test_unrated_answer_is_rated_from_its_score_at_the_next_tick(engine: Engine) -> None:
    chat = Chat(engine)
    await chat.send(cmd("daily", "09:00", "UTC"))
    await chat.send(TickIn("daily", "1"))
    qid = chat.state.daily.question_id if chat.state.daily else ""
    await chat.send(text("no clue really"))
    await chat.send(cmd("done"))
    await chat.send(TickIn("daily", "1"))
    assert qid in chat.data.known_cards and chat.state.daily is not None and chat.state.daily.question_id != qid


async def test_group_quiz_settings_are_admin_only(engine: Engine) -> None:
    member = Chat(engine, kind="group", admin=False)
    assert "Only group admins" in await member.send(cmd("quiz", "on", "18:00", "Europe/Berlin"))
    assert "quiz" not in member.data.subscriptions
    admin = Chat(engine, kind="group", admin=True)
    out = await admin.send(cmd("quiz", "on", "18:00", "Europe/Berlin"))
    sub = admin.data.subscriptions["quiz"]
    assert "Saved" in out and sub.active and sub.zone == "Europe/Berlin"
    await admin.send(cmd("quiz", "count", "3"))
    await admin.send(cmd("quiz", "open", "60"))
    assert admin.data.subscriptions["quiz"].count == 3 and admin.data.subscriptions["quiz"].open_period == 60
    assert "Quiz settings" in await admin.send(cmd("quiz", "count", "99"))


async def test_group_quiz_polls_answers_and_results(engine: Engine, clock: FakeClock) -> None:
    chat = Chat(engine, kind="group", admin=True)
    await chat.send(cmd("quiz", "on", "18:00", "UTC"))
    await chat.send(cmd("quiz", "count", "3"))
    await chat.send(cmd("quiz", "open", "60"))
    await chat.send(TickIn("quiz", "1"), user="")
    polls = [r.poll for r in chat.replies if r.poll is not None]
    assert len(polls) == 3 and "Quiz time" in chat.replies[0].text
    run = next(r for r in chat.records if isinstance(r, QuizRunRecord))
    close = next(r for r in chat.records if isinstance(r, ScheduledRecord))
    assert close.job == "quiz_close" and close.ref == run.run_id and close.not_before > run.opened_at
    # The polls went out 2 s apart, as a paced sender sends them.
    sent = {i: run.opened_at + timedelta(seconds=2 * i) for i in range(3)}
    chat.data.runs[run.run_id] = QuizRunView(
        run.run_id, run.question_ids, "open", opened_at=run.opened_at, open_seconds=60, sent_at=sent
    )
    correct = polls[0].correct_option
    out = await chat.send(PollAnswerIn(polls[0].ref, correct), user="m1")
    answer = next(r for r in chat.records if isinstance(r, QuizAnswerRecord))
    assert answer.correct and chat.replies[0].private and "Correct" in out
    await chat.send(PollAnswerIn(polls[0].ref, (correct + 1) % len(polls[0].options)), user="m2")
    assert not [r for r in chat.records if isinstance(r, QuizAnswerRecord)][-1].correct
    chat.data.runs[run.run_id] = replace(chat.data.runs[run.run_id], answers=[(1, "Ada", 0, True), (2, "Bo", 0, False)])
    out = await chat.send(PollAnswerIn(polls[0].ref, correct), user="u1")
    assert "already answered" in out
    assert "don't recognise" in await chat.send(PollAnswerIn("nope:7", 0), user="m1")
    chat.data.board.all_time = [("Ada", 1, 1), ("Bo", 0, 1)]

    # The first close comes when the first poll closes; the last poll is still open, so no results yet.
    clock.now = close.not_before
    before = len(chat.records)
    assert await chat.send(TickIn("quiz_close", run.run_id), user="") == ""
    again = [r for r in chat.records[before:] if isinstance(r, ScheduledRecord)]
    assert [r.not_before for r in again] == [sent[2] + timedelta(seconds=60 + 5)] and again[0].key != close.key
    # Poll 1 closed at +60 s (+5 s for answers in flight); poll 3 is open until +64 s (+5).
    clock.now = sent[0] + timedelta(seconds=66)
    assert "closed" in await chat.send(PollAnswerIn(polls[0].ref, correct), user="m4")
    assert "Correct" in await chat.send(PollAnswerIn(polls[2].ref, polls[2].correct_option), user="m4")

    clock.now = again[0].not_before
    out = await chat.send(TickIn("quiz_close", run.run_id), user="")
    assert "Quiz results" in out and "Q1: 1/2 correct" in out and "Leaderboard" in out and "1. Ada: 1/1" in out
    chat.data.runs[run.run_id] = replace(chat.data.runs[run.run_id], status="closed")
    assert "closed" in await chat.send(PollAnswerIn(polls[1].ref, 0), user="m3")


async def test_quiz_results_wait_for_polls_still_being_sent(engine: Engine, clock: FakeClock) -> None:
    chat = Chat(engine, kind="group", admin=True)
    await chat.send(cmd("quiz", "count", "3"))
    await chat.send(TickIn("quiz", "1"), user="")
    run = next(r for r in chat.records if isinstance(r, QuizRunRecord))
    open_s = (run.closes_at - run.opened_at).total_seconds()
    chat.data.runs[run.run_id] = QuizRunView(
        run.run_id, run.question_ids, "open", opened_at=run.opened_at, open_seconds=open_s, sent_at={0: run.opened_at}
    )
    clock.now = run.closes_at + timedelta(seconds=5)
    assert await chat.send(TickIn("quiz_close", run.run_id), user="") == ""  # two polls are not out yet
    clock.now = run.opened_at + timedelta(minutes=16)  # a platform outage: they never went out
    assert "Quiz results" in await chat.send(TickIn("quiz_close", run.run_id), user="")


async def test_group_quiz_prefers_questions_members_have_not_seen(engine: Engine) -> None:
    chat = Chat(engine, kind="group", admin=True)
    chat.data.subscriptions["quiz"] = Subscription(kind="quiz", platform="test", chat_id="chat1", user_id=1, count=1)
    chat.data.seen_in_group = {"fx-q-l1": 5, "fx-q-softmax": 3}
    await chat.send(TickIn("quiz", "1"), user="")
    poll = next(r.poll for r in chat.replies if r.poll)
    assert poll.question == engine.bank.quiz["fx-q-bayes"].question


async def test_quiz_in_private_chat_is_a_drill(engine: Engine) -> None:
    chat = Chat(engine)
    out = await chat.send(cmd("quiz", "easy", "3"))
    assert "Question 1/3" in out and chat.state.round is not None and chat.state.round.track == "quiz"


async def test_a_planned_question_is_not_sent_after_pausing(engine: Engine) -> None:
    chat = Chat(engine)
    await chat.send(cmd("daily", "09:00", "UTC"))
    await chat.send(cmd("daily", "pause"))
    assert await chat.send(TickIn("daily", "1")) == ""
    assert chat.state.daily is None
