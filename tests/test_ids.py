"""Model ids: one value with str and parse, and the roles a build's models play."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_report.ids import DENSE, ModelId, cnn

from . import factories


@pytest.mark.parametrize("text", ["dense", "cnn3", "cnn5", "cnn11", "dense-permuted", "cnn3-permuted"])
def test_parse_reads_back_what_str_writes(text):
    assert str(ModelId.parse(text)) == text


def test_fields_and_labels():
    assert ModelId.parse("cnn5-permuted") == ModelId("cnn", 5, True)
    assert ModelId.parse("dense") == DENSE and DENSE.kernel_size is None
    assert cnn(7).label == "CNN 7x7" and cnn(3).twin().label == "CNN 3x3 (permuted pixels)"
    assert cnn(3).twin().original() == cnn(3)


@pytest.mark.parametrize("text", ["", "cnn", "cnnx", "dense3", "cnn3-shuffled", "CNN3", "cnn-3", " dense"])
def test_parse_refuses_anything_else(text):
    with pytest.raises(ValueError, match="not a model id"):
        ModelId.parse(text)


def test_construction_checks_the_kernel_size():
    with pytest.raises(ValueError, match="kernel size goes with a CNN"):
        ModelId("dense", 3)
    with pytest.raises(ValueError, match="kernel size goes with a CNN"):
        ModelId("cnn")
    with pytest.raises(ValueError, match="unknown architecture"):
        ModelId("rnn")


def right(model_id: str, seed: int, y: np.ndarray) -> np.ndarray:
    return y


def test_roles_of_the_whole_study():
    models = ("dense", "cnn3", "cnn5", "cnn7", "dense-permuted", "cnn3-permuted")
    roles = factories.fake_results(models, right, seeds=1).roles()
    assert roles.dense == "dense" and roles.headline == "cnn3" and roles.probe == "cnn3"
    assert roles.kernel_arms == ("cnn3", "cnn5", "cnn7")
    assert roles.cnns == {3: "cnn3", 5: "cnn5", 7: "cnn7"}
    assert roles.twins == {"dense": "dense-permuted", "cnn3": "cnn3-permuted"}


def test_roles_without_the_3x3_cnn_probe_the_smallest_and_export_nothing():
    roles = factories.fake_results(("cnn7", "cnn5"), right, seeds=1).roles()
    assert roles.headline is None and roles.dense is None
    assert roles.probe == "cnn5" and roles.kernel_arms == ("cnn5", "cnn7") and roles.twins == {}
