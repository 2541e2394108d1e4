"""SQL for the outbox: planning sends from due subscriptions, claiming, sending and settling them,
and what the sender learns about chats (blocked, migrated, the polls it posted).

A mixin of the unit of work, so all of it runs in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, cast, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events import Reply, clean_text
from bot.delivery.ports import ClaimedSend, DueGroup, HeldVote, PlannedSend, ScheduledRecord
from bot.delivery.replies import replies_from_json, replies_to_json
from storage.models import HeldVoteRow, OutboxRow, PlatformPoll, QuizRunRow, SubscriptionRow
from storage.scheduling import aware, cast_result


class OutboxQueries:
    """Mixed into the unit of work, which provides the session and the dialect's upsert-capable insert."""

    session: AsyncSession
    _insert: Callable[[Any], Any]

    async def write_outbox_record(self, rec: object) -> bool:
        """A send an event scheduled (a quiz's closing, say); False for any other record."""
        if not isinstance(rec, ScheduledRecord):
            return False
        await self.add_outbox(
            [
                PlannedSend(
                    rec.key,
                    rec.job,
                    rec.platform,
                    rec.chat_id,
                    rec.chat_kind,
                    "",
                    None,
                    rec.ref,
                    rec.not_before,
                    rec.thread_id,
                )
            ],
            rec.not_before,
        )
        return True

    # ------------------------------------------------------------ planner

    async def due_groups(self, now: datetime, limit: int) -> list[DueGroup]:
        t = SubscriptionRow
        rows = (
            await self.session.execute(
                select(t.kind, t.local_time, t.zone, t.days, t.next_run_at, func.count())
                .where(t.active.is_(True), t.next_run_at <= now)
                .group_by(t.kind, t.local_time, t.zone, t.days, t.next_run_at)
                .order_by(t.next_run_at)
                .limit(limit)
            )
        ).all()
        return [
            DueGroup(k, at, z, tuple(d.split(",")), aware(nr), int(n)) for k, at, z, d, nr, n in rows if nr is not None
        ]

    async def plan_group(self, group: DueGroup, key_suffix: str, next_run: datetime, now: datetime) -> int:
        """One INSERT ... SELECT writes the whole group's sends (keys already taken are skipped),
        then one UPDATE moves the group to its next run."""
        t = SubscriptionRow
        match = (
            t.active.is_(True),
            t.kind == group.kind,
            t.local_time == group.at,
            t.zone == group.zone,
            t.days == ",".join(group.days),
            t.next_run_at == group.next_run,
        )
        chat_kind = "private" if group.kind == "daily" else "group"
        source = select(
            literal(f"{group.kind}:") + cast(t.id, String) + literal(key_suffix),
            literal(group.kind),
            t.platform,
            t.chat_id,
            literal(chat_kind),
            t.external_user_id,
            t.id,
            cast(t.id, String),
            literal(group.next_run, DateTime(timezone=True)),
            literal("pending"),
            literal(0),
            literal(now, DateTime(timezone=True)),
            t.thread_id,
        ).where(*match)
        columns = ["key", "job", "platform", "chat_id", "chat_kind", "external_user_id", "subscription_id", "ref",
                   "not_before", "status", "attempts", "created_at", "thread_id"]  # fmt: skip
        insert_stmt = (
            self._insert(OutboxRow).from_select(columns, source).on_conflict_do_nothing(index_elements=["key"])
        )
        await self.session.execute(insert_stmt)
        result = await self.session.execute(
            update(t).where(*match).values(next_run_at=next_run).execution_options(synchronize_session=False)
        )
        return int(cast_result(result).rowcount or 0)

    async def add_outbox(self, sends: Sequence[PlannedSend], now: datetime) -> None:
        """Insert planned sends; a key that already exists (a second tick, another instance) is skipped."""
        if not sends:
            return
        rows = [
            dict(
                key=s.key,
                job=s.job,
                platform=s.platform,
                chat_id=s.chat_id,
                chat_kind=s.chat_kind,
                external_user_id=s.external_user_id,
                subscription_id=s.subscription_id,
                ref=s.ref,
                not_before=s.not_before,
                status="pending",
                attempts=0,
                created_at=now,
                thread_id=s.thread_id,
            )
            for s in sends
        ]
        stmt = self._insert(OutboxRow.__table__).on_conflict_do_nothing(index_elements=["key"])
        await self.session.execute(stmt, rows)

    # ------------------------------------------------------------ sender

    async def claim(self, now: datetime, instance: str, limit: int, lease: timedelta) -> list[ClaimedSend]:
        """Rows ready to send, locked for this instance; `SKIP LOCKED` lets instances share the work."""
        stmt = (
            select(OutboxRow)
            .where(
                OutboxRow.status == "pending",
                OutboxRow.not_before <= now,
                or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
            )
            .order_by(OutboxRow.not_before, OutboxRow.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = (await self.session.scalars(stmt)).all()
        token = uuid.uuid4().hex
        for row in rows:
            row.claimed_by, row.claimed_until, row.claim_token = instance, now + lease, token
        await self.session.flush()
        return [
            ClaimedSend(
                r.id,
                r.job,
                r.platform,
                r.chat_id,
                r.chat_kind,
                r.external_user_id,
                r.subscription_id,
                r.ref,
                r.attempts,
                replies_from_json(r.replies) if r.replies is not None else None,
                token,
                thread_id=r.thread_id,
            )
            for r in rows
        ]

    async def outbox_replies(self, outbox_id: int) -> list[Reply] | None:
        data = await self.session.scalar(select(OutboxRow.replies).where(OutboxRow.id == outbox_id))
        return replies_from_json(data) if data is not None else None

    async def save_replies(self, outbox_id: int, replies: Sequence[Reply]) -> None:
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.id == outbox_id).values(replies=replies_to_json(replies))
        )

    async def _fenced(self, outbox_id: int, token: str, **values: Any) -> bool:
        """Update a row only while this claim still holds it; False: another instance took it over."""
        result = await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id, OutboxRow.claim_token == token, OutboxRow.status == "pending")
            .values(**values)
        )
        return cast_result(result).rowcount == 1

    async def hold(self, outbox_id: int, token: str, until: datetime) -> bool:
        return await self._fenced(outbox_id, token, claimed_until=until)

    async def mark_sent(self, outbox_id: int, token: str, now: datetime) -> bool:
        return await self._fenced(outbox_id, token, status="sent", sent_at=now, claimed_until=None)

    async def release_claims(self, instance: str) -> int:
        result = await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.claimed_by == instance, OutboxRow.status == "pending")
            .values(claimed_until=None, claimed_by=None, claim_token=None)
        )
        return int(cast_result(result).rowcount or 0)

    async def mark_retry(self, outbox_id: int, token: str, not_before: datetime, error: str) -> bool:
        return await self._fenced(
            outbox_id,
            token,
            not_before=not_before,
            attempts=OutboxRow.attempts + 1,
            last_error=error[:300],
            claimed_until=None,
        )

    async def mark_failed(self, outbox_id: int, token: str, error: str) -> bool:
        return await self._fenced(
            outbox_id,
            token,
            status="failed",
            attempts=OutboxRow.attempts + 1,
            last_error=error[:300],
            claimed_until=None,
        )

    async def deactivate_chat(self, platform: str, chat_id: str, reason: str) -> int:
        """The user blocked the bot or the bot left the group: stop every subscription of that chat."""
        result = await self.session.execute(
            update(SubscriptionRow)
            .where(
                SubscriptionRow.platform == platform,
                SubscriptionRow.chat_id == chat_id,
                SubscriptionRow.active.is_(True),
            )
            .values(active=False, deactivated_reason=reason[:200], updated_at=func.now())
        )
        return int(cast_result(result).rowcount or 0)

    async def move_chat(self, platform: str, old_chat_id: str, new_chat_id: str) -> None:
        """A Telegram group became a supergroup: its settings, quizzes, polls and queued sends move with it.
        A setting the new chat already has wins; the old chat's copy of it stays, inactive."""
        t = SubscriptionRow
        taken = select(t.kind).where(t.platform == platform, t.chat_id == new_chat_id).scalar_subquery()
        await self.session.execute(
            update(t)
            .where(t.platform == platform, t.chat_id == old_chat_id, t.kind.not_in(taken))
            .values(chat_id=new_chat_id, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        await self.deactivate_chat(platform, old_chat_id, f"moved to {new_chat_id}")
        for table in (QuizRunRow, PlatformPoll):
            await self.session.execute(
                update(table)
                .where(table.platform == platform, table.chat_id == old_chat_id)
                .values(chat_id=new_chat_id)
                .execution_options(synchronize_session=False)
            )
        await self.session.execute(
            update(OutboxRow)
            .where(OutboxRow.platform == platform, OutboxRow.chat_id == old_chat_id, OutboxRow.status == "pending")
            .values(chat_id=new_chat_id)
            .execution_options(synchronize_session=False)
        )

    async def record_polls(self, platform: str, chat_id: str, polls: Sequence[tuple[str, str]], now: datetime) -> None:
        for poll_id, ref in polls:
            stmt = self._insert(PlatformPoll).values(
                platform=platform, poll_id=poll_id, chat_id=chat_id, ref=ref, created_at=now
            )
            await self.session.execute(stmt.on_conflict_do_nothing())

    async def poll_ref(self, platform: str, poll_id: str) -> tuple[str, str] | None:
        row = (
            await self.session.execute(
                select(PlatformPoll.chat_id, PlatformPoll.ref).where(
                    PlatformPoll.platform == platform, PlatformPoll.poll_id == poll_id
                )
            )
        ).first()
        return (row.chat_id, row.ref) if row else None

    async def hold_vote(self, platform: str, vote: HeldVote) -> None:
        stmt = self._insert(HeldVoteRow).values(
            platform=platform,
            poll_id=clean_text(vote.poll_id)[:64],
            event_id=vote.event_id,
            external_user_id=vote.user_id,
            name=clean_text(vote.name)[:200],  # stored before the dispatcher cleans it
            option=vote.option,
            received_at=vote.received_at,
        )
        await self.session.execute(stmt.on_conflict_do_nothing())

    async def take_votes(self, platform: str, poll_id: str, event_id: str | None = None) -> list[HeldVote]:
        """Remove and return the votes held for a poll (only `event_id`'s if given): whoever takes a
        vote counts it, so the adapter and the sender never both do."""
        t = HeldVoteRow
        match = [t.platform == platform, t.poll_id == poll_id] + ([t.event_id == event_id] if event_id else [])
        rows = await self.session.execute(
            delete(t)
            .where(*match)
            .returning(t.poll_id, t.external_user_id, t.name, t.option, t.event_id, t.received_at)
        )
        return [HeldVote(r[0], r[1], r[2], r[3], r[4], aware(r[5])) for r in rows.all()]

    async def prune_held_votes(self, before: datetime) -> int:
        """Votes on a poll that was never recorded (its send crashed before the id was stored)."""
        result = await self.session.execute(delete(HeldVoteRow).where(HeldVoteRow.received_at < before))
        return int(cast_result(result).rowcount or 0)

    async def polls_of_run(self, platform: str, run_id: str) -> list[tuple[str, str]]:
        """(chat id, platform poll id) of every question a channel quiz run posted."""
        rows = await self.session.execute(
            select(PlatformPoll.chat_id, PlatformPoll.poll_id).where(
                PlatformPoll.platform == platform, PlatformPoll.ref.startswith(f"{run_id}:", autoescape=True)
            )
        )
        return [(r.chat_id, r.poll_id) for r in rows]

    async def enqueue_replies(
        self,
        platform: str,
        chat_id: str,
        chat_kind: str,
        replies: Sequence[Reply],
        error: str,
        now: datetime,
        owner: str = "",
        thread_id: str | None = None,
    ) -> None:
        """Replies a platform would not take right now: the sender retries them later instead of dropping them.
        `owner` is the platform user they answer, so /forget removes them even from a shared group."""
        self.session.add(
            OutboxRow(
                key=f"retry:{platform}:{chat_id}:{now.timestamp():.6f}",
                job="retry",
                platform=platform,
                chat_id=chat_id,
                chat_kind=chat_kind,
                thread_id=thread_id,
                external_user_id=owner,
                ref="",
                not_before=now + timedelta(seconds=30),
                status="pending",
                replies=replies_to_json(replies),
                attempts=1,
                last_error=error[:300],
                created_at=now,
            )
        )
        await self.session.flush()

    async def prune_outbox(self, before: datetime) -> int:
        """Forget settled rows (sent, or failed and already reported) older than `before`; failed
        rows and queued replies can carry whole attachments, so they must not pile up either."""
        result = await self.session.execute(
            delete(OutboxRow).where(
                OutboxRow.status.in_(("sent", "failed")),
                func.coalesce(OutboxRow.sent_at, OutboxRow.created_at) < before,
            )
        )
        return int(cast_result(result).rowcount or 0)
