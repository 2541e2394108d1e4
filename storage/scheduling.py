"""SQL for subscriptions, spaced-repetition cards and channel quizzes (the outbox is in outbox.py).

A mixin of the unit of work, so all of it runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from bot.answering.records import CardRecord
from bot.answering.srs import CardState
from bot.quiz.records import Leaderboard, QuizAnswerRecord, QuizRunRecord, QuizRunView
from bot.subscriptions.subscription import Subscription, SubscriptionRecord
from storage.models import CardRow, PlatformPoll, QuizAnswerRow, QuizRunRow, SubscriptionRow, User


def cast_result(result: Any) -> CursorResult[Any]:
    """Execute() is typed as returning Result; DML statements return a CursorResult with rowcount."""
    assert isinstance(result, CursorResult)
    return result


def aware(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything in the app is UTC-aware."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


_SETTINGS = (
    "topics",
    "difficulty",
    "role",
    "count",
    "open_period",
    "manager_role",
    "streak",
    "best_streak",
    "last_answered",
)


def subscription_from_row(row: Any) -> Subscription:
    """From an ORM row or a Core row of the subscriptions table."""
    settings = dict(row.settings)
    if "topics" in settings:
        settings["topics"] = tuple(settings["topics"])
    return Subscription(
        at=row.local_time,
        zone=row.zone,
        days=tuple(row.days.split(",")),
        kind=row.kind,
        platform=row.platform,
        chat_id=row.chat_id,
        user_id=row.user_id or 0,
        external_user_id=row.external_user_id,
        id=row.id,
        active=row.active,
        next_run=aware(row.next_run_at) if row.next_run_at else None,
        deactivated_reason=row.deactivated_reason,
        thread_id=row.thread_id,
        **{k: v for k, v in settings.items() if k in _SETTINGS},
    )


class SchedulingQueries:
    """Mixed into the unit of work, which provides the session and the dialect's upsert-capable insert."""

    session: AsyncSession
    _insert: Callable[[Any], Any]

    # ------------------------------------------------------------ engine reads

    async def load_cards(self, user_id: int) -> dict[str, CardState]:
        rows = (
            await self.session.execute(
                select(CardRow.question_id, CardRow.data, CardRow.due).where(CardRow.user_id == user_id)
            )
        ).all()
        return {q: CardState(q, data, aware(due)) for q, data, due in rows}

    async def load_subscription(self, kind: str, platform: str, chat_id: str, user_id: int) -> Subscription | None:
        row = await self.session.scalar(
            select(SubscriptionRow).where(
                SubscriptionRow.kind == kind, SubscriptionRow.platform == platform, SubscriptionRow.chat_id == chat_id
            )
        )
        return subscription_from_row(row) if row else None

    async def group_seen(self, platform: str, chat_id: str) -> dict[str, int]:
        rows = (
            await self.session.execute(
                select(QuizAnswerRow.question_id, func.count(func.distinct(QuizAnswerRow.user_id)))
                .join(QuizRunRow, QuizRunRow.id == QuizAnswerRow.run_id)
                .where(QuizRunRow.platform == platform, QuizRunRow.chat_id == chat_id)
                .group_by(QuizAnswerRow.question_id)
            )
        ).all()
        return {q: int(n) for q, n in rows}

    async def quiz_run(self, run_id: str) -> QuizRunView | None:
        run = await self.session.get(QuizRunRow, run_id)
        if run is None:
            return None
        rows = (
            await self.session.execute(
                select(QuizAnswerRow.user_id, User.display_name, QuizAnswerRow.index, QuizAnswerRow.correct)
                .join(User, User.id == QuizAnswerRow.user_id)
                .where(QuizAnswerRow.run_id == run_id)
                .order_by(QuizAnswerRow.answered_at)
            )
        ).all()
        polls = await self.session.execute(
            select(PlatformPoll.ref, PlatformPoll.created_at).where(
                PlatformPoll.platform == run.platform, PlatformPoll.ref.startswith(f"{run_id}:", autoescape=True)
            )
        )
        sent = {int(ref.rpartition(":")[2]): aware(at) for ref, at in polls if ref.rpartition(":")[2].isdigit()}
        return QuizRunView(
            run.id,
            tuple(run.question_ids),
            run.status,
            [(u, n, i, c) for u, n, i, c in rows],
            opened_at=aware(run.opened_at),
            open_seconds=(aware(run.closes_at) - aware(run.opened_at)).total_seconds(),
            sent_at=sent,
        )

    async def leaderboard(self, platform: str, chat_id: str, now: datetime) -> Leaderboard:
        async def board(since: datetime | None) -> list[tuple[str, int, int]]:
            correct = func.sum(case((QuizAnswerRow.correct.is_(True), 1), else_=0))
            stmt = (
                select(User.display_name, correct, func.count(QuizAnswerRow.id))
                .join(QuizRunRow, QuizRunRow.id == QuizAnswerRow.run_id)
                .join(User, User.id == QuizAnswerRow.user_id)
                .where(QuizRunRow.platform == platform, QuizRunRow.chat_id == chat_id)
                .group_by(User.id, User.display_name)
                .order_by(correct.desc(), func.count(QuizAnswerRow.id).asc(), User.display_name)
                .limit(10)
            )
            if since is not None:
                stmt = stmt.where(QuizAnswerRow.answered_at >= since)
            return [(name, int(c or 0), int(n)) for name, c, n in (await self.session.execute(stmt)).all()]

        return Leaderboard(week=await board(now - timedelta(days=7)), all_time=await board(None))

    # ------------------------------------------------------------ engine writes

    async def write_scheduling_record(self, user_id: int, rec: object) -> bool:
        if isinstance(rec, SubscriptionRecord):
            await self._save_subscription(rec.subscription, user_id)
        elif isinstance(rec, CardRecord):
            stmt = self._insert(CardRow).values(
                user_id=rec.user_id,
                question_id=rec.card.question_id,
                data=rec.card.data,
                due=rec.card.due,
                updated_at=rec.card.due,
            )
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[CardRow.user_id, CardRow.question_id],
                    set_={"data": stmt.excluded.data, "due": stmt.excluded.due, "updated_at": stmt.excluded.updated_at},
                )
            )
        elif isinstance(rec, QuizRunRecord):
            stmt = self._insert(QuizRunRow).values(
                id=rec.run_id,
                platform=rec.platform,
                chat_id=rec.chat_id,
                question_ids=list(rec.question_ids),
                opened_at=rec.opened_at,
                closes_at=rec.closes_at,
                status=rec.status,
            )
            await self.session.execute(
                stmt.on_conflict_do_update(index_elements=[QuizRunRow.id], set_={"status": rec.status})
            )
        elif isinstance(rec, QuizAnswerRecord):
            stmt = self._insert(QuizAnswerRow).values(
                run_id=rec.run_id,
                index=rec.index,
                question_id=rec.question_id,
                user_id=user_id,
                option=rec.option,
                correct=rec.correct,
                answered_at=rec.at,
            )
            await self.session.execute(stmt.on_conflict_do_nothing())
        else:
            return False
        return True

    async def _save_subscription(self, sub: Subscription, writer: int) -> None:
        settings = {k: getattr(sub, k) for k in _SETTINGS}
        settings["topics"] = list(sub.topics)
        values = dict(
            user_id=(sub.user_id or writer) if sub.kind == "daily" else None,  # a group's settings are the group's
            local_time=sub.at,
            zone=sub.zone,
            days=",".join(sub.days),
            external_user_id=sub.external_user_id,
            active=sub.active,
            settings=settings,
            next_run_at=sub.next_run,
            deactivated_reason=sub.deactivated_reason,
            thread_id=sub.thread_id,
            updated_at=func.now(),
        )
        stmt = self._insert(SubscriptionRow).values(kind=sub.kind, platform=sub.platform, chat_id=sub.chat_id, **values)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[SubscriptionRow.kind, SubscriptionRow.platform, SubscriptionRow.chat_id], set_=values
            )
        )
