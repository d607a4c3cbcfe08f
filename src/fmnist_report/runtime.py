"""Process-wide TensorFlow settings, applied by the CLI at start-up (never at import time)."""

from __future__ import annotations

import os


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ start-up chatter; must run before TensorFlow is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def configure(*, threads: int | None = None, deterministic: bool = True) -> None:
    """Thread pools and op determinism; call once, before any model is built."""
    quiet_tensorflow()
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
