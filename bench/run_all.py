"""Run every benchmark in bench/ (sorted by name), each in its own process, and print results.

Each script gets this process's environment, with DJANGO_SETTINGS_MODULE defaulting to
jelly.settings_test (so DATABASE_URL decides the server). Files starting with `_` are helpers.
Exits non-zero if any script fails; the others still run.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULT_LINE = re.compile(r"^[a-z][a-z0-9_]*: \S+$")
TIMEOUT_SECONDS = 900


def benchmark_scripts() -> list[Path]:
    this = Path(__file__).resolve()
    return sorted(p for p in BENCH_DIR.glob("*.py") if p.resolve() != this and not p.name.startswith("_"))


def main() -> int:
    env = {**os.environ}
    env.setdefault("DJANGO_SETTINGS_MODULE", "jelly.settings_test")
    failed = []
    for script in benchmark_scripts():
        try:
            result = subprocess.run(
                [sys.executable, str(script)],
                cwd=BENCH_DIR.parent,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            failed.append(script.name)
            print(f"{script.name} took longer than {TIMEOUT_SECONDS}s", file=sys.stderr)
            continue
        for line in result.stdout.splitlines():
            if RESULT_LINE.match(line):
                print(line, flush=True)
        if result.returncode != 0:
            failed.append(script.name)
            print(f"{script.name} failed (exit {result.returncode}):\n{result.stderr}", file=sys.stderr)
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
