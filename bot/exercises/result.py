"""What a check returns: per-case outcomes the engine can show, score and store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

CaseStatus = Literal["pass", "fail", "error", "timeout", "not_run"]
_MARK = {"pass": "✓", "fail": "✗", "error": "✗", "timeout": "⏱", "not_run": "·"}


@dataclass(frozen=True)
class CaseResult:
    name: str  # "visible data", "hidden data", "example 2", "hidden 3"
    hidden: bool
    status: CaseStatus
    reason: str = ""  # for hidden cases this never shows the case's data
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass(frozen=True)
class ExerciseResult:
    question_id: str
    kind: Literal["sql", "coding"]
    executed: bool
    reason: str = ""  # why the answer was not run, or what stopped it as a whole
    cases: tuple[CaseResult, ...] = ()
    diff: str = ""  # SQL: sample rows of what differed on the visible data, as monospace tables
    output: str = ""  # Python: the start of what the code printed
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.executed and bool(self.cases) and all(c.passed for c in self.cases)

    def failed(self, *, hidden: bool) -> list[CaseResult]:
        return [c for c in self.cases if c.hidden == hidden and not c.passed]

    def feedback(self, *, with_diff: bool = True) -> str:
        """One line per case, then the fenced sample tables of what differed (without them when the
        caller fences the case lines itself, since fences cannot nest)."""
        if not self.executed:
            return f"Your code was not run: {self.reason}. The answer was graded on its explanation instead."
        lines = [f"{_MARK[c.status]} {c.name}{f': {c.reason}' if c.reason else ''}" for c in self.cases]
        if self.reason:
            lines.insert(0, self.reason)
        if self.diff and with_diff:
            lines.append(self.diff)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "executed": self.executed,
            "passed": self.passed,
            "reason": self.reason,
            "failed": [c.name for c in self.cases if not c.passed],
            "cases": [
                {
                    "name": c.name,
                    "hidden": c.hidden,
                    "status": c.status,
                    "reason": c.reason,
                    "seconds": round(c.seconds, 4),
                }
                for c in self.cases
            ],
            "diff": self.diff,
            "output": self.output,
            "seconds": round(self.seconds, 4),
        }
