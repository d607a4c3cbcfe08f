"""The generic comparison section and everything downstream of a declared variant."""

from __future__ import annotations

import csv
import io
import json

import pytest

from fmnist_report.config import Config, StudyConfig, load_config
from fmnist_report.report import diff, metrics, protocol, render
from fmnist_report.report.figures import family as family_figures
from fmnist_report.report.sections import family
from fmnist_report.report.sections.values import model_rows
from fmnist_report.study.summary import summarize
from fmnist_report.variants import Variant

from .factories import VARIANTS, make_context, make_results


def test_the_variants_family_is_corrected_as_one_and_laid_out_from_the_summary(tmp_path):
    results = make_results(tmp_path, seeds=3, variants=VARIANTS)
    s = summarize(results)
    members = [c for c in s.comparisons.values() if c["family"] == "variants"]
    assert [(c["a"], c["b"]) for c in members] == [("cnn3", "cnn3[dropout]"), ("dense", "dense[wide]")]
    assert all(c["family_size"] == 2 and c["test"] == "t" for c in members)
    section = family.build(s, model_rows(s), "variants", list(results.data.class_names), [])
    assert [m["model_id"] for m in section["models"]] == ["cnn3", "cnn3[dropout]", "dense", "dense[wide]"]
    assert (
        section["models"][1]["changes"] == "dropout 0.3"
        and section["models"][0]["changes"] == "the study's own model"
    )
    row = section["comparisons"][0]
    assert row["p_adjusted"] == members[0]["p_adjusted"] and row["test"] == "paired t"
    assert row["diff"]["mean"] == pytest.approx(
        s.row("cnn3[dropout]")["test_accuracy"]["mean"] - s.row("cnn3")["test_accuracy"]["mean"]
    )
    assert len(section["per_class"]) == 10 and len(section["per_class"][0]["cells"]) == 2
    assert row["cost_text"].startswith("Against CNN 3x3, CNN 3x3 [dropout] has 1.0× the parameters")
    # Not significant: its power sentence is there, and metrics carry the detectable difference.
    for c in section["comparisons"]:
        assert bool(c["power_text"]) == (not c["significant"])


def test_no_variant_declared_means_no_section_and_the_old_numbering(tmp_path):
    _, _, ctx = make_context(tmp_path)
    assert ctx["variants"] is None
    assert [t["number"] for t in ctx["toc"]][:6] == ["1", "2", "3", "4", "5", "6"]
    assert ctx["sections"]["interpretation"]["number"] == "5"


def test_the_variants_section_is_numbered_after_the_kernel_study_and_rendered(tmp_path):
    _, s, ctx = make_context(tmp_path, seeds=3, variants=VARIANTS)
    assert ctx["sections"]["variants"] == {"number": "5", "title": "Your variants"}
    assert ctx["sections"]["interpretation"]["number"] == "6"
    html = render.render_html(ctx)
    assert '<section class="chapter" id="variants">' in html and "CNN 3x3 [dropout] vs CNN 3x3" in html
    # metrics.csv names the variant's numbers by their place in metrics.json, the id a key as it is.
    rows = dict(csv.reader(io.StringIO(metrics.metrics_csv(s))))
    key = "/comparisons/cnn3__vs__cnn3[dropout]"
    assert float(rows[f"{key}/p_adjusted"]) == s.comparisons["cnn3__vs__cnn3[dropout]"]["p_adjusted"]
    assert rows[f"{key}/family_size"] == "2" and rows[f"{key}/diff/n"] == "3"
    assert float(rows["/models/cnn3[dropout]/test_accuracy/mean"]) == pytest.approx(0.9333, abs=1e-4)


def test_the_family_figures_come_from_the_summary(tmp_path):
    results = make_results(tmp_path, seeds=3, variants=VARIANTS)
    s = summarize(results)
    specs = family_figures.family_figures(s)
    assert [f.name for f in specs] == ["variants_curves", "variants_cost"]
    assert all(f.section == "variants" for f in specs)
    assert "bands from the lowest to the highest seed" in specs[0].caption
    assert family_figures.family_figures(summarize(make_results(tmp_path))) == []


def test_the_attached_configuration_repeats_the_variants(tmp_path):
    cfg = Config(study=StudyConfig(variants=(*VARIANTS, Variant("f", "cnn", (("filters", (16, 32)),)))))
    path = tmp_path / "configuration.toml"
    path.write_text(protocol.config_toml(cfg), encoding="utf-8")
    assert load_config(path).study.variants == cfg.study.variants


def _build(tmp_path, name: str, variants) -> dict:
    document = summarize(make_results(tmp_path / name, seeds=3, variants=variants)).to_json()
    (tmp_path / f"{name}.json").write_text(document, encoding="utf-8")
    return json.loads(document)


def test_diff_shows_variant_rows_and_only_them_with_only_variants(tmp_path):
    _build(tmp_path, "a", VARIANTS)
    _build(tmp_path, "b", VARIANTS)
    old, new = diff.load(tmp_path / "a.json"), diff.load(tmp_path / "b.json")
    names = [r["name"] for r in diff.compare(old, new)["rows"]]
    assert "test accuracy, cnn3[dropout]" in names and "test accuracy, dense" in names
    assert "accuracy difference, cnn3[dropout] - cnn3" in names
    only = [r["name"] for r in diff.compare(old, new, only="variants")["rows"]]
    assert only and all("[" in n for n in only)
    with pytest.raises(diff.DiffError, match="--only must be one of study, variants"):
        diff.compare(old, new, only="kernels")


def test_diff_refuses_builds_of_different_studies_and_names_the_variant(tmp_path):
    _build(tmp_path, "a", VARIANTS)
    _build(tmp_path, "b", (Variant("dropout", "cnn", (("dropout", 0.5),)),))
    with pytest.raises(diff.DiffError) as raised:
        diff.compare(diff.load(tmp_path / "a.json"), diff.load(tmp_path / "b.json"))
    text = str(raised.value)
    assert (
        "variant wide only in the old build" in text
        and "variant dropout differs (dropout 0.3 vs 0.5)" in text
    )


def test_diff_only_study_compares_builds_that_differ_only_in_their_variants(tmp_path):
    from typer.testing import CliRunner

    from fmnist_report.cli import app

    _build(tmp_path, "a", VARIANTS)
    _build(tmp_path, "b", (Variant("dropout", "cnn", (("dropout", 0.5),)),))
    old, new = diff.load(tmp_path / "a.json"), diff.load(tmp_path / "b.json")
    found = diff.compare(old, new, only="study")
    names = [r["name"] for r in found["rows"]]
    assert "test accuracy, dense" in names and "test accuracy, cnn3" in names
    assert not any("[" in n for n in names)
    # The total training time counts the variants' runs: not a number of the study alone.
    assert "training time, all runs" not in names
    assert found["protocol"]["same"]
    with pytest.raises(diff.DiffError, match="variant dropout differs"):
        diff.compare(old, new, only="variants")
    run = CliRunner().invoke(
        app, ["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--only", "study"]
    )
    assert run.exit_code == 0, run.output
    assert "| test accuracy, dense |" in run.stdout and "Protocols differ" not in run.stdout


def test_the_fake_variant_records_carry_their_own_overrides_and_cost(tmp_path):
    s = summarize(make_results(tmp_path, seeds=2, variants=VARIANTS))
    wide, dropout = s.row("dense[wide]"), s.row("cnn3[dropout]")
    assert wide["overrides"] == {"dense_units": [512]} and dropout["overrides"] == {"dropout": 0.3}
    # 784 * 512 + 512 weights and biases into the hidden layer, 512 * 10 + 10 into the softmax.
    assert wide["params"] == 407_050 != s.row("dense")["params"]
    assert dropout["params"] == s.row("cnn3")["params"]  # dropout adds no weight
    assert s.row("dense[wide]")["flops"] == 2 * (784 * 512 + 512 * 10) + 512 + 10
