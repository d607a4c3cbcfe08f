"""Holm's correction within each family of comparisons: the verdicts, the words and the appendix."""

from __future__ import annotations

import pytest

from fmnist_report.report import render, wording
from fmnist_report.report.sections import claim_translation
from fmnist_report.study import stats, summary

from .factories import make_context, make_results, mcnemar_result, shift_metrics


def kernel_family(worst: list[float]) -> list[dict]:
    """Three one-seed kernel comparisons (McNemar decides) whose p-values are ``worst``."""
    found = []
    for (a, b), p in zip((("cnn3", "cnn5"), ("cnn3", "cnn7"), ("cnn5", "cnn7")), worst, strict=True):
        labels = (f"CNN {a[-1]}x{a[-1]}", f"CNN {b[-1]}x{b[-1]}")
        one = stats.summarize([0.012])
        found.append(summary.paired_comparison((a, b), labels, [0], one, [mcnemar_result(p, 0.012)]))
    return summary.holm_family("kernels", found)


def test_a_comparison_loses_significance_under_holm_and_the_sentence_says_so():
    # Raw 0.03, 0.0004, 0.2; Holm: 0.0004 x 3 = 0.0012, 0.03 x 2 = 0.06, 0.2 x 1 -> 0.2.
    lost, kept, never = kernel_family([0.03, 0.0004, 0.2])
    assert lost["worst_p"] == 0.03 and lost["p_adjusted"] == pytest.approx(0.06)
    assert lost["significant_uncorrected"] and not lost["significant"]
    assert kept["significant"] and not never["significant_uncorrected"] and not never["significant"]
    assert wording.comparison_sentence(lost) == (
        "CNN 5x5 is higher than CNN 3x3 by 1.2 pp (1 seed, no interval) before correction, but not after "
        "Holm's correction within its family: McNemar p = 0.030, Holm-adjusted p = 0.060 over 3 "
        "comparisons; the claim is withheld at alpha 0.05"
    )
    assert wording.verdict(lost) == "none" and wording.lost_significance(lost)
    assert wording.comparison_sentence(kept) == (
        "CNN 7x7 is higher than CNN 3x3 by 1.2 pp (1 seed, no interval); McNemar p < 0.001, "
        "Holm-adjusted p = 0.0012 over 3 comparisons"
    )
    assert wording.comparison_sentence(never).endswith(
        "McNemar p = 0.20, Holm-adjusted p = 0.20 over 3 comparisons"
    )
    assert "after Holm's correction" not in wording.comparison_sentence(never)


def test_a_family_of_one_is_worded_as_before():
    (alone,) = summary.holm_family("architecture", kernel_family([0.03, 0.5, 0.5])[:1])
    assert alone["p_adjusted"] == alone["worst_p"] == 0.03 and alone["significant"]
    assert "Holm" not in wording.comparison_sentence(alone)


def test_summarize_corrects_each_family_and_keeps_the_raw_p_values(tmp_path):
    s = summary.summarize(make_results(tmp_path))
    families = {c["family"] for c in s.comparisons.values()}
    assert families == {"architecture", "kernels", "locality"}  # no variant declared: no variants family
    assert s.families() == {"architecture": 1, "kernels": 3, "locality": 3}
    for c in s.comparisons.values():
        members = [m for m in s.comparisons.values() if m["family"] == c["family"]]
        assert c["family_size"] == len(members)
        assert c["p_adjusted"] == pytest.approx(stats.holm([m["p_value"] for m in members])[members.index(c)])
        assert c["p_adjusted"] >= c["p_value"]
        assert c["significant"] == (c["significant_uncorrected"] and c["p_adjusted"] < summary.ALPHA)


def test_a_shift_direction_significant_only_before_holm_is_not_counted():
    # Raw 0.02, 0.04, 0.03, 0.01: each below 0.05; Holm makes them 0.06, 0.06, 0.06, 0.04.
    metrics = shift_metrics([0.1, 0.2, 0.15, 0.12], [0.02, 0.04, 0.03, 0.01])
    text = claim_translation.shift_accuracy_text(metrics)
    assert "significantly ahead of Dense in 1 of 4 directions and behind in 0" in text
    assert "(McNemar, alpha 0.05, Holm-adjusted over the 4 directions)" in text
    assert "in all 4 directions" not in text


def test_the_appendix_and_the_summary_state_the_correction(tmp_path):
    _, _, ctx = make_context(tmp_path)
    html = render.render_html(ctx)
    stated = ctx["statistics"]
    assert [f["size"] for f in stated["families"]] == [1, 3, 3]
    assert "Holm's step-down correction within its family" in stated["text"]
    assert "every pair of kernel sizes (3 comparisons)" in stated["text"]
    assert '<h3 id="statistics">Statistical methods</h3>' in html
    assert stated["text"] in html.replace("&#39;", "'")
    assert "corrected with Holm's method" in ctx["summary"]["scope_text"]
    assert "Holm-adjusted p" in html  # the kernel table's column


def test_multiplicity_text_with_no_comparison():
    assert wording.multiplicity_text({}, 0.05) == "The report tests no pairwise comparison."
