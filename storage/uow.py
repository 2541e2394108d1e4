"""The SQL unit of work: one session, one transaction, committed by the caller's `async with`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.answering.records import AnswerRecord, DisputeReasonRecord, DisputeRecord, RatingRecord
from bot.core.ports import ConversationKey, Profile, Record, StaleState
from bot.core.state import DialogueState
from bot.rounds.records import RoundRecord
from storage.database import READONLY, connection_slots, session_factory
from storage.models import AnswerRow, DialogueStateRow, DisputeRow, Identity, ProcessedMessage, RoundRow, User
from storage.outbox import OutboxQueries
from storage.scheduling import SchedulingQueries, aware
from storage.userdata import UserDataQueries

USER_CACHE_SIZE = 4096
# The two statements every event runs, built once (Core, no ORM overhead on the hot path).
_MARK_PROCESSED = {
    name: insert_for(ProcessedMessage).on_conflict_do_nothing()
    for name, insert_for in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}
_LOAD_STATE = select(DialogueStateRow.state, DialogueStateRow.version).where(
    DialogueStateRow.user_id == bindparam("u"),
    DialogueStateRow.platform == bindparam("p"),
    DialogueStateRow.chat_id == bindparam("c"),
)
# Every turn that changes something runs this; prebuilt, it skips per-call statement construction.
_SAVE_STATE = (
    update(DialogueStateRow)
    .where(
        DialogueStateRow.user_id == bindparam("u"),
        DialogueStateRow.platform == bindparam("p"),
        DialogueStateRow.chat_id == bindparam("c"),
        DialogueStateRow.version == bindparam("v"),
    )
    .values(state=bindparam("s"), version=bindparam("nv"), updated_at=bindparam("t"))
)


class SqlUnitOfWork(SchedulingQueries, OutboxQueries, UserDataQueries):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        user_cache: dict[tuple[str, str], int],
        write_lock: asyncio.Lock | None = None,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        self._sessions = sessions
        self._user_cache = user_cache
        # Units of work queue here for a pooled connection, in order and without a deadline, instead of
        # failing with the pool's timeout when many events arrive at once.
        self._slots = slots
        # SQLite has one writer at a time; queueing in-process is far cheaper than its busy-wait sleeps.
        self._write_lock = write_lock
        self._readonly = False
        self.session: AsyncSession

    def reading(self) -> SqlUnitOfWork:
        """Reads only: no place in SQLite's writer queue, and a plain (deferred) BEGIN, so it neither
        waits for writers nor holds them up (WAL); on PostgreSQL it is just a short transaction."""
        self._readonly = True
        return self

    async def __aenter__(self) -> SqlUnitOfWork:
        lock = None if self._readonly else self._write_lock
        if lock is not None:
            await lock.acquire()
        try:
            if self._slots is not None:
                await self._slots.acquire()
            try:
                self.session = self._sessions()
                await self.session.connection(execution_options={READONLY: True} if self._readonly else None)
            except BaseException:
                if self._slots is not None:
                    self._slots.release()
                raise
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()
            if self._slots is not None:
                self._slots.release()
            if self._write_lock is not None and not self._readonly:
                self._write_lock.release()

    def _insert(self, table: Any) -> Any:
        dialect = self.session.get_bind().dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)

    # ---------------------------------------------------------------- users

    async def find_user(self, platform: str, platform_user_id: str) -> int | None:
        found = await self.session.scalar(  # not the cache: another instance may have forgotten them
            select(Identity.user_id).where(Identity.platform == platform, Identity.external_id == platform_user_id)
        )
        return int(found) if found is not None else None

    async def user_for(self, platform: str, platform_user_id: str, display_name: str) -> int:
        cached = self._user_cache.get((platform, platform_user_id))
        if cached is not None:
            return cached
        found = await self.session.scalar(
            select(Identity.user_id).where(Identity.platform == platform, Identity.external_id == platform_user_id)
        )
        if found is None:
            found = await self.session.scalar(
                insert(User).values(display_name=display_name[:200], created_at=datetime.now(UTC)).returning(User.id)
            )
            linked = await self.session.execute(
                self._insert(Identity)
                .values(platform=platform, external_id=platform_user_id, user_id=found)
                .on_conflict_do_nothing()
            )
            if not cast(CursorResult[Any], linked).rowcount:
                raise StaleState((platform, platform_user_id))  # created concurrently: the retry finds it
        else:
            if len(self._user_cache) >= USER_CACHE_SIZE:
                self._user_cache.pop(next(iter(self._user_cache)))  # oldest first: a bounded cache
            self._user_cache[(platform, platform_user_id)] = found
        assert found is not None
        return int(found)

    # ---------------------------------------------------------------- dedupe

    async def was_processed(self, platform: str, key: str) -> bool:
        found = await self.session.scalar(
            select(ProcessedMessage.key).where(ProcessedMessage.platform == platform, ProcessedMessage.key == key[:128])
        )
        return found is not None

    async def mark_processed(self, platform: str, key: str, at: datetime) -> bool:
        conn = await self.session.connection()
        stmt = _MARK_PROCESSED[conn.dialect.name]
        result = await conn.execute(stmt, {"platform": platform, "key": key[:128], "processed_at": at})
        return bool(result.rowcount)

    async def prune_processed(self, before: datetime) -> int:
        result = await self.session.execute(delete(ProcessedMessage).where(ProcessedMessage.processed_at < before))
        return int(cast(CursorResult[Any], result).rowcount or 0)

    # ---------------------------------------------------------------- dialogue state

    async def load_state(self, key: ConversationKey) -> tuple[DialogueState, int]:
        conn = await self.session.connection()
        row = (await conn.execute(_LOAD_STATE, {"u": key.user_id, "p": key.platform, "c": key.chat_id})).first()
        if row is None:
            return DialogueState(), 0
        try:
            return DialogueState.model_validate(row.state), int(row.version)
        except ValueError:
            # A state written by an incompatible older version: start fresh rather than crash forever.
            return DialogueState(), int(row.version)

    async def check_version(self, key: ConversationKey, version: int) -> None:
        conn = await self.session.connection()
        row = (await conn.execute(_LOAD_STATE, {"u": key.user_id, "p": key.platform, "c": key.chat_id})).first()
        if (int(row.version) if row else 0) != version:
            raise StaleState(key)

    async def save_state(self, key: ConversationKey, state: DialogueState, version: int, at: datetime) -> None:
        data = state.model_dump(mode="json")
        if version == 0:
            created = await self.session.execute(
                self._insert(DialogueStateRow)
                .values(
                    user_id=key.user_id,
                    platform=key.platform,
                    chat_id=key.chat_id,
                    state=data,
                    version=1,
                    updated_at=at,
                )
                .on_conflict_do_nothing()
            )
            if not cast(CursorResult[Any], created).rowcount:
                raise StaleState(key)  # another writer created this conversation first
            return
        conn = await self.session.connection()
        result = await conn.execute(
            _SAVE_STATE,
            {
                "u": key.user_id,
                "p": key.platform,
                "c": key.chat_id,
                "v": version,
                "s": data,
                "nv": version + 1,
                "t": at,
            },
        )
        if result.rowcount != 1:
            raise StaleState(key)

    # ---------------------------------------------------------------- profile and history

    async def seen_questions(self, user_id: int) -> frozenset[str]:
        rows = await self.session.scalars(select(AnswerRow.question_id).where(AnswerRow.user_id == user_id).distinct())
        return frozenset(rows.all())

    async def load_profile(self, user_id: int, display_name: str, *, with_history: bool = False) -> Profile:
        seen = await self.seen_questions(user_id)
        recent = (
            await self.session.execute(
                select(RoundRow.track, func.avg(AnswerRow.score), func.count(AnswerRow.id))
                .join(RoundRow, RoundRow.id == AnswerRow.round_id)
                .where(AnswerRow.user_id == user_id, AnswerRow.skipped.is_(False))
                .group_by(RoundRow.track)
            )
        ).all()
        sections = (
            await self.session.execute(
                select(AnswerRow.section, func.avg(AnswerRow.score))
                .where(AnswerRow.user_id == user_id, AnswerRow.kind != "quiz")
                .group_by(AnswerRow.section)
            )
        ).all()
        week = (
            await self.session.execute(
                select(func.count(AnswerRow.id), func.avg(AnswerRow.score)).where(
                    AnswerRow.user_id == user_id,
                    AnswerRow.skipped.is_(False),
                    AnswerRow.created_at >= datetime.now(UTC) - timedelta(days=7),
                )
            )
        ).one()
        profile = Profile(
            user_id=user_id,
            display_name=display_name,
            seen=seen,
            recent_scores={track: float(avg) for track, avg, _ in recent},
            answered=sum(int(n) for _, _, n in recent),
            section_scores={section: float(avg) for section, avg in sections},
            week_answers=int(week[0] or 0),
            week_mean=float(week[1] or 0.0),
        )
        if with_history:
            profile.history = await self.history(user_id, 10)
        return profile

    async def history(self, user_id: int, limit: int) -> list[dict[str, Any]]:
        graded = (
            select(AnswerRow.round_id, func.count().label("answered"), func.avg(AnswerRow.score).label("mean"))
            .where(AnswerRow.user_id == user_id, AnswerRow.skipped.is_(False))
            .group_by(AnswerRow.round_id)
            .subquery()
        )
        rows = (
            await self.session.execute(
                select(RoundRow, graded.c.answered, graded.c.mean)
                .outerjoin(graded, graded.c.round_id == RoundRow.id)
                .where(
                    RoundRow.user_id == user_id,
                    RoundRow.status.in_(("finished", "stopped")),
                    RoundRow.scorecard.is_not(None) | (RoundRow.track == "daily"),
                )
                .order_by(RoundRow.updated_at.desc())
                .limit(limit)
            )
        ).all()
        return [
            {
                "round_id": r.id,
                "track": r.track,
                "difficulty": r.difficulty,
                "status": r.status,
                "started": aware(r.started_at).isoformat(),
                "scorecard": r.scorecard,
                "answered": int(answered or 0),  # graded answers; a skipped question is not one
                "mean": float(mean) if mean is not None else None,
            }
            for r, answered, mean in rows
        ]

    # ---------------------------------------------------------------- records from the engine

    async def write_records(self, user_id: int, records: Sequence[Record]) -> None:
        for rec in records:
            if isinstance(rec, RoundRecord):
                await self._write_round(user_id, rec)
            elif isinstance(rec, AnswerRecord):
                await self._write_answer(user_id, rec)
            elif isinstance(rec, RatingRecord):
                await self._mark_answer(
                    user_id, rec.round_id, rec.question_id, self_rating=rec.rating, rated_at=rec.at, updated_at=rec.at
                )
            elif isinstance(rec, DisputeRecord):
                await self._mark_answer(user_id, rec.round_id, rec.question_id, disputed=True, updated_at=rec.at)
                await self.session.execute(
                    insert(DisputeRow).values(
                        user_id=user_id,
                        round_id=rec.round_id,
                        question_id=rec.question_id,
                        point=rec.point,
                        status=rec.status,
                        reason="",
                        created_at=rec.at,
                    )
                )
            elif isinstance(rec, DisputeReasonRecord):
                await self._give_reason(user_id, rec)
            elif not (await self.write_scheduling_record(user_id, rec) or await self.write_outbox_record(rec)):
                await self.write_user_record(user_id, rec)

    async def _give_reason(self, user_id: int, rec: DisputeReasonRecord) -> None:
        latest = (
            select(func.max(DisputeRow.id))
            .where(
                DisputeRow.user_id == user_id,
                DisputeRow.round_id == rec.round_id,
                DisputeRow.question_id == rec.question_id,
            )
            .scalar_subquery()
        )
        await self.session.execute(update(DisputeRow).where(DisputeRow.id == latest).values(reason=rec.reason))

    async def _mark_answer(self, user_id: int, round_id: str, question_id: str, **values: Any) -> None:
        await self.session.execute(
            update(AnswerRow)
            .where(AnswerRow.round_id == round_id, AnswerRow.question_id == question_id, AnswerRow.user_id == user_id)
            .values(**values)
        )

    async def _write_round(self, user_id: int, rec: RoundRecord) -> None:
        stmt = self._insert(RoundRow).values(
            id=rec.round_id,
            user_id=user_id,
            track=rec.track,
            difficulty=rec.difficulty,
            length=rec.length,
            status=rec.status,
            started_at=rec.at,
            updated_at=rec.at,
            scorecard=rec.scorecard,
        )
        changes: dict[str, Any] = {"status": stmt.excluded.status, "updated_at": stmt.excluded.updated_at}
        if rec.scorecard is not None:
            changes["scorecard"] = stmt.excluded.scorecard
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=[RoundRow.id], set_=changes, where=RoundRow.user_id == user_id)
        )

    async def _write_answer(self, user_id: int, rec: AnswerRecord) -> None:
        r = rec.result
        fields: dict[str, Any] = dict(
            kind=r.kind,
            section=r.section,
            topic=r.topic[:200],
            score=r.score,
            raw_score=r.raw_score,
            hints_used=r.hints_used,
            skipped=r.skipped,
            seconds=r.seconds,
            updated_at=rec.at,
        )
        key = (
            AnswerRow.round_id == rec.round_id,
            AnswerRow.question_id == r.question_id,
            AnswerRow.stage == (r.stage or ""),
        )
        if rec.follow_up:
            await self.session.execute(
                update(AnswerRow)
                .where(*key, AnswerRow.user_id == user_id)
                .values(follow_up_text=rec.answer_text, follow_up_verdict=rec.verdict, **fields)
            )
            return
        stmt = self._insert(AnswerRow).values(
            round_id=rec.round_id,
            user_id=user_id,
            question_id=r.question_id,
            stage=r.stage or "",
            answer_text=rec.answer_text,
            verdict=rec.verdict,
            created_at=rec.at,
            **fields,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[AnswerRow.round_id, AnswerRow.question_id, AnswerRow.stage],
                set_={**fields, "answer_text": rec.answer_text, "verdict": rec.verdict},
                where=AnswerRow.user_id == user_id,
            )
        )


def unit_of_work_factory(engine: AsyncEngine) -> Callable[[], SqlUnitOfWork]:
    """One factory per database: shares the identity cache and, on SQLite, the writer queue."""
    sessions = session_factory(engine)
    cache: dict[tuple[str, str], int] = {}
    lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
    slots = asyncio.Semaphore(connection_slots(engine))
    return lambda: SqlUnitOfWork(sessions, cache, lock, slots)
