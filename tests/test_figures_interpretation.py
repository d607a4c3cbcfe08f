"""Section 5's figures from plain values, and the figures' wording of seed counts: no training, no records."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.container import BarContainer

from fmnist_report.report.figures import calibration, curves, filters, locality, shift


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
    same = locality.plot_locality([("Dense", 0.85, 0.85, "#E69F00", "#D55E00")])
    assert bar_labels(same.axes[0]) == ["85.0%", "85.0%\n(0.0 pp)"]  # no sign on a zero change


def test_equivariance_labels_each_bar_and_writes_exact_zeros_as_0():
    errors = {"conv1": [0.0, 0.0], "pool1": [0.25, 0.0]}
    fig = shift.plot_equivariance([1, 2], [("a) equivariance", errors)], {"conv1": 1, "pool1": 2})
    ax = fig.axes[0]
    assert bar_labels(ax) == ["0", "0", "0.25", "0"]
    assert [c.get_label() for c in ax.containers] == ["conv1 (stride 1)", "pool1 (stride 2)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1 px (odd)", "2 px (even)"]


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([1], "1 seed"),
        ([3, 3], "3 seeds"),
        ([1, 3], "1 to 3 seeds per model"),
        ([3, 1, 2], "1 to 3 seeds per model"),
    ],
)
def test_seeds_phrase(counts, expected):
    assert curves.seeds_phrase(counts) == expected


def test_the_report_imports_nothing_of_the_study_but_the_summary_types():
    """Every module of report/ (sections and figures included) reads the Summary's types alone."""
    import ast
    from pathlib import Path

    from fmnist_report import report

    imported = {}
    for source in sorted(Path(report.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name.startswith("fmnist_report.study"):
                    imported.setdefault(name, []).append(source.name)
    assert sorted(imported) == ["fmnist_report.study.summary_types"]
    assert len(imported["fmnist_report.study.summary_types"]) > 30  # the sections and figures do import it
