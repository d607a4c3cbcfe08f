"""Section 5, translation: how exactly feature maps follow a shifted input, and how accuracy falls with the shift."""

from __future__ import annotations

from fmnist_report.report.formatting import join_words, pct, ratio, rel_error, span
from fmnist_report.report.sections.roles import Found
from fmnist_report.report.sections.types import ClaimTable
from fmnist_report.report.wording import each_p_text
from fmnist_report.study.summary_types import ALPHA, SHIFT, Equivariance, ShiftAnalysis, Summary

#: A relative error below this is float rounding, not a failure of equivariance.
EXACT = 1e-5


def applies(summary: Summary) -> bool:
    """The evidence ran: the shift experiment measured the feature maps and the accuracy."""
    return SHIFT in summary.analyses


def build(summary: Summary) -> Found:
    """The translation claim's two paragraphs (equivariance, then accuracy) and its tables."""
    measured = summary.analyses[SHIFT]
    return (
        [equivariance_text(eq=measured["equivariance"]), shift_accuracy_text(metrics=measured)],
        shift_tables(metrics=measured),
    )


def equivariance_text(eq: Equivariance) -> str:
    """How exactly each layer's maps follow a shift of the input, from the ``shift`` metrics."""
    mags = eq["magnitudes"]
    errors = eq["relative_error"]
    layers = eq["layers"]
    geometry = eq["geometry"]
    first = layers[0]
    first_vals = [v for v in errors[first] if v is not None]
    if first_vals and max(first_vals) < EXACT:
        exact = (
            "identical"
            if max(first_vals) == 0
            else f"equal up to float rounding (largest relative error {rel_error(max(first_vals))})"
        )
        text = (
            f"Shifting the input by {span(mags, str)} pixels shifts {first}'s feature maps by exactly as many "
            f"pixels: away from the borders the two are {exact}. That is translation equivariance, and it "
            "holds because the same kernel is applied at every position."
        )
    else:
        text = (
            f"{first}'s feature maps follow a shift of the input only approximately: the relative error away "
            f"from the borders is {span(first_vals, rel_error)}."
        )
    sentences = []
    for name in layers[1:]:
        j = geometry[name]["stride"]
        vals = dict(zip(mags, errors[name], strict=True))
        on = [v for s, v in vals.items() if s % j == 0 and v is not None]
        off = [v for s, v in vals.items() if s % j != 0 and v is not None]
        part = f"{name} (stride {j})"
        if on:
            word = "exactly" if max(on) < EXACT else "approximately"
            part += f" follows shifts that are multiples of {j} {word} (error {span(on, rel_error)})"
            if off:
                part += f" but not the others (error {span(off, rel_error)})"
        elif off:
            part += f" follows no shift of 1 to {max(mags)} pixels exactly (error {span(off, rel_error)})"
        sentences.append(part)
    if sentences:
        text += (
            " Pooling breaks exact equivariance, because a shift that is not a whole number of pooled "
            "pixels changes which inputs each pooling window sees. In the layers after conv1: "
            + "; ".join(sentences)
            + "."
        )
    change = eq.get("relative_change")
    if change and 1 in mags:
        i = mags.index(1)
        ones = {name: v for name in layers if (v := change[name][i]) is not None}
        if len(ones) >= 2:
            listed = join_words([f"{name} {rel_error(v)}" for name, v in ones.items()])
            first_name, last_name = next(iter(ones)), list(ones)[-1]
            text += (
                " Compared with the unshifted maps instead (no shift undone), a 1-pixel shift changes each "
                f"layer by (relative error) {listed}."
            )
            if ones[last_name] < ones[first_name]:
                text += (
                    f" The change at {last_name} is {ratio(ones[first_name] / ones[last_name])} smaller than at "
                    f"{first_name}: pooling trades exact equivariance for partial invariance to small shifts."
                )
            else:
                text += f" {last_name} is not less sensitive to a 1-pixel shift than {first_name} here."
    return text


def shift_accuracy_text(metrics: ShiftAnalysis) -> str:
    """How accuracy falls with the shift for each model, and the comparison at the largest shift."""
    mags = metrics["magnitudes"]
    ids = metrics["models"]
    labels = metrics["labels"]
    mean = metrics["mean_accuracy"]
    parts = [
        f"for {labels[m]} from {pct(mean[m][0], 1)} to {pct(mean[m][1], 1)} at 1 pixel and {pct(mean[m][-1], 1)} at "
        f"{mags[-1]} pixels"
        for m in ids
    ]
    text = (
        "Equivariant feature maps do not make the classifier invariant: the flattening and dense layers at "
        f"the end still see where each feature is. On {metrics['images']} shifted by 0 to {mags[-1]} pixels "
        f"in each of the four axis directions, the mean accuracy over directions falls {'; '.join(parts)}."
    )
    tests = metrics.get("max_shift_mcnemar") or {}
    if len(ids) >= 2 and tests:
        a, b = labels[ids[0]], labels[ids[1]]
        # Four directions are four tests: each verdict uses its p adjusted over them (Holm).
        ahead = [d for d, t in tests.items() if t["p_adjusted"] < ALPHA and t["diff"] > 0]
        behind = [d for d, t in tests.items() if t["p_adjusted"] < ALPHA and t["diff"] < 0]
        diffs = [t["diff"] for t in tests.values()]
        worst = max(t["p_adjusted"] for t in tests.values())
        n = len(tests)
        holm = f"Holm-adjusted over the {n} directions" if n > 1 else ""
        if len(ahead) == n:
            text += (
                f" At {mags[-1]} pixels the {b} is ahead of {a} in all {n} directions, by "
                f"{span([d * 100 for d in diffs], lambda x: f'{x:.1f}')} pp "
                f"({', '.join(filter(None, (each_p_text(worst), holm)))}): it degrades more gracefully."
            )
        elif len(behind) == n:
            text += (
                f" At {mags[-1]} pixels the {b} is behind {a} in all {n} directions, by "
                f"{span([-d * 100 for d in diffs], lambda x: f'{x:.1f}')} pp "
                f"({', '.join(filter(None, (each_p_text(worst), holm)))})."
            )
        else:
            text += (
                f" At {mags[-1]} pixels the {b} is significantly ahead of {a} in {len(ahead)} of {n} directions "
                f"and behind in {len(behind)} (McNemar, alpha {ALPHA}{', ' + holm if holm else ''}); the "
                f"difference ranges from {span([d * 100 for d in diffs], lambda x: f'{x:+.1f}')} pp."
            )
    return text


def shift_tables(metrics: ShiftAnalysis) -> list[ClaimTable]:
    """Mean accuracy per shift and model; relative equivariance error per layer and shift."""
    ids, labels = metrics["models"], metrics["labels"]
    acc_rows = [
        [str(s), *[pct(metrics["mean_accuracy"][m][i], 1) for m in ids]]
        for i, s in enumerate(metrics["magnitudes"])
    ]
    eq = metrics["equivariance"]
    eq_rows = [
        [name, str(eq["geometry"][name]["stride"]), *[rel_error(v) for v in eq["relative_error"][name]]]
        for name in eq["layers"]
    ]
    return [
        {
            "caption": f"Test accuracy against shift, mean over the four directions ({metrics['images']}).",
            "columns": ["Shift (pixels)", *[labels[m] for m in ids]],
            "rows": acc_rows,
        },
        {
            "caption": f"Relative error of the CNN {eq['kernel_size']}x{eq['kernel_size']}'s shifted feature maps "
            f"against its feature maps of the shifted image, interior positions ({eq['images']}).",
            "columns": ["Layer", "Stride", *[f"{s} px" for s in eq["magnitudes"]]],
            "rows": eq_rows,
        },
    ]
