"""Model builders: exact architectures, parameter counts, FLOPs and receptive fields."""

from __future__ import annotations

import pytest

from fmnist_report import models
from fmnist_report.ids import ModelId

from . import factories


def test_dense_baseline_has_235146_parameters():
    model = models.build_dense()
    assert model.count_params() == 235_146
    assert [r["output_shape"] for r in models.layer_table(model)[1:]] == ["784", "256", "128", "10"]


@pytest.mark.parametrize(("k", "params"), [(3, 421_642), (5, 454_922), (7, 504_842)])
def test_cnn_parameter_counts(k, params):
    # conv1: 32*(k*k+1); conv2: 64*(32*k*k+1); head: 3136*128+128 + 128*10+10 = 402,826.
    assert 32 * (k * k + 1) + 64 * (32 * k * k + 1) + 402_826 == params
    model = models.build_cnn(k)
    assert model.count_params() == params
    shapes = [r["output_shape"] for r in models.layer_table(model)]
    assert shapes[1:] == ["28x28x32", "14x14x32", "14x14x64", "7x7x64", "3136", "128", "10"]


def test_flops_hand_worked():
    # Dense: 2*(784*256 + 256*128 + 128*10) + (256 + 128 + 10) bias adds.
    assert models.flops_per_image(models.build_dense()) == 2 * (784 * 256 + 256 * 128 + 1280) + 394
    # CNN 3x3: conv1 2*9*1*32*784 + 32*784; conv2 2*9*32*64*196 + 64*196; head as above.
    conv1 = 2 * 9 * 1 * 32 * 28 * 28 + 32 * 28 * 28
    conv2 = 2 * 9 * 32 * 64 * 14 * 14 + 64 * 14 * 14
    head = 2 * (3136 * 128 + 128 * 10) + 138
    assert models.flops_per_image(models.build_cnn(3)) == conv1 + conv2 + head == 8_520_074


def test_receptive_fields():
    assert [r["receptive_field"] for r in models.receptive_fields(3)] == [3, 4, 8, 10]
    assert [r["receptive_field"] for r in models.receptive_fields(7)] == [7, 8, 20, 22]


def test_unknown_architecture():
    with pytest.raises(ValueError, match="unknown architecture 'rnn'"):
        models.build("rnn")


@pytest.mark.parametrize("model_id", ["dense", "cnn3", "cnn5", "cnn7"])
def test_the_test_factories_layer_tables_and_costs_match_the_builders(model_id):
    mid = ModelId.parse(model_id)
    model = models.build(mid.arch, mid.kernel_size)
    assert factories.layer_table(model_id) == models.layer_table(model)
    assert factories.COST[model_id] == (model.count_params(), models.flops_per_image(model))
