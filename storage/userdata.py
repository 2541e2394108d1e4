"""SQL for a user's own data: progress figures, the full export, and deleting all of it.

A mixin of the unit of work, so all of it runs in the caller's transaction.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.progress.records import LinkCodeRecord, LinkRecord, LinkView, StatsView, UnlinkRecord
from bot.subscriptions.schedule import zone
from storage.models import (
    AnswerRow,
    CardRow,
    DialogueStateRow,
    DisputeRow,
    HeldVoteRow,
    Identity,
    LinkCode,
    OutboxRow,
    ProcessedMessage,
    QuizAnswerRow,
    QuizRunRow,
    RoundRow,
    SubscriptionRow,
    User,
)
from storage.scheduling import aware

FORGOTTEN_NAME = "(a former member)"


def _row(obj: Any, *skip: str) -> dict[str, Any]:
    out = {}
    for column in obj.__table__.columns:
        if column.key in skip:
            continue
        value = getattr(obj, column.key)
        out[column.key] = aware(value).isoformat() if isinstance(value, datetime) else value
    return out


class UserDataQueries:
    session: AsyncSession
    _user_cache: dict[tuple[str, str], int]

    async def write_user_record(self, user_id: int, rec: object) -> bool:
        if isinstance(rec, LinkCodeRecord):
            self.session.add(LinkCode(code=rec.code, user_id=user_id, expires_at=rec.expires_at))
            await self.session.flush()
            return True
        return isinstance(rec, LinkRecord | UnlinkRecord)  # carried out by the dispatcher, which moves the conversation

    async def link_code(self, code: str) -> LinkView | None:
        row = await self.session.get(LinkCode, code)
        if row is None:
            return None
        return LinkView(row.user_id, await self.platforms(row.user_id), aware(row.expires_at), row.used_at is not None)

    async def platforms(self, user_id: int) -> tuple[str, ...]:
        rows = await self.session.scalars(
            select(Identity.platform).where(Identity.user_id == user_id).order_by(Identity.platform)
        )
        return tuple(rows.all())

    async def link_users(self, source: int, target: int, code: str, now: datetime) -> None:
        """Move everything of `source` to `target` and delete `source`. Where both have a review
        card for the same question, the target's card is kept."""
        await self.session.execute(
            delete(CardRow).where(
                CardRow.user_id == source,
                CardRow.question_id.in_(select(CardRow.question_id).where(CardRow.user_id == target)),
            )
        )
        for model in (
            Identity,
            DialogueStateRow,
            RoundRow,
            AnswerRow,
            CardRow,
            SubscriptionRow,
            QuizAnswerRow,
            LinkCode,
            DisputeRow,
        ):
            await self.session.execute(update(model).where(model.user_id == source).values(user_id=target))
        await self.session.execute(update(LinkCode).where(LinkCode.code == code).values(used_at=now))
        await self.session.execute(delete(User).where(User.id == source))
        self._evict(source, target)

    async def unlink(self, user_id: int, platform: str, now: datetime) -> int:
        """The identity on `platform` gets a user of its own, taking that platform's chats and subscriptions."""
        name = await self.session.scalar(select(User.display_name).where(User.id == user_id))
        new = await self.session.scalar(insert(User).values(display_name=name or "", created_at=now).returning(User.id))
        assert new is not None
        for model in (Identity, DialogueStateRow, SubscriptionRow):
            await self.session.execute(
                update(model).where(model.user_id == user_id, model.platform == platform).values(user_id=new)
            )
        self._evict(user_id, new)
        return int(new)

    def _evict(self, *user_ids: int) -> None:
        for key in [k for k, v in self._user_cache.items() if v in user_ids]:
            del self._user_cache[key]

    async def stats(self, user_id: int, now: datetime) -> StatsView:
        graded = (AnswerRow.user_id == user_id, AnswerRow.kind != "quiz", AnswerRow.skipped.is_(False))
        sections = (
            await self.session.execute(
                select(AnswerRow.section, func.avg(AnswerRow.score), func.count())
                .where(*graded)
                .group_by(AnswerRow.section)
            )
        ).all()
        day = func.date(AnswerRow.created_at)
        trend = (
            await self.session.execute(
                select(day, func.avg(AnswerRow.score), func.count())
                .where(*graded, AnswerRow.created_at >= now - timedelta(days=366))
                .group_by(day)
                .order_by(day)
            )
        ).all()
        rounds = await self.session.scalar(
            select(func.count()).select_from(RoundRow).where(RoundRow.user_id == user_id, RoundRow.status == "finished")
        )
        seconds = await self.session.scalar(
            select(func.coalesce(func.sum(AnswerRow.seconds), 0)).where(AnswerRow.user_id == user_id)
        )
        cards = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(case((CardRow.due <= now, 1), else_=0)), 0)).where(
                    CardRow.user_id == user_id
                )
            )
        ).one()
        zone_name = await self.session.scalar(
            select(SubscriptionRow.zone).where(SubscriptionRow.user_id == user_id, SubscriptionRow.kind == "daily")
        )
        local = zone(zone_name) if zone_name else UTC  # a daily subscriber's zone, validated when set
        practised = (AnswerRow.user_id == user_id, AnswerRow.skipped.is_(False))  # quiz drills count as practice
        answered = await self.session.scalars(select(AnswerRow.created_at).where(*practised))
        return StatsView(
            sections={s: (float(avg), int(n)) for s, avg, n in sections},
            trend=[(str(d)[:10], float(avg), int(n)) for d, avg, n in trend],
            rounds_completed=int(rounds or 0),
            seconds_practised=int(seconds or 0),
            cards=int(cards[0] or 0),
            cards_due=int(cards[1] or 0),
            today=now.astimezone(local).date(),
            practice_days=frozenset(aware(at).astimezone(local).date() for at in answered),
        )

    async def export(self, user_id: int) -> dict[str, Any]:
        user = await self.session.get(User, user_id)
        if user is None:
            return {}

        async def rows(model: Any, *order: Any) -> list[Any]:
            return list(
                (await self.session.scalars(select(model).where(model.user_id == user_id).order_by(*order))).all()
            )

        return {
            "profile": {"display_name": user.display_name, "created_at": aware(user.created_at).isoformat()},
            "identities": [{"platform": i.platform, "id": i.external_id} for i in await rows(Identity, Identity.id)],
            "settings": [_row(s, "id", "user_id") for s in await rows(SubscriptionRow, SubscriptionRow.id)],
            "rounds": [_row(r, "user_id") for r in await rows(RoundRow, RoundRow.started_at)],
            "answers": [_row(a, "id", "user_id") for a in await rows(AnswerRow, AnswerRow.created_at)],
            "review_cards": [_row(c, "user_id") for c in await rows(CardRow, CardRow.question_id)],
            "disputes": [_row(d, "id", "user_id") for d in await rows(DisputeRow, DisputeRow.id)],
            "conversations": [_row(d, "id", "user_id") for d in await rows(DialogueStateRow, DialogueStateRow.id)],
            "quiz_answers": await self._quiz_answers(user_id),
            "link_codes": [_row(c, "user_id") for c in await rows(LinkCode, LinkCode.expires_at)],
            "queued_sends": await self._queued_sends(user_id),
        }

    async def _quiz_answers(self, user_id: int) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(QuizAnswerRow, QuizRunRow.platform, QuizRunRow.chat_id)
            .join(QuizRunRow, QuizRunRow.id == QuizAnswerRow.run_id)
            .where(QuizAnswerRow.user_id == user_id)
            .order_by(QuizAnswerRow.answered_at)
        )
        return [{**_row(a, "id", "user_id"), "platform": p, "chat_id": c} for a, p, c in rows.all()]

    async def _queued_sends(self, user_id: int) -> list[dict[str, Any]]:
        """Sends still waiting in the outbox for the user: to their daily chats, or recorded as theirs."""
        identities = (
            await self.session.execute(
                select(Identity.platform, Identity.external_id).where(Identity.user_id == user_id)
            )
        ).all()
        if not identities:
            return []
        theirs = or_(
            *(and_(OutboxRow.platform == p, OutboxRow.external_user_id == e) for p, e in identities),
            OutboxRow.subscription_id.in_(select(SubscriptionRow.id).where(SubscriptionRow.user_id == user_id)),
        )
        rows = await self.session.scalars(
            select(OutboxRow).where(OutboxRow.status == "pending", theirs).order_by(OutboxRow.not_before)
        )
        return [_row(o, "id", "claimed_by", "claimed_until", "claim_token") for o in rows.all()]

    async def forget_user(self, user_id: int) -> None:
        """Every row of the user's goes, and every copy of their name or answers: rows keyed to the user
        go with the user row (foreign keys cascade); queued sends to them or their private chats are
        removed explicitly; composed sends still queued in shared groups lose the user's name. A group's
        settings and its queued quiz sends belong to the group and stay."""
        user = await self.session.get(User, user_id)
        identities = (
            await self.session.execute(
                select(Identity.platform, Identity.external_id).where(Identity.user_id == user_id)
            )
        ).all()
        # A channel quiz saved with its admin as owner (before 0006, or by an older instance during a
        # rolling upgrade) is the group's: detach it rather than let the user's deletion cascade to it.
        await self.session.execute(
            update(SubscriptionRow)
            .where(SubscriptionRow.user_id == user_id, SubscriptionRow.kind != "daily")
            .values(user_id=None)
        )
        daily = select(SubscriptionRow.platform, SubscriptionRow.chat_id).where(
            SubscriptionRow.user_id == user_id, SubscriptionRow.kind == "daily"
        )
        private = {(p, c) for p, c in (await self.session.execute(daily)).all()}
        private |= {(p, e) for p, e in identities}  # a direct chat's id is the user's id on Telegram
        mine = select(DialogueStateRow.platform, DialogueStateRow.chat_id).where(DialogueStateRow.user_id == user_id)
        chats = {(p, c) for p, c in (await self.session.execute(mine)).all()}
        answered = (
            select(QuizRunRow.platform, QuizRunRow.chat_id)
            .join(QuizAnswerRow, QuizAnswerRow.run_id == QuizRunRow.id)
            .where(QuizAnswerRow.user_id == user_id)
        )
        chats |= {(p, c) for p, c in (await self.session.execute(answered)).all()}
        for platform, chat in private:
            await self.session.execute(
                delete(ProcessedMessage).where(
                    ProcessedMessage.platform == platform, ProcessedMessage.key.like(f"{chat}:%")
                )
            )
            await self.session.execute(
                delete(OutboxRow).where(OutboxRow.platform == platform, OutboxRow.chat_id == chat)
            )
        for platform, chat in chats - private:  # their DM on a platform whose DM id is not the user id
            await self.session.execute(
                delete(OutboxRow).where(
                    OutboxRow.platform == platform, OutboxRow.chat_id == chat, OutboxRow.chat_kind == "private"
                )
            )
        for platform, external in identities:  # whatever was queued for them, wherever
            await self.session.execute(
                delete(OutboxRow).where(OutboxRow.platform == platform, OutboxRow.external_user_id == external)
            )
            await self.session.execute(  # a vote still waiting for its poll to be recorded
                delete(HeldVoteRow).where(HeldVoteRow.platform == platform, HeldVoteRow.external_user_id == external)
            )
        if user is not None and user.display_name.strip():
            await self._scrub_name(chats - private, user.display_name)
        await self.session.execute(delete(User).where(User.id == user_id))
        self._evict(user_id)

    async def _scrub_name(self, chats: set[tuple[str, str]], name: str) -> None:
        """Composed replies still queued in shared chats (quiz results, leaderboards) name the user.
        Whole names only: "Al" must not turn another member's "Alex" into "(a former member)ex"."""
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
        for platform, chat in chats:
            rows = await self.session.scalars(
                select(OutboxRow).where(
                    OutboxRow.platform == platform,
                    OutboxRow.chat_id == chat,
                    OutboxRow.status == "pending",
                    OutboxRow.replies.is_not(None),
                )
            )
            for row in rows.all():
                replies = _scrubbed(row.replies, pattern)
                if replies != row.replies:
                    row.replies = replies
        await self.session.flush()


def _scrubbed(value: Any, name: re.Pattern[str]) -> Any:
    """Stored replies (JSON) with every string's mentions of `name` replaced."""
    if isinstance(value, str):
        return name.sub(FORGOTTEN_NAME, value)
    if isinstance(value, list):
        return [_scrubbed(v, name) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, name) for k, v in value.items()}
    return value


async def usage_report(session: AsyncSession, now: datetime, days: int = 14) -> dict[str, Any]:
    """Operator figures for `mock-interviewer report`."""
    day = func.date(RoundRow.started_at)
    per_day = (
        await session.execute(
            select(day, func.count())
            .where(RoundRow.started_at >= now - timedelta(days=days), RoundRow.track != "daily")
            .group_by(day)
            .order_by(day)
        )
    ).all()
    subs = (
        await session.execute(
            select(SubscriptionRow.kind, SubscriptionRow.active, func.count()).group_by(
                SubscriptionRow.kind, SubscriptionRow.active
            )
        )
    ).all()
    outbox = (await session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))).all()
    failures = (
        await session.execute(
            select(OutboxRow.platform, OutboxRow.last_error, func.count())
            .where(OutboxRow.status == "failed")
            .group_by(OutboxRow.platform, OutboxRow.last_error)
            .order_by(func.count().desc())
            .limit(10)
        )
    ).all()
    users = await session.scalar(select(func.count()).select_from(User))
    identities = (await session.execute(select(Identity.platform, func.count()).group_by(Identity.platform))).all()
    return {
        "users": int(users or 0),
        "identities": {p: int(n) for p, n in identities},
        "subscriptions": {f"{k} {'active' if a else 'inactive'}": int(n) for k, a, n in subs},
        "rounds_per_day": [(str(d)[:10], int(n)) for d, n in per_day],
        "outbox": {s: int(n) for s, n in outbox},
        "failures": [(p, e or "", int(n)) for p, e, n in failures],
    }


async def disputes_for_authors(session: AsyncSession) -> list[dict[str, Any]]:
    """Every dispute with the answer and the grader's verdict on the disputed point, oldest first,
    for `mock-interviewer disputes export`; no user ids or names, only what a rubric author needs."""
    rows = await session.execute(
        select(DisputeRow, AnswerRow.answer_text, AnswerRow.verdict, AnswerRow.score, AnswerRow.stage)
        .outerjoin(
            AnswerRow,
            (AnswerRow.user_id == DisputeRow.user_id)
            & (AnswerRow.round_id == DisputeRow.round_id)
            & (AnswerRow.question_id == DisputeRow.question_id),
        )
        .order_by(DisputeRow.id)
    )
    out: list[dict[str, Any]] = []
    for dispute, answer, verdict, score, stage in rows.all():
        shown = next(
            (p for p in (verdict or {}).get("key_points", []) if p.get("point") == dispute.point),
            None,
        )
        out.append(
            {
                "question_id": dispute.question_id,
                "stage": stage or "",
                "point": dispute.point or "(the score as a whole)",
                "grader_status": dispute.status,
                "grader_evidence": (shown or {}).get("evidence", ""),
                "score": score,
                "answer": answer or "",
                "reason": dispute.reason,
                "at": aware(dispute.created_at).isoformat(),
            }
        )
    return out
