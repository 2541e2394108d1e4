"""/daily settings from chat: subscribing, time, time zone, days, topics, difficulty and role."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Button, make_choice
from bot.daily.question import DailyQuestion
from bot.subscriptions.schedule import DAYS, next_run, parse_clock, parse_zone, zone
from bot.subscriptions.settings import TOPIC_GROUPS, describe_days, parse_days, parse_topics
from bot.subscriptions.subscription import Subscription, SubscriptionRecord

DAY_PRESETS = {"every": DAYS, "week": DAYS[:5], "end": DAYS[5:]}
DIFFICULTY_CHOICES = ("easy", "medium", "hard", "match")
ROLE_LABELS = {"mle": "ML engineer", "ds": "Data scientist", "research": "Research"}


class DailySettings:
    def __init__(self, question: DailyQuestion) -> None:
        self.question = question  # "Send one now"

    async def command(self, ctx: Ctx, args: Sequence[str]) -> None:
        if ctx.event.chat_kind != "private":
            ctx.say("The daily question comes by direct message: send /daily to me in a private chat.")
            return
        sub = await ctx.data.subscription("daily")
        if not ctx.event.reachable:  # a terminal: nothing can arrive in it on its own
            ctx.say(
                "The daily question arrives by direct message on Telegram or Discord: one question a day at your "
                "local time, picked by spaced repetition (what you found hard comes back sooner). A terminal "
                "can't receive messages on its own, but you can answer one here now.",
                [Button("Send one now", make_choice("dl", "now", ctx.state.next_seq()))],
            )
            return
        if not args:
            self.show(ctx, sub)
            return
        word, rest = args[0].lower(), list(args[1:])
        if sub is None and word not in ("time", "zone"):
            if parse_clock(args[0]) is not None:  # "/daily 08:30 Europe/Berlin": subscribe in one go
                sub = self._new(ctx)
                word, rest = "time", list(args)
            else:
                ctx.say("You're not subscribed yet. Send /daily to set it up, or e.g. /daily 08:30 Europe/Berlin.")
                return
        sub = sub or self._new(ctx)
        if word == "time" and rest:
            at = parse_clock(rest[0])
            tz = parse_zone(" ".join(rest[1:])) if len(rest) > 1 else sub.zone
            if at is None or tz is None:
                ctx.say("I couldn't read that. Example: /daily time 08:30 or /daily time 7pm Europe/Berlin.")
                return
            self.save(
                ctx, replace(sub, at=at.strftime("%H:%M"), zone=tz, active=True, deactivated_reason=None), "Time set."
            )
        elif word == "zone" and rest:
            tz = parse_zone(" ".join(rest))
            if tz is None:
                ctx.say(
                    "I don't know that time zone. Try a city (Berlin), a zone name (Asia/Kathmandu) or an offset (+05:45)."
                )
                return
            self.save(ctx, replace(sub, zone=tz), "Time zone set.")
        elif word == "days" and rest:
            days = parse_days(",".join(rest))
            if days is None:
                ctx.say("Days are e.g. weekdays, weekends, everyday, or mon,wed,fri.")
                return
            self.save(ctx, replace(sub, days=days), "Days set.")
        elif word == "topics" and rest:
            topics = parse_topics(rest)
            if topics is None:
                ctx.say("Topics are chapter numbers 5-9 or book sections such as 7.3, or 'all'.")
                return
            self.save(ctx, replace(sub, topics=topics), "Topics set.")
        elif word == "difficulty" and rest and rest[0].lower() in DIFFICULTY_CHOICES:
            self.save(ctx, replace(sub, difficulty=rest[0].lower()), "Difficulty set.")
        elif word == "role" and rest and rest[0].lower() in (*ROLE_LABELS, "all"):
            role = None if rest[0].lower() == "all" else rest[0].lower()
            self.save(ctx, replace(sub, role=role), "Role set.")
        elif word in ("pause", "resume", "stop", "now"):
            await self.choice(ctx, word, "")
        else:
            ctx.say("Try /daily, /daily time 08:30, /daily zone Europe/Berlin, /daily days weekdays, /daily topics 5 7, "
                    "/daily difficulty medium, /daily role ds (mle, ds, research or all), /daily pause, /daily resume "
                    "or /daily stop.")  # fmt: skip

    def _new(self, ctx: Ctx) -> Subscription:
        return Subscription(
            kind="daily",
            platform=ctx.event.platform,
            chat_id=ctx.event.chat_id,
            user_id=0,  # filled in by storage from the conversation's user
            external_user_id=ctx.event.user_id,
        )

    def save(self, ctx: Ctx, sub: Subscription, note: str) -> None:
        sub = replace(
            sub,
            next_run=next_run(ctx.now, parse_clock(sub.at) or datetime.min.time(), sub.zone, sub.days)
            if sub.active
            else None,
        )
        ctx.records.append(SubscriptionRecord(sub))
        self.show(ctx, sub, note)

    def show(self, ctx: Ctx, sub: Subscription | None, note: str = "") -> None:
        seq = ctx.state.next_seq()
        prefix = f"{note}\n" if note else ""
        if sub is None or sub.deactivated_reason == "unsubscribed":
            ctx.say(
                prefix + "📅 Get one interview question a day by direct message, at your local time. Questions you "
                "found hard come back sooner (spaced repetition); new ones come from your weakest topics.",
                [Button("Subscribe", make_choice("dl", "sub", seq))],
            )
            return
        status = (
            "on" if sub.active else f"paused{' (' + sub.deactivated_reason + ')' if sub.deactivated_reason else ''}"
        )
        when = ""
        if sub.active and sub.next_run:
            nxt = sub.next_run.astimezone(zone(sub.zone))
            when = f" (next: {nxt:%a %d %b %H:%M})"
        topics = ", ".join(TOPIC_GROUPS.get(t, t) for t in sub.topics) or "all"
        lines = [
            f"📅 Daily question: {status}",
            f"Time: {sub.at} {sub.zone}, {describe_days(sub.days)}{when}",
            f"Topics: {topics} · Difficulty: {texts.DIFFICULTY_LABELS[sub.difficulty].lower()} · "
            f"Role: {ROLE_LABELS.get(sub.role or '', 'any')}",
            f"Streak: {texts.plural(sub.streak, 'day')} (best {sub.best_streak})",
        ]
        buttons = [
            Button("Pause" if sub.active else "Resume", make_choice("dl", "pause" if sub.active else "resume", seq)),
            Button("Send one now", make_choice("dl", "now", seq)),
            Button("Change time", make_choice("dl", "time", seq)),
            Button("Change time zone", make_choice("dl", "zone", seq)),
            Button("Every day", make_choice("dl", "days", "every", seq)),
            Button("Weekdays", make_choice("dl", "days", "week", seq)),
        ]
        for key, label in TOPIC_GROUPS.items():
            mark = "✓ " if key in sub.topics else ""
            buttons.append(Button(f"{mark}{label}", make_choice("dl", "top", key, seq)))
        buttons.append(Button("All topics", make_choice("dl", "top", "all", seq)))
        buttons += [Button(texts.DIFFICULTY_LABELS[d], make_choice("dl", "diff", d, seq)) for d in DIFFICULTY_CHOICES]
        buttons += [Button(label, make_choice("dl", "role", key, seq)) for key, label in ROLE_LABELS.items()]
        buttons.append(Button("Any role", make_choice("dl", "role", "all", seq)))
        buttons.append(Button("Unsubscribe", make_choice("dl", "stop", seq)))
        ctx.say(prefix + "\n".join(lines), buttons)

    async def choice(self, ctx: Ctx, action: str, value: str) -> None:
        sub = await ctx.data.subscription("daily")
        if action == "now":
            await self.question.send(ctx, sub or self._new(ctx))
            return
        if action == "sub":
            sub = sub or self._new(ctx)
            ctx.records.append(SubscriptionRecord(replace(sub, active=False, deactivated_reason="setting up")))
            ctx.state.awaiting = "daily_zone"
            ctx.say(
                "Which time zone are you in? Send a city (Berlin), a zone name (Europe/Berlin) or an offset (+05:45)."
            )
            return
        if sub is None:
            self.show(ctx, None, "You're not subscribed yet.")
            return
        if action == "pause":
            self.save(ctx, replace(sub, active=False, deactivated_reason=None), "Paused. /daily resume brings it back.")
        elif action == "resume":
            self.save(ctx, replace(sub, active=True, deactivated_reason=None), "Resumed.")
        elif action == "stop":
            ctx.records.append(
                SubscriptionRecord(replace(sub, active=False, next_run=None, deactivated_reason="unsubscribed"))
            )
            ctx.say("Unsubscribed. Your history and review schedule are kept; /daily subscribes again.")
        elif action == "time":
            ctx.state.awaiting = "daily_time"
            ctx.say(f"What time should it arrive ({sub.zone})? For example 08:30 or 7pm.")
        elif action == "zone":
            ctx.state.awaiting = "daily_zone"
            ctx.say("Which time zone? A city (Berlin), a zone name (Europe/Berlin) or an offset (+05:45).")
        elif action == "days" and value in DAY_PRESETS:
            self.save(ctx, replace(sub, days=DAY_PRESETS[value]), "Days set.")
        elif action == "top" and (value in TOPIC_GROUPS or value == "all"):
            topics = () if value == "all" else tuple(sorted(set(sub.topics) ^ {value}))
            self.save(ctx, replace(sub, topics=topics), "Topics set.")
        elif action == "diff" and value in DIFFICULTY_CHOICES:
            self.save(ctx, replace(sub, difficulty=value), "Difficulty set.")
        elif action == "role" and (value in ROLE_LABELS or value == "all"):
            self.save(ctx, replace(sub, role=None if value == "all" else value), "Role set.")
        elif action == "now":
            await self.question.send(ctx, sub)
        else:
            ctx.say("Sorry, I don't recognise that button.")

    async def awaited_text(self, ctx: Ctx, text: str) -> None:
        """A time or time zone typed after the bot asked for it."""
        sub = await ctx.data.subscription("daily") or self._new(ctx)
        if ctx.state.awaiting == "daily_zone":
            tz = parse_zone(text)
            if tz is None:
                ctx.say(
                    "I don't know that time zone. Try a city (Berlin), a zone name (Asia/Kathmandu) or an offset (+05:45), or /daily to go back."
                )
                return
            ctx.state.awaiting = "daily_time"
            ctx.records.append(SubscriptionRecord(replace(sub, zone=tz)))
            ctx.say(f"Time zone: {tz}. What time should the question arrive? For example 08:30 or 7pm.")
            return
        at = parse_clock(text)
        if at is None:
            ctx.say("I couldn't read that time. Send it like 08:30, 18:05 or 7pm, or /daily to go back.")
            return
        ctx.state.awaiting = None
        self.save(
            ctx, replace(sub, at=at.strftime("%H:%M"), active=True, deactivated_reason=None), "You're subscribed!"
        )
