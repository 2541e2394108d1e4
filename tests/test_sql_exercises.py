"""SQL exercises: right answers pass, shortcuts fail on the hidden data, attacks are refused or stopped."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.exercises.answer import split_answer
from bot.exercises.result import ExerciseResult
from bot.exercises.sql_check import check_query, check_sql
from bot.exercises.sql_diff import same_value
from bot.exercises.sql_runner import TIME_LIMIT, ReadOnlyDatabase
from questions.loader import SHIPPED_DIR, Bank, load_bank
from questions.schema import TechnicalQuestion

# One tempting shortcut per exercise: right on the visible data, wrong on the hidden data.
SHORTCUTS = {
    "sql-orders-per-customer": "SELECT c.customer_id, COUNT(*) AS order_count, SUM(o.amount) AS total_amount FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.customer_id",
    "sql-second-highest-salary": "SELECT salary AS second_salary FROM employees ORDER BY salary DESC LIMIT 1 OFFSET 1",
    "sql-duplicate-emails": "SELECT email, COUNT(*) AS accounts FROM users GROUP BY email HAVING COUNT(*) > 1",
    "sql-products-never-ordered": "SELECT product_id, name FROM products WHERE product_id NOT IN (SELECT product_id FROM order_items)",
    "sql-ctr-by-ad": "SELECT i.ad_id, COUNT(*) AS impressions, COUNT(c.click_id) AS clicks, 1.0 * COUNT(c.click_id) / COUNT(*) AS ctr FROM impressions i LEFT JOIN clicks c ON c.impression_id = i.impression_id GROUP BY i.ad_id",
    "sql-label-rate-by-split": "SELECT split, COUNT(*) AS examples, COUNT(*) AS labelled, 1.0 * SUM(label) / COUNT(*) AS positive_rate FROM examples GROUP BY split",
    "sql-employees-above-manager": "SELECT e.name, e.salary, m.name AS manager_name, m.salary AS manager_salary FROM employees e JOIN employees m ON m.emp_id = e.manager_id WHERE e.salary >= m.salary",
    "sql-running-revenue": "SELECT order_date AS day, amount AS revenue, SUM(amount) OVER (ORDER BY order_date ROWS UNBOUNDED PRECEDING) AS running_revenue FROM orders ORDER BY order_date",
    "sql-ab-conversion": "SELECT a.variant, COUNT(*) AS users, COUNT(c.user_id) AS converters, 1.0 * COUNT(c.user_id) / COUNT(*) AS conversion_rate FROM assignments a LEFT JOIN conversions c ON c.user_id = a.user_id GROUP BY a.variant",
    "sql-latest-profile-per-user": "SELECT p.user_id, p.plan, p.country FROM profile_updates p JOIN (SELECT user_id, MAX(updated_at) AS m FROM profile_updates GROUP BY user_id) x ON x.user_id = p.user_id AND x.m = p.updated_at",
    "sql-top-products-per-category": "WITH u AS (SELECT p.category, p.name, SUM(s.quantity) AS units FROM products p JOIN sales s ON s.product_id = p.product_id GROUP BY p.product_id) SELECT category, name, units FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY category ORDER BY units DESC) AS r FROM u) WHERE r <= 2",
    "sql-signup-funnel": "SELECT COUNT(DISTINCT CASE WHEN event = 'visit' THEN user_id END) AS visitors, COUNT(DISTINCT CASE WHEN event = 'signup' THEN user_id END) AS signups, COUNT(DISTINCT CASE WHEN event = 'purchase' THEN user_id END) AS purchasers FROM events",
    "sql-month-over-month-growth": "WITH m AS (SELECT strftime('%Y-%m', ordered_at) AS month, SUM(amount) AS revenue FROM orders GROUP BY 1) SELECT month, revenue, ROUND(100.0 * (revenue - LAG(revenue) OVER (ORDER BY month)) / LAG(revenue) OVER (ORDER BY month), 1) AS growth_pct FROM m ORDER BY month",
    "sql-rolling-7-day-average": "SELECT day, SUM(active_users) OVER (ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) / 7.0 AS avg_7d FROM daily_active",
    "sql-mutual-follows": "SELECT f.follower_id AS user_a, f.followee_id AS user_b FROM follows f JOIN follows g ON g.follower_id = f.followee_id AND g.followee_id = f.follower_id WHERE f.follower_id <= f.followee_id",
    "sql-repeat-purchase-30d": "WITH f AS (SELECT customer_id, MIN(purchased_at) AS first FROM purchases GROUP BY customer_id), s AS (SELECT f.customer_id, f.first, MIN(p.purchased_at) AS second FROM f LEFT JOIN purchases p ON p.customer_id = f.customer_id AND p.purchased_at > f.first GROUP BY f.customer_id) SELECT AVG(COALESCE(julianday(second) - julianday(first) <= 30, 0)) AS repeat_rate FROM s",
    "sql-precision-at-3": "WITH r AS (SELECT query_id, doc_id, RANK() OVER (PARTITION BY query_id ORDER BY score DESC) AS pos FROM scores) SELECT r.query_id, COUNT(rel.doc_id) * 1.0 / COUNT(*) AS precision_at_3 FROM r LEFT JOIN relevant rel ON rel.query_id = r.query_id AND rel.doc_id = r.doc_id WHERE r.pos <= 3 GROUP BY r.query_id",
    "sql-train-test-user-leak": "SELECT a.user_id, COUNT(*) AS train_examples, COUNT(*) AS test_examples FROM examples a JOIN examples b ON a.user_id = b.user_id WHERE a.split = 'train' AND b.split = 'test' GROUP BY a.user_id",
    "sql-median-latency": "WITH r AS (SELECT endpoint, latency_ms, ROW_NUMBER() OVER (PARTITION BY endpoint ORDER BY latency_ms) AS pos, COUNT(*) OVER (PARTITION BY endpoint) AS n FROM requests) SELECT endpoint, latency_ms AS median_ms FROM r WHERE pos = (n + 1) / 2",
    "sql-weekly-retention-cohorts": "SELECT date(u.signup_date, '-6 days', 'weekday 1') AS cohort_week, COUNT(*) AS users, AVG(EXISTS (SELECT 1 FROM activity a WHERE a.user_id = u.user_id AND julianday(a.active_date) - julianday(u.signup_date) BETWEEN 7 AND 14)) AS week1_retention FROM users u GROUP BY cohort_week",
    "sql-sessions-per-user": "WITH m AS (SELECT user_id, unixepoch(ts) AS t, CASE WHEN unixepoch(ts) - LAG(unixepoch(ts)) OVER (PARTITION BY user_id ORDER BY ts) <= 1800 THEN 0 ELSE 1 END AS s FROM clicks), n AS (SELECT user_id, t, SUM(s) OVER (PARTITION BY user_id ORDER BY t ROWS UNBOUNDED PRECEDING) AS k FROM m), sp AS (SELECT user_id, k, (MAX(t) - MIN(t)) / 60.0 AS minutes FROM n GROUP BY user_id, k) SELECT user_id, COUNT(*) AS sessions, MAX(minutes) AS longest_minutes FROM sp GROUP BY user_id",
    "sql-login-streaks": "WITH d AS (SELECT user_id, date(login_ts) AS day FROM logins), i AS (SELECT user_id, julianday(day) - ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY day) AS island FROM d), s AS (SELECT user_id, COUNT(*) AS length FROM i GROUP BY user_id, island) SELECT user_id, MAX(length) AS longest_streak FROM s GROUP BY user_id HAVING MAX(length) >= 3",
    "sql-point-in-time-feature": "SELECT p.prediction_id, (SELECT f.value FROM feature_values f WHERE f.user_id = p.user_id AND f.updated_at < p.predicted_at ORDER BY f.updated_at DESC, f.update_id DESC LIMIT 1) AS value FROM predictions p",
}


@pytest.fixture(scope="module")
def sql_bank() -> Bank:
    return load_bank([SHIPPED_DIR / "technical" / "6.3-sql-exercises.yaml"])


def exercise(bank: Bank, qid: str, *, hidden_as_visible: bool = False) -> TechnicalQuestion:
    """A shipped exercise; optionally with its hidden data made visible, to see the diff a candidate would get."""
    q = bank.technical[qid]
    if hidden_as_visible:
        assert q.sql is not None
        return q.model_copy(update={"sql": q.sql.model_copy(update={"fixture": q.sql.hidden_fixture})})
    return q


def check(q: TechnicalQuestion, query: str) -> ExerciseResult:
    assert q.sql is not None
    return check_query(q.id, q.sql, query)


def test_the_bank_has_the_promised_sql_exercises(sql_bank: Bank) -> None:
    assert len(sql_bank.technical) >= 20 and set(SHORTCUTS) == set(sql_bank.technical)
    assert all(q.kind == "sql" and q.section == "6.3" for q in sql_bank.technical.values())


@pytest.mark.parametrize("qid", sorted(SHORTCUTS))
def test_reference_passes_and_the_shortcut_fails_only_on_the_hidden_data(sql_bank: Bank, qid: str) -> None:
    q = sql_bank.technical[qid]
    assert q.sql is not None
    assert check(q, q.sql.reference_query).passed
    result = check(q, SHORTCUTS[qid])
    visible, hidden = result.cases
    assert visible.passed, visible.reason
    assert hidden.status == "fail" and hidden.reason.startswith("passes the visible data but not the hidden data")
    assert q.sql.hidden_note in hidden.reason and result.diff == ""  # no hidden rows shown


def test_hidden_rows_are_never_shown(sql_bank: Bank) -> None:
    q = sql_bank.technical["sql-orders-per-customer"]
    text = check(q, SHORTCUTS[q.id]).feedback()
    assert "Fay" not in text and "4.5" not in text and "```" not in text
    assert "2 missing" in text  # but the candidate learns how it differs


async def test_fenced_and_bare_answers_are_both_accepted(sql_bank: Bank) -> None:
    q = sql_bank.technical["sql-duplicate-emails"]
    assert q.sql is not None
    fenced = f"I normalise first.\n\n```sql\n{q.sql.reference_query}\n```\n\nNULLs would group together."
    for answer in (fenced, q.sql.reference_query, f"```\n{q.sql.reference_query}```", f"`{q.sql.reference_query}`"):
        assert (await check_sql(q, answer)).passed, answer
    assert split_answer(fenced, "sql").explanation == "I normalise first. NULLs would group together."


def test_a_tie_shows_the_missing_row(sql_bank: Bank) -> None:
    q = exercise(sql_bank, "sql-top-products-per-category", hidden_as_visible=True)
    result = check(q, SHORTCUTS[q.id])
    assert result.cases[0].status == "fail" and "missing" in result.cases[0].reason
    assert "Missing rows" in result.diff and "blender" in result.diff and "category | name" in result.diff


def test_a_null_shows_the_wrong_values_side_by_side(sql_bank: Bank) -> None:
    q = exercise(sql_bank, "sql-orders-per-customer", hidden_as_visible=True)
    query = "SELECT c.customer_id, COUNT(*), SUM(o.amount) FROM customers c LEFT JOIN orders o USING (customer_id) GROUP BY 1"
    result = check(q, query)
    assert "3 with wrong values (in order_count, total_amount)" in result.cases[0].reason
    table = result.diff.split("Wrong values (3):\n```text\n")[1]
    assert table.splitlines()[2:4] == [
        "expected | 3           | 0           | 0",
        "yours    | 3           | 1           | NULL",
    ]


def test_a_duplicate_shows_the_extra_rows(sql_bank: Bank) -> None:
    q = exercise(sql_bank, "sql-mutual-follows", hidden_as_visible=True)
    result = check(q, SHORTCUTS[q.id])
    assert "Extra rows" in result.diff and "missing" not in result.cases[0].reason
    assert "5 rows returned, 2 expected: 3 extra" in result.cases[0].reason


def test_order_is_checked_only_when_the_exercise_says_so(sql_bank: Bank) -> None:
    ordered = sql_bank.technical["sql-running-revenue"]
    assert ordered.sql is not None and ordered.sql.ordered
    query = ordered.sql.reference_query.strip()
    assert query.endswith("ORDER BY order_date")
    result = check(ordered, query + " DESC")
    assert result.cases[0].status == "fail" and "not in the required order" in result.cases[0].reason
    unordered = sql_bank.technical["sql-duplicate-emails"]
    assert unordered.sql is not None
    assert check(unordered, unordered.sql.reference_query.strip() + " ORDER BY accounts, email DESC").passed


def test_column_names_are_ignored_and_numbers_compared_within_the_tolerance(sql_bank: Bank) -> None:
    q = sql_bank.technical["sql-ctr-by-ad"]
    query = (
        "SELECT i.ad_id AS a, COUNT(DISTINCT i.impression_id) AS b, COUNT(DISTINCT c.impression_id) * 1.0 AS c, "
        "ROUND(CAST(COUNT(DISTINCT c.impression_id) AS REAL) / COUNT(DISTINCT i.impression_id), 9) AS d "
        "FROM impressions i LEFT JOIN clicks c ON c.impression_id = i.impression_id GROUP BY i.ad_id"
    )
    assert check(q, query).passed
    rounded_too_far = query.replace(", 9)", ", 2)")
    assert not check(q, rounded_too_far).passed


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("INSERT INTO users VALUES (99, 'x@example.com')", "INSERT"),
        ("UPDATE users SET email = NULL", "UPDATE"),
        ("DELETE FROM users", "DELETE"),
        ("CREATE TABLE stolen AS SELECT * FROM users", "CREATE"),
        ("DROP TABLE users", "DROP"),
        ("ATTACH DATABASE '/tmp/evil.db' AS evil", "ATTACH"),
        ("PRAGMA table_info(users)", "PRAGMA"),
        ("SELECT load_extension('/tmp/evil.so')", "FUNCTION load_extension"),
        ("WITH x AS (SELECT 1) INSERT INTO users SELECT 1, 'x' FROM x", "INSERT users"),
        ("SELECT * FROM users; DELETE FROM users", "one statement"),
        ("SELECT * FROM pragma_table_info('users')", "refused"),
        ("SELECT randomblob(1000000000)", "FUNCTION randomblob"),
        ("SELECT readfile('/etc/passwd')", "no such function: readfile"),  # the CLI's file functions are absent
        ("VACUUM INTO '/tmp/copy.db'", "refused: VACUUM"),
    ],
)
def test_writes_attach_pragma_and_extensions_are_refused(sql_bank: Bank, query: str, refused: str) -> None:
    q = sql_bank.technical["sql-duplicate-emails"]
    result = check(q, query)
    assert [c.status for c in result.cases] == ["error", "error"]
    assert refused in result.cases[0].reason
    assert q.sql is not None and check(q, q.sql.reference_query).passed  # nothing was changed


def test_an_endless_recursive_cte_is_stopped_at_the_time_limit(sql_bank: Bank) -> None:
    q = sql_bank.technical["sql-duplicate-emails"]
    start = time.perf_counter()
    result = check(q, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*), 1 FROM r")
    assert [c.status for c in result.cases] == ["timeout", "timeout"]
    assert time.perf_counter() - start < 2 * TIME_LIMIT + 1.5
    streaming = check(q, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n, n FROM r")
    assert "more than 1,000 rows" in streaming.cases[0].reason


# Text built from a table in steps (the progress handler stops loops), then spent in single function
# calls, where it never runs: before, one printf took 18 s and a row of LIKEs on long text minutes.
_LONG = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9990), "
    "h(v) AS (SELECT group_concat('a', '') FROM n), "
    "s(v) AS (SELECT group_concat('b', '') || 'a' FROM n WHERE i < 666) "
)


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("SELECT printf('%.*c', 2000000000, 'x'), 1", "FUNCTION printf"),
        ("SELECT format('%.*c', 2000000000, 'x'), 1", "FUNCTION format"),
        (_LONG + "SELECT " + ", ".join(["rtrim(h.v, s.v)"] * 17) + " FROM h, s", "more than 16 uses"),
        (_LONG + "SELECT h.v LIKE '%' || h.v, 1 FROM h", "pattern is longer than 100"),
        (_LONG + "SELECT h.v || h.v, 1 FROM h", "longer than 10,000 bytes"),
    ],
)
def test_one_row_cannot_outlast_the_time_limit(sql_bank: Bank, query: str, refused: str) -> None:
    start = time.perf_counter()
    result = check(sql_bank.technical["sql-duplicate-emails"], query)
    assert refused in result.cases[0].reason and result.cases[0].status == "error"
    assert time.perf_counter() - start < 2 * TIME_LIMIT


def test_the_costliest_row_allowed_stays_near_the_time_limit() -> None:
    query = _LONG + "SELECT " + ", ".join(["rtrim(h.v, s.v)"] * 16) + " FROM h, s"
    with ReadOnlyDatabase({"t": ["a"]}, {"t": []}) as db:
        start = time.perf_counter()
        db.run(query)
        assert time.perf_counter() - start < TIME_LIMIT + 2  # about 0.6 s on a quiet machine


def test_a_postgres_function_gets_a_dialect_hint(sql_bank: Bank) -> None:
    q = sql_bank.technical["sql-month-over-month-growth"]
    result = check(q, "SELECT DATE_TRUNC('month', ordered_at), SUM(amount), NULL FROM orders GROUP BY 1")
    assert "no such function: DATE_TRUNC" in result.cases[0].reason and "strftime()" in result.cases[0].reason


def test_the_fixture_copy_is_read_only_even_for_its_owner(sql_bank: Bank) -> None:
    q = sql_bank.technical["sql-duplicate-emails"]
    assert q.sql is not None
    with ReadOnlyDatabase(q.sql.tables, q.sql.fixture) as db:
        assert len(db.run("SELECT * FROM users").rows) == len(q.sql.fixture["users"])
        with pytest.raises(Exception, match="refused"):
            db.run("DELETE FROM users")


async def test_a_slow_query_does_not_block_the_event_loop(sql_bank: Bank) -> None:
    q = sql_bank.technical["sql-duplicate-emails"]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    start = time.perf_counter()
    result = await check_sql(
        q, "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*), 1 FROM r"
    )
    elapsed = time.perf_counter() - start
    task.cancel()
    assert result.cases[0].status == "timeout" and elapsed >= TIME_LIMIT
    assert ticks >= elapsed / 0.01 * 0.3  # the loop kept turning while SQLite worked


def test_integers_compare_exactly_and_reals_within_the_tolerance() -> None:
    assert same_value(1, 1.0, 0) and same_value(0.1 + 0.2, 0.3, 1e-9) and same_value(None, None, 0)
    assert not same_value(1_000_001, 1_000_000, 1e-3)  # a count that is off by one is wrong
    assert not same_value("1", 1, 0) and not same_value(None, 0, 1.0)
