"""Pydantic models for every bank file; the single source of truth for what a bank may hold."""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from questions.sections import BEHAVIORAL_GROUPS, SECTIONS

_LIST_ITEM = re.compile(r"^\s*([-*•]|\d+[.)])\s")


def reflow(text: str) -> str:
    """Join hard-wrapped prose lines (YAML `|` blocks) so chat apps wrap them to the screen, while
    paragraphs, indented code and list items keep their line breaks."""
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = para.split("\n")
        kept = lines[0][:1].isspace() or any(line[:1].isspace() or _LIST_ITEM.match(line) for line in lines[1:])
        out.append(para if kept else " ".join(line.strip() for line in lines))
    return "\n\n".join(out)


QuestionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,39}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(reflow)]
Difficulty = Literal["easy", "medium", "hard"]
Role = Literal["mle", "ds", "research"]
Seniority = Literal["junior", "senior"]
Stage = Literal["setup", "data", "modeling", "serving"]
STAGES: tuple[Stage, ...] = ("setup", "data", "modeling", "serving")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class Identified(Strict):
    """A top-level bank item; its id is stable forever (history and spaced repetition refer to it)."""

    id: QuestionId


@cache
def _pattern_facts(value: str) -> tuple[str | None, tuple[int, str] | None, tuple[str, ...]]:
    """(parse error, weakest reading, silent alternatives) of a pattern, worked out once per text:
    banks repeat patterns, and a `says` pattern is checked twice (as a pattern and as a claim)."""
    from bot.grading.patterns import MAX_EXPANSIONS, PatternError, readings, silent_alternatives, weakest_reading

    try:
        if readings(value) > MAX_EXPANSIONS:
            raise PatternError(f"{value!r} has more than {MAX_EXPANSIONS} ways to be read; split it into patterns")
        return None, weakest_reading(value), tuple(silent_alternatives(value))
    except PatternError as exc:
        return str(exc), None, ()


def _check_pattern(value: str, *, content: int) -> str:
    """A rubric pattern must parse and name enough to be a claim: a single word ("variance") matches
    answers that say the opposite as readily as those that say the point."""
    error, weakest, silent = _pattern_facts(value)
    if error is not None:
        raise ValueError(error)
    if silent:
        raise ValueError(
            f"in {value!r} the alternative {silent[0]!r} is only function words, which are optional when matching, "
            "so the pattern accepts the negated reading too; write the two readings as separate patterns"
        )
    if weakest is not None and weakest[0] < content:
        raise ValueError(f"pattern {value!r} can be read as just {weakest[1]!r}: say at least {content} content words")
    return value


Pattern = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(lambda v: _check_pattern(v, content=1)),
]


class Claim(Strict):
    """What a clause of the answer must state: `says`, about `subject` when roles matter. Without a
    subject each `says` pattern needs two content words (a number counts as two); with one, the
    subject is the second."""

    subject: list[Pattern] = Field(default_factory=list)
    says: list[Pattern] = Field(min_length=1)

    @field_validator("says")
    @classmethod
    def _says_enough(cls, says: list[str], info: ValidationInfo) -> list[str]:
        if not info.data.get("subject"):
            for i, pattern in enumerate(says):
                try:
                    _check_pattern(pattern, content=2)
                except ValueError as exc:
                    raise ValueError(f"says.{i}: {exc} (or give the claim a subject)") from None
        return says


class Contradiction(Claim):
    """A wrong version of the point a candidate is likely to state, and what is true instead."""

    correction: Text


class KeyPoint(Strict):
    """One rubric item: the point in words, the claims that state it, the wrong claims that contradict it."""

    point: Text
    claims: list[Claim] = Field(min_length=1)
    contradictions: list[Contradiction] = Field(default_factory=list)
    weight: int = Field(default=1, ge=1, le=3)

    @model_validator(mode="after")
    def _weighty_points_list_contradictions(self) -> KeyPoint:
        if self.weight >= 2 and not self.contradictions:
            raise ValueError("a key point of weight 2 or more needs at least one contradiction")
        return self


class FollowUp(Strict):
    """A follow-up question with its own rubric; `targets` are the main key points (0-based) it
    probes when the candidate missed them, and none means it goes deeper."""

    ask: Text
    targets: list[int] = Field(default_factory=list)
    key_points: list[KeyPoint] = Field(min_length=1)
    reference: Text


def _check_bare_numbers(points: list[KeyPoint], prompt: str, where: str) -> None:
    """A pattern that is only a number the question itself states would match the candidate
    repeating the question ("the test catches 99% of cases") as a claim."""
    from bot.grading.patterns import lone_numbers
    from bot.grading.text import normalise, tokens

    given = [t.value for t in tokens(normalise(prompt)) if t.value is not None]
    if not given:
        return
    for i, kp in enumerate(points):
        sides = [("claims", n, c) for n, c in enumerate(kp.claims)]
        sides += [("contradictions", n, c) for n, c in enumerate(kp.contradictions)]
        for field, n, claim in sides:
            if claim.subject:
                continue
            for k, pattern in enumerate(claim.says):
                if any(abs(v - g) < 1e-9 for v in lone_numbers(pattern) for g in given):
                    raise ValueError(
                        f"{where}{i}.{field}.{n}.says.{k}: {pattern!r} can be read as just a number the question "
                        "states; add the words that make it a claim"
                    )


def _check_targets(follow_ups: list[FollowUp], key_points: list[KeyPoint], where: str) -> None:
    for i, f in enumerate(follow_ups):
        bad = [t for t in f.targets if not 0 <= t < len(key_points)]
        if bad:
            raise ValueError(f"{where}.{i}.targets: {bad[0]} is not a key point index (0-{len(key_points) - 1})")


def _check_section(value: str) -> str:
    if value not in SECTIONS:
        raise ValueError(f"unknown book section {value!r}; see questions/sections.py")
    return value


class _Asked(Identified):
    """Fields shared by everything the interviewer asks in free text."""

    section: str
    difficulty: Difficulty
    prompt: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=10, max_length=2000), AfterValidator(reflow)
    ]
    hints: list[Text] = Field(min_length=1, max_length=3)
    key_points: list[KeyPoint] = Field(min_length=2)
    follow_ups: list[FollowUp] = Field(default_factory=list)
    roles: list[Role] = Field(min_length=1)
    seniority: list[Seniority] = Field(min_length=1)
    minutes: int = Field(ge=1, le=60)

    _section = field_validator("section")(classmethod(lambda cls, v: _check_section(v)))

    @model_validator(mode="after")
    def _follow_ups_target_key_points(self) -> _Asked:
        _check_targets(self.follow_ups, self.key_points, "follow_ups")
        _check_bare_numbers(self.key_points, self.prompt, "key_points.")
        for i, f in enumerate(self.follow_ups):
            _check_bare_numbers(f.key_points, f"{self.prompt}\n{f.ask}", f"follow_ups.{i}.key_points.")
        return self


Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
TableName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,30}$")]
Column = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,30} (INTEGER|REAL|TEXT)$")]


def _cell(value: object) -> int | float | str | None:
    if value is None or (isinstance(value, int | float | str) and not isinstance(value, bool)):
        return value
    raise ValueError(f"a cell must be a number, text or null, not {type(value).__name__} (quote dates)")


Cell = Annotated[int | float | str | None, PlainValidator(_cell)]
Rows = Annotated[list[list[Cell]], Field(max_length=500)]


def _compiles(code: str, mode: Literal["exec", "eval"]) -> str:
    try:
        compile(code, "<bank>", mode)
    except SyntaxError as exc:
        raise ValueError(f"is not valid Python: {exc.msg} (line {exc.lineno})") from None
    return code


def _squash(text: str) -> str:
    return " ".join(text.split())


class SqlExercise(Strict):
    """A query checked by running it on `fixture`, then on `hidden_fixture`, whose rows hold what a
    shortcut gets wrong (ties, NULLs, duplicates, empty groups); `hidden_note` names those traps in
    words, because the hidden rows themselves are never shown."""

    tables: dict[TableName, list[Column]] = Field(min_length=1, max_length=8)
    fixture: dict[TableName, Rows]
    hidden_fixture: dict[TableName, Rows]
    hidden_note: Text
    reference_query: Code
    ordered: bool = False
    float_tolerance: float = Field(default=1e-6, ge=0, le=1)

    @field_validator("tables")
    @classmethod
    def _columns_unique(cls, tables: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, columns in tables.items():
            names = [c.split()[0] for c in columns]
            if not columns or len(set(names)) != len(names):
                raise ValueError(f"table {name} needs at least one column and unique column names")
        return tables

    @field_validator("fixture", "hidden_fixture")
    @classmethod
    def _rows_fit_tables(
        cls, fixture: dict[str, list[list[Cell]]], info: ValidationInfo
    ) -> dict[str, list[list[Cell]]]:
        tables: dict[str, list[str]] | None = info.data.get("tables")
        if tables is None:
            return fixture  # `tables` is invalid and reported on its own
        if set(fixture) != set(tables):
            raise ValueError(f"must give rows for exactly the tables {', '.join(tables)}")
        for name, rows in fixture.items():
            for i, row in enumerate(rows):
                if len(row) != len(tables[name]):
                    raise ValueError(
                        f"{name} row {i + 1} has {len(row)} values; the table has {len(tables[name])} columns"
                    )
        return fixture


class CodeCase(Strict):
    """One call of the candidate's function and the value it must return; `why` is what a failing
    hidden case tells the candidate instead of its arguments."""

    call: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    expected: JsonValue
    tolerance: float | None = Field(default=None, ge=0)
    why: Text | None = None

    _call = field_validator("call")(classmethod(lambda cls, v: _compiles(v, "eval")))


class CodeTests(Strict):
    """What makes a `coding` question runnable: the function to write, its tests and a solution that passes them."""

    function: Identifier
    solution: Code
    setup: str = ""
    numpy: bool = False
    visible: list[CodeCase] = Field(min_length=1, max_length=10)
    hidden: list[CodeCase] = Field(min_length=1, max_length=30)
    time_limit_seconds: float = Field(default=2.0, gt=0, le=10)
    memory_limit_mb: int = Field(default=256, ge=64, le=4096)
    tolerance: float = Field(default=1e-9, ge=0)

    _code = field_validator("solution", "setup")(classmethod(lambda cls, v: _compiles(v, "exec")))

    @field_validator("hidden")
    @classmethod
    def _hidden_cases_say_why(cls, cases: list[CodeCase]) -> list[CodeCase]:
        for i, case in enumerate(cases):
            if case.why is None:
                raise ValueError(f"hidden case {i + 1} needs `why`, the short reason shown when it fails")
        return cases


class TechnicalQuestion(_Asked):
    topic: Text
    subtopic: Text
    kind: Literal["concept", "derivation", "coding", "design", "sql"]
    sql: SqlExercise | None = Field(default=None, validate_default=True)
    tests: CodeTests | None = Field(default=None, validate_default=True)
    reference_answer: Text
    misconceptions: list[Text] = Field(default_factory=list)

    @field_validator("sql")
    @classmethod
    def _sql_iff_kind_sql(cls, sql: SqlExercise | None, info: ValidationInfo) -> SqlExercise | None:
        kind = info.data.get("kind")
        if kind == "sql" and sql is None:
            raise ValueError(
                "kind sql needs an `sql` block: tables, fixture, hidden_fixture, hidden_note, reference_query"
            )
        if kind != "sql" and sql is not None:
            raise ValueError("only kind sql may have an `sql` block")
        return sql

    @field_validator("tests")
    @classmethod
    def _tests_only_for_coding(cls, tests: CodeTests | None, info: ValidationInfo) -> CodeTests | None:
        if tests is not None and info.data.get("kind") != "coding":
            raise ValueError("only kind coding may have a `tests` block")
        return tests

    @field_validator("reference_answer")
    @classmethod
    def _reference_shows_the_code(cls, answer: str, info: ValidationInfo) -> str:
        sql: SqlExercise | None = info.data.get("sql")
        tests: CodeTests | None = info.data.get("tests")
        code = sql.reference_query if sql else tests.solution if tests else None
        if code is not None and _squash(code) not in _squash(answer):
            raise ValueError("must show the reference query or solution, indented as a code block")
        return answer


class BehavioralQuestion(_Asked):
    group: Literal["background", "interests", "communication", "personality"]
    listens_for: list[Text] = Field(min_length=2)
    red_flags: list[Text] = Field(min_length=1)
    structure: Text
    follow_ups: list[FollowUp] = Field(min_length=2)

    @model_validator(mode="after")
    def _group_matches_section(self) -> BehavioralQuestion:
        if BEHAVIORAL_GROUPS[self.group] != self.section:
            raise ValueError(f"group {self.group!r} belongs to section {BEHAVIORAL_GROUPS[self.group]}")
        return self


class DesignStage(Strict):
    stage: Stage
    prompt: Text
    probes: list[FollowUp] = Field(min_length=1)
    hints: list[Text] = Field(min_length=1, max_length=3)
    key_points: list[KeyPoint] = Field(min_length=2)
    reference: Text

    @model_validator(mode="after")
    def _probes_target_key_points(self) -> DesignStage:
        _check_targets(self.probes, self.key_points, "probes")
        return self


class Fact(Strict):
    """Something the interviewer knows about a design scenario and tells only when asked."""

    about: list[Text] = Field(min_length=1)  # what a candidate's question mentions when it asks for this
    answer: Text


class DesignScenario(Identified):
    section: Literal["9.3"] = "9.3"
    title: Text
    difficulty: Literal["medium", "hard"]
    prompt: Text
    stages: list[DesignStage] = Field(min_length=4, max_length=4)
    facts: list[Fact] = Field(min_length=4)  # a candidate's clarifying questions need answers
    trade_offs: list[Text] = Field(min_length=2)
    roles: list[Role] = Field(min_length=1)
    seniority: list[Seniority] = Field(min_length=1)
    minutes: int = Field(ge=10, le=90)

    @field_validator("stages")
    @classmethod
    def _stages_in_order(cls, stages: list[DesignStage]) -> list[DesignStage]:
        if tuple(s.stage for s in stages) != STAGES:
            raise ValueError(f"stages must be exactly {', '.join(STAGES)} in that order")
        return stages


class QuizQuestion(Identified):
    """Sized so it can go out as a native Telegram quiz poll unchanged."""

    section: str
    topic: Text
    difficulty: Difficulty
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    options: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]] = Field(
        min_length=2, max_length=10
    )
    answer: int = Field(ge=0, description="index of the one correct option")
    explanation: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

    _section = field_validator("section")(classmethod(lambda cls, v: _check_section(v)))

    @model_validator(mode="after")
    def _answer_in_range(self) -> QuizQuestion:
        if self.answer >= len(self.options):
            raise ValueError(f"answer {self.answer} is out of range for {len(self.options)} options")
        if len({o.casefold() for o in self.options}) != len(self.options):
            raise ValueError("options repeat")
        return self


class CoachingCard(Identified):
    section: str
    title: Text
    advice: Text
    items: list[Text] = Field(min_length=3)

    _section = field_validator("section")(classmethod(lambda cls, v: _check_section(v)))


BANK_MODELS: dict[str, type[Identified]] = {
    "technical": TechnicalQuestion,
    "behavioral": BehavioralQuestion,
    "design": DesignScenario,
    "quiz": QuizQuestion,
    "card": CoachingCard,
}
