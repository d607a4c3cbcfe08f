"""The suite's harness: what every case shares.

- `run` calls one importable function in a fresh interpreter (`benchmarks.run_case`), so that
  a measured run pays its own start-up and its wall time and peak RSS are its own;
- `interleave` runs the sides of a comparison taking turns, repeat by repeat, so that a
  change in the machine's load hits every side alike;
- `medians`, `ratios` and `identical` reduce the repeats: a median per side, each side's
  speed-up against the first, and whether the sides' numbers are bit-identical where the
  case says they must be;
- `machine` describes where it ran (CPU, logical CPUs, the flags that pick the kernels);
- `write` appends the case's result as one JSON line to ``output/bench/CASE.jsonl``.

Modelled on scikit-learn's ``asv_benchmarks/benchmarks/common.py``: a case declares its
parameters and a quick profile (tiny sizes, seconds) beside the full one.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fmnist_report import runtime

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "output" / "bench"

#: The CPU flags recorded with every result: vector width and native low-precision arithmetic,
#: which decide the kernels oneDNN picks (`runtime.SPEED_FLAGS`, and AMX's tile unit).
FLAGS = (*runtime.SPEED_FLAGS, "amx_tile", "amx_int8")


class CaseFailed(RuntimeError):
    """A measured function failed in its interpreter; the message ends with its stderr."""


@dataclass(frozen=True)
class Case:
    """One case of the suite: ``python -m benchmarks NAME``.

    ``measure`` runs the case from its parsed arguments and returns its result (medians,
    ratios, identical, whatever else it reports); ``quick`` are the arguments ``--quick``
    puts before the user's own, for a smoke run of a few seconds.
    """

    name: str
    summary: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    measure: Callable[[argparse.Namespace], dict[str, Any]]
    quick: tuple[str, ...] = ()


@dataclass(frozen=True)
class Call:
    """A function to call in a fresh interpreter: ``module:function``, its keyword arguments
    (JSON), and what it adds to the environment."""

    target: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """What one call gave: the function's return value, the process's wall seconds (start-up
    and shut-down included), its peak RSS (None where the system does not report it), and
    its standard output (empty when it was echoed)."""

    result: Any
    wall_seconds: float
    peak_rss_mib: float | None
    stdout: str


def run(call: Call, *, echo: bool = False, timeout: float | None = None) -> Run:
    """Call ``call`` in a fresh interpreter (``python -m benchmarks.run_case``) and wait for it.

    The child's output goes to files, not pipes, so that a chatty child (oneDNN's verbose
    log) cannot block on a full pipe; ``echo`` lets its standard output through instead.
    """
    env = {**os.environ, **call.env}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="fmnist-bench-") as tmp:
        result_file, out_file, err_file = (Path(tmp) / n for n in ("result.json", "stdout", "stderr"))
        cmd = [sys.executable, "-m", "benchmarks.run_case", call.target, json.dumps(dict(call.kwargs))]
        with out_file.open("wb") as out, err_file.open("wb") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(
                [*cmd, str(result_file)], cwd=ROOT, env=env, stdout=None if echo else out, stderr=err
            )
            timer = threading.Timer(timeout, proc.kill) if timeout else None
            if timer:
                timer.start()
            try:
                if hasattr(os, "wait4"):
                    _, status, usage = os.wait4(proc.pid, 0)
                    proc.returncode = code = os.waitstatus_to_exitcode(status)
                    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
                else:
                    code, rss = proc.wait(), None
            finally:
                if timer:
                    timer.cancel()
            wall = time.perf_counter() - start
        if code != 0:
            tail = err_file.read_text(errors="replace")[-3000:]
            raise CaseFailed(f"{call.target} exited with status {code}:\n{tail}")
        return Run(
            result=json.loads(result_file.read_text()),
            wall_seconds=wall,
            peak_rss_mib=rss,
            stdout="" if echo else out_file.read_text(errors="replace"),
        )


def interleave(
    calls: Mapping[str, Call],
    repeat: int,
    *,
    echo: bool = False,
    show: Callable[[str, Run], str] | None = None,
) -> dict[str, list[Run]]:
    """Each side's runs, the sides taking turns repeat by repeat (A B A B, not A A B B).

    ``show`` makes one line of progress out of a side's run; by default its wall seconds.
    """
    runs: dict[str, list[Run]] = {side: [] for side in calls}
    for i in range(repeat):
        for side, call in calls.items():
            done = run(call, echo=echo)
            runs[side].append(done)
            line = show(side, done) if show else f"{done.wall_seconds:.1f} s"
            print(f"  [{i + 1}/{repeat}] {side}: {line}", flush=True)
    return runs


def medians(values: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """The median of each side's values."""
    return {side: statistics.median(vs) for side, vs in values.items()}


def ratios(times: Mapping[str, float], base: str | None = None) -> dict[str, float]:
    """Each side's speed-up against ``base`` (the first side by default): base's time over its
    own, so above 1 is faster."""
    base = base if base is not None else next(iter(times))
    return {side: times[base] / t if t else float("nan") for side, t in times.items()}


def identical(values: Mapping[str, Sequence[Any]]) -> bool:
    """Whether every run of every side gave the same value (a digest of its numbers)."""
    return len({v for vs in values.values() for v in vs}) <= 1


def load_average() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def gpus() -> list[str]:
    """``nvidia-smi -L``'s lines, where there is one; the suite measures the CPU otherwise."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line for line in done.stdout.splitlines() if line.strip()]


def machine() -> dict[str, Any]:
    """Where the suite ran: the CPU, its logical CPUs, its class, the flags that pick the
    kernels (``lscpu``'s names), oneDNN's cap, any GPUs, and the versions that decide speed."""
    from importlib import metadata

    versions = {}
    for name in ("tensorflow-cpu", "tensorflow", "keras", "numpy", "jax", "torch"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return {
        "line": runtime.describe_cpu(),
        "cpu": runtime.cpu_name(),
        "logical_cpus": os.cpu_count(),
        "cpu_class": runtime.cpu_class(),
        "flags": [f for f in FLAGS if f in runtime.cpu_flags()],
        "onednn_cap": runtime.isa_cap(),
        "gpus": gpus(),
        "system": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "versions": versions,
    }


def commit() -> str | None:
    """The checkout's commit (``-dirty`` with uncommitted changes), where git can tell."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def write(case: str, result: Mapping[str, Any], folder: Path = RESULTS, **fields: Any) -> Path:
    """Append one JSON line for ``case``: when, which commit, the machine, then ``fields`` and
    the case's own result."""
    folder.mkdir(parents=True, exist_ok=True)
    line = {
        "case": case,
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        **fields,
        **result,
    }
    path = folder / f"{case}.jsonl"
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
    return path
