"""Section 5, locality: what permuting the pixels did to each network and to the margin between them."""

from __future__ import annotations

from fmnist_report.report.formatting import pct, points, pp, pvalue
from fmnist_report.report.sections.roles import Found, pairs
from fmnist_report.report.sections.types import ClaimTable
from fmnist_report.report.wording import Comparison, accuracies, comparison_sentence, verdict
from fmnist_report.study.summary_types import Summary


def applies(summary: Summary) -> bool:
    """The evidence ran: the baseline or the CNN was trained again on permuted pixels."""
    found = pairs(summary)
    return found.dense is not None or found.cnn is not None


def build(summary: Summary) -> Found:
    """The locality claim's paragraphs and its table."""
    found = pairs(summary)
    seed = summary.seed(found.cnn_twin) if found.cnn_twin else None
    return (
        locality_text(
            dense=found.dense, cnn=found.cnn, before=found.head_to_head, after=found.after, seed=seed
        ),
        [locality_table(dense=found.dense, cnn=found.cnn)],
    )


def locality_text(
    dense: Comparison | None,
    cnn: Comparison | None,
    before: Comparison | None,
    after: Comparison | None,
    seed: int | None = None,
) -> list[str]:
    """What permuting the pixels did to each network and to the margin between them.

    Args:
        dense: Dense against Dense on permuted pixels; ``cnn`` likewise for the CNN.
        before: Dense against CNN on the original pixels; ``after`` on permuted pixels.
    """
    paras = [
        "Locality was tested directly: both networks were trained again on images whose 784 pixels "
        f"were reordered by one fixed random permutation{f' (seed {seed})' if seed is not None else ''}, "
        "the same for every training and test image. Every pixel value is kept, but which pixels are "
        "neighbours is destroyed. A fully connected network cannot tell the difference (the permutation "
        "only reorders its first layer's weights); a convolution, which combines neighbouring pixels, can."
    ]
    if cnn is not None:
        a, b = accuracies(cnn)
        v = verdict(cnn)
        if v == "lower":
            text = (
                f"Permuting the pixels cost the {cnn['label_a']} {points(a - b)} pp "
                f"({pct(a, 1)} to {pct(b, 1)}): {comparison_sentence(cnn)}. Its accuracy depends on neighbouring pixels "
                "being neighbours, which is what locality means."
            )
        elif v == "higher":
            text = (
                f"The {cnn['label_a']} became more accurate on permuted pixels ({pct(a, 1)} to {pct(b, 1)}): "
                f"{comparison_sentence(cnn)}. This run gives no evidence that it relies on locality."
            )
        else:
            text = (
                f"Permuting the pixels did not measurably change the {cnn['label_a']} ({pct(a, 1)} to {pct(b, 1)}; "
                f"{comparison_sentence(cnn)}). On this evidence its accuracy does not depend on locality."
            )
        paras.append(text)
    if dense is not None:
        a, b = accuracies(dense)
        if verdict(dense) == "none":
            text = (
                f"The {dense['label_a']} network moved from {pct(a, 1)} to {pct(b, 1)}, within noise ({comparison_sentence(dense)}), "
                "as a network without a notion of neighbourhood should."
            )
        else:
            text = (
                f"The {dense['label_a']} network's accuracy changed beyond noise under the permutation "
                f"({pct(a, 1)} to {pct(b, 1)}; {comparison_sentence(dense)}). A fixed reordering removes no information a fully "
                "connected layer can use, so this difference can only come from the training run itself "
                "(the same initial weights now meet the pixels in another order); it is a measure of how "
                "much one training run varies, and the CNN's change should be read against it."
            )
        paras.append(text)
    if before is not None and after is not None:
        vb, va = verdict(before), verdict(after)
        cnn_label = before["label_b"]
        margin = f"With the original pixels, {comparison_sentence(before)}; with permuted pixels, {comparison_sentence(after)}."
        if vb == "higher" and va == "lower":
            margin += f" The {cnn_label}'s advantage over Dense turns into a deficit once locality is gone."
        elif vb == "higher" and va == "none":
            margin += f" The {cnn_label}'s advantage over Dense disappears once locality is gone."
        elif vb == "higher" and va == "higher":
            margin += (
                f" The {cnn_label} keeps a significant advantage even without locality, so locality does "
                "not explain all of it."
            )
        elif vb == "none" and va == "lower":
            margin += (
                " The two did not differ significantly on the original pixels, but Dense is ahead once "
                "locality is gone: removing locality hurts the convolution specifically."
            )
        elif vb == "none" and va == "none":
            margin += " Neither with nor without locality did the two networks differ significantly."
        elif vb == "lower":
            margin += (
                " Dense was ahead even on the original pixels, so this run shows no benefit of locality."
            )
        else:
            margin += (
                f" The {cnn_label} is significantly ahead only on the permuted pixels, which locality "
                "does not explain."
            )
        paras.append(margin)
    return paras


def locality_table(dense: Comparison | None, cnn: Comparison | None) -> ClaimTable:
    """Accuracy with and without the permutation, and McNemar's p for each model."""
    rows = []
    for c in (dense, cnn):
        if c is None:
            continue
        a, b = accuracies(c)
        rows.append(
            [c["label_a"], pct(a, 1), pct(b, 1), pp(b - a), pvalue(c["worst_p"]), pvalue(c["p_adjusted"])]
        )
    return {
        "caption": "Test accuracy with original and with permuted pixels (same seed), McNemar's exact test, "
        "and its p adjusted with Holm's method over the locality comparisons.",
        "columns": ["Model", "Original pixels", "Permuted pixels", "Change", "McNemar", "Holm-adjusted"],
        "rows": rows,
    }
