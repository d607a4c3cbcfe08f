"""The registry of parts: numbering, contents, layout, note places, figure functions and
cross-references all come from `parts.PARTS`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from fmnist_report.report import context, notes, parts, render
from fmnist_report.report.sections import kernels
from fmnist_report.study.summary import summarize

from . import factories

#: Values of the context that are not a part's.
OWN_KEYS = {"meta", "toc", "notes", "sections", "layout", "analyses", "figure_count"}

EXTRA_TEMPLATE = """{% from "macros.html" import heading %}
<section class="chapter" id="extra">
{{ heading(sections.extra) }}
<p>{{ extra.text }}</p>
</section>
"""


def context_of(out_dir: Path, *, notes_by_place: dict | None = None, **kwargs) -> dict:
    """The synthetic study's context, with the author's notes given by place."""
    results = factories.make_results(out_dir, **kwargs)
    summary = factories.built(summarize(results), results)
    return context.build_context(
        summary,
        config=results.config,
        figures=factories.FIGURES,
        pngs={f.name: factories.png(i) for i, f in enumerate(factories.FIGURES)},
        evidence=factories.EVIDENCE,
        notes=notes_by_place,
    )


@pytest.fixture
def with_templates(monkeypatch):
    """Lets the renderer find extra templates (by name) beside the package's own."""

    def install(templates: dict[str, str]) -> None:
        base = render.environment()
        env = base.overlay(loader=jinja2.ChoiceLoader([jinja2.DictLoader(templates), base.loader]))
        monkeypatch.setattr(render, "environment", lambda: env)

    return install


def insert(monkeypatch, part: parts.Part, before: str) -> None:
    """Put ``part`` into the registry before the part ``before``."""
    ids = [p.id for p in parts.PARTS]
    at = ids.index(before)
    monkeypatch.setattr(parts, "PARTS", (*parts.PARTS[:at], part, *parts.PARTS[at:]))


# -- the registry itself -----------------------------------------------------------------------------


def test_each_part_is_declared_once_with_a_template_the_package_has():
    ids = [p.id for p in parts.PARTS]
    assert ids == [
        "title",
        "summary",
        "contents",
        "data",
        "dense",
        "cnn",
        "kernels",
        "variants",
        "interpretation",
        "deployment",
        "discussion",
        "reproducibility",
        "statistics",
        "references",
    ]
    assert not OWN_KEYS & set(ids)
    env = render.environment()
    for part in parts.PARTS:
        if part.template is not None:
            assert env.get_template(part.template)
    assert [p.id for p in parts.PARTS if p.optional] == ["variants", "discussion"]


def test_sections_are_numbered_appendices_lettered_and_an_optional_part_counted_only_when_shown():
    assert parts.numbering() == {
        "data": "1",
        "dense": "2",
        "cnn": "3",
        "kernels": "4",
        "interpretation": "5",
        "deployment": "6",
        "reproducibility": "A",
        "statistics": "A",
        "references": "B",
    }
    shown = parts.numbering(["variants"])
    assert (shown["kernels"], shown["variants"], shown["interpretation"], shown["deployment"]) == (
        "4",
        "5",
        "6",
        "7",
    )
    assert parts.number_of("cnn") == "3" and parts.number_of("statistics") == "A"
    with pytest.raises(ValueError, match="'summary' has no number"):
        parts.number_of("summary")
    with pytest.raises(ValueError, match="no part 'nowhere'; its parts are title, summary, contents"):
        parts.number_of("nowhere")


def test_the_note_places_are_the_registry_s():
    expected = [
        "discussion",
        "after_data",
        "after_dense",
        "after_cnn",
        "after_kernels",
        "after_variants",
        "after_interpretation",
        "after_deployment",
        "after_reproducibility",
        "after_references",
    ]
    assert parts.places() == expected
    assert notes.places() == expected
    assert notes.DISCUSSION in parts.places()


def test_figure_functions_in_report_order_each_once_without_importing_matplotlib_to_list_them():
    names = [getattr(f, "func", f).__name__ for f in parts.figure_parts()]
    assert names == [
        "eda_figures",
        "dense_figures",
        "cnn_figures",
        "kernel_figures",
        "family_figures",
        "locality_figures",
        "filter_figures",
        "shift_figures",
        "efficiency_figures",
        "calibration_figures",
        "mistake_figures",
    ]
    assert parts.figure_parts()[4].keywords == {"family": "variants"}
    code = "import sys, fmnist_report.report.parts, fmnist_report.report.context; print('matplotlib' in sys.modules)"
    listed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert listed.stdout.strip() == "False"


# -- the context and the page are loops over it ---------------------------------------------------------


def test_contents_numbers_and_layout_follow_the_parts_shown(tmp_path):
    ctx = context_of(tmp_path, notes_by_place={"discussion": [{"html": "<p>Mine.</p>", "file": "d.md"}]})
    assert [(t["number"], t["title"]) for t in ctx["toc"]] == [
        ("1", "Data exploration"),
        ("2", "Dense baseline"),
        ("3", "Convolutional network"),
        ("4", "Kernel-size study"),
        ("5", "Interpretation"),
        ("6", "Deployment"),
        ("", "Discussion"),
        ("A", "Appendix: reproducibility"),
        ("B", "Appendix: references"),
    ]
    assert [p["template"] for p in ctx["layout"] if p["front"]] == [
        "title_page.html",
        "summary.html",
        "contents.html",
    ]
    assert [p["place"] for p in ctx["layout"] if not p["front"]] == [
        "after_data",
        "after_dense",
        "after_cnn",
        "after_kernels",
        "after_interpretation",
        "after_deployment",
        None,
        "after_reproducibility",
        "after_references",
    ]
    assert ctx["variants"] is None and "variants" not in ctx["sections"]
    assert ctx["discussion"] == [{"html": "<p>Mine.</p>", "file": "d.md"}]
    assert "discussion" not in [t["id"] for t in context_of(tmp_path / "plain")["toc"]]


def test_a_note_at_every_place_follows_its_part_in_the_page(tmp_path):
    placed = {place: [{"html": f"<p>NOTE {place} END</p>", "file": "n.md"}] for place in parts.places()}
    ctx = context_of(tmp_path, notes_by_place=placed, seeds=3, variants=factories.VARIANTS)
    page = render.render_html(ctx)
    starts = [page.index(f'id="{p["id"]}"') for p in ctx["layout"] if not p["front"]]
    for k, entry in enumerate(p for p in ctx["layout"] if not p["front"]):
        if entry["place"] is None:
            continue
        at = page.index(f"NOTE {entry['place']} END")
        assert starts[k] < at < (starts[k + 1] if k + 1 < len(starts) else len(page)), entry["id"]
    assert (
        page.index('id="deployment"') < page.index("NOTE discussion END") < page.index('id="reproducibility"')
    )


def test_a_part_added_to_the_registry_is_numbered_listed_and_laid_out(tmp_path, monkeypatch, with_templates):
    with_templates({"section_extra.html": EXTRA_TEMPLATE})
    extra = parts.Part(
        "extra", "Extra", parts.NUMBERED, "section_extra.html", lambda i: {"text": "Added once."}
    )
    insert(monkeypatch, extra, before="interpretation")
    ctx = context_of(tmp_path)
    assert ctx["sections"]["extra"] == {"number": "5", "title": "Extra"}
    assert ctx["sections"]["interpretation"]["number"] == "6"
    assert "after_extra" in notes.places()
    page = render.render_html(ctx)
    assert page.index('id="kernels"') < page.index("<p>Added once.</p>") < page.index('id="interpretation"')
    assert '<a href="#extra"><span class="secnum">5</span> Extra</a>' in page


# -- cross-references are computed -------------------------------------------------------------------


def test_the_kernel_study_cites_the_section_the_registry_gives_the_cnn(tmp_path, monkeypatch, with_templates):
    page = render.render_html(context_of(tmp_path))
    assert "The CNN of section 3 is trained again with each kernel size" in page
    assert "The 3x3 kernel used in section 3 is" in page
    with_templates({"section_extra.html": EXTRA_TEMPLATE})
    extra = parts.Part("extra", "Extra", parts.NUMBERED, "section_extra.html", lambda i: {"text": "x"})
    insert(monkeypatch, extra, before="cnn")
    ctx = context_of(tmp_path / "moved")
    assert ctx["sections"]["cnn"]["number"] == "4"
    page = render.render_html(ctx)
    assert "The CNN of section 4 is trained again with each kernel size" in page
    assert "The 3x3 kernel used in section 4 is" in page and "used in section 3" not in page


def test_the_summary_cites_the_appendix_that_holds_the_statistics(tmp_path, monkeypatch, with_templates):
    ctx = context_of(tmp_path)
    assert ctx["summary"]["scope_text"].endswith("before a difference is called significant (appendix A).")
    with_templates({"section_extra.html": EXTRA_TEMPLATE})
    extra = parts.Part(
        "extra", "Appendix: extra", parts.APPENDIX, "section_extra.html", lambda i: {"text": "x"}
    )
    insert(monkeypatch, extra, before="reproducibility")
    ctx = context_of(tmp_path / "moved")
    assert ctx["sections"]["reproducibility"]["number"] == "B"
    assert ctx["summary"]["scope_text"].endswith("(appendix B).")
    assert "another backend or device gives other numbers (Appendix B)" in render.render_html(ctx)


def test_the_reference_kernel_sentence_needs_its_section():
    rows = [
        {
            "model_id": "cnn3",
            "label": "CNN 3x3",
            "kernel_size": 3,
            "test_accuracy": factories.seed_summary(0.9),
            "flops": 1,
        },
        {
            "model_id": "cnn5",
            "label": "CNN 5x5",
            "kernel_size": 5,
            "test_accuracy": factories.seed_summary(0.8),
            "flops": 2,
        },
    ]
    assert kernels.kernel_conclusion(rows, lambda a, b: None, reference=3, section="7")[2] == (
        "The 3x3 kernel used in section 7 is the best-scoring size here."
    )
    with pytest.raises(ValueError, match="give the CNN's section number"):
        kernels.kernel_conclusion(rows, lambda a, b: None, reference=3)


def test_parts_that_read_each_other_in_a_circle_are_named(tmp_path, monkeypatch):
    a = parts.Part("a", "A", parts.NUMBERED, None, lambda i: i.value("b"))
    b = parts.Part("b", "B", parts.NUMBERED, None, lambda i: i.value("a"))
    monkeypatch.setattr(parts, "PARTS", (*parts.PARTS, a, b))
    with pytest.raises(ValueError, match="in a circle: a -> b -> a"):
        context_of(tmp_path)
