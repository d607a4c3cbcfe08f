"""Benchmark: where a training step's time goes, kernel by kernel, from oneDNN's own log.

Trains a few steps of one model in a child process with ``ONEDNN_VERBOSE=1`` after a
warm-up, then sums oneDNN's reported kernel times by layer shape and pass (forward,
backward data, backward weights). What oneDNN does not run (the Dense layers' matmuls,
Adam, the loss) shows up as the rest of the wall time.

    python benchmarks/profile_kernels.py                     # cnn3 and cnn7, float32 and bfloat16
    python benchmarks/profile_kernels.py --models dense --policies float32 --steps 40
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys

from fmnist_report.runtime import describe_cpu

CHILD = r"""
import os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np, keras
from fmnist_report import models
from fmnist_report.study import training
model_id, policy, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
keras.mixed_precision.set_global_policy(policy)
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.random((128 * steps, 28, 28, 1), dtype=np.float32)
y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]
arch, k = ("dense", None) if model_id == "dense" else ("cnn", int(model_id[3:]))
model = models.build(arch, k)
trained = training.logits_view(model)
trained.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                steps_per_execution=10)
trained.fit(x[:1280], y[:1280], batch_size=128, epochs=1, verbose=0)  # warm-up: tracing, kernel creation
print("=====START", flush=True)
start = time.perf_counter()
trained.fit(x, y, batch_size=128, epochs=1, verbose=0, shuffle=False)
print("=====END", time.perf_counter() - start, flush=True)
"""

SHAPE = re.compile(r"mb\d+_?(ic\d+oc\d+)_?ih(\d+).*?kh(\d+)")


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


def profile(model_id: str, policy: str, steps: int) -> tuple[float, dict[tuple[str, str], float]]:
    """Wall seconds of ``steps`` steps and oneDNN's milliseconds per (layer, pass)."""
    env = {**os.environ, "ONEDNN_VERBOSE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, model_id, policy, str(steps)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    inside, wall = False, 0.0
    totals: dict[tuple[str, str], float] = collections.defaultdict(float)
    for line in out.splitlines():
        if line.startswith("=====START"):
            inside = True
        elif line.startswith("=====END"):
            wall, inside = float(line.split()[1]), False
        elif inside and line.startswith("onednn_verbose") and ",exec," in line:
            fields = line.split(",")
            primitive, prop, problem, ms = fields[5], fields[7], fields[-2], float(fields[-1])
            totals[(layer_of(primitive, problem), prop)] += ms
    return wall, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnn3,cnn7")
    parser.add_argument("--policies", default="float32,mixed_bfloat16")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {describe_cpu()}", flush=True)
    for model_id in args.models.split(","):
        for policy in args.policies.split(","):
            wall, totals = profile(model_id, policy, args.steps)
            per_step = wall * 1000 / args.steps
            counted = sum(totals.values()) / args.steps
            print(
                f"\n{model_id} {policy}: {per_step:.1f} ms per step of 128 images, oneDNN kernels {counted:.1f} ms"
            )
            print(f"  {'layer':24s} {'pass':18s} {'ms/step':>8s} {'share':>6s}")
            for (layer, prop), ms in sorted(totals.items(), key=lambda kv: -kv[1]):
                if ms / args.steps >= 0.05:
                    print(
                        f"  {layer:24s} {prop:18s} {ms / args.steps:8.2f} {ms / args.steps / per_step:6.1%}"
                    )
            print(
                f"  {'the rest (matmuls, Adam, loss, Python)':43s} {per_step - counted:8.2f} {1 - counted / per_step:6.1%}"
            )


if __name__ == "__main__":
    main()
