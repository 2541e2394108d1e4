"""/history: the user's recent rounds, each with its score, signal and what to review first."""

from __future__ import annotations

from bot.core.context import Ctx
from bot.rounds.flow import start_button


async def history(ctx: Ctx) -> None:
    rounds = (await ctx.profile()).history
    if not rounds:
        ctx.say("No finished rounds yet. Send /mock to start one.", [start_button(ctx)])
        return
    lines = ["Your recent rounds:"]
    for r in rounds:
        card = r.get("scorecard") or {}
        if r["track"] == "daily":
            mean = r.get("mean")
            lines.append(
                f"• {r['started'][:10]} daily question: " + (f"{mean:.1f}/4" if mean is not None else "skipped")
            )
            continue
        overall = f"{card['overall']:.1f}/4" if "overall" in card else "no graded answers"
        signal = f", {card['signal']}" if card.get("signal") else ""
        weakest = card.get("review") or []
        review = f"; review {weakest[0]['section']} {weakest[0]['title']}" if weakest else ""
        lines.append(f"• {r['started'][:10]} {r['track']} ({r['status']}): {overall}{signal}{review}")
    ctx.say("\n".join(lines))
