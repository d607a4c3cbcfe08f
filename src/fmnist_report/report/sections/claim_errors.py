"""Section 5, errors: the most confused classes, the confident mistakes and where the saliency falls."""

from __future__ import annotations

from fmnist_report.report.formatting import join_words, pct, plural, span
from fmnist_report.report.sections.roles import Found
from fmnist_report.report.sections.types import ClaimTable
from fmnist_report.study.summary_types import MISTAKES, MistakesAnalysis, Summary


def applies(summary: Summary) -> bool:
    """The evidence ran: the mistakes experiment collected the errors and their saliency."""
    return MISTAKES in summary.analyses


def build(summary: Summary) -> Found:
    """The errors claim's paragraphs and tables."""
    measured = summary.analyses[MISTAKES]
    return errors_text(metrics=measured), errors_tables(metrics=measured)


def errors_text(metrics: MistakesAnalysis) -> list[str]:
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


def errors_tables(metrics: MistakesAnalysis) -> list[ClaimTable]:
    """The confused pairs (both directions) and the most confident mistakes."""
    mk = metrics["mistakes"]
    probe, labels = mk["model"], metrics["labels"]
    tables: list[ClaimTable] = []
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
