"""What one engine turn works with: the event, a copy of the state, lazy user data, and the output."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.events import Attachment, Button, Inbound, Poll, Reply
from bot.core.ports import Profile, Record, UserData
from bot.core.state import DialogueState


@dataclass
class Ctx:
    event: Inbound
    state: DialogueState
    data: UserData
    now: datetime
    replies: list[Reply] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    _profile: Profile | None = None
    _seen: frozenset[str] | None = None

    async def profile(self) -> Profile:
        """Loaded on first use: most turns (an answer being typed) never need it."""
        if self._profile is None:
            self._profile = await self.data.profile()
        return self._profile

    async def seen(self) -> frozenset[str]:
        """The questions this user has answered, without the rest of the profile's aggregates."""
        if self._profile is not None:
            return self._profile.seen
        if self._seen is None:
            self._seen = await self.data.seen()
        return self._seen

    def where(self) -> str:
        """Where the conversation stands, as a nudge to end a reply that couldn't act."""
        if self.state.mode == "round":
            return "Type your answer, or /help."
        if self.state.mode == "setup":
            return "Pick one of the options above, or /stop."
        return "Send /mock to start a round, or /help."

    def say(
        self,
        text: str,
        buttons: Iterable[Button] = (),
        *,
        private: bool | None = None,
        title: str | None = None,
        attachment: Attachment | None = None,
        poll: Poll | None = None,
        answer_choice: str | None = None,
        closes: str | None = None,
        forgotten: bool = False,
        starts_quiz: bool = False,
    ) -> None:
        """`private` defaults to True for a member's own event in a group: feedback on their round,
        their stats, their data concern only them. Group-wide messages pass private=False."""
        if private is None:
            private = self.event.chat_kind == "group" and bool(self.event.user_id)
        self.replies.append(
            Reply(text, tuple(buttons), poll, attachment, private, title, answer_choice, closes, forgotten, starts_quiz)
        )
