"""`mock-interviewer`: the one console entry point, with a subcommand per job."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from questions.loader import SHIPPED_DIR, Bank, BankInvalid

if TYPE_CHECKING:
    from bot.grading.verdict import Grader
    from questions.schema import TechnicalQuestion


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mock-interviewer", description="A mock interviewer for ML jobs.")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="run a mock round in this terminal")
    chat.add_argument("--user", help="whose progress to use (default: your OS user name)")
    chat.add_argument("mock_args", nargs="*", help="optional round choice, e.g. technical medium 3")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations")

    questions = sub.add_parser("questions", help="question bank tools")
    q_sub = questions.add_subparsers(dest="q_command", required=True)
    validate = q_sub.add_parser("validate", help="validate bank files (exit 1 on any error)")
    validate.add_argument("paths", nargs="*", type=Path)
    q_sub.add_parser("stats", help="questions per section and difficulty")
    selfgrade = q_sub.add_parser("selfgrade", help="grade each reference answer against its own rubric")
    selfgrade.add_argument("paths", nargs="*", type=Path)
    selfgrade.add_argument("--below", type=float, default=4.1, help="list only items scoring below this")

    sub.add_parser("run", help="run the bot on every configured platform, with the scheduler")
    report = sub.add_parser("report", help="usage figures from the database, for operators")
    report.add_argument("--days", type=int, default=14)

    grade = sub.add_parser("grade", help="grade an answer read from standard input; prints JSON")
    grade.add_argument("question_id")
    grade.add_argument("--stage", type=int, default=0, help="design scenarios: stage index 0-3")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "questions":
            return _questions(args)
        settings = load_settings()
        if args.command == "grade":
            return asyncio.run(_grade(settings, args.question_id, args.stage))
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command == "chat":
            return asyncio.run(_chat(settings, args.user, args.mock_args))
        if args.command == "run":
            return asyncio.run(_run(settings))
        if args.command == "report":
            return asyncio.run(_report(settings, args.days))
    except (ConfigError, BankInvalid) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _questions(args: argparse.Namespace) -> int:
    from questions.loader import load_bank
    from questions.report import stats_table, validate

    if args.q_command == "validate":
        code, text = validate(args.paths or [SHIPPED_DIR])
        print(text, file=sys.stderr if code else sys.stdout)
        return code
    if args.q_command == "selfgrade":
        return _selfgrade(load_bank(args.paths or [SHIPPED_DIR], check_duplicates=False), args.below)
    print(stats_table(load_bank()))
    return 0


def _selfgrade(bank: Bank, below: float) -> int:
    """Exit 1 when any listed item scores under 2.5: its reference answer misses its own rubric."""
    from bot.grading.selfgrade import self_grades

    grades = self_grades(bank)
    for g in grades:
        if g.score < below:
            missed = "; ".join(p[:60] for p in g.missed) or "-"
            print(f"{g.score:4.1f}  {g.item_id:<44} missed: {missed}  {' '.join(g.flags)}")
    if grades:
        print(f"{len(grades)} rubrics, mean {sum(g.score for g in grades) / len(grades):.2f}", file=sys.stderr)
    return 1 if any(g.score < 2.5 for g in grades) else 0


async def _db_upgrade(settings: Settings) -> int:
    from storage.database import DatabaseConfigError, check_connection, make_engine, upgrade

    try:
        engine = make_engine(settings.database_url)
        try:
            await check_connection(engine)
            await upgrade(engine)
        finally:
            await engine.dispose()
    except DatabaseConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("database is up to date")
    return 0


async def _chat(settings: Settings, user: str | None, mock_args: list[str]) -> int:
    from adapters.console import run_console
    from bot.app import build_app, setup_logging, utc_now
    from bot.events import CommandIn
    from storage.database import DatabaseConfigError

    setup_logging(settings)
    try:
        async with build_app(settings) as app:
            await run_console(
                app.dispatcher.dispatch,
                utc_now,
                user=user,
                first=CommandIn("mock", tuple(mock_args)),
                files=settings.data_dir / "files",
            )
    except DatabaseConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


async def _report(settings: Settings, days: int) -> int:
    from datetime import UTC, datetime

    from storage.database import DatabaseConfigError, check_connection, make_engine, session_factory, upgrade
    from storage.userdata import usage_report

    try:
        engine = make_engine(settings.database_url)
        try:
            await check_connection(engine)
            await upgrade(engine)
            async with session_factory(engine)() as session:
                figures = await usage_report(session, datetime.now(UTC), days)
        finally:
            await engine.dispose()
    except DatabaseConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"users: {figures['users']} ({', '.join(f'{p} {n}' for p, n in figures['identities'].items()) or 'none'})")
    print("subscriptions: " + (", ".join(f"{k} {n}" for k, n in sorted(figures["subscriptions"].items())) or "none"))
    print(f"rounds started per day, last {days} days:")
    for day, n in figures["rounds_per_day"] or [("(none)", 0)]:
        print(f"  {day}  {n}")
    print("outbox: " + (", ".join(f"{s} {n}" for s, n in sorted(figures["outbox"].items())) or "empty"))
    print("delivery failures:" + ("" if figures["failures"] else " none"))
    for platform, error, n in figures["failures"]:
        print(f"  {n:5}  {platform}: {error[:100]}")
    return 0


async def _run(settings: Settings) -> int:
    import signal

    from bot.app import serve, setup_logging
    from storage.database import DatabaseConfigError

    setup_logging(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(settings, stop)
    except DatabaseConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


async def _grade(settings: Settings, question_id: str, stage: int) -> int:
    from bot.app import load_questions, make_grader
    from bot.grading.behavioral import analyse
    from bot.grading.rubric import RubricGrader
    from bot.rubrics import rubric_for
    from questions.schema import BehavioralQuestion, DesignScenario, TechnicalQuestion

    bank = load_questions(settings)
    item = bank.get(question_id)
    if not isinstance(item, TechnicalQuestion | BehavioralQuestion | DesignScenario):
        print(f"error: no gradable question with id {question_id!r}", file=sys.stderr)
        return 2
    if isinstance(item, DesignScenario) and not 0 <= stage < len(item.stages):
        print(f"error: --stage must be 0-{len(item.stages) - 1}", file=sys.stderr)
        return 2
    answer = sys.stdin.read()
    grader = make_grader(settings) or RubricGrader()
    if isinstance(item, TechnicalQuestion) and (item.sql or item.tests):
        print(json.dumps(await _grade_exercise(item, answer, grader), indent=2, ensure_ascii=False))
        return 0
    verdict = await grader.grade(rubric_for(item, stage), answer)
    out = verdict.to_json()
    out["question_id"] = question_id
    if isinstance(item, BehavioralQuestion):
        report = analyse(answer)
        out["behavioral"] = {
            "star": report.present,
            "i_count": report.i_count,
            "we_count": report.we_count,
            "measurable_result": report.measurable,
            "words": report.words,
            "score": report.score,
            "notes": report.notes,
        }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


async def _grade_exercise(item: TechnicalQuestion, answer: str, grader: Grader) -> dict[str, object]:
    """Run the code, then grade the explanation around it (or, when the code cannot run, the whole answer)."""
    from bot.exercises.answer import split_answer
    from bot.exercises.python_check import check_python
    from bot.exercises.sandbox import Sandbox, sandbox_config
    from bot.exercises.scoring import exercise_score
    from bot.exercises.sql_check import check_sql
    from bot.rubrics import rubric_for

    if item.sql is not None:
        result, language = await check_sql(item, answer), "sql"
    else:
        result, language = await check_python(item, answer, Sandbox(sandbox_config())), "python"
    graded = split_answer(answer, language).explanation if result.executed else answer
    verdict = await grader.grade(rubric_for(item), graded) if graded.strip() else None
    return {
        "question_id": item.id,
        "kind": item.kind,
        "score": exercise_score(result, verdict.score if verdict else 0.0),
        "execution": result.to_json(),
        "feedback": result.feedback(),
        "explanation": verdict.to_json() if verdict else None,
    }


if __name__ == "__main__":
    sys.exit(main())
