"""Platform-neutral messages in and out of the engine; adapters translate to and from these."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

ChatKind = Literal["private", "group"]

# Choice ids travel through platforms as untrusted strings (Telegram callback data is capped at
# 64 bytes, Discord custom ids at 100 characters), so they stay short and have one strict shape:
# a namespace and one to four parts, e.g. "mk:track:technical:7".
_CHOICE_RE = re.compile(r"^[a-z]{2,6}(?::[A-Za-z0-9_.+-]{1,40}){1,4}$")
MAX_CHOICE_BYTES = 60


@dataclass(frozen=True)
class TextIn:
    text: str
    # Set when a form (a Discord modal) delivers the whole answer at once: the choice id of the Done
    # button it stands for, so the engine treats it as "this text, then Done", stale checks included.
    submit: str | None = None


@dataclass(frozen=True)
class CommandIn:
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChoiceIn:
    choice_id: str


@dataclass(frozen=True)
class TickIn:
    job: str
    ref: str = ""


@dataclass(frozen=True)
class PollAnswerIn:
    """A member's answer to a native quiz poll (Telegram) or quiz buttons (Discord)."""

    poll_ref: str
    option: int


Payload = TextIn | CommandIn | ChoiceIn | TickIn | PollAnswerIn


@dataclass(frozen=True)
class Inbound:
    platform: str
    chat_id: str
    chat_kind: ChatKind
    user_id: str
    display_name: str
    message_id: str | None
    timestamp: datetime
    payload: Payload
    thread_id: str | None = None
    is_admin: bool = False  # filled by the adapter for group events; the engine trusts only this
    roles: tuple[str, ...] = ()  # the member's role ids where the platform has roles (Discord servers)
    reachable: bool = True  # the platform can message this user unprompted (not a terminal)


@dataclass(frozen=True)
class Button:
    label: str
    choice_id: str

    def __post_init__(self) -> None:
        if parse_choice(self.choice_id) is None:
            raise ValueError(f"invalid choice id {self.choice_id!r}")


@dataclass(frozen=True)
class Poll:
    question: str
    options: tuple[str, ...]
    correct_option: int
    explanation: str
    open_period: int
    ref: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mime: str

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()
    poll: Poll | None = None
    attachment: Attachment | None = None
    private: bool = False  # in a group, only the addressed user should see it (Discord: ephemeral)
    title: str | None = None  # a card such as a scorecard: Discord draws an embed, others a heading line
    # The Done button's choice id when the reply invites a free-text answer; where typing one is
    # awkward (Discord server channels), the adapter offers a form that submits with this choice.
    answer_choice: str | None = None
    closes: str | None = None  # a channel quiz run this reply ends: platforms lock its answer buttons
    forgotten: bool = False  # the user's data was deleted: an adapter drops what it kept (files it saved)
    starts_quiz: bool = False  # a channel quiz was started: it counts against the group's hourly quiz starts

    @property
    def full_text(self) -> str:
        """Title and text as one message, for platforms without cards."""
        return f"{self.title}\n{self.text}" if self.title else self.text


def make_choice(namespace: str, *parts: str | int) -> str:
    choice = ":".join([namespace, *(str(p) for p in parts)])
    if parse_choice(choice) is None:
        raise ValueError(f"invalid choice id {choice!r}")
    return choice


def parse_choice(raw: str) -> tuple[str, tuple[str, ...]] | None:
    """Return (namespace, parts) or None for anything malformed or oversized."""
    # The pattern first: it admits ASCII only, so encoding can no longer fail on a lone surrogate.
    if not isinstance(raw, str) or not _CHOICE_RE.fullmatch(raw) or len(raw) > MAX_CHOICE_BYTES:
        return None
    namespace, *parts = raw.split(":")
    return namespace, tuple(parts)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Drop NUL characters and replace lone surrogates (bytes that were not UTF-8) with U+FFFD:
    PostgreSQL refuses both, and SQLite stores them only for every later read to fail."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def clean_event(event: Inbound) -> Inbound:
    """The event with every text field cleaned; applied where events enter the engine."""
    p = event.payload
    payload: Payload
    if isinstance(p, TextIn):
        payload = replace(p, text=clean_text(p.text), submit=clean_text(p.submit) if p.submit else p.submit)
    elif isinstance(p, CommandIn):
        payload = CommandIn(clean_text(p.name), tuple(clean_text(a) for a in p.args))
    elif isinstance(p, ChoiceIn):
        payload = ChoiceIn(clean_text(p.choice_id))
    elif isinstance(p, PollAnswerIn):
        payload = replace(p, poll_ref=clean_text(p.poll_ref))
    else:
        payload = p
    return replace(
        event,
        chat_id=clean_text(event.chat_id),
        user_id=clean_text(event.user_id),
        display_name=clean_text(event.display_name),
        message_id=clean_text(event.message_id) if event.message_id else event.message_id,
        thread_id=clean_text(event.thread_id) if event.thread_id else event.thread_id,
        payload=payload,
        roles=tuple(clean_text(r) for r in event.roles),
    )
