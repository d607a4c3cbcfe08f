"""A model that learned next to nothing is flagged once, in the Summary, and named as such everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console

from fmnist_report.report import context, render, wording
from fmnist_report.report.sections import family
from fmnist_report.report.sections.values import model_rows
from fmnist_report.study.summary import NEAR_CHANCE_MARGIN, is_near_chance, summarize
from fmnist_report.ui import summary_table

from . import factories

FAILED = "cnn3[dropout]"
#: Class 6 of Fashion-MNIST: the class the failed model answers for most images.
SHIRT = 6
SGD_BN = [["augment", 4], ["optimizer", "sgd"], ["batch_norm", True]]


def shirt_for_most(y_true: np.ndarray, seed: int) -> np.ndarray:
    """Right on about a tenth of the images at random, Shirt for the rest: about 19% in all,
    and a gain on Shirt over any model that learned."""
    right = np.random.default_rng(seed).random(len(y_true)) < 0.1
    return np.where(right, y_true, SHIRT)


@pytest.fixture
def study(tmp_path, monkeypatch):
    """(results, summary, context) of a study whose CNN variant stayed near chance (about 0.19,
    augment 4 + sgd + batch norm) and whose Dense variant reached about 0.80."""
    monkeypatch.setitem(factories.VARIANT_SKILL, "dense[wide]", 0.80)
    results = factories.make_results(tmp_path, seeds=3, variants=factories.VARIANTS)
    y = results.data.y_test
    results.runs[FAILED] = [factories.train_record(FAILED, s, y, shirt_for_most(y, s)) for s in range(3)]
    for record in results.runs[FAILED]:
        record.metrics["spec"]["overrides"] = SGD_BN
    summary = factories.built(summarize(results), results)
    ctx = context.build_context(
        summary,
        config=results.config,
        figures=factories.FIGURES,
        pngs={f.name: factories.png(i) for i, f in enumerate(factories.FIGURES)},
        evidence=factories.EVIDENCE,
    )
    return results, summary, ctx


def test_the_threshold_is_fifteen_points_above_chance():
    assert NEAR_CHANCE_MARGIN == 0.15
    assert is_near_chance(0.191, 10) and is_near_chance(0.2499, 10)
    assert not is_near_chance(0.25, 10) and not is_near_chance(0.80, 10)
    assert is_near_chance(0.45, 3) and not is_near_chance(0.49, 3)  # chance is a third


def test_the_summary_flags_the_near_chance_row_and_no_other(study):
    _, summary, _ = study
    failed = summary.row(FAILED)
    assert failed["test_accuracy"]["mean"] == pytest.approx(0.19, abs=0.05) and failed["near_chance"] is True
    assert summary.row("dense[wide]")["test_accuracy"]["mean"] == pytest.approx(0.80, abs=0.08)
    assert [m for m, row in summary.models.items() if row["near_chance"]] == [FAILED]
    assert summary.to_dict()["models"]["dense"]["near_chance"] is False  # metrics.json carries the flag


def test_the_run_summary_prints_one_line_per_near_chance_model(study):
    _, summary, _ = study
    console = Console(record=True, width=400)
    console.print(summary_table(summary, "quick"))
    printed = console.export_text()
    reached = f"{summary.row(FAILED)['test_accuracy']['mean'] * 100:.1f}%"
    assert (
        f"CNN 3x3 [dropout] reached {reached} on 10 classes, near chance (10%): it likely had too few "
        "steps for its optimizer or batch norm; try more epochs or --profile full"
    ) in printed
    assert printed.count("near chance") == 1


def test_the_cause_and_the_hint_follow_the_model_and_the_profile():
    row = {
        "label": "CNN 3x3",
        "near_chance": True,
        "test_accuracy": {"mean": 0.12},
        "per_class_accuracy": [0] * 10,
    }
    assert wording.near_chance_line(row, "full") == (
        "CNN 3x3 reached 12.0% on 10 classes, near chance (10%): it did not learn in the steps it had; "
        "try more epochs"
    )
    assert wording.near_chance_line({**row, "near_chance": False}, "quick") == ""


def test_the_report_notes_it_beside_its_row_and_prints_no_per_class_finding_for_it(study):
    results, summary, ctx = study
    section = family.build(summary, model_rows(summary), "variants", list(results.data.class_names), [])
    failed = next(c for c in section["comparisons"] if c["b"] == FAILED)
    assert failed["per_class"]["diffs"][SHIRT] > 0  # a "gain" on Shirt that is no finding
    html = render.render_html(ctx)
    reached = f"{summary.row(FAILED)['test_accuracy']['mean'] * 100:.1f}%"
    assert (
        "augment 4, optimizer sgd, batch_norm true. <strong>Near chance (10%): it likely had too few steps "
        "for its optimizer or batch norm.</strong>"
    ) in html
    assert (
        f"CNN 3x3 [dropout] reached {reached} on 10 classes, near chance (10%), so its per-class changes "
        "against CNN 3x3 are not meaningful: it likely had too few steps for its optimizer or batch norm."
    ) in html
    assert "Per class, CNN 3x3 [dropout]" not in html
    # The variant at 0.80 learned: no note, and its per-class sentence stands.
    assert html.count("Near chance (") == 1
    assert "Per class, Dense [wide] gains most on" in html


def test_a_builtin_model_near_chance_gets_a_note_under_the_kernel_table(tmp_path, monkeypatch):
    monkeypatch.setitem(factories.SKILL, "cnn7", 0.15)
    _, summary, ctx = factories.make_context(tmp_path)
    assert [m for m, row in summary.models.items() if row["near_chance"]] == ["cnn7"]
    reached = f"{summary.row('cnn7')['test_accuracy']['mean'] * 100:.1f}%"
    note = (
        f"CNN 7x7 reached {reached} on 10 classes, near chance (10%): it did not learn in the steps it had."
    )
    assert ctx["kernels"]["chance_notes"] == [note]
    assert f'<p class="verdict">{note}</p>' in render.render_html(ctx)
