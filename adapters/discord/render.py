"""Engine replies as Discord messages: 2000-character chunks, embeds for cards, buttons, quiz posts.

Every button's custom id is an engine choice id (or one of the two Discord-only kinds below), so
buttons are stateless and keep working after a restart: a dynamic item matches them by pattern.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import discord

from adapters.text import fenced_parts, split_keeping_fences
from bot.core.events import Reply, make_choice, parse_choice

MAX_CONTENT = 2000
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_TITLE = 256
MAX_LABEL = 80
BUTTONS_PER_ROW = 5
MAX_ROWS = 5
ANSWER_MAX = 4000  # a modal's paragraph field holds at most this much
# The shape of every custom id we send (engine choice ids, "ans:" and "pa:" ids alike).
CUSTOM_ID = r"[a-z]{2,6}(?::[A-Za-z0-9_.+-]{1,40}){1,4}"
ANSWER_NS = "ans"  # "ans:<done choice>" opens the answer form for that question
FORM_NS = "form"  # "form:<done choice>" is that form's own custom id
POLL_NS = "pa"  # "pa:<run>:<index>:<option>" answers a channel quiz question


@dataclass
class Outgoing:
    """One Discord message: what `send` and `followup.send` take as keyword arguments."""

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    file: discord.File | None = None
    poll_ref: str | None = None  # a channel quiz question: its message id is recorded with this ref

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.content:
            out["content"] = self.content
        if self.embed is not None:
            out["embed"] = self.embed
        if self.view is not None:
            out["view"] = self.view
        if self.file is not None:
            out["file"] = self.file
        return out


@dataclass
class ButtonSpec:
    label: str
    custom_id: str
    style: discord.ButtonStyle = field(default=discord.ButtonStyle.secondary)


class ChoiceButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID):
    """Any button we sent, matched by its custom id alone: no view has to be kept in memory."""

    def __init__(self, spec: ButtonSpec) -> None:
        super().__init__(discord.ui.Button(label=spec.label, custom_id=spec.custom_id, style=spec.style))
        self.custom_id = spec.custom_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> ChoiceButton:
        label = getattr(item, "label", None) or "…"
        return cls(ButtonSpec(label, match.group(0)))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = getattr(interaction.client, "on_button", None)
        if handler is not None:
            await handler(interaction, self.custom_id)


def view_of(buttons: list[ButtonSpec]) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for i, spec in enumerate(buttons[: BUTTONS_PER_ROW * MAX_ROWS]):
        item = ChoiceButton(ButtonSpec(_label(spec.label), spec.custom_id, spec.style))
        item.row = i // BUTTONS_PER_ROW
        view.add_item(item)
    return view


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def answer_button(done_choice: str) -> ButtonSpec | None:
    """The "Answer" button that opens a form for the question whose Done button is `done_choice`."""
    parsed = parse_choice(done_choice)
    if parsed is None or len(parsed[1]) > 3:
        return None
    return ButtonSpec("✍️ Answer", make_choice(ANSWER_NS, parsed[0], *parsed[1]), discord.ButtonStyle.primary)


def answer_form(done_choice: str) -> discord.ui.Modal:
    modal = discord.ui.Modal(title="Your answer", custom_id=make_choice(FORM_NS, *done_choice.split(":")), timeout=900)
    field_: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        custom_id="answer",
        style=discord.TextStyle.paragraph,
        placeholder="Explain your reasoning as you would out loud: what, why, and when it fails.",
        max_length=ANSWER_MAX,
    )
    modal.add_item(discord.ui.Label(text="Answer", component=field_))
    return modal


def done_choice_of(custom_id: str) -> str | None:
    """The Done choice an "ans:" or "form:" custom id stands for."""
    parsed = parse_choice(custom_id)
    if parsed is None or parsed[0] not in (ANSWER_NS, FORM_NS) or len(parsed[1]) < 2:
        return None
    return ":".join(parsed[1])


def poll_answer(custom_id: str) -> tuple[str, int] | None:
    """(quiz ref, option) from a "pa:" custom id."""
    parsed = parse_choice(custom_id)
    if parsed is None or parsed[0] != POLL_NS or len(parsed[1]) != 3 or not parsed[1][2].isdigit():
        return None
    run, index, option = parsed[1]
    return f"{run}:{index}", int(option)


def render(reply: Reply) -> list[Outgoing]:
    """Where a reply invites a free-text answer, an Answer button opens a form (a modal) for it: in a
    server the bot cannot read typed messages, and in a DM it suits long answers."""
    buttons = [ButtonSpec(b.label, b.choice_id) for b in reply.buttons]
    if reply.poll is not None:
        p = reply.poll
        lines = [f"🧠 **{plain(p.question)}**"]
        lines += [f"{chr(65 + i)}. {plain(o)}" for i, o in enumerate(p.options)]
        lines.append(f"_{p.open_period} s to answer; one answer each._")
        specs = [ButtonSpec(chr(65 + i), f"{POLL_NS}:{p.ref}:{i}") for i in range(len(p.options))]
        return [Outgoing(content="\n".join(lines)[:MAX_CONTENT], view=view_of(specs), poll_ref=p.ref)]
    if reply.answer_choice:
        extra = answer_button(reply.answer_choice)
        if extra is not None:
            buttons.insert(0, extra)
    file = None
    if reply.attachment is not None:
        a = reply.attachment
        file = discord.File(io.BytesIO(a.data), filename=a.filename)
    text = plain(reply.text)
    if reply.title:
        # A card (a scorecard): an embed holds 4096 characters; the rest, if any, follows as messages.
        parts = split_keeping_fences(text, MAX_EMBED_DESCRIPTION)
        embed = discord.Embed(
            title=plain(reply.title)[:MAX_EMBED_TITLE], description=parts[0], colour=discord.Colour.blurple()
        )
        out = [Outgoing(embed=embed)] + [Outgoing(content=c) for c in _chunks("\n\n".join(parts[1:]))]
    else:
        out = [Outgoing(content=c) for c in _chunks(text)] or [Outgoing()]
    out[-1].view = view_of(buttons)
    out[-1].file = file
    if not any(o.content or o.embed or o.view or o.file for o in out):
        return []
    return out


def plain(text: str) -> str:
    """Engine text is plain: formulas such as sum_i x_i or w*x must not turn into Markdown; fenced
    code (a candidate's query, a diff of results) stays a code block, drawn in monospace."""
    return "".join(
        f"```\n{part.replace('```', 'ˋˋˋ')}\n```" if code else discord.utils.escape_markdown(part)
        for code, part in fenced_parts(text)
    )


def _chunks(text: str) -> list[str]:
    return [c for c in split_keeping_fences(text, MAX_CONTENT) if c.strip()] if text.strip() else []
