"""Per-chat maps adapters and limiters keep stay bounded however many chats the bot has seen."""

from __future__ import annotations

from adapters.cache import TtlCache
from adapters.telegram.adapter import TelegramAdapter, TelegramSettings
from bot.delivery.sending import Limits, RateLimiter
from tests.conftest import virtual_sleep


def test_the_admin_cache_expires_and_stays_bounded() -> None:
    now = [0.0]
    cache: TtlCache[tuple[int, int], bool] = TtlCache(300, 100, clock=lambda: now[0])
    for member in range(1000):
        cache.put((-1, member), member == 7)
    assert len(cache) == 100 and cache.get((-1, 999)) is False and cache.get((-1, 7)) is None  # oldest went
    cache.put((-1, 7), True)
    now[0] = 299
    assert cache.get((-1, 7)) is True
    now[0] = 301
    assert cache.get((-1, 7)) is None


async def test_the_telegram_adapter_uses_the_bounded_cache() -> None:
    async def nothing(*args: object) -> None:
        return None

    adapter = TelegramAdapter(
        TelegramSettings("123456789:AAtesttoken_abcdefghijklmnopqrstuv"),
        nothing,  # type: ignore[arg-type]
        RateLimiter(Limits()),
        nothing,  # type: ignore[arg-type]
        nothing,  # type: ignore[arg-type]
        nothing,  # type: ignore[arg-type]
        nothing,
    )
    assert isinstance(adapter._admins, TtlCache) and adapter._admins.size <= 10_000


async def test_the_limiters_group_map_is_pruned() -> None:
    now = [0.0]
    limiter = RateLimiter(Limits(per_second=1000, per_chat_interval=0.0), clock=lambda: now[0], max_chats=100)
    with virtual_sleep(now):
        for i in range(1000):
            await limiter.acquire(f"group{i}", True)
            now[0] += 1  # one group message a second, each to a new group
    assert len(limiter._group_sent) <= 101 and len(limiter._chat_next) <= 101
