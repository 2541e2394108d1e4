"""The engine's router: `handle(event, state, data) -> Turn`, plain data in and out.

Capabilities register their handlers here (commands, button namespaces, forms, free text,
scheduled jobs); the router knows none of them, only the table. It never touches a platform,
a database or a scheduler: the dispatcher loads and saves state around it, adapters render replies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import ChoiceIn, CommandIn, Inbound, PollAnswerIn, Reply, TextIn, clean_event, parse_choice
from bot.core.ports import Profile, Record, StaticUserData, UserData
from bot.core.state import DialogueState

Args = tuple[str, ...]
When = Callable[[Ctx], bool]
CommandHandler = Callable[[Ctx, Args], Awaitable[None]]
TextHandler = Callable[[Ctx, str], Awaitable[None]]
ChoiceHandler = Callable[[Ctx, str, str], Awaitable[None]]  # (ctx, action, value)
FormHandler = Callable[[Ctx, str], Awaitable[bool]]  # False: the question the form answered has moved on
JobHandler = Callable[[Ctx, str], Awaitable[None]]  # (ctx, ref)
PollHandler = Callable[[Ctx, str, int], Awaitable[None]]  # (ctx, poll ref, option)
StaleHandler = Callable[[Ctx], Awaitable[None]]


@dataclass
class Turn:
    state: DialogueState
    replies: list[Reply]
    records: list[Record] = field(default_factory=list)


@dataclass(frozen=True)
class CommandRoute:
    handler: CommandHandler
    when: When | None = None
    keeps_prompt: bool = False  # leaves a question the bot asked (such as a time zone) open
    needs_history: bool = False  # the profile's round history is loaded for it


@dataclass(frozen=True)
class TextRoute:
    handler: TextHandler
    when: When | None = None


@dataclass(frozen=True)
class ChoiceRoute:
    handler: ChoiceHandler
    any_age: frozenset[str] = frozenset()  # actions valid from any message, not only the latest


R = TypeVar("R", CommandRoute, TextRoute)


class Router:
    """Conditional routes are tried in registration order, then the one unconditional route."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._commands: dict[str, list[CommandRoute]] = {}
        self._deep_links: dict[str, CommandRoute] = {}
        self._texts: list[TextRoute] = []
        self._choices: dict[str, ChoiceRoute] = {}
        self._forms: dict[str, FormHandler] = {}
        self._jobs: dict[str, JobHandler] = {}
        self._poll_answer: PollHandler | None = None
        self._stale: StaleHandler | None = None

    # ------------------------------------------------------------------ registration

    def command(
        self,
        name: str,
        handler: CommandHandler,
        *,
        when: When | None = None,
        keeps_prompt: bool = False,
        needs_history: bool = False,
    ) -> None:
        routes = self._commands.setdefault(name, [])
        if when is None and any(r.when is None for r in routes):
            raise ValueError(f"/{name} already has an unconditional route")
        routes.append(CommandRoute(handler, when, keeps_prompt, needs_history))

    def deep_link(self, payload: str, handler: CommandHandler) -> None:
        """`/start <payload>`, as a Telegram link such as t.me/<bot>?start=daily sends it."""
        self._deep_links[payload] = CommandRoute(handler, keeps_prompt=True)

    def text(self, handler: TextHandler, *, when: When | None = None) -> None:
        if when is None and any(r.when is None for r in self._texts):
            raise ValueError("free text already has an unconditional route")
        self._texts.append(TextRoute(handler, when))

    def choice(self, namespace: str, handler: ChoiceHandler, *, any_age: tuple[str, ...] = ()) -> None:
        if namespace in self._choices:
            raise ValueError(f"choice namespace {namespace!r} is taken")
        self._choices[namespace] = ChoiceRoute(handler, frozenset(any_age))

    def form(self, namespace: str, handler: FormHandler) -> None:
        """A whole answer from a form (a Discord modal) standing for the Done button of `namespace`."""
        self._forms[namespace] = handler

    def job(self, name: str, handler: JobHandler) -> None:
        self._jobs[name] = handler

    def poll_answer(self, handler: PollHandler) -> None:
        self._poll_answer = handler

    def stale(self, handler: StaleHandler) -> None:
        """What to say when a button from an earlier message is pressed."""
        self._stale = handler

    # ------------------------------------------------------------------ routing

    def needs_history(self, event: Inbound) -> bool:
        payload = event.payload
        if not isinstance(payload, CommandIn):
            return False
        return any(r.needs_history for r in self._commands.get(payload.name.lower(), []))

    async def handle(self, event: Inbound, state: DialogueState, data: UserData | Profile) -> Turn:
        event = clean_event(event)
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
            if self._poll_answer is not None:
                await self._poll_answer(ctx, payload.poll_ref, payload.option)
        elif job := self._jobs.get(payload.job):
            await job(ctx, payload.ref)
        return Turn(ctx.state, ctx.replies, ctx.records)

    async def _on_text(self, ctx: Ctx, text: str, submit: str | None) -> None:
        if len(text) > texts.MAX_MESSAGE_CHARS:
            ctx.say(
                f"That message is {len(text):,} characters long; I can take up to {texts.MAX_MESSAGE_CHARS:,} "
                "per message. Please shorten it or send it in parts."
            )
            return
        if not text.strip():
            ctx.say("I received an empty message. " + ctx.where())
            return
        if submit is not None:
            await self._on_form(ctx, text, submit)
            return
        route = _first(self._texts, ctx)
        if route is not None:
            await route.handler(ctx, text)

    async def _on_form(self, ctx: Ctx, text: str, submit: str) -> None:
        """The text, then the Done button the form stands for (stale checks included)."""
        parsed = parse_choice(submit)
        form = self._forms.get(parsed[0]) if parsed else None
        if parsed is None or form is None or parsed[1][0] != "done":
            ctx.say("Sorry, I don't recognise that form. " + ctx.where())
            return
        if parsed[1][-1] == str(ctx.state.seq) and await form(ctx, text):
            return
        kept = text if len(text) <= 1500 else text[:1500] + "…"
        ctx.say(
            "That answer form belongs to a question that has moved on, so I didn't grade it. "
            f"Here is what you wrote, so it isn't lost:\n\n{kept}\n\n" + ctx.where()
        )

    async def _on_command(self, ctx: Ctx, name: str, args: Args) -> None:
        route = self._deep_links.get(args[0].lower()) if name == "start" and args else None
        if route is not None:
            args = ()
        else:
            route = _first(self._commands.get(name, []), ctx)
        if route is None or not route.keeps_prompt:
            ctx.state.awaiting = None  # another command abandons the question the bot asked
        if route is not None:
            await route.handler(ctx, args)
            return
        st = ctx.state
        kept = " Your answer so far is kept." if st.mode == "round" and st.round is not None and st.round.answer else ""
        ctx.say(f"I don't know the command /{name[:32]}. Send /help for the list.{kept}")

    async def _on_choice(self, ctx: Ctx, raw: str) -> None:
        parsed = parse_choice(raw)
        route = self._choices.get(parsed[0]) if parsed else None
        if parsed is None or route is None:
            ctx.say("Sorry, I don't recognise that button. " + ctx.where())
            return
        parts = parsed[1]
        if parts[0] not in route.any_age and parts[-1] != str(ctx.state.seq):
            if self._stale is not None:
                await self._stale(ctx)
            return
        await route.handler(ctx, parts[0], parts[1] if len(parts) > 2 else "")


def _first(routes: list[R], ctx: Ctx) -> R | None:
    conditional = (r for r in routes if r.when is not None and r.when(ctx))
    return next(conditional, None) or next((r for r in routes if r.when is None), None)
