"""The author's notes: read from [report] notes, checked before training, placed and marked in the HTML."""

from __future__ import annotations

import dataclasses
import re

import pytest

from fmnist_report.config import load_config
from fmnist_report.errors import ConfigError
from fmnist_report.report import content, notes, render
from fmnist_report.report.formatting import mean_ci

from .factories import make_context, png


def settings(tmp_path, table: str) -> object:
    (tmp_path / "report.toml").write_text(f"[report]\nauthor = 'Mei Lin'\nnotes = {table}\n")
    return load_config(tmp_path / "report.toml")


def with_notes(tmp_path, **files: str) -> object:
    """A configuration whose notes are ``files`` (place -> Markdown), written under notes/."""
    (tmp_path / "notes").mkdir(exist_ok=True)
    for place, text in files.items():
        (tmp_path / "notes" / f"{place}.md").write_text(text)
    table = ", ".join(f'{place} = "notes/{place}.md"' for place in files)
    return settings(tmp_path, "{ " + table + " }")


def test_paths_are_relative_to_the_settings_file(tmp_path):
    cfg = settings(tmp_path, '{ discussion = "notes/d.md", after_kernels = "k.md" }')
    assert dict(cfg.notes) == {"discussion": tmp_path / "notes" / "d.md", "after_kernels": tmp_path / "k.md"}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('{ before_data = "a.md" }', "names no place; use discussion or after_<section id>"),
        ("{ discussion = 3 }", "report.notes.discussion must be the path of a Markdown file, got 3"),
        ('"notes.md"', "report.notes must be a table"),
    ],
)
def test_a_malformed_notes_table_is_one_line(tmp_path, table, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings(tmp_path, table)


def test_places_follow_the_sections_table_and_an_unknown_one_lists_them(tmp_path, monkeypatch):
    cfg = with_notes(tmp_path, after_extra="text")
    with pytest.raises(ConfigError, match=r"after_extra names no place.*after_data, after_dense"):
        notes.check(cfg, ["cnn3"])
    # The variants section is a place even before a variant is declared...
    assert [n.place for n in notes.check(with_notes(tmp_path, after_variants="x"), ["cnn3"])] == [
        "after_variants"
    ]
    # ...and a part added to the table is a place at once.
    monkeypatch.setattr(content, "PARTS", (*content.PARTS, ("extra", "Extra")))
    assert [n.place for n in notes.check(cfg, ["cnn3"])] == ["after_extra"]


def test_a_placeholder_naming_no_number_lists_the_valid_names(tmp_path):
    cfg = with_notes(tmp_path, discussion="The CNN reached {{ cnn9.test_accuracy }}.")
    with pytest.raises(ConfigError) as refused:
        notes.check(cfg, ["dense", "cnn3"])
    message = str(refused.value)
    assert "\n" not in message and "{{ cnn9.test_accuracy }} names no number" in message
    assert "dense.test_accuracy" in message and "cnn3.params" in message
    with pytest.raises(ConfigError, match="cnn3.accuracy"):
        notes.check(with_notes(tmp_path, discussion="{{ cnn3.accuracy }}"), ["cnn3"])


@pytest.mark.parametrize(
    ("model", "metric"),
    [
        ("cnn3[dropout=0.3]", "test_accuracy"),
        ("cnn3[dropout=0.3,width=2-x_y]", "test_loss.ci_low"),
        ("cnn5-permuted", "params"),
    ],
)
def test_variant_ids_with_a_bracketed_part_are_placeholders(tmp_path, model, metric):
    name = f"{model}.{metric}"
    cfg = with_notes(tmp_path, discussion=f"{{{{ {name} }}}}")
    assert notes.check(cfg, [model])
    with pytest.raises(ConfigError, match="names no number"):
        notes.check(cfg, ["dense"])


def test_a_remote_image_is_refused_and_a_local_one_embedded(tmp_path):
    remote = with_notes(tmp_path, discussion="![tracker](https://example.org/pixel.png)")
    with pytest.raises(ConfigError, match=r"'https://example.org/pixel.png' is not a local file"):
        notes.check(remote, ["cnn3"])
    (tmp_path / "notes" / "plot.png").write_bytes(png(1))
    local = with_notes(tmp_path, discussion="![my plot](plot.png)")
    _, summary, _ = make_context(tmp_path / "out")
    (note,) = notes.read(local)
    html = notes.to_html(note, summary)
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="my plot"', html)


def test_raw_html_is_printed_as_text_and_a_script_link_dropped(tmp_path):
    cfg = with_notes(tmp_path, discussion="<script>alert(1)</script> and [x](javascript:alert(1))")
    _, summary, _ = make_context(tmp_path / "out")
    (note,) = notes.read(cfg)
    html = notes.to_html(note, summary)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html.replace("[x](javascript:alert(1))", "")  # left as text, no link
    assert "<a " not in html


def test_notes_appear_at_their_places_with_the_summary_number_and_the_author(tmp_path):
    cfg = with_notes(
        tmp_path,
        after_kernels="## Why 3x3\n\nMy CNN reached {{ cnn3.test_accuracy }} with {{ cnn3.params }} weights.",
        discussion="I would try **dropout** next.",
    )
    results, summary, _ = make_context(tmp_path / "out")
    results.config = dataclasses.replace(results.config, notes=cfg.notes)
    built = notes.build(results.config, summary)
    _, _, ctx = make_context(tmp_path / "out", author="Mei Lin")
    ctx = {**ctx, "notes": built, "meta": {**ctx["meta"], "attribution": notes.attribution(built, "Mei Lin")}}
    page = render.render_html(ctx)
    expected = mean_ci(summary.models["cnn3"]["test_accuracy"])
    kernels_end = page.index("</section>", page.index('id="kernels"'))
    note_at = page.index("My CNN reached")
    assert kernels_end < note_at < page.index('id="interpretation"')
    assert f"My CNN reached {expected} with {summary.models['cnn3']['params']:,} weights." in page
    assert "<h4>Why 3x3</h4>" in page  # the note's headings sit below the report's
    assert (
        page.index('id="deployment"')
        < page.index("<strong>dropout</strong>")
        < page.index('id="reproducibility"')
    )
    assert page.count('<p class="note-author">Note by Mei Lin</p>') == 2
    assert page.count('class="generated"') == len(content.SECTIONS) + 1  # and the summary
    assert "passages marked as notes by Mei Lin are the author&#39;s own words" in page


def test_every_section_of_the_table_has_a_place_in_the_page():
    base = render.environment().loader.get_source(render.environment(), "base.html")[0]
    for section_id, _, _ in content.SECTIONS:
        assert f'place = "after_{section_id}"' in base
