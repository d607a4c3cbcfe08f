"""The interpretation experiments' measurements, one type per experiment of `study.experiments`.

`summary_types` re-exports them; :class:`Analyses` is the Summary's member that holds them.
"""

from __future__ import annotations

from typing import NotRequired

# pydantic reads a TypedDict's keys from typing_extensions' on Python 3.11.
from typing_extensions import TypedDict

from fmnist_report.study.summary_types.rows import Layer, McNemarTest, SeedStats

# -- the interpretation analyses (one per experiment of `study.experiments`) ----------------------
# Each ends with the runner's ``compute_seconds``, absent where a test builds one by hand.
# Maps keyed by a kernel size key it as text ("3"), as JSON keys are.


class FilterNorms(TypedDict):
    """The L2 norms of a CNN's first-layer kernels."""

    mean: float
    min: float
    max: float


class FiltersAnalysis(TypedDict):
    """The filters experiment: each CNN's kernels and how sparse its feature maps are."""

    kernel_sizes: list[int]
    #: conv1's kernels per kernel size, and their norms.
    n_filters: dict[str, int]
    filter_norms: dict[str, FilterNorms]
    #: The test images the activations were measured on, and how they were drawn, in words.
    n_images: int
    images: str
    #: Per kernel size, per layer (``conv1``, ``conv2``): the share of zero activations after
    #: ReLU, and the channels never active.
    sparsity: dict[str, dict[str, float]]
    dead_channels: dict[str, dict[str, int]]
    #: Channels per layer of the CNN whose feature maps are drawn (``feature_map_kernel``).
    channels: dict[str, int]
    feature_map_kernel: int
    #: The test image drawn for each class, and its class.
    example_indices: list[int]
    example_classes: list[int]
    #: Per layer, channels by their mean activation on those images, highest first; the means.
    channel_order: dict[str, list[int]]
    example_mean_activation: dict[str, list[float]]
    compute_seconds: NotRequired[float]


class LayerGeometry(TypedDict):
    """How far apart a layer's units are in input pixels, and what each sees."""

    stride: int
    receptive_field: int


class Equivariance(TypedDict):
    """How exactly one CNN's feature maps follow a shift of its input, per layer and shift."""

    kernel_size: int
    layers: list[str]
    geometry: dict[str, LayerGeometry]
    #: The shifts, in pixels, that the errors below are measured at (1 to the largest).
    magnitudes: list[int]
    #: Per layer and shift, RMS over the directions; None where nothing was left to compare.
    relative_error: dict[str, list[float | None]]
    relative_change: dict[str, list[float | None]]
    n_images: int
    images: str
    method: str


class _ShiftMeasures(TypedDict):
    grid: str
    directions: list[str]
    #: 0 to the largest shift, in pixels.
    magnitudes: list[int]
    models: list[str]
    labels: dict[str, str]
    n_images: int
    images: str
    #: Per model, per direction, the accuracy at each shift; and the mean over directions.
    accuracy: dict[str, dict[str, list[float]]]
    mean_accuracy: dict[str, list[float]]
    equivariance: Equivariance
    compute_seconds: NotRequired[float]


class ShiftMeasured(_ShiftMeasures):
    """The shift experiment's record: McNemar's test per direction at the largest shift."""

    max_shift_mcnemar: dict[str, McNemarTest]


class ShiftTest(McNemarTest):
    """One direction's McNemar test, with its p adjusted over the directions (Holm)."""

    p_adjusted: float


class ShiftAnalysis(_ShiftMeasures):
    """The shift experiment in the Summary: accuracy under shifts, equivariance, and the test of
    the second model against the first in each direction, Holm-corrected over the directions."""

    max_shift_mcnemar: dict[str, ShiftTest]


class Ece(TypedDict):
    """A model's expected calibration error on each seed, and over them."""

    seeds: list[int]
    per_seed: list[float]
    summary: SeedStats


class CalibrationAnalysis(TypedDict):
    """The calibration experiment: ECE, mean confidence and accuracy of each model per seed."""

    n_bins: int
    binning: str
    models: list[str]
    labels: dict[str, str]
    n_test: int
    ece: dict[str, Ece]
    mean_confidence: dict[str, list[float]]
    accuracy: dict[str, list[float]]
    compute_seconds: NotRequired[float]


class PairCount(TypedDict):
    """Two classes, by index, and how often each was called the other."""

    a: int
    b: int
    a_as_b: int
    b_as_a: int
    total: int


class ConfusedPair(PairCount):
    """A :class:`PairCount` with the classes' names."""

    a_name: str
    b_name: str


class Mistake(TypedDict):
    """A wrongly classified test image and the probabilities of its two classes."""

    index: int
    true: int
    predicted: int
    true_name: str
    predicted_name: str
    confidence: float
    true_probability: float


class ProbeMistakes(TypedDict):
    """The probe CNN's errors on one seed, and its most confident mistakes (``gallery``)."""

    model: str
    label: str
    seed: int
    n_test: int
    n_errors: int
    confident_threshold: float
    n_confident_errors: int
    gallery: list[Mistake]


class Saliency(TypedDict):
    """Where the gradient of the most confident mistakes falls, against the garment's area."""

    method: str
    indices: list[int]
    on_object_share: list[float]
    object_area: list[float]


class MistakesAnalysis(TypedDict):
    """The mistakes experiment: confused pairs per model (over seeds), the probe's mistakes."""

    models: list[str]
    labels: dict[str, str]
    n_seeds: dict[str, int]
    errors: dict[str, int]
    confused_pairs: dict[str, list[ConfusedPair]]
    mistakes: ProbeMistakes
    saliency: Saliency
    compute_seconds: NotRequired[float]


class ParamSplit(TypedDict):
    """A model's parameters in convolution and dense layers."""

    conv: int
    dense: int
    total: int
    conv_share: float


class ReceptiveField(TypedDict):
    """One conv or pool layer of a CNN: what one of its units sees, and its stride."""

    layer: str
    receptive_field: int
    stride: int


class SharingCost(TypedDict):
    """A conv layer's parameters, and what it would need without weight sharing or locality."""

    layer: str
    input: str
    output: str
    shared: int
    locally_connected: int
    fully_connected: int


class EfficiencyMeasured(TypedDict):
    """The efficiency experiment's record: parameters and receptive fields, from layer tables."""

    param_split: dict[str, ParamSplit]
    #: Per kernel size.
    receptive_fields: dict[str, list[ReceptiveField]]
    weight_sharing: dict[str, list[SharingCost]]
    layers: dict[str, list[Layer]]
    compute_seconds: NotRequired[float]


class EfficiencyRow(TypedDict):
    """A built-in model's accuracy against its cost (from its :class:`ModelRow`)."""

    model_id: str
    label: str
    permuted: bool
    params: int
    flops: int
    seeds: list[int]
    test_accuracy: SeedStats
    latency_ms_batched: SeedStats
    latency_ms_single: SeedStats


class EfficiencyAnalysis(EfficiencyMeasured):
    """The efficiency experiment in the Summary, with each built-in model's row."""

    models: list[EfficiencyRow]


class Analyses(TypedDict):
    """Each interpretation experiment that ran, under its key (`EFFICIENCY`...)."""

    efficiency: NotRequired[EfficiencyAnalysis]
    filters: NotRequired[FiltersAnalysis]
    shift: NotRequired[ShiftAnalysis]
    calibration: NotRequired[CalibrationAnalysis]
    mistakes: NotRequired[MistakesAnalysis]
