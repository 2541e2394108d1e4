"""The console adapter end to end, as real subprocesses of `mock-interviewer chat`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.console import parse_line, render
from bot.core.events import Button, ChoiceIn, CommandIn, Reply, TextIn
from tests.console_driver import ROOT, ConsoleProcess, warm_bank_cache


def finish_question(proc: ConsoleProcess, answer: str) -> str:
    proc.send(answer)
    out = proc.send("/done")
    if "Follow-up" in out:
        out = proc.send("/skip")
    assert "How well did you know this?" in out
    return proc.send("3")  # [3] Good


def test_scripted_three_question_round_prints_scorecard(tmp_path: Path) -> None:
    proc = ConsoleProcess(tmp_path, "technical", "easy", "3")
    out = proc.read_turn()
    assert "I'm your interviewer" in out and "Question 1/3" in out
    for n in (2, 3):
        out = finish_question(
            proc, "I think regularization helps because it reduces variance, so the model generalizes."
        )
        assert f"Question {n}/3" in out
    out = finish_question(proc, "It depends on the data, which I would inspect first.")
    assert ("Scorecard" in out and "Review first" in out) or "Strengths" in out
    code, rest, err = proc.close()
    assert code == 0 and "Bye" in rest
    assert "Traceback" not in err


def test_piped_stdin_ends_cleanly_at_eof(tmp_path: Path) -> None:
    warm_bank_cache(tmp_path)
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "piper", "technical", "medium", "3"],
        input="/skip\n/skip\n/skip\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Skipped") == 3 and "Scorecard" in done.stdout and "Bye" in done.stdout


def test_sigkill_mid_round_resumes_at_same_question(tmp_path: Path) -> None:
    first = ConsoleProcess(tmp_path, "technical", "medium", "3", user="kim")
    first.read_turn()
    out = finish_question(
        first, "Because the gradient vanishes, I would normalise inputs and use residual connections."
    )
    assert "Question 2/3" in out
    question_two = out[out.index("Question 2/3") :].split("\n\n")[1].split("\n  [1]")[0]
    first.send("half of my second answer")
    first.kill()

    second = ConsoleProcess(tmp_path, user="kim")
    out = second.read_turn()
    assert "middle of a round" in out and "Question 2/3" in out
    assert question_two in out
    assert "Your answer so far: 5 words" in out
    out = second.send("/stop")
    assert "stopped after 2 answers" not in out  # the unfinished answer is not graded on stop
    assert "stopped after 1 answer" in out
    code, _, err = second.close()
    assert code == 0 and "Traceback" not in err


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@127.0.0.1/x"}, "unsupported database"),
        ({"DATABASE_URL": "postgresql+asyncpg://nobody:secretpw@127.0.0.1:1/none"}, "cannot connect"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_configuration_is_one_clear_error(tmp_path: Path, env: dict[str, str], needle: str) -> None:
    warm_bank_cache(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        input="",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DATA_DIR": str(tmp_path), **env},
        timeout=60,
    )
    assert done.returncode == 2
    assert needle in done.stderr and "Traceback" not in done.stderr
    assert "secretpw" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.strip()]) <= 2


def test_unwritable_data_folder_is_one_clear_error(tmp_path: Path) -> None:
    """Reported before the bank is loaded (seconds) or checked: a broken extra pack does not hide it."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "broken.yaml").write_text("bank: technical\nquestions: [{id: Bad_Id}]\n")
    env = {**os.environ, "DATA_DIR": str(blocker / "data"), "EXTRA_BANK_DIRS": str(pack)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        input="",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: data folder") and "not writable" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_console_parsing_and_rendering() -> None:
    buttons = [("Done", "rd:done:1"), ("Hint", "rd:hint:1")]
    assert parse_line("2\n", buttons) == ChoiceIn("rd:hint:1")
    assert parse_line("3\n", buttons) == TextIn("3")
    assert parse_line("hint\n", buttons) == ChoiceIn("rd:hint:1")  # a label works as well as a number
    assert parse_line("b\n", [("A", "qz:0:1"), ("B", "qz:1:1")]) == ChoiceIn("qz:1:1")  # quiz letters too
    assert parse_line("/mock technical 3\n", buttons) == CommandIn("mock", ("technical", "3"))
    assert parse_line("/ not a command\n", buttons) == TextIn("/ not a command")
    text, choices = render(Reply("Pick", (Button("Done", "rd:done:1"), Button("Hint", "rd:hint:1"))))
    assert "[1] Done" in text and "[2] Hint" in text and choices == buttons
    many = render(Reply("Days", tuple(Button(f"Day {i}", f"dl:d:{i}:1") for i in range(21))))[0]
    assert max(len(line) for line in many.splitlines()) <= 80  # laid out in rows


def test_console_saves_files_it_cannot_show(tmp_path: Path) -> None:
    proc = ConsoleProcess(tmp_path, "technical", "easy", "3", user="filer")
    proc.read_turn()
    proc.send("/skip")
    out = proc.send("/stats")
    assert "saved progress.png" in out
    out = proc.send("/export")
    assert "saved mock-interviewer-export.json" in out and "saved fsrs-review-log.csv" in out
    code, _, err = proc.close()
    assert code == 0, err
    assert (tmp_path / "files" / "filer" / "progress.png").read_bytes()[:4] == b"\x89PNG"
    assert b'"display_name": "filer"' in (tmp_path / "files" / "filer" / "mock-interviewer-export.json").read_bytes()


def test_run_without_a_platform_token_explains_itself(tmp_path: Path) -> None:
    warm_bank_cache(tmp_path)
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("TELEGRAM_BOT_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert done.returncode == 2
    assert "no chat platform configured" in done.stderr and "Traceback" not in done.stderr


async def test_a_pasted_code_block_is_one_message() -> None:
    import io
    from datetime import UTC, datetime

    from adapters.console import PlainScreen, run_console
    from bot.core.events import Inbound

    seen: list[Inbound] = []

    async def dispatch(event: Inbound) -> list[Reply]:
        seen.append(event)
        return [Reply("ok")]

    pasted = "```sql\nSELECT a,\n       b\nFROM t\n```\n/done\n"
    out = io.StringIO()
    screen = PlainScreen(io.StringIO(pasted), out)
    await run_console(dispatch, lambda: datetime(2026, 1, 1, tzinfo=UTC), user="u", screen=screen)
    payloads = [e.payload for e in seen[1:]]
    assert payloads == [TextIn("```sql\nSELECT a,\n       b\nFROM t\n```"), CommandIn("done", ())]


def test_daily_in_a_terminal_explains_itself_and_sends_one_now(tmp_path: Path) -> None:
    proc = ConsoleProcess(tmp_path, "technical", "easy", "3", user="daily")
    proc.read_turn()
    proc.send("/pause")
    out = proc.send("/daily")
    assert "direct message on Telegram or Discord" in out and "Send one now" in out
    out = proc.send("send one now")  # a button's label works as well as its number
    assert "Daily question" in out
    assert proc.close()[0] == 0


def test_bytes_that_are_not_utf8_are_answered_and_survive_a_restart(tmp_path: Path) -> None:
    warm_bank_cache(tmp_path)
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    for _ in range(2):  # the second run reads back what the first one stored
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "chat", "--user", "bytes", "technical", "medium", "3"],
            input=b"x \xff\xfe\x00\n/done\n",
            capture_output=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()
        assert b"Bye" in done.stdout


def test_a_terminal_draws_scores_as_a_table_ticks_in_colour_and_cards_framed() -> None:
    from rich.console import Console

    from adapters.terminal import rich_reply
    from bot.core.events import Button

    card = Reply(
        "Overall: 2.4/4 over 3 answers\n\nBy topic:\n  7.3 Objective functions, metrics and evaluation: 3.5/4 (2)\n"
        "  5.2.1 Probability: 0.5/4 (1)\nGaps: 5.2.1 Probability\n✓ Precision is TP / (TP + FP)\n"
        "✗ You said: “recall ignores false negatives”. It is TP / (TP + FN).\n```\nSELECT 1\n```",
        buttons=(Button("Start a mock round", "menu:start"),),
        title="📋 Scorecard",
    )
    console = Console(record=True, width=70, color_system="truecolor")
    console.print(rich_reply(card, None))
    text = console.export_text(clear=False)
    assert "📋 Scorecard" in text.splitlines()[0] and text.splitlines()[0].startswith("╭")  # framed, titled
    rows = [line for line in text.splitlines() if "/4" in line and ("7.3" in line or "5.2.1 Prob" in line)]
    assert len(rows) == 2 and rows[0].index("3.5/4") == rows[1].index("0.5/4")  # one column of scores
    styled = console.export_html(inline_styles=True)
    assert "color: #008000" in styled and "color: #800000" in styled  # green tick line, red cross line
    assert "[1]" in text and "Start a mock round" in text and "SELECT 1" in text
