"""What the benchmarks share: Django setup, a throwaway database, timing and output.

A benchmark prints only `name: value` lines on stdout (numbers in milliseconds unless the name
says otherwise); `bench/run_all.py` collects them.
"""

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jelly.settings_test")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@contextmanager
def throwaway_database(label: str) -> Iterator[None]:
    """A freshly migrated test database of its own, destroyed afterwards even on failure.

    The name carries the label and the process id, so a benchmark never clobbers the database
    of a test run (or another benchmark) going on at the same time.
    """
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    original_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        connection.settings_dict["TEST"]["NAME"] = f"test_{original_name}_bench_{label}_{os.getpid()}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)
        teardown_test_environment()


def time_calls(call: Callable[[], object], *, n: int, warmup: int = 20) -> list[float]:
    """Milliseconds taken by each of `n` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    durations = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100), interpolating linearly between the nearest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    lower = int(rank)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (rank - lower)


def report(name: str, value: float | int) -> None:
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"{name}: {text}", flush=True)
