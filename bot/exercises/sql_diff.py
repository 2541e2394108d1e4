"""Compare a query's rows with the reference's, and say what differs in words and a small table.

Rows are compared as a multiset (as a sequence only when the exercise says order matters), column
names are ignored, and numbers are equal within the exercise's tolerance, so `AVG` computed two
ways or `1` against `1.0` never fail a correct answer.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from bot.exercises.sql_runner import Row, Value

SAMPLE = 5  # rows of each kind shown in feedback
_PAIRING_LIMIT = 300  # beyond this many unmatched rows, tolerance pairing is skipped (they differ anyway)


@dataclass(frozen=True)
class RowDiff:
    problem: str  # one line; empty when the rows match
    missing: tuple[Row, ...] = ()  # expected rows the query did not return
    extra: tuple[Row, ...] = ()  # returned rows that are not expected
    wrong: tuple[tuple[Row, Row], ...] = ()  # (expected, returned): the same row with some values wrong

    @property
    def matches(self) -> bool:
        return not self.problem


def same_value(a: Value, b: Value, tolerance: float) -> bool:
    """Integers exactly (counts must be right), any other pair of numbers within the tolerance."""
    if isinstance(a, int | float) and isinstance(b, int | float) and (isinstance(a, float) or isinstance(b, float)):
        return a == b or math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)
    return a == b


def _same_row(a: Row, b: Row, tolerance: float) -> bool:
    return all(same_value(x, y, tolerance) for x, y in zip(a, b, strict=True))


def compare_rows(
    expected: tuple[Row, ...], got: tuple[Row, ...], columns: tuple[str, ...], *, ordered: bool, tolerance: float
) -> RowDiff:
    width = len(expected[0]) if expected else len(columns)
    if got and len(got[0]) != width:
        return RowDiff(
            f"the query returns {len(got[0])} columns; the expected result has {width} ({', '.join(columns)})"
        )
    missing_count = Counter(expected)
    missing_count.subtract(Counter(got))
    missing = [row for row, n in missing_count.items() for _ in range(max(n, 0))]
    extra = [row for row, n in missing_count.items() for _ in range(max(-n, 0))]
    if len(missing) <= _PAIRING_LIMIT and len(extra) <= _PAIRING_LIMIT:
        missing, extra = _pair_within_tolerance(missing, extra, tolerance)
    if not missing and not extra:
        if ordered:
            for i, (want, have) in enumerate(zip(expected, got, strict=True)):
                if not _same_row(want, have, tolerance):
                    return RowDiff(
                        f"the rows are right but not in the required order (first difference at row {i + 1})"
                    )
        return RowDiff("")
    wrong, missing, extra = _pair_wrong_values(missing, extra, tolerance)
    wrong_columns = sorted(
        {i for want, have in wrong for i in range(width) if not same_value(want[i], have[i], tolerance)}
    )
    parts = [f"{n} {label}" for n, label in ((len(missing), "missing"), (len(extra), "extra")) if n]
    if wrong:
        names = ", ".join(columns[i] for i in wrong_columns if i < len(columns))
        parts.append(f"{len(wrong)} with wrong values (in {names})")
    problem = f"{_rows(len(got))} returned, {len(expected)} expected: " + ", ".join(parts)
    return RowDiff(problem, tuple(missing), tuple(extra), tuple(wrong))


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _pair_within_tolerance(missing: list[Row], extra: list[Row], tolerance: float) -> tuple[list[Row], list[Row]]:
    left = list(extra)
    still_missing = []
    for row in missing:
        match = next((i for i, other in enumerate(left) if _same_row(row, other, tolerance)), None)
        if match is None:
            still_missing.append(row)
        else:
            left.pop(match)
    return still_missing, left


def _pair_wrong_values(
    missing: list[Row], extra: list[Row], tolerance: float
) -> tuple[list[tuple[Row, Row]], list[Row], list[Row]]:
    """A missing and an extra row that agree on their first value (usually the key) or on at least half
    their values, but not on all, are one row with wrong values: more use to the candidate than a
    missing row and an extra one."""
    pairs: list[tuple[Row, Row]] = []
    left = list(extra[:_PAIRING_LIMIT])
    unpaired = []
    for row in missing:
        best, best_score = None, 0
        for i, other in enumerate(left):
            score = sum(same_value(a, b, tolerance) for a, b in zip(row, other, strict=True))
            keyed = same_value(row[0], other[0], tolerance)
            if score > best_score and (keyed or score * 2 >= len(row)) and score < len(row):
                best, best_score = i, score
        if best is None:
            unpaired.append(row)
        else:
            pairs.append((row, left.pop(best)))
    return pairs, unpaired, left + extra[_PAIRING_LIMIT:]


def format_value(v: Value) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return f"{v:.6g}"
    text = str(v)
    return text if len(text) <= 30 else text[:29] + "…"


def table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A plain-text table for a monospace block."""
    cells = [list(columns), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def sample_tables(diff: RowDiff, columns: tuple[str, ...]) -> str:
    """Up to SAMPLE rows of each kind of difference, each kind under its own heading."""
    names = columns if columns else tuple(f"col{i + 1}" for i in range(len((diff.missing or diff.extra or ((),))[0])))
    blocks = []
    for label, rows in (("Missing rows", diff.missing), ("Extra rows", diff.extra)):
        if rows:
            shown = [tuple(format_value(v) for v in r) for r in rows[:SAMPLE]]
            blocks.append(f"{_heading(label, len(rows))}\n```text\n{table(names, shown)}\n```")
    if diff.wrong:
        shown = []
        for want, have in diff.wrong[:SAMPLE]:
            shown.append(("expected", *(format_value(v) for v in want)))
            shown.append(("yours", *(format_value(v) for v in have)))
        blocks.append(f"{_heading('Wrong values', len(diff.wrong))}\n```text\n{table(('', *names), shown)}\n```")
    return "\n".join(blocks)


def _heading(label: str, n: int) -> str:
    return f"{label} ({n}{f', first {SAMPLE} shown' if n > SAMPLE else ''}):"
