"""Benchmark: one training step of the engine's networks on each CPU path, float32, side by side.

A path is a Keras backend plus the settings that pick its convolution kernels: TensorFlow
with oneDNN (the engine), TensorFlow with Eigen (oneDNN off), TensorFlow with XLA, JAX
(XLA), and PyTorch where it is installed. Each (path, model) pair runs in a fresh
interpreter on random images, warms up with one compiled call, then times whole calls of
50 steps (PyTorch: one step per call, as the engine runs it). Prints milliseconds per step
and each path's speed relative to the engine's.

To see the float32 class (AVX2 only, as most laptops) on a CPU with AVX-512, cap both
oneDNN and XLA the way an AVX2 CPU would run them:

    python benchmarks/cpu_paths.py                                   # this CPU as it is
    python benchmarks/cpu_paths.py --isa AVX2                        # the float32 class
    python benchmarks/cpu_paths.py --models cnn7 --paths tf_onednn,torch --steps 60
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys

from fmnist_report.runtime import describe_cpu

#: name: (what it is, environment it runs under, needs this package)
PATHS = {
    "tf_onednn": ("TensorFlow, oneDNN kernels (the engine)", {"KERAS_BACKEND": "tensorflow"}, "tensorflow"),
    "tf_eigen": (
        "TensorFlow, Eigen kernels (TF_ENABLE_ONEDNN_OPTS=0)",
        {"KERAS_BACKEND": "tensorflow", "TF_ENABLE_ONEDNN_OPTS": "0"},
        "tensorflow",
    ),
    "tf_xla": (
        "TensorFlow, XLA (jit_compile=True)",
        {"KERAS_BACKEND": "tensorflow", "XLA": "1"},
        "tensorflow",
    ),
    "jax": ("JAX, XLA on the CPU", {"KERAS_BACKEND": "jax"}, "jax"),
    "torch": ("PyTorch, oneDNN kernels", {"KERAS_BACKEND": "torch"}, "torch"),
}

CHILD = r"""
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np, keras
from fmnist_report import models
from fmnist_report.study import training
model_id, steps = sys.argv[1], int(sys.argv[2])
per_call = training.STEPS_PER_EXECUTION[keras.backend.backend()]
rng = np.random.default_rng(0)
x = rng.random((128 * max(steps, per_call), 28, 28, 1), dtype=np.float32)
y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]
keras.utils.set_random_seed(0)
arch, k = ("dense", None) if model_id == "dense" else ("cnn", int(model_id[3:]))
trained = training.logits_view(models.build(arch, k))
extra = {"jit_compile": True} if os.environ.get("XLA") == "1" else {}
trained.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                steps_per_execution=per_call, **extra)
trained.fit(x[:128 * per_call], y[:128 * per_call], batch_size=128, verbose=0, shuffle=False)  # tracing
start = time.perf_counter()
trained.fit(x[:128 * steps], y[:128 * steps], batch_size=128, verbose=0, shuffle=False)
print(json.dumps({"ms_per_step": (time.perf_counter() - start) / steps * 1000}))
"""


def measure(path: str, model_id: str, steps: int, isa: str | None) -> float:
    env = {**os.environ, **PATHS[path][1]}
    if isa:  # cap what each library may use: oneDNN (TensorFlow, PyTorch) and XLA's code generator
        env["ONEDNN_MAX_CPU_ISA"] = isa
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_cpu_max_isa={isa}".strip()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, model_id, str(steps)], capture_output=True, text=True, env=env
    )
    if out.returncode != 0:
        raise SystemExit(f"{path} {model_id} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["ms_per_step"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="dense,cnn3,cnn7")
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--steps", type=int, default=100, help="timed steps per run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per pair; the median is kept")
    parser.add_argument("--isa", help="cap oneDNN and XLA at this instruction set, e.g. AVX2")
    args = parser.parse_args()
    if args.isa:
        os.environ["ONEDNN_MAX_CPU_ISA"] = args.isa  # so that the machine line names the cap
    print(f"machine: {describe_cpu()}", flush=True)
    paths = [p for p in args.paths.split(",") if importlib.util.find_spec(PATHS[p][2]) is not None]
    skipped = sorted(set(args.paths.split(",")) - set(paths))
    if skipped:
        print(f"not installed, skipped: {', '.join(skipped)}")
    print(f"{'model':6s} {'path':10s} {'ms/step':>8s} {'vs engine':>10s}  what")
    for model_id in args.models.split(","):
        base = None
        for path in paths:
            ms = statistics.median(measure(path, model_id, args.steps, args.isa) for _ in range(args.repeat))
            base = ms if path == "tf_onednn" else base
            ratio = f"{base / ms:9.2f}x" if base else "         -"
            print(f"{model_id:6s} {path:10s} {ms:8.1f} {ratio}  {PATHS[path][0]}", flush=True)


if __name__ == "__main__":
    main()
