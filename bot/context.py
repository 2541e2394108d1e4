"""What one engine turn works with: the event, a copy of the state, lazy user data, and the output."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.events import Button, Inbound, Reply
from bot.ports import Profile, Record, UserData
from bot.state import DialogueState


@dataclass
class Ctx:
    event: Inbound
    state: DialogueState
    data: UserData
    now: datetime
    replies: list[Reply] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    _profile: Profile | None = None

    async def profile(self) -> Profile:
        """Loaded on first use: most turns (an answer being typed) never need it."""
        if self._profile is None:
            self._profile = await self.data.profile()
        return self._profile

    def say(self, text: str, buttons: Iterable[Button] = (), *, private: bool = False) -> None:
        self.replies.append(Reply(text, tuple(buttons), private=private))
