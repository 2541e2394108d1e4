"""Code in chat: an exercise in a round is run and graded, and code blocks render in monospace."""

from __future__ import annotations

import discord

from adapters.discord.render import plain
from adapters.telegram.render import MAX_TEXT, message_chunks
from adapters.text import fenced_parts, split_keeping_fences
from bot.core.events import Reply
from bot.engine import Engine
from bot.exercises.checking import ExerciseChecker
from bot.exercises.sandbox import Sandbox, SandboxConfig
from questions.loader import SHIPPED_DIR, Bank, load_bank
from tests.conftest import FIXTURE_BANK, Conversation, FakeClock, cmd, text
from tests.test_exercise_grading import SQL_ANSWER, SQL_FILE, SQL_SHORTCUT


def sql_only_engine(clock: FakeClock) -> Engine:
    shipped = load_bank([SQL_FILE], check_duplicates=False)
    bank = Bank(technical={"sql-orders-per-customer": shipped.technical["sql-orders-per-customer"]})
    return Engine(bank, clock, exercises=ExerciseChecker(Sandbox(SandboxConfig(mode="off"))))


async def test_an_sql_exercise_in_a_round_is_run_and_scored_by_its_result(clock: FakeClock) -> None:
    conv = Conversation(sql_only_engine(clock))
    await conv.send(cmd("mock", "technical", "easy", "3"))
    assert conv.state.round is not None and conv.state.round.current_id == "sql-orders-per-customer"
    await conv.send(text(SQL_SHORTCUT))
    await conv.send(cmd("done"))
    assert "Your code was run." in conv.text and "✗ hidden data" in conv.text and "```" in conv.text
    result = conv.state.round.results[-1]  # type: ignore[union-attr]
    assert result.score <= 1.5  # works on the visible rows only: the hidden fixture catches the shortcut


async def test_a_correct_query_scores_high(clock: FakeClock) -> None:
    conv = Conversation(sql_only_engine(clock))
    await conv.send(cmd("mock", "technical", "easy", "3"))
    await conv.send(text(SQL_ANSWER))
    await conv.send(cmd("done"))
    result = conv.state.round.results[-1]  # type: ignore[union-attr]
    assert "✓ visible data" in conv.text and "✓ hidden data" in conv.text and result.score >= 3.5


def test_fenced_parts_and_splits_keep_code_apart() -> None:
    assert fenced_parts("see\n```sql\nSELECT 1\n```\ndone") == [(False, "see\n"), (True, "SELECT 1"), (False, "\ndone")]
    chunks = split_keeping_fences("intro\n\n```\n" + "\n".join(f"row {i}" for i in range(800)) + "\n```", 1000)
    assert len(chunks) > 1 and all(c.count("```") % 2 == 0 for c in chunks)


def test_telegram_draws_code_in_pre_and_escapes_it() -> None:
    [html] = message_chunks(Reply("a < b\n```\nSELECT * FROM t WHERE x < 2\n```"))
    assert html == "a &lt; b\n<pre>SELECT * FROM t WHERE x &lt; 2</pre>"
    long = message_chunks(Reply("```\n" + "\n".join("x" * 50 for _ in range(200)) + "\n```"))
    assert len(long) > 1 and all(c.startswith("<pre>") and c.endswith("</pre>") for c in long)
    assert all(len(c) <= MAX_TEXT for c in long)


def test_discord_keeps_code_blocks_and_escapes_prose() -> None:
    out = plain("w*x and sum_i\n```\nSELECT a*b FROM t\n```")
    assert out.startswith(discord.utils.escape_markdown("w*x and sum_i\n"))
    assert "```\nSELECT a*b FROM t\n```" in out


async def test_the_rows_that_differ_render_in_monospace_on_telegram_and_discord(clock: FakeClock) -> None:
    conv = Conversation(sql_only_engine(clock))
    await conv.send(cmd("mock", "technical", "easy", "3"))
    await conv.send(text("```sql\nSELECT customer_id, 7, 1.5 FROM customers\n```"))
    await conv.send(cmd("done"))
    [graded] = [r for r in conv.replies if "Your code was run." in r.text]
    assert "Wrong values" in graded.text  # a diff on the visible data comes back
    html = "\n".join(message_chunks(graded))
    assert "<pre>\u2717 visible data" in html and "\n<pre>         | customer_id | order_count" in html
    assert "text\n" not in html and "```" not in html  # before, the tables' fences sat inside the cases' block
    discord_text = plain(graded.text)
    assert "```\n         | customer_id | order_count | total_amount\n" in discord_text
    assert "\\|" not in discord_text  # no table cell was markdown-escaped as prose


def exercises_engine(clock: FakeClock) -> Engine:
    """SQL and Python exercises among plain technical questions."""
    files = [SHIPPED_DIR / "technical" / f for f in ("6.3-sql-exercises.yaml", "6.1-coding-exercises.yaml")]
    bank = load_bank([FIXTURE_BANK, *files], check_duplicates=False)
    assert any(q.sql is None and q.tests is None for q in bank.technical.values())
    return Engine(bank, clock, exercises=ExerciseChecker(Sandbox(SandboxConfig(mode="off"))))


async def test_mock_exercises_starts_a_round_of_sql_and_python_exercises_in_turn(clock: FakeClock) -> None:
    conv = Conversation(exercises_engine(clock))
    await conv.send(cmd("mock", "exercises", "medium", "5"))
    assert "SQL and Python exercises (your code is run)" in conv.text
    for _ in range(4):
        await conv.send(cmd("skip"))
    rnd = conv.state.round
    assert rnd is not None and len(rnd.question_ids) == 5
    technical = conv.engine.bank.technical
    assert [technical[q].sql is not None for q in rnd.question_ids] == [True, False, True, False, True]
    assert all(technical[q].tests is not None for q in rnd.question_ids[1::2])


async def test_mock_sql_keeps_to_sql_and_setup_buttons_keep_the_choice(clock: FakeClock) -> None:
    conv = Conversation(exercises_engine(clock))
    await conv.send(cmd("mock", "sql", "easy"))  # the length is still to choose, by button
    await conv.press("3")
    rnd = conv.state.round
    assert rnd is not None and [s.exercise for s in rnd.plan] == ["sql", "sql", "sql"]
    assert conv.engine.bank.technical[rnd.question_ids[0]].sql is not None
