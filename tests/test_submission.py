"""What a submission carries beside the report: the model card, references.bib, and verify's checks."""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib

import numpy as np
import pytest

from fmnist_report.config import load_config
from fmnist_report.report import bibliography, metrics, protocol, render, verify
from fmnist_report.report.formatting import running_title

from .factories import make_context

NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?%?")


def numbers_of(markdown: str) -> list[str]:
    """Every number a Markdown text prints, code spans (platform names, file names) left out."""
    return NUMBER.findall(re.sub(r"`[^`]*`", "", markdown))


def held(token: str, values: list[float]) -> bool:
    """Whether a printed number is one of ``values`` at the precision it is printed with."""
    text = token.replace(",", "")
    scale = 100 if text.endswith("%") else 1
    text = text.rstrip("%")
    decimals = len(text.split(".")[1]) if "." in text else 0
    printed = float(text)
    return any(abs(v * scale - printed) <= 0.5 * 10**-decimals + 1e-9 for v in values)


def held_values(document: object) -> list[float]:
    """Every number of metrics.json, and the half-width of each interval it holds (``mean ± half``)."""
    values = [float(v) for _, v in metrics.numbers(document)]
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if {"ci_low", "ci_high"} <= value.keys() and None not in (value["ci_low"], value["ci_high"]):
                values.append((value["ci_high"] - value["ci_low"]) / 2)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return values


def test_every_number_of_the_model_card_is_in_metrics_json(tmp_path):
    _, summary, ctx = make_context(tmp_path)
    card = render.render_model_card(ctx["deployment"]["card"])
    values = held_values(summary.to_dict())
    printed = numbers_of(card)
    assert len(printed) > 20  # accuracy, ten classes, confusions, protocol
    assert [n for n in printed if not held(n, values)] == []
    for heading in ("Intended use", "Not to be used for", "Training data and protocol", "Calibration"):
        assert f"## {heading}" in card
    assert "Photographs of real garments" in card and "Known confusions" in card


def test_a_number_the_card_invents_would_be_caught(tmp_path):
    _, summary, _ = make_context(tmp_path)
    values = held_values(summary.to_dict())
    assert not held("12.34%", values) and held(numbers_of("Test accuracy: 50.00%")[0], [0.5])


def test_the_card_names_the_confusions_the_confusion_matrix_has(tmp_path):
    results, summary, ctx = make_context(tmp_path)
    card = ctx["deployment"]["card"]
    # The confusion matrices of the CNN's runs, summed over its seeds: the card's source.
    matrix = np.sum([r.arrays["confusion"] for r in results.runs[summary.roles.headline]], axis=0)
    off = matrix - np.diag(np.diag(matrix))
    t, p = np.unravel_index(off.argmax(), off.shape)
    first = card["confusions"][0]
    names = results.data.class_names
    assert (first["true"], first["predicted"], first["count"]) == (names[t], names[p], int(off.max()))
    assert first["share"] == pytest.approx(off.max() / matrix[t].sum())
    assert [c["count"] for c in card["confusions"]] == np.sort(off.ravel())[::-1][:3].tolist()
    assert [c["name"] for c in card["per_class"]] == list(names)


def test_references_bib_has_every_work_the_paragraph_cites():
    bib = bibliography.bibtex()
    keys = re.findall(r"^@\w+\{([^,]+),", bib, re.M)
    assert {"xiao2017fashion", "holm1979", "mcnemar1947", "dietterich1998", "colas2018seeds"} <= set(keys)
    paragraph = bibliography.how_to_cite()
    assert all(f"({k})" in paragraph for k in keys)
    assert bib.count("{") == bib.count("}")  # balanced, as BibTeX needs


def test_the_references_appendix_says_how_to_cite(tmp_path):
    _, _, ctx = make_context(tmp_path)
    page = render.render_html(ctx)
    assert "How to cite this report's methods" in page and "Holm (1979) for Holm&#39;s" in page


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Short", "Short"), ("W" * 300, "W" * 56 + "…"), ("卷积" * 40, "卷积" * 14 + "…")],
)
def test_running_title_counts_wide_characters_twice(title, expected):
    assert running_title(title) == expected


# -- verify's checks on what a PDF carries ---------------------------------------------------------


def carried(tmp_path, **change) -> verify.Carried:
    """What a faithful PDF of the synthetic report carries, with ``change`` applied: its text is
    the HTML's, laid out from the attached configuration."""
    results, summary, _ = make_context(tmp_path)
    # The synthetic analyses hold only what the sections quote, not what the figures draw.
    summary = dataclasses.replace(summary, analyses={})
    data = summary.to_json().encode()
    config = protocol.config_toml(results.config, protocol.protocol(summary)).encode()
    settings = tmp_path / "attached" / verify.CONFIG_TOML
    settings.parent.mkdir(exist_ok=True)
    settings.write_bytes(config)
    html = verify.expected_html(summary, load_config(settings), data)
    plain = " ".join(re.sub(r"<(style|head)[^>]*>.*?</\1>|<[^>]+>", " ", html, flags=re.S).split())
    plain = plain.replace("&#39;", "'").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    values = {
        "attachments": {metrics.JSON_FILE: data, verify.CONFIG_TOML: config},
        "text": plain,
        "xmp": {"pdfaid:part": "3", "pdfaid:conformance": "A", "pdfuaid:part": ""},
        "marked": True,
        "structure": True,
        "pages": plain,
        **change,
    }
    return verify.Carried(**values)


def failed(found: list[verify.Check]) -> list[tuple[str, str]]:
    return [(c.name, c.detail) for c in found if not c.ok]


def test_a_faithful_pdf_passes_every_check(tmp_path):
    found = verify.checks(carried(tmp_path))
    assert failed(found) == []
    assert [c.name for c in found] == [
        "attachments", "metrics.json", "checksum", "numbers", "conformance", "configuration",
    ]  # fmt: skip
    numbers = next(c.detail for c in found if c.name == "numbers")
    checked, total = re.match(r"checked ([\d,]+) of ([\d,]+) numbers: ", numbers).groups()
    assert checked == total and int(total.replace(",", "")) > 200


def test_a_changed_headline_number_is_named_with_its_place(tmp_path):
    good = carried(tmp_path)
    summary = metrics.read(good.attachments[metrics.JSON_FILE])
    cnn = f"{summary.models['cnn3']['test_accuracy']['mean'] * 100:.2f}%"
    table_at = good.pages.index("Headline results on the test images")
    pages = good.pages[:table_at] + good.pages[table_at:].replace(cnn, "99.99%", 1)
    ((name, detail),) = failed(verify.checks(carried(tmp_path, pages=pages)))
    assert name == "numbers"
    assert detail == (
        f"page 1, Summary, Headline results on the test images ..., CNN 3x3 accuracy: the data gives {cnn}, "
        "the PDF prints 99.99%"
    )


def test_a_swapped_metrics_attachment_is_named(tmp_path):
    good = carried(tmp_path)
    document = json.loads(good.attachments[metrics.JSON_FILE])
    document["models"]["dense"]["test_accuracy"]["mean"] += 0.01
    swapped = {**good.attachments, metrics.JSON_FILE: json.dumps(document).encode()}
    problems = failed(verify.checks(carried(tmp_path, attachments=swapped)))
    assert problems[0][0] == "checksum" and "the appendix prints" in problems[0][1]
    assert problems[1][0] == "numbers" and "the data gives" in problems[1][1]


def test_attached_names_outside_the_notes_are_never_written(tmp_path):
    attachments = {
        verify.CONFIG_TOML: b"[study]\n",
        "notes/discussion/discussion.md": b"# Notes\n",
        "notes/../../evil.md": b"x",
        "/etc/evil": b"x",
        "other.txt": b"x",
        "notes/a\\..\\..\\evil.md": b"x",
    }
    folder = tmp_path / "unpacked"
    folder.mkdir()
    assert verify.unpack(attachments, folder) == folder / verify.CONFIG_TOML
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["unpacked/configuration.toml", "unpacked/notes/discussion/discussion.md"]


def test_a_tagging_claim_without_a_structure_tree_fails(tmp_path):
    ((name, detail),) = failed(verify.checks(carried(tmp_path, structure=False)))
    assert name == "conformance" and detail == "the XMP claims PDF/A-3a, but the PDF has no structure tree"


def test_a_configuration_build_would_refuse_fails_with_its_message(tmp_path):
    good = carried(tmp_path)
    bad = {**good.attachments, verify.CONFIG_TOML: b"[study]\nseeds = 0\n"}
    # Without a configuration there is no text to lay out again, so the numbers go unchecked.
    (numbers, (name, detail)) = failed(verify.checks(carried(tmp_path, attachments=bad)))
    assert numbers == ("numbers", "no text to compare without a readable configuration.toml")
    assert name == "configuration" and "study.seeds must be an integer from 1 to 20, got 0" in detail
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads("[study\n")  # the same check reads broken TOML as a failure, not a crash
    broken = {**good.attachments, verify.CONFIG_TOML: b"[study\n"}
    assert failed(verify.checks(carried(tmp_path, attachments=broken)))[-1][0] == "configuration"
