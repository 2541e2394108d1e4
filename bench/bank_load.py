"""Start-up cost of the question bank: full validation, and the cached path used at every start.

The baseline is the bare YAML parse of the same files with the same loader, measured in the
same run; the target is under 300 ms for what a start actually does.

    python -m bench.bank_load [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from questions.loader import SHIPPED_DIR, _YamlLoader, load_bank, load_bank_cached


def timed(fn: object, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - start)
    return statistics.median(runs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = sorted(SHIPPED_DIR.rglob("*.yaml"))
    size = sum(f.stat().st_size for f in files)
    bank = load_bank()
    parse = timed(lambda: [yaml.load(f.read_bytes(), Loader=_YamlLoader) for f in files], args.repeat)
    full = timed(lambda: load_bank(), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        load_bank_cached([SHIPPED_DIR], Path(tmp))  # first start writes the cache
        cached = timed(lambda: load_bank_cached([SHIPPED_DIR], Path(tmp)), args.repeat)
    print(f"bank: {len(bank)} items in {len(files)} files, {size / 1024:.0f} KiB ({_YamlLoader.__name__})")
    print(f"  bare YAML parse (baseline)        : {parse:7.1f} ms")
    print(f"  full validation + near-duplicates : {full:7.1f} ms  ({full / parse:.2f}x the baseline)")
    print(
        f"  cached start (hash check + load)  : {cached:7.1f} ms  ({cached / parse:.2f}x the baseline; target < 300 ms)"
    )


if __name__ == "__main__":
    main()
