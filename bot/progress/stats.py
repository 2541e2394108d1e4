"""/stats: progress by book section, streak and review cards, with a chart."""

from __future__ import annotations

import logging

from bot.core import texts
from bot.core.context import Ctx
from bot.core.events import Attachment
from questions.sections import SECTIONS

log = logging.getLogger(__name__)


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
