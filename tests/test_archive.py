"""The PDF a student submits: PDF/A-3a or PDF/UA-1, tagged, with its numbers and configuration inside."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
import tomllib

import pikepdf
import pytest

from fmnist_report.config import load_config
from fmnist_report.pipeline import CONFIG_TOML, METRICS_JSON
from fmnist_report.report import metrics, protocol, render
from fmnist_report.report.assemble import attachments
from fmnist_report.study.summary import summarize

from .factories import make_context, needs_pango

TITLE = 'CNNs // Fashion-MNIST: "http:" in a title'
AUTHOR = "Ada Tester"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The synthetic report, its metrics.json text, and its PDF in each variant."""
    results, summary, ctx = make_context(
        tmp_path_factory.mktemp("archive") / "out", title=TITLE, author=AUTHOR
    )
    text = summary.to_json()
    html = render.render_html(ctx)
    files = attachments(summary, results.config, text)
    pdfs = {
        v: render.render_pdf(html, variant=v, attachments=files) for v in ("pdf/a-3a", "pdf/ua-1", "none")
    }
    return results, text, pdfs


def opened(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def xmp(pdf: pikepdf.Pdf) -> dict[str, object]:
    with pdf.open_metadata() as meta:
        return {key.rsplit("}", 1)[-1]: meta[key] for key in meta}


def figures_in_structure(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every /Figure element of the structure tree."""
    found, stack = [], [pdf.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Array):
            stack.extend(node)
        elif isinstance(node, pikepdf.Dictionary):
            if node.get("/S") == "/Figure":
                found.append(node)
            if "/K" in node:
                stack.append(node.K)
    return found


@needs_pango
def test_the_default_pdf_is_tagged_pdf_a_3a_with_title_author_and_language(built):
    _, _, pdfs = built
    pdf = opened(pdfs[render.DEFAULT_PDF_VARIANT])
    assert render.DEFAULT_PDF_VARIANT == "pdf/a-3a"
    assert pdf.Root.MarkInfo.Marked is True and "/StructTreeRoot" in pdf.Root
    assert str(pdf.Root.Lang) == "en"
    meta = xmp(pdf)
    assert (meta["part"], meta["conformance"]) == ("3", "A")
    assert meta["title"] == TITLE and meta["creator"] == [AUTHOR]
    assert "/OutputIntents" in pdf.Root  # PDF/A's colour space


@needs_pango
def test_every_figure_has_alt_text_in_the_structure_tree(built):
    _, _, pdfs = built
    pdf = opened(pdfs["pdf/a-3a"])  # kept open while its objects are read
    figures = figures_in_structure(pdf)
    assert len(figures) >= 10  # the figures and the sample thumbnails
    assert all(str(f.get("/Alt", "")).strip() for f in figures)


@needs_pango
def test_metrics_and_configuration_are_attached_and_read_back(built):
    results, text, pdfs = built
    pdf = opened(pdfs["pdf/a-3a"])
    assert sorted(pdf.attachments) == sorted([METRICS_JSON, CONFIG_TOML])
    carried = pdf.attachments[METRICS_JSON]
    assert carried.get_file().read_bytes().decode() == text
    assert carried.obj.AFRelationship == "/Data" and carried.get_file().mime_type == "application/json"
    document = json.loads(text)
    assert document["schema_version"] == 2 and document["study"]["seeds"] == 2
    config = pdf.attachments[CONFIG_TOML]
    assert config.obj.AFRelationship == "/Source" and config.get_file().mime_type == "application/toml"
    carried_protocol = protocol.protocol(metrics.read(text))  # any reader computes it from metrics.json
    assert carried_protocol["seeds"] == [0, 1]
    assert config.get_file().read_bytes().decode() == protocol.config_toml(results.config, carried_protocol)
    assert tomllib.loads(config.get_file().read_bytes().decode())["report"]["title"] == TITLE
    # PDF/A-3 lists its associated files in the catalogue.
    assert len(pdf.Root.AF) == 2


@needs_pango
def test_pdf_ua_1_is_tagged_and_claims_pdf_ua(built):
    _, _, pdfs = built
    pdf = opened(pdfs["pdf/ua-1"])
    assert pdf.Root.MarkInfo.Marked is True
    meta = xmp(pdf)
    assert meta["part"] == "1" and "conformance" not in meta
    assert sorted(pdf.attachments) == sorted([METRICS_JSON, CONFIG_TOML])


@needs_pango
def test_a_plain_pdf_claims_nothing_but_still_carries_its_files(built):
    _, _, pdfs = built
    pdf = opened(pdfs["none"])
    assert "/MarkInfo" not in pdf.Root and "/Metadata" not in pdf.Root
    assert sorted(pdf.attachments) == sorted([METRICS_JSON, CONFIG_TOML])


@pytest.mark.parametrize("variant", render.PDF_VARIANTS)
@needs_pango
def test_every_variant_passes_qpdf_syntax_check_with_a_sorted_name_tree(built, variant):
    _, _, pdfs = built
    pdf = opened(pdfs[variant])
    assert pdf.check_pdf_syntax() == []
    names = pdf.Root.Names.EmbeddedFiles.Names
    keys = [str(names[i]) for i in range(0, len(names), 2)]
    assert keys == sorted(keys) == sorted([METRICS_JSON, CONFIG_TOML])


@needs_pango
def test_an_unknown_variant_is_one_line():
    with pytest.raises(render.RenderError, match=r"one of pdf/a-3a, pdf/ua-1, none, got 'pdf/x-4'"):
        render.render_pdf("<p>x</p>", variant="pdf/x-4")


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils is not installed")
@needs_pango
def test_poppler_sees_tags_conformance_and_attachments(built, tmp_path):
    _, _, pdfs = built
    path = tmp_path / "report.pdf"
    path.write_bytes(pdfs["pdf/a-3a"])
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Tagged:          yes" in info
    meta = subprocess.run(["pdfinfo", "-meta", str(path)], capture_output=True, text=True, check=True).stdout
    assert 'pdfaid:part="3"' in meta and 'pdfaid:conformance="A"' in meta
    listed = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True)
    assert "metrics.json" in listed.stdout and "configuration.toml" in listed.stdout


# -- the protocol block and the configuration file ------------------------------------------------


@needs_pango
def test_the_protocol_names_what_decides_the_numbers(built):
    results, text, _ = built
    block = protocol.protocol(metrics.read(text))
    assert set(protocol.COMPARED) <= block.keys()
    assert block["epochs"] == 2 and block["profile"] == "quick"
    assert block["data_fingerprint"] == results.data.fingerprint
    # Runs that do not name their platform were trained with TensorFlow on the CPU.
    assert (block["backend"], block["device"]) == ("tensorflow", "cpu")


@needs_pango
def test_the_protocol_reads_the_platform_a_run_names(built):
    results, _, _ = built
    for records in results.runs.values():
        for r in records:
            r.metrics["platform"] = {"backend": "jax", "device": "gpu", "device_name": "NVIDIA H100"}
    try:
        block = protocol.protocol(summarize(results))
    finally:
        for records in results.runs.values():
            for r in records:
                del r.metrics["platform"]
    assert (block["backend"], block["device"]) == ("jax", "gpu")


@needs_pango
def test_the_attached_metrics_json_is_the_summary_and_reads_back_as_it(built):
    _, text, _ = built
    assert next(iter(json.loads(text))) == "schema_version"
    assert metrics.read(text).to_json() == text


@pytest.mark.parametrize(
    "settings",
    [
        "",
        '[report]\ntitle = "Q\\"uotes\\" \\\\ back // slash, é"\ncourse = "ML"\n'
        '[study]\nprofile = "quick"\nseeds = 2\nkernel_sizes = [3, 5]\nlearning_rate = 5e-4\n',
    ],
)
def test_the_configuration_file_repeats_the_configuration(settings, tmp_path):
    given = tmp_path / "given.toml"
    given.write_text(settings)
    config = load_config(given, report={"author": 'Tab\\t and "quote" \u00e9'})
    written = tmp_path / "configuration.toml"
    written.write_text(protocol.config_toml(config))
    again = load_config(written)
    assert again.study == config.study
    assert dataclasses.asdict(again.report) == {
        **dataclasses.asdict(config.report),
        "date": config.report.display_date,  # the date the report was built, fixed
    }


@needs_pango
def test_the_configuration_records_what_auto_resolved_to_and_the_settings_file(built, tmp_path):
    results, text, pdfs = built
    with opened(pdfs["pdf/a-3a"]) as pdf:
        carried = pdf.attachments[CONFIG_TOML].get_file().read_bytes().decode()
    block = protocol.protocol(metrics.read(text))
    study = tomllib.loads(carried)["study"]
    assert results.config.study.backend == results.config.study.precision == "auto"
    assert (study["backend"], study["precision"]) == (block["backend"], block["precision"])
    assert study["backend"] == "tensorflow" and study["precision"] in ("float32", "mixed_bfloat16")
    assert f'# backend: "auto" in the settings, resolved by this build to "{block["backend"]}"' in carried
    assert "# Settings file read: none (the defaults)" in carried
    # A mixed protocol (two backends) is no one value: the setting stays as given.
    mixed = protocol.config_toml(results.config, {"backend": "jax, tensorflow", "precision": "float32"})
    assert tomllib.loads(mixed)["study"]["backend"] == "auto"
    given = tmp_path / "report.toml"
    given.write_text('[study]\nbackend = "tensorflow"\n')
    named = protocol.config_toml(load_config(given), {"backend": "tensorflow"})
    assert "# Settings file read: report.toml" in named and "resolved" not in named


def test_the_console_names_the_settings_file_and_the_backend_choice(tmp_path):
    from fmnist_report import ui

    given = tmp_path / "s.toml"
    given.write_text('[report]\nauthor = "Ada"\n')
    assert ui.settings_line(load_config(given)) == f"settings: {given}"
    bare = dataclasses.replace(load_config(given), settings_file=None)
    assert ui.settings_line(bare) == (
        "settings: no settings file found (report/report.toml of the project folder), so the defaults "
        'apply, author "Ada"; pass --config FILE to use one'
    )
    assert ui.backend_line("tensorflow", "tensorflow") == "backend: tensorflow (asked for)"
    assert (
        ui.backend_line("auto", "tensorflow")
        == "backend: tensorflow (auto: no GPU visible, so TensorFlow on the CPU)"
    )
