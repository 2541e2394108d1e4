"""Text shared by the graders: normalised tokens with their place in the answer, clauses, cue words.

Both a rubric's patterns and a candidate's answer go through the same `tokens`, so spelling
variants (normalise/normalize), symbols (σ, ×, −) and numbers (1/4, 25%) compare the same way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

import snowballstemmer

from bot.grading.numbers import EXPRESSION, evaluate

_STEMMER = snowballstemmer.stemmer("english")
_SYMBOLS = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "−": "-",
        "–": "-",
        "×": "*",
        "·": "*",
        "⋅": "*",
        "≈": "=",
        "≃": "=",
        "≅": "=",
        "→": " to ",
        "⇒": " to ",
        "↑": " increases ",
        "↓": " decreases ",
        "⟹": " to ",
        "≤": "<=",
        "≥": ">=",
        "σ": " sigma ",
        "λ": " lambda ",
        "μ": " mu ",
        "θ": " theta ",
        "α": " alpha ",
        "β": " beta ",
        "γ": " gamma ",
        "ε": " epsilon ",
        "η": " eta ",
        "π": " pi ",
        "δ": " delta ",
        "Δ": " delta ",
        "ρ": " rho ",
        "τ": " tau ",
        "ω": " omega ",
        "φ": " phi ",
        "ψ": " psi ",
        "κ": " kappa ",
        "ν": " nu ",
        "ξ": " xi ",
        "ζ": " zeta ",
        "χ": " chi ",
        "Λ": " lambda ",
        "Θ": " theta ",
        "Φ": " phi ",
        "Ω": " omega ",
        "∞": " infinity ",
        "∑": " sum ",
        "Σ": " sum ",
        "√": " sqrt ",
        "∂": " d ",
        "∇": " grad ",
    }
)
_TOKEN_RE = re.compile(
    rf"(?P<neq>!=|≠|=/=)|(?P<arrow><?[-=]+>)|(?P<short>\bw/o\b|\bw/(?=\s))|(?P<num>{EXPRESSION.pattern})"
    rf"|(?P<word>(?:non-)?[^\W_]+(?:'[^\W_]+)?)|(?P<op>[%=<>+*/^-])"
)
# Shorthand of terse answers: an arrow reads as "to" (a function word), "w/o" as "without".
_SHORTHAND = {"w/o": "without", "w/": "with"}
# One spelling per word where answers differ only in form: "can't" is "cannot"; "non-linear" is
# "nonlinear", one word, so "non-saturating" never reads as "saturating".
_CONTRACTIONS = {"can't": "cannot", "cant": "cannot", "eps": "epsilon"}
# British and American spellings meet: normalise/normalize, regularisation/regularization.
_ISE = re.compile(r"^(\w{4,})is(e|ed|es|ing|ation|ations|er|ers)$")
_CLAUSE_SPLIT = re.compile(
    r"(?<=[.!?])\s+|(?<=[;:])\s+|\n+|(?<=,)\s+(?=(?:and|so|but|while|whereas|however|although|though)\b)"
    r"|\s+(?=(?:whereas|while|but|however|although)\s)",
    re.I,
)

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
        "then",
        "also",
        "just",
        "very",
        "into",
        "about",
        "such",
        "has",
        "have",
        "had",
    ]
)
NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
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
        "wasn't",
        "wasnt",
        "weren't",
        "werent",
        "hasn't",
        "hasnt",
        "haven't",
        "havent",
        "hadn't",
        "couldn't",
        "couldnt",
        "mustn't",
        "needn't",
        "without",
        "hardly",
        "nothing",
        "lack",
        "lacks",
        "rarely",
        "seldom",
    ]
)
# Negations only when followed by a word: "fails to converge", "none of the features" (but "the bootstrap
# fails for the maximum" states a claim, and `None` in code is no negation).
NEGATION_BEFORE = {"fail": "to", "fails": "to", "failed": "to", "none": "of"}
# Words that put what follows on the other side of a contrast ("rather than X", "unlike X").
CONTRAST = frozenset(["rather", "instead", "unlike", "than", "opposed", "versus", "vs", "contrast"])


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    m = _ISE.match(word)
    if m:
        word = f"{m.group(1)}iz{m.group(2)}"
    return str(_STEMMER.stemWord(word))


# Words with a direction: (axis, sign, kind), looked up by the word itself so that "reducer" or
# "overview" are not directions. A pattern word with a direction also matches words of the same
# direction ("reduce" ~ "lower" ~ "cut"); the opposite direction of the same kind marks a reversed
# claim. Kinds keep a state apart from a change: "high variance" (a diagnosis) is not contradicted by
# "reduces variance" (a remedy); comparatives ("lower", "more") go with either.
_VERBS = {
    "size": (
        "reduce decrease drop cut fall shrink decline diminish lessen weaken lower",
        "increase raise grow rise boost inflate amplify strengthen",
    ),
    "speed": ("slow", "speed accelerate"),
    "optimum": ("minimize minimise", "maximize maximise"),
    "quality": ("worsen hurt degrade", "improve help"),
}
_IRREGULAR = {
    "fall": "fell fallen",
    "rise": "rose risen",
    "grow": "grew grown",
    "shrink": "shrank shrunk",
    "cut": "",
    "drop": "dropped dropping",
    "slow": "slowed slowing",
}
_NOUNS = {
    "size": (
        "reduction reductions decrease decreases drop drops decline declines",
        "increase increases rise rises growth boost",
    )
}
_STATES = {
    "size": {"level": ("low small tiny little", "high large big huge"),
             "comparative": ("lower smaller less shorter narrower weaker", "higher larger bigger more longer wider stronger")},
    "count": {"level": ("few", "many numerous"), "comparative": ("fewer", "")},
    "speed": {"level": ("slow", "fast quick"), "comparative": ("slower", "faster quicker")},
    "optimum": {"level": ("minimum minimal smallest lowest min", "maximum maximal largest highest max peak peaks")},
    "quality": {"comparative": ("worse", "better")},
    "curvature": {"level": ("convex", "concave")},
    "fit": {"level": ("underfit underfits underfitting underfitted", "overfit overfits overfitting overfitted")},
    "position": {"level": ("below beneath", "above")},
    "sign": {"level": ("negative", "positive")},
}  # fmt: skip


def _inflect(verb: str) -> list[str]:
    if verb in _IRREGULAR:
        return [verb, verb + "s", verb + "ting" if verb == "cut" else verb + "ing", *_IRREGULAR[verb].split()]
    stem_ = verb[:-1] if verb.endswith("e") else verb
    third = verb + ("es" if verb.endswith(("s", "sh", "ch")) else "s")
    past = verb + "d" if verb.endswith("e") else verb + "ed"
    return [verb, third, past, stem_ + "ing"]


DIRECTION: dict[str, tuple[str, int, str]] = {}
for _axis, _poles in _VERBS.items():
    for _sign, _group in enumerate(_poles):
        for _verb in _group.split():
            for _form in _inflect(_verb):
                DIRECTION.setdefault(_form, (_axis, _sign, "change"))
for _axis, _poles in _NOUNS.items():
    for _sign, _group in enumerate(_poles):
        for _noun in _group.split():
            DIRECTION.setdefault(_noun, (_axis, _sign, "change"))
for _axis, _kinds in _STATES.items():
    for _kind, _poles in _kinds.items():
        for _sign, _group in enumerate(_poles):
            for _word in _group.split():
                DIRECTION[_word] = (_axis, _sign, _kind)  # "lower" is a comparative before it is a verb


# In ML writing these name the algorithm ("gradient boosting", "boosted trees"), not an increase.
for _word in ("boosting", "boosted"):
    del DIRECTION[_word]


def same_direction(want: tuple[str, int, str], got: tuple[str, int, str], *, flip: bool = False) -> bool:
    """`got` says what `want` says (or, with `flip`, its opposite, of the very same kind)."""
    if want[0] != got[0]:
        return False
    if flip:
        return got[1] != want[1] and got[2] == want[2]
    kinds = {want[2], got[2]}
    return got[1] == want[1] and (len(kinds) == 1 or "comparative" in kinds)


@dataclass(frozen=True)
class Token:
    text: str
    stem: str
    start: int  # offsets in the clause text, for quoting
    end: int
    value: float | None = None  # numbers and numeric expressions
    after_break: bool = False  # a comma, colon, bracket or dash stands between it and the token before
    compound: bool = False  # part of a hyphenated word ("cut-off", "trade-off"): never a direction


# Superscripts before NFKC, which would turn "1.96²" into "1.962" and "Xᵀ" into "XT".
_SUPERSCRIPTS = str.maketrans({**{c: f"^{i}" for i, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}, "ᵀ": "^T", "⁻": "^-", "ᵗ": "^t"})


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text.translate(_SUPERSCRIPTS)).translate(_SYMBOLS).casefold()


def normalise_mapped(text: str) -> tuple[str, list[int]]:
    """`normalise`, character by character, with the original offset of every output character."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        piece = normalise(ch)
        out.append(piece)
        where += [i] * len(piece)
    where.append(len(text))
    return "".join(out), where


_BREAK = re.compile(r"[,;:()\[\]]|\s-\s|\s—\s?")


def tokens(text: str) -> tuple[Token, ...]:
    """Words, operators and numbers of `text` (already normalised), with character offsets."""
    out: list[Token] = []
    previous_end = 0
    for m in _TOKEN_RE.finditer(text):
        raw = m.group()
        brk = bool(out) and bool(_BREAK.search(text, previous_end, m.start()))
        previous_end = m.end()
        if m.lastgroup == "arrow":
            out.append(Token("to", "to", m.start(), m.end(), None, brk))
            continue
        if m.lastgroup == "neq":  # "density ≠ probability", "x != 0": a negation, not an equals sign
            out.append(Token("not", "not", m.start(), m.end(), None, brk))
            continue
        if m.lastgroup == "short":
            word = _SHORTHAND[raw]
            out.append(Token(word, stem(word), m.start(), m.end(), None, brk))
            continue
        if m.lastgroup == "num":
            compact = raw.replace(" ", "")
            out.append(Token(compact, compact, m.start(), m.end(), evaluate(compact.replace(",", "")), brk))
        elif raw == "percent" and out and out[-1].value is not None:
            prev = out[-1]
            out[-1] = Token(prev.text + "%", prev.stem + "%", prev.start, m.end(), prev.value / 100, prev.after_break)  # type: ignore[operator]
        else:
            if m.lastgroup == "word":
                raw = _CONTRACTIONS.get(raw, raw.replace("non-", "non", 1) if raw.startswith("non-") else raw)
            out.append(Token(raw, stem(raw) if m.lastgroup == "word" else raw, m.start(), m.end(), None, brk))
    for i, t in enumerate(out):
        if t.text == "-" and 0 < i < len(out) - 1 and out[i - 1].end == t.start and t.end == out[i + 1].start:
            out[i - 1] = replace(out[i - 1], compound=True)
            out[i + 1] = replace(out[i + 1], compound=True)
    return tuple(out)


def words(text: str) -> list[str]:
    return [t.text for t in tokens(normalise(text))]


@dataclass(frozen=True)
class Clause:
    original: str  # as the candidate wrote it, for quotes; token offsets point into it
    tokens: tuple[Token, ...]
    paragraph: int  # clauses of one paragraph may refer back to each other ("It reduces variance")
    header: bool = False  # a short "Sampling:" header: a new topic, so what follows does not refer back past it

    @property
    def stems(self) -> tuple[str, ...]:
        return tuple(t.stem for t in self.tokens)

    def quote(self, start: int, end: int, limit: int = 140) -> str:
        """The clause, or a window of it around tokens [start, end) when it is long."""
        text = " ".join(self.original.split())
        if len(text) <= limit:
            return text
        lo = self.tokens[start].start if start < len(self.tokens) else 0
        hi = self.tokens[end - 1].end if 0 < end <= len(self.tokens) else len(self.original)
        pad = max(0, (limit - (hi - lo)) // 2)
        a, b = max(0, lo - pad), min(len(self.original), hi + pad)
        snippet = " ".join(self.original[a:b].split())
        return ("…" if a > 0 else "") + snippet + ("…" if b < len(self.original) else "")


# A full stop after these is no sentence end: "the gradient w.r.t. the weights", "e.g. dropout".
_ABBREVIATION = re.compile(r"(?:^|\W)(?:e\.g|i\.e|w\.r\.t|vs|etc|approx|cf|resp|al|fig|eq)\.$", re.I)


def _rejoin_abbreviations(pieces: list[str | None]) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        if piece is None:
            continue
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


_HEADER = re.compile(r"^[^\s:]+(?:\s+[^\s:]+){0,3}:$")


def clauses(text: str, limit_chars: int = 20_000) -> list[Clause]:
    out: list[Clause] = []
    for paragraph, block in enumerate(re.split(r"\n\s*\n", text[:limit_chars])):
        for piece in _rejoin_abbreviations(_CLAUSE_SPLIT.split(block)):
            piece = (piece or "").strip().lstrip("-*•> ").strip()
            if not piece:
                continue
            flat, where = normalise_mapped(piece)
            # Offsets back into the original text; the flags (a break before, part of a hyphenated word) stay.
            toks = tuple(replace(t, start=where[t.start], end=where[t.end - 1] + 1) for t in tokens(flat))
            if toks:
                out.append(Clause(piece, toks, paragraph, bool(_HEADER.match(piece))))
    return out
