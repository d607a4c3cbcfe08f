"""Benchmark: one training epoch under each speed lever, each in a fresh interpreter.

Prints seconds per epoch (scaled to the full 51,000 training images) for every
(model, lever) pair and the ratio to plain Keras defaults, so a lever that does not help
shows as a ratio at or below 1.0.

    python benchmarks/levers.py                      # dense, cnn3, cnn7; 12,800 images
    python benchmarks/levers.py --models cnn5 --images 6400 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from fmnist_report.runtime import describe_cpu

LEVERS = {
    "defaults": "Keras defaults, float32 (the reference)",
    "op_determinism": "tf.config.experimental.enable_op_determinism()",
    "inter_op_1": "inter-op threads 1, intra-op 2",
    "steps_50": "steps_per_execution=50",
    "bf16": "mixed_bfloat16 policy",
    "bf16_steps_50": "mixed_bfloat16 + steps_per_execution=50 (what the engine does)",
    "tf_data": "tf.data pipeline: shuffle, batch, prefetch",
    "xla": "jit_compile=True",
    "xla_steps_50": "jit_compile=True + steps_per_execution=50",
    "intra_op_1": "intra-op threads 1, inter-op 1 (one core's share, as a worker of --jobs 2 would have)",
}

CHILD = r"""
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
lever, model_id, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
import tensorflow as tf, keras
if lever == "op_determinism":
    tf.config.experimental.enable_op_determinism()
if lever == "inter_op_1":
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(2)
if lever == "intra_op_1":
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
if lever.startswith("bf16"):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
from fmnist_report import data, models
d = data.load(offline=True)
x, y = data.scale(d.x_train[:n]), data.one_hot(d.y_train[:n])
keras.utils.set_random_seed(0)
m = models.build("dense", None) if model_id == "dense" else models.build("cnn", int(model_id[3:]))
m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"],
          jit_compile=lever.startswith("xla"), steps_per_execution=50 if lever.endswith("steps_50") else 1)
if lever == "tf_data":
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n, seed=0).batch(128).prefetch(2)
    m.fit(ds.take(3), epochs=1, verbose=0)
    start = time.perf_counter(); m.fit(ds, epochs=1, verbose=0)
else:
    m.fit(x[:640], y[:640], batch_size=128, epochs=1, verbose=0)  # warm-up: tracing
    start = time.perf_counter(); m.fit(x, y, batch_size=128, epochs=1, verbose=0)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def measure(lever: str, model_id: str, images: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, lever, model_id, str(images)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="dense,cnn3,cnn7")
    parser.add_argument("--levers", default=",".join(LEVERS))
    parser.add_argument("--images", type=int, default=12800)
    parser.add_argument("--repeat", type=int, default=1, help="runs per pair; the median is kept")
    args = parser.parse_args()
    print(f"machine: {describe_cpu()}", flush=True)
    scale = 51000 / args.images
    print(f"{'model':6s} {'lever':15s} {'s/epoch':>8s} {'speed-up':>9s}  what")
    for model_id in args.models.split(","):
        base = None
        for lever in args.levers.split(","):
            seconds = statistics.median(measure(lever, model_id, args.images) for _ in range(args.repeat))
            per_epoch = seconds * scale
            base = per_epoch if lever == "defaults" else base
            ratio = f"{base / per_epoch:8.2f}x" if base else "        -"
            print(f"{model_id:6s} {lever:15s} {per_epoch:8.1f} {ratio}  {LEVERS[lever]}", flush=True)


if __name__ == "__main__":
    main()
