"""Section 5, weight sharing: what the conv layers would cost unshared, and where the CNN's parameters are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fmnist_report.ids import ModelId
from fmnist_report.report.formatting import num, pct, ratio
from fmnist_report.report.sections.roles import Found, efficiency_rows, pairs
from fmnist_report.report.sections.types import ClaimTable
from fmnist_report.report.wording import Comparison, accuracies, comparison_sentence
from fmnist_report.study.summary_types import EFFICIENCY, ParamSplit, SharingCost, Summary


def applies(summary: Summary) -> bool:
    """The evidence ran: the efficiency experiment counted the parameters."""
    return summary.analyses.get(EFFICIENCY) is not None


def build(summary: Summary) -> Found:
    """The weight-sharing claim's paragraphs and tables, for the CNN the analyses inspect."""
    eff = summary.analyses[EFFICIENCY]
    sharing, split = eff["weight_sharing"], eff["param_split"]
    labels = {m: r["label"] for m, r in efficiency_rows(summary).items()}
    roles = summary.roles
    probe = roles.probe
    k = ModelId.parse(probe).kernel_size if probe else None
    return (
        weight_sharing_text(
            kernel_size=k,
            layers=sharing.get(str(k)),
            cnn=split.get(probe) if probe else None,
            dense=split.get(roles.dense) if roles.dense else None,
            cnn_label=labels.get(probe, probe) if probe else "",
            head_to_head=pairs(summary).head_to_head,
        ),
        weight_sharing_tables(sharing=sharing, split=split, labels=labels),
    )


def weight_sharing_text(
    kernel_size: int | None,
    layers: Sequence[SharingCost] | None,
    cnn: ParamSplit | None,
    dense: ParamSplit | None,
    cnn_label: str,
    head_to_head: Comparison | None,
) -> list[str]:
    """Weight sharing in parameters: what conv1 and conv2 would cost unshared, and where the CNN's parameters are.

    Args:
        kernel_size: the CNN's kernel size; ``layers`` its ``efficiency`` ``weight_sharing`` rows
            (one per conv layer), None when they were not measured.
        cnn: the CNN's ``efficiency`` ``param_split``; ``dense`` the baseline's; None when absent.
        head_to_head: the baseline against the CNN.
    """
    paras = []
    if layers is not None:
        k = kernel_size
        rows = {r["layer"]: r for r in layers}
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
    if cnn is not None and dense is not None:
        paras.append(
            f"Weight sharing keeps the convolutional part small: the {cnn_label}'s conv layers "
            f"hold {num(cnn['conv'])} of its {num(cnn['total'])} parameters ({pct(cnn['conv_share'], 1)}), "
            f"{pct(cnn['conv'] / dense['total'], 1)} of the {num(dense['total'])} parameters of the Dense baseline. "
            f"Most of its parameters, {num(cnn['dense'])} ({pct(cnn['dense'] / cnn['total'], 1)}), are in the dense "
            "layers after the last pooling layer, so the CNN as a whole is not the smaller model."
        )
    if head_to_head is not None:
        acc_a, acc_b = accuracies(head_to_head)
        paras.append(
            f"With these shared weights, {comparison_sentence(head_to_head)} ({pct(acc_a, 1)} and {pct(acc_b, 1)})."
        )
    return paras


def weight_sharing_tables(
    sharing: Mapping[str, Sequence[SharingCost]],
    split: Mapping[str, ParamSplit],
    labels: Mapping[str, str],
) -> list[ClaimTable]:
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
        if not ModelId.parse(m).permuted
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
