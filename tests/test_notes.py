"""The author's notes: read from [report] notes, checked before training, placed and marked in the HTML."""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.config import Config, load_config
from fmnist_report.constraints import echo
from fmnist_report.errors import ConfigError
from fmnist_report.report import context, notes, parts, render
from fmnist_report.report.formatting import mean_ci

from .factories import EVIDENCE, FIGURES, make_context, needs_pango, png


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
    # An absolute path is fine where it lies inside the settings file's folder.
    inside = settings(tmp_path, f"{{ discussion = '{tmp_path / 'notes' / 'd.md'}' }}")
    assert dict(inside.notes) == {"discussion": tmp_path / "notes" / "d.md"}


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
    # ...and a part added to the registry is a place at once.
    extra = parts.Part("extra", "Extra", parts.NUMBERED, "section_extra.html")
    monkeypatch.setattr(parts, "PARTS", (*parts.PARTS, extra))
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
    results, summary, _ = make_context(tmp_path / "out", author="Mei Lin")
    results.config = dataclasses.replace(results.config, notes=cfg.notes, settings_file=cfg.settings_file)
    ctx = context.build_context(
        summary,
        config=results.config,
        figures=FIGURES,
        pngs={f.name: png(i) for i, f in enumerate(FIGURES)},
        evidence=EVIDENCE,
        notes=notes.build(results.config, summary),
    )
    page = render.render_html(ctx)
    expected = mean_ci(summary.models["cnn3"]["test_accuracy"])
    kernels_end = page.index("</section>", page.index('id="kernels"'))
    note_at = page.index("My CNN reached")
    assert kernels_end < note_at < page.index('id="interpretation"')
    assert f"My CNN reached {expected} with {summary.models['cnn3']['params']:,} weights." in page
    assert '<h4 dir="ltr">Why 3x3</h4>' in page  # the note's headings sit below the report's
    assert (
        page.index('id="deployment"')
        < page.index("<strong>dropout</strong>")
        < page.index('id="reproducibility"')
    )
    assert page.count('<p class="note-author">Note by Mei Lin</p>') == 2
    assert page.count('class="generated"') == len(ctx["sections"]) + 1  # and the summary
    assert "passages marked as notes by Mei Lin are the author&#39;s own words" in page


# -- a note embeds nothing from outside the project ----------------------------------------------

SECRET = "TOP-SECRET-7c1e52d9: this line must never reach the report"


def secret_file(path: Path) -> Path:
    path.write_text(SECRET, encoding="utf-8")
    return path


def assert_no_secret(*texts: str) -> None:
    """Neither the secret nor its base64 (as a data: URI would carry it) is in any of ``texts``."""
    encoded = base64.b64encode(SECRET.encode()).decode()
    for text in texts:
        assert SECRET not in text and encoded[:16] not in text


def symlink(link: Path, target: Path) -> None:
    """``link`` -> ``target``, or a skip where symlinks need a privilege (Windows)."""
    try:
        link.symlink_to(target)
    except OSError as exc:
        pytest.skip(f"cannot make a symlink here ({exc.strerror})")


def rooted(path: Path) -> str:
    """``path`` as an absolute path in a Markdown link, with forward slashes on every system."""
    return "/" + path.relative_to(path.anchor).as_posix()


def project(tmp_path: Path) -> Path:
    """A project folder inside tmp_path, so that tmp_path itself is outside it."""
    (tmp_path / "proj" / "notes").mkdir(parents=True)
    return tmp_path / "proj"


def refusal(tmp_path: Path, capfd, caplog, cfg) -> str:
    """The one-line ConfigError that stops both the check and the renderer; nothing secret printed."""
    with pytest.raises(ConfigError) as refused:
        notes.check(cfg, ["cnn3"])
    _, summary, _ = make_context(tmp_path / "out")
    with pytest.raises(ConfigError):
        notes.build(cfg, summary)
    message = str(refused.value)
    out, err = capfd.readouterr()
    assert "\n" not in message
    assert_no_secret(message, out, err, caplog.text)
    return message


@pytest.mark.parametrize(
    ("src", "setup", "expected"),
    [
        (
            "leak.png",
            lambda p: symlink(p / "notes" / "leak.png", secret_file(p.parent / "secret.txt")),
            "notes/discussion.md: image 'leak.png' is outside the note's folder notes/; put the image "
            "beside the note or in a folder under it",
        ),
        (
            "<{outside}>",
            lambda p: secret_file(p.parent / "secret.png"),
            "is an absolute path; name it relative to the note",
        ),
        (
            "../../secret.png",
            lambda p: secret_file(p.parent / "secret.png"),
            "image '../../secret.png' is outside the note's folder notes/",
        ),
        (
            "%2E%2E/%2E%2E/secret.png",
            lambda p: secret_file(p.parent / "secret.png"),
            "image '../../secret.png' is outside the note's folder notes/",
        ),
        (
            "fake.png",
            lambda p: secret_file(p / "notes" / "fake.png"),
            "image 'fake.png' is not a PNG image (its content is not PNG); save it again as a PNG file",
        ),
        (
            "photo.png",
            lambda p: (p / "notes" / "photo.png").write_bytes(b"\xff\xd8\xff\xe0" + SECRET.encode()),
            "image 'photo.png' is not a PNG image",
        ),
        (
            "huge.png",
            lambda p: (p / "notes" / "huge.png").write_bytes(png(1) + b"\0" * (11 << 20)),
            "image 'huge.png' is larger than the 10 MiB an image may be",
        ),
    ],
    ids=["symlink-out", "absolute", "dotdot", "encoded-dotdot", "text-as-png", "jpeg-as-png", "too-large"],
)
def test_an_image_from_outside_or_not_an_image_is_refused_in_one_line(
    tmp_path, capfd, caplog, src, setup, expected
):
    root = project(tmp_path)
    setup(root)
    md = "![figure](" + src.format(outside=rooted(tmp_path / "secret.png")) + ")"
    (root / "notes" / "discussion.md").write_text(md)
    cfg = settings(root, '{ discussion = "notes/discussion.md" }')
    assert expected in refusal(tmp_path, capfd, caplog, cfg)


def test_an_image_in_a_subfolder_or_named_in_unicode_is_embedded(tmp_path):
    root = project(tmp_path)
    (root / "notes" / "img").mkdir()
    (root / "notes" / "img" / "plot.gif").write_bytes(gif := _gif())
    (root / "notes" / "图 1.png").write_bytes(picture := png(3))
    (root / "notes" / "photo.jpg").write_bytes(jpeg := _image("JPEG", "RGB"))
    (root / "notes" / "discussion.md").write_text(
        "![chart](<图 1.png>) and ![plot](img/plot.gif) and ![photo](photo.jpg)", encoding="utf-8"
    )
    cfg = settings(root, '{ discussion = "notes/discussion.md" }')
    (note,) = notes.check(cfg, ["cnn3"])
    _, summary, _ = make_context(tmp_path / "out")
    html = notes.to_html(note, summary)
    assert f'src="data:image/png;base64,{base64.b64encode(picture).decode()}" alt="chart"' in html
    assert f'src="data:image/gif;base64,{base64.b64encode(gif).decode()}" alt="plot"' in html
    assert f'src="data:image/jpeg;base64,{base64.b64encode(jpeg).decode()}" alt="photo"' in html


def _image(fmt: str, mode: str) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, (4, 4)).save(buf, format=fmt)
    return buf.getvalue()


def _gif() -> bytes:
    return _image("GIF", "P")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{outside}", "is outside the settings file's folder"),
        ("../secret.md", "is outside the settings file's folder"),
        ("notes/link.md", "is outside the settings file's folder"),  # a symlink out
        ("/dev/zero", "is outside the settings file's folder"),  # refused before a byte is read
    ],
    ids=["absolute", "dotdot", "symlink-out", "dev-zero"],
)
def test_a_note_outside_the_settings_folder_is_refused_when_the_settings_are_read(
    tmp_path, monkeypatch, capfd, value, expected
):
    root = project(tmp_path)
    outside = secret_file(tmp_path / "secret.md")
    if value == "notes/link.md":
        symlink(root / "notes" / "link.md", outside)
    value = value.format(outside=outside.as_posix())
    with pytest.raises(ConfigError, match=re.escape(expected)) as refused:
        settings(root, f"{{ discussion = {value!r} }}")
    assert f"report.notes.discussion: {echo(value)}" in str(refused.value)
    # The CLI says the same in one line, exit 1, before any study starts.
    from fmnist_report import pipeline

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pipeline, "study", lambda *a, **k: pytest.fail("the study started"))
    result = CliRunner().invoke(app, ["build", "--config", str(root / "report.toml"), "--out", "out"])
    assert result.exit_code == 1, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0]
    assert "Traceback" not in result.output
    assert_no_secret(str(refused.value), result.output, *capfd.readouterr())


def test_a_note_that_is_no_regular_file_is_refused_without_reading_it(tmp_path):
    root = project(tmp_path)
    # A Config made in code skips the settings' check; reading the notes checks again.
    cfg = Config(settings_file=root / "report.toml", notes=(("discussion", Path("/dev/zero")),))
    with pytest.raises(ConfigError, match=re.escape(f"{Path('/dev/zero')} is outside the settings file's")):
        notes.read(cfg)
    (root / "notes" / "folder.md").mkdir()
    kinds = ["folder.md"]
    if hasattr(os, "mkfifo"):  # a FIFO would block a plain read for ever
        os.mkfifo(root / "notes" / "pipe.md")
        kinds.append("pipe.md")
    for name in kinds:
        cfg = settings(root, f'{{ discussion = "notes/{name}" }}')
        with pytest.raises(ConfigError, match=f"notes/{name} is not a regular file"):
            notes.read(cfg)


def test_a_note_larger_than_the_limit_is_refused(tmp_path):
    root = project(tmp_path)
    (root / "notes" / "discussion.md").write_text("All work and no play. " * 50_000)  # 1.1 MB
    cfg = settings(root, '{ discussion = "notes/discussion.md" }')
    with pytest.raises(ConfigError, match=r"notes/discussion.md is larger than the 256 KiB a note may be"):
        notes.check(cfg, ["cnn3"])


@needs_pango
def test_an_image_weasyprint_cannot_decode_is_one_line_without_its_content(capfd, caplog):
    """WeasyPrint logs an undecodable image, data: URI and all, and carries on; the build stops instead."""
    uri = "data:image/png;base64," + base64.b64encode(SECRET.encode()).decode()
    html = f'<p>x</p><img src="{uri}" alt="my chart">'
    with pytest.raises(render.RenderError, match="the image 'my chart' cannot be decoded") as refused:
        render.render_pdf(html, variant="none")
    assert "\n" not in str(refused.value)
    assert_no_secret(str(refused.value), *capfd.readouterr(), caplog.text)


def test_paths_written_on_windows_name_the_same_files_on_linux(tmp_path):
    """A student writes notes\\discussion.md and img\\plot.png on Windows; CI builds on Linux."""
    (tmp_path / "notes" / "img").mkdir(parents=True)
    (tmp_path / "notes" / "img" / "plot.png").write_bytes(png(2))
    (tmp_path / "notes" / "discussion.md").write_text("![my plot](img\\plot.png)\n", encoding="utf-8")
    cfg = settings(tmp_path, "{ discussion = 'notes\\discussion.md' }")
    assert dict(cfg.notes) == {"discussion": tmp_path / "notes" / "discussion.md"}
    _, summary, _ = make_context(tmp_path / "out")
    (note,) = notes.read(cfg)
    assert re.search(
        r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="my plot"', notes.to_html(note, summary)
    )
    with pytest.raises(ConfigError, match="is outside the settings file's folder"):
        settings(tmp_path, "{ discussion = '..\\outside.md' }")


def test_an_attached_note_image_is_typed_by_its_suffix_as_the_note_checks_it():
    from fmnist_report.report import note_files

    assert [note_files.media_type(n) for n in ("a.png", "notes/x/b.JPG", "c.jpeg", "d.gif")] == [
        "image/png",
        "image/jpeg",
        "image/jpeg",
        "image/gif",
    ]
