"""What every benchmark prints with its figures: medians of interleaved runs, the load average,
CPU time of the client and of the server's processes, peak memory, and the client's core.

A shared, busy machine moves single figures by tens of per cent; a ratio of two sides measured
in turn in the same run moves far less. So each benchmark runs its sides interleaved
(A, B, A, B, …), keeps the median of each, and prints the load average next to each figure.
"""

from __future__ import annotations

import os
import resource
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages and the number of CPUs, as text."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load n/a"
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def median(values: Sequence[float]) -> float:
    """Return the median (of at least one value)."""
    return float(statistics.median(values))


def interleaved(runs: int, sides: dict[str, Callable[[], Any]]) -> dict[str, list[float]]:
    """Run every side once per round, in turn, `runs` rounds; return the wall times per side."""
    import time

    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, work in sides.items():
            start = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - start)
    return times


def process_cpu(pid: int) -> float:
    """Return the CPU seconds (user + system) a live process has used so far (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # Fields 14 and 15 of stat(5) (utime, stime), counted after the command name.
    return (int(fields[11]) + int(fields[12])) / TICKS


def own_cpu() -> float:
    """Return the CPU seconds this process has used so far (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """Return the peak resident memory of the largest waited-for child, in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def pin_client(mode: str) -> tuple[set[int] | None, set[int] | None]:
    """Pin this process (the load client) to a core of its own where the machine allows.

    Returns (client cores, server cores), or (None, None) when nothing was pinned. `mode` is
    "auto" (pin when there are at least 3 CPUs: one for the client, the rest for the server),
    "yes" (pin even on 2 CPUs: the server then has one core) or "no".
    """
    if mode == "no" or not hasattr(os, "sched_setaffinity"):
        return None, None
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2 or (mode == "auto" and len(cores) < 3):
        return None, None
    client, server = {cores[-1]}, set(cores[:-1])
    os.sched_setaffinity(0, client)
    return client, server


def pinning_text(client: set[int] | None, server: set[int] | None) -> str:
    """Say where the client and the server run."""
    if client is None:
        return (
            f"client not pinned ({len(os.sched_getaffinity(0))} CPUs: the client shares them "
            "with the server; its CPU time is reported)"
        )
    return f"client pinned to CPU {sorted(client)}, server to CPUs {sorted(server or ())}"
