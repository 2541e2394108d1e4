"""User-facing wording that more than one part of the engine uses."""

MAX_MESSAGE_CHARS = 8000

DIFFICULTY_LABELS = {"easy": "Easy", "medium": "Medium", "hard": "Hard", "match": "Match my level"}


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
