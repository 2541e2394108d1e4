"""SQLAlchemy 2.x typed models. Every schema change also gets an Alembic migration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names keep migrations reproducible across SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Json = JSON().with_variant(JSONB(), "postgresql")
IdInt = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements only INTEGER keys


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(IdInt, primary_key=True, autoincrement=True)
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Identity(Base):
    """A platform account (Telegram user, Discord user, console) belonging to a user."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(IdInt, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class DialogueStateRow(Base):
    __tablename__ = "dialogue_states"
    __table_args__ = (UniqueConstraint("user_id", "platform", "chat_id"),)

    id: Mapped[int] = mapped_column(IdInt, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(Json)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic concurrency
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RoundRow(Base):
    __tablename__ = "rounds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    track: Mapped[str] = mapped_column(String(20))
    difficulty: Mapped[str] = mapped_column(String(10))
    length: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scorecard: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)


class AnswerRow(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("round_id", "question_id", "stage"),)

    id: Mapped[int] = mapped_column(IdInt, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(80))
    stage: Mapped[str] = mapped_column(String(20), default="")
    kind: Mapped[str] = mapped_column(String(20))
    section: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(200))
    score: Mapped[float] = mapped_column(Float)
    raw_score: Mapped[float] = mapped_column(Float)
    hints_used: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    answer_text: Mapped[str] = mapped_column(Text, default="")
    follow_up_text: Mapped[str] = mapped_column(Text, default="")
    verdict: Mapped[dict[str, Any]] = mapped_column(Json)
    follow_up_verdict: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    self_rating: Mapped[str | None] = mapped_column(String(10), nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DisputeRow(Base):
    """A candidate's "I did say this" on one point of a grade, kept for rubric authors."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(IdInt, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[str] = mapped_column(String(80))
    point: Mapped[str] = mapped_column(Text, default="")  # empty: the score as a whole
    status: Mapped[str] = mapped_column(String(20), default="")  # the grader's verdict on the point
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProcessedMessage(Base):
    """Platform message ids already handled, so a redelivered update is processed once."""

    __tablename__ = "processed_messages"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SubscriptionRow(Base):
    """A daily question for one DM chat, or a channel quiz for one group chat."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("kind", "platform", "chat_id"),)

    id: Mapped[int] = mapped_column(IdInt, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    # The subscriber of a daily question; none for a channel quiz, whose settings belong to the group.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True)
    external_user_id: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When it runs is kept in columns so the planner can work set-wise: subscriptions sharing a
    # time, zone, days and next run are planned with one INSERT ... SELECT.
    local_time: Mapped[str] = mapped_column(String(5))
    zone: Mapped[str] = mapped_column(String(64))
    days: Mapped[str] = mapped_column(String(40))
    settings: Mapped[dict[str, Any]] = mapped_column(Json)
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    deactivated_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    thread_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # a forum topic the quiz posts in
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CardRow(Base):
    """One user's spaced-repetition card for one question (FSRS state as JSON)."""

    __tablename__ = "cards"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(Json)
    due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxRow(Base):
    """A scheduled send. The unique key makes planning idempotent; status makes sending resumable."""

    __tablename__ = "outbox"
    # The sender's claim query reads pending rows by time: without this it scans every row ever sent.
    __table_args__ = (Index("ix_outbox_status_not_before", "status", "not_before"),)

    id: Mapped[int] = mapped_column(IdInt, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    job: Mapped[str] = mapped_column(String(20))
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    chat_kind: Mapped[str] = mapped_column(String(10))
    thread_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    external_user_id: Mapped[str] = mapped_column(String(64))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    ref: Mapped[str] = mapped_column(String(120), default="")
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent, failed
    replies: Mapped[list[Any] | None] = mapped_column(Json, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class QuizRunRow(Base):
    __tablename__ = "quiz_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    question_ids: Mapped[list[str]] = mapped_column(Json)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10))


class QuizAnswerRow(Base):
    """A member's answer in a channel quiz; the first answer per member and question counts."""

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("run_id", "index", "user_id"),)

    id: Mapped[int] = mapped_column(IdInt, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("quiz_runs.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    option: Mapped[int] = mapped_column(Integer)
    correct: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlatformPoll(Base):
    """Maps a platform's poll id to our quiz reference (Telegram poll answers carry only the poll id)."""

    __tablename__ = "platform_polls"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    poll_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HeldVoteRow(Base):
    """A vote that arrived before its poll was recorded; the sender counts it once the poll is."""

    __tablename__ = "held_votes"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    poll_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    option: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LinkCode(Base):
    """A one-time code that joins another platform identity to this user."""

    __tablename__ = "link_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
