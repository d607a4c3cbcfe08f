"""The report names folders relative to where the build runs, or with ``~``: never this machine's home."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from fmnist_report.paths import printable_path, printable_source
from fmnist_report.report import render

from . import factories


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fake home folder under the test's tmp folder, with HOME pointing at it."""
    folder = tmp_path / "home" / "ada"
    folder.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: folder))
    return folder


def test_a_path_under_the_working_folder_is_relative_to_it(home, monkeypatch):
    monkeypatch.chdir(home / "..")
    (home / "project").mkdir()
    monkeypatch.chdir(home / "project")  # where the build runs
    out = home / "project" / "output"
    assert printable_path(out / "model") == "output/model"
    assert printable_path(home / "project" / "runs" / "a" / "model") == "runs/a/model"  # --out runs/a
    assert printable_path(Path("output") / "model") == "output/model"  # a relative --out
    assert printable_path(home / "project") == "."


def test_a_path_elsewhere_under_home_starts_with_a_tilde(home, monkeypatch):
    monkeypatch.chdir(home)
    (home / "project").mkdir()
    monkeypatch.chdir(home / "project")
    assert printable_path(home / ".cache" / "fmnist-report" / "fashion-mnist") == (
        "~/.cache/fmnist-report/fashion-mnist"
    )
    assert printable_path(home) == "~"


def test_a_system_folder_names_no_one_and_stays_absolute(home, monkeypatch):
    monkeypatch.chdir(home)
    assert printable_path("/usr/share/datasets/fashion-mnist") == "/usr/share/datasets/fashion-mnist"


def test_the_data_source_keeps_its_label_and_prints_its_folder(home, monkeypatch):
    monkeypatch.chdir(home)
    source = f"user cache: {home}/.cache/fmnist-report/fashion-mnist"
    assert printable_source(source) == "user cache: .cache/fmnist-report/fashion-mnist"
    (home / "project").mkdir()
    monkeypatch.chdir(home / "project")
    assert printable_source(source) == "user cache: ~/.cache/fmnist-report/fashion-mnist"
    assert printable_source("synthetic") == "synthetic"
    system = "system package dataset-fashion-mnist: /usr/share/datasets/fashion-mnist"
    assert printable_source(system) == system


def test_the_report_model_card_and_metrics_print_no_absolute_path_of_this_machine(
    home, tmp_path, monkeypatch
):
    cache = home / ".cache" / "fmnist-report" / "fashion-mnist"
    made = factories.synthetic_dataset

    def from_the_user_cache(**kwargs):
        return dataclasses.replace(made(**kwargs), source=f"user cache: {cache}")

    monkeypatch.setattr(factories, "synthetic_dataset", from_the_user_cache)
    (home / "project").mkdir()
    monkeypatch.chdir(home / "project")  # the build runs in the project folder
    results, summary, ctx = factories.make_context(home / "project" / "output")
    html = render.render_html(ctx)
    card = render.render_model_card(ctx["deployment"]["card"])
    document = summary.to_json()  # metrics.json
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
