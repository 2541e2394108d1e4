"""The whole Telegram bot, on the real python-telegram-bot stack, against the fake Bot API."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest
from sqlalchemy import select

from adapters.scheduler import SchedulerService
from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.render import MAX_TEXT, message_chunks
from adapters.text import split_text
from bot.app import App, build_app, setup_logging, telegram_runtime
from bot.config import load_settings
from bot.core.events import Reply
from bot.delivery.outbox import Planner, Sender
from bot.delivery.ports import HeldVote
from bot.delivery.sending import RateLimiter
from questions.loader import Bank
from storage.leader import Leadership
from storage.models import HeldVoteRow, OutboxRow, QuizAnswerRow, SubscriptionRow
from tests.conftest import FLOW_LIMITS, FakeClock
from tests.fake_telegram import FakeTelegram, running_fake_telegram

TOKEN = "123456789:AAtesttoken_abcdefghijklmnopqrstuv"
ADA, BO, CY, ADMIN = 1001, 1002, 1003, 1009
GROUP = -1001234567890


@dataclass
class Bot:
    fake: FakeTelegram
    app: App
    adapter: TelegramAdapter
    sender: Sender
    clock: FakeClock

    async def say(
        self,
        chat: int,
        text: str,
        *,
        uid: int | None = None,
        kind: str = "private",
        name: str = "Ada",
        thread: int | None = None,
    ) -> None:
        before = len(self.fake.calls("sendMessage"))
        self.fake.message(chat, uid or chat, text, kind=kind, name=name, thread=thread)
        await self.fake.wait_for(lambda: len(self.fake.calls("sendMessage")) > before)
        await self.settle()

    async def press(self, chat: int, label: str, *, uid: int | None = None) -> None:
        buttons = self.fake.buttons(chat)
        assert label in buttons, f"no {label!r} in {list(buttons)}"
        before = len(self.fake.calls("sendMessage"))
        self.fake.press(chat, uid or chat, buttons[label])
        await self.fake.wait_for(lambda: len(self.fake.calls("sendMessage")) > before)
        await self.settle()

    async def settle(self) -> None:
        """Wait until the bot has gone quiet (all replies of the last update are out)."""
        count = -1
        while count != len(self.fake.requests):
            count = len(self.fake.requests)
            await asyncio.sleep(0.3)

    def last(self, chat: int) -> str:
        return self.fake.texts(chat)[-1]


def settings_for(tmp: Path, url: str) -> object:
    return load_settings(
        {
            "DATA_DIR": str(tmp),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'tg.db'}",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": url,
        },
        dotenv=None,
    )


async def start_bot(
    fake: FakeTelegram, tmp: Path, bank: Bank, clock: FakeClock, new_id: Callable[[], str] | None = None
) -> AsyncIterator[Bot]:
    settings = settings_for(tmp, fake.url)
    async with build_app(settings, clock=clock, bank=bank, new_id=new_id) as app:  # type: ignore[arg-type]
        adapter, sender = telegram_runtime(app, clock)
        adapter.settings = replace(adapter.settings, poll_timeout=1)
        adapter.transport.limiter = RateLimiter(FLOW_LIMITS)
        await adapter.start()
        try:
            yield Bot(fake, app, adapter, sender, clock)
        finally:
            await adapter.stop()


@pytest.fixture
async def bot(tmp_path: Path, bank: Bank, clock: FakeClock) -> AsyncIterator[Bot]:
    async with running_fake_telegram(TOKEN) as fake:
        async for b in start_bot(fake, tmp_path, bank, clock):
            yield b


async def test_start_registers_commands_and_greets(bot: Bot) -> None:
    commands = bot.fake.calls("setMyCommands")
    assert len(commands) == 1 and {c["command"] for c in commands[0]["commands"]} >= {"mock", "daily", "quiz", "help"}
    await bot.say(ADA, "/start")
    assert "Welcome" in bot.fake.texts(ADA)[0]
    assert not bot.fake.rejected


async def test_full_mock_round_with_buttons(bot: Bot) -> None:
    await bot.say(ADA, "/mock")
    await bot.press(ADA, "Technical")
    await bot.press(ADA, "Easy")
    await bot.press(ADA, "3")
    assert "Question 1/3" in bot.last(ADA)
    for _ in range(3):
        await bot.say(ADA, "Because it reduces variance, I would regularize and check a learning curve.")
        await bot.press(ADA, "Done")
        if "Skip follow-up" in bot.fake.buttons(ADA):
            await bot.press(ADA, "Skip follow-up")
        await bot.press(ADA, "Good")
    assert any("Scorecard" in t for t in bot.fake.texts(ADA)[-2:])
    presses = [p for _, p in bot.fake.requests if "callback_query_id" in p]
    assert len(presses) == len(bot.fake.calls("answerCallbackQuery")) >= 9  # every press answered
    assert bot.fake.calls("sendChatAction")  # typing while grading
    assert not bot.fake.rejected


async def test_stale_and_forged_buttons_get_a_notice(bot: Bot) -> None:
    await bot.say(ADA, "/mock")
    old = bot.fake.buttons(ADA)["Behavioral"]
    await bot.press(ADA, "Technical")
    bot.fake.press(ADA, ADA, old)
    await bot.fake.wait_for(lambda: "earlier message" in bot.last(ADA))
    bot.fake.press(ADA, ADA, "zz:forged:" + "x" * 40)
    await bot.fake.wait_for(lambda: "don't recognise" in bot.last(ADA))
    assert len(bot.fake.calls("answerCallbackQuery")) == 3


async def test_same_update_twice_is_processed_once(bot: Bot) -> None:
    await bot.say(ADA, "/mock technical easy 3")
    bot.fake.message(ADA, ADA, "my answer")
    duplicate = dict(bot.fake.updates[-1]["message"])
    bot.fake.push("message", duplicate)  # Telegram redelivers the same message in a new update
    await bot.fake.wait_for(lambda: any("Noted" in t for t in bot.fake.texts(ADA)))
    await bot.settle()
    assert sum("Noted" in t for t in bot.fake.texts(ADA)) == 1


async def test_escaping_and_non_text_messages(bot: Bot) -> None:
    await bot.say(BO, "/mock technical easy 3", name="<script>Bo & co</script>")
    assert "Hi <script>Bo & co</script>" in bot.fake.texts(BO)[0]  # arrived intact, so it was escaped
    bot.fake.push("message", {"message_id": 5, "date": 1, "chat": bot.fake.chat(BO), "from": bot.fake.user(BO), "sticker": {
        "file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1, "is_animated": False, "is_video": False}})  # fmt: skip
    await bot.fake.wait_for(lambda: "only read text" in bot.last(BO))
    assert not bot.fake.rejected


def test_long_texts_split_at_paragraphs() -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 150 for i in range(12)]
    chunks = split_text("\n\n".join(paragraphs), MAX_TEXT)
    assert len(chunks) > 1 and all(len(c) <= 4096 for c in chunks)
    assert all(c.startswith("Paragraph") for c in chunks)
    assert "".join(chunks).replace("\n", "") == "".join(paragraphs)
    huge = split_text("x" * 10000, MAX_TEXT)
    assert [len(c) for c in huge] == [4096, 4096, 1808]
    assert message_chunks(Reply("a < b", title="📋 Scorecard & more")) == ["<b>📋 Scorecard &amp; more</b>\na &lt; b"]


async def test_paused_round_resumes_after_a_restart(tmp_path: Path, bank: Bank, clock: FakeClock) -> None:
    async with running_fake_telegram(TOKEN) as fake:
        async for bot in start_bot(fake, tmp_path, bank, clock):
            await bot.say(ADA, "/mock technical medium 3")
            await bot.say(ADA, "/skip")
            question_two = bot.last(ADA)
            assert "Question 2/3" in question_two
            await bot.say(ADA, "/pause")
        async for bot in start_bot(fake, tmp_path, bank, clock):
            await bot.say(ADA, "/mock")
            await bot.press(ADA, "Resume")
            assert "Question 2/3" in bot.last(ADA)
            assert question_two.split("\n\n")[1] in bot.last(ADA)


async def test_daily_subscription_delivers(bot: Bot, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    await bot.say(ADA, "/daily 09:00 Europe/Berlin")
    assert "You're subscribed" in bot.last(ADA) or "Time set" in bot.last(ADA)
    clock.now = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)  # 09:00:30 in Berlin
    await Planner(bot.app.uow, clock).tick()
    assert await bot.sender.drain() == 1
    assert "🗓 Daily question" in bot.last(ADA)
    await bot.say(ADA, "It reduces variance because the model averages over many noisy fits.")
    await bot.press(ADA, "Done")
    assert "Score:" in bot.last(ADA)
    await bot.press(ADA, "Easy")
    assert "comes back on" in bot.last(ADA)


async def test_a_group_that_became_a_supergroup_gets_its_quiz_at_the_new_id(bot: Bot, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    old, new = -4001, -1004001
    bot.fake.admins.add((old, ADMIN))
    await bot.say(old, "/quiz on 09:00 UTC", uid=ADMIN, kind="group", name="Admin")
    bot.fake.fail("sendPoll", 400, chat_id=old, migrate_to=new)
    clock.now = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
    await Planner(bot.app.uow, clock).tick()
    await bot.sender.drain()
    assert {str(p["chat_id"]) for p in bot.fake.calls("sendPoll")} == {str(new)}
    async with bot.app.uow() as store:
        sub = (await store.session.scalars(select(SubscriptionRow))).one()
    assert sub.chat_id == str(new) and sub.active


async def test_group_quiz_with_three_members_and_leaderboard(bot: Bot, clock: FakeClock) -> None:
    bot.fake.admins.add((GROUP, ADMIN))
    await bot.say(GROUP, "/quiz count 3", uid=ADMIN, kind="supergroup", name="Admin")
    assert "Saved" in bot.last(GROUP)
    await bot.say(GROUP, "/quiz now", uid=ADMIN, kind="supergroup", name="Admin")
    await bot.sender.drain()
    polls = bot.fake.calls("sendPoll")
    assert len(polls) == 3
    assert all(p["type"] == "quiz" and p["is_anonymous"] is False and len(p["correct_option_ids"]) == 1 for p in polls)
    sent = [m for m, p in bot.fake.requests if m == "sendPoll"]
    assert len(sent) == 3
    members = {ADA: ("Ada", [True, True, True]), BO: ("Bo", [True, False, True]), CY: ("Cy", [False, False, False])}
    for uid, (name, rights) in members.items():
        for i, (poll, right) in enumerate(zip(polls, rights, strict=True)):
            correct = int(poll["correct_option_ids"][0])
            bot.fake.poll_answer(f"poll{i + 1}", uid, correct if right else (correct + 1) % len(poll["options"]), name)

    async def answers() -> int:
        async with bot.app.uow() as store:
            return len((await store.session.scalars(select(QuizAnswerRow))).all())

    for _ in range(200):
        if await answers() == 9:
            break
        await bot.settle()
    assert await answers() == 9
    clock.advance(seconds=300)
    await bot.sender.drain()
    results, board = bot.fake.texts(GROUP)[-2:]
    assert "Quiz results" in results and "Ada 3/3" in results
    assert board.index("Ada") < board.index("Bo") < board.index("Cy") and "1. Ada: 3/3" in board
    assert not bot.fake.rejected


Row = TypeVar("Row")


async def rows(bot: Bot, model: type[Row]) -> list[Row]:
    async with bot.app.uow() as store:
        return list((await store.session.scalars(select(model))).all())


async def quiz_answers(bot: Bot) -> list[QuizAnswerRow]:
    return await rows(bot, QuizAnswerRow)


async def test_an_answer_to_the_first_poll_before_the_second_is_sent_counts(bot: Bot) -> None:
    bot.fake.admins.add((GROUP, ADMIN))
    await bot.say(GROUP, "/quiz count 3", uid=ADMIN, kind="supergroup", name="Admin")
    await bot.say(GROUP, "/quiz now", uid=ADMIN, kind="supergroup", name="Admin")
    bot.fake.fail("sendPoll", 0, times=3, delay=1.5)  # each poll takes 1.5 s to go out
    sending = asyncio.create_task(bot.sender.drain())
    await bot.fake.wait_for(lambda: len(bot.fake.calls("sendPoll")) == 1)
    first = bot.fake.calls("sendPoll")[0]
    bot.fake.poll_answer("poll1", ADA, int(first["correct_option_ids"][0]), "Ada")
    for _ in range(50):
        if await quiz_answers(bot):
            break
        await asyncio.sleep(0.05)
    answers = await quiz_answers(bot)
    assert [(a.index, a.correct) for a in answers] == [(0, True)]
    assert len(bot.fake.calls("sendPoll")) < 3 and not sending.done()  # counted while polls were still going out
    await sending


async def held_votes(bot: Bot) -> list[HeldVoteRow]:
    return await rows(bot, HeldVoteRow)


async def test_a_vote_that_arrives_before_its_poll_is_recorded_is_held_and_counted(bot: Bot) -> None:
    bot.fake.admins.add((GROUP, ADMIN))
    await bot.say(GROUP, "/quiz count 2", uid=ADMIN, kind="supergroup", name="Admin")
    await bot.say(GROUP, "/quiz now", uid=ADMIN, kind="supergroup", name="Admin")

    async def vote_before_the_answer(method: str, params: dict[str, object]) -> None:
        """Ada votes on poll 1 while sendPoll's answer is still on its way back to the sender."""
        if method != "sendPoll" or bot.fake.calls("sendPoll"):
            return
        bot.fake.poll_answer("poll1", ADA, int(params["correct_option_ids"][0]), "Ada")  # type: ignore[index]
        for _ in range(200):
            if await held_votes(bot):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the early vote was not held")

    bot.fake.on_call = vote_before_the_answer
    await bot.sender.drain()
    for _ in range(50):
        if await quiz_answers(bot):
            break
        await asyncio.sleep(0.05)
    assert [(a.index, a.correct) for a in await quiz_answers(bot)] == [(0, True)]
    assert await held_votes(bot) == []
    # A vote held just as its poll is recorded is taken back by the adapter's second look; a vote on
    # a poll never recorded stays held (for the sender) and is not counted by anyone.
    late = HeldVote("poll2", str(BO), "Bo", 0, "pa-late", bot.clock.now)
    found = await bot.adapter.hold_vote(late)
    assert found is not None and found[0] == str(GROUP) and found[1].endswith(":1")
    assert await held_votes(bot) == []
    unknown = HeldVote("poll99", str(BO), "Bo", 0, "pa-unknown", bot.clock.now)
    assert await bot.adapter.hold_vote(unknown) is None
    assert [v.poll_id for v in await held_votes(bot)] == ["poll99"]
    assert not bot.fake.rejected


def with_quiz_questions(bank: Bank, count: int) -> Bank:
    """The fixture bank with its quiz questions repeated (as new ids) up to `count`."""
    base = list(bank.quiz.values())
    quiz = {q.id: q for q in base}
    for n in range(len(base), count):
        q = base[n % len(base)]
        quiz[f"{q.id}-{n}"] = q.model_copy(update={"id": f"{q.id}-{n}", "question": f"{q.question} ({n})"})
    return replace(bank, quiz=quiz)


@pytest.fixture
async def bot10(tmp_path: Path, bank: Bank, clock: FakeClock) -> AsyncIterator[Bot]:
    async with running_fake_telegram(TOKEN) as fake:
        async for b in start_bot(fake, tmp_path, with_quiz_questions(bank, 10), clock):
            yield b


async def test_a_ten_question_quiz_posts_results_after_the_last_poll_closed(bot10: Bot, clock: FakeClock) -> None:
    bot = bot10
    bot.fake.admins.add((GROUP, ADMIN))
    for command in ("/quiz count 10", "/quiz open 10", "/quiz now"):
        await bot.say(GROUP, command, uid=ADMIN, kind="supergroup", name="Admin")
    start = clock.now
    bot.fake.on_call = lambda method, _: clock.advance(seconds=1) if method == "sendPoll" else None
    await bot.sender.drain()  # a poll a second: poll i goes out at +i s and Telegram closes it at +i+10 s
    polls = bot.fake.calls("sendPoll")
    assert len(polls) == 10 and clock.now == start + timedelta(seconds=10)
    assert all(int(p["open_period"]) == 10 and "message_thread_id" not in p for p in polls)

    async def vote(at: int, poll: int, uid: int, name: str) -> None:
        clock.now = start + timedelta(seconds=at)
        before = len(await quiz_answers(bot))
        bot.fake.poll_answer(f"poll{poll}", uid, int(polls[poll - 1]["correct_option_ids"][0]), name)
        for _ in range(30):
            if len(await quiz_answers(bot)) > before:
                break
            await asyncio.sleep(0.05)
        await bot.settle()

    await vote(14, 5, CY, "Cy")  # poll 5 is open until +15
    clock.now = start + timedelta(seconds=15)  # start + open period + 5 s: when results used to come
    await bot.sender.drain()
    assert not any("Quiz results" in t for t in bot.fake.texts(GROUP))
    await vote(17, 1, BO, "Bo")  # poll 1 closed at +11 (5 s grace to +16): not counted
    await vote(19, 10, ADA, "Ada")  # the last poll is open until +20
    clock.now = start + timedelta(seconds=24)
    await bot.sender.drain()
    assert not any("Quiz results" in t for t in bot.fake.texts(GROUP))
    clock.now = start + timedelta(seconds=26)  # the last poll closed at +20, plus the grace
    await bot.sender.drain()
    results = next(t for t in bot.fake.texts(GROUP) if "Quiz results" in t)
    assert "Q1: 0/0 correct" in results and "Q5: 1/1 correct" in results and "Q10: 1/1 correct" in results
    assert "Ada 1/10" in results and "Cy 1/10" in results and "Bo" not in results
    assert len(await quiz_answers(bot)) == 2 and not bot.fake.rejected


async def test_a_quiz_set_up_in_a_forum_topic_runs_in_that_topic(bot: Bot, clock: FakeClock) -> None:
    bot.fake.admins.add((GROUP, ADMIN))
    await bot.say(GROUP, "/quiz on 18:00 UTC", uid=ADMIN, kind="supergroup", name="Admin", thread=77)
    await bot.say(GROUP, "/quiz count 2", uid=ADMIN, kind="supergroup", name="Admin", thread=77)
    await bot.say(GROUP, "/quiz open 10", uid=ADMIN, kind="supergroup", name="Admin", thread=77)
    await bot.say(GROUP, "/quiz", uid=BO, kind="supergroup", name="Bo", thread=77)
    assert "Posts in this topic" in bot.last(GROUP)
    await bot.say(GROUP, "/quiz", uid=BO, kind="supergroup", name="Bo")
    assert "Posts in topic 77" in bot.last(GROUP)
    # The scheduled quiz at 18:00 and its close, put off once because the polls went out a second
    # apart: polls, results and leaderboard all in topic 77.
    clock.now = start = clock.now.replace(hour=18, minute=0, second=30)
    planner = Planner(bot.app.uow, clock)
    assert await planner.tick() == 1
    bot.fake.on_call = lambda method, _: clock.advance(seconds=1) if method == "sendPoll" else None
    await bot.sender.drain()
    bot.fake.on_call = None
    first = bot.fake.calls("sendPoll")[0]
    bot.fake.poll_answer("poll1", ADA, int(first["correct_option_ids"][0]), "Ada")
    for _ in range(50):
        if await quiz_answers(bot):
            break
        await asyncio.sleep(0.05)
    clock.now = start + timedelta(seconds=15)  # the first close, moved to +17 for the second poll
    await bot.sender.drain()
    assert not any("Quiz results" in t for t in bot.fake.texts(GROUP))
    clock.advance(seconds=300)
    await bot.sender.drain()
    await bot.say(GROUP, "/quiz now", uid=ADMIN, kind="supergroup", name="Admin", thread=77)
    await bot.sender.drain()
    clock.advance(seconds=300)
    await bot.sender.drain()
    polls = bot.fake.calls("sendPoll")
    assert len(polls) == 4 and all(int(p.get("message_thread_id", 0)) == 77 for p in polls)
    group_texts = [p for p in bot.fake.calls("sendMessage") if str(p["chat_id"]) == str(GROUP)]
    assert sum("Quiz results" in p["text"] for p in group_texts) == 2
    assert sum("Leaderboard" in p["text"] for p in group_texts) == 2
    elsewhere = [p["text"] for p in group_texts if int(p.get("message_thread_id", 0)) != 77]
    assert len(elsewhere) == 1 and "Posts in topic 77" in elsewhere[0]  # only the reply to /quiz in General


async def test_non_admin_is_refused_group_settings(bot: Bot) -> None:
    await bot.say(GROUP, "/quiz on 18:00 Europe/Berlin", uid=BO, kind="supergroup", name="Bo")
    assert "Only group admins" in bot.last(GROUP)
    assert bot.fake.calls("getChatMember")
    async with bot.app.uow() as store:
        assert (await store.session.scalars(select(SubscriptionRow))).all() == []


async def test_group_chatter_is_ignored_but_commands_answered(bot: Bot) -> None:
    bot.fake.message(GROUP, BO, "hello everyone", kind="supergroup", name="Bo")
    bot.fake.message(GROUP, BO, "/help@some_other_bot", kind="supergroup", name="Bo")
    await bot.say(GROUP, "/help@mock_interviewer_bot", uid=BO, kind="supergroup", name="Bo")
    assert len(bot.fake.texts(GROUP)) == 1 and "/mock" in bot.fake.texts(GROUP)[0]


async def test_a_429_storm_loses_nothing(bot: Bot) -> None:
    bot.fake.fail("sendMessage", 429, times=3, retry_after=1)
    await bot.say(ADA, "/help")
    assert "/mock" in bot.last(ADA)
    assert sum(1 for m, d in bot.fake.rejected if "Too Many Requests" in d) == 3


async def test_server_errors_are_retried(bot: Bot) -> None:
    bot.fake.fail("sendMessage", 502, times=2)
    await bot.say(ADA, "/help")
    assert "/mock" in bot.last(ADA)


async def test_a_long_outage_queues_the_reply_for_the_sender(bot: Bot, clock: FakeClock) -> None:
    bot.fake.fail("sendMessage", 500, times=4, chat_id=CY)
    bot.fake.message(CY, CY, "/help")
    await bot.fake.wait_for(lambda: len([d for _, d in bot.fake.rejected]) >= 4)
    await bot.settle()
    async with bot.app.uow() as store:
        queued = (await store.session.scalars(select(OutboxRow).where(OutboxRow.job == "retry"))).all()
    assert len(queued) == 1 and queued[0].replies
    clock.advance(seconds=60)
    await bot.sender.drain()
    assert "/mock" in bot.last(CY)


async def test_a_blocked_user_is_deactivated(bot: Bot, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    await bot.say(ADA, "/daily 09:00 UTC")
    bot.fake.fail("sendMessage", 403, times=5, chat_id=ADA)
    clock.now = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)
    await Planner(bot.app.uow, clock).tick()
    await bot.sender.drain()
    async with bot.app.uow() as store:
        sub = (await store.session.scalars(select(SubscriptionRow))).one()
        row = (await store.session.scalars(select(OutboxRow))).one()
    assert sub.active is False and "blocked" in (sub.deactivated_reason or "")
    assert row.status == "failed" and "blocked" in (row.last_error or "")


async def test_the_token_never_reaches_the_logs(tmp_path: Path, bank: Bank, clock: FakeClock) -> None:
    stream = io.StringIO()
    async with running_fake_telegram(TOKEN) as fake:
        setup_logging(settings_for(tmp_path, fake.url), stream)  # type: ignore[arg-type]
        for noisy in ("httpx", "telegram", "telegram.ext"):
            logging.getLogger(noisy).setLevel(logging.DEBUG)  # the loggers that see request URLs
        try:
            async for bot in start_bot(fake, tmp_path, bank, clock):
                await bot.say(ADA, "/help")
        finally:
            logging.getLogger().handlers.clear()
    text = stream.getvalue()
    assert "getUpdates" in text or "getMe" in text  # request URLs were logged...
    assert TOKEN not in text and TOKEN.split(":")[1] not in text  # ...with the token redacted


async def test_webhook_mode_checks_the_secret_header(
    tmp_path: Path, bank: Bank, clock: FakeClock, unused_tcp_port: int
) -> None:
    secret = "s3cret-token-for-tests"
    async with running_fake_telegram(TOKEN) as fake:
        settings = load_settings(
            {
                "DATA_DIR": str(tmp_path),
                "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'wh.db'}",
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": fake.url,
                "TELEGRAM_WEBHOOK_URL": "https://bot.example.invalid/telegram",
                "TELEGRAM_WEBHOOK_LISTEN": f"127.0.0.1:{unused_tcp_port}",
                "TELEGRAM_WEBHOOK_SECRET": secret,
            },
            dotenv=None,
        )
        async with build_app(settings, clock=clock, bank=bank) as app:
            adapter, _ = telegram_runtime(app, clock)
            await adapter.start()
            try:
                assert fake.calls("setWebhook")[0]["secret_token"] == secret
                update = {"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": fake.chat(ADA), "from": fake.user(ADA),
                                                       "text": "/help", "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}  # fmt: skip
                url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
                async with aiohttp.ClientSession() as http:
                    forged = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
                    assert forged.status == 403
                    ok = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret})
                    assert ok.status == 200
                await fake.wait_for(lambda: bool(fake.texts(ADA)))
                assert len(fake.texts(ADA)) == 1
            finally:
                await adapter.stop()


async def test_scheduler_service_runs_with_the_telegram_sender(bot: Bot, clock: FakeClock) -> None:
    service = SchedulerService(Planner(bot.app.uow, clock), bot.sender, Leadership(bot.app.db), send_every=0.1)
    await service.start()
    try:
        clock.now = datetime(2026, 3, 2, 8, 59, 50, tzinfo=UTC)
        await bot.say(CY, "/daily 09:00 UTC")
        clock.now = datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)
        await service.tick()
        await bot.fake.wait_for(lambda: "🗓 Daily question" in bot.last(CY))
    finally:
        await service.stop()


async def test_stats_photo_export_files_and_forget(bot: Bot) -> None:
    await bot.say(ADA, "/mock technical easy 3")
    await bot.say(ADA, "/skip")
    before = len(bot.fake.requests)
    bot.fake.message(ADA, ADA, "/stats")
    await bot.fake.wait_for(lambda: bool(bot.fake.calls("sendPhoto")))
    photo = bot.fake.calls("sendPhoto")[0]
    assert photo["photo"][:4] == b"\x89PNG" and "answer" in photo["caption"]
    bot.fake.message(ADA, ADA, "/export")
    await bot.fake.wait_for(lambda: len(bot.fake.calls("sendDocument")) == 2)
    docs = bot.fake.calls("sendDocument")
    assert docs[0]["document"].startswith(b"{") and docs[1]["document"].startswith(b"card_id,review_time,review_rating")
    assert len(bot.fake.requests) > before
    await bot.say(ADA, "/forget")
    await bot.press(ADA, "Yes, delete everything")
    assert "deleted" in bot.last(ADA)
    assert not bot.fake.rejected


async def test_forum_topics_get_replies_in_their_thread(bot: Bot) -> None:
    bot.fake.message(GROUP, BO, "/help", kind="supergroup", name="Bo")
    update = bot.fake.updates[-1]["message"]
    update["message_thread_id"] = 77
    update["is_topic_message"] = True
    await bot.fake.wait_for(lambda: bool(bot.fake.calls("sendMessage")))
    await bot.settle()
    assert all(int(p["message_thread_id"]) == 77 for p in bot.fake.calls("sendMessage"))
