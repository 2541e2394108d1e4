"""A round in progress: picking and showing each question, moving on, and the scorecard at the end."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.answering.flow import AnswerFlow, Choices
from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Button, make_choice
from bot.rounds import scorecard
from bot.rounds.presets import PRESETS
from bot.rounds.records import RoundRecord
from bot.rounds.selection import adapt_level, pick
from bot.rounds.state import RoundState
from questions.loader import Bank
from questions.schema import BehavioralQuestion, DesignScenario, QuizQuestion, TechnicalQuestion
from questions.sections import SECTIONS

STAGE_LABELS = {
    "setup": "Project set-up and requirements",
    "data": "Data pipeline",
    "modeling": "Modeling",
    "serving": "Serving and monitoring",
}

TRANSITIONS = ("Next one.", "Let's move on.", "Here's another.", "Onward.", "Next question.")

# Inside a round the rating buttons have a namespace of their own and a Next button beside them.
ROUND = Choices(answer="rd", rating="rt", dispute="rt:wrong", after_rating="rd:next")

Asked = TechnicalQuestion | BehavioralQuestion | DesignScenario | QuizQuestion


def start_button(ctx: Ctx) -> Button:
    """Valid from any message (it carries no stale check), so old scorecards can start a new round."""
    return Button("Start a mock round", make_choice("mk", "go", ctx.state.seq))


def round_record(rnd: RoundState, status: str, now: datetime, card: dict[str, Any] | None = None) -> RoundRecord:
    return RoundRecord(rnd.round_id, rnd.track, rnd.difficulty, rnd.length, status, now, card)


class RoundFlow:
    def __init__(self, bank: Bank, answering: AnswerFlow) -> None:
        self.bank = bank
        self.answering = answering

    def item(self, qid: str | None) -> Asked | None:
        item = self.bank.get(qid) if qid else None
        return (
            item if isinstance(item, TechnicalQuestion | BehavioralQuestion | DesignScenario | QuizQuestion) else None
        )

    async def ask_current(self, ctx: Ctx, rnd: RoundState, note: str = "") -> None:
        """Pick the question for the current slot if needed, then show it."""
        if len(rnd.question_ids) <= rnd.slot:
            slot = rnd.current_slot
            recent = [self.section_of(q) for q in rnd.question_ids[-2:]]
            qid = pick(
                self.bank,
                slot.kind,
                rnd.level if rnd.difficulty == "match" and slot.kind != "design" else slot.difficulty,
                rnd.question_ids,
                await ctx.seen(),
                f"{rnd.round_id}:{rnd.slot}",
                role=PRESETS[rnd.preset].role if rnd.preset else None,
                seniority=PRESETS[rnd.preset].seniority if rnd.preset else None,
                sections=slot.sections or None,
                avoid_sections=recent,
                exercise=slot.exercise,
            )
            if qid is None:
                # The bank has nothing left of this kind: move on to the next kind the plan has, if any.
                later = next((i for i in range(rnd.slot + 1, rnd.length) if rnd.plan[i].kind != slot.kind), None)
                if later is None:
                    ctx.say("I've run out of questions of this kind in the bank, so let's wrap up here.")
                    self.finish(ctx, rnd, "finished")
                    return
                ctx.say("I've run out of questions of this kind in the bank, so let's move on.")
                rnd.plan = rnd.plan[: rnd.slot] + rnd.plan[later:]
                await self.ask_current(ctx, rnd, note)
                return
            rnd.question_ids.append(qid)
            rnd.question_started = ctx.now
        self.show_current(ctx, note)

    def section_of(self, qid: str) -> str:
        item = self.item(qid)
        return item.section if item else ""

    def show_current(self, ctx: Ctx, note: str = "") -> None:
        st = ctx.state
        rnd = st.round
        item = self.item(rnd.current_id if rnd else None)
        if rnd is None or item is None:
            ctx.say(note or ctx.where())
            return
        if rnd.phase == "rate":
            self.answering.ask_rating(ctx, ROUND, note)
            return
        seq = st.next_seq()
        slot = rnd.current_slot
        head = f"Question {rnd.slot + 1}/{rnd.length}" if rnd.length > 1 else "Question"
        if isinstance(item, DesignScenario) and rnd.length == 1:
            head = "System design"
        if slot.label:
            head += f" · {slot.label}"
        prefix = f"{note}\n\n" if note else ""
        if isinstance(item, QuizQuestion):
            body = f"{head} · {item.section} {SECTIONS[item.section]}\n\n{item.question}"
            body += "\n" + "\n".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(item.options))
            ctx.say(prefix + body, [Button(chr(65 + i), make_choice("qz", i, seq)) for i in range(len(item.options))])
            return
        if rnd.phase == "follow_up" and rnd.follow_up:
            on = f"stage {rnd.stage + 1}/4" if isinstance(item, DesignScenario) else f"question {rnd.slot + 1}"
            body = f"Follow-up on {on}:\n\n{rnd.follow_up}"
        elif isinstance(item, DesignScenario):
            stage = item.stages[rnd.stage]
            intro = f"{item.title}\n{item.prompt}\n\n" if rnd.stage == 0 else ""
            asks = "\n\n(Ask me anything about the scenario first if you like: end a short message with ?, or /ask.)"
            body = f"{head} · Stage {rnd.stage + 1}/4: {STAGE_LABELS[stage.stage]}\n\n{intro}{stage.prompt}"
            body += asks if rnd.stage == 0 and item.facts else ""
        else:
            body = f"{head} · {item.section} {SECTIONS[item.section]} · {item.difficulty}\n\n{item.prompt}"
        if rnd.answer:
            body += (
                f"\n\n(Your answer so far: {sum(len(p.split()) for p in rnd.answer)} words. Add more or press Done.)"
            )
        skip_label = "Skip follow-up" if rnd.phase == "follow_up" else "Skip"
        done = make_choice("rd", "done", seq)
        ctx.say(
            prefix + body,
            [
                Button("Done", done),
                Button("Hint", make_choice("rd", "hint", seq)),
                Button(skip_label, make_choice("rd", "skip", seq)),
            ],
            answer_choice=done,
        )

    async def advance(self, ctx: Ctx, rnd: RoundState) -> None:
        previous_label = rnd.current_slot.label
        rnd.slot += 1
        rnd.stage, rnd.answer, rnd.hints_used, rnd.follow_up, rnd.phase = 0, [], 0, None, "answer"
        rnd.follow_up_index = None
        if rnd.difficulty == "match":
            rnd.level = adapt_level(rnd.level, rnd.results[-1] if rnd.results else None)
        if rnd.slot >= rnd.length:
            self.finish(ctx, rnd, "finished")
            return
        note = TRANSITIONS[rnd.slot % len(TRANSITIONS)]
        if rnd.track == "loop" and rnd.current_slot.label != previous_label:
            labels = list(dict.fromkeys(s.label for s in rnd.plan))
            part = labels.index(rnd.current_slot.label) + 1
            note = f"That's the {previous_label.lower()} done. Part {part} of {len(labels)}: {rnd.current_slot.label}."
        await self.ask_current(ctx, rnd, note)

    @staticmethod
    def _parts(rnd: RoundState) -> dict[str, str]:
        """Each planned part of a loop, keyed by the question asked in it (or a placeholder when the
        round ended before reaching it), so the scorecard can say which parts went unanswered."""
        asked = rnd.question_ids
        return {asked[i] if i < len(asked) else f"(not reached {i})": s.label for i, s in enumerate(rnd.plan)}

    def finish(self, ctx: Ctx, rnd: RoundState, status: str) -> None:
        st = ctx.state
        st.mode, st.round = "idle", None
        if not rnd.results:
            ctx.records.append(round_record(rnd, "stopped", ctx.now))
            ctx.say(
                "Round stopped before any answer, so there's no scorecard. Send /mock to start again.",
                [start_button(ctx)],
            )
            return
        preset = PRESETS.get(rnd.preset or "")
        card = scorecard.build(
            rnd.results,
            track=rnd.track,
            part_of=self._parts(rnd) if rnd.track == "loop" else None,
            senior=preset is not None and preset.seniority == "senior",
        )
        card["track"] = rnd.track
        if rnd.track == "quiz":
            right = sum(1 for r in rnd.results if r.score > 0)
            title = f"🏁 Quiz drill complete: {right}/{len(rnd.results)} correct"
        else:
            title = "📋 " + ("Combined scorecard" if rnd.track == "loop" else "Scorecard")
            if status == "stopped":
                title += f" (stopped after {texts.plural(len(rnd.results), 'answer')})"
        text = scorecard.render(card)
        if rnd.track in ("behavioral", "loop", "mixed") and self.bank.cards:
            card_item = next(iter(self.bank.cards.values()))
            text += "\n\nAny questions for me? In a real interview this is your turn: ask two or three."
            if st.coached:
                text += f" ({card_item.title}: the list is in the card after your first round.)"
            else:
                st.coached = True
                text += f"\n\n{card_item.title}\n{card_item.advice}\n" + "\n".join(
                    f"  • {q}" for q in card_item.items[:6]
                )
        ctx.records.append(round_record(rnd, status, ctx.now, card))
        ctx.say(
            text + "\n\nIt's saved in your /history. Send /mock for another round.",
            [start_button(ctx)],
            title=title,
        )
