"""Process-wide TensorFlow settings, applied by the CLI at start-up (never at import time)."""

from __future__ import annotations

import logging
import os
import platform
import sys
from functools import cache
from pathlib import Path
from typing import Any

from fmnist_report.errors import UserError

#: CPU features with native bfloat16 arithmetic (x86: AVX-512 BF16 or AMX).
BF16_FLAGS = ("avx512_bf16", "amx_bf16")

#: oneDNN's instruction-set caps (``ONEDNN_MAX_CPU_ISA``) below native bfloat16. Under one of
#: these oneDNN runs the kernels an AVX2 laptop runs and converts bfloat16 in software, so the
#: CPU counts as the float32 class: how that class is measured on a bfloat16 machine.
ISA_CAPS_WITHOUT_BF16 = frozenset(
    {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"}
)


#: How to get TensorFlow, which the package leaves to the user so that a GPU build stays put.
INSTALL_HINT = "pip install 'fmnist-report[cpu]' (or 'fmnist-report[gpu]' for an NVIDIA GPU)"


def quiet_tensorflow() -> None:
    """Import TensorFlow without its chatter; call before anything imports Keras.

    Its C++ start-up lines are kept off stderr, and so are its Python warnings: a study
    builds many models in one process, and each new model's training function counts as
    a "tf.function retracing" that TensorFlow would warn about on every resumed build.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import_tensorflow_quietly()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def import_tensorflow_quietly() -> Any:
    """Import TensorFlow with its native start-up banner (oneDNN, absl) kept off stderr.

    TensorFlow 2.21 prints these lines before it reads TF_CPP_MIN_LOG_LEVEL, so the file
    descriptor itself is pointed at /dev/null for the import; Python errors still surface.
    """
    if sys.modules.get("tensorflow") is not None:
        return sys.modules["tensorflow"]
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w", encoding="utf-8") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf
    except ModuleNotFoundError as exc:
        if exc.name != "tensorflow":
            raise
        raise UserError(f"TensorFlow is not installed; install it with: {INSTALL_HINT}") from None
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf


def configure(
    *, backend: str = "tensorflow", threads: int | None = None, op_determinism: bool = False
) -> str:
    """Choose the Keras backend, then set TensorFlow's thread pools and, optionally, op determinism.

    Call once, before anything imports Keras; returns the backend chosen (``auto`` resolves
    to a GPU backend where a GPU is visible, see `backend.resolve`).

    Op determinism is off by default: with a fixed seed and thread count the CPU kernels
    used here already give bit-identical results run after run (tests/test_study.py), and
    the flag changes the arithmetic, so turning it on would change every stored result.
    """
    from fmnist_report import backend as backends

    name = backends.select(backend)
    if name == "jax":
        use_compile_cache()
    if name != "tensorflow":
        return name
    quiet_tensorflow()
    tf = import_tensorflow_quietly()
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    if op_determinism:
        tf.config.experimental.enable_op_determinism()
    return name


def user_cache_root() -> Path:
    """This user's cache folder for the project: ``$XDG_CACHE_HOME/fmnist-report``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fmnist-report"


def use_compile_cache(folder: Path | None = None) -> None:
    """Keep the programs XLA compiles for JAX on disk (``<user cache>/xla``), so that each
    architecture compiles once: for all its seeds, for the permuted twin of its shape and
    for every later build.

    A program read back is the program compiled, so the numbers do not change
    (tests/test_backends.py). The folder is this user's own cache, not the result store: JAX
    runs what it finds there, so a store received from someone else must not bring any.
    """
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder or user_cache_root() / "xla"))
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux); empty where they cannot be read."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (x86, ARM, MIPS spell it differently), else what
    the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def tensorflow_threads() -> dict[str, int]:
    """TensorFlow's thread pools as configured (0: its default, one per logical CPU); empty on
    another Keras backend."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return {}
    import tensorflow as tf

    return {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def machine() -> dict[str, Any]:
    """Where a run trains, as its record keeps it: the CPU, its logical CPUs, TensorFlow's
    intra-op threads (None on another backend).

    oneDNN splits a convolution's sums by intra-op thread, so CNN runs trained with another
    thread count differ in their last digits (docs/performance.md); the record says which.
    """
    return {
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count() or 0,
        "intra_op_threads": tensorflow_threads().get("intra_op"),
    }


def isa_cap() -> str | None:
    """oneDNN's instruction-set cap for this process (``ONEDNN_MAX_CPU_ISA``), or None.

    A cap picks other kernels, which sum in another order, so a capped run is keyed by it
    (`records.versions`).
    """
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    return cap.strip().upper() if cap and cap.strip().upper() != "ALL" else None


def native_bfloat16() -> bool:
    """Whether oneDNN computes bfloat16 natively here: the CPU has it, and no cap hides it."""
    return bool(cpu_flags() & set(BF16_FLAGS)) and isa_cap() not in ISA_CAPS_WITHOUT_BF16


def resolve_precision(precision: str, device: str = "cpu") -> str:
    """``auto`` means mixed bfloat16 where the CPU computes bfloat16 natively, else float32.

    On a GPU ``auto`` is float32: bfloat16 was measured no faster there for these small
    networks (docs/performance.md).
    """
    if precision != "auto":
        return precision
    if device != "cpu":
        return "float32"
    return "mixed_bfloat16" if native_bfloat16() else "float32"


def cpu_class() -> str:
    """``bfloat16`` where oneDNN computes bfloat16 natively (`native_bfloat16`), else ``float32``."""
    return "bfloat16" if native_bfloat16() else "float32"


#: The CPU flags that decide speed here: vector width and native low-precision arithmetic.
SPEED_FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx_vnni",
    "amx_bf16",
)


def describe_cpu() -> str:
    """One line for a benchmark's output: the CPU, its class, the flags that matter, the oneDNN cap."""
    flags = " ".join(f for f in SPEED_FLAGS if f in cpu_flags()) or "none of " + " ".join(SPEED_FLAGS)
    cap = f"; oneDNN capped at {isa_cap()} (ONEDNN_MAX_CPU_ISA)" if isa_cap() else ""
    return f"{cpu_name()}, {os.cpu_count()} logical CPUs; {cpu_class()} class; flags: {flags}{cap}"


#: The speed levers the engine uses on each CPU class besides the precision (`resolve_precision`,
#: which has a row of its own in the report), as the report names them. Each was measured side
#: by side against its alternatives (benchmarks/, docs/performance.md); none changes the numbers.
_COMMON_LEVERS = (
    "50 batches per compiled call (identical numbers)",
    "one fit per epoch on a NumPy order per epoch",
    "batches fed through tf.data with autotuning off (identical numbers)",
    "one training at a time, all cores to it",
)
LEVERS = {"bfloat16": _COMMON_LEVERS, "float32": _COMMON_LEVERS}


def logical_cpus() -> int:
    """The logical CPUs this process may run on (its CPU affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_jobs() -> int:
    """Trainings at once by default: one, each run using every core.

    Measured on 2 cores of the bfloat16 class (``benchmarks/jobs_bench.py``,
    docs/performance.md): two runs at once were slower than one after another, with one
    thread each (which also changes the CNNs' numbers) and with the default threads each.
    No machine with more cores was measured, so more cores keep the measured default.
    """
    return 1
