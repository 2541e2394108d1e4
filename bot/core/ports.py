"""Interfaces the core needs from storage; `storage/` implements them, tests may fake them.

Each capability's records and views live in its own package; the Record union names them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.answering.records import AnswerRecord, CardRecord, DisputeReasonRecord, DisputeRecord, RatingRecord
from bot.answering.srs import CardState
from bot.core.events import Reply
from bot.core.state import DialogueState
from bot.delivery.ports import ScheduledRecord
from bot.progress.records import ForgetRecord, LinkCodeRecord, LinkRecord, LinkView, StatsView, UnlinkRecord
from bot.quiz.records import Leaderboard, QuizAnswerRecord, QuizRunRecord, QuizRunView
from bot.rounds.records import RoundRecord
from bot.subscriptions.subscription import Subscription, SubscriptionRecord


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


Record = (
    AnswerRecord
    | RoundRecord
    | RatingRecord
    | DisputeRecord
    | DisputeReasonRecord
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

    async def find_user(self, platform: str, platform_user_id: str) -> int | None:
        """The user behind an identity, or None; never creates one (a scheduled send after /forget)."""
        ...

    async def mark_processed(self, platform: str, key: str, at: datetime) -> bool:
        """False if this platform message was already processed."""
        ...

    async def load_state(self, key: ConversationKey) -> tuple[DialogueState, int]: ...

    async def was_processed(self, platform: str, key: str) -> bool: ...

    async def check_version(self, key: ConversationKey, version: int) -> None:
        """Raise StaleState if the stored version is no longer `version` (records computed from it)."""
        ...

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
    def reading(self) -> UnitOfWorkContext:
        """The same unit of work for reads only: it must not hold up writers while open."""
        ...

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
