"""Rubric patterns: short phrases a candidate's clause must contain, in order, with a little slack.

Syntax (see questions/README.md): words match by stem and by close misspelling; `(a|b c)` is a
choice, `(a|)` makes a word optional (rarely needed: a couple of extra words are allowed between
pattern words anyway, and function words are optional), `...` allows a wider gap; numbers match by value (`0.37~0.01` sets a
tolerance); a pattern with operators (`sigma(z)(1 - sigma(z))`) is a formula and must appear exactly.
A word with a direction ("reduce") also matches its synonyms ("lower", "cut"); the grader uses the
opposite direction ("raise") and flipped formula signs to recognise reversed claims.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache

from rapidfuzz import fuzz

from bot.grading.numbers import same_value
from bot.grading.text import CONTRAST, DIRECTION, NEGATIONS, STOPWORDS, Token, normalise, same_direction, tokens

MAX_EXPANSIONS = 256
GAP = 2  # content words allowed between two pattern words
WIDE_GAP = 6  # after `...`
SPAN_SLACK = 3  # function words allowed on top of the content-word gap
FUZZY_MIN = 85
FUZZY_SHORT_MIN = 92
_FORMULA_OPS = frozenset("=+*/^<>%")
_ARITHMETIC = frozenset("+-*/^")
_TOLERANCE = re.compile(r"~\s*(\d+(?:\.\d+)?%?)")
_SYNTAX = re.compile(r"(\(|\)|\||\.\.\.)")
_GAP = "zzgapzz"  # stands for `...` while a reading is tokenised
_BARRIER = CONTRAST | {"but", "however", "whereas", "while", "although"}


class PatternError(ValueError):
    pass


@dataclass(frozen=True)
class PToken:
    text: str
    stem: str
    value: float | None = None
    tolerance: float | None = None
    wide: bool = False  # a `...` gap may come before this token
    minus: bool = False  # a "-" written as an operator (spaced, or between numbers), not a hyphen
    compound: bool = False  # part of a hyphenated word: never a direction

    @property
    def direction(self) -> tuple[str, int, str] | None:
        return DIRECTION.get(self.text) if self.value is None and not self.compound else None


@dataclass(frozen=True)
class Expansion:
    """One concrete way of saying a pattern: the tokens to find, in order."""

    tokens: tuple[PToken, ...]
    formula: bool

    @property
    def content(self) -> int:
        """Content words; a number counts twice, as a specific value is a claim of its own."""
        return sum(
            2 if t.value is not None else 1 for t in self.tokens if t.value is not None or t.text not in STOPWORDS
        )

    @property
    def numbers(self) -> tuple[float, ...]:
        return tuple(t.value for t in self.tokens if t.value is not None)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    hits: tuple[int, ...] = ()  # the clause tokens the pattern's words matched, for reading negations between them


# ---------------------------------------------------------------------------- parsing


@lru_cache(maxsize=16384)
def _parse(source: str) -> list[list[list[str | None]]]:
    """The pattern as a sequence of choices, each a list of alternatives, each a list of text chunks
    (None marks a `...` gap). Expanded by `expand`."""
    parts = [p for p in _SYNTAX.split(source) if p and p.strip()]
    pos = 0

    def sequence(stop: set[str]) -> list[list[list[str | None]]]:
        nonlocal pos
        seq: list[list[list[str | None]]] = []
        while pos < len(parts) and parts[pos] not in stop:
            part = parts[pos]
            pos += 1
            if part == "(":
                alternatives: list[list[str | None]] = []
                while True:
                    inner = sequence({"|", ")"})
                    # the brackets stay in the text, as they would in an answer: "2 / (x + 1)" is not "2 / x + 1"
                    alternatives += [["(", *itertools.chain.from_iterable(a), ")"] for a in _product(inner)]
                    if pos >= len(parts):
                        raise PatternError(f"unclosed '(' in {source!r}")
                    sep = parts[pos]
                    pos += 1
                    if sep != "|":
                        break
                seq.append(alternatives)
            elif part in (")", "|"):
                raise PatternError(f"unexpected {part!r} in {source!r}")
            elif part == "...":
                seq.append([[None]])
            else:
                seq.append([[part]])
        return seq

    seq = sequence(set())
    if pos != len(parts):
        raise PatternError(f"unexpected {parts[pos]!r} in {source!r}")
    return seq


def readings(source: str) -> int:
    """How many ways the pattern can be read, counted without expanding it (validation is cheap)."""
    return math.prod(len(choice) for choice in _parse(source))


def _product(seq: list[list[list[str | None]]]) -> list[list[list[str | None]]]:
    combos = list(itertools.islice(itertools.product(*seq), MAX_EXPANSIONS + 1))
    if len(combos) > MAX_EXPANSIONS:
        raise PatternError(f"more than {MAX_EXPANSIONS} ways to read this pattern; split it")
    return [list(c) for c in combos]


@lru_cache(maxsize=65536)
def _chunk_tokens(chunk: str) -> tuple[PToken, ...]:
    out: list[PToken] = []
    pieces = _TOLERANCE.split(chunk)
    for i in range(0, len(pieces), 2):
        text = normalise(pieces[i])
        toks = tokens(text)
        for t in toks:
            spaced = t.text == "-" and (text[t.start - 1 : t.start].isspace() or text[t.end : t.end + 1].isspace())
            out.append(PToken(t.text, t.stem, t.value, minus=spaced, compound=t.compound))
        if i + 1 < len(pieces):
            raw = pieces[i + 1]
            tol = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
            if not out or out[-1].value is None:
                raise PatternError(f"a tolerance must follow a number in {chunk!r}")
            last = out[-1]
            out[-1] = PToken(last.text, last.stem, last.value, tol, minus=last.minus, compound=last.compound)
    return tuple(out)


@lru_cache(maxsize=65536)
def _plain_words(chunk: str) -> tuple[PToken, ...]:
    """The tokens of a chunk of plain words that a match needs (function words are optional)."""
    return tuple(t for t in _chunk_tokens(chunk) if t.text not in STOPWORDS or t.text in NEGATIONS)


_PLAIN = re.compile(r"^[^\d+*/^=<>%~-]*$")


@lru_cache(maxsize=65536)
def _is_plain(chunk: str) -> bool:
    """No number, operator or hyphen: the chunk tokenises the same alone as inside a reading."""
    return bool(_PLAIN.match(normalise(chunk)))


def silent_alternatives(source: str) -> list[str]:
    """Alternatives that are only function words beside a negation ("(is|is not) convex", "(can|cannot)"):
    function words are optional when matching, so the pattern would accept the claim and its denial."""
    out = []
    for choice in _parse(source):
        readings = [[t for chunk in alt if chunk for t in _chunk_tokens(chunk)] for alt in choice]
        silent = [r for r in readings if r and not _meaningful(r)]
        if silent and any(t.text in NEGATIONS for r in readings for t in r):
            out += [" ".join(t.text for t in r) for r in silent]
    return out


def weakest_reading(source: str) -> tuple[int, str] | None:
    """The non-formula reading with the fewest content words, as (count, words), for validation,
    scored choice by choice without listing every reading (a number counts twice, as in
    `Expansion.content`). None when every reading is a formula."""
    cheapest: list[tuple[int, list[str]]] = []
    wordy: list[tuple[int, list[str]] | None] = []
    for choice in _parse(source):
        options = []
        for alternative in choice:
            raw = [t for chunk in alternative if chunk for t in _chunk_tokens(chunk)]
            if any(t.text in _FORMULA_OPS or t.minus for t in raw):
                continue  # a reading through this alternative is a formula, which needs no word count
            kept = _meaningful(raw)
            count = sum(2 if t.value is not None else 1 for t in kept if t.value is not None or t.text not in STOPWORDS)
            options.append((count, [t.text for t in kept], bool(kept)))
        if not options:
            return None
        cheapest.append(min(((c, w) for c, w, _ in options), key=lambda o: o[0]))
        wordy.append(min(((c, w) for c, w, k in options if k), key=lambda o: o[0], default=None))
    # A reading with no word at all is no reading (expand drops it), so one choice must bring a word.
    best: tuple[int, list[str]] | None = None
    for i, option in enumerate(wordy):
        if option is None:
            continue
        count = option[0] + sum(c for j, (c, _) in enumerate(cheapest) if j != i)
        if best is None or count < best[0]:
            best = (count, [w for j, (_, ws) in enumerate(cheapest) for w in (option[1] if j == i else ws)])
    if best is None:  # grading would refuse it too: nothing to find in an answer
        raise PatternError(f"pattern {source!r} has no words")
    return best[0], " ".join(best[1])


@lru_cache(maxsize=65536)
def lone_numbers(source: str) -> frozenset[float]:
    """Numbers the pattern can be read as on their own, with no word beside them (for validation;
    worked out once per text, as a bank repeats patterns and loads more than once per process)."""
    empty: list[bool] = []  # per choice: can it contribute nothing?
    singles: list[set[float]] = []  # per choice: numbers it can contribute alone
    for choice in _parse(source):
        can_be_empty, numbers = False, set()
        for alternative in choice:
            raw = [t for chunk in alternative if chunk for t in _chunk_tokens(chunk)]
            if any(t.text in _FORMULA_OPS or t.minus for t in raw):
                continue
            kept = _meaningful(raw)
            if not kept:
                can_be_empty = True
            elif len(kept) == 1 and kept[0].value is not None:
                numbers.add(kept[0].value)
        empty.append(can_be_empty)
        singles.append(numbers)
    out: set[float] = set()
    for i, numbers in enumerate(singles):
        if numbers and all(e for j, e in enumerate(empty) if j != i):
            out |= numbers
    return frozenset(out)


@lru_cache(maxsize=16384)
def expand(source: str) -> tuple[Expansion, ...]:
    """Every concrete token sequence a pattern stands for, with function words dropped (they are
    optional when matching) except negations, either half of a hyphenated compound, and formulas."""
    out: list[Expansion] = []
    seq = _parse(source)
    plain = {id(alt): all(c is None or _is_plain(c) for c in alt) for choice in seq for alt in choice}
    for combo in _product(seq):
        chunks = list(itertools.chain.from_iterable(combo))
        if all(plain[id(alt)] for alt in combo):  # words only: each chunk on its own, cached
            kept: list[PToken] = []
            wide = False
            for chunk in chunks:
                if chunk is None:
                    wide = True
                    continue
                for tok in _plain_words(chunk):
                    kept.append(_widened(tok) if wide else tok)
                    wide = False
            if kept:
                out.append(Expansion(tuple(kept), False))
            continue
        # Otherwise the reading is tokenised as one text, as an answer would be: "2 / (lambda max)" must
        # give the same tokens here as "2 / lambda max" does in an answer.
        text = " ".join(_GAP if chunk is None else chunk for chunk in chunks)
        raw: list[PToken] = []
        wide = False
        for tok in _chunk_tokens(text):
            if tok.text == _GAP:
                wide = True
                continue
            raw.append(_widened(tok) if wide else tok)
            wide = False
        # "8-bit", "top-5" and "k-means" are words with a hyphen; "1 - p" and "3-2" are formulas.
        formula = any(t.text in _FORMULA_OPS for t in raw) or any(
            t.text == "-" and (t.minus or (raw[i - 1].value is not None and raw[i + 1].value is not None))
            for i, t in enumerate(raw)
            if 0 < i < len(raw) - 1
        )
        kept = raw if formula else _meaningful(raw)
        if kept:
            out.append(Expansion(tuple(kept), formula))
    if not out:
        raise PatternError(f"pattern {source!r} has no words")
    return tuple(dict.fromkeys(out))


def clear_caches() -> None:
    """Forget every parsed and expanded pattern, so a benchmark can time compiling a rubric cold."""
    for cached in (_parse, _chunk_tokens, _plain_words, expand, _widened):
        cached.cache_clear()


@lru_cache(maxsize=65536)
def _widened(tok: PToken) -> PToken:
    """The token after a `...` gap (a few thousand distinct ones; `replace` per reading was costly)."""
    return replace(tok, wide=True)


def _meaningful(raw: list[PToken]) -> list[PToken]:
    kept: list[PToken] = []
    wide = False  # a `...` before a dropped word moves to the next kept one
    for i, t in enumerate(raw):
        hyphened = (i + 1 < len(raw) and raw[i + 1].text == "-") or (i > 0 and raw[i - 1].text == "-")
        if t.text == "-" or (t.text in STOPWORDS and t.text not in NEGATIONS and not hyphened):
            wide = wide or t.wide
            continue
        kept.append(PToken(t.text, t.stem, t.value, t.tolerance, t.wide or wide))
        wide = False
    return kept


# ---------------------------------------------------------------------------- matching


def typo(word: str, token: str) -> bool:
    """A misspelling, not another word: same first letter, close spelling, no digits."""
    if len(word) < 5 or len(token) < 4 or word[0] != token[:1] or not word.isalpha() or not token.isalpha():
        return False
    short, long_ = sorted((word, token), key=len)
    if short != long_ and long_.startswith(short):
        return False  # "adam" is not a misspelt "adamw"
    # A short word one letter off is usually another word ("shot"/"short", "cures"/"curves").
    return fuzz.ratio(word, token, score_cutoff=FUZZY_MIN if len(short) > 5 else FUZZY_SHORT_MIN) > 0


def token_matches(p: PToken, t: Token, flip: bool = False) -> bool:
    if p.value is not None:
        return t.value is not None and same_value(p.value, t.value, p.tolerance)
    if t.value is not None:
        return False
    d = p.direction
    if d is not None:
        got = None if t.compound else DIRECTION.get(t.text)
        if got is not None and got[0] == d[0]:
            return same_direction(d, got, flip=flip)
        return False if flip else p.stem == t.stem or typo(p.text, t.text)
    return p.stem == t.stem or typo(p.text, t.text)


def find(exp: Expansion, toks: tuple[Token, ...], *, flip: bool = False) -> list[Span]:
    """Every place the expansion occurs in a clause's tokens. `flip` looks for the reversed claim:
    the opposite direction, or a formula with one sign flipped."""
    if exp.formula:
        return _find_formula(exp, toks, flip)
    if flip and not any(t.direction for t in exp.tokens):
        return []
    spans = _find_ordered(exp.tokens, toks, flip)
    # "reduces variance" is also said as "variance is reduced" / "variance goes down".
    first = exp.tokens[0]
    if len(exp.tokens) >= 2 and first.direction is not None:
        moved = (*exp.tokens[1:], PToken(first.text, first.stem))
        spans += [s for s in _find_ordered(moved, toks, flip, passive=True) if s not in spans]
    return spans


def _find_ordered(
    pattern: tuple[PToken, ...], toks: tuple[Token, ...], flip: bool, *, passive: bool = False
) -> list[Span]:
    """`passive`: the direction word moved to the end must follow at once ("variance drops") or after
    an auxiliary and at most one other word ("variance is reduced", "the score should be minimised")."""
    out = []
    directed = any(p.direction for p in pattern)
    for i, t in enumerate(toks):
        if not token_matches(pattern[0], t, flip):
            continue
        pos, ok, hits = i, True, [i]
        for k, p in enumerate(pattern[1:], 1):
            last = passive and k == len(pattern) - 1
            nxt = _next_match(p, toks, pos + 1, flip, allowed=1 if last else None, directed=directed)
            if nxt is not None and last and any(w.after_break for w in toks[pos + 1 : nxt + 1]):
                ok = False  # "lambda underfits, small lambda overfits" does not say "small lambda underfits"
            elif nxt is not None and last and nxt > pos + 1:
                ok = any(w.text in _AUXILIARY for w in toks[pos + 1 : nxt])
            if nxt is None or not ok:
                ok = False
                break
            pos = nxt
            hits.append(nxt)
        if ok and not _powered(toks, pos, pattern[-1]):
            out.append(Span(i, pos + 1, tuple(hits)))
    return out


def _rooted(toks: tuple[Token, ...], j: int) -> bool:
    """A square root sign: what follows it is another quantity than the bare word."""
    return toks[j].text == "sqrt" or (toks[j].text == "root" and j > 0 and toks[j - 1].text == "square")


def _powered(toks: tuple[Token, ...], end: int, last: PToken) -> bool:
    """The last matched word is raised to a power ("d^0.5", "d ** 0.5"): not the bare word either."""
    return (
        last.value is None
        and end + 1 < len(toks)
        and toks[end + 1].text in ("^", "*")
        and (toks[end + 1].text == "^" or (end + 2 < len(toks) and toks[end + 2].text == "*"))
    )


_LINKING = frozenset("goes go went gets get got becomes become became tends tend will much way".split())
_AUXILIARY = _LINKING | frozenset("is are was were be been being".split())


def _next_match(
    p: PToken, toks: tuple[Token, ...], start: int, flip: bool, allowed: int | None = None, *, directed: bool = True
) -> int | None:
    """The next token matching `p` within the allowed gap. `directed`: the pattern has a direction word,
    so another direction word in the gap ends the search ("lower bias and raise variance")."""
    if allowed is None:
        allowed = WIDE_GAP if p.wide else GAP
    content = 0
    for j in range(start, min(len(toks), start + allowed + SPAN_SLACK + 1)):
        t = toks[j]
        if token_matches(p, t, flip):
            return j
        if t.text in NEGATIONS:
            continue  # "dropout does not reduce overfitting" is found; the grader reads it as negated
        if t.text in _BARRIER or (directed and not t.compound and t.text in DIRECTION and p.direction is None):
            return None
        if _rooted(toks, j):
            return None  # "divide by sqrt(d)" does not say "divide by d"
        if t.text != "-" and t.text not in STOPWORDS and t.text not in _LINKING:
            content += 1
            if content > allowed:
                return None
    return None


def _find_formula(exp: Expansion, toks: tuple[Token, ...], flip: bool) -> list[Span]:
    """Token by token, nothing in between, except up to WIDE_GAP tokens where the pattern has `...`."""
    pattern = exp.tokens
    variants: list[tuple[PToken, ...]] = [pattern]
    if flip:
        swap = {"+": "-", "-": "+", "*": "/", "/": "*"}
        variants = [
            (*pattern[:i], PToken(swap[p.text], swap[p.text], wide=p.wide), *pattern[i + 1 :])
            for i, p in enumerate(pattern)
            if p.text in swap
        ]
    out = []
    for variant in variants:
        for i in range(len(toks)):
            end = _formula_at(variant, toks, i)
            # A formula inside a longer one is not that formula: "(p-1)/m" is not in "(p-1)/(m+p-1)".
            if end is not None and not _joined(toks, i - 1) and not _joined(toks, end):
                out.append(Span(i, end))
    return out


def _joined(toks: tuple[Token, ...], i: int) -> bool:
    return 0 <= i < len(toks) and toks[i].text in _ARITHMETIC


def _formula_at(pattern: tuple[PToken, ...], toks: tuple[Token, ...], start: int) -> int | None:
    pos = start
    for k, p in enumerate(pattern):
        reach = WIDE_GAP if p.wide and k else 0
        found = next((j for j in range(pos, min(len(toks), pos + reach + 1)) if formula_token(p, toks[j])), None)
        if found is None:
            return None
        pos = found + 1
    return pos


def formula_token(p: PToken, t: Token) -> bool:
    if p.value is not None or not p.text[:1].isalnum():
        return token_matches(p, t) if p.value is not None else p.text == t.text
    return p.stem == t.stem
