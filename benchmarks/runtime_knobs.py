"""Benchmark: TensorFlow's and glibc's run-time switches that leave the arithmetic alone.

Each switch is an environment variable read when the process starts: how oneDNN's
thread pool uses the calling thread, which allocator TensorFlow and oneDNN take their
memory from, and when glibc's malloc returns memory to the system or asks for huge
pages. None changes which kernels run or in what order they sum, so the test
probabilities must stay bit-identical; the question is only whether any of them is
faster. Each (switch, model) pair trains the engine's run in a fresh interpreter, the
switches taking turns repeat by repeat so that a change in machine load hits all alike.
Prints, per model and switch, the median training seconds, the median last epoch (past
tracing), their ratios to the default, and whether the probabilities are identical.

    python benchmarks/runtime_knobs.py                          # cnn3, cnn7; all images, 2 epochs
    python benchmarks/runtime_knobs.py --models cnn3 --epochs 3 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics

from fit_paths import interleaved  # this folder's: the engine's runs, variants taking turns

from fmnist_report.runtime import describe_cpu

_MALLOC = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"

#: The switches, as the environment each adds to the default.
KNOBS: dict[str, dict[str, str]] = {
    "default": {},
    "caller thread": {"TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD": "1"},
    "BFC allocator": {"TF_CPU_ALLOCATOR_USE_BFC": "true"},
    "oneDNN malloc": {"TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "1"},
    "malloc keeps memory": {"GLIBC_TUNABLES": _MALLOC},
    "malloc huge pages": {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1:" + _MALLOC},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnn3,cnn7")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--subset", type=int, default=60000, help="training images (stratified)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per pair; the median is kept")
    args = parser.parse_args()
    print(f"machine: {describe_cpu()}", flush=True)
    print(
        f"{'model':6s} {'switch':20s} {'train s':>8s} {'ratio':>7s} {'last epoch s':>13s} {'ratio':>7s}  identical"
    )
    for model_id in args.models.split(","):
        variants = {name: ("feed", env) for name, env in KNOBS.items()}
        runs = interleaved(variants, model_id, args.epochs, args.subset, args.repeat)
        base = runs["default"]
        seconds = {n: statistics.median(r["seconds"] for r in rs) for n, rs in runs.items()}
        last = {n: statistics.median(r["last_epoch"] for r in rs) for n, rs in runs.items()}
        for name, rs in runs.items():
            same = {r["digest"] for r in rs + base} == {base[0]["digest"]}
            print(
                f"{model_id:6s} {name:20s} {seconds[name]:8.1f} {seconds['default'] / seconds[name]:6.2f}x "
                f"{last[name]:13.2f} {last['default'] / last[name]:6.2f}x  {'yes' if same else 'NO'}",
                flush=True,
            )


if __name__ == "__main__":
    main()
