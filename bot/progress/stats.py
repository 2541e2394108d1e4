"""A user's progress and data: /stats with a chart, /export as files, /forget after a confirmation."""

from __future__ import annotations

import csv
import io
import json
import logging
import zlib
from datetime import datetime

from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Attachment, Button, make_choice
from bot.progress.records import ForgetRecord
from questions.sections import SECTIONS

log = logging.getLogger(__name__)
RATING_NUMBERS = {"again": 1, "hard": 2, "good": 3, "easy": 4}


async def stats(ctx: Ctx) -> None:
    view = await ctx.data.stats()
    answered = sum(n for _, n in view.sections.values())
    lines = [
        f"📊 {texts.plural(answered, 'answer')}, {texts.plural(view.rounds_completed, 'round')} completed, "
        f"{texts.duration(view.seconds_practised)} practised.",
        f"Streak: {texts.plural(view.streak, 'day')} (best {view.best_streak}). "
        f"Review cards: {view.cards}, {view.cards_due} due now.",
    ]
    if view.sections:
        ranked = sorted(view.sections.items(), key=lambda kv: kv[1][0])
        weak = ", ".join(f"{s} {SECTIONS.get(s, '')} ({v:.1f}/4)" for s, (v, _) in ranked[:2])
        strong = ", ".join(f"{s} {SECTIONS.get(s, '')} ({v:.1f}/4)" for s, (v, _) in ranked[::-1][:2])
        lines += [f"Strongest: {strong}", f"Review next: {weak}"]
    else:
        lines.append("No graded answers yet: /mock starts a round, /daily a daily question.")
    text = "\n".join(lines)
    try:
        from bot.progress.charts import render_stats

        png = render_stats(view, ctx.event.display_name)
    except Exception:  # the text summary still answers; the failure is logged, not hidden
        log.exception("stats chart failed; sending text only")
        ctx.say(text)
        return
    ctx.say(text, attachment=Attachment("progress.png", png, "image/png"))


async def export(ctx: Ctx) -> None:
    data = await ctx.data.export()
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()
    ctx.say(
        "Your data: everything stored about you.",
        attachment=Attachment("mock-interviewer-export.json", body, "application/json"),
    )
    ctx.say(
        "Your review log in the FSRS optimizer's format (card_id, review_time in ms, review_rating 1-4).",
        attachment=Attachment("fsrs-review-log.csv", review_log(data.get("answers", [])), "text/csv"),
    )


def card_id(question_id: str) -> int:
    """A stable integer per question, as the optimizer wants one id per card."""
    return zlib.crc32(question_id.encode())


def review_log(answers: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["card_id", "review_time", "review_rating"])
    for a in sorted(answers, key=lambda a: str(a["created_at"])):
        rating = RATING_NUMBERS.get(str(a.get("self_rating") or ""))
        if rating is None:
            continue
        when = datetime.fromisoformat(str(a["created_at"]))
        writer.writerow([card_id(str(a["question_id"])), int(when.timestamp() * 1000), rating])
    return out.getvalue().encode()


def ask_forget(ctx: Ctx) -> None:
    seq = ctx.state.next_seq()
    ctx.say(
        "This deletes everything stored about you: rounds, answers, grades, review schedule, subscriptions "
        "and settings. It cannot be undone. /export first if you want a copy.",
        [
            Button("Yes, delete everything", make_choice("fg", "yes", seq)),
            Button("Cancel", make_choice("fg", "no", seq)),
        ],
    )


def confirm_forget(ctx: Ctx, answer: str) -> None:
    if answer != "yes":
        ctx.say("Nothing was deleted.")
        return
    ctx.records.append(ForgetRecord())
    ctx.say("Done: everything stored about you has been deleted. If you write again, you start fresh.")
