"""Project hygiene that is easy to break silently."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = ("telegram", "discord", "sqlalchemy", "apscheduler", "storage", "adapters", "alembic")
CORE_EXCEPTIONS = {"bot/app.py", "bot/cli.py"}  # the composition root and the entry point wire everything


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    assert len(blocks) >= 2
    test_command = blocks[1].strip()
    assert "pytest" in test_command and "mypy" in test_command and "ruff" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text()
    assert "mock-interviewer chat" in blocks[0]


def test_core_imports_no_platform_storage_or_scheduler() -> None:
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        if path.relative_to(ROOT).as_posix() in CORE_EXCEPTIONS:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN_IN_CORE:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_every_setting_read_is_documented() -> None:
    readers = ("bot/config.py", "bot/exercises/sandbox.py")
    code = "".join((ROOT / path).read_text() for path in readers)
    documented = (ROOT / ".env.example").read_text()
    names = set(re.findall(r'get\("([A-Z_]+)"\)', code))
    assert {"DATABASE_URL", "CODE_SANDBOX", "CODE_SANDBOX_UID"} <= names
    for name in names:
        assert name in documented, f"{name} is read but not in .env.example"


def test_scheduler_chatter_is_quiet_unless_debugging(tmp_path: Path) -> None:
    import io
    import logging

    from bot.app import setup_logging
    from bot.config import load_settings

    for level, shown in (("INFO", False), ("DEBUG", True)):
        stream = io.StringIO()
        setup_logging(load_settings({"DATA_DIR": str(tmp_path), "LOG_LEVEL": level}, dotenv=None), stream)
        logging.getLogger("apscheduler.scheduler").info("Running job tick")
        logging.getLogger("bot.delivery").info("bot line")
        assert ("Running job tick" in stream.getvalue()) == shown and "bot line" in stream.getvalue()
    logging.getLogger().handlers.clear()
