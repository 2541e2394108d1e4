"""Run one untrusted query on an in-memory SQLite copy of a fixture, safe by construction.

The fixture is built first, by us; then the connection is locked down before the candidate's text
is ever prepared: `query_only`, no attached databases, an authorizer that allows only reading
(SELECT, WITH, WITH RECURSIVE, column reads and an allowlist of functions), a progress handler
that stops anything running past the time limit, and caps on value size, rows and result bytes.
Extensions are never enabled, so `load_extension` does not exist, and the allowlist denies it too.

The progress handler runs between virtual-machine steps, never inside one function call, so what
one result row can cost in calls is bounded separately: strings of at most VALUE_LIMIT bytes, LIKE
patterns of at most LIKE_LIMIT, and at most COSTLY_CALLS uses of the functions whose time grows
with the product of two string lengths (about 50 ms each at worst), so no query runs much past
the time limit.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from questions.schema import Cell

TIME_LIMIT = 1.0  # seconds; every shipped reference query takes a few milliseconds
ROW_LIMIT = 1_000
VALUE_LIMIT = 10_000  # bytes in one string or blob; the longest in any shipped exercise is 19
LIKE_LIMIT = 100  # characters in a LIKE or GLOB pattern
COSTLY = frozenset("glob instr like ltrim replace rtrim trim".split())
COSTLY_CALLS = 16  # uses of COSTLY functions in one query; shipped references use at most 2
RESULT_LIMIT = 2_000_000  # bytes in the whole result
SQL_LIMIT = 20_000  # characters of query text

Value = int | float | str | None
Row = tuple[Value, ...]
Fixture = Mapping[str, Sequence[Sequence[Cell]]]

_READING_START = re.compile(r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*\(*\s*(select|with|values)\b", re.I | re.S)
_READING = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}
# Scalar, aggregate, window, date and math functions; nothing that reads files, loads code or makes huge
# blobs. Not printf or format either: printf('%.*c', 2000000000, 'x') loops for about 20 s inside one
# call, where the progress handler never runs, so it would outlast the time limit.
FUNCTIONS = frozenset(
    """
    abs avg ceil ceiling char coalesce count cume_dist date datetime dense_rank exp first_value floor
    glob group_concat hex ifnull iif instr julianday lag last_value lead length like likelihood
    likely ln log log10 log2 lower ltrim max min mod nth_value ntile nullif percent_rank pi pow power
    quote rank replace round row_number rtrim sign sqrt strftime substr substring sum time
    total trim trunc typeof unicode unixepoch unlikely upper
    """.split()
)
_ACTIONS = {
    getattr(sqlite3, f"SQLITE_{name}"): name.replace("_", " ")
    for name in """
    ALTER_TABLE ANALYZE ATTACH CREATE_INDEX CREATE_TABLE CREATE_TEMP_INDEX CREATE_TEMP_TABLE CREATE_TEMP_TRIGGER
    CREATE_TEMP_VIEW CREATE_TRIGGER CREATE_VIEW CREATE_VTABLE DELETE DETACH DROP_INDEX DROP_TABLE DROP_TEMP_INDEX
    DROP_TEMP_TABLE DROP_TEMP_TRIGGER DROP_TEMP_VIEW DROP_TRIGGER DROP_VIEW DROP_VTABLE FUNCTION INSERT PRAGMA
    REINDEX SAVEPOINT TRANSACTION UPDATE
    """.split()
}


class _Guard:
    """What the authorizer refused and how many costly calls it let through, for the current query."""

    def __init__(self) -> None:
        self.denied: list[str] = []
        self.costly = 0

    def reset(self) -> None:
        self.denied.clear()
        self.costly = 0


class QueryRefused(Exception):
    """The query did not produce a result; the message tells the candidate why, in one line."""


class QueryTimedOut(QueryRefused):
    pass


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    seconds: float


def load_fixture(conn: sqlite3.Connection, tables: Mapping[str, Sequence[str]], fixture: Fixture) -> None:
    """Create and fill the tables; names were checked by the bank schema, so they are plain identifiers."""
    for name, columns in tables.items():
        conn.execute(f'CREATE TABLE "{name}" ({", ".join(columns)})')
        if fixture[name]:
            marks = ", ".join("?" * len(columns))
            conn.executemany(f'INSERT INTO "{name}" VALUES ({marks})', fixture[name])
    conn.commit()


class ReadOnlyDatabase:
    """An in-memory copy of one fixture that runs only reading queries; blocking, so use it in a worker thread."""

    def __init__(self, tables: Mapping[str, Sequence[str]], fixture: Fixture) -> None:
        self._conn = sqlite3.connect(":memory:")
        load_fixture(self._conn, tables, fixture)
        self._guard = _lock_down(self._conn)

    def __enter__(self) -> ReadOnlyDatabase:
        return self

    def __exit__(self, *_: object) -> None:
        self._conn.close()

    def run(self, query: str, *, time_limit: float = TIME_LIMIT, row_limit: int = ROW_LIMIT) -> QueryResult:
        """Raises QueryRefused (QueryTimedOut past the time limit) with a reason fit to show."""
        if not query.strip():
            raise QueryRefused("the answer holds no query")
        if len(query) > SQL_LIMIT:
            raise QueryRefused(f"the query is longer than {SQL_LIMIT:,} characters")
        if not _READING_START.match(query):
            first = query.split(None, 1)[0].upper()[:20]
            raise QueryRefused(f"refused: {first}; only a reading query (SELECT, or WITH ... SELECT) may run")
        self._guard.reset()
        deadline = time.perf_counter() + time_limit
        self._conn.set_progress_handler(lambda: int(time.perf_counter() > deadline), 1_000)
        start = time.perf_counter()
        try:
            cursor = self._conn.execute(query)
            rows = _fetch(cursor, row_limit)
        except sqlite3.Error as exc:
            if str(exc) == "interrupted":
                raise QueryTimedOut(
                    f"stopped after {time_limit:g} s; on this data the expected query takes milliseconds "
                    "(an endless recursive CTE, or a join missing its condition?)"
                ) from None
            raise QueryRefused(_explain(exc, self._guard.denied)) from None
        columns = tuple(d[0] for d in cursor.description or ())
        return QueryResult(columns, rows, time.perf_counter() - start)


def _lock_down(conn: sqlite3.Connection) -> _Guard:
    """From here on the connection only reads; returns where the authorizer records refusals."""
    conn.execute("PRAGMA query_only = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, VALUE_LIMIT)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, SQL_LIMIT)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, LIKE_LIMIT)
    guard = _Guard()

    def authorize(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
        if action in _READING:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION and arg2 is not None and arg2.lower() in FUNCTIONS:
            guard.costly += arg2.lower() in COSTLY
            if guard.costly <= COSTLY_CALLS:
                return sqlite3.SQLITE_OK
            guard.denied.append(f"more than {COSTLY_CALLS} uses of {', '.join(sorted(COSTLY))}")
            return sqlite3.SQLITE_DENY
        what = arg2 if action == sqlite3.SQLITE_FUNCTION else arg1
        guard.denied.append(f"{_ACTIONS.get(action, str(action))}{f' {what}' if what else ''}")
        return sqlite3.SQLITE_DENY

    conn.set_authorizer(authorize)
    return guard


def _fetch(cursor: sqlite3.Cursor, row_limit: int) -> tuple[Row, ...]:
    rows: list[Row] = []
    size = 0
    for raw in cursor:
        if len(rows) == row_limit:
            raise QueryRefused(f"the query returns more than {row_limit:,} rows")
        row = tuple(_value(v) for v in raw)
        size += sum(len(v) if isinstance(v, str) else 8 for v in row)
        if size > RESULT_LIMIT:
            raise QueryRefused(f"the result is larger than {RESULT_LIMIT // 1_000_000} MB")
        rows.append(row)
    return tuple(rows)


def _value(v: object) -> Value:
    if isinstance(v, bytes):
        return "x'" + v.hex() + "'"
    assert v is None or isinstance(v, int | float | str)
    return v


def _explain(exc: sqlite3.Error, denied: list[str]) -> str:
    text = str(exc)
    if denied:
        refused = ", ".join(dict.fromkeys(denied))
        if any(d.startswith("more than") for d in denied):
            return f"refused: {refused} in one query (each can be slow on long text)"
        if all(d.startswith("FUNCTION") for d in denied):
            return f"refused: {refused}; the exercises allow the usual aggregate, window, text, date and math functions"
        return f"refused: {refused}; only a reading query (SELECT, or WITH ... SELECT) may run"
    if "one statement at a time" in text:
        return "write one statement only"
    if "too big" in text:
        return f"a value in the result is longer than {VALUE_LIMIT:,} bytes"
    if "LIKE or GLOB pattern too complex" in text:
        return f"a LIKE or GLOB pattern is longer than {LIKE_LIMIT} characters"
    if "no such function" in text:
        return (
            f"SQLite error: {text} (the exercises run on SQLite {sqlite3.sqlite_version}: dates use date(), "
            "datetime(), julianday() and strftime(); there is no MEDIAN or DATE_TRUNC)"
        )
    return f"SQLite error: {text}"
