"""Section 5's figures from plain values, and the figures' number formats: no training, no records."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.container import BarContainer

from fmnist_report.report.figures import PARTS, calibration, filters, formats, locality, shift


def bar_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_spread_channels_takes_evenly_spaced_ranks_and_skips_silent_channels():
    order = [5, 2, 7, 0, 1, 3, 4, 6]
    activation = [0.4, 0.3, 0.9, 0.2, 0.1, 1.0, 0.0, 0.5]  # channel 6 is silent
    assert filters.spread_channels(order, activation) == [5, 7, 1, 4]
    assert filters.spread_channels([1, 0], [0.5, 0.0]) == [0]


def test_pooled_bins_weight_each_seed_by_its_count():
    seed_a = [[1.0, 0.9, 3], [0.0, 0.0, 0]]
    seed_b = [[0.0, 0.7, 1], [0.5, 0.6, 2]]
    pooled = calibration.pooled_bins(np.array([seed_a, seed_b], dtype=float))
    np.testing.assert_allclose(pooled, [[0.75, 0.85, 4], [0.5, 0.6, 2]])


def test_filters_tile_each_kernel_size_into_one_image_on_a_scale_centred_at_zero():
    rng = np.random.default_rng(0)
    fig = filters.plot_filters({3: rng.normal(size=(16, 3, 3)), 5: rng.normal(size=(16, 5, 5))})
    images = [im for ax in fig.axes for im in ax.images]
    assert [im.get_array().shape for im in images] == [(7, 31), (11, 47)]
    assert all(lo == -hi for lo, hi in (im.get_clim() for im in images))


def test_locality_labels_each_bar_with_its_accuracy_and_the_change():
    fig = locality.plot_locality([("Dense", 0.85, 0.84, "#E69F00", "#D55E00")])
    ax = fig.axes[0]
    assert len([c for c in ax.containers if isinstance(c, BarContainer)]) == 2
    assert bar_labels(ax) == ["85.0%", "84.0%\n(-1.0 pp)"]


def test_equivariance_labels_each_bar_and_writes_exact_zeros_as_0():
    errors = {"conv1": [0.0, 0.0], "pool1": [0.25, 0.0]}
    fig = shift.plot_equivariance([1, 2], [("a) equivariance", errors)], {"conv1": 1, "pool1": 2})
    ax = fig.axes[0]
    assert bar_labels(ax) == ["0", "0", "0.25", "0"]
    assert [c.get_label() for c in ax.containers] == ["conv1 (stride 1)", "pool1 (stride 2)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1 px (odd)", "2 px (even)"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (formats.pct(0.8731), "87.3%"),
        (formats.pct(0.9, 0), "90%"),
        (formats.span([1.8], 1), "1.8x"),
        (formats.span([2.1, 1.8], 1), "1.8x to 2.1x"),
        (formats.count(235_146), "235k"),
        (formats.count(4_200_000), "4.2M"),
        (formats.count(512), "512"),
        (formats.count_range([6000, 6000]), "6,000 per class"),
        (formats.seeds_phrase([1]), "1 seed"),
        (formats.seeds_phrase([3, 3]), "3 seeds"),
        (formats.seeds_phrase([1, 3]), "1 to 3 seeds per model"),
    ],
)
def test_number_formats(text, expected):
    assert text == expected


def test_every_part_is_a_figures_function_of_results_and_summary():
    assert [p.__name__ for p in PARTS][-6:] == [
        "locality_figures",
        "efficiency_figures",
        "filter_figures",
        "shift_figures",
        "calibration_figures",
        "mistake_figures",
    ]
