"""The benchmark suite (`python -m benchmarks`): its harness, its cases listed, and quick smoke runs.

The smoke runs are the three cheapest cases: ``profile`` (random images) and ``serve`` (an
untrained CNN) need no data set, ``study`` trains the Dense model on 500 real images. Each
starts fresh interpreters for a few seconds and must write one JSON line with the machine
and the medians.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .factories import needs_real_data

ROOT = Path(__file__).resolve().parents[1]
CASES = ("study", "build", "platform", "serve", "jobs", "profile")


def suite(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def harness(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import harness

    return harness


def test_help_lists_every_case():
    done = suite("--help", timeout=60)
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("cases:", 1)[1]
    for case in CASES:
        assert f"\n    {case} " in listed, case


def test_the_sides_take_turns_and_reduce_to_medians_ratios_and_identity(harness, monkeypatch):
    order = []

    def fake_run(call, **_):
        order.append(call.target)
        return harness.Run(
            result={"digest": "same"},
            wall_seconds=2.0 if "a" in call.target else 1.0,
            peak_rss_mib=None,
            stdout="",
        )

    monkeypatch.setattr(harness, "run", fake_run)
    runs = harness.interleave({"A": harness.Call("m:a"), "B": harness.Call("m:b")}, repeat=3)
    assert order == ["m:a", "m:b"] * 3
    wall = harness.medians({side: [r.wall_seconds for r in rs] for side, rs in runs.items()})
    assert wall == {"A": 2.0, "B": 1.0}
    assert harness.ratios(wall) == {"A": 1.0, "B": 2.0}  # B is twice as fast as the first side
    assert harness.identical({side: [r.result["digest"] for r in rs] for side, rs in runs.items()})
    assert not harness.identical({"A": ["x"], "B": ["y"]})


def test_a_case_function_runs_in_a_fresh_interpreter_and_its_failure_is_reported(harness):
    done = harness.run(harness.Call("benchmarks.harness:machine"))
    assert done.result["logical_cpus"] >= 1 and done.wall_seconds > 0
    assert "flags" in done.result and isinstance(done.result["flags"], list)
    with pytest.raises(harness.CaseFailed, match="no_such_function"):
        harness.run(harness.Call("benchmarks.harness:no_such_function"))


@pytest.mark.parametrize(
    "case",
    ["profile", "serve", pytest.param("study", marks=[needs_real_data, pytest.mark.realdata])],
)
def test_a_quick_run_writes_one_json_line_with_the_machine_and_the_medians(case, tmp_path):
    done = suite(case, "--quick", "--results", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("machine: ")
    (line,) = (tmp_path / f"{case}.jsonl").read_text().splitlines()
    result = json.loads(line)
    assert result["case"] == case and result["quick"] is True
    machine = result["machine"]
    assert machine["cpu"] and machine["logical_cpus"] >= 1 and isinstance(machine["flags"], list)
    assert machine["line"] in done.stdout
    assert result["medians"] and all(result["medians"].values())
    if case == "serve":
        assert result["errors"] == 0
