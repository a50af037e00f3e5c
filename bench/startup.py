"""Benchmark: what starting the `votes` command costs, against importing its frameworks alone.

    python bench/startup.py                 # 7 interleaved runs of each
    python bench/startup.py --runs 11

Each run starts a fresh interpreter, in turn: the baseline `python -c "import flask,
sqlalchemy, click"`, then `votes --help` (in Vietnamese, the default: the catalogue is read),
then `votes round --help`. Wall time, CPU time (user + system) and peak resident memory (the
child's rusage, from wait4) are measured for each; the medians are compared. On a busy
machine the CPU time is the steadier figure. Targets (issue 18): `votes --help`
within 1.5× of the baseline's time and under 80 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._measure import load_average, median

ROOT = Path(__file__).resolve().parent.parent


def votes_command() -> list[str]:
    """Return how to start the `votes` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("votes")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "votes.cli"]


def run_once(command: list[str]) -> tuple[float, float, float]:
    """Start a command, wait for it; return its wall time (s), CPU time (s), peak memory (MB)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "VOTES_LANG": os.environ.get("VOTES_LANG", "vi")},
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read() if process.stderr else b""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {errors.decode()[-500:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    commands = {
        "import flask, sqlalchemy, click": [
            sys.executable,
            "-c",
            "import flask, sqlalchemy, click",
        ],
        "votes --help": [*votes_command(), "--help"],
        "votes round --help": [*votes_command(), "round", "--help"],
    }
    for command in commands.values():  # warm the file cache: not measured
        run_once(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    memory: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            elapsed, used, peak = run_once(command)
            times[name].append(elapsed)
            cpu[name].append(used)
            memory[name].append(peak)
    base = "import flask, sqlalchemy, click"
    print(f"medians of {args.runs} interleaved runs; {load_average()}")
    print(
        "| command | wall time (s) | × baseline | CPU time (s) | × baseline | peak memory (MB) "
        "| target |"
    )
    print("|---|---|---|---|---|---|---|")
    missed = False
    for name in commands:
        ratio = median(times[name]) / median(times[base])
        cpu_ratio = median(cpu[name]) / median(cpu[base])
        peak = median(memory[name])
        target = "" if name == base else "≤ 1.5×, < 80 MB"
        if name == "votes --help":
            good = ratio <= 1.5 and peak < 80
            missed = not good
            target += " — " + ("ok" if good else "MISSED")
        print(
            f"| {name} | {median(times[name]):.3f} | {ratio:.2f}× | {median(cpu[name]):.3f} | "
            f"{cpu_ratio:.2f}× | {peak:.1f} | {target} |"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
