"""A round's row in storage: started, paused, finished or stopped, with its scorecard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RoundRecord:
    round_id: str
    track: str
    difficulty: str
    length: int
    status: str  # active, paused, finished, stopped
    at: datetime
    scorecard: dict[str, Any] | None = None
