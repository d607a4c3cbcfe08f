"""The summary at the top of the report: scope, headline accuracies, the comparison and the best kernel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fmnist_report.ids import ModelId
from fmnist_report.report import wording
from fmnist_report.report.formatting import num, plural
from fmnist_report.report.sections.values import Rows, with_half
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import ALPHA, Summary


def scope_text(profile: str, n_train: int, n_test: int, epochs: int, n_seeds: int, full: bool) -> str:
    """What the numbers are measured on, with the caveats a preview or a single seed needs."""
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
        "before a difference is called significant (appendix A)."
    )
    return text


def build(
    results: StudyResults,
    summary: Summary,
    rows: Rows,
    data: Mapping[str, Any],
    kernels: Mapping[str, Any],
) -> dict[str, Any]:
    """The summary's values; the image counts come from section 1 and the best kernel from section 4."""
    s = results.config.study
    roles = summary.roles
    dense, cnn = rows[roles.dense], rows[roles.headline]
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
            "kernel_size": ModelId.parse(roles.headline).kernel_size,
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
        "scope_text": scope_text(s.profile, data["n_train"], data["n_test"], s.epochs, n_seeds, data["full"]),
    }
