"""The report's fixed content: the claims of section 5, design choices and citations.

Nothing here is measured; the sections put these values beside the measured ones. Each claim
of section 5 is one entry of `CLAIMS`: its anchor, its wording, the figures that show it, the
figure functions that draw them, and its own evidence test and builder from the Summary (the
``applies`` and ``build`` of its module in `report.sections`). The report's parts are
`report.parts`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from fmnist_report import models
from fmnist_report.report.sections import (
    claim_calibration,
    claim_errors,
    claim_hierarchy,
    claim_locality,
    claim_not_appropriate,
    claim_translation,
    claim_weight_sharing,
)
from fmnist_report.report.sections.roles import Found
from fmnist_report.study.summary_types import Summary


@dataclass(frozen=True)
class Claim:
    """One claim of section 5.

    Attributes:
        id: its anchor; ``name`` its name, ``title`` the item's title.
        figures: the names of the figures that show it, in the order it shows them.
        draws: the figure functions that draw them (``module.function`` in `report.figures`,
            named so that reading this table imports no plotting library).
        applies: its evidence test: whether the measurements it rests on ran.
        build: its paragraphs and tables from the Summary, called only where it applies.
    """

    id: str
    name: str
    title: str
    figures: tuple[str, ...]
    draws: tuple[str, ...]
    applies: Callable[[Summary], bool]
    build: Callable[[Summary], Found]


#: Section 5's claims in reading order.
CLAIMS: tuple[Claim, ...] = (
    Claim(
        "locality",
        "Locality",
        "Locality: the CNN needs neighbouring pixels to be neighbours",
        ("locality",),
        ("locality.locality_figures",),
        claim_locality.applies,
        claim_locality.build,
    ),
    Claim(
        "weight-sharing",
        "Weight sharing",
        "Weight sharing: the same kernel at every position",
        ("filters",),
        ("filters.filter_figures",),
        claim_weight_sharing.applies,
        claim_weight_sharing.build,
    ),
    Claim(
        "translation",
        "Translation equivariance",
        "Translation equivariance: exact in conv1, partial after pooling",
        ("equivariance", "shift_accuracy"),
        ("shift.shift_figures",),
        claim_translation.applies,
        claim_translation.build,
    ),
    Claim(
        "hierarchy",
        "Hierarchical features",
        "Hierarchical features: receptive fields grow layer by layer",
        ("feature_maps",),
        ("filters.filter_figures",),
        claim_hierarchy.applies,
        claim_hierarchy.build,
    ),
    Claim(
        "not-appropriate",
        "When convolution is not appropriate",
        "When convolution is not appropriate",
        ("param_efficiency",),
        ("efficiency.efficiency_figures",),
        claim_not_appropriate.applies,
        claim_not_appropriate.build,
    ),
    Claim(
        "calibration",
        "Calibration",
        "Calibration: how far confidence can be trusted",
        ("reliability",),
        ("calibration.calibration_figures",),
        claim_calibration.applies,
        claim_calibration.build,
    ),
    Claim(
        "errors",
        "Errors",
        "Errors: which classes, how confidently, and where the network looked",
        ("confident_mistakes", "saliency"),
        ("mistakes.mistake_figures",),
        claim_errors.applies,
        claim_errors.build,
    ),
)

DESIGN_CHOICES: tuple[str, ...] = (
    "Same padding: every input position gets an output, so the maps stay 28x28 and 14x14, the edges of "
    "the garment are not cut away, and only pooling sets the resolution.",
    "32 then 64 filters: the first layer looks for a few kinds of local pattern; the second combines "
    "them into more kinds, on a map pooled to a quarter of the positions.",
    "2x2 max pooling: halves each side after each convolution and keeps the strongest response in each "
    "window, so a shift within the window can leave the output unchanged; it also shrinks the input of "
    "the dense layer.",
    "A dense layer of 128 units and a softmax, like the last two layers of the baseline: the "
    "convolutions supply the features, the dense layer maps them to the ten classes.",
)


def design_choices() -> list[str]:
    """The reasons for the CNN's architecture: design rationale, stated before any measurement."""
    conv2 = next(r for r in models.receptive_fields(3) if r["layer"] == "conv2")["receptive_field"]
    return [
        "3x3 kernels: the smallest odd kernel that sees a pixel together with its neighbours, enough for "
        f"an edge or a corner; with pooling between two of them, each output of the second already sees "
        f"a patch of {conv2}x{conv2} input pixels.",
        *DESIGN_CHOICES,
    ]


class Benchmark(TypedDict):
    """A classifier and its accuracy on the Fashion-MNIST test set."""

    name: str
    accuracy: float


class Citation(TypedDict):
    """A work cited, and the address of its source."""

    text: str
    url: str


#: Published accuracies on the Fashion-MNIST test set, cited as published: Xiao, Rasul &
#: Vollgraf (2017), arXiv:1708.07747, and the benchmark table of its repository.
PUBLISHED: tuple[Benchmark, ...] = (
    {"name": "SVC (best scikit-learn model)", "accuracy": 0.897},
    {"name": "MLPClassifier", "accuracy": 0.870},
    {"name": "Human performance", "accuracy": 0.835},
)
#: The works cited, each with the address of its source (the report links to it, loads nothing).
CITATIONS: tuple[Citation, ...] = (
    {
        "text": "Xiao, H., Rasul, K. & Vollgraf, R. (2017). Fashion-MNIST: a Novel Image Dataset for "
        "Benchmarking Machine Learning Algorithms. arXiv:1708.07747.",
        "url": "https://arxiv.org/abs/1708.07747",
    },
    {
        "text": "Zalando Research, Fashion-MNIST benchmark: scikit-learn classifiers on the official test "
        "set, published with the data set (zalandoresearch/fashion-mnist on GitHub).",
        "url": "https://github.com/zalandoresearch/fashion-mnist",
    },
    {
        "text": "Dietterich, T. G. (1998). Approximate Statistical Tests for Comparing Supervised "
        "Classification Learning Algorithms. Neural Computation, 10(7), 1895-1923.",
        "url": "https://doi.org/10.1162/089976698300017197",
    },
    {
        "text": "Colas, C., Sigaud, O. & Oudeyer, P.-Y. (2018). How Many Random Seeds? Statistical Power "
        "Analysis in Deep Reinforcement Learning Experiments. arXiv:1806.08295.",
        "url": "https://arxiv.org/abs/1806.08295",
    },
)
