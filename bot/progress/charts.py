"""The /stats chart: mastery per book section and the score trend, as a PNG (matplotlib, Agg)."""

from __future__ import annotations

import io
from datetime import date

from bot.progress.records import StatsView
from questions.sections import SECTIONS


def render_stats(stats: StatsView, name: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, (bars, trend) = plt.subplots(1, 2, figsize=(11, 5.5), dpi=100, gridspec_kw={"width_ratios": [1.1, 1]})
    try:
        fig.suptitle(f"Progress of {name[:40]}", fontsize=14)
        sections = sorted(stats.sections, key=lambda s: tuple(int(p) for p in s.split(".")))
        if sections:
            labels = [f"{s} {SECTIONS.get(s, '')[:22]}" for s in sections]
            values = [stats.sections[s][0] / 4 * 100 for s in sections]
            colors = ["#2e7d32" if v >= 75 else "#f9a825" if v >= 50 else "#c62828" for v in values]
            bars.barh(labels, values, color=colors)
            bars.invert_yaxis()
            bars.set_xlim(0, 100)
            bars.tick_params(axis="y", labelsize=8)
        else:
            bars.text(0.5, 0.5, "No answers yet:\nsend /mock or /daily", ha="center", va="center", fontsize=12)
            bars.set_yticks([])
        bars.set_xlabel("mastery (% of full marks)")
        bars.set_title("By book section")
        if stats.trend:
            days = [date.fromisoformat(d) for d, _, _ in stats.trend]
            scores = [s for _, s, _ in stats.trend]
            window = [
                sum(scores[max(0, i - 6) : i + 1]) / len(scores[max(0, i - 6) : i + 1]) for i in range(len(scores))
            ]
            trend.plot(days, scores, "o", alpha=0.35, markersize=4, label="daily mean")
            trend.plot(days, window, "-", linewidth=2, label="7-day average")
            trend.legend(loc="lower right", fontsize=8)
            fig.autofmt_xdate()
        else:
            trend.text(0.5, 0.5, "Your score trend\nappears here", ha="center", va="center", fontsize=12)
            trend.set_xticks([])
        trend.set_ylim(0, 4.1)
        trend.set_ylabel("score (0-4)")
        trend.set_title(
            f"Streak {stats.streak} days · {stats.rounds_completed} rounds · {stats.seconds_practised / 3600:.1f} h"
        )
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(fig)
