"""Numbers in answers and rubrics, compared as values: 1/4, 0.25 and 25% are the same claim,
and "1 - 1/e" is 0.632, not the 1/e inside it."""

from __future__ import annotations

import math
import re

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:e[-+]?\d+|[kmb](?![\w-]))?%?"
_CONST = r"(?:e|pi)(?![\w])"
_OPERAND = rf"(?:-?{_NUM}|{_CONST})"
# A numeric expression: a number or a constant joined to more of them by operators. A constant
# alone ("e" as a word) is not a number, and a digit glued to a word ("top-5", "x2") is not either.
# An expression ends where the text goes on as a formula with a letter ("1 - 1/n" is not 1 - 1).
_END = r"(?![\w^(]|\.\d|\s*[-+*/^]\s*[a-z(])"
EXPRESSION = re.compile(
    rf"(?:(?<![\w.^)])-)?(?<![\w.^]){_NUM}(?:\s*[-+*/^]\s*{_OPERAND})*{_END}"
    rf"|(?<![\w.]){_CONST}(?:\s*[-+*/^]\s*{_OPERAND})+{_END}"
)
_TOKEN = re.compile(rf"{_NUM}|{_CONST}|[-+*/^]")
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9}  # 3.5k, 10m, 7b: as ML people write sizes


def evaluate(text: str) -> float | None:
    """The value of a small arithmetic expression (numbers, e, pi, + - * / ^, percent), or None."""
    tokens = _TOKEN.findall(text.replace(" ", ""))
    if not tokens or "".join(tokens) != text.replace(" ", ""):
        return None
    parser = _Parser(tokens)
    try:
        value = parser.expression()
    except (ZeroDivisionError, OverflowError, ValueError, IndexError):
        return None
    if parser.pos != len(tokens) or not math.isfinite(value):
        return None
    if value == 0 and any(c in "123456789" for c in text):
        return None  # underflow (1e-2000): not the number 0
    return value


class _Parser:
    """Recursive descent with the usual precedence: ^ over unary minus over * / over + -."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.pos = tokens, 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def expression(self) -> float:
        value = self.term()
        while self._peek() in ("+", "-"):
            value = value + self.term() if self._take() == "+" else value - self.term()
        return value

    def term(self) -> float:
        value = self.unary()
        while self._peek() in ("*", "/"):
            value = value * self.unary() if self._take() == "*" else value / self.unary()
        return value

    def unary(self) -> float:
        if self._peek() == "-":
            self._take()
            return -self.unary()
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self._peek() == "^":
            self._take()
            exponent = self.unary()
            if abs(exponent) > 1000:
                raise OverflowError
            return float(base**exponent)
        return base

    def atom(self) -> float:
        token = self._take()
        if token == "e":
            return math.e
        if token == "pi":
            return math.pi
        if token.endswith("%"):
            return float(token[:-1]) / 100
        if token[-1] in _SCALE:
            return float(token[:-1]) * _SCALE[token[-1]]
        return float(token)


def same_value(a: float, b: float, tolerance: float | None = None) -> bool:
    if tolerance is not None:
        return abs(a - b) <= tolerance + 1e-12
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
