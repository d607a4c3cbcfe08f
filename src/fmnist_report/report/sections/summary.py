"""The summary at the top of the report: scope, headline accuracies, the comparison and the best kernel."""

from __future__ import annotations

from typing import TypedDict

from fmnist_report.ids import ModelId
from fmnist_report.report import wording
from fmnist_report.report.formatting import num, plural
from fmnist_report.report.sections.data import DataValues
from fmnist_report.report.sections.kernels import BestKernel, KernelsValues
from fmnist_report.report.sections.values import HalfStats, Rows, required, with_half
from fmnist_report.study.summary_types import ALPHA, SeedStats, Summary


class Headline(TypedDict):
    """A model as the summary quotes it: its name and its test accuracy over seeds."""

    label: str
    accuracy: SeedStats


class HeadlineCnn(Headline):
    """The headline CNN, with its kernel size."""

    kernel_size: int | None


class SummaryValues(TypedDict):
    """The summary's values."""

    profile: str
    dataset: str
    n_seeds: int
    epochs: int
    n_train: int
    n_test: int
    dense: Headline
    cnn: HeadlineCnn
    kernel_sizes: list[int]
    #: The CNN's difference from the baseline, and its worst and deciding p; None where they were not compared.
    diff: HalfStats | None
    worst_p: float | None
    p_value: float | None
    alpha: float
    significant: bool
    comparison: str
    best_kernel: BestKernel | None
    #: The first two sentences of section 4's conclusion.
    kernel_conclusion: list[str]
    platform: str
    scope_text: str


def scope_text(
    profile: str,
    n_train: int,
    n_test: int,
    epochs: int,
    n_seeds: int,
    full: bool,
    methods_in: str | None = None,
) -> str:
    """What the numbers are measured on, with the caveats a preview or a single seed needs.

    Args:
        methods_in: the appendix that states the statistical methods (`parts.number_of`), cited
            after Holm's correction; None cites none.
    """
    text = (
        f"Every number below comes from {plural(n_seeds, 'seed')} per model, {plural(epochs, 'epoch')} "
        f"each, on {num(n_train)} training and {num(n_test)} test images"
    )
    text += " (the full data set)." if full else " (a stratified subset, not the full data set)."
    if profile != "full" or not full:
        which = (
            f"This is the {profile} profile, a preview"
            if profile != "full"
            else "The full profile's settings on a subset are a preview"
        )
        text += (
            f" {which}: its accuracies are far from what the full "
            "protocol reaches and must not be quoted as the study's results."
        )
    if n_seeds == 1:
        text += (
            " With one seed there is no interval over seeds; comparisons rest on McNemar's test "
            "of the single run's test predictions."
        )
    else:
        text += f" Intervals are 95% Student-t intervals over the {n_seeds} seeds."
    text += (
        " Several comparisons are made, so each family of them is corrected with Holm's method "
        "before a difference is called significant"
    )
    text += f" (appendix {methods_in})." if methods_in else "."
    return text


def build(
    summary: Summary,
    rows: Rows,
    data: DataValues,
    kernels: KernelsValues,
    *,
    methods_in: str,
) -> SummaryValues:
    """The summary's values; the image counts come from section 1 and the best kernel from section 4.

    Args:
        methods_in: the appendix that states the statistical methods, which the scope cites.
    """
    s = summary.study
    roles = summary.roles
    headline = required(roles.headline, "the CNN")
    dense, cnn = rows[required(roles.dense, "the dense baseline")], rows[headline]
    comp = summary.comparison(roles.dense, roles.headline)
    n_seeds = len(cnn["seeds"])
    return {
        "profile": s.profile,
        "dataset": "Fashion-MNIST",
        "n_seeds": n_seeds,
        "epochs": s.epochs,
        "n_train": data["n_train"],
        "n_test": data["n_test"],
        "dense": {"label": dense["label"], "accuracy": dense["test_accuracy"]},
        "cnn": {
            "label": cnn["label"],
            "kernel_size": ModelId.parse(headline).kernel_size,
            "accuracy": cnn["test_accuracy"],
        },
        "kernel_sizes": list(s.kernel_sizes),
        "diff": with_half(comp["diff"]) if comp else None,
        "worst_p": comp["worst_p"] if comp else None,
        # The p the verdict rests on, and the level McNemar's per-seed tests are counted at.
        "p_value": comp["p_value"] if comp else None,
        "alpha": ALPHA,
        "significant": bool(comp and comp["significant"]),
        "comparison": wording.significance_text(comp),
        "best_kernel": kernels["best"],
        "kernel_conclusion": kernels["conclusion"][:2],
        "platform": summary.platform,
        "scope_text": scope_text(
            s.profile, data["n_train"], data["n_test"], s.epochs, n_seeds, data["full"], methods_in
        ),
    }
