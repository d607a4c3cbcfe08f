"""Section 5, Interpretation: each claim tied to this study's figures and tables, worded from the numbers.

The ``*_text`` functions take plain values (analysis metrics, `summary.compare` dicts) and
return paragraphs, so each can be tested against every outcome it may have to report.
:func:`evidence` assembles them into the items the report template lays out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fmnist_report.report import content
from fmnist_report.report.formatting import (
    join_words,
    num,
    pct,
    plural,
    points,
    pp,
    pvalue,
    ratio,
    rel_error,
    span,
)
from fmnist_report.report.wording import Comparison, accuracies, comparison_sentence, each_p_text, verdict
from fmnist_report.study.results import StudyResults
from fmnist_report.study.summary import ALPHA, Summary

#: A relative error below this is float rounding, not a failure of equivariance.
EXACT = 1e-5


# -- locality --------------------------------------------------------------------------------


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


def locality_table(dense: Comparison | None, cnn: Comparison | None) -> dict[str, Any]:
    """Accuracy with and without the permutation, and McNemar's p for each model."""
    rows = []
    for c in (dense, cnn):
        if c is None:
            continue
        a, b = accuracies(c)
        rows.append([c["label_a"], pct(a, 1), pct(b, 1), pp(b - a), pvalue(c["worst_p"])])
    return {
        "caption": "Test accuracy with original and with permuted pixels (same seed), and McNemar's exact test.",
        "columns": ["Model", "Original pixels", "Permuted pixels", "Change", "McNemar"],
        "rows": rows,
    }


# -- weight sharing --------------------------------------------------------------------------


def weight_sharing_text(
    sharing: Mapping[str, Sequence[Mapping[str, Any]]],
    split: Mapping[str, Mapping[str, Any]],
    labels: Mapping[str, str],
    head_to_head: Comparison | None,
) -> list[str]:
    """Weight sharing in parameters: what conv1 and conv2 would cost unshared, and where the CNN's parameters are.

    Args:
        sharing: ``efficiency`` metrics ``weight_sharing`` (per kernel size, per conv layer).
        split: ``efficiency`` metrics ``param_split`` by model id.
        head_to_head: Dense against the CNN 3x3.
    """
    paras = []
    k = "3" if "3" in sharing else next(iter(sharing), None)
    if k is not None:
        rows = {r["layer"]: r for r in sharing[k]}
        parts = []
        for name, r in rows.items():
            out_h, out_w, c_out = (int(d) for d in r["output"].split("x"))
            parts.append(
                f"{name} applies the same {c_out} kernels of {k}x{k} weights at all {out_h * out_w:,} positions "
                f"of its {r['output']} output: {num(r['shared'])} parameters. With separate weights at each "
                f"position (a locally connected layer with the same windows) it would need "
                f"{num(r['locally_connected'])} ({ratio(r['locally_connected'] / r['shared'])} as many); "
                f"connecting every input to every output, {num(r['fully_connected'])}"
            )
        paras.append("In the CNN " + f"{k}x{k}, " + "; ".join(parts) + ".")
    cnn_id = f"cnn{k}" if k is not None else None
    if cnn_id in split and "dense" in split:
        s, d = split[cnn_id], split["dense"]
        paras.append(
            f"Weight sharing keeps the convolutional part small: the {labels.get(cnn_id, cnn_id)}'s conv layers "
            f"hold {num(s['conv'])} of its {num(s['total'])} parameters ({pct(s['conv_share'], 1)}), "
            f"{pct(s['conv'] / d['total'], 1)} of the {num(d['total'])} parameters of the Dense baseline. "
            f"Most of its parameters, {num(s['dense'])} ({pct(s['dense'] / s['total'], 1)}), are in the dense "
            "layers after the last pooling layer, so the CNN as a whole is not the smaller model."
        )
    if head_to_head is not None:
        paras.append(
            f"With these shared weights, {comparison_sentence(head_to_head)} "
            f"({pct(accuracies(head_to_head)[0], 1)} and {pct(accuracies(head_to_head)[1], 1)})."
        )
    return paras


def weight_sharing_tables(
    sharing: Mapping[str, Sequence[Mapping[str, Any]]],
    split: Mapping[str, Mapping[str, Any]],
    labels: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Shared against unshared parameter counts per conv layer, and the parameter split per model."""
    rows = [
        [
            f"{k}x{k}",
            r["layer"],
            r["output"],
            num(r["shared"]),
            num(r["locally_connected"]),
            num(r["fully_connected"]),
        ]
        for k, layers in sharing.items()
        for r in layers
    ]
    split_rows = [
        [labels.get(m, m), num(s["conv"]), num(s["dense"]), num(s["total"]), pct(s["conv_share"], 1)]
        for m, s in split.items()
        if not m.endswith("-permuted")
    ]
    return [
        {
            "caption": "Parameters of each convolution layer with shared weights, with a separate kernel at "
            "every position (locally connected), and with every input connected to every output.",
            "columns": [
                "Kernel",
                "Layer",
                "Output",
                "Shared (convolution)",
                "Locally connected",
                "Fully connected",
            ],
            "rows": rows,
        },
        {
            "caption": "Where each model's parameters are: convolution layers against dense layers.",
            "columns": ["Model", "Convolution", "Dense layers", "Total", "Convolution share"],
            "rows": split_rows,
        },
    ]


# -- translation -----------------------------------------------------------------------------


def equivariance_text(eq: Mapping[str, Any]) -> str:
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
        ones = {name: change[name][i] for name in layers if change[name][i] is not None}
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


def shift_accuracy_text(metrics: Mapping[str, Any]) -> str:
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
        ahead = [d for d, t in tests.items() if t["p_value"] < ALPHA and t["diff"] > 0]
        behind = [d for d, t in tests.items() if t["p_value"] < ALPHA and t["diff"] < 0]
        diffs = [t["diff"] for t in tests.values()]
        worst = max(t["p_value"] for t in tests.values())
        n = len(tests)
        if len(ahead) == n:
            text += (
                f" At {mags[-1]} pixels the {b} is ahead of {a} in all {n} directions, by "
                f"{span([d * 100 for d in diffs], lambda x: f'{x:.1f}')} pp ({each_p_text(worst)}): it degrades "
                "more gracefully."
            )
        elif len(behind) == n:
            text += (
                f" At {mags[-1]} pixels the {b} is behind {a} in all {n} directions, by "
                f"{span([-d * 100 for d in diffs], lambda x: f'{x:.1f}')} pp ({each_p_text(worst)})."
            )
        else:
            text += (
                f" At {mags[-1]} pixels the {b} is significantly ahead of {a} in {len(ahead)} of {n} directions "
                f"and behind in {len(behind)} (McNemar, alpha {ALPHA}); the difference ranges from "
                f"{span([d * 100 for d in diffs], lambda x: f'{x:+.1f}')} pp."
            )
    return text


def shift_tables(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
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


# -- hierarchy -------------------------------------------------------------------------------


def hierarchy_text(
    receptive_fields: Mapping[str, Sequence[Mapping[str, Any]]], filters: Mapping[str, Any] | None
) -> list[str]:
    """Receptive fields growing layer by layer, and the activation sparsity of each layer."""
    paras = []
    if receptive_fields:
        per_k = []
        for k, layers in receptive_fields.items():
            sizes = ", ".join(f"{r['layer']} {r['receptive_field']}x{r['receptive_field']}" for r in layers)
            per_k.append(f"with {k}x{k} kernels, {sizes}")
        k0, layers0 = next(iter(receptive_fields.items()))
        last = layers0[-1]
        paras.append(
            "Each layer combines the outputs of the one before, so its units see a larger part of the image "
            f"(receptive field, in input pixels): {'; '.join(per_k)}. After the second pooling layer a unit of "
            f"the {k0}x{k0} network covers {last['receptive_field']}x{last['receptive_field']} of the 28x28 "
            "pixels: the first layer can only respond to small local patterns, the later ones to "
            "combinations of them over larger regions."
        )
    if filters is not None:
        k = str(filters["feature_map_kernel"])
        sp = filters["sparsity"][k]
        dead = filters["dead_channels"][k]
        change = (
            "sparser"
            if sp["conv2"] > sp["conv1"]
            else "less sparse"
            if sp["conv2"] < sp["conv1"]
            else "as sparse"
        )
        text = (
            f"In the CNN {k}x{k}, {pct(sp['conv1'], 1)} of conv1's activations and {pct(sp['conv2'], 1)} of "
            f"conv2's are exactly zero after ReLU ({filters['images']}): the deeper layer is {change}."
        )
        silent = [f"{n} of {filters['channels'][layer]} {layer} channels" for layer, n in dead.items() if n]
        if silent:
            text += f" Never active on these images: {join_words(silent)}."
        else:
            text += " Every channel of both layers is active on some of these images."
        text += (
            " The feature maps show what a few channels respond to; the report does not label channels "
            "(edge, texture) because that would be a judgement, not a measurement."
        )
        paras.append(text)
    return paras


def hierarchy_tables(
    receptive_fields: Mapping[str, Sequence[Mapping[str, Any]]], filters: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Receptive field per layer and kernel size; sparsity per layer and kernel size."""
    tables = []
    if receptive_fields:
        sizes = list(receptive_fields)
        layers = [r["layer"] for r in receptive_fields[sizes[0]]]
        rows = [
            [
                name,
                *[
                    f"{receptive_fields[k][i]['receptive_field']}x{receptive_fields[k][i]['receptive_field']}"
                    for k in sizes
                ],
            ]
            for i, name in enumerate(layers)
        ]
        tables.append(
            {
                "caption": "Receptive field (input pixels seen by one unit) after each layer, per kernel size.",
                "columns": ["Layer", *[f"{k}x{k} kernels" for k in sizes]],
                "rows": rows,
            }
        )
    if filters is not None:
        rows = [
            [
                f"{k}x{k}",
                pct(filters["sparsity"][str(k)]["conv1"], 1),
                pct(filters["sparsity"][str(k)]["conv2"], 1),
            ]
            for k in filters["kernel_sizes"]
        ]
        tables.append(
            {
                "caption": f"Share of activations exactly zero after ReLU ({filters['images']}).",
                "columns": ["Kernel", "conv1", "conv2"],
                "rows": rows,
            }
        )
    return tables


# -- when convolution is not appropriate -----------------------------------------------------


def not_appropriate_text(
    after: Comparison | None,
    head_to_head: Comparison | None,
    dense: Mapping[str, Any] | None,
    cnn: Mapping[str, Any] | None,
) -> list[str]:
    """When the convolution's assumptions fail (permuted pixels) and what it costs when they hold.

    Args:
        after: Dense against CNN on permuted pixels; ``head_to_head`` on the original pixels.
        dense, cnn: ``efficiency`` model rows (params, FLOPs, latency summaries).
    """
    paras = []
    flops = f"{ratio(cnn['flops'] / dense['flops'])} the FLOPs" if dense and cnn else "more computation"
    if after is not None:
        v = verdict(after)
        text = (
            "Convolution assumes that nearby inputs belong together and that a pattern means the same "
            "wherever it appears. The permuted-pixel images are inputs without that order, like tabular "
            f"features whose column order is arbitrary: on them, {comparison_sentence(after)}."
        )
        if v == "lower":
            text += f" There the convolution is the wrong tool: it is less accurate and still costs {flops} of Dense."
        elif v == "none":
            text += f" There the convolution brings no measurable benefit while costing {flops} of Dense."
        else:
            text += (
                f" Here the CNN stayed ahead even without spatial order, at {flops} of Dense; this run "
                "does not show convolution failing on unordered inputs."
            )
        paras.append(text)
    if dense and cnn:
        lat_d, lat_c = dense["latency_ms_batched"]["mean"], cnn["latency_ms_batched"]["mean"]
        text = (
            f"Even on images the {cnn['label']} costs more to run: {num(cnn['flops'])} FLOPs per image against "
            f"{num(dense['flops'])} for Dense ({ratio(cnn['flops'] / dense['flops'])}), {lat_c:.3f} against "
            f"{lat_d:.3f} ms per image in batches of 1,000 on this machine ({ratio(lat_c / lat_d)}), and "
            f"{ratio(cnn['params'] / dense['params'])} the parameters."
        )
        if head_to_head is not None:
            v = verdict(head_to_head)
            text += f" In return, {comparison_sentence(head_to_head)}."
            if v != "higher":
                text += (
                    " The extra cost bought no significant accuracy here, so where latency, energy or memory "
                    "is the constraint, the Dense network is the choice these numbers support."
                )
        paras.append(text)
    return paras


def cost_table(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Parameters, FLOPs, batched latency and accuracy for every model."""
    return {
        "caption": "Cost against accuracy for every model (latency: ms per image in batches of 1,000, this "
        "machine; accuracy and latency are means over seeds).",
        "columns": ["Model", "Parameters", "FLOPs per image", "Latency (ms)", "Test accuracy"],
        "rows": [
            [
                r["label"],
                num(r["params"]),
                num(r["flops"]),
                f"{r['latency_ms_batched']['mean']:.3f}",
                pct(r["test_accuracy"]["mean"], 1),
            ]
            for r in rows
        ],
    }


# -- calibration -----------------------------------------------------------------------------


def calibration_text(metrics: Mapping[str, Any], ids: Sequence[str]) -> str:
    """ECE of each model, over- or under-confidence, and whether the order holds on every seed."""
    labels, ece = metrics["labels"], metrics["ece"]
    parts = []
    for m in ids:
        conf = sum(metrics["mean_confidence"][m]) / len(metrics["mean_confidence"][m])
        acc = sum(metrics["accuracy"][m]) / len(metrics["accuracy"][m])
        gap = conf - acc
        lean = (
            "overconfident"
            if gap > 0
            else "underconfident"
            if gap < 0
            else "neither over- nor underconfident"
        )
        spread = ""
        if len(ece[m]["per_seed"]) > 1:
            spread = (
                f", {span(ece[m]['per_seed'], lambda x: f'{x:.3f}')} over {len(ece[m]['per_seed'])} seeds"
            )
        parts.append(
            f"{labels[m]} ECE {ece[m]['summary']['mean']:.3f}{spread} (mean confidence {pct(conf, 1)} against accuracy "
            f"{pct(acc, 1)}: {lean} by {abs(gap) * 100:.1f} pp)"
        )
    text = (
        f"Expected calibration error ({metrics['binning']}; the count-weighted mean gap between accuracy and "
        f"confidence): {'; '.join(parts)}."
    )
    if len(ids) == 2:
        a, b = ids
        pairs = list(zip(ece[a]["per_seed"], ece[b]["per_seed"], strict=False))
        if all(round(x, 3) == round(y, 3) for x, y in pairs):
            text += " The two are equal to three decimals."
        elif len(pairs) == 1:
            lower = labels[b] if pairs[0][1] < pairs[0][0] else labels[a]
            text += (
                f" {lower} has the lower ECE in this single run; with one seed there is no way to tell "
                "whether that order would hold on another."
            )
        elif all(y < x for x, y in pairs):
            text += f" {labels[b]} has the lower ECE on every one of {len(pairs)} seeds."
        elif all(x < y for x, y in pairs):
            text += f" {labels[a]} has the lower ECE on every one of {len(pairs)} seeds."
        else:
            text += (
                " Which model has the lower ECE changes from seed to seed, so neither is better calibrated."
            )
    return text


def calibration_table(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """ECE, mean confidence and accuracy per model (means over seeds)."""
    rows = []
    for m in metrics["models"]:
        n = len(metrics["ece"][m]["per_seed"])
        rows.append(
            [
                metrics["labels"][m],
                f"{metrics['ece'][m]['summary']['mean']:.3f}",
                pct(sum(metrics["mean_confidence"][m]) / n, 1),
                pct(sum(metrics["accuracy"][m]) / n, 1),
                str(n),
            ]
        )
    return {
        "caption": f"Expected calibration error ({metrics['binning']}), mean over seeds.",
        "columns": ["Model", "ECE", "Mean confidence", "Accuracy", "Seeds"],
        "rows": rows,
    }


# -- errors ----------------------------------------------------------------------------------


def errors_text(metrics: Mapping[str, Any]) -> list[str]:
    """The most confused pairs, the confident mistakes and where the saliency falls."""
    mk = metrics["mistakes"]
    probe, labels = mk["model"], metrics["labels"]
    pairs = metrics["confused_pairs"].get(probe, [])
    paras = []
    if pairs:
        seeds = metrics["n_seeds"][probe]
        described = [
            f"{p['a_name']}/{p['b_name']} ({p['a_as_b']} {p['a_name']} called {p['b_name']}, {p['b_as_a']} the other way)"
            for p in pairs[:3]
        ]
        text = (
            f"The {labels[probe]}'s most confused class pairs, summed over {plural(seeds, 'seed')}, "
            f"are {join_words(described)}: {sum(p['total'] for p in pairs[:3])} of its {metrics['errors'][probe]} errors."
        )
        others = [m for m in metrics["confused_pairs"] if m != probe]
        for m in others:
            top = metrics["confused_pairs"][m][:1]
            if top:
                t = top[0]
                same = {t["a"], t["b"]} == {pairs[0]["a"], pairs[0]["b"]}
                text += (
                    f" {labels[m]}'s most confused pair is {'the same' if same else 'different'}: "
                    f"{t['a_name']}/{t['b_name']}, {t['total']} errors."
                )
        paras.append(text)
    gallery = mk["gallery"]
    if gallery:
        g = gallery[0]
        paras.append(
            f"Of the {labels[probe]}'s {mk['n_errors']} errors on {mk['n_test']} test images (seed {mk['seed']}), "
            f"{mk['n_confident_errors']} were made with at least {pct(mk['confident_threshold'], 0)} confidence. "
            f"The most confident: test image {g['index']}, a {g['true_name']} called {g['predicted_name']} with "
            f"probability {g['confidence']:.2f} (its true class got {g['true_probability']:.3f})."
        )
    sal = metrics["saliency"]
    if sal["indices"]:
        share, area = sal["on_object_share"], sal["object_area"]
        more = sum(s > a for s, a in zip(share, area, strict=True))
        text = (
            f"For the {len(share)} most confident mistakes, {span(share, lambda x: pct(x, 0))} of the "
            f"saliency (the absolute gradient of the predicted score) falls on the garment's non-zero pixels, "
            f"which cover {span(area, lambda x: pct(x, 0))} of the image."
        )
        if more == len(share):
            text += " In every case the gradient is concentrated on the garment more than its area alone would give."
        else:
            text += (
                f" Only in {more} of {len(share)} cases is it concentrated on the garment beyond its area."
            )
        paras.append(text)
    return paras


def errors_tables(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The confused pairs (both directions) and the most confident mistakes."""
    mk = metrics["mistakes"]
    probe, labels = mk["model"], metrics["labels"]
    tables = []
    pairs = metrics["confused_pairs"].get(probe, [])
    if pairs:
        tables.append(
            {
                "caption": f"The {labels[probe]}'s most confused class pairs, summed over seeds.",
                "columns": ["Class A", "Class B", "A called B", "B called A", "Total"],
                "rows": [
                    [p["a_name"], p["b_name"], str(p["a_as_b"]), str(p["b_as_a"]), str(p["total"])]
                    for p in pairs
                ],
            }
        )
    if mk["gallery"]:
        tables.append(
            {
                "caption": f"The {labels[probe]}'s most confident mistakes (seed {mk['seed']}).",
                "columns": ["Test image", "True class", "Predicted", "Confidence"],
                "rows": [
                    [str(g["index"]), g["true_name"], g["predicted_name"], f"{g['confidence']:.3f}"]
                    for g in mk["gallery"]
                ],
            }
        )
    return tables


# -- the items -------------------------------------------------------------------------------


#: Section 5's claims by id.
CLAIM = {c.id: c for c in content.CLAIMS}


def _item(
    claim_id: str, paragraphs: list[str], tables: list[dict[str, Any]], available: set[str]
) -> dict[str, Any] | None:
    claim = CLAIM[claim_id]
    figs = [f for f in claim.figures if f in available]
    if not paragraphs and not figs:
        return None
    return {
        "id": claim.id,
        "claim": claim.name,
        "title": claim.title,
        "paragraphs": paragraphs,
        "figures": figs,
        "tables": tables,
    }


def evidence(results: StudyResults, summary: Summary, drawn: Iterable[str]) -> list[dict[str, Any]]:
    """Section 5's items in reading order; an item whose evidence did not run is left out.

    Args:
        drawn: the names of the figures actually drawn; an item shows only those.
    """
    an = summary.analyses
    available = set(drawn)
    cmp = {
        pair: summary.comparison(*pair)
        for pair in (
            ("dense", "dense-permuted"),
            ("cnn3", "cnn3-permuted"),
            ("dense", "cnn3"),
            ("dense-permuted", "cnn3-permuted"),
        )
    }
    head_to_head = cmp[("dense", "cnn3")]
    eff = an.get("efficiency")
    rows = {r["model_id"]: r for r in eff["models"]} if eff else {}
    labels = {m: r["label"] for m, r in rows.items()}
    items: list[dict[str, Any] | None] = []

    seed = (
        results.runs["cnn3-permuted"][0].metrics["spec"]["seed"] if "cnn3-permuted" in results.runs else None
    )
    dense_p, cnn_p = cmp[("dense", "dense-permuted")], cmp[("cnn3", "cnn3-permuted")]
    if dense_p or cnn_p:
        items.append(
            _item(
                "locality",
                locality_text(dense_p, cnn_p, head_to_head, cmp[("dense-permuted", "cnn3-permuted")], seed),
                [locality_table(dense_p, cnn_p)],
                available,
            )
        )
    if eff is not None:
        items.append(
            _item(
                "weight-sharing",
                weight_sharing_text(eff["weight_sharing"], eff["param_split"], labels, head_to_head),
                weight_sharing_tables(eff["weight_sharing"], eff["param_split"], labels),
                available,
            )
        )
    if "shift" in an:
        sm = an["shift"]
        items.append(
            _item(
                "translation",
                [equivariance_text(sm["equivariance"]), shift_accuracy_text(sm)],
                shift_tables(sm),
                available,
            )
        )
    fm = an.get("filters")
    rf = eff["receptive_fields"] if eff else {}
    if fm or rf:
        items.append(
            _item(
                "hierarchy",
                hierarchy_text(rf, fm),
                hierarchy_tables(rf, fm),
                available,
            )
        )
    after = cmp[("dense-permuted", "cnn3-permuted")]
    if after is not None or ("dense" in rows and "cnn3" in rows):
        items.append(
            _item(
                "not-appropriate",
                not_appropriate_text(after, head_to_head, rows.get("dense"), rows.get("cnn3")),
                [cost_table(list(rows.values()))] if rows else [],
                available,
            )
        )
    if "calibration" in an:
        cm = an["calibration"]
        ids = [m for m in ("dense", "cnn3") if m in cm["models"]] or cm["models"][:2]
        items.append(
            _item(
                "calibration",
                [calibration_text(cm, ids)],
                [calibration_table(cm)],
                available,
            )
        )
    if "mistakes" in an:
        mm = an["mistakes"]
        items.append(
            _item(
                "errors",
                errors_text(mm),
                errors_tables(mm),
                available,
            )
        )
    shown: set[str] = set()
    out = []
    for item in items:
        if item is None:
            continue
        item["figures"] = [f for f in item["figures"] if f not in shown]  # each figure once
        shown.update(item["figures"])
        out.append(item)
    return out
