"""`mock-interviewer`: the one console entry point, with a subcommand per job."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Settings, load_settings
from questions.loader import SHIPPED_DIR, Bank, BankInvalid

if TYPE_CHECKING:
    from bot.grading.verdict import Grader, Rubric
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
    sub.add_parser("doctor", help="check the configuration the way the bot will use it; exit 0 when all works")
    report = sub.add_parser("report", help="usage figures from the database, for operators")
    report.add_argument("--days", type=int, default=14)

    disputes = sub.add_parser("disputes", help="grades candidates disputed, for rubric authors")
    d_sub = disputes.add_subparsers(dest="d_command", required=True)
    d_export = d_sub.add_parser("export", help="write every dispute with its answer and verdict as YAML")
    d_export.add_argument("--out", type=Path, default=Path("disputes.yaml"), help="file to write (- for stdout)")

    grade = sub.add_parser("grade", help="grade an answer read from standard input; prints JSON")
    grade.add_argument("question_id", nargs="?")
    grade.add_argument(
        "--jsonl", action="store_true", help='grade {"id", "answer"} lines from stdin, one verdict per line'
    )
    grade.add_argument("--eval", type=Path, metavar="FILE", help="measure the configured grader on a labelled file")
    grade.add_argument("--stage", type=int, default=0, help="design scenarios: stage index 0-3")
    grade.add_argument("--follow-up", type=int, default=None, help="grade the answer to this follow-up (0-based)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "questions":
            return _questions(args)
        if args.command == "doctor":
            return _doctor()
        settings = load_settings()
        if args.command == "grade":
            if args.eval:
                return asyncio.run(_grade_eval(settings, args.eval))
            if args.jsonl:
                return asyncio.run(_grade_jsonl(settings))
            if not args.question_id:
                print("error: give a question id, or --jsonl, or --eval FILE", file=sys.stderr)
                return 2
            return asyncio.run(_grade(settings, args.question_id, args.stage, args.follow_up))
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command == "chat":
            return asyncio.run(_chat(settings, args.user, args.mock_args))
        if args.command == "run":
            return asyncio.run(_run(settings))
        if args.command == "report":
            return asyncio.run(_report(settings, args.days))
        if args.command == "disputes":
            return _disputes_export(settings, args.out)
    except (ConfigError, BankInvalid) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _doctor() -> int:
    from bot.ops.doctor import report, run_checks, settings_failed
    from storage.ops import database_checks

    try:
        settings = load_settings()
    except ConfigError as exc:
        return settings_failed(exc.problems)
    return report(asyncio.run(run_checks(settings, database_checks)), settings.secrets)


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
    from bot.core.events import CommandIn
    from storage.database import DatabaseConfigError

    setup_logging(settings)
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="replace")  # a stray byte that is not UTF-8 is shown as �, not a crash
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


def _disputes_export(settings: Settings, out: Path) -> int:
    """Disputes grouped by question and point, most disputed first, so authors fix the worst rubric first."""
    from collections import Counter

    import yaml

    disputes = asyncio.run(_load_disputes(settings))
    if disputes is None:
        return 2
    counts = Counter((d["question_id"], d["point"]) for d in disputes)
    disputes.sort(key=lambda d: (-counts[d["question_id"], d["point"]], d["question_id"], d["point"], d["at"]))
    text = yaml.safe_dump({"disputes": disputes}, sort_keys=False, allow_unicode=True, width=100)
    if str(out) == "-":
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"{len(disputes)} disputes on {len({d['question_id'] for d in disputes})} questions written to {out}")
    return 0


async def _load_disputes(settings: Settings) -> list[dict[str, Any]] | None:
    from storage.database import DatabaseConfigError, check_connection, make_engine, session_factory, upgrade
    from storage.userdata import disputes_for_authors

    try:
        engine = make_engine(settings.database_url)
        try:
            await check_connection(engine)
            await upgrade(engine)
            async with session_factory(engine)() as session:
                disputes = await disputes_for_authors(session)
        finally:
            await engine.dispose()
    except DatabaseConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    return disputes


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

    from bot.app import RedactingFilter, serve, setup_logging
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
    except ConfigError:
        raise
    except Exception as exc:  # one clear line, secrets redacted, instead of a traceback that may quote them
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(f"error: could not start: {type(exc).__name__}: {RedactingFilter(settings.secrets).redact(first)}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _rubric(bank: Bank, question_id: str, stage: int, follow_up: int | None) -> Rubric | str:
    """The rubric an answer is graded against, or what is wrong with the request."""
    from bot.grading.bank_rubrics import follow_up_rubric, follow_ups_of, rubric_for
    from questions.schema import BehavioralQuestion, DesignScenario, TechnicalQuestion

    item = bank.get(question_id)
    if not isinstance(item, TechnicalQuestion | BehavioralQuestion | DesignScenario):
        return f"no gradable question with id {question_id!r}"
    if isinstance(item, DesignScenario) and not 0 <= stage < len(item.stages):
        return f"stage must be 0-{len(item.stages) - 1}"
    if follow_up is None:
        return rubric_for(item, stage)
    if not 0 <= follow_up < len(follow_ups_of(item, stage)):
        return f"follow-up must be 0-{len(follow_ups_of(item, stage)) - 1}"
    return follow_up_rubric(item, follow_up, stage)


async def _grade(settings: Settings, question_id: str, stage: int, follow_up: int | None) -> int:
    from bot.configured import load_questions, make_grader
    from bot.grading.behavioral import analyse
    from questions.schema import TechnicalQuestion

    bank = load_questions(settings)
    rubric = _rubric(bank, question_id, stage, follow_up)
    if isinstance(rubric, str):
        print(f"error: {rubric}", file=sys.stderr)
        return 2
    answer = sys.stdin.read()
    grader = make_grader(settings)
    item = bank.get(question_id)
    if isinstance(item, TechnicalQuestion) and (item.sql or item.tests) and follow_up is None:
        print(json.dumps(await _grade_exercise(item, answer, grader), indent=2, ensure_ascii=False))
        return 0
    verdict = await grader.grade(rubric, answer)
    out = verdict.to_json()
    out["question_id"] = question_id
    if rubric.kind == "behavioral":
        report = analyse(answer)
        out["behavioral"] = {
            "star": report.present,
            "i_count": report.i_count,
            "we_count": report.we_count,
            "measurable_result": report.measurable,
            "reflects": report.reflects,
            "red_flags": report.red_flags,
            "words": report.words,
            "score": report.score,
            "notes": report.notes,
        }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


async def _grade_jsonl(settings: Settings) -> int:
    """One verdict per input line; a bad line gets an error object and the rest carry on."""
    from bot.configured import load_questions, make_grader

    bank = load_questions(settings)
    grader = make_grader(settings)
    failed = 0
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            qid, answer = str(item["id"]), str(item["answer"])
            follow_up = item.get("follow_up")
            rubric = _rubric(bank, qid, int(item.get("stage", 0)), None if follow_up is None else int(follow_up))
        except (ValueError, KeyError, TypeError) as exc:
            rubric, qid, answer = f"line {n}: {type(exc).__name__}: {exc}", "", ""
        if isinstance(rubric, str):
            failed += 1
            print(json.dumps({"id": qid or None, "error": rubric}, ensure_ascii=False), flush=True)
            continue
        verdict = await grader.grade(rubric, answer)
        print(json.dumps({"id": qid, **verdict.to_json()}, ensure_ascii=False), flush=True)
    return 1 if failed else 0


async def _grade_eval(settings: Settings, path: Path) -> int:
    """The figures of bench.grading for whatever grader is configured, on the operator's own file."""
    import yaml

    from bot.configured import load_questions, make_grader
    from bot.grading.bank_rubrics import rubric_for
    from bot.grading.evaluation import evaluate
    from bot.grading.verdict import Verdict
    from questions.schema import TechnicalQuestion

    bank = load_questions(settings)
    grader = make_grader(settings)
    try:
        data = yaml.safe_load(await asyncio.to_thread(path.read_text))
        answers = [a for a in data["answers"] if isinstance(bank.get(a["question_id"]), TechnicalQuestion)]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        print(f"error: cannot read labelled answers from {path}: {exc}", file=sys.stderr)
        return 2
    skipped = len(data["answers"]) - len(answers)

    async def grade(qid: str, answer: str) -> Verdict:
        return await grader.grade(rubric_for(bank.technical[qid]), answer)

    prompts = {q.id: q.prompt for q in bank.technical.values()}
    figures, _ = await evaluate(answers, grade, prompts, data.get("points", []))
    print(f"grader: {getattr(grader, 'name', type(grader).__name__)}; {path}")
    print("\n".join(figures.lines()))
    if skipped:
        print(f"  ({skipped} answers skipped: their question ids are not technical questions in this bank)")
    return 0


async def _grade_exercise(item: TechnicalQuestion, answer: str, grader: Grader) -> dict[str, object]:
    """Run the code, then grade the explanation around it (or, when the code cannot run, the whole answer)."""
    from bot.exercises.checking import ExerciseChecker
    from bot.exercises.sandbox import Sandbox, sandbox_config

    checked = await ExerciseChecker(Sandbox(sandbox_config())).check(item, answer, grader)
    return {
        "question_id": item.id,
        "kind": item.kind,
        "score": checked.score,
        "execution": checked.run.to_json(),
        "feedback": checked.run.feedback(),
        "explanation": checked.explanation.to_json() if checked.prose.strip() else None,
    }


if __name__ == "__main__":
    sys.exit(main())
