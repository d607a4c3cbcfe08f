"""Section 5, hierarchical features: receptive fields growing layer by layer, and activation sparsity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fmnist_report.report.formatting import join_words, pct
from fmnist_report.report.sections.roles import Found
from fmnist_report.report.sections.types import ClaimTable
from fmnist_report.study.summary_types import EFFICIENCY, FILTERS, FiltersAnalysis, ReceptiveField, Summary

#: The receptive field after each layer, per kernel size (``"3"``...).
ReceptiveFields = Mapping[str, Sequence[ReceptiveField]]


def _inputs(summary: Summary) -> tuple[ReceptiveFields, FiltersAnalysis | None]:
    """The receptive fields the efficiency experiment computed (none where it did not run) and the
    filters experiment's measurements (None where it did not run)."""
    eff = summary.analyses.get(EFFICIENCY)
    return (eff["receptive_fields"] if eff else {}), summary.analyses.get(FILTERS)


def applies(summary: Summary) -> bool:
    """The evidence ran: receptive fields were computed or the activations were measured."""
    receptive_fields, filters = _inputs(summary)
    return bool(filters or receptive_fields)


def build(summary: Summary) -> Found:
    """The hierarchy claim's paragraphs and tables."""
    receptive_fields, filters = _inputs(summary)
    return (
        hierarchy_text(receptive_fields=receptive_fields, filters=filters),
        hierarchy_tables(receptive_fields=receptive_fields, filters=filters),
    )


def hierarchy_text(receptive_fields: ReceptiveFields, filters: FiltersAnalysis | None) -> list[str]:
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


def hierarchy_tables(receptive_fields: ReceptiveFields, filters: FiltersAnalysis | None) -> list[ClaimTable]:
    """Receptive field per layer and kernel size; sparsity per layer and kernel size."""
    tables: list[ClaimTable] = []
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
