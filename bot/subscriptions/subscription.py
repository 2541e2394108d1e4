"""A subscription: when and what a daily question or a channel quiz sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Subscription:
    """A daily question (one user's DM) or a channel quiz (a group chat); plain settings."""

    kind: str  # daily | quiz
    platform: str
    chat_id: str
    user_id: int  # daily: the subscriber; quiz: 0, a group's settings belong to the group
    external_user_id: str = ""
    id: int | None = None
    active: bool = True
    at: str = "09:00"  # local wall-clock time HH:MM
    zone: str = "UTC"
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    topics: tuple[str, ...] = ()  # chapter prefixes such as "5" or "8.3"; empty means all
    difficulty: str = "match"  # easy | medium | hard | match
    role: str | None = None
    count: int = 5  # quiz: questions per quiz
    open_period: int = 120  # quiz: seconds each poll stays open
    manager_role: str | None = None  # quiz: a platform role id whose members may change the settings
    streak: int = 0
    best_streak: int = 0
    last_answered: str | None = None  # local date, ISO
    next_run: datetime | None = None
    deactivated_reason: str | None = None
    thread_id: str | None = None  # quiz: the forum topic (Telegram) it was set up in; None is the main chat


@dataclass(frozen=True)
class SubscriptionRecord:
    subscription: Subscription
