"""The /stats chart: mastery per book section and the score trend, as a PNG (matplotlib, Agg)."""

from __future__ import annotations

import io
import textwrap
from datetime import date, timedelta

from bot.core import texts
from bot.progress.records import StatsView
from questions.sections import SECTIONS


def section_label(section: str) -> str:
    """The whole section title on at most two lines: a clipped "Natural language proce" reads as a bug."""
    lines = textwrap.wrap(f"{section} {SECTIONS.get(section, '')}", 30, max_lines=2, placeholder="…")
    return "\n".join(lines)


def render_stats(stats: StatsView, name: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates as mdates
    from matplotlib import pyplot as plt

    height = max(5.5, 1.6 + 0.4 * len(stats.sections))  # two-line labels of a full bank need the room
    fig, (bars, trend) = plt.subplots(1, 2, figsize=(11, height), dpi=100, gridspec_kw={"width_ratios": [1.1, 1]})
    try:
        fig.suptitle(f"Progress of {name[:40]}", fontsize=14)
        sections = sorted(stats.sections, key=lambda s: tuple(int(p) for p in s.split(".")))
        if sections:
            labels = [section_label(s) for s in sections]
            values = [stats.sections[s][0] / 4 * 100 for s in sections]
            colors = ["#2e7d32" if v >= 75 else "#f9a825" if v >= 50 else "#c62828" for v in values]
            bars.barh(labels, values, color=colors, height=0.7)
            bars.set_ylim(max(len(labels), 6) - 0.5, -0.5)  # first section on top; one section is not one fat bar
            bars.tick_params(axis="y", labelsize=8)
        else:
            bars.text(0.5, 0.5, "No answers yet:\nsend /mock or /daily", ha="center", va="center", fontsize=12,
                      transform=bars.transAxes)  # fmt: skip
            bars.set_yticks([])
        bars.set_xlim(0, 100)
        bars.set_xlabel("mastery (% of full marks)")
        bars.set_title("By book section")
        if stats.trend:
            days = [date.fromisoformat(d) for d, _, _ in stats.trend]
            scores = [s for _, s, _ in stats.trend]
            window = []  # over the 7 calendar days up to each point, not the last 7 points
            for day in days:
                week = [s for d, s in zip(days, scores, strict=True) if timedelta(0) <= day - d < timedelta(days=7)]
                window.append(sum(week) / len(week))
            trend.plot(days, scores, "o", alpha=0.35, markersize=4, label="daily mean")
            trend.plot(days, window, "-", linewidth=2, label="7-day average")
            trend.legend(loc="lower right", fontsize=8)
            if days[-1] - days[0] < timedelta(days=6):  # a few points: a week around them, not years
                middle = days[0] + (days[-1] - days[0]) / 2
                trend.set_xlim(middle - timedelta(days=3.5), middle + timedelta(days=3.5))
            locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
            trend.xaxis.set_major_locator(locator)
            trend.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        else:
            trend.text(0.5, 0.5, "Your score trend\nappears here", ha="center", va="center", fontsize=12,
                       transform=trend.transAxes)  # fmt: skip
            trend.set_xticks([])
        trend.set_ylim(0, 4.1)
        trend.set_ylabel("score (0-4)")
        trend.set_title(
            f"Streak {texts.plural(stats.streak, 'day')} · {texts.plural(stats.rounds_completed, 'round')}"
            f" · {texts.duration(stats.seconds_practised)}"
        )
        fig.tight_layout()  # long section names get room instead of being cut at the figure's edge
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(fig)
