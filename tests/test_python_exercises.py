"""Python exercises in the sandbox: references pass, common bugs fail the hidden cases, attacks are contained."""

from __future__ import annotations

import asyncio
import gc
import itertools
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.exercises.python_check import check_python, run_tests, same_json
from bot.exercises.sandbox import Sandbox, SandboxConfig, sandbox_config
from questions.loader import SHIPPED_DIR, Bank, load_bank
from questions.schema import CodeTests, TechnicalQuestion
from tests.conftest import ROOT

CODING_FILES = [
    "6.1-coding-exercises.yaml",
    "7.2-sampling-exercises.yaml",
    "7.3-numpy-exercises.yaml",
    "8.1-numpy-exercises.yaml",
    "8.2.4-numpy-exercises.yaml",
    "8.3-numpy-exercises.yaml",
]

# A usual mistake per exercise: right on every visible example, wrong on a hidden case.
BUGS = {
    "code-merge-sort": "def merge_sort(items, key=None):\n    key = key or (lambda x: x)\n    if len(items) <= 1:\n        return list(items)\n    m = len(items) // 2\n    a, b = merge_sort(items[:m], key), merge_sort(items[m:], key)\n    out = []\n    while a and b:\n        out.append(a.pop(0) if key(a[0]) < key(b[0]) else b.pop(0))\n    return out + a + b",
    "code-insert-position": "def insert_position(values, target):\n    lo, hi = 0, len(values) - 1\n    while lo < hi:\n        mid = (lo + hi) // 2\n        if values[mid] < target:\n            lo = mid + 1\n        else:\n            hi = mid\n    return lo if values[lo] >= target else lo + 1",
    "code-level-order-traversal": "def level_order(root):\n    levels, frontier = [], [root]\n    while frontier:\n        levels.append([n.val for n in frontier])\n        frontier = [c for n in frontier for c in (n.left, n.right) if c]\n    return levels",
    "code-lcs-length": "def lcs_length(a, b):\n    return sum(min(a.count(c), b.count(c)) for c in set(a))",
    "code-rpn-evaluate": "def eval_rpn(tokens):\n    s = []\n    for t in tokens:\n        if t in '+-*/':\n            b, a = s.pop(), s.pop()\n            s.append({'+': a + b, '-': a - b, '*': a * b, '/': a // b if b else 0}[t])\n        else:\n            s.append(int(t))\n    return s[0]",
    "code-edit-distance": "def edit_distance(a, b):\n    if not a or not b:\n        return 0\n    prev = list(range(len(b) + 1))\n    for i, x in enumerate(a, 1):\n        cur = [i]\n        for j, y in enumerate(b, 1):\n            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))\n        prev = cur\n    return prev[-1]",
    "code-subarrays-summing-to-k": "def count_subarrays(nums, k):\n    count = total = left = 0\n    for right, x in enumerate(nums):\n        total += x\n        while total > k and left <= right:\n            total -= nums[left]\n            left += 1\n        count += total == k\n    return count",
    "code-validate-bst": "def is_bst(root):\n    if root is None:\n        return True\n    if root.left and root.left.val >= root.val:\n        return False\n    if root.right and root.right.val <= root.val:\n        return False\n    return is_bst(root.left) and is_bst(root.right)",
    "code-combination-sum": "def combination_sum(candidates, target):\n    found = []\n    def go(start, rest, path):\n        if rest == 0:\n            found.append(path)\n        for i in range(start, len(candidates)):\n            if candidates[i] > rest:\n                break\n            go(i, rest - candidates[i], path + [candidates[i]])\n    go(0, target, [])\n    return found",
    "code-rand7-from-rand5": "import random\ndef rand7(rand5):\n    rand5()\n    return random.randint(1, 7)",
    "code-lis-length": "import bisect\ndef lis_length(nums):\n    tails = []\n    for x in nums:\n        i = bisect.bisect_right(tails, x)\n        tails[i:i + 1] = [x]\n    return len(tails)",
    "code-expression-evaluator": "def evaluate(expression):\n    return eval(expression.replace('^', '**'))",
    "code-reservoir-sample": "def reservoir_sample(stream, k, rng):\n    return rng.sample(list(stream), k)",
    "code-weighted-choice": "import random\ndef weighted_choice(weights, rng):\n    return random.choices(range(len(weights)), weights)[0]",
    "code-roc-auc-with-ties": "import numpy as np\ndef roc_auc(labels, scores):\n    labels = np.asarray(labels)\n    ranks = np.argsort(np.argsort(scores)) + 1\n    p = labels.sum()\n    n = len(labels) - p\n    return float((ranks[labels == 1].sum() - p * (p + 1) / 2) / (p * n))",
    "code-kmeans-step": "import numpy as np\ndef kmeans_step(points, centroids):\n    d = ((points[:, None] - centroids[None]) ** 2).sum(-1)\n    a = d.argmin(1)\n    return np.array([points[a == j].mean(0) for j in range(len(centroids))]), a",
    "code-scaled-dot-product-attention": "import numpy as np\ndef attention(q, k, v, mask=None):\n    s = q @ k.T / np.sqrt(q.shape[-1])\n    if mask is not None:\n        s = np.where(mask, s, -np.inf)\n    w = np.exp(s - s.max(-1, keepdims=True))\n    return w / w.sum(-1, keepdims=True) @ v",
    "code-stable-softmax": "import numpy as np\ndef softmax(x):\n    e = np.exp(x)\n    return e / e.sum(axis=-1, keepdims=True)",
}


@pytest.fixture(scope="module")
def coding_bank() -> Bank:
    return load_bank([SHIPPED_DIR / "technical" / name for name in CODING_FILES], check_duplicates=False)


@pytest.fixture
async def sandbox() -> Sandbox:
    box = Sandbox(SandboxConfig())
    reason = await box.unavailable()
    if reason is not None:
        pytest.skip(f"no code sandbox on this host: {reason}")
    return box


def toy(**tests: object) -> TechnicalQuestion:
    """A one-function exercise with tight limits, for feeding the sandbox hostile code."""
    return TechnicalQuestion.model_validate(
        {
            "id": "toy-exercise",
            "section": "6.1",
            "topic": "t",
            "subtopic": "s",
            "difficulty": "easy",
            "kind": "coding",
            "prompt": "Write f(x) returning x + 1.",
            "hints": ["add one"],
            "key_points": [
                {"point": "p", "claims": [{"says": ["adds one"]}]},
                {"point": "q", "claims": [{"says": ["returns integer"]}]},
            ],
            "reference_answer": "    def f(x):\n        return x + 1",
            "roles": ["mle"],
            "seniority": ["junior"],
            "minutes": 3,
            "tests": {
                "function": "f",
                "solution": "def f(x):\n    return x + 1",
                "visible": [{"call": "f(1)", "expected": 2}],
                "hidden": [{"call": "f(-1)", "expected": 0, "why": "a negative number"}],
                "time_limit_seconds": 1,
                **tests,
            },
        }
    )


def code_tests(q: TechnicalQuestion) -> CodeTests:
    assert q.tests is not None
    return q.tests


def test_the_bank_has_the_promised_coding_exercises(coding_bank: Bank) -> None:
    assert len(coding_bank.technical) >= 15 and set(BUGS) == set(coding_bank.technical)
    assert all(q.kind == "coding" and q.tests for q in coding_bank.technical.values())


async def test_references_pass_and_usual_bugs_fail_only_hidden_cases(coding_bank: Bank, sandbox: Sandbox) -> None:
    questions = sorted(coding_bank.technical.values(), key=lambda q: q.id)
    items = [(code_tests(q), code_tests(q).solution) for q in questions]
    items += [(code_tests(q), BUGS[q.id]) for q in questions]
    outcomes, _ = await run_tests(sandbox, items, reveal_hidden=False)
    for q, reference, buggy in zip(questions, outcomes, outcomes[len(questions) :], strict=False):
        assert not reference.problem and all(c.passed for c in reference.cases), (q.id, reference)
        assert all(c.passed for c in buggy.cases if not c.hidden), (q.id, buggy)
        failed = [c for c in buggy.cases if c.hidden and not c.passed]
        assert failed, f"{q.id}: the bug passes every hidden case"
        whys = {str(c.why) for c in code_tests(q).hidden}
        hidden_calls = [c.call for c in code_tests(q).hidden]
        for case in failed:
            assert any(case.reason.startswith(why) for why in whys), case.reason
            assert not any(call in case.reason for call in hidden_calls), case.reason


async def test_an_off_by_one_and_an_empty_input_are_named(coding_bank: Bank, sandbox: Sandbox) -> None:
    lis = coding_bank.technical["code-lis-length"]
    result = await check_python(lis, f"```python\n{BUGS['code-lis-length']}\n```\nbisect keeps tails.", sandbox)
    assert "hidden 2" in [c.name for c in result.cases if not c.passed]
    assert "repeated values (strictly increasing): wrong result" in result.feedback()
    edit = coding_bank.technical["code-edit-distance"]
    result = await check_python(edit, BUGS["code-edit-distance"], sandbox)
    assert {c.reason for c in result.failed(hidden=True)} >= {"the first string empty: wrong result"}
    visible_bug = "def edit_distance(a, b):\n    return abs(len(a) - len(b))"
    result = await check_python(edit, visible_bug, sandbox)
    assert 'edit_distance("kitten", "sitting") returned 1, expected 3' in result.feedback()


async def test_a_syntax_error_or_a_missing_function_is_reported(sandbox: Sandbox) -> None:
    result = await check_python(toy(), "def f(x)\n    return x", sandbox)
    assert result.reason.startswith("your code did not run: SyntaxError") and not result.passed
    result = await check_python(toy(), "def g(x):\n    return x + 1", sandbox)
    assert "no function named f is defined" in result.reason
    assert {c.status for c in result.cases} == {"not_run"}


@pytest.mark.parametrize(
    ("name", "code", "expected"),
    [
        ("fork bomb", "import os\ndef f(x):\n    while True:\n        os.fork()", "BlockingIOError"),
        ("10 GB", "def f(x):\n    block = bytearray(10 * 1024**3)\n    return x + 1", "MemoryError"),
        ("/etc/passwd", "def f(x):\n    return open('/etc/passwd').read()", "FileNotFoundError"),
        ("project file", f"def f(x):\n    return open({str(ROOT / 'pyproject.toml')!r}).read()", "FileNotFoundError"),
        ("writing", "def f(x):\n    open('/pwned.txt', 'w').write('x')", "Read-only file system"),
        ("infinite loop", "def f(x):\n    while True:\n        pass", "took longer than 1 s"),
    ],
)
async def test_hostile_code_is_contained(sandbox: Sandbox, name: str, code: str, expected: str) -> None:
    start = time.perf_counter()
    result = await check_python(toy(), code, sandbox)
    assert not result.passed and result.cases[0].status in ("error", "timeout"), name
    assert expected in result.cases[0].reason, result.cases[0].reason
    assert time.perf_counter() - start < 15


async def test_a_fork_bomb_that_ignores_errors_and_its_processes_are_killed(sandbox: Sandbox) -> None:
    code = (
        "import os, time\n"
        "def f(x):\n"
        "    if os.fork() == 0:\n"
        "        os.execv('/usr/bin/sleep', ['sleep', '987.654'])\n"
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "        except BaseException:\n"
        "            pass\n"
    )
    result = await check_python(toy(), code, sandbox)
    assert result.cases[0].status == "timeout" and result.cases[1].status in ("timeout", "error")
    leftovers = subprocess.run(["pgrep", "-f", "sleep 987.654"], capture_output=True, text=True).stdout
    assert leftovers == ""


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A TCP server on the host's loopback that records anyone who connects."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    seen: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            seen.append(str(peer))
            conn.close()

    thread = threading.Thread(target=accept)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


async def test_no_network_not_even_the_hosts_loopback(sandbox: Sandbox, listener: tuple[int, list[str]]) -> None:
    port, seen = listener
    code = f"import socket\ndef f(x):\n    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n    return x + 1"
    result = await check_python(toy(), code, sandbox)
    assert "ConnectionRefusedError" in result.cases[0].reason
    socket.create_connection(("127.0.0.1", port)).close()  # the listener works for the host itself
    await asyncio.sleep(0.5)
    assert len(seen) == 1


async def test_the_event_loop_keeps_running_while_hostile_code_runs(sandbox: Sandbox) -> None:
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    result = await check_python(toy(), "def f(x):\n    while True:\n        pass", sandbox)
    task.cancel()
    assert result.cases[0].status == "timeout"
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 50 and max(gaps) < 0.5


async def test_flooding_the_output_is_cut_off(sandbox: Sandbox) -> None:
    code = "import os\ndef f(x):\n    for fd in range(3, 12):\n        try:\n            while True:\n                os.write(fd, b'{}' * 65536)\n        except OSError:\n            pass"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        result = await check_python(toy(), code, sandbox)
        gc.collect()  # a pipe left half-read would be found unclosed here, or after the loop is gone
    assert not result.passed and "more than 4 MB of output" in result.reason
    assert not [w for w in caught if "unclosed" in str(w.message)]


async def test_prints_are_captured_not_mixed_into_results(sandbox: Sandbox) -> None:
    result = await check_python(toy(), "def f(x):\n    print('thinking', x)\n    return x + 1", sandbox)
    assert result.passed and result.output == "thinking 1\nthinking -1\n"


async def test_without_a_sandbox_the_code_is_not_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\ndef f(x):\n    return x + 1"
    off = await check_python(toy(), code, Sandbox(sandbox_config({"CODE_SANDBOX": "off"}, dotenv=None)))
    assert not off.executed and "CODE_SANDBOX=off" in off.reason and off.cases == ()
    monkeypatch.setenv("PATH", str(tmp_path))
    missing = await check_python(toy(), code, Sandbox(SandboxConfig()))
    assert not missing.executed and "bubblewrap (bwrap) is not installed" in missing.reason
    assert missing.to_json()["executed"] is False and "apt-get install bubblewrap" in missing.to_json()["reason"]
    assert not marker.exists()


def test_sandbox_settings_are_checked() -> None:
    assert sandbox_config({}, dotenv=None) == SandboxConfig("bwrap", 65534)
    assert sandbox_config({"CODE_SANDBOX": "OFF", "CODE_SANDBOX_UID": "1000"}, dotenv=None) == SandboxConfig(
        "off", 1000
    )
    with pytest.raises(Exception, match="CODE_SANDBOX must be bwrap or off") as info:
        sandbox_config({"CODE_SANDBOX": "docker", "CODE_SANDBOX_UID": "0"}, dotenv=None)
    assert "CODE_SANDBOX_UID must be the number of an unprivileged user" in str(info.value)


async def test_the_code_runs_as_an_unprivileged_user_with_no_capabilities(sandbox: Sandbox) -> None:
    question = toy(
        visible=[{"call": "f(0)", "expected": True}],
        hidden=[{"call": "capabilities()", "expected": 0, "why": "capabilities"}],
    )
    code = (
        "import os\n"
        "def f(x):\n"
        "    return os.getuid() != 0 and os.geteuid() != 0\n"
        "def capabilities():\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int([l for l in status.splitlines() if l.startswith('CapEff')][0].split()[1], 16)\n"
    )
    result = await check_python(question, code, sandbox)
    assert [c.status for c in result.cases] == ["pass", "pass"], result.cases


def test_values_compare_as_json_with_exact_integers() -> None:
    assert same_json([1, 2.0000000001, {"a": None}], [1, 2.0, {"a": None}], 1e-9)
    assert not same_json(1_003_488_461, 1_003_488_462, 1e-6)  # integers are exact whatever the tolerance
    assert same_json(1.0, 1, 0) and not same_json(True, 1, 0) and not same_json([1], [1, 1], 0)
    assert same_json(float("nan"), float("nan"), 0) and not same_json(float("nan"), 0.0, 1.0)
    assert not same_json(10**400, 1.0, 1e-9) and same_json(10**400, 10**400, 0)
    assert not same_json({"a": 1}, {"b": 1}, 0) and not same_json("1", 1, 0)
