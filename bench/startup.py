"""Warm start-up of `mock-interviewer chat`: from launch to the first round shown and a clean exit
at end of input (piped stdin, SQLite, bank cache and database already made).

The baseline is a bare `python -c pass` with the same interpreter, run alternately with it in the
same loop, so a noisy machine slows both. The target is under 1 s warm and the figure to watch is
the extra time over the bare interpreter.

    python -m bench.startup [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    chat = [sys.executable, "-m", "bot.cli", "chat", "--user", "bench"]
    bare = [sys.executable, "-c", "pass"]
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TELEGRAM_", "DISCORD_"))}
        env["DATA_DIR"] = data
        timed(chat, env)  # the first start builds the bank cache and the database: not what is measured
        chats, bares = [], []
        for _ in range(args.runs):
            chats.append(timed(chat, env))
            bares.append(timed(bare, env))
    c, b = statistics.median(chats), statistics.median(bares)
    ratios = statistics.median(x / y for x, y in zip(chats, bares, strict=True))
    print(f"chat, warm: median {c * 1000:.0f} ms (min {min(chats) * 1000:.0f}, max {max(chats) * 1000:.0f})")
    print(f"python -c pass: median {b * 1000:.0f} ms")
    print(f"chat over the bare interpreter: +{(c - b) * 1000:.0f} ms; ratio {ratios:.1f}x (pairwise median)")
    print(f"target < 1000 ms warm: {'met' if c < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
