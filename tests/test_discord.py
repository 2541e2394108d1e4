"""The whole Discord bot, on the real discord.py client, against the fake gateway and REST API."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from adapters.discord.adapter import INTENTS, DiscordAdapter, DiscordSettings
from adapters.discord.commands import SIMPLE_COMMANDS
from adapters.discord.render import MAX_CONTENT, render
from adapters.errors import PlatformUnreachable
from bot.app import App, build_app, discord_runtime, readiness, setup_logging
from bot.config import ConfigError, Settings, load_settings
from bot.core.events import Button, Reply
from bot.delivery.outbox import Planner, Sender
from bot.delivery.sending import Limits, RateLimiter
from bot.grading.claims import ClaimGrader
from bot.grading.verdict import Rubric, Verdict
from questions.loader import Bank
from storage.models import OutboxRow, QuizAnswerRow, SubscriptionRow
from tests.conftest import FLOW_LIMITS, FakeClock
from tests.fake_discord import EPHEMERAL, LOADING, FakeDiscord, running_fake_discord

TOKEN = "MTE5ODc2NTQzMjEwOTg3NjU0Mw.GabCdE.fakefakefakefakefakefakefakefakefakefake12"
ADA, BO, CY, ADMIN = 4001, 4002, 4003, 4009
GUILD, CHANNEL, QUIZ_ROLE = 7_000_000_000_000_000_001, 7_000_000_000_000_000_101, 7_000_000_000_000_000_201
ANSWER = "Because L1 has a corner at zero, the penalty sets weak weights exactly to zero, which selects features."


@dataclass
class Bot:
    fake: FakeDiscord
    app: App
    adapter: DiscordAdapter
    sender: Sender
    clock: FakeClock

    async def slash(self, uid: int, name: str, options: dict[str, Any] | None = None, **kw: Any) -> int:
        iid = self.fake.slash(uid, name, options, **kw)
        await self.answered(iid)
        return iid

    async def click(self, uid: int, channel: int, label: str, **kw: Any) -> int:
        message, custom_id = self.fake.with_button(channel, uid, label)
        iid = self.fake.click(uid, message, custom_id, **kw)
        await self.answered(iid)
        return iid

    async def answered(self, iid: int) -> None:
        await self.fake.wait_for(lambda: self.fake.interactions[iid].answered)
        await self.fake.settle()

    async def dm(self, uid: int, text: str) -> None:
        before = len(self.fake.messages)
        self.fake.dm(uid, text)
        await self.fake.wait_for(lambda: len(self.fake.messages) > before)
        await self.fake.settle()

    def last(self, channel: int, uid: int) -> str:
        return self.fake.texts(channel, uid)[-1]


def settings_for(tmp: Path, url: str, **extra: str) -> Settings:
    return load_settings(
        {
            "DATA_DIR": str(tmp),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'dc.db'}",
            "DISCORD_BOT_TOKEN": TOKEN,
            "DISCORD_API_BASE_URL": f"{url}/api/v10",
            "DISCORD_GATEWAY_URL": url.replace("http", "ws") + "/gateway",
            **extra,
        },
        dotenv=None,
    )


@asynccontextmanager
async def started(
    fake: FakeDiscord, tmp: Path, bank: Bank, clock: FakeClock, grader: Any = None, **extra: str
) -> AsyncIterator[Bot]:
    async with build_app(settings_for(tmp, fake.url, **extra), clock=clock, bank=bank, grader=grader) as app:
        adapter, sender = discord_runtime(app, clock)
        adapter.transport.limiter = RateLimiter(FLOW_LIMITS)
        await adapter.start(ready_within=20)
        try:
            yield Bot(fake, app, adapter, sender, clock)
        finally:
            await adapter.stop()


@pytest.fixture
async def bot(tmp_path: Path, bank: Bank, clock: FakeClock) -> AsyncIterator[Bot]:
    async with running_fake_discord(TOKEN) as fake:
        fake.add_guild(GUILD, CHANNEL, {QUIZ_ROLE: "Quiz masters"})
        async with started(fake, tmp_path, bank, clock) as b:
            yield b


def no_leftovers(fake: FakeDiscord) -> None:
    """Discord accepted every request, and no "thinking…" message was left hanging."""
    assert not fake.rejected, fake.rejected
    assert not [m for m in fake.messages.values() if m["flags"] & LOADING]


async def test_connects_with_minimal_intents_and_syncs_slash_commands(bot: Bot) -> None:
    fake = bot.fake
    assert len(fake.identify) == 1 and fake.identify[0]["intents"] == INTENTS.value
    assert INTENTS.value == (1 << 0) | (1 << 12)  # guilds and direct messages: no privileged intent
    names = {c["name"] for c in fake.commands["global"]}
    assert {"mock", "daily", "quiz", "stats", "settings", "export", "forget", "help"} <= names
    assert set(SIMPLE_COMMANDS) <= names
    mock = next(c for c in fake.commands["global"] if c["name"] == "mock")
    track = next(o for o in mock["options"] if o["name"] == "track")
    assert {c["value"] for c in track["choices"]} == {
        *("technical", "behavioral", "mixed", "design", "quiz", "loop"),
        *("exercises", "sql", "python"),  # technical rounds of exercises that are run
    }
    options = [(c["name"], o) for c in fake.commands["global"] for o in c.get("options", [])]
    undescribed = [(name, o["name"]) for name, o in options if o.get("description", "…") in ("", "…")]
    assert options and undescribed == []  # the command picker shows "…" for an option without one
    await bot.slash(ADA, "help")
    assert "mock interviewer" in bot.last(fake.dm_channel(ADA), ADA)
    no_leftovers(fake)


async def test_dev_guild_gets_the_commands(tmp_path: Path, bank: Bank, clock: FakeClock) -> None:
    async with running_fake_discord(TOKEN) as fake:
        fake.add_guild(GUILD, CHANNEL)
        async with started(fake, tmp_path, bank, clock, DISCORD_DEV_GUILD_ID=str(GUILD)) as b:
            assert "global" not in fake.commands and {c["name"] for c in fake.commands[str(GUILD)]} >= {"mock"}
            await b.slash(ADA, "help", guild=GUILD)
            assert "mock interviewer" in b.last(CHANNEL, ADA)


async def test_slash_mock_round_in_a_server_with_buttons_and_a_modal_answer(bot: Bot) -> None:
    fake = bot.fake
    await bot.slash(ADA, "mock", {"track": "technical", "difficulty": "easy", "length": 3}, guild=GUILD)
    assert "Question 1/3" in bot.last(CHANNEL, ADA)
    for n in range(3):
        opened = await bot.click(ADA, CHANNEL, "✍️ Answer", guild=GUILD)
        assert fake.interactions[opened].modal is not None  # the press opened a form
        submitted = fake.submit(ADA, opened, ANSWER)
        await bot.answered(submitted)
        assert "Score:" in "\n".join(fake.texts(CHANNEL, ADA)[-3:])
        if "Skip follow-up" in str(fake.with_button(CHANNEL, ADA, "Hint")[0]["components"]):
            await bot.click(ADA, CHANNEL, "Skip follow-up", guild=GUILD)
        await bot.click(ADA, CHANNEL, "Good", guild=GUILD)
        if n < 2:
            assert f"Question {n + 2}/3" in bot.last(CHANNEL, ADA)
    card = next(m for m in reversed(fake.visible(CHANNEL, ADA)) if m["embeds"])
    assert card["embeds"][0]["title"].startswith("📋 Scorecard") and "By topic" in card["embeds"][0]["description"]
    # Everything of Ada's round was ephemeral: Bo, in the same channel, saw none of it.
    assert fake.visible(CHANNEL, BO) == [] and card["flags"] & EPHEMERAL
    no_leftovers(fake)


async def test_discord_updates_are_counted_and_held_to_the_abuse_limits(
    tmp_path: Path, bank: Bank, clock: FakeClock
) -> None:
    def handled() -> float:
        return (
            REGISTRY.get_sample_value("mock_interviewer_updates_total", {"platform": "discord", "kind": "command"}) or 0
        )

    async with (
        running_fake_discord(TOKEN) as fake,
        started(fake, tmp_path, bank, clock, RATE_MESSAGES_PER_MINUTE="2") as b,
    ):
        before = handled()
        for _ in range(3):
            await b.slash(ADA, "help")
        texts = b.fake.texts(fake.dm_channel(ADA), ADA)
    assert sum("mock interviewer" in t for t in texts) == 2
    assert "faster than I can answer" in texts[-1]
    assert handled() - before == 3
    no_leftovers(fake)


async def test_interaction_replies_count_as_sends(bot: Bot) -> None:
    def sends(outcome: str) -> float:
        return (
            REGISTRY.get_sample_value("mock_interviewer_sends_total", {"platform": "discord", "outcome": outcome}) or 0
        )

    sent, failed = sends("sent"), sends("failed")
    await bot.slash(ADA, "help", guild=GUILD)
    assert sends("sent") - sent == 1
    bot.fake.fail("PATCH", r"/webhooks/\d+/[\w-]+/messages/@original$", 404)
    bot.fake.slash(ADA, "help", guild=GUILD)  # private to ADA, so only the interaction could show it: lost
    await bot.fake.wait_for(lambda: sends("failed") - failed == 1)


async def test_readiness_follows_the_discord_gateway(bot: Bot) -> None:
    await gateway_outage(bot)
    await bot.slash(ADA, "help")
    assert "mock interviewer" in bot.last(bot.fake.dm_channel(ADA), ADA)


async def gateway_outage(bot: Bot, shard: int | None = None) -> None:
    """/readyz's discord check fails while the gateway (or one shard) is down, and passes once it is back."""

    async def discord_ready() -> bool:
        return dict((name, passed) for name, passed, _ in await readiness(bot.app, [bot.adapter]))["discord"]

    assert await discord_ready()
    bot.fake.gateway_down = True
    await bot.fake.drop_gateway(shard)
    await wait_until(lambda: not bot.adapter.connected, within=10)
    assert not await discord_ready()
    bot.fake.gateway_down = False
    await wait_until(lambda: bot.adapter.connected, within=30)  # discord.py reconnects with backoff
    assert await discord_ready()


async def wait_until(check: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_dm_answers_by_plain_messages_and_unknown_input(bot: Bot) -> None:
    channel = bot.fake.dm_channel(ADA)
    await bot.dm(ADA, "/mock technical easy 3")
    assert "Question 1/3" in bot.last(channel, ADA)
    await bot.dm(ADA, "Because L1 has a corner at zero,")
    assert "Noted" in bot.last(channel, ADA)
    await bot.dm(ADA, "weak weights become exactly zero, so it selects features.")
    await bot.dm(ADA, "/done")
    assert "Score:" in "\n".join(bot.fake.texts(channel, ADA)[-2:])
    assert bot.fake.calls("POST", rf"/channels/{channel}/typing")  # shown while grading
    await bot.dm(ADA, "/frobnicate")
    assert "I don't know the command /frobnicate" in bot.last(channel, ADA)
    bot.fake.dm(ADA, "", attachments=1)
    await bot.fake.wait_for(lambda: "only read text" in bot.last(channel, ADA))
    await bot.dm(ADA, "ሰላም 👋 שלום " + "x" * 9000)
    assert "I read at most 8,000 at once" in bot.last(channel, ADA)  # the abuse limit refuses it first
    no_leftovers(bot.fake)


async def test_forged_and_stale_buttons_get_an_ephemeral_notice(bot: Bot) -> None:
    fake = bot.fake
    await bot.slash(ADA, "mock", {"track": "technical", "difficulty": "easy", "length": 3}, guild=GUILD)
    first, done = fake.with_button(CHANNEL, ADA, "Done")
    forged = fake.click(ADA, first, "not a button of ours!", guild=GUILD)
    await bot.answered(forged)
    assert "don't recognise that button" in bot.last(CHANNEL, ADA)
    await bot.click(ADA, CHANNEL, "Skip", guild=GUILD)
    assert "Question 2/3" in bot.last(CHANNEL, ADA)
    stale = fake.click(ADA, first, done, guild=GUILD)  # Done on question 1, pressed during question 2
    await bot.answered(stale)
    assert "earlier message" in bot.last(CHANNEL, ADA) and "Question 2/3" in bot.last(CHANNEL, ADA)
    no_leftovers(fake)


async def test_same_interaction_twice_is_processed_once(bot: Bot) -> None:
    fake = bot.fake
    channel = fake.dm_channel(ADA)
    iid = await bot.slash(ADA, "mock", {"track": "technical", "difficulty": "easy", "length": 3})
    before = len(fake.texts(channel, ADA))
    # Discord delivered the same INTERACTION_CREATE again (a gateway resume, say).
    it = fake.interactions[iid]
    it.acked, it.created, it.original = None, time.monotonic(), None
    fake.dispatch("INTERACTION_CREATE", _interaction_body(fake, iid), None)
    await fake.wait_for(lambda: it.acked is not None)
    await fake.settle()
    assert len(fake.texts(channel, ADA)) == before  # nothing new was said
    no_leftovers(fake)


def _interaction_body(fake: FakeDiscord, iid: int) -> dict[str, Any]:
    it = fake.interactions[iid]
    command = next(c for c in fake.commands["global"] if c["name"] == "mock")
    user = fake.user(it.user_id)
    return {"id": str(iid), "application_id": str(fake.app_id), "type": 2, "token": it.token, "version": 1,
            "channel_id": str(it.channel_id), "locale": "en-US", "app_permissions": "0", "entitlements": [],
            "attachment_size_limit": 1024, "context": 1, "user": user,
            "channel": {"id": str(it.channel_id), "type": 1, "recipients": [user], "last_message_id": None, "flags": 0},
            "data": {"id": command["id"], "name": "mock", "type": 1, "options": []}}  # fmt: skip


async def test_buttons_keep_working_after_a_restart(tmp_path: Path, bank: Bank, clock: FakeClock) -> None:
    async with running_fake_discord(TOKEN) as fake:
        fake.add_guild(GUILD, CHANNEL)
        async with started(fake, tmp_path, bank, clock) as first:
            await first.slash(ADA, "mock", {"track": "technical", "difficulty": "easy", "length": 3}, guild=GUILD)
            question = first.last(CHANNEL, ADA)
        async with started(fake, tmp_path, bank, clock) as second:
            assert len(fake.identify) == 2
            await second.click(ADA, CHANNEL, "Hint", guild=GUILD)
            assert "Hint 1/" in second.last(CHANNEL, ADA)
            await second.click(ADA, CHANNEL, "Skip", guild=GUILD)
            assert "Skipped" in "\n".join(fake.texts(CHANNEL, ADA)[-3:]) and question != second.last(CHANNEL, ADA)
        no_leftovers(fake)


async def test_dm_daily_subscription_delivers_and_is_answered(bot: Bot, clock: FakeClock) -> None:
    fake = bot.fake
    channel = fake.dm_channel(ADA)
    clock.now = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    await bot.slash(ADA, "daily")
    await bot.click(ADA, channel, "Subscribe")
    await bot.dm(ADA, "Berlin")
    await bot.dm(ADA, "09:00")
    assert "You're subscribed" in bot.last(channel, ADA)
    clock.now = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)  # 09:00:30 in Berlin
    await Planner(bot.app.uow, clock).tick()
    assert await bot.sender.drain() == 1
    assert "🗓 Daily question" in bot.last(channel, ADA)
    opened = await bot.click(ADA, channel, "✍️ Answer")
    await bot.answered(fake.submit(ADA, opened, "It reduces variance because the model averages many noisy fits."))
    assert "Score:" in bot.last(channel, ADA)
    await bot.click(ADA, channel, "Easy")
    assert "comes back on" in bot.last(channel, ADA)
    no_leftovers(fake)


async def test_channel_quiz_three_members_leaderboard_and_lock(bot: Bot, clock: FakeClock) -> None:
    fake = bot.fake
    await bot.slash(ADMIN, "quiz", {"action": "count", "value": "3"}, guild=GUILD, user_name="Admin", manager=True)
    assert "Saved" in bot.last(CHANNEL, BO)  # settings are posted for the whole channel
    await bot.slash(ADMIN, "quiz", {"action": "now"}, guild=GUILD, user_name="Admin", manager=True)
    await bot.sender.drain()
    posts = [m for m in fake.visible(CHANNEL, BO) if m["content"].startswith("🧠 **")]
    assert len(posts) == 3 and all(len(p["components"][0]["components"]) >= 2 for p in posts)
    picks = {ADA: ("Ada", "A"), BO: ("Bo", "B"), CY: ("Cy", "A")}
    for uid, (name, letter) in picks.items():
        for post in posts:
            custom = next(b["custom_id"] for b in post["components"][0]["components"] if b["label"] == letter)
            await bot.answered(fake.click(uid, post, custom, guild=GUILD, user_name=name))
    first_post = {**posts[0]}  # as members saw it before the quiz closed
    again = fake.click(ADA, posts[0], posts[0]["components"][0]["components"][1]["custom_id"], guild=GUILD)
    await bot.answered(again)
    assert "first answer counts" in bot.last(CHANNEL, ADA)
    async with bot.app.uow() as store:
        assert len((await store.session.scalars(select(QuizAnswerRow))).all()) == 9
    clock.advance(seconds=300)
    await bot.sender.drain()
    results, board = fake.texts(CHANNEL, BO)[-2:]
    posted = fake.calls("POST", r"/channels/\d+/messages$") + fake.calls("POST", r"/webhooks/")
    assert posted and all(body.get("allowed_mentions") == {"parse": []} for body in posted)  # nobody is pinged
    assert "Quiz results" in results and "Leaderboard" in board and all(n in board for n in ("Ada", "Bo", "Cy"))
    assert all(fake.messages[int(p["id"])]["components"] == [] for p in posts)  # locked
    late = fake.click(BO, first_post, first_post["components"][0]["components"][0]["custom_id"], guild=GUILD)
    await bot.answered(late)
    assert "has closed" in bot.last(CHANNEL, BO)
    no_leftovers(fake)


def quiz_posts(fake: FakeDiscord, channel: int) -> list[dict[str, Any]]:
    return [m for m in fake.visible(channel, BO) if m["content"].startswith("🧠 **")]


def button(post: dict[str, Any], letter: str) -> str:
    return str(next(b["custom_id"] for b in post["components"][0]["components"] if b["label"] == letter))


async def stored_answers(bot: Bot) -> list[QuizAnswerRow]:
    async with bot.app.uow() as store:
        return list((await store.session.scalars(select(QuizAnswerRow))).all())


async def test_a_click_on_the_first_question_counts_while_later_ones_go_out(bot: Bot) -> None:
    fake = bot.fake
    await bot.slash(ADMIN, "quiz", {"action": "count", "value": "3"}, guild=GUILD, user_name="Admin", manager=True)
    await bot.slash(ADMIN, "quiz", {"action": "now"}, guild=GUILD, user_name="Admin", manager=True)
    fake.fail("POST", rf"/channels/{CHANNEL}/messages$", 0, times=4, delay=1.5)  # each post takes 1.5 s
    sending = asyncio.create_task(bot.sender.drain())
    await fake.wait_for(lambda: len(quiz_posts(fake, CHANNEL)) == 1)
    first = quiz_posts(fake, CHANNEL)[0]
    async with bot.app.uow() as store:  # its message was recorded as soon as Discord created it
        assert [m for _, m in await store.polls_of_run("discord", button(first, "A").split(":")[1])] == [first["id"]]
    await bot.answered(fake.click(ADA, first, button(first, "A"), guild=GUILD, user_name="Ada"))
    assert [a.index for a in await stored_answers(bot)] == [0]
    assert len(quiz_posts(fake, CHANNEL)) < 3 and not sending.done()  # counted while posts were still going out
    await sending
    no_leftovers(fake)


async def test_channel_quiz_results_come_after_the_last_question_closes(bot: Bot, clock: FakeClock) -> None:
    fake = bot.fake
    for action, value in (("count", "3"), ("open", "10"), ("now", None)):
        options = {"action": action, "value": value} if value else {"action": action}
        await bot.slash(ADMIN, "quiz", options, guild=GUILD, user_name="Admin", manager=True)
    start = clock.now
    posting = rf"^/channels/{CHANNEL}/messages$"
    fake.on_call = lambda method, path: (
        clock.advance(seconds=4) if method == "POST" and re.match(posting, path) else None
    )
    await bot.sender.drain()  # 4 s a post: the intro at +4, questions at +8, +12 and +16 (open until +26)
    fake.on_call = None
    posts = quiz_posts(fake, CHANNEL)
    assert len(posts) == 3 and clock.now == start + timedelta(seconds=16)

    async def click(at: int, post: int, uid: int, name: str) -> str:
        clock.now = start + timedelta(seconds=at)
        await bot.answered(fake.click(uid, posts[post], button(posts[post], "A"), guild=GUILD, user_name=name))
        return bot.last(CHANNEL, uid)

    clock.now = start + timedelta(seconds=15)  # start + open period + 5 s
    await bot.sender.drain()
    assert not any("Quiz results" in t for t in fake.texts(CHANNEL, BO))
    await click(20, 2, ADA, "Ada")  # the last question is open until +26
    assert "has closed" in await click(24, 0, BO, "Bo")  # the first closed at +18 (grace to +23)
    clock.now = start + timedelta(seconds=30)
    await bot.sender.drain()
    assert not any("Quiz results" in t for t in fake.texts(CHANNEL, BO))
    clock.now = start + timedelta(seconds=32)  # the last question closed at +26, plus the grace
    await bot.sender.drain()
    results = next(t for t in fake.texts(CHANNEL, BO) if "Quiz results" in t)
    assert "Q1: 0/0" in results and re.search(r"Q3: [01]/1 correct", results) and "Bo" not in results
    assert [a.index for a in await stored_answers(bot)] == [2]
    assert all(fake.messages[int(p["id"])]["components"] == [] for p in posts)  # locked with the results
    no_leftovers(fake)


async def test_a_channel_quiz_runs_in_the_channel_it_was_set_up_in(
    tmp_path: Path, bank: Bank, clock: FakeClock
) -> None:
    other = CHANNEL + 1
    async with running_fake_discord(TOKEN) as fake:
        fake.add_guild(GUILD, CHANNEL)
        fake.add_channel(GUILD, other, "quiz-night")
        async with started(fake, tmp_path, bank, clock) as bot:
            admin = {"guild": GUILD, "user_name": "Admin", "manager": True, "channel": other}
            await bot.slash(ADMIN, "quiz", {"action": "on", "value": "18:00 UTC"}, **admin)
            await bot.slash(ADMIN, "quiz", {"action": "count", "value": "2"}, **admin)
            await bot.slash(BO, "quiz", guild=GUILD, user_name="Bo", channel=other)
            assert "Channel quiz: on" in bot.last(other, BO)
            await bot.slash(BO, "quiz", guild=GUILD, user_name="Bo")
            assert "No scheduled quiz in this chat" in bot.last(CHANNEL, BO)
            # The scheduled quiz at 18:00 and /quiz now: questions, results and leaderboard in that channel.
            clock.now = clock.now.replace(hour=18, minute=0, second=30)
            assert await Planner(bot.app.uow, clock).tick() == 1
            await bot.sender.drain()
            first = quiz_posts(fake, other)[0]
            await bot.answered(fake.click(ADA, first, button(first, "A"), guild=GUILD, user_name="Ada"))
            clock.advance(seconds=300)
            await bot.sender.drain()
            await bot.slash(ADMIN, "quiz", {"action": "now"}, **admin)
            await bot.sender.drain()
            clock.advance(seconds=300)
            await bot.sender.drain()
            assert len(quiz_posts(fake, other)) == 4 and quiz_posts(fake, CHANNEL) == []
            assert sum("Quiz results" in t for t in fake.texts(other, BO)) == 2
            assert sum("Leaderboard" in t for t in fake.texts(other, BO)) == 2
            assert len(fake.texts(CHANNEL, BO)) == 1  # nothing in the other channel but the reply to /quiz
            no_leftovers(fake)


async def test_only_managers_or_the_quiz_role_configure_the_channel_quiz(bot: Bot) -> None:
    await bot.slash(BO, "quiz", {"action": "on", "value": "18:00 UTC"}, guild=GUILD, user_name="Bo")
    assert "Only group admins" in bot.last(CHANNEL, BO)
    async with bot.app.uow() as store:
        assert (await store.session.scalars(select(SubscriptionRow))).all() == []
    await bot.slash(ADMIN, "quiz", {"action": "role", "value": f"<@&{QUIZ_ROLE}>"}, guild=GUILD, manager=True)
    await bot.slash(BO, "quiz", {"action": "role", "value": "off"}, guild=GUILD, roles=[QUIZ_ROLE])
    assert "Only group admins" in bot.last(CHANNEL, BO)  # the role may not hand out or revoke the role
    await bot.slash(BO, "quiz", {"action": "on", "value": "18:00 UTC"}, guild=GUILD, user_name="Bo", roles=[QUIZ_ROLE])
    assert "Channel quiz: on" in bot.last(CHANNEL, BO)
    no_leftovers(bot.fake)


async def test_a_403_on_dm_deactivates_the_subscription(bot: Bot, clock: FakeClock) -> None:
    fake = bot.fake
    clock.now = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    await bot.slash(ADA, "daily", {"action": "time", "value": "09:00 UTC"})
    fake.blocked_dm.add(ADA)
    clock.now = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
    await Planner(bot.app.uow, clock).tick()
    await bot.sender.drain()
    async with bot.app.uow() as store:
        sub = (await store.session.scalars(select(SubscriptionRow))).one()
        row = (await store.session.scalars(select(OutboxRow))).one()
    assert not sub.active and "50007" in (sub.deactivated_reason or "")
    assert row.status == "failed" and "blocked" in (row.last_error or "")


async def test_5xx_and_429_are_retried_and_nothing_is_lost(bot: Bot, clock: FakeClock) -> None:
    fake = bot.fake
    channel = fake.dm_channel(ADA)
    clock.now = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    await bot.slash(ADA, "daily", {"action": "time", "value": "09:00 UTC"})
    fake.fail("POST", rf"/channels/{channel}/messages$", 500, times=2)
    fake.fail("POST", rf"/channels/{channel}/messages$", 429, times=2, retry_after=0.2)
    clock.now = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
    await Planner(bot.app.uow, clock).tick()
    for _ in range(5):
        if await bot.sender.drain():
            break
        clock.advance(minutes=10)
    assert "🗓 Daily question" in bot.last(channel, ADA)
    assert sum(1 for m in fake.messages.values() if "🗓 Daily question" in m["content"]) == 1
    assert [f.times for f in fake.faults] == [0, 0]


async def test_slow_grading_is_acknowledged_within_three_seconds(tmp_path: Path, bank: Bank, clock: FakeClock) -> None:
    class SlowGrader:
        async def grade(self, rubric: Rubric, answer: str) -> Verdict:
            await asyncio.sleep(3.5)
            return await ClaimGrader().grade(rubric, answer)

    async with running_fake_discord(TOKEN) as fake:
        fake.add_guild(GUILD, CHANNEL)
        async with started(fake, tmp_path, bank, clock, grader=SlowGrader()) as b:
            await b.slash(ADA, "mock", {"track": "technical", "difficulty": "easy", "length": 3}, guild=GUILD)
            opened = await b.click(ADA, CHANNEL, "✍️ Answer", guild=GUILD)
            submitted = fake.submit(ADA, opened, ANSWER)
            await fake.wait_for(lambda: fake.interactions[submitted].acked == 5, within=2.5)
            await fake.wait_for(lambda: "Score:" in "\n".join(fake.texts(CHANNEL, ADA)[-3:]), within=15)
            no_leftovers(fake)


async def test_stats_chart_and_export_files_are_attachments(bot: Bot) -> None:
    channel = bot.fake.dm_channel(ADA)
    await bot.slash(ADA, "stats")
    stats = next(m for m in reversed(bot.fake.visible(channel, ADA)) if m["attachments"])
    assert stats["attachments"][0]["filename"] == "progress.png" and "answers" in stats["content"]
    await bot.slash(ADA, "export")
    names = [a["filename"] for m in bot.fake.visible(channel, ADA) for a in m["attachments"]]
    assert "mock-interviewer-export.json" in names and "fsrs-review-log.csv" in names
    await bot.slash(ADA, "forget")
    await bot.click(ADA, channel, "Yes, delete everything")
    assert "deleted" in bot.last(channel, ADA).lower()
    no_leftovers(bot.fake)


async def test_sharded_client_identifies_every_shard(tmp_path: Path, bank: Bank, clock: FakeClock) -> None:
    async with running_fake_discord(TOKEN) as fake:
        fake.add_guild(GUILD, CHANNEL)
        fake.shard_count = 2
        async with started(fake, tmp_path, bank, clock, DISCORD_SHARDS="auto") as b:
            assert sorted(tuple(i["shard"]) for i in fake.identify) == [(0, 2), (1, 2)]
            await gateway_outage(b, shard=1)
            await b.slash(ADA, "mock", {"track": "technical", "difficulty": "easy", "length": 3}, guild=GUILD)
            assert "Question 1/3" in b.last(CHANNEL, ADA)


async def test_the_token_never_reaches_the_logs(bot: Bot) -> None:
    stream = io.StringIO()
    setup_logging(bot.app.settings, stream)
    logging.getLogger("discord").setLevel(logging.DEBUG)
    try:
        logging.getLogger("discord.http").debug("request with token %s", TOKEN)
        await bot.slash(ADA, "help")
    finally:
        logging.getLogger("discord").setLevel(logging.WARNING)
        logging.getLogger().handlers.clear()
    assert TOKEN not in stream.getvalue() and "[REDACTED]" in stream.getvalue()


def test_long_replies_split_and_cards_become_embeds() -> None:
    paragraphs = "\n\n".join(f"Paragraph {i}: " + "word " * 80 for i in range(12))
    out = render(Reply(paragraphs, (Button("Done", "rd:done:1"),), answer_choice="rd:done:1"))
    assert len(out) > 1 and all(o.content and len(o.content) <= MAX_CONTENT for o in out)
    assert out[-1].view is not None and [o.view for o in out[:-1]] == [None] * (len(out) - 1)
    labels = [c["label"] for row in out[-1].view.to_components() for c in row["components"]]
    assert labels == ["✍️ Answer", "Done"]
    formula = render(Reply("minimise sum_i (y_i - w*x_i)^2"))[0].content
    assert formula == "minimise sum\\_i (y\\_i - w\\*x\\_i)^2"  # shown as typed, not as italics
    card = render(Reply("Overall: 3.0/4", title="📋 Scorecard"))
    assert card[0].embed is not None and card[0].embed.title == "📋 Scorecard" and card[0].content is None
    assert render(Reply("")) == []


async def test_a_rejected_token_is_a_config_error_and_an_unreachable_discord_is_retryable(
    unused_tcp_port: int,
) -> None:
    async def nothing(*args: object) -> None:
        return None

    def adapter(token: str, url: str) -> DiscordAdapter:
        settings = DiscordSettings(token, f"{url}/api/v10", url.replace("http", "ws") + "/gateway")
        return DiscordAdapter(settings, nothing, RateLimiter(Limits()), nothing, nothing, nothing, nothing)  # type: ignore[arg-type]

    async with running_fake_discord(TOKEN) as fake:
        with pytest.raises(ConfigError, match="DISCORD_BOT_TOKEN was rejected") as rejected:
            await adapter(TOKEN[:-4] + "nope", fake.url).start(ready_within=10)
    assert "nope" not in str(rejected.value)
    with pytest.raises(PlatformUnreachable, match="Discord"):  # serve() retries this with backoff
        await adapter(TOKEN, f"http://127.0.0.1:{unused_tcp_port}").start(ready_within=10)
