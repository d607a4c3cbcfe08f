"""Sections 1 to 4's figures, drawn from small synthetic results: no training, no cache."""

from __future__ import annotations

import dataclasses
import functools
import re
import zlib

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.text import Text

from fmnist_report.config import Config, StudyConfig
from fmnist_report.data import CLASS_NAMES, Dataset
from fmnist_report.ids import ModelId
from fmnist_report.report.figures import FigureSpec, make_all, style, to_png
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import summarize

from . import factories

ALL_NAMES = [
    "class_distribution",
    "sample_grid",
    "mean_images",
    "pixel_histogram",
    "confusion_dense",
    "training_curves",
    "confusion_dense_cnn",
    "training_curves_kernels",
    "per_class_accuracy",
    "kernel_tradeoff",
]
SECTIONS = {
    "class_distribution": "eda",
    "sample_grid": "eda",
    "mean_images": "eda",
    "pixel_histogram": "eda",
    "confusion_dense": "dense",
    "training_curves": "cnn",
    "confusion_dense_cnn": "cnn",
    "training_curves_kernels": "kernels",
    "per_class_accuracy": "kernels",
    "kernel_tradeoff": "kernels",
}
EPOCHS = 4
SHIRT, TSHIRT = CLASS_NAMES.index("Shirt"), CLASS_NAMES.index("T-shirt/top")
MODELS = ("dense", "cnn3", "cnn5", "cnn7", "dense-permuted")
PER_CLASS = 50
Y_TEST = np.repeat(np.arange(10), PER_CLASS).astype(np.uint8)


def skill(model_id: str, seed: int) -> float:
    return 0.8 + 0.02 * (ModelId.parse(model_id).kernel_size or 0) / 7 + 0.01 * seed


def rng_for(model_id: str, seed: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{model_id}-{seed}".encode()))


def fake_confusion(rng: np.random.Generator, skill: float, per_class: int = PER_CLASS) -> np.ndarray:
    """Counts with a strong diagonal and one known weakness: Shirt is often called T-shirt/top."""
    counts = np.zeros((10, 10), dtype=np.int64)
    for c in range(10):
        right = int(per_class * skill) - (20 if c == SHIRT else 0)
        counts[c, c] = right
        wrong = rng.multinomial(per_class - right - (15 if c == SHIRT else 0), np.full(9, 1 / 9))
        counts[c, [k for k in range(10) if k != c]] += wrong
    counts[SHIRT, TSHIRT] += 15
    return counts


def predict(model_id: str, seed: int, y_true: np.ndarray) -> np.ndarray:
    """Predictions whose confusion matrix is :func:`fake_confusion` (``y_true`` is sorted by class)."""
    counts = fake_confusion(rng_for(model_id, seed), skill(model_id, seed))
    return np.concatenate([np.repeat(np.arange(10), counts[c]) for c in range(10)])


def curve(model_id: str, seed: int) -> np.ndarray:
    return np.linspace(0.6, skill(model_id, seed), EPOCHS) + rng_for(model_id, seed).normal(0, 0.01, EPOCHS)


def fake_results(seeds: int = 3, models: tuple[str, ...] = MODELS, eda: bool = True) -> StudyResults:
    """Results as ``run_study`` would group them, for the given models and seed count."""
    empty = np.zeros((0, 28, 28), dtype=np.uint8)
    data = Dataset(empty, np.zeros(0, np.uint8), np.zeros((len(Y_TEST), 28, 28), np.uint8), Y_TEST)
    config = Config(study=StudyConfig(profile="quick", seeds=seeds, kernel_sizes=(3, 5, 7)))
    rng = np.random.default_rng(7)
    return factories.fake_results(
        models,
        predict,
        seeds=seeds,
        data=data,
        config=config,
        eda=factories.fake_eda(rng) if eda else None,
        curve=curve,
    )


def make(results: StudyResults) -> list[FigureSpec]:
    """The figures of sections 1 to 4; section 5's have their own tests."""
    return [s for s in make_all(summarize(results)) if s.section != "interpretation"]


@pytest.fixture(scope="module")
def three_seeds() -> dict[str, FigureSpec]:
    return {spec.name: spec for spec in make(fake_results(seeds=3))}


@pytest.fixture(scope="module")
def one_seed() -> dict[str, FigureSpec]:
    return {spec.name: spec for spec in make(fake_results(seeds=1))}


@functools.cache
def drawn(spec: FigureSpec) -> Figure:
    """A spec's figure, drawn once for all the tests that look at it."""
    return spec.draw()


def bars(ax) -> list:
    return [patch for c in ax.containers if isinstance(c, BarContainer) for patch in c.patches]


def data_axes(spec: FigureSpec) -> list:
    """The plotting axes, leaving out colorbars."""
    return [ax for ax in drawn(spec).axes if ax.get_label() != "<colorbar>"]


# -- what make returns ---------------------------------------------------------------------


def test_make_returns_every_figure_in_report_order_with_its_section(three_seeds):
    assert list(three_seeds) == ALL_NAMES
    assert {name: spec.section for name, spec in three_seeds.items()} == SECTIONS


def test_captions_are_plain_text_of_at_most_two_sentences(three_seeds):
    for spec in three_seeds.values():
        assert spec.caption and not re.search(r"[<>]", spec.caption), spec.name
        sentences = re.findall(r"[.!?](?:\s|$)", spec.caption)
        assert 1 <= len(sentences) <= 2, (spec.name, spec.caption)


def test_missing_eda_drops_only_the_data_figures():
    names = [s.name for s in make(fake_results(eda=False))]
    assert names == [n for n in ALL_NAMES if SECTIONS[n] != "eda"]


def test_only_the_dense_run_gives_its_own_figures():
    names = [s.name for s in make(fake_results(models=("dense",), eda=False))]
    assert names == ["confusion_dense", "training_curves"]


def test_kernels_without_dense_skip_the_dense_figures_and_the_reference_point():
    specs = {s.name: s for s in make(fake_results(models=("cnn5", "cnn7"), eda=False))}
    assert list(specs) == ["training_curves_kernels", "per_class_accuracy", "kernel_tradeoff"]
    assert len(bars(drawn(specs["per_class_accuracy"]).axes[0])) == 10 * 2
    texts = [t.get_text() for t in drawn(specs["kernel_tradeoff"]).axes[0].texts]
    assert not any(t.startswith("Dense") for t in texts)
    assert "square" not in specs["kernel_tradeoff"].caption


def test_nothing_ran_gives_no_figures():
    assert make(fake_results(models=(), eda=False)) == []


def test_eda_figures_are_listed_from_its_numbers_and_a_missing_array_is_named_when_drawn():
    summary = summarize(fake_results(models=(), eda=True))
    del summary.pictures["eda"]["sample_images"]
    specs = {s.name: s for s in make_all(summary)}
    assert list(specs) == ["class_distribution", "sample_grid", "mean_images", "pixel_histogram"]
    with pytest.raises(ValueError, match="array 'sample_images' of the 'eda' record"):
        specs["sample_grid"].draw()


def test_without_pictures_the_same_figures_are_listed_and_nothing_is_drawn(monkeypatch):
    summary = summarize(fake_results(seeds=3))
    constructed = []
    real_init = Figure.__init__

    def counting_init(self, *args, **kwargs):
        constructed.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "__init__", counting_init)
    with_pictures = make_all(summary)
    without = make_all(dataclasses.replace(summary, pictures={}))
    assert constructed == [] and plt.get_fignums() == []
    listing = [(s.name, s.caption, s.section) for s in without]
    assert listing == [(s.name, s.caption, s.section) for s in with_pictures]
    assert [name for name, _, _ in listing] == [*ALL_NAMES, "locality"]
    captions = {name: caption for name, caption, _ in listing}
    assert captions["class_distribution"] == (
        "Images per class: 60 per class in the training set (600 in all) "
        "and 19 to 20 per class in the test set (199 in all)."
    )
    assert captions["sample_grid"] == (
        "The first 8 training images of each of the 10 classes, as stored (28x28 pixels, 0 = black)."
    )
    assert captions["pixel_histogram"].startswith("Distribution of the 470,400 training pixel values")
    with pytest.raises(ValueError, match="this Summary holds none"):
        next(s for s in without if s.name == "mean_images").draw()
    assert constructed == []


# -- each figure's content -----------------------------------------------------------------


def test_class_distribution_draws_train_and_test_counts_per_class(three_seeds):
    spec = three_seeds["class_distribution"]
    ax = drawn(spec).axes[0]
    train, test = (c for c in ax.containers if isinstance(c, BarContainer))
    assert [p.get_height() for p in train.patches] == [60] * 10
    assert [p.get_height() for p in test.patches] == [20] * 9 + [19]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(CLASS_NAMES)
    assert "60 per class" in spec.caption and "19 to 20 per class" in spec.caption
    assert "600" in spec.caption and "199" in spec.caption


def test_sample_grid_has_one_image_axis_per_sample_and_class_names_as_row_labels(three_seeds):
    fig = drawn(three_seeds["sample_grid"])
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 80
    assert all(not ax.get_xticks().size and not ax.get_yticks().size for ax in image_axes)
    row_labels = [ax.get_ylabel() for ax in image_axes if ax.get_ylabel()]
    assert row_labels == list(CLASS_NAMES)
    assert image_axes[0].images[0].get_cmap().name == "gray"


def test_mean_images_shares_one_gray_scale_and_names_the_extremes(three_seeds):
    spec = three_seeds["mean_images"]
    images = [im for ax in drawn(spec).axes for im in ax.images]
    assert len(images) == 10
    assert {im.get_clim() for im in images} == {(0.0, 255.0)}
    assert [ax.get_title() for ax in drawn(spec).axes if ax.images] == list(CLASS_NAMES)
    assert "40 (T-shirt/top)" in spec.caption and "85 (Ankle boot)" in spec.caption


def test_pixel_histogram_uses_a_log_scale_and_reports_the_zero_fraction(three_seeds):
    spec = three_seeds["pixel_histogram"]
    ax = drawn(spec).axes[0]
    assert ax.get_yscale() == "log"
    results = fake_results(models=())
    zero = results.eda.metrics["zero_pixel_fraction"]
    assert f"{zero * 100:.1f}%" in spec.caption


def test_confusion_pair_sums_seeds_before_normalising_rows(three_seeds):
    results = fake_results(seeds=3)
    spec = three_seeds["confusion_dense_cnn"]
    axes = data_axes(spec)
    assert [ax.get_title() for ax in axes] == ["Dense", "CNN 3x3"]
    assert len([ax for ax in drawn(spec).axes if ax.get_label() == "<colorbar>"]) == 1
    for ax, model_id in zip(axes, ("dense", "cnn3"), strict=True):
        summed = sum(r.arrays["confusion"] for r in results.runs[model_id])
        expected = summed / summed.sum(axis=1, keepdims=True)
        shown = np.asarray(ax.images[0].get_array())
        np.testing.assert_allclose(shown, expected)
        np.testing.assert_allclose(shown.sum(axis=1), 1.0)
        cell = next(t for t in ax.texts if t.get_position() == (SHIRT, SHIRT))
        assert cell.get_text() == f"{round(expected[SHIRT, SHIRT] * 100)}"
    assert [t.get_text() for t in axes[0].get_yticklabels()] == list(CLASS_NAMES)
    assert "3 seeds" in spec.caption
    assert "of Shirt images predicted as T-shirt/top" in spec.caption


def test_confusion_dense_stands_alone(three_seeds):
    spec = three_seeds["confusion_dense"]
    assert [ax.get_title() for ax in data_axes(spec)] == ["Dense"]
    assert "Shirt images predicted as T-shirt/top" in spec.caption


def test_training_curves_draw_seed_means_with_min_max_bands(three_seeds):
    results = fake_results(seeds=3)
    spec = three_seeds["training_curves"]
    ax_loss, ax_acc = data_axes(spec)[:2]
    for ax in (ax_loss, ax_acc):
        assert len(ax.lines) == 4  # two models, training and validation
        assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 4
    dense_val = np.array([r.metrics["history"]["val_accuracy"] for r in results.runs["dense"]])
    dashed = [ln for ln in ax_acc.lines if ln.get_linestyle() == "--"]
    np.testing.assert_allclose(dashed[0].get_ydata(), dense_val.mean(axis=0))
    np.testing.assert_array_equal(dashed[0].get_xdata(), np.arange(1, EPOCHS + 1))
    assert to_hex(dashed[0].get_color()) == style.MODEL_COLORS["dense"].lower()
    assert "3 seeds" in spec.caption
    assert f"Dense {dense_val.mean(axis=0)[-1] * 100:.1f}%" in spec.caption


def test_one_seed_draws_lines_without_bands_and_says_so(one_seed):
    spec = one_seed["training_curves"]
    assert not [c for ax in drawn(spec).axes for c in ax.collections if isinstance(c, PolyCollection)]
    assert "one seed" in spec.caption and "seeds" not in spec.caption


def test_kernel_curves_show_each_kernel_size(three_seeds):
    spec = three_seeds["training_curves_kernels"]
    ax = drawn(spec).axes[0]
    assert [ln.get_label() for ln in ax.lines] == ["CNN 3x3", "CNN 5x5", "CNN 7x7"]
    assert [to_hex(ln.get_color()) for ln in ax.lines] == [
        style.MODEL_COLORS[m].lower() for m in ("cnn3", "cnn5", "cnn7")
    ]
    assert len(ax.collections) == 3


def test_per_class_accuracy_has_a_bar_per_class_and_model_with_seed_error_bars(three_seeds, one_seed):
    results = fake_results(seeds=3)
    ax = drawn(three_seeds["per_class_accuracy"]).axes[0]
    containers = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars(ax)) == 10 * 4
    assert [c.get_label() for c in containers] == ["Dense", "CNN 3x3", "CNN 5x5", "CNN 7x7"]
    dense_mean = summarize(results).row("dense")["per_class_accuracy"]
    np.testing.assert_allclose([p.get_height() for p in containers[0].patches], dense_mean)
    assert to_hex(containers[0].patches[0].get_facecolor()) == style.MODEL_COLORS["dense"].lower()
    assert all(c.errorbar is not None for c in containers)
    ax1 = drawn(one_seed["per_class_accuracy"]).axes[0]
    assert len(bars(ax1)) == 10 * 4
    assert all(c.errorbar is None for c in ax1.containers if isinstance(c, BarContainer))
    assert "no error bars" in one_seed["per_class_accuracy"].caption


def test_kernel_tradeoff_plots_accuracy_with_its_interval_against_cost(three_seeds, one_seed):
    results = fake_results(seeds=3)
    spec = three_seeds["kernel_tradeoff"]
    ax_flops, ax_time = data_axes(spec)
    assert ax_flops.get_xscale() == "log"
    for ax in (ax_flops, ax_time):
        points = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(points) == 4  # Dense and three kernel sizes
        assert all(c.has_yerr for c in points)
    row = summarize(results).row("cnn5")
    cnn5 = [c for c in ax_flops.containers if isinstance(c, ErrorbarContainer)][2]
    assert cnn5.lines[0].get_xdata()[0] == row["flops"]
    segment = cnn5.lines[2][0].get_segments()[0]
    np.testing.assert_allclose(
        [segment[0][1], segment[1][1]], [row["test_accuracy"]["ci_low"], row["test_accuracy"]["ci_high"]]
    )
    labels = [t.get_text() for t in ax_time.texts]
    assert labels == ["Dense\n235k params", "3x3\n422k params", "5x5\n455k params", "7x7\n505k params"]
    assert "95% t-interval" in spec.caption and "3 seeds" in spec.caption
    assert f"{42_639_754 / 8_520_074:.1f}x the FLOPs" in spec.caption
    single = [c for c in data_axes(one_seed["kernel_tradeoff"])[0].containers]
    assert not any(c.has_yerr for c in single)
    assert "no interval" in one_seed["kernel_tradeoff"].caption


# -- quality --------------------------------------------------------------------------------


def test_every_text_is_at_least_8_points_and_figures_fit_the_page(three_seeds):
    for spec in three_seeds.values():
        width, _ = drawn(spec).get_size_inches()
        assert 5.5 <= width <= 9.0, spec.name
        texts = [t for t in drawn(spec).findobj(Text) if t.get_text() and t.get_visible()]
        assert texts, spec.name
        small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < 8]
        assert not small, (spec.name, small)


def test_same_results_give_the_same_png_bytes():
    first = [to_png(s.draw()) for s in make(fake_results(seeds=2))]
    second = [to_png(s.draw()) for s in make(fake_results(seeds=2))]
    assert len(first) == len(ALL_NAMES)
    assert first == second
    assert all(png.startswith(b"\x89PNG") for png in first)


def test_palette_colors_are_distinct_and_other_models_get_a_stable_color():
    assert len(set(style.MODEL_COLORS.values())) == len(style.MODEL_COLORS)
    assert {"dense", "cnn3", "cnn5", "cnn7", "dense-permuted", "cnn3-permuted"} <= set(style.MODEL_COLORS)
    assert style.model_color("cnn3") == style.MODEL_COLORS["cnn3"]
    other = style.model_color("cnn11")
    assert other in style.EXTRA_COLORS and other == style.model_color("cnn11")


def test_one_epoch_curves_have_one_whole_tick_and_show_the_seed_spread():
    from matplotlib.collections import LineCollection

    from fmnist_report.report.figures import curves

    values = np.array([[0.80], [0.84], [0.82]])
    series = {
        key: [curves.Series("Dense", "#1f77b4", values), curves.Series("CNN 3x3", "#d62728", values + 0.05)]
        for key in ("loss", "val_loss", "accuracy", "val_accuracy")
    }
    fig = curves.plot_training_curves(series)
    for ax in fig.axes[:2]:
        assert list(ax.get_xticks()) == [1] and ax.get_xlim() == (0.5, 1.5)
        singles = [ln for ln in ax.lines if ln.get_xdata().size == 1]
        assert len(singles) == 4 and all(ln.get_marker() == "o" for ln in singles)
        # Training left of the tick, validation (hollow) right of it.
        assert {round(float(ln.get_xdata()[0]), 2) for ln in singles} == {0.92, 1.08}
        spreads = [c for c in ax.collections if isinstance(c, LineCollection)]
        assert len(spreads) == 4  # each model, training and validation: a bar from lowest to highest seed
        (low, high) = spreads[0].get_segments()[0][:, 1]
        assert (low, high) == pytest.approx((0.80, 0.84))
    many = curves.plot_validation_curves([curves.Series("Dense", "#1f77b4", np.random.rand(2, 30))])
    assert all(float(t).is_integer() for t in many.axes[0].get_xticks())


def test_labels_of_points_that_nearly_coincide_do_not_overprint():
    from fmnist_report.report.figures import kernels

    points = [
        kernels.TradeoffPoint(
            f"CNN {k}x{k}",
            f"{k}x{k}",
            "#333333",
            0.90 + k * 1e-5,
            0.899,
            0.901,
            1e7 * (1 + k * 1e-3),
            30 + k * 0.01,
            400_000,
        )
        for k in (3, 5, 7, 9)
    ]
    fig = kernels.plot_kernel_tradeoff(points)
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.texts]
        assert len(boxes) == 4
        assert not any(boxes[i].overlaps(boxes[j]) for j in range(4) for i in range(j))
