"""User-facing wording that more than one part of the engine uses."""

HELP = """I'm a mock interviewer for machine-learning roles.

Rounds
  /mock — start (or resume) a mock round: technical, behavioral, mixed, system design, quiz drill, or a full loop
  /done — finish your answer (you can answer in several messages)
  /hint — get a hint (up to three; each costs a little score)
  /skip — skip this question
  /repeat — show the question again
  /time — time spent on this question and round
  /pause — pause; resume later with /mock
  /stop — end the round and see the scorecard
  /history — your recent rounds and scores

Daily practice and groups
  /daily — one question a day by direct message, at your local time, with spaced repetition
  /quiz — a quick multiple-choice drill; in a group, the channel quiz (admins set it up)
  /leaderboard — this group's quiz scores, this week and all time

Your data
  /stats — progress by book section, score trend, streak (with a chart)
  /export — everything stored about you, as JSON, plus your review log as CSV
  /forget — delete everything stored about you
  /link — share progress between your Telegram and Discord accounts (/unlink undoes it)
  /help — this message"""

WELCOME = (
    "Welcome! I run mock interviews for ML engineer, data scientist and research roles: "
    "questions, follow-ups, hints, feedback and a scorecard at the end."
)

MAX_MESSAGE_CHARS = 8000
MAX_ANSWER_CHARS = 20000
HINT_PENALTY = 0.3

TRACK_LABELS = {
    "technical": "Technical",
    "behavioral": "Behavioral",
    "mixed": "Mixed",
    "design": "System design",
    "quiz": "Quiz drill",
    "loop": "Full interview loop",
}
DIFFICULTY_LABELS = {"easy": "Easy", "medium": "Medium", "hard": "Hard", "match": "Match my level"}
RATING_LABELS = {"again": "Again", "hard": "Hard", "good": "Good", "easy": "Easy"}
STAGE_LABELS = {
    "setup": "Project set-up and requirements",
    "data": "Data pipeline",
    "modeling": "Modeling",
    "serving": "Serving and monitoring",
}


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
