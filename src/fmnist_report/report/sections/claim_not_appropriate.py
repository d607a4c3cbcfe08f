"""Section 5, when convolution is not appropriate: unordered inputs, and what the CNN costs where it fits."""

from __future__ import annotations

from collections.abc import Sequence

from fmnist_report.report.formatting import num, pct, ratio
from fmnist_report.report.sections.roles import Found, efficiency_rows, pairs
from fmnist_report.report.sections.types import ClaimTable
from fmnist_report.report.wording import Comparison, comparison_sentence, verdict
from fmnist_report.study.summary_types import EfficiencyRow, Summary


def _costs(summary: Summary) -> tuple[EfficiencyRow | None, EfficiencyRow | None]:
    """The efficiency rows of the baseline and of the CNN, None where either was not measured."""
    rows, roles = efficiency_rows(summary), summary.roles
    return (rows.get(roles.dense) if roles.dense else None), (
        rows.get(roles.headline) if roles.headline else None
    )


def applies(summary: Summary) -> bool:
    """The evidence ran: the twins were compared on permuted pixels, or both networks' costs measured."""
    dense, cnn = _costs(summary)
    return pairs(summary).after is not None or bool(dense and cnn)


def build(summary: Summary) -> Found:
    """The claim's paragraphs and the cost table of every model the efficiency experiment measured."""
    found, (dense, cnn), rows = pairs(summary), _costs(summary), efficiency_rows(summary)
    return (
        not_appropriate_text(after=found.after, head_to_head=found.head_to_head, dense=dense, cnn=cnn),
        [cost_table(rows=list(rows.values()))] if rows else [],
    )


def not_appropriate_text(
    after: Comparison | None,
    head_to_head: Comparison | None,
    dense: EfficiencyRow | None,
    cnn: EfficiencyRow | None,
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


def cost_table(rows: Sequence[EfficiencyRow]) -> ClaimTable:
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
