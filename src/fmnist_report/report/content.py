"""The report's fixed content: its sections, the claims of section 5, design choices and citations.

Nothing here is measured; the sections put these values beside the measured ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fmnist_report import models

#: The report's parts in order: id (anchor) and title. The numbered ones come first; a part
#: whose study did not run (the variants, where none is declared) is left out and the
#: numbers close up, so the built-in study keeps its numbering.
PARTS: tuple[tuple[str, str], ...] = (
    ("data", "Data exploration"),
    ("dense", "Dense baseline"),
    ("cnn", "Convolutional network"),
    ("kernels", "Kernel-size study"),
    ("variants", "Your variants"),
    ("interpretation", "Interpretation"),
    ("deployment", "Deployment"),
)
APPENDICES: tuple[tuple[str, str, str], ...] = (
    ("reproducibility", "A", "Appendix: reproducibility"),
    ("references", "B", "Appendix: references"),
)
#: Parts shown only when their study ran.
OPTIONAL_PARTS = ("variants",)


def sections(shown: Iterable[str] = ()) -> tuple[tuple[str, str, str], ...]:
    """The report's numbered sections as (id, number, title), with the optional parts in ``shown``."""
    kept = [(i, t) for i, t in PARTS if i not in OPTIONAL_PARTS or i in set(shown)]
    return (*((i, str(n), t) for n, (i, t) in enumerate(kept, start=1)), *APPENDICES)


#: The report's sections when no optional part ran.
SECTIONS = sections()
#: Figure sections the study's partials place; any other section goes to the interpretation.
PLACED_SECTIONS = ("eda", "dense", "cnn", "kernels", "variants")


@dataclass(frozen=True)
class Claim:
    """One claim of section 5: its anchor, its name, the item's title and the figures that show it."""

    id: str
    name: str
    title: str
    figures: tuple[str, ...]


#: Section 5's claims in reading order.
CLAIMS: tuple[Claim, ...] = (
    Claim(
        "locality", "Locality", "Locality: the CNN needs neighbouring pixels to be neighbours", ("locality",)
    ),
    Claim(
        "weight-sharing", "Weight sharing", "Weight sharing: the same kernel at every position", ("filters",)
    ),
    Claim(
        "translation",
        "Translation equivariance",
        "Translation equivariance: exact in conv1, partial after pooling",
        ("equivariance", "shift_accuracy"),
    ),
    Claim(
        "hierarchy",
        "Hierarchical features",
        "Hierarchical features: receptive fields grow layer by layer",
        ("feature_maps",),
    ),
    Claim(
        "not-appropriate",
        "When convolution is not appropriate",
        "When convolution is not appropriate",
        ("param_efficiency",),
    ),
    Claim("calibration", "Calibration", "Calibration: how far confidence can be trusted", ("reliability",)),
    Claim(
        "errors",
        "Errors",
        "Errors: which classes, how confidently, and where the network looked",
        ("confident_mistakes", "saliency"),
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


#: Published accuracies on the Fashion-MNIST test set, cited as published: Xiao, Rasul &
#: Vollgraf (2017), arXiv:1708.07747, and the benchmark table of its repository.
PUBLISHED: tuple[dict[str, Any], ...] = (
    {"name": "SVC (best scikit-learn model)", "accuracy": 0.897},
    {"name": "MLPClassifier", "accuracy": 0.870},
    {"name": "Human performance", "accuracy": 0.835},
)
#: The works cited, each with the address of its source (the report links to it, loads nothing).
CITATIONS: tuple[dict[str, str], ...] = (
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
