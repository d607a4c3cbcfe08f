"""The protocol of a build, computed from its Summary: what `diff` compares and the configuration records."""

from __future__ import annotations

import ast
import dataclasses
import tomllib
from pathlib import Path

import pytest

from fmnist_report import __version__
from fmnist_report.config import Config
from fmnist_report.report import protocol
from fmnist_report.study.summary import summarize

from .factories import VARIANTS, make_results


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    return summarize(make_results(tmp_path_factory.mktemp("protocol"), variants=VARIANTS))


def test_the_protocol_names_what_decides_the_numbers(summary):
    assert protocol.protocol(summary) == {
        "format": 1,
        "fmnist_report": __version__,
        "profile": "quick",
        "epochs": 2,
        "seeds": [0, 1],
        "precision": "mixed_bfloat16",
        "data_fingerprint": "5b93de9f6817f5ea",
        "data_subset": "full",
        # Runs that do not name their platform were trained with TensorFlow on the CPU.
        "backend": "tensorflow",
        "device": "cpu",
        "batch_size": 128,
        "learning_rate": 0.001,
        "validation_fraction": 0.15,
        "split": "stratified",
        "kernel_sizes": [3, 5, 7],
        "variants": [
            {"name": "dropout", "base": "cnn", "dropout": 0.3},
            {"name": "wide", "base": "dense", "dense_units": [512]},
        ],
    }
    assert set(protocol.COMPARED) <= protocol.protocol(summary).keys()


def test_the_protocol_reads_the_platforms_and_precisions_the_runs_name(summary):
    made = dataclasses.replace(
        summary.provenance, backends=("jax", "tensorflow"), devices=("gpu",), precisions=("float32",)
    )
    block = protocol.protocol(dataclasses.replace(summary, provenance=made))
    assert (block["backend"], block["device"], block["precision"]) == ("jax, tensorflow", "gpu", "float32")


def test_the_configuration_records_what_auto_resolved_to(summary):
    made = dataclasses.replace(summary.provenance, backends=("jax",), precisions=("float32",))
    resolved = protocol.protocol(dataclasses.replace(summary, provenance=made))
    written = protocol.config_toml(Config(study=summary.study), resolved)
    study = tomllib.loads(written)["study"]
    assert (study["backend"], study["precision"]) == ("jax", "float32")
    assert '# backend: "auto" in the settings, resolved by this build to "jax"' in written


def test_protocol_reads_the_summary_alone():
    """report/protocol.py imports nothing of the study but the Summary's own module."""
    source = Path(__file__).parents[1] / "src" / "fmnist_report" / "report" / "protocol.py"
    imported = [
        node.module
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module
    ]
    assert [m for m in imported if m.startswith("fmnist_report.study")] == [
        "fmnist_report.study.summary_types"
    ]
