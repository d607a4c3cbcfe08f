"""Case ``profile``: where a training step's time goes, kernel by kernel, from oneDNN's own log.

Trains a few steps of one model in a fresh interpreter with ``ONEDNN_VERBOSE=1`` after a
warm-up, then sums oneDNN's reported kernel times by layer shape and pass (forward,
backward data, backward weights). What oneDNN does not run (the Dense layers' matmuls,
Adam, the loss) shows up as the rest of the wall time. TensorFlow runs independent kernels
on two inter-op threads at once, so the sum can exceed the wall time.

    python -m benchmarks profile                     # cnn3 and cnn7, float32 and bfloat16
    python -m benchmarks profile --models dense --policies float32 --steps 40
    ONEDNN_MAX_CPU_ISA=AVX2 python -m benchmarks profile --policies float32   # the float32 class
"""

from __future__ import annotations

import argparse
import collections
import re
import statistics
from typing import Any

from benchmarks import harness

START, END = "=====START", "=====END"
SHAPE = re.compile(r"mb\d+_?(ic\d+oc\d+)_?ih(\d+).*?kh(\d+)")


def train_steps(model_id: str, policy: str, steps: int, warmup: int) -> dict[str, float]:
    """In the fresh interpreter: ``warmup`` steps (tracing, kernel creation), then ``steps``
    timed steps of 128 random images between two markers on standard output."""
    import os
    import time

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    from fmnist_report import models
    from fmnist_report.study import training

    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((128 * max(steps, warmup), 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]
    arch, k = ("dense", None) if model_id == "dense" else ("cnn", int(model_id[3:]))
    trained = training.logits_view(models.build(arch, k))
    trained.compile(
        optimizer="adam",
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        steps_per_execution=10,
    )
    trained.fit(x[: 128 * warmup], y[: 128 * warmup], batch_size=128, epochs=1, verbose=0)
    print(START, flush=True)
    start = time.perf_counter()
    trained.fit(x[: 128 * steps], y[: 128 * steps], batch_size=128, epochs=1, verbose=0, shuffle=False)
    wall = time.perf_counter() - start
    print(END, flush=True)
    return {"wall_seconds": wall}


def layer_of(primitive: str, problem: str) -> str:
    """A short name for the layer a kernel belongs to: ``conv 1->32 @28 k3``, ``pool @28``."""
    if primitive == "convolution":
        m = SHAPE.search(problem)
        if m:
            ic, oc = re.findall(r"\d+", m.group(1))
            return f"conv {ic}->{oc} @{m.group(2)} k{m.group(3)}"
    if primitive == "pooling":
        m = re.search(r"ih(\d+)", problem)
        return f"pool @{m.group(1)}" if m else "pool"
    return primitive


def kernel_ms(log: str) -> dict[str, float]:
    """oneDNN's milliseconds per ``layer | pass`` between the markers of a verbose log."""
    inside = False
    totals: dict[str, float] = collections.defaultdict(float)
    for line in log.splitlines():
        if line.startswith(START):
            inside = True
        elif line.startswith(END):
            inside = False
        elif inside and line.startswith("onednn_verbose") and ",exec," in line:
            fields = line.split(",")
            primitive, prop, problem, ms = fields[5], fields[7], fields[-2], float(fields[-1])
            totals[f"{layer_of(primitive, problem)} | {prop}"] += ms
    return dict(totals)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", default="cnn3,cnn7")
    parser.add_argument("--policies", default="float32,mixed_bfloat16")
    parser.add_argument("--steps", type=int, default=30, help="timed steps of 128 images")
    parser.add_argument("--warmup", type=int, default=10, help="steps before the timed ones")


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Each model's policies take turns; per (model, policy), the median ms per step and per
    kernel, and each policy's speed-up against the first."""
    per_step: dict[str, float] = {}
    kernels: dict[str, dict[str, float]] = {}
    ratios: dict[str, dict[str, float]] = {}
    for model_id in args.models.split(","):
        calls = {
            policy: harness.Call(
                "benchmarks.profile_kernels:train_steps",
                {"model_id": model_id, "policy": policy, "steps": args.steps, "warmup": args.warmup},
                env={"ONEDNN_VERBOSE": "1"},
            )
            for policy in args.policies.split(",")
        }
        runs = harness.interleave(calls, args.repeat, show=lambda s, r: f"{r.result['wall_seconds']:.2f} s")
        mine = {}
        for policy, rs in runs.items():
            pair = f"{model_id} {policy}"
            mine[policy] = per_step[pair] = statistics.median(
                r.result["wall_seconds"] * 1000 / args.steps for r in rs
            )
            logs = [kernel_ms(r.stdout) for r in rs]
            names = sorted({k for log in logs for k in log})
            kernels[pair] = {
                k: statistics.median(log.get(k, 0.0) for log in logs) / args.steps for k in names
            }
            show(pair, per_step[pair], kernels[pair])
        ratios[model_id] = harness.ratios(mine)
    return {"medians": {"ms_per_step": per_step}, "ratios": ratios, "kernels_ms_per_step": kernels}


def show(pair: str, per_step: float, kernels: dict[str, float]) -> None:
    counted = sum(kernels.values())
    print(f"\n{pair}: {per_step:.1f} ms per step of 128 images, oneDNN kernels {counted:.1f} ms")
    print(f"  {'layer':24s} {'pass':18s} {'ms/step':>8s} {'share':>6s}")
    for name, ms in sorted(kernels.items(), key=lambda kv: -kv[1]):
        if ms >= 0.05:
            layer, prop = name.split(" | ")
            print(f"  {layer:24s} {prop:18s} {ms:8.2f} {ms / per_step:6.1%}")
    rest = per_step - counted
    print(f"  {'the rest (matmuls, Adam, loss, Python)':43s} {rest:8.2f} {rest / per_step:6.1%}", flush=True)


CASES = (
    harness.Case(
        name="profile",
        summary="a training step's time, kernel by kernel, from oneDNN's verbose log",
        add_arguments=add_arguments,
        measure=measure,
        quick=("--models", "cnn3", "--policies", "float32", "--steps", "10", "--warmup", "10"),
    ),
)
