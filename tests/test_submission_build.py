"""A submission end to end: a quick build with the author's notes, a CJK title, verify and the model card.

One small quick-profile study of the real data is built once for the module; the tests read
its outputs, or copies of its PDF edited the way a careless or dishonest sender might.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pikepdf
import pytest
from typer.testing import CliRunner

from fmnist_report.cli import app
from fmnist_report.report.formatting import mean_ci

from .factories import REAL_DIR, needs_real_data
from .test_submission import held, held_values, numbers_of

pytestmark = [
    needs_real_data,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed"),
]

TITLE = "卷积神经网络 on Fashion-MNIST 👕"
AUTHOR = "山田 花子"
CONFIG = f"""\
[report]
title = "{TITLE}"
author = "{AUTHOR}"
notes = {{ discussion = "notes/discussion.md", after_kernels = "notes/kernels.md" }}
[study]
profile = "quick"
seeds = 1
train_per_class = 60
test_per_class = 30
"""
KERNELS_NOTE = "## What I make of it\n\nMy CNN reached {{ cnn3.test_accuracy }} on the test images.\n"
DISCUSSION_NOTE = "I would try *dropout* next. <script>alert('x')</script>\n"


def cli(*args: str) -> SimpleNamespace:
    result = CliRunner().invoke(app, list(args))
    return SimpleNamespace(
        code=result.exit_code, stdout=result.stdout, stderr=result.stderr, exc=result.exception
    )


def write_project(root: Path, kernels_note: str = KERNELS_NOTE) -> Path:
    (root / "notes").mkdir(parents=True, exist_ok=True)
    (root / "notes" / "kernels.md").write_text(kernels_note)
    (root / "notes" / "discussion.md").write_text(DISCUSSION_NOTE)
    (root / "report.toml").write_text(CONFIG)
    return root / "report.toml"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("submission")
    settings = write_project(root)
    run = cli(
        "build",
        "--config",
        str(settings),
        "--out",
        str(root / "output"),
        "--data-dir",
        str(REAL_DIR),
        "--offline",
        "--quiet",
    )
    assert run.code == 0, f"{run.stderr}\n{run.exc!r}"
    out = root / "output"
    text = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    return SimpleNamespace(root=root, out=out, pdf=out / "report.pdf", text=" ".join(text.split()))


def test_notes_sit_at_their_places_with_the_summary_number(built):
    page = (built.out / "report.html").read_text()
    document = json.loads((built.out / "metrics.json").read_text(encoding="utf-8"))
    stats = document["models"]["cnn3"]["test_accuracy"]
    accuracy = mean_ci({**stats, "has_ci": stats["n"] > 1})
    sentence = f"My CNN reached {accuracy} on the test images."
    assert page.index('id="kernels"') < page.index(sentence) < page.index('id="interpretation"')
    assert page.index('id="deployment"') < page.index("<em>dropout</em>") < page.index('id="reproducibility"')
    # In the PDF: the same places, the author's name on each note, a label on each generated section.
    text = built.text
    at = text.index(sentence)  # after section 4's heading, before section 5's (not the contents')
    assert text.rfind("5 Interpretation", 0, at) < text.rfind("4 Kernel-size study", 0, at)
    assert text.find("5 Interpretation", at) > at
    assert text.count(f"NOTE BY {AUTHOR}") == 2
    assert text.count("GENERATED FROM THE MEASUREMENTS") >= 8
    assert f"the passages marked as notes by {AUTHOR} are the author's own words" in text


def test_a_script_in_a_note_is_printed_as_text_never_run(built):
    page = (built.out / "report.html").read_text()
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in page
    assert "<script" not in page


def test_the_pdf_embeds_noto_cjk_for_the_title_and_the_author(built):
    if "Noto Sans CJK" not in subprocess.run(["fc-list"], capture_output=True, text=True).stdout:
        pytest.skip("fonts-noto-cjk is not installed")
    fonts = subprocess.run(["pdffonts", str(built.pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Noto-Sans-CJK-\w+\s.*\byes\s+yes", fonts)  # embedded, subset
    assert TITLE in built.text and AUTHOR in built.text


def test_verify_passes_on_the_fresh_build(built):
    run = cli("verify", str(built.pdf))
    assert run.code == 0, run.stdout
    found = re.fullmatch(
        r"verified: report\.pdf: checked ([\d,]+) of ([\d,]+) numbers, each as its attached data gives it; "
        r"its claims hold \(6 checks\)",
        run.stdout.splitlines()[0],
    )
    assert found is not None and found.group(1) == found.group(2)
    assert int(found.group(1).replace(",", "")) > 200


def replace_text(src: Path, dst: Path, old: str, new: str, after: str = "") -> None:
    """Change ``old`` to ``new`` (as long) in the first text run that shows it, by glyph ids;
    with ``after``, the first that shows it after those words (spaces aside) have been shown."""
    anchor, shown = "".join(after.split()), ""
    with pikepdf.open(src) as pdf:
        for page in pdf.pages:
            fonts = {str(k): to_unicode(f) for k, f in page.Resources.Font.items() if "/ToUnicode" in f}
            data, font = page.Contents.read_bytes(), None
            for m in re.finditer(rb"(/\w+) [\d.]+ Tf|\[((?:<[0-9a-fA-F]*>-?[\d.]*)+)\] ?TJ", data):
                if m.group(1):
                    font = m.group(1).decode()
                    continue
                glyphs = fonts.get(font, {})
                parts = re.findall(rb"<([0-9a-fA-F]*)>(-?[\d.]*)", m.group(2))
                gids = [g.decode().lower() for g, _ in parts]
                # Each character shown, with the index of the glyph that shows it (an empty
                # string, which WeasyPrint writes beside a kerning, shows none).
                chars = [(glyphs.get(g, "\0"), i) for i, g in enumerate(gids) if g]
                run = "".join(c for c, _ in chars)
                armed, before = anchor in shown, len(shown)
                shown += "".join(run.split())
                start = 0
                if not armed:
                    if anchor not in shown:
                        continue
                    # The words end in this run: the number must come after them.
                    rest = shown.index(anchor) + len(anchor) - before
                    start = next(
                        (i for i in range(len(run)) if len("".join(run[:i].split())) >= rest), len(run)
                    )
                at = run.find(old, start)
                if at < 0:
                    continue
                inverse = {c: g for g, c in glyphs.items()}
                for (_, i), c in zip(chars[at : at + len(new)], new, strict=True):
                    gids[i] = inverse[c]
                body = b"".join(
                    b"<" + g.encode() + b">" + adjust for g, (_, adjust) in zip(gids, parts, strict=True)
                )
                page.Contents.write(data[: m.start(2)] + body + data[m.end(2) :])
                pdf.save(dst)
                return
    raise AssertionError(f"{old!r} is in no text run of {src}" + (f" after {after!r}" if after else ""))


def to_unicode(font: pikepdf.Object) -> dict[str, str]:
    data = font.ToUnicode.read_bytes().decode("latin-1")
    pairs = re.findall(
        r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", "".join(re.findall(r"beginbfchar(.*?)endbfchar", data, re.S))
    )
    return {g.lower(): bytes.fromhex(u).decode("utf-16-be", "replace") for g, u in pairs}


def forge(number: str) -> str:
    """Another number of the same length: each digit moved on by 3 (so 0.0019 becomes 0.0342)."""
    return "".join(str((int(c) + 3) % 10) if c.isdigit() else c for c in number)


#: One edit in each kind of place the report prints numbers: the words after which the number
#: stands, the pattern of the number, and the words of the place verify must name.
EDITS = {
    "headline table": ("Dense accuracy", r"\d+\.\d\d%", "Summary, Headline results on the test images"),
    "sentence": ("weakest classes are", r"\d+\.\d\d%", "section 2, Dense baseline"),
    "table outside the headline": (
        "Dense: test accuracy per class",
        r"\d+\.\d\d%",
        "section 2, Dense baseline, Accuracy per class",
    ),
    "p-value": ("McNemar's exact test per seed", r"0\.\d{2,}", "section 3, Convolutional network"),
    "claim": ("under the permutation (", r"\d+\.\d%", "section 5, Interpretation, Locality"),
    "note placeholder": ("My CNN reached", r"\d+\.\d\d%", "What I make of it"),
}


@pytest.mark.parametrize("kind", list(EDITS))
def test_verify_fails_naming_an_edited_number_in_each_kind_of_place(built, tmp_path, kind):
    after, pattern, place = EDITS[kind]
    at = built.text.find(after, built.text.find("Contents") + 1 if kind != "headline table" else 0)
    found = re.compile(pattern).search(built.text, at + len(after)) if at >= 0 else None
    assert found is not None, f"the quick build prints no {kind}: {pattern} after {after!r}"
    number = found.group(0)
    edited = tmp_path / "edited.pdf"
    replace_text(built.pdf, edited, number, forge(number), after=after)
    run = cli("verify", str(edited))
    assert run.code == 1, run.stdout
    verdict = run.stdout.splitlines()[0]
    assert verdict.startswith("NOT verified: edited.pdf: numbers: page ")
    assert place in verdict and verdict.endswith(f"the data gives {number}, the PDF prints {forge(number)}")


def test_verify_fails_on_a_pdf_whose_metrics_attachment_was_replaced(built, tmp_path):
    document = json.loads((built.out / "metrics.json").read_text(encoding="utf-8"))
    document["models"]["cnn3"]["test_accuracy"]["mean"] = 0.5
    swapped = tmp_path / "swapped.pdf"
    with pikepdf.open(built.pdf) as pdf:
        pdf.attachments["metrics.json"] = pikepdf.AttachedFileSpec(
            pdf, json.dumps(document).encode(), mime_type="application/json"
        )
        pdf.save(swapped)
    run = cli("verify", str(swapped))
    assert run.code == 1
    verdict = run.stdout.splitlines()[0]
    assert verdict.startswith("NOT verified: swapped.pdf: checksum: the attached metrics.json has SHA-256 ")
    assert "the data gives 50.00%" in run.stdout  # the swapped numbers are not the printed ones


def test_the_model_card_sits_beside_the_export_and_quotes_only_metrics_json(built):
    card = (built.out / "model" / "model_card.md").read_text()
    values = held_values(json.loads((built.out / "metrics.json").read_text(encoding="utf-8")))
    assert [n for n in numbers_of(card) if not held(n, values)] == []
    assert "## Known confusions" in card and "Model card" in (built.out / "report.html").read_text()


def test_references_bib_is_written_beside_the_report(built):
    bib = (built.out / "references.bib").read_text()
    assert "@article{holm1979," in bib and "@misc{xiao2017fashion," in bib
    assert "How to cite this report's methods" in built.text


def test_a_placeholder_naming_no_number_stops_the_build_before_training(tmp_path):
    settings = write_project(tmp_path, kernels_note="{{ cnn9.test_accuracy }}")
    run = cli(
        "build",
        "--config",
        str(settings),
        "--out",
        str(tmp_path / "output"),
        "--data-dir",
        str(REAL_DIR),
        "--offline",
        "--quiet",
    )
    assert run.code == 1
    (line,) = run.stderr.strip().splitlines()
    assert "{{ cnn9.test_accuracy }} names no number of this study" in line and "cnn3.test_accuracy" in line
    assert not list((tmp_path / "output").glob("cache/train*/*"))  # nothing trained
