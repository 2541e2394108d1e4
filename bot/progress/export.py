"""/export: everything stored about a user as JSON, and their review log in the FSRS optimizer's format."""

from __future__ import annotations

import csv
import io
import json
import zlib
from datetime import datetime

from bot.core.context import Ctx
from bot.core.events import Attachment

RATING_NUMBERS = {"again": 1, "hard": 2, "good": 3, "easy": 4}


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
    reviews = []
    for a in answers:
        rating = RATING_NUMBERS.get(str(a.get("self_rating") or ""))
        if rating is not None:  # a review happens when the user rates (a skipped daily question rates itself)
            when = datetime.fromisoformat(str(a.get("rated_at") or a["created_at"]))
            reviews.append((int(when.timestamp() * 1000), card_id(str(a["question_id"])), rating))
    for ms, card, rating in sorted(reviews):
        writer.writerow([card, ms, rating])
    return out.getvalue().encode()
