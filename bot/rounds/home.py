"""/start, /help and the reply to anything said outside a round: the way in leads to a round."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.rounds.flow import RoundFlow, start_button

HELP = """I'm a mock interviewer for machine-learning roles.

Rounds
  /mock — start (or resume) a mock round: technical, behavioral, mixed, system design, quiz drill, or a full loop;
    /mock exercises (or sql, python) for exercises whose code is run
  /done — finish your answer (you can answer in several messages)
  /hint — get a hint (up to three; each costs a little score)
  /skip — skip this question
  /repeat — show the question again
  /time — time spent on this question and round
  /pause — pause; resume later with /mock
  /stop — end the round and see the scorecard
  /history — your recent rounds and scores

Daily practice and groups
  /daily — one question a day by direct message, at your local time, with spaced repetition
  /quiz — a quick multiple-choice drill; in a group, the channel quiz (admins set it up)
  /leaderboard — this group's quiz scores, this week and all time

Your data
  /stats — progress by book section, score trend, streak (with a chart)
  /export — everything stored about you, as JSON, plus your review log as CSV
  /forget — delete everything stored about you
  /link — share progress between your Telegram and Discord accounts (/unlink undoes it)
  /help — this message"""

WELCOME = (
    "Welcome! I run mock interviews for ML engineer, data scientist and research roles: "
    "questions, follow-ups, hints, feedback and a scorecard at the end."
)


class Home:
    def __init__(self, flow: RoundFlow) -> None:
        self.flow = flow

    async def start(self, ctx: Ctx) -> None:
        ctx.say(WELCOME)
        await self.help(ctx)

    async def help(self, ctx: Ctx) -> None:
        in_round = ctx.state.mode == "round" and ctx.state.round is not None
        ctx.say(HELP, [] if in_round else [start_button(ctx)])
        if in_round:
            self.flow.show_current(ctx, "We're in the middle of a round; here is where we are.")

    async def nudge(self, ctx: Ctx) -> None:
        ctx.say("Send /mock to start a mock interview round, or /help to see what I can do.", [start_button(ctx)])
