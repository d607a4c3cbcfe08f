"""The report context, built from a hand-made StudyResults (no training)."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_report import models
from fmnist_report.report import wording
from fmnist_report.report.sections import kernels
from fmnist_report.study.summary import summarize

from .factories import EVIDENCE, FIGURES, make_context


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return make_context(tmp_path_factory.mktemp("ctx") / "out")


def placed_figures(ctx: dict) -> list[str]:
    names = [f["name"] for key in ("data", "dense", "cnn", "kernels") for f in ctx[key]["figures"]]
    names += [f["name"] for item in ctx["interpretation"]["evidence"] for f in item["figures"]]
    names += [f["name"] for f in ctx["interpretation"]["extra_figures"]]
    return names


def test_every_figure_is_placed_exactly_once_as_a_data_uri(built):
    _, _, ctx = built
    names = placed_figures(ctx)
    assert sorted(names) == sorted(f.name for f in FIGURES)
    assert ctx["figure_count"] == len(FIGURES)
    assert [f["name"] for f in ctx["interpretation"]["extra_figures"]] == ["feature_maps", "stray"]
    assert ctx["data"]["figures"][0]["src"].startswith("data:image/png;base64,iVBOR")


def test_evidence_showing_an_unknown_figure_fails(tmp_path):
    bad = [{**EVIDENCE[0], "figures": ["no_such_figure"]}]
    with pytest.raises(ValueError, match="shows figure 'no_such_figure', which no figure function made"):
        make_context(tmp_path, evidence=bad)


def test_summary_numbers_are_the_summary_rows(built):
    _, summary, ctx = built
    rows = summary.models
    s = ctx["summary"]
    assert s["cnn"]["accuracy"]["mean"] == rows["cnn3"]["test_accuracy"]["mean"]
    assert s["dense"]["accuracy"]["ci_low"] == rows["dense"]["test_accuracy"]["ci_low"]
    comp = summary.comparisons["dense__vs__cnn3"]
    assert s["comparison"] == wording.significance_text(comp)
    assert s["significant"] is comp["significant"]
    assert s["worst_p"] == comp["worst_p"] and s["n_seeds"] == 2 and s["epochs"] == 2
    half = s["cnn"]["accuracy"]["ci_half"]
    assert half > 0 and half == pytest.approx(
        (rows["cnn3"]["test_accuracy"]["ci_high"] - rows["cnn3"]["test_accuracy"]["ci_low"]) / 2
    )


def test_dense_weak_spots_come_from_the_summed_confusion_matrices(built):
    results, summary, ctx = built
    total = sum(r.arrays["confusion"] for r in results.runs["dense"])
    off = total + total.T
    np.fill_diagonal(off, 0)
    assert ctx["dense"]["confused"][0]["count"] == off.max()
    per_class = summary.row("dense")["per_class_accuracy"]
    assert ctx["dense"]["weakest"][0]["accuracy"] == min(per_class)
    assert ctx["dense"]["layers"][-1] == {
        "name": "probabilities",
        "type": "Dense",
        "output_shape": "10",
        "params": 1290,
    }


def test_cnn_section_compares_like_with_like(built):
    _, _, ctx = built
    cnn = ctx["cnn"]
    compared = {row["key"]: row for row in cnn["compared"]}
    assert (
        compared["params"]["dense"] == 235146
        and compared["params"]["cnn"] == models.build_cnn(3).count_params()
    )
    assert {"test_accuracy", "test_loss", "flops", "train_seconds"} <= compared.keys()
    assert len(cnn["per_class"]) == 10
    assert all(row["diff"] == pytest.approx(row["cnn"] - row["dense"]) for row in cnn["per_class"])
    assert [t["seed"] for t in cnn["mcnemar"]] == [0, 1]


def test_kernel_rows_follow_the_configured_order(built):
    _, _, ctx = built
    k = ctx["kernels"]
    assert [r["kernel_size"] for r in k["rows"]] == [3, 5, 7]
    assert k["rows"][2]["receptive_field"] == models.receptive_fields(7)[-1]["receptive_field"]
    assert [c["key"] for c in k["comparisons"]] == ["cnn3__vs__cnn5", "cnn3__vs__cnn7", "cnn5__vs__cnn7"]
    assert k["conclusion"] == kernels.kernel_conclusion(
        k["rows"], built[1].comparison, reference=3, section="3"
    )
    best = max(k["rows"], key=lambda r: r["test_accuracy"]["mean"])
    assert k["best"]["label"] == best["label"]


def test_appendix_names_the_precision_the_runs_used(built):
    _, _, ctx = built
    text = ctx["reproducibility"]["precision"]
    assert text.startswith("mixed_bfloat16 (Keras mixed precision")
    assert "auto" in text  # the default config asked for auto; the text says how it was resolved
    from fmnist_report import runtime

    assert ctx["reproducibility"]["levers"] == list(runtime.LEVERS["bfloat16"])


def test_split_wording_follows_the_config(tmp_path):
    _, _, ctx = make_context(tmp_path, seeds=1, split="last")
    assert ctx["data"]["split"] == "the last 15%"
    assert "the last 15%" in ctx["data"]["preprocessing_text"]
    assert ctx["summary"]["cnn"]["accuracy"]["ci_half"] == 0.0  # one seed: no interval


def test_deployment_lists_the_exported_files_and_predictions(built):
    _, _, ctx = built
    d = ctx["deployment"]
    assert [f["path"] for f in d["files"]] == ["fashion_mnist_cnn.keras", "model.tar.gz"]
    assert d["files"][0]["sha256"] == "cd" * 8 and d["total_bytes"] == 7_000_000
    assert len(d["predictions"]) == 10 and d["n_correct"] == 6
    assert d["model_dir"].endswith("out/model") and "fmnist-report serve" in d["commands"][1]["command"]


def test_references_cite_the_published_benchmark(built):
    _, _, ctx = built
    published = {p["name"]: p["accuracy"] for p in ctx["references"]["published"]}
    assert published == {
        "SVC (best scikit-learn model)": 0.897,
        "MLPClassifier": 0.870,
        "Human performance": 0.835,
    }
    sources = {c["url"] for c in ctx["references"]["citations"] if "arXiv:1708.07747" in c["text"]}
    assert sources == {"https://arxiv.org/abs/1708.07747"}
    assert "https://github.com/zalandoresearch/fashion-mnist" in [
        c["url"] for c in ctx["references"]["citations"]
    ]
    assert [o["name"] for o in ctx["references"]["ours"]] == ["Dense", "CNN 3x3"]


def test_appendix_names_a_onednn_cap_only_where_the_build_ran_under_one():
    from fmnist_report.report.sections import reproducibility

    assert reproducibility.isa_text(None) == ""
    text = reproducibility.isa_text("AVX2")
    assert text.startswith("capped at AVX2 (ONEDNN_MAX_CPU_ISA)") and "key" in text


def test_appendix_names_the_machines_that_trained_the_stored_runs():
    """The machine table describes the renderer; the runs may come from elsewhere, and say so."""
    from fmnist_report.report.sections.reproducibility import THREADS_NOTE, machine_text, trained_on_text

    from .factories import TEST_MACHINE, fake_results, predictions_with_skill

    results = fake_results(["dense", "cnn3"], lambda mid, seed, y: predictions_with_skill(0.8, mid, seed, y))
    here = {"machine": dict(TEST_MACHINE)}
    this = "Generated CPU, 4 logical CPUs, TensorFlow's default threads (this machine)"
    machines = summarize(results).provenance.machines
    assert trained_on_text(machines, here) == f"{this}: 4 runs"
    bigger = trained_on_text(machines, {"machine": {**TEST_MACHINE, "logical_cpus": 16}})
    assert bigger == f"Generated CPU, 4 logical CPUs, TensorFlow's default threads: 4 runs. {THREADS_NOTE}"

    results.runs["cnn3"][0].metrics["machine"] = {**TEST_MACHINE, "cpu": "Laptop", "intra_op_threads": 8}
    del results.runs["dense"][0].metrics["machine"]
    assert trained_on_text(summarize(results).provenance.machines, here) == (
        f"not recorded for 1 run, stored by an earlier version; {this}: 2 runs; "
        f"Laptop, 4 logical CPUs, 8 intra-op threads: 1 run. {THREADS_NOTE}"
    )
    jax_host = {"cpu": "GPU host", "logical_cpus": 16, "intra_op_threads": None}  # no TensorFlow threads
    assert machine_text(jax_host) == "GPU host, 16 logical CPUs"
