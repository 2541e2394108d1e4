"""/link and /unlink across platforms, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.core.events import Inbound, Payload
from tests.conftest import FakeClock, cmd
from tests.harness import Harness
from tests.test_user_data import full_round


def on(platform: str, user: str, payload: Payload, clock: FakeClock) -> Inbound:
    return Inbound(platform, f"{platform}-{user}", "private", user, f"{platform} {user}", None, clock(), payload)


async def say(h: Harness, platform: str, user: str, clock: FakeClock, *args: str) -> str:
    replies = await h.dispatcher.dispatch(on(platform, user, cmd(*args), clock))
    return "\n".join(r.text for r in replies)


async def code_for(h: Harness, platform: str, user: str, clock: FakeClock) -> str:
    out = await say(h, platform, user, clock, "link")
    match = re.search(r"/link ([A-Z0-9]{4,16})", out)
    assert match, out
    return match.group(1)


async def rounds_seen(h: Harness, platform: str, user: str, clock: FakeClock) -> int:
    return (await say(h, platform, user, clock, "history")).count("(finished)")


async def test_link_merges_progress_and_unlink_separates_later_data(harness: Harness, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    async def round_on(platform: str, user: str) -> None:
        await full_round(
            lambda payload, who: harness.dispatcher.dispatch(on(platform, who, payload, clock)), clock, user
        )

    await round_on("telegram", "t1")
    await round_on("discord", "d1")
    await round_on("discord", "d1")
    code = await code_for(harness, "telegram", "t1", clock)
    out = await say(harness, "discord", "d1", clock, "link", code.lower())
    assert "Linked with your telegram account" in out
    assert await rounds_seen(harness, "telegram", "t1", clock) == 3
    assert await rounds_seen(harness, "discord", "d1", clock) == 3
    stats = await harness.dispatcher.dispatch(on("discord", "d1", cmd("stats"), clock))
    assert "9 answers, 3 rounds completed" in stats[0].text

    assert "already been used" in await say(harness, "discord", "d1", clock, "link", code)
    fresh = await code_for(harness, "telegram", "t1", clock)
    assert "own code" in await say(harness, "discord", "d1", clock, "link", fresh)  # now the same person
    assert "already has a discord identity" in await say(harness, "discord", "d2", clock, "link", fresh)

    assert "Unlinked" in await say(harness, "discord", "d1", clock, "unlink")
    await round_on("discord", "d1")
    assert await rounds_seen(harness, "telegram", "t1", clock) == 3  # earlier data stays
    assert await rounds_seen(harness, "discord", "d1", clock) == 1  # later data is its own
    assert "isn't linked" in await say(harness, "discord", "d1", clock, "unlink")


async def test_link_rejects_expired_own_and_unknown_codes(harness: Harness, clock: FakeClock) -> None:
    code = await code_for(harness, "telegram", "t1", clock)
    assert "own code" in await say(harness, "telegram", "t1", clock, "link", code)
    assert "isn't valid" in await say(harness, "discord", "d1", clock, "link", "NOPE1234")
    clock.advance(minutes=16)
    assert "expired" in await say(harness, "discord", "d1", clock, "link", code)
    group = Inbound("discord", "g1", "group", "d1", "d1", None, clock(), cmd("link"))
    assert "private chat" in (await harness.dispatcher.dispatch(group))[0].text
