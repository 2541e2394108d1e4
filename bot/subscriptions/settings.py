"""Settings both subscriptions share, as typed in chat: days of the week and topics."""

from __future__ import annotations

from collections.abc import Sequence

from bot.subscriptions.schedule import DAYS
from questions.sections import SECTIONS

TOPIC_GROUPS = {
    "5": "Math",
    "6": "Computer science",
    "7": "ML workflows",
    "8": "ML algorithms",
    "9": "LLMs and production",
}


def describe_days(days: Sequence[str]) -> str:
    for name, preset in (("every day", DAYS), ("weekdays", DAYS[:5]), ("weekends", DAYS[5:])):
        if tuple(days) == preset:
            return name
    return ", ".join(d.capitalize() for d in days)


def parse_days(text: str) -> tuple[str, ...] | None:
    raw = text.lower().replace(" ", "")
    presets = {"everyday": DAYS, "daily": DAYS, "all": DAYS, "weekdays": DAYS[:5], "weekends": DAYS[5:]}
    if raw in presets:
        return presets[raw]
    chosen = {d[:3] for d in raw.split(",") if d}
    if not chosen or not chosen <= set(DAYS):
        return None
    return tuple(d for d in DAYS if d in chosen)


def parse_topics(args: Sequence[str]) -> tuple[str, ...] | None:
    if [a.lower() for a in args] == ["all"]:
        return ()
    topics = []
    for a in args:
        if a in TOPIC_GROUPS or a in SECTIONS:
            topics.append(a)
        else:
            return None
    return tuple(topics)


def in_topics(section: str, topics: Sequence[str]) -> bool:
    return not topics or any(section == t or section.startswith(t + ".") for t in topics)
