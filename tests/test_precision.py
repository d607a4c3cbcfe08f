"""Training precision: what `auto` picks, bit-identical runs across processes, the Keras policy restored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fmnist_report import runtime
from fmnist_report.config import StudyConfig
from fmnist_report.study import training

from .factories import synthetic_dataset


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx512_bf16", "avx2"}, "mixed_bfloat16"),
        ({"amx_bf16"}, "mixed_bfloat16"),
        ({"avx512f", "avx2", "sse4_2"}, "float32"),
        (set(), "float32"),  # flags unreadable: the safe choice
    ],
)
def test_auto_precision_follows_the_cpu_flags(monkeypatch, flags, expected):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset(flags))
    assert runtime.resolve_precision("auto") == expected
    assert runtime.resolve_precision("float32") == "float32"  # an explicit choice is kept
    assert runtime.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"


@pytest.mark.parametrize(
    ("variable", "cap", "expected_class", "keyed"),
    [
        ("ONEDNN_MAX_CPU_ISA", "AVX2", "float32", "AVX2"),  # the float32 class, measured on this CPU
        ("ONEDNN_MAX_CPU_ISA", "avx512_core", "float32", "AVX512_CORE"),
        ("DNNL_MAX_CPU_ISA", "AVX2_VNNI", "float32", "AVX2_VNNI"),  # oneDNN's older name
        ("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16", "bfloat16", "AVX512_CORE_BF16"),
        ("ONEDNN_MAX_CPU_ISA", "ALL", "bfloat16", None),  # oneDNN's default: no cap
        ("ONEDNN_MAX_CPU_ISA", "", "bfloat16", None),
    ],
)
def test_a_onednn_isa_cap_decides_the_class_and_is_keyed(monkeypatch, variable, cap, expected_class, keyed):
    from fmnist_report import records

    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512_bf16"}))
    plain = records.make_key("train", {"a": 1})
    monkeypatch.setenv(variable, cap)
    assert runtime.cpu_class() == expected_class
    assert runtime.resolve_precision("auto") == (
        "mixed_bfloat16" if expected_class == "bfloat16" else "float32"
    )
    assert records.versions().get("onednn_isa") == keyed
    assert (records.make_key("train", {"a": 1}) == plain) is (keyed is None)  # a cap keys; none keeps keys
    line = runtime.describe_cpu()
    assert f"{expected_class} class" in line and "avx512_bf16" in line
    assert (f"oneDNN capped at {keyed}" in line) is (keyed is not None)


TRAIN_BOTH = """
import sys
import numpy as np
from fmnist_report import runtime
runtime.configure()
from fmnist_report.config import StudyConfig
from fmnist_report.study import training
sys.path.insert(0, sys.argv[2])
from factories import synthetic_dataset
data = synthetic_dataset(per_class_train=20, per_class_test=5)
out = {}
for precision in ("float32", "mixed_bfloat16"):
    study = StudyConfig(epochs=1, batch_size=32, precision=precision)
    spec = training.spec_for(study, data, "cnn", 0, kernel_size=3)
    out[precision] = training.train(spec, data).arrays["probabilities"]
np.savez(sys.argv[1], **out)
"""


@pytest.mark.slow
def test_the_same_spec_in_two_fresh_processes_gives_bit_identical_probabilities(tmp_path):
    tests_dir = str(Path(__file__).parent)  # where the subprocess finds factories.py
    for i in range(2):  # one after the other: two TensorFlows at once would share 2 cores badly
        done = subprocess.run(
            [sys.executable, "-c", TRAIN_BOTH, str(tmp_path / f"run{i}.npz"), tests_dir],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    first, second = (np.load(tmp_path / f"run{i}.npz") for i in range(2))
    for precision in ("float32", "mixed_bfloat16"):
        assert first[precision].shape == (50, 10)
        np.testing.assert_array_equal(first[precision], second[precision], err_msg=precision)
    # The two precisions are really two computations.
    assert not np.array_equal(first["float32"], first["mixed_bfloat16"])


def test_the_global_keras_policy_is_restored_when_training_fails(monkeypatch):
    import keras

    data = synthetic_dataset(per_class_train=2, per_class_test=1)
    spec = training.spec_for(StudyConfig(epochs=1, precision="mixed_bfloat16"), data, "cnn", 0, kernel_size=3)
    seen = []

    def failing_build(arch, kernel_size, overrides=()):
        seen.append(keras.mixed_precision.global_policy().name)
        raise RuntimeError("out of memory")

    monkeypatch.setattr(training.models, "build", failing_build)
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("float32")
    try:
        with pytest.raises(RuntimeError, match="out of memory"):
            training.train(spec, data)
        assert seen == ["mixed_bfloat16"]  # training did switch the policy...
        assert keras.mixed_precision.global_policy().name == "float32"  # ...and switched it back
    finally:
        keras.mixed_precision.set_global_policy(previous)
