"""The Summary's rows: one model over its seeds, one comparison, one layer, one machine.

Plain JSON objects whose keys a type checker knows (``TypedDict``); `summary_types` re-exports them.
"""

from __future__ import annotations

from typing import NotRequired

# pydantic reads a TypedDict's keys from typing_extensions' on Python 3.11.
from typing_extensions import TypedDict


class SeedStats(TypedDict):
    """Mean, sample std and Student-t interval of one metric over a model's seeds (`stats.summarize`)."""

    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    confidence: float
    has_ci: bool


class PerSeed(TypedDict):
    """A model's per-run values, in seed order."""

    test_accuracy: list[float]
    train_seconds: list[float]
    per_class_accuracy: list[list[float]]


class ModelRow(TypedDict):
    """One trained model over its seeds."""

    model_id: str
    label: str
    seeds: list[int]
    params: int
    flops: int
    test_accuracy: SeedStats
    test_loss: SeedStats
    train_seconds: SeedStats
    latency_ms_batched: SeedStats
    latency_ms_single: SeedStats
    #: Accuracy on each class, the mean over seeds, in class order.
    per_class_accuracy: list[float]
    #: Accuracy on each class over the seeds, with its interval, in class order.
    per_class: list[SeedStats]
    #: Whether the mean test accuracy sits within `NEAR_CHANCE_MARGIN` of chance.
    near_chance: bool
    per_seed: PerSeed
    #: The confusion matrices of the seeds, summed (rows: the true class).
    confusion: list[list[int]]
    #: The numeric precision each run trained in, in seed order.
    precision: list[str]
    #: A declared variant's overrides; absent for a built-in model.
    overrides: NotRequired[dict[str, int | float | str | bool | list[int]]]


class McNemarTest(TypedDict):
    """McNemar's exact test on one seed (`stats.McNemar`)."""

    n: int
    b: int
    c: int
    p_value: float
    acc_a: float
    acc_b: float
    diff: float
    odds_ratio: float
    odds_ratio_corrected: bool


class PowerFound(TypedDict):
    """What a comparison that found nothing could have found (`stats.Power`)."""

    alpha: float
    power: float
    n: int
    std: float
    detectable: float
    observed: float
    seeds: int | None
    limit: int


class Comparison(TypedDict):
    """Model B against model A on the seeds both have, with its corrected verdict."""

    a: str
    b: str
    label_a: str
    label_b: str
    seeds: list[int]
    #: The per-seed differences ``b - a`` in accuracy.
    diff: SeedStats
    mcnemar: list[McNemarTest]
    worst_p: float
    mcnemar_significant: int
    #: ``t-test`` over several seeds, ``mcnemar`` on one.
    test: str
    p_value: float
    #: Its family of `FAMILIES`; None for a comparison made on its own.
    family: str | None
    family_size: int
    p_adjusted: float
    significant_uncorrected: bool
    significant: bool
    power: PowerFound | None


class Layer(TypedDict):
    """One row of a model's layer table."""

    name: str
    type: str
    output_shape: str
    params: int


class Machine(TypedDict):
    """A machine that trained runs of this build, and how many."""

    #: Its record's ``machine`` (cpu, logical CPUs, threads); None where a record predates it.
    machine: dict[str, str | int | float | None] | None
    runs: int


#: Each history entry of a model's runs (``loss``, ``val_accuracy``...), one list per seed.
Curves = dict[str, list[list[float]]]
