"""What /stats and /link read from storage, and what /link, /unlink and /forget ask it to write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass
class StatsView:
    """A user's progress, read for /stats."""

    sections: dict[str, tuple[float, int]] = field(default_factory=dict)  # section -> (mean score 0-4, answers)
    trend: list[tuple[str, float, int]] = field(default_factory=list)  # (ISO day, mean score, answers), oldest first
    rounds_completed: int = 0
    seconds_practised: int = 0
    cards: int = 0
    cards_due: int = 0
    today: date = date(1970, 1, 1)  # the user's local date (their daily question's zone, else UTC)
    practice_days: frozenset[date] = frozenset()  # local dates with at least one answer

    @property
    def streak(self) -> int:
        """Days in a row with practice, ending today, or yesterday while today is still open."""
        day = self.today if self.today in self.practice_days else self.today - timedelta(days=1)
        length = 0
        while day in self.practice_days:
            length, day = length + 1, day - timedelta(days=1)
        return length

    @property
    def best_streak(self) -> int:
        best = run = 0
        previous: date | None = None
        for day in sorted(self.practice_days):
            run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
            best, previous = max(best, run), day
        return best


@dataclass(frozen=True)
class LinkView:
    owner: int
    platforms: tuple[str, ...]
    expires_at: datetime
    used: bool


@dataclass(frozen=True)
class LinkCodeRecord:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkRecord:
    """Join this conversation's user into `target_user`; the conversation continues as that user."""

    code: str
    target_user: int


@dataclass(frozen=True)
class UnlinkRecord:
    """Split this platform identity off into a user of its own; earlier data stays where it was."""

    platform: str


@dataclass(frozen=True)
class ForgetRecord:
    """Delete everything stored about this user; the conversation state is not saved after it."""
