"""The report names folders relative to the output folder's parent, or with ``~``: never this machine's home."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from fmnist_report.paths import printable_path, printable_source
from fmnist_report.report import metrics, protocol, render

from . import factories


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fake home folder under the test's tmp folder, with HOME pointing at it."""
    folder = tmp_path / "home" / "ada"
    folder.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: folder))
    return folder


def test_a_path_under_the_output_folders_parent_is_relative_to_it(home):
    out = home / "project" / "output"
    assert printable_path(out / "model", out) == "output/model"
    assert printable_path(home / "project" / "data", out) == "data"
    assert printable_path(out.parent, out) == "."


def test_a_path_elsewhere_under_home_starts_with_a_tilde(home):
    out = home / "project" / "output"
    assert printable_path(home / ".cache" / "fmnist-report" / "fashion-mnist", out) == (
        "~/.cache/fmnist-report/fashion-mnist"
    )
    assert printable_path(home, out) == "~"


def test_a_system_folder_names_no_one_and_stays_absolute(home):
    out = home / "project" / "output"
    assert printable_path("/usr/share/datasets/fashion-mnist", out) == "/usr/share/datasets/fashion-mnist"


def test_a_relative_output_folder_is_taken_from_where_the_build_runs(home, monkeypatch):
    monkeypatch.chdir(home / "..")  # the build runs in the folder above home
    out = Path("output")
    assert printable_path(out / "model", out) == "output/model"
    assert printable_path(home / "data", out) == "ada/data"  # under the output's parent first


def test_the_data_source_keeps_its_label_and_prints_its_folder(home):
    out = home / "project" / "output"
    source = f"user cache: {home}/.cache/fmnist-report/fashion-mnist"
    assert printable_source(source, out) == "user cache: ~/.cache/fmnist-report/fashion-mnist"
    assert printable_source("synthetic", out) == "synthetic"
    system = "system package dataset-fashion-mnist: /usr/share/datasets/fashion-mnist"
    assert printable_source(system, out) == system


def test_the_report_model_card_and_metrics_print_no_absolute_path_of_this_machine(
    home, tmp_path, monkeypatch
):
    cache = home / ".cache" / "fmnist-report" / "fashion-mnist"
    made = factories.synthetic_dataset

    def from_the_user_cache(**kwargs):
        return dataclasses.replace(made(**kwargs), source=f"user cache: {cache}")

    monkeypatch.setattr(factories, "synthetic_dataset", from_the_user_cache)
    results, _, ctx = factories.make_context(home / "project" / "output")
    html = render.render_html(ctx)
    card = render.render_model_card(ctx["deployment"]["card"])
    document = metrics.metrics_document(metrics.metrics_flat(ctx), protocol.protocol(results))
    from fmnist_report.serving.publish import export_metadata
    from fmnist_report.study.summary import summarize

    metadata = json.dumps(export_metadata(results, summarize(results)))  # goes into model.tar.gz
    assert '"source": "user cache: ~/.cache/fmnist-report/fashion-mnist"' in metadata
    for text in (html, card, document, metadata):
        assert str(tmp_path) not in text and str(home) not in text
    assert "The images come from user cache: ~/.cache/fmnist-report/fashion-mnist." in html
    assert "Source: user cache: ~/.cache/fmnist-report/fashion-mnist." in html
    assert "is exported to <code>output/model</code>" in html
    for command in ("predict", "serve", "deploy"):
        assert f"fmnist-report {command} --model-dir output/model " in html
