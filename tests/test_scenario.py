"""One conversation (tests/scenarios/*.yaml) through the console, Telegram and Discord adapters:
the engine says the same on all three, and the platforms differ only in how they draw it."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.console import parse_line, render
from bot.app import build_app, discord_runtime
from bot.core.events import Inbound
from questions.loader import Bank
from tests.conftest import FakeClock
from tests.fake_discord import running_fake_discord
from tests.fake_telegram import running_fake_telegram
from tests.test_discord import TOKEN as DISCORD_TOKEN
from tests.test_discord import settings_for as discord_settings
from tests.test_telegram import TOKEN as TELEGRAM_TOKEN
from tests.test_telegram import start_bot

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))
USER = 5001
Step = dict[str, str]
Seen = list[str]  # per step: what the user saw, text and buttons, whitespace-normalised


def steps_of(path: Path) -> list[Step]:
    steps: list[Step] = yaml.safe_load(path.read_text())["steps"]
    return steps


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"round{next(counter):011d}"


def seen(texts: list[str], buttons: list[str]) -> str:
    return " ".join(" ".join(texts).split()) + " | buttons: " + ", ".join(buttons)


async def run_console(tmp: Path, bank: Bank, steps: list[Step]) -> Seen:
    from bot.config import load_settings

    settings = load_settings({"DATA_DIR": str(tmp), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'c.db'}"}, dotenv=None)
    out: Seen = []
    async with build_app(settings, clock=FakeClock(), bank=bank, new_id=ids()) as app:
        choices: list[tuple[str, str]] = []
        labels: list[str] = []
        for step in steps:
            line = step.get("send") or str(labels.index(step["press"]) + 1)
            event = Inbound("console", "local", "private", "ada", "Ada", None, FakeClock()(), parse_line(line, choices))
            texts: list[str] = []
            buttons: list[str] = []
            for reply in await app.dispatcher.dispatch(event):
                text, reply_choices = render(reply)
                if reply_choices:  # the buttons are drawn as "[1] Done   [2] Hint" below the text
                    text = text[: text.rfind("\n  [1] ")] if "\n  [1] " in text else text
                    labels = [label for label, _ in reply_choices]
                    choices, buttons = reply_choices, buttons + labels
                texts.append(text)
            out.append(seen(texts, buttons))
    return out


async def run_telegram(tmp: Path, bank: Bank, steps: list[Step]) -> Seen:
    out: Seen = []
    async with running_fake_telegram(TELEGRAM_TOKEN) as fake:
        async for bot in start_bot(fake, tmp, bank, FakeClock(), new_id=ids()):
            for step in steps:
                before = len(fake.calls("sendMessage"))
                if "send" in step:
                    fake.message(USER, USER, step["send"])
                else:
                    fake.press(USER, USER, fake.buttons(USER)[step["press"]])
                await fake.wait_for(lambda b=before: len(fake.calls("sendMessage")) > b)  # type: ignore[misc]
                await bot.settle()
                sent = fake.calls("sendMessage")[before:]
                texts = [html.unescape(re.sub(r"<[^>]+>", "", m["text"])) for m in sent]
                buttons = [b["text"] for m in sent if "reply_markup" in m for row in m["reply_markup"]["inline_keyboard"] for b in row]  # fmt: skip
                out.append(seen(texts, buttons))
            assert not fake.rejected
    return out


async def run_discord(tmp: Path, bank: Bank, steps: list[Step]) -> Seen:
    out: Seen = []
    async with running_fake_discord(DISCORD_TOKEN) as fake:
        settings = discord_settings(tmp, fake.url)
        async with build_app(settings, clock=FakeClock(), bank=bank, new_id=ids()) as app:
            adapter, _ = discord_runtime(app, FakeClock())
            await adapter.start(ready_within=20)
            try:
                channel = fake.dm_channel(USER)
                for step in steps:
                    before = set(fake.messages)
                    if "send" in step:
                        fake.dm(USER, step["send"])
                    else:
                        message, custom_id = fake.with_button(channel, USER, step["press"])
                        fake.click(USER, message, custom_id)
                    await fake.wait_for(lambda b=before: len(set(fake.messages) - b) > 0)  # type: ignore[misc]
                    await fake.settle()
                    new = [m for m in fake.visible(channel, USER) if int(m["id"]) not in before]
                    buttons = [b["label"] for m in new for row in m["components"] for b in row["components"]]
                    texts = [re.sub(r"\\([*_~`|>#\\\s-])", r"\1", fake.text(m)) for m in new]  # undo Markdown escapes
                    out.append(seen(texts, [b for b in buttons if b != "✍️ Answer"]))
                assert not fake.rejected
            finally:
                await adapter.stop()
    return out


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
async def test_the_engine_says_the_same_on_every_platform(scenario: Path, tmp_path: Path, bank: Bank) -> None:
    steps = steps_of(scenario)
    results: dict[str, Any] = {}
    for name, run in (("console", run_console), ("telegram", run_telegram), ("discord", run_discord)):
        folder = tmp_path / name
        folder.mkdir()
        results[name] = await run(folder, bank, steps)
    console = results["console"]
    assert len(console) == len(steps) and all(s.split(" | ")[0] for s in console), console
    for i, step in enumerate(steps):
        assert results["telegram"][i] == console[i], (step, results["telegram"][i], console[i])
        assert results["discord"][i] == console[i], (step, results["discord"][i], console[i])
    assert "Question 1/3" in console[1] and "Scorecard" in console[-2]
