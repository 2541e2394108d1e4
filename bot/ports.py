"""Interfaces the core needs from storage; `storage/` implements them, tests may fake them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.core.events import Reply
from bot.srs import CardState
from bot.state import AnswerResult, DialogueState


@dataclass(frozen=True)
class ConversationKey:
    platform: str
    chat_id: str
    user_id: int  # internal user id, shared by linked platform identities


@dataclass
class Profile:
    """What the engine may know about a user beyond the current conversation."""

    user_id: int
    display_name: str
    seen: frozenset[str] = frozenset()
    recent_scores: dict[str, float] = field(default_factory=dict)  # track -> mean score 0-4
    answered: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # loaded only for /history
    section_scores: dict[str, float] = field(default_factory=dict)  # book section -> mean score 0-4
    week_answers: int = 0
    week_mean: float = 0.0


@dataclass(frozen=True)
class AnswerRecord:
    round_id: str
    result: AnswerResult
    answer_text: str
    verdict: dict[str, Any]
    at: datetime
    follow_up: bool = False  # the answer to a follow-up joins the original answer's row


@dataclass(frozen=True)
class RoundRecord:
    round_id: str
    track: str
    difficulty: str
    length: int
    status: str  # active, paused, finished, stopped
    at: datetime
    scorecard: dict[str, Any] | None = None


@dataclass(frozen=True)
class RatingRecord:
    round_id: str
    question_id: str
    rating: str  # again, hard, good, easy
    at: datetime


@dataclass(frozen=True)
class DisputeRecord:
    round_id: str
    question_id: str
    at: datetime


@dataclass
class Subscription:
    """A daily question (one user's DM) or a channel quiz (a group chat); plain settings."""

    kind: str  # daily | quiz
    platform: str
    chat_id: str
    user_id: int  # daily: the subscriber; quiz: the admin who last configured it
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


@dataclass(frozen=True)
class SubscriptionRecord:
    subscription: Subscription


@dataclass(frozen=True)
class ScheduledRecord:
    """A send the engine wants later, such as closing a channel quiz when its polls expire."""

    key: str
    job: str
    platform: str
    chat_id: str
    chat_kind: str
    ref: str
    not_before: datetime


@dataclass(frozen=True)
class CardRecord:
    user_id: int
    card: CardState


@dataclass(frozen=True)
class QuizRunRecord:
    run_id: str
    platform: str
    chat_id: str
    question_ids: tuple[str, ...]
    opened_at: datetime
    closes_at: datetime
    status: str  # open | closed


@dataclass(frozen=True)
class QuizAnswerRecord:
    run_id: str
    index: int
    question_id: str
    option: int
    correct: bool
    at: datetime


@dataclass
class StatsView:
    """A user's progress, read for /stats."""

    sections: dict[str, tuple[float, int]] = field(default_factory=dict)  # section -> (mean score 0-4, answers)
    trend: list[tuple[str, float, int]] = field(default_factory=list)  # (ISO day, mean score, answers), oldest first
    rounds_completed: int = 0
    seconds_practised: int = 0
    cards: int = 0
    cards_due: int = 0
    streak: int = 0
    best_streak: int = 0


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
class LinkView:
    owner: int
    platforms: tuple[str, ...]
    expires_at: datetime
    used: bool


@dataclass(frozen=True)
class ForgetRecord:
    """Delete everything stored about this user; the conversation state is not saved after it."""


Record = (
    AnswerRecord
    | RoundRecord
    | RatingRecord
    | DisputeRecord
    | SubscriptionRecord
    | CardRecord
    | QuizRunRecord
    | QuizAnswerRecord
    | ScheduledRecord
    | ForgetRecord
    | LinkCodeRecord
    | LinkRecord
    | UnlinkRecord
)


@dataclass
class QuizRunView:
    run_id: str
    question_ids: tuple[str, ...]
    status: str
    # (user id, display name, question index, correct) for every member's answer
    answers: list[tuple[int, str, int, bool]] = field(default_factory=list)


@dataclass
class Leaderboard:
    week: list[tuple[str, int, int]] = field(default_factory=list)  # (name, correct, answered)
    all_time: list[tuple[str, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class PlannedSend:
    key: str
    job: str
    platform: str
    chat_id: str
    chat_kind: str
    external_user_id: str
    subscription_id: int | None
    ref: str
    not_before: datetime


@dataclass(frozen=True)
class ClaimedSend:
    id: int
    job: str
    platform: str
    chat_id: str
    chat_kind: str
    external_user_id: str
    subscription_id: int | None
    ref: str
    attempts: int
    replies: list[Reply] | None


@dataclass(frozen=True)
class DueGroup:
    """Subscriptions due at the same instant with the same schedule: planned together."""

    kind: str
    at: str
    zone: str
    days: tuple[str, ...]
    next_run: datetime
    size: int


class OutboxStore(Protocol):
    """The storage operations the planner and the sender need, inside one unit of work."""

    async def due_groups(self, now: datetime, limit: int) -> list[DueGroup]: ...

    async def plan_group(self, group: DueGroup, key_suffix: str, next_run: datetime, now: datetime) -> int: ...

    async def claim(self, now: datetime, instance: str, limit: int, lease: timedelta) -> list[ClaimedSend]: ...

    async def outbox_replies(self, outbox_id: int) -> list[Reply] | None: ...

    async def mark_sent(self, outbox_id: int, now: datetime) -> None: ...

    async def release_claims(self, instance: str) -> int: ...

    async def mark_retry(self, outbox_id: int, not_before: datetime, error: str) -> None: ...

    async def mark_failed(self, outbox_id: int, error: str) -> None: ...

    async def deactivate_chat(self, platform: str, chat_id: str, reason: str) -> int: ...

    async def record_polls(
        self, platform: str, chat_id: str, polls: Sequence[tuple[str, str]], now: datetime
    ) -> None: ...


OutboxStores = Callable[[], AbstractAsyncContextManager[OutboxStore]]


class UserData(Protocol):
    """What the engine may read beyond the conversation state; each loaded only when asked for."""

    async def profile(self) -> Profile: ...

    async def seen(self) -> frozenset[str]:
        """Question ids this user has answered: all a question pick needs, in one query."""
        ...

    async def cards(self) -> dict[str, CardState]: ...

    async def subscription(self, kind: str) -> Subscription | None: ...

    async def group_seen(self) -> dict[str, int]:
        """Question id -> how many members of this chat have answered it in channel quizzes."""
        ...

    async def quiz_run(self, run_id: str) -> QuizRunView | None: ...

    async def leaderboard(self) -> Leaderboard: ...

    async def stats(self) -> StatsView: ...

    async def export(self) -> dict[str, Any]: ...

    async def link_code(self, code: str) -> LinkView | None: ...

    async def platforms(self) -> tuple[str, ...]:
        """The platforms this user is known on."""
        ...


class StaleState(Exception):
    """Another writer saved this conversation first; the dispatcher retries the whole event."""


class UnitOfWork(Protocol):
    """One transaction: everything done through it commits together or not at all."""

    async def user_for(self, platform: str, platform_user_id: str, display_name: str) -> int: ...

    async def mark_processed(self, platform: str, key: str, at: datetime) -> bool:
        """False if this platform message was already processed."""
        ...

    async def load_state(self, key: ConversationKey) -> tuple[DialogueState, int]: ...

    async def save_state(self, key: ConversationKey, state: DialogueState, version: int, at: datetime) -> None:
        """Raise StaleState if the stored version is no longer `version`."""
        ...

    async def load_profile(self, user_id: int, display_name: str, *, with_history: bool = False) -> Profile: ...

    async def seen_questions(self, user_id: int) -> frozenset[str]: ...

    async def write_records(self, user_id: int, records: Sequence[Record]) -> None: ...

    async def history(self, user_id: int, limit: int) -> list[dict[str, Any]]: ...

    async def load_cards(self, user_id: int) -> dict[str, CardState]: ...

    async def load_subscription(self, kind: str, platform: str, chat_id: str, user_id: int) -> Subscription | None: ...

    async def group_seen(self, platform: str, chat_id: str) -> dict[str, int]: ...

    async def quiz_run(self, run_id: str) -> QuizRunView | None: ...

    async def leaderboard(self, platform: str, chat_id: str, now: datetime) -> Leaderboard: ...

    async def stats(self, user_id: int, now: datetime) -> StatsView: ...

    async def export(self, user_id: int) -> dict[str, Any]: ...

    async def forget_user(self, user_id: int) -> None: ...

    async def link_code(self, code: str) -> LinkView | None: ...

    async def platforms(self, user_id: int) -> tuple[str, ...]: ...

    async def link_users(self, source: int, target: int, code: str, now: datetime) -> None: ...

    async def unlink(self, user_id: int, platform: str, now: datetime) -> int: ...

    async def save_replies(self, outbox_id: int, replies: Sequence[Reply]) -> None:
        """Keep a scheduled send's rendered replies with its outbox row, in the same transaction."""
        ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work, used as `async with factory() as uow:`."""

    def __call__(self) -> UnitOfWorkContext: ...


class UnitOfWorkContext(Protocol):
    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None: ...


@dataclass
class StaticUserData:
    """UserData from plain values: for tests, and for events that need no database."""

    known_profile: Profile
    known_cards: dict[str, CardState] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    seen_in_group: dict[str, int] = field(default_factory=dict)
    runs: dict[str, QuizRunView] = field(default_factory=dict)
    board: Leaderboard = field(default_factory=Leaderboard)
    progress: StatsView = field(default_factory=StatsView)
    exported: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, LinkView] = field(default_factory=dict)
    known_platforms: tuple[str, ...] = ("test",)

    async def profile(self) -> Profile:
        return self.known_profile

    async def seen(self) -> frozenset[str]:
        return self.known_profile.seen

    async def cards(self) -> dict[str, CardState]:
        return self.known_cards

    async def subscription(self, kind: str) -> Subscription | None:
        return self.subscriptions.get(kind)

    async def group_seen(self) -> dict[str, int]:
        return self.seen_in_group

    async def quiz_run(self, run_id: str) -> QuizRunView | None:
        return self.runs.get(run_id)

    async def leaderboard(self) -> Leaderboard:
        return self.board

    async def stats(self) -> StatsView:
        return self.progress

    async def export(self) -> dict[str, Any]:
        return self.exported

    async def link_code(self, code: str) -> LinkView | None:
        return self.codes.get(code)

    async def platforms(self) -> tuple[str, ...]:
        return self.known_platforms
