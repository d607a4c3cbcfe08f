"""Benchmark: a convolution's two gradients from oneDNN's backward kernels, or as forward convolutions.

The input's gradient equals the forward convolution of the output's gradient with the
kernel flipped and its channels swapped; the kernel's gradient equals a forward
convolution of the padded input (batch and channels swapped) with the output's gradient
as the kernel. Where a CPU's backward kernels run slower than its forward ones, the second
form could be faster. This times both, alone, on the CNNs' second convolution (batch 128,
32 to 64 channels on 14x14, same padding), prints milliseconds per call, the ratio, and
how far the two forms' results are apart. ``--isa AVX2`` caps oneDNN as on an AVX2-only CPU.

    python benchmarks/conv_grads.py
    python benchmarks/conv_grads.py --isa AVX2 --kernels 3,7
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from fmnist_report.runtime import describe_cpu

CHILD = r"""
import os, statistics, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np, tensorflow as tf
k, calls = int(sys.argv[1]), int(sys.argv[2])
n, side, c_in, c_out, p = 128, 14, 32, 64, k // 2
rng = np.random.default_rng(0)
x = tf.constant(rng.standard_normal((n, side, side, c_in), dtype=np.float32))
w = tf.constant(rng.standard_normal((k, k, c_in, c_out), dtype=np.float32) * 0.05)
dy = tf.constant(rng.standard_normal((n, side, side, c_out), dtype=np.float32))
one = [1, 1, 1, 1]

@tf.function
def forward(x, w):
    return tf.nn.conv2d(x, w, 1, "SAME")

@tf.function
def backward(x, w, dy):
    dx = tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(x), filter=w, out_backprop=dy, strides=one, padding="SAME")
    dw = tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=tf.shape(w), out_backprop=dy, strides=one, padding="SAME")
    return dx, dw

@tf.function
def as_forward(x, w, dy):
    dx = tf.nn.conv2d(dy, tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]), 1, "SAME")
    padded = tf.transpose(tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]), [3, 1, 2, 0])
    dw = tf.transpose(tf.nn.conv2d(padded, tf.transpose(dy, [1, 2, 0, 3]), 1, "VALID"), [1, 2, 0, 3])
    return dx, dw

def ms(fn, *args):
    for _ in range(5):
        fn(*args)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            out = fn(*args)
        _ = [np.asarray(t) for t in (out if isinstance(out, tuple) else (out,))]
        times.append((time.perf_counter() - start) / calls * 1000)
    return statistics.median(times)

a, b = backward(x, w, dy), as_forward(x, w, dy)
f, nat, alt = ms(forward, x, w), ms(backward, x, w, dy), ms(as_forward, x, w, dy)
dx_diff = float(tf.reduce_max(tf.abs(a[0] - b[0])))
dw_rel = float(tf.reduce_max(tf.abs(a[1] - b[1])) / tf.reduce_max(tf.abs(a[1])))
print(f"{k}x{k}  {f:9.1f} {nat:11.1f} {alt:13.1f} {nat / alt:8.2f}x   input {dx_diff:.1e}, kernel {dw_rel:.1e}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", default="3,7")
    parser.add_argument("--calls", type=int, default=30, help="timed calls per repeat (3 repeats, median)")
    parser.add_argument(
        "--isa", default=None, help="cap oneDNN at this instruction set (AVX2: the float32 class)"
    )
    args = parser.parse_args()
    env = dict(os.environ)
    if args.isa:
        env["ONEDNN_MAX_CPU_ISA"] = args.isa
    print(f"machine: {describe_cpu()}{f'; oneDNN capped at {args.isa}' if args.isa else ''}", flush=True)
    print(
        f"{'kernel':6s} {'forward ms':>10s} {'backward ms':>11s} {'as forward ms':>13s} {'speed-up':>8s}   largest difference"
    )
    for k in args.kernels.split(","):
        done = subprocess.run(
            [sys.executable, "-c", CHILD, k, str(args.calls)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        print(done.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
