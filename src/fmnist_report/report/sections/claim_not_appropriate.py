"""Section 5, when convolution is not appropriate: unordered inputs, and what the CNN costs where it fits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fmnist_report.report.formatting import num, pct, ratio
from fmnist_report.report.wording import Comparison, comparison_sentence, verdict


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
    flops = (
        f"{ratio(cnn['flops'] / dense['flops'])} the FLOPs of" if dense and cnn else "more computation than"
    )
    if after is not None:
        v = verdict(after)
        text = (
            "Convolution assumes that nearby inputs belong together and that a pattern means the same "
            "wherever it appears. The permuted-pixel images are inputs without that order, like tabular "
            f"features whose column order is arbitrary: on them, {comparison_sentence(after)}."
        )
        if v == "lower":
            text += f" There the convolution is the wrong tool: it is less accurate and still costs {flops} Dense."
        elif v == "none":
            text += f" There the convolution brings no measurable benefit while costing {flops} Dense."
        else:
            text += (
                f" Here the CNN stayed ahead even without spatial order, at {flops} Dense; this run "
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
            if v == "lower":
                text += (
                    " The extra cost bought lower accuracy here, so the Dense network is the choice these "
                    "numbers support, and more so where latency, energy or memory is the constraint."
                )
            elif v == "none":
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
