"""Every input a user can send gets a sensible reply; nothing escapes as an exception."""

from __future__ import annotations

import pytest

from bot.core.events import Button, ChoiceIn, clean_text, make_choice, parse_choice
from bot.engine import Engine
from tests.conftest import Conversation, cmd, text

ODD_TEXTS = [
    "",
    "   \n\t  ",
    "🤖🔥💡 " * 20,
    "שלום, זו תשובה בעברית עם מילים רבות",
    "مرحبا، هذه إجابة باللغة العربية",
    "Overfitting — 过拟合 — переобучение — 過学習",
    "\u202e reversed \u202c text",
    "a\x00b",
    "x \udcff\udcfe",  # bytes that were not UTF-8, as Python reads them from a pipe
]


@pytest.mark.parametrize("phase", ["idle", "setup", "answer", "rate"])
@pytest.mark.parametrize("message", ODD_TEXTS)
async def test_odd_text_in_every_phase(engine: Engine, phase: str, message: str) -> None:
    conv = await _in_phase(engine, phase)
    before = conv.state.model_copy(deep=True)
    replies = await conv.send(text(message))
    assert replies and all(r.text.strip() for r in replies)
    if not message.strip():
        assert "empty" in replies[0].text
        assert conv.state.round == before.round
    elif phase == "answer":
        assert conv.state.round is not None and conv.state.round.answer[-1] == clean_text(message).strip()
        conv.state.round.answer[-1].encode("utf-8")  # storable: no NUL, no lone surrogate


async def test_huge_message_is_refused_and_state_kept(engine: Engine) -> None:
    conv = await _in_phase(engine, "answer")
    await conv.send(text("short start"))
    replies = await conv.send(text("x" * 100_000))
    assert "100,000 characters" in replies[0].text
    assert conv.state.round is not None and conv.state.round.answer == ["short start"]


async def test_answer_total_is_capped(engine: Engine) -> None:
    conv = await _in_phase(engine, "answer")
    for _ in range(2):
        await conv.send(text("y" * 7999))
    replies = await conv.send(text("z" * 7999))
    assert "most I keep" in replies[0].text
    assert conv.state.round is not None and len(conv.state.round.answer) == 2


@pytest.mark.parametrize("name", ["frobnicate", "MOCKX", "a" * 300, "hint2"])
async def test_unknown_commands_mid_answer_keep_the_answer(engine: Engine, name: str) -> None:
    conv = await _in_phase(engine, "answer")
    await conv.send(text("my partial answer"))
    replies = await conv.send(cmd(name))
    assert "don't know the command" in replies[0].text and "kept" in replies[0].text
    assert len(replies[0].text) < 200
    assert conv.state.round is not None and conv.state.round.answer == ["my partial answer"]


@pytest.mark.parametrize("phase", ["idle", "setup", "answer", "rate"])
@pytest.mark.parametrize(
    "forged",
    [
        "",
        "zz:done:1",
        "rd:done",
        "rd:explode:1",
        "mk:tr:astrology:1",
        "qz:99:1",
        "rt:great:1",
        "x" * 500,
        "rd:done:1:2:3:4:5",
        "mk:ln:4:1",
        "💥:1",
        "rd:done:-1",
    ],
)
async def test_forged_choices_get_a_polite_reply(engine: Engine, phase: str, forged: str) -> None:
    conv = await _in_phase(engine, phase)
    before = conv.state.model_copy(deep=True)
    # Forge with the current seq where the shape allows, so only the content is wrong.
    forged = forged.replace(":1", f":{conv.state.seq}", 1) if forged.endswith(":1") else forged
    replies = await conv.send(ChoiceIn(forged))
    assert replies and replies[0].text
    assert conv.state.mode == before.mode
    assert (conv.state.round is None) == (before.round is None)
    if before.round is not None and conv.state.round is not None:
        assert conv.state.round.slot == before.round.slot and conv.state.round.results == before.round.results


async def test_stale_button_is_recognised(engine: Engine) -> None:
    conv = Conversation(engine)
    await conv.send(cmd("mock"))
    old_track_buttons = {b.label: b.choice_id for b in conv.replies[-1].buttons}
    await conv.press("Technical")
    replies = await conv.send(ChoiceIn(old_track_buttons["Behavioral"]))
    assert "earlier message" in replies[0].text
    assert conv.state.setup is not None and conv.state.setup.track == "technical"


async def test_stale_done_button_from_previous_question_does_not_grade_twice(engine: Engine) -> None:
    conv = await _in_phase(engine, "answer")
    await conv.send(text("an answer"))
    done = {b.label: b.choice_id for b in conv.replies[-1].buttons}["Done"]
    await conv.send(ChoiceIn(done))
    results = len(conv.state.round.results)  # type: ignore[union-attr]
    replies = await conv.send(ChoiceIn(done))
    assert "earlier message" in replies[0].text
    assert len(conv.state.round.results) == results  # type: ignore[union-attr]


async def test_round_commands_outside_a_round(engine: Engine) -> None:
    conv = Conversation(engine)
    for name in ("done", "hint", "skip", "repeat", "time", "pause"):
        replies = await conv.send(cmd(name))
        assert "no question open" in replies[0].text


async def test_mock_arguments_are_checked(engine: Engine) -> None:
    conv = Conversation(engine)
    replies = await conv.send(cmd("mock", "astrology"))
    assert "didn't understand" in replies[0].text and conv.state.mode == "idle"


def test_choice_ids_are_short_and_validated() -> None:
    assert parse_choice(make_choice("rd", "done", 12)) == ("rd", ("done", "12"))
    for bad in ["", "RD:done", "rd", "rd:", "rd:a b", "r:done", "rd:" + "x" * 41, "rd:done\n", "rd:done:\udcff"]:
        assert parse_choice(bad) is None, bad
    with pytest.raises(ValueError):
        Button("x", "not a choice")
    with pytest.raises(ValueError):
        make_choice("rd", "x" * 60)


async def _in_phase(engine: Engine, phase: str) -> Conversation:
    conv = Conversation(engine)
    if phase == "idle":
        return conv
    await conv.send(cmd("mock"))
    if phase == "setup":
        return conv
    await conv.press("Technical")
    await conv.press("Medium")
    await conv.press("3")
    if phase == "rate":
        await conv.send(text("Because of overfitting I would add regularization, which reduces variance."))
        await conv.send(cmd("done"))
        if conv.state.round is not None and conv.state.round.phase == "follow_up":
            await conv.press("Skip follow-up")
        assert conv.state.round is not None and conv.state.round.phase == "rate"
    return conv
