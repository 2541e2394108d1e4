"""Choosing a round: track, difficulty, length or a role preset, then the interviewer's introduction."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Button, make_choice
from bot.rounds.flow import RoundFlow, round_record, start_button
from bot.rounds.presets import PRESETS
from bot.rounds.selection import level_from_score
from bot.rounds.state import Exercise, RoundState, SetupState, Slot, Track

TRACKS: tuple[Track, ...] = ("technical", "behavioral", "mixed", "design", "quiz", "loop")
DIFFICULTIES = ("easy", "medium", "hard", "match")
LENGTHS = (3, 5, 8)
# `/mock exercises` (or sql, python): a technical round of questions whose answers are run, taken in turn
EXERCISE_ARGS: dict[str, list[Exercise]] = {
    "exercises": ["sql", "python"],
    "sql": ["sql"],
    "python": ["python"],
    "coding": ["python"],
}
KIND_MINUTES = {"technical": 5.0, "behavioral": 3.0, "design": 40.0, "quiz": 0.5}
TRACK_LABELS = {
    "technical": "Technical",
    "behavioral": "Behavioral",
    "mixed": "Mixed",
    "design": "System design",
    "quiz": "Quiz drill",
    "loop": "Full interview loop",
}


class RoundSetup:
    def __init__(self, flow: RoundFlow, new_id: Callable[[], str]) -> None:
        self.flow = flow
        self.new_id = new_id

    async def mock(self, ctx: Ctx, args: Sequence[str]) -> None:
        st = ctx.state
        if st.mode == "round" and st.round is not None:
            self.flow.show_current(ctx, "We're in the middle of a round; let's carry on.")
            return
        setup = SetupState()
        for arg in (a.lower() for a in args):
            if arg in TRACKS:
                setup.track = arg  # type: ignore[assignment]
            elif arg in DIFFICULTIES:
                setup.difficulty = arg  # type: ignore[assignment]
            elif arg in PRESETS:
                setup.track, setup.role = "loop", arg
            elif arg in EXERCISE_ARGS:
                setup.track, setup.exercises = "technical", EXERCISE_ARGS[arg]
            elif arg.isdigit() and int(arg) in LENGTHS:
                setup.length = int(arg)
            else:
                ctx.say(
                    f"I didn't understand {arg[:30]!r}. Try /mock, or for example /mock technical medium 5 "
                    "(/mock exercises medium 5 for SQL and Python exercises that are run)."
                )
                return
        if st.paused is not None:  # with or without arguments: a new round must not lose it silently
            p = st.paused
            seq = st.next_seq()
            st.mode, st.setup = "setup", setup  # what was asked for, kept for "New round"
            ctx.say(
                f"You have a paused {TRACK_LABELS[p.track].lower()} round at question "
                f"{min(p.slot + 1, p.length)}/{p.length}. Resume it, or start a new one?",
                [
                    Button("Resume", make_choice("mk", "rs", "resume", seq)),
                    Button("New round", make_choice("mk", "rs", "new", seq)),
                ],
            )
            return
        st.mode, st.setup, st.round = "setup", setup, None
        await self._advance_setup(ctx)

    async def _advance_setup(self, ctx: Ctx) -> None:
        setup = ctx.state.setup
        assert setup is not None
        if setup.track is None:
            setup.step = "track"
        elif setup.track == "loop" and setup.role is None:
            setup.step = "role"
        elif setup.track == "loop":
            await self._start(ctx, setup, 0)
            return
        elif setup.difficulty is None:
            setup.step = "difficulty"
        elif setup.track == "design":
            await self._start(ctx, setup, 1)
            return
        elif setup.length is not None:
            await self._start(ctx, setup, setup.length)
            return
        else:
            setup.step = "length"
        self.ask(ctx)

    def ask(self, ctx: Ctx, note: str = "") -> None:
        st = ctx.state
        setup = st.setup or SetupState()
        seq = st.next_seq()
        prefix = f"{note}\n" if note else ""
        if setup.step == "track":
            ctx.say(
                prefix + "What kind of round would you like?",
                [Button(TRACK_LABELS[t], make_choice("mk", "tr", t, seq)) for t in TRACKS],
            )
        elif setup.step == "role":
            ctx.say(
                prefix + "Which role and level should the loop follow? It sets the topics and difficulty.",
                [Button(p.label, make_choice("mk", "pr", key, seq)) for key, p in PRESETS.items()],
            )
        elif setup.step == "difficulty":
            choices = DIFFICULTIES if setup.track != "design" else ("medium", "hard", "match")
            ctx.say(
                prefix + "Which difficulty?",
                [Button(texts.DIFFICULTY_LABELS[d], make_choice("mk", "df", d, seq)) for d in choices],
            )
        else:
            ctx.say(
                prefix + "How many questions?",
                [Button(str(n), make_choice("mk", "ln", n, seq)) for n in LENGTHS],
            )

    async def choice(self, ctx: Ctx, action: str, value: str) -> None:
        if action == "go":  # the Start button
            await self.mock(ctx, ())
            return
        st = ctx.state
        if st.mode != "setup" or st.setup is None:
            await self.stale(ctx)
            return
        setup = st.setup
        if action == "rs" and value in ("resume", "new") and st.paused is not None:
            if value == "resume":
                rnd, st.paused = st.paused, None
                st.mode, st.setup, st.round = "round", None, rnd
                rnd.question_started = ctx.now
                ctx.records.append(round_record(rnd, "active", ctx.now))
                self.flow.show_current(ctx, "Welcome back! Picking up where we left off.")
            else:
                old, st.paused = st.paused, None
                ctx.records.append(round_record(old, "stopped", ctx.now))  # still in /history
                st.setup = setup
                await self._advance_setup(ctx)
            return
        if action == "tr" and value in TRACKS and setup.step == "track":
            setup.track = value  # type: ignore[assignment]
        elif action == "pr" and value in PRESETS and setup.step == "role":
            setup.role = value
        elif action == "df" and value in DIFFICULTIES and setup.step == "difficulty":
            setup.difficulty = value  # type: ignore[assignment]
        elif action == "ln" and value.isdigit() and int(value) in LENGTHS and setup.step == "length":
            await self._start(ctx, setup, int(value))
            return
        else:
            await self.stale(ctx)
            return
        await self._advance_setup(ctx)

    async def stale(self, ctx: Ctx) -> None:
        """A button from an earlier message: show where we are instead of acting on it."""
        if ctx.state.mode == "round":
            self.flow.show_current(ctx, "That button belongs to an earlier message. Here is where we are:")
        elif ctx.state.mode == "setup":
            self.ask(ctx, "That button belongs to an earlier message.")
        else:
            ctx.say("That button belongs to an earlier message. " + ctx.where(), [start_button(ctx)])

    def _plan(self, setup: SetupState, length: int) -> tuple[list[Slot], str | None]:
        track = setup.track or "technical"
        diff = setup.difficulty or "medium"
        if track == "loop":
            preset = PRESETS[setup.role or "mle-j"]
            plan: list[Slot] = []
            for label, kind, count in preset.parts():
                level = preset.difficulty
                if label == "Phone screen":
                    level = "medium" if preset.seniority == "senior" else "easy"
                sections = list(preset.sections) if label == "Technical deep dive" else []
                plan += [Slot(kind=kind, label=label, difficulty=level, sections=sections)] * count  # type: ignore[arg-type]
            return plan, preset.key
        if track == "design":
            return [Slot(kind="design", label="System design", difficulty=diff)], None
        if track == "mixed":
            kinds = ["behavioral" if i % 3 == 2 else "technical" for i in range(length)]
        else:
            kinds = [track] * length
        if track == "technical" and setup.exercises:
            turns = setup.exercises
            return [
                Slot(kind="technical", difficulty=diff, exercise=turns[i % len(turns)]) for i in range(length)
            ], None
        return [Slot(kind=k, difficulty=diff) for k in kinds], None  # type: ignore[arg-type]

    async def _start(self, ctx: Ctx, setup: SetupState, length: int) -> None:
        st = ctx.state
        plan, preset = self._plan(setup, length)
        difficulty = setup.difficulty or ("medium" if setup.track != "loop" else PRESETS[preset or "mle-j"].difficulty)
        track: Track = setup.track or "technical"
        profile = await ctx.profile() if difficulty == "match" else None
        level = level_from_score(profile.recent_scores.get(track)) if profile else difficulty
        rnd = RoundState(
            round_id=self.new_id(),
            track=track,
            difficulty=difficulty,  # type: ignore[arg-type]
            preset=preset,
            plan=plan,
            started=ctx.now,
            question_started=ctx.now,
            level=level,
        )
        st.mode, st.setup, st.round = "round", None, rnd
        ctx.records.append(round_record(rnd, "active", ctx.now))
        ctx.say(self._intro(ctx, rnd))
        await self.flow.ask_current(ctx, rnd)

    def _intro(self, ctx: Ctx, rnd: RoundState) -> str:
        minutes = sum(KIND_MINUTES[s.kind] for s in rnd.plan)
        name = ctx.event.display_name.strip()[:40] or "there"
        what = {
            "technical": "technical questions",
            "behavioral": "behavioral questions",
            "mixed": "technical and behavioral questions",
            "design": "an ML system design scenario in four stages",
            "quiz": "multiple-choice quiz questions",
            "loop": "a full interview loop",
        }[rnd.track]
        languages = list(dict.fromkeys(s.exercise for s in rnd.plan if s.exercise))
        if languages:
            what = " and ".join("SQL" if x == "sql" else "Python" for x in languages) + " exercises (your code is run)"
        level = texts.DIFFICULTY_LABELS[rnd.difficulty].lower()
        if rnd.track == "loop" and rnd.preset:
            preset = PRESETS[rnd.preset]
            parts = " → ".join(dict.fromkeys(s.label for s in rnd.plan))
            article = "an" if preset.label[:1].lower() in "aeiou" or preset.label.startswith("ML") else "a"
            head = (
                f"Hi {name}, I'm your interviewer today. This is a full loop for {article} {preset.label} role: {parts}. "
                f"{len(rnd.plan)} questions, about {minutes:.0f} minutes; you can /pause and come back another day."
            )
            if not preset.with_design:
                head += " System design is left out for junior loops."
        elif rnd.track == "design":
            head = f"Hi {name}, I'm your interviewer today. We'll work through {what}, about {minutes:.0f} minutes."
        else:
            count = texts.plural(len(rnd.plan), "question")
            pace = "pitched to your level as we go" if rnd.difficulty == "match" else f"at {level} level"
            head = (
                f"Hi {name}, I'm your interviewer today. We'll do {count}: {what} {pace}, about {minutes:.0f} minutes."
            )
        if rnd.track == "quiz":
            return head + " Pick an option for each; I'll tell you right away whether it's right."
        return (
            head + "\nAnswer in as many messages as you like, then press Done or send /done. "
            "/hint, /skip, /repeat, /time, /pause and /stop work at any time; /help lists them."
        )

    async def cancel(self, ctx: Ctx) -> None:
        ctx.state.mode, ctx.state.setup = "idle", None
        ctx.say("Cancelled. Send /mock whenever you want to start.")
