"""Text normalisation shared by the graders: tokens, stems, clauses, negation cues."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("english")
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)?|[%=<>+*/^-]", re.UNICODE)
_CLAUSE_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\n+|,\s+(?:but|while|whereas|however|although)\s+", re.I)

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "and",
        "or",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "they",
        "them",
        "we",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "he",
        "she",
        "his",
        "her",
        "which",
        "who",
        "whom",
        "what",
        "when",
        "where",
        "how",
        "why",
        "do",
        "does",
        "did",
        "done",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "so",
        "than",
        "then",
        "also",
        "just",
        "very",
        "into",
        "about",
        "such",
    ]
)
# Words that carry an explanation (a cause, a condition, a contrast) rather than a bare term.
CONNECTIVES = frozenset(
    [
        "because",
        "since",
        "so",
        "therefore",
        "thus",
        "hence",
        "which",
        "means",
        "meaning",
        "leads",
        "lead",
        "causes",
        "cause",
        "if",
        "when",
        "whereas",
        "while",
        "but",
        "however",
        "instead",
        "otherwise",
        "then",
        "makes",
        "make",
        "allows",
        "allow",
        "helps",
        "help",
        "reduces",
        "reduce",
        "increases",
        "increase",
        "prevents",
        "prevent",
        "by",
        "via",
        "so",
        "that",
        "due",
        "to",
        "tends",
        "tend",
    ]
)
NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "none",
        "neither",
        "nor",
        "cannot",
        "can't",
        "cant",
        "don't",
        "dont",
        "doesn't",
        "doesnt",
        "isn't",
        "isnt",
        "aren't",
        "arent",
        "won't",
        "wont",
        "wouldn't",
        "shouldn't",
        "didn't",
        "didnt",
        "without",
        "hardly",
        "nothing",
        "fails",
        "fail",
    ]
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


# Words with a direction, by stem: a phrase saying "lower" is contradicted by an answer saying
# "higher" in the same place ("it increases bias" does not cover "deeper trees lower bias").
_DIRECTIONS = {
    "size": (["smaller", "shrink", "less", "fewer", "lower", "low", "reduce", "decrease", "drop", "cut", "fall"],
             ["larger", "bigger", "grow", "more", "higher", "high", "raise", "increase", "boost", "rise"]),
    "speed": (["slower", "slow"], ["faster", "fast"]),
    "curvature": (["convex"], ["concave"]),
    "fit": (["underfit", "underfitting"], ["overfit", "overfitting"]),
    "position": (["below", "under"], ["above", "over"]),
}  # fmt: skip
DIRECTION: dict[str, tuple[str, int]] = {
    stem(w): (axis, sign) for axis, poles in _DIRECTIONS.items() for sign, words in enumerate(poles) for w in words
}


def contradicts(wanted: tuple[str, ...], found: tuple[str, ...]) -> bool:
    """True when `found` points the other way on an axis where `wanted` points one way, and never agrees."""
    for s in wanted:
        if s not in DIRECTION:
            continue
        axis, sign = DIRECTION[s]
        signs = {DIRECTION[f][1] for f in found if f in DIRECTION and DIRECTION[f][0] == axis}
        if signs and sign not in signs:
            return True
    return False


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.replace("’", "'").replace("‘", "'")


def words(text: str) -> list[str]:
    return _WORD_RE.findall(normalise(text))


@dataclass(frozen=True)
class Clause:
    original: str
    tokens: tuple[str, ...]
    stems: tuple[str, ...]
    flat: str  # normalised text for fuzzy matching


def clauses(text: str, limit_chars: int = 20_000) -> list[Clause]:
    out: list[Clause] = []
    for piece in _CLAUSE_SPLIT.split(text[:limit_chars]):
        piece = piece.strip()
        if not piece:
            continue
        toks = tuple(words(piece))
        if toks:
            out.append(Clause(piece, toks, tuple(stem(t) for t in toks), " ".join(toks)))
    return out


def content_stems(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


def is_negated(tokens: tuple[str, ...], start: int, end: int, window: int = 4) -> bool:
    """A negation cue shortly before or inside the match [start, end) flips its meaning ("does not reduce variance")."""
    return any(t in NEGATIONS for t in tokens[max(0, start - window) : end])
