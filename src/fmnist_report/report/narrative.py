"""The report's prose, written from the measured numbers: plain values in, plain text out.

Nothing here reads files or results objects: every function takes numbers (or the
comparison dicts of `summary.comparisons`) and returns text or small lists, so each
sentence can be tested against both outcomes it might have to report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fmnist_report.report.formatting import join_words, mean_ci, num, pct, plural, pp, ratio

# -- reading comparisons ---------------------------------------------------------------------


def find_comparison(comparisons: Mapping[str, Mapping[str, Any]], a: str, b: str) -> Mapping[str, Any] | None:
    """The comparison of ``a`` and ``b`` in either order, or None."""
    return comparisons.get(f"{a}__vs__{b}") or comparisons.get(f"{b}__vs__{a}")


# -- the summary -----------------------------------------------------------------------------


def scope_text(profile: str, n_train: int, n_test: int, epochs: int, n_seeds: int, full: bool) -> str:
    """What the numbers are measured on, with the caveats a preview or a single seed needs."""
    text = (
        f"Every number below comes from {plural(n_seeds, 'seed')} per model, {plural(epochs, 'epoch')} "
        f"each, on {num(n_train)} training and {num(n_test)} test images"
    )
    text += " (the full data set)." if full else " (a stratified subset, not the full data set)."
    if profile != "full" or not full:
        text += (
            f" This is the {profile} profile, a preview: its accuracies are far from what the full "
            "protocol reaches and must not be quoted as the study's results."
        )
    if n_seeds == 1:
        text += (
            " With one seed there is no interval over seeds; comparisons rest on McNemar's test "
            "of the single run's test predictions."
        )
    else:
        text += f" Intervals are 95% Student-t intervals over the {n_seeds} seeds."
    return text


# -- 1 data exploration ------------------------------------------------------------------------


def split_phrase(split: str, fraction: float) -> str:
    """How the validation images were held out: ``stratified 15% per class`` or ``the last 15%``."""
    share = f"{fraction * 100:g}%"
    if split == "stratified":
        return f"stratified {share} per class"
    if split == "last":
        return f"the last {share}"
    raise ValueError(f"split must be stratified or last, got {split!r}")


def preprocessing_text(
    split: str,
    fraction: float,
    n_fit: int,
    n_val: int,
    scaled: Mapping[str, float],
    scaled_dtype: str,
    n_classes: int,
) -> str:
    """The preprocessing every model sees, with the measured range of the scaled pixels."""
    how = split_phrase(split, fraction)
    where = (
        "a random, seeded choice within each class"
        if split == "stratified"
        else "the final images in file order, as Keras' validation_split takes them"
    )
    return (
        f"Pixels are divided by 255 and stored as {scaled_dtype}, so they lie in [0, 1] "
        f"(measured: {scaled['min']:.3f} to {scaled['max']:.3f}, mean {scaled['mean']:.3f}). "
        f"Labels become one-hot vectors of length {n_classes}. For validation the training images "
        f"are split {how} ({where}): {num(n_fit)} images are fitted and {num(n_val)} are held out. "
        "The test images are never used for training or for choosing a model; they only measure the "
        "trained ones."
    )


def balance_text(train_counts: Sequence[int], test_counts: Sequence[int], class_names: Sequence[str]) -> str:
    """Whether the classes are balanced, read from the counts."""
    parts = []
    for split, counts in (("training", train_counts), ("test", test_counts)):
        lo, hi = min(counts), max(counts)
        if lo == hi:
            parts.append(f"every class has {num(lo)} {split} images")
        else:
            low_name = class_names[int(np.argmin(counts))]
            high_name = class_names[int(np.argmax(counts))]
            parts.append(
                f"{split} classes range from {num(lo)} ({low_name}) to {num(hi)} ({high_name}) images, "
                f"a ratio of {hi / lo:.2f}"
            )
    balanced = all(min(c) == max(c) for c in (train_counts, test_counts))
    head = "The classes are exactly balanced: " if balanced else "The classes are not balanced: "
    return head + "; ".join(parts) + "."


def pixel_text(raw: Mapping[str, float], zero_fraction: float, dtype: str) -> str:
    """The raw pixel range and how much of each image is background."""
    return (
        f"Raw pixels are {dtype} values from {raw['min']:.0f} to {raw['max']:.0f} "
        f"(mean {raw['mean']:.1f}, standard deviation {raw['std']:.1f}). "
        f"{pct(zero_fraction, 1)} of all training pixels are exactly 0, the black background "
        "around each garment."
    )


# -- 2 dense baseline --------------------------------------------------------------------------


def most_confused(confusion: np.ndarray, class_names: Sequence[str], top: int = 3) -> list[dict[str, Any]]:
    """The class pairs confused most often, both directions summed (rows: true class)."""
    c = np.asarray(confusion)
    support = c.sum(axis=1)
    pairs = []
    for i in range(len(c)):
        for j in range(i + 1, len(c)):
            count = int(c[i, j] + c[j, i])
            if count == 0:
                continue
            forward, backward = int(c[i, j]), int(c[j, i])
            # Name the dominant direction first: "Shirt taken for T-shirt/top".
            a, b = (i, j) if forward >= backward else (j, i)
            pairs.append(
                {
                    "a": class_names[a],
                    "b": class_names[b],
                    "a_as_b": int(c[a, b]),
                    "b_as_a": int(c[b, a]),
                    "count": count,
                    "share": count / max(int(support[i] + support[j]), 1),
                }
            )
    pairs.sort(key=lambda p: (-p["count"], p["a"], p["b"]))
    return pairs[:top]


def weakest_classes(
    accuracy: Sequence[float], class_names: Sequence[str], top: int = 3
) -> list[dict[str, Any]]:
    """The classes with the lowest accuracy, weakest first."""
    order = sorted(range(len(accuracy)), key=lambda i: (accuracy[i], i))
    return [{"name": class_names[i], "accuracy": float(accuracy[i])} for i in order[:top]]


def limitations_text(
    label: str, overall: float, weakest: Sequence[Mapping[str, Any]], pairs: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The baseline's weaknesses as the results show them: weakest classes, most confused pairs."""
    out = []
    if weakest:
        names = join_words([f"{w['name']} ({pct(w['accuracy'])})" for w in weakest])
        out.append(f"The {label} model's weakest classes are {names}, against {pct(overall)} overall.")
    if pairs:
        items = [
            f"{p['a']} taken for {p['b']} {num(p['a_as_b'])} times and the reverse {num(p['b_as_a'])} times"
            for p in pairs
        ]
        out.append(f"Its most frequent confusions (test predictions, all seeds summed): {'; '.join(items)}.")
    else:
        out.append("It made no confusions between classes on the test images.")
    out.append(
        "A dense layer treats the 784 pixels as an unordered vector: nothing in the architecture "
        "tells it that neighbouring pixels belong together, so every spatial pattern has to be "
        "learned separately at every position."
    )
    return out


# -- 3 CNN against the baseline ----------------------------------------------------------------


def per_class_shift_text(
    a_label: str,
    b_label: str,
    a_acc: Sequence[float],
    b_acc: Sequence[float],
    class_names: Sequence[str],
    n_test_per_class: Sequence[int],
) -> str:
    """Where model B gains or loses against model A, class by class (descriptive, untested)."""
    diffs = [b - a for a, b in zip(a_acc, b_acc, strict=True)]
    eps = 1e-12
    better = sum(d > eps for d in diffs)
    worse = sum(d < -eps for d in diffs)
    level = len(diffs) - better - worse
    text = (
        f"{b_label} is more accurate than {a_label} on {better} of {len(diffs)} classes, "
        f"less accurate on {worse}" + (f" and level on {level}" if level else "") + "."
    )
    best = int(np.argmax(diffs))
    worst = int(np.argmin(diffs))
    if diffs[best] > eps:
        text += f" The largest gain is on {class_names[best]} ({pp(diffs[best])})"
        text += (
            f", the largest loss on {class_names[worst]} ({pp(diffs[worst])})."
            if diffs[worst] < -eps
            else "."
        )
    elif diffs[worst] < -eps:
        text += f" The largest loss is on {class_names[worst]} ({pp(diffs[worst])})."
    lo, hi = min(n_test_per_class), max(n_test_per_class)
    per = num(lo) if lo == hi else f"{num(lo)} to {num(hi)}"
    text += (
        f" These per-class differences are not tested one by one; with {per} test images per class, "
        "small ones are within noise."
    )
    return text


def cost_text(a_label: str, a: Mapping[str, Any], b_label: str, b: Mapping[str, Any]) -> str:
    """What model B costs against model A: parameters, FLOPs per image, training time."""

    def rel(x: float, y: float, what: str) -> str:
        if y == x:
            return f"the same {what}"
        factor = y / x
        return f"{ratio(factor)} the {what}" if factor >= 1 else f"only {ratio(factor)} the {what}"

    train_a, train_b = a["train_seconds"]["mean"], b["train_seconds"]["mean"]
    return (
        f"{b_label} has {num(b['params'])} parameters against {num(a['params'])} for {a_label} "
        f"({rel(a['params'], b['params'], 'parameters')}), needs {rel(a['flops'], b['flops'], 'FLOPs per image')} "
        f"({num(b['flops'])} against {num(a['flops'])}) and took {rel(train_a, train_b, 'training time')} "
        f"({train_b:.1f} s against {train_a:.1f} s on this machine)."
    )


# -- 4 kernel sizes ----------------------------------------------------------------------------


def kernel_conclusion(
    rows: Sequence[Mapping[str, Any]], comparisons: Mapping[str, Mapping[str, Any]], reference: int = 3
) -> list[str]:
    """Which kernel size is best and whether the data can tell, from the pairwise comparisons.

    Args:
        rows: one per kernel size: ``model_id``, ``label``, ``kernel_size``, ``test_accuracy``
            (a per-seed summary dict) and ``flops``.
        reference: the kernel size the CNN of section 3 uses.
    """
    if not rows:
        return ["No kernel-size runs were made."]
    if len(rows) == 1:
        only = rows[0]
        return [f"Only {only['label']} was trained, so no kernel sizes can be compared."]
    best = max(rows, key=lambda r: (r["test_accuracy"]["mean"], -r["kernel_size"]))
    others = [r for r in rows if r is not best]
    sig_better, not_sig = [], []
    for other in others:
        comp = find_comparison(comparisons, best["model_id"], other["model_id"])
        (sig_better if comp is not None and comp["significant"] else not_sig).append(other["label"])
    top = best["test_accuracy"]["mean"]
    tied = [r for r in rows if abs(r["test_accuracy"]["mean"] - top) < 1e-12]
    if len(tied) > 1:
        out = [f"{join_words([r['label'] for r in tied])} share the highest mean test accuracy, {pct(top)}."]
    else:
        out = [f"{best['label']} has the highest mean test accuracy, {mean_ci(best['test_accuracy'])}."]
    if not sig_better:
        out.append(
            f"No other kernel size differs significantly from {best['label']} ({join_words(not_sig)}): "
            "the data do not single out a best kernel size."
        )
    elif not not_sig:
        out.append(f"{best['label']} is significantly more accurate than {join_words(sig_better)}.")
    else:
        out.append(
            f"{best['label']} is significantly more accurate than {join_words(sig_better)}, "
            f"but not distinguishable from {join_words(not_sig)}."
        )
    ref = next((r for r in rows if r["kernel_size"] == reference), None)
    if ref is not None:
        ref_name = f"{reference}x{reference}"
        if ref is best:
            out.append(f"The {ref_name} kernel used in section 3 is the best-scoring size here.")
        else:
            verdict = (
                "and the gap is significant"
                if ref["label"] in sig_better
                else "but the gap is not significant"
            )
            out.append(
                f"The {ref_name} kernel used in section 3 is not the best-scoring size here, {verdict}."
            )
    cheapest = min(rows, key=lambda r: r["flops"])
    if cheapest is not best and cheapest["label"] in not_sig:
        out.append(
            f"Since {cheapest['label']} is not significantly less accurate and needs the fewest FLOPs "
            f"({num(cheapest['flops'])} per image against {num(best['flops'])}), it is the better trade-off."
        )
    elif cheapest is best:
        out.append(f"{best['label']} is also the cheapest, so accuracy and cost agree.")
    return out


def tradeoff_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """How cost grows with kernel size, from the smallest to the largest kernel measured."""
    if len(rows) < 2:
        return ""
    ordered = sorted(rows, key=lambda r: r["kernel_size"])
    small, large = ordered[0], ordered[-1]
    t_small, t_large = small["train_seconds"]["mean"], large["train_seconds"]["mean"]
    params_x, flops_x = large["params"] / small["params"], large["flops"] / small["flops"]
    text = (
        f"From {small['label']} to {large['label']} the parameters go from {num(small['params'])} to "
        f"{num(large['params'])} ({ratio(params_x)}), the FLOPs per image from "
        f"{num(small['flops'])} to {num(large['flops'])} ({ratio(flops_x)}) and the "
        f"training time from {t_small:.1f} s to {t_large:.1f} s ({ratio(t_large / t_small)})."
    )
    if params_x < flops_x:
        # True of this architecture: same padding keeps the flattened size, so the dense layer is fixed.
        text += (
            " The parameter count grows less than the FLOPs because most parameters sit in the dense layer "
            "after the convolutions, whose size does not depend on the kernel, while every convolution "
            "weight is applied at every position."
        )
    return text


# -- references ---------------------------------------------------------------------------------


def benchmark_text(
    ours: Sequence[Mapping[str, Any]], published: Sequence[Mapping[str, Any]], full: bool
) -> str:
    """Where our accuracies sit among the published ones (descriptive, not a test)."""
    if not ours or not published:
        return ""
    sentences = []
    for row in ours:
        acc = row["accuracy"]
        above = [p["name"] for p in published if acc > p["accuracy"]]
        below = [p["name"] for p in published if acc <= p["accuracy"]]
        if not below:
            where = "above every published figure listed"
        elif not above:
            where = "below every published figure listed"
        else:
            where = f"above {join_words(above)} and below {join_words(below)}"
        sentences.append(f"Our {row['name']} ({pct(acc)}) is {where}.")
    caveat = (
        " These are descriptive comparisons only: the published numbers come from other training "
        "set-ups and are not tested against ours."
    )
    if not full:
        caveat += " Ours are measured on a subset of the test set, which makes them noisier still."
    return " ".join(sentences) + caveat
