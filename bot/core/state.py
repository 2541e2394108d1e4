"""Dialogue state: plain data, saved as JSON after every event so a restart loses nothing.

Each capability owns the shape of its part; this is where the parts meet.
"""

from __future__ import annotations

from typing import Literal

from bot.core.model import StateModel
from bot.daily.state import DailyState
from bot.rounds.state import RoundState, SetupState


class DialogueState(StateModel):
    mode: Literal["idle", "setup", "round"] = "idle"
    setup: SetupState | None = None
    round: RoundState | None = None
    paused: RoundState | None = None
    # Bumped whenever buttons are shown; choice ids carry it so an old button is recognisably stale.
    seq: int = 0
    daily: DailyState | None = None
    awaiting: Literal["daily_zone", "daily_time"] | None = None  # free-text setting the bot asked for
    coached: bool = False  # the "questions to ask your interviewers" card was shown once in full

    def next_seq(self) -> int:
        self.seq = (self.seq + 1) % 10_000
        return self.seq
