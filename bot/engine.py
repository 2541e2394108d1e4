"""The dialogue engine: `handle(event, state, profile) -> Turn`, plain data in and out.

It decides everything the bot says. It never touches a platform, a database or a scheduler;
the dispatcher loads and saves state around it, and adapters render its replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import ChoiceIn, CommandIn, Inbound, PollAnswerIn, Reply, TextIn, parse_choice
from bot.core.ports import Profile, Record, StaticUserData, UserData
from bot.core.state import DialogueState
from bot.daily.question import DailyQuestions
from bot.progress import linking
from bot.progress import stats as progress
from bot.quiz.channel import GroupQuizzes
from bot.rounds.flow import RATINGS
from bot.rounds.setup import RoundSetup


@dataclass
class Turn:
    state: DialogueState
    replies: list[Reply]
    records: list[Record] = field(default_factory=list)


class Engine(RoundSetup):
    """Routes each event to the mock round, the daily question, channel quizzes or the user's data."""

    @cached_property
    def daily(self) -> DailyQuestions:
        return DailyQuestions(self)

    @cached_property
    def quizzes(self) -> GroupQuizzes:
        return GroupQuizzes(self)

    @staticmethod
    def needs_history(event: Inbound) -> bool:
        return isinstance(event.payload, CommandIn) and event.payload.name.lower() == "history"

    async def handle(self, event: Inbound, state: DialogueState, data: UserData | Profile) -> Turn:
        if isinstance(data, Profile):
            data = StaticUserData(data)
        ctx = Ctx(event, state.model_copy(deep=True), data, self.clock())
        payload = event.payload
        if isinstance(payload, TextIn):
            await self._on_text(ctx, payload.text, payload.submit)
        elif isinstance(payload, CommandIn):
            await self._on_command(ctx, payload.name.lower(), payload.args)
        elif isinstance(payload, ChoiceIn):
            await self._on_choice(ctx, payload.choice_id)
        elif isinstance(payload, PollAnswerIn):
            await self.quizzes.answer(ctx, payload.poll_ref, payload.option)
        elif payload.job == "daily":
            await self.daily.send_question(ctx)
        elif payload.job == "quiz":
            await self.quizzes.start(ctx)
        elif payload.job == "quiz_close":
            await self.quizzes.close(ctx, payload.ref)
        return Turn(ctx.state, ctx.replies, ctx.records)

    async def _on_text(self, ctx: Ctx, text: str, submit: str | None = None) -> None:
        if len(text) > texts.MAX_MESSAGE_CHARS:
            ctx.say(
                f"That message is {len(text):,} characters long; I can take up to {texts.MAX_MESSAGE_CHARS:,} "
                "per message. Please shorten it or send it in parts."
            )
            return
        if not text.strip():
            ctx.say("I received an empty message. " + self._where(ctx.state))
            return
        st = ctx.state
        if submit is not None:
            await self._on_form(ctx, text, submit)
        elif st.awaiting is not None and st.mode != "round":
            await self.daily.awaited_text(ctx, text)
        elif st.mode == "idle" and st.daily is not None:
            await self.daily.answer_text(ctx, text)
        elif st.mode == "round" and st.round is not None:
            rnd = st.round
            if rnd.phase == "rate":
                self._ask_rating(ctx, "Before we move on, how well did you know this one?")
            elif rnd.current_slot.kind == "quiz":
                self._show_current(ctx, "Pick one of the options.")
            else:
                self._add_answer_part(ctx, rnd, text)
        elif st.mode == "setup":
            self._ask_setup(ctx, "Please pick one of the options.")
        else:
            ctx.say(
                "Send /mock to start a mock interview round, or /help to see what I can do.",
                [self._new_round_button(ctx)],
            )

    async def _on_form(self, ctx: Ctx, text: str, submit: str) -> None:
        """A whole answer from a form: the text, then the Done button the form stands for."""
        parsed = parse_choice(submit)
        st = ctx.state
        if parsed is None or parsed[0] not in ("rd", "dl") or parsed[1][0] != "done":
            ctx.say("Sorry, I don't recognise that form. " + self._where(st))
            return
        fresh = parsed[1][-1] == str(st.seq)
        if fresh and parsed[0] == "dl" and st.mode == "idle" and st.daily is not None:
            if await self.daily.answer_text(ctx, text, quiet=True):
                await self.daily.answer_action(ctx, "done", "")
        elif fresh and parsed[0] == "rd" and st.mode == "round" and st.round is not None and st.round.phase != "rate":
            if self._add_answer_part(ctx, st.round, text, quiet=True):
                await self._round_command(ctx, st.round, "done")
        else:
            kept = text if len(text) <= 1500 else text[:1500] + "…"
            ctx.say(
                "That answer form belongs to a question that has moved on, so I didn't grade it. "
                f"Here is what you wrote, so it isn't lost:\n\n{kept}\n\n" + self._where(st)
            )

    async def _on_command(self, ctx: Ctx, name: str, args: Sequence[str]) -> None:
        st = ctx.state
        rnd = st.round if st.mode == "round" else None
        st.awaiting = None if name not in ("daily", "start") else st.awaiting
        if name == "start" and args and args[0].lower() == "daily":
            await self.daily.command(ctx, ())
        elif name == "daily":
            await self.daily.command(ctx, args)
        elif name == "quiz" and ctx.event.chat_kind == "group":
            await self.quizzes.command(ctx, args)
        elif name == "leaderboard":
            await self.quizzes.leaderboard(ctx)
        elif name == "settings" and ctx.event.chat_kind == "group":
            await self.quizzes.command(ctx, ())
        elif name == "settings":
            await self.daily.command(ctx, ())
        elif name == "quiz":
            await self._cmd_mock(ctx, ("quiz", *args))
        elif name in ("start", "help"):
            if name == "start":
                ctx.say(texts.WELCOME)
            ctx.say(texts.HELP, [self._new_round_button(ctx)] if rnd is None else [])
            if rnd is not None:
                self._show_current(ctx, "We're in the middle of a round; here is where we are.")
        elif name == "mock":
            await self._cmd_mock(ctx, args)
        elif name == "history":
            await self._cmd_history(ctx)
        elif name == "stats":
            await progress.stats(ctx)
        elif name == "export":
            await progress.export(ctx)
        elif name in ("forget", "deleteme"):
            progress.ask_forget(ctx)
        elif name == "link":
            await linking.link(ctx, tuple(args), self.new_id()[:8])
        elif name == "unlink":
            await linking.unlink(ctx)
        elif name in ("done", "hint", "skip", "repeat", "time", "pause", "stop", "cancel"):
            if rnd is None and st.daily is not None and name in ("done", "hint", "skip"):
                await self.daily.answer_action(ctx, name, "")
            elif rnd is None:
                if name in ("stop", "cancel") and st.mode == "setup":
                    st.mode, st.setup = "idle", None
                    ctx.say("Cancelled. Send /mock whenever you want to start.")
                else:
                    ctx.say("There's no question open right now. " + self._where(st))
            else:
                await self._round_command(ctx, rnd, name)
        else:
            kept = " Your answer so far is kept." if rnd is not None and rnd.answer else ""
            ctx.say(f"I don't know the command /{name[:32]}. Send /help for the list.{kept}")

    async def _on_choice(self, ctx: Ctx, raw: str) -> None:
        parsed = parse_choice(raw)
        st = ctx.state
        if parsed is None or parsed[0] not in ("mk", "rd", "rt", "qz", "dl", "fg"):
            ctx.say("Sorry, I don't recognise that button. " + self._where(st))
            return
        ns, parts = parsed
        if ns == "mk" and parts[0] == "go":
            await self._cmd_mock(ctx, ())
            return
        if parts[-1] != str(st.seq):
            self._stale(ctx)
            return
        action, value = parts[0], parts[1] if len(parts) > 2 else ""
        rnd = st.round if st.mode == "round" else None
        if ns == "fg":
            progress.confirm_forget(ctx, action)
        elif ns == "dl":
            await self.daily.choice(ctx, action, value)
        elif ns == "mk":
            await self._setup_choice(ctx, action, value)
        elif rnd is None:
            self._stale(ctx)
        elif ns == "rd" and action in ("done", "hint", "skip", "next"):
            await self._round_command(ctx, rnd, action)
        elif ns == "rt" and rnd.phase == "rate" and action in (*RATINGS, "wrong"):
            await self._rate(ctx, rnd, action)
        elif ns == "qz" and rnd.phase == "answer" and rnd.current_slot.kind == "quiz" and action.isdigit():
            await self._quiz_answer(ctx, rnd, int(action))
        else:
            ctx.say("Sorry, I don't recognise that button. " + self._where(st))

    async def _cmd_history(self, ctx: Ctx) -> None:
        rounds = (await ctx.profile()).history
        if not rounds:
            ctx.say("No finished rounds yet. Send /mock to start one.", [self._new_round_button(ctx)])
            return
        lines = ["Your recent rounds:"]
        for r in rounds:
            card = r.get("scorecard") or {}
            overall = f"{card['overall']:.1f}/4" if "overall" in card else "no score"
            signal = f", {card['signal']}" if card.get("signal") else ""
            weakest = card.get("review") or []
            review = f"; review {weakest[0]['section']} {weakest[0]['title']}" if weakest else ""
            lines.append(f"• {r['started'][:10]} {r['track']} ({r['status']}): {overall}{signal}{review}")
        ctx.say("\n".join(lines))
